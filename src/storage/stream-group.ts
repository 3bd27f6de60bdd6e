// Consumer groups of a stream, in the shard arena (Redis 7.0's streamCG, streamConsumer,
// streamNACK). Changes here do not bump writes.count: Redis 7.0 signals no modified key for
// them (XGROUP, XREADGROUP, XACK, XCLAIM leave a WATCH alone), and WATCH follows that count. Groups and consumers are kept sorted by name (Redis keeps them in radix trees, so
// XINFO lists them in that order); a group's pending entries list (PEL) is an array of records
// sorted by id. A consumer's own PEL is the group's records that name it (Redis keeps a second
// tree per consumer; here a consumer only counts its records).
//
//   groups:    | u32 capacity | u32 count | u32 group * capacity |
//   group:     | u32 name length | u32 PEL | u32 consumers | u32 pad | last id (16) | f64 entries read | name |
//   PEL:       | u32 capacity | u32 count | u32 first | u32 pad | record * capacity |   (records
//              first .. first + count - 1: acking the oldest entries moves nothing)
//   record:    | id (16) | f64 delivery time | f64 delivery count | u32 consumer | u32 pad |   (40 bytes)
//   consumers: | u32 capacity | u32 count | u32 consumer * capacity |
//   consumer:  | u32 name length | u32 pending | f64 seen time | name |

import type { Keyspace } from './keyspace.js'
import { readU32LE as rd } from '../bytes.js'
import { classBytes, sizeClass, type SlidePlan } from './arena.js'
import { StreamId, idCmp, idRead, idWrite, streamGroups, streamSetGroups } from './stream-type.js'

const G_PEL = 4
const G_CONSUMERS = 8
const G_LAST = 16
const G_READ = 32
const G_NAME = 40
export const REC_BYTES = 40
const PEL_HEADER = 16
const C_PENDING = 4
const C_SEEN = 8
const C_NAME = 16
/** SCG_INVALID_ENTRIES_READ */
export const INVALID_ENTRIES_READ = -1

const tmp = new StreamId()

function cmpName (u8: Uint8Array, at: number, len: number, buf: Uint8Array, start: number, blen: number): number {
  const n = len < blen ? len : blen
  for (let i = 0; i < n; i++) {
    const d = u8[at + i] - buf[start + i]
    if (d !== 0) return d
  }
  return len - blen
}

// --- sorted pointer lists (groups, consumers): | u32 capacity | u32 count | u32 item * capacity | --

function listCount (ks: Keyspace, l: number): number { return l === 0 ? 0 : ks.arena.u32[(l >>> 2) + 1] }
function listAt (ks: Keyspace, l: number, i: number): number { return ks.arena.u32[(l >>> 2) + 2 + i] }

/** Index of the item named buf[start, len) in list l, or -(insertion point) - 1. */
function listSearch (ks: Keyspace, l: number, nameAt: number, buf: Uint8Array, start: number, len: number): number {
  const n = listCount(ks, l)
  const u8 = ks.arena.u8
  const u32 = ks.arena.u32
  let lo = 0
  let hi = n
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    const it = u32[(l >>> 2) + 2 + m]
    const c = cmpName(u8, it + nameAt, u32[it >>> 2], buf, start, len)
    if (c === 0) return m
    if (c < 0) lo = m + 1
    else hi = m
  }
  return -lo - 1
}

/** Inserts item at i of list l (grown when full); returns the list block, 0 when the arena is full. */
function listInsert (ks: Keyspace, l: number, i: number, item: number): number {
  const a = ks.arena
  const n = listCount(ks, l)
  const cap = l === 0 ? 0 : a.u32[l >>> 2]
  let nl = l
  if (n === cap) {
    const ncap = Math.max(4, cap * 2)
    nl = a.alloc(8 + ncap * 4)
    if (nl === 0) return 0
    const u32 = a.u32
    u32[nl >>> 2] = ncap
    u32[(nl >>> 2) + 1] = n
    for (let k = 0; k < n; k++) u32[(nl >>> 2) + 2 + k] = u32[(l >>> 2) + 2 + k]
    if (l !== 0) a.free(l, 8 + cap * 4)
  }
  const u32 = a.u32
  const b = (nl >>> 2) + 2
  u32.copyWithin(b + i + 1, b + i, b + n)
  u32[b + i] = item
  u32[(nl >>> 2) + 1] = n + 1
  return nl
}

