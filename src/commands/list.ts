// List commands (Redis t_list.c) over the arena lists of src/storage/list.ts. A list that
// becomes empty is deleted, as Redis does. Same check order as Redis everywhere: argument parsing
// before or after the key lookup exactly where t_list.c does it. LMOVE/RPOPLPUSH and LMPOP may
// span shards: then a transaction holds every shard involved and composes single-shard steps.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard, BlockSpec } from '../storage/shard.js'
import { BLOCK_POP, BLOCK_MPOP, BLOCK_MOVE, BLOCK_NOTIFY } from '../storage/shard.js'
import { timeoutMillis } from './float.js'
import { TYPE_LIST, TYPE_ZSET } from '../storage/keyspace.js'
import {
  HEAD, TAIL, LIST_HEADER_BYTES, listInit, listLen, listPush, listFirst, listIndex, listInsertAt,
  listReplaceElem, listRemoveElem, listUnlinkElem, listLinkElem, elemEquals, elemData, elemLen,
} from '../storage/list.js'
import { OK, ZERO, MINUS_ONE, EMPTY_ARRAY } from '../protocol/replies.js'
import {
  WRONGTYPE, SYNTAX_ERR, NOT_INTEGER, OOM, NO_SUCH_KEY, INDEX_OUT_OF_RANGE, POP_COUNT_RANGE,
  LPOS_RANK_ZERO, LPOS_COUNT_NEGATIVE, LPOS_MAXLEN_NEGATIVE, NUMKEYS_NOT_POSITIVE,
  COUNT_NOT_POSITIVE, arityError,
} from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { isNullReply, isErrorReply, bulkPayload, argBytes, argvOf } from './txn-helpers.js'
import { readU32 } from './internal.js'
import { copyBytes } from '../bytes.js'
import { errorReply } from '../protocol/errors.js'
import { NOTIFY_GENERIC, NOTIFY_LIST, eventName } from '../storage/notify.js'
import { writes } from '../storage/writes.js'
import { ownDirty } from '../persistence/dirty.js'

// Keyspace events (notifyKeyspaceEvent calls of t_list.c), indexed by HEAD/TAIL where two.
const EV_PUSH = [eventName('lpush'), eventName('rpush')]
const EV_POP = [eventName('lpop'), eventName('rpop')]
const EV_DEL = eventName('del')
const EV_LINSERT = eventName('linsert')
const EV_LSET = eventName('lset')
const EV_LREM = eventName('lrem')
const EV_LTRIM = eventName('ltrim')

const TOK_LEFT = token('left')
const TOK_RIGHT = token('right')
const TOK_BEFORE = token('before')
const TOK_AFTER = token('after')
const TOK_RANK = token('rank')
const TOK_COUNT = token('count')
const TOK_MAXLEN = token('maxlen')

const LPOP_ARITY = arityError('lpop')
const RPOP_ARITY = arityError('rpop')
const NULL_BULK2 = Buffer.from('$-1\r\n')
const NULL_ARRAY2 = Buffer.from('*-1\r\n')
const NULL3 = Buffer.from('_\r\n')
const LLONG_MIN = -9223372036854775808n

/** getListPositionFromObjectOrReply: LEFT → HEAD, RIGHT → TAIL, anything else -1. */
export function listPosition (buf: Uint8Array, start: number, len: number): number {
  if (equalsLower(buf, start, len, TOK_LEFT)) return HEAD
  if (equalsLower(buf, start, len, TOK_RIGHT)) return TAIL
  return -1
}

/** Creates an empty list entry for a key just looked up and missed (0 when the arena is full). */
function createList (shard: Shard, buf: Uint8Array, start: number, len: number): number {
  const ks = shard.ks
  const e = ks.insert(buf, start, len, shard.lastHash, TYPE_LIST, LIST_HEADER_BYTES)
  if (e !== 0) listInit(ks, e)
  return e
}

/**
 * listElementsRemoved: "lpop"/"rpop" for the key (current database), then, once the list is
 * empty, the key goes with a "del".
 */
function elementsRemoved (shard: Shard, e: number, where: number, buf: Uint8Array, start: number, len: number): void {
  shard.notify(NOTIFY_LIST, EV_POP[where], buf, start, len)
  if (listLen(shard.ks, e) === 0) {
    shard.ks.remove(e)
    shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start, len)
  }
}

/**
 * Pops up to count elements from one end of key (bytes at buf[start, start+len)), replying with
 * them as an array in pop order (Redis's addListRangeReply with reverse for the tail), and
 * deletes the key once the list is empty.
 */
function popRangeReply (shard: Shard, e: number, where: number, count: number, out: ReplyWriter,
  buf: Uint8Array, start: number, len: number): void {
  const ks = shard.ks
  const llen = listLen(ks, e)
  const n = count > llen ? llen : count
  out.arrayHeader(n)
  for (let i = 0; i < n; i++) {
    const el = listFirst(ks, e, where)
    out.bulk(ks.arena.u8, elemData(el), elemLen(ks, el))
    listRemoveElem(ks, e, el)
  }
  elementsRemoved(shard, e, where, buf, start, len)
}

// --- push / pop (pushGenericCommand, popGenericCommand) ------------------------------------------

