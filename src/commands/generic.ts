// Keyspace commands (Redis's "generic" group: db.c and expire.c): DEL/UNLINK, EXISTS, TOUCH, the
// EXPIRE family and TTL, TYPE, RENAME, COPY, MOVE, SWAPDB, KEYS, SCAN, RANDOMKEY (OBJECT is in
// object.ts). DEL, UNLINK, EXISTS and TOUCH are split per shard and summed (AGG_SUM); KEYS and
// RANDOMKEY ask every shard; SCAN's cursor names a shard; RENAME and COPY between shards run as
// transactions. Databases are per shard: SWAPDB swaps them on every shard in the same global
// order, MOVE and COPY ... DB stay on the key's shard.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext, ClientContext } from './spec.js'
import { hashLimits } from '../storage/hash-type.js'
import { markCopy } from '../storage/types.js'
import { LAZY_USER_DEL_WORD } from '../ipc/layout.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'

import { ZERO, ONE, MINUS_ONE, MINUS_TWO, OK } from '../protocol/replies.js'
import { isNullReply, isErrorReply, intReply, bulkPayload, argBytes } from './txn-helpers.js'
import {
  NOT_INTEGER, NO_SUCH_KEY, OOM, EXPIRE_NX_COMBO, EXPIRE_GT_LT, SYNTAX_ERR, SAME_OBJECT, INVALID_CURSOR,
  INVALID_FIRST_DB, INVALID_SECOND_DB, DB_INDEX_OUT_OF_RANGE, INT_OUT_OF_RANGE, expireTimeError,
  unsupportedOptionError,
} from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { TYPES } from '../storage/types.js'
import { DATABASES } from '../storage/shard.js'
import { NOTIFY_GENERIC, eventName } from '../storage/notify.js'
import { expireCommandMs } from './expire-args.js'
import { stringMatch } from './glob.js'
import { objectCommands } from './object.js'

// Keyspace events (notifyKeyspaceEvent calls of db.c and expire.c).
const EV_DEL = eventName('del')
const EV_EXPIRE = eventName('expire')
const EV_PERSIST = eventName('persist')
const EV_RENAME_FROM = eventName('rename_from')
const EV_RENAME_TO = eventName('rename_to')
const EV_MOVE_FROM = eventName('move_from')
const EV_MOVE_TO = eventName('move_to')
const EV_COPY_TO = eventName('copy_to')
/** The event names cross-shard steps pass to __restore, __del and __event (internal.ts). */
const ARG_RENAME_FROM = Buffer.from('rename_from')
const ARG_RENAME_TO = Buffer.from('rename_to')
const ARG_COPY_TO = Buffer.from('copy_to')

export function delCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let n = 0
  // lazyfree-lazy-user-del: DEL frees as UNLINK does.
  const isLazy = hashLimits.flags[LAZY_USER_DEL_WORD] !== 0
  for (let i = 1; i < argc; i++) {
    const e = shard.lookup(buf, start[i], len[i])
    if (e !== 0) {
      if (isLazy) shard.removeLazily(e)
      else shard.ks.remove(e)
      shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[i], len[i])
      n++
    }
  }
  out.int(n)
}

/** UNLINK: DEL whose big values are freed in the background, between batches (storage/lazyfree.ts). */
export function unlinkCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let n = 0
  for (let i = 1; i < argc; i++) {
    const e = shard.lookup(buf, start[i], len[i])
    if (e !== 0) {
      shard.removeLazily(e)
      shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[i], len[i])
      n++
    }
  }
  out.int(n)
}

/** TOUCH: a lookup touches the access clock (OBJECT IDLETIME, eviction); counts the keys that exist. */
export function touchCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let n = 0
  for (let i = 1; i < argc; i++) if (shard.lookupRead(buf, start[i], len[i]) !== 0) n++
  out.int(n)
}

export function existsCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let n = 0
  for (let i = 1; i < argc; i++) if (shard.lookupNoTouch(buf, start[i], len[i]) !== 0) n++
  out.int(n)
}

