// String commands (Redis t_string.c). Values are raw bytes in the shard arena; handlers copy
// argument bytes straight from the request ring into the entry and reply from the arena.

import type { CommandSpec, Argv } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_STRING } from '../storage/keyspace.js'
import { OK } from '../protocol/replies.js'
import { WRONGTYPE, SYNTAX_ERR, NOT_INTEGER, OOM, expireTimeError } from '../protocol/errors.js'
import { equalsLower, token } from '../protocol/ascii.js'
import { setExpireMs, BAD_INT } from './expire-args.js'

const TOK_NX = token('nx')
const TOK_XX = token('xx')
const TOK_GET = token('get')
const TOK_EX = token('ex')
const TOK_PX = token('px')
const TOK_EXAT = token('exat')
const TOK_PXAT = token('pxat')
const TOK_KEEPTTL = token('keepttl')

const SET_NX = 1
const SET_XX = 2
const SET_GET = 4
const SET_KEEPTTL = 8
const SET_EX = 16
const SET_PX = 32
const SET_EXAT = 64
const SET_PXAT = 128
const SET_ANY_EXPIRE = SET_EX | SET_PX | SET_EXAT | SET_PXAT

const SET_EXPIRE_ERR = expireTimeError('set')

/**
 * Stores value bytes under key (overwriting any type), keeping or replacing the TTL.
 * Returns false when the arena is full.
 */
export function setValue (shard: Shard, kbuf: Uint8Array, kStart: number, kLen: number,
  vbuf: Uint8Array, vStart: number, vLen: number, expireAt: number, keepTtl: boolean): boolean {
  const ks = shard.ks
  let e = shard.lookup(kbuf, kStart, kLen)
  if (e !== 0 && ks.type(e) !== TYPE_STRING) {
    // Another type: drop it (and a list's elements) and start afresh, keeping the TTL if asked.
    const at = ks.expireAt(e)
    ks.remove(e)
    e = ks.insert(kbuf, kStart, kLen, shard.lastHash, TYPE_STRING, vLen)
    if (e === 0) return false
    if (keepTtl) ks.setExpireAt(e, at)
  } else if (e === 0) {
    e = ks.insert(kbuf, kStart, kLen, shard.lastHash, TYPE_STRING, vLen)
    if (e === 0) return false
  } else {
    e = ks.resizeValue(e, vLen)
    if (e === 0) return false
    ks.setType(e, TYPE_STRING)
    if (!keepTtl) ks.setExpireAt(e, 0)
  }
  if (expireAt !== 0) ks.setExpireAt(e, expireAt)
  ks.arena.u8.set(vbuf.subarray(vStart, vStart + vLen), ks.valOffset(e))
  return true
}

export function getCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  if (ks.type(e) !== TYPE_STRING) { out.raw(WRONGTYPE); return }
  out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
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
    if (equalsLower(buf, s, l, TOK_NX) && (flags & SET_XX) === 0) flags |= SET_NX
    else if (equalsLower(buf, s, l, TOK_XX) && (flags & SET_NX) === 0) flags |= SET_XX
    else if (equalsLower(buf, s, l, TOK_GET)) flags |= SET_GET
    else if (equalsLower(buf, s, l, TOK_KEEPTTL) && (flags & SET_ANY_EXPIRE) === 0) flags |= SET_KEEPTTL
    else if (equalsLower(buf, s, l, TOK_EX) && (flags & (SET_KEEPTTL | SET_EXAT | SET_PX | SET_PXAT)) === 0 && hasNext) { flags |= SET_EX; expireArg = ++j }
    else if (equalsLower(buf, s, l, TOK_PX) && (flags & (SET_KEEPTTL | SET_EX | SET_EXAT | SET_PXAT)) === 0 && hasNext) { flags |= SET_PX; expireArg = ++j }
    else if (equalsLower(buf, s, l, TOK_EXAT) && (flags & (SET_KEEPTTL | SET_EX | SET_PX | SET_PXAT)) === 0 && hasNext) { flags |= SET_EXAT; expireArg = ++j }
    else if (equalsLower(buf, s, l, TOK_PXAT) && (flags & (SET_KEEPTTL | SET_EX | SET_EXAT | SET_PX)) === 0 && hasNext) { flags |= SET_PXAT; expireArg = ++j }
    else { out.raw(SYNTAX_ERR); return }
  }
  let expireAt = 0
  if (expireArg >= 0) {
    const ms = setExpireMs(buf, start[expireArg], len[expireArg], (flags & (SET_EX | SET_EXAT)) !== 0,
      (flags & (SET_EX | SET_PX)) !== 0, shard.now())
    if (ms < 0) { out.raw(ms === BAD_INT ? NOT_INTEGER : SET_EXPIRE_ERR); return }
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
    if ((flags & SET_GET) === 0) out.nullBulk()
    return
  }
  if (!setValue(shard, buf, start[1], len[1], buf, start[2], len[2], expireAt, (flags & SET_KEEPTTL) !== 0)) {
    if ((flags & SET_GET) === 0) out.raw(OOM)
    return
  }
  // An EXAT/PXAT in the past stores the key already expired: the next access deletes it.
  if ((flags & SET_GET) === 0) out.raw(OK)
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

export function msetCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  for (let i = 1; i < argc; i += 2) {
    if (!setValue(shard, buf, start[i], len[i], buf, start[i + 1], len[i + 1], 0, false)) { out.raw(OOM); return }
  }
  out.raw(OK)
}

const RO_ACCESS = [{ flags: ['RO', 'access'] }] as const

export const stringCommands: CommandSpec[] = [
  { name: 'get', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'string', since: '1.0.0', summary: 'Get the value of a key', complexity: 'O(1)', keySpecs: RO_ACCESS, run: getCommand },
  { name: 'set', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'string', since: '1.0.0', summary: 'Set the string value of a key', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'access', 'update', 'variable_flags'], notes: 'RW and ACCESS due to the optional `GET` argument' }], run: setCommand },
  { name: 'mget', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, step: 1, route: 'split', merge: 'byKeyOrder', group: 'string', since: '1.0.0', summary: 'Get the values of all the given keys', complexity: 'O(N) where N is the number of keys to retrieve.', tips: ['request_policy:multi_shard'], keySpecs: RO_ACCESS, run: mgetCommand },
  { name: 'mset', arity: -3, flags: ['write', 'denyoom'], firstKey: 1, lastKey: -1, step: 2, route: 'split', merge: 'allOk', group: 'string', since: '1.0.1', summary: 'Set multiple keys to multiple values', complexity: 'O(N) where N is the number of keys to set.', tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'], keySpecs: [{ flags: ['OW', 'update'] }], run: msetCommand },
]
