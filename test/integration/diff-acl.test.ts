// ACL users against a real redis-server 7.0.15: rules and their ACL LIST / GETUSER shapes, the
// NOPERM errors of commands, subcommands, keys (read/write) and channels, AUTH and HELLO with
// named users, MULTI with a refused command, ACL LOG entries, DRYRUN, CAT, GENPASS, DELUSER,
// SAVE and LOAD with an aclfile; then ioredis and node-redis connecting as a named user.
//
// Redis prints the single commands of a rule list in the order of its command dictionary (a
// seeded hash): rule lists and ACL CAT lists are compared as sorted words.
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { useDiffPair, sameOnBoth, text, show, type Arg } from './helpers/diff.js'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startRedis, DEFAULT_REDIS_ARGS } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

const pair = useDiffPair({ shards: 4 })

/** Bulk strings' words sorted (rule lists, CAT lists); CLIENT LIST lines and ages dropped. */
function normalize (t: string): string {
  return t
    .replace(/\$\d+\r\n(id=[^\r]*)\r\n/g, '<client-info>\r\n')
    .replace(/(\$11\r\nage-seconds\r\n)(\$\d+\r\n[^\r]*|,[^\r]*)\r\n/g, '$1<age>\r\n')
    .replace(/\$\d+\r\n([^\r]*)\r\n/g, (_m, s: string) => `<${s.split(' ').sort().join(' ')}>\r\n`)
}

/** Runs cmds on a new connection to each server and expects the same (normalized) replies. */
async function fresh (cmds: Arg[][], norm: (t: string) => string = normalize): Promise<void> {
  const [f, r] = await Promise.all([RawClient.connect(pair.flash.port, pair.flash.host), RawClient.connect(pair.redis.port, pair.redis.host)])
  try {
    for (const c of cmds) {
      const [a, b] = await Promise.all([f.command(...c), r.command(...c)])
      expect(norm(text(a)), `reply to ${show(c)}`).toBe(norm(text(b)))
    }
  } finally {
    f.close()
    r.close()
  }
}

/** The strings of a flat array of bulk strings. */
function parseBulks (t: string): string[] {
  const lines = t.split('\r\n')
  const out: string[] = []
  for (let i = 2; i < lines.length; i += 2) out.push(lines[i])
  return out.filter((_s, i) => i < Number(lines[0].slice(1)))
}

afterEach(async () => {
  // Each server on its own: a test may have made users on one side only.
  for (const s of [pair.flash, pair.redis]) {
    const c = await RawClient.connect(s.port, s.host)
    try {
      for (const cmd of [['ACL', 'DELUSER', 'alice', 'bob', 'carol', 't'], ['ACL', 'SETUSER', 'default', 'reset', 'on', 'nopass', '~*', '&*', '+@all'], ['ACL', 'LOG', 'RESET']]) await c.command(...cmd)
    } finally { c.close() }
  }
})

