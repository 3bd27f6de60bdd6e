// The state of background saving that every thread shares: one SharedArrayBuffer made by the
// main thread and handed to each I/O thread and shard worker in its workerData (`save`). The
// client threads admit BGSAVE/SAVE and refuse writes after a failed one (MISCONF) from here, the
// shards read the configs that shape the file, the main thread's joiner (persistence/bgsave.ts)
// records each outcome, and INFO persistence reads it all.

import { isMainThread, workerData } from 'node:worker_threads'
import { statSync } from 'node:fs'
import { join } from 'node:path'

// Int32 words.
/** 0: no background save; 1: one runs (shards walking or the file being joined). */
export const W_BGSAVE = 0
/** rdb_last_bgsave_status: 1 ok, 0 err. */
export const W_LAST_OK = 1
/** The id of the last BGSAVE that succeeded: a shard whose cut had it counts changes from there. */
export const W_LAST_SAVED_ID = 2
/** rdbcompression, rdbchecksum, stop-writes-on-bgsave-error (1 = yes). */
export const W_COMPRESSION = 3
export const W_CHECKSUM = 4
export const W_STOP_WRITES = 5
/** Shards that have not finished loading the RDB file at start (0: loading is over). */
export const W_LOADING = 6
/** The id of the snapshot the shards take at the next cut (bumped per BGSAVE). */
export const W_SNAPSHOT_ID = 7
/**
 * Nonzero while writes are refused with -MISCONF (writeCommandsDeniedByDiskError): DENY_RDB when
 * stop-writes-on-bgsave-error, save points set and the last background save failed; else
 * DENY_AOF when appendonly is on and the last AOF write failed. The router's one check.
 */
export const W_DENY_WRITES = 8
/** Set by SHUTDOWN before it signals the process: it saved already, or was told not to. */
export const W_SHUTDOWN_DONE = 9
/** Shards (the loading progress averages theirs). */
export const W_SHARDS = 10
/** A BGSAVE inside EXEC asked for one (rdb_bgsave_scheduled): the cron starts it. */
export const W_SCHEDULED = 11
/** shutdown-on-sigint and shutdown-on-sigterm (SHUTDOWN_* flags), and shutdown-timeout (seconds). */
export const W_SHUTDOWN_SIGINT = 12
export const W_SHUTDOWN_SIGTERM = 13
export const W_SHUTDOWN_TIMEOUT = 14
/**
 * loglevel (log.ts): Redis's level index in the low 3 bits, a change count above. Not a save
 * setting: this is the one shared block every thread reaches, and each thread's logger follows it.
 */
export const W_LOG_LEVEL = 15
// The append-only file (persistence/aof.ts): every thread reads these words.
/** 1 while writes are logged (appendonly yes and the AOF loaded): the shards' one check per write. */
export const W_AOF_ON = 16
/** The descriptor of the current incremental file (opened O_APPEND; every thread writes to it). */
export const W_AOF_FD = 17
/** appendfsync: 0 no, 1 everysec, 2 always. */
export const W_AOF_FSYNC = 18
/** aof-timestamp-enabled (1 = yes). */
export const W_AOF_TIMESTAMPS = 19
/** 1 while a rewrite runs (from BGREWRITEAOF until the new manifest is in place). */
export const W_AOF_REWRITE = 20
/** The descriptor the shards switch to at a rewrite's cut (0: none pending). */
export const W_AOF_NEXT_FD = 21
/** A BGREWRITEAOF waits for the running BGSAVE (aof_rewrite_scheduled). */
export const W_AOF_SCHEDULED = 22
/** aof_last_write_status: 1 ok, 0 err. */
export const W_AOF_WRITE_OK = 23
/** FLUSHALL/FLUSHDB/SWAPDB barrier across shards: arrivals, and the generation that ends it. */
export const W_AOF_BAR_COUNT = 24
export const W_AOF_BAR_GEN = 25
/** aof_last_bgrewrite_status: 1 ok, 0 err. */
export const W_AOF_REWRITE_OK = 26
/** aof-use-rdb-preamble, aof-load-truncated (1 = yes). */
export const W_AOF_PREAMBLE = 27
export const W_AOF_LOAD_TRUNCATED = 28
/** appendonly as configured (CONFIG GET, aof_enabled); W_AOF_ON follows once the AOF is loaded or created. */
export const W_AOF_ENABLED = 29
/** The incremental file the shards appended to before a running rewrite's cut (closed at its end). */
export const W_AOF_OLD_FD = 30
/**
 * appendfsync always, one fdatasync for every thread that wrote meanwhile (aof.ts): writes taken
 * (a count), the count the last sync covered and its descriptor, and the lock of the syncing one.
 */
