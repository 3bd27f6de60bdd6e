// Bitmap commands over string values (Redis 7.0's bitops.c): SETBIT, GETBIT, BITCOUNT and BITPOS
// with BYTE|BIT ranges, and BITOP (across shards on the transaction engine). Bits are numbered
// from the most significant bit of the first byte, as in Redis.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_STRING } from '../storage/keyspace.js'
import { writes } from '../storage/writes.js'
import { ZERO, ONE } from '../protocol/replies.js'
import { WRONGTYPE, NOT_INTEGER, SYNTAX_ERR, OOM, errorReply } from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { NOTIFY_GENERIC, NOTIFY_STRING, eventName } from '../storage/notify.js'
import { growString } from './string.js'
import { ownDirty } from '../persistence/dirty.js'
import { argBytes, isErrorReply, isNullReply, bulkPayload } from './txn-helpers.js'

const OFFSET_ERR = errorReply('ERR bit offset is not an integer or out of range')
const BIT_ERR = errorReply('ERR bit is not an integer or out of range')
const BITPOS_BIT = errorReply('ERR The bit argument must be 1 or 0.')
const NOT_ONE_KEY = errorReply('ERR BITOP NOT must be called with a single source key.')
const EV_SETBIT = eventName('setbit')
const EV_SET = eventName('set')
const EV_DEL = eventName('del')
const T_BYTE = token('byte')
const T_BIT = token('bit')
const T_AND = token('and')
const T_OR = token('or')
const T_XOR = token('xor')
const T_NOT = token('not')
/** proto-max-bulk-len (512 MB): the last addressable bit is 2^32 - 1. */
const MAX_BIT = 512 * 1024 * 1024 * 8

/** getBitOffsetFromArgument: a bit offset within 512 MB, or -1. */
function bitOffset (argv: Argv, i: number): number {
  if (!parseInt64(argv.buf, argv.start[i], argv.len[i]) || parsed.isBig) return -1
  const v = parsed.value
  return v < 0 || v >= MAX_BIT ? -1 : v
}

export function setbitCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const offset = bitOffset(argv, 2)
  if (offset < 0) { out.raw(OFFSET_ERR); return }
  if (!parseInt64(buf, start[3], len[3]) || parsed.isBig || (parsed.value !== 0 && parsed.value !== 1)) { out.raw(BIT_ERR); return }
  const on = parsed.value
  const byte = Math.floor(offset / 8)
  const ks = shard.ks
  let e = shard.lookup(buf, start[1], len[1])
  let isGrown = true
  if (e === 0) {
    e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_STRING, byte + 1)
    if (e === 0) { out.raw(OOM); return }
    ks.arena.u8.fill(0, ks.valOffset(e), ks.valOffset(e) + byte + 1)
  } else {
    if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
    const oldLen = ks.valLen(e)
    isGrown = byte >= oldLen
    if (isGrown) {
      e = growString(shard, e, oldLen, byte + 1)
      if (e === 0) { out.raw(OOM); return }
      ks.arena.u8.fill(0, ks.valOffset(e) + oldLen, ks.valOffset(e) + byte + 1)
    }
  }
  const u8 = ks.arena.u8
  const p = ks.valOffset(e) + byte
  const mask = 1 << (7 - (offset & 7))
  const old = (u8[p] & mask) !== 0
  ks.setRaw(e, true)
  // setbitCommand: a bit left as it was in a string neither made nor grown changes nothing (no
  // event, no WATCH touch, no dirty).
  if (isGrown || old !== (on === 1)) {
    writes.count++
    u8[p] = on === 1 ? u8[p] | mask : u8[p] & ~mask
    shard.notify(NOTIFY_STRING, EV_SETBIT, buf, start[1], len[1])
  }
  out.raw(old ? ONE : ZERO)
}

export function getbitCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const offset = bitOffset(argv, 2)
  if (offset < 0) { out.raw(OFFSET_ERR); return }
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  const byte = Math.floor(offset / 8)
  if (byte >= ks.valLen(e)) { out.raw(ZERO); return }
  out.raw((ks.arena.u8[ks.valOffset(e) + byte] & (1 << (7 - (offset & 7)))) !== 0 ? ONE : ZERO)
}

