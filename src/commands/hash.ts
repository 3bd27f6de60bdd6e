// Hash commands (Redis 7.0's t_hash.c): replies, errors and their order as Redis has them. The
// storage is src/storage/hash-type.ts; OBJECT ENCODING follows its listpack/hashtable switch.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { TYPE_HASH } from '../storage/keyspace.js'
import {
  HASH_HEADER_BYTES, ENC_LISTPACK, hashInit, hashFind, hashSet, hashDelete, hashLen, hashEncoding, hashForEach,
  hashBuckets, hashBucketForEach, hashReserveBytes, found,
} from '../storage/hash-type.js'
import { OK, ZERO, ONE, EMPTY_ARRAY } from '../protocol/replies.js'
import {
  WRONGTYPE, NOT_INTEGER, NOT_FLOAT, OVERFLOW, SYNTAX_ERR, OOM, INCR_NAN_OR_INFINITY, INVALID_CURSOR, arityError, errorReply,
} from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { parseLongDouble, LD_INVALID, LD_INFINITE, incrByFloat } from './float.js'
import { stringMatch } from './glob.js'
import { scanCursorOf } from './generic.js'
import { parseScanArgs, walkBuckets } from './scan-args.js'
import { NOTIFY_GENERIC, NOTIFY_HASH, eventName } from '../storage/notify.js'

const EV_HSET = eventName('hset')
const EV_HDEL = eventName('hdel')
const EV_DEL = eventName('del')
const EV_HINCRBY = eventName('hincrby')
const EV_HINCRBYFLOAT = eventName('hincrbyfloat')
const HASH_NOT_INTEGER = errorReply('ERR hash value is not an integer')
const HASH_NOT_FLOAT = errorReply('ERR hash value is not a float')
const NAN_OR_INFINITY = errorReply('ERR value is NaN or Infinity')
const RANGE_ERR = errorReply('ERR value is out of range')
const COUNT_RANGE = errorReply('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807')
const EMPTY_MAP3 = Buffer.from('%0\r\n')
const EMPTY_SCAN = Buffer.from('*2\r\n$1\r\n0\r\n*0\r\n')
const TOK_WITHVALUES = token('withvalues')
const LONG_MAX = 9223372036854775807n
const LONG_MAX_HALF = LONG_MAX / 2n
/** The most picks HRANDFIELD key -count answers (a deviation: Redis has no bound). */
const MAX_REPEATS = 10_000_000

/** The hash at key for reading: its entry, 0 when missing, -1 after a WRONGTYPE reply. */
function readHash (shard: Shard, argv: Argv, out: ReplyWriter): number {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e !== 0 && shard.ks.type(e) !== TYPE_HASH) { out.raw(WRONGTYPE); return -1 }
  return e
}

/**
 * hashTypeLookupWriteOrCreate: the hash at key, made empty when missing, with room reserved
 * for `bytes` more of arguments over `pairs` fields (so a full arena changes nothing); -1 after
 * an error reply.
 */
function writeHash (shard: Shard, argv: Argv, out: ReplyWriter, bytes: number, pairs: number): number {
  const { buf, start, len } = argv
  const ks = shard.ks
  let e = shard.lookup(buf, start[1], len[1])
  if (e !== 0 && ks.type(e) !== TYPE_HASH) { out.raw(WRONGTYPE); return -1 }
  const need = hashReserveBytes(ks, e, bytes, pairs) + (e === 0 ? 64 + len[1] : 0)
  if (!ks.arena.reserve(need)) { out.raw(OOM); return -1 }
  if (e === 0) {
    e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_HASH, HASH_HEADER_BYTES)
    if (e === 0) { out.raw(OOM); return -1 }
    hashInit(ks, e)
  }
  return e
}

