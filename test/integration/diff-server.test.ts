// Differential tests for the server and connection administration commands: TIME, CONFIG
// GET/SET/RESETSTAT, CLIENT LIST/INFO/KILL/NO-EVICT/REPLY, MEMORY USAGE, ROLE, COMMAND LIST and
// COMMAND GETKEYS/GETKEYSANDFLAGS (COMMAND LIST comes in each server's own order, so its lists
// compare sorted, and FlashKV's is a subset of Redis's). The same bytes go to
// a real redis-server 7.0.15 and to FlashKV (4 shards). Only deterministic replies can match:
// errors, arity, TIME's shape, the CONFIG values both servers share, CLIENT REPLY's silences,
// and MEMORY USAGE's reply type (sizes are each allocator's own, so numbers are normalized).
// Left out on purpose: maxclients values (Redis lowers its default to the file-descriptor
// limit), maxmemory values (FlashKV defaults to a share of the cgroup limit), port, and the
// values FlashKV cannot apply at run time (save schedules, appendonly yes, other policies): those
// are checked in client-admin.test.ts. CLIENT LIST/INFO text, KILL of live clients and INFO
// counters are there too.
import net from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { encodeCommand } from './helpers/raw.js'

const pair = useDiffPair({ shards: 4 })
const { same, sameNormalized, sequence, pipeline } = pair

/** Sizes differ between allocators: keep only the reply's type for MEMORY USAGE. */
const memSize = (reply: string, cmd: readonly Arg[]): string =>
  String(cmd[0]).toUpperCase() === 'MEMORY' ? reply.replace(/^:\d+\r\n$/, ':<bytes>\r\n') : reply

/**
 * Redis 7.0 answers CONFIG GET from a dict of the matches, in an order set by its random hash
 * seed: compare the name/value pairs as a set.
 */
function sortedPairs (reply: string): string {
  const m = /^([*%])(\d+)\r\n/.exec(reply)
  if (m === null) return reply
  const lines = reply.slice(m[0].length).split('\r\n').slice(0, -1)
  const pairs: string[] = []
  for (let i = 0; i < lines.length; i += 4) pairs.push(lines.slice(i, i + 4).join('\r\n'))
  return `${m[1]}${m[2]}\r\n${pairs.sort().join('\r\n')}\r\n`
}

const configGet = (reply: string, cmd: readonly Arg[]): string =>
  String(cmd[0]).toUpperCase() === 'CONFIG' && String(cmd[1]).toUpperCase() === 'GET' ? sortedPairs(reply) : reply

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

/** Sends the same bytes to both and compares everything that arrives up to a final PING's reply. */
async function sameSilenced (cmds: readonly Arg[][], expectedReplies: number): Promise<void> {
  const bytes = Buffer.concat([...cmds.map((c) => encodeCommand(c)), encodeCommand(['PING', 'end'])])
  pair.f.send(bytes)
  pair.r.send(bytes)
  const [a, b] = await Promise.all([pair.f.readReplies(expectedReplies + 1), pair.r.readReplies(expectedReplies + 1)])
  expect(a.map(text)).toEqual(b.map(text))
  expect(text(b[expectedReplies])).toBe('$3\r\nend\r\n')
}

describe('TIME', () => {
  it('two bulk strings: seconds and microseconds, close to Redis', async () => {
    const [a, b] = await Promise.all([pair.f.command('TIME'), pair.r.command('TIME')])
    const shape = /^\*2\r\n\$(\d+)\r\n(\d+)\r\n\$(\d+)\r\n(\d+)\r\n$/
    const fm = shape.exec(text(a))
    const rm = shape.exec(text(b))
    expect(fm, text(a)).not.toBeNull()
    expect(rm, text(b)).not.toBeNull()
    const [, , fs, , fus] = fm as RegExpExecArray
    const [, , rs] = rm as RegExpExecArray
    expect(Math.abs(Number(fs) - Number(rs))).toBeLessThanOrEqual(1)
    expect(Number(fus)).toBeLessThan(1_000_000)
  })

  it('arity', async () => {
    await sequence([['TIME', 'x'], ['time', 'a', 'b']])
  })
})

// Parameters whose values the two servers share in this setup.
const SHARED = ['timeout', 'databases', 'maxmemory-policy', 'save', 'appendonly', 'tcp-keepalive',
  'proto-max-bulk-len', 'client-query-buffer-limit', 'hz', 'cluster-enabled', 'bind']

