// HyperLogLog commands (Redis 7.0's hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG and
// PFSELFTEST over string values in Redis's own sparse and dense layouts (storage/hll.ts). PFCOUNT
// of one key writes the cardinality it computes into the header, as Redis does; PFCOUNT of
// several keys and PFMERGE work across shards on the transaction engine, reading each source with
// GET.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_STRING } from '../storage/keyspace.js'
import { writes } from '../storage/writes.js'
import { ownDirty } from '../persistence/dirty.js'
import { ZERO, ONE, OK } from '../protocol/replies.js'
import { WRONGTYPE, OOM, errorReply } from '../protocol/errors.js'
import { equalsLower, token } from '../protocol/ascii.js'
import { NOTIFY_STRING, eventName } from '../storage/notify.js'
import { HLL_SPARSE_WORD, limitOf } from '../ipc/layout.js'
import { hashLimits } from '../storage/hash-type.js'
import {
  HLL_HDR, HLL_REGISTERS, HLL_DENSE_SIZE, ENC_DENSE, ENC_SPARSE, isHll, isCacheValid, invalidateCache, hllCount, rawCount,
  hllMerge, patLen, patIndex, denseGet, denseSet, work, workLen, loadWork, emptyWork, workSet, workToDense, selfTest,
} from '../storage/hll.js'
import { argBytes, isErrorReply, isNullReply, bulkPayload } from './txn-helpers.js'

const NOT_HLL = errorReply('WRONGTYPE Key is not a valid HyperLogLog string value.')
const CORRUPT = errorReply('INVALIDOBJ Corrupted HLL object detected')
const NO_KEY = errorReply('ERR The specified key does not exist')
const NOT_SPARSE = errorReply('ERR HLL encoding is not sparse')
const EV_PFADD = eventName('pfadd')
const T_GETREG = token('getreg')
const T_DECODE = token('decode')
const T_ENCODING = token('encoding')
const T_TODENSE = token('todense')

/** hll-sparse-max-bytes, as CONFIG SET left it (a shared word pair). */
function sparseMaxBytes (): number { return limitOf(hashLimits.flags, HLL_SPARSE_WORD) }

/** Registers one per byte: the union PFCOUNT and PFMERGE compute. */
const max = new Uint8Array(HLL_REGISTERS)

/**
 * Looks the key up for an HLL command (isHLLObjectOrReply): replies WRONGTYPE or the invalid-HLL
 * error and returns -1 when it holds something else, 0 when missing. Callers that write mark the
 * value raw, as dbUnshareStringValue makes OBJECT ENCODING say "raw".
 */
function lookupHllOrReply (shard: Shard, argv: Argv, i: number, isRead: boolean, out: ReplyWriter): number {
  const { buf, start, len } = argv
  const e = isRead ? shard.lookupRead(buf, start[i], len[i]) : shard.lookup(buf, start[i], len[i])
  if (e === 0) return 0
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return -1 }
  if (!isHll(ks.arena.u8, ks.valOffset(e), ks.valLen(e))) { out.raw(NOT_HLL); return -1 }
  return e
}

/** Writes the scratch HLL as the key's value (a new key when e is 0); 0 when the arena is full. */
function storeWork (shard: Shard, argv: Argv, i: number, e: number): number {
  const ks = shard.ks
  if (e === 0) {
    shard.lookup(argv.buf, argv.start[i], argv.len[i]) // sets lastHash for the insert
    e = ks.insert(argv.buf, argv.start[i], argv.len[i], shard.lastHash, TYPE_STRING, workLen)
  } else if (ks.valLen(e) !== workLen) {
    e = ks.resizeValue(e, workLen)
  }
  if (e === 0) return 0
  writes.count++
  ks.arena.u8.set(work.subarray(0, workLen), ks.valOffset(e))
  ks.setRaw(e, true)
  return e
}

