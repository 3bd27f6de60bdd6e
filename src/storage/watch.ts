// WATCH, on the shard that owns the keys: which watch sessions watch which keys here, and what
// counts as touching them (Redis 7.0's multi.c). A session is a client's WATCHes up to its next
// EXEC, DISCARD or UNWATCH, named by a tag that is unique server-wide. Touching a watched key
// stores the session's tag in its client slot's shared word (server/credits.ts, watchWords),
// which EXEC compares with its own tag: a word left by an older session never matches.
//
// Touches come from the storage write hook (storage/writes.ts): the worker reports the keys of a
// write command that changed anything (or that Redis signals anyway: writes.signals), every deleted entry reports itself, and FLUSHDB, FLUSHALL
// and SWAPDB report the watched keys of the databases they replace. A key that had already
// expired when it was watched ("stale") is not touched by its deletion (nothing changed for the
// client), as in Redis's touchWatchedKey and touchAllWatchedKeysInDb.

import { Buffer } from 'node:buffer'
import type { Keyspace } from './keyspace.js'
import { keyHash } from './hash.js'
import { writes } from './writes.js'

/** `touched`: a change here reached it (stored in the slot's word, which a later session's touch may overwrite). */
interface Watcher { slot: number, tag: number, stale: boolean, touched: boolean }

const DATABASES = 16

function keyString (buf: Uint8Array, start: number, len: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')
}

export class WatchTable {
  /** Per database: key (latin1) → its watchers. */
  private readonly dbs: Array<Map<string, Watcher[]>> = []
  /** Session tag → the [db, key] pairs it watches here (for UNWATCH). */
  private readonly byTag = new Map<number, Array<[number, string]>>()
  /** Watchers here, all databases: 0 keeps the write path to one compare. */
  size = 0
  /**
   * While set, touches are kept here (slot, tag pairs) instead of stored: a script run inside a
   * shard worker with several shards, whose writes may yet be undone (workers/shard-worker.ts
   * runScript stores them once the run completes, drops them when it stops).
   */
  held: number[] | null = null
  /** Which database each Keyspace is: set by the shard so a removal can name its key. */
  dbOf: (ks: Keyspace) => number = () => 0
  private readonly onRemove = (ks: Keyspace, e: number): void => {
    const a = ks.arena
    this.touch(this.dbOf(ks), a.u8, ks.keyOffset(e), ks.keyLen(e), null)
  }

  constructor (public words: Int32Array = new Int32Array(1 << 16)) {
    for (let i = 0; i < DATABASES; i++) this.dbs.push(new Map())
  }

  /**
   * Session `tag` of client `slot` watches a key of database db. Returns the key's expiry time
   * when it has one and has not passed: EXEC fails once that time has passed (the key expired,
   * whoever noticed), as Redis's isWatchedKeyExpired does.
   */
  watch (db: number, ks: Keyspace, buf: Uint8Array, start: number, len: number, slot: number, tag: number, now: number): number {
    const key = keyString(buf, start, len)
    const map = this.dbs[db]
    let list = map.get(key)
    if (list === undefined) { list = []; map.set(key, list) }
    if (list.some(w => w.tag === tag)) return this.deadline(ks, buf, start, len, now)
    const e = ks.find(buf, start, len, keyHash(buf, start, len))
    const at = e === 0 ? 0 : ks.expireAt(e)
    list.push({ slot, tag, stale: at !== 0 && at < now, touched: false })
    let keys = this.byTag.get(tag)
    if (keys === undefined) { keys = []; this.byTag.set(tag, keys) }
    keys.push([db, key])
    if (this.size++ === 0) writes.onRemove = this.onRemove
    return at !== 0 && at >= now ? at : 0
  }

  private deadline (ks: Keyspace, buf: Uint8Array, start: number, len: number, now: number): number {
    const e = ks.find(buf, start, len, keyHash(buf, start, len))
    const at = e === 0 ? 0 : ks.expireAt(e)
    return at !== 0 && at >= now ? at : 0
  }

  /** Ends session `tag` here. */
  unwatch (tag: number): void {
    const keys = this.byTag.get(tag)
    if (keys === undefined) return
    this.byTag.delete(tag)
    for (const [db, key] of keys) {
      const map = this.dbs[db]
      const list = map.get(key)
      if (list === undefined) continue
      const i = list.findIndex(w => w.tag === tag)
      if (i >= 0) { list.splice(i, 1); this.size-- }
      if (list.length === 0) map.delete(key)
    }
    if (this.size === 0) writes.onRemove = null
  }

