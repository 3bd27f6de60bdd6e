// The append-only file on disk, Redis 7.0's multi-part layout (aof.c): under dir/appenddirname a
// base file (`<appendfilename>.<n>.base.rdb`, an RDB file, or `.base.aof`, commands),
// incremental files (`<appendfilename>.<n>.incr.aof`, the effects logged since) and a manifest
// (`<appendfilename>.manifest`, one `file <name> seq <n> type b|h|i` line per file) that says
// which files make the data set, replaced by tmp + fsync + rename. At start the base is loaded
// (an RDB base by the shards' RDB loader), then each incremental file is replayed through the
// normal command path by a loader client (aof-load.ts). A rewrite (BGREWRITEAOF) opens the next
// incremental file and lists it at once, then, once the new base is written, replaces the
// manifest and removes the old files.

import { Buffer } from 'node:buffer'
import { openSync, closeSync, readFileSync, writeSync, fsyncSync, mkdirSync, existsSync, statSync, fstatSync, unlinkSync, ftruncateSync, fdatasync, readSync } from 'node:fs'
import { join } from 'node:path'
import { constants } from 'node:os'
import { ByteWriter } from './listpack.js'
import { rdbHeader, checksumBytes, RDB_OPCODE_EOF, writeAtomically } from './rdb-writer.js'
import { crc64 } from './crc64.js'
import {
  saveWords, updateDenyWrites, W_AOF_ON, W_AOF_FD, W_AOF_FSYNC, W_AOF_TIMESTAMPS, W_AOF_PREAMBLE, W_AOF_LOAD_TRUNCATED, W_LOADING, W_AOF_LOADING, W_AOF_ENABLED, W_AOF_SCHEDULED,
  W_BGSAVE, W_AOF_REWRITE, W_AOF_NEXT_FD, W_AOF_OLD_FD, W_SNAPSHOT_ID, W_AOF_REWRITE_OK, W_AOF_WRITE_OK, W_AOF_FSYNC_OK, F_AOF_REWRITE_START, F_AOF_LAST_REWRITE_SEC, F_AOF_REWRITES,
  F_AOF_BASE_SIZE, F_AOF_AUTO_PERCENT, F_AOF_AUTO_MIN, F_LOAD_START, F_LOAD_TOTAL,
} from './save-state.js'
import { equalsLower, token } from '../protocol/ascii.js'
import { FSYNC_EVERYSEC, AofLog, fsyncDone } from './aof.js'
import { RdbLoader } from './rdb-file.js'
import { RDB_VERSION } from './rdb-value.js'

export interface AofConfig {
  readonly dir: string
  readonly appendonly: boolean
  readonly appendfsync: number
  readonly appenddirname: string
  readonly appendfilename: string
  readonly aofUseRdbPreamble: boolean
  readonly autoAofRewritePercentage: number
  readonly autoAofRewriteMinSize: number
  readonly aofLoadTruncated: boolean
  readonly aofTimestampEnabled: boolean
  readonly shards: number
}

export const TYPE_BASE = 'b'
export const TYPE_HIST = 'h'
export const TYPE_INCR = 'i'

export interface AofInfo { name: string, seq: number, type: string }
export interface Manifest { base: AofInfo | null, incrs: AofInfo[], history: AofInfo[] }

interface Logger { info: (o: object, m: string) => void, warn: (o: object, m: string) => void, fatal?: (o: object, m: string) => void }

/** Where this server's files are (set on every thread from the configuration). */
export const aofNames = { dir: '', dirname: 'appendonlydir', filename: 'appendonly.aof' }

export function setAofNames (dir: string, dirname: string, filename: string): void {
  aofNames.dir = dir
  aofNames.dirname = dirname
  aofNames.filename = filename
}

export function aofDir (): string { return join(aofNames.dir, aofNames.dirname) }
function manifestName (): string { return `${aofNames.filename}.manifest` }

/** A manifest line's file name, quoted as sdscatrepr does when it has spaces or odd bytes. */
function formatName (name: string): string {
  return /^[\x21-\x7e]+$/.test(name) && !name.includes('"') ? name : JSON.stringify(name)
}

