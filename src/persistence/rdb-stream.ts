// A stream in Redis 7.0's RDB encoding (RDB_TYPE_STREAM_LISTPACKS_2, rdbSaveObject): each chunk
// as the listpack node Redis keeps under its rax key (the master id, 16 bytes big-endian), then
// the length, the last, first and max-deleted ids, entries-added, and the consumer groups with
// their pending entries and consumers. A node's listpack is Redis's: the master entry (live
// count, deleted count, the master fields, 0), then per entry its flags, the ms and seq
// differences from the master id, the fields unless they are the master's, the values, and the
// number of elements it took.

import { Buffer } from 'node:buffer'
import type { Keyspace } from '../storage/keyspace.js'
import { ByteWriter, ListpackWriter } from './listpack.js'
import { RDB_BAD, type RdbReader, listpackItems, saveLen, saveString } from './rdb-value.js'
import { TYPE_STREAM } from '../storage/keyspace.js'
import { parseBigInt64 } from '../protocol/ascii.js'
import {
  type StreamId, ent, pair, pairsBegin, pairNext, idMs, idSeq, streamChunksForEach, streamLen, streamLastId, streamFirstId,
  streamMaxDeletedId, streamEntriesAdded, StreamId as Id, ChunkWriter, idSet, idWrite,
} from '../storage/stream-type.js'
import {
  groupCount, groupAt, groupNameAt, groupNameLen, groupLastId, groupEntriesRead, consumerCount, consumerAt, consumerNameAt,
  consumerNameLen, consumerSeen, pelCount, pelAt, recId, recTime, recCount, recConsumer,
} from '../storage/stream-group.js'

const RDB_TYPE_STREAM_LISTPACKS_2 = 19

/** rdbSaveLen of a u64 (ids and counters can pass 2^53). */
function saveLen64 (w: ByteWriter, v: bigint): void {
  if (v < 0xffffffffn + 1n) { saveLen(w, Number(v)); return }
  w.need(9)
  w.buf[w.len] = 0x81
  w.buf.writeBigUInt64BE(v, w.len + 1)
  w.len += 9
}

/** streamEncodeID: ms and seq as big-endian u64s (a rax key, or a PEL entry written raw). */
function rawId (w: ByteWriter, id: StreamId): void {
  w.need(16)
  w.buf.writeBigUInt64BE(idMs(id), w.len)
  w.buf.writeBigUInt64BE(idSeq(id), w.len + 8)
  w.len += 16
}

function int (lp: ListpackWriter, v: bigint | number): void {
  const b = Buffer.from(String(v), 'latin1')
  lp.add(b, 0, b.length)
}

/** rdbSaveMillisecondTime: an int64, little-endian. */
function msTime (w: ByteWriter, ms: number): void {
  w.need(8)
  w.buf.writeBigInt64LE(BigInt(Math.trunc(ms)), w.len)
  w.len += 8
}

