// The transaction engine: a multi-shard operation runs on one thread, synchronously, over the
// memory of the shards it holds. A shard's data is already shared memory (arena and index are
// SharedArrayBuffers); what lives in its thread's JS is the bookkeeping: the allocator's top and
// free lists, the index's counts and rehash position. So when a transaction holds a shard
// (server/txn.ts), the shard *lends* that bookkeeping with its hold acknowledgement, parks, and
// the producer thread that runs the transaction builds a Shard over the lent databases
// (LentShard) and runs every step there as plain calls: no round trip per step.
//
// At the end the producer hands the bookkeeping back in the release, with the *effects* the
// shard's own thread must hear about, since they belong to state only it keeps:
// - watched keys written or deleted (WATCH's touches, storage/watch.ts),
// - keys created while clients block on them (the worker serves those clients once released),
// - the hit, miss and expiry counts.
// With appendonly on, each step's effect goes to the transaction's AOF log (persistence/aof.ts),
// written as one block before the release. Keyspace events are not per shard: every
// lent shard of a transaction records into one list, in the order the steps ran, and the
// transaction has one shard send them all to the hub (__emit) before it releases any.
//
// Only commands that touch nothing but the keyspace run here (key, split, cursor, coord and
// blocking routes): a transaction with another kind inside (PUBLISH, FLUSHALL, SWAPDB...) keeps
// the step-by-step path, where the shard runs each step itself.

import { Buffer } from 'node:buffer'
import type { Argv } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { commands, internalCommand } from '../commands/table.js'
import { argvOf } from '../commands/txn-helpers.js'
import { readU32 } from '../commands/internal.js'
import { forEachKey, isTrackedRead, forEachWrittenKey, forEachTouchedKey } from '../commands/written-keys.js'
import { Keyspace, type KeyspaceState } from '../storage/keyspace.js'
import { Shard, DATABASES } from '../storage/shard.js'
import { writes, saveWrites, saveWritesInto, restoreWrites } from '../storage/writes.js'
import { zsetForgetPositions } from '../storage/zset-type.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { errorReply } from '../protocol/errors.js'
import type { AofLog } from '../persistence/aof.js'
import { logEffect, logDelete } from '../persistence/aof-effects.js'
import { aofHook } from '../storage/aof-hook.js'
import { dirtyRules, dirtyOf, ownDirty } from '../persistence/dirty.js'

/** What a held shard hands the transaction's thread with its acknowledgement. */
export interface Lend {
  index: number
  shards: number
  /** Per database: its state, or null where the shard has not made it yet (db 0 always is). */
  dbs: Array<KeyspaceState | null>
  /** Keys are watched on the shard: written keys must be reported. */
  isWatching: boolean
  /** Clients block on the shard: created keys must be reported. */
  isWaiting: boolean
  notifyFlags: Int32Array
  /** The AOF file the shard appends to (0: appendonly off): the transaction's block goes there. */
  aofFd?: number
  /** What a failed write left in the shard's AOF log (persistence/aof.ts take): it goes first. */
  aofRest?: Uint8Array
  aofRestUnits?: number
  /**
   * The database a compaction is copying (storage/db-copy.ts), -1 or absent if none: the steps
   * report the keys they write, read or delete there, which the copy then syncs, as the shard's
   * own commands touch theirs.
   */
  copyDb?: number
}

export const EFFECT_TOUCHED = 0 // a watched key was written (touch it; it may still exist)
export const EFFECT_REMOVED = 1 // an entry was deleted (touch it as gone)
export const EFFECT_CREATED = 2 // a key was created (blocked clients may be served)
export const EFFECT_READ = 3 // a tracking client's read-only command read it (CLIENT TRACKING remembers it for `slot`)

export interface Effect { kind: number, db: number, key: Uint8Array, slot?: number }

