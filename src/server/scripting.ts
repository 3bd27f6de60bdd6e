// EVAL & co. on a producer thread (the primary or an I/O thread). A script holds every shard in
// one transaction (server/txn.ts), since it may touch keys it did not declare and Redis runs it
// atomically against everything; with several shards that is a hold of each.
//
// redis.call inside: a command whose keys live on one shard runs in place on that lent shard
// (Txn.runLent), synchronously, inside the Lua call. Anything else (a cross-shard RENAME or
// MSET, SCAN over shards, PUBLISH on the hub...) is planned and run as EXEC would run it
// (server/multi.ts planCall/runCall) while the script's coroutine waits (scripting/scripts.ts).
// FLUSHALL, FLUSHDB and SWAPDB run on each shard's own thread, which lends its databases again
// after (Txn.runOnShards). Each call is counted on this thread as Redis's call() counts it
// (scripting/call-checks.ts); the script itself once it has run (runBatch, Router.scriptRan).
//
// Inside a shard worker instead (scripting/in-shard.ts): at one shard every script; at several,
// a script whose declared keys all live on one shard (sendToShard). That one may stop there
// (it needs another shard: the worker undoes what it wrote) and then runs here held (ShardRun):
// until it is answered its client may send only more scripts for that worker (which the worker
// turns back unrun after a stop, so they run held after it, in order); the rest waits.
//
// Scripts are compiled per thread. Every body also goes to shard 0 (__script, commands/
// scripting.ts) before its first run or its SCRIPT LOAD reply, so an EVALSHA on another thread
// fetches it there; SCRIPT EXISTS asks shard 0; SCRIPT FLUSH bumps a shared count that makes
// every thread drop its compiled scripts before its next scripting command, and empties shard 0.

import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'
import type { Connection } from './connection.js'
import type { Router } from './router.js'
import { copyArgv, ignoreReply } from './router.js'
import type { ReplyTarget } from './shard-link.js'
import { ShardLink as Link } from './shard-link.js'
import { shardOfKey } from '../storage/hash.js'
import { REQ_NOPARK } from '../ipc/layout.js'
import { COMMANDS } from './shared-state.js'
import { checkCommand, denied, DENIED_CMD, DENIED_KEY } from './acl.js'
import type { Txn } from './txn.js'
import { engineRuns } from './engine.js'
import type { Argv, ClientContext, ServerContext, TxnContext } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { commands, commandOfArgv, internalCommand } from '../commands/table.js'
import { argsOf, argvOf, bulkPayload, bytesAt, intReply, isNullReply } from '../commands/txn-helpers.js'
import { errorReply, NOT_INTEGER, SHARD_DOWN } from '../protocol/errors.js'
import { OK } from '../protocol/replies.js'
import { SCRIPT_EPOCH_WORD, type ShardAsk } from '../ipc/layout.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { SCRIPT_BUSY, SCRIPT_FUNCTION, ScriptEngine, ShaMemo, killScript, sha1hex, type ScriptHost, type ScriptLog } from '../scripting/scripts.js'
import { Functions, type FcallRunner } from './functions.js'
import { BUSY_CHANNEL, callRefusal, countCall, countRefused, failsFirst, NOSCRIPT, selectedDb, type CallContext } from '../scripting/call-checks.js'
import { BroadcastChannel } from 'node:worker_threads'

/** Where the thread running a busy function tells the others about it (FUNCTION STATS). */
interface BusyFunction { name: string, argv: Uint8Array[], startMs: number, libs: number, fns: number }

const STORE = internalCommand('__script')
const TOO_MANY_KEYS = errorReply("ERR Number of keys can't be greater than number of args")
const NEGATIVE_KEYS = errorReply("ERR Number of keys can't be negative")
const FLUSH_SYNTAX = errorReply('ERR SCRIPT FLUSH only support SYNC|ASYNC option')
const NO_ENGINE = errorReply('ERR scripting is not available on this thread')
const ACL_SCRIPT_CMD = errorReply("ERR The user executing the script can't run this command or subcommand")
const ACL_SCRIPT_KEY = errorReply("ERR The user executing the script can't access at least one of the keys mentioned in the command arguments")
const ACL_SCRIPT_CHANNEL = errorReply("ERR The user executing the script can't publish to the channel mentioned in the command")
const NOTBUSY = errorReply('NOTBUSY No scripts in execution right now.')
const UNKILLABLE = errorReply('UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.')
export const BUSY = errorReply('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.')
/** BUSY while the busy script is a function (shared.slowscripterr). */
export const BUSY_FUNCTION = errorReply('BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.')
const B = (s: string): Buffer => Buffer.from(s, 'latin1')

function arg (argv: Argv, i: number): Buffer {
  return Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))
}

/** string2ll of argv[i]: an optional minus and digits, no spaces or plus, within int64. */
function parseStrictInt (argv: Argv, i: number): number | null {
  const b = argv.buf
  const start = argv.start[i]
  const len = argv.len[i]
  // The usual numkeys: one to nine digits, no sign, no leading zero, read where it lies (an
  // EVALSHA's numkeys used to be copied out twice per call).
  if (len > 0 && len < 10 && b[start] >= 49 && b[start] <= 57) {
    let v = 0
    for (let j = start; j < start + len; j++) {
      const d = b[j] - 48
      if (d < 0 || d > 9) return null
      v = v * 10 + d
    }
    return v
  }
  const s = arg(argv, i).toString('latin1')
  if (!/^(0|-?[1-9]\d*)$/.test(s) || s.length > 20) return null
  const v = BigInt(s)
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null
  return Number(v)
}

