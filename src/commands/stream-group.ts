// Consumer group commands (Redis 7.0's t_stream.c): XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM
// and XAUTOCLAIM. XREADGROUP keeps the group's entries-read counter as Redis 7.0 does (see
// stream-info.ts); its BLOCK form waits through stream-block.ts. The storage is
// src/storage/stream-group.ts; entries are read through src/storage/stream-type.ts.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { TYPE_STREAM } from '../storage/keyspace.js'
import {
  StreamId, STREAM_HEADER_BYTES, ent, idCmp, idCopy, idIncr, idDecr, idSetMax, idSetZero, streamEdgeId, streamEntriesAdded,
  streamInit, streamLastId, streamLen, streamRange,
} from '../storage/stream-type.js'
import {
  INVALID_ENTRIES_READ, consumerAt, consumerCount, consumerCreate, consumerDelete, consumerFind, consumerNameAt, consumerNameLen,
  consumerPending, consumerSetSeen, groupCreate, groupDestroy, groupEntriesRead, groupFind,
  groupLastId, groupReserveBytes, groupSetEntriesRead, groupSetLastId, pelAt, pelCount, pelInsert,
  pelRemove, pelSearch, recConsumer, recCount, recId, recSetConsumer, recSetCount, recSetTime, recTime,
} from '../storage/stream-group.js'
import { OK, ZERO, ONE, EMPTY_ARRAY } from '../protocol/replies.js'
import { WRONGTYPE, NOT_INTEGER, SYNTAX_ERR, OOM, errorReply } from '../protocol/errors.js'
import { equalsLower, token, parseLL } from '../protocol/ascii.js'
import { NOTIFY_STREAM, eventName } from '../storage/notify.js'
import { writes } from '../storage/writes.js'
import { argBytes, isErrorReply, isNullReply } from './txn-helpers.js'
import { ID_INVALID, INVALID_ID, parseId, parseXread, writeEntry, writeId, xreadGetKeys, xreadBlocks, xreadBlockSpec, type XreadArgs } from './stream.js'
import { ReplyWriter as Writer } from '../protocol/resp-writer.js'
import { hasTombstonesFrom, estimateDistance } from './stream-info.js'

const EV_CREATE = eventName('xgroup-create')
const EV_SETID = eventName('xgroup-setid')
const EV_DESTROY = eventName('xgroup-destroy')
const EV_CREATECONSUMER = eventName('xgroup-createconsumer')
const EV_DELCONSUMER = eventName('xgroup-delconsumer')

const KEY_MUST_EXIST = errorReply('ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.')
const BUSYGROUP = errorReply('BUSYGROUP Consumer Group name already exists')
const ENTRIESREAD_RANGE = errorReply('ERR value for ENTRIESREAD must be positive or -1')
const BAD_START = errorReply('ERR invalid start ID for the interval')
const BAD_END = errorReply('ERR invalid end ID for the interval')
const MISSING_GROUP = errorReply('ERR Missing GROUP option for XREADGROUP')
const DOLLAR_IN_GROUP = errorReply('ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.')
const COUNT_POSITIVE = errorReply('ERR COUNT must be > 0')

const TOK_MKSTREAM = token('mkstream')
const TOK_ENTRIESREAD = token('entriesread')
const TOK_CREATE = token('create')
const TOK_SETID = token('setid')
const TOK_IDLE = token('idle')
const TOK_FORCE = token('force')
const TOK_JUSTID = token('justid')
const TOK_TIME = token('time')
const TOK_RETRYCOUNT = token('retrycount')
const TOK_LASTID = token('lastid')
const TOK_COUNT = token('count')

/** A key or name inside an error text as Redis prints %s: up to a NUL, newlines as spaces. */
export function cstr (buf: Uint8Array, start: number, len: number): string {
  let end = start
  while (end < start + len && buf[end] !== 0) end++
  return Buffer.from(buf.subarray(start, end)).toString('latin1').replace(/[\r\n]/g, ' ')
}

export function syntaxSub (argv: Argv, container: string): Buffer {
  return errorReply(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv.buf, argv.start[1], Math.min(argv.len[1], 128))}'. Try ${container} HELP.`)
}


const tA = new StreamId()
const tC = new StreamId()

// --- XGROUP ----------------------------------------------------------------------------------------------

const gid = new StreamId()

/** The parts every XGROUP subcommand but HELP shares (xgroupCommand's head): stream, group, options. */
interface XgroupHead { e: number, g: number, isMkstream: boolean, entriesRead: number }

