// The words a shard and its syncer thread share (workers/aof-syncer.ts).

/** The W_AOF_WRITES number the shard asks to be synced (only grows). */
export const SYNC_REQ = 0
/** The descriptor it was written to. */
export const SYNC_FD = 1
/** The last number synced. */
export const SYNC_DONE = 2
/** The errno of a failed sync (0: none). */
export const SYNC_ERR = 3
/** 1: the syncer ends. */
export const SYNC_STOP = 4
/** 1 once the syncer runs: until then the shard syncs in place. */
export const SYNC_UP = 5
export const SYNC_WORDS = 8
