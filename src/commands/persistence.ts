// SAVE, BGSAVE, LASTSAVE and SHUTDOWN (Redis's rdb.c saveCommand, bgsaveCommand and
// lastsaveCommand, server.c's shutdownCommand), and the save points' cron. SAVE runs on every shard
// at one point of the command order (route 'all', a consistent cut as for a split MSET): each
// shard encodes its own keys, database by database, as RDB records (persistence/rdb-value.ts),
// and the client's thread puts them together into one RDB version 10 file, written to a temporary
// file in `dir` and renamed over `dir/dbfilename`. The shards load that file at start
// (persistence/rdb-file.ts). BGSAVE takes the same cut without fork: each shard then encodes its
// keys in the background (persistence/snapshot.ts) and the main thread has the parts joined into
// the file (persistence/bgsave.ts). BGREWRITEAOF takes the same cut to start a new incremental
// file and a new base (persistence/aof-files.ts).

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, ClientContext, ServerSettings } from './spec.js'
import type { Command } from './table.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { libraryCodes } from './functions.js'
import { DATABASES } from '../storage/shard.js'
import { ByteWriter } from '../persistence/listpack.js'
import { saveString } from '../persistence/rdb-value.js'
import { rdbHeader, dbHeader, checksumBytes, writeAtomically, RDB_OPCODE_EOF } from '../persistence/rdb-writer.js'
import { crc64 } from '../persistence/crc64.js'
import { OK } from '../protocol/replies.js'
import { errorReply, SYNTAX_ERR } from '../protocol/errors.js'
import { startSnapshot, snapshot, encodeRecord, markSaveCut, dropSaveCut } from '../persistence/snapshot.js'
import { beginRewrite, aofCron } from '../persistence/aof-files.js'
import { shardAof, flushShardAof, settleAof } from '../persistence/aof.js'
import { W_AOF_REWRITE, W_AOF_SCHEDULED, W_AOF_NEXT_FD } from '../persistence/save-state.js'
import { SHUTDOWN_NOSAVE, SHUTDOWN_SAVE, SHUTDOWN_NOW, SHUTDOWN_FORCE, saveWords, updateDenyWrites, W_SCHEDULED, isLoading, hasSavePoints, W_SHUTDOWN_DONE, W_BGSAVE, W_SNAPSHOT_ID, W_CHECKSUM, W_LAST_OK, F_BGSAVE_START, F_SAVE_POINTS, F_DIRTY, W_LAST_SAVED_ID } from '../persistence/save-state.js'

const ERR = errorReply('ERR')
const RDB_OPCODE_FUNCTION2 = 0xf5
/** A shard's SAVE part that holds function libraries instead of a database's records. */
const FUNCTIONS_PART = 255

const BGSAVE_RUNNING = errorReply('ERR Background save already in progress')
/** shared.loadingerr */
export const LOADING = Buffer.from('-LOADING Redis is loading the dataset in memory\r\n')
/** shared.bgsaveerr */
export const MISCONF = Buffer.from("-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n")

/** rdbSave and rdbSaveBackground both refuse while a background save runs. */
function saveAdmit (): Buffer | null {
  const i32 = saveWords().i32
  if (Atomics.load(i32, W_BGSAVE) !== 0) return BGSAVE_RUNNING
  // A new cut id: the shards count changes from it once saveFinish has written the file.
  Atomics.add(i32, W_SNAPSHOT_ID, 1)
  return null
}

/** bgsaveCommand's checks, then the one thread that wins the state word starts it. */
function bgsaveAdmit (_c: ClientContext, argv: Argv): Buffer | null {
  if (argv.argc > 2 || (argv.argc === 2 && (argv.len[1] !== 8 || Buffer.from(argv.buf.buffer, argv.buf.byteOffset + argv.start[1], 8).toString('latin1').toLowerCase() !== 'schedule'))) return SYNTAX_ERR
  // bgsaveCommand: an AOF rewrite runs (it holds the snapshot): only SCHEDULE waits for it.
  if (Atomics.load(saveWords().i32, W_AOF_REWRITE) !== 0) {
    if (argv.argc === 2) { Atomics.store(saveWords().i32, W_SCHEDULED, 1); return BGSAVE_SCHEDULED }
    return AOF_REWRITING
  }
  return beginBgsave() ? null : BGSAVE_RUNNING
}
const AOF_REWRITING = errorReply("ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")

/** Claims the background save for a new snapshot; false when one runs. */
export function beginBgsave (): boolean {
  const w = saveWords()
  if (Atomics.compareExchange(w.i32, W_BGSAVE, 0, 1) !== 0) return false
  w.f64[F_BGSAVE_START] = Date.now()
  Atomics.add(w.i32, W_SNAPSHOT_ID, 1)
  return true
}

