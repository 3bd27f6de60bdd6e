// Request routing on the primary: lookup → arity → keys → shard(s) → stage, or run here.
// Split commands send each shard only its own keys and merge the parts in the client's reply
// slot; commands on every shard (DBSIZE, FLUSHALL, INFO) do the same with all shards.
//
// Why multi-shard writes (MSET) are atomic without locks: this thread is the only producer of
// every request ring, and stages all parts of one command in one synchronous step. So any two
// commands reach every shard they share in the same relative order, and no reader can see
// half of an MSET: on each shard it runs wholly before or wholly after it.

import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'
import { CommandStats, SET_SLOWLOG_SLOWER, type StatsRow } from './command-stats.js'
import { slowArgs, slowArgsOf, slowCopy, slowlogRecord } from '../commands/slowlog.js'
import type { Connection, Dispatcher } from './connection.js'
import type { ShardLink, ReplyTarget } from './shard-link.js'
import { ShardLink as Link } from './shard-link.js'
import type { Argv, ClientContext, TxnContext } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { lookupCommand, commands } from '../commands/table.js'
import { debugGate, DEBUG_NOT_ALLOWED } from '../commands/debug.js'
import { moduleGate, MODULE_NOT_ALLOWED } from '../commands/module.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { equalsLower, token } from '../protocol/ascii.js'
import { SHUTDOWN_FAILED, MISCONF, LOADING, shutdownFlags, shutdownNow } from '../commands/persistence.js'
import { unknownCommandError, unknownSubcommandError, SHARD_DOWN, OOM, UNBLOCKED, errorReply } from '../protocol/errors.js'
import { OK } from '../protocol/replies.js'
import { shardOfKey } from '../storage/hash.js'
import { copyBytes } from '../bytes.js'
import { REQ_RESP3, REQ_NOPARK, STAT_USED_MEMORY, STAT_ARENA_ROOM, POLICY_WORD } from '../ipc/layout.js'
import { POLICY_NOEVICTION, clientsMemory } from '../storage/eviction.js'
import { saveWords, W_DENY_WRITES, W_LOADING, DENY_RDB, SHUTDOWN_NOSAVE } from '../persistence/save-state.js'
import { aofMisconf, aofIsOn } from '../persistence/aof.js'

/** Arena room below which a split write goes whole (isArenaTight): 64 MiB, of a 4 GiB arena. */
const ARENA_MARGIN = 64 * 1024 * 1024
import { Credits } from './credits.js'
import { type Acl, checkCommand, denied, DENIED_CMD, DENIED_KEY } from './acl.js'
import type { Sequencer } from './sequencer.js'
import { COMMANDS, LOCAL_ERRORS, REPLY_WAITS, REPLY_WAIT_TIMEOUTS, XMOVES, PAUSE_ALL, EXCEEDED_SINCE, EXCEEDED_MS } from './shared-state.js'
import { Txn } from './txn.js'
import { Transactions, groupedPart, GroupedPartReply, GROUPED_PART_ID } from './multi.js'
import { CrossBlock } from './blocking.js'
import { PubSub } from './pubsub.js'
import { Tracking } from './tracking.js'
import { PUSH_TRACKING, G_CLIENTS } from '../storage/tracking.js'
import { Scripting, BUSY, BUSY_FUNCTION } from './scripting.js'
import { SCRIPT_FUNCTION } from '../scripting/scripts.js'
import { countScriptReply } from '../scripting/call-checks.js'
import type { CoordHandler } from '../commands/spec.js'
import { sharedFlags, trackingWords, verdictWords, xmoveWords, NOTIFY_WORD } from './credits.js'
import { xmoveMeta, xmoveDeaths, groupMeta, exchangeId, XMOVE_SRC, XMOVE_NX, XMOVE_COPY, XMOVE_REPLACE, XMOVE_LIST, XMOVE_FROM_TAIL, XMOVE_TO_TAIL, XMOVE_SET, XMOVE_AOF } from '../commands/xmove.js'
import { listPosition } from '../commands/list.js'
import { TAIL as LIST_TAIL } from '../storage/list.js'
import { parseCopyOptionsOrError, copyOpts } from '../commands/generic.js'
import { internalCommand } from '../commands/table.js'
import { argvOf } from '../commands/txn-helpers.js'

/** The commands that may run as a move between two shards, and their base __xmove flags. */
const MOVE_FLAGS: Record<string, number> = {
  rename: 0, renamenx: XMOVE_NX, copy: XMOVE_COPY, lmove: XMOVE_LIST, rpoplpush: XMOVE_LIST | XMOVE_FROM_TAIL, smove: XMOVE_SET,
}

/** SLOWLOG's client for a script's commands: Redis's script client, which has no connection nor name. */
const SCRIPT_CLIENT_ADDR = Buffer.from('?:0')
const NO_NAME = Buffer.alloc(0)

/** One multi-shard command waiting for its parts. */
export class SplitReply implements ReplyTarget {
  /** Inside EXEC (server/multi.ts): takes the merged reply instead of the client. */
  done: ((reply: Buffer) => void) | null = null
  /** Its call, latency, errors and SLOWLOG entry are counted once merged (not a script's redis.call: its host counts it). */
  isCounted = true
  remaining: number
  sum = 0
  error: Buffer | null = null
  parts: Buffer[] | null = null
  /** byKeyOrder: elems[i] is the reply element for key i. positions[p] lists part p's key indexes. */
  elems: Buffer[] | null = null
  positions: number[][] | null = null
  argvCopy: Argv | null = null
  /** What SLOWLOG would show of the command (commands/slowlog.ts slowCopy), while it may be logged. */
  slowArgs: Uint8Array | null = null
  /** concat: every part's elements, in shard order of arrival, and their count. */
  concat: Buffer[] = []
  concatCount = 0
  /** latencystats: a multi-shard command's sample is its time from staging to merged reply. */
  readonly startedAt = performance.now()
  /** The part whose reply is the command's (a move across shards: the source's), or -1. */
  keepPart = -1
  kept: Buffer | null = null

  constructor (readonly router: Router, readonly conn: Connection, readonly seq: number, readonly cmd: Command, parts: number) {
    this.remaining = parts
  }

  /** Its client, where the merged reply goes to it (not EXEC's). */
  get partOf (): Connection | null { return this.done === null ? this.conn : null }
  get partSeq (): number { return this.seq }

  onReply (tag: number, src: Uint8Array, start: number, len: number): void {
    if (src[start] === 45 /* '-' */ && this.error === null) {
      this.error = Buffer.from(src.subarray(start, start + len))
    } else if (this.cmd.merge === 'sum') {
      this.sum += parseIntReply(src, start, len)
    } else if (this.cmd.merge === 'byKeyOrder') {
      splitArrayReply(src, start, len, this.positions?.[tag] ?? [], this.elems as Buffer[])
    } else if (this.cmd.merge === 'concat') {
      appendArrayElements(src, start, len, this)
    } else if (tag === this.keepPart) {
      this.kept = Buffer.from(src.subarray(start, start + len))
    } else if (this.cmd.merge === 'custom') {
      (this.parts as Buffer[])[tag] = Buffer.from(src.subarray(start, start + len))
    }
    if (--this.remaining === 0) this.router.finishSplit(this)
  }
}

function parseIntReply (src: Uint8Array, start: number, len: number): number {
  let v = 0
  let neg = false
  let i = start + 1
  if (src[i] === 45) { neg = true; i++ }
  for (; i < start + len && src[i] !== 13; i++) v = v * 10 + (src[i] - 48)
  return neg ? -v : v
}

/** Cuts a flat array reply (bulk strings, nulls) into elements placed at the given key indexes. */
function splitArrayReply (src: Uint8Array, start: number, len: number, positions: number[], elems: Buffer[]): void {
  const end = start + len
  let p = start
  while (p < end && src[p] !== 10) p++
  p++
  for (let k = 0; k < positions.length && p < end; k++) {
    const e0 = p
    let nl = p
    while (nl < end && src[nl] !== 10) nl++
    if (src[p] === 36 /* '$' */ && src[p + 1] !== 45) {
      let n = 0
      for (let i = p + 1; src[i] !== 13; i++) n = n * 10 + (src[i] - 48)
      p = nl + 1 + n + 2
    } else {
      p = nl + 1
    }
    elems[positions[k]] = Buffer.from(src.subarray(e0, p))
  }
}

/** Keeps the elements of an array reply (header dropped) for a concat merge. */
function appendArrayElements (src: Uint8Array, start: number, len: number, split: SplitReply): void {
  let p = start + 1
  let n = 0
  while (src[p] !== 13) n = n * 10 + (src[p++] - 48)
  split.concatCount += n
  split.concat.push(Buffer.from(src.subarray(p + 2, start + len)))
}

/**
 * Shard of a SCAN cursor, parsed as Redis's parseScanCursorOrReply does (strtoul: an optional
 * sign, a negative value wraps modulo 2^64). Unparsable cursors go to shard 0, which replies
 * with the error.
 */
export function cursorShard (buf: Uint8Array, start: number, len: number, shards: number): number {
  let i = start
  const end = start + len
  let negative = false
  if (i < end && (buf[i] === 43 || buf[i] === 45)) { negative = buf[i] === 45; i++ }
  if (i === end && len > 0) return 0
  let v = 0n
  for (; i < end; i++) {
    const c = buf[i]
    if (c < 48 || c > 57) return 0
    v = v * 10n + BigInt(c - 48)
    if (v >= 1n << 64n) return 0
  }
  if (negative) v = ((1n << 64n) - v) % (1n << 64n)
  return Number(v % BigInt(shards))
}

/** A SCAN whose reply may continue on the next shard (see Router.sendScan). */
/**
 * A SCAN over the shards in turn (the global cursor is shardCursor * shards + shard). When a
 * shard's walk ends before COUNT keys were found, the next shard goes on in the same call, as
 * one table would: `SCAN 0 COUNT 1000` on a small database answers every key and cursor 0.
 */
class ScanChain implements ReplyTarget {
  private readonly keys: Buffer[] = []
  private readonly count: number

