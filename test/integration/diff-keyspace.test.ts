// Differential tests for the keyspace ("generic") commands and the 16 databases: the same bytes go
// to a real redis-server 7.0.15 and to FlashKV (4 shards) and the replies must be identical.
// Keys are picked so that RENAME/RENAMENX/COPY run both on one shard and across shards (the
// coordinated path), with strings and lists, TTLs and every database option. Replies that are
// not deterministic between two servers are normalized, each with its reason: KEYS order (sorted),
// SCAN pages (whole iterations are compared as sets), RANDOMKEY (which key), TTL rounding.
// Random sequences (fast-check) mix every command here with strings, lists, SELECT and SWAPDB.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, ttlSign, type Arg } from './helpers/diff.js'
import { parseScan, type RawClient } from './helpers/raw.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sameNormalized, sequence, pipeline } = pair

// Two keys on shard 0, one on shard 1: same-shard and cross-shard pairs.
const [A0, A1] = keysOnShard(0, SHARDS, 2, 'ka:')
const [B0] = keysOnShard(1, SHARDS, 1, 'kb:')

it('test keys land where the test expects', () => {
  expect([shardOfKey(A0, SHARDS), shardOfKey(A1, SHARDS), shardOfKey(B0, SHARDS)]).toEqual([0, 0, 1])
})

/** The elements of a flat array reply of bulks (RESP2 or RESP3), sorted: for KEYS. */
function sortedElements (reply: string): string {
  if (!reply.startsWith('*')) return reply
  const elems: string[] = []
  let p = reply.indexOf('\r\n') + 2
  while (p < reply.length) {
    const nl = reply.indexOf('\r\n', p)
    const n = Number(reply.slice(p + 1, nl))
    elems.push(reply.slice(nl + 2, nl + 2 + n))
    p = nl + 2 + n + 2
  }
  return `${elems.length}:${JSON.stringify(elems.sort())}`
}

/** A whole SCAN iteration on one client; returns every key seen (with repeats) and the calls. */
async function scanAll (c: RawClient, ...opts: string[]): Promise<{ keys: string[], calls: number }> {
  const keys: string[] = []
  let cursor = '0'
  let calls = 0
  do {
    const [next, page] = parseScan(await c.command('SCAN', cursor, ...opts))
    keys.push(...page)
    cursor = next
    calls++
    if (calls > 100_000) throw new Error('SCAN does not end')
  } while (cursor !== '0')
  return { keys, calls }
}

async function sameScan (...opts: string[]): Promise<string[]> {
  const [a, b] = await Promise.all([scanAll(pair.f, ...opts), scanAll(pair.r, ...opts)])
  const fk = [...new Set(a.keys)].sort()
  const rk = [...new Set(b.keys)].sort()
  expect(fk, `SCAN ${opts.join(' ')}`).toEqual(rk)
  return rk
}

async function both (...args: Arg[]): Promise<[string, string]> {
  const [a, b] = await Promise.all([pair.f.command(...args), pair.r.command(...args)])
  return [text(a), text(b)]
}

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

describe('DEL, UNLINK, EXISTS, TOUCH', () => {
  it('count keys across shards, repeats and missing keys included', async () => {
    for (const del of ['DEL', 'UNLINK']) {
      await sequence([
        ['MSET', A0, '1', A1, '2', B0, '3', 'x', '4'], ['RPUSH', 'l', 'a'],
        ['EXISTS', A0, A1, B0, 'x', 'l', 'nope'], ['EXISTS', A0, A0, A0], ['TOUCH', A0, A0, B0, 'nope', 'l'],
        ['TOUCH', 'nope'], [del, A0, A0], [del, A1, B0, 'nope', 'l', B0], ['EXISTS', A0, A1, B0, 'l'], ['DBSIZE'],
        [del, 'x'], [del, 'x'], [del.toLowerCase(), 'nope'], ['DBSIZE'],
      ])
    }
  })

  it('expired keys count as missing', async () => {
    await sequence([['SET', 'k', 'v', 'PX', '1'], ['SET', 'j', 'v']])
    await new Promise(resolve => setTimeout(resolve, 10))
    await sequence([['EXISTS', 'k', 'j'], ['TOUCH', 'k', 'j'], ['DEL', 'k', 'j'], ['UNLINK', 'k'], ['DBSIZE']])
  })

  it('arity', async () => {
    await sequence([['DEL'], ['UNLINK'], ['EXISTS'], ['TOUCH'], ['touch'], ['unlink']])
  })
})

