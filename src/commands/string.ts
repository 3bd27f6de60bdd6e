// String commands (Redis t_string.c). Values are raw bytes in the shard arena; handlers copy
// argument bytes straight from the request ring into the entry and reply from the arena.
// Integers are kept as their decimal text (as Redis replies with them) and parsed with
// string2ll on use; INCRBYFLOAT's long double arithmetic lives in float.ts. Strings edited in
// place (APPEND, SETRANGE) are flagged raw, as Redis then reports OBJECT ENCODING "raw".

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { Shard } from '../storage/shard.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { copyBytes } from '../bytes.js'
import { writes } from '../storage/writes.js'
import { NOTIFY_GENERIC, NOTIFY_STRING, eventName } from '../storage/notify.js'
import { TYPE_STRING, NO_INT_FLAG, entryBlockBytes } from '../storage/keyspace.js'
import { OK, ZERO, ONE, EMPTY_BULK } from '../protocol/replies.js'
import {
  WRONGTYPE, SYNTAX_ERR, NOT_INTEGER, NOT_FLOAT, OOM, OVERFLOW, DECR_OVERFLOW, OFFSET_OUT_OF_RANGE,
  STRING_TOO_LONG, INCR_NAN_OR_INFINITY, LCS_NOT_STRINGS, LCS_IDX_WITH_LEN, LCS_TOO_MUCH_MEMORY, expireTimeError,
} from '../protocol/errors.js'
import { token, parseInt64, parsed } from '../protocol/ascii.js'
import { setExpireMs, BAD_INT, LLONG_MAX, LLONG_MIN } from './expire-args.js'
import { incrByFloat, INCR_NOT_FLOAT } from './float.js'
import { isNullReply, isErrorReply, intReply, bulkPayload, argBytes } from './txn-helpers.js'

// Keyspace events (notifyKeyspaceEvent calls of t_string.c).
const EV_SET = eventName('set')
const EV_EXPIRE = eventName('expire')
const EV_PERSIST = eventName('persist')
const EV_DEL = eventName('del')
const EV_APPEND = eventName('append')
const EV_SETRANGE = eventName('setrange')
const EV_INCRBY = eventName('incrby')
const EV_INCRBYFLOAT = eventName('incrbyfloat')

/** proto-max-bulk-len's default: the largest string APPEND and SETRANGE may build. */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024

const TOK_NX = token('nx')
const TOK_XX = token('xx')
const TOK_GET = token('get')
const TOK_EX = token('ex')
const TOK_PX = token('px')
const TOK_EXAT = token('exat')
const TOK_PXAT = token('pxat')
const TOK_KEEPTTL = token('keepttl')
const TOK_PERSIST = token('persist')
const TOK_IDX = token('idx')
const TOK_LEN = token('len')
const TOK_WITHMATCHLEN = token('withmatchlen')
const TOK_MINMATCHLEN = token('minmatchlen')

// OBJ_* flags of parseExtendedStringArgumentsOrReply.
const SET_NX = 1
const SET_XX = 2
const SET_GET = 4
const SET_KEEPTTL = 8
const SET_EX = 16
const SET_PX = 32
const SET_EXAT = 64
const SET_PXAT = 128
const SET_PERSIST = 256
const SET_ANY_EXPIRE = SET_EX | SET_PX | SET_EXAT | SET_PXAT

const SET_EXPIRE_ERR = expireTimeError('set')
const SETEX_EXPIRE_ERR = expireTimeError('setex')
const PSETEX_EXPIRE_ERR = expireTimeError('psetex')
const GETEX_EXPIRE_ERR = expireTimeError('getex')

/**
 * An option word compared as Redis compares it: case-insensitively, as a C string (strcasecmp,
 * or `opt[2] == '\0'`), so bytes after a NUL inside the argument are ignored ("nx\0y" is NX).
 */
function isOpt (buf: Uint8Array, start: number, len: number, lower: Uint8Array): boolean {
  const n = lower.length
  if (len !== n && (len < n || buf[start + n] !== 0)) return false
  for (let i = 0; i < n; i++) {
    const c = buf[start + i]
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lower[i]) return false
  }
  return true
}

// --- storing values ------------------------------------------------------------------------------

/**
 * Gives key a string entry with room for vLen value bytes (left unwritten), where e is what
 * shard.lookup(key) returned just before (so shard.lastHash is the key's hash). Another type is
 * dropped (a list with its elements); the TTL stays only with keepTtl. Returns 0 when the arena
 * is full.
 */
function stringEntry (shard: Shard, e: number, kbuf: Uint8Array, kStart: number, kLen: number, vLen: number, keepTtl: boolean): number {
  const ks = shard.ks
  if (e === 0) return ks.insert(kbuf, kStart, kLen, shard.lastHash, TYPE_STRING, vLen)
  if (ks.type(e) !== TYPE_STRING) {
    const at = ks.expireAt(e)
    shard.removeOverwritten(ks, e)
    // A new value under the same key (dbOverwrite): not a "new" key.
    writes.isReplacing = true
    const n = ks.insert(kbuf, kStart, kLen, shard.lastHash, TYPE_STRING, vLen)
    writes.isReplacing = false
    if (n !== 0 && keepTtl) ks.setExpireAt(n, at)
    return n
  }
  const n = ks.resizeValue(e, vLen)
  if (n === 0) return 0
  ks.setType(n, TYPE_STRING) // also clears the raw flag: a new value is not edited in place
  if (!keepTtl) ks.setExpireAt(n, 0)
  return n
}

