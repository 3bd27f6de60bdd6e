// Random sequences that mix every data type (streams and their groups too) with the keyspace commands, against a real
// redis-server 7.0.15 and FlashKV (4 shards). The keys are spread over all shards, so RENAME,
// COPY, SMOVE, LMOVE and the STORE commands cross shards on the transaction engine, and the
// encoding thresholds are small, so values cross listpack/intset → hashtable/skiplist both ways
// (a conversion in one type must not disturb the next command on another). Replies that list a
// hashtable's contents (in each server's own order) compare as sorted multisets.
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { useDiffPair, text, ttlSign, type Arg } from './helpers/diff.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })

/** Two keys on each shard. */
const K = [0, 1, 2, 3].flatMap(s => keysOnShard(s, SHARDS, 2, `mx${s}:`))

const SMALL: Array<[string, string]> = [
  ['hash-max-listpack-entries', '4'], ['hash-max-listpack-value', '6'], ['set-max-intset-entries', '4'],
  ['zset-max-listpack-entries', '4'], ['zset-max-listpack-value', '6'], ['hll-sparse-max-bytes', '30'],
]
const DEFAULTS: Array<[string, string]> = [
  ['hash-max-listpack-entries', '128'], ['hash-max-listpack-value', '64'], ['set-max-intset-entries', '512'],
  ['zset-max-listpack-entries', '128'], ['zset-max-listpack-value', '64'], ['hll-sparse-max-bytes', '3000'],
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
  if (name === 'ttl' || name === 'pttl') return ttlSign(reply)
  if (reply[0] !== '*' && reply[0] !== '%' && reply[0] !== '~') return reply
  if (UNORDERED.has(name)) return `${reply.slice(0, reply.indexOf('\r\n'))} ${scalars(reply).sort().join(',')}`
  if (name === 'hgetall') return `${reply.slice(0, reply.indexOf('\r\n'))} ${pairs(scalars(reply)).sort().join(',')}`
  if (name === 'scan') {
    const items = scalars(reply)
    return `cursor ${items[0]} ${items.slice(1).sort().join(',')}`
  }
  return reply
}

// The arguments both properties draw from: keys on every shard, short members that cross the
// encoding thresholds, and scores.
const key = fc.constantFrom(...K)
const small = fc.oneof(fc.integer({ min: -3, max: 9 }).map(String), fc.constantFrom('a', 'b', 'long-member', 'x'))
const smalls = fc.array(small, { minLength: 1, maxLength: 5 })
const score = fc.oneof(fc.integer({ min: -5, max: 5 }).map(String), fc.constantFrom('1.5', '-inf', '+inf'))
const two = fc.tuple(key, key)

