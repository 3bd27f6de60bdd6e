// Sorted-set commands (Redis 7.0's t_zset.c): ZADD and ZINCRBY with every option, the range
// family (ZRANGE with BYSCORE/BYLEX/REV/LIMIT/WITHSCORES and the older forms), counts, ranks,
// pops and range removals, with Redis's argument parsing order and error texts. Scores are
// written as Redis 7.0 writes them (%.17g, a RESP3 double). Storage: src/storage/zset-type.ts.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { TYPE_ZSET } from '../storage/keyspace.js'
import {
  ZSET_HEADER_BYTES, ENC_ZLISTPACK, zsetInit, zsetFind, zsetInsert, zsetUpdateScore, zsetDelete, zsetLen, zsetAt, zsetRank,
  zsetFirstByScore, zsetFirstByLex, zsetSeek, zsetStep, nodeScore, nodeMemberAt, nodeMemberLen, formatScore, parseScore, parseHexFloat, plainInteger, zsetReserveBytes,
  maxListpackEntries, maxListpackValue, zsetEncoding, zsetBuckets, zsetBucketForEach,
} from '../storage/zset-type.js'
import { ZERO, EMPTY_ARRAY } from '../protocol/replies.js'
import {
  WRONGTYPE, NOT_INTEGER, NOT_FLOAT, SYNTAX_ERR, OOM, POP_COUNT_RANGE, INVALID_CURSOR, NUMKEYS_NOT_POSITIVE, COUNT_NOT_POSITIVE, errorReply,
} from '../protocol/errors.js'
import { stringMatch } from './glob.js'
import { scanCursorOf } from './generic.js'
import { parseScanArgs, walkBuckets, numkeysKeys } from './scan-args.js'
import { useZrange } from './zset-ops.js'
import { blockDeadline, keyCopies, useZsetServe } from './list.js'
import { timeoutMillis } from './float.js'
import { BLOCK_ZPOP, BLOCK_ZMPOP, type BlockSpec } from '../storage/shard.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { NOTIFY_GENERIC, NOTIFY_ZSET, eventName } from '../storage/notify.js'
import { ownDirty } from '../persistence/dirty.js'

const EV_ZADD = eventName('zadd')
const EV_ZINCR = eventName('zincr')
const EV_ZREM = eventName('zrem')
const EV_DEL = eventName('del')
const EV_POP = [eventName('zpopmin'), eventName('zpopmax')]
const EV_REMRANGE = [eventName('zremrangebyrank'), eventName('zremrangebyscore'), eventName('zremrangebylex')]
const XX_NX = errorReply('ERR XX and NX options at the same time are not compatible')
const GT_LT_NX = errorReply('ERR GT, LT, and/or NX options at the same time are not compatible')
const INCR_PAIR = errorReply('ERR INCR option supports a single increment-element pair')
const SCORE_NAN = errorReply('ERR resulting score is not a number (NaN)')
const MINMAX_FLOAT = errorReply('ERR min or max is not a float')
const MINMAX_LEX = errorReply('ERR min or max not valid string range item')
const LIMIT_RANK = errorReply('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX')
const WITHSCORES_LEX = errorReply('ERR syntax error, WITHSCORES not supported in combination with BYLEX')
const T_NX = token('nx')
const T_XX = token('xx')
const T_CH = token('ch')
const T_INCR = token('incr')
const T_GT = token('gt')
const T_LT = token('lt')
const T_WITHSCORES = token('withscores')
const T_LIMIT = token('limit')
const T_REV = token('rev')
const T_BYLEX = token('bylex')
const T_BYSCORE = token('byscore')

/** A score as a reply: a RESP3 double, or its %.17g text as a bulk string. */
function replyScore (out: ReplyWriter, d: number): void {
  const s = formatScore(d)
  if (out.resp3) out.raw(Buffer.from(`,${s}\r\n`, 'latin1'))
  else out.bulkStr(s)
}

function replyMember (out: ReplyWriter, ks: Keyspace, n: number): void {
  out.bulk(ks.arena.u8, nodeMemberAt(n), nodeMemberLen(ks, n))
}

function readZset (shard: Shard, argv: Argv, out: ReplyWriter): number {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e !== 0 && shard.ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return -1 }
  return e
}

/** Deletes the key once its set is empty, with the "del" event. */
function deleteIfEmpty (shard: Shard, e: number, argv: Argv): void {
  if (zsetLen(shard.ks, e) !== 0) return
  shard.ks.remove(e)
  shard.notify(NOTIFY_GENERIC, EV_DEL, argv.buf, argv.start[1], argv.len[1])
}

// --- ZADD, ZINCRBY (zaddGenericCommand) ------------------------------------------------------------

const F_NX = 1
const F_XX = 2
const F_CH = 4
const F_INCR = 8
const F_GT = 16
const F_LT = 32