/**
 * Stores value bytes under key (overwriting any type), keeping or replacing the TTL.
 * Returns false when the arena is full.
 */
export function setValue (shard: Shard, kbuf: Uint8Array, kStart: number, kLen: number,
  vbuf: Uint8Array, vStart: number, vLen: number, expireAt: number, keepTtl: boolean): boolean {
  const e = stringEntry(shard, shard.lookup(kbuf, kStart, kLen), kbuf, kStart, kLen, vLen, keepTtl)
  if (e === 0) return false
  const ks = shard.ks
  writes.count++
  if (expireAt !== 0) ks.setExpireAt(e, expireAt)
  copyBytes(vbuf, vStart, vLen, ks.arena.u8, ks.valOffset(e))
  return true
}

/** Decimal length of a safe integer, sign included. */
function intTextLen (n: number): number {
  let d = n < 0 ? 2 : 1
  let v = n < 0 ? -n : n
  while (v >= 10) { v = Math.floor(v / 10); d++ }
  return d
}

/** Writes a safe integer's decimal text (intTextLen(n) bytes) at off. */
function writeIntText (u8: Uint8Array, off: number, n: number, textLen: number): void {
  let v = n
  if (n < 0) { u8[off] = 45; v = -n }
  let p = off + textLen - 1
  do {
    const q = Math.floor(v / 10)
    u8[p--] = 48 + (v - q * 10)
    v = q
  } while (v > 0)
}

/** Stores latin1 text as key's value (INCRBYFLOAT and the BigInt INCR path), keeping the TTL. */
function storeText (shard: Shard, e: number, argv: Argv, text: string): boolean {
  const n = stringEntry(shard, e, argv.buf, argv.start[1], argv.len[1], text.length, true)
  if (n === 0) return false
  const ks = shard.ks
  const u8 = ks.arena.u8
  const off = ks.valOffset(n)
  for (let i = 0; i < text.length; i++) u8[off + i] = text.charCodeAt(i)
  return true
}

// --- GET, SET and their variants ---------------------------------------------------------------

export function getCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
}

/**
 * setGenericCommand: flags are SET_* options, expireArg the argv index of the time (-1: none).
 * okReply/abortReply null mean +OK and a null bulk.
 */
function setGeneric (shard: Shard, argv: Argv, out: ReplyWriter, flags: number, valueArg: number, expireArg: number,
  expireErr: Buffer, okReply: Buffer, abortReply: Buffer | null): void {
  const { buf, start, len } = argv
  let expireAt = 0
  if (expireArg >= 0) {
    const ms = setExpireMs(buf, start[expireArg], len[expireArg], (flags & (SET_EX | SET_EXAT)) !== 0,
      (flags & (SET_EX | SET_PX)) !== 0, shard.now())
    if (ms < 0) { out.raw(ms === BAD_INT ? NOT_INTEGER : expireErr); return }
    expireAt = ms
  }
  const ks = shard.ks
  let found = false
  if ((flags & SET_GET) !== 0) {
    const e = shard.lookupRead(buf, start[1], len[1])
    if (e !== 0) {
      if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
      out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
      found = true
    } else {
      out.nullBulk()
    }
  } else if ((flags & (SET_NX | SET_XX)) !== 0) {
    found = shard.lookup(buf, start[1], len[1]) !== 0
  }
  if (((flags & SET_NX) !== 0 && found) || ((flags & SET_XX) !== 0 && !found)) {
    if ((flags & SET_GET) === 0) {
      if (abortReply === null) out.nullBulk()
      else out.raw(abortReply)
    }
    return
  }
  if (!setValue(shard, buf, start[1], len[1], buf, start[valueArg], len[valueArg], expireAt, (flags & SET_KEEPTTL) !== 0)) {
    if ((flags & SET_GET) === 0) out.raw(OOM)
    return
  }
  shard.notify(NOTIFY_STRING, EV_SET, buf, start[1], len[1])
  if (expireArg >= 0) shard.notify(NOTIFY_GENERIC, EV_EXPIRE, buf, start[1], len[1])
  // An EXAT/PXAT in the past stores the key already expired: the next access deletes it.
  if ((flags & SET_GET) === 0) out.raw(okReply)
}

