// Server commands (Redis's "server" group). DBSIZE and FLUSH* run on every shard and are merged
// on the primary (AGG_SUM / ALL_SUCCEEDED); INFO asks every shard for its counters and the
// primary writes the sections; CONFIG (config.ts) reads and sets the primary's configuration,
// CONFIG RESETSTAT on every shard too; MEMORY USAGE runs on the key's shard.

import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { COPY_CPU_PCT } from '../storage/db-copy.js'
import { PUBSUB_CHANNEL, PUBSUB_PATTERN, PUBSUB_SHARD } from '../storage/pubsub-hub.js'
import { aofInfo, aofSizeInfo } from '../persistence/aof-files.js'
import { memorySubcommands, shardMemoryLine, memoryTotals, memoryInfoLines, human } from './memory.js'
import { configRewriteCommand } from './config-rewrite.js'
import { syncDirty } from '../persistence/snapshot.js'
import { bgsaveInfo, loadingInfo, loadingProgress, hasSavePoints, saveWords, W_BGSAVE } from '../persistence/save-state.js'
import { flushallSaveShard, flushallFinish } from './persistence.js'
import { totalmem } from 'node:os'
import { threadTid } from '../thread-id.js'
import { G_CLIENTS } from '../storage/tracking.js'
import type { CommandSpec, Argv, ClientContext } from './spec.js'
import { helpCommand } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { OK } from '../protocol/replies.js'
import { SYNTAX_ERR, NOT_INTEGER } from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { DATABASES } from '../storage/shard.js'
import { ENTRY_HEADER_BYTES } from '../storage/keyspace.js'
import { POLICY_NAMES } from '../storage/eviction.js'
import { typeOf } from '../storage/types.js'
import { keyHash } from '../storage/hash.js'
import { hubScriptsMemory } from './scripting.js'
import { commandstatsLines, errorstatsLines, latencystatsLines, cpuLines } from './introspection.js'
import { configGetCommand, configSetCommand, configResetstatShard, configResetstatBegin, configResetstatFinish } from './config.js'

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
  // flushdbCommand: Redis's dirty grows by the keys removed.
  shard.dirty += shard.ks.count
  shard.flushDb(shard.dbIndex)
  out.raw(OK)
}

export function flushallCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (!flushArgsOk(argv)) { out.raw(SYNTAX_ERR); return }
  shard.dirty += shard.keyCount()
  shard.flushAll()
  if (hasSavePoints()) flushallSaveShard(shard, out)
  else out.raw(OK)
}

// --- INFO -------------------------------------------------------------------------------------

/** Entries visited per database for the avg_ttl estimate (Redis samples it too, in activeExpireCycle). */
const AVG_TTL_SAMPLE = 20_000
const SAMPLED_ENOUGH = new Error('sampled enough')

/** Mean remaining TTL (ms) of the volatile keys among the first AVG_TTL_SAMPLE entries. */
function avgTtlMs (ks: Keyspace, now: number): number {
  if (ks.expires === 0) return 0
  let sum = 0
  let n = 0
  let seen = 0
  try {
    ks.forEach(e => {
      const at = ks.expireAt(e)
      if (at !== 0 && at > now) { sum += at - now; n++ }
      if (++seen >= AVG_TTL_SAMPLE) throw SAMPLED_ENOUGH
    })
  } catch (err) {
    if (err !== SAMPLED_ENOUGH) throw err
  }
  return n === 0 ? 0 : Math.floor(sum / n)
}

/** INFO shards' line per I/O thread: its tid and the connections it accepted. */
function ioLines (tids: readonly number[], received: readonly number[]): string[] {
  return tids.map((tid, i) => `io${i}:tid=${tid},connections_received=${received[i]}`)
}

/** The hub's script cache as the shard's INFO line. */
const scriptsLine = (m: { count: number, bytes: number }): string => `scripts=${m.count},${m.bytes}\n`