/** The cut: this shard's snapshot starts here; its walk runs between request batches. */
function bgsaveShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  // Only a BGSAVE its admit claimed starts one. Inside EXEC nothing was claimed: Redis then
  // schedules one (server.in_exec), unless one runs.
  const w = saveWords()
  const id = Atomics.load(w.i32, W_SNAPSHOT_ID)
  if (Atomics.load(w.i32, W_BGSAVE) === 0) { out.status('SCHEDULED'); return }
  if (snapshot.active || id === lastSnapshotId) { out.raw(BGSAVE_RUNNING); return }
  lastSnapshotId = id
  startSnapshot(shard, id)
  out.status('OK')
}
let lastSnapshotId = 0

const BGSAVE_STARTED = Buffer.from('+Background saving started\r\n')

// --- BGREWRITEAOF (persistence/aof-files.ts has the files' side) --------------------------------
const REWRITE_RUNNING = errorReply('ERR Background append only file rewriting already in progress')
const REWRITE_SCHEDULED = Buffer.from('+Background append only file rewriting scheduled\r\n')
const REWRITE_STARTED = Buffer.from('+Background append only file rewriting started\r\n')
const REWRITE_FAILED = errorReply("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")

/** bgrewriteaofCommand: one rewrite at a time; scheduled while a BGSAVE runs; else this thread starts it. */
function bgrewriteaofAdmit (): Buffer | null {
  const i32 = saveWords().i32
  if (Atomics.load(i32, W_AOF_REWRITE) !== 0) return REWRITE_RUNNING
  if (Atomics.load(i32, W_BGSAVE) !== 0) { Atomics.store(i32, W_AOF_SCHEDULED, 1); return REWRITE_SCHEDULED }
  return beginRewrite() ? null : REWRITE_FAILED
}

/**
 * The rewrite's cut on this shard: what it logged so far goes to the old incremental file, what
 * follows to the new one, and its snapshot (the new base) starts here.
 */
function bgrewriteaofShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  const w = saveWords()
  const id = Atomics.load(w.i32, W_SNAPSHOT_ID)
  // Inside EXEC nothing was claimed: Redis schedules it (server.in_exec).
  if (Atomics.load(w.i32, W_AOF_REWRITE) === 0) { out.status('SCHEDULED'); return }
  if (snapshot.active || id === lastSnapshotId) { out.raw(REWRITE_RUNNING); return }
  lastSnapshotId = id
  flushShardAof()
  settleAof()
  shardAof.fd = w.i32[W_AOF_NEXT_FD]
  startSnapshot(shard, id)
  out.status('OK')
}

function bgrewriteaofFinish (_c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  if (parts.some(p => p[0] === 45)) { out.raw(REWRITE_RUNNING); return }
  if (parts.some(p => p.toString('latin1', 1, 10) === 'SCHEDULED')) {
    Atomics.store(saveWords().i32, W_AOF_SCHEDULED, 1)
    out.raw(REWRITE_SCHEDULED)
    return
  }
  out.raw(REWRITE_STARTED)
}

const BGREWRITEAOF_ARGV: Argv = { buf: Buffer.from('bgrewriteaof'), argc: 1, start: Int32Array.of(0), len: Int32Array.of(12) }

/** The cron's AOF part (scheduled and automatic rewrites), on the thread with the save points. */
export function rewriteCron (router: { sendAllInternal: (cmd: Command, argv: Argv) => boolean }, cmd: Command, log: Parameters<typeof aofCron>[1]): void {
  aofCron(() => router.sendAllInternal(cmd, BGREWRITEAOF_ARGV), log)
}
const BGSAVE_SCHEDULED = Buffer.from('+Background saving scheduled\r\n')

function bgsaveFinish (_c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  if (parts.some(p => p[0] === 45)) { out.raw(BGSAVE_RUNNING); return }
  if (parts.some(p => p.toString('latin1', 1, 10) === 'SCHEDULED')) {
    // rdb_bgsave_scheduled: the save points' cron starts it.
    Atomics.store(saveWords().i32, W_SCHEDULED, 1)
    out.raw(BGSAVE_SCHEDULED)
    return
  }
  out.raw(BGSAVE_STARTED)
}

const BGSAVE_ARGV: Argv = { buf: Buffer.from('bgsave'), argc: 1, start: Int32Array.of(0), len: Int32Array.of(6) }
/** Unix seconds of the last BGSAVE the save points started (CONFIG_BGSAVE_RETRY_DELAY after a failure). */
let lastTrySec = 0

