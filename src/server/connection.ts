// One client socket: its read buffer and request reader, and the ordered reply queue. Every
// command takes a sequence number when dispatched; a reply for the head of the queue is
// appended to the output buffer at once, a reply that overtakes earlier ones waits in `stash`.
// The output buffer is written once per turn (flush), and reading stops while the client has
// too much unsent output or too many commands in flight. CLIENT REPLY OFF/SKIP take a slower
// dispatch path that drops the silenced replies by sequence number; the normal path only tests
// one flag word.

import { Buffer } from 'node:buffer'
import type { Socket } from 'node:net'
import type { Argv, ClientContext, ServerContext, ServerSettings, ServerStats } from '../commands/spec.js'
import type { ReplyTarget } from './shard-link.js'
import { RespReader, NEED_MORE, PROTOCOL_ERROR } from '../protocol/resp-reader.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { copyBytes } from '../bytes.js'
import { errorReply } from '../protocol/errors.js'
import type { Credits } from './credits.js'
import { newWriteReq, openSocket, rawWrite, type SocketIo, type WriteOwner, type WriteReq } from './socket-io.js'
import type { Queued } from './multi.js'
import type { AclUser } from './acl.js'
import { trackingFlags, type ClientTracking } from './tracking.js'
import { isLoopback } from './addr.js'
import { passGate } from '../persistence/aof.js'

/** Resolved once: its then() queues a microtask without Node's per-call AsyncResource. */
const RESOLVED = Promise.resolve()
const READ_BUF_BYTES = 16 * 1024

// Read and reply buffers of closed connections, kept for the next ones. A Buffer this big is
// memory outside V8's heap, and V8 answers a stream of new ones with full collections: a burst of
// short connections spent more on that than on anything else (bench/accept.ts: about 60 µs of
// CPU per connection before). At most SPARE_MAX are kept (4 MiB), enough for a burst of 128.
const SPARE_MAX = 256
const spareBufs: Buffer[] = []
/** A read or reply buffer of n bytes: a kept one if n is the usual size. */
function newBuf (n: number): Buffer {
  if (n === READ_BUF_BYTES && spareBufs.length > 0) return spareBufs.pop() as Buffer
  return Buffer.allocUnsafe(n)
}
/** Keeps a buffer that nothing else references (a whole one of the usual size) for a later connection. */
function spareBuf (b: Buffer): void {
  if (b.length === READ_BUF_BYTES && b.byteOffset === 0 && b.buffer.byteLength === READ_BUF_BYTES && spareBufs.length < SPARE_MAX) spareBufs.push(b)
}
/** A closed connection's read buffer: never read again, but a size to double from. */
const CLOSED_RBUF = Buffer.alloc(16)
/** Local replies up to this size wait for a shard reply due on the same connection (flush). */
const DEFER_BYTES = 64 * 1024
/** An empty read buffer larger than this goes back to READ_BUF_BYTES (one big SET must not pin it). */
const READ_BUF_KEEP = 64 * 1024
/** Output buffered this turn above which it goes to the socket at once (a Buffer cannot pass 4 GiB). */
const OUT_WRITE_AT = 16 * 1024 * 1024
/** Redis's client-query-buffer-limit default (CONFIG SET changes ServerSettings.queryBufferLimit). */
export const QUERY_BUFFER_LIMIT = 1024 * 1024 * 1024
/** Unsent output above which we stop reading from the client. */
const OUTPUT_HIGH_WATER = 32 * 1024 * 1024
/** Commands in flight above which we stop parsing (they keep flowing as replies return). */
const MAX_IN_FLIGHT = 64 * 1024
/**
 * Reply bytes we let a connection have in flight, estimated from its average reply size: a
 * client pipelining GETs of 1 MB values gets ~16 in flight, one pipelining small GETs 16k.
 * This bounds what a client that stops reading can make us hold, and how long its queue can
 * delay other clients on the same shard.
 */
const IN_FLIGHT_BYTES = 16 * 1024 * 1024

/** CLIENT REPLY state bits (Redis's CLIENT_REPLY_OFF and CLIENT_REPLY_SKIP_NEXT). */
const REPLY_OFF = 1
const REPLY_SKIP_NEXT = 2
const NO_BYTES = Buffer.alloc(0)

/**
 * Coarse clock for idle times, like Redis's server.unixtime: the server's cron refreshes it
 * every 100 ms, so reads and writes stamp their time without a clock call.
 */
export const coarseClock = { nowMs: Date.now() }

/** Redis's formatPeer/anetFormatAddr: "ip:port", IPv6 addresses in brackets. */
export function formatAddr (ip: string | undefined, port: number | undefined): string {
  if (ip === undefined) return '?:0'
  return ip.includes(':') ? `[${ip}]:${port ?? 0}` : `${ip}:${port ?? 0}`
}

