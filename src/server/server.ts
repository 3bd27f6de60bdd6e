// The server: shard workers, the TCP listener, connections and graceful shutdown. It is the
// ServerContext that primary-thread commands (INFO, CONFIG, CLIENT) read from. A 100 ms cron,
// like Redis's serverCron, refreshes the coarse clock, samples the instantaneous metrics
// (trackInstantaneousMetric) and, once a second, closes idle clients (clientsCronHandleTimeout).

import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { isRawIo } from './socket-io.js'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { ServerContext, ClientContext, ServerSettings, ServerStats } from '../commands/spec.js'
import type { ObservedServer } from '../http/observability.js'
import { commands } from '../commands/table.js'
import { Connection, coarseClock, QUERY_BUFFER_LIMIT } from './connection.js'
import { ShardLink, ShardWorker, connectShard } from './shard-link.js'
import { Router } from './router.js'
import { Credits } from './credits.js'
import { SHARD_DOWN } from '../protocol/errors.js'

export const REDIS_COMPAT_VERSION = '7.0.15'
const WORKER_FILE = new URL('../../workers/shard-worker.js', import.meta.url)
/** acceptCommonHandler's reply to a client over maxclients, written before the close. */
const MAX_CLIENTS_REACHED = Buffer.from('-ERR max number of clients reached\r\n', 'latin1')
const CRON_MS = 100
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

export class FlashServer implements ServerContext, ObservedServer {
  readonly shards: number
  port: number
  readonly bind: string
  readonly version = REDIS_COMPAT_VERSION
  readonly startedAt = Date.now()
  readonly configFile: string
  readonly cgroupMemoryLimit: number
  readonly replyWaitUs: number
  readonly clientIo = isRawIo ? 'handle' : 'stream'
  readonly runId = randomBytes(20).toString('hex')
  readonly settings: ServerSettings
  readonly stats: ServerStats = { connectionsReceived: 0, rejectedConnections: 0, netInputBytes: 0, netOutputBytes: 0 }
  private readonly metrics = { ops: new Metric(), netInput: new Metric(), netOutput: new Metric() }
  private cron: NodeJS.Timeout | null = null
  private cronTicks = 0
  private readonly log: Logger
  private readonly links: ShardLink[] = []
  private readonly workers: ShardWorker[] = []
  private readonly credits = new Credits()
  private router!: Router
  private readonly net: NetServer
  private readonly conns = new Set<Connection>()
  private nextClientId = 1
  private isStopping = false
  private isListening = false

