// Streams in the shard arena (Redis 7.0's t_stream.c): entries kept in chunks sorted by id, listed
// in a directory, the way Redis keeps listpacks under a radix tree. A chunk starts where Redis
// starts a listpack node, so that XTRIM ~ and XINFO report the same counts: Redis opens a new node
// when the tail node holds stream-node-max-entries (100) entries, live or deleted, or when its
// listpack bytes plus the new entry's field and value bytes reach stream-node-max-bytes (4096);
// each chunk tracks the byte size Redis's listpack would have (lpBytes) for that rule.
//
//   entry value (byte-aligned): | u32 length | u32 directory | last id | first id | max deleted id |
//                                | u32 entries added hi | u32 lo | u32 groups | u32 pad |   (72 bytes)
//   id:        | u32 ms hi | u32 ms lo | u32 seq hi | u32 seq lo |
//   directory: | u32 capacity | u32 first | u32 count | u32 pad | u32 chunk * capacity |
//   chunk:     | u32 capacity | u32 used | u32 live | u32 deleted | u32 lpBytes | u32 entries at |
//              | master id | u32 pad * 2 | varint nfields | (varint len, field)* | entries... |
//   entry:     | u8 flags | varint ms - master ms | varint seq (minus master seq when ms is the
//              | master's) | [varint nfields | (varint len, field, varint len, value)*]       |
//              | or, with SAMEFIELDS, (varint len, value)* for the master's fields             |
// A deleted entry keeps its bytes with the DELETED flag (Redis marks it the same way); a chunk
// with no live entry is freed. Varints are 7 bits a byte, u64 as two u32 words.

import type { Keyspace } from './keyspace.js'
import { writes } from './writes.js'
import { copyBytes, readU32LE as rd, writeU32LE as wr } from '../bytes.js'
import { classBytes, sizeClass, type Arena, type SlidePlan } from './arena.js'
import { parseInt64, parsed } from '../protocol/ascii.js'

export const STREAM_HEADER_BYTES = 72
const H_LENGTH = 0
const H_DIR = 4
const H_LAST = 8
const H_FIRST = 24
const H_MAXDEL = 40
const H_ADDED = 56
const H_GROUPS = 64

// A chunk is an arena block (8-aligned), so its header's u32 fields are 4-aligned: XADD and
// XTRIM read and write them through the arena's u32 view (a byte-wise readU32LE call there, not
// inlined, was 8.7% of the shard's time at XADD -P 16; the ids inside entries are not aligned).
const CHUNK_HEADER = 48
const C_CAP = 0
const C_USED = 4
const C_LIVE = 8
const C_DELETED = 12
const C_LPBYTES = 16
const C_ENTRIES = 20
const C_MASTER = 24

const FLAG_DELETED = 1
const FLAG_SAMEFIELDS = 2

/** stream-node-max-entries and stream-node-max-bytes (Redis's defaults; FLASHKV_STREAM_NODE_ENTRIES for tests). */
export const NODE_MAX_ENTRIES = Number(process.env.FLASHKV_STREAM_NODE_ENTRIES ?? '') > 0 ? Number(process.env.FLASHKV_STREAM_NODE_ENTRIES) : 100
const NODE_MAX_BYTES = 4096
/** STREAM_LISTPACK_MAX_SIZE */
export const LISTPACK_MAX_SIZE = 1 << 30
const TWO32 = 4294967296

// --- ids ---------------------------------------------------------------------------------------

/** A stream id: two u64 as u32 words (exact for every value, unlike a double). */
export class StreamId {
  msHi = 0
  msLo = 0
  seqHi = 0
  seqLo = 0
}

export function idCmp (a: StreamId, b: StreamId): number {
  if (a.msHi !== b.msHi) return a.msHi < b.msHi ? -1 : 1
  if (a.msLo !== b.msLo) return a.msLo < b.msLo ? -1 : 1
  if (a.seqHi !== b.seqHi) return a.seqHi < b.seqHi ? -1 : 1
  if (a.seqLo !== b.seqLo) return a.seqLo < b.seqLo ? -1 : 1
  return 0
}

export function idCopy (dst: StreamId, src: StreamId): StreamId {
  dst.msHi = src.msHi; dst.msLo = src.msLo; dst.seqHi = src.seqHi; dst.seqLo = src.seqLo
  return dst
}

export function idSet (dst: StreamId, ms: bigint, seq: bigint): StreamId {
  dst.msHi = Number(ms >> 32n); dst.msLo = Number(ms & 0xffffffffn)
  dst.seqHi = Number(seq >> 32n); dst.seqLo = Number(seq & 0xffffffffn)
  return dst
}

export function idSetNum (dst: StreamId, ms: number, seq: number): StreamId {
  dst.msHi = Math.floor(ms / TWO32); dst.msLo = ms % TWO32
  dst.seqHi = Math.floor(seq / TWO32); dst.seqLo = seq % TWO32
  return dst
}

export function idIsZero (id: StreamId): boolean { return (id.msHi | id.msLo | id.seqHi | id.seqLo) === 0 }
export function idIsMax (id: StreamId): boolean {
  return id.msHi === 0xffffffff && id.msLo === 0xffffffff && id.seqHi === 0xffffffff && id.seqLo === 0xffffffff
}
export function idSetMax (id: StreamId): StreamId { id.msHi = id.msLo = id.seqHi = id.seqLo = 0xffffffff; return id }
export function idSetZero (id: StreamId): StreamId { id.msHi = id.msLo = id.seqHi = id.seqLo = 0; return id }
export function idMs (id: StreamId): bigint { return (BigInt(id.msHi) << 32n) | BigInt(id.msLo) }
export function idSeq (id: StreamId): bigint { return (BigInt(id.seqHi) << 32n) | BigInt(id.seqLo) }
export function seqIsMax (id: StreamId): boolean { return id.seqHi === 0xffffffff && id.seqLo === 0xffffffff }

/** streamIncrID: false (and 0-0) past the last id. */
export function idIncr (id: StreamId): boolean {
  if (seqIsMax(id)) {
    if (id.msHi === 0xffffffff && id.msLo === 0xffffffff) { idSetZero(id); return false }
    id.seqHi = id.seqLo = 0
    if (id.msLo === 0xffffffff) { id.msLo = 0; id.msHi++ } else id.msLo++
    return true
  }
  if (id.seqLo === 0xffffffff) { id.seqLo = 0; id.seqHi++ } else id.seqLo++
  return true
}

/** streamDecrID: false (and the max id) before 0-0. */
export function idDecr (id: StreamId): boolean {
  if (id.seqHi === 0 && id.seqLo === 0) {
    if (id.msHi === 0 && id.msLo === 0) { idSetMax(id); return false }
    id.seqHi = id.seqLo = 0xffffffff
    if (id.msLo === 0) { id.msLo = 0xffffffff; id.msHi-- } else id.msLo--
    return true
  }
  if (id.seqLo === 0) { id.seqLo = 0xffffffff; id.seqHi-- } else id.seqLo--
  return true
}