export function pfaddCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const ks = shard.ks
  const e = lookupHllOrReply(shard, argv, 1, false, out)
  if (e < 0) return
  let updated = 0
  if (e === 0) {
    emptyWork()
    updated = 1
  } else {
    ks.setRaw(e, true)
    const v = ks.valOffset(e)
    const u8 = ks.arena.u8
    if (u8[v + 4] === ENC_DENSE) {
      // Dense: registers change in place, the size never does.
      const r = v + HLL_HDR
      for (let j = 2; j < argc; j++) {
        const count = patLen(buf, start[j], len[j])
        if (denseGet(u8, r, patIndex) < count) { denseSet(u8, r, patIndex, count); updated++ }
      }
      if (updated > 0) {
        writes.count++
        invalidateCache(u8, v)
        shard.notify(NOTIFY_STRING, EV_PFADD, buf, start[1], len[1])
      }
      ownDirty.n = updated
      out.raw(updated > 0 ? ONE : ZERO)
      return
    }
    loadWork(u8, v, ks.valLen(e))
  }
  const maxBytes = sparseMaxBytes()
  for (let j = 2; j < argc; j++) {
    const count = patLen(buf, start[j], len[j])
    const r = workSet(patIndex, count, maxBytes)
    if (r < 0) {
      // Redis edits in place: what the elements before the corrupt spot changed stays.
      if (updated > 0 && storeWork(shard, argv, 1, e) === 0) { out.raw(OOM); return }
      ownDirty.n = updated
      out.raw(CORRUPT)
      return
    }
    updated += r
  }
  if (updated > 0) {
    invalidateCache(work, 0)
    if (storeWork(shard, argv, 1, e) === 0) { out.raw(OOM); return }
    shard.notify(NOTIFY_STRING, EV_PFADD, buf, start[1], len[1])
  }
  // Redis's dirty: the registers changed, and 1 for a key made.
  ownDirty.n = updated
  out.raw(updated > 0 ? ONE : ZERO)
}

function replyCached (u8: Uint8Array, v: number, out: ReplyWriter): void {
  const lo = (u8[v + 8] | (u8[v + 9] << 8) | (u8[v + 10] << 16) | (u8[v + 11] << 24)) >>> 0
  const hi = (u8[v + 12] | (u8[v + 13] << 8) | (u8[v + 14] << 16) | (u8[v + 15] << 24)) >>> 0
  if (hi < 0x200000) out.int(hi * 0x100000000 + lo)
  else out.bigint((BigInt(hi) << 32n) | BigInt(lo))
}

export function pfcountCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { argc } = argv
  const ks = shard.ks
  if (argc > 2) {
    // The union's cardinality, from a one-register-per-byte copy: no key is written.
    max.fill(0)
    for (let j = 1; j < argc; j++) {
      const e = lookupHllOrReply(shard, argv, j, true, out)
      if (e < 0) return
      if (e === 0) continue
      if (!hllMerge(max, ks.arena.u8, ks.valOffset(e), ks.valLen(e))) { out.raw(CORRUPT); return }
    }
    out.int(rawCount(max))
    return
  }
  const e = lookupHllOrReply(shard, argv, 1, true, out)
  if (e < 0) return
  if (e === 0) { out.raw(ZERO); return }
  ks.setRaw(e, true)
  const u8 = ks.arena.u8
  const v = ks.valOffset(e)
  if (!isCacheValid(u8, v)) {
    const card = hllCount(u8, v, ks.valLen(e))
    if (card < 0) { out.raw(CORRUPT); return }
    // The cache lives in the value: a read that changes the string. Redis signals the key (WATCH
    // and CLIENT TRACKING: writes.signals, which the run paths act on for any command) and counts
    // it in its dirty (PFCOUNT is no write command, so it adds its own).
    writes.count++
    writes.signals++
    shard.dirty++
    let c = card
    for (let i = 0; i < 8; i++) { u8[v + 8 + i] = c % 256; c = Math.floor(c / 256) }
  }
  replyCached(u8, v, out)
}

/**
 * Writes the union in `max` into the HLL at argv[i] (created sparse when missing), dense first
 * when a source was dense: pfmergeCommand's second half.
 */
