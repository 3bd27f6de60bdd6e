// XINFO (Redis 7.0's xinfoCommand): STREAM (and FULL), GROUPS, CONSUMERS, with lag and
// entries-read as Redis 7.0 computes them (streamReplyWithCGLag,
// streamEstimateDistanceFromFirstEverEntry; XREADGROUP uses the same two to keep a group's counter).

import type { CommandSpec, Argv } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { TYPE_STREAM } from '../storage/keyspace.js'
import {
  StreamId, idCmp, idIsZero, idSetMax, idSetZero, streamEntriesAdded, streamFirstId, streamLastId, streamLen, streamMaxDeletedId,
  streamRange, streamRaxKeys, streamRaxNodes,
} from '../storage/stream-type.js'
import {
  INVALID_ENTRIES_READ, consumerAt, consumerCount, consumerNameAt, consumerNameLen, consumerPending, consumerSeen, groupAt, groupCount,
  groupEntriesRead, groupFind, groupLastId, groupNameAt, groupNameLen, pelAt, pelCount, recConsumer, recCount, recId, recTime,
} from '../storage/stream-group.js'
import { NOT_INTEGER, NO_SUCH_KEY, WRONGTYPE, errorReply } from '../protocol/errors.js'
import { equalsLower, token } from '../protocol/ascii.js'
import { replyRange, writeEntry, writeId } from './stream.js'
import { cstr, syntaxSub } from './stream-group.js'
import { parseLL } from '../protocol/ascii.js'

const TOK_COUNT = token('count')
const TOK_FULL = token('full')

// --- lag and entries read ----------------------------------------------------------------------------

const tA = new StreamId()
const tB = new StreamId()
const tC = new StreamId()

/** streamRangeHasTombstones(s, start, NULL). */
export function hasTombstonesFrom (ks: Keyspace, e: number, start: StreamId): boolean {
  if (streamLen(ks, e) === 0) return false
  const maxDel = streamMaxDeletedId(ks, e, tA)
  if (idIsZero(maxDel)) return false
  if (idCmp(streamFirstId(ks, e, tB), maxDel) > 0) return false
  return idCmp(start, maxDel) <= 0
}

/** streamEstimateDistanceFromFirstEverEntry: INVALID_ENTRIES_READ when unknown. */
export function estimateDistance (ks: Keyspace, e: number, id: StreamId): number {
  const added = streamEntriesAdded(ks, e)
  if (added === 0) return 0
  const last = streamLastId(ks, e, tA)
  if (streamLen(ks, e) === 0 && idCmp(id, last) < 1) return added
  const cmpLast = idCmp(id, last)
  if (cmpLast === 0) return added
  if (cmpLast > 0) return INVALID_ENTRIES_READ
  const first = streamFirstId(ks, e, tB)
  const maxDel = streamMaxDeletedId(ks, e, tC)
  if (idIsZero(maxDel) || idCmp(maxDel, first) < 0) {
    const c = idCmp(id, first)
    if (c < 0) return added - streamLen(ks, e)
    if (c === 0) return added - streamLen(ks, e) + 1
  }
  return INVALID_ENTRIES_READ
}

const lagId = new StreamId()

/** streamReplyWithCGLag. */
function writeLag (ks: Keyspace, e: number, g: number, out: ReplyWriter): void {
  const added = streamEntriesAdded(ks, e)
  if (added === 0) { out.int(0); return }
  const read = groupEntriesRead(ks, g)
  groupLastId(ks, g, lagId)
  if (read !== INVALID_ENTRIES_READ && !hasTombstonesFrom(ks, e, lagId)) { out.int(added - read); return }
  const est = estimateDistance(ks, e, lagId)
  if (est !== INVALID_ENTRIES_READ) out.int(added - est)
  else out.nullBulk()
}

function writeEntriesRead (ks: Keyspace, g: number, out: ReplyWriter): void {
  const read = groupEntriesRead(ks, g)
  if (read !== INVALID_ENTRIES_READ) out.int(read)
  else out.nullBulk()
}

// --- XINFO ----------------------------------------------------------------------------------------------------

