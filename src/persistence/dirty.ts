// Redis's `dirty` (INFO's rdb_changes_since_last_save, what the save points count): each write
// command adds what its Redis implementation adds to server.dirty, not one per storage change.
// A command that changed nothing adds nothing; one that did adds by its rule here (one name
// table, made into a per-command-id array once per thread), else 1.

import type { Command } from '../commands/table.js'

/** 1 (SET, INCR, EXPIRE... the default). */
export const DIRTY_ONE = 0
/** The integer reply, or the array reply's length (keys deleted, members added or popped). */
export const DIRTY_REPLY = 1
/** The arguments after the key (LPUSH's elements). */
export const DIRTY_ELEMENTS = 2
/** The field-value pairs after the key (HSET). */
export const DIRTY_PAIRS_AFTER_KEY = 3
/** The key-value pairs (MSET). */
export const DIRTY_PAIRS = 4
/**
 * The command adds its own to shard.dirty, changed storage or not (FLUSHALL, FLUSHDB: the keys
 * removed; PFCOUNT's cache; the consumer-group commands, whose changes leave writes.count alone).
 */
export const DIRTY_OWN = 5
/** The command leaves its count in ownDirty.n (ZADD: added + updated; PFADD: registers changed). */
export const DIRTY_SET = 7
/** LMPOP/ZMPOP: the elements popped, the inner array of `*2 key *n`. */
export const DIRTY_MPOP = 8
/** SORT/GEO... STORE: the elements stored (the integer reply), or 1 when none were and the destination was deleted. */
export const DIRTY_STORED = 9

/** What a DIRTY_SET command counted, read (and cleared) by dirtyOf. */
export const ownDirty = { n: 0 }

const RULES: Record<string, number> = {
  del: DIRTY_REPLY, unlink: DIRTY_REPLY, sadd: DIRTY_REPLY, srem: DIRTY_REPLY, hdel: DIRTY_REPLY,
  zrem: DIRTY_REPLY, zremrangebyscore: DIRTY_REPLY, zremrangebyrank: DIRTY_REPLY,
  zremrangebylex: DIRTY_REPLY, lrem: DIRTY_REPLY, xdel: DIRTY_REPLY,
  spop: DIRTY_REPLY, lpop: DIRTY_REPLY, rpop: DIRTY_REPLY,
  // ZPOPMIN/ZPOPMAX: the members popped (the reply holds pairs, flat or nested); LTRIM: the
  // elements removed; BITFIELD: the SET/INCRBY ops that changed the field (or grew the string).
  zpopmin: DIRTY_SET, zpopmax: DIRTY_SET, ltrim: DIRTY_SET, bitfield: DIRTY_SET,
  zadd: DIRTY_SET, geoadd: DIRTY_SET, pfadd: DIRTY_SET, smove: DIRTY_SET,
  // A move between shards (commands/xmove.ts): the part that counts the command says how much.
  __xmove: DIRTY_SET,
  lmpop: DIRTY_MPOP, zmpop: DIRTY_MPOP, blmpop: DIRTY_MPOP, bzmpop: DIRTY_MPOP,
  geosearchstore: DIRTY_STORED, georadius: DIRTY_STORED, georadiusbymember: DIRTY_STORED, sort: DIRTY_STORED,
  lpush: DIRTY_ELEMENTS, rpush: DIRTY_ELEMENTS, lpushx: DIRTY_ELEMENTS, rpushx: DIRTY_ELEMENTS,
  hset: DIRTY_PAIRS_AFTER_KEY, hmset: DIRTY_PAIRS_AFTER_KEY,
  mset: DIRTY_PAIRS, msetnx: DIRTY_PAIRS,
  flushall: DIRTY_OWN, flushdb: DIRTY_OWN,
  xack: DIRTY_OWN, xclaim: DIRTY_OWN, xautoclaim: DIRTY_OWN, xreadgroup: DIRTY_OWN, __xrgserve: DIRTY_OWN, xsetid: DIRTY_OWN,
  'xgroup|create': DIRTY_OWN, 'xgroup|createconsumer': DIRTY_OWN, 'xgroup|delconsumer': DIRTY_OWN,
  'xgroup|destroy': DIRTY_OWN, 'xgroup|setid': DIRTY_OWN,
}

/** Each command's rule, by command id. */
export function dirtyRules (commands: readonly Command[]): Uint8Array {
  return Uint8Array.from(commands, c => RULES[c.name] ?? DIRTY_ONE)
}

/**
 * The dirty of a write command that changed something: its rule applied to its argument count and
 * its reply at reply[at]. A cross-shard command's (server/txn.ts) is counted from its reply too,
 * not from the steps it ran; DIRTY_SET there is the handler's own (TxnContext.addDirty).
 */
export function dirtyOf (rule: number, argc: number, reply: Uint8Array, at: number): number {
  switch (rule) {
    case DIRTY_ONE: return 1
    case DIRTY_REPLY: return replyCount(reply, at)
    case DIRTY_ELEMENTS: return argc - 2
    case DIRTY_PAIRS_AFTER_KEY: return (argc - 2) >> 1
    case DIRTY_PAIRS: return (argc - 1) >> 1
    case DIRTY_SET: { const n = ownDirty.n; ownDirty.n = 0; return n }
    case DIRTY_MPOP: return mpopCount(reply, at)
    case DIRTY_STORED: return replyCount(reply, at) || 1
    default: return 0
  }
}

/** `*2\r\n$<n>\r\n<key>\r\n*<count>`: the count (0 for anything else). */
function mpopCount (buf: Uint8Array, at: number): number {
  if (buf[at] !== 42 && buf[at] !== 37) return 0
  let p = at
  while (buf[p] !== 10) p++
  p++
  if (buf[p] !== 36) return 0
  let klen = 0
  for (p++; buf[p] >= 48 && buf[p] <= 57; p++) klen = klen * 10 + buf[p] - 48
  return replyCount(buf, p + 2 + klen + 2)
}

/** The count a reply at buf[at] carries: `:n`, `*n` or `~n` (a set); 1 for anything else (a popped bulk). */
export function replyCount (buf: Uint8Array, at: number): number {
  const t = buf[at]
  if (t !== 58 && t !== 42 && t !== 126) return 1
  let n = 0
  for (let p = at + 1; buf[p] >= 48 && buf[p] <= 57; p++) n = n * 10 + buf[p] - 48
  return n
}
