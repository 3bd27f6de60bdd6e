// When a spin before sleeping is worth it (spin-us, config.ts). A spin pays where the next batch
// comes within it (one client at a time: 95% of shard spins found work) and costs a core where it
// does not (-c 50 on 2 CPUs, where clients share the cores: 17 of 2,000 found work). Back-off by
// doubling skips failed at -c 1: a miss made the next wake-up slow, which made more misses. This
// keeps a running hit rate instead (each spin weighs a quarter); below 0.3, only one chance in
// PROBE_EVERY spins, to see whether the load has changed; a probe or two that find work open it again.

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
}
