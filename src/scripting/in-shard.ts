// Scripts inside a shard worker (workers/shard-worker.ts), at one shard: EVAL, EVALSHA, their _RO
// forms, FCALL and FCALL_RO arrive as ordinary records (server/scripting.ts sends them when the
// client is not in MULTI, no script is busy and its ACL user is unrestricted), and each
// redis.call runs the command in place on the worker's own shard, the way a command sent to the
// shard runs: no hold, no hop per call. The checks before a call are the held path's
// (scripting/call-checks.ts, shared with server/scripting.ts CallHost); the commands that
// run on a producer thread (PING, ECHO, TIME, LASTSAVE, COMMAND, the HELP subcommands...) run
// here through their `local` with a stand-in client, SELECT changes the script's database.
// FLUSHALL, FLUSHDB and SWAPDB run here too (this worker is every shard). Each call is counted
// in this shard's stats row and SLOWLOG as Redis's call() counts it (call-checks.ts countCall).
//
// The script cache and the libraries are the hub's (shard 0 is this worker): an EVAL's body is
// stored there as __script STORE would, EVALSHA reads it there, and the shared SCRIPT_EPOCH_WORD
// says when SCRIPT FLUSH or a FUNCTION change makes the compiled ones stale.
//
// With several shards, a script whose declared keys all live on this shard comes here too. Each
// redis.call first asks whether this shard alone serves it (isForeign: its keys here, not a
// command for every shard, the hub or a cursor over shards); if not, the run stops (the engine's
// abort: every new line raises, so a pcall cannot go on), the worker undoes what it wrote
// (workers/shard-worker.ts) and the producer runs the script again holding every shard. Another
// shard than 0 keeps the bodies its producers sent it (__script STORE to this shard) and answers
// a sha it lacks, or FCALL, by the same rerun.

import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'
import { BroadcastChannel } from 'node:worker_threads'
import type { Argv, ClientContext } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { commandOfArgv } from '../commands/table.js'
import { argsOf, bytesAt } from '../commands/txn-helpers.js'
import { hubScript, storeHubScript, forgetHubScripts } from '../commands/scripting.js'
import { shardOfKey } from '../storage/hash.js'
import { libraryCodes } from '../commands/functions.js'
import { errorReply } from '../protocol/errors.js'
import { OK } from '../protocol/replies.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { luaMonitorLine } from '../protocol/monitor.js'
import { SCRIPT_EPOCH_WORD } from '../ipc/layout.js'
import { ScriptEngine, ShaMemo, sha1hex, type ScriptHost, type ScriptLog } from './scripts.js'
import { fcallChecks, FunctionEngine } from './functions.js'
import { BUSY_CHANNEL, callRefusal, countCall, countRefused, failsFirst, NOSCRIPT, NOT_ALLOWED, selectedDb, type CallContext, type CallStats } from './call-checks.js'

const NOT_FOUND = errorReply('ERR Function not found')
/** What a stopped run's redis.call answers (raised; the run's reply is dropped). */
const STOPPED = errorReply('ERR the script needs another shard: it runs again holding every shard')

/** What the worker lends the scripts: its command execution and its view of memory. */
export interface ShardRunner {
  /** This shard's index, and how many shards the server has. */
  readonly index: number
  readonly shards: number
  /**
   * Runs cmd (argv[0] its name) in database db as a command sent to this shard; the reply is
   * valid until the next run. argv is the script engine's scratch, used in place. keepUndo (a
   * write, several shards): what its keys hold is kept first, for an undo; null, and nothing
   * run, when a value is too big to keep (scripting/undo.ts).
   */
  run (cmd: Command, argv: Argv, db: number, resp3: boolean, keepUndo?: boolean): Uint8Array | null
  /** maxmemory under noeviction (0: no limit), and the memory used, as the router reads them. */
  maxmemoryLimit (): number
  usedMemory (): number
  /** LASTSAVE's unix seconds (a shared settings word). */
  lastSaveSec (): number
  /** A redis.call was accepted (total_commands_processed counts it, as the held path does). */
  counted (): void
  /** The shard's row of INFO commandstats & co., and its SLOWLOG. */
  readonly stats: CallStats
  /** Some client is in MONITOR: then `monitor` publishes a line to them (this worker is the hub). */
  isMonitored (): boolean
  monitor (line: Buffer): void
  /**
   * A command whose reply a producer makes from the shards' parts with its own state (INFO,
   * SLOWLOG, MEMORY STATS...): the script's producer merges this shard's part, and the worker
   * waits for it.
   */
  finish (cmd: Command, argv: Buffer[], part: Uint8Array, db: number, resp3: boolean): Uint8Array
}

