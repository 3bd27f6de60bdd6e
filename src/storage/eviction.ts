// Eviction (Redis's evict.c) and the access clock it reads. Every entry keeps 24 bits of access
// clock at +24 (storage/keyspace.ts): under an LRU or non-LFU policy the LRU clock in seconds
// (LRU_CLOCK_RESOLUTION 1000 ms, wrapping at 2^24), under an LFU policy 16 bits of minutes then
// an 8-bit logarithmic counter (LFU_INIT_VAL 5 for a new key). Lookups touch it (Shard.lookupIn)
// unless the command reads without touching (TYPE, EXISTS, TTL, OBJECT: Redis's LOOKUP_NOTOUCH).
//
// Eviction runs per shard, on the shard's own thread, before a denyoom command: while the shard
// has no room for the write in its share of maxmemory ((maxmemory - client buffers) / shards;
// hasRoom below), it samples maxmemory-samples keys of each database into a pool of the 16 best
// candidates (evictionPoolPopulate), deletes the best and samples again. The settings are shared words (ipc/layout.ts POLICY_WORD...) that CONFIG SET on
// any thread changes for every shard at once.

import type { Keyspace } from './keyspace.js'
import { POLICY_WORD, SAMPLES_WORD, LFU_LOG_FACTOR_WORD, LFU_DECAY_TIME_WORD, TENACITY_WORD, MAXMEMORY_WORD, CLIENTS_MEM_KB_WORD } from '../ipc/layout.js'

