// Worker side of bench/micro/handoff.bench.ts: a piscina task function (echo a batch's byte
// count) and, when started as a plain worker with ring buffers, a ring echo loop shaped like
// the shard worker's (Atomics.wait on SEQ, echo every record, one wake-up message per batch).

import { parentPort, workerData } from 'node:worker_threads'
import { RingReader, RingWriter, SEQ, STOP, NOTIFIED } from '../../src/ipc/ring.js'

export default function echoTask (batch: Uint8Array): number {
  let sum = 0
  for (let i = 0; i < batch.length; i += 64) sum += batch[i]
  return sum
}

const wd = workerData as { ring?: { req: any, resp: any } } | undefined
if (wd?.ring !== undefined && parentPort !== null) {
  const reqs = new RingReader(wd.ring.req)
  const resps = new RingWriter(wd.ring.resp)
  for (;;) {
    const seq = Atomics.load(reqs.ctrl, SEQ)
    if (Atomics.load(reqs.ctrl, STOP) !== 0) break
    if (!reqs.poll()) { Atomics.wait(reqs.ctrl, SEQ, seq, 100); continue }
    while (reqs.next()) {
      const off = resps.reserve(reqs.payloadLen)
      resps.u8.copyWithin(off, reqs.payload, reqs.payload + reqs.payloadLen)
      resps.commit(off, reqs.payloadLen)
    }
    reqs.release()
    if (resps.publish() && Atomics.exchange(resps.ctrl, NOTIFIED, 1) === 0) parentPort.postMessage(0)
  }
}