function pushGeneric (shard: Shard, argv: Argv, out: ReplyWriter, where: number, isXx: boolean): void {
  const { buf, start, len, argc } = argv
  const ks = shard.ks
  let e = shard.lookup(buf, start[1], len[1])
  let isNew = false
  if (e !== 0 && ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  if (e === 0) {
    if (isXx) { out.raw(ZERO); return }
    e = createList(shard, buf, start[1], len[1])
    if (e === 0) { out.raw(OOM); return }
    isNew = true
  }
  for (let j = 2; j < argc; j++) {
    if (!listPush(ks, e, where, buf, start[j], len[j])) {
      // Out of memory part way: take back this command's elements so it did nothing.
      for (let k = 2; k < j; k++) listRemoveElem(ks, e, listFirst(ks, e, where))
      if (isNew) ks.remove(e)
      out.raw(OOM)
      return
    }
  }
  out.int(listLen(ks, e))
  shard.notify(NOTIFY_LIST, EV_PUSH[where], buf, start[1], len[1])
}

export function lpushCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { pushGeneric(shard, argv, out, HEAD, false) }
export function rpushCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { pushGeneric(shard, argv, out, TAIL, false) }
export function lpushxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { pushGeneric(shard, argv, out, HEAD, true) }
export function rpushxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { pushGeneric(shard, argv, out, TAIL, true) }

function popGeneric (shard: Shard, argv: Argv, out: ReplyWriter, where: number): void {
  const { buf, start, len, argc } = argv
  if (argc > 3) { out.raw(where === HEAD ? LPOP_ARITY : RPOP_ARITY); return }
  const hasCount = argc === 3
  let count = 0
  if (hasCount) {
    // getPositiveLongFromObjectOrReply: a non-integer gets the same message as a negative.
    if (!parseInt64(buf, start[2], len[2]) || parsed.value < 0) { out.raw(POP_COUNT_RANGE); return }
    count = parsed.value
  }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { if (hasCount) out.nullArray(); else out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  if (hasCount && count === 0) { out.raw(EMPTY_ARRAY); return }
  if (!hasCount) {
    popOne(shard, e, where, out, buf, start[1], len[1])
    return
  }
  popRangeReply(shard, e, where, count, out, buf, start[1], len[1])
}

export function lpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { popGeneric(shard, argv, out, HEAD) }
export function rpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { popGeneric(shard, argv, out, TAIL) }

// --- reads ---------------------------------------------------------------------------------------

export function llenCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  out.int(listLen(ks, e))
}

// lindexCommand: the key is looked up before the index is parsed.
export function lindexCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  const el = listIndex(ks, e, parsed.value)
  if (el === 0) { out.nullBulk(); return }
  out.bulk(ks.arena.u8, elemData(el), elemLen(ks, el))
}

/** Result of clampRange (module scratch: no allocation per command). */
const range = { from: 0, to: 0 }

/**
 * Redis's start/end rules for LRANGE and LTRIM: negatives count from the tail, start is
 * clamped to 0 and end to the last element. False when the range selects nothing.
 */
function clampRange (from: number, to: number, llen: number): boolean {
  if (from < 0) from = llen + from
  if (to < 0) to = llen + to
  if (from < 0) from = 0
  if (from > to || from >= llen) return false
  range.from = from
  range.to = to >= llen ? llen - 1 : to
  return true
}

// lrangeCommand: indexes are parsed before the key is looked up.
export function lrangeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  let from = parsed.value
  if (!parseInt64(buf, start[3], len[3])) { out.raw(NOT_INTEGER); return }
  const to = parsed.value
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_ARRAY); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  // addListRangeReply
  if (!clampRange(from, to, listLen(ks, e))) { out.raw(EMPTY_ARRAY); return }
  from = range.from
  const n = range.to - from + 1
  out.arrayHeader(n)
  const u32 = ks.arena.u32
  let el = listIndex(ks, e, from)
  for (let i = 0; i < n; i++) {
    out.bulk(ks.arena.u8, elemData(el), u32[(el + 8) >>> 2])
    el = u32[(el + 4) >>> 2]
  }
}

/** Scratch for LPOS COUNT matches: the reply's length is known only at the end. */
let lposMatches = new Float64Array(64)

// lposCommand: options are parsed before the key is looked up; a later option overrides.
export function lposCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let rank = 1
  let count = -1 // -1: no COUNT option
  let maxlen = 0
  let isMinRank = false
  for (let j = 3; j < argc; j++) {
    const s = start[j]
    const l = len[j]
    const hasMore = j < argc - 1
    if (hasMore && equalsLower(buf, s, l, TOK_RANK)) {
      j++
      if (!parseInt64(buf, start[j], len[j])) { out.raw(NOT_INTEGER); return }
      if (parsed.value === 0) { out.raw(LPOS_RANK_ZERO); return }
      rank = parsed.value
      isMinRank = parsed.isBig && parsed.big === LLONG_MIN
    } else if (hasMore && equalsLower(buf, s, l, TOK_COUNT)) {
      j++
      if (!parseInt64(buf, start[j], len[j]) || parsed.value < 0) { out.raw(LPOS_COUNT_NEGATIVE); return }
      count = parsed.value
    } else if (hasMore && equalsLower(buf, s, l, TOK_MAXLEN)) {
      j++
      if (!parseInt64(buf, start[j], len[j]) || parsed.value < 0) { out.raw(LPOS_MAXLEN_NEGATIVE); return }
      maxlen = parsed.value
    } else {
      out.raw(SYNTAX_ERR)
      return
    }
  }
  // A negative rank searches from the tail. RANK LLONG_MIN: -rank overflows in Redis 7.0 and
  // stays negative, so every match satisfies "matches >= rank" and "matches-rank+1 >= count"
  // wraps negative: it acts as rank 1 from the tail with no COUNT limit.
  let fromTail = false
  if (rank < 0) { rank = -rank; fromTail = true }
  if (isMinRank) { rank = 1; if (count > 0) count = 0 }
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { if (count !== -1) out.raw(EMPTY_ARRAY); else out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  const llen = listLen(ks, e)
  const u32 = ks.arena.u32
  const vs = start[2]
  const vl = len[2]
  let index = 0
  let matches = 0
  let found = 0
  let el = listFirst(ks, e, fromTail ? TAIL : HEAD)
  while (el !== 0 && (maxlen === 0 || index < maxlen)) {
    if (elemEquals(ks, el, buf, vs, vl)) {
      matches++
      if (matches >= rank) {
        if (count === -1) break
        if (found === lposMatches.length) { const m = new Float64Array(found * 2); m.set(lposMatches); lposMatches = m }
        lposMatches[found++] = fromTail ? llen - index - 1 : index
        if (count !== 0 && matches - rank + 1 >= count) break
      }
    }
    index++
    el = fromTail ? u32[el >>> 2] : u32[(el + 4) >>> 2]
  }
  if (count === -1) {
    if (el !== 0 && (maxlen === 0 || index < maxlen)) out.int(fromTail ? llen - index - 1 : index)
    else out.nullBulk()
    return
  }
  out.arrayHeader(found)
  for (let i = 0; i < found; i++) out.int(lposMatches[i])
}

