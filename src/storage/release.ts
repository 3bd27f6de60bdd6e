// Giving dropped arenas back to the system. An arena is a growable SharedArrayBuffer: it cannot
// shrink, so FLUSHALL and FLUSHDB replace it with a fresh one. But V8 counts such a buffer by its
// initial size, not by what it grew to, so nothing prompts a collection and the old gigabyte
// stays resident until some unrelated full GC. Every thread that held a view of it (the shard,
// and any producer that ran a transaction on it: server/engine.ts) must collect its wrappers;
// the last one frees the memory. The shard bumps ARENA_DROP_WORD after a big drop, and the other
// threads' crons collect when they see it move.

import v8 from 'node:v8'
import vm from 'node:vm'
import { performance } from 'node:perf_hooks'

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
  lastCollectAt = performance.now()
}

/**
 * Least time between two collections asked for with collectSoon. Two shards adopting their
 * compactions a moment apart each announce a drop twice (a layout message and ARENA_DROP_WORD):
 * one pause of the thread instead of four (10-20 ms each on a loaded 2-core box, bench:compaction).
 */
export const COLLECT_GAP_MS = 1000
let lastCollectAt = -Infinity
let isCollectDue = false

/**
 * One collection on this event-loop thread soon: on the next turn, or once at the end of
 * COLLECT_GAP_MS after the last one however many asked meanwhile. The memory goes back a second
 * later at most.
 */
export function collectSoon (): void {
  if (isCollectDue) return
  isCollectDue = true
  const wait = lastCollectAt + COLLECT_GAP_MS - performance.now()
  const run = (): void => { isCollectDue = false; collectGarbage() }
  if (wait <= 0) setImmediate(run)
  else setTimeout(run, wait).unref()
}