const TOK_NX = token('nx')
const TOK_XX = token('xx')
const TOK_GT = token('gt')
const TOK_LT = token('lt')
const EXPIRE_NX = 1
const EXPIRE_XX = 2
const EXPIRE_GT = 4
const EXPIRE_LT = 8

function expireGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isSeconds: boolean, isRelative: boolean, name: string): void {
  const { buf, start, len, argc } = argv
  let flags = 0
  for (let j = 3; j < argc; j++) {
    const s = start[j]
    const l = len[j]
    if (equalsLower(buf, s, l, TOK_NX)) flags |= EXPIRE_NX
    else if (equalsLower(buf, s, l, TOK_XX)) flags |= EXPIRE_XX
    else if (equalsLower(buf, s, l, TOK_GT)) flags |= EXPIRE_GT
    else if (equalsLower(buf, s, l, TOK_LT)) flags |= EXPIRE_LT
    else { out.raw(unsupportedOptionError(argv, j)); return }
  }
  if ((flags & EXPIRE_NX) !== 0 && (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) !== 0) { out.raw(EXPIRE_NX_COMBO); return }
  if ((flags & EXPIRE_GT) !== 0 && (flags & EXPIRE_LT) !== 0) { out.raw(EXPIRE_GT_LT); return }
  const now = shard.now()
  const when = expireCommandMs(buf, start[2], len[2], isSeconds, isRelative ? now : 0)
  if (when === null) { out.raw(NOT_INTEGER); return }
  if (Number.isNaN(when)) { out.raw(expireTimeError(name)); return }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (flags !== 0) {
    const at = ks.expireAt(e)
    const current = at === 0 ? -1 : at
    if ((flags & EXPIRE_NX) !== 0 && current !== -1) { out.raw(ZERO); return }
    if ((flags & EXPIRE_XX) !== 0 && current === -1) { out.raw(ZERO); return }
    // No TTL counts as infinite: GT never beats it, LT always does.
    if ((flags & EXPIRE_GT) !== 0 && (when <= current || current === -1)) { out.raw(ZERO); return }
    if ((flags & EXPIRE_LT) !== 0 && current !== -1 && when >= current) { out.raw(ZERO); return }
  }
  // checkAlreadyExpired: a time already past deletes the key ("del", not "expire").
  if (shard.isAlreadyExpired(when, now)) {
    shard.removeExpired(ks, e)
    shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
  } else {
    ks.setExpireAt(e, when)
    shard.notify(NOTIFY_GENERIC, EV_EXPIRE, buf, start[1], len[1])
  }
  out.raw(ONE)
}

export function expireCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, true, true, 'expire') }
export function pexpireCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, false, true, 'pexpire') }
export function expireatCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, true, false, 'expireat') }
export function pexpireatCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, false, false, 'pexpireat') }

function ttlGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isMs: boolean, isAbsolute: boolean): void {
  const e = shard.lookupNoTouch(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.raw(MINUS_TWO); return }
  const at = shard.ks.expireAt(e)
  if (at === 0) { out.raw(MINUS_ONE); return }
  let ttl = isAbsolute ? at : at - shard.now()
  if (ttl < 0) ttl = 0
  out.int(isMs ? ttl : Math.floor((ttl + 500) / 1000))
}

export function ttlCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { ttlGeneric(shard, argv, out, false, false) }
export function pttlCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { ttlGeneric(shard, argv, out, true, false) }
export function expiretimeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { ttlGeneric(shard, argv, out, false, true) }
export function pexpiretimeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { ttlGeneric(shard, argv, out, true, true) }

export function persistCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookup(argv.buf, argv.start[1], argv.len[1])
  if (e === 0 || shard.ks.expireAt(e) === 0) { out.raw(ZERO); return }
  shard.ks.setExpireAt(e, 0)
  shard.notify(NOTIFY_GENERIC, EV_PERSIST, argv.buf, argv.start[1], argv.len[1])
  out.raw(ONE)
}

export function typeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupNoTouch(argv.buf, argv.start[1], argv.len[1])
  out.status(e === 0 ? 'none' : TYPES[shard.ks.type(e)]?.name ?? 'none')
}

