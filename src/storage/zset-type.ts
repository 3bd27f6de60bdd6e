// Sorted sets in the shard arena: a member dictionary (bucket block, chained nodes) for
// ZSCORE and membership, and the order: chunks of node offsets sorted by (score, member), listed
// in a directory. Ranks and ranges are binary searches over the chunks, then in one chunk; an
// insert or removal moves at most one chunk's tail (CHUNK_MAX offsets), and a full chunk splits.
// The directory keeps a Fenwick tree of the chunks' counts, so a rank (ZRANK) and the node at a
// rank (ZRANGE's start) are O(log N) too, amortized: a split marks the tree stale, and the next
// rank rebuilds it.
//
// OBJECT ENCODING reports Redis's names at Redis's thresholds: "listpack" while the set has at
// most zset-max-listpack-entries members, none longer than zset-max-listpack-value, then
// "skiplist" for good. The layout is the same for both; the name follows what Redis would hold.
//
//   entry value: | u32 count | u32 encoding | u32 directory block | u32 dict block |  (byte-aligned)
//   dict block:  | u32 buckets | u32 pad | u32 node offset * buckets |
//   node:        | u32 dict next | u32 hash | f64 score | u32 member length | member |

import { Buffer } from 'node:buffer'
import type { Keyspace } from './keyspace.js'
import type { SlidePlan } from './arena.js'
import { writes } from './writes.js'
import { copyBytes, readU32LE as rd, writeU32LE as wr } from '../bytes.js'
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

/** SORT's mark: Redis converts a listpack sorted set to a skiplist before sorting it, for good. */
export function zsetMarkSkiplist (ks: Keyspace, e: number): void { wr(ks.arena.u8, ks.valOffset(e) + 4, ENC_SKIPLIST) }
export function zsetMarkListpack (ks: Keyspace, e: number): void { wr(ks.arena.u8, ks.valOffset(e) + 4, ENC_ZLISTPACK) }
/** The encoding word back as it was (a script's undo: scripting/undo.ts). */
export function zsetSetEncoding (ks: Keyspace, e: number, enc: number): void { wr(ks.arena.u8, ks.valOffset(e) + 4, enc) }

/** A fresh sorted set (valLen = ZSET_HEADER_BYTES); `isSkiplist` when its first member already is too long. */
export function zsetInit (ks: Keyspace, e: number, isSkiplist: boolean): void {
  writes.count++
  version++
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

// --- the order: chunks of node offsets, sorted by (score, member) ----------------------------------
// A directory lists chunks of at most CHUNK_MAX node offsets with their counts, so an insert moves
// at most one chunk's tail (splitting a full chunk in two), and a search is a binary search over
// the chunks' last nodes, then inside one chunk. A rank is the counts of the chunks before, summed
// by a Fenwick tree over the counts. A split or an emptied chunk shifts the chunks after it and
// marks the tree stale; the next rank or positional lookup rebuilds it (O(chunks)), so a stream of
// inserts pays nothing for it, and lookups between writes pay O(chunks / (CHUNK_MAX/2)) each.
//   directory: | u32 capacity (chunks) | u32 chunks | (u32 chunk block, u32 count) * capacity |
//              | u32 tree valid (0/1) | u32 Fenwick sums * capacity |
//   chunk:     | u32 capacity (nodes) | u32 node * count |

/** Nodes per chunk at most (FLASHKV_ZSET_CHUNK: smaller in tests, so that chunks split). */
const CHUNK_MAX = Number(process.env.FLASHKV_ZSET_CHUNK ?? '') >= 4 ? Number(process.env.FLASHKV_ZSET_CHUNK) : 128

/** Bumped by every change to any order: it keeps the position cache below honest. */
let version = 0
/** Where the last rank looked up was (walks over consecutive ranks are O(1) each). */
const cache = { dir: -1, arena: null as unknown, version: -1, c: 0, first: 0 }
const loc = { c: 0, p: 0, block: 0 }

/** Forgets cached positions (the shard took its databases back from a transaction). */
export function zsetForgetPositions (): void { version++ }

function dirOf (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + 8) }

/** Bytes of a directory with room for `cap` chunks. */
export function zsetDirBytes (cap: number): number { return 12 + cap * 12 }