// Same parse order as parseExtendedStringArgumentsOrReply (COMMAND_SET): each option is
// accepted only when it does not conflict with one already seen; a repeated EX/PX is allowed.
export function setCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let flags = 0
  let expireArg = -1
  for (let j = 3; j < argc; j++) {
    const s = start[j]
    const l = len[j]
    const hasNext = j < argc - 1
    if (isOpt(buf, s, l, TOK_NX) && (flags & SET_XX) === 0) flags |= SET_NX
    else if (isOpt(buf, s, l, TOK_XX) && (flags & SET_NX) === 0) flags |= SET_XX
    else if (isOpt(buf, s, l, TOK_GET)) flags |= SET_GET
    else if (isOpt(buf, s, l, TOK_KEEPTTL) && (flags & SET_ANY_EXPIRE) === 0) flags |= SET_KEEPTTL
    else if (isOpt(buf, s, l, TOK_EX) && (flags & (SET_KEEPTTL | SET_EXAT | SET_PX | SET_PXAT)) === 0 && hasNext) { flags |= SET_EX; expireArg = ++j }
    else if (isOpt(buf, s, l, TOK_PX) && (flags & (SET_KEEPTTL | SET_EX | SET_EXAT | SET_PXAT)) === 0 && hasNext) { flags |= SET_PX; expireArg = ++j }
    else if (isOpt(buf, s, l, TOK_EXAT) && (flags & (SET_KEEPTTL | SET_EX | SET_PX | SET_PXAT)) === 0 && hasNext) { flags |= SET_EXAT; expireArg = ++j }
    else if (isOpt(buf, s, l, TOK_PXAT) && (flags & (SET_KEEPTTL | SET_EX | SET_EXAT | SET_PX)) === 0 && hasNext) { flags |= SET_PXAT; expireArg = ++j }
    else { out.raw(SYNTAX_ERR); return }
  }
  setGeneric(shard, argv, out, flags, 2, expireArg, SET_EXPIRE_ERR, OK, null)
}

export function setnxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  setGeneric(shard, argv, out, SET_NX, 2, -1, SET_EXPIRE_ERR, ONE, ZERO)
}

export function setexCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  setGeneric(shard, argv, out, SET_EX, 3, 2, SETEX_EXPIRE_ERR, OK, null)
}

export function psetexCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  setGeneric(shard, argv, out, SET_PX, 3, 2, PSETEX_EXPIRE_ERR, OK, null)
}

export function getsetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) {
    out.nullBulk()
  } else {
    if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
    out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
  }
  // setKey without KEEPTTL: the old TTL goes. The reply is already written, so a full arena
  // leaves the old value in place rather than answering twice.
  if (setValue(shard, buf, start[1], len[1], buf, start[2], len[2], 0, false)) shard.notify(NOTIFY_STRING, EV_SET, buf, start[1], len[1])
}

export function getdelCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
  ks.remove(e)
  shard.notify(NOTIFY_GENERIC, EV_DEL, argv.buf, argv.start[1], argv.len[1])
}

// getexCommand: options as parseExtendedStringArgumentsOrReply (COMMAND_GET), then lookup and
// type check, and only then the time's validation, so a missing key answers null even for
// "EX abc".
export function getexCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let flags = 0
  let expireArg = -1
  for (let j = 2; j < argc; j++) {
    const s = start[j]
    const l = len[j]
    const hasNext = j < argc - 1
    if (isOpt(buf, s, l, TOK_PERSIST) && (flags & SET_ANY_EXPIRE) === 0) flags |= SET_PERSIST
    else if (isOpt(buf, s, l, TOK_EX) && (flags & (SET_PERSIST | SET_EXAT | SET_PX | SET_PXAT)) === 0 && hasNext) { flags |= SET_EX; expireArg = ++j }
    else if (isOpt(buf, s, l, TOK_PX) && (flags & (SET_PERSIST | SET_EX | SET_EXAT | SET_PXAT)) === 0 && hasNext) { flags |= SET_PX; expireArg = ++j }
    else if (isOpt(buf, s, l, TOK_EXAT) && (flags & (SET_PERSIST | SET_EX | SET_PX | SET_PXAT)) === 0 && hasNext) { flags |= SET_EXAT; expireArg = ++j }
    else if (isOpt(buf, s, l, TOK_PXAT) && (flags & (SET_PERSIST | SET_EX | SET_EXAT | SET_PX)) === 0 && hasNext) { flags |= SET_PXAT; expireArg = ++j }
    else { out.raw(SYNTAX_ERR); return }
  }
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  const now = shard.now()
  let when = 0
  if (expireArg >= 0) {
    when = setExpireMs(buf, start[expireArg], len[expireArg], (flags & (SET_EX | SET_EXAT)) !== 0, (flags & (SET_EX | SET_PX)) !== 0, now)
    if (when < 0) { out.raw(when === BAD_INT ? NOT_INTEGER : GETEX_EXPIRE_ERR); return }
  }
  out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
  // checkAlreadyExpired: an absolute time not after now deletes the key.
  if ((flags & (SET_EXAT | SET_PXAT)) !== 0 && shard.isAlreadyExpired(when, now)) {
    shard.removeExpired(ks, e)
    shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
  } else if (expireArg >= 0) {
    ks.setExpireAt(e, when)
    shard.notify(NOTIFY_GENERIC, EV_EXPIRE, buf, start[1], len[1])
  } else if ((flags & SET_PERSIST) !== 0 && ks.expireAt(e) !== 0) {
    // removeExpire: "persist" only when there was a TTL to remove.
    ks.setExpireAt(e, 0)
    shard.notify(NOTIFY_GENERIC, EV_PERSIST, buf, start[1], len[1])
  }
}

