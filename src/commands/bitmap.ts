// Bitmap commands over string values (Redis 7.0's bitops.c): SETBIT, GETBIT, BITCOUNT and BITPOS
// with BYTE|BIT ranges, and BITOP (across shards on the transaction engine). Bits are numbered
// from the most significant bit of the first byte, as in Redis.

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
  if (e === 0) {
    e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_STRING, byte + 1)
    if (e === 0) { out.raw(OOM); return }
    ks.arena.u8.fill(0, ks.valOffset(e), ks.valOffset(e) + byte + 1)
  } else {
    if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
    const oldLen = ks.valLen(e)
    if (byte >= oldLen) {
      e = growString(shard, e, oldLen, byte + 1)
      if (e === 0) { out.raw(OOM); return }
      ks.arena.u8.fill(0, ks.valOffset(e) + oldLen, ks.valOffset(e) + byte + 1)
    }
  }
  const u8 = ks.arena.u8
  const p = ks.valOffset(e) + byte
  const mask = 1 << (7 - (offset & 7))
  const old = (u8[p] & mask) !== 0
  writes.count++
  u8[p] = on === 1 ? u8[p] | mask : u8[p] & ~mask
  ks.setRaw(e, true)
  shard.notify(NOTIFY_STRING, EV_SETBIT, buf, start[1], len[1])
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
  let isBit = false
  if (argc === 5) {
    const u = unitArg(argv, 4)
    if (u === null) { out.raw(SYNTAX_ERR); return }
    isBit = u
  }
  // Both from the end and crossed: nothing, before they are converted (Redis checks this first).
  if (s < 0 && t < 0 && s > t) { out.raw(ZERO); return }
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
    if (old !== 0) { ks.remove(old); shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[2], len[2]) }
    out.raw(ZERO)
    return
  }
  if (old !== 0) ks.remove(old)
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

const BITMAP = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'bitmap' } as const

export const bitmapCommands: CommandSpec[] = [
  { ...BITMAP, name: 'bitcount', arity: -2, flags: ['readonly'], since: '2.6.0', summary: 'Count set bits in a string', complexity: 'O(N)', keySpecs: [{ flags: ['RO', 'access'] }], run: bitcountCommand },
  { ...BITMAP, name: 'bitop', arity: -4, flags: ['write', 'denyoom'], firstKey: 2, lastKey: -1, route: 'coord', since: '2.6.0', summary: 'Perform bitwise operations between strings', complexity: 'O(N)', keySpecs: [{ flags: ['OW', 'update'], index: 2, range: { lastkey: 0, keystep: 1, limit: 0 } }, { flags: ['RO', 'access'], index: 3, range: { lastkey: -1, keystep: 1, limit: 0 } }], run: bitopCommand, coord: bitopCoord },
  { ...BITMAP, name: 'bitpos', arity: -3, flags: ['readonly'], since: '2.8.7', summary: 'Find first bit set or clear in a string', complexity: 'O(N)', keySpecs: [{ flags: ['RO', 'access'] }], run: bitposCommand },
  { ...BITMAP, name: 'getbit', arity: 3, flags: ['readonly', 'fast'], since: '2.2.0', summary: 'Returns the bit value at offset in the string value stored at key', complexity: 'O(1)', keySpecs: [{ flags: ['RO', 'access'] }], run: getbitCommand },
  { ...BITMAP, name: 'setbit', arity: 4, flags: ['write', 'denyoom'], since: '2.2.0', summary: 'Sets or clears the bit at offset in the string value stored at key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'update'] }], run: setbitCommand },
]

export const bitmapInternalCommands: CommandSpec[] = [
  { name: '__bitstore', arity: 4, flags: ['write'], firstKey: 2, lastKey: 2, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: bitstoreStepCommand },
]
