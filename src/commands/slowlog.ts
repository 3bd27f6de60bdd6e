// SLOWLOG (Redis 7.0's slowlog.c) over threads. A command is measured where it runs: a shard
// logs the commands it ran whole into its own list; the I/O threads send what they ran
// (CONFIG, CLIENT...) and multi-shard commands (timed from staging to the merged reply) to shard
// 0 as `__slowlog` records. Ids come from one shared counter (server/command-stats.ts), taken
// when the entry is made, so they are unique and ordered across every thread; SLOWLOG GET asks
// every shard for its newest entries and merges them by id, newest first. The log is the newest
// slowlog-max-len entries over all shards (each shard keeps at most that many).

import { Buffer } from 'node:buffer'
import type { Argv, ClientContext, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { OK } from '../protocol/replies.js'
import { errorReply } from '../protocol/errors.js'
import { respEnd } from '../protocol/resp-scan.js'
import { parseInt64, parsed } from '../protocol/ascii.js'
import { SET_SLOWLOG_MAX_LEN } from '../server/command-stats.js'

/** SLOWLOG_ENTRY_MAX_ARGC, SLOWLOG_ENTRY_MAX_STRING */
const MAX_ARGC = 32
const MAX_STRING = 128

export interface SlowEntry { id: number, timeSec: number, us: number, args: Buffer[], addr: Buffer, name: Buffer }

/** The shared settings words (server/command-stats.ts), set by the shard worker at start. */
export const slowlogSettings: { words: Float64Array<ArrayBufferLike> } = { words: new Float64Array(8) }

/** This thread's entries (on a shard), oldest first. */
const entries: SlowEntry[] = []

/** slowlogCreateEntry's argument trimming: 32 arguments at most, each 128 bytes at most. */
export function slowArgs (argv: Argv, from = 0): Buffer[] {
  const argc = argv.argc - from
  const n = Math.min(argc, MAX_ARGC)
  const out: Buffer[] = []
  for (let j = 0; j < n; j++) {
    if (n !== argc && j === n - 1) { out.push(Buffer.from(`... (${argc - n + 1} more arguments)`)); break }
    const s = argv.start[from + j]
    const l = argv.len[from + j]
    if (l > MAX_STRING) out.push(Buffer.concat([argv.buf.subarray(s, s + MAX_STRING), Buffer.from(`... (${l - MAX_STRING} more bytes)`)]))
    else out.push(Buffer.from(argv.buf.subarray(s, s + l)))
  }
  return out
}

/**
 * What SLOWLOG could show of a command, kept in one allocation while a multi-shard command runs
 * (its argv buffer is reused meanwhile): argc, then for each of the first 32 arguments its
 * length and at most its first 128 bytes. slowArgsOf gives the entry's arguments back.
 */
export function slowCopy (argv: Argv): Uint8Array {
  const n = Math.min(argv.argc, MAX_ARGC)
  let bytes = 4
  for (let j = 0; j < n; j++) bytes += 4 + Math.min(argv.len[j], MAX_STRING)
  const out = new Uint8Array(bytes)
  let p = putU32(out, 0, argv.argc)
  const buf = argv.buf
  for (let j = 0; j < n; j++) {
    const l = argv.len[j]
    const s = argv.start[j]
    p = putU32(out, p, l)
    const k = l < MAX_STRING ? l : MAX_STRING
    for (let i = 0; i < k; i++) out[p + i] = buf[s + i]
    p += k
  }
  return out
}

function putU32 (b: Uint8Array, p: number, v: number): number {
  b[p] = v & 0xff; b[p + 1] = (v >>> 8) & 0xff; b[p + 2] = (v >>> 16) & 0xff; b[p + 3] = v >>> 24
  return p + 4
}

function getU32 (b: Uint8Array, p: number): number { return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0 }

/** slowArgs over a slowCopy. */
export function slowArgsOf (copy: Uint8Array): Buffer[] {
  const argc = getU32(copy, 0)
  const n = Math.min(argc, MAX_ARGC)
  const out: Buffer[] = []
  let p = 4
  for (let j = 0; j < n; j++) {
    const l = getU32(copy, p)
    p += 4
    const k = Math.min(l, MAX_STRING)
    if (n !== argc && j === n - 1) { out.push(Buffer.from(`... (${argc - n + 1} more arguments)`)); break }
    if (l > MAX_STRING) out.push(Buffer.concat([copy.subarray(p, p + k), Buffer.from(`... (${l - MAX_STRING} more bytes)`)]))
    else out.push(Buffer.from(copy.subarray(p, p + k)))
    p += k
  }
  return out
}

/** slowlogPushEntryIfNeeded's list: newest kept, oldest dropped past slowlog-max-len. */
export function slowlogPush (e: SlowEntry, maxLen: number): void {
  entries.push(e)
  while (entries.length > maxLen) entries.shift()
}

/** __slowlog id time us addr name args...: an entry an I/O thread made, kept here. */
export function slowlogAddCommand (_shard: Shard, argv: Argv, out: ReplyWriter): void {
  const num = (i: number): number => parseInt64(argv.buf, argv.start[i], argv.len[i]) ? parsed.value : 0
  const arg = (i: number): Buffer => Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))
  const args: Buffer[] = []
  for (let i = 6; i < argv.argc; i++) args.push(arg(i))
  slowlogPush({ id: num(1), timeSec: num(2), us: num(3), addr: arg(4), name: arg(5), args }, slowlogSettings.words[SET_SLOWLOG_MAX_LEN])
  out.raw(OK)
}

