// FUNCTION and FCALL on a producer thread (the primary or an I/O thread), inside the transaction
// holding every shard that server/scripting.ts opens for them, as for EVAL.
//
// Sharing: the hub (shard 0, __function in commands/functions.ts) keeps the code of every library
// in load order; the high 16 bits of the shared SCRIPT_EPOCH_WORD count library changes. Each
// thread compiles the libraries in its own function VM (scripting/functions.ts). Before any
// function command, a thread whose count differs fetches the codes from the hub and rebuilds its
// libraries; a command that changes them (LOAD, DELETE, FLUSH, RESTORE) applies the change to its
// own libraries, stores the new list of codes on the hub and bumps the count. All of that happens
// under the hold of every shard, so no two threads change the libraries at once.

import { Buffer } from 'node:buffer'
import type { Connection } from './connection.js'
import type { Router } from './router.js'
import type { Txn } from './txn.js'
import type { Argv } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import { internalCommand } from '../commands/table.js'
import { errorReply } from '../protocol/errors.js'
import { OK } from '../protocol/replies.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { SCRIPT_EPOCH_WORD, FUNCTION_EPOCH_STEP } from '../ipc/layout.js'

export { FUNCTION_EPOCH_STEP }
import { stringMatch } from '../commands/glob.js'
import { fcallChecks, FLAG_NO_WRITES, FUNCTION_FLAGS, FunctionEngine, LibCtx, type Library } from '../scripting/functions.js'
import type { ScriptEngine, ScriptLog } from '../scripting/scripts.js'
import { dumpPayload, PayloadReader, RDB_OPCODE_FUNCTION, RDB_OPCODE_FUNCTION2, verifyPayload } from '../scripting/rdb.js'

const STORE = internalCommand('__function')
const B = (s: string): Buffer => Buffer.from(s, 'latin1')
const E = (s: string): Buffer => errorReply(`ERR ${s}`)

const NOT_FOUND = E('Function not found')
const LIB_NOT_FOUND = E('Library not found')
const FLUSH_OPTION = E('FUNCTION FLUSH only supports SYNC|ASYNC option')
const RESTORE_POLICY = E('Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.')
const BAD_PAYLOAD = E('DUMP payload version or checksum are wrong')
const NO_NAME = E('library name argument was not given')

function arg (argv: Argv, i: number): Buffer {
  return Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))
}

function argLower (argv: Argv, i: number): string {
  return arg(argv, i).toString('latin1').toLowerCase()
}

/** addReplySubcommandSyntaxError, with the subcommand as the client wrote it. */
function subSyntax (argv: Argv): Buffer {
  return E(`unknown subcommand or wrong number of arguments for '${arg(argv, 1).toString('latin1').slice(0, 128)}'. Try FUNCTION HELP.`)
}

/** The bulk strings of an array reply (the hub's list of codes). */
function parseBulkArray (r: Buffer): Buffer[] {
  const out: Buffer[] = []
  let p = r.indexOf(13)
  const n = Number(r.subarray(1, p).toString('latin1'))
  p += 2
  for (let i = 0; i < n; i++) {
    const e = r.indexOf(13, p)
    const len = Number(r.subarray(p + 1, e).toString('latin1'))
    out.push(Buffer.from(r.subarray(e + 2, e + 2 + len)))
    p = e + 2 + len + 2
  }
  return out
}

/** What FCALL needs from the EVAL machinery (server/scripting.ts). */
export interface FcallRunner {
  run (conn: Connection, txn: Txn, argv: Buffer[], name: string, ref: number, keys: Buffer[], args: Buffer[], isReadOnly: boolean, allowOom: boolean): Promise<Uint8Array>
}

export class Functions {
  private engine: FunctionEngine | null = null
  private creating: Promise<FunctionEngine> | null = null
  /** The library count (high bits of SCRIPT_EPOCH_WORD) this thread's libraries belong to. */
  private epoch = 0
  log: ScriptLog = { debug () {}, info () {}, warn () {} }
  version = '7.0.15'
  /** The thread's EVAL engine, whose math.random generator functions share. */
  evalEngine: ScriptEngine | null = null