describe('CONFIG GET', () => {
  it('exact names, in any case, echoed as asked', async () => {
    for (const p of SHARED) await same('CONFIG', 'GET', p)
    await sequence([['CONFIG', 'GET', 'TIMEOUT'], ['config', 'get', 'Databases'], ['CONFIG', 'GET', 'nosuchparam'], ['CONFIG', 'GET', '']])
    await pipeline([['CONFIG', 'GET', 'timeout', 'databases', 'hz'], ['CONFIG', 'GET', 'timeout', 'nosuch', 'save'],
      ['CONFIG', 'GET', 'Timeout', 'HZ', 'databa*']], configGet)
  })

  it('a parameter asked twice appears once, under the first spelling', async () => {
    await sequence([['CONFIG', 'GET', 'timeout', 'TIMEOUT'], ['CONFIG', 'GET', 'TIMEOUT', 'timeout'],
      ['CONFIG', 'GET', 'timeout', 'time*'], ['CONFIG', 'GET', 'TIME*', 'TIMEOUT']])
  })

  it('patterns that match one parameter in both servers report its canonical name', async () => {
    await sequence([['CONFIG', 'GET', 'databa*'], ['CONFIG', 'GET', 'maxmemory-polic?'], ['CONFIG', 'GET', 'APPENDONL?'],
      ['CONFIG', 'GET', 'tcp-keepaliv*'], ['CONFIG', 'GET', 'client-query*'], ['CONFIG', 'GET', 'proto-max*'],
      ['CONFIG', 'GET', 'h?'], ['CONFIG', 'GET', 'bin?'], ['CONFIG', 'GET', 'sav?'], ['CONFIG', 'GET', 'timeou[t]'],
      ['CONFIG', 'GET', 'nosuch*']])
  })

  it('RESP3 map replies', async () => {
    await hello3()
    await pipeline([['CONFIG', 'GET', 'timeout'], ['CONFIG', 'GET', 'timeout', 'hz'], ['CONFIG', 'GET', 'nosuch']], configGet)
  })

  it('arity and unknown subcommands', async () => {
    await sequence([['CONFIG'], ['CONFIG', 'GET'], ['config', 'get'], ['CONFIG', 'NOSUCH'], ['CONFIG', 'NOSUCH', 'x']])
  })
})