/** numkeys of EVAL*: the count, or Redis's error reply (evalGenericCommand's checks, in order). */
function numkeysOf (argv: Argv): number | Buffer {
  const n = parseStrictInt(argv, 2)
  if (n === null) return NOT_INTEGER
  if (n > argv.argc - 3) return TOO_MANY_KEYS
  if (n < 0) return NEGATIVE_KEYS
  return n
}

/** A script command waiting in a batch: its client, a copy of its arguments, its reply slot. */
interface Queued { conn: Connection, cmd: Command, argv: Argv, db: number, seq: number, reply: Uint8Array }
/** Scripts sharing one hold of every shard; open (others may join) until it starts. */
interface Batch { items: Queued[], isOpen: boolean, mark: number }
const BATCH_MAX = 256
const NO_REPLY = Buffer.alloc(0)

/** The commands a shard worker runs itself at one shard (scripting/in-shard.ts). */
const IN_SHARD = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro'])
/**
 * FLASHKV_SCRIPTS_IN_SHARD=0: every script takes the held path, at one shard too (a comparison in
 * bench/run.ts --held-scripts); =one: inside the worker at one shard only (workers/shard-worker.ts reads it too).
 */
const IS_IN_SHARD_ON = process.env.FLASHKV_SCRIPTS_IN_SHARD !== '0'
const IS_IN_SHARDS_ON = IS_IN_SHARD_ON && process.env.FLASHKV_SCRIPTS_IN_SHARD !== 'one'
/** Scripts (sha1) and functions ("f:" name) seen to need another shard, per thread: they go held at once. Cleared when full. */
const CROSS_MAX = 1024
/** Runs in a row stopped at a big value (kind 4) after which a script goes held for good. */
const BIG_STRIKES = 3

/**
 * A script sent to one shard's worker (several shards): its reply goes to the client, unless the
 * worker answers a rerun (a zero byte first, which no RESP reply starts with: the run stopped,
 * was turned back behind one that did, or the worker lacks the script); then it runs held,
 * under the same sequence number.
 */
class ShardRun implements ReplyTarget {
  /** The command's arguments, once the worker sent them back (a rerun). */
  argv: Argv | null = null
  /** The script had stopped at big writes lately (Scripting.bigStrikes): an answer here clears that. */
  strikeMemo: string | null = null

  constructor (private readonly scripting: Scripting, readonly conn: Connection, readonly cmd: Command,
    readonly db: number, readonly seq: number, readonly shard: number) {}

  onReply (_tag: number, src: Uint8Array, start: number, len: number): void {
    if (src[start] !== 0) {
      if (this.strikeMemo !== null) this.scripting.clearStrikes(this.strikeMemo)
      answered(this.conn, this.seq, src, start, len)
      return
    }
    // The worker's RERUN (workers/shard-worker.ts writeRerun): 0, kind (1: it needs another shard,
    // 2: turned back unrun, 3: the worker lacks the script, 4: a big value it could not keep for an
    // undo), u32 argc, then each argument as u32 length and bytes.
    const b = Buffer.from(src.subarray(start, start + len))
    const argc = b.readUInt32LE(2)
    const argvBack: Argv = { buf: b, argc, start: new Int32Array(argc), len: new Int32Array(argc) }
    let p = 6
    for (let i = 0; i < argc; i++) {
      const l = b.readUInt32LE(p)
      argvBack.start[i] = p + 4
      argvBack.len[i] = l
      p += 4 + l
    }
    this.argv = argvBack
    this.scripting.rerun(this, b[1])
  }
}

/** What a script is remembered by when it needs another shard: its sha1, or "f:" and its function's name. */
function memoOf (cmd: Command, argv: Argv): string {
  if (cmd.name === 'eval' || cmd.name === 'eval_ro') return sha1hex(arg(argv, 1))
  const name = arg(argv, 1).toString('latin1').toLowerCase()
  return cmd.name.startsWith('fcall') ? 'f:' + name : name
}

/** A script sent to a worker is answered (in the worker, or held after a stop). */
function answered (conn: Connection, seq: number, src: Uint8Array, start: number, len: number): void {
  if (--conn.scriptsOut === 0) { conn.isScriptStopped = false; conn.scriptShard = -1 }
  conn.onReply(seq, src, start, len)
}

export class Scripting implements FcallRunner {
  engine: ScriptEngine | null = null
  private readonly isInShard = Uint8Array.from(commands, c => IS_IN_SHARD_ON && IN_SHARD.has(c.name) ? 1 : 0)
  /** The commands that run a script or a function (their MONITOR line comes first: Router.dispatch). */
  readonly isRun = Uint8Array.from(commands, c => IN_SHARD.has(c.name) ? 1 : 0)
  /** FUNCTION and FCALL (server/functions.ts): libraries in a VM of their own, made on first use. */
  readonly functions: Functions
  /** The batch whose hold is on its way and that scripts may still join. */
  private batch: Batch | null = null
  /** The SCRIPT FLUSH count this thread's compiled scripts belong to. */
  private epoch = 0
  /** Scripts of this thread known to be on shard 0 (stored by this thread since the last flush). */
  private readonly onHub = new Set<string>()
  /** Their bodies (several shards: sent to another shard's worker before its first EVALSHA there). */
  private readonly bodies = new Map<string, Buffer>()
  /** Per shard, the scripts this thread sent its worker since the last flush. */
  private readonly shipped: Array<Set<string>> = []
  /** Scripts and functions that needed another shard when sent to one: held at once (CROSS_MAX). */
  private readonly crossShard = new Set<string>()
  /**
   * Scripts whose last runs in a worker stopped at a write to a big value the undo log cannot
   * undo (scripting/undo.ts), and how many times in a row: the rare one (BullMQ trimming its
   * completed set) still runs in the worker, and one that always does goes held for good
   * (crossShard) after BIG_STRIKES.
   */
  private readonly bigStrikes = new Map<string, number>()
  /** EVALSHA's sha1 as a string, made once per script sent again and again. */
  private readonly shaMemo = new ShaMemo()