export function mgetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const ks = shard.ks
  out.arrayHeader(argc - 1)
  for (let i = 1; i < argc; i++) {
    const e = shard.lookupRead(buf, start[i], len[i])
    if (e === 0 || ks.type(e) !== TYPE_STRING) out.nullBulk()
    else out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
  }
}

/**
 * Arena bytes MSET's pairs can take at most (each a fresh entry), so
 * that it reserves them before setting anything: a full arena then sets no key at all.
 */
function msetBytes (argv: Argv): number {
  let bytes = 0
  for (let i = 1; i + 1 < argv.argc; i += 2) bytes += entryBlockBytes(argv.len[i], argv.len[i + 1])
  return bytes
}

export function msetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  if (!shard.ks.arena.reserve(msetBytes(argv))) { out.raw(OOM); return }
  for (let i = 1; i < argc; i += 2) {
    if (!setValue(shard, buf, start[i], len[i], buf, start[i + 1], len[i + 1], 0, false)) { out.raw(OOM); return }
    shard.notify(NOTIFY_STRING, EV_SET, buf, start[i], len[i])
  }
  out.raw(OK)
}

/**
 * MSET over several shards as one transaction (the router sends it this way near a full arena):
 * room on every shard first, then the parts, so it is set everywhere or nowhere.
 */
async function msetCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const { buf, start, len, argc } = argv
  const pairs = new Map<number, Uint8Array[]>()
  const bytes = new Map<number, number>()
  for (let i = 1; i < argc; i += 2) {
    const s = tx.shardOf(buf, start[i], len[i])
    let p = pairs.get(s)
    if (p === undefined) { p = []; pairs.set(s, p) }
    p.push(argBytes(buf, start[i], len[i]), argBytes(buf, start[i + 1], len[i + 1]))
    bytes.set(s, (bytes.get(s) ?? 0) + entryBlockBytes(len[i], len[i + 1]))
  }
  for (const [s, b] of bytes) if (!tx.reserve(s, b)) return OOM
  for (const [s, p] of pairs) {
    const r = await tx.run(s, 'mset', p)
    if (isErrorReply(r)) return r
  }
  return OK
}

/** msetGenericCommand with NX, all keys on this shard: nothing is set if any key exists. */
export function msetnxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  for (let i = 1; i < argc; i += 2) {
    if (shard.lookup(buf, start[i], len[i]) !== 0) { out.raw(ZERO); return }
  }
  if (!shard.ks.arena.reserve(msetBytes(argv))) { out.raw(OOM); return }
  for (let i = 1; i < argc; i += 2) {
    if (!setValue(shard, buf, start[i], len[i], buf, start[i + 1], len[i + 1], 0, false)) { out.raw(OOM); return }
    shard.notify(NOTIFY_STRING, EV_SET, buf, start[i], len[i])
  }
  out.raw(ONE)
}

/** MSETNX over several shards: every shard votes (EXISTS on its keys) before any of them sets. */
async function msetnxCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const { buf, start, len, argc } = argv
  const keys = new Map<number, Uint8Array[]>()
  const pairs = new Map<number, Uint8Array[]>()
  for (let i = 1; i < argc; i += 2) {
    const s = tx.shardOf(buf, start[i], len[i])
    let k = keys.get(s)
    let p = pairs.get(s)
    if (k === undefined || p === undefined) { k = []; p = []; keys.set(s, k); pairs.set(s, p) }
    k.push(argBytes(buf, start[i], len[i]))
    p.push(argBytes(buf, start[i], len[i]), argBytes(buf, start[i + 1], len[i + 1]))
  }
  const votes = await Promise.all([...keys].map(async ([s, k]) => await tx.run(s, 'exists', k)))
  for (const v of votes) {
    if (isErrorReply(v)) return v
    if (intReply(v) > 0) return ZERO
  }
  // Every shard's room first: no shard sets its keys unless all of them can.
  for (const [s, p] of pairs) {
    let bytes = 0
    for (let j = 0; j < p.length; j += 2) bytes += entryBlockBytes(p[j].length, p[j + 1].length)
    if (!tx.reserve(s, bytes)) return OOM
  }
  const sets = await Promise.all([...pairs].map(async ([s, p]) => await tx.run(s, 'mset', p)))
  for (const r of sets) if (isErrorReply(r)) return r
  return ONE
}

// --- ranges and lengths ------------------------------------------------------------------------

export function strlenCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  out.int(ks.valLen(e))
}

/** Beyond any string length; larger indexes clamp to it without changing getrange's result. */
const INDEX_CLAMP = 2 ** 40