export function idRead (u8: Uint8Array, p: number, id: StreamId): StreamId {
  id.msHi = rd(u8, p); id.msLo = rd(u8, p + 4); id.seqHi = rd(u8, p + 8); id.seqLo = rd(u8, p + 12)
  return id
}

export function idWrite (u8: Uint8Array, p: number, id: StreamId): void {
  wr(u8, p, id.msHi); wr(u8, p + 4, id.msLo); wr(u8, p + 8, id.seqHi); wr(u8, p + 12, id.seqLo)
}

/** The digits of 0 <= x < 10^8 at b[p..] (int32 arithmetic); returns the end. */
function smallDigits (x: number, b: Uint8Array, p: number): number {
  let n = 1
  for (let t = 10; t <= x && n < 8; t *= 10) n++
  for (let i = p + n - 1; i >= p; i--) { const q = (x / 10) | 0; b[i] = 48 + x - q * 10; x = q }
  return p + n
}

/**
 * Writes the decimal digits of the u64 (hi, lo) at b[p..]; returns the end. Below 2^53 it splits
 * the value at 10^8 once, so the digits come from int32 divisions (an XREAD of 10 entries
 * formats 10 ids of 13-digit milliseconds: a float division and remainder per digit was a
 * sixth of the shard's time).
 */
function u64Digits (hi: number, lo: number, b: Uint8Array, p: number): number {
  if (hi < 0x200000) {
    const v = hi * TWO32 + lo
    if (v < 1e8) return smallDigits(v, b, p)
    let low = v % 1e8
    p = smallDigits((v - low) / 1e8, b, p)
    for (let i = p + 7; i >= p; i--) { const q = (low / 10) | 0; b[i] = 48 + low - q * 10; low = q }
    return p + 8
  }
  const s = ((BigInt(hi) << 32n) | BigInt(lo)).toString()
  for (let i = 0; i < s.length; i++) b[p + i] = s.charCodeAt(i)
  return p + s.length
}

/** "ms-seq" at b[p..] (b needs 41 bytes); returns the length. */
export function idFormat (id: StreamId, b: Uint8Array, p = 0): number {
  let q = u64Digits(id.msHi, id.msLo, b, p)
  b[q++] = 45
  q = u64Digits(id.seqHi, id.seqLo, b, q)
  return q - p
}

export function idString (id: StreamId): string {
  return `${idMs(id)}-${idSeq(id)}`
}

// --- varints -------------------------------------------------------------------------------------

const vr = { hi: 0, lo: 0, p: 0 }

function varintBytes (hi: number, lo: number): number {
  if (hi === 0) {
    if (lo < 0x80) return 1
    if (lo < 0x4000) return 2
    if (lo < 0x200000) return 3
    if (lo < 0x10000000) return 4
    return 5
  }
  let n = 5
  for (let h = hi >>> 3; h !== 0; h >>>= 7) n++
  return n
}

function varintWrite (u8: Uint8Array, p: number, hi: number, lo: number): number {
  while (hi !== 0 || lo >= 0x80) {
    u8[p++] = (lo & 0x7f) | 0x80
    lo = ((lo >>> 7) | (hi << 25)) >>> 0
    hi = hi >>> 7
  }
  u8[p++] = lo
  return p
}

/** Reads a varint at p into vr (hi, lo, p after it). */
function varintRead (u8: Uint8Array, p: number): void {
  let b = u8[p++]
  if (b < 0x80) { vr.hi = 0; vr.lo = b; vr.p = p; return }
  let lo = b & 0x7f
  let hi = 0
  let shift = 7
  do {
    b = u8[p++]
    const bits = b & 0x7f
    if (shift < 28) lo |= bits << shift
    else if (shift === 28) { lo |= (bits & 0x0f) << 28; hi |= bits >>> 4 } else hi |= bits << (shift - 32)
    shift += 7
  } while (b >= 0x80)
  vr.hi = hi >>> 0; vr.lo = lo >>> 0; vr.p = p
}

/** A small varint (a length or a count, < 2^28 in practice). */
function lenRead (u8: Uint8Array, p: number): number {
  let b = u8[p]
  if (b < 0x80) { vr.p = p + 1; return b }
  let v = b & 0x7f
  let mul = 128
  for (p++; ; p++) {
    b = u8[p]
    v += (b & 0x7f) * mul
    mul *= 128
    if (b < 0x80) break
  }
  vr.p = p + 1
  return v
}

function lenBytes (n: number): number { return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5 }

function lenWrite (u8: Uint8Array, p: number, n: number): number {
  while (n >= 0x80) { u8[p++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128) }
  u8[p++] = n
  return p
}

// --- Redis listpack sizes (for node boundaries) ----------------------------------------------------

/** Bytes of a listpack integer element, its backlen included (lpEncodeIntegerGetType). */
function lpIntBytes (v: number): number {
  if (v >= 0 && v <= 127) return 2
  if (v >= -4096 && v <= 4095) return 3
  if (v >= -32768 && v <= 32767) return 4
  if (v >= -8388608 && v <= 8388607) return 5
  if (v >= -2147483648 && v <= 2147483647) return 6
  return 10
}

/** Bytes of a listpack element for a string (stored as an integer when string2ll reads it). */
function lpStrBytes (buf: Uint8Array, start: number, len: number): number {
  if (len <= 20 && parseInt64(buf, start, len)) {
    // parsed.value is inexact only past 2^53: such a value takes 9 bytes whatever it is.
    return lpIntBytes(parsed.value)
  }
  const l = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len
  // lpEncodeBacklen's bounds (one short of each power of 128 past the first).
  const back = l < 128 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5
  return l + back
}


/** (a - b) of two u64 (hi, lo) as the int64 Redis stores, as a number (exact when small). */
function signedDelta (aHi: number, aLo: number, bHi: number, bLo: number): number {
  const d = (aHi - bHi) * TWO32 + (aLo - bLo)
  if (d > -2147483649 && d < 2147483648) return d
  // Far apart: it wraps to a small int64 only near 2^64 apart, which needs exact arithmetic.
  let x = ((BigInt(aHi) << 32n) | BigInt(aLo)) - ((BigInt(bHi) << 32n) | BigInt(bLo))
  x = BigInt.asIntN(64, x)
  return x > 2147483647n || x < -2147483648n ? 2 ** 40 : Number(x)
}

// --- header access -------------------------------------------------------------------------------

