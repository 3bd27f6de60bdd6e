// Shard worker entry: attach the rings, build a Shard, then loop: sleep on the request ring's
// SEQ word (Atomics.wait), run every published request in order, publish the replies in one
// go and wake the primary with at most one message per batch. Active expiry runs on the same
// thread between batches (10 times a second, Redis's hz), so data is never touched concurrently.

import { workerData, parentPort, receiveMessageOnPort } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { RingReader, RingWriter, SEQ, STOP, TAIL, NOTIFIED, SLEEPING } from '../src/ipc/ring.js'
import {
  REQ_RESP3, REQ_OOB, REQ_NOPARK, RESP_OOB, RESP_PARKED, RESP_LATE, RESP_HEADER_BYTES, REQ_HEADER_BYTES, STAT_KEYS, STAT_EXPIRES, STAT_USED_MEMORY,
  STAT_EXPIRED_KEYS, STAT_HITS, STAT_MISSES, STAT_COMMANDS, STAT_ERRORS, type ShardWorkerData,
} from '../src/ipc/layout.js'
import { Shard } from '../src/storage/shard.js'
import { ReplyWriter } from '../src/protocol/resp-writer.js'
import { copyBytes } from '../src/bytes.js'
import { commands, internalCommand } from '../src/commands/table.js'
import { errorReply } from '../src/protocol/errors.js'
import type { Argv } from '../src/commands/spec.js'

const data = workerData as ShardWorkerData
const port = data.port as unknown as MessagePort
const stepPort = data.stepPort as unknown as MessagePort
const mailbox = new Int32Array(data.mailbox)
const TXN_BEGIN = internalCommand('__txn').id
const TXN_END = internalCommand('__txnend').id
const stats = new Float64Array(data.stats)
/** Output credit per client slot (src/server/credits.ts): debited here, returned by the primary. */
const credit = new Int32Array(data.credit)
const MAX_DEBIT = 16 * 1024 * 1024
/**
 * Requests parked because their client had no credit left, per slot, in arrival order: each is a
 * private copy of its record (or the out-of-band buffer it came in).
 */
const parked = new Map<number, Uint8Array[]>()
let commandsRun = 0
let errorReplies = 0

/** Publishes the counters the primary reads for /metrics and maxmemory (a few stores per batch). */
function publishStats (): void {
  stats[STAT_KEYS] = shard.keyCount()
  stats[STAT_EXPIRES] = shard.expiresCount()
  stats[STAT_USED_MEMORY] = shard.usedMemory()
  stats[STAT_EXPIRED_KEYS] = shard.expiredKeys
  stats[STAT_HITS] = shard.hits
  stats[STAT_MISSES] = shard.misses
  stats[STAT_COMMANDS] = commandsRun
  stats[STAT_ERRORS] = errorReplies
}
const reqs = new RingReader(data.req)
const resps = new RingWriter(data.resp)
const shard = new Shard(data.index, data.shards)
const out = new ReplyWriter()
const argv: Argv = { buf: reqs.u8, argc: 0, start: new Int32Array(64), len: new Int32Array(64) }
const EXPIRE_TICK_MS = 100
// Fault injection for tests (FLASHKV_FAULT_SHARD_EXIT="<shard>:<n>"): this shard's thread exits
// after n commands, as a crashed worker would. Unset in production: the check is one compare.
const [faultShard, faultAfter] = (process.env.FLASHKV_FAULT_SHARD_EXIT ?? '-1:0').split(':').map(Number)
let commandsLeft = faultShard === data.index ? faultAfter : -1
const EXPIRE_BUCKETS = 2000

function readArgv (u8: Uint8Array, u32: Uint32Array, p: number): void {
  const argc = u32[(p + 4) >>> 2]
  if (argc > argv.start.length) {
    let n = argv.start.length
    while (n < argc) n *= 2
    argv.start = new Int32Array(n)
    argv.len = new Int32Array(n)
  }
  argv.buf = u8
  argv.argc = argc
  let off = p + REQ_HEADER_BYTES + argc * 4
  for (let i = 0; i < argc; i++) {
    const l = u32[((p + REQ_HEADER_BYTES) >>> 2) + i]
    argv.start[i] = off
    argv.len[i] = l
    off += l
  }
}