  /** busy-reply-threshold in ms, read at each script's start (the server sets it). */
  busyMs: () => number = () => 5000
  /**
   * The script-state word every producer thread shares (SCRIPT_BUSY...; the server sets it
   * before init): non-zero while a script is past busy-reply-threshold, on any thread.
   */
  state: Int32Array = new Int32Array(1)

  /**
   * The busy function, as its thread published it (FUNCTION STATS on any thread while it runs):
   * its name, FCALL's arguments, its start, and the library counts of the thread running it.
   */
  private busyFunction: BusyFunction | null = null
  private readonly busyChannel = new BroadcastChannel(BUSY_CHANNEL)

  constructor (private readonly router: Router, private readonly words: Int32Array) {
    this.functions = new Functions(router, words, this)
    this.busyChannel.unref()
    this.busyChannel.onmessage = (e: unknown) => { this.busyFunction = (e as { data: BusyFunction | null }).data }
  }

  /** Creates this thread's VM: before the thread serves anyone. */
  async init (log: ScriptLog, version: string): Promise<void> {
    this.engine = await ScriptEngine.create(log, version)
    this.engine.state = this.state
    this.epoch = Atomics.load(this.words, SCRIPT_EPOCH_WORD) & 0xffff
    this.functions.log = log
    this.functions.evalEngine = this.engine
    this.functions.version = version
  }

  /** Another thread's SCRIPT FLUSH: drop what was compiled before it. */
  private sync (engine: ScriptEngine): void {
    // The low 16 bits count SCRIPT FLUSHes (the high ones, library changes: server/functions.ts).
    const e = Atomics.load(this.words, SCRIPT_EPOCH_WORD) & 0xffff
    if (e === this.epoch) return
    this.epoch = e
    engine.flush()
    this.onHub.clear()
    this.bodies.clear()
    this.shipped.length = 0
  }

  /**
   * A 'script' route command from a client (not in MULTI). What needs no shard is answered
   * here (bad numkeys, a compile error, a bad FLUSH option); the rest holds every shard.
   */
  dispatch (conn: Connection, cmd: Command, argv: Argv): boolean {
    const engine = this.engine
    if (engine === null) { conn.replyLocalBytes(NO_ENGINE); return true }
    if (cmd.name === 'script|kill' || cmd.name === 'function|kill') {
      // The busy script may be this thread's (between two of its slices) or another's.
      const r = killScript(this.state, cmd.name === 'script|kill')
      conn.replyLocalBytes(r === 'killed' ? OK : r === 'unkillable' ? UNKILLABLE : r === 'function' ? BUSY_FUNCTION : r === 'eval' ? BUSY : NOTBUSY)
      return true
    }
    const s = this.state[0]
    if (cmd.name === 'function|stats' && (s & SCRIPT_BUSY) !== 0) {
      // functionStatsCommand while a script runs: an EVAL's is refused; a function's is described
      // (by the thread running it; another I/O thread knows only its name's absence).
      if ((s & SCRIPT_FUNCTION) === 0) { conn.replyLocalBytes(BUSY); return true }
      const b = this.busyFunction
      const info = b === null ? null : { name: b.name, argv: b.argv.map(a => Buffer.from(a)), ms: Date.now() - b.startMs }
      conn.replyLocalBytes(this.functions.stats(b?.libs ?? 0, b?.fns ?? 0, conn.resp === 3, info))
      return true
    }
    // One shard: the script runs inside the shard's worker as one record (scripting/in-shard.ts),
    // which checks, compiles and stores what this thread would. Not for a restricted ACL user
    // (the worker has no ACL rules) nor while a script is busy.
    const isInShard = this.isInShard[cmd.id] !== 0 && conn.user.isAllPerms && (this.state[0] & SCRIPT_BUSY) === 0 &&
      !(cmd.name.startsWith('fcall') && this.functions.isStale())
    if (isInShard && this.router.links.length > 1 && IS_IN_SHARDS_ON) {
      const r = this.sendToShard(conn, cmd, argv, engine)
      if (r !== null) return r
    }
    // After scripts sent to a worker only another one for that worker goes (sendToShard): the
    // held path would run before a stopped one's rerun.
    if (conn.scriptsOut !== 0) { conn.isAwaitingHead = true; return false }
    if (isInShard && this.router.links.length === 1) {
      let err: Buffer | null = null
      if (cmd.name.startsWith('eval')) {
        // evalShaCommand checks the sha1's length before numkeys.
        const n = cmd.name.startsWith('evalsha') && argv.len[1] !== 40 ? NOSCRIPT : numkeysOf(argv)
        if (typeof n !== 'number') err = n
      }
      if (err !== null) { conn.replyLocalBytes(err); return true }
      // The worker publishes its commands' MONITOR lines itself (it is the hub): this one first,
      // once the ring can take the record (a send refused for a full ring is dispatched again
      // later, and its line would go out twice).
      const pubsub = this.router.pubsub
      if (pubsub.isMonitored) {
        const link = this.router.links[0]
        if (!link.isDead && !link.canTake(Link.recordBytes(argv, null, argv.argc))) { this.router.block(conn, link); return false }
        pubsub.feed(conn, argv, cmd, conn.db)
        pubsub.flushMonitorLines()
        this.router.isFed = true
      }
      return this.router.sendWhole(conn, cmd, argv, 0)
    }
    this.sync(engine)
    let err: Buffer | null = null
    switch (cmd.name) {
      case 'eval': case 'eval_ro': {
        const n = numkeysOf(argv)
        if (typeof n !== 'number') err = n
        else err = this.compile(engine, arg(argv, 1))
        break
      }
      case 'evalsha': case 'evalsha_ro': {
        // evalShaCommand checks the sha1's length before numkeys.
        const n = argv.len[1] !== 40 ? NOSCRIPT : numkeysOf(argv)
        if (typeof n !== 'number') err = n
        break
      }
      case 'script|load': err = this.compile(engine, arg(argv, 2)); break
      case 'script|flush': err = this.flushOption(argv); break
    }
    if (err !== null) { conn.replyLocalBytes(err); return true }
    // Nothing staged since the open batch's hold went out: this script may run inside that hold,
    // right after the scripts already in it, and no client can tell the difference.
    const router = this.router
    const open = this.batch
    if (open !== null && open.isOpen && open.items.length < BATCH_MAX && router.stagedCount() === open.mark) {
      open.items.push({ conn, cmd, argv: copyArgv(argv), db: conn.db, seq: conn.takeSeq(), reply: NO_REPLY })
      router.countsLater(cmd)
      return true
    }
    const batch: Batch = { items: [], isOpen: true, mark: 0 }
    const first: Queued = { conn, cmd, argv, db: conn.db, seq: -1, reply: NO_REPLY }
    batch.items.push(first)
    const sent = router.sendHeldAll(conn, cmd, argv, (tx, a) => this.runBatch(batch, tx, a), txn => {
      first.seq = txn.seq
      // Each script's reply goes out once the hold is released, in the batch's order.
      txn.replyTo = reply => {
        first.reply = reply
        // A batch that never ran (a shard went down) answers every script with the first's error.
        for (const q of batch.items) {
          const r = q.reply === NO_REPLY ? reply : q.reply
          q.conn.onReply(q.seq, r, 0, r.length)
        }
      }
    })
    if (sent === 'blocked') return false
    if (sent === 'staged') {
      batch.mark = router.stagedCount()
      this.batch = batch
      router.countsLater(cmd)
    }
    return true
  }