export const W_AOF_WRITES = 31
export const W_AOF_SYNCED = 32
export const W_AOF_SYNCED_FD = 33
export const W_AOF_SYNC_LOCK = 34
/** The errno of the last AOF write that failed (aof_last_write_errno), positive. */
export const W_AOF_ERRNO = 35
/**
 * Logs holding bytes a write could not take (aof.ts): Redis's aof_buf is one buffer, so its
 * write status turns ok only once all of it is written; ours once every log is empty.
 */
export const W_AOF_PENDING = 36
/**
 * aof_bio_fsync_status (1 ok, 0 err) and aof_bio_fsync_errno: the everysec fsync's outcome
 * (aof-files.ts startEverysec). An error denies writes as a write error does, until a sync works.
 */
export const W_AOF_FSYNC_OK = 37
export const W_AOF_FSYNC_ERRNO = 38
/**
 * The AOF's commands are being replayed (aof-load.ts): as Redis while loading (keyIsExpired,
 * checkAlreadyExpired), no key expires, lazily or actively, and a time already past still sets
 * a TTL, so the replay meets the keys the writes met; they expire once it is over.
 */
export const W_AOF_LOADING = 39
const INT_WORDS = 40

// Float64 words.
/** Unix ms the running BGSAVE started; rdb_last_bgsave_time_sec (-1 before any). */
export const F_BGSAVE_START = 0
export const F_LAST_BGSAVE_SEC = 1
/** Unix ms the load started, and the file's size. */
export const F_LOAD_START = 2
export const F_LOAD_TOTAL = 3
/** Save points: how many, then [seconds, changes] pairs. */
export const F_SAVE_POINTS = 5
export const MAX_SAVE_POINTS = 16
/** Per shard: changes since its last save (rdb_changes_since_last_save, the save points). */
export const F_DIRTY = F_SAVE_POINTS + 1 + 2 * MAX_SAVE_POINTS
export const MAX_SHARDS = 256
/** Per shard: bytes of the RDB file its load has read (each shard reads the whole file). */
export const F_LOAD_POS = F_DIRTY + MAX_SHARDS
/** AOF: bytes written to it (aof_current_size), its size after the last rewrite (aof_base_size). */
export const F_AOF_SIZE = F_LOAD_POS + MAX_SHARDS
export const F_AOF_BASE_SIZE = F_AOF_SIZE + 1
/** Unix ms the running rewrite started; aof_last_rewrite_time_sec (-1 before any); aof_rewrites. */
export const F_AOF_REWRITE_START = F_AOF_SIZE + 2
export const F_AOF_LAST_REWRITE_SEC = F_AOF_SIZE + 3
export const F_AOF_REWRITES = F_AOF_SIZE + 4
/** auto-aof-rewrite-percentage and auto-aof-rewrite-min-size. */
export const F_AOF_AUTO_PERCENT = F_AOF_SIZE + 5
export const F_AOF_AUTO_MIN = F_AOF_SIZE + 6
/** Per shard: its AOF log's share of W_AOF_PENDING (aof.ts), for a replacement to give back. */
export const F_AOF_PENDING_SHARD = F_AOF_SIZE + 8
const F64_WORDS = F_AOF_PENDING_SHARD + MAX_SHARDS

const BYTES = INT_WORDS * 4 + F64_WORDS * 8

export interface SaveWords { readonly sab: SharedArrayBuffer, readonly i32: Int32Array, readonly f64: Float64Array }

let words: SaveWords | null = null