function xgroupHead (shard: Shard, argv: Argv, out: ReplyWriter, mustHaveGroup: boolean): XgroupHead | null {
  const { buf, start, len, argc } = argv
  const isCreate = equalsLower(buf, start[1], len[1], TOK_CREATE)
  const isSetid = equalsLower(buf, start[1], len[1], TOK_SETID)
  let isMkstream = false
  let entriesRead = INVALID_ENTRIES_READ
  for (let i = 5; i < argc;) {
    if (isCreate && equalsLower(buf, start[i], len[i], TOK_MKSTREAM)) { isMkstream = true; i++ } else if ((isCreate || isSetid) && equalsLower(buf, start[i], len[i], TOK_ENTRIESREAD) && i + 1 < argc) {
      const v = parseLL(buf, start[i + 1], len[i + 1])
      if (v === null) { out.raw(NOT_INTEGER); return null }
      if (v < 0 && v !== INVALID_ENTRIES_READ) { out.raw(ENTRIESREAD_RANGE); return null }
      entriesRead = v
      i += 2
    } else { out.raw(syntaxSub(argv, 'XGROUP')); return null }
  }
  const e = shard.lookup(buf, start[2], len[2])
  if (e !== 0 && shard.ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return null }
  let g = 0
  if (!isMkstream) {
    if (e === 0) { out.raw(KEY_MUST_EXIST); return null }
    g = groupFind(shard.ks, e, buf, start[3], len[3])
    if (g === 0 && mustHaveGroup) {
      out.raw(errorReply(`NOGROUP No such consumer group '${cstr(buf, start[3], len[3])}' for key name '${cstr(buf, start[2], len[2])}'`))
      return null
    }
  } else if (e !== 0) g = groupFind(shard.ks, e, buf, start[3], len[3])
  return { e, g, isMkstream, entriesRead }
}

export function xgroupCreateCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const h = xgroupHead(shard, argv, out, false)
  if (h === null) return
  if (argc > 8) { out.raw(syntaxSub(argv, 'XGROUP')); return }
  const ks = shard.ks
  let e = h.e
  if (len[4] === 1 && buf[start[4]] === 36) {
    if (e !== 0) streamLastId(ks, e, gid)
    else idSetZero(gid)
  } else if (parseId(buf, start[4], len[4], gid, false, true) === ID_INVALID) { out.raw(INVALID_ID); return }
  if (!ks.arena.reserve(groupReserveBytes(len[3], 0) + 256 + len[2])) { out.raw(OOM); return }
  if (e === 0) {
    e = ks.insert(buf, start[2], len[2], shard.lastHash, TYPE_STREAM, STREAM_HEADER_BYTES)
    if (e === 0) { out.raw(OOM); return }
    streamInit(ks, e)
  }
  if (h.g !== 0 || groupFind(ks, e, buf, start[3], len[3]) !== 0) { out.raw(BUSYGROUP); return }
  if (groupCreate(ks, e, buf, start[3], len[3], gid, h.entriesRead) === 0) { out.raw(OOM); return }
  out.raw(OK)
  // Group changes leave writes.count alone: each command adds Redis's dirty itself (persistence/dirty.ts).
  shard.dirty++
  shard.notify(NOTIFY_STREAM, EV_CREATE, buf, start[2], len[2])
}

export function xgroupSetidCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const h = xgroupHead(shard, argv, out, true)
  if (h === null) return
  if (argc !== 5 && argc !== 7) { out.raw(syntaxSub(argv, 'XGROUP')); return }
  const ks = shard.ks
  if (len[4] === 1 && buf[start[4]] === 36) streamLastId(ks, h.e, gid)
  else if (parseId(buf, start[4], len[4], gid, false, false) === ID_INVALID) { out.raw(INVALID_ID); return }
  groupSetLastId(ks, h.g, gid)
  groupSetEntriesRead(ks, h.g, h.entriesRead)
  out.raw(OK)
  shard.dirty++
  shard.notify(NOTIFY_STREAM, EV_SETID, buf, start[2], len[2])
}

export function xgroupDestroyCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const h = xgroupHead(shard, argv, out, false)
  if (h === null) return
  if (h.g === 0) { out.raw(ZERO); return }
  groupDestroy(shard.ks, h.e, buf, start[3], len[3])
  out.raw(ONE)
  shard.dirty++
  shard.notify(NOTIFY_STREAM, EV_DESTROY, buf, start[2], len[2])
  // Clients blocked in XREADGROUP on this group get the NOGROUP error.
  if (writes.onReady !== null) writes.onReady(shard.ks, h.e)
}

export function xgroupCreateconsumerCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const h = xgroupHead(shard, argv, out, true)
  if (h === null) return
  const ks = shard.ks
  if (consumerFind(ks, h.g, buf, start[4], len[4]) !== 0) { out.raw(ZERO); return }
  if (!ks.arena.reserve(groupReserveBytes(len[4], 0))) { out.raw(OOM); return }
  if (consumerCreate(ks, h.g, buf, start[4], len[4], shard.now()) === 0) { out.raw(OOM); return }
  out.raw(ONE)
  shard.dirty++
  shard.notify(NOTIFY_STREAM, EV_CREATECONSUMER, buf, start[2], len[2])
}