describe('ACL SETUSER, LIST, GETUSER, USERS', () => {
  it('a new user, then every kind of rule, described as Redis describes them', async () => {
    const h = 'f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a'
    await fresh([
      ['ACL', 'LIST'], ['ACL', 'USERS'], ['ACL', 'SETUSER', 'alice'], ['ACL', 'LIST'], ['ACL', 'GETUSER', 'alice'], ['ACL', 'GETUSER', 'nobody'],
      ['ACL', 'SETUSER', 'bob', 'on', '>p1', `#${h}`, '~a*', '%R~b*', '%W~c*', '%RW~d*', '&x*', '+get', '+config|get', '+@hash', '-hget'],
      ['ACL', 'LIST'], ['ACL', 'GETUSER', 'bob'], ['ACL', 'USERS'],
      ['ACL', 'SETUSER', 'bob', '<p1', 'resetkeys', 'allkeys', 'resetchannels', '&y', '+@all', '-config|set', '-flushall'], ['ACL', 'GETUSER', 'bob'],
      ['ACL', 'SETUSER', 'bob', 'nopass', 'off', 'skip-sanitize-payload', 'nocommands', '+select|0'], ['ACL', 'GETUSER', 'bob'], ['ACL', 'LIST'],
      ['ACL', 'SETUSER', 'bob', 'reset'], ['ACL', 'GETUSER', 'bob'],
      ['ACL', 'SETUSER', 'carol', '+@read', '+@write', '-@read', '-@all', '+@string', 'allcommands', '-@dangerous'], ['ACL', 'GETUSER', 'carol'],
      ['ACL', 'SETUSER', 'carol', 'reset', '+@read', '-get', '+get', '+config', '-config|get'], ['ACL', 'GETUSER', 'carol'],
      ['ACL', 'SETUSER', 'carol', '%R~k', '%W~k', '&*', 'allchannels'], ['ACL', 'GETUSER', 'carol'],
    ])
  })

  it('command rules are described by the 7.0 best fit of categories, then single commands', async () => {
    const cases = [
      '+@all -@dangerous +info +client|id', '+@read -get +get', '+@hash -hget', '+@read +@write -@read', '+client|list +client|kill -@all +get',
      '+@all -@keyspace +del', '+@geo +@stream -xadd', '+@all -@write -@admin', '+@all -config|set -config|get',
    ]
    // Single-command rules for commands FlashKV lacks (MIGRATE, RESTORE-ASKING) are left out of Redis's side.
    const ours = new Set(parseBulks(text(await pair.f.command('COMMAND', 'LIST'))))
    const known = (t: string): string => normalize(t).replace(/[<\s][+-]([a-z_|-]+)(?=[\s>])/g, (m, name: string) => ours.has(name) ? m : '')
    for (const rules of cases) await fresh([['ACL', 'SETUSER', 't', 'reset', ...rules.split(' ')], ['ACL', 'GETUSER', 't'], ['ACL', 'LIST']], known)
  })

  it('DRYRUN of every command both servers have agrees, whatever the rules', async () => {
    const both = new Set(parseBulks(text(await pair.r.command('COMMAND', 'LIST'))))
    const names = parseBulks(text(await pair.f.command('COMMAND', 'LIST'))).filter(n => both.has(n))
    expect(names.length).toBeGreaterThan(200)
    const cases = ['-@all +@slow -config', '+config +@pubsub -@fast', '+@all -@dangerous +info +client|id', '+@read -@keyspace +@hash -hget', '+@all -@write +set']
    // Then the key and channel checks of every command: k1 read-write, k2 read, k3 write, k4 none.
    const keyed = ['+@all ~k1 %R~k2 %W~k3 &k1 &k2*']
    for (const rules of [...cases.map(r => `~* &* ${r}`), ...keyed]) {
      await fresh([['ACL', 'SETUSER', 't', 'reset', ...rules.split(' ')]])
      // Zero to four key-shaped arguments: one of them fits each command's arity, and the
      // others get the same arity error from both.
      const args = ['k1', 'k2', 'k3', 'k4']
      await pair.pipeline(names.flatMap(n => [0, 1, 2, 3, 4].map(k => ['ACL', 'DRYRUN', 't', ...n.split('|'), ...args.slice(0, k)])))
    }
  })

  it('RESP3: GETUSER is a map with a set of flags, ACL LOG maps with a double age', async () => {
    await sameOnBoth(pair, async (a) => {
      await a.command('HELLO', '3')
      return [
        text(await a.command('ACL', 'SETUSER', 't', 'reset', 'on', '>x', '~a', '(~b +get)')),
        text(await a.command('ACL', 'GETUSER', 't')),
        text(await a.command('AUTH', 't', 'bad')),
        normalize(text(await a.command('ACL', 'LOG', '1'))),
      ]
    })
  })

  it('a bad rule is refused with its reason and changes nothing', async () => {
    await fresh([
      ['ACL', 'SETUSER', 't', 'on', '~a'],
      ['ACL', 'SETUSER', 't', 'bad'], ['ACL', 'SETUSER', 't', '+nocmd'], ['ACL', 'SETUSER', 't', '+@nocat'], ['ACL', 'SETUSER', 't', '-@nocat'],
      ['ACL', 'SETUSER', 't', '+config|get|x'], ['ACL', 'SETUSER', 't', '-config|'], ['ACL', 'SETUSER', 't', '+config|nosuch'],
      ['ACL', 'SETUSER', 't', '%X~a'], ['ACL', 'SETUSER', 't', '%~a'], ['ACL', 'SETUSER', 't', '%R'], ['ACL', 'SETUSER', 't', '<nopw'],
      ['ACL', 'SETUSER', 't', '#abc'], ['ACL', 'SETUSER', 't', '!abc'], ['ACL', 'SETUSER', 't', `#${'A'.repeat(64)}`],
      ['ACL', 'SETUSER', 't', 'allkeys', '~b'], ['ACL', 'SETUSER', 't', '&*', '&x'], ['ACL', 'SETUSER', 't', '+get', 'nope', '+set'],
      // With allkeys set, any key rule is refused for that first, even one that is bad itself.
      ['ACL', 'SETUSER', 't', '%X~k'], ['ACL', 'SETUSER', 't', '%'], ['ACL', 'SETUSER', 't', '%RR~k'], ['ACL', 'SETUSER', 't', '%R~k'],
      ['ACL', 'SETUSER', 't', 'resetkeys', '%RR~k'], ['ACL', 'SETUSER', 't', 'resetkeys', '%RWR~k'], ['ACL', 'SETUSER', 't', 'resetkeys', '%WW'],
      ['ACL', 'SETUSER', 't', 'resetkeys', '%R~', '%rw~*', '~b'],
      ['ACL', 'GETUSER', 't'], ['ACL', 'SETUSER', 'bad name'], ['ACL', 'SETUSER'], ['ACL', 'GETUSER'],
    ])
  })

  it('DELUSER counts what it deleted and keeps the default user', async () => {
    await fresh([
      ['ACL', 'SETUSER', 'alice'], ['ACL', 'SETUSER', 'bob'], ['ACL', 'DELUSER', 'alice', 'nobody', 'alice'], ['ACL', 'DELUSER', 'default'],
      ['ACL', 'DELUSER', 'bob', 'default'], ['ACL', 'USERS'], ['ACL', 'DELUSER', 'bob'], ['ACL', 'USERS'],
    ])
  })

  it('CLIENT KILL USER closes the clients of that user', async () => {
    await fresh([['ACL', 'SETUSER', 't', 'on', 'nopass', '+@all', '~*']])
    await sameOnBoth(pair, async (a, b) => [
      text(await a.command('AUTH', 't', 'x')),
      text(await b.command('CLIENT', 'KILL', 'USER', 'nobody')),
      text(await b.command('CLIENT', 'KILL', 'USER', 'T')),
      text(await b.command('CLIENT', 'KILL', 'USER', 't')),
      String((await a.readUntilClose(3000)).closed),
      text(await b.command('CLIENT', 'KILL', 'USER', 'default', 'SKIPME', 'yes')),
    ])
  })

  it('DELUSER of the caller\'s own user answers, then closes the connection', async () => {
    await fresh([['ACL', 'SETUSER', 't', 'on', 'nopass', '+@all', '~*']])
    await pair.sameUntilClose(Buffer.concat([encodeCommand(['AUTH', 't', 'x']), encodeCommand(['ACL', 'DELUSER', 't']), encodeCommand(['PING'])]))
  })
})

