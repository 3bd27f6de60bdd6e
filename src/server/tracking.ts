// CLIENT TRACKING on the client's thread (Redis 7.0's tracking.c and clientCommand's branches):
// each connection's tracking state, the shared words the shards read (storage/tracking.ts), the
// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO commands, and the delivery of what the
// shards send: invalidations (RESP3 `>2 invalidate [keys]` pushes, or for a REDIRECT target in
// RESP2 subscribed mode a `message` on `__redis__:invalidate`), null invalidations on FLUSHDB and
// FLUSHALL, and the keys modified while BCAST clients exist, which this thread matches against
// its own clients' prefixes (batched per turn, one message per prefix, keys sorted as Redis's
// radix tree orders them).
//
// Order: an invalidation from shard S goes into the client's reply stream just before the reply
// to its earliest request S has yet to answer (or after everything sent so far when there is
// none): a reply S produced before the change (an old value, maybe still waiting behind another
// shard's reply) always comes first, and a reply S produced after it always comes after. The
// writer's own invalidations (TRK_AFTER) go just after the reply to the request that made them,
// before any later reply, as Redis 7.0 sends a current client's.

import { Buffer } from 'node:buffer'
import type { Connection } from './connection.js'
import type { ShardLink } from './shard-link.js'
import type { Router } from './router.js'
import type { Argv, ClientContext } from '../commands/spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { OK } from '../protocol/replies.js'
import { SYNTAX_ERR, NOT_INTEGER, errorReply } from '../protocol/errors.js'
import { parseInt64, parsed, equalsLower, token } from '../protocol/ascii.js'
import { REQ_TRACK } from '../ipc/layout.js'
import {
  TrackingWords, PUSH_TRACKING, TRK_KEY, TRK_BROKEN, TRK_RELAY, TRK_NULL, TRK_BCAST, TRK_AFTER, OPT_BCAST, OPT_NOLOOP, G_CLIENTS, G_BCAST, G_BCAST_OF,
  MAX_PRODUCERS, CREDIT_SLOTS_COUNT,
} from '../storage/tracking.js'
import { internalCommand } from '../commands/table.js'

export const T_OPTIN = 1
export const T_OPTOUT = 2
export const T_NOLOOP = 4
export const T_BCAST = 8
/** CLIENT CACHING yes (OPTIN) or no (OPTOUT) for the next command. */
export const T_CACHING = 16
export const T_BROKEN = 32

/** A tracking client's state (Connection.trk). */
export interface ClientTracking {
  flags: number
  /** REDIRECT client id (0: none). */
  redir: number
  /** BCAST prefixes, sorted as Redis's radix tree lists them. */
  prefixes: Buffer[]
  /** REQ_TRACK while its reads are to be remembered, else 0 (the router adds it to requests). */
  req: number
}

/** CLIENT LIST flag letters: t, R (broken redirect), B (BCAST). */
export function trackingFlags (t: ClientTracking): string {
  return 't' + ((t.flags & T_BROKEN) !== 0 ? 'R' : '') + ((t.flags & T_BCAST) !== 0 ? 'B' : '')
}


const TOK_ON = token('on')
const TOK_OFF = token('off')
const TOK_REDIRECT = token('redirect')
const TOK_BCAST = token('bcast')
const TOK_OPTIN = token('optin')
const TOK_OPTOUT = token('optout')
const TOK_NOLOOP = token('noloop')
const TOK_PREFIX = token('prefix')
const TOK_YES = token('yes')
const TOK_NO = token('no')