function popcount8 (b: number): number {
  b = b - ((b >>> 1) & 0x55)
  b = (b & 0x33) + ((b >>> 2) & 0x33)
  return (b + (b >>> 4)) & 0x0f
}

/** Reads an int64 argument into a double (ranges past 2^53 only clamp, so the rounding is harmless). */
function int64Arg (argv: Argv, i: number): number | null {
  if (!parseInt64(argv.buf, argv.start[i], argv.len[i])) return null
  return parsed.isBig ? Number(parsed.big) : parsed.value
}

/** BYTE (false) or BIT (true) at argv[i], or null for anything else. */
function unitArg (argv: Argv, i: number): boolean | null {
  if (equalsLower(argv.buf, argv.start[i], argv.len[i], T_BYTE)) return false
  if (equalsLower(argv.buf, argv.start[i], argv.len[i], T_BIT)) return true
  return null
}

export function bitcountCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { argc } = argv
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.raw(ZERO); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  const strlen = ks.valLen(e)
  const v = ks.valOffset(e)
  const u8 = ks.arena.u8
  if (argc === 2) {
    let n = 0
    for (let i = 0; i < strlen; i++) n += popcount8(u8[v + i])
    out.int(n)
    return
  }
  if (argc !== 4 && argc !== 5) { out.raw(SYNTAX_ERR); return }
  let s = int64Arg(argv, 2)
  if (s === null) { out.raw(NOT_INTEGER); return }
  let t = int64Arg(argv, 3)
  if (t === null) { out.raw(NOT_INTEGER); return }
  // Both from the end and crossed: nothing, before they are converted, and before the unit is
  // read (Redis checks this first: BITCOUNT k -1 -2 FOO is 0).
  if (s < 0 && t < 0 && s > t) { out.raw(ZERO); return }
  let isBit = false
  if (argc === 5) {
    const u = unitArg(argv, 4)
    if (u === null) { out.raw(SYNTAX_ERR); return }
    isBit = u
  }
  const total = isBit ? strlen * 8 : strlen
  if (s < 0) s += total
  if (t < 0) t += total
  if (s < 0) s = 0
  if (t < 0) t = 0
  if (t >= total) t = total - 1
  if (s > t || total === 0) { out.raw(ZERO); return }
  let n = 0
  if (!isBit) {
    for (let i = s; i <= t; i++) n += popcount8(u8[v + i])
  } else {
    for (let b = s; b <= t; b++) if ((u8[v + (b >>> 3)] & (1 << (7 - (b & 7)))) !== 0) n++
  }
  out.int(n)
}

export function bitposCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { argc } = argv
  const bitArg = int64Arg(argv, 2)
  if (bitArg === null) { out.raw(NOT_INTEGER); return }
  if (bitArg !== 0 && bitArg !== 1) { out.raw(BITPOS_BIT); return }
  const bit = bitArg
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.int(bit === 1 ? -1 : 0); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  const strlen = ks.valLen(e)
  let isBit = false
  let isEndGiven = false
  let s = 0
  let t = strlen - 1
  if (argc >= 4 && argc <= 6) {
    const a = int64Arg(argv, 3)
    if (a === null) { out.raw(NOT_INTEGER); return }
    s = a
    if (argc === 6) {
      const u = unitArg(argv, 5)
      if (u === null) { out.raw(SYNTAX_ERR); return }
      isBit = u
    }
    if (argc >= 5) {
      const b = int64Arg(argv, 4)
      if (b === null) { out.raw(NOT_INTEGER); return }
      t = b
      isEndGiven = true
    } else {
      t = isBit ? strlen * 8 - 1 : strlen - 1
    }
    const total = isBit ? strlen * 8 : strlen
    if (s < 0) s += total
    if (t < 0) t += total
    if (s < 0) s = 0
    if (t < 0) t = 0
    if (t >= total) t = total - 1
  } else if (argc !== 3) {
    out.raw(SYNTAX_ERR)
    return
  }
  if (s > t) { out.int(-1); return }
  const u8 = ks.arena.u8
  const v = ks.valOffset(e)
  // In bits: the first and last bit of the range.
  const first = isBit ? s : s * 8
  const last = isBit ? t : t * 8 + 7
  for (let b = first; b <= last; b++) {
    const set = (u8[v + (b >>> 3)] & (1 << (7 - (b & 7)))) !== 0
    if (set === (bit === 1)) { out.int(b); return }
  }
  // Looking for a clear bit with no end given: the string is zero-padded past its end.
  if (bit === 0 && !isEndGiven) { out.int(last + 1); return }
  out.int(-1)
}