// --- in-place writes -----------------------------------------------------------------------------

// lsetCommand: key first, then the index.
export function lsetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(NO_SUCH_KEY); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  const el = listIndex(ks, e, parsed.value)
  if (el === 0) { out.raw(INDEX_OUT_OF_RANGE); return }
  if (listReplaceElem(ks, e, el, buf, start[3], len[3]) === 0) { out.raw(OOM); return }
  shard.notify(NOTIFY_LIST, EV_LSET, buf, start[1], len[1])
  out.raw(OK)
}

// linsertCommand: BEFORE/AFTER is checked before the key; the pivot is searched from the head.
export function linsertCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  let isAfter: boolean
  if (equalsLower(buf, start[2], len[2], TOK_AFTER)) isAfter = true
  else if (equalsLower(buf, start[2], len[2], TOK_BEFORE)) isAfter = false
  else { out.raw(SYNTAX_ERR); return }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  for (let el = listFirst(ks, e, HEAD); el !== 0; el = ks.arena.u32[(el + 4) >>> 2]) {
    if (elemEquals(ks, el, buf, start[3], len[3])) {
      if (!listInsertAt(ks, e, el, isAfter, buf, start[4], len[4])) { out.raw(OOM); return }
      shard.notify(NOTIFY_LIST, EV_LINSERT, buf, start[1], len[1])
      out.int(listLen(ks, e))
      return
    }
  }
  out.raw(MINUS_ONE)
}

// ltrimCommand: indexes first; a missing key is OK.
export function ltrimCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  const from = parsed.value
  if (!parseInt64(buf, start[3], len[3])) { out.raw(NOT_INTEGER); return }
  const to = parsed.value
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(OK); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  const llen = listLen(ks, e)
  let ltrim = llen
  let rtrim = 0
  if (clampRange(from, to, llen)) {
    ltrim = range.from
    rtrim = llen - range.to - 1
  }
  // Redis's dirty: the elements removed (none: nothing changed, nothing counted).
  ownDirty.n = ltrim + rtrim
  for (let i = 0; i < ltrim; i++) listRemoveElem(ks, e, listFirst(ks, e, HEAD))
  for (let i = 0; i < rtrim; i++) listRemoveElem(ks, e, listFirst(ks, e, TAIL))
  // "ltrim" even when nothing was trimmed, then "del" if nothing is left; Redis signals the key
  // as modified either way (WATCH, CLIENT TRACKING).
  if (ltrim + rtrim === 0) writes.signals++
  shard.notify(NOTIFY_LIST, EV_LTRIM, buf, start[1], len[1])
  if (listLen(ks, e) === 0) {
    ks.remove(e)
    shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
  }
  out.raw(OK)
}

// lremCommand: count first; negative counts remove from the tail, 0 removes all.
export function lremCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  let toRemove = parsed.value
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  const fromTail = toRemove < 0
  if (fromTail) toRemove = -toRemove
  let removed = 0
  let el = listFirst(ks, e, fromTail ? TAIL : HEAD)
  while (el !== 0) {
    const u32 = ks.arena.u32
    const next = fromTail ? u32[el >>> 2] : u32[(el + 4) >>> 2]
    if (elemEquals(ks, el, buf, start[3], len[3])) {
      listRemoveElem(ks, e, el)
      removed++
      if (toRemove !== 0 && removed === toRemove) break
    }
    el = next
  }
  if (removed > 0) shard.notify(NOTIFY_LIST, EV_LREM, buf, start[1], len[1])
  if (listLen(ks, e) === 0) {
    ks.remove(e)
    shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
  }
  out.int(removed)
}

// --- LMOVE / RPOPLPUSH (lmoveGenericCommand) -----------------------------------------------------

/**
 * Same shard: source missing → null; source not a list → WRONGTYPE; destination not a list →
 * WRONGTYPE; then the element's block moves from one chain to the other (no copy). Events in
 * lmoveGenericCommand's order: the push on the destination ("new" if made, then
 * "lpush"/"rpush", from lmoveHandlePush), then "lpop"/"rpop" on the source and its "del".
 */
