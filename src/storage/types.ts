// The value types, one row each: what type-independent code needs to know about a value. Key
// deletion (free), COPY and MOVE (copyValue), the cross-shard payload of __dump/__restore,
// MEMORY USAGE, OBJECT ENCODING and TYPE all go through the row of the entry's type tag, so a
// new type (hash, set, sorted set, stream) is one more row, not a branch in each of them.

import { Buffer } from 'node:buffer'
import { TYPE_STRING, type Keyspace } from './keyspace.js'
import {
  HEAD, TAIL, ELEM_HEADER_BYTES, LIST_HEADER_BYTES, listInit, listPush, listFirst, elemNext, elemLen, elemData,
  listLen, listFreeElements, listRelocate,
} from './list.js'
import { parseInt64 } from '../protocol/ascii.js'
import { readU32LE as rd32 } from '../bytes.js'
import { classBytes, sizeClass, type SlidePlan } from './arena.js'
import {
  HASH_HEADER_BYTES, ENC_LISTPACK, ENC_HASHTABLE, hashInit, hashConvert, hashSetKeep, hashFree, hashForEach, hashLen,
  hashEncoding, hashMemory, hashRestoreBytes, hashRelocate,
} from './hash-type.js'
import {
  ZSET_HEADER_BYTES, ENC_SKIPLIST, zsetInit, zsetInsert, zsetFree, zsetLen, zsetAt, zsetEncoding, zsetMemory, nodeScore,
  nodeMemberAt, nodeMemberLen, zsetRelocate, zsetMarkListpack,
} from './zset-type.js'
import {
  STREAM_HEADER_BYTES, streamFreeEntries, streamEntriesMemory, streamEntriesDumpBytes, streamEntriesDump, streamEntriesRestore,
  streamEntriesRestoreBytes, streamEntriesDumpEnd, streamInit, streamEntriesRelocate,
} from './stream-type.js'
import { groupsFree, groupsMemory, groupsDumpBytes, groupsDump, groupsRestore, groupsRestoreBytes, groupsRelocate } from './stream-group.js'
import { SET_HEADER_BYTES, ENC_INTSET, setInit, setAddKeep, setFree, setForEach, setLen, setEncoding, setMemory, setMakeHashtable } from './set-type.js'

/** A value payload's header: | u8 type and encoding flags | f64 expireAt (LE) |, then the type's layout. */
export const PAYLOAD_HEADER_BYTES = 9

export interface TypeOps {
  /** TYPE's reply, and SCAN's TYPE filter. */
  readonly name: string
  /** Value area of a fresh entry that will hold a payload of dataLen bytes (restore). */
  valueBytes (dataLen: number): number
  /** Value area of a fresh entry that copies e (copyValue). */
  copyBytes (ks: Keyspace, e: number): number
  /** Frees what the value holds outside its entry, before the entry itself is freed. */
  free (ks: Keyspace, e: number): void
  /**
   * Keyspace.slide: rewrites every block offset e's value holds (in its entry and in its own
   * blocks) to plan.to's, reading each where it is now (nothing has moved yet).
   */
  relocate (ks: Keyspace, e: number, plan: SlidePlan): void
  /** Fills fresh entry n of dst with a copy of e's value in src; false when dst's arena is full. */
  copyValue (src: Keyspace, e: number, dst: Keyspace, n: number): boolean
  /** Bytes of e's value as a dump payload (after its header). */
  dumpBytes (ks: Keyspace, e: number): number
  /** Writes e's dump payload at b[p..]. */
  dump (ks: Keyspace, e: number, b: Buffer, p: number): void
  /** Fills fresh entry e from a dump payload buf[p, end); false when the arena is full. */
  restore (ks: Keyspace, e: number, buf: Uint8Array, p: number, end: number): boolean
  /** Arena bytes (block sizes) restore takes outside the entry, so a caller can reserve them first. */
  restoreBytes (buf: Uint8Array, p: number, end: number): number
  /** MEMORY USAGE: bytes the value holds outside its entry (collections: estimated from `samples`). */
  memory (ks: Keyspace, e: number, samples: number): number
  /** OBJECT ENCODING, as Redis names it. */
  encoding (ks: Keyspace, e: number): string
}

/** OBJ_ENCODING_EMBSTR_SIZE_LIMIT */
const EMBSTR_MAX = 44