/** This thread's view of the shared save state (the main thread makes it on first use). */
export function saveWords (): SaveWords {
  if (words !== null) return words
  const given = isMainThread ? undefined : (workerData as { save?: SharedArrayBuffer } | null)?.save
  const sab = given ?? new SharedArrayBuffer(BYTES)
  words = { sab, i32: new Int32Array(sab, 0, INT_WORDS), f64: new Float64Array(sab, INT_WORDS * 4, F64_WORDS) }
  if (given === undefined) {
    words.i32[W_LAST_OK] = 1
    words.i32[W_COMPRESSION] = 1
    words.i32[W_CHECKSUM] = 1
    words.i32[W_STOP_WRITES] = 1
    words.f64[F_LAST_BGSAVE_SEC] = -1
    words.i32[W_AOF_WRITE_OK] = 1
    words.i32[W_AOF_FSYNC_OK] = 1
    words.i32[W_AOF_REWRITE_OK] = 1
    words.f64[F_AOF_LAST_REWRITE_SEC] = -1
  }
  return words
}

/** The buffer to put in a worker's workerData as `save`. */
export function saveSab (): SharedArrayBuffer { return saveWords().sab }

/** The save points as [seconds, changes] pairs. */
export function savePoints (): Array<[number, number]> {
  const f = saveWords().f64
  const out: Array<[number, number]> = []
  for (let i = 0; i < f[F_SAVE_POINTS]; i++) out.push([f[F_SAVE_POINTS + 1 + 2 * i], f[F_SAVE_POINTS + 2 + 2 * i]])
  return out
}

/** Sets the save points from "seconds changes ..." (already checked). */
export function setSavePoints (text: string): void {
  const f = saveWords().f64
  const args = text === '' ? [] : text.split(' ').map(Number)
  const n = Math.min(args.length >> 1, MAX_SAVE_POINTS)
  for (let i = 0; i < n; i++) { f[F_SAVE_POINTS + 1 + 2 * i] = args[2 * i]; f[F_SAVE_POINTS + 2 + 2 * i] = args[2 * i + 1] }
  f[F_SAVE_POINTS] = n
  updateDenyWrites()
}

/** CONFIG GET save: the pairs as Redis prints them. */
export function savePointsText (): string { return savePoints().map(([s, c]) => `${s} ${c}`).join(' ') }

export const DENY_RDB = 1
export const DENY_AOF = 2

export function updateDenyWrites (): void {
  const { i32, f64 } = saveWords()
  const deny = i32[W_STOP_WRITES] !== 0 && f64[F_SAVE_POINTS] > 0 && i32[W_LAST_OK] === 0
    ? DENY_RDB
    : Atomics.load(i32, W_AOF_ENABLED) !== 0 && (Atomics.load(i32, W_AOF_WRITE_OK) === 0 || Atomics.load(i32, W_AOF_FSYNC_OK) === 0) ? DENY_AOF : 0
  Atomics.store(i32, W_DENY_WRITES, deny)
}

// SHUTDOWN's options (shutdownCommand), which shutdown-on-sigint and -sigterm take too.
export const SHUTDOWN_NOSAVE = 1
export const SHUTDOWN_SAVE = 2
export const SHUTDOWN_NOW = 4
export const SHUTDOWN_FORCE = 8
/** shutdown-on-sig*'s names in Redis's table order, which CONFIG GET lists them in; default is 0. */
const SHUTDOWN_NAMES: ReadonlyArray<[string, number]> = [['default', 0], ['save', SHUTDOWN_SAVE], ['nosave', SHUTDOWN_NOSAVE], ['now', SHUTDOWN_NOW], ['force', SHUTDOWN_FORCE]]

/**
 * A shutdown-on-sig* value (Redis's multi-argument enum): names split on single spaces, any
 * case, OR-ed together. The flags, or Redis's error text.
 */
export function parseShutdownOnSig (value: string): number | string {
  let flags = 0
  for (const word of value.split(' ')) {
    const e = SHUTDOWN_NAMES.find(([name]) => name === word.toLowerCase())
    if (e === undefined) return `argument(s) must be one of the following: ${SHUTDOWN_NAMES.map(([name]) => name).join(', ')}`
    flags |= e[1]
  }
  // isValidShutdownOnSigFlags
  if ((flags & SHUTDOWN_SAVE) !== 0 && (flags & SHUTDOWN_NOSAVE) !== 0) return "shutdown options SAVE and NOSAVE can't be used simultaneously"
  return flags
}

