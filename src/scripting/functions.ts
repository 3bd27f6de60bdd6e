// Redis 7.0's functions (functions.c, function_lua.c) on one producer thread: the libraries this
// thread has compiled, in a Lua VM of their own (Redis runs functions in a Lua state apart from
// EVAL's, so KEYS, ARGV and math.random's sequence are not shared). FUNCTION LOAD parses the
// "#!lua name=<lib>" shebang, runs the library's chunk with only the load API as globals
// (sandbox.ts libenv) and collects what redis.register_function registers; the library then
// joins a LibCtx (Redis's functionsLibCtx: libraries by name, functions by name, case-insensitive).

import { Buffer } from 'node:buffer'
import type { LuaVm } from './lua.js'
import { LUA_MASKCOUNT, LUA_REGISTRYINDEX, LUA_TFUNCTION, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from './lua.js'
import { ScriptEngine, type ScriptLog } from './scripts.js'
import { pushErrorTable } from './convert.js'
import { errorReply, OOM } from '../protocol/errors.js'
import { parseLL } from '../protocol/ascii.js'

/** scripts_flags_def, in Redis's order (FUNCTION LIST prints them in it). */
export const FUNCTION_FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'] as const
export const FLAG_NO_WRITES = 1
export const FLAG_ALLOW_OOM = 2

/**
 * FCALL's and FCALL_RO's checks after the function was found, in Redis's order: maxmemory for a
 * function that may write without allow-oom (fcallGetCommandFlags makes it denyoom), numkeys,
 * then FCALL_RO of one that may write (scriptPrepareForRun). The error reply, or how to run it.
 * `numkeys` is argv[2]; `argc` counts the whole command. Shared by the producers and a shard's
 * worker (scripting/in-shard.ts).
 */
export function fcallChecks (flags: number, isRo: boolean, numkeys: Uint8Array, argc: number, isOverMaxmemory: () => boolean):
  Buffer | { n: number, isReadOnly: boolean, allowOom: boolean } {
  const noWrites = (flags & FLAG_NO_WRITES) !== 0
  const allowOom = (flags & FLAG_ALLOW_OOM) !== 0
  if (!allowOom && !noWrites && isOverMaxmemory()) return OOM
  const n = parseLL(numkeys, 0, numkeys.length)
  if (n === null) return BAD_NUMKEYS
  if (n > argc - 3) return TOO_MANY_KEYS
  if (n < 0) return NEGATIVE_KEYS
  if (!noWrites && isRo) return RO_WRITE
  return { n, isReadOnly: isRo || noWrites, allowOom }
}
const BAD_NUMKEYS = errorReply('ERR Bad number of keys provided')
const TOO_MANY_KEYS = errorReply("ERR Number of keys can't be greater than number of args")
const NEGATIVE_KEYS = errorReply("ERR Number of keys can't be negative")
const RO_WRITE = errorReply('ERR Can not execute a script with write flag using *_ro command.')

export interface FunctionInfo {
  readonly name: string
  readonly ref: number
  readonly desc: Buffer | null
  readonly flags: number
  readonly lib: Library
}

export interface Library {
  readonly name: string
  readonly code: Buffer
  /** By name, case-sensitive, in registration order. */
  readonly functions: Map<string, FunctionInfo>
}

/** Redis's functionsLibCtx: libraries by name (case-sensitive), functions by name (case-insensitive). */
export class LibCtx {
  readonly libs = new Map<string, Library>()
  readonly fns = new Map<string, FunctionInfo>()

  get functionCount (): number { return this.fns.size }

  link (lib: Library): void {
    this.libs.set(lib.name, lib)
    for (const f of lib.functions.values()) this.fns.set(f.name.toLowerCase(), f)
  }

  unlink (lib: Library): void {
    this.libs.delete(lib.name)
    for (const f of lib.functions.values()) this.fns.delete(f.name.toLowerCase())
  }
}

/** functionsVerifyName: letters, digits and underscores, at least one. */
function isValidName (name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name)
}

const BAD_NAME = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long'
const LOAD_TIMEOUT_MS = 500
const LOAD_HOOK_COUNT = 100000

