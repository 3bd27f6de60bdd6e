// When a spin before sleeping is worth it (spin-us, config.ts). A spin pays where the next batch
// comes early in it (one client at a time: 95% of shard spins found work) and costs a core where it
// does not (-c 50 on 2 CPUs, where clients share the cores: 17 of 2,000 found work). Back-off by
// doubling skips failed at -c 1: a miss made the next wake-up slow, which made more misses. This
// keeps a running worth instead (each spin weighs a quarter): a spin that found work is worth the
// part of its budget it did not burn, one that ran out nothing. A hit late in the budget was
// counted whole before, which kept the gate open where work came just before each spin ran out:
// a client per request (redis-benchmark -k 0), where the shard spun ~60 µs per GET on 2 CPUs. Below
// half, only one chance in PROBE_EVERY spins, to see whether the load has changed; a probe or two
// that find work early open it again.

import { performance } from 'node:perf_hooks'

const PROBE_EVERY = 4

export class SpinGate {
  private worth = 1
  private chances = 0

  /** Whether to spin at this chance. */
  shouldSpin (): boolean {
    return this.worth >= 0.5 || ++this.chances % PROBE_EVERY === 0
  }

  /** A spin's worth: 1 - the fraction of its budget it spun before it found work, 0 when it ran out. */
  record (worth: number): void {
    this.worth = this.worth * 0.75 + worth * 0.25
  }

  /**
   * Unless the gate is shut, watches word[i] for up to `ms` while it still holds `seen` (a ring's
   * SEQ, which the other side bumps as it publishes); true if it moved. The shard's loop and the
   * primary's reply wait both spin here.
   */
  spin (word: Int32Array, i: number, seen: number, ms: number): boolean {
    if (!this.shouldSpin()) return false
    const start = performance.now()
    const until = start + ms
    let now = start
    while (Atomics.load(word, i) === seen && (now = performance.now()) < until) { /* spin */ }
    const hit = Atomics.load(word, i) !== seen
    this.record(hit ? Math.max(0, 1 - (now - start) / ms) : 0)
    return hit
  }
}