/** Removes item i of list l; returns the list block (0 once empty: freed). */
function listRemove (ks: Keyspace, l: number, i: number): number {
  const a = ks.arena
  const u32 = a.u32
  const n = u32[(l >>> 2) + 1]
  if (n === 1) { a.free(l, 8 + u32[l >>> 2] * 4); return 0 }
  const b = (l >>> 2) + 2
  u32.copyWithin(b + i, b + i + 1, b + n)
  u32[(l >>> 2) + 1] = n - 1
  return l
}

// --- groups ----------------------------------------------------------------------------------------

export function groupCount (ks: Keyspace, e: number): number { return listCount(ks, streamGroups(ks, e)) }
export function groupAt (ks: Keyspace, e: number, i: number): number { return listAt(ks, streamGroups(ks, e), i) }
export function groupFind (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): number {
  const l = streamGroups(ks, e)
  if (l === 0) return 0
  const i = listSearch(ks, l, G_NAME, buf, start, len)
  return i < 0 ? 0 : listAt(ks, l, i)
}

export function groupNameAt (g: number): number { return g + G_NAME }
export function groupNameLen (ks: Keyspace, g: number): number { return ks.arena.u32[g >>> 2] }
export function groupLastId (ks: Keyspace, g: number, id: StreamId): StreamId { return idRead(ks.arena.u8, g + G_LAST, id) }
export function groupSetLastId (ks: Keyspace, g: number, id: StreamId): void { idWrite(ks.arena.u8, g + G_LAST, id) }
export function groupEntriesRead (ks: Keyspace, g: number): number { return ks.arena.f64[(g + G_READ) >>> 3] }
export function groupSetEntriesRead (ks: Keyspace, g: number, n: number): void { ks.arena.f64[(g + G_READ) >>> 3] = n }

/** streamCreateCG: a new group (the name must be absent); 0 when the arena is full. */
export function groupCreate (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number, last: StreamId, entriesRead: number): number {
  const a = ks.arena
  const l = streamGroups(ks, e)
  const i = l === 0 ? -1 : listSearch(ks, l, G_NAME, buf, start, len)
  const g = a.alloc(G_NAME + len)
  if (g === 0) return 0
  const nl = listInsert(ks, l, -i - 1, g)
  if (nl === 0) { a.free(g, G_NAME + len); return 0 }
  const u32 = a.u32
  u32[g >>> 2] = len
  u32[(g + G_PEL) >>> 2] = 0
  u32[(g + G_CONSUMERS) >>> 2] = 0
  u32[(g + 12) >>> 2] = 0
  idWrite(a.u8, g + G_LAST, last)
  a.f64[(g + G_READ) >>> 3] = entriesRead
  a.u8.set(buf.subarray(start, start + len), g + G_NAME)
  streamSetGroups(ks, e, nl)
  return g
}

function groupFreeAll (ks: Keyspace, g: number): void {
  const a = ks.arena
  const u32 = a.u32
  const pel = u32[(g + G_PEL) >>> 2]
  if (pel !== 0) a.free(pel, PEL_HEADER + u32[pel >>> 2] * REC_BYTES)
  const cl = u32[(g + G_CONSUMERS) >>> 2]
  for (let i = 0, n = listCount(ks, cl); i < n; i++) {
    const c = listAt(ks, cl, i)
    a.free(c, C_NAME + a.u32[c >>> 2])
  }
  if (cl !== 0) a.free(cl, 8 + a.u32[cl >>> 2] * 4)
  a.free(g, G_NAME + a.u32[g >>> 2])
}

/** XGROUP DESTROY: true when the group existed. */
export function groupDestroy (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): boolean {
  const l = streamGroups(ks, e)
  if (l === 0) return false
  const i = listSearch(ks, l, G_NAME, buf, start, len)
  if (i < 0) return false
  groupFreeAll(ks, listAt(ks, l, i))
  streamSetGroups(ks, e, listRemove(ks, l, i))
  return true
}

export function groupsFree (ks: Keyspace, e: number): void {
  groupsFreeList(ks, streamGroups(ks, e))
  streamSetGroups(ks, e, 0)
}

