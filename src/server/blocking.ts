// Blocking list commands whose keys live on several shards (BLPOP a b with a and b apart, BLMOVE
// from one shard to another). One shard's keys need nothing here: the shard blocks the client
// itself, serves it in order when a push comes and keeps its deadline (workers/shard-worker.ts).
//
// Across shards the connection's thread runs a loop:
// 1. try: the command's non-blocking form (LPOP/RPOP per key in order, LMPOP, LMOVE) inside a
//    transaction holding every shard involved, so it is atomic like any cross-shard command;
// 2. nothing there: wait, one __bwait per shard (the source's only, for BLMOVE). A shard answers
//    +READY at once if a key already is a list (a push between 1 and 2 is never missed), or
//    blocks it as a notify-only waiter and answers when a push makes one;
// 3. the first +READY cancels the other waits (__unblock) and goes back to 1.
// The deadline is a timer here. Unlike a one-shard wait, another client may take the element
// between the +READY and the retry; the blocked client then simply waits again.

import { Buffer } from 'node:buffer'
import type { Connection } from './connection.js'
import type { ReplyTarget } from './shard-link.js'
import { ShardLink as Link } from './shard-link.js'
import type { Router } from './router.js'
import { Txn } from './txn.js'
import type { Argv } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { internalCommand } from '../commands/table.js'
import { blockingArgsError, blockingTry, blmpopWhereCount, CANCELLED } from '../commands/list.js'
import { HEAD, TAIL } from '../storage/list.js'
import { BLOCK_POP, BLOCK_MPOP, BLOCK_NOTIFY, BLOCK_ZPOP, BLOCK_ZMPOP } from '../storage/shard.js'
import { zsetBlockingArgsError, zsetBlockingTry, bzmpopWhereCount } from '../commands/zset.js'

function isZsetPop (name: string): boolean { return name === 'bzpopmin' || name === 'bzpopmax' || name === 'bzmpop' }
function isStreamRead (name: string): boolean { return name === 'xread' || name === 'xreadgroup' }
import { claimWords, WATCH_TAGS } from './credits.js'
import { shardOfKey } from '../storage/hash.js'
import { timeoutMillis } from '../commands/float.js'
import { SHARD_DOWN, UNBLOCKED } from '../protocol/errors.js'
import { isErrorReply } from '../commands/txn-helpers.js'
import { REQ_NOPARK } from '../ipc/layout.js'
import { CROSS_BLOCKED, CROSS_BLOCKED_TIMED } from './shared-state.js'
import { argvOf } from '../commands/txn-helpers.js'
import { streamBlockArgs } from '../commands/stream-block.js'
import { xreadTry, parseXread, BLOCKED_DEFAULT_COUNT } from '../commands/stream.js'
import { xreadgroupTry } from '../commands/stream-group.js'

const XBWAIT = internalCommand('__xbwait')
const NOGROUP_BLOCKED = Buffer.from('-NOGROUP the consumer group this client was blocked on no longer exists\r\n')
const NOGROUP_PREFIX = Buffer.from('-NOGROUP ')
function isNoGroup (r: Uint8Array): boolean { return Buffer.from(r.buffer, r.byteOffset, Math.min(r.length, NOGROUP_PREFIX.length)).equals(NOGROUP_PREFIX) }

const BWAIT = internalCommand('__bwait')
const READY = Buffer.from('+READY\r\n')
const NULL2 = Buffer.from('*-1\r\n')
const NULL3 = Buffer.from('_\r\n')

function arg (argv: Argv, i: number): Uint8Array { return argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]) }



export class CrossBlock implements ReplyTarget {
  private state: 'trying' | 'waiting' | 'done' = 'trying'
  private timer: NodeJS.Timeout | null = null
  /** Blocked with a timeout (counted for INFO's clients_in_timeout_table). */
  private isTimed = false
  /** Shards with a __bwait out (each answers once: +READY, or late after an __unblock). */
  private readonly waits = new Set<number>()
  private readonly keys: number[]
  /** Shards of the keys; for BLMOVE/BRPOPLPUSH the source's shard is the one waited on. */
  private readonly shards: number[]

