// The server: the TCP listener, connections and graceful shutdown, and (with one I/O thread) the
// shard workers. It is the ServerContext that primary-thread commands (INFO, CONFIG, CLIENT)
// read from. With --io-threads N > 1 each I/O thread runs one of these over its own end of every
// shard (io-threads.ts starts them); what they must share (client ids, maxclients, settings,
// counters) lives in SharedState. A 100 ms cron, like Redis's serverCron, refreshes the coarse
// clock, samples the instantaneous metrics (trackInstantaneousMetric) and, once a second, closes
// idle clients (clientsCronHandleTimeout).

import { Buffer } from 'node:buffer'
import { CommandStats } from './command-stats.js'
import { BgsaveJoiner } from '../persistence/bgsave.js'
import { initSaveState } from '../persistence/save-state.js'
import { prepareAof, setAofNames } from '../persistence/aof-files.js'
import { saveCron, startBgsave, rewriteCron } from '../commands/persistence.js'
import { join, resolve } from 'node:path'
import { type Acl, loadUsersAtStart } from './acl.js'
import { RDB_LOAD_FAILED } from '../persistence/rdb-file.js'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import type { MessagePort } from 'node:worker_threads'
import { acceptRaw, isRawIo } from './socket-io.js'
import type { Server as TlsServer } from 'node:tls'
import { checkTls, createTlsListener, tlsOptions } from './tls.js'
import { createSecureContext, type TlsOptions } from 'node:tls'
import { bindAddresses, listenAll, listenUnix, refreshTls, sameTls, setTcpBacklog, tcpBacklog, type SharedChange, type ListenFailure } from './listeners.js'
import { isLoopback } from './addr.js'
import { debugGate } from '../commands/debug.js'
import { moduleGate } from '../commands/module.js'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { ConfigError, type Config, type RedisParam, type TlsConfig } from '../config.js'
import { applyStartupParam } from '../commands/config.js'
import type { ServerContext, ClientContext, ServerSettings, ServerStats } from '../commands/spec.js'
import type { ObservedServer } from '../http/observability.js'
import { commands, renameCommands, type Command } from '../commands/table.js'
import { Connection, coarseClock, QUERY_BUFFER_LIMIT, type Dispatcher } from './connection.js'
import { finishForShardScript } from './scripting.js'
import { ShardLink, ShardWorker, connectShard, newWakeWord, hubEventRings, newLinkPorts, type LinkEndpoint, type LinkPorts } from './shard-link.js'
import type { Tracking } from './tracking.js'
import { Router } from './router.js'
import { Credits, sharedFlags, trackingWords } from './credits.js'
import { setMaxKeys } from '../storage/tracking.js'
import { Sequencer } from './sequencer.js'
import {
  SharedState, COMMANDS, CONNECTIONS_RECEIVED, REJECTED, NET_INPUT, NET_OUTPUT, READS_PROCESSED, WRITES_PROCESSED, REPLY_WAITS, REPLY_WAIT_TIMEOUTS, XMOVES, PARKED_NOW, PARKED_TOTAL, CROSS_BLOCKED, CROSS_BLOCKED_TIMED, RECENT_MAX_INPUT, RECENT_MAX_OUTPUT, EXCEEDED_SINCE, EXCEEDED_MS,
  LOCAL_ERRORS,
} from './shared-state.js'
import { threadTid } from '../thread-id.js'
import { STAT_BLOCKED, STAT_BLOCKED_TIMED, CLIENTS_MEM_KB_WORD, ARENA_DROP_WORD } from '../ipc/layout.js'
import { collectSoon } from '../storage/release.js'
import { detachIdleArenas } from './engine.js'
import { xmoveShardDown } from '../commands/xmove.js'
import { SHARD_DOWN } from '../protocol/errors.js'
import { hashLimits } from '../storage/hash-type.js'
import { evictionSettings } from '../storage/eviction.js'
import { VirtualClients, VIRTUAL_BUF_BYTES, tokenMatches, type RestBackend, type RestRequest, type RestResult } from './virtual-connection.js'

export const REDIS_COMPAT_VERSION = '7.0.15'
const WORKER_FILE = new URL('../../workers/shard-worker.js', import.meta.url)
/** acceptCommonHandler's reply to a client over maxclients, written before the close. */
const MAX_CLIENTS_REACHED = Buffer.from('-ERR max number of clients reached\r\n', 'latin1')
const REST_MAX_CLIENTS: RestResult = { kind: 'refused', status: 503, error: 'ERR max number of clients reached' }
const CRON_MS = 100
const BGSAVE = commands.find(c => c.name === 'bgsave') as Command
const BGREWRITEAOF = commands.find(c => c.name === 'bgrewriteaof') as Command
/** STATS_METRIC_SAMPLES */
const METRIC_SAMPLES = 16

/** One instantaneous metric: per-second rates of a counter, sampled every CRON_MS. */
class Metric {
  readonly samples = new Float64Array(METRIC_SAMPLES)
  idx = 0
  lastTime = Date.now()
  lastCount = 0

  track (now: number, count: number): void {
    const t = now - this.lastTime
    this.samples[this.idx] = t > 0 ? Math.floor((count - this.lastCount) * 1000 / t) : 0
    this.idx = (this.idx + 1) % METRIC_SAMPLES
    this.lastTime = now
    this.lastCount = count
  }

  get value (): number {
    let sum = 0
    for (let i = 0; i < METRIC_SAMPLES; i++) sum += this.samples[i]
    return Math.floor(sum / METRIC_SAMPLES)
  }

  reset (count: number): void {
    this.samples.fill(0)
    this.idx = 0
    this.lastTime = Date.now()
    this.lastCount = count
  }
}

/** How the I/O threads share the port: the main thread alone, SO_REUSEPORT, or one listening socket. */
export type ListenMode = 'single' | 'reuseport' | 'shared-fd'

/** What an I/O thread is given by the main thread (io-threads > 1; see io-threads.ts). */
export interface IoThreadData {
  /** The shared save state (persistence/save-state.ts). */
  save?: SharedArrayBuffer
  config: Config
  index: number
  threads: number
  links: LinkEndpoint[]
  credit: SharedArrayBuffer
  slotFirst: number
  slotCount: number
  sequencer: SharedArrayBuffer
  shared: SharedArrayBuffer
  control: MessagePort
  mode: ListenMode
  /** shared-fd: the listening sockets of thread 0 (one per bind address), which the others accept on too. */
  fds: number[]
  /** unixsocket's listening socket, bound by thread 0, which the others accept on too (-1: none). */
  unixFd: number
  /** The port thread 0 bound (config.port may be 0). */
  port: number
  /** INFO's run_id, the same on every thread. */
  runId: string
  /** INFO commandstats & co. (server/command-stats.ts): every I/O thread's and shard's rows. */
  cmdStats: SharedArrayBuffer
}

