// Set commands (Redis 7.0's t_set.c): replies, errors and their order as Redis has them. The
// storage is src/storage/set-type.ts (intset or hashtable). Commands over several keys (SINTER,
// SUNION, SDIFF and their STORE forms, SINTERCARD, SMOVE) run whole on one shard when their keys
// share it, and otherwise on the transaction engine (server/engine.ts) through their coord
// handler: each key's members are read on its shard and the result is computed here, the
// destination written last, all while the shards are held.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_SET } from '../storage/keyspace.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import {
  SET_HEADER_BYTES, ENC_INTSET, setInit, setAdd, setRemove, setHas, setLen, setEncoding, setMembers, setRandom,
  setForEach, setReserveBytes,
} from '../storage/set-type.js'
import { ENC_HASHTABLE, hashBuckets, hashBucketForEach, hashLimits, tableBase, tableHas, tableMask, tableForEachHashed } from '../storage/hash-type.js'
import { SET_INTSET_WORD, limitOf } from '../ipc/layout.js'
import { ZERO, ONE, EMPTY_ARRAY } from '../protocol/replies.js'
import {
  WRONGTYPE, NOT_INTEGER, SYNTAX_ERR, OOM, INVALID_CURSOR, POP_COUNT_RANGE, NUMKEYS_NOT_POSITIVE, errorReply,
} from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { stringMatch } from './glob.js'
import { scanCursorOf } from './generic.js'
import { parseScanArgs, walkBuckets, numkeysKeys } from './scan-args.js'
import { NOTIFY_GENERIC, NOTIFY_SET, eventName } from '../storage/notify.js'
import { argBytes, isErrorReply } from './txn-helpers.js'
import { ownDirty } from '../persistence/dirty.js'

const EV_SADD = eventName('sadd')
const EV_SREM = eventName('srem')
const EV_SPOP = eventName('spop')
const EV_DEL = eventName('del')
const COUNT_RANGE = errorReply('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807')
const KEYS_OVER_ARGS = errorReply("ERR Number of keys can't be greater than number of args")
const LIMIT_NEGATIVE = errorReply("ERR LIMIT can't be negative")
const EMPTY_SCAN = Buffer.from('*2\r\n$1\r\n0\r\n*0\r\n')
const TOK_LIMIT = token('limit')
/** The most picks SRANDMEMBER key -count answers (a deviation: Redis has no bound). */
const MAX_REPEATS = 10_000_000
const RANGE_ERR = errorReply('ERR value is out of range')

/** An empty set reply: ~0 under RESP3, *0 under RESP2. */
function emptySet (out: ReplyWriter): void { if (out.resp3) out.raw(EMPTY_SET3); else out.raw(EMPTY_ARRAY) }
const EMPTY_SET3 = Buffer.from('~0\r\n')

function keyString (argv: Argv, i: number): string {
  return Buffer.from(argv.buf.buffer, argv.buf.byteOffset + argv.start[i], argv.len[i]).toString('latin1')
}

function bulkLatin1 (out: ReplyWriter, s: string): void {
  const b = Buffer.from(s, 'latin1')
  out.bulk(b, 0, b.length)
}

/** The set at argv[i] for reading: entry, 0 when missing, -1 after a WRONGTYPE reply. */
function readSet (shard: Shard, argv: Argv, i: number, out: ReplyWriter): number {
  const e = shard.lookupRead(argv.buf, argv.start[i], argv.len[i])
  if (e !== 0 && shard.ks.type(e) !== TYPE_SET) { out.raw(WRONGTYPE); return -1 }
  return e
}

// --- single-key commands -------------------------------------------------------------------------