function zaddGeneric (shard: Shard, argv: Argv, out: ReplyWriter, flags: number, scoreidx: number): void {
  const { buf, start, len, argc } = argv
  const elements = argc - scoreidx
  if (elements % 2 !== 0 || elements === 0) { out.raw(SYNTAX_ERR); return }
  const pairs = elements / 2
  if ((flags & F_NX) !== 0 && (flags & F_XX) !== 0) { out.raw(XX_NX); return }
  if (((flags & F_GT) !== 0 && (flags & F_NX) !== 0) || ((flags & F_LT) !== 0 && (flags & F_NX) !== 0) || ((flags & F_GT) !== 0 && (flags & F_LT) !== 0)) { out.raw(GT_LT_NX); return }
  const isIncr = (flags & F_INCR) !== 0
  if (isIncr && pairs > 1) { out.raw(INCR_PAIR); return }
  const scores: number[] = []
  for (let j = 0; j < pairs; j++) {
    const v = parseScore(buf, start[scoreidx + j * 2], len[scoreidx + j * 2])
    if (Number.isNaN(v)) { out.raw(NOT_FLOAT); return }
    // -0 stays -0 in a skiplist, and in the reply of an INCR that adds the member (zset-type.ts).
    scores.push(v)
  }
  const ks = shard.ks
  let e = shard.lookup(buf, start[1], len[1])
  if (e !== 0 && ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return }
  let added = 0
  let updated = 0
  let processed = 0
  let score = 0
  if (e === 0 && (flags & F_XX) !== 0) {
    if (isIncr) out.nullBulk()
    else out.raw(ZERO)
    return
  }
  let bytes = 0
  for (let j = 0; j < pairs; j++) bytes += len[scoreidx + j * 2 + 1]
  if (!ks.arena.reserve(zsetReserveBytes(ks, e, bytes, pairs) + 64 + len[1])) { out.raw(OOM); return }
  if (e === 0) {
    e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_ZSET, ZSET_HEADER_BYTES)
    if (e === 0) { out.raw(OOM); return }
    zsetInit(ks, e, maxListpackEntries() === 0 || maxListpackValue() < len[scoreidx + 1])
  }
  for (let j = 0; j < pairs; j++) {
    let s = scores[j]
    const mi = scoreidx + j * 2 + 1
    const n = zsetFind(ks, e, buf, start[mi], len[mi])
    if (n !== 0) {
      if ((flags & F_NX) !== 0) continue
      const cur = nodeScore(ks, n)
      if (isIncr) {
        s += cur
        if (Number.isNaN(s)) {
          out.raw(SCORE_NAN)
          ownDirty.n = added + updated
          if (added > 0 || updated > 0) shard.notify(NOTIFY_ZSET, isIncr ? EV_ZINCR : EV_ZADD, buf, start[1], len[1])
          return
        }
      }
      if (((flags & F_LT) !== 0 && s >= cur) || ((flags & F_GT) !== 0 && s <= cur)) continue
      score = s
      if (s !== cur) { zsetUpdateScore(ks, e, n, s); updated++ }
      processed++
    } else if ((flags & F_XX) === 0) {
      if (zsetInsert(ks, e, s, buf, start[mi], len[mi]) === 0) { out.raw(OOM); return }
      score = s
      added++
      processed++
    }
  }
  if (isIncr) {
    if (processed > 0) replyScore(out, score)
    else out.nullBulk()
  } else {
    out.int((flags & F_CH) !== 0 ? added + updated : added)
  }
  // Redis's dirty: every member added or whose score changed.
  ownDirty.n = added + updated
  if (added > 0 || updated > 0) shard.notify(NOTIFY_ZSET, isIncr ? EV_ZINCR : EV_ZADD, buf, start[1], len[1])
  else if (zsetLen(ks, e) === 0) ks.remove(e)
}

export function zaddCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let flags = 0
  let i = 2
  for (; i < argc; i++) {
    const s = start[i]
    const l = len[i]
    if (equalsLower(buf, s, l, T_NX)) flags |= F_NX
    else if (equalsLower(buf, s, l, T_XX)) flags |= F_XX
    else if (equalsLower(buf, s, l, T_CH)) flags |= F_CH
    else if (equalsLower(buf, s, l, T_INCR)) flags |= F_INCR
    else if (equalsLower(buf, s, l, T_GT)) flags |= F_GT
    else if (equalsLower(buf, s, l, T_LT)) flags |= F_LT
    else break
  }
  zaddGeneric(shard, argv, out, flags, i)
}

export function zincrbyCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  zaddGeneric(shard, argv, out, F_INCR, 2)
}

// --- single-member reads -------------------------------------------------------------------------

export function zcardCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readZset(shard, argv, out)
  if (e < 0) return
  out.int(e === 0 ? 0 : zsetLen(shard.ks, e))
}

export function zscoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readZset(shard, argv, out)
  if (e < 0) return
  const n = e === 0 ? 0 : zsetFind(shard.ks, e, argv.buf, argv.start[2], argv.len[2])
  if (n === 0) { out.nullBulk(); return }
  replyScore(out, nodeScore(shard.ks, n))
}

export function zmscoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readZset(shard, argv, out)
  if (e < 0) return
  const { buf, start, len, argc } = argv
  out.arrayHeader(argc - 2)
  for (let i = 2; i < argc; i++) {
    const n = e === 0 ? 0 : zsetFind(shard.ks, e, buf, start[i], len[i])
    if (n === 0) out.nullBulk()
    else replyScore(out, nodeScore(shard.ks, n))
  }
}

function rankGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isRev: boolean): void {
  const e = readZset(shard, argv, out)
  if (e < 0) return
  const ks = shard.ks
  const n = e === 0 ? 0 : zsetFind(ks, e, argv.buf, argv.start[2], argv.len[2])
  if (n === 0) { out.nullBulk(); return }
  const r = zsetRank(ks, e, n)
  out.int(isRev ? zsetLen(ks, e) - 1 - r : r)
}

export function zrankCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { rankGeneric(shard, argv, out, false) }
export function zrevrankCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { rankGeneric(shard, argv, out, true) }

export function zremCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return }
  let deleted = 0
  let isRemoved = false
  for (let i = 2; i < argc; i++) {
    const n = zsetFind(ks, e, buf, start[i], len[i])
    if (n === 0) continue
    zsetDelete(ks, e, n)
    deleted++
    if (zsetLen(ks, e) === 0) { ks.remove(e); isRemoved = true; break }
  }
  out.int(deleted)
  if (deleted > 0) {
    shard.notify(NOTIFY_ZSET, EV_ZREM, buf, start[1], len[1])
    if (isRemoved) shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
  }
}

// --- ranges: parsing (zslParseRange, zslParseLexRange) ---------------------------------------------

interface ScoreRange { min: number, max: number, minex: boolean, maxex: boolean }
interface LexRange { min: Uint8Array | null, max: Uint8Array | null, minex: boolean, maxex: boolean, minInf: number, maxInf: number }

/** strtod as zslParseRange calls it: leading space allowed, the whole rest must be a float, not NaN. */
function rangeFloat (buf: Uint8Array, start: number, len: number): number {
  const n = plainInteger(buf, start, len)
  if (n !== null) return n
  let s = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')
  s = s.replace(/^[ \t\n\v\f\r]+/, '')
  if (s === '') return len === 0 ? 0 : NaN
  const lower = s.toLowerCase()
  const sign = lower[0] === '-' ? -1 : 1
  const body = lower[0] === '-' || lower[0] === '+' ? lower.slice(1) : lower
  if (body === 'inf' || body === 'infinity') return sign * Infinity
  if (body.startsWith('0x')) return parseHexFloat(s, false)
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(body)) return NaN
  return sign * Number(body)
}