export function xgroupDelconsumerCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const h = xgroupHead(shard, argv, out, true)
  if (h === null) return
  const ks = shard.ks
  const c = consumerFind(ks, h.g, buf, start[4], len[4])
  if (c === 0) { out.raw(ZERO); return }
  out.int(consumerDelete(ks, h.g, c))
  shard.dirty++
  shard.notify(NOTIFY_STREAM, EV_DELCONSUMER, buf, start[2], len[2])
}

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
]


// --- XREADGROUP ------------------------------------------------------------------------------------------

/** Checks key i of XREADGROUP (type, group, id): null, or the error to reply. */
function xreadgroupCheck (shard: Shard, argv: Argv, a: XreadArgs, i: number): Buffer | null {
  const { buf, start, len } = argv
  const k = a.streams + i
  const idx = k + a.nstreams
  const e = shard.lookupRead(buf, start[k], len[k])
  if (e !== 0 && shard.ks.type(e) !== TYPE_STREAM) return WRONGTYPE
  if (e === 0 || groupFind(shard.ks, e, buf, start[a.group], len[a.group]) === 0) {
    return errorReply(`NOGROUP No such key '${cstr(buf, start[k], len[k])}' or consumer group '${cstr(buf, start[a.group], len[a.group])}' in XREADGROUP with GROUP option`)
  }
  if (len[idx] === 1 && buf[start[idx]] === 36) return DOLLAR_IN_GROUP
  if (len[idx] === 1 && buf[start[idx]] === 62) return null
  if (parseId(buf, start[idx], len[idx], tA, false, true) === ID_INVALID) return INVALID_ID
  return null
}

const rgGt = new StreamId()
const rgStart = new StreamId()
const rgMax = idSetMax(new StreamId())
const validMax = new StreamId()
const recIdTmp = new StreamId()

/**
 * Serves key i of XREADGROUP (xreadCommand's synchronous part with a group): writes
 * [key, entries] (RESP3: key, entries) and returns true, or false when there is nothing to serve.
 */
export function xreadgroupServe (shard: Shard, argv: Argv, a: XreadArgs, i: number, out: ReplyWriter, isRaw: boolean, isBlockedServe = false, isLate = isBlockedServe): boolean {
  const { buf, start, len } = argv
  const k = a.streams + i
  const idx = k + a.nstreams
  const ks = shard.ks
  const e = shard.lookup(buf, start[k], len[k])
  if (e === 0) return false
  const g = groupFind(ks, e, buf, start[a.group], len[a.group])
  const isNew = len[idx] === 1 && buf[start[idx]] === 62
  if (isBlockedServe) {
    // serveClientsBlockedOnStreamKey: the caller saw the stream's last id past the group's.
    groupLastId(ks, g, rgGt)
  } else if (isNew) {
    if (streamLen(ks, e) === 0) return false
    streamEdgeId(ks, e, false, validMax)
    groupLastId(ks, g, rgGt)
    if (idCmp(validMax, rgGt) <= 0) return false
  } else parseId(buf, start[idx], len[idx], rgGt, false, true)
  idCopy(rgStart, rgGt)
  idIncr(rgStart)
  if (!isRaw && !out.resp3) out.arrayHeader(2)
  out.bulk(buf, start[k], len[k])
  const now = shard.now()
  const cs = start[a.group + 1]
  const cl = len[a.group + 1]
  let c = consumerFind(ks, g, buf, cs, cl)
  if (c === 0) {
    c = consumerCreate(ks, g, buf, cs, cl, now)
    shard.notify(NOTIFY_STREAM, EV_CREATECONSUMER, buf, start[k], len[k])
    shard.dirty++
  } else consumerSetSeen(ks, c, now)
  // xreadCommand adds one to Redis's dirty per stream it serves; a blocked client served late
  // (serveClientsBlockedOnStreamKey) adds none.
  if (!isLate) shard.dirty++
  if (!isNew) { replyFromConsumerPel(shard, e, g, c, rgStart, a.count, now, out); return true }
  const body = new Writer(1024)
  body.resp3 = out.resp3
  let n = 0
  streamRange(ks, e, rgStart, rgMax, false, () => {
    // streamReplyWithRange with a group: the group's last id and read counter follow.
    groupLastId(ks, g, tC)
    if (idCmp(ent.id, tC) > 0) {
      const read = groupEntriesRead(ks, g)
      if (read !== INVALID_ENTRIES_READ && !hasTombstonesFrom(ks, e, ent.id)) groupSetEntriesRead(ks, g, read + 1)
      else if (streamEntriesAdded(ks, e) !== 0) groupSetEntriesRead(ks, g, estimateDistance(ks, e, ent.id))
      groupSetLastId(ks, g, ent.id)
    }
    writeEntry(shard, body)
    if (!a.isNoAck) {
      const r = pelSearch(ks, g, ent.id)
      if (r < 0) pelInsert(ks, g, -r - 1, ent.id, now, 1, c)
      else {
        const at = pelAt(ks, g, r)
        recSetConsumer(ks, at, c)
        recSetTime(ks, at, now)
        recSetCount(ks, at, 1)
      }
    }
    n++
    return a.count === 0 || n < a.count
  })
  out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
  return true
}

/** streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from `from`. */
function replyFromConsumerPel (shard: Shard, e: number, g: number, c: number, from: StreamId, count: number, now: number, out: ReplyWriter): void {
  const ks = shard.ks
  const body = new Writer(1024)
  body.resp3 = out.resp3
  let n = 0
  const total = pelCount(ks, g)
  let r = pelSearch(ks, g, from)
  if (r < 0) r = -r - 1
  for (; r < total && (count === 0 || n < count); r++) {
    const at = pelAt(ks, g, r)
    if (recConsumer(ks, at) !== c) continue
    recId(ks, at, recIdTmp)
    let isFound = false
    streamRange(ks, e, recIdTmp, recIdTmp, false, () => { writeEntry(shard, body); isFound = true; return false })
    if (!isFound) {
      body.arrayHeader(2)
      writeId(body, recIdTmp)
      body.nullArray()
    } else {
      recSetTime(ks, at, now)
      recSetCount(ks, at, recCount(ks, at) + 1)
    }
    n++
  }
  out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
}

function xreadgroupArgs (argv: Argv): XreadArgs | Buffer {
  const a = parseXread(argv, true)
  if (Buffer.isBuffer(a)) return a
  if (a.group === 0) return MISSING_GROUP
  return a
}

export function xreadgroupCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const a = xreadgroupArgs(argv)
  if (Buffer.isBuffer(a)) { out.raw(a); return }
  for (let i = 0; i < a.nstreams; i++) {
    const err = xreadgroupCheck(shard, argv, a, i)
    if (err !== null) { out.raw(err); return }
  }
  let need = 0
  for (let i = a.streams; i < argv.argc; i++) need += argv.len[i]
  if (!shard.ks.arena.reserve(groupReserveBytes(argv.len[a.group + 1], 0) * a.nstreams + need * 8 + 65536)) { out.raw(OOM); return }
  const body = new Writer(1024)
  body.resp3 = out.resp3
  let n = 0
  for (let i = 0; i < a.nstreams; i++) if (xreadgroupServe(shard, argv, a, i, body, false)) n++
  if (n === 0) {
    if (a.block === 0 || shard.noBlock) { out.nullArray(); return }
    shard.pendingBlock = xreadBlockSpec(shard, argv, a, [])
    return
  }
  if (out.resp3) out.mapHeader(n)
  else out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
}

/**
 * A one-stream argv for the transaction steps: `cmd count flags group consumer key id`, flags a
 * digit: 1 NOACK, 2 a blocked client served late.
 */
function oneStream (argv: Argv): { one: Argv, a: XreadArgs, isLate: boolean } {
  const { buf, start, len } = argv
  const count = parseLL(buf, start[1], len[1]) ?? 0
  const one: Argv = {
    buf,
    argc: 8,
    start: Int32Array.of(0, 0, 0, start[3], start[4], 0, start[5], start[6]),
    len: Int32Array.of(0, 0, 0, len[3], len[4], 0, len[5], len[6]),
  }
  const flags = buf[start[2]] - 48
  return { one, a: { count, block: 0, blockMs: 0, streams: 6, nstreams: 1, group: 3, isNoAck: (flags & 1) !== 0 }, isLate: (flags & 2) !== 0 }
}

/** Step 1 of XREADGROUP over several shards: the checks of one key (+OK or the error). */
export function xreadgroupCheckStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { one, a } = oneStream(argv)
  const err = xreadgroupCheck(shard, one, a, 0)
  out.raw(err ?? OK)
}

/** Step 2: serves one key; the [key, entries] payload without its header, or a null. */
export function xreadgroupServeStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { one, a, isLate } = oneStream(argv)
  const body = new Writer(1024)
  body.resp3 = out.resp3
  if (!shard.ks.arena.reserve(65536 + argv.len[4] * 4)) { out.raw(OOM); return }
  if (!xreadgroupServe(shard, one, a, 0, body, true, false, isLate)) { out.nullBulk(); return }
  out.bulk(body.buf, 0, body.len)
}

async function xreadgroupCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  return await xreadgroupTry(tx, argv) ?? Buffer.from(tx.resp3 ? '_\r\n' : '*-1\r\n')
}

/**
 * XREADGROUP over several shards: the reply, or null when nothing could be served (it may block).
 * `isLate`: a blocked client's retry (server/blocking.ts), served as Redis serves blocked clients.
 */
