// The collection types through real client libraries, as applications call them: the same calls
// go to a real redis-server 7.0.15 and to FlashKV (4 shards), and the parsed results must be
// equal. This covers what the byte-level differential tests cannot: that each library decodes
// our RESP3 maps, sets, doubles and nulls (node-redis's default, ioredis's HELLO 3) into the
// same JavaScript values as Redis's. Results listing a hashtable (each server's own order) are
// sorted before comparing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Redis } from 'ioredis'

import { connectIoredis, connectNodeRedis, type NodeRedisClient } from './helpers/client-libs.js'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4
let redis: ServerHandle
let flash: ServerHandle

beforeAll(async () => {
  ;[redis, flash] = await Promise.all([startRedis(), startFlashKV({ shards: SHARDS })])
})

afterAll(async () => {
  await Promise.all([redis?.stop(), flash?.stop()])
})

/** Keys on four different shards. */
const [A, B, C, D] = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `ct${s}:`)[0])

/** Sorts arrays (recursively for arrays of arrays by their JSON), for replies in hashtable order. */
function sorted (v: unknown): unknown {
  if (!Array.isArray(v)) return v
  return [...v].sort((x, y) => JSON.stringify(x) < JSON.stringify(y) ? -1 : JSON.stringify(x) > JSON.stringify(y) ? 1 : 0)
}

/** Runs the same script of client calls on both servers; results compared one by one. */
async function same<C> (clients: [C, C], script: (c: C) => Array<Promise<unknown> | (() => Promise<unknown>)>, unordered: number[] = []): Promise<void> {
  const run = async (c: C): Promise<unknown[]> => {
    const out: unknown[] = []
    for (const step of script(c)) {
      try {
        out.push(await (typeof step === 'function' ? step() : step))
      } catch (err) {
        out.push(`error: ${(err as Error).message}`)
      }
    }
    return out
  }
  const [r, f] = [await run(clients[0]), await run(clients[1])]
  for (const i of unordered) { r[i] = sorted(r[i]); f[i] = sorted(f[i]) }
  expect(f).toEqual(r)
  // Every script ends with one WRONGTYPE on purpose; any other error means a call went wrong on Redis too.
  expect(r.filter(x => typeof x === 'string' && x.startsWith('error:'))).toEqual([expect.stringContaining('WRONGTYPE')])
}

