// Worker-only commands used as steps of cross-shard transactions (server/txn.ts): hold and
// release a shard, and move a whole value between shards as bytes (__dump / __restore, like
// Redis's DUMP/RESTORE but in our own layout); and MULTI/EXEC's (server/multi.ts): watch and
// unwatch keys, run a transaction's commands. Clients cannot call them: lookup skips them.
//
// Across shards, RENAME and COPY emit their keyspace events through these steps, in
// renameGenericCommand's and copyCommand's order: __restore's optional event ("copy_to") after the
// destination is made, __del's ("rename_from") as the source goes, __event's ("rename_to").
//
// value payload: | u8 type | encoding flags | f64 expireAt (LE) | string bytes, or list: (u32 len LE, bytes)* |
// (the string's encoding flags, so that RENAME/COPY across shards keep OBJECT ENCODING)

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { RAW_FLAG, NO_INT_FLAG, entryBlockBytes } from '../storage/keyspace.js'
import { TYPES, PAYLOAD_HEADER_BYTES } from '../storage/types.js'
import { OK, ZERO, ONE } from '../protocol/replies.js'
import { NOTIFY_GENERIC, NOTIFY_KEYSPACE, NOTIFY_KEYEVENT, eventName } from '../storage/notify.js'
import { OOM } from '../protocol/errors.js'

export { PAYLOAD_HEADER_BYTES }

const TOK_KEEPTTL = Buffer.from('keepttl')
/** The generic events a coord handler may ask a step to emit, by their argument bytes. */
const STEP_EVENTS = ['rename_from', 'rename_to', 'copy_to'].map(name => eventName(name))

/** The event named by argv[i] (one of STEP_EVENTS), or null. */
function stepEvent (argv: Argv, i: number): Buffer | null {
  const { buf, start, len } = argv
  for (const ev of STEP_EVENTS) {
    if (ev.length !== len[i]) continue
    let k = 0
    while (k < ev.length && ev[k] === buf[start[i] + k]) k++
    if (k === ev.length) return ev
  }
  return null
}

/** Shard.notify's test: would an event of class `type` be recorded now? */
function notifyOn (shard: Shard, type: number): boolean {
  const f = shard.notifyFlags[0]
  return (f & type) !== 0 && (f & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)) !== 0
}

function isKeepTtl (argv: Argv, i: number): boolean {
  const { buf, start, len } = argv
  if (len[i] !== TOK_KEEPTTL.length) return false
  for (let k = 0; k < TOK_KEEPTTL.length; k++) if ((buf[start[i] + k] | 0x20) !== TOK_KEEPTTL[k]) return false
  return true
}

/** Entry e's value payload (see the layout above), in any of the shard's databases. */
export function valuePayload (ks: Keyspace, e: number): Buffer {
  const type = ks.type(e)
  const ops = TYPES[type]
  const payload = Buffer.allocUnsafe(PAYLOAD_HEADER_BYTES + ops.dumpBytes(ks, e))
  payload[0] = type | ks.encFlags(e)
  payload.writeDoubleLE(ks.expireAt(e), 1)
  ops.dump(ks, e, payload, PAYLOAD_HEADER_BYTES)
  return payload
}

export function dumpCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookup(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.nullBulk(); return }
  out.bulkBuf(valuePayload(shard.ks, e))
}

/**
 * __restore key payload [keepttl] [event]: replaces key with the payload's value (and its TTL,
 * unless keepttl); then emits the generic `event` (COPY's "copy_to") for key, if given.
 */
export function restoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  let keepTtl = false
  let event: Buffer | null = null
  for (let i = 3; i < argv.argc; i++) {
    if (isKeepTtl(argv, i)) keepTtl = true
    else event = stepEvent(argv, i)
  }
  const err = restoreValue(shard, buf, start[1], len[1], buf, start[2], len[2], keepTtl)
  if (err !== null) { out.raw(err); return }
  if (event !== null) shard.notify(NOTIFY_GENERIC, event, buf, start[1], len[1])
  out.raw(OK)
}

/**
 * Replaces key k (kbuf[kStart, +kLen)) in the shard's current database with the value payload
 * at pbuf[p, +pLen) (see the layout above), with the payload's TTL unless keepTtl. Returns null,
 * or the error reply (OOM) with the key as it was.
 */