export async function xreadgroupTry (tx: TxnContext, argv: Argv, defaultCount = 0, isLate = false): Promise<Uint8Array | null> {
  const a = xreadgroupArgs(argv)
  if (Buffer.isBuffer(a)) return a
  const { buf, start, len } = argv
  const common = [Buffer.from(String(a.count === 0 ? defaultCount : a.count)), Buffer.from(String((a.isNoAck ? 1 : 0) | (isLate ? 2 : 0))), argBytes(buf, start[a.group], len[a.group]), argBytes(buf, start[a.group + 1], len[a.group + 1])]
  const stepArgs = (i: number): Uint8Array[] => {
    const k = a.streams + i
    return [...common, argBytes(buf, start[k], len[k]), argBytes(buf, start[k + a.nstreams], len[k + a.nstreams])]
  }
  const shardOf = (i: number): number => tx.shardOf(buf, start[a.streams + i], len[a.streams + i])
  for (let i = 0; i < a.nstreams; i++) {
    const r = await tx.run(shardOf(i), '__xrgcheck', stepArgs(i))
    if (isErrorReply(r)) return r
  }
  const parts: Buffer[] = []
  for (let i = 0; i < a.nstreams; i++) {
    const r = Buffer.from(await tx.run(shardOf(i), '__xrgserve', stepArgs(i)))
    if (isErrorReply(r)) return r
    if (isNullReply(r)) continue
    const nl = r.indexOf(10)
    parts.push(r.subarray(nl + 1, r.length - 2))
  }
  if (parts.length === 0) return null
  const head = tx.resp3 ? `%${parts.length}\r\n` : `*${parts.length}\r\n`
  return Buffer.concat([Buffer.from(head), ...(tx.resp3 ? parts : parts.flatMap(p => [Buffer.from('*2\r\n'), p]))])
}

export { xreadgroupArgs }

// --- XACK, XPENDING ------------------------------------------------------------------------------------------

export function xackCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const e = shard.lookupRead(buf, start[1], len[1])
  const ks = shard.ks
  if (e !== 0 && ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  const g = e === 0 ? 0 : groupFind(ks, e, buf, start[2], len[2])
  if (g === 0) { out.raw(ZERO); return }
  const ids: StreamId[] = []
  for (let j = 3; j < argc; j++) {
    const id = new StreamId()
    if (parseId(buf, start[j], len[j], id, false, true) === ID_INVALID) { out.raw(INVALID_ID); return }
    ids.push(id)
  }
  let acked = 0
  for (const id of ids) {
    const r = pelSearch(ks, g, id)
    if (r >= 0) { pelRemove(ks, g, r); acked++ }
  }
  shard.dirty += acked
  out.int(acked)
}

function noGroup (argv: Argv): Buffer {
  const { buf, start, len } = argv
  return errorReply(`NOGROUP No such key '${cstr(buf, start[1], len[1])}' or consumer group '${cstr(buf, start[2], len[2])}'`)
}

const pStart = new StreamId()
const pEnd = new StreamId()

export function xpendingCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const isJustInfo = argc === 3
  if (argc !== 3 && (argc < 6 || argc > 9)) { out.raw(SYNTAX_ERR); return }
  let count = 0
  let minIdle = 0
  let consumerArg = 0
  if (argc >= 6) {
    let si = 3
    if (equalsLower(buf, start[3], len[3], TOK_IDLE)) {
      const v = parseLL(buf, start[4], len[4])
      if (v === null) { out.raw(NOT_INTEGER); return }
      minIdle = v
      if (argc < 8) { out.raw(SYNTAX_ERR); return }
      si += 2
    }
    const c = parseLL(buf, start[si + 2], len[si + 2])
    if (c === null) { out.raw(NOT_INTEGER); return }
    count = c < 0 ? 0 : c
    let isEx = len[si] > 1 && buf[start[si]] === 40
    if (parseId(buf, start[si] + (isEx ? 1 : 0), len[si] - (isEx ? 1 : 0), pStart, false, isEx) === ID_INVALID) { out.raw(INVALID_ID); return }
    if (isEx && !idIncr(pStart)) { out.raw(BAD_START); return }
    isEx = len[si + 1] > 1 && buf[start[si + 1]] === 40
    if (parseId(buf, start[si + 1] + (isEx ? 1 : 0), len[si + 1] - (isEx ? 1 : 0), pEnd, true, isEx) === ID_INVALID) { out.raw(INVALID_ID); return }
    if (isEx && !idDecr(pEnd)) { out.raw(BAD_END); return }
    if (si + 3 < argc) consumerArg = si + 3
  }
  const e = shard.lookupRead(buf, start[1], len[1])
  const ks = shard.ks
  if (e !== 0 && ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  const g = e === 0 ? 0 : groupFind(ks, e, buf, start[2], len[2])
  if (g === 0) { out.raw(noGroup(argv)); return }
  const total = pelCount(ks, g)
  if (isJustInfo) {
    out.arrayHeader(4)
    out.int(total)
    if (total === 0) { out.nullBulk(); out.nullBulk(); out.nullArray(); return }
    writeId(out, recId(ks, pelAt(ks, g, 0), tA))
    writeId(out, recId(ks, pelAt(ks, g, total - 1), tA))
    let n = 0
    for (let i = 0, m = consumerCount(ks, g); i < m; i++) if (consumerPending(ks, consumerAt(ks, g, i)) > 0) n++
    out.arrayHeader(n)
    const u8 = ks.arena.u8
    for (let i = 0, m = consumerCount(ks, g); i < m; i++) {
      const c = consumerAt(ks, g, i)
      const p = consumerPending(ks, c)
      if (p === 0) continue
      out.arrayHeader(2)
      out.bulk(u8, consumerNameAt(c), consumerNameLen(ks, c))
      out.bulkStr(String(p))
    }
    return
  }
  let c = 0
  if (consumerArg !== 0) {
    c = consumerFind(ks, g, buf, start[consumerArg], len[consumerArg])
    if (c === 0) { out.raw(EMPTY_ARRAY); return }
  }
  const now = shard.now()
  const body = new Writer(1024)
  body.resp3 = out.resp3
  let n = 0
  let r = pelSearch(ks, g, pStart)
  if (r < 0) r = -r - 1
  const u8 = ks.arena.u8
  for (; count > 0 && r < total; r++) {
    const at = pelAt(ks, g, r)
    if (idCmp(recId(ks, at, tA), pEnd) > 0) break
    if (c !== 0 && recConsumer(ks, at) !== c) continue
    if (minIdle !== 0 && now - recTime(ks, at) < minIdle) continue
    n++
    count--
    body.arrayHeader(4)
    writeId(body, tA)
    const rc = recConsumer(ks, at)
    body.bulk(u8, consumerNameAt(rc), consumerNameLen(ks, rc))
    const elapsed = now - recTime(ks, at)
    body.int(elapsed < 0 ? 0 : elapsed)
    body.int(recCount(ks, at))
  }
  out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
}