/** aofInfoFormat's lines, base first, then history, then the incremental files in order. */
export function formatManifest (m: Manifest): string {
  const line = (f: AofInfo): string => `file ${formatName(f.name)} seq ${f.seq} type ${f.type}\n`
  let s = ''
  if (m.base !== null) s += line(m.base)
  for (const h of m.history) s += line(h)
  for (const i of m.incrs) s += line(i)
  return s
}

/** aofLoadManifestFromFile: null when there is none; throws on a malformed one. */
export function readManifest (): Manifest | null {
  const path = join(aofDir(), manifestName())
  if (!existsSync(path)) return null
  const m: Manifest = { base: null, incrs: [], history: [] }
  for (const raw of readFileSync(path, 'latin1').split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const tok = line.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? []
    const f: AofInfo = { name: '', seq: 0, type: '' }
    for (let i = 0; i + 1 < tok.length; i += 2) {
      const v = tok[i + 1].startsWith('"') ? JSON.parse(tok[i + 1]) as string : tok[i + 1]
      if (tok[i] === 'file') f.name = v
      else if (tok[i] === 'seq') f.seq = Number(v)
      else if (tok[i] === 'type') f.type = v
    }
    if (f.name === '' || f.type === '' || !Number.isInteger(f.seq)) throw new Error('Invalid AOF manifest file format')
    if (f.type === TYPE_BASE) m.base = f
    else if (f.type === TYPE_INCR) m.incrs.push(f)
    else if (f.type === TYPE_HIST) m.history.push(f)
    else throw new Error('Invalid AOF manifest file format')
  }
  return m
}

/** writeAofManifestFile: tmp + fsync + rename, then the directory is synced. */
export function writeManifest (m: Manifest): void {
  const dir = aofDir()
  writeAtomically(dir, manifestName(), `temp-${manifestName()}`, write => { write(Buffer.from(formatManifest(m), 'latin1')) })
  syncDir(dir)
}

function syncDir (dir: string): void {
  try { const fd = openSync(dir, 'r'); try { fsyncSync(fd) } finally { closeSync(fd) } } catch {}
}

export function baseName (seq: number, isRdb: boolean): string { return `${aofNames.filename}.${seq}.base.${isRdb ? 'rdb' : 'aof'}` }
export function incrName (seq: number): string { return `${aofNames.filename}.${seq}.incr.aof` }

/** Opens an incremental file for appending; its descriptor is shared by every thread. */
export function openIncr (name: string): number {
  return openSync(join(aofDir(), name), 'a', 0o644)
}

/** An RDB file with no keys (the base Redis creates when it starts with no AOF). */
export function emptyRdb (version: string): Buffer {
  const w = new ByteWriter(128)
  rdbHeader(w, version, 0)
  w.byte(RDB_OPCODE_EOF)
  w.bytes(checksumBytes(crc64(w.buf, 0, w.len)))
  return Buffer.from(w.result)
}

/** aof_current_size: the base and incremental files of the manifest. */
export function aofCurrentSize (): number {
  let m: Manifest | null = null
  try { m = readManifest() } catch {}
  if (m === null) return 0
  let n = 0
  for (const f of [...(m.base === null ? [] : [m.base]), ...m.incrs]) {
    try { n += statSync(join(aofDir(), f.name)).size } catch {}
  }
  return n
}

/** What the start-up found: the RDB base for the shards, and the files to replay in order. */
export interface AofStart { rdbFile: string | null, replay: string[] }

/**
 * Start-up with appendonly yes (loadAppendOnlyFiles, aofOpenIfNeededOnServerStart): reads the
 * manifest, checks the files (a truncated tail of the last one is cut off or refused as
 * aof-load-truncated says), creates an empty base and the first incremental file when there
 * is no AOF yet (dump.rdb is not loaded then, as in Redis 7.0), opens the last incremental
 * file for appending. Sets the shared words. Exits the process on a fatal error, as Redis does.
 */