function mergeStore (shard: Shard, argv: Argv, i: number, useDense: boolean, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  if (!ks.arena.reserve(64 + len[i] + 2 * HLL_DENSE_SIZE)) { out.raw(OOM); return }
  const e = shard.lookup(buf, start[i], len[i])
  if (e === 0) emptyWork()
  else loadWork(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
  if (useDense && !workToDense()) { out.raw(CORRUPT); return }
  const maxBytes = sparseMaxBytes()
  for (let j = 0; j < HLL_REGISTERS; j++) if (max[j] !== 0) workSet(j, max[j], maxBytes)
  invalidateCache(work, 0)
  if (storeWork(shard, argv, i, e) === 0) { out.raw(OOM); return }
  // Redis sends "pfadd" for PFMERGE too.
  shard.notify(NOTIFY_STRING, EV_PFADD, buf, start[i], len[i])
  out.raw(OK)
}

export function pfmergeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const ks = shard.ks
  max.fill(0)
  let isAnyDense = false
  for (let j = 1; j < argv.argc; j++) {
    const e = lookupHllOrReply(shard, argv, j, true, out)
    if (e < 0) return
    if (e === 0) continue
    const u8 = ks.arena.u8
    const v = ks.valOffset(e)
    if (u8[v + 4] === ENC_DENSE) isAnyDense = true
    if (!hllMerge(max, u8, v, ks.valLen(e))) { out.raw(CORRUPT); return }
  }
  mergeStore(shard, argv, 1, isAnyDense, out)
}

/**
 * Across shards: each key read with GET on its shard and merged here, in argument order (the
 * first bad key gives the error, as in Redis). Its own registers: transactions on other shards
 * run their coord functions meanwhile. Returns an error reply, or the union and whether any
 * source was dense.
 */
async function unionCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array | { regs: Uint8Array, isDense: boolean }> {
  const regs = new Uint8Array(HLL_REGISTERS)
  let isDense = false
  for (let j = 1; j < argv.argc; j++) {
    const key = argBytes(argv.buf, argv.start[j], argv.len[j])
    const r = await tx.run(tx.shardOf(key, 0, key.length), 'get', [key])
    if (isErrorReply(r)) return r
    if (isNullReply(r)) continue
    const v = bulkPayload(r)
    if (!isHll(v, 0, v.length)) return NOT_HLL
    if (v[4] === ENC_DENSE) isDense = true
    if (!hllMerge(regs, v, 0, v.length)) return CORRUPT
  }
  return { regs, isDense }
}

async function pfcountCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const u = await unionCoord(tx, argv)
  if (u instanceof Uint8Array) return u
  return Buffer.from(`:${rawCount(u.regs)}\r\n`, 'latin1')
}

async function pfmergeCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const u = await unionCoord(tx, argv)
  if (u instanceof Uint8Array) return u
  const dst = argBytes(argv.buf, argv.start[1], argv.len[1])
  return await tx.run(tx.shardOf(dst, 0, dst.length), '__pfstore', [dst, u.isDense ? ONE_BYTE : ZERO_BYTE, u.regs])
}

const ONE_BYTE = Buffer.from('1')
const ZERO_BYTE = Buffer.from('0')

/** __pfstore dst dense(0|1) registers: PFMERGE's write on the destination's shard. */
export function pfstoreStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  max.set(argv.buf.subarray(argv.start[3], argv.start[3] + HLL_REGISTERS))
  mergeStore(shard, argv, 1, argv.buf[argv.start[2]] === 49, out)
}

// --- PFDEBUG (pfdebugCommand) ------------------------------------------------------------------