function parseScoreRange (buf: Uint8Array, min: number, minLen: number, max: number, maxLen: number): ScoreRange | null {
  const r: ScoreRange = { min: 0, max: 0, minex: false, maxex: false }
  if (minLen > 0 && buf[min] === 40) { r.minex = true; min++; minLen-- }
  if (maxLen > 0 && buf[max] === 40) { r.maxex = true; max++; maxLen-- }
  r.min = rangeFloat(buf, min, minLen)
  r.max = rangeFloat(buf, max, maxLen)
  if (Number.isNaN(r.min) || Number.isNaN(r.max)) return null
  return r
}

function parseLexItem (buf: Uint8Array, s: number, l: number, r: LexRange, isMin: boolean): boolean {
  if (l === 0) return false
  const c = buf[s]
  if (c === 43 || c === 45) { // '+', '-'
    if (l !== 1) return false
    if (isMin) r.minInf = c === 43 ? 1 : -1
    else r.maxInf = c === 43 ? 1 : -1
    return true
  }
  if (c !== 40 && c !== 91) return false // '(' or '['
  const v = buf.slice(s + 1, s + l)
  if (isMin) { r.min = v; r.minex = c === 40 } else { r.max = v; r.maxex = c === 40 }
  return true
}

function parseLexRange (buf: Uint8Array, min: number, minLen: number, max: number, maxLen: number): LexRange | null {
  const r: LexRange = { min: null, max: null, minex: false, maxex: false, minInf: 0, maxInf: 0 }
  if (!parseLexItem(buf, min, minLen, r, true) || !parseLexItem(buf, max, maxLen, r, false)) return null
  return r
}

/** Indexes [from, to) of the elements within a score range. */
function scoreSpan (ks: Keyspace, e: number, r: ScoreRange): [number, number] {
  const from = zsetFirstByScore(ks, e, r.min, r.minex)
  const to = zsetFirstByScore(ks, e, r.max, !r.maxex)
  return [from, to > from ? to : from]
}

function lexBound (ks: Keyspace, e: number, v: Uint8Array | null, inf: number, isExclusive: boolean): number {
  if (inf === -1) return 0
  if (inf === 1) return zsetLen(ks, e)
  const b = v as Uint8Array
  return zsetFirstByLex(ks, e, b, 0, b.length, isExclusive)
}

/** Indexes [from, to) of the elements within a lex range. */
function lexSpan (ks: Keyspace, e: number, r: LexRange): [number, number] {
  const from = lexBound(ks, e, r.min, r.minInf, r.minex)
  const to = lexBound(ks, e, r.max, r.maxInf, !r.maxex)
  return [from, to > from ? to : from]
}

// --- ZRANGE and its older forms (zrangeGenericCommand) ---------------------------------------------

const BY_AUTO = 0
const BY_RANK = 1
const BY_SCORE = 2
const BY_LEX = 3

/** The range family; `by` and `isRev` preset by the older commands (then not accepted as words). */
function zrangeGeneric (shard: Shard, argv: Argv, out: ReplyWriter, presetBy: number, presetRev: boolean | null): void {
  const { buf, start, len, argc } = argv
  let by = presetBy
  let rev = presetRev
  let withScores = false
  let offset = 0
  let limit = -1
  for (let j = 4; j < argc; j++) {
    const left = argc - j - 1
    if (equalsLower(buf, start[j], len[j], T_WITHSCORES)) withScores = true
    else if (equalsLower(buf, start[j], len[j], T_LIMIT) && left >= 2) {
      if (!parseInt64(buf, start[j + 1], len[j + 1])) { out.raw(NOT_INTEGER); return }
      offset = parsed.isBig ? Number(parsed.big) : parsed.value
      if (!parseInt64(buf, start[j + 2], len[j + 2])) { out.raw(NOT_INTEGER); return }
      limit = parsed.isBig ? Number(parsed.big) : parsed.value
      j += 2
    } else if (rev === null && equalsLower(buf, start[j], len[j], T_REV)) rev = true
    else if (by === BY_AUTO && equalsLower(buf, start[j], len[j], T_BYLEX)) by = BY_LEX
    else if (by === BY_AUTO && equalsLower(buf, start[j], len[j], T_BYSCORE)) by = BY_SCORE
    else { out.raw(SYNTAX_ERR); return }
  }
  const isRev = rev === true
  if (by === BY_AUTO) by = BY_RANK
  if (limit !== -1 && by === BY_RANK) { out.raw(LIMIT_RANK); return }
  if (withScores && by === BY_LEX) { out.raw(WITHSCORES_LEX); return }
  // Reversed score and lex ranges are given as max, min.
  let minI = 2
  let maxI = 3
  if (isRev && by !== BY_RANK) { minI = 3; maxI = 2 }
  let rankFrom = 0
  let rankTo = 0
  let sr: ScoreRange | null = null
  let lr: LexRange | null = null
  if (by === BY_RANK) {
    if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
    rankFrom = parsed.isBig ? Number(parsed.big) : parsed.value
    if (!parseInt64(buf, start[3], len[3])) { out.raw(NOT_INTEGER); return }
    rankTo = parsed.isBig ? Number(parsed.big) : parsed.value
  } else if (by === BY_SCORE) {
    sr = parseScoreRange(buf, start[minI], len[minI], start[maxI], len[maxI])
    if (sr === null) { out.raw(MINMAX_FLOAT); return }
  } else {
    lr = parseLexRange(buf, start[minI], len[minI], start[maxI], len[maxI])
    if (lr === null) { out.raw(MINMAX_LEX); return }
  }
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_ARRAY); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return }
  const size = zsetLen(ks, e)
  // The selected ranks, ascending [from, to), then walked forwards or backwards.
  let from: number
  let to: number
  if (by === BY_RANK) {
    let s = rankFrom < 0 ? size + rankFrom : rankFrom
    let t = rankTo < 0 ? size + rankTo : rankTo
    if (s < 0) s = 0
    if (s > t || s >= size) { out.raw(EMPTY_ARRAY); return }
    if (t >= size) t = size - 1
    if (isRev) { from = size - 1 - t; to = size - s } else { from = s; to = t + 1 }
    emitRange(out, ks, e, from, to, isRev, withScores, 0, -1)
    return
  }
  if (offset > 0 && offset >= size) { out.raw(EMPTY_ARRAY); return }
  ;[from, to] = by === BY_SCORE ? scoreSpan(ks, e, sr as ScoreRange) : lexSpan(ks, e, lr as LexRange)
  emitRange(out, ks, e, from, to, isRev, withScores, offset, limit)
}

