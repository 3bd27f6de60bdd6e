// Random sequences that mix every data type with the keyspace commands, against a real
// redis-server 7.0.15 and FlashKV (4 shards). The keys are spread over all shards, so RENAME,
// COPY, SMOVE, LMOVE and the STORE commands cross shards on the transaction engine, and the
// encoding thresholds are small, so values cross listpack/intset → hashtable/skiplist both ways
// (a conversion in one type must not disturb the next command on another). Replies that list a
// hashtable's contents (in each server's own order) compare as sorted multisets.
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })

/** Two keys on each shard. */
const K = [0, 1, 2, 3].flatMap(s => keysOnShard(s, SHARDS, 2, `mx${s}:`))

const SMALL: Array<[string, string]> = [
  ['hash-max-listpack-entries', '4'], ['hash-max-listpack-value', '6'], ['set-max-intset-entries', '4'],
  ['zset-max-listpack-entries', '4'], ['zset-max-listpack-value', '6'],
]
const DEFAULTS: Array<[string, string]> = [
  ['hash-max-listpack-entries', '128'], ['hash-max-listpack-value', '64'], ['set-max-intset-entries', '512'],
  ['zset-max-listpack-entries', '128'], ['zset-max-listpack-value', '64'],
]

async function configure (params: Array<[string, string]>): Promise<void> {
  for (const c of [pair.r, pair.f]) {
    for (const [k, v] of params) expect(text(await c.command('CONFIG', 'SET', k, v))).toBe('+OK\r\n')
  }
}

beforeEach(async () => { await configure(SMALL) })
afterEach(async () => { await configure(DEFAULTS) })

/** Every bulk string and integer of a reply, nested or not (nulls as "(nil)"). */
function scalars (reply: string): string[] {
  const out: string[] = []
  let p = 0
  while (p < reply.length) {
    const nl = reply.indexOf('\r\n', p)
    const t = reply[p]
    if (t === '$') {
      const n = Number(reply.slice(p + 1, nl))
      if (n < 0) { out.push('(nil)'); p = nl + 2; continue }
      out.push(reply.slice(nl + 2, nl + 2 + n))
      p = nl + 4 + n
    } else {
      if (t !== '*' && t !== '%' && t !== '~') out.push(reply.slice(p, nl))
      p = nl + 2
    }
  }
  return out
}

/** Pairs of a flat field/value reply, kept together. */
function pairs (items: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i + 1 < items.length; i += 2) out.push(`${items[i]}=${items[i + 1]}`)
  return out
}

const UNORDERED = new Set(['smembers', 'sinter', 'sunion', 'sdiff', 'hkeys', 'hvals', 'keys'])
function normalize (reply: string, cmd: readonly Arg[]): string {
  const name = String(cmd[0]).toLowerCase()
  if (reply[0] !== '*' && reply[0] !== '%' && reply[0] !== '~') return reply
  if (UNORDERED.has(name)) return `${reply.slice(0, reply.indexOf('\r\n'))} ${scalars(reply).sort().join(',')}`
  if (name === 'hgetall') return `${reply.slice(0, reply.indexOf('\r\n'))} ${pairs(scalars(reply)).sort().join(',')}`
  if (name === 'scan') {
    const items = scalars(reply)
    return `cursor ${items[0]} ${items.slice(1).sort().join(',')}`
  }
  return reply
}

