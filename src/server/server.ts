// The server: shard workers, the TCP listener, connections and graceful shutdown. It is the
// ServerContext that primary-thread commands (INFO, CONFIG GET, HELLO) read from.

import { createServer, type Server as NetServer, type Socket } from 'node:net'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { ServerContext, ClientContext } from '../commands/spec.js'
import { Connection } from './connection.js'
import { ShardLink } from './shard-link.js'
import { Router } from './router.js'
import { SHARD_DOWN } from '../protocol/errors.js'

export const REDIS_COMPAT_VERSION = '7.0.15'
const WORKER_FILE = new URL('../../workers/shard-worker.js', import.meta.url)

export class FlashServer implements ServerContext {
  readonly shards: number
  port: number
  readonly bind: string
  readonly version = REDIS_COMPAT_VERSION
  readonly startedAt = Date.now()
  readonly configFile: string
  private readonly log: Logger
  private readonly links: ShardLink[] = []
  private router!: Router
  private readonly net: NetServer
  private readonly conns = new Set<Connection>()
  private nextClientId = 1
  private connectionsReceived = 0
  private isStopping = false

  constructor (config: Config, log: Logger) {
    this.shards = config.shards
    this.port = config.port
    this.bind = config.bind
    this.configFile = config.configFile
    this.log = log
    this.net = createServer({ noDelay: true }, socket => this.accept(socket))
  }

  connectedClients (): number { return this.conns.size }
  totalConnections (): number { return this.connectionsReceived }
  totalCommands (): number { return this.router.commandsProcessed }
  rejectedConnections (): number { return 0 }
  clientList (): ClientContext[] { return [...this.conns] }

  async start (): Promise<void> {
    const online: Promise<void>[] = []
    for (let i = 0; i < this.shards; i++) {
      const link = new ShardLink(i, this.shards, WORKER_FILE, this.log.level)
      this.links.push(link)
      online.push(new Promise((resolve, reject) => {
        link.worker.once('online', () => resolve())
        link.worker.once('error', reject)
      }))
      link.worker.on('error', err => this.log.error({ err, shard: i }, 'shard worker failed'))
      link.worker.on('exit', code => {
        if (this.isStopping) return
        this.log.error({ shard: i, code }, 'shard worker exited; its keys are unavailable')
        link.failPending(SHARD_DOWN)
      })
    }
    this.router = new Router(this.links)
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
  }

  private accept (socket: Socket): void {
    if (this.isStopping) { socket.destroy(); return }
    const conn = new Connection(this.nextClientId++, socket, this, {
      dispatch: (c, argv) => this.router.dispatch(c, argv),
      markDirty: c => this.router.markDirty(c),
      onClose: c => {
        this.conns.delete(c)
        this.router.onClose(c)
        this.log.debug({ id: c.id, addr: c.addr }, 'connection closed')
      },
    })
    this.conns.add(conn)
    this.connectionsReceived++
    this.log.debug({ id: conn.id, addr: conn.addr }, 'connection opened')
  }

  /**
   * Graceful stop: no new connections or commands, let replies in flight go out (up to
   * graceMs), close the clients, stop the workers.
   */
  async stop (graceMs = 5000): Promise<void> {
    this.isStopping = true
    const closed = new Promise<void>(resolve => this.net.close(() => resolve()))
    for (const c of this.conns) c.closeAfterReply()
    const deadline = Date.now() + graceMs
    while (!this.router.isIdle && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 2))
    for (const c of this.conns) c.flush()
    for (const c of this.conns) c.socket.end()
    await Promise.all(this.links.map(l => l.stop()))
    for (const c of this.conns) c.socket.destroy()
    await closed
  }
}
