// The storage write hook: every change to a key's value, type or TTL bumps `writes.count`, and
// every entry deleted (by a command, lazy or active expiry) goes through `writes.onRemove`
// while a consumer has set it. One shard's thread owns its module instance, so both are plain
// fields: a command that left the count unchanged changed nothing (WATCH, storage/watch.ts).
// Whole-database changes (FLUSHDB, FLUSHALL, SWAPDB) are reported by the worker before they run.

import type { Keyspace } from './keyspace.js'

export const writes: { count: number, onRemove: ((ks: Keyspace, e: number) => void) | null } = { count: 0, onRemove: null }