describe('selectors', () => {
  it('(...) rules: described, shown by GETUSER, checked as any-of, cleared', async () => {
    await fresh([
      ['ACL', 'SETUSER', 't', 'reset', 'on', 'nopass', '~a*', '+get', '(~b*', '+set)', '(%R~c* &ch +@hash -hget)'], ['ACL', 'LIST'], ['ACL', 'GETUSER', 't'],
      ['ACL', 'SETUSER', 't', '(~x'], ['ACL', 'SETUSER', 't', '(on)'], ['ACL', 'SETUSER', 't', '(~x bad)'], ['ACL', 'SETUSER', 't', '(>pw)'],
      ['ACL', 'DRYRUN', 't', 'set', 'a1', 'v'], ['ACL', 'DRYRUN', 't', 'set', 'b1', 'v'], ['ACL', 'DRYRUN', 't', 'hset', 'c1', 'f', 'v'],
      ['ACL', 'DRYRUN', 't', 'hgetall', 'c1'], ['ACL', 'DRYRUN', 't', 'get', 'b1'], ['ACL', 'DRYRUN', 't', 'del', 'a1'], ['ACL', 'DRYRUN', 't', 'publish', 'ch', 'm'],
    ])
    await fresh([['AUTH', 't', 'x'], ['SET', 'b1', 'v'], ['SET', 'a1', 'v'], ['GET', 'b1'], ['HGETALL', 'c1'], ['HSET', 'c1', 'f', 'v']])
    await fresh([['ACL', 'SETUSER', 't', '()'], ['ACL', 'GETUSER', 't'], ['ACL', 'SETUSER', 't', 'clearselectors'], ['ACL', 'LIST'], ['ACL', 'LOG', '2']])
  })
})

