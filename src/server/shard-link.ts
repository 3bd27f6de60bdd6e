// The primary's handle on one shard worker: it stages request records into the request ring,
// publishes them once per event-loop turn, and drains replies when the worker's wake-up message
// arrives. Replies from one shard come back in the order requests went in, so a FIFO of
// (target, tag) pairs says whose reply each record is: no sequence numbers travel.

import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'
import { Worker, MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { noteGate } from '../persistence/aof.js'
import { RingWriter, RingReader, createRing, CTRL_INTS, HEAD, SEQ, STOP, TAIL, SLEEPING, type RingBuffers } from '../ipc/ring.js'
import {
  REQ_OOB, REQ_RESP3, REQ_FORCE, REQ_AFTER, RESP_OOB, RESP_PARKED, RESP_LATE, RESP_BLOCKED, RESP_PUSH, REQ_HEADER_BYTES, RESP_HEADER_BYTES, RING_BYTES, STAT_SLOTS, SPIN_MAX_RECORDS,
  type ShardWorkerData, type ProducerEndpoint, type ShardResume, type ShardAsk,
} from '../ipc/layout.js'
import type { KeyspaceLayout } from '../storage/keyspace.js'
import { SpinGate } from '../spin-gate.js'
import type { Argv } from '../commands/spec.js'
import { sharedFlags, type Credits } from './credits.js'
import { maxmemoryOf } from '../storage/eviction.js'
import { collectSoon } from '../storage/release.js'
import type { Lend, Returned } from './engine.js'
import { copyBytes } from '../bytes.js'
import { saveSab } from '../persistence/save-state.js'
import type { TakenEffects } from '../persistence/aof.js'
import { EPOCH_BUSY, epochIndex, snapshot } from './sequencer.js'

/** Whoever waits for a shard reply: a connection slot or one part of a split command. */
export interface ReplyTarget {
  onReply (tag: number, src: Uint8Array, start: number, len: number): void
  /** A part of a multi-shard command (SplitReply): the client that awaits the whole, and its sequence number. */
  readonly partOf?: ReplyTarget | null
  readonly partSeq?: number
  /** The request blocked on its keys (BLPOP...): its reply comes when served or timed out. */
  onBlocked?: () => void
}

/** A request record's header at byte p (ipc/layout.ts): command, flags, db, argc, client slot, ticket. */
function writeHeader (u32: Uint32Array, p: number, cmdId: number, flags: number, db: number, argc: number, slot: number, ticket: number): void {
  const w = p >>> 2
  u32[w] = cmdId | (flags << 16) | (db << 24)
  u32[w + 1] = argc
  u32[w + 2] = slot
  u32[w + 3] = ticket
}

/** A producer's end of one shard: what a ShardLink is made of (transferable to an I/O thread). */
export interface LinkEndpoint {
  index: number
  req: RingBuffers
  resp: RingBuffers
  port: MessagePort
  stepPort: MessagePort
  mailbox: SharedArrayBuffer
  wake: MessagePort
  /** Int32 word shared by all of one producer's links: set while a wake-up message is in flight. */
  wakeWord: SharedArrayBuffer
  /** The shard's doorbell, shared by all its producers. */
  bell: SharedArrayBuffer
  /** The shard's counters (STAT_* in ipc/layout.ts). */
  stats: SharedArrayBuffer
}

/** One producer's wake word (LinkEndpoint.wakeWord): give the same one to all of its shards. */
/** A shard worker's young generation (three semi-spaces of 1 MB: V8's own minimum is about this). */
const SHARD_YOUNG_GEN_MB = 3

export function newWakeWord (): SharedArrayBuffer { return new SharedArrayBuffer(4) }

/**
 * Creates the rings and ports between one producer and one shard: one end for each side. All
 * links of one producer share `wakeWord`, so however many shards answer in one batch, the
 * producer gets one wake-up message and drains them all (Router.drainAll).
 */
export function connectShard (index: number, bell: SharedArrayBuffer, stats: SharedArrayBuffer,
  wakeWord: SharedArrayBuffer = newWakeWord()): { link: LinkEndpoint, worker: ProducerEndpoint } {
  const req = createRing(RING_BYTES)
  const resp = createRing(RING_BYTES)
  const oob = new MessageChannel()
  const steps = new MessageChannel()
  const wake = new MessageChannel()
  const mailbox = new SharedArrayBuffer(8)
  return {
    link: { index, req, resp, port: oob.port1, stepPort: steps.port1, mailbox, wake: wake.port1, wakeWord, bell, stats },
    worker: { req, resp, port: oob.port2, stepPort: steps.port2, mailbox, wake: wake.port2, wakeWord },
  }
}

/**
 * The rings that carry every shard's keyspace events to shard 0, the pub/sub hub: for shard i,
 * hub[i] is an extra producer of shard 0 and writers[i] the writing end that shard i keeps.
 */
export function hubEventRings (shards: number, bell0: SharedArrayBuffer, stats0: SharedArrayBuffer): {
  hub: ProducerEndpoint[]
  writers: Array<NonNullable<ShardWorkerData['events']>>
} {
  const hub: ProducerEndpoint[] = []
  const writers: Array<NonNullable<ShardWorkerData['events']>> = []
  for (let i = 0; i < shards; i++) {
    const ends = connectShard(0, bell0, stats0)
    hub.push(ends.worker)
    writers.push({ req: ends.link.req, bell: bell0 })
    // Nothing comes back on these rings: the link end's ports are never used.
    ends.link.port.close()
    ends.link.stepPort.close()
    ends.link.wake.close()
  }
  return { hub, writers }
}

/** The three ports of one end of a producer's link to a shard. */
export interface LinkPorts { port: MessagePort, stepPort: MessagePort, wake: MessagePort }

/**
 * New ports for a link whose worker died (its ends of the old ones died with it): `link` for the
 * producer's ShardLink.revive, `worker` for the replacement's ProducerEndpoint.
 */
export function newLinkPorts (): { link: LinkPorts, worker: LinkPorts } {
  const oob = new MessageChannel()
  const steps = new MessageChannel()
  const wake = new MessageChannel()
  return { link: { port: oob.port1, stepPort: steps.port1, wake: wake.port1 }, worker: { port: oob.port2, stepPort: steps.port2, wake: wake.port2 } }
}

/** The ports inside producer endpoints, for a transferList. */
export function endpointPorts (eps: ReadonlyArray<ProducerEndpoint | LinkEndpoint>): ArrayBuffer[] {
  const ports: unknown[] = []
  for (const ep of eps) ports.push(ep.port, ep.stepPort, ep.wake)
  return ports as ArrayBuffer[]
}

/** A shard worker thread and its doorbell (owned by the main thread). */
export class ShardWorker {
  /** The current thread: a new one after a replacement (respawn). */
  worker: Worker
  /** Set when the thread exits (the server then fails its links' pending requests). */
  isDead = false
  /** Workers this shard has had before the current one. */
  generation = 0
  /** The databases' buffers as the worker last posted them (shard-worker.ts publishLayout). */
  private layout: Array<KeyspaceLayout | null> = []
  /** The hub's function library codes as last posted (shard 0 only). */
  private libs: Uint8Array[] | null = null
  /** The worker finished loading the RDB file at start (or had none): a replacement does not load. */
  private isLoaded = false
  private readonly data: ShardWorkerData
  /** Made before the worker, since its producers' endpoints name them (connectShard). */
  static newBell (): SharedArrayBuffer { return new SharedArrayBuffer(CTRL_INTS * 4) }
  static newStats (): SharedArrayBuffer { return new SharedArrayBuffer(STAT_SLOTS * 8) }

  constructor (readonly index: number, shards: number, private readonly workerFile: URL, logLevel: string, credit: SharedArrayBuffer,
    producers: ProducerEndpoint[], readonly bell: SharedArrayBuffer, readonly stats: SharedArrayBuffer,
    events?: ShardWorkerData['events'], sequencer?: SharedArrayBuffer, rdbFile?: string, cmdStats?: ShardWorkerData['cmdStats'],
    scripting?: ShardWorkerData['scripting'], spinUs = 0) {
    const wd: ShardWorkerData = { index, shards, producers, bell, stats, credit, logLevel, spinUs, events, sequencer, rdbFile, cmdStats, save: saveSab(), scripting }
    this.data = wd
    // With maxmemory set at start, a small young generation: a shard's garbage is per-command
    // scraps, and V8 would otherwise grow it to 48 MB under load and keep it, RSS that maxmemory
    // cannot see. It costs a few % of throughput in scavenges, so not without maxmemory.
    this.resourceLimits = maxmemoryOf(sharedFlags(credit)) > 0 ? { maxYoungGenerationSizeMb: SHARD_YOUNG_GEN_MB } : {}
    this.worker = this.spawn(wd)
  }

  private readonly resourceLimits: { maxYoungGenerationSizeMb?: number }
  /** A script inside the worker logged (redis.log, a slow script): the server's logger. */
  onLog: (level: 'debug' | 'info' | 'warn', msg: string) => void = () => {}

  /** Resolves when the current thread has exited (stop() may come after it did). */
  private exited: Promise<void> = Promise.resolve()
  private startedAt = 0
  /** Workers in a row that died within a second of their start. */
  private quickDeaths = 0

  private spawn (wd: ShardWorkerData): Worker {
    const w = new Worker(this.workerFile, { workerData: wd, transferList: endpointPorts(wd.producers), name: `shard-${this.index}`, resourceLimits: this.resourceLimits })
    this.exited = new Promise(resolve => w.once('exit', () => resolve()))
    this.startedAt = Date.now()
    w.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null || w !== this.worker) return
      const op = (m as { op?: string }).op
      if (op === 'shard-layout') {
        this.layout = (m as { dbs: Array<KeyspaceLayout | null> }).dbs
        if ((m as { dropped?: boolean }).dropped === true) collectSoon()
      } else if (op === 'shard-libs') this.libs = (m as { libs: Uint8Array[] }).libs
      else if (op === 'shard-load-done') this.isLoaded = true
      else if (op === 'log') this.onLog((m as { level: 'debug' | 'info' | 'warn' }).level, (m as { msg: string }).msg)
      // An AOF write failed under appendfsync always (persistence/aof.ts): Redis exits.
      else if (op === 'fatal-exit') process.exit((m as { code: number }).code)
    })
    return w
  }

  /**
   * Starts a new thread for this shard over the same shared buffers (rings, doorbell, counters,
   * databases), the dead one's ports replaced by `ports` (one per producer, in order). It takes
   * the databases over from their last posted layout; it loads the RDB file again only if the
   * dead one had not finished loading it.
   */
  /**
   * How long to wait before starting a replacement: at once, unless workers keep dying as soon as
   * they start (a fault that comes back with the data), then longer each time, up to 5 s.
   */
  respawnDelay (): number {
    this.quickDeaths = Date.now() - this.startedAt < 1000 ? this.quickDeaths + 1 : 0
    return this.quickDeaths < 3 ? 0 : Math.min(5000, 25 * 2 ** this.quickDeaths)
  }

  respawn (ports: LinkPorts[]): Worker {
    this.generation++
    // Producers past `ports` are the hub's event rings from the other shards: nothing uses their
    // ports, whose other ends are closed once transferred (a port whose peer closed cannot be).
    const unused: LinkPorts[] = []
    const producers = this.data.producers.map((ep, i) => {
      if (i < ports.length) return { ...ep, ...ports[i] }
      const p = newLinkPorts()
      unused.push(p.link)
      return { ...ep, ...p.worker }
    })
    const resume: ShardResume = { generation: this.generation, dbs: this.layout, libs: this.libs }
    // A STOP or a wake-up flag the dead thread left must not confuse the new one.
    const bell = new Int32Array(this.bell)
    Atomics.store(bell, STOP, 0)
    Atomics.store(bell, SLEEPING, 0)
    this.worker = this.spawn({ ...this.data, producers, resume, rdbFile: this.isLoaded ? undefined : this.data.rdbFile })
    this.data.producers = producers
    for (const p of unused) { p.port.close(); p.stepPort.close(); p.wake.close() }
    return this.worker
  }

  async stop (): Promise<void> {
    const bell = new Int32Array(this.bell)
    Atomics.store(bell, STOP, 1)
    Atomics.add(bell, SEQ, 1)
    Atomics.notify(bell, SEQ)
    const timer = setTimeout(() => { void this.worker.terminate() }, 1000)
    await this.exited
    clearTimeout(timer)
  }
}

