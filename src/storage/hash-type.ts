// Hashes in the shard arena, in Redis's two encodings (OBJECT ENCODING names them):
// - listpack: small hashes, one arena block of (u32 len, field, u32 len, value)* in insertion
//   order, searched linearly, as Redis's listpack is;
// - hashtable: past hash-max-listpack-entries fields or a field or value longer than
//   hash-max-listpack-value bytes, a bucket array of u32 node offsets and one block per field.
// A hash never goes back to listpack (Redis does not either).
//
//   entry value: | u32 count | u32 encoding | u32 p1 | u32 p2 |   (byte-aligned, like a list's)
//     listpack:  p1 = the pack block | u32 capacity | items... |, p2 = bytes of items used
//     hashtable: p1 = the bucket block (u32 per bucket), p2 = bucket count (a power of two)
//   node:        | u32 next | u32 hash | u32 field len | u32 value len | field | value |

import type { Keyspace } from './keyspace.js'
import { writes } from './writes.js'
import { readU32LE as rd, writeU32LE as wr } from '../bytes.js'
import { copyBytes } from '../bytes.js'
import { classBytes, sizeClass, type SlidePlan } from './arena.js'
import { HASH_ENTRIES_WORD, HASH_VALUE_WORD, limitOf } from '../ipc/layout.js'

export const HASH_HEADER_BYTES = 16
export const ENC_LISTPACK = 0
export const ENC_HASHTABLE = 1
const NODE_HEADER = 16
const PACK_HEADER = 4

/**
 * hash-max-listpack-entries and -value: read from the shared settings words (CONFIG SET on any
 * thread is seen at once; set-max-intset-entries too, for sets). Each thread that runs these
 * commands points `flags` at them; the default holds Redis's defaults (512, 64, 512, 128, 64) for a
 * Shard used on its own.
 */
export const hashLimits: { flags: Int32Array<ArrayBufferLike> } = { flags: Int32Array.of(0, 0, 512, 0, 64, 0, 512, 0, 128, 0, 64, 0, 0, 0, 3000, 0) }
function maxEntries (): number { return limitOf(hashLimits.flags, HASH_ENTRIES_WORD) }
function maxValue (): number { return limitOf(hashLimits.flags, HASH_VALUE_WORD) }


/** FNV-1a over the field's bytes: the bucket and a quick compare. */
function fieldHash (buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ buf[i], 0x01000193)
  return h >>> 0
}

function bytesEqual (a: Uint8Array, ap: number, b: Uint8Array, bp: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ap + i] !== b[bp + i]) return false
  return true
}

export function hashLen (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e)) }
export function hashEncoding (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + 4) }

/** Initialises a fresh hash entry (valLen = HASH_HEADER_BYTES): empty, listpack. */
export function hashInit (ks: Keyspace, e: number): void {
  writes.count++
  ks.arena.u8.fill(0, ks.valOffset(e), ks.valOffset(e) + HASH_HEADER_BYTES)
}

/**
 * A position in a hash: where a field's value is. Filled by hashFind; valid until the next
 * change to the hash. `at` is the value's byte offset in the arena, `len` its length.
 */
export const found = { at: 0, len: 0, node: 0, item: 0 }

/** Finds a field; true with `found` set, false when absent. */
export function hashFind (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): boolean {
  const a = ks.arena
  const u8 = a.u8
  const h = ks.valOffset(e)
  const p1 = rd(u8, h + 8)
  const p2 = rd(u8, h + 12)
  if (rd(u8, h + 4) === ENC_LISTPACK) {
    if (p1 === 0) return false
    const end = p1 + PACK_HEADER + p2
    for (let p = p1 + PACK_HEADER; p < end;) {
      const fl = rd(u8, p)
      const vp = p + 4 + fl
      const vl = rd(u8, vp)
      if (fl === len && bytesEqual(u8, p + 4, buf, start, len)) {
        found.at = vp + 4
        found.len = vl
        found.item = p
        return true
      }
      p = vp + 4 + vl
    }
    return false
  }
  const hash = fieldHash(buf, start, len)
  const u32 = a.u32
  for (let n = u32[(p1 >>> 2) + (hash & (p2 - 1))]; n !== 0; n = u32[n >>> 2]) {
    if (u32[(n + 4) >>> 2] === hash && u32[(n + 8) >>> 2] === len && bytesEqual(u8, n + NODE_HEADER, buf, start, len)) {
      found.at = n + NODE_HEADER + len
      found.len = u32[(n + 12) >>> 2]
      found.node = n
      return true
    }
  }
  return false
}

