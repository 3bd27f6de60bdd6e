// Stream commands without consumer groups (Redis 7.0's t_stream.c): XADD, XLEN, XRANGE, XREVRANGE,
// XDEL, XTRIM, XSETID and XREAD, with Redis's replies, errors and their order. The storage is
// src/storage/stream-type.ts; consumer groups are in stream-group.ts (storage and commands),
// XINFO in stream-info.ts, and what BLOCK waits for in stream-block.ts.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard, BlockSpec } from '../storage/shard.js'
import { BLOCK_XREAD } from '../storage/shard.js'
import { writes } from '../storage/writes.js'
import { TYPE_STREAM } from '../storage/keyspace.js'
import {
  StreamId, STREAM_HEADER_BYTES, LISTPACK_MAX_SIZE, NODE_MAX_ENTRIES, TRIM_MAXLEN, TRIM_MINID, ent, idCmp, idCopy, idDecr, idIncr, idIsMax,
  idIsZero, idSet, idSetMax, idSetNum, idSetZero, idFormat, seqIsMax, streamAppend, streamAppendReserve, streamDelete,
  streamEdgeId, pair, pairsBegin, pairNext, streamFirstId, streamInit, streamLastId, streamLen, streamMaxDeletedId, streamRange,
  streamSetEntriesAdded, streamSetLastId, streamSetMaxDeletedId, streamTrim, streamAfterDeletes,
} from '../storage/stream-type.js'
import { OK, ZERO, EMPTY_ARRAY } from '../protocol/replies.js'
import { WRONGTYPE, NOT_INTEGER, SYNTAX_ERR, OOM, NO_SUCH_KEY, arityError, errorReply } from '../protocol/errors.js'
import { equalsLower, token, parseLL, parseBigInt64 } from '../protocol/ascii.js'
import { NOTIFY_STREAM, eventName } from '../storage/notify.js'
import { argBytes, argvOf, isErrorReply, isNullReply } from './txn-helpers.js'

const EV_XADD = eventName('xadd')
const EV_XTRIM = eventName('xtrim')
const EV_XDEL = eventName('xdel')
const EV_XSETID = eventName('xsetid')

