// --io-threads N > 1: the main thread starts the shard workers and N I/O threads, then only
// relays. Each I/O thread (workers/io-worker.ts) is a FlashServer with its own listener, its
// own clients and its own ring pair to every shard, so no single thread carries every command.
//
// The port: with SO_REUSEPORT (Node 22.12+, the image's Node 24) every I/O thread binds it and
// the kernel spreads connections; without it (Node 20) thread 0 binds and the others accept on
// the same listening socket. What the threads share lives in SharedState (client ids, client
// count, settings, counters); multi-shard commands are ordered by the Sequencer. What needs
// every thread's clients (CLIENT LIST, CLIENT KILL) is gathered through here.

import { Buffer } from 'node:buffer'
import { join } from 'node:path'
import { BgsaveJoiner } from '../persistence/bgsave.js'
import { saveSab, initSaveState } from '../persistence/save-state.js'
import { RDB_LOAD_FAILED } from '../persistence/rdb-file.js'
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads'
import type { Logger } from 'pino'
import { randomBytes } from 'node:crypto'
import { ConfigError, type Config } from '../config.js'
import type { ObservedServer } from '../http/observability.js'
import { commands } from '../commands/table.js'
import { ShardWorker, connectShard, newWakeWord, endpointPorts, hubEventRings, type LinkEndpoint, type LinkPorts } from './shard-link.js'
import { CREDIT_SLOTS, CREDIT_SAB_BYTES, sharedFlags, trackingWords } from './credits.js'
import { setMaxKeys } from '../storage/tracking.js'
import { Sequencer } from './sequencer.js'
import { SharedState, CONNECTIONS_RECEIVED, LOCAL_ERRORS } from './shared-state.js'
import { CommandStats } from './command-stats.js'
import { loadUsersAtStart } from './acl.js'
import type { ServerSettings } from '../commands/spec.js'
import { REDIS_COMPAT_VERSION, hasReusePort, initialSettings, applyShardSettings, restGate, type ClientSnapshot, type ControlMessage, type IoThreadData, type ListenMode } from './server.js'
import type { ProducerEndpoint } from '../ipc/layout.js'
import { prepareAof, setAofNames } from '../persistence/aof-files.js'
import { type RestBackend, type RestRequest, type RestResult } from './virtual-connection.js'
import type { SharedChange, ListenFailure } from './listeners.js'

const SHARD_FILE = new URL('../../workers/shard-worker.js', import.meta.url)
const IO_FILE = new URL('../../workers/io-worker.js', import.meta.url)

interface IoThread { worker: Worker, control: MessagePort, isListening: boolean }
/** What a thread listens on: thread 0's port and descriptors, which the others share. */
interface Bound { port: number, fds: number[], unixFd: number }

/** A gather in progress: the snapshots so far, and how many threads are still to answer. */
interface Gather { from: number, reqId: number, clients: ClientSnapshot[], left: number }

export class IoThreads implements ObservedServer, RestBackend {
  port: number
  readonly mode: ListenMode
  private readonly shared: SharedState
  private readonly threads: IoThread[] = []
  private readonly shards: ShardWorker[] = []
  private readonly gathers = new Map<number, Gather>()
  private nextGather = 1
  private isStopping = false
  /** REST requests relayed to I/O thread 0, by id: who awaits the reply. */
  private readonly rests = new Map<number, (r: RestResult) => void>()
  /** appendonly yes: the AOF files to replay once the shards have the base (main.ts). */
  readonly aofReplay: readonly string[]
  /** The RDB file the shards load at start: dbfilename, or the AOF's RDB base. */
  private readonly shardRdbFile: string | undefined

  private dir: string
  private dbfilename: string

  constructor (private readonly config: Config, private readonly log: Logger) {
    this.port = config.port
    this.dir = config.dir
    this.dbfilename = config.dbfilename
    this.mode = hasReusePort() ? 'reuseport' : 'shared-fd'
    this.shared = new SharedState(config.ioThreads)
    this.cmdStats = new CommandStats(config.ioThreads + config.shards)
    this.cmdStats.configure(config)
    initSaveState(config)
    setAofNames(config.dir, config.appenddirname, config.appendfilename)
    const aof = prepareAof(config, REDIS_COMPAT_VERSION, log)
    this.aofReplay = aof.replay
    this.shardRdbFile = config.appendonly ? aof.rdbFile ?? undefined : join(config.dir, config.dbfilename)
    this.shared.initSettings(initialSettings(config))
    this.shared.setPassword(Buffer.from(config.requirepass, 'latin1'))
    loadUsersAtStart(this.shared.acl, config.aclfile, config.users)
    this.settings = this.shared.settings(sharedFlags(this.credit))
    applyShardSettings(this.settings, config)
    setMaxKeys(trackingWords(this.credit), BigInt(config.trackingTableMaxKeys))
  }

