// When a spin before sleeping is worth it (spin-us, config.ts). A spin pays where the next batch
// comes within it (one client at a time: 95% of shard spins found work) and costs a core where it
// does not (-c 50 on 2 CPUs, where clients share the cores: 17 of 2,000 found work). Back-off by
// doubling skips failed at -c 1: a miss made the next wake-up slow, which made more misses. This
// keeps a running hit rate instead (each spin weighs a quarter); below 0.3, only one chance in
// PROBE_EVERY spins, to see whether the load has changed; a probe or two that find work open it again.

import { performance } from 'node:perf_hooks'

const PROBE_EVERY = 4

export class SpinGate {
  private rate = 1
  private chances = 0

  /** Whether to spin at this chance. */
  shouldSpin (): boolean {
    return this.rate >= 0.3 || ++this.chances % PROBE_EVERY === 0
  }

  /** A spin found work (`hit`) or ran out. */
  record (hit: boolean): void {
    this.rate = this.rate * 0.75 + (hit ? 0.25 : 0)
  }

  /**
   * Unless the gate is shut, watches word[i] for up to `ms` while it still holds `seen` (a ring's
   * SEQ, which the other side bumps as it publishes); true if it moved. The shard's loop and the
   * primary's reply wait both spin here.
   */
  spin (word: Int32Array, i: number, seen: number, ms: number): boolean {
    if (!this.shouldSpin()) return false
    const until = performance.now() + ms
    while (Atomics.load(word, i) === seen && performance.now() < until) { /* spin */ }
    const hit = Atomics.load(word, i) !== seen
    this.record(hit)
    return hit
  }
}