// --- BITOP (bitopCommand) ----------------------------------------------------------------------------

const OP_AND = 0
const OP_OR = 1
const OP_XOR = 2
const OP_NOT = 3

function opOf (argv: Argv): number {
  const { buf, start, len } = argv
  if (equalsLower(buf, start[1], len[1], T_AND)) return OP_AND
  if (equalsLower(buf, start[1], len[1], T_OR)) return OP_OR
  if (equalsLower(buf, start[1], len[1], T_XOR)) return OP_XOR
  if (equalsLower(buf, start[1], len[1], T_NOT)) return OP_NOT
  return -1
}

function compute (op: number, values: readonly Uint8Array[]): Buffer {
  let maxlen = 0
  for (const v of values) if (v.length > maxlen) maxlen = v.length
  const res = Buffer.alloc(maxlen)
  if (maxlen === 0) return res
  if (op === OP_NOT) {
    const v = values[0]
    for (let i = 0; i < maxlen; i++) res[i] = ~v[i] & 255
    return res
  }
  for (let i = 0; i < maxlen; i++) {
    let acc = i < values[0].length ? values[0][i] : 0
    for (let k = 1; k < values.length; k++) {
      const b = i < values[k].length ? values[k][i] : 0
      acc = op === OP_AND ? acc & b : op === OP_OR ? acc | b : acc ^ b
    }
    res[i] = acc
  }
  return res
}

/** Writes the result at argv[2] as a raw string ("set"), or deletes it when empty ("del"). */
function storeResult (shard: Shard, argv: Argv, res: Uint8Array, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  if (!ks.arena.reserve(64 + len[2] + res.length * 2)) { out.raw(OOM); return }
  const old = shard.lookup(buf, start[2], len[2])
  if (res.length === 0) {
    if (old !== 0) { shard.removeOverwritten(ks, old); shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[2], len[2]) }
    out.raw(ZERO)
    return
  }
  if (old !== 0) shard.removeOverwritten(ks, old)
  const e = ks.insert(buf, start[2], len[2], shard.lastHash, TYPE_STRING, res.length)
  if (e === 0) { out.raw(OOM); return }
  ks.arena.u8.set(res, ks.valOffset(e))
  ks.setRaw(e, true)
  shard.notify(NOTIFY_STRING, EV_SET, buf, start[2], len[2])
  out.int(res.length)
}

export function bitopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const op = opOf(argv)
  if (op < 0) { out.raw(SYNTAX_ERR); return }
  if (op === OP_NOT && argv.argc !== 4) { out.raw(NOT_ONE_KEY); return }
  const values: Uint8Array[] = []
  const ks = shard.ks
  for (let i = 3; i < argv.argc; i++) {
    const e = shard.lookupRead(argv.buf, argv.start[i], argv.len[i])
    if (e === 0) { values.push(new Uint8Array(0)); continue }
    if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
    values.push(Buffer.from(ks.arena.u8.subarray(ks.valOffset(e), ks.valOffset(e) + ks.valLen(e))))
  }
  storeResult(shard, argv, compute(op, values), out)
}

/** Across shards: each source read with GET on its shard, the result written by __bitstore. */
async function bitopCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const op = opOf(argv)
  if (op < 0) return SYNTAX_ERR
  if (op === OP_NOT && argv.argc !== 4) return NOT_ONE_KEY
  const values: Uint8Array[] = []
  for (let i = 3; i < argv.argc; i++) {
    const key = argBytes(argv.buf, argv.start[i], argv.len[i])
    const r = await tx.run(tx.shardOf(key, 0, key.length), 'get', [key])
    if (isErrorReply(r)) return r
    values.push(isNullReply(r) ? new Uint8Array(0) : Buffer.from(bulkPayload(r)))
  }
  const dst = argBytes(argv.buf, argv.start[2], argv.len[2])
  return await tx.run(tx.shardOf(dst, 0, dst.length), '__bitstore', [Buffer.from('x'), dst, compute(op, values)])
}

