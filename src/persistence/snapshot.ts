// BGSAVE without fork, one shard's side (Dragonfly's way). The BGSAVE request reaches every shard
// at one point of the command order (route 'all' with sequencer tickets): that is the cut. From
// there the shard walks its databases in the background, a budget of keys per pass of the worker
// loop between request batches, encoding each key as RDB records into chunks of bytes. A key
// about to change before the walk reached it is encoded first, as it was at the cut: the worker
// calls touchKey for every key a write command names (commands/written-keys.ts) and
// writes.beforeRemove catches deletions by any path (expiry, eviction); keys made after the cut
// are never encoded, because making one touches its slot first.
//
// The walk's unit is a slot: the low `bits` bits of the bucket index (the table's size at the
// cut). Index tables only grow, so a slot's entries are always in the buckets those bits name,
// however the incremental rehash moves them; a slot is encoded whole, at once, and marked done,
// so no key is written twice and none is missed. One byte per slot, at most 2^20 per database.

import type { Keyspace } from '../storage/keyspace.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_STREAM } from '../storage/keyspace.js'
import { DATABASES } from '../storage/shard.js'
import { keyHash } from '../storage/hash.js'
import { writes } from '../storage/writes.js'
import { valuePayload } from '../commands/internal.js'
import { libraryCodes } from '../commands/functions.js'
import { ByteWriter } from './listpack.js'
import { encodeValue, saveString, saveAccessInfo } from './rdb-value.js'
import { encodeStream } from './rdb-stream.js'
import { saveWords, W_LAST_SAVED_ID } from './save-state.js'

const RDB_OPCODE_FUNCTION2 = 0xf5
const RDB_OPCODE_EXPIRETIME_MS = 0xfc
const MAX_SLOT_BITS = 20
/** Chunks handed over once this big (their own ArrayBuffers, so they transfer without a copy). */
const CHUNK_BYTES = 256 * 1024

/** One database's encoded records. */
export interface DbPart { db: number, keys: number, expires: number, chunks: Uint8Array[] }
/** What a shard hands the joiner: its databases' records and (the hub) the function libraries. */
export interface ShardPart { shard: number, id: number, dbs: DbPart[], functions: Uint8Array[] }

interface Walk {
  ks: Keyspace
  mask: number
  done: Uint8Array
  /** Next slot the background walk looks at. */
  next: number
  keys: number
  expires: number
  w: ByteWriter
  chunks: Uint8Array[]
}

/** The hot path's one check: a snapshot is being taken on this shard. */
export const snapshot = { active: false, id: 0, keysDone: 0, keysTotal: 0 }
let walks: Array<Walk | null> = []
let at = 0
let functions: Uint8Array[] = []
/** The shard's dirty count at the cut: its last save once this BGSAVE succeeds. */
let dirtyAtCut = 0

/** The cut: every database's keys as they are now will be in the file, and nothing made later. */
export function startSnapshot (shard: Shard, id: number): void {
  // A compaction's copy would need the removal hook too: dropped, it starts again after the save.
  shard.dropCopy(true)
  walks = []
  snapshot.keysTotal = 0
  for (let db = 0; db < DATABASES; db++) {
    const ks = shard.dbs[db]
    if (ks === null || ks.count === 0) { walks.push(null); continue }
    let bits = 31 - Math.clz32(ks.buckets)
    if (bits > MAX_SLOT_BITS) bits = MAX_SLOT_BITS
    walks.push({ ks, mask: (1 << bits) - 1, done: new Uint8Array(1 << bits), next: 0, keys: 0, expires: 0, w: new ByteWriter(CHUNK_BYTES + 4096), chunks: [] })
    snapshot.keysTotal += ks.count
  }
  at = 0
  functions = []
  const libs = shard.index === 0 ? libraryCodes() : []
  if (libs.length > 0) {
    const w = new ByteWriter(1024)
    for (const code of libs) { w.byte(RDB_OPCODE_FUNCTION2); saveString(w, code, 0, code.length) }
    functions.push(new Uint8Array(w.result))
  }
  dirtyAtCut = shard.dirty
  cutId = id
  snapshot.id = id
  snapshot.keysDone = 0
  snapshot.active = true
  writes.beforeRemove = beforeRemove
}

/** The id of the last cut whose save has not been seen to succeed (0: none). */
let cutId = 0

/**
 * SAVE's cut on this shard: as a BGSAVE's, changes count from here only once the file is written
 * (a failed SAVE keeps them, as Redis's dirty stays when rdbSave fails).
 */
export function markSaveCut (shard: Shard, id: number): void {
  dirtyAtCut = shard.dirty
  cutId = id
}

/** FLUSHALL saved the empty data set: no changes since, whatever cut was pending. */
export function dropSaveCut (shard: Shard): void {
  cutId = 0
  shard.dirtyAtSave = shard.dirty
}

