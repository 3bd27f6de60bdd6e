// Giving dropped arenas back to the system. An arena is a growable SharedArrayBuffer: it cannot
// shrink, so FLUSHALL and FLUSHDB replace it with a fresh one. But V8 counts such a buffer by its
// initial size, not by what it grew to, so nothing prompts a collection and the old gigabyte
// stays resident until some unrelated full GC. Every thread that held a view of it (the shard,
// and any producer that ran a transaction on it: server/engine.ts) must collect its wrappers;
// the last one frees the memory. The shard bumps ARENA_DROP_WORD after a big drop, and the other
// threads' crons collect when they see it move.

import v8 from 'node:v8'
import vm from 'node:vm'

/** Dropped buffer bytes from which a shard collects at once (small FLUSHDBs add up to it). */
export const DROP_COLLECT_BYTES = 1 << 20

/**
 * Bytes of requests that came out of band (bigger than a ring: server/shard-link.ts) after which
 * a shard has every thread collect: each is a SharedArrayBuffer that V8 frees as late as an arena.
 */
export const OOB_COLLECT_BYTES = 128 * 1024 * 1024

let gc: (() => void) | null = null

/** A full collection of this thread's heap: a few ms on a shard, whose heap holds no data. */
export function collectGarbage (): void {
  if (gc === null) {
    // --expose-gc for contexts made from now on: a new one hands us its gc().
    v8.setFlagsFromString('--expose-gc')
    gc = vm.runInNewContext('gc') as () => void
  }
  gc()
}