export const INVALID_ID = errorReply('ERR Invalid stream ID specified as stream command argument')
const ID_ZERO = errorReply('ERR The ID specified in XADD must be greater than 0-0')
const ID_SMALLER = errorReply('ERR The ID specified in XADD is equal or smaller than the target stream top item')
const TOO_LARGE = errorReply('ERR Elements are too large to be stored')
const EXHAUSTED = errorReply('ERR The stream has exhausted the last possible ID, unable to add more items')
const MAXLEN_MINID = errorReply('ERR syntax error, MAXLEN and MINID options at the same time are not compatible')
const MAXLEN_NEGATIVE = errorReply('ERR The MAXLEN argument must be >= 0.')
const LIMIT_NEGATIVE = errorReply('ERR The LIMIT argument must be >= 0.')
const LIMIT_NO_STRATEGY = errorReply('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy')
const XTRIM_NO_STRATEGY = errorReply('ERR syntax error, XTRIM must be called with a trimming strategy')
const LIMIT_NO_TILDE = errorReply('ERR syntax error, LIMIT cannot be used without the special ~ option')
const BAD_START = errorReply('ERR invalid start ID for the interval')
const BAD_END = errorReply('ERR invalid end ID for the interval')
const ENTRIES_ADDED_NEGATIVE = errorReply('ERR entries_added must be positive')
const SETID_MAXDEL = errorReply('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id')
const SETID_SMALLER = errorReply('ERR The ID specified in XSETID is smaller than the target stream top item')
const SETID_ADDED = errorReply('ERR The entries_added specified in XSETID is smaller than the target stream length')
const XREAD_UNBALANCED = errorReply("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
const GROUP_ONLY_XREADGROUP = errorReply('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.')
const NOACK_ONLY_XREADGROUP = errorReply('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.')
const GT_ONLY_XREADGROUP = errorReply('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.')

const TOK_MAXLEN = token('maxlen')
const TOK_MINID = token('minid')
const TOK_LIMIT = token('limit')
const TOK_NOMKSTREAM = token('nomkstream')
const TOK_COUNT = token('count')
const TOK_ENTRIESADDED = token('entriesadded')
const TOK_MAXDELETEDID = token('maxdeletedid')
const TOK_BLOCK = token('block')
const TOK_STREAMS = token('streams')
const TOK_GROUP = token('group')
const TOK_NOACK = token('noack')

const U64_MAX = (1n << 64n) - 1n
/** Scratch for formatting ids (41 bytes at most). */
export const idBuf = Buffer.allocUnsafe(48)

export function writeId (out: ReplyWriter, id: StreamId): void {
  out.bulk(idBuf, 0, idFormat(id, idBuf))
}

function isSpace (c: number): boolean { return c === 32 || (c >= 9 && c <= 13) }

/** string2ull: string2ll's strict form (negative refused), else strtoull's (spaces, a sign, leading zeros). -1n when invalid. */
function parseU64 (buf: Uint8Array, start: number, end: number): bigint {
  const len = end - start
  const strict = parseBigInt64(buf, start, len)
  if (strict !== null) return strict < 0n ? -1n : strict
  let p = start
  while (p < end && isSpace(buf[p])) p++
  let isNeg = false
  if (p < end && (buf[p] === 43 || buf[p] === 45)) { isNeg = buf[p] === 45; p++ }
  if (p === end) return -1n
  let v = 0n
  for (; p < end; p++) {
    const c = buf[p]
    if (c < 48 || c > 57) return -1n
    v = v * 10n + BigInt(c - 48)
    if (v > U64_MAX) return -1n
  }
  return isNeg ? (U64_MAX + 1n - v) & U64_MAX : v
}

export const ID_INVALID = 0
export const ID_OK = 1
/** The <ms>-* form (XADD): sequence to be generated. */
export const ID_SEQ_AUTO = 2

/**
 * streamGenericParseIDOrReply, without the reply: `-` and `+` (unless strict), <ms>, <ms>-<seq>,
 * and <ms>-* where seqAuto. A missing sequence is 0, or the max when isMaxSeq.
 */
export function parseId (buf: Uint8Array, start: number, len: number, id: StreamId, isMaxSeq: boolean, isStrict: boolean, isSeqAuto = false): number {
  if (len > 127) return ID_INVALID
  // The C string ends at a NUL byte.
  let end = start
  while (end < start + len && buf[end] !== 0) end++
  const n = end - start
  if (n === 1 && (buf[start] === 45 || buf[start] === 43)) {
    if (isStrict) return ID_INVALID
    if (buf[start] === 45) idSetZero(id)
    else idSetMax(id)
    return ID_OK
  }
  let dash = -1
  for (let i = start; i < end; i++) if (buf[i] === 45) { dash = i; break }
  const ms = parseU64(buf, start, dash < 0 ? end : dash)
  if (ms < 0n) return ID_INVALID
  if (dash < 0) {
    idSet(id, ms, isMaxSeq ? U64_MAX : 0n)
    return ID_OK
  }
  if (isSeqAuto && end - dash === 2 && buf[dash + 1] === 42) {
    idSet(id, ms, 0n)
    return ID_SEQ_AUTO
  }
  const seq = parseU64(buf, dash + 1, end)
  if (seq < 0n) return ID_INVALID
  idSet(id, ms, seq)
  return ID_OK
}


/** The stream at key for reading: its entry, 0 when missing, -1 after a WRONGTYPE reply. */
export function readStream (shard: Shard, buf: Uint8Array, start: number, len: number, out: ReplyWriter): number {
  const e = shard.lookupRead(buf, start, len)
  if (e !== 0 && shard.ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return -1 }
  return e
}

// --- XADD and XTRIM (streamParseAddOrTrimArgsOrReply) ---------------------------------------------

interface TrimArgs {
  strategy: number
  isApprox: boolean
  limit: number
  maxlen: number
  minid: StreamId
  /** XADD: the id's position, whether it was given, and whether its sequence was. */
  idPos: number
  id: StreamId
  isIdGiven: boolean
  isSeqGiven: boolean
  isNoMkstream: boolean
}

const trimArgs: TrimArgs = {
  strategy: 0, isApprox: false, limit: 0, maxlen: 0, minid: new StreamId(), idPos: 0, id: new StreamId(), isIdGiven: false, isSeqGiven: true, isNoMkstream: false,
}

/** Parses XADD's or XTRIM's options into trimArgs; null, or the error to reply. */
function parseAddOrTrim (argv: Argv, isXadd: boolean): Buffer | null {
  const { buf, start, len, argc } = argv
  const t = trimArgs
  t.strategy = 0; t.isApprox = false; t.limit = 0; t.maxlen = 0; t.isIdGiven = false; t.isSeqGiven = true; t.isNoMkstream = false
  idSetZero(t.minid); idSetZero(t.id)
  let isLimitGiven = false
  let i = 2
  for (; i < argc; i++) {
    const more = argc - 1 - i
    const s = start[i]
    const l = len[i]
    if (isXadd && l === 1 && buf[s] === 42) break
    if (more > 0 && (equalsLower(buf, s, l, TOK_MAXLEN) || equalsLower(buf, s, l, TOK_MINID))) {
      const isMaxlen = l === 6
      if (t.strategy !== 0) return MAXLEN_MINID
      t.isApprox = false
      const ns = start[i + 1]
      if (more >= 2 && len[i + 1] === 1 && buf[ns] === 126) { t.isApprox = true; i++ } else if (more >= 2 && len[i + 1] === 1 && buf[ns] === 61) i++
      if (isMaxlen) {
        const v = parseLL(buf, start[i + 1], len[i + 1])
        if (v === null) return NOT_INTEGER
        if (v < 0) return MAXLEN_NEGATIVE
        t.maxlen = v
        t.strategy = TRIM_MAXLEN
      } else {
        if (parseId(buf, start[i + 1], len[i + 1], t.minid, false, true) === ID_INVALID) return INVALID_ID
        t.strategy = TRIM_MINID
      }
      i++
    } else if (more > 0 && equalsLower(buf, s, l, TOK_LIMIT)) {
      const v = parseLL(buf, start[i + 1], len[i + 1])
      if (v === null) return NOT_INTEGER
      if (v < 0) return LIMIT_NEGATIVE
      t.limit = v
      isLimitGiven = true
      i++
    } else if (isXadd && equalsLower(buf, s, l, TOK_NOMKSTREAM)) {
      t.isNoMkstream = true
    } else if (isXadd) {
      const r = parseId(buf, s, l, t.id, false, true, true)
      if (r === ID_INVALID) return INVALID_ID
      t.isIdGiven = true
      t.isSeqGiven = r === ID_OK
      break
    } else {
      return SYNTAX_ERR
    }
  }
  t.idPos = i
  if (t.limit !== 0 && t.strategy === 0) return LIMIT_NO_STRATEGY
  if (!isXadd && t.strategy === 0) return XTRIM_NO_STRATEGY
  if (isLimitGiven) {
    if (!t.isApprox) return LIMIT_NO_TILDE
  } else {
    // 100 nodes' worth (100 * stream-node-max-entries), kept within [10000 when 0, 1000000].
    const nodes = 100 * NODE_MAX_ENTRIES
    t.limit = t.isApprox ? (nodes <= 0 ? 10000 : nodes > 1000000 ? 1000000 : nodes) : 0
  }
  return null
}

const newId = new StreamId()
const lastId = new StreamId()

export function xaddCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const err = parseAddOrTrim(argv, true)
  if (err !== null) { out.raw(err); return }
  const t = trimArgs
  const fieldPos = t.idPos + 1
  if (argc - fieldPos < 2 || (argc - fieldPos) % 2 === 1) { out.raw(arityError('xadd')); return }
  if (t.isIdGiven && t.isSeqGiven && idIsZero(t.id)) { out.raw(ID_ZERO); return }
  const ks = shard.ks
  let e = shard.lookup(buf, start[1], len[1])
  if (e !== 0 && ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  if (e === 0 && t.isNoMkstream) { out.nullBulk(); return }
  if (!ks.arena.reserve(streamAppendReserve(argv, fieldPos, argc) + (e === 0 ? 128 + len[1] : 0))) { out.raw(OOM); return }
  if (e === 0) {
    e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_STREAM, STREAM_HEADER_BYTES)
    if (e === 0) { out.raw(OOM); return }
    streamInit(ks, e)
  }
  streamLastId(ks, e, lastId)
  if (idIsMax(lastId)) { out.raw(EXHAUSTED); return }
  // streamAppendItem's id.
  if (t.isIdGiven) {
    if (t.isSeqGiven) idCopy(newId, t.id)
    else if (lastId.msHi === t.id.msHi && lastId.msLo === t.id.msLo) {
      if (seqIsMax(lastId)) { out.raw(TOO_LARGE); return }
      idCopy(newId, lastId)
      idIncr(newId)
    } else idCopy(newId, t.id)
  } else {
    const ms = shard.now()
    const lastMs = lastId.msHi * 4294967296 + lastId.msLo
    if (lastId.msHi < 0x200000 && ms > lastMs) idSetNum(newId, ms, 0)
    else { idCopy(newId, lastId); idIncr(newId) }
  }
  if (idCmp(newId, lastId) <= 0) { out.raw(ID_SMALLER); return }
  let total = 0
  for (let i = fieldPos; i < argc; i++) total += len[i]
  if (total > LISTPACK_MAX_SIZE) { out.raw(TOO_LARGE); return }
  if (!streamAppend(ks, e, newId, argv, fieldPos, argc)) { out.raw(OOM); return }
  writeId(out, newId)
  shard.notify(NOTIFY_STREAM, EV_XADD, buf, start[1], len[1])
  // signalKeyAsReady: clients blocked in XREAD/XREADGROUP on this stream may be served now.
  if (writes.onReady !== null) writes.onReady(ks, e)
  if (t.strategy !== 0 && streamTrim(ks, e, t.strategy, t.maxlen, t.minid, t.isApprox, t.limit) > 0) {
    shard.notify(NOTIFY_STREAM, EV_XTRIM, buf, start[1], len[1])
  }
}

