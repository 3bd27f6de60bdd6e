// The undo log of a script run inside a shard worker, with several shards (scripting/in-shard.ts):
// before a write command, each key it writes (commands/written-keys.ts, as WATCH counts them)
// that the run has not written yet is kept as it is: its value as a __dump payload (type,
// encoding flags, TTL and the value: commands/internal.ts valuePayload) and its access clock,
// or its absence. A run that must stop after writing (it needs another shard) puts every key
// back, newest first, and runs again holding every shard.

import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { RAW_FLAG, NO_INT_FLAG, entryBlockBytes } from '../storage/keyspace.js'
import { TYPES, PAYLOAD_HEADER_BYTES } from '../storage/types.js'
import { keyHash } from '../storage/hash.js'
import { valuePayload } from '../commands/internal.js'

interface Kept { db: number, key: Buffer, payload: Buffer | null, clock: number }

export class UndoLog {
  private readonly kept: Kept[] = []
  /** "db:key" of the keys kept (latin1). */
  private readonly seen = new Set<string>()

  get isEmpty (): boolean { return this.kept.length === 0 }

  /** Keeps key (in database db) as it is now, unless this run kept it already. */
  save (shard: Shard, db: number, buf: Uint8Array, start: number, len: number): void {
    const key = Buffer.from(buf.subarray(start, start + len))
    const id = `${db}:${key.toString('latin1')}`
    if (this.seen.has(id)) return
    this.seen.add(id)
    const ks = shard.dbs[db]
    // Found as it is, expired or not, with no access: an expired key comes back expired.
    const e = ks === null ? 0 : ks.find(key, 0, len, keyHash(key, 0, len))
    this.kept.push(e === 0 ? { db, key, payload: null, clock: 0 } : { db, key, payload: valuePayload(ks as Keyspace, e), clock: (ks as Keyspace).clock(e) })
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
    this.seen.clear()
  }
}