export function saddCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const ks = shard.ks
  let e = shard.lookup(buf, start[1], len[1])
  if (e !== 0 && ks.type(e) !== TYPE_SET) { out.raw(WRONGTYPE); return }
  let bytes = 0
  for (let i = 2; i < argc; i++) bytes += len[i]
  if (!ks.arena.reserve(setReserveBytes(ks, e, bytes, argc - 2) + 64 + len[1])) { out.raw(OOM); return }
  if (e === 0) {
    e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_SET, SET_HEADER_BYTES)
    if (e === 0) { out.raw(OOM); return }
    setInit(ks, e)
  }
  let added = 0
  for (let i = 2; i < argc; i++) {
    const r = setAdd(ks, e, buf, start[i], len[i])
    if (r < 0) { out.raw(OOM); return }
    added += r
  }
  out.int(added)
  if (added > 0) shard.notify(NOTIFY_SET, EV_SADD, buf, start[1], len[1])
}

export function sremCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_SET) { out.raw(WRONGTYPE); return }
  let deleted = 0
  let isRemoved = false
  for (let i = 2; i < argc; i++) {
    if (setRemove(ks, e, buf, start[i], len[i])) {
      deleted++
      if (setLen(ks, e) === 0) { ks.remove(e); isRemoved = true; break }
    }
  }
  out.int(deleted)
  if (deleted > 0) {
    shard.notify(NOTIFY_SET, EV_SREM, buf, start[1], len[1])
    if (isRemoved) shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
  }
}

export function scardCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readSet(shard, argv, 1, out)
  if (e < 0) return
  out.int(e === 0 ? 0 : setLen(shard.ks, e))
}

export function sismemberCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readSet(shard, argv, 1, out)
  if (e < 0) return
  out.raw(e !== 0 && setHas(shard.ks, e, argv.buf, argv.start[2], argv.len[2]) ? ONE : ZERO)
}

export function smismemberCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readSet(shard, argv, 1, out)
  if (e < 0) return
  const { buf, start, len, argc } = argv
  out.arrayHeader(argc - 2)
  for (let i = 2; i < argc; i++) out.raw(e !== 0 && setHas(shard.ks, e, buf, start[i], len[i]) ? ONE : ZERO)
}

export function smembersCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readSet(shard, argv, 1, out)
  if (e < 0) return
  if (e === 0) { emptySet(out); return }
  const ks = shard.ks
  out.setHeader(setLen(ks, e))
  setForEach(ks, e, (b, at, l) => { out.bulk(b, at, l) })
}

/** Deletes the set once empty, with its "del" event. */
function deleteIfEmpty (shard: Shard, e: number, argv: Argv): void {
  if (setLen(shard.ks, e) !== 0) return
  shard.ks.remove(e)
  shard.notify(NOTIFY_GENERIC, EV_DEL, argv.buf, argv.start[1], argv.len[1])
}

export function spopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  if (argc > 3) { out.raw(SYNTAX_ERR); return }
  if (argc === 3) { spopWithCount(shard, argv, out); return }
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_SET) { out.raw(WRONGTYPE); return }
  const m = setRandom(ks, e) as string
  const b = Buffer.from(m, 'latin1')
  setRemove(ks, e, b, 0, b.length)
  out.bulk(b, 0, b.length)
  shard.notify(NOTIFY_SET, EV_SPOP, buf, start[1], len[1])
  deleteIfEmpty(shard, e, argv)
}

function spopWithCount (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (!parseInt64(buf, start[2], len[2]) || parsed.value < 0 || parsed.isBig) { out.raw(POP_COUNT_RANGE); return }
  const count = parsed.value
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) { emptySet(out); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_SET) { out.raw(WRONGTYPE); return }
  if (count === 0) { emptySet(out); return }
  const size = setLen(ks, e)
  // All of it: the whole set, in its order, and the key goes.
  if (count >= size) {
    out.setHeader(size)
    setForEach(ks, e, (b, at, l) => { out.bulk(b, at, l) })
    shard.notify(NOTIFY_SET, EV_SPOP, buf, start[1], len[1])
    ks.remove(e)
    shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
    return
  }
  out.setHeader(count)
  for (let k = 0; k < count; k++) {
    const m = Buffer.from(setRandom(ks, e) as string, 'latin1')
    setRemove(ks, e, m, 0, m.length)
    out.bulk(m, 0, m.length)
  }
  shard.notify(NOTIFY_SET, EV_SPOP, buf, start[1], len[1])
}