/** u32 index of the tree's valid word; Fenwick sum i (1-based) follows at + i. */
function fenwick (u32: Uint32Array, db: number): number { return db + 2 + u32[db] * 2 }

/** Chunks were inserted or removed: the tree is rebuilt when next needed. */
function fenwickStale (u32: Uint32Array, db: number): void { u32[fenwick(u32, db)] = 0 }

/** Adds delta to chunk c's count in the tree (the count itself is written by the caller). */
function fenwickAdd (u32: Uint32Array, db: number, c: number, delta: number): void {
  const f = fenwick(u32, db)
  if (u32[f] === 0) return
  const n = u32[db + 1]
  for (let i = c + 1; i <= n; i += i & -i) u32[f + i] += delta
}

/** The tree's base (its valid word), rebuilt first when stale. */
function fenwickReady (u32: Uint32Array, db: number): number {
  const f = fenwick(u32, db)
  if (u32[f] === 0) fenwickBuild(u32, db)
  return f
}

/** Members in chunks 0 … c-1. */
function fenwickPrefix (u32: Uint32Array, db: number, c: number): number {
  const f = fenwickReady(u32, db)
  let sum = 0
  for (let i = c; i > 0; i -= i & -i) sum += u32[f + i]
  return sum
}

/** Rebuilds the tree from the counts (after chunks were inserted or removed). */
function fenwickBuild (u32: Uint32Array, db: number): void {
  const f = fenwick(u32, db)
  u32[f] = 1
  const n = u32[db + 1]
  for (let i = 1; i <= n; i++) u32[f + i] = u32[db + 1 + i * 2]
  for (let i = 1; i <= n; i++) {
    const j = i + (i & -i)
    if (j <= n) u32[f + j] += u32[f + i]
  }
}

/** Finds rank i (which exists): its chunk index, position in it and chunk block, in `loc`. */
function locate (ks: Keyspace, e: number, i: number): void {
  const u32 = ks.arena.u32
  const d = dirOf(ks, e)
  const db = d >>> 2
  const n = u32[db + 1]
  let c = 0
  let first = 0
  if (cache.dir === d && cache.arena === ks.arena && cache.version === version && i >= cache.first &&
    i < cache.first + u32[db + 3 + cache.c * 2] + (cache.c + 1 < n ? u32[db + 5 + cache.c * 2] : 0)) {
    // The cached chunk or the next one: walks over consecutive ranks stay O(1) each.
    c = cache.c
    first = cache.first
    if (i >= first + u32[db + 3 + c * 2]) { first += u32[db + 3 + c * 2]; c++ }
  } else {
    // Descend the Fenwick tree: the last chunk whose members before it are at most i.
    const f = fenwickReady(u32, db)
    let rem = i
    let step = 1
    while (step * 2 <= n) step *= 2
    for (; step > 0; step >>>= 1) {
      if (c + step <= n && u32[f + c + step] <= rem) { c += step; rem -= u32[f + c] }
    }
    first = i - rem
  }
  cache.dir = d
  cache.arena = ks.arena
  cache.version = version
  cache.c = c
  cache.first = first
  loc.c = c
  loc.p = i - first
  loc.block = u32[db + 2 + c * 2]
}

/** The node at rank i (0-based, ascending). */
export function zsetAt (ks: Keyspace, e: number, i: number): number {
  locate(ks, e, i)
  return ks.arena.u32[(loc.block >>> 2) + 1 + loc.p]
}

/**
 * A walk over consecutive ranks: zsetSeek to the first, then zsetStep once per node. ZRANGE's
 * replies walk the chunks in place instead of finding each rank (zsetAt: a directory read and a
 * cache check per node were a third of a ZRANGEBYSCORE's time on the shard). Valid while the set
 * does not change.
 */
const walk = { db: 0, c: 0, p: 0, base: 0 }

export function zsetSeek (ks: Keyspace, e: number, i: number): void {
  locate(ks, e, i)
  walk.db = dirOf(ks, e) >>> 2
  walk.c = loc.c
  walk.p = loc.p
  walk.base = (loc.block >>> 2) + 1
}

