// Echo side of ring.test.ts's two-thread test: reads every record from the request ring and
// writes its payload unchanged to the response ring, in order, until STOP. It runs the compiled
// ring (dist/src/ipc/ring.js), since a worker thread cannot load the TypeScript source.
//
//   main ──req ring──▶ this worker ──resp ring──▶ main

import { parentPort, workerData } from 'node:worker_threads'
import { HEAD, RingReader, RingWriter, SEQ, STOP, TAIL } from '../../../dist/src/ipc/ring.js'

const reader = new RingReader(workerData.req)
const writer = new RingWriter(workerData.resp)
let echoed = 0
let fullWaits = 0

for (;;) {
  const seq = Atomics.load(reader.ctrl, SEQ)
  if (!reader.poll()) {
    if (Atomics.load(reader.ctrl, STOP) !== 0) break
    Atomics.wait(reader.ctrl, SEQ, seq, 20)
    continue
  }
  while (reader.next()) {
    const n = reader.payloadLen
    let off = writer.reserve(n)
    while (off === -1) {
      // Response ring full: show main what is staged, then sleep until it moves TAIL (the test
      // notifies on TAIL after each release; the timeout only guards against a lost wake-up).
      const tail = Atomics.load(writer.ctrl, TAIL)
      if (writer.publish()) Atomics.notify(writer.ctrl, SEQ)
      fullWaits++
      off = writer.reserve(n)
      if (off !== -1) break
      Atomics.wait(writer.ctrl, TAIL, tail, 5)
      off = writer.reserve(n)
    }
    writer.u8.set(reader.u8.subarray(reader.payload, reader.payload + n), off)
    writer.commit(off, n)
    echoed++
  }
  // Release only after the payloads were copied out: the producer may overwrite them then.
  reader.release()
  if (writer.publish()) Atomics.notify(writer.ctrl, SEQ)
}

parentPort.postMessage({ echoed, fullWaits, head: Atomics.load(writer.ctrl, HEAD) })
