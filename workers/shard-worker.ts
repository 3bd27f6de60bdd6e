// Shard worker entry: attach the rings, build a Shard, then loop: sleep on the doorbell's SEQ
// word (Atomics.wait), run every published request of every producer in order, publish the
// replies in one go and wake each producer with at most one message per batch. Parts of
// multi-shard commands carry tickets when there are several producers: they run in ticket order
// across the rings (server/sequencer.ts). Active expiry runs on the same thread between batches
// (10 times a second, Redis's hz), so data is never touched concurrently.

import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'
import { CommandStats, DeferredRow, SET_SLOWLOG_SLOWER, SET_SLOWLOG_MAX_LEN } from '../src/server/command-stats.js'
import { slowlogPush, slowArgs, slowlogSettings } from '../src/commands/slowlog.js'
import { workerData, receiveMessageOnPort, parentPort } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { RingReader, RingWriter, SEQ, STOP, TAIL, SLEEPING } from '../src/ipc/ring.js'
import {
  REQ_RESP3, REQ_OOB, REQ_NOPARK, REQ_AOF_TO_TXN, REQ_FORCE, REQ_TRACK, REQ_AFTER, RESP_OOB, RESP_PARKED, RESP_LATE, RESP_BLOCKED, RESP_PUSH, STAT_BLOCKED, STAT_BLOCKED_TIMED, REQ_NOREPLY, RESP_HEADER_BYTES, REQ_HEADER_BYTES, STAT_KEYS, STAT_EXPIRES, STAT_USED_MEMORY,
  STAT_EXPIRED_KEYS, STAT_HITS, STAT_MISSES, STAT_COMMANDS, STAT_ERRORS, STAT_ARENA_ROOM, type ShardWorkerData, type ProducerEndpoint,
} from '../src/ipc/layout.js'
import { Shard } from '../src/storage/shard.js'
import { ReplyWriter } from '../src/protocol/resp-writer.js'
import { copyBytes } from '../src/bytes.js'
import { commands, commandOfArgv, internalCommand } from '../src/commands/table.js'
import { dirtyRules, dirtyOf } from '../src/persistence/dirty.js'
import { errorReply, UNBLOCKED, OOM } from '../src/protocol/errors.js'
import type { Argv } from '../src/commands/spec.js'
import type { Command } from '../src/commands/table.js'
import { creditWords, watchWords, verdictWords, sharedFlags, claimWords, NOTIFY_WORD, MONITORS_WORD } from '../src/server/credits.js'
import { writes } from '../src/storage/writes.js'
import { readU32 } from '../src/commands/internal.js'
import { forEachWrittenKey, forEachTouchedKey, forEachKey, isTrackedRead } from '../src/commands/written-keys.js'
import { TrackingTable, G_CLIENTS, TRK_AFTER } from '../src/storage/tracking.js'
import { trackingWords } from '../src/server/credits.js'
import { EPOCH_BUSY, epochIndex, epochProducers } from '../src/server/sequencer.js'
import { hashLimits } from '../src/storage/hash-type.js'
import { useXmoveExchange, groupHandOver, groupTake, groupWritten, awaitGroup } from '../src/commands/xmove.js'
import { lendOf, takeBack, EFFECT_CREATED, EFFECT_REMOVED, EFFECT_READ, FLUSHDB_ID, FLUSHALL_ID, type Returned } from '../src/server/engine.js'
import { serveBlocked, claim, hasWanted, CANCELLED } from '../src/commands/list.js'
import { PubSubHub, PUBSUB_MONITOR } from '../src/storage/pubsub-hub.js'
import { publishOn } from '../src/commands/pubsub.js'
import { BLOCK_NOTIFY, type BlockSpec } from '../src/storage/shard.js'
import { Keyspace, layoutHook, ENTRY_HEADER_BYTES, tableGrowth, type KeyspaceLayout } from '../src/storage/keyspace.js'
import { libraryCodes } from '../src/commands/functions.js'
import { CRASH_SHARD_WORD, EXEC_COUNT, EXEC_ENDS, EXEC_VERDICT, EXEC_WATCHED, EXEC_AOF_GROUP, EXEC_CMD_PART, SPIN_MAX_RECORDS, type ShardAsk } from '../src/ipc/layout.js'
import { SpinGate } from '../src/spin-gate.js'
import { DATABASES } from '../src/storage/shard.js'

import { existsSync } from 'node:fs'
import { RdbLoader, RdbLoadError } from '../src/persistence/rdb-file.js'
import { setLibraryCodes } from '../src/commands/functions.js'
import { SCRIPT_EPOCH_WORD, FUNCTION_EPOCH_STEP, ACTIVE_EXPIRE_OFF_WORD, ARENA_DROP_WORD, hzOf } from '../src/ipc/layout.js'
import { collectGarbage, DROP_COLLECT_BYTES, OOB_COLLECT_BYTES } from '../src/storage/release.js'
import { COPY_CPU_PCT } from '../src/storage/db-copy.js'
import { zsetForgetPositions } from '../src/storage/zset-type.js'
import { evictionSettings, maxmemoryOf, shardShare, isWithin, accessTime, isLfu, policy, clockForFreq, clockForIdle } from '../src/storage/eviction.js'
import { TYPES, PAYLOAD_HEADER_BYTES } from '../src/storage/types.js'
import { keyHash, shardOfKey } from '../src/storage/hash.js'
import { snapshot, snapshotStep, takeSnapshot, touchKey, finishDb, finishAll, abortSnapshot, syncDirty } from '../src/persistence/snapshot.js'
import { saveWords, F_DIRTY, F_LOAD_POS, W_LOADING, W_AOF_FD, W_AOF_BAR_COUNT, W_AOF_BAR_GEN } from '../src/persistence/save-state.js'
import { aofOnWord, shardAof, flushShardAof, forgetDeadShardAof, aofDebt, gateRings, owe, type LogMark } from '../src/persistence/aof.js'
import { logEffect, logDelete, logKeyState } from '../src/persistence/aof-effects.js'
import { aofHook } from '../src/storage/aof-hook.js'
import { ShardScripts } from '../src/scripting/in-shard.js'
import { UndoLog, BIG, type BigPlan } from '../src/scripting/undo.js'
import { countScriptReply } from '../src/scripting/call-checks.js'
import { argvOf } from '../src/commands/txn-helpers.js'
import { clientsMemory, POLICY_NOEVICTION } from '../src/storage/eviction.js'

const data = workerData as ShardWorkerData
const saveF64 = saveWords().f64
/** appendonly: while set, every write that changed something logs its effect (persistence/aof.ts). */
const aofOn = aofOnWord()
const aofLog = shardAof.log
shardAof.fd = saveWords().i32[W_AOF_FD]

/** One producer's rings and ports (the primary, or an I/O thread). */
class Producer {
  /** Its index among the shard's producers (the hub counts subscriptions per producer). */
  index = 0
  /** A push (pub/sub message, invalidation) went into its response ring this batch. */
  pushed = false
  /** A command of its clients caused a push this batch (notifyAll publishes its ring after the others). */
  causedPush = false
  readonly reqs: RingReader
  readonly resps: RingWriter
  readonly port: MessagePort
  readonly stepPort: MessagePort
  readonly mailbox: Int32Array
  readonly wake: MessagePort
  readonly wakeWord: Int32Array
  constructor (ep: ProducerEndpoint) {
    this.reqs = new RingReader(ep.req)
    this.resps = new RingWriter(ep.resp)
    this.port = ep.port
    this.stepPort = ep.stepPort
    this.mailbox = new Int32Array(ep.mailbox)
    this.wake = ep.wake
    this.wakeWord = new Int32Array(ep.wakeWord)
  }
}
const producers = data.producers.map(ep => new Producer(ep))
producers.forEach((p, i) => { p.index = i })
/** The response rings' control words, whose gates a batch's AOF writes set (aof.ts gateRings). */
const ringCtrls = producers.map(p => p.resps.ctrl)
/** The producer whose request runs now: its reply goes to that producer's response ring. */
let cur = producers[0]
/**
 * Tickets up to this one were taken before this worker started (a replacement: their records
 * were answered CLUSTERDOWN and dropped, or are keyspace events already on their way): they
 * run in ring order, since some of their sequence will never come.
 */
const staleTicket = data.resume === undefined || data.sequencer === undefined ? 0 : Atomics.load(new Int32Array(data.sequencer), 1 + data.index)
/** The next multi-shard ticket this shard may run (tickets start at 1; 0 = none). */
let nextTicket = staleTicket + 1
const bell = new Int32Array(data.bell)
const TXN_BEGIN = internalCommand('__txn').id
const EXEC = internalCommand('__exec').id
const UNBLOCK = internalCommand('__unblock').id
const stats = new Float64Array(data.stats)
/** Output credit per client slot (src/server/credits.ts): debited here, returned by the primary. */
const credit = creditWords(data.credit)
const MAX_DEBIT = 16 * 1024 * 1024
/**
 * Debits of this batch, per slot, applied to the shared words once per batch: an Atomics.sub per
 * reply was a builtin call, 7% of this thread's time at GET -P 16 (perf), and Atomics.load in the
 * parking check 5% more. The shared word is only ever read plainly here; it lags the truth by at
 * most one batch of the primary's returns, which only moves when a request parks.
 */
const debt = new Float64Array(credit.length)
const indebted: number[] = []

function debit (slot: number, len: number): void {
  if (debt[slot] === 0) indebted.push(slot)
  debt[slot] += len < MAX_DEBIT ? len : MAX_DEBIT
}

/** This slot's credit as this thread sees it: the shared word less this batch's debits. */
function creditOf (slot: number): number { return credit[slot] - debt[slot] }

function settleDebts (): void {
  for (let i = 0; i < indebted.length; i++) {
    const slot = indebted[i]
    Atomics.sub(credit, slot, debt[slot])
    debt[slot] = 0
  }
  indebted.length = 0
}
/**
 * Requests parked because their client had no credit left, per slot, in arrival order: each is a
 * private copy of its record (or the out-of-band buffer it came in).
 */
interface ParkedRecord { rec: Uint8Array, from: Producer }
const parked = new Map<number, ParkedRecord[]>()
let commandsRun = 0
let errorReplies = 0

tableGrowth.isAllowed = more => maxmemoryOf(evictionSettings.flags) === 0 || shard.committedMemory() + more <= shardShare(evictionSettings.flags, data.shards)

/**
 * FLUSHALL/FLUSHDB or a compaction dropped big arenas, or big requests came out of band: free
 * them here, and have the other threads drop their views and collect too.
 */
let oobBytes = 0
function releaseDropped (): void {
  shard.droppedBytes = 0
  oobBytes = 0
  // The main thread keeps the databases' last layout for a replacement: it must let go of the
  // dropped buffers too (shard-link.ts collects on a 'dropped' layout).
  publishLayout(true, true)
  collectGarbage()
  Atomics.add(evictionSettings.flags, ARENA_DROP_WORD, 1)
}

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
  stats[STAT_BLOCKED] = blockedClients
  stats[STAT_BLOCKED_TIMED] = blockedTimed
  stats[STAT_ARENA_ROOM] = shard.arenaRoom()
  // Fragmented arenas are copied afresh between batches, when nothing else holds them.
  if (!isHeld && !snapshot.active && loader === null && shard.lazyQueue.length === 0) {
    // Sorted sets' cached positions name offsets of the old arena.
    if (shard.compactIfFragmented(maxmemoryOf(evictionSettings.flags) === 0 ? 0 : shardShare(evictionSettings.flags, data.shards))) zsetForgetPositions()
    // MEMORY PURGE: every arena with free room is copied afresh, and every thread collects.
    if (shard.isPurgeAsked) {
      shard.isPurgeAsked = false
      if (shard.compactAll()) zsetForgetPositions()
      releaseDropped()
    }
  }
  if (shard.droppedBytes >= DROP_COLLECT_BYTES || oobBytes >= OOB_COLLECT_BYTES) releaseDropped()
  syncDirty(shard)
  saveF64[F_DIRTY + data.index] = shard.dirty - shard.dirtyAtSave
  publishLayout(false)
}