export function streamLen (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + H_LENGTH) }
export function streamGroups (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + H_GROUPS) }
export function streamSetGroups (ks: Keyspace, e: number, g: number): void { wr(ks.arena.u8, ks.valOffset(e) + H_GROUPS, g) }
export function streamLastId (ks: Keyspace, e: number, id: StreamId): StreamId { return idRead(ks.arena.u8, ks.valOffset(e) + H_LAST, id) }
export function streamFirstId (ks: Keyspace, e: number, id: StreamId): StreamId { return idRead(ks.arena.u8, ks.valOffset(e) + H_FIRST, id) }
export function streamMaxDeletedId (ks: Keyspace, e: number, id: StreamId): StreamId { return idRead(ks.arena.u8, ks.valOffset(e) + H_MAXDEL, id) }
// XSETID's setters leave writes.count alone: Redis 7.0's xsetidCommand signals no modified key.
export function streamSetLastId (ks: Keyspace, e: number, id: StreamId): void { idWrite(ks.arena.u8, ks.valOffset(e) + H_LAST, id) }
export function streamSetMaxDeletedId (ks: Keyspace, e: number, id: StreamId): void { idWrite(ks.arena.u8, ks.valOffset(e) + H_MAXDEL, id) }
export function streamEntriesAdded (ks: Keyspace, e: number): number {
  const u8 = ks.arena.u8
  const v = ks.valOffset(e)
  return rd(u8, v + H_ADDED) * TWO32 + rd(u8, v + H_ADDED + 4)
}
export function streamSetEntriesAdded (ks: Keyspace, e: number, n: number): void {
  const v = ks.valOffset(e)
  wr(ks.arena.u8, v + H_ADDED, Math.floor(n / TWO32))
  wr(ks.arena.u8, v + H_ADDED + 4, n % TWO32)
}
function setLen (ks: Keyspace, e: number, n: number): void { wr(ks.arena.u8, ks.valOffset(e) + H_LENGTH, n) }
function dirOf (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + H_DIR) }

// --- a script's undo (scripting/undo.ts) ---------------------------------------------------------
// A script running in a shard worker with several shards may stop after writing (it needs another
// shard) and must then leave every key as it found it. A stream too big to copy is kept as the
// few blocks an XADD or an approximate trim changes in place (the header, the directory, the tail
// chunk) and the blocks it references; the blocks the run frees meanwhile are kept from reuse
// until it ends, so that putting the stream back needs only those bytes.

/** Blocks freed while a run may still be undone: freed at its end, or kept by the streams it puts back. */
export const streamUndo = { isDeferring: false, arenas: [] as Arena[], blocks: [] as number[], sizes: [] as number[] }

function freeBlock (a: Arena, p: number, size: number): void {
  if (!streamUndo.isDeferring) { a.free(p, size); return }
  streamUndo.arenas.push(a)
  streamUndo.blocks.push(p)
  streamUndo.sizes.push(size)
}

/** The run ended: the blocks it freed go (all of them, or those no stream put back took again). */
export function streamUndoEnd (kept: ReadonlyMap<Arena, ReadonlySet<number>> | null): void {
  const u = streamUndo
  u.isDeferring = false
  for (let i = 0; i < u.blocks.length; i++) {
    if (kept?.get(u.arenas[i])?.has(u.blocks[i]) !== true) u.arenas[i].free(u.blocks[i], u.sizes[i])
  }
  u.arenas.length = 0
  u.blocks.length = 0
  u.sizes.length = 0
}

/** What streamRestore needs: the bytes an append or an approximate trim changes in place, and the blocks in use. */
export interface StreamSnap { header: Uint8Array, dir: number, dirBytes: Uint8Array | null, tail: number, tailBytes: Uint8Array | null, blocks: number[] }

export function streamSnapshot (ks: Keyspace, e: number): StreamSnap {
  const a = ks.arena
  const u8 = a.u8
  const v = ks.valOffset(e)
  const d = dirOf(ks, e)
  const snap: StreamSnap = { header: u8.slice(v, v + STREAM_HEADER_BYTES), dir: d, dirBytes: null, tail: 0, tailBytes: null, blocks: [] }
  if (d === 0) return snap
  const u32 = a.u32
  snap.dirBytes = u8.slice(d, d + 16 + u32[d >>> 2] * 4)
  snap.blocks.push(d)
  const n = u32[(d >>> 2) + 2]
  for (let i = 0; i < n; i++) snap.blocks.push(chunkAt(ks, d, i))
  if (n > 0) {
    snap.tail = chunkAt(ks, d, n - 1)
    snap.tailBytes = u8.slice(snap.tail, snap.tail + rd(u8, snap.tail + C_USED))
  }
  return snap
}

/**
 * Puts the stream back as streamSnapshot saw it, after appends and approximate trims: the blocks
 * it references now that it did not then are freed, and the header, directory and tail chunk get
 * their bytes back (its other blocks were not changed, or were freed and kept: streamUndoEnd).
 */
export function streamRestore (ks: Keyspace, e: number, snap: StreamSnap): void {
  const a = ks.arena
  const before = new Set(snap.blocks)
  const d = dirOf(ks, e)
  if (d !== 0) {
    const n = a.u32[(d >>> 2) + 2]
    for (let i = 0; i < n; i++) {
      const c = chunkAt(ks, d, i)
      if (!before.has(c)) a.free(c, rd(a.u8, c + C_CAP))
    }
    if (!before.has(d)) a.free(d, 16 + a.u32[d >>> 2] * 4)
  }
  const u8 = a.u8
  u8.set(snap.header, ks.valOffset(e))
  if (snap.dirBytes !== null) u8.set(snap.dirBytes, snap.dir)
  if (snap.tailBytes !== null) u8.set(snap.tailBytes, snap.tail)
}

/** A fresh, empty stream (valLen = STREAM_HEADER_BYTES). */
export function streamInit (ks: Keyspace, e: number): void {
  writes.count++
  const v = ks.valOffset(e)
  ks.arena.u8.fill(0, v, v + STREAM_HEADER_BYTES)
}

/** Chunks in order (their blocks). */
export function streamChunkCount (ks: Keyspace, e: number): number {
  const d = dirOf(ks, e)
  return d === 0 ? 0 : ks.arena.u32[(d >>> 2) + 2]
}

function chunkAt (ks: Keyspace, d: number, i: number): number {
  const u32 = ks.arena.u32
  return u32[(d >>> 2) + 4 + u32[(d >>> 2) + 1] + i]
}

// --- entries ---------------------------------------------------------------------------------------

/**
 * The entry being read (filled by readEntry): its flags, id, field count, where its field/value
 * pairs start (`at`), and where the next entry starts.
 */
export const ent = { flags: 0, id: new StreamId(), nfields: 0, at: 0, next: 0, masterFields: 0, p: 0 }
const tmpId = new StreamId()
const tmpId2 = new StreamId()