/**
 * serverCron's save points (every 100 ms, on one thread): a BGSAVE once at least `changes`
 * changes (every shard's) are older than `seconds` since the last save. After a failed one, not
 * again for 5 seconds.
 */
let savesSeen = 0
let settleUntil = 0
/** Two of the shards' 100 ms ticks: long enough for every shard to publish its count again. */
const SETTLE_MS = 250

export function saveCron (router: { sendAllInternal: (cmd: Command, argv: Argv) => boolean }, bgsave: Command, settings: ServerSettings, shards: number): void {
  const { i32, f64 } = saveWords()
  const points = f64[F_SAVE_POINTS]
  if (Atomics.load(i32, W_BGSAVE) !== 0 || isLoading()) return
  const now = Date.now() / 1000
  if (Atomics.load(i32, W_SCHEDULED) !== 0) {
    lastTrySec = now
    if (startBgsave(router, bgsave, false)) Atomics.store(i32, W_SCHEDULED, 0)
    return
  }
  if (points === 0) return
  // A save just finished: each shard counts its changes from the cut again at its next stats
  // publish (at most a tick, 100 ms, away). Until then the counts are the old ones, and a point
  // could start a second save at once.
  if (settings.rdbSaves !== savesSeen) { savesSeen = settings.rdbSaves; settleUntil = Date.now() + SETTLE_MS; return }
  if (Date.now() < settleUntil) return
  if (i32[W_LAST_OK] === 0 && now - lastTrySec <= 5) return
  let dirty = 0
  for (let s = 0; s < shards; s++) dirty += f64[F_DIRTY + s]
  for (let i = 0; i < points; i++) {
    if (dirty >= f64[F_SAVE_POINTS + 2 + 2 * i] && now - settings.lastSaveSec > f64[F_SAVE_POINTS + 1 + 2 * i]) {
      lastTrySec = now
      startBgsave(router, bgsave, false)
      return
    }
  }
}

/**
 * A BGSAVE of the server's own (save points, SIGTERM): false when one runs already or a shard
 * cannot take it now (a full ring, a dead shard), and the claim is given back; with `retry` it
 * is tried again shortly (the cron tries again on its next tick anyway).
 */
export function startBgsave (router: { sendAllInternal: (cmd: Command, argv: Argv) => boolean }, bgsave: Command, retry = true): boolean {
  if (!beginBgsave()) return false
  if (router.sendAllInternal(bgsave, BGSAVE_ARGV)) return true
  Atomics.store(saveWords().i32, W_BGSAVE, 0)
  if (retry) setTimeout(() => startBgsave(router, bgsave), 10)
  return false
}

/**
 * The shard's part: for each database with keys, | u8 db | u32 keys | u32 with a TTL | u32 bytes |
 * and that many bytes of RDB records (expire time, type, key, object).
 */
function saveShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  markSaveCut(shard, Atomics.load(saveWords().i32, W_SNAPSHOT_ID))
  out.bulkBuf(encodeShard(shard))
}

function encodeShard (shard: Shard): Buffer {
  const w = new ByteWriter(1024)
  for (let db = 0; db < DATABASES; db++) {
    const ks = shard.dbs[db]
    if (ks === null || ks.count === 0) continue
    const at = w.len
    w.need(13)
    w.len += 13
    let keys = 0
    let expires = 0
    const now = Date.now()
    ks.forEach(e => {
      if (encodeRecord(w, ks, e, now)) expires++
      keys++
    })
    w.buf[at] = db
    w.buf.writeUInt32LE(keys, at + 1)
    w.buf.writeUInt32LE(expires, at + 5)
    w.buf.writeUInt32LE(w.len - at - 13, at + 9)
  }
  // The hub (shard 0) holds the function libraries: a part marked 255, of FUNCTION2 records.
  const libs = shard.index === 0 ? libraryCodes() : []
  if (libs.length > 0) {
    const at = w.len
    w.need(13)
    w.len += 13
    for (const code of libs) {
      w.byte(RDB_OPCODE_FUNCTION2)
      saveString(w, code, 0, code.length)
    }
    w.buf[at] = FUNCTIONS_PART
    w.buf.writeUInt32LE(libs.length, at + 1)
    w.buf.writeUInt32LE(0, at + 5)
    w.buf.writeUInt32LE(w.len - at - 13, at + 9)
  }
  return Buffer.from(w.result)
}

