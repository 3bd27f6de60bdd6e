// Sets in the shard arena, in Redis 7.0's two encodings (OBJECT ENCODING names them):
// - intset: every member an integer (string2ll's canonical form) and at most
//   set-max-intset-entries of them: one block of sorted int64s, binary searched, listed in
//   ascending order as Redis's intset is;
// - hashtable: otherwise. The same bucket array and nodes as a hash's hashtable (hash-type.ts),
//   with empty values.
// A set never goes back to intset (Redis does not either).
//
//   entry value: | u32 count | u32 encoding | u32 p1 | u32 p2 |   (the hash layout)
//     intset:    p1 = the block | u32 capacity (bytes) | (u32 low, i32 high)* |, p2 unused

import { Buffer } from 'node:buffer'
import type { Keyspace } from './keyspace.js'
import { writes } from './writes.js'
import { readU32LE as rd, writeU32LE as wr } from '../bytes.js'
import { classBytes, sizeClass } from './arena.js'
import {
  HASH_HEADER_BYTES, ENC_LISTPACK, ENC_HASHTABLE, hashConvert, hashSet, hashFind, hashDelete, hashForEach, hashFree,
  hashMemory, hashRandom,
} from './hash-type.js'
import { parseInt64, parsed } from '../protocol/ascii.js'
import { SET_INTSET_WORD, limitOf } from '../ipc/layout.js'
import { hashLimits } from './hash-type.js'

export const SET_HEADER_BYTES = HASH_HEADER_BYTES
export const ENC_INTSET = 2
const INTSET_HEADER = 4
const EMPTY = new Uint8Array(0)


function maxIntset (): number { return isKeeping ? Infinity : limitOf(hashLimits.flags, SET_INTSET_WORD) }

/** While set, an intset takes members past set-max-intset-entries: setAddKeep. */
let isKeeping = false

/**
 * setAdd that keeps an intset an intset whatever set-max-intset-entries says now (a copy of the
 * set, which RENAME, MOVE and COPY keep as Redis keeps the object; the member is an integer).
 */
export function setAddKeep (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): number {
  isKeeping = true
  try {
    return setAdd(ks, e, buf, start, len)
  } finally {
    isKeeping = false
  }
}

export function setLen (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e)) }
export function setEncoding (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + 4) }

/** A fresh set entry (valLen = SET_HEADER_BYTES): empty intset. */
export function setInit (ks: Keyspace, e: number): void {
  writes.count++
  const u8 = ks.arena.u8
  const h = ks.valOffset(e)
  u8.fill(0, h, h + SET_HEADER_BYTES)
  wr(u8, h + 4, ENC_INTSET)
}

/** The member as an int64 (lo, hi) when string2ll takes it: `int` holds it then. */
const int = { lo: 0, hi: 0 }
function asInt (buf: Uint8Array, start: number, len: number): boolean {
  if (len === 0 || len > 20 || !parseInt64(buf, start, len)) return false
  if (parsed.isBig) {
    const v = BigInt.asUintN(64, parsed.big)
    int.lo = Number(v & 0xffffffffn)
    int.hi = Number(BigInt.asIntN(32, v >> 32n))
  } else {
    const v = parsed.value
    int.lo = v >>> 0
    int.hi = Math.floor(v / 4294967296) | 0
  }
  return true
}

/** Position of (lo, hi) in the intset, or -(insertion point) - 1. */
function search (u32: Uint32Array, base: number, n: number, lo: number, hi: number): number {
  let a = 0
  let b = n - 1
  while (a <= b) {
    const m = (a + b) >>> 1
    const mh = u32[base + m * 2 + 1] | 0
    const ml = u32[base + m * 2]
    if (mh < hi || (mh === hi && ml < lo)) a = m + 1
    else if (mh > hi || ml > lo) b = m - 1
    else return m
  }
  return -a - 1
}

/** True if the member is in the set. */
export function setHas (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): boolean {
  const a = ks.arena
  const h = ks.valOffset(e)
  if (rd(a.u8, h + 4) !== ENC_INTSET) return hashFind(ks, e, buf, start, len)
  const p1 = rd(a.u8, h + 8)
  if (p1 === 0 || !asInt(buf, start, len)) return false
  return search(a.u32, (p1 + INTSET_HEADER) >>> 2, rd(a.u8, h), int.lo, int.hi) >= 0
}

