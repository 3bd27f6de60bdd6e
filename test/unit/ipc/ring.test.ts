// SPSC record ring. Single-thread: records come out in order and intact across wrap-arounds,
// staged records stay invisible until publish, a full ring never reads as empty, reserve refuses
// (-1) only when the ring is really short of room and succeeds again after release, and
// reserveCheck always predicts reserve. Two threads: a worker running the compiled ring echoes
// 100 000 variable-size records back through a second ring; every byte and the order are checked.
//
//   capacity 64, TAIL 24, pos 56, reserve(12) asks for a 16-byte record; only 8 bytes are left
//   at the end, so the writer puts a 0 marker at 56 and starts again at 0:
//
//     [ new 0..16 | free 16..24 | unread 24..56 | 0 ]
//
//   That is allowed only while the new pos stays strictly below TAIL: pos === TAIL reads as empty.

import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { existsSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { HEAD, RingReader, RingWriter, SEQ, STOP, TAIL, createRing, type RingBuffers } from '../../../src/ipc/ring.js'

const recordBytes = (payload: number): number => (payload + 4 + 3) & ~3
const padded = (payload: number): number => (payload + 3) & ~3

/** Payload bytes for record i: recognisable, so a record read in the wrong place fails. */
function payloadByte (i: number, j: number): number {
  return (i * 131 + j * 7 + (j >>> 8)) & 0xff
}

function write (w: RingWriter, i: number, len: number): boolean {
  const off = w.reserve(len)
  if (off === -1) return false
  expect(off % 4).toBe(0)
  expect(off + len).toBeLessThanOrEqual(w.capacity)
  for (let j = 0; j < len; j++) w.u8[off + j] = payloadByte(i, j)
  w.commit(off, len)
  return true
}

/** Reads up to max records of the current batch, checking each against its expected (i, len). */
function read (r: RingReader, expected: Array<[number, number]>, max = Infinity): number {
  let n = 0
  while (n < max && r.next()) {
    const want = expected.shift()
    if (want === undefined) throw new Error('read a record that was never written')
    const [i, len] = want
    // The ring keeps no exact length: payloadLen is rounded up to 4 (layout.ts payloads carry
    // their own lengths).
    expect(r.payloadLen).toBe(padded(len))
    expect(r.payload % 4).toBe(0)
    for (let j = 0; j < len; j++) if (r.u8[r.payload + j] !== payloadByte(i, j)) throw new Error(`record ${i}: byte ${j} differs`)
    n++
  }
  return n
}

function pair (capacity: number): { bufs: RingBuffers, w: RingWriter, r: RingReader } {
  const bufs = createRing(capacity)
  return { bufs, w: new RingWriter(bufs), r: new RingReader(bufs) }
}

describe('single thread', () => {
  it('capacity must be a multiple of 8', () => {
    expect(() => createRing(12)).toThrow('multiple of 8')
    expect(() => createRing(16)).not.toThrow()
  })

  it('records come out in order; staged ones stay invisible until publish', () => {
    const { w, r } = pair(256)
    const exp: Array<[number, number]> = []
    for (let i = 0; i < 5; i++) { expect(write(w, i, i * 3)).toBe(true); exp.push([i, i * 3]) }
    expect(r.poll()).toBe(false)
    expect(w.publish()).toBe(true)
    expect(Atomics.load(w.ctrl, SEQ)).toBe(1)
    expect(w.publish()).toBe(false) // nothing new
    expect(Atomics.load(w.ctrl, SEQ)).toBe(1)
    expect(r.poll()).toBe(true)
    // A record staged after the poll belongs to the next batch.
    expect(write(w, 5, 1)).toBe(true)
    exp.push([5, 1])
    expect(read(r, exp)).toBe(5)
    expect(r.next()).toBe(false)
    w.publish()
    expect(r.poll()).toBe(true)
    expect(read(r, exp)).toBe(1)
    r.release()
    expect(r.poll()).toBe(false)
    expect(Atomics.load(r.ctrl, TAIL)).toBe(Atomics.load(r.ctrl, HEAD))
  })

  it('a zero-length payload is a 4-byte record', () => {
    const { w, r } = pair(64)
    expect(write(w, 0, 0)).toBe(true)
    expect(w.pos).toBe(4)
    w.publish()
    r.poll()
    expect(read(r, [[0, 0]])).toBe(1)
  })

  it('wraps with a 0 marker when the end is too short (the diagram in the header)', () => {
    const { w, r } = pair(64)
    const exp: Array<[number, number]> = []
    write(w, 0, 20); exp.push([0, 20]) // 24 bytes
    write(w, 1, 28); exp.push([1, 28]) // 32 bytes: pos = 56
    expect(w.pos).toBe(56)
    w.publish()
    r.poll()
    read(r, exp, 1)
    r.release()
    expect(Atomics.load(r.ctrl, TAIL)).toBe(24)
    expect(write(w, 2, 12)).toBe(true); exp.push([2, 12])
    expect(w.u32[56 >>> 2]).toBe(0) // the marker
    expect(w.pos).toBe(16)
    // 8 more bytes would bring pos to TAIL; 4 still fit.
    expect(w.reserveCheck(4)).toBe(false)
    expect(w.reserve(4)).toBe(-1)
    expect(w.reserveCheck(0)).toBe(true)
    w.publish()
    expect(r.poll()).toBe(true)
    expect(read(r, exp)).toBe(2)
    r.release()
    expect(r.pos).toBe(16)
    expect(r.poll()).toBe(false)
  })

  it('a full end wraps only when the start has room below TAIL', () => {
    const { w, r } = pair(64)
    write(w, 0, 12) // 16 bytes
    write(w, 1, 36) // 40 bytes: pos = 56
    w.publish(); r.poll(); read(r, [[0, 12]], 1); r.release() // TAIL = 16
    // A 16-byte record would end at 16 === TAIL: refused, and nothing is written.
    expect(w.reserveCheck(12)).toBe(false)
    expect(w.reserve(12)).toBe(-1)
    expect(w.pos).toBe(56)
    // 8 bytes fit exactly at the end (TAIL is not 0).
    expect(write(w, 2, 4)).toBe(true)
    expect(w.pos).toBe(0)
    w.publish()
    expect(r.poll()).toBe(true)
    expect(read(r, [[1, 36], [2, 4]])).toBe(2)
  })

  it('a record may end exactly at the end of the data unless TAIL is 0', () => {
    const { w, r } = pair(64)
    // TAIL = 0: filling to the end would bring pos back to 0 === TAIL.
    expect(w.reserveCheck(60)).toBe(false)
    expect(w.reserve(60)).toBe(-1)
    expect(write(w, 0, 56)).toBe(true) // 60 of 64 bytes
    w.publish()
    r.poll()
    read(r, [[0, 56]])
    r.release()
    expect(Atomics.load(r.ctrl, TAIL)).toBe(60)
    // Now TAIL = 60: a 4-byte record fits exactly at the end and wraps pos to 0.
    expect(write(w, 1, 0)).toBe(true)
    expect(w.pos).toBe(0)
    w.publish()
    expect(Atomics.load(w.ctrl, HEAD)).toBe(0)
    expect(r.poll()).toBe(true)
    expect(read(r, [[1, 0]])).toBe(1)
    expect(r.pos).toBe(0)
  })

  it('fills up, refuses with -1, never reads full as empty, and succeeds after release', () => {
    const { w, r } = pair(1024)
    const exp: Array<[number, number]> = []
    let i = 0
    while (write(w, i, 20)) exp.push([i++, 20])
    expect(i).toBe(Math.floor((1024 - 1) / 24)) // 42 records: one more would reach TAIL
    expect(w.reserve(20)).toBe(-1)
    w.publish()
    expect(Atomics.load(w.ctrl, HEAD)).not.toBe(Atomics.load(w.ctrl, TAIL))
    expect(r.poll()).toBe(true)
    // Reading without releasing frees nothing.
    expect(read(r, exp, 10)).toBe(10)
    expect(w.reserve(20)).toBe(-1)
    r.release()
    expect(w.reserveCheck(20)).toBe(true)
    expect(write(w, i, 20)).toBe(true); exp.push([i++, 20])
    expect(read(r, exp)).toBe(32)
    r.release()
    w.publish()
    expect(r.poll()).toBe(true)
    expect(read(r, exp)).toBe(1)
    expect(exp.length).toBe(0)
  })

  it('maxPayload always fits in an empty ring, wherever the positions are', () => {
    for (let start = 0; start < 256; start += 4) {
      const { w, r } = pair(256)
      // Move both positions to `start` with one record, consumed and released.
      if (start > 0) {
        write(w, 0, start - 4)
        w.publish(); r.poll(); read(r, [[0, start - 4]]); r.release()
      }
      expect(w.reserveCheck(w.maxPayload)).toBe(true)
      expect(write(w, 1, w.maxPayload)).toBe(true)
      w.publish()
      expect(r.poll()).toBe(true)
      expect(read(r, [[1, w.maxPayload]])).toBe(1)
    }
  })

  it('a new writer and reader attach at the published positions', () => {
    const { bufs, w, r } = pair(128)
    write(w, 0, 10)
    w.publish()
    r.poll(); read(r, [[0, 10]]); r.release()
    write(w, 1, 5)
    w.publish()
    const w2 = new RingWriter(bufs)
    const r2 = new RingReader(bufs)
    expect(w2.pos).toBe(w.pos)
    expect(r2.pos).toBe(16)
    expect(r2.poll()).toBe(true)
    expect(read(r2, [[1, 5]])).toBe(1)
  })

  type Op = { t: 'write', len: number } | { t: 'publish' } | { t: 'read', n: number } | { t: 'release' }
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('write' as const), len: fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 300 })) }) },
    { weight: 2, arbitrary: fc.constant({ t: 'publish' as const }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('read' as const), n: fc.integer({ min: 1, max: 20 }) }) },
    { weight: 2, arbitrary: fc.constant({ t: 'release' as const }) },
  )

  test.prop([fc.constantFrom(64, 256, 1024), fc.array(op, { maxLength: 400 })], { numRuns: 300 })(
    'random interleavings against a queue model', (capacity, ops) => {
      const { w, r } = pair(capacity)
      const staged: Array<[number, number]> = []
      const published: Array<[number, number]> = []
      let next = 0
      let polled = 0 // records visible in the reader's current batch
      for (const o of ops) {
        if (o.t === 'write') {
          const tail = Atomics.load(w.ctrl, TAIL)
          const used = (w.pos - tail + capacity) % capacity
          const predicted = w.reserveCheck(o.len)
          const ok = write(w, next, o.len)
          expect(ok).toBe(predicted)
          // Free space comes in at most two pieces; the larger one always takes a record
          // strictly smaller than it.
          if (recordBytes(o.len) < (capacity - used) / 2) expect(ok).toBe(true)
          if (ok) staged.push([next++, o.len])
        } else if (o.t === 'publish') {
          expect(w.publish()).toBe(staged.length > 0)
          published.push(...staged.splice(0))
        } else if (o.t === 'read') {
          // Never mistakes full for empty: poll is true exactly when published records are unread.
          expect(r.poll()).toBe(published.length > 0)
          polled = published.length
          const got = read(r, published, o.n)
          expect(got).toBe(Math.min(o.n, polled))
        } else {
          r.release()
        }
      }
      // Drain everything.
      w.publish()
      published.push(...staged.splice(0))
      expect(r.poll()).toBe(published.length > 0)
      read(r, published)
      expect(published.length).toBe(0)
      r.release()
      expect(r.poll()).toBe(false)
    })
})