/** Frees a groups list block and every group in it (lazyfree frees it from a copy of the header). */
export function groupsFreeList (ks: Keyspace, l: number): void {
  if (l === 0) return
  for (let i = 0, n = listCount(ks, l); i < n; i++) groupFreeAll(ks, listAt(ks, l, i))
  ks.arena.free(l, 8 + ks.arena.u32[l >>> 2] * 4)
}

/**
 * Keyspace.slide: the block offsets a stream's groups hold, through plan.to: the groups list, each
 * group's PEL and consumers list, the consumer each pending record names, and the consumers. The
 * blocks have not moved yet: each offset is read before it is rewritten.
 */
export function groupsRelocate (ks: Keyspace, e: number, plan: SlidePlan): void {
  const l = streamGroups(ks, e)
  if (l === 0) return
  const u32 = ks.arena.u32
  for (let i = (l >>> 2) + 2, end = i + u32[(l >>> 2) + 1]; i < end; i++) {
    const g = u32[i]
    u32[i] = plan.to(g)
    const pel = u32[(g + G_PEL) >>> 2]
    if (pel !== 0) {
      for (let r = recBase(u32, pel), n = u32[(pel >>> 2) + 1]; n > 0; n--, r += REC_BYTES) u32[(r + 32) >>> 2] = plan.to(u32[(r + 32) >>> 2])
      u32[(g + G_PEL) >>> 2] = plan.to(pel)
    }
    const cl = u32[(g + G_CONSUMERS) >>> 2]
    if (cl !== 0) {
      for (let j = (cl >>> 2) + 2, cend = j + u32[(cl >>> 2) + 1]; j < cend; j++) u32[j] = plan.to(u32[j])
      u32[(g + G_CONSUMERS) >>> 2] = plan.to(cl)
    }
  }
  streamSetGroups(ks, e, plan.to(l))
}

/** lazyfreeGetFreeEffort's share of the groups: each group, and the first group's PEL size for every one. */
export function groupsFreeEffort (ks: Keyspace, e: number): number {
  const k = groupCount(ks, e)
  return k === 0 ? 0 : k * (1 + pelCount(ks, groupAt(ks, e, 0)))
}

// --- consumers -------------------------------------------------------------------------------------

export function consumerCount (ks: Keyspace, g: number): number { return listCount(ks, ks.arena.u32[(g + G_CONSUMERS) >>> 2]) }
export function consumerAt (ks: Keyspace, g: number, i: number): number { return listAt(ks, ks.arena.u32[(g + G_CONSUMERS) >>> 2], i) }
export function consumerNameAt (c: number): number { return c + C_NAME }
export function consumerNameLen (ks: Keyspace, c: number): number { return ks.arena.u32[c >>> 2] }
export function consumerPending (ks: Keyspace, c: number): number { return ks.arena.u32[(c + C_PENDING) >>> 2] }
export function consumerSeen (ks: Keyspace, c: number): number { return ks.arena.f64[(c + C_SEEN) >>> 3] }
export function consumerSetSeen (ks: Keyspace, c: number, ms: number): void { ks.arena.f64[(c + C_SEEN) >>> 3] = ms }
/** A record's consumer is 0 between XCLAIM FORCE creating it and giving it an owner. */
function addPending (ks: Keyspace, c: number, d: number): void { if (c !== 0) ks.arena.u32[(c + C_PENDING) >>> 2] += d }

export function consumerFind (ks: Keyspace, g: number, buf: Uint8Array, start: number, len: number): number {
  const l = ks.arena.u32[(g + G_CONSUMERS) >>> 2]
  if (l === 0) return 0
  const i = listSearch(ks, l, C_NAME, buf, start, len)
  return i < 0 ? 0 : listAt(ks, l, i)
}

/** streamCreateConsumer (absent name): 0 when the arena is full. */
export function consumerCreate (ks: Keyspace, g: number, buf: Uint8Array, start: number, len: number, now: number): number {
  const a = ks.arena
  const l = a.u32[(g + G_CONSUMERS) >>> 2]
  const i = l === 0 ? -1 : listSearch(ks, l, C_NAME, buf, start, len)
  const c = a.alloc(C_NAME + len)
  if (c === 0) return 0
  const nl = listInsert(ks, l, -i - 1, c)
  if (nl === 0) { a.free(c, C_NAME + len); return 0 }
  const u32 = a.u32
  u32[c >>> 2] = len
  u32[(c + C_PENDING) >>> 2] = 0
  a.f64[(c + C_SEEN) >>> 3] = now
  a.u8.set(buf.subarray(start, start + len), c + C_NAME)
  u32[(g + G_CONSUMERS) >>> 2] = nl
  return c
}

