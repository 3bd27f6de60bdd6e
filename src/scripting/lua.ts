// The Lua 5.1 VM of one producer thread (the primary or an I/O thread), driven through the raw
// C API that wasmoon-lua5.1 exports from its emscripten build. Strings cross as bytes through
// the wasm heap, never as JS strings, so script values stay binary safe. The heap may grow on
// any call into the VM: every access reads `M.HEAPU8` afresh, never a cached view.

import { Buffer } from 'node:buffer'
import { Lua } from 'wasmoon-lua5.1'

export const LUA_REGISTRYINDEX = -10000
export const LUA_GLOBALSINDEX = -10002
export const LUA_YIELD = 1
export const LUA_MASKLINE = 4
export const LUA_MASKCOUNT = 8
export const LUA_TNIL = 0
export const LUA_TBOOLEAN = 1
export const LUA_TNUMBER = 3
export const LUA_TSTRING = 4
export const LUA_TTABLE = 5
export const LUA_TFUNCTION = 6

type CFn = (...a: number[]) => number

/** The emscripten module: the C API as `_name` exports, plus heap views and the function table. */
export interface LuaModule {
  HEAPU8: Uint8Array
  HEAPU32: Uint32Array
  HEAPF64: Float64Array
  addFunction (fn: (L: number, ar: number) => number, sig: string): number
  _malloc (n: number): number
  _free (p: number): void
  _lua_tonumber (L: number, i: number): number
  _lua_pushnumber (L: number, n: number): void
  [name: string]: unknown
}

// lua_State (lstate.h): CommonHeader and status, then top and base; TValue (lobject.h): an
// 8-byte Value, then the int tag; TString: header (next, tt, marked, reserved, hash), then len.
const L_TOP = 8
const L_BASE = 12
export const TVALUE_BYTES = 16
const TVALUE_TT = 8
const TSTRING_LEN = 12
const TSTRING_BYTES = 16

/** The C API functions used here, bound once (a property lookup per call is measurable). */
export class LuaVm {
  readonly L: number
  readonly gettop: CFn
  readonly settop: CFn
  readonly type: CFn
  readonly pushlstring: CFn
  readonly tolstring: CFn
  readonly tonumber: (L: number, i: number) => number
  readonly pushnumber: (L: number, n: number) => void
  readonly pushboolean: CFn
  readonly toboolean: CFn
  readonly pushnil: CFn
  readonly createtable: CFn
  readonly rawseti: CFn
  readonly rawgeti: CFn
  readonly rawget: CFn
  readonly rawset: CFn
  readonly settable: CFn
  readonly next: CFn
  readonly pushvalue: CFn
  readonly pushcclosure: CFn
  readonly setfield: CFn
  readonly getfield: CFn
  readonly loadbuffer: CFn
  readonly pcall: CFn
  readonly resume: CFn
  readonly yield: CFn
  readonly newthread: CFn
  readonly ref: CFn
  readonly unref: CFn
  readonly objlen: CFn
  readonly checkstack: CFn
  readonly xmove: CFn
  readonly remove: CFn
  /** lua_error: throws through the calling JS frames (emscripten's longjmp); never returns. */
  readonly error: CFn
  readonly sethook: CFn
  readonly getinfo: CFn
  readonly iscfunction: CFn
  readonly tothread: CFn
  readonly isnumber: CFn
  readonly concat: CFn
  readonly where: CFn
  readonly replace: CFn
  readonly gc: CFn
  private scratch: number
  private scratchLen = 1 << 16
  private readonly lenPtr: number
  private readonly names = new Map<string, number>()