function lmoveGeneric (shard: Shard, argv: Argv, out: ReplyWriter, whereFrom: number, whereTo: number): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const src = shard.lookup(buf, start[1], len[1])
  if (src === 0) { out.nullBulk(); return }
  if (ks.type(src) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  let dst = shard.lookup(buf, start[2], len[2])
  if (dst !== 0 && ks.type(dst) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  if (dst === 0) {
    dst = createList(shard, buf, start[2], len[2])
    if (dst === 0) { out.raw(OOM); return }
  }
  const el = listFirst(ks, src, whereFrom)
  listUnlinkElem(ks, src, el)
  listLinkElem(ks, dst, whereTo, el)
  out.bulk(ks.arena.u8, elemData(el), elemLen(ks, el))
  shard.notify(NOTIFY_LIST, EV_PUSH[whereTo], buf, start[2], len[2])
  elementsRemoved(shard, src, whereFrom, buf, start[1], len[1])
}

export function lmoveCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const whereFrom = listPosition(buf, start[3], len[3])
  const whereTo = listPosition(buf, start[4], len[4])
  if (whereFrom < 0 || whereTo < 0) { out.raw(SYNTAX_ERR); return }
  lmoveGeneric(shard, argv, out, whereFrom, whereTo)
}

export function rpoplpushCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  lmoveGeneric(shard, argv, out, TAIL, HEAD)
}

/**
 * __listpeek key where: the element LMOVE would pop (where: 0 head, 1 tail), null when the key
 * is missing, WRONGTYPE when it is not a list. A write lookup: no hit/miss stats.
 */
export function listpeekStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookup(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
  const el = listFirst(ks, e, argv.buf[argv.start[2]] === 49 /* '1' */ ? TAIL : HEAD)
  out.bulk(ks.arena.u8, elemData(el), elemLen(ks, el))
}

const POP_STEP = ['lpop', 'rpop']
const PUSH_STEP = ['lpush', 'rpush']
const WHERE_ARG = [Buffer.from('0'), Buffer.from('1')]

/**
 * Across shards, in lmoveGenericCommand's order, while the transaction holds both shards (so no
 * client sees the element in both lists or in neither): check source (reading the element it
 * would pop), then push (which checks the destination's type before it changes anything), then
 * pop. Pushing before popping gives Redis's events in its order (the push's "new" and
 * "lpush"/"rpush" on the destination, then the pop's "lpop"/"rpop" and "del" on the source),
 * and a push that fails (WRONGTYPE, arena full) has nothing to undo.
 */
export async function lmoveCoordGeneric (tx: TxnContext, argv: Argv, whereFrom: number, whereTo: number): Promise<Uint8Array> {
  const { buf, start, len } = argv
  const src = argBytes(buf, start[1], len[1])
  const dst = argBytes(buf, start[2], len[2])
  const a = tx.shardOf(buf, start[1], len[1])
  const b = tx.shardOf(buf, start[2], len[2])
  const nullBulk = tx.resp3 ? NULL3 : NULL_BULK2
  const peeked = await tx.run(a, '__listpeek', [src, WHERE_ARG[whereFrom]])
  if (isErrorReply(peeked)) return peeked
  if (isNullReply(peeked)) return nullBulk
  const pushed = await tx.run(b, PUSH_STEP[whereTo], [dst, bulkPayload(peeked)])
  if (isErrorReply(pushed)) return pushed
  return await tx.run(a, POP_STEP[whereFrom], [src])
}

export async function lmoveCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const { buf, start, len } = argv
  const whereFrom = listPosition(buf, start[3], len[3])
  const whereTo = listPosition(buf, start[4], len[4])
  if (whereFrom < 0 || whereTo < 0) return SYNTAX_ERR
  return await lmoveCoordGeneric(tx, argv, whereFrom, whereTo)
}

// --- LMPOP (lmpopGenericCommand, mpopGenericCommand) ---------------------------------------------

/** Parsed LMPOP arguments (valid after lmpopParse returns null). */
const mpop = { numkeys: 0, where: HEAD, count: 1, countArg: -1 }

/** Parses numkeys (at argument n), LEFT|RIGHT and COUNT as lmpopGenericCommand does; returns the error or null. */
export function lmpopParse (argv: Argv, n = 1): Buffer | null {
  const { buf, start, len, argc } = argv
  if (!parseInt64(buf, start[n], len[n]) || parsed.value < 1) return NUMKEYS_NOT_POSITIVE
  const numkeys = parsed.value
  const whereIdx = numkeys + n + 1
  if (whereIdx >= argc) return SYNTAX_ERR
  const where = listPosition(buf, start[whereIdx], len[whereIdx])
  if (where < 0) return SYNTAX_ERR
  let count = -1
  let countArg = -1
  for (let j = whereIdx + 1; j < argc; j++) {
    if (count === -1 && j < argc - 1 && equalsLower(buf, start[j], len[j], TOK_COUNT)) {
      j++
      if (!parseInt64(buf, start[j], len[j]) || parsed.value < 1) return COUNT_NOT_POSITIVE
      count = parsed.value
      countArg = j
    } else {
      return SYNTAX_ERR
    }
  }
  mpop.numkeys = numkeys
  mpop.where = where
  mpop.count = count === -1 ? 1 : count
  mpop.countArg = countArg
  return null
}

/** The first non-empty list among the keys is popped; a wrong type met first is an error. */
export function lmpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const err = lmpopParse(argv)
  if (err !== null) { out.raw(err); return }
  const { buf, start, len } = argv
  const ks = shard.ks
  for (let k = 2; k < mpop.numkeys + 2; k++) {
    const e = shard.lookup(buf, start[k], len[k])
    if (e === 0) continue
    if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
    out.arrayHeader(2)
    out.bulk(buf, start[k], len[k])
    popRangeReply(shard, e, mpop.where, mpop.count, out, buf, start[k], len[k])
    return
  }
  out.nullArray()
}

/** Key indexes 2..numkeys+1, or null when numkeys is malformed (the shard then replies). */
export function lmpopGetKeys (argv: Argv): number[] | null {
  if (!parseInt64(argv.buf, argv.start[1], argv.len[1])) return null
  const numkeys = parsed.value
  if (numkeys < 1 || numkeys > argv.argc - 2) return null
  const keys: number[] = []
  for (let k = 2; k < numkeys + 2; k++) keys.push(k)
  return keys
}

