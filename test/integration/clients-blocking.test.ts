// Blocking list commands through real clients with their default options, against FlashKV
// (4 shards): ioredis 6 (HELLO 3; blpop / brpop / blmove / brpoplpush / blmpop resolve null on a
// timeout), node-redis 6 (RESP 3 by default, and RESP 2; a blocking command gets its own
// connection from client.duplicate(), as node-redis recommends, since it holds the connection),
// and redis-py 4.3.4 (RESP 2; run by /usr/bin/python3 in a child process that prints JSON).
// Every blocked call is served by a push from another connection, once with keys of one shard
// ({tag} keys) and once with keys of several shards, or times out. Last, a BullMQ-like queue: two
// worker loops BLMOVE jobs from {q}:wait to {q}:active (timeout 1 s) while a producer LPUSHes 200
// jobs; every job must arrive exactly once. Waits are for a client to be blocked (a fixed sleep,
// or polling INFO's blocked_clients); nothing asserts elapsed time.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectIoredis, connectNodeRedis, connectDuplicate, type NodeRedisClient } from './helpers/client-libs.js'
import { rawOnce } from './helpers/raw.js'
import { hasRedisPy, redisPyLabel, py as helperPy } from './helpers/redis-py.js'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4

let server: ServerHandle
useFlushedFlashKV({ shards: SHARDS }, s => { server = s })

/** One key per shard: K[s] lives on shard s. */
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `cb${s}:`)[0])
/** Keys that share a hash tag, so they live on one shard. */
const T = { a: '{t}:a', b: '{t}:b', c: '{t}:c' }

it('test keys land where the test expects', () => {
  expect(K.map(k => shardOfKey(k, SHARDS))).toEqual([0, 1, 2, 3])
  expect(new Set([T.a, T.b, T.c].map(k => shardOfKey(k, SHARDS))).size).toBe(1)
  expect(shardOfKey('{q}:wait', SHARDS)).toBe(shardOfKey('{q}:active', SHARDS))
})

/** Same-shard ({tag}) and cross-shard key pairs. */
const PAIRS = [['one shard ({t} keys)', T.a, T.b], ['two shards', K[0], K[1]]] as const

const BLOCK_MS = 100
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const raw = async (...args: string[]): Promise<string> => await rawOnce(server.port, server.host, ...args)

/** INFO clients' blocked_clients. */
async function blockedClients (): Promise<number> {
  const m = /(?:^|\r\n)blocked_clients:(\d+)\r\n/.exec(await raw('INFO', 'clients'))
  expect(m).not.toBeNull()
  return Number(m?.[1])
}

/** Polls blocked_clients until it is at least n (a client in a child process has sent its command). */
async function waitBlocked (n: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (await blockedClients() < n) {
    if (Date.now() > deadline) throw new Error(`blocked_clients did not reach ${n} within ${timeoutMs} ms`)
    await sleep(20)
  }
}

const ioredis = async (): Promise<Redis> => await connectIoredis(server)

