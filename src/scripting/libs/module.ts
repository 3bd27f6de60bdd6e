// The raw Lua 5.1 C API of the wasmoon-lua5.1 emscripten build, and the few helpers the script
// libraries (bit, cjson, cmsgpack, struct) share. Lua strings are bytes: they always cross through
// the wasm heap, never through JS strings. Errors are raised with lua_error (or the luaL_*error
// helpers, which end in it): the build's longjmp is a JS exception, so it unwinds the JS frame of
// the library function and lands in Lua's pcall, exactly as a C library's error would.
import { Buffer } from 'node:buffer'


export type LuaState = number
export type LuaCFunction = (L: LuaState) => number

/** The exports this code uses; every number is a wasm32 value (pointers are byte offsets). */
export interface LuaModule {
  HEAPU8: Uint8Array
  _malloc (size: number): number
  _free (ptr: number): void
  addFunction (fn: LuaCFunction, sig: 'ii'): number
  _lua_gettop (L: LuaState): number
  _lua_settop (L: LuaState, idx: number): void
  _lua_pushvalue (L: LuaState, idx: number): void
  _lua_remove (L: LuaState, idx: number): void
  _lua_insert (L: LuaState, idx: number): void
  _lua_checkstack (L: LuaState, n: number): number
  _lua_type (L: LuaState, idx: number): number
  _lua_isnumber (L: LuaState, idx: number): number
  _lua_isstring (L: LuaState, idx: number): number
  _lua_tonumber (L: LuaState, idx: number): number
  _lua_toboolean (L: LuaState, idx: number): number
  _lua_tolstring (L: LuaState, idx: number, lenPtr: number): number
  _lua_touserdata (L: LuaState, idx: number): number
  _lua_objlen (L: LuaState, idx: number): number
  _lua_pushnil (L: LuaState): void
  _lua_pushnumber (L: LuaState, n: number): void
  _lua_pushboolean (L: LuaState, b: number): void
  _lua_pushlstring (L: LuaState, ptr: number, len: number): void
  _lua_pushstring (L: LuaState, ptr: number): void
  _lua_pushlightuserdata (L: LuaState, ptr: number): void
  _lua_pushcclosure (L: LuaState, fn: number, nup: number): void
  _lua_createtable (L: LuaState, narr: number, nrec: number): void
  _lua_getfield (L: LuaState, idx: number, k: number): void
  _lua_setfield (L: LuaState, idx: number, k: number): void
  _lua_rawget (L: LuaState, idx: number): void
  _lua_gettable (L: LuaState, idx: number): void
  _lua_settable (L: LuaState, idx: number): void
  _lua_rawset (L: LuaState, idx: number): void
  _lua_rawgeti (L: LuaState, idx: number, n: number): void
  _lua_rawseti (L: LuaState, idx: number, n: number): void
  _lua_next (L: LuaState, idx: number): number
  _lua_setmetatable (L: LuaState, idx: number): number
  _lua_error (L: LuaState): number
  _lua_concat (L: LuaState, n: number): void
  _lua_newuserdata (L: LuaState, size: number): number
  _luaL_where (L: LuaState, level: number): void
  _luaL_checkoption (L: LuaState, narg: number, def: number, lst: number): number
  _luaL_argerror (L: LuaState, narg: number, extramsg: number): number
  _luaL_typerror (L: LuaState, narg: number, tname: number): number
  _luaL_checknumber (L: LuaState, narg: number): number
  _luaL_checkinteger (L: LuaState, narg: number): number
  _luaL_checklstring (L: LuaState, narg: number, lenPtr: number): number
  _luaL_checkany (L: LuaState, narg: number): void
  _luaL_checkstack (L: LuaState, sz: number, msg: number): void
  _luaL_checktype (L: LuaState, narg: number, t: number): void
  _luaL_register (L: LuaState, libname: number, regs: number): void
}

export const LUA_REGISTRYINDEX = -10000
export const LUA_GLOBALSINDEX = -10002

export const LUA_TNONE = -1
export const LUA_TNIL = 0
export const LUA_TBOOLEAN = 1
export const LUA_TLIGHTUSERDATA = 2
export const LUA_TNUMBER = 3
export const LUA_TSTRING = 4
export const LUA_TTABLE = 5
export const LUA_TFUNCTION = 6
export const LUA_TUSERDATA = 7
export const LUA_TTHREAD = 8

