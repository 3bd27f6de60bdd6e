// MULTI/EXEC/DISCARD/WATCH/UNWATCH on the primary (or I/O thread) that owns the connection.
//
// MULTI queues copies of the commands (+QUEUED); nothing reaches a shard before EXEC. EXEC then
// runs them as one unit, in one of three ways:
// - no shard involved (PING, ECHO...): answered here;
// - one shard: a single __exec record carries every command for that shard, and the worker runs
//   them back to back (workers/shard-worker.ts runExec): one hop, like any command;
// - several shards: the transaction holds every shard involved (server/txn.ts: __txn markers
//   staged in one step, ordered by the sequencer with several producers), then sends each shard
//   one __exec step with its commands, in queue order; a cross-shard RENAME/LMOVE... inside runs
//   its coord steps between batches. Nothing else runs on those shards until it releases them.
// Commands that run on this thread (SELECT, PING, CLIENT...) run when EXEC is planned, in
// order, and their replies are spliced into the shards'.
//
// WATCH: each key's shard records (session tag, client slot); a change to the key stores the
// tag in the slot's shared word (storage/watch.ts). EXEC fails (null reply) if the word holds
// its session's tag, or a watched key's expiry time has passed. With one shard the check runs
// on the shard, just before the commands (and EXEC need not wait for the WATCH's reply: the
// ring keeps the order); with several, on the shards too when no command inside needs a hold
// (execWatched: each watched shard checks its keys at the EXEC's place in the global order and
// the shards with commands wait for that verdict), else here, once every shard is held. The
// session ends (__unwatch on its shards, or EXEC_ENDS on the one shard) only after EXEC has run,
// or on each watched shard as it gives its verdict, so no change can slip in between a shard
// forgetting the session and the check.

import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'
import type { Connection } from './connection.js'
import type { ReplyTarget } from './shard-link.js'
import { ShardLink as Link } from './shard-link.js'
import type { Router } from './router.js'
import { copyArgv, copyArgvInto, planSplit, scanInTxn, SplitReply } from './router.js'
import { COMMANDS } from './shared-state.js'
import { Txn } from './txn.js'
import { engineRuns } from './engine.js'
import type { Argv, ClientContext, CoordHandler } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { commandByName, internalCommand } from '../commands/table.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { respEnd } from '../protocol/resp-scan.js'
import { errorReply, OOM, SHARD_DOWN } from '../protocol/errors.js'
import { OK, QUEUED } from '../protocol/replies.js'
import { EXEC_ENDS, EXEC_VERDICT, EXEC_WATCHED, EXEC_AOF_GROUP, EXEC_CMD_PART, REQ_NOPARK } from '../ipc/layout.js'
import { shardOfKey } from '../storage/hash.js'
import { copyBytes } from '../bytes.js'
import { WATCH_TAGS, VERDICT_CELLS, CREDIT_SLOTS } from './credits.js'
import { argvOf, isNullReply } from '../commands/txn-helpers.js'
import { aofIsOn } from '../persistence/aof.js'

const NESTED = errorReply('ERR MULTI calls can not be nested')
const EXEC_WITHOUT = errorReply('ERR EXEC without MULTI')
const DISCARD_WITHOUT = errorReply('ERR DISCARD without MULTI')
const WATCH_IN_MULTI = errorReply('ERR WATCH inside MULTI is not allowed')
const EXECABORT = errorReply('EXECABORT Transaction discarded because of previous errors.')
const NOT_IN_MULTI = errorReply('ERR Command not allowed inside a transaction')
const NO_WATCH_SLOT = errorReply('ERR WATCH is unavailable: too many clients connected')

const WATCH = internalCommand('__watch')
const UNWATCH = internalCommand('__unwatch')
const EXEC = internalCommand('__exec')
const EXEC_NAME = Buffer.from(EXEC.name)
const WATCH_NAME = Buffer.from(WATCH.name)
const UNWATCH_NAME = Buffer.from(UNWATCH.name)

/**
 * A command queued by MULTI: its row, found when it was queued, and a copy of its arguments,
 * back to back from buf[0] (`bytes` of them: a recycled copy's buffer may be longer).
 */
export interface Queued { readonly cmd: Command, readonly argv: Argv, readonly bytes: number }

// Queued copies come from a pool that execKeyed (once the shard's ring has the record) and
// DISCARD give back: a copy was three typed arrays, and perf put 3% of the primary's MULTI time
// on creating them. Small ones only (a copy's bytes and arguments within SPARE_BYTES and
// SPARE_ARGS), and at most SPARE_MAX of them.
const SPARE_MAX = 256
const SPARE_BYTES = 512
const SPARE_ARGS = 16

/** Where a queued command's reply comes from when EXEC runs (or a script's redis.call). */
export type Step =
  | { kind: 'local', reply: Buffer }
  | { kind: 'shard', shard: number, db: number, cmd: Command, argv: Argv }
  | { kind: 'split', db: number, cmd: Command, argv: Argv, parts: Array<{ shard: number, idx: number[] }>, positions: number[][] | null, keyCount: number }
  | { kind: 'coord', db: number, cmd: Command, argv: Argv, coord?: CoordHandler }

function u32 (n: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeUInt32LE(n >>> 0)
  return b
}

/** An __exec record's second argument, 16 bytes at off: the watch tag, the command count, the watch deadline. */
function writeMeta (b: Buffer, off: number, tag: number, count: number, deadline: number): void {
  b.writeUInt32LE(tag >>> 0, off)
  b.writeUInt32LE(count >>> 0, off + 4)
  b.writeDoubleLE(deadline, off + 8)
}

function meta (tag: number, count: number, deadline: number): Buffer {
  const b = Buffer.allocUnsafe(16)
  writeMeta(b, 0, tag, count, deadline)
  return b
}

/** A watched EXEC's meta across shards (EXEC_VERDICT): 24 bytes, the verdict cell's word and the watched shards that arrive there. */
function verdictMeta (tag: number, count: number, deadline: number, cell: number, expected: number): Buffer {
  const b = Buffer.allocUnsafe(24)
  writeMeta(b, 0, tag, count, deadline)
  b.writeUInt32LE(cell, 16)
  b.writeUInt32LE(expected, 20)
  return b
}

/**
 * Routes of the commands a watched EXEC can run across shards without a hold (execWatched):
 * each runs on the shards its keys name, as outside a transaction, or on this thread. A
 * cross-shard command (coord, a blocking one, SCAN) or a script inside keeps the hold.
 */