/** Requests of one client slot parked on this shard, in order (the rare path). */
/** Requests of one slot that reply late: parked for credit (counted), or blocked on keys. */
interface ParkedQueue { targets: ReplyTarget[], tags: number[], counted: boolean[], isForced: boolean }

/**
 * awaitReplies blocks only for a short batch. Blocking saves the scheduler round trip of a
 * message wake-up, which is worth it while the shard's part of the turn is short; with more
 * records than this outstanding (a pipelined turn) the primary does better to go back to its
 * loop and read and write while the shard works. SET -c 50 -P 16 at 1 shard on 2 CPUs: 0.77–0.84M
 * req/s blocking, 0.83–0.96M with this bound; unpipelined the same within noise; 32 cost
 * unpipelined turns their block, and 256 gained nothing.
 */
const REPLY_WAIT_MAX_RECORDS = 64
const PARKED_EMPTY_MAX = 1024
export class ShardLink {
  readonly index: number
  private readonly req: RingWriter
  private readonly bell: Int32Array
  private wake: MessagePort
  private readonly wakeWord: Int32Array
  /**
   * Set by the router: drains every link of its thread. The links share one wake word, so a
   * message on any of them may stand for replies on all of them.
   */
  onWake: (() => void) | null = null
  private readonly resp: RingReader
  private port: MessagePort
  private stepPort: MessagePort
  private readonly mailbox: Int32Array
  /** The worker's counters (STAT_* in ipc/layout.ts), refreshed after each batch and tick. */
  readonly stats: Float64Array
  /** Dispatch time of sampled requests, aligned with the FIFO (0 = not sampled). */
  private fifoTime: Float64Array
  /** Called with seconds from staging to reply, for the sampled requests. */
  onLatency: (seconds: number) => void = () => {}
  private fifoTarget: (ReplyTarget | null)[]
  private fifoTag: Int32Array
  /** Client slot of each request (server/credits.ts). */
  private fifoSlot: Int32Array
  /**
   * FIFO entries whose reply this thread must act on before the shard can go on (a hold's
   * acknowledgement) or that wait on other shards (a watched EXEC's verdict): markSync.
   */
  private fifoSync: Uint8Array
  /** Marked entries not yet answered: awaitReplies then waits whatever the count of records. */
  private syncPending = 0
  /**
   * Requests the worker parked for want of their client's credit, or blocked, by slot. A queue
   * that empties stays (counted in emptyParked) and empties go in bulk past PARKED_EMPTY_MAX: in
   * a BLPOP/LPUSH ping-pong every round parks and answers one, and a map that loses its last
   * entry re-allocates its table at the next (with the queue's arrays, 1.8% of the primary).
   */
  private readonly parked = new Map<number, ParkedQueue>()
  private emptyParked = 0
  private fifoHead = 0
  private fifoLen = 0
  isDead = false
  onDrained: () => void = () => {}
  /** Called when a reply target throws: that target's client is closed, the batch goes on. */
  onTargetError: (target: ReplyTarget, err: unknown) => void = (_t, err) => { throw err }
  /**
   * True from the moment a transaction's hold acknowledgement is drained until it is released:
   * meanwhile the worker answers only steps, so replies come from the step queue, not the FIFO
   * (requests staged behind the hold are still waiting in the ring).
   */
  private isHeld = false
  private readonly stepTargets: ReplyTarget[] = []
  private readonly stepTags: number[] = []
  /**
   * With several producers, the sequencer's words (server/sequencer.ts): a record without a
   * ticket of its own carries the last one issued for this shard (REQ_AFTER), and this
   * producer's epoch word for this shard says, until the turn is published, which ticket its
   * first such record read. Null with one producer, whose ring order is enough.
   */
  private issued: Int32Array | null = null
  private shardCount = 0
  private epochAt = 0
  /** This turn staged a REQ_AFTER record here: the epoch word is set until publish(). */
  private isEpochSet = false