  /**
   * `db` and `flags` are the client's when it sent the SCAN: a SELECT or HELLO pipelined after
   * it has already run on this thread by the time the next shard's part goes out.
   */
  constructor (readonly router: Router, readonly conn: Connection, readonly seq: number, readonly cmd: Command,
    public argv: Argv, public shard: number, readonly db: number, readonly flags: number) {
    this.count = scanCount(argv)
    conn.openScans++
  }

  private done (src: Uint8Array, start: number, len: number): void {
    this.conn.openScans--
    this.conn.onReply(this.seq, src, start, len)
  }

  onReply (_tag: number, src: Uint8Array, start: number, len: number): void {
    // Reply: *2 $n <cursor> *<count> ($n key)*; the cursor shard + 1 (below the shard count)
    // means "this shard is done, the next one from its start".
    const page = src[start] === 42 ? parseScanPage(src, start, start + len) : null
    if (page === null) { this.done(src, start, len); return }
    for (const k of page.keys) this.keys.push(k)
    const next = this.shard + 1
    if (page.cursor === String(next) && next < this.router.links.length && this.keys.length < this.count) {
      this.shard = next
      this.argv = withArg(this.argv, 1, Buffer.from(String(next)))
      if (this.router.continueScan(this)) return
    }
    const out = new ReplyWriter(64)
    out.arrayHeader(2)
    out.bulkStr(page.cursor)
    out.arrayHeader(this.keys.length)
    for (const k of this.keys) out.bulkBuf(k)
    this.done(out.buf, 0, out.len)
  }
}

/**
 * SCAN inside a multi-shard EXEC: the walk ScanChain does, as steps on the held shards (the
 * transaction holds all of them), so one call fills its COUNT across shards there too.
 */
export async function scanInTxn (tx: TxnContext, argv: Argv, shards: number): Promise<Uint8Array> {
  let s = cursorShard(argv.buf, argv.start[1], argv.len[1], shards)
  const count = scanCount(argv)
  const args: Uint8Array[] = []
  for (let i = 1; i < argv.argc; i++) args.push(Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])))
  const keys: Buffer[] = []
  for (;;) {
    const r = await tx.run(s, 'scan', args)
    const page = r[0] === 42 ? parseScanPage(r, 0, r.length) : null
    if (page === null) return r
    for (const k of page.keys) keys.push(k)
    const next = s + 1
    if (page.cursor === String(next) && next < shards && keys.length < count) {
      s = next
      args[0] = Buffer.from(String(next))
      continue
    }
    const out = new ReplyWriter(64)
    out.resp3 = tx.resp3
    out.arrayHeader(2)
    out.bulkStr(page.cursor)
    out.arrayHeader(keys.length)
    for (const k of keys) out.bulkBuf(k)
    return out.buf.subarray(0, out.len)
  }
}

/** SCAN's COUNT (10 when absent or not a number: the shard answers the error then). */
function scanCount (argv: Argv): number {
  let count = 10
  for (let i = 2; i + 1 < argv.argc; i += 2) {
    const name = Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1').toLowerCase()
    if (name !== 'count') continue
    const v = Number(Buffer.from(argv.buf.subarray(argv.start[i + 1], argv.start[i + 1] + argv.len[i + 1])).toString('latin1'))
    if (Number.isFinite(v) && v > 0) count = v
  }
  return count
}

/** A SCAN reply's cursor and keys, or null when it is not one (an error). */
function parseScanPage (src: Uint8Array, p: number, end: number): { cursor: string, keys: Buffer[] } | null {
  const line = (): string | null => {
    for (let i = p; i + 1 < end; i++) {
      if (src[i] === 13 && src[i + 1] === 10) {
        const s = Buffer.from(src.subarray(p, i)).toString('latin1')
        p = i + 2
        return s
      }
    }
    return null
  }
  if (line() !== '*2') return null
  const cl = line()
  if (cl === null || cl[0] !== '$') return null
  const cursor = line()
  const n = line()
  if (cursor === null || n === null || n[0] !== '*') return null
  const keys: Buffer[] = []
  for (let k = Number(n.slice(1)); k > 0; k--) {
    const h = line()
    if (h === null) return null
    const l = Number(h.slice(1))
    keys.push(Buffer.from(src.subarray(p, p + l)))
    p += l + 2
  }
  return { cursor, keys }
}

/** A copy of argv with argument i replaced. */
function withArg (argv: Argv, i: number, value: Uint8Array): Argv {
  const parts: Uint8Array[] = []
  for (let k = 0; k < argv.argc; k++) parts.push(k === i ? value : argv.buf.subarray(argv.start[k], argv.start[k] + argv.len[k]))
  return argvOf(parts)
}

/** Bytes of argv as a RESP multibulk request. */
function multibulkBytes (argv: Argv): number {
  let n = 3 + String(argv.argc).length
  for (let i = 0; i < argv.argc; i++) n += 5 + String(argv.len[i]).length + argv.len[i]
  return n
}

export function copyArgv (argv: Argv): Argv {
  let total = 0
  for (let i = 0; i < argv.argc; i++) total += argv.len[i]
  return copyArgvInto(argv, { buf: Buffer.allocUnsafe(total), argc: 0, start: new Int32Array(argv.argc), len: new Int32Array(argv.argc) })
}

/** argv's arguments back to back from copy.buf[0] (copy's buffers hold them: a copy may be longer). */
export function copyArgvInto (argv: Argv, copy: Argv): Argv {
  const { buf, start, len } = copy
  let off = 0
  for (let i = 0; i < argv.argc; i++) {
    // copyBytes: a queued command's arguments are short, and a view per argument was one more
    // allocation (perf put ~2% of the primary's MULTI time on typed-array creation here).
    const l = argv.len[i]
    copyBytes(argv.buf, argv.start[i], l, buf, off)
    start[i] = off
    len[i] = l
    off += l
  }
  copy.argc = argv.argc
  return copy
}

/**
 * A split command's parts: partArgs[p] lists the argument indexes of part p (the name, then its
 * keys, with their values when step > 1), shardOfPart[p] its shard, positions[p] the indexes
 * (among the command's keys) of its keys.
 */
export function planSplit (cmd: Command, argv: Argv, n: number): { partArgs: number[][], shardOfPart: number[], positions: number[][], keyCount: number } {
  const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
  const partArgs: number[][] = []
  const partOf = new Int32Array(n).fill(-1)
  const positions: number[][] = []
  let ki = 0
  for (let k = cmd.firstKey; k <= last; k += cmd.step, ki++) {
    const s = shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
    if (partOf[s] < 0) { partOf[s] = partArgs.length; partArgs.push([0]); positions.push([]) }
    const args = partArgs[partOf[s]]
    for (let j = 0; j < cmd.step; j++) args.push(k + j)
    positions[partOf[s]].push(ki)
  }
  const shardOfPart: number[] = []
  for (let s = 0; s < n; s++) if (partOf[s] >= 0) shardOfPart[partOf[s]] = s
  return { partArgs, shardOfPart, positions, keyCount: ki }
}

/** The target of records whose reply nobody reads (sendNoReply). */
export const ignoreReply: ReplyTarget = { onReply () {} }
const UNBLOCK_NAME = Buffer.from('__unblock')

/** processCommand's is_may_replicate_command: what CLIENT PAUSE WRITE holds. */
function mayReplicate (cmd: Command): boolean { return cmd.isWrite || cmd.flags.includes('may_replicate') }
const REPLICA_KEYSPACE = errorReply("ERR Replica can't interact with the keyspace")
const ZERO_REPLY = Buffer.from(':0\r\n')

/** Merges whose reply grows with the data (the rest answer a count or OK). */
function isBigMerge (cmd: Command): boolean {
  return cmd.merge === 'byKeyOrder' || cmd.merge === 'concat' || cmd.merge === 'custom'
}

/** The client a reply target answers: the connection itself, or the one a split, scan or transaction belongs to. */
function clientOf (target: ReplyTarget): Connection | null {
  const c = (target as { conn?: Connection }).conn ?? target as Connection
  // Housekeeping targets (UNWATCH, unsubscribe...) belong to no client.
  return typeof (c as { fail?: unknown }).fail === 'function' ? c : null
}

const NOAUTH = errorReply('NOAUTH Authentication required.')
const NOPERM_KEY = errorReply('NOPERM this user has no permissions to access one of the keys used as arguments')
const EXEC_NOPERM = 'NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: '
const EXEC_NOPERM_CMD = errorReply(EXEC_NOPERM + 'no permission to execute the command or subcommand')
const EXEC_NOPERM_KEY = errorReply(EXEC_NOPERM + 'no permission to touch the specified keys')
const EXEC_NOPERM_CHANNEL = errorReply(EXEC_NOPERM + 'no permission to access one of the channels used as arguments')
const NOPERM_CHANNEL = errorReply('NOPERM this user has no permissions to access one of the channels used as arguments')
const TOK_POST = token('post')
const TOK_HOST = token('host:')

/** argv[0] is POST or Host: (any case). */
function isCrossProtocol (argv: Argv): boolean {
  const { buf, start, len } = argv
  return equalsLower(buf, start[0], len[0], TOK_POST) || equalsLower(buf, start[0], len[0], TOK_HOST)
}

let fallback: StatsRow | null = null
/** A private row until the server sets the shared one (routers made by tests alone). */
function fallbackStats (): StatsRow { return (fallback ??= new CommandStats(1).row(0)) }