function isVerdictRoute (route: Command['route']): boolean {
  switch (route) {
    case 'key': case 'split': case 'all': case 'hub': case 'primary': case 'txn': case 'pubsub': return true
    default: return false
  }
}

/** FLUSHALL, FLUSHDB, SWAPDB: writes every shard runs (route 'all'). */
function isWholeWrite (cmd: Command): boolean { return cmd.route === 'all' && cmd.isWrite }

/** The 8 bytes before each command of an __exec record: its id and database, its argc. */
function writeHeader (b: Buffer, off: number, cmd: Command, db: number, argc: number, isPart = false): void {
  b.writeUInt32LE((cmd.id | (db << 24) | (isPart ? EXEC_CMD_PART : 0)) >>> 0, off)
  b.writeUInt32LE(argc, off + 4)
}

/** isPart: one shard's part of a split command (EXEC_CMD_PART). */
function header (cmd: Command, db: number, argc: number, isPart = false): Buffer {
  const b = Buffer.allocUnsafe(8)
  writeHeader(b, 0, cmd, db, argc, isPart)
  return b
}

function arg (argv: Argv, i: number): Uint8Array { return argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]) }


/**
 * One shard's part of a split write (MSET, DEL, UNLINK) while the AOF is on (Router.sendSplit):
 * an __exec record of that one command, its meta followed by the parts' AOF group, so that the
 * parts reach the file as one MULTI/EXEC block, as a transaction's do (stageExecs).
 */
export function groupedPart (cmd: Command, db: number, argv: Argv, idx: readonly number[], group: Buffer): Argv {
  const args: Uint8Array[] = [EXEC_NAME, Buffer.concat([meta(0, 1 | EXEC_AOF_GROUP, 0), group]), header(cmd, db, idx.length, true)]
  for (const i of idx) args.push(arg(argv, i))
  return argvOf(args)
}

/** The id groupedPart's records are sent with. */
export const GROUPED_PART_ID = EXEC.id

/** A groupedPart's reply, a one-element array, to its split as the part's own reply would come (an error as is). */
export class GroupedPartReply implements ReplyTarget {
  constructor (private readonly split: ReplyTarget) {}

  onReply (tag: number, src: Uint8Array, start: number, len: number): void {
    if (src[start] !== 42) { this.split.onReply(tag, src, start, len); return }
    let p = start + 1
    while (src[p] !== 10) p++
    p++
    this.split.onReply(tag, src, p, start + len - p)
  }
}

/** The elements of an array reply. */
function elements (src: Uint8Array, start: number): Buffer[] {
  let p = start + 1
  let n = 0
  while (src[p] !== 13) n = n * 10 + (src[p++] - 48)
  p += 2
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const e = respEnd(src, p)
    out.push(Buffer.from(src.subarray(p, e)))
    p = e
  }
  return out
}


/** WATCH's parts: +OK once every shard has recorded its keys. */
class WatchReply implements ReplyTarget {
  error: Buffer | null = null
  constructor (readonly conn: Connection, readonly seq: number, public remaining: number, readonly tag: number) {}
  onReply (_tag: number, src: Uint8Array, start: number, len: number): void {
    if (src[start] === 45) this.error ??= Buffer.from(src.subarray(start, start + len))
    // (An EXEC on one shard may have ended the session already: its shard checked the expiry.)
    else if (this.conn.watchTag === this.tag) {
      let at = 0
      for (let p = start + 1; src[p] !== 13; p++) at = at * 10 + (src[p] - 48)
      if (at !== 0 && (this.conn.watchDeadline === 0 || at < this.conn.watchDeadline)) this.conn.watchDeadline = at
    }
    if (--this.remaining === 0) {
      const r = this.error ?? OK
      this.conn.onReply(this.seq, r, 0, r.length)
    }
  }
}

/** EXEC's reply when the shard's reply is all of it (execKeyed). */
class ExecReply implements ReplyTarget {
  constructor (readonly conn: Connection, readonly seq: number) {}
  onReply (_tag: number, src: Uint8Array, start: number, len: number): void { this.conn.onReply(this.seq, src, start, len) }
}

/** EXEC's reply where the shard checked a WATCH: a failed one ran nothing, so nothing counts. */
class WatchedExecReply implements ReplyTarget {
  constructor (readonly conn: Connection, readonly seq: number, readonly counters: Float64Array, readonly counted: number) {}
  onReply (_tag: number, src: Uint8Array, start: number, len: number): void {
    const reply = src.subarray(start, start + len)
    if (isNullReply(reply)) this.counters[COMMANDS] -= this.counted
    this.conn.onReply(this.seq, src, start, len)
  }
}

export class Transactions {
  private readonly scratch = new ReplyWriter()

  /** verdict: the shared verdict cells (credits.ts verdictWords), VERDICT_CELLS per client slot. */
  constructor (private readonly router: Router, private readonly words: Int32Array, private readonly verdict: Int32Array) {}

  /** Cells in use, by cell (slot * VERDICT_CELLS + k): 1 from staging until every part answered. */
  private readonly cellBusy = new Uint8Array(CREDIT_SLOTS * VERDICT_CELLS)
  /** Watched EXECs in flight, by cell: the shards of their records and the arrivals they wait for. */
  private readonly verdicts = new Map<number, { shards: number[], expected: number }>()

  private freeCell (slot: number): number {
    for (let k = slot * VERDICT_CELLS; k < (slot + 1) * VERDICT_CELLS; k++) if (this.cellBusy[k] === 0) return k
    return -1
  }

  /**
   * Shard s died: a watched EXEC with a record there may wait for an arrival that never comes.
   * Its cell is marked broken and filled, so its other shards answer null and run nothing; its
   * reply is the dead part's CLUSTERDOWN.
   */
  onShardDown (s: number): void {
    for (const [k, v] of this.verdicts) {
      if (!v.shards.includes(s)) continue
      Atomics.store(this.verdict, k * 2 + 1, 2)
      Atomics.store(this.verdict, k * 2, v.expected)
      Atomics.notify(this.verdict, k * 2)
    }
  }

  /** A command arriving in MULTI: queued, or refused (which dooms the EXEC). */
  queue (conn: Connection, cmd: Command, argv: Argv): void {
    if (cmd.isNoMulti) { this.fail(conn, NOT_IN_MULTI); return }
    let bytes = 0
    for (let i = 0; i < argv.argc; i++) bytes += argv.len[i]
    const copy = bytes > SPARE_BYTES || argv.argc > SPARE_ARGS ? copyArgv(argv) : this.spareCopy(argv, bytes)
    ;(conn.multi as Queued[]).push({ cmd, argv: copy, bytes })
    conn.multiBytes += bytes
    conn.replyLocalBytes(QUEUED)
  }