  useSequencer (words: Int32Array, shards: number, producer: number): void {
    this.issued = words
    this.shardCount = shards
    this.epochAt = epochIndex(shards, producer, this.index)
  }

  constructor (ep: LinkEndpoint, private readonly credits: Credits) {
    this.index = ep.index
    this.port = ep.port
    this.stepPort = ep.stepPort
    this.mailbox = new Int32Array(ep.mailbox)
    this.stats = new Float64Array(ep.stats)
    this.bell = new Int32Array(ep.bell)
    this.req = new RingWriter(ep.req)
    this.resp = new RingReader(ep.resp)
    this.fifoTarget = new Array<ReplyTarget | null>(1024).fill(null)
    this.fifoTag = new Int32Array(1024)
    this.fifoSlot = new Int32Array(1024)
    this.fifoSync = new Uint8Array(1024)
    this.fifoTime = new Float64Array(1024)
    this.wake = ep.wake
    this.wakeWord = new Int32Array(ep.wakeWord)
    this.listen()
  }

  private listen (): void {
    this.wake.on('message', (m: 0 | ShardAsk) => {
      if (m !== 0) { this.answer(m); return }
      if (this.onWake !== null) { this.onWake(); return }
      this.clearWake()
      this.drain()
    })
  }

  /** Merges a shard part for a script that runs in the worker (ShardAsk), which waits for it. */
  onAsk: ((m: ShardAsk) => Uint8Array) | null = null

