// Differential tests for the set commands (t_set.c): the same bytes go to a real redis-server
// 7.0.15 and to FlashKV (4 shards). Intsets list their members in ascending order in both, so
// their replies compare byte for byte; a hashtable's order is each server's own, so replies
// listing one compare as sorted multisets. The multi-key commands run with their keys on one
// shard and spread over shards (the transaction engine). Random sequences (fast-check) cross
// the intset/hashtable switch with a small set-max-intset-entries.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sequence, pipeline } = pair

/** Four keys on four shards, and four sharing one shard through a {tag}. */
const X = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `sx${s}:`)[0])
const T = ['{t}a', '{t}b', '{t}c', '{t}d']

/** Elements of a flat array/set reply (bulks, nulls, integers). */
function elements (reply: string): string[] {
  const out: string[] = []
  let p = reply.indexOf('\r\n') + 2
  while (p < reply.length) {
    const nl = reply.indexOf('\r\n', p)
    if (reply[p] === '$') {
      const n = Number(reply.slice(p + 1, nl))
      if (n < 0) { out.push('(nil)'); p = nl + 2; continue }
      out.push(reply.slice(nl + 2, nl + 2 + n))
      p = nl + 4 + n
    } else {
      out.push(reply.slice(p, nl))
      p = nl + 2
    }
  }
  return out
}

const LISTING = new Set(['smembers', 'sinter', 'sunion', 'sdiff', 'spop', 'srandmember'])
/** A reply that lists members, sorted (hashtable order is each server's own). */
function unordered (reply: string, cmd: readonly Arg[]): string {
  if (!LISTING.has(String(cmd[0]).toLowerCase()) || (reply[0] !== '*' && reply[0] !== '~')) return reply
  return reply.slice(0, reply.indexOf('\r\n')) + ' ' + elements(reply).sort().join(',')
}

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

afterEach(async () => {
  for (const c of [pair.r, pair.f]) expect(text(await c.command('CONFIG', 'SET', 'set-max-intset-entries', '512'))).toBe('+OK\r\n')
})

describe('SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS', () => {
  it('intsets in ascending order, conversions to hashtable, errors in Redis order', async () => {
    await sequence([
      ['SADD', 'i', '5', '3', '-1', '10', '3'], ['SMEMBERS', 'i'], ['OBJECT', 'ENCODING', 'i'], ['SCARD', 'i'],
      ['SADD', 'i', '9223372036854775807', '-9223372036854775808', '0'], ['SMEMBERS', 'i'],
      ['SISMEMBER', 'i', '5'], ['SISMEMBER', 'i', '05'], ['SISMEMBER', 'i', 'x'], ['SISMEMBER', 'nokey', 'x'],
      ['SMISMEMBER', 'i', '5', 'x', '-1', '6'], ['SMISMEMBER', 'nokey', 'a'], ['SREM', 'i', '5', '5', '100', 'x'], ['SMEMBERS', 'i'],
      ['SADD', 'big', '01', '+1', '-0', '1', ' 1', '9223372036854775808'], ['OBJECT', 'ENCODING', 'big'], ['SCARD', 'big'],
      ['SADD', 'i', 'abc'], ['OBJECT', 'ENCODING', 'i'], ['SREM', 'i', 'abc'], ['OBJECT', 'ENCODING', 'i'],
      ['SET', 's', 'v'], ['SADD', 's', 'a'], ['SREM', 's', 'a'], ['SCARD', 's'], ['SISMEMBER', 's', 'a'], ['SMEMBERS', 's'],
      ['SMISMEMBER', 's', 'a'], ['SADD', 'x'], ['SREM', 'x'], ['SCARD'], ['SMISMEMBER', 'x'], ['SISMEMBER', 'x'],
      ['SREM', 'nokey', 'a'], ['SADD', 'e', 'a'], ['SREM', 'e', 'a'], ['EXISTS', 'e'], ['TYPE', 'i'],
    ])
    await pipeline([['SMEMBERS', 'i'], ['SMEMBERS', 'big']], unordered)
  })

  it('set-max-intset-entries, CONFIG GET and SET', async () => {
    await sequence([['CONFIG', 'GET', 'set-max-intset-entries'], ['CONFIG', 'SET', 'set-max-intset-entries', 'x'],
      ['CONFIG', 'SET', 'set-max-intset-entries', '-1'], ['CONFIG', 'SET', 'set-max-intset-entries', '3'],
      ['SADD', 'i', '1', '2', '3'], ['OBJECT', 'ENCODING', 'i'], ['SADD', 'i', '4'], ['OBJECT', 'ENCODING', 'i'],
      ['SADD', 'j', '1', '2', '3', '4'], ['OBJECT', 'ENCODING', 'j']])
    const many = Array.from({ length: 600 }, (_v, i) => String(i * 3))
    await same('CONFIG', 'SET', 'set-max-intset-entries', '512')
    await sequence([['SADD', 'n', ...many.slice(0, 512)], ['OBJECT', 'ENCODING', 'n'], ['SADD', 'n', ...many.slice(512)],
      ['OBJECT', 'ENCODING', 'n'], ['SCARD', 'n']])
    await pipeline([['SMEMBERS', 'n']], unordered)
  })

  it('RESP3: sets are ~ replies', async () => {
    await hello3()
    await sequence([['SADD', 'i', '3', '1', '2'], ['SMEMBERS', 'i'], ['SMEMBERS', 'nokey'], ['SINTER', 'i', 'i'], ['SINTER', 'nokey', 'i'],
      ['SPOP', 'i', '0'], ['SPOP', 'nokey', '2'], ['SRANDMEMBER', 'nokey', '2'], ['SRANDMEMBER', 'i', '5'], ['SPOP', 'i', '5'], ['EXISTS', 'i']])
  })
})