function setPairs (shard: Shard, argv: Argv, out: ReplyWriter, isHmset: boolean): void {
  const { buf, start, len, argc } = argv
  if (argc % 2 === 1) { out.raw(arityError(isHmset ? 'hmset' : 'hset')); return }
  let bytes = 0
  for (let i = 2; i < argc; i++) bytes += len[i]
  const e = writeHash(shard, argv, out, bytes, (argc - 2) / 2)
  if (e < 0) return
  const ks = shard.ks
  let created = 0
  for (let i = 2; i < argc; i += 2) {
    const r = hashSet(ks, e, buf, start[i], len[i], buf, start[i + 1], len[i + 1])
    if (r < 0) { out.raw(OOM); return }
    created += r
  }
  if (isHmset) out.raw(OK)
  else out.int(created)
  shard.notify(NOTIFY_HASH, EV_HSET, buf, start[1], len[1])
}

export function hsetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { setPairs(shard, argv, out, false) }
export function hmsetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { setPairs(shard, argv, out, true) }

export function hsetnxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const e = writeHash(shard, argv, out, len[2] + len[3], 1)
  if (e < 0) return
  const ks = shard.ks
  if (hashFind(ks, e, buf, start[2], len[2])) { out.raw(ZERO); return }
  if (hashSet(ks, e, buf, start[2], len[2], buf, start[3], len[3]) < 0) { out.raw(OOM); return }
  out.raw(ONE)
  shard.notify(NOTIFY_HASH, EV_HSET, buf, start[1], len[1])
}

export function hgetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readHash(shard, argv, out)
  if (e < 0) return
  const ks = shard.ks
  if (e === 0 || !hashFind(ks, e, argv.buf, argv.start[2], argv.len[2])) { out.nullBulk(); return }
  out.bulk(ks.arena.u8, found.at, found.len)
}

export function hmgetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readHash(shard, argv, out)
  if (e < 0) return
  const { buf, start, len, argc } = argv
  const ks = shard.ks
  out.arrayHeader(argc - 2)
  for (let i = 2; i < argc; i++) {
    if (e !== 0 && hashFind(ks, e, buf, start[i], len[i])) out.bulk(ks.arena.u8, found.at, found.len)
    else out.nullBulk()
  }
}

export function hdelCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_HASH) { out.raw(WRONGTYPE); return }
  let deleted = 0
  let isRemoved = false
  for (let i = 2; i < argc; i++) {
    if (hashDelete(ks, e, buf, start[i], len[i])) {
      deleted++
      if (hashLen(ks, e) === 0) { ks.remove(e); isRemoved = true; break }
    }
  }
  out.int(deleted)
  if (deleted > 0) {
    shard.notify(NOTIFY_HASH, EV_HDEL, buf, start[1], len[1])
    if (isRemoved) shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
  }
}

export function hlenCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readHash(shard, argv, out)
  if (e < 0) return
  out.int(e === 0 ? 0 : hashLen(shard.ks, e))
}

export function hstrlenCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readHash(shard, argv, out)
  if (e < 0) return
  out.int(e !== 0 && hashFind(shard.ks, e, argv.buf, argv.start[2], argv.len[2]) ? found.len : 0)
}

export function hexistsCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readHash(shard, argv, out)
  if (e < 0) return
  out.raw(e !== 0 && hashFind(shard.ks, e, argv.buf, argv.start[2], argv.len[2]) ? ONE : ZERO)
}

const KEYS = 1
const VALUES = 2

/** genericHgetallCommand: HKEYS, HVALS, HGETALL (a map under RESP3). */
function getAll (shard: Shard, argv: Argv, out: ReplyWriter, what: number): void {
  const e = readHash(shard, argv, out)
  if (e < 0) return
  const isMap = what === (KEYS | VALUES)
  if (e === 0) { out.raw(isMap && out.resp3 ? EMPTY_MAP3 : EMPTY_ARRAY); return }
  const ks = shard.ks
  const n = hashLen(ks, e)
  if (isMap) out.mapHeader(n)
  else out.arrayHeader(n)
  const u8 = ks.arena.u8
  hashForEach(ks, e, (fa, fl, va, vl) => {
    if ((what & KEYS) !== 0) out.bulk(u8, fa, fl)
    if ((what & VALUES) !== 0) out.bulk(u8, va, vl)
  })
}