/** Writes the RDB type byte and object of stream entry e. */
export function encodeStream (w: ByteWriter, ks: Keyspace, e: number, key: Uint8Array | null = null): void {
  const u8 = (): Uint8Array => ks.arena.u8
  const nodes: Array<[Buffer, Buffer]> = []
  const lp = new ListpackWriter()
  let master: StreamId = new Id()
  let isOpen = false
  const close = (): void => {
    if (!isOpen) return
    const key = new ByteWriter(16)
    rawId(key, master)
    nodes.push([Buffer.from(key.result), Buffer.from(lp.finish())])
    isOpen = false
  }
  streamChunksForEach(ks, e, (m, live, deleted, fields) => {
    close()
    master = Object.assign(new Id(), m)
    lp.start()
    isOpen = true
    int(lp, live)
    int(lp, deleted)
    int(lp, fields.length)
    for (const [at, l] of fields) lp.add(u8(), at, l)
    int(lp, 0)
  }, (_isDeleted, isSame) => {
    int(lp, ent.flags)
    int(lp, BigInt.asIntN(64, idMs(ent.id) - idMs(master)))
    int(lp, BigInt.asIntN(64, idSeq(ent.id) - idSeq(master)))
    if (!isSame) int(lp, ent.nfields)
    pairsBegin(ks)
    while (pairNext(u8())) {
      if (!isSame) lp.add(u8(), pair.fa, pair.fl)
      lp.add(u8(), pair.va, pair.vl)
    }
    int(lp, isSame ? ent.nfields + 3 : 2 * ent.nfields + 4)
  })
  close()
  w.byte(RDB_TYPE_STREAM_LISTPACKS_2)
  if (key !== null) saveString(w, key, 0, key.length)
  saveLen(w, nodes.length)
  for (const [key, pack] of nodes) {
    saveString(w, key, 0, key.length)
    saveString(w, pack, 0, pack.length)
  }
  const id = new Id()
  saveLen(w, streamLen(ks, e))
  for (const get of [streamLastId, streamFirstId, streamMaxDeletedId]) {
    get(ks, e, id)
    saveLen64(w, idMs(id))
    saveLen64(w, idSeq(id))
  }
  saveLen64(w, BigInt(streamEntriesAdded(ks, e)))
  const groups = groupCount(ks, e)
  saveLen(w, groups)
  for (let i = 0; i < groups; i++) {
    const g = groupAt(ks, e, i)
    saveString(w, u8(), groupNameAt(g), groupNameLen(ks, g))
    groupLastId(ks, g, id)
    saveLen64(w, idMs(id))
    saveLen64(w, idSeq(id))
    // entries_read is a long long, -1 when unknown: saved as the u64 of its bits.
    saveLen64(w, BigInt.asUintN(64, BigInt(groupEntriesRead(ks, g))))
    const records = pelCount(ks, g)
    saveLen(w, records)
    const byConsumer = new Map<number, number[]>()
    for (let j = 0; j < records; j++) {
      const r = pelAt(ks, g, j)
      rawId(w, recId(ks, r, id))
      msTime(w, recTime(ks, r))
      saveLen(w, recCount(ks, r))
      const c = recConsumer(ks, r)
      const list = byConsumer.get(c) ?? []
      list.push(r)
      byConsumer.set(c, list)
    }
    const consumers = consumerCount(ks, g)
    saveLen(w, consumers)
    for (let j = 0; j < consumers; j++) {
      const c = consumerAt(ks, g, j)
      saveString(w, u8(), consumerNameAt(c), consumerNameLen(ks, c))
      msTime(w, consumerSeen(ks, c))
      const mine = byConsumer.get(c) ?? []
      saveLen(w, mine.length)
      for (const r of mine) rawId(w, recId(ks, r, id))
    }
  }
}

// --- RESTORE: an RDB stream into storage/types.ts's stream payload ------------------------------
// The payload (stream-type.ts's streamEntriesDump and stream-group.ts's groupsDump): the 64-byte
// header (length, directory 0, last, first and max-deleted ids as u32 LE words, entries added as
// two u32), u32 chunks, (u32 bytes, chunk)*, then the groups. Each listpack node becomes one chunk
// with the same entries, deleted ones included, so node counts and trimming stay Redis's.

function u64Words (v: bigint): [number, number] { return [Number(v >> 32n) >>> 0, Number(v & 0xffffffffn)] }

/** An id as stream-type.ts lays it out (idWrite: four u32 words). */
function idWords (w: ByteWriter, ms: bigint, seq: bigint): void {
  w.need(16)
  idWrite(w.buf, w.len, idOf(ms, seq))
  w.len += 16
}

function u32 (w: ByteWriter, v: number): void { w.need(4); w.buf.writeUInt32LE(v, w.len); w.len += 4 }
function f64 (w: ByteWriter, v: number): void { w.need(8); w.buf.writeDoubleLE(v, w.len); w.len += 8 }

/** A listpack integer element (lpForEach gives integers as their decimal text). */
function intOf (b: Buffer): bigint {
  const v = parseBigInt64(b, 0, b.length)
  if (v === null) throw RDB_BAD
  return v
}