describe('permission checks', () => {
  const setup: Arg[][] = [['ACL', 'SETUSER', 't', 'on', '>pw', '~a*', '%R~r*', '%W~w*', '&ch*', '+get', '+set', '+hget', '+publish', '+subscribe', '+psubscribe', '+config|get', '+multi', '+exec', '+mget', '+copy', '+select|0', '+ping']]

  it('commands, subcommands, read and write keys, channels, first arguments: the NOPERM errors', async () => {
    await fresh(setup)
    await fresh([
      ['AUTH', 't', 'pw'], ['ACL', 'WHOAMI'], ['PING'], ['GET', 'a1'], ['GET', 'zz'], ['GET', 'r1'], ['GET', 'w1'], ['SET', 'r1', 'x'], ['SET', 'w1', 'x'],
      ['SET', 'a1', 'x'], ['SET', 'w1', 'x', 'GET'], ['SET', 'w1', 'x', 'get', 'EX', '10'], ['SET', 'a1', 'x', 'GET'], ['SET', 'r1', 'x', 'GET'], ['MGET', 'a1', 'r1', 'w1'], ['MGET', 'a1', 'r1'], ['COPY', 'r1', 'w1'], ['COPY', 'w1', 'r1'], ['HGET', 'a', 'f'], ['DEL', 'a'],
      ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'maxmemory', '0'], ['SELECT', '0'], ['SELECT', '1'], ['PUBLISH', 'chan', 'm'], ['PUBLISH', 'x', 'm'],
      ['PSUBSCRIBE', 'ch*x'], ['ACL', 'LIST'], ['GET'], ['NOSUCH'],
    ])
    await fresh([['AUTH', 't', 'pw'], ['SUBSCRIBE', 'ch1', 'other']])
    await fresh([['AUTH', 't', 'pw'], ['PSUBSCRIBE', 'ch*']], t => t)
  })

  it('MULTI: a refused command is refused at queue time and EXEC aborts', async () => {
    await fresh(setup)
    await fresh([['AUTH', 't', 'pw'], ['MULTI'], ['SET', 'a1', 'v'], ['GET', 'zz'], ['DEL', 'a1'], ['EXEC'], ['GET', 'a1']])
    await fresh([['AUTH', 't', 'pw'], ['MULTI'], ['SET', 'a1', 'v'], ['EXEC'], ['GET', 'a1']])
  })

  it('EXEC checks each queued command again: rules changed since answer NOPERM in its place', async () => {
    await fresh([['ACL', 'SETUSER', 't', 'on', 'nopass', '+@all', '~*', '&*']])
    await sameOnBoth(pair, async (a, b) => {
      const out: string[] = []
      for (const c of [['AUTH', 't', 'x'], ['MULTI'], ['SET', 'a', '1'], ['GET', 'zz'], ['PUBLISH', 'c', 'm'], ['PING'], ['SET', 'a', '2']]) out.push(text(await a.command(...c)))
      out.push(text(await b.command('ACL', 'SETUSER', 't', '-ping', 'resetkeys', '~a*', 'resetchannels')))
      out.push(text(await a.command('EXEC')))
      out.push(normalize(text(await b.command('ACL', 'LOG', '3'))))
      return out
    })
  })

  it('ACL DRYRUN answers what the user could run', async () => {
    await fresh(setup)
    await fresh([
      ['ACL', 'DRYRUN', 't', 'get', 'a1'], ['ACL', 'DRYRUN', 't', 'get', 'zz'], ['ACL', 'DRYRUN', 't', 'set', 'r1', 'v'], ['ACL', 'DRYRUN', 't', 'del', 'a1'],
      ['ACL', 'DRYRUN', 't', 'config', 'set', 'a', 'b'], ['ACL', 'DRYRUN', 't', 'publish', 'x', 'm'], ['ACL', 'DRYRUN', 't', 'nosuch'],
      ['ACL', 'DRYRUN', 'nobody', 'get', 'a'], ['ACL', 'DRYRUN', 't', 'get'], ['ACL', 'DRYRUN', 'default', 'flushall'],
    ])
  })
})