/** Decodes the entry at p of chunk c into `ent`. */
function readEntry (u8: Uint8Array, c: number, p: number): void {
  ent.p = p
  const flags = ent.flags = u8[p]
  const mHi = rd(u8, c + C_MASTER)
  const mLo = rd(u8, c + C_MASTER + 4)
  varintRead(u8, p + 1)
  const id = ent.id
  let lo = mLo + vr.lo
  let carry = 0
  if (lo >= TWO32) { lo -= TWO32; carry = 1 }
  id.msHi = (mHi + vr.hi + carry) >>> 0
  id.msLo = lo
  const isSameMs = vr.hi === 0 && vr.lo === 0
  varintRead(u8, vr.p)
  if (isSameMs) {
    let slo = rd(u8, c + C_MASTER + 12) + vr.lo
    let sc = 0
    if (slo >= TWO32) { slo -= TWO32; sc = 1 }
    id.seqHi = (rd(u8, c + C_MASTER + 8) + vr.hi + sc) >>> 0
    id.seqLo = slo
  } else {
    id.seqHi = vr.hi
    id.seqLo = vr.lo
  }
  let q = vr.p
  const mf = c + CHUNK_HEADER
  ent.masterFields = mf
  if ((flags & FLAG_SAMEFIELDS) !== 0) {
    ent.nfields = lenRead(u8, mf)
    ent.at = q
    for (let i = 0; i < ent.nfields; i++) { const l = lenRead(u8, q); q = vr.p + l }
  } else {
    ent.nfields = lenRead(u8, q)
    q = vr.p
    ent.at = q
    for (let i = 0; i < ent.nfields * 2; i++) { const l = lenRead(u8, q); q = vr.p + l }
  }
  ent.next = q
}

/**
 * The field/value pairs of the entry last read (ent), one at a time without a callback:
 * pairsBegin, then pairNext until it returns false; each fills `pair` (byte offsets in the
 * arena's u8).
 */
export const pair = { fa: 0, fl: 0, va: 0, vl: 0 }
const pairState = { q: 0, f: 0, left: 0, isSame: false }

export function pairsBegin (ks: Keyspace): void {
  pairState.q = ent.at
  pairState.left = ent.nfields
  pairState.isSame = (ent.flags & FLAG_SAMEFIELDS) !== 0
  if (pairState.isSame) { lenRead(ks.arena.u8, ent.masterFields); pairState.f = vr.p }
}

export function pairNext (u8: Uint8Array): boolean {
  const st = pairState
  if (st.left === 0) return false
  st.left--
  if (st.isSame) {
    pair.fl = lenRead(u8, st.f); pair.fa = vr.p; st.f = pair.fa + pair.fl
  } else {
    pair.fl = lenRead(u8, st.q); pair.fa = vr.p; st.q = pair.fa + pair.fl
  }
  pair.vl = lenRead(u8, st.q); pair.va = vr.p; st.q = pair.va + pair.vl
  return true
}

/**
 * Every chunk as the listpack node Redis would hold (DUMP and RDB): onChunk with its master id,
 * live and deleted counts and its master fields ([offset, length] in the arena's u8); then onEntry
 * for each of its entries, deleted ones too, with `ent` filled (pairsBegin/pairNext read them).
 */
export function streamChunksForEach (ks: Keyspace, e: number,
  onChunk: (master: StreamId, live: number, deleted: number, fields: Array<[number, number]>) => void,
  onEntry: (isDeleted: boolean, isSameFields: boolean) => void): void {
  const d = dirOf(ks, e)
  if (d === 0) return
  const master = new StreamId()
  for (let ci = 0, n = streamChunkCount(ks, e); ci < n; ci++) {
    const c = chunkAt(ks, d, ci)
    const u8 = ks.arena.u8
    const fields: Array<[number, number]> = []
    let q = c + CHUNK_HEADER
    const nf = lenRead(u8, q)
    q = vr.p
    for (let i = 0; i < nf; i++) { const l = lenRead(u8, q); fields.push([vr.p, l]); q = vr.p + l }
    onChunk(idRead(u8, c + C_MASTER, master), rd(u8, c + C_LIVE), rd(u8, c + C_DELETED), fields)
    const used = rd(u8, c + C_USED)
    for (let p = c + rd(u8, c + C_ENTRIES); p < c + used;) {
      readEntry(u8, c, p)
      p = ent.next
      onEntry((ent.flags & FLAG_DELETED) !== 0, (ent.flags & FLAG_SAMEFIELDS) !== 0)
    }
  }
}

/** Calls fn for each live entry (ent filled) with id in [start, end], ascending or descending; fn returns false to stop. */
export function streamRange (ks: Keyspace, e: number, start: StreamId, end: StreamId, isRev: boolean, fn: () => boolean): void {
  const d = dirOf(ks, e)
  if (d === 0) return
  const n = streamChunkCount(ks, e)
  if (n === 0) return
  if (!isRev) {
    for (let ci = seekChunk(ks, d, n, start); ci < n; ci++) {
      const c = chunkAt(ks, d, ci)
      const u8 = ks.arena.u8
      const used = rd(u8, c + C_USED)
      for (let p = c + rd(u8, c + C_ENTRIES); p < c + used;) {
        readEntry(u8, c, p)
        p = ent.next
        if ((ent.flags & FLAG_DELETED) !== 0) continue
        if (idCmp(ent.id, start) < 0) continue
        if (idCmp(ent.id, end) > 0) return
        if (!fn()) return
      }
    }
    return
  }
  // The entries' offsets of a chunk, walked backwards: a reused buffer (a fresh array, grown by
  // push for every entry of the chunk, was 14% of the shard's time on XREAD, which reads the last
  // id this way), or a new one when fn runs another reverse walk.
  const offs = revDepth === 0 ? revOffs : new Int32Array(64)
  revDepth++
  try {
    let buf = offs
    for (let ci = seekChunk(ks, d, n, end); ci >= 0; ci--) {
      const c = chunkAt(ks, d, ci)
      const u8 = ks.arena.u8
      const used = rd(u8, c + C_USED)
      let count = 0
      for (let p = c + rd(u8, c + C_ENTRIES); p < c + used;) {
        if (count === buf.length) {
          const next = new Int32Array(buf.length * 2)
          next.set(buf)
          buf = next
          if (offs === revOffs) revOffs = next
        }
        buf[count++] = p
        readEntry(u8, c, p)
        p = ent.next
      }
      for (let k = count - 1; k >= 0; k--) {
        readEntry(ks.arena.u8, c, buf[k])
        if ((ent.flags & FLAG_DELETED) !== 0) continue
        if (idCmp(ent.id, end) > 0) continue
        if (idCmp(ent.id, start) < 0) return
        if (!fn()) return
      }
    }
  } finally {
    revDepth--
  }
}
let revOffs = new Int32Array(256)
let revDepth = 0

/** Index of the last chunk whose master id is <= id (0 when none is). */
function seekChunk (ks: Keyspace, d: number, n: number, id: StreamId): number {
  const u8 = ks.arena.u8
  let lo = 0
  let hi = n
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    if (idCmp(idRead(u8, chunkAt(ks, d, m) + C_MASTER, tmpId2), id) <= 0) lo = m + 1
    else hi = m
  }
  return lo === 0 ? 0 : lo - 1
}

/** Bytes of the entry encoding for these fields (with or without the master's fields). */
function entryBytes (argv: ArgvLike, first: number, argc: number, isSame: boolean, msHi: number, msLo: number, seqHi: number, seqLo: number): number {
  let n = 1 + varintBytes(msHi, msLo) + varintBytes(seqHi, seqLo)
  const nfields = (argc - first) / 2
  if (!isSame) n += lenBytes(nfields)
  for (let i = first; i < argc; i += 2) {
    if (!isSame) n += lenBytes(argv.len[i]) + argv.len[i]
    n += lenBytes(argv.len[i + 1]) + argv.len[i + 1]
  }
  return n
}

