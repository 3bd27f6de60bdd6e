// Output credit: a bound, per connection, on reply bytes that shards have produced and the
// kernel has not yet taken. The primary cannot know a reply's size before the shard runs the
// command (a GET of 1 KB and one of 512 MB look alike), so the shard keeps the account: each
// reply it produces for a connection debits that connection's credit word in shared memory, and
// a shard that meets a connection with no credit left parks its request instead of running it
// (workers/shard-worker.ts). The primary returns credit as the connection's output leaves for
// the socket, and wakes the shards holding parked requests.
//
// So a client that pipelines GETs of big values and never reads costs at most CREDIT_BYTES plus
// one reply per shard, whatever the values are, and it cannot keep a shard copying gigabytes
// ahead of other clients' commands.

import { PARKED_NOW, PARKED_TOTAL } from './shared-state.js'
import { TrackingWords, TRACKING_BYTES } from '../storage/tracking.js'

/** Reply bytes a connection may have produced and unsent before its requests park. */
export const CREDIT_BYTES = 16 * 1024 * 1024
/** A reply debits at most this much, so the signed 32-bit word cannot underflow. */
export const MAX_DEBIT = 16 * 1024 * 1024
/** Slots for connections; slot 0 is the unaccounted one, for anything beyond. */
export const CREDIT_SLOTS = 1 << 16
/**
 * The move exchange (commands/xmove.ts), last: per shard, an outbox of XMOVE_WORDS control words
 * and XMOVE_CHUNK payload bytes through which that shard hands a value to another shard (a
 * cross-shard RENAME), then a death counter per shard. Untouched pages cost no memory.
 */
export const XMOVE_SHARDS = 256
export const XMOVE_WORDS = 16
export const XMOVE_CHUNK = 32 * 1024
const XMOVE_OFFSET = CREDIT_SLOTS * 12 + 128 + TRACKING_BYTES + CREDIT_SLOTS * 16
const XMOVE_BYTES = XMOVE_SHARDS * (XMOVE_WORDS * 4 + 4 + XMOVE_CHUNK)
export function xmoveWords (sab: SharedArrayBuffer): Int32Array { return new Int32Array(sab, XMOVE_OFFSET, XMOVE_SHARDS * (XMOVE_WORDS + 1)) }
/** Shard s's payload area: bytes [s * XMOVE_CHUNK, (s + 1) * XMOVE_CHUNK). */
export function xmovePayload (sab: SharedArrayBuffer): Uint8Array {
  return new Uint8Array(sab, XMOVE_OFFSET + XMOVE_SHARDS * (XMOVE_WORDS + 1) * 4, XMOVE_SHARDS * XMOVE_CHUNK)
}
/**
 * Bytes of the shared buffer: the credit words, then as many WATCH words (server/multi.ts): word
 * WATCH_TAGS of those is the counter that hands out watch tags, word `slot` the tag of the last
 * watch session of that slot whose key a shard saw change.
 */
export const CREDIT_SAB_BYTES = CREDIT_SLOTS * 12 + 128 + TRACKING_BYTES + CREDIT_SLOTS * 16 + XMOVE_BYTES
/** CLIENT TRACKING's shared words (storage/tracking.ts), after the claim words. */
export function trackingWords (sab: SharedArrayBuffer): TrackingWords { return new TrackingWords(sab, CREDIT_SLOTS * 12 + 128) }
export const WATCH_TAGS = 0
/**
 * Verdict cells of watched EXECs across shards (server/multi.ts execWatched), after the tracking
 * words: VERDICT_CELLS per slot, each two words: how many watched shards have arrived, and
 * whether one found the watch broken. A slot's EXECs in flight at once are at most that many.
 */
export const VERDICT_CELLS = 2
export function verdictWords (sab: SharedArrayBuffer): Int32Array {
  return new Int32Array(sab, CREDIT_SLOTS * 12 + 128 + TRACKING_BYTES, CREDIT_SLOTS * VERDICT_CELLS * 2)
}
/** The WATCH words of a credits buffer. */
export function watchWords (sab: SharedArrayBuffer): Int32Array { return new Int32Array(sab, CREDIT_SLOTS * 4, CREDIT_SLOTS) }
/** Settings the shards read, after the WATCH words: NOTIFY_WORD is notify-keyspace-events. */
export function sharedFlags (sab: SharedArrayBuffer): Int32Array { return new Int32Array(sab, CREDIT_SLOTS * 8, 32) }
export const NOTIFY_WORD = 0
/** MONITOR clients on every thread: while 0 nobody builds monitor lines. */
export const MONITORS_WORD = 1
export { HASH_ENTRIES_WORD, HASH_VALUE_WORD, SET_INTSET_WORD, ZSET_ENTRIES_WORD, ZSET_VALUE_WORD, limitOf } from '../ipc/layout.js'
/**
 * Claim words, per slot: the id of a blocking command's wait across shards while any shard may
 * still serve it. A shard that serves it (or the thread that cancels it) swaps the id for 0
 * first, so exactly one of them does (server/blocking.ts).
 */