const stringOps: TypeOps = {
  name: 'string',
  valueBytes: dataLen => dataLen,
  copyBytes: (ks, e) => ks.valLen(e),
  free () {},
  // Its bytes are all in its entry.
  relocate () {},
  copyValue (src, e, dst, n) {
    // Read the views after insert: it may have grown dst's (possibly the same) arena.
    const from = src.valOffset(e)
    dst.arena.u8.set(src.arena.u8.subarray(from, from + src.valLen(e)), dst.valOffset(n))
    return true
  },
  dumpBytes: (ks, e) => ks.valLen(e),
  dump (ks, e, b, p) { b.set(ks.arena.u8.subarray(ks.valOffset(e), ks.valOffset(e) + ks.valLen(e)), p) },
  restore (ks, e, buf, p, end) {
    ks.arena.u8.set(buf.subarray(p, end), ks.valOffset(e))
    return true
  },
  restoreBytes: () => 0,
  memory: () => 0,
  // tryObjectEncoding: int for what string2ll reads, embstr up to 44 bytes, else raw; a value
  // edited in place (APPEND, SETRANGE) stays raw.
  encoding (ks, e) {
    if (ks.isRaw(e)) return 'raw'
    const l = ks.valLen(e)
    if (l <= 20 && !ks.isNoInt(e) && parseInt64(ks.arena.u8, ks.valOffset(e), l)) return 'int'
    return l <= EMBSTR_MAX ? 'embstr' : 'raw'
  },
}

/** COPY's new value: an int-encoded string gets an object of its own (Keyspace.isUnshared). */
export function markCopy (ks: Keyspace, e: number): void {
  if (ks.type(e) === TYPE_STRING && stringOps.encoding(ks, e) === 'int') ks.setUnshared(e)
}

/** A list's dump payload: (u32 length LE, bytes)* from head to tail. */
const listOps: TypeOps = {
  name: 'list',
  valueBytes: () => LIST_HEADER_BYTES,
  copyBytes: () => LIST_HEADER_BYTES,
  free: (ks, e) => listFreeElements(ks, e),
  relocate: listRelocate,
  copyValue (src, e, dst, n) {
    listInit(dst, n)
    for (let el = listFirst(src, e, HEAD); el !== 0; el = elemNext(src, el)) {
      if (!listPush(dst, n, TAIL, src.arena.u8, elemData(el), elemLen(src, el))) return false
    }
    return true
  },
  dumpBytes (ks, e) {
    let size = 0
    for (let n = listFirst(ks, e, HEAD); n !== 0; n = elemNext(ks, n)) size += 4 + elemLen(ks, n)
    return size
  },
  dump (ks, e, b, p) {
    const u8 = ks.arena.u8
    for (let n = listFirst(ks, e, HEAD); n !== 0; n = elemNext(ks, n)) {
      const l = elemLen(ks, n)
      b.writeUInt32LE(l, p)
      b.set(u8.subarray(elemData(n), elemData(n) + l), p + 4)
      p += 4 + l
    }
  },
  restore (ks, e, buf, p, end) {
    listInit(ks, e)
    for (let q = p; q < end;) {
      const l = rd32(buf, q)
      if (!listPush(ks, e, TAIL, buf, q + 4, l)) return false
      q += 4 + l
    }
    return true
  },
  restoreBytes (buf, p, end) {
    let bytes = 0
    for (let q = p; q < end;) {
      const l = rd32(buf, q)
      bytes += classBytes(sizeClass(ELEM_HEADER_BYTES + l))
      q += 4 + l
    }
    return bytes
  },
  // objectComputeSize: a sample of the elements, scaled to the whole list (SAMPLES 0 = all).
  memory (ks, e, samples) {
    const a = ks.arena
    const count = listLen(ks, e)
    const n = samples >= count ? count : samples
    let total = 0
    let el = listFirst(ks, e, HEAD)
    for (let i = 0; i < n && el !== 0; i++, el = elemNext(ks, el)) total += a.blockBytes(ELEM_HEADER_BYTES + elemLen(ks, el))
    return n === count ? total : Math.floor(total / n * count)
  },
  encoding: () => 'quicklist',
}

/**
 * A hash's dump payload: | u8 encoding | u32 count | (u32 len, field, u32 len, value)* |, in the
 * encoding's order; restore keeps the encoding, as RENAME and COPY keep Redis's object.
 */