export function hkeysCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { getAll(shard, argv, out, KEYS) }
export function hvalsCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { getAll(shard, argv, out, VALUES) }
export function hgetallCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { getAll(shard, argv, out, KEYS | VALUES) }

const digits = Buffer.allocUnsafe(24)

export function hincrbyCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (!parseInt64(buf, start[3], len[3])) { out.raw(NOT_INTEGER); return }
  const incr = parsed.isBig ? parsed.big : BigInt(parsed.value)
  const e = writeHash(shard, argv, out, len[2] + 21, 1)
  if (e < 0) return
  const ks = shard.ks
  let value = 0n
  if (hashFind(ks, e, buf, start[2], len[2])) {
    if (!parseInt64(ks.arena.u8, found.at, found.len)) { out.raw(HASH_NOT_INTEGER); return }
    value = parsed.isBig ? parsed.big : BigInt(parsed.value)
  }
  const sum = value + incr
  if (sum > 9223372036854775807n || sum < -9223372036854775808n) { out.raw(OVERFLOW); return }
  const n = digits.write(sum.toString(), 0, 'latin1')
  if (hashSet(ks, e, buf, start[2], len[2], digits, 0, n) < 0) { out.raw(OOM); return }
  out.bigint(sum)
  shard.notify(NOTIFY_HASH, EV_HINCRBY, buf, start[1], len[1])
}

export function hincrbyfloatCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const incr = parseLongDouble(buf, start[3], len[3])
  if (incr === LD_INVALID) { out.raw(NOT_FLOAT); return }
  if (incr === LD_INFINITE) { out.raw(NAN_OR_INFINITY); return }
  const e = writeHash(shard, argv, out, len[2] + 64, 1)
  if (e < 0) return
  const ks = shard.ks
  let r
  if (hashFind(ks, e, buf, start[2], len[2])) {
    if (parseLongDouble(ks.arena.u8, found.at, found.len) === LD_INVALID) { out.raw(HASH_NOT_FLOAT); return }
    r = incrByFloat(ks.arena.u8, found.at, found.len, buf, start[3], len[3])
  } else {
    r = incrByFloat(null, 0, 0, buf, start[3], len[3])
  }
  if (typeof r !== 'string') { out.raw(INCR_NAN_OR_INFINITY); return }
  const n = digits.length >= r.length ? digits.write(r, 0, 'latin1') : 0
  const text = n === r.length ? digits : Buffer.from(r, 'latin1')
  if (hashSet(ks, e, buf, start[2], len[2], text, 0, r.length) < 0) { out.raw(OOM); return }
  out.bulkStr(r)
  shard.notify(NOTIFY_HASH, EV_HINCRBYFLOAT, buf, start[1], len[1])
}

// --- HRANDFIELD (hrandfieldCommand, hrandfieldWithCountCommand) ------------------------------------

/** Every field of the hash as [fieldAt, fieldLen, valueAt, valueLen] quads, in hash order. */
function allFields (ks: Keyspace, e: number): number[] {
  const at: number[] = []
  hashForEach(ks, e, (fa, fl, va, vl) => { at.push(fa, fl, va, vl) })
  return at
}

function randomInt (n: number): number { return Math.floor(Math.random() * n) }

export function hrandfieldCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  if (argc >= 3) {
    if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
    const big = parsed.isBig ? parsed.big : BigInt(parsed.value)
    if (big < -LONG_MAX) { out.raw(COUNT_RANGE); return }
    const l = parsed.isBig ? Number(parsed.big) : parsed.value
    let withValues = false
    if (argc > 4 || (argc === 4 && !equalsLower(buf, start[3], len[3], TOK_WITHVALUES))) { out.raw(SYNTAX_ERR); return }
    if (argc === 4) {
      withValues = true
      if (big < -LONG_MAX_HALF || big > LONG_MAX_HALF) { out.raw(RANGE_ERR); return }
    }
    randomWithCount(shard, argv, out, l, withValues)
    return
  }
  const e = readHash(shard, argv, out)
  if (e < 0) return
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  const all = allFields(ks, e)
  const i = randomInt(all.length / 4) * 4
  out.bulk(ks.arena.u8, all[i], all[i + 1])
}