/** What the transaction's thread hands back with the release. */
export interface Returned {
  /** The databases' state after the steps; null: nothing was lent out (the shard ran its steps). */
  dbs: Array<KeyspaceState | null> | null
  effects: Effect[]
  /**
   * The steps touched watched keys: the shard answers once it has applied the effects, and the
   * transaction's client gets its reply only then. An EXEC elsewhere checks its watch words
   * without passing through this shard, so the touches must land before anyone can send one.
   */
  isAcked: boolean
  hits: number
  misses: number
  expired: number
  /** Redis's dirty of the steps (rdb_changes_since_last_save): the shard adds it to its own. */
  dirty?: number
  /** AOF bytes no write could take yet: the shard's log keeps them, to retry (persistence/aof.ts adopt). */
  aofRest?: Uint8Array
  aofRestUnits?: number
  /**
   * appendfsync always: the W_AOF_WRITES number (and descriptor) of the transaction's block,
   * written without a sync. The shard owes it, so its next replies (which may show the block's
   * effects) wait for it at their gate (persistence/aof.ts, "Reply gate").
   */
  aofOwed?: number
  aofOwedFd?: number
  /** Mid-hold (ShardLink.relend): the shard runs the next step itself, then lends again; the hold goes on. */
  relend?: boolean
  /** With relend: the transaction's AOF block logs that step (the shard logs none of it). */
  isLoggedByTxn?: boolean
  /** Lend.copyDb's keys the steps wrote or deleted, and those they read (access clocks). */
  copyWritten?: Uint8Array[]
  copyRead?: Uint8Array[]
  /** A step replaced or swapped whole databases (FLUSHDB, FLUSHALL, SWAPDB): the copy is void. */
  isCopyVoid?: boolean
}

/** The whole-database commands (storage/writes.ts: reported before they run, not through the hooks). */
export const FLUSHDB_ID = commands.findIndex(c => c.name === 'flushdb')
export const FLUSHALL_ID = commands.findIndex(c => c.name === 'flushall')
const SWAPDB_ID = commands.findIndex(c => c.name === 'swapdb')

export const NOTHING_LENT: Returned = { dbs: null, effects: [], isAcked: false, hits: 0, misses: 0, expired: 0 }

/** The shard's side: its lend, taken just before it acknowledges a hold. */
/**
 * The databases' states as a packed array. shard.dbs is made by new Array(16) (a holey kind),
 * and an optimized map keeps its receiver's kind, which the structured clone then writes as a
 * sparse array, key by key (perf: 6% of a shard's time in ReadSparseJSArray under a cross-shard
 * RENAME).
 */
function statesOf (shard: Shard): Array<KeyspaceState | null> {
  const out: Array<KeyspaceState | null> = []
  for (const ks of shard.dbs) out.push(ks === null ? null : ks.exportState())
  return out
}

export function lendOf (shard: Shard, isWaiting: boolean): Lend {
  return {
    index: shard.index,
    shards: shard.shards,
    dbs: statesOf(shard),
    // CLIENT TRACKING needs the same effects as WATCH: the keys written or deleted.
    isWatching: shard.watch.size !== 0 || (shard.tracking?.isActive ?? false),
    isWaiting,
    notifyFlags: shard.notifyFlags,
    copyDb: shard.copyDbIndex(),
  }
}

/** The shard's side, at release: takes its databases back. Effects and events are the caller's. */
export function takeBack (shard: Shard, r: Returned): void {
  shard.dirty += r.dirty ?? 0
  if (r.dbs === null) return
  for (let i = 0; i < r.dbs.length; i++) {
    const s = r.dbs[i]
    if (s === null) continue
    const ks = shard.dbs[i]
    if (ks === null) shard.dbs[i] = new Keyspace(0, s)
    else ks.importState(s)
  }
  shard.ks = shard.db(shard.dbIndex)
  // Sorted sets' cached positions may describe orders the transaction changed.
  zsetForgetPositions()
  shard.hits += r.hits
  shard.misses += r.misses
  shard.expiredKeys += r.expired
}

