// The `cmsgpack` library Redis 7.0 loads into scripts: lua-cmsgpack 0.4.0 with Redis's stack
// checks (lua_cmsgpack.c). A number packs as an integer when it survives the round trip through
// int64_t, otherwise as a float when it survives float, else as a double. A table packs as an
// array when its keys are exactly 1..n, else as a map; nesting past 16 levels packs as nil.

import {
  ByteBuf, cInt, cInt32, luaLib, LUA_GLOBALSINDEX, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE,
  type LuaModule, type LuaState,
} from './module.js'

const MAX_NESTING = 16

/** (lua_Integer)x on x86-64: truncated, INT64_MIN when out of range or NaN. */
function int64 (x: number): number {
  const t = Math.trunc(x)
  return Math.abs(t) < 2 ** 63 ? t : -(2 ** 63)
}

const ERR_EOF = 1
const NO_INPUT = new Uint8Array(0)
const ERR_BADFMT = 2

/** The encoder's output, with the MessagePack header shapes (tag byte, big-endian length). */
class Buf extends ByteBuf {
  u16 (tag: number, n: number): void { this.room(3); this.buf[this.len] = tag; this.view.setUint16(this.len + 1, n); this.len += 3 }
  u32 (tag: number, n: number): void { this.room(5); this.buf[this.len] = tag; this.view.setUint32(this.len + 1, n); this.len += 5 }
}

