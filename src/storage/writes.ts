// The storage write hook: every change to a key's value, type or TTL bumps `writes.count`,
// every entry deleted (by a command, lazy or active expiry) goes through `writes.onRemove`, and
// every key created goes through `writes.onInsert` (a list a blocked client waits for), each
// while a consumer has set it. One shard's thread owns its module instance, so both are plain
// fields: a command that left the count unchanged changed nothing (WATCH, storage/watch.ts),
// though it may still bump `writes.signals` to touch its keys as Redis does (LTRIM; and PFCOUNT,
// a read command, when it refreshes the cached cardinality it keeps in the value).
// Whole-database changes (FLUSHDB, FLUSHALL, SWAPDB) are reported by the worker before they run.

import type { Keyspace } from './keyspace.js'

export const writes: {
  count: number
  /**
   * Bumped by a command that Redis's signalModifiedKey touches though nothing changed (LTRIM that
   * trims nothing): WATCH and CLIENT TRACKING see it, the dirty count and the AOF do not.
   */
  signals: number
  onRemove: ((ks: Keyspace, e: number) => void) | null
  onInsert: ((ks: Keyspace, e: number) => void) | null
  /** SWAPDB swapped databases i and j (keys appear in each without an insert). */
  onSwap: ((i: number, j: number) => void) | null
  /** An entry is about to be deleted because its TTL passed (lazy or active expiry). */
  onExpire: ((ks: Keyspace, e: number) => void) | null
  /** A key was created by a command (not by a type change under the same key): "new" events. */
  onNew: ((ks: Keyspace, e: number) => void) | null
  /** Set around a delete-and-insert that replaces a value under the same key (no "new"). */
  isReplacing: boolean
  /**
   * A key blocked clients may wait on got something new without being created (Redis's
   * signalKeyAsReady: XADD to an existing stream, XGROUP DESTROY), while clients are blocked.
   */
  onReady: ((ks: Keyspace, e: number) => void) | null
  /**
   * An entry is about to be deleted, by any path (command, expiry, eviction): a running BGSAVE
   * snapshot saves it first if its walk has not reached it (persistence/snapshot.ts).
   */
  beforeRemove: ((ks: Keyspace, e: number) => void) | null
  /** An entry is about to be deleted, by any path, while CLIENT TRACKING has readers or BCAST clients (storage/tracking.ts). */
  onTrack: ((ks: Keyspace, e: number) => void) | null
} = { count: 0, signals: 0, onRemove: null, onInsert: null, onSwap: null, onExpire: null, onNew: null, isReplacing: false, onReady: null, beforeRemove: null, onTrack: null }

export type WriteHooks = typeof writes

/** A copy of every field of `writes`, to put back with restoreWrites. */
export function saveWrites (): WriteHooks {
  return { ...writes }
}

/**
 * saveWrites into an object the caller keeps (the transaction engine sets its own hooks around
 * each step it runs for another shard: a script's redis.call goes through here once per call, so
 * the fields are copied one by one, into one object per caller, which cannot nest).
 */
export function saveWritesInto (w: WriteHooks): WriteHooks {
  return copyHooks(writes, w)
}

export function restoreWrites (w: WriteHooks): void {
  copyHooks(w, writes)
}

/** Every field of `writes` (one added there must be added here). */
function copyHooks (from: WriteHooks, to: WriteHooks): WriteHooks {
  to.count = from.count
  to.signals = from.signals
  to.onRemove = from.onRemove
  to.onInsert = from.onInsert
  to.onSwap = from.onSwap
  to.onExpire = from.onExpire
  to.onNew = from.onNew
  to.isReplacing = from.isReplacing
  to.onReady = from.onReady
  to.beforeRemove = from.beforeRemove
  to.onTrack = from.onTrack
  return to
}
