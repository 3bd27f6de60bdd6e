// One producer thread's scripting engine: its VM, its compiled scripts (sha1 → function), and
// the run of one script. A script runs in a Lua coroutine so that redis.call can wait: when the
// host answers a call at once (a command on a held shard, run in place) the reply is pushed and
// the script goes on inside the same resume; when the host returns a promise (a cross-shard
// command), the C function yields, the promise is awaited, and the reply is handed to the
// resumed coroutine. pcall of a Lua function runs it in a coroutine of its own (sandbox.ts) that
// passes such yields on. Lua 5.1 cannot yield across a C call, so such a call inside xpcall(), a
// coroutine the script made, or a function called back by C (table.sort's comparator...) fails
// with Lua's "attempt to yield across metamethod/C-call boundary" (README, Limits).

import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import type { LuaVm } from './lua.js'
import { createVm, LUA_MASKCOUNT, LUA_MASKLINE, LUA_REGISTRYINDEX, LUA_TFUNCTION, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, LUA_YIELD, TVALUE_BYTES } from './lua.js'
import { buildSandbox, SANDBOX_CHUNK, type Sandbox } from './sandbox.js'
import { isStatsIgnored, nanText, pushErrorTable, pushReply, writeLuaValue, writtenErrors } from './convert.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { formatScore } from '../storage/zset-type.js'
import { copyBytes, writeDigits } from '../bytes.js'
import type { Argv } from '../commands/spec.js'

/** What a running script asks of the server. */
export interface ScriptHost {
  /**
   * Runs redis.call's arguments (argv[0] is the command name): its reply bytes, or a function
   * that starts it and promises them (called only once the script has yielded). Refusals (unknown command, arity, not allowed...) are error replies like any other.
   * argv is the engine's scratch, valid until the script goes on: a host that keeps it past
   * this call (a reply still to come) copies it.
   */
  call (argv: Argv, isResp3: boolean): Uint8Array | (() => Promise<Uint8Array>)
  /** redis.acl_check_cmd: whether the script's caller may run argv (server/acl.ts), or the error text. */
  aclCheck (argv: Argv): string | boolean
}

export interface ScriptLog { debug (msg: string): void, info (msg: string): void, warn (msg: string): void }

/** One script's run: its host and the protocol redis.setresp chose. */
interface Run {
  host: ScriptHost
  readonly sha: string
  /** The coroutine the script runs in (a hook may also fire in a coroutine the script made). */
  co: number
  /** Coroutines of pcall (sandbox.ts) under co: they yield to it through their pcall, like co. */
  readonly threads: Set<number>
  /** The thread that yielded last (a redis.call waiting, or a busy pause). */
  yielded: number
  isResp3: boolean
  pending: Promise<Uint8Array> | null
  /** The pending call is redis.call: an error reply is raised in the script. */
  isRaising: boolean
  /** An error reply to raise at the script's next instruction (count hook), after a yield. */
  raise: Uint8Array | null
  readonly startMs: number
  /** busy-reply-threshold in ms (0: never busy). */
  readonly busyMs: number
  /** Past busy-reply-threshold: the state word says so, and the thread serves others between slices. */
  isBusy: boolean
  /** A write command ran (Redis's SCRIPT_WRITE_DIRTY): SCRIPT KILL answers UNKILLABLE. */
  hasWritten: boolean
  /** The count hook yielded to let the thread serve. */
  isSlice: boolean
  /** SCRIPT KILL was seen: the script is failing. */
  isKilled: boolean
  /** FCALL's run: the function's registry ref, called with KEYS and ARGV as its two arguments (-1: EVAL's script). */
  readonly fnRef: number
  /** Run by executeSync (inside a shard worker): the busy hook never yields, there is no event loop to turn. */
  readonly isSync: boolean
}

/** A run's state before its script starts. */
function newRun (host: ScriptHost, sha: string, busyMs: number, fnRef: number, isSync: boolean, threads = new Set<number>()): Run {
  return {
    host, sha, co: 0, threads, yielded: 0, isResp3: false, pending: null, isRaising: false, raise: null,
    startMs: Date.now(), busyMs, isBusy: false, hasWritten: false, isSlice: false, isKilled: false, fnRef, isSync,
  }
}

/**
 * Bits of the script-state word shared by every producer thread (server/shared-state.ts): a
 * script is past busy-reply-threshold (every router answers BUSY), it has written, SCRIPT KILL
 * asked it to stop. Only one script runs at a time in the whole server (each holds every shard),
 * so one word serves all threads; it is 0 whenever no script is busy.
 */
export const SCRIPT_BUSY = 1
export const SCRIPT_WROTE = 2
export const SCRIPT_KILLED = 4
/** The busy script is a function (FCALL): BUSY names FUNCTION KILL, and SCRIPT KILL refuses it. */
export const SCRIPT_FUNCTION = 8