export function srandmemberCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  if (argc > 3) { out.raw(SYNTAX_ERR); return }
  if (argc === 3) {
    if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
    const big = parsed.isBig ? parsed.big : BigInt(parsed.value)
    if (big < -9223372036854775807n) { out.raw(COUNT_RANGE); return }
    randomWithCount(shard, argv, out, parsed.isBig ? Number(parsed.big) : parsed.value)
    return
  }
  const e = readSet(shard, argv, 1, out)
  if (e < 0) return
  if (e === 0) { out.nullBulk(); return }
  bulkLatin1(out, setRandom(shard.ks, e) as string)
}

function randomWithCount (shard: Shard, argv: Argv, out: ReplyWriter, l: number): void {
  const e = readSet(shard, argv, 1, out)
  if (e < 0) return
  if (e === 0 || l === 0) { out.raw(EMPTY_ARRAY); return }
  const ks = shard.ks
  const size = setLen(ks, e)
  if (l < 0) {
    const count = -l
    if (count > MAX_REPEATS) { out.raw(RANGE_ERR); return }
    out.arrayHeader(count)
    for (let k = 0; k < count; k++) bulkLatin1(out, setRandom(ks, e) as string)
    return
  }
  if (l >= size) {
    out.arrayHeader(size)
    setForEach(ks, e, (b, at, n) => { out.bulk(b, at, n) })
    return
  }
  const all = setMembers(ks, e)
  out.arrayHeader(l)
  for (let k = 0; k < l; k++) {
    const j = k + Math.floor(Math.random() * (size - k))
    const t = all[k]; all[k] = all[j]; all[j] = t
    bulkLatin1(out, all[k])
  }
}

export function sscanCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const cursor = scanCursorOf(buf, start[2], len[2], 1)
  if (cursor < 0) { out.raw(INVALID_CURSOR); return }
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e === 0) { out.raw(EMPTY_SCAN); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_SET) { out.raw(WRONGTYPE); return }
  const opts = parseScanArgs(argv, 3)
  if (Buffer.isBuffer(opts)) { out.raw(opts); return }
  const { count, pattern } = opts
  const items: Buffer[] = []
  const take = (b: Uint8Array, at: number, l: number): void => {
    if (pattern >= 0 && !stringMatch(buf, start[pattern], len[pattern], b, at, l, false)) return
    items.push(Buffer.from(b.subarray(at, at + l)))
  }
  let next = 0
  if (setEncoding(ks, e) === ENC_INTSET) {
    setForEach(ks, e, take)
  } else {
    const { block, count: buckets } = hashBuckets(ks, e)
    const u8 = ks.arena.u8
    next = walkBuckets(cursor, buckets, count, b => {
      let n = 0
      hashBucketForEach(ks, block, b, (fa, fl) => { n++; take(u8, fa, fl) })
      return n
    })
  }
  out.arrayHeader(2)
  out.bulkStr(String(next))
  out.arrayHeader(items.length)
  for (const b of items) out.bulkBuf(b)
}

// --- SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD, SMOVE -----------------------------------

const OP_INTER = 0
const OP_UNION = 1
const OP_DIFF = 2
const STORE_EVENTS = [eventName('sinterstore'), eventName('sunionstore'), eventName('sdiffstore')]

/** Each key's members (null: missing), or the first WRONGTYPE, read on this shard. */
function gatherLocal (shard: Shard, argv: Argv, from: number, to: number): Array<string[] | null> | Buffer {
  const sets: Array<string[] | null> = []
  for (let i = from; i < to; i++) {
    const e = shard.lookupRead(argv.buf, argv.start[i], argv.len[i])
    if (e === 0) { sets.push(null); continue }
    if (shard.ks.type(e) !== TYPE_SET) return WRONGTYPE
    sets.push(setMembers(shard.ks, e))
  }
  return sets
}

