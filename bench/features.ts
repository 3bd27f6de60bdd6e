// Benchmarks of what redis-benchmark cannot drive: a transaction is four commands whose replies
// come back as one unit. A small load generator opens `clients` connections; each sends one
// transaction, waits for all its replies, and sends the next, until `n` transactions are done.
// Throughput is transactions per second; latencies are from the first byte sent to the EXEC
// reply, per transaction. Run by run.ts (mode c50-txn) beside Redis.
//
//   multi_1shard   MULTI; SET {t}a v; INCR {t}b; EXEC        (both keys on one shard)
//   multi_xshard   MULTI; SET a v; INCR b; EXEC              (a and b on different shards with 2 and 4)
//   pipe_1shard    SET {t}a v; INCR {t}b, no MULTI: the same work as a plain pipeline, for reference
// FEATURE_TESTS=pipe_1shard,multi_1shard picks tests (the default: both multi tests).

import { connect, type Socket } from 'node:net'
import { shardOfKey } from '../src/storage/hash.js'
import type { Run } from './servers.js'

export const FEATURE_TESTS = (process.env.FEATURE_TESTS ?? 'multi_1shard,multi_xshard').split(',')

function encode (args: string[]): string {
  return `*${args.length}\r\n` + args.map(a => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')
}

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
  const [a, b] = test === 'multi_1shard' ? ['{t}a', '{t}b'] : crossShardKeys()
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

/** Runs n transactions over `clients` connections; resolves with a redis-benchmark-like Run. */
export async function featureRun (port: number, test: string, n: number, clients: number, size: number): Promise<Run> {
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