describe('two threads', () => {
  const distRing = fileURLToPath(new URL('../../../dist/src/ipc/ring.js', import.meta.url))
  const srcRing = fileURLToPath(new URL('../../../src/ipc/ring.ts', import.meta.url))

  it('a worker echoes 100 000 variable-size records back, every byte in order', async () => {
    if (!existsSync(distRing)) {
      throw new Error(`${distRing} is missing: the echo worker runs the compiled ring. Run \`npx tsc -p tsconfig.json\` (or npm run build) first.`)
    }
    if (statSync(distRing).mtimeMs < statSync(srcRing).mtimeMs) {
      throw new Error(`${distRing} is older than src/ipc/ring.ts: rebuild with \`npx tsc -p tsconfig.json\` first.`)
    }
    const N = 100_000
    // Small rings, so both directions wrap thousands of times and fill up often.
    const req = createRing(16 * 1024)
    const resp = createRing(8 * 1024)
    const w = new RingWriter(req)
    const r = new RingReader(resp)
    // Mostly small records, some medium, a few as large as the response ring allows.
    const maxLen = r.capacity / 2 - 8
    const lens = new Int32Array(N)
    let seed = 0x2545f491
    for (let i = 0; i < N; i++) {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5
      const u = (seed >>> 0) % 1000
      lens[i] = u < 800 ? u % 64 : u < 990 ? u * 2 : maxLen - (u % 4)
    }

    const worker = new Worker(new URL('./ring-echo-worker.mjs', import.meta.url), { workerData: { req, resp } })
    let failure: Error | null = null
    worker.on('error', (err) => { failure = err })
    const done = new Promise<{ echoed: number, fullWaits: number }>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('exit', (code) => reject(new Error(`echo worker exited with code ${code} before reporting`)))
    })
    done.catch(() => {}) // awaited below; a failure before that must not also be unhandled

    let sent = 0
    let received = 0
    let idle = 0
    let bytes = 0
    const deadline = Date.now() + 60_000
    try {
      while (received < N) {
        let progress = false
        while (sent < N) {
          const len = lens[sent]
          const off = w.reserve(len)
          if (off === -1) break
          for (let j = 0; j < len; j++) w.u8[off + j] = payloadByte(sent, j)
          w.commit(off, len)
          sent++
          progress = true
        }
        if (w.publish()) Atomics.notify(w.ctrl, SEQ)
        if (r.poll()) {
          while (r.next()) {
            const len = lens[received]
            if (r.payloadLen !== padded(len)) throw new Error(`record ${received}: length ${r.payloadLen}, sent ${len}`)
            for (let j = 0; j < len; j++) {
              if (r.u8[r.payload + j] !== payloadByte(received, j)) throw new Error(`record ${received}: byte ${j} differs`)
            }
            bytes += len
            received++
          }
          r.release()
          Atomics.notify(r.ctrl, TAIL) // the worker may be waiting for room
          progress = true
        }
        if (!progress) {
          if (failure !== null) throw failure
          if (Date.now() > deadline) throw new Error(`stalled: sent ${sent}, received ${received}`)
          // Let the event loop deliver worker errors now and then; otherwise nap on SEQ.
          if (++idle % 64 === 0) await new Promise(resolve => setImmediate(resolve))
          else Atomics.wait(r.ctrl, SEQ, Atomics.load(r.ctrl, SEQ), 1)
        }
      }
      Atomics.store(w.ctrl, STOP, 1)
      Atomics.add(w.ctrl, SEQ, 1)
      Atomics.notify(w.ctrl, SEQ)
      const report = await done
      expect(report.echoed).toBe(N)
      expect(received).toBe(N)
      expect(r.poll()).toBe(false)
      expect(bytes).toBeGreaterThan(N * 30)
    } finally {
      await worker.terminate()
    }
  }, 90_000)
})