export function pfdebugCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const e = lookupHllOrReply(shard, argv, 2, false, out)
  if (e < 0) return
  if (e === 0) { out.raw(NO_KEY); return }
  ks.setRaw(e, true)
  const u8 = ks.arena.u8
  const v = ks.valOffset(e)
  const isSparse = u8[v + 4] === ENC_SPARSE
  if (equalsLower(buf, start[1], len[1], T_GETREG) || equalsLower(buf, start[1], len[1], T_TODENSE)) {
    const isGetreg = equalsLower(buf, start[1], len[1], T_GETREG)
    let n = e
    if (isSparse) {
      // Both turn a sparse HLL dense for good, cached cardinality kept.
      loadWork(u8, v, ks.valLen(e))
      if (!workToDense()) { out.raw(CORRUPT); return }
      n = storeWork(shard, argv, 2, e)
      if (n === 0) { out.raw(OOM); return }
    }
    if (!isGetreg) { out.raw(isSparse ? ONE : ZERO); return }
    const r = ks.valOffset(n) + HLL_HDR
    out.arrayHeader(HLL_REGISTERS)
    for (let j = 0; j < HLL_REGISTERS; j++) out.int(denseGet(ks.arena.u8, r, j))
    return
  }
  if (equalsLower(buf, start[1], len[1], T_DECODE)) {
    if (!isSparse) { out.raw(NOT_SPARSE); return }
    const parts: string[] = []
    const end = v + ks.valLen(e)
    for (let p = v + HLL_HDR; p < end;) {
      const op = u8[p]
      if ((op & 0xc0) === 0) { parts.push(`z:${(op & 0x3f) + 1}`); p++ } else if ((op & 0xc0) === 0x40) {
        // A truncated XZERO reads the byte after the string: Redis's sds ends in a NUL.
        parts.push(`Z:${(((op & 0x3f) << 8) | (p + 1 < end ? u8[p + 1] : 0)) + 1}`); p += 2
      } else { parts.push(`v:${((op >>> 2) & 0x1f) + 1},${(op & 3) + 1}`); p++ }
    }
    out.bulkStr(parts.join(' '))
    return
  }
  if (equalsLower(buf, start[1], len[1], T_ENCODING)) {
    out.status(isSparse ? 'sparse' : 'dense')
    return
  }
  out.raw(errorReply(`ERR Unknown PFDEBUG subcommand '${Buffer.from(buf.subarray(start[1], start[1] + len[1])).toString('latin1')}'`))
}

// --- PFSELFTEST (pfselftestCommand) -------------------------------------------------------------

/** About a second of work on one shard (Redis's takes a third of one, blocking everything). */
export function pfselftestCommand (_shard: Shard, _argv: Argv, out: ReplyWriter): void {
  const failed = selfTest(sparseMaxBytes())
  out.raw(failed === null ? OK : errorReply(`ERR ${failed}`))
}

const HLL = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'hyperloglog' } as const

export const hyperloglogCommands: CommandSpec[] = [
  { ...HLL, name: 'pfadd', arity: -2, flags: ['write', 'denyoom', 'fast'], since: '2.8.9', summary: 'Adds the specified elements to the specified HyperLogLog.', complexity: 'O(1) to add every element.', keySpecs: [{ flags: ['RW', 'insert'] }], run: pfaddCommand },
  { ...HLL, name: 'pfcount', arity: -2, flags: ['readonly', 'may_replicate'], lastKey: -1, route: 'coord', since: '2.8.9', summary: 'Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).', complexity: 'O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.', keySpecs: [{ flags: ['RW', 'access'], notes: 'RW because it may change the internal representation of the key, and propagate to replicas', range: { lastkey: -1, keystep: 1, limit: 0 } }], run: pfcountCommand, coord: pfcountCoord },
  { ...HLL, name: 'pfdebug', arity: 3, flags: ['write', 'denyoom', 'admin'], firstKey: 2, lastKey: 2, since: '2.8.9', summary: 'Internal commands for debugging HyperLogLog values', complexity: 'N/A', keySpecs: [{ flags: ['RW', 'access'] }], run: pfdebugCommand },
  { ...HLL, name: 'pfmerge', arity: -2, flags: ['write', 'denyoom'], lastKey: -1, route: 'coord', since: '2.8.9', summary: 'Merge N different HyperLogLogs into a single one.', complexity: 'O(N) to merge N HyperLogLogs, but with high constant times.', keySpecs: [{ flags: ['RW', 'access', 'insert'], index: 1, range: { lastkey: 0, keystep: 1, limit: 0 } }, { flags: ['RO', 'access'], index: 2, range: { lastkey: -1, keystep: 1, limit: 0 } }], run: pfmergeCommand, coord: pfmergeCoord },
  // No keys: it runs on shard 0, the one shard with a keyless route of its own.
  { ...HLL, name: 'pfselftest', arity: 1, flags: ['admin'], firstKey: 0, lastKey: 0, step: 0, route: 'hub', since: '2.8.9', summary: 'An internal command for testing HyperLogLog values', complexity: 'N/A', run: pfselftestCommand },
]

export const hyperloglogInternalCommands: CommandSpec[] = [
  { name: '__pfstore', arity: 4, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: pfstoreStepCommand },
]