/** Publishes replies; wakes the primary blocked in awaitReplies, or else sends one message. */
function notifyPrimary (): void {
  if (!resps.publish()) return
  if (Atomics.load(resps.ctrl, SLEEPING) !== 0) Atomics.notify(resps.ctrl, SEQ, 1)
  else if (Atomics.exchange(resps.ctrl, NOTIFIED, 1) === 0) parentPort?.postMessage(0)
}

/** Reserves room in the response ring, waiting for the primary to drain it if it is full. */
function reserveReply (payload: number): number {
  for (;;) {
    const off = resps.reserve(payload)
    if (off >= 0) return off
    notifyPrimary()
    Atomics.wait(resps.ctrl, TAIL, Atomics.load(resps.ctrl, TAIL), 50)
  }
}

/**
 * Publishes the reply in `out` for client `slot`, debiting its credit. A late reply (a parked
 * request that ran) carries its slot, since it leaves the ring's request order.
 */
function writeReply (slot: number, isLate: boolean): void {
  const len = out.len
  commandsRun++
  if (out.buf[0] === 45) errorReplies++
  if (slot !== 0) Atomics.sub(credit, slot, Math.min(len, MAX_DEBIT))
  const pre = isLate ? 8 : 0
  if (len + RESP_HEADER_BYTES > resps.maxPayload) {
    const sab = new SharedArrayBuffer(len)
    new Uint8Array(sab).set(out.buf.subarray(0, len))
    port.postMessage(sab)
    const off = reserveReply(pre + RESP_HEADER_BYTES)
    if (isLate) { resps.u32[off >>> 2] = RESP_LATE; resps.u32[(off + 4) >>> 2] = slot }
    resps.u32[(off + pre) >>> 2] = RESP_OOB
    resps.commit(off, pre + RESP_HEADER_BYTES)
    out.shrink()
    return
  }
  const off = reserveReply(pre + len + RESP_HEADER_BYTES)
  if (isLate) { resps.u32[off >>> 2] = RESP_LATE; resps.u32[(off + 4) >>> 2] = slot }
  resps.u32[(off + pre) >>> 2] = len
  copyBytes(out.buf, 0, len, resps.u8, off + pre + RESP_HEADER_BYTES)
  resps.commit(off, pre + len + RESP_HEADER_BYTES)
}

/** Tells the primary that the request at the head of its FIFO for this shard waits for credit. */
function writeParked (slot: number): void {
  const off = reserveReply(8)
  resps.u32[off >>> 2] = RESP_PARKED
  resps.u32[(off + 4) >>> 2] = slot
  resps.commit(off, 8)
}

/** Runs the parked requests of `slot` while it has credit (all of them when `force`). */
function runParked (slot: number, q: Uint8Array[], force: boolean): void {
  while (q.length > 0 && (force || Atomics.load(credit, slot) > 0)) {
    const rec = q.shift() as Uint8Array
    const u32 = new Uint32Array(rec.buffer, rec.byteOffset, rec.byteLength >>> 2)
    const word = u32[0]
    readArgv(rec, u32, 0)
    runCommand(word & 0xffff, word, (word >>> 16) & 0xff, slot, true)
  }
  if (q.length === 0) parked.delete(slot)
}

function runAllParked (): void {
  for (const [slot, q] of parked) runParked(slot, q, false)
  notifyPrimary()
}

/**
 * Parks the request when its client has requests parked here already or no credit left; true
 * if it did. Part of a multi-shard command never waits (the command would be half done): the
 * client's earlier requests here run first, over credit, to keep its order.
 */
function parks (p: number, payloadLen: number, flags: number, slot: number, oob: SharedArrayBuffer | null): boolean {
  const q = parked.get(slot)
  if ((flags & REQ_NOPARK) !== 0) {
    if (q !== undefined) runParked(slot, q, true)
    return false
  }
  if (q === undefined && Atomics.load(credit, slot) > 0) return false
  const rec = oob !== null ? new Uint8Array(oob) : reqs.u8.slice(p, p + payloadLen)
  if (q === undefined) parked.set(slot, [rec]); else q.push(rec)
  writeParked(slot)
  return true
}

