// SUBSCRIBE and its kin on the connection's thread, and the delivery of messages to this
// thread's subscribers. The hub shard (storage/pubsub-hub.ts) counts every producer's
// subscriptions and orders them with every PUBLISH; this side keeps which of its own
// connections want which channel.
//
// A subscription takes effect when the hub acknowledges it: the connection joins the delivery
// lists then, and its SUBSCRIBE reply is sent then, so a message published after the reply
// always arrives, and none arrives before it. An unsubscription takes effect at once here (no
// message follows the reply), and the reply waits for the hub's count (inside EXEC the hub
// hears of it just after).
//
// A message is queued on each subscriber like a reply produced now (after everything the
// client sent before it), as `*3 message` in RESP2 or a `>3` push in RESP3. A subscriber whose
// pending output passes the pubsub class's output-buffer limits is disconnected.

import { Buffer } from 'node:buffer'
import type { Connection } from './connection.js'
import type { ReplyTarget } from './shard-link.js'
import { ShardLink as Link } from './shard-link.js'
import type { Router } from './router.js'
import type { Argv } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { internalCommand } from '../commands/table.js'
import { PUBSUB_CHANNEL, PUBSUB_PATTERN, PUBSUB_SHARD, PUBSUB_MONITOR } from '../storage/pubsub-hub.js'
import { MONITORS_WORD } from './credits.js'
import { monitorHead, luaMonitorLine, repr } from '../protocol/monitor.js'
import { stringMatch } from '../commands/glob.js'
import { SHARD_DOWN } from '../protocol/errors.js'
import { REQ_NOPARK } from '../ipc/layout.js'
import { argvOf } from '../commands/txn-helpers.js'
import { parseInt64, parsed, equalsLower, token } from '../protocol/ascii.js'

const PSUB = internalCommand('__psub')
const MONITOR_FEED = internalCommand('__monitor')
const MONITOR_NAME = Buffer.from('monitor')
const MONITOR_IN_MULTI = Buffer.from('-ERR MONITOR inside MULTI is not supported\r\n')
// EXEC runs its commands as a client that may not block; Redis 7.0 lets SUBSCRIBE and
// PSUBSCRIBE through for backward compatibility, not SSUBSCRIBE.
const SSUBSCRIBE_IN_EXEC = Buffer.from("-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n")
const OK_BYTES = Buffer.from('+OK\r\n')

function equalsAuth (argv: Argv, i: number): boolean {
  if (argv.len[i] !== 4) return false
  const p = argv.start[i]
  const b = argv.buf
  return (b[p] | 32) === 97 && (b[p + 1] | 32) === 117 && (b[p + 2] | 32) === 116 && (b[p + 3] | 32) === 104
}

const HUB = 0

const TOK_SETNAME = token('setname')

const NONE: number[] = []

/**
 * The arguments MONITOR shows as "(redacted)". Redis redacts as it parses: AUTH's, unless it has
 * more than two; each AUTH pair of HELLO once the protocol version and the options before it
 * parsed (a malformed HELLO shows the rest as it was sent). Redis stops at an AUTH that fails,
 * so a second AUTH pair after it shows there; here every pair is hidden.
 */
function redacted (name: string, argv: Argv): number[] {
  if (name === 'auth') return argv.argc > 3 ? NONE : [1, 2]
  if (argv.argc < 2) return NONE
  if (!parseInt64(argv.buf, argv.start[1], argv.len[1]) || parsed.isBig || parsed.value < 2 || parsed.value > 3) return NONE
  const out: number[] = []
  for (let j = 2; j < argv.argc; j++) {
    const more = argv.argc - 1 - j
    if (equalsAuth(argv, j) && more >= 2) { out.push(j + 1, j + 2); j += 2 } else if (more >= 1 && equalsLower(argv.buf, argv.start[j], argv.len[j], TOK_SETNAME)) j++
    else break
  }
  return out
}

const KIND_OF: Record<string, number> = {
  subscribe: PUBSUB_CHANNEL, unsubscribe: PUBSUB_CHANNEL,
  psubscribe: PUBSUB_PATTERN, punsubscribe: PUBSUB_PATTERN,
  ssubscribe: PUBSUB_SHARD, sunsubscribe: PUBSUB_SHARD,
}

