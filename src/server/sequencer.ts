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
// (workers/shard-worker.ts, runRing). A single-shard command takes no ticket: it carries the
// last one issued for its shard (REQ_AFTER) and runs once that one has, so whatever another
// client saw of a multi-shard command before sending it, it sees all of. A producer checks ring
// space on every shard before taking tickets, so a ticket it took is always staged and published
// in the same turn: a shard never waits for a ticket that cannot come.

const LOCK = 0

export class Sequencer {
  /** Int32: [LOCK, next ticket of shard 0, of shard 1, ...], shared by every producer. */
  readonly sab: SharedArrayBuffer
  private readonly words: Int32Array

  constructor (shards: number, sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer((shards + 1) * 4)
    this.words = new Int32Array(this.sab)
  }

  /**
   * Takes one ticket on each of shards[0..n) into tickets[0..n). Tickets start at 1 (0 means
   * none); the shard worker expects exactly that sequence.
   */
  take (shards: ArrayLike<number>, n: number, tickets: Int32Array): void {
    const w = this.words
    // Held for a few increments: spin rather than sleep (the main thread may not Atomics.wait).
    while (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) { /* spin */ }
    for (let k = 0; k < n; k++) tickets[k] = Atomics.add(w, 1 + shards[k], 1) + 1
    Atomics.store(w, LOCK, 0)
  }
}