export interface Dispatcher {
  /** Returns false when the command could not be staged now (a shard ring is full). */
  dispatch (conn: Connection, argv: Argv): boolean
  markDirty (conn: Connection): void
  onClose (conn: Connection): void
  /** Serving this client threw: log it, then conn.fail(err). */
  onClientError (conn: Connection, err: unknown): void
  /** The client is over credit with nothing left to write: run its head request if it is parked. */
  unstick (conn: Connection): void
  /** RESET: the state the client's thread keeps for it (transactions, subscriptions, MONITOR). */
  reset (conn: Connection): void
  /** Ends a blocking command's wait (CLIENT UNBLOCK mode 0 or 1); true if it was blocked. */
  unblock (conn: Connection, mode: number): boolean
  /** Before a client's bytes are parsed: take the pub/sub messages already waiting. */
  beforeRead (): void
}

/** How long a closing connection keeps reading (and dropping) input after its FIN (close()). */
const LINGER_MS = 250

export class Connection implements ClientContext, ReplyTarget, WriteOwner {
  readonly id: number
  private nameBuf: Buffer | null = null
  /** The last error this thread answered itself (replyLocalBytes): the router counts it in errorstats. */
  lastLocalError: Uint8Array | null = null
  /** CLIENT SETNAME & co., mirrored into the slot's identity that SLOWLOG entries made on a shard read. */
  get name (): Buffer | null { return this.nameBuf }
  set name (v: Buffer | null) { this.nameBuf = v; this.server.cmdStats?.setClientName(this.slot, v) }
  libName = ''
  libVer = ''
  resp: 2 | 3 = 2
  db = 0
  readonly server: ServerContext
  readonly socket: Socket
  private readonly io: SocketIo
  /** The write request raw writes reuse while the kernel takes each write whole. */
  private wreq: WriteReq | null = null
  /** Bytes of raw writes still queued in libuv (the stream path's writableLength). */
  private queuedBytes = 0
  /** The last view written, over outViewOf: reused when the next flush has the same length. */
  private outView: Buffer | null = null
  private outViewOf: Buffer | null = null
  readonly createdAt = Date.now()
  readonly addr: string
  /** The local address, read when first asked for (CLIENT LIST, INFO, KILL LADDR): a getsockname per client otherwise. */
  get laddr (): string {
    if (this.localAddr === null) {
      this.localAddr = this.unixPath !== null ? this.addr : formatAddr(this.socket.localAddress, this.socket.localPort)
    }
    return this.localAddr
  }

  private localAddr: string | null = null
  /** The unixsocket setting for a client of the Unix socket, else null (CLIENT LIST flag U). */
  readonly unixPath: string | null
  readonly isLocal: boolean
  /** The socket's file descriptor, or -1 where the platform hides it. */
  readonly fd: number
  lastCmd: { readonly name: string } | null = null
  noEvict = false
  isAuthenticated = true
  /** The AOF loader's client at start: the LOADING gate lets it through (persistence/aof-load.ts). */
  isLoader = false
  user: AclUser
  /** Last read or write (coarseClock), for CLIENT LIST idle= and the idle timeout. */
  lastInteraction = coarseClock.nowMs
  /** Peak reply-buffer use (CLIENT LIST rbp=); starts at its size as Redis's buf_peak does. */
  private outPeak: number
  /** REPLY_OFF | REPLY_SKIP_NEXT; 0 keeps process() on the plain dispatch path. */
  private replyFlags = 0
  /** The command being dispatched is silenced by an earlier CLIENT REPLY SKIP. */
  private isSkipping = false
  /** Sequence numbers of silenced replies that are still to come from a shard. */
  private drops: Set<number> | null = null
  private readonly stats: ServerStats
  private readonly settings: ServerSettings
  private rbuf: Buffer
  private rpos = 0
  private rend = 0
  private readonly reader = new RespReader()
  readonly argv: Argv = { buf: new Uint8Array(0), argc: 0, start: new Int32Array(0), len: new Int32Array(0) }
  readonly out: ReplyWriter
  headSeq = 0
  nextSeq = 0
  private stash: Map<number, Buffer> | null = null
  private stashBytes = 0
  /** Multi-shard commands with data-sized replies in flight (Router.mayStartBigSplit). */
  bigSplits = 0
  /** Bytes of a request that ran after leaving the query buffer (a gathered CLIENT LIST), for qbuf=. */
  qbufExtra = 0
  /** A CLIENT LIST/KILL is gathering every I/O thread's clients: parse nothing more until it is done. */
  isGathering = false
  /** CLIENT TRACKING state (server/tracking.ts); null while off and never used. */
  trk: ClientTracking | null = null
  /** Subscribed channels, patterns and shard channels (server/pubsub.ts); null before the first. */
  subs: Set<string> | null = null
  psubs: Set<string> | null = null
  ssubs: Set<string> | null = null
  /** Set by WAIT's handler: the router blocks the client this many ms (0 = until unblocked). */
  waitMs = -1
  /** EXEC is running this client's queued commands (WAIT answers at once, as a deny-blocking client). */
  isExecuting = false

  waitReplicas (ms: number): void { this.waitMs = ms }

  /** Set by a handler whose reply comes later (deferReply): the router sends it when ready. */
  deferred: Promise<Uint8Array> | null = null
  deferReply (reply: Promise<Uint8Array>): boolean {
    if (this.isInMulti) return false
    this.deferred = reply
    return true
  }

  pauseClients (ms: number, type: number): void { this.server.pauseClients(ms, type) }

  get isInMulti (): boolean { return this.multi !== null || this.isExecuting }