const EXEC_ID = internalCommand('__exec').id
const dirtyRule = dirtyRules(commands)

/**
 * Per shard index, this thread's LentShard: made once and re-attached at each hold, so that a
 * transaction allocates no Shard, Keyspace or reply buffer (a hold is on the path of every
 * cross-shard command).
 */
const lentShards: Array<LentShard | undefined> = []

/** A shard dropped an arena: this thread's kept copies let go of theirs (storage/release.ts). */
export function detachIdleArenas (): void {
  for (const l of lentShards) l?.detachIdle()
}

/** The shard's lend, ready to run steps on: `events` is the transaction's one list. */
export function borrow (lend: Lend, events: Buffer[], aof: AofLog | null = null): LentShard {
  let l = lentShards[lend.index]
  if (l === undefined) { l = new LentShard(lend.index, lend.shards); lentShards[lend.index] = l }
  l.attach(lend, events)
  l.aof = aof
  return l
}

/** A held shard's databases, run on the transaction's thread. */
export class LentShard {
  readonly shard: Shard
  private effects: Effect[] = []
  private readonly out = new ReplyWriter()
  /** The hooks runArgv puts back after each step (a step does not nest inside another on one shard). */
  private readonly savedWrites = saveWrites()
  private isWatching = false
  private isWaiting = false
  /** The slot of a tracking client whose reads are remembered (CLIENT TRACKING; 0: none), set by its Txn. */
  trackSlot = 0
  /** Keyspace objects kept across holds, per database. */
  private readonly kept: Array<Keyspace | null>
  /** The transaction's AOF block (appendonly on): each step's effect goes there. */
  aof: AofLog | null = null
  /** Steps that changed something since attach: a cross-shard command counts its dirty once, by its own rule (Txn). */
  changes = 0
  /** Lend.copyDb (-1: no compaction copy on the shard), and what the steps did to its keys (Returned). */
  private copyDb = -1
  private copyWritten: Uint8Array[] = []
  private copyRead: Uint8Array[] = []
  private isCopyVoid = false

  constructor (index: number, shards: number) {
    this.kept = new Array<Keyspace | null>(DATABASES).fill(null)
    this.shard = new Shard(index, shards, new Array<Keyspace | null>(DATABASES).fill(null))
    // Steps of a transaction never block: a blocking command answers as if it timed out.
    this.shard.noBlock = true
  }

  /** Between attach and finish: its databases are the shard's, lent. */
  private isAttached = false

  /** Lets go of the kept databases' buffers (storage/release.ts); not while attached. */
  detachIdle (): void {
    if (this.isAttached) return
    for (const ks of this.kept) ks?.detach()
  }

  attach (lend: Lend, events: Buffer[]): void {
    this.isAttached = true
    const shard = this.shard
    for (let i = 0; i < DATABASES; i++) {
      const s = lend.dbs[i]
      if (s === null) { shard.dbs[i] = null; continue }
      let ks = this.kept[i]
      if (ks === null) { ks = new Keyspace(0, s); this.kept[i] = ks } else ks.importState(s)
      shard.dbs[i] = ks
    }
    shard.dbIndex = -1
    shard.select(0)
    zsetForgetPositions()
    shard.notifyFlags = lend.notifyFlags
    shard.events = events
    shard.hits = 0
    shard.misses = 0
    shard.expiredKeys = 0
    shard.dirty = 0
    this.changes = 0
    this.isWatching = lend.isWatching
    this.isWaiting = lend.isWaiting
    this.effects = []
    this.copyDb = lend.copyDb ?? -1
    this.copyWritten = []
    this.copyRead = []
    this.isCopyVoid = false
  }

  /** Runs one command (or an __exec batch) and returns its reply. */
  run (cmd: Command, db: number, resp3: boolean, args: readonly Uint8Array[]): Buffer {
    return this.runArgv(cmd, db, resp3, argvOf([Buffer.from(cmd.name.split('|')[0]), ...args]), false)
  }