/** __bitstore x dst value: BITOP's result written on the destination's shard (argv[2] is dst, as in BITOP). */
export function bitstoreStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  storeResult(shard, argv, argv.buf.subarray(argv.start[3], argv.start[3] + argv.len[3]), out)
}

// --- BITFIELD, BITFIELD_RO (bitfieldGeneric) -----------------------------------------------------------

const BF_TYPE = errorReply('ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.')
const BF_OVERFLOW = errorReply('ERR Invalid OVERFLOW type specified')
const BF_RO = errorReply('ERR BITFIELD_RO only supports the GET subcommand')
const T_GET = token('get')
const T_SET = token('set')
const T_INCRBY = token('incrby')
const T_OVERFLOW = token('overflow')
const T_WRAP = token('wrap')
const T_SAT = token('sat')
const T_FAIL = token('fail')
const OW_WRAP = 0
const OW_SAT = 1
const OW_FAIL = 2
const BF_GET = 0
const BF_SET = 1
const BF_INCRBY = 2

interface BitfieldOp { op: number, isSigned: boolean, bits: number, offset: number, value: bigint, overflow: number }

/** i1..i64 or u1..u63: [isSigned, bits], or null. */
function bitfieldType (argv: Argv, i: number): [boolean, number] | null {
  const { buf, start, len } = argv
  const c = buf[start[i]] | 32
  if (len[i] < 2 || (c !== 105 && c !== 117)) return null
  if (!parseInt64(buf, start[i] + 1, len[i] - 1) || parsed.isBig) return null
  const bits = parsed.value
  const isSigned = c === 105
  if (bits < 1 || (isSigned && bits > 64) || (!isSigned && bits > 63)) return null
  return [isSigned, bits]
}

/** A bit offset, '#n' meaning n * bits, within 2^32 - 1; -1 when invalid. */
function bitfieldOffset (argv: Argv, i: number, bits: number): number {
  const { buf, start, len } = argv
  const isHash = len[i] > 0 && buf[start[i]] === 35
  if (!parseInt64(buf, start[i] + (isHash ? 1 : 0), len[i] - (isHash ? 1 : 0)) || parsed.isBig) return -1
  let v = parsed.value
  if (isHash) v *= bits
  return v < 0 || v >= MAX_BIT ? -1 : v
}

/** The field's bits as an unsigned BigInt (bits past the string's end read as zero). */
function readField (u8: Uint8Array, v: number, strlen: number, offset: number, bits: number): bigint {
  let r = 0n
  for (let k = 0; k < bits; k++) {
    const b = offset + k
    const byte = b >>> 3
    const bit = byte < strlen ? (u8[v + byte] >> (7 - (b & 7))) & 1 : 0
    r = (r << 1n) | BigInt(bit)
  }
  return r
}

function writeField (u8: Uint8Array, v: number, offset: number, bits: number, value: bigint): void {
  const u = BigInt.asUintN(bits, value)
  for (let k = 0; k < bits; k++) {
    const b = offset + k
    const bit = Number((u >> BigInt(bits - 1 - k)) & 1n)
    const p = v + (b >>> 3)
    const mask = 1 << (7 - (b & 7))
    u8[p] = bit === 1 ? u8[p] | mask : u8[p] & ~mask
  }
}

/**
 * Redis's check(Un)signedBitfieldOverflow for value + incr, to the bit: its limits are computed
 * in 64-bit arithmetic that wraps (max - value may overflow), and so are its decisions. Returns
 * the result, or null when FAIL refuses it (WRAP wraps modulo 2^bits, SAT clamps).
 */