/** The stand-in client a producer-side command sees inside a script (Redis's script client). */
interface ScriptClient { resp: 2 | 3, db: number, isSubscribed: boolean, isInMulti: boolean, server: { version: string, settings: { readonly lastSaveSec: number } } }

/** A view of argument i, no copy: valid while the record is (the whole run). */
function view (argv: Argv, i: number): Buffer {
  const b = argv.buf
  return Buffer.from(b.buffer, b.byteOffset + argv.start[i], argv.len[i])
}

/** string2ll for numkeys (the producer checked it already): digits read in place. */
function numkeys (argv: Argv): number {
  const b = argv.buf
  let n = 0
  for (let p = argv.start[2], end = p + argv.len[2]; p < end; p++) {
    const d = b[p] - 48
    if (d < 0 || d > 9) return Number(view(argv, 2).toString('latin1'))
    n = n * 10 + d
  }
  return n
}

export class ShardScripts implements ScriptHost {
  private fe: FunctionEngine | null = null
  /** The SCRIPT FLUSH (low 16 bits) and library (high 16 bits) counts the compiled code belongs to. */
  private flushEpoch: number
  private libEpoch = -1
  /** The running script's: its database (SELECT inside it), read-only, allow-oom, its engine. */
  private db = 0
  private current: ScriptEngine
  /** The running script's flags and what callRefusal checks (no ACL here: its user is unrestricted). */
  private readonly ctx: CallContext = {
    isReadOnly: false,
    allowOom: false,
    aclRefusal: null,
    isOverMaxmemory: () => { const max = this.runner.maxmemoryLimit(); return max > 0 && this.runner.usedMemory() > max },
    noteWrite: () => this.current.noteWrite(),
  }
  private readonly local = new ReplyWriter(64)
  private readonly client: ScriptClient
  private readonly busyChannel = new BroadcastChannel(BUSY_CHANNEL)
  /** The run needed another shard or the hub, or this shard lacked the script: drop its reply, undo, run it held. */
  private isStopped = false
  /** It stopped at a redis.call this shard alone does not serve (not for a missing script). */
  private isCrossShard = false
  /** The last run stopped at a write to a value too big to keep that the undo log cannot undo (scripting/undo.ts). */
  private isBigRefused = false
  private readonly shaMemo = new ShaMemo()

  private constructor (private readonly engine: ScriptEngine, private readonly words: Int32Array, state: Int32Array,
    private readonly runner: ShardRunner, private readonly log: ScriptLog, private readonly version: string) {
    engine.state = state
    this.current = engine
    this.flushEpoch = Atomics.load(words, SCRIPT_EPOCH_WORD) & 0xffff
    this.busyChannel.unref()
    const settings = { get lastSaveSec (): number { return runner.lastSaveSec() } }
    this.client = { resp: 2, db: 0, isSubscribed: false, isInMulti: true, server: { version, settings } }
  }

  static async create (words: Int32Array, state: Int32Array, runner: ShardRunner, log: ScriptLog, version: string): Promise<ShardScripts> {
    return new ShardScripts(await ScriptEngine.create(log, version), words, state, runner, log, version)
  }

  /** The function VM, made before the worker serves (so FCALL never waits for it). */
  async initFunctions (): Promise<void> {
    this.fe = await FunctionEngine.create(this.log, this.version)
    this.fe.engine.shareRandom(this.engine)
    this.fe.engine.state = this.engine.state
  }

