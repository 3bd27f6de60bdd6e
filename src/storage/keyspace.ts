// One database of one shard: a chained hash index (Uint32Array buckets in a SharedArrayBuffer)
// over entries that live in the keyspace's Arena. Resizing is incremental, as in Redis's dict.c:
// while a bigger table is being filled, every operation moves a few buckets across, so a
// million-key table never stalls the shard for a full rehash. SCAN walks both tables with
// dictScan's reverse-binary cursor; RANDOMKEY samples a random bucket (dictGetRandomKey).
//
// Entry layout (8-aligned, in the arena):
//   +0  u32 next       next entry in the bucket chain (0 = end)
//   +4  u32 hashType   (hash & ~31) | noInt<<4 | raw<<3 | type   (string encoding flags for
//                      OBJECT ENCODING: raw = edited in place, noInt = never int-encoded;
//                      both = an int-encoded copy, which OBJECT REFCOUNT does not call shared)
//   +8  u32 keyLen
//   +12 u32 valLen     bytes of value payload (type-specific meaning)
//   +16 f64 expireAt   unix ms, 0 = no expiry
//   +24 u32 clock      24-bit access clock: LRU seconds, or LFU minutes and counter
//                      (storage/eviction.ts); the top 8 bits are free
//   +28 key bytes, then value bytes

import { Arena, MAX_ARENA_BYTES, classBytes, sizeClass, type ArenaState } from './arena.js'
import { TYPES } from './types.js'
import { writes } from './writes.js'
import { initialClock, accessNow } from './eviction.js'
import { aofHook } from './aof-hook.js'
import { copyBytes } from '../bytes.js'

export const ENTRY_HEADER_BYTES = 28
export const TYPE_STRING = 0
export const TYPE_LIST = 1
export const TYPE_HASH = 2
export const TYPE_SET = 3
export const TYPE_ZSET = 4
export const TYPE_STREAM = 5
export const RAW_FLAG = 8
export const NO_INT_FLAG = 16

/**
 * Largest arena per database of a shard: 4 GiB (offsets are u32). FLASHKV_ARENA_MAX_BYTES
 * lowers it, so that tests can fill an arena and see what a full one does.
 */
const ARENA_MAX_BYTES = Number(process.env.FLASHKV_ARENA_MAX_BYTES ?? '') > 0 ? Number(process.env.FLASHKV_ARENA_MAX_BYTES) : MAX_ARENA_BYTES

/** A Keyspace's whole state as another thread needs it (storage/lend.ts): buffers shared, numbers copied. */
export interface KeyspaceState {
  arena: ArenaState
  t0: SharedArrayBuffer
  t1: SharedArrayBuffer | null
  count: number
  expires: number
  rehashIdx: number
  expireCursor: number
}

/**
 * The buffers of a Keyspace (a shard worker posts them to the main thread whenever one changes):
 * with them a replacement worker takes the database over after its thread died. Everything else
 * is in them or rebuilt from them (Keyspace.resume).
 */
export interface KeyspaceLayout {
  arena: SharedArrayBuffer
  maxBytes: number
  /** The arena's merge bits, and its shared bookkeeping (Arena's meta: free list heads, top, used, mask). */
  bits: SharedArrayBuffer
  meta: Float64Array
  t0: SharedArrayBuffer
  t1: SharedArrayBuffer | null
}

/** Arena bytes an entry of this key and value size takes (for Arena.reserve). */
export function entryBlockBytes (keyLen: number, valLen: number): number {
  return classBytes(sizeClass(ENTRY_HEADER_BYTES + keyLen + valLen))
}

/** Set by a shard worker: called when a database takes a new index buffer mid-batch (a rehash starts). */
export const layoutHook: { onChange: (() => void) | null } = { onChange: null }

/** The clock of the entry a replacing remove() just deleted, for the insert that follows (-1: none). */
let replacedClock = -1

const MIN_BUCKETS = 16
/** Redis's HASHTABLE_MAX_LOAD_FACTOR: past it the table doubles even over maxmemory. */
const MAX_LOAD = 1.618
/**
 * dictExpandAllowed: whether a table may take `moreBytes` to double now (the shard worker checks
 * its share of maxmemory); until MAX_LOAD it may wait, as Redis's does, so that a doubling does
 * not push used_memory past maxmemory by megabytes.
 */