const HEX = '0123456789abcdef'
const isHex = (c: string): boolean => c !== '' && HEX.includes(c.toLowerCase())
/** C's isspace. */
const isSpace = (c: string): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f'

/**
 * sdssplitargs: words split at blanks, where a double-quoted part takes \xHH and \n-style
 * escapes, a single-quoted part \', and a closing quote must end its word. Null when a quote is
 * left open or closed inside a word.
 */
function splitArgs (line: string): string[] | null {
  const parts: string[] = []
  let i = 0
  for (;;) {
    while (i < line.length && isSpace(line[i])) i++
    if (i >= line.length) return parts
    let word = ''
    let inq = false
    let insq = false
    for (let done = false; !done;) {
      const c = i < line.length ? line[i] : ''
      if (inq) {
        if (c === '') return null
        if (c === '\\' && line[i + 1] === 'x' && isHex(line[i + 2] ?? '') && isHex(line[i + 3] ?? '')) {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16))
          i += 3
        } else if (c === '\\' && i + 1 < line.length) {
          i++
          const e = line[i]
          word += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e
        } else if (c === '"') {
          if (i + 1 < line.length && !isSpace(line[i + 1])) return null
          done = true
        } else word += c
      } else if (insq) {
        if (c === '') return null
        if (c === '\\' && line[i + 1] === "'") {
          i++
          word += "'"
        } else if (c === "'") {
          if (i + 1 < line.length && !isSpace(line[i + 1])) return null
          done = true
        } else word += c
      } else {
        switch (c) {
          case ' ': case '\n': case '\r': case '\t': case '': done = true; break
          case '"': inq = true; break
          case "'": insq = true; break
          default: word += c
        }
      }
      if (i < line.length) i++
    }
    parts.push(word)
  }
}

/** functionExtractLibMetaData: the engine and library name, or the error text (no ERR). */
function parseMetadata (code: Buffer): { engine: string, name: string, codeStart: number } | string {
  if (code[0] !== 35 || code[1] !== 33) return 'Missing library metadata'
  const end = code.indexOf(10)
  if (end < 0) return 'Invalid library metadata'
  const parts = splitArgs(code.subarray(0, end).toString('latin1'))
  if (parts === null || parts.length === 0) return 'Invalid library metadata'
  const engine = parts[0].slice(2)
  let name: string | null = null
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === 'name=') {
      if (name !== null) return 'Invalid metadata value, name argument was given multiple times'
      name = part.slice(5)
      continue
    }
    return `Invalid metadata value given: ${part}`
  }
  if (name === null) return 'Library name was not given'
  return { engine, name, codeStart: end }
}

/** One producer thread's function engine: a VM apart from EVAL's, and the current libraries. */
export class FunctionEngine {
  /** The libraries FCALL sees (functions.c's curr_functions_lib_ctx). */
  ctx = new LibCtx()
  private readonly vm: LuaVm
  /** The library being loaded, while its chunk runs (Redis's load context in the registry). */
  private loading: { fns: Map<string, FunctionInfo>, lib: Library } | null = null
  private readonly registerFn: number
  private readonly loadHook: number
  private loadStart = 0

  private constructor (readonly engine: ScriptEngine) {
    this.vm = engine.vm
    this.registerFn = this.vm.cfunction(L => this.registerC(L))
    this.loadHook = this.vm.M.addFunction(L => this.loadHookC(L), 'vii')
  }

  static async create (log: ScriptLog, version: string): Promise<FunctionEngine> {
    return new FunctionEngine(await ScriptEngine.create(log, version))
  }