/** The shard's half of INFO: its counters as "name=value" lines, parsed by infoFinish. */
export function infoShardCommand (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  // Whether a BGSAVE runs, read before the dirty count: once it reads as over, the save's cut
  // is in the count (its id is stored before it ends). The merge reports it running while any
  // shard saw it so (infoFinish runs later, when it may have just ended).
  const isSaving = Atomics.load(saveWords().i32, W_BGSAVE) !== 0
  syncDirty(shard)
  let s = `tid=${threadTid()}\nsaving=${isSaving ? 1 : 0}\nkeys=${shard.keyCount()}\nexpires=${shard.expiresCount()}\nused_memory=${shard.committedMemory()}\n${shardMemoryLine(shard)}` +
    `expired_keys=${shard.expiredKeys}\nexpired_stale=${shard.expireStale}\nexpire_cycle_ms=${shard.expireCycleMs}\neviction_exceeded=${shard.exceededMs},${shard.exceededNowMs}\nevicted_keys=${shard.evictedKeys}\ndefrag=${shard.defragKeys},${shard.defragMs},${shard.copyingMs}\nkeyspace_hits=${shard.hits}\nkeyspace_misses=${shard.misses}\n` +
    `dirty=${shard.dirty - shard.dirtyAtSave}\nloaded=${shard.loadedKeys}\nload_expired=${shard.loadExpired}\n` +
    `tracking_keys=${shard.tracking?.size ?? 0}\ntracking_items=${shard.tracking?.items ?? 0}\ntracking_prefixes=${shard.tracking?.prefixCount ?? 0}\n` +
    `scripts_in_shard=${shard.scriptRuns}\nscripts_stopped_in_shard=${shard.scriptStops}\nscript_calls=${shard.scriptCalls}\n` +
    `ring_full_waits=${shard.ringFullWaits}\nring_full_timeouts=${shard.ringFullTimeouts}\n` +
    // Only the hub shard's hub has subscriptions; the others count 0.
    `pubsub_channels=${shard.hub.count(PUBSUB_CHANNEL)}\npubsub_patterns=${shard.hub.count(PUBSUB_PATTERN)}\npubsubshard_channels=${shard.hub.count(PUBSUB_SHARD)}\n` +
    // The script cache lives on the hub (other workers may hold copies of bodies).
    (shard.index === 0 ? scriptsLine(hubScriptsMemory()) : '')
  const now = shard.now()
  for (let i = 0; i < DATABASES; i++) {
    const ks = shard.dbs[i]
    if (ks !== null && ks.count > 0) s += `db${i}=${ks.count},${ks.expires},${avgTtlMs(ks, now)}\n`
  }
  out.bulkStr(s)
}

interface ShardStats { pubsubChannels: number, pubsubPatterns: number, pubsubShardChannels: number, isSaving: boolean, scriptsInShard: number, scriptsStopped: number, scriptCalls: number, ringFullWaits: number, ringFullTimeouts: number, trackingKeys: number, trackingItems: number, trackingPrefixes: number, tid: number, keys: number, expires: number, usedMemory: number, expired: number, expiredStale: number, expireCycleMs: number, exceededMs: number, exceededNowMs: number, scripts: number, scriptsBytes: number, evicted: number, defragKeys: number, defragMs: number, defragNowMs: number, hits: number, misses: number, dirty: number, loaded: number, loadExpired: number, dbs: Map<number, [number, number, number]> }