export const tableGrowth: { isAllowed: (moreBytes: number) => boolean } = { isAllowed: () => true }
/** An empty database's table (database 0 of every shard always has one): used_memory_startup. */
export const EMPTY_TABLE_BYTES = MIN_BUCKETS * 4
const NO_TABLE = new Uint32Array(0)
const REHASH_STEP = 4
/** Random bucket probes before randomEntry falls back to a walk (dict.c has no such bound). */
const RANDOM_PROBES = 64

export class Keyspace {
  /** Replaced only by adopt() (a compaction): take it afresh after anything that may compact. */
  arena: Arena
  count = 0
  expires = 0
  private t0: Uint32Array
  private t1: Uint32Array | null = null
  private rehashIdx = -1
  /** Active-expiry cursor over t0's buckets. */
  private expireCursor = 0

  constructor (arenaBytes = 64 * 1024, state: KeyspaceState | null = null) {
    this.arena = new Arena(arenaBytes, state === null ? ARENA_MAX_BYTES : state.arena.maxBytes, state === null ? null : state.arena)
    this.t0 = state === null ? newTable(MIN_BUCKETS) : new Uint32Array(0)
    if (state !== null) this.importState(state)
  }

  /** Everything another thread needs to run commands on this database while this one waits. */
  exportState (): KeyspaceState {
    return {
      arena: this.arena.exportState(),
      t0: this.t0.buffer as SharedArrayBuffer,
      t1: this.t1 === null ? null : this.t1.buffer as SharedArrayBuffer,
      count: this.count,
      expires: this.expires,
      rehashIdx: this.rehashIdx,
      expireCursor: this.expireCursor,
    }
  }

  /** Takes back the state another thread left (the arena's bytes and the tables are shared). */
  importState (s: KeyspaceState): void {
    this.arena.importState(s.arena)
    this.t0 = new Uint32Array(s.t0)
    this.t1 = s.t1 === null ? null : new Uint32Array(s.t1)
    this.count = s.count
    this.expires = s.expires
    this.rehashIdx = s.rehashIdx
    this.expireCursor = s.expireCursor
  }

  /** This database's buffers (KeyspaceLayout). */
  layout (): KeyspaceLayout {
    const a = this.arena
    return { arena: a.sab, maxBytes: a.maxBytes, bits: a.bitsBuffer, meta: a.metaView, t0: this.t0.buffer as SharedArrayBuffer, t1: this.t1 === null ? null : this.t1.buffer as SharedArrayBuffer }
  }

  /** True when layout() would name other buffers than `l` (checked once per batch). */
  isMovedFrom (l: KeyspaceLayout): boolean {
    return l.t0 !== this.t0.buffer || l.t1 !== (this.t1 === null ? null : this.t1.buffer) || l.arena !== this.arena.sab || l.bits !== this.arena.bitsBuffer || l.meta !== this.arena.metaView
  }

  /**
   * A database taken over from a dead thread's layout. Allocator state is in the shared meta;
   * the counts are recounted from the index, and a rehash in progress restarts its walk from
   * bucket 0 (the buckets already moved are empty), so nothing depends on numbers the dead thread
   * may not have published.
   */
  static resume (l: KeyspaceLayout): Keyspace {
    const ks = new Keyspace(0, {
      arena: Arena.resumeState(l.arena, l.bits, l.maxBytes, l.meta),
      t0: l.t0, t1: l.t1, count: 0, expires: 0, rehashIdx: l.t1 === null ? -1 : 0, expireCursor: 0,
    })
    const f64 = ks.arena.f64
    ks.forEach(e => { ks.count++; if (f64[(e + 16) >>> 3] !== 0) ks.expires++ })
    return ks
  }

  /**
   * Takes over `fresh`'s arena and tables (a compacted copy of this database, Shard.compactDb),
   * so that every holder of this Keyspace sees the new buffers.
   */
  adopt (fresh: Keyspace): void {
    this.arena = fresh.arena
    this.t0 = fresh.t0
    this.t1 = fresh.t1
    this.rehashIdx = fresh.rehashIdx
    this.count = fresh.count
    this.expires = fresh.expires
    this.expireCursor = 0
  }

  /** Lets go of the arena's and tables' buffers until the next importState (Arena.detach). */
  detach (): void {
    this.arena.detach()
    this.t0 = NO_TABLE
    this.t1 = null
  }

