// The append-only file's writing side (Redis 7.0's feedAppendOnlyFile/flushAppendOnlyFile). Each
// thread that writes data keeps an AofLog: the *effects* of its writes as RESP multibulk
// commands, appended only while appendonly is on (the shared W_AOF_ON word; one check per write
// command). A shard writes its log with one write(2) to the current incremental file (opened
// O_APPEND, one descriptor shared by every thread, W_AOF_FD) before it publishes a batch's
// replies, and with `appendfsync always` it fdatasyncs first: no reply to a write leaves before
// its fsync, and one fsync covers the whole batch (group commit). `everysec` is a timer on the
// main thread (aof-files.ts), `no` never syncs. A write(2) with O_APPEND is one atomic append,
// so every chunk lands whole, and each chunk starts with its own SELECT: chunks of several
// threads may interleave, never mix.

import { Buffer } from 'node:buffer'
import { writeSync, fdatasyncSync, ftruncateSync, fstatSync, existsSync } from 'node:fs'
import { constants } from 'node:os'
import { isMainThread, parentPort } from 'node:worker_threads'
import type { Argv } from '../commands/spec.js'
import { copyBytes, writeDigits } from '../bytes.js'
import { GATE, GATE_FD } from '../ipc/ring.js'
import { saveWords, W_AOF_ON, W_AOF_FD, W_AOF_FSYNC, W_AOF_TIMESTAMPS, W_AOF_WRITE_OK, W_AOF_WRITES, W_AOF_SYNCED, W_AOF_SYNCED_FD, W_AOF_SYNC_LOCK, W_AOF_ERRNO, W_AOF_PENDING, W_AOF_FSYNC_OK, W_AOF_FSYNC_ERRNO, F_AOF_PENDING_SHARD, updateDenyWrites } from './save-state.js'

export const FSYNC_NO = 0
export const FSYNC_EVERYSEC = 1
export const FSYNC_ALWAYS = 2
export const FSYNC_NAMES = ['no', 'everysec', 'always']

const CRLF = 0x0a0d
const MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n')
const EXEC = Buffer.from('*1\r\n$4\r\nEXEC\r\n')

/** This thread's view of the AOF words: `on[0]` is the one check a write pays. */
export function aofOnWord (): Int32Array { return saveWords().i32.subarray(W_AOF_ON, W_AOF_ON + 1) }

/** `<prefix><n>\r\n` at b[p] (room made by the caller); the position after it. */
function digitsAt (b: Buffer, p: number, prefix: number, n: number): number {
  b[p] = prefix
  p = writeDigits(b, p + 1, n)
  b[p] = 13
  b[p + 1] = 10
  return p + 2
}

/** Where a run of effects to take out of a log began (AofLog.mark). */
export interface LogMark { len: number, count: number, db: number }

/**
 * Effects taken out of a log (AofLog.takeSince): their bytes without their first SELECT (null:
 * none), their command count, and the databases they start and end in.
 */
export interface TakenEffects { aof: Buffer | null, n: number, db: number, end: number }

export class AofLog {
  buf: Buffer
  len = 0
  /** The database the buffer's last command runs in (-1: the next command SELECTs first). */
  db = -1
  /** Commands appended (MULTI/EXEC and SELECT not counted). */
  count = 0
  /** This log's share of W_AOF_PENDING: the failed writes whose bytes it holds (adopted ones too). */
  pendingUnits = 0
  /** A shard's log: the save state's float word that mirrors pendingUnits (F_AOF_PENDING_SHARD), else -1. */
  mirror = -1

  private setUnits (n: number): void {
    this.pendingUnits = n
    if (this.mirror >= 0) saveWords().f64[this.mirror] = n
  }
  private unitDepth = 0
  /** Where the open unit's MULTI is, and where its bytes begin (before a SELECT moved in front of the MULTI). */
  private unitAt = 0
  private unitStart = 0
  private unitCount = 0
  private unitDb = -1
  private lastTs = 0

  constructor (size = 64 * 1024) { this.buf = Buffer.allocUnsafe(size) }