const EXPIRE_SPEC = { arity: -3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', keySpecs: [{ flags: ['RW', 'update'] }] } as const
const TTL_SPEC = { arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', keySpecs: [{ flags: ['RO', 'access'] }], tips: ['nondeterministic_output'] } as const

export const genericCommands: CommandSpec[] = [
  { name: 'del', arity: -2, flags: ['write'], firstKey: 1, lastKey: -1, step: 1, route: 'split', merge: 'sum', group: 'generic', since: '1.0.0', summary: 'Delete a key', complexity: 'O(N) where N is the number of keys that will be removed.', tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], keySpecs: [{ flags: ['RM', 'delete'] }], run: delCommand },
  // UNLINK frees nothing in the background here: an arena free is O(1) per block anyway.
  { name: 'unlink', arity: -2, flags: ['write', 'fast'], firstKey: 1, lastKey: -1, step: 1, route: 'split', merge: 'sum', group: 'generic', since: '4.0.0', summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.', complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.', tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], keySpecs: [{ flags: ['RM', 'delete'] }], run: unlinkCommand },
  { name: 'touch', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, step: 1, route: 'split', merge: 'sum', group: 'generic', since: '3.2.1', summary: 'Alters the last access time of a key(s). Returns the number of existing keys specified.', complexity: 'O(N) where N is the number of keys that will be touched.', tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], keySpecs: [{ flags: ['RO'] }], run: touchCommand },
  { name: 'exists', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, step: 1, route: 'split', merge: 'sum', group: 'generic', since: '1.0.0', summary: 'Determine if a key exists', complexity: 'O(N) where N is the number of keys to check.', tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], keySpecs: [{ flags: ['RO'] }], run: existsCommand },
  { ...EXPIRE_SPEC, name: 'expire', since: '1.0.0', summary: "Set a key's time to live in seconds", complexity: 'O(1)', run: expireCommand },
  { ...EXPIRE_SPEC, name: 'pexpire', since: '2.6.0', summary: "Set a key's time to live in milliseconds", complexity: 'O(1)', run: pexpireCommand },
  { ...EXPIRE_SPEC, name: 'expireat', since: '1.2.0', summary: 'Set the expiration for a key as a UNIX timestamp', complexity: 'O(1)', run: expireatCommand },
  { ...EXPIRE_SPEC, name: 'pexpireat', since: '2.6.0', summary: 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', complexity: 'O(1)', run: pexpireatCommand },
  { ...TTL_SPEC, name: 'ttl', since: '1.0.0', summary: 'Get the time to live for a key in seconds', complexity: 'O(1)', run: ttlCommand },
  { ...TTL_SPEC, name: 'pttl', since: '2.6.0', summary: 'Get the time to live for a key in milliseconds', complexity: 'O(1)', run: pttlCommand },
  { ...TTL_SPEC, tips: [], name: 'expiretime', since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key', complexity: 'O(1)', run: expiretimeCommand },
  { ...TTL_SPEC, tips: [], name: 'pexpiretime', since: '7.0.0', summary: 'Get the expiration Unix timestamp for a key in milliseconds', complexity: 'O(1)', run: pexpiretimeCommand },
  { name: 'persist', arity: 2, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '2.2.0', summary: 'Remove the expiration from a key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'update'] }], run: persistCommand },
  { name: 'type', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '1.0.0', summary: 'Determine the type stored at key', complexity: 'O(1)', keySpecs: [{ flags: ['RO'] }], run: typeCommand },
]

// --- RENAME / RENAMENX (renameGenericCommand in db.c) ------------------------------------------

function argsEqual (buf: Uint8Array, a: number, aLen: number, b: number, bLen: number): boolean {
  if (aLen !== bLen) return false
  for (let i = 0; i < aLen; i++) if (buf[a + i] !== buf[b + i]) return false
  return true
}

function renameGeneric (shard: Shard, argv: Argv, out: ReplyWriter, nx: boolean): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const src = shard.lookup(buf, start[1], len[1])
  if (src === 0) { out.raw(NO_SUCH_KEY); return }
  if (argsEqual(buf, start[1], len[1], start[2], len[2])) {
    out.raw(nx ? ZERO : OK)
    return
  }
  const dst = shard.lookup(buf, start[2], len[2])
  if (dst !== 0) {
    if (nx) { out.raw(ZERO); return }
    shard.removeOverwritten(ks, dst)
  }
  const hash = shard.lastHash
  const valLen = ks.valLen(src)
  const e = ks.insert(buf, start[2], len[2], hash, ks.type(src), valLen)
  if (e === 0) { out.raw(OOM); return }
  const u8 = ks.arena.u8
  u8.copyWithin(ks.valOffset(e), ks.valOffset(src), ks.valOffset(src) + valLen)
  // Redis moves the object itself: its encoding ("raw" after APPEND) goes with it.
  ks.setEncFlags(e, ks.encFlags(src))
  ks.setExpireAt(e, ks.expireAt(src))
  ks.setClock(e, ks.clock(src))
  // The value (a list's elements too) now belongs to the new entry.
  ks.remove(src, true)
  shard.notify(NOTIFY_GENERIC, EV_RENAME_FROM, buf, start[1], len[1])
  shard.notify(NOTIFY_GENERIC, EV_RENAME_TO, buf, start[2], len[2])
  out.raw(nx ? ONE : OK)
}

export function renameCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { renameGeneric(shard, argv, out, false) }
export function renamenxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { renameGeneric(shard, argv, out, true) }

/**
 * The cross-shard part shared by RENAME/RENAMENX and COPY: dump argv[1] on its shard and
 * restore it as argv[2] (in dstDb), unless the source is missing (returns `ifMissing`) or, when
 * `onlyIfAbsent`, the destination exists (returns ZERO). Returns null when the value was
 * restored; a step's error reply is returned as is.
 */
async function transferValue (tx: TxnContext, argv: Argv, dstDb: number, onlyIfAbsent: boolean, ifMissing: Uint8Array,
  event: Buffer | null): Promise<Uint8Array | null> {
  const { buf, start, len } = argv
  const src = argBytes(buf, start[1], len[1])
  const dst = argBytes(buf, start[2], len[2])
  const b = tx.shardOf(buf, start[2], len[2])
  const dump = await tx.run(tx.shardOf(buf, start[1], len[1]), '__dump', [src])
  if (isErrorReply(dump)) return dump
  if (isNullReply(dump)) return ifMissing
  if (onlyIfAbsent) {
    const exists = await tx.run(b, 'exists', [dst], dstDb)
    if (isErrorReply(exists)) return exists
    if (intReply(exists) > 0) return ZERO
  }
  const restored = await tx.run(b, '__restore', event === null ? [dst, bulkPayload(dump)] : [dst, bulkPayload(dump), event], dstDb)
  return isErrorReply(restored) ? restored : null
}

/**
 * RENAME across shards, with renameGenericCommand's events in its order: the restore makes the
 * destination ("new"), then "rename_from" on the source's shard as it is deleted, then
 * "rename_to" on the destination's. That last step runs only when the deletion answered that
 * generic events are on (:1), so a RENAME with notifications off costs no extra step.
 */
async function renameCoordGeneric (tx: TxnContext, argv: Argv, nx: boolean): Promise<Uint8Array> {
  const { buf, start, len } = argv
  const failed = await transferValue(tx, argv, tx.db, nx, NO_SUCH_KEY, null)
  if (failed !== null) return failed
  const deleted = await tx.run(tx.shardOf(buf, start[1], len[1]), '__del', [argBytes(buf, start[1], len[1]), ARG_RENAME_FROM])
  if (intReply(deleted) > 0) {
    await tx.run(tx.shardOf(buf, start[2], len[2]), '__event', [argBytes(buf, start[2], len[2]), ARG_RENAME_TO])
  }
  return nx ? ONE : OK
}

// --- database indexes: MOVE, COPY ... DB, SWAPDB ----------------------------------------------

/**
 * getIntFromObjectOrReply: the int32 at argv[i], or NaN once the error is written (`msg`
 * replaces both default texts, as SWAPDB's "invalid first DB index" does).
 */
function intArgOrReply (argv: Argv, i: number, msg: Buffer | null, out: ReplyWriter): number {
  if (!parseInt64(argv.buf, argv.start[i], argv.len[i])) { out.raw(msg ?? NOT_INTEGER); return NaN }
  const v = parsed.value
  if (parsed.isBig || v < -2147483648 || v > 2147483647) { out.raw(msg ?? INT_OUT_OF_RANGE); return NaN }
  return v
}

/** MOVE key db (moveCommand): the value moves to the same key of another database, TTL kept. */
export function moveCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const db = intArgOrReply(argv, 2, null, out)
  if (Number.isNaN(db)) return
  if (db < 0 || db >= DATABASES) { out.raw(DB_INDEX_OUT_OF_RANGE); return }
  if (db === shard.dbIndex) { out.raw(SAME_OBJECT); return }
  const ks = shard.ks
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const dst = shard.db(db)
  if (shard.lookupIn(dst, buf, start[1], len[1]) !== 0) { out.raw(ZERO); return }
  // Each database has its own arena: the value is copied over, then the source freed.
  const n = shard.copyEntry(ks, e, dst, buf, start[1], len[1], shard.lastHash)
  if (n === 0) { out.raw(OOM); return }
  dst.setExpireAt(n, ks.expireAt(e))
  dst.setClock(n, ks.clock(e))
  shard.removeOverwritten(ks, e)
  shard.notify(NOTIFY_GENERIC, EV_MOVE_FROM, buf, start[1], len[1])
  shard.notify(NOTIFY_GENERIC, EV_MOVE_TO, buf, start[1], len[1], db)
  out.raw(ONE)
}