function runRecord (p: number, payloadLen: number): void {
  const word = reqs.u32[p >>> 2]
  const id = word & 0xffff
  const flags = (word >>> 16) & 0xff
  const slot = reqs.u32[(p + 8) >>> 2]
  let oob: SharedArrayBuffer | null = null
  if ((flags & REQ_OOB) !== 0) oob = receiveMessageOnPort(port)?.message as SharedArrayBuffer
  // The common case costs one load: a client with credit, and nothing parked on this shard.
  if (slot !== 0 && (parked.size !== 0 || Atomics.load(credit, slot) <= 0) && parks(p, payloadLen, flags, slot, oob)) return
  if (id === TXN_BEGIN) { holdForTransaction(slot); return }
  if (oob !== null) readArgv(new Uint8Array(oob), new Uint32Array(oob, 0, oob.byteLength >>> 2), 0)
  else readArgv(reqs.u8, reqs.u32, p)
  runCommand(id, word, flags, slot, false)
}

/**
 * A cross-shard transaction reached this shard: acknowledge, then run only the steps the
 * primary sends on stepPort until __txnend. Nothing else touches this shard meanwhile, which
 * is what makes RENAME/COPY/MSETNX across shards atomic (see docs/ARCHITECTURE.md).
 */
function holdForTransaction (slot: number): void {
  out.reset()
  out.status('OK')
  writeReply(slot, false)
  notifyPrimary()
  for (;;) {
    const seen = Atomics.load(mailbox, 0)
    const msg = receiveMessageOnPort(stepPort)
    if (msg === undefined) { Atomics.wait(mailbox, 0, seen, 1000); continue }
    const sab = msg.message as SharedArrayBuffer
    const u32 = new Uint32Array(sab)
    const word = u32[0]
    const id = word & 0xffff
    if (id === TXN_END) return
    readArgv(new Uint8Array(sab), u32, 0)
    runCommand(id, word, (word >>> 16) & 0xff, 0, false)
    notifyPrimary()
  }
}

function runCommand (id: number, word: number, flags: number, slot: number, isLate: boolean): void {
  shard.select(word >>> 24)
  out.reset()
  out.resp3 = (flags & REQ_RESP3) !== 0
  const cmd = commands[id]
  if (commandsLeft >= 0 && commandsLeft-- === 0) process.exit(70)
  try {
    cmd.run?.(shard, argv, out)
  } catch (err) {
    // A handler bug must not take the shard down with every other client's data.
    out.reset()
    out.raw(errorReply(`ERR internal error in '${cmd.name}': ${(err as Error).message}`))
  }
  writeReply(slot, isLate)
}

// Before sleeping, watch SEQ for a short while: a wake-up through Atomics.notify is a futex
// syscall on both sides plus a scheduler hop, which under steady traffic costs more than a
// brief spin (FLASHKV_SPIN_US, default 0: on the 2-core reference box 50 µs made no measurable
// difference; on hosts with a core per shard it saves the wake-up).
const SPIN_US = Number(process.env.FLASHKV_SPIN_US ?? '0')
function spinUntilWork (seq: number): boolean {
  const until = performance.now() + SPIN_US / 1000
  while (performance.now() < until) {
    if (Atomics.load(ctrl, SEQ) !== seq) return true
  }
  return false
}

let nextExpire = Date.now() + EXPIRE_TICK_MS
const ctrl = reqs.ctrl
for (;;) {
  const seq = Atomics.load(ctrl, SEQ)
  if (Atomics.load(ctrl, STOP) !== 0) break
  // SEQ was read first: credit returned after this look bumps it, so the wait below returns.
  if (parked.size > 0) runAllParked()
  if (reqs.poll()) {
    let n = 0
    while (reqs.next()) {
      runRecord(reqs.payload, reqs.payloadLen)
      // Hand ring space back as we go so the primary can keep feeding a long batch.
      if ((++n & 63) === 0) reqs.release()
    }
    reqs.release()
    notifyPrimary()
    publishStats()
  } else if (SPIN_US > 0 && spinUntilWork(seq)) {
    continue
  } else {
    const wait = nextExpire - Date.now()
    if (wait > 0) {
      Atomics.store(ctrl, SLEEPING, 1)
      // seq was read before the ring was found empty: a publish since then changed SEQ and
      // wait() returns at once, whether or not the primary saw SLEEPING.
      Atomics.wait(ctrl, SEQ, seq, wait)
      Atomics.store(ctrl, SLEEPING, 0)
    }
  }
  const now = Date.now()
  if (now >= nextExpire) {
    shard.activeExpire(EXPIRE_BUCKETS)
    publishStats()
    nextExpire = now + EXPIRE_TICK_MS
  }
}
port.close()