/** streamDelConsumer: drops the consumer and its pending entries; returns how many it had. */
export function consumerDelete (ks: Keyspace, g: number, c: number): number {
  const a = ks.arena
  const pending = consumerPending(ks, c)
  if (pending > 0) {
    const pel = a.u32[(g + G_PEL) >>> 2]
    const n = pelCount(ks, g)
    const base = recBase(a.u32, pel)
    let w = 0
    for (let r = 0; r < n; r++) {
      const at = base + r * REC_BYTES
      if (a.u32[(at + 32) >>> 2] === c) continue
      if (pel + PEL_HEADER + w * REC_BYTES !== at) a.u8.copyWithin(pel + PEL_HEADER + w * REC_BYTES, at, at + REC_BYTES)
      w++
    }
    a.u32[(pel >>> 2) + 1] = w
    a.u32[(pel >>> 2) + 2] = 0
  }
  const l = a.u32[(g + G_CONSUMERS) >>> 2]
  const i = listSearch(ks, l, C_NAME, a.u8, c + C_NAME, a.u32[c >>> 2])
  a.u32[(g + G_CONSUMERS) >>> 2] = listRemove(ks, l, i)
  a.free(c, C_NAME + a.u32[c >>> 2])
  return pending
}

// --- the pending entries list --------------------------------------------------------------------

export function pelCount (ks: Keyspace, g: number): number {
  const pel = ks.arena.u32[(g + G_PEL) >>> 2]
  return pel === 0 ? 0 : ks.arena.u32[(pel >>> 2) + 1]
}
/** Address of the PEL's first record. */
function recBase (u32: Uint32Array, pel: number): number { return pel + PEL_HEADER + u32[(pel >>> 2) + 2] * REC_BYTES }

/** Address of record i. */
export function pelAt (ks: Keyspace, g: number, i: number): number {
  const u32 = ks.arena.u32
  return recBase(u32, u32[(g + G_PEL) >>> 2]) + i * REC_BYTES
}
export function recId (ks: Keyspace, r: number, id: StreamId): StreamId { return idRead(ks.arena.u8, r, id) }
export function recTime (ks: Keyspace, r: number): number { return ks.arena.f64[(r + 16) >>> 3] }
export function recCount (ks: Keyspace, r: number): number { return ks.arena.f64[(r + 24) >>> 3] }
export function recConsumer (ks: Keyspace, r: number): number { return ks.arena.u32[(r + 32) >>> 2] }
export function recSetTime (ks: Keyspace, r: number, ms: number): void { ks.arena.f64[(r + 16) >>> 3] = ms }
export function recSetCount (ks: Keyspace, r: number, n: number): void { ks.arena.f64[(r + 24) >>> 3] = n }
/** Gives record r to consumer c (pending counts moved). */
export function recSetConsumer (ks: Keyspace, r: number, c: number): void {
  const old = recConsumer(ks, r)
  if (old === c) return
  addPending(ks, old, -1)
  addPending(ks, c, 1)
  ks.arena.u32[(r + 32) >>> 2] = c
}

/** Index of id in the group's PEL, or -(insertion point) - 1. */
export function pelSearch (ks: Keyspace, g: number, id: StreamId): number {
  const n = pelCount(ks, g)
  if (n === 0) return -1
  const base = recBase(ks.arena.u32, ks.arena.u32[(g + G_PEL) >>> 2])
  const u8 = ks.arena.u8
  let lo = 0
  let hi = n
  while (lo < hi) {
    const m = (lo + hi) >>> 1
    const c = idCmp(idRead(u8, base + m * REC_BYTES, tmp), id)
    if (c === 0) return m
    if (c < 0) lo = m + 1
    else hi = m
  }
  return -lo - 1
}

