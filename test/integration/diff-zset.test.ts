// Differential tests for the sorted-set commands FlashKV supports so far (t_zset.c): the same
// bytes go to a real redis-server 7.0.15 and to FlashKV (4 shards), and the replies must be
// identical, RESP2 and RESP3: a sorted set's order is defined, so every reply compares byte for
// byte, scores included (%.17g). Random sequences (fast-check) mix every option of ZADD and the
// range family with strings and wrong types, crossing the listpack/skiplist switch.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { shardOfKey } from './helpers/slots.js'
import { RawClient, encodeCommand } from './helpers/raw.js'

// Chunks of 4 members (FLASHKV_ZSET_CHUNK), so that every test splits and empties chunks.
const pair = useDiffPair({ shards: 4, env: { FLASHKV_ZSET_CHUNK: '4' } })
const { same, sequence, pipeline } = pair

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

afterEach(async () => {
  for (const c of [pair.r, pair.f]) {
    expect(text(await c.command('CONFIG', 'SET', 'zset-max-listpack-entries', '128', 'zset-max-listpack-value', '64'))).toBe('+OK\r\n')
  }
})

describe('ZADD and ZINCRBY', () => {
  it('every option, their conflicts, score formats and errors in Redis order', async () => {
    await sequence([
      ['ZADD', 'z', '0.1', 'a', '1', 'b', '1.5', 'c', '-inf', 'd', '+inf', 'e', '3e5', 'f', '12345678901234567890', 'g', '1e-300', 'h'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZSCORE', 'z', 'a'], ['ZSCORE', 'z', 'g'], ['ZSCORE', 'z', 'nope'], ['ZSCORE', 'nokey', 'a'],
      ['ZADD', 'z', 'nan', 'x'], ['ZADD', 'z', '1e400', 'x'], ['ZADD', 'z', ' 1', 'x'], ['ZADD', 'z', 'abc', 'x'], ['ZADD', 'z', '', 'x'],
      ['ZADD', 'z', 'XX', 'NX', '1', 'a'], ['ZADD', 'z', 'GT', 'LT', '1', 'a'], ['ZADD', 'z', 'NX', 'GT', '1', 'a'], ['ZADD', 'z', 'INCR', '1', 'a', '2', 'b'],
      ['ZADD', 'z', '1'], ['ZADD', 'z', '1', 'a', '2'], ['ZADD', 'z', 'CH', '1'], ['ZADD', 'z', 'NX', 'CH', '5', 'a', '5', 'new'],
      ['ZADD', 'z', 'XX', 'CH', '5', 'a', '5', 'new2'], ['ZADD', 'z', 'GT', 'CH', '0', 'a', '9', 'b'], ['ZADD', 'z', 'LT', 'CH', '0', 'a', '9', 'c'],
      ['ZADD', 'z', 'INCR', '2', 'a'], ['ZADD', 'z', 'INCR', 'NX', '2', 'a'], ['ZADD', 'z', 'INCR', 'XX', '2', 'zz'], ['ZADD', 'z', 'INCR', 'GT', '-1', 'a'],
      ['ZADD', 'z', 'incr', 'lt', '-1', 'a'], ['ZINCRBY', 'z', 'inf', 'e'], ['ZINCRBY', 'z', '-inf', 'e'], ['ZINCRBY', 'z', 'x', 'a'],
      ['ZINCRBY', 'z', '1.5', 'newer'], ['ZINCRBY', 'nokey2', '3', 'm'], ['ZADD', 'nokey3', 'XX', '1', 'a'], ['EXISTS', 'nokey3'],
      ['ZADD', 'nokey3', 'XX', 'INCR', '1', 'a'], ['SET', 's', 'v'], ['ZADD', 's', '1', 'a'], ['ZADD', 's', 'x', 'a'], ['ZINCRBY', 's', '1', 'a'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZCARD', 'z'], ['ZCARD', 'nokey'], ['ZCARD', 's'], ['OBJECT', 'ENCODING', 'z'], ['TYPE', 'z'],
      ['ZADD', 'n', '-0', 'a', '0', 'b', '5.0000000000000001', 'c', '0.000012345', 'd', '123456789.123', 'e', '1e17', 'f', '99999999999999999', 'g'],
      ['ZRANGE', 'n', '0', '-1', 'WITHSCORES'], ['ZMSCORE', 'n', 'a', 'zz', 'g'], ['ZMSCORE', 'nokey', 'a'], ['ZMSCORE', 's', 'a'],
      // Integer scores take a fast path (up to 15 digits): its edges, and texts just outside it.
      ['ZADD', 'i', '007', 'a', '-000', 'b', '999999999999999', 'c', '-999999999999999', 'd', '1234567890123456', 'e', '1733112345678', 'f'],
      ['ZADD', 'i', '-', 'x'], ['ZADD', 'i', '+5', 'y'], ['ZADD', 'i', ' 5', 'z'], ['ZADD', 'i', '5 ', 'z'], ['ZADD', 'i', '0-1', 'z'],
      ['ZRANGE', 'i', '0', '-1', 'WITHSCORES'], ['ZRANGEBYSCORE', 'i', '-000', '(1733112345678', 'WITHSCORES'],
      ['ZCOUNT', 'i', ' 7', '999999999999999'], ['ZCOUNT', 'i', '(7', '1234567890123456'], ['ZCOUNT', 'i', '-', '5'],
    ])
    await hello3()
    await sequence([['ZSCORE', 'z', 'a'], ['ZMSCORE', 'z', 'a', 'x'], ['ZRANGE', 'z', '0', '2', 'WITHSCORES'], ['ZINCRBY', 'z', '1', 'a'],
      ['ZADD', 'z', 'INCR', 'NX', '1', 'a'], ['ZRANGE', 'z', '0', '1']])
  })

  it('listpack until zset-max-listpack-entries or -value, then skiplist', async () => {
    await sequence([['CONFIG', 'GET', 'zset-max-listpack-entries'], ['CONFIG', 'GET', 'zset-max-ziplist-value'],
      ['CONFIG', 'SET', 'zset-max-listpack-entries', 'x'], ['CONFIG', 'SET', 'zset-max-listpack-value', 'x'],
      ['ZADD', 'v', '1', 'x'.repeat(64)], ['OBJECT', 'ENCODING', 'v'], ['ZADD', 'v', '1', 'x'.repeat(65)], ['OBJECT', 'ENCODING', 'v'],
      ['ZADD', 'w', '1', 'y'.repeat(65)], ['OBJECT', 'ENCODING', 'w'], ['CONFIG', 'SET', 'zset-max-listpack-entries', '2'],
      ['ZADD', 'e', '1', 'a', '2', 'b'], ['OBJECT', 'ENCODING', 'e'], ['ZADD', 'e', '3', 'c'], ['OBJECT', 'ENCODING', 'e'],
      ['ZREM', 'e', 'c', 'b'], ['OBJECT', 'ENCODING', 'e'], ['CONFIG', 'SET', 'zset-max-listpack-entries', '0'], ['ZADD', 'f', '1', 'a'],
      ['OBJECT', 'ENCODING', 'f']])
  })

  it('-0: a listpack reads it back as 0, a skiplist keeps it, and an INCR that adds the member replies -0', async () => {
    const rounds = (p: string): string[][] => [
      ['ZINCRBY', `${p}a`, '-0', 'm'], ['ZSCORE', `${p}a`, 'm'], ['ZADD', `${p}a`, 'INCR', '-0', 'n'], ['ZINCRBY', `${p}a`, '-0', 'n'],
      ['ZADD', `${p}a`, '-0', 'o', '5', 'q'], ['ZADD', `${p}a`, '-0', 'q'], ['ZADD', `${p}a`, '0', 'o'], ['ZRANGE', `${p}a`, '0', '-1', 'WITHSCORES'],
      ['ZMSCORE', `${p}a`, 'm', 'o', 'q'], ['ZRANGEBYSCORE', `${p}a`, '-0', '0', 'WITHSCORES'], ['ZUNIONSTORE', `${p}u`, '1', `${p}a`, 'WEIGHTS', '-1'],
      ['ZRANGE', `${p}u`, '0', '-1', 'WITHSCORES'], ['ZUNION', '1', `${p}a`, 'WEIGHTS', '-1', 'WITHSCORES'], ['ZRANGESTORE', `${p}r`, `${p}a`, '0', '-1'],
      ['ZRANGE', `${p}r`, '0', '-1', 'WITHSCORES']]
    await sequence([...rounds('l'), ['CONFIG', 'SET', 'zset-max-listpack-entries', '0'], ...rounds('s'),
      // The insert that outgrows the listpack goes into the skiplist it converts to.
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '2'], ['ZADD', 'g', '1', 'a', '2', 'b'], ['ZADD', 'g', '-0', 'c'], ['ZSCORE', 'g', 'c'], ['OBJECT', 'ENCODING', 'g']])
  })
})

describe('hexadecimal scores (strtod\'s form, as Redis takes it)', () => {
  it('ZADD, ZINCRBY, ranges and WEIGHTS take 0x… floats; out of range is refused where Redis refuses it', async () => {
    await sequence([
      ['ZADD', 'z', '0x10', 'a', '0x1.8p3', 'b', '0X1P-2', 'c', '0x.8', 'e', '-0x10', 'f', '0x1e2', 'h'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['ZADD', 'z', '0x', 'd'], ['ZADD', 'z', '0x1p5000', 'g'], ['ZADD', 'z', '0x1p-1080', 'g'], ['ZADD', 'z', '0x1p-1070', 'g'], ['ZSCORE', 'z', 'g'],
      ['ZADD', 'z', '0x1.fffffffffffff8p0', 'r'], ['ZADD', 'z', '0x1.00000000000008p0', 's'], ['ZMSCORE', 'z', 'r', 's'], ['ZADD', 'z', '0x1p', 't'], ['ZADD', 'z', '+0x2', 'u'],
      ['ZRANGEBYSCORE', 'z', '0x1', '0x10', 'WITHSCORES'], ['ZRANGEBYSCORE', 'z', '-0x1p5000', '(0x1p5000'], ['ZCOUNT', 'z', '0x1p-1080', '+inf'],
      ['ZCOUNT', 'z', ' 0x1', '0x2'], ['ZINCRBY', 'z', '0x1', 'a'], ['ZINCRBY', 'z', '0x1p5000', 'a'], ['ZUNIONSTORE', 'd', '1', 'z', 'WEIGHTS', '0x2'], ['ZSCORE', 'd', 'h'],
    ])
  })
})

describe('ranks, counts and ranges', () => {
  const setup: Arg[][] = [['ZADD', 'z', '1', 'a', '2', 'b', '2', 'bb', '3', 'c', '4', 'd', '5', 'e', '-1', 'm', '10', 'z']]
  it('ZRANK, ZREVRANK, ZCOUNT, ZRANGE by rank and its errors', async () => {
    await sequence([...setup,
      ['ZRANK', 'z', 'a'], ['ZRANK', 'z', 'z'], ['ZRANK', 'z', 'nope'], ['ZRANK', 'nokey', 'a'], ['ZREVRANK', 'z', 'a'], ['ZREVRANK', 'z', 'm'],
      ['ZCOUNT', 'z', '-inf', '+inf'], ['ZCOUNT', 'z', '(1', '(5'], ['ZCOUNT', 'z', '2', '2'], ['ZCOUNT', 'z', '5', '1'], ['ZCOUNT', 'z', 'x', '1'],
      ['ZCOUNT', 'z', '((1', '2'], ['ZCOUNT', 'z', '', '2'], ['ZCOUNT', 'nokey', '1', '2'], ['ZCOUNT', 'z', 'inf', '-inf'], ['ZCOUNT', 'z', ' 1', '3'],
      ['ZRANGE', 'z', '0', '-1'], ['ZRANGE', 'z', '2', '4', 'WITHSCORES'], ['ZRANGE', 'z', '-3', '-1'], ['ZRANGE', 'z', '-100', '100'],
      ['ZRANGE', 'z', '5', '2'], ['ZRANGE', 'z', '100', '200'], ['ZRANGE', 'z', 'x', '1'], ['ZRANGE', 'z', '0', '1', 'REV'], ['ZRANGE', 'z', '0', '1', 'REV', 'WITHSCORES'],
      ['ZRANGE', 'z', '0', '1', 'LIMIT', '0', '1'], ['ZRANGE', 'z', '0', '1', 'FOO'], ['ZRANGE', 'z', '0', '1', 'REV', 'REV'], ['ZRANGE', 'z', '0', '1', 'LIMIT', '1'],
      ['ZREVRANGE', 'z', '0', '2', 'WITHSCORES'], ['ZREVRANGE', 'z', '0', '2', 'REV'], ['ZREVRANGE', 'z', '0', '2', 'LIMIT', '0', '1'],
      ['ZRANGE', 'nokey', '0', '-1'], ['SET', 's', 'v'], ['ZRANGE', 's', '0', '-1'], ['ZRANK', 's', 'a'], ['ZRANGE', 's', 'x', '1'],
    ])
  })

  it('by score: exclusive bounds, infinities, LIMIT (negative offset, count 0), REV, the older commands', async () => {
    await sequence([...setup,
      ['ZRANGE', 'z', '2', '4', 'BYSCORE'], ['ZRANGE', 'z', '(2', '4', 'BYSCORE', 'WITHSCORES'], ['ZRANGE', 'z', '-inf', '+inf', 'BYSCORE', 'LIMIT', '2', '3'],
      ['ZRANGE', 'z', '-inf', '+inf', 'BYSCORE', 'LIMIT', '-1', '3'], ['ZRANGE', 'z', '-inf', '+inf', 'BYSCORE', 'LIMIT', '0', '0'],
      ['ZRANGE', 'z', '-inf', '+inf', 'BYSCORE', 'LIMIT', '0', '-1'], ['ZRANGE', 'z', '-inf', '+inf', 'BYSCORE', 'LIMIT', '100', '1'],
      ['ZRANGE', 'z', '5', '1', 'BYSCORE', 'REV'], ['ZRANGE', 'z', '(5', '(1', 'BYSCORE', 'REV', 'WITHSCORES', 'LIMIT', '1', '2'],
      ['ZRANGE', 'z', 'x', '1', 'BYSCORE'], ['ZRANGE', 'z', '1', '5', 'BYSCORE', 'BYLEX'], ['ZRANGE', 'z', '1', '5', 'BYSCORE', 'LIMIT', 'x', '1'],
      ['ZRANGEBYSCORE', 'z', '1', '3'], ['ZRANGEBYSCORE', 'z', '1', '3', 'WITHSCORES', 'LIMIT', '1', '10'], ['ZRANGEBYSCORE', 'z', '1', '3', 'REV'],
      ['ZRANGEBYSCORE', 'z', '1', '3', 'BYSCORE'], ['ZREVRANGEBYSCORE', 'z', '3', '1'], ['ZREVRANGEBYSCORE', 'z', '+inf', '-inf', 'WITHSCORES', 'LIMIT', '0', '2'],
      ['ZREVRANGEBYSCORE', 'z', '1', '3'], ['ZRANGEBYSCORE', 'nokey', '1', '3'], ['ZRANGEBYSCORE', 'z', '(x', '3'],
    ])
    await hello3()
    await sequence([['ZRANGE', 'z', '0', '2', 'WITHSCORES'], ['ZRANGEBYSCORE', 'z', '1', '3', 'WITHSCORES'], ['ZRANGE', 'z', '0', '-1']])
  })

  it('by lex: ZRANGE BYLEX, ZRANGEBYLEX, ZREVRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX', async () => {
    await sequence([['ZADD', 'l', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e', '0', 'ab', '0', ''],
      ['ZRANGE', 'l', '-', '+', 'BYLEX'], ['ZRANGE', 'l', '[b', '(d', 'BYLEX'], ['ZRANGE', 'l', '+', '-', 'BYLEX', 'REV'], ['ZRANGE', 'l', '(e', '[a', 'BYLEX', 'REV', 'LIMIT', '1', '2'],
      ['ZRANGE', 'l', '-', '+', 'BYLEX', 'WITHSCORES'], ['ZRANGE', 'l', 'a', 'b', 'BYLEX'], ['ZRANGE', 'l', '[a', '+x', 'BYLEX'], ['ZRANGE', 'l', '+', '-', 'BYLEX'],
      ['ZRANGEBYLEX', 'l', '[', '[b'], ['ZRANGEBYLEX', 'l', '(', '+'], ['ZRANGEBYLEX', 'l', '-', '+', 'LIMIT', '2', '2'], ['ZREVRANGEBYLEX', 'l', '+', '[c'],
      ['ZRANGEBYLEX', 'l', '-', '+', 'WITHSCORES'], ['ZLEXCOUNT', 'l', '-', '+'], ['ZLEXCOUNT', 'l', '(a', '[c'], ['ZLEXCOUNT', 'l', 'a', '[c'], ['ZLEXCOUNT', 'nokey', '-', '+'],
      ['ZREMRANGEBYLEX', 'l', '[b', '[c'], ['ZRANGE', 'l', '0', '-1'], ['ZREMRANGEBYLEX', 'l', 'x', '+'], ['ZREMRANGEBYLEX', 'l', '-', '+'], ['EXISTS', 'l']])
  })

  it('ZREM, ZPOPMIN, ZPOPMAX, ZREMRANGEBYRANK, ZREMRANGEBYSCORE; the key goes once empty', async () => {
    await sequence([...setup,
      ['ZREM', 'z', 'a', 'nope', 'a'], ['ZREM', 'nokey', 'a'], ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z', '2'], ['ZPOPMIN', 'z', '0'], ['ZPOPMIN', 'z', '-1'],
      ['ZPOPMIN', 'z', 'x'], ['ZPOPMIN', 'z', '1', '2'], ['ZPOPMIN', 'nokey'], ['ZPOPMAX', 'nokey', '3'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['ZREMRANGEBYRANK', 'z', '0', '0'], ['ZREMRANGEBYRANK', 'z', '-1', '-1'], ['ZREMRANGEBYRANK', 'z', 'x', '1'], ['ZREMRANGEBYRANK', 'z', '5', '1'],
      ['ZREMRANGEBYSCORE', 'z', '(2', '3'], ['ZREMRANGEBYSCORE', 'z', 'x', '1'], ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'], ['ZREMRANGEBYSCORE', 'z', '-inf', '+inf'],
      ['EXISTS', 'z'], ['ZADD', 'p', '1', 'a', '2', 'b'], ['ZPOPMAX', 'p', '5'], ['EXISTS', 'p'], ['SET', 's', 'v'], ['ZPOPMIN', 's'], ['ZREM', 's', 'a'],
      ['ZREMRANGEBYRANK', 's', '0', '1'],
    ])
    await hello3()
    await sequence([...setup, ['ZPOPMIN', 'z'], ['ZPOPMIN', 'z', '1'], ['ZPOPMAX', 'z', '2'], ['ZPOPMAX', 'nokey']])
  })

  it('RENAME and COPY across shards keep members, scores and encoding', async () => {
    const members: string[] = []
    for (let i = 0; i < 200; i++) members.push(String(i * 0.5), `m${i}`)
    await sequence([['ZADD', 'src', ...members], ['RENAME', 'src', 'dst'], ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', 'dst'],
      ['COPY', 'dst', 'cp'], ['ZRANGE', 'cp', '95', '105', 'WITHSCORES'], ['ZADD', 'small', '1', 'a'], ['RENAME', 'small', 'small2'], ['OBJECT', 'ENCODING', 'small2']])
  })
})

describe('ZRANDMEMBER, ZSCAN, ZMPOP', () => {
  it('the replies that are not random, and the argument errors', async () => {
    await sequence([
      ['ZRANDMEMBER', 'nokey'], ['ZRANDMEMBER', 'nokey', '3'], ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZRANDMEMBER', 'z', '0'],
      ['ZRANDMEMBER', 'z', '3'], ['ZRANDMEMBER', 'z', '30', 'WITHSCORES'], ['ZRANDMEMBER', 'z', 'x'], ['ZRANDMEMBER', 'z', '1', 'WITHSCORE'],
      ['ZRANDMEMBER', 'z', '-9223372036854775808'], ['ZRANDMEMBER', 'z', '4611686018427387904', 'WITHSCORES'], ['ZRANDMEMBER', 'z', '1', '2', '3'],
      ['ZSCAN', 'nokey', '0'], ['ZSCAN', 'z', '0'], ['ZSCAN', 'z', '5', 'MATCH', '[ab]'], ['ZSCAN', 'z', '0', 'COUNT', '0'], ['ZSCAN', 'z', 'x'],
      ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '2'], ['ZMPOP', '0', 'z', 'MIN'], ['ZMPOP', '2', 'z', 'MIN'], ['ZMPOP', '1', 'z', 'FOO'], ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '0'],
      ['ZMPOP', '1', 'z', 'MAX', 'COUNT', '1', 'COUNT', '2'], ['ZMPOP', '1', 'nokey', 'MIN'], ['ZMPOP', '2', 'nokey', 'z', 'MAX', 'COUNT', '10'], ['EXISTS', 'z'],
      ['SET', 's', 'v'], ['ZMPOP', '2', 'nokey', 's', 'MIN'], ['ZRANDMEMBER', 's'], ['ZSCAN', 's', '0'],
      ['ZADD', 'x1', '1', 'a'], ['ZADD', 'x2', '5', 'b', '6', 'c'], ['ZMPOP', '3', 'nokey', 'x2', 'x1', 'MAX', 'COUNT', '5'], ['ZMPOP', '2', 'x2', 'x1', 'MIN'],
    ])
    await hello3()
    await sequence([['ZADD', 'z', '1', 'a', '2', 'b'], ['ZRANDMEMBER', 'z', '5', 'WITHSCORES'], ['ZMPOP', '1', 'z', 'MIN'], ['ZMPOP', '1', 'nokey', 'MIN']])
  })

  it('random picks have the right shape; a skiplist is walked by cursor', async () => {
    const args: string[] = []
    for (let i = 0; i < 300; i++) args.push(String(i), `m${i}`)
    await same('ZADD', 'z', ...args)
    for (const c of [pair.r, pair.f]) {
      const seen = new Set<string>()
      let cursor = '0'
      let calls = 0
      do {
        const reply = text(await c.command('ZSCAN', 'z', cursor, 'COUNT', '20'))
        cursor = reply.split('\r\n')[2]
        const body = reply.slice(reply.indexOf('*', 1)).split('\r\n').filter((_v, i) => i > 0 && i % 2 === 0)
        for (let i = 0; i < body.length; i += 2) { seen.add(body[i]); expect(body[i + 1]).toBe(body[i].slice(1)) }
      } while (cursor !== '0' && ++calls < 1000)
      expect(seen.size).toBe(300)
      for (const count of [5, -40, 1]) {
        const parts = text(await c.command('ZRANDMEMBER', 'z', String(count), 'WITHSCORES')).split('\r\n').filter((_v, i) => i > 0 && i % 2 === 0)
        expect(parts.length).toBe(Math.abs(count) * 2)
        for (let i = 0; i < parts.length; i += 2) expect(parts[i + 1]).toBe(parts[i].slice(1))
      }
    }
  })
})

describe('ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD, ZRANGESTORE: one shard and across shards', () => {
  for (const [label, K] of [['one shard', ['{t}a', '{t}b', '{t}s', '{t}d']], ['across shards', ['za', 'zb', 'zs', 'zd']]] as const) {
    it(`weights, aggregates, sets as inputs, missing keys, errors in Redis order (${label})`, async () => {
      const [a, b, s, d] = K
      if (label === 'across shards') expect(new Set([a, b, d].map(k => shardOfKey(k, 4))).size, 'sources and destination on three shards').toBe(3)
      await sequence([
        ['ZADD', a, '1', 'x', '2', 'y', '3', 'z'], ['ZADD', b, '10', 'y', '20', 'z', '30', 'w'], ['SADD', s, 'y', 'w'],
        ['ZUNION', '2', a, b, 'WITHSCORES'], ['ZINTER', '2', a, b, 'WEIGHTS', '2', '3', 'AGGREGATE', 'MAX', 'WITHSCORES'], ['ZDIFF', '2', a, b, 'WITHSCORES'],
        ['ZUNION', '2', a, s, 'WITHSCORES'], ['ZINTER', '2', a, s], ['ZUNION', '3', a, b, s, 'AGGREGATE', 'MIN', 'WITHSCORES'], ['ZUNION', '2', a, 'nokey'],
        ['ZINTER', '2', a, 'nokey'], ['ZDIFF', '2', 'nokey', a], ['ZUNION', '0', a], ['ZUNION', '3', a, b], ['ZUNION', '2', a, b, 'WEIGHTS', '1'],
        ['ZUNION', '2', a, b, 'WEIGHTS', '1', 'x'], ['ZUNION', '2', a, b, 'AGGREGATE', 'foo'], ['ZDIFF', '2', a, b, 'WEIGHTS', '1', '2'],
        ['ZDIFF', '2', a, b, 'AGGREGATE', 'SUM'], ['ZUNION', '2', a, b, 'WEIGHTS', 'inf', '-inf', 'WITHSCORES'], ['ZINTER', '2', a, b, 'WEIGHTS', '0', 'nan'],
        ['ZUNIONSTORE', d, '2', a, b], ['ZRANGE', d, '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', d], ['ZINTERSTORE', d, '2', a, b, 'WEIGHTS', '0.5', '0.25'],
        ['ZRANGE', d, '0', '-1', 'WITHSCORES'], ['ZDIFFSTORE', d, '2', b, a], ['ZRANGE', d, '0', '-1', 'WITHSCORES'], ['ZINTERSTORE', d, '2', a, 'nokey'],
        ['EXISTS', d], ['ZUNIONSTORE', d, '2', 'nokey', 'nokey2'], ['ZUNIONSTORE', d, '2', a, b, 'WITHSCORES'],
        ['ZINTERCARD', '2', a, b], ['ZINTERCARD', '2', a, b, 'LIMIT', '1'], ['ZINTERCARD', '0', a], ['ZINTERCARD', '1', a, 'LIMIT', '-1'], ['ZINTERCARD', '2', a, s],
        ['ZRANGESTORE', d, a, '0', '-1'], ['ZRANGE', d, '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', d, b, '(10', '+inf', 'BYSCORE', 'LIMIT', '0', '1'],
        ['ZRANGE', d, '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', d, a, '0', '-1', 'WITHSCORES'], ['ZRANGESTORE', d, a, '5', '9'], ['EXISTS', d],
        ['ZRANGESTORE', d, b, '+inf', '(10', 'BYSCORE', 'REV'], ['ZRANGE', d, '0', '-1', 'WITHSCORES'],
        ['SET', 'str', 'v'], ['ZUNION', '2', a, 'str'], ['ZUNION', '2', a, 'str', 'FOO'], ['ZINTERSTORE', d, '2', a, 'str'], ['ZRANGESTORE', d, 'str', '0', '1'],
      ])
      await same('ZADD', a, '0', 'm', '0', 'n', '0', 'o')
      await sequence([['ZRANGESTORE', d, a, '[m', '[n', 'BYLEX'], ['ZRANGE', d, '0', '-1', 'WITHSCORES']])
      await hello3()
      await sequence([['ZUNION', '2', a, b, 'WITHSCORES'], ['ZINTER', '2', a, b], ['ZDIFF', '1', a, 'WITHSCORES']])
    })
  }
})

describe('BZPOPMIN, BZPOPMAX, BZMPOP', () => {
  it('pops at once when a key has members; times out with a null; errors in Redis order', async () => {
    await sequence([
      ['BZPOPMIN', 'z', 'x'], ['BZPOPMIN', 'z', '-1'], ['BZMPOP', 'x', '0', 'z', 'MIN'], ['BZMPOP', '0.1', '1', 'z', 'FOO'], ['BZMPOP', 'x', '1', 'z', 'MIN'],
      ['BZMPOP', '0.01', '1', 'z', 'MIN', 'COUNT', '0'], ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['BZPOPMIN', 'nokey', 'z', '0'], ['BZPOPMAX', 'z', '0'],
      ['BZMPOP', '0', '2', 'nokey', 'z', 'MAX', 'COUNT', '5'], ['EXISTS', 'z'], ['BZPOPMIN', 'nokey', '0.01'], ['BZMPOP', '0.01', '1', 'nokey', 'MIN'],
      ['SET', 's', 'v'], ['BZPOPMIN', 's', '0'], ['BZMPOP', '0', '1', 's', 'MIN'],
      ['MULTI'], ['BZPOPMIN', 'nokey', '0'], ['ZADD', 'm', '5', 'x'], ['BZPOPMAX', 'm', '0'], ['BZMPOP', '0', '2', 'nokey', 'za', 'MIN'], ['EXEC'],
    ])
    await hello3()
    await sequence([['ZADD', 'z', '1', 'a', '2', 'b'], ['BZPOPMIN', 'z', '0'], ['BZMPOP', '0', '1', 'z', 'MIN'], ['BZPOPMIN', 'nokey', '0.01']])
  })

  for (const [label, keys] of [['one shard', ['{q}a', '{q}b']], ['across shards', ['za', 'zb']]] as const) {
    it(`a blocked client is served by a ZADD from another client (${label})`, async () => {
      const [k1, k2] = keys
      const waiters = await Promise.all([RawClient.connect(pair.redis.port, pair.redis.host), RawClient.connect(pair.flash.port, pair.flash.host)])
      try {
        for (const [cmd, push, expectKey] of [
          [['BZPOPMIN', k1, k2, '0'], ['ZADD', k2, '7', 'm', '9', 'n'], k2],
          [['BZPOPMAX', k1, k2, '0'], ['ZADD', k1, '3', 'p', '4', 'q'], k1],
          [['BZMPOP', '0', '2', k1, k2, 'MAX', 'COUNT', '5'], ['ZADD', k2, '1', 'r'], k2],
        ] as const) {
          for (const w of waiters) w.send(encodeCommand([...cmd]))
          // Both are blocked once each server counts one blocked client.
          for (const c of [pair.r, pair.f]) {
            for (let i = 0; i < 500; i++) {
              if (/blocked_clients:1\r\n/.test(text(await c.command('INFO', 'clients')))) break
              await new Promise(resolve => setTimeout(resolve, 10))
            }
          }
          await same(...push)
          const [r, f] = await Promise.all(waiters.map(async w => text((await w.readReplies(1, 10_000))[0])))
          expect(f, `served from ${expectKey}`).toBe(r)
          await Promise.all([pair.r.command('DEL', k1, k2), pair.f.command('DEL', k1, k2)])
        }
      } finally {
        for (const w of waiters) w.close()
      }
    })
  }
})

describe('random sequences', () => {
  it('sorted-set commands with strings and deletions across the encoding switch', async () => {
    await same('CONFIG', 'SET', 'zset-max-listpack-entries', '4')
    const key = fc.constantFrom('z1', 'z2', 's')
    const member = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', '')
    const score = fc.oneof(fc.integer({ min: -3, max: 3 }).map(String), fc.constantFrom('0.5', '-inf', '+inf', '1e300', 'x', '(1'))
    const bound = fc.oneof(score, fc.constantFrom('(0', '(2', '-inf', '+inf'))
    const lex = fc.constantFrom('-', '+', '[a', '(b', '[c', '(e', 'x')
    const opts = fc.subarray(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'], { maxLength: 2 })
    const cmd: fc.Arbitrary<Arg[]> = fc.oneof(
      fc.tuple(key, opts, fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 3 })).map(([k, o, p]) => ['ZADD', k, ...o, ...p.flat()]),
      fc.tuple(key, score, member).map(([k, s, m]) => ['ZINCRBY', k, s, m]),
      fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]) => ['ZREM', k, ...m]),
      fc.tuple(key, member).map(([k, m]) => ['ZSCORE', k, m]), fc.tuple(key, member).map(([k, m]) => ['ZRANK', k, m]),
      fc.tuple(key, member).map(([k, m]) => ['ZREVRANK', k, m]), key.map(k => ['ZCARD', k]),
      fc.tuple(key, fc.integer({ min: -6, max: 6 }), fc.integer({ min: -6, max: 6 }), fc.boolean()).map(([k, a, b, w]) => ['ZRANGE', k, String(a), String(b), ...(w ? ['WITHSCORES'] : [])]),
      fc.tuple(key, bound, bound, fc.boolean()).map(([k, a, b, r]) => ['ZRANGE', k, a, b, 'BYSCORE', ...(r ? ['REV'] : []), 'WITHSCORES']),
      fc.tuple(key, bound, bound, fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 })).map(([k, a, b, o, c]) => ['ZRANGEBYSCORE', k, a, b, 'LIMIT', String(o), String(c)]),
      // Lex ranges are defined only when every score is the same (Redis leaves the rest
      // unspecified): they get their own key, whose members all score 0.
      fc.tuple(member).map(([m]) => ['ZADD', 'lx', '0', m]), fc.tuple(member).map(([m]) => ['ZREM', 'lx', m]),
      fc.tuple(lex, lex).map(([a, b]) => ['ZRANGEBYLEX', 'lx', a, b]), fc.tuple(lex, lex).map(([a, b]) => ['ZLEXCOUNT', 'lx', a, b]),
      fc.tuple(lex, lex).map(([a, b]) => ['ZREVRANGEBYLEX', 'lx', b, a]), fc.tuple(lex, lex).map(([a, b]) => ['ZREMRANGEBYLEX', 'lx', a, b]),
      fc.tuple(lex, lex).map(([a, b]) => ['ZRANGE', 'lx', a, b, 'BYLEX', 'LIMIT', '1', '2']),
      fc.tuple(key, bound, bound).map(([k, a, b]) => ['ZCOUNT', k, a, b]), fc.tuple(key, bound, bound).map(([k, a, b]) => ['ZREMRANGEBYSCORE', k, a, b]),
      fc.tuple(key, fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3, max: 3 })).map(([k, a, b]) => ['ZREMRANGEBYRANK', k, String(a), String(b)]),
      fc.tuple(key, fc.constantFrom([], ['0'], ['2'], ['9'])).map(([k, c]) => ['ZPOPMIN', k, ...c]), key.map(k => ['ZPOPMAX', k]),
      key.map(k => ['OBJECT', 'ENCODING', k]), key.map(k => ['SET', k, 'v']), key.map(k => ['DEL', k]), fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]),
    )
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 40 }), async (cmds) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      await pipeline(cmds)
    }), { numRuns: 80 })
  })
})