/** The same through transaction steps, key by key in order (keys on several shards). */
async function gatherSteps (tx: TxnContext, argv: Argv, from: number, to: number): Promise<Array<string[] | null> | Uint8Array> {
  const sets: Array<string[] | null> = []
  for (let i = from; i < to; i++) {
    const key = argBytes(argv.buf, argv.start[i], argv.len[i])
    const r = await tx.run(tx.shardOf(key, 0, key.length), 'smembers', [key])
    if (isErrorReply(r)) return r
    const m = parseMembers(r)
    sets.push(m.length === 0 ? null : m)
  }
  return sets
}

/** The members of an SMEMBERS reply (*n or ~n of bulk strings) as latin1 strings. */
function parseMembers (r: Uint8Array): string[] {
  const s = Buffer.from(r.buffer, r.byteOffset, r.length).toString('latin1')
  const out: string[] = []
  let p = s.indexOf('\r\n') + 2
  while (p < s.length) {
    const nl = s.indexOf('\r\n', p)
    const n = Number(s.slice(p + 1, nl))
    out.push(s.slice(nl + 2, nl + 2 + n))
    p = nl + 4 + n
  }
  return out
}

const INT_RE = /^(0|-?[1-9][0-9]{0,18})$/
function isIntset (members: readonly string[], max: number): boolean {
  if (members.length > max) return false
  for (const m of members) {
    if (!INT_RE.test(m)) return false
    const v = BigInt(m)
    if (v > 9223372036854775807n || v < -9223372036854775808n) return false
  }
  return true
}

/**
 * The set operation as Redis computes it. SINTER follows the smallest set's order (an intset's
 * is ascending); SUNION and SDIFF build a new set, so an all-integer result within the intset
 * limit comes back ascending, as Redis's intset would.
 */
function compute (op: number, sets: Array<string[] | null>, intsetMax: number): string[] {
  if (op === OP_INTER) {
    if (sets.some(s => s === null)) return []
    const sorted = (sets as string[][]).slice().sort((a, b) => a.length - b.length)
    const others = sorted.slice(1).map(s => new Set(s))
    return sorted[0].filter(m => others.every(o => o.has(m)))
  }
  let result: string[]
  if (op === OP_UNION) {
    const all = new Set<string>()
    for (const s of sets) if (s !== null) for (const m of s) all.add(m)
    result = [...all]
  } else {
    if (sets[0] === null) return []
    const minus = new Set<string>()
    for (let i = 1; i < sets.length; i++) { const s = sets[i]; if (s !== null) for (const m of s) minus.add(m) }
    result = sets[0].filter(m => !minus.has(m))
  }
  if (isIntset(result, intsetMax)) result.sort((a, b) => { const d = BigInt(a) - BigInt(b); return d < 0n ? -1 : d > 0n ? 1 : 0 })
  return result
}

function intsetMaxOf (): number { return limitOf(hashLimits.flags, SET_INTSET_WORD) }

function replySet (out: ReplyWriter, members: readonly string[]): void {
  out.setHeader(members.length)
  for (const m of members) bulkLatin1(out, m)
}

function opOf (argv: Argv): number {
  const c = argv.buf[argv.start[0] + 1] | 32
  return c === 105 ? OP_INTER : c === 117 ? OP_UNION : OP_DIFF // s[i]nter, s[u]nion, s[d]iff
}

/** SINTER's matches, bulk-encoded before the header (whose count comes last); reused. */
const interScratch = new ReplyWriter(4096)
const interSets: number[] = []
/** Per set of a SINTER after the first: its hashtable's bucket block (u32 index) and mask, or -1 (an intset). */
let interBase = new Int32Array(8)
let interMask = new Int32Array(8)

/**
 * SINTER with every key on this shard, byte for byte: the smallest set's members (in its own
 * order, as compute() takes it) that every other set has, with no JS string per member.
 */