const TOK_DB = token('db')
const TOK_REPLACE = token('replace')
/** COPY's parsed options (read right after parseCopyOptionsOrError; no allocation per call). */
export const copyOpts = { db: 0, isReplace: false }

/** Same parse order as copyCommand: a bad or out-of-range DB stops at once, in argument order. */
export function parseCopyOptionsOrError (argv: Argv, srcDb: number): Buffer | null {
  const { buf, start, len, argc } = argv
  copyOpts.db = srcDb
  copyOpts.isReplace = false
  for (let j = 3; j < argc; j++) {
    if (equalsLower(buf, start[j], len[j], TOK_REPLACE)) {
      copyOpts.isReplace = true
    } else if (equalsLower(buf, start[j], len[j], TOK_DB) && j + 1 < argc) {
      if (!parseInt64(buf, start[j + 1], len[j + 1])) return NOT_INTEGER
      const v = parsed.value
      if (parsed.isBig || v < -2147483648 || v > 2147483647) return INT_OUT_OF_RANGE
      if (v < 0 || v >= DATABASES) return DB_INDEX_OUT_OF_RANGE
      copyOpts.db = v
      j++
    } else {
      return SYNTAX_ERR
    }
  }
  return null
}

/** COPY source destination [DB db] [REPLACE], both keys on this shard (copyCommand). */
export function copyCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const err = parseCopyOptionsOrError(argv, shard.dbIndex)
  if (err !== null) { out.raw(err); return }
  const dstDb = copyOpts.db
  const isReplace = copyOpts.isReplace
  if (dstDb === shard.dbIndex && argsEqual(buf, start[1], len[1], start[2], len[2])) { out.raw(SAME_OBJECT); return }
  const ks = shard.ks
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const dst = shard.db(dstDb)
  const old = shard.lookupIn(dst, buf, start[2], len[2])
  if (old !== 0) {
    if (!isReplace) { out.raw(ZERO); return }
    shard.removeOverwritten(dst, old)
  }
  const n = shard.copyEntry(ks, e, dst, buf, start[2], len[2], shard.lastHash)
  if (n === 0) { out.raw(OOM); return }
  markCopy(dst, n)
  dst.setExpireAt(n, ks.expireAt(e))
  shard.notify(NOTIFY_GENERIC, EV_COPY_TO, buf, start[2], len[2], dstDb)
  out.raw(ONE)
}