  /**
   * Several shards: a script whose declared keys all hash to one shard goes to that shard's
   * worker as one record; null leaves it to the held path (no keys, keys on several shards, a
   * script seen to need another shard, someone in MONITOR, a body this thread has not stored on
   * the hub, FCALL off the hub). Until its reply the client's next commands wait but scripts
   * for the same worker (Router.dispatchOne, conn.scriptsOut), since the script may yet run held.
   */
  private sendToShard (conn: Connection, cmd: Command, argv: Argv, engine: ScriptEngine): boolean | null {
    const router = this.router
    // The worker would publish its commands' lines itself, and only the hub can.
    if (router.pubsub.isMonitored) return null
    const isFcall = cmd.name.startsWith('fcall')
    let n: number
    if (isFcall) {
      // FCALL's own checks are the worker's (fcallChecks); a bad numkeys is the held path's to answer.
      const k = parseStrictInt(argv, 2)
      if (k === null || k < 0 || k > argv.argc - 3) return null
      n = k
    } else {
      // evalShaCommand checks the sha1's length before numkeys.
      const k = cmd.name.startsWith('evalsha') && argv.len[1] !== 40 ? NOSCRIPT : numkeysOf(argv)
      if (typeof k !== 'number') { conn.replyLocalBytes(k); return true }
      n = k
    }
    if (n === 0) return null
    const shards = router.links.length
    const s = shardOfKey(argv.buf, argv.start[3], argv.len[3], shards)
    for (let i = 4; i < 3 + n; i++) if (shardOfKey(argv.buf, argv.start[i], argv.len[i], shards) !== s) return null
    // The libraries live on the hub only.
    if (isFcall && s !== 0) return null
    this.sync(engine)
    let memo: string | null = null
    let ship: Buffer | null = null
    if (cmd.name === 'eval' || cmd.name === 'eval_ro') {
      memo = sha1hex(arg(argv, 1))
      // Its first run stores it on the hub, for every thread's EVALSHA: that one goes held.
      if (!this.onHub.has(memo)) return null
    } else if (!isFcall && s !== 0) {
      memo = this.shaMemo.of(argv)
      const shipped = this.shipped[s] ??= new Set()
      if (!shipped.has(memo)) {
        ship = this.bodies.get(memo) ?? null
        if (ship === null) return null
      }
    }
    if (this.crossShard.size !== 0 && this.crossShard.has(memo ?? memoOf(cmd, argv))) return null
    // Behind scripts sent to a worker: the same worker, none of them stopped, and a client slot
    // the worker can tell (it turns back that slot's scripts after a stop).
    if (conn.scriptsOut !== 0 && (s !== conn.scriptShard || conn.isScriptStopped || conn.slot === 0)) return null
    const link = router.links[s]
    if (link.isDead) return null
    const bytes = Link.recordBytes(argv, null, argv.argc)
    let store: Argv | null = null
    let storeBytes = 0
    if (ship !== null) {
      // The body first, in the same ring: that worker keeps it as the hub does (commands/scripting.ts).
      store = argvOf([B('__script'), B('store'), B(memo as string), ship])
      storeBytes = Link.recordBytes(store, null, store.argc)
    }
    if (!link.canTake(bytes + storeBytes)) { router.block(conn, link); return false }
    if (store !== null) {
      link.send(STORE.id, REQ_NOPARK, 0, store, null, store.argc, storeBytes, ignoreReply, 0, 0)
      this.shipped[s].add(memo as string)
    }
    const seq = conn.takeSeq()
    router.sentWholeId = cmd.id
    if (s === 0 && conn.subs !== null) (conn.hubSeqs ??= []).push(seq)
    const run = new ShardRun(this, conn, cmd, conn.db, seq, s)
    if (this.bigStrikes.size !== 0) {
      const m = memo ?? memoOf(cmd, argv)
      if (this.bigStrikes.has(m)) run.strikeMemo = m
    }
    link.send(cmd.id, router.flags(conn), conn.db, argv, null, argv.argc, bytes, run, seq, conn.slot)
    router.scheduleTurn()
    conn.scriptsOut++
    conn.scriptShard = s
    return true
  }