function fitField (value: bigint, incr: bigint, isSigned: boolean, bits: number, overflow: number): bigint | null {
  const b = BigInt(bits)
  const wrap = (): bigint => isSigned ? BigInt.asIntN(bits, value + incr) : BigInt.asUintN(bits, value + incr)
  let dir = 0
  let max: bigint
  let min = 0n
  if (isSigned) {
    max = bits === 64 ? (1n << 63n) - 1n : (1n << (b - 1n)) - 1n
    min = -max - 1n
    const maxincr = BigInt.asIntN(64, max - value)
    const minincr = BigInt.asIntN(64, min - value)
    if (value > max || (bits !== 64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) dir = 1
    else if (value < min || (bits !== 64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) dir = -1
  } else {
    max = (1n << b) - 1n
    const u = BigInt.asUintN(64, value)
    const maxincr = BigInt.asIntN(64, BigInt.asUintN(64, max - u))
    const minincr = BigInt.asIntN(64, BigInt.asUintN(64, -u))
    if (u > max || (incr > 0n && incr > maxincr)) dir = 1
    else if (incr < 0n && incr < minincr) dir = -1
    value = u
  }
  if (dir === 0) return isSigned ? value + incr : BigInt.asUintN(bits, value + incr)
  if (overflow === OW_FAIL) return null
  if (overflow === OW_SAT) return dir > 0 ? max : min
  return wrap()
}

function bitfieldGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isReadOnly: boolean): void {
  const { buf, start, len, argc } = argv
  const ops: BitfieldOp[] = []
  let overflow = OW_WRAP
  let writeEnd = -1
  for (let j = 2; j < argc; j++) {
    const rem = argc - j - 1
    let op = -1
    if (equalsLower(buf, start[j], len[j], T_GET) && rem >= 2) op = BF_GET
    else if (equalsLower(buf, start[j], len[j], T_SET) && rem >= 3) op = BF_SET
    else if (equalsLower(buf, start[j], len[j], T_INCRBY) && rem >= 3) op = BF_INCRBY
    else if (equalsLower(buf, start[j], len[j], T_OVERFLOW) && rem >= 1) {
      j++
      if (equalsLower(buf, start[j], len[j], T_WRAP)) overflow = OW_WRAP
      else if (equalsLower(buf, start[j], len[j], T_SAT)) overflow = OW_SAT
      else if (equalsLower(buf, start[j], len[j], T_FAIL)) overflow = OW_FAIL
      else { out.raw(BF_OVERFLOW); return }
      continue
    } else { out.raw(SYNTAX_ERR); return }
    const type = bitfieldType(argv, j + 1)
    if (type === null) { out.raw(BF_TYPE); return }
    const offset = bitfieldOffset(argv, j + 2, type[1])
    if (offset < 0) { out.raw(OFFSET_ERR); return }
    let value = 0n
    if (op !== BF_GET) {
      if (!parseInt64(buf, start[j + 3], len[j + 3])) { out.raw(NOT_INTEGER); return }
      value = parsed.isBig ? parsed.big : BigInt(parsed.value)
      if (isReadOnly) { out.raw(BF_RO); return }
      writeEnd = Math.max(writeEnd, offset + type[1] - 1)
    }
    ops.push({ op, isSigned: type[0], bits: type[1], offset, value, overflow })
    j += op === BF_GET ? 2 : 3
  }
  const ks = shard.ks
  let e: number
  /** The key made or grown by this command (lookupStringForBitCommand's `dirty`). */
  let isGrown = true
  const countBefore = writes.count
  if (writeEnd < 0) {
    e = shard.lookupRead(buf, start[1], len[1])
    if (e !== 0 && ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  } else {
    // lookupStringForBitCommand: made or grown (zero bytes) to hold the highest bit written.
    const bytes = Math.floor(writeEnd / 8) + 1
    e = shard.lookup(buf, start[1], len[1])
    if (e === 0) {
      e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_STRING, bytes)
      if (e === 0) { out.raw(OOM); return }
      ks.arena.u8.fill(0, ks.valOffset(e), ks.valOffset(e) + bytes)
    } else {
      if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
      const oldLen = ks.valLen(e)
      isGrown = bytes > oldLen
      if (isGrown) {
        e = growString(shard, e, oldLen, bytes)
        if (e === 0) { out.raw(OOM); return }
        ks.arena.u8.fill(0, ks.valOffset(e) + oldLen, ks.valOffset(e) + bytes)
      }
    }
    // Made raw whatever the ops then do (dbUnshareStringValue): an OVERFLOW FAIL that writes
    // nothing still leaves OBJECT ENCODING raw.
    ks.setRaw(e, true)
  }
  const u8 = ks.arena.u8
  const v = e === 0 ? 0 : ks.valOffset(e)
  const strlen = e === 0 ? 0 : ks.valLen(e)
  let changes = 0
  out.arrayHeader(ops.length)
  for (const o of ops) {
    const raw = readField(u8, v, strlen, o.offset, o.bits)
    const old = o.isSigned ? BigInt.asIntN(o.bits, raw) : raw
    if (o.op === BF_GET) { out.bigint(old); continue }
    // SET checks its value alone (as value + 0); INCRBY the sum.
    const r = o.op === BF_SET ? fitField(o.value, 0n, o.isSigned, o.bits, o.overflow) : fitField(old, o.value, o.isSigned, o.bits, o.overflow)
    if (r === null) { out.nullBulk(); continue }
    // bitfieldGeneric counts an op that wrote when the key was made or grown, or the field changed.
    const isChange = isGrown || (o.isSigned ? BigInt.asIntN(o.bits, r) : BigInt.asUintN(o.bits, r)) !== old
    if (isChange) {
      writes.count++
      writeField(u8, v, o.offset, o.bits, r)
      changes++
    }
    out.bigint(o.op === BF_SET ? old : r)
  }
  // Redis's dirty: the ops that changed something; none, and nothing is signalled.
  ownDirty.n = changes
  if (changes > 0) {
    shard.notify(NOTIFY_STRING, EV_SETBIT, buf, start[1], len[1])
  } else {
    // Every write failed (OVERFLOW FAIL): the key stays made or grown, as in Redis, but nothing
    // is signalled, so neither WATCH nor the AOF hears of it (the count says nothing changed).
    writes.count = countBefore
  }
}

export function bitfieldCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { bitfieldGeneric(shard, argv, out, false) }
export function bitfieldRoCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { bitfieldGeneric(shard, argv, out, true) }

const BITMAP = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'bitmap' } as const