/** Adds a member: 1 when new, 0 when there, -1 when the arena is full (set unchanged). */
export function setAdd (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  if (rd(a.u8, h + 4) === ENC_INTSET) {
    if (asInt(buf, start, len)) {
      const n = rd(a.u8, h)
      let p1 = rd(a.u8, h + 8)
      const pos = p1 === 0 ? -1 : search(a.u32, (p1 + INTSET_HEADER) >>> 2, n, int.lo, int.hi)
      if (pos >= 0) return 0
      if (n + 1 <= maxIntset()) {
        const at = -pos - 1
        const need = INTSET_HEADER + (n + 1) * 8
        if (p1 === 0 || need > rd(a.u8, p1)) {
          const cap = classBytes(sizeClass(need + (need >>> 1)))
          const nb = a.alloc(cap)
          if (nb === 0) return -1
          wr(a.u8, nb, cap)
          if (p1 !== 0) {
            a.u8.copyWithin(nb + INTSET_HEADER, p1 + INTSET_HEADER, p1 + INTSET_HEADER + n * 8)
            a.free(p1, rd(a.u8, p1))
          }
          p1 = nb
          wr(a.u8, h + 8, p1)
        }
        const base = p1 + INTSET_HEADER
        a.u8.copyWithin(base + (at + 1) * 8, base + at * 8, base + n * 8)
        a.u32[(base >>> 2) + at * 2] = int.lo
        a.u32[(base >>> 2) + at * 2 + 1] = int.hi >>> 0
        wr(a.u8, h, n + 1)
        writes.count++
        return 1
      }
    }
    if (!intsetToTable(ks, e)) return -1
  }
  const before = writes.count
  const r = hashSet(ks, e, buf, start, len, EMPTY, 0, 0)
  // A member already there changed nothing (hashSet counts a field's update as a change).
  if (r === 0) writes.count = before
  return r
}

/** Makes the set a hashtable (a copy of one stays one, as Redis's setTypeDup keeps it); false when full. */
export function setMakeHashtable (ks: Keyspace, e: number): boolean {
  return setEncoding(ks, e) !== ENC_INTSET || intsetToTable(ks, e)
}

/** intset → hashtable (setTypeConvert); false when the arena is full (unchanged). */
function intsetToTable (ks: Keyspace, e: number): boolean {
  const members: Buffer[] = []
  setForEachInt(ks, e, s => { members.push(Buffer.from(s, 'latin1')) })
  const a = ks.arena
  const h = ks.valOffset(e)
  const p1 = rd(a.u8, h + 8)
  // An empty listpack converts to an empty hashtable; then the members go in.
  wr(a.u8, h, 0)
  wr(a.u8, h + 4, ENC_LISTPACK)
  wr(a.u8, h + 8, 0)
  wr(a.u8, h + 12, 0)
  if (!hashConvert(ks, e)) return restoreIntset(ks, e, p1, members.length)
  for (const m of members) {
    if (hashSet(ks, e, m, 0, m.length, EMPTY, 0, 0) < 0) {
      hashFree(ks, e)
      return restoreIntset(ks, e, p1, members.length)
    }
  }
  if (p1 !== 0) a.free(p1, rd(a.u8, p1))
  return true
}

function restoreIntset (ks: Keyspace, e: number, p1: number, n: number): false {
  const u8 = ks.arena.u8
  const h = ks.valOffset(e)
  wr(u8, h, n)
  wr(u8, h + 4, ENC_INTSET)
  wr(u8, h + 8, p1)
  wr(u8, h + 12, 0)
  return false
}

/** Removes a member; true if it was there. */
export function setRemove (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): boolean {
  const a = ks.arena
  const h = ks.valOffset(e)
  if (rd(a.u8, h + 4) !== ENC_INTSET) return hashDelete(ks, e, buf, start, len)
  const p1 = rd(a.u8, h + 8)
  if (p1 === 0 || !asInt(buf, start, len)) return false
  const n = rd(a.u8, h)
  const pos = search(a.u32, (p1 + INTSET_HEADER) >>> 2, n, int.lo, int.hi)
  if (pos < 0) return false
  const base = p1 + INTSET_HEADER
  a.u8.copyWithin(base + pos * 8, base + (pos + 1) * 8, base + n * 8)
  wr(a.u8, h, n - 1)
  writes.count++
  return true
}

