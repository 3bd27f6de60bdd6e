// Sorted sets in the shard arena: a member dictionary (bucket block, chained nodes) for
// ZSCORE and membership, and an array of node offsets sorted by (score, member) for ranks and
// ranges: a rank is an index, a range a binary search. Inserting or removing moves the array's
// tail (4 bytes per member after it): O(N) bytes moved, fast to a few hundred thousand members;
// a B-tree would make it O(log N) (see the README's limits).
//
// OBJECT ENCODING reports Redis's names at Redis's thresholds: "listpack" while the set has at
// most zset-max-listpack-entries members, none longer than zset-max-listpack-value, then
// "skiplist" for good. The layout is the same for both; the name follows what Redis would hold.
//
//   entry value: | u32 count | u32 encoding | u32 order block | u32 dict block |  (byte-aligned)
//   order block: | u32 capacity (entries) | u32 node offset * count |
//   dict block:  | u32 buckets | u32 pad | u32 node offset * buckets |
//   node:        | u32 dict next | u32 hash | f64 score | u32 member length | member |

import type { Keyspace } from './keyspace.js'
import { writes } from './writes.js'
import { readU32LE as rd, writeU32LE as wr } from '../bytes.js'
import { classBytes, sizeClass } from './arena.js'
import { hashLimits } from './hash-type.js'
import { ZSET_ENTRIES_WORD, ZSET_VALUE_WORD, limitOf } from '../ipc/layout.js'

export const ZSET_HEADER_BYTES = 16
export const ENC_ZLISTPACK = 0
export const ENC_SKIPLIST = 1
const NODE_HEADER = 20


function memberHash (buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ buf[i], 0x01000193)
  return h >>> 0
}

export function maxListpackEntries (): number { return limitOf(hashLimits.flags, ZSET_ENTRIES_WORD) }
export function maxListpackValue (): number { return limitOf(hashLimits.flags, ZSET_VALUE_WORD) }

export function zsetLen (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e)) }
export function zsetEncoding (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + 4) }

/** A fresh sorted set (valLen = ZSET_HEADER_BYTES); `isSkiplist` when its first member already is too long. */
export function zsetInit (ks: Keyspace, e: number, isSkiplist: boolean): void {
  writes.count++
  const u8 = ks.arena.u8
  const h = ks.valOffset(e)
  u8.fill(0, h, h + ZSET_HEADER_BYTES)
  wr(u8, h + 4, isSkiplist ? ENC_SKIPLIST : ENC_ZLISTPACK)
}

export function nodeScore (ks: Keyspace, n: number): number { return ks.arena.f64[(n + 8) >>> 3] }
export function nodeMemberAt (n: number): number { return n + NODE_HEADER }
export function nodeMemberLen (ks: Keyspace, n: number): number { return ks.arena.u32[(n + 16) >>> 2] }

/** The node of a member, or 0. */
export function zsetFind (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): number {
  const a = ks.arena
  const d = rd(a.u8, ks.valOffset(e) + 12)
  if (d === 0) return 0
  const u32 = a.u32
  const u8 = a.u8
  const buckets = u32[d >>> 2]
  const hash = memberHash(buf, start, len)
  for (let n = u32[(d >>> 2) + 2 + (hash & (buckets - 1))]; n !== 0; n = u32[n >>> 2]) {
    if (u32[(n + 4) >>> 2] !== hash || u32[(n + 16) >>> 2] !== len) continue
    let i = 0
    const m = n + NODE_HEADER
    while (i < len && u8[m + i] === buf[start + i]) i++
    if (i === len) return n
  }
  return 0
}

/** memcmp of two byte ranges, shorter first on a tie (sdscmp). */
function cmpBytes (a: Uint8Array, ap: number, al: number, b: Uint8Array, bp: number, bl: number): number {
  const n = al < bl ? al : bl
  for (let i = 0; i < n; i++) {
    const d = a[ap + i] - b[bp + i]
    if (d !== 0) return d
  }
  return al - bl
}