// getrangeCommand (GETRANGE and SUBSTR): both indexes are parsed before the key is looked up.
export function getrangeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  let from = parsed.value
  const fromBig = parsed.isBig ? parsed.big : null
  if (!parseInt64(buf, start[3], len[3])) { out.raw(NOT_INTEGER); return }
  let to = parsed.value
  const toBig = parsed.isBig ? parsed.big : null
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_BULK); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  const strlen = ks.valLen(e)
  if (from < 0 && to < 0) {
    // Compared exactly: two distinct int64s past 2^53 may be the same double.
    const isAfter = fromBig !== null || toBig !== null ? (fromBig ?? BigInt(from)) > (toBig ?? BigInt(to)) : from > to
    if (isAfter) { out.raw(EMPTY_BULK); return }
  }
  if (from < -INDEX_CLAMP) from = -INDEX_CLAMP
  else if (from > INDEX_CLAMP) from = INDEX_CLAMP
  if (to < -INDEX_CLAMP) to = -INDEX_CLAMP
  else if (to > INDEX_CLAMP) to = INDEX_CLAMP
  if (from < 0) from = strlen + from
  if (to < 0) to = strlen + to
  if (from < 0) from = 0
  if (to < 0) to = 0
  if (to >= strlen) to = strlen - 1
  if (from > to || strlen === 0) { out.raw(EMPTY_BULK); return }
  out.bulk(ks.arena.u8, ks.valOffset(e) + from, to - from + 1)
}

// --- in-place edits ------------------------------------------------------------------------------

/**
 * Grows an existing string entry to newLen bytes, keeping its value. Returns the (possibly
 * moved) entry, or 0 when the arena is full. A moved entry's old block has been freed, but
 * Arena.free only writes the block's first word (the entry's chain link), so the old value
 * bytes are still intact to copy from: no temporary copy of a large value is needed.
 */
export function growString (shard: Shard, e: number, oldLen: number, newLen: number): number {
  const ks = shard.ks
  const oldVal = ks.valOffset(e)
  const n = ks.resizeValue(e, newLen)
  if (n === 0 || n === e) return n
  ks.arena.u8.copyWithin(ks.valOffset(n), oldVal, oldVal + oldLen)
  return n
}

export function appendCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) {
    // A new key holds the argument as given: not an in-place edit, so not raw.
    if (!setValue(shard, buf, start[1], len[1], buf, start[2], len[2], 0, false)) { out.raw(OOM); return }
    shard.notify(NOTIFY_STRING, EV_APPEND, buf, start[1], len[1])
    out.int(len[2])
    return
  }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  const oldLen = ks.valLen(e)
  const total = oldLen + len[2]
  if (total > PROTO_MAX_BULK_LEN) { out.raw(STRING_TOO_LONG); return }
  const n = growString(shard, e, oldLen, total)
  if (n === 0) { out.raw(OOM); return }
  writes.count++
  copyBytes(buf, start[2], len[2], ks.arena.u8, ks.valOffset(n) + oldLen)
  ks.setRaw(n, true)
  shard.notify(NOTIFY_STRING, EV_APPEND, buf, start[1], len[1])
  out.int(total)
}

export function setrangeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  const offset = parsed.value // past 2^53 it is inexact, but then far over the size limit anyway
  if (offset < 0) { out.raw(OFFSET_OUT_OF_RANGE); return }
  const vLen = len[3]
  const ks = shard.ks
  let e = shard.lookup(buf, start[1], len[1])
  let oldLen = 0
  if (e === 0) {
    if (vLen === 0) { out.raw(ZERO); return } // nothing to set on a missing key: no key made
    if (offset + vLen > PROTO_MAX_BULK_LEN) { out.raw(STRING_TOO_LONG); return }
    e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_STRING, offset + vLen)
    if (e === 0) { out.raw(OOM); return }
  } else {
    if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
    oldLen = ks.valLen(e)
    if (vLen === 0) { out.int(oldLen); return }
    if (offset + vLen > PROTO_MAX_BULK_LEN) { out.raw(STRING_TOO_LONG); return }
    if (offset + vLen > oldLen) {
      e = growString(shard, e, oldLen, offset + vLen)
      if (e === 0) { out.raw(OOM); return }
    }
  }
  const u8 = ks.arena.u8
  const v = ks.valOffset(e)
  // sdsgrowzero: the gap between the old end and the offset reads as zero bytes.
  writes.count++
  if (offset > oldLen) u8.fill(0, v + oldLen, v + offset)
  copyBytes(buf, start[3], vLen, u8, v + offset)
  ks.setRaw(e, true)
  shard.notify(NOTIFY_STRING, EV_SETRANGE, buf, start[1], len[1])
  out.int(ks.valLen(e))
}

// --- counters ------------------------------------------------------------------------------------

/**
 * incrDecrCommand: adds incr (incrBig when it is past 2^53) to the key's integer. Safe integers
 * stay numbers; anything wider goes through BigInt with Redis's overflow check.
 */