function parseShardStats (part: Buffer): ShardStats {
  const st: ShardStats = { pubsubChannels: 0, pubsubPatterns: 0, pubsubShardChannels: 0, isSaving: false, scriptsInShard: 0, scriptsStopped: 0, scriptCalls: 0, ringFullWaits: 0, ringFullTimeouts: 0, trackingKeys: 0, trackingItems: 0, trackingPrefixes: 0, tid: -1, keys: 0, expires: 0, usedMemory: 0, expired: 0, expiredStale: 0, expireCycleMs: 0, exceededMs: 0, exceededNowMs: 0, scripts: 0, scriptsBytes: 0, evicted: 0, defragKeys: 0, defragMs: 0, defragNowMs: 0, hits: 0, misses: 0, dirty: 0, loaded: 0, loadExpired: 0, dbs: new Map() }
  const text = part.toString('latin1')
  const body = text.slice(text.indexOf('\r\n') + 2)
  for (const line of body.split('\n')) {
    const eq = line.indexOf('=')
    if (eq < 0) continue
    const k = line.slice(0, eq)
    const v = line.slice(eq + 1)
    if (k.startsWith('db')) {
      const [keys, expires, avgTtl] = v.split(',').map(Number)
      st.dbs.set(Number(k.slice(2)), [keys, expires, avgTtl])
    } else if (k === 'keys') st.keys = Number(v)
    else if (k === 'tid') st.tid = Number(v)
    else if (k === 'saving') st.isSaving = v === '1'
    else if (k === 'expires') st.expires = Number(v)
    else if (k === 'used_memory') st.usedMemory = Number(v)
    else if (k === 'expired_keys') st.expired = Number(v)
    else if (k === 'expired_stale') st.expiredStale = Number(v)
    else if (k === 'expire_cycle_ms') st.expireCycleMs = Number(v)
    else if (k === 'eviction_exceeded') [st.exceededMs, st.exceededNowMs] = v.split(',').map(Number)
    else if (k === 'scripts') [st.scripts, st.scriptsBytes] = v.split(',').map(Number)
    else if (k === 'evicted_keys') st.evicted = Number(v)
    else if (k === 'defrag') [st.defragKeys, st.defragMs, st.defragNowMs] = v.split(',').map(Number)
    else if (k === 'dirty') st.dirty = Number(v)
    else if (k === 'loaded') st.loaded = Number(v)
    else if (k === 'load_expired') st.loadExpired = Number(v)
    else if (k === 'keyspace_hits') st.hits = Number(v)
    else if (k === 'keyspace_misses') st.misses = Number(v)
    else if (k === 'tracking_keys') st.trackingKeys = Number(v)
    else if (k === 'tracking_items') st.trackingItems = Number(v)
    else if (k === 'tracking_prefixes') st.trackingPrefixes = Number(v)
    else if (k === 'scripts_in_shard') st.scriptsInShard = Number(v)
    else if (k === 'scripts_stopped_in_shard') st.scriptsStopped = Number(v)
    else if (k === 'script_calls') st.scriptCalls = Number(v)
    else if (k === 'ring_full_waits') st.ringFullWaits = Number(v)
    else if (k === 'ring_full_timeouts') st.ringFullTimeouts = Number(v)
    else if (k === 'pubsub_channels') st.pubsubChannels = Number(v)
    else if (k === 'pubsub_patterns') st.pubsubPatterns = Number(v)
    else if (k === 'pubsubshard_channels') st.pubsubShardChannels = Number(v)
  }
  return st
}

/**
 * master_replid: Redis draws it at start apart from run_id; here it is derived from run_id
 * (which every I/O thread shares), so it stays the same for the life of the process.
 */
function replIdOf (runId: string): string {
  return createHash('sha1').update(`replid:${runId}`).digest('hex')
}

const MULTIPLEXING: Record<string, string> = { linux: 'epoll', darwin: 'kqueue', freebsd: 'kqueue', openbsd: 'kqueue', sunos: 'evport', win32: 'iocp' }
// genRedisInfoString's sections (7.0), plus FlashKV's shards; `all` and `everything` add the
// two per-command ones. Printed in this order whatever order they are asked in.
const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace', 'shards']
const ALL_SECTIONS = [...DEFAULT_SECTIONS, 'commandstats', 'latencystats']