// --- surviving this thread (docs/ARCHITECTURE.md, "A dead shard") ----------------------------------
// Keys, values, indexes and the allocators' bookkeeping are all in shared buffers. The main thread
// only needs to know which buffers: each time one changes (a database made, flushed or swapped,
// a rehash starting) this thread posts the list, and a replacement worker starts from the last
// one. The check is a few compares per batch.
let layouts: Array<KeyspaceLayout | null> = new Array<KeyspaceLayout | null>(DATABASES).fill(null)
let postedLibs: readonly Uint8Array[] | null = data.resume?.libs ?? null
/**
 * writes.count at the last check: a batch that wrote nothing changed no buffer, so a read-only
 * batch costs one compare. (A transaction's steps run on another thread: release() clears it.)
 */
let layoutSeen = -1

function publishLayout (force: boolean, dropped = false): void {
  if (!force && writes.count === layoutSeen) return
  layoutSeen = writes.count
  let isMoved = force
  for (let i = 0; i < DATABASES && !isMoved; i++) {
    const ks = shard.dbs[i]
    const l = layouts[i]
    isMoved = ks === null ? l !== null : l === null || ks.isMovedFrom(l)
  }
  if (isMoved) {
    layouts = shard.dbs.map(ks => ks === null ? null : ks.layout())
    parentPort?.postMessage({ op: 'shard-layout', shard: data.index, dbs: layouts, dropped })
  }
  // The hub keeps the function libraries: a replacement gets them back from the main thread.
  if (data.index === 0 && libraryCodes() !== postedLibs) {
    postedLibs = libraryCodes()
    parentPort?.postMessage({ op: 'shard-libs', shard: 0, libs: postedLibs })
  }
}

/** A replacement takes over the dead thread's databases and counters; a first worker starts empty. */
function resumeShard (): Shard {
  const r = data.resume
  if (r === undefined) return new Shard(data.index, data.shards)
  const dbs = r.dbs.map(l => l === null ? null : Keyspace.resume(l))
  const s = new Shard(data.index, data.shards, dbs)
  s.expiredKeys = stats[STAT_EXPIRED_KEYS]
  s.hits = stats[STAT_HITS]
  s.misses = stats[STAT_MISSES]
  commandsRun = stats[STAT_COMMANDS]
  errorReplies = stats[STAT_ERRORS]
  // Changes since the last save go on counting from where the dead thread left them.
  s.dirtyAtSave = -saveF64[F_DIRTY + data.index]
  if (r.libs !== null) setLibraryCodes(r.libs.map(b => Buffer.from(b)))
  return s
}
const shard = resumeShard()
// This shard's log mirrors what it keeps from a full disk; a replacement gives the dead one's back.
forgetDeadShardAof(data.index)
layoutHook.onChange = () => { publishLayout(true) }
shard.watch.words = watchWords(data.credit)
/** Verdict cells of watched EXECs across shards (runExec). */
const verdict = verdictWords(data.credit)
useXmoveExchange(data.credit, data.spinUs ?? 0, data.index)
shard.claims = claimWords(data.credit)
shard.hub = new PubSubHub(producers.length)
shard.producers = producers.length
shard.notifyFlags = sharedFlags(data.credit).subarray(NOTIFY_WORD, NOTIFY_WORD + 1)
hashLimits.flags = sharedFlags(data.credit)
evictionSettings.flags = hashLimits.flags
shard.isLazyFree = true
const trk = new TrackingTable(trackingWords(data.credit), data.index, data.shards)
shard.tracking = trk
const loadedLibs: Buffer[] = []
/** notify-keyspace-events while a record loads: none, as Redis sends none for a load. */
const NO_EVENTS = new Int32Array(1)
/** The RDB file being loaded at start (null once done). A bad header stops the server before it listens. */
// A replacement loads only if the dead thread had not finished (the main thread then passes the
// file again): loading again from the start over what is there is harmless, each record replaces its key.
let loader: RdbLoader | null = data.resume === undefined || data.rdbFile !== undefined ? loadAtStart() : null
parentPort?.postMessage('loaded')
const out = new ReplyWriter()
const argv: Argv = { buf: cur.reqs.u8, argc: 0, start: new Int32Array(64), len: new Int32Array(64) }
// Fault injection for tests (FLASHKV_FAULT_SHARD_EXIT="<shard>:<n>"): this shard's thread exits
// after n commands, as a crashed worker would. Unset in production: the check is one compare.
const [faultShard, faultAfter] = (process.env.FLASHKV_FAULT_SHARD_EXIT ?? '-1:0').split(':').map(Number)
let commandsLeft = faultShard === data.index ? faultAfter : -1 // every worker of that shard, replacements too
const EXPIRE_BUCKETS = 2000
/** Blocks freed per pass of the loop for values UNLINK detached (storage/lazyfree.ts). */
const LAZYFREE_BUDGET = 20_000
/** Keys a pass of the loop encodes for a running BGSAVE. */
/**
 * Records a pass of the loop loads from the RDB file at start, and how long an idle shard waits
 * between passes (0; tests widen the loading window with FLASHKV_LOAD_PAUSE_MS).
 */
const LOAD_BUDGET = Number(process.env.FLASHKV_LOAD_BUDGET ?? '') > 0 ? Number(process.env.FLASHKV_LOAD_BUDGET) : 2000
const LOAD_PAUSE_MS = Number(process.env.FLASHKV_LOAD_PAUSE_MS ?? '') > 0 ? Number(process.env.FLASHKV_LOAD_PAUSE_MS) : 0
/**
 * Keys a pass of the loop copies for a compaction (storage/db-copy.ts): about half a millisecond
 * (0.5-1.5 µs a key). FLASHKV_COPY_BUDGET: tests make it small, to see the copy interleave.
 */
const COPY_BUDGET = Number(process.env.FLASHKV_COPY_BUDGET ?? '') > 0 ? Number(process.env.FLASHKV_COPY_BUDGET) : 500
/**
 * ...and at most this long a slice, with COPY_DUTY - 1 times as long between two slices: a
 * quarter of the shard's time at most, as Redis's active defrag keeps to a CPU share
 * (active-defrag-cycle-max 25). On 2 CPUs, slices back to back kept the primary and the other
 * shard from a core: a probe client's p99 doubled while both shards copied (bench:compaction).
 * A GET that arrives during a slice waits for its end: 0.2 ms gave that probe a p99 after the
 * DELs of 0.37-0.39 ms, against 0.43-0.73 with 0.5 ms (alternating runs), for the same total.
 */
const COPY_SLICE_MS = 0.2
const COPY_DUTY = 100 / COPY_CPU_PCT
/** performance.now() before which no slice of the copy runs. */
let copyNextAt = 0
const SNAPSHOT_BUDGET = Number(process.env.FLASHKV_SNAPSHOT_BUDGET ?? '') > 0 ? Number(process.env.FLASHKV_SNAPSHOT_BUDGET) : 100
/**
 * How long an idle shard waits for requests between two slices of a BGSAVE walk (a request ends
 * it at once). On 2 CPUs with 2 shards (bench:bgsave) 0 made the save 20% shorter but other
 * clients' p99 meanwhile 1.6x as high, the shards then keeping the primary from a core: the wait
 * stays unless FLASHKV_SNAPSHOT_IDLE_MS says otherwise (a host with a core per shard may prefer 0).
 */
const SNAPSHOT_IDLE_MS = process.env.FLASHKV_SNAPSHOT_IDLE_MS !== undefined ? Number(process.env.FLASHKV_SNAPSHOT_IDLE_MS) : 0.1

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

/** Publishes a producer's replies; wakes it if blocked in awaitReplies, or else sends one message. */
function notifyProducer (p: Producer): void {
  // The effects of the replies about to be published are in the file first. Under always the
  // rings' readers sync them (and what a cross-shard move's or group's block left owed) before
  // the replies leave (aof.ts, "Reply gate").
  awaitGroup()
  if (aofLog.len !== 0) flushShardAof(false)
  if (aofDebt.n !== 0) gateRings(ringCtrls)
  if (p.resps.publish()) wakeProducer(p)
}

/** Tells a producer that its ring has new replies: a notify if it is blocked in awaitReplies, or else one message. */
function wakeProducer (p: Producer): void {
  const ctrl = p.resps.ctrl
  if (Atomics.load(ctrl, SLEEPING) !== 0) Atomics.notify(ctrl, SEQ, 1)
  else if (Atomics.exchange(p.wakeWord, 0, 1) === 0) p.wake.postMessage(0)
}

function notifyAll (): void { inPublishOrder(notifyProducer) }

/**
 * Visits the producers in the order their rings are published at the end of a batch, and
 * forgets the batch's pushes. Rings that got pushes come first, and among them the rings of the
 * clients whose commands caused pushes last: a publisher (or a writer, or FLUSHALL's caller)
 * that sees its reply must not beat its message or invalidation to a client of another thread,
 * even when it gets a push of its own in the same batch. Then every ring (a ring visited
 * already has nothing new).
 */
function inPublishOrder (visit: (p: Producer) => void): void {
  if (anyPushed) {
    anyPushed = false
    for (let i = 0; i < producers.length; i++) {
      const p = producers[i]
      if (p.pushed && !p.causedPush) { p.pushed = false; visit(p) }
    }
    for (let i = 0; i < producers.length; i++) {
      const p = producers[i]
      if (p.pushed) { p.pushed = false; visit(p) }
      p.causedPush = false
    }
  }
  for (let i = 0; i < producers.length; i++) visit(producers[i])
}
let anyPushed = false

/** Reserves room in the current producer's response ring, waiting for it to drain if full. */
function reserveReply (payload: number): number { return reserveOn(cur, payload) }