function incrDecr (shard: Shard, argv: Argv, out: ReplyWriter, incr: number, incrBig: bigint | null): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const e = shard.lookup(buf, start[1], len[1])
  let cur = 0
  let curBig: bigint | null = null
  if (e !== 0) {
    if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
    if (!parseInt64(ks.arena.u8, ks.valOffset(e), ks.valLen(e))) { out.raw(NOT_INTEGER); return }
    cur = parsed.value
    if (parsed.isBig) curBig = parsed.big
  }
  if (curBig === null && incrBig === null) {
    const sum = cur + incr
    // Exact when it is a safe integer: both operands are, and IEEE addition rounds correctly.
    if (Number.isSafeInteger(sum)) {
      const textLen = intTextLen(sum)
      const n = stringEntry(shard, e, buf, start[1], len[1], textLen, true)
      if (n === 0) { out.raw(OOM); return }
      writes.count++
      writeIntText(ks.arena.u8, ks.valOffset(n), sum, textLen)
      shard.notify(NOTIFY_STRING, EV_INCRBY, buf, start[1], len[1])
      out.int(sum)
      return
    }
  }
  const sum = (curBig ?? BigInt(cur)) + (incrBig ?? BigInt(incr))
  if (sum > LLONG_MAX || sum < LLONG_MIN) { out.raw(OVERFLOW); return }
  if (!storeText(shard, e, argv, sum.toString())) { out.raw(OOM); return }
  shard.notify(NOTIFY_STRING, EV_INCRBY, buf, start[1], len[1])
  out.bigint(sum)
}

export function incrCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { incrDecr(shard, argv, out, 1, null) }
export function decrCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { incrDecr(shard, argv, out, -1, null) }

// INCRBY/DECRBY parse the increment before looking the key up, as Redis does.
export function incrbyCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (!parseInt64(argv.buf, argv.start[2], argv.len[2])) { out.raw(NOT_INTEGER); return }
  incrDecr(shard, argv, out, parsed.value, parsed.isBig ? parsed.big : null)
}

export function decrbyCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (!parseInt64(argv.buf, argv.start[2], argv.len[2])) { out.raw(NOT_INTEGER); return }
  if (!parsed.isBig) { incrDecr(shard, argv, out, -parsed.value, null); return }
  // Negating LLONG_MIN overflows before any key is read.
  if (parsed.big === LLONG_MIN) { out.raw(DECR_OVERFLOW); return }
  incrDecr(shard, argv, out, 0, -parsed.big)
}

export function incrbyfloatCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const e = shard.lookup(buf, start[1], len[1])
  if (e !== 0 && ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  const r = e === 0
    ? incrByFloat(null, 0, 0, buf, start[2], len[2])
    : incrByFloat(ks.arena.u8, ks.valOffset(e), ks.valLen(e), buf, start[2], len[2])
  if (typeof r !== 'string') { out.raw(r === INCR_NOT_FLOAT ? NOT_FLOAT : INCR_NAN_OR_INFINITY); return }
  if (!storeText(shard, e, argv, r)) { out.raw(OOM); return }
  // createStringObjectFromLongDouble: never int-encoded, so OBJECT ENCODING says embstr even for "3".
  ks.setEncFlags(shard.lookup(buf, start[1], len[1]), NO_INT_FLAG)
  shard.notify(NOTIFY_STRING, EV_INCRBYFLOAT, buf, start[1], len[1])
  out.bulkStr(r) // ASCII digits only
}

// --- LCS -----------------------------------------------------------------------------------------

/**
 * lcsCommand after both keys were read (a missing key is the empty string): options, then the
 * LCS table and its walk back from the end, with Redis's exact choices, so IDX ranges match.
 */