export class Router implements Dispatcher {
  readonly links: ShardLink[]
  /**
   * This thread's counters (server/shared-state.ts: COMMANDS, LOCAL_ERRORS, REPLY_WAITS...) and
   * calls per command id, in shared memory so that INFO and /metrics can add up every thread.
   */
  readonly counters: Float64Array
  readonly calls: Float64Array
  /**
   * INFO commandstats & co. (server/command-stats.ts), this thread's row: commands run here
   * (primary), refused here (rejected_calls), and the calls of commands spread over shards or
   * queued for EXEC; a command sent whole to one shard is counted and timed by that shard.
   */
  cmdStats: StatsRow = fallbackStats()
  /** The command whose call is counted elsewhere: sent whole to a shard, merged in finishSplit, or timed here. */
  sentWholeId = -1
  /** The command's MONITOR line went out already (a script sent to the hub's worker: server/scripting.ts). */
  isFed = false
  /** Connections to flush this turn: dirty[0, dirtyLen). Kept at its size: no array growth per turn. */
  private readonly dirty: Array<Connection | null> = []
  private dirtyLen = 0
  /** Connections with only pub/sub messages this turn: written after dirty[] (markPushed). */
  private readonly pushed: Array<Connection | null> = []
  private pushedLen = 0
  private readonly blocked = new Set<Connection>()
  private isTurnScheduled = false
  private readonly scratch = new ReplyWriter()
  private readonly shardCount: Int32Array
  private idx: Int32Array = new Int32Array(64)
  private readonly runTurn = (): void => this.endOfTurn()
  /** Output credit per client (server/credits.ts), shared with the shard workers. */
  readonly credits: Credits
  /** Orders multi-shard commands when shards have several producers; null with one. */
  private readonly sequencer: Sequencer | null
  private tickets = new Int32Array(16)
  private readonly allShards: Int32Array
  /** A reply to no client's request threw (a bug): the server logs it; nobody is closed. */
  onInternalError: (err: unknown) => void = () => {}
  /** A client sent POST or Host: (cross-protocol scripting): the server logs it, at most once a minute. */
  onSecurityWarning: () => void = () => {}
  /** 1 while the default user needs a password (SharedState.authWord), set by the server. */
  password: Int32Array = new Int32Array(1)
  /** This thread's ACL users (server/acl.ts), set by the server. */
  acl!: Acl
  /** Called when serving a client threw: the server logs it and closes that client alone. */
  onClientError: (conn: Connection, err: unknown) => void = (conn, err) => conn.fail(err)
  /**
   * Fault injection for tests (FLASHKV_FAULT_THROW=<command name>): dispatching that command
   * throws, as a bug in the primary would. Unset in production: one compare per command.
   */
  private readonly faultThrow: string | null = process.env.FLASHKV_FAULT_THROW ?? null
  /** MULTI/EXEC/WATCH (server/multi.ts). */
  readonly txns: Transactions
  /** SUBSCRIBE & co. and message delivery (server/pubsub.ts). */
  readonly pubsub: PubSub
  /** CLIENT TRACKING (server/tracking.ts). */
  readonly tracking: Tracking
  /** EVAL & co. and the SCRIPT cache (server/scripting.ts). */
  readonly scripts: Scripting
  /** The settings words the shards read too (server/credits.ts): maxmemory-policy among them. */
  private readonly sharedFlags: Int32Array
  /** This thread's producer index, and its cross-shard moves so far (commands/xmove.ts ids). */
  private readonly producer: number
  private xmoveCount = 0
  private readonly xmove: Int32Array
  /** The shared save state's MISCONF word (persistence/save-state.ts W_DENY_WRITES). */
  private readonly denyWrites = saveWords().i32.subarray(W_DENY_WRITES, W_DENY_WRITES + 1)
  /** Shards still loading the RDB file at start (W_LOADING). */
  private readonly loading = saveWords().i32.subarray(W_LOADING, W_LOADING + 1)

  /**
   * @param replyWaitMs how long endOfTurn may block for the shards' replies (0 = never): see
   *   defaultReplyWaitUs in config.ts for when that pays.
   */
  constructor (links: ShardLink[], credits: Credits, private readonly maxmemory: Float64Array, counters: Float64Array, calls: Float64Array,
    private readonly replyWaitMs = 0, sequencer: Sequencer | null = null, producer = 0) {
    this.links = links
    this.counters = counters
    this.calls = calls
    this.credits = credits
    this.sequencer = sequencer
    this.producer = producer
    this.xmove = xmoveWords(credits.sab)
    this.allShards = Int32Array.from(links, (_l, i) => i)
    this.txns = new Transactions(this, credits.watch, verdictWords(credits.sab))
    this.sharedFlags = sharedFlags(credits.sab)
    this.pubsub = new PubSub(this, sharedFlags(credits.sab))
    this.scripts = new Scripting(this, sharedFlags(credits.sab))
    this.tracking = new Tracking(this, trackingWords(credits.sab), producer)
    // Messages come from the hub; keyspace events from any shard, on their way to the hub;
    // CLIENT TRACKING's invalidations from the shard of the key.
    for (const link of links) link.onPush = (src, start, len) => { if (src[start] === PUSH_TRACKING) this.tracking.onPush(link, src, start, len); else this.pubsub.onPush(src, start, len) }
    this.shardCount = new Int32Array(links.length)
    credits.kick = () => { for (const link of links) link.kick() }
    for (const link of links) {
      link.onWake = this.drainAll
      link.onDrained = () => this.afterDrain()
      link.onTargetError = (target, err) => {
        const c = clientOf(target)
        if (c !== null) this.onClientError(c, err)
        else this.onInternalError(err)
      }
      link.onParked = target => clientOf(target)?.checkStuck()
    }
  }

  dispatch (conn: Connection, argv: Argv): boolean {
    const ok = this.dispatchOne(conn, argv)
    // CLIENT CACHING covers one command: resetClient clears it after the next.
    if (ok && conn.trk !== null) this.tracking.afterCommand(conn)
    return ok
  }

  private dispatchOne (conn: Connection, argv: Argv): boolean {
    // A SCAN still walking on to further shards must not see this client's later writes there:
    // what follows it waits for its reply.
    if (conn.openScans !== 0) { conn.isAwaitingHead = true; return false }
    let cmd = lookupCommand(argv.buf, argv.start[0], argv.len[0])
    if (cmd === undefined) {
      // processCommand's guard: an HTTP request sent to the port (a browser made to post to
      // it) closes the connection at once, with no reply to anything it sent.
      if (isCrossProtocol(argv)) { this.onSecurityWarning(); conn.kill(); return true }
      conn.lastCmd = null
      return this.reject(conn, unknownCommandError(argv))
    }
    if (cmd.subIndex !== null && argv.argc > 1) {
      const sub = cmd.subIndex.get(argv.buf, argv.start[1], argv.len[1])
      if (sub === undefined) { conn.lastCmd = null; return this.reject(conn, unknownSubcommandError(argv)) }
      cmd = sub
    }
    // Where Redis records CLIENT LIST's cmd=: before the arity check, NULL when unknown.
    conn.lastCmd = cmd
    if (this.faultThrow !== null && cmd.name === this.faultThrow) throw new Error(`fault injected in '${cmd.name}'`)
    const arity = cmd.arity
    if ((arity > 0 && argv.argc !== arity) || argv.argc < -arity) return this.reject(conn, cmd.arityErr, cmd)
    // Scripts sent to a shard's worker may yet run held (server/scripting.ts): what follows them
    // waits for their replies, but another script for the same worker (Scripting.dispatch says).
    if (conn.scriptsOut !== 0 && cmd.route !== 'script') { conn.isAwaitingHead = true; return false }
    // authRequired: requirepass is set and this client has not authenticated.
    if (!conn.isAuthenticated && !cmd.isNoAuth && Atomics.load(this.password, 0) !== 0) return this.reject(conn, NOAUTH, cmd)
    // processCommand: DEBUG only where enable-debug-command lets this client in (MODULE LOAD & co., enable-module-command).
    if (cmd.isProtected) {
      const gate = cmd.isModuleCommand ? moduleGate.mode : debugGate.mode
      if (gate !== 'yes' && (gate === 'no' || !conn.isLocal)) return this.reject(conn, cmd.isModuleCommand ? MODULE_NOT_ALLOWED : DEBUG_NOT_ALLOWED, cmd)
    }
    // ACL (server/acl.ts): rules changed on any thread recompile here first; then a user with
    // every permission costs one flag test.
    const acl = this.acl
    if (acl.epochWord[0] !== acl.seen) acl.sync()
    if (!conn.user.isAllPerms && this.aclDenies(conn, cmd, argv)) return true
    // A script (on any thread) is past busy-reply-threshold: the shared script-state word.
    const isBusy = this.scripts.state[0] !== 0
    if (isBusy && !conn.isReplyHead) {
      // The script's own client (and any client still owed a reply) waits for what it is owed:
      // Redis reads nothing from the client whose script runs.
      conn.isAwaitingHead = true
      return false
    }
    // SHUTDOWN while a script is busy cannot wait for the shards it holds: NOSAVE stops the
    // server at once (and the script with it), anything else is refused as Redis refuses it.
    if (isBusy && cmd.name === 'shutdown') {
      const flags = shutdownFlags(argv)
      if (typeof flags !== 'number') return this.reject(conn, flags, cmd)
      if ((flags & SHUTDOWN_NOSAVE) === 0) return this.reject(conn, SHUTDOWN_FAILED, cmd)
      shutdownNow()
      return true
    }
    // Redis rejects an odd MSET with the arity error; once split, no worker sees the whole argv.
    if (!isBusy && cmd.step > 1 && cmd.lastKey < 0 && (argv.argc - cmd.firstKey) % cmd.step !== 0) return this.reject(conn, cmd.arityErr, null, cmd)
    // processCommand's maxmemory check (noeviction policy): refuse what may grow memory; not
    // while a script is busy.
    // maxmemory (0 = none) is the shared settings word: a CONFIG SET on any I/O thread counts at once.
    // Inside MULTI every command but EXEC, DISCARD, QUIT and RESET counts: queueing takes memory too.
    // The AOF loader is not refused: Redis does not check maxmemory while it loads.
    if (!isBusy && !conn.isLoader && (cmd.isDenyOom || (conn.multi !== null && cmd.name !== 'exec' && cmd.name !== 'discard' && cmd.name !== 'quit' && cmd.name !== 'reset'))) {
      const max = this.maxmemoryLimit
      if (max > 0 && this.usedMemory() > max) { this.overMaxmemory(true); return this.reject(conn, OOM, null, cmd) }
      if (max > 0 && this.counters[EXCEEDED_SINCE] !== 0) this.overMaxmemory(false)
    }
    // writeCommandsDeniedByDiskError: after a failed background save, writes (and PING) get MISCONF.
    if (this.denyWrites[0] !== 0 && !isBusy && (cmd.isWrite || cmd.name === 'ping')) return this.reject(conn, this.denyWrites[0] === DENY_RDB ? MISCONF : aofMisconf(), cmd)
    // While the shards load the RDB file at start, only commands flagged 'loading' run.
    if (this.loading[0] !== 0 && !cmd.flags.includes('loading') && !conn.isLoader) return this.reject(conn, LOADING, cmd)
    // processCommand: a RESP2 subscriber may only (un)subscribe, PING and QUIT.
    if (conn.subs !== null && conn.resp === 2 && conn.isSubscribed && cmd.route !== 'pubsub' && cmd.name !== 'ping' && cmd.name !== 'quit' && cmd.name !== 'reset') {
      return this.reject(conn, errorReply(`ERR Can't execute '${cmd.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`), null, cmd)
    }
    // Then only allow_busy commands run (MULTI, DISCARD, WATCH, UNWATCH, SCRIPT KILL, QUIT, HELLO).
    if (isBusy && !cmd.isAllowBusy) return this.reject(conn, (this.scripts.state[0] & SCRIPT_FUNCTION) !== 0 ? BUSY_FUNCTION : BUSY, cmd)
    // CLIENT PAUSE (any thread's): the command waits, unparsed, until the pause ends.
    const pause = this.pause
    if (pause[0] !== 0 && this.isPausedFor(conn, cmd, argv)) { this.postpone(conn); return false }
    // processCommand: a MONITOR client is a replica to Redis, kept away from the keyspace.
    if (conn.isMonitor && cmd.touchesKeyspace) return this.reject(conn, REPLICA_KEYSPACE, null, cmd)
    // Inside MULTI everything but MULTI, EXEC, DISCARD, WATCH, QUIT and RESET is queued for EXEC.
    if (conn.multi !== null && (cmd.route !== 'txn' || cmd.name === 'unwatch') && cmd.name !== 'quit' && cmd.name !== 'reset') {
      this.txns.queue(conn, cmd, argv)
      return true
    }

    let ok = true
    this.sentWholeId = -1
    switch (cmd.route) {
      case 'primary': {
        const t0 = performance.now()
        this.runLocal(conn, cmd, argv)
        // runLocal counted its errors already.
        conn.lastLocalError = null
        this.ranHere(conn, cmd, argv, t0)
        break
      }
      case 'key': ok = this.sendKey(conn, cmd, argv); break
      case 'split': ok = this.sendSplit(conn, cmd, argv); break
      case 'all': ok = this.sendAll(conn, cmd, argv); break
      case 'coord': ok = this.sendCoord(conn, cmd, argv); break
      case 'cursor': ok = this.sendScan(conn, cmd, argv); break
      case 'txn': {
        const t0 = performance.now()
        conn.lastLocalError = null
        ok = this.txns.dispatch(conn, cmd, argv)
        if (ok) this.ranHere(conn, cmd, argv, t0)
        break
      }
      case 'block': ok = cmd.blocks !== undefined && !cmd.blocks(argv) ? this.sendCoord(conn, cmd, argv) : this.sendBlock(conn, cmd, argv); break
      case 'pubsub': {
        const t0 = performance.now()
        conn.lastLocalError = null
        ok = this.pubsub.dispatch(conn, cmd, argv)
        if (ok) this.ranHere(conn, cmd, argv, t0)
        break
      }
      case 'hub': ok = this.sendWhole(conn, cmd, argv, 0); break
      case 'script': {
        // A script runs here, holding the shards it touches: timed to the end of its run here.
        const t0 = performance.now()
        conn.lastLocalError = null
        ok = this.scripts.dispatch(conn, cmd, argv)
        // EVAL and FCALL skip call()'s feed: Redis shows their line before the script's commands.
        if (ok && this.scripts.isRun[cmd.id] !== 0 && this.pubsub.isMonitored && !this.isFed) this.pubsub.feed(conn, argv, cmd, conn.db)
        // Unless it went to the shard whole (one shard: the worker runs it, and counts it).
        if (ok && this.sentWholeId !== cmd.id) this.ranHere(conn, cmd, argv, t0)
        break
      }
    }
    if (ok) {
      // One sent to every shard counts once merged (finishSplit): an INFO does not see itself.
      if (cmd.route !== 'all' || this.sentWholeId !== cmd.id) this.counters[COMMANDS]++
      this.calls[cmd.id]++
      // SCAN may pass on from shard to shard: its call is counted here, each shard adds its time.
      if (this.sentWholeId !== cmd.id || cmd.route === 'cursor') this.cmdStats.count(cmd.id)
      // After it ran (SELECT's new database shows), as call() feeds monitors.
      if (cmd.isMonitored && this.pubsub.isMonitored && !this.isFed) this.pubsub.feed(conn, argv, cmd, conn.db)
    }
    this.isFed = false
    return ok
  }