  constructor (readonly M: LuaModule) {
    const f = (n: string): CFn => {
      const fn = M[`_${n}`] as CFn | undefined
      if (typeof fn !== 'function') throw new Error(`wasmoon-lua5.1 lacks ${n}`)
      return fn
    }
    this.gettop = f('lua_gettop'); this.settop = f('lua_settop'); this.type = f('lua_type')
    this.pushlstring = f('lua_pushlstring'); this.tolstring = f('lua_tolstring')
    this.tonumber = M._lua_tonumber; this.pushnumber = M._lua_pushnumber
    this.pushboolean = f('lua_pushboolean'); this.toboolean = f('lua_toboolean'); this.pushnil = f('lua_pushnil')
    this.createtable = f('lua_createtable'); this.rawseti = f('lua_rawseti'); this.rawgeti = f('lua_rawgeti')
    this.rawget = f('lua_rawget'); this.rawset = f('lua_rawset'); this.settable = f('lua_settable'); this.next = f('lua_next')
    this.pushvalue = f('lua_pushvalue'); this.pushcclosure = f('lua_pushcclosure')
    this.setfield = f('lua_setfield'); this.getfield = f('lua_getfield')
    this.loadbuffer = f('luaL_loadbuffer'); this.pcall = f('lua_pcall')
    this.resume = f('lua_resume'); this.yield = f('lua_yield'); this.newthread = f('lua_newthread')
    this.ref = f('luaL_ref'); this.unref = f('luaL_unref'); this.objlen = f('lua_objlen')
    this.checkstack = f('lua_checkstack'); this.xmove = f('lua_xmove')
    this.remove = f('lua_remove'); this.error = f('lua_error'); this.sethook = f('lua_sethook'); this.getinfo = f('lua_getinfo'); this.iscfunction = f('lua_iscfunction'); this.tothread = f('lua_tothread'); this.isnumber = f('lua_isnumber'); this.concat = f('lua_concat'); this.where = f('luaL_where'); this.replace = f('lua_replace'); this.gc = f('lua_gc')
    this.L = f('luaL_newstate')()
    this.scratch = M._malloc(this.scratchLen)
    this.lenPtr = M._malloc(8)
    // A wasmoon-lua5.1 whose structures moved (another version) fails here, at start, rather
    // than feed redis.call wrong arguments (the version is pinned in package-lock.json).
    if (!this.checkStackReads()) throw new Error('wasmoon-lua5.1: the Lua stack is not laid out as LuaVm.slot* reads it')
    // Redis's luaLoadLibraries: base, table, string, math, debug (the sandbox drops debug).
    for (const lib of ['luaopen_base', 'luaopen_table', 'luaopen_string', 'luaopen_math', 'luaopen_debug']) {
      f(lib)(this.L)
      this.settop(this.L, 0)
    }
  }

  /**
   * Lua 5.1's structures as this build lays them out (wasm32): lua_State's top and base, a stack
   * slot (TValue: the value, then its type tag) and a string (TString: its length, then its
   * bytes after the header). Reading the stack here instead of calling lua_type, lua_tonumber
   * and lua_tolstring per argument saves three calls into WebAssembly per redis.call argument.
   * The constructor checks the layout against the API (checkStackReads).
   */
  /** The first stack slot of L's current function (L->base), as a heap offset. */
  slotBase (L: number): number { return this.M.HEAPU32[(L + L_BASE) >> 2] }
  /** The VM's memory as Redis reports it (lua_gc LUA_GCCOUNT: whole KiB, times 1024). */
  memoryBytes (): number { return this.gc(this.L, 3, 0) * 1024 }

  /** How many slots from base to top (lua_gettop). */
  slotCount (L: number): number { const u32 = this.M.HEAPU32; return (u32[(L + L_TOP) >> 2] - u32[(L + L_BASE) >> 2]) / TVALUE_BYTES }
  /** The type tag of the slot at heap offset `slot` (LUA_TNUMBER, LUA_TSTRING...). */
  slotType (slot: number): number { return this.M.HEAPU32[(slot + TVALUE_TT) >> 2] }
  /** The number in a LUA_TNUMBER slot. */
  slotNumber (slot: number): number { return this.M.HEAPF64[slot >> 3] }
  /** The heap offset of the bytes of the string in a LUA_TSTRING slot; its length is slotStrLen. */
  slotStr (slot: number): number { return this.M.HEAPU32[slot >> 2] + TSTRING_BYTES }
  slotStrLen (slot: number): number { return this.M.HEAPU32[(this.M.HEAPU32[slot >> 2] + TSTRING_LEN) >> 2] }

  /** Pushes a string and a number and reads them back both ways: does the layout above hold? */
  private checkStackReads (): boolean {
    const L = this.L
    const top = this.gettop(L)
    try {
      this.push(L, Buffer.from('ab\0cde', 'latin1'))
      this.pushnumber(L, -1.25)
      if (this.slotCount(L) !== top + 2) return false
      const s = this.slotBase(L) + top * TVALUE_BYTES
      const n = s + TVALUE_BYTES
      if (this.slotType(s) !== LUA_TSTRING || this.slotType(n) !== LUA_TNUMBER || this.slotNumber(n) !== -1.25) return false
      const p = this.tolstring(L, top + 1, this.lenPtr)
      return p === this.slotStr(s) && this.strLen === 6 && this.slotStrLen(s) === 6
    } finally {
      this.settop(L, top)
    }
  }

  /** A NUL-terminated C string, allocated once per distinct name. */
  cstr (s: string): number {
    let p = this.names.get(s)
    if (p === undefined) {
      const b = Buffer.from(`${s}\0`, 'latin1')
      p = this.M._malloc(b.length)
      this.M.HEAPU8.set(b, p)
      this.names.set(s, p)
    }
    return p
  }

  /** The scratch area of the wasm heap, with room for n bytes. */
  private room (n: number): number {
    if (n > this.scratchLen) {
      this.M._free(this.scratch)
      this.scratchLen = Math.max(n, this.scratchLen * 2)
      this.scratch = this.M._malloc(this.scratchLen)
    }
    return this.scratch
  }