describe('TYPE, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST', () => {
  it('types and missing keys', async () => {
    await sequence([
      ['TYPE', 'nope'], ['SET', 's', 'v'], ['TYPE', 's'], ['RPUSH', 'l', 'a'], ['TYPE', 'l'], ['type', 'l'],
      ['TYPE'], ['TYPE', 'a', 'b'],
    ])
  })

  it('absolute expire times are exact; missing keys -2, no TTL -1', async () => {
    const atMs = String(Date.now() + 10_000_000)
    const atS = String(Math.floor(Date.now() / 1000) + 20_000)
    await sequence([
      ['EXPIRETIME', 'nope'], ['PEXPIRETIME', 'nope'], ['SET', 'k', 'v'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', atMs], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k'], ['TTL', 'k'],
      ['EXPIREAT', 'k', atS], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', '4503599627370495'], ['PEXPIRETIME', 'k'], ['EXPIRETIME', 'k'],
      ['PERSIST', 'k'], ['PERSIST', 'k'], ['PERSIST', 'nope'], ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'],
      ['RPUSH', 'l', 'a'], ['PEXPIREAT', 'l', atMs], ['PEXPIRETIME', 'l'], ['PERSIST', 'l'], ['PTTL', 'l'],
      ['EXPIRETIME'], ['PEXPIRETIME', 'a', 'b'], ['PERSIST'],
    ])
  })

  it('EXPIREAT and PEXPIREAT with NX, XX, GT, LT and times in the past', async () => {
    const base = Math.floor(Date.now() / 1000) + 10_000
    for (const cmd of ['EXPIREAT', 'PEXPIREAT']) {
      const t = (s: number): string => String(cmd === 'EXPIREAT' ? base + s : (base + s) * 1000)
      await sequence([
        ['SET', 'k', 'v'], [cmd, 'k', t(100), 'XX'], ['EXPIRETIME', 'k'], [cmd, 'k', t(100), 'GT'],
        [cmd, 'k', t(100), 'NX'], ['EXPIRETIME', 'k'], [cmd, 'k', t(200), 'NX'], [cmd, 'k', t(50), 'GT'],
        [cmd, 'k', t(300), 'gt'], ['EXPIRETIME', 'k'], [cmd, 'k', t(400), 'LT'], [cmd, 'k', t(10), 'lt'], ['EXPIRETIME', 'k'],
        [cmd, 'k', t(20), 'XX', 'GT'], ['EXPIRETIME', 'k'], [cmd, 'k', t(20), 'NX', 'XX'], [cmd, 'k', t(20), 'GT', 'LT'],
        [cmd, 'k', t(20), 'FOO'], [cmd, 'k', 'abc'], [cmd, 'k', '1.5'],
        [cmd, 'k', '1'], ['EXISTS', 'k'], ['SET', 'k', 'v'], [cmd, 'k', '-5'], ['EXISTS', 'k'],
        ['SET', 'k', 'v'], [cmd, 'k', '0', 'GT'], ['EXISTS', 'k'], [cmd, 'k', '0', 'LT'], ['EXISTS', 'k'],
        [cmd, 'nope', t(1)], [cmd, 'k'], [cmd],
      ])
    }
  })

  it('TTL and PTTL after the EXPIRE family (rounded TTLs compared by sign)', async () => {
    await sequence([['SET', 'k', 'v'], ['EXPIRE', 'k', '100'], ['PEXPIRE', 'k', '100000000'], ['PERSIST', 'k'], ['TTL', 'k'], ['PTTL', 'k']])
    await same('EXPIRE', 'k', '1000')
    await sameNormalized(ttlSign, 'TTL', 'k')
  })
})

describe('RENAME and RENAMENX', () => {
  const pairs: Array<[string, string, string]> = [['same shard', A0, A1], ['across shards', A0, B0], ['across shards, back', B0, A1]]
  for (const [label, src, dst] of pairs) {
    it(`strings and lists, TTLs, overwrite and NX (${label})`, async () => {
      await sequence([
        ['RENAME', src, dst], ['RENAMENX', src, dst],
        ['SET', src, 'v1'], ['RENAME', src, dst], ['GET', src], ['GET', dst], ['TTL', dst],
        ['SET', src, 'v2', 'EX', '1000'], ['RENAME', src, dst], ['TTL', dst], ['GET', dst], ['EXISTS', src],
        ['RPUSH', src, 'a', 'b', 'c'], ['RENAMENX', src, dst], ['RENAME', src, dst], ['LRANGE', dst, '0', '-1'],
        ['TYPE', dst], ['EXISTS', src], ['OBJECT', 'ENCODING', dst],
        ['SET', src, 'over'], ['RENAME', src, dst], ['TYPE', dst], ['GET', dst],
        ['SET', src, 'nx'], ['RENAMENX', src, dst], ['DEL', dst], ['RENAMENX', src, dst], ['GET', dst],
        ['RENAME', dst, dst], ['RENAMENX', dst, dst], ['GET', dst],
        ['SET', src, 'abc'], ['APPEND', src, 'def'], ['RENAME', src, dst], ['OBJECT', 'ENCODING', dst],
        ['SET', src, '123'], ['RENAME', src, dst], ['OBJECT', 'ENCODING', dst], ['DBSIZE'],
      ])
    })
  }

  it('an expired source is missing; arity', async () => {
    await sequence([['SET', A0, 'v', 'PX', '1'], ['SET', B0, 'w', 'PX', '1']])
    await new Promise(resolve => setTimeout(resolve, 10))
    await sequence([['RENAME', A0, A1], ['RENAMENX', B0, A1], ['EXISTS', A1], ['RENAME'], ['RENAME', 'a'], ['RENAMENX', 'a', 'b', 'c']])
  })
})

