// Shard = its databases (Keyspace: index + arena) + expiry + the counters INFO reports. It is
// what command handlers run against; it knows nothing of threads or sockets, so unit tests drive
// it in-process. Lazy expiry follows Redis's expireIfNeeded: a key past its time is deleted on
// access and reported missing.

import { Keyspace } from './keyspace.js'
import { keyHash } from './hash.js'

export const DATABASES = 16

export class Shard {
  readonly index: number
  readonly dbs: (Keyspace | null)[]
  /** The database of the command being run (set by the worker from the request record). */
  ks: Keyspace
  dbIndex = 0
  /** Hash of the key last passed to lookup(): lets an insert after a miss skip rehashing. */
  lastHash = 0
  expiredKeys = 0
  hits = 0
  misses = 0
  /** Overridable clock, for tests with a fake time. */
  clock: () => number = Date.now

  constructor (index = 0) {
    this.index = index
    this.dbs = new Array<Keyspace | null>(DATABASES).fill(null)
    this.ks = this.db(0)
  }

  db (i: number): Keyspace {
    let ks = this.dbs[i]
    if (ks === null) { ks = new Keyspace(); this.dbs[i] = ks }
    return ks
  }

  select (i: number): void {
    if (i !== this.dbIndex || this.ks !== this.dbs[i]) { this.ks = this.db(i); this.dbIndex = i }
  }

  now (): number { return this.clock() }

  /** Entry for key, or 0; deletes it first when it has expired. No hit/miss accounting. */
  lookup (buf: Uint8Array, start: number, len: number): number {
    const ks = this.ks
    const h = this.lastHash = keyHash(buf, start, len)
    const e = ks.find(buf, start, len, h)
    if (e === 0) return 0
    const at = ks.expireAt(e)
    // Redis's keyIsExpired: a key is gone once now > expireAt (at expireAt it still exists).
    if (at !== 0 && at < this.clock()) {
      ks.remove(e)
      this.expiredKeys++
      return 0
    }
    return e
  }

  /** lookup() for reads: counts keyspace hits and misses as Redis's lookupKeyRead does. */
  lookupRead (buf: Uint8Array, start: number, len: number): number {
    const e = this.lookup(buf, start, len)
    if (e === 0) this.misses++
    else this.hits++
    return e
  }

  /** Active expiry for every database: a bounded sweep (called on the worker's idle tick). */
  activeExpire (maxBucketsPerDb: number): number {
    const now = this.clock()
    let deleted = 0
    for (const ks of this.dbs) {
      if (ks === null) continue
      deleted += ks.expireSweep(now, maxBucketsPerDb)
      ks.rehashIdle(64)
    }
    this.expiredKeys += deleted
    return deleted
  }

  flushDb (i: number): void {
    if (this.dbs[i] === null) return
    this.dbs[i] = new Keyspace()
    if (this.dbIndex === i) this.ks = this.dbs[i] as Keyspace
  }

  flushAll (): void {
    for (let i = 0; i < DATABASES; i++) if (this.dbs[i] !== null) this.flushDb(i)
  }

  keyCount (): number {
    let n = 0
    for (const ks of this.dbs) if (ks !== null) n += ks.count
    return n
  }

  expiresCount (): number {
    let n = 0
    for (const ks of this.dbs) if (ks !== null) n += ks.expires
    return n
  }

  usedMemory (): number {
    let n = 0
    for (const ks of this.dbs) if (ks !== null) n += ks.usedMemory
    return n
  }
}