/** One listpack node as a chunk (its bytes, header included). */
function nodeChunk (key: Buffer, lp: Buffer): Uint8Array {
  if (key.length !== 16) throw RDB_BAD
  const masterMs = key.readBigUInt64BE(0)
  const masterSeq = key.readBigUInt64BE(8)
  const items = listpackItems(lp)
  let i = 0
  const next = (): Buffer => { if (i >= items.length) throw RDB_BAD; return items[i++] }
  const live = Number(intOf(next()))
  const deleted = Number(intOf(next()))
  const nf = Number(intOf(next()))
  const fields: Buffer[] = []
  for (let k = 0; k < nf; k++) fields.push(next())
  if (intOf(next()) !== 0n) throw RDB_BAD
  const chunk = new ChunkWriter(idOf(masterMs, masterSeq), fields, lp.length + 64)
  let count = 0
  while (i < items.length) {
    const flags = Number(intOf(next()))
    // Deltas from the master id, as int64s that wrap as Redis's u64 arithmetic does.
    const ms = BigInt.asUintN(64, masterMs + intOf(next()))
    const seq = BigInt.asUintN(64, masterSeq + intOf(next()))
    const isSame = (flags & 2) !== 0
    const n = isSame ? nf : Number(intOf(next()))
    const own: Buffer[] | null = isSame ? null : []
    const values: Buffer[] = []
    for (let k = 0; k < n; k++) {
      if (own !== null) own.push(next())
      values.push(next())
    }
    next() // lp-count
    chunk.entry(flags, idOf(ms, seq), own, values)
    count++
  }
  if (count !== live + deleted || live === 0) throw RDB_BAD
  return chunk.finish(live, deleted, lp.length)
}

function idOf (ms: bigint, seq: bigint): StreamId { return idSet(new Id(), ms, seq) }

/** The value payload of an RDB_TYPE_STREAM_LISTPACKS_2 object read from r. */
export function decodeStream (r: RdbReader): Buffer {
  const nodes = r.len()
  if (nodes < 0) throw RDB_BAD
  const chunks: Uint8Array[] = []
  for (let k = 0; k < nodes; k++) {
    const key = r.string()
    chunks.push(nodeChunk(Buffer.from(key), Buffer.from(r.string())))
  }
  const length = r.len64()
  const ids: bigint[] = []
  for (let k = 0; k < 6; k++) ids.push(r.len64())
  const added = r.len64()
  const w = new ByteWriter()
  w.byte(TYPE_STREAM)
  f64(w, 0)
  // The 64-byte header.
  u32(w, Number(length))
  u32(w, 0)
  idWords(w, ids[0], ids[1])
  idWords(w, ids[2], ids[3])
  idWords(w, ids[4], ids[5])
  const [ah, al] = u64Words(added)
  u32(w, ah)
  u32(w, al)
  u32(w, chunks.length)
  for (const c of chunks) { u32(w, c.length); w.bytes(c) }
  const groups = r.len()
  if (groups < 0) throw RDB_BAD
  u32(w, groups)
  for (let g = 0; g < groups; g++) {
    lenPrefixed(w, r.string())
    idWords(w, r.len64(), r.len64())
    f64(w, Number(BigInt.asIntN(64, r.len64())))
    const records = r.len()
    if (records < 0) throw RDB_BAD
    const pel: Array<[Buffer, number, number]> = []
    for (let k = 0; k < records; k++) {
      const id = Buffer.from(r.raw(16))
      const time = r.msTime()
      const count = r.len()
      if (count < 0) throw RDB_BAD
      pel.push([id, time, count])
    }
    const consumers = r.len()
    if (consumers < 0) throw RDB_BAD
    u32(w, consumers)
    const owner = new Map<string, number>()
    for (let k = 0; k < consumers; k++) {
      lenPrefixed(w, r.string())
      f64(w, r.msTime())
      const n = r.len()
      if (n < 0) throw RDB_BAD
      for (let j = 0; j < n; j++) owner.set(r.raw(16).toString('latin1'), k)
    }
    u32(w, pel.length)
    for (const [id, time, count] of pel) {
      const k = owner.get(id.toString('latin1'))
      // A pending entry no consumer holds cannot be restored (Redis refuses it too).
      if (k === undefined) throw RDB_BAD
      idWords(w, id.readBigUInt64BE(0), id.readBigUInt64BE(8))
      f64(w, time)
      f64(w, count)
      u32(w, k)
    }
  }
  return Buffer.from(w.result)
}

function lenPrefixed (w: ByteWriter, b: Buffer): void { u32(w, b.length); w.bytes(b) }
