// One value in Redis 7.0's RDB encoding (rdb.c, RDB version 10), to and from the value payload
// of storage/types.ts (| u8 type | f64 expireAt | type's layout |): DUMP and RESTORE use it now,
// RDB files will. The object encodings are Redis's: a small hash or sorted set is a listpack, an
// intset set an intset, a list a quicklist of listpack nodes, bigger ones one record per element;
// strings are integer-encoded or LZF-compressed as rdbSaveRawString decides. Streams are in
// rdb-stream.ts.

import { Buffer } from 'node:buffer'
import { ByteWriter, ListpackWriter, lpForEach, readInt64 } from './listpack.js'
import { lzfCompress, lzfDecompress } from './lzf.js'
import { saveWords, W_COMPRESSION } from './save-state.js'
import { crc64 } from './crc64.js'
import { decodeStream } from './rdb-stream.js'
import { TYPE_STRING, TYPE_LIST, TYPE_HASH, TYPE_SET, TYPE_ZSET } from '../storage/keyspace.js'
import { policy, isLru, isLfu, idleMs, lfuCounter } from '../storage/eviction.js'
import { PAYLOAD_HEADER_BYTES } from '../storage/types.js'
import { ENC_LISTPACK, ENC_HASHTABLE, hashLimits } from '../storage/hash-type.js'
import { ENC_INTSET } from '../storage/set-type.js'
import { ENC_ZLISTPACK, ENC_SKIPLIST, formatScore, parseScore } from '../storage/zset-type.js'
import { HASH_ENTRIES_WORD, HASH_VALUE_WORD, SET_INTSET_WORD, ZSET_ENTRIES_WORD, ZSET_VALUE_WORD, limitOf, listFill } from '../ipc/layout.js'

export const RDB_VERSION = 10

const RDB_TYPE_STRING = 0
const RDB_TYPE_LIST = 1
const RDB_TYPE_SET = 2
const RDB_TYPE_ZSET = 3
const RDB_TYPE_HASH = 4
const RDB_TYPE_ZSET_2 = 5
const RDB_TYPE_SET_INTSET = 11
const RDB_TYPE_HASH_LISTPACK = 16
const RDB_TYPE_ZSET_LISTPACK = 17
const RDB_TYPE_LIST_QUICKLIST_2 = 18
const RDB_TYPE_STREAM_LISTPACKS_2 = 19

const QUICKLIST_NODE_CONTAINER_PLAIN = 1
const QUICKLIST_NODE_CONTAINER_PACKED = 2
/** SIZE_ESTIMATE_OVERHEAD of quicklist.c's insert test. */
const NODE_OVERHEAD = 8
/** quicklist.c's optimization_level: the node bytes list-max-listpack-size -1 to -5 allow. */
const OPTIMIZATION_LEVEL = [4096, 8192, 16384, 32768, 65536]
/** SIZE_SAFETY_LIMIT: a node limited by its count still stays within 8 KB. */
const SIZE_SAFETY_LIMIT = 8192

/** The fill a new quicklist takes from list-max-listpack-size (quicklistSetFill clamps it to -5..32767). */
export function quicklistFill (): number {
  const f = listFill(hashLimits.flags)
  return f > 32767 ? 32767 : f < -5 ? -5 : f
}

/** 7.0's _quicklistNodeAllowInsert: whether an element of `sz` bytes joins a node of `bytes` and `count`. */
function nodeTakes (bytes: number, count: number, sz: number, fill: number): boolean {
  const newSz = bytes + sz + NODE_OVERHEAD
  if (fill < 0 && newSz <= OPTIMIZATION_LEVEL[-fill - 1]) return true
  if (newSz > SIZE_SAFETY_LIMIT) return false
  return count < fill
}


/** rdbSaveLen: 6, 14, 32 or 64 bits. */
export function saveLen (w: ByteWriter, n: number): void {
  if (n < 64) w.byte(n)
  else if (n < 16384) { w.byte(0x40 | (n >>> 8)); w.byte(n & 0xff) } else if (n <= 0xffffffff) {
    w.need(5); w.buf[w.len] = 0x80; w.buf.writeUInt32BE(n, w.len + 1); w.len += 5
  } else {
    w.need(9); w.buf[w.len] = 0x81; w.buf.writeBigUInt64BE(BigInt(n), w.len + 1); w.len += 9
  }
}