function randomWithCount (shard: Shard, argv: Argv, out: ReplyWriter, l: number, withValues: boolean): void {
  const e = readHash(shard, argv, out)
  if (e < 0) return
  if (e === 0) { out.raw(EMPTY_ARRAY); return }
  const ks = shard.ks
  const size = hashLen(ks, e)
  const isUnique = l >= 0
  const count = isUnique ? l : -l
  if (count === 0 || size === 0) { out.raw(EMPTY_ARRAY); return }
  const u8 = ks.arena.u8
  const all = allFields(ks, e)
  const one = (i: number): void => {
    if (withValues && out.resp3) out.arrayHeader(2)
    out.bulk(u8, all[i], all[i + 1])
    if (withValues) out.bulk(u8, all[i + 2], all[i + 3])
  }
  const header = (n: number): void => { out.arrayHeader(withValues && !out.resp3 ? n * 2 : n) }
  // Repetitions allowed (negative count), or just one: each pick on its own. Past
  // MAX_REPEATS the reply could not be built (Redis would try): an error instead.
  if (!isUnique && count > MAX_REPEATS) { out.raw(RANGE_ERR); return }
  if (!isUnique || count === 1) {
    header(count)
    for (let k = 0; k < count; k++) one(randomInt(size) * 4)
    return
  }
  // As many as there are or more: the whole hash, in its order.
  if (count >= size) {
    header(size)
    for (let i = 0; i < all.length; i += 4) one(i)
    return
  }
  // Distinct picks: a partial shuffle of the field indexes.
  const idx = Array.from({ length: size }, (_v, i) => i)
  header(count)
  for (let k = 0; k < count; k++) {
    const j = k + randomInt(size - k)
    const t = idx[k]; idx[k] = idx[j]; idx[j] = t
    one(idx[k] * 4)
  }
}

// --- HSCAN (scanGenericCommand on a hash) ----------------------------------------------------------

export function hscanCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const cursor = scanCursorOf(buf, start[2], len[2], 1)
  if (cursor < 0) { out.raw(INVALID_CURSOR); return }
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_SCAN); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_HASH) { out.raw(WRONGTYPE); return }
  const opts = parseScanArgs(argv, 3)
  if (Buffer.isBuffer(opts)) { out.raw(opts); return }
  const { count, pattern } = opts
  const u8 = ks.arena.u8
  const items: number[] = []
  const take = (fa: number, fl: number, va: number, vl: number): void => {
    if (pattern >= 0 && !stringMatch(buf, start[pattern], len[pattern], u8, fa, fl, false)) return
    items.push(fa, fl, va, vl)
  }
  let next = 0
  if (hashEncoding(ks, e) === ENC_LISTPACK) {
    // A listpack is returned whole, whatever the cursor (Redis does the same).
    hashForEach(ks, e, take)
  } else {
    const { block, count: buckets } = hashBuckets(ks, e)
    next = walkBuckets(cursor, buckets, count, b => {
      let n = 0
      hashBucketForEach(ks, block, b, (fa, fl, va, vl) => { n++; take(fa, fl, va, vl) })
      return n
    })
  }
  out.arrayHeader(2)
  out.bulkStr(String(next))
  out.arrayHeader(items.length / 2)
  for (let i = 0; i < items.length; i += 4) {
    out.bulk(u8, items[i], items[i + 1])
    out.bulk(u8, items[i + 2], items[i + 3])
  }
}

const HASH = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'hash' } as const
const RO = [{ flags: ['RO'] }] as const
const RO_ACCESS = [{ flags: ['RO', 'access'] }] as const
const RW_UPDATE = [{ flags: ['RW', 'update'] }] as const
const RW_ACCESS_UPDATE = [{ flags: ['RW', 'access', 'update'] }] as const