describe('COPY', () => {
  const pairs: Array<[string, string, string]> = [['same shard', A0, A1], ['across shards', A0, B0]]
  for (const [label, src, dst] of pairs) {
    it(`strings and lists, REPLACE, DB, TTLs (${label})`, async () => {
      await sequence([
        ['COPY', src, dst], ['SET', src, 'v', 'EX', '1000'], ['COPY', src, dst], ['GET', dst], ['TTL', dst], ['GET', src],
        ['SET', src, 'w'], ['COPY', src, dst], ['GET', dst], ['COPY', src, dst, 'REPLACE'], ['GET', dst], ['TTL', dst],
        ['RPUSH', `${src}:l`, 'x'], ['DEL', src], ['RPUSH', src, 'a', '', 'c'], ['COPY', src, dst, 'replace'], ['LRANGE', dst, '0', '-1'],
        ['RPUSH', dst, 'd'], ['LRANGE', src, '0', '-1'], ['LRANGE', dst, '0', '-1'], ['TYPE', dst],
        ['COPY', src, dst, 'DB', '3'], ['COPY', src, src, 'DB', '3'], ['SELECT', '3'], ['LRANGE', dst, '0', '-1'], ['LRANGE', src, '0', '-1'],
        ['DBSIZE'], ['COPY', src, dst, 'DB', '0'], ['SET', dst, 'in3'], ['COPY', dst, src, 'DB', '0', 'REPLACE'], ['SELECT', '0'],
        ['GET', src], ['TYPE', dst], ['DBSIZE'],
        ['SET', src, 'abc'], ['APPEND', src, 'def'], ['COPY', src, dst, 'REPLACE'], ['OBJECT', 'ENCODING', dst],
        ['SET', src, '12'], ['COPY', src, dst, 'REPLACE'], ['OBJECT', 'ENCODING', dst],
        ['SET', src, 'x'.repeat(50)], ['COPY', src, dst, 'REPLACE', 'DB', '15'], ['SELECT', '15'], ['GET', dst], ['OBJECT', 'ENCODING', dst],
      ])
    })
  }

  it('errors in Redis order: options first (in argument order), then same object, then the keys', async () => {
    await sequence([
      ['SET', A0, 'v'], ['COPY', A0, A0], ['COPY', A0, A0, 'DB', '0'], ['COPY', A0, A0, 'DB', '1'], ['SELECT', '1'], ['EXISTS', A0], ['SELECT', '0'],
      ['COPY', 'nope', A0], ['COPY', 'nope', 'nope'], ['COPY', A0, B0, 'DB'], ['COPY', A0, B0, 'FOO'], ['COPY', A0, B0, 'DB', 'x'],
      ['COPY', A0, B0, 'DB', '16'], ['COPY', A0, B0, 'DB', '-1'], ['COPY', A0, B0, 'DB', '99999999999'],
      ['COPY', A0, B0, 'DB', '16', 'FOO'], ['COPY', A0, B0, 'FOO', 'DB', '16'], ['COPY', A0, B0, 'DB', '1.5'],
      ['COPY', A0, A1, 'REPLACE', 'REPLACE', 'DB', '1', 'DB', '2'], ['SELECT', '2'], ['GET', A1], ['SELECT', '1'], ['GET', A1],
      ['COPY', 'nope', B0, 'DB', '16'], ['COPY', A0, A0, 'FOO'], ['COPY'], ['COPY', 'a'],
    ])
  })

  it('an expired source copies nothing; an expired destination is replaced', async () => {
    await sequence([['SET', A0, 'v', 'PX', '1'], ['SET', B0, 'old', 'PX', '1'], ['SET', A1, 'live']])
    await new Promise(resolve => setTimeout(resolve, 10))
    await sequence([['COPY', A0, B0], ['COPY', A1, B0], ['GET', B0], ['TTL', B0], ['COPY', A1, A0], ['GET', A0], ['DBSIZE']])
  })
})