  private need (n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  /** The first bytes of a chunk: Redis's `#TS:<unix>` annotation, when the second changed. */
  private start (): void {
    if (this.len !== 0 || saveWords().i32[W_AOF_TIMESTAMPS] === 0) return
    const sec = Math.floor(Date.now() / 1000)
    if (sec === this.lastTs) return
    this.lastTs = sec
    const s = `#TS:${sec}\r\n`
    this.need(s.length)
    this.len += this.buf.write(s, this.len, 'latin1')
  }

  /** `*<n>\r\n` or `$<n>\r\n`, digits written in place (no string per argument). */
  private num (prefix: number, n: number): void {
    this.need(24)
    const b = this.buf
    b[this.len++] = prefix
    let digits = 1
    for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++
    let p = this.len + digits
    this.len = p
    do { b[--p] = 48 + (n % 10); n = Math.floor(n / 10) } while (n > 0)
    b[this.len++] = 13
    b[this.len++] = 10
  }

  private bulk (src: Uint8Array, start: number, len: number): void {
    this.num(36, len)
    this.need(len + 2)
    copyBytes(src, start, len, this.buf, this.len)
    this.len += len
    this.buf.writeUInt16LE(CRLF, this.len)
    this.len += 2
  }

  private bulkStr (s: string): void {
    this.num(36, Buffer.byteLength(s, 'latin1'))
    this.need(s.length + 2)
    this.len += this.buf.write(s, this.len, 'latin1')
    this.buf.writeUInt16LE(CRLF, this.len)
    this.len += 2
  }

  /** SELECT when the database changes, as Redis emits it. */
  private select (db: number): void {
    this.start()
    if (db === this.db) return
    // A unit's first effect: its SELECT goes before the MULTI, where propagatePendingCommands
    // puts it (it selects the first command's database before it emits MULTI).
    if (this.unitDepth !== 0 && this.count === this.unitCount && this.len === this.unitAt + MULTI.length) {
      this.len = this.unitAt
      this.db = db
      this.num(42, 2)
      this.bulkStr('SELECT')
      this.bulkStr(String(db))
      this.unitAt = this.len
      this.need(MULTI.length)
      MULTI.copy(this.buf, this.len)
      this.len += MULTI.length
      return
    }
    this.db = db
    this.num(42, 2)
    this.bulkStr('SELECT')
    this.bulkStr(String(db))
  }

  /**
   * The command as the client sent it (argv[0] is its name): the hot path of every logged write,
   * so its room is made once and headers are written in place.
   */
  argv (db: number, argv: Argv): void {
    if (this.len === 0 || db !== this.db) this.select(db)
    const { buf: src, start, len, argc } = argv
    // `*<argc>\r\n`, then `$<n>\r\n<bytes>\r\n` per argument: at most 14 + 2 bytes of framing each.
    let room = 16
    for (let i = 0; i < argc; i++) room += len[i] + 16
    this.need(room)
    const b = this.buf
    let p = digitsAt(b, this.len, 42, argc)
    for (let i = 0; i < argc; i++) {
      const n = len[i]
      p = digitsAt(b, p, 36, n)
      copyBytes(src, start[i], n, b, p)
      p += n
      b[p] = 13
      b[p + 1] = 10
      p += 2
    }
    this.len = p
    this.count++
  }

  /** A command made of strings (latin1) and byte strings. */
  parts (db: number, parts: ReadonlyArray<string | Uint8Array>): void {
    this.select(db)
    this.num(42, parts.length)
    for (const p of parts) {
      if (typeof p === 'string') this.bulkStr(p)
      else this.bulk(p, 0, p.length)
    }
    this.count++
  }

  /**
   * Effects another thread logged (a held shard's step, for a transaction's block): `bytes`
   * start in database `db` (their own SELECT taken off), hold `n` commands and end in database `end`.
   */
  raw (db: number, bytes: Uint8Array, n: number, end: number): void {
    this.select(db)
    this.need(bytes.length)
    this.buf.set(bytes, this.len)
    this.len += bytes.length
    this.count += n
    this.db = end
  }

  /**
   * Marks where a run of effects that will be taken out (takeSince) begins, to go into another
   * thread's block (a held shard's step, an AOF group's part): its first effect SELECTs.
   */
  mark (): LogMark {
    const m = { len: this.len, count: this.count, db: this.db }
    this.db = -1
    return m
  }

  /** Takes out what was logged since `m` (TakenEffects); the log is as it was at the mark. */
  takeSince (m: LogMark): TakenEffects {
    const n = this.count - m.count
    let r: TakenEffects = { aof: null, n: 0, db: -1, end: -1 }
    if (n > 0 && this.len > m.len) {
      const b = this.buf
      let p = m.len
      if (b[p] === 35) p = b.indexOf(10, p) + 1 // a #TS annotation (start): the block has its own
      // select(): `*2 $6 SELECT $<len> <db>`, 17 bytes up to the length's digits.
      p += 17
      while (b[p] !== 13) p++
      p += 2
      let db = 0
      while (b[p] !== 13) db = db * 10 + b[p++] - 48
      p += 2
      r = { aof: Buffer.from(b.subarray(p, this.len)), n, db, end: this.db }
    }
    this.len = Math.min(this.len, m.len)
    this.count = m.count
    this.db = m.db
    return r
  }

  /** Bytes of whole commands that begin with their own SELECT (a chunk another log kept). */
  rawChunk (bytes: Uint8Array): void {
    this.need(bytes.length)
    this.buf.set(bytes, this.len)
    this.len += bytes.length
    this.db = -1
  }

  /**
   * An execution unit (EXEC, a script, a transaction): its effects are wrapped in MULTI/EXEC
   * when there are several, as propagatePendingCommands does; one effect goes alone. Nested
   * units are part of the outer one. `db` (when known): its SELECT goes before the MULTI, as
   * Redis writes it.
   */
  beginUnit (db = -1): void {
    if (this.unitDepth++ !== 0) return
    if (db >= 0) this.select(db)
    this.start()
    this.unitAt = this.unitStart = this.len
    this.unitCount = this.count
    this.unitDb = this.db
    this.need(MULTI.length)
    MULTI.copy(this.buf, this.len)
    this.len += MULTI.length
  }

  endUnit (): void {
    if (--this.unitDepth !== 0) return
    const n = this.count - this.unitCount
    if (n > 1) {
      this.need(EXEC.length)
      EXEC.copy(this.buf, this.len)
      this.len += EXEC.length
      return
    }
    // Zero or one effect: no MULTI (the command's own SELECT stays in front of it).
    this.buf.copyWithin(this.unitAt, this.unitAt + MULTI.length, this.len)
    this.len -= MULTI.length
    if (n === 0) this.db = this.unitDb
  }

  get inUnit (): boolean { return this.unitDepth !== 0 }

  /**
   * Drops the open (outermost) unit and everything logged in it: a script inside a shard worker
   * that was stopped and undone (scripting/in-shard.ts) left nothing in the file. flush() writes
   * nothing while a unit is open, so the unit's bytes are all still here.
   */
  abortUnit (): void {
    if (this.unitDepth === 0) return
    this.unitDepth = 0
    this.len = this.unitStart
    this.count = this.unitCount
    this.db = this.unitDb
  }

  /**
   * Writes the buffer to the current incremental file (or `fd`), fdatasync first under
   * `appendfsync always` (with `sync` false, the sync is owed instead: aofDebt). The next chunk
   * starts with its own SELECT.
   */
  flush (fd = saveWords().i32[W_AOF_FD], sync = true): void {
    if (this.len === 0 || this.unitDepth !== 0) return
    const written = fd <= 0 ? this.len : writeAll(fd, this.buf, this.len, this.pendingUnits, sync)
    if (written === this.len) { this.len = 0; this.db = -1; if (this.pendingUnits !== 0) this.setUnits(0); return }
    // A failed write keeps what is left, as Redis keeps aof_buf, for the next flush (the shard's
    // tick tries again): the file gets every effect once the disk has room.
    this.buf.copyWithin(0, written, this.len)
    this.len -= written
    if (this.pendingUnits === 0) this.setUnits(1)
  }

  /**
   * Hands the bytes a failed write left to another log (a cross-shard transaction's, which runs on
   * another thread), with their share of W_AOF_PENDING; null when there are none. `all`: whatever
   * the log holds, written or not yet tried (an AOF group's part hands it on: commands/xmove.ts).
   */
  take (all = false): { bytes: Uint8Array, units: number } | null {
    if (this.len === 0 || (this.pendingUnits === 0 && !all)) return null
    const r = { bytes: this.buf.slice(0, this.len), units: this.pendingUnits }
    this.len = 0
    this.db = -1
    this.setUnits(0)
    return r
  }

  /**
   * Puts another log's unwritten bytes in front of this one's (they were logged first). Each
   * chunk starts with its own SELECT, so the database this log's own bytes assume is unchanged.
   */
  adopt (bytes: Uint8Array, units: number): void {
    if (bytes.length === 0) return
    this.need(bytes.length)
    this.buf.copyWithin(bytes.length, 0, this.len)
    this.buf.set(bytes, 0)
    if (this.len === 0) this.db = -1
    this.len += bytes.length
    if (this.unitDepth !== 0) { this.unitAt += bytes.length; this.unitStart += bytes.length }
    this.setUnits(this.pendingUnits + units)
  }

  /** Forgets what is buffered (appendonly turned off). */
  clear (): void {
    if (this.pendingUnits !== 0) Atomics.sub(saveWords().i32, W_AOF_PENDING, this.pendingUnits)
    this.len = 0; this.db = -1; this.count = 0; this.unitDepth = 0
    if (this.pendingUnits !== 0) this.setUnits(0)
  }
}

/**
 * One append of `len` bytes, then the fsync `always` asks for; the bytes of buf now in the file.
 * A failure is Redis's AOF write error (flushAppendOnlyFile): with `always` the process exits (a
 * reply may already promise the write); otherwise a short write is cut off the file again,
 * aof_last_write_status turns err and writes get -MISCONF until every log's bytes are written:
 * `units` is the caller's share of W_AOF_PENDING, given up when this write takes them all; a
 * failed write with none gives the caller one (counted before the status turns err, so no other
 * thread's write can find the count at 0 and turn it ok meanwhile).
 */
export function writeAll (fd: number, buf: Uint8Array, len: number, units = 0, sync = true): number {
  const i32 = saveWords().i32
  let off = 0
  try {
    while (off < len) off += writeSync(fd, buf, off, len - off)
    if (i32[W_AOF_FSYNC] === FSYNC_ALWAYS) {
      const mine = Atomics.add(i32, W_AOF_WRITES, 1) + 1
      if (sync) {
        try {
          syncUpTo(i32, fd, mine)
        } catch (err) {
          alwaysSyncFailed((err as NodeJS.ErrnoException).code)
        }
        if (aofDebt.n !== 0 && !isAfter(aofDebt.n, mine) && aofDebt.fd === fd) aofDebt.n = 0
      } else {
        owe(mine, fd)
      }
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (i32[W_AOF_FSYNC] === FSYNC_ALWAYS) {
      logLine(`Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting... (${strerror(e.code)})\n`)
      exitProcess()
    }
    const now = Date.now()
    const canLog = now - lastErrorLog >= ERROR_LOG_RATE_MS
    if (canLog) lastErrorLog = now
    if (off > 0) {
      if (canLog) logLine(`Short write while writing to the AOF file: (nwritten=${off}, expected=${len})\n`)
      try {
        ftruncateSync(fd, fstatSync(fd).size - off)
        off = 0
      } catch (t) {
        logLine(`Could not remove short write from the append-only file. Redis may refuse to load the AOF the next time it starts. ftruncate: ${strerror((t as NodeJS.ErrnoException).code)}\n`)
      }
    } else if (canLog) {
      logLine(`Error writing to the AOF file: ${strerror(e.code)}\n`)
    }
    if (units === 0) Atomics.add(i32, W_AOF_PENDING, 1)
    // A short write is reported as ENOSPC, as Redis does.
    Atomics.store(i32, W_AOF_ERRNO, off > 0 || e.code === undefined ? ENOSPC : -(e.errno ?? -ENOSPC))
    if (Atomics.exchange(i32, W_AOF_WRITE_OK, 0) !== 0) updateDenyWrites()
    return off
  }
  if (units !== 0) Atomics.sub(i32, W_AOF_PENDING, units)
  if (Atomics.load(i32, W_AOF_WRITE_OK) === 0 && Atomics.load(i32, W_AOF_PENDING) === 0 && Atomics.compareExchange(i32, W_AOF_WRITE_OK, 0, 1) === 0) {
    logLine('AOF write error looks solved, Redis can write again.\n')
    updateDenyWrites()
  }
  return len
}

/**
 * exit(1) of the whole server: a worker's process.exit ends only its thread (and a shard's would
 * be replaced), so a worker asks the main thread (shard-link.ts) and holds its replies meanwhile;
 * a thread no one answers (an I/O thread) kills the process.
 */
function exitProcess (): never {
  if (isMainThread) process.exit(1)
  parentPort?.postMessage({ op: 'fatal-exit', code: 1 })
  const hold = new Int32Array(new SharedArrayBuffer(4))
  Atomics.wait(hold, 0, 0, 2000)
  process.kill(process.pid, 'SIGKILL')
  for (;;) Atomics.wait(hold, 0, 0)
}

/**
 * A log line written at once (fd 2): a shard thread's process.stderr only drains when its event
 * loop turns, which a shard busy in its own loop may not do for a while. As Redis, write errors
 * are logged at most every AOF_WRITE_LOG_ERROR_RATE (30 s) per thread.
 */
function logLine (line: string): void {
  try { writeSync(2, line) } catch {}
}
let lastErrorLog = 0
const ERROR_LOG_RATE_MS = 30_000

const ENOSPC = constants.errno.ENOSPC
const ERRNO_CODES = new Map(Object.entries(constants.errno).map(([code, n]) => [n, code]))
/** strerror(3) for the codes a file write or a directory check meets (glibc's texts). */
const STRERROR: Record<string, string> = {
  ENOSPC: 'No space left on device', EIO: 'Input/output error', EDQUOT: 'Disk quota exceeded', EROFS: 'Read-only file system',
  EBADF: 'Bad file descriptor', EFBIG: 'File too large', EACCES: 'Permission denied', EPERM: 'Operation not permitted',
  EINVAL: 'Invalid argument', ENOENT: 'No such file or directory', ENOTDIR: 'Not a directory',
}
export function strerror (code: string | undefined): string { return code === undefined ? 'Unknown error' : STRERROR[code] ?? code }

let misconfErrno = 0
let misconf = Buffer.alloc(0)
/**
 * writeCommandsGetDiskErrorMessage's AOF case: the last failed write's strerror, or while writes
 * work and an everysec fsync failed, the fsync's (writeCommandsDeniedByDiskError copies it).
 */
export function aofMisconf (): Buffer {
  const i32 = saveWords().i32
  const n = Atomics.load(i32, W_AOF_WRITE_OK) === 0 || Atomics.load(i32, W_AOF_FSYNC_OK) !== 0 ? Atomics.load(i32, W_AOF_ERRNO) : Atomics.load(i32, W_AOF_FSYNC_ERRNO)
  if (n !== misconfErrno) {
    misconfErrno = n
    misconf = Buffer.from(`-MISCONF Errors writing to the AOF file: ${strerror(ERRNO_CODES.get(n))}\r\n`)
  }
  return misconf
}

/**
 * The outcome of an everysec fsync, as Redis's bio thread records it: a failure turns
 * aof_bio_fsync_status err (logged when it was ok) and denies writes; a sync that works turns it
 * ok again. EBADF and EINVAL do not count (the descriptor was closed meanwhile: a rewrite).
 */
export function fsyncDone (err: NodeJS.ErrnoException | null): void {
  const i32 = saveWords().i32
  if (err !== null && err.code !== 'EBADF' && err.code !== 'EINVAL') {
    Atomics.store(i32, W_AOF_FSYNC_ERRNO, -(err.errno ?? -constants.errno.EIO))
    if (Atomics.exchange(i32, W_AOF_FSYNC_OK, 0) !== 0) {
      logLine(`Fail to fsync the AOF file: ${strerror(err.code)}\n`)
      updateDenyWrites()
    }
    return
  }
  if (Atomics.exchange(i32, W_AOF_FSYNC_OK, 1) === 0) updateDenyWrites()
}

/** FLASHKV_FAULT_FSYNC=<path> (tests): while that file exists, syncs fail with EIO (aof-files.ts for everysec). */
const faultFsync = process.env.FLASHKV_FAULT_FSYNC

/**
 * Whether write number `a` of W_AOF_WRITES comes after `b`. The counter is an int32 that wraps
 * (after 2^31 writes, about a day of unpipelined writes under always), so compare by difference.
 */
export function isAfter (a: number, b: number): boolean { return ((a - b) | 0) > 0 }

/**
 * Group commit across threads: a sync that starts after this thread's write (number `mine` of
 * W_AOF_WRITES) covers it, so while one thread is in fdatasync the others wait for it (or find
 * their write covered) instead of queueing syncs of their own on the same file.
 */
function syncUpTo (i32: Int32Array, fd: number, mine: number): void {
  for (;;) {
    if (!isAfter(mine, Atomics.load(i32, W_AOF_SYNCED))) {
      // Covered, unless that sync was of another file (a rewrite switched files meanwhile).
      if (Atomics.load(i32, W_AOF_SYNCED_FD) !== fd) fdatasyncSync(fd)
      return
    }
    if (Atomics.compareExchange(i32, W_AOF_SYNC_LOCK, 0, 1) === 0) {
      const upTo = Atomics.load(i32, W_AOF_WRITES)
      try {
        if (faultFsync !== undefined && existsSync(faultFsync)) throw Object.assign(new Error('EIO'), { code: 'EIO', errno: -constants.errno.EIO })
        fdatasyncSync(fd)
        Atomics.store(i32, W_AOF_SYNCED_FD, fd)
        if (isAfter(upTo, Atomics.load(i32, W_AOF_SYNCED))) Atomics.store(i32, W_AOF_SYNCED, upTo)
      } finally {
        Atomics.store(i32, W_AOF_SYNC_LOCK, 0)
        Atomics.notify(i32, W_AOF_SYNC_LOCK)
      }
      return
    }
    Atomics.wait(i32, W_AOF_SYNC_LOCK, 1, 50)
  }
}

/**
 * A sync this thread owes before its next replies leave, under `always`: the W_AOF_WRITES number
 * of a write made without one (0: none), on descriptor `fd`. A shard hands it to its rings' gates
 * as it publishes (gateRings, "Reply gate" below). A cross-shard move's block is written by the
 * destination without a sync, and both shards owe it (commands/xmove.ts), so moves in one batch
 * share the batch's sync instead of taking one each.
 */
export const aofDebt = { n: 0, fd: 0 }

/** Records a sync owed for write number `n` on `fd` (another thread's too). */
export function owe (n: number, fd: number): void {
  // Another file (a rewrite's cut): the old one is synced first, so that a gate never names the
  // new descriptor while replies still wait for writes to the old one (see "Reply gate").
  if ((aofDebt.n !== 0 && aofDebt.fd !== fd) || (aofGated.n !== 0 && aofGated.fd !== fd)) settleAof()
  if (aofDebt.n === 0 || isAfter(n, aofDebt.n)) aofDebt.n = n
  aofDebt.fd = fd
}

/**
 * Pays the owed sync here, and the one handed to the gates (before a rewrite's cut switches files).
 * A descriptor closed meanwhile was synced by the rewrite that closed it. Any other failure is
 * Redis's fsync failure under `always`: exit.
 */
export function settleAof (): void {
  if (aofGated.n !== 0) {
    const { n, fd } = aofGated
    aofGated.n = 0
    syncOrExit(fd, n)
  }
  const { n, fd } = aofDebt
  if (n === 0) return
  aofDebt.n = 0
  syncOrExit(fd, n)
}

// --- Reply gate (appendfsync always) -------------------------------------------------------------
// No reply to a write leaves before its effects are fdatasynced. A shard writes a batch's effects
// and publishes the batch's replies at once, without a sync: each of its response rings' GATE
// words names the last write made before them (gateRings). The thread that reads a ring (the
// primary or an I/O thread) notes the gate as it drains replies (noteGate) and syncs that far
// before it writes any reply out (passGate): once per turn, for all its shards, as Redis syncs
// in beforeSleep before its replies go out. So a shard never waits for the disk, and no thread
// has to wake another between the sync and the replies.

/** A shard's writes handed to its rings' gates, which a rewrite's cut (settleAof) syncs itself. */
export const aofGated = { n: 0, fd: 0 }

/** Shard: the owed sync passes to the readers of these rings (all of the shard's, every batch). */
export function gateRings (ctrls: readonly Int32Array[]): void {
  const { n, fd } = aofDebt
  for (let i = 0; i < ctrls.length; i++) {
    Atomics.store(ctrls[i], GATE_FD, fd)
    Atomics.store(ctrls[i], GATE, n)
  }
  aofGated.n = n
  aofGated.fd = fd
  aofDebt.n = 0
}

/** This thread's gate as a ring reader: the last write named, and the last it synced to. */
const replyGate = { n: 0, fd: 0, done: 0, isSet: false }

/** Writes synced before this thread first looked are behind its gate (so the counter may wrap). */
function startGate (): void {
  replyGate.isSet = true
  replyGate.n = replyGate.done = Atomics.load(saveWords().i32, W_AOF_SYNCED)
}

/** Reader: notes the gate of a ring whose replies it takes now (ShardLink.drain). */
export function noteGate (ctrl: Int32Array): void {
  const n = Atomics.load(ctrl, GATE)
  if (n === replyGate.n) return
  if (!replyGate.isSet) startGate()
  if (!isAfter(n, replyGate.n)) return
  replyGate.n = n
  // Read after the number: a descriptor newer than it means the cut synced the older file.
  replyGate.fd = Atomics.load(ctrl, GATE_FD)
}

/**
 * Reader: its own write made without a sync (a transaction's block, server/txn.ts) gates its
 * replies as a ring's gate does. Returns the write's number (0: none), for the shards to owe.
 */
export function gateOwnDebt (): number {
  const { n, fd } = aofDebt
  if (n === 0) return 0
  aofDebt.n = 0
  if (!replyGate.isSet) startGate()
  if (isAfter(n, replyGate.n)) { replyGate.n = n; replyGate.fd = fd }
  return n
}

/** Reader: before any reply leaves this process, the writes its gates named are synced. */
export function passGate (): void {
  if (replyGate.n === replyGate.done) return
  const n = replyGate.n
  syncOrExit(replyGate.fd, n)
  replyGate.done = n
}

/** syncUpTo, or Redis's exit when that fails. */
function syncOrExit (fd: number, n: number): void {
  try {
    syncUpTo(saveWords().i32, fd, n)
  } catch (err) {
    alwaysSyncFailed((err as NodeJS.ErrnoException).code)
  }
}

/**
 * A failed sync under `always`: Redis 7.0 logs it and exits 1 (flushAppendOnlyFile). A descriptor
 * closed meanwhile is not one: the rewrite that closed it synced it.
 */
function alwaysSyncFailed (code: string | undefined): void {
  if (code === 'EBADF') return
  logLine(`Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${strerror(code)}. Exiting...\n`)
  exitProcess()
}

/** True while writes are logged. */
export function aofIsOn (): boolean { return saveWords().i32[W_AOF_ON] !== 0 }

/**
 * A shard thread's log and the descriptor it appends to: set at start, and switched at a
 * rewrite's cut (BGREWRITEAOF's shard part) to the new incremental file.
 */
export const shardAof: { log: AofLog, fd: number } = { log: new AofLog(), fd: 0 }

/**
 * A replacement shard: the dead thread's log is gone with the bytes a full disk kept out of the
 * file (lost, unlike Redis's aof_buf). Its share of W_AOF_PENDING is given back, so the write
 * status can turn ok again once nothing else is kept.
 */
export function forgetDeadShardAof (index: number): void {
  const { i32, f64 } = saveWords()
  const lost = f64[F_AOF_PENDING_SHARD + index]
  shardAof.log.mirror = F_AOF_PENDING_SHARD + index
  if (lost === 0) return
  f64[F_AOF_PENDING_SHARD + index] = 0
  logLine(`Shard ${index} stopped with AOF data it could not write yet: that data is lost.\n`)
  if (Atomics.sub(i32, W_AOF_PENDING, lost) === lost && Atomics.compareExchange(i32, W_AOF_WRITE_OK, 0, 1) === 0) updateDenyWrites()
}

/** Writes the shard's buffered effects to its file (`sync` false: the sync is owed, aofDebt). */
export function flushShardAof (sync = true): void {
  shardAofHooks.beforeFlush?.()
  shardAof.log.flush(shardAof.fd, sync)
}

/**
 * beforeFlush: set by the move exchange on a shard thread (commands/xmove.ts awaitGroup): a part
 * of an AOF group handed to another shard must be in the file before this shard writes anything
 * it logged later.
 */
export const shardAofHooks: { beforeFlush: (() => void) | null } = { beforeFlush: null }