  private answer (m: ShardAsk): void {
    let reply: Uint8Array
    try {
      reply = this.onAsk?.(m) ?? Buffer.from('-ERR no producer to merge the reply\r\n')
    } catch (err) {
      reply = Buffer.from(`-ERR internal error: ${(err as Error).message}\r\n`)
    }
    this.stepPort.postMessage(reply)
    Atomics.add(this.mailbox, 0, 1)
    Atomics.notify(this.mailbox, 0)
  }

  /**
   * A replacement worker serves this shard (after failPending): the link takes its new ports and
   * carries requests again. The rings and words are the same buffers as before.
   */
  revive (ports: LinkPorts): void {
    this.port.close()
    this.stepPort.close()
    this.wake.close()
    this.port = ports.port
    this.stepPort = ports.stepPort
    this.wake = ports.wake
    this.listen()
    this.isDead = false
  }

  /**
   * Re-arms the wake-up message. Call it before draining: a worker that publishes after this
   * sends a new message, one that published before it is drained now.
   */
  clearWake (): void { Atomics.store(this.wakeWord, 0, 0) }

  /**
   * The sequence number of the earliest request of `target` this shard has yet to answer, or
   * -1 (CLIENT TRACKING: an invalidation from this shard goes before that reply).
   */
  firstSeqOf (target: ReplyTarget, slot: number): number {
    let seq = -1
    const q = this.parked.get(slot)
    if (q !== undefined) { const i = q.targets.indexOf(target); if (i >= 0) seq = q.tags[i] }
    const mask = this.fifoTarget.length - 1
    for (let k = 0; k < this.fifoLen; k++) {
      const i = (this.fifoHead + k) & mask
      const f = this.fifoTarget[i]
      if (f === target) { const t = this.fifoTag[i]; return seq < 0 || t < seq ? t : seq }
      // A part of a command of target's on several shards: the whole one's reply.
      if (f !== null && f.partOf === target) { const t = f.partSeq as number; return seq < 0 || t < seq ? t : seq }
    }
    return seq
  }