/**
 * SCRIPT KILL from any thread (Redis's scriptKill): 'notbusy' when no script is past the
 * threshold, 'unkillable' once it wrote, else 'killed' (it fails at its next count hook).
 */
export function killScript (state: Int32Array, isEval = true): 'notbusy' | 'unkillable' | 'killed' | 'function' | 'eval' {
  for (;;) {
    const s = Atomics.load(state, 0)
    if ((s & SCRIPT_BUSY) === 0) return 'notbusy'
    if ((s & SCRIPT_WROTE) !== 0) return 'unkillable'
    // scriptKill: SCRIPT KILL of a function, FUNCTION KILL of an EVAL.
    if (isEval && (s & SCRIPT_FUNCTION) !== 0) return 'function'
    if (!isEval && (s & SCRIPT_FUNCTION) === 0) return 'eval'
    if ((s & SCRIPT_KILLED) !== 0 || Atomics.compareExchange(state, 0, s, s | SCRIPT_KILLED) === s) return 'killed'
  }
}

/**
 * What a script command's own stats count of a reply with errors in it (afterErrorReply per
 * error the reply holds): the errors to count in errorstats and total_error_replies, and those
 * that carried ignore_error_stats_update (a redis.call's, counted already), each of which moves
 * only the command's failed_calls. A script reply with no entry here is counted as any reply.
 */
export interface ReplyErrors { counted: Buffer[], flagged: number }
export const replyErrors = new WeakMap<Uint8Array, ReplyErrors>()

/** Instructions between two looks at the clock (Redis's luaMaskCountHook uses 100000). */
const HOOK_COUNT = 100000
/** lua_State's nCcalls and baseCcalls (unsigned short each) in Lua 5.1.5 on wasm32. */
const NCCALLS_OFFSET = 52
/** LUAI_MAXCCALLS of Lua 5.1: C calls nested deeper fail with "C stack overflow". */
const LUAI_MAXCCALLS = 200
/** lua_Debug's source (const char *) in Lua 5.1.5 on wasm32, after event, name, namewhat, what. */
const AR_SOURCE_OFFSET = 16
/** lua_Debug's event for a count hook (the first field). */
const LUA_HOOKCOUNT = 3
const SANDBOX_SOURCE = Buffer.from(SANDBOX_CHUNK, 'latin1')
/** The killed script's error (luaMaskCountHook), also what a write refused after the kill answers. */
export const KILLED = 'ERR Script killed by user with SCRIPT KILL...'
/** The write a host refuses once the script is killed: the kill's error, not a command's (no stats). */
export const KILLED_REPLY = Buffer.from(`-${KILLED}\r\n`, 'latin1')

export function sha1hex (body: Uint8Array): string {
  return createHash('sha1').update(body).digest('hex')
}

/**
 * Redis's lrand48 (rand.c): the 48-bit generator of POSIX. Redis 7.0 never reseeds it before a
 * script: one sequence from its initial state runs across every script (here, per VM).
 */
class Lrand48 {
  private x = 0x1234abcd330en
  seed (s: number): void { this.x = (BigInt(s & 0xffffffff) << 16n) | 0x330en }
  next (): number {
    this.x = (0x5deece66dn * this.x + 0xbn) & 0xffffffffffffn
    return Number(this.x >> 17n)
  }
}

/**
 * A Lua number as redis.call's argument: "%.17g" text, as luaArgsToRedisArgv writes it, at
 * b[p] (room for 32 bytes made by the caller); the position after it.
 */
function writeNumberArg (b: Buffer, p: number, d: number): number {
  // Integers (keys' counters, BullMQ's timestamps) as digits, with no string made.
  if (Number.isSafeInteger(d) && !Object.is(d, -0)) return writeDigits(b, p, d)
  return p + b.write(Number.isNaN(d) ? nanText(d) : formatScore(d), p, 'latin1')
}

const SHEBANG_FLAGS = new Set(['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'])

/**
 * evalExtractShebangFlags: "#!lua [flags=a,b]" on the first line. Returns where the code starts
 * and the no-writes flag, or the error text. Without a shebang the code is the whole body; a
 * shebang must end its line.
 */
function parseShebang (body: Uint8Array): { codeStart: number, isNoWrites: boolean } | string {
  if (body[0] !== 35 || body[1] !== 33) return { codeStart: 0, isNoWrites: false }
  const end = body.indexOf(10)
  if (end < 0) return 'ERR Invalid script shebang'
  const parts = Buffer.from(body.subarray(0, end)).toString('latin1').split(' ').filter(p => p !== '')
  if (parts[0] !== '#!lua') return `ERR Unexpected engine in script shebang: ${parts[0]}`
  let isNoWrites = false
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return `ERR Unknown lua shebang option: ${part}`
    for (const flag of part.slice(6).split(',')) {
      if (flag === '') continue
      if (!SHEBANG_FLAGS.has(flag)) return `ERR Unexpected flag in script shebang: ${flag}`
      if (flag === 'no-writes') isNoWrites = true
    }
  }
  return { codeStart: end, isNoWrites }
}

