// Byte layout of the records that travel through the rings (see ring.ts for the ring itself).
//
// request payload  | u32 cmdId | flags<<16 | db<<24 | u32 argc | u32 client slot | u32 ticket | argc × u32 argLen | arg bytes |
// response payload | u32 respLen | RESP bytes, ready to copy into the socket's output |
//   parked:        | RESP_PARKED | u32 slot |                       (the request waits for credit)
//   late reply:    | RESP_LATE | u32 slot | u32 respLen | RESP bytes | (a parked request ran)
//
// The client slot names the connection a request belongs to, for its output credit (see
// server/credits.ts): slot 0 is never accounted and never parks. The ticket orders the parts
// of multi-shard commands when a shard has several producers (server/sequencer.ts): 0 = none;
// with REQ_AFTER, the ticket the record waits for instead.
//
// A shard has one request/response ring pair per producer (the primary, or each I/O thread),
// and one doorbell word that every producer rings after publishing.
//
// A record too large for its ring travels out of band: the ring carries the header with
// REQ_OOB set (requests) or respLen = RESP_OOB (responses), and the bytes follow, in order, as a
// SharedArrayBuffer message on the shard's MessagePort, which the other side takes with
// receiveMessageOnPort without ever running its event loop.

export const REQ_RESP3 = 1
export const REQ_OOB = 2
/** One part of a multi-shard command: it never parks (a parked part would split the command). */
export const REQ_NOPARK = 4
/**
 * No command: run the first request parked for this slot now, over credit. The primary sends it
 * when that request holds back the client's reply order (its later replies, from other shards,
 * wait in the stash and keep the credit spent). It gets no reply of its own.
 */
export const REQ_FORCE = 8
/** No reply is written (a shard's keyspace events for the hub, below). */
export const REQ_NOREPLY = 16
/** The client tracks (CLIENT TRACKING): the keys a read-only command reads are remembered. */
export const REQ_TRACK = 32
/**
 * With several producers: the ticket field holds no ticket of this record's own but the last one
 * the sequencer had issued for this shard when it was staged, and the shard runs the record only
 * after every ticket up to that one. A multi-shard command whose part another client has seen on
 * one shard was ticketed before that client sent its next command, so that command, on any shard,
 * sees the command's other parts too, as it would on Redis (server/sequencer.ts).
 */
export const REQ_AFTER = 64
/**
 * A held shard's step for a transaction that logs the AOF itself (a remote one, server/txn.ts):
 * the shard posts the step's effects to the producer (a message before its reply) instead of
 * logging them, so the transaction's block has every shard's effects in its own order.
 */
export const REQ_AOF_TO_TXN = 128
export const RESP_OOB = 0xffffffff
export const RESP_PARKED = 0xfffffffe
export const RESP_LATE = 0xfffffffd
/** | RESP_BLOCKED | u32 slot |: the request blocked on its keys; its reply comes late. */
export const RESP_BLOCKED = 0xfffffffc
/** | RESP_PUSH | u32 len (or RESP_OOB) | payload |: a pub/sub message for this producer's subscribers. */
export const RESP_PUSH = 0xfffffffb

export const REQ_HEADER_BYTES = 16

// Shard counters shared with the primary (for /metrics and readiness; INFO asks the shard itself
// so that its figures are ordered with the client's other commands).
export const STAT_KEYS = 0
export const STAT_EXPIRES = 1
export const STAT_USED_MEMORY = 2
export const STAT_EXPIRED_KEYS = 3
export const STAT_HITS = 4
export const STAT_MISSES = 5
export const STAT_COMMANDS = 6
export const STAT_ERRORS = 7
/** Clients blocked on this shard's keys (BLPOP...). */
export const STAT_BLOCKED = 8
/** Bytes the fullest arena of this shard can still grow by (router: when a split write must go whole). */
export const STAT_ARENA_ROOM = 9
/** Those of STAT_BLOCKED that wait with a timeout (INFO's clients_in_timeout_table). */
export const STAT_BLOCKED_TIMED = 10
export const STAT_SLOTS = 11
export const RESP_HEADER_BYTES = 4

/** 1 MiB per ring: a pipeline of ~20k small commands per shard per turn before back-pressure. */
export const RING_BYTES = 1 << 20

import type { MessagePort } from 'node:worker_threads'
import type { KeyspaceLayout } from '../storage/keyspace.js'

/**
 * What a replacement for a dead shard worker starts from (shard-worker.ts, docs/ARCHITECTURE.md
 * "A dead shard"): the buffers of its databases as the dead thread last posted them, and on the
 * hub the function libraries' codes.
 */
export interface ShardResume {
  /** Workers this shard had before this one. */
  generation: number
  dbs: Array<KeyspaceLayout | null>
  libs: Uint8Array[] | null
}