  /**
   * run, with the argv made already (the command's name first). `counts`: a client's own command
   * (a script's redis.call) adds to Redis's dirty by its rule; a cross-shard command's steps do not
   * (the command counts once, Txn.countCoord). An __exec batch's commands always count. `isView`:
   * the reply is a view of this shard's writer, valid until its next step (a redis.call's, which
   * the script reads at once), not a copy.
   */
  runArgv (cmd: Command, db: number, resp3: boolean, argv: Argv, counts = true, isView = false): Buffer {
    const out = this.out
    out.reset()
    out.resp3 = resp3
    // This thread's storage hooks report to this shard while its steps run.
    const saved = saveWritesInto(this.savedWrites)
    writes.onRemove = this.isWatching ? this.onRemove : null
    writes.onInsert = this.isWaiting ? this.onInsert : null
    // XADD to an existing stream wakes its blocked readers as a new key wakes a list's.
    writes.onReady = this.isWaiting ? this.onInsert : null
    writes.onSwap = null
    // Any entry deleted in the database being copied (expiry and overwrites included).
    writes.beforeRemove = this.copyDb >= 0 ? this.onCopyRemove : null
    this.shard.syncNotifyHooks()
    const savedAof = aofHook.onDelete
    aofHook.onDelete = this.aof !== null ? this.onAofDelete : null
    try {
      if (cmd.id === EXEC_ID) this.runBatch(argv)
      else this.runOne(cmd, db, argv, counts)
    } finally {
      restoreWrites(saved)
      aofHook.onDelete = savedAof
    }
    return isView ? out.buf.subarray(0, out.len) : Buffer.from(out.buf.subarray(0, out.len))
  }

  /** Makes sure `bytes` can be allocated in database db before a step writes anything. */
  reserve (db: number, bytes: number): boolean {
    return this.shard.db(db).arena.reserve(bytes)
  }

  /** The state and effects to hand back. */
  finish (): Returned {
    const shard = this.shard
    this.isAttached = false
    const r: Returned = {
      dbs: statesOf(shard),
      effects: this.effects,
      isAcked: this.effects.some(e => e.kind !== EFFECT_CREATED && e.kind !== EFFECT_READ),
      hits: shard.hits,
      misses: shard.misses,
      expired: shard.expiredKeys,
      dirty: shard.dirty,
    }
    if (this.copyDb >= 0) {
      r.copyWritten = this.copyWritten
      r.copyRead = this.copyRead
      r.isCopyVoid = this.isCopyVoid
    }
    return r
  }

  private runOne (cmd: Command, db: number, argv: Argv, counts: boolean): void {
    const shard = this.shard
    const out = this.out
    shard.select(db)
    const before = writes.count
    const signals = writes.signals
    const mark = out.len
    if (this.copyDb >= 0) {
      // SWAPDB moves states between indexes, which the shard takes back by index (takeBack).
      if (cmd.id === FLUSHDB_ID ? db === this.copyDb : cmd.id === FLUSHALL_ID || cmd.id === SWAPDB_ID) this.isCopyVoid = true
      else if (cmd.isWrite) forEachWrittenKey(cmd, argv, db, shard.dbs.length, this.onCopyWritten)
      else if (db === this.copyDb) forEachKey(cmd, argv, this.onCopyRead)
    }
    try {
      cmd.run?.(shard, argv, out)
    } catch (err) {
      out.len = mark
      out.raw(errorReply(`ERR internal error in '${cmd.name}': ${(err as Error).message}`))
    }
    if (writes.count !== before) {
      this.changes++
      if (cmd.isWrite) {
        if (counts) shard.dirty += dirtyOf(dirtyRule[cmd.id], argv.argc, out.buf, mark)
        else ownDirty.n = 0
      }
    }
    if (this.isWatching && !cmd.onlyDeletes && ((cmd.isWrite && writes.count !== before) || writes.signals !== signals)) {
      forEachTouchedKey(cmd, argv, db, shard.dbs.length, this.onWritten, out.buf, mark)
    }
    if (this.aof !== null && cmd.isWrite && writes.count !== before) logEffect(commands, cmd, shard, db, argv, out.buf, mark, out.len, this.aof)
    if (this.trackSlot !== 0 && isTrackedRead(cmd)) forEachKey(cmd, argv, this.onRead)
  }

