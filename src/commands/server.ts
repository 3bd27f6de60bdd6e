// Server commands (Redis's "server" group). DBSIZE and FLUSH* run on every shard and are merged
// on the primary (AGG_SUM / ALL_SUCCEEDED); INFO asks every shard for its counters and the
// primary writes the sections; CONFIG GET reads the primary's configuration.

import type { CommandSpec, Argv, ClientContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { OK } from '../protocol/replies.js'
import { SYNTAX_ERR } from '../protocol/errors.js'
import { equalsLower, token } from '../protocol/ascii.js'
import { DATABASES } from '../storage/shard.js'
import { configGetCommand } from './config.js'

export function dbsizeCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  out.int(shard.ks.count)
}

const TOK_SYNC = token('sync')
const TOK_ASYNC = token('async')

/** FLUSHALL/FLUSHDB [ASYNC|SYNC] (getFlushCommandFlags): anything else is a syntax error. */
function flushArgsOk (argv: Argv): boolean {
  if (argv.argc > 2) return false
  if (argv.argc === 2) {
    const s = argv.start[1]
    const l = argv.len[1]
    return equalsLower(argv.buf, s, l, TOK_SYNC) || equalsLower(argv.buf, s, l, TOK_ASYNC)
  }
  return true
}

export function flushdbCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (!flushArgsOk(argv)) { out.raw(SYNTAX_ERR); return }
  shard.flushDb(shard.dbIndex)
  out.raw(OK)
}

export function flushallCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (!flushArgsOk(argv)) { out.raw(SYNTAX_ERR); return }
  shard.flushAll()
  out.raw(OK)
}

// --- INFO -------------------------------------------------------------------------------------

/** The shard's half of INFO: its counters as "name=value" lines, parsed by infoFinish. */
export function infoShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  let s = `keys=${shard.keyCount()}\nexpires=${shard.expiresCount()}\nused_memory=${shard.usedMemory()}\n` +
    `expired_keys=${shard.expiredKeys}\nkeyspace_hits=${shard.hits}\nkeyspace_misses=${shard.misses}\n`
  for (let i = 0; i < DATABASES; i++) {
    const ks = shard.dbs[i]
    if (ks !== null && ks.count > 0) s += `db${i}=${ks.count},${ks.expires}\n`
  }
  out.bulkStr(s)
}

interface ShardStats { keys: number, expires: number, usedMemory: number, expired: number, hits: number, misses: number, dbs: Map<number, [number, number]> }

function parseShardStats (part: Buffer): ShardStats {
  const st: ShardStats = { keys: 0, expires: 0, usedMemory: 0, expired: 0, hits: 0, misses: 0, dbs: new Map() }
  const text = part.toString('latin1')
  const body = text.slice(text.indexOf('\r\n') + 2)
  for (const line of body.split('\n')) {
    const eq = line.indexOf('=')
    if (eq < 0) continue
    const k = line.slice(0, eq)
    const v = line.slice(eq + 1)
    if (k.startsWith('db')) {
      const [keys, expires] = v.split(',').map(Number)
      st.dbs.set(Number(k.slice(2)), [keys, expires])
    } else if (k === 'keys') st.keys = Number(v)
    else if (k === 'expires') st.expires = Number(v)
    else if (k === 'used_memory') st.usedMemory = Number(v)
    else if (k === 'expired_keys') st.expired = Number(v)
    else if (k === 'keyspace_hits') st.hits = Number(v)
    else if (k === 'keyspace_misses') st.misses = Number(v)
  }
  return st
}