/** COPY between shards: the value travels as a __dump payload into the destination's database. */
async function copyCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const err = parseCopyOptionsOrError(argv, tx.db)
  if (err !== null) return err
  // Different shards means different keys: the "same object" case never gets here.
  // The restore in the destination's database emits "copy_to" there, after its "new".
  return await transferValue(tx, argv, copyOpts.db, !copyOpts.isReplace, ZERO, ARG_COPY_TO) ?? ONE
}

/**
 * SWAPDB a b on this shard. Every shard gets it, staged in one step by the primary, so no
 * command sees one shard swapped and another not: the swap is atomic as in Redis.
 */
export function swapdbCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const a = intArgOrReply(argv, 1, INVALID_FIRST_DB, out)
  if (Number.isNaN(a)) return
  const b = intArgOrReply(argv, 2, INVALID_SECOND_DB, out)
  if (Number.isNaN(b)) return
  if (a < 0 || a >= DATABASES || b < 0 || b >= DATABASES) { out.raw(DB_INDEX_OUT_OF_RANGE); return }
  if (a !== b) shard.swapDbs(a, b)
  out.raw(OK)
}

// --- KEYS, SCAN, RANDOMKEY ---------------------------------------------------------------------

/** Reused by KEYS and SCAN (one handler runs at a time on a shard). */
const found: number[] = []
const kept: number[] = []
const expired: number[] = []

