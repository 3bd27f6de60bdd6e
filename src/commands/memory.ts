// MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE and HELP (Redis 7.0's object.c), and INFO memory's
// figures, over FlashKV's own memory: each shard reports its arenas, index tables and rings
// (route 'all'), and the client's thread adds every thread's client buffers (a shared word) and
// the process's RSS. Mapping to Redis's names: total.allocated is used_memory (arenas up to their
// tops, free blocks included, + tables + rings + client buffers), allocator.allocated the blocks in
// use, startup.allocated the empty databases; everything else the process holds (the shards'
// rings, V8 heaps, code, thread stacks, socket buffers) is RSS overhead.

import { Buffer } from 'node:buffer'
import type { Argv, ClientContext, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { DATABASES } from '../storage/shard.js'
import { EMPTY_TABLE_BYTES } from '../storage/keyspace.js'
import { formatScore } from '../storage/zset-type.js'
import { clientsMemory, evictionSettings } from '../storage/eviction.js'
import { OK } from '../protocol/replies.js'

/**
 * One shard's memory as a line of its INFO and MEMORY parts: `mem=committed,live,blocks,tables,startup,resident`
 * — committed: arenas up to their tops (free blocks included) + tables; live: blocks in use +
 * tables; startup: what its empty database 0 holds (a shard's rings and thread are RSS base, not
 * data: Redis has neither); resident: arenas up to the highest their tops have been in their
 * buffers (pages written, which a slide leaves in place until Arena.shrink) + tables.
 */
export function shardMemoryLine (shard: Shard): string {
  let blocks = 0
  let tables = 0
  for (const ks of shard.dbs) {
    if (ks === null) continue
    blocks += ks.arena.used
    tables += ks.tableBytes
  }
  return `mem=${shard.committedMemory()},${shard.usedMemory()},${blocks},${tables},${EMPTY_TABLE_BYTES},${shard.residentMemory()},${shard.lazyQueue.length},${shard.lazyFreed}\n`
}

/** Every shard's memory lines summed, with the clients' buffers: what INFO memory and MEMORY STATS report. */
export interface MemoryTotals {
  /** used_memory: committed arenas, tables, rings, clients' buffers. */
  used: number
  /** The same with live blocks instead of committed arenas (what Redis's allocator calls allocated). */
  live: number
  blocks: number
  tables: number
  /** used_memory_startup: what every shard's empty database 0 holds. */
  startup: number
  clients: number
  peak: number
  rss: number
  /** Arenas up to their highest tops, and tables (allocator_resident). */
  resident: number
  /** Values waiting for the background freeing, and those it has freed (lazyfree_pending_objects, lazyfreed_objects). */
  lazyPending: number
  lazyFreed: number
}

/** The highest used_memory seen by INFO or MEMORY on this thread (Redis tracks it in its cron). */
let peak = 0

export function memoryTotals (parts: readonly Buffer[]): MemoryTotals {
  const t: MemoryTotals = { used: 0, live: 0, blocks: 0, tables: 0, startup: 0, clients: clientsMemory(evictionSettings.flags), peak: 0, rss: process.memoryUsage.rss(), resident: 0, lazyPending: 0, lazyFreed: 0 }
  for (const part of parts) {
    const text = part.toString('latin1')
    const at = text.indexOf('mem=')
    if (at < 0) continue
    const [committed, live, blocks, tables, fixed, resident, lazyPending, lazyFreed] = text.slice(at + 4, text.indexOf('\n', at)).split(',').map(Number)
    t.lazyPending += lazyPending
    t.lazyFreed += lazyFreed
    t.used += committed
    t.resident += resident
    t.live += live
    t.blocks += blocks
    t.tables += tables
    t.startup += fixed
  }
  t.used += t.clients
  t.live += t.clients
  if (t.used > peak) peak = t.used
  t.peak = peak
  return t
}

/** used_memory_human's format (bytesToHuman): B below 1 KiB, else two decimals and K, M, G or T. */
export const human = (n: number): string => {
  if (n < 1024) return `${n}B`
  const units = ['K', 'M', 'G', 'T']
  let v = n
  let i = -1
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(2)}${units[i]}`
}

/**
 * INFO memory's figures (Redis 7.0's names) from the totals. used_memory counts what the process
 * holds for data whether or not a key uses it now: arenas up to their tops, free blocks included;
 * the allocator_* lines split it as Redis's jemalloc lines do (allocated: blocks in use).
 */
export function memoryInfoLines (t: MemoryTotals, maxmemory: number, policyName: string, extra: readonly string[], defragPct = 0): string[] {
  const overhead = t.startup + t.clients + t.tables
  const dataset = Math.max(0, t.used - overhead)
  const pct = (a: number, b: number): string => (b === 0 ? 0 : a * 100 / b).toFixed(2) + '%'
  const ratio = (a: number, b: number): string => (b === 0 ? 0 : a / b).toFixed(2)
  const active = t.used - t.clients
  return [
    `used_memory:${t.used}`,
    `used_memory_human:${human(t.used)}`,
    `used_memory_rss:${t.rss}`,
    `used_memory_rss_human:${human(t.rss)}`,
    `used_memory_peak:${t.peak}`,
    `used_memory_peak_human:${human(t.peak)}`,
    `used_memory_peak_perc:${pct(t.used, t.peak)}`,
    `used_memory_overhead:${overhead}`,
    `used_memory_startup:${t.startup}`,
    `used_memory_dataset:${dataset}`,
    `used_memory_dataset_perc:${pct(dataset, t.used - t.startup)}`,
    `allocator_allocated:${t.live - t.clients}`,
    `allocator_active:${active}`,
    `allocator_resident:${t.resident}`,
    ...extra,
    `maxmemory:${maxmemory}`,
    `maxmemory_human:${human(maxmemory)}`,
    `maxmemory_policy:${policyName}`,
    `allocator_frag_ratio:${ratio(active, t.live - t.clients)}`,
    `allocator_frag_bytes:${active - (t.live - t.clients)}`,
    `allocator_rss_ratio:${ratio(t.resident, active)}`,
    `allocator_rss_bytes:${t.resident - active}`,
    `rss_overhead_ratio:${ratio(t.rss, t.resident)}`,
    `rss_overhead_bytes:${t.rss - t.resident}`,
    `mem_fragmentation_ratio:${ratio(t.rss, t.used)}`,
    `mem_fragmentation_bytes:${t.rss - t.used}`,
    'mem_not_counted_for_evict:0',
    'mem_replication_backlog:0',
    'mem_total_replication_buffers:0',
    'mem_clients_slaves:0',
    `mem_clients_normal:${t.clients}`,
    'mem_cluster_links:0',
    'mem_aof_buffer:0',
    'mem_allocator:flashkv-arena',
    // The CPU share a running compaction copy takes (storage/db-copy.ts), as Redis's defrag reports it.
    `active_defrag_running:${defragPct}`,
    `lazyfree_pending_objects:${t.lazyPending}`,
    `lazyfreed_objects:${t.lazyFreed}`,
  ]
}

/** The shard's part: its memory line, then one "db keys table" line per database with keys. */
export function memoryShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  let s = shardMemoryLine(shard)
  for (let db = 0; db < DATABASES; db++) {
    const ks = shard.dbs[db]
    if (ks !== null && ks.count > 0) s += `${db} ${ks.count} ${ks.tableBytes}\n`
  }
  out.bulkStr(s)
}

interface Overhead {
  t: MemoryTotals, dbs: Map<number, { keys: number, table: number }>, keys: number
}

function overhead (parts: readonly Buffer[]): Overhead {
  const dbs = new Map<number, { keys: number, table: number }>()
  for (const part of parts) {
    const text = part.toString('latin1')
    const lines = text.slice(text.indexOf('\r\n') + 2).split('\n')
    for (const line of lines) {
      if (line === '' || line.startsWith('\r') || line.startsWith('mem=')) continue
      const [db, keys, table] = line.split(' ').map(Number)
      const d = dbs.get(db) ?? { keys: 0, table: 0 }
      d.keys += keys
      d.table += table
      dbs.set(db, d)
    }
  }
  let keys = 0
  for (const d of dbs.values()) keys += d.keys
  return { t: memoryTotals(parts), dbs: new Map([...dbs].sort((a, b) => a[0] - b[0])), keys }
}

function double (out: ReplyWriter, d: number): void {
  const s = formatScore(d)
  if (out.resp3) out.raw(Buffer.from(`,${s}\r\n`, 'latin1'))
  else out.bulkStr(s)
}

export function memoryStatsFinish (_c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const { t, dbs, keys } = overhead(parts)
  const ratio = (a: number, b: number): number => b === 0 ? 0 : a / b
  const allocated = t.live - t.clients
  const active = t.used - t.clients
  const overheadTotal = t.startup + t.clients + t.tables
  const dataset = Math.max(0, t.used - overheadTotal)
  out.mapHeader(27 + dbs.size)
  const int = (name: string, v: number): void => { out.bulkStr(name); out.int(Math.round(v)) }
  const dbl = (name: string, v: number): void => { out.bulkStr(name); double(out, v) }
  int('peak.allocated', t.peak)
  int('total.allocated', t.used)
  int('startup.allocated', t.startup)
  int('replication.backlog', 0)
  int('clients.slaves', 0)
  int('clients.normal', t.clients)
  int('cluster.links', 0)
  int('aof.buffer', 0)
  int('lua.caches', 0)
  int('functions.caches', 0)
  for (const [db, d] of dbs) {
    out.bulkStr(`db.${db}`)
    out.mapHeader(3)
    int('overhead.hashtable.main', d.table)
    // A TTL lives in its entry's header: no second table for expires.
    int('overhead.hashtable.expires', 0)
    int('overhead.hashtable.slot-to-keys', 0)
  }
  int('overhead.total', overheadTotal)
  int('keys.count', keys)
  int('keys.bytes-per-key', keys === 0 ? 0 : Math.floor((t.used - t.startup) / keys))
  int('dataset.bytes', dataset)
  dbl('dataset.percentage', ratio(dataset * 100, t.used - t.startup))
  dbl('peak.percentage', ratio(t.used * 100, t.peak))
  int('allocator.allocated', allocated)
  int('allocator.active', active)
  int('allocator.resident', t.resident)
  dbl('allocator-fragmentation.ratio', ratio(active, allocated))
  int('allocator-fragmentation.bytes', active - allocated)
  dbl('allocator-rss.ratio', 1)
  int('allocator-rss.bytes', 0)
  dbl('rss-overhead.ratio', ratio(t.rss, t.used))
  int('rss-overhead.bytes', t.rss - t.used)
  dbl('fragmentation', ratio(t.rss, t.used))
  int('fragmentation.bytes', t.rss - t.used)
}

const MB = 1024 * 1024

export function memoryDoctorFinish (c: ClientContext, _argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const { t } = overhead(parts)
  const reports: string[] = []
  const isEmpty = t.used < 5 * MB
  const allocated = t.live - t.clients
  const active = t.used - t.clients
  if (!isEmpty) {
    if (t.peak / t.used > 1.5) reports.push(PEAK)
    if (t.rss / t.used > 1.4 && t.rss - t.used > 10 * MB) reports.push(HIGH_TOTAL_RSS)
    if (active / allocated > 1.1 && active - allocated > 10 * MB) reports.push(HIGH_ALLOC_FRAG)
    if (t.rss / active > 1.1 && t.rss - active > 10 * MB) reports.push(HIGH_PROC_RSS)
    const clients = c.server.clientList().length
    if (clients > 0 && t.clients / clients > 200 * 1024) reports.push(BIG_CLIENTS)
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

/**
 * Redis asks jemalloc to purge; here each shard copies its arenas that hold free room into fresh
 * ones and drops the old buffers, and every thread collects (workers/shard-worker.ts, after the
 * batch: a compaction moves every entry, which the batch's later commands must not see midway).
 */
function purge (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  shard.isPurgeAsked = true
  out.raw(OK)
}

const SUB = { group: 'server', arity: 2, flags: [], firstKey: 0, lastKey: 0, step: 0, since: '4.0.0' } as const
const SHARDS_SPECIAL = ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special']

export const memorySubcommands: CommandSpec[] = [
  { ...SUB, name: 'memory|doctor', route: 'all', merge: 'custom', tips: SHARDS_SPECIAL, summary: 'Outputs memory problems report', complexity: 'O(1)', run: memoryShardCommand, finish: memoryDoctorFinish },
  { ...SUB, name: 'memory|stats', route: 'all', merge: 'custom', tips: SHARDS_SPECIAL, summary: 'Show memory usage details', complexity: 'O(1)', run: memoryShardCommand, finish: memoryStatsFinish },
  { ...SUB, name: 'memory|malloc-stats', route: 'primary', tips: SHARDS_SPECIAL, summary: 'Show allocator internal stats', complexity: 'Depends on how much memory is allocated, could be slow', local: mallocStats },
  { ...SUB, name: 'memory|purge', route: 'all', merge: 'allOk', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], summary: 'Ask the allocator to release memory', complexity: 'Depends on how much memory is allocated, could be slow', run: purge },
  { ...SUB, name: 'memory|help', flags: ['loading', 'stale'], route: 'primary', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: memoryHelp },
]