  /** Output credit, WATCH words and the shards' settings (server/credits.ts), for every thread and shard. */
  private readonly credit = new SharedArrayBuffer(CREDIT_SAB_BYTES)

  private readonly settings: ServerSettings
  private readonly cmdStats: CommandStats

  get ioThreads (): number { return this.config.ioThreads }

  async start (): Promise<void> {
    const { config } = this
    const n = config.ioThreads
    const credit = this.credit
    // With an epoch word per (I/O thread, shard): see sequencer.ts.
    const sequencer = new Sequencer(config.shards, undefined, n).sab
    // Every (I/O thread, shard) pair gets its own rings: the thread keeps one end, the shard the other.
    const links: LinkEndpoint[][] = Array.from({ length: n }, () => [])
    const producers: ProducerEndpoint[][] = Array.from({ length: config.shards }, () => [])
    const bells = Array.from({ length: config.shards }, () => ShardWorker.newBell())
    const stats = Array.from({ length: config.shards }, () => ShardWorker.newStats())
    for (let t = 0; t < n; t++) {
      const wakeWord = newWakeWord()
      for (let s = 0; s < config.shards; s++) {
        const ends = connectShard(s, bells[s], stats[s], wakeWord)
        links[t].push(ends.link)
        producers[s].push(ends.worker)
      }
    }
    // Keyspace events go from every shard straight to the hub (shard 0), ordered by shard 0's tickets.
    const events = hubEventRings(config.shards, bells[0], stats[0])
    producers[0].push(...events.hub)
    const online: Promise<void>[] = []
    const joiner = this.joiner = new BgsaveJoiner(config.shards, config.dir, config.dbfilename, REDIS_COMPAT_VERSION, this.settings, this.log)
    for (let s = 0; s < config.shards; s++) {
      const sw = new ShardWorker(s, config.shards, SHARD_FILE, this.log.level, credit, producers[s], bells[s], stats[s], events.writers[s], sequencer, this.shardRdbFile,
        { sab: this.cmdStats.sab, rows: this.cmdStats.rows, row: n + s },
        { state: this.shared.scriptWord(), busy: this.shared.busyReplyWords(), lastSave: this.shared.lastSaveWord(), version: REDIS_COMPAT_VERSION }, config.spinUs)
      sw.onLog = (level, msg) => { this.log[level](msg) }
      this.shards.push(sw)
      joiner.attach(sw.worker, s)
      online.push(new Promise((resolve, reject) => { sw.worker.once('message', () => resolve()); sw.worker.once('error', reject) }))
      this.watchShard(sw)
    }
    await Promise.all(online)
    const runId = randomBytes(20).toString('hex')
    const slotCount = Math.floor((CREDIT_SLOTS - 1) / n)
    // Thread 0 binds first (the port may be 0); the others then share what it bound, and start
    // together: one after another, their module loading alone made a start with 4 I/O threads
    // take ~4.4 s on 2 CPUs (each thread ~0.7 s, most of it compiling).
    const start = (t: number, fds: number[], unixFd: number): Promise<Bound> => this.startThread({
      config, index: t, threads: n, links: links[t], credit, slotFirst: 1 + t * slotCount, slotCount, sequencer,
      shared: this.shared.sab, cmdStats: this.cmdStats.sab, mode: this.mode, fds, unixFd, port: this.port, runId, save: saveSab(),
    })
    const bound = await start(0, [], -1)
    this.port = bound.port
    await Promise.all(Array.from({ length: n - 1 }, (_x, i) => start(i + 1, bound.fds, bound.unixFd)))
  }

  /** Starts the I/O thread `d` describes; resolves once it listens, with where (thread 0 binds: its port and fds). */
  private startThread (d: Omit<IoThreadData, 'control'>): Promise<Bound> {
    const t = d.index
    const { port1, port2 } = new MessageChannel()
    const data: IoThreadData = { ...d, control: port2 }
    const worker = new Worker(IO_FILE, { workerData: data, transferList: [port2 as unknown as ArrayBuffer, ...endpointPorts(d.links)], name: `io-${t}` })
    const thread: IoThread = { worker, control: port1, isListening: false }
    this.threads[t] = thread
    const listening = new Promise<Bound>((resolve, reject) => {
      port1.on('message', (m: ControlMessage) => {
        if (m.op === 'listening') { thread.isListening = true; resolve({ port: m.port, fds: m.fds, unixFd: m.unixFd }) } else if (m.op === 'configError') reject(new ConfigError(m.message)); else this.onControl(t, m)
      })
      worker.once('error', reject)
      worker.once('exit', code => reject(new Error(`I/O thread ${t} exited with code ${code}`)))
    })
    worker.on('error', err => this.log.error({ err, io: t }, 'I/O thread failed'))
    // Redis's exit for a failed sync under always, made by the thread that syncs before its
    // replies leave (persistence/aof.ts exitProcess): only this thread can end the process cleanly.
    worker.on('message', (m: { op?: string, code?: number }) => { if (m?.op === 'fatal-exit') process.exit(m.code) })
    return listening
  }