export function register (M: LuaModule, L: LuaState): void {
  const lib = luaLib(M)
  const out = new Buf()

  const encodeInt = (n: number): void => {
    if (n >= 0) {
      if (n <= 127) out.byte(n)
      else if (n <= 0xff) { out.byte(0xcc); out.byte(n) } else if (n <= 0xffff) out.u16(0xcd, n)
      else if (n <= 0xffffffff) out.u32(0xce, n)
      else { out.room(9); out.buf[out.len] = 0xcf; out.view.setBigUint64(out.len + 1, BigInt(n)); out.len += 9 }
    } else {
      if (n >= -32) out.byte(n & 0xff)
      else if (n >= -128) { out.byte(0xd0); out.byte(n & 0xff) } else if (n >= -32768) out.u16(0xd1, n & 0xffff)
      else if (n >= -2147483648) out.u32(0xd2, n >>> 0)
      else { out.room(9); out.buf[out.len] = 0xd3; out.view.setBigInt64(out.len + 1, BigInt(n)); out.len += 9 }
    }
  }

  const encodeNumber = (n: number): void => {
    // IS_INT64_EQUIVALENT: finite, and (int64_t)n == n (2^63 itself is out of range).
    if (Number.isFinite(n) && Math.trunc(n) === n && n >= -(2 ** 63) && n < 2 ** 63) {
      encodeInt(n === 0 ? 0 : n)
      return
    }
    const f = Math.fround(n)
    out.room(9)
    if (f === n) {
      out.buf[out.len] = 0xca
      out.view.setFloat32(out.len + 1, f)
      out.len += 5
    } else {
      out.buf[out.len] = 0xcb
      out.view.setFloat64(out.len + 1, n)
      out.len += 9
    }
  }

  const encodeString = (s: Uint8Array): void => {
    const n = s.length
    if (n < 32) out.byte(0xa0 | n)
    else if (n <= 0xff) { out.byte(0xd9); out.byte(n) } else if (n <= 0xffff) out.u16(0xda, n)
    else out.u32(0xdb, n)
    out.bytes(s)
  }

  // table_is_an_array: every key a number (not a numeric string), positive, fitting an int, and
  // count == max.
  const isArray = (L2: LuaState): boolean => {
    const top = M._lua_gettop(L2)
    let count = 0
    let max = 0
    M._lua_pushnil(L2)
    while (M._lua_next(L2, -2) !== 0) {
      M._lua_settop(L2, -2)
      const n = M._lua_tonumber(L2, -1)
      if (M._lua_type(L2, -1) !== LUA_TNUMBER || n <= 0 || !(Number.isFinite(n) && cInt32(n) === n)) {
        M._lua_settop(L2, top)
        return false
      }
      if (n > max) max = n
      count++
    }
    M._lua_settop(L2, top)
    return max === count
  }

  // mp_encode_lua_type: encodes the value on top of the stack and pops it.
  const encodeValue = (L2: LuaState, level: number): void => {
    let t = M._lua_type(L2, -1)
    if (t === LUA_TTABLE && level === MAX_NESTING) t = -2
    switch (t) {
      case LUA_TSTRING: encodeString(lib.toBytes(L2, -1)); break
      case LUA_TBOOLEAN: out.byte(M._lua_toboolean(L2, -1) !== 0 ? 0xc3 : 0xc2); break
      case LUA_TNUMBER: encodeNumber(M._lua_tonumber(L2, -1)); break
      case LUA_TTABLE:
        if (isArray(L2)) {
          const len = M._lua_objlen(L2, -1)
          M._luaL_checkstack(L2, 1, lib.cstr('in function mp_encode_lua_table_as_array'))
          if (len <= 15) out.byte(0x90 | len)
          else if (len <= 0xffff) out.u16(0xdc, len)
          else out.u32(0xdd, len)
          for (let j = 1; j <= len; j++) {
            M._lua_pushnumber(L2, j)
            M._lua_gettable(L2, -2)
            encodeValue(L2, level + 1)
          }
        } else {
          M._luaL_checkstack(L2, 3, lib.cstr('in function mp_encode_lua_table_as_map'))
          let len = 0
          M._lua_pushnil(L2)
          while (M._lua_next(L2, -2) !== 0) {
            M._lua_settop(L2, -2)
            len++
          }
          if (len <= 15) out.byte(0x80 | len)
          else if (len <= 0xffff) out.u16(0xde, len)
          else out.u32(0xdf, len)
          M._lua_pushnil(L2)
          while (M._lua_next(L2, -2) !== 0) {
            M._lua_pushvalue(L2, -2)
            encodeValue(L2, level + 1)
            encodeValue(L2, level + 1)
          }
        }
        break
      default: out.byte(0xc0)
    }
    M._lua_settop(L2, -2)
  }

  const pack = (L2: LuaState): number => {
    const nargs = M._lua_gettop(L2)
    if (nargs === 0) lib.argError(L2, 0, 'MessagePack pack needs input.')
    if (M._lua_checkstack(L2, nargs) === 0) lib.argError(L2, 0, 'Too many arguments for MessagePack pack.')
    out.len = 0
    for (let i = 1; i <= nargs; i++) {
      M._lua_pushvalue(L2, i)
      encodeValue(L2, 0)
    }
    lib.pushBytes(L2, out.buf, 0, out.len)
    return 1
  }

  // ===== decoding =====
  // One decoder for every call (a call never runs Lua code, so calls cannot nest): its state is
  // here, not in closures made per call (BullMQ unpacks a job's options in most of its scripts).

  const TOO_MANY = lib.cstr('too many return values at once; use unpack_one or unpack_limit instead.')
  /** The input (lib.checkBytesKept's copy: pushing a string may grow the heap it came from) and the read position. */
  let s: Uint8Array = NO_INPUT
  let len = 0
  let p = 0
  let err = 0
  // The open tables, innermost last: mp_decode_to_lua_type without recursion, since nesting may
  // go as deep as the Lua stack allows (about 8000 levels), more than JS frames allow.
  let depth = 0
  let fLeft = new Float64Array(16)
  let fIndex = new Float64Array(16)
  let fIsMap = new Uint8Array(16)
  let fHasKey = new Uint8Array(16)
  const scratch = new DataView(new ArrayBuffer(8))

  const need = (n: number): boolean => {
    if (len - p < n) {
      err = ERR_EOF
      return false
    }
    return true
  }
  const u16 = (at: number): number => s[at] << 8 | s[at + 1]
  const u32 = (at: number): number => (s[at] << 24 | s[at + 1] << 16 | s[at + 2] << 8 | s[at + 3]) >>> 0
  /** The 8 bytes at `at`, big-endian, in the scratch view (floats and 64-bit integers). */
  const load = (at: number, n: number): DataView => {
    for (let i = 0; i < n; i++) scratch.setUint8(i, s[at + i])
    return scratch
  }
  const open = (L2: LuaState, isMap: boolean, n: number, head: number): void => {
    p += head
    M._lua_createtable(L2, 0, 0)
    if (!isMap) M._luaL_checkstack(L2, 1, lib.cstr('in function mp_decode_to_lua_array'))
    if (depth === fLeft.length) {
      const grow = <T extends Float64Array | Uint8Array>(a: T, b: T): T => { b.set(a); return b }
      fLeft = grow(fLeft, new Float64Array(depth * 2))
      fIndex = grow(fIndex, new Float64Array(depth * 2))
      fIsMap = grow(fIsMap, new Uint8Array(depth * 2))
      fHasKey = grow(fHasKey, new Uint8Array(depth * 2))
    }
    fLeft[depth] = n
    fIndex[depth] = 1
    fIsMap[depth] = isMap ? 1 : 0
    fHasKey[depth] = 0
    depth++
  }
  const pushStr = (L2: LuaState, head: number, n: number): void => {
    if (!need(head + n)) return
    lib.pushBytes(L2, s, p + head, p + head + n)
    p += head + n
  }
  const num = (L2: LuaState, v: number, size: number): void => {
    M._lua_pushnumber(L2, v)
    p += size
  }
  // Decodes one item: a scalar is pushed, a container header opens a frame. Redis checks the
  // stack before every value and after opening an array, not after opening a map: measured
  // against redis-server, nested maps fail with this message.
  const decodeItem = (L2: LuaState): void => {
    M._luaL_checkstack(L2, 1, TOO_MANY)
    if (!need(1)) return
    const c = s[p]
    switch (c) {
      case 0xcc: if (need(2)) num(L2, s[p + 1], 2); return
      case 0xd0: if (need(2)) num(L2, s[p + 1] << 24 >> 24, 2); return
      case 0xcd: if (need(3)) num(L2, u16(p + 1), 3); return
      case 0xd1: if (need(3)) num(L2, u16(p + 1) << 16 >> 16, 3); return
      case 0xce: if (need(5)) num(L2, u32(p + 1), 5); return
      case 0xd2: if (need(5)) num(L2, u32(p + 1) | 0, 5); return
      // lua_pushunsigned is lua_pushinteger in 5.1: the uint64 goes through int64_t.
      case 0xcf: if (need(9)) num(L2, Number(load(p + 1, 8).getBigInt64(0)), 9); return
      case 0xd3: if (need(9)) num(L2, Number(load(p + 1, 8).getBigInt64(0)), 9); return
      case 0xc0: M._lua_pushnil(L2); p++; return
      case 0xc3: M._lua_pushboolean(L2, 1); p++; return
      case 0xc2: M._lua_pushboolean(L2, 0); p++; return
      case 0xca: if (need(5)) num(L2, load(p + 1, 4).getFloat32(0), 5); return
      case 0xcb: if (need(9)) num(L2, load(p + 1, 8).getFloat64(0), 9); return
      case 0xd9: if (need(2)) pushStr(L2, 2, s[p + 1]); return
      case 0xda: if (need(3)) pushStr(L2, 3, u16(p + 1)); return
      case 0xdb: if (need(5)) pushStr(L2, 5, u32(p + 1)); return
      case 0xdc: if (need(3)) open(L2, false, u16(p + 1), 3); return
      case 0xdd: if (need(5)) open(L2, false, u32(p + 1), 5); return
      case 0xde: if (need(3)) open(L2, true, u16(p + 1), 3); return
      case 0xdf: if (need(5)) open(L2, true, u32(p + 1), 5); return
    }
    if ((c & 0x80) === 0) num(L2, c, 1)
    else if ((c & 0xe0) === 0xe0) num(L2, c - 256, 1)
    else if ((c & 0xe0) === 0xa0) pushStr(L2, 1, c & 0x1f)
    else if ((c & 0xf0) === 0x90) open(L2, false, c & 0xf, 1)
    else if ((c & 0xf0) === 0x80) open(L2, true, c & 0xf, 1)
    else err = ERR_BADFMT
  }
  // One top-level value, in the order the C code pushes and sets: an array pushes the index
  // before each element; a map decodes key then value; lua_settable after each pair.
  const decodeValue = (L2: LuaState): void => {
    const base = depth
    let opened = depth
    decodeItem(L2)
    for (;;) {
      if (err !== 0) return
      if (depth > opened) {
        // a table just opened: its first child, or done at once when empty
        opened = depth
      } else {
        if (depth === base) return
        const f = depth - 1
        if (fIsMap[f] === 1 && fHasKey[f] === 0) {
          fHasKey[f] = 1
          decodeItem(L2)
          continue
        }
        M._lua_settable(L2, -3)
        fHasKey[f] = 0
      }
      const f = depth - 1
      if (fLeft[f] === 0) {
        depth--
        opened = depth
        continue
      }
      fLeft[f]--
      if (fIsMap[f] === 0) M._lua_pushnumber(L2, fIndex[f]++)
      decodeItem(L2)
    }
  }

  const unpackFull = (L2: LuaState, limitArg: number, offset: number): number => {
    const input = lib.checkBytesKept(L2, 1)
    const n = input.length
    // The C code formats its lua_Integer arguments with %d: the low 32 bits show.
    if (offset < 0 || limitArg < 0) {
      lib.error(L2, `Invalid request to unpack with offset of ${cInt(offset)} and limit of ${n | 0}.`)
    } else if (offset > n) {
      lib.error(L2, `Start offset ${cInt(offset)} greater than input length ${n | 0}.`)
    }
    const decodeAll = limitArg === 0 && offset === 0
    const limit = decodeAll ? Infinity : limitArg
    s = input
    len = n
    p = offset
    err = 0
    depth = 0
    let cnt = 0
    for (; len - p > 0 && cnt < limit; cnt++) {
      decodeValue(L2)
      if (err === ERR_EOF) lib.error(L2, 'Missing bytes in input.')
      if (err === ERR_BADFMT) lib.error(L2, 'Bad data format in input.')
    }
    s = NO_INPUT
    if (!decodeAll) {
      M._lua_pushnumber(L2, len - p === 0 ? -1 : p)
      M._lua_insert(L2, 2)
      cnt++
    }
    return cnt
  }

  const optInt64 = (L2: LuaState, narg: number): number =>
    M._lua_type(L2, narg) <= 0 ? 0 : int64(M._luaL_checknumber(L2, narg))

  M._lua_createtable(L, 0, 8)
  const fns: Record<string, (L2: LuaState) => number> = {
    pack,
    unpack: (L2) => unpackFull(L2, 0, 0),
    // limit and offset are lua_Integer (64-bit) here; the extra arguments are popped as
    // lua_pop(L, lua_gettop(L) - 1) does, which leaves an empty stack empty.
    unpack_one: (L2) => {
      const offset = optInt64(L2, 2)
      M._lua_settop(L2, -M._lua_gettop(L2))
      return unpackFull(L2, 1, offset)
    },
    unpack_limit: (L2) => {
      const limit = int64(M._luaL_checknumber(L2, 2))
      const offset = optInt64(L2, 3)
      M._lua_settop(L2, -M._lua_gettop(L2))
      return unpackFull(L2, limit, offset)
    },
  }
  for (const [name, fn] of Object.entries(fns)) {
    M._lua_pushcclosure(L, M.addFunction(fn, 'ii'), 0)
    M._lua_setfield(L, -2, lib.cstr(name))
  }
  for (const [k, v] of [['_NAME', 'cmsgpack'], ['_VERSION', 'lua-cmsgpack 0.4.0'],
    ['_COPYRIGHT', 'Copyright (C) 2012, Salvatore Sanfilippo'], ['_DESCRIPTION', 'MessagePack C implementation for Lua']]) {
    lib.pushString(L, v)
    M._lua_setfield(L, -2, lib.cstr(k))
  }
  M._lua_setfield(L, LUA_GLOBALSINDEX, lib.cstr('cmsgpack'))
}