function sinterLocal (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const ks = shard.ks
  interSets.length = 0
  let isEmpty = false
  for (let i = 1; i < argv.argc; i++) {
    const e = shard.lookupRead(argv.buf, argv.start[i], argv.len[i])
    if (e === 0) { isEmpty = true; continue }
    if (ks.type(e) !== TYPE_SET) { out.raw(WRONGTYPE); return }
    interSets.push(e)
  }
  if (isEmpty) { out.setHeader(0); return }
  // Smallest first; a stable sort keeps key order among equal sizes.
  interSets.sort((a, b) => setLen(ks, a) - setLen(ks, b))
  const w = interScratch
  w.reset()
  let count = 0
  const first = interSets[0]
  if (setEncoding(ks, first) === ENC_HASHTABLE) {
    // Each member's hash is stored in its node: the other hashtables are probed with it, not
    // hashed again (FNV was 15% of a SINTER of two 100-member sets), their buckets found once.
    const n = interSets.length
    if (interBase.length < n) { interBase = new Int32Array(n * 2); interMask = new Int32Array(n * 2) }
    for (let j = 1; j < n; j++) {
      const e = interSets[j]
      interBase[j] = setEncoding(ks, e) === ENC_HASHTABLE ? tableBase(ks, e) : -1
      interMask[j] = interBase[j] < 0 ? 0 : tableMask(ks, e)
    }
    const u8 = ks.arena.u8
    const u32 = ks.arena.u32
    tableForEachHashed(ks, first, (at, len, hash) => {
      for (let j = 1; j < n; j++) {
        const base = interBase[j]
        if (!(base >= 0 ? tableHas(u32, u8, base, interMask[j], u8, at, len, hash) : setHas(ks, interSets[j], u8, at, len))) return
      }
      w.bulk(u8, at, len)
      count++
    })
  } else {
    setForEach(ks, first, (buf, at, len) => {
      for (let j = 1; j < interSets.length; j++) if (!setHas(ks, interSets[j], buf, at, len)) return
      w.bulk(buf, at, len)
      count++
    })
  }
  out.setHeader(count)
  out.rawRange(w.buf, 0, w.len)
  if (w.buf.length > 1 << 20) interScratch.buf = Buffer.allocUnsafe(4096)
}

export function sopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (opOf(argv) === OP_INTER) { sinterLocal(shard, argv, out); return }
  const sets = gatherLocal(shard, argv, 1, argv.argc)
  if (Buffer.isBuffer(sets)) { out.raw(sets); return }
  replySet(out, compute(opOf(argv), sets, intsetMaxOf()))
}

async function sopCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const sets = await gatherSteps(tx, argv, 1, argv.argc)
  if (!Array.isArray(sets)) return sets
  const out = new ReplyWriter(256)
  out.resp3 = tx.resp3
  replySet(out, compute(opOf(argv), sets, intsetMaxOf()))
  return out.buf.subarray(0, out.len)
}

/** Writes `members` as the set at argv[1] (replacing any value), with the STORE events. */
function storeResult (shard: Shard, argv: Argv, members: readonly string[], event: Buffer, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  let bytes = 0
  for (const m of members) bytes += m.length
  if (!ks.arena.reserve(setReserveBytes(ks, 0, bytes, members.length) + 64 + len[1])) { out.raw(OOM); return }
  const old = shard.lookup(buf, start[1], len[1])
  if (members.length === 0) {
    if (old !== 0) { shard.removeOverwritten(ks, old); shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1]) }
    out.raw(ZERO)
    return
  }
  if (old !== 0) shard.removeOverwritten(ks, old)
  const e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_SET, SET_HEADER_BYTES)
  if (e === 0) { out.raw(OOM); return }
  setInit(ks, e)
  for (const m of members) {
    const b = Buffer.from(m, 'latin1')
    if (setAdd(ks, e, b, 0, b.length) < 0) { out.raw(OOM); return }
  }
  out.int(members.length)
  shard.notify(NOTIFY_SET, event, buf, start[1], len[1])
}

function storeOpOf (argv: Argv): number {
  const c = argv.buf[argv.start[0] + 1] | 32
  return c === 105 ? OP_INTER : c === 117 ? OP_UNION : OP_DIFF
}