export const bitmapCommands: CommandSpec[] = [
  { ...BITMAP, name: 'bitcount', arity: -2, flags: ['readonly'], since: '2.6.0', summary: 'Count set bits in a string', complexity: 'O(N)', keySpecs: [{ flags: ['RO', 'access'] }], run: bitcountCommand },
  { ...BITMAP, name: 'bitfield', arity: -2, flags: ['write', 'denyoom'], since: '3.2.0', summary: 'Perform arbitrary bitfield integer operations on strings', complexity: 'O(1) for each subcommand specified', keySpecs: [{ flags: ['RW', 'access', 'update', 'variable_flags'], notes: 'This command allows both access and modification of the key' }], run: bitfieldCommand },
  { ...BITMAP, name: 'bitfield_ro', arity: -2, flags: ['readonly', 'fast'], since: '6.0.0', summary: 'Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD', complexity: 'O(1) for each subcommand specified', keySpecs: [{ flags: ['RO', 'access'] }], run: bitfieldRoCommand },
  { ...BITMAP, name: 'bitop', arity: -4, flags: ['write', 'denyoom'], firstKey: 2, lastKey: -1, route: 'coord', since: '2.6.0', summary: 'Perform bitwise operations between strings', complexity: 'O(N)', keySpecs: [{ flags: ['OW', 'update'], index: 2, range: { lastkey: 0, keystep: 1, limit: 0 } }, { flags: ['RO', 'access'], index: 3, range: { lastkey: -1, keystep: 1, limit: 0 } }], run: bitopCommand, coord: bitopCoord },
  { ...BITMAP, name: 'bitpos', arity: -3, flags: ['readonly'], since: '2.8.7', summary: 'Find first bit set or clear in a string', complexity: 'O(N)', keySpecs: [{ flags: ['RO', 'access'] }], run: bitposCommand },
  { ...BITMAP, name: 'getbit', arity: 3, flags: ['readonly', 'fast'], since: '2.2.0', summary: 'Returns the bit value at offset in the string value stored at key', complexity: 'O(1)', keySpecs: [{ flags: ['RO', 'access'] }], run: getbitCommand },
  { ...BITMAP, name: 'setbit', arity: 4, flags: ['write', 'denyoom'], since: '2.2.0', summary: 'Sets or clears the bit at offset in the string value stored at key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'update'] }], run: setbitCommand },
]

export const bitmapInternalCommands: CommandSpec[] = [
  { name: '__bitstore', arity: 4, flags: ['write'], firstKey: 2, lastKey: 2, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: bitstoreStepCommand },
]
