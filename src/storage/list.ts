// Lists in the shard arena: the entry's 12-byte value is a header, elements are arena blocks in
// a doubly linked chain, so push and pop at either end are O(1) and no element is a JS object.
//
//   entry value: | u32 count | u32 head | u32 tail |      (little-endian, byte-aligned)
//   element:     | u32 prev | u32 next | u32 len | bytes ... |      (8-aligned arena block)
//
// The entry's value follows its key, so the list header sits at any byte offset: it is read and
// written byte by byte (a u32 view would truncate the offset and overwrite the key's bytes).
// Being position-independent bytes, it survives raw value copies (RENAME).
// Index-based commands (LINDEX, LSET, LRANGE) walk from the nearer end, as Redis's quicklist does.

import type { Keyspace } from './keyspace.js'
import type { SlidePlan } from './arena.js'
import { copyBytes } from '../bytes.js'
import { writes } from './writes.js'

export const LIST_HEADER_BYTES = 12
export const ELEM_HEADER_BYTES = 12
export const HEAD = 0
export const TAIL = 1

const COUNT = 0
const FIRST = 4 // + 4 * where: head, then tail

function hget (u8: Uint8Array, p: number): number {
  return (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24)) >>> 0
}

function hset (u8: Uint8Array, p: number, v: number): void {
  u8[p] = v & 255
  u8[p + 1] = (v >>> 8) & 255
  u8[p + 2] = (v >>> 16) & 255
  u8[p + 3] = v >>> 24
}

export function listLen (ks: Keyspace, e: number): number {
  return hget(ks.arena.u8, ks.valOffset(e) + COUNT)
}

/** Initialises the header of a freshly inserted list entry (valLen = LIST_HEADER_BYTES). */
export function listInit (ks: Keyspace, e: number): void {
  writes.count++
  ks.arena.u8.fill(0, ks.valOffset(e), ks.valOffset(e) + LIST_HEADER_BYTES)
}

/** Pushes bytes at one end. Returns false when the arena is full (list unchanged). */
export function listPush (ks: Keyspace, e: number, where: number, buf: Uint8Array, start: number, len: number): boolean {
  const n = newElem(ks, buf, start, len)
  if (n === 0) return false
  listLinkElem(ks, e, where, n)
  return true
}

/** A new, unlinked element holding the bytes, or 0 when the arena is full. */
function newElem (ks: Keyspace, buf: Uint8Array, start: number, len: number): number {
  const a = ks.arena
  const n = a.alloc(ELEM_HEADER_BYTES + len)
  if (n === 0) return 0
  copyBytes(buf, start, len, a.u8, n + ELEM_HEADER_BYTES)
  a.u32[(n + 8) >>> 2] = len
  return n
}

export function elemLen (ks: Keyspace, n: number): number { return ks.arena.u32[(n + 8) >>> 2] }
export function elemData (n: number): number { return n + ELEM_HEADER_BYTES }
export function elemNext (ks: Keyspace, n: number): number { return ks.arena.u32[(n + 4) >>> 2] }
export function elemPrev (ks: Keyspace, n: number): number { return ks.arena.u32[n >>> 2] }
export function listFirst (ks: Keyspace, e: number, where: number): number {
  return hget(ks.arena.u8, ks.valOffset(e) + FIRST + 4 * where)
}

/** Unlinks element n without freeing it (LMOVE hands the block to another list). */
export function listUnlinkElem (ks: Keyspace, e: number, n: number): void {
  writes.count++
  const u32 = ks.arena.u32
  const u8 = ks.arena.u8
  const h = ks.valOffset(e)
  const prev = u32[n >>> 2]
  const next = u32[(n + 4) >>> 2]
  if (prev === 0) hset(u8, h + FIRST, next)
  else u32[(prev + 4) >>> 2] = next
  if (next === 0) hset(u8, h + FIRST + 4, prev)
  else u32[next >>> 2] = prev
  hset(u8, h + COUNT, hget(u8, h + COUNT) - 1)
}

/** Links a detached element (from listUnlinkElem, same arena) at one end. */
export function listLinkElem (ks: Keyspace, e: number, where: number, n: number): void {
  writes.count++
  const u32 = ks.arena.u32
  const u8 = ks.arena.u8
  const h = ks.valOffset(e)
  const count = hget(u8, h + COUNT)
  if (count === 0) {
    u32[n >>> 2] = 0
    u32[(n + 4) >>> 2] = 0
    hset(u8, h + FIRST, n)
    hset(u8, h + FIRST + 4, n)
  } else if (where === HEAD) {
    const old = hget(u8, h + FIRST)
    u32[n >>> 2] = 0
    u32[(n + 4) >>> 2] = old
    u32[old >>> 2] = n
    hset(u8, h + FIRST, n)
  } else {
    const old = hget(u8, h + FIRST + 4)
    u32[n >>> 2] = old
    u32[(n + 4) >>> 2] = 0
    u32[(old + 4) >>> 2] = n
    hset(u8, h + FIRST + 4, n)
  }
  hset(u8, h + COUNT, count + 1)
}