  private markCrossShard (memo: string): void {
    if (this.crossShard.size >= CROSS_MAX) this.crossShard.clear()
    this.crossShard.add(memo)
  }

  /** A script with strikes ran whole in a worker: its count starts again. */
  clearStrikes (memo: string): void { this.bigStrikes.delete(memo) }

  /**
   * A run sent to a shard stopped there (and was undone), or was turned back unrun behind one
   * that did: it runs held, answering its own sequence number, after the client's earlier ones.
   */
  rerun (run: ShardRun, kind: number): void {
    const conn = run.conn
    conn.isScriptStopped = true
    if (kind === 1) {
      this.markCrossShard(memoOf(run.cmd, run.argv as Argv))
    } else if (kind === 4) {
      const memo = memoOf(run.cmd, run.argv as Argv)
      const strikes = (this.bigStrikes.get(memo) ?? 0) + 1
      if (strikes >= BIG_STRIKES) { this.bigStrikes.delete(memo); this.markCrossShard(memo) } else {
        if (this.bigStrikes.size >= CROSS_MAX) this.bigStrikes.clear()
        this.bigStrikes.set(memo, strikes)
      }
    } else if (kind === 3) {
      // The worker forgot its bodies (a flush, a replaced worker): the next send gives it again.
      this.shipped[run.shard]?.delete(memoOf(run.cmd, run.argv as Argv))
    }
    const queue = conn.reruns ??= []
    queue.push(run)
    if (queue.length === 1) this.stageReruns(conn)
  }

  private stageReruns (conn: Connection): void {
    const queue = conn.reruns as ShardRun[]
    const router = this.router
    while (queue.length > 0) {
      const { cmd, seq, db } = queue[0]
      const argv = queue[0].argv as Argv
      if (router.links.some(link => link.isDead)) {
        queue.shift()
        answered(conn, seq, SHARD_DOWN, 0, SHARD_DOWN.length)
        continue
      }
      const batch: Batch = { items: [{ conn, cmd, argv, db, seq, reply: NO_REPLY }], isOpen: false, mark: 0 }
      const sent = router.sendHeldAll(conn, cmd, argv, (tx, a) => this.runBatch(batch, tx, a), txn => {
        txn.replyTo = reply => { answered(conn, seq, reply, 0, reply.length) }
      }, seq)
      // A full ring: again once the worker has taken some (the rest keep their order behind).
      if (sent === 'blocked') { setImmediate(() => { this.stageReruns(conn) }); return }
      queue.shift()
      // MONITOR shows the script's line before its commands (the send had nobody monitoring).
      if (router.pubsub.isMonitored) router.pubsub.feed(conn, argv, cmd, db)
      // Its call, time and errors: runBatch counts them once it has run (Router.scriptRan); the
      // worker counted nothing of the stopped run.
    }
  }

  /** The batch's scripts one after another on its hold; the first one's reply is the Txn's. */
  private async runBatch (batch: Batch, tx: TxnContext, argv: Argv): Promise<Uint8Array> {
    batch.isOpen = false
    if (this.batch === batch) this.batch = null
    const txn = tx as Txn
    const items = batch.items
    let first: Uint8Array = NO_REPLY
    for (let i = 0; i < items.length; i++) {
      const q = items[i]
      txn.db = q.db
      txn.resp3 = q.conn.resp === 3
      const a = i === 0 ? argv : q.argv
      const t0 = performance.now()
      let reply: Uint8Array
      try {
        reply = await this.coord(q.conn, q.cmd, txn, a)
      } catch (err) {
        reply = errorReply(`ERR internal error in '${q.cmd.name}': ${(err as Error).message}`)
      }
      // Counted now, as call() counts it after the script (its redis.calls were counted first).
      this.router.scriptRan(q.conn, q.cmd, a, reply, t0)
      if (i === 0) first = reply
      else q.reply = reply
    }
    return first
  }

  private compile (engine: ScriptEngine, body: Buffer): Buffer | null {
    const err = engine.compile(sha1hex(body), body)
    return err === null ? null : errorReply(err)
  }