export function xtrimCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const err = parseAddOrTrim(argv, false)
  if (err !== null) { out.raw(err); return }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  const t = trimArgs
  const deleted = streamTrim(ks, e, t.strategy, t.maxlen, t.minid, t.isApprox, t.limit)
  if (deleted > 0) shard.notify(NOTIFY_STREAM, EV_XTRIM, buf, start[1], len[1])
  out.int(deleted)
}

export function xlenCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readStream(shard, argv.buf, argv.start[1], argv.len[1], out)
  if (e < 0) return
  out.int(e === 0 ? 0 : streamLen(shard.ks, e))
}

// --- XRANGE, XREVRANGE -------------------------------------------------------------------------------

/** Writes one entry (ent, just read): [id, [field, value, ...]]. */
export function writeEntry (shard: Shard, out: ReplyWriter): void {
  const u8 = shard.ks.arena.u8
  out.arrayHeader(2)
  writeId(out, ent.id)
  out.arrayHeader(ent.nfields * 2)
  pairsBegin(shard.ks)
  while (pairNext(u8)) { out.bulk(u8, pair.fa, pair.fl); out.bulk(u8, pair.va, pair.vl) }
}

/** streamReplyWithRange without a group: the entries in [lo, hi], at most count (0 = all). */
export function replyRange (shard: Shard, e: number, lo: StreamId, hi: StreamId, count: number, isRev: boolean, out: ReplyWriter): number {
  // The count is known only at the end: the entries go to a second writer first.
  const body = scratchWriter(out)
  let n = 0
  streamRange(shard.ks, e, lo, hi, isRev, () => {
    writeEntry(shard, body)
    n++
    return count === 0 || n < count
  })
  out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
  return n
}