describe('random sequences over every type', () => {
  it('strings, lists, hashes, sets and sorted sets with keyspace commands, across shards and encodings', async () => {
    const key = fc.constantFrom(...K)
    const small = fc.oneof(fc.integer({ min: -3, max: 9 }).map(String), fc.constantFrom('a', 'b', 'long-member', 'x'))
    const smalls = fc.array(small, { minLength: 1, maxLength: 5 })
    const score = fc.oneof(fc.integer({ min: -5, max: 5 }).map(String), fc.constantFrom('1.5', '-inf', '+inf'))
    const two = fc.tuple(key, key)
    const cmd: fc.Arbitrary<Arg[]> = fc.oneof(
      // strings
      fc.tuple(key, small).map(([k, v]) => ['SET', k, v]), key.map(k => ['GET', k]), fc.tuple(key, small).map(([k, v]) => ['APPEND', k, v]),
      key.map(k => ['INCR', k]), fc.tuple(key, fc.integer({ min: 0, max: 40 })).map(([k, o]) => ['SETBIT', k, String(o), '1']),
      key.map(k => ['STRLEN', k]),
      // lists
      fc.tuple(key, smalls).map(([k, v]) => ['RPUSH', k, ...v]), key.map(k => ['LPOP', k]), key.map(k => ['LRANGE', k, '0', '-1']),
      fc.tuple(key, key).map(([a, b]) => ['LMOVE', a, b, 'LEFT', 'RIGHT']),
      // hashes
      fc.tuple(key, small, small).map(([k, f, v]) => ['HSET', k, f, v]), fc.tuple(key, smalls).map(([k, f]) => ['HDEL', k, ...f]),
      key.map(k => ['HGETALL', k]), fc.tuple(key, small).map(([k, f]) => ['HINCRBY', k, f, '2']), key.map(k => ['HLEN', k]),
      // sets
      fc.tuple(key, smalls).map(([k, m]) => ['SADD', k, ...m]), fc.tuple(key, smalls).map(([k, m]) => ['SREM', k, ...m]),
      key.map(k => ['SMEMBERS', k]), fc.tuple(key, key, small).map(([a, b, m]) => ['SMOVE', a, b, m]),
      fc.tuple(key, key, key).map(([d, a, b]) => ['SINTERSTORE', d, a, b]), fc.tuple(key, key, key).map(([d, a, b]) => ['SUNIONSTORE', d, a, b]),
      // sorted sets
      fc.tuple(key, score, small).map(([k, s, m]) => ['ZADD', k, s, m]), fc.tuple(key, small).map(([k, m]) => ['ZREM', k, m]),
      key.map(k => ['ZRANGE', k, '0', '-1', 'WITHSCORES']), fc.tuple(key, small).map(([k, m]) => ['ZINCRBY', k, '1', m]),
      fc.tuple(key, small).map(([k, m]) => ['ZRANK', k, m]), key.map(k => ['ZPOPMIN', k]),
      fc.tuple(key, key, key).map(([d, a, b]) => ['ZUNIONSTORE', d, '2', a, b, 'AGGREGATE', 'MAX']),
      fc.tuple(key, key).map(([d, a]) => ['ZRANGESTORE', d, a, '0', '2']),
      // keyspace
      key.map(k => ['TYPE', k]), key.map(k => ['OBJECT', 'ENCODING', k]), key.map(k => ['DEL', k]), key.map(k => ['UNLINK', k]),
      two.map(([a, b]) => ['EXISTS', a, b]), two.map(([a, b]) => ['RENAME', a, b]), two.map(([a, b]) => ['RENAMENX', a, b]),
      two.map(([a, b]) => ['COPY', a, b]), two.map(([a, b]) => ['COPY', a, b, 'REPLACE']), key.map(k => ['MOVE', k, '1']),
      key.map(k => ['EXPIRE', k, '100']), key.map(k => ['PERSIST', k]), fc.constant(['DBSIZE']),
      fc.constantFrom('string', 'list', 'hash', 'set', 'zset').map(t => ['SCAN', '0', 'TYPE', t, 'COUNT', '1000']),
      key.map(k => ['SORT', k, 'ALPHA', 'LIMIT', '0', '3']),
    )
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 10, maxLength: 50 }), async (cmds) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      await pair.pipeline(cmds, normalize)
      // The end state, key by key: type, encoding and whole contents.
      const check: Arg[][] = []
      for (const k of K) {
        check.push(['TYPE', k], ['OBJECT', 'ENCODING', k], ['GET', k], ['LRANGE', k, '0', '-1'], ['HGETALL', k], ['SMEMBERS', k], ['ZRANGE', k, '0', '-1', 'WITHSCORES'])
      }
      check.push(['SELECT', '1'], ['DBSIZE'], ['SCAN', '0', 'COUNT', '1000'], ['SELECT', '0'])
      await pair.pipeline(check, normalize)
    }), { numRuns: 200 })
  })
})