function pushArray (vm: LuaVm, L: number, items: readonly Uint8Array[]): void {
  vm.createtable(L, items.length, 0)
  for (let i = 0; i < items.length; i++) {
    vm.push(L, items[i])
    vm.rawseti(L, -2, i + 1)
  }
}

/** EVALSHA's sha1 argument, lowercased: the last one's string again when its bytes are the same (no string per run). */
export class ShaMemo {
  private readonly last = new Uint8Array(40)
  private sha = ''

  of (argv: Argv): string {
    const at = argv.start[1]
    const len = argv.len[1]
    const buf = argv.buf
    const last = this.last
    if (len === 40 && this.sha !== '') {
      let j = 0
      while (j < 40 && last[j] === buf[at + j]) j++
      if (j === 40) return this.sha
    }
    const sha = Buffer.from(buf.subarray(at, at + len)).toString('latin1').toLowerCase()
    if (len === 40) { copyBytes(buf, at, 40, last, 0); this.sha = sha }
    return sha
  }
}

const TYPE_NAMES = ['nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread']
const NO_ARGS = 'ERR Please specify at least one argument for this redis lib call'
const BAD_ARG = 'ERR Lua redis lib command arguments must be strings or integers'

export class ScriptEngine {
  /** Compiled scripts: the function's registry ref, and its shebang's no-writes flag. */
  private readonly scripts = new Map<string, { ref: number, isNoWrites: boolean }>()
  private run: Run | null = null
  /** The script being executed (across its awaits). */
  private active: Run | null = null
  /** Called once the running script passes busy-reply-threshold (FUNCTION STATS's publisher). */
  onBusy: ((startMs: number) => void) | null = null
  /** The script-state word (SCRIPT_BUSY...); the server passes the one all its threads share. */
  state: Int32Array = new Int32Array(1)
  private rand = new Lrand48()
  readonly sandbox: Sandbox
  /** A coroutine kept for the next script once one ends without error (a failed one is dead). */
  private spare = 0
  private spareRef = -1
  /** The reply being written (copied out at the end of each run). */
  private readonly out = new ReplyWriter(64)
  private readonly raiseHook: number
  private readonly busyHook: number

  constructor (readonly vm: LuaVm, private readonly log: ScriptLog, version: string) {
    const cf = (fn: (L: number) => number): number => vm.cfunction(fn)
    this.raiseHook = vm.M.addFunction(L => this.raiseC(L), 'vii')
    this.busyHook = vm.M.addFunction((L, ar) => this.busyC(L, ar), 'vii')
    this.sandbox = buildSandbox(vm, {
      call: cf(L => this.callC(L, true)),
      pcall: cf(L => this.callC(L, false)),
      sha1hex: cf(L => {
        if (vm.gettop(L) !== 1) return this.fail(L, 'ERR wrong number of arguments', true)
        vm.pushStr(L, sha1hex(vm.bytes(L, 1) ?? Buffer.alloc(0)))
        return 1
      }),
      log: cf(L => this.logC(L)),
      setresp: cf(L => {
        if (vm.gettop(L) !== 1) return this.fail(L, 'ERR redis.setresp() requires one argument.', true)
        const resp = Math.trunc(vm.tonumber(L, 1))
        if (resp !== 2 && resp !== 3) return this.fail(L, 'ERR RESP version must be 2 or 3.', true)
        if (this.run !== null) this.run.isResp3 = resp === 3
        return 0
      }),
      setRepl: cf(L => {
        if (vm.gettop(L) !== 1) return this.fail(L, 'ERR redis.set_repl() requires two arguments.', true)
        // Effects replication is all there is in 7.0: a valid flag set changes nothing here.
        if ((Math.trunc(vm.tonumber(L, 1)) & ~3) !== 0) return this.fail(L, 'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.', true)
        return 0
      }),
      random: cf(L => this.randomC(L)),
      randomseed: cf(L => {
        const s = this.checkInt(L, 1, 'randomseed')
        if (s === null) return 0
        this.rand.seed(s)
        return 0
      }),
      aclCheck: cf(L => this.aclC(L)),
      pcallable: cf(L => {
        const run = this.run
        vm.pushboolean(L, run !== null && vm.type(L, 1) === LUA_TFUNCTION && vm.iscfunction(L, 1) === 0 && this.canYield(run, L) ? 1 : 0)
        return 1
      }),
      pcallPrepare: cf(L => {
        // luaD_call: the pcall of a function at C-call depth 199 fails with "C stack overflow".
        const run = this.run
        const t = vm.tothread(L, 1)
        const depth = this.cCalls(L)[0]
        if (run === null || t === 0 || depth + 1 >= LUAI_MAXCCALLS) { vm.pushboolean(L, 0); return 1 }
        // lua_resume adds one, as lua_pcall's luaD_call would have to the caller's count.
        this.cCalls(t)[0] = depth
        run.threads.add(t)
        vm.pushboolean(L, 1)
        return 1
      }),
      pcallInternal: cf(L => {
        const run = this.run
        vm.pushboolean(L, run !== null && (run.pending !== null || run.isSlice) ? 1 : 0)
        return 1
      }),
      pcallWait: cf(L => vm.yield(L, 0)),
      pcallDone: cf(L => {
        this.run?.threads.delete(vm.tothread(L, 1))
        return 0
      }),
      driven: cf(L => {
        const run = this.run
        vm.pushboolean(L, run !== null && (L === run.co || run.threads.has(L)) ? 1 : 0)
        return 1
      }),
    }, version)
  }

