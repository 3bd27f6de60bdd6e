// Client-side caching (CLIENT TRACKING), on the shard that owns the keys: Redis 7.0's tracking.c.
// In the default mode a key read by a tracking client is remembered here (key name → the ids of
// the clients that read it, whatever the database, as Redis keys its table by name alone); when
// anyone modifies it (a write command that changed something, a deletion by expiry or eviction)
// every client that read it gets one invalidation and the key is forgotten. Clients in BCAST mode
// are not remembered: while any exists, the keys a command modified go to the producers (the
// I/O threads) that hold BCAST clients, which match them against their clients' prefixes
// (server/tracking.ts). Nothing here runs while no client tracks: the read path costs one flag
// test (REQ_TRACK on the request), the write path one size test and one shared word.
//
// Who tracks is in shared words per client slot (written by the client's thread, read here):
// the tracking client's id (0: not tracking), its options, its REDIRECT target (id and slot),
// the id of the connection in each slot and the producer each slot belongs to. A remembered
// (id, slot) pair whose slot no longer holds that tracking client is skipped, as Redis skips an
// id that no longer names a tracking client.
//
// Invalidations go to the client's producer as RESP_PUSH records (| 4 | op | slot | id | aux |
// key |), queued in `out` while the command runs and sent by the worker after its reply, so
// every other client's invalidation reaches its thread before the reply to anything it sends to
// this shard afterwards. The writer's own go just before its reply, marked TRK_AFTER: its thread
// writes them right after that reply, as Redis 7.0 sends a current client's invalidations after
// its reply and before anything else.
import { Buffer } from 'node:buffer'


/** Client slots: server/credits.ts CREDIT_SLOTS (storage does not import server). */
export const CREDIT_SLOTS_COUNT = 1 << 16

/** RESP_PUSH payload kind of tracking records (pub/sub's kinds are 0-3). */
export const PUSH_TRACKING = 4
/** Invalidate one key for client (slot, id); aux 1: it is a REDIRECT target. */
export const TRK_KEY = 0
/** Client (slot, id) redirects to aux, which is gone: tracking-redir-broken. */
export const TRK_BROKEN = 1
/** FLUSHDB/FLUSHALL: a null invalidation for client (slot, id); aux 1: it is a REDIRECT target. */
export const TRK_NULL = 2
/** Keys a command modified, for the thread's BCAST clients: slot = the writer, then | u32 len | key |... */
export const TRK_BCAST = 3
/** A ready message for REDIRECT target (slot, id) of another thread, passed on by shard 0 (byte 2: 1 = null). */
export const TRK_RELAY = 4
/** Byte 2 of a TRK_KEY or TRK_NULL record: for the client whose request made it, after that request's reply. */
export const TRK_AFTER = 1

/** Options word bits. */
export const OPT_BCAST = 1
export const OPT_NOLOOP = 2

// Global words, then one array of CREDIT_SLOTS words per field.
/** Tracking clients on every thread (INFO tracking_clients). */
export const G_CLIENTS = 0
/** BCAST clients on every thread: while 0 no shard reports modified keys. */
export const G_BCAST = 1
/** BCAST clients per producer (G_BCAST_OF + producer index), up to MAX_PRODUCERS. */
export const G_BCAST_OF = 2
export const MAX_PRODUCERS = 60
/** tracking-table-max-keys, two words (low, high 32 bits; 0: no limit). */
export const G_MAX_KEYS = 62
/**
 * Keys each shard remembers (G_KEYS_OF + shard index; their sum is tracking_total_keys): a word
 * per shard rather than one total, so a replaced shard (whose table died with it) starts at 0.
 */
export const G_KEYS_OF = 64
const MAX_SHARDS = 256
const GLOBALS = G_KEYS_OF + MAX_SHARDS

const F_CONN = 0
const F_PROD = 1
const F_ON = 2
const F_OPTS = 3
const F_REDIR = 4
const F_RSLOT = 5
const FIELDS = 6

