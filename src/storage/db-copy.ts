// Compaction without a pause: one database copied into a fresh arena a budget of keys at a time,
// between batches of commands, while the commands go on running against the database as it is.
// The database stays the truth throughout: the copy is adopted (Keyspace.adopt) only once it
// holds the same keys, values, TTLs and access clocks, and dropping it at any point changes
// nothing (a FLUSHDB, a BGSAVE's cut, a lend to a cross-shard transaction).
//
// The walk goes slot by slot, as a BGSAVE's does (persistence/snapshot.ts): a slot is the low bits
// of the keys' hashes (the table's size when the copy began), so its keys stay in the buckets
// those bits name however the index rehashes meanwhile. A key of a slot already copied that a
// command is about to write, or that expiry or eviction deletes, is queued and copied afresh
// before the next step (sync); a key a command only reads gets its access clock carried over. A
// key of a slot not yet copied needs nothing: the walk copies it as it is then.

import { Keyspace } from './keyspace.js'
import { keyHash } from './hash.js'
import { writes, saveWrites, restoreWrites } from './writes.js'
import { performance } from 'node:perf_hooks'

/**
 * The most of a shard's time the copy takes (the worker leaves 100 / this - 1 times a slice's
 * length between two), as Redis's active-defrag-cycle-max; INFO's active_defrag_running while a
 * copy runs.
 */
export const COPY_CPU_PCT = 25

/** Slots at most (one byte each): as a BGSAVE walk's. */
const MAX_SLOT_BITS = 20

/** Shard.copyEntry: a key's whole value into another database, 0 when that arena is full. */
export type EntryCopier = (src: Keyspace, e: number, dst: Keyspace, kbuf: Uint8Array, kStart: number, kLen: number, hash: number) => number

export class DbCopy {
  readonly fresh: Keyspace
  private readonly mask: number
  private readonly done: Uint8Array
  private next = 0
  /** Keys of copied slots touched since the last sync (their bytes), and whether a write touched them. */
  private queued: Uint8Array[] = []
  private queuedWrite: boolean[] = []
  /** Keys copied, re-copies included (INFO's active_defrag_key_hits). */
  copied = 0
  /** performance.now() when the copy began. */
  readonly startedAt: number
  private readonly visit = (e: number): void => { this.budgetLeft--; if (!this.isFull && !this.copyOne(e)) this.isFull = true }
  private budgetLeft = 0
  private isFull = false

  constructor (readonly ks: Keyspace, private readonly copyEntry: EntryCopier, now: number) {
    const used = ks.arena.used
    this.fresh = new Keyspace(used + (used >>> 3))
    let bits = 31 - Math.clz32(ks.buckets)
    if (bits > MAX_SLOT_BITS) bits = MAX_SLOT_BITS
    this.mask = (1 << bits) - 1
    this.done = new Uint8Array(1 << bits)
    this.startedAt = now
  }

  /** Every slot copied and every touched key synced: the copy equals the database. */
  get isComplete (): boolean { return this.next > this.mask && this.queued.length === 0 }

  /** Before a command writes (isWrite) or reads key buf[start, start + len) of this database. */
  touch (buf: Uint8Array, start: number, len: number, isWrite: boolean): void {
    if (this.done[(keyHash(buf, start, len) >>> 5) & this.mask] === 0) return
    // Copied bytes: a Buffer's slice is a view, and the ring or a script's argument buffer
    // under it is overwritten before the next step syncs the key.
    this.queued.push(Uint8Array.prototype.slice.call(buf, start, start + len))
    this.queuedWrite.push(isWrite)
  }

  /** Before entry e of this database is deleted, by any path (writes.beforeRemove). */
  removing (e: number): void {
    const a = this.ks.arena
    if (this.done[(a.u32[(e + 4) >>> 2] >>> 5) & this.mask] === 0) return
    const k = this.ks.keyOffset(e)
    this.queued.push(a.u8.slice(k, k + this.ks.keyLen(e)))
    this.queuedWrite.push(true)
  }

  /**
   * The queued keys synced, then slots until about `budget` keys were copied or performance.now()
   * passed `until`. False when the fresh arena is full (the caller drops the copy). Not a write:
   * no hook runs, no count moves.
   */
  step (budget: number, until = Infinity): boolean {
    const saved = saveWrites()
    writes.onRemove = null; writes.onInsert = null; writes.onSwap = null; writes.onExpire = null
    writes.onNew = null; writes.onReady = null; writes.beforeRemove = null; writes.onTrack = null; writes.isReplacing = false
    try {
      if (!this.sync()) return false
      this.budgetLeft = budget
      for (let n = 1; this.budgetLeft > 0 && this.next <= this.mask && !this.isFull; n++) {
        const s = this.next++
        this.done[s] = 1
        this.ks.forSlot(s, this.mask, this.visit)
        // Slots hold a key or two: the clock is read every 32 of them.
        if ((n & 31) === 0 && performance.now() >= until) break
      }
      return !this.isFull
    } finally {
      restoreWrites(saved)
    }
  }

  /** Brings the copy's queued keys up to date with the database. */
  private sync (): boolean {
    const { ks, fresh, queued, queuedWrite } = this
    for (let i = 0; i < queued.length; i++) {
      const key = queued[i]
      const h = keyHash(key, 0, key.length)
      const e = ks.find(key, 0, key.length, h)
      const n = fresh.find(key, 0, key.length, h)
      if (!queuedWrite[i]) {
        // A read moved only the access clock.
        if (e !== 0 && n !== 0) fresh.setClock(n, ks.clock(e))
        continue
      }
      if (n !== 0) fresh.remove(n)
      if (e !== 0 && !this.copyOne(e)) return false
    }
    queued.length = 0
    queuedWrite.length = 0
    return true
  }

  /** Entry e into the copy, with its TTL and access clock. */
  private copyOne (e: number): boolean {
    const ks = this.ks
    const n = this.copyEntry(ks, e, this.fresh, ks.arena.u8, ks.keyOffset(e), ks.keyLen(e), ks.arena.u32[(e + 4) >>> 2])
    if (n === 0) return false
    const at = ks.expireAt(e)
    if (at !== 0) this.fresh.setExpireAt(n, at)
    this.fresh.setClock(n, ks.clock(e))
    this.copied++
    return true
  }
}