describe('SPOP, SRANDMEMBER, SSCAN', () => {
  it('the replies that are not random, and the argument errors', async () => {
    await sequence([
      ['SPOP', 'nokey'], ['SPOP', 'nokey', '3'], ['SRANDMEMBER', 'nokey'], ['SRANDMEMBER', 'nokey', '3'], ['SRANDMEMBER', 'nokey', '-3'],
      ['SADD', 'i', '1', '2', '3'], ['SPOP', 'i', '-1'], ['SPOP', 'i', 'x'], ['SPOP', 'i', '1', '2'], ['SRANDMEMBER', 'i', 'x'],
      ['SRANDMEMBER', 'i', '-9223372036854775808'], ['SRANDMEMBER', 'i', '1', '2'], ['SRANDMEMBER', 'i', '0'], ['SPOP', 'i', '0'],
      ['SRANDMEMBER', 'i', '3'], ['SRANDMEMBER', 'i', '30'], ['SPOP', 'i', '30'], ['EXISTS', 'i'], ['SET', 's', 'v'], ['SPOP', 's'],
      ['SRANDMEMBER', 's'], ['SSCAN', 's', '0'], ['SSCAN', 'nokey', '0', 'COUNT', '0'],
      ['SADD', 'j', '3', '1', '2', '10'], ['SSCAN', 'j', '0'], ['SSCAN', 'j', '9', 'MATCH', '1*'], ['SSCAN', 'j', '0', 'COUNT', '0'],
      ['SSCAN', 'j', 'x'], ['SSCAN', 'j', '0', 'NOVALUES'],
    ])
  })

  it('random picks: counts, members, distinct or not; SPOP removes what it returns', async () => {
    const members = Array.from({ length: 40 }, (_v, i) => `m${i}`)
    await same('SADD', 'h', ...members)
    const all = new Set(members)
    for (const count of [5, -60, 39, 1]) {
      for (const c of [pair.r, pair.f]) {
        const el = elements(text(await c.command('SRANDMEMBER', 'h', String(count))))
        expect(el.length).toBe(Math.abs(count))
        for (const m of el) expect(all.has(m)).toBe(true)
        if (count > 0) expect(new Set(el).size).toBe(el.length)
      }
    }
    for (const c of [pair.r, pair.f]) {
      const popped = elements(text(await c.command('SPOP', 'h', '15')))
      expect(new Set(popped).size).toBe(15)
      expect(text(await c.command('SCARD', 'h'))).toBe(':25\r\n')
      for (const m of popped) expect(text(await c.command('SISMEMBER', 'h', m))).toBe(':0\r\n')
      const one = elements(`*1\r\n${text(await c.command('SPOP', 'h'))}`)[0]
      expect(all.has(one)).toBe(true)
    }
  })

  it('a hashtable is walked by cursor: every member comes back', async () => {
    const members = Array.from({ length: 700 }, (_v, i) => `m${i}`)
    await same('SADD', 'h', ...members)
    for (const c of [pair.r, pair.f]) {
      const seen = new Set<string>()
      let cursor = '0'
      let calls = 0
      do {
        const reply = text(await c.command('SSCAN', 'h', cursor, 'COUNT', '40'))
        cursor = reply.split('\r\n')[2]
        for (const m of elements(reply.slice(reply.indexOf('*', 1)))) seen.add(m)
      } while (cursor !== '0' && ++calls < 1000)
      expect(seen.size).toBe(700)
    }
  })
})