/**
 * Replies the elements of ranks [from, to), forwards or backwards, after skipping `offset` and at
 * most `limit` of them (-1: all; a negative offset skips everything, as Redis's loop does).
 */
function emitRange (out: ReplyWriter, ks: Keyspace, e: number, from: number, to: number, isRev: boolean,
  withScores: boolean, offset: number, limit: number): void {
  let n = to - from
  if (offset < 0) n = 0
  else n = Math.max(0, n - offset)
  if (limit >= 0 && n > limit) n = limit
  out.arrayHeader(withScores && !out.resp3 ? n * 2 : n)
  if (n === 0) return
  zsetSeek(ks, e, isRev ? to - 1 - offset : from + offset)
  const dir = isRev ? -1 : 1
  for (let k = 0; k < n; k++) {
    const node = zsetStep(ks, dir)
    if (withScores && out.resp3) out.arrayHeader(2)
    replyMember(out, ks, node)
    if (withScores) replyScore(out, nodeScore(ks, node))
  }
}

export function zrangeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { zrangeGeneric(shard, argv, out, BY_AUTO, null) }
useZrange(zrangeCommand)
export function zrevrangeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { zrangeGeneric(shard, argv, out, BY_RANK, true) }
export function zrangebyscoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { zrangeGeneric(shard, argv, out, BY_SCORE, false) }
export function zrevrangebyscoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { zrangeGeneric(shard, argv, out, BY_SCORE, true) }
export function zrangebylexCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { zrangeGeneric(shard, argv, out, BY_LEX, false) }
export function zrevrangebylexCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { zrangeGeneric(shard, argv, out, BY_LEX, true) }

// --- ZCOUNT, ZLEXCOUNT ---------------------------------------------------------------------------

export function zcountCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const r = parseScoreRange(buf, start[2], len[2], start[3], len[3])
  if (r === null) { out.raw(MINMAX_FLOAT); return }
  const e = readZset(shard, argv, out)
  if (e < 0) return
  if (e === 0) { out.raw(ZERO); return }
  const [from, to] = scoreSpan(shard.ks, e, r)
  out.int(to - from)
}

export function zlexcountCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const r = parseLexRange(buf, start[2], len[2], start[3], len[3])
  if (r === null) { out.raw(MINMAX_LEX); return }
  const e = readZset(shard, argv, out)
  if (e < 0) return
  if (e === 0) { out.raw(ZERO); return }
  const [from, to] = lexSpan(shard.ks, e, r)
  out.int(to - from)
}

// --- ZPOPMIN, ZPOPMAX (genericZpopCommand) -----------------------------------------------------------

function popGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isMax: boolean): void {
  const { buf, start, len, argc } = argv
  if (argc > 3) { out.raw(SYNTAX_ERR); return }
  let count = 1
  const hasCount = argc === 3
  if (hasCount) {
    if (!parseInt64(buf, start[2], len[2]) || parsed.value < 0 || parsed.isBig) { out.raw(POP_COUNT_RANGE); return }
    count = parsed.value
  }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_ARRAY); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return }
  if (count === 0) { out.raw(EMPTY_ARRAY); return }
  const size = zsetLen(ks, e)
  const n = count < size ? count : size
  // RESP3 nests each pair when a count was given; a lone pop is one flat pair.
  const isNested = out.resp3 && hasCount
  // Redis's dirty: the members popped, whatever shape the reply has.
  ownDirty.n = n
  out.arrayHeader(isNested ? n : n * 2)
  for (let k = 0; k < n; k++) {
    const node = zsetAt(ks, e, isMax ? zsetLen(ks, e) - 1 : 0)
    if (isNested) out.arrayHeader(2)
    replyMember(out, ks, node)
    replyScore(out, nodeScore(ks, node))
    zsetDelete(ks, e, node)
  }
  shard.notify(NOTIFY_ZSET, EV_POP[isMax ? 1 : 0], buf, start[1], len[1])
  deleteIfEmpty(shard, e, argv)
}

export function zpopminCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { popGeneric(shard, argv, out, false) }
export function zpopmaxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { popGeneric(shard, argv, out, true) }

// --- ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX (zremrangeGenericCommand) ---------------------

function remrangeGeneric (shard: Shard, argv: Argv, out: ReplyWriter, by: number): void {
  const { buf, start, len } = argv
  let sr: ScoreRange | null = null
  let lr: LexRange | null = null
  let rs = 0
  let re = 0
  if (by === BY_RANK) {
    if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
    rs = parsed.isBig ? Number(parsed.big) : parsed.value
    if (!parseInt64(buf, start[3], len[3])) { out.raw(NOT_INTEGER); return }
    re = parsed.isBig ? Number(parsed.big) : parsed.value
  } else if (by === BY_SCORE) {
    sr = parseScoreRange(buf, start[2], len[2], start[3], len[3])
    if (sr === null) { out.raw(MINMAX_FLOAT); return }
  } else {
    lr = parseLexRange(buf, start[2], len[2], start[3], len[3])
    if (lr === null) { out.raw(MINMAX_LEX); return }
  }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return }
  const size = zsetLen(ks, e)
  let from: number
  let to: number
  if (by === BY_RANK) {
    if (rs < 0) rs = size + rs
    if (re < 0) re = size + re
    if (rs < 0) rs = 0
    if (rs > re || rs >= size) { out.raw(ZERO); return }
    if (re >= size) re = size - 1
    from = rs
    to = re + 1
  } else {
    ;[from, to] = by === BY_SCORE ? scoreSpan(ks, e, sr as ScoreRange) : lexSpan(ks, e, lr as LexRange)
  }
  const n = to - from
  for (let k = 0; k < n; k++) zsetDelete(ks, e, zsetAt(ks, e, from))
  out.int(n)
  if (n > 0) {
    shard.notify(NOTIFY_ZSET, EV_REMRANGE[by - 1], buf, start[1], len[1])
    deleteIfEmpty(shard, e, argv)
  }
}