  /**
   * functionsCreateWithLibraryCtx: compiles and runs the library's code and links it into ctx
   * (replacing a library of the same name when replace). Returns the library's name, or the
   * error text without its "ERR ".
   */
  create (code: Buffer, replace: boolean, ctx: LibCtx): { name: string } | string {
    const md = parseMetadata(code)
    if (typeof md === 'string') return md
    if (!isValidName(md.name)) return BAD_NAME
    if (md.engine.toLowerCase() !== 'lua') return `Engine '${md.engine}' not found`
    const old = ctx.libs.get(md.name)
    if (old !== undefined && !replace) return `Library '${md.name}' already exists`
    const lib: Library = { name: md.name, code, functions: new Map() }
    const err = this.run(code.subarray(md.codeStart), lib)
    if (err !== null) { this.release(lib); return err }
    if (lib.functions.size === 0) return 'No functions registered'
    for (const f of lib.functions.values()) {
      const other = ctx.fns.get(f.name.toLowerCase())
      if (other !== undefined && other.lib !== old) {
        this.release(lib)
        return `Function ${f.name} already exists`
      }
    }
    if (old !== undefined) { ctx.unlink(old); this.release(old) }
    ctx.link(lib)
    return { name: md.name }
  }

  /** Drops a library's compiled functions (it is no longer in any context). */
  release (lib: Library): void {
    for (const f of lib.functions.values()) this.vm.unref(this.vm.L, LUA_REGISTRYINDEX, f.ref)
  }

  /** FUNCTION FLUSH, or a context replaced: every library's functions go. */
  releaseAll (ctx: LibCtx): void {
    for (const lib of ctx.libs.values()) this.release(lib)
    ctx.libs.clear()
    ctx.fns.clear()
  }

  /** luaEngineCreate: compiles the chunk, runs it with the load API as globals. */
  private run (chunk: Buffer, lib: Library): string | null {
    const vm = this.vm
    const L = vm.L
    if (vm.load(L, chunk, '@user_function') !== 0) {
      const msg = (vm.bytes(L, -1) ?? Buffer.alloc(0)).toString('latin1')
      vm.settop(L, -2)
      return `Error compiling function: ${msg}`
    }
    // libenv(chunk, register_function) → the switch to run-time globals.
    vm.rawgeti(L, LUA_REGISTRYINDEX, this.engine.sandbox.libenvRef)
    vm.pushvalue(L, -2)
    vm.pushcclosure(L, this.registerFn, 0)
    if (vm.pcall(L, 2, 1, 0) !== 0) throw new Error(`libenv: ${String(vm.bytes(L, -1))}`)
    const open = vm.ref(L, LUA_REGISTRYINDEX)
    this.loading = { fns: lib.functions, lib }
    this.loadStart = Date.now()
    vm.sethook(L, this.loadHook, LUA_MASKCOUNT, LOAD_HOOK_COUNT)
    const status = vm.pcall(L, 0, 0, 0)
    vm.sethook(L, 0, 0, 0)
    this.loading = null
    let err: string | null = null
    if (status !== 0) {
      err = `Error registering functions: ${this.errorMessage(L)}`
      vm.settop(L, -2)
    }
    vm.rawgeti(L, LUA_REGISTRYINDEX, open)
    vm.unref(L, LUA_REGISTRYINDEX, open)
    vm.pcall(L, 0, 0, 0)
    return err
  }

  /** The load error at the top of L: an error table's err, or "ERR " and the string. */
  private errorMessage (L: number): string {
    const vm = this.vm
    const t = vm.type(L, -1)
    if (t === LUA_TTABLE) {
      vm.getfield(L, -1, vm.cstr('err'))
      const isMsg = vm.type(L, -1) === LUA_TSTRING || vm.type(L, -1) === LUA_TNUMBER
      const msg = isMsg ? (vm.bytes(L, -1) as Buffer).toString('latin1') : 'ERR Error running script'
      vm.settop(L, -2)
      return msg
    }
    if (t === LUA_TSTRING || t === LUA_TNUMBER) return `ERR ${(vm.bytes(L, -1) as Buffer).toString('latin1')}`
    return `ERR ${t === LUA_TNIL ? 'nil' : 'error'}`
  }

  /** luaEngineLoadHook: a library's chunk that runs past 500 ms fails. */
  private loadHookC (L: number): number {
    if (Date.now() - this.loadStart <= LOAD_TIMEOUT_MS) return 0
    return this.fail(L, 'FUNCTION LOAD timeout')
  }