export function infoFinish (c: ClientContext, argv: Argv, parts: readonly Buffer[], out: ReplyWriter): void {
  const stats = parts.map(parseShardStats)
  const srv = c.server
  let wanted: Set<string>
  if (argv.argc === 1) wanted = new Set(DEFAULT_SECTIONS)
  else {
    wanted = new Set()
    for (let i = 1; i < argv.argc; i++) {
      const s = Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1').toLowerCase()
      if (s === 'default') for (const d of DEFAULT_SECTIONS) wanted.add(d)
      else if (s === 'all' || s === 'everything') for (const d of ALL_SECTIONS) wanted.add(d)
      else wanted.add(s)
    }
  }
  const sum = (f: (s: ShardStats) => number): number => stats.reduce((a, s) => a + f(s), 0)
  const memory = memoryTotals(parts)
  const now = Date.now()
  const uptime = Math.floor((now - srv.startedAt) / 1000)
  const maxmemory = srv.settings.maxmemory
  const sections: string[] = []
  const add = (name: string, title: string, lines: string[]): void => {
    if (wanted.has(name)) sections.push(`# ${title}\r\n${lines.map(l => l + '\r\n').join('')}`)
  }
  add('server', 'Server', [
    `redis_version:${srv.version}`,
    `flashkv_version:${FLASHKV_VERSION}`,
    // Not a Redis build: no git commit nor build id of Redis's, and no C compiler (0.0.0, as
    // Redis prints for one that is not gcc).
    'redis_git_sha1:00000000',
    'redis_git_dirty:0',
    'redis_build_id:0',
    'redis_mode:standalone',
    `os:${process.platform} ${process.arch}`,
    'arch_bits:64',
    // libuv's hrtime, which performance.now reads: clock_gettime(CLOCK_MONOTONIC).
    'monotonic_clock:POSIX clock_gettime',
    `multiplexing_api:${MULTIPLEXING[process.platform] ?? 'libuv'}`,
    'atomicvar_api:js-atomics',
    'gcc_version:0.0.0',
    `process_id:${process.pid}`,
    'process_supervised:no',
    `run_id:${srv.runId}`,
    `tcp_port:${srv.port}`,
    `server_time_usec:${now * 1000}`,
    `uptime_in_seconds:${uptime}`,
    `uptime_in_days:${Math.floor(uptime / 86400)}`,
    // dynamic-hz is not implemented: the hz in force is the one configured.
    `hz:${srv.settings.hz}`,
    `configured_hz:${srv.settings.hz}`,
    // getLRUClock: seconds, in LRU_CLOCK_MAX (24 bits).
    `lru_clock:${Math.floor(now / 1000) & 0xffffff}`,
    `executable:${process.argv[1] ?? ''}`,
    `config_file:${srv.configFile}`,
    // Redis's own I/O threads: FlashKV's --io-threads are their counterpart.
    `io_threads_active:${srv.ioThreads > 1 ? 1 : 0}`,
    `node_version:${process.version}`,
    `shards:${srv.shards}`,
  ])
  const recent = srv.recentMaxBuffers()
  add('clients', 'Clients', [
    `connected_clients:${srv.connectedClients()}`,
    'cluster_connections:0',
    `maxclients:${srv.settings.maxclients}`,
    `client_recent_max_input_buffer:${recent.input}`,
    `client_recent_max_output_buffer:${recent.output}`,
    `blocked_clients:${srv.blockedClients()}`,
    `tracking_clients:${srv.tracking.words.g[G_CLIENTS]}`,
    `clients_in_timeout_table:${srv.clientsInTimeoutTable()}`,
  ])
  const lua = srv.scriptingMemory()
  const evalBytes = sum(s => s.scriptsBytes)
  add('memory', 'Memory', memoryInfoLines(memory, maxmemory, POLICY_NAMES[srv.settings.maxmemoryPolicy], [
    `total_system_memory:${totalmem()}`,
    `total_system_memory_human:${human(totalmem())}`,
    // The container's limit (cgroup v1/v2), 0 when none; the default maxmemory derives from it.
    `cgroup_memory_limit:${srv.cgroupMemoryLimit}`,
    // This thread's Lua VMs (each I/O thread has its own; the functions' is made at the first
    // function command); the script cache is the hub's, the libraries this thread's.
    `used_memory_lua:${lua.vmEval}`,
    `used_memory_vm_eval:${lua.vmEval}`,
    `used_memory_lua_human:${human(lua.vmEval)}`,
    `used_memory_scripts_eval:${evalBytes}`,
    `number_of_cached_scripts:${sum(s => s.scripts)}`,
    `number_of_functions:${lua.functions}`,
    `number_of_libraries:${lua.libraries}`,
    `used_memory_vm_functions:${lua.vmFunctions}`,
    `used_memory_vm_total:${lua.vmEval + lua.vmFunctions}`,
    `used_memory_vm_total_human:${human(lua.vmEval + lua.vmFunctions)}`,
    `used_memory_functions:${lua.functionsBytes}`,
    `used_memory_scripts:${evalBytes + lua.functionsBytes}`,
    `used_memory_scripts_human:${human(evalBytes + lua.functionsBytes)}`,
  ], stats.some(st => st.defragNowMs > 0) ? COPY_CPU_PCT : 0))
  // Redis 7.0's fields: no fork (BGSAVE copies nothing: persistence/snapshot.ts); AOF's from persistence/aof-files.ts.
  add('persistence', 'Persistence', [
    ...loadingInfo(), 'async_loading:0', 'current_cow_peak:0', 'current_cow_size:0', 'current_cow_size_age:0', 'current_fork_perc:0.00',
    'current_save_keys_processed:0', 'current_save_keys_total:0', `rdb_changes_since_last_save:${sum(s => s.dirty)}`,
    ...bgsaveInfo(srv.settings.lastSaveSec, stats.some(st => st.isSaving)), `rdb_saves:${srv.settings.rdbSaves}`, 'rdb_last_cow_size:0',
    `rdb_last_load_keys_expired:${sum(s => s.loadExpired)}`, `rdb_last_load_keys_loaded:${sum(s => s.loaded)}`,
    ...aofInfo(), ...aofSizeInfo(), ...loadingProgress(),
  ])
  const io = srv.ioProcessed()
  const exceeded = srv.evictionExceeded()
  add('stats', 'Stats', [
    `total_connections_received:${srv.totalConnections()}`,
    // The redis.call commands of scripts run inside a shard worker are counted there.
    `total_commands_processed:${srv.totalCommands() + sum(s => s.scriptCalls)}`,
    `instantaneous_ops_per_sec:${srv.instantaneous('ops')}`,
    `total_net_input_bytes:${srv.netBytes().input}`,
    `total_net_output_bytes:${srv.netBytes().output}`,
    // No replication, no fork, no MIGRATE, no active defrag, no client eviction: those count 0.
    'total_net_repl_input_bytes:0',
    'total_net_repl_output_bytes:0',
    `instantaneous_input_kbps:${(srv.instantaneous('netInput') / 1024).toFixed(2)}`,
    `instantaneous_output_kbps:${(srv.instantaneous('netOutput') / 1024).toFixed(2)}`,
    'instantaneous_input_repl_kbps:0.00',
    'instantaneous_output_repl_kbps:0.00',
    `rejected_connections:${srv.rejectedConnections()}`,
    'sync_full:0',
    'sync_partial_ok:0',
    'sync_partial_err:0',
    `expired_keys:${sum(s => s.expired)}`,
    // Each shard sweeps its own keys: their estimates averaged. No sweep stops on a time limit.
    `expired_stale_perc:${(sum(s => s.expiredStale) / Math.max(1, stats.length) * 100).toFixed(2)}`,
    'expired_time_cap_reached_count:0',
    `expire_cycle_cpu_milliseconds:${Math.floor(sum(s => s.expireCycleMs))}`,
    `evicted_keys:${sum(s => s.evicted)}`,
    'evicted_clients:0',
    // The longest time over maxmemory of any shard (each evicts to its share) or I/O thread (noeviction refuses there).
    `total_eviction_exceeded_time:${Math.floor(Math.max(exceeded.total, ...stats.map(s => s.exceededMs + s.exceededNowMs)))}`,
    `current_eviction_exceeded_time:${Math.floor(Math.max(exceeded.current, ...stats.map(s => s.exceededNowMs)))}`,
    `keyspace_hits:${sum(s => s.hits)}`,
    `keyspace_misses:${sum(s => s.misses)}`,
    `pubsub_channels:${sum(s => s.pubsubChannels)}`,
    `pubsub_patterns:${sum(s => s.pubsubPatterns)}`,
    `pubsubshard_channels:${sum(s => s.pubsubShardChannels)}`,
    'latest_fork_usec:0',
    'total_forks:0',
    'migrate_cached_sockets:0',
    'slave_expires_tracked_keys:0',
    // A compaction's copy (storage/db-copy.ts) is FlashKV's active defrag: it moves every live
    // key of an arena more than half free. Its time counts from its start to the adoption.
    'active_defrag_hits:0',
    'active_defrag_misses:0',
    `active_defrag_key_hits:${sum(s => s.defragKeys)}`,
    'active_defrag_key_misses:0',
    `total_active_defrag_time:${Math.floor(sum(s => s.defragMs + s.defragNowMs))}`,
    `current_active_defrag_time:${Math.floor(Math.max(0, ...stats.map(s => s.defragNowMs)))}`,
    `tracking_total_keys:${sum(s => s.trackingKeys)}`,
    `tracking_total_items:${sum(s => s.trackingItems)}`,
    `tracking_total_prefixes:${sum(s => s.trackingPrefixes)}`,
    'unexpected_error_replies:0',
    `total_error_replies:${srv.cmdStats.totalErrors()}`,
    // sanitize-dump-payload is not implemented (Redis's default, no, never sanitizes deeply).
    'dump_payload_sanitizations:0',
    `total_reads_processed:${io.reads}`,
    `total_writes_processed:${io.writes}`,
    // With several I/O threads every read and write is an I/O thread's; with one, the main thread's.
    `io_threaded_reads_processed:${srv.ioThreads > 1 ? io.reads : 0}`,
    `io_threaded_writes_processed:${srv.ioThreads > 1 ? io.writes : 0}`,
  ])
  // A master that never had a replica: Redis's values before any (no backlog yet).
  add('replication', 'Replication', [
    'role:master', 'connected_slaves:0', 'master_failover_state:no-failover', `master_replid:${replIdOf(srv.runId)}`,
    `master_replid2:${'0'.repeat(40)}`, 'master_repl_offset:0', 'second_repl_offset:-1', 'repl_backlog_active:0',
    'repl_backlog_size:1048576', 'repl_backlog_first_byte_offset:0', 'repl_backlog_histlen:0',
  ])
  if (wanted.has('cpu')) add('cpu', 'CPU', cpuLines())
  add('modules', 'Modules', [])
  if (wanted.has('commandstats')) add('commandstats', 'Commandstats', commandstatsLines(srv.cmdStats))
  if (wanted.has('errorstats')) add('errorstats', 'Errorstats', errorstatsLines(srv.cmdStats))
  if (wanted.has('latencystats')) add('latencystats', 'Latencystats', latencystatsLines(srv.cmdStats))
  add('cluster', 'Cluster', ['cluster_enabled:0'])
  const dbLines: string[] = []
  for (let i = 0; i < DATABASES; i++) {
    let keys = 0
    let expires = 0
    let ttlSum = 0
    for (const s of stats) {
      const d = s.dbs.get(i)
      if (d !== undefined) { keys += d[0]; expires += d[1]; ttlSum += d[2] * d[1] }
    }
    // Each shard's mean, weighted by its volatile keys.
    if (keys > 0) dbLines.push(`db${i}:keys=${keys},expires=${expires},avg_ttl=${expires === 0 ? 0 : Math.floor(ttlSum / expires)}`)
  }
  add('keyspace', 'Keyspace', dbLines)
  const waits = srv.replyWaitCounts()
  const parked = srv.parkedRequests()
  add('shards', 'Shards', [
    ...stats.map((s, i) => `shard${i}:keys=${s.keys},expires=${s.expires},used_memory=${s.usedMemory},tid=${s.tid}`),
    `io_threads:${srv.ioThreads}`,
    `io_listen:${srv.ioListen}`,
    ...(srv.ioThreads > 1 ? ioLines(srv.ioTids(), srv.ioConnections()) : []),
    `client_io:${srv.clientIo}`,
    `reply_wait_us:${srv.replyWaitUs}`,
    `reply_waits:${waits.waits}`,
    `reply_wait_timeouts:${waits.timeouts}`,
    `cross_shard_moves:${srv.moveCount()}`,
    `spin_us:${srv.spinUs}`,
    `parked_requests:${parked.now}`,
    `total_parked_requests:${parked.total}`,
    `scripts_in_shard:${sum(s => s.scriptsInShard)}`,
    `scripts_stopped_in_shard:${sum(s => s.scriptsStopped)}`,
    `reply_ring_full_waits:${sum(s => s.ringFullWaits)}`,
    `reply_ring_full_timeouts:${sum(s => s.ringFullTimeouts)}`,
  ])
  out.verbatim(sections.join('\r\n'))
}