  /** Requests not yet answered, parked ones included. */
  get pending (): number {
    let n = this.fifoLen
    for (const q of this.parked.values()) n += q.targets.length
    return n
  }

  static recordBytes (argv: Argv, idx: Int32Array | null, n: number): number {
    let bytes = REQ_HEADER_BYTES + n * 4
    if (idx === null) for (let i = 0; i < n; i++) bytes += argv.len[i]
    else for (let i = 0; i < n; i++) bytes += argv.len[idx[i]]
    return bytes
  }

  /** True if a record of this many bytes can be staged now (oversized ones always can). */
  canTake (bytes: number): boolean {
    if (bytes > this.req.maxPayload) return this.req.reserveCheck(REQ_HEADER_BYTES)
    return this.req.reserveCheck(bytes)
  }

  /**
   * Stages a request of client `slot`: args argv[idx[0..n)] (or argv[0..n) when idx is null).
   * The caller checked canTake(recordBytes(...)) first.
   */
  send (cmdId: number, flags: number, db: number, argv: Argv, idx: Int32Array | null, n: number, bytes: number,
    target: ReplyTarget, tag: number, slot: number, ticket = 0): void {
    if (ticket === 0 && this.issued !== null) {
      const w = this.issued
      // Announced before the ticket is read (a shard that sees a later ticket then sees the word).
      if (!this.isEpochSet) Atomics.store(w, this.epochAt, EPOCH_BUSY)
      ticket = snapshot(w, this.shardCount, this.index)
      if (!this.isEpochSet) { Atomics.store(w, this.epochAt, ticket + 1); this.isEpochSet = true }
      if (ticket !== 0) flags |= REQ_AFTER
    }
    const oob = bytes > this.req.maxPayload
    let u8: Uint8Array
    let u32: Uint32Array
    let p: number
    let sab: SharedArrayBuffer | null = null
    if (oob) {
      sab = new SharedArrayBuffer((bytes + 3) & ~3)
      u8 = new Uint8Array(sab)
      u32 = new Uint32Array(sab)
      p = 0
    } else {
      p = this.req.reserve(bytes)
      u8 = this.req.u8
      u32 = this.req.u32
    }
    writeHeader(u32, p, cmdId, flags, db, n, slot, ticket)
    let off = p + REQ_HEADER_BYTES + n * 4
    const src = argv.buf
    for (let i = 0; i < n; i++) {
      const a = idx === null ? i : idx[i]
      const s = argv.start[a]
      const l = argv.len[a]
      u32[((p + REQ_HEADER_BYTES) >>> 2) + i] = l
      copyBytes(src, s, l, u8, off)
      off += l
    }
    if (sab !== null) {
      this.port.postMessage(sab)
      const h = this.req.reserve(REQ_HEADER_BYTES)
      writeHeader(this.req.u32, h, cmdId, flags | REQ_OOB, db, 0, slot, ticket)
      this.req.commit(h, REQ_HEADER_BYTES)
    } else {
      this.req.commit(p, bytes)
    }
    this.push(target, tag, slot)
  }

  /**
   * Sends one step to this shard while a transaction holds it (the worker is parked in its
   * held loop and reads steps from stepPort, not from the ring).
   */
  sendStep (cmdId: number, db: number, resp3: boolean, args: readonly Uint8Array[], target: ReplyTarget, tag: number, flags = 0): void {
    let bytes = REQ_HEADER_BYTES + args.length * 4
    for (const a of args) bytes += a.length
    const sab = new SharedArrayBuffer((bytes + 3) & ~3)
    const u8 = new Uint8Array(sab)
    const u32 = new Uint32Array(sab)
    writeHeader(u32, 0, cmdId, flags | (resp3 ? REQ_RESP3 : 0), db, args.length, 0, 0)
    let off = REQ_HEADER_BYTES + args.length * 4
    for (let i = 0; i < args.length; i++) {
      u32[4 + i] = args[i].length
      u8.set(args[i], off)
      off += args[i].length
    }
    this.stepTargets.push(target)
    this.stepTags.push(tag)
    this.stepPort.postMessage(sab)
    Atomics.add(this.mailbox, 0, 1)
    Atomics.notify(this.mailbox, 0)
  }