  private readonly spares: Argv[] = []

  /**
   * argv copied into a pooled copy when the one on top fits, else into a new one with some room
   * (from Buffer's shared pool: as cheap as an exact copy). Only execKeyed and DISCARD give
   * copies back, so the other EXEC paths cost what an exact copy did.
   */
  private spareCopy (argv: Argv, bytes: number): Argv {
    const argc = argv.argc
    let copy = this.spares.pop()
    if (copy === undefined || copy.buf.length < bytes || copy.start.length < argc) {
      const n = Math.max(argc, 8)
      copy = { buf: Buffer.allocUnsafe(Math.max(bytes, 64)), argc: 0, start: new Int32Array(n), len: new Int32Array(n) }
    }
    return copyArgvInto(argv, copy)
  }

  /** Takes back the copies of a transaction nothing refers to any more. */
  private recycle (queued: readonly Queued[]): void {
    const spares = this.spares
    for (let q = 0; q < queued.length && spares.length < SPARE_MAX; q++) {
      const a = queued[q].argv
      if (a.buf.length <= SPARE_BYTES && a.start.length <= SPARE_ARGS) spares.push(a)
    }
  }

  /** A command refused while queueing (unknown, arity, OOM...): reply, and EXEC will abort. */
  fail (conn: Connection, err: Buffer): void {
    conn.multiFailed = true
    conn.replyLocalBytes(err)
  }

  /** MULTI, EXEC, DISCARD, WATCH, UNWATCH. False: not staged (a ring is full), retry later. */
  dispatch (conn: Connection, cmd: Command, argv: Argv): boolean {
    switch (cmd.name) {
      case 'multi':
        if (conn.multi !== null) { conn.replyLocalBytes(NESTED); return true }
        conn.multi = []
        conn.multiBytes = 0
        conn.replyLocalBytes(OK)
        return true
      case 'discard':
        if (conn.multi === null) { conn.replyLocalBytes(DISCARD_WITHOUT); return true }
        this.recycle(conn.multi)
        this.discard(conn)
        this.unwatch(conn)
        conn.replyLocalBytes(OK)
        return true
      case 'unwatch':
        this.unwatch(conn)
        conn.replyLocalBytes(OK)
        return true
      case 'watch':
        if (conn.multi !== null) { conn.replyLocalBytes(WATCH_IN_MULTI); return true }
        return this.watch(conn, argv)
      default:
        return this.exec(conn)
    }
  }

  /** EXEC refused (arity, OOM): the transaction ends, with the reason (execCommandAbort). */
  abort (conn: Connection, err: Buffer): void {
    this.discard(conn)
    this.unwatch(conn)
    conn.replyLocalBytes(errorReply(`EXECABORT Transaction discarded because of: ${err.toString('latin1', 1, err.length - 2).replace(/^ERR /, '')}`))
  }

  private discard (conn: Connection): void {
    conn.multi = null
    conn.multiFailed = false
    conn.multiBytes = 0
  }

  private watch (conn: Connection, argv: Argv): boolean {
    if (conn.slot === 0) { conn.replyLocalBytes(NO_WATCH_SLOT); return true }
    const links = this.router.links
    const n = links.length
    let one = n === 1 ? 0 : shardOfKey(argv.buf, argv.start[1], argv.len[1], n)
    for (let i = 2; i < argv.argc && one >= 0; i++) if (shardOfKey(argv.buf, argv.start[i], argv.len[i], n) !== one) one = -1
    if (one >= 0) return this.watchOne(conn, argv, one)
    const byShard = new Map<number, Uint8Array[]>()
    for (let i = 1; i < argv.argc; i++) {
      const s = n === 1 ? 0 : shardOfKey(argv.buf, argv.start[i], argv.len[i], n)
      let keys = byShard.get(s)
      if (keys === undefined) { keys = []; byShard.set(s, keys) }
      keys.push(arg(argv, i))
    }
    if (conn.watchTag === 0) this.newSession(conn)
    const tagBytes = u32(conn.watchTag)
    const records: Array<[number, Argv]> = []
    for (const [s, keys] of byShard) {
      const link = links[s]
      if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
      const rec = argvOf([WATCH_NAME, tagBytes, ...keys])
      if (!link.canTake(Link.recordBytes(rec, null, rec.argc))) { this.router.block(conn, link); return false }
      records.push([s, rec])
    }
    const target = new WatchReply(conn, conn.takeSeq(), records.length, conn.watchTag)
    const flags = this.router.flags(conn) | (records.length > 1 ? REQ_NOPARK : 0)
    for (const [s, rec] of records) {
      if (!conn.watchShards.includes(s)) conn.watchShards.push(s)
      links[s].send(WATCH.id, flags, conn.db, rec, null, rec.argc, Link.recordBytes(rec, null, rec.argc), target, 0, conn.slot)
    }
    this.router.scheduleTurn()
    return true
  }

  /** WATCH of keys that all live on one shard: its record written in one buffer, as execKeyed writes EXEC's. */
  private watchOne (conn: Connection, argv: Argv, shard: number): boolean {
    const link = this.router.links[shard]
    if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
    const argc = argv.argc + 1
    let bytes = WATCH_NAME.length + 4
    for (let i = 1; i < argv.argc; i++) bytes += argv.len[i]
    const buf = Buffer.allocUnsafe(bytes)
    const start = new Int32Array(argc)
    const len = new Int32Array(argc)
    buf.set(WATCH_NAME, 0)
    len[0] = WATCH_NAME.length
    let off = WATCH_NAME.length
    start[1] = off
    len[1] = 4
    off += 4
    for (let i = 1; i < argv.argc; i++) {
      const n = argv.len[i]
      buf.set(argv.buf.subarray(argv.start[i], argv.start[i] + n), off)
      start[i + 1] = off
      len[i + 1] = n
      off += n
    }
    const rec: Argv = { buf, argc, start, len }
    const recBytes = Link.recordBytes(rec, null, argc)
    if (!link.canTake(recBytes)) { this.router.block(conn, link); return false }
    if (conn.watchTag === 0) this.newSession(conn)
    buf.writeUInt32LE(conn.watchTag >>> 0, start[1])
    if (!conn.watchShards.includes(shard)) conn.watchShards.push(shard)
    const target = new WatchReply(conn, conn.takeSeq(), 1, conn.watchTag)
    link.send(WATCH.id, this.router.flags(conn), conn.db, rec, null, argc, recBytes, target, 0, conn.slot)
    this.router.scheduleTurn()
    return true
  }