  /**
   * A shard worker that exits is replaced (docs/ARCHITECTURE.md, "A dead shard"): every I/O
   * thread answers what waited on it with CLUSTERDOWN and sends back the worker's side of new
   * ports (shardReset); with all of them a new thread takes the shard's databases over, and once
   * it is up the threads' links carry requests again (shardUp).
   */
  private watchShard (sw: ShardWorker): void {
    const s = sw.index
    sw.worker.on('error', err => {
      // A dump.rdb that cannot load stops the server, as Redis refuses to start on one.
      if (String((err as Error)?.message).startsWith(RDB_LOAD_FAILED)) { this.log.fatal({ err, shard: s }, (err as Error).message); process.exit(1) }
      this.log.error({ err, shard: s }, 'shard worker failed')
    })
    sw.worker.on('exit', code => {
      sw.isDead = true
      if (this.isStopping) return
      this.log.error({ shard: s, code }, 'shard worker exited; starting a replacement')
      this.resets[s] = new Array<LinkPorts | undefined>(this.threads.length)
      this.resetsLeft[s] = this.threads.length
      for (const t of this.threads) t.control.postMessage({ op: 'shardDown', shard: s } satisfies ControlMessage)
    })
  }

  /** Per shard being replaced: each I/O thread's new ports (worker side), and how many are still to come. */
  private readonly resets: Array<Array<LinkPorts | undefined>> = []
  private readonly resetsLeft: number[] = []

  /** I/O thread `from` is done with dead shard s; once every thread is, the replacement starts. */
  private onShardReset (from: number, s: number, ports: LinkPorts): void {
    const got = this.resets[s]
    if (got === undefined || got[from] !== undefined) return
    got[from] = ports
    if (--this.resetsLeft[s] > 0 || this.isStopping) return
    const sw = this.shards[s]
    const all = got as LinkPorts[]
    setTimeout(() => {
      if (this.isStopping) return
      const next = sw.respawn(all)
      this.joiner?.attach(next, s)
      this.watchShard(sw)
      next.once('message', () => {
        if (this.isStopping) return
        sw.isDead = false
        for (const t of this.threads) t.control.postMessage({ op: 'shardUp', shard: s } satisfies ControlMessage)
        this.log.warn({ shard: s, generation: sw.generation }, 'shard worker replaced; its keys are served again')
      })
    }, sw.respawnDelay())
  }

  /** Every thread listens and the start is logged: let them serve. */
  open (): void {
    for (const t of this.threads) t.control.postMessage({ op: 'go' } satisfies ControlMessage)
  }

  /** Relays between I/O threads: gathers of every thread's clients, and kills by id. */
  private onControl (from: number, m: ControlMessage): void {
    switch (m.op) {
      case 'gather': {
        const others = this.threads.filter((_t, i) => i !== from)
        if (others.length === 0) { this.threads[from].control.postMessage({ op: 'gathered', reqId: m.reqId, clients: [] } satisfies ControlMessage); return }
        const id = this.nextGather++
        this.gathers.set(id, { from, reqId: m.reqId, clients: [], left: others.length })
        for (const t of others) t.control.postMessage({ op: 'snapshot', reqId: id } satisfies ControlMessage)
        break
      }
      case 'snapshotReply': {
        const g = this.gathers.get(m.reqId)
        if (g === undefined) return
        g.clients.push(...m.clients)
        if (--g.left === 0) {
          this.gathers.delete(m.reqId)
          this.threads[g.from].control.postMessage({ op: 'gathered', reqId: g.reqId, clients: g.clients } satisfies ControlMessage)
        }
        break
      }
      case 'restReply': {
        const r = this.rests.get(m.id)
        this.rests.delete(m.id)
        r?.(m.result)
        break
      }
      case 'kill':
      case 'unblock':
        this.threads[m.thread]?.control.postMessage(m)
        break
      case 'config':
        // One shared change at a time, in the order they came.
        this.configChain = this.configChain.then(() => this.applyConfig(from, m.reqId, m.change))
        break
      case 'appliedConfig': {
        const done = this.applied.get(m.reqId)
        this.applied.delete(m.reqId)
        done?.(m.failure)
        break
      }
      case 'shardReset':
        this.onShardReset(from, m.shard, m.ports)
        break
    }
  }