/** A hashtable-encoded hash's bucket block as a u32 index, and its bucket mask (tableHas). */
export function tableBase (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + 8) >>> 2 }
export function tableMask (ks: Keyspace, e: number): number { return rd(ks.arena.u8, ks.valOffset(e) + 12) - 1 }

/**
 * Whether the hashtable with bucket block `base` and `mask` (tableBase, tableMask) has the field
 * buf[start, start + len) whose fieldHash is `hash` (stored in another hashtable's node: SINTER's
 * walk probes with it instead of hashing again).
 */
export function tableHas (u32: Uint32Array, u8: Uint8Array, base: number, mask: number, buf: Uint8Array, start: number, len: number, hash: number): boolean {
  for (let n = u32[base + (hash & mask)]; n !== 0; n = u32[n >>> 2]) {
    if (u32[(n + 4) >>> 2] === hash && u32[(n + 8) >>> 2] === len && bytesEqual(u8, n + NODE_HEADER, buf, start, len)) return true
  }
  return false
}

/**
 * Sets field to value (hashTypeSet). Returns 1 when the field is new, 0 when it was updated,
 * -1 when the arena is full (the hash is then unchanged, or converted but with the old value).
 * Converts to a hashtable first when the field or value is too long for a listpack, and after
 * when there are too many fields (after an update too).
 */
export function hashSet (ks: Keyspace, e: number, fb: Uint8Array, fs: number, fl: number, vb: Uint8Array, vs: number, vl: number): number {
  writes.count++
  const h = ks.valOffset(e)
  if (rd(ks.arena.u8, h + 4) === ENC_LISTPACK && (fl > maxValue() || vl > maxValue())) {
    if (!hashConvert(ks, e)) return -1
  }
  if (rd(ks.arena.u8, h + 4) === ENC_LISTPACK) {
    const r = packSet(ks, e, fb, fs, fl, vb, vs, vl)
    // Checked after an update too, as hashTypeSet does: a listpack left over the limit by a
    // lowered hash-max-listpack-entries converts on its next HSET or HINCRBY.
    if (r === -1 || rd(ks.arena.u8, h) <= maxEntries() || hashConvert(ks, e)) return r
    // No room to convert: a new field is an OOM; an update keeps the listpack (the value is set).
    return r === 1 ? -1 : r
  }
  return tableSet(ks, e, fb, fs, fl, vb, vs, vl)
}

/** hashSet that keeps the encoding (a restore of a listpack stays one, whatever the limits now). */
export function hashSetKeep (ks: Keyspace, e: number, fb: Uint8Array, fs: number, fl: number, vb: Uint8Array, vs: number, vl: number): number {
  writes.count++
  if (rd(ks.arena.u8, ks.valOffset(e) + 4) === ENC_LISTPACK) return packSet(ks, e, fb, fs, fl, vb, vs, vl)
  return tableSet(ks, e, fb, fs, fl, vb, vs, vl)
}

function packSet (ks: Keyspace, e: number, fb: Uint8Array, fs: number, fl: number, vb: Uint8Array, vs: number, vl: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  if (hashFind(ks, e, fb, fs, fl)) {
    // Same length: overwrite in place; else the item's tail moves.
    const at = found.at
    const old = found.len
    if (old === vl) { copyBytes(vb, vs, vl, a.u8, at); return 0 }
    let u8 = a.u8
    const p1 = rd(u8, h + 8)
    const used = rd(u8, h + 12)
    const tail = p1 + PACK_HEADER + used - (at + old)
    const newUsed = used - old + vl
    let block = p1
    if (PACK_HEADER + newUsed > rd(u8, p1)) {
      block = growPack(ks, e, newUsed)
      if (block === 0) return -1
      u8 = a.u8
    }
    const vat = at - p1 + block
    u8.copyWithin(vat + vl, vat + old, vat + old + tail)
    copyBytes(vb, vs, vl, u8, vat)
    wr(u8, vat - 4, vl)
    wr(u8, h + 12, newUsed)
    return 0
  }
  let u8 = a.u8
  let p1 = rd(u8, h + 8)
  const used = rd(u8, h + 12)
  const newUsed = used + 8 + fl + vl
  if (p1 === 0 || PACK_HEADER + newUsed > rd(u8, p1)) {
    p1 = growPack(ks, e, newUsed)
    if (p1 === 0) return -1
    u8 = a.u8
  }
  let p = p1 + PACK_HEADER + used
  wr(u8, p, fl)
  copyBytes(fb, fs, fl, u8, p + 4)
  p += 4 + fl
  wr(u8, p, vl)
  copyBytes(vb, vs, vl, u8, p + 4)
  wr(u8, h + 12, newUsed)
  wr(u8, h, rd(u8, h) + 1)
  return 1
}

