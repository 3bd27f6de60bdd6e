// Cross-shard transactions: the coordinated path for commands whose keys live on several shards
// and that must look atomic (RENAME, COPY, MSETNX, LMOVE... and MULTI/EXEC with WATCH). The
// router stages a __txn marker on every shard involved, in one synchronous step like any
// multi-shard command. Each shard, on reaching it, lends its databases (server/engine.ts),
// acknowledges and parks; once every shard is held, the command's coord handler runs its steps
// right here, synchronously, on the lent databases, and the release hands them back with the
// steps' effects. A transaction made `remote` (one with a command the engine cannot run inside)
// sends each step to its shard over the step port instead.
//
// No deadlock: markers are staged by one thread in one global order, so shard S is held by
// transaction X only after every earlier transaction on S is done, and the earliest open
// transaction always has all of its shards.

import { Buffer } from 'node:buffer'
import type { ReplyTarget } from './shard-link.js'
import type { Router } from './router.js'
import type { Connection } from './connection.js'
import type { Argv, TxnContext } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { REQ_AOF_TO_TXN } from '../ipc/layout.js'
import { commandByName, commands } from '../commands/table.js'
import { shardOfKey } from '../storage/hash.js'
import { SHARD_DOWN, errorReply } from '../protocol/errors.js'
import { borrow, NOTHING_LENT, type LentShard } from './engine.js'
import { AofLog, gateOwnDebt } from '../persistence/aof.js'
import { dirtyRules, dirtyOf, DIRTY_SET } from '../persistence/dirty.js'

const EMIT = commandByName('__emit')
const dirtyRule = dirtyRules(commands)

type Waiter = (reply: Buffer) => void

export class Txn implements ReplyTarget, TxnContext {
  /** Takes the reply instead of the client (a blocking command's try, server/blocking.ts). */
  replyTo: ((reply: Uint8Array) => void) | null = null
  /** The database of the steps (EXEC sets it per queued command: SELECT may come between). */
  db: number
  /** The steps' protocol: the client's, or a script's after redis.setresp. */
  resp3: boolean
  private readonly waiters: Waiter[][]
  private readonly held: Promise<Buffer>[] = []
  /** Per shard: its lent databases, once it is held (local transactions only). */
  private readonly lent: Array<LentShard | null>
  /** Keyspace events the steps recorded on lent databases, in order, for one shard to send. */
  private readonly events: Buffer[] = []
  /** The client's slot while its reads are to be remembered (CLIENT TRACKING), else 0. */
  private readonly trackSlot: number

  /** Whose reads a script's redis.call remembers: a script that joined this hold has its own client. */
  trackSlotFor (conn: Connection): number {
    if (conn === this.conn) return this.trackSlot
    return conn.trk !== null && conn.trk.req !== 0 ? conn.slot : 0
  }
  /**
   * appendonly on: the effects of the steps run here, written as one MULTI/EXEC block to the file
   * the held shards append to, before any of them is released (persistence/aof.ts).
   */
  private aof: AofLog | null = null
  private aofFd = 0
  /**
   * The held shards' AOF bytes that a full disk kept out of the file: written before the block,
   * and what is still unwritten at the end goes back to one held shard, whose log retries (Redis
   * keeps aof_buf), so the file never gets a hole.
   */
  private aofRest: Uint8Array[] = []
  private aofRestUnits = 0

  /**
   * Redis's dirty of the cross-shard commands run here, each counted once by its own rule from
   * its reply (its steps count nothing): handed to one shard at release. Steps sent to a shard's
   * own thread (a remote transaction) are counted there instead, each by its rule.
   */
  private dirty = 0
  readonly addDirty = (n: number): void => { if (!this.isRemote) this.dirty += n }

  /** Steps that changed something so far, on every lent shard. */
  changes (): number {
    let n = 0
    for (const l of this.lent) if (l !== null) n += l.changes
    return n
  }

  /** A cross-shard command ran with `reply`: its dirty, when any step changed something since `before` (changes()). */
  countCoord (cmd: Command, argv: Argv, reply: Uint8Array, before: number): void {
    if (this.isRemote || this.changes() === before) return
    const rule = dirtyRule[cmd.id]
    if (rule !== DIRTY_SET) this.dirty += dirtyOf(rule, argv.argc, reply, 0)
  }

  /**
   * A command whose effect is not a keyspace write (FUNCTION LOAD/DELETE/FLUSH/RESTORE) goes into
   * the transaction's AOF block as the client sent it, as Redis propagates it.
   */
  logCommand (argv: Argv): void { this.aof?.argv(this.db, argv) }