const TYPE_NAMES = ['nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread']

/** lua_typename for a lua_type result. */
export function typeName (t: number): string {
  return t === LUA_TNONE ? 'no value' : TYPE_NAMES[t]
}

/** Helpers bound to one module: C strings made once, a scratch area, bytes in and out. */
export class LuaLib {
  readonly M: LuaModule
  private readonly cstrings = new Map<string, number>()
  private readonly lenPtr: number
  private scratch: number
  private scratchBytes: number

  constructor (M: LuaModule) {
    this.M = M
    this.lenPtr = M._malloc(8)
    this.scratchBytes = 4096
    this.scratch = M._malloc(this.scratchBytes)
  }

  /** A NUL-terminated copy of an ASCII string in the wasm heap, made once and kept. */
  cstr (s: string): number {
    let p = this.cstrings.get(s)
    if (p === undefined) {
      const b = Buffer.from(`${s}\0`, 'latin1')
      p = this.M._malloc(b.length)
      this.M.HEAPU8.set(b, p)
      this.cstrings.set(s, p)
    }
    return p
  }

  /** A heap area of at least n bytes, valid until the next call. */
  area (n: number): number {
    if (n > this.scratchBytes) {
      this.M._free(this.scratch)
      this.scratchBytes = Math.max(n, this.scratchBytes * 2)
      this.scratch = this.M._malloc(this.scratchBytes)
    }
    return this.scratch
  }

  pushBytes (L: LuaState, b: Uint8Array, start = 0, end = b.length): void {
    const n = end - start
    const p = this.area(n)
    const heap = this.M.HEAPU8
    // Byte by byte for short strings (a map's keys, most values): no view to make (LuaVm.pushRange).
    if (n <= 64) for (let i = 0; i < n; i++) heap[p + i] = b[start + i]
    else heap.set(b.subarray(start, end), p)
    this.M._lua_pushlstring(L, p, n)
  }

  pushString (L: LuaState, s: string): void {
    this.pushBytes(L, Buffer.from(s, 'latin1'))
  }

  /** The bytes of the string (or number, converted in place as lua_tolstring does) at idx. */
  toBytes (L: LuaState, idx: number): Uint8Array {
    const p = this.M._lua_tolstring(L, idx, this.lenPtr)
    if (p === 0) return new Uint8Array(0)
    return this.copyOut(p, this.readU32(this.lenPtr))
  }

  /** luaL_checklstring: the bytes, or the standard "string expected" argument error. */
  checkBytes (L: LuaState, narg: number): Uint8Array {
    const p = this.M._luaL_checklstring(L, narg, this.lenPtr)
    return this.copyOut(p, this.readU32(this.lenPtr))
  }

  /**
   * n bytes of the heap at p, copied. Not a slice: that makes an ArrayBuffer outside the JS heap
   * (malloc, and its sweeper), where a short Uint8Array keeps its bytes on the heap.
   */
  private copyOut (p: number, n: number): Uint8Array {
    return this.copyInto(p, n, new Uint8Array(n))
  }

  /** n bytes of the heap at p into b: byte by byte when short (no view to make), else one set. */
  private copyInto (p: number, n: number, b: Uint8Array): Uint8Array {
    const h = this.M.HEAPU8
    if (n <= 64) for (let i = 0; i < n; i++) b[i] = h[p + i]
    else b.set(h.subarray(p, p + n))
    return b
  }

  private input = new Uint8Array(256)

  /**
   * checkBytes into a buffer this lib keeps, valid until the next call of it: no new ArrayBuffer
   * per call (a slice allocates one outside the JS heap; perf put malloc at 10% of an unpack loop).
   * A copy still, since pushing strings may grow the heap it came from.
   */
  checkBytesKept (L: LuaState, narg: number): Uint8Array {
    const p = this.M._luaL_checklstring(L, narg, this.lenPtr)
    const n = this.readU32(this.lenPtr)
    if (n > this.input.length) this.input = new Uint8Array(Math.max(n, this.input.length * 2))
    this.copyInto(p, n, this.input)
    return this.input.subarray(0, n)
  }

  private readU32 (p: number): number {
    const h = this.M.HEAPU8
    return (h[p] | h[p + 1] << 8 | h[p + 2] << 16 | h[p + 3] << 24) >>> 0
  }