  constructor (private readonly router: Router, private readonly conn: Connection, private readonly seq: number,
    private readonly cmd: Command, private argv: Argv, keys: number[]) {
    this.keys = keys
    const n = router.links.length
    const shards: number[] = []
    for (const k of keys) {
      const s = shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
      if (!shards.includes(s)) shards.push(s)
    }
    this.shards = shards.sort((a, b) => a - b)
    this.claims = claimWords(router.credits.sab)
  }

  /** Checks the arguments in Redis's order (the timeout before any key), then tries. */
  start (): void {
    const { argv } = this
    const name = this.cmd.name
    let t: number | string
    if (isStreamRead(name)) {
      // XREAD/XREADGROUP: their option errors first; key types and ids come with the first try.
      const ms = streamBlockArgs(name, argv)
      if (Buffer.isBuffer(ms)) { this.finish(ms); return }
      t = ms
    } else {
      const err = isZsetPop(name) ? zsetBlockingArgsError(name, argv) : blockingArgsError(name, argv)
      if (err !== null) { this.finish(err); return }
      const ti = name === 'blmpop' || name === 'bzmpop' ? 1 : name === 'blmove' ? 5 : argv.argc - 1
      t = timeoutMillis(argv.buf, argv.start[ti], argv.len[ti])
    }
    if (typeof t === 'number' && t > 0) {
      this.timer = setTimeout(() => this.timeOut(), t)
      this.timer.unref()
      this.isTimed = true
    }
    this.conn.crossBlock = this
    this.router.counters[CROSS_BLOCKED]++
    if (this.isTimed) this.router.counters[CROSS_BLOCKED_TIMED]++
    this.attempt()
  }

  private attempt (): void {
    if (this.state === 'done') return
    this.state = 'trying'
    const router = this.router
    const involved = this.shards
    for (const s of involved) if (router.links[s].isDead) { this.finish(SHARD_DOWN); return }
    const marker = router.txnMarker
    const bytes = Link.recordBytes(marker, null, 1)
    if (!involved.every(s => router.links[s].canTake(bytes))) {
      // Rings full: look again shortly (rare: a blocked client's retry is not urgent).
      setTimeout(() => this.attempt(), 1).unref()
      return
    }
    let result: Uint8Array | null = null
    const txn = new Txn(router, this.conn, -1, this.cmd, involved)
    const tickets = router.ticketsFor(involved, involved.length)
    involved.forEach((s, k) => {
      router.links[s].send(router.txnBeginId, REQ_NOPARK, this.conn.db, marker, null, 1, bytes, txn, s, this.conn.slot, tickets === null ? 0 : tickets[k])
      router.links[s].markSync()
    })
    const isRetry = this.hasTried
    this.hasTried = true
    txn.replyTo = reply => {
      if (isRetry && isStreamRead(this.cmd.name) && result !== null && isErrorReply(result)) {
        // A blocked stream reader is answered only with entries, or with NOGROUP when its group
        // went (serveClientsBlockedOnStreamKey); what else changed since, it waits through.
        if (isNoGroup(result)) { this.finish(NOGROUP_BLOCKED); return }
        if (this.pendingStop >= 0) { this.state = 'waiting'; this.finish(this.stopReply(this.pendingStop)); return }
        this.wait()
        return
      }
      if (result !== null || isErrorReply(reply)) this.finish(reply)
      else if (this.pendingStop >= 0) { this.state = 'waiting'; this.finish(this.stopReply(this.pendingStop)) }
      else this.wait()
    }
    txn.execute(this.argv, async tx => {
      const before = txn.changes()
      const name = this.cmd.name
      if (name === 'xread') {
        // A "$" stands for the last id at the first try: later tries wait after that id.
        // A retry serves as a blocked client is served: at most BLOCKED_DEFAULT_COUNT without COUNT.
        const r = await xreadTry(tx, this.argv, isRetry ? BLOCKED_DEFAULT_COUNT : 0)
        result = r.reply
        this.argv = r.argv
      } else if (name === 'xreadgroup') result = await xreadgroupTry(tx, this.argv, isRetry ? BLOCKED_DEFAULT_COUNT : 0, isRetry)
      else result = isZsetPop(name) ? await zsetBlockingTry(tx, name, this.argv) : await blockingTry(tx, name, this.argv)
      // Served (now or on a retry): Redis's dirty, as the command counts when it does not block.
      if (result !== null) txn.countCoord(this.cmd, this.argv, result, before)
      return result ?? Buffer.alloc(0)
    }).catch(err => router.onClientError(this.conn, err))
    router.scheduleTurn()
  }

