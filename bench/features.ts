// Benchmarks of what redis-benchmark cannot drive: a transaction is four commands whose replies
// come back as one unit. A small load generator opens `clients` connections; each sends one
// transaction, waits for all its replies, and sends the next, until `n` transactions are done.
// Throughput is transactions per second; latencies are from the first byte sent to the EXEC
// reply, per transaction. Run by run.ts (mode c50-txn) beside Redis.
//
//   multi_1shard   MULTI; SET {t}a v; INCR {t}b; EXEC        (both keys on one shard)
//   multi_xshard   MULTI; SET a v; INCR b; EXEC              (a and b on different shards with 2 and 4)
//   watch_xshard   WATCH c; MULTI; SET a v; INCR b; EXEC  (c never written: every EXEC runs; with
//                  2 and 4 shards the transaction engine holds both shards, server/engine.ts)
//   watch_1shard   WATCH {t}c; MULTI; SET {t}a v; INCR {t}b; EXEC   (every key on one shard: the
//                  common ioredis watch() of one key; not in the default list)
//   rename_xshard  SET a v; RENAME a b, pipelined          (a cross-shard RENAME per round; racing
//                  clients may find a gone: "no such key" is part of the work, as on Redis)
//   pipe_1shard    SET {t}a v; INCR {t}b, no MULTI: the same work as a plain pipeline, for reference
//   publish_fanout 100 subscribers of one channel, one publisher sending PUBLISH one at a time:
//                  messages per second, counted when the last subscriber has the last one
//   blpop_pingpong 25 pairs: one client BLPOPs its list, the other LPUSHes to it, round after
//                  round: rounds per second; latency from the BLPOP sent to its answer
//   bullmq         BullMQ 6: n/10 jobs (5,000 at the full size) added by 50 producers one
//                  Queue.add at a time while one Worker (concurrency 50) runs them: jobs per
//                  second from the first add to the last completion; latency from a job's add
//                  to its completion event. An untimed round of a tenth as many jobs goes first.
// FEATURE_TESTS=... picks tests (the default: all but pipe_1shard and watch_1shard).

import { connect, type Socket } from 'node:net'
import { shardOfKey } from '../src/storage/hash.js'
import { respCommand as encode, type Run } from './servers.js'

export const FEATURE_TESTS = (process.env.FEATURE_TESTS ?? 'multi_1shard,multi_xshard,watch_xshard,rename_xshard,publish_fanout,blpop_pingpong,bullmq').split(',')

/** Two keys on different shards for 2 and for 4 shards. */
function crossShardKeys (): [string, string] {
  for (let i = 0; ; i++) {
    const a = `xa:${i}`
    for (let j = 0; j < 1000; j++) {
      const b = `xb:${j}`
      const a2 = Buffer.from(a)
      const b2 = Buffer.from(b)
      if (shardOfKey(a2, 0, a2.length, 2) !== shardOfKey(b2, 0, b2.length, 2) &&
        shardOfKey(a2, 0, a2.length, 4) !== shardOfKey(b2, 0, b2.length, 4)) return [a, b]
    }
  }
}

function transaction (test: string): { bytes: Buffer, replies: number } {
  if (test === 'pipe_1shard') return { bytes: Buffer.from(encode(['SET', '{t}a', 'v']) + encode(['INCR', '{t}b'])), replies: 2 }
  if (test === 'watch_1shard') {
    return { bytes: Buffer.from(encode(['WATCH', '{t}c']) + encode(['MULTI']) + encode(['SET', '{t}a', 'v']) + encode(['INCR', '{t}b']) + encode(['EXEC'])), replies: 5 }
  }
  const [a, b] = test === 'multi_1shard' ? ['{t}a', '{t}b'] : crossShardKeys()
  if (test === 'watch_xshard') {
    return { bytes: Buffer.from(encode(['WATCH', 'xc']) + encode(['MULTI']) + encode(['SET', a, 'v']) + encode(['INCR', b]) + encode(['EXEC'])), replies: 5 }
  }
  if (test === 'rename_xshard') return { bytes: Buffer.from(encode(['SET', a, 'v']) + encode(['RENAME', a, b])), replies: 2 }
  return { bytes: Buffer.from(encode(['MULTI']) + encode(['SET', a, 'v']) + encode(['INCR', b]) + encode(['EXEC'])), replies: 4 }
}