/** The node at the walk's rank; the walk then moves one rank up (dir 1) or down (dir -1). */
export function zsetStep (ks: Keyspace, dir: number): number {
  const u32 = ks.arena.u32
  const node = u32[walk.base + walk.p]
  walk.p += dir
  if (walk.p < 0 || walk.p >= u32[walk.db + 3 + walk.c * 2]) {
    walk.c += dir
    if (walk.c >= 0 && walk.c < u32[walk.db + 1]) {
      walk.base = (u32[walk.db + 2 + walk.c * 2] >>> 2) + 1
      walk.p = dir > 0 ? 0 : u32[walk.db + 3 + walk.c * 2] - 1
    }
  }
  return node
}

// What findChunk looks for, set by the aim* functions just before it runs: module state read by
// isBefore, since a closure per search (one per ZADD member, two per ZRANGEBYSCORE) was a call
// site V8 could not inline, and an allocation.
const AIM_NODE = 0 // (score, member) order: the first node not before (target.score, target bytes)
const AIM_SCORE = 1 // the first node with score > target.score (isExclusive) or >= it
const AIM_LEX = 2 // the first node whose member is > (isExclusive) or >= the target bytes
const NO_BYTES = new Uint8Array(0)
const target = { kind: AIM_NODE, score: 0, isExclusive: false, buf: NO_BYTES as Uint8Array, start: 0, len: 0 }

function aimNode (score: number, buf: Uint8Array, start: number, len: number): void {
  target.kind = AIM_NODE
  target.score = score
  target.buf = buf
  target.start = start
  target.len = len
}

/** Whether node n sorts before the target (true for a prefix of the order). Small, so that it inlines. */
function isBefore (ks: Keyspace, n: number): boolean {
  if (target.kind !== AIM_SCORE) return isBeforeByBytes(ks, n)
  const s = ks.arena.f64[(n + 8) >>> 3]
  return target.isExclusive ? s <= target.score : s < target.score
}

function isBeforeByBytes (ks: Keyspace, n: number): boolean {
  const a = ks.arena
  if (target.kind === AIM_LEX) {
    const c = cmpBytes(a.u8, n + NODE_HEADER, a.u32[(n + 16) >>> 2], target.buf, target.start, target.len)
    return target.isExclusive ? c <= 0 : c < 0
  }
  return cmpNode(ks, n, target.score, target.buf, target.start, target.len) > 0
}

/**
 * Finds where the first node not before the target is (aim* set it): loc.c and loc.p, with
 * loc.c === -1 for an empty order and loc.p === the chunk's count when every node is before (the
 * end of the last chunk). No rank is computed.
 */
function findChunk (ks: Keyspace, e: number): void {
  searchChunks(ks, e)
  // The target's bytes may be a dropped arena's or a big request's out-of-band buffer: not kept.
  target.buf = NO_BYTES
}

function searchChunks (ks: Keyspace, e: number): void {
  const d = dirOf(ks, e)
  const u32 = ks.arena.u32
  const db = d >>> 2
  const chunks = d === 0 ? 0 : u32[db + 1]
  if (chunks === 0) { loc.c = -1; loc.p = 0; loc.block = 0; return }
  let lo = 0
  let hi = chunks
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    if (isBefore(ks, u32[(u32[db + 2 + m * 2] >>> 2) + u32[db + 3 + m * 2]])) lo = m + 1
    else hi = m
  }
  if (lo === chunks) { loc.c = chunks - 1; loc.p = u32[db + 3 + loc.c * 2]; loc.block = u32[db + 2 + loc.c * 2]; return }
  const base = (u32[db + 2 + lo * 2] >>> 2) + 1
  let a = 0
  let b = u32[db + 3 + lo * 2]
  while (a < b) {
    const m = (a + b) >>> 1
    if (isBefore(ks, u32[base + m])) a = m + 1
    else b = m
  }
  loc.c = lo
  loc.p = a
  loc.block = u32[db + 2 + lo * 2]
}

/** The first rank whose node is not before the target (aim* set it). */
function searchIndex (ks: Keyspace, e: number): number {
  findChunk(ks, e)
  if (loc.c < 0) return 0
  const u32 = ks.arena.u32
  const db = dirOf(ks, e) >>> 2
  return loc.p + fenwickPrefix(u32, db, loc.c)
}

