// MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE and HELP (Redis 7.0's object.c), over FlashKV's own
// memory: each shard reports its databases' arenas and index tables (route 'all'), and the
// client's thread adds the process's RSS and its own clients' buffers. Mapping to Redis's names:
// total.allocated is used_memory (what INFO memory says: arena blocks in use plus index tables),
// allocator.active the arenas' and tables' SharedArrayBuffer bytes, and everything else the
// process holds (V8 heaps, code, thread stacks, socket buffers) is RSS overhead.

import type { Argv, ClientContext, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { DATABASES } from '../storage/shard.js'
import { formatScore } from '../storage/zset-type.js'
import { OK } from '../protocol/replies.js'

/** The shard's part: "used capacity" then one "db keys table" line per database with keys. */
export function memoryShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  let used = 0
  let capacity = 0
  let s = ''
  for (let db = 0; db < DATABASES; db++) {
    const ks = shard.dbs[db]
    if (ks === null) continue
    used += ks.usedMemory
    capacity += ks.arena.capacity + ks.tableBytes
    if (ks.count > 0) s += `${db} ${ks.count} ${ks.tableBytes}\n`
  }
  out.bulkStr(`${used} ${capacity}\n${s}`)
}

interface Overhead {
  peak: number, total: number, clients: number, dbs: Map<number, { keys: number, table: number }>,
  overheadTotal: number, keys: number, bytesPerKey: number, dataset: number, datasetPerc: number, peakPerc: number,
  active: number, rss: number
}

/** The highest total seen by MEMORY STATS/DOCTOR on this thread (Redis tracks it in its cron). */
let peak = 0

function overhead (c: ClientContext, parts: readonly Buffer[]): Overhead {
  let total = 0
  let active = 0
  const dbs = new Map<number, { keys: number, table: number }>()
  for (const part of parts) {
    const text = part.toString('latin1')
    const lines = text.slice(text.indexOf('\r\n') + 2).split('\n')
    const [used, capacity] = lines[0].split(' ').map(Number)
    total += used
    active += capacity
    for (const line of lines.slice(1)) {
      if (line === '' || line.startsWith('\r')) continue
      const [db, keys, table] = line.split(' ').map(Number)
      const d = dbs.get(db) ?? { keys: 0, table: 0 }
      d.keys += keys
      d.table += table
      dbs.set(db, d)
    }
  }
  if (total > peak) peak = total
  // Clients' query and output buffers, of this thread's clients (the CLIENT LIST tot-mem figure).
  let clients = 0
  for (const cl of c.server.clientList()) {
    const m = /tot-mem=(\d+)/.exec(cl.infoLine(false))
    if (m !== null) clients += Number(m[1])
  }
  let tables = 0
  let keys = 0
  for (const d of dbs.values()) { tables += d.table; keys += d.keys }
  const overheadTotal = clients + tables
  const net = total
  return {
    peak, total, clients, dbs: new Map([...dbs].sort((a, b) => a[0] - b[0])), overheadTotal, keys,
    bytesPerKey: keys === 0 ? 0 : Math.floor(net / keys),
    dataset: Math.max(0, total - tables),
    datasetPerc: net === 0 ? 0 : Math.max(0, total - tables) * 100 / net,
    peakPerc: peak === 0 ? 0 : total * 100 / peak,
    active: Math.max(active, total),
    rss: process.memoryUsage.rss(),
  }
}

function double (out: ReplyWriter, d: number): void {
  const s = formatScore(d)
  if (out.resp3) out.raw(Buffer.from(`,${s}\r\n`, 'latin1'))
  else out.bulkStr(s)
}