  private flushOption (argv: Argv): Buffer | null {
    if (argv.argc === 2) return null
    const mode = arg(argv, 2).toString('latin1').toLowerCase()
    return argv.argc === 3 && (mode === 'async' || mode === 'sync') ? null : FLUSH_SYNTAX
  }

  /** The command on its held transaction (from dispatch, or as a step of EXEC). */
  async coord (conn: Connection, cmd: Command, tx: TxnContext, argv: Argv): Promise<Uint8Array> {
    const engine = this.engine
    if (engine === null) return NO_ENGINE
    const txn = tx as Txn
    this.sync(engine)
    if (cmd.name === 'fcall' || cmd.name === 'fcall_ro' || cmd.name.startsWith('function|')) return await this.functions.coord(conn, cmd, txn, argv)
    switch (cmd.name) {
      // Inside EXEC: no script runs while a transaction holds its shards.
      case 'script|kill': return NOTBUSY
      case 'script|load': {
        const body = arg(argv, 2)
        const err = this.compile(engine, body)
        if (err !== null) return err
        const sha = sha1hex(body)
        await this.store(txn, sha, body)
        const out = Buffer.from(`$40\r\n${sha}\r\n`, 'latin1')
        return out
      }
      case 'script|exists': {
        const shas: Buffer[] = []
        for (let i = 2; i < argv.argc; i++) shas.push(arg(argv, i))
        return await txn.runRemote(0, STORE, 0, [B('exists'), ...shas])
      }
      case 'script|flush': {
        const err = this.flushOption(argv)
        if (err !== null) return err
        Atomics.add(this.words, SCRIPT_EPOCH_WORD, 1)
        this.sync(engine)
        await txn.runRemote(0, STORE, 0, [B('flush')])
        return OK
      }
      default: return await this.evalGeneric(conn, cmd, txn, argv, engine)
    }
  }

  private async store (txn: Txn, sha: string, body: Buffer): Promise<void> {
    if (this.onHub.has(sha)) return
    await txn.runRemote(0, STORE, 0, [B('store'), B(sha), body])
    this.onHub.add(sha)
    if (this.router.links.length > 1) this.bodies.set(sha, Buffer.from(body))
  }

  /** FCALL's run of a function (server/functions.ts checked it): as EVAL's, in the function VM. */
  async run (conn: Connection, txn: Txn, argv: Buffer[], name: string, ref: number, keys: Buffer[], args: Buffer[], isReadOnly: boolean, allowOom: boolean): Promise<Uint8Array> {
    const fe = this.functions.current
    if (fe === null) return NO_ENGINE
    const engine = fe.engine
    engine.state = this.state
    const host = new CallHost(this.router, conn, txn, isReadOnly, () => engine.noteWrite(), allowOom)
    const resp3 = txn.resp3
    const db = txn.db
    let isBusy = false
    engine.onBusy = startMs => {
      isBusy = true
      const msg: BusyFunction = { name, argv, startMs, libs: fe.ctx.libs.size, fns: fe.ctx.fns.size }
      this.busyFunction = msg
      this.busyChannel.postMessage(msg)
    }
    try {
      return await engine.execute(name, keys, args, host, conn.resp === 3, this.busyMs(), ref)
    } finally {
      engine.onBusy = null
      if (isBusy) {
        this.busyFunction = null
        this.busyChannel.postMessage(null)
      }
      txn.resp3 = resp3
      txn.db = db
    }
  }

  private async evalGeneric (conn: Connection, cmd: Command, txn: Txn, argv: Argv, engine: ScriptEngine): Promise<Uint8Array> {
    if (cmd.name.startsWith('evalsha') && argv.len[1] !== 40) return NOSCRIPT
    const n = numkeysOf(argv)
    if (typeof n !== 'number') return n
    let sha: string
    if (cmd.name === 'eval' || cmd.name === 'eval_ro') {
      const body = arg(argv, 1)
      const err = this.compile(engine, body)
      if (err !== null) return err
      sha = sha1hex(body)
      await this.store(txn, sha, body)
    } else {
      // evalGenericCommand takes the sha1 in any case.
      sha = this.shaMemo.of(argv)
      if (sha.length !== 40) return NOSCRIPT
      if (!engine.has(sha)) {
        const r = await txn.runRemote(0, STORE, 0, [B('get'), B(sha)])
        if (r[0] !== 36 || isNullReply(r)) return NOSCRIPT
        const body = bulkPayload(r)
        const err = engine.compile(sha, body)
        if (err !== null) return errorReply(err)
        this.onHub.add(sha)
        if (this.router.links.length > 1) this.bodies.set(sha, Buffer.from(body))
      }
    }
    // Views: the engine copies them into Lua before anything else runs.
    const keys: Uint8Array[] = []
    const args: Uint8Array[] = []
    for (let i = 3; i < argv.argc; i++) (i < 3 + n ? keys : args).push(bytesAt(argv, i))
    const host = new CallHost(this.router, conn, txn, cmd.flags.includes('readonly') || engine.isNoWrites(sha), () => engine.noteWrite())
    const resp3 = txn.resp3
    const db = txn.db
    try {
      return await engine.execute(sha, keys, args, host, conn.resp === 3, this.busyMs())
    } finally {
      txn.resp3 = resp3
      txn.db = db
    }
  }
}