function streamForXinfo (shard: Shard, argv: Argv, out: ReplyWriter): number {
  const { buf, start, len } = argv
  const e = shard.lookupRead(buf, start[2], len[2])
  if (e === 0) { out.raw(NO_SUCH_KEY); return 0 }
  if (shard.ks.type(e) !== TYPE_STREAM) { out.raw(WRONGTYPE); return 0 }
  return e
}

export function xinfoConsumersCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const e = streamForXinfo(shard, argv, out)
  if (e === 0) return
  const ks = shard.ks
  const g = groupFind(ks, e, buf, start[3], len[3])
  if (g === 0) {
    out.raw(errorReply(`NOGROUP No such consumer group '${cstr(buf, start[3], len[3])}' for key name '${cstr(buf, start[2], len[2])}'`))
    return
  }
  const m = consumerCount(ks, g)
  out.arrayHeader(m)
  const now = shard.now()
  for (let i = 0; i < m; i++) {
    const c = consumerAt(ks, g, i)
    const idle = now - consumerSeen(ks, c)
    out.mapHeader(3)
    out.bulkStr('name')
    out.bulk(ks.arena.u8, consumerNameAt(c), consumerNameLen(ks, c))
    out.bulkStr('pending')
    out.int(consumerPending(ks, c))
    out.bulkStr('idle')
    out.int(idle < 0 ? 0 : idle)
  }
}

export function xinfoGroupsCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = streamForXinfo(shard, argv, out)
  if (e === 0) return
  const ks = shard.ks
  const k = groupCount(ks, e)
  out.arrayHeader(k)
  for (let i = 0; i < k; i++) {
    const g = groupAt(ks, e, i)
    out.mapHeader(6)
    out.bulkStr('name')
    out.bulk(ks.arena.u8, groupNameAt(g), groupNameLen(ks, g))
    out.bulkStr('consumers')
    out.int(consumerCount(ks, g))
    out.bulkStr('pending')
    out.int(pelCount(ks, g))
    out.bulkStr('last-delivered-id')
    writeId(out, groupLastId(ks, g, tA))
    out.bulkStr('entries-read')
    writeEntriesRead(ks, g, out)
    out.bulkStr('lag')
    writeLag(ks, e, g, out)
  }
}

const allFrom = idSetZero(new StreamId())
const allTo = idSetMax(new StreamId())