  private newSession (conn: Connection): void {
    // Tags are positive int32s: the shared words hold them as such.
    let tag = (Atomics.add(this.words, WATCH_TAGS, 1) + 1) & 0x7fffffff
    if (tag === 0) tag = Atomics.add(this.words, WATCH_TAGS, 1) + 1
    conn.watchTag = tag
    conn.watchDeadline = 0
  }

  /** Ends the connection's watch session (UNWATCH, DISCARD, after EXEC, on close). */
  unwatch (conn: Connection): void {
    if (conn.watchTag === 0) return
    this.endSession(conn.watchTag, conn.watchShards)
    conn.watchTag = 0
    conn.watchShards = []
    conn.watchDeadline = 0
  }

  private endSession (tag: number, shards: readonly number[]): void {
    for (const s of shards) this.sendUnwatch(s, tag)
    this.router.scheduleTurn()
  }

  private sendUnwatch (s: number, tag: number): void {
    this.router.sendNoReply(s, UNWATCH.id, [UNWATCH_NAME, u32(tag)])
  }

  onClose (conn: Connection): void {
    this.discard(conn)
    this.unwatch(conn)
  }

  /** True if the session's watched keys changed or one has expired (checked here). */
  private isDirty (conn: Connection): boolean {
    if (conn.watchTag === 0) return false
    if (Atomics.load(this.words, conn.slot) === conn.watchTag) return true
    return conn.watchDeadline !== 0 && Date.now() > conn.watchDeadline
  }

  private nullReply (conn: Connection): Buffer { return Buffer.from(conn.resp === 3 ? '_\r\n' : '*-1\r\n') }

  private exec (conn: Connection): boolean {
    if (conn.multi === null) { conn.replyLocalBytes(EXEC_WITHOUT); return true }
    const queued = conn.multi
    if (conn.multiFailed) {
      this.discard(conn)
      this.unwatch(conn)
      conn.replyLocalBytes(EXECABORT)
      return true
    }
    // processCommand's maxmemory check covers EXEC when any queued command may grow memory.
    const max = this.router.maxmemoryLimit
    if (max > 0 && queued.some(q => q.cmd.isDenyOom) && this.router.usedMemory() > max) {
      this.abort(conn, OOM)
      return true
    }
    // Redis runs EXEC after everything the client sent before it: its own writes on other
    // shards must have touched the watched keys before the check. With one shard its ring
    // keeps that order, and the shard checks the watch (a script inside still checks here).
    const isOnRing = conn.watchTag !== 0 && this.router.links.length === 1 && !queued.some(q => q.cmd.route === 'script')
    // With several shards, a transaction of commands that need no hold sends its watched shards
    // a record each too, at the same place in the global order, and is decided there
    // (execWatched): the rings keep the client's own writes before it, as with one shard.
    // With the AOF on, a FLUSHALL, FLUSHDB or SWAPDB inside must reach the file in its place
    // among every shard's effects: the hold logs the steps in queue order (runSteps). Other parts
    // on several shards go into the file as one group block, shard by shard (stageExecs).
    const holdsForAof = aofIsOn() && queued.some(q => isWholeWrite(q.cmd))
    const isVerdict = conn.watchTag !== 0 && !isOnRing && this.freeCell(conn.slot) >= 0 && queued.every(q => isVerdictRoute(q.cmd.route)) &&
      !holdsForAof
    if (conn.watchTag !== 0 && !conn.isReplyHead && !isOnRing && !isVerdict) {
      conn.isAwaitingHead = true
      return false
    }
    if (this.isDirty(conn)) {
      this.discard(conn)
      this.unwatch(conn)
      conn.replyLocalBytes(this.nullReply(conn))
      return true
    }
    // Check room on every ring first: a transaction is staged whole or waits whole.
    if (!this.hasRoom(conn, queued)) return false
    // Keyed commands all on one shard: one record written straight from the queued copies. With
    // WATCH, when its keys are there too: the ring keeps the order and the shard checks it.
    if ((conn.watchTag === 0 || isOnRing || isVerdict) && this.execKeyed(conn, queued)) return true
    this.discard(conn)
    conn.isExecuting = true
    let steps: Step[]
    const counters = this.router.counters
    const countedFrom = counters[COMMANDS]
    try {
      steps = this.plan(conn, queued)
    } finally {
      conn.isExecuting = false
    }
    // A watch the shard checks may still fail: then nothing ran and nothing counts.
    const counted = counters[COMMANDS] - countedFrom
    const session = { tag: conn.watchTag, shards: conn.watchShards, deadline: conn.watchDeadline }
    conn.watchTag = 0
    conn.watchShards = []
    conn.watchDeadline = 0
    const involved = new Set<number>()
    let hasCoord = false
    for (const st of steps) {
      if (st.kind === 'shard') involved.add(st.shard)
      else if (st.kind === 'split') for (const p of st.parts) involved.add(p.shard)
      else if (st.kind === 'coord') { hasCoord = true; for (const s of this.coordShards(st.cmd, st.argv)) involved.add(s) }
    }
    const seq = conn.takeSeq()
    // Set when the __exec record ends the session on its shard (EXEC_ENDS).
    let isEnded = false
    const done = (reply: Uint8Array): void => {
      if (session.tag !== 0 && !isEnded) this.endSession(session.tag, session.shards)
      if (session.tag !== 0 && isNullReply(reply)) counters[COMMANDS] -= counted
      conn.onReply(seq, reply, 0, reply.length)
    }
    // Watched keys on several shards, or on other shards than the commands': decided on the shards.
    if (isVerdict && !(involved.size === 1 && session.shards.every(s => involved.has(s)))) {
      isEnded = true
      this.execWatched(conn, steps, involved, session, done)
      return true
    }
    // Nothing for a shard, but the watch is checked there: its WATCH may not have answered yet.
    if (involved.size === 0 && session.tag !== 0 && isOnRing) involved.add(0)
    if (involved.size === 0) {
      done(this.assemble(conn, steps, new Map()))
      return true
    }
    if (involved.size === 1 && !hasCoord) {
      const shard = [...involved][0]
      const ends = session.tag !== 0 && session.shards.every(s => s === shard)
      isEnded = this.execOnOne(conn, steps, shard, session, done, ends)
      return true
    }
    if (session.tag === 0 && !hasCoord && !holdsForAof) {
      this.execSplit(conn, steps, [...involved].sort((a, b) => a - b), done)
      return true
    }
    this.execHeld(conn, steps, [...involved].sort((a, b) => a - b), session, seq, counted)
    return true
  }