  constructor (private readonly router: Router, private readonly words: Int32Array, private readonly runner: FcallRunner) {}

  /** The function engine, when this thread has made one (FUNCTION STATS while busy reads it). */
  get current (): FunctionEngine | null { return this.engine }

  private async getEngine (): Promise<FunctionEngine> {
    if (this.engine !== null) return this.engine
    this.creating ??= FunctionEngine.create(this.log, this.version)
    this.engine = await this.creating
    if (this.evalEngine !== null) this.engine.engine.shareRandom(this.evalEngine)
    return this.engine
  }

  /**
   * Whether FCALL or FCALL_RO of argv may write, as fcallGetCommandFlags derives it from the
   * function's flags (CLIENT PAUSE WRITE holds it then); null when this thread does not know the
   * function (Redis then keeps the command's own flags).
   */
  mayWrite (argv: Argv): boolean | null {
    if (this.engine === null || argv.argc < 2) return null
    const fi = this.engine.ctx.fns.get(arg(argv, 1).toString('latin1').toLowerCase())
    return fi === undefined ? null : (fi.flags & FLAG_NO_WRITES) === 0
  }

  /**
   * This thread's libraries are not the hub's (none made yet, or changed elsewhere since): its
   * next FCALL takes the held path, which syncs them, so CLIENT PAUSE WRITE knows a function's
   * flags here (mayWrite) even when FCALLs otherwise run inside the shard's worker.
   */
  isStale (): boolean {
    return this.engine === null || (Atomics.load(this.words, SCRIPT_EPOCH_WORD) >>> 16) !== this.epoch
  }

  /** Brings this thread's libraries up to the hub's, when another thread changed them. */
  private async sync (fe: FunctionEngine, txn: Txn): Promise<void> {
    const e = Atomics.load(this.words, SCRIPT_EPOCH_WORD) >>> 16
    if (e === this.epoch) return
    const codes = parseBulkArray(await txn.runRemote(0, STORE, 0, [B('get')]))
    fe.releaseAll(fe.ctx)
    for (const code of codes) fe.create(code, false, fe.ctx)
    this.epoch = e
  }

  /**
   * Stores this thread's libraries on the hub and tells every thread they changed; the command
   * goes to the AOF as it came (Redis propagates FUNCTION LOAD, DELETE, FLUSH and RESTORE).
   */
  private async commit (fe: FunctionEngine, txn: Txn, argv: Argv): Promise<void> {
    const codes = [...fe.ctx.libs.values()].map(l => l.code)
    await txn.runRemote(0, STORE, 0, [B('set'), ...codes])
    txn.logCommand(argv)
    this.epoch = (Atomics.add(this.words, SCRIPT_EPOCH_WORD, FUNCTION_EPOCH_STEP) + FUNCTION_EPOCH_STEP) >>> 16
  }

  /** A FUNCTION subcommand or FCALL on its held transaction. */
  async coord (conn: Connection, cmd: Command, txn: Txn, argv: Argv): Promise<Uint8Array> {
    const fe = await this.getEngine()
    await this.sync(fe, txn)
    switch (cmd.name) {
      case 'fcall': case 'fcall_ro': return await this.fcall(conn, cmd, txn, argv, fe)
      case 'function|load': return await this.load(fe, txn, argv)
      case 'function|delete': {
        const lib = fe.ctx.libs.get(arg(argv, 2).toString('latin1'))
        if (lib === undefined) return LIB_NOT_FOUND
        fe.ctx.unlink(lib)
        fe.release(lib)
        await this.commit(fe, txn, argv)
        return OK
      }
      case 'function|flush': {
        if (argv.argc > 3) return subSyntax(argv)
        if (argv.argc === 3) {
          const mode = argLower(argv, 2)
          if (mode !== 'sync' && mode !== 'async') return FLUSH_OPTION
        }
        fe.releaseAll(fe.ctx)
        await this.commit(fe, txn, argv)
        return OK
      }
      case 'function|list': return this.list(fe, argv, txn.resp3)
      case 'function|dump': {
        const p = dumpPayload([...fe.ctx.libs.values()].map(l => l.code))
        const out = new ReplyWriter(p.length + 16)
        out.bulkBuf(p)
        return Buffer.from(out.buf.subarray(0, out.len))
      }
      case 'function|restore': return await this.restore(fe, txn, argv)
      case 'function|stats': return this.stats(fe.ctx.libs.size, fe.ctx.fns.size, txn.resp3, null)
      // Inside EXEC: no function runs while a transaction holds its shards.
      default: return errorReply('NOTBUSY No scripts in execution right now.')
    }
  }

