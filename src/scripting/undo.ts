// The undo log of a script run inside a shard worker, with several shards (scripting/in-shard.ts):
// before a write command, each key it writes (commands/written-keys.ts, as WATCH counts them)
// that the run has not written yet is kept as it is: its value as a __dump payload (type,
// encoding flags, TTL and the value: commands/internal.ts valuePayload) and its access clock,
// or its absence. A run that must stop after writing (it needs another shard) puts every key
// back, newest first, and runs again holding every shard. A big value (a queue's list, an events
// stream) is not copied: a copy per run would cost more than the hold, so a write to one stops
// the run (save answers false) and the script runs held.

import { Buffer } from 'node:buffer'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { RAW_FLAG, NO_INT_FLAG, entryBlockBytes } from '../storage/keyspace.js'
import { TYPES, PAYLOAD_HEADER_BYTES } from '../storage/types.js'
import { keyHash } from '../storage/hash.js'
import { valuePayload } from '../commands/internal.js'
import { listLen } from '../storage/list.js'
import { hashLen } from '../storage/hash-type.js'
import { setLen } from '../storage/set-type.js'
import { zsetLen } from '../storage/zset-type.js'
import { streamLen } from '../storage/stream-type.js'

interface Kept { db: number, key: Buffer, payload: Buffer | null, clock: number }

/** Past this many keys kept, a set finds the ones kept already (below it, a scan costs less than the strings). */
const SCAN_MAX = 16
/** The biggest value kept: a string's bytes, a collection's elements. */
const KEEP_MAX_BYTES = 16384
const KEEP_MAX_ELEMENTS = 128

/** Too big to copy for an undo (O(1): the type's own count). */
function isBig (ks: Keyspace, e: number): boolean {
  switch (TYPES[ks.type(e)].name) {
    case 'string': return ks.valLen(e) > KEEP_MAX_BYTES
    case 'list': return listLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'hash': return hashLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'set': return setLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'zset': return zsetLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'stream': return streamLen(ks, e) > KEEP_MAX_ELEMENTS
    default: return true
  }
}

export class UndoLog {
  private readonly kept: Kept[] = []
  /** "db:key" of the keys kept (latin1), once there are more than SCAN_MAX. */
  private readonly seen = new Set<string>()

  get isEmpty (): boolean { return this.kept.length === 0 }

  /** Keeps key (in database db) as it is now, unless this run kept it already; false (nothing kept) when its value is too big. */
  save (shard: Shard, db: number, buf: Uint8Array, start: number, len: number): boolean {
    if (this.isKept(db, buf, start, len)) return true
    const key = Buffer.from(buf.subarray(start, start + len))
    const ks = shard.dbs[db]
    // Found as it is, expired or not, with no access: an expired key comes back expired.
    const e = ks === null ? 0 : ks.find(key, 0, len, keyHash(key, 0, len))
    if (e !== 0 && isBig(ks as Keyspace, e)) return false
    this.kept.push(e === 0 ? { db, key, payload: null, clock: 0 } : { db, key, payload: valuePayload(ks as Keyspace, e), clock: (ks as Keyspace).clock(e) })
    const n = this.kept.length
    if (n === SCAN_MAX + 1) for (const k of this.kept) this.seen.add(`${k.db}:${k.key.toString('latin1')}`)
    else if (n > SCAN_MAX + 1) this.seen.add(`${db}:${key.toString('latin1')}`)
    return true
  }

  private isKept (db: number, buf: Uint8Array, start: number, len: number): boolean {
    const kept = this.kept
    if (kept.length > SCAN_MAX) return this.seen.has(`${db}:${Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')}`)
    for (let i = 0; i < kept.length; i++) {
      const k = kept[i]
      if (k.db !== db || k.key.length !== len) continue
      let j = 0
      while (j < len && k.key[j] === buf[start + j]) j++
      if (j === len) return true
    }
    return false
  }

  /** Puts every kept key back as it was, newest first; false if an arena had no room for one. */
  restore (shard: Shard): boolean {
    let isWhole = true
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const { db, key, payload, clock } = this.kept[i]
      const ks = shard.db(db)
      const h = keyHash(key, 0, key.length)
      const e = ks.find(key, 0, key.length, h)
      if (e !== 0) ks.remove(e)
      if (payload === null) continue
      const type = payload[0] & 7
      const ops = TYPES[type]
      const dataLen = payload.length - PAYLOAD_HEADER_BYTES
      ks.arena.reserve(entryBlockBytes(key.length, ops.valueBytes(dataLen)) + ops.restoreBytes(payload, PAYLOAD_HEADER_BYTES, payload.length))
      const n = ks.insert(key, 0, key.length, h, type, ops.valueBytes(dataLen))
      if (n === 0) { isWhole = false; continue }
      ks.setEncFlags(n, payload[0] & (RAW_FLAG | NO_INT_FLAG))
      if (!ops.restore(ks, n, payload, PAYLOAD_HEADER_BYTES, payload.length)) { ks.remove(n); isWhole = false; continue }
      ks.setExpireAt(n, payload.readDoubleLE(1))
      ks.setClock(n, clock)
    }
    return isWhole
  }

  clear (): void {
    if (this.kept.length === 0) return
    this.kept.length = 0
    if (this.seen.size !== 0) this.seen.clear()
  }
}