describe('scripts run with their caller\'s permissions', () => {
  it('redis.call refused, redis.pcall returns the error, redis.acl_check_cmd answers, ACL LOG says lua', async () => {
    await fresh([['ACL', 'SETUSER', 't', 'on', 'nopass', '+eval', '+get', '+set', '+publish', '~a*', '&c', '+acl']])
    const script = (body: string): Arg[] => ['EVAL', body, '0']
    await fresh([
      ['AUTH', 't', 'x'],
      script('return redis.call("del", "a")'), script('return redis.call("get", "b")'), script('return redis.call("publish", "x", "m")'),
      script('return redis.call("set", "a1", "v")'), script('return redis.pcall("del", "a")'),
      script('return redis.acl_check_cmd("del", "a")'), script('return redis.acl_check_cmd("get", "a")'), script('return redis.acl_check_cmd("get", "b")'),
      ['ACL', 'LOG', '1'],
    ], t => normalize(t).replace(/script: [0-9a-f]{40}/, 'script: <sha>'))
  })
})

describe('AUTH and HELLO with users', () => {
  it('named users, wrong passwords, disabled and nopass users, HELLO AUTH', async () => {
    await fresh([['ACL', 'SETUSER', 'alice', 'on', '>a1', '>a2', '+@all', '~*'], ['ACL', 'SETUSER', 'bob', 'off', '>b', '+@all'], ['ACL', 'SETUSER', 'carol', 'on', 'nopass', '+acl|whoami']])
    await fresh([
      ['AUTH', 'alice', 'a1'], ['ACL', 'WHOAMI'], ['AUTH', 'alice', 'a2'], ['AUTH', 'alice', 'x'], ['ACL', 'WHOAMI'], ['AUTH', 'bob', 'b'], ['AUTH', 'nobody', 'x'],
      ['AUTH', 'carol', 'anything'], ['ACL', 'WHOAMI'], ['PING'], ['HELLO', '2', 'AUTH', 'alice', 'bad'], ['ACL', 'WHOAMI'],
      ['RESET'], ['ACL', 'WHOAMI'],
    ])
    await fresh([['HELLO', '2', 'AUTH', 'alice', 'a1', 'SETNAME', 'n'], ['ACL', 'WHOAMI'], ['CLIENT', 'GETNAME']], t => t.replace(/:\d+\r\n\$4\r\nmode/, ':N\r\n$4\r\nmode'))
  })

  it('a password on the default user (ACL SETUSER or CONFIG SET requirepass) asks new clients to AUTH', async () => {
    await fresh([['ACL', 'SETUSER', 'default', 'resetpass', '>dp'], ['ACL', 'SETUSER', 'alice', 'on', '>a', '+@all']])
    await fresh([['PING'], ['AUTH', 'dp'], ['PING'], ['CONFIG', 'GET', 'requirepass']])
    await fresh([['PING'], ['AUTH', 'alice', 'a'], ['PING'], ['CONFIG', 'SET', 'requirepass', 'rp'], ['ACL', 'GETUSER', 'default'], ['CONFIG', 'SET', 'requirepass', '']])
    await fresh([['PING'], ['ACL', 'GETUSER', 'default'], ['AUTH', 'x']])
  })
})