/** KEYS pattern on this shard (keysCommand): logically expired keys are skipped, not deleted. */
export function keysCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const isAll = len[1] === 1 && buf[start[1]] === 42 // '*'
  found.length = 0
  kept.length = 0
  let v = 0
  do { v = ks.scanStep(v, found) } while (v !== 0)
  const now = shard.now()
  const u8 = ks.arena.u8
  for (let i = 0; i < found.length; i++) {
    const e = found[i]
    if (!isAll && !stringMatch(buf, start[1], len[1], u8, ks.keyOffset(e), ks.keyLen(e), false)) continue
    const at = ks.expireAt(e)
    if (at !== 0 && at < now) continue
    kept.push(e)
  }
  out.arrayHeader(kept.length)
  for (let i = 0; i < kept.length; i++) out.bulk(u8, ks.keyOffset(kept[i]), ks.keyLen(kept[i]))
  found.length = 0
  kept.length = 0
}

const TOK_COUNT = token('count')
const TOK_MATCH = token('match')
const TOK_TYPE = token('type')
const TYPE_TOKENS = TYPES.map(t => token(t.name))
const TOK_NONE = token('none')
const TWO_32 = 2 ** 32
const ULONG_MOD = 1n << 64n

/**
 * The shard-local part of a global SCAN cursor (global = shardCursor * shards + shard), or -1
 * for Redis's "invalid cursor". Parsed as parseScanCursorOrReply does with strtoul: an optional
 * sign (a negative wraps around 2^64), digits, nothing else; the empty string is cursor 0. Only
 * the low 32 bits of the shard cursor matter: dictScan ignores bits above the table's mask.
 */
export function scanCursorOf (buf: Uint8Array, start: number, len: number, shards: number): number {
  let p = start
  const end = start + len
  let isNeg = false
  if (p < end && (buf[p] === 43 || buf[p] === 45)) { isNeg = buf[p] === 45; p++ }
  else if (p === end) return 0
  if (p === end) return -1
  for (let i = p; i < end; i++) if (buf[i] < 48 || buf[i] > 57) return -1
  if (!isNeg && end - p <= 15) {
    let c = 0
    for (let i = p; i < end; i++) c = c * 10 + (buf[i] - 48)
    const r = c % shards
    return ((c - r) / shards) % TWO_32
  }
  let c = 0n
  for (let i = p; i < end; i++) c = c * 10n + BigInt(buf[i] - 48)
  if (c >= ULONG_MOD) return -1
  if (isNeg && c !== 0n) c = ULONG_MOD - c
  return Number((c / BigInt(shards)) & 0xffffffffn)
}

const digitBuf = new Uint8Array(24)
/** A non-negative integer (< 2^53) as a bulk string, without making a JS string. */
function bulkUint (out: ReplyWriter, n: number): void {
  let p = digitBuf.length
  do {
    const q = Math.floor(n / 10)
    digitBuf[--p] = 48 + (n - q * 10)
    n = q
  } while (n > 0)
  out.bulk(digitBuf, p, digitBuf.length - p)
}