const scratch: ReplyWriter[] = []
let scratchDepth = 0
/** A reused writer for a reply whose length comes first (released by the next call at the same depth). */
function scratchWriter (out: ReplyWriter): ReplyWriter {
  const i = scratchDepth
  if (scratch.length <= i) scratch.push(new ReplyWriter(4096))
  const w = scratch[i]
  w.shrink()
  w.resp3 = out.resp3
  return w
}

const startId = new StreamId()
const endId = new StreamId()

function xrangeGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isRev: boolean): void {
  const { buf, start, len, argc } = argv
  const si = isRev ? 3 : 2
  const ei = isRev ? 2 : 3
  // streamParseIntervalIDOrReply: "(" makes the bound exclusive (and strict).
  let isEx = len[si] > 1 && buf[start[si]] === 40
  if (parseId(buf, start[si] + (isEx ? 1 : 0), len[si] - (isEx ? 1 : 0), startId, false, isEx) === ID_INVALID) { out.raw(INVALID_ID); return }
  if (isEx && !idIncr(startId)) { out.raw(BAD_START); return }
  isEx = len[ei] > 1 && buf[start[ei]] === 40
  if (parseId(buf, start[ei] + (isEx ? 1 : 0), len[ei] - (isEx ? 1 : 0), endId, true, isEx) === ID_INVALID) { out.raw(INVALID_ID); return }
  if (isEx && !idDecr(endId)) { out.raw(BAD_END); return }
  let count = -1
  for (let j = 4; j < argc; j++) {
    if (equalsLower(buf, start[j], len[j], TOK_COUNT) && argc - j - 1 >= 1) {
      const v = parseLL(buf, start[j + 1], len[j + 1])
      if (v === null) { out.raw(NOT_INTEGER); return }
      count = v < 0 ? 0 : v
      j++
    } else { out.raw(SYNTAX_ERR); return }
  }
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_ARRAY); return }
  if (shard.ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  if (count === 0) { out.nullArray(); return }
  replyRange(shard, e, startId, endId, count === -1 ? 0 : count, isRev, out)
}

export function xrangeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { xrangeGeneric(shard, argv, out, false) }
export function xrevrangeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { xrangeGeneric(shard, argv, out, true) }

// --- XDEL, XSETID ----------------------------------------------------------------------------------------