  /** MONITOR: this client gets every command's line and may not touch the keyspace. */
  isMonitor = false
  /**
   * Once it subscribed: the sequence numbers of its requests the hub shard has yet to answer.
   * The hub ran them after any message it sends now, so the message goes before their replies
   * (a subscriber that PUBLISHes to itself gets the message first, as in Redis).
   */
  hubSeqs: number[] | null = null
  /** Messages to write just before the reply of a sequence number (see deliverMessage). */
  private before: Map<number, Buffer[]> | null = null
  /** Messages to write just after the reply of a sequence number (see deliverAfter). */
  private after: Map<number, Buffer[]> | null = null

  /** A pub/sub message or monitor line: before the replies the hub still owes, after the rest. */
  deliverMessage (bytes: Buffer): void {
    const hs = this.hubSeqs
    if (hs === null || hs.length === 0) { this.replyLocalBytes(bytes); return }
    const s = hs[0]
    if (s === this.headSeq) { this.append(bytes, 0, bytes.length); return }
    this.before = this.hold(this.before, s, bytes)
  }

  /**
   * An invalidation (CLIENT TRACKING) just before the reply of `seq`, a request its shard had
   * yet to answer; -1: after everything sent so far, as a reply produced now.
   */
  deliverBefore (seq: number, bytes: Buffer): void {
    if (seq < 0 || seq < this.headSeq) { this.replyLocalBytes(bytes); return }
    if (seq === this.headSeq) { this.append(bytes, 0, bytes.length); return }
    this.before = this.hold(this.before, seq, bytes)
  }

  /**
   * An invalidation of this client's own write, just after the reply of `seq`, the request its
   * shard ran (Redis 7.0 sends a current client's invalidations after its reply, before anything
   * else); -1 or an answered seq: now.
   */
  deliverAfter (seq: number, bytes: Buffer): void {
    if (seq < this.headSeq) { this.replyLocalBytes(bytes); return }
    this.after = this.hold(this.after, seq, bytes)
  }

  /** Keeps a message in `map` under reply `seq` (before or after it); returns the map. */
  private hold (map: Map<number, Buffer[]> | null, seq: number, bytes: Buffer): Map<number, Buffer[]> {
    map ??= new Map()
    const q = map.get(seq)
    if (q === undefined) map.set(seq, [bytes]); else q.push(bytes)
    this.stashBytes += bytes.length
    return map
  }

  /** Writes the messages `map` holds under reply `seq`; returns the map, null once empty. */
  private release (map: Map<number, Buffer[]>, seq: number): Map<number, Buffer[]> | null {
    const q = map.get(seq)
    if (q !== undefined) {
      map.delete(seq)
      for (const b of q) { this.stashBytes -= b.length; this.append(b, 0, b.length) }
    }
    return map.size === 0 ? null : map
  }

  /** When pending output first passed its class's soft limit (0: it is under). */
  softLimitSince = 0

  /** Subscribed to anything: in RESP2 only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET run. */
  get isSubscribed (): boolean {
    return (this.subs !== null && this.subs.size > 0) || (this.psubs !== null && this.psubs.size > 0) || (this.ssubs !== null && this.ssubs.size > 0)
  }

  /** MULTI: the commands queued for EXEC (server/multi.ts); null outside a transaction. */
  multi: Queued[] | null = null
  /** A command was refused while queueing: EXEC answers EXECABORT. */
  multiFailed = false
  /** Argument bytes queued (CLIENT LIST multi-mem=). */
  multiBytes = 0
  /** The current WATCH session's tag (0: none), its shards and the earliest expiry it saw. */
  watchTag = 0
  watchShards: number[] = []
  watchDeadline = 0
  /**
   * The sequence number of a blocking command (BLPOP...) whose reply has not come: nothing after
   * it is parsed until it has, as Redis runs nothing for a blocked client (-1: none).
   */
  blockingSeq = -1
  /**
   * Scripts sent to a shard's worker and not answered yet (server/scripting.ts ShardRun), all to
   * shard scriptShard: only more scripts for that worker follow them, until one stops there
   * (isScriptStopped: it runs held, after which the rest wait); anything else waits for them.
   */
  scriptsOut = 0
  scriptShard = -1
  isScriptStopped = false
  /** Stopped scripts waiting for their held run to be staged, in order. */
  reruns: unknown[] | null = null
  /** The shard it may be blocked on (one shard's keys), or its wait across shards (server/blocking.ts). */
  blockedShard = -1
  crossBlock: { unblock: (mode: number) => boolean } | null = null
  /** The shard said it blocked (CLIENT LIST flag b, CLIENT UNBLOCK). */
  isBlockedOnKeys = false

  onBlocked (): void { this.isBlockedOnKeys = true }

  unblock (mode: number): boolean { return this.blockingSeq >= 0 && this.dispatcher.unblock(this, mode) }

  private endBlockingWait (): void {
    this.blockingSeq = -1
    this.blockedShard = -1
    this.crossBlock = null
    this.isBlockedOnKeys = false
    // Parse what came meanwhile, once this reply is in place.
    if (!this.isClosed) void RESOLVED.then(this.resumeParse)
  }