// --- XCLAIM, XAUTOCLAIM --------------------------------------------------------------------------------------

function entryExists (ks: Keyspace, e: number, id: StreamId): boolean {
  let isFound = false
  streamRange(ks, e, id, id, false, () => { isFound = true; return false })
  return isFound
}

/** Writes the entry with this id (which exists). */
function writeEntryById (shard: Shard, e: number, id: StreamId, out: ReplyWriter): void {
  streamRange(shard.ks, e, id, id, false, () => { writeEntry(shard, out); return false })
}

/** XCLAIM's and XAUTOCLAIM's consumer (argv[3]), found or created (an event) when first needed. */
function claimConsumer (shard: Shard, g: number, argv: Argv, now: number): number {
  const { buf, start, len } = argv
  const ks = shard.ks
  let c = consumerFind(ks, g, buf, start[3], len[3])
  if (c === 0) {
    c = consumerCreate(ks, g, buf, start[3], len[3], now)
    shard.notify(NOTIFY_STREAM, EV_CREATECONSUMER, buf, start[1], len[1])
    shard.dirty++
  } else consumerSetSeen(ks, c, now)
  return c
}


export function xclaimCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const ks = shard.ks
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e !== 0 && ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  const g = e === 0 ? 0 : groupFind(ks, e, buf, start[2], len[2])
  if (g === 0) { out.raw(noGroup(argv)); return }
  let minIdle = parseLL(buf, start[4], len[4])
  if (minIdle === null) { out.raw(errorReply('ERR Invalid min-idle-time argument for XCLAIM')); return }
  if (minIdle < 0) minIdle = 0
  const ids: StreamId[] = []
  let j = 5
  for (; j < argc; j++) {
    const id = new StreamId()
    if (parseId(buf, start[j], len[j], id, false, true) === ID_INVALID) break
    ids.push(id)
  }
  const now = shard.now()
  let isForce = false
  let isJustId = false
  let deliveryTime = -1
  let retryCount = -1
  const lastIdArg = idSetZero(new StreamId())
  for (; j < argc; j++) {
    const more = argc - 1 - j
    const s = start[j]
    const l = len[j]
    if (equalsLower(buf, s, l, TOK_FORCE)) isForce = true
    else if (equalsLower(buf, s, l, TOK_JUSTID)) isJustId = true
    else if (more > 0 && equalsLower(buf, s, l, TOK_IDLE)) {
      j++
      const v = parseLL(buf, start[j], len[j])
      if (v === null) { out.raw(errorReply('ERR Invalid IDLE option argument for XCLAIM')); return }
      deliveryTime = now - v
    } else if (more > 0 && equalsLower(buf, s, l, TOK_TIME)) {
      j++
      const v = parseLL(buf, start[j], len[j])
      if (v === null) { out.raw(errorReply('ERR Invalid TIME option argument for XCLAIM')); return }
      deliveryTime = v
    } else if (more > 0 && equalsLower(buf, s, l, TOK_RETRYCOUNT)) {
      j++
      const v = parseLL(buf, start[j], len[j])
      if (v === null) { out.raw(errorReply('ERR Invalid RETRYCOUNT option argument for XCLAIM')); return }
      retryCount = v
    } else if (more > 0 && equalsLower(buf, s, l, TOK_LASTID)) {
      j++
      if (parseId(buf, start[j], len[j], lastIdArg, false, true) === ID_INVALID) { out.raw(INVALID_ID); return }
    } else {
      out.raw(errorReply(`ERR Unrecognized XCLAIM option '${cstr(buf, s, l)}'`))
      return
    }
  }
  if (!ks.arena.reserve(groupReserveBytes(len[3], ids.length))) { out.raw(OOM); return }
  // A LASTID that moves the group's id counts one in Redis's dirty when no entry counted.
  const isLastIdMoved = idCmp(lastIdArg, groupLastId(ks, g, tA)) > 0
  if (isLastIdMoved) groupSetLastId(ks, g, lastIdArg)
  if (deliveryTime !== -1) {
    if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now
  } else deliveryTime = now
  let c = 0
  const body = new Writer(1024)
  body.resp3 = out.resp3
  let n = 0
  let claimed = 0
  for (const id of ids) {
    let r = pelSearch(ks, g, id)
    if (!entryExists(ks, e, id)) {
      // Redis's dirty: one per entry claimed or dropped from the PEL (its entry deleted).
      if (r >= 0) { pelRemove(ks, g, r); claimed++ }
      continue
    }
    if (isForce && r < 0) {
      pelInsert(ks, g, -r - 1, id, now, 1, 0)
      r = -r - 1
    }
    if (r < 0) continue
    let at = pelAt(ks, g, r)
    if (recConsumer(ks, at) !== 0 && minIdle !== 0 && now - recTime(ks, at) < minIdle) continue
    if (c === 0) {
      c = claimConsumer(shard, g, argv, now)
      at = pelAt(ks, g, r)
    }
    recSetTime(ks, at, deliveryTime)
    if (retryCount >= 0) recSetCount(ks, at, retryCount)
    else if (!isJustId) recSetCount(ks, at, recCount(ks, at) + 1)
    recSetConsumer(ks, at, c)
    if (isJustId) writeId(body, id)
    else writeEntryById(shard, e, id, body)
    n++
  }
  shard.dirty += claimed + n
  if (isLastIdMoved && claimed + n === 0) shard.dirty++
  out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
}