/** Index of the first element not before (score, member). */
function lowerBound (ks: Keyspace, e: number, score: number, buf: Uint8Array, start: number, len: number): number {
  aimNode(score, buf, start, len)
  return searchIndex(ks, e)
}

/** Finds node n (which is in the set): loc.c and loc.p. */
function findNode (ks: Keyspace, e: number, n: number): void {
  const a = ks.arena
  aimNode(a.f64[(n + 8) >>> 3], a.u8, n + NODE_HEADER, a.u32[(n + 16) >>> 2])
  findChunk(ks, e)
}

/** Rank of node n (which is in the set). */
export function zsetRank (ks: Keyspace, e: number, n: number): number {
  return lowerBound(ks, e, nodeScore(ks, n), ks.arena.u8, n + NODE_HEADER, nodeMemberLen(ks, n))
}

/** Index of the first element with score > min (isExclusive) or >= min. */
export function zsetFirstByScore (ks: Keyspace, e: number, min: number, isExclusive: boolean): number {
  target.kind = AIM_SCORE
  target.score = min
  target.isExclusive = isExclusive
  return searchIndex(ks, e)
}

/** Index of the first element whose member is > (isExclusive) or >= the given bytes (lex order). */
export function zsetFirstByLex (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number, isExclusive: boolean): number {
  target.kind = AIM_LEX
  target.buf = buf
  target.start = start
  target.len = len
  target.isExclusive = isExclusive
  return searchIndex(ks, e)
}

function allocChunk (ks: Keyspace, cap: number): number {
  const a = ks.arena
  const blk = a.alloc(4 + cap * 4)
  if (blk !== 0) a.u32[blk >>> 2] = cap
  return blk
}

/**
 * Puts node n at position p of chunk c (c === -1: the order is empty); false when the arena is
 * full (the order unchanged).
 */
function orderInsertAt (ks: Keyspace, e: number, c: number, p: number, n: number): boolean {
  const a = ks.arena
  const h = ks.valOffset(e)
  let d = dirOf(ks, e)
  if (d === 0) {
    d = a.alloc(zsetDirBytes(4))
    if (d === 0) return false
    a.u32[d >>> 2] = 4
    a.u32[(d >>> 2) + 1] = 0
    wr(a.u8, h + 8, d)
  }
  let db = d >>> 2
  if (a.u32[db + 1] === 0) {
    const blk = allocChunk(ks, 4)
    if (blk === 0) return false
    a.u32[db + 2] = blk
    a.u32[db + 3] = 0
    a.u32[db + 1] = 1
    fenwickStale(a.u32, db)
    c = 0
    p = 0
  }
  let isSplit = false
  let blk = a.u32[db + 2 + c * 2]
  let cnt = a.u32[db + 3 + c * 2]
  if (cnt >= a.u32[blk >>> 2]) {
    if (cnt < CHUNK_MAX) {
      // Room to grow: a bigger block for this chunk.
      const nb = allocChunk(ks, Math.min(CHUNK_MAX, a.u32[blk >>> 2] * 2))
      if (nb === 0) return false
      a.u32.copyWithin((nb >>> 2) + 1, (blk >>> 2) + 1, (blk >>> 2) + 1 + cnt)
      a.free(blk, 4 + a.u32[blk >>> 2] * 4)
      blk = nb
      a.u32[db + 2 + c * 2] = blk
    } else {
      // Full: the upper half moves to a new chunk after this one.
      const chunks = a.u32[db + 1]
      let nd = d
      if (chunks >= a.u32[db]) {
        nd = a.alloc(zsetDirBytes(a.u32[db] * 2))
        if (nd === 0) return false
      }
      const nb = allocChunk(ks, CHUNK_MAX)
      if (nb === 0) { if (nd !== d) a.free(nd, zsetDirBytes(a.u32[db] * 2)); return false }
      const u32 = a.u32
      if (nd !== d) {
        u32[nd >>> 2] = u32[db] * 2
        u32.copyWithin((nd >>> 2) + 1, db + 1, db + 2 + chunks * 2)
        a.free(d, zsetDirBytes(u32[db]))
        d = nd
        db = d >>> 2
        wr(a.u8, h + 8, d)
      }
      const half = cnt >>> 1
      u32.copyWithin(db + 2 + (c + 2) * 2, db + 2 + (c + 1) * 2, db + 2 + chunks * 2)
      u32.copyWithin((nb >>> 2) + 1, (blk >>> 2) + 1 + half, (blk >>> 2) + 1 + cnt)
      u32[db + 2 + (c + 1) * 2] = nb
      u32[db + 3 + (c + 1) * 2] = cnt - half
      u32[db + 3 + c * 2] = half
      u32[db + 1] = chunks + 1
      isSplit = true
      if (p > half) { c++; p -= half; blk = nb; cnt = cnt - half } else { cnt = half }
    }
  }
  const base = (blk >>> 2) + 1
  a.u32.copyWithin(base + p + 1, base + p, base + cnt)
  a.u32[base + p] = n
  a.u32[db + 3 + c * 2] = cnt + 1
  if (isSplit) fenwickStale(a.u32, db)
  else fenwickAdd(a.u32, db, c, 1)
  version++
  return true
}