describe('ioredis 6 (default options)', () => {
  let blocker: Redis
  let pusher: Redis

  beforeAll(async () => {
    ;[blocker, pusher] = await Promise.all([ioredis(), ioredis()])
  })

  afterAll(async () => {
    blocker?.disconnect()
    await pusher?.quit()
  })

  for (const [label, k1, k2] of PAIRS) {
    it(`blpop on two keys, served by an rpush from another client (${label})`, async () => {
      const p = blocker.blpop(k1, k2, 0)
      await sleep(BLOCK_MS)
      expect(await blockedClients()).toBe(1)
      expect(await pusher.rpush(k2, 'x', 'y')).toBe(2)
      expect(await p).toEqual([k2, 'x'])
      expect(await pusher.lrange(k2, 0, -1)).toEqual(['y'])
      expect(await blockedClients()).toBe(0)
    })

    it(`brpop on two keys, served by an lpush from another client (${label})`, async () => {
      const p = blocker.brpop([k1, k2], 0)
      await sleep(BLOCK_MS)
      expect(await pusher.lpush(k1, 'a', 'b', 'c')).toBe(3)
      expect(await p).toEqual([k1, 'a'])
      expect(await pusher.lrange(k1, 0, -1)).toEqual(['c', 'b'])
    })

    it(`blmove LEFT RIGHT, served by an rpush to the source (${label})`, async () => {
      await pusher.rpush(k2, 'old')
      const p = blocker.blmove(k1, k2, 'LEFT', 'RIGHT', 0)
      await sleep(BLOCK_MS)
      expect(await pusher.rpush(k1, 'a', 'b')).toBe(2)
      expect(await p).toBe('a')
      expect(await pusher.lrange(k1, 0, -1)).toEqual(['b'])
      expect(await pusher.lrange(k2, 0, -1)).toEqual(['old', 'a'])
    })

    it(`brpoplpush and blmpop, served by pushes (${label})`, async () => {
      const p1 = blocker.brpoplpush(k1, k2, 0)
      await sleep(BLOCK_MS)
      await pusher.rpush(k1, 'a', 'b')
      expect(await p1).toBe('b')
      const p2 = blocker.blmpop(0, 2, k1, k2, 'RIGHT', 'COUNT', 5)
      expect(await p2).toEqual([k1, ['a']])
      const p3 = blocker.blmpop(0, 2, k1, k2, 'RIGHT', 'COUNT', 5)
      expect(await p3).toEqual([k2, ['b']])
      const p4 = blocker.blmpop(0, 2, k1, k2, 'LEFT', 'COUNT', 2)
      await sleep(BLOCK_MS)
      await pusher.rpush(k2, 'c', 'd', 'e')
      expect(await p4).toEqual([k2, ['c', 'd']])
    })

    it(`timeouts resolve null (${label})`, async () => {
      expect(await blocker.blpop(k1, k2, 0.1)).toBeNull()
      expect(await blocker.brpop(k1, k2, 0.1)).toBeNull()
      expect(await blocker.blmove(k1, k2, 'RIGHT', 'LEFT', 0.1)).toBeNull()
      expect(await blocker.brpoplpush(k1, k2, 0.1)).toBeNull()
      expect(await blocker.blmpop(0.1, 2, k1, k2, 'LEFT')).toBeNull()
      expect(await blocker.ping()).toBe('PONG')
      expect(await pusher.exists(k1, k2)).toBe(0)
    })
  }

  it('three ioredis clients blocked on one key are served in order by one rpush', async () => {
    const [b2, b3] = await Promise.all([ioredis(), ioredis()])
    try {
      const p1 = blocker.blpop(T.c, 0)
      await sleep(50)
      const p2 = b2.blpop(T.c, 0)
      await sleep(50)
      const p3 = b3.blpop(T.c, 0)
      await sleep(BLOCK_MS)
      expect(await pusher.rpush(T.c, 'a', 'b', 'c')).toBe(3)
      expect(await Promise.all([p1, p2, p3])).toEqual([[T.c, 'a'], [T.c, 'b'], [T.c, 'c']])
    } finally {
      b2.disconnect()
      b3.disconnect()
    }
  })

  it('immediate pops when the lists have data, and a WRONGTYPE rejection', async () => {
    await pusher.rpush(K[2], 'a', 'b', 'c')
    expect(await blocker.blpop(K[0], K[2], 0)).toEqual([K[2], 'a'])
    expect(await blocker.brpop(K[2], 0)).toEqual([K[2], 'c'])
    expect(await blocker.blmove(K[2], K[3], 'LEFT', 'LEFT', 0)).toBe('b')
    await pusher.set(K[1], 'str')
    await expect(blocker.blpop(K[1], K[3], 0)).rejects.toThrow(/^WRONGTYPE /)
  })
})

describe('node-redis 6 (default options)', () => {
  for (const resp of [3, 2] as const) {
    describe(`RESP ${resp}`, () => {
      let client: NodeRedisClient
      let blocker: NodeRedisClient
      const errors: Error[] = []

      beforeAll(async () => {
        client = await connectNodeRedis(server, resp, errors)
        // A blocking command holds its connection: node-redis runs it on a duplicate.
        blocker = await connectDuplicate(client, errors)
      })

      afterAll(async () => {
        if (blocker?.isOpen) blocker.destroy()
        if (client?.isOpen) await client.close()
      })

      for (const [label, k1, k2] of PAIRS) {
        it(`blPop on two keys, served by an rPush from the main client (${label})`, async () => {
          const p = blocker.blPop([k1, k2], 0)
          await sleep(BLOCK_MS)
          expect(await blockedClients()).toBe(1)
          expect(await client.rPush(k2, ['x', 'y'])).toBe(2)
          expect(await p).toEqual({ key: k2, element: 'x' })
          expect(await client.lRange(k2, 0, -1)).toEqual(['y'])
          expect(errors).toEqual([])
        })

        it(`blMove RIGHT LEFT, served by an rPush to the source (${label})`, async () => {
          const p = blocker.blMove(k1, k2, 'RIGHT', 'LEFT', 0)
          await sleep(BLOCK_MS)
          expect(await client.rPush(k1, ['a', 'b'])).toBe(2)
          expect(await p).toBe('b')
          expect(await client.lRange(k1, 0, -1)).toEqual(['a'])
          expect(await client.lRange(k2, 0, -1)).toEqual(['b'])
        })

        it(`brPop and blmPop, served by pushes (${label})`, async () => {
          const p1 = blocker.brPop([k1, k2], 0)
          await sleep(BLOCK_MS)
          await client.lPush(k1, ['a', 'b', 'c'])
          expect(await p1).toEqual({ key: k1, element: 'a' })
          expect(await blocker.blmPop(0, [k2, k1], 'LEFT', { COUNT: 5 })).toEqual([k1, ['c', 'b']])
        })

        it(`timeouts resolve null (${label})`, async () => {
          expect(await blocker.blPop([k1, k2], 0.1)).toBeNull()
          expect(await blocker.brPop([k1, k2], 0.1)).toBeNull()
          expect(await blocker.blMove(k1, k2, 'LEFT', 'LEFT', 0.1)).toBeNull()
          expect(await blocker.brPopLPush(k1, k2, 0.1)).toBeNull()
          expect(await blocker.blmPop(0.1, [k1, k2], 'RIGHT')).toBeNull()
          expect(await blocker.ping()).toBe('PONG')
          expect(errors).toEqual([])
        })
      }

      it('the main client keeps working while the duplicate is blocked', async () => {
        const p = blocker.blPop(T.c, 0)
        await sleep(BLOCK_MS)
        expect(await client.set('s', 'v')).toBe('OK')
        expect(await client.get('s')).toBe('v')
        expect(await client.rPush(T.c, 'done')).toBe(1)
        expect(await p).toEqual({ key: T.c, element: 'done' })
      })
    })
  }
})