  private configChain = Promise.resolve()
  private readonly applied = new Map<number, (f: ListenFailure | null) => void>()
  private nextApply = 1

  /**
   * CONFIG SET of port, bind, tls-* or dir on thread `from`: I/O thread 0 applies it first (it binds
   * the new sockets, or refuses and nothing changes), then every other thread, then the reply.
   */
  private async applyConfig (from: number, reqId: number, change: SharedChange): Promise<void> {
    const ask = (t: number): Promise<ListenFailure | null> => new Promise(resolve => {
      const id = this.nextApply++
      this.applied.set(id, resolve)
      this.threads[t].control.postMessage({ op: 'applyConfig', reqId: id, change, isLead: t === 0 } satisfies ControlMessage)
    })
    const failure = await ask(0)
    if (failure === null) {
      const others = await Promise.all(this.threads.slice(1).map((_t, i) => ask(i + 1)))
      const bad = others.findIndex(f => f !== null)
      if (bad >= 0) this.log.error({ io: bad + 1, failure: others[bad] }, 'an I/O thread could not apply CONFIG SET as thread 0 did')
      if (change.port !== undefined) this.port = change.port
      this.joiner?.setPath(change.dir ?? this.dir, change.dbfilename ?? this.dbfilename)
      if (change.dir !== undefined) this.dir = change.dir
      if (change.dbfilename !== undefined) this.dbfilename = change.dbfilename
    }
    this.threads[from].control.postMessage({ op: 'configDone', reqId, failure } satisfies ControlMessage)
  }

  // --- the HTTP REST API (src/http/rest.ts) ---------------------------------------------------
  // This thread has no router: each request runs on I/O thread 0's, over a virtual client there
  // (FlashServer.runRest), and its reply bytes come back here to become JSON. One thread rather
  // than each in turn: it takes several requests per wake-up (on 2 cores, 2/3 of the CPU per
  // request of a round robin over 4), and the HTTP parsing here saturates first anyway.

  restGate (addr: string, token: string | null): RestResult | null { return restGate(this.shared.password, this.settings.protectedMode, addr, token) }

  runRest (req: RestRequest): Promise<RestResult> {
    return new Promise(resolve => {
      this.rests.set(req.id, resolve)
      this.threads[0].control.postMessage({ op: 'rest', req } satisfies ControlMessage)
    })
  }

  abortRest (id: number): void {
    if (this.rests.has(id)) this.threads[0].control.postMessage({ op: 'restAbort', id } satisfies ControlMessage)
  }

  // --- ObservedServer (src/http/observability.ts) ---------------------------------------------
  get maxmemory (): number { return this.settings.maxmemory }
  isReady (): boolean { return !this.isStopping && this.threads.every(t => t.isListening) && this.shards.every(s => !s.isDead) }
  connectedClients (): number { return this.shared.connected }
  totalConnections (): number { return this.shared.sum(CONNECTIONS_RECEIVED) }
  shardStats (): ReadonlyArray<{ stats: Float64Array, isAlive: boolean }> { return this.shards.map(s => ({ stats: new Float64Array(s.stats), isAlive: !s.isDead })) }
  * commandCalls (): Iterable<[string, number]> { for (const c of commands) yield [c.name, this.shared.callsOf(c.id)] }
  primaryErrors (): number { return this.shared.sum(LOCAL_ERRORS) }
  /** Latencies are sampled on the I/O threads' links, which this thread does not see. */
  latency (): Float64Array { return this.shared.latency() }

  private joiner: BgsaveJoiner | null = null

  /** A signal's shutdown that saves (main.ts): a background save first, routed by I/O thread 0; false when it failed. */
  async saveForShutdown (): Promise<boolean> {
    const joiner = this.joiner
    if (joiner === null) return true
    return await joiner.saveForShutdown(() => { this.threads[0].control.postMessage({ op: 'bgsave' } satisfies ControlMessage) })
  }

  /** Graceful stop: every I/O thread lets its replies go out and closes its clients; then the shards. */
  async stop (): Promise<void> {
    this.isStopping = true
    await Promise.all(this.threads.map(async t => {
      const stopped = new Promise<void>(resolve => {
        t.control.on('message', (m: ControlMessage) => { if (m.op === 'stopped') resolve() })
        t.worker.once('exit', () => resolve())
      })
      t.control.postMessage({ op: 'stop' } satisfies ControlMessage)
      const timer = setTimeout(() => { void t.worker.terminate() }, 10_000)
      await stopped
      clearTimeout(timer)
    }))
    await Promise.all(this.shards.map(s => s.stop()))
    await Promise.all(this.threads.map(t => t.worker.terminate()))
  }
}