describe('MOVE', () => {
  it('moves strings and lists with their TTL; refuses an existing destination', async () => {
    await sequence([
      ['MOVE', 'k', '1'], ['SET', 'k', 'v', 'EX', '1000'], ['MOVE', 'k', '1'], ['EXISTS', 'k'], ['SELECT', '1'], ['GET', 'k'], ['TTL', 'k'],
      ['SET', 'j', 'in1'], ['SELECT', '0'], ['SET', 'j', 'in0'], ['MOVE', 'j', '1'], ['GET', 'j'], ['SELECT', '1'], ['GET', 'j'],
      ['RPUSH', 'l', 'a', 'b'], ['MOVE', 'l', '15'], ['SELECT', '15'], ['LRANGE', 'l', '0', '-1'], ['TYPE', 'l'], ['DBSIZE'],
      ['SET', 'r', 'abc'], ['APPEND', 'r', 'd'], ['MOVE', 'r', '0'], ['SELECT', '0'], ['OBJECT', 'ENCODING', 'r'], ['DBSIZE'],
    ])
  })

  it('errors: same database, out of range, not an integer, arity', async () => {
    await sequence([
      ['SET', 'k', 'v'], ['MOVE', 'k', '0'], ['MOVE', 'nope', '0'], ['MOVE', 'k', '16'], ['MOVE', 'k', '-1'], ['MOVE', 'k', 'x'],
      ['MOVE', 'k', '99999999999'], ['MOVE', 'k', '2147483648'], ['MOVE', 'k', ''], ['MOVE', 'k', '1.0'], ['MOVE', 'nope', '16'],
      ['SELECT', '5'], ['MOVE', 'k', '5'], ['MOVE', 'k', '0'], ['MOVE'], ['MOVE', 'k'], ['MOVE', 'k', '1', '2'],
    ])
  })

  it('an expired key does not move; an expired key in the destination does not block', async () => {
    await sequence([['SET', 'k', 'v', 'PX', '1'], ['SELECT', '1'], ['SET', 'j', 'old', 'PX', '1'], ['SELECT', '0'], ['SET', 'j', 'new']])
    await new Promise(resolve => setTimeout(resolve, 10))
    await sequence([['MOVE', 'k', '1'], ['MOVE', 'j', '1'], ['SELECT', '1'], ['GET', 'j'], ['DBSIZE']])
  })
})

describe('SWAPDB, SELECT, FLUSHDB, DBSIZE, INFO keyspace over 16 databases', () => {
  const keys = Array.from({ length: 24 }, (_, i) => `sw:${i}`) // spread over all four shards

  it('every database holds its own keys; DBSIZE, FLUSHDB and INFO keyspace per database', async () => {
    const cmds: Arg[][] = []
    for (let db = 0; db < 16; db++) {
      cmds.push(['SELECT', String(db)])
      for (let i = 0; i <= db; i++) cmds.push(['SET', keys[i], `db${db}`])
      if (db % 3 === 0) cmds.push(['RPUSH', `list:${db}`, 'x'])
    }
    for (let db = 15; db >= 0; db--) cmds.push(['SELECT', String(db)], ['DBSIZE'], ['GET', keys[0]], ['MGET', ...keys.slice(0, 4)])
    cmds.push(['SELECT', '7'], ['FLUSHDB'], ['DBSIZE'], ['SELECT', '8'], ['DBSIZE'], ['INFO', 'keyspace'])
    await sequence(cmds)
    expect(await both('INFO', 'keyspace').then(([a]) => a)).toContain('db15:keys=17,expires=0')
    await sequence([['SELECT', '16'], ['SELECT', '-1'], ['SELECT', 'x'], ['DBSIZE']])
  })

  it('SWAPDB swaps whole databases on every shard', async () => {
    const cmds: Arg[][] = [['SELECT', '1']]
    for (const k of keys) cmds.push(['SET', k, 'one'])
    cmds.push(['RPUSH', 'l', 'in1'], ['SELECT', '2'], ['SET', keys[3], 'two'], ['SELECT', '0'], ['SWAPDB', '1', '2'])
    cmds.push(['SELECT', '1'], ['DBSIZE'], ['MGET', ...keys], ['SELECT', '2'], ['DBSIZE'], ['MGET', ...keys], ['LRANGE', 'l', '0', '-1'])
    cmds.push(['SWAPDB', '2', '2'], ['DBSIZE'], ['SWAPDB', '2', '9'], ['DBSIZE'], ['SELECT', '9'], ['DBSIZE'], ['MGET', ...keys])
    cmds.push(['SWAPDB', '9', '0'], ['DBSIZE'], ['SELECT', '0'], ['DBSIZE'], ['MGET', keys[0], keys[23]], ['INFO', 'keyspace'])
    await sequence(cmds)
  })

  it('the selected database follows SWAPDB for a client that does not SELECT again', async () => {
    await sequence([['SELECT', '4'], ['SET', 'k', 'four'], ['SWAPDB', '4', '5'], ['GET', 'k'], ['SELECT', '5'], ['GET', 'k']])
  })

  it('SWAPDB errors', async () => {
    await sequence([
      ['SWAPDB', '0', '16'], ['SWAPDB', '16', '0'], ['SWAPDB', '-1', '0'], ['SWAPDB', 'x', '0'], ['SWAPDB', '0', 'x'],
      ['SWAPDB', 'x', 'y'], ['SWAPDB', '99999999999', '0'], ['SWAPDB', '0', '99999999999'], ['SWAPDB', '16', 'x'],
      ['SWAPDB', '', '1'], ['SWAPDB', '1.5', '1'], ['SWAPDB'], ['SWAPDB', '0'], ['SWAPDB', '0', '1', '2'],
    ])
  })
})