describe('ACL LOG', () => {
  it('records command, key, channel and auth denials as Redis does, grouped and newest first', async () => {
    await fresh([['ACL', 'LOG', 'RESET'], ['ACL', 'SETUSER', 't', 'on', '>pw', '~a*', '&c*', '+get', '+set', '+publish', '+multi', '+exec', '+config|get']])
    await fresh([
      ['AUTH', 't', 'pw'], ['GET', 'zz'], ['GET', 'zz'], ['SET', 'b', 'v'], ['PUBLISH', 'x', 'm'], ['CONFIG', 'SET', 'a', 'b'], ['HGET', 'a', 'b'],
      ['MULTI'], ['GET', 'q'], ['DEL', 'a'], ['EXEC'], ['AUTH', 't', 'bad'], ['AUTH', 'nobody', 'x'], ['HELLO', '2', 'AUTH', 't', 'bad'],
    ])
    await fresh([['ACL', 'LOG'], ['ACL', 'LOG', '2'], ['ACL', 'LOG', '0'], ['ACL', 'LOG', 'x'], ['ACL', 'LOG', '1', '2'], ['ACL', 'LOG', 'RESET'], ['ACL', 'LOG']])
  })
})

describe('acl-pubsub-default and acllog-max-len', () => {
  it('new users take the channel default; the log keeps at most acllog-max-len entries', async () => {
    try {
      await fresh([
        ['CONFIG', 'GET', 'aclfile'], ['CONFIG', 'GET', 'acllog-max-len'], ['CONFIG', 'GET', 'acl-pubsub-default'], ['CONFIG', 'SET', 'acl-pubsub-default', 'bogus'], ['CONFIG', 'SET', 'acllog-max-len', '-1'],
        ['CONFIG', 'SET', 'acl-pubsub-default', 'allchannels'], ['ACL', 'SETUSER', 'alice'], ['ACL', 'SETUSER', 'bob', 'reset', '(~x +get)'], ['ACL', 'LIST'],
        ['CONFIG', 'SET', 'acl-pubsub-default', 'resetchannels'], ['ACL', 'SETUSER', 'carol'], ['ACL', 'GETUSER', 'carol'],
        ['CONFIG', 'SET', 'acllog-max-len', '2'], ['ACL', 'SETUSER', 't', 'on', 'nopass'],
      ])
      await fresh([['AUTH', 't', 'x'], ['GET', 'a'], ['SET', 'a', 'b'], ['DEL', 'a'], ['AUTH', 'default', 'x'], ['ACL', 'LOG'], ['CONFIG', 'GET', 'acllog-max-len']])
    } finally {
      await fresh([['CONFIG', 'SET', 'acllog-max-len', '128'], ['CONFIG', 'SET', 'acl-pubsub-default', 'resetchannels']])
    }
  })
})

describe('ACL CAT, GENPASS, HELP, SAVE and LOAD without an aclfile', () => {
  it('answers as Redis', async () => {
    await fresh([['ACL', 'CAT'], ['ACL', 'CAT', 'nope'], ['ACL', 'CAT', 'a', 'b'], ['ACL', 'GENPASS', '0'], ['ACL', 'GENPASS', '4097'], ['ACL', 'GENPASS', 'x'], ['ACL', 'HELP'], ['ACL', 'SAVE'], ['ACL', 'LOAD'], ['ACL', 'NOSUCH']])
    // Redis's lists, less the commands FlashKV does not have (MIGRATE, RESTORE-ASKING...).
    const ours = new Set(parseBulks(text(await pair.f.command('COMMAND', 'LIST'))))
    for (const cat of ['keyspace', 'read', 'write', 'geo', 'admin', 'dangerous', 'pubsub', 'scripting', 'connection', 'transaction', 'fast', 'slow']) {
      const [a, b] = await Promise.all([pair.f.command('ACL', 'CAT', cat), pair.r.command('ACL', 'CAT', cat)])
      const want = parseBulks(text(b)).filter(n => ours.has(n)).sort()
      // CLIENT SETINFO is 7.2's: FlashKV answers it, 7.0 has none.
      expect(parseBulks(text(a)).filter(n => n !== 'client|setinfo').sort(), `ACL CAT ${cat}`).toEqual(want)
    }
    const a = await pair.f.command('ACL', 'GENPASS')
    const b = await pair.f.command('ACL', 'GENPASS', '5')
    expect(text(a)).toMatch(/^\$64\r\n[0-9a-f]{64}\r\n$/)
    expect(text(b)).toMatch(/^\$2\r\n[0-9a-f]{2}\r\n$/)
  })
})