/** Moves the pack to a block with room for `need` bytes of items (½ again as much); 0 when full. */
function growPack (ks: Keyspace, e: number, need: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  const cap = classBytes(sizeClass(PACK_HEADER + need + (need >>> 1)))
  const n = a.alloc(cap)
  if (n === 0) return 0
  const u8 = a.u8
  const old = rd(u8, h + 8)
  wr(u8, n, cap)
  if (old !== 0) {
    u8.copyWithin(n + PACK_HEADER, old + PACK_HEADER, old + PACK_HEADER + rd(u8, h + 12))
    a.free(old, rd(u8, old))
  }
  wr(u8, h + 8, n)
  return n
}

function newNode (ks: Keyspace, hash: number, fb: Uint8Array, fs: number, fl: number, vb: Uint8Array, vs: number, vl: number): number {
  const a = ks.arena
  const n = a.alloc(NODE_HEADER + fl + vl)
  if (n === 0) return 0
  const u32 = a.u32
  u32[(n + 4) >>> 2] = hash
  u32[(n + 8) >>> 2] = fl
  u32[(n + 12) >>> 2] = vl
  copyBytes(fb, fs, fl, a.u8, n + NODE_HEADER)
  copyBytes(vb, vs, vl, a.u8, n + NODE_HEADER + fl)
  return n
}

function tableSet (ks: Keyspace, e: number, fb: Uint8Array, fs: number, fl: number, vb: Uint8Array, vs: number, vl: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  if (hashFind(ks, e, fb, fs, fl)) {
    const n = found.node
    const old = found.len
    if (sizeClass(NODE_HEADER + fl + old) === sizeClass(NODE_HEADER + fl + vl)) {
      a.u32[(n + 12) >>> 2] = vl
      copyBytes(vb, vs, vl, a.u8, n + NODE_HEADER + fl)
      return 0
    }
    const m = newNode(ks, a.u32[(n + 4) >>> 2], fb, fs, fl, vb, vs, vl)
    if (m === 0) return -1
    replaceNode(ks, e, n, m)
    a.free(n, NODE_HEADER + fl + old)
    return 0
  }
  const hash = fieldHash(fb, fs, fl)
  const n = newNode(ks, hash, fb, fs, fl, vb, vs, vl)
  if (n === 0) return -1
  const u8 = a.u8
  const count = rd(u8, h) + 1
  if (count > rd(u8, h + 12) && !resizeTable(ks, e, rd(u8, h + 12) * 2)) {
    a.free(n, NODE_HEADER + fl + vl)
    return -1
  }
  link(ks, e, n)
  wr(a.u8, h, count)
  return 1
}

function link (ks: Keyspace, e: number, n: number): void {
  const a = ks.arena
  const u8 = a.u8
  const h = ks.valOffset(e)
  const b = (rd(u8, h + 8) >>> 2) + (a.u32[(n + 4) >>> 2] & (rd(u8, h + 12) - 1))
  a.u32[n >>> 2] = a.u32[b]
  a.u32[b] = n
}

function replaceNode (ks: Keyspace, e: number, n: number, m: number): void {
  const a = ks.arena
  const u32 = a.u32
  const h = ks.valOffset(e)
  const b = (rd(a.u8, h + 8) >>> 2) + (u32[(n + 4) >>> 2] & (rd(a.u8, h + 12) - 1))
  u32[m >>> 2] = u32[n >>> 2]
  if (u32[b] === n) { u32[b] = m; return }
  for (let p = u32[b]; p !== 0; p = u32[p >>> 2]) if (u32[p >>> 2] === n) { u32[p >>> 2] = m; return }
}

