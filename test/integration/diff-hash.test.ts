// Differential tests for the hash commands (t_hash.c): the same bytes go to a real redis-server
// 7.0.15 and to FlashKV (4 shards), and the replies must be identical. Listpack-encoded hashes
// keep insertion order in both, so their replies compare byte for byte; hashtable order is each
// server's own, so replies that list a hashtable compare as sorted multisets. Random sequences
// (fast-check) mix every hash command with strings, wrong types and bad numbers while small
// thresholds push hashes across the listpack/hashtable switch.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sequence, pipeline, sameNormalized } = pair

const LLONG_MAX = '9223372036854775807'
const LLONG_MIN = '-9223372036854775808'

/** Elements of a flat RESP2/RESP3 array or map of bulk strings (and nulls). */
function elements (reply: string): string[] {
  const out: string[] = []
  let p = reply.indexOf('\r\n') + 2
  while (p < reply.length) {
    if (reply[p] === '$') {
      const nl = reply.indexOf('\r\n', p)
      const n = Number(reply.slice(p + 1, nl))
      if (n < 0) { out.push('(nil)'); p = nl + 2; continue }
      out.push(reply.slice(nl + 2, nl + 2 + n))
      p = nl + 4 + n
    } else {
      const nl = reply.indexOf('\r\n', p)
      out.push(reply.slice(p, nl))
      p = nl + 2
    }
  }
  return out
}

/** A reply that lists a hash, made order-free: HGETALL's pairs, or HKEYS/HVALS elements, sorted. */
function unordered (reply: string, cmd: readonly Arg[]): string {
  const name = String(cmd[0]).toLowerCase()
  if (reply[0] !== '*' && reply[0] !== '%') return reply
  const el = elements(reply)
  if (name === 'hgetall') {
    const pairs: string[] = []
    for (let i = 0; i < el.length; i += 2) pairs.push(`${el[i]}=${el[i + 1]}`)
    return reply.slice(0, reply.indexOf('\r\n')) + ' ' + pairs.sort().join(',')
  }
  if (name === 'hkeys' || name === 'hvals') return reply.slice(0, reply.indexOf('\r\n')) + ' ' + el.sort().join(',')
  return reply
}

/** CONFIG GET's pairs sorted: Redis lists a pattern's matches in its dictionary's order. */
function configPairs (reply: string): string {
  const el = elements(reply)
  const pairs: string[] = []
  for (let i = 0; i < el.length; i += 2) pairs.push(`${el[i]}=${el[i + 1]}`)
  return pairs.sort().join(',')
}

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

async function setBoth (...args: string[]): Promise<void> {
  await same('CONFIG', 'SET', ...args)
}

afterEach(async () => {
  await Promise.all([pair.r.command('CONFIG', 'SET', 'hash-max-listpack-entries', '512', 'hash-max-listpack-value', '64'),
    pair.f.command('CONFIG', 'SET', 'hash-max-listpack-entries', '512', 'hash-max-listpack-value', '64')].map(async p => {
    expect(text(await p)).toBe('+OK\r\n')
  }))
})