  /** Credit came back for a slot with parked requests: make the worker look again. */
  kick (): void {
    if (this.parked.size === this.emptyParked || this.isDead) return
    this.ring()
  }

  private dropEmptyParked (): void {
    for (const [slot, q] of this.parked) if (q.targets.length === 0) this.parked.delete(slot)
    this.emptyParked = 0
  }

  /** Rings the shard's doorbell; the notify (a syscall) only while the worker sleeps. */
  private ring (): void {
    Atomics.add(this.bell, SEQ, 1)
    if (Atomics.load(this.bell, SLEEPING) !== 0) Atomics.notify(this.bell, SEQ, 1)
  }

  /**
   * Called by the transaction when this shard acknowledged its hold (see isHeld). Returns what
   * the shard lent with the acknowledgement (server/engine.ts): posted on the port just before
   * it, so it is the next message there.
   */
  beginHold (): Lend {
    this.isHeld = true
    return receiveMessageOnPort(this.port)?.message as Lend
  }

  /**
   * Mid-hold, the shard takes back its databases and the effects of the steps so far (as at a
   * release), runs the next step on its own thread, then lends them again (takeLend). No reply.
   */
  relend (r: Returned, isLoggedByTxn: boolean): void {
    this.stepPort.postMessage({ ...r, relend: true, isLoggedByTxn })
    Atomics.add(this.mailbox, 0, 1)
    Atomics.notify(this.mailbox, 0)
  }

  /** What a held shard posted with a step's reply for a transaction that logs its effects (REQ_AOF_TO_TXN). */
  takeStepAof (): TakenEffects | undefined {
    return receiveMessageOnPort(this.port)?.message as TakenEffects | undefined
  }

  /** The new lend a relent shard posted with its step's reply. */
  takeLend (): Lend {
    return receiveMessageOnPort(this.port)?.message as Lend
  }

  /**
   * Ends a hold: the shard takes back its databases and the effects of the steps run on them.
   * When r.isAcked, the shard answers once it has applied them: `target` gets that reply (its
   * `tag`), and the hold ends here only then, as later replies come from the ring again.
   */
  release (r: Returned, target: ReplyTarget | null, tag: number): void {
    if (target === null) this.isHeld = false
    else {
      this.stepTargets.push({
        onReply: (t, src, start, len) => {
          this.isHeld = false
          target.onReply(t, src, start, len)
        },
      })
      this.stepTags.push(tag)
    }
    this.stepPort.postMessage(r)
    Atomics.add(this.mailbox, 0, 1)
    Atomics.notify(this.mailbox, 0)
  }

  /** Makes this turn's staged requests visible and wakes the worker. */
  publish (): void {
    const isNew = this.req.publish()
    // Published: the shard no longer waits for this turn (cleared before the bell wakes it).
    if (this.isEpochSet) { Atomics.store(this.issued as Int32Array, this.epochAt, 0); this.isEpochSet = false }
    if (isNew) this.ring()
  }

  /**
   * Blocks this thread until the worker publishes replies or `deadline` (performance.now() ms)
   * passes, then drains them: replies then go out in the turn that read their requests. One
   * wake-up only; anything later arrives by message as usual. A held shard answers only
   * transaction steps, which this thread has yet to send, so it is not waited for, and neither
   * is a long batch (REPLY_WAIT_MAX_RECORDS). Returns whether it waited (null: it did not) and got
   * replies in time.
   */
  awaitReplies (deadline: number): boolean | null {
    if (this.fifoLen === 0 || this.isHeld || this.isDead) return null
    // A long batch is better overlapped with this thread's own work, unless a hold's
    // acknowledgement or a verdict is outstanding: nothing goes on without it, and a message
    // wake-up costs more than the wait (a cross-shard WATCH per round, 2 shards: 24.8k to 32k/s).
    if (this.fifoLen > REPLY_WAIT_MAX_RECORDS && this.syncPending === 0) return null
    const c = this.resp.ctrl
    // While SLEEPING is 1 the worker wakes us with Atomics.notify instead of a message.
    Atomics.store(c, SLEEPING, 1)
    let isInTime = false
    // A short batch is answered in a few microseconds: watch SEQ for half of spin-us before
    // sleeping, which spares the worker's futex wake and this thread's scheduler hop.
    let spin = this.fifoLen <= SPIN_MAX_RECORDS ? this.spinUs / 2000 : 0
    for (;;) {
      const seq = Atomics.load(c, SEQ)
      if (this.resp.poll()) { isInTime = true; break }
      const left = deadline - performance.now()
      if (left <= 0) break
      if (spin > 0) {
        this.spinGate.spin(c, SEQ, seq, Math.min(spin, left))
        spin = 0
        continue
      }
      Atomics.wait(c, SEQ, seq, left)
    }
    // A worker that still saw 1 published before this store, so drain() below finds its
    // replies; one that sees 0 sends the usual message. Either way nothing is stranded.
    Atomics.store(c, SLEEPING, 0)
    this.drain()
    return isInTime
  }

