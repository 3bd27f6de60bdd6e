// XREAD and XREADGROUP BLOCK on the blocking machinery (workers/shard-worker.ts, server/blocking.ts):
// what a blocked stream reader waits for, and its service once XADD signals its key (Redis's
// serveClientsBlockedOnStreamKey). Keys on one shard: the shard parks the client (BLOCK_XREAD).
// Keys on several: the connection's thread tries in a transaction (xreadTry, xreadgroupTry),
// then waits with __xbwait on each shard, which answers +READY once a key has something, and
// tries again.

import { Buffer } from 'node:buffer'
import type { Argv, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard, BlockSpec, StreamWait } from '../storage/shard.js'
import { BLOCK_NOTIFY } from '../storage/shard.js'
import { TYPE_STREAM } from '../storage/keyspace.js'
import { StreamId, idCmp, idCopy, idIncr, idSetMax, streamLastId } from '../storage/stream-type.js'
import { groupFind, groupLastId } from '../storage/stream-group.js'
import { OOM, errorReply } from '../protocol/errors.js'
import { useStreamServe } from './list.js'
import { ID_INVALID, parseId, parseXread, replyRange, type XreadArgs } from './stream.js'
import { xreadgroupArgs, xreadgroupServe } from './stream-group.js'

const NOGROUP_BLOCKED = errorReply('NOGROUP the consumer group this client was blocked on no longer exists')
const READY = Buffer.from('+READY\r\n')

const lastId = new StreamId()
const groupId = new StreamId()
const from = new StreamId()
const to = idSetMax(new StreamId())

/** The id a waiter reads after on key (its first place in the keys, as blockForKeys keeps it). */
function waitIdOf (spec: BlockSpec, key: Buffer): StreamId {
  const w = spec.stream as StreamWait
  for (let i = 0; i < spec.keys.length; i++) if (spec.keys[i].equals(key)) return w.ids[i]
  return w.ids[0]
}

/** The stream at key has entries past what the waiter read (or its group is gone: an error to serve). */
function streamHas (shard: Shard, key: Buffer, spec: BlockSpec): boolean {
  const e = shard.lookup(key, 0, key.length)
  if (e === 0 || shard.ks.type(e) !== TYPE_STREAM) return false
  const w = spec.stream as StreamWait
  const ks = shard.ks
  streamLastId(ks, e, lastId)
  if (w.group === null) return idCmp(lastId, waitIdOf(spec, key)) > 0
  const g = groupFind(ks, e, w.group, 0, w.group.length)
  if (g === 0) return true
  return idCmp(lastId, groupLastId(ks, g, groupId)) > 0
}

/** serveClientsBlockedOnStreamKey for one waiter (streamHas said yes): {key: entries}. */
function serveStream (shard: Shard, spec: BlockSpec, key: Buffer, out: ReplyWriter): void {
  const w = spec.stream as StreamWait
  const ks = shard.ks
  const e = shard.lookup(key, 0, key.length)
  if (w.group !== null && groupFind(ks, e, w.group, 0, w.group.length) === 0) { out.raw(NOGROUP_BLOCKED); return }
  // A consumer and pending entries may be created: room for them first, or the OOM error.
  if (w.group !== null && !ks.arena.reserve(65536 + 64 * w.count)) { out.raw(OOM); return }
  if (out.resp3) out.mapHeader(1)
  else { out.arrayHeader(1); out.arrayHeader(2) }
  if (w.group === null) {
    out.bulkBuf(key)
    idCopy(from, waitIdOf(spec, key))
    idIncr(from)
    replyRange(shard, e, from, to, w.count, false, out)
    return
  }
  const consumer = w.consumer as Buffer
  const buf = Buffer.concat([w.group, consumer, key, Buffer.from('>')])
  const l = [0, w.group.length, consumer.length, key.length, 1]
  const s = [0, 0, w.group.length, w.group.length + consumer.length, w.group.length + consumer.length + key.length]
  const argv: Argv = { buf, argc: 5, start: Int32Array.from(s), len: Int32Array.from(l) }
  const a: XreadArgs = { count: w.count, block: 0, blockMs: 0, streams: 3, nstreams: 1, group: 1, isNoAck: w.isNoAck }
  xreadgroupServe(shard, argv, a, 0, out, true, true)
}

useStreamServe(streamHas, serveStream)

/** The arguments' error of a blocking XREAD/XREADGROUP (checked before any key), or its BLOCK milliseconds. */
export function streamBlockArgs (name: string, argv: Argv): Buffer | number {
  const a = name === 'xreadgroup' ? xreadgroupArgs(argv) : parseXread(argv, false)
  return Buffer.isBuffer(a) ? a : a.blockMs
}

/**
 * __xbwait group key id [key id ...]: part of a blocking XREAD/XREADGROUP whose keys span shards.
 * +READY at once if a key here has entries past its id (XREAD) or its group's (XREADGROUP, group
 * not empty), else the client waits here until XADD gives one some (BLOCK_NOTIFY).
 */
export function xbwaitCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const keys: Buffer[] = []
  const ids: StreamId[] = []
  for (let i = 2; i + 1 < argc; i += 2) {
    keys.push(Buffer.from(buf.subarray(start[i], start[i] + len[i])))
    const id = new StreamId()
    if (parseId(buf, start[i + 1], len[i + 1], id, false, false) === ID_INVALID) idSetMax(id)
    ids.push(id)
  }
  const group = len[1] === 0 ? null : Buffer.from(buf.subarray(start[1], start[1] + len[1]))
  const spec: BlockSpec = {
    kind: BLOCK_NOTIFY, isZset: false, where: 0, whereTo: 0, count: 0, keys, dst: null, deadline: 0, waitId: 0,
    stream: { ids, group, consumer: null, isNoAck: false, count: 0 },
  }
  for (const key of keys) {
    if (streamHas(shard, key, spec)) { out.raw(READY); return }
  }
  shard.pendingBlock = spec
}

export const streamBlockInternalCommands: CommandSpec[] = [
  { name: '__xbwait', arity: -4, flags: ['readonly'], firstKey: 2, lastKey: -1, step: 2, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: xbwaitCommand },
]