describe('random sequences over every type', () => {
  it('strings, lists, hashes, sets and sorted sets with keyspace commands, across shards and encodings', async () => {
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

describe('random sequences with MULTI blocks, databases and RESP3', () => {
  it('more commands of every type, inside and outside MULTI, with SELECT, SWAPDB and MOVE, in RESP2 or RESP3', async () => {
    const one: fc.Arbitrary<Arg[]> = fc.oneof(
      // strings and bitmaps
      fc.tuple(key, fc.integer({ min: 0, max: 12 }), small).map(([k, o, v]) => ['SETRANGE', k, String(o), v]),
      key.map(k => ['GETRANGE', k, '1', '-2']), key.map(k => ['GETDEL', k]), key.map(k => ['GETEX', k, 'PERSIST']),
      fc.tuple(two, small).map(([[a, b], v]) => ['MSET', a, v, b, v]), two.map(([a, b]) => ['MGET', a, b]),
      fc.tuple(key, small).map(([k, v]) => ['SETNX', k, v]), key.map(k => ['INCRBYFLOAT', k, '1.5']), key.map(k => ['DECRBY', k, '3']),
      key.map(k => ['BITCOUNT', k]), fc.tuple(key, key, key).map(([d, a, b]) => ['BITOP', 'AND', d, a, b]), key.map(k => ['BITPOS', k, '1']),
      // lists
      fc.tuple(key, small, small).map(([k, p, v]) => ['LINSERT', k, 'BEFORE', p, v]), fc.tuple(key, small).map(([k, v]) => ['LREM', k, '0', v]),
      fc.tuple(key, small).map(([k, v]) => ['LSET', k, '0', v]), key.map(k => ['LINDEX', k, '-1']), fc.tuple(key, small).map(([k, v]) => ['LPOS', k, v]),
      key.map(k => ['LTRIM', k, '0', '2']), two.map(([a, b]) => ['RPOPLPUSH', a, b]), two.map(([a, b]) => ['LMPOP', '2', a, b, 'RIGHT', 'COUNT', '2']),
      fc.tuple(key, smalls).map(([k, v]) => ['LPUSH', k, ...v]), key.map(k => ['LRANGE', k, '0', '-1']),
      // hashes
      fc.tuple(key, small, small).map(([k, f, v]) => ['HSETNX', k, f, v]), fc.tuple(key, small).map(([k, f]) => ['HINCRBYFLOAT', k, f, '0.5']),
      fc.tuple(key, small).map(([k, f]) => ['HSTRLEN', k, f]), fc.tuple(key, smalls).map(([k, f]) => ['HMGET', k, ...f]),
      fc.tuple(key, small).map(([k, f]) => ['HEXISTS', k, f]),
      fc.tuple(key, small, small).map(([k, f, v]) => ['HSET', k, f, v]),
      // sets
      fc.tuple(key, smalls).map(([k, m]) => ['SADD', k, ...m]), fc.tuple(key, smalls).map(([k, m]) => ['SMISMEMBER', k, ...m]), key.map(k => ['SCARD', k]),
      two.map(([a, b]) => ['SINTERCARD', '2', a, b, 'LIMIT', '2']), fc.tuple(key, key, key).map(([d, a, b]) => ['SDIFFSTORE', d, a, b]),
      // sorted sets
      fc.tuple(key, score, small).map(([k, sc, m]) => ['ZADD', k, sc, m]), fc.tuple(key, score, small).map(([k, sc, m]) => ['ZADD', k, 'GT', 'CH', sc, m]),
      key.map(k => ['ZREMRANGEBYSCORE', k, '-1', '2']), fc.tuple(key, key, key).map(([d, a, b]) => ['ZINTERSTORE', d, '2', a, b, 'WEIGHTS', '2', '3']),
      fc.tuple(key, key, key).map(([d, a, b]) => ['ZDIFFSTORE', d, '2', a, b]), two.map(([a, b]) => ['ZMPOP', '2', a, b, 'MAX', 'COUNT', '2']),
      key.map(k => ['ZRANGE', k, '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '1', '3', 'WITHSCORES']), key.map(k => ['ZCOUNT', k, '(0', '+inf']),
      fc.tuple(key, smalls).map(([k, m]) => ['ZMSCORE', k, ...m]), fc.tuple(key, small).map(([k, m]) => ['ZREVRANK', k, m]),
      two.map(([a, b]) => ['ZUNION', '2', a, b, 'WITHSCORES']), key.map(k => ['ZRANGE', k, '0', '-1', 'WITHSCORES']),
      // keyspace and databases
      fc.constantFrom('0', '1').map(d => ['SELECT', d]), fc.constant(['SWAPDB', '0', '1']), two.map(([a, b]) => ['COPY', a, b, 'DB', '1']),
      key.map(k => ['MOVE', k, '1']), two.map(([a, b]) => ['RENAME', a, b]), two.map(([a, b]) => ['DEL', a, b]), two.map(([a, b]) => ['TOUCH', a, b]),
      key.map(k => ['TYPE', k]), key.map(k => ['OBJECT', 'ENCODING', k]), key.map(k => ['PEXPIRE', k, '100000']), key.map(k => ['TTL', k]),
      key.map(k => ['PERSIST', k]), fc.constant(['DBSIZE']), key.map(k => ['SCAN', '0', 'MATCH', k, 'COUNT', '1000']),
      key.map(k => ['SORT', k, 'ALPHA', 'DESC', 'LIMIT', '0', '4']),
      // HyperLogLog: strings, sparse and dense (hll-sparse-max-bytes is small here)
      fc.tuple(key, smalls).map(([k, m]) => ['PFADD', k, ...m]), two.map(([a, b]) => ['PFCOUNT', a, b]), key.map(k => ['PFCOUNT', k]),
      fc.tuple(key, key, key).map(([d, a, b]) => ['PFMERGE', d, a, b]),
      // geo: sorted sets whose scores are geohashes (any score decodes)
      fc.tuple(key, fc.integer({ min: -179, max: 179 }), fc.integer({ min: -80, max: 80 }), small).map(([k, lon, lat, m]) => ['GEOADD', k, String(lon), String(lat), m]),
      fc.tuple(key, small, small).map(([k, a, b]) => ['GEOPOS', k, a, b]), fc.tuple(key, small, small).map(([k, a, b]) => ['GEODIST', k, a, b, 'km']),
      fc.tuple(key, small).map(([k, m]) => ['GEOHASH', k, m]),
      fc.tuple(key, key).map(([d, k]) => ['GEOSEARCHSTORE', d, k, 'FROMLONLAT', '0', '0', 'BYRADIUS', '20000', 'km', 'ASC', 'COUNT', '3']),
      fc.tuple(key, small).map(([k, m]) => ['GEOSEARCH', k, 'FROMMEMBER', m, 'BYBOX', '4000', '4000', 'km', 'ASC', 'WITHDIST']),
      // streams: explicit ids (a '*' id is each server's clock), trims, groups, reads and claims
      fc.tuple(key, fc.integer({ min: 1, max: 30 }), small).map(([k, n, v]) => ['XADD', k, `${n}-0`, 'f', v]),
      fc.tuple(key, fc.integer({ min: 1, max: 30 }), fc.constantFrom('=', '~'), fc.integer({ min: 0, max: 3 })).map(([k, n, op, len]) => ['XADD', k, 'MAXLEN', op, String(len), `${n}-1`, 'f', 'v']),
      key.map(k => ['XRANGE', k, '-', '+']), key.map(k => ['XREVRANGE', k, '+', '-', 'COUNT', '2']), key.map(k => ['XLEN', k]),
      fc.tuple(key, fc.integer({ min: 1, max: 30 })).map(([k, n]) => ['XDEL', k, `${n}-0`]),
      fc.tuple(key, fc.integer({ min: 0, max: 3 })).map(([k, n]) => ['XTRIM', k, 'MAXLEN', String(n)]),
      fc.tuple(key, fc.constantFrom('0', '$')).map(([k, id]) => ['XGROUP', 'CREATE', k, 'g', id, 'MKSTREAM']),
      fc.tuple(key, fc.constantFrom('c1', 'c2')).map(([k, c]) => ['XREADGROUP', 'GROUP', 'g', c, 'COUNT', '2', 'STREAMS', k, '>']),
      fc.tuple(key, fc.integer({ min: 1, max: 30 })).map(([k, n]) => ['XACK', k, 'g', `${n}-0`, `${n}-1`]),
      key.map(k => ['XPENDING', k, 'g']), key.map(k => ['XAUTOCLAIM', k, 'g', 'c3', '0', '0-0', 'COUNT', '2', 'JUSTID']),
      key.map(k => ['XINFO', 'STREAM', k]), key.map(k => ['XINFO', 'GROUPS', k]),
      fc.tuple(key, fc.integer({ min: 1, max: 40 })).map(([k, n]) => ['XSETID', k, `${n}-5`]),
    )
    // Replies in each server's own order: outside MULTI only, where normalize() sorts them.
    const unordered: fc.Arbitrary<Arg[]> = fc.oneof(
      key.map(k => ['HKEYS', k]), key.map(k => ['HVALS', k]), two.map(([a, b]) => ['SDIFF', a, b]), fc.constant(['KEYS', '*']),
      fc.constant(['SCAN', '0', 'COUNT', '1000']), key.map(k => ['SMEMBERS', k]), key.map(k => ['HGETALL', k]),
    )
    // A step is one command, or a MULTI block of one to four (EXEC, or DISCARD now and then).
    const step: fc.Arbitrary<Arg[][]> = fc.oneof(
      { weight: 5, arbitrary: one.map(c => [c]) },
      { weight: 1, arbitrary: unordered.map(c => [c]) },
      { weight: 1, arbitrary: fc.tuple(fc.array(one, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([cs, isDiscard]) => [['MULTI'], ...cs, [isDiscard && cs.length === 1 ? 'DISCARD' : 'EXEC']]) },
    )
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(step, { minLength: 5, maxLength: 30 }), async (resp3, steps) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      // HELLO's reply names the server: sent to both, not compared.
      await Promise.all([pair.r.command('HELLO', resp3 ? '3' : '2'), pair.f.command('HELLO', resp3 ? '3' : '2')])
      await pair.pipeline([['SELECT', '0'], ...steps.flat()], normalize)
      const check: Arg[][] = [['SELECT', '0']]
      for (const db of ['0', '1']) {
        check.push(['SELECT', db], ['DBSIZE'], ['SCAN', '0', 'COUNT', '1000'])
        for (const k of K) check.push(['TYPE', k], ['OBJECT', 'ENCODING', k], ['GET', k], ['LRANGE', k, '0', '-1'], ['HGETALL', k], ['SMEMBERS', k], ['ZRANGE', k, '0', '-1', 'WITHSCORES'], ['XRANGE', k, '-', '+'], ['XINFO', 'GROUPS', k], ['TTL', k])
      }
      await pair.pipeline(check, normalize)
      await Promise.all([pair.r.command('HELLO', '2'), pair.f.command('HELLO', '2')])
    }), { numRuns: 150 })
  })
})