/** Offset past one complete reply at p, or -1 if buf does not hold it all yet. */
function replyEnd (buf: Buffer, p: number, end: number): number {
  if (p >= end) return -1
  const nl = buf.indexOf(10, p)
  if (nl < 0 || nl >= end) return -1
  const t = buf[p]
  if (t === 36) { // $
    const n = Number(buf.toString('latin1', p + 1, nl - 1))
    if (n < 0) return nl + 1
    return nl + 1 + n + 2 <= end ? nl + 1 + n + 2 : -1
  }
  if (t === 42) { // *
    const n = Number(buf.toString('latin1', p + 1, nl - 1))
    let q = nl + 1
    for (let i = 0; i < n; i++) { q = replyEnd(buf, q, end); if (q < 0) return -1 }
    return q
  }
  return nl + 1
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function open (port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1')
  s.setNoDelay(true)
  await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  return s
}

/** Counts complete replies arriving on s; calls back once per reply. */
function onReplies (s: Socket, each: () => void): void {
  let buf = Buffer.alloc(0)
  s.on('data', d => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d])
    let p = 0
    for (let q = replyEnd(buf, p, buf.length); q >= 0; q = replyEnd(buf, p, buf.length)) { p = q; each() }
    buf = buf.subarray(p)
  })
}

function runOf (test: string, n: number, clients: number, size: number, secs: number, latencies: number[], command: string): Run {
  latencies.sort((a, b) => a - b)
  const round = (x: number): number => Math.round(x * 1000) / 1000
  return {
    test, size, clients, pipeline: 1, rps: n / secs,
    p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)), p999: round(percentile(latencies, 0.999)), command,
  }
}

/** 100 subscribers; the publisher sends n PUBLISHes one at a time; done when every subscriber has n messages. */
async function fanout (port: number, test: string, n: number, size: number): Promise<Run> {
  const SUBS = 100
  const subs = await Promise.all(Array.from({ length: SUBS }, async () => await open(port)))
  const got = new Int32Array(SUBS)
  let done = 0
  let allDone: () => void = () => {}
  const finished = new Promise<void>(resolve => { allDone = resolve })
  await Promise.all(subs.map(async (s, i) => {
    let confirmed = false
    await new Promise<void>(resolve => {
      onReplies(s, () => {
        if (!confirmed) { confirmed = true; resolve(); return }
        if (++got[i] === n && ++done === SUBS) allDone()
      })
      s.write(encode(['SUBSCRIBE', 'fan']))
    })
  }))
  const pub = await open(port)
  const msg = Buffer.from(encode(['PUBLISH', 'fan', 'x'.repeat(size)]))
  const latencies: number[] = []
  const t0 = process.hrtime.bigint()
  await new Promise<void>(resolve => {
    let sent = 0
    let at = 0n
    const next = (): void => {
      if (sent === n) { resolve(); return }
      sent++
      at = process.hrtime.bigint()
      pub.write(msg)
    }
    onReplies(pub, () => { latencies.push(Number(process.hrtime.bigint() - at) / 1e6); next() })
    next()
  })
  await finished
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  for (const s of [...subs, pub]) s.destroy()
  return runOf(test, n, SUBS, size, secs, latencies, `bench/features.ts ${test}: ${SUBS} subscribers, ${n} PUBLISH`)
}

/** 25 pairs: BLPOP on one connection, LPUSH on the other, n rounds in all. */
async function pingpong (port: number, test: string, n: number, size: number): Promise<Run> {
  const PAIRS = 25
  const latencies: number[] = []
  let started = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: PAIRS }, async (_v, i) => {
    const [a, b] = await Promise.all([open(port), open(port)])
    const key = `pp:${i}`
    const pop = Buffer.from(encode(['BLPOP', key, '0']))
    const push = Buffer.from(encode(['LPUSH', key, 'x'.repeat(size)]))
    await new Promise<void>(resolve => {
      let at = 0n
      let pending = 0
      const round = (): void => {
        if (started >= n) { resolve(); return }
        started++
        pending = 2
        at = process.hrtime.bigint()
        a.write(pop)
        b.write(push)
      }
      onReplies(a, () => { latencies.push(Number(process.hrtime.bigint() - at) / 1e6); if (--pending === 0) round() })
      onReplies(b, () => { if (--pending === 0) round() })
      round()
    })
    a.destroy()
    b.destroy()
  }))
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  return runOf(test, n, PAIRS * 2, size, secs, latencies, `bench/features.ts ${test}: ${PAIRS} pairs, ${n} rounds`)
}