  // The key bytes are copied (a Buffer's slice would be a view): a script's redis.call runs on the
  // engine's argument buffer, which the next call overwrites.
  private readonly onRead = (buf: Uint8Array, start: number, len: number): void => {
    this.effects.push({ kind: EFFECT_READ, db: 0, key: Uint8Array.prototype.slice.call(buf, start, start + len), slot: this.trackSlot })
  }

  private readonly onAofDelete = (ks: Keyspace, e: number): void => {
    if (this.aof !== null) logDelete(ks, e, this.shard.dbs.indexOf(ks), this.aof)
  }

  /** __exec meta (header args...)*, as the worker's runExec reads it (the watch is checked by the caller). */
  private runBatch (argv: Argv): void {
    const { buf, start, len } = argv
    const count = readU32(buf, start[1] + 4)
    this.out.arrayHeader(count)
    let i = 2
    for (let c = 0; c < count; c++) {
      const h = start[i]
      const word = readU32(buf, h)
      const argc = readU32(buf, h + 4)
      const one: Argv = { buf, argc, start: start.subarray(i + 1, i + 1 + argc), len: len.subarray(i + 1, i + 1 + argc) }
      this.runOne(commands[word & 0xffff], word >>> 24, one, true)
      i += 1 + argc
    }
  }

  // Copied bytes, as for onRead: the argument buffer is overwritten by the next call.
  private readonly onCopyWritten = (db: number, buf: Uint8Array, start: number, len: number): void => {
    if (db === this.copyDb) this.copyWritten.push(Uint8Array.prototype.slice.call(buf, start, start + len))
  }

  private readonly onCopyRead = (buf: Uint8Array, start: number, len: number): void => {
    this.copyRead.push(Uint8Array.prototype.slice.call(buf, start, start + len))
  }

  private readonly onCopyRemove = (ks: Keyspace, e: number): void => {
    if (ks !== this.shard.dbs[this.copyDb]) return
    const k = ks.keyOffset(e)
    this.copyWritten.push(ks.arena.u8.slice(k, k + ks.keyLen(e)))
  }

  private readonly onWritten = (db: number, buf: Uint8Array, start: number, len: number): void => {
    this.effects.push({ kind: EFFECT_TOUCHED, db, key: Uint8Array.prototype.slice.call(buf, start, start + len) })
  }

  private readonly onRemove = (ks: Keyspace, e: number): void => {
    const p = ks.keyOffset(e)
    this.effects.push({ kind: EFFECT_REMOVED, db: this.shard.dbs.indexOf(ks), key: ks.arena.u8.slice(p, p + ks.keyLen(e)) })
  }

  private readonly onInsert = (ks: Keyspace, e: number): void => {
    const p = ks.keyOffset(e)
    this.effects.push({ kind: EFFECT_CREATED, db: this.shard.dbs.indexOf(ks), key: ks.arena.u8.slice(p, p + ks.keyLen(e)) })
  }
}

/** True if the command touches nothing but the keyspace, so it may run on lent databases. */
export function engineRuns (cmd: Command): boolean {
  if (cmd.route === 'script') return true
  if (cmd.run === undefined && cmd.coord === undefined) return false
  switch (cmd.route) {
    case 'key': case 'split': case 'cursor': case 'coord': case 'block': return true
    default: return false
  }
}