  /**
   * True when every ring can take what EXEC may stage (else the connection waits for the full
   * one). A conservative bound: the __exec record carries every queued command at worst, on
   * any shard; hold markers are smaller.
   */
  private hasRoom (conn: Connection, queued: readonly Queued[]): boolean {
    let bytes = 64
    for (const { argv } of queued) bytes += Link.recordBytes(argv, null, argv.argc) + 8
    for (const link of this.router.links) {
      if (!link.isDead && !link.canTake(bytes)) { this.router.block(conn, link); return false }
    }
    return true
  }

  /** Shards a coord command's keys live on. */
  private coordShards (cmd: Command, argv: Argv): number[] {
    const n = this.router.links.length
    // A script may touch any key: it holds every shard, as outside MULTI (server/scripting.ts).
    if (cmd.route === 'cursor' || cmd.route === 'script') return Array.from({ length: n }, (_v, s) => s)
    const keys = this.router.keyIndexes(cmd, argv) ?? []
    const out: number[] = []
    for (const k of keys) {
      const s = shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
      if (!out.includes(s)) out.push(s)
    }
    if (n > 1 && cmd.allShards?.(argv) === true) for (let s = 0; s < n; s++) if (!out.includes(s)) out.push(s)
    return out
  }

  /** Where each queued command runs; commands of this thread run now, in order. */
  private plan (conn: Connection, queued: readonly Queued[]): Step[] {
    const n = this.router.links.length
    const steps: Step[] = []
    for (const { cmd, argv } of queued) {
      // Rules changed since it was queued: refused in its place, as execCommand does.
      const refused = this.router.aclRecheck(conn, cmd, argv)
      if (refused !== null) { steps.push({ kind: 'local', reply: refused }); continue }
      // call() counts each command EXEC runs in total_commands_processed, as a client's.
      this.router.counters[COMMANDS]++
      this.router.calls[cmd.id]++
      const t0 = performance.now()
      this.planOne(conn, cmd, argv, n, steps)
      // One that ran here (this thread's commands, pub/sub, UNWATCH) is counted here; a shard counts its own.
      const st = steps[steps.length - 1]
      if (st.kind === 'local') this.router.ranInExec(cmd, st.reply, t0)
      // Monitors see each queued command as EXEC runs it, then EXEC. A script (skip_monitor: its
      // host shows its line) too; its own commands are shown as they run, after EXEC's line.
      if ((cmd.isMonitored || this.router.scripts.isRun[cmd.id] !== 0) && this.router.pubsub.isMonitored) this.router.pubsub.feed(conn, argv, cmd, conn.db)
    }
    return steps
  }

  /**
   * A script's redis.call, planned the way EXEC plans a queued command, in the script's database.
   * A 'shard' step on a lent shard may then run in place (Txn.runLent); any other goes to runCall.
   */
  planCall (conn: Connection, cmd: Command, argv: Argv, db: number): Step {
    const steps: Step[] = []
    this.planOne(conn, cmd, argv, this.router.links.length, steps, db)
    return steps[0]
  }

  /** Runs one planned step on a transaction that holds every shard; resolves with its reply. */
  async runCall (conn: Connection, txn: Txn, step: Step): Promise<Buffer> {
    const db = txn.db
    try {
      // A script's call is counted by its host (scripting/call-checks.ts countCall), split or not.
      return (await this.runSteps(conn, txn, [step], false)).get(0) ?? SHARD_DOWN
    } finally {
      txn.db = db
    }
  }

  private planOne (conn: Connection, cmd: Command, argv: Argv, n: number, steps: Step[], db = conn.db): void {
    switch (cmd.route) {
      case 'primary': {
        const s = this.scratch
        s.reset()
        s.resp3 = conn.resp === 3
        ;(cmd.local as (c: ClientContext, a: Argv, o: ReplyWriter) => void)(conn, argv, s)
        steps.push({ kind: 'local', reply: Buffer.from(s.buf.subarray(0, s.len)) })
        break
      }
      case 'txn': // UNWATCH queued: EXEC unwatches anyway
        steps.push({ kind: 'local', reply: OK })
        break
      case 'pubsub':
        steps.push({ kind: 'local', reply: this.router.pubsub.inExec(conn, cmd, argv) })
        break
      case 'hub':
        steps.push({ kind: 'shard', shard: 0, db: db, cmd, argv })
        break
      case 'block': {
        // Inside EXEC it cannot block: keys on several shards run its non-blocking form.
        const shards = this.coordShards(cmd, argv)
        if (shards.length > 1) steps.push({ kind: 'coord', db: db, cmd, argv })
        else steps.push({ kind: 'shard', shard: shards[0] ?? 0, db: db, cmd, argv })
        break
      }
      case 'key': {
        const keys = cmd.getKeys !== undefined ? cmd.getKeys(argv) : [cmd.firstKey]
        const k = keys === null || keys.length === 0 ? -1 : keys[0]
        const shard = k < 0 || n === 1 ? 0 : shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
        steps.push({ kind: 'shard', shard, db: db, cmd, argv })
        break
      }
      case 'cursor':
        // SCAN fills its COUNT across shards, as outside MULTI: holding every shard.
        if (n === 1) steps.push({ kind: 'shard', shard: 0, db: db, cmd, argv })
        else steps.push({ kind: 'coord', db: db, cmd, argv, coord: (tx, a) => scanInTxn(tx, a, n) })
        break
      case 'coord': {
        const shards = this.coordShards(cmd, argv)
        if (shards.length <= 1) steps.push({ kind: 'shard', shard: shards[0] ?? 0, db: db, cmd, argv })
        else steps.push({ kind: 'coord', db: db, cmd, argv })
        break
      }
      case 'split': {
        const p = planSplit(cmd, argv, n)
        if (p.partArgs.length === 1) steps.push({ kind: 'shard', shard: p.shardOfPart[0], db: db, cmd, argv })
        else {
          steps.push({
            kind: 'split', db: db, cmd, argv, positions: p.positions, keyCount: p.keyCount,
            parts: p.partArgs.map((idx, i) => ({ shard: p.shardOfPart[i], idx })),
          })
        }
        break
      }
      case 'script':
        steps.push({
          kind: 'coord', db, cmd, argv,
          coord: async (tx, a) => {
            const t0 = performance.now()
            const reply = await this.router.scripts.coord(conn, cmd, tx, a)
            // Counted as execCommand's call() counts it: after its redis.calls, with its own time.
            this.router.scriptRan(conn, cmd, a, reply, t0)
            return reply
          },
        })
        break
      case 'all': {
        cmd.begin?.(conn)
        if (n === 1) { steps.push({ kind: 'shard', shard: 0, db: db, cmd, argv }); break }
        const whole = Array.from({ length: argv.argc }, (_v, i) => i)
        steps.push({ kind: 'split', db: db, cmd, argv, positions: null, keyCount: 0, parts: this.router.links.map((_l, s) => ({ shard: s, idx: whole })) })
        break
      }
    }
  }