export function zremrangebyrankCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { remrangeGeneric(shard, argv, out, BY_RANK) }
export function zremrangebyscoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { remrangeGeneric(shard, argv, out, BY_SCORE) }
export function zremrangebylexCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { remrangeGeneric(shard, argv, out, BY_LEX) }

export { ENC_ZLISTPACK }

// --- ZRANDMEMBER (zrandmemberCommand, zrandmemberWithCountCommand) -----------------------------------

const COUNT_RANGE = errorReply('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807')
const RANGE_ERR = errorReply('ERR value is out of range')
const LONG_MAX = 9223372036854775807n
const LONG_MAX_HALF = LONG_MAX / 2n
/** The most picks ZRANDMEMBER key -count answers (a deviation: Redis has no bound). */
const MAX_REPEATS = 10_000_000

export function zrandmemberCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  if (argc >= 3) {
    if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
    const big = parsed.isBig ? parsed.big : BigInt(parsed.value)
    if (big < -LONG_MAX) { out.raw(COUNT_RANGE); return }
    const l = parsed.isBig ? Number(parsed.big) : parsed.value
    if (argc > 4 || (argc === 4 && !equalsLower(buf, start[3], len[3], T_WITHSCORES))) { out.raw(SYNTAX_ERR); return }
    const withScores = argc === 4
    if (withScores && (big < -LONG_MAX_HALF || big > LONG_MAX_HALF)) { out.raw(RANGE_ERR); return }
    const e = readZset(shard, argv, out)
    if (e < 0) return
    if (e === 0 || l === 0) { out.raw(EMPTY_ARRAY); return }
    const ks = shard.ks
    const size = zsetLen(ks, e)
    const one = (i: number): void => {
      const node = zsetAt(ks, e, i)
      if (withScores && out.resp3) out.arrayHeader(2)
      replyMember(out, ks, node)
      if (withScores) replyScore(out, nodeScore(ks, node))
    }
    const header = (n: number): void => { out.arrayHeader(withScores && !out.resp3 ? n * 2 : n) }
    if (l < 0 || l === 1) {
      const count = l < 0 ? -l : 1
      if (count > MAX_REPEATS) { out.raw(RANGE_ERR); return }
      header(count)
      for (let k = 0; k < count; k++) one(Math.floor(Math.random() * size))
      return
    }
    // The whole set: Redis answers it highest score first.
    if (l >= size) {
      header(size)
      for (let i = size - 1; i >= 0; i--) one(i)
      return
    }
    const idx = Array.from({ length: size }, (_v, i) => i)
    header(l)
    for (let k = 0; k < l; k++) {
      const j = k + Math.floor(Math.random() * (size - k))
      const t = idx[k]; idx[k] = idx[j]; idx[j] = t
      one(idx[k])
    }
    return
  }
  const e = readZset(shard, argv, out)
  if (e < 0) return
  if (e === 0) { out.nullBulk(); return }
  replyMember(out, shard.ks, zsetAt(shard.ks, e, Math.floor(Math.random() * zsetLen(shard.ks, e))))
}

// --- ZSCAN ---------------------------------------------------------------------------------------

const EMPTY_SCAN = Buffer.from('*2\r\n$1\r\n0\r\n*0\r\n')
const T_COUNT = token('count')

/** ld2string(LD_STR_HUMAN) of a double, as ZSCAN writes a skiplist's scores: %.17f, zeros trimmed. */
function humanScore (d: number): string {
  if (d === Infinity) return 'inf'
  if (d === -Infinity) return '-inf'
  if (Math.abs(d) >= 1e21) return formatScore(d)
  let s = d.toFixed(17)
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '')
  return s === '-0' ? '0' : s
}

export function zscanCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const cursor = scanCursorOf(buf, start[2], len[2], 1)
  if (cursor < 0) { out.raw(INVALID_CURSOR); return }
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_SCAN); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return }
  const opts = parseScanArgs(argv, 3)
  if (Buffer.isBuffer(opts)) { out.raw(opts); return }
  const { count, pattern } = opts
  const u8 = ks.arena.u8
  const nodes: number[] = []
  const take = (n: number): void => {
    if (pattern >= 0 && !stringMatch(buf, start[pattern], len[pattern], u8, nodeMemberAt(n), nodeMemberLen(ks, n), false)) return
    nodes.push(n)
  }
  let next = 0
  const isListpack = zsetEncoding(ks, e) === ENC_ZLISTPACK
  if (isListpack) {
    // A listpack comes back whole, in order, whatever the cursor (as in Redis).
    for (let i = 0, n = zsetLen(ks, e); i < n; i++) take(zsetAt(ks, e, i))
  } else {
    const { block, count: buckets } = zsetBuckets(ks, e)
    next = walkBuckets(cursor, buckets, count, b => {
      let n = 0
      zsetBucketForEach(ks, block, b, node => { n++; take(node) })
      return n
    })
  }
  out.arrayHeader(2)
  out.bulkStr(String(next))
  out.arrayHeader(nodes.length * 2)
  for (const n of nodes) {
    replyMember(out, ks, n)
    out.bulkStr(isListpack ? formatScore(nodeScore(ks, n)) : humanScore(nodeScore(ks, n)))
  }
}

// --- ZMPOP (zmpopGenericCommand) ---------------------------------------------------------------------

const T_MIN = token('min')
const T_MAX = token('max')

/** ZMPOP's numkeys, side and count, or the error reply. */
function zmpopArgs (argv: Argv, at = 1): { numkeys: number, isMax: boolean, count: number } | Buffer {
  const { buf, start, len, argc } = argv
  if (!parseInt64(buf, start[at], len[at]) || parsed.isBig || parsed.value < 1) return NUMKEYS_NOT_POSITIVE
  const numkeys = parsed.value
  const whereIdx = numkeys + at + 1
  if (whereIdx >= argc) return SYNTAX_ERR
  let isMax: boolean
  if (equalsLower(buf, start[whereIdx], len[whereIdx], T_MIN)) isMax = false
  else if (equalsLower(buf, start[whereIdx], len[whereIdx], T_MAX)) isMax = true
  else return SYNTAX_ERR
  let count = -1
  for (let j = whereIdx + 1; j < argc; j++) {
    if (count === -1 && j < argc - 1 && equalsLower(buf, start[j], len[j], T_COUNT)) {
      j++
      if (!parseInt64(buf, start[j], len[j]) || parsed.value < 1) return COUNT_NOT_POSITIVE
      count = parsed.isBig ? Number.MAX_SAFE_INTEGER : parsed.value
    } else {
      return SYNTAX_ERR
    }
  }
  return { numkeys, isMax, count: count === -1 ? 1 : count }
}