describe('KEYS', () => {
  it('glob patterns over keys on every shard; expired keys are left out', async () => {
    const cmds: Arg[][] = []
    for (let i = 0; i < 60; i++) cmds.push(['SET', `user:${i}`, 'v'])
    cmds.push(['SET', 'a*b', '1'], ['SET', 'a\\b', '1'], ['SET', Buffer.from([0, 255, 13, 10]), 'bin'], ['RPUSH', 'user:list', 'x'],
      ['SET', 'gone', 'v', 'PX', '1'], ['SET', '', 'empty key'])
    await sequence(cmds)
    await new Promise(resolve => setTimeout(resolve, 10))
    for (const p of ['*', 'user:*', 'user:?', 'user:[1-3]*', 'user:[^1]?', 'a\\*b', 'a*', 'a\\\\b', '*list', 'nomatch*', '', 'gone', 'g*',
      '[', 'user:[9-7]', '*\x00*', 'USER:*']) {
      await sameNormalized(sortedElements, 'KEYS', p)
    }
    await sequence([['KEYS'], ['KEYS', 'a', 'b']])
  })

  it('only the selected database', async () => {
    await sequence([['SET', 'x', '0'], ['SELECT', '2'], ['SET', 'y', '2']])
    await sameNormalized(sortedElements, 'KEYS', '*')
    await same('SELECT', '0')
    await sameNormalized(sortedElements, 'KEYS', '*')
  })

  it('RESP3', async () => {
    await hello3()
    await sequence([['SET', 'a', '1'], ['KEYS', 'a'], ['KEYS', 'none']])
  })
})

describe('SCAN', () => {
  async function fill (n: number, prefix = 'key:'): Promise<void> {
    const cmds: Arg[][] = []
    for (let i = 0; i < n; i += 50) {
      const mset: Arg[] = ['MSET']
      for (let j = i; j < Math.min(n, i + 50); j++) mset.push(`${prefix}${j}`, String(j))
      cmds.push(mset)
    }
    await pipeline(cmds)
  }

  it('a whole iteration returns every key, with and without COUNT, MATCH and TYPE', async () => {
    await fill(1000)
    await sequence([['RPUSH', 'key:list', 'a'], ['RPUSH', 'other:list', 'b'], ['SET', 'other', 'v']])
    expect(await sameScan()).toHaveLength(1003)
    await sameScan('COUNT', '1')
    await sameScan('COUNT', '1000')
    await sameScan('MATCH', 'key:1*')
    await sameScan('match', '*list', 'count', '7')
    await sameScan('TYPE', 'list')
    await sameScan('TYPE', 'LIST', 'MATCH', 'other*')
    await sameScan('TYPE', 'string', 'MATCH', 'key:99*')
    await sameScan('TYPE', 'hash')
    await sameScan('MATCH', '*', 'COUNT', '3', 'MATCH', 'key:5?')
  })

  it('an empty database iterates to 0; only the selected database is walked', async () => {
    expect(await sameScan()).toEqual([])
    await sequence([['SELECT', '3'], ['SET', 'in3', 'v']])
    expect(await sameScan()).toEqual(['in3'])
    await same('SELECT', '0')
    expect(await sameScan()).toEqual([])
  })

  it('expired keys are not returned', async () => {
    await fill(100)
    await pipeline(Array.from({ length: 50 }, (_, i) => ['SET', `tmp:${i}`, 'v', 'PX', '1']))
    await new Promise(resolve => setTimeout(resolve, 10))
    expect(await sameScan('COUNT', '20')).toHaveLength(100)
    expect(await sameScan('TYPE', 'string')).toHaveLength(100)
    await same('DBSIZE')
  })

  it('errors: cursor first, then options in order', async () => {
    await sequence([
      ['SCAN', 'x'], ['SCAN', '-'], ['SCAN', ' 1'], ['SCAN', '1 '], ['SCAN', '1.0'], ['SCAN', '18446744073709551616'],
      ['SCAN', 'x', 'COUNT', '0'], ['SCAN', '0', 'COUNT', '0'], ['SCAN', '0', 'COUNT', '-1'], ['SCAN', '0', 'COUNT', 'x'],
      ['SCAN', '0', 'COUNT'], ['SCAN', '0', 'MATCH'], ['SCAN', '0', 'TYPE'], ['SCAN', '0', 'FOO', 'bar'], ['SCAN', '0', 'COUNT', '1', 'FOO'],
      ['SCAN', '0', 'COUNT', '99999999999999999999'], ['SCAN', '0', 'COUNT', '1.5'], ['SCAN'], ['scan'],
    ])
  })

  it('a single page on an empty database, and the replies of cursors Redis accepts', async () => {
    // Empty shards hand on to the next one within the same call, so an empty database answers
    // cursor 0 at once, byte for byte as Redis does.
    for (const cursor of ['0', '', '+0', '-0', '00']) await same('SCAN', cursor)
  })

  it('RESP3', async () => {
    await hello3()
    await fill(30)
    expect(await sameScan('COUNT', '4')).toHaveLength(30)
    await sequence([['SCAN', 'x'], ['SCAN', '0', 'COUNT', '0']])
  })
})