  /** `isRemote`: every step goes to its shard (a command the engine cannot run is inside). */
  constructor (private readonly router: Router, readonly conn: Connection, readonly seq: number,
    private readonly cmd: Command, readonly shards: readonly number[], private readonly isRemote = false) {
    this.db = conn.db
    this.resp3 = conn.resp === 3
    // CLIENT TRACKING as it stood when the command came (CACHING covers this one command).
    this.trackSlot = conn.trk !== null && conn.trk.req !== 0 ? conn.slot : 0
    this.waiters = router.links.map(() => [])
    this.stepsToLog = new Int32Array(router.links.length)
    this.lent = router.links.map(() => null)
    for (const s of shards) this.held.push(this.expect(s))
  }

  private expect (shard: number): Promise<Buffer> {
    return new Promise(resolve => this.waiters[shard].push(resolve))
  }

  private readonly acked = new Set<number>()

  onReply (shard: number, src: Uint8Array, start: number, len: number): void {
    // The first reply from a shard is its hold acknowledgement: from now on it answers steps only.
    if (!this.acked.has(shard)) {
      this.acked.add(shard)
      if (src[start] !== 45) {
        const lend = this.router.links[shard].beginHold()
        if (lend.aofRest !== undefined) { this.aofRest.push(lend.aofRest); this.aofRestUnits += lend.aofRestUnits ?? 0 }
        if (lend.aofFd !== undefined && lend.aofFd > 0 && this.aof === null) {
          this.aofFd = lend.aofFd
          this.aof = new AofLog(1024)
          this.aof.beginUnit()
        }
        if (!this.isRemote) {
          const l = this.lent[shard] = borrow(lend, this.events, this.aof)
          l.trackSlot = this.trackSlot
        }
      }
    }
    // A step whose effects this transaction logs: the shard posted them just before this reply.
    else if (this.stepsToLog[shard] > 0) {
      this.stepsToLog[shard]--
      const m = this.router.links[shard].takeStepAof()
      if (m !== undefined && m.aof !== null) this.aof?.raw(m.db, m.aof, m.n, m.end)
    }
    const w = this.waiters[shard].shift()
    w?.(Buffer.from(src.subarray(start, start + len)))
  }

  /**
   * Per shard, the steps in flight whose effects come to this transaction's log (REQ_AOF_TO_TXN):
   * their replies come before the release's acknowledgement, which brings no effects.
   */
  private readonly stepsToLog: Int32Array

  /**
   * A remote transaction with the AOF on logs its steps' effects itself, in the order their
   * replies come (steps in flight at once touch keys of different shards), as one block.
   */
  get logsSteps (): boolean { return this.isRemote && this.aof !== null }

  /** A command the shards ran but did not log (FLUSHALL, FLUSHDB, SWAPDB): one copy in its place. */
  logArgv (db: number, argv: Argv): void { this.aof?.argv(db, argv) }

  shardOf (buf: Uint8Array, start: number, len: number): number {
    return shardOfKey(buf, start, len, this.router.links.length)
  }

  async run (shard: number, name: string, args: readonly Uint8Array[], db = this.db): Promise<Buffer> {
    if (!this.shards.includes(shard)) throw new Error(`transaction does not hold shard ${shard}`)
    const link = this.router.links[shard]
    if (link.isDead) return SHARD_DOWN
    const cmd = commandByName(name)
    const lent = this.lent[shard]
    if (lent !== null) return lent.run(cmd, db, this.resp3, args)
    return await this.step(shard, cmd, db, args)
  }

  /**
   * Runs a command in place on a lent shard (a script's redis.call, its whole argv with the name
   * first, as a client sends it); null when the shard is not lent. `isView`: LentShard.runArgv's.
   */
  runLent (shard: number, cmd: Command, db: number, argv: Argv, trackSlot = this.trackSlot, isView = false): Buffer | null {
    const lent = this.lent[shard]
    if (lent === null || this.router.links[shard].isDead) return null
    lent.trackSlot = trackSlot
    const r = lent.runArgv(cmd, db, this.resp3, argv, true, isView)
    lent.trackSlot = this.trackSlot
    return r
  }

  /** runLent would run on this shard (it is lent and alive). */
  isLent (shard: number): boolean {
    return this.lent[shard] !== null && !this.router.links[shard].isDead
  }