/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] over this shard's part of the database
 * (scanGenericCommand, 7.0). The walk is dictScan's, so a key present from the first call to the
 * last is returned at least once. When this shard's walk ends the cursor moves to the next
 * shard; after the last shard it is 0.
 */
export function scanCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const shards = shard.shards
  const cursor = scanCursorOf(buf, start[1], len[1], shards)
  if (cursor < 0) { out.raw(INVALID_CURSOR); return }
  let count = 10
  let pattern = -1
  let typeArg = -1
  for (let i = 2; i < argc; i += 2) {
    const hasValue = i + 1 < argc
    if (hasValue && equalsLower(buf, start[i], len[i], TOK_COUNT)) {
      if (!parseInt64(buf, start[i + 1], len[i + 1])) { out.raw(NOT_INTEGER); return }
      if (parsed.value < 1) { out.raw(SYNTAX_ERR); return }
      count = parsed.value
    } else if (hasValue && equalsLower(buf, start[i], len[i], TOK_MATCH)) {
      // "*" matches everything: Redis then skips the matcher.
      pattern = len[i + 1] === 1 && buf[start[i + 1]] === 42 ? -1 : i + 1
    } else if (hasValue && equalsLower(buf, start[i], len[i], TOK_TYPE)) {
      typeArg = i + 1
    } else {
      out.raw(SYNTAX_ERR)
      return
    }
  }

  const ks = shard.ks
  found.length = 0
  kept.length = 0
  expired.length = 0
  let v = cursor
  let maxIterations = count * 10
  do { v = ks.scanStep(v, found) } while (v !== 0 && maxIterations-- > 0 && found.length < count)

  // Filter as 7.0 does, after the walk: pattern, then type, then expiry.
  const now = shard.now()
  const u8 = ks.arena.u8
  for (let i = 0; i < found.length; i++) {
    const e = found[i]
    if (pattern >= 0 && !stringMatch(buf, start[pattern], len[pattern], u8, ks.keyOffset(e), ks.keyLen(e), false)) continue
    const at = ks.expireAt(e)
    const isExpired = at !== 0 && at < now
    if (isExpired) expired.push(e)
    if (typeArg >= 0) {
      // 7.0 reads the type with a lookup that deletes an expired key and says "none"; the expiry
      // check after it then finds nothing to filter, so TYPE none returns expired keys.
      const tok = isExpired ? TOK_NONE : TYPE_TOKENS[ks.type(e)] ?? TOK_NONE
      if (!equalsLower(buf, start[typeArg], len[typeArg], tok)) continue
    } else if (isExpired) {
      continue
    }
    kept.push(e)
  }

  let next: number
  if (v !== 0) next = v * shards + shard.index
  else next = shard.index + 1 < shards ? shard.index + 1 : 0
  out.arrayHeader(2)
  bulkUint(out, next)
  out.arrayHeader(kept.length)
  for (let i = 0; i < kept.length; i++) out.bulk(u8, ks.keyOffset(kept[i]), ks.keyLen(kept[i]))
  // Deleted only now: the reply above still read their key bytes.
  for (let i = 0; i < expired.length; i++) { ks.remove(expired[i]); shard.expiredKeys++ }
  found.length = 0
  kept.length = 0
  expired.length = 0
}

/**
 * This shard's half of RANDOMKEY: [key count, a random live key or null]. Expired keys met on
 * the way are deleted, as dbRandomKey does on a master.
 */
export function randomkeyShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  const ks = shard.ks
  for (;;) {
    const e = ks.randomEntry()
    if (e === 0) { out.arrayHeader(2); out.raw(ZERO); out.nullBulk(); return }
    if (shard.expireIfNeeded(ks, e)) continue
    out.arrayHeader(2)
    out.int(ks.count)
    out.bulk(ks.arena.u8, ks.keyOffset(e), ks.keyLen(e))
    return
  }
}