/** runNow's scratch: each key's shard, the parts' shards in order, a split command's part, a merged count. */
let partShard = new Int32Array(16)
let partOrder = new Int32Array(16)
let partCount = 0
const partArgv: Argv = { buf: Buffer.alloc(0), argc: 0, start: new Int32Array(16), len: new Int32Array(16) }
const sumOut = new ReplyWriter(32)

/** One script's redis.call: checks as scriptCall does, then runs the command on the held shards. */
class CallHost implements ScriptHost, CallContext {
  private db: number

  /** noteWrite: called before a write command runs; false when SCRIPT KILL came first. */
  constructor (private readonly router: Router, private readonly conn: Connection, private readonly txn: Txn,
    readonly isReadOnly: boolean, readonly noteWrite: () => boolean, readonly allowOom = false) {
    this.db = txn.db
  }

  isOverMaxmemory (): boolean {
    const max = this.router.maxmemoryLimit
    return max > 0 && this.router.usedMemory() > max
  }

  /** redis.acl_check_cmd: whether the script's caller may run argv, or the error text. */
  aclCheck (argv: Argv): string | boolean {
    const cmd = commandOfArgv(argv)
    if (cmd === null) return 'ERR Invalid command passed to redis.acl_check_cmd()'
    const user = this.conn.user
    return user.isAllPerms || checkCommand(user, cmd, argv) === 0
  }

  /** scriptVerifyACL: the caller's permissions, a refusal logged with the "lua" context. */
  aclRefusal (cmd: Command, argv: Argv): Uint8Array | null {
    const user = this.conn.user
    if (user.isAllPerms) return null
    const why = checkCommand(user, cmd, argv)
    if (why === 0) return null
    const object = why === DENIED_CMD ? cmd.name : arg(argv, denied.pos).toString('latin1')
    this.router.acl.addLog(why === DENIED_CMD ? 'command' : why === DENIED_KEY ? 'key' : 'channel', 'lua', object, user.name, this.conn.infoLine(false))
    return why === DENIED_CMD ? ACL_SCRIPT_CMD : why === DENIED_KEY ? ACL_SCRIPT_KEY : ACL_SCRIPT_CHANNEL
  }

  call (scratch: Argv, isResp3: boolean): Uint8Array | (() => Promise<Uint8Array>) {
    const found = commandOfArgv(scratch)
    const refused = callRefusal(found, scratch, this)
    const router = this.router
    if (refused !== null) { countRefused(router.cmdStats, found, refused); return refused }
    const cmd = found as Command
    // call() counts it, as a client's command: total_commands_processed and the per-command calls.
    router.counters[COMMANDS]++
    router.calls[cmd.id]++
    const t0 = performance.now()
    const now = this.runNow(cmd, scratch, isResp3)
    if (now !== null) { countCall(router, cmd, scratch, now, t0); return now }
    // Its own copy: the reply may come after the script engine reused its scratch.
    const argv = copyArgv(scratch)
    const r = this.runCall(cmd, argv, isResp3)
    if (typeof r !== 'function') { countCall(router, cmd, argv, r, t0); return r }
    return async () => {
      const reply = await r()
      countCall(router, cmd, argv, reply, t0)
      return reply
    }
  }

  /**
   * The common call, with the engine's scratch argv and nothing allocated: a keyed command the
   * engine runs, its keys on one lent shard (runCall's plan would say so), or a split DEL,
   * EXISTS, UNLINK, TOUCH or MSET whose parts run one after the other on their lent shards and
   * merge as SplitReply does. Its reply is a view, read before the next call. Null, with nothing
   * done, for anything else: runCall plans it on a copy.
   */
  private runNow (cmd: Command, argv: Argv, isResp3: boolean): Uint8Array | null {
    const route = cmd.route
    if ((route !== 'key' && route !== 'split') || cmd.name === 'select' || !engineRuns(cmd)) return null
    if (cmd.isMonitored && this.router.pubsub.isMonitored) return null
    const txn = this.txn
    const n = this.router.links.length
    let shard = 0
    if (route === 'key') {
      let k = cmd.firstKey
      if (cmd.getKeys !== undefined) {
        const keys = cmd.getKeys(argv)
        k = keys === null || keys.length === 0 ? -1 : keys[0]
      }
      if (k >= 0 && n > 1) shard = shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
    } else {
      shard = n === 1 ? 0 : this.splitShards(cmd, argv, n)
      if (shard < 0 && cmd.merge !== 'sum' && cmd.merge !== 'allOk') return null
    }
    if (shard >= 0 ? !txn.isLent(shard) : !this.partsLent()) return null
    const fails = failsFirst(cmd, argv)
    if (fails !== null) return fails
    txn.resp3 = isResp3
    txn.db = this.db
    const slot = txn.trackSlotFor(this.conn)
    if (shard >= 0) return txn.runLent(shard, cmd, this.db, argv, slot, true)
    return this.runParts(cmd, argv, slot)
  }

  /**
   * The shard of every key of a split command (planSplit's one part), or -1 when they span
   * shards: then each key's shard is in partShard, and the shards in the order their first key
   * comes (planSplit's parts) in partOrder, partCount of them.
   */
  private splitShards (cmd: Command, argv: Argv, n: number): number {
    const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
    if (partShard.length < argv.argc) partShard = new Int32Array(argv.argc * 2)
    if (partOrder.length < n) partOrder = new Int32Array(n)
    partCount = 0
    for (let k = cmd.firstKey; k <= last; k += cmd.step) {
      const s = shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
      partShard[k] = s
      let p = 0
      while (p < partCount && partOrder[p] !== s) p++
      if (p === partCount) partOrder[partCount++] = s
    }
    return partCount === 0 ? 0 : partCount === 1 ? partOrder[0] : -1
  }