export function sopStoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const sets = gatherLocal(shard, argv, 2, argv.argc)
  if (Buffer.isBuffer(sets)) { out.raw(sets); return }
  const op = storeOpOf(argv)
  storeResult(shard, argv, compute(op, sets, intsetMaxOf()), STORE_EVENTS[op], out)
}

async function sopStoreCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const sets = await gatherSteps(tx, argv, 2, argv.argc)
  if (!Array.isArray(sets)) return sets
  const op = storeOpOf(argv)
  const members = compute(op, sets, intsetMaxOf())
  const dst = argBytes(argv.buf, argv.start[1], argv.len[1])
  return await tx.run(tx.shardOf(dst, 0, dst.length), '__sstore', [dst, Buffer.from([op]), ...members.map(m => Buffer.from(m, 'latin1'))])
}

/** __sstore dst op member...: a STORE form's result written on the destination's shard. */
export function sstoreStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const members: string[] = []
  for (let i = 3; i < argv.argc; i++) members.push(keyString(argv, i))
  storeResult(shard, argv, members, STORE_EVENTS[argv.buf[argv.start[2]]], out)
}

/** SINTERCARD numkeys key... [LIMIT limit]: its keys and limit, or the error reply. */
function sintercardArgs (argv: Argv): { keys: number, limit: number } | Buffer {
  const { buf, start, len, argc } = argv
  if (!parseInt64(buf, start[1], len[1]) || parsed.isBig || parsed.value < 1) return NUMKEYS_NOT_POSITIVE
  const numkeys = parsed.value
  if (numkeys > argc - 2) return KEYS_OVER_ARGS
  let limit = 0
  for (let j = 2 + numkeys; j < argc; j++) {
    if (equalsLower(buf, start[j], len[j], TOK_LIMIT) && j + 1 < argc) {
      if (!parseInt64(buf, start[j + 1], len[j + 1]) || parsed.value < 0) return LIMIT_NEGATIVE
      limit = parsed.isBig ? Number.MAX_SAFE_INTEGER : parsed.value
      j++
    } else {
      return SYNTAX_ERR
    }
  }
  return { keys: numkeys, limit }
}

export function sintercardGetKeys (argv: Argv): number[] | null { return numkeysKeys(argv, 1) }

function cardOf (sets: Array<string[] | null>, limit: number): number {
  const n = compute(OP_INTER, sets, 0).length
  return limit > 0 && n > limit ? limit : n
}

export function sintercardCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const a = sintercardArgs(argv)
  if (Buffer.isBuffer(a)) { out.raw(a); return }
  const sets = gatherLocal(shard, argv, 2, 2 + a.keys)
  if (Buffer.isBuffer(sets)) { out.raw(sets); return }
  out.int(cardOf(sets, a.limit))
}

async function sintercardCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const a = sintercardArgs(argv)
  if (Buffer.isBuffer(a)) return a
  const sets = await gatherSteps(tx, argv, 2, 2 + a.keys)
  if (!Array.isArray(sets)) return sets
  return Buffer.from(`:${cardOf(sets, a.limit)}\r\n`)
}

export function smoveCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const src = shard.lookup(buf, start[1], len[1])
  const dst0 = shard.lookup(buf, start[2], len[2])
  if (src === 0) { out.raw(ZERO); return }
  if (ks.type(src) !== TYPE_SET || (dst0 !== 0 && ks.type(dst0) !== TYPE_SET)) { out.raw(WRONGTYPE); return }
  if (src === dst0) { out.raw(setHas(ks, src, buf, start[3], len[3]) ? ONE : ZERO); return }
  if (!ks.arena.reserve(setReserveBytes(ks, dst0, len[3], 1) + 64 + len[2])) { out.raw(OOM); return }
  if (!setRemove(ks, src, buf, start[3], len[3])) { out.raw(ZERO); return }
  shard.notify(NOTIFY_SET, EV_SREM, buf, start[1], len[1])
  if (setLen(ks, src) === 0) { ks.remove(src); shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1]) }
  let dst = shard.lookup(buf, start[2], len[2])
  if (dst === 0) {
    dst = ks.insert(buf, start[2], len[2], shard.lastHash, TYPE_SET, SET_HEADER_BYTES)
    if (dst === 0) { out.raw(OOM); return }
    setInit(ks, dst)
  }
  // Redis's dirty: 1, and 1 more when the destination did not have the member.
  ownDirty.n = 1
  if (setAdd(ks, dst, buf, start[3], len[3]) > 0) { shard.notify(NOTIFY_SET, EV_SADD, buf, start[2], len[2]); ownDirty.n = 2 }
  out.raw(ONE)
}