/** Bytes of the tracking words (inside the credits buffer, server/credits.ts). */
export const TRACKING_BYTES = (GLOBALS + FIELDS * CREDIT_SLOTS_COUNT) * 4

/** The shared tracking words over a buffer region. */
export class TrackingWords {
  readonly g: Int32Array
  /** Id of the connection in each slot (0: free). */
  readonly conn: Int32Array
  /** Producer index of each slot's thread. */
  readonly prod: Int32Array
  /** Id of the tracking client in each slot (0: not tracking). */
  readonly on: Int32Array
  readonly opts: Int32Array
  /** REDIRECT target's id (0: none) and slot. */
  readonly redir: Int32Array
  readonly rslot: Int32Array
  constructor (sab: SharedArrayBuffer, offset: number) {
    this.g = new Int32Array(sab, offset, GLOBALS)
    const field = (f: number): Int32Array => new Int32Array(sab, offset + (GLOBALS + f * CREDIT_SLOTS_COUNT) * 4, CREDIT_SLOTS_COUNT)
    this.conn = field(F_CONN)
    this.prod = field(F_PROD)
    this.on = field(F_ON)
    this.opts = field(F_OPTS)
    this.redir = field(F_REDIR)
    this.rslot = field(F_RSLOT)
  }
}

/** tracking-table-max-keys, as CONFIG GET prints it. */
export function maxKeysOf (w: TrackingWords): bigint {
  return (BigInt(w.g[G_MAX_KEYS + 1] >>> 0) << 32n) | BigInt(w.g[G_MAX_KEYS] >>> 0)
}

export function setMaxKeys (w: TrackingWords, v: bigint): void {
  Atomics.store(w.g, G_MAX_KEYS + 1, Number((v >> 32n) & 0xffffffffn) | 0)
  Atomics.store(w.g, G_MAX_KEYS, Number(v & 0xffffffffn) | 0)
}

export interface TrackingPush { producer: number, payload: Buffer }

// Node's Buffer.prototype.latin1Slice reads a plain Uint8Array too: half the cost of a Buffer
// view plus toString per key (~50 ns against ~105); the view is the fallback where it is missing.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, from: number, to: number) => string }).latin1Slice

function keyString (buf: Uint8Array, start: number, len: number): string {
  return latin1Slice !== undefined ? latin1Slice.call(buf, start, start + len) : Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')
}

function header (op: number, slot: number, id: number, aux: number, extra: number): Buffer {
  const b = Buffer.allocUnsafe(16 + extra)
  b[0] = PUSH_TRACKING
  b[1] = op
  b[2] = 0
  b[3] = 0
  b.writeUInt32LE(slot, 4)
  b.writeUInt32LE(id >>> 0, 8)
  b.writeUInt32LE(aux >>> 0, 12)
  return b
}

export class TrackingTable {
  /** Key (latin1) → client id → slot. */
  /**
   * Key (latin1) → its readers: one reader as a number (id × 65536 + slot, no allocation for the
   * common case), several as id → slot.
   */
  private readonly keys = new Map<string, number | Map<number, number>>()
  /** Remembered (key, client) pairs: INFO tracking_total_items. */
  items = 0
  /** Invalidations of the command being run, sent after its reply. */
  readonly out: TrackingPush[] = []
  /** Modified keys of the command being run, for BCAST clients (only while G_BCAST > 0). */
  readonly bcastKeys: Buffer[] = []
  /** The slot whose command runs (NOLOOP; 0: none, as for expiry). */
  writer = 0

  /** `shards` for the other shards' counts (tracking-table-max-keys); this shard's count starts at 0. */
  constructor (public words: TrackingWords, private readonly index = 0, private readonly shards = 1) {
    Atomics.store(words.g, G_KEYS_OF + index, 0)
  }

  private countKeys (): void { Atomics.store(this.words.g, G_KEYS_OF + this.index, this.keys.size) }

  /** Keys remembered by all shards (tracking_total_keys). */
  totalKeys (): number {
    let n = 0
    for (let i = 0; i < this.shards; i++) n += Atomics.load(this.words.g, G_KEYS_OF + i)
    return n
  }