  private assemble (conn: Connection, steps: readonly Step[], replies: Map<number, Buffer>): Buffer {
    const s = this.scratch
    s.reset()
    s.resp3 = conn.resp === 3
    s.arrayHeader(steps.length)
    for (let i = 0; i < steps.length; i++) {
      const st = steps[i]
      const r = st.kind === 'local' ? st.reply : replies.get(i) ?? SHARD_DOWN
      if (st.kind === 'shard' && needsFinish(st.cmd) && r[0] !== 45 /* '-' */) s.raw(finishOne(conn, st.cmd, st.argv, r))
      else s.raw(r)
    }
    const out = Buffer.from(s.buf.subarray(0, s.len))
    s.shrink()
    return out
  }

  /**
   * The common case without a plan: no WATCH (or one whose keys are all on that shard too),
   * every command a plain keyed one, all on one live shard, nothing for ACL or MONITOR to see.
   * Writes the __exec record straight into one buffer (execOnOne's layout, by the same writers)
   * and hands the shard's reply, EXEC's own, to the connection. False: not that case, nothing done.
   */
  private execKeyed (conn: Connection, queued: readonly Queued[]): boolean {
    const links = this.router.links
    const n = links.length
    let shard = -1
    let bytes = EXEC_NAME.length + 16
    let argc = 2
    for (let q = 0; q < queued.length; q++) {
      const { cmd, argv } = queued[q]
      if (cmd.route !== 'key' || cmd.getKeys !== undefined || cmd.firstKey < 1 || argv.argc <= cmd.firstKey) return false
      const k = cmd.firstKey
      const s = n === 1 ? 0 : shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
      if (shard < 0) shard = s
      else if (s !== shard) return false
      bytes += 8 + queued[q].bytes
      argc += 1 + argv.argc
    }
    if (shard < 0 || links[shard].isDead || this.router.pubsub.isMonitored || !this.router.isAllPerms(conn)) return false
    // A watch session here only when every watched key is on that shard too (its ring keeps the order).
    if (conn.watchTag !== 0 && !conn.watchShards.every(s => s === shard)) return false
    this.discard(conn)
    const db = conn.db
    // The record goes into the ring before send returns: one scratch record serves every EXEC.
    const rec = this.execRecord(bytes, argc)
    const buf = rec.buf as Buffer
    const { start, len } = rec
    const name = EXEC_NAME
    buf.set(name, 0)
    start[0] = 0
    len[0] = name.length
    let off = name.length
    start[1] = off
    len[1] = 16
    // A watch session (one shard: every watched key is there) is checked and ended by the shard.
    const tag = conn.watchTag
    writeMeta(buf, off, tag, tag === 0 ? queued.length : queued.length | EXEC_ENDS, conn.watchDeadline)
    off += 16
    let a = 2
    const calls = this.router.calls
    this.router.counters[COMMANDS] += queued.length
    for (let q = 0; q < queued.length; q++) {
      const { cmd, argv } = queued[q]
      calls[cmd.id]++
      start[a] = off
      len[a++] = 8
      writeHeader(buf, off, cmd, db, argv.argc)
      off += 8
      // A queued copy holds its arguments back to back from buf[0].
      copyBytes(argv.buf, 0, queued[q].bytes, buf, off)
      for (let i = 0; i < argv.argc; i++) { start[a] = off + argv.start[i]; len[a++] = argv.len[i] }
      off += queued[q].bytes
    }
    const target = tag === 0 ? new ExecReply(conn, conn.takeSeq()) : new WatchedExecReply(conn, conn.takeSeq(), this.router.counters, queued.length)
    conn.watchTag = 0
    conn.watchShards = []
    conn.watchDeadline = 0
    links[shard].send(EXEC.id, this.router.flags(conn), db, rec, null, argc, Link.recordBytes(rec, null, argc), target, 0, conn.slot)
    this.recycle(queued)
    this.router.scheduleTurn()
    return true
  }

  private readonly rec: Argv = { buf: Buffer.allocUnsafeSlow(4096), argc: 0, start: new Int32Array(64), len: new Int32Array(64) }

  /** execKeyed's scratch record, grown to hold `bytes` and `argc` (and shrunk back after a big one). */
  private execRecord (bytes: number, argc: number): Argv {
    const rec = this.rec
    if (rec.buf.length < bytes || rec.buf.length > 65536) rec.buf = Buffer.allocUnsafeSlow(Math.max(4096, bytes))
    if (rec.start.length < argc || rec.start.length > 4096) {
      rec.start = new Int32Array(Math.max(64, argc))
      rec.len = new Int32Array(Math.max(64, argc))
    }
    rec.argc = argc
    return rec
  }

  /**
   * All of it on one shard: one __exec record, the watch check made there. `ends`: every watched
   * key is on that shard, which then ends the session itself. True if it will.
   */
  private execOnOne (conn: Connection, steps: readonly Step[], shard: number, session: { tag: number, deadline: number },
    done: (reply: Uint8Array) => void, ends: boolean): boolean {
    const link = this.router.links[shard]
    if (link.isDead) { done(SHARD_DOWN); return false }
    const args: Uint8Array[] = [EXEC_NAME, Buffer.alloc(0)]
    let count = 0
    for (const st of steps) {
      if (st.kind !== 'shard') continue
      args.push(header(st.cmd, st.db, st.argv.argc))
      for (let i = 0; i < st.argv.argc; i++) args.push(arg(st.argv, i))
      count++
    }
    args[1] = meta(session.tag, ends ? count | EXEC_ENDS : count, session.deadline)
    const rec = argvOf(args)
    const target: ReplyTarget = {
      onReply: (_t, src, start, len) => {
        // Null (watch), an error, or every reply from the shard: its reply is EXEC's.
        if (src[start] !== 42 || src[start + 1] === 45 || (count === steps.length && !steps.some(st => st.kind === 'shard' && needsFinish(st.cmd)))) {
          done(src.subarray(start, start + len))
          return
        }
        const elems = elements(src, start)
        const replies = new Map<number, Buffer>()
        let k = 0
        for (let i = 0; i < steps.length; i++) if (steps[i].kind === 'shard') replies.set(i, elems[k++])
        done(this.assemble(conn, steps, replies))
      },
    }
    link.send(EXEC.id, this.router.flags(conn), conn.db, rec, null, rec.argc, Link.recordBytes(rec, null, rec.argc), target, 0, conn.slot)
    this.router.scheduleTurn()
    return ends
  }

