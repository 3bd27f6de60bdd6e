// Cross-shard transactions: the coordinated path for commands whose keys live on several shards
// and that must look atomic (RENAME, COPY, MSETNX, LMOVE...). The router stages a __txn marker
// on every shard involved, in one synchronous step like any multi-shard command. Each shard,
// on reaching it, parks in a held loop; the command's coord handler then runs steps on the
// held shards (over each shard's step port) and the transaction releases them with __txnend.
//
// No deadlock: markers are staged by one thread in one global order, so shard S is held by
// transaction X only after every earlier transaction on S is done, and the earliest open
// transaction always has all of its shards.

import type { ReplyTarget } from './shard-link.js'
import type { Router } from './router.js'
import type { Connection } from './connection.js'
import type { Argv, TxnContext } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { commandByName, internalCommand } from '../commands/table.js'
import { shardOfKey } from '../storage/hash.js'
import { SHARD_DOWN, errorReply } from '../protocol/errors.js'

const TXN_END = internalCommand('__txnend')

type Waiter = (reply: Buffer) => void

export class Txn implements ReplyTarget, TxnContext {
  /** Takes the reply instead of the client (a blocking command's try, server/blocking.ts). */
  replyTo: ((reply: Uint8Array) => void) | null = null
  /** The database of the steps (EXEC sets it per queued command: SELECT may come between). */
  db: number
  readonly resp3: boolean
  private readonly waiters: Waiter[][]
  private readonly held: Promise<Buffer>[] = []

  constructor (private readonly router: Router, readonly conn: Connection, private readonly seq: number,
    private readonly cmd: Command, readonly shards: readonly number[]) {
    this.db = conn.db
    this.resp3 = conn.resp === 3
    this.waiters = router.links.map(() => [])
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
      if (src[start] !== 45) this.router.links[shard].beginHold()
    }
    const w = this.waiters[shard].shift()
    w?.(Buffer.from(src.subarray(start, start + len)))
  }

  shardOf (buf: Uint8Array, start: number, len: number): number {
    return shardOfKey(buf, start, len, this.router.links.length)
  }

  async run (shard: number, name: string, args: readonly Uint8Array[], db = this.db): Promise<Buffer> {
    if (!this.shards.includes(shard)) throw new Error(`transaction does not hold shard ${shard}`)
    const link = this.router.links[shard]
    if (link.isDead) return SHARD_DOWN
    const cmd = commandByName(name)
    const reply = this.expect(shard)
    link.sendStep(cmd.id, db, this.resp3, [Buffer.from(cmd.name.includes('|') ? cmd.name.slice(0, cmd.name.indexOf('|')) : cmd.name), ...args], this, shard)
    return await reply
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
        reply = await coord(this, argv)
      } catch (err) {
        reply = errorReply(`ERR internal error in '${this.cmd.name}': ${(err as Error).message}`)
      }
    }
    for (const s of this.shards) {
      const link = this.router.links[s]
      if (!link.isDead) link.sendStep(TXN_END.id, 0, false, [], null, s)
    }
    if (this.replyTo !== null) this.replyTo(reply)
    else this.conn.onReply(this.seq, reply, 0, reply.length)
    this.router.afterTxn()
  }
}