describe('SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD, SMOVE: on one shard and across shards', () => {
  for (const [label, K] of [['one shard', T], ['four shards', X]] as const) {
    it(`intsets and strings, missing keys, wrong types (${label})`, async () => {
      const [a, b, c, d] = K
      await sequence([
        ['SADD', a, '1', '2', '3', '4'], ['SADD', b, '3', '4', '5'], ['SADD', c, '4', 'x', '3'],
        ['SINTER', a, b], ['SINTER', b, a], ['SUNION', a, b], ['SDIFF', a, b], ['SDIFF', b, a], ['SINTER', a, d], ['SUNION', d, a],
        ['SDIFF', d, a], ['SINTERCARD', '2', a, b], ['SINTERCARD', '2', a, b, 'LIMIT', '1'], ['SINTERCARD', '3', a, b, c],
        ['SINTERCARD', '1', d], ['SINTERCARD', '0', a], ['SINTERCARD', '3', a, b], ['SINTERCARD', '2', a, b, 'LIMIT', '-1'],
        ['SINTERCARD', '2', a, b, 'LIMIT'], ['SINTERCARD', '2', a, b, 'FOO', '1'], ['SINTERCARD', 'x', a],
        ['SINTERSTORE', d, a, b], ['SMEMBERS', d], ['OBJECT', 'ENCODING', d], ['SUNIONSTORE', d, a, b], ['SMEMBERS', d],
        ['SDIFFSTORE', d, a, b], ['SMEMBERS', d], ['SINTERSTORE', d, a, 'nokey'], ['EXISTS', d],
        ['SET', d, 'str'], ['SINTER', a, d], ['SUNION', d, a], ['SDIFF', a, d], ['SINTERCARD', '2', a, d], ['SINTERSTORE', c, a, d],
        ['SUNIONSTORE', d, a, b], ['TYPE', d], ['SMEMBERS', d],
        ['SMOVE', a, b, '1'], ['SMEMBERS', a], ['SMEMBERS', b], ['SMOVE', a, b, '99'], ['SMOVE', 'nokey', b, '1'],
        ['SMOVE', a, a, '2'], ['SMOVE', a, a, '99'], ['SET', 'str', 'v'], ['SMOVE', 'nokey', 'str', '1'],
        ['SMOVE', a, c, '2'], ['SMEMBERS', a], ['SMOVE', a, c, '3'], ['SMOVE', a, c, '4'], ['EXISTS', a], ['SMOVE', b, d, '5'],
      ])
      await pipeline([['SMEMBERS', c], ['SINTER', c, b], ['SUNION', a, b, c], ['SDIFF', c, b]], unordered)
    })
  }
})