  static async create (log: ScriptLog, version: string): Promise<ScriptEngine> {
    return new ScriptEngine(await createVm(), log, version)
  }

  /** math.random draws from other's generator: Redis has one lrand48 for EVAL's and FCALL's Lua states. */
  shareRandom (other: ScriptEngine): void { this.rand = other.rand }

  get size (): number { return this.scripts.size }
  has (sha: string): boolean { return this.scripts.has(sha) }
  /** The script's shebang says flags=no-writes: it runs as EVAL_RO would. */
  isNoWrites (sha: string): boolean { return this.scripts.get(sha)?.isNoWrites === true }

  /** SCRIPT FLUSH, or another thread's flush seen: every compiled script goes. */
  flush (): void {
    for (const s of this.scripts.values()) this.vm.unref(this.vm.L, LUA_REGISTRYINDEX, s.ref)
    this.scripts.clear()
  }

  /** Compiles and keeps a script; null when it compiles, else Redis's error reply text. */
  compile (sha: string, body: Uint8Array): string | null {
    if (this.scripts.has(sha)) return null
    const vm = this.vm
    const L = vm.L
    const shebang = parseShebang(body)
    if (typeof shebang === 'string') return shebang
    // The shebang line is not Lua: the code starts at its newline, so line numbers stay.
    if (vm.load(L, body.subarray(shebang.codeStart), '@user_script') !== 0) {
      const msg = (vm.bytes(L, -1) ?? Buffer.alloc(0)).toString('latin1')
      vm.settop(L, -2)
      return `ERR Error compiling script (new function): ${msg}`.replace(/[\r\n]/g, ' ')
    }
    this.scripts.set(sha, { ref: vm.ref(L, LUA_REGISTRYINDEX), isNoWrites: shebang.isNoWrites })
    return null
  }

  /**
   * Runs a compiled script with its KEYS and ARGV; resolves with the reply bytes for a client
   * of protocol `isClientResp3`. Only one script runs at a time per engine (the caller holds
   * every shard for it, so a second one waits on those holds).
   */
  async execute (sha: string, keys: readonly Uint8Array[], args: readonly Uint8Array[], host: ScriptHost, isClientResp3: boolean, busyMs = 0, fnRef = -1): Promise<Buffer> {
    const run = newRun(host, sha, busyMs, fnRef, false)
    this.active = run
    try {
      return await this.executeRun(sha, keys, args, run, isClientResp3)
    } finally {
      this.active = null
      if (run.isBusy) Atomics.store(this.state, 0, 0)
    }
  }

  /**
   * execute, for a host whose calls all answer at once (a script inside a shard worker, whose
   * redis.call runs the command in place): no await anywhere, so the record's reply is ready
   * when this returns. Past busy-reply-threshold the state word tells the producers (they answer
   * BUSY and take SCRIPT KILL), but this thread serves nothing else until the script ends.
   */
  executeSync (sha: string, keys: readonly Uint8Array[], args: readonly Uint8Array[], host: ScriptHost, isClientResp3: boolean, busyMs = 0, fnRef = -1): Buffer {
    // Sync runs never overlap (no await inside): one set of pcall coroutines serves them all.
    const threads = this.syncThreads
    threads.clear()
    const run = newRun(host, sha, busyMs, fnRef, true, threads)
    this.active = run
    try {
      const { co, coRef, nargs } = this.begin(sha, keys, args, run)
      this.run = run
      let status: number
      try {
        status = this.vm.resume(co, nargs)
      } finally {
        this.run = null
      }
      // A sync host never leaves a call pending; a yield is coroutine.yield() at the top level.
      if (status === LUA_YIELD) return this.failed(coRef, sha, 'ERR attempt to yield across metamethod/C-call boundary')
      if (status !== 0) return this.failed(coRef, sha, this.errorText(co))
      return this.finish(run, co, coRef, isClientResp3)
    } finally {
      this.active = null
      if (run.isBusy) Atomics.store(this.state, 0, 0)
    }
  }

  /**
   * The running script is about to run a write command (the host calls this once its checks
   * pass, as scriptCall sets SCRIPT_WRITE_DIRTY). False when SCRIPT KILL got there first: the
   * write must not run, and the script fails at its next instruction.
   */
  noteWrite (): boolean {
    const run = this.active
    if (run === null) return true
    run.hasWritten = true
    if (!run.isBusy || (Atomics.or(this.state, 0, SCRIPT_WROTE) & SCRIPT_KILLED) === 0) return true
    this.vm.sethook(run.yielded, this.busyHook, LUA_MASKCOUNT, 1)
    return false
  }