function reserveOn (p: Producer, payload: number): number {
  const resps = p.resps
  const first = resps.reserve(payload)
  if (first >= 0) return first
  for (;;) {
    // TAIL as it was before a try: the producer may drain and release between a failed try
    // and the wait (notifyProducer wakes it), and a wait on the TAIL read after that release
    // waited for a second release that never came, 50 ms at a time (LRANGE_600 at -P 16: the
    // response ring fills every batch; p50 48 ms, half of Redis's throughput with idle cores).
    // Read only once the ring has been found full: a reply that fits pays no atomic load.
    const tail = Atomics.load(resps.ctrl, TAIL)
    const off = resps.reserve(payload)
    if (off >= 0) return off
    notifyProducer(p)
    shard.ringFullWaits++
    if (Atomics.wait(resps.ctrl, TAIL, tail, 50) === 'timed-out') shard.ringFullTimeouts++
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
  if (slot !== 0) debit(slot, len)
  const resps = cur.resps
  // Too big for the ring: the bytes go as a message, the ring carries RESP_OOB in their place.
  const isOob = len + RESP_HEADER_BYTES > resps.maxPayload
  if (isOob) {
    const sab = new SharedArrayBuffer(len)
    new Uint8Array(sab).set(out.buf.subarray(0, len))
    cur.port.postMessage(sab)
  }
  const pre = isLate ? 8 : 0
  const body = isOob ? 0 : len
  const off = reserveReply(pre + RESP_HEADER_BYTES + body)
  if (isLate) { resps.u32[off >>> 2] = RESP_LATE; resps.u32[(off + 4) >>> 2] = slot }
  resps.u32[(off + pre) >>> 2] = isOob ? RESP_OOB : len
  if (isOob) out.shrink()
  else copyBytes(out.buf, 0, len, resps.u8, off + pre + RESP_HEADER_BYTES)
  resps.commit(off, pre + RESP_HEADER_BYTES + body)
}

/** Tells the producer that the request at the head of its FIFO for this shard waits for credit. */
function writeParked (slot: number): void {
  const off = reserveReply(8)
  const resps = cur.resps
  resps.u32[off >>> 2] = RESP_PARKED
  resps.u32[(off + 4) >>> 2] = slot
  resps.commit(off, 8)
}

/** Runs the parked requests of `slot` while it has credit (up to `force` of them regardless). */
function runParked (slot: number, q: ParkedRecord[], force: number): void {
  const was = cur
  while (q.length > 0 && (force-- > 0 || creditOf(slot) > 0)) {
    const { rec, from } = q.shift() as ParkedRecord
    const u32 = new Uint32Array(rec.buffer, rec.byteOffset, rec.byteLength >>> 2)
    const word = u32[0]
    readArgv(rec, u32, 0)
    cur = from
    runCommand(word & 0xffff, word, (word >>> 16) & 0xff, slot, true)
  }
  cur = was
  if (q.length === 0) parked.delete(slot)
}

function runAllParked (): void {
  for (const [slot, q] of parked) runParked(slot, q, 0)
  settleDebts()
  notifyAll()
}

/**
 * Parks the request when its client has requests parked here already or no credit left; true
 * if it did. Part of a multi-shard command never waits (the command would be half done): the
 * client's earlier requests here run first, over credit, to keep its order.
 */
function parks (p: number, payloadLen: number, flags: number, slot: number, oob: SharedArrayBuffer | null): boolean {
  const q = parked.get(slot)
  if ((flags & REQ_NOPARK) !== 0) {
    if (q !== undefined) runParked(slot, q, Infinity)
    return false
  }
  if (q === undefined && creditOf(slot) > 0) return false
  const rec: ParkedRecord = { rec: oob !== null ? new Uint8Array(oob) : cur.reqs.u8.slice(p, p + payloadLen), from: cur }
  if (q === undefined) parked.set(slot, [rec]); else q.push(rec)
  writeParked(slot)
  return true
}

function runRecord (p: number, payloadLen: number): void {
  const reqs = cur.reqs
  const word = reqs.u32[p >>> 2]
  const id = word & 0xffff
  const flags = (word >>> 16) & 0xff
  const slot = reqs.u32[(p + 8) >>> 2]
  if ((flags & REQ_FORCE) !== 0) {
    const q = parked.get(slot)
    if (q !== undefined) runParked(slot, q, 1)
    return
  }
  let oob: SharedArrayBuffer | null = null
  if ((flags & REQ_OOB) !== 0) {
    oob = receiveMessageOnPort(cur.port)?.message as SharedArrayBuffer
    // Garbage here and on its producer once run, which V8 is slow to collect (storage/release.ts).
    oobBytes += oob.byteLength
  }
  // The common case costs one load: a client with credit, and nothing parked on this shard.
  if (slot !== 0 && (parked.size !== 0 || creditOf(slot) <= 0) && parks(p, payloadLen, flags, slot, oob)) return
  if (id === TXN_BEGIN) {
    // A held run of this client's stopped script: its scripts sent after that one were turned back.
    if (stalledSlots.size !== 0) stalledSlots.delete(slot)
    holdForTransaction(slot)
    clockAt = performance.now()
    return
  }
  if (oob !== null) readArgv(new Uint8Array(oob), new Uint32Array(oob, 0, oob.byteLength >>> 2), 0)
  else readArgv(reqs.u8, reqs.u32, p)
  chainedStart = clockAt
  runCommand(id, word, flags, slot, false)
}

/**
 * A cross-shard transaction reached this shard: lend the databases (server/engine.ts) to its
 * producer, acknowledge, then park until the release, running only the steps the producer may send
 * on stepPort meanwhile. Nothing else touches this shard until then, which is what makes
 * RENAME/COPY/MSETNX across shards atomic (see docs/ARCHITECTURE.md).
 */
function holdForTransaction (slot: number): void {
  // The databases go to another thread, whose writes no snapshot hook sees: finish it first.
  if (snapshot.active) finishAll()
  // A compaction's copy waits: the steps report the keys they touch in it (takeEffects). Under
  // maxmemory the next slice would drop it anyway.
  if (maxmemoryOf(evictionSettings.flags) !== 0) shard.dropCopy(false)
  // The file has everything that ran here before; the transaction appends its own block to it.
  awaitGroup()
  if (aofLog.len !== 0) flushShardAof()
  const lend = lendOf(shard, blockedCount > 0)
  lend.aofFd = aofOn[0] !== 0 ? shardAof.fd : 0
  // A full disk kept some out: the transaction writes them before its block (no hole, in order).
  const rest = aofLog.take()
  if (rest !== null) { lend.aofRest = rest.bytes; lend.aofRestUnits = rest.units }
  // Posted before the acknowledgement is committed, so the producer finds it with the ack.
  cur.port.postMessage(lend)
  out.reset()
  out.status('OK')
  writeReply(slot, false)
  settleDebts()
  notifyProducer(cur)
  const { stepPort, mailbox } = cur
  isHeld = true
  try {
    heldLoop(stepPort, mailbox)
  } finally {
    isHeld = false
  }
  if (readyKeys.length > 0) serveReady()
  if (shard.events.length !== 0) sendEvents()
  if (trk.out.length !== 0 || trk.bcastKeys.length !== 0) sendTracking()
}

function heldLoop (stepPort: MessagePort, mailbox: Int32Array): void {
  for (;;) {
    const seen = Atomics.load(mailbox, 0)
    const msg = receiveMessageOnPort(stepPort)
    if (msg === undefined) { Atomics.wait(mailbox, 0, seen, 1000); continue }
    if (!(msg.message instanceof SharedArrayBuffer)) {
      const r = msg.message as Returned
      if (r.relend !== true) { release(r); return }
      // The databases come back for the next step (Txn.runOnShards), then go out again.
      takeEffects(r)
      isRelent = true
      isAofByTxn = r.isLoggedByTxn === true
      continue
    }
    const sab = msg.message
    accessTime.ms = Date.now()
    const u32 = new Uint32Array(sab)
    const word = u32[0]
    readArgv(new Uint8Array(sab), u32, 0)
    const flags = (word >>> 16) & 0xff
    if ((flags & REQ_AOF_TO_TXN) === 0) runCommand(word & 0xffff, word, flags, 0, false)
    else runStepForTxnAof(word, flags)
    if (isRelent) {
      isRelent = false
      isAofByTxn = false
      // Posted before the reply is committed, so the producer finds it with the reply.
      cur.port.postMessage(lendOf(shard, blockedCount > 0))
    }
    notifyProducer(cur)
  }
}

/** While a step's effects go to the transaction's AOF block (REQ_AOF_TO_TXN), not this shard's log. */
let isStepToTxn = false

/**
 * Runs a step whose effects the transaction logs: they are logged here as usual, then taken out
 * of this shard's log and posted to the producer (after any out-of-band reply bytes, before the
 * reply is committed), one TakenEffects message per such step.
 */
function runStepForTxnAof (word: number, flags: number): void {
  const m = aofLog.mark()
  isStepToTxn = true
  try {
    runCommand(word & 0xffff, word, flags, 0, false)
  } finally {
    isStepToTxn = false
  }
  cur.port.postMessage(aofLog.takeSince(m))
}

/** The transaction ended: take the databases back and act on what its steps did to them. */
function release (r: Returned): void {
  takeEffects(r)
  if (r.isAcked) {
    out.reset()
    out.status('OK')
    writeReply(0, false)
    notifyProducer(cur)
  }
}

/** The databases back from the transaction's thread, and what its steps did to them. */
function takeEffects (r: Returned): void {
  takeBack(shard, r)
  if (r.copyWritten !== undefined) shard.touchCopyLent(r.copyWritten, r.copyRead ?? [], r.isCopyVoid === true)
  if (r.aofRest !== undefined) aofLog.adopt(r.aofRest, r.aofRestUnits ?? 0)
  if (r.aofOwed !== undefined) owe(r.aofOwed, r.aofOwedFd ?? shardAof.fd)
  // The steps ran on another thread: its writes may have made or moved buffers.
  layoutSeen = -1
  for (const { kind, db, key, slot } of r.effects) {
    if (kind === EFFECT_READ) { trk.remember(slot ?? 0, key, 0, key.length); writes.onTrack = onTrackRemove; continue }
    if (kind === EFFECT_CREATED) {
      const w = blockedByKey.get(keyId(db, key, 0, key.length))
      if (w !== undefined) markReady(w)
    }
    else {
      shard.watch.touch(db, key, 0, key.length, kind === EFFECT_REMOVED ? null : shard.dbs[db])
      if (trk.isActive) { trk.writer = writerSlot; trk.touch(key, 0, key.length) }
    }
  }
  trk.limit()
}

// INFO commandstats (server/command-stats.ts): a command sent whole to this shard is counted
// and timed here, where it runs; a part of a multi-shard command (REQ_NOPARK) only adds its
// time, its call being counted once the parts are merged; SCAN, which may pass on from shard to
// shard, is counted by its thread. Internal records (transaction steps, __exec) are not
// commands: the commands inside an __exec are counted one by one.
const STAT_NONE = 0
const STAT_CALL = 1
const STAT_TIME = 2
const statKind = Uint8Array.from(commands, c => c.name.startsWith('__') ? STAT_NONE : c.route === 'cursor' ? STAT_TIME : STAT_CALL)
const allStats = data.cmdStats === undefined ? new CommandStats(1) : new CommandStats(data.cmdStats.rows, data.cmdStats.sab)
const cmdStats = allStats.row(data.cmdStats?.row ?? 0)
const statSettings = allStats.settings
slowlogSettings.words = statSettings
/** Never in SLOWLOG: internal records and commands flagged skip_slowlog (EXEC). */
const skipSlowlog = Uint8Array.from(commands, c => c.name.startsWith('__') || c.flags.includes('skip_slowlog') ? 1 : 0)

/** slowlogPushCurrentCommand: argv is the command that just ran, for the client in `slot`. */
function logSlow (id: number, us: number, slot: number): void {
  if (skipSlowlog[id] !== 0) return
  slowlogPush({ id: allStats.nextSlowlogId(), timeSec: Math.floor(Date.now() / 1000), us: Math.floor(us), args: slowArgs(argv), addr: allStats.clientAddr(slot), name: allStats.clientName(slot) },
    statSettings[SET_SLOWLOG_MAX_LEN])
}

/** A command replied (its reply starts at out.buf[at]): failed_calls and errorstats. */
function countErrors (id: number, isPart: boolean, at: number): void {
  if (isPart || statKind[id] === STAT_TIME) return
  if (scriptReply !== null) { countScriptReply(cmdStats, id, scriptReply); scriptReply = null; return }
  if (out.len > at && out.buf[at] === 45) { cmdStats.failed(id); cmdStats.error(out.buf, at, out.len) }
}

/** The command took `ns`: a call with its latency sample, or a part's time. */
function countTime (id: number, ns: number, isPart: boolean): void {
  if (isPart || statKind[id] === STAT_TIME) cmdStats.time(id, ns)
  else cmdStats.call(id, ns)
}

/** When the last command (or the ring's run) began; runRecord chains its command from it. */
let clockAt = 0
let chainedStart = -1

function runCommand (id: number, word: number, flags: number, slot: number, isLate: boolean): void {
  shard.select(word >>> 24)
  out.reset()
  out.resp3 = (flags & REQ_RESP3) !== 0
  const cmd = commands[id]
  shard.slot = slot
  shard.producer = cur.index
  writerSlot = slot
  trackSlot = (flags & REQ_TRACK) !== 0 ? slot : 0
  if (commandsLeft >= 0 && commandsLeft-- === 0) process.exit(70)
  // One clock read per command: in a ring's run, a command starts where the last one ended.
  const t0 = chainedStart >= 0 ? chainedStart : performance.now()
  chainedStart = -1
  try {
    if (id === EXEC) runExec(slot)
    else if (id === UNBLOCK) unblockCommand()
    else if (isScript[id] !== 0) runScript(cmd, (flags & REQ_RESP3) !== 0)
    else runOne(cmd)
  } catch (err) {
    // A handler bug must not take the shard down with every other client's data.
    shard.pendingBlock = null
    out.reset()
    out.raw(errorReply(`ERR internal error in '${cmd.name}': ${(err as Error).message}`))
  }
  const isCounted = statKind[id] !== STAT_NONE && !isHeld && !isScriptRerun
  const isPart = (flags & REQ_NOPARK) !== 0
  if (isCounted) countErrors(id, isPart, 0)
  scriptReply = null
  if (shard.pendingBlock !== null) {
    const spec = shard.pendingBlock
    shard.pendingBlock = null
    block(slot, spec, isLate, (flags & REQ_RESP3) !== 0)
  } else if ((flags & REQ_NOREPLY) === 0) {
    if (trk.out.length !== 0 && slot !== 0) sendOwnTracking(slot)
    writeReply(slot, isLate)
    if (isScriptRerun) commandsRun--
  }
  isScriptRerun = false
  // The command's events first, then blocked clients it served (who may act on them at once).
  if (shard.events.length !== 0) sendEvents()
  if (readyKeys.length > 0 && !isHeld) serveReady()
  if (shard.events.length !== 0) sendEvents()
  // Invalidations after the reply: the writer's own come after its reply, as in Redis 7.0.
  if (trk.out.length !== 0 || trk.bcastKeys.length !== 0) sendTracking()
  writerSlot = 0
  trackSlot = 0
  // Its time includes writing its reply, as Redis's includes addReply.
  const t1 = performance.now()
  clockAt = t1
  if (isCounted) {
    countTime(id, (t1 - t0) * 1e6, isPart)
    // slowlog-log-slower-than: negative is off, 0 logs every command.
    const us = (t1 - t0) * 1000
    const slower = statSettings[SET_SLOWLOG_SLOWER]
    if (slower >= 0 && us >= slower && !isPart && statKind[id] === STAT_CALL) logSlow(id, us, slot)
  }
}

// --- blocked clients (BLPOP, BLMOVE...) ------------------------------------------------------------
// A blocking command that found nothing sets shard.pendingBlock (commands/list.ts): its client
// waits here, in arrival order on each of its keys, and its producer gets RESP_BLOCKED in place
// of a reply. A key created while clients wait on it (storage/writes.ts onInsert, or SWAPDB)
// goes on readyKeys; after the command that made it (after the whole EXEC, or after a held
// transaction), serveReady hands its elements to the waiting clients in order, each reply a late
// one for its slot. Deadlines are kept by the loop's sleep; nothing spins while clients wait.

/**
 * notified: a move across shards (BLOCK_NOTIFY) that was told its source holds elements: it
 * keeps the head of the queue, so the waiters behind it stay behind it, until its thread has
 * tried again and releases it with __unblock.
 */
interface Blocked { slot: number, from: Producer, db: number, spec: BlockSpec, resp3: boolean, waits: Waiters[], tags: number[], notified: boolean }
/** The clients waiting on one key of one database, in arrival order; isReady: on readyKeys. */
interface Waiters { db: number, key: Buffer, q: Blocked[], isReady: boolean }
// Entries stay when their queue empties, and go in bulk past EMPTY_WAITERS: a Map that shrinks
// by its last entry re-allocates its table when the next one comes, and in a BLPOP/LPUSH
// ping-pong every round empties a queue (perf: 6% of the shard's time in OrderedHashMap::Rehash).
const blockedByKey = new Map<string, Waiters>()
const EMPTY_WAITERS = 1024
let emptyWaiters = 0
/** Blocked clients by slot (0: none), an array for the same reason. */
const blockedSlots: Array<Blocked | undefined> = []
let blockedCount = 0
/** Blocked clients, less the waits of commands whose keys span shards (counted by their thread). */
let blockedClients = 0
/** Those of blockedClients with a deadline. */
let blockedTimed = 0
/** The earliest deadline among blocked clients (Infinity: none). */
let nextDeadline = Infinity
const readyKeys: Waiters[] = []
/** A transaction holds this shard: serve nobody until it ends. */
let isHeld = false
/** The held shard runs the step now coming with its databases back (a script's FLUSHALL, FLUSHDB or SWAPDB). */
let isRelent = false
/** ...and the transaction's AOF block has that command, so the shard logs none of it. */
let isAofByTxn = false

// latin1Slice reads a view in place (no Buffer made per call: 70 against 180 ns a key).
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string
function keyId (db: number, buf: Uint8Array, start: number, len: number): string {
  return db + ':' + latin1Slice.call(buf, start, start + len)
}

function markReady (w: Waiters): void {
  if (w.q.length > 0 && !w.isReady) { w.isReady = true; readyKeys.push(w) }
}

function waitersOf (db: number, key: Buffer): Waiters {
  const id = keyId(db, key, 0, key.length)
  let w = blockedByKey.get(id)
  if (w === undefined) {
    w = { db, key, q: [], isReady: false }
    blockedByKey.set(id, w)
    emptyWaiters++
  }
  return w
}

/** Drops the keys nobody waits on any more (not one still on readyKeys: serveReady skips it then). */
function sweepWaiters (): void {
  for (const [id, w] of blockedByKey) if (w.q.length === 0 && !w.isReady) { blockedByKey.delete(id); emptyWaiters-- }
}

/**
 * Counts of the hash bits (keyHash & ~31: keyspace.ts stores them beside the type) of every key
 * a client waits on, folded into 2^16 buckets: while clients block, every key made on this shard
 * passes onInsert, and most are not waited on (BullMQ's job hashes, while its worker waits on
 * one list), so they are turned away on a number before any key string is built. A bucket that
 * two keys share only costs the lookup.
 */
const blockedTags = new Int32Array(1 << 16)
const tagOf = (buf: Uint8Array, start: number, len: number): number => (keyHash(buf, start, len) >>> 5) & 0xffff

function onInsert (ks: Keyspace, e: number): void {
  if (blockedTags[(ks.arena.u32[(e + 4) >>> 2] >>> 5) & 0xffff] === 0) return
  const w = blockedByKey.get(keyId(shard.dbs.indexOf(ks), ks.arena.u8, ks.keyOffset(e), ks.keyLen(e)))
  if (w !== undefined) markReady(w)
}

function onSwap (i: number, j: number): void {
  for (const w of blockedByKey.values()) if (w.db === i || w.db === j) markReady(w)
}

function block (slot: number, spec: BlockSpec, isLate: boolean, resp3: boolean): void {
  const db = shard.dbIndex
  const b: Blocked = { slot, from: cur, db, spec, resp3, waits: spec.keys.map(k => waitersOf(db, k)), tags: spec.keys.map(k => tagOf(k, 0, k.length)), notified: false }
  for (const t of b.tags) blockedTags[t]++
  for (const w of b.waits) {
    if (w.q.includes(b)) continue
    if (w.q.length === 0) emptyWaiters--
    w.q.push(b)
  }
  if (slot !== 0) blockedSlots[slot] = b
  blockedCount++
  if (spec.kind !== BLOCK_NOTIFY && spec.waitId === 0) {
    blockedClients++
    if (spec.deadline !== 0) blockedTimed++
  }
  if (spec.deadline !== 0 && spec.deadline < nextDeadline) nextDeadline = spec.deadline
  writes.onInsert = onInsert
  writes.onSwap = onSwap
  writes.onReady = onInsert
  // A request that had been parked for credit already has its placeholder.
  if (!isLate) {
    const off = reserveReply(8)
    cur.resps.u32[off >>> 2] = RESP_BLOCKED
    cur.resps.u32[(off + 4) >>> 2] = slot
    cur.resps.commit(off, 8)
  }
}

function forget (b: Blocked): void {
  for (const t of b.tags) blockedTags[t]--
  b.tags = []
  for (const w of b.waits) {
    const i = w.q.indexOf(b)
    if (i < 0) continue
    w.q.splice(i, 1)
    if (w.q.length === 0) emptyWaiters++
  }
  if (emptyWaiters > EMPTY_WAITERS) sweepWaiters()
  if (b.slot !== 0 && blockedSlots[b.slot] === b) blockedSlots[b.slot] = undefined
  if (b.spec.kind !== BLOCK_NOTIFY && b.spec.waitId === 0) {
    blockedClients--
    if (b.spec.deadline !== 0) blockedTimed--
  }
  if (--blockedCount === 0) { writes.onInsert = null; writes.onSwap = null; writes.onReady = null; nextDeadline = Infinity }
}

/** Sends a blocked client's reply (in `out`) as a late reply on its producer's ring. */
function replyBlocked (b: Blocked): void {
  const was = cur
  cur = b.from
  writeReply(b.slot, true)
  cur = was
}

function serveReady (): void {
  const wasDb = shard.dbIndex
  while (readyKeys.length > 0) {
    const w = readyKeys.shift() as Waiters
    w.isReady = false
    const q = w.q
    const db = w.db
    const key = w.key
    // A waiter that cannot be served stops the queue (the key has nothing for anyone after it),
    // except a stream's: XREAD waiters wait for different ids, so the next one may be served.
    let i = 0
    while (q.length > i) {
      const b = q[i]
      if (b.notified) break
      shard.select(db)
      out.reset()
      out.resp3 = b.resp3
      if (b.spec.stream !== undefined && !hasWanted(shard, key, b.spec)) { i++; continue }
      if (b.spec.kind === BLOCK_NOTIFY) {
        if (!hasWanted(shard, key, b.spec)) break
        b.notified = true
        out.raw(READY_REPLY)
        replyBlocked(b)
        break
      }
      const before = writes.count
      if (b.spec.waitId !== 0 && b.spec.kind !== BLOCK_NOTIFY) {
        // A wait across shards: served here only if no other shard served it first.
        if (!hasWanted(shard, key, b.spec)) break
        shard.slot = b.slot
        if (!claim(shard, b.spec)) {
          forget(b)
          out.raw(CANCELLED)
          replyBlocked(b)
          continue
        }
      }
      if (snapshot.active) {
        touchKey(db, key, 0, key.length)
        if (b.spec.dst !== null) touchKey(db, b.spec.dst, 0, b.spec.dst.length)
      }
      if (shard.copying !== null) {
        shard.touchCopy(db, key, 0, key.length, true)
        if (b.spec.dst !== null) shard.touchCopy(db, b.spec.dst, 0, b.spec.dst.length, true)
      }
      if (!serveBlocked(shard, b.spec, key, out)) break
      forget(b)
      if (aofOn[0] !== 0 && writes.count !== before) {
        logKeyState(shard, db, key, 0, key.length, aofLog)
        const dst = b.spec.dst
        if (dst !== null) logKeyState(shard, db, dst, 0, dst.length, aofLog)
      }
      if (shard.watch.size !== 0 && writes.count !== before) {
        shard.watch.touch(db, key, 0, key.length, shard.ks)
        const dst = b.spec.dst
        if (dst !== null) shard.watch.touch(db, dst, 0, dst.length, shard.ks)
      }
      if (trk.isActive && writes.count !== before) {
        trk.writer = b.slot
        trk.touch(key, 0, key.length)
        if (b.spec.dst !== null) trk.touch(b.spec.dst, 0, b.spec.dst.length)
      }
      replyBlocked(b)
    }
  }
  shard.select(wasDb)
}

/** Answers every blocked client whose deadline has passed with the timeout reply. */
function expireBlocked (now: number): void {
  nextDeadline = Infinity
  for (const b of [...blockedSlots.filter(b => b !== undefined), ...blockedSlotless()] as Blocked[]) {
    const d = b.spec.deadline
    if (d === 0) continue
    if (d <= now) {
      forget(b)
      out.reset()
      out.resp3 = b.resp3
      out.nullArray()
      replyBlocked(b)
    } else if (d < nextDeadline) nextDeadline = d
  }
}

/** Blocked clients without a slot (beyond the accounted ones): found through their keys. */
function blockedSlotless (): Blocked[] {
  const out: Blocked[] = []
  for (const w of blockedByKey.values()) for (const b of w.q) if (b.slot === 0 && !out.includes(b)) out.push(b)
  return out
}


/** __unblock slot mode: CLIENT UNBLOCK (0 timeout, 1 error) or the client left (2). Its own reply is ignored. */
function unblockCommand (): void {
  const slot = readU32(argv.buf, argv.start[1])
  const mode = readU32(argv.buf, argv.start[2])
  const b = slot === 0 ? undefined : blockedSlots[slot]
  out.reset()
  out.raw(b === undefined ? ZERO_REPLY : ONE_REPLY)
  if (b === undefined) return
  forget(b)
  if (b.notified) {
    // Already answered (+READY): it only held its place. The waiters behind it may go now.
    for (const w of b.waits) markReady(w)
    return
  }
  const mine = Buffer.from(out.buf.subarray(0, out.len))
  out.reset()
  out.resp3 = b.resp3
  if (mode === 1) out.raw(UNBLOCKED)
  else out.nullArray()
  replyBlocked(b)
  out.reset()
  out.raw(mine)
}
const ZERO_REPLY = Buffer.from(':0\r\n')
const READY_REPLY = Buffer.from('+READY\r\n')
const ONE_REPLY = Buffer.from(':1\r\n')

/**
 * Runs one command on the shard. While keys are watched here, a write command that changed
 * anything (storage/writes.ts) touches its keys: the keys it writes, in the database it ran in
 * (DEL and UNLINK touch through the deletions themselves: a missing key is not touched).
 */
function runOne (cmd: Command): void {
  // performEvictions before a command that may grow memory (storage/eviction.ts); a script's
  // commands were checked against maxmemory by the script (scriptVerifyOOM), which evicts nothing.
  if (cmd.isDenyOom && !isInScript && maxmemoryOf(evictionSettings.flags) !== 0 && !makeRoom()) { out.raw(OOM); return }
  if (snapshot.active && cmd.isWrite) beforeWrite(cmd)
  if (shard.copying !== null) touchForCopy(cmd)
  if (cmd.id === FLUSHDB_ID || cmd.id === FLUSHALL_ID) trackFlush()
  if (aofOn[0] !== 0 && cmd.isWrite && !isAofByTxn) { runLogged(cmd); return }
  const before = writes.count
  const signals = writes.signals
  const db = shard.dbIndex
  const mark = out.len
  cmd.run?.(shard, argv, out)
  // A read may rewrite its value too (PFCOUNT's cached cardinality) but is no change of Redis's.
  const isChanged = cmd.isWrite && writes.count !== before
  if (isChanged) countDirty(cmd, mark)
  // What changed, or what Redis signals though nothing did (writes.signals: LTRIM, PFCOUNT).
  if ((isChanged || writes.signals !== signals) && !cmd.onlyDeletes && (shard.watch.size !== 0 || trk.isActive)) touchKeys(cmd, db, mark)
  // CLIENT TRACKING: what a tracking client's read-only command read, once it ran (a key its
  // read found expired is invalidated first, then remembered again).
  if (trackSlot !== 0 && isTrackRead[cmd.id] !== 0) rememberKeys(cmd)
  if (shard.pushes.length !== 0) sendPushes()
}

/** Redis's dirty for a write command that changed something (persistence/dirty.ts). */
function countDirty (cmd: Command, mark: number): void {
  shard.dirty += dirtyOf(dirtyRule[cmd.id], argv.argc, out.buf, mark)
}
const dirtyRule = dirtyRules(commands)

/**
 * runOne with appendonly on: a write that changed anything logs its effect (persistence/
 * aof-effects.ts). FLUSHALL, FLUSHDB and SWAPDB run on every shard and change every shard's
 * keys: the file gets one copy, after every shard's earlier writes and before any later one.
 */
function runLogged (cmd: Command): void {
  const before = writes.count
  const signals = writes.signals
  const db = shard.dbIndex
  const mark = out.len
  const isWhole = cmd.route === 'all'
  // Alone, held or in a block, the order is this shard's own: logged once it ran, unless it failed.
  const isBarrier = isWhole && !(data.shards === 1 || isHeld || aofLog.inUnit || isInGroup)
  if (isBarrier) logWhole(db)
  cmd.run?.(shard, argv, out)
  // A transaction that logs its steps' effects logs one copy of it itself (multi.ts runSteps).
  if (isWhole && !isBarrier && out.buf[mark] !== 45 && !isStepToTxn) aofLog.argv(db, argv)
  const isChanged = writes.count !== before
  if (isChanged) countDirty(cmd, mark)
  if ((isChanged || writes.signals !== signals) && !cmd.onlyDeletes && (shard.watch.size !== 0 || trk.isActive)) touchKeys(cmd, db, mark)
  if (isChanged && !isWhole) logEffect(commands, cmd, shard, db, argv, out.buf, mark, out.len, aofLog)
  if (shard.pushes.length !== 0) sendPushes()
}

/**
 * A command every shard runs: each writes what it logged so far, the last to arrive writes the
 * command, then all go on. (Inside a transaction's block or a held shard's steps the order is
 * the transaction's already: runLogged logs it there, each shard its copy, once it ran.)
 */
function logWhole (db: number): void {
  flushShardAof()
  const i32 = saveWords().i32
  const gen = Atomics.load(i32, W_AOF_BAR_GEN)
  if (Atomics.add(i32, W_AOF_BAR_COUNT, 1) + 1 === data.shards) {
    aofLog.argv(db, argv)
    flushShardAof()
    Atomics.store(i32, W_AOF_BAR_COUNT, 0)
    Atomics.add(i32, W_AOF_BAR_GEN, 1)
    Atomics.notify(i32, W_AOF_BAR_GEN)
    return
  }
  // Every shard reaches the command (it was staged on all at once); a dead one would not.
  const until = Date.now() + 10_000
  while (Atomics.load(i32, W_AOF_BAR_GEN) === gen && Date.now() < until) Atomics.wait(i32, W_AOF_BAR_GEN, gen, 100)
}

/** Expired and evicted keys are logged as DEL while appendonly is on (storage/aof-hook.ts). */
function syncAofHook (): void {
  if (aofOn[0] !== 0) aofHook.onDelete = onAofDelete
  else { aofHook.onDelete = null; aofLog.clear(); shardAof.fd = 0 }
}
const onAofDelete = (ks: Keyspace, e: number): void => { logDelete(ks, e, shard.dbs.indexOf(ks), aofLog) }

/**
 * Evicts down to this shard's share of maxmemory, with room for this write (storage/eviction.ts
 * hasRoom); false when the policy found nothing more to evict, or under noeviction. Inside EXEC the commands run anyway: the router checked the whole transaction.
 */
function makeRoom (): boolean {
  // About what the write adds: an entry header and its arguments (a SET's whole entry).
  let need = ENTRY_HEADER_BYTES
  for (let i = 1; i < argv.argc; i++) need += argv.len[i]
  return shard.evictTo(shardShare(evictionSettings.flags, data.shards), need) || shard.noBlock
}

/**
 * A BGSAVE snapshot runs: what this write command is about to change is saved first, as it was
 * at the cut (persistence/snapshot.ts). FLUSHALL drops the snapshot, as Redis kills its child.
 */
function beforeWrite (cmd: Command): void {
  const name = cmd.name
  if (name === 'flushall') {
    abortSnapshot()
    parentPort?.postMessage({ op: 'bgsave-abort', shard: data.index })
  } else if (name === 'flushdb') {
    finishDb(shard.dbIndex)
  } else if (name === 'swapdb') {
    for (let i = 1; i <= 2 && i < argv.argc; i++) {
      const db = Number(Buffer.from(argv.buf.buffer, argv.buf.byteOffset + argv.start[i], argv.len[i]).toString('latin1'))
      if (Number.isInteger(db) && db >= 0 && db < shard.dbs.length) finishDb(db)
    }
  } else {
    forEachWrittenKey(cmd, argv, shard.dbIndex, shard.dbs.length, touchKey)
  }
}

/**
 * A compaction's copy runs (storage/db-copy.ts): the keys this command writes are copied again
 * after the batch if their slot was copied already; the keys a read-only one reads carry their
 * access clocks over.
 */
function touchForCopy (cmd: Command): void {
  if (cmd.isWrite) forEachWrittenKey(cmd, argv, shard.dbIndex, shard.dbs.length, copyTouchWrite)
  else forEachKey(cmd, argv, copyTouchRead)
}
const copyTouchWrite = (db: number, buf: Uint8Array, start: number, len: number): void => { shard.touchCopy(db, buf, start, len, true) }
const copyTouchRead = (buf: Uint8Array, start: number, len: number): void => { shard.touchCopy(shard.dbIndex, buf, start, len, false) }

/** The walk is over: the records go to the main thread's joiner (persistence/bgsave.ts), moved, not copied. */
function sendSnapshot (): void {
  const part = takeSnapshot(data.index)
  const transfer: ArrayBuffer[] = []
  for (const f of part.functions) transfer.push(f.buffer as ArrayBuffer)
  for (const d of part.dbs) for (const c of d.chunks) transfer.push(c.buffer as ArrayBuffer)
  parentPort?.postMessage({ op: 'bgsave-part', part }, transfer)
}

/**
 * PUBLISH ran on this (hub) shard: the message goes to every producer with receivers, as a
 * RESP_PUSH record in its response ring (out of band when too big), in order with replies.
 */
function sendPushes (): void {
  for (const { payload, to } of shard.pushes) {
    for (let i = 0; i < producers.length; i++) if (to[i] !== 0) pushTo(producers[i], payload)
  }
  shard.pushes.length = 0
}

function pushTo (p: Producer, payload: Buffer): void {
  p.pushed = true
  cur.causedPush = true
  anyPushed = true
  const resps = p.resps
  const isOob = payload.length + 8 > resps.maxPayload
  if (isOob) {
    const sab = new SharedArrayBuffer(payload.length)
    new Uint8Array(sab).set(payload)
    p.port.postMessage(sab)
  }
  const off = reserveOn(p, isOob ? 8 : 8 + payload.length)
  resps.u32[off >>> 2] = RESP_PUSH
  resps.u32[(off + 4) >>> 2] = isOob ? RESP_OOB : payload.length
  if (!isOob) copyBytes(payload, 0, payload.length, resps.u8, off + 8)
  resps.commit(off, isOob ? 8 : 8 + payload.length)
}

// --- keyspace events to the hub ------------------------------------------------------------------
// The events a command recorded (Shard.notify) go straight to shard 0, the hub, as a __notify
// record in this shard's event ring (ShardWorkerData.events). Each record takes the next ticket
// of shard 0's counter just before it is committed, and shard 0 runs ticketed records in ticket
// order: so the hub publishes every shard's events in the order they happened, even when the
// events of one command lead another thread to run the next (a push that serves a blocked
// client). A full ring never blocks this shard: the events wait here and go with the next try.

const hubEvents = data.events === undefined ? null : new RingWriter(data.events.req)
const hubBell = data.events === undefined ? null : new Int32Array(data.events.bell)
const tickets = data.sequencer === undefined ? null : new Int32Array(data.sequencer)
const NOTIFY_ID = internalCommand('__notify').id
const pendingEvents: Buffer[] = []

function sendEvents (): void {
  for (const e of shard.events) pendingEvents.push(e)
  shard.events.length = 0
  flushEvents()
}

function flushEvents (): void {
  if (hubEvents === null || tickets === null || hubBell === null) { pendingEvents.length = 0; return }
  const name = NOTIFY_NAME
  while (pendingEvents.length > 0) {
    // As many events as fit one record; one event too big for the ring alone is dropped.
    let n = 0
    let bytes = REQ_HEADER_BYTES + 4 + name.length
    while (n < pendingEvents.length && bytes + 4 + pendingEvents[n].length <= hubEvents.maxPayload) { bytes += 4 + pendingEvents[n].length; n++ }
    if (n === 0) { pendingEvents.shift(); continue }
    const off = hubEvents.reserve(bytes)
    if (off < 0) break
    const u32 = hubEvents.u32
    const u8 = hubEvents.u8
    const argc = n + 1
    let p = off + REQ_HEADER_BYTES + argc * 4
    u32[((off + REQ_HEADER_BYTES) >>> 2)] = name.length
    copyBytes(name, 0, name.length, u8, p)
    p += name.length
    for (let k = 0; k < n; k++) {
      const e = pendingEvents[k]
      u32[((off + REQ_HEADER_BYTES) >>> 2) + 1 + k] = e.length
      copyBytes(e, 0, e.length, u8, p)
      p += e.length
    }
    u32[off >>> 2] = (NOTIFY_ID | (REQ_NOREPLY << 16)) >>> 0
    u32[(off + 4) >>> 2] = argc
    u32[(off + 8) >>> 2] = 0
    // Taken last, so a ticket is always followed at once by its record.
    u32[(off + 12) >>> 2] = Atomics.add(tickets, 1, 1) + 1
    hubEvents.commit(off, bytes)
    hubEvents.publish()
    pendingEvents.splice(0, n)
    Atomics.add(hubBell, SEQ, 1)
    if (Atomics.load(hubBell, SLEEPING) !== 0) Atomics.notify(hubBell, SEQ, 1)
  }
}
const NOTIFY_NAME = Buffer.from('__notify')

/** What a write that changed something touched (its reply at out.buf[mark]). */
function touchKeys (cmd: Command, db: number, mark: number): void {
  forEachTouchedKey(cmd, argv, db, shard.dbs.length, touchOne, out.buf, mark)
}

function touchOne (db: number, buf: Uint8Array, start: number, len: number): void {
  if (shard.watch.size !== 0) shard.watch.touch(db, buf, start, len, shard.dbs[db])
  if (trk.isActive) { trk.writer = writerSlot; trk.touch(buf, start, len) }
}

// --- CLIENT TRACKING (storage/tracking.ts) ------------------------------------------------------
// The table is filled by reads flagged REQ_TRACK and emptied by the same write points as WATCH
// (touchOne, deletions through writes.onTrack, a transaction's effects, served blocked clients).
// Invalidations wait in trk.out until the command's reply is written, then go as RESP_PUSH records.

/** The client slot of the command running (NOLOOP; 0 outside commands: active expiry). */
let writerSlot = 0
/** The slot of a tracking client whose read-only command runs (0: not remembering). */
let trackSlot = 0
/** Read-only commands with keys: what trackingRememberKeys remembers (never internal records). */
const isTrackRead = Uint8Array.from(commands, c => isTrackedRead(c) ? 1 : 0)
/** Producers that are I/O threads (shard 0's further producers are the other shards' event rings). */
const ioProducers = data.index === 0 && data.events !== undefined ? Math.max(1, producers.length - data.shards) : producers.length

function rememberKeys (cmd: Command): void {
  forEachKey(cmd, argv, rememberOne)
  writes.onTrack = onTrackRemove
  trk.limit()
}

function rememberOne (buf: Uint8Array, start: number, len: number): void { trk.remember(trackSlot, buf, start, len) }

function onTrackRemove (ks: Keyspace, e: number): void {
  trk.writer = writerSlot
  trk.touch(ks.arena.u8, ks.keyOffset(e), ks.keyLen(e))
}

/** FLUSHDB/FLUSHALL: every shard forgets its keys; the hub sends the null invalidation to every thread. */
function trackFlush (): void {
  trk.clear()
  if (data.index === 0 && trk.words.g[G_CLIENTS] !== 0) trk.flushAll()
}

/**
 * The invalidations for the writer itself, ahead of its reply: those of keys it tracks marked
 * TRK_AFTER, which its thread writes just after that reply, before anything else it sends the
 * client (Redis 7.0's pending invalidations of the current client); as a REDIRECT target's, just
 * before that reply.
 */
function sendOwnTracking (slot: number): void {
  const out = trk.out
  let kept = 0
  for (let i = 0; i < out.length; i++) {
    const r = out[i]
    if (readU32(r.payload, 4) === slot && producers[r.producer] === cur) {
      // aux 0: the tracking client itself. A REDIRECT target (aux 1) hears at once, before its
      // reply, as Redis 7.0 defers only the tracking client's own.
      if (readU32(r.payload, 12) === 0) r.payload[2] = TRK_AFTER
      pushTo(cur, r.payload)
    } else out[kept++] = r
  }
  out.length = kept
}

function sendTracking (): void {
  if (trk.bcastKeys.length !== 0) for (const r of trk.bcastRecords(ioProducers)) trk.out.push(r)
  for (const { producer, payload } of trk.out) if (producer < ioProducers) pushTo(producers[producer], payload)
  trk.out.length = 0
}

// __exec's own arguments, kept while argv is pointed at each command in turn.
let execStart = new Int32Array(64)
let execLen = new Int32Array(64)
const metaBytes = new Uint8Array(8)
const metaF64 = new Float64Array(metaBytes.buffer)

/**
 * __exec meta (header args...)*: a transaction's commands for this shard, run back to back, so
 * no other request sees the shard between them. meta: u32 watch tag (0: no check), u32 command
 * count, f64 watch deadline (0: none). header: u32 command id | db << 24, u32 argc. A client
 * whose watched key changed (its slot's word holds the tag) or expired gets a null reply and
 * nothing runs. The reply is an array of each command's reply.
 */
function runExec (slot: number): void {
  const n = argv.argc
  if (execStart.length < n) { execStart = new Int32Array(n * 2); execLen = new Int32Array(n * 2) }
  for (let i = 0; i < n; i++) { execStart[i] = argv.start[i]; execLen[i] = argv.len[i] }
  const buf = argv.buf
  const m = execStart[1]
  const tag = readU32(buf, m)
  const word = readU32(buf, m + 4)
  const count = word & EXEC_COUNT
  for (let i = 0; i < 8; i++) metaBytes[i] = buf[m + 8 + i]
  const deadline = metaF64[0]
  if ((word & EXEC_VERDICT) !== 0) {
    if (!isVerdictKept(slot, tag, word, deadline, readU32(buf, m + 16), readU32(buf, m + 20))) { out.nullArray(); return }
    out.arrayHeader(count)
    // A watched shard without commands of the transaction: its reply is only its arrival.
    if (count === 0) return
  } else {
    // EXEC_ENDS: every watched key is here, so the session ends here, after the check and the run.
    if (tag !== 0 && isWatchBroken(slot, tag, deadline)) {
      if ((word & EXEC_ENDS) !== 0) shard.watch.unwatch(tag)
      out.nullArray()
      return
    }
    out.arrayHeader(count)
  }
  shard.noBlock = true
  // The transaction's effects go into the file as one MULTI/EXEC block (the holding transaction's,
  // or with parts on several shards the group's, written by its last shard).
  const isGroup = (word & EXEC_AOF_GROUP) !== 0
  const isLogged = aofOn[0] !== 0 && !isStepToTxn && !isGroup
  if (isGroup) beginGroup(buf, m + ((word & EXEC_VERDICT) !== 0 ? 24 : 16))
  else if (isLogged) aofLog.beginUnit()
  isInGroup = isGroup
  try {
    execCommands(count)
  } finally {
    shard.noBlock = false
    isInGroup = false
    if (isGroup) endGroup()
    else if (isLogged) aofLog.endUnit()
    if ((word & EXEC_ENDS) !== 0) shard.watch.unwatch(tag)
  }
}

// The AOF group of the __exec running (EXEC_AOF_GROUP; commands/xmove.ts "AOF groups").
let isInGroup = false
let groupShards: number[] = []
let groupDeaths: number[] = []
/** A part's: where its effects begin in this shard's log. */
let groupMark: LogMark = { len: 0, count: 0, db: -1 }

/** Reads the group at buf[g] and gets this shard's log ready for its part. */
function beginGroup (buf: Uint8Array, g: number): void {
  const k = readU32(buf, g)
  groupShards = []
  groupDeaths = []
  for (let i = 0; i < k; i++) {
    groupShards.push(readU32(buf, g + 4 + i * 4))
    groupDeaths.push(readU32(buf, g + 4 + (k + i) * 4) | 0)
  }
  const log = aofLog
  // Effects logged before this part stay in front of it: the last shard writes them with the
  // block (its own, or a part's handed over with the part), in one write.
  if (groupShards[k - 1] === data.index) log.beginUnit()
  else groupMark = log.mark()
}

/** This shard's part ran: hand it to the last shard, or (the last) write the block. */
function endGroup (): void {
  const log = aofLog
  const k = groupShards.length
  const last = groupShards[k - 1]
  if (last !== data.index) {
    const mine = log.takeSince(groupMark)
    // What the log held before the part (not written yet, or kept by a failed write) goes first.
    const rest = log.take(true)
    const pending = rest === null ? 0 : rest.bytes.length
    const bytes = rest === null ? (mine.aof ?? Buffer.alloc(0)) : mine.aof === null ? Buffer.from(rest.bytes) : Buffer.concat([rest.bytes, mine.aof])
    groupHandOver(data.index, last, groupDeaths[k - 1], { bytes, pending, units: rest?.units ?? 0, n: mine.n, db: mine.db, end: mine.end })
    return
  }
  const before: Buffer[] = []
  let units = 0
  const took: number[] = []
  for (let i = 0; i < k - 1; i++) {
    const part = groupTake(data.index, groupShards[i], groupDeaths[i])
    if (part === null) continue
    took.push(i)
    if (part.pending > 0) { before.push(part.bytes.subarray(0, part.pending)); units += part.units }
    if (part.n > 0) log.raw(part.db, part.bytes.subarray(part.pending), part.n, part.end)
  }
  log.endUnit()
  if (before.length > 0) log.adopt(Buffer.concat(before), units)
  // Written now (the parts wait for it before they write anything later), synced with the batch:
  // every part owes the sync before its replies leave.
  flushShardAof(false)
  for (const i of took) groupWritten(groupShards[i], groupDeaths[i], aofDebt.n)
}

/**
 * Session `tag`'s watch, as this shard sees it: a touch stored in the slot's word, or (with
 * several shards, where the client's next session may overwrite that word from another shard
 * meanwhile) one this shard remembers, or a watched key past its time. The WATCH's reply may
 * not have reached the client's thread with its deadline: the table here knows the keys too.
 */
function isWatchBroken (slot: number, tag: number, deadline: number): boolean {
  const now = shard.now()
  return Atomics.load(shard.watch.words, slot) === tag || (data.shards > 1 && shard.watch.isTouched(tag)) ||
    (deadline !== 0 && now > deadline) || shard.watch.isExpired(tag, shard.dbs, now)
}

/**
 * A watched EXEC across shards (server/multi.ts execWatched): every shard of the transaction has
 * this record at the same place in the global order. A shard with watched keys of the session
 * checks them as the one-shard EXEC does, ends its part of the session (no later write here can
 * touch it) and arrives at the cell, marking it when the watch is broken. A shard with commands
 * then waits until every watched shard has arrived: each of them has run everything ordered
 * before the EXEC, so the mark is final, and every shard with commands reads the same one. The
 * slot's word is not read again there: a later session of the client may overwrite it. The
 * waits cannot form a cycle: a shard waits here only for others to reach this same record, and
 * every shard reaches the records of the global order in that order. A shard that dies is
 * arrived for by its producer (Transactions.onShardDown). False: the watch is broken.
 */
function isVerdictKept (slot: number, tag: number, word: number, deadline: number, cell: number, expected: number): boolean {
  if ((word & EXEC_WATCHED) !== 0) {
    const isDirty = isWatchBroken(slot, tag, deadline)
    shard.watch.unwatch(tag)
    if (isDirty) Atomics.store(verdict, cell + 1, 1)
    if (Atomics.add(verdict, cell, 1) + 1 >= expected) Atomics.notify(verdict, cell)
  }
  if ((word & EXEC_COUNT) === 0) return true
  for (;;) {
    const arrived = Atomics.load(verdict, cell)
    if (arrived >= expected) break
    Atomics.wait(verdict, cell, arrived, 1000)
  }
  return Atomics.load(verdict, cell + 1) === 0
}

function execCommands (count: number): void {
  const buf = argv.buf
  let i = 2
  for (let c = 0; c < count; c++) {
    const h = execStart[i]
    const word = readU32(buf, h)
    const argc = readU32(buf, h + 4)
    argv.argc = argc
    for (let j = 0; j < argc; j++) { argv.start[j] = execStart[i + 1 + j]; argv.len[j] = execLen[i + 1 + j] }
    shard.select(word >>> 24)
    const cmd = commands[word & 0xffff]
    const mark = out.len
    const t0 = performance.now()
    try {
      runOne(cmd)
    } catch (err) {
      out.len = mark
      out.raw(errorReply(`ERR internal error in '${cmd.name}': ${(err as Error).message}`))
    }
    if (statKind[cmd.id] !== STAT_NONE) {
      // A split command's part: its call is counted once merged, on the producer's thread.
      const isPart = (word & EXEC_CMD_PART) !== 0
      countErrors(cmd.id, isPart, mark)
      const ns = (performance.now() - t0) * 1e6
      countTime(cmd.id, ns, isPart)
      const slower = statSettings[SET_SLOWLOG_SLOWER]
      if (slower >= 0 && ns / 1000 >= slower && !isPart) logSlow(cmd.id, ns / 1000, shard.slot)
    }
    i += 1 + argc
  }
}

// Before sleeping after a short batch, watch SEQ for spin-us (config.ts; on by default where
// every thread has a core): a wake-up through Atomics.notify is a futex syscall on both sides
// plus a scheduler hop, which a client sending one request at a time pays on every request.
// After a long batch the next one is a turn away and a spin would only take a core.
const SPIN_US = data.spinUs ?? 0
/** Records the last pass that ran anything ran (a short batch spins). */
let lastBatch = Infinity
const spinGate = new SpinGate()

/**
 * Client producers (I/O threads) with epoch words in the sequencer's words (`tickets`, which
 * also hold the ticket counters: server/sequencer.ts): 0 with one producer, or none given.
 */
const epochCount = tickets === null ? 0 : Math.min(epochProducers(tickets.length, data.shards), producers.length)

/**
 * Whether ticket t (from client producer k) may run now: every command a client producer
 * staged before t was issued has run first. Those still unpublished (the producer's epoch word
 * names a ticket before t) make it wait for that turn; the published ones run now.
 */
function readyFor (t: number, k: number): boolean {
  const w = tickets as Int32Array
  for (let q = 0; q < epochCount; q++) {
    if (q === k) continue
    const at = epochIndex(data.shards, q, data.index)
    const e = Atomics.load(w, at)
    // EPOCH_BUSY: between its two stores (its ticket is not known yet); either way its publish
    // rings the bell.
    if (e === EPOCH_BUSY || (e !== 0 && e - 1 < t)) return false
  }
  for (let q = 0; q < epochCount; q++) if (q !== k) runBefore(producers[q], t)
  return true
}

/** Runs producer p's published commands placed before ticket t (no ticket, or REQ_AFTER one before t). */
function runBefore (p: Producer, t: number): void {
  const reqs = p.reqs
  if (!reqs.poll()) return
  const was = cur
  cur = p
  let n = 0
  while (reqs.peek()) {
    const ticket = reqs.u32[(reqs.payload + 12) >>> 2]
    if (ticket > staleTicket && ((reqs.u32[reqs.payload >>> 2] & (REQ_AFTER << 16)) === 0 || ticket >= t)) break
    reqs.advance()
    runRecord(reqs.payload, reqs.payloadLen)
    if ((++n & 63) === 0) reqs.release()
  }
  reqs.release()
  cur = was
}

/**
 * Runs what producer p has published, in order, up to a part whose ticket has not come yet
 * (another producer's earlier multi-shard command must run here first). True if it ran any.
 */
function runRing (p: Producer): boolean {
  const reqs = p.reqs
  if (!reqs.poll()) return false
  cur = p
  clockAt = performance.now()
  let n = 0
  while (reqs.peek()) {
    const ticket = reqs.u32[(reqs.payload + 12) >>> 2]
    if (ticket > staleTicket) {
      if ((reqs.u32[reqs.payload >>> 2] & (REQ_AFTER << 16)) !== 0) {
        // Not a part: it waits until every part ticketed before it was staged has run here.
        if (ticket >= nextTicket) break
      } else {
        if (ticket !== nextTicket) break
        // A client's part: what other clients staged before it was ticketed runs first.
        if (p.index < epochCount && !readyFor(ticket, p.index)) break
        nextTicket++
      }
    }
    reqs.advance()
    runRecord(reqs.payload, reqs.payloadLen)
    // Hand ring space back as we go so the producer can keep feeding a long batch.
    if ((++n & 63) === 0) reqs.release()
  }
  reqs.release()
  return n > 0
}

// --- scripts inside this worker (src/scripting/in-shard.ts) ---------------------------------------
// EVAL & co. and FCALL & co. arrive as records; the script runs here and each redis.call is a
// runOne on this shard, in the script's database, with no blocking (as inside EXEC). The
// script's writes go to the AOF as one MULTI/EXEC block, as the held path logs a script; its
// keyspace events, blocked clients it served and invalidations follow its reply, as for EXEC.
// With several shards a run may stop (it needs another shard): then what it did here is undone
// (undoScript) and its reply is RERUN_REPLY, on which the producer runs it holding every shard.
const isScript = Uint8Array.from(commands, c => c.route === 'script' && /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/.test(c.name) ? 1 : 0)
let isInScript = false
/** The reply of the script record that just ran, for countErrors (then null). */
let scriptReply: Buffer | null = null
/** SLOWLOG's client for a script's commands: Redis's script client, which has no connection nor name. */
const SCRIPT_CLIENT_ADDR = Buffer.from('?:0')
const NO_NAME = Buffer.alloc(0)
/** The script record's own arguments, kept while argv points at each call's. */
const scriptArgv: Argv = { buf: argv.buf, argc: 0, start: argv.start, len: argv.len }
const scriptFlags = sharedFlags(data.credit)
const scriptData = data.scripting
/** FLASHKV_SCRIPTS_IN_SHARD: 0 never, 'one' at one shard only, else at any number of shards (server/scripting.ts). */
const inShardMode = process.env.FLASHKV_SCRIPTS_IN_SHARD ?? ''
const isScriptHere = inShardMode !== '0' && (data.shards === 1 ? data.index === 0 : inShardMode !== 'one')
const undo = new UndoLog()
/**
 * Where a script's redis.calls count. With several shards a run may stop and run again held,
 * counting its calls there: its counts and SLOWLOG entries wait for the end of the run here
 * (runScript: kept, or dropped with the stopped run).
 */
const deferredRow = new DeferredRow(cmdStats)
const deferredLog: Array<[Buffer[], number]> = []
const scriptStats = {
  cmdStats,
  logScriptCall (a: Buffer[], us: number): void {
    if (scriptStats.cmdStats === deferredRow) { deferredLog.push([a, us]); return }
    slowlogPush({ id: allStats.nextSlowlogId(), timeSec: Math.floor(Date.now() / 1000), us: Math.floor(us), args: slowArgs(argvOf(a)), addr: SCRIPT_CLIENT_ADDR, name: NO_NAME },
      statSettings[SET_SLOWLOG_MAX_LEN])
  },
}
const scripts = isScriptHere && scriptData !== undefined
  ? await ShardScripts.create(scriptFlags, scriptData.state, {
    index: data.index,
    shards: data.shards,
    run (cmd: Command, a: Argv, db: number, resp3: boolean, keepUndo = false): Uint8Array | null {
      // redis.call's arguments where the script engine put them (runScript puts the record's back).
      argv.buf = a.buf
      argv.argc = a.argc
      argv.start = a.start
      argv.len = a.len
      shard.select(db)
      if (keepUndo) {
        // The first write of the run: what it leaves behind (events, blocked clients' keys, dirty) is counted from here.
        if (!isUndoMarked) { isUndoMarked = true; undoEvents = shard.events.length; undoReady = readyKeys.length; undoDirty = shard.dirty }
        isBigSeen = false
        forEachWrittenKey(cmd, argv, db, shard.dbs.length, saveOne)
        // A big value: kept by what undoes the command, if it is one the log can undo (scripting/undo.ts).
        if (isBigSeen && (bigPlan = undo.planBig(shard, cmd, argv, db)) === null) return null
      }
      out.reset()
      out.resp3 = resp3
      try {
        runOne(cmd)
      } catch (err) {
        out.reset()
        out.raw(errorReply(`ERR internal error in '${cmd.name}': ${(err as Error).message}`))
      }
      if (bigPlan !== null) {
        undo.finishBig(bigPlan, out.buf, 0, out.len)
        bigPlan = null
      }
      return out.buf.subarray(0, out.len)
    },
    maxmemoryLimit: () => policy() === POLICY_NOEVICTION ? maxmemoryOf(evictionSettings.flags) : 0,
    usedMemory: () => clientsMemory(scriptFlags) + shard.usedMemory(),
    lastSaveSec: () => scriptData.lastSave[0],
    counted: () => { shard.scriptCalls++ },
    stats: scriptStats,
    isMonitored: () => scriptFlags[MONITORS_WORD] > 0,
    monitor: (line: Buffer) => { publishOn(shard, PUBSUB_MONITOR, MONITOR_NAME, 0, MONITOR_NAME.length, line, 0, line.length) },
    finish (cmd: Command, a: Buffer[], part: Uint8Array, db: number, resp3: boolean): Uint8Array {
      // The script's producer merges (ShardLink.onAsk); it answers on the step port, as a hold's
      // release comes, and rings the mailbox. Its event loop is free meanwhile: with one shard
      // nothing it runs waits on this worker without a deadline.
      const p = cur
      const ask: ShardAsk = { cmd: cmd.id, argv: a, part, db, resp3 }
      p.wake.postMessage(ask)
      for (;;) {
        const seen = Atomics.load(p.mailbox, 0)
        const m = receiveMessageOnPort(p.stepPort)
        if (m !== undefined) return m.message as Uint8Array
        Atomics.wait(p.mailbox, 0, seen, 1000)
      }
    },
  }, {
    debug: msg => { parentPort?.postMessage({ op: 'log', level: 'debug', msg }) },
    info: msg => { parentPort?.postMessage({ op: 'log', level: 'info', msg }) },
    warn: msg => { parentPort?.postMessage({ op: 'log', level: 'warn', msg }) },
  }, scriptData.version)
  : null
// FCALL runs here on the hub only (the libraries' store).
if (data.index === 0) await scripts?.initFunctions()

const MONITOR_NAME = Buffer.from('monitor')
/** writeRerun's kinds: a run stopped at a call for another shard; one turned back unrun (a script this shard lacks, or behind a stopped one). */
const RERUN_CROSS = 1
const RERUN_BACK = 2
/** Turned back because this shard lacks the script (a SCRIPT FLUSH, or a replaced worker): its producer sends the body again. */
const RERUN_MISSING = 3
/** Stopped at a write to a big value the undo log cannot undo (scripting/undo.ts). */
const RERUN_BIG = 4

/**
 * The reply of a script to run held (server/scripting.ts ShardRun): a zero byte, which no RESP
 * reply starts with, the kind, and the record's arguments (argc, then each length and bytes),
 * so that the producer keeps no copy of them meanwhile.
 */
function writeRerun (kind: number): void {
  let total = 6
  for (let i = 0; i < argv.argc; i++) total += 4 + argv.len[i]
  const b = Buffer.allocUnsafe(total)
  b[0] = 0
  b[1] = kind
  b.writeUInt32LE(argv.argc, 2)
  let p = 6
  for (let i = 0; i < argv.argc; i++) {
    b.writeUInt32LE(argv.len[i], p)
    copyBytes(argv.buf, argv.start[i], argv.len[i], b, p + 4)
    p += 4 + argv.len[i]
  }
  out.raw(b)
}
/** The last record was a script that stopped: nothing of it counts (commandstats, SLOWLOG, commands run). */
let isScriptRerun = false
/** At the run's first write: the events, ready keys and dirty count it had not touched. */
let isUndoMarked = false
let undoEvents = 0
let undoReady = 0
let undoDirty = 0
/** A key the running command writes holds a value too big to copy (scripting/undo.ts): planBig decides. */
let isBigSeen = false
let bigPlan: BigPlan | null = null
const saveOne = (db: number, buf: Uint8Array, start: number, len: number): void => { if (undo.save(shard, db, buf, start, len) === BIG) isBigSeen = true }

/** An inverse command of the undo log (its name first), run as the script's commands ran: no eviction, its reply dropped. */
function runUndoOp (db: number, parts: Buffer[]): void {
  const a = argvOf(parts)
  const cmd = commandOfArgv(a)
  if (cmd === null) return
  argv.buf = a.buf
  argv.argc = a.argc
  argv.start = a.start
  argv.len = a.len
  shard.select(db)
  const was = isInScript
  isInScript = true
  out.reset()
  try {
    runOne(cmd)
  } finally {
    isInScript = was
  }
}
/**
 * Client slots whose script stopped here: their further scripts (sent before the producer knew)
 * are turned back unrun until the stopped one's held run reaches this shard (its __txn).
 */
const stalledSlots = new Set<number>()
/** WATCH touches of the running script (several shards), as slot, tag pairs: see WatchTable.held. */
const heldTouches: number[] = []

/**
 * A stopped run: every key it wrote back as it was, and what it produced since its first write
 * dropped: keyspace events, keys made ready for blocked clients, the dirty count; its AOF unit
 * goes and its WATCH touches were held back (runScript). Its hits, misses and accepted calls are
 * taken back too. Tracking invalidations stay: a tracking client's key was forgotten with the
 * first one (the rerun's write would send none), and an invalidation only makes it read again.
 */
function undoScript (hits: number, misses: number, calls: number): void {
  if (isUndoMarked) {
    if (!undo.restore(shard, runUndoOp)) parentPort?.postMessage({ op: 'log', level: 'warn', msg: 'a script stopped on a shard could not put back every key it wrote (arena full)' })
    shard.events.length = undoEvents
    for (let i = undoReady; i < readyKeys.length; i++) readyKeys[i].isReady = false
    readyKeys.length = undoReady
    shard.dirty = undoDirty
    undo.clear()
  }
  shard.hits = hits
  shard.misses = misses
  shard.scriptCalls = calls
}

/** A script record: its reply in out, argv and the database as they were. */
function runScript (cmd: Command, resp3: boolean): void {
  if (scripts === null || scriptData === undefined) { out.raw(errorReply('ERR scripting is not available on this shard')); return }
  // Behind its client's stopped script (which runs held next): turned back unrun, to run held after it.
  if (stalledSlots.size !== 0 && stalledSlots.has(shard.slot)) {
    isScriptRerun = true
    out.reset()
    writeRerun(RERUN_BACK)
    return
  }
  const db = shard.dbIndex
  const rec = scriptArgv
  rec.buf = argv.buf
  rec.argc = argv.argc
  rec.start = argv.start
  rec.len = argv.len
  const busy = scriptData.busy
  // busy-reply-threshold, high and low 32 bits (server/shared-state.ts).
  const busyMs = busy[0] * 4294967296 + busy[1]
  const isLogged = aofOn[0] !== 0
  if (isLogged) aofLog.beginUnit()
  shard.noBlock = true
  isInScript = true
  const hits = shard.hits
  const misses = shard.misses
  const calls = shard.scriptCalls
  const isUndoable = data.shards > 1
  if (isUndoable) { heldTouches.length = 0; shard.watch.held = heldTouches; scriptStats.cmdStats = deferredRow }
  let reply: Buffer
  try {
    reply = scripts.run(cmd, rec, db, resp3, busyMs)
  } finally {
    isInScript = false
    shard.noBlock = false
    isScriptRerun = scripts.wasStopped
    if (isScriptRerun) {
      undoScript(hits, misses, calls)
      if (isLogged) aofLog.abortUnit()
    } else if (isLogged) aofLog.endUnit()
    isUndoMarked = false
    undo.clear()
    if (isUndoable) {
      // WATCH: the run's touches count once it completes; a stopped run's are dropped (its rerun touches again).
      shard.watch.held = null
      // So do its calls' counts and SLOWLOG entries (the rerun counts its own).
      scriptStats.cmdStats = cmdStats
      if (isScriptRerun) deferredRow.drop()
      else {
        deferredRow.commit()
        for (const [a, us] of deferredLog) scriptStats.logScriptCall(a, us)
      }
      deferredLog.length = 0
      if (!isScriptRerun) {
        for (let i = 0; i < heldTouches.length; i += 2) shard.watch.storeHeld(heldTouches[i], heldTouches[i + 1])
      }
      heldTouches.length = 0
    }
    argv.buf = rec.buf
    argv.argc = rec.argc
    argv.start = rec.start
    argv.len = rec.len
    shard.select(db)
  }
  out.reset()
  out.resp3 = resp3
  if (isScriptRerun) {
    if (shard.slot !== 0) stalledSlots.add(shard.slot)
    if (scripts.wasCrossShard || scripts.wasBigRefused) shard.scriptStops++
    writeRerun(scripts.wasCrossShard ? RERUN_CROSS : scripts.wasBigRefused ? RERUN_BIG : RERUN_MISSING)
    return
  }
  shard.scriptRuns++
  out.raw(reply)
  // Its errors count by what they are (a redis.call's, counted already, or the script's own).
  scriptReply = reply
}

let nextExpire = Date.now() + 1000 / hzOf(evictionSettings.flags)
let notifySeen = 0
/** The ring each pass starts from, moved on every pass so that no producer always goes first. */
let first = 0
publishStats()
const crashWord = sharedFlags(data.credit)
let isCrashing = false
for (;;) {
  const seq = Atomics.load(bell, SEQ)
  if (Atomics.load(bell, STOP) !== 0) break
  // DEBUG CRASH-SHARD: exit here, between batches, as a worker that died cleanly.
  if (crashWord[CRASH_SHARD_WORD] === data.index + 1 && Atomics.compareExchange(crashWord, CRASH_SHARD_WORD, data.index + 1, 0) === data.index + 1) { isCrashing = true; break }
  // What the keys this pass touches are stamped with (storage/eviction.ts).
  accessTime.ms = Date.now()
  if (pendingEvents.length > 0) flushEvents()
  // CONFIG SET notify-keyspace-events: the storage hooks for "expired" and "new" follow it.
  if (shard.notifyFlags[0] !== notifySeen) { notifySeen = shard.notifyFlags[0]; shard.syncNotifyHooks() }
  // Deletions report to CLIENT TRACKING while it has readers here or BCAST clients anywhere.
  writes.onTrack = trk.isActive ? onTrackRemove : null
  if ((aofOn[0] !== 0) !== (aofHook.onDelete !== null)) syncAofHook()
  // SEQ was read first: credit returned after this look bumps it, so the wait below returns.
  if (parked.size > 0) runAllParked()
  let ran = false
  const ranBefore = commandsRun
  // Round after round while any ring moves: a ring stopped at a ticket may go on once another
  // ring has run the tickets before it.
  for (let more = true; more;) {
    more = false
    const n = producers.length
    if (++first >= n) first = 0
    for (let i = 0, k = first; i < n; i++, k = k + 1 === n ? 0 : k + 1) if (runRing(producers[k])) more = true
    if (more) ran = true
  }
  if (ran) {
    lastBatch = commandsRun - ranBefore
    settleDebts()
    notifyAll()
    publishStats()
  } else if (SPIN_US > 0 && lastBatch <= SPIN_MAX_RECORDS && spinGate.spin(bell, SEQ, seq, SPIN_US / 1000)) {
    continue
  } else {
    // Values UNLINK left to free: keep going at once (the doorbell still wakes us for commands).
    // A BGSAVE walk sleeps a moment between its slices when idle: the I/O threads share the cores.
    const wait = shard.lazyQueue.length > 0 ? 0 : loader !== null ? LOAD_PAUSE_MS : snapshot.active ? SNAPSHOT_IDLE_MS : shard.copying !== null ? Math.max(SNAPSHOT_IDLE_MS, copyNextAt - performance.now()) : (nextDeadline < nextExpire ? nextDeadline : nextExpire) - Date.now()
    if (wait > 0) {
      Atomics.store(bell, SLEEPING, 1)
      // seq was read before the rings were found empty: a publish since then changed SEQ and
      // wait() returns at once, whether or not the producer saw SLEEPING.
      Atomics.wait(bell, SEQ, seq, wait)
      Atomics.store(bell, SLEEPING, 0)
    }
  }
  const now = Date.now()
  if (now >= nextDeadline) {
    expireBlocked(now)
    if (shard.events.length !== 0) sendEvents()
    settleDebts()
    notifyAll()
    publishStats()
  }
  // A slice of background freeing per pass: about 20,000 blocks, well under a millisecond.
  if (shard.lazyQueue.length > 0 && !shard.lazyFreeStep(LAZYFREE_BUDGET)) publishStats()
  if (loader !== null) loadStep(loader)
  // A slice of the BGSAVE walk per pass (about a millisecond), so requests keep being served.
  if (snapshot.active && snapshotStep(SNAPSHOT_BUDGET)) sendSnapshot()
  // A slice of a compaction's copy (storage/db-copy.ts), then COPY_DUTY - 1 times its length
  // without one; once adopted, the old arena goes.
  if (shard.copying !== null && loader === null) {
    const t = performance.now()
    if (t >= copyNextAt) {
      const isAdopted = shard.copyStep(COPY_BUDGET, maxmemoryOf(evictionSettings.flags) === 0 ? 0 : shardShare(evictionSettings.flags, data.shards), t + COPY_SLICE_MS)
      const end = performance.now()
      copyNextAt = end + (end - t) * (COPY_DUTY - 1)
      if (isAdopted) {
        zsetForgetPositions()
        publishStats()
      }
    }
  }
  if (now >= nextExpire) {
    // DEBUG SET-ACTIVE-EXPIRE 0 turns the sweep off; lazy expiry on access goes on.
    if (evictionSettings.flags[ACTIVE_EXPIRE_OFF_WORD] === 0) shard.activeExpire(EXPIRE_BUCKETS)
    if (shard.events.length !== 0) sendEvents()
    // A spell over maxmemory (INFO's current_eviction_exceeded_time) ends once the shard is
    // within its share again, with or without a write to evict for.
    if (shard.exceededSince !== 0 && maxmemoryOf(evictionSettings.flags) !== 0 && isWithin(shard, shardShare(evictionSettings.flags, data.shards))) shard.overLimit(false)
    // tracking-table-max-keys lowered by CONFIG SET: the table shrinks a step per tick.
    trk.limit()
    if (trk.out.length !== 0 || trk.bcastKeys.length !== 0) { sendTracking(); notifyAll() }
    if (aofLog.len !== 0) flushShardAof()
    publishStats()
    nextExpire = now + 1000 / hzOf(evictionSettings.flags)
  }
}
if (isCrashing) {
  // Blocks freed since their arena's last alloc are this thread's alone until merged: merge them.
  for (const ks of shard.dbs) ks?.arena.settle()
  settleDebts(); publishStats(); publishLayout(true)
}
for (const p of producers) { p.port.close(); p.stepPort.close(); p.wake.close() }

/**
 * dir/dbfilename, when it exists: this shard's keys go into its databases, a budget of records
 * per pass of the loop, so that the commands Redis allows while loading (INFO, CONFIG...) are
 * answered meanwhile; the router refuses the others with -LOADING until every shard is done
 * (persistence/save-state.ts W_LOADING). No keyspace events, as Redis sends none for a load;
 * keys already past their time are skipped, as a master skips them (but kept in an AOF's base
 * while its commands replay: W_AOF_LOADING).
 */
function loadAtStart (): RdbLoader | null {
  const path = data.rdbFile
  if (path === undefined || !existsSync(path)) { loadingDone(); return null }
  return new RdbLoader(path, key => shardOfKey(key, 0, key.length, data.shards) === data.index, (db, key, payload, expireAt, idle, freq) => {
    // An AOF's base keeps them while its commands follow (Redis's RDBFLAGS_AOF_PREAMBLE).
    if (expireAt !== 0 && expireAt < Date.now() && !shard.isExpiryHeld) { shard.loadExpired++; return }
    shard.loadedKeys++
    const wasDb = shard.dbIndex
    const flags = shard.notifyFlags
    shard.notifyFlags = NO_EVENTS
    shard.select(db)
    const old = shard.lookup(key, 0, key.length)
    const ks = shard.ks
    if (old !== 0) ks.remove(old)
    const type = payload[0] & 7
    const ops = TYPES[type]
    const e = ks.insert(key, 0, key.length, shard.lastHash, type, ops.valueBytes(payload.length - PAYLOAD_HEADER_BYTES))
    if (e === 0 || !ops.restore(ks, e, payload, PAYLOAD_HEADER_BYTES, payload.length)) {
      throw new RdbLoadError('out of memory loading the RDB file')
    }
    if (expireAt !== 0) ks.setExpireAt(e, expireAt)
    // objectSetLRUOrLFU: the file's access info, read as the policy now in force reads it.
    if (isLfu(policy())) { if (freq >= 0) ks.setClock(e, clockForFreq(freq, Date.now())) } else if (idle >= 0) ks.setClock(e, clockForIdle(idle, Date.now()))
    shard.select(wasDb)
    shard.notifyFlags = flags
  }, data.index === 0 ? code => { loadedLibs.push(code) } : null)
}
/** One step of the load; at the end the hub installs the libraries and the shard counts itself done. */
function loadStep (l: RdbLoader): void {
  const isDone = l.step(LOAD_BUDGET)
  saveF64[F_LOAD_POS + data.index] = l.pos
  if (!isDone) return
  if (data.index === 0 && loadedLibs.length > 0) {
    // The hub holds the libraries; every thread sees the change count move and fetches them.
    setLibraryCodes(loadedLibs)
    Atomics.add(sharedFlags(data.credit), SCRIPT_EPOCH_WORD, FUNCTION_EPOCH_STEP)
  }
  loader = null
  // Changes made by loading are not changes since the last save (Redis's dirty starts at 0).
  shard.dirtyAtSave = shard.dirty
  publishStats()
  loadingDone()
}

function loadingDone (): void {
  const i32 = saveWords().i32
  if (Atomics.load(i32, W_LOADING) > 0) Atomics.sub(i32, W_LOADING, 1)
  parentPort?.postMessage({ op: 'shard-load-done', shard: data.index })
}