  /** Nothing to pop: a __bwait on each shard involved (the source's for a move). */
  private wait (): void {
    if (this.state === 'done') return
    this.state = 'waiting'
    // The try found nothing: give up the place it held, then queue again.
    this.release()
    if (isStreamRead(this.cmd.name)) { this.waitStreams(); return }
    const router = this.router
    const n = router.links.length
    const isMove = this.cmd.name === 'blmove' || this.cmd.name === 'brpoplpush'
    const byShard = new Map<number, Uint8Array[]>()
    for (const k of isMove ? this.keys.slice(0, 1) : this.keys) {
      const key = arg(this.argv, k)
      const s = shardOfKey(key, 0, key.length, n)
      const list = byShard.get(s)
      if (list === undefined) byShard.set(s, [key]); else list.push(key)
    }
    // Pops are served by the shard where a push lands, in its waiters' order, once it wins the
    // slot's claim word from the other shards; a move (its destination may be elsewhere) is
    // only told, and tried again here.
    const meta = Buffer.alloc(16)
    this.waitId = isMove ? 0 : ((Atomics.add(router.credits.watch, WATCH_TAGS, 1) + 1) & 0x7fffffff) || 1
    const name = this.cmd.name
    let kind = isMove ? BLOCK_NOTIFY : name === 'blmpop' ? BLOCK_MPOP : BLOCK_POP
    let where = name === 'brpop' ? TAIL : HEAD
    let count = 1
    if (name === 'blmpop') ({ where, count } = blmpopWhereCount(this.argv))
    // Sorted-set pops: their kinds, with bit 31 set (the keys are sorted sets); where 1 = max.
    if (name === 'bzpopmin' || name === 'bzpopmax') { kind = (BLOCK_ZPOP | 0x80000000) >>> 0; where = name === 'bzpopmax' ? 1 : 0 }
    if (name === 'bzmpop') {
      const z = bzmpopWhereCount(this.argv)
      kind = (BLOCK_ZMPOP | 0x80000000) >>> 0
      where = z.isMax ? 1 : 0
      count = z.count
    }
    meta.writeUInt32LE(this.waitId, 0)
    meta.writeUInt32LE(kind, 4)
    meta.writeUInt32LE(where, 8)
    meta.writeUInt32LE(Math.min(count, 0xffffffff), 12)
    if (!isMove) Atomics.store(this.claims, this.conn.slot, this.waitId)
    for (const [s, keys] of byShard) {
      const link = router.links[s]
      const rec = argvOf([Buffer.from(BWAIT.name), meta, ...keys])
      const bytes = Link.recordBytes(rec, null, rec.argc)
      if (link.isDead || !link.canTake(bytes)) continue
      this.waits.add(s)
      link.send(BWAIT.id, router.flags(this.conn) | REQ_NOPARK, this.conn.db, rec, null, rec.argc, bytes, this, s, this.conn.slot)
    }
    if (this.waits.size === 0) setTimeout(() => this.attempt(), 1).unref()
    router.scheduleTurn()
  }

  /**
   * XREAD/XREADGROUP: one __xbwait per shard with its keys and ids (the group's for XREADGROUP),
   * each answering +READY once XADD gives a key something to read; then the read is tried again.
   */
  private waitStreams (): void {
    const router = this.router
    const argv = this.argv
    const a = parseXread(argv, this.cmd.name === 'xreadgroup')
    if (Buffer.isBuffer(a)) { this.finish(a); return }
    const group = a.group === 0 ? new Uint8Array(0) : arg(argv, a.group)
    const byShard = new Map<number, Uint8Array[]>()
    for (let i = 0; i < a.nstreams; i++) {
      const key = arg(argv, a.streams + i)
      const s = shardOfKey(key, 0, key.length, router.links.length)
      const list = byShard.get(s)
      const pair = [key, arg(argv, a.streams + a.nstreams + i)]
      if (list === undefined) byShard.set(s, pair); else list.push(...pair)
    }
    this.waitId = 0
    for (const [s, pairs] of byShard) {
      const link = router.links[s]
      const rec = argvOf([Buffer.from(XBWAIT.name), group, ...pairs])
      const bytes = Link.recordBytes(rec, null, rec.argc)
      if (link.isDead || !link.canTake(bytes)) continue
      this.waits.add(s)
      link.send(XBWAIT.id, router.flags(this.conn) | REQ_NOPARK, this.conn.db, rec, null, rec.argc, bytes, this, s, this.conn.slot)
    }
    if (this.waits.size === 0) setTimeout(() => this.attempt(), 1).unref()
    router.scheduleTurn()
  }