interface ArgvLike { buf: Uint8Array, start: Int32Array, len: Int32Array }

/** True when the fields of argv[first..argc) are the chunk's master fields, in order. */
function sameFields (u8: Uint8Array, c: number, argv: ArgvLike, first: number, argc: number): boolean {
  let p = c + CHUNK_HEADER
  const n = lenRead(u8, p)
  p = vr.p
  if (n * 2 !== argc - first) return false
  for (let i = first; i < argc; i += 2) {
    const l = lenRead(u8, p)
    p = vr.p
    if (l !== argv.len[i]) return false
    const s = argv.start[i]
    for (let k = 0; k < l; k++) if (u8[p + k] !== argv.buf[s + k]) return false
    p += l
  }
  return true
}

/** Arena bytes an append may take at most (for Arena.reserve before it). */
export function streamAppendReserve (argv: ArgvLike, first: number, argc: number): number {
  let n = 0
  for (let i = first; i < argc; i++) n += argv.len[i] + 5
  // A new chunk (or the tail grown to twice its size), and the directory grown.
  return 2 * (CHUNK_HEADER + 2 * n + 64) + 2 * NODE_MAX_BYTES + 8192
}

/**
 * streamAppendItem with the id already checked (greater than the last id): appends the entry of
 * the field/value pairs argv[first..argc). Returns false when the arena is full.
 */
export function streamAppend (ks: Keyspace, e: number, id: StreamId, argv: ArgvLike, first: number, argc: number): boolean {
  writes.count++
  const a = ks.arena
  const nfields = (argc - first) / 2
  let totelelen = 0
  for (let i = first; i < argc; i++) totelelen += argv.len[i]
  let d = dirOf(ks, e)
  let n = d === 0 ? 0 : a.u32[(d >>> 2) + 2]
  let c = n === 0 ? 0 : chunkAt(ks, d, n - 1)
  if (c !== 0) {
    if (a.u32[(c + C_LPBYTES) >>> 2] + totelelen >= NODE_MAX_BYTES ||
      a.u32[(c + C_LIVE) >>> 2] + a.u32[(c + C_DELETED) >>> 2] >= NODE_MAX_ENTRIES) {
      shrinkChunk(ks, e, n - 1)
      c = 0
    }
  }
  let isSame: boolean
  let lpAdd: number
  if (c === 0) {
    // A new chunk: the master fields are this entry's.
    let size = CHUNK_HEADER + lenBytes(nfields)
    let lp = 7 + 2 + 2 + lpIntBytes(nfields) + 2
    for (let i = first; i < argc; i += 2) {
      size += lenBytes(argv.len[i]) + argv.len[i]
      lp += lpStrBytes(argv.buf, argv.start[i], argv.len[i])
    }
    const need = size + entryBytes(argv, first, argc, true, 0, 0, 0, 0)
    const cap = Math.max(need, Math.min(NODE_MAX_BYTES, 256))
    c = a.alloc(cap)
    if (c === 0) return false
    if (d === 0 || n === a.u32[d >>> 2] - a.u32[(d >>> 2) + 1]) {
      d = growDir(ks, e, d)
      if (d === 0) { freeBlock(a, c, cap); return false }
    }
    const u8 = a.u8
    a.u32[(c + C_CAP) >>> 2] = cap
    a.u32[(c + C_LIVE) >>> 2] = 0
    a.u32[(c + C_DELETED) >>> 2] = 0
    a.u32[(c + C_LPBYTES) >>> 2] = lp
    idWrite(u8, c + C_MASTER, id)
    wr(u8, c + 40, 0)
    wr(u8, c + 44, 0)
    let p = lenWrite(u8, c + CHUNK_HEADER, nfields)
    for (let i = first; i < argc; i += 2) {
      p = lenWrite(u8, p, argv.len[i])
      copyBytes(argv.buf, argv.start[i], argv.len[i], u8, p)
      p += argv.len[i]
    }
    a.u32[(c + C_ENTRIES) >>> 2] = p - c
    a.u32[(c + C_USED) >>> 2] = p - c
    const u32 = a.u32
    const db = d >>> 2
    u32[db + 4 + u32[db + 1] + u32[db + 2]] = c
    u32[db + 2]++
    n++
    isSame = true
  } else {
    isSame = sameFields(a.u8, c, argv, first, argc)
  }
  // The entry's listpack bytes (flags, ms delta, seq delta, [count, fields], values, lp-count).
  const mHi = a.u32[(c + C_MASTER) >>> 2]
  const mLo = a.u32[(c + C_MASTER + 4) >>> 2]
  const msSigned = signedDelta(id.msHi, id.msLo, mHi, mLo)
  const seqSigned = signedDelta(id.seqHi, id.seqLo, a.u32[(c + C_MASTER + 8) >>> 2], a.u32[(c + C_MASTER + 12) >>> 2])
  lpAdd = 2 + lpIntBytes(msSigned) + lpIntBytes(seqSigned)
  if (!isSame) lpAdd += lpIntBytes(nfields)
  for (let i = first; i < argc; i += 2) {
    if (!isSame) lpAdd += lpStrBytes(argv.buf, argv.start[i], argv.len[i])
    lpAdd += lpStrBytes(argv.buf, argv.start[i + 1], argv.len[i + 1])
  }
  lpAdd += lpIntBytes(nfields + 3 + (isSame ? 0 : nfields + 1))
  // Our encoding: ms delta, then the seq (a delta when the ms is the master's).
  let dLo = id.msLo - mLo
  let dHi = id.msHi - mHi
  if (dLo < 0) { dLo += TWO32; dHi-- }
  let sHi = id.seqHi
  let sLo = id.seqLo
  if (dHi === 0 && dLo === 0) {
    sLo = id.seqLo - a.u32[(c + C_MASTER + 12) >>> 2]
    sHi = id.seqHi - a.u32[(c + C_MASTER + 8) >>> 2]
    if (sLo < 0) { sLo += TWO32; sHi-- }
  }
  const bytes = entryBytes(argv, first, argc, isSame, dHi, dLo, sHi, sLo)
  const used = a.u32[(c + C_USED) >>> 2]
  if (used + bytes > a.u32[(c + C_CAP) >>> 2]) {
    c = resizeChunk(ks, e, n - 1, Math.max(used + bytes, Math.min(a.u32[(c + C_CAP) >>> 2] * 2, NODE_MAX_BYTES * 2)))
    if (c === 0) return false
  }
  const b = a.u8
  let p = c + used
  b[p++] = isSame ? FLAG_SAMEFIELDS : 0
  p = varintWrite(b, p, dHi, dLo)
  p = varintWrite(b, p, sHi, sLo)
  if (!isSame) p = lenWrite(b, p, nfields)
  for (let i = first; i < argc; i += 2) {
    if (!isSame) {
      p = lenWrite(b, p, argv.len[i])
      copyBytes(argv.buf, argv.start[i], argv.len[i], b, p)
      p += argv.len[i]
    }
    p = lenWrite(b, p, argv.len[i + 1])
    copyBytes(argv.buf, argv.start[i + 1], argv.len[i + 1], b, p)
    p += argv.len[i + 1]
  }
  a.u32[(c + C_USED) >>> 2] = p - c
  a.u32[(c + C_LIVE) >>> 2] = a.u32[(c + C_LIVE) >>> 2] + 1
  a.u32[(c + C_LPBYTES) >>> 2] = a.u32[(c + C_LPBYTES) >>> 2] + lpAdd
  const len = streamLen(ks, e) + 1
  setLen(ks, e, len)
  streamSetEntriesAdded(ks, e, streamEntriesAdded(ks, e) + 1)
  const v = ks.valOffset(e)
  idWrite(b, v + H_LAST, id)
  if (len === 1) idWrite(b, v + H_FIRST, id)
  return true
}