describe('every I/O thread sees the same users', () => {
  let server: ServerHandle
  beforeAll(async () => { server = await startFlashKV({ shards: 2, env: { FLASHKV_IO_THREADS: '4' } }) })
  afterAll(async () => { await server?.stop() })

  it('rules past the shared region are refused whole, and the server goes on', async () => {
    const c = await RawClient.connect(server.port, server.host)
    try {
      expect(text(await c.command('ACL', 'SETUSER', 'big', 'on', '~' + 'x'.repeat(1_100_000)))).toBe('-ERR the ACL rules would pass 1048576 bytes\r\n')
      expect(text(await c.command('ACL', 'USERS'))).toBe('*1\r\n$7\r\ndefault\r\n')
      expect(text(await c.command('PING'))).toBe('+PONG\r\n')
    } finally { c.close() }
  })

  it('a user made on one connection authenticates and is refused on the others; DELUSER closes its clients', async () => {
    const admin = await RawClient.connect(server.port, server.host)
    const clients = await Promise.all(Array.from({ length: 8 }, async () => await RawClient.connect(server.port, server.host)))
    try {
      expect(text(await admin.command('ACL', 'SETUSER', 'alice', 'on', '>pw', '~a*', '+get'))).toBe('+OK\r\n')
      for (const c of clients) {
        expect(text(await c.command('AUTH', 'alice', 'pw'))).toBe('+OK\r\n')
        expect(text(await c.command('GET', 'b'))).toBe('-NOPERM this user has no permissions to access one of the keys used as arguments\r\n')
        expect(text(await c.command('SET', 'a', 'v'))).toBe("-NOPERM this user has no permissions to run the 'set' command\r\n")
      }
      expect(text(await admin.command('ACL', 'SETUSER', 'alice', '+set'))).toBe('+OK\r\n')
      for (const c of clients) expect(text(await c.command('SET', 'a', 'v'))).toBe('+OK\r\n')
      const log = text(await admin.command('ACL', 'LOG', '1'))
      expect(log).toContain('$5\r\ncount\r\n:8\r\n')
      expect(text(await admin.command('ACL', 'DELUSER', 'alice'))).toBe(':1\r\n')
      for (const c of clients) {
        c.send('*1\r\n$4\r\nPING\r\n')
        expect((await c.readUntilClose(3000)).closed).toBe(true)
      }
    } finally {
      admin.close()
      for (const c of clients) c.close()
    }
  })
})