export function xinfoStreamCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const e = streamForXinfo(shard, argv, out)
  if (e === 0) return
  let isFull = true
  let count = 10
  const optc = argc - 3
  if (optc === 0) isFull = false
  else {
    if ((optc !== 1 && optc !== 3) || !equalsLower(buf, start[3], len[3], TOK_FULL)) { out.raw(syntaxSub(argv, 'XINFO')); return }
    if (optc === 3) {
      if (!equalsLower(buf, start[4], len[4], TOK_COUNT)) { out.raw(syntaxSub(argv, 'XINFO')); return }
      const v = parseLL(buf, start[5], len[5])
      if (v === null) { out.raw(NOT_INTEGER); return }
      count = v < 0 ? 10 : v
    }
  }
  const ks = shard.ks
  out.mapHeader(isFull ? 9 : 10)
  out.bulkStr('length')
  out.int(streamLen(ks, e))
  out.bulkStr('radix-tree-keys')
  out.int(streamRaxKeys(ks, e))
  out.bulkStr('radix-tree-nodes')
  out.int(streamRaxNodes(ks, e))
  out.bulkStr('last-generated-id')
  writeId(out, streamLastId(ks, e, tA))
  out.bulkStr('max-deleted-entry-id')
  writeId(out, streamMaxDeletedId(ks, e, tA))
  out.bulkStr('entries-added')
  out.int(streamEntriesAdded(ks, e))
  out.bulkStr('recorded-first-entry-id')
  writeId(out, streamFirstId(ks, e, tA))
  if (!isFull) {
    out.bulkStr('groups')
    out.int(groupCount(ks, e))
    out.bulkStr('first-entry')
    let isEmitted = false
    streamRange(ks, e, allFrom, allTo, false, () => { writeEntry(shard, out); isEmitted = true; return false })
    if (!isEmitted) out.nullBulk()
    out.bulkStr('last-entry')
    isEmitted = false
    streamRange(ks, e, allFrom, allTo, true, () => { writeEntry(shard, out); isEmitted = true; return false })
    if (!isEmitted) out.nullBulk()
    return
  }
  out.bulkStr('entries')
  replyRange(shard, e, allFrom, allTo, count, false, out)
  out.bulkStr('groups')
  const k = groupCount(ks, e)
  out.arrayHeader(k)
  const u8 = ks.arena.u8
  for (let i = 0; i < k; i++) {
    const g = groupAt(ks, e, i)
    out.mapHeader(7)
    out.bulkStr('name')
    out.bulk(u8, groupNameAt(g), groupNameLen(ks, g))
    out.bulkStr('last-delivered-id')
    writeId(out, groupLastId(ks, g, tA))
    out.bulkStr('entries-read')
    writeEntriesRead(ks, g, out)
    out.bulkStr('lag')
    writeLag(ks, e, g, out)
    const total = pelCount(ks, g)
    out.bulkStr('pel-count')
    out.int(total)
    out.bulkStr('pending')
    const np = count === 0 ? total : Math.min(total, count)
    out.arrayHeader(np)
    for (let r = 0; r < np; r++) {
      const at = pelAt(ks, g, r)
      out.arrayHeader(4)
      writeId(out, recId(ks, at, tA))
      const c = recConsumer(ks, at)
      out.bulk(u8, consumerNameAt(c), consumerNameLen(ks, c))
      out.int(recTime(ks, at))
      out.int(recCount(ks, at))
    }
    out.bulkStr('consumers')
    const m = consumerCount(ks, g)
    out.arrayHeader(m)
    for (let j = 0; j < m; j++) {
      const c = consumerAt(ks, g, j)
      out.mapHeader(4)
      out.bulkStr('name')
      out.bulk(u8, consumerNameAt(c), consumerNameLen(ks, c))
      out.bulkStr('seen-time')
      out.int(consumerSeen(ks, c))
      const pending = consumerPending(ks, c)
      out.bulkStr('pel-count')
      out.int(pending)
      out.bulkStr('pending')
      const want = count === 0 ? pending : Math.min(pending, count)
      out.arrayHeader(want)
      let w = 0
      for (let r = 0; r < total && w < want; r++) {
        const at = pelAt(ks, g, r)
        if (recConsumer(ks, at) !== c) continue
        out.arrayHeader(3)
        writeId(out, recId(ks, at, tA))
        out.int(recTime(ks, at))
        out.int(recCount(ks, at))
        w++
      }
    }
  }
}

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
]

const SUB = { group: 'stream', firstKey: 2, lastKey: 2, step: 1, route: 'key' } as const

function xinfoHelpCommand (_c: unknown, _argv: Argv, out: ReplyWriter): void { out.help('XINFO', XINFO_HELP) }

export const streamInfoCommands: CommandSpec[] = [
  {
    name: 'xinfo',
    arity: -2,
    flags: [],
    firstKey: 0,
    lastKey: 0,
    step: 0,
    route: 'primary',
    group: 'stream',
    since: '5.0.0',
    summary: 'A container for stream introspection commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...SUB, name: 'xinfo|consumers', arity: 4, flags: ['readonly'], since: '5.0.0', summary: 'List the consumers in a consumer group', complexity: 'O(1)', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RO', 'access'] }], run: xinfoConsumersCommand },
      { ...SUB, name: 'xinfo|groups', arity: 3, flags: ['readonly'], since: '5.0.0', summary: 'List the consumer groups of a stream', complexity: 'O(1)', keySpecs: [{ flags: ['RO', 'access'] }], run: xinfoGroupsCommand },
      { name: 'xinfo|help', arity: 2, flags: ['loading', 'stale'], firstKey: 0, lastKey: 0, step: 0, route: 'primary', group: 'stream', since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: xinfoHelpCommand },
      { ...SUB, name: 'xinfo|stream', arity: -3, flags: ['readonly'], since: '5.0.0', summary: 'Get information about a stream', complexity: 'O(1)', keySpecs: [{ flags: ['RO', 'access'] }], run: xinfoStreamCommand },
    ],
  },
]
