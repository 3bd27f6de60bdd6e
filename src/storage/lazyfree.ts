// Freeing big collections in the background (Redis's lazyfree, for UNLINK): the key leaves the
// index at once, and its elements are freed a budget at a time between batches of commands, so
// unlinking a million-element hash does not stop its shard. A queued value is described by a
// copy of its header (the entry block itself is freed at once): what follows depends on the type.

import type { Keyspace } from './keyspace.js'
import { TYPE_LIST, TYPE_HASH, TYPE_SET, TYPE_ZSET, TYPE_STREAM } from './keyspace.js'
import { readU32LE as rd } from '../bytes.js'
import { ELEM_HEADER_BYTES, listLen, listFirst } from './list.js'
import { zsetDirBytes } from './zset-type.js'
import { STREAM_HEADER_BYTES, streamChunkCount, streamFreeChunksFrom, streamGroupsOfHeader } from './stream-type.js'
import { groupsFreeEffort, groupsFreeList } from './stream-group.js'

/** Collections with more elements than this are freed in the background (LAZYFREE_THRESHOLD). */
export const LAZYFREE_THRESHOLD = 64

const NODE_HEADER = 16 // hash-type.ts nodes: | next | hash | field len | value len | bytes |
const ZNODE_HEADER = 20 // zset-type.ts nodes: | next | hash | f64 score | member len | bytes |
const ENC_INTSET = 2
const ENC_LISTPACK = 0

export interface LazyItem {
  ks: Keyspace
  type: number
  /** The value's header as it was (16 bytes; a list's 12, a stream's 72). */
  hdr: Uint8Array
  /** Progress: a bucket, a chunk, or the next list element. */
  cursor: number
}

/** How many elements the value holds (hash, set, sorted set and list headers start with the count). */
export function elementCount (ks: Keyspace, e: number): number {
  const t = ks.type(e)
  if (t === TYPE_LIST) return listLen(ks, e)
  if (t === TYPE_HASH || t === TYPE_SET || t === TYPE_ZSET) return rd(ks.arena.u8, ks.valOffset(e))
  // lazyfreeGetFreeEffort: a stream's nodes, and its groups with their PELs.
  if (t === TYPE_STREAM) return streamChunkCount(ks, e) + groupsFreeEffort(ks, e)
  return 0
}

/** The queue item for entry e, to be taken before the entry goes (remove with keepValue). */
export function lazyItem (ks: Keyspace, e: number): LazyItem {
  const t = ks.type(e)
  const v = ks.valOffset(e)
  const hdr = ks.arena.u8.slice(v, v + (t === TYPE_LIST ? 12 : t === TYPE_STREAM ? STREAM_HEADER_BYTES : 16))
  return { ks, type: t, hdr, cursor: t === TYPE_LIST ? listFirst(ks, e, 0) : 0 }
}

/** Frees up to about `budget` blocks of the item; true once all of it is free. */
export function freeSome (it: LazyItem, budget: number): boolean {
  const a = it.ks.arena
  const u32 = a.u32
  if (it.type === TYPE_LIST) {
    let n = it.cursor
    while (n !== 0 && budget-- > 0) {
      const next = u32[(n + 4) >>> 2]
      a.free(n, ELEM_HEADER_BYTES + u32[(n + 8) >>> 2])
      n = next
    }
    it.cursor = n
    return n === 0
  }
  if (it.type === TYPE_STREAM) {
    // cursor 0: the groups are still there; then 1 + the chunks freed so far.
    if (it.cursor === 0) { groupsFreeList(it.ks, streamGroupsOfHeader(it.hdr)); it.cursor = 1; budget-- }
    const next = streamFreeChunksFrom(it.ks, it.hdr, it.cursor - 1, budget)
    if (next < 0) return true
    it.cursor = next + 1
    return false
  }
  const enc = rd(it.hdr, 4)
  const p1 = rd(it.hdr, 8)
  const p2 = rd(it.hdr, 12)
  if (it.type === TYPE_ZSET) {
    // p1: the chunk directory, p2: the member dictionary (zset-type.ts).
    if (p1 !== 0) {
      const db = p1 >>> 2
      const chunks = u32[db + 1]
      while (it.cursor < chunks && budget > 0) {
        const blk = u32[db + 2 + it.cursor * 2]
        const cnt = u32[db + 3 + it.cursor * 2]
        for (let i = 0; i < cnt; i++) {
          const node = u32[(blk >>> 2) + 1 + i]
          a.free(node, ZNODE_HEADER + u32[(node + 16) >>> 2])
        }
        a.free(blk, 4 + u32[blk >>> 2] * 4)
        budget -= cnt + 1
        it.cursor++
      }
      if (it.cursor < chunks) return false
      a.free(p1, zsetDirBytes(u32[db]))
    }
    if (p2 !== 0) a.free(p2, 8 + u32[p2 >>> 2] * 4)
    return true
  }
  // Hashes and sets: one block (listpack, intset), or buckets of nodes.
  if (p1 === 0) return true
  if (enc === ENC_LISTPACK || enc === ENC_INTSET) { a.free(p1, rd(a.u8, p1)); return true }
  while (it.cursor < p2 && budget > 0) {
    for (let n = u32[(p1 >>> 2) + it.cursor]; n !== 0;) {
      const next = u32[n >>> 2]
      a.free(n, NODE_HEADER + u32[(n + 8) >>> 2] + u32[(n + 12) >>> 2])
      n = next
      budget--
    }
    it.cursor++
  }
  if (it.cursor < p2) return false
  a.free(p1, p2 * 4)
  return true
}
