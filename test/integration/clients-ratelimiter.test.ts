// rate-limiter-flexible's RateLimiterRedis over ioredis 6 (its Lua consume script, SET ... NX PX,
// INCRBY, PTTL), differential: the same calls go to a real redis-server 7.0.15 and to FlashKV
// (4 shards), and each result must match: remaining and consumed points, first-in-duration, and
// msBeforeNext reduced to what does not depend on when it ran (-1, or the least of the durations
// and block times used that it is within).
import { Redis } from 'ioredis'
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

let redis: ServerHandle
let flash: ServerHandle
let clients: Redis[] = []

beforeAll(async () => {
  ;[redis, flash] = await Promise.all([startRedis(), startFlashKV({ shards: 4 })])
  clients = [new Redis(redis.port, redis.host, { enableOfflineQueue: false }), new Redis(flash.port, flash.host, { enableOfflineQueue: false })]
  await Promise.all(clients.map(async c => await new Promise(resolve => c.once('ready', resolve))))
})

afterAll(async () => {
  await Promise.all(clients.map(async c => await c.quit()))
  await Promise.all([redis?.stop(), flash?.stop()])
})

/** The durations and block times the tests use, in seconds: msBeforeNext is reduced to the least one it is within. */
const BOUNDS = [10, 30, 60, 120]

/** A result or a rejection, with msBeforeNext as -1, 0, or "<= Ns" for the least of BOUNDS it is within. */
function show (r: unknown): unknown {
  if (r instanceof RateLimiterRes) {
    const ms = r.msBeforeNext
    return {
      remaining: r.remainingPoints,
      consumed: r.consumedPoints,
      first: r.isFirstInDuration,
      msBeforeNext: ms <= 0 ? ms : `<= ${BOUNDS.find(b => ms <= b * 1000) ?? 'more than 120'}s`,
    }
  }
  if (r instanceof Error) return `error ${r.message}`
  return r
}

type Step = (rl: RateLimiterRedis) => Promise<unknown>

/** Runs each step on Redis and then on FlashKV (a limiter per server, same options), comparing as it goes. */
async function sameOnBoth (opts: Record<string, unknown>, steps: Array<[string, Step]>): Promise<unknown[]> {
  const limiters = clients.map(c => new RateLimiterRedis({ storeClient: c, ...opts }))
  const seen: unknown[] = []
  for (const [label, step] of steps) {
    const out: unknown[] = []
    for (const rl of limiters) {
      try { out.push(['ok', show(await step(rl))]) } catch (e) { out.push(['rejected', show(e)]) }
    }
    expect(out[1], `${label} (${JSON.stringify(opts)})`).toEqual(out[0])
    seen.push(out[0])
  }
  return seen
}

const consume = (points = 1): Step => async rl => await rl.consume('user', points)

it('consume until blocked: remaining points, consumed points and msBeforeNext as Redis', async () => {
  const seen = await sameOnBoth({ keyPrefix: 'a', points: 5, duration: 60 }, [
    ['consume 1', consume()], ['consume 1', consume()], ['consume 2', consume(2)], ['consume 1 (last point)', consume()],
    ['consume 1 (over)', consume()], ['consume 3 (over)', consume(3)], ['get', async rl => await rl.get('user')],
    ['reward 4', async rl => await rl.reward('user', 4)], ['consume after reward', consume()],
    ['penalty 2', async rl => await rl.penalty('user', 2)], ['get', async rl => await rl.get('user')],
    ['delete', async rl => await rl.delete('user')], ['get deleted', async rl => await rl.get('user')],
    ['consume after delete', consume()],
  ])
  // The first rejection: nothing left, and the window (60 s) still running.
  expect(seen[4]).toEqual(['rejected', { remaining: 0, consumed: 6, first: false, msBeforeNext: '<= 60s' }])
  expect(seen[13]).toEqual(['ok', { remaining: 4, consumed: 1, first: true, msBeforeNext: '<= 60s' }])
})

it('blockDuration: once over the limit the key is blocked for the block time', async () => {
  const seen = await sameOnBoth({ keyPrefix: 'b', points: 2, duration: 10, blockDuration: 120 }, [
    ['consume', consume()], ['consume', consume()], ['consume (over: blocks)', consume()], ['consume (blocked)', consume()],
    ['get', async rl => await rl.get('user')], ['block u2', async rl => await rl.block('u2', 30)],
    ['consume u2', async rl => await rl.consume('u2')], ['set u3', async rl => await rl.set('u3', 7, 10)],
    ['get u3', async rl => await rl.get('u3')],
  ])
  expect(seen[2]).toEqual(['rejected', { remaining: 0, consumed: 3, first: false, msBeforeNext: '<= 120s' }])
})

it('duration 0: points never expire (msBeforeNext -1)', async () => {
  const seen = await sameOnBoth({ keyPrefix: 'c', points: 2, duration: 0 }, [
    ['consume', consume()], ['consume', consume()], ['consume (over)', consume()], ['get', async rl => await rl.get('user')],
  ])
  expect(seen[2]).toEqual(['rejected', { remaining: 0, consumed: 3, first: false, msBeforeNext: -1 }])
})

it('the keys left behind, with their TTLs', async () => {
  const [a, b] = await Promise.all(clients.map(async c => {
    const keys = (await c.keys('*')).sort()
    return await Promise.all(keys.map(async k => [k, await c.type(k), Math.sign(await c.pttl(k))]))
  }))
  expect(b).toEqual(a)
  expect(a.length).toBeGreaterThan(3)
})