  /** RESET's part here: no MULTI or WATCH, no subscriptions or MONITOR (left without a message), and the default user's authentication. */
  reset (conn: Connection): void {
    this.tracking.disable(conn)
    this.pubsub.onClose(conn)
    this.txns.onClose(conn)
    conn.isAuthenticated = Atomics.load(this.password, 0) === 0
    conn.user = this.acl.defaultUser
  }

  /** ACLCheckAllPerm's refusal: logged (ACL LOG) and answered NOPERM; a deleted user's client is closed. */
  private aclDenies (conn: Connection, cmd: Command, argv: Argv): boolean {
    const user = conn.user
    if (user.isDeleted) { conn.kill(); return true }
    const why = checkCommand(user, cmd, argv)
    if (why === 0) return false
    const context = conn.multi !== null ? 'multi' : 'toplevel'
    const object = why === DENIED_CMD ? cmd.name : Buffer.from(argv.buf.subarray(argv.start[denied.pos], argv.start[denied.pos] + argv.len[denied.pos])).toString('latin1')
    this.acl.addLog(why === DENIED_CMD ? 'command' : why === DENIED_KEY ? 'key' : 'channel', context, object, user.name, conn.infoLine(false))
    this.reject(conn, why === DENIED_CMD ? errorReply(`NOPERM this user has no permissions to run the '${cmd.name}' command`) : why === DENIED_KEY ? NOPERM_KEY : NOPERM_CHANNEL, cmd)
    return true
  }

  /** True when the client's user may run anything, by the rules as they are now. */
  isAllPerms (conn: Connection): boolean {
    return this.syncedUser(conn).isAllPerms
  }

  /** The client's user, after taking in ACL changes made on other threads since the last look. */
  private syncedUser (conn: Connection): Connection['user'] {
    const acl = this.acl
    if (acl.epochWord[0] !== acl.seen) acl.sync()
    return conn.user
  }

  /** EXEC's check of a queued command (its user's rules may have changed since): the error in its place, or null. */
  aclRecheck (conn: Connection, cmd: Command, argv: Argv): Buffer | null {
    const acl = this.acl
    const user = this.syncedUser(conn)
    if (user.isAllPerms) return null
    const why = checkCommand(user, cmd, argv)
    if (why === 0) return null
    const object = why === DENIED_CMD ? cmd.name : Buffer.from(argv.buf.subarray(argv.start[denied.pos], argv.start[denied.pos] + argv.len[denied.pos])).toString('latin1')
    acl.addLog(why === DENIED_CMD ? 'command' : why === DENIED_KEY ? 'key' : 'channel', 'multi', object, user.name, conn.infoLine(false))
    return why === DENIED_CMD ? EXEC_NOPERM_CMD : why === DENIED_KEY ? EXEC_NOPERM_KEY : EXEC_NOPERM_CHANNEL
  }

  /** `counted`: the command whose rejected_calls it counts (rejectCommand: any known command). */
  private reject (conn: Connection, err: Buffer, cmd: Command | null = null, counted: Command | null = cmd): boolean {
    this.counters[LOCAL_ERRORS]++
    if (counted !== null) this.cmdStats.rejected(counted.id)
    this.cmdStats.error(err, 0, err.length)
    // rejectCommand: a refused EXEC answers EXECABORT with the reason (execCommandAbort), in a
    // transaction or not; any other refused command dooms the transaction (flagTransaction).
    if (cmd !== null && cmd.name === 'exec') { this.txns.abort(conn, err); return true }
    if (conn.multi !== null) conn.multiFailed = true
    conn.replyLocalBytes(err)
    return true
  }

  /**
   * A write refused over maxmemory starts a spell (Redis's EVICT_FAIL); one let through, or the
   * cron finding room, ends it, as long as maxmemory is set (without it Redis never looks again).
   */
  overMaxmemory (isOver: boolean): void {
    const c = this.counters
    const now = performance.timeOrigin + performance.now()
    if (isOver) {
      if (c[EXCEEDED_SINCE] === 0) c[EXCEEDED_SINCE] = now
    } else if (c[EXCEEDED_SINCE] !== 0) {
      c[EXCEEDED_MS] += now - c[EXCEEDED_SINCE]
      c[EXCEEDED_SINCE] = 0
    }
  }

  /**
   * The maxmemory past which writes are refused here (0: none), shared by every I/O thread. Under
   * an evicting maxmemory-policy it is 0: each shard evicts before a write, and answers OOM itself
   * when its policy finds nothing to evict (storage/eviction.ts).
   */
  get maxmemoryLimit (): number { return this.sharedFlags[POLICY_WORD] === POLICY_NOEVICTION ? this.maxmemory[0] : 0 }

  /** CLIENT PAUSE words shared by every thread: [end unix ms (0: none), PAUSE_WRITE | PAUSE_ALL]. */
  pause: Float64Array = new Float64Array(2)
  private readonly postponed = new Set<Connection>()
  private pauseTimer: NodeJS.Timeout | null = null

  /** ALL pauses every command; WRITE those that may write (and EXEC of a transaction that does). */
  private isPausedFor (conn: Connection, cmd: Command, argv: Argv): boolean {
    const pause = this.pause
    if (Date.now() >= pause[0]) return false
    if (pause[1] === PAUSE_ALL) return true
    if (cmd.name === 'fcall' || cmd.name === 'fcall_ro') {
      // fcallGetCommandFlags: a known function's flags decide (no-writes: not a write).
      const mayWrite = this.scripts.functions.mayWrite(argv)
      if (mayWrite !== null) return mayWrite
    }
    if (mayReplicate(cmd)) return true
    return cmd.name === 'exec' && conn.multi !== null && conn.multi.some(q => mayReplicate(q.cmd))
  }