/** A new bucket array of `buckets` (a power of two) holding every node; false when full. */
function resizeTable (ks: Keyspace, e: number, buckets: number): boolean {
  const a = ks.arena
  const nb = a.alloc(buckets * 4)
  if (nb === 0) return false
  const u32 = a.u32
  const h = ks.valOffset(e)
  const ob = rd(a.u8, h + 8)
  const on = rd(a.u8, h + 12)
  u32.fill(0, nb >>> 2, (nb >>> 2) + buckets)
  for (let i = 0; i < on; i++) {
    for (let n = u32[(ob >>> 2) + i]; n !== 0;) {
      const next = u32[n >>> 2]
      const b = (nb >>> 2) + (u32[(n + 4) >>> 2] & (buckets - 1))
      u32[n >>> 2] = u32[b]
      u32[b] = n
      n = next
    }
  }
  if (ob !== 0) a.free(ob, on * 4)
  wr(a.u8, h + 8, nb)
  wr(a.u8, h + 12, buckets)
  return true
}

/** listpack → hashtable (hashTypeConvertListpack); false when the arena is full (unchanged). */
export function hashConvert (ks: Keyspace, e: number): boolean {
  const a = ks.arena
  const h = ks.valOffset(e)
  let u8 = a.u8
  const count = rd(u8, h)
  let buckets = 4
  while (buckets < count) buckets *= 2
  const nb = a.alloc(buckets * 4)
  if (nb === 0) return false
  const nodes: number[] = []
  u8 = a.u8
  const p1 = rd(u8, h + 8)
  const end = p1 + PACK_HEADER + rd(u8, h + 12)
  for (let p = p1 + PACK_HEADER; p1 !== 0 && p < end;) {
    u8 = a.u8
    const fl = rd(u8, p)
    const vl = rd(u8, p + 4 + fl)
    const n = newNode(ks, fieldHash(u8, p + 4, fl), u8, p + 4, fl, u8, p + 8 + fl, vl)
    if (n === 0) {
      for (const m of nodes) a.free(m, NODE_HEADER + a.u32[(m + 8) >>> 2] + a.u32[(m + 12) >>> 2])
      a.free(nb, buckets * 4)
      return false
    }
    nodes.push(n)
    p += 8 + fl + vl
  }
  u8 = a.u8
  a.u32.fill(0, nb >>> 2, (nb >>> 2) + buckets)
  if (p1 !== 0) a.free(p1, rd(u8, p1))
  wr(u8, h + 4, ENC_HASHTABLE)
  wr(u8, h + 8, nb)
  wr(u8, h + 12, buckets)
  for (const n of nodes) link(ks, e, n)
  writes.count++
  return true
}

/** Deletes a field; true if it was there. */
export function hashDelete (ks: Keyspace, e: number, buf: Uint8Array, start: number, len: number): boolean {
  if (!hashFind(ks, e, buf, start, len)) return false
  writes.count++
  const a = ks.arena
  const u8 = a.u8
  const h = ks.valOffset(e)
  if (rd(u8, h + 4) === ENC_LISTPACK) {
    const p = found.item
    const size = 8 + len + found.len
    const used = rd(u8, h + 12)
    const end = rd(u8, h + 8) + PACK_HEADER + used
    u8.copyWithin(p, p + size, end)
    wr(u8, h + 12, used - size)
  } else {
    const n = found.node
    const u32 = a.u32
    const b = (rd(u8, h + 8) >>> 2) + (u32[(n + 4) >>> 2] & (rd(u8, h + 12) - 1))
    if (u32[b] === n) u32[b] = u32[n >>> 2]
    else for (let p = u32[b]; p !== 0; p = u32[p >>> 2]) if (u32[p >>> 2] === n) { u32[p >>> 2] = u32[n >>> 2]; break }
    a.free(n, NODE_HEADER + len + found.len)
  }
  wr(u8, h, rd(u8, h) - 1)
  return true
}