/** Order of (score, member) against node n: < 0 when it sorts before n. */
function cmpNode (ks: Keyspace, n: number, score: number, buf: Uint8Array, start: number, len: number): number {
  const s = ks.arena.f64[(n + 8) >>> 3]
  if (score < s) return -1
  if (score > s) return 1
  return cmpBytes(buf, start, len, ks.arena.u8, n + NODE_HEADER, ks.arena.u32[(n + 16) >>> 2])
}

function orderBase (ks: Keyspace, e: number): number {
  const o = rd(ks.arena.u8, ks.valOffset(e) + 8)
  return o === 0 ? 0 : (o >>> 2) + 1
}

/** The node at rank i (0-based, ascending). */
export function zsetAt (ks: Keyspace, e: number, i: number): number {
  return ks.arena.u32[orderBase(ks, e) + i]
}

/** Index of the first element not before (score, member). */
function lowerBound (ks: Keyspace, e: number, score: number, buf: Uint8Array, start: number, len: number): number {
  const u32 = ks.arena.u32
  const base = orderBase(ks, e)
  let lo = 0
  let hi = zsetLen(ks, e)
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    if (cmpNode(ks, u32[base + m], score, buf, start, len) > 0) lo = m + 1
    else hi = m
  }
  return lo
}

/** Rank of node n (which is in the set). */
export function zsetRank (ks: Keyspace, e: number, n: number): number {
  return lowerBound(ks, e, nodeScore(ks, n), ks.arena.u8, n + NODE_HEADER, nodeMemberLen(ks, n))
}

/** Index of the first element with score > min (isExclusive) or >= min. */
export function zsetFirstByScore (ks: Keyspace, e: number, min: number, isExclusive: boolean): number {
  const u32 = ks.arena.u32
  const f64 = ks.arena.f64
  const base = orderBase(ks, e)
  let lo = 0
  let hi = zsetLen(ks, e)
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    const s = f64[(u32[base + m] + 8) >>> 3]
    if (isExclusive ? s <= min : s < min) lo = m + 1
    else hi = m
  }
  return lo
}

/** Index of the first element whose member is > (isExclusive) or >= the given bytes (lex order). */
export function zsetFirstByLex (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number, isExclusive: boolean): number {
  const a = ks.arena
  const base = orderBase(ks, e)
  let lo = 0
  let hi = zsetLen(ks, e)
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    const n = a.u32[base + m]
    const c = cmpBytes(a.u8, n + NODE_HEADER, a.u32[(n + 16) >>> 2], buf, start, len)
    if (isExclusive ? c <= 0 : c < 0) lo = m + 1
    else hi = m
  }
  return lo
}

/** Makes room for one more entry in the order block; false when the arena is full. */
function growOrder (ks: Keyspace, e: number, count: number): boolean {
  const a = ks.arena
  const h = ks.valOffset(e)
  const o = rd(a.u8, h + 8)
  if (o !== 0 && a.u32[o >>> 2] > count) return true
  const cap = Math.max(8, count * 2)
  const bytes = classBytes(sizeClass(4 + cap * 4))
  const nb = a.alloc(bytes)
  if (nb === 0) return false
  a.u32[nb >>> 2] = (bytes - 4) >>> 2
  if (o !== 0) {
    a.u32.copyWithin((nb >>> 2) + 1, (o >>> 2) + 1, (o >>> 2) + 1 + count)
    a.free(o, 4 + a.u32[o >>> 2] * 4)
  }
  wr(a.u8, h + 8, nb)
  return true
}