  get tableBytes (): number { return (this.t0.length + (this.t1 === null ? 0 : this.t1.length)) * 4 }
  /** Live bytes: blocks in use (size classes rounded) and the tables. */
  get usedMemory (): number { return this.arena.used + this.tableBytes }
  /** Committed bytes: the arena up to its top (free blocks included) and the tables: INFO used_memory. */
  get committedMemory (): number { return this.arena.committed + this.tableBytes }

  // --- entry field access -------------------------------------------------------------------
  keyLen (e: number): number { return this.arena.u32[(e + 8) >>> 2] }
  valLen (e: number): number { return this.arena.u32[(e + 12) >>> 2] }
  type (e: number): number { return this.arena.u32[(e + 4) >>> 2] & 7 }
  expireAt (e: number): number { return this.arena.f64[(e + 16) >>> 3] }
  keyOffset (e: number): number { return e + ENTRY_HEADER_BYTES }
  /** The access clock (storage/eviction.ts): Redis's 24-bit robj.lru. */
  clock (e: number): number { return this.arena.u32[(e + 24) >>> 2] }
  setClock (e: number, c: number): void { this.arena.u32[(e + 24) >>> 2] = c }
  valOffset (e: number): number { return e + ENTRY_HEADER_BYTES + this.arena.u32[(e + 8) >>> 2] }

  setExpireAt (e: number, at: number): void {
    const f64 = this.arena.f64
    const i = (e + 16) >>> 3
    const had = f64[i] !== 0
    writes.count++
    if (had && at === 0) this.expires--
    else if (!had && at !== 0) this.expires++
    f64[i] = at
  }

  // --- lookup / insert / delete ----------------------------------------------------------------
  find (buf: Uint8Array, start: number, len: number, hash: number): number {
    if (this.rehashIdx >= 0) this.rehashStep(REHASH_STEP)
    const e = this.findIn(this.t0, buf, start, len, hash)
    if (e !== 0 || this.t1 === null) return e
    return this.findIn(this.t1, buf, start, len, hash)
  }

  /**
   * Adds a new entry for a key known to be absent, with room for valLen value bytes (left
   * uninitialised). Returns its offset, or 0 when the arena is full.
   */
  insert (buf: Uint8Array, start: number, len: number, hash: number, type: number, valLen: number): number {
    // dictAddRaw's step: a run of inserts with no lookup between them (a compaction's copy, which
    // went from 16 buckets to 32 and stopped there) must carry a rehash on to its end.
    if (this.rehashIdx >= 0) this.rehashStep(REHASH_STEP)
    const a = this.arena
    const e = a.alloc(ENTRY_HEADER_BYTES + len + valLen)
    if (e === 0) return 0
    writes.count++
    const u32 = a.u32
    const h = u32[(e + 4) >>> 2] = ((hash & ~31) | type) >>> 0
    u32[(e + 8) >>> 2] = len
    u32[(e + 12) >>> 2] = valLen
    a.f64[(e + 16) >>> 3] = 0
    u32[(e + 24) >>> 2] = writes.isReplacing && replacedClock >= 0 ? replacedClock : initialClock(accessNow())
    copyBytes(buf, start, len, a.u8, e + ENTRY_HEADER_BYTES)
    this.link(e, h)
    this.count++
    if (this.rehashIdx < 0 && this.count > this.t0.length && (this.count > this.t0.length * MAX_LOAD || tableGrowth.isAllowed(this.t0.length * 8))) {
      this.startRehash(this.t0.length * 2)
    }
    if (writes.onInsert !== null) writes.onInsert(this, e)
    if (writes.onNew !== null && !writes.isReplacing) writes.onNew(this, e)
    return e
  }

  /**
   * Gives entry e a value area of valLen bytes, keeping key, type and expiry. Returns the
   * (possibly new) offset, or 0 when the arena is full (e is then unchanged).
   */
  resizeValue (e: number, valLen: number): number {
    const a = this.arena
    const keyLen = a.u32[(e + 8) >>> 2]
    const oldSize = ENTRY_HEADER_BYTES + keyLen + a.u32[(e + 12) >>> 2]
    const newSize = ENTRY_HEADER_BYTES + keyLen + valLen
    writes.count++
    if (Arena.sameBlock(oldSize, newSize)) {
      a.u32[(e + 12) >>> 2] = valLen
      return e
    }
    const n = a.alloc(newSize)
    if (n === 0) return 0
    const u8 = a.u8 // alloc may have grown the buffer: read views after it
    u8.copyWithin(n, e, e + ENTRY_HEADER_BYTES + keyLen)
    a.u32[(n + 12) >>> 2] = valLen
    this.repoint(a.u32[(n + 4) >>> 2], e, n)
    a.free(e, oldSize)
    return n
  }