/** Takes position p of chunk c out of the order (a chunk left empty goes, with its directory entry). */
function orderDeleteAt (ks: Keyspace, e: number, c: number, p: number): void {
  const a = ks.arena
  const db = dirOf(ks, e) >>> 2
  const blk = a.u32[db + 2 + c * 2]
  const cnt = a.u32[db + 3 + c * 2]
  const base = (blk >>> 2) + 1
  a.u32.copyWithin(base + p, base + p + 1, base + cnt)
  if (cnt === 1) {
    const chunks = a.u32[db + 1]
    a.free(blk, 4 + a.u32[blk >>> 2] * 4)
    a.u32.copyWithin(db + 2 + c * 2, db + 2 + (c + 1) * 2, db + 2 + chunks * 2)
    a.u32[db + 1] = chunks - 1
    fenwickStale(a.u32, db)
  } else {
    a.u32[db + 3 + c * 2] = cnt - 1
    fenwickAdd(a.u32, db, c, -1)
  }
  version++
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
  if (!growDict(ks, e, count + 1)) return 0
  const n = a.alloc(NODE_HEADER + len)
  if (n === 0) return 0
  const u32 = a.u32
  const hash = memberHash(buf, start, len)
  u32[(n + 4) >>> 2] = hash
  // Redis converts to a skiplist before the insert that outgrows the listpack.
  const isListpack = rd(a.u8, h + 4) === ENC_ZLISTPACK && count + 1 <= maxListpackEntries() && len <= maxListpackValue()
  a.f64[(n + 8) >>> 3] = isListpack ? listpackScore(score) : score
  u32[(n + 16) >>> 2] = len
  copyBytes(buf, start, len, a.u8, n + NODE_HEADER)
  aimNode(score, buf, start, len)
  findChunk(ks, e)
  if (!orderInsertAt(ks, e, loc.c, loc.p, n)) { a.free(n, NODE_HEADER + len); return 0 }
  writes.count++
  const d = rd(a.u8, h + 12)
  const b = (d >>> 2) + 2 + (hash & (a.u32[d >>> 2] - 1))
  a.u32[n >>> 2] = a.u32[b]
  a.u32[b] = n
  wr(a.u8, h, count + 1)
  if (!isListpack && rd(a.u8, h + 4) === ENC_ZLISTPACK) wr(a.u8, h + 4, ENC_SKIPLIST)
  return n
}

/**
 * A score as a listpack keeps it: -0 reads back as 0 there (Redis writes it with d2string's
 * integer form), while a skiplist keeps the double, -0 included.
 */
function listpackScore (score: number): number { return score === 0 ? 0 : score }

/** Changes a member's score, moving it in the order. */
export function zsetUpdateScore (ks: Keyspace, e: number, n: number, score: number): void {
  writes.count++
  const a = ks.arena
  if (a.f64[(n + 8) >>> 3] === score) return
  const h = ks.valOffset(e)
  const count = rd(a.u8, h)
  findNode(ks, e, n)
  orderDeleteAt(ks, e, loc.c, loc.p)
  wr(a.u8, h, count - 1)
  a.f64[(n + 8) >>> 3] = rd(a.u8, h + 4) === ENC_ZLISTPACK ? listpackScore(score) : score
  // The callers reserved room first (zsetReserveBytes): a split here cannot run out.
  findNode(ks, e, n)
  orderInsertAt(ks, e, loc.c, loc.p, n)
  wr(a.u8, h, count)
}