/** Once the BGSAVE of this shard's last cut succeeded, changes count from that cut. */
export function syncDirty (shard: Shard): void {
  if (cutId !== 0 && Atomics.load(saveWords().i32, W_LAST_SAVED_ID) === cutId) {
    shard.dirtyAtSave = dirtyAtCut
    cutId = 0
  }
}

/**
 * One key's RDB record (rdbSaveKeyValuePair): its expire time, its access info under an LRU or LFU
 * policy, the type, the key and the object. SAVE and BGSAVE both write keys with it. True if the
 * key has a TTL (RESIZEDB counts them).
 */
export function encodeRecord (w: ByteWriter, ks: Keyspace, e: number, now: number): boolean {
  const expireAt = ks.expireAt(e)
  if (expireAt !== 0) {
    w.byte(RDB_OPCODE_EXPIRETIME_MS)
    w.need(8)
    w.buf.writeBigInt64LE(BigInt(Math.round(expireAt)), w.len)
    w.len += 8
  }
  saveAccessInfo(w, ks.clock(e), now)
  const key = ks.arena.u8.subarray(ks.keyOffset(e), ks.keyOffset(e) + ks.keyLen(e))
  if (ks.type(e) === TYPE_STREAM) encodeStream(w, ks, e, key)
  else encodeValue(w, valuePayload(ks, e), key)
  return expireAt !== 0
}

function encodeKey (walk: Walk, e: number): void {
  if (encodeRecord(walk.w, walk.ks, e, Date.now())) walk.expires++
  walk.keys++
  snapshot.keysDone++
}

let current: Walk | null = null
const encodeCurrent = (e: number): void => { encodeKey(current as Walk, e) }

function encodeSlot (walk: Walk, slot: number): void {
  walk.done[slot] = 1
  current = walk
  walk.ks.forSlot(slot, walk.mask, encodeCurrent)
  current = null
  if (walk.w.len >= CHUNK_BYTES) flushChunk(walk)
}

function flushChunk (walk: Walk): void {
  if (walk.w.len === 0) return
  walk.chunks.push(new Uint8Array(walk.w.result))
  walk.w.len = 0
}

function walkOf (ks: Keyspace): Walk | null {
  for (const w of walks) if (w !== null && w.ks === ks) return w
  return null
}

/** Before a key of database db changes: encode its slot first if the walk has not reached it. */
export function touchKey (db: number, buf: Uint8Array, start: number, len: number): void {
  const walk = walks[db]
  if (walk === null || walk === undefined) return
  const slot = (keyHash(buf, start, len) >>> 5) & walk.mask
  if (walk.done[slot] === 0) encodeSlot(walk, slot)
}

function beforeRemove (ks: Keyspace, e: number): void {
  const walk = walkOf(ks)
  if (walk === null) return
  const slot = (ks.arena.u32[(e + 4) >>> 2] >>> 5) & walk.mask
  if (walk.done[slot] === 0) encodeSlot(walk, slot)
}

/** Before database db is dropped or swapped as a whole (FLUSHDB, SWAPDB): the rest of it now. */
export function finishDb (db: number): void {
  const walk = walks[db]
  if (walk === null || walk === undefined) return
  for (let s = walk.next; s <= walk.mask; s++) if (walk.done[s] === 0) encodeSlot(walk, s)
  walk.next = walk.mask + 1
}

/** Everything left, now (before the databases are lent to another thread). */
export function finishAll (): void {
  for (let db = 0; db < walks.length; db++) finishDb(db)
}

/**
 * One pass of the background walk: slots until about `budget` keys were encoded. True once
 * every database is done (takeSnapshot then hands the result over).
 */
export function snapshotStep (budget: number): boolean {
  const start = snapshot.keysDone
  let slots = 0
  while (at < walks.length) {
    const walk = walks[at]
    if (walk === null || walk.next > walk.mask) { at++; continue }
    const s = walk.next++
    if (walk.done[s] === 0) encodeSlot(walk, s)
    if (snapshot.keysDone - start >= budget || ++slots >= budget * 8) return false
  }
  return true
}

/** The finished snapshot's records; the shard is free of it afterwards. */
export function takeSnapshot (shard: number): ShardPart {
  const dbs: DbPart[] = []
  for (let db = 0; db < walks.length; db++) {
    const walk = walks[db]
    if (walk === null) continue
    flushChunk(walk)
    if (walk.keys > 0) dbs.push({ db, keys: walk.keys, expires: walk.expires, chunks: walk.chunks })
  }
  const part: ShardPart = { shard, id: snapshot.id, dbs, functions }
  endSnapshot()
  return part
}

/** FLUSHALL during BGSAVE: Redis kills the child; here the records are dropped. */
export function abortSnapshot (): void {
  cutId = 0
  endSnapshot()
}

function endSnapshot (): void {
  walks = []
  functions = []
  current = null
  snapshot.active = false
  writes.beforeRemove = null
}