export function xdelCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  const ids: StreamId[] = []
  for (let j = 2; j < argc; j++) {
    const id = new StreamId()
    if (parseId(buf, start[j], len[j], id, false, true) === ID_INVALID) { out.raw(INVALID_ID); return }
    ids.push(id)
  }
  let deleted = 0
  let isFirst = false
  const first = streamFirstId(ks, e, new StreamId())
  const maxDel = streamMaxDeletedId(ks, e, new StreamId())
  for (const id of ids) {
    if (!streamDelete(ks, e, id)) continue
    if (idCmp(id, first) === 0) isFirst = true
    if (idCmp(id, maxDel) > 0) idCopy(maxDel, id)
    deleted++
  }
  if (deleted > 0) {
    streamSetMaxDeletedId(ks, e, maxDel)
    if (streamLen(ks, e) === 0 || isFirst) streamAfterDeletes(ks, e)
    shard.notify(NOTIFY_STREAM, EV_XDEL, buf, start[1], len[1])
  }
  out.int(deleted)
}

const maxId = new StreamId()

export function xsetidCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const id = new StreamId()
  const maxDel = new StreamId()
  let added = -1
  if (parseId(buf, start[2], len[2], id, false, true) === ID_INVALID) { out.raw(INVALID_ID); return }
  for (let i = 3; i < argc;) {
    const more = argc - 1 - i
    if (more > 0 && equalsLower(buf, start[i], len[i], TOK_ENTRIESADDED)) {
      const v = parseLL(buf, start[i + 1], len[i + 1])
      if (v === null) { out.raw(NOT_INTEGER); return }
      if (v < 0) { out.raw(ENTRIES_ADDED_NEGATIVE); return }
      added = v
      i += 2
    } else if (more > 0 && equalsLower(buf, start[i], len[i], TOK_MAXDELETEDID)) {
      if (parseId(buf, start[i + 1], len[i + 1], maxDel, false, true) === ID_INVALID) { out.raw(INVALID_ID); return }
      if (idCmp(id, maxDel) < 0) { out.raw(SETID_MAXDEL); return }
      i += 2
    } else { out.raw(SYNTAX_ERR); return }
  }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(NO_SUCH_KEY); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  if (streamLen(ks, e) > 0) {
    streamEdgeId(ks, e, false, maxId)
    if (idCmp(id, maxId) < 0) { out.raw(SETID_SMALLER); return }
    if (added !== -1 && streamLen(ks, e) > added) { out.raw(SETID_ADDED); return }
  }
  streamSetLastId(ks, e, id)
  if (added !== -1) streamSetEntriesAdded(ks, e, added)
  if (!idIsZero(maxDel)) streamSetMaxDeletedId(ks, e, maxDel)
  out.raw(OK)
  // No writes.count here (see stream-type.ts): Redis's dirty added as xsetidCommand does.
  shard.dirty++
  shard.notify(NOTIFY_STREAM, EV_XSETID, buf, start[1], len[1])
}

// --- XREAD -----------------------------------------------------------------------

/** XREAD/XREADGROUP options (xreadCommand's loop): positions, or the error to reply. */
export interface XreadArgs {
  count: number
  /** BLOCK's argument position (0: none), and its milliseconds (0: forever). */
  block: number
  blockMs: number
  streams: number
  nstreams: number
  group: number
  isNoAck: boolean
}

export function parseXread (argv: Argv, isGroup: boolean): XreadArgs | Buffer {
  const { buf, start, len, argc } = argv
  const a: XreadArgs = { count: 0, block: 0, blockMs: 0, streams: 0, nstreams: 0, group: 0, isNoAck: false }
  for (let i = 1; i < argc; i++) {
    const more = argc - i - 1
    const s = start[i]
    const l = len[i]
    if (more > 0 && equalsLower(buf, s, l, TOK_BLOCK)) {
      i++
      a.block = i
      const v = parseLL(buf, start[i], len[i])
      if (v === null) return errorReply('ERR timeout is not an integer or out of range')
      if (v < 0) return errorReply('ERR timeout is negative')
      a.blockMs = v
    } else if (more > 0 && equalsLower(buf, s, l, TOK_COUNT)) {
      i++
      const v = parseLL(buf, start[i], len[i])
      if (v === null) return NOT_INTEGER
      a.count = v < 0 ? 0 : v
    } else if (more > 0 && equalsLower(buf, s, l, TOK_STREAMS)) {
      a.streams = i + 1
      const n = argc - a.streams
      if (n % 2 !== 0) return XREAD_UNBALANCED
      a.nstreams = n / 2
      break
    } else if (more >= 2 && equalsLower(buf, s, l, TOK_GROUP)) {
      if (!isGroup) return GROUP_ONLY_XREADGROUP
      a.group = i + 1
      i += 2
    } else if (equalsLower(buf, s, l, TOK_NOACK)) {
      if (!isGroup) return NOACK_ONLY_XREADGROUP
      a.isNoAck = true
    } else return SYNTAX_ERR
  }
  if (a.streams === 0) return SYNTAX_ERR
  return a
}