  /** spin-us (config.ts), set by the server: 0 = awaitReplies sleeps at once. */
  spinUs = 0
  /** Whether awaitReplies's spins pay (src/spin-gate.ts). */
  private readonly spinGate = new SpinGate()

  private sampleCounter = 0
  /** Requests staged on this link so far (Router.stagedCount: has anything been staged since?). */
  stagedCount = 0

  private push (target: ReplyTarget, tag: number, slot: number): void {
    this.stagedCount++
    if (this.fifoLen === this.fifoTarget.length) this.growFifo()
    const i = (this.fifoHead + this.fifoLen) & (this.fifoTarget.length - 1)
    this.fifoTarget[i] = target
    this.fifoTag[i] = tag
    this.fifoSlot[i] = slot
    this.credits.staged(slot)
    // One request in 32 carries a timestamp for the latency histogram.
    this.fifoTime[i] = (++this.sampleCounter & 31) === 0 ? performance.now() : 0
    this.fifoLen++
  }

  private growFifo (): void {
    const n = this.fifoTarget.length
    const targets = new Array<ReplyTarget | null>(n * 2).fill(null)
    const tags = new Int32Array(n * 2)
    const slots = new Int32Array(n * 2)
    const times = new Float64Array(n * 2)
    const sync = new Uint8Array(n * 2)
    for (let i = 0; i < this.fifoLen; i++) {
      const j = (this.fifoHead + i) & (n - 1)
      targets[i] = this.fifoTarget[j]
      tags[i] = this.fifoTag[j]
      slots[i] = this.fifoSlot[j]
      times[i] = this.fifoTime[j]
      sync[i] = this.fifoSync[j]
    }
    this.fifoTarget = targets
    this.fifoTag = tags
    this.fifoSlot = slots
    this.fifoTime = times
    this.fifoSync = sync
    this.fifoHead = 0
  }

  private pop (): number {
    const i = this.fifoHead
    this.fifoHead = (i + 1) & (this.fifoTarget.length - 1)
    this.fifoLen--
    if (this.fifoSync[i] !== 0) { this.fifoSync[i] = 0; this.syncPending-- }
    return i
  }

  /** The request just staged (send) is one whose reply this thread waits on: see fifoSync. */
  markSync (): void {
    const i = (this.fifoHead + this.fifoLen - 1) & (this.fifoTarget.length - 1)
    this.fifoSync[i] = 1
    this.syncPending++
  }

  /** Hands every published reply to its target; `quiet`: the caller runs onDrained itself. */
  drain (quiet = false): boolean {
    const r = this.resp
    let any = false
    while (r.poll()) {
      noteGate(r.ctrl)
      while (r.next()) {
        let p = r.payload
        let len = r.u32[p >>> 2]
        let target: ReplyTarget
        let tag: number
        if (len === RESP_PUSH) {
          // A pub/sub message for this thread's subscribers (server/pubsub.ts): no request of ours.
          let n = r.u32[(p + 4) >>> 2]
          let src = r.u8
          let start = p + 8
          if (n === RESP_OOB) {
            src = new Uint8Array(receiveMessageOnPort(this.port)?.message as SharedArrayBuffer)
            start = 0
            n = src.length
          }
          try {
            this.onPush(src, start, n)
          } catch (err) {
            this.onPushError(err)
          }
          continue
        }
        if (len === RESP_PARKED || len === RESP_LATE || len === RESP_BLOCKED) {
          const slot = r.u32[(p + 4) >>> 2]
          if (len !== RESP_LATE) { this.park(slot, len === RESP_PARKED); continue }
          // A parked or blocked request ran: its reply follows the slot word.
          const q = this.parked.get(slot) as ParkedQueue
          target = q.targets.shift() as ReplyTarget
          tag = q.tags.shift() as number
          const counted = q.counted.shift() as boolean
          q.isForced = false
          if (q.targets.length === 0 && ++this.emptyParked > PARKED_EMPTY_MAX) this.dropEmptyParked()
          p += 8
          len = r.u32[p >>> 2]
          this.deliver(target, tag, p, len, slot, counted)
          continue
        }
        if (this.isHeld) {
          target = this.stepTargets.shift() as ReplyTarget
          tag = this.stepTags.shift() as number
          this.deliver(target, tag, p, len, 0, false)
        } else {
          const i = this.pop()
          target = this.fifoTarget[i] as ReplyTarget
          tag = this.fifoTag[i]
          this.fifoTarget[i] = null
          if (this.fifoTime[i] !== 0) this.onLatency((performance.now() - this.fifoTime[i]) / 1000)
          this.deliver(target, tag, p, len, this.fifoSlot[i], false)
        }
      }
      r.release()
      any = true
    }
    if (any) {
      Atomics.notify(r.ctrl, TAIL)
      if (!quiet) this.onDrained()
    }
    return any
  }