  /**
   * Stops the running script for good (a shard worker's run that needs another shard: scripting/
   * in-shard.ts): as after SCRIPT KILL, every new line raises, so a pcall cannot keep it going;
   * its reply is dropped and the script runs again on the held path.
   */
  abort (): void {
    const run = this.active
    if (run === null || run.isKilled) return
    run.isKilled = true
    this.vm.sethook(run.co, this.busyHook, LUA_MASKLINE, 0)
    for (const t of run.threads) this.vm.sethook(t, this.busyHook, LUA_MASKLINE, 0)
  }

  private async executeRun (sha: string, keys: readonly Uint8Array[], args: readonly Uint8Array[], run: Run, isClientResp3: boolean): Promise<Buffer> {
    const vm = this.vm
    const { co, coRef } = this.begin(sha, keys, args, run)
    let nargs = run.fnRef >= 0 ? 2 : 0
    for (;;) {
      this.run = run
      let status: number
      try {
        status = vm.resume(co, nargs)
      } finally {
        this.run = null
      }
      if (status === LUA_YIELD && run.isSlice) {
        // processEventsWhileBlocked: the thread reads and answers its other clients (BUSY,
        // SCRIPT KILL), then the script goes on, or fails at once if it was killed meanwhile.
        run.isSlice = false
        await new Promise(resolve => setImmediate(resolve))
        if ((Atomics.load(this.state, 0) & SCRIPT_KILLED) !== 0) vm.sethook(run.yielded, this.busyHook, LUA_MASKCOUNT, 1)
        nargs = 0
        continue
      }
      if (status === LUA_YIELD) {
        const pending = run.pending
        run.pending = null
        if (pending === null) {
          // coroutine.yield() at the script's top level: Redis runs it under pcall, where it fails.
          return this.failed(coRef, sha, 'ERR attempt to yield across metamethod/C-call boundary')
        }
        const reply = await pending
        vm.settop(co, 0)
        if (reply[0] === 45 && run.isRaising) {
          // The C function has returned by now: the hook raises the error in the script's frame
          // (in the thread that called, which may be a pcall's, below co).
          run.raise = reply
          vm.sethook(run.yielded, this.raiseHook, LUA_MASKCOUNT, 1)
          nargs = 0
        } else {
          pushReply(vm, co, reply, 0)
          nargs = 1
        }
        continue
      }
      if (status !== 0) return this.failed(coRef, sha, this.errorText(co))
      return this.finish(run, co, coRef, isClientResp3)
    }
  }

  /** The run's coroutine with the function (and a function's two arguments) pushed: what resume starts. */
  private begin (sha: string, keys: readonly Uint8Array[], args: readonly Uint8Array[], run: Run): { co: number, coRef: number, nargs: number } {
    const vm = this.vm
    const L = vm.L
    const fn = run.fnRef >= 0 ? run.fnRef : this.scripts.get(sha)?.ref
    if (fn === undefined) throw new Error(`script ${sha} is not compiled`)
    if (run.fnRef < 0) {
      this.setGlobalArray('KEYS', keys)
      this.setGlobalArray('ARGV', args)
    }
    let co = this.spare
    let coRef = this.spareRef
    this.spare = 0
    if (co === 0) {
      co = vm.newthread(L)
      coRef = vm.ref(L, LUA_REGISTRYINDEX)
    }
    run.co = co
    vm.rawgeti(co, LUA_REGISTRYINDEX, fn)
    // luaCallFunction sets its count hook only while busy-reply-threshold is above 0.
    if (run.busyMs > 0) vm.sethook(co, this.busyHook, LUA_MASKCOUNT, HOOK_COUNT)
    let nargs = 0
    if (run.fnRef >= 0) {
      // luaEngineCall: a function gets KEYS and ARGV as its two arguments, not as globals.
      pushArray(vm, co, keys)
      pushArray(vm, co, args)
      nargs = 2
    }
    return { co, coRef, nargs }
  }

  /** The script returned: its first value as the client's reply; the coroutine kept for the next run. */
  private finish (run: Run, co: number, coRef: number, isClientResp3: boolean): Buffer {
    const vm = this.vm
    // (A stopped script that caught its error and returned: its line hook goes too.)
    if (run.busyMs > 0 || run.isKilled) vm.sethook(co, 0, 0, 0)
    // The script's first return value is its reply (Redis calls it for one result).
    if (vm.gettop(co) === 0) vm.pushnil(co)
    else vm.settop(co, 1)
    const out = this.out
    out.reset()
    out.resp3 = isClientResp3
    const errs = writtenErrors
    errs.counted.length = 0
    errs.flagged = 0
    writeLuaValue(vm, co, out, run.isResp3)
    vm.settop(co, 0)
    if (this.spare === 0) { this.spare = co; this.spareRef = coRef } else vm.unref(vm.L, LUA_REGISTRYINDEX, coRef)
    const reply = Buffer.from(out.buf.subarray(0, out.len))
    if (errs.flagged !== 0 || errs.counted.length !== 0) replyErrors.set(reply, { counted: errs.counted.slice(), flagged: errs.flagged })
    return reply
  }

