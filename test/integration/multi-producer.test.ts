// Several producers per shard (the I/O-thread shape): every producer has its own ring to each
// shard, and multi-shard commands take per-shard tickets (src/server/sequencer.ts) that the
// shard workers honour across rings. Real shard worker threads from dist/ and real producer
// threads race split MSETs against split MGETs: with tickets, no MGET may see half an MSET.
// NO_TICKETS=1 runs the same race without tickets: it then fails with thousands of torn reads
// (100 to 3,000 of 3,000 per reader, measured), which shows the test can catch the bug.
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { ShardWorker, connectShard, endpointPorts } from '../../dist/src/server/shard-link.js'
import type { LinkEndpoint } from '../../dist/src/server/shard-link.js'
import { Credits } from '../../dist/src/server/credits.js'
import { Sequencer } from '../../dist/src/server/sequencer.js'
import type { ProducerEndpoint } from '../../dist/src/ipc/layout.js'
import { shardOfKey } from './helpers/slots.js'

const SHARD_FILE = new URL('../../dist/workers/shard-worker.js', import.meta.url)
const PRODUCER_FILE = new URL('./helpers/producer-worker.mjs', import.meta.url)
const SHARDS = 2
const running: ShardWorker[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (w) => await w.stop()))
})

/** Starts SHARDS shard workers fed by `producers` producer threads; resolves their torn-read counts. */
async function race (producers: number, rounds: number, useTickets: boolean): Promise<Array<{ torn: number, reads: number }>> {
  const keys = ['{a}k', '{b}k']
  const shardOf = keys.map((k) => shardOfKey(k, SHARDS))
  expect(shardOf[0]).not.toBe(shardOf[1])
  const bells = Array.from({ length: SHARDS }, () => ShardWorker.newBell())
  const stats = Array.from({ length: SHARDS }, () => ShardWorker.newStats())
  const toShard: ProducerEndpoint[][] = Array.from({ length: SHARDS }, () => [])
  const toProducer: LinkEndpoint[][] = Array.from({ length: producers }, () => [])
  for (let p = 0; p < producers; p++) {
    for (let s = 0; s < SHARDS; s++) {
      const ends = connectShard(s, bells[s], stats[s])
      toShard[s].push(ends.worker)
      toProducer[p].push(ends.link)
    }
  }
  const credit = new Credits().sab
  for (let s = 0; s < SHARDS; s++) running.push(new ShardWorker(s, SHARDS, SHARD_FILE, 'warn', credit, toShard[s], bells[s], stats[s]))
  const seq = new Sequencer(SHARDS).sab
  return await Promise.all(toProducer.map(async (endpoints, id) => await new Promise<{ torn: number, reads: number }>((resolve, reject) => {
    const w = new Worker(PRODUCER_FILE, {
      workerData: { id, endpoints, seq, rounds, perTurn: 50, useTickets, keys, shardOf },
      transferList: endpointPorts(endpoints),
    })
    w.once('message', (m: { torn: number, reads: number }) => { resolve(m); void w.terminate() })
    w.once('error', reject)
  })))
}

describe('several producers per shard', () => {
  it('with tickets, 2 writer and 2 reader producers × 3,000 split MSETs or MGETs: no MGET sees half an MSET', async () => {
    const results = await race(4, 3000, process.env.NO_TICKETS !== "1")
    expect(results.map((r) => r.reads)).toEqual([0, 3000, 0, 3000])
    expect(results.map((r) => r.torn)).toEqual([0, 0, 0, 0])
  }, 60_000)
})