/**
 * A script running in a shard worker asks its producer to merge a command's shard part (INFO,
 * SLOWLOG, MEMORY STATS...: `finish` needs the producer's state). Posted on `wake`; the answer
 * (the reply bytes) comes on `stepPort`, with the mailbox rung.
 */
export interface ShardAsk { cmd: number, argv: Uint8Array[], part: Uint8Array, db: number, resp3: boolean }

/** One producer's end of a shard, as the worker sees it. */
export interface ProducerEndpoint {
  req: { ctrl: SharedArrayBuffer, data: SharedArrayBuffer }
  resp: { ctrl: SharedArrayBuffer, data: SharedArrayBuffer }
  /** Records too big for a ring, both ways, taken with receiveMessageOnPort. */
  port: MessagePort
  /** Steps of a cross-shard transaction, sent while this shard is held (see server/txn.ts). */
  stepPort: MessagePort
  /** Int32 word bumped by the producer after each step message. */
  mailbox: SharedArrayBuffer
  /** The worker posts here when it published replies and the producer is not blocked waiting. */
  wake: MessagePort
  /**
   * Int32 word shared by one producer's endpoints on every shard: a worker posts on `wake` only
   * if it swaps this from 0 to 1, so one message is in flight per producer, not one per shard.
   */
  wakeWord: SharedArrayBuffer
}

/** At most this many records outstanding on a link (or just run by a shard) are a short batch, after which a thread spins (spin-us). */
export const SPIN_MAX_RECORDS = 4

export interface ShardWorkerData {
  /** The shared save state (persistence/save-state.ts). */
  save?: SharedArrayBuffer
  index: number
  shards: number
  producers: ProducerEndpoint[]
  /** Int32 doorbell (ring.ts ctrl layout: SEQ, SLEEPING, STOP) every producer rings. */
  bell: SharedArrayBuffer
  /** Float64 counters the worker publishes after every batch and tick (STAT_* indexes). */
  stats: SharedArrayBuffer
  /** Int32 output credit per client slot, shared by the primary and every shard. */
  credit: SharedArrayBuffer
  logLevel: string
  /** spin-us (config.ts): how long the worker watches its rings after a short batch; 0 or absent: it sleeps at once. */
  spinUs?: number
  /**
   * Where this shard's keyspace events go: a request ring read by shard 0 (the pub/sub hub) as
   * one of its producers, and shard 0's doorbell. Event records carry tickets of shard 0's
   * counter in `sequencer`, taken as they are committed, so the hub publishes the events of all
   * shards in the order they happened. Absent: events are dropped (tests of the rings alone).
   */
  events?: { req: { ctrl: SharedArrayBuffer, data: SharedArrayBuffer }, bell: SharedArrayBuffer }
  /** The Sequencer's words (server/sequencer.ts): [lock, next ticket of shard 0, ...]. */
  sequencer?: SharedArrayBuffer
  /** dir/dbfilename: loaded at start when it exists (this shard keeps its own keys). */
  rdbFile?: string
  /** INFO commandstats & co. (server/command-stats.ts): the shared rows, and this shard's row. */
  cmdStats?: { sab: SharedArrayBuffer, rows: number, row: number }
  /** Set for a worker that replaces one that died: it takes the shard over instead of loading. */
  resume?: ShardResume
  /**
   * Scripts inside the worker (one shard: scripting/in-shard.ts): the script-state word every
   * thread shares (BUSY, SCRIPT KILL), busy-reply-threshold's two words (high, low), LASTSAVE's
   * seconds (views of server/shared-state.ts), and the Redis version scripts see.
   */
  scripting?: { state: Int32Array, busy: Float64Array, lastSave: Float64Array, version: string }
}

/**
 * Encoding thresholds among the settings words the shards read (server/credits.ts sharedFlags):
 * hash-max-listpack-entries and -value, each as two words, low then high 32 bits, since CONFIG
 * SET takes values up to LONG_MAX and CONFIG GET gives them back.
 */
export const HASH_ENTRIES_WORD = 2
export const HASH_VALUE_WORD = 4
/** set-max-intset-entries, two words like the others. */
export const SET_INTSET_WORD = 6
/** zset-max-listpack-entries and -value. */
export const ZSET_ENTRIES_WORD = 8
export const ZSET_VALUE_WORD = 10
/** lazyfree-lazy-user-del: 1 = DEL frees big values in the background, as UNLINK does. */
export const LAZY_USER_DEL_WORD = 12
/** hll-sparse-max-bytes, two words: a sparse HLL longer than this turns dense. */
export const HLL_SPARSE_WORD = 14
/**
 * Eviction settings (storage/eviction.ts): maxmemory-policy (POLICY_*, 0 = noeviction),
 * maxmemory-samples, lfu-log-factor, lfu-decay-time, maxmemory-eviction-tenacity, and maxmemory
 * itself as two words (low, high 32 bits): each shard keeps its share of it.
 */