  private postpone (conn: Connection): void {
    this.postponed.add(conn)
    // Until the end, or sooner if CLIENT UNPAUSE comes (from any thread: looked for every 10 ms).
    if (this.pauseTimer === null) this.pauseTimer = setInterval(() => this.checkPause(), 10)
  }

  /** Called by CLIENT UNPAUSE on this thread, and by the timer. */
  checkPause (): void {
    if (this.pause[0] !== 0 && Date.now() < this.pause[0]) return
    if (this.pauseTimer !== null) { clearInterval(this.pauseTimer); this.pauseTimer = null }
    const waiting = [...this.postponed]
    this.postponed.clear()
    for (const c of waiting) {
      try { c.maybeResume() } catch (err) { this.onClientError(c, err) }
    }
  }

  /**
   * The OOM check's figure: every shard's live bytes (blocks in use, tables, rings) as the workers
   * last published them, and the clients' buffers. Free arena blocks are left out here: a write
   * may reuse them, and the shard refuses one that would grow its arena past its share.
   */
  usedMemory (): number {
    let n = clientsMemory(this.sharedFlags)
    for (const link of this.links) n += link.stats[STAT_USED_MEMORY]
    return n
  }

  /**
   * With several I/O threads, set by the server: fetches every other thread's clients (a round
   * trip through the main thread) and calls back once clientList() includes them.
   */
  gatherClients: ((done: () => void) => void) | null = null
  /** Commands that list or kill clients: with several I/O threads they wait for the gather. */
  private readonly gatherIds: ReadonlySet<number> = new Set(commands.filter(c => c.name === 'client|list' || c.name === 'client|kill' || c.name === 'client|unblock').map(c => c.id))

  private runLocal (conn: Connection, cmd: Command, argv: Argv): void {
    const local = cmd.local as (c: ClientContext, a: Argv, o: ReplyWriter) => void
    if (this.gatherClients !== null && this.gatherIds.has(cmd.id)) {
      const seq = conn.takeSeq()
      const copy = copyArgv(argv)
      // Nothing after it runs until it has: CLIENT KILL of oneself must stop what follows.
      conn.isGathering = true
      this.gatherClients(() => {
        conn.isGathering = false
        const s = this.scratch
        s.reset()
        s.resp3 = conn.resp === 3
        // CLIENT LIST reports the caller's argv-mem from the command it is running.
        // The request is no longer in the query buffer either: count it there, as Redis would.
        const was = { ...conn.argv }
        Object.assign(conn.argv, copy)
        conn.qbufExtra = multibulkBytes(copy)
        local(conn, copy, s)
        conn.qbufExtra = 0
        Object.assign(conn.argv, was)
        if (s.buf[0] === 45) this.localError(cmd, s.buf, 0, s.len)
        conn.onReply(seq, s.buf, 0, s.len)
        s.shrink()
        // Parse what arrived meanwhile (a paused or blocked connection resumes as usual).
        if (!conn.isClosed) conn.process()
      })
      return
    }
    if (conn.isReplyHead) {
      const out = conn.out
      const at = out.len
      out.resp3 = conn.resp === 3
      local(conn, argv, out)
      if (conn.waitMs >= 0) { this.startWait(conn); return }
      if (conn.deferred !== null) { this.startDeferred(conn, cmd); return }
      if (out.buf[at] === 45) this.localError(cmd, out.buf, at, out.len)
      conn.headSeq++
      conn.nextSeq++
    } else {
      const s = this.scratch
      s.reset()
      s.resp3 = conn.resp === 3
      local(conn, argv, s)
      if (conn.waitMs >= 0) { this.startWait(conn); return }
      if (conn.deferred !== null) { this.startDeferred(conn, cmd); return }
      if (s.buf[0] === 45) this.localError(cmd, s.buf, 0, s.len)
      conn.replyLocalBytes(s.buf.subarray(0, s.len))
    }
  }

  /** A reply that comes later (Connection.deferReply): its slot is kept, later requests wait, as for a gather. */
  private startDeferred (conn: Connection, cmd: Command): void {
    const reply = conn.deferred as Promise<Uint8Array>
    conn.deferred = null
    const seq = conn.takeSeq()
    conn.isGathering = true
    void reply.then(bytes => {
      conn.isGathering = false
      if (bytes[0] === 45) this.localError(cmd, bytes, 0, bytes.length)
      conn.onReply(seq, bytes, 0, bytes.length)
      if (!conn.isClosed) conn.process()
    })
  }

  /**
   * A command ran (or, for EXEC and SUBSCRIBE & co., was dispatched) on this thread since t0:
   * its call, latency sample, an error it answered at once and, past slowlog-log-slower-than,
   * its SLOWLOG entry. The primary route's errors are counted by runLocal.
   */
  private ranHere (conn: Connection, cmd: Command, argv: Argv, t0: number): void {
    const us = (performance.now() - t0) * 1000
    this.cmdStats.call(cmd.id, us * 1000)
    // An error it answered at once (EXEC without MULTI, EXECABORT, a bad EVAL numkeys...).
    const err = conn.lastLocalError
    if (err !== null) { conn.lastLocalError = null; this.cmdStats.failed(cmd.id); this.cmdStats.error(err, 0, err.length) }
    this.sentWholeId = cmd.id
    const slower = this.cmdStats.stats.settings[SET_SLOWLOG_SLOWER]
    if (slower >= 0 && us >= slower) this.logSlow(conn, cmd, argv, us)
  }

  /**
   * slowlogPushCurrentCommand for a command that ran here or across shards: the entry goes to
   * shard 0's log (commands/slowlog.ts), with an id taken now.
   */
  private logSlow (conn: Connection, cmd: Command, args: Argv | Buffer[], us: number): void {
    if (cmd.flags.includes('skip_slowlog')) return
    this.pushSlow(Array.isArray(args) ? args : slowArgs(args), Buffer.from(conn.addr, 'latin1'), conn.name ?? Buffer.alloc(0), us)
  }

  private pushSlow (args: Buffer[], addr: Buffer, name: Buffer, us: number): void {
    if (this.links.length === 0) return
    const e = { id: this.cmdStats.stats.nextSlowlogId(), timeSec: Math.floor(Date.now() / 1000), us: Math.floor(us), args, addr, name }
    this.sendNoReply(0, this.slowlogAddId, slowlogRecord(e))
  }

  /** A held script's redis.call past slowlog-log-slower-than (scripting/call-checks.ts countCall), logged as Redis's script client. */
  logScriptCall (argv: Buffer[], us: number): void {
    this.pushSlow(slowArgs(argvOf(argv)), SCRIPT_CLIENT_ADDR, NO_NAME, us)
  }

  /** A script the producer holds the shards for (server/scripting.ts): counted by scriptRan once it has run, not at dispatch. */
  countsLater (cmd: Command): void { this.sentWholeId = cmd.id }

  /**
   * A held script (or SCRIPT/FUNCTION command) ran from t0 to its reply: its call, time and
   * latency sample, the errors in its reply, and its SLOWLOG entry, made after those of its
   * redis.calls, as call() logs it once the script has returned.
   */
  scriptRan (conn: Connection, cmd: Command, argv: Argv, reply: Uint8Array, t0: number): void {
    const us = (performance.now() - t0) * 1000
    this.cmdStats.call(cmd.id, us * 1000)
    countScriptReply(this.cmdStats, cmd.id, reply)
    const slower = this.cmdStats.stats.settings[SET_SLOWLOG_SLOWER]
    if (slower >= 0 && us >= slower) this.logSlow(conn, cmd, argv, us)
  }

  private readonly slowlogAddId = internalCommand('__slowlog').id

  /** A command EXEC ran on this thread since t0: its call and time, and the error it answered. */
  ranInExec (cmd: Command, reply: Uint8Array, t0: number): void {
    this.cmdStats.call(cmd.id, (performance.now() - t0) * 1e6)
    if (reply[0] === 45) this.localError(cmd, reply, 0, reply.length)
  }

  /** A command run here replied with an error: failed_calls, total_error_replies, errorstats. */
  private localError (cmd: Command, buf: Uint8Array, at: number, end: number): void {
    this.counters[LOCAL_ERRORS]++
    this.cmdStats.failed(cmd.id)
    this.cmdStats.error(buf, at, end)
  }

  /**
   * WAIT with replicas asked for: there are none, so the client blocks for its timeout (0:
   * until CLIENT UNBLOCK or it leaves), then gets :0, as Redis answers with no replica acks.
   */
  private startWait (conn: Connection): void {
    const ms = conn.waitMs
    conn.waitMs = -1
    const seq = conn.takeSeq()
    conn.blockingSeq = seq
    conn.isBlockedOnKeys = true
    // Timed out, or CLIENT UNBLOCK: :0 acks; CLIENT UNBLOCK ... ERROR gives the UNBLOCKED error.
    const end = (mode = 0): boolean => {
      if (conn.blockingSeq !== seq) return false
      if (timer !== null) clearTimeout(timer)
      const reply = mode === 1 ? UNBLOCKED : ZERO_REPLY
      conn.onReply(seq, reply, 0, reply.length)
      return true
    }
    const timer = ms > 0 ? setTimeout(end, ms) : null
    timer?.unref()
    conn.crossBlock = { unblock: mode => end(mode) }
  }

  flags (conn: Connection): number {
    const f = conn.resp === 3 ? REQ_RESP3 : 0
    return conn.trk === null ? f : f | conn.trk.req
  }

  /**
   * The shard every key of the command is on (0 when it has none), or -1 when its keys span
   * shards. Plain key positions are walked without a key list (a BLPOP per round of a
   * ping-pong, an XREAD of one stream).
   */
  private soleShard (cmd: Command, argv: Argv): number {
    const n = this.links.length
    if (n === 1) return 0
    const { buf, start, len } = argv
    if (cmd.getKeys !== undefined) {
      const keys = cmd.getKeys(argv)
      if (keys === null || keys.length === 0) return 0
      const s = shardOfKey(buf, start[keys[0]], len[keys[0]], n)
      for (let i = 1; i < keys.length; i++) if (shardOfKey(buf, start[keys[i]], len[keys[i]], n) !== s) return -1
      return s
    }
    const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
    if (cmd.firstKey > last) return 0
    const s = shardOfKey(buf, start[cmd.firstKey], len[cmd.firstKey], n)
    for (let k = cmd.firstKey + cmd.step; k <= last; k += cmd.step) if (shardOfKey(buf, start[k], len[k], n) !== s) return -1
    return s
  }