  /** Changes the type tag of an entry in place (a new value of another type under the same key). */
  setType (e: number, type: number): void {
    writes.count++
    const u32 = this.arena.u32
    const i = (e + 4) >>> 2
    u32[i] = ((u32[i] & ~31) | type) >>> 0
  }

  /** Both string encoding flags (RAW_FLAG | NO_INT_FLAG), to carry them when a value moves. */
  encFlags (e: number): number { return this.arena.u32[(e + 4) >>> 2] & (RAW_FLAG | NO_INT_FLAG) }
  setEncFlags (e: number, flags: number): void {
    const u32 = this.arena.u32
    const i = (e + 4) >>> 2
    u32[i] = ((u32[i] & ~(RAW_FLAG | NO_INT_FLAG)) | flags) >>> 0
  }

  /** Strings made from text Redis never int-encodes (INCRBYFLOAT results: "embstr" even for "3"). */
  isNoInt (e: number): boolean { return (this.arena.u32[(e + 4) >>> 2] & (RAW_FLAG | NO_INT_FLAG)) === NO_INT_FLAG }

  /** Strings: set once edited in place (APPEND, SETRANGE...), as Redis then reports "raw". */
  isRaw (e: number): boolean { return (this.arena.u32[(e + 4) >>> 2] & (RAW_FLAG | NO_INT_FLAG)) === RAW_FLAG }
  /** Raw wins over noInt (and over a copy's flag): the value is text edited in place from now on. */
  setRaw (e: number, isRaw: boolean): void {
    const u32 = this.arena.u32
    const i = (e + 4) >>> 2
    u32[i] = ((u32[i] & ~(RAW_FLAG | NO_INT_FLAG)) | (isRaw ? RAW_FLAG : 0)) >>> 0
  }

  /**
   * An int-encoded string that COPY made: Redis's dupStringObject gives it an object of its own,
   * where SET and INCR share OBJ_SHARED_INTEGERS' (OBJECT REFCOUNT 1, not INT_MAX). Both flags
   * at once, a pair no other string has; the next write of the value clears them (setType).
   */
  isUnshared (e: number): boolean { return (this.arena.u32[(e + 4) >>> 2] & (RAW_FLAG | NO_INT_FLAG)) === (RAW_FLAG | NO_INT_FLAG) }
  setUnshared (e: number): void { this.setEncFlags(e, RAW_FLAG | NO_INT_FLAG) }

  /** Deletes an entry; keepValue leaves a list's elements alone (they were handed to another entry). */
  remove (e: number, keepValue = false): void {
    if (writes.beforeRemove !== null) writes.beforeRemove(this, e)
    writes.count++
    if (writes.onRemove !== null) writes.onRemove(this, e)
    if (writes.onTrack !== null) writes.onTrack(this, e)
    this.unlink(e)
    const a = this.arena
    // A value replaced under the same key keeps its access clock (dbSetValue keeps the LFU counter).
    replacedClock = writes.isReplacing ? a.u32[(e + 24) >>> 2] : -1
    if (!keepValue) TYPES[a.u32[(e + 4) >>> 2] & 7].free(this, e)
    if (a.f64[(e + 16) >>> 3] !== 0) this.expires--
    a.free(e, ENTRY_HEADER_BYTES + a.u32[(e + 8) >>> 2] + a.u32[(e + 12) >>> 2])
    this.count--
  }

  /** Drops every key: a fresh arena and table (FLUSHDB). */
  clear (): Keyspace {
    return new Keyspace()
  }

  // --- expiry ------------------------------------------------------------------------------------
  /**
   * Active expiry, Redis's activeExpireCycle in spirit: walk buckets from a cursor and delete
   * expired entries, stopping after `maxBuckets` buckets. Returns the number deleted.
   */
  expireSweep (now: number, maxBuckets: number, remove: (ks: Keyspace, e: number) => void = (ks, e) => { ks.remove(e) }): number {
    this.expireSampled = 0
    if (this.expires === 0) return 0
    const t = this.t0
    let deleted = 0
    for (let n = 0; n < maxBuckets && this.expires > 0; n++) {
      const b = this.expireCursor & (t.length - 1)
      this.expireCursor = (this.expireCursor + 1) & (t.length - 1)
      deleted += this.sweepChain(t, b, now, remove)
      if (this.rehashIdx >= 0 && this.t1 !== null) {
        // Entries already moved from t0[b] live in t1[b] and t1[b + t0.length] (t1 is twice as big).
        deleted += this.sweepChain(this.t1, b, now, remove) + this.sweepChain(this.t1, b + t.length, now, remove)
      }
    }
    return deleted
  }