/** Keys on several shards: a one-key LMPOP on each key's shard, in key order, until one answers. */
export async function lmpopCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const err = lmpopParse(argv)
  if (err !== null) return err
  const { buf, start, len } = argv
  const numkeys = mpop.numkeys
  const whereTok = mpop.where === HEAD ? TOK_LEFT : TOK_RIGHT
  // The client's own COUNT bytes: a count past 2^53 must not go through a double.
  const countArg = mpop.countArg < 0 ? ONE_ARG : argBytes(buf, start[mpop.countArg], len[mpop.countArg])
  for (let k = 2; k < numkeys + 2; k++) {
    const reply = await tx.run(tx.shardOf(buf, start[k], len[k]), 'lmpop', [ONE_ARG, argBytes(buf, start[k], len[k]), whereTok, TOK_COUNT, countArg])
    if (!isNullReply(reply) && !isNullArrayReply(reply)) return reply
  }
  return tx.resp3 ? NULL3 : NULL_ARRAY2
}

const ONE_ARG = Buffer.from('1')

/** *-1 (RESP2 null array); RESP3's _ is covered by isNullReply. */
function isNullArrayReply (r: Uint8Array): boolean {
  return r[0] === 42 && r[1] === 45
}

// --- blocking pops (blockingPopGenericCommand, blmoveGenericCommand) ------------------------------
// A blocking command that finds a list pops at once, as its non-blocking form. Otherwise it sets
// shard.pendingBlock and replies nothing: the worker parks the client on its keys and, when a
// push makes one of them a list (storage/writes.ts onInsert), serves it with serveBlocked in
// arrival order, or answers the timeout. Inside EXEC it answers as if timed out at once.

const TIMEOUT_NOT_FLOAT = errorReply('ERR timeout is not a float or out of range')
const TIMEOUT_NEGATIVE = errorReply('ERR timeout is negative')

/** The timeout argument as a deadline (0: forever), or null after replying the error. */
export function blockDeadline (shard: Shard, argv: Argv, i: number, out: ReplyWriter): number | null {
  const t = timeoutMillis(argv.buf, argv.start[i], argv.len[i])
  if (t === 'invalid') { out.raw(TIMEOUT_NOT_FLOAT); return null }
  if (t === 'negative') { out.raw(TIMEOUT_NEGATIVE); return null }
  return t === 0 ? 0 : shard.now() + t
}

export function keyCopies (argv: Argv, from: number, to: number): Buffer[] {
  const keys: Buffer[] = []
  for (let k = from; k < to; k++) {
    const key = Buffer.allocUnsafe(argv.len[k])
    copyBytes(argv.buf, argv.start[k], argv.len[k], key, 0)
    keys.push(key)
  }
  return keys
}

function blockingPop (shard: Shard, argv: Argv, out: ReplyWriter, where: number): void {
  const { buf, start, len, argc } = argv
  const deadline = blockDeadline(shard, argv, argc - 1, out)
  if (deadline === null) return
  const ks = shard.ks
  for (let k = 1; k < argc - 1; k++) {
    const e = shard.lookup(buf, start[k], len[k])
    if (e === 0) continue
    if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
    out.arrayHeader(2)
    out.bulk(buf, start[k], len[k])
    popOne(shard, e, where, out, buf, start[k], len[k])
    return
  }
  if (shard.noBlock) { out.nullArray(); return }
  shard.pendingBlock = { kind: BLOCK_POP, where, whereTo: HEAD, count: 1, keys: keyCopies(argv, 1, argc - 1), dst: null, deadline, waitId: 0, isZset: false }
}

/** Pops one element of key (bytes at buf[start, start+len)) and replies with it. */
function popOne (shard: Shard, e: number, where: number, out: ReplyWriter, buf: Uint8Array, start: number, len: number): void {
  const ks = shard.ks
  const el = listFirst(ks, e, where)
  out.bulk(ks.arena.u8, elemData(el), elemLen(ks, el))
  listRemoveElem(ks, e, el)
  elementsRemoved(shard, e, where, buf, start, len)
}

export function blpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { blockingPop(shard, argv, out, HEAD) }
export function brpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { blockingPop(shard, argv, out, TAIL) }

function blockingMove (shard: Shard, argv: Argv, out: ReplyWriter, whereFrom: number, whereTo: number, timeoutIdx: number): void {
  const deadline = blockDeadline(shard, argv, timeoutIdx, out)
  if (deadline === null) return
  const { buf, start, len } = argv
  const src = shard.lookup(buf, start[1], len[1])
  if (src !== 0) { lmoveGeneric(shard, argv, out, whereFrom, whereTo); return }
  if (shard.noBlock) { out.nullBulk(); return }
  shard.pendingBlock = { kind: BLOCK_MOVE, where: whereFrom, whereTo, count: 1, keys: keyCopies(argv, 1, 2), dst: Buffer.from(buf.subarray(start[2], start[2] + len[2])), deadline, waitId: 0, isZset: false }
}

export function brpoplpushCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { blockingMove(shard, argv, out, TAIL, HEAD, 3) }

export function blmoveCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const whereFrom = listPosition(buf, start[3], len[3])
  if (whereFrom < 0) { out.raw(SYNTAX_ERR); return }
  const whereTo = listPosition(buf, start[4], len[4])
  if (whereTo < 0) { out.raw(SYNTAX_ERR); return }
  blockingMove(shard, argv, out, whereFrom, whereTo, 5)
}