const TYPE_NONE = Buffer.from('+none\r\n')
const TYPE_SET_REPLY = Buffer.from('+set\r\n')

/** SMOVE across shards: the same checks, then SREM on the source's shard and SADD on the destination's. */
async function smoveCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const { buf, start, len } = argv
  const src = argBytes(buf, start[1], len[1])
  const dst = argBytes(buf, start[2], len[2])
  const member = argBytes(buf, start[3], len[3])
  const a = tx.shardOf(src, 0, src.length)
  const b = tx.shardOf(dst, 0, dst.length)
  const ts = await tx.run(a, 'type', [src])
  if (ts.equals(TYPE_NONE)) return ZERO
  const td = await tx.run(b, 'type', [dst])
  if (!ts.equals(TYPE_SET_REPLY) || !(td.equals(TYPE_NONE) || td.equals(TYPE_SET_REPLY))) return WRONGTYPE
  // Room on the destination's shard before the source loses the member (an intset that
  // converts writes every member out).
  const card = await tx.run(b, 'scard', [dst])
  const n = isErrorReply(card) ? 0 : Number(card.subarray(1, card.length - 2).toString('latin1'))
  if (!tx.reserve(b, 2 * member.length + 48 + 72 * (n + 1) + 64 + dst.length)) return OOM
  const removed = await tx.run(a, 'srem', [src, member])
  if (isErrorReply(removed) || removed.equals(ZERO)) return removed
  const added = await tx.run(b, 'sadd', [dst, member])
  if (isErrorReply(added)) return added
  tx.addDirty?.(added.equals(ONE) ? 2 : 1)
  return ONE
}

const SET = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'set' } as const
const RO = [{ flags: ['RO'] }] as const
const RO_ACCESS = [{ flags: ['RO', 'access'] }] as const
const ONE_KEY = { lastkey: 0, keystep: 1, limit: 0 }
const STORE_KEYS = (dstFlags: readonly string[]): CommandSpec['keySpecs'] => [
  { flags: dstFlags as never, index: 1, range: ONE_KEY },
  { flags: ['RO', 'access'], index: 2, range: { lastkey: -1, keystep: 1, limit: 0 } },
]
const SOP = { firstKey: 1, lastKey: -1, step: 1, route: 'coord', group: 'set', flags: ['readonly'], tips: ['nondeterministic_output_order'], keySpecs: RO_ACCESS, run: sopCommand, coord: sopCoord } as const
const SOP_STORE = { firstKey: 1, lastKey: -1, step: 1, route: 'coord', group: 'set', flags: ['write', 'denyoom'], run: sopStoreCommand, coord: sopStoreCoord } as const