  private partsLent (): boolean {
    for (let p = 0; p < partCount; p++) if (!this.txn.isLent(partOrder[p])) return false
    return true
  }

  /**
   * A split command's parts on their lent shards, in planSplit's order, each its name then its keys
   * (with their values, for MSET), as the __exec steps of runCall's plan would run them; merged
   * as SplitReply merges a sum or an OK: the first error, or the total.
   */
  private runParts (cmd: Command, argv: Argv, slot: number): Uint8Array {
    const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
    const part = partArgv
    if (part.start.length < argv.argc) { part.start = new Int32Array(argv.argc * 2); part.len = new Int32Array(argv.argc * 2) }
    part.buf = argv.buf
    part.start[0] = argv.start[0]
    part.len[0] = argv.len[0]
    let sum = 0
    let err: Buffer | null = null
    for (let p = 0; p < partCount; p++) {
      const s = partOrder[p]
      let argc = 1
      for (let k = cmd.firstKey; k <= last; k += cmd.step) {
        if (partShard[k] !== s) continue
        for (let j = 0; j < cmd.step; j++, argc++) { part.start[argc] = argv.start[k + j]; part.len[argc] = argv.len[k + j] }
      }
      part.argc = argc
      const r = this.txn.runLent(s, cmd, this.db, part, slot, true) as Buffer
      if (r[0] === 45 /* '-' */) err ??= Buffer.from(r)
      else if (cmd.merge === 'sum') sum += intReply(r)
    }
    if (err !== null) return err
    if (cmd.merge === 'allOk') return OK
    sumOut.reset()
    sumOut.int(sum)
    return sumOut.buf.subarray(0, sumOut.len)
  }

  private runCall (cmd: Command, argv: Argv, isResp3: boolean): Uint8Array | (() => Promise<Uint8Array>) {
    // call() feeds monitors ("[<db> lua]"), after the command for SELECT's new database.
    const pubsub = this.router.pubsub
    if (cmd.name === 'select') {
      const r = this.select(arg(argv, 1))
      if (pubsub.isMonitored) pubsub.feedLua(argsOf(argv), this.db)
      return r
    }
    if (cmd.isMonitored && pubsub.isMonitored) pubsub.feedLua(argsOf(argv), this.db)
    const fails = failsFirst(cmd, argv)
    if (fails !== null) return fails
    const txn = this.txn
    txn.resp3 = isResp3
    txn.db = this.db
    // FLUSHALL, FLUSHDB, SWAPDB: on each shard's own thread, which lends its databases again after.
    if (cmd.route === 'all' && cmd.isWrite) {
      const db = this.db
      return async () => {
        txn.resp3 = isResp3
        return this.merged(cmd, argv, await txn.runOnShards(cmd, db, argv), isResp3)
      }
    }
    const txns = this.router.txns
    const step = txns.planCall(this.conn, cmd, argv, this.db)
    if (step.kind === 'local') return step.reply
    if (cmd.route === 'hub') return async () => await txn.runRemote(0, cmd, this.db, argsOf(argv).slice(1))
    if (step.kind === 'shard' && engineRuns(cmd)) {
      const r = txn.runLent(step.shard, cmd, this.db, step.argv, txn.trackSlotFor(this.conn))
      if (r !== null) return r
    }
    return async () => {
      txn.resp3 = isResp3
      return await txns.runCall(this.conn, txn, step)
    }
  }

  /** The shards' replies to a command sent to all of them, as the router merges them: an error, the command's finish, or OK. */
  private merged (cmd: Command, argv: Argv, parts: Buffer[], isResp3: boolean): Uint8Array {
    const err = parts.find(p => p[0] === 45)
    if (err !== undefined) return err
    if (cmd.merge !== 'custom') return OK
    const out = new ReplyWriter(64)
    out.resp3 = isResp3
    const client = { server: this.conn.server, resp: isResp3 ? 3 : 2, db: this.db } as unknown as ClientContext
    cmd.finish?.(client, argv, parts, out)
    return out.buf.subarray(0, out.len)
  }

  /** SELECT inside a script changes the script's database only (as the script client's in Redis). */
  private select (index: Buffer): Uint8Array {
    const db = selectedDb(index)
    if (typeof db !== 'number') return db
    this.db = db
    return OK
  }
}

/**
 * A script running in the shard worker (one shard) called a command whose reply a producer makes
 * from the shards' parts (INFO, SLOWLOG GET/LEN, MEMORY STATS/DOCTOR, RANDOMKEY): the merge, as
 * finishSplit would make it for the script's client (Redis's script client: only the server's
 * state and the protocol matter to these).
 */
export function finishForShardScript (server: ServerContext, m: ShardAsk): Uint8Array {
  const cmd = commands[m.cmd]
  const out = new ReplyWriter(256)
  out.resp3 = m.resp3
  const argv = argvOf(m.argv.map(a => Buffer.from(a.buffer, a.byteOffset, a.length)))
  const client = { server, resp: m.resp3 ? 3 : 2, db: m.db } as unknown as ClientContext
  if (m.part[0] === 45 /* '-' */) out.raw(m.part)
  else cmd.finish?.(client, argv, [Buffer.from(m.part.buffer, m.part.byteOffset, m.part.length)], out)
  return out.buf.slice(0, out.len)
}