/** Makes the dictionary hold `count` entries (doubling its buckets); false when full. */
function growDict (ks: Keyspace, e: number, count: number): boolean {
  const a = ks.arena
  const h = ks.valOffset(e)
  const d = rd(a.u8, h + 12)
  const old = d === 0 ? 0 : a.u32[d >>> 2]
  if (old >= count && d !== 0) return true
  let buckets = old === 0 ? 4 : old
  while (buckets < count) buckets *= 2
  const nb = a.alloc(8 + buckets * 4)
  if (nb === 0) return false
  const u32 = a.u32
  u32.fill(0, nb >>> 2, (nb >>> 2) + 2 + buckets)
  u32[nb >>> 2] = buckets
  for (let i = 0; i < old; i++) {
    for (let n = u32[(d >>> 2) + 2 + i]; n !== 0;) {
      const next = u32[n >>> 2]
      const b = (nb >>> 2) + 2 + (u32[(n + 4) >>> 2] & (buckets - 1))
      u32[n >>> 2] = u32[b]
      u32[b] = n
      n = next
    }
  }
  if (d !== 0) a.free(d, 8 + old * 4)
  wr(a.u8, h + 12, nb)
  return true
}

/**
 * Adds a new member (not in the set) with its score; returns its node, or 0 when the arena is
 * full (the set unchanged).
 */
export function zsetInsert (ks: Keyspace, e: number, score: number, buf: Uint8Array, start: number, len: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  const count = rd(a.u8, h)
  if (!growOrder(ks, e, count) || !growDict(ks, e, count + 1)) return 0
  const n = a.alloc(NODE_HEADER + len)
  if (n === 0) return 0
  writes.count++
  const u32 = a.u32
  const hash = memberHash(buf, start, len)
  u32[(n + 4) >>> 2] = hash
  a.f64[(n + 8) >>> 3] = score
  u32[(n + 16) >>> 2] = len
  a.u8.set(buf.subarray(start, start + len), n + NODE_HEADER)
  const d = rd(a.u8, h + 12)
  const b = (d >>> 2) + 2 + (hash & (u32[d >>> 2] - 1))
  u32[n >>> 2] = u32[b]
  u32[b] = n
  const at = lowerBound(ks, e, score, buf, start, len)
  const base = orderBase(ks, e)
  u32.copyWithin(base + at + 1, base + at, base + count)
  u32[base + at] = n
  wr(a.u8, h, count + 1)
  if (rd(a.u8, h + 4) === ENC_ZLISTPACK && (count + 1 > maxListpackEntries() || len > maxListpackValue())) wr(a.u8, h + 4, ENC_SKIPLIST)
  return n
}

/** Removes node n from the order (not the dictionary). */
function unorder (ks: Keyspace, e: number, n: number): void {
  const u32 = ks.arena.u32
  const at = zsetRank(ks, e, n)
  const base = orderBase(ks, e)
  const count = zsetLen(ks, e)
  u32.copyWithin(base + at, base + at + 1, base + count)
}

/** Changes a member's score, moving it in the order. */
export function zsetUpdateScore (ks: Keyspace, e: number, n: number, score: number): void {
  writes.count++
  const a = ks.arena
  if (a.f64[(n + 8) >>> 3] === score) return
  const h = ks.valOffset(e)
  const count = rd(a.u8, h)
  unorder(ks, e, n)
  wr(a.u8, h, count - 1)
  a.f64[(n + 8) >>> 3] = score
  const at = lowerBound(ks, e, score, a.u8, n + NODE_HEADER, a.u32[(n + 16) >>> 2])
  const base = orderBase(ks, e)
  a.u32.copyWithin(base + at + 1, base + at, base + count - 1)
  a.u32[base + at] = n
  wr(a.u8, h, count)
}

/** Deletes node n from the set and frees it. */
export function zsetDelete (ks: Keyspace, e: number, n: number): void {
  writes.count++
  const a = ks.arena
  const h = ks.valOffset(e)
  const u32 = a.u32
  unorder(ks, e, n)
  const d = rd(a.u8, h + 12)
  const b = (d >>> 2) + 2 + (u32[(n + 4) >>> 2] & (u32[d >>> 2] - 1))
  if (u32[b] === n) u32[b] = u32[n >>> 2]
  else for (let p = u32[b]; p !== 0; p = u32[p >>> 2]) if (u32[p >>> 2] === n) { u32[p >>> 2] = u32[n >>> 2]; break }
  const len = u32[(n + 16) >>> 2]
  a.free(n, NODE_HEADER + len)
  wr(a.u8, h, rd(a.u8, h) - 1)
}