describe('SINTER whose smallest set is a hashtable (probed by the hashes its nodes store)', () => {
  it('against hashtables (chains included), an intset and itself, on one shard', async () => {
    const big = Array.from({ length: 300 }, (_, i) => `m${i}`)
    await sequence([
      ['SADD', '{t}h1', 'x', 'y', '4', 'z', 'm7'], ['SADD', '{t}h2', ...big, 'x', 'z', '4'], ['SADD', '{t}h3', 'z', 'x', 'w', 'm7', '4'],
      ['SADD', '{t}i1', '4', '5', '6', '7', '8', '9'], ['SADD', '{t}e', 'only'],
    ])
    await pipeline([
      ['SINTER', '{t}h1', '{t}h2'], ['SINTER', '{t}h2', '{t}h1', '{t}h3'], ['SINTER', '{t}h1', '{t}i1'], ['SINTER', '{t}h1', '{t}h1'],
      ['SINTER', '{t}h1', '{t}h2', '{t}i1'], ['SINTER', '{t}e', '{t}h2'], ['SINTER', '{t}h3', '{t}h1', '{t}h2'],
    ], unordered)
  })
})

describe('a hashtable set stays one when copied or moved', () => {
  it('COPY, MOVE and RENAME (to a key on another shard) keep hashtable for an all-integer set, as Redis does', async () => {
    await sequence([
      ['SADD', X[0], 'x', '1', '2'], ['SREM', X[0], 'x'], ['OBJECT', 'ENCODING', X[0]], ['COPY', X[0], X[1]], ['OBJECT', 'ENCODING', X[1]],
      ['RENAME', X[0], X[2]], ['OBJECT', 'ENCODING', X[2]], ['MOVE', X[2], '1'], ['SELECT', '1'], ['OBJECT', 'ENCODING', X[2]],
      ['COPY', X[2], X[3], 'DB', '0'], ['SELECT', '0'], ['OBJECT', 'ENCODING', X[3]], ['SCARD', X[3]], ['SISMEMBER', X[3], '2'], ['SADD', X[3], '3'], ['OBJECT', 'ENCODING', X[3]],
    ])
  })
})

describe('random sequences', () => {
  it('set commands with strings and deletions across the intset switch, keys over all shards', async () => {
    await same('CONFIG', 'SET', 'set-max-intset-entries', '4')
    const key = fc.constantFrom(X[0], X[1], X[2], 'str')
    const member = fc.oneof(fc.integer({ min: -5, max: 8 }).map(String), fc.constantFrom('a', 'b', '', '007', '-0'))
    const members = fc.array(member, { minLength: 1, maxLength: 5 })
    const cmd: fc.Arbitrary<Arg[]> = fc.oneof(
      fc.tuple(key, members).map(([k, m]) => ['SADD', k, ...m]),
      fc.tuple(key, members).map(([k, m]) => ['SREM', k, ...m]),
      fc.tuple(key, member).map(([k, m]) => ['SISMEMBER', k, m]),
      fc.tuple(key, members).map(([k, m]) => ['SMISMEMBER', k, ...m]),
      key.map(k => ['SCARD', k]), key.map(k => ['SMEMBERS', k]), key.map(k => ['OBJECT', 'ENCODING', k]),
      fc.tuple(key, key).map(([a, b]) => ['SINTER', a, b]), fc.tuple(key, key, key).map(([a, b, c]) => ['SUNION', a, b, c]),
      fc.tuple(key, key).map(([a, b]) => ['SDIFF', a, b]), fc.tuple(key, key, key).map(([d, a, b]) => ['SINTERSTORE', d, a, b]),
      fc.tuple(key, key, key).map(([d, a, b]) => ['SUNIONSTORE', d, a, b]), fc.tuple(key, key, key).map(([d, a, b]) => ['SDIFFSTORE', d, a, b]),
      fc.tuple(key, key).map(([a, b]) => ['SINTERCARD', '2', a, b]), fc.tuple(key, key, member).map(([a, b, m]) => ['SMOVE', a, b, m]),
      key.map(k => ['SET', k, 'v']), key.map(k => ['DEL', k]), fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]),
    )
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 40 }), async (cmds) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      await pipeline(cmds, unordered)
    }), { numRuns: 60 })
  })
})