  private async load (fe: FunctionEngine, txn: Txn, argv: Argv): Promise<Uint8Array> {
    let replace = false
    let i = 2
    while (i < argv.argc - 1) {
      if (argLower(argv, i) !== 'replace') return E(`Unknown option given: ${arg(argv, i).toString('latin1')}`)
      replace = true
      i++
    }
    const r = fe.create(arg(argv, i), replace, fe.ctx)
    if (typeof r === 'string') return E(r)
    await this.commit(fe, txn, argv)
    const out = new ReplyWriter(64)
    out.bulkStr(r.name)
    return Buffer.from(out.buf.subarray(0, out.len))
  }

  private async fcall (conn: Connection, cmd: Command, txn: Txn, argv: Argv, fe: FunctionEngine): Promise<Uint8Array> {
    const fi = fe.ctx.fns.get(arg(argv, 1).toString('latin1').toLowerCase())
    if (fi === undefined) return NOT_FOUND
    const isRo = cmd.name === 'fcall_ro'
    const max = this.router.maxmemoryLimit
    const plan = fcallChecks(fi.flags, isRo, arg(argv, 2), argv.argc, () => max > 0 && this.router.usedMemory() > max)
    if (!('n' in plan)) return plan
    const n = plan.n
    const keys: Buffer[] = []
    const args: Buffer[] = []
    const all: Buffer[] = []
    for (let j = 0; j < argv.argc; j++) all.push(arg(argv, j))
    for (let j = 3; j < argv.argc; j++) (j < 3 + n ? keys : args).push(all[j])
    return await this.runner.run(conn, txn, all, fi.name, fi.ref, keys, args, plan.isReadOnly, plan.allowOom)
  }

  private list (fe: FunctionEngine, argv: Argv, resp3: boolean): Uint8Array {
    let withCode = false
    let pattern: Buffer | null = null
    for (let i = 2; i < argv.argc; i++) {
      const a = argLower(argv, i)
      if (!withCode && a === 'withcode') { withCode = true; continue }
      if (pattern === null && a === 'libraryname') {
        if (i >= argv.argc - 1) return NO_NAME
        pattern = arg(argv, ++i)
        continue
      }
      return E(`Unknown argument ${arg(argv, i).toString('latin1')}`)
    }
    const libs: Library[] = []
    for (const lib of fe.ctx.libs.values()) {
      if (pattern !== null && !stringMatch(pattern, 0, pattern.length, Buffer.from(lib.name, 'latin1'), 0, lib.name.length, true)) continue
      libs.push(lib)
    }
    const out = new ReplyWriter(256)
    out.resp3 = resp3
    out.arrayHeader(libs.length)
    for (const lib of libs) {
      out.mapHeader(withCode ? 4 : 3)
      out.bulkStr('library_name')
      out.bulkStr(lib.name)
      out.bulkStr('engine')
      out.bulkStr('LUA')
      out.bulkStr('functions')
      out.arrayHeader(lib.functions.size)
      for (const f of lib.functions.values()) {
        out.mapHeader(3)
        out.bulkStr('name')
        out.bulkStr(f.name)
        out.bulkStr('description')
        if (f.desc === null) out.nullBulk()
        else out.bulkBuf(f.desc)
        out.bulkStr('flags')
        const names = FUNCTION_FLAGS.filter((_, i) => (f.flags & (1 << i)) !== 0)
        out.setHeader(names.length)
        for (const name of names) out.status(name)
      }
      if (withCode) {
        out.bulkStr('library_code')
        out.bulkBuf(lib.code)
      }
    }
    return Buffer.from(out.buf.subarray(0, out.len))
  }