  /** Keys remembered here: INFO tracking_total_keys. */
  get size (): number { return this.keys.size }

  /** True while this shard has anything to do when a key changes. */
  get isActive (): boolean { return this.keys.size !== 0 || this.words.g[G_BCAST] !== 0 }

  /** Client in `slot` read a key (its thread asked for it with REQ_TRACK). */
  remember (slot: number, buf: Uint8Array, start: number, len: number): void {
    const id = this.words.on[slot]
    if (id === 0 || (this.words.opts[slot] & OPT_BCAST) !== 0) return
    const key = keyString(buf, start, len)
    const ids = this.keys.get(key)
    if (ids === undefined) {
      this.keys.set(key, id * CREDIT_SLOTS_COUNT + slot)
      this.items++
      this.countKeys()
      return
    }
    if (typeof ids === 'number') {
      const first = Math.floor(ids / CREDIT_SLOTS_COUNT)
      if (first === id) return
      this.keys.set(key, new Map([[first, ids % CREDIT_SLOTS_COUNT], [id, slot]]))
      this.items++
      return
    }
    if (!ids.has(id)) { ids.set(id, slot); this.items++ }
  }

  /** A key was modified (trackingInvalidateKey): its readers get an invalidation; BCAST clients hear of it. */
  touch (buf: Uint8Array, start: number, len: number): void {
    const w = this.words
    if (w.g[G_BCAST] !== 0) this.bcastKeys.push(Buffer.from(buf.subarray(start, start + len)))
    if (this.keys.size === 0) return
    const key = keyString(buf, start, len)
    const ids = this.keys.get(key)
    if (ids === undefined) return
    this.forget(key, ids, buf, start, len)
  }

  /** Drops a remembered key (its bytes at buf[start, start+len)); each of its readers gets an invalidation. */
  private forget (key: string, ids: number | Map<number, number>, buf: Uint8Array, start: number, len: number): void {
    this.keys.delete(key)
    this.countKeys()
    if (typeof ids === 'number') {
      this.items--
      this.invalidate(Math.floor(ids / CREDIT_SLOTS_COUNT), ids % CREDIT_SLOTS_COUNT, buf, start, len)
      return
    }
    this.items -= ids.size
    for (const [id, slot] of ids) this.invalidate(id, slot, buf, start, len)
  }

  /** Calls of limit() in a row that could not get under the limit (Redis's timeout_counter). */
  private limitRuns = 0

  /**
   * tracking-table-max-keys (trackingLimitUsedSlots): while all shards together remember more
   * keys than the limit, this shard forgets some of its own, each reader getting an invalidation
   * as if the key had changed. Redis runs it before each command while tracking clients exist,
   * with an effort of 100 keys times the calls in a row that stayed over; here it runs after a
   * tracking read remembered keys (so the shard that grew the table is the one that shrinks it,
   * and the invalidation follows that read's reply) and on the shard's tick (a lowered limit).
   * Redis picks the keys by a random walk of its radix tree; a Map has no random access, so
   * these are the keys remembered longest ago.
   */
  limit (): void {
    const g = this.words.g
    // Past 2^32 keys the limit is never reached.
    const max = g[G_MAX_KEYS + 1] !== 0 ? Infinity : g[G_MAX_KEYS] >>> 0
    if (max === 0 || this.keys.size === 0 || this.totalKeys() <= max) { this.limitRuns = 0; return }
    let effort = 100 * (this.limitRuns + 1)
    for (const [key, ids] of this.keys) {
      if (effort-- === 0) break
      const b = Buffer.from(key, 'latin1')
      this.writer = 0
      this.forget(key, ids, b, 0, b.length)
      if (this.totalKeys() <= max) { this.limitRuns = 0; return }
    }
    if (this.keys.size !== 0) this.limitRuns++
  }

