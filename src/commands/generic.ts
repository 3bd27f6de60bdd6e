// Keyspace commands (Redis's "generic" group: db.c and expire.c): DEL, EXISTS, the EXPIRE
// family and TTL. DEL and EXISTS are split per shard by the router and summed (AGG_SUM).

import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'

import { ZERO, ONE, MINUS_ONE, MINUS_TWO, OK } from '../protocol/replies.js'
import { isNullReply, isErrorReply, intReply, bulkPayload, argBytes } from './txn-helpers.js'
import { NOT_INTEGER, NO_SUCH_KEY, OOM, EXPIRE_NX_COMBO, EXPIRE_GT_LT, expireTimeError, unsupportedOptionError } from '../protocol/errors.js'
import { equalsLower, token } from '../protocol/ascii.js'
import { expireCommandMs } from './expire-args.js'

export function delCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let n = 0
  for (let i = 1; i < argc; i++) {
    const e = shard.lookup(buf, start[i], len[i])
    if (e !== 0) { shard.ks.remove(e); n++ }
  }
  out.int(n)
}

export function existsCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let n = 0
  for (let i = 1; i < argc; i++) if (shard.lookupRead(buf, start[i], len[i]) !== 0) n++
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
  if (when <= now) {
    ks.remove(e)
  } else {
    ks.setExpireAt(e, when)
  }
  out.raw(ONE)
}

export function expireCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, true, true, 'expire') }
export function pexpireCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, false, true, 'pexpire') }
export function expireatCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, true, false, 'expireat') }
export function pexpireatCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { expireGeneric(shard, argv, out, false, false, 'pexpireat') }

function ttlGeneric (shard: Shard, argv: Argv, out: ReplyWriter, isMs: boolean, isAbsolute: boolean): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
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
  out.raw(ONE)
}

const TYPE_NAMES = ['string', 'list']
export function typeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  out.status(e === 0 ? 'none' : TYPE_NAMES[shard.ks.type(e)] ?? 'none')
}

const EXPIRE_SPEC = { arity: -3, flags: ['write', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', keySpecs: [{ flags: ['RW', 'update'] }] } as const
const TTL_SPEC = { arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', keySpecs: [{ flags: ['RO', 'access'] }], tips: ['nondeterministic_output'] } as const

export const genericCommands: CommandSpec[] = [
  { name: 'del', arity: -2, flags: ['write'], firstKey: 1, lastKey: -1, step: 1, route: 'split', merge: 'sum', group: 'generic', since: '1.0.0', summary: 'Delete a key', complexity: 'O(N) where N is the number of keys that will be removed.', tips: ['request_policy:multi_shard', 'response_policy:agg_sum'], keySpecs: [{ flags: ['RM', 'delete'] }], run: delCommand },
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

function renameGeneric (shard: Shard, argv: Argv, out: ReplyWriter, nx: boolean): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  const src = shard.lookup(buf, start[1], len[1])
  if (src === 0) { out.raw(NO_SUCH_KEY); return }
  if (len[1] === len[2] && Buffer.compare(buf.subarray(start[1], start[1] + len[1]), buf.subarray(start[2], start[2] + len[2])) === 0) {
    out.raw(nx ? ZERO : OK)
    return
  }
  const dst = shard.lookup(buf, start[2], len[2])
  if (dst !== 0) {
    if (nx) { out.raw(ZERO); return }
    ks.remove(dst)
  }
  const hash = shard.lastHash
  const valLen = ks.valLen(src)
  const e = ks.insert(buf, start[2], len[2], hash, ks.type(src), valLen)
  if (e === 0) { out.raw(OOM); return }
  const u8 = ks.arena.u8
  u8.copyWithin(ks.valOffset(e), ks.valOffset(src), ks.valOffset(src) + valLen)
  ks.setExpireAt(e, ks.expireAt(src))
  // The value (a list's elements too) now belongs to the new entry.
  ks.remove(src, true)
  out.raw(nx ? ONE : OK)
}

export function renameCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { renameGeneric(shard, argv, out, false) }
export function renamenxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { renameGeneric(shard, argv, out, true) }

async function renameCoordGeneric (tx: TxnContext, argv: Argv, nx: boolean): Promise<Uint8Array> {
  const { buf, start, len } = argv
  const src = argBytes(buf, start[1], len[1])
  const dst = argBytes(buf, start[2], len[2])
  const a = tx.shardOf(buf, start[1], len[1])
  const b = tx.shardOf(buf, start[2], len[2])
  const dump = await tx.run(a, '__dump', [src])
  if (isErrorReply(dump)) return dump
  if (isNullReply(dump)) return NO_SUCH_KEY
  if (nx) {
    const exists = await tx.run(b, 'exists', [dst])
    if (isErrorReply(exists)) return exists
    if (intReply(exists) > 0) return ZERO
  }
  const restored = await tx.run(b, '__restore', [dst, bulkPayload(dump)])
  if (isErrorReply(restored)) return restored
  await tx.run(a, 'del', [src])
  return nx ? ONE : OK
}

const ONE_KEY = { lastkey: 0, keystep: 1, limit: 0 }

genericCommands.push(
  { name: 'rename', arity: 3, flags: ['write'], firstKey: 1, lastKey: 2, step: 1, route: 'coord', group: 'generic', since: '1.0.0', summary: 'Rename a key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, range: ONE_KEY }, { flags: ['OW', 'update'], index: 2, range: ONE_KEY }], run: renameCommand, coord: async (tx, argv) => await renameCoordGeneric(tx, argv, false) },
  { name: 'renamenx', arity: 3, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, step: 1, route: 'coord', group: 'generic', since: '1.0.0', summary: 'Rename a key, only if the new key does not exist', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'delete'], index: 1, range: ONE_KEY }, { flags: ['OW', 'insert'], index: 2, range: ONE_KEY }], run: renamenxCommand, coord: async (tx, argv) => await renameCoordGeneric(tx, argv, true) },
)