  /** Keys with a TTL the last expireSweep visited (Redis's expire cycle "sampled"). */
  expireSampled = 0

  /** Deletes the expired entries of one bucket chain (Redis: expired when now > expireAt). */
  private sweepChain (t: Uint32Array, b: number, now: number, remove: (ks: Keyspace, e: number) => void): number {
    const a = this.arena
    let deleted = 0
    let e = t[b]
    while (e !== 0) {
      const next = a.u32[e >>> 2]
      const at = a.f64[(e + 16) >>> 3]
      if (at !== 0) this.expireSampled++
      if (at !== 0 && at < now) {
        if (writes.onExpire !== null) writes.onExpire(this, e)
        if (aofHook.onDelete !== null) aofHook.onDelete(this, e)
        remove(this, e)
        deleted++
      }
      e = next
    }
    return deleted
  }

  /** Background share of incremental rehashing (called from the shard's idle tick). */
  rehashIdle (steps: number): void {
    if (this.rehashIdx >= 0) this.rehashStep(steps)
  }

  /**
   * One step of Redis's dictScan: appends to `found` every entry of the bucket the cursor names
   * (while rehashing: that bucket of the smaller table and all its expansions in the bigger one)
   * and returns the next cursor, 0 when the walk is over. The cursor counts in reverse binary,
   * so a key present for the whole walk is returned at least once however much the table grows
   * between steps (it may be returned twice). Nothing is modified: no rehash step runs here.
   */
  scanStep (cursor: number, found: number[]): number {
    const u32 = this.arena.u32
    let v = cursor >>> 0
    if (this.t1 === null) {
      const t = this.t0
      const m0 = t.length - 1
      for (let e = t[v & m0]; e !== 0; e = u32[e >>> 2]) found.push(e)
      // Set the bits above the mask so that the reversed increment carries through them.
      return rev32((rev32((v | ~m0) >>> 0) + 1) >>> 0)
    }
    let small = this.t0
    let big = this.t1
    if (small.length > big.length) { const t = small; small = big; big = t }
    const m0 = small.length - 1
    const m1 = big.length - 1
    for (let e = small[v & m0]; e !== 0; e = u32[e >>> 2]) found.push(e)
    // Then every bucket of the bigger table that the small bucket expands to.
    do {
      for (let e = big[v & m1]; e !== 0; e = u32[e >>> 2]) found.push(e)
      v = rev32((rev32((v | ~m1) >>> 0) + 1) >>> 0)
    } while ((v & (m0 ^ m1)) !== 0)
    return v
  }

  /**
   * A random entry, or 0 when empty (dictGetRandomKey: a random non-empty bucket, then a random
   * link of its chain). The table never shrinks, so after many deletes most buckets may be
   * empty: after a bounded number of probes we walk from a random bucket to the next entry.
   */
  randomEntry (): number {
    if (this.count === 0) return 0
    const t0 = this.t0
    const t1 = this.t1
    const n0 = t0.length
    const total = n0 + (t1 === null ? 0 : t1.length)
    let head = 0
    for (let tries = 0; tries < RANDOM_PROBES && head === 0; tries++) {
      const i = Math.floor(Math.random() * total)
      head = i < n0 ? t0[i] : (t1 as Uint32Array)[i - n0]
    }
    for (let i = Math.floor(Math.random() * total), n = 0; head === 0 && n < total; n++, i = i + 1 === total ? 0 : i + 1) {
      head = i < n0 ? t0[i] : (t1 as Uint32Array)[i - n0]
    }
    const u32 = this.arena.u32
    let len = 0
    for (let e = head; e !== 0; e = u32[e >>> 2]) len++
    let e = head
    for (let k = Math.floor(Math.random() * len); k > 0; k--) e = u32[e >>> 2]
    return e
  }