  /** EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL or FCALL_RO (argv as the client sent it, checked by its producer): the reply. */
  run (cmd: Command, argv: Argv, db: number, resp3: boolean, busyMs: number): Buffer {
    this.isStopped = false
    this.isCrossShard = false
    this.isBigRefused = false
    const e = Atomics.load(this.words, SCRIPT_EPOCH_WORD)
    if ((e & 0xffff) !== this.flushEpoch) {
      this.flushEpoch = e & 0xffff
      this.engine.flush()
      // Not the hub: the bodies producers sent here may be gone from the hub's store.
      if (this.runner.index !== 0) forgetHubScripts()
    }
    this.db = db
    this.client.resp = resp3 ? 3 : 2
    if (cmd.name === 'fcall' || cmd.name === 'fcall_ro') {
      // The libraries are the hub's: another shard runs FCALL held (its producer sends none here).
      if (this.runner.index !== 0) return this.stop()
      return this.fcall(cmd, argv, e >>> 16, resp3, busyMs)
    }
    const engine = this.engine
    let sha: string
    if (cmd.name === 'eval' || cmd.name === 'eval_ro') {
      const body = view(argv, 1)
      sha = sha1hex(body)
      if (!engine.has(sha)) {
        const err = engine.compile(sha, body)
        if (err !== null) return errorReply(err)
      }
      if (hubScript(sha) === undefined) storeHubScript(sha, Buffer.from(body))
    } else {
      // evalGenericCommand takes the sha1 in any case.
      sha = this.shaMemo.of(argv)
      if (!engine.has(sha)) {
        const body = hubScript(sha)
        // Only the hub knows the script is not there; another shard asks it on the held path.
        if (body === undefined) return this.runner.index === 0 ? NOSCRIPT : this.stop()
        const err = engine.compile(sha, body)
        if (err !== null) return errorReply(err)
      }
    }
    const n = numkeys(argv)
    const keys: Uint8Array[] = []
    const args: Uint8Array[] = []
    for (let i = 3; i < argv.argc; i++) (i < 3 + n ? keys : args).push(bytesAt(argv, i))
    this.ctx.isReadOnly = cmd.flags.includes('readonly') || engine.isNoWrites(sha)
    this.ctx.allowOom = false
    this.current = engine
    return engine.executeSync(sha, keys, args, this, resp3, busyMs)
  }

  /** Functions.fcall's checks in its order, then the function as EVAL runs a script. */
  private fcall (cmd: Command, argv: Argv, libEpoch: number, resp3: boolean, busyMs: number): Buffer {
    const fe = this.fe
    if (fe === null) return errorReply('ERR scripting is not available on this shard')
    if (libEpoch !== this.libEpoch) {
      fe.releaseAll(fe.ctx)
      for (const code of libraryCodes()) fe.create(code, false, fe.ctx)
      this.libEpoch = libEpoch
    }
    const fi = fe.ctx.fns.get(view(argv, 1).toString('latin1').toLowerCase())
    if (fi === undefined) return NOT_FOUND
    const max = this.runner.maxmemoryLimit()
    const plan = fcallChecks(fi.flags, cmd.name === 'fcall_ro', view(argv, 2), argv.argc, () => max > 0 && this.runner.usedMemory() > max)
    if (!('n' in plan)) return plan
    const n = plan.n
    const keys: Uint8Array[] = []
    const args: Uint8Array[] = []
    for (let j = 3; j < argv.argc; j++) (j < 3 + n ? keys : args).push(bytesAt(argv, j))
    this.ctx.isReadOnly = plan.isReadOnly
    this.ctx.allowOom = plan.allowOom
    const engine = fe.engine
    this.current = engine
    let isBusy = false
    engine.onBusy = startMs => {
      isBusy = true
      const all: Uint8Array[] = []
      for (let j = 0; j < argv.argc; j++) all.push(Buffer.from(view(argv, j)))
      this.busyChannel.postMessage({ name: fi.name, argv: all, startMs, libs: fe.ctx.libs.size, fns: fe.ctx.fns.size })
    }
    try {
      return engine.executeSync(fi.name, keys, args, this, resp3, busyMs, fi.ref)
    } finally {
      engine.onBusy = null
      if (isBusy) this.busyChannel.postMessage(null)
    }
  }

  /** The last run stopped (see isForeign): its reply is to be dropped and its writes undone. */
  get wasStopped (): boolean { return this.isStopped }
  get wasCrossShard (): boolean { return this.isCrossShard }
  get wasBigRefused (): boolean { return this.isBigRefused }

  private stop (): Buffer {
    this.isStopped = true
    return STOPPED
  }

