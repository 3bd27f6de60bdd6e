// Shard = its databases (Keyspace: index + arena) + expiry + the counters INFO reports. It is
// what command handlers run against; it knows nothing of threads or sockets, so unit tests drive
// it in-process. Lazy expiry follows Redis's expireIfNeeded: a key past its time is deleted on
// access and reported missing. Each database has its own arena, so MOVE and COPY ... DB copy a
// value across (copyEntry) and SWAPDB swaps whole Keyspaces (swapDbs).

import { Buffer } from 'node:buffer'
import { Keyspace } from './keyspace.js'
import { keyHash } from './hash.js'
import { aofHook } from './aof-hook.js'
import { WatchTable } from './watch.js'
import type { TrackingTable } from './tracking.js'
import { PubSubHub } from './pubsub-hub.js'
import { NOTIFY_KEYSPACE, NOTIFY_KEYEVENT, NOTIFY_EXPIRED, NOTIFY_EVICTED, NOTIFY_NEW, eventName } from './notify.js'
import { touchedClock, performEvictions, accessNow, forgetEvictionPool, evictionSettings, type EvictionHost } from './eviction.js'
import { BACKGROUND_WORD, EXPIRE_EFFORT_WORD, LAZY_EXPIRE, LAZY_SERVER_DEL, REHASH_OFF } from '../ipc/layout.js'
import { writes, saveWrites, restoreWrites } from './writes.js'
import { TYPES } from './types.js'
import type { StreamId } from './stream-type.js'
import { elementCount, lazyItem, freeSome, LAZYFREE_THRESHOLD, type LazyItem } from './lazyfree.js'
import { DbCopy } from './db-copy.js'
import { performance } from 'node:perf_hooks'
import { saveWords, W_AOF_LOADING } from '../persistence/save-state.js'

const EV_EXPIRED = eventName('expired')
const EV_NEW = eventName('new')
const EV_EVICTED = eventName('evicted')

export const DATABASES = 16
/** Free arena bytes from which a database is compacted when more than half of its arena is free. */
const COMPACT_MIN_FREE = 128 * 1024
/** Live bytes above which that compaction is not done: its copy would hold this much twice. */
const COMPACT_MAX_LIVE = 512 * 1024 * 1024
/**
 * Copies in a row dropped before their end (a cross-shard transaction or a BGSAVE came first)
 * after which the next compaction copies at once, as one step: a stream of such interruptions
 * must not keep an arena fragmented for ever.
 */
const COPY_MAX_DROPS = 3

export const BLOCK_POP = 0 // BLPOP, BRPOP: [key, element]
export const BLOCK_MPOP = 1 // BLMPOP: [key, [elements]]
export const BLOCK_MOVE = 2 // BLMOVE, BRPOPLPUSH: the element, pushed to dst
export const BLOCK_NOTIFY = 3 // __bwait: +READY once a key is a list (a wait across shards, server/blocking.ts)
export const BLOCK_ZPOP = 4 // BZPOPMIN, BZPOPMAX: [key, member, score]
export const BLOCK_ZMPOP = 5 // BZMPOP: [key, [[member, score]...]]
export const BLOCK_XREAD = 6 // XREAD, XREADGROUP BLOCK: {key: entries} once a key's stream has entries past the client's id

/** What a client blocked in XREAD or XREADGROUP waits for (BlockSpec.stream). */
export interface StreamWait {
  /** Per key (BlockSpec.keys' order): entries after this id (XREAD; XREADGROUP uses its group's). */
  ids: StreamId[]
  group: Buffer | null
  consumer: Buffer | null
  isNoAck: boolean
  /** COUNT, or XREAD_BLOCKED_DEFAULT_COUNT (1000). */
  count: number
}