describe('HSET, HGET, HMGET, HMSET, HSETNX, HDEL, HLEN, HSTRLEN, HEXISTS, HKEYS, HVALS, HGETALL', () => {
  it('a small hash keeps insertion order: every read compares byte for byte', async () => {
    const bin = Buffer.from([0, 13, 10, 36, 42, 255])
    await sequence([
      ['HLEN', 'h'], ['HGETALL', 'h'], ['HKEYS', 'h'], ['HVALS', 'h'], ['HGET', 'h', 'a'], ['HMGET', 'h', 'a', 'b'],
      ['HSET', 'h', 'a', '1'], ['HSET', 'h', 'b', '2', 'c', '3', 'a', '10'], ['HSET', 'h', 'a', '1', 'a', '2'],
      ['HGETALL', 'h'], ['HKEYS', 'h'], ['HVALS', 'h'], ['HLEN', 'h'], ['HGET', 'h', 'a'], ['HGET', 'h', 'zz'],
      ['HMGET', 'h', 'c', 'nope', 'a', 'c'], ['HSTRLEN', 'h', 'a'], ['HSTRLEN', 'h', 'nope'], ['HSTRLEN', 'nokey', 'a'],
      ['HEXISTS', 'h', 'b'], ['HEXISTS', 'h', 'x'], ['HEXISTS', 'nokey', 'x'],
      ['HMSET', 'h', 'd', '4', 'e', ''], ['HGETALL', 'h'], ['HSETNX', 'h', 'd', 'no'], ['HSETNX', 'h', 'f', 'yes'],
      ['HSETNX', 'new', 'f', 'v'], ['HGETALL', 'new'], ['HSET', 'h', bin, bin], ['HGET', 'h', bin], ['HSET', 'h', '', 'empty'],
      ['HGETALL', 'h'], ['HDEL', 'h', 'a', 'a', 'zz', 'c'], ['HGETALL', 'h'], ['HDEL', 'nokey', 'a'],
      ['TYPE', 'h'], ['OBJECT', 'ENCODING', 'h'], ['HDEL', 'new', 'f'], ['EXISTS', 'new'],
      ['HSET', 'h', 'b', 'longer value now'], ['HSET', 'h', 'b', 'x'], ['HGETALL', 'h'],
    ])
  })

  it('arity, wrong types and their order', async () => {
    await sequence([
      ['SET', 's', 'v'], ['LPUSH', 'l', 'x'],
      ['HSET', 'h'], ['HSET', 'h', 'f'], ['HSET', 'h', 'f', 'v', 'g'], ['HMSET', 'h', 'f'], ['HMSET', 'h', 'f', 'v', 'g'],
      ['HSET', 's', 'f', 'v'], ['HSET', 's', 'f', 'v', 'g'], ['HMSET', 's', 'f', 'v'], ['HSETNX', 's', 'f', 'v'],
      ['HGET', 's', 'f'], ['HMGET', 's', 'f'], ['HMGET', 'l', 'f'], ['HDEL', 's', 'f'], ['HLEN', 's'], ['HSTRLEN', 's', 'f'],
      ['HEXISTS', 's', 'f'], ['HKEYS', 's'], ['HVALS', 'l'], ['HGETALL', 's'], ['HINCRBY', 's', 'f', '1'],
      ['HINCRBY', 's', 'f', 'x'], ['HINCRBYFLOAT', 's', 'f', '1'], ['HINCRBYFLOAT', 's', 'f', 'x'], ['HRANDFIELD', 's'],
      ['HRANDFIELD', 's', '1'], ['HSCAN', 's', '0'], ['HSCAN', 's', 'x'], ['HGET', 'h'], ['HSETNX', 'h', 'f'],
      ['HSTRLEN', 'h', 'a', 'b'], ['HKEYS'], ['HDEL', 'h'], ['HINCRBY', 'h', 'f'], ['EXISTS', 'h'],
      ['LPUSH', 'h2', 'x'], ['HSET', 'h2', 'a', 'b'], ['GET', 'h'],
    ])
  })

  it('a hash emptied by HDEL is deleted', async () => {
    await sequence([['HSET', 'h', 'a', '1', 'b', '2'], ['HDEL', 'h', 'a', 'b', 'c'], ['EXISTS', 'h'], ['HLEN', 'h'], ['TYPE', 'h']])
  })
})