  // Microtasks through a resolved promise: Node's queueMicrotask makes an AsyncResource and a
  // bound function per call (perf: 0.5% of the primary in a BLPOP/LPUSH ping-pong, per answer).
  private readonly resumeParse = (): void => {
    try {
      if (!this.isClosed && !this.isPaused && !this.isBlocked) this.process()
    } catch (err) {
      this.dispatcher.onClientError(this, err)
    }
  }

  private readonly resumeHead = (): void => {
    try {
      this.maybeResume()
    } catch (err) {
      this.dispatcher.onClientError(this, err)
    }
  }

  /** Output credit slot (server/credits.ts), shared with the shards. */
  readonly slot: number
  private readonly credits: Credits
  isClosing = false
  /** Serving this client threw: close it without waiting for replies still due. */
  private isFailed = false
  /** close() ran: the FIN is queued behind what libuv holds; the socket is destroyed after it. */
  private isEnding = false
  isClosed = false
  /** The client half-closed: close once what it sent is answered. */
  private isEof = false
  /** Waiting for ring space on some shard, or (isAwaitingHead) for every earlier reply. */
  isBlocked = false
  /**
   * A command waits until every earlier one of this client has answered (EXEC with WATCH: its
   * own earlier writes, on any shard, must have touched the watched keys before the check).
   */
  isAwaitingHead = false
  /** SCANs of this client that may still continue on another shard (Router's ScanChain). */
  openScans = 0
  private isPaused = false
  isDirty = false
  private readonly dispatcher: Dispatcher

  /**
   * `accepted` is a socket the server accepted paused; reading starts here. `bufBytes`: the
   * first size of the read and reply buffers (smaller for a REST request's short-lived client).
   */
  constructor (id: number, accepted: Socket, server: ServerContext, dispatcher: Dispatcher, credits: Credits, bufBytes = READ_BUF_BYTES, unixPath: string | null = null) {
    this.id = id
    this.credits = credits
    this.slot = credits.alloc()
    this.server = server
    this.user = server.acl.defaultUser
    this.dispatcher = dispatcher
    this.stats = server.stats
    this.settings = server.settings
    this.rbuf = newBuf(bufBytes)
    this.out = new ReplyWriter(newBuf(bufBytes))
    // Reading starts here; the first bytes arrive in a later turn, after the listeners below.
    this.io = openSocket(accepted, (n, buf) => this.onRead(buf, n))
    const socket = this.socket = this.io.socket
    if (this.io.handle !== null) this.wreq = newWriteReq(this)
    this.outPeak = this.out.buf.length
    const authWord = server.acl.authWord
    this.reader.authRequired = () => !this.isAuthenticated && Atomics.load(authWord, 0) !== 0
    // A Unix socket's client is "<unixsocket>:0" on both ends, as Redis's connFormatAddr has it.
    this.unixPath = unixPath
    this.addr = unixPath !== null ? `${unixPath}:0` : formatAddr(socket.remoteAddress, socket.remotePort)
    this.isLocal = unixPath !== null || isLoopback(socket.remoteAddress)
    server.cmdStats?.setClientAddr(this.slot, this.addr)
    const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd
    this.fd = typeof fd === 'number' ? fd : -1
    socket.setNoDelay(true)
    socket.on('drain', () => this.guarded(() => this.maybeResume()))
    socket.on('end', () => this.onEnd())
    socket.on('error', () => { /* reported through 'close' */ })
    socket.on('close', () => this.onClosed())
  }

  get inFlight (): number { return this.nextSeq - this.headSeq }

  /** Running average of this connection's reply sizes (bytes), for the in-flight limit. */
  private replyAvg = 16 * 1024 // unknown at first: start cautious (1024 in flight)

  private get inFlightLimit (): number {
    return Math.max(16, Math.min(MAX_IN_FLIGHT, Math.floor(IN_FLIGHT_BYTES / this.replyAvg)))
  }

  closeAfterReply (): void { this.isClosing = true }

  /**
   * Graceful shutdown: run what the client has sent and send every reply, then close once it is
   * all answered (unlike QUIT, which drops what follows it). Reading goes on meanwhile, so a
   * pipeline already in the kernel's buffer is served whole; the server's grace period bounds a
   * client that keeps sending.
   */
  drainAndClose (): void {
    if (this.isClosing || this.isClosed) return
    this.isDraining = true
    this.dispatcher.markDirty(this)
  }

  /** Shutting down: closes as soon as everything read so far is answered. */
  private isDraining = false

  /**
   * EOF from the client. Redis runs every command of a read before it sees the next read's EOF,
   * so a client that writes and half-closes gets all its replies; our replies come back from
   * the shards later, so the close waits for them (flush).
   */
  private onEnd (): void {
    this.isEof = true
    // A blocked client that hangs up is gone, as in Redis: nothing more is sent to it.
    if (this.blockingSeq >= 0) { this.kill(); return }
    // Any incomplete command is dropped now (process), as Redis frees a client at EOF.
    if (!this.isPaused && !this.isBlocked && !this.isClosing) this.process()
    this.dispatcher.markDirty(this)
  }