  /** Key argument indexes: the row's range, or getKeys for movable keys (null: malformed). */
  keyIndexes (cmd: Command, argv: Argv): number[] | null {
    if (cmd.getKeys !== undefined) return cmd.getKeys(argv)
    const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
    const keys: number[] = []
    for (let k = cmd.firstKey; k <= last; k += cmd.step) keys.push(k)
    return keys
  }

  private sendKey (conn: Connection, cmd: Command, argv: Argv): boolean {
    const n = this.links.length
    let k = cmd.firstKey
    if (cmd.getKeys !== undefined) {
      const keys = cmd.getKeys(argv)
      if (keys === null || keys.length === 0) return this.sendWhole(conn, cmd, argv, 0)
      k = keys[0]
    }
    const s = n === 1 ? 0 : shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
    return this.sendWhole(conn, cmd, argv, s)
  }

  sendWhole (conn: Connection, cmd: Command, argv: Argv, s: number): boolean {
    const link = this.links[s]
    if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
    const bytes = Link.recordBytes(argv, null, argv.argc)
    if (!link.canTake(bytes)) { this.block(conn, link); return false }
    const seq = conn.takeSeq()
    this.sentWholeId = cmd.id
    // A subscriber's requests on the hub: messages the hub sends before answering go first.
    if (s === 0 && conn.subs !== null) (conn.hubSeqs ??= []).push(seq)
    link.send(cmd.id, this.flags(conn), conn.db, argv, null, argv.argc, bytes, conn, seq, conn.slot)
    this.scheduleTurn()
    return true
  }

  private sendSplit (conn: Connection, cmd: Command, argv: Argv): boolean {
    const n = this.links.length
    const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
    if (n === 1) return this.sendWhole(conn, cmd, argv, 0)
    // Shard of each key group; if they all agree, the command goes whole to that shard.
    const counts = this.shardCount
    counts.fill(0)
    let first = -1
    let isSingle = true
    for (let k = cmd.firstKey; k <= last; k += cmd.step) {
      const s = shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
      counts[s]++
      if (first < 0) first = s
      else if (s !== first) isSingle = false
    }
    if (isSingle) return this.sendWhole(conn, cmd, argv, first)
    // Near a full arena, a write with a whole-or-nothing form (MSET) takes it: its parts could
    // otherwise be set on one shard and refused on another.
    if (cmd.coord !== undefined && this.isArenaTight(argv, counts)) return this.sendCoord(conn, cmd, argv)

    const { partArgs, shardOfPart, positions, keyCount: ki } = planSplit(cmd, argv, n)
    // With the AOF on, a write's parts go as __exec records in one AOF group: the file gets them
    // as one block, so a crash between two shards' writes cannot keep one part alone.
    const grouped = cmd.isWrite && aofIsOn() ? this.groupedParts(conn, cmd, argv, partArgs, shardOfPart) : null
    // Every part can be staged now, or none is: a multi-shard write that fails changed nothing.
    for (let p = 0; p < partArgs.length; p++) {
      const link = this.links[shardOfPart[p]]
      if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
      const bytes = grouped === null ? Link.recordBytes(argv, Int32Array.from(partArgs[p]), partArgs[p].length) : Link.recordBytes(grouped[p], null, grouped[p].argc)
      if (!link.canTake(bytes)) { this.block(conn, link); return false }
    }
    if (!this.mayStartBigSplit(conn, cmd)) return false
    const split = new SplitReply(this, conn, conn.takeSeq(), cmd, partArgs.length)
    this.sentWholeId = cmd.id
    // SLOWLOG may want the arguments once the parts are merged (slowlog-log-slower-than >= 0).
    if (this.cmdStats.stats.settings[SET_SLOWLOG_SLOWER] >= 0) split.slowArgs = slowCopy(argv)
    if (cmd.merge === 'byKeyOrder') {
      split.elems = new Array<Buffer>(ki)
      split.positions = positions
    }
    const flags = this.flags(conn) | REQ_NOPARK
    const tickets = this.ticketsFor(shardOfPart, partArgs.length)
    if (grouped !== null) {
      const target = new GroupedPartReply(split)
      for (let p = 0; p < partArgs.length; p++) {
        const rec = grouped[p]
        this.links[shardOfPart[p]].send(GROUPED_PART_ID, flags, conn.db, rec, null, rec.argc, Link.recordBytes(rec, null, rec.argc),
          target, p, conn.slot, tickets === null ? 0 : tickets[p])
      }
      this.scheduleTurn()
      return true
    }
    for (let p = 0; p < partArgs.length; p++) {
      const idx = this.argIndex(partArgs[p])
      this.links[shardOfPart[p]].send(cmd.id, flags, conn.db, argv, idx, partArgs[p].length, Link.recordBytes(argv, idx, partArgs[p].length),
        split, p, conn.slot, tickets === null ? 0 : tickets[p])
    }
    this.scheduleTurn()
    return true
  }

  /** A split write's parts as groupedPart records, by part; their group lists the shards sorted. */
  private groupedParts (conn: Connection, cmd: Command, argv: Argv, partArgs: readonly number[][], shardOfPart: readonly number[]): Argv[] {
    const group = this.aofGroup([...shardOfPart].sort((a, b) => a - b))
    return partArgs.map(idx => groupedPart(cmd, conn.db, argv, idx, group))
  }

  /**
   * Parts of a multi-shard command never park (server/credits.ts), so one whose reply can be
   * big (MGET, KEYS, INFO) starts only when the client has none in flight: then its credit
   * counts the last one before the next is sent, and a pipeline of them cannot outrun it.
   */
  private mayStartBigSplit (conn: Connection, cmd: Command): boolean {
    if (!isBigMerge(cmd)) return true
    if (conn.bigSplits === 0) { conn.bigSplits++; return true }
    this.blocked.add(conn)
    return false
  }

  /**
   * With several producers per shard, the tickets that order this multi-shard command on each of
   * its shards (server/sequencer.ts); null with one producer, where staging order is enough.
   * Taken only once every part is sure to be staged.
   */
  ticketsFor (shards: ArrayLike<number>, n: number): Int32Array | null {
    if (this.sequencer === null) return null
    if (this.tickets.length < n) this.tickets = new Int32Array(n)
    this.sequencer.take(shards, n, this.tickets)
    return this.tickets
  }

  private argIndex (args: number[]): Int32Array {
    if (this.idx.length < args.length) this.idx = new Int32Array(args.length * 2)
    for (let i = 0; i < args.length; i++) this.idx[i] = args[i]
    return this.idx
  }

  /**
   * A route-'all' command of the server's own, no client (the save points' BGSAVE): replies
   * dropped. False when a shard cannot take it now.
   */
  sendAllInternal (cmd: Command, argv: Argv): boolean {
    const bytes = Link.recordBytes(argv, null, argv.argc)
    for (const link of this.links) if (link.isDead || !link.canTake(bytes)) return false
    const tickets = this.ticketsFor(this.allShards, this.links.length)
    for (let s = 0; s < this.links.length; s++) {
      this.links[s].send(cmd.id, REQ_NOPARK, 0, argv, null, argv.argc, bytes, ignoreReply, 0, 0, tickets === null ? 0 : tickets[s])
    }
    this.scheduleTurn()
    return true
  }

  private sendAll (conn: Connection, cmd: Command, argv: Argv): boolean {
    const bytes = Link.recordBytes(argv, null, argv.argc)
    for (const link of this.links) {
      if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
      if (!link.canTake(bytes)) { this.block(conn, link); return false }
    }
    if (!this.mayStartBigSplit(conn, cmd)) return false
    if (cmd.admit !== undefined) {
      const err = cmd.admit(conn, argv)
      if (err !== null) { conn.bigSplits--; return this.reject(conn, err, cmd) }
    }
    cmd.begin?.(conn)
    const split = new SplitReply(this, conn, conn.takeSeq(), cmd, this.links.length)
    this.sentWholeId = cmd.id
    if (cmd.merge === 'custom') {
      split.parts = new Array<Buffer>(this.links.length)
      split.argvCopy = copyArgv(argv)
    }
    if (this.cmdStats.stats.settings[SET_SLOWLOG_SLOWER] >= 0) split.slowArgs = slowCopy(argv)
    const flags = this.flags(conn) | REQ_NOPARK
    const tickets = this.ticketsFor(this.allShards, this.links.length)
    for (let s = 0; s < this.links.length; s++) {
      this.links[s].send(cmd.id, flags, conn.db, argv, null, argv.argc, bytes, split, s, conn.slot, tickets === null ? 0 : tickets[s])
    }
    this.scheduleTurn()
    return true
  }

  /** Keys on one shard: the plain handler there. Several: a transaction holding them all. */
  /**
   * True when a shard the command writes to (counts[s] > 0) has less arena room left than the
   * command's bytes twice over plus ARENA_MARGIN. The room is what the shard last published;
   * the margin covers what requests staged before this one may take meanwhile.
   */
  private isArenaTight (argv: Argv, counts: Int32Array): boolean {
    let bytes = 0
    for (let i = 0; i < argv.argc; i++) bytes += argv.len[i]
    const need = ARENA_MARGIN + 2 * bytes
    for (let s = 0; s < this.links.length; s++) {
      if (counts[s] > 0 && this.links[s].stats[STAT_ARENA_ROOM] < need) return true
    }
    return false
  }