export function lcsGeneric (a: Uint8Array, aStart: number, alen: number, b: Uint8Array, bStart: number, blen: number,
  argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let getIdx = false
  let getLen = false
  let withMatchLen = false
  let minMatchLen = 0
  for (let j = 3; j < argc; j++) {
    const s = start[j]
    const l = len[j]
    if (isOpt(buf, s, l, TOK_IDX)) getIdx = true
    else if (isOpt(buf, s, l, TOK_LEN)) getLen = true
    else if (isOpt(buf, s, l, TOK_WITHMATCHLEN)) withMatchLen = true
    else if (isOpt(buf, s, l, TOK_MINMATCHLEN) && j < argc - 1) {
      j++
      if (!parseInt64(buf, start[j], len[j])) { out.raw(NOT_INTEGER); return }
      minMatchLen = parsed.value < 0 ? 0 : parsed.value
    } else { out.raw(SYNTAX_ERR); return }
  }
  if (getIdx && getLen) { out.raw(LCS_IDX_WITH_LEN); return }
  if ((alen + 1) * (blen + 1) * 4 > PROTO_MAX_BULK_LEN) { out.raw(LCS_TOO_MUCH_MEMORY); return }
  const w = blen + 1
  if (getLen && !getIdx) {
    // Only the length: two rows of the table give the same last cell.
    let prev = new Uint16Array(w)
    let row = new Uint16Array(w)
    for (let i = 1; i <= alen; i++) {
      const ca = a[aStart + i - 1]
      for (let j = 1; j <= blen; j++) {
        row[j] = ca === b[bStart + j - 1] ? prev[j - 1] + 1 : (prev[j] > row[j - 1] ? prev[j] : row[j - 1])
      }
      const t = prev; prev = row; row = t
    }
    out.int(prev[blen])
    return
  }
  // Cells hold lengths up to min(alen, blen), below 2^16 whenever the table fits the limit above.
  const lcs = new Uint16Array((alen + 1) * w)
  for (let i = 1; i <= alen; i++) {
    const ca = a[aStart + i - 1]
    const r = i * w
    const p = r - w
    for (let j = 1; j <= blen; j++) {
      if (ca === b[bStart + j - 1]) lcs[r + j] = lcs[p + j - 1] + 1
      else {
        const l1 = lcs[p + j]
        const l2 = lcs[r + j - 1]
        lcs[r + j] = l1 > l2 ? l1 : l2
      }
    }
  }
  let idx = lcs[alen * w + blen]
  const total = idx
  const result = getIdx ? null : Buffer.allocUnsafe(idx)
  const ranges: number[] = [] // aStart, aEnd, bStart, bEnd, per emitted match
  let arangeStart = alen // alen: no range being tracked
  let arangeEnd = 0
  let brangeStart = 0
  let brangeEnd = 0
  let i = alen
  let j = blen
  while (i > 0 && j > 0) {
    let emitRange = false
    if (a[aStart + i - 1] === b[bStart + j - 1]) {
      if (result !== null) result[idx - 1] = a[aStart + i - 1]
      if (arangeStart === alen) {
        arangeStart = i - 1
        arangeEnd = i - 1
        brangeStart = j - 1
        brangeEnd = j - 1
      } else if (arangeStart === i && brangeStart === j) {
        arangeStart--
        brangeStart--
      } else {
        emitRange = true
      }
      if (arangeStart === 0 || brangeStart === 0) emitRange = true
      idx--; i--; j--
    } else {
      const l1 = lcs[(i - 1) * w + j]
      const l2 = lcs[i * w + j - 1]
      if (l1 > l2) i--
      else j--
      if (arangeStart !== alen) emitRange = true
    }
    if (emitRange) {
      const matchLen = arangeEnd - arangeStart + 1
      if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen)) ranges.push(arangeStart, arangeEnd, brangeStart, brangeEnd)
      arangeStart = alen
    }
  }
  if (result !== null) { out.bulk(result, 0, result.length); return }
  out.mapHeader(2)
  out.bulkStr('matches')
  out.arrayHeader(ranges.length / 4)
  for (let k = 0; k < ranges.length; k += 4) {
    out.arrayHeader(withMatchLen ? 3 : 2)
    out.arrayHeader(2)
    out.int(ranges[k])
    out.int(ranges[k + 1])
    out.arrayHeader(2)
    out.int(ranges[k + 2])
    out.int(ranges[k + 3])
    if (withMatchLen) out.int(ranges[k + 1] - ranges[k] + 1)
  }
  out.bulkStr('len')
  out.int(total)
}

const EMPTY = new Uint8Array(0)

export function lcsCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const ea = shard.lookupRead(buf, start[1], len[1])
  const eb = shard.lookupRead(buf, start[2], len[2])
  if ((ea !== 0 && ks.type(ea) !== TYPE_STRING) || (eb !== 0 && ks.type(eb) !== TYPE_STRING)) { out.raw(LCS_NOT_STRINGS); return }
  const u8 = ks.arena.u8
  lcsGeneric(ea === 0 ? EMPTY : u8, ea === 0 ? 0 : ks.valOffset(ea), ea === 0 ? 0 : ks.valLen(ea),
    eb === 0 ? EMPTY : u8, eb === 0 ? 0 : ks.valOffset(eb), eb === 0 ? 0 : ks.valLen(eb), argv, out)
}

/** LCS of keys on two shards: read both with GET steps, then the same computation here. */
async function lcsCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const { buf, start, len } = argv
  const [ra, rb] = await Promise.all([
    tx.run(tx.shardOf(buf, start[1], len[1]), 'get', [argBytes(buf, start[1], len[1])]),
    tx.run(tx.shardOf(buf, start[2], len[2]), 'get', [argBytes(buf, start[2], len[2])]),
  ])
  for (const r of [ra, rb]) {
    if (r.equals(WRONGTYPE)) return LCS_NOT_STRINGS
    if (isErrorReply(r)) return r
  }
  const a = isNullReply(ra) ? EMPTY : bulkPayload(ra)
  const b = isNullReply(rb) ? EMPTY : bulkPayload(rb)
  const out = new ReplyWriter(256)
  out.resp3 = tx.resp3
  lcsGeneric(a, 0, a.length, b, 0, b.length, argv, out)
  return out.buf.subarray(0, out.len)
}

// --- the table -----------------------------------------------------------------------------------

const RO_ACCESS = [{ flags: ['RO', 'access'] }] as const
const RW_ACCESS_UPDATE = [{ flags: ['RW', 'access', 'update'] }] as const
const OW_UPDATE = [{ flags: ['OW', 'update'] }] as const
const KEY = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'string' } as const
const WRITE_FAST = ['write', 'denyoom', 'fast'] as const
const RANGE_COMPLEXITY = 'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.'