/** Deletes node n from the set and frees it. */
export function zsetDelete (ks: Keyspace, e: number, n: number): void {
  writes.count++
  const a = ks.arena
  const h = ks.valOffset(e)
  findNode(ks, e, n)
  orderDeleteAt(ks, e, loc.c, loc.p)
  const u32 = a.u32
  const d = rd(a.u8, h + 12)
  const b = (d >>> 2) + 2 + (u32[(n + 4) >>> 2] & (u32[d >>> 2] - 1))
  if (u32[b] === n) u32[b] = u32[n >>> 2]
  else for (let p = u32[b]; p !== 0; p = u32[p >>> 2]) if (u32[p >>> 2] === n) { u32[p >>> 2] = u32[n >>> 2]; break }
  const len = u32[(n + 16) >>> 2]
  a.free(n, NODE_HEADER + len)
  wr(a.u8, h, rd(a.u8, h) - 1)
}

/** Calls fn for every chunk block of the order and its count. */
function forEachChunk (ks: Keyspace, e: number, fn: (blk: number, cnt: number) => void): void {
  const d = dirOf(ks, e)
  if (d === 0) return
  const u32 = ks.arena.u32
  const db = d >>> 2
  for (let c = 0, chunks = u32[db + 1]; c < chunks; c++) fn(u32[db + 2 + c * 2], u32[db + 3 + c * 2])
}

export function zsetFree (ks: Keyspace, e: number): void {
  const a = ks.arena
  const h = ks.valOffset(e)
  forEachChunk(ks, e, (blk, cnt) => {
    for (let i = 0; i < cnt; i++) {
      const n = a.u32[(blk >>> 2) + 1 + i]
      a.free(n, NODE_HEADER + a.u32[(n + 16) >>> 2])
    }
    a.free(blk, 4 + a.u32[blk >>> 2] * 4)
  })
  const o = rd(a.u8, h + 8)
  if (o !== 0) a.free(o, zsetDirBytes(a.u32[o >>> 2]))
  const d = rd(a.u8, h + 12)
  if (d !== 0) a.free(d, 8 + a.u32[d >>> 2] * 4)
  version++
}

/**
 * Keyspace.slide: the block offsets a sorted set holds, through plan.to: the directory's chunks,
 * each chunk's nodes, the dictionary's buckets and node links, and the header's two blocks. The
 * blocks have not moved yet: each offset is read before it is rewritten.
 */
export function zsetRelocate (ks: Keyspace, e: number, plan: SlidePlan): void {
  const a = ks.arena
  const u8 = a.u8
  const u32 = a.u32
  const h = ks.valOffset(e)
  const o = rd(u8, h + 8)
  if (o !== 0) {
    const db = o >>> 2
    for (let c = 0, chunks = u32[db + 1]; c < chunks; c++) {
      const blk = u32[db + 2 + c * 2]
      u32[db + 2 + c * 2] = plan.to(blk)
      for (let i = (blk >>> 2) + 1, end = i + u32[db + 3 + c * 2]; i < end; i++) u32[i] = plan.to(u32[i])
    }
    wr(u8, h + 8, plan.to(o))
  }
  const d = rd(u8, h + 12)
  if (d !== 0) {
    plan.chains(u32, (d >>> 2) + 2, u32[d >>> 2])
    wr(u8, h + 12, plan.to(d))
  }
  // The cached position names the old directory.
  version++
}

export function zsetMemory (ks: Keyspace, e: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  let total = 0
  const o = rd(a.u8, h + 8)
  if (o !== 0) total += a.blockBytes(zsetDirBytes(a.u32[o >>> 2]))
  const d = rd(a.u8, h + 12)
  if (d !== 0) total += a.blockBytes(8 + a.u32[d >>> 2] * 4)
  forEachChunk(ks, e, (blk, cnt) => {
    total += a.blockBytes(4 + a.u32[blk >>> 2] * 4)
    for (let i = 0; i < cnt; i++) total += a.blockBytes(NODE_HEADER + a.u32[(a.u32[(blk >>> 2) + 1 + i] + 16) >>> 2])
  })
  return total
}