describe('HINCRBY and HINCRBYFLOAT', () => {
  it('integers, overflow and the errors in Redis order', async () => {
    await sequence([
      ['HINCRBY', 'h', 'n', '5'], ['HINCRBY', 'h', 'n', '-7'], ['HGET', 'h', 'n'], ['HINCRBY', 'h', 'n', 'x'],
      ['HINCRBY', 'h', 'n', '1.5'], ['HINCRBY', 'h', 'n', ''], ['HINCRBY', 'h', 'n', LLONG_MAX], ['HINCRBY', 'h', 'n', '9223372036854775808'],
      ['HSET', 'h', 'm', LLONG_MAX], ['HINCRBY', 'h', 'm', '1'], ['HSET', 'h', 'm', LLONG_MIN], ['HINCRBY', 'h', 'm', '-1'],
      ['HINCRBY', 'h', 'm', '0'], ['HSET', 'h', 's', 'str'], ['HINCRBY', 'h', 's', '1'], ['HSET', 'h', 'sp', ' 1'],
      ['HINCRBY', 'h', 'sp', '1'], ['HSET', 'h', 'z', '007'], ['HINCRBY', 'h', 'z', '1'], ['HINCRBY', 'new', 'f', '3'],
      ['HGETALL', 'h'], ['HGETALL', 'new'],
    ])
  })

  it('floats: formatting, exponents, NaN and infinity', async () => {
    await sequence([
      ['HINCRBYFLOAT', 'h', 'f', '1.5'], ['HINCRBYFLOAT', 'h', 'f', '0.1'], ['HINCRBYFLOAT', 'h', 'f', '-1.6'],
      ['HINCRBYFLOAT', 'h', 'f', '5.0e3'], ['HINCRBYFLOAT', 'h', 'f', '1e400'], ['HINCRBYFLOAT', 'h', 'f', 'inf'],
      ['HINCRBYFLOAT', 'h', 'f', '-inf'], ['HINCRBYFLOAT', 'h', 'f', 'nan'], ['HINCRBYFLOAT', 'h', 'f', 'x'],
      ['HINCRBYFLOAT', 'h', 'f', ''], ['HSET', 'h', 's', 'str'], ['HINCRBYFLOAT', 'h', 's', '1'], ['HSET', 'h', 'i', 'inf'],
      ['HINCRBYFLOAT', 'h', 'i', '1'], ['HSET', 'h', 'n', '10'], ['HINCRBYFLOAT', 'h', 'n', '0.25'],
      ['HSET', 'h', 'big', '1.7976931348623157e308'], ['HINCRBYFLOAT', 'h', 'big', '1.7976931348623157e308'],
      ['HINCRBYFLOAT', 'h', 'e', '3.0000000000000001'], ['OBJECT', 'ENCODING', 'h'],
    ])
    // The sum of the two largest doubles fits a long double: 309 digits, so a hashtable now.
    await pipeline([['HGETALL', 'h'], ['OBJECT', 'ENCODING', 'h']], unordered)
  })
})

