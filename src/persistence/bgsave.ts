// BGSAVE, the main thread's side. Each shard, once its snapshot walk is over (persistence/
// snapshot.ts), posts its records to the main thread ({ op: 'bgsave-part' }), or posts
// { op: 'bgsave-abort' } when FLUSHALL dropped its snapshot. With every shard's answer in, a
// short-lived worker thread (workers/rdb-join.ts) joins the parts into one RDB file: header, AUX
// fields, per-database SELECTDB/RESIZEDB, CRC64, written to a temporary file, fsynced and renamed
// over dir/dbfilename, so neither the shards nor the client threads do that work. The outcome
// goes to the shared save state (persistence/save-state.ts) that INFO and LASTSAVE read.

import { Buffer } from 'node:buffer'
import { Worker } from 'node:worker_threads'
import type { ServerSettings } from '../commands/spec.js'
import type { ShardPart } from './snapshot.js'
import { DATABASES } from '../storage/shard.js'
import { ByteWriter } from './listpack.js'
import { rdbHeader, dbHeader, checksumBytes, writeAtomically, RDB_OPCODE_EOF } from './rdb-writer.js'
import { crc64 } from './crc64.js'
import { aofDir, nextBaseName, finishRewrite, rdbToCommands } from './aof-files.js'
import { join } from 'node:path'
import { unlinkSync } from 'node:fs'
import { W_AOF_REWRITE, W_AOF_SCHEDULED } from './save-state.js'
import { saveWords, W_BGSAVE, W_LAST_OK, W_LAST_SAVED_ID, F_BGSAVE_START, F_LAST_BGSAVE_SEC, W_CHECKSUM, updateDenyWrites } from './save-state.js'

const JOIN_FILE = new URL('../../workers/rdb-join.js', import.meta.url)

export interface JoinJob {
  parts: ShardPart[]
  dir: string
  dbfilename: string
  version: string
  checksum: boolean
}

/** Writes the whole file from the shards' parts (rdbSaveRio's layout), tmp + fsync + rename. */
export function joinRdb (job: JoinJob): void {
  writeAtomically(job.dir, job.dbfilename, `temp-bg-${process.pid}.rdb`, write => {
    let crc = 0n
    const put = (b: Uint8Array): void => {
      if (job.checksum) crc = crc64(b, 0, b.length, crc)
      write(b)
    }
    const w = new ByteWriter(256)
    rdbHeader(w, job.version, 0)
    put(w.result)
    for (const part of job.parts) for (const f of part.functions) put(f)
    for (let db = 0; db < DATABASES; db++) {
      let keys = 0
      let expires = 0
      for (const part of job.parts) for (const d of part.dbs) if (d.db === db) { keys += d.keys; expires += d.expires }
      if (keys === 0) continue
      w.len = 0
      dbHeader(w, db, keys, expires)
      put(w.result)
      for (const part of job.parts) for (const d of part.dbs) if (d.db === db) for (const c of d.chunks) put(c)
    }
    put(Buffer.of(RDB_OPCODE_EOF))
    write(checksumBytes(job.checksum ? crc : null))
  })
}

interface Logger { info: (o: object, m: string) => void, warn: (o: object, m: string) => void }

/** Collects the shards' parts of each BGSAVE and has them joined; one per server (main thread). */
export class BgsaveJoiner {
  private parts: ShardPart[] = []
  /** Shards that answered for the save being collected. */
  private readonly answered = new Set<number>()
  private isAborted = false
  /** A shard died before it answered: the save fails (Redis's child died). */
  private isFailed = false
  private waiters: Array<(ok: boolean) => void> = []

  constructor (private readonly shards: number, private dir: string, private dbfilename: string,
    private readonly version: string, private readonly settings: ServerSettings, private readonly log: Logger) {}

  /** CONFIG SET dir / dbfilename (enable-protected-configs): where the next save goes. */
  setPath (dir: string, dbfilename: string): void {
    this.dir = dir
    this.dbfilename = dbfilename
  }

  /** Resolves when the next background save ends: true if it wrote the file. */
  async nextDone (): Promise<boolean> { return await new Promise(resolve => { this.waiters.push(resolve) }) }

  /**
   * SIGTERM with save points (prepareForShutdown): a background save of its own, after any that
   * runs, started by `request` (on the thread that routes it); true once the file is written.
   */
  async saveForShutdown (request: () => void): Promise<boolean> {
    while (Atomics.load(saveWords().i32, W_BGSAVE) !== 0) await this.nextDone()
    const done = this.nextDone()
    request()
    return await done
  }