/** Arena bytes adding `members` members of `bytes` bytes may take at most (reserved first). */
export function zsetReserveBytes (ks: Keyspace, e: number, bytes: number, members: number): number {
  const n = (e === 0 ? 0 : zsetLen(ks, e)) + members
  // New nodes, a doubled dictionary, chunk splits (a chunk block per CHUNK_MAX/2 members) and a doubled directory.
  return 2 * bytes + 40 * members + 16 * n + 1024 + 8 * (CHUNK_MAX + 1) * Math.ceil(members / (CHUNK_MAX >>> 1))
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
  // At most 16 digits: %.17g prints them all, no exponent (BullMQ's scores and timestamps).
  if (Number.isSafeInteger(d)) return String(d)
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
 * An optional minus and 1 to 15 digits (BullMQ's timestamps, redis-benchmark's scores): the
 * value, exact in a double as strtod gives it (-0 for "-0"); null for any other text. About
 * 15 ns where the string way takes about 265.
 */
export function plainInteger (buf: Uint8Array, start: number, len: number): number | null {
  const end = start + len
  let p = start
  const isNeg = buf[p] === 45
  if (isNeg) p++
  if (p === end || end - p > 15) return null
  let v = 0
  for (; p < end; p++) {
    const d = buf[p] - 48
    if (d < 0 || d > 9) return null
    v = v * 10 + d
  }
  return isNeg ? -v : v
}

/**
 * strtod as Redis's getDoubleFromObject takes it: no surrounding space, the whole string, inf
 * and infinity with a sign, no NaN, the hexadecimal form, and not out of range (overflow or
 * underflow to zero). Returns NaN when the text is not such a float.
 */
export function parseScore (buf: Uint8Array, start: number, len: number): number {
  if (len === 0 || len > 256) return NaN
  const n = plainInteger(buf, start, len)
  if (n !== null) return n
  const s = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')
  const lower = s.toLowerCase()
  const sign = lower[0] === '-' ? -1 : 1
  const body = lower[0] === '-' || lower[0] === '+' ? lower.slice(1) : lower
  if (body === 'inf' || body === 'infinity') return sign * Infinity
  if (body.startsWith('0x')) return parseHexFloat(s, true)
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(body)) return NaN
  const v = Number(body) * sign
  if (!Number.isFinite(v)) return NaN
  if (v === 0 && /[1-9]/.test(body.replace(/e.*$/, ''))) return NaN
  return v
}

export const HEX_FLOAT = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i

/**
 * strtod's hexadecimal form ("0x1.8p3"), rounded to nearest even, subnormals included; NaN when
 * the text is not one. Out of range (overflow, or underflow to zero) is NaN when `isRangeChecked`
 * (string2d refuses ERANGE), else ±Infinity or ±0 as strtod returns them (zslParseRange).
 */
export function parseHexFloat (s: string, isRangeChecked: boolean): number {
  const m = HEX_FLOAT.exec(s)
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return NaN
  const frac = m[3] ?? ''
  let mant = BigInt('0x0' + m[2] + frac)
  const sign = m[1] === '-' ? -1 : 1
  if (mant === 0n) return sign * 0
  const pexp = m[4] === undefined ? 0 : Math.max(-100000, Math.min(100000, Number(m[4])))
  let exp2 = pexp - 4 * frac.length
  const bits = mant.toString(2).length
  const top = bits - 1 + exp2 // exponent of the leading bit
  if (top > 1023) return isRangeChecked ? NaN : sign * Infinity
  const precision = top >= -1022 ? 53 : 53 - (-1022 - top)
  if (precision <= 0 && !(precision === 0 && mant > (1n << BigInt(bits - 1)))) return isRangeChecked ? NaN : sign * 0
  const shift = bits - Math.max(precision, 0)
  if (shift > 0) {
    const sh = BigInt(shift)
    let q = mant >> sh
    const rem = mant - (q << sh)
    const half = 1n << (sh - 1n)
    if (rem > half || (rem === half && (q & 1n) === 1n)) q++
    mant = q
    exp2 += shift
  }
  const v = Number(mant) * 2 ** Math.max(exp2, -1000) * 2 ** Math.min(exp2 + 1000, 0)
  if (!Number.isFinite(v)) return isRangeChecked ? NaN : sign * Infinity
  return sign * v
}