/** What a blocked list command waits for, and what to run once one of its keys has elements. */
export interface BlockSpec {
  kind: number
  /** The keys it waits on are sorted sets (BZPOPMIN...), not lists. */
  isZset: boolean
  /** HEAD or TAIL: where to pop (for sorted sets 0 = min, 1 = max); whereTo: where BLMOVE pushes. */
  where: number
  whereTo: number
  /** BLMPOP's COUNT. */
  count: number
  keys: Buffer[]
  dst: Buffer | null
  /** Unix ms, 0 = forever. */
  deadline: number
  /** XREAD and XREADGROUP: what they wait for (with BLOCK_XREAD, or BLOCK_NOTIFY across shards). */
  stream?: StreamWait
  /**
   * A wait across shards (server/blocking.ts): its id in the slot's claim word; the shard that
   * serves it must first swap the id for 0. 0: an ordinary waiter of this shard.
   */
  waitId: number
}

export class Shard implements EvictionHost {
  readonly index: number
  /** How many shards the server runs: SCAN's global cursor is shardCursor * shards + index. */
  readonly shards: number
  readonly dbs: (Keyspace | null)[]
  /** The database of the command being run (set by the worker from the request record). */
  ks: Keyspace
  dbIndex = 0
  /** Hash of the key last passed to lookup(): lets an insert after a miss skip rehashing. */
  lastHash = 0
  expiredKeys = 0
  /**
   * The active sweep, as Redis's activeExpireCycle reports it: a running average (5% per sweep)
   * of the share of keys with a TTL it visited that had expired (expired_stale_perc), and the
   * milliseconds spent in it (expire_cycle_cpu_milliseconds).
   */
  expireStale = 0
  expireCycleMs = 0
  /** Keys deleted by eviction (INFO's evicted_keys). */
  evictedKeys = 0
  /** The compaction in progress (storage/db-copy.ts), or null. */
  copying: DbCopy | null = null
  /** Copies dropped in a row before their end (COPY_MAX_DROPS). */
  private copyDrops = 0
  /**
   * INFO's active_defrag_* (a copy is Redis's active defrag in effect): keys copied, and
   * milliseconds of finished copies from start to adoption.
   */
  defragKeys = 0
  defragMs = 0
  private readonly onCopyRemove = (ks: Keyspace, e: number): void => {
    const c = this.copying
    if (c !== null && ks === c.ks) c.removing(e)
  }
  /** Lookups leave the access clock alone while set (Redis's LOOKUP_NOTOUCH). */
  private isNoTouch = false
  /** Redis's dirty: changes by the commands run here, as Redis counts them (persistence/dirty.ts). */
  dirty = 0
  /** `dirty` when this shard was last saved (INFO's rdb_changes_since_last_save is the difference). */
  dirtyAtSave = 0
  /** Keys this shard loaded from the RDB file at start, and those skipped as expired. */
  loadedKeys = 0
  loadExpired = 0
  hits = 0
  misses = 0
  /** WATCHed keys of this shard (storage/watch.ts); the worker gives it the shared words. */
  readonly watch = new WatchTable()
  /** Client slot of the command being run (0: none), for WATCH. */
  slot = 0
  /** Claim words per client slot (server/credits.ts claimWords), for waits across shards. */
  claims: Int32Array = new Int32Array(1 << 16)
  /** Blocking commands may not block now (inside EXEC): they answer as if timed out. */
  noBlock = false
  /** Scripts run inside this worker (one shard: scripting/in-shard.ts), and the redis.call commands they ran (INFO). */
  scriptRuns = 0
  scriptCalls = 0
  /** Scripts whose run in this worker stopped (several shards: it needed another shard, or a big value it could not keep) and ran held. */
  scriptStops = 0
  /**
   * Waits for room in a full reply ring, and those that ended by their 50 ms timeout instead of
   * the primary's release (INFO's reply_ring_full_*): with the primary draining, a timeout means
   * a lost wake-up (tested in reply-ring.test.ts).
   */
  ringFullWaits = 0
  ringFullTimeouts = 0
  /** Set by a blocking command that found nothing to serve: the worker blocks its client. */
  pendingBlock: BlockSpec | null = null
  /** CLIENT TRACKING's table (storage/tracking.ts), set by the worker. */
  tracking: TrackingTable | null = null
  /** Pub/sub subscriptions, when this shard is the hub (storage/pubsub-hub.ts). */
  hub = new PubSubHub(1)
  /** The producer of the request being run (its index), for the hub's counts. */
  producer = 0
  /** Set by PUBLISH (and published keyspace events): messages for the worker to send, each to the producers marked in `to`. */
  pushes: Array<{ payload: Buffer, to: Uint8Array }> = []
  /** Producers this shard serves (the hub sizes its marks by it). */
  producers = 1
  /** notify-keyspace-events (storage/notify.ts), a word the primary shares; 0 = off. */
  notifyFlags: Int32Array = new Int32Array(1)
  /**
   * Keyspace events of the command being run, each | u32 db | u32 event length | event | key |,
   * sent to the hub by the worker after the command.
   */
  events: Buffer[] = []