export function xautoclaimCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let minIdle = parseLL(buf, start[4], len[4])
  if (minIdle === null) { out.raw(errorReply('ERR Invalid min-idle-time argument for XAUTOCLAIM')); return }
  if (minIdle < 0) minIdle = 0
  const from = new StreamId()
  const isEx = len[5] > 1 && buf[start[5]] === 40
  if (parseId(buf, start[5] + (isEx ? 1 : 0), len[5] - (isEx ? 1 : 0), from, false, isEx) === ID_INVALID) { out.raw(INVALID_ID); return }
  if (isEx && !idIncr(from)) { out.raw(BAD_START); return }
  let count = 100
  let isJustId = false
  for (let j = 6; j < argc; j++) {
    const more = argc - 1 - j
    if (more > 0 && equalsLower(buf, start[j], len[j], TOK_COUNT)) {
      const v = parseLL(buf, start[j + 1], len[j + 1])
      if (v === null || v < 1 || v > 576460752303423487) { out.raw(COUNT_POSITIVE); return }
      count = v
      j++
    } else if (equalsLower(buf, start[j], len[j], TOK_JUSTID)) isJustId = true
    else { out.raw(SYNTAX_ERR); return }
  }
  const ks = shard.ks
  const e = shard.lookupRead(buf, start[1], len[1])
  if (e !== 0 && ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return }
  const g = e === 0 ? 0 : groupFind(ks, e, buf, start[2], len[2])
  if (g === 0) { out.raw(noGroup(argv)); return }
  if (!ks.arena.reserve(groupReserveBytes(len[3], 0))) { out.raw(OOM); return }
  let attempts = count * 10
  const now = shard.now()
  let c = 0
  const body = new Writer(1024)
  body.resp3 = out.resp3
  let n = 0
  const deleted: StreamId[] = []
  let r = pelSearch(ks, g, from)
  if (r < 0) r = -r - 1
  const id = new StreamId()
  while (attempts-- > 0 && count > 0 && r < pelCount(ks, g)) {
    let at = pelAt(ks, g, r)
    recId(ks, at, id)
    if (!entryExists(ks, e, id)) {
      pelRemove(ks, g, r)
      const d = new StreamId()
      deleted.push(idCopy(d, id))
      count--
      continue
    }
    if (minIdle !== 0 && now - recTime(ks, at) < minIdle) { r++; continue }
    if (c === 0) {
      c = claimConsumer(shard, g, argv, now)
      at = pelAt(ks, g, r)
    }
    recSetTime(ks, at, now)
    if (!isJustId) recSetCount(ks, at, recCount(ks, at) + 1)
    recSetConsumer(ks, at, c)
    if (isJustId) writeId(body, id)
    else writeEntryById(shard, e, id, body)
    n++
    count--
    r++
  }
  // Redis's dirty: one per entry claimed or dropped from the PEL.
  shard.dirty += n + deleted.length
  out.arrayHeader(3)
  if (r < pelCount(ks, g)) writeId(out, recId(ks, pelAt(ks, g, r), tA))
  else writeId(out, idSetZero(tA))
  out.arrayHeader(n)
  out.rawRange(body.buf, 0, body.len)
  out.arrayHeader(deleted.length)
  for (const d of deleted) writeId(out, d)
}