export function blmpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const err = lmpopParse(argv, 2)
  if (err !== null) { out.raw(err); return }
  const { numkeys, where, count } = mpop
  const deadline = blockDeadline(shard, argv, 1, out)
  if (deadline === null) return
  const { buf, start, len } = argv
  const ks = shard.ks
  for (let k = 3; k < numkeys + 3; k++) {
    const e = shard.lookup(buf, start[k], len[k])
    if (e === 0) continue
    if (ks.type(e) !== TYPE_LIST) { out.raw(WRONGTYPE); return }
    out.arrayHeader(2)
    out.bulk(buf, start[k], len[k])
    popRangeReply(shard, e, where, count, out, buf, start[k], len[k])
    return
  }
  if (shard.noBlock) { out.nullArray(); return }
  shard.pendingBlock = { kind: BLOCK_MPOP, where, whereTo: HEAD, count, keys: keyCopies(argv, 3, numkeys + 3), dst: null, deadline, waitId: 0, isZset: false }
}

/**
 * The non-blocking form of a blocking command whose keys span shards, on held shards (a wait
 * across shards tries it, server/blocking.ts; inside EXEC it is the whole command). Null when
 * there was nothing to pop; arguments already checked.
 */
export async function blockingTry (tx: TxnContext, name: string, argv: Argv): Promise<Uint8Array | null> {
  const { buf, start, len } = argv
  if (name === 'blmove' || name === 'brpoplpush') {
    const r = name === 'blmove' ? await lmoveCoord(tx, argv) : await lmoveCoordGeneric(tx, argv, TAIL, HEAD)
    return isNullReply(r) ? null : r
  }
  if (name === 'blmpop') {
    // LMPOP's arguments are BLMPOP's without the timeout.
    const parts: Uint8Array[] = [Buffer.from('lmpop')]
    for (let i = 2; i < argv.argc; i++) parts.push(argBytes(buf, start[i], len[i]))
    const r = await lmpopCoord(tx, argvOf(parts))
    return isNullReply(r) || isNullArrayReply(r) ? null : r
  }
  // BLPOP/BRPOP: the first key holding a list, in argument order.
  const pop = name === 'blpop' ? 'lpop' : 'rpop'
  for (let k = 1; k < argv.argc - 1; k++) {
    const key = argBytes(buf, start[k], len[k])
    const r = await tx.run(tx.shardOf(key, 0, key.length), pop, [key])
    if (isErrorReply(r)) return r
    if (!isNullReply(r)) return Buffer.concat([Buffer.from(`*2\r\n$${key.length}\r\n`), key, Buffer.from('\r\n'), r])
  }
  return null
}


/**
 * A blocking command's argument errors, in Redis's order (positions or numkeys/where/count,
 * then the timeout), before any key is read; null when they are fine.
 */
export function blockingArgsError (name: string, argv: Argv): Buffer | null {
  const { buf, start, len } = argv
  if (name === 'blmove' && (listPosition(buf, start[3], len[3]) < 0 || listPosition(buf, start[4], len[4]) < 0)) return SYNTAX_ERR
  if (name === 'blmpop') {
    const err = lmpopParse(argv, 2)
    if (err !== null) return err
  }
  const ti = name === 'blmpop' ? 1 : name === 'blmove' ? 5 : argv.argc - 1
  const t = timeoutMillis(buf, start[ti], len[ti])
  if (t === 'invalid') return TIMEOUT_NOT_FLOAT
  if (t === 'negative') return TIMEOUT_NEGATIVE
  return null
}

/** Keys on several shards inside EXEC: the non-blocking form, answering as a timeout would. */
async function blockingCoord (tx: TxnContext, argv: Argv, name: string): Promise<Uint8Array> {
  const err = blockingArgsError(name, argv)
  if (err !== null) return err
  const r = await blockingTry(tx, name, argv)
  if (r !== null) return r
  if (name === 'blmove' || name === 'brpoplpush') return tx.resp3 ? NULL3 : NULL_BULK2
  return tx.resp3 ? NULL3 : NULL_ARRAY2
}

const READY = Buffer.from('+READY\r\n')

/**
 * __bwait key...: part of a blocking command whose keys span shards (server/blocking.ts). +READY
 * at once if a key here is a list, else the client waits here until one is (BLOCK_NOTIFY).
 */
export function bwaitCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, argc } = argv
  // meta: u32 wait id, u32 kind (BLOCK_POP, BLOCK_MPOP, BLOCK_ZPOP, BLOCK_ZMPOP or BLOCK_NOTIFY),
  // u32 where, u32 count; bit 31 of the kind: the keys are sorted sets.
  const m = start[1]
  const kindWord = readU32(buf, m + 4)
  const spec: BlockSpec = {
    kind: kindWord & 0x7fffffff, where: readU32(buf, m + 8), whereTo: HEAD, count: readU32(buf, m + 12),
    keys: keyCopies(argv, 2, argc), dst: null, deadline: 0, waitId: readU32(buf, m), isZset: (kindWord >>> 31) === 1,
  }
  for (const key of spec.keys) {
    if (!hasWanted(shard, key, spec)) continue
    // A push came after the client's first try: it is served here, if no other shard was first.
    if (spec.kind !== BLOCK_NOTIFY && !claim(shard, spec)) { out.raw(CANCELLED); return }
    serveBlocked(shard, spec, key, out)
    return
  }
  shard.pendingBlock = spec
}

/** The key (current database) holds what the waiter pops from: a list, or a sorted set. */
export function hasWanted (shard: Shard, key: Buffer, spec: BlockSpec): boolean {
  if (spec.stream !== undefined) return streamHas(shard, key, spec)
  const e = shard.lookup(key, 0, key.length)
  return e !== 0 && shard.ks.type(e) === (spec.isZset ? TYPE_ZSET : TYPE_LIST)
}