/**
 * XREAD/XREADGROUP called from a script: true when its options reach a BLOCK (xreadCommand
 * refuses BLOCK from Lua as it meets it, so an earlier bad COUNT still answers its own error).
 */
export function xreadBlocksInScript (argv: readonly Buffer[]): boolean {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]
    const more = argv.length - i - 1
    if (more > 0 && equalsLower(a, 0, a.length, TOK_BLOCK)) return true
    if (more > 0 && equalsLower(a, 0, a.length, TOK_COUNT)) {
      if (parseLL(argv[i + 1], 0, argv[i + 1].length) === null) return false
      i++
    } else if (more >= 2 && equalsLower(a, 0, a.length, TOK_GROUP)) i += 2
    else if (!equalsLower(a, 0, a.length, TOK_NOACK)) return false
  }
  return false
}

/** Key positions of XREAD and XREADGROUP (after STREAMS); null when malformed (shard 0 replies the error). */
export function xreadGetKeys (argv: Argv): number[] | null {
  const { buf, start, len, argc } = argv
  for (let i = 1; i < argc; i++) {
    const more = argc - i - 1
    const s = start[i]
    const l = len[i]
    if (more > 0 && (equalsLower(buf, s, l, TOK_BLOCK) || equalsLower(buf, s, l, TOK_COUNT))) i++
    else if (more >= 2 && equalsLower(buf, s, l, TOK_GROUP)) i += 2
    else if (more > 0 && equalsLower(buf, s, l, TOK_STREAMS)) {
      const n = argc - i - 1
      if (n % 2 !== 0) return null
      const keys = new Array<number>(n / 2)
      for (let k = 0; k < n / 2; k++) keys[k] = i + 1 + k
      return keys
    } else if (!equalsLower(buf, s, l, TOK_NOACK)) return null
  }
  return null
}

/** Route 'block' only with a BLOCK option (malformed calls run as 'coord', whose handler replies the error). */
export function xreadBlocks (argv: Argv): boolean {
  const a = parseXread(argv, true)
  return !Buffer.isBuffer(a) && a.block !== 0
}

const gtIds: StreamId[] = []

/**
 * XREAD's first pass over key i (of the STREAMS list): its type, then its id ("$" = the last id
 * now). Null, or the error to reply.
 */
function xreadCheck (shard: Shard, argv: Argv, a: XreadArgs, i: number, gt: StreamId): Buffer | null {
  const { buf, start, len } = argv
  const k = a.streams + i
  const idx = k + a.nstreams
  const e = shard.lookupRead(buf, start[k], len[k])
  if (e !== 0 && shard.ks.type(e) !== TYPE_STREAM) return WRONGTYPE
  if (len[idx] === 1 && buf[start[idx]] === 36) {
    if (e !== 0) streamLastId(shard.ks, e, gt)
    else idSetZero(gt)
    return null
  }
  if (len[idx] === 1 && buf[start[idx]] === 62) return GT_ONLY_XREADGROUP
  if (parseId(buf, start[idx], len[idx], gt, false, true) === ID_INVALID) return INVALID_ID
  return null
}

/** XREAD_BLOCKED_DEFAULT_COUNT: a blocked client with no COUNT gets at most this many entries per key. */
export const BLOCKED_DEFAULT_COUNT = 1000

/** The wait of an XREAD or XREADGROUP BLOCK that found nothing (ids: per key, for XREAD). */
export function xreadBlockSpec (shard: Shard, argv: Argv, a: XreadArgs, ids: StreamId[]): BlockSpec {
  const { buf, start, len } = argv
  const keys: Buffer[] = []
  for (let i = 0; i < a.nstreams; i++) keys.push(Buffer.from(buf.subarray(start[a.streams + i], start[a.streams + i] + len[a.streams + i])))
  const copy = (k: number): Buffer => Buffer.from(buf.subarray(start[k], start[k] + len[k]))
  return {
    kind: BLOCK_XREAD,
    isZset: false,
    where: 0,
    whereTo: 0,
    count: 0,
    keys,
    dst: null,
    deadline: a.blockMs === 0 ? 0 : shard.now() + a.blockMs,
    waitId: 0,
    stream: {
      ids,
      group: a.group === 0 ? null : copy(a.group),
      consumer: a.group === 0 ? null : copy(a.group + 1),
      isNoAck: a.isNoAck,
      count: a.count === 0 ? BLOCKED_DEFAULT_COUNT : a.count,
    },
  }
}