  /**
   * Several shards: does this shard alone not serve argv? A command for every shard (route
   * 'all': DBSIZE, KEYS, FLUSHALL, INFO...), the hub (PUBLISH: its pushes cannot be taken back)
   * or a cursor over shards (SCAN), a keyless one, or one with a key on another shard. Commands
   * a producer answers and the ones scripts may not call are left to call()'s checks.
   */
  private isForeign (argv: Argv): boolean {
    const cmd = commandOfArgv(argv)
    if (cmd === null) return false
    switch (cmd.route) {
      case 'primary': case 'txn': case 'pubsub': case 'script': return false
      case 'all': case 'hub': case 'cursor': return true
    }
    const { index, shards } = this.runner
    if (cmd.getKeys !== undefined) {
      let keys: number[] | null
      try {
        keys = cmd.getKeys(argv)
      } catch {
        return true
      }
      if (keys === null || keys.length === 0) return true
      for (const k of keys) if (k < argv.argc && shardOfKey(argv.buf, argv.start[k], argv.len[k], shards) !== index) return true
      return false
    }
    if (cmd.firstKey <= 0) return true
    const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
    for (let k = cmd.firstKey; k <= last && k < argv.argc; k += cmd.step) {
      if (shardOfKey(argv.buf, argv.start[k], argv.len[k], shards) !== index) return true
    }
    return false
  }

  /** redis.acl_check_cmd: the user is unrestricted (else the script took the held path). */
  aclCheck (argv: Argv): string | boolean {
    return commandOfArgv(argv) === null ? 'ERR Invalid command passed to redis.acl_check_cmd()' : true
  }

  /** redis.call: the held path's checks (callRefusal), then the command here and now, counted as call() counts it. */
  call (argv: Argv, isResp3: boolean): Uint8Array {
    if (this.runner.shards > 1 && (this.isStopped || this.isForeign(argv))) {
      if (!this.isStopped) { this.current.abort(); this.isCrossShard = true }
      return this.stop()
    }
    const found = commandOfArgv(argv)
    const refused = callRefusal(found, argv, this.ctx)
    if (refused !== null) { countRefused(this.runner.stats.cmdStats, found, refused); return refused }
    const cmd = found as Command
    this.runner.counted()
    const t0 = performance.now()
    const reply = this.runCall(cmd, argv, isResp3)
    countCall(this.runner.stats, cmd, argv, reply, t0)
    return reply
  }

  private runCall (cmd: Command, argv: Argv, isResp3: boolean): Uint8Array {
    // call() feeds monitors ("[<db> lua]"), after the command for SELECT's new database.
    if (cmd.name === 'select') {
      const r = this.select(view(argv, 1))
      if (this.runner.shards === 1 && this.runner.isMonitored()) this.runner.monitor(luaMonitorLine(this.db, argsOf(argv)))
      return r
    }
    // (Several shards: a producer sends no script here while anyone monitors.)
    if (cmd.isMonitored && this.runner.shards === 1 && this.runner.isMonitored()) this.runner.monitor(luaMonitorLine(this.db, argsOf(argv)))
    const fails = failsFirst(cmd, argv)
    if (fails !== null) return fails
    switch (cmd.route) {
      case 'primary': {
        // A command a producer answers (PING, ECHO, TIME, COMMAND...): its own code, with the script's client.
        const out = this.local
        out.reset()
        out.resp3 = isResp3
        this.client.db = this.db
        ;(cmd.local as (c: ClientContext, a: Argv, o: ReplyWriter) => void)(this.client as unknown as ClientContext, argv, out)
        return out.buf.subarray(0, out.len)
      }
      // Never reached: MULTI & co. and the pub/sub commands are noscript.
      case 'txn': return OK
      case 'pubsub': return NOT_ALLOWED
      // One shard only (at several, isForeign stopped the run): this worker is every shard, so
      // FLUSHALL, FLUSHDB and SWAPDB run here as sent whole, and nothing is kept for an undo.
      case 'all':
        if (cmd.merge === 'custom') return this.runner.finish(cmd, argsOf(argv), Buffer.from(this.runner.run(cmd, argv, this.db, isResp3) as Uint8Array), this.db, isResp3)
        return this.runner.run(cmd, argv, this.db, isResp3) as Uint8Array
      default: {
        const r = this.runner.run(cmd, argv, this.db, isResp3, cmd.isWrite && this.runner.shards > 1)
        if (r !== null) return r
        // A write to a value too big to keep that the undo log cannot undo: the script runs held
        // (and goes held from now on after a few such runs in a row: server/scripting.ts rerun).
        this.current.abort()
        this.isBigRefused = true
        return this.stop()
      }
    }
  }

  /** SELECT inside a script changes the script's database only. */
  private select (index: Buffer): Uint8Array {
    const db = selectedDb(index)
    if (typeof db !== 'number') return db
    this.db = db
    return OK
  }
}