// --- TIME, MEMORY USAGE --------------------------------------------------------------------------

/** ROLE: always a master with no replicas (replication is not built). */
export function roleCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.arrayHeader(3)
  out.bulkStr('master')
  out.int(0)
  out.arrayHeader(0)
}

export function timeCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  // Wall-clock milliseconds, with the microseconds taken from the monotonic clock's fraction.
  const ms = Date.now()
  const usec = (ms % 1000) * 1000 + Math.floor((performance.now() % 1) * 1000)
  out.arrayHeader(2)
  out.bulkStr(String(Math.floor(ms / 1000)))
  out.bulkStr(String(usec))
}

const TOK_SAMPLES = token('samples')
/** OBJ_COMPUTE_SIZE_DEF_SAMPLES */
const DEFAULT_SAMPLES = 5

/** List elements' bytes: exact up to `samples` elements, else the first ones scaled to the length. */

// memoryCommand's "usage" branch (object.c): options first, then a plain dictFind (no expiry,
// no hit/miss), then the entry's arena block plus its elements.
export function memoryUsageCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let samples = DEFAULT_SAMPLES
  for (let j = 3; j < argc; j++) {
    if (equalsLower(buf, start[j], len[j], TOK_SAMPLES) && j + 1 < argc) {
      if (!parseInt64(buf, start[j + 1], len[j + 1])) { out.raw(NOT_INTEGER); return }
      if (parsed.value < 0) { out.raw(SYNTAX_ERR); return }
      samples = parsed.value === 0 ? Infinity : parsed.value
      j++
    } else {
      out.raw(SYNTAX_ERR)
      return
    }
  }
  const ks = shard.ks
  const e = ks.find(buf, start[2], len[2], keyHash(buf, start[2], len[2]))
  if (e === 0) { out.nullBulk(); return }
  out.int(ks.arena.blockBytes(ENTRY_HEADER_BYTES + ks.keyLen(e) + ks.valLen(e)) + typeOf(ks, e).memory(ks, e, samples))
}

