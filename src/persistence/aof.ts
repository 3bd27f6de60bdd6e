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

import { writeSync, fdatasyncSync } from 'node:fs'
import type { Argv } from '../commands/spec.js'
import { copyBytes } from '../bytes.js'
import { saveWords, W_AOF_ON, W_AOF_FD, W_AOF_FSYNC, W_AOF_TIMESTAMPS, W_AOF_WRITE_OK, W_AOF_WRITES, W_AOF_SYNCED, W_AOF_SYNCED_FD, W_AOF_SYNC_LOCK } from './save-state.js'

export const FSYNC_NO = 0
export const FSYNC_EVERYSEC = 1
export const FSYNC_ALWAYS = 2
export const FSYNC_NAMES = ['no', 'everysec', 'always']

const CRLF = 0x0a0d
const MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n')
const EXEC = Buffer.from('*1\r\n$4\r\nEXEC\r\n')

/** This thread's view of the AOF words: `on[0]` is the one check a write pays. */
export function aofOnWord (): Int32Array { return saveWords().i32.subarray(W_AOF_ON, W_AOF_ON + 1) }

export class AofLog {
  buf: Buffer
  len = 0
  /** The database the buffer's last command runs in (-1: the next command SELECTs first). */
  db = -1
  /** Commands appended (MULTI/EXEC and SELECT not counted). */
  count = 0
  private unitDepth = 0
  private unitAt = 0
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
    this.db = db
    this.num(42, 2)
    this.bulkStr('SELECT')
    this.bulkStr(String(db))
  }

  /** The command as the client sent it (argv[0] is its name). */
  argv (db: number, argv: Argv): void {
    this.select(db)
    this.num(42, argv.argc)
    for (let i = 0; i < argv.argc; i++) this.bulk(argv.buf, argv.start[i], argv.len[i])
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
   * An execution unit (EXEC, a script, a transaction): its effects are wrapped in MULTI/EXEC
   * when there are several, as propagatePendingCommands does; one effect goes alone. Nested
   * units are part of the outer one.
   */
  beginUnit (): void {
    if (this.unitDepth++ !== 0) return
    this.start()
    this.unitAt = this.len
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
   * Writes the buffer to the current incremental file (or `fd`), fdatasync first under
   * `appendfsync always`. The next chunk starts with its own SELECT.
   */
  flush (fd = saveWords().i32[W_AOF_FD]): void {
    if (this.len === 0 || this.unitDepth !== 0) return
    const len = this.len
    this.len = 0
    this.db = -1
    if (fd <= 0) return
    writeAll(fd, this.buf, len)
  }

  /** Forgets what is buffered (appendonly turned off). */
  clear (): void { this.len = 0; this.db = -1; this.count = 0; this.unitDepth = 0 }
}

/** One append of `len` bytes, then the fsync `always` asks for. A failure is Redis's AOF write error. */
export function writeAll (fd: number, buf: Uint8Array, len: number): void {
  const i32 = saveWords().i32
  try {
    let off = 0
    while (off < len) off += writeSync(fd, buf, off, len - off)
    if (i32[W_AOF_FSYNC] === FSYNC_ALWAYS) syncAfter(i32, fd)
    if (i32[W_AOF_WRITE_OK] === 0) i32[W_AOF_WRITE_OK] = 1
  } catch (err) {
    i32[W_AOF_WRITE_OK] = 0
    if (i32[W_AOF_FSYNC] === FSYNC_ALWAYS) {
      // flushAppendOnlyFile: with always, a reply may already promise what was not written.
      process.stderr.write(`Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting... (${(err as Error).message})\n`)
      process.exit(1)
    }
    process.stderr.write(`Error writing to the AOF file: ${(err as Error).message}\n`)
  }
}

/**
 * Group commit across threads: a sync that starts after this thread's write covers it, so while
 * one shard is in fdatasync the others wait for it (or find their write covered) instead of
 * queueing syncs of their own on the same file.
 */
function syncAfter (i32: Int32Array, fd: number): void {
  const mine = Atomics.add(i32, W_AOF_WRITES, 1) + 1
  for (;;) {
    if (Atomics.load(i32, W_AOF_SYNCED) >= mine) {
      // Covered, unless that sync was of another file (a rewrite switched files meanwhile).
      if (Atomics.load(i32, W_AOF_SYNCED_FD) !== fd) fdatasyncSync(fd)
      return
    }
    if (Atomics.compareExchange(i32, W_AOF_SYNC_LOCK, 0, 1) === 0) {
      const upTo = Atomics.load(i32, W_AOF_WRITES)
      try {
        fdatasyncSync(fd)
        Atomics.store(i32, W_AOF_SYNCED_FD, fd)
        if (Atomics.load(i32, W_AOF_SYNCED) < upTo) Atomics.store(i32, W_AOF_SYNCED, upTo)
      } finally {
        Atomics.store(i32, W_AOF_SYNC_LOCK, 0)
        Atomics.notify(i32, W_AOF_SYNC_LOCK)
      }
      return
    }
    Atomics.wait(i32, W_AOF_SYNC_LOCK, 1, 50)
  }
}

/** True while writes are logged. */
export function aofIsOn (): boolean { return saveWords().i32[W_AOF_ON] !== 0 }

/**
 * A shard thread's log and the descriptor it appends to: set at start, and switched at a
 * rewrite's cut (BGREWRITEAOF's shard part) to the new incremental file.
 */
export const shardAof: { log: AofLog, fd: number } = { log: new AofLog(), fd: 0 }

/** Writes the shard's buffered effects to its file. */
export function flushShardAof (): void { shardAof.log.flush(shardAof.fd) }