/** A directory with room for twice the chunks (compacted to the front); 0 when the arena is full. */
function growDir (ks: Keyspace, e: number, d: number): number {
  const a = ks.arena
  const oldCap = d === 0 ? 0 : a.u32[d >>> 2]
  const count = d === 0 ? 0 : a.u32[(d >>> 2) + 2]
  const cap = Math.max(8, count * 2)
  if (d !== 0 && cap <= oldCap) {
    // Room at the back once the front's gap is closed.
    const u32 = a.u32
    const db = d >>> 2
    const first = u32[db + 1]
    u32.copyWithin(db + 4, db + 4 + first, db + 4 + first + count)
    u32[db + 1] = 0
    return d
  }
  const nd = a.alloc(16 + cap * 4)
  if (nd === 0) return 0
  const u32 = a.u32
  const nb = nd >>> 2
  u32[nb] = cap
  u32[nb + 1] = 0
  u32[nb + 2] = count
  u32[nb + 3] = 0
  if (d !== 0) {
    const db = d >>> 2
    const first = u32[db + 1]
    for (let i = 0; i < count; i++) u32[nb + 4 + i] = u32[db + 4 + first + i]
    freeBlock(a, d, 16 + oldCap * 4)
  }
  wr(a.u8, ks.valOffset(e) + H_DIR, nd)
  return nd
}

/** Gives chunk i a block of `cap` bytes; returns it (0 when the arena is full). */
function resizeChunk (ks: Keyspace, e: number, i: number, cap: number): number {
  const a = ks.arena
  const d = dirOf(ks, e)
  const c = chunkAt(ks, d, i)
  const old = rd(a.u8, c + C_CAP)
  if (sizeClass(old) === sizeClass(cap)) { wr(a.u8, c + C_CAP, cap); return c }
  const n = a.alloc(cap)
  if (n === 0) return 0
  const u8 = a.u8
  u8.copyWithin(n, c, c + rd(u8, c + C_USED))
  wr(u8, n + C_CAP, cap)
  freeBlock(a, c, old)
  const u32 = a.u32
  u32[(d >>> 2) + 4 + u32[(d >>> 2) + 1] + i] = n
  return n
}

/** A chunk that will take no more entries keeps only the block its bytes need. */
function shrinkChunk (ks: Keyspace, e: number, i: number): void {
  const a = ks.arena
  const c = chunkAt(ks, dirOf(ks, e), i)
  const used = rd(a.u8, c + C_USED)
  if (classBytes(sizeClass(used)) < classBytes(sizeClass(rd(a.u8, c + C_CAP)))) resizeChunk(ks, e, i, used)
}

/** Frees chunk i and takes it out of the directory. */
function dropChunk (ks: Keyspace, e: number, i: number): void {
  const a = ks.arena
  const d = dirOf(ks, e)
  const c = chunkAt(ks, d, i)
  freeBlock(a, c, rd(a.u8, c + C_CAP))
  const u32 = a.u32
  const db = d >>> 2
  const first = u32[db + 1]
  const count = u32[db + 2]
  if (i === 0) {
    u32[db + 1] = first + 1
  } else {
    u32.copyWithin(db + 4 + first + i, db + 4 + first + i + 1, db + 4 + first + count)
  }
  u32[db + 2] = count - 1
  if (count - 1 === 0) {
    freeBlock(a, d, 16 + u32[db] * 4)
    wr(a.u8, ks.valOffset(e) + H_DIR, 0)
  }
}

/** streamGetEdgeID over the live entries: the first (or last) id into `id`; false when empty. */
export function streamEdgeId (ks: Keyspace, e: number, isFirst: boolean, id: StreamId): boolean {
  edge.found = false
  edge.id = id
  streamRange(ks, e, EDGE_LO, EDGE_HI, !isFirst, takeEdge)
  return edge.found
}
// streamEdgeId's bounds and callback, made once (XREAD reads the last id per call).
const EDGE_LO = idSetZero(new StreamId())
const EDGE_HI = idSetMax(new StreamId())
const edge = { found: false, id: EDGE_LO }
function takeEdge (): boolean { idCopy(edge.id, ent.id); edge.found = true; return false }

/** The first live id after a deletion or a trim (0-0 once empty). */
function updateFirstId (ks: Keyspace, e: number): void {
  const v = ks.valOffset(e)
  if (streamLen(ks, e) === 0) { idWrite(ks.arena.u8, v + H_FIRST, idSetZero(tmpId)); return }
  streamEdgeId(ks, e, true, tmpId)
  idWrite(ks.arena.u8, ks.valOffset(e) + H_FIRST, tmpId)
}

/** streamDeleteItem: marks the entry deleted (or drops its chunk when it was the last live one). */
export function streamDelete (ks: Keyspace, e: number, id: StreamId): boolean {
  const d = dirOf(ks, e)
  if (d === 0) return false
  const n = streamChunkCount(ks, e)
  const ci = seekChunk(ks, d, n, id)
  const c = chunkAt(ks, d, ci)
  const u8 = ks.arena.u8
  const used = rd(u8, c + C_USED)
  for (let p = c + rd(u8, c + C_ENTRIES); p < c + used;) {
    readEntry(u8, c, p)
    const cmp = idCmp(ent.id, id)
    if (cmp > 0) return false
    if (cmp === 0) {
      if ((ent.flags & FLAG_DELETED) !== 0) return false
      writes.count++
      const live = rd(u8, c + C_LIVE)
      if (live === 1) dropChunk(ks, e, ci)
      else {
        u8[p] |= FLAG_DELETED
        wr(u8, c + C_LIVE, live - 1)
        wr(u8, c + C_DELETED, rd(u8, c + C_DELETED) + 1)
      }
      setLen(ks, e, streamLen(ks, e) - 1)
      return true
    }
    p = ent.next
  }
  return false
}

/** After XDEL's deletions: the first id again (xdelCommand does it once, after all of them). */
export function streamAfterDeletes (ks: Keyspace, e: number): void { updateFirstId(ks, e) }

export const TRIM_MAXLEN = 1
export const TRIM_MINID = 2