const compression = saveWords().i32
/** rdbSaveRawString: an int32 as 1, 2 or 4 bytes; past 20 bytes LZF when it saves 4 bytes or more. */
export function saveString (w: ByteWriter, b: Uint8Array, start: number, len: number): void {
  if (len <= 11) {
    const v = readInt64(b, start, len)
    if (v !== null && v >= -2147483648n && v <= 2147483647n) {
      const n = Number(v)
      if (n >= -128 && n <= 127) { w.byte(0xc0); w.byte(n & 0xff); return }
      if (n >= -32768 && n <= 32767) { w.need(3); w.buf[w.len] = 0xc1; w.buf.writeInt16LE(n, w.len + 1); w.len += 3; return }
      w.need(5); w.buf[w.len] = 0xc2; w.buf.writeInt32LE(n, w.len + 1); w.len += 5
      return
    }
  }
  // rdbcompression (a shared word: CONFIG SET on any thread), for RDB files and DUMP alike.
  if (len > 20 && compression[W_COMPRESSION] !== 0) {
    const c = lzfCompress(b.subarray(start, start + len), len - 4)
    if (c !== null) {
      w.byte(0xc3)
      saveLen(w, c.length)
      saveLen(w, len)
      w.bytes(c)
      return
    }
  }
  saveLen(w, len)
  w.bytes(b, start, start + len)
}

function saveBuffer (w: ByteWriter, b: Uint8Array): void { saveString(w, b, 0, b.length) }

/** A payload's elements: (u32 len LE, bytes)* from p to end. */
function * lenPrefixed (b: Buffer, p: number, end: number): Generator<[number, number]> {
  while (p < end) {
    const l = b.readUInt32LE(p)
    yield [p + 4, l]
    p += 4 + l
  }
}

/**
 * Writes the RDB type byte and object for a value payload (storage/types.ts's layout, header
 * included); false for a type with no RDB encoding here yet (streams).
 */