  private onClosed (): void {
    if (this.isClosed) return
    this.isClosed = true
    this.stash = null
    this.stashBytes = 0
    // The buffers go to the next connection. Neither is in libuv's hands (a write the kernel
    // did not take whole kept its buffer, and the writer took a fresh one), and anything that
    // still appends for this client (a late reply) lands in a buffer of its own.
    spareBuf(this.rbuf)
    this.rbuf = CLOSED_RBUF
    this.rpos = this.rend = 0
    spareBuf(this.out.buf)
    this.out.buf = Buffer.allocUnsafe(64)
    this.out.len = 0
    this.outView = this.outViewOf = null
    this.credits.release(this.slot)
    this.dispatcher.onClose(this)
  }

  /**
   * Serving this client threw (a bug): it gets an error reply where one fits and is closed; no
   * other client is touched. Replies still due to it are dropped.
   */
  fail (err: unknown): void {
    if (this.isClosed || this.isFailed) return
    this.isFailed = true
    this.isClosing = true
    const name = this.lastCmd === null ? 'unknown' : this.lastCmd.name
    try {
      this.out.raw(errorReply(`ERR internal error in '${name}': ${(err as Error)?.message ?? String(err)}`))
      this.dispatcher.markDirty(this)
    } catch {
      this.kill()
    }
  }