/** Serves a sorted-set waiter (zset.ts sets it: BZPOPMIN, BZPOPMAX, BZMPOP). */
let serveZset: (shard: Shard, spec: BlockSpec, key: Buffer, out: ReplyWriter) => void = () => {}
export function useZsetServe (fn: typeof serveZset): void { serveZset = fn }

/** Streams (stream-group.ts sets them): whether key has what an XREAD/XREADGROUP waiter waits for, and its service. */
let streamHas: (shard: Shard, key: Buffer, spec: BlockSpec) => boolean = () => false
let serveStream: (shard: Shard, spec: BlockSpec, key: Buffer, out: ReplyWriter) => void = () => {}
export function useStreamServe (has: typeof streamHas, serve: typeof serveStream): void { streamHas = has; serveStream = serve }

/** Wins the right to serve a wait across shards (its slot's claim word still holds its id). */
export function claim (shard: Shard, spec: BlockSpec): boolean {
  return Atomics.compareExchange(shard.claims, shard.slot, spec.waitId, 0) === spec.waitId
}

/** A wait across shards that another shard served (or its client gave up): nothing was popped. */
export const CANCELLED = Buffer.from('+CANCELLED\r\n')

/** BLMPOP's where and count (its arguments already checked). */
export function blmpopWhereCount (argv: Argv): { where: number, count: number } {
  lmpopParse(argv, 2)
  return { where: mpop.where, count: mpop.count }
}

export function blmpopGetKeys (argv: Argv): number[] | null {
  if (!parseInt64(argv.buf, argv.start[2], argv.len[2])) return null
  const numkeys = parsed.value
  if (numkeys < 1 || numkeys > argv.argc - 3) return null
  const keys: number[] = []
  for (let k = 3; k < numkeys + 3; k++) keys.push(k)
  return keys
}

/**
 * Serves a client blocked on `key` (current database) now that it may hold a list: its reply
 * goes to out. False when the key is not a list (the client stays blocked).
 */
export function serveBlocked (shard: Shard, spec: BlockSpec, key: Buffer, out: ReplyWriter): boolean {
  if (spec.stream !== undefined) {
    if (!streamHas(shard, key, spec)) return false
    if (spec.kind === BLOCK_NOTIFY) out.raw(READY)
    else serveStream(shard, spec, key, out)
    return true
  }
  const e = shard.lookup(key, 0, key.length)
  const ks = shard.ks
  if (e === 0 || ks.type(e) !== (spec.isZset ? TYPE_ZSET : TYPE_LIST)) return false
  if (spec.kind === BLOCK_NOTIFY) { out.raw(READY); return true }
  if (spec.isZset) { serveZset(shard, spec, key, out); return true }
  if (spec.kind === BLOCK_MOVE) {
    const dst = spec.dst as Buffer
    const argv: Argv = { buf: Buffer.concat([key, dst]), argc: 3, start: Int32Array.of(0, 0, key.length), len: Int32Array.of(0, key.length, dst.length) }
    lmoveGeneric(shard, argv, out, spec.where, spec.whereTo)
    return true
  }
  // Served as serveClientBlockedOnList does: the pop's events (and "del") in the client's database.
  out.arrayHeader(2)
  out.bulkBuf(key)
  if (spec.kind === BLOCK_POP) popOne(shard, e, spec.where, out, key, 0, key.length)
  else popRangeReply(shard, e, spec.where, spec.count, out, key, 0, key.length)
  return true
}

// --- table ---------------------------------------------------------------------------------------

const LIST = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'list' } as const
const RW_INSERT = [{ flags: ['RW', 'insert'] }] as const
const RW_ACCESS_DELETE = [{ flags: ['RW', 'access', 'delete'] }] as const
const RO_ACCESS = [{ flags: ['RO', 'access'] }] as const
const ONE_KEY = { lastkey: 0, keystep: 1, limit: 0 }
const MOVE_KEYS = [{ flags: ['RW', 'access', 'delete'], index: 1, range: ONE_KEY }, { flags: ['RW', 'insert'], index: 2, range: ONE_KEY }] as const