const hashOps: TypeOps = {
  name: 'hash',
  valueBytes: () => HASH_HEADER_BYTES,
  copyBytes: () => HASH_HEADER_BYTES,
  free: (ks, e) => { hashFree(ks, e) },
  relocate: hashRelocate,
  copyValue (src, e, dst, n) {
    const b = Buffer.allocUnsafe(hashOps.dumpBytes(src, e))
    hashOps.dump(src, e, b, 0)
    return hashOps.restore(dst, n, b, 0, b.length)
  },
  dumpBytes (ks, e) {
    let size = 5
    hashForEach(ks, e, (_fa, fl, _va, vl) => { size += 8 + fl + vl })
    return size
  },
  dump (ks, e, b, p) {
    const u8 = ks.arena.u8
    b[p] = hashEncoding(ks, e)
    b.writeUInt32LE(hashLen(ks, e), p + 1)
    let q = p + 5
    hashForEach(ks, e, (fa, fl, va, vl) => {
      b.writeUInt32LE(fl, q)
      b.set(u8.subarray(fa, fa + fl), q + 4)
      q += 4 + fl
      b.writeUInt32LE(vl, q)
      b.set(u8.subarray(va, va + vl), q + 4)
      q += 4 + vl
    })
  },
  restore (ks, e, buf, p, end) {
    hashInit(ks, e)
    if (buf[p] === ENC_HASHTABLE && !hashConvert(ks, e)) return false
    for (let q = p + 5; q < end;) {
      const fl = rd32(buf, q)
      const vl = rd32(buf, q + 4 + fl)
      if (hashSetKeep(ks, e, buf, q + 4, fl, buf, q + 8 + fl, vl) < 0) return false
      q += 8 + fl + vl
    }
    return true
  },
  restoreBytes (buf, p, end) {
    return hashRestoreBytes(rd32(buf, p + 1), end - p - 5, buf[p] === ENC_HASHTABLE)
  },
  memory: (ks, e) => hashMemory(ks, e),
  encoding: (ks, e) => hashEncoding(ks, e) === ENC_LISTPACK ? 'listpack' : 'hashtable',
}

/** A set's dump payload: | u8 encoding | u32 count | (u32 len, member)* |, in the encoding's order. */
const setOps: TypeOps = {
  name: 'set',
  valueBytes: () => SET_HEADER_BYTES,
  copyBytes: () => SET_HEADER_BYTES,
  free: (ks, e) => { setFree(ks, e) },
  // The hash's layout: an intset is one block, as a listpack is.
  relocate: hashRelocate,
  copyValue (src, e, dst, n) {
    const b = Buffer.allocUnsafe(setOps.dumpBytes(src, e))
    setOps.dump(src, e, b, 0)
    return setOps.restore(dst, n, b, 0, b.length)
  },
  dumpBytes (ks, e) {
    let size = 5
    setForEach(ks, e, (_b, _at, len) => { size += 4 + len })
    return size
  },
  dump (ks, e, b, p) {
    b[p] = setEncoding(ks, e)
    b.writeUInt32LE(setLen(ks, e), p + 1)
    let q = p + 5
    setForEach(ks, e, (buf, at, len) => {
      b.writeUInt32LE(len, q)
      b.set(buf.subarray(at, at + len), q + 4)
      q += 4 + len
    })
  },
  restore (ks, e, buf, p, end) {
    setInit(ks, e)
    if (buf[p] !== ENC_INTSET && !setMakeHashtable(ks, e)) return false
    for (let q = p + 5; q < end;) {
      const l = rd32(buf, q)
      if (setAddKeep(ks, e, buf, q + 4, l) < 0) return false
      q += 4 + l
    }
    return true
  },
  restoreBytes (buf, p, end) {
    const n = rd32(buf, p + 1)
    return 2 * (end - p) + 48 * n + 8 * n + 64
  },
  memory: (ks, e) => setMemory(ks, e),
  encoding: (ks, e) => setEncoding(ks, e) === ENC_INTSET ? 'intset' : 'hashtable',
}