function human (n: number): string {
  if (n < 1024) return `${n}B`
  const units = ['K', 'M', 'G', 'T']
  let v = n
  let i = -1
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(2)}${units[i]}`
}

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'keyspace', 'shards']

export function infoFinish (c: ClientContext, argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const stats = parts.map(parseShardStats)
  const srv = c.server
  let wanted: Set<string>
  if (argv.argc === 1) wanted = new Set(DEFAULT_SECTIONS)
  else {
    wanted = new Set()
    for (let i = 1; i < argv.argc; i++) {
      const s = Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1').toLowerCase()
      if (s === 'all' || s === 'everything' || s === 'default') for (const d of DEFAULT_SECTIONS) wanted.add(d)
      else wanted.add(s)
    }
  }
  const sum = (f: (s: ShardStats) => number): number => stats.reduce((a, s) => a + f(s), 0)
  const mem = process.memoryUsage()
  const usedMemory = sum(s => s.usedMemory)
  const uptime = Math.floor((Date.now() - srv.startedAt) / 1000)
  const sections: string[] = []
  const add = (name: string, title: string, lines: string[]): void => {
    if (wanted.has(name)) sections.push(`# ${title}\r\n${lines.map(l => l + '\r\n').join('')}`)
  }
  add('server', 'Server', [
    `redis_version:${srv.version}`,
    `flashkv_version:${FLASHKV_VERSION}`,
    'redis_mode:standalone',
    `os:${process.platform} ${process.arch}`,
    'arch_bits:64',
    'multiplexing_api:epoll',
    `process_id:${process.pid}`,
    `tcp_port:${srv.port}`,
    `uptime_in_seconds:${uptime}`,
    `uptime_in_days:${Math.floor(uptime / 86400)}`,
    'hz:10',
    `executable:${process.argv[1] ?? ''}`,
    `config_file:${srv.configFile}`,
    `node_version:${process.version}`,
    `shards:${srv.shards}`,
  ])
  add('clients', 'Clients', [
    `connected_clients:${srv.connectedClients()}`,
    'blocked_clients:0',
    'maxclients:10000',
  ])
  add('memory', 'Memory', [
    `used_memory:${usedMemory}`,
    `used_memory_human:${human(usedMemory)}`,
    `used_memory_rss:${mem.rss}`,
    `used_memory_rss_human:${human(mem.rss)}`,
    'maxmemory:0',
    'maxmemory_human:0B',
    'maxmemory_policy:noeviction',
    'mem_allocator:flashkv-arena',
  ])
  add('persistence', 'Persistence', ['loading:0', 'async_loading:0', 'rdb_bgsave_in_progress:0', 'aof_enabled:0', 'aof_rewrite_in_progress:0'])
  add('stats', 'Stats', [
    `total_connections_received:${srv.totalConnections()}`,
    `total_commands_processed:${srv.totalCommands()}`,
    `rejected_connections:${srv.rejectedConnections()}`,
    `expired_keys:${sum(s => s.expired)}`,
    'evicted_keys:0',
    `keyspace_hits:${sum(s => s.hits)}`,
    `keyspace_misses:${sum(s => s.misses)}`,
  ])
  add('replication', 'Replication', ['role:master', 'connected_slaves:0'])
  const dbLines: string[] = []
  for (let i = 0; i < DATABASES; i++) {
    let keys = 0
    let expires = 0
    for (const s of stats) {
      const d = s.dbs.get(i)
      if (d !== undefined) { keys += d[0]; expires += d[1] }
    }
    if (keys > 0) dbLines.push(`db${i}:keys=${keys},expires=${expires},avg_ttl=0`)
  }
  add('keyspace', 'Keyspace', dbLines)
  add('shards', 'Shards', stats.map((s, i) => `shard${i}:keys=${s.keys},expires=${s.expires},used_memory=${s.usedMemory}`))
  out.verbatim(sections.join('\r\n'))
}

export let FLASHKV_VERSION = '0.0.0'
export function setVersion (v: string): void { FLASHKV_VERSION = v }

const SERVER = { group: 'server', firstKey: 0, lastKey: 0, step: 0 } as const

export const serverCommands: CommandSpec[] = [
  { ...SERVER, name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], route: 'all', merge: 'sum', since: '1.0.0', summary: 'Return the number of keys in the selected database', complexity: 'O(1)', acl: ['keyspace'], tips: ['request_policy:all_shards', 'response_policy:agg_sum'], run: dbsizeCommand },
  { ...SERVER, name: 'flushdb', arity: -1, flags: ['write'], route: 'all', merge: 'allOk', since: '1.0.0', summary: 'Remove all keys from the current database', complexity: 'O(N) where N is the number of keys in the selected database', acl: ['keyspace', 'dangerous'], tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], run: flushdbCommand },
  { ...SERVER, name: 'flushall', arity: -1, flags: ['write'], route: 'all', merge: 'allOk', since: '1.0.0', summary: 'Remove all keys from all databases', complexity: 'O(N) where N is the total number of keys in all databases', acl: ['keyspace', 'dangerous'], tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], run: flushallCommand },
  { ...SERVER, name: 'info', arity: -1, flags: ['loading', 'stale'], route: 'all', merge: 'custom', since: '1.0.0', summary: 'Get information and statistics about the server', complexity: 'O(1)', acl: ['dangerous'], tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], run: infoShardCommand, finish: infoFinish },
  {
    ...SERVER,
    name: 'config',
    arity: -2,
    flags: [],
    route: 'primary',
    since: '2.0.0',
    summary: 'A container for server configuration commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...SERVER, name: 'config|get', arity: -3, flags: ['admin', 'noscript', 'loading', 'stale'], route: 'primary', since: '2.0.0', summary: 'Get the values of configuration parameters', complexity: 'O(N) when N is the number of configuration parameters provided', local: configGetCommand },
    ],
  },
]
