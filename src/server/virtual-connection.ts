// An in-process client for the HTTP REST API (src/http/rest.ts). A VirtualSocket is a Duplex that
// stands in for a TCP socket: the server opens an ordinary Connection over it (the stream path
// of socket-io.ts, since it has no libuv handle), the request's commands go in as RESP bytes and
// the replies come out as RESP bytes. So a REST command takes exactly the path of a RESP one:
// router, command table, NOAUTH/OOM/pause gates, MULTI, limits. There is no second command path.
// The replies are collected until `count` complete ones have come (or the Connection closed,
// after QUIT), then the virtual socket is destroyed, which closes the client as a hang-up does.

import { Buffer } from 'node:buffer'
import { Duplex } from 'node:stream'
import { timingSafeEqual } from 'node:crypto'

/**
 * First size of a virtual client's read and reply buffers (both grow as needed): one Connection
 * per request, and 16 KiB ones made each request cost more in GC than in everything else.
 */
export const VIRTUAL_BUF_BYTES = 1024

/** One REST request for a thread's router (posted to an I/O thread as is, so plain data). */
export interface RestRequest {
  id: number
  /** The HTTP client's address, for CLIENT LIST. */
  addr: string
  port: number
  /** The HTTP server's own address, for CLIENT LIST laddr. */
  localAddr: string
  localPort: number
  /** The commands, RESP-encoded, and how many there are (as many replies are awaited). */
  cmds: Uint8Array
  count: number
  /** The AOF loader at start (persistence/aof-load.ts): runs while the server is loading. */
  isLoader?: boolean
}

/** The replies (RESP bytes of `count` complete replies; fewer if the client was closed), or a refusal. */
export type RestResult =
  | { kind: 'replies', bytes: Uint8Array, count: number }
  | { kind: 'refused', status: number, error: string }

/** What the thread that runs REST requests offers (FlashServer; IoThreads relays to one). */
export interface RestBackend {
  /** Whether the HTTP client may run commands: null, or the refusal (token, protected mode). */
  restGate (addr: string, token: string | null): RestResult | null
  runRest (req: RestRequest): Promise<RestResult>
  /** The HTTP client went away: close its virtual client (a blocked BLPOP is cancelled). */
  abortRest (id: number): void
}

/** Opens a Connection over the socket, or says why not (maxclients, stopping). */
export type OpenVirtual = (socket: VirtualSocket) => RestResult | null

/** The token is the requirepass password (Upstash's token), compared in constant time. */
export function tokenMatches (token: string | null, password: Buffer): boolean {
  if (token === null) return false
  const t = Buffer.from(token, 'utf8')
  return t.length === password.length && timingSafeEqual(t, password)
}

export class VirtualSocket extends Duplex {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  private acc: Buffer = Buffer.allocUnsafe(256)
  private len = 0
  /** End of the complete replies scanned so far, and how many. */
  private pos = 0
  private got = 0
  private isDone = false

  constructor (private readonly req: RestRequest, private readonly done: (r: RestResult) => void) {
    super({ allowHalfOpen: true })
    this.remoteAddress = req.addr
    this.remotePort = req.port
    this.localAddress = req.localAddr
    this.localPort = req.localPort
    this.once('close', () => this.finish())
  }

  // The parts of net.Socket a Connection calls.
  setNoDelay (): this { return this }
  setKeepAlive (): this { return this }

  override _read (): void {}

  override _write (chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    // The Connection reuses its output buffer once a write returns: copy the bytes out.
    const isComplete = !this.isDone && this.append(chunk)
    cb()
    if (isComplete) this.finish()
  }

  /** The Connection closed its end (QUIT, a protocol error): what came is all there is. */
  override _final (cb: (err?: Error | null) => void): void {
    cb()
    this.finish()
  }

  /** True once `count` replies are complete. */
  private append (chunk: Buffer): boolean {
    if (this.len + chunk.length > this.acc.length) {
      let size = this.acc.length * 2
      while (size < this.len + chunk.length) size *= 2
      const next = Buffer.allocUnsafe(size)
      this.acc.copy(next, 0, 0, this.len)
      this.acc = next
    }
    chunk.copy(this.acc, this.len)
    this.len += chunk.length
    while (this.got < this.req.count) {
      const e = respEndWithin(this.acc, this.pos, this.len)
      if (e < 0) return false
      this.pos = e
      this.got++
    }
    return true
  }

  private finish (): void {
    if (this.isDone) return
    this.isDone = true
    this.done({ kind: 'replies', bytes: this.acc.subarray(0, this.pos), count: this.got })
    // The client is done: closing the socket ends the Connection as a hang-up would. After
    // the write's own callbacks (next tick): a stream destroyed before them builds an error.
    if (!this.destroyed) setImmediate(() => this.destroy())
  }
}

/**
 * Offset just past the RESP value at p if it is complete before end, else -1 (resp-scan.ts's
 * respEnd, for bytes that arrive in pieces).
 */
export function respEndWithin (b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1
  const type = b[p]
  let nl = p + 1
  while (nl < end && b[nl] !== 10) nl++
  if (nl >= end) return -1
  const next = nl + 1
  switch (type) {
    case 36: case 33: case 61: { // '$' '!' '=': length-prefixed
      if (b[p + 1] === 45) return next
      const e = next + lengthAt(b, p + 1) + 2
      return e <= end ? e : -1
    }
    case 42: case 126: case 62: case 37: case 124: { // '*' '~' '>' '%' '|'
      if (b[p + 1] === 45) return next
      const n = lengthAt(b, p + 1) * (type === 37 || type === 124 ? 2 : 1)
      let q = next
      for (let i = 0; i < n && q >= 0; i++) q = respEndWithin(b, q, end)
      return type === 124 && q >= 0 ? respEndWithin(b, q, end) : q
    }
    default: return next
  }
}

function lengthAt (b: Uint8Array, p: number): number {
  let n = 0
  while (b[p] !== 13) n = n * 10 + (b[p++] - 48)
  return n
}

/** The REST requests a thread is running, by id, so an HTTP client that leaves can cancel its own. */
export class VirtualClients {
  private readonly open = new Map<number, VirtualSocket>()

  run (req: RestRequest, openConn: OpenVirtual): Promise<RestResult> {
    return new Promise(resolve => {
      const socket = new VirtualSocket(req, r => { this.open.delete(req.id); resolve(r) })
      const refused = openConn(socket)
      if (refused !== null) { resolve(refused); return }
      this.open.set(req.id, socket)
      socket.push(Buffer.from(req.cmds.buffer, req.cmds.byteOffset, req.cmds.byteLength))
    })
  }

  abort (id: number): void { this.open.get(id)?.destroy() }
}