/** A sorted set's dump payload: | u8 encoding | u32 count | (f64 score, u32 len, member)* |, by rank. */
const zsetOps: TypeOps = {
  name: 'zset',
  valueBytes: () => ZSET_HEADER_BYTES,
  copyBytes: () => ZSET_HEADER_BYTES,
  free: (ks, e) => { zsetFree(ks, e) },
  relocate: zsetRelocate,
  copyValue (src, e, dst, n) {
    const b = Buffer.allocUnsafe(zsetOps.dumpBytes(src, e))
    zsetOps.dump(src, e, b, 0)
    return zsetOps.restore(dst, n, b, 0, b.length)
  },
  dumpBytes (ks, e) {
    let size = 5
    for (let i = 0, n = zsetLen(ks, e); i < n; i++) size += 12 + nodeMemberLen(ks, zsetAt(ks, e, i))
    return size
  },
  dump (ks, e, b, p) {
    const u8 = ks.arena.u8
    const n = zsetLen(ks, e)
    b[p] = zsetEncoding(ks, e)
    b.writeUInt32LE(n, p + 1)
    let q = p + 5
    for (let i = 0; i < n; i++) {
      const node = zsetAt(ks, e, i)
      const l = nodeMemberLen(ks, node)
      b.writeDoubleLE(nodeScore(ks, node), q)
      b.writeUInt32LE(l, q + 8)
      b.set(u8.subarray(nodeMemberAt(node), nodeMemberAt(node) + l), q + 12)
      q += 12 + l
    }
  },
  restore (ks, e, buf, p, end) {
    zsetInit(ks, e, buf[p] === ENC_SKIPLIST)
    const v = new DataView(buf.buffer, buf.byteOffset)
    for (let q = p + 5; q < end;) {
      const l = rd32(buf, q + 8)
      if (zsetInsert(ks, e, v.getFloat64(q, true), buf, q + 12, l) === 0) return false
      q += 12 + l
    }
    // The payload's encoding stays, whatever the limits say now (zsetInsert may have turned a
    // listpack into a skiplist): only a flag here, and a listpack's scores came without -0.
    if (buf[p] !== ENC_SKIPLIST) zsetMarkListpack(ks, e)
    return true
  },
  restoreBytes (buf, p, end) {
    const n = rd32(buf, p + 1)
    return 2 * (end - p) + 40 * n + 16 * n + 128
  },
  memory: (ks, e) => zsetMemory(ks, e),
  encoding: (ks, e) => zsetEncoding(ks, e) === ENC_SKIPLIST ? 'skiplist' : 'listpack',
}

/**
 * A stream's dump payload: its entries (stream-type.ts streamEntriesDump: header, then the chunks
 * as they are), then its consumer groups (stream-group.ts groupsDump).
 */
const streamOps: TypeOps = {
  name: 'stream',
  valueBytes: () => STREAM_HEADER_BYTES,
  copyBytes: () => STREAM_HEADER_BYTES,
  free: (ks, e) => { groupsFree(ks, e); streamFreeEntries(ks, e) },
  relocate (ks, e, plan) { groupsRelocate(ks, e, plan); streamEntriesRelocate(ks, e, plan) },
  copyValue (src, e, dst, n) {
    const b = Buffer.allocUnsafe(streamOps.dumpBytes(src, e))
    streamOps.dump(src, e, b, 0)
    return streamOps.restore(dst, n, b, 0, b.length)
  },
  dumpBytes: (ks, e) => streamEntriesDumpBytes(ks, e) + groupsDumpBytes(ks, e),
  dump (ks, e, b, p) {
    const q = streamEntriesDump(ks, e, b, p)
    groupsDump(ks, e, b, q)
  },
  restore (ks, e, buf, p, end) {
    streamInit(ks, e)
    const q = streamEntriesRestore(ks, e, buf, p)
    if (q < 0) return false
    return groupsRestore(ks, e, buf, q, end)
  },
  restoreBytes (buf, p, end) {
    return streamEntriesRestoreBytes(buf, p) + groupsRestoreBytes(buf, streamEntriesDumpEnd(buf, p), end)
  },
  memory: (ks, e) => streamEntriesMemory(ks, e) + groupsMemory(ks, e),
  encoding: () => 'stream',
}

/** Indexed by the entry's type tag (keyspace.ts TYPE_STRING, TYPE_LIST, TYPE_HASH...). */
export const TYPES: readonly TypeOps[] = [stringOps, listOps, hashOps, setOps, zsetOps, streamOps]

export function typeOf (ks: Keyspace, e: number): TypeOps { return TYPES[ks.type(e)] }