export function encodeValue (w: ByteWriter, payload: Buffer, key: Uint8Array | null = null): boolean {
  const type = payload[0] & 7
  const p = PAYLOAD_HEADER_BYTES
  const end = payload.length
  // An RDB file's record puts the key between the type byte and the object.
  const typeByte = (t: number): void => { w.byte(t); if (key !== null) saveString(w, key, 0, key.length) }
  switch (type) {
    case TYPE_STRING:
      typeByte(RDB_TYPE_STRING)
      saveString(w, payload, p, end - p)
      return true
    case TYPE_LIST: {
      // Nodes as pushes at the tail fill them (quicklist's _quicklistNodeAllowInsert).
      const nodes: Buffer[] = []
      const lp = new ListpackWriter()
      const fill = quicklistFill()
      lp.start()
      for (const [s, l] of lenPrefixed(payload, p, end)) {
        if (lp.count > 0 && !nodeTakes(lp.bytes, lp.count, l, fill)) {
          nodes.push(Buffer.from(lp.finish()))
          lp.start()
        }
        lp.add(payload, s, l)
      }
      if (lp.count > 0) nodes.push(Buffer.from(lp.finish()))
      typeByte(RDB_TYPE_LIST_QUICKLIST_2)
      saveLen(w, nodes.length)
      for (const n of nodes) {
        saveLen(w, QUICKLIST_NODE_CONTAINER_PACKED)
        saveBuffer(w, n)
      }
      return true
    }
    case TYPE_HASH: {
      const count = payload.readUInt32LE(p + 1)
      const pairs = [...lenPrefixed(payload, p + 5, end)]
      if (payload[p] === ENC_LISTPACK) {
        const lp = new ListpackWriter()
        lp.start()
        for (const [s, l] of pairs) lp.add(payload, s, l)
        typeByte(RDB_TYPE_HASH_LISTPACK)
        saveBuffer(w, lp.finish())
      } else {
        typeByte(RDB_TYPE_HASH)
        saveLen(w, count)
        for (const [s, l] of pairs) saveString(w, payload, s, l)
      }
      return true
    }
    case TYPE_SET: {
      const count = payload.readUInt32LE(p + 1)
      const members = [...lenPrefixed(payload, p + 5, end)]
      if (payload[p] === ENC_INTSET) {
        // The narrowest width that holds every member (Redis keeps a width an earlier, since
        // removed, member needed; this cannot know of it).
        const vals = members.map(([s, l]) => readInt64(payload, s, l) as bigint).sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
        let width = 2
        for (const v of vals) {
          if (v < -2147483648n || v > 2147483647n) width = 8
          else if ((v < -32768n || v > 32767n) && width < 4) width = 4
        }
        const blob = Buffer.alloc(8 + width * vals.length)
        blob.writeUInt32LE(width, 0)
        blob.writeUInt32LE(vals.length, 4)
        vals.forEach((v, i) => {
          if (width === 2) blob.writeInt16LE(Number(v), 8 + i * 2)
          else if (width === 4) blob.writeInt32LE(Number(v), 8 + i * 4)
          else blob.writeBigInt64LE(v, 8 + i * 8)
        })
        typeByte(RDB_TYPE_SET_INTSET)
        saveBuffer(w, blob)
      } else {
        typeByte(RDB_TYPE_SET)
        saveLen(w, count)
        for (const [s, l] of members) saveString(w, payload, s, l)
      }
      return true
    }
    case TYPE_ZSET: {
      const count = payload.readUInt32LE(p + 1)
      const items: Array<[number, number, number]> = []
      for (let q = p + 5; q < end;) {
        const l = payload.readUInt32LE(q + 8)
        items.push([payload.readDoubleLE(q), q + 12, l])
        q += 12 + l
      }
      if (payload[p] === ENC_ZLISTPACK) {
        const lp = new ListpackWriter()
        lp.start()
        for (const [score, s, l] of items) {
          lp.add(payload, s, l)
          const t = Buffer.from(formatScore(score), 'latin1')
          lp.add(t, 0, t.length)
        }
        typeByte(RDB_TYPE_ZSET_LISTPACK)
        saveBuffer(w, lp.finish())
      } else {
        // From the greatest to the smallest, as rdbSaveObject walks the skiplist from its tail.
        typeByte(RDB_TYPE_ZSET_2)
        saveLen(w, count)
        for (let i = items.length - 1; i >= 0; i--) {
          const [score, s, l] = items[i]
          saveString(w, payload, s, l)
          w.need(8)
          w.buf.writeDoubleLE(score, w.len)
          w.len += 8
        }
      }
      return true
    }
  }
  return false
}

/** createDumpPayload's footer after what w holds: RDB_VERSION, then the CRC64 of everything. */
export function finishPayload (w: ByteWriter): Buffer {
  w.need(10)
  w.buf.writeUInt16LE(RDB_VERSION, w.len)
  w.len += 2
  w.buf.writeBigUInt64LE(crc64(w.buf, 0, w.len), w.len)
  w.len += 8
  return Buffer.from(w.result)
}

/** DUMP's payload for a value payload: the RDB object, RDB_VERSION and the CRC64 of both. */
export function dumpPayload (payload: Buffer): Buffer | null {
  const w = new ByteWriter(payload.length + 32)
  if (!encodeValue(w, payload)) return null
  return finishPayload(w)
}

/** verifyDumpPayload: room for the footer, a version this server reads, and the CRC. */
export function verifyDumpPayload (b: Uint8Array): boolean {
  if (b.length < 10) return false
  const ver = b[b.length - 10] | (b[b.length - 9] << 8)
  if (ver > RDB_VERSION) return false
  const crc = Buffer.from(b.buffer, b.byteOffset + b.length - 8, 8).readBigUInt64LE(0)
  return crc64(b, 0, b.length - 8) === crc
}