describe('RANDOMKEY', () => {
  it('null on an empty database, the key when there is one, one of the keys otherwise', async () => {
    await sequence([['RANDOMKEY'], ['SET', B0, 'v'], ['RANDOMKEY'], ['RANDOMKEY', 'x']])
    await pipeline(Array.from({ length: 40 }, (_, i) => ['SET', `r:${i}`, 'v']))
    const seen = new Set<string>()
    for (let n = 0; n < 200; n++) {
      const [a] = await both('RANDOMKEY')
      const m = /^\$\d+\r\n(.*)\r\n$/.exec(a)
      expect(m, a).not.toBeNull()
      seen.add((m as RegExpExecArray)[1])
    }
    for (const k of seen) expect(k === B0 || /^r:\d+$/.test(k), k).toBe(true)
    // 200 draws over 41 keys: every shard's keys show up.
    expect(new Set([...seen].map(k => shardOfKey(k, SHARDS))).size).toBe(SHARDS)
    expect(seen.size).toBeGreaterThan(25)
  })

  it('never returns an expired key; RESP3 null', async () => {
    await pipeline(Array.from({ length: 30 }, (_, i) => ['SET', `t:${i}`, 'v', 'PX', '1']))
    await new Promise(resolve => setTimeout(resolve, 10))
    await sequence([['RANDOMKEY'], ['SELECT', '9'], ['RANDOMKEY']])
    await hello3()
    await sequence([['RANDOMKEY']])
  })
})