export const listCommands: CommandSpec[] = [
  { ...LIST, name: 'lindex', arity: 3, flags: ['readonly'], since: '1.0.0', summary: 'Get an element from a list by its index', complexity: 'O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).', keySpecs: RO_ACCESS, run: lindexCommand },
  { ...LIST, name: 'linsert', arity: 5, flags: ['write', 'denyoom'], since: '2.2.0', summary: 'Insert an element before or after another element in a list', complexity: 'O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).', keySpecs: RW_INSERT, run: linsertCommand },
  { ...LIST, name: 'llen', arity: 2, flags: ['readonly', 'fast'], since: '1.0.0', summary: 'Get the length of a list', complexity: 'O(1)', keySpecs: [{ flags: ['RO'] }], run: llenCommand },
  { ...LIST, name: 'lmove', arity: 5, flags: ['write', 'denyoom'], lastKey: 2, route: 'coord', since: '6.2.0', summary: 'Pop an element from a list, push it to another list and return it', complexity: 'O(1)', keySpecs: MOVE_KEYS, run: lmoveCommand, coord: lmoveCoord },
  { ...LIST, name: 'lpop', arity: -2, flags: ['write', 'fast'], since: '1.0.0', summary: 'Remove and get the first elements in a list', complexity: 'O(N) where N is the number of elements returned', keySpecs: RW_ACCESS_DELETE, run: lpopCommand },
  { ...LIST, name: 'lpos', arity: -3, flags: ['readonly'], since: '6.0.6', summary: 'Return the index of matching elements on a list', complexity: 'O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.', keySpecs: RO_ACCESS, run: lposCommand },
  { ...LIST, name: 'lpush', arity: -3, flags: ['write', 'denyoom', 'fast'], since: '1.0.0', summary: 'Prepend one or multiple elements to a list', complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.', keySpecs: RW_INSERT, run: lpushCommand },
  { ...LIST, name: 'lpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], since: '2.2.0', summary: 'Prepend an element to a list, only if the list exists', complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.', keySpecs: RW_INSERT, run: lpushxCommand },
  { ...LIST, name: 'lrange', arity: 4, flags: ['readonly'], since: '1.0.0', summary: 'Get a range of elements from a list', complexity: 'O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.', keySpecs: RO_ACCESS, run: lrangeCommand },
  { ...LIST, name: 'lrem', arity: 4, flags: ['write'], since: '1.0.0', summary: 'Remove elements from a list', complexity: 'O(N+M) where N is the length of the list and M is the number of elements removed.', keySpecs: [{ flags: ['RW', 'delete'] }], run: lremCommand },
  { ...LIST, name: 'lset', arity: 4, flags: ['write', 'denyoom'], since: '1.0.0', summary: 'Set the value of an element in a list by its index', complexity: 'O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).', keySpecs: [{ flags: ['RW', 'update'] }], run: lsetCommand },
  { ...LIST, name: 'ltrim', arity: 4, flags: ['write'], since: '1.0.0', summary: 'Trim a list to the specified range', complexity: 'O(N) where N is the number of elements to be removed by the operation.', keySpecs: [{ flags: ['RW', 'delete'] }], run: ltrimCommand },
  { ...LIST, name: 'rpop', arity: -2, flags: ['write', 'fast'], since: '1.0.0', summary: 'Remove and get the last elements in a list', complexity: 'O(N) where N is the number of elements returned', keySpecs: RW_ACCESS_DELETE, run: rpopCommand },
  { ...LIST, name: 'rpoplpush', arity: 3, flags: ['write', 'denyoom'], lastKey: 2, route: 'coord', since: '1.2.0', summary: 'Remove the last element in a list, prepend it to another list and return it', complexity: 'O(1)', keySpecs: MOVE_KEYS, run: rpoplpushCommand, coord: async (tx, argv) => await lmoveCoordGeneric(tx, argv, TAIL, HEAD) },
  { ...LIST, name: 'rpush', arity: -3, flags: ['write', 'denyoom', 'fast'], since: '1.0.0', summary: 'Append one or multiple elements to a list', complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.', keySpecs: RW_INSERT, run: rpushCommand },
  { ...LIST, name: 'rpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], since: '2.2.0', summary: 'Append an element to a list, only if the list exists', complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.', keySpecs: RW_INSERT, run: rpushxCommand },
  // Transaction step for cross-shard LMOVE (not visible to clients).
  { ...LIST, name: '__listpeek', arity: 3, flags: [], since: '', summary: '', complexity: '', internal: true, run: listpeekStepCommand },
  { ...LIST, name: '__bwait', arity: -2, flags: [], lastKey: -1, since: '', summary: '', complexity: '', internal: true, run: bwaitCommand },
]

/**
 * LMPOP: movable keys, so COMMAND INFO reports first/last/step 0 (Redis 7.0). table.ts's row
 * check still requires firstKey >= 1 for key routes; until it accepts rows with getKeys, this row
 * stays out of listCommands (LMPOP answers unknown-command).
 */
export const lmpopSpec: CommandSpec = { ...LIST, name: 'lmpop', arity: -4, touchesReplyKey: true, flags: ['write', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, route: 'coord', since: '7.0.0', summary: 'Pop elements from a list', complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } }], getKeys: lmpopGetKeys, run: lmpopCommand, coord: lmpopCoord }
listCommands.push(lmpopSpec)

const BLOCKING = ['write', 'noscript', 'blocking'] as const
listCommands.push(
  { ...LIST, name: 'blpop', arity: -3, touchesReplyKey: true, flags: BLOCKING, lastKey: -2, route: 'block', since: '2.0.0', summary: 'Remove and get the first element in a list, or block until one is available', complexity: 'O(N) where N is the number of provided keys.', keySpecs: RW_ACCESS_DELETE, run: blpopCommand, coord: async (tx, argv) => await blockingCoord(tx, argv, 'blpop') },
  { ...LIST, name: 'brpop', arity: -3, touchesReplyKey: true, flags: BLOCKING, lastKey: -2, route: 'block', since: '2.0.0', summary: 'Remove and get the last element in a list, or block until one is available', complexity: 'O(N) where N is the number of provided keys.', keySpecs: RW_ACCESS_DELETE, run: brpopCommand, coord: async (tx, argv) => await blockingCoord(tx, argv, 'brpop') },
  { ...LIST, name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], lastKey: 2, route: 'block', since: '2.2.0', summary: 'Pop an element from a list, push it to another list and return it; or block until one is available', complexity: 'O(1)', keySpecs: MOVE_KEYS, run: brpoplpushCommand, coord: async (tx, argv) => await blockingCoord(tx, argv, 'brpoplpush') },
  { ...LIST, name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], lastKey: 2, route: 'block', since: '6.2.0', summary: 'Pop an element from a list, push it to another list and return it; or block until one is available', complexity: 'O(1)', keySpecs: MOVE_KEYS, run: blmoveCommand, coord: async (tx, argv) => await blockingCoord(tx, argv, 'blmove') },
  { ...LIST, name: 'blmpop', arity: -5, touchesReplyKey: true, flags: ['write', 'blocking', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, route: 'block', since: '7.0.0', summary: 'Pop elements from a list, or block until one is available', complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 2, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } }], getKeys: blmpopGetKeys, run: blmpopCommand, coord: async (tx, argv) => await blockingCoord(tx, argv, 'blmpop') },
)