  private sendCoord (conn: Connection, cmd: Command, argv: Argv): boolean {
    const n = this.links.length
    // SORT's patterns may name any key: it holds every shard.
    const isAll = n > 1 && cmd.allShards?.(argv) === true
    // Keys all on one shard (XREAD of one stream, SORT without patterns...): one hop.
    const one = isAll ? -1 : this.soleShard(cmd, argv)
    if (one >= 0) return this.sendWhole(conn, cmd, argv, one)
    const keys = this.keyIndexes(cmd, argv)
    if (keys === null || keys.length === 0) return this.sendWhole(conn, cmd, argv, 0)
    const involved: number[] = []
    for (const k of keys) {
      const s = shardOfKey(argv.buf, argv.start[k], argv.len[k], n)
      if (!involved.includes(s)) involved.push(s)
    }
    if (isAll) for (let s = 0; s < n; s++) if (!involved.includes(s)) involved.push(s)
    if (involved.length === 1) return this.sendWhole(conn, cmd, argv, involved[0])
    // Without keyspace events, the two shards move the value between them.
    if (involved.length === 2 && this.moveBase[cmd.id] >= 0 && this.sharedFlags[NOTIFY_WORD] === 0) {
      const flags = this.moveFlags(cmd, argv, conn.db)
      // Option errors (COPY's, LMOVE's LEFT|RIGHT) come from the hold's path, as they always have.
      if (flags >= 0) return this.sendMove(conn, cmd, argv, aofIsOn() ? flags | XMOVE_AOF : flags, (flags & XMOVE_COPY) !== 0 ? copyOpts.db : conn.db)
    }
    involved.sort((a, b) => a - b)
    const marker = this.txnMarker
    for (const s of involved) {
      const link = this.links[s]
      if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
      if (!link.canTake(Link.recordBytes(marker, null, 1))) { this.block(conn, link); return false }
    }
    const txn = new Txn(this, conn, conn.takeSeq(), cmd, involved)
    const tickets = this.ticketsFor(involved, involved.length)
    for (let k = 0; k < involved.length; k++) {
      const s = involved[k]
      this.links[s].send(this.txnBeginId, REQ_NOPARK, conn.db, marker, null, 1, Link.recordBytes(marker, null, 1), txn, s, conn.slot,
        tickets === null ? 0 : tickets[k])
      this.links[s].markSync()
    }
    txn.execute(copyArgv(argv)).catch(err => this.onClientError(conn, err))
    this.scheduleTurn()
    return true
  }

  private static readonly XMOVE_NAME = Buffer.from('__xmove')
  private readonly xmoveId = internalCommand('__xmove').id
  /** By command id: the __xmove flags of the commands that may run as a move (commands/xmove.ts), else -1. */
  private readonly moveBase = Int16Array.from(commands, c => MOVE_FLAGS[c.name] ?? -1)

  /** The __xmove flags of a move command, or -1 when its options are wrong (the hold answers those). */
  private moveFlags (cmd: Command, argv: Argv, db: number): number {
    const base = this.moveBase[cmd.id]
    if ((base & XMOVE_COPY) !== 0) return parseCopyOptionsOrError(argv, db) === null ? base | (copyOpts.isReplace ? XMOVE_REPLACE : 0) : -1
    if (base === XMOVE_LIST && argv.argc === 5) {
      // LMOVE's LEFT|RIGHT (RPOPLPUSH's are in its table entry).
      const { buf, start, len } = argv
      const from = listPosition(buf, start[3], len[3])
      const to = listPosition(buf, start[4], len[4])
      if (from < 0 || to < 0) return -1
      return XMOVE_LIST | (from === LIST_TAIL ? XMOVE_FROM_TAIL : 0) | (to === LIST_TAIL ? XMOVE_TO_TAIL : 0)
    }
    return base
  }

  /**
   * The next id of a move (commands/xmove.ts). Never 0 with the producer folded in: the count runs
   * 1..2^23-1.
   */
  private nextExchangeId (): number {
    if (++this.xmoveCount > 0x7fffff) this.xmoveCount = 1
    return exchangeId(this.xmoveCount, this.producer + 1)
  }

  /** The group of a transaction's parts on `shards` (sorted, each with commands) staged while the AOF is on. */
  aofGroup (shards: readonly number[]): Buffer {
    return groupMeta(shards, shards.map(s => xmoveDeaths(this.xmove, s)))
  }

  /**
   * RENAME/RENAMENX/COPY/LMOVE/RPOPLPUSH/SMOVE with its keys on two shards: one __xmove record on
   * each, staged in one step (commands/xmove.ts); the source's part answers for the command.
   * `dstDb`: COPY's DB.
   */
  private sendMove (conn: Connection, cmd: Command, argv: Argv, flags: number, dstDb: number): boolean {
    const n = this.links.length
    const { buf, start, len } = argv
    const src = shardOfKey(buf, start[1], len[1], n)
    const dst = shardOfKey(buf, start[2], len[2], n)
    const a = buf.subarray(start[1], start[1] + len[1])
    const b = buf.subarray(start[2], start[2] + len[2])
    const id = this.nextExchangeId()
    // SMOVE's member goes in both records.
    const member = (flags & XMOVE_SET) !== 0 ? [buf.subarray(start[3], start[3] + len[3])] : []
    const srcArgv = argvOf([Router.XMOVE_NAME, a, b, xmoveMeta(id, dst, flags | XMOVE_SRC, xmoveDeaths(this.xmove, dst)), ...member])
    const dstArgv = argvOf([Router.XMOVE_NAME, b, a, xmoveMeta(id, src, flags, xmoveDeaths(this.xmove, src)), ...member])
    const srcBytes = Link.recordBytes(srcArgv, null, srcArgv.argc)
    const dstBytes = Link.recordBytes(dstArgv, null, dstArgv.argc)
    for (const [s, bytes] of [[src, srcBytes], [dst, dstBytes]]) {
      const link = this.links[s]
      if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
      if (!link.canTake(bytes)) { this.block(conn, link); return false }
    }
    const split = new SplitReply(this, conn, conn.takeSeq(), cmd, 2)
    split.keepPart = 0
    this.sentWholeId = cmd.id
    if (this.cmdStats.stats.settings[SET_SLOWLOG_SLOWER] >= 0) split.slowArgs = slowCopy(argv)
    const reqFlags = this.flags(conn) | REQ_NOPARK
    const tickets = this.ticketsFor(Int32Array.of(src, dst), 2)
    this.links[src].send(this.xmoveId, reqFlags, conn.db, srcArgv, null, srcArgv.argc, srcBytes, split, 0, conn.slot, tickets === null ? 0 : tickets[0])
    this.links[dst].send(this.xmoveId, reqFlags, dstDb, dstArgv, null, dstArgv.argc, dstBytes, split, 1, conn.slot, tickets === null ? 0 : tickets[1])
    this.counters[XMOVES]++
    this.scheduleTurn()
    return true
  }

  /** Requests this thread has staged on any shard so far. */
  stagedCount (): number {
    let n = 0
    for (const link of this.links) n += link.stagedCount
    return n
  }