export function prepareAof (c: AofConfig, version: string, log: Logger): AofStart {
  const { i32, f64 } = saveWords()
  i32[W_AOF_FSYNC] = c.appendfsync
  i32[W_AOF_TIMESTAMPS] = c.aofTimestampEnabled ? 1 : 0
  i32[W_AOF_PREAMBLE] = c.aofUseRdbPreamble ? 1 : 0
  i32[W_AOF_LOAD_TRUNCATED] = c.aofLoadTruncated ? 1 : 0
  f64[F_AOF_AUTO_PERCENT] = c.autoAofRewritePercentage
  f64[F_AOF_AUTO_MIN] = c.autoAofRewriteMinSize
  if (!c.appendonly) return { rdbFile: null, replay: [] }
  i32[W_AOF_ENABLED] = 1
  const dir = aofDir()
  const fatal = (msg: string): never => {
    if (log.fatal !== undefined) log.fatal({}, msg)
    else log.warn({}, msg)
    process.exit(1)
  }
  let m: Manifest | null = null
  try {
    mkdirSync(dir, { recursive: true })
    m = readManifest()
  } catch (err) {
    fatal(`Can't open or create append-only dir ${c.appenddirname}: ${(err as Error).message}`)
  }
  if (m === null || (m.base === null && m.incrs.length === 0)) {
    // Nothing to load: an empty base and the first incremental file, as Redis creates them.
    const base: AofInfo = { name: baseName(1, c.aofUseRdbPreamble), seq: 1, type: TYPE_BASE }
    m = { base, incrs: [], history: [] }
    const fd = openSync(join(dir, base.name), 'w')
    if (c.aofUseRdbPreamble) writeSync(fd, emptyRdb(version))
    fsyncSync(fd)
    closeSync(fd)
    log.info({}, `Creating AOF base file ${base.name} on server start`)
    m.incrs.push({ name: incrName(1), seq: 1, type: TYPE_INCR })
    closeSync(openIncr(m.incrs[0].name))
    log.info({}, `Creating AOF incr file ${m.incrs[0].name} on server start`)
    writeManifest(m)
  }
  const replay: string[] = []
  let rdbFile: string | null = null
  if (m.base !== null) {
    const path = join(dir, m.base.name)
    if (!existsSync(path)) fatal(`The AOF file ${m.base.name} doesn't exist`)
    if (isRdbFile(path)) rdbFile = path
    else { checkCommands(path, m.base.name, m.incrs.length === 0, c.aofLoadTruncated, fatal, log); replay.push(path) }
  }
  m.incrs.forEach((f, i) => {
    const path = join(dir, f.name)
    if (!existsSync(path)) fatal(`The AOF file ${f.name} doesn't exist`)
    if (checkCommands(path, f.name, i === m.incrs.length - 1, c.aofLoadTruncated, fatal, log) > 0) replay.push(path)
  })
  // Appends go to the last incremental file (a new one if the manifest has none).
  if (m.incrs.length === 0) {
    const seq = 1
    m.incrs.push({ name: incrName(seq), seq, type: TYPE_INCR })
    writeManifest(m)
  }
  const last = m.incrs[m.incrs.length - 1]
  i32[W_AOF_FD] = openIncr(last.name)
  log.info({}, `Opening AOF incr file ${last.name} on server start`)
  f64[F_AOF_BASE_SIZE] = aofCurrentSize()
  // loading:1 until the shards have the base and the loader client has replayed the rest.
  const total = (rdbFile !== null ? statSync(rdbFile).size : 0) + replay.reduce((n, p) => n + statSync(p).size, 0)
  f64[F_LOAD_START] = Date.now()
  f64[F_LOAD_TOTAL] = total
  Atomics.store(i32, W_LOADING, c.shards + (replay.length > 0 ? 1 : 0))
  if (replay.length === 0) Atomics.store(i32, W_AOF_ON, 1)
  // The base's keys already past their time are kept too while commands follow (Redis keeps
  // them in an AOF's RDB preamble): the replay may write them.
  else Atomics.store(i32, W_AOF_LOADING, 1)
  return { rdbFile, replay }
}

function isRdbFile (path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const b = Buffer.alloc(5)
    const n = fstatSync(fd).size >= 5 ? readSyncAll(fd, b) : 0
    return n === 5 && b.toString('latin1') === 'REDIS'
  } finally {
    closeSync(fd)
  }
}

function readSyncAll (fd: number, b: Buffer): number { return readSync(fd, b, 0, b.length, 0) }

const MULTI_TOKEN = token('multi')
const EXEC_TOKEN = token('exec')