const STREAM = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'stream' } as const
const SUB = { group: 'stream', firstKey: 2, lastKey: 2, step: 1, route: 'key' } as const

function xgroupHelpCommand (_c: unknown, _argv: Argv, out: ReplyWriter): void { out.help('XGROUP', XGROUP_HELP) }

export const streamGroupCommands: CommandSpec[] = [
  { ...STREAM, name: 'xack', arity: -4, flags: ['write', 'fast'], since: '5.0.0', summary: 'Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.', complexity: 'O(1) for each message ID processed.', keySpecs: [{ flags: ['RW', 'update'] }], run: xackCommand },
  { ...STREAM, name: 'xautoclaim', arity: -6, flags: ['write', 'fast'], since: '6.2.0', summary: 'Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.', complexity: 'O(1) if COUNT is small.', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RW', 'delete'] }], run: xautoclaimCommand },
  { ...STREAM, name: 'xclaim', arity: -6, flags: ['write', 'fast'], since: '5.0.0', summary: 'Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.', complexity: 'O(log N) with N being the number of messages in the PEL of the consumer group.', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RW', 'update'] }], run: xclaimCommand },
  {
    name: 'xgroup',
    arity: -2,
    flags: [],
    firstKey: 0,
    lastKey: 0,
    step: 0,
    route: 'primary',
    group: 'stream',
    since: '5.0.0',
    summary: 'A container for consumer groups commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...SUB, name: 'xgroup|create', arity: -5, flags: ['write', 'denyoom'], since: '5.0.0', summary: 'Create a consumer group.', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'insert'] }], run: xgroupCreateCommand },
      { ...SUB, name: 'xgroup|createconsumer', arity: 5, flags: ['write', 'denyoom'], since: '6.2.0', summary: 'Create a consumer in a consumer group.', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'insert'] }], run: xgroupCreateconsumerCommand },
      { ...SUB, name: 'xgroup|delconsumer', arity: 5, flags: ['write'], since: '5.0.0', summary: 'Delete a consumer from a consumer group.', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'delete'] }], run: xgroupDelconsumerCommand },
      { ...SUB, name: 'xgroup|destroy', arity: 4, flags: ['write'], since: '5.0.0', summary: 'Destroy a consumer group.', complexity: 'O(N) where N is the number of entries in the group\'s pending entries list (PEL).', keySpecs: [{ flags: ['RW', 'delete'] }], run: xgroupDestroyCommand },
      { name: 'xgroup|help', arity: 2, flags: ['loading', 'stale'], firstKey: 0, lastKey: 0, step: 0, route: 'primary', group: 'stream', since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: xgroupHelpCommand },
      { ...SUB, name: 'xgroup|setid', arity: -5, flags: ['write'], since: '5.0.0', summary: 'Set a consumer group to an arbitrary last delivered ID value.', complexity: 'O(1)', keySpecs: [{ flags: ['RW', 'update'] }], run: xgroupSetidCommand },
    ],
  },
  { ...STREAM, name: 'xpending', arity: -3, flags: ['readonly'], since: '5.0.0', summary: 'Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.', complexity: 'O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RO', 'access'] }], run: xpendingCommand },
  { ...STREAM, name: 'xreadgroup', arity: -7, flags: ['write', 'blocking', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, route: 'block', since: '5.0.0', summary: 'Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.', complexity: 'For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.', keySpecs: [{ flags: ['RO', 'access'], keyword: { keyword: 'STREAMS', startfrom: 4 }, range: { lastkey: -1, keystep: 1, limit: 2 } }], getKeys: xreadGetKeys, blocks: xreadBlocks, run: xreadgroupCommand, coord: xreadgroupCoord },
]

export const streamGroupInternalCommands: CommandSpec[] = [
  { name: '__xrgcheck', arity: 7, flags: ['readonly'], firstKey: 5, lastKey: 5, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: xreadgroupCheckStepCommand },
  { name: '__xrgserve', arity: 7, flags: ['write'], firstKey: 5, lastKey: 5, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: xreadgroupServeStepCommand },
]

