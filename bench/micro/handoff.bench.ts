// Hand-off between the primary and worker threads: piscina tasks (one per command, 64 in
// flight, one per 64-command batch) against our SharedArrayBuffer ring with one publish per
// batch. The figures behind the piscina decision in docs/ARCHITECTURE.md.
// Run: npm run build && node dist/bench/micro/handoff.bench.js

import { Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { createRing, RingWriter, RingReader, STOP, SEQ, NOTIFIED } from '../../src/ipc/ring.js'

const WORKER = new URL('./handoff-workers.js', import.meta.url)
const CMD_BYTES = 45

function report (name: string, commands: number, ms: number): void {
  const perCmdUs = (ms * 1000) / commands
  console.log(`${name.padEnd(44)} ${Math.round(commands / (ms / 1000)).toLocaleString('en').padStart(12)} cmd/s ${perCmdUs.toFixed(2).padStart(8)} µs/cmd`)
}

async function piscinaBench (): Promise<void> {
  const pool = new Piscina({ filename: WORKER.href, minThreads: 1, maxThreads: 1 })
  const one = new Uint8Array(CMD_BYTES)
  for (let i = 0; i < 200; i++) await pool.run(one) // warm-up
  let n = 3000
  let t = performance.now()
  for (let i = 0; i < n; i++) await pool.run(one)
  report('piscina, 1 task per command, 1 in flight', n, performance.now() - t)

  n = 20000
  t = performance.now()
  const inflight: Promise<unknown>[] = []
  for (let i = 0; i < n; i++) {
    inflight.push(pool.run(one))
    if (inflight.length === 64) { await Promise.all(inflight); inflight.length = 0 }
  }
  await Promise.all(inflight)
  report('piscina, 1 task per command, 64 in flight', n, performance.now() - t)

  const batch = new Uint8Array(CMD_BYTES * 64)
  n = 2000
  t = performance.now()
  for (let i = 0; i < n; i++) await pool.run(batch)
  report('piscina, 1 task per 64-command batch', n * 64, performance.now() - t)
  await pool.destroy()
}

async function ringBench (): Promise<void> {
  const req = createRing(1 << 20)
  const resp = createRing(1 << 20)
  const w = new Worker(WORKER, { workerData: { ring: { req, resp } } })
  const writer = new RingWriter(req)
  const reader = new RingReader(resp)
  let waiting: (() => void) | null = null
  let received = 0
  w.on('message', () => {
    Atomics.store(reader.ctrl, NOTIFIED, 0)
    while (reader.poll()) {
      while (reader.next()) received++
      reader.release()
    }
    if (waiting !== null) { const f = waiting; waiting = null; f() }
  })
  const roundTrip = async (batchSize: number): Promise<void> => {
    const target = received + batchSize
    for (let i = 0; i < batchSize; i++) {
      const off = writer.reserve(CMD_BYTES)
      writer.commit(off, CMD_BYTES)
    }
    if (writer.publish()) Atomics.notify(writer.ctrl, SEQ, 1)
    while (received < target) await new Promise<void>(resolve => { waiting = resolve })
  }
  for (let i = 0; i < 200; i++) await roundTrip(1)
  let n = 3000
  let t = performance.now()
  for (let i = 0; i < n; i++) await roundTrip(1)
  report('SAB ring, 1 command per publish', n, performance.now() - t)
  n = 3000
  t = performance.now()
  for (let i = 0; i < n; i++) await roundTrip(64)
  report('SAB ring, 64 commands per publish', n * 64, performance.now() - t)
  Atomics.store(writer.ctrl, STOP, 1)
  Atomics.notify(writer.ctrl, SEQ)
  await w.terminate()
}

await piscinaBench()
await ringBench()