  /** luaL_error: the caller's position ("user_script:1: ") and the message. Never returns. */
  error (L: LuaState, msg: string | Uint8Array): never {
    this.M._luaL_where(L, 1)
    if (typeof msg === 'string') this.pushString(L, msg)
    else this.pushBytes(L, msg)
    this.M._lua_concat(L, 2)
    this.M._lua_error(L)
    throw new Error('lua_error returned')
  }

  /** luaL_argerror: "bad argument #n to 'f' (msg)". Never returns. */
  argError (L: LuaState, narg: number, msg: string): never {
    // The message lives on the Lua stack (as lua_pushfstring's would in C), not in the C string
    // cache: some texts carry user input.
    this.pushString(L, msg)
    this.M._luaL_argerror(L, narg, this.M._lua_tolstring(L, -1, 0))
    throw new Error('luaL_argerror returned')
  }

  /** luaL_typerror: "bad argument #n to 'f' (tname expected, got x)". Never returns. */
  typeError (L: LuaState, narg: number, tname: string): never {
    this.M._luaL_typerror(L, narg, this.cstr(tname))
    throw new Error('luaL_typerror returned')
  }

  /**
   * luaL_checkinteger on x86-64 (a 64-bit lua_Integer, out of range or NaN gives INT64_MIN),
   * then stored in a C int (the low 32 bits), as the libraries do with it.
   */
  checkInt (L: LuaState, narg: number): number {
    return cInt(this.M._luaL_checknumber(L, narg))
  }

  /** A NULL-terminated const char *[] for luaL_checkoption, made once per list. */
  optionList (options: readonly string[]): number {
    const key = `\u0001${options.join('\u0000')}`
    let p = this.cstrings.get(key)
    if (p === undefined) {
      const ptrs = options.map((o) => this.cstr(o))
      ptrs.push(0)
      p = this.M._malloc(4 * ptrs.length)
      const view = new DataView(this.M.HEAPU8.buffer)
      ptrs.forEach((q, i) => view.setUint32(p! + 4 * i, q, true))
      this.cstrings.set(key, p)
    }
    return p
  }

  /** luaL_register(L, name, funcs): a table of C functions, set as global `name`; popped here. */
  register (L: LuaState, name: string, funcs: Record<string, LuaCFunction>): void {
    const names = Object.keys(funcs)
    const entries = names.map((n) => [this.cstr(n), this.M.addFunction(funcs[n], 'ii')])
    entries.push([0, 0])
    const regs = this.M._malloc(8 * entries.length)
    const view = new DataView(this.M.HEAPU8.buffer)
    entries.forEach(([np, fp], i) => {
      view.setUint32(regs + 8 * i, np, true)
      view.setUint32(regs + 8 * i + 4, fp, true)
    })
    this.M._luaL_register(L, this.cstr(name), regs)
    this.M._lua_settop(L, -2)
    this.M._free(regs)
  }
}

/** A growable output buffer for the encoders; `view` reads and writes multi-byte fields. */
export class ByteBuf {
  buf = new Uint8Array(256)
  view = new DataView(this.buf.buffer)
  len = 0

  reset (): void { this.len = 0 }

  room (n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  byte (c: number): void {
    this.room(1)
    this.buf[this.len++] = c
  }

  bytes (b: Uint8Array): void {
    this.room(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }

  ascii (s: string): void {
    this.room(s.length)
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i)
  }
}

/** (int)(lua_Integer)x on x86-64: truncate, INT64_MIN when out of range, keep the low 32 bits. */
export function cInt (x: number): number {
  const t = Math.trunc(x)
  if (!(Math.abs(t) < 2 ** 63)) return 0
  if (Math.abs(t) < 2 ** 31) return t
  return Number(BigInt.asIntN(32, BigInt(t)))
}

/** (int)x for a double on x86-64 (cvttsd2si): INT_MIN when it does not fit. */
export function cInt32 (x: number): number {
  const t = Math.trunc(x)
  return t >= -(2 ** 31) && t < 2 ** 31 ? t : -(2 ** 31)
}

/** A LuaLib for each module, so the libraries share C strings and scratch space. */
const libs = new WeakMap<LuaModule, LuaLib>()
export function luaLib (M: LuaModule): LuaLib {
  let lib = libs.get(M)
  if (lib === undefined) {
    lib = new LuaLib(M)
    libs.set(M, lib)
  }
  return lib
}
