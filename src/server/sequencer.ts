// Ordering of multi-shard commands when a shard has several producers (I/O threads).
//
// With one producer, staging every part of a command in one synchronous step is enough: each
// shard reads one ring, so any two commands reach every shard they share in the same order.
// With several producers a shard reads several rings, and could take producer A's MSET before
// producer B's MGET on one shard and after it on another: B would see half of A's MSET.
//
// So each multi-shard command takes, under one short lock, the next ticket of every shard it
// touches (T_s = per-shard counter). Tickets taken under the lock are ordered the same way on
// every shard, so there is no cycle. A shard runs ticketed parts strictly in ticket order, from
// whichever ring holds the next one, and leaves a ring whose head is a later ticket until then
// (workers/shard-worker.ts, runRing). A producer checks ring space on every shard before taking
// tickets, so a ticket it took is always staged and published in the same turn: a shard never
// waits for a ticket that cannot come.
//
// A single-shard command takes no ticket: it carries the last one issued for its shard when it
// was staged (REQ_AFTER, read with snapshot(): a seqlock, so that a command's tickets are seen
// all or none) and has a fixed place among the tickets: after that one, and before the next.
// - After: the shard runs it once that ticket has run. Whatever a client saw of a multi-shard
//   command before sending, it sees all of.
// - Before: a shard runs ticket t only once every command staged before t was issued has run.
//   Those not yet published are announced by their producer's epoch word for that shard (the
//   ticket it read first in this turn, +1; 0 between turns), so the shard waits for that turn
//   to be published, then runs them. So two reads of one pipeline, on two shards, see a
//   multi-shard command both or neither, as one Redis thread would run them.

const LOCK = 0

/** An epoch word while its producer is between storing it and reading the ticket. */
export const EPOCH_BUSY = -1

/** Index of the seqlock version word (after LOCK and one ticket counter per shard). */
export function versionIndex (shards: number): number { return 1 + shards }

/** Index of producer q's epoch word for shard s. */
export function epochIndex (shards: number, q: number, s: number): number { return 2 + shards + q * shards + s }

/** The producers with epoch words in a sequencer of this many words. */
export function epochProducers (words: number, shards: number): number { return Math.max(0, Math.floor((words - 2 - shards) / shards)) }

/** The last ticket issued for shard s, read between two equal even versions (no take half-done). */
export function snapshot (w: Int32Array, shards: number, s: number): number {
  const vi = versionIndex(shards)
  for (;;) {
    const v = Atomics.load(w, vi)
    if ((v & 1) !== 0) continue
    const t = Atomics.load(w, 1 + s)
    if (Atomics.load(w, vi) === v) return t
  }
}

export class Sequencer {
  /** Int32: [LOCK, next ticket of shard 0, of shard 1, ..., VERSION, epochs (producer × shard)], shared by every producer. */
  readonly sab: SharedArrayBuffer
  private readonly words: Int32Array
  private readonly version: number

  constructor (shards: number, sab?: SharedArrayBuffer, producers = 0) {
    this.sab = sab ?? new SharedArrayBuffer((2 + shards + producers * shards) * 4)
    this.words = new Int32Array(this.sab)
    this.version = versionIndex(shards)
  }

  /**
   * Takes one ticket on each of shards[0..n) into tickets[0..n). Tickets start at 1 (0 means
   * none); the shard worker expects exactly that sequence.
   */
  take (shards: ArrayLike<number>, n: number, tickets: Int32Array): void {
    const w = this.words
    // Held for a few increments: spin rather than sleep (the main thread may not Atomics.wait).
    while (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) { /* spin */ }
    Atomics.add(w, this.version, 1)
    for (let k = 0; k < n; k++) tickets[k] = Atomics.add(w, 1 + shards[k], 1) + 1
    Atomics.add(w, this.version, 1)
    Atomics.store(w, LOCK, 0)
  }
}