  /** Keeps the storage hooks for "expired" and "new" events set while notifications are on. */
  syncNotifyHooks (): void {
    const f = this.notifyFlags[0]
    const on = (f & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)) !== 0
    writes.onExpire = on && (f & NOTIFY_EXPIRED) !== 0 ? this.onExpired : null
    writes.onNew = on && (f & NOTIFY_NEW) !== 0 ? this.onNewKey : null
  }

  private readonly onExpired = (ks: Keyspace, e: number): void => {
    this.notify(NOTIFY_EXPIRED, EV_EXPIRED, ks.arena.u8, ks.keyOffset(e), ks.keyLen(e), this.dbs.indexOf(ks))
  }

  private readonly onNewKey = (ks: Keyspace, e: number): void => {
    this.notify(NOTIFY_NEW, EV_NEW, ks.arena.u8, ks.keyOffset(e), ks.keyLen(e), this.dbs.indexOf(ks))
  }

  /**
   * Redis's notifyKeyspaceEvent(type, event, key, db): records the event if its class is on
   * (one shared-word read otherwise). `db` defaults to the command's database.
   */
  notify (type: number, event: Buffer, buf: Uint8Array, start: number, len: number, db = this.dbIndex): void {
    const f = this.notifyFlags[0]
    if ((f & type) === 0 || (f & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)) === 0) return
    const b = Buffer.allocUnsafe(8 + event.length + len)
    b.writeUInt32LE(db, 0)
    b.writeUInt32LE(event.length, 4)
    event.copy(b, 8)
    b.set(buf.subarray(start, start + len), 8 + event.length)
    this.events.push(b)
  }
  /**
   * Big collections UNLINK detached from the index, freed a budget at a time (storage/lazyfree.ts).
   * Only the shard's own thread frees in the background (isLazyFree, set by the worker): a
   * transaction's thread frees at once.
   */
  readonly lazyQueue: LazyItem[] = []
  isLazyFree = false

  /** Deletes entry e (of the current database unless `ks` says), its value in the background when it is big. */
  removeLazily (e: number, ks: Keyspace = this.ks): void {
    if (!this.isLazyFree || elementCount(ks, e) <= LAZYFREE_THRESHOLD) { ks.remove(e); return }
    const it = lazyItem(ks, e)
    ks.remove(e, true)
    this.lazyQueue.push(it)
  }

  /** A key a command replaces or drops by itself (a STORE's old destination, RENAME's...): lazyfree-lazy-server-del. */
  removeOverwritten (ks: Keyspace, e: number): void {
    if ((evictionSettings.flags[BACKGROUND_WORD] & LAZY_SERVER_DEL) !== 0) this.removeLazily(e, ks)
    else ks.remove(e)
  }

  /** An expired key, found by the sweep or by a lookup: lazyfree-lazy-expire. */
  readonly removeExpired = (ks: Keyspace, e: number): void => {
    if ((evictionSettings.flags[BACKGROUND_WORD] & LAZY_EXPIRE) !== 0) this.removeLazily(e, ks)
    else ks.remove(e)
  }

  /** Values the background freeing finished (INFO's lazyfreed_objects; CONFIG RESETSTAT zeroes it). */
  lazyFreed = 0

  /** Frees up to about `budget` blocks of unlinked values; true while more is left. */
  lazyFreeStep (budget: number): boolean {
    const q = this.lazyQueue
    // One item per step: a finished item lets the next one start on the next step.
    if (q.length > 0 && freeSome(q[0], budget)) { q.shift(); this.lazyFreed++ }
    return q.length > 0
  }

  /** Overridable clock, for tests with a fake time. */
  clock: () => number = Date.now

  /** The shared save-state words: W_AOF_LOADING holds expiry while the AOF replays. */
  private readonly saveI32 = saveWords().i32

  /** While the AOF replays nothing expires (save-state.ts W_AOF_LOADING), as in Redis's load. */
  get isExpiryHeld (): boolean { return this.saveI32[W_AOF_LOADING] !== 0 }

  /**
   * Redis's checkAlreadyExpired: a write's expire time `when` not after `now` deletes its key,
   * except while the AOF replays (the key gets the TTL and expires after, as in Redis's load).
   */
  isAlreadyExpired (when: number, now: number): boolean { return when <= now && !this.isExpiryHeld }

  /** `dbs`: databases lent by the shard's own thread (server/engine.ts); db 0 is always there. */
  constructor (index = 0, shards = 1, dbs: Array<Keyspace | null> | null = null) {
    this.index = index
    this.shards = shards
    this.dbs = dbs ?? new Array<Keyspace | null>(DATABASES).fill(null)
    this.ks = this.db(0)
    this.watch.dbOf = ks => this.dbs.indexOf(ks)
  }

  db (i: number): Keyspace {
    let ks = this.dbs[i]
    if (ks === null) { ks = new Keyspace(); this.dbs[i] = ks }
    return ks
  }

  select (i: number): void {
    if (i !== this.dbIndex || this.ks !== this.dbs[i]) { this.ks = this.db(i); this.dbIndex = i }
  }

  now (): number { return this.clock() }

  /** Entry for key, or 0; deletes it first when it has expired. No hit/miss accounting. */
  lookup (buf: Uint8Array, start: number, len: number): number {
    return this.lookupIn(this.ks, buf, start, len)
  }

  /** lookup() in another database (MOVE, COPY ... DB): same lazy expiry, sets lastHash. */
  lookupIn (ks: Keyspace, buf: Uint8Array, start: number, len: number): number {
    const h = this.lastHash = keyHash(buf, start, len)
    const e = ks.find(buf, start, len, h)
    if (e === 0) return 0
    const at = ks.expireAt(e)
    // Redis's keyIsExpired: a key is gone once now > expireAt (at expireAt it still exists).
    if (at !== 0 && at < this.clock() && !this.isExpiryHeld) {
      if (writes.onExpire !== null) writes.onExpire(ks, e)
      if (aofHook.onDelete !== null) aofHook.onDelete(ks, e)
      this.removeExpired(ks, e)
      this.expiredKeys++
      return 0
    }
    if (!this.isNoTouch) {
      // lookupKey's touch; most accesses within a second leave an LRU clock as it was.
      const c = ks.clock(e)
      const t = touchedClock(c, accessNow())
      if (t !== c) ks.setClock(e, t)
    }
    return e
  }

  /** lookupRead() that leaves the access clock alone (TYPE, EXISTS, TTL, OBJECT: LOOKUP_NOTOUCH). */
  lookupNoTouch (buf: Uint8Array, start: number, len: number): number {
    this.isNoTouch = true
    try {
      return this.lookupRead(buf, start, len)
    } finally {
      this.isNoTouch = false
    }
  }

  /**
   * Evicts keys by maxmemory-policy until this shard uses at most `limit` bytes (its share of
   * maxmemory) and a write of `need` bytes fits without growing past it; false when the policy
   * finds nothing more to evict (storage/eviction.ts).
   */
  evictTo (limit: number, need = 0): boolean {
    return performEvictions(this, limit, this.clock(), need)
  }

  /**
   * Since when (performance.now()) an eviction pass left this shard over its share of maxmemory
   * (0: it is not), and the milliseconds of the spells that ended (INFO's *_eviction_exceeded_time).
   */
  exceededSince = 0
  exceededMs = 0

  overLimit (isOver: boolean): void {
    if (isOver) {
      if (this.exceededSince === 0) this.exceededSince = performance.now()
    } else if (this.exceededSince !== 0) {
      this.exceededMs += performance.now() - this.exceededSince
      this.exceededSince = 0
    }
  }

  /** The current spell over maxmemory, in ms (0 when none). */
  get exceededNowMs (): number { return this.exceededSince === 0 ? 0 : performance.now() - this.exceededSince }

  /** deleteEvictedKeyAndPropagate: the write hooks see a deletion, then the "evicted" event. */
  evict (db: number, e: number): void {
    const ks = this.dbs[db] as Keyspace
    // The key's bytes go with the entry: the event is recorded first (notify copies them).
    this.notify(NOTIFY_EVICTED, EV_EVICTED, ks.arena.u8, ks.keyOffset(e), ks.keyLen(e), db)
    if (aofHook.onDelete !== null) aofHook.onDelete(ks, e)
    ks.remove(e)
    this.evictedKeys++
  }

  /** lookup() for reads: counts keyspace hits and misses as Redis's lookupKeyRead does. */
  lookupRead (buf: Uint8Array, start: number, len: number): number {
    const e = this.lookup(buf, start, len)
    if (e === 0) this.misses++
    else this.hits++
    return e
  }

  /** Active expiry for every database: a bounded sweep (called on the worker's idle tick). */
  activeExpire (maxBucketsPerDb: number): number {
    if (this.isExpiryHeld) return 0
    const t0 = performance.now()
    const now = this.clock()
    const flags = evictionSettings.flags
    // active-expire-effort: Redis samples 20 keys per loop at 1, and 5 more per step above it.
    const buckets = Math.floor(maxBucketsPerDb * (1 + flags[EXPIRE_EFFORT_WORD] / 4))
    const isRehashing = (flags[BACKGROUND_WORD] & REHASH_OFF) === 0
    let deleted = 0
    let sampled = 0
    for (const ks of this.dbs) {
      if (ks === null) continue
      deleted += ks.expireSweep(now, buckets, this.removeExpired)
      sampled += ks.expireSampled
      // activerehashing: the idle share of incremental rehashing (the rest comes with writes).
      if (isRehashing) ks.rehashIdle(64)
    }
    this.expiredKeys += deleted
    this.expireStale = (sampled === 0 ? 0 : deleted / sampled) * 0.05 + this.expireStale * 0.95
    this.expireCycleMs += performance.now() - t0
    return deleted
  }

  /**
   * Deletes e when it has expired (Redis's expireIfNeeded on a key already found); true if it
   * did. Handlers that walk entries (SCAN, RANDOMKEY) use it; lookup() does it by itself.
   */
  expireIfNeeded (ks: Keyspace, e: number): boolean {
    const at = ks.expireAt(e)
    if (at === 0 || at >= this.clock() || this.isExpiryHeld) return false
    if (aofHook.onDelete !== null) aofHook.onDelete(ks, e)
    this.removeExpired(ks, e)
    this.expiredKeys++
    return true
  }

  /**
   * Copies entry e of `src` under a new key into `dst` (which may be src itself): same type,
   * encoding flag and value, no TTL. Databases have separate arenas, so a list's elements are
   * copied one by one. The key must be absent from dst; hash is its keyHash. Returns the new
   * entry, or 0 when dst's arena is full (nothing is left behind then).
   */
  copyEntry (src: Keyspace, e: number, dst: Keyspace, kbuf: Uint8Array, kStart: number, kLen: number, hash: number): number {
    const type = src.type(e)
    const ops = TYPES[type]
    const n = dst.insert(kbuf, kStart, kLen, hash, type, ops.copyBytes(src, e))
    if (n === 0) return 0
    dst.setEncFlags(n, src.encFlags(e))
    if (!ops.copyValue(src, e, dst, n)) {
      dst.remove(n)
      return 0
    }
    return n
  }

  /** SWAPDB on this shard's slice of the two databases (dbSwapDatabases). */
  swapDbs (i: number, j: number): void {
    writes.count++
    if (this.watch.watches(i)) this.watch.replaced(i, this.dbs[i], this.dbs[j], this.clock())
    if (this.watch.watches(j)) this.watch.replaced(j, this.dbs[j], this.dbs[i], this.clock())
    const t = this.dbs[i]
    this.dbs[i] = this.dbs[j]
    this.dbs[j] = t
    this.ks = this.db(this.dbIndex)
    if (writes.onSwap !== null) writes.onSwap(i, j)
  }

  flushDb (i: number): void {
    if (this.dbs[i] === null) return
    if (this.copying !== null && this.copying.ks === this.dbs[i]) this.dropCopy(false)
    writes.count++
    if (this.watch.watches(i)) this.watch.replaced(i, this.dbs[i], null, this.clock())
    const old = this.dbs[i] as Keyspace
    this.droppedBytes += old.arena.bufferBytes + old.tableBytes
    this.dbs[i] = new Keyspace()
    if (this.dbIndex === i) this.ks = this.dbs[i] as Keyspace
  }

  /** Buffer bytes of databases flushed or compacted since the worker last collected them (storage/release.ts). */
  droppedBytes = 0

  /**
   * Compacts the databases whose arenas hold too many free bytes (Arena: the top cannot come down
   * past a block in use, and a SharedArrayBuffer cannot shrink; under maxmemory in place,
   * Keyspace.slide, then maybe into a smaller buffer, shrinkIfRoom): over its share of maxmemory
   * (`share`, 0 = none) by more than 1/256 of it when its free bytes cover the excess (eviction
   * could not find a free block big enough for a write within its budget), and under any maxmemory once
   * more than half of an arena is free (at least 128 KiB of it, with at most 512 MiB live, which
   * the copy holds twice for a while). Without maxmemory that copy is made a step at a time
   * between batches (startCopy, copyStep; storage/db-copy.ts), one database at a time; after
   * COPY_MAX_DROPS copies dropped in a row, in one go (compactDb). An arena whose top came down
   * far below the pages its buffer wrote moves to a buffer of its size (shrinkIfRoom). The caller
   * makes sure no other thread or walk holds the databases (a transaction's lend, a BGSAVE walk,
   * values UNLINK left to free). True if it did or began anything.
   */
  compactIfFragmented (share: number): boolean {
    if (this.copying !== null) return false
    let did = false
    for (let i = 0; i < DATABASES; i++) {
      const ks = this.dbs[i]
      if (ks === null) continue
      const a = ks.arena
      const free = a.committed - a.used
      // Over the share by more than a trifle, and the copy would bring it back within.
      const over = share > 0 && free > share / 256 ? this.committedMemory() - share : 0
      const isOver = over > share / 256 && free >= over
      // Copying no more than what was deleted since the last compaction: O(1) per deleted byte.
      const isHalfFree = free >= COMPACT_MIN_FREE && free >= a.used && a.used <= COMPACT_MAX_LIVE
      if (!isOver && !isHalfFree) {
        // Nothing worth compacting, but the top may have come down by itself (the last blocks
        // freed) far below the pages the buffer has written.
        if (this.shrinkIfRoom(ks, share)) did = true
        continue
      }
      did = true
      // Under maxmemory the arena slides in place: a copy would hold the old buffer and the new
      // one at once (RSS up to twice the share for a moment), while a slide reuses the pages the
      // arena has and leaves no free block. Then, when little is left, a fresh buffer of its size
      // gives the rest of the pages back.
      if (share > 0) {
        ks.slide()
        forgetEvictionPool()
        this.shrinkIfRoom(ks, share)
        continue
      }
      // One database at a time, a step at a time between batches (storage/db-copy.ts).
      if (this.copyDrops < COPY_MAX_DROPS) {
        this.startCopy(i)
        return true
      }
      this.copyDrops = 0
      this.compactDb(i)
    }
    return did
  }

  private readonly copyEntryFn = (src: Keyspace, e: number, dst: Keyspace, kbuf: Uint8Array, kStart: number, kLen: number, hash: number): number =>
    this.copyEntry(src, e, dst, kbuf, kStart, kLen, hash)

  /** Starts copying database i into a fresh arena (copyStep moves it on). */
  private startCopy (i: number): void {
    this.copying = new DbCopy(this.dbs[i] as Keyspace, this.copyEntryFn, performance.now())
    writes.beforeRemove = this.onCopyRemove
  }

  /** The index of the database being copied, -1 if none (a transaction's lend reports its keys: server/engine.ts). */
  copyDbIndex (): number {
    return this.copying === null ? -1 : this.dbs.indexOf(this.copying.ks)
  }

  /**
   * What a lend's steps did to the database being copied (Returned.copyWritten/copyRead/isCopyVoid):
   * its keys synced as the shard's own commands' are, or the copy dropped.
   */
  touchCopyLent (written: readonly Uint8Array[], read: readonly Uint8Array[], isVoid: boolean): void {
    const c = this.copying
    if (c === null) return
    if (isVoid) { this.dropCopy(true); return }
    for (const k of written) c.touch(k, 0, k.length, true)
    for (const k of read) c.touch(k, 0, k.length, false)
  }

  /** Before a command writes (isWrite) or reads a key of database db, while a copy runs. */
  touchCopy (db: number, buf: Uint8Array, start: number, len: number, isWrite: boolean): void {
    const c = this.copying
    if (c !== null && this.dbs[db] === c.ks) c.touch(buf, start, len, isWrite)
  }

  /**
   * A step of the copy in progress: about `budget` keys, or until performance.now() passes
   * `until`. Once the copy equals its database, and
   * no value UNLINK detached is still being freed from the old arena, the database adopts it and
   * the old buffers go (droppedBytes). True then: offsets held elsewhere are stale, as after
   * compactDb. `share` is this shard's part of maxmemory: set meanwhile, the copy is dropped
   * (under maxmemory an arena slides in place instead).
   */
  copyStep (budget: number, share: number, until = Infinity): boolean {
    const c = this.copying
    if (c === null) return false
    if (share > 0) { this.dropCopy(false); return false }
    const before = c.copied
    const isOk = c.step(budget, until)
    this.defragKeys += c.copied - before
    if (!isOk) { this.dropCopy(false); return false }
    if (!c.isComplete || this.lazyQueue.length !== 0) return false
    this.endCopy()
    this.copyDrops = 0
    this.droppedBytes += c.ks.arena.bufferBytes + c.ks.tableBytes
    c.ks.adopt(c.fresh)
    forgetEvictionPool()
    return true
  }

  /**
   * Drops the copy in progress: nothing changes, the database was the truth all along.
   * isInterrupted: something had to come first (COPY_MAX_DROPS counts these).
   */
  dropCopy (isInterrupted: boolean): void {
    const c = this.endCopy()
    if (c === null) return
    this.droppedBytes += c.fresh.arena.bufferBytes + c.fresh.tableBytes
    if (isInterrupted) this.copyDrops++
  }

  private endCopy (): DbCopy | null {
    const c = this.copying
    if (c === null) return null
    this.copying = null
    if (writes.beforeRemove === this.onCopyRemove) writes.beforeRemove = null
    this.defragMs += performance.now() - c.startedAt
    return c
  }

  /** Milliseconds since the copy in progress began (INFO's current_active_defrag_time), 0 if none. */
  get copyingMs (): number { return this.copying === null ? 0 : performance.now() - this.copying.startedAt }

  /**
   * An arena whose top came down (a slide under maxmemory, or its last blocks freed) keeps the
   * pages it wrote above it resident: a SharedArrayBuffer cannot shrink. When the arena holds at
   * most half of what it has written (at least 128 KiB less), and under maxmemory a fresh buffer
   * of its size fits beside everything this shard holds now within its share and an eighth (the
   * old buffer goes only once collected), it moves there (Arena.shrink: one copy up to its top;
   * offsets unchanged) and the old one is dropped. True if it did.
   */
  private shrinkIfRoom (ks: Keyspace, share: number): boolean {
    const a = ks.arena
    const held = a.residentTop
    if (held - a.top < COMPACT_MIN_FREE || a.top > held / 2) return false
    // Under maxmemory, only once the shard holds at most half its share (keys were deleted): while
    // eviction keeps it at its share, each move would leave the old buffer resident until every
    // thread has collected it, again and again (memory-bound's volatile policies went past the
    // RSS bound that way).
    if (share > 0 && (this.usedMemory() > share / 2 || this.residentMemory() + a.top > share + share / 8)) return false
    try {
      this.droppedBytes += a.shrink()
    } catch {
      // No memory for the new buffer now (nothing changed: it is made before anything moves).
      return false
    }
    return true
  }

  /**
   * Bytes this shard's data holds in memory (INFO's allocator_resident): every arena up to the
   * highest its top has been in its buffer, the tables, and buffers dropped but not collected yet.
   */
  residentMemory (): number {
    let n = this.droppedBytes
    for (const ks of this.dbs) if (ks !== null) n += ks.arena.residentTop - 8 + ks.tableBytes
    const c = this.copying
    if (c !== null) n += c.fresh.arena.residentTop - 8 + c.fresh.tableBytes
    return n
  }

  /** MEMORY PURGE ran here: the worker compacts and collects once nothing holds the databases. */
  isPurgeAsked = false

  /**
   * MEMORY PURGE: compacts every database with at least COMPACT_MIN_FREE free arena bytes,
   * whatever their live size (the copy costs its live bytes for a moment; an operator asked for
   * it). True if any was.
   */
  compactAll (): boolean {
    // The copy in progress is redone below in one go.
    this.dropCopy(false)
    let did = false
    for (let i = 0; i < DATABASES; i++) {
      const ks = this.dbs[i]
      if (ks === null) continue
      if (ks.arena.committed - ks.arena.used < COMPACT_MIN_FREE) {
        // A top that came down by itself: the pages above it go (no budget: an operator asked).
        if (this.shrinkIfRoom(ks, 0)) did = true
        continue
      }
      this.compactDb(i)
      did = true
    }
    return did
  }

  /**
   * Copies every key of database i, with its TTL, access clock and encoding, into a fresh arena
   * sized for them, which the Keyspace then adopts: the old buffer goes (droppedBytes). Not a
   * write: no hook, no change count, no event.
   */
  compactDb (i: number): void {
    const old = this.dbs[i]
    if (old === null) return
    const saved = saveWrites()
    writes.onRemove = null; writes.onInsert = null; writes.onSwap = null; writes.onExpire = null
    writes.onNew = null; writes.onReady = null; writes.beforeRemove = null; writes.isReplacing = false
    const fresh = new Keyspace(old.arena.used + (old.arena.used >>> 3))
    try {
      old.forEach(e => {
        const n = this.copyEntry(old, e, fresh, old.arena.u8, old.keyOffset(e), old.keyLen(e), old.arena.u32[(e + 4) >>> 2])
        if (n === 0) throw new Error('arena full while compacting')
        if (old.expireAt(e) !== 0) fresh.setExpireAt(n, old.expireAt(e))
        fresh.setClock(n, old.clock(e))
      })
    } catch (err) {
      // Nothing changed: the old arena stays, the partial copy is dropped.
      restoreWrites(saved)
      throw err
    }
    restoreWrites(saved)
    this.droppedBytes += old.arena.bufferBytes + old.tableBytes
    old.adopt(fresh)
    forgetEvictionPool()
  }

  flushAll (): void {
    for (let i = 0; i < DATABASES; i++) if (this.dbs[i] !== null) this.flushDb(i)
  }

  keyCount (): number {
    let n = 0
    for (const ks of this.dbs) if (ks !== null) n += ks.count
    return n
  }

  expiresCount (): number {
    let n = 0
    for (const ks of this.dbs) if (ks !== null) n += ks.expires
    return n
  }

  /** The least room any of this shard's arenas has left to grow (a database not made yet has all of it). */
  arenaRoom (): number {
    let room = Infinity
    for (const ks of this.dbs) {
      if (ks === null) continue
      const r = ks.arena.maxBytes - ks.arena.top
      if (r < room) room = r
    }
    return room
  }

  /** Live bytes (blocks in use, tables): what eviction brings down to the share. */
  usedMemory (): number {
    let n = 0
    for (const ks of this.dbs) if (ks !== null) n += ks.usedMemory
    return n
  }

  /** Committed bytes: arenas up to their tops, free blocks included (INFO used_memory's part). */
  committedMemory (): number {
    let n = 0
    for (const ks of this.dbs) if (ks !== null) n += ks.committedMemory
    // A compaction's copy holds memory too until the old arena goes.
    if (this.copying !== null) n += this.copying.fresh.committedMemory
    return n
  }

  /** Whether a block of `bytes` in the current database would reuse a free block (no growth). */
  fits (bytes: number): boolean { return this.ks.arena.hasFreeBlock(bytes) }
}