/** Frees everything the hash holds outside its entry. */
export function hashFree (ks: Keyspace, e: number): void {
  const a = ks.arena
  const h = ks.valOffset(e)
  const u8 = a.u8
  const p1 = rd(u8, h + 8)
  if (p1 === 0) return
  if (rd(u8, h + 4) === ENC_LISTPACK) { a.free(p1, rd(u8, p1)); return }
  const buckets = rd(u8, h + 12)
  const u32 = a.u32
  for (let i = 0; i < buckets; i++) {
    for (let n = u32[(p1 >>> 2) + i]; n !== 0;) {
      const next = u32[n >>> 2]
      a.free(n, NODE_HEADER + u32[(n + 8) >>> 2] + u32[(n + 12) >>> 2])
      n = next
    }
  }
  a.free(p1, buckets * 4)
}

/**
 * Keyspace.slide: the block offsets a hash (or a set: its intset is one block, as a listpack is)
 * holds, through plan.to: its block, and for a hashtable every bucket and node link. The blocks
 * have not moved yet: each link is read before it is rewritten.
 */
export function hashRelocate (ks: Keyspace, e: number, plan: SlidePlan): void {
  const a = ks.arena
  const u8 = a.u8
  const h = ks.valOffset(e)
  const p1 = rd(u8, h + 8)
  if (p1 === 0) return
  wr(u8, h + 8, plan.to(p1))
  if (rd(u8, h + 4) !== ENC_HASHTABLE) return
  plan.chains(a.u32, p1 >>> 2, rd(u8, h + 12))
}

/**
 * Calls fn(fieldAt, fieldLen, valueAt, valueLen) for every field, in the encoding's order
 * (insertion order for a listpack, bucket order for a hashtable). fn must not change the hash.
 */
export function hashForEach (ks: Keyspace, e: number, fn: (fa: number, fl: number, va: number, vl: number) => void): void {
  const a = ks.arena
  const u8 = a.u8
  const h = ks.valOffset(e)
  const p1 = rd(u8, h + 8)
  if (p1 === 0) return
  if (rd(u8, h + 4) === ENC_LISTPACK) {
    const end = p1 + PACK_HEADER + rd(u8, h + 12)
    for (let p = p1 + PACK_HEADER; p < end;) {
      const fl = rd(u8, p)
      const vl = rd(u8, p + 4 + fl)
      fn(p + 4, fl, p + 8 + fl, vl)
      p += 8 + fl + vl
    }
    return
  }
  const buckets = rd(u8, h + 12)
  const u32 = a.u32
  for (let i = 0; i < buckets; i++) {
    for (let n = u32[(p1 >>> 2) + i]; n !== 0; n = u32[n >>> 2]) {
      const fl = u32[(n + 8) >>> 2]
      fn(n + NODE_HEADER, fl, n + NODE_HEADER + fl, u32[(n + 12) >>> 2])
    }
  }
}

/**
 * hashForEach over a hashtable-encoded hash, with each field's stored fieldHash (for
 * tableFindHashed in another one).
 */
export function tableForEachHashed (ks: Keyspace, e: number, fn: (fa: number, fl: number, hash: number) => void): void {
  const u8 = ks.arena.u8
  const h = ks.valOffset(e)
  const p1 = rd(u8, h + 8)
  const buckets = rd(u8, h + 12)
  const u32 = ks.arena.u32
  for (let i = 0; i < buckets; i++) {
    for (let n = u32[(p1 >>> 2) + i]; n !== 0; n = u32[n >>> 2]) fn(n + NODE_HEADER, u32[(n + 8) >>> 2], u32[(n + 4) >>> 2])
  }
}

/** Bucket count and block of a hashtable-encoded hash (HSCAN's cursor walks the buckets). */
export function hashBuckets (ks: Keyspace, e: number): { block: number, count: number } {
  const u8 = ks.arena.u8
  const h = ks.valOffset(e)
  return { block: rd(u8, h + 8), count: rd(u8, h + 12) }
}

/** Calls fn for each node of one bucket (HSCAN). */
export function hashBucketForEach (ks: Keyspace, block: number, b: number, fn: (fa: number, fl: number, va: number, vl: number) => void): void {
  const u32 = ks.arena.u32
  for (let n = u32[(block >>> 2) + b]; n !== 0; n = u32[n >>> 2]) {
    const fl = u32[(n + 8) >>> 2]
    fn(n + NODE_HEADER, fl, n + NODE_HEADER + fl, u32[(n + 12) >>> 2])
  }
}