/** The whole RDB file from the shards' replies to SAVE (rdbSaveRio's layout). */
export function rdbFile (parts: readonly Buffer[], version: string, usedMemory: number): Buffer {
  const w = new ByteWriter(64 + parts.reduce((n, p) => n + p.length, 0))
  rdbHeader(w, version, usedMemory)
  const byDb: Array<Array<[number, number, Buffer]>> = Array.from({ length: DATABASES }, () => [])
  const functions: Buffer[] = []
  for (const reply of parts) {
    // Each part is the shard's reply, a bulk string: $<length>\r\n<bytes>\r\n.
    const nl = reply.indexOf(13)
    const part = reply.subarray(nl + 2, nl + 2 + Number(reply.toString('latin1', 1, nl)))
    for (let p = 0; p < part.length;) {
      const db = part[p]
      const len = part.readUInt32LE(p + 9)
      if (db === FUNCTIONS_PART) functions.push(part.subarray(p + 13, p + 13 + len))
      else byDb[db].push([part.readUInt32LE(p + 1), part.readUInt32LE(p + 5), part.subarray(p + 13, p + 13 + len)])
      p += 13 + len
    }
  }
  // rdbSaveRio: the libraries after the AUX fields, before the databases.
  for (const f of functions) w.bytes(f)
  for (let db = 0; db < DATABASES; db++) {
    if (byDb[db].length === 0) continue
    dbHeader(w, db, byDb[db].reduce((n, [k]) => n + k, 0), byDb[db].reduce((n, [, x]) => n + x, 0))
    for (const [, , records] of byDb[db]) w.bytes(records)
  }
  w.byte(RDB_OPCODE_EOF)
  w.bytes(checksumBytes(saveWords().i32[W_CHECKSUM] !== 0 ? crc64(w.buf, 0, w.len) : null))
  return w.result
}

/** Writes the file whole or not at all: a temporary file, fsync, then rename over the old one. */
export function writeRdb (dir: string, name: string, bytes: Uint8Array): void {
  writeAtomically(dir, name, `temp-${process.pid}.rdb`, put => put(bytes))
}

/**
 * rdbSave on the main thread: the shards' parts joined into the file, LASTSAVE moved. A failure
 * (unwritable dir, full disk) is logged as Redis logs it; false then.
 */
function rdbSave (srv: ClientContext['server'], parts: readonly Buffer[]): boolean {
  try {
    writeRdb(srv.dir, srv.dbfilename, rdbFile(parts, srv.version, 0))
  } catch (err) {
    srv.log.warn({ err }, `Write error saving DB on disk: ${(err as Error).message}`)
    return false
  }
  srv.settings.lastSaveSec = Math.floor(Date.now() / 1000)
  srv.settings.rdbSaves++
  // A save that worked clears the failed background save's MISCONF.
  saveWords().i32[W_LAST_OK] = 1
  updateDenyWrites()
  return true
}

function saveFinish (c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  // A failed SAVE is a bare -ERR, and the changes since the last save still count.
  if (!rdbSave(c.server, parts)) { out.raw(ERR); return }
  Atomics.store(saveWords().i32, W_LAST_SAVED_ID, Atomics.load(saveWords().i32, W_SNAPSHOT_ID))
  out.raw(OK)
}

// --- FLUSHALL's save (db.c flushAllDataAndResetRDB) ---------------------------------------------

/**
 * With save points set, FLUSHALL saves at once (rdbSave): each shard answers its part of the file
 * instead of +OK, the hub's holding the function libraries FLUSHALL keeps, and counts no changes
 * since (Redis's rdbSave clears dirty; a BGSAVE it dropped never counts).
 */
export function flushallSaveShard (shard: Shard, out: ReplyWriter): void {
  dropSaveCut(shard)
  out.bulkBuf(encodeShard(shard))
}

/** The parts joined into dump.rdb, LASTSAVE moved; a failed write is logged, as rdbSave does, and FLUSHALL still answers OK. */
export function flushallFinish (c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const failed = parts.find(p => p[0] === 45)
  if (failed !== undefined) { out.raw(failed); return }
  // '$': a shard saw save points (a CONFIG SET save between the shards' runs leaves some '+OK').
  const saved = parts.filter(p => p[0] === 36)
  if (saved.length > 0) rdbSave(c.server, saved)
  out.raw(OK)
}

// --- SHUTDOWN ------------------------------------------------------------------------------------

const SHUTDOWN_ABORT = 16
const NO_SHUTDOWN = errorReply('ERR No shutdown in progress.')
export const SHUTDOWN_FAILED = errorReply('ERR Errors trying to SHUTDOWN. Check logs.')