describe('OBJECT', () => {
  it('ENCODING of strings (int, embstr, raw) and lists; missing keys', async () => {
    const values = ['0', '1', '-1', '123', '9999', '10000', '-9223372036854775808', '9223372036854775807',
      '9223372036854775808', '12345678901234567890', '01', '+1', '-0', '1.5', ' 1', '', 'a', 'x'.repeat(44),
      'x'.repeat(45), 'y'.repeat(1000), '1'.repeat(20), '1'.repeat(21)]
    const cmds: Arg[][] = [['OBJECT', 'ENCODING', 'nope']]
    for (const v of values) cmds.push(['SET', 'k', v], ['OBJECT', 'ENCODING', 'k'], ['OBJECT', 'REFCOUNT', 'k'])
    cmds.push(['MSET', 'm', '42', 'n', 'text'], ['OBJECT', 'ENCODING', 'm'], ['OBJECT', 'ENCODING', 'n'],
      ['SET', 'a', 'abc'], ['APPEND', 'a', 'd'], ['OBJECT', 'ENCODING', 'a'], ['SET', 'a', 'abc'], ['OBJECT', 'ENCODING', 'a'],
      ['SET', 'i', '5'], ['INCR', 'i'], ['OBJECT', 'ENCODING', 'i'], ['OBJECT', 'REFCOUNT', 'i'],
      ['RPUSH', 'l', 'a'], ['OBJECT', 'ENCODING', 'l'], ['OBJECT', 'REFCOUNT', 'l'], ['OBJECT', 'REFCOUNT', 'nope'],
      ['object', 'encoding', 'l'])
    // INCRBYFLOAT stores text Redis never int-encodes, even "3"; later edits follow the usual rules.
    cmds.push(['SET', 'f', '1.5'], ['INCRBYFLOAT', 'f', '1.5'], ['OBJECT', 'ENCODING', 'f'], ['OBJECT', 'REFCOUNT', 'f'],
      ['INCR', 'f'], ['OBJECT', 'ENCODING', 'f'], ['INCRBYFLOAT', 'f', '1'], ['APPEND', 'f', '0'], ['OBJECT', 'ENCODING', 'f'],
      ['INCRBYFLOAT', 'g', '2'], ['RENAME', 'g', '{x}g'], ['OBJECT', 'ENCODING', '{x}g'], ['COPY', '{x}g', 'h'], ['OBJECT', 'ENCODING', 'h'])
    await sequence(cmds)
  })

  it('RENAME, COPY and MOVE keep a small encoding that the limits, lowered since, would not give (same shard and across)', async () => {
    const limits = async (c: RawClient, zset: string, set: string, hash: string): Promise<void> => {
      await c.command('CONFIG', 'SET', 'zset-max-listpack-entries', zset)
      await c.command('CONFIG', 'SET', 'set-max-intset-entries', set)
      await c.command('CONFIG', 'SET', 'hash-max-listpack-entries', hash)
    }
    try {
      for (const dst of [A1, B0]) {
        await sequence([['ZADD', A0, '1', 'a', '2', 'b', '3', 'c'], ['SADD', `{${A0}}s`, '1', '2', '3'], ['HSET', `{${A0}}h`, 'a', '1', 'b', '2', 'c', '3']])
        await Promise.all([limits(pair.f, '1', '1', '1'), limits(pair.r, '1', '1', '1')])
        const cmds: Arg[][] = []
        for (const [src, to] of [[A0, dst], [`{${A0}}s`, `${dst}s`], [`{${A0}}h`, `${dst}h`]]) {
          cmds.push(['OBJECT', 'ENCODING', src], ['RENAME', src, to], ['OBJECT', 'ENCODING', to], ['COPY', to, src], ['OBJECT', 'ENCODING', src],
            ['MOVE', src, '1'], ['SELECT', '1'], ['OBJECT', 'ENCODING', src], ['DEL', src], ['SELECT', '0'], ['DEL', to])
        }
        await sequence(cmds)
        await Promise.all([limits(pair.f, '128', '512', '128'), limits(pair.r, '128', '512', '128')])
      }
    } finally {
      await Promise.all([limits(pair.f, '128', '512', '128'), limits(pair.r, '128', '512', '128')])
    }
  })

  it('REFCOUNT of a copied small integer: an object of its own until the value is written again', async () => {
    const cmds: Arg[][] = [['SET', A0, '10'], ['SET', B0, '20000']]
    for (const [src, dst] of [[A0, A1], [A0, B0], [B0, A1]]) {
      cmds.push(['COPY', src, dst, 'REPLACE'], ['OBJECT', 'REFCOUNT', dst], ['OBJECT', 'ENCODING', dst], ['COPY', src, dst, 'DB', '1', 'REPLACE'],
        ['SELECT', '1'], ['OBJECT', 'REFCOUNT', dst], ['MOVE', dst, '2'], ['SELECT', '2'], ['OBJECT', 'REFCOUNT', dst], ['RENAME', dst, `${dst}r`],
        ['OBJECT', 'REFCOUNT', `${dst}r`], ['INCR', `${dst}r`], ['OBJECT', 'REFCOUNT', `${dst}r`], ['FLUSHDB'], ['SELECT', '0'],
        ['COPY', src, dst, 'REPLACE'], ['APPEND', dst, '1'], ['OBJECT', 'REFCOUNT', dst], ['OBJECT', 'ENCODING', dst],
        ['COPY', src, dst, 'REPLACE'], ['SETRANGE', dst, '0', '1'], ['OBJECT', 'ENCODING', dst], ['COPY', src, dst, 'REPLACE'], ['SET', dst, '7'], ['OBJECT', 'REFCOUNT', dst])
    }
    await sequence(cmds)
  })

  it('FREQ, HELP, unknown subcommands, arity', async () => {
    await sequence([
      ['SET', 'k', 'v'], ['OBJECT', 'FREQ', 'k'], ['OBJECT', 'FREQ', 'nope'], ['OBJECT', 'HELP'], ['object', 'help'],
      ['OBJECT', 'HELP', 'x'], ['OBJECT'], ['OBJECT', 'ENCODING'], ['OBJECT', 'ENCODING', 'k', 'x'], ['OBJECT', 'FOO'],
      ['OBJECT', 'foo', 'k'], ['OBJECT', 'REFCOUNT'],
    ])
  })

  it('RESP3', async () => {
    await hello3()
    await sequence([['OBJECT', 'ENCODING', 'nope'], ['SET', 'k', '1'], ['OBJECT', 'ENCODING', 'k'], ['OBJECT', 'FREQ', 'nope'], ['OBJECT', 'HELP']])
  })
})