  /** The running script: its name (sha1 or function name) and milliseconds since it started, for FUNCTION STATS. */
  running (): { name: string, ms: number } | null {
    const run = this.active
    return run === null ? null : { name: run.sha, ms: Date.now() - run.startMs }
  }

  /** The error at the top of co is a redis.call's error table, counted already (ignore_error_stats_update). */
  private isErrorCounted = false

  /** The message of the error value at the top of co (Redis's luaExtractErrorInformation). */
  errorText (co: number): string {
    const vm = this.vm
    const t = vm.type(co, -1)
    this.isErrorCounted = false
    if (t === LUA_TTABLE) {
      vm.getfield(co, -1, vm.cstr('err'))
      const isMsg = vm.type(co, -1) === LUA_TSTRING || vm.type(co, -1) === LUA_TNUMBER
      const msg = isMsg ? (vm.bytes(co, -1) as Buffer).toString('latin1') : 'ERR Error running script'
      vm.settop(co, -2)
      this.isErrorCounted = isStatsIgnored(vm, co)
      return msg
    }
    if (t === LUA_TSTRING || t === LUA_TNUMBER) return `ERR ${(vm.bytes(co, -1) as Buffer).toString('latin1')}`
    return `ERR ${t === 0 ? 'nil' : t === 1 ? String(vm.toboolean(co, -1) !== 0) : 'error'}`
  }

  /** The error reply: the message, then " script: <sha>, on <source>:<line>." where it happened. */
  private failed (coRef: number, sha: string, msg: string): Buffer {
    const vm = this.vm
    const L = vm.L
    vm.rawgeti(L, LUA_REGISTRYINDEX, this.sandbox.errinfoRef)
    vm.rawgeti(L, LUA_REGISTRYINDEX, coRef)
    let where = ''
    if (vm.pcall(L, 1, 2, 0) === 0) {
      if (vm.type(L, -2) === LUA_TSTRING) where = ` script: ${sha}, on ${(vm.bytes(L, -2) as Buffer).toString('latin1')}:${vm.tonumber(L, -1)}.`
      vm.settop(L, -3)
    } else vm.settop(L, -2)
    vm.unref(L, LUA_REGISTRYINDEX, coRef)
    const reply = Buffer.from(`-${msg}${where}`.replace(/[\r\n]/g, ' ') + '\r\n', 'latin1')
    if (this.isErrorCounted) {
      this.isErrorCounted = false
      replyErrors.set(reply, { counted: [], flagged: 1 })
    }
    return reply
  }

  private setGlobalArray (name: string, items: readonly Uint8Array[]): void {
    const vm = this.vm
    const L = vm.L
    vm.rawgeti(L, LUA_REGISTRYINDEX, this.sandbox.globalsRef)
    vm.pushName(L, name)
    vm.createtable(L, items.length, 0)
    for (let i = 0; i < items.length; i++) {
      vm.push(L, items[i])
      vm.rawseti(L, -2, i + 1)
    }
    vm.rawset(L, -3)
    vm.settop(L, -2)
  }

  /** The pcall coroutines of the running sync run (executeSync), reused run after run. */
  private readonly syncThreads = new Set<number>()

  /** redis.call's arguments, one reused buffer for all of them (argvOf). */
  private readonly callArgv: Argv = { buf: Buffer.allocUnsafe(1024), argc: 0, start: new Int32Array(16), len: new Int32Array(16) }

  /** Room for `n` more bytes at `off` in callArgv's buffer (what is before off kept). */
  private callRoom (off: number, n: number): Buffer {
    const a = this.callArgv
    const b = a.buf as Buffer
    if (off + n <= b.length) return b
    const next = Buffer.allocUnsafe(Math.max(off + n, b.length * 2))
    b.copy(next, 0, 0, off)
    a.buf = next
    return next
  }

  /**
   * redis.call's arguments, copied off the Lua stack in the VM's memory into callArgv: no Buffer
   * per argument (a BullMQ job makes about 40 calls) and no call into the VM per argument (the
   * slots' layout is checked when the VM starts: lua.ts); or the error text when one is not a
   * string or a number.
   */
  private argvOf (L: number): Argv | string {
    const vm = this.vm
    const n = vm.slotCount(L)
    if (n === 0) return NO_ARGS
    const a = this.callArgv
    if (n > a.start.length) { a.start = new Int32Array(n * 2); a.len = new Int32Array(n * 2) }
    let slot = vm.slotBase(L)
    let off = 0
    for (let i = 0; i < n; i++, slot += TVALUE_BYTES) {
      const t = vm.slotType(slot)
      let end: number
      if (t === LUA_TNUMBER) end = writeNumberArg(this.callRoom(off, 32), off, vm.slotNumber(slot))
      else if (t === LUA_TSTRING) {
        const len = vm.slotStrLen(slot)
        const b = this.callRoom(off, len)
        copyBytes(vm.M.HEAPU8, vm.slotStr(slot), len, b, off)
        end = off + len
      } else return BAD_ARG
      a.start[i] = off
      a.len[i] = end - off
      off = end
    }
    a.argc = n
    return a
  }