/** Reads RDB lengths and strings from b up to end; malformed input throws RDB_BAD. */
export class RdbReader {
  p = 0
  constructor (readonly b: Buffer, readonly end: number) {}
  /** rdbLoadLen: the length, or for an encoded string (0b11 prefix) -1 - its encoding. */
  len (): number {
    if (this.p >= this.end) throw BAD
    const c = this.b[this.p++]
    const t = c >>> 6
    if (t === 0) return c & 0x3f
    if (t === 1) { if (this.p >= this.end) throw BAD; return ((c & 0x3f) << 8) | this.b[this.p++] }
    if (t === 3) return -1 - (c & 0x3f)
    if (c === 0x80) { this.need(4); const v = this.b.readUInt32BE(this.p); this.p += 4; return v }
    if (c === 0x81) {
      this.need(8)
      const v = this.b.readBigUInt64BE(this.p)
      this.p += 8
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw BAD
      return Number(v)
    }
    throw BAD
  }
  need (n: number): void { if (this.p + n > this.end) throw BAD }
  /** rdbLoadLen of a value that may pass 2^53 (ids, counters). */
  len64 (): bigint {
    if (this.p < this.end && this.b[this.p] === 0x81) {
      this.need(9)
      const v = this.b.readBigUInt64BE(this.p + 1)
      this.p += 9
      return v
    }
    const l = this.len()
    if (l < 0) throw BAD
    return BigInt(l)
  }
  raw (n: number): Buffer { this.need(n); const s = this.b.subarray(this.p, this.p + n); this.p += n; return s }
  /** rdbLoadMillisecondTime: an int64, little-endian. */
  msTime (): number { this.need(8); const v = this.b.readBigInt64LE(this.p); this.p += 8; return Number(v) }
  /** rdbGenericLoadStringObject: the string's bytes. */
  string (): Buffer {
    const l = this.len()
    if (l >= 0) {
      this.need(l)
      const s = this.b.subarray(this.p, this.p + l)
      this.p += l
      return s
    }
    const enc = -1 - l
    let v: number
    if (enc === 0) { this.need(1); v = this.b.readInt8(this.p); this.p += 1 } else if (enc === 1) { this.need(2); v = this.b.readInt16LE(this.p); this.p += 2 } else if (enc === 2) { this.need(4); v = this.b.readInt32LE(this.p); this.p += 4 } else if (enc === 3) {
      const clen = this.len()
      const ulen = this.len()
      // A claimed size past proto-max-bulk-len's default is not allocated.
      if (clen < 0 || ulen < 0 || ulen > MAX_STRING) throw BAD
      this.need(clen)
      const out = lzfDecompress(this.b.subarray(this.p, this.p + clen), ulen)
      if (out === null) throw BAD
      this.p += clen
      return Buffer.from(out.buffer, out.byteOffset, out.length)
    } else throw BAD
    return Buffer.from(String(v), 'latin1')
  }
  /** A ZSET (version 1) score: a length byte, 253 nan, 254 +inf, 255 -inf, else that many ASCII bytes. */
  oldDouble (): number {
    this.need(1)
    const l = this.b[this.p++]
    if (l === 253) return NaN
    if (l === 254) return Infinity
    if (l === 255) return -Infinity
    this.need(l)
    const v = Number(this.b.toString('latin1', this.p, this.p + l))
    this.p += l
    return v
  }
  binaryDouble (): number { this.need(8); const v = this.b.readDoubleLE(this.p); this.p += 8; return v }
}

export const RDB_BAD = new Error('bad data format')
const BAD = RDB_BAD
const MAX_STRING = 512 * 1024 * 1024

/** Builds storage/types.ts's value payload (header with expireAt 0). */
class PayloadWriter {
  readonly w = new ByteWriter()
  constructor (type: number) {
    this.w.need(PAYLOAD_HEADER_BYTES)
    this.w.buf[0] = type
    this.w.buf.writeDoubleLE(0, 1)
    this.w.len = PAYLOAD_HEADER_BYTES
  }
  u8 (v: number): void { this.w.byte(v) }
  u32 (v: number): void { this.w.need(4); this.w.buf.writeUInt32LE(v, this.w.len); this.w.len += 4 }
  f64 (v: number): void { this.w.need(8); this.w.buf.writeDoubleLE(v, this.w.len); this.w.len += 8 }
  item (b: Uint8Array, start = 0, len = b.length - start): void { this.u32(len); this.w.bytes(b, start, start + len) }
  get result (): Buffer { return Buffer.from(this.w.result) }
}