describe('random command sequences (fast-check)', () => {
  // Small key set: {t} keys share a shard, the others spread over the four. Databases 0-2 only,
  // so that SELECT, SWAPDB, MOVE and COPY ... DB keep meeting the same keys.
  const keys = ['k0', 'k1', 'k2', 'k3', '{t}a', '{t}b', A0, B0]
  const key = fc.constantFrom(...keys)
  const db = fc.constantFrom('0', '1', '2', '16', '-1', 'x')
  const value = fc.oneof(fc.constant(''), fc.constantFrom('1', '42', '-7', '10000', 'abc'), fc.string({ maxLength: 6 }),
    fc.uint8Array({ maxLength: 8 }).map(a => Buffer.from(a)), fc.constant('z'.repeat(50)))
  const command: fc.Arbitrary<Arg[]> = fc.oneof(
    fc.tuple(key, value).map(([k, v]) => ['SET', k, v]),
    fc.tuple(key, value).map(([k, v]) => ['SET', k, v, 'EX', '1000']),
    fc.tuple(key, value).map(([k, v]) => ['APPEND', k, v]),
    fc.tuple(key, fc.array(value, { minLength: 1, maxLength: 3 })).map(([k, vs]) => ['RPUSH', k, ...vs]),
    key.map(k => ['GET', k]),
    key.map(k => ['LRANGE', k, '0', '-1']),
    fc.tuple(fc.constantFrom('DEL', 'UNLINK', 'EXISTS', 'TOUCH'), fc.array(key, { minLength: 0, maxLength: 4 })).map(([c, ks]) => [c, ...ks]),
    fc.tuple(fc.constantFrom('RENAME', 'RENAMENX'), key, key).map(([c, a, b]) => [c, a, b]),
    fc.tuple(key, key, fc.constantFrom<Arg[]>([], ['REPLACE'], ['DB', '1'], ['DB', '2', 'REPLACE'], ['DB', '16'], ['DB'], ['FOO'], ['REPLACE', 'DB', 'x']))
      .map(([a, b, o]) => ['COPY', a, b, ...o]),
    fc.tuple(key, db).map(([k, d]) => ['MOVE', k, d]),
    fc.tuple(db, db).map(([a, b]) => ['SWAPDB', a, b]),
    db.map(d => ['SELECT', d]),
    key.map(k => ['TYPE', k]),
    key.map(k => ['OBJECT', 'ENCODING', k]),
    fc.tuple(fc.constantFrom('TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'PERSIST'), key).map(([c, k]) => [c, k]),
    fc.tuple(fc.constantFrom('EXPIRE', 'PEXPIRE'), key, fc.constantFrom('5000', '-1', 'abc', '99999999999999999999'), fc.constantFrom<Arg[]>([], ['NX'], ['XX'], ['GT'], ['LT'], ['NX', 'XX']))
      .map(([c, k, t, o]) => [c, k, c === 'PEXPIRE' && t === '5000' ? '5000000' : t, ...o]),
    fc.constantFrom<Arg[]>(['DBSIZE'], ['KEYS', '*'], ['KEYS', 'k?'], ['KEYS', '{t}*'], ['RANDOMKEY'], ['SCAN', 'x'], ['SCAN', '0', 'COUNT', '0'],
      ['RENAME', 'k0'], ['COPY', 'k0'], ['MOVE', 'k0'], ['SWAPDB', '0'], ['OBJECT', 'ENCODING'], ['TOUCH'], ['TYPE']),
  )

  // TTLs are positive numbers that differ by a millisecond or a second between the servers;
  // EXPIRETIME/PEXPIRETIME are absolute times read at different instants; KEYS has no order;
  // RANDOMKEY picks any key (compared as null or not).
  const normalize = (reply: string, cmd: readonly Arg[]): string => {
    const name = String(cmd[0])
    if (['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME'].includes(name)) return ttlSign(reply)
    if (name === 'KEYS') return sortedElements(reply)
    if (name === 'RANDOMKEY') return reply.startsWith('$-1') ? 'null' : 'key'
    return reply
  }

  it('replies match Redis byte for byte', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (cmds) => {
      await pipeline([['SELECT', '0'], ['FLUSHALL'], ...cmds], normalize)
      // The whole state of databases 0-2 must agree too.
      for (const d of ['0', '1', '2']) {
        await same('SELECT', d)
        await sameNormalized(sortedElements, 'KEYS', '*')
        for (const k of keys) await sameNormalized(ttlSign, 'TTL', k)
      }
    }), { numRuns: 100 })
  }, 120_000) // 100 runs of up to 30 commands and ~50 checks each: slow on a loaded 2-core box
})