/**
 * Scans RESP commands: the end of the last complete one, how many, and why it stopped. A file
 * whose commands end inside MULTI (no EXEC) is truncated at that MULTI (`isRevert`), as
 * loadSingleAppendOnlyFile reverts an incomplete transaction.
 */
export function scanCommands (b: Uint8Array, from = 0): { end: number, count: number, status: 'ok' | 'truncated' | 'bad', isRevert?: true } {
  let p = from
  let count = 0
  const n = b.length
  // The open MULTI's offset and the count before it (-1: none open).
  let multiAt = -1
  let multiCount = 0
  const readLine = (q: number): [number, number] | null => {
    let e = q
    while (e < n && b[e] !== 10) e++
    if (e >= n) return null
    if (e === q || b[e - 1] !== 13) return [-1, e + 1]
    let v = 0
    let neg = false
    let i = q
    if (b[i] === 45) { neg = true; i++ }
    if (i >= e - 1) return [-1, e + 1]
    for (; i < e - 1; i++) {
      const d = b[i] - 48
      if (d < 0 || d > 9) return [-1, e + 1]
      v = v * 10 + d
    }
    return [neg ? -v : v, e + 1]
  }
  while (p < n) {
    const start = p
    if (b[p] === 35) { // '#': an annotation line (#TS:...)
      let e = p
      while (e < n && b[e] !== 10) e++
      if (e >= n) return { end: start, count, status: 'truncated' }
      p = e + 1
      continue
    }
    if (b[p] !== 42) return { end: start, count, status: 'bad' }
    const h = readLine(p + 1)
    if (h === null) return { end: start, count, status: 'truncated' }
    if (h[0] < 1) return { end: start, count, status: 'bad' }
    p = h[1]
    let nameAt = 0
    let nameLen = 0
    for (let i = 0; i < h[0]; i++) {
      if (p >= n) return { end: start, count, status: 'truncated' }
      if (b[p] !== 36) return { end: start, count, status: 'bad' }
      const l = readLine(p + 1)
      if (l === null) return { end: start, count, status: 'truncated' }
      if (l[0] < 0) return { end: start, count, status: 'bad' }
      if (i === 0) { nameAt = l[1]; nameLen = l[0] }
      p = l[1] + l[0] + 2
      if (p > n) return { end: start, count, status: 'truncated' }
      if (b[p - 2] !== 13 || b[p - 1] !== 10) return { end: start, count, status: 'bad' }
    }
    if (equalsLower(b, nameAt, nameLen, MULTI_TOKEN)) {
      if (multiAt < 0) { multiAt = start; multiCount = count }
    } else if (equalsLower(b, nameAt, nameLen, EXEC_TOKEN)) {
      // Only EXEC: Redis's loader queues a DISCARD inside MULTI like any other command.
      multiAt = -1
    }
    count++
  }
  if (multiAt >= 0) return { end: multiAt, count: multiCount, status: 'truncated', isRevert: true }
  return { end: p, count, status: 'ok' }
}

/** Checks a commands file as loadSingleAppendOnlyFile would; returns its command count. */
function checkCommands (path: string, name: string, isLast: boolean, loadTruncated: boolean, fatal: (m: string) => never, log: Logger): number {
  const b = readFileSync(path)
  const r = scanCommands(b)
  if (r.status === 'bad') fatal(`Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`)
  if (r.status === 'truncated') {
    if (r.isRevert === true) log.warn({}, `Revert incomplete MULTI/EXEC transaction in AOF file ${name}`)
    if (!isLast || !loadTruncated) {
      if (!isLast) fatal(`Fatal error: the truncated file is not the last file`)
      fatal(`Unexpected end of file reading the append only file ${name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`)
    }
    log.warn({}, `!!! Warning: short read while loading the AOF file ${name}!!!`)
    log.warn({}, `!!! Truncating the AOF ${name} at offset ${r.end} !!!`)
    const fd = openSync(path, 'r+')
    try { ftruncateSync(fd, r.end); fsyncSync(fd) } finally { closeSync(fd) }
    log.warn({}, `AOF ${name} loaded anyway because aof-load-truncated is enabled`)
  }
  return r.count
}

/**
 * Fault injection for tests (FLASHKV_FAULT_FSYNC=<path>): while that file exists, the everysec
 * fsync fails with EIO (a real one is hard to provoke on tmpfs); aof.ts syncUpTo does the same
 * for the syncs of `always`.
 */