const limit = (word: number): number => limitOf(hashLimits.flags, word)

export function listpackItems (lp: Buffer): Buffer[] {
  const out: Buffer[] = []
  if (!lpForEach(lp, (b, s, l) => { out.push(Buffer.from(b.subarray(s, s + l))) })) throw BAD
  return out
}

/**
 * Hash, set and sorted-set payloads take the encoding Redis gives the loaded object (rdbLoadObject's
 * conversions). A listpack in the RDB stays one unless it has too many entries: Redis 7.0 does not
 * measure its items against the *-max-listpack-value limits, as it does an item of a hashtable or
 * skiplist that it loads into a listpack.
 */
function hashPayload (pairs: Buffer[], isListpack: boolean): Buffer {
  if (pairs.length === 0) throw BAD
  const n = pairs.length / 2
  let maxLen = 0
  if (!isListpack) for (const x of pairs) if (x.length > maxLen) maxLen = x.length
  const small = n <= limit(HASH_ENTRIES_WORD) && maxLen <= limit(HASH_VALUE_WORD)
  const out = new PayloadWriter(TYPE_HASH)
  out.u8(small ? ENC_LISTPACK : ENC_HASHTABLE)
  out.u32(n)
  for (const x of pairs) out.item(x)
  return out.result
}

function setPayload (members: Buffer[]): Buffer {
  if (members.length === 0) throw BAD
  const isInts = members.length <= limit(SET_INTSET_WORD) && members.every(m => readInt64(m, 0, m.length) !== null)
  const out = new PayloadWriter(TYPE_SET)
  out.u8(isInts ? ENC_INTSET : ENC_HASHTABLE)
  out.u32(members.length)
  for (const m of members) out.item(m)
  return out.result
}

function zsetPayload (items: Array<[Buffer, number]>, isListpack: boolean): Buffer {
  if (items.length === 0) throw BAD
  let maxLen = 0
  if (!isListpack) for (const [m] of items) if (m.length > maxLen) maxLen = m.length
  const small = items.length <= limit(ZSET_ENTRIES_WORD) && maxLen <= limit(ZSET_VALUE_WORD)
  items.sort((a, b) => a[1] - b[1] || Buffer.compare(a[0], b[0]))
  const out = new PayloadWriter(TYPE_ZSET)
  out.u8(small ? ENC_ZLISTPACK : ENC_SKIPLIST)
  out.u32(items.length)
  for (const [m, s] of items) { out.f64(s); out.item(m) }
  return out.result
}

/**
 * A value payload (storage/types.ts's layout) from a RESTORE payload whose footer was verified;
 * null when the object is not one this server reads ("Bad data format").
 */
export function restorePayload (b: Buffer): Buffer | null {
  const r = new RdbReader(b, b.length - 10)
  try {
    r.need(1)
    return decodeObject(r, b[r.p++])
  } catch (err) {
    if (err === BAD) return null
    throw err
  }
}

/**
 * The value payload of the RDB object of this type at r (a DUMP payload's, or a record's in an
 * RDB file after its key); null for a type this server does not read; malformed bytes throw RDB_BAD.
 */