  private fail (L: number, msg: string): number {
    this.vm.settop(L, 0)
    pushErrorTable(this.vm, L, `ERR ${msg}`)
    return this.vm.error(L)
  }

  /** A Lua string (or number) at i, as lua_isstring accepts it; null otherwise. */
  private str (L: number, i: number): Buffer | null {
    const t = this.vm.type(L, i)
    if (t !== LUA_TSTRING && t !== LUA_TNUMBER) return null
    return this.vm.bytes(L, i)
  }

  /** redis.register_function(name, callback) or redis.register_function{...} (luaRegisterFunction). */
  private registerC (L: number): number {
    const vm = this.vm
    const loading = this.loading
    if (loading === null) return this.fail(L, 'redis.register_function can only be called on FUNCTION LOAD command')
    const argc = vm.gettop(L)
    if (argc < 1 || argc > 2) return this.fail(L, 'wrong number of arguments to redis.register_function')
    let name: Buffer | null = null
    let desc: Buffer | null = null
    let flags = 0
    let hasCallback = false
    if (argc === 1) {
      if (vm.type(L, 1) !== LUA_TTABLE) return this.fail(L, 'calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
      // Index 2 keeps the callback; the iteration's key and value sit above it.
      vm.settop(L, 2)
      vm.pushnil(L)
      while (vm.next(L, 1) !== 0) {
        const key = this.str(L, -2)
        if (key === null) return this.fail(L, 'named argument key given to redis.register_function is not a string')
        switch (key.toString('latin1').toLowerCase()) {
          case 'function_name':
            name = this.str(L, -1)
            if (name === null) return this.fail(L, 'function_name argument given to redis.register_function must be a string')
            break
          case 'description':
            desc = this.str(L, -1)
            if (desc === null) return this.fail(L, 'description argument given to redis.register_function must be a string')
            break
          case 'callback':
            if (vm.type(L, -1) !== LUA_TFUNCTION) return this.fail(L, 'callback argument given to redis.register_function must be a function')
            vm.pushvalue(L, -1)
            vm.replace(L, 2)
            hasCallback = true
            break
          case 'flags': {
            if (vm.type(L, -1) !== LUA_TTABLE) return this.fail(L, 'flags argument to redis.register_function must be a table representing function flags')
            const f = this.readFlags(L)
            if (f === null) return this.fail(L, 'unknown flag given')
            flags = f
            break
          }
          default: return this.fail(L, 'unknown argument given to redis.register_function')
        }
        vm.settop(L, -2)
      }
      if (name === null) return this.fail(L, 'redis.register_function must get a function name argument')
      if (!hasCallback) return this.fail(L, 'redis.register_function must get a callback argument')
    } else {
      name = this.str(L, 1)
      if (name === null) return this.fail(L, 'first argument to redis.register_function must be a string')
      if (vm.type(L, 2) !== LUA_TFUNCTION) return this.fail(L, 'second argument to redis.register_function must be a function')
    }
    const fname = name.toString('latin1')
    if (!isValidName(fname)) return this.fail(L, BAD_NAME)
    if (loading.fns.has(fname)) return this.fail(L, 'Function already exists in the library')
    vm.pushvalue(L, 2)
    const ref = vm.ref(L, LUA_REGISTRYINDEX)
    loading.fns.set(fname, { name: fname, ref, desc, flags, lib: loading.lib })
    vm.settop(L, 0)
    return 0
  }

  /** luaRegisterFunctionReadFlags: the flags table at the top, 1..n until nil; null on an unknown one. */
  private readFlags (L: number): number | null {
    const vm = this.vm
    let flags = 0
    for (let j = 1; ; j++) {
      vm.rawgeti(L, -1, j)
      if (vm.type(L, -1) === LUA_TNIL) { vm.settop(L, -2); return flags }
      const s = this.str(L, -1)
      vm.settop(L, -2)
      if (s === null) return null
      const i = FUNCTION_FLAGS.indexOf(s.toString('latin1').toLowerCase() as typeof FUNCTION_FLAGS[number])
      if (i < 0) return null
      flags |= 1 << i
    }
  }
}