export const POLICY_WORD = 16
export const SAMPLES_WORD = 17
export const LFU_LOG_FACTOR_WORD = 18
export const LFU_DECAY_TIME_WORD = 19
export const TENACITY_WORD = 20
export const MAXMEMORY_WORD = 22
/** SCRIPT FLUSH count: a producer whose last seen count differs drops its compiled scripts. */
export const SCRIPT_EPOCH_WORD = 13
/** DEBUG CRASH-SHARD i stores i + 1 here: shard i's thread exits at its next batch boundary. */
export const CRASH_SHARD_WORD = 30
/**
 * Clients' query and output buffers of every I/O thread, in KiB: each thread adds the change of
 * its own total from its cron (server/server.ts), the shards take it out of maxmemory's share.
 */
export const CLIENTS_MEM_KB_WORD = 28
/** Counts big arena drops (FLUSHALL, FLUSHDB): other threads collect garbage when it moves (storage/release.ts). */
export const ARENA_DROP_WORD = 29
/** DEBUG SET-ACTIVE-EXPIRE 0 sets this word: the shards stop their active expiry sweep. */
export const ACTIVE_EXPIRE_OFF_WORD = 31
/**
 * The shards' background work, one bit each (0 = Redis's default): activerehashing no, and
 * lazyfree-lazy-expire, -eviction, -server-del and -user-flush yes (storage/shard.ts).
 */
export const BACKGROUND_WORD = 21
export const REHASH_OFF = 1
export const LAZY_EXPIRE = 2
export const LAZY_EVICTION = 4
export const LAZY_SERVER_DEL = 8
export const LAZY_USER_FLUSH = 16
/** active-expire-effort less one (0-9): the active sweep visits (1 + this / 4) times its buckets. */
export const EXPIRE_EFFORT_WORD = 24
/** list-max-listpack-size xor -2 (so the default, -2, is 0): RDB's quicklist nodes and DEBUG OBJECT. */
export const LIST_FILL_WORD = 25

/** hz (1-500; 0 reads as the default, 10): how often each shard runs its active expiry sweep and tick. */
export const HZ_WORD = 27
export function hzOf (flags: Int32Array): number { return flags[HZ_WORD] === 0 ? 10 : flags[HZ_WORD] }

/** list-max-listpack-size from its word. */
export function listFill (flags: Int32Array): number { return flags[LIST_FILL_WORD] ^ -2 }
/** requirepass's room in the shared state (server/shared-state.ts): its length word, then up to this many bytes. */
export const PASSWORD_MAX = 1024
/** The function libraries' change count's step in SCRIPT_EPOCH_WORD (SCRIPT FLUSH counts in the low 16 bits). */
export const FUNCTION_EPOCH_STEP = 1 << 16

/** A threshold from its two words; past 2^32 it is as good as unbounded. */
export function limitOf (flags: Int32Array, word: number): number {
  return flags[word + 1] !== 0 ? Infinity : flags[word] >>> 0
}

/** An __exec record's count word: the command count, and EXEC_ENDS when the shard ends the watch session after it (all its keys are there). */
export const EXEC_COUNT = 0x0fffffff
export const EXEC_ENDS = 0x80000000
/**
 * A watched EXEC across shards, without a hold (server/multi.ts execWatched): its meta names a
 * verdict cell (credits.ts verdictWords) and how many watched shards arrive there. EXEC_WATCHED:
 * this shard holds watched keys of the session, so it checks them, ends its part of the session
 * and arrives; a shard with commands waits until every watched shard has arrived, then runs them
 * or answers null as the cell says.
 */
export const EXEC_VERDICT = 0x40000000
export const EXEC_WATCHED = 0x20000000
/**
 * The AOF was on when a transaction's parts, or a split MSET's, DEL's or UNLINK's, were staged
 * on several shards (server/multi.ts execSplit, execWatched, groupedPart): the meta ends with the group (commands/xmove.ts groupMeta), and the
 * parts hand their effects to the group's last shard, which writes them as one MULTI/EXEC block.
 */
export const EXEC_AOF_GROUP = 0x10000000
/**
 * In an __exec command's header word (command id, bits 0-15; db, bits 24-31): the command is one
 * shard's part of a split command, whose call, errors and SLOWLOG entry the producer counts once
 * merged (router.ts finishSplit); the shard counts only its time, as for a part sent alone.
 */
export const EXEC_CMD_PART = 0x10000