describe('CONFIG SET', () => {
  it('unknown and immutable parameters', async () => {
    await sequence([
      ['CONFIG', 'SET', 'foo', 'bar'], ['CONFIG', 'SET', 'FOO', 'bar'], ['CONFIG', 'SET', 'databases', '3'],
      ['CONFIG', 'SET', 'Databases', '16'], ['CONFIG', 'SET', 'cluster-enabled', 'no'],
      ['CONFIG', 'SET', 'timeout', '5', 'foo', '1'], ['CONFIG', 'SET', 'foo', '1', 'databases', '2'],
      ['CONFIG', 'SET', 'databases', '2', 'foo', '1'], ['CONFIG', 'SET', '', 'x'], ['CONFIG', 'GET', 'timeout'],
    ])
  })

  it('parse and range errors name the canonical parameter', async () => {
    await sequence([
      ['CONFIG', 'SET', 'maxclients', 'abc'], ['CONFIG', 'SET', 'MAXCLIENTS', '0'], ['CONFIG', 'SET', 'maxclients', '-1'],
      ['CONFIG', 'SET', 'maxclients', ''], ['CONFIG', 'SET', 'maxclients', ' 5'], ['CONFIG', 'SET', 'maxclients', '05'],
      ['CONFIG', 'SET', 'maxclients', '4294967296'], ['CONFIG', 'SET', 'maxclients', '1.5'],
      ['CONFIG', 'SET', 'timeout', '-1'], ['CONFIG', 'SET', 'timeout', '2147483648'], ['CONFIG', 'SET', 'Timeout', 'x'],
      ['CONFIG', 'SET', 'tcp-keepalive', '1.5'], ['CONFIG', 'SET', 'tcp-keepalive', '-5'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', '1k'], ['CONFIG', 'SET', 'client-query-buffer-limit', 'abc'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', ''], ['CONFIG', 'SET', 'client-query-buffer-limit', '-1mb'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', '1.5mb'], ['CONFIG', 'SET', 'client-query-buffer-limit', '99999999999999999999gb'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', '18446744073709551615'], ['CONFIG', 'SET', 'client-query-buffer-limit', '1 mb'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1'], ['CONFIG', 'SET', 'proto-max-bulk-len', 'x'],
      ['CONFIG', 'SET', 'maxmemory', '-1'], ['CONFIG', 'SET', 'maxmemory', '1.5mb'], ['CONFIG', 'SET', 'maxmemory', 'x'],
      ['CONFIG', 'SET', 'hz', 'abc'], ['CONFIG', 'SET', 'hz', '-1'], ['CONFIG', 'SET', 'port', '70000'], ['CONFIG', 'SET', 'port', 'x'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'foo'], ['CONFIG', 'SET', 'appendonly', 'maybe'], ['CONFIG', 'SET', 'appendonly', ''],
      ['CONFIG', 'SET', 'save', 'abc'], ['CONFIG', 'SET', 'save', '900'], ['CONFIG', 'SET', 'save', '0 1'], ['CONFIG', 'SET', 'save', '900 -1'],
      ['CONFIG', 'SET', 'bind', Array.from({ length: 17 }, () => '127.0.0.1').join(' ')],
    ])
  })

  it('duplicates, odd argument counts and arity', async () => {
    await sequence([
      ['CONFIG', 'SET', 'timeout', '5', 'timeout', '6'], ['CONFIG', 'SET', 'timeout', '5', 'TIMEOUT', '6'],
      ['CONFIG', 'SET', 'timeout', '5', 'hz', '10', 'Timeout', '6'], ['CONFIG', 'SET', 'timeout', '5', 'x'],
      ['CONFIG', 'SET', 'timeout'], ['CONFIG', 'SET'], ['config', 'set', 'a'], ['CONFIG', 'GET', 'timeout'],
    ])
  })

  it('sets take effect in CONFIG GET, with memory units', async () => {
    try {
      await sequence([
        ['CONFIG', 'SET', 'timeout', '100'], ['CONFIG', 'GET', 'timeout'], ['CONFIG', 'SET', 'TIMEOUT', '0'], ['CONFIG', 'GET', 'timeout'],
        ['CONFIG', 'SET', 'tcp-keepalive', '60'], ['CONFIG', 'GET', 'tcp-keepalive'],
        ['CONFIG', 'SET', 'client-query-buffer-limit', '2mb'], ['CONFIG', 'GET', 'client-query-buffer-limit'],
        ['CONFIG', 'SET', 'client-query-buffer-limit', '2MB'], ['CONFIG', 'GET', 'client-query-buffer-limit'],
        ['CONFIG', 'SET', 'client-query-buffer-limit', '3000k'], ['CONFIG', 'GET', 'client-query-buffer-limit'],
        ['CONFIG', 'SET', 'client-query-buffer-limit', '2000Kb'], ['CONFIG', 'GET', 'client-query-buffer-limit'],
        ['CONFIG', 'SET', 'client-query-buffer-limit', '1g'], ['CONFIG', 'GET', 'client-query-buffer-limit'],
        ['CONFIG', 'SET', 'client-query-buffer-limit', '2097152b'], ['CONFIG', 'GET', 'client-query-buffer-limit'],
        ['CONFIG', 'SET', 'client-query-buffer-limit', '1gb'], ['CONFIG', 'GET', 'client-query-buffer-limit'],
      ])
    } finally {
      await pipeline([['CONFIG', 'SET', 'timeout', '0', 'tcp-keepalive', '300', 'client-query-buffer-limit', '1gb']])
    }
  })

  it('several parameters at once: all or nothing', async () => {
    try {
      await sequence([
        ['CONFIG', 'SET', 'timeout', '7', 'tcp-keepalive', '70'], ['CONFIG', 'GET', 'timeout'], ['CONFIG', 'GET', 'tcp-keepalive'],
        ['CONFIG', 'SET', 'timeout', '8', 'tcp-keepalive', 'x'], ['CONFIG', 'GET', 'timeout'], ['CONFIG', 'GET', 'tcp-keepalive'],
        ['CONFIG', 'SET', 'tcp-keepalive', '80', 'timeout', '9', 'client-query-buffer-limit', '1k'], ['CONFIG', 'GET', 'timeout'],
        ['CONFIG', 'SET', 'timeout', '10', 'databases', '16'], ['CONFIG', 'GET', 'timeout'],
        ['CONFIG', 'SET', 'timeout', '11', 'nosuch', '1'], ['CONFIG', 'GET', 'timeout'],
      ])
    } finally {
      await pipeline([['CONFIG', 'SET', 'timeout', '0', 'tcp-keepalive', '300']])
    }
  })

  it('the current value of a parameter FlashKV keeps fixed is accepted', async () => {
    await sequence([
      ['CONFIG', 'SET', 'save', ''], ['CONFIG', 'SET', 'appendonly', 'no'], ['CONFIG', 'SET', 'appendonly', 'NO'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'], ['CONFIG', 'SET', 'maxmemory-policy', 'NOEVICTION'],
      ['CONFIG', 'SET', 'hz', '10'], ['CONFIG', 'SET', 'proto-max-bulk-len', '512mb'], ['CONFIG', 'SET', 'bind', '127.0.0.1'],
      ['CONFIG', 'SET', 'save', '', 'appendonly', 'no', 'hz', '10'], ['CONFIG', 'GET', 'save'], ['CONFIG', 'GET', 'proto-max-bulk-len'],
    ])
  })
})

describe('CONFIG RESETSTAT', () => {
  it('replies OK; arity', async () => {
    await sequence([['CONFIG', 'RESETSTAT'], ['config', 'resetstat'], ['CONFIG', 'RESETSTAT', 'x']])
  })
})

describe('CLIENT', () => {
  it('LIST filters: errors and empty selections', async () => {
    await sequence([
      ['CLIENT', 'LIST', 'TYPE', 'foo'], ['CLIENT', 'LIST', 'TYPE', 'master'], ['CLIENT', 'LIST', 'TYPE', 'replica'],
      ['CLIENT', 'LIST', 'TYPE', 'slave'], ['CLIENT', 'LIST', 'TYPE', 'PubSub'], ['CLIENT', 'LIST', 'TYPE'],
      ['CLIENT', 'LIST', 'ID'], ['CLIENT', 'LIST', 'ID', 'abc'], ['CLIENT', 'LIST', 'ID', '999999', 'x'],
      ['CLIENT', 'LIST', 'ID', '999999'], ['CLIENT', 'LIST', 'ID', '0', '-1', '999999999'], ['CLIENT', 'LIST', 'foo'],
      ['CLIENT', 'LIST', 'TYPE', 'normal', 'ID', '1'], ['CLIENT', 'LIST', 'foo', 'bar', 'baz'],
      ['CLIENT', 'LIST', 'ID', '99999999999999999999'], ['CLIENT', 'LIST', 'TYPE', Buffer.from('no\0rmal')],
    ])
  })

  it('KILL: errors, counts and no-match replies', async () => {
    await sequence([
      ['CLIENT', 'KILL', '1.2.3.4:5'], ['CLIENT', 'KILL', 'id'], ['CLIENT', 'KILL', 'ID', '999999'],
      ['CLIENT', 'KILL', 'ID', 'abc'], ['CLIENT', 'KILL', 'ID', '0'], ['CLIENT', 'KILL', 'ID', '-5'], ['CLIENT', 'KILL', 'ID', ''],
      ['CLIENT', 'KILL', 'ID', '99999999999999999999'], ['CLIENT', 'KILL', 'foo', 'bar'], ['CLIENT', 'KILL', 'TYPE', 'foo'],
      ['CLIENT', 'KILL', 'TYPE', 'master'], ['CLIENT', 'KILL', 'TYPE', 'replica'], ['CLIENT', 'KILL', 'TYPE', 'pubsub'],
      ['CLIENT', 'KILL', 'SKIPME', 'maybe'], ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'], ['CLIENT', 'KILL', 'LADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'USER', 'nobody'], ['CLIENT', 'KILL', 'USER', 'Default'], ['CLIENT', 'KILL', 'USER', 'default', 'ID', '999999'],
      ['CLIENT', 'KILL', 'ID', '999999', 'TYPE'], ['CLIENT', 'KILL', 'ID', '999999', 'TYPE', 'foo'], ['CLIENT', 'KILL', 'TYPE', 'foo', 'ID', 'x'],
      ['CLIENT', 'KILL', 'MAXAGE', '1'], ['CLIENT', 'KILL', 'ID', '999999', 'SKIPME', 'no', 'SKIPME', 'yes'],
      ['CLIENT', 'KILL'],
      ['PING'],
    ])
  })

  it('NO-EVICT', async () => {
    await sequence([['CLIENT', 'NO-EVICT', 'on'], ['CLIENT', 'NO-EVICT', 'OFF'], ['CLIENT', 'NO-EVICT', 'maybe'],
      ['CLIENT', 'NO-EVICT'], ['CLIENT', 'NO-EVICT', 'on', 'off'], ['client', 'no-evict', 'On']])
  })

  it('INFO and REPLY arity, unknown subcommands', async () => {
    await sequence([['CLIENT', 'INFO', 'x'], ['CLIENT', 'REPLY'], ['CLIENT', 'REPLY', 'on', 'off'], ['CLIENT', 'REPLY', 'maybe'],
      ['CLIENT', 'REPLY', 'ON'], ['CLIENT', 'NOSUCH'], ['CLIENT'], ['CLIENT', 'LIST', 'TYPE', 'normal', 'x']])
  })

  it('INFO and LIST are verbatim strings in RESP3', async () => {
    await hello3()
    const [a, b] = await Promise.all([pair.f.command('CLIENT', 'INFO'), pair.r.command('CLIENT', 'INFO')])
    expect(text(a).slice(0, 1)).toBe(text(b).slice(0, 1))
    expect(text(a)).toMatch(/^=\d+\r\ntxt:id=/)
    await sequence([['CLIENT', 'LIST', 'TYPE', 'master'], ['CLIENT', 'LIST', 'ID', '999999']])
  })
})

describe('CLIENT REPLY', () => {
  it('SKIP silences the next command only, whatever it is', async () => {
    await sameSilenced([
      ['CLIENT', 'REPLY', 'SKIP'], ['PING', 'a'], ['PING', 'b'],
      ['CLIENT', 'REPLY', 'SKIP'], ['NOSUCHCOMMAND'], ['GET'], ['CLIENT', 'REPLY', 'SKIP'], ['GET'], ['PING', 'c'],
    ], 3)
  })

  it('OFF silences until ON, which answers; SKIP while OFF is ignored', async () => {
    await sameSilenced([
      ['CLIENT', 'REPLY', 'OFF'], ['PING', 'x'], ['FOO'], ['CLIENT', 'REPLY', 'SKIP'], ['SET', 'k', 'v'], ['CLIENT', 'REPLY', 'bad'],
      ['CLIENT', 'REPLY', 'ON'], ['GET', 'k'], ['PING', 'y'],
    ], 3)
  })

  it('a skipped CLIENT REPLY SKIP still arms the next skip; a skipped ON still answers', async () => {
    await sameSilenced([
      ['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'SKIP'], ['PING', 'e'], ['PING', 'f'],
      ['CLIENT', 'REPLY', 'SKIP'], ['CLIENT', 'REPLY', 'ON'], ['PING', 'g'],
    ], 3)
  })

  it('silenced commands still run, on every shard, and later replies keep their order', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
    await sameSilenced([
      ['CLIENT', 'REPLY', 'OFF'],
      ...keys.map((k, i) => ['SET', k, String(i)]), ['MGET', ...keys], ['DBSIZE'], ['INCR', 'k1'], ['LPUSH', 'k2', 'x'],
      ['CLIENT', 'REPLY', 'ON'], ['MGET', ...keys], ['DBSIZE'],
      ['CLIENT', 'REPLY', 'SKIP'], ['MGET', ...keys], ['DEL', 'k0', 'k1'], ['CLIENT', 'REPLY', 'SKIP'], ['DBSIZE'], ['EXISTS', ...keys],
    ], 5)
  })

  it('RESP3 and inline commands', async () => {
    await hello3()
    await sameSilenced([['CLIENT', 'REPLY', 'SKIP'], ['CONFIG', 'GET', 'timeout'], ['CONFIG', 'GET', 'hz']], 1)
    pair.f.send('CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\n')
    pair.r.send('CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\n')
    const [a, b] = await Promise.all([pair.f.readReplies(1), pair.r.readReplies(1)])
    expect(a.map(text)).toEqual(b.map(text))
  })
})

describe('MEMORY USAGE', () => {
  it('missing keys, options and errors', async () => {
    await pipeline([
      ['MEMORY', 'USAGE', 'nokey'], ['SET', 'k', 'v'], ['MEMORY', 'USAGE', 'k'], ['MEMORY', 'USAGE', 'k', 'SAMPLES', '0'],
      ['MEMORY', 'USAGE', 'k', 'samples', '10'], ['MEMORY', 'USAGE', 'k', 'SAMPLES'], ['MEMORY', 'USAGE', 'k', 'SAMPLES', '-1'],
      ['MEMORY', 'USAGE', 'k', 'SAMPLES', 'x'], ['MEMORY', 'USAGE', 'k', 'foo'], ['MEMORY', 'USAGE', 'k', 'SAMPLES', '1', 'foo'],
      ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', 'x'], ['MEMORY', 'USAGE', 'nokey', 'foo'], ['MEMORY', 'USAGE'], ['MEMORY'],
      ['MEMORY', 'NOSUCH'], ['memory', 'usage', 'k', 'SAMPLES', '99999999999999999999'],
      ['RPUSH', 'l', 'a', 'b', 'c'], ['MEMORY', 'USAGE', 'l'], ['MEMORY', 'USAGE', 'l', 'SAMPLES', '1'],
      ['SET', '{t}a', ''], ['MEMORY', 'USAGE', '{t}a'], ['SELECT', '3'], ['MEMORY', 'USAGE', 'k'],
    ], memSize)
  })

  it('RESP3 null for a missing key', async () => {
    await hello3()
    await same('MEMORY', 'USAGE', 'nokey')
  })
})

describe('generated sequences', () => {
  const key = fc.constantFrom('a', 'b', '{t}a', '{t}b', 'x:1', '')
  const param = fc.constantFrom('timeout', 'TIMEOUT', 'tcp-keepalive', 'client-query-buffer-limit', 'databases', 'hz', 'save',
    'appendonly', 'maxmemory-policy', 'cluster-enabled', 'proto-max-bulk-len', 'nosuch', 'maxclients', 'bind')
  // Values both servers accept or reject alike (see the header for what is left out).
  const valueFor: Record<string, fc.Arbitrary<string>> = {
    timeout: fc.constantFrom('0', '100', '-1', 'x', '2147483648', ''),
    'tcp-keepalive': fc.constantFrom('300', '60', '0', 'x', '-5'),
    'client-query-buffer-limit': fc.constantFrom('1gb', '2mb', '1k', 'abc', '', '4MB'),
    databases: fc.constantFrom('16', '3'),
    hz: fc.constantFrom('10', 'x', '-1'),
    save: fc.constantFrom('', 'abc', '900'),
    appendonly: fc.constantFrom('no', 'maybe'),
    'maxmemory-policy': fc.constantFrom('noeviction', 'foo'),
    'cluster-enabled': fc.constantFrom('no', 'yes'),
    'proto-max-bulk-len': fc.constantFrom('536870912', '1', 'x'),
    nosuch: fc.constantFrom('1'),
    maxclients: fc.constantFrom('abc', '0', '-1', '', '4294967296'),
    bind: fc.constantFrom('127.0.0.1'),
  }
  const pairArb = param.chain((p) => valueFor[p.toLowerCase()].map((v) => [p, v]))
  const samples = fc.constantFrom('0', '1', '5', '-1', 'x')
  const commands: Array<fc.Arbitrary<Arg[]>> = [
    param.map((p) => ['CONFIG', 'GET', p]),
    fc.array(pairArb, { minLength: 1, maxLength: 3 }).map((ps) => ['CONFIG', 'SET', ...ps.flat()]),
    fc.tuple(pairArb, param).map(([p, extra]) => ['CONFIG', 'SET', ...p, extra]),
    fc.tuple(key, fc.string({ maxLength: 20 })).map(([k, v]) => ['SET', k, v]),
    fc.tuple(key, fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 4 })).map(([k, vs]) => ['RPUSH', k, ...vs]),
    key.map((k) => ['MEMORY', 'USAGE', k]),
    fc.tuple(key, samples).map(([k, n]) => ['MEMORY', 'USAGE', k, 'SAMPLES', n]),
    fc.tuple(key, fc.constantFrom('foo', 'SAMPLES')).map(([k, o]) => ['MEMORY', 'USAGE', k, o]),
    fc.constantFrom<Arg[]>(['CLIENT', 'NO-EVICT', 'on'], ['CLIENT', 'NO-EVICT', 'off'], ['CLIENT', 'NO-EVICT', 'x'],
      ['CLIENT', 'REPLY', 'ON'], ['CLIENT', 'REPLY', 'x'], ['CLIENT', 'KILL', 'ID', '999999'], ['CLIENT', 'KILL', 'TYPE', 'master'],
      ['CLIENT', 'KILL', 'ID', 'x'], ['CLIENT', 'LIST', 'TYPE', 'pubsub'], ['CLIENT', 'LIST', 'ID', 'x'], ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'n1'], ['CLIENT', 'LIST', 'bad'], ['TIME', 'x'], ['CONFIG', 'RESETSTAT'], ['CONFIG', 'RESETSTAT', 'x'],
      ['CONFIG', 'SET', 'timeout'], ['CONFIG', 'GET'], ['MEMORY', 'USAGE'], ['GET', 'a'], ['DEL', 'a', '{t}a', 'b']),
  ]
  const command = fc.oneof(...commands)

  it('replies match Redis byte for byte (sizes normalized)', async () => {
    try {
      await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (cmds) => {
        await pipeline([['FLUSHALL'], ...cmds, ['CONFIG', 'GET', 'timeout'], ['CONFIG', 'GET', 'tcp-keepalive'],
          ['CONFIG', 'GET', 'client-query-buffer-limit'], ['CONFIG', 'SET', 'timeout', '0', 'tcp-keepalive', '300', 'client-query-buffer-limit', '1gb']], memSize)
      }), { numRuns: 100 })
    } finally {
      await pipeline([['CONFIG', 'SET', 'timeout', '0', 'tcp-keepalive', '300', 'client-query-buffer-limit', '1gb']])
    }
  })

  it('RESP3: the same sequences', async () => {
    await hello3()
    try {
      await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 20 }), async (cmds) => {
        await pipeline([['FLUSHALL'], ...cmds, ['CONFIG', 'SET', 'timeout', '0', 'tcp-keepalive', '300', 'client-query-buffer-limit', '1gb']], memSize)
      }), { numRuns: 30 })
    } finally {
      await pipeline([['CONFIG', 'SET', 'timeout', '0', 'tcp-keepalive', '300', 'client-query-buffer-limit', '1gb']])
    }
  })

  it('CONFIG GET of every shared parameter after the runs', async () => {
    await sameNormalized((s) => s, 'CONFIG', 'GET', 'timeout')
    for (const p of SHARED) await same('CONFIG', 'GET', p)
  })
})