export function zsetFree (ks: Keyspace, e: number): void {
  const a = ks.arena
  const h = ks.valOffset(e)
  const count = rd(a.u8, h)
  const base = orderBase(ks, e)
  for (let i = 0; i < count; i++) {
    const n = a.u32[base + i]
    a.free(n, NODE_HEADER + a.u32[(n + 16) >>> 2])
  }
  const o = rd(a.u8, h + 8)
  if (o !== 0) a.free(o, 4 + a.u32[o >>> 2] * 4)
  const d = rd(a.u8, h + 12)
  if (d !== 0) a.free(d, 8 + a.u32[d >>> 2] * 4)
}

export function zsetMemory (ks: Keyspace, e: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  let total = 0
  const o = rd(a.u8, h + 8)
  if (o !== 0) total += a.blockBytes(4 + a.u32[o >>> 2] * 4)
  const d = rd(a.u8, h + 12)
  if (d !== 0) total += a.blockBytes(8 + a.u32[d >>> 2] * 4)
  const count = rd(a.u8, h)
  const base = orderBase(ks, e)
  for (let i = 0; i < count; i++) total += a.blockBytes(NODE_HEADER + a.u32[(a.u32[base + i] + 16) >>> 2])
  return total
}

/** Arena bytes adding `members` members of `bytes` bytes may take at most (reserved first). */
export function zsetReserveBytes (ks: Keyspace, e: number, bytes: number, members: number): number {
  const n = (e === 0 ? 0 : zsetLen(ks, e)) + members
  return 2 * bytes + 40 * members + 16 * n + 128
}

/** Dictionary buckets, for ZSCAN's cursor. */
export function zsetBuckets (ks: Keyspace, e: number): { block: number, count: number } {
  const d = rd(ks.arena.u8, ks.valOffset(e) + 12)
  return { block: d, count: d === 0 ? 0 : ks.arena.u32[d >>> 2] }
}

export function zsetBucketForEach (ks: Keyspace, block: number, b: number, fn: (n: number) => void): void {
  const u32 = ks.arena.u32
  for (let n = u32[(block >>> 2) + 2 + b]; n !== 0; n = u32[n >>> 2]) fn(n)
}

/**
 * Redis's %.17g for a score (addReplyDouble in 7.0): 17 significant digits, trailing zeros
 * dropped, exponent form below 1e-4 and from 1e17 with at least two exponent digits.
 */
export function formatScore (d: number): string {
  if (d === Infinity) return 'inf'
  if (d === -Infinity) return '-inf'
  if (d === 0) return Object.is(d, -0) ? '-0' : '0'
  const exp = d.toExponential(16)
  const x = Number(exp.slice(exp.indexOf('e') + 1))
  if (x < -4 || x >= 17) {
    let m = exp.slice(0, exp.indexOf('e'))
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '')
    const ex = Math.abs(x)
    return `${m}e${x < 0 ? '-' : '+'}${ex < 10 ? '0' : ''}${ex}`
  }
  let f = d.toFixed(16 - x)
  if (f.includes('.')) f = f.replace(/0+$/, '').replace(/\.$/, '')
  return f
}

/**
 * strtod as Redis's getDoubleFromObject takes it: no surrounding space, the whole string, inf
 * and infinity with a sign, no NaN, and not out of range (overflow or underflow to zero).
 * Returns NaN when the text is not such a float.
 */
export function parseScore (buf: Uint8Array, start: number, len: number): number {
  if (len === 0 || len > 256) return NaN
  const s = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')
  const lower = s.toLowerCase()
  const sign = lower[0] === '-' ? -1 : 1
  const body = lower[0] === '-' || lower[0] === '+' ? lower.slice(1) : lower
  if (body === 'inf' || body === 'infinity') return sign * Infinity
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(body)) return NaN
  const v = Number(body) * sign
  if (!Number.isFinite(v)) return NaN
  if (v === 0 && /[1-9]/.test(body.replace(/e.*$/, ''))) return NaN
  return v
}