export let FLASHKV_VERSION = '0.0.0'
export function setVersion (v: string): void { FLASHKV_VERSION = v }

const SERVER = { group: 'server', firstKey: 0, lastKey: 0, step: 0 } as const

const CONFIG_HELP_LINES = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
]
const CONFIG_FLAGS = ['admin', 'noscript', 'loading', 'stale'] as const

export const serverCommands: CommandSpec[] = [
  { ...SERVER, name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], route: 'all', merge: 'sum', since: '1.0.0', summary: 'Return the number of keys in the selected database', complexity: 'O(1)', acl: ['keyspace'], tips: ['request_policy:all_shards', 'response_policy:agg_sum'], run: dbsizeCommand },
  { ...SERVER, name: 'flushdb', arity: -1, flags: ['write'], route: 'all', merge: 'allOk', since: '1.0.0', summary: 'Remove all keys from the current database', complexity: 'O(N) where N is the number of keys in the selected database', acl: ['keyspace', 'dangerous'], tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], run: flushdbCommand },
  { ...SERVER, name: 'flushall', arity: -1, flags: ['write'], route: 'all', merge: 'custom', since: '1.0.0', summary: 'Remove all keys from all databases', complexity: 'O(N) where N is the total number of keys in all databases', acl: ['keyspace', 'dangerous'], tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], run: flushallCommand, finish: flushallFinish },
  { ...SERVER, name: 'info', arity: -1, flags: ['loading', 'stale'], route: 'all', merge: 'custom', since: '1.0.0', summary: 'Get information and statistics about the server', complexity: 'O(1)', acl: ['dangerous'], tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], run: infoShardCommand, finish: infoFinish },
  { ...SERVER, name: 'role', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast'], route: 'primary', since: '2.8.12', summary: 'Return the role of the instance in the context of replication', complexity: 'O(1)', acl: ['admin', 'dangerous'], local: roleCommand },
  { ...SERVER, name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], route: 'primary', since: '2.6.0', summary: 'Return the current server time', complexity: 'O(1)', tips: ['nondeterministic_output'], local: timeCommand },
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
      { ...SERVER, name: 'config|get', arity: -3, flags: CONFIG_FLAGS, route: 'primary', since: '2.0.0', summary: 'Get the values of configuration parameters', complexity: 'O(N) when N is the number of configuration parameters provided', local: configGetCommand },
      { ...SERVER, name: 'config|set', arity: -4, flags: CONFIG_FLAGS, route: 'primary', since: '2.0.0', summary: 'Set configuration parameters to the given values', complexity: 'O(N) when N is the number of configuration parameters provided', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], local: configSetCommand },
      { ...SERVER, name: 'config|rewrite', arity: 2, flags: CONFIG_FLAGS, route: 'primary', since: '2.8.0', summary: 'Rewrite the configuration file with the in memory configuration', complexity: 'O(1)', local: configRewriteCommand },
      { ...SERVER, name: 'config|help', arity: 2, flags: ['loading', 'stale'], route: 'primary', since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: helpCommand('CONFIG', CONFIG_HELP_LINES) },
      { ...SERVER, name: 'config|resetstat', arity: 2, flags: CONFIG_FLAGS, route: 'all', merge: 'custom', since: '2.0.0', summary: 'Reset the stats returned by INFO', complexity: 'O(1)', begin: configResetstatBegin, run: configResetstatShard, finish: configResetstatFinish },
    ],
  },
  {
    ...SERVER,
    name: 'memory',
    arity: -2,
    flags: [],
    route: 'primary',
    since: '4.0.0',
    summary: 'A container for memory diagnostics commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      ...memorySubcommands,
      { ...SERVER, name: 'memory|usage', arity: -3, flags: ['readonly'], firstKey: 2, lastKey: 2, step: 1, route: 'key', since: '4.0.0', summary: 'Estimate the memory usage of a key', complexity: 'O(N) where N is the number of samples.', keySpecs: [{ flags: ['RO'] }], run: memoryUsageCommand },
    ],
  },
]