  /** Several shards: hold them all, check the watch, then run batch by batch. */
  private execHeld (conn: Connection, steps: readonly Step[], involved: number[], session: { tag: number, shards: number[], deadline: number }, seq: number, counted: number): void {
    const router = this.router
    const marker = router.txnMarker
    for (const s of involved) {
      if (router.links[s].isDead) {
        if (session.tag !== 0) this.endSession(session.tag, session.shards)
        conn.onReply(seq, SHARD_DOWN, 0, SHARD_DOWN.length)
        return
      }
    }
    const execRow = commandByName('exec')
    // The engine runs it all on this thread unless a command inside needs a shard's own thread.
    const isRemote = steps.some(st => st.kind !== 'local' && !engineRuns(st.cmd))
    const txn = new Txn(router, conn, seq, execRow, involved, isRemote)
    const tickets = router.ticketsFor(involved, involved.length)
    for (let k = 0; k < involved.length; k++) {
      const s = involved[k]
      router.links[s].send(router.txnBeginId, REQ_NOPARK, conn.db, marker, null, 1, Link.recordBytes(marker, null, 1), txn, s, conn.slot,
        tickets === null ? 0 : tickets[k])
      router.links[s].markSync()
    }
    const words = this.words
    const slot = conn.slot
    const run = async (): Promise<Uint8Array> => {
      if (session.tag !== 0 && (Atomics.load(words, slot) === session.tag || (session.deadline !== 0 && Date.now() > session.deadline))) {
        // Nothing it queued ran: nothing counts (plan counted them).
        this.router.counters[COMMANDS] -= counted
        return this.nullReply(conn)
      }
      return await this.runHeld(conn, txn, steps)
    }
    txn.execute({ buf: Buffer.alloc(0), argc: 0, start: new Int32Array(0), len: new Int32Array(0) }, run)
      .catch(err => router.onClientError(conn, err))
      .finally(() => { if (session.tag !== 0) this.endSession(session.tag, session.shards) })
    router.scheduleTurn()
  }

  private async runHeld (conn: Connection, txn: Txn, steps: readonly Step[]): Promise<Buffer> {
    return this.assemble(conn, steps, await this.runSteps(conn, txn, steps))
  }

  /** Runs the steps on the held shards, in order; the replies by step index. */
  private async runSteps (conn: Connection, txn: Txn, steps: readonly Step[], isCounted = true): Promise<Map<number, Buffer>> {
    const replies = new Map<number, Buffer>()
    let batches = new Batches(this.router, conn, isCounted)
    // Each shard's commands go in one __exec step; a cross-shard command runs its own steps,
    // after what came before it.
    const flush = async (): Promise<void> => {
      const b = batches
      batches = new Batches(this.router, conn, isCounted)
      await Promise.all([...b.byShard].map(async ([shard, batch]) => {
        const reply = await txn.run(shard, EXEC.name, [meta(0, batch.sinks.length, 0), ...batch.args])
        batch.deliver(reply, 0, reply.length)
      }))
    }
    for (let i = 0; i < steps.length; i++) {
      const st = steps[i]
      if (st.kind === 'local') continue
      // FLUSHALL, FLUSHDB, SWAPDB in a transaction that logs its steps' effects: the shards log
      // none of it; one copy goes into the block, after every earlier step and before any later.
      if (st.kind === 'split' && isWholeWrite(st.cmd) && txn.logsSteps) {
        await flush()
        batches.add(st, b => replies.set(i, b))
        await flush()
        if (replies.get(i)?.[0] !== 45) txn.logArgv(st.db, st.argv)
        continue
      }
      if (st.kind !== 'coord') { batches.add(st, b => replies.set(i, b)); continue }
      await flush()
      txn.db = st.db
      try {
        const before = txn.changes()
        const reply = await (st.coord ?? st.cmd.coord as CoordHandler)(txn, st.argv)
        txn.countCoord(st.cmd, st.argv, reply, before)
        replies.set(i, Buffer.from(reply))
      } catch (err) {
        replies.set(i, errorReply(`ERR internal error in '${st.cmd.name}': ${(err as Error).message}`))
      }
    }
    await flush()
    return replies
  }

  /**
   * A watched EXEC across shards with no cross-shard command: execSplit's records, one per shard
   * with commands, plus one per watched shard without any, all staged in one step (tickets with
   * several producers). Each names a verdict cell: the watched shards check their keys, end the
   * session and arrive there; the shards with commands wait for them and run, or answer null
   * (workers/shard-worker.ts isVerdictKept). Atomic as a split MSET is, and decided at the same
   * place in the global order on every shard, so no hold and no round trip through this thread.
   */
  private execWatched (conn: Connection, steps: readonly Step[], involved: Set<number>, session: { tag: number, shards: number[], deadline: number },
    done: (reply: Uint8Array) => void): void {
    const router = this.router
    const all = new Set<number>(involved)
    for (const s of session.shards) all.add(s)
    const shards = [...all].sort((a, b) => a - b)
    if (shards.some(s => router.links[s].isDead)) {
      this.endSession(session.tag, session.shards)
      done(SHARD_DOWN)
      return
    }
    const replies = new Map<number, Buffer>()
    const batches = this.batchesOf(conn, steps, replies)
    const k = this.freeCell(conn.slot)
    const cell = k * 2
    const expected = session.shards.length
    this.cellBusy[k] = 1
    this.verdicts.set(k, { shards, expected })
    Atomics.store(this.verdict, cell, 0)
    Atomics.store(this.verdict, cell + 1, 0)
    let remaining = shards.length
    let err: Buffer | null = null
    let isNull = false
    const target: ReplyTarget = {
      onReply: (shard, src, start, len) => {
        if (src[start] === 45) err ??= Buffer.from(src.subarray(start, start + len))
        else if (isNullReply(src.subarray(start, start + len))) isNull = true
        else batches.byShard.get(shard)?.deliver(src, start, len)
        if (--remaining !== 0) return
        // Every watched shard has arrived (each answers after it): the cell is final.
        if (Atomics.load(this.verdict, cell + 1) !== 0) isNull = true
        this.cellBusy[k] = 0
        this.verdicts.delete(k)
        if (err !== null) done(err)
        else if (isNull) done(this.nullReply(conn))
        else done(this.assemble(conn, steps, replies))
      },
    }
    const watched = session.shards
    this.stageExecs(conn, shards, batches, target, true, (shard, count) =>
      verdictMeta(session.tag, count | EXEC_VERDICT | (watched.includes(shard) ? EXEC_WATCHED : 0), session.deadline, cell, expected))
  }