describe('encodings: listpack until a threshold, then hashtable', () => {
  it('OBJECT ENCODING follows hash-max-listpack-entries and -value, CONFIG SET included', async () => {
    await sequence([
      ['CONFIG', 'GET', 'hash-max-listpack-entries'], ['CONFIG', 'GET', 'hash-max-ziplist-value'],
      ['CONFIG', 'SET', 'hash-max-listpack-entries', '-1'], ['CONFIG', 'SET', 'hash-max-listpack-value', 'x'],
      ['CONFIG', 'SET', 'hash-max-listpack-value', '99999999999999999999'], ['CONFIG', 'SET', 'hash-max-listpack-entries', 'x'],
      ['HSET', 'v', 'f', 'x'.repeat(64)], ['OBJECT', 'ENCODING', 'v'], ['HSET', 'v', 'g', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'v'],
      ['HSET', 'k', 'f'.repeat(65), '1'], ['OBJECT', 'ENCODING', 'k'],
      ['HDEL', 'v', 'g'], ['OBJECT', 'ENCODING', 'v'],
    ])
    const fields: string[] = []
    for (let i = 0; i < 512; i++) fields.push(`f${i}`, `${i}`)
    await sequence([['HSET', 'n', ...fields], ['OBJECT', 'ENCODING', 'n'], ['HLEN', 'n'], ['HSET', 'n', 'one-more', '1'],
      ['OBJECT', 'ENCODING', 'n'], ['HLEN', 'n']])
    await setBoth('hash-max-listpack-entries', '2', 'hash-max-ziplist-value', '5')
    await sameNormalized(configPairs, 'CONFIG', 'GET', 'hash-max-*')
    await sequence([['HSET', 'small', 'a', '1', 'b', '2'], ['OBJECT', 'ENCODING', 'small'],
      ['HSET', 'small', 'c', '3'], ['OBJECT', 'ENCODING', 'small'], ['HSET', 'v2', 'a', '123456'], ['OBJECT', 'ENCODING', 'v2'],
      ['HINCRBYFLOAT', 'w', 'a', '1'], ['OBJECT', 'ENCODING', 'w'], ['HINCRBYFLOAT', 'w', 'a', '1.12345'], ['OBJECT', 'ENCODING', 'w'],
      ['HSETNX', 'x', 'f', '123456'], ['OBJECT', 'ENCODING', 'x']])
    // A listpack left over a lowered limit converts on the next HSET or HINCRBY of a field it has
    // (hashTypeSet checks the length after every set), not on HSETNX of one or HDEL.
    await setBoth('hash-max-listpack-entries', '128', 'hash-max-listpack-value', '64')
    await sequence([['HSET', 'o1', 'a', '1', 'b', '2', 'c', '3', 'd', '4'], ['HSET', 'o2', 'a', '1', 'b', '2', 'c', '3', 'd', '4'],
      ['HSET', 'o3', 'a', '1', 'b', '2', 'c', '3', 'd', '4'], ['HSET', 'o4', 'a', '1', 'b', '2', 'c', '3', 'd', '4']])
    await setBoth('hash-max-listpack-entries', '3', 'hash-max-listpack-value', '64')
    await sequence([['OBJECT', 'ENCODING', 'o1'], ['HSET', 'o1', 'a', '9'], ['OBJECT', 'ENCODING', 'o1'], ['HINCRBY', 'o2', 'a', '1'], ['OBJECT', 'ENCODING', 'o2'],
      ['HINCRBYFLOAT', 'o3', 'a', '1.5'], ['OBJECT', 'ENCODING', 'o3'], ['HSETNX', 'o4', 'a', '1'], ['HDEL', 'o4', 'd'], ['OBJECT', 'ENCODING', 'o4'],
      ['HMSET', 'o4', 'a', '2'], ['OBJECT', 'ENCODING', 'o4']])
  })

  it('a hashtable answers every read as Redis does, up to order', async () => {
    const fields: string[] = []
    for (let i = 0; i < 1000; i++) fields.push(`field:${i}`, `value:${i * 7}`)
    const cmds: Arg[][] = [['HSET', 'big', ...fields], ['HLEN', 'big'], ['HGETALL', 'big'], ['HKEYS', 'big'], ['HVALS', 'big'],
      ['HGET', 'big', 'field:999'], ['HMGET', 'big', 'field:1', 'nope', 'field:500'], ['HDEL', 'big', 'field:1', 'field:2', 'x'],
      ['HINCRBY', 'big', 'field:3', '5'], ['HINCRBYFLOAT', 'big', 'field:4', '0.5'], ['HSET', 'big', 'field:5', 'v'.repeat(300)],
      ['HSTRLEN', 'big', 'field:5'], ['HSET', 'big', 'field:5', 'short'], ['HGETALL', 'big'], ['OBJECT', 'ENCODING', 'big']]
    await pipeline(cmds, unordered)
    await hello3()
    await pipeline([['HGETALL', 'big'], ['HGETALL', 'nokey'], ['HKEYS', 'nokey']], unordered)
  })

  it('RESP3: HGETALL is a map; cross-shard RENAME, COPY and MOVE keep content and encoding', async () => {
    const [a] = keysOnShard(0, SHARDS, 1, 'ha:')
    const [b] = keysOnShard(3, SHARDS, 1, 'hb:')
    const [c] = keysOnShard(2, SHARDS, 1, 'hc:')
    const fields: string[] = []
    for (let i = 0; i < 600; i++) fields.push(`f${i}`, `${i}`)
    await hello3()
    await sequence([['HSET', a, 'x', '1', 'y', '2'], ['HGETALL', a], ['RENAME', a, b], ['HGETALL', b],
      ['OBJECT', 'ENCODING', b], ['COPY', b, c], ['HGETALL', c], ['COPY', b, c], ['COPY', b, c, 'REPLACE'], ['MOVE', c, '3'],
      ['SELECT', '3'], ['HGETALL', c], ['OBJECT', 'ENCODING', c], ['SELECT', '0'], ['TYPE', b], ['DEL', b]])
    await pipeline([['HSET', a, ...fields], ['RENAME', a, b], ['OBJECT', 'ENCODING', b], ['HGETALL', b], ['COPY', b, c],
      ['OBJECT', 'ENCODING', c], ['HLEN', c], ['HGETALL', c]], unordered)
  })
})