  /**
   * Runs a command on every held shard's own thread (a script's FLUSHALL, FLUSHDB or SWAPDB, whose
   * effects on WATCH, CLIENT TRACKING, blocked clients and lazy freeing belong there): each lent
   * shard takes back what the steps so far did to it, as at a release, runs the command, and
   * lends its databases again; the hold goes on. The command goes into the transaction's AOF
   * block in its place, unless it failed (the shards log none of it). Each shard's reply, in shard order.
   */
  async runOnShards (cmd: Command, db: number, argv: Argv): Promise<Buffer[]> {
    const args: Uint8Array[] = []
    for (let i = 1; i < argv.argc; i++) args.push(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))
    const replies = await Promise.all(this.shards.map(async s => {
      const link = this.router.links[s]
      if (link.isDead) return SHARD_DOWN
      const lent = this.lent[s]
      if (lent === null) return await this.step(s, cmd, db, args)
      this.lent[s] = null
      link.relend(lent.finish(), this.aof !== null)
      const reply = await this.step(s, cmd, db, args)
      if (link.isDead) return reply
      const l = this.lent[s] = borrow(link.takeLend(), this.events, this.aof)
      l.trackSlot = this.trackSlot
      return reply
    }))
    // Nothing else ran meanwhile (the script waits for this): its place in the block. Not if it failed.
    if (replies.every(r => r[0] !== 45)) this.aof?.argv(db, argv)
    return replies
  }

  /** Runs a command on the shard's own thread even while it is lent (pub/sub, the script store). */
  async runRemote (shard: number, cmd: Command, db: number, args: readonly Uint8Array[]): Promise<Buffer> {
    if (!this.shards.includes(shard)) throw new Error(`transaction does not hold shard ${shard}`)
    if (this.router.links[shard].isDead) return SHARD_DOWN
    return await this.step(shard, cmd, db, args)
  }

  /** Runs a step on the shard's own thread. */
  private async step (shard: number, cmd: Command, db: number, args: readonly Uint8Array[]): Promise<Buffer> {
    const link = this.router.links[shard]
    const reply = this.expect(shard)
    const toTxn = this.logsSteps
    if (toTxn) this.stepsToLog[shard]++
    link.sendStep(cmd.id, db, this.resp3, [Buffer.from(cmd.name.includes('|') ? cmd.name.slice(0, cmd.name.indexOf('|')) : cmd.name), ...args], this, shard,
      toTxn ? REQ_AOF_TO_TXN : 0)
    return await reply
  }

  reserve (shard: number, bytes: number, db = this.db): boolean {
    const lent = this.lent[shard]
    return lent === null || lent.reserve(db, bytes)
  }

  /** Waits until every shard is held, runs the command's coord handler, releases, replies. */
  async execute (argv: Argv, coord = this.cmd.coord as NonNullable<Command['coord']>): Promise<void> {
    let reply: Uint8Array
    const acks = await Promise.all(this.held)
    const down = acks.find(a => a[0] === 45)
    if (down !== undefined) {
      reply = down
    } else {
      try {
        const before = this.changes()
        reply = await coord(this, argv)
        if (coord === this.cmd.coord) this.countCoord(this.cmd, argv, reply, before)
      } catch (err) {
        reply = errorReply(`ERR internal error in '${this.cmd.name}': ${(err as Error).message}`)
      }
    }
    let rest: { bytes: Uint8Array, units: number } | null = null
    let owed = 0
    if (this.aof !== null) {
      this.aof.endUnit()
      if (this.aofRest.length > 0) this.aof.adopt(Buffer.concat(this.aofRest), this.aofRestUnits)
      // Under always the block is synced with this thread's other replies, once per turn
      // (passGate), and the shards owe it for theirs: a sync per transaction cost one each.
      this.aof.flush(this.aofFd, false)
      owed = gateOwnDebt()
      rest = this.aof.take()
    } else if (this.aofRest.length > 0) {
      rest = { bytes: Buffer.concat(this.aofRest), units: this.aofRestUnits }
    }
    // The events go to the hub before any shard runs anything else, so they come before the
    // events of whatever follows the transaction, on any shard.
    const by = this.shards.find(s => !this.router.links[s].isDead && this.acked.has(s))
    if (this.events.length > 0 && by !== undefined) await this.step(by, EMIT, 0, this.events)
    const applied: Array<Promise<Buffer>> = []
    for (const s of this.shards) {
      const link = this.router.links[s]
      const lent = this.lent[s]
      if (link.isDead || !this.acked.has(s)) continue
      let r = lent === null ? NOTHING_LENT : lent.finish()
      if (rest !== null) { r = { ...r, aofRest: rest.bytes, aofRestUnits: rest.units }; rest = null }
      if (owed !== 0) r = { ...r, aofOwed: owed, aofOwedFd: this.aofFd }
      if (this.dirty !== 0) { r = { ...r, dirty: (r.dirty ?? 0) + this.dirty }; this.dirty = 0 }
      if (r.isAcked) applied.push(this.expect(s))
      link.release(r, r.isAcked ? this : null, s)
    }
    // Watched keys were touched: the reply waits until their shards have marked the watchers.
    if (applied.length > 0) await Promise.all(applied)
    if (this.replyTo !== null) this.replyTo(reply)
    else this.conn.onReply(this.seq, reply, 0, reply.length)
    this.router.afterTxn()
  }
}