  /**
   * The request at the FIFO's head waits on the worker: for its client's credit (forCredit), or
   * blocked on its keys (BLPOP...).
   */
  private park (slot: number, forCredit: boolean): void {
    const i = this.pop()
    let q = this.parked.get(slot)
    if (q === undefined) { q = { targets: [], tags: [], counted: [], isForced: false }; this.parked.set(slot, q) } else if (q.targets.length === 0) this.emptyParked--
    const target = this.fifoTarget[i] as ReplyTarget
    q.targets.push(target)
    q.tags.push(this.fifoTag[i])
    q.counted.push(forCredit)
    this.fifoTarget[i] = null
    if (forCredit) {
      this.credits.parked(slot)
      this.onParked(target)
    } else {
      target.onBlocked?.()
    }
  }

  /** A pub/sub message from the hub (only shard 0 sends them). */
  onPush: (src: Uint8Array, start: number, len: number) => void = () => {}
  onPushError: (err: unknown) => void = () => {}

  /** Called when a request parks: its client may now be stuck behind it (Router.unstick). */
  onParked: (target: ReplyTarget) => void = () => {}

  /**
   * If the first request parked here for `slot` is the one whose reply `headSeq` of `conn` waits
   * for, has the worker run it now, over credit (REQ_FORCE), and returns true.
   */
  forceHead (slot: number, conn: ReplyTarget, headSeq: number): boolean {
    const q = this.parked.get(slot)
    if (q === undefined || q.targets.length === 0 || q.isForced || this.isDead) return false
    const t = q.targets[0]
    const seq = t === conn ? q.tags[0] : (t as { seq?: number }).seq
    if (seq !== headSeq || !this.req.reserveCheck(REQ_HEADER_BYTES)) return false
    const h = this.req.reserve(REQ_HEADER_BYTES)
    writeHeader(this.req.u32, h, 0, REQ_FORCE, 0, 0, slot, 0)
    this.req.commit(h, REQ_HEADER_BYTES)
    q.isForced = true
    return true
  }

  /** Hands one reply (at p in the response ring) to its target; a target that throws costs only itself. */
  private deliver (target: ReplyTarget, tag: number, p: number, len: number, slot: number, late: boolean): void {
    let src = this.resp.u8
    let start = p + RESP_HEADER_BYTES
    if (len === RESP_OOB) {
      src = new Uint8Array(receiveMessageOnPort(this.port)?.message as SharedArrayBuffer)
      start = 0
      len = src.length
    }
    this.credits.replied(slot, len, late)
    try {
      target.onReply(tag, src, start, len)
    } catch (err) {
      this.onTargetError(target, err)
    }
  }

  /** The worker is gone: answer everything still waiting on it with the shard-down error. */
  failPending (reply: Buffer): void {
    this.isDead = true
    this.drain()
    while (this.stepTargets.length > 0) (this.stepTargets.shift() as ReplyTarget).onReply(this.stepTags.shift() as number, reply, 0, reply.length)
    this.isHeld = false
    // Requests parked on it were staged before those still in the FIFO: answer them first.
    for (const [slot, q] of this.parked) {
      for (let k = 0; k < q.targets.length; k++) {
        this.credits.replied(slot, 0, q.counted[k])
        q.targets[k].onReply(q.tags[k], reply, 0, reply.length)
      }
    }
    this.parked.clear()
    this.emptyParked = 0
    while (this.fifoLen > 0) {
      const i = this.pop()
      const target = this.fifoTarget[i] as ReplyTarget
      this.fifoTarget[i] = null
      this.credits.replied(this.fifoSlot[i], 0, false)
      target.onReply(this.fifoTag[i], reply, 0, reply.length)
    }
    // Every request in the ring has been answered, so none may run: a replacement starts from
    // an empty ring where this side stands (its reply ring was drained above).
    Atomics.store(this.req.ctrl, TAIL, this.req.pos)
    Atomics.store(this.req.ctrl, HEAD, this.req.pos)
    // A wake-up the dead thread announced may never come.
    this.clearWake()
    this.onDrained()
  }

  /** DEBUG CRASH-SHARD: rings the doorbell so that a sleeping worker sees the request at once. */
  wakeWorker (): void { this.ring() }

  /** Closes this end's ports (the worker has stopped). */
  close (): void {
    this.port.close()
    this.stepPort.close()
    this.wake.close()
  }
}