/**
 * BullMQ: `jobs` jobs added by `clients` producers while one Worker of concurrency `clients` runs
 * them. A tenth as many go through first, untimed, on another queue: both servers have then
 * loaded BullMQ's scripts, and FlashKV's JIT has seen them.
 */
async function bullmq (port: number, test: string, jobs: number, clients: number, size: number): Promise<Run> {
  await bullmqRound(port, test, Math.max(200, Math.floor(jobs / 10)), clients, size)
  return await bullmqRound(port, test, jobs, clients, size)
}

async function bullmqRound (port: number, test: string, jobs: number, clients: number, size: number): Promise<Run> {
  // Loaded here, so that the other tests run without BullMQ (a devDependency) installed.
  const { Queue, Worker } = await import('bullmq')
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null }
  const name = `bench${Date.now()}-${jobs}`
  // BULLMQ_PREFIX='{bull}': one hash tag for all of a queue's keys (as on a Redis Cluster), so that
  // at several shards BullMQ's scripts run in a shard's worker.
  const prefix = process.env.BULLMQ_PREFIX ?? 'bull'
  const queue = new Queue(name, { connection, prefix })
  const addedAt = new Map<string, bigint>()
  const latencies: number[] = []
  let completed = 0
  let allDone: () => void = () => {}
  const finished = new Promise<void>(resolve => { allDone = resolve })
  const payload = { v: 'x'.repeat(size) }
  const worker = new Worker(name, async () => 1, { connection, prefix, concurrency: clients, removeOnComplete: { count: 1000 } })
  worker.on('completed', (job) => {
    const at = addedAt.get(job.id as string)
    if (at !== undefined) latencies.push(Number(process.hrtime.bigint() - at) / 1e6)
    if (++completed === jobs) allDone()
  })
  await worker.waitUntilReady()
  let added = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: clients }, async () => {
    while (added < jobs) {
      const id = `j${added++}`
      addedAt.set(id, process.hrtime.bigint())
      await queue.add('job', payload, { jobId: id, removeOnComplete: { count: 1000 } })
    }
  }))
  await finished
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  return runOf(test, jobs, clients, size, secs, latencies, `bench/features.ts ${test}: ${jobs} jobs, ${clients} producers, Worker concurrency ${clients}`)
}

/** Runs n transactions over `clients` connections; resolves with a redis-benchmark-like Run. */
export async function featureRun (port: number, test: string, n: number, clients: number, size: number): Promise<Run> {
  if (test === 'publish_fanout') return await fanout(port, test, Math.max(1000, Math.floor(n / 20)), size)
  if (test === 'blpop_pingpong') return await pingpong(port, test, n, size)
  if (test === 'bullmq') return await bullmq(port, test, Math.max(1000, Math.floor(n / 10)), clients, size)
  const { bytes, replies } = transaction(test)
  const latencies: number[] = []
  let started = 0
  let failures = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: clients }, async () => {
    const s: Socket = connect(port, '127.0.0.1')
    s.setNoDelay(true)
    await new Promise(resolve => s.once('connect', resolve))
    let buf = Buffer.alloc(0)
    await new Promise<void>((resolve, reject) => {
      let sentAt = 0n
      const next = (): void => {
        if (started >= n) { s.destroy(); resolve(); return }
        started++
        sentAt = process.hrtime.bigint()
        s.write(bytes)
      }
      s.on('data', d => {
        buf = buf.length === 0 ? d : Buffer.concat([buf, d])
        let p = 0
        let count = 0
        for (let q = replyEnd(buf, p, buf.length); q >= 0 && count < replies; q = replyEnd(buf, p, buf.length)) {
          if (count === replies - 1 && replies === 4 && buf[p] !== 42) failures++ // EXEC answered something else
          p = q
          count++
        }
        if (count < replies) return
        buf = buf.subarray(p)
        latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6)
        next()
      })
      s.on('error', reject)
      next()
    })
  }))
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  if (failures > 0) throw new Error(`${test}: ${failures} EXEC replies were not arrays`)
  latencies.sort((a, b) => a - b)
  const round = (x: number): number => Math.round(x * 1000) / 1000
  return {
    test, size, clients, pipeline: 1, rps: n / secs,
    p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)), p999: round(percentile(latencies, 0.999)),
    command: `bench/features.ts ${test}: ${clients} clients, ${n} transactions`,
  }
}