const faultFsync = process.env.FLASHKV_FAULT_FSYNC

/**
 * appendfsync everysec: one fdatasync a second, in libuv's thread pool (off every event loop).
 * Unlike Redis, which syncs only after new writes, it syncs every second, so a failed sync is
 * tried again even while writes are denied.
 */
export function startEverysec (): NodeJS.Timeout {
  let isBusy = false
  const t = setInterval(() => {
    const { i32 } = saveWords()
    if (isBusy || i32[W_AOF_ON] === 0 || i32[W_AOF_FSYNC] !== FSYNC_EVERYSEC) return
    const fd = i32[W_AOF_FD]
    if (fd <= 0) return
    isBusy = true
    if (faultFsync !== undefined && existsSync(faultFsync)) {
      isBusy = false
      fsyncDone(Object.assign(new Error('EIO'), { code: 'EIO', errno: -constants.errno.EIO }))
      return
    }
    fdatasync(fd, err => { isBusy = false; fsyncDone(err) })
  }, 1000)
  t.unref()
  return t
}

/** SHUTDOWN/SIGTERM: "Calling fsync() on the AOF file." */
export function fsyncAofNow (): void {
  const fd = saveWords().i32[W_AOF_FD]
  if (fd > 0 && saveWords().i32[W_AOF_ON] !== 0) { try { fsyncSync(fd) } catch {} }
}

export function removeAofFile (name: string): void { try { unlinkSync(join(aofDir(), name)) } catch {} }

/**
 * CONFIG SET appendonly (startAppendOnly/stopAppendOnly): on, the shards start logging and a
 * rewrite is scheduled, which makes the base and the first incremental file (the shards append
 * to it from the rewrite's cut on); off, the file is synced and nothing more is logged.
 */
export function setAppendonly (on: boolean): void {
  const { i32 } = saveWords()
  if (on === (i32[W_AOF_ENABLED] !== 0)) return
  if (on) {
    i32[W_AOF_ENABLED] = 1
    Atomics.store(i32, W_AOF_ON, 1)
    Atomics.store(i32, W_AOF_SCHEDULED, 1)
    updateDenyWrites()
    return
  }
  fsyncAofNow()
  i32[W_AOF_ENABLED] = 0
  Atomics.store(i32, W_AOF_ON, 0)
  Atomics.store(i32, W_AOF_SCHEDULED, 0)
  // Off: a failed write no longer refuses writes (aof_last_write_status stays as it was).
  updateDenyWrites()
}

// --- rewrite (BGREWRITEAOF, automatic, CONFIG SET appendonly yes) --------------------------------
// The rewrite claims the background-save state (one snapshot at a time), opens the next
// incremental file and lists it in the manifest at once (a crash meanwhile loads old base, old
// increments, new increment: nothing is lost), then every shard, at one cut of the command
// order, starts appending to the new file and starts its snapshot walk (BGSAVE's machinery).
// The main thread's joiner writes the walk as the new base; then the manifest names the new
// base and the new increment only, and the old files are marked history and removed.

/** Claims the save state and opens the next incremental file; false when a save or rewrite runs, or the files fail. */
export function beginRewrite (log?: Logger): boolean {
  const { i32, f64 } = saveWords()
  if (Atomics.compareExchange(i32, W_BGSAVE, 0, 1) !== 0) return false
  try {
    mkdirSync(aofDir(), { recursive: true })
    const m = readManifest() ?? { base: null, incrs: [], history: [] }
    const seq = m.incrs.reduce((n, f) => Math.max(n, f.seq), 0) + 1
    const name = incrName(seq)
    const fd = openIncr(name)
    m.incrs.push({ name, seq, type: TYPE_INCR })
    writeManifest(m)
    log?.info({}, `Creating AOF incr file ${name} on background rewrite`)
    i32[W_AOF_OLD_FD] = i32[W_AOF_FD]
    i32[W_AOF_NEXT_FD] = fd
    i32[W_AOF_FD] = fd
  } catch (err) {
    log?.warn({ err }, "Can't open new incr AOF file for rewrite")
    Atomics.store(i32, W_BGSAVE, 0)
    return false
  }
  f64[F_AOF_REWRITE_START] = Date.now()
  Atomics.add(i32, W_SNAPSHOT_ID, 1)
  Atomics.store(i32, W_AOF_REWRITE, 1)
  return true
}