  /** One reader of a modified key: its invalidation, unless it no longer tracks (or NOLOOP). */
  private invalidate (id: number, slot: number, buf: Uint8Array, start: number, len: number): void {
    const w = this.words
    if (w.on[slot] !== id) return
    const opts = w.opts[slot]
    if ((opts & OPT_BCAST) !== 0) return
    if ((opts & OPT_NOLOOP) !== 0 && slot === this.writer) return
    const redir = w.redir[slot]
    if (redir === 0) {
      this.out.push({ producer: w.prod[slot], payload: this.keyRecord(slot, id, 0, buf, start, len) })
      return
    }
    const rs = w.rslot[slot]
    if (w.conn[rs] !== redir) {
      this.out.push({ producer: w.prod[slot], payload: header(TRK_BROKEN, slot, id, redir, 0) })
      return
    }
    this.out.push({ producer: w.prod[rs], payload: this.keyRecord(rs, redir, 1, buf, start, len) })
  }

  private keyRecord (slot: number, id: number, aux: number, buf: Uint8Array, start: number, len: number): Buffer {
    const b = header(TRK_KEY, slot, id, aux, len)
    b.set(buf.subarray(start, start + len), 16)
    return b
  }

  /**
   * The keys this command modified, for each producer holding BCAST clients: one record each,
   * | TRK_BCAST | writer slot | ... | u32 len | key |...
   */
  bcastRecords (producers: number): TrackingPush[] {
    const keys = this.bcastKeys
    let bytes = 0
    for (const k of keys) bytes += 4 + k.length
    const b = header(TRK_BCAST, this.writer, 0, keys.length, bytes)
    let p = 16
    for (const k of keys) { b.writeUInt32LE(k.length, p); b.set(k, p + 4); p += 4 + k.length }
    keys.length = 0
    const out: TrackingPush[] = []
    const g = this.words.g
    for (let i = 0; i < producers && i < MAX_PRODUCERS; i++) if (g[G_BCAST_OF + i] !== 0) out.push({ producer: i, payload: b })
    return out
  }

  /** Distinct BCAST prefixes of every thread, with their client counts (shard 0 only). */
  private readonly prefixes = new Map<string, number>()
  get prefixCount (): number { return this.prefixes.size }

  changePrefix (delta: number, buf: Uint8Array, start: number, len: number): void {
    const p = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')
    const n = (this.prefixes.get(p) ?? 0) + delta
    if (n > 0) this.prefixes.set(p, n); else this.prefixes.delete(p)
  }

  /** A ready record for the thread of the slot it names (| 4 | op | .. | slot | ...). */
  relay (buf: Uint8Array, start: number, len: number): void {
    const slot = (buf[start + 4] | (buf[start + 5] << 8) | (buf[start + 6] << 16) | (buf[start + 7] << 24)) >>> 0
    if (slot >= CREDIT_SLOTS_COUNT) return
    this.out.push({ producer: this.words.prod[slot], payload: Buffer.from(buf.subarray(start, start + len)) })
  }

  /** FLUSHDB/FLUSHALL: Redis forgets every key (and the hub shard tells every client: flushAll). */
  clear (): void {
    this.keys.clear()
    this.countKeys()
    this.items = 0
  }

  /**
   * FLUSHDB/FLUSHALL on the hub shard: a null invalidation for every tracking client of every
   * thread (BCAST ones too), sent to it or its REDIRECT target straight from here.
   */
  flushAll (): void {
    const w = this.words
    for (let slot = 1; slot < CREDIT_SLOTS_COUNT; slot++) {
      const id = w.on[slot]
      if (id === 0) continue
      const redir = w.redir[slot]
      if (redir === 0) { this.out.push({ producer: w.prod[slot], payload: header(TRK_NULL, slot, id, 0, 0) }); continue }
      const rs = w.rslot[slot]
      if (w.conn[rs] !== redir) this.out.push({ producer: w.prod[slot], payload: header(TRK_BROKEN, slot, id, redir, 0) })
      else this.out.push({ producer: w.prod[rs], payload: header(TRK_NULL, rs, redir, 1, 0) })
    }
  }
}