  /**
   * redis.call (isRaising) and redis.pcall: the reply as Lua, an error table raised or returned;
   * or a yield until the reply is ready.
   */
  private callC (L: number, isRaising: boolean): number {
    const vm = this.vm
    const run = this.run
    const argv = this.argvOf(L)
    vm.settop(L, 0)
    if (run === null) return this.fail(L, 'ERR redis.call/pcall can only be called inside a script invocation', true)
    if (typeof argv === 'string') return this.fail(L, argv, isRaising)
    run.yielded = L
    const r = run.host.call(argv, run.isResp3)
    if (typeof r === 'function') {
      // Where the script cannot yield (inside a C call, a coroutine of its own), this is Lua's
      // own refusal (lua_yield's error), and the command never starts.
      if (!this.canYield(run, L)) return this.raiseText(L, 'attempt to yield across metamethod/C-call boundary')
      const y = vm.yield(L, 0)
      run.pending = r()
      run.isRaising = isRaising
      return y
    }
    if (r === KILLED_REPLY) return this.fail(L, KILLED, isRaising)
    pushReply(vm, L, r, 0)
    if (isRaising && r[0] === 45) return vm.error(L)
    return 1
  }

  /**
   * Every HOOK_COUNT instructions (luaMaskCountHook, scriptInterrupt): past busy-reply-threshold
   * the script becomes busy (the state word tells every thread); a busy script yields so that
   * its thread serves others, unless it is inside a C call (pcall, a coroutine of its own...),
   * where Lua 5.1 cannot yield: then it goes on, and only the other I/O threads answer. Once
   * killed, the hook fires at every new line (LUA_MASKLINE, as Redis sets it) and raises, so
   * pcall cannot keep the script alive for long.
   */
  private busyC (L: number, ar: number): number {
    const run = this.run
    if (run === null) return 0
    const vm = this.vm
    if (!run.isKilled) {
      if (!run.isBusy) {
        const elapsed = Date.now() - run.startMs
        if (elapsed < run.busyMs) return 0
        run.isBusy = true
        const isFunction = run.fnRef >= 0
        // Before the state word: whoever sees BUSY can already read what onBusy published.
        this.onBusy?.(run.startMs)
        Atomics.store(this.state, 0, SCRIPT_BUSY | (run.hasWritten ? SCRIPT_WROTE : 0) | (isFunction ? SCRIPT_FUNCTION : 0))
        this.log.warn(`Slow script detected: still in execution after ${elapsed} milliseconds. You can try killing the script using the ${isFunction ? 'FUNCTION' : 'SCRIPT'} KILL command. Script name is: ${run.sha}.`)
      }
      if ((Atomics.load(this.state, 0) & SCRIPT_KILLED) === 0) {
        if (run.isSync || !this.canYield(run, L)) return 0
        run.isSlice = true
        run.yielded = L
        return vm.yield(L, 0)
      }
      this.log.warn('Lua script killed by user with SCRIPT KILL.')
      run.isKilled = true
      // One Lua state in Redis: from now on every new line raises, in every thread of the script.
      vm.sethook(run.co, this.busyHook, LUA_MASKLINE, 0)
      for (const t of run.threads) vm.sethook(t, this.busyHook, LUA_MASKLINE, 0)
    }
    // The sandbox's own Lua (pcall's unwrapping...) stands for C functions of Redis, which have
    // no lines and no instructions: a line there is skipped, an instruction waits for the next.
    if (this.isSandboxFrame(L, ar)) {
      if (vm.M.HEAPU32[ar >> 2] === LUA_HOOKCOUNT) vm.sethook(L, this.busyHook, LUA_MASKCOUNT, 1)
      return 0
    }
    vm.sethook(L, this.busyHook, LUA_MASKLINE, 0)
    return this.fail(L, KILLED, true)
  }

  /** nCcalls and baseCcalls of a thread (lua_State, in the wasm heap). */
  private cCalls (L: number): Uint16Array {
    return new Uint16Array(this.vm.M.HEAPU8.buffer, L + NCCALLS_OFFSET, 2)
  }

  /**
   * L may yield to the driver: it is the script's coroutine or one of its pcall coroutines
   * (whose pcall passes the yield on), and not inside a C call (nCcalls above baseCcalls).
   */
  private canYield (run: Run, L: number): boolean {
    if (L !== run.co && !run.threads.has(L)) return false
    const calls = this.cCalls(L)
    return calls[0] === calls[1]
  }