  /** FUNCTION STATS: the running function (name, its command, ms so far) or null, and the engine's counts. */
  stats (libs: number, fns: number, resp3: boolean, running: { name: string, argv: Buffer[], ms: number } | null): Buffer {
    const out = new ReplyWriter(256)
    out.resp3 = resp3
    out.mapHeader(2)
    out.bulkStr('running_script')
    if (running === null) out.nullBulk()
    else {
      out.mapHeader(3)
      out.bulkStr('name')
      out.bulkStr(running.name)
      out.bulkStr('command')
      out.arrayHeader(running.argv.length)
      for (const a of running.argv) out.bulkBuf(a)
      out.bulkStr('duration_ms')
      out.int(running.ms)
    }
    out.bulkStr('engines')
    out.mapHeader(1)
    out.bulkStr('LUA')
    out.mapHeader(2)
    out.bulkStr('libraries_count')
    out.int(libs)
    out.bulkStr('functions_count')
    out.int(fns)
    return Buffer.from(out.buf.subarray(0, out.len))
  }

  /** functionRestoreCommand: the payload's libraries into a new context, then flushed in or joined. */
  private async restore (fe: FunctionEngine, txn: Txn, argv: Argv): Promise<Uint8Array> {
    if (argv.argc > 4) return subSyntax(argv)
    let policy = 'append'
    if (argv.argc === 4) {
      policy = argLower(argv, 3)
      if (policy !== 'append' && policy !== 'replace' && policy !== 'flush') return RESTORE_POLICY
    }
    const data = arg(argv, 2)
    if (!verifyPayload(data)) return BAD_PAYLOAD
    const ctx = new LibCtx()
    const fail = (msg: string): Buffer => { fe.releaseAll(ctx); return E(msg) }
    const reader = new PayloadReader(data)
    while (reader.hasMore) {
      const type = reader.byte()
      if (type === null) return fail('can not read data type')
      if (type !== RDB_OPCODE_FUNCTION && type !== RDB_OPCODE_FUNCTION2) return fail('given type is not a function')
      let code: Buffer | null
      if (type === RDB_OPCODE_FUNCTION) {
        // Redis 7.0 RC1/RC2's record: name, engine, an optional description, the code without
        // its shebang, which rdbFunctionLoad writes back.
        const name = reader.string()
        if (name === null) return fail('Failed loading library name')
        const engine = reader.string()
        if (engine === null) return fail('Failed loading engine name')
        const hasDesc = reader.plainLen()
        if (hasDesc === null) return fail('Failed loading library description indicator')
        if (hasDesc !== 0 && reader.string() === null) return fail('Failed loading library description')
        const blob = reader.string()
        if (blob === null) return fail('Failed loading library blob')
        code = Buffer.concat([Buffer.from(`#!${engine.toString('latin1')} name=${name.toString('latin1')}\n`, 'latin1'), blob])
      } else {
        code = reader.string()
        if (code === null) return fail('Failed loading library payload')
      }
      const r = fe.create(code, false, ctx)
      if (typeof r === 'string') return fail(r)
    }
    if (policy === 'flush') {
      fe.releaseAll(fe.ctx)
      fe.ctx = ctx
    } else {
      const err = this.join(fe, ctx, policy === 'replace')
      if (err !== null) return fail(err)
    }
    await this.commit(fe, txn, argv)
    return OK
  }

  /** libraryJoin: the new libraries into the current ones; on a collision nothing changes. */
  private join (fe: FunctionEngine, src: LibCtx, replace: boolean): string | null {
    const dst = fe.ctx
    const old: Library[] = []
    const revert = (): void => { for (const lib of old) dst.link(lib) }
    for (const lib of src.libs.values()) {
      const o = dst.libs.get(lib.name)
      if (o === undefined) continue
      if (!replace) { revert(); return `Library ${lib.name} already exists` }
      dst.unlink(o)
      old.push(o)
    }
    for (const f of src.fns.values()) {
      if (dst.fns.has(f.name.toLowerCase())) { revert(); return `Function ${f.name} already exists` }
    }
    for (const lib of src.libs.values()) dst.link(lib)
    src.libs.clear()
    src.fns.clear()
    for (const lib of old) fe.release(lib)
    return null
  }
}