export function claimWords (sab: SharedArrayBuffer): Int32Array { return new Int32Array(sab, CREDIT_SLOTS * 8 + 128, CREDIT_SLOTS) }
/** The credit words of a credits buffer. */
export function creditWords (sab: SharedArrayBuffer): Int32Array { return new Int32Array(sab, 0, CREDIT_SLOTS) }

/** Credit of a closed connection: its parked requests run at once, their replies dropped. */
const CLOSED_CREDIT = 1 << 30

export class Credits {
  readonly sab: SharedArrayBuffer
  /** Shared: remaining credit per slot (the shards debit, this thread returns). */
  readonly credit: Int32Array
  /** Shared: WATCH dirty tags per slot (see CREDIT_SAB_BYTES). */
  readonly watch: Int32Array
  /** Bytes the shards debited (as seen in their replies) and not yet returned. */
  private readonly owed = new Float64Array(CREDIT_SLOTS)
  /** Requests staged and not yet answered, parked ones included. */
  private readonly outstanding = new Int32Array(CREDIT_SLOTS)
  /** Requests parked on some shard. */
  private readonly parkedCount = new Int32Array(CREDIT_SLOTS)
  private readonly isClosing = new Uint8Array(CREDIT_SLOTS)
  private readonly free: number[] = []
  /**
   * Where the parked-request counts live: this thread's row of shared counters, which INFO adds
   * up and CONFIG RESETSTAT zeroes (server/shared-state.ts); a private row until the server sets it.
   */
  counters: Float64Array = new Float64Array(PARKED_TOTAL + 1)
  /** Requests parked now (all slots) and since start. */
  get parkedNow (): number { return this.counters[PARKED_NOW] }
  get parkedTotal (): number { return this.counters[PARKED_TOTAL] }
  /** Wakes every shard that may hold parked requests of a slot (set by the router). */
  kick: () => void = () => {}

  /**
   * Slots [first, first + count) of the shared words are this thread's; each I/O thread takes its
   * own range of one buffer that every shard reads.
   */
  constructor (first = 1, count = CREDIT_SLOTS - 1, sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(CREDIT_SAB_BYTES)
    this.credit = creditWords(this.sab)
    this.watch = watchWords(this.sab)
    this.slots = count
    for (let s = first + count - 1; s >= first; s--) this.free.push(s)
  }

  private readonly slots: number

  /** A slot for a new connection; 0 (unaccounted) when all are taken. */
  alloc (): number {
    const slot = this.free.pop()
    if (slot === undefined) return 0
    Atomics.store(this.credit, slot, CREDIT_BYTES)
    this.owed[slot] = 0
    this.isClosing[slot] = 0
    return slot
  }

  /**
   * Checked before every command: a plain read (Atomics.load is a builtin call here, ~1% of the
   * primary at GET -P 16); a stale value only moves the pause by a command or two.
   */
  isExhausted (slot: number): boolean { return slot !== 0 && this.credit[slot] <= 0 }

  staged (slot: number): void { if (slot !== 0) this.outstanding[slot]++ }

  parked (slot: number): void {
    if (slot === 0) return
    this.parkedCount[slot]++
    this.counters[PARKED_NOW]++
    this.counters[PARKED_TOTAL]++
    // Credit may have come back between the shard's look and this placeholder: look again.
    if (Atomics.load(this.credit, slot) > 0) this.kick()
  }

  /** A shard answered a request of `slot` with `len` bytes (late: it had been parked). */
  replied (slot: number, len: number, late: boolean): void {
    if (slot === 0) return
    if (late) { this.parkedCount[slot]--; this.counters[PARKED_NOW]-- }
    this.owed[slot] += Math.min(len, MAX_DEBIT)
    if (--this.outstanding[slot] === 0 && this.isClosing[slot] !== 0) this.recycle(slot)
  }

  /**
   * The connection holds `pending` bytes of output (buffered, queued in libuv, or stashed out of
   * order): everything owed beyond that has left, so its credit comes back.
   */
  settle (slot: number, pending: number): void {
    if (slot === 0 || this.isClosing[slot] !== 0) return
    const give = this.owed[slot] - pending
    if (give <= 0) return
    this.owed[slot] = pending
    const before = Atomics.add(this.credit, slot, give)
    if (before <= 0 && before + give > 0 && this.parkedCount[slot] > 0) this.kick()
  }

  /** The connection closed: parked requests may run (replies dropped); recycle when answered. */
  release (slot: number): void {
    if (slot === 0) return
    this.isClosing[slot] = 1
    Atomics.store(this.credit, slot, CLOSED_CREDIT)
    if (this.parkedCount[slot] > 0) this.kick()
    if (this.outstanding[slot] === 0) this.recycle(slot)
  }

  private recycle (slot: number): void {
    this.isClosing[slot] = 0
    this.free.push(slot)
  }

  /** Slots in use (for tests and INFO). */
  get inUse (): number { return this.slots - this.free.length }
}