/** The rewrite could not be sent to the shards: give the claim back (the new increment stays listed, empty). */
export function cancelRewrite (): void {
  const { i32 } = saveWords()
  i32[W_AOF_FD] = i32[W_AOF_OLD_FD]
  i32[W_AOF_OLD_FD] = 0
  i32[W_AOF_NEXT_FD] = 0
  Atomics.store(i32, W_AOF_REWRITE, 0)
  Atomics.store(i32, W_BGSAVE, 0)
}

/** The name the new base takes: the next base sequence number, `.rdb` or (aof-use-rdb-preamble no) `.aof`. */
export function nextBaseName (): string {
  let m: Manifest | null = null
  try { m = readManifest() } catch {}
  const seq = (m?.base?.seq ?? 0) + 1
  return baseName(seq, saveWords().i32[W_AOF_PREAMBLE] !== 0)
}

/**
 * backgroundRewriteDoneHandler: with the new base written (ok), the manifest becomes that base
 * and the newest increment; older files are marked history, then removed. Either way every
 * shard appends to the new increment now, so the old descriptor is synced and closed.
 */
export function finishRewrite (ok: boolean, base: string, log: Logger): void {
  const { i32, f64 } = saveWords()
  const old = i32[W_AOF_OLD_FD]
  if (old > 0 && old !== i32[W_AOF_FD]) { try { fsyncSync(old); closeSync(old) } catch {} }
  i32[W_AOF_OLD_FD] = 0
  i32[W_AOF_NEXT_FD] = 0
  if (ok) {
    try {
      const m = readManifest() ?? { base: null, incrs: [], history: [] }
      const last = m.incrs[m.incrs.length - 1]
      const history: AofInfo[] = [...m.history]
      if (m.base !== null) history.push({ ...m.base, type: TYPE_HIST })
      for (const f of m.incrs) if (f !== last) history.push({ ...f, type: TYPE_HIST })
      const seq = Number(base.split('.').slice(-3)[0])
      const next: Manifest = { base: { name: base, seq, type: TYPE_BASE }, incrs: last === undefined ? [] : [last], history }
      writeManifest(next)
      // aofDelHistoryFiles
      for (const h of history) { removeAofFile(h.name); log.info({}, `Removing the history file ${h.name} in the background`) }
      next.history = []
      writeManifest(next)
      log.info({}, 'Background AOF rewrite finished successfully')
    } catch (err) {
      ok = false
      log.warn({ err }, 'Background AOF rewrite failed')
    }
  } else {
    removeAofFile(base)
    log.warn({}, 'Background AOF rewrite terminated with error')
  }
  const now = Date.now()
  f64[F_AOF_LAST_REWRITE_SEC] = Math.floor(now / 1000) - Math.floor(f64[F_AOF_REWRITE_START] / 1000)
  f64[F_AOF_REWRITE_START] = 0
  i32[W_AOF_REWRITE_OK] = ok ? 1 : 0
  if (ok) f64[F_AOF_REWRITES]++
  f64[F_AOF_BASE_SIZE] = aofCurrentSize()
  Atomics.store(i32, W_AOF_REWRITE, 0)
  Atomics.store(i32, W_BGSAVE, 0)
}

let lastAutoCheck = 0

/**
 * serverCron's AOF part, on the thread that runs the save points: a rewrite that was scheduled
 * (BGREWRITEAOF while a BGSAVE ran, CONFIG SET appendonly yes), or an automatic one once the
 * files grew auto-aof-rewrite-percentage past the size after the last rewrite (and past
 * auto-aof-rewrite-min-size). `start` sends the rewrite's cut to the shards.
 */
