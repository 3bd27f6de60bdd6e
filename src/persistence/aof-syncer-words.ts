// The words the shards and the AOF syncer thread share (workers/aof-syncer.ts): a region of the
// save state (save-state.ts, SaveWords.sync), a header and then one slot per shard.

/** 1 while the syncer runs (it sets it; the main thread clears it when the thread exits): until then shards sync in place. */
export const SY_UP = 0
/** 1: the syncer ends (the server stops). */
export const SY_STOP = 1
/** Bumped by a shard after it asks: the syncer sleeps on this word. */
export const SY_KICK = 2
/** 1 once a shard has asked the main thread to start the syncer (only the first one asks). */
export const SY_SPAWN = 3
const HEADER = 8

/** A shard's slot: the W_AOF_WRITES number it asks to be synced (only grows). */
export const SLOT_REQ = 0
/** The descriptor that write went to. */
export const SLOT_FD = 1
/** The last number synced for this shard (the shard waits on this word). */
export const SLOT_DONE = 2
/** The errno of a failed sync (0: none), for the shard to act on. */
export const SLOT_ERR = 3
const SLOT_WORDS = 4

/** Where shard `index`'s slot starts. */
export function slotOf (index: number): number { return HEADER + index * SLOT_WORDS }

/** The region's length in words, for `shards` shards. */
export function syncWords (shards: number): number { return HEADER + shards * SLOT_WORDS }