  /** Copies bytes into the wasm heap (a reused scratch area) and returns the pointer. */
  private stage (b: Uint8Array): number {
    const p = this.room(b.length)
    this.M.HEAPU8.set(b, p)
    return p
  }

  push (L: number, b: Uint8Array): void {
    this.pushlstring(L, this.stage(b), b.length)
  }

  /** Pushes src[start, end) as a string: no view to make (a redis.call reply's bulk strings). */
  pushRange (L: number, src: Uint8Array, start: number, end: number): void {
    const n = end - start
    const p = this.room(n)
    const heap = this.M.HEAPU8
    if (n <= 64) for (let i = 0; i < n; i++) heap[p + i] = src[start + i]
    else heap.set(src.subarray(start, end), p)
    this.pushlstring(L, p, n)
  }

  pushStr (L: number, s: string): void { this.push(L, Buffer.from(s, 'latin1')) }

  /** A fixed name (a global's, a field's), from its C string made once (see cstr). */
  pushName (L: number, s: string): void { this.pushlstring(L, this.cstr(s), s.length) }

  /** The bytes of the string (or number, converted in place) at idx, copied out; null otherwise. */
  bytes (L: number, idx: number): Buffer | null {
    const p = this.tolstring(L, idx, this.lenPtr)
    if (p === 0) return null
    const n = this.M.HEAPU32[this.lenPtr >> 2]
    // Byte by byte for short strings (keys, fields, numbers): no view over the VM's memory to make.
    const b = Buffer.allocUnsafe(n)
    const heap = this.M.HEAPU8
    if (n <= 64) for (let i = 0; i < n; i++) b[i] = heap[p + i]
    else b.set(heap.subarray(p, p + n))
    return b
  }

  /**
   * Where the string (or number, converted in place) at idx lies in the wasm heap (0: neither);
   * its length is then strLen. For a caller that copies the bytes where it wants them.
   */
  strAt (L: number, idx: number): number {
    return this.tolstring(L, idx, this.lenPtr)
  }

  get strLen (): number { return this.M.HEAPU32[this.lenPtr >> 2] }

  /** Compiles a chunk; pushes the function (status 0) or the error message. */
  load (L: number, code: Uint8Array, chunkName: string): number {
    return this.loadbuffer(L, this.stage(code), code.length, this.cstr(chunkName))
  }

  /** Registers a JS function as a C function (signature int(lua_State*)). */
  cfunction (fn: (L: number) => number): number {
    return this.M.addFunction(fn, 'ii')
  }
}

/**
 * Loads the wasm module and opens a fresh state. Once per producer thread, before serving.
 *
 * wasmoon-lua5.1 is an emscripten build with assertions: each `_name` export is a JS wrapper
 * that checks the runtime is up and builds its message string on every call, then calls the wasm
 * export with a spread. A script's redis.call makes dozens of C API calls, so the wrapper was
 * about a tenth of a BullMQ job's CPU. The instance's exports are caught as the module
 * instantiates and put in place of the wrappers: the same functions, called directly.
 */
export async function createVm (): Promise<LuaVm> {
  const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly
  const instantiate = wasm.instantiate
  let exports: Record<string, unknown> | null = null
  wasm.instantiate = async (...args: unknown[]): Promise<unknown> => {
    const r = await instantiate.apply(wasm, args)
    exports = (r instanceof wasm.Instance ? r : (r as { instance: { exports: Record<string, unknown> } }).instance).exports
    return r
  }
  let lua: Lua
  try {
    lua = await Lua.create()
  } finally {
    wasm.instantiate = instantiate
  }
  const M = (lua as unknown as { luaApi: { module: LuaModule } }).luaApi.module
  unwrapExports(M, exports, wasm)
  return new LuaVm(M)
}

/** The part of the WebAssembly global used here (the compiler's libs do not declare it). */
interface WasmGlobal {
  instantiate: (...args: unknown[]) => Promise<unknown>
  Instance: new (...args: never[]) => { exports: Record<string, unknown> }
  Memory: new (...args: never[]) => { buffer: ArrayBuffer }
}

/** Puts the wasm exports in place of the module's `_name` wrappers, if they are this module's. */
function unwrapExports (M: LuaModule, exports: Record<string, unknown> | null, wasm: WasmGlobal): void {
  if (exports === null) return
  const memory = exports.memory
  if (!(memory instanceof wasm.Memory) || memory.buffer !== M.HEAPU8.buffer) return
  for (const key of Object.keys(M)) {
    if (!key.startsWith('_') || typeof M[key] !== 'function') continue
    const raw = exports[key.slice(1)]
    if (typeof raw === 'function') M[key] = raw
  }
}