/** shutdownCommand's options: the flags, or the error to answer. */
export function shutdownFlags (argv: Argv): number | Buffer {
  const { buf, start, len, argc } = argv
  let flags = 0
  for (let i = 1; i < argc; i++) {
    const a = Buffer.from(buf.buffer, buf.byteOffset + start[i], len[i]).toString('latin1').toLowerCase()
    if (a === 'nosave') flags |= SHUTDOWN_NOSAVE
    else if (a === 'save') flags |= SHUTDOWN_SAVE
    else if (a === 'now') flags |= SHUTDOWN_NOW
    else if (a === 'force') flags |= SHUTDOWN_FORCE
    else if (a === 'abort') flags |= SHUTDOWN_ABORT
    else return SYNTAX_ERR
  }
  if (((flags & SHUTDOWN_ABORT) !== 0 && flags !== SHUTDOWN_ABORT) || ((flags & SHUTDOWN_NOSAVE) !== 0 && (flags & SHUTDOWN_SAVE) !== 0)) return SYNTAX_ERR
  // Nothing waits for replicas here, so there is never a shutdown in progress to abort.
  if (flags === SHUTDOWN_ABORT) return NO_SHUTDOWN
  return flags
}

/** Stops the server as SIGTERM does (main.ts): every thread's clients are closed, workers stopped. */
export function shutdownNow (): void {
  // SHUTDOWN saved already if it had to: the signal handler must not save again.
  Atomics.store(saveWords().i32, W_SHUTDOWN_DONE, 1)
  process.kill(process.pid, 'SIGTERM')
}

/** SHUTDOWN saves with SAVE, or without NOSAVE when there are save points. */
function shutdownSaves (flags: number): boolean {
  // While loading the data set is incomplete: never saved.
  if (isLoading()) return false
  return (flags & SHUTDOWN_SAVE) !== 0 || ((flags & SHUTDOWN_NOSAVE) === 0 && hasSavePoints())
}

/** The shard's part: its records when SHUTDOWN saves. */
function shutdownShardCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const flags = shutdownFlags(argv)
  if (typeof flags !== 'number') { out.raw(flags); return }
  out.bulkBuf(shutdownSaves(flags) ? encodeShard(shard) : Buffer.alloc(0))
}

/** prepareForShutdown: save if asked (a failure keeps the server up unless FORCE), then stop; the client gets no reply. */
function shutdownFinish (c: ClientContext, argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const flags = shutdownFlags(argv) as number
  if (shutdownSaves(flags)) {
    const srv = c.server
    try {
      writeRdb(srv.dir, srv.dbfilename, rdbFile(parts, srv.version, 0))
    } catch {
      if ((flags & SHUTDOWN_FORCE) === 0) { out.raw(SHUTDOWN_FAILED); return }
    }
  }
  shutdownNow()
}

function lastsaveCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.int(c.server.settings.lastSaveSec)
}

const SERVER = { group: 'server', firstKey: 0, lastKey: 0, step: 0, since: '1.0.0', acl: ['dangerous'] } as const

export const persistenceCommands: readonly CommandSpec[] = [
  {
    ...SERVER, name: 'save', arity: 1, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], route: 'all', merge: 'custom',
    summary: 'Synchronously save the dataset to disk', complexity: 'O(N) where N is the total number of keys in all databases',
    admit: saveAdmit, run: saveShardCommand, finish: saveFinish,
  },
  {
    ...SERVER, name: 'bgsave', arity: -1, flags: ['admin', 'noscript', 'no_async_loading'], route: 'all', merge: 'custom',
    summary: 'Asynchronously save the dataset to disk', complexity: 'O(1)',
    admit: bgsaveAdmit, run: bgsaveShardCommand, finish: bgsaveFinish,
  },
  {
    ...SERVER, name: 'bgrewriteaof', arity: 1, flags: ['admin', 'noscript', 'no_async_loading'], route: 'all', merge: 'custom',
    summary: 'Asynchronously rewrite the append-only file', complexity: 'O(1)',
    admit: bgrewriteaofAdmit, run: bgrewriteaofShardCommand, finish: bgrewriteaofFinish,
  },
  {
    ...SERVER, name: 'lastsave', arity: 1, flags: ['loading', 'stale', 'fast'], route: 'primary', acl: ['admin', 'dangerous'],
    tips: ['nondeterministic_output'], summary: 'Get the UNIX time stamp of the last successful save to disk', complexity: 'O(1)',
    local: lastsaveCommand,
  },
  {
    ...SERVER, name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], route: 'all', merge: 'custom',
    summary: 'Synchronously save the dataset to disk and then shut down the server',
    complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)',
    run: shutdownShardCommand, finish: shutdownFinish,
  },
]