  /**
   * Several shards, no WATCH and no cross-shard command: each shard's part is independent, so
   * one __exec record per shard, all staged in one step (with the sequencer's tickets when
   * shards have several producers), is atomic the way a split MSET is: every other multi-shard
   * command meets all the parts on the same side of it. One hop, no hold.
   */
  private execSplit (conn: Connection, steps: readonly Step[], involved: number[], done: (reply: Uint8Array) => void): void {
    const router = this.router
    for (const s of involved) if (router.links[s].isDead) { done(SHARD_DOWN); return }
    const replies = new Map<number, Buffer>()
    const batches = this.batchesOf(conn, steps, replies)
    const shards = [...batches.byShard.keys()].sort((a, b) => a - b)
    let remaining = shards.length
    const target: ReplyTarget = {
      onReply: (shard, src, start, len) => {
        (batches.byShard.get(shard) as Batch).deliver(src, start, len)
        if (--remaining === 0) done(this.assemble(conn, steps, replies))
      },
    }
    this.stageExecs(conn, shards, batches, target, false, (_shard, count) => meta(0, count, 0))
  }

  /** The steps' shard commands grouped by shard; each reply lands in `replies` by step index. */
  private batchesOf (conn: Connection, steps: readonly Step[], replies: Map<number, Buffer>): Batches {
    const batches = new Batches(this.router, conn)
    for (let i = 0; i < steps.length; i++) {
      const st = steps[i]
      if (st.kind === 'shard' || st.kind === 'split') batches.add(st, b => replies.set(i, b))
    }
    return batches
  }

  /**
   * One __exec record per shard (its batch, or none), all staged in one step, with the
   * sequencer's tickets when shards have several producers; `metaOf` gives each its meta from
   * its command count word. `isSync`: this thread's turn waits for them (ShardLink.markSync).
   * With the AOF on and commands on several shards, those records carry an AOF group after their
   * meta (EXEC_AOF_GROUP): the parts' effects go into the file as one block (commands/xmove.ts).
   */
  private stageExecs (conn: Connection, shards: readonly number[], batches: Batches, target: ReplyTarget, isSync: boolean,
    metaOf: (shard: number, count: number) => Buffer): void {
    const router = this.router
    const tickets = router.ticketsFor(shards, shards.length)
    const flags = router.flags(conn) | REQ_NOPARK
    const countOf = (shard: number): number => batches.byShard.get(shard)?.sinks.length ?? 0
    const members = aofIsOn() ? shards.filter(s => countOf(s) > 0) : []
    const group = members.length > 1 ? router.aofGroup(members) : null
    shards.forEach((shard, i) => {
      const batch = batches.byShard.get(shard)
      const count = countOf(shard)
      const meta = group === null || count === 0 ? metaOf(shard, count) : Buffer.concat([metaOf(shard, count | EXEC_AOF_GROUP), group])
      const rec = argvOf([EXEC_NAME, meta, ...(batch?.args ?? [])])
      const link = router.links[shard]
      link.send(EXEC.id, flags, conn.db, rec, null, rec.argc, Link.recordBytes(rec, null, rec.argc), target, shard, conn.slot,
        tickets === null ? 0 : tickets[i])
      if (isSync) link.markSync()
    })
    router.scheduleTurn()
  }
}

/** One shard's commands of a transaction, and where each one's reply goes. */
class Batch {
  readonly args: Uint8Array[] = []
  readonly sinks: Array<(b: Buffer) => void> = []

  /** The shard's __exec reply: its elements to their sinks (an error to every one). */
  deliver (src: Uint8Array, start: number, len: number): void {
    if (src[start] !== 42) {
      const err = Buffer.from(src.subarray(start, start + len))
      for (const sink of this.sinks) sink(err)
      return
    }
    const elems = elements(src, start)
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i](elems[i])
  }
}

/** A transaction's commands grouped by shard; a split command's parts merge into one reply. */
class Batches {
  readonly byShard = new Map<number, Batch>()
  /** isCounted: a split command counts its call once merged (SplitReply); not a script's, counted by its host. */
  constructor (private readonly router: Router, private readonly conn: Connection, private readonly isCounted = true) {}

  private push (shard: number, cmd: Command, db: number, argv: Argv, idx: readonly number[] | null, sink: (b: Buffer) => void): void {
    let b = this.byShard.get(shard)
    if (b === undefined) { b = new Batch(); this.byShard.set(shard, b) }
    const n = idx === null ? argv.argc : idx.length
    b.args.push(header(cmd, db, n, idx !== null))
    for (let i = 0; i < n; i++) b.args.push(arg(argv, idx === null ? i : idx[i]))
    b.sinks.push(sink)
  }

  add (st: Step, sink: (b: Buffer) => void): void {
    if (st.kind === 'shard') { this.push(st.shard, st.cmd, st.db, st.argv, null, sink); return }
    if (st.kind !== 'split') return
    const cmd = st.cmd
    const split = new SplitReply(this.router, this.conn, 0, cmd, st.parts.length)
    split.done = sink
    split.isCounted = this.isCounted
    if (cmd.merge === 'byKeyOrder') { split.elems = new Array<Buffer>(st.keyCount); split.positions = st.positions }
    if (cmd.merge === 'custom') { split.parts = new Array<Buffer>(this.router.links.length); split.argvCopy = st.argv }
    st.parts.forEach((p, k) => {
      const tag = cmd.merge === 'custom' ? p.shard : k
      this.push(p.shard, cmd, st.db, st.argv, p.idx, b => split.onReply(tag, b, 0, b.length))
    })
  }
}

/** A command of every shard whose reply a producer makes from the parts: with one shard its step is a plain 'shard' one. */
function needsFinish (cmd: Command): boolean {
  return cmd.route === 'all' && cmd.merge === 'custom'
}

/** finishSplit's merge of one shard's part (INFO, RANDOMKEY... inside EXEC with one shard). */
function finishOne (conn: Connection, cmd: Command, argv: Argv, part: Buffer): Buffer {
  const w = new ReplyWriter(256)
  w.resp3 = conn.resp === 3
  cmd.finish?.(conn, argv, [part], w)
  return Buffer.from(w.buf.subarray(0, w.len))
}