  private guarded (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.dispatcher.onClientError(this, err)
    }
  }

  /** RESET (clearClientConnectionState): back to a fresh connection's state, on every layer. */
  reset (): void {
    this.dispatcher.reset(this)
    this.db = 0
    this.resp = 2
    this.name = null
    this.noEvict = false
    this.setReplyMode('on')
  }

  kill (): void {
    this.onClosed()
    this.socket.destroy()
  }

  /** Output accepted but not yet taken by the kernel. */
  get outQueued (): number { return this.io.handle === null ? this.socket.writableLength : this.queuedBytes }

  /** Reply bytes this connection holds: buffered, stashed out of order, or queued in libuv. */
  get outPending (): number { return this.out.len + this.stashBytes + this.outQueued }

  /** Over its output credit: stop reading until its output drains (server/credits.ts). */
  private get isOverCredit (): boolean { return this.credits.isExhausted(this.slot) }

  /** A read callback: an exception while serving it costs this connection only. */
  private onRead (chunk: Buffer, n: number): void {
    try {
      this.dispatcher.beforeRead()
      this.onData(chunk, n)
    } catch (err) {
      this.dispatcher.onClientError(this, err)
    }
  }

  /** n bytes at the start of chunk arrived (chunk may be the shared read buffer: copy them out). */
  private onData (chunk: Buffer, n: number): void {
    this.stats.netInputBytes += n
    this.stats.readsProcessed++
    this.lastInteraction = coarseClock.nowMs
    if (this.isClosing) return
    const unread = this.rend - this.rpos
    if (this.rend + n > this.rbuf.length) {
      const need = Math.max(unread + n, this.reader.wanted)
      if (need > this.rbuf.length) {
        let size = this.rbuf.length
        while (size < need) size *= 2
        const next = Buffer.allocUnsafe(size)
        this.rbuf.copy(next, 0, this.rpos, this.rend)
        this.rbuf = next
      } else {
        this.rbuf.copy(this.rbuf, 0, this.rpos, this.rend)
      }
      this.rpos = 0
      this.rend = unread
    }
    // copyBytes: small reads (most are one command) go byte by byte, with no view to allocate.
    copyBytes(chunk, 0, n, this.rbuf, this.rend)
    this.rend += n
    if (this.rend - this.rpos > this.settings.queryBufferLimit) {
      // Redis closes such a client without a reply ("closing client that reached max query buffer length").
      this.socket.destroy()
      return
    }
    this.process()
  }

  /** Parses and dispatches buffered commands until input runs out or something says stop. */
  process (): void {
    try {
      this.parseAndDispatch()
    } catch (err) {
      this.dispatcher.onClientError(this, err)
    }
  }

  private parseAndDispatch (): void {
    const reader = this.reader
    const argv = this.argv
    while (!this.isClosing && !this.isClosed && !this.isGathering && this.blockingSeq < 0) {
      if (this.inFlight >= this.inFlightLimit || this.outPending > OUTPUT_HIGH_WATER || this.isOverCredit) { this.pause(); break }
      const st = reader.parse(this.rbuf, this.rpos, this.rend)
      if (st === NEED_MORE) {
        // After EOF the rest can never complete: drop it, so the connection closes once answered.
        this.rpos = this.isEof ? this.rend : reader.next
        break
      }
      if (st === PROTOCOL_ERROR) {
        this.rpos = this.rend
        // Under CLIENT REPLY OFF/SKIP Redis drops this error too (prepareClientToWrite refuses).
        if (this.replyFlags === 0) this.replyLocalBytes(reader.errorReply as Buffer)
        this.isClosing = true
        break
      }
      argv.buf = this.rbuf
      argv.argc = reader.argc
      argv.start = reader.argStart
      argv.len = reader.argLen
      if (!(this.replyFlags === 0 ? this.dispatcher.dispatch(this, argv) : this.dispatchQuiet(argv))) {
        // Ring full: leave the command in the buffer and retry when the shard drains.
        this.isBlocked = true
        reader.reset()
        break
      }
      this.rpos = reader.next
    }
    if (this.rpos === this.rend) {
      this.rpos = 0
      this.rend = 0
      if (this.rbuf.length > READ_BUF_KEEP) this.rbuf = newBuf(READ_BUF_BYTES)
    }
    // After EOF, a flush closes the connection once everything is answered; replies still due
    // mark it dirty when they come (marking it now as well would loop flush and process).
    if (this.out.len > 0 || this.isClosing || (this.isEof && this.rpos === this.rend && this.isReplyHead)) this.dispatcher.markDirty(this)
  }

  // --- CLIENT REPLY ----------------------------------------------------------------------------

  setReplyMode (mode: 'on' | 'off' | 'skip'): void {
    // Same flag moves as clientCommand's "reply" branch; a SKIP while OFF changes nothing.
    if (mode === 'on') { this.replyFlags &= ~REPLY_OFF; this.isSkipping = false }
    else if (mode === 'off') this.replyFlags |= REPLY_OFF
    else if ((this.replyFlags & REPLY_OFF) === 0) this.replyFlags |= REPLY_SKIP_NEXT
  }

  /**
   * Dispatch while replies may be silenced. As in Redis's resetClient, a pending SKIP applies to
   * exactly this command, whatever it is; the command runs, and its reply (error included) is
   * dropped unless the command itself was CLIENT REPLY ON.
   */
  private dispatchQuiet (argv: Argv): boolean {
    const isSkip = (this.replyFlags & REPLY_SKIP_NEXT) !== 0
    this.replyFlags &= ~REPLY_SKIP_NEXT
    this.isSkipping = isSkip
    const seq = this.nextSeq
    const mark = this.out.len
    if (!this.dispatcher.dispatch(this, argv)) {
      // Not staged (ring full): it will be dispatched again, with the same SKIP pending.
      if (isSkip) this.replyFlags |= REPLY_SKIP_NEXT
      this.isSkipping = false
      return false
    }
    if (this.isSkipping || (this.replyFlags & REPLY_OFF) !== 0) this.dropReply(seq, mark)
    this.isSkipping = false
    return true
  }

  private dropReply (seq: number, mark: number): void {
    if (this.nextSeq === seq) return
    if (this.headSeq > seq) {
      // Ran here at the head of the queue: its reply is the tail of the output buffer.
      this.out.len = mark
    } else if (this.stash !== null && this.stash.has(seq)) {
      this.stash.set(seq, NO_BYTES)
    } else {
      if (this.drops === null) this.drops = new Set()
      this.drops.add(seq)
    }
  }

  /** True (and forgotten) when seq's reply was silenced. */
  private isDropped (seq: number): boolean {
    const drops = this.drops as Set<number>
    if (!drops.delete(seq)) return false
    if (drops.size === 0) this.drops = null
    return true
  }

  // --- replies --------------------------------------------------------------------------------

  /** Whether a reply produced now can go straight to the output buffer. */
  get isReplyHead (): boolean { return this.headSeq === this.nextSeq }

  /** A reply produced on the primary, in order after everything already dispatched. */
  replyLocalBytes (bytes: Uint8Array): void {
    if (bytes[0] === 45) this.lastLocalError = bytes
    if (this.isReplyHead) {
      this.out.raw(bytes)
      this.headSeq++
      this.nextSeq++
    } else {
      this.stashReply(this.nextSeq++, Buffer.from(bytes))
    }
  }

  /** Takes the next sequence number for a reply that will arrive later. */
  takeSeq (): number { return this.nextSeq++ }

  onReply (seq: number, src: Uint8Array, start: number, len: number): void {
    this.replyAvg += (len - this.replyAvg) / 16
    if (seq === this.blockingSeq) this.endBlockingWait()
    if (this.hubSeqs !== null && this.hubSeqs.length > 0) {
      const i = this.hubSeqs.indexOf(seq)
      if (i >= 0) this.hubSeqs.splice(i, 1)
    }
    if (this.isClosed) { this.advancePastStash(seq); return }
    if (seq === this.headSeq) {
      if (this.before !== null) this.before = this.release(this.before, seq)
      if (this.drops === null || !this.isDropped(seq)) this.append(src, start, len)
      if (this.after !== null) this.after = this.release(this.after, seq)
      this.headSeq++
      if (this.stash !== null) this.takeStashed()
      if (!this.isDirty) this.dispatcher.markDirty(this)
    } else {
      this.stashReply(seq, Buffer.from(src.subarray(start, start + len)))
      // Its shard took credit that the head's shard may have been waiting for.
      this.checkStuck()
    }
    if (this.isAwaitingHead && this.headSeq === this.nextSeq) {
      this.isAwaitingHead = false
      void RESOLVED.then(this.resumeHead)
    }
  }

  /** Appends a reply to the output; a large buffer goes to the socket first, mid-turn. */
  private append (src: Uint8Array, start: number, len: number): void {
    if (this.out.len > 0 && this.out.len + len > OUT_WRITE_AT) this.writeOut()
    this.out.rawRange(src, start, len)
  }

  private stashReply (seq: number, bytes: Buffer): void {
    if (this.stash === null) this.stash = new Map()
    const b = this.drops !== null && this.isDropped(seq) ? NO_BYTES : bytes
    this.stashBytes += b.length
    this.stash.set(seq, b)
  }

  private takeStashed (): void {
    const stash = this.stash as Map<number, Buffer>
    for (let b = stash.get(this.headSeq); b !== undefined; b = stash.get(this.headSeq)) {
      if (this.before !== null) this.before = this.release(this.before, this.headSeq)
      stash.delete(this.headSeq)
      this.stashBytes -= b.length
      this.append(b, 0, b.length)
      if (this.after !== null) this.after = this.release(this.after, this.headSeq)
      this.headSeq++
    }
    if (stash.size === 0) this.stash = null
  }

  private advancePastStash (seq: number): void {
    if (seq === this.headSeq) this.headSeq++
    this.stash = null
    this.stashBytes = 0
  }

  /** Writes the output buffer to the socket (once per turn per connection). */
  flush (): void {
    this.isDirty = false
    if (this.isClosed) return
    // Replies made on this thread (MULTI's +OK and +QUEUED, SELECT...) wait for the shard reply
    // the client sent them with, unless that one may block: the client then gets one write, as
    // Redis writes a read's replies together. The shard reply marks this connection dirty again.
    if (this.inFlight > 0 && this.blockingSeq < 0 && this.out.len < DEFER_BYTES && this.outQueued === 0 &&
      !this.isClosing && !this.isEof && !this.isFailed && !this.isDraining) return
    this.writeOut()
    // Over its output buffer limit, writeOut closed it.
    if (this.isClosed) return
    if (this.isFailed || ((this.isClosing || ((this.isEof || this.isDraining) && this.rpos === this.rend)) && this.isReplyHead)) this.close()
    else this.maybeResume()
  }

  /** Sends the output buffer, and returns the credit of whatever has left this process. */
  private writeOut (): void {
    const out = this.out
    if (out.len > 0) {
      this.stats.netOutputBytes += out.len
      this.stats.writesProcessed++
      this.lastInteraction = coarseClock.nowMs
      if (out.len > this.outPeak) this.outPeak = out.len
      // Fully written already: reuse the buffer. Otherwise the socket keeps it; take a fresh one.
      // Replies of one size repeat (a client's GETs of same-sized values): reuse the view rather
      // than allocate one per write (half the primary's garbage before).
      let view = this.outView
      if (view === null || view.length !== out.len || this.outViewOf !== out.buf) {
        view = this.outView = out.buf.subarray(0, out.len)
        this.outViewOf = out.buf
      }
      if (this.send(view)) {
        out.buf = newBuf(Math.min(out.buf.length, 64 * 1024))
        out.len = 0
      } else {
        out.shrink()
      }
      if (this.outQueued > OUTPUT_HIGH_WATER) this.pause()
    }
    this.credits.settle(this.slot, this.outPending)
    // checkClientOutputBufferLimits, as Redis checks it when replies are added (a subscriber's
    // also as each message reaches it, server/pubsub.ts).
    if (this.isOverOutputLimit()) { this.kill(); return }
    this.checkStuck()
  }

  /**
   * client-output-buffer-limit <class> <hard> <soft> <seconds> (0 = no limit) for this client's
   * class: pubsub while it is subscribed, else normal.
   */
  isOverOutputLimit (): boolean {
    const limits = this.server.settings.outputBufferLimits
    const at = this.isSubscribed ? 6 : 0
    const hard = limits[at]
    const soft = limits[at + 1]
    if (hard === 0 && soft === 0) return false
    const pending = this.outPending
    if (hard > 0 && pending > hard) return true
    if (soft > 0 && pending > soft) {
      const now = Date.now()
      if (this.softLimitSince === 0) this.softLimitSince = now
      else if (now - this.softLimitSince > limits[at + 2] * 1000) return true
    } else {
      this.softLimitSince = 0
    }
    return false
  }

  /**
   * Over credit, with nothing written or queued, replies can only be waiting in the stash behind
   * one that is not here yet: if that one is parked for want of credit, nothing would ever
   * return the credit. The router then has its shard run it.
   */
  checkStuck (): void {
    if (this.stash !== null && this.out.len === 0 && this.outQueued === 0 && this.isOverCredit && !this.isClosed) this.dispatcher.unstick(this)
  }

  /**
   * Closes both ways, as Redis's freeClient does after a protocol error, QUIT or EOF: input
   * still arriving is not read, and the client's next write fails. The FIN goes out behind
   * everything libuv holds (a shutdown waits for queued writes); only then is the socket
   * destroyed, since closing a socket with unread input resets it, and a reset can overtake
   * the last reply.
   */
  private close (): void {
    if (this.isEnding) return
    this.isEnding = true
    this.isClosing = true
    // Keep reading, and dropping (onData), what the client still sends: closing a socket with
    // unread input sends a RST, which can discard our last reply in the client's kernel before
    // the client reads it. The socket goes once the client closes too, or after LINGER_MS.
    if (this.isPaused) { this.isPaused = false; this.socket.resume() }
    this.socket.end(() => {
      const timer = setTimeout(() => this.socket.destroy(), LINGER_MS)
      timer.unref()
      this.socket.once('end', () => { clearTimeout(timer); this.socket.destroy() })
      if (this.isEof) { clearTimeout(timer); this.socket.destroy() }
    })
  }

  /** Writes data; true when the socket still holds it (not all taken by the kernel yet). */
  private send (data: Buffer): boolean {
    passGate()
    const handle = this.io.handle
    if (handle === null) {
      this.socket.write(data, this.afterStreamWrite)
      return this.socket.writableLength > 0
    }
    const req = this.wreq as WriteReq
    const st = rawWrite(handle, req, data)
    if (st === 0) return false
    if (st < 0) { this.socket.destroy(); return false }
    this.queuedBytes += req.bytes
    this.wreq = newWriteReq(this)
    return true
  }

  /** Stream path: a write reached the kernel, so its credit can come back (made once, not per write). */
  private readonly afterStreamWrite = (err?: Error | null): void => {
    if (this.isClosed || err != null) return
    this.guarded(() => {
      this.credits.settle(this.slot, this.outPending)
      this.checkStuck()
      this.maybeResume()
    })
  }

  /** A raw write the kernel could not take at once is done (status < 0: it failed). */
  afterWrite (req: WriteReq, status: number): void {
    this.queuedBytes -= req.bytes
    req.buffer = null
    if (this.isClosed) return
    if (status < 0) { this.socket.destroy(); return }
    this.guarded(() => {
      this.credits.settle(this.slot, this.outPending)
      this.checkStuck()
      if (this.queuedBytes === 0 || !this.isOverCredit) this.maybeResume()
    })
  }

  // --- CLIENT LIST ---------------------------------------------------------------------------

  /** clientsCronTrackExpansiveClients' figures: the query buffer, and the replies past the reply buffer (CLIENT LIST omem). */
  get inputBufferBytes (): number { return this.rbuf.length }
  get outputBufferBytes (): number { return this.outQueued + this.stashBytes }

  /** Query and output buffers (CLIENT LIST tot-mem less argv-mem): INFO's mem_clients_normal. */
  bufferBytes (): number { return this.rbuf.length + this.out.buf.length + this.outQueued + this.stashBytes }

  infoLine (isCaller: boolean): string {
    const now = Date.now()
    // Redis's order: O (a monitor, a replica kind there), P, x, b, t..., d, c, U, e; N when none.
    let flags = this.isMonitor ? 'O' : ''
    if (this.isSubscribed) flags += 'P'
    if (this.multi !== null) flags += 'x'
    if (this.isBlockedOnKeys || this.crossBlock !== null) flags += 'b'
    if (this.trk !== null) flags += trackingFlags(this.trk)
    if (this.watchTag !== 0 && Atomics.load(this.credits.watch, this.slot) === this.watchTag) flags += 'd'
    if (this.isClosing) flags += 'c'
    if (this.unixPath !== null) flags += 'U'
    if (this.noEvict) flags += 'e'
    if (flags === '') flags = 'N'
    // Only the caller is inside a command here; everyone else's argv is already released.
    let argvMem = 0
    if (isCaller) for (let i = 0; i < this.argv.argc; i++) argvMem += this.argv.len[i]
    let stashBytes = 0
    if (this.stash !== null) for (const b of this.stash.values()) stashBytes += b.length
    const omem = this.outQueued + stashBytes
    const totMem = this.rbuf.length + this.out.buf.length + omem + argvMem
    const events = (this.isPaused ? '' : 'r') + (this.outQueued > 0 ? 'w' : '')
    const name = this.name === null ? '' : this.name.toString('latin1')
    return `id=${this.id} addr=${this.addr} laddr=${this.laddr} fd=${this.fd} name=${name} ` +
      `age=${Math.floor((now - this.createdAt) / 1000)} idle=${Math.max(0, Math.floor((now - this.lastInteraction) / 1000))} ` +
      `flags=${flags} db=${this.db} sub=${this.subs?.size ?? 0} psub=${this.psubs?.size ?? 0} ssub=${this.ssubs?.size ?? 0} multi=${this.multi === null ? -1 : this.multi.length} ` +
      `qbuf=${this.rend - this.rpos + (isCaller ? this.qbufExtra : 0)} qbuf-free=${this.rbuf.length - this.rend} argv-mem=${argvMem} multi-mem=${this.multiBytes} ` +
      `rbs=${this.out.buf.length} rbp=${this.outPeak} obl=${this.out.len} oll=${this.stash === null ? 0 : this.stash.size} ` +
      `omem=${omem} tot-mem=${totMem} events=${events} cmd=${this.lastCmd === null ? 'NULL' : this.lastCmd.name} ` +
      `user=${this.user.name} redir=${this.trk === null ? -1 : this.trk.redir} resp=${this.resp}`
  }

  private pause (): void {
    if (!this.isPaused) { this.isPaused = true; this.socket.pause() }
  }

  /** Called when output drains, replies return, or ring space frees up. */
  maybeResume (): void {
    if (this.isClosed || this.isClosing) return
    if (this.isBlocked) { this.isBlocked = false; this.process(); return }
    if (!this.isPaused) return
    if (this.outQueued > OUTPUT_HIGH_WATER || this.inFlight >= this.inFlightLimit / 2 || this.isOverCredit) return
    this.isPaused = false
    this.socket.resume()
    this.process()
  }
}