describe('HRANDFIELD', () => {
  it('argument errors and the replies that are not random', async () => {
    await sequence([
      ['HRANDFIELD', 'nokey'], ['HRANDFIELD', 'nokey', '5'], ['HRANDFIELD', 'nokey', '-5', 'WITHVALUES'],
      ['HSET', 'h', 'a', '1', 'b', '2', 'c', '3'], ['HRANDFIELD', 'h', '0'], ['HRANDFIELD', 'h', '0', 'WITHVALUES'],
      ['HRANDFIELD', 'h', '3'], ['HRANDFIELD', 'h', '30', 'WITHVALUES'], ['HRANDFIELD', 'h', 'x'], ['HRANDFIELD', 'h', '1.5'],
      ['HRANDFIELD', 'h', '1', 'WITHVALUE'], ['HRANDFIELD', 'h', '1', 'WITHVALUES', 'x'], ['HRANDFIELD', 'h', LLONG_MIN],
      ['HRANDFIELD', 'h', '-9223372036854775807', 'WITHVALUES'], ['HRANDFIELD', 'h', '4611686018427387904', 'withvalues'],
      ['HRANDFIELD', 'h', '4611686018427387903', 'WITHVALUES'], ['HRANDFIELD', 'h', '9223372036854775808'],
    ])
    await hello3()
    await sequence([['HRANDFIELD', 'h', '3', 'WITHVALUES'], ['HRANDFIELD', 'nokey'], ['HRANDFIELD', 'nokey', '3']])
  })

  it('random picks have the right shape: counts, members, distinct or not', async () => {
    const fields: string[] = []
    for (let i = 0; i < 40; i++) fields.push(`f${i}`, `v${i}`)
    for (const key of ['small', 'large']) {
      if (key === 'large') await setBoth('hash-max-listpack-entries', '8')
      await same('HSET', key, ...fields)
      const members = new Set(fields.filter((_v, i) => i % 2 === 0))
      for (const [count, withValues] of [[5, false], [-60, false], [39, true], [-7, true], [1, false]] as const) {
        const args: Arg[] = ['HRANDFIELD', key, String(count), ...(withValues ? ['WITHVALUES'] : [])]
        for (const client of [pair.r, pair.f]) {
          const el = elements(text(await client.command(...args)))
          const picked = withValues ? el.filter((_v, i) => i % 2 === 0) : el
          expect(picked.length, `${String(args)} count`).toBe(Math.abs(count))
          for (const f of picked) expect(members.has(f), `${f} is a field`).toBe(true)
          if (withValues) for (let i = 0; i < el.length; i += 2) expect(el[i + 1]).toBe(`v${el[i].slice(1)}`)
          if (count > 0) expect(new Set(picked).size, 'distinct').toBe(picked.length)
        }
      }
      const one = text(await pair.f.command('HRANDFIELD', key))
      expect(members.has(elements(`*1\r\n${one}`)[0])).toBe(true)
    }
  })
})