describe('a client that half-closes after its commands', () => {
  /** Writes bytes, shuts down its sending side, and collects everything until the server closes. */
  function sendAndHalfClose (port: number, host: string, bytes: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port, host, allowHalfOpen: true })
      const chunks: Buffer[] = []
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no close from port ${port} within 5 s`)) }, 5000)
      sock.on('data', (c: Buffer) => chunks.push(c))
      sock.on('error', reject)
      sock.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')) })
      sock.once('connect', () => sock.end(bytes))
    })
  }

  it('gets every reply, then the close, as from Redis (keys on several shards)', async () => {
    const cmds = [['SET', 'hc:a', '1'], ['SET', 'hc:b', '2'], ['MGET', 'hc:a', 'hc:b', 'hc:c'], ['INCR', 'hc:a'], ['PING'], ['DEL', 'hc:a', 'hc:b']]
    const bytes = Buffer.concat(cmds.map(c => encodeCommand(c)))
    const [a, b] = await Promise.all([
      sendAndHalfClose(pair.flash.port, pair.flash.host, bytes),
      sendAndHalfClose(pair.redis.port, pair.redis.host, bytes),
    ])
    expect(a).toBe(b)
    expect(b).toBe('+OK\r\n+OK\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n:2\r\n+PONG\r\n:2\r\n')
  })

  it('with half a command left: the complete ones are answered, the rest dropped, then the close, as from Redis', async () => {
    const bytes = Buffer.concat([encodeCommand(['SET', 'hc:x', '1']), encodeCommand(['INCR', 'hc:x']), Buffer.from('*2\r\n$3\r\nGET\r\n$10\r\nabc')])
    const [a, b] = await Promise.all([
      sendAndHalfClose(pair.flash.port, pair.flash.host, bytes),
      sendAndHalfClose(pair.redis.port, pair.redis.host, bytes),
    ])
    expect(a).toBe(b)
    expect(b).toBe('+OK\r\n:2\r\n')
  })
})

/** The bulk strings of an array reply, sorted. */
function names (reply: string): string[] {
  return reply.split('\r\n').filter((l, i, all) => i > 0 && all[i - 1].startsWith('$')).sort()
}

describe('ROLE and COMMAND LIST', () => {
  it('ROLE: a master at offset 0 with no replicas', async () => {
    await pair.sequence([['ROLE'], ['ROLE', 'x']])
  })

  it('COMMAND LIST with and without FILTERBY, and its errors', async () => {
    await pair.sequence([
      ['COMMAND', 'LIST', 'FILTERBY', 'BOGUS', 'x'], ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN'], ['COMMAND', 'LIST', 'EXTRA'],
      ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'], ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuch'],
    ])
    const all = async (...a: string[]): Promise<[string[], string[]]> =>
      [names(text(await pair.f.command(...a))), names(text(await pair.r.command(...a)))]
    const [mine, theirs] = await all('COMMAND', 'LIST')
    // CLIENT SETINFO is Redis 7.2's; clients send it on connect, so it is answered here.
    expect(mine.filter(n => !theirs.includes(n))).toEqual(['client|setinfo'])
    expect(mine.length).toBeGreaterThan(250)
    for (const filter of [['PATTERN', 'x*'], ['PATTERN', 'CLIENT|*'], ['ACLCAT', 'scripting'], ['ACLCAT', 'stream'], ['ACLCAT', 'HYPERLOGLOG']]) {
      const [m, t] = await all('COMMAND', 'LIST', 'FILTERBY', ...filter)
      expect(m.filter(n => theirs.includes(n)), filter.join(' ')).toEqual(t.filter(n => mine.includes(n)))
      expect(m.length, filter.join(' ')).toBeGreaterThan(0)
    }
  })
})

describe('COMMAND GETKEYS and GETKEYSANDFLAGS', () => {
  const CASES: string[][] = [
    ['GET', 'k'], ['SET', 'k', 'v', 'EX', '10'], ['MSET', 'a', '1', 'b', '2'], ['MGET', 'a', 'b', 'c'], ['DEL', 'a', 'b'],
    ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'], ['RENAME', 'a', 'b'], ['COPY', 'a', 'b', 'DB', '1'], ['SMOVE', 'a', 'b', 'm'],
    ['ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'], ['ZUNION', '2', 'a', 'b'], ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', '1'],
    ['LMPOP', '2', 'a', 'b', 'LEFT'], ['BLMPOP', '0', '2', 'a', 'b', 'LEFT'], ['BLPOP', 'a', 'b', '0'], ['BZPOPMIN', 'a', '0'],
    ['EVAL', 'return 1', '2', 'a', 'b', 'c'], ['EVAL', 'return 1', '0'], ['FCALL', 'f', '1', 'a'],
    ['XREAD', 'COUNT', '2', 'STREAMS', 'a', 'b', '0', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'a', '>'],
    ['GEORADIUS', 'a', '0', '0', '1', 'km', 'STORE', 'b'], ['GEOSEARCHSTORE', 'd', 's', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
    ['SORT', 'a', 'STORE', 'b'], ['SORT_RO', 'a'], ['BITOP', 'AND', 'd', 'a', 'b'], ['PFMERGE', 'd', 'a', 'b'], ['PFCOUNT', 'a', 'b'],
    ['OBJECT', 'ENCODING', 'a'], ['MEMORY', 'USAGE', 'a'], ['XINFO', 'STREAM', 'a'], ['XGROUP', 'CREATE', 'a', 'g', '$'],
    ['SINTERCARD', '2', 'a', 'b'], ['MIGRATE'], ['NOSUCH', 'a'], ['PING'], ['CONFIG', 'GET', 'x'], ['CONFIG'], ['GET'], ['GET', 'a', 'b'],
    ['ZUNIONSTORE', 'd', '5', 'a'], ['LMPOP', 'x', 'a', 'LEFT'], ['EVAL', 'x', '-1'], ['SET', 'k'], ['XREAD', 'STREAMS', 'a'],
  ]

  it('the keys, and their flags, of commands of every key-spec kind; the errors', async () => {
    for (const c of CASES) {
      await pair.same('COMMAND', 'GETKEYS', ...c)
      await pair.same('COMMAND', 'GETKEYSANDFLAGS', ...c)
    }
    await pair.same('COMMAND', 'GETKEYS')
  })
})