export function restoreValue (shard: Shard, kbuf: Uint8Array, kStart: number, kLen: number, pbuf: Uint8Array, p: number, pLen: number, keepTtl: boolean): Uint8Array | null {
  const type = pbuf[p] & 7
  const expireAt = Buffer.from(pbuf.buffer, pbuf.byteOffset + p + 1, 8).readDoubleLE(0)
  const ks = shard.ks
  const old = shard.lookup(kbuf, kStart, kLen)
  const dataLen = pLen - PAYLOAD_HEADER_BYTES
  const ops = TYPES[type]
  // Everything the new value takes is reserved before the old value goes: a full arena answers
  // OOM with the destination as it was.
  const need = entryBlockBytes(kLen, ops.valueBytes(dataLen)) + ops.restoreBytes(pbuf, p + PAYLOAD_HEADER_BYTES, p + pLen)
  if (!ks.arena.reserve(need)) return OOM
  const oldExpire = old !== 0 ? ks.expireAt(old) : 0
  if (old !== 0) shard.removeOverwritten(ks, old)
  const e = ks.insert(kbuf, kStart, kLen, shard.lastHash, type, ops.valueBytes(dataLen))
  if (e === 0) return OOM
  ks.setEncFlags(e, pbuf[p] & (RAW_FLAG | NO_INT_FLAG))
  if (!ops.restore(ks, e, pbuf, p + PAYLOAD_HEADER_BYTES, p + pLen)) { ks.remove(e); return OOM }
  ks.setExpireAt(e, keepTtl ? oldExpire : expireAt)
  return null
}

/**
 * __del key event: deletes key (if there) and emits the generic `event` for it instead of "del"
 * (RENAME's "rename_from" on the source's shard). Replies :1 when generic events are on, so the
 * coord handler knows to send the events that follow on other shards, :0 otherwise.
 */
export function delStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const e = shard.lookup(buf, start[1], len[1])
  if (e !== 0) shard.ks.remove(e)
  const event = stepEvent(argv, 2)
  if (event !== null) shard.notify(NOTIFY_GENERIC, event, buf, start[1], len[1])
  out.raw(notifyOn(shard, NOTIFY_GENERIC) ? ONE : ZERO)
}

/** __event key event: emits the generic `event` for key (RENAME's "rename_to" on the destination's shard). */
export function notifyStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const event = stepEvent(argv, 2)
  if (event !== null) shard.notify(NOTIFY_GENERIC, event, argv.buf, argv.start[1], argv.len[1])
  out.raw(OK)
}

/**
 * __emit event...: keyspace events a transaction recorded on lent databases (server/engine.ts),
 * each in Shard.events' format, for this shard to send to the hub in their order.
 */
export function emitCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  for (let i = 1; i < argv.argc; i++) shard.events.push(Buffer.from(buf.subarray(start[i], start[i] + len[i])))
  out.raw(OK)
}

/** Little-endian u32 at p (the tags and headers the primary packs into internal arguments). */
export function readU32 (buf: Uint8Array, p: number): number {
  return (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0
}

/**
 * __watch tag key...: session `tag` of the request's client watches these keys of this shard.
 * Replies the earliest expiry time among them still to come (0: none), for EXEC's expiry check.
 */
export function watchKeysCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const tag = readU32(buf, start[1])
  const now = shard.now()
  let min = 0
  for (let i = 2; i < argv.argc; i++) {
    const at = shard.watch.watch(shard.dbIndex, shard.ks, buf, start[i], len[i], shard.slot, tag, now)
    if (at !== 0 && (min === 0 || at < min)) min = at
  }
  out.int(min)
}

/** __unwatch tag: session `tag` ends (EXEC, DISCARD, UNWATCH, or its client left). */
export function unwatchCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  shard.watch.unwatch(readU32(argv.buf, argv.start[1]))
  out.raw(OK)
}

function unreachable (): void { throw new Error('transaction markers are handled by the worker loop') }

const INTERNAL = { flags: [], firstKey: 0, lastKey: 0, step: 0, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true } as const

export const internalCommands: readonly CommandSpec[] = [
  { ...INTERNAL, name: '__txn', arity: 1, run: unreachable },
  { ...INTERNAL, name: '__dump', arity: 2, firstKey: 1, lastKey: 1, step: 1, run: dumpCommand },
  { ...INTERNAL, name: '__restore', arity: -3, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, run: restoreCommand },
  { ...INTERNAL, name: '__del', arity: 3, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, run: delStepCommand },
  { ...INTERNAL, name: '__emit', arity: -2, run: emitCommand },
  { ...INTERNAL, name: '__event', arity: 3, firstKey: 1, lastKey: 1, step: 1, run: notifyStepCommand },
  { ...INTERNAL, name: '__watch', arity: -3, run: watchKeysCommand },
  { ...INTERNAL, name: '__unwatch', arity: 2, run: unwatchCommand },
  // __exec meta (header argc args...)*: a transaction's commands for this shard (the worker runs it).
  { ...INTERNAL, name: '__exec', arity: -2, run: unreachable },
  // __unblock slot mode: the client of `slot` stops waiting (0: as if timed out, 1: UNBLOCKED error, 2: it left).
  { ...INTERNAL, name: '__unblock', arity: 3, run: unreachable },
]