  constructor (config: Config, log: Logger) {
    this.shards = config.shards
    this.port = config.port
    this.bind = config.bind
    this.configFile = config.configFile
    this.cgroupMemoryLimit = config.cgroupMemoryLimit
    this.replyWaitUs = config.replyWaitUs
    let maxmemory = config.maxmemory
    // maxmemory lives in the router, which refuses denyoom commands above it; CONFIG SET writes through.
    const applyMaxmemory = (): void => { if (this.router !== undefined) this.router.maxmemory = maxmemory }
    this.settings = {
      maxclients: config.maxclients,
      timeoutSec: 0,
      tcpKeepaliveSec: 300,
      queryBufferLimit: QUERY_BUFFER_LIMIT,
      get maxmemory () { return maxmemory },
      set maxmemory (v: number) { maxmemory = v; applyMaxmemory() },
    }
    this.log = log
    // Paused: each Connection starts reading itself (socket-io.ts moves the handle first).
    // Half-open: a client's EOF still gets the replies to what it sent (Connection.onEnd).
    this.net = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, socket => this.accept(socket))
  }

  connectedClients (): number { return this.conns.size }
  totalConnections (): number { return this.stats.connectionsReceived }
  totalCommands (): number { return this.router.commandsProcessed }
  replyWaitCounts (): { waits: number, timeouts: number } { return { waits: this.router.replyWaits, timeouts: this.router.replyWaitTimeouts } }
  rejectedConnections (): number { return this.stats.rejectedConnections }
  parkedRequests (): { now: number, total: number } { return { now: this.credits.parkedNow, total: this.credits.parkedTotal } }
  clientList (): ClientContext[] { return [...this.conns] }

  instantaneous (metric: 'ops' | 'netInput' | 'netOutput'): number { return this.metrics[metric].value }

  // --- ObservedServer (src/http/observability.ts) ---------------------------------------------
  get maxmemory (): number { return this.settings.maxmemory }
  isReady (): boolean { return this.isListening && !this.isStopping && this.links.every(l => !l.isDead) }
  shardStats (): ReadonlyArray<{ stats: Float64Array, isAlive: boolean }> { return this.links.map(l => ({ stats: l.stats, isAlive: !l.isDead })) }
  * commandCalls (): Iterable<[string, number]> { for (const c of commands) yield [c.name, this.router.calls[c.id]] }
  primaryErrors (): number { return this.router.localErrors }
  onLatency (fn: (seconds: number) => void): void { for (const l of this.links) l.onLatency = fn }

  // Redis's resetServerStats, for the counters the primary owns.
  resetStats (): void {
    const st = this.stats
    st.connectionsReceived = 0
    st.rejectedConnections = 0
    st.netInputBytes = 0
    st.netOutputBytes = 0
    this.router.commandsProcessed = 0
    this.router.replyWaits = 0
    this.router.replyWaitTimeouts = 0
    this.metrics.ops.reset(0)
    this.metrics.netInput.reset(0)
    this.metrics.netOutput.reset(0)
  }

  private onCron (): void {
    const now = Date.now()
    coarseClock.nowMs = now
    this.metrics.ops.track(now, this.router.commandsProcessed)
    this.metrics.netInput.track(now, this.stats.netInputBytes)
    this.metrics.netOutput.track(now, this.stats.netOutputBytes)
    if (++this.cronTicks % 10 === 0 && this.settings.timeoutSec > 0) this.closeIdleClients(now)
  }

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
    const online: Promise<void>[] = []
    for (let i = 0; i < this.shards; i++) {
      const bell = ShardWorker.newBell()
      const stats = ShardWorker.newStats()
      const ends = connectShard(i, bell, stats)
      const link = new ShardLink(ends.link, this.credits)
      const sw = new ShardWorker(i, this.shards, WORKER_FILE, this.log.level, this.credits.sab, [ends.worker], bell, stats)
      this.links.push(link)
      this.workers.push(sw)
      online.push(new Promise((resolve, reject) => {
        sw.worker.once('online', () => resolve())
        sw.worker.once('error', reject)
      }))
      sw.worker.on('error', err => this.log.error({ err, shard: i }, 'shard worker failed'))
      sw.worker.on('exit', code => {
        sw.isDead = true
        if (this.isStopping) return
        this.log.error({ shard: i, code }, 'shard worker exited; its keys are unavailable')
        link.failPending(SHARD_DOWN)
      })
    }
    this.router = new Router(this.links, this.credits, this.replyWaitUs / 1000)
    this.router.onClientError = (c, err) => this.onClientError(c, err)
    this.router.maxmemory = this.settings.maxmemory
    await Promise.all(online)
    await new Promise<void>((resolve, reject) => {
      this.net.once('error', reject)
      this.net.listen(this.port, this.bind, () => {
        this.net.off('error', reject)
        resolve()
      })
    })
    const addr = this.net.address()
    if (addr !== null && typeof addr === 'object') this.port = addr.port
    this.net.on('error', err => this.log.error({ err }, 'listener error'))
    this.isListening = true
    this.cron = setInterval(() => this.onCron(), CRON_MS)
    this.cron.unref()
  }

  private accept (socket: Socket): void {
    if (this.isStopping) { socket.destroy(); return }
    // acceptCommonHandler: over maxclients, a best-effort error, then close; not counted as received.
    if (this.conns.size >= this.settings.maxclients) {
      socket.on('error', () => {})
      socket.end(MAX_CLIENTS_REACHED)
      socket.resume() // accepted paused: read (and drop) to the client's close, as before
      this.stats.rejectedConnections++
      return
    }
    if (this.settings.tcpKeepaliveSec > 0) socket.setKeepAlive(true, this.settings.tcpKeepaliveSec * 1000)
    const conn = new Connection(this.nextClientId++, socket, this, {
      dispatch: (c, argv) => this.router.dispatch(c, argv),
      markDirty: c => this.router.markDirty(c),
      onClose: c => {
        this.conns.delete(c)
        this.router.onClose(c)
        this.log.debug({ id: c.id, addr: c.addr }, 'connection closed')
      },
      onClientError: (c, err) => this.onClientError(c, err),
    }, this.credits)
    this.conns.add(conn)
    this.stats.connectionsReceived++
    this.log.debug({ id: conn.id, addr: conn.addr }, 'connection opened')
  }

  /** Serving one client threw (a bug): log it and close that client; everyone else goes on. */
  private onClientError (conn: Connection, err: unknown): void {
    this.log.error({ err, id: conn.id, addr: conn.addr, cmd: conn.lastCmd?.name }, 'internal error serving a client; closing it')
    conn.fail(err)
  }

  /**
   * Graceful stop: no new connections or commands, let replies in flight go out (up to
   * graceMs), close the clients, stop the workers.
   */
  async stop (graceMs = 5000): Promise<void> {
    this.isStopping = true
    if (this.cron !== null) { clearInterval(this.cron); this.cron = null }
    const closed = new Promise<void>(resolve => this.net.close(() => resolve()))
    for (const c of this.conns) c.closeAfterReply()
    const deadline = Date.now() + graceMs
    while (!this.router.isIdle && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 2))
    for (const c of this.conns) c.flush()
    for (const c of this.conns) c.socket.end()
    await Promise.all(this.workers.map(w => w.stop()))
    for (const l of this.links) l.close()
    for (const c of this.conns) c.socket.destroy()
    await closed
  }
}