  /**
   * Whether offset e is a live entry of this keyspace (for an eviction candidate kept since an
   * earlier command: its block may have been freed or reused since). Only a linked entry is found
   * at its own offset.
   */
  isLive (e: number): boolean {
    const a = this.arena
    if (e < 8 || (e & 7) !== 0 || e + ENTRY_HEADER_BYTES > a.top) return false
    const len = a.u32[(e + 8) >>> 2]
    if (len > a.top - e - ENTRY_HEADER_BYTES) return false
    return this.find(a.u8, e + ENTRY_HEADER_BYTES, len, a.u32[(e + 4) >>> 2]) === e
  }

  /**
   * Up to `count` entries for eviction (dictGetSomeKeys): the chains of consecutive buckets from
   * a random one, both tables as one range. volatileOnly keeps entries with a TTL; it walks on
   * until it has found some or seen every bucket, since keys with a TTL may be few.
   */
  sample (count: number, volatileOnly: boolean, out: number[]): void {
    if (this.count === 0) return
    const t0 = this.t0
    const t1 = this.t1
    const n0 = t0.length
    const total = n0 + (t1 === null ? 0 : t1.length)
    const u32 = this.arena.u32
    const f64 = this.arena.f64
    let found = 0
    // Redis visits at most count * 10 buckets, empty ones included.
    let budget = volatileOnly ? total : Math.max(count * 10, 64)
    for (let i = Math.floor(Math.random() * total); budget > 0 && found < count; budget--, i = i + 1 === total ? 0 : i + 1) {
      for (let e = i < n0 ? t0[i] : (t1 as Uint32Array)[i - n0]; e !== 0 && found < count; e = u32[e >>> 2]) {
        if (volatileOnly && f64[(e + 16) >>> 3] === 0) continue
        out.push(e)
        found++
      }
      if (budget === 1 && found === 0 && !volatileOnly) budget = total
    }
  }

  /** Buckets of the bigger table (BGSAVE sizes its walk by it). */
  get buckets (): number { return this.t1 === null ? this.t0.length : Math.max(this.t0.length, this.t1.length) }

  /**
   * Calls fn for every entry whose bucket bits under `mask` (a power of two less one) are `slot`,
   * in both tables: the unit a BGSAVE snapshot walks (persistence/snapshot.ts). Tables only
   * grow, so the same entries stay under the same slot however the index rehashes meanwhile.
   * fn must not insert or remove.
   */
  forSlot (slot: number, mask: number, fn: (e: number) => void): void {
    const u32 = this.arena.u32
    for (let i = 0; i < 2; i++) {
      const t = i === 0 ? this.t0 : this.t1
      if (t === null) continue
      const m = t.length - 1
      const step = m >= mask ? mask + 1 : t.length
      for (let b = slot & m; b < t.length; b += step) {
        for (let e = t[b]; e !== 0; e = u32[e >>> 2]) if (((u32[(e + 4) >>> 2] >>> 5) & mask) === slot) fn(e)
      }
    }
  }

  /** Calls fn for every entry (t0 then t1). fn must not insert or remove. */
  forEach (fn: (e: number) => void): void {
    const a = this.arena
    for (const t of this.t1 === null ? [this.t0] : [this.t0, this.t1]) {
      for (let b = 0; b < t.length; b++) {
        for (let e = t[b]; e !== 0; e = a.u32[e >>> 2]) fn(e)
      }
    }
  }

  /**
   * Compacts the arena in place: every block in use, entries and their values' own blocks alike
   * (list elements, hash tables and nodes, zset chunks, stream chunks and groups...), slides down
   * over the free blocks before it, in address order, and the top comes down to the bytes in use,
   * with no free block left. Unlike a copy (Shard.compactDb) it takes no second buffer, so it
   * cannot double the arena's memory for a moment; the pages above the new top stay resident and
   * take the next writes (Arena.shrink gives them back). Every offset the database holds is
   * rewritten first, where it is: the hash chains and buckets here, and each value's own through
   * its type's relocate; then the runs of blocks move (Arena.applySlide). Returns the bytes the
   * top came down by. Entry offsets held elsewhere are stale after it (as after a copy).
   */
  slide (): number {
    const a = this.arena
    const plan = a.planSlide()
    if (plan === null) return 0
    const u32 = a.u32
    for (const t of this.t1 === null ? [this.t0] : [this.t0, this.t1]) {
      for (let b = 0; b < t.length; b++) {
        let e = t[b]
        if (e === 0) continue
        t[b] = plan.to(e)
        while (e !== 0) {
          // Read the link before it is rewritten: the walk goes on through the old offsets.
          const next = u32[e >>> 2]
          if (next !== 0) u32[e >>> 2] = plan.to(next)
          const type = u32[(e + 4) >>> 2] & 7
          if (type !== TYPE_STRING) TYPES[type].relocate(this, e, plan)
          e = next
        }
      }
    }
    return a.applySlide(plan)
  }