/** The flags as CONFIG GET and CONFIG REWRITE give them: "default", or the set names in table order. */
export function shutdownOnSigText (flags: number): string {
  if (flags === 0) return 'default'
  return SHUTDOWN_NAMES.filter(([, bit]) => bit !== 0 && (flags & bit) === bit).map(([name]) => name).join(' ')
}

/** The start-up values, once, on the main thread. */
export function initSaveState (c: { save: string, rdbcompression: boolean, rdbchecksum: boolean, stopWritesOnBgsaveError: boolean, shards: number, dir: string, dbfilename: string, shutdownOnSigint: number, shutdownOnSigterm: number, shutdownTimeout: number }): void {
  const { i32, f64 } = saveWords()
  i32[W_SHARDS] = c.shards
  i32[W_SHUTDOWN_SIGINT] = c.shutdownOnSigint
  i32[W_SHUTDOWN_SIGTERM] = c.shutdownOnSigterm
  i32[W_SHUTDOWN_TIMEOUT] = c.shutdownTimeout
  // loading:1 from before the port opens until every shard has read the file (startLoading).
  let size = -1
  try { size = statSync(join(c.dir, c.dbfilename)).size } catch {}
  if (size >= 0) {
    f64[F_LOAD_START] = Date.now()
    f64[F_LOAD_TOTAL] = size
    Atomics.store(i32, W_LOADING, c.shards)
  }
  i32[W_COMPRESSION] = c.rdbcompression ? 1 : 0
  i32[W_CHECKSUM] = c.rdbchecksum ? 1 : 0
  i32[W_STOP_WRITES] = c.stopWritesOnBgsaveError ? 1 : 0
  setSavePoints(c.save)
}

/**
 * INFO persistence, rdb_bgsave_in_progress to rdb_current_bgsave_time_sec, in Redis's order.
 * `wasRunning`: a shard saw the BGSAVE running when it gave its part of INFO (infoShardCommand).
 */
export function bgsaveInfo (lastSaveSec: number, wasRunning = false): string[] {
  const { i32, f64 } = saveWords()
  const isRunning = Atomics.load(i32, W_BGSAVE) !== 0 && f64[F_BGSAVE_START] !== 0
  const running = isRunning || wasRunning
  return [
    `rdb_bgsave_in_progress:${running ? 1 : 0}`, `rdb_last_save_time:${lastSaveSec}`,
    `rdb_last_bgsave_status:${i32[W_LAST_OK] !== 0 ? 'ok' : 'err'}`, `rdb_last_bgsave_time_sec:${f64[F_LAST_BGSAVE_SEC]}`,
    `rdb_current_bgsave_time_sec:${isRunning ? Math.floor(Date.now() / 1000) - Math.floor(f64[F_BGSAVE_START] / 1000) : running ? 0 : -1}`,
  ]
}

export function hasSavePoints (): boolean { return saveWords().f64[F_SAVE_POINTS] > 0 }

export function isLoading (): boolean { return Atomics.load(saveWords().i32, W_LOADING) !== 0 }

export function loadingInfo (): string[] { return [`loading:${isLoading() ? 1 : 0}`] }

/** The loading_* fields Redis adds while it loads (startLoading, loadingProgress). */
export function loadingProgress (): string[] {
  if (!isLoading()) return []
  const { f64: f, i32 } = saveWords()
  const total = f[F_LOAD_TOTAL]
  let sum = 0
  for (let s = 0; s < i32[W_SHARDS]; s++) sum += Math.min(f[F_LOAD_POS + s], total)
  const done = i32[W_SHARDS] > 0 ? Math.floor(sum / i32[W_SHARDS]) : 0
  const elapsed = Math.floor(Date.now() / 1000) - Math.floor(f[F_LOAD_START] / 1000)
  const eta = elapsed === 0 ? 1 : Math.floor(elapsed * (total - done) / (done + 1))
  return [
    `loading_start_time:${Math.floor(f[F_LOAD_START] / 1000)}`, `loading_total_bytes:${total}`, 'loading_rdb_used_mem:0',
    `loading_loaded_bytes:${done}`, `loading_loaded_perc:${(total > 0 ? done / total * 100 : 0).toFixed(2)}`, `loading_eta_seconds:${eta}`,
  ]
}