  /** lua_yield's refusal and other luaG_runerror texts raised from a C function: no position. */
  private raiseText (L: number, msg: string): number {
    this.vm.pushStr(L, msg)
    return this.vm.error(L)
  }

  /** The hook fired in a function of the sandbox chunk (lua_getinfo "S" fills ar's source). */
  private isSandboxFrame (L: number, ar: number): boolean {
    const vm = this.vm
    if (vm.getinfo(L, vm.cstr('S'), ar) === 0) return false
    const heap = vm.M.HEAPU8
    const p = vm.M.HEAPU32[(ar + AR_SOURCE_OFFSET) >> 2]
    for (let i = 0; i < SANDBOX_SOURCE.length; i++) if (heap[p + i] !== SANDBOX_SOURCE[i]) return false
    return heap[p + SANDBOX_SOURCE.length] === 0
  }

  private raiseC (L: number): number {
    const vm = this.vm
    const run = this.run
    // Back to the busy hook, if the script has one.
    if (run !== null && run.busyMs > 0) vm.sethook(L, this.busyHook, LUA_MASKCOUNT, HOOK_COUNT)
    else vm.sethook(L, 0, 0, 0)
    const reply = run?.raise
    if (run !== null) run.raise = null
    if (reply === null || reply === undefined) return 0
    pushReply(vm, L, reply, 0)
    return vm.error(L)
  }

  private aclC (L: number): number {
    const vm = this.vm
    const argv = this.argvOf(L)
    vm.settop(L, 0)
    if (typeof argv === 'string') return this.fail(L, argv, true)
    const err = this.run === null ? 'ERR redis.acl_check_cmd can only be called inside a script invocation' : this.run.host.aclCheck(argv)
    if (typeof err === 'string') return this.fail(L, err, true)
    vm.pushboolean(L, err ? 1 : 0)
    return 1
  }

  /** Redis's luaPushError, then luaError when raising. */
  private fail (L: number, msg: string, isRaising: boolean): number {
    pushErrorTable(this.vm, L, msg)
    return isRaising ? this.vm.error(L) : 1
  }

  /** redis.log(level, ...): the arguments that are strings or numbers, space separated. */
  private logC (L: number): number {
    const vm = this.vm
    const n = vm.gettop(L)
    if (n < 2) return this.fail(L, 'ERR redis.log() requires two arguments or more.', true)
    if (vm.isnumber(L, 1) === 0) return this.fail(L, 'ERR First argument must be a number (log level).', true)
    const level = Math.trunc(vm.tonumber(L, 1))
    if (level < 0 || level > 3) return this.fail(L, 'ERR Invalid debug level.', true)
    const parts: string[] = []
    for (let j = 2; j <= n; j++) {
      const b = vm.bytes(L, j)
      if (b !== null) parts.push(b.toString('latin1'))
    }
    const text = parts.join(' ')
    if (level === 3) this.log.warn(text)
    else if (level === 2) this.log.info(text)
    else this.log.debug(text)
    return 0
  }

  /** redis_math_random: Lua 5.1's math.random over Redis's generator (a number is drawn first). */
  private randomC (L: number): number {
    const vm = this.vm
    const r = (this.rand.next() % 0x7fffffff) / 0x7fffffff
    switch (vm.gettop(L)) {
      case 0: vm.pushnumber(L, r); return 1
      case 1: {
        const u = this.checkInt(L, 1, 'random')
        if (u === null) return 0
        if (u < 1) return this.raise(L, "bad argument #1 to 'random' (interval is empty)")
        vm.pushnumber(L, Math.floor(r * u) + 1)
        return 1
      }
      case 2: {
        const l = this.checkInt(L, 1, 'random')
        const u = l === null ? null : this.checkInt(L, 2, 'random')
        if (l === null || u === null) return 0
        if (l > u) return this.raise(L, "bad argument #2 to 'random' (interval is empty)")
        vm.pushnumber(L, Math.floor(r * (u - l + 1)) + l)
        return 1
      }
      default: return this.raise(L, 'wrong number of arguments')
    }
  }

  /** luaL_checkint: the argument as an int, or null after raising Lua's "number expected" error. */
  private checkInt (L: number, i: number, fn: string): number | null {
    const vm = this.vm
    if (vm.isnumber(L, i) === 0) {
      const t = vm.type(L, i)
      const name = t < 0 ? 'no value' : TYPE_NAMES[t]
      this.raise(L, `bad argument #${i} to '${fn}' (number expected, got ${name})`)
      return null
    }
    return Math.trunc(vm.tonumber(L, i)) | 0
  }

  /** luaL_error: the message after the caller's position ("user_script:1: "), raised. */
  private raise (L: number, msg: string): number {
    const vm = this.vm
    vm.where(L, 1)
    vm.pushStr(L, msg)
    vm.concat(L, 2)
    return vm.error(L)
  }
}