export function memoryStatsFinish (c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const m = overhead(c, parts)
  const ratio = (a: number, b: number): number => b === 0 ? 0 : a / b
  out.mapHeader(27 + m.dbs.size)
  const int = (name: string, v: number): void => { out.bulkStr(name); out.int(Math.round(v)) }
  const dbl = (name: string, v: number): void => { out.bulkStr(name); double(out, v) }
  int('peak.allocated', m.peak)
  int('total.allocated', m.total)
  int('startup.allocated', 0)
  int('replication.backlog', 0)
  int('clients.slaves', 0)
  int('clients.normal', m.clients)
  int('cluster.links', 0)
  int('aof.buffer', 0)
  int('lua.caches', 0)
  int('functions.caches', 0)
  for (const [db, d] of m.dbs) {
    out.bulkStr(`db.${db}`)
    out.mapHeader(3)
    int('overhead.hashtable.main', d.table)
    // A TTL lives in its entry's header: no second table for expires.
    int('overhead.hashtable.expires', 0)
    int('overhead.hashtable.slot-to-keys', 0)
  }
  int('overhead.total', m.overheadTotal)
  int('keys.count', m.keys)
  int('keys.bytes-per-key', m.bytesPerKey)
  int('dataset.bytes', m.dataset)
  dbl('dataset.percentage', m.datasetPerc)
  dbl('peak.percentage', m.peakPerc)
  int('allocator.allocated', m.total)
  int('allocator.active', m.active)
  int('allocator.resident', m.active)
  dbl('allocator-fragmentation.ratio', ratio(m.active, m.total))
  int('allocator-fragmentation.bytes', m.active - m.total)
  dbl('allocator-rss.ratio', 1)
  int('allocator-rss.bytes', 0)
  dbl('rss-overhead.ratio', ratio(m.rss, m.active))
  int('rss-overhead.bytes', m.rss - m.active)
  dbl('fragmentation', ratio(m.rss, m.total))
  int('fragmentation.bytes', m.rss - m.total)
}

const MB = 1024 * 1024

export function memoryDoctorFinish (c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const m = overhead(c, parts)
  const reports: string[] = []
  const isEmpty = m.total < 5 * MB
  if (!isEmpty) {
    if (m.peak / m.total > 1.5) reports.push(PEAK)
    const frag = m.rss / m.total
    if (frag > 1.4 && m.rss - m.total > 10 * MB) reports.push(HIGH_TOTAL_RSS)
    if (m.active / m.total > 1.1 && m.active - m.total > 10 * MB) reports.push(HIGH_ALLOC_FRAG)
    if (m.rss / m.active > 1.1 && m.rss - m.active > 10 * MB) reports.push(HIGH_PROC_RSS)
    const clients = c.server.clientList().length
    if (clients > 0 && m.clients / clients > 200 * 1024) reports.push(BIG_CLIENTS)
  }
  let s: string
  if (isEmpty) s = EMPTY
  else if (reports.length === 0) s = NO_ISSUES
  else s = 'Sam, I detected a few issues in this Redis instance memory implants:\n\n' + reports.join('') + "I'm here to keep you safe, Sam. I want to help you.\n"
  out.verbatim(s)
}

const EMPTY = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
const NO_ISSUES = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
const PEAK = ' * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n'
const HIGH_TOTAL_RSS = ' * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is "flashkv-arena".\n\n'
const HIGH_ALLOC_FRAG = " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n"
const HIGH_PROC_RSS = ' * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n'
const BIG_CLIENTS = ' * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n'

const HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
]

function memoryHelp (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.arrayHeader(HELP.length)
  for (const line of HELP) out.status(line)
}

/** Redis built without jemalloc answers this; FlashKV's arenas are its own allocator. */
function mallocStats (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.bulkStr('Stats not supported for the current allocator')
}

/** Nothing to purge: freed arena blocks are reused by the size-class free lists. */
function purge (_c: ClientContext, _argv: Argv, out: ReplyWriter): void { out.raw(OK) }

const SUB = { group: 'server', arity: 2, flags: [], firstKey: 0, lastKey: 0, step: 0, since: '4.0.0' } as const
const SHARDS_SPECIAL = ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special']

export const memorySubcommands: CommandSpec[] = [
  { ...SUB, name: 'memory|doctor', route: 'all', merge: 'custom', tips: SHARDS_SPECIAL, summary: 'Outputs memory problems report', complexity: 'O(1)', run: memoryShardCommand, finish: memoryDoctorFinish },
  { ...SUB, name: 'memory|stats', route: 'all', merge: 'custom', tips: SHARDS_SPECIAL, summary: 'Show memory usage details', complexity: 'O(1)', run: memoryShardCommand, finish: memoryStatsFinish },
  { ...SUB, name: 'memory|malloc-stats', route: 'primary', tips: SHARDS_SPECIAL, summary: 'Show allocator internal stats', complexity: 'Depends on how much memory is allocated, could be slow', local: mallocStats },
  { ...SUB, name: 'memory|purge', route: 'primary', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'Ask the allocator to release memory', complexity: 'Depends on how much memory is allocated, could be slow', local: purge },
  { ...SUB, name: 'memory|help', flags: ['loading', 'stale'], route: 'primary', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: memoryHelp },
]