/** Inserts a record at i (from pelSearch); returns its address, 0 when the arena is full. */
export function pelInsert (ks: Keyspace, g: number, i: number, id: StreamId, time: number, count: number, c: number): number {
  const a = ks.arena
  let pel = a.u32[(g + G_PEL) >>> 2]
  const n = pelCount(ks, g)
  const cap = pel === 0 ? 0 : a.u32[pel >>> 2]
  if (n === cap) {
    const ncap = Math.max(4, cap * 2)
    const np = a.alloc(PEL_HEADER + ncap * REC_BYTES)
    if (np === 0) return 0
    const u8 = a.u8
    if (pel !== 0) {
      const base = recBase(a.u32, pel)
      u8.copyWithin(np + PEL_HEADER, base, base + n * REC_BYTES)
      a.free(pel, PEL_HEADER + cap * REC_BYTES)
    }
    a.u32[np >>> 2] = ncap
    a.u32[(np >>> 2) + 1] = n
    a.u32[(np >>> 2) + 2] = 0
    a.u32[(np >>> 2) + 3] = 0
    a.u32[(g + G_PEL) >>> 2] = np
    pel = np
  } else if (a.u32[(pel >>> 2) + 2] + n === cap && (i >= n / 2 || a.u32[(pel >>> 2) + 2] === 0)) {
    // No room after the last record: close the gap before the first.
    const base = recBase(a.u32, pel)
    a.u8.copyWithin(pel + PEL_HEADER, base, base + n * REC_BYTES)
    a.u32[(pel >>> 2) + 2] = 0
  }
  const u8 = a.u8
  const first = a.u32[(pel >>> 2) + 2]
  const base = pel + PEL_HEADER + first * REC_BYTES
  let at: number
  if (first > 0 && (i < n / 2 || first + n === cap)) {
    // The records before i move one place towards the front.
    u8.copyWithin(base - REC_BYTES, base, base + i * REC_BYTES)
    a.u32[(pel >>> 2) + 2] = first - 1
    at = base - REC_BYTES + i * REC_BYTES
  } else {
    at = base + i * REC_BYTES
    u8.copyWithin(at + REC_BYTES, at, base + n * REC_BYTES)
  }
  idWrite(u8, at, id)
  a.f64[(at + 16) >>> 3] = time
  a.f64[(at + 24) >>> 3] = count
  a.u32[(at + 32) >>> 2] = c
  a.u32[(at + 36) >>> 2] = 0
  a.u32[(pel >>> 2) + 1] = n + 1
  addPending(ks, c, 1)
  return at
}

/** Removes record i (its consumer's count too). */
export function pelRemove (ks: Keyspace, g: number, i: number): void {
  const a = ks.arena
  const pel = a.u32[(g + G_PEL) >>> 2]
  const n = a.u32[(pel >>> 2) + 1]
  const base = recBase(a.u32, pel)
  const at = base + i * REC_BYTES
  addPending(ks, a.u32[(at + 32) >>> 2], -1)
  if (i < n / 2) {
    // The records before i move one place back; the first is one further on.
    a.u8.copyWithin(base + REC_BYTES, base, at)
    a.u32[(pel >>> 2) + 2]++
  } else a.u8.copyWithin(at, at + REC_BYTES, base + n * REC_BYTES)
  a.u32[(pel >>> 2) + 1] = n - 1
  if (n === 1) a.u32[(pel >>> 2) + 2] = 0
}

/** Arena bytes one more group, consumer and record may take (for Arena.reserve). */
export function groupReserveBytes (nameLen: number, records: number): number {
  return 3 * (G_NAME + nameLen + 64) + PEL_HEADER + 2 * (records + 8) * REC_BYTES * 2 + 4096
}

// --- memory, dump and restore --------------------------------------------------------------------

export function groupsMemory (ks: Keyspace, e: number): number {
  const a = ks.arena
  const l = streamGroups(ks, e)
  if (l === 0) return 0
  let n = a.blockBytes(8 + a.u32[l >>> 2] * 4)
  for (let i = 0, k = listCount(ks, l); i < k; i++) {
    const g = listAt(ks, l, i)
    n += a.blockBytes(G_NAME + a.u32[g >>> 2])
    const pel = a.u32[(g + G_PEL) >>> 2]
    if (pel !== 0) n += a.blockBytes(PEL_HEADER + a.u32[pel >>> 2] * REC_BYTES)
    const cl = a.u32[(g + G_CONSUMERS) >>> 2]
    if (cl !== 0) n += a.blockBytes(8 + a.u32[cl >>> 2] * 4)
    for (let j = 0, m = listCount(ks, cl); j < m; j++) n += a.blockBytes(C_NAME + a.u32[listAt(ks, cl, j) >>> 2])
  }
  return n
}