/** A client of another I/O thread, as CLIENT LIST and CLIENT KILL see it after a gather. */
export interface ClientSnapshot { id: number, addr: string, laddr: string, line: string, thread: number, blocked: boolean }

/** Control messages between the main thread and an I/O thread. */
export type ControlMessage =
  | { op: 'listening', port: number, fds: number[], unixFd: number, tid: number }
  | { op: 'configError', message: string }
  | { op: 'gather', reqId: number }
  | { op: 'snapshot', reqId: number }
  | { op: 'snapshotReply', reqId: number, clients: ClientSnapshot[] }
  | { op: 'gathered', reqId: number, clients: ClientSnapshot[] }
  | { op: 'kill', thread: number, id: number }
  | { op: 'unblock', thread: number, id: number, mode: number }
  | { op: 'shardDown', shard: number }
  /** An I/O thread answered everything pending on a dead shard: the worker's side of its new ports. */
  | { op: 'shardReset', shard: number, ports: LinkPorts }
  /** The shard's replacement is running: links to it carry requests again. */
  | { op: 'shardUp', shard: number }
  | { op: 'rest', req: RestRequest }
  | { op: 'restReply', id: number, result: RestResult }
  | { op: 'restAbort', id: number }
  | { op: 'go' }
  /** CONFIG SET of listeners, TLS, dir: asked by an I/O thread, applied by each (thread 0 first), done. */
  | { op: 'config', reqId: number, change: SharedChange }
  | { op: 'applyConfig', reqId: number, change: SharedChange, isLead: boolean }
  | { op: 'appliedConfig', reqId: number, failure: ListenFailure | null }
  | { op: 'configDone', reqId: number, failure: ListenFailure | null }
  | { op: 'bgsave' }
  | { op: 'stop' }
  | { op: 'stopped' }

/** Stores the settings the shards read (shared words) from the configuration, once at start. */
export function applyShardSettings (settings: ServerSettings, config: Config): void {
  settings.notifyKeyspaceEvents = config.notifyKeyspaceEvents
  settings.hashMaxListpackEntries = BigInt(config.hashMaxListpackEntries)
  settings.hashMaxListpackValue = BigInt(config.hashMaxListpackValue)
  settings.setMaxIntsetEntries = BigInt(config.setMaxIntsetEntries)
  settings.zsetMaxListpackEntries = BigInt(config.zsetMaxListpackEntries)
  settings.zsetMaxListpackValue = BigInt(config.zsetMaxListpackValue)
  settings.hllSparseMaxBytes = BigInt(config.hllSparseMaxBytes)
  settings.maxmemory = config.maxmemory
  settings.maxmemoryPolicy = config.maxmemoryPolicy
  settings.maxmemorySamples = config.maxmemorySamples
  settings.lfuLogFactor = config.lfuLogFactor
  settings.lfuDecayTime = config.lfuDecayTime
  settings.evictionTenacity = config.evictionTenacity
}

const PROTECTED_DENIED = Buffer.from('-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command \'CONFIG SET protected-mode no\' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to \'no\', and then restarting the server. 3) If you started the server manually just for testing, restart it with the \'--protected-mode no\' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n', 'latin1')

export { isLoopback }

/** Upstash's answer to a missing or wrong token (its HTTP 401). */
const REST_UNAUTHORIZED: RestResult = { kind: 'refused', status: 401, error: 'WRONGPASS invalid or missing auth token' }
const REST_DENIED: RestResult = { kind: 'refused', status: 403, error: PROTECTED_DENIED.toString('latin1', 1, PROTECTED_DENIED.length - 2) }

/** A REST client's gate: the token is requirepass (none set: any token); protected mode as for TCP. */
export function restGate (password: Buffer, protectedMode: boolean, addr: string, token: string | null): RestResult | null {
  if (password.length > 0) return tokenMatches(token, password) ? null : REST_UNAUTHORIZED
  return protectedMode && !isLoopback(addr) ? REST_DENIED : null
}

/** The settings CONFIG SET may change, as the configuration starts them. */
export function initialSettings (config: Config): ServerSettings {
  // Redis's defaults: normal 0 0 0, replica 256mb 64mb 60, pubsub 32mb 8mb 60; then the file's lines.
  const obuf = Float64Array.of(0, 0, 0, 268435456, 67108864, 60, 33554432, 8388608, 60)
  for (const [cls, hard, soft, secs] of config.outputBufferLimits) obuf.set([hard, soft, secs], cls * 3)
  return {
    maxclients: config.maxclients, timeoutSec: config.timeoutSec, tcpKeepaliveSec: config.tcpKeepaliveSec, queryBufferLimit: QUERY_BUFFER_LIMIT, maxmemory: config.maxmemory,
    notifyKeyspaceEvents: config.notifyKeyspaceEvents,
    hashMaxListpackEntries: BigInt(config.hashMaxListpackEntries),
    hashMaxListpackValue: BigInt(config.hashMaxListpackValue),
    setMaxIntsetEntries: BigInt(config.setMaxIntsetEntries),
    zsetMaxListpackEntries: BigInt(config.zsetMaxListpackEntries),
    zsetMaxListpackValue: BigInt(config.zsetMaxListpackValue),
    lazyfreeLazyUserDel: false,
    backgroundFlags: 0,
    activeExpireEffort: 1,
    listMaxListpackSize: -2,
    hz: 10,
    maxmemoryPolicy: config.maxmemoryPolicy,
    maxmemorySamples: config.maxmemorySamples,
    lfuLogFactor: config.lfuLogFactor,
    lfuDecayTime: config.lfuDecayTime,
    evictionTenacity: config.evictionTenacity,
    hllSparseMaxBytes: BigInt(config.hllSparseMaxBytes),
    busyReplyThresholdMs: 5000n,
    lastSaveSec: Math.floor(Date.now() / 1000),
    protectedMode: config.protectedMode,
    rdbSaves: 0,
    outputBufferLimits: obuf,
  }
}