  /** Listens to a shard worker's messages about snapshots. */
  attach (worker: Worker, shard: number): void {
    worker.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null) return
      const op = (m as { op?: string }).op
      if (op === 'bgsave-part') this.onAnswer(shard, (m as { part: ShardPart }).part)
      else if (op === 'bgsave-abort') { this.isAborted = true; this.onAnswer(shard, null) }
    })
    worker.once('exit', () => {
      if (Atomics.load(saveWords().i32, W_BGSAVE) === 0 || this.answered.has(shard)) return
      this.isFailed = true
      this.onAnswer(shard, null)
    })
  }

  private onAnswer (shard: number, part: ShardPart | null): void {
    if (part !== null) this.parts.push(part)
    this.answered.add(shard)
    if (this.answered.size < this.shards) return
    const parts = this.parts
    this.parts = []
    this.answered.clear()
    // The snapshot is a rewrite's (BGREWRITEAOF): it becomes the AOF's new base.
    const rewrite = Atomics.load(saveWords().i32, W_AOF_REWRITE) !== 0
    if (rewrite && (this.isFailed || this.isAborted)) {
      // FLUSHALL dropped the walk: the rewrite is tried again (the new increment has the flush).
      if (this.isAborted) Atomics.store(saveWords().i32, W_AOF_SCHEDULED, 1)
      this.isFailed = false
      this.isAborted = false
      this.endRewrite(false, '')
      return
    }
    if (this.isFailed) {
      this.isFailed = false
      this.isAborted = false
      this.log.warn({}, 'Background saving error: a shard stopped before its snapshot was done')
      this.end(-1)
      return
    }
    if (this.isAborted) {
      // killRDBChild: the status stays as it was; the time it ran is recorded.
      this.isAborted = false
      this.log.warn({}, 'Background saving terminated by signal 10')
      this.end(null)
      return
    }
    const w = saveWords()
    const base = rewrite ? nextBaseName() : ''
    // A base of commands (aof-use-rdb-preamble no) is made from the RDB file once it is written.
    const isCommands = base.endsWith('.aof')
    const rdbName = isCommands ? `temp-rewriteaof-bg-${process.pid}.rdb` : base
    const job: JoinJob = { parts, dir: rewrite ? aofDir() : this.dir, dbfilename: rewrite ? rdbName : this.dbfilename, version: this.version, checksum: w.i32[W_CHECKSUM] !== 0 }
    const transfer: ArrayBuffer[] = []
    for (const p of parts) {
      for (const f of p.functions) transfer.push(f.buffer as ArrayBuffer)
      for (const d of p.dbs) for (const c of d.chunks) transfer.push(c.buffer as ArrayBuffer)
    }
    const id = parts.length > 0 ? parts[0].id : 0
    let isDone = false
    const worker = new Worker(JOIN_FILE, { workerData: job, transferList: transfer, name: 'rdb-join' })
    if (rewrite) {
      const done = (ok: boolean): void => {
        if (isDone) return
        isDone = true
        if (ok && isCommands) {
          try { rdbToCommands(join(aofDir(), rdbName), base) } catch (err) { this.log.warn({ err }, 'Background AOF rewrite error'); ok = false }
        }
        if (isCommands) { try { unlinkSync(join(aofDir(), rdbName)) } catch {} }
        this.endRewrite(ok, base)
      }
      worker.once('message', (r: { ok: boolean, err?: string }) => { if (!r.ok) this.log.warn({ err: r.err }, 'Background AOF rewrite error'); done(r.ok) })
      worker.once('error', err => { this.log.warn({ err }, 'Background AOF rewrite error'); done(false) })
      worker.once('exit', () => { done(false) })
      return
    }
    worker.once('message', (r: { ok: boolean, err?: string }) => {
      isDone = true
      if (r.ok) this.log.info({}, 'Background saving terminated with success')
      else this.log.warn({ err: r.err }, 'Background saving error')
      this.end(r.ok ? id : -1)
    })
    worker.once('error', err => { if (!isDone) { isDone = true; this.log.warn({ err }, 'Background saving error'); this.end(-1) } })
    worker.once('exit', () => { if (!isDone) { isDone = true; this.end(-1) } })
  }

  private endRewrite (ok: boolean, base: string): void {
    finishRewrite(ok, base, this.log)
    for (const w of this.waiters.splice(0)) w(false)
  }

  /** id: the saved snapshot's (ok), -1 failed, null aborted. */
  private end (id: number | null): void {
    const w = saveWords()
    const now = Date.now()
    // time(NULL) - rdb_save_time_start: whole seconds of the clock, as Redis counts them.
    w.f64[F_LAST_BGSAVE_SEC] = Math.floor(now / 1000) - Math.floor(w.f64[F_BGSAVE_START] / 1000)
    if (id !== null) {
      w.i32[W_LAST_OK] = id >= 0 ? 1 : 0
      if (id >= 0) {
        Atomics.store(w.i32, W_LAST_SAVED_ID, id)
        this.settings.lastSaveSec = Math.floor(now / 1000)
        this.settings.rdbSaves++
      }
    }
    w.f64[F_BGSAVE_START] = 0
    updateDenyWrites()
    Atomics.store(w.i32, W_BGSAVE, 0)
    for (const w of this.waiters.splice(0)) w(id !== null && id >= 0)
  }
}