/** Arena bytes the hash holds outside its entry (MEMORY USAGE). */
export function hashMemory (ks: Keyspace, e: number): number {
  const a = ks.arena
  const h = ks.valOffset(e)
  const u8 = a.u8
  const p1 = rd(u8, h + 8)
  if (p1 === 0) return 0
  if (rd(u8, h + 4) === ENC_LISTPACK) return rd(u8, p1)
  let total = a.blockBytes(rd(u8, h + 12) * 4)
  hashForEach(ks, e, (_fa, fl, _va, vl) => { total += a.blockBytes(NODE_HEADER + fl + vl) })
  return total
}

/** Arena bytes a restored hash of these (field, value) lengths takes outside its entry, at most. */
export function hashRestoreBytes (count: number, itemBytes: number, isTable: boolean): number {
  if (!isTable) return classBytes(sizeClass(PACK_HEADER + itemBytes + (itemBytes >>> 1)))
  let buckets = 4
  while (buckets < count) buckets *= 2
  // Each node: header + its bytes, rounded to its class (at most a quarter more, plus 8).
  return classBytes(sizeClass(buckets * 4)) + count * (NODE_HEADER + 8) + itemBytes + (itemBytes >>> 2)
}

/**
 * Arena bytes that setting `pairs` fields with `bytes` of fields and values may take at most,
 * whatever happens on the way (the pack grows, converts to a hashtable, the buckets double):
 * reserved before the first write, so that a full arena changes nothing.
 */
export function hashReserveBytes (ks: Keyspace, e: number, bytes: number, pairs: number): number {
  const items = bytes + 8 * pairs
  let count = 0
  let used = 0
  let buckets = 0
  let isPack = true
  if (e !== 0) {
    const u8 = ks.arena.u8
    const h = ks.valOffset(e)
    count = rd(u8, h)
    isPack = rd(u8, h + 4) === ENC_LISTPACK
    if (isPack) used = rd(u8, h + 12)
    else buckets = rd(u8, h + 12)
  }
  const n = count + pairs
  // New fields as nodes (each rounded up to its class: at most a quarter more, plus 8).
  let need = 2 * items + 32 * pairs
  // A listpack may grow (½ again) and then convert: every field a node, plus the buckets.
  if (isPack) need += 2 * (used + items) + 2 * (used + items) + 48 * n
  else need += 8 * (buckets > n ? buckets : n)
  return need
}

/**
 * A field at random (dictGetFairRandomKey in spirit): a random bucket until a non-empty one
 * (bounded probes, then a walk), then a random node of its chain. The hash must not be empty.
 */
export function hashRandom (ks: Keyspace, e: number): { at: number, len: number, valueAt: number, valueLen: number } {
  const a = ks.arena
  const u8 = a.u8
  const h = ks.valOffset(e)
  const p1 = rd(u8, h + 8)
  if (rd(u8, h + 4) === ENC_LISTPACK) {
    let i = Math.floor(Math.random() * rd(u8, h))
    for (let p = p1 + PACK_HEADER; ; i--) {
      const fl = rd(u8, p)
      const vl = rd(u8, p + 4 + fl)
      if (i === 0) return { at: p + 4, len: fl, valueAt: p + 8 + fl, valueLen: vl }
      p += 8 + fl + vl
    }
  }
  const buckets = rd(u8, h + 12)
  const u32 = a.u32
  const base = p1 >>> 2
  let head = 0
  for (let tries = 0; tries < 64 && head === 0; tries++) head = u32[base + Math.floor(Math.random() * buckets)]
  for (let b = Math.floor(Math.random() * buckets), n = 0; head === 0 && n < buckets; n++, b = (b + 1) & (buckets - 1)) head = u32[base + b]
  let len = 0
  for (let n = head; n !== 0; n = u32[n >>> 2]) len++
  let n = head
  for (let k = Math.floor(Math.random() * len); k > 0; k--) n = u32[n >>> 2]
  const fl = u32[(n + 8) >>> 2]
  return { at: n + NODE_HEADER, len: fl, valueAt: n + NODE_HEADER + fl, valueLen: u32[(n + 12) >>> 2] }
}