// Policies as the shared word holds them (0 = noeviction, so a zeroed word is Redis's default).
export const POLICY_NOEVICTION = 0
export const POLICY_VOLATILE_LRU = 1
export const POLICY_VOLATILE_LFU = 2
export const POLICY_VOLATILE_RANDOM = 3
export const POLICY_VOLATILE_TTL = 4
export const POLICY_ALLKEYS_LRU = 5
export const POLICY_ALLKEYS_LFU = 6
export const POLICY_ALLKEYS_RANDOM = 7
/** CONFIG's names, indexed by policy. */
export const POLICY_NAMES: readonly string[] = ['noeviction', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random']

export const isLfu = (p: number): boolean => p === POLICY_VOLATILE_LFU || p === POLICY_ALLKEYS_LFU
export const isLru = (p: number): boolean => p === POLICY_VOLATILE_LRU || p === POLICY_ALLKEYS_LRU
/** MAXMEMORY_FLAG_NO_SHARED_INTEGERS: with maxmemory set, LRU and LFU keep no shared integers. */
export const noSharedIntegers = (p: number): boolean => isLru(p) || isLfu(p)

export const LFU_INIT_VAL = 5
const LRU_CLOCK_MAX = 0xffffff
const EVPOOL_SIZE = 16

/**
 * The shared settings words (server/credits.ts sharedFlags); a private copy with Redis's defaults
 * until the worker (or the primary, for the transaction engine) points it at the shared ones.
 */
export const evictionSettings: { flags: Int32Array<ArrayBufferLike> } = { flags: defaultFlags() }

function defaultFlags (): Int32Array {
  const f = new Int32Array(32)
  f[SAMPLES_WORD] = 5
  f[LFU_LOG_FACTOR_WORD] = 10
  f[LFU_DECAY_TIME_WORD] = 1
  f[TENACITY_WORD] = 10
  return f
}

export function policy (): number { return evictionSettings.flags[POLICY_WORD] }

/** maxmemory from its two shared words (0 = none); past 2^53 it is as good as unbounded. */
export function maxmemoryOf (flags: Int32Array): number {
  return (flags[MAXMEMORY_WORD + 1] >>> 0) * 4294967296 + (flags[MAXMEMORY_WORD] >>> 0)
}

/** Every I/O thread's client buffers, as their crons last published them (INFO mem_clients_normal). */
export function clientsMemory (flags: Int32Array): number { return Math.max(0, flags[CLIENTS_MEM_KB_WORD]) * 1024 }

/** One shard's share of maxmemory: what the clients' buffers leave, split evenly (keys hash evenly). */
export function shardShare (flags: Int32Array, shards: number): number {
  return (maxmemoryOf(flags) - clientsMemory(flags)) / shards
}

export function setMaxmemoryWords (flags: Int32Array, v: number): void {
  const high = Math.floor(v / 4294967296)
  Atomics.store(flags, MAXMEMORY_WORD + 1, Math.min(high, 0xffffffff) | 0)
  Atomics.store(flags, MAXMEMORY_WORD, (v % 4294967296) | 0)
}

// --- the access clock -----------------------------------------------------------------------------
/**
 * The time accesses are stamped with: the shard worker sets it once per pass of its loop, as
 * Redis stamps with its cached clock (a clock read costs 100 ns or more on some hosts, and the
 * LRU clock counts seconds anyway). 0: read the clock each time (other threads, tests).
 */
export const accessTime = { ms: 0 }
export function accessNow (): number { return accessTime.ms !== 0 ? accessTime.ms : Date.now() }

/** LRU_CLOCK: unix seconds, 24 bits. */
export function lruClock (now: number): number { return Math.floor(now / 1000) & LRU_CLOCK_MAX }

/** LFUGetTimeInMinutes: unix minutes, 16 bits. */
function lfuMinutes (now: number): number { return Math.floor(now / 60000) & 0xffff }

/** The clock a new entry starts with (createObject). */
export function initialClock (now: number): number {
  return isLfu(policy()) ? (lfuMinutes(now) << 8) | LFU_INIT_VAL : lruClock(now)
}

/** estimateObjectIdleTime: ms since the last access, from an LRU clock. */
export function idleMs (clock: number, now: number): number {
  const c = lruClock(now)
  return (c >= clock ? c - clock : c + (LRU_CLOCK_MAX - clock)) * 1000
}

/** LFUDecrAndReturn: the counter less one per lfu-decay-time minutes since the last access. */
export function lfuCounter (clock: number, now: number): number {
  const ldt = clock >>> 8
  let counter = clock & 255
  const decay = evictionSettings.flags[LFU_DECAY_TIME_WORD]
  if (decay > 0) {
    const m = lfuMinutes(now)
    const periods = Math.floor((m >= ldt ? m - ldt : 65535 - ldt + m) / decay)
    counter = periods > counter ? 0 : counter - periods
  }
  return counter
}

/** LFULogIncr: the counter grows with probability 1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1). */
function lfuLogIncr (counter: number): number {
  if (counter === 255) return 255
  const base = counter > LFU_INIT_VAL ? counter - LFU_INIT_VAL : 0
  return Math.random() < 1 / (base * evictionSettings.flags[LFU_LOG_FACTOR_WORD] + 1) ? counter + 1 : counter
}

/** The clock after an access (lookupKey): now under LRU, the decayed and bumped counter under LFU. */
export function touchedClock (clock: number, now: number): number {
  if (!isLfu(policy())) return lruClock(now)
  return (lfuMinutes(now) << 8) | lfuLogIncr(lfuCounter(clock, now))
}

/** RESTORE ... IDLETIME s (objectSetLRUOrLFU): the LRU clock of an access s seconds ago. */
export function clockForIdle (seconds: number, now: number): number {
  const c = lruClock(now)
  // Older than the clock can tell: as old as it can tell.
  return seconds >= LRU_CLOCK_MAX ? (c + 1) & LRU_CLOCK_MAX : (c - seconds + LRU_CLOCK_MAX + 1) & LRU_CLOCK_MAX
}

/** RESTORE ... FREQ f: the LFU clock with counter f, accessed now. */
export function clockForFreq (freq: number, now: number): number { return (lfuMinutes(now) << 8) | freq }

// --- eviction --------------------------------------------------------------------------------------
/** What eviction needs of a shard (storage/shard.ts implements it). */
export interface EvictionHost {
  readonly dbs: ReadonlyArray<Keyspace | null>
  /** Live bytes: what Redis's used_memory is (blocks in use, tables). */
  usedMemory: () => number
  /** Committed bytes: the arenas up to their tops, their free blocks included. */
  committedMemory: () => number
  /** Whether `need` bytes would reuse a free block of the database written to. */
  fits: (need: number) => boolean
  /** Deletes entry e of database db as an eviction: hooks, "evicted" event, evicted_keys. */
  evict: (db: number, e: number) => void
  /** What an eviction pass left: still over the limit, or under it (INFO's *_eviction_exceeded_time). */
  overLimit: (isOver: boolean) => void
}

// The pool (EVPOOL_SIZE best candidates, sorted by score, best last) lasts from one eviction to
// the next, as Redis's does: an entry kept from before may have gone since, so it is checked
// (Keyspace.isLive) before it is evicted.
const poolScore = new Float64Array(EVPOOL_SIZE)
const poolDb = new Int32Array(EVPOOL_SIZE)
const poolEntry = new Uint32Array(EVPOOL_SIZE)
let poolLen = 0
let poolPolicy = POLICY_NOEVICTION
const sampled: number[] = []
let nextDb = 0

function poolInsert (score: number, db: number, e: number): void {
  for (let i = 0; i < poolLen; i++) if (poolEntry[i] === e && poolDb[i] === db) return
  let k = 0
  while (k < poolLen && poolScore[k] < score) k++
  if (poolLen === EVPOOL_SIZE) {
    // Full: drop the worst (first) to make room, unless this one is worse than all.
    if (k === 0) return
    k--
    poolScore.copyWithin(0, 1, k + 1); poolDb.copyWithin(0, 1, k + 1); poolEntry.copyWithin(0, 1, k + 1)
  } else {
    poolScore.copyWithin(k + 1, k, poolLen); poolDb.copyWithin(k + 1, k, poolLen); poolEntry.copyWithin(k + 1, k, poolLen)
    poolLen++
  }
  poolScore[k] = score
  poolDb[k] = db
  poolEntry[k] = e
}

/** Redis's eviction score: higher goes first. */
function score (p: number, ks: Keyspace, e: number, now: number): number {
  if (p === POLICY_VOLATILE_TTL) return -ks.expireAt(e)
  if (isLfu(p)) return 255 - lfuCounter(ks.clock(e), now)
  return idleMs(ks.clock(e), now)
}

/** One candidate to evict under policy p: [db, entry] in `pick`, false when there is none. */
const pick = new Int32Array(2)
function findCandidate (host: EvictionHost, p: number, samples: number, now: number): boolean {
  const volatileOnly = p <= POLICY_VOLATILE_TTL
  const dbs = host.dbs
  if (p === POLICY_VOLATILE_RANDOM || p === POLICY_ALLKEYS_RANDOM) {
    // A random key of the first database that has one, taking the databases in turn.
    for (let i = 0; i < dbs.length; i++) {
      const db = (nextDb + i) % dbs.length
      const ks = dbs[db]
      if (ks === null || (volatileOnly ? ks.expires : ks.count) === 0) continue
      nextDb = db + 1
      sampled.length = 0
      ks.sample(1, volatileOnly, sampled)
      if (sampled.length === 0) continue
      pick[0] = db; pick[1] = sampled[0]
      return true
    }
    return false
  }
  for (let db = 0; db < dbs.length; db++) {
    const ks = dbs[db]
    if (ks === null || (volatileOnly ? ks.expires : ks.count) === 0) continue
    sampled.length = 0
    ks.sample(samples, volatileOnly, sampled)
    for (const e of sampled) poolInsert(score(p, ks, e, now), db, e)
  }
  while (poolLen > 0) {
    poolLen--
    const db = poolDb[poolLen]
    const e = poolEntry[poolLen]
    const ks = dbs[db]
    if (ks === null || !ks.isLive(e) || (volatileOnly && ks.expireAt(e) === 0)) continue
    pick[0] = db; pick[1] = e
    return true
  }
  return false
}

/** The pool's offsets mean nothing after a compaction moved every entry (Shard.compactDb). */
export function forgetEvictionPool (): void { poolLen = 0 }

/** Keys evicted so far by this thread's shard (INFO's evicted_keys, summed over shards). */
export const evictionStats = { evicted: 0 }

/**
 * Whether a shard within its share `limit` may take a write of about `need` bytes: its live bytes
 * are within the share (Redis's rule), and the write either reuses a free block or leaves the
 * committed bytes (free blocks included) within the share too. The second part is what keeps the
 * process's RSS at maxmemory: freed blocks that are too small for the write do not count as room.
 * A write bigger than a quarter of the share is let through on the first part alone (evicting
 * for a free block that big could take every key; it is the last write's overshoot instead).
 */
function hasRoom (host: EvictionHost, limit: number, need: number): boolean {
  if (host.usedMemory() > limit) return false
  return need > limit / 4 || host.committedMemory() + need <= limit || host.fits(need)
}

/**
 * performEvictions for one shard whose share is `limit` bytes, before a write of about `need`
 * bytes: deletes keys by the policy until hasRoom. False when it cannot get there (noeviction,
 * or no key the policy may take): the command then gets the OOM error.
 * maxmemory-eviction-tenacity bounds the keys deleted per call (Redis bounds the time): more go
 * before the next write.
 */
export function performEvictions (host: EvictionHost, limit: number, now: number, need = 0): boolean {
  if (hasRoom(host, limit, need)) { host.overLimit(false); return true }
  // Still over when this pass ends (Redis's EVICT_RUNNING and EVICT_FAIL), until a pass finds room.
  host.overLimit(true)
  const f = evictionSettings.flags
  const p = f[POLICY_WORD]
  if (p === POLICY_NOEVICTION) return false
  const samples = f[SAMPLES_WORD] > 0 ? f[SAMPLES_WORD] : 1
  // Tenacity 10 (the default) allows 1,000 keys per call; each step up is 15% more, as in Redis.
  const budget = Math.max(16, Math.floor(1000 * Math.pow(1.15, f[TENACITY_WORD] - 10)))
  // Scores of another policy mean nothing to this one.
  if (p !== poolPolicy) { poolLen = 0; poolPolicy = p }
  let n = 0
  while (!hasRoom(host, limit, need)) {
    if (n++ >= budget) return true
    if (!findCandidate(host, p, samples, now)) return false
    host.evict(pick[0], pick[1])
  }
  host.overLimit(false)
  return true
}

/** Whether the shard is within `limit` (no write in view): ends a spell over it between writes. */
export function isWithin (host: EvictionHost, limit: number): boolean { return hasRoom(host, limit, 0) }