export const setCommands: CommandSpec[] = [
  { ...SET, name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], since: '1.0.0', summary: 'Add one or more members to a set', complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.', keySpecs: [{ flags: ['RW', 'insert'] }], run: saddCommand },
  { ...SET, name: 'scard', arity: 2, flags: ['readonly', 'fast'], since: '1.0.0', summary: 'Get the number of members in a set', complexity: 'O(1)', keySpecs: RO, run: scardCommand },
  { ...SOP, name: 'sdiff', arity: -2, since: '1.0.0', summary: 'Subtract multiple sets', complexity: 'O(N) where N is the total number of elements in all given sets.' },
  { ...SOP_STORE, name: 'sdiffstore', arity: -3, since: '1.0.0', summary: 'Subtract multiple sets and store the resulting set in a key', complexity: 'O(N) where N is the total number of elements in all given sets.', keySpecs: STORE_KEYS(['OW', 'update']) },
  { ...SOP, name: 'sinter', arity: -2, since: '1.0.0', summary: 'Intersect multiple sets', complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.' },
  { name: 'sintercard', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, route: 'coord', group: 'set', since: '7.0.0', summary: 'Intersect multiple sets and return the cardinality of the result', complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.', keySpecs: [{ flags: ['RO', 'access'], index: 1, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } }], getKeys: sintercardGetKeys, run: sintercardCommand, coord: sintercardCoord },
  { ...SOP_STORE, name: 'sinterstore', arity: -3, since: '1.0.0', summary: 'Intersect multiple sets and store the resulting set in a key', complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.', keySpecs: STORE_KEYS(['RW', 'update']) },
  { ...SET, name: 'sismember', arity: 3, flags: ['readonly', 'fast'], since: '1.0.0', summary: 'Determine if a given value is a member of a set', complexity: 'O(1)', keySpecs: RO, run: sismemberCommand },
  { ...SET, name: 'smembers', arity: 2, flags: ['readonly'], since: '1.0.0', summary: 'Get all the members in a set', complexity: 'O(N) where N is the set cardinality.', tips: ['nondeterministic_output_order'], keySpecs: RO_ACCESS, run: smembersCommand },
  { ...SET, name: 'smismember', arity: -3, flags: ['readonly', 'fast'], since: '6.2.0', summary: 'Returns the membership associated with the given elements for a set', complexity: 'O(N) where N is the number of elements being checked for membership', keySpecs: RO_ACCESS, run: smismemberCommand },
  { ...SET, name: 'smove', arity: 4, flags: ['write', 'fast'], lastKey: 2, route: 'coord', since: '1.0.0', summary: 'Move a member from one set to another', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, range: ONE_KEY }, { flags: ['RW', 'insert'], index: 2, range: ONE_KEY }], run: smoveCommand, coord: smoveCoord },
  { ...SET, name: 'spop', arity: -2, flags: ['write', 'fast'], since: '1.0.0', summary: 'Remove and return one or multiple random members from a set', complexity: 'Without the count argument O(1), otherwise O(N) where N is the value of the passed count.', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RW', 'access', 'delete'] }], run: spopCommand },
  { ...SET, name: 'srandmember', arity: -2, flags: ['readonly'], since: '1.0.0', summary: 'Get one or multiple random members from a set', complexity: 'Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.', tips: ['nondeterministic_output'], keySpecs: RO_ACCESS, run: srandmemberCommand },
  { ...SET, name: 'srem', arity: -3, flags: ['write', 'fast'], since: '1.0.0', summary: 'Remove one or more members from a set', complexity: 'O(N) where N is the number of members to be removed.', keySpecs: [{ flags: ['RW', 'delete'] }], run: sremCommand },
  { ...SET, name: 'sscan', arity: -3, flags: ['readonly'], since: '2.8.0', summary: 'Incrementally iterate Set elements', complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..', tips: ['nondeterministic_output'], keySpecs: RO_ACCESS, run: sscanCommand },
  { ...SOP, name: 'sunion', arity: -2, since: '1.0.0', summary: 'Add multiple sets', complexity: 'O(N) where N is the total number of elements in all given sets.' },
  { ...SOP_STORE, name: 'sunionstore', arity: -3, since: '1.0.0', summary: 'Add multiple sets and store the resulting set in a key', complexity: 'O(N) where N is the total number of elements in all given sets.', keySpecs: STORE_KEYS(['OW', 'update']) },
]

/** Steps of the coordinated set commands (clients cannot call them). */
export const setInternalCommands: CommandSpec[] = [
  { name: '__sstore', arity: -3, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: sstoreStepCommand },
]