export function decodeObject (r: RdbReader, type: number): Buffer | null {
  {
    let out: Buffer
    switch (type) {
      case RDB_TYPE_STRING: {
        const s = r.string()
        const pw = new PayloadWriter(TYPE_STRING)
        pw.w.bytes(s)
        out = pw.result
        break
      }
      case RDB_TYPE_LIST: case RDB_TYPE_LIST_QUICKLIST_2: {
        const pw = new PayloadWriter(TYPE_LIST)
        const n = r.len()
        if (n < 0) throw BAD
        for (let i = 0; i < n; i++) {
          if (type === RDB_TYPE_LIST) { pw.item(r.string()); continue }
          const container = r.len()
          const s = r.string()
          if (container === QUICKLIST_NODE_CONTAINER_PLAIN) pw.item(s)
          else if (container === QUICKLIST_NODE_CONTAINER_PACKED) for (const x of listpackItems(s)) pw.item(x)
          else throw BAD
        }
        // Empty keys are not allowed (rdbLoadObject's emptykey).
        if (pw.w.len === PAYLOAD_HEADER_BYTES) throw BAD
        out = pw.result
        break
      }
      case RDB_TYPE_HASH: {
        const n = r.len()
        if (n < 0) throw BAD
        const pairs: Buffer[] = []
        for (let i = 0; i < 2 * n; i++) pairs.push(r.string())
        out = hashPayload(pairs, false)
        break
      }
      case RDB_TYPE_HASH_LISTPACK: {
        const items = listpackItems(r.string())
        if (items.length % 2 !== 0 || items.length === 0) throw BAD
        out = hashPayload(items, true)
        break
      }
      case RDB_TYPE_SET: {
        const n = r.len()
        if (n < 0) throw BAD
        const members: Buffer[] = []
        for (let i = 0; i < n; i++) members.push(r.string())
        out = setPayload(members)
        break
      }
      case RDB_TYPE_SET_INTSET: {
        const s = r.string()
        if (s.length < 8) throw BAD
        const width = s.readUInt32LE(0)
        const n = s.readUInt32LE(4)
        if ((width !== 2 && width !== 4 && width !== 8) || s.length !== 8 + width * n) throw BAD
        const members: Buffer[] = []
        for (let i = 0; i < n; i++) {
          const v = width === 2 ? s.readInt16LE(8 + 2 * i) : width === 4 ? s.readInt32LE(8 + 4 * i) : s.readBigInt64LE(8 + 8 * i)
          members.push(Buffer.from(String(v), 'latin1'))
        }
        out = setPayload(members)
        break
      }
      case RDB_TYPE_ZSET: case RDB_TYPE_ZSET_2: {
        const n = r.len()
        if (n < 0) throw BAD
        const items: Array<[Buffer, number]> = []
        for (let i = 0; i < n; i++) {
          const m = r.string()
          const score = type === RDB_TYPE_ZSET_2 ? r.binaryDouble() : r.oldDouble()
          if (Number.isNaN(score)) throw BAD
          items.push([m, score])
        }
        out = zsetPayload(items, false)
        break
      }
      case RDB_TYPE_ZSET_LISTPACK: {
        const flat = listpackItems(r.string())
        if (flat.length % 2 !== 0 || flat.length === 0) throw BAD
        const items: Array<[Buffer, number]> = []
        for (let i = 0; i < flat.length; i += 2) {
          const score = parseScore(flat[i + 1], 0, flat[i + 1].length)
          if (Number.isNaN(score)) throw BAD
          items.push([flat[i], score])
        }
        out = zsetPayload(items, true)
        break
      }
      case RDB_TYPE_STREAM_LISTPACKS_2:
        out = decodeStream(r)
        break
      default: return null
    }
    // Bytes left over before a DUMP's footer are ignored, as Redis does without deep sanitization.
    return out
  }
}

const RDB_OPCODE_IDLE = 0xf8
const RDB_OPCODE_FREQ = 0xf9

/**
 * rdbSaveKeyValuePair's access info, written before the key's type byte: its idle seconds under
 * an LRU policy, its LFU counter under an LFU one, nothing otherwise (as Redis 7.0 decides).
 */
export function saveAccessInfo (w: ByteWriter, clock: number, now: number): void {
  const p = policy()
  if (isLru(p)) { w.byte(RDB_OPCODE_IDLE); saveLen(w, Math.floor(idleMs(clock, now) / 1000)) } else if (isLfu(p)) { w.byte(RDB_OPCODE_FREQ); w.byte(lfuCounter(clock, now)) }
}