  /**
   * A transaction holding every shard, running `coord` (a script: any key may be touched).
   * 'staged': the command is on its way; 'answered': replied here (a shard is down); 'blocked':
   * a ring is full, retry later.
   */
  sendHeldAll (conn: Connection, cmd: Command, argv: Argv, coord: CoordHandler, onTxn: (txn: Txn) => void = () => {}, seq = -1): 'staged' | 'answered' | 'blocked' {
    const marker = this.txnMarker
    const all = this.allShards
    for (const link of this.links) {
      if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return 'answered' }
      if (!link.canTake(Link.recordBytes(marker, null, 1))) { this.block(conn, link); return 'blocked' }
    }
    // (seq: a script that stopped in a shard's worker runs again under the number it had.)
    const txn = new Txn(this, conn, seq >= 0 ? seq : conn.takeSeq(), cmd, Array.from(all))
    const tickets = this.ticketsFor(all, all.length)
    for (let s = 0; s < all.length; s++) {
      this.links[s].send(this.txnBeginId, REQ_NOPARK, conn.db, marker, null, 1, Link.recordBytes(marker, null, 1), txn, s, conn.slot,
        tickets === null ? 0 : tickets[s])
      this.links[s].markSync()
    }
    onTxn(txn)
    txn.execute(copyArgv(argv), coord).catch(err => this.onClientError(conn, err))
    this.scheduleTurn()
    return 'staged'
  }

  /**
   * A blocking list command: on its keys' shard, which blocks the client if it must; keys on
   * several shards wait here (server/blocking.ts). Either way nothing after it is parsed until
   * it is answered.
   */
  private sendBlock (conn: Connection, cmd: Command, argv: Argv): boolean {
    const s = this.soleShard(cmd, argv)
    if (s < 0) {
      const seq = conn.takeSeq()
      conn.blockingSeq = seq
      new CrossBlock(this, conn, seq, cmd, copyArgv(argv), this.keyIndexes(cmd, argv) as number[]).start()
      return true
    }
    const link = this.links[s]
    if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
    const seq = conn.nextSeq
    if (!this.sendWhole(conn, cmd, argv, s)) return false
    conn.blockingSeq = seq
    conn.blockedShard = s
    return true
  }

  /**
   * A message published before a subscriber's next command must reach it before that
   * command's reply, as in Redis: while this thread has subscribers, the hub's replies and
   * messages already published are taken before any client's bytes are parsed.
   */
  beforeRead (): void {
    if (this.pubsub.hasLocal) this.links[0].drain()
    // While any client tracks, invalidations already published (by any shard) go before
    // whatever the client sent next, as Redis has them in its output first.
    if (this.tracking.words.g[G_CLIENTS] !== 0) this.tracking.takePublished(this.links)
  }

  /** CLIENT UNBLOCK (mode 0: timeout, 1: error) or a blocked client left (2): true if it was waiting. */
  unblock (conn: Connection, mode: number): boolean {
    if (conn.crossBlock !== null) return conn.crossBlock.unblock(mode)
    const s = conn.blockedShard
    if (s < 0 || !conn.isBlockedOnKeys || this.links[s].isDead) return false
    this.sendUnblock(s, conn.slot, mode)
    return true
  }

  /** __unblock slot mode to shard s (modes: see commands/internal.ts). */
  sendUnblock (s: number, slot: number, mode: number): void {
    const b = Buffer.allocUnsafe(8)
    b.writeUInt32LE(slot, 0)
    b.writeUInt32LE(mode, 4)
    this.sendNoReply(s, this.unblockId, [UNBLOCK_NAME, b.subarray(0, 4), b.subarray(4)])
  }

  private readonly unblockId = internalCommand('__unblock').id

  /**
   * Records no client waits for (UNWATCH, unblock, unsubscribe, monitor lines) that wait here
   * while their shard's ring is full, per shard, in order: they go when it drains.
   */
  private readonly noReplyQueue: Array<Array<{ id: number, rec: Argv, isTicketed: boolean }>> = []

  /** Stages a record that belongs to no client and whose reply is dropped. */
  sendNoReply (s: number, id: number, args: readonly Uint8Array[], isTicketed = false): void {
    const link = this.links[s]
    if (link.isDead) return
    const q = this.noReplyQueue[s] ??= []
    q.push({ id, rec: argvOf(args), isTicketed })
    this.flushNoReply(s)
    this.scheduleTurn()
  }

  private flushNoReply (s: number): void {
    const q = this.noReplyQueue[s]
    const link = this.links[s]
    while (q.length > 0 && !link.isDead) {
      const { id, rec, isTicketed } = q[0]
      const bytes = Link.recordBytes(rec, null, rec.argc)
      if (!link.canTake(bytes)) return
      q.shift()
      // A ticket (with several producers) orders it before whatever another I/O thread stages
      // once this turn's replies are out (server/sequencer.ts).
      const tickets = isTicketed ? this.ticketsFor([s], 1) : null
      link.send(id, REQ_NOPARK, 0, rec, null, rec.argc, bytes, ignoreReply, 0, 0, tickets === null ? 0 : tickets[0])
    }
    if (link.isDead) q.length = 0
  }

  /**
   * SCAN goes to the shard its cursor names. A shard that finishes its walk with an empty page
   * hands on to the next shard at once (ScanChain), so SCAN 0 on an empty database answers
   * cursor 0 as Redis does, and empty shards never cost the client a round trip.
   */
  private sendScan (conn: Connection, cmd: Command, argv: Argv): boolean {
    const s = cursorShard(argv.buf, argv.start[1], argv.len[1], this.links.length)
    if (this.links.length === 1) return this.sendWhole(conn, cmd, argv, s)
    const link = this.links[s]
    if (link.isDead) { conn.replyLocalBytes(SHARD_DOWN); return true }
    const bytes = Link.recordBytes(argv, null, argv.argc)
    if (!link.canTake(bytes)) { this.block(conn, link); return false }
    const flags = this.flags(conn)
    const chain = new ScanChain(this, conn, conn.takeSeq(), cmd, copyArgv(argv), s, conn.db, flags)
    link.send(cmd.id, flags, conn.db, argv, null, argv.argc, bytes, chain, 0, conn.slot)
    this.scheduleTurn()
    return true
  }

  /** Sends the next shard's part of a chained SCAN; false when it cannot be staged now. */
  continueScan (chain: ScanChain): boolean {
    const link = this.links[chain.shard]
    const argv = chain.argv
    const bytes = Link.recordBytes(argv, null, argv.argc)
    if (link.isDead || !link.canTake(bytes)) return false
    link.send(chain.cmd.id, chain.flags, chain.db, argv, null, argv.argc, bytes, chain, 0, chain.conn.slot)
    this.scheduleTurn()
    return true
  }

  readonly txnBeginId = internalCommand('__txn').id
  readonly txnMarker: Argv = { buf: Buffer.from('__txn'), argc: 1, start: Int32Array.of(0), len: Int32Array.of(5) }

  /** Steps and releases went out on step ports; flush replies and wake parked clients. */
  afterTxn (): void {
    this.scheduleTurn()
  }

  finishSplit (split: SplitReply): void {
    const conn = split.conn
    if (isBigMerge(split.cmd) && split.done === null) conn.bigSplits--
    const out = this.scratch
    out.reset()
    out.resp3 = conn.resp === 3
    if (split.error !== null) out.raw(split.error)
    else if (split.kept !== null) out.raw(split.kept)
    else {
      switch (split.cmd.merge) {
        case 'sum': out.int(split.sum); break
        case 'allOk': out.raw(OK); break
        case 'byKeyOrder': {
          const elems = split.elems as Buffer[]
          out.arrayHeader(elems.length)
          for (const e of elems) out.raw(e)
          break
        }
        case 'concat':
          out.arrayHeader(split.concatCount)
          for (const b of split.concat) out.raw(b)
          break
        case 'custom': split.cmd.finish?.(conn, split.argvCopy as Argv, split.parts as Buffer[], out); break
      }
    }
    // Counted once merged, as call() counts after the command ran: an INFO does not see
    // itself, a CONFIG RESETSTAT does. Each shard added its part's execution time to usec
    // already; the latency sample is the wait for all parts, as this thread saw it.
    if (split.done === null && split.cmd.route === 'all') this.counters[COMMANDS]++
    if (split.isCounted) {
      this.cmdStats.count(split.cmd.id)
      const us = (performance.now() - split.startedAt) * 1000
      this.cmdStats.sample(split.cmd.id, us * 1000)
      const slower = this.cmdStats.stats.settings[SET_SLOWLOG_SLOWER]
      if (slower >= 0 && us >= slower && split.slowArgs !== null) this.logSlow(conn, split.cmd, slowArgsOf(split.slowArgs), us)
      if (out.buf[0] === 45) { this.cmdStats.failed(split.cmd.id); this.cmdStats.error(out.buf, 0, out.len) }
    }
    if (split.done !== null) split.done(Buffer.from(out.buf.subarray(0, out.len)))
    else conn.onReply(split.seq, out.buf, 0, out.len)
    out.shrink()
  }

  block (conn: Connection, link: ShardLink): void {
    this.blocked.add(conn)
    // Let the worker start on what is staged so that space frees up.
    link.publish()
  }

  markDirty (conn: Connection): void {
    if (conn.isDirty) return
    conn.isDirty = true
    this.dirty[this.dirtyLen++] = conn
    this.scheduleTurn()
  }

  /**
   * A connection given a pub/sub message: written after this turn's replies, so that a publisher
   * has its reply before its subscribers have their copies and can send the next message while
   * they are written (Redis writes its newest pending client first, to the same effect).
   */
  markPushed (conn: Connection): void {
    if (conn.isDirty) return
    conn.isDirty = true
    this.pushed[this.pushedLen++] = conn
    this.scheduleTurn()
  }

  unstick (conn: Connection): void {
    for (const link of this.links) {
      if (link.forceHead(conn.slot, conn, conn.headSeq)) { this.scheduleTurn(); return }
    }
  }

  onClose (conn: Connection): void {
    this.blocked.delete(conn)
    this.postponed.delete(conn)
    if (conn.blockingSeq >= 0) this.unblock(conn, 2)
    this.pubsub.onClose(conn)
    this.txns.onClose(conn)
    this.tracking.onClose(conn)
  }

  /** A client was accepted this turn (server.ts): endOfTurn does not block for replies. */
  isAcceptTurn = false

  scheduleTurn (): void {
    if (this.isTurnScheduled) return
    this.isTurnScheduled = true
    setImmediate(this.runTurn)
  }

  /**
   * Once per event-loop turn: publish every shard's staged requests, optionally wait for their
   * replies, and write every dirty socket.
   */
  private endOfTurn (): void {
    this.isTurnScheduled = false
    const links = this.links
    for (let i = 0; i < links.length; i++) links[i].publish()
    // A turn that accepted a client does not wait: libuv accepts one client per loop turn, so a
    // burst of new clients takes as many turns, and waiting in each put the shards' round trip
    // between every two accepts (the last of 50 clients waited about 10 ms for its first reply).
    const isAccepting = this.isAcceptTurn
    this.isAcceptTurn = false
    if (this.replyWaitMs > 0 && !isAccepting) {
      const deadline = performance.now() + this.replyWaitMs
      let waited = false
      let isLate = false
      for (let i = 0; i < links.length; i++) {
        const r = links[i].awaitReplies(deadline)
        if (r !== null) { waited = true; if (!r) isLate = true }
      }
      if (waited) { this.counters[REPLY_WAITS]++; if (isLate) this.counters[REPLY_WAIT_TIMEOUTS]++ }
    }
    this.flushDirty()
  }

  private flushDirty (): void {
    const dirty = this.dirty
    // A flush may mark more connections (a resumed client's local replies): dirtyLen is live.
    // Bounded, so that a connection that keeps marking itself cannot hold the thread: what is
    // left past the bound goes to the next turn.
    const bound = this.dirtyLen * 4 + 1024
    for (let i = 0; i < this.dirtyLen; i++) {
      if (i === bound) {
        dirty.copyWithin(0, i, this.dirtyLen)
        this.dirtyLen -= i
        dirty.fill(null, this.dirtyLen, this.dirtyLen + i)
        this.scheduleTurn()
        return
      }
      const c = dirty[i] as Connection
      dirty[i] = null
      this.flushOne(c)
    }
    this.dirtyLen = 0
    if (this.pushedLen > 0) this.flushPushed()
  }

  private flushPushed (): void {
    const pushed = this.pushed
    for (let i = 0; i < this.pushedLen; i++) {
      const c = pushed[i] as Connection
      pushed[i] = null
      this.flushOne(c)
    }
    this.pushedLen = 0
    // Replies made while these were written: the next turn writes them.
    if (this.dirtyLen > 0) this.scheduleTurn()
  }

  private flushOne (c: Connection): void {
    try {
      c.flush()
    } catch (err) {
      this.onClientError(c, err)
    }
  }

  /**
   * A wake-up message from any shard: the links share one wake word, so drain them all, then
   * write once. Shard 0 first: the hub's pub/sub messages go before replies from other shards.
   */
  private readonly drainAll = (): void => {
    const links = this.links
    links[0].clearWake()
    let any = false
    for (let i = 0; i < links.length; i++) if (links[i].drain(true)) any = true
    if (any) this.afterDrain()
  }

  private afterDrain (): void {
    this.flushDirty()
    for (let s = 0; s < this.noReplyQueue.length; s++) if (this.noReplyQueue[s]?.length > 0) this.flushNoReply(s)
    if (this.blocked.size > 0) {
      const waiting = [...this.blocked]
      this.blocked.clear()
      for (const c of waiting) {
        try {
          c.maybeResume()
        } catch (err) {
          this.onClientError(c, err)
        }
      }
    }
  }

  /** True when no shard has requests outstanding (used by graceful shutdown). */
  get isIdle (): boolean {
    for (const link of this.links) if (link.pending > 0) return false
    return true
  }
}