/** Reads a "*2 :count $key" part: sets part.count, part.start/len of the key (len -1: null). */
const part = { count: 0, start: 0, len: -1 }
function readRandomPart (r: Buffer): void {
  let p = r.indexOf(10) + 2 // past "*2\r\n:"
  let n = 0
  while (r[p] !== 13) n = n * 10 + (r[p++] - 48)
  part.count = n
  p += 2
  part.len = -1
  if (r[p] !== 36 || r[p + 1] === 45) return // '_' or '$-1'
  let l = 0
  p++
  while (r[p] !== 13) l = l * 10 + (r[p++] - 48)
  part.start = p + 2
  part.len = l
}

/** Picks one shard's key with probability proportional to its key count (null when all empty). */
export function randomkeyFinish (_c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  let total = 0
  for (const r of parts) {
    readRandomPart(r)
    if (part.len >= 0) total += part.count
  }
  if (total === 0) { out.nullBulk(); return }
  let pick = Math.floor(Math.random() * total)
  let last = -1
  for (let i = 0; i < parts.length; i++) {
    readRandomPart(parts[i])
    if (part.len < 0) continue
    last = i
    if (pick < part.count) break
    pick -= part.count
  }
  readRandomPart(parts[last])
  out.bulk(parts[last], part.start, part.len)
}

const ONE_KEY = { lastkey: 0, keystep: 1, limit: 0 }

genericCommands.push(
  { name: 'rename', arity: 3, flags: ['write'], firstKey: 1, lastKey: 2, step: 1, route: 'coord', group: 'generic', since: '1.0.0', summary: 'Rename a key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, range: ONE_KEY }, { flags: ['OW', 'update'], index: 2, range: ONE_KEY }], run: renameCommand, coord: async (tx, argv) => await renameCoordGeneric(tx, argv, false) },
  { name: 'renamenx', arity: 3, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, step: 1, route: 'coord', group: 'generic', since: '1.0.0', summary: 'Rename a key, only if the new key does not exist', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, range: ONE_KEY }, { flags: ['OW', 'insert'], index: 2, range: ONE_KEY }], run: renamenxCommand, coord: async (tx, argv) => await renameCoordGeneric(tx, argv, true) },
  { name: 'copy', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, step: 1, route: 'coord', group: 'generic', since: '6.2.0', summary: 'Copy a key', complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.', keySpecs: [{ flags: ['RO', 'access'], index: 1, range: ONE_KEY }, { flags: ['OW', 'update'], index: 2, range: ONE_KEY }], run: copyCommand, coord: copyCoord },
  { name: 'move', arity: 3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '1.0.0', summary: 'Move a key to another database', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'update'] }], run: moveCommand },
  { name: 'swapdb', arity: 3, flags: ['write', 'fast'], firstKey: 0, lastKey: 0, step: 0, route: 'all', merge: 'allOk', group: 'generic', since: '4.0.0', summary: 'Swaps two Redis databases', complexity: 'O(N) where N is the count of clients watching or blocking on keys from both databases.', acl: ['dangerous'], run: swapdbCommand },
  { name: 'keys', arity: 2, flags: ['readonly'], firstKey: 0, lastKey: 0, step: 0, route: 'all', merge: 'concat', group: 'generic', since: '1.0.0', summary: 'Find all keys matching the given pattern', complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.', acl: ['dangerous'], tips: ['request_policy:all_shards', 'nondeterministic_output_order'], run: keysCommand },
  { name: 'scan', arity: -2, flags: ['readonly'], firstKey: 0, lastKey: 0, step: 0, route: 'cursor', group: 'generic', since: '2.8.0', summary: 'Incrementally iterate the keys space', complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.', tips: ['nondeterministic_output', 'request_policy:special'], run: scanCommand },
  { name: 'randomkey', arity: 1, flags: ['readonly'], firstKey: 0, lastKey: 0, step: 0, route: 'all', merge: 'custom', group: 'generic', since: '1.0.0', summary: 'Return a random key from the keyspace', complexity: 'O(1)', tips: ['request_policy:all_shards', 'nondeterministic_output'], run: randomkeyShardCommand, finish: randomkeyFinish },
  ...objectCommands,
)