describe('ioredis (HELLO 3)', () => {
  let rc: Redis
  let fc: Redis

  beforeAll(async () => {
    ;[rc, fc] = await Promise.all([connectIoredis(redis), connectIoredis(flash)])
    await Promise.all([rc.flushall(), fc.flushall()])
  })

  afterAll(async () => {
    await Promise.all([rc?.quit(), fc?.quit()])
  })

  it('hashes, sets, sorted sets, bitmaps, HyperLogLog and geo, keys on four shards', async () => {
    await same([rc, fc], c => [
      () => c.hset(A, { f1: 'v1', f2: 'v2', n: '5' }), () => c.hgetall(A), () => c.hincrby(A, 'n', 3), () => c.hincrbyfloat(A, 'n', 0.25),
      () => c.hmget(A, 'f1', 'nope', 'n'), () => c.hkeys(A), () => c.hvals(A), () => c.hexists(A, 'f2'), () => c.hdel(A, 'f2', 'zz'), () => c.hlen(A),
      () => c.sadd(B, '3', '1', '2'), () => c.smembers(B), () => c.sadd(C, 'x', '2', 'y'), () => c.sinter(B, C), () => c.sunion(B, C),
      () => c.sdiff(B, C), () => c.sinterstore(D, B, C), () => c.smembers(D), () => c.smismember(B, '1', '9'), () => c.smove(B, C, '1'), () => c.scard(C),
      () => c.zadd(A + 'z', 1, 'a', 2.5, 'b', -3, 'c'), () => c.zrange(A + 'z', 0, -1, 'WITHSCORES'), () => c.zscore(A + 'z', 'b'), () => c.zincrby(A + 'z', 0.1, 'a'),
      () => c.zrangebyscore(A + 'z', '-inf', '(2.5', 'WITHSCORES'), () => c.zpopmin(A + 'z'), () => c.zmscore(A + 'z', 'a', 'nope'), () => c.zrank(A + 'z', 'b'),
      () => c.zunionstore(B + 'z', 2, A + 'z', C, 'WEIGHTS', 2, 1), () => c.zrange(B + 'z', 0, -1, 'WITHSCORES'), () => c.zcard(B + 'z'),
      () => c.setbit(C + 'b', 7, 1), () => c.getbit(C + 'b', 7), () => c.bitcount(C + 'b'), () => c.bitop('OR', D + 'b', C + 'b', A + 'b'), () => c.get(D + 'b'),
      () => c.bitfield(C + 'b', 'INCRBY', 'u4', 0, 7, 'GET', 'u8', 0),
      () => c.pfadd(D + 'h', 'a', 'b', 'c'), () => c.pfcount(D + 'h'), () => c.pfmerge(A + 'h', D + 'h'), () => c.pfcount(A + 'h', D + 'h'),
      () => c.geoadd(B + 'g', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'), () => c.geodist(B + 'g', 'Palermo', 'Catania', 'km'),
      () => c.geopos(B + 'g', 'Palermo', 'nope'), () => c.geohash(B + 'g', 'Catania'),
      () => c.geosearch(B + 'g', 'FROMLONLAT', 15, 37, 'BYRADIUS', 200, 'km', 'ASC', 'WITHCOORD', 'WITHDIST'),
      () => c.geosearchstore(C + 'g', B + 'g', 'FROMMEMBER', 'Palermo', 'BYBOX', 400, 400, 'km', 'STOREDIST'), () => c.zrange(C + 'g', 0, -1, 'WITHSCORES'),
      () => c.type(A), () => c.type(B), () => c.type(A + 'z'), () => c.object('ENCODING', B),
      () => c.hset(A, 'x', 'y').then(() => c.sadd(A, 'oops')),
    ], [1, 5, 6, 11, 13, 14, 15, 17])
  })
})

describe('node-redis (RESP 3 by default, and RESP 2)', () => {
  for (const resp of [3, 2] as const) {
    it(`RESP ${resp}: maps, sets, doubles and nulls decode as against Redis`, async () => {
      const errors: Error[] = []
      const [rc, fc] = await Promise.all([connectNodeRedis(redis, resp, errors), connectNodeRedis(flash, resp, errors)])
      try {
        await Promise.all([rc.flushAll(), fc.flushAll()])
        await same<NodeRedisClient>([rc, fc], c => [
          () => c.hSet(A, { f1: 'v1', f2: 'v2' }), () => c.hGetAll(A), () => c.hGet(A, 'f1'), () => c.hGet(A, 'nope'), () => c.hRandField(A + 'none'),
          () => c.sAdd(B, ['m1', 'm2', '3']), () => c.sMembers(B), () => c.sIsMember(B, 'm1'), () => c.sInterCard([B, C]),
          () => c.zAdd(C, [{ score: 1.5, value: 'a' }, { score: -2, value: 'b' }, { score: 1e20, value: 'c' }]), () => c.zRangeWithScores(C, 0, -1),
          () => c.zScore(C, 'a'), () => c.zScore(C, 'nope'), () => c.zPopMax(C), () => c.zmScore(C, ['a', 'nope']), () => c.zRandMember(C + 'none'),
          () => c.zInterCard([C, D]), () => c.zRangeByScore(C, '-inf', '+inf'),
          () => c.pfAdd(D, ['x', 'y']), () => c.pfCount(D), () => c.bitCount(D + 'none'),
          () => c.geoAdd(A + 'g', [{ longitude: 13.361389, latitude: 38.115556, member: 'Palermo' }, { longitude: 15.087269, latitude: 37.502669, member: 'Catania' }]),
          () => c.geoDist(A + 'g', 'Palermo', 'Catania', 'km'), () => c.geoPos(A + 'g', ['Palermo', 'nope']),
          () => c.geoSearchWith(A + 'g', { longitude: 15, latitude: 37 }, { radius: 200, unit: 'km' }, ['WITHDIST', 'WITHCOORD']),
          () => c.hSet(A, 'x', 'y').then(() => c.sAdd(A, 'oops')),
        ], [1, 6])
        expect(errors).toEqual([])
      } finally {
        await Promise.all([rc.close(), fc.close()])
      }
    })
  }
})