export function zmpopGetKeys (argv: Argv): number[] | null { return numkeysKeys(argv, 1) }

export function zmpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const a = zmpopArgs(argv)
  if (Buffer.isBuffer(a)) { out.raw(a); return }
  if (zmpopFirst(shard, argv, 2, a, out) === 0) out.nullArray()
}

/** Pops from the first non-empty key of argv[from..from+numkeys) as ZMPOP replies; 0 when all are empty, -1 after an error. */
function zmpopFirst (shard: Shard, argv: Argv, from: number, a: { numkeys: number, isMax: boolean, count: number }, out: ReplyWriter): number {
  const { buf, start, len } = argv
  const ks = shard.ks
  for (let k = from; k < a.numkeys + from; k++) {
    const e = shard.lookup(buf, start[k], len[k])
    if (e === 0) continue
    if (ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return -1 }
    popMany(shard, e, a.isMax, a.count, out, buf, start[k], len[k])
    return 1
  }
  return 0
}

/** ZMPOP's reply for key: [key, [[member, score]...]], the pop's event, and "del" once empty. */
function popMany (shard: Shard, e: number, isMax: boolean, count: number, out: ReplyWriter, kb: Uint8Array, ks0: number, kl: number): void {
  const ks = shard.ks
  const n = Math.min(count, zsetLen(ks, e))
  out.arrayHeader(2)
  out.bulk(kb, ks0, kl)
  out.arrayHeader(n)
  for (let i = 0; i < n; i++) {
    const node = zsetAt(ks, e, isMax ? zsetLen(ks, e) - 1 : 0)
    out.arrayHeader(2)
    replyMember(out, ks, node)
    replyScore(out, nodeScore(ks, node))
    zsetDelete(ks, e, node)
  }
  shard.notify(NOTIFY_ZSET, EV_POP[isMax ? 1 : 0], kb, ks0, kl)
  if (zsetLen(ks, e) === 0) { ks.remove(e); shard.notify(NOTIFY_GENERIC, EV_DEL, kb, ks0, kl) }
}

/** BZPOPMIN/BZPOPMAX's reply for key: [key, member, score], the pop's event, and "del" once empty. */
function popOne (shard: Shard, e: number, isMax: boolean, out: ReplyWriter, kb: Uint8Array, ks0: number, kl: number): void {
  const ks = shard.ks
  const node = zsetAt(ks, e, isMax ? zsetLen(ks, e) - 1 : 0)
  out.arrayHeader(3)
  out.bulk(kb, ks0, kl)
  replyMember(out, ks, node)
  replyScore(out, nodeScore(ks, node))
  zsetDelete(ks, e, node)
  shard.notify(NOTIFY_ZSET, EV_POP[isMax ? 1 : 0], kb, ks0, kl)
  if (zsetLen(ks, e) === 0) { ks.remove(e); shard.notify(NOTIFY_GENERIC, EV_DEL, kb, ks0, kl) }
}

// --- BZPOPMIN, BZPOPMAX, BZMPOP (blockingGenericZpopCommand, bzmpopCommand) ---------------------------
// As the blocking list pops (list.ts): a key with members pops at once; else the client waits on
// its keys (shard.pendingBlock, the worker serves it when one becomes a sorted set), or answers
// as timed out inside EXEC. Keys on several shards wait through server/blocking.ts.

function bzpopGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isMax: boolean): void {
  const { buf, start, len, argc } = argv
  const deadline = blockDeadline(shard, argv, argc - 1, out)
  if (deadline === null) return
  const ks = shard.ks
  for (let k = 1; k < argc - 1; k++) {
    const e = shard.lookup(buf, start[k], len[k])
    if (e === 0) continue
    if (ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return }
    popOne(shard, e, isMax, out, buf, start[k], len[k])
    return
  }
  if (shard.noBlock) { out.nullArray(); return }
  shard.pendingBlock = { kind: BLOCK_ZPOP, where: isMax ? 1 : 0, whereTo: 0, count: 1, keys: keyCopies(argv, 1, argc - 1), dst: null, deadline, waitId: 0, isZset: true }
}

export function bzpopminCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { bzpopGeneric(shard, argv, out, false) }
export function bzpopmaxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { bzpopGeneric(shard, argv, out, true) }

export function bzmpopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const a = zmpopArgs(argv, 2)
  if (Buffer.isBuffer(a)) { out.raw(a); return }
  const deadline = blockDeadline(shard, argv, 1, out)
  if (deadline === null) return
  const r = zmpopFirst(shard, argv, 3, a, out)
  if (r !== 0) return
  if (shard.noBlock) { out.nullArray(); return }
  shard.pendingBlock = { kind: BLOCK_ZMPOP, where: a.isMax ? 1 : 0, whereTo: 0, count: a.count, keys: keyCopies(argv, 3, a.numkeys + 3), dst: null, deadline, waitId: 0, isZset: true }
}

/** Serves a waiter once its key holds a sorted set (the worker, through list.ts serveBlocked). */
function serveZsetWaiter (shard: Shard, spec: BlockSpec, key: Buffer, out: ReplyWriter): void {
  const e = shard.lookup(key, 0, key.length)
  if (spec.kind === BLOCK_ZPOP) popOne(shard, e, spec.where === 1, out, key, 0, key.length)
  else popMany(shard, e, spec.where === 1, spec.count, out, key, 0, key.length)
}
useZsetServe(serveZsetWaiter)