/** Whether net.Server takes reusePort (SO_REUSEPORT): Node 22.12+ and 23.1+; Node 20 ignores it. */
export function hasReusePort (version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

export class FlashServer implements ServerContext, ObservedServer, RestBackend {
  readonly shards: number
  port: number
  bind: string
  readonly version = REDIS_COMPAT_VERSION
  /** appendonly yes: the AOF files to replay once the shards have the base (main.ts). */
  aofReplay: readonly string[] = []
  /** The RDB file the shards load at start: dbfilename, or the AOF's RDB base. */
  private shardRdbFile: string | undefined = undefined
  readonly startedAt = Date.now()
  readonly configFile: string
  readonly logfile: string
  readonly pidfile: string
  readonly unixsocket: string
  readonly unixsocketperm: number
  dir: string
  dbfilename: string
  get password (): Buffer { return this.shared.password }
  setPassword (b: Uint8Array): boolean { return this.shared.setPassword(b) }
  get acl (): Acl { return this.shared.acl }
  get tracking (): Tracking { return this.router.tracking }
  readonly aclfile: string
  readonly cgroupMemoryLimit: number
  readonly replyWaitUs: number
  readonly spinUs: number
  readonly serverCpulist: string
  readonly clientIo = isRawIo ? 'handle' : 'stream'
  readonly runId: string
  readonly settings: ServerSettings
  readonly stats: ServerStats
  readonly ioThreads: number
  readonly ioListen: ListenMode
  private readonly shared: SharedState
  /** INFO commandstats, errorstats, latencystats (server/command-stats.ts): every thread's and shard's rows. */
  readonly cmdStats: CommandStats
  private readonly thread: number
  private readonly metrics = { ops: new Metric(), netInput: new Metric(), netOutput: new Metric() }
  private cron: NodeJS.Timeout | null = null
  private cronTicks = 0
  /** The shared settings words (server/credits.ts sharedFlags). */
  private readonly flags: Int32Array
  /** What this thread last added to CLIENTS_MEM_KB_WORD (its clients' buffers, KiB). */
  private clientsKb = 0
  /** ARENA_DROP_WORD as this thread last saw it. */
  private arenaDrops = 0
  readonly log: Logger
  private readonly links: ShardLink[] = []
  private readonly workers: ShardWorker[] = []
  private readonly credits: Credits
  private router!: Router
  /** The main thread's BGSAVE joiner, with one I/O thread (else IoThreads has it). */
  private joiner: BgsaveJoiner | null = null
  /** The plain port's listening sockets, one per bind address (listeners.ts). */
  private plain: NetServer[] = []
  /** Accepting on I/O thread 0's socket (shared-fd): never closed here, it is thread 0's descriptor. */
  private borrowed: NetServer[] = []
  private tlsServers: TlsServer[] = []
  private readonly redisParams: readonly RedisParam[]
  /** unixsocket's listener: bound by the lead thread, borrowed (its descriptor) by the other I/O threads. */
  private unixServer: NetServer | null = null
  /** TLS on every thread where the kernel spreads connections (reusePort), else on the first one alone. */
  private readonly ownsTls: boolean
  tls: TlsConfig
  readonly enableDebugCommand: 'no' | 'yes' | 'local'
  readonly enableProtectedConfigs: 'no' | 'yes' | 'local'
  readonly enableModuleCommand: 'no' | 'yes' | 'local'
  private applyChain: Promise<void> = Promise.resolve()
  /** This thread's CONFIG SETs waiting for every I/O thread (applyShared). */
  private readonly configWaits = new Map<number, (f: ListenFailure | null) => void>()
  private readonly conns = new Set<Connection>()
  /** Other threads' clients, during a CLIENT LIST or KILL that gathered them. */
  private remote: ClientContext[] = []
  private readonly gathers = new Map<number, () => void>()
  private nextReqId = 1
  private isStopping = false
  private isListening = false
  /**
   * An I/O thread accepts from the start but serves only once every thread listens and the
   * main thread has logged that it is ready ('go'): a client must not get an answer first.
   */
  private isOpen: boolean
  private readonly held: Array<{ socket: Socket, unixPath: string | null }> = []
  private readonly rest = new VirtualClients()

  constructor (config: Config, log: Logger, private readonly io: IoThreadData | null = null) {
    this.shards = config.shards
    debugGate.mode = config.enableDebugCommand
    setTcpBacklog(config.tcpBacklog)
    moduleGate.mode = config.enableModuleCommand
    // Checked by main.ts before anything started: here it only applies them on this thread.
    if (renameCommands(config.renameCommands) !== null) throw new Error('rename-command failed')
    this.port = io === null ? config.port : io.port
    this.bind = config.bind
    this.configFile = config.configFile
    this.logfile = config.logfile
    this.pidfile = config.pidfile
    this.unixsocket = config.unixsocket
    this.redisParams = config.redisParams
    this.unixsocketperm = config.unixsocketperm
    this.dir = config.dir
    this.dbfilename = config.dbfilename
    this.cgroupMemoryLimit = config.cgroupMemoryLimit
    this.replyWaitUs = config.replyWaitUs
    this.spinUs = config.spinUs
    this.serverCpulist = config.serverCpulist
    this.ioThreads = io === null ? 1 : io.threads
    this.ioListen = io === null ? 'single' : io.mode
    this.isOpen = io === null
    this.thread = io === null ? 0 : io.index
    this.shared = io === null ? new SharedState(1) : new SharedState(io.threads, io.shared)
    this.cmdStats = io === null ? new CommandStats(1 + config.shards) : new CommandStats(io.threads + config.shards, io.cmdStats)
    if (io === null) this.cmdStats.configure(config)
    this.runId = io === null ? randomBytes(20).toString('hex') : io.runId
    // With I/O threads the main thread has set them; the router reads maxmemory from here.
    setAofNames(config.dir, config.appenddirname, config.appendfilename)
    if (io === null) {
      initSaveState(config)
      const aof = prepareAof(config, this.version, log)
      this.aofReplay = aof.replay
      this.shardRdbFile = config.appendonly ? aof.rdbFile ?? undefined : join(config.dir, config.dbfilename)
      this.shared.initSettings(initialSettings(config))
      this.shared.setPassword(Buffer.from(config.requirepass, 'latin1'))
      loadUsersAtStart(this.shared.acl, config.aclfile, config.users)
    }
    this.aclfile = config.aclfile === '' ? '' : resolve(config.aclfile)
    this.credits = io === null ? new Credits() : new Credits(io.slotFirst, io.slotCount, io.credit)
    this.settings = this.shared.settings(sharedFlags(this.credits.sab))
    if (io === null) {
      applyShardSettings(this.settings, config)
      setMaxKeys(trackingWords(this.credits.sab), BigInt(config.trackingTableMaxKeys))
    }
    // The transaction engine runs hash commands on this thread too (server/engine.ts).
    hashLimits.flags = sharedFlags(this.credits.sab)
    evictionSettings.flags = hashLimits.flags
    this.flags = hashLimits.flags
    this.stats = SharedState.statsOf(this.shared.row(this.thread))
    this.credits.counters = this.shared.row(this.thread)
    this.log = log
    this.ownsTls = io === null || io.mode === 'reuseport' || io.index === 0
    this.tls = config.tls
    // TLS beside the plain port (tls.ts): fail at construction on bad files, as before.
    if (this.ownsTls && config.tls.port > 0) checkTls(config.tls)
    this.enableDebugCommand = config.enableDebugCommand
    this.enableProtectedConfigs = config.enableProtectedConfigs
    this.enableModuleCommand = config.enableModuleCommand
  }

  connectedClients (): number { return this.shared.connected }
  totalConnections (): number { return this.shared.sum(CONNECTIONS_RECEIVED) }
  totalCommands (): number { return this.shared.sum(COMMANDS) }
  replyWaitCounts (): { waits: number, timeouts: number } { return { waits: this.shared.sum(REPLY_WAITS), timeouts: this.shared.sum(REPLY_WAIT_TIMEOUTS) } }
  moveCount (): number { return this.shared.sum(XMOVES) }
  rejectedConnections (): number { return this.shared.sum(REJECTED) }
  netBytes (): { input: number, output: number } { return { input: this.shared.sum(NET_INPUT), output: this.shared.sum(NET_OUTPUT) } }
  ioProcessed (): { reads: number, writes: number } { return { reads: this.shared.sum(READS_PROCESSED), writes: this.shared.sum(WRITES_PROCESSED) } }
  blockedClients (): number {
    let n = this.shared.sum(CROSS_BLOCKED)
    for (const link of this.links) n += link.stats[STAT_BLOCKED]
    return n
  }

  evictionExceeded (): { total: number, current: number } {
    const now = performance.timeOrigin + performance.now()
    let total = 0
    let current = 0
    for (let t = 0; t < this.ioThreads; t++) {
      const row = this.shared.row(t)
      const cur = row[EXCEEDED_SINCE] === 0 ? 0 : now - row[EXCEEDED_SINCE]
      total = Math.max(total, row[EXCEEDED_MS] + cur)
      current = Math.max(current, cur)
    }
    return { total, current }
  }

  scriptingMemory (): { vmEval: number, vmFunctions: number, functions: number, libraries: number, functionsBytes: number } {
    const scripts = this.router.scripts
    const fe = scripts.functions.current
    let functionsBytes = 0
    if (fe !== null) for (const lib of fe.ctx.libs.values()) functionsBytes += lib.code.length
    return {
      vmEval: scripts.engine?.vm.memoryBytes() ?? 0,
      vmFunctions: fe?.engine.vm.memoryBytes() ?? 0,
      functions: fe?.ctx.fns.size ?? 0,
      libraries: fe?.ctx.libs.size ?? 0,
      functionsBytes,
    }
  }

  clientsInTimeoutTable (): number {
    let n = this.shared.sum(CROSS_BLOCKED_TIMED)
    for (const link of this.links) n += link.stats[STAT_BLOCKED_TIMED]
    return n
  }

  recentMaxBuffers (): { input: number, output: number } {
    return { input: this.shared.max(RECENT_MAX_INPUT), output: this.shared.max(RECENT_MAX_OUTPUT) }
  }

  /**
   * pauseClients (7.0): a pause only ever grows, in type and in end time; ms 0 is CLIENT
   * UNPAUSE. The words are shared: every thread's router holds its clients' commands.
   */
  pauseClients (ms: number, type: number): void {
    const w = this.shared.pauseWords()
    if (ms === 0 && type === 0) {
      w[0] = 0
      w[1] = 0
      this.router.checkPause()
      return
    }
    const end = Date.now() + ms
    if (type > w[1]) w[1] = type
    if (end > w[0]) w[0] = end
  }

  parkedRequests (): { now: number, total: number } { return { now: this.shared.sum(PARKED_NOW), total: this.shared.sum(PARKED_TOTAL) } }
  ioConnections (): number[] {
    const n: number[] = []
    for (let t = 0; t < this.ioThreads; t++) n.push(this.shared.row(t)[CONNECTIONS_RECEIVED])
    return n
  }

  ioTids (): number[] {
    const tids: number[] = []
    for (let t = 0; t < this.ioThreads; t++) tids.push(this.shared.tid(t))
    return tids
  }

  clientList (): ClientContext[] {
    if (this.remote.length === 0) return [...this.conns]
    return [...this.conns, ...this.remote].sort((a, b) => a.id - b.id)
  }

  instantaneous (metric: 'ops' | 'netInput' | 'netOutput'): number { return this.metrics[metric].value }

  // --- ObservedServer (src/http/observability.ts) ---------------------------------------------
  get maxmemory (): number { return this.settings.maxmemory }
  isReady (): boolean { return this.isListening && !this.isStopping && this.links.every(l => !l.isDead) }
  shardStats (): ReadonlyArray<{ stats: Float64Array, isAlive: boolean }> { return this.links.map(l => ({ stats: l.stats, isAlive: !l.isDead })) }
  * commandCalls (): Iterable<[string, number]> { for (const c of commands) yield [c.name, this.shared.callsOf(c.id)] }
  primaryErrors (): number { return this.shared.sum(LOCAL_ERRORS) }
  latency (): Float64Array { return this.shared.latency() }

  // Redis's resetServerStats, for the counters the I/O threads own (every thread's).
  resetStats (): void {
    this.shared.resetAll()
    this.cmdStats.reset()
    this.metrics.ops.reset(0)
    this.metrics.netInput.reset(0)
    this.metrics.netOutput.reset(0)
  }

  private onCron (): void {
    const now = Date.now()
    coarseClock.nowMs = now
    this.metrics.ops.track(now, this.totalCommands())
    const bytes = this.netBytes()
    this.metrics.netInput.track(now, bytes.input)
    this.metrics.netOutput.track(now, bytes.output)
    if (++this.cronTicks % 10 === 0 && this.settings.timeoutSec > 0) this.closeIdleClients(now)
    this.publishClientsMemory()
    // noeviction's spell over maxmemory ends once memory is back under it, writes or not (a
    // policy that evicts leaves it to the shards, which then keep to their shares).
    if (this.router.counters[EXCEEDED_SINCE] !== 0) {
      const max = this.settings.maxmemory
      if (max > 0 && this.router.usedMemory() <= max) this.router.overMaxmemory(false)
    }
    const drops = Atomics.load(this.flags, ARENA_DROP_WORD)
    if (drops !== this.arenaDrops) {
      this.arenaDrops = drops
      // Also frees what big requests left here (out-of-band buffers of records bigger than a ring).
      detachIdleArenas()
      collectSoon()
    }
    // serverCron's save points, on one thread only: the one that has thread index 0.
    if (this.thread === 0) saveCron(this.router, BGSAVE, this.settings, this.shards)
    if (this.thread === 0) rewriteCron(this.router, BGREWRITEAOF, this.log)
  }

  /** Adds the change of this thread's client buffers to the shared total used_memory counts. */
  private publishClientsMemory (): void {
    let bytes = 0
    let input = 0
    let output = 0
    for (const c of this.conns) {
      bytes += c.bufferBytes()
      input = Math.max(input, c.inputBufferBytes)
      output = Math.max(output, c.outputBufferBytes)
    }
    const kb = Math.ceil(bytes / 1024)
    if (kb !== this.clientsKb) Atomics.add(this.flags, CLIENTS_MEM_KB_WORD, kb - this.clientsKb)
    this.clientsKb = kb
    this.recentPeaks.track(Date.now(), input, output)
    const row = this.credits.counters
    row[RECENT_MAX_INPUT] = this.recentPeaks.input
    row[RECENT_MAX_OUTPUT] = this.recentPeaks.output
  }

  /** The biggest buffers of the last 8 seconds on this thread, a slot a second (CLIENTS_PEAK_MEM_USAGE_SLOTS). */
  private readonly recentPeaks = new RecentPeaks()

  /**
   * clientsCronHandleTimeout: a client silent for more than `timeout` seconds is closed, unless
   * it is waiting for replies (Redis skips blocked clients the same way).
   */
  private closeIdleClients (now: number): void {
    const maxIdleMs = this.settings.timeoutSec * 1000
    for (const c of [...this.conns]) {
      if (c.inFlight === 0 && now - c.lastInteraction > maxIdleMs) {
        this.log.debug({ id: c.id, addr: c.addr }, 'closing idle client')
        c.kill()
      }
    }
  }

  async start (): Promise<void> {
    const io = this.io
    let sequencer: Sequencer | null = null
    if (io === null) {
      await this.startShards()
    } else {
      const issued = new Int32Array(io.sequencer)
      for (const ep of io.links) {
        const link = new ShardLink(ep, this.credits)
        link.spinUs = this.spinUs
        link.useSequencer(issued, this.shards, io.index)
        this.links.push(link)
      }
      sequencer = new Sequencer(this.shards, io.sequencer)
    }
    const row = this.shared.row(this.thread)
    this.router = new Router(this.links, this.credits, this.shared.maxmemoryWord(), row, this.shared.calls(this.thread), this.replyWaitUs / 1000, sequencer, this.thread)
    this.router.onClientError = (c, err) => this.onClientError(c, err)
    this.router.cmdStats = this.cmdStats.row(this.thread)
    // One reply in 32 is timed (shard-link.ts); each thread keeps its own row of the histogram.
    for (const link of this.links) {
      link.onLatency = seconds => this.shared.observeLatency(this.thread, seconds)
      link.onAsk = m => finishForShardScript(this, m)
    }
    this.router.pause = this.shared.pauseWords()
    this.router.onInternalError = err => this.log.error({ err }, 'internal error handling a reply that belongs to no client')
    this.router.password = this.shared.authWord()
    this.router.acl = this.shared.acl
    let warnedAt = -Infinity
    this.router.onSecurityWarning = () => {
      const now = Date.now()
      if (now - warnedAt <= 60_000) return
      warnedAt = now
      this.log.warn('Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.')
    }
    if (io !== null) {
      this.router.gatherClients = done => this.gather(done)
      io.control.on('message', (m: ControlMessage) => this.onControl(m))
    }
    // The Lua VM: created before serving (Lua.create is async), one per producer thread.
    const log = this.log
    this.router.scripts.busyMs = () => Number(this.settings.busyReplyThresholdMs)
    this.router.scripts.state = this.shared.scriptWord()
    await this.router.scripts.init({
      debug: m => log.debug(m), info: m => log.info(m), warn: m => log.warn(m),
    }, REDIS_COMPAT_VERSION)
    // Redis directives of the config file and flags that CONFIG SET can change: set once, by
    // the thread that starts first (the settings are shared), before any client can connect.
    if (this.io === null || this.io.index === 0) this.applyRedisParams()
    await this.listen()
    this.shared.setTid(this.thread, threadTid())
    this.isListening = true
    this.cron = setInterval(() => this.onCron(), CRON_MS)
    this.cron.unref()
  }

  private applyRedisParams (): void {
    const warned = new Set<string>()
    for (const p of this.redisParams) {
      const r = applyStartupParam(this, p.name, p.value)
      if (r.kind === 'invalid') throw new ConfigError(`${p.where}: '${p.name}' ${r.reason}`)
      if (r.kind === 'ignored' && !warned.has(p.name)) {
        warned.add(p.name)
        this.log.warn(`${p.where}: '${p.name}' is a Redis directive FlashKV does not implement; ignored`)
      }
    }
  }

  /** The listening sockets' file descriptors (-1 where hidden), for I/O threads that share them. */
  get listenFds (): number[] {
    return this.plain.map(s => {
      const fd = (s as unknown as { _handle?: { fd?: unknown } })._handle?.fd
      return typeof fd === 'number' ? fd : -1
    })
  }

  // Paused: each Connection starts reading itself (socket-io.ts: acceptRaw makes each client's
  // one Socket; where it cannot, openSocket moves the handle into a second one first).
  // Half-open: a client's EOF still gets the replies to what it sent (Connection.onEnd).
  private readonly makePlain = (): NetServer => {
    const s = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, socket => this.accept(socket))
    // Node sets the handle's accept callback just before 'listening': one Socket per client (socket-io.ts).
    s.prependListener('listening', () => { acceptRaw(s, socket => this.accept(socket)) })
    return s
  }

  // As makePlain; its clients are told apart by the path they came in on (addr, flags U).
  private readonly makeUnix = (): NetServer => {
    const s = createServer({ pauseOnConnect: true, allowHalfOpen: true }, socket => this.accept(socket, this.unixsocket))
    s.prependListener('listening', () => { acceptRaw(s, socket => this.accept(socket, this.unixsocket)) })
    return s
  }

  private makeTls (t: TlsConfig): TlsServer {
    return createTlsListener(t, () => this.tls, socket => this.accept(socket), err => this.log.warn(`Error accepting a client connection: ${err.message}`))
  }

  private watch (servers: ReadonlyArray<NetServer | TlsServer>, what: string): void {
    for (const s of servers) s.on('error', err => this.log.error({ err }, what))
  }

  private get isReusePort (): boolean { return this.io !== null && this.io.mode === 'reuseport' }

  private async listen (): Promise<void> {
    const io = this.io
    if (io !== null && io.mode === 'shared-fd' && io.index > 0) {
      for (const fd of io.fds) {
        const s = this.makePlain()
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject)
          // Node takes a descriptor's backlog from the second argument only (options.backlog is
          // ignored there), and listen(2) again on the shared socket would reset it to 511.
          s.listen({ fd }, tcpBacklog(), () => { s.off('error', reject); resolve() })
        })
        this.borrowed.push(s)
        this.watch([s], 'listener error')
      }
    } else {
      const r = await listenAll(this.makePlain, bindAddresses(this.bind), this.port, this.isReusePort)
      this.plain = r.servers
      this.port = r.port
      this.watch(r.servers, 'listener error')
    }
    await this.listenUnixSocket()
    if (!this.ownsTls || this.tls.port === 0) return
    const t = this.tls
    const r = await listenAll(() => this.makeTls(t), bindAddresses(this.bind), t.port, this.isReusePort)
    this.tlsServers = r.servers
    this.watch(r.servers, 'TLS listener error')
  }

  /**
   * unixsocket: the lead thread binds it (relative to dir, as Redis, which chdirs there, binds
   * it); the other I/O threads accept on its descriptor, whatever the TCP mode (SO_REUSEPORT
   * does not spread a Unix socket's clients).
   */
  private async listenUnixSocket (): Promise<void> {
    if (this.unixsocket === '') return
    const io = this.io
    if (io === null || io.index === 0) {
      this.unixServer = await listenUnix(this.makeUnix, resolve(this.dir, this.unixsocket), this.unixsocketperm)
      this.watch([this.unixServer], 'unix socket listener error')
      return
    }
    if (io.unixFd < 0) return
    const s = this.makeUnix()
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen({ fd: io.unixFd }, tcpBacklog(), () => { s.off('error', reject); resolve() })
    })
    this.borrowed.push(s)
    this.watch([s], 'unix socket listener error')
  }

  /** The Unix socket listener's descriptor, for the I/O threads that share it (-1: none). */
  get unixFd (): number {
    const fd = (this.unixServer as unknown as { _handle?: { fd?: unknown } } | null)?._handle?.fd
    return typeof fd === 'number' ? fd : -1
  }

  /**
   * CONFIG SET of what every I/O thread must agree on: port, bind, tls-*, dir, dbfilename.
   * Resolves once every thread applied it (I/O thread 0 first: it binds, or refuses for all).
   */
  applyShared (change: SharedChange): Promise<ListenFailure | null> {
    if (this.io === null) {
      // One change at a time, each seeing the sockets the one before left.
      const next = this.applyChain.then(() => this.applyLocal(change, true))
      this.applyChain = next.then(() => {}, () => {})
      return next
    }
    const reqId = this.nextReqId++
    return new Promise(resolve => {
      this.configWaits.set(reqId, resolve)
      this.post({ op: 'config', reqId, change })
    })
  }

  /**
   * Binds new sockets (`bindNew`). The same port on other addresses may clash with this
   * thread's own old sockets (127.0.0.1, then *): then, as changeBindAddr, the old ones close
   * first, and are bound again (`bindOld`, into the same array) if the new ones fail too.
   */
  private async bindOver<S extends NetServer> (bindNew: () => Promise<S[]>, isSamePort: boolean, old: S[], bindOld: () => Promise<S[]>): Promise<{ servers: S[], closedOld: boolean }> {
    try {
      return { servers: await bindNew(), closedOld: false }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !isSamePort || old.length === 0) throw err
    }
    // close() frees the port at once; its callback would wait for every client to leave.
    for (const s of old) s.close()
    const closed = old.splice(0)
    try {
      return { servers: await bindNew(), closedOld: true }
    } catch (err) {
      const again = await bindOld().catch(() => [] as S[])
      old.push(...again)
      this.watch(again, 'listener error')
      if (again.length < closed.length) this.log.error('could not listen again on the addresses CONFIG SET tried to leave')
      throw err
    }
  }

  /**
   * One thread's part of a shared change (changeListenPort, changeBindAddr, applyTlsCfg in
   * Redis): checks the TLS settings, binds the new sockets, and only then closes the old ones.
   * The lead (the only thread, or I/O thread 0) decides; with shared-fd I/O threads the others
   * bind nothing and stop accepting: the new sockets are thread 0's alone.
   */
  private async applyLocal (change: SharedChange, isLead: boolean): Promise<ListenFailure | null> {
    const canBind = isLead || this.isReusePort
    const port = change.port ?? this.port
    const bind = change.bind ?? this.bind
    const tls = change.tls ?? this.tls
    const plainMoves = port !== this.port || bind !== this.bind
    const tlsMoves = this.ownsTls && (tls.port !== this.tls.port || (bind !== this.bind && tls.port > 0))
    const tlsChanged = !sameTls(tls, this.tls)
    let opts: TlsOptions | null = null
    if (this.ownsTls && tls.port > 0 && (tlsChanged || tlsMoves)) {
      try {
        opts = tlsOptions(tls)
        createSecureContext(opts)
      } catch (err) {
        this.log.warn(`Failed to configure TLS: ${(err as Error).message}`)
        return 'tls-config'
      }
    }
    // Port 0: no listener, as Redis (only at start does 0 mean "pick a free port").
    const plainAt = (b: string, p: number): Promise<NetServer[]> => p === 0 ? Promise.resolve([]) : listenAll(this.makePlain, bindAddresses(b), p, this.isReusePort).then(r => r.servers)
    const tlsAt = (t: TlsConfig, b: string): Promise<TlsServer[]> => t.port === 0 ? Promise.resolve([]) : listenAll(() => this.makeTls(t), bindAddresses(b), t.port, this.isReusePort).then(r => r.servers)
    let newPlain: NetServer[] | null = null
    let closedPlain = false
    if (plainMoves && canBind) {
      try {
        const r = await this.bindOver(() => plainAt(bind, port), port === this.port, this.plain, () => plainAt(this.bind, this.port))
        newPlain = r.servers
        closedPlain = r.closedOld
      } catch (err) {
        this.log.warn(`Could not create server TCP listening socket ${bind}:${port}: ${(err as Error).message}`)
        return 'plain'
      }
    }
    let newTls: TlsServer[] | null = null
    if (tlsMoves && canBind) {
      try {
        newTls = (await this.bindOver(() => tlsAt(tls, bind), tls.port === this.tls.port, this.tlsServers, () => tlsAt(this.tls, this.bind))).servers
      } catch (err) {
        this.log.warn(`Could not create server TLS listening socket ${bind}:${tls.port}: ${(err as Error).message}`)
        for (const s of newPlain ?? []) s.close()
        if (closedPlain) {
          this.plain = await plainAt(this.bind, this.port).catch(() => [])
          this.watch(this.plain, 'listener error')
        }
        return 'tls-listen'
      }
    }
    // Everything is bound: now the old sockets close (clients already in stay).
    if (newPlain !== null) {
      for (const s of this.plain) s.close()
      this.plain = newPlain
      this.watch(newPlain, 'listener error')
    }
    if (newTls !== null) {
      for (const s of this.tlsServers) s.close()
      this.tlsServers = newTls
      this.watch(newTls, 'TLS listener error')
    } else if (opts !== null) {
      for (const s of this.tlsServers) refreshTls(s, opts)
    }
    this.port = port
    this.bind = bind
    this.tls = tls
    if (change.dir !== undefined) this.dir = change.dir
    if (change.dbfilename !== undefined) this.dbfilename = change.dbfilename
    this.joiner?.setPath(this.dir, this.dbfilename)
    return null
  }

  private async startShards (): Promise<void> {
    const online: Promise<void>[] = []
    const bells = Array.from({ length: this.shards }, () => ShardWorker.newBell())
    const stats = Array.from({ length: this.shards }, () => ShardWorker.newStats())
    // Keyspace events go from every shard straight to the hub (shard 0), in ticket order.
    const events = hubEventRings(this.shards, bells[0], stats[0])
    const tickets = new Sequencer(this.shards).sab
    const wakeWord = newWakeWord()
    const joiner = this.joiner = new BgsaveJoiner(this.shards, this.dir, this.dbfilename, this.version, this.settings, this.log)
    for (let i = 0; i < this.shards; i++) {
      const ends = connectShard(i, bells[i], stats[i], wakeWord)
      const link = new ShardLink(ends.link, this.credits)
      link.spinUs = this.spinUs
      const producers = i === 0 ? [ends.worker, ...events.hub] : [ends.worker]
      const sw = new ShardWorker(i, this.shards, WORKER_FILE, this.log.level, this.credits.sab, producers, bells[i], stats[i], events.writers[i], tickets, this.shardRdbFile,
        { sab: this.cmdStats.sab, rows: this.cmdStats.rows, row: 1 + i },
        { state: this.shared.scriptWord(), busy: this.shared.busyReplyWords(), lastSave: this.shared.lastSaveWord(), version: REDIS_COMPAT_VERSION }, this.spinUs)
      sw.onLog = (level, msg) => { this.log[level](msg) }
      joiner.attach(sw.worker, i)
      this.links.push(link)
      this.workers.push(sw)
      online.push(new Promise((resolve, reject) => {
        sw.worker.once('message', () => resolve())
        sw.worker.once('error', reject)
      }))
      this.watchShard(sw)
    }
    await Promise.all(online)
  }

  /**
   * A shard worker that exits is replaced (docs/ARCHITECTURE.md, "A dead shard"): its link answers
   * what waited on it with CLUSTERDOWN, a new thread takes its databases over, and the link
   * carries requests again once that thread is up. Until then its slots answer CLUSTERDOWN.
   */
  private watchShard (sw: ShardWorker): void {
    const i = sw.index
    const worker = sw.worker
    worker.on('error', err => {
      // A dump.rdb that cannot load stops the server, as Redis refuses to start on one.
      if (String((err as Error)?.message).startsWith(RDB_LOAD_FAILED)) { this.log.fatal({ err, shard: i }, (err as Error).message); process.exit(1) }
      this.log.error({ err, shard: i }, 'shard worker failed')
    })
    worker.on('exit', code => {
      sw.isDead = true
      if (this.isStopping) return
      this.log.error({ shard: i, code }, 'shard worker exited; starting a replacement')
      const mine = this.shardDown(i) as LinkPorts
      const ports = [mine]
      setTimeout(() => {
        if (this.isStopping) return
        const next = sw.respawn(ports)
        this.joiner?.attach(next, i)
        this.watchShard(sw)
        next.once('message', () => {
          if (this.isStopping) return
          sw.isDead = false
          this.shardUp(i)
          this.log.warn({ shard: i, generation: sw.generation }, 'shard worker replaced; its keys are served again')
        })
      }, sw.respawnDelay())
    })
  }

  /** Ports for links whose replacement worker is starting, by shard. */
  private readonly revivePorts: Array<LinkPorts | null> = []

  /**
   * Shard s's worker died: everything waiting on it is answered CLUSTERDOWN (its ring is left
   * empty), and watch sessions with keys there will fail their EXEC, since what the shard knew of
   * them died with it. Returns the worker's side of the new ports for its replacement.
   */
  private shardDown (s: number): LinkPorts | null {
    const link = this.links[s]
    if (link === undefined) return null
    // Already down when a replacement died before it came up: only new ports are needed.
    if (!link.isDead) {
      // Shards waiting in a watched EXEC for this one's arrival go on (and run nothing).
      this.router.txns.onShardDown(s)
      // Shards waiting for it in a cross-shard RENAME give up (its part went with its ring).
      xmoveShardDown(this.credits.sab, s)
      link.failPending(SHARD_DOWN)
      for (const c of this.conns) if (c.watchTag !== 0 && c.watchShards.includes(s)) Atomics.store(this.credits.watch, c.slot, c.watchTag)
    }
    const ports = newLinkPorts()
    this.revivePorts[s] = ports.link
    return ports.worker
  }

  /** Shard s's replacement runs: its link carries requests again; the hub hears of this thread's subscriptions. */
  private shardUp (s: number): void {
    const ports = this.revivePorts[s]
    if (ports === null || ports === undefined) return
    this.revivePorts[s] = null
    this.links[s].revive(ports)
    if (s === 0) this.router.pubsub.resubscribe()
  }

  // --- several I/O threads ---------------------------------------------------------------------

  private post (m: ControlMessage, transfer: MessagePort[] = []): void { (this.io as IoThreadData).control.postMessage(m, transfer) }

  /** CLIENT LIST/KILL: every other thread's clients, through the main thread. */
  private gather (done: () => void): void {
    const reqId = this.nextReqId++
    this.gathers.set(reqId, done)
    this.post({ op: 'gather', reqId })
  }

  private onControl (m: ControlMessage): void {
    switch (m.op) {
      case 'snapshot': {
        const clients: ClientSnapshot[] = []
        for (const c of this.conns) clients.push({ id: c.id, addr: c.addr, laddr: c.laddr, line: c.infoLine(false), thread: this.thread, blocked: c.blockingSeq >= 0 })
        this.post({ op: 'snapshotReply', reqId: m.reqId, clients })
        break
      }
      case 'gathered': {
        const done = this.gathers.get(m.reqId)
        this.gathers.delete(m.reqId)
        if (done === undefined) return
        this.remote = m.clients.map(s => this.remoteClient(s))
        try { done() } finally { this.remote = [] }
        break
      }
      case 'kill':
        for (const c of this.conns) if (c.id === m.id) { c.kill(); break }
        break
      case 'unblock':
        for (const c of this.conns) if (c.id === m.id) { c.unblock(m.mode); break }
        break
      case 'shardDown': {
        const ports = this.shardDown(m.shard)
        if (ports !== null) this.post({ op: 'shardReset', shard: m.shard, ports }, [ports.port, ports.stepPort, ports.wake])
        break
      }
      case 'shardUp':
        this.shardUp(m.shard)
        break
      case 'rest':
        void this.runRest(m.req).then(result => this.post({ op: 'restReply', id: m.req.id, result }))
        break
      case 'restAbort':
        this.abortRest(m.id)
        break
      case 'bgsave':
        startBgsave(this.router, BGSAVE)
        break
      case 'applyConfig':
        void this.applyLocal(m.change, m.isLead).then(failure => this.post({ op: 'appliedConfig', reqId: m.reqId, failure }))
        break
      case 'configDone': {
        const done = this.configWaits.get(m.reqId)
        this.configWaits.delete(m.reqId)
        done?.(m.failure)
        break
      }
      case 'go':
        this.isOpen = true
        for (const h of this.held.splice(0)) this.accept(h.socket, h.unixPath)
        break
      case 'stop':
        this.stop().then(() => this.post({ op: 'stopped' }), err => {
          this.log.error({ err }, 'error stopping an I/O thread')
          this.post({ op: 'stopped' })
        })
        break
    }
  }

  private remoteClient (s: ClientSnapshot): ClientContext {
    return {
      id: s.id,
      addr: s.addr,
      laddr: s.laddr,
      infoLine: () => s.line,
      kill: () => this.post({ op: 'kill', thread: s.thread, id: s.id }),
      // Answered from the snapshot: the other thread unblocks it on receipt.
      unblock: (mode: number) => { if (s.blocked) this.post({ op: 'unblock', thread: s.thread, id: s.id, mode }); return s.blocked },
    } as unknown as ClientContext
  }

  // --- clients -----------------------------------------------------------------------------------

  /** `unixPath`: the unixsocket setting, for a client of the Unix socket (null: TCP or TLS). */
  private accept (socket: Socket, unixPath: string | null = null): void {
    if (this.isStopping) { socket.destroy(); return }
    if (!this.isOpen) { this.held.push({ socket, unixPath }); return }
    // acceptCommonHandler: over maxclients, a best-effort error, then close; not counted as received.
    // Protected mode: with no password, only loopback and Unix socket clients get in (acceptCommonHandler).
    if (this.settings.protectedMode && Atomics.load(this.shared.authWord(), 0) === 0 && unixPath === null && !isLoopback(socket.remoteAddress)) {
      socket.on('error', () => {})
      socket.end(PROTECTED_DENIED)
      socket.resume()
      this.stats.rejectedConnections++
      return
    }
    if (!this.shared.tryConnect()) {
      socket.on('error', () => {})
      socket.end(MAX_CLIENTS_REACHED)
      socket.resume() // accepted paused: read (and drop) to the client's close, as before
      this.stats.rejectedConnections++
      return
    }
    if (this.settings.tcpKeepaliveSec > 0) socket.setKeepAlive(true, this.settings.tcpKeepaliveSec * 1000)
    // With requirepass set, a new client must AUTH first (those already in stay authenticated).
    this.attach(socket, undefined, unixPath).isAuthenticated = Atomics.load(this.shared.authWord(), 0) === 0
    this.router.isAcceptTurn = true
  }

  /** A client over an accepted socket, or a REST request's virtual one (virtual-connection.ts). */
  private attach (socket: Socket, bufBytes?: number, unixPath: string | null = null): Connection {
    const conn = new Connection(this.shared.nextClientId(), socket, this, this.dispatcher, this.credits, bufBytes, unixPath)
    this.conns.add(conn)
    this.router.tracking.onOpen(conn)
    this.stats.connectionsReceived++
    if (this.log.isLevelEnabled('debug')) this.log.debug({ id: conn.id, addr: conn.addr }, 'connection opened')
    return conn
  }

  /**
   * Every connection's hooks into this server, made once: a set of nine closures per client was
   * garbage at every connect (a pool that reconnects, or a client per request).
   */
  private readonly dispatcher: Dispatcher = {
    dispatch: (c, argv) => this.router.dispatch(c, argv),
    markDirty: c => this.router.markDirty(c),
    onClose: c => {
      this.conns.delete(c)
      this.shared.disconnected()
      this.router.onClose(c)
      if (this.log.isLevelEnabled('debug')) this.log.debug({ id: c.id, addr: c.addr }, 'connection closed')
    },
    onClientError: (c, err) => this.onClientError(c, err),
    unblock: (c, mode) => this.router.unblock(c, mode),
    beforeRead: () => this.router.beforeRead(),
    unstick: c => this.router.unstick(c),
    reset: c => this.router.reset(c),
  }

  // --- the HTTP REST API (src/http/rest.ts) -----------------------------------------------------

  restGate (addr: string, token: string | null): RestResult | null { return restGate(this.shared.password, this.settings.protectedMode, addr, token) }

  /** Runs one REST request on a virtual client of this thread, through this router. */
  runRest (req: RestRequest): Promise<RestResult> {
    return this.rest.run(req, socket => {
      if (this.isStopping || !this.isOpen) return { kind: 'refused', status: 503, error: 'ERR the server is not serving clients' }
      if (!this.shared.tryConnect()) { this.stats.rejectedConnections++; return REST_MAX_CLIENTS }
      // restGate checked the token: the client is in, as after AUTH.
      const conn = this.attach(socket as unknown as Socket, VIRTUAL_BUF_BYTES)
      conn.isAuthenticated = true
      if (req.isLoader === true) conn.isLoader = true
      return null
    })
  }

  abortRest (id: number): void { this.rest.abort(id) }

  /** Serving one client threw (a bug): log it and close that client; everyone else goes on. */
  private onClientError (conn: Connection, err: unknown): void {
    this.log.error({ err, id: conn.id, addr: conn.addr, cmd: conn.lastCmd?.name }, 'internal error serving a client; closing it')
    conn.fail(err)
  }

  /** A signal's shutdown that saves (main.ts): a background save first; false when it failed. */
  async saveForShutdown (): Promise<boolean> {
    const joiner = this.joiner
    if (joiner === null) return true
    return await joiner.saveForShutdown(() => { startBgsave(this.router, BGSAVE) })
  }

  /**
   * Graceful stop: no new connections or commands, let replies in flight go out (up to
   * graceMs), close the clients, stop the workers (the main thread stops them when this is an
   * I/O thread).
   */
  async stop (graceMs = 5000): Promise<void> {
    this.isStopping = true
    if (this.cron !== null) { clearInterval(this.cron); this.cron = null }
    Atomics.sub(this.flags, CLIENTS_MEM_KB_WORD, this.clientsKb)
    this.clientsKb = 0
    // Threads that accept on thread 0's socket do not close it: one close per descriptor.
    const closed = Promise.all([...this.plain, ...this.tlsServers, ...(this.unixServer === null ? [] : [this.unixServer])].map(s => new Promise<void>(resolve => s.close(() => resolve()))))
    for (const c of this.conns) c.drainAndClose()
    const deadline = Date.now() + graceMs
    // Each connection closes itself once what it had read is answered.
    while ((this.conns.size > 0 || !this.router.isIdle) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 2))
    for (const c of this.conns) c.flush()
    for (const c of this.conns) c.socket.end()
    await Promise.all(this.workers.map(w => w.stop()))
    if (this.io === null) for (const l of this.links) l.close()
    for (const c of this.conns) c.socket.destroy()
    await closed
  }
}

/** Redis's ClientsPeakMemInput/Output: the largest figure seen in each of the last 8 seconds. */
class RecentPeaks {
  private readonly ins = new Float64Array(8)
  private readonly outs = new Float64Array(8)
  private sec = 0
  input = 0
  output = 0

  track (nowMs: number, input: number, output: number): void {
    const sec = Math.floor(nowMs / 1000)
    // The slots of the seconds gone by since the last sample start again from zero.
    for (let s = Math.max(this.sec + 1, sec - 7); s <= sec; s++) { this.ins[s % 8] = 0; this.outs[s % 8] = 0 }
    this.sec = sec
    const i = sec % 8
    if (input > this.ins[i]) this.ins[i] = input
    if (output > this.outs[i]) this.outs[i] = output
    this.input = Math.max(...this.ins)
    this.output = Math.max(...this.outs)
  }
}