describe('HSCAN', () => {
  it('a listpack comes back whole, in order, whatever the cursor; errors as Redis', async () => {
    await sequence([
      ['HSCAN', 'nokey', '0'], ['HSCAN', 'nokey', '0', 'COUNT', '0'], ['HSET', 'h', 'a', '1', 'b', '2', 'ab', '3'],
      ['HSCAN', 'h', '0'], ['HSCAN', 'h', '7'], ['HSCAN', 'h', '0', 'MATCH', 'a*'], ['HSCAN', 'h', '0', 'match', '*b', 'COUNT', '1'],
      ['HSCAN', 'h', '0', 'COUNT', '0'], ['HSCAN', 'h', '0', 'COUNT', 'x'], ['HSCAN', 'h', '0', 'MATCH'], ['HSCAN', 'h', '0', 'NOVALUES'],
      ['HSCAN', 'h', 'x'], ['HSCAN', 'h', '-1'], ['HSCAN', 'h', '18446744073709551615'], ['HSCAN', 'h', '18446744073709551616'],
      ['HSCAN', 'h', ''], ['HSCAN', 'h', '+3'],
    ])
  })

  it('a hashtable is walked by cursor: every field comes back, with its value', async () => {
    const fields: string[] = []
    for (let i = 0; i < 700; i++) fields.push(`f${i}`, `v${i}`)
    await same('HSET', 'h', ...fields)
    for (const [client, name] of [[pair.r, 'redis'], [pair.f, 'flashkv']] as const) {
      const seen = new Map<string, string>()
      let cursor = '0'
      let calls = 0
      do {
        const reply = text(await client.command('HSCAN', 'h', cursor, 'COUNT', '50'))
        const parts = reply.split('\r\n')
        cursor = parts[2]
        const el = elements(reply.slice(reply.indexOf('*', 1)))
        for (let i = 0; i < el.length; i += 2) seen.set(el[i], el[i + 1])
        calls++
      } while (cursor !== '0' && calls < 1000)
      expect(cursor, `${name} finishes`).toBe('0')
      expect(seen.size, `${name} returns every field`).toBe(700)
      for (const [f, v] of seen) expect(v).toBe(`v${f.slice(1)}`)
    }
    await sameNormalized(r => r.split('\r\n').slice(0, 1).join(), 'HSCAN', 'h', '0', 'MATCH', 'f1*', 'COUNT', '5000')
  })
})

describe('random sequences', () => {
  it('hash commands mixed with strings and deletions, across the encoding switch', async () => {
    await setBoth('hash-max-listpack-entries', '4', 'hash-max-listpack-value', '8')
    const key = fc.constantFrom('h1', 'h2', 's')
    const field = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'long-field-name')
    const value = fc.oneof(fc.constantFrom('1', '-3', '2.5', 'x', '', '9223372036854775807', 'a-long-value-here'), fc.integer({ min: -100, max: 100 }).map(String))
    const cmd: fc.Arbitrary<Arg[]> = fc.oneof(
      fc.tuple(key, fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 4 })).map(([k, pv]) => ['HSET', k, ...pv.flat()]),
      fc.tuple(key, field, value).map(([k, f, v]) => ['HSETNX', k, f, v]),
      fc.tuple(key, field).map(([k, f]) => ['HGET', k, f]),
      fc.tuple(key, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, fs]) => ['HMGET', k, ...fs]),
      fc.tuple(key, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, fs]) => ['HDEL', k, ...fs]),
      fc.tuple(key, field, value).map(([k, f, v]) => ['HINCRBY', k, f, v]),
      fc.tuple(key, field, value).map(([k, f, v]) => ['HINCRBYFLOAT', k, f, v]),
      key.map(k => ['HLEN', k]), key.map(k => ['HGETALL', k]), key.map(k => ['HKEYS', k]), key.map(k => ['HVALS', k]),
      fc.tuple(key, field).map(([k, f]) => ['HSTRLEN', k, f]), fc.tuple(key, field).map(([k, f]) => ['HEXISTS', k, f]),
      key.map(k => ['OBJECT', 'ENCODING', k]), key.map(k => ['SET', k, 'str']), key.map(k => ['DEL', k]),
      fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]), fc.tuple(key, key).map(([a, b]) => ['COPY', a, b, 'REPLACE']),
    )
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 40 }), async (cmds) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      await pipeline(cmds, unordered)
    }), { numRuns: 60 })
  })
})