/** A blocking sorted-set pop's argument errors, in Redis's order, before any key is read. */
export function zsetBlockingArgsError (name: string, argv: Argv): Buffer | null {
  if (name === 'bzmpop') {
    const a = zmpopArgs(argv, 2)
    if (Buffer.isBuffer(a)) return a
  }
  const ti = name === 'bzmpop' ? 1 : argv.argc - 1
  const t = timeoutMillis(argv.buf, argv.start[ti], argv.len[ti])
  if (t === 'invalid') return TIMEOUT_NOT_FLOAT
  if (t === 'negative') return TIMEOUT_NEGATIVE
  return null
}

/** bzmpop's side and count (for the wait across shards). */
export function bzmpopWhereCount (argv: Argv): { isMax: boolean, count: number } {
  const a = zmpopArgs(argv, 2) as { numkeys: number, isMax: boolean, count: number }
  return { isMax: a.isMax, count: a.count }
}

/**
 * The non-blocking form on held shards (a wait across shards tries it; inside EXEC it is the
 * command): the first key holding a sorted set pops. Null when none does.
 */
export async function zsetBlockingTry (tx: TxnContext, name: string, argv: Argv): Promise<Uint8Array | null> {
  const { buf, start, len } = argv
  if (name === 'bzmpop') {
    const a = zmpopArgs(argv, 2) as { numkeys: number, isMax: boolean, count: number }
    const side = a.isMax ? T_MAX : T_MIN
    const count = Buffer.from(String(a.count))
    for (let k = 3; k < a.numkeys + 3; k++) {
      const key = buf.subarray(start[k], start[k] + len[k])
      const r = await tx.run(tx.shardOf(key, 0, key.length), 'zmpop', [ONE_ARG, key, side, T_COUNT, count])
      if (!(r[0] === 95 || (r[0] === 42 && r[1] === 45))) return r
    }
    return null
  }
  const pop = name === 'bzpopmax' ? 'zpopmax' : 'zpopmin'
  for (let k = 1; k < argv.argc - 1; k++) {
    const key = buf.subarray(start[k], start[k] + len[k])
    const r = await tx.run(tx.shardOf(key, 0, key.length), pop, [key])
    if (r[0] === 45) return r
    if (r[0] === 42 && r[1] === 48) continue // *0: missing
    // ZPOPMIN's *2 member score becomes *3 key member score.
    return Buffer.concat([Buffer.from(`*3\r\n$${key.length}\r\n`), key, Buffer.from('\r\n'), r.subarray(r.indexOf(10) + 1)])
  }
  return null
}

/** Inside EXEC with keys on several shards: the non-blocking form, or the timeout reply. */
async function zsetBlockingCoord (tx: TxnContext, argv: Argv, name: string): Promise<Uint8Array> {
  const err = zsetBlockingArgsError(name, argv)
  if (err !== null) return err
  const r = await zsetBlockingTry(tx, name, argv)
  return r ?? Buffer.from(tx.resp3 ? '_\r\n' : '*-1\r\n')
}

export function bzmpopGetKeys (argv: Argv): number[] | null { return numkeysKeys(argv, 2) }

const TIMEOUT_NOT_FLOAT = errorReply('ERR timeout is not a float or out of range')
const TIMEOUT_NEGATIVE = errorReply('ERR timeout is negative')

const ONE_ARG = Buffer.from('1')

/** Keys on several shards: a one-key ZMPOP on each key's shard, in key order, until one answers. */
async function zmpopCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const a = zmpopArgs(argv)
  if (Buffer.isBuffer(a)) return a
  const { buf, start, len } = argv
  const side = a.isMax ? T_MAX : T_MIN
  const count = Buffer.from(String(a.count))
  for (let k = 2; k < a.numkeys + 2; k++) {
    const key = buf.subarray(start[k], start[k] + len[k])
    const r = await tx.run(tx.shardOf(key, 0, key.length), 'zmpop', [ONE_ARG, key, side, T_COUNT, count])
    if (!(r[0] === 95 || (r[0] === 42 && r[1] === 45))) return r
  }
  return Buffer.from(tx.resp3 ? '_\r\n' : '*-1\r\n')
}

const ZSET = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'sortedset' } as const
const RO = [{ flags: ['RO'] }] as const
const RO_ACCESS = [{ flags: ['RO', 'access'] }] as const
const RW_DELETE = [{ flags: ['RW', 'delete'] }] as const
const RW_ACCESS_DELETE = [{ flags: ['RW', 'access', 'delete'] }] as const