export const hashCommands: CommandSpec[] = [
  { ...HASH, name: 'hdel', arity: -3, flags: ['write', 'fast'], since: '2.0.0', summary: 'Delete one or more hash fields', complexity: 'O(N) where N is the number of fields to be removed.', keySpecs: [{ flags: ['RW', 'delete'] }], run: hdelCommand },
  { ...HASH, name: 'hexists', arity: 3, flags: ['readonly', 'fast'], since: '2.0.0', summary: 'Determine if a hash field exists', complexity: 'O(1)', keySpecs: RO, run: hexistsCommand },
  { ...HASH, name: 'hget', arity: 3, flags: ['readonly', 'fast'], since: '2.0.0', summary: 'Get the value of a hash field', complexity: 'O(1)', keySpecs: RO_ACCESS, run: hgetCommand },
  { ...HASH, name: 'hgetall', arity: 2, flags: ['readonly'], since: '2.0.0', summary: 'Get all the fields and values in a hash', complexity: 'O(N) where N is the size of the hash.', tips: ['nondeterministic_output_order'], keySpecs: RO_ACCESS, run: hgetallCommand },
  { ...HASH, name: 'hincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], since: '2.0.0', summary: 'Increment the integer value of a hash field by the given number', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: hincrbyCommand },
  { ...HASH, name: 'hincrbyfloat', arity: 4, flags: ['write', 'denyoom', 'fast'], since: '2.6.0', summary: 'Increment the float value of a hash field by the given amount', complexity: 'O(1)', keySpecs: RW_ACCESS_UPDATE, run: hincrbyfloatCommand },
  { ...HASH, name: 'hkeys', arity: 2, flags: ['readonly'], since: '2.0.0', summary: 'Get all the fields in a hash', complexity: 'O(N) where N is the size of the hash.', tips: ['nondeterministic_output_order'], keySpecs: RO_ACCESS, run: hkeysCommand },
  { ...HASH, name: 'hlen', arity: 2, flags: ['readonly', 'fast'], since: '2.0.0', summary: 'Get the number of fields in a hash', complexity: 'O(1)', keySpecs: RO, run: hlenCommand },
  { ...HASH, name: 'hmget', arity: -3, flags: ['readonly', 'fast'], since: '2.0.0', summary: 'Get the values of all the given hash fields', complexity: 'O(N) where N is the number of fields being requested.', keySpecs: RO_ACCESS, run: hmgetCommand },
  { ...HASH, name: 'hmset', arity: -4, flags: ['write', 'denyoom', 'fast'], since: '2.0.0', summary: 'Set multiple hash fields to multiple values', complexity: 'O(N) where N is the number of fields being set.', keySpecs: RW_UPDATE, run: hmsetCommand },
  { ...HASH, name: 'hrandfield', arity: -2, flags: ['readonly'], since: '6.2.0', summary: 'Get one or multiple random fields from a hash', complexity: 'O(N) where N is the number of fields returned', tips: ['nondeterministic_output'], keySpecs: RO_ACCESS, run: hrandfieldCommand },
  { ...HASH, name: 'hscan', arity: -3, flags: ['readonly'], since: '2.8.0', summary: 'Incrementally iterate hash fields and associated values', complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..', tips: ['nondeterministic_output'], keySpecs: RO_ACCESS, run: hscanCommand },
  { ...HASH, name: 'hset', arity: -4, flags: ['write', 'denyoom', 'fast'], since: '2.0.0', summary: 'Set the string value of a hash field', complexity: 'O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.', keySpecs: RW_UPDATE, run: hsetCommand },
  { ...HASH, name: 'hsetnx', arity: 4, flags: ['write', 'denyoom', 'fast'], since: '2.0.0', summary: 'Set the value of a hash field, only if the field does not exist', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'insert'] }], run: hsetnxCommand },
  { ...HASH, name: 'hstrlen', arity: 3, flags: ['readonly', 'fast'], since: '3.2.0', summary: 'Get the length of the value of a hash field', complexity: 'O(1)', keySpecs: RO, run: hstrlenCommand },
  { ...HASH, name: 'hvals', arity: 2, flags: ['readonly'], since: '2.0.0', summary: 'Get all the values in a hash', complexity: 'O(N) where N is the size of the hash.', tips: ['nondeterministic_output_order'], keySpecs: RO_ACCESS, run: hvalsCommand },
]