function intText (lo: number, hi: number): string {
  if (hi === 0 || (hi === -1 && lo !== 0)) return String(hi * 4294967296 + lo)
  if (hi > -2097152 && hi < 2097152) return String(hi * 4294967296 + lo)
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo)).toString()
}

function setForEachInt (ks: Keyspace, e: number, fn: (s: string) => void): void {
  const a = ks.arena
  const h = ks.valOffset(e)
  const p1 = rd(a.u8, h + 8)
  if (p1 === 0) return
  const n = rd(a.u8, h)
  const base = (p1 + INTSET_HEADER) >>> 2
  for (let i = 0; i < n; i++) fn(intText(a.u32[base + i * 2], a.u32[base + i * 2 + 1] | 0))
}

/**
 * Calls fn for every member, as bytes at buf[at, at + len) (an intset's are written out into a
 * scratch buffer first), in the encoding's order. fn must not change the set.
 */
export function setForEach (ks: Keyspace, e: number, fn: (buf: Uint8Array, at: number, len: number) => void): void {
  if (setEncoding(ks, e) === ENC_INTSET) {
    setForEachInt(ks, e, s => { const n = scratch.write(s, 0, 'latin1'); fn(scratch, 0, n) })
    return
  }
  const u8 = ks.arena.u8
  hashForEach(ks, e, (fa, fl) => { fn(u8, fa, fl) })
}
const scratch = Buffer.allocUnsafe(24)

/** The members as latin1 strings (one JS string per member: the set algebra and random picks). */
export function setMembers (ks: Keyspace, e: number): string[] {
  const out: string[] = []
  if (setEncoding(ks, e) === ENC_INTSET) setForEachInt(ks, e, s => { out.push(s) })
  else {
    const u8 = ks.arena.u8
    hashForEach(ks, e, (fa, fl) => { out.push(Buffer.from(u8.buffer, u8.byteOffset + fa, fl).toString('latin1')) })
  }
  return out
}

/** One member at random as a latin1 string (SPOP, SRANDMEMBER without a count), or null when empty. */
export function setRandom (ks: Keyspace, e: number): string | null {
  const a = ks.arena
  const h = ks.valOffset(e)
  const n = rd(a.u8, h)
  if (n === 0) return null
  if (rd(a.u8, h + 4) === ENC_INTSET) {
    const i = Math.floor(Math.random() * n)
    const base = (rd(a.u8, h + 8) + INTSET_HEADER) >>> 2
    return intText(a.u32[base + i * 2], a.u32[base + i * 2 + 1] | 0)
  }
  const r = hashRandom(ks, e)
  return Buffer.from(a.u8.buffer, a.u8.byteOffset + r.at, r.len).toString('latin1')
}

export function setFree (ks: Keyspace, e: number): void {
  const a = ks.arena
  const h = ks.valOffset(e)
  if (rd(a.u8, h + 4) !== ENC_INTSET) { hashFree(ks, e); return }
  const p1 = rd(a.u8, h + 8)
  if (p1 !== 0) a.free(p1, rd(a.u8, p1))
}

export function setMemory (ks: Keyspace, e: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  if (rd(a.u8, h + 4) !== ENC_INTSET) return hashMemory(ks, e)
  const p1 = rd(a.u8, h + 8)
  return p1 === 0 ? 0 : rd(a.u8, p1)
}

/** Arena bytes that adding `members` members of `bytes` bytes may take at most (reserved first). */
export function setReserveBytes (ks: Keyspace, e: number, bytes: number, members: number): number {
  const n = (e === 0 ? 0 : setLen(ks, e)) + members
  // As nodes of a hashtable (the worst case): each rounded to its class, plus doubled buckets;
  // converting an intset writes every member out (at most 20 digits each).
  return 2 * bytes + 48 * members + 8 * n + (e !== 0 && setEncoding(ks, e) === ENC_INTSET ? 64 * n : 0)
}

export { ENC_HASHTABLE }