export const stringCommands: CommandSpec[] = [
  { ...KEY, name: 'get', arity: 2, flags: ['readonly', 'fast'], since: '1.0.0', summary: 'Get the value of a key', complexity: 'O(1)', keySpecs: RO_ACCESS, run: getCommand },
  { ...KEY, name: 'set', arity: -3, flags: ['write', 'denyoom'], since: '1.0.0', summary: 'Set the string value of a key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'update', 'variable_flags'], notes: 'RW and ACCESS due to the optional `GET` argument' }], run: setCommand },
  { ...KEY, name: 'setnx', arity: 3, flags: WRITE_FAST, since: '1.0.0', summary: 'Set the value of a key, only if the key does not exist', complexity: 'O(1)', keySpecs: [{ flags: ['OW', 'insert'] }], run: setnxCommand },
  { ...KEY, name: 'setex', arity: 4, flags: ['write', 'denyoom'], since: '2.0.0', summary: 'Set the value and expiration of a key', complexity: 'O(1)', keySpecs: OW_UPDATE, run: setexCommand },
  { ...KEY, name: 'psetex', arity: 4, flags: ['write', 'denyoom'], since: '2.6.0', summary: 'Set the value and expiration in milliseconds of a key', complexity: 'O(1)', keySpecs: OW_UPDATE, run: psetexCommand },
  { ...KEY, name: 'getset', arity: 3, flags: WRITE_FAST, since: '1.0.0', summary: 'Set the string value of a key and return its old value', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: getsetCommand },
  { ...KEY, name: 'getdel', arity: 2, flags: ['write', 'fast'], since: '6.2.0', summary: 'Get the value of a key and delete the key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'delete'] }], run: getdelCommand },
  { ...KEY, name: 'getex', arity: -2, flags: ['write', 'fast'], since: '6.2.0', summary: 'Get the value of a key and optionally set its expiration', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'update'], notes: 'RW and UPDATE because it changes the TTL' }], run: getexCommand },
  { ...KEY, name: 'append', arity: 3, flags: WRITE_FAST, since: '2.0.0', summary: 'Append a value to a key', complexity: 'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.', keySpecs: [{ flags: ['RW', 'insert'] }], run: appendCommand },
  { ...KEY, name: 'strlen', arity: 2, flags: ['readonly', 'fast'], since: '2.2.0', summary: 'Get the length of the value stored in a key', complexity: 'O(1)', keySpecs: [{ flags: ['RO'] }], run: strlenCommand },
  { ...KEY, name: 'getrange', arity: 4, flags: ['readonly'], since: '2.4.0', summary: 'Get a substring of the string stored at a key', complexity: RANGE_COMPLEXITY, keySpecs: RO_ACCESS, run: getrangeCommand },
  { ...KEY, name: 'substr', arity: 4, flags: ['readonly'], since: '1.0.0', summary: 'Get a substring of the string stored at a key', complexity: RANGE_COMPLEXITY, keySpecs: RO_ACCESS, run: getrangeCommand },
  { ...KEY, name: 'setrange', arity: 4, flags: ['write', 'denyoom'], since: '2.2.0', summary: 'Overwrite part of a string at key starting at the specified offset', complexity: 'O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.', keySpecs: [{ flags: ['RW', 'update'] }], run: setrangeCommand },
  { ...KEY, name: 'incr', arity: 2, flags: WRITE_FAST, since: '1.0.0', summary: 'Increment the integer value of a key by one', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: incrCommand },
  { ...KEY, name: 'decr', arity: 2, flags: WRITE_FAST, since: '1.0.0', summary: 'Decrement the integer value of a key by one', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: decrCommand },
  { ...KEY, name: 'incrby', arity: 3, flags: WRITE_FAST, since: '1.0.0', summary: 'Increment the integer value of a key by the given amount', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: incrbyCommand },
  { ...KEY, name: 'decrby', arity: 3, flags: WRITE_FAST, since: '1.0.0', summary: 'Decrement the integer value of a key by the given number', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: decrbyCommand },
  { ...KEY, name: 'incrbyfloat', arity: 3, flags: WRITE_FAST, since: '2.6.0', summary: 'Increment the float value of a key by the given amount', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: incrbyfloatCommand },
  { name: 'mget', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, step: 1, route: 'split', merge: 'byKeyOrder', group: 'string', since: '1.0.0', summary: 'Get the values of all the given keys', complexity: 'O(N) where N is the number of keys to retrieve.', tips: ['request_policy:multi_shard'], keySpecs: RO_ACCESS, run: mgetCommand },
  { name: 'mset', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, step: 2, route: 'split', merge: 'allOk', group: 'string', since: '1.0.1', summary: 'Set multiple keys to multiple values', complexity: 'O(N) where N is the number of keys to set.', tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'], keySpecs: [{ flags: ['OW', 'update'] }], run: msetCommand, coord: msetCoord },
  { name: 'msetnx', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, step: 2, route: 'coord', group: 'string', since: '1.0.1', summary: 'Set multiple keys to multiple values, only if none of the keys exist', complexity: 'O(N) where N is the number of keys to set.', tips: ['request_policy:multi_shard', 'response_policy:agg_min'], keySpecs: [{ flags: ['OW', 'insert'] }], run: msetnxCommand, coord: msetnxCoord },
  { name: 'lcs', arity: -3, flags: ['readonly'], firstKey: 1, lastKey: 2, step: 1, route: 'coord', group: 'string', since: '7.0.0', summary: 'Find longest common substring', complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively', keySpecs: RO_ACCESS, run: lcsCommand, coord: lcsCoord },
]