export const zsetCommands: CommandSpec[] = [
  { ...ZSET, name: 'bzmpop', arity: -5, touchesReplyKey: true, flags: ['write', 'blocking', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, route: 'block', since: '7.0.0', summary: 'Remove and return members with scores in a sorted set or block until one is available', complexity: 'O(K) + O(N*log(M)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 2, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } }], getKeys: bzmpopGetKeys, run: bzmpopCommand, coord: async (tx, argv) => await zsetBlockingCoord(tx, argv, 'bzmpop') },
  { ...ZSET, name: 'bzpopmax', arity: -3, touchesReplyKey: true, flags: ['write', 'noscript', 'blocking', 'fast'], lastKey: -2, route: 'block', since: '5.0.0', summary: 'Remove and return the member with the highest score from one or more sorted sets, or block until one is available', complexity: 'O(log(N)) with N being the number of elements in the sorted set.', keySpecs: RW_ACCESS_DELETE, run: bzpopmaxCommand, coord: async (tx, argv) => await zsetBlockingCoord(tx, argv, 'bzpopmax') },
  { ...ZSET, name: 'bzpopmin', arity: -3, touchesReplyKey: true, flags: ['write', 'noscript', 'blocking', 'fast'], lastKey: -2, route: 'block', since: '5.0.0', summary: 'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available', complexity: 'O(log(N)) with N being the number of elements in the sorted set.', keySpecs: RW_ACCESS_DELETE, run: bzpopminCommand, coord: async (tx, argv) => await zsetBlockingCoord(tx, argv, 'bzpopmin') },
  { ...ZSET, name: 'zadd', arity: -4, flags: ['write', 'denyoom', 'fast'], since: '1.2.0', summary: 'Add one or more members to a sorted set, or update its score if it already exists', complexity: 'O(log(N)) for each item added, where N is the number of elements in the sorted set.', keySpecs: [{ flags: ['RW', 'update'] }], run: zaddCommand },
  { ...ZSET, name: 'zcard', arity: 2, flags: ['readonly', 'fast'], since: '1.2.0', summary: 'Get the number of members in a sorted set', complexity: 'O(1)', keySpecs: RO, run: zcardCommand },
  { ...ZSET, name: 'zcount', arity: 4, flags: ['readonly', 'fast'], since: '2.0.0', summary: 'Count the members in a sorted set with scores within the given values', complexity: 'O(log(N)) with N being the number of elements in the sorted set.', keySpecs: RO_ACCESS, run: zcountCommand },
  { ...ZSET, name: 'zincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], since: '1.2.0', summary: 'Increment the score of a member in a sorted set', complexity: 'O(log(N)) where N is the number of elements in the sorted set.', keySpecs: [{ flags: ['RW', 'access', 'update'] }], run: zincrbyCommand },
  { ...ZSET, name: 'zlexcount', arity: 4, flags: ['readonly', 'fast'], since: '2.8.9', summary: 'Count the number of members in a sorted set between a given lexicographical range', complexity: 'O(log(N)) with N being the number of elements in the sorted set.', keySpecs: RO_ACCESS, run: zlexcountCommand },
  { ...ZSET, name: 'zmscore', arity: -3, flags: ['readonly', 'fast'], since: '6.2.0', summary: 'Get the score associated with the given members in a sorted set', complexity: 'O(N) where N is the number of members being requested.', keySpecs: RO_ACCESS, run: zmscoreCommand },
  { name: 'zmpop', arity: -4, touchesReplyKey: true, flags: ['write', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, route: 'coord', group: 'sortedset', since: '7.0.0', summary: 'Remove and return members with scores in a sorted set', complexity: 'O(K) + O(N*log(M)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } }], getKeys: zmpopGetKeys, run: zmpopCommand, coord: zmpopCoord },
  { ...ZSET, name: 'zpopmax', arity: -2, flags: ['write', 'fast'], since: '5.0.0', summary: 'Remove and return members with the highest scores in a sorted set', complexity: 'O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.', keySpecs: RW_ACCESS_DELETE, run: zpopmaxCommand },
  { ...ZSET, name: 'zpopmin', arity: -2, flags: ['write', 'fast'], since: '5.0.0', summary: 'Remove and return members with the lowest scores in a sorted set', complexity: 'O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.', keySpecs: RW_ACCESS_DELETE, run: zpopminCommand },
  { ...ZSET, name: 'zrandmember', arity: -2, flags: ['readonly'], since: '6.2.0', summary: 'Get one or multiple random elements from a sorted set', complexity: 'O(N) where N is the number of elements returned', tips: ['nondeterministic_output'], keySpecs: RO_ACCESS, run: zrandmemberCommand },
  { ...ZSET, name: 'zrange', arity: -4, flags: ['readonly'], since: '1.2.0', summary: 'Return a range of members in a sorted set', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.', keySpecs: RO_ACCESS, run: zrangeCommand },
  { ...ZSET, name: 'zrangebylex', arity: -4, flags: ['readonly'], since: '2.8.9', summary: 'Return a range of members in a sorted set, by lexicographical range', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).', keySpecs: RO_ACCESS, run: zrangebylexCommand },
  { ...ZSET, name: 'zrangebyscore', arity: -4, flags: ['readonly'], since: '1.0.5', summary: 'Return a range of members in a sorted set, by score', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).', keySpecs: RO_ACCESS, run: zrangebyscoreCommand },
  { ...ZSET, name: 'zrank', arity: 3, flags: ['readonly', 'fast'], since: '2.0.0', summary: 'Determine the index of a member in a sorted set', complexity: 'O(log(N))', keySpecs: RO_ACCESS, run: zrankCommand },
  { ...ZSET, name: 'zrem', arity: -3, flags: ['write', 'fast'], since: '1.2.0', summary: 'Remove one or more members from a sorted set', complexity: 'O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.', keySpecs: RW_DELETE, run: zremCommand },
  { ...ZSET, name: 'zremrangebylex', arity: 4, flags: ['write'], since: '2.8.9', summary: 'Remove all members in a sorted set between the given lexicographical range', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.', keySpecs: RW_DELETE, run: zremrangebylexCommand },
  { ...ZSET, name: 'zremrangebyrank', arity: 4, flags: ['write'], since: '2.0.0', summary: 'Remove all members in a sorted set within the given indexes', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.', keySpecs: RW_DELETE, run: zremrangebyrankCommand },
  { ...ZSET, name: 'zremrangebyscore', arity: 4, flags: ['write'], since: '1.2.0', summary: 'Remove all members in a sorted set within the given scores', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.', keySpecs: RW_DELETE, run: zremrangebyscoreCommand },
  { ...ZSET, name: 'zrevrange', arity: -4, flags: ['readonly'], since: '1.2.0', summary: 'Return a range of members in a sorted set, by index, with scores ordered from high to low', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.', keySpecs: RO_ACCESS, run: zrevrangeCommand },
  { ...ZSET, name: 'zrevrangebylex', arity: -4, flags: ['readonly'], since: '2.8.9', summary: 'Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).', keySpecs: RO_ACCESS, run: zrevrangebylexCommand },
  { ...ZSET, name: 'zrevrangebyscore', arity: -4, flags: ['readonly'], since: '2.2.0', summary: 'Return a range of members in a sorted set, by score, with scores ordered from high to low', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).', keySpecs: RO_ACCESS, run: zrevrangebyscoreCommand },
  { ...ZSET, name: 'zrevrank', arity: 3, flags: ['readonly', 'fast'], since: '2.0.0', summary: 'Determine the index of a member in a sorted set, with scores ordered from high to low', complexity: 'O(log(N))', keySpecs: RO_ACCESS, run: zrevrankCommand },
  { ...ZSET, name: 'zscan', arity: -3, flags: ['readonly'], since: '2.8.0', summary: 'Incrementally iterate sorted sets elements and associated scores', complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..', tips: ['nondeterministic_output'], keySpecs: RO_ACCESS, run: zscanCommand },
  { ...ZSET, name: 'zscore', arity: 3, flags: ['readonly', 'fast'], since: '1.2.0', summary: 'Get the score associated with the given member in a sorted set', complexity: 'O(1)', keySpecs: RO_ACCESS, run: zscoreCommand },
]