/** redis-py with this file's server. */
async function py (body: string): Promise<unknown> {
  return await helperPy(server, body, [])
}

describe.skipIf(!hasRedisPy)(redisPyLabel, () => {
  it('blpop with a timeout returns None; with data it pops at once', async () => {
    expect(await py(`
out = [r.blpop(['${T.a}', '${K[1]}'], timeout=0.1), r.brpop('${K[2]}', timeout=0.1)]
r.rpush('${K[1]}', 'a', 'b')
out += [r.blpop(['${T.a}', '${K[1]}'], timeout=0.1), r.brpop(['${K[1]}'], timeout=1)]
print(json.dumps(out))
`)).toEqual([null, null, [K[1], 'a'], [K[1], 'b']])
  })

  for (const [label, k1, k2] of PAIRS) {
    it(`blpop in a child process, served by a push done from the test (${label})`, async () => {
      const p = py(`print(json.dumps(r.blpop(['${k1}', '${k2}'], timeout=0)))`)
      await waitBlocked(1)
      expect(await raw('RPUSH', k2, 'x')).toBe(':1\r\n')
      expect(await p).toEqual([k2, 'x'])
      expect(await blockedClients()).toBe(0)
    })

    it(`blmove in a child process, served by a push done from the test (${label})`, async () => {
      const p = py(`print(json.dumps([r.blmove('${k1}', '${k2}', 0, 'RIGHT', 'LEFT'), r.lrange('${k2}', 0, -1)]))`)
      await waitBlocked(1)
      expect(await raw('RPUSH', k1, 'a', 'b')).toBe(':2\r\n')
      expect(await p).toEqual(['b', ['b']])
    })
  }
})

describe('a BullMQ-like queue with ioredis: BLMOVE {q}:wait → {q}:active', () => {
  it('two worker loops (BLMOVE timeout 1) receive 200 LPUSHed jobs exactly once', async () => {
    const JOBS = 200
    const [producer, w1, w2] = await Promise.all([ioredis(), ioredis(), ioredis()])
    const received: string[] = []
    const byWorker: number[][] = [[], []]
    const deadline = Date.now() + 20_000
    const worker = async (c: Redis, w: number): Promise<void> => {
      while (received.length < JOBS && Date.now() < deadline) {
        const job = await c.blmove('{q}:wait', '{q}:active', 'RIGHT', 'LEFT', 1)
        if (job === null) continue // timed out: poll again, as a BullMQ worker does
        received.push(job)
        byWorker[w].push(Number(job.slice('job:'.length)))
        // Done: remove the job from the active list (BullMQ's moveToFinished, reduced).
        expect(await c.lrem('{q}:active', 1, job)).toBe(1)
      }
    }
    try {
      const workers = [worker(w1, 0), worker(w2, 1)]
      await sleep(BLOCK_MS) // the workers start blocked on an empty queue
      for (let i = 0; i < JOBS; i++) {
        expect(await producer.lpush('{q}:wait', `job:${i}`)).toBeGreaterThanOrEqual(1)
        if (i % 25 === 24) await sleep(20) // let the queue drain now and then, so the workers block again
      }
      await Promise.all(workers)
      expect(received.length).toBe(JOBS)
      expect(new Set(received).size).toBe(JOBS)
      expect([...received].sort()).toEqual(Array.from({ length: JOBS }, (_, i) => `job:${i}`).sort())
      expect(await producer.llen('{q}:wait')).toBe(0)
      expect(await producer.llen('{q}:active')).toBe(0)
      // The queue is FIFO (LPUSH, then BLMOVE from the RIGHT): each worker gets its jobs in order.
      for (const jobs of byWorker) expect(jobs).toEqual([...jobs].sort((a, b) => a - b))
    } finally {
      producer.disconnect()
      w1.disconnect()
      w2.disconnect()
    }
  })
})