/** streamTrim: the number of entries deleted. limit 0 = none. */
export function streamTrim (ks: Keyspace, e: number, strategy: number, maxlen: number, minid: StreamId, isApprox: boolean, limit: number): number {
  let deleted = 0
  const a = ks.arena
  for (;;) {
    const d = dirOf(ks, e)
    if (d === 0) break
    if (strategy === TRIM_MAXLEN && streamLen(ks, e) <= maxlen) break
    const c = chunkAt(ks, d, 0)
    let u8 = a.u8
    const entries = a.u32[(c + C_LIVE) >>> 2]
    if (limit !== 0 && deleted + entries > limit) break
    let isRemove: boolean
    if (strategy === TRIM_MAXLEN) isRemove = streamLen(ks, e) - entries >= maxlen
    else {
      // The node's last id, deleted entries included (lpGetEdgeStreamID).
      const used = a.u32[(c + C_USED) >>> 2]
      let last = 0
      for (let p = c + a.u32[(c + C_ENTRIES) >>> 2]; p < c + used; p = ent.next) { last = p; readEntry(u8, c, p) }
      readEntry(u8, c, last)
      isRemove = idCmp(ent.id, minid) < 0
    }
    if (isRemove) {
      writes.count++
      dropChunk(ks, e, 0)
      setLen(ks, e, streamLen(ks, e) - entries)
      deleted += entries
      continue
    }
    if (isApprox) break
    u8 = a.u8
    const used = a.u32[(c + C_USED) >>> 2]
    let fromChunk = 0
    for (let p = c + a.u32[(c + C_ENTRIES) >>> 2]; p < c + used;) {
      readEntry(u8, c, p)
      const stop = strategy === TRIM_MAXLEN ? streamLen(ks, e) <= maxlen : idCmp(ent.id, minid) >= 0
      if (stop) break
      if ((ent.flags & FLAG_DELETED) === 0) {
        writes.count++
        u8[p] |= FLAG_DELETED
        fromChunk++
        setLen(ks, e, streamLen(ks, e) - 1)
      }
      p = ent.next
    }
    deleted += fromChunk
    a.u32[(c + C_LIVE) >>> 2] = entries - fromChunk
    a.u32[(c + C_DELETED) >>> 2] = a.u32[(c + C_DELETED) >>> 2] + fromChunk
    break
  }
  if (streamLen(ks, e) === 0) idWrite(a.u8, ks.valOffset(e) + H_FIRST, idSetZero(tmpId))
  else if (deleted > 0) updateFirstId(ks, e)
  return deleted
}

/** Frees the chunks and the directory (the groups are freed by stream-group.ts). */
export function streamFreeEntries (ks: Keyspace, e: number): void {
  const a = ks.arena
  const d = dirOf(ks, e)
  if (d === 0) return
  const n = streamChunkCount(ks, e)
  for (let i = 0; i < n; i++) {
    const c = chunkAt(ks, d, i)
    freeBlock(a, c, rd(a.u8, c + C_CAP))
  }
  freeBlock(a, d, 16 + a.u32[d >>> 2] * 4)
  wr(a.u8, ks.valOffset(e) + H_DIR, 0)
}

/**
 * Keyspace.slide: the directory and its chunks' offsets, through plan.to (chunks hold no offset:
 * their entries are relative to the chunk). The blocks have not moved yet.
 */
export function streamEntriesRelocate (ks: Keyspace, e: number, plan: SlidePlan): void {
  const a = ks.arena
  const d = dirOf(ks, e)
  if (d === 0) return
  const u32 = a.u32
  const db = d >>> 2
  for (let i = db + 4 + u32[db + 1], end = i + u32[db + 2]; i < end; i++) u32[i] = plan.to(u32[i])
  wr(a.u8, ks.valOffset(e) + H_DIR, plan.to(d))
}

/** Arena bytes of the entries (block sizes): MEMORY USAGE. */
export function streamEntriesMemory (ks: Keyspace, e: number): number {
  const a = ks.arena
  const d = dirOf(ks, e)
  if (d === 0) return 0
  let n = a.blockBytes(16 + a.u32[d >>> 2] * 4)
  for (let i = 0, k = streamChunkCount(ks, e); i < k; i++) n += a.blockBytes(rd(a.u8, chunkAt(ks, d, i) + C_CAP))
  return n
}

/**
 * The entries' dump: | header's plain part (64 bytes: length, ids, entries added) | u32 chunks |
 * (u32 used, chunk bytes)* |. Chunks are position-independent, so they are copied as they are.
 */
export function streamEntriesDumpBytes (ks: Keyspace, e: number): number {
  const d = dirOf(ks, e)
  let n = 64 + 4
  for (let i = 0, k = streamChunkCount(ks, e); i < k; i++) n += 4 + rd(ks.arena.u8, chunkAt(ks, d, i) + C_USED)
  return n
}

export function streamEntriesDump (ks: Keyspace, e: number, b: Uint8Array, p: number): number {
  const u8 = ks.arena.u8
  const v = ks.valOffset(e)
  b.set(u8.subarray(v, v + 64), p)
  wr(b, p + H_DIR, 0)
  const k = streamChunkCount(ks, e)
  wr(b, p + 64, k)
  let q = p + 68
  const d = dirOf(ks, e)
  for (let i = 0; i < k; i++) {
    const c = chunkAt(ks, d, i)
    const used = rd(u8, c + C_USED)
    wr(b, q, used)
    b.set(u8.subarray(c, c + used), q + 4)
    wr(b, q + 4 + C_CAP, used)
    q += 4 + used
  }
  return q
}

/**
 * One chunk in the dump's layout (streamEntriesDump), built entry by entry from a listpack node
 * of an RDB file or a RESTORE payload: the master id and fields first, then each entry by its
 * absolute id, deleted ones included, then the counts and Redis's listpack size.
 */
export class ChunkWriter {
  private u8: Uint8Array
  private p = CHUNK_HEADER
  private readonly entriesAt: number

  constructor (private readonly master: StreamId, fields: readonly Uint8Array[], sizeHint: number) {
    this.u8 = new Uint8Array(Math.max(256, sizeHint))
    this.need(5 + fields.reduce((n, f) => n + 5 + f.length, 0))
    this.p = lenWrite(this.u8, this.p, fields.length)
    for (const f of fields) this.str(f)
    this.entriesAt = this.p
  }

  private need (n: number): void {
    if (this.p + n <= this.u8.length) return
    const next = new Uint8Array(Math.max(this.u8.length * 2, this.p + n))
    next.set(this.u8.subarray(0, this.p))
    this.u8 = next
  }

  private str (b: Uint8Array): void {
    this.p = lenWrite(this.u8, this.p, b.length)
    this.u8.set(b, this.p)
    this.p += b.length
  }