export function aofCron (start: () => boolean, log: Logger): void {
  const { i32, f64 } = saveWords()
  if (Atomics.load(i32, W_BGSAVE) !== 0 || Atomics.load(i32, W_LOADING) !== 0) return
  if (Atomics.load(i32, W_AOF_SCHEDULED) !== 0) {
    if (!beginRewrite(log)) return
    if (start()) Atomics.store(i32, W_AOF_SCHEDULED, 0)
    else cancelRewrite()
    return
  }
  const percent = f64[F_AOF_AUTO_PERCENT]
  if (i32[W_AOF_ON] === 0 || percent === 0) return
  const now = Date.now()
  if (now - lastAutoCheck < 1000) return
  lastAutoCheck = now
  const size = aofCurrentSize()
  const base = f64[F_AOF_BASE_SIZE] > 0 ? f64[F_AOF_BASE_SIZE] : 1
  const growth = Math.floor(size * 100 / base) - 100
  if (size < f64[F_AOF_AUTO_MIN] || growth < percent) return
  log.info({}, `Starting automatic rewriting of AOF on ${growth}% growth`)
  if (!beginRewrite(log)) return
  if (!start()) cancelRewrite()
}

/** INFO persistence's AOF fields, in Redis 7.0's order. */
export function aofInfo (): string[] {
  const { i32, f64 } = saveWords()
  const running = Atomics.load(i32, W_AOF_REWRITE) !== 0
  const lines = [
    `aof_enabled:${i32[W_AOF_ENABLED]}`, `aof_rewrite_in_progress:${running ? 1 : 0}`, `aof_rewrite_scheduled:${i32[W_AOF_SCHEDULED]}`,
    `aof_last_rewrite_time_sec:${f64[F_AOF_LAST_REWRITE_SEC]}`,
    `aof_current_rewrite_time_sec:${running ? Math.floor(Date.now() / 1000) - Math.floor(f64[F_AOF_REWRITE_START] / 1000) : -1}`,
    `aof_last_bgrewrite_status:${i32[W_AOF_REWRITE_OK] !== 0 ? 'ok' : 'err'}`, `aof_rewrites:${f64[F_AOF_REWRITES]}`,
    'aof_rewrites_consecutive_failures:0', `aof_last_write_status:${i32[W_AOF_WRITE_OK] !== 0 && i32[W_AOF_FSYNC_OK] !== 0 ? 'ok' : 'err'}`, 'aof_last_cow_size:0',
    'module_fork_in_progress:0', 'module_fork_last_cow_size:0',
  ]
  return lines
}

/** The fields Redis adds while appendonly is on (aof_current_size...). */
export function aofSizeInfo (): string[] {
  const { i32, f64 } = saveWords()
  if (i32[W_AOF_ON] === 0) return []
  return [
    `aof_current_size:${aofCurrentSize()}`, `aof_base_size:${f64[F_AOF_BASE_SIZE]}`, `aof_pending_rewrite:${i32[W_AOF_SCHEDULED]}`,
    'aof_buffer_length:0', 'aof_pending_bio_fsync:0', 'aof_delayed_fsync:0',
  ]
}

/**
 * aof-use-rdb-preamble no: the rewrite's snapshot (written as an RDB file first) becomes a base of
 * commands: each key a RESTORE of its DUMP payload (the RDB record's own bytes) with its absolute
 * expire time, each function library a FUNCTION LOAD. Written to a temporary file, synced and
 * renamed, as Redis writes its base.
 */
export function rdbToCommands (rdbPath: string, name: string): void {
  const log = new AofLog(1 << 20)
  writeAtomically(aofDir(), name, `temp-rewriteaof-${process.pid}.aof`, write => {
    const put = (): void => {
      write(log.buf.subarray(0, log.len))
      log.len = 0
    }
    const loader: RdbLoader = new RdbLoader(rdbPath, () => true, (db, key, _payload, expireAt) => {
      const obj = loader.file.subarray(loader.lastObjStart, loader.lastObjEnd)
      const dump = Buffer.allocUnsafe(1 + obj.length + 10)
      dump[0] = loader.lastType
      obj.copy(dump, 1)
      dump.writeUInt16LE(RDB_VERSION, 1 + obj.length)
      dump.writeBigUInt64LE(crc64(dump, 0, 1 + obj.length + 2), 1 + obj.length + 2)
      log.parts(db, ['RESTORE', key, String(expireAt), dump, 'REPLACE', 'ABSTTL'])
      if (log.len > 1 << 20) put()
    }, code => { log.parts(0, ['FUNCTION', 'LOAD', code]); if (log.len > 1 << 20) put() })
    while (!loader.step(1 << 20));
    put()
  })
}
