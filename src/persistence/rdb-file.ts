// Reading an RDB file (rdbLoadRio): the REDIS header, auxiliary fields, function libraries,
// databases, resize hints, expire times, LRU/LFU hints, and the key-value records, up to EOF and
// its CRC64. Each shard reads the whole file at start and keeps the records whose keys hash to it
// (shard 0, the hub, the libraries too). Module data cannot load: a file that has any is refused,
// as is any malformed one, and the server then does not start (Redis aborts on a bad RDB too).

import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { RDB_BAD, RDB_VERSION, RdbReader, decodeObject } from './rdb-value.js'
import { crc64 } from './crc64.js'

const RDB_OPCODE_FUNCTION2 = 0xf5
const RDB_OPCODE_FUNCTION = 0xf6
const RDB_OPCODE_MODULE_AUX = 0xf7
const RDB_OPCODE_IDLE = 0xf8
const RDB_OPCODE_FREQ = 0xf9
const RDB_OPCODE_AUX = 0xfa
const RDB_OPCODE_RESIZEDB = 0xfb
const RDB_OPCODE_EXPIRETIME_MS = 0xfc
const RDB_OPCODE_EXPIRETIME = 0xfd
const RDB_OPCODE_SELECTDB = 0xfe
const RDB_OPCODE_EOF = 0xff

/** Why the file cannot load; the message starts with RDB_LOAD_FAILED, which the server looks for. */
export const RDB_LOAD_FAILED = 'Loading the RDB file failed: '
export class RdbLoadError extends Error {
  constructor (why: string) { super(RDB_LOAD_FAILED + why) }
}

/** One record: its database, key, value payload (storage/types.ts) and expire time (unix ms, 0 = none). */
/** One key read: idle seconds (RDB_OPCODE_IDLE) and LFU counter (RDB_OPCODE_FREQ) are -1 when absent. */
export type RdbRecord = (db: number, key: Buffer, payload: Buffer, expireAt: number, idle: number, freq: number) => void

/**
 * Reads the RDB file at path and calls onRecord for every key whose `wanted(key)` is true, and
 * onFunction with each function library's code, a budget of records per step() so that the
 * shard can answer between steps (INFO while loading). The constructor reads and checks the
 * header; step() and the final checksum throw RdbLoadError for a file it cannot load.
 */
export class RdbLoader {
  private readonly b: Buffer
  private readonly r: RdbReader
  private readonly ver: number
  private db = 0
  private expireAt = 0
  private idle = -1
  private freq = -1
  /** Records read (all shards'). */
  records = 0
  /** The record being passed to onRecord: its RDB type and where its object's bytes are in `file`. */
  lastType = 0
  lastObjStart = 0
  lastObjEnd = 0
  get file (): Buffer { return this.b }

  constructor (path: string, private readonly wanted: (key: Buffer) => boolean, private readonly onRecord: RdbRecord,
    private readonly onFunction: ((code: Buffer) => void) | null = null) {
    const b = this.b = readFileSync(path)
    if (b.length < 9 || b.toString('latin1', 0, 5) !== 'REDIS') throw new RdbLoadError('Wrong signature trying to load DB from file')
    const ver = this.ver = Number(b.toString('latin1', 5, 9))
    if (!(ver >= 1 && ver <= RDB_VERSION)) throw new RdbLoadError(`Can't handle RDB format version ${b.toString('latin1', 5, 9)}`)
    this.r = new RdbReader(b, b.length)
    this.r.p = 9
  }

  /** Bytes of the file read so far, and its size (INFO's loading_loaded_bytes, loading_total_bytes). */
  get pos (): number { return this.r.p }
  get size (): number { return this.b.length }

  /** Reads up to `budget` records; true once the whole file is read and checked. */
  step (budget: number): boolean {
    try {
      return this.read(budget)
    } catch (err) {
      if (err === RDB_BAD) throw new RdbLoadError('Short read or malformed record loading DB')
      throw err
    }
  }

  private read (budget: number): boolean {
    const { b, r } = this
    for (let n = 0; n < budget;) {
      r.need(1)
      const op = b[r.p++]
      if (op === RDB_OPCODE_EOF) { this.checksum(); return true }
      switch (op) {
        case RDB_OPCODE_EXPIRETIME_MS: r.need(8); this.expireAt = Number(b.readBigInt64LE(r.p)); r.p += 8; continue
        case RDB_OPCODE_EXPIRETIME: r.need(4); this.expireAt = b.readInt32LE(r.p) * 1000; r.p += 4; continue
        case RDB_OPCODE_FREQ: r.need(1); this.freq = b[r.p++]; continue
        case RDB_OPCODE_IDLE: this.idle = Number(r.len64()); continue
        case RDB_OPCODE_AUX: r.string(); r.string(); continue
        case RDB_OPCODE_RESIZEDB: r.len64(); r.len64(); continue
        case RDB_OPCODE_SELECTDB: {
          this.db = r.len()
          if (this.db < 0 || this.db >= 16) throw new RdbLoadError(`FATAL: Data file was created with a Redis server configured to handle more than 16 databases. Exiting`)
          continue
        }
        case RDB_OPCODE_FUNCTION2: {
          const code = Buffer.from(r.string())
          this.onFunction?.(code)
          continue
        }
        case RDB_OPCODE_FUNCTION:
          throw new RdbLoadError('the RDB file holds functions in the format of Redis 7.0 release candidates, which this server does not load')
        case RDB_OPCODE_MODULE_AUX:
          throw new RdbLoadError('the RDB file holds module data, which this server cannot load')
      }
      const key = Buffer.from(r.string())
      this.lastType = op
      this.lastObjStart = r.p
      const payload = decodeObject(r, op)
      this.lastObjEnd = r.p
      if (payload === null) throw new RdbLoadError(`Unknown RDB encoding type ${op}`)
      this.records++
      n++
      if (this.wanted(key)) this.onRecord(this.db, key, payload, this.expireAt, this.idle, this.freq)
      this.expireAt = 0
      this.idle = -1
      this.freq = -1
    }
    return false
  }

  /** Version 5 on carries a CRC64 of everything before it; 0 means it was saved without one. */
  private checksum (): void {
    const { b, r } = this
    if (this.ver < 5) return
    r.need(8)
    const want = b.readBigUInt64LE(r.p)
    if (want !== 0n && want !== crc64(b, 0, r.p)) throw new RdbLoadError('Wrong RDB checksum')
    r.p += 8
  }
}

/** The whole file at once (RdbLoader's steps back to back); the number of records read. */
export function loadRdb (path: string, wanted: (key: Buffer) => boolean, onRecord: RdbRecord, onFunction: ((code: Buffer) => void) | null = null): number {
  const loader = new RdbLoader(path, wanted, onRecord, onFunction)
  while (!loader.step(1 << 30));
  return loader.records
}