/** The __slowlog record of an entry (Router.sendNoReply to shard 0). */
export function slowlogRecord (e: SlowEntry): Uint8Array[] {
  return [Buffer.from('__slowlog'), Buffer.from(String(e.id)), Buffer.from(String(e.timeSec)), Buffer.from(String(e.us)), e.addr, e.name, ...e.args]
}

const COUNT_ERR = errorReply('ERR count should be greater than or equal to -1')
const DEFAULT_COUNT = 10

/** SLOWLOG GET's count: -1 for all; null after replying with the error. */
function countOrReply (argv: Argv, out: ReplyWriter): number | null {
  if (argv.argc === 2) return DEFAULT_COUNT
  // getRangeLongFromObjectOrReply(-1, LONG_MAX): a bad number gets the same message.
  if (!parseInt64(argv.buf, argv.start[2], argv.len[2]) || parsed.value < -1) { out.raw(COUNT_ERR); return null }
  return parsed.value === -1 ? Infinity : parsed.value
}

function writeEntry (e: SlowEntry, out: ReplyWriter): void {
  out.arrayHeader(6)
  out.int(e.id)
  out.int(e.timeSec)
  out.int(e.us)
  out.arrayHeader(e.args.length)
  for (const a of e.args) out.bulk(a, 0, a.length)
  out.bulk(e.addr, 0, e.addr.length)
  out.bulk(e.name, 0, e.name.length)
}

function syntaxError (argv: Argv): Buffer {
  const sub = Buffer.from(argv.buf.subarray(argv.start[1], argv.start[1] + Math.min(argv.len[1], 128))).toString('latin1')
  return errorReply(`ERR unknown subcommand or wrong number of arguments for '${sub}'. Try SLOWLOG HELP.`)
}

/** A shard's part of SLOWLOG GET: its newest `count` entries, newest first. */
export function slowlogGetShard (_shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (argv.argc > 3) { out.raw(syntaxError(argv)); return }
  const count = countOrReply(argv, out)
  if (count === null) return
  const sorted = entries.slice().sort((a, b) => b.id - a.id)
  const n = Math.min(count, sorted.length)
  out.arrayHeader(n)
  for (let i = 0; i < n; i++) writeEntry(sorted[i], out)
}

/** Every shard's newest entries merged by id, newest first, at most count and slowlog-max-len. */
export function slowlogGetFinish (c: ClientContext, argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  let count = argv.argc === 3 && parseInt64(argv.buf, argv.start[2], argv.len[2]) ? parsed.value : DEFAULT_COUNT
  const maxLen = c.server.cmdStats.settings[SET_SLOWLOG_MAX_LEN]
  if (count === -1 || count > maxLen) count = maxLen
  const all: Array<{ id: number, bytes: Buffer }> = []
  for (const part of parts) {
    let p = part.indexOf(10) + 1
    while (p < part.length) {
      const end = respEnd(part, p)
      // Each entry opens with *6\r\n:<id>\r\n.
      const idAt = part.indexOf(58, p) + 1
      const id = Number(part.toString('latin1', idAt, part.indexOf(13, idAt)))
      all.push({ id, bytes: part.subarray(p, end) })
      p = end
    }
  }
  all.sort((a, b) => b.id - a.id)
  const n = Math.min(count, all.length)
  out.arrayHeader(n)
  for (let i = 0; i < n; i++) out.raw(all[i].bytes)
}

export function slowlogLenShard (_shard: Shard, _argv: Argv, out: ReplyWriter): void { out.int(entries.length) }

export function slowlogLenFinish (c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  let n = 0
  for (const part of parts) n += Number(part.toString('latin1', 1, part.indexOf(13)))
  out.int(Math.min(n, c.server.cmdStats.settings[SET_SLOWLOG_MAX_LEN]))
}

export function slowlogResetShard (_shard: Shard, _argv: Argv, out: ReplyWriter): void {
  entries.length = 0
  out.raw(OK)
}

const HELP_LINES = [
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
]

export function slowlogHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.help('SLOWLOG', HELP_LINES)
}

const S = { group: 'server', firstKey: 0, lastKey: 0, step: 0 } as const
const ADMIN = ['admin', 'loading', 'stale'] as const

export const slowlogCommands: CommandSpec[] = [
  {
    ...S,
    name: 'slowlog',
    arity: -2,
    flags: [],
    route: 'primary',
    since: '2.2.12',
    summary: 'A container for slow log commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...S, name: 'slowlog|get', arity: -2, flags: ADMIN, route: 'all', merge: 'custom', since: '2.2.12', summary: 'Get the slow log\'s entries', complexity: 'O(N) where N is the number of entries returned', tips: ['request_policy:all_nodes', 'nondeterministic_output'], run: slowlogGetShard, finish: slowlogGetFinish },
      { ...S, name: 'slowlog|len', arity: 2, flags: ADMIN, route: 'all', merge: 'custom', since: '2.2.12', summary: 'Get the slow log\'s length', complexity: 'O(1)', tips: ['request_policy:all_nodes', 'response_policy:agg_sum', 'nondeterministic_output'], run: slowlogLenShard, finish: slowlogLenFinish },
      { ...S, name: 'slowlog|reset', arity: 2, flags: ADMIN, route: 'all', merge: 'allOk', since: '2.2.12', summary: 'Clear all entries from the slow log', complexity: 'O(N) where N is the number of entries in the slowlog', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], run: slowlogResetShard },
      { ...S, name: 'slowlog|help', arity: 2, flags: ['loading', 'stale'], route: 'primary', since: '6.2.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: slowlogHelpCommand },
    ],
  },
  { ...S, name: '__slowlog', arity: -6, flags: [], route: 'hub', since: '', summary: '', complexity: '', internal: true, run: slowlogAddCommand },
]