  /** A __bwait answered: +READY (try again), or the late reply of one we cancelled. */
  /**
   * A __bwait answered: a pop served there (the reply), +READY (a move: try again), or the late
   * answer of one that another shard's service or a cancellation made moot.
   */
  onReply (shard: number, src: Uint8Array, start: number, len: number): void {
    this.waits.delete(shard)
    if (this.state === 'done') return
    const reply = Buffer.from(src.subarray(start, start + len))
    if (reply.equals(READY)) {
      // That shard keeps this client's place at the head of its queue until released.
      this.notifiedShard = shard
      if (this.state !== 'waiting') { this.release(); return }
      this.cancelWaits(2)
      this.attempt()
      return
    }
    if (reply.equals(CANCELLED) || reply.equals(NULL2) || reply.equals(NULL3)) return
    // Served (or an error such as WRONGTYPE from the shard that won the claim).
    this.cancelWaits(2)
    this.finish(reply)
  }

  onBlocked (): void { this.conn.onBlocked() }

  private cancelWaits (mode: number): void {
    for (const s of this.waits) this.sendUnblock(s, mode)
    this.router.scheduleTurn()
  }

  private sendUnblock (s: number, mode: number): void { this.router.sendUnblock(s, this.conn.slot, mode) }

  private timeOut (): void {
    this.timer = null
    if (this.state !== 'done') this.stop(0)
  }

  /** CLIENT UNBLOCK (0: as a timeout, 1: the UNBLOCKED error) or the client left (2). */
  unblock (mode: number): boolean {
    if (this.state === 'done') return false
    this.stop(mode)
    return true
  }

  /** Ends the wait with the timeout reply (mode 0, 2) or UNBLOCKED (1); a running try ends first. */
  private stop (mode: number): void {
    if (this.state === 'trying') { this.pendingStop = mode; return }
    // A shard that already won the claim has popped for this client: its reply is the answer.
    if (this.waitId !== 0 && Atomics.compareExchange(this.claims, this.conn.slot, this.waitId, 0) !== this.waitId) return
    this.cancelWaits(2)
    this.finish(this.stopReply(mode))
  }

  /** A shard that told this move +READY and holds its place until released (-1: none). */
  private notifiedShard = -1

  /** Lets the waiters behind this move on the notified shard go (after its try, or when it ends). */
  private release (): void {
    if (this.notifiedShard < 0) return
    this.sendUnblock(this.notifiedShard, 2)
    this.notifiedShard = -1
    this.router.scheduleTurn()
  }

  /** The id in the slot's claim word while pops wait on shards (0: none, or a move). */
  private waitId = 0
  private readonly claims: Int32Array

  /** A first try has run: later ones are retries after a wake-up. */
  private hasTried = false

  /** Set when a stop came while a try ran: how to end if the try finds nothing. */
  private pendingStop = -1

  private stopReply (mode: number): Buffer {
    if (mode === 1) return UNBLOCKED
    return this.conn.resp === 3 ? Buffer.from('_\r\n') : Buffer.from('*-1\r\n')
  }

  private finish (reply: Uint8Array): void {
    if (this.state === 'done') return
    this.release()
    if (this.conn.crossBlock === this) {
      this.router.counters[CROSS_BLOCKED]--
      if (this.isTimed) this.router.counters[CROSS_BLOCKED_TIMED]--
    }
    this.state = 'done'
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    this.conn.onReply(this.seq, reply, 0, reply.length)
  }
}