/** The names a client holds, each once (`UNSUBSCRIBE a a` leaves the hub's count of a once). */
function held (mine: Set<string>, names: readonly Buffer[]): Buffer[] {
  const seen = new Set<string>()
  return names.filter(b => {
    const key = b.toString('latin1')
    if (!mine.has(key) || seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function bulk (b: Buffer): Buffer { return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]) }

/** `*3 <kind> <name> :<count>` (`>3` in RESP3): a (un)subscribe confirmation. */
function confirmation (resp3: boolean, kind: string, name: Buffer | null, count: number): Buffer {
  return Buffer.concat([
    Buffer.from(`${resp3 ? '>' : '*'}3\r\n$${kind.length}\r\n${kind}\r\n`),
    name === null ? Buffer.from(resp3 ? '_\r\n' : '$-1\r\n') : bulk(name),
    Buffer.from(`:${count}\r\n`),
  ])
}

export class PubSub {
  /** Delivery lists: name (latin1) → this thread's subscribed connections, per kind. */
  private readonly lists: Array<Map<string, Set<Connection>>> = [new Map(), new Map(), new Map(), new Map()]

  /** The shared flags words (server/credits.ts sharedFlags): MONITORS_WORD counts monitors. */
  constructor (private readonly router: Router, private readonly flags: Int32Array) {}

  /** The connection's own set for a kind. */
  private setOf (conn: Connection, kind: number): Set<string> {
    // subs exists once any subscription was made: the router's subscribed-mode check reads it first.
    conn.subs ??= new Set()
    if (kind === PUBSUB_CHANNEL) return conn.subs
    if (kind === PUBSUB_PATTERN) return conn.psubs ??= new Set()
    return conn.ssubs ??= new Set()
  }

  /** Redis's subscription counts: channels + patterns, or shard channels alone. */
  private count (conn: Connection, kind: number): number {
    if (kind === PUBSUB_SHARD) return conn.ssubs?.size ?? 0
    return (conn.subs?.size ?? 0) + (conn.psubs?.size ?? 0)
  }

  dispatch (conn: Connection, cmd: Command, argv: Argv): boolean {
    if (cmd.name === 'monitor') return this.monitor(conn)
    const kind = KIND_OF[cmd.name]
    return cmd.name.includes('unsub') ? this.unsubscribe(conn, cmd.name, kind, argv) : this.subscribe(conn, cmd.name, kind, argv)
  }

  private subscribe (conn: Connection, name: string, kind: number, argv: Argv): boolean {
    const link = this.router.links[HUB]
    if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
    const mine = this.setOf(conn, kind)
    const resp3 = conn.resp === 3
    const added: Buffer[] = []
    const seen = new Set<string>()
    const replies: Buffer[] = []
    for (let i = 1; i < argv.argc; i++) {
      const b = Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))
      const key = b.toString('latin1')
      if (!mine.has(key) && !seen.has(key)) { added.push(b); seen.add(key) }
      replies.push(confirmation(resp3, name, b, this.count(conn, kind) + seen.size))
    }
    if (added.length === 0) { conn.replyLocalBytes(Buffer.concat(replies)); return true }
    const rec = this.record(kind, 1, added)
    const bytes = Link.recordBytes(rec, null, rec.argc)
    if (!link.canTake(bytes)) { this.router.block(conn, link); return false }
    for (const b of added) mine.add(b.toString('latin1'))
    const seq = conn.takeSeq()
    ;(conn.hubSeqs ??= []).push(seq)
    const target: ReplyTarget = {
      onReply: () => {
        // Joins the delivery lists now, unless it left (or unsubscribed) meanwhile.
        if (!conn.isClosed) {
          for (const b of added) {
            const key = b.toString('latin1')
            if (!mine.has(key)) continue
            let set = this.lists[kind].get(key)
            if (set === undefined) { set = new Set(); this.lists[kind].set(key, set) }
            set.add(conn)
          }
        }
        const r = Buffer.concat(replies)
        conn.onReply(seq, r, 0, r.length)
      },
    }
    link.send(PSUB.id, REQ_NOPARK, 0, rec, null, rec.argc, bytes, target, 0, conn.slot)
    this.router.scheduleTurn()
    return true
  }

  private unsubscribe (conn: Connection, name: string, kind: number, argv: Argv): boolean {
    const mine = this.setOf(conn, kind)
    const resp3 = conn.resp === 3
    const names: Buffer[] = []
    if (argv.argc > 1) {
      for (let i = 1; i < argv.argc; i++) names.push(Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])))
    } else {
      for (const key of mine) names.push(Buffer.from(key, 'latin1'))
    }
    if (names.length === 0) {
      conn.replyLocalBytes(confirmation(resp3, name, null, this.count(conn, kind)))
      return true
    }
    const link = this.router.links[HUB]
    const removed = held(mine, names)
    const rec = removed.length > 0 ? this.record(kind, -1, removed) : null
    // The reply waits for the hub, so a PUBLISH after it no longer counts this client.
    if (rec !== null && !link.isDead && !link.canTake(Link.recordBytes(rec, null, rec.argc))) { this.router.block(conn, link); return false }
    const reply = this.unsubscribeNow(conn, name, kind, names)
    if (rec === null || link.isDead) { conn.replyLocalBytes(reply); return true }
    const seq = conn.takeSeq()
    ;(conn.hubSeqs ??= []).push(seq)
    link.send(PSUB.id, REQ_NOPARK, 0, rec, null, rec.argc, Link.recordBytes(rec, null, rec.argc), {
      onReply: () => conn.onReply(seq, reply, 0, reply.length),
    }, 0, conn.slot)
    this.router.scheduleTurn()
    return true
  }

  /** Leaves `names` here at once (no message follows the reply) and returns the confirmations. */
  private unsubscribeNow (conn: Connection, name: string, kind: number, names: readonly Buffer[]): Buffer {
    const mine = this.setOf(conn, kind)
    const replies: Buffer[] = []
    for (const b of names) {
      const key = b.toString('latin1')
      if (mine.delete(key)) this.leave(conn, kind, key)
      replies.push(confirmation(conn.resp === 3, name, b, this.count(conn, kind)))
    }
    return Buffer.concat(replies)
  }

  /**
   * SUBSCRIBE and kin inside EXEC: the replies go in EXEC's array, so the subscription takes
   * effect here at once and the hub hears of it just after, before anything another client
   * sends once EXEC has answered (a message published in between misses this client, as if it
   * came before EXEC).
   */
  inExec (conn: Connection, cmd: Command, argv: Argv): Buffer {
    const kind = KIND_OF[cmd.name]
    if (kind === undefined) return MONITOR_IN_MULTI
    const mine = this.setOf(conn, kind)
    const resp3 = conn.resp === 3
    if (!cmd.name.includes('unsub')) {
      if (kind === PUBSUB_SHARD) return SSUBSCRIBE_IN_EXEC
      const replies: Buffer[] = []
      const added: Buffer[] = []
      for (let i = 1; i < argv.argc; i++) {
        const b = Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))
        const key = b.toString('latin1')
        if (!mine.has(key)) { mine.add(key); added.push(b); this.join(conn, kind, key) }
        replies.push(confirmation(resp3, cmd.name, b, this.count(conn, kind)))
      }
      if (added.length > 0) this.tellHub(kind, 1, added)
      return Buffer.concat(replies)
    }
    const names: Buffer[] = []
    if (argv.argc > 1) for (let i = 1; i < argv.argc; i++) names.push(Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])))
    else for (const key of mine) names.push(Buffer.from(key, 'latin1'))
    if (names.length === 0) return confirmation(resp3, cmd.name, null, this.count(conn, kind))
    const removed = held(mine, names)
    const reply = this.unsubscribeNow(conn, cmd.name, kind, names)
    if (removed.length > 0) this.tellHub(kind, -1, removed)
    return reply
  }

  /**
   * MONITOR: the client receives a line for every command any client runs. It is a subscriber
   * of the hub's monitor name; the word MONITORS_WORD tells every thread to feed lines while
   * any exist. A second MONITOR is ignored without a reply, as in Redis.
   */
  private monitor (conn: Connection): boolean {
    if (conn.isMonitor) return true
    const link = this.router.links[HUB]
    if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
    const rec = this.record(PUBSUB_MONITOR, 1, [MONITOR_NAME])
    const bytes = Link.recordBytes(rec, null, rec.argc)
    if (!link.canTake(bytes)) { this.router.block(conn, link); return false }
    conn.isMonitor = true
    Atomics.add(this.flags, MONITORS_WORD, 1)
    const seq = conn.takeSeq()
    link.send(PSUB.id, REQ_NOPARK, 0, rec, null, rec.argc, bytes, {
      onReply: () => {
        if (conn.isMonitor && !conn.isClosed) this.join(conn, PUBSUB_MONITOR, 'monitor')
        conn.onReply(seq, OK_BYTES, 0, OK_BYTES.length)
      },
    }, 0, conn.slot)
    this.router.scheduleTurn()
    return true
  }

  private join (conn: Connection, kind: number, key: string): void {
    let set = this.lists[kind].get(key)
    if (set === undefined) { set = new Set(); this.lists[kind].set(key, set) }
    set.add(conn)
  }

  /** This thread has subscribers or monitors (their messages are taken before client reads). */
  get hasLocal (): boolean {
    const l = this.lists
    return l[0].size !== 0 || l[1].size !== 0 || l[2].size !== 0 || l[3].size !== 0
  }

  /** True while any thread has a MONITOR client. */
  get isMonitored (): boolean { return this.flags[MONITORS_WORD] > 0 }

  /**
   * Sends the line MONITOR prints for a command (replicationFeedMonitors): time, database,
   * client address, then each argument quoted as sdscatrepr does (AUTH and HELLO's credentials
   * redacted). Lines go to the hub, which orders them and passes them to every monitor.
   */
  feed (conn: Connection, argv: Argv, cmd: Command, db: number): void {
    // A Unix socket's client shows as "unix:<path>" (replicationFeedMonitors).
    let line = monitorHead(db, conn.unixPath !== null ? `unix:${conn.unixPath}` : conn.addr)
    const hidden = cmd.name === 'auth' || cmd.name === 'hello' ? redacted(cmd.name, argv) : NONE
    for (let i = 0; i < argv.argc; i++) {
      line += ' ' + (hidden.includes(i) ? '"(redacted)"' : repr(argv.buf, argv.start[i], argv.len[i]))
    }
    this.pendingLines.push(Buffer.from(line + '\r\n', 'latin1'))
    if (this.pendingLines.length === 1) queueMicrotask(this.flushLines)
  }

  /** A command a script ran on this thread (server/scripting.ts CallHost), after the script's own line. */
  feedLua (argv: readonly Uint8Array[], db: number): void {
    this.pendingLines.push(luaMonitorLine(db, argv))
    if (this.pendingLines.length === 1) queueMicrotask(this.flushLines)
  }

  /**
   * Sends this turn's lines now: a script that runs inside the hub's worker publishes its
   * commands' lines there, so its own line must reach the hub first.
   */
  flushMonitorLines (): void { this.flushLines() }

  private readonly pendingLines: Buffer[] = []
  /** Lines of one turn go to the hub in one record. */
  private readonly flushLines = (): void => {
    const lines = this.pendingLines.splice(0)
    if (lines.length > 0) this.sendToHub([Buffer.from(MONITOR_FEED.name), ...lines], MONITOR_FEED.id)
  }

  private leave (conn: Connection, kind: number, key: string): void {
    const set = this.lists[kind].get(key)
    if (set === undefined) return
    set.delete(conn)
    if (set.size === 0) this.lists[kind].delete(key)
  }

  /** __psub kind delta names... */
  private record (kind: number, delta: number, names: readonly Buffer[]): Argv {
    const k = Buffer.allocUnsafe(4)
    k.writeUInt32LE(kind)
    const d = Buffer.allocUnsafe(4)
    d.writeInt32LE(delta)
    return argvOf([Buffer.from(PSUB.name), k, d, ...names])
  }

  /** Tells the hub, expecting nothing back (unsubscriptions): retried shortly if its ring is full. */
  private tellHub (kind: number, delta: number, names: readonly Buffer[]): void {
    const k = Buffer.allocUnsafe(8)
    k.writeUInt32LE(kind, 0)
    k.writeInt32LE(delta, 4)
    // Ticketed: a PUBLISH sent from another I/O thread after EXEC's reply runs after it on the hub.
    this.router.sendNoReply(HUB, PSUB.id, [Buffer.from(PSUB.name), k.subarray(0, 4), k.subarray(4), ...names], true)
  }

  /**
   * The hub's thread was replaced, and its counts died with it (docs/ARCHITECTURE.md, "A dead
   * shard"): tells the new one every subscription of this thread again, monitors included.
   */
  resubscribe (): void {
    for (let kind = 0; kind < this.lists.length; kind++) {
      const byCount = new Map<number, Buffer[]>()
      for (const [key, set] of this.lists[kind]) {
        if (set.size === 0) continue
        let names = byCount.get(set.size)
        if (names === undefined) { names = []; byCount.set(set.size, names) }
        names.push(Buffer.from(key, 'latin1'))
      }
      for (const [n, names] of byCount) this.tellHub(kind, n, names)
    }
  }

  /** The connection left: every subscription it had ends. */
  onClose (conn: Connection): void {
    if (conn.isMonitor) {
      conn.isMonitor = false
      Atomics.sub(this.flags, MONITORS_WORD, 1)
      this.leave(conn, PUBSUB_MONITOR, 'monitor')
      this.tellHub(PUBSUB_MONITOR, -1, [MONITOR_NAME])
    }
    for (const kind of [PUBSUB_CHANNEL, PUBSUB_PATTERN, PUBSUB_SHARD]) {
      const mine = kind === PUBSUB_CHANNEL ? conn.subs : kind === PUBSUB_PATTERN ? conn.psubs : conn.ssubs
      if (mine === null || mine.size === 0) continue
      const names: Buffer[] = []
      for (const key of mine) { names.push(Buffer.from(key, 'latin1')); this.leave(conn, kind, key) }
      mine.clear()
      this.tellHub(kind, -1, names)
    }
  }

  /** A message from the hub: | u8 kind | u32 channel length | channel | message |. */
  onPush (src: Uint8Array, start: number, len: number): void {
    const kind = src[start]
    if (kind === PUBSUB_MONITOR) { this.deliverLine(src, start, len); return }
    const clen = (src[start + 1] | (src[start + 2] << 8) | (src[start + 3] << 16) | (src[start + 4] << 24)) >>> 0
    const channel = Buffer.from(src.subarray(start + 5, start + 5 + clen))
    const message = Buffer.from(src.subarray(start + 5 + clen, start + len))
    const body = Buffer.concat([bulk(channel), bulk(message)])
    const set = this.lists[kind].get(channel.toString('latin1'))
    if (set !== undefined && set.size > 0) {
      const word = kind === PUBSUB_SHARD ? 'smessage' : 'message'
      const head2 = Buffer.from(`*3\r\n$${word.length}\r\n${word}\r\n`)
      const head3 = Buffer.from(`>3\r\n$${word.length}\r\n${word}\r\n`)
      const m2 = Buffer.concat([head2, body])
      const m3 = Buffer.concat([head3, body])
      for (const conn of set) this.deliver(conn, conn.resp === 3 ? m3 : m2)
    }
    if (kind !== PUBSUB_CHANNEL) return
    for (const [pattern, conns] of this.lists[PUBSUB_PATTERN]) {
      const p = Buffer.from(pattern, 'latin1')
      if (!stringMatch(p, 0, p.length, channel, 0, channel.length, false)) continue
      const m2 = Buffer.concat([Buffer.from('*4\r\n$8\r\npmessage\r\n'), bulk(p), body])
      const m3 = Buffer.concat([Buffer.from('>4\r\n$8\r\npmessage\r\n'), bulk(p), body])
      for (const conn of conns) this.deliver(conn, conn.resp === 3 ? m3 : m2)
    }
  }

  /** A monitor line (| 3 | u32 name length | "monitor" | line |) for this thread's monitors. */
  private deliverLine (src: Uint8Array, start: number, len: number): void {
    const set = this.lists[PUBSUB_MONITOR].get('monitor')
    if (set === undefined) return
    const line = Buffer.from(src.subarray(start + 5 + MONITOR_NAME.length, start + len))
    for (const conn of set) this.deliver(conn, line)
  }

  private sendToHub (args: Buffer[], id: number): void { this.router.sendNoReply(HUB, id, args) }

  private deliver (conn: Connection, bytes: Buffer): void {
    if (conn.isClosed || conn.isClosing) return
    conn.deliverMessage(bytes)
    this.router.markPushed(conn)
    // checkClientOutputBufferLimits (the pubsub class while it is subscribed).
    if (conn.isOverOutputLimit()) conn.kill()
  }
}