const validMax = new StreamId()
const readFrom = new StreamId()
const readTo = idSetMax(new StreamId())

/** Serves key i after id gt (xreadCommand's synchronous part): true when it wrote [key, entries]. */
function xreadServe (shard: Shard, argv: Argv, a: XreadArgs, i: number, gt: StreamId, out: ReplyWriter, isRaw: boolean): boolean {
  const { buf, start, len } = argv
  const k = a.streams + i
  const e = shard.lookup(buf, start[k], len[k])
  if (e === 0) return false
  const ks = shard.ks
  if (streamLen(ks, e) === 0) return false
  // Redis serves the key when its last live id is past gt (streamLastValidID, a walk back over
  // the last node). That holds exactly when the range after gt has an entry, so the range is
  // written and taken back when empty; the last id ever added bounds it first, for free.
  if (idCmp(streamLastId(ks, e, validMax), gt) <= 0) return false
  idCopy(readFrom, gt)
  idIncr(readFrom)
  const mark = out.len
  if (!isRaw && !out.resp3) out.arrayHeader(2)
  out.bulk(buf, start[k], len[k])
  if (replyRange(shard, e, readFrom, readTo, a.count, false, out) === 0) { out.len = mark; return false }
  return true
}

export function xreadCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const a = parseXread(argv, false)
  if (Buffer.isBuffer(a)) { out.raw(a); return }
  while (gtIds.length < a.nstreams) gtIds.push(new StreamId())
  for (let i = 0; i < a.nstreams; i++) {
    const err = xreadCheck(shard, argv, a, i, gtIds[i])
    if (err !== null) { out.raw(err); return }
  }
  const body = scratchWriter(out)
  scratchDepth++
  let n = 0
  try {
    for (let i = 0; i < a.nstreams; i++) if (xreadServe(shard, argv, a, i, gtIds[i], body, false)) n++
  } finally { scratchDepth-- }
  if (n === 0) {
    if (a.block === 0 || shard.noBlock) { out.nullArray(); return }
    shard.pendingBlock = xreadBlockSpec(shard, argv, a, gtIds.slice(0, a.nstreams).map(id => idCopy(new StreamId(), id)))
    return
  }
  // RESP3: a map of key to entries; RESP2: an array of [key, entries] pairs.
  if (out.resp3) out.mapHeader(n)
  else out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
}

/**
 * The transaction step of XREAD over several shards: `__xreadkey count id key` checks one key
 * (an error reply), then serves it: the [key, entries] pair's payload without its header (RESP3
 * map style), or a null when there is nothing to serve.
 */
export function xreadKeyStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  // Rebuild a one-stream view: STREAMS key id at positions 3, 4 (count at 1, id at 2).
  const v = parseLL(buf, start[1], len[1]) ?? 0
  const one: Argv = { buf, argc: 5, start: Int32Array.of(0, 0, 0, start[3], start[2]), len: Int32Array.of(0, 0, 0, len[3], len[2]) }
  const a: XreadArgs = { count: v, block: 0, blockMs: 0, streams: 3, nstreams: 1, group: 0, isNoAck: false }
  const gt = new StreamId()
  const err = xreadCheck(shard, one, a, 0, gt)
  if (err !== null) { out.raw(err); return }
  const body = scratchWriter(out)
  scratchDepth++
  let isServed = false
  try { isServed = xreadServe(shard, one, a, 0, gt, body, true) } finally { scratchDepth-- }
  if (!isServed) {
    // Nothing here. For "$", the id it stood for (a blocking XREAD waits after it).
    if (len[2] === 1 && buf[start[2]] === 36) {
      out.raw(PLUS)
      out.rawRange(idBuf, 0, idFormat(gt, idBuf))
      out.raw(CRLF)
    } else out.nullBulk()
    return
  }
  out.bulk(body.buf, 0, body.len)
}

const PLUS = Buffer.from('+')
const CRLF = Buffer.from('\r\n')

async function xreadCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  return (await xreadTry(tx, argv)).reply ?? Buffer.from(tx.resp3 ? '_\r\n' : '*-1\r\n')
}

/**
 * XREAD over several shards: the reply, or null when nothing could be served; then `argv` is the
 * command with each "$" replaced by the id it stood for, for a blocking XREAD to wait after.
 * defaultCount: the COUNT when none is given (a blocked client's retry: BLOCKED_DEFAULT_COUNT).
 */