  /**
   * True if a key session `tag` watches here has expired since (Redis's isWatchedKeyExpired):
   * still present, past its time, and not already expired when it was watched. For an EXEC
   * that reaches the shard before its WATCH's reply reached the client's thread.
   */
  isExpired (tag: number, dbs: ReadonlyArray<Keyspace | null>, now: number): boolean {
    const keys = this.byTag.get(tag)
    if (keys === undefined) return false
    for (const [db, key] of keys) {
      const ks = dbs[db]
      if (ks === null) continue
      const w = this.dbs[db].get(key)?.find(x => x.tag === tag)
      if (w === undefined || w.stale) continue
      const k = Buffer.from(key, 'latin1')
      const e = ks.find(k, 0, k.length, keyHash(k, 0, k.length))
      const at = e === 0 ? 0 : ks.expireAt(e)
      if (at !== 0 && at < now) return true
    }
    return false
  }

  /** True if any key of database db is watched here. */
  watches (db: number): boolean { return this.size !== 0 && this.dbs[db].size !== 0 }

  /**
   * A key of database db changed. `ks` is the database now, to see whether the key still exists
   * (null: it is being deleted).
   */
  touch (db: number, buf: Uint8Array, start: number, len: number, ks: Keyspace | null): void {
    const map = this.dbs[db]
    if (map.size === 0) return
    const list = map.get(keyString(buf, start, len))
    if (list === undefined) return
    for (const w of list) {
      if (w.stale) {
        // Watched after it had expired: its deletion changes nothing the client saw.
        if (ks === null || ks.find(buf, start, len, keyHash(buf, start, len)) === 0) { w.stale = false; continue }
      }
      if (this.held !== null) this.held.push(w.slot, w.tag)
      else this.store(w)
    }
  }

  /** A touch reaches watcher w: its slot's word names the session, and isTouched remembers it. */
  private store (w: Watcher): void {
    Atomics.store(this.words, w.slot, w.tag)
    w.touched = true
  }

  /** Stores a touch of session `tag` that was held back during a script's run (held). */
  storeHeld (slot: number, tag: number): void {
    Atomics.store(this.words, slot, tag)
    const keys = this.byTag.get(tag)
    if (keys === undefined) return
    const [db, key] = keys[0]
    const w = this.dbs[db].get(key)?.find(x => x.tag === tag)
    if (w !== undefined) w.touched = true
  }

  /**
   * True if a key session `tag` watches here was touched. The slot's word says so too, but the
   * client's next session may overwrite it from another shard before a watched EXEC across
   * shards is decided here (server/multi.ts execWatched pipelined behind a new WATCH).
   */
  isTouched (tag: number): boolean {
    const keys = this.byTag.get(tag)
    if (keys === undefined) return false
    for (const [db, key] of keys) {
      if (this.dbs[db].get(key)?.find(x => x.tag === tag)?.touched === true) return true
    }
    return false
  }

  /**
   * Database db's contents are replaced: emptied by FLUSHDB/FLUSHALL (replacedWith null), or
   * swapped with another database's (SWAPDB). Redis's touchAllWatchedKeysInDb.
   */
  replaced (db: number, emptied: Keyspace | null, replacedWith: Keyspace | null, now: number): void {
    const map = this.dbs[db]
    if (map.size === 0) return
    for (const [key, list] of map) {
      const k = Buffer.from(key, 'latin1')
      const h = keyHash(k, 0, k.length)
      const inEmptied = emptied !== null && emptied.find(k, 0, k.length, h) !== 0
      const r = replacedWith === null ? 0 : replacedWith.find(k, 0, k.length, h)
      if (!inEmptied && r === 0) continue
      const replacedExpired = r !== 0 && (replacedWith as Keyspace).expireAt(r) !== 0 && (replacedWith as Keyspace).expireAt(r) < now
      for (const w of list) {
        if (w.stale) {
          if (r === 0) { w.stale = false; continue }
          if (replacedExpired) continue
        } else if (!inEmptied && replacedExpired) {
          w.stale = true
          continue
        }
        this.store(w)
      }
    }
  }
}