describe('ACL SAVE and LOAD with an aclfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashkv-acl-'))
  const files = { redis: join(dir, 'redis.acl'), flash: join(dir, 'flash.acl') }
  let redis: ServerHandle
  let flash: ServerHandle
  beforeAll(async () => {
    writeFileSync(files.redis, 'user default on nopass ~* &* +@all\nuser alice on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a ~a* +@read\n')
    writeFileSync(files.flash, readFileSync(files.redis))
    ;[redis, flash] = await Promise.all([startRedis([...DEFAULT_REDIS_ARGS, '--aclfile', files.redis]), startFlashKV({ shards: 4, extraArgs: ['--aclfile', files.flash] })])
  })
  afterAll(async () => {
    await Promise.all([redis?.stop(), flash?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  async function both (...args: Arg[]): Promise<[string, string]> {
    const [f, r] = await Promise.all([RawClient.connect(flash.port, flash.host), RawClient.connect(redis.port, redis.host)])
    try {
      const [a, b] = await Promise.all([f.command(...args), r.command(...args)])
      return [normalize(text(a)), normalize(text(b))]
    } finally { f.close(); r.close() }
  }

  it('loads the file at start, saves what SETUSER made, and LOAD brings the file back', async () => {
    let [a, b] = await both('ACL', 'LIST')
    expect(a).toBe(b)
    ;[a, b] = await both('CONFIG', 'SET', 'aclfile', '/elsewhere')
    expect(a).toBe(b)
    ;[a, b] = await both('ACL', 'SETUSER', 'bob', 'on', '>x', '%R~r*', '&c', '+@hash', '-hset', '(~s*', '+get)')
    expect(a).toBe(b)
    ;[a, b] = await both('ACL', 'SAVE')
    expect(a).toBe('+OK\r\n')
    expect(a).toBe(b)
    const words = (f: string): string[] => readFileSync(f, 'latin1').trim().split('\n').map(l => l.split(' ').sort().join(' '))
    expect(words(files.flash)).toEqual(words(files.redis))
    ;[a, b] = await both('ACL', 'DELUSER', 'bob')
    expect(a).toBe(b)
    ;[a, b] = await both('ACL', 'LOAD')
    expect(a).toBe('+OK\r\n')
    expect(a).toBe(b)
    ;[a, b] = await both('ACL', 'LIST')
    expect(a).toContain(' bob ')
    expect(a).toBe(b)
  })
})

describe('user directives in the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flashkv-acl-conf-'))
  const conf = join(dir, 'server.conf')
  let redis: ServerHandle
  let flash: ServerHandle
  beforeAll(async () => {
    // Redis takes the same directives from its command line.
    writeFileSync(conf, 'user alice on >pw ~a* +get\nuser default on nopass ~* &* +@all -flushall\n')
    ;[redis, flash] = await Promise.all([startRedis([...DEFAULT_REDIS_ARGS, '--user', 'alice', 'on', '>pw', '~a*', '+get', '--user', 'default', 'on', 'nopass', '~*', '&*', '+@all', '-flushall']), startFlashKV({ shards: 2, extraArgs: [conf] })])
  })
  afterAll(async () => {
    await Promise.all([redis?.stop(), flash?.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  it('makes the users at start, the default one included', async () => {
    const [f, r] = await Promise.all([RawClient.connect(flash.port, flash.host), RawClient.connect(redis.port, redis.host)])
    try {
      for (const c of [['PING'], ['AUTH', 'alice', 'pw'], ['GET', 'b'], ['ACL', 'WHOAMI'], ['AUTH', 'default', 'x'], ['FLUSHALL'], ['ACL', 'LIST']]) {
        const [a, b] = await Promise.all([f.command(...c), r.command(...c)])
        expect(normalize(text(a)), `reply to ${show(c)}`).toBe(normalize(text(b)))
      }
    } finally { f.close(); r.close() }
  })
})

describe('clients connecting as a named user', () => {
  it('ioredis and node-redis with username and password', async () => {
    const admin = await RawClient.connect(pair.flash.port, pair.flash.host)
    try {
      expect(text(await admin.command('ACL', 'SETUSER', 'alice', 'on', '>secret', '~app:*', '+@all'))).toBe('+OK\r\n')
    } finally { admin.close() }
    const io = new Redis({ port: pair.flash.port, host: pair.flash.host, username: 'alice', password: 'secret', lazyConnect: true, maxRetriesPerRequest: 0 })
    try {
      await io.connect()
      expect(await io.call('ACL', 'WHOAMI')).toBe('alice')
      expect(await io.set('app:1', 'v')).toBe('OK')
      await expect(io.get('other')).rejects.toThrow(/NOPERM/)
    } finally { io.disconnect() }
    const nr = createClient({ socket: { port: pair.flash.port, host: pair.flash.host }, username: 'alice', password: 'secret' })
    nr.on('error', () => {})
    try {
      await nr.connect()
      expect(await nr.sendCommand(['ACL', 'WHOAMI'])).toBe('alice')
      expect(await nr.get('app:1')).toBe('v')
    } finally { await nr.disconnect() }
    const bad = createClient({ socket: { port: pair.flash.port, host: pair.flash.host, reconnectStrategy: false }, username: 'alice', password: 'wrong' })
    bad.on('error', () => {})
    await expect(bad.connect()).rejects.toThrow(/WRONGPASS/)
  })
})