export async function xreadTry (tx: TxnContext, argv: Argv, defaultCount = 0): Promise<{ reply: Uint8Array | null, argv: Argv }> {
  const a = parseXread(argv, false)
  if (Buffer.isBuffer(a)) return { reply: a, argv }
  const parts: Buffer[] = []
  const resolved = new Map<number, Buffer>()
  const countArg = Buffer.from(String(a.count === 0 ? defaultCount : a.count))
  for (let i = 0; i < a.nstreams; i++) {
    const k = a.streams + i
    const key = argBytes(argv.buf, argv.start[k], argv.len[k])
    const id = argBytes(argv.buf, argv.start[k + a.nstreams], argv.len[k + a.nstreams])
    const r = Buffer.from(await tx.run(tx.shardOf(key, 0, key.length), '__xreadkey', [countArg, id, key]))
    if (isErrorReply(r)) return { reply: r, argv }
    if (isNullReply(r)) continue
    if (r[0] === 43) { resolved.set(k + a.nstreams, r.subarray(1, r.length - 2)); continue }
    const nl = r.indexOf(10)
    parts.push(r.subarray(nl + 1, r.length - 2))
  }
  if (parts.length === 0) {
    if (resolved.size === 0) return { reply: null, argv }
    const args: Uint8Array[] = []
    for (let i = 0; i < argv.argc; i++) args.push(resolved.get(i) ?? argBytes(argv.buf, argv.start[i], argv.len[i]))
    return { reply: null, argv: argvOf(args) }
  }
  const head = tx.resp3 ? `%${parts.length}\r\n` : `*${parts.length}\r\n`
  return { reply: Buffer.concat([Buffer.from(head), ...(tx.resp3 ? parts : parts.flatMap(p => [Buffer.from('*2\r\n'), p]))]), argv }
}

const STREAM = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'stream' } as const

export const streamCommands: CommandSpec[] = [
  { ...STREAM, name: 'xadd', arity: -5, flags: ['write', 'denyoom', 'fast'], since: '5.0.0', summary: 'Appends a new entry to a stream', complexity: 'O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RW', 'update'], notes: 'UPDATE instead of INSERT because of the optional trimming feature' }], run: xaddCommand },
  { ...STREAM, name: 'xdel', arity: -3, flags: ['write', 'fast'], since: '5.0.0', summary: 'Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.', complexity: 'O(1) for each single item to delete in the stream, regardless of the stream size.', keySpecs: [{ flags: ['RW', 'delete'] }], run: xdelCommand },
  { ...STREAM, name: 'xlen', arity: 2, flags: ['readonly', 'fast'], since: '5.0.0', summary: 'Return the number of entries in a stream', complexity: 'O(1)', keySpecs: [{ flags: ['RO'] }], run: xlenCommand },
  { ...STREAM, name: 'xrange', arity: -4, flags: ['readonly'], since: '5.0.0', summary: 'Return a range of elements in a stream, with IDs matching the specified IDs interval', complexity: 'O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).', keySpecs: [{ flags: ['RO', 'access'] }], run: xrangeCommand },
  { ...STREAM, name: 'xread', arity: -4, flags: ['readonly', 'blocking', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, route: 'block', since: '5.0.0', summary: 'Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.', complexity: 'For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is not used, the command is synchronous and can be considered O(1).', keySpecs: [{ flags: ['RO', 'access'], keyword: { keyword: 'STREAMS', startfrom: 1 }, range: { lastkey: -1, keystep: 1, limit: 2 } }], getKeys: xreadGetKeys, blocks: xreadBlocks, run: xreadCommand, coord: xreadCoord },
  { ...STREAM, name: 'xrevrange', arity: -4, flags: ['readonly'], since: '5.0.0', summary: 'Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE', complexity: 'O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).', keySpecs: [{ flags: ['RO', 'access'] }], run: xrevrangeCommand },
  { ...STREAM, name: 'xsetid', arity: -3, flags: ['write', 'denyoom', 'fast'], since: '5.0.0', summary: 'An internal command for replicating stream values', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'update'] }], run: xsetidCommand },
  { ...STREAM, name: 'xtrim', arity: -4, flags: ['write'], since: '5.0.0', summary: 'Trims the stream to (approximately if \'~\' is passed) a certain size', complexity: 'O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RW', 'delete'] }], run: xtrimCommand },
]

export const streamInternalCommands: CommandSpec[] = [
  { name: '__xreadkey', arity: 4, flags: ['readonly'], firstKey: 3, lastKey: 3, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: xreadKeyStepCommand },
]