const ERR_ONE_REDIRECT = errorReply('ERR A client can only redirect to a single other client')
const ERR_NO_REDIRECT = errorReply('ERR The client ID you want redirect to does not exist')
const ERR_PREFIX_BCAST = errorReply('ERR PREFIX option requires BCAST mode to be enabled')
const ERR_SWITCH_BCAST = errorReply("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
const ERR_BCAST_OPT = errorReply('ERR OPTIN and OPTOUT are not compatible with BCAST')
const ERR_BOTH_OPT = errorReply("ERR You can't specify both OPTIN mode and OPTOUT mode")
const ERR_SWITCH_OPT = errorReply("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
const ERR_CACHING = errorReply('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled')
const ERR_CACHING_YES = errorReply('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.')
const ERR_CACHING_NO = errorReply('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.')

const PUSH_HEAD = Buffer.from('>2\r\n$10\r\ninvalidate\r\n')
const MESSAGE_HEAD = Buffer.from('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n')
const NULL3 = Buffer.from('_\r\n')
const NULL2 = Buffer.from('$-1\r\n')

function keysArray (keys: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${keys.length}\r\n`)]
  for (const k of keys) parts.push(Buffer.from(`$${k.length}\r\n`), k, Buffer.from('\r\n'))
  return Buffer.concat(parts)
}

/** stringCheckPrefix: one is a prefix of the other. */
function overlaps (a: Buffer, b: Buffer): boolean {
  const n = a.length < b.length ? a.length : b.length
  return a.compare(b, 0, n, 0, n) === 0
}

const argBuf = (argv: Argv, i: number): Buffer => Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))

export class Tracking {
  /** This thread's connections by slot (a REDIRECT target or tracking client the shards name). */
  private readonly bySlot = new Map<number, Connection>()
  /** This thread's BCAST clients. */
  private readonly bcast = new Set<Connection>()
  /** BCAST keys of this turn: key (latin1) → the slot of the client that modified it last. */
  private pendingBcast: Map<string, number> | null = null

  // Looked up here, not at load: commands/connection.ts imports this module while the table builds.
  private readonly pfx = internalCommand('__trkpfx')
  private readonly relay = internalCommand('__trkrelay')

  constructor (private readonly router: Router, readonly words: TrackingWords, readonly producer: number) {}

  onOpen (conn: Connection): void {
    if (conn.slot === 0) return
    this.bySlot.set(conn.slot, conn)
    this.words.prod[conn.slot] = this.producer
    Atomics.store(this.words.conn, conn.slot, conn.id)
  }

  onClose (conn: Connection): void {
    if (conn.trk !== null) this.disable(conn)
    if (conn.slot === 0 || this.bySlot.get(conn.slot) !== conn) return
    this.bySlot.delete(conn.slot)
    Atomics.store(this.words.conn, conn.slot, 0)
  }

  /** resetClient: CLIENT CACHING covers one command (a whole MULTI ... EXEC), and CLIENT commands keep it. */
  afterCommand (conn: Connection): void {
    const t = conn.trk
    if (t === null || (t.flags & T_CACHING) === 0 || conn.multi !== null) return
    if (conn.lastCmd !== null && conn.lastCmd.name.startsWith('client')) return
    t.flags &= ~T_CACHING
    this.syncReq(t)
  }

  private syncReq (t: ClientTracking): void {
    const f = t.flags
    const caching = (f & T_CACHING) !== 0
    t.req = (f & T_BCAST) !== 0 || ((f & T_OPTIN) !== 0 && !caching) || ((f & T_OPTOUT) !== 0 && caching) ? 0 : REQ_TRACK
  }

  /** The slot of client `id` on any thread (0: none). */
  private slotOf (id: number): number {
    const conn = this.words.conn
    for (let s = 1; s < CREDIT_SLOTS_COUNT; s++) if (conn[s] === id) return s
    return 0
  }

  // --- CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO ------------------------------------

  tracking (ctx: ClientContext, argv: Argv, out: ReplyWriter): void {
    const c = ctx as unknown as Connection
    const { buf, start, len, argc } = argv
    let redir = 0
    let rslot = 0
    let options = 0
    const prefixes: Buffer[] = []
    for (let j = 3; j < argc; j++) {
      const more = argc - 1 - j
      if (equalsLower(buf, start[j], len[j], TOK_REDIRECT) && more > 0) {
        j++
        if (redir !== 0) { out.raw(ERR_ONE_REDIRECT); return }
        if (!parseInt64(buf, start[j], len[j])) { out.raw(NOT_INTEGER); return }
        redir = parsed.value
        rslot = redir > 0 && redir < 2 ** 31 ? this.slotOf(redir) : 0
        if (rslot === 0) { out.raw(ERR_NO_REDIRECT); return }
      } else if (equalsLower(buf, start[j], len[j], TOK_BCAST)) options |= T_BCAST
      else if (equalsLower(buf, start[j], len[j], TOK_OPTIN)) options |= T_OPTIN
      else if (equalsLower(buf, start[j], len[j], TOK_OPTOUT)) options |= T_OPTOUT
      else if (equalsLower(buf, start[j], len[j], TOK_NOLOOP)) options |= T_NOLOOP
      else if (equalsLower(buf, start[j], len[j], TOK_PREFIX) && more > 0) { j++; prefixes.push(argBuf(argv, j)) } else { out.raw(SYNTAX_ERR); return }
    }
    if (equalsLower(buf, start[2], len[2], TOK_OFF)) {
      if (c.trk !== null) this.disable(c)
      out.raw(OK)
      return
    }
    if (!equalsLower(buf, start[2], len[2], TOK_ON)) { out.raw(SYNTAX_ERR); return }
    const t = c.trk
    const cur = t === null ? 0 : t.flags
    if ((options & T_BCAST) === 0 && prefixes.length > 0) { out.raw(ERR_PREFIX_BCAST); return }
    if (t !== null && ((cur & T_BCAST) !== 0) !== ((options & T_BCAST) !== 0)) { out.raw(ERR_SWITCH_BCAST); return }
    if ((options & T_BCAST) !== 0 && (options & (T_OPTIN | T_OPTOUT)) !== 0) { out.raw(ERR_BCAST_OPT); return }
    if ((options & T_OPTIN) !== 0 && (options & T_OPTOUT) !== 0) { out.raw(ERR_BOTH_OPT); return }
    if (((options & T_OPTIN) !== 0 && (cur & T_OPTOUT) !== 0) || ((options & T_OPTOUT) !== 0 && (cur & T_OPTIN) !== 0)) { out.raw(ERR_SWITCH_OPT); return }
    if ((options & T_BCAST) !== 0) {
      // checkPrefixCollisionsOrReply: against the client's prefixes, then among the new ones.
      for (let i = 0; i < prefixes.length; i++) {
        for (const p of t?.prefixes ?? []) {
          if (overlaps(p, prefixes[i])) { out.raw(errorReply(`ERR Prefix '${prefixes[i].toString('latin1')}' overlaps with an existing prefix '${p.toString('latin1')}'. Prefixes for a single client must not overlap.`)); return }
        }
        for (let j = i + 1; j < prefixes.length; j++) {
          if (overlaps(prefixes[i], prefixes[j])) { out.raw(errorReply(`ERR Prefix '${prefixes[i].toString('latin1')}' overlaps with another provided prefix '${prefixes[j].toString('latin1')}'. Prefixes for a single client must not overlap.`)); return }
        }
      }
    }
    this.enable(c, redir, rslot, options, prefixes)
    out.raw(OK)
  }

  /** enableTracking. */
  private enable (c: Connection, redir: number, rslot: number, options: number, prefixes: Buffer[]): void {
    const w = this.words
    let t = c.trk
    if (t === null) {
      t = c.trk = { flags: 0, redir: 0, prefixes: [], req: 0 }
      Atomics.add(w.g, G_CLIENTS, 1)
    }
    t.flags &= ~(T_BROKEN | T_OPTIN | T_OPTOUT | T_NOLOOP)
    t.redir = redir
    if ((options & T_BCAST) !== 0) {
      if ((t.flags & T_BCAST) === 0) {
        t.flags |= T_BCAST
        this.bcast.add(c)
        if (this.producer < MAX_PRODUCERS) Atomics.add(w.g, G_BCAST_OF + this.producer, 1)
        Atomics.add(w.g, G_BCAST, 1)
      }
      const added: Buffer[] = []
      for (const p of prefixes.length === 0 ? [Buffer.alloc(0)] : prefixes) {
        if (t.prefixes.some(q => q.equals(p))) continue
        t.prefixes.push(p)
        added.push(p)
      }
      t.prefixes.sort(Buffer.compare)
      if (added.length > 0) this.tellPrefixes(1, added)
    }
    t.flags |= options & (T_OPTIN | T_OPTOUT | T_NOLOOP)
    this.syncReq(t)
    const s = c.slot
    if (s === 0) return
    w.opts[s] = ((t.flags & T_BCAST) !== 0 ? OPT_BCAST : 0) | ((t.flags & T_NOLOOP) !== 0 ? OPT_NOLOOP : 0)
    w.redir[s] = redir
    w.rslot[s] = rslot
    Atomics.store(w.on, s, c.id)
  }

  /** disableTracking (CLIENT TRACKING OFF, RESET, a client that leaves). */
  disable (ctx: ClientContext): void {
    const c = ctx as unknown as Connection
    const t = c.trk
    if (t === null) return
    const w = this.words
    if ((t.flags & T_BCAST) !== 0) {
      this.bcast.delete(c)
      if (this.producer < MAX_PRODUCERS) Atomics.sub(w.g, G_BCAST_OF + this.producer, 1)
      Atomics.sub(w.g, G_BCAST, 1)
      if (t.prefixes.length > 0) this.tellPrefixes(-1, t.prefixes)
    }
    c.trk = null
    Atomics.sub(w.g, G_CLIENTS, 1)
    if (c.slot !== 0) { Atomics.store(w.on, c.slot, 0); w.opts[c.slot] = 0; w.redir[c.slot] = 0 }
  }

  /** The hub counts distinct BCAST prefixes over every thread (INFO tracking_total_prefixes). */
  private tellPrefixes (delta: number, names: readonly Buffer[]): void {
    const d = Buffer.allocUnsafe(4)
    d.writeInt32LE(delta)
    this.router.sendNoReply(0, this.pfx.id, [Buffer.from(this.pfx.name), d, ...names])
  }

  caching (ctx: ClientContext, argv: Argv, out: ReplyWriter): void {
    const c = ctx as unknown as Connection
    const t = c.trk
    if (t === null) { out.raw(ERR_CACHING); return }
    const { buf, start, len } = argv
    if (equalsLower(buf, start[2], len[2], TOK_YES)) {
      if ((t.flags & T_OPTIN) === 0) { out.raw(ERR_CACHING_YES); return }
    } else if (equalsLower(buf, start[2], len[2], TOK_NO)) {
      if ((t.flags & T_OPTOUT) === 0) { out.raw(ERR_CACHING_NO); return }
    } else { out.raw(SYNTAX_ERR); return }
    t.flags |= T_CACHING
    this.syncReq(t)
    out.raw(OK)
  }

  static getredir (c: ClientContext, out: ReplyWriter): void { out.int(c.trk === null ? -1 : c.trk.redir) }

  static trackinginfo (c: ClientContext, out: ReplyWriter): void {
    const t = c.trk
    const f = t === null ? 0 : t.flags
    const flags = [t === null ? 'off' : 'on']
    if ((f & T_BCAST) !== 0) flags.push('bcast')
    if ((f & T_OPTIN) !== 0) { flags.push('optin'); if ((f & T_CACHING) !== 0) flags.push('caching-yes') }
    if ((f & T_OPTOUT) !== 0) { flags.push('optout'); if ((f & T_CACHING) !== 0) flags.push('caching-no') }
    if ((f & T_NOLOOP) !== 0) flags.push('noloop')
    if ((f & T_BROKEN) !== 0) flags.push('broken_redirect')
    out.mapHeader(3)
    out.bulkStr('flags')
    out.setHeader(flags.length)
    for (const s of flags) out.bulkStr(s)
    out.bulkStr('redirect')
    out.int(t === null ? -1 : t.redir)
    out.bulkStr('prefixes')
    const prefixes = t?.prefixes ?? []
    out.arrayHeader(prefixes.length)
    for (const p of prefixes) out.bulkBuf(p)
  }

  // --- delivery --------------------------------------------------------------------------------

  /** A RESP_PUSH record of kind PUSH_TRACKING from shard `link`: | 4 | op | .. | slot | id | aux | rest |. */
  onPush (link: ShardLink | null, src: Uint8Array, start: number, len: number): void {
    const op = src[start + 1]
    const u32 = (at: number): number => (src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24)) >>> 0
    const slot = u32(start + 4)
    const id = u32(start + 8) | 0
    const aux = u32(start + 12) | 0
    if (op === TRK_BCAST) { this.takeBcast(slot, aux, src, start + 16); return }
    if (op === TRK_RELAY) { this.onRelay(src, start, len); return }
    const conn = this.bySlot.get(slot)
    if (conn === undefined || conn.id !== id || conn.isClosed) return
    if (op === TRK_BROKEN) { this.broken(conn, aux); return }
    const isAfter = src[start + 2] === TRK_AFTER
    if (op === TRK_NULL) {
      if (aux === 1 || conn.trk !== null) this.deliver(conn, link, aux === 1, null, isAfter)
      return
    }
    if (op !== TRK_KEY) return
    const key = Buffer.from(src.subarray(start + 16, start + len))
    if (aux === 1) { this.deliver(conn, link, true, keysArray([key]), isAfter); return }
    if (conn.trk !== null) this.deliver(conn, link, false, keysArray([key]), isAfter)
  }

  /** sendTrackingMessage for client c: to its REDIRECT target, or to itself (RESP3 only). keys null: the null of a flush. */
  private send (c: Connection, link: ShardLink | null, keys: Buffer | null): void {
    const t = c.trk
    if (t === null) return
    if (t.redir === 0) { this.deliver(c, link, false, keys); return }
    const w = this.words
    const rs = c.slot === 0 ? 0 : w.rslot[c.slot]
    if (rs === 0 || Atomics.load(w.conn, rs) !== t.redir) { this.broken(c, t.redir); return }
    const target = this.bySlot.get(rs)
    if (target !== undefined && target.id === t.redir) { this.deliver(target, link, true, keys); return }
    // A target on another I/O thread: shard 0 passes the record on to that thread.
    const head = Buffer.allocUnsafe(16)
    head[0] = PUSH_TRACKING
    head[1] = TRK_RELAY
    head[2] = keys === null ? 1 : 0
    head[3] = 0
    head.writeUInt32LE(rs, 4)
    head.writeUInt32LE(t.redir >>> 0, 8)
    head.writeUInt32LE(1, 12)
    this.router.sendNoReply(0, this.relay.id, [Buffer.from(this.relay.name), keys === null ? head : Buffer.concat([head, keys])])
  }

  /** The REDIRECT target is gone: flag it; a RESP3 client hears of it. */
  private broken (c: Connection, redir: number): void {
    const t = c.trk
    if (t === null || t.redir !== redir) return
    t.flags |= T_BROKEN
    if (c.resp === 3) this.place(c, null, Buffer.from(`>2\r\n$21\r\ntracking-redir-broken\r\n:${redir}\r\n`))
  }

  /** The message itself: a RESP3 push, or a RESP2 `message` for a redirect target in subscribed mode. */
  private deliver (conn: Connection, link: ShardLink | null, isRedirect: boolean, keys: Buffer | null, isAfter = false): void {
    let bytes: Buffer
    if (conn.resp === 3) bytes = Buffer.concat([PUSH_HEAD, keys ?? NULL3])
    else if (isRedirect && conn.isSubscribed) bytes = Buffer.concat([MESSAGE_HEAD, keys ?? NULL2])
    else return
    this.place(conn, link, bytes, isAfter)
  }

  /** Before the first reply `link` owes conn; isAfter (conn's own write): after the reply to it. */
  private place (conn: Connection, link: ShardLink | null, bytes: Buffer, isAfter = false): void {
    if (conn.isClosed || conn.isClosing) return
    const seq = link === null ? -1 : link.firstSeqOf(conn, conn.slot)
    if (isAfter) conn.deliverAfter(seq, bytes)
    else conn.deliverBefore(seq, bytes)
    this.router.markDirty(conn)
    if (conn.isOverOutputLimit()) conn.kill()
  }

  /** A relayed record (from shard 0) for a REDIRECT target of this thread: head[2] = 1 for a null. */
  onRelay (src: Uint8Array, start: number, len: number): void {
    const slot = (src[start + 4] | (src[start + 5] << 8) | (src[start + 6] << 16) | (src[start + 7] << 24)) >>> 0
    const id = (src[start + 8] | (src[start + 9] << 8) | (src[start + 10] << 16) | (src[start + 11] << 24))
    const conn = this.bySlot.get(slot)
    if (conn === undefined || conn.id !== id) return
    this.deliver(conn, null, true, src[start + 2] === 1 ? null : Buffer.from(src.subarray(start + 16, start + len)))
  }

  /** Takes what the shards have published (invalidations among it), and sends this turn's BCAST messages now. */
  takePublished (links: readonly ShardLink[]): void {
    for (const l of links) l.drain()
    this.flushBcast()
  }

  // --- BCAST -----------------------------------------------------------------------------------

  private takeBcast (writer: number, n: number, src: Uint8Array, at: number): void {
    if (this.bcast.size === 0) return
    if (this.pendingBcast === null) {
      this.pendingBcast = new Map()
      queueMicrotask(this.flushBcast)
    }
    for (let i = 0; i < n; i++) {
      const l = (src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24)) >>> 0
      const key = Buffer.from(src.subarray(at + 4, at + 4 + l)).toString('latin1')
      // Redis keeps the last client to modify the key (NOLOOP leaves out its own).
      this.pendingBcast.set(key, writer)
      at += 4 + l
    }
  }

  /** trackingBroadcastInvalidationMessages: per client, per prefix, the matching keys, sorted. */
  private readonly flushBcast = (): void => {
    const pending = this.pendingBcast
    this.pendingBcast = null
    if (pending === null) return
    const keys = [...pending.keys()].map(k => Buffer.from(k, 'latin1')).sort(Buffer.compare)
    for (const c of this.bcast) {
      const t = c.trk
      if (t === null) continue
      const noloop = (t.flags & T_NOLOOP) !== 0
      for (const p of t.prefixes) {
        const matched: Buffer[] = []
        for (const k of keys) {
          if (k.length < p.length || (p.length > 0 && k.compare(p, 0, p.length, 0, p.length) !== 0)) continue
          if (noloop && pending.get(k.toString('latin1')) === c.slot) continue
          matched.push(k)
        }
        if (matched.length > 0) this.send(c, null, keysArray(matched))
      }
    }
  }
}