// Dump: | u32 groups | per group: u32 name length, name, last id, f64 entries read, u32 consumers,
// (u32 name length, name, f64 seen)*, u32 records, (id, f64 time, f64 count, u32 consumer index)* |

export function groupsDumpBytes (ks: Keyspace, e: number): number {
  let n = 4
  for (let i = 0, k = groupCount(ks, e); i < k; i++) {
    const g = groupAt(ks, e, i)
    n += 4 + groupNameLen(ks, g) + 16 + 8 + 4 + 4 + pelCount(ks, g) * 36
    for (let j = 0, m = consumerCount(ks, g); j < m; j++) n += 12 + consumerNameLen(ks, consumerAt(ks, g, j))
  }
  return n
}

export function groupsDump (ks: Keyspace, e: number, b: Buffer, p: number): number {
  const a = ks.arena
  const k = groupCount(ks, e)
  b.writeUInt32LE(k, p)
  p += 4
  for (let i = 0; i < k; i++) {
    const g = groupAt(ks, e, i)
    const nl = groupNameLen(ks, g)
    b.writeUInt32LE(nl, p)
    b.set(a.u8.subarray(g + G_NAME, g + G_NAME + nl), p + 4)
    p += 4 + nl
    b.set(a.u8.subarray(g + G_LAST, g + G_LAST + 16), p)
    b.writeDoubleLE(groupEntriesRead(ks, g), p + 16)
    p += 24
    const m = consumerCount(ks, g)
    b.writeUInt32LE(m, p)
    p += 4
    const index = new Map<number, number>()
    for (let j = 0; j < m; j++) {
      const c = consumerAt(ks, g, j)
      index.set(c, j)
      const cl = consumerNameLen(ks, c)
      b.writeUInt32LE(cl, p)
      b.set(a.u8.subarray(c + C_NAME, c + C_NAME + cl), p + 4)
      b.writeDoubleLE(consumerSeen(ks, c), p + 4 + cl)
      p += 12 + cl
    }
    const r = pelCount(ks, g)
    b.writeUInt32LE(r, p)
    p += 4
    for (let j = 0; j < r; j++) {
      const at = pelAt(ks, g, j)
      b.set(a.u8.subarray(at, at + 16), p)
      b.writeDoubleLE(recTime(ks, at), p + 16)
      b.writeDoubleLE(recCount(ks, at), p + 24)
      b.writeUInt32LE(index.get(recConsumer(ks, at)) ?? 0, p + 32)
      p += 36
    }
  }
  return p
}

export function groupsRestore (ks: Keyspace, e: number, buf: Uint8Array, p: number, end: number): boolean {
  if (p >= end) return true
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const k = rd(buf, p)
  p += 4
  const id = new StreamId()
  for (let i = 0; i < k; i++) {
    const nl = rd(buf, p)
    const nameAt = p + 4
    p += 4 + nl
    idRead(buf, p, id)
    const g = groupCreate(ks, e, buf, nameAt, nl, id, v.getFloat64(p + 16, true))
    if (g === 0) return false
    p += 24
    const m = rd(buf, p)
    p += 4
    const cs: number[] = []
    for (let j = 0; j < m; j++) {
      const cl = rd(buf, p)
      const c = consumerCreate(ks, g, buf, p + 4, cl, v.getFloat64(p + 4 + cl, true))
      if (c === 0) return false
      cs.push(c)
      p += 12 + cl
    }
    const r = rd(buf, p)
    p += 4
    for (let j = 0; j < r; j++) {
      idRead(buf, p, id)
      if (pelInsert(ks, g, j, id, v.getFloat64(p + 16, true), v.getFloat64(p + 24, true), cs[rd(buf, p + 32)]) === 0) return false
      p += 36
    }
  }
  return true
}

export function groupsRestoreBytes (_buf: Uint8Array, p: number, end: number): number {
  if (p >= end) return 0
  // Each record, consumer and group in blocks of their own class, lists at twice their size.
  const bytes = end - p
  return classBytes(sizeClass(64)) * 4 + 4 * bytes + 4096
}