  /** An entry: its flags (DELETED, SAMEFIELDS as Redis's), id, and fields (null: the master's) and values. */
  entry (flags: number, id: StreamId, fields: readonly Uint8Array[] | null, values: readonly Uint8Array[]): void {
    this.need(1 + 20 + 5 + values.reduce((n, v) => n + 5 + v.length, 0) + (fields ?? []).reduce((n, f) => n + 5 + f.length, 0))
    const m = this.master
    // As streamAppend encodes it: the ms delta, then the seq (a delta when the ms is the master's).
    let dLo = id.msLo - m.msLo
    let dHi = id.msHi - m.msHi
    if (dLo < 0) { dLo += TWO32; dHi-- }
    let sHi = id.seqHi
    let sLo = id.seqLo
    if (dHi === 0 && dLo === 0) {
      sLo = id.seqLo - m.seqLo
      sHi = id.seqHi - m.seqHi
      if (sLo < 0) { sLo += TWO32; sHi-- }
    }
    this.u8[this.p++] = flags
    this.p = varintWrite(this.u8, this.p, dHi >>> 0, dLo)
    this.p = varintWrite(this.u8, this.p, sHi >>> 0, sLo)
    if (fields === null) {
      for (const v of values) this.str(v)
    } else {
      this.p = lenWrite(this.u8, this.p, fields.length)
      for (let i = 0; i < fields.length; i++) { this.str(fields[i]); this.str(values[i]) }
    }
  }

  /** The chunk's bytes, header filled: live and deleted entries, and the listpack's bytes in Redis. */
  finish (live: number, deleted: number, lpBytes: number): Uint8Array {
    const u8 = this.u8
    wr(u8, C_CAP, this.p)
    wr(u8, C_USED, this.p)
    wr(u8, C_LIVE, live)
    wr(u8, C_DELETED, deleted)
    wr(u8, C_LPBYTES, lpBytes)
    wr(u8, C_ENTRIES, this.entriesAt)
    idWrite(u8, C_MASTER, this.master)
    return u8.subarray(0, this.p)
  }

}

/** Restores the entries' dump at buf[p..] into fresh stream e; returns the end, or -1 when the arena is full. */
export function streamEntriesRestore (ks: Keyspace, e: number, buf: Uint8Array, p: number): number {
  streamInit(ks, e)
  const a = ks.arena
  a.u8.set(buf.subarray(p, p + 64), ks.valOffset(e))
  wr(a.u8, ks.valOffset(e) + H_DIR, 0)
  wr(a.u8, ks.valOffset(e) + H_GROUPS, 0)
  const k = rd(buf, p + 64)
  let q = p + 68
  if (k === 0) return q
  const d = a.alloc(16 + Math.max(8, k) * 4)
  if (d === 0) return -1
  let u32 = a.u32
  u32[d >>> 2] = Math.max(8, k)
  u32[(d >>> 2) + 1] = 0
  u32[(d >>> 2) + 2] = 0
  wr(a.u8, ks.valOffset(e) + H_DIR, d)
  for (let i = 0; i < k; i++) {
    const used = rd(buf, q)
    const c = a.alloc(used)
    if (c === 0) return -1
    a.u8.set(buf.subarray(q + 4, q + 4 + used), c)
    wr(a.u8, c + C_CAP, used)
    u32 = a.u32
    u32[(d >>> 2) + 4 + i] = c
    u32[(d >>> 2) + 2] = i + 1
    q += 4 + used
  }
  return q
}

/** Arena bytes restoring the entries' dump takes (for Arena.reserve). */
export function streamEntriesRestoreBytes (buf: Uint8Array, p: number): number {
  const k = rd(buf, p + 64)
  let n = classBytes(sizeClass(16 + Math.max(8, k) * 4))
  let q = p + 68
  for (let i = 0; i < k; i++) {
    const used = rd(buf, q)
    n += classBytes(sizeClass(used))
    q += 4 + used
  }
  return n
}

/** Where the entries' dump at buf[p..] ends. */
export function streamEntriesDumpEnd (buf: Uint8Array, p: number): number {
  const k = rd(buf, p + 64)
  let q = p + 68
  for (let i = 0; i < k; i++) q += 4 + rd(buf, q)
  return q
}


/** XINFO's radix-tree-keys: Redis's listpack nodes, one per chunk. */
export function streamRaxKeys (ks: Keyspace, e: number): number { return streamChunkCount(ks, e) }

/**
 * XINFO's radix-tree-nodes: the nodes of the rax Redis would hold over the chunks' master ids
 * (16-byte big-endian keys). A rax keeps a compressed node for a run of bytes with one way on,
 * a branching node where the keys part, and after a branch one node for the child's first byte
 * (compressed over the rest of its run); every key ends in a leaf. An empty rax is its root.
 */
export function streamRaxNodes (ks: Keyspace, e: number): number {
  const n = streamChunkCount(ks, e)
  if (n === 0) return 1
  const keys = new Uint8Array(n * 16)
  const d = dirOf(ks, e)
  const u8 = ks.arena.u8
  for (let i = 0; i < n; i++) {
    const c = chunkAt(ks, d, i) + C_MASTER
    for (let w = 0; w < 4; w++) {
      const v = rd(u8, c + w * 4)
      keys[i * 16 + w * 4] = v >>> 24
      keys[i * 16 + w * 4 + 1] = (v >>> 16) & 255
      keys[i * 16 + w * 4 + 2] = (v >>> 8) & 255
      keys[i * 16 + w * 4 + 3] = v & 255
    }
  }
  return raxNodesOf(keys, 0, n, 0)
}

/** Nodes under the node at depth d for keys [lo, hi) (sorted, sharing their first d bytes). */
function raxNodesOf (keys: Uint8Array, lo: number, hi: number, d: number): number {
  if (hi - lo === 1) return d === 16 ? 1 : 2
  // Common prefix of the first and last key is the range's (they are sorted).
  let p = d
  while (p < 16 && keys[lo * 16 + p] === keys[(hi - 1) * 16 + p]) p++
  if (p > d) return 1 + raxNodesOf(keys, lo, hi, p)
  let total = 1
  for (let i = lo; i < hi;) {
    let j = i + 1
    while (j < hi && keys[j * 16 + d] === keys[i * 16 + d]) j++
    total += raxNodesOf(keys, i, j, d + 1)
    i = j
  }
  return total
}

/**
 * Background freeing of a stream's entries (storage/lazyfree.ts) from a copy of its header: frees
 * chunks from index `from` for about `budget` blocks; returns the next index, or -1 once the
 * chunks and the directory are all free.
 */
export function streamFreeChunksFrom (ks: Keyspace, hdr: Uint8Array, from: number, budget: number): number {
  const a = ks.arena
  const d = rd(hdr, H_DIR)
  if (d === 0) return -1
  const u32 = a.u32
  const db = d >>> 2
  const n = u32[db + 2]
  let i = from
  for (; i < n && budget > 0; i++, budget--) {
    const c = u32[db + 4 + u32[db + 1] + i]
    freeBlock(a, c, rd(a.u8, c + C_CAP))
  }
  if (i < n) return i
  freeBlock(a, d, 16 + u32[db] * 4)
  return -1
}

export function streamGroupsOfHeader (hdr: Uint8Array): number { return rd(hdr, H_GROUPS) }