/** Unlinks and frees element n. The caller copies its bytes first if it needs them. */
export function listRemoveElem (ks: Keyspace, e: number, n: number): void {
  listUnlinkElem(ks, e, n)
  ks.arena.free(n, ELEM_HEADER_BYTES + ks.arena.u32[(n + 8) >>> 2])
}

/** True when element n holds exactly buf[start..start+len) (listTypeEqual). */
export function elemEquals (ks: Keyspace, n: number, buf: Uint8Array, start: number, len: number): boolean {
  const a = ks.arena
  if (a.u32[(n + 8) >>> 2] !== len) return false
  const u8 = a.u8
  const d = n + ELEM_HEADER_BYTES
  for (let i = 0; i < len; i++) if (u8[d + i] !== buf[start + i]) return false
  return true
}

/** Element at index (negative from the tail), or 0 when out of range. */
export function listIndex (ks: Keyspace, e: number, index: number): number {
  const count = listLen(ks, e)
  if (index < 0) index += count
  if (index < 0 || index >= count) return 0
  const u32 = ks.arena.u32
  if (index < count / 2) {
    let n = listFirst(ks, e, HEAD)
    for (let i = 0; i < index; i++) n = u32[(n + 4) >>> 2]
    return n
  }
  let n = listFirst(ks, e, TAIL)
  for (let i = count - 1; i > index; i--) n = u32[n >>> 2]
  return n
}

/** Inserts bytes before or after element `at`. Returns false when the arena is full. */
export function listInsertAt (ks: Keyspace, e: number, at: number, isAfter: boolean, buf: Uint8Array, start: number, len: number): boolean {
  const n = newElem(ks, buf, start, len)
  if (n === 0) return false
  writes.count++
  const a = ks.arena
  const u32 = a.u32
  const u8 = a.u8
  const h = ks.valOffset(e)
  const prev = isAfter ? at : u32[at >>> 2]
  const next = isAfter ? u32[(at + 4) >>> 2] : at
  u32[n >>> 2] = prev
  u32[(n + 4) >>> 2] = next
  if (prev === 0) hset(u8, h + FIRST, n)
  else u32[(prev + 4) >>> 2] = n
  if (next === 0) hset(u8, h + FIRST + 4, n)
  else u32[next >>> 2] = n
  hset(u8, h + COUNT, hget(u8, h + COUNT) + 1)
  return true
}

/** Replaces element n's bytes; returns the (possibly moved) element, or 0 when the arena is full. */
export function listReplaceElem (ks: Keyspace, e: number, n: number, buf: Uint8Array, start: number, len: number): number {
  const a = ks.arena
  const oldLen = a.u32[(n + 8) >>> 2]
  writes.count++
  if (a.sameBlockFor(ELEM_HEADER_BYTES + oldLen, ELEM_HEADER_BYTES + len)) {
    copyBytes(buf, start, len, a.u8, n + ELEM_HEADER_BYTES)
    a.u32[(n + 8) >>> 2] = len
    return n
  }
  if (!listInsertAt(ks, e, n, true, buf, start, len)) return 0
  const moved = a.u32[(n + 4) >>> 2]
  listRemoveElem(ks, e, n)
  return moved
}

/** Frees every element (before the entry itself is freed or reused). */
export function listFreeElements (ks: Keyspace, e: number): void {
  const a = ks.arena
  let n = listFirst(ks, e, HEAD)
  while (n !== 0) {
    const next = a.u32[(n + 4) >>> 2]
    a.free(n, ELEM_HEADER_BYTES + a.u32[(n + 8) >>> 2])
    n = next
  }
  listInit(ks, e)
}

/** Keyspace.slide: the header's ends and every element's links, through plan.to (the blocks have not moved yet). */
export function listRelocate (ks: Keyspace, e: number, plan: SlidePlan): void {
  const u8 = ks.arena.u8
  const u32 = ks.arena.u32
  const h = ks.valOffset(e)
  let n = hget(u8, h + FIRST)
  hset(u8, h + FIRST, plan.to(n))
  hset(u8, h + FIRST + 4, plan.to(hget(u8, h + FIRST + 4)))
  while (n !== 0) {
    const next = u32[(n + 4) >>> 2]
    u32[n >>> 2] = plan.to(u32[n >>> 2])
    u32[(n + 4) >>> 2] = plan.to(next)
    n = next
  }
}

/** Bytes held by the list's elements (MEMORY USAGE). */
export function listBytes (ks: Keyspace, e: number): number {
  const a = ks.arena
  let total = 0
  for (let n = listFirst(ks, e, HEAD); n !== 0; n = a.u32[(n + 4) >>> 2]) total += a.blockBytes(ELEM_HEADER_BYTES + a.u32[(n + 8) >>> 2])
  return total
}