  // --- internals ---------------------------------------------------------------------------------
  private findIn (t: Uint32Array, buf: Uint8Array, start: number, len: number, hash: number): number {
    const a = this.arena
    const u32 = a.u32
    const u8 = a.u8
    const h = (hash & ~31) >>> 0
    let e = t[(hash >>> 5) & (t.length - 1)]
    while (e !== 0) {
      if (((u32[(e + 4) >>> 2] & ~31) >>> 0) === h && u32[(e + 8) >>> 2] === len) {
        const k = e + ENTRY_HEADER_BYTES
        let i = 0
        while (i < len && u8[k + i] === buf[start + i]) i++
        if (i === len) return e
      }
      e = u32[e >>> 2]
    }
    return 0
  }

  /** New entries go to t1 while rehashing, so t0 only ever shrinks. */
  private link (e: number, hashType: number): void {
    const t = this.t1 !== null ? this.t1 : this.t0
    const b = (hashType >>> 5) & (t.length - 1)
    this.arena.u32[e >>> 2] = t[b]
    t[b] = e
  }

  private unlink (e: number): void {
    const u32 = this.arena.u32
    const hashType = u32[(e + 4) >>> 2]
    if (unlinkFrom(this.t0, u32, e, hashType)) return
    if (this.t1 !== null) unlinkFrom(this.t1, u32, e, hashType)
  }

  /** The chain link (a bucket or the previous entry's next) that names entry e now names n. */
  private repoint (hashType: number, e: number, n: number): void {
    const u32 = this.arena.u32
    for (const t of this.t1 === null ? [this.t0] : [this.t0, this.t1]) {
      const b = (hashType >>> 5) & (t.length - 1)
      if (t[b] === e) { t[b] = n; return }
      for (let p = t[b]; p !== 0; p = u32[p >>> 2]) {
        if (u32[p >>> 2] === e) { u32[p >>> 2] = n; return }
      }
    }
  }

  private startRehash (buckets: number): void {
    this.t1 = newTable(buckets)
    this.rehashIdx = 0
    // A new buffer holds keys from now on: its owner must hear of it before it is used.
    if (layoutHook.onChange !== null) layoutHook.onChange()
  }

  private rehashStep (steps: number): void {
    const t0 = this.t0
    const t1 = this.t1 as Uint32Array
    const u32 = this.arena.u32
    const mask1 = t1.length - 1
    // Like dictRehash: visit at most steps*10 empty buckets per call.
    let emptyVisits = steps * 10
    while (steps > 0 && this.rehashIdx < t0.length) {
      let e = t0[this.rehashIdx]
      if (e === 0) {
        this.rehashIdx++
        if (--emptyVisits === 0) break
        continue
      }
      while (e !== 0) {
        const next = u32[e >>> 2]
        const b = (u32[(e + 4) >>> 2] >>> 5) & mask1
        u32[e >>> 2] = t1[b]
        t1[b] = e
        e = next
      }
      t0[this.rehashIdx++] = 0
      steps--
    }
    if (this.rehashIdx >= t0.length) {
      this.t0 = t1
      this.t1 = null
      this.rehashIdx = -1
      this.expireCursor = 0
    }
  }
}

/** Reverses the 32 bits of v (the dictScan cursor counts with its bits reversed). */
export function rev32 (v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1)
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2)
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4)
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8)
  return ((v >>> 16) | (v << 16)) >>> 0
}

function newTable (buckets: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(buckets * 4))
}

function unlinkFrom (t: Uint32Array, u32: Uint32Array, e: number, hashType: number): boolean {
  const b = (hashType >>> 5) & (t.length - 1)
  let p = t[b]
  if (p === e) { t[b] = u32[e >>> 2]; return true }
  while (p !== 0) {
    const next = u32[p >>> 2]
    if (next === e) { u32[p >>> 2] = u32[e >>> 2]; return true }
    p = next
  }
  return false
}
