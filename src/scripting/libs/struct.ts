// The `struct` library Redis 7.0 loads into scripts: Roberto Ierusalimschy's struct 1.4 with
// Redis's bounds fixes (lua_struct.c), as built for x86-64: native little endian, long and
// size_t of 8 bytes, int of 4, default maximum alignment 8. Integers go through a 64-bit
// unsigned long, so sizes past 8 bytes carry zeros on packing and wrap on unpacking.

import { ByteBuf, luaLib, LUA_TNONE, LUA_TNIL, type LuaModule, type LuaState } from './module.js'

const MAXINTSIZE = 32
const MAXALIGN = 8
const INT_MAX = 2147483647
const U64 = (1n << 64n) - 1n

interface Header {
  isBig: boolean
  align: number
}

/** A cursor over the format bytes; getnum reads a decimal count after an option. */
class Format {
  constructor (readonly b: Uint8Array, public i = 0) {}
  more (): boolean { return this.i < this.b.length && this.b[this.i] !== 0 }
  next (): number { return this.b[this.i++] }
  isDigit (): boolean { return this.i < this.b.length && this.b[this.i] >= 48 && this.b[this.i] <= 57 }
}

const isAlnum = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122)
const isPow2 = (x: number): boolean => x > 0 && (x & (x - 1)) === 0

/** (unsigned long)n as x86-64 code computes it (via long for negative n). */
function toU64 (n: number): bigint {
  if (n < 0) {
    const t = Math.trunc(n)
    return t >= -(2 ** 63) ? BigInt.asUintN(64, BigInt(t)) : 1n << 63n
  }
  if (n !== n) return 1n << 63n
  if (n < 2 ** 63) return BigInt(Math.trunc(n))
  const m = n - 2 ** 63
  return m < 2 ** 63 ? BigInt(Math.trunc(m)) ^ (1n << 63n) : 0n
}

// Doubles and floats are copied through typed arrays so a NaN keeps its sign and payload bits.
const f64 = new Float64Array(1)
const f32 = new Float32Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const f32Bytes = new Uint8Array(f32.buffer)

export function register (M: LuaModule, L: LuaState): void {
  const lib = luaLib(M)

  const getnum = (L2: LuaState, f: Format, df: number): number => {
    if (!f.isDigit()) return df
    let a = 0
    do {
      const d = f.b[f.i] - 48
      if (a > Math.trunc(INT_MAX / 10) || a * 10 > INT_MAX - d) lib.error(L2, 'integral size overflow')
      a = a * 10 + d
      f.i++
    } while (f.isDigit())
    return a
  }

  const optsize = (L2: LuaState, opt: number, f: Format): number => {
    switch (opt) {
      case 66: case 98: return 1 // B b
      case 72: case 104: return 2 // H h
      case 76: case 108: return 8 // L l
      case 84: return 8 // T
      case 102: return 4 // f
      case 100: return 8 // d
      case 120: return 1 // x
      case 99: return getnum(L2, f, 1) // c
      case 105: case 73: { // i I
        const sz = getnum(L2, f, 4)
        if (sz > MAXINTSIZE) lib.error(L2, `integral size ${sz} is larger than limit of ${MAXINTSIZE}`)
        return sz
      }
      default: return 0
    }
  }

  // gettoalign, with its mask arithmetic kept for sizes that are not powers of 2.
  const toAlign = (len: number, h: Header, opt: number, size: number): number => {
    if (size === 0 || opt === 99) return 0
    if (size > h.align) size = h.align
    return Number((BigInt(size) - (BigInt(len) & BigInt(size - 1))) & BigInt(size - 1))
  }

  const controlOptions = (L2: LuaState, opt: number, f: Format, h: Header): void => {
    switch (opt) {
      case 32: return
      case 62: h.isBig = true; return
      case 60: h.isBig = false; return
      case 33: {
        const a = getnum(L2, f, MAXALIGN)
        if (!isPow2(a)) lib.error(L2, `alignment ${a} is not a power of 2`)
        h.align = a
        return
      }
    }
    lib.argError(L2, 1, `invalid format option '${String.fromCharCode(opt)}'`)
  }

  const pack = (L2: LuaState): number => {
    const f = new Format(lib.checkBytes(L2, 1))
    const h: Header = { isBig: false, align: 1 }
    // b_pack pushes a nil to separate the arguments from its buffer: a missing argument reads it.
    M._lua_pushnil(L2)
    let arg = 2
    const out = new ByteBuf()
    while (f.more()) {
      const opt = f.next()
      let size = optsize(L2, opt, f)
      for (let pad = toAlign(out.len, h, opt, size); pad > 0; pad--) out.byte(0)
      switch (opt) {
        case 98: case 66: case 104: case 72: case 108: case 76: case 84: case 105: case 73: {
          const n = M._luaL_checknumber(L2, arg++)
          out.room(size)
          if (Math.abs(n) < 2 ** 53) {
            // Fast path: the 64-bit two's complement as two 32-bit words, zeros past 8 bytes.
            const t = Math.trunc(n)
            const lo = t >>> 0
            const hi = Math.floor(t / 2 ** 32) >>> 0
            for (let i = 0; i < size; i++) {
              const b = i < 4 ? (lo >>> (8 * i)) & 0xff : i < 8 ? (hi >>> (8 * (i - 4))) & 0xff : 0
              out.buf[out.len + (h.isBig ? size - 1 - i : i)] = b
            }
          } else {
            let v = toU64(n)
            for (let i = 0; i < size; i++) {
              out.buf[out.len + (h.isBig ? size - 1 - i : i)] = Number(v & 0xffn)
              v >>= 8n
            }
          }
          out.len += size
          break
        }
        case 120: out.byte(0); break
        case 102: {
          f32[0] = M._luaL_checknumber(L2, arg++)
          for (let i = 0; i < 4; i++) out.byte(f32Bytes[h.isBig ? 3 - i : i])
          break
        }
        case 100: {
          f64[0] = M._luaL_checknumber(L2, arg++)
          for (let i = 0; i < 8; i++) out.byte(f64Bytes[h.isBig ? 7 - i : i])
          break
        }
        case 99: case 115: {
          const s = lib.checkBytes(L2, arg++)
          if (size === 0) size = s.length
          if (s.length < size) lib.argError(L2, arg, 'string too short')
          out.bytes(s.subarray(0, size))
          if (opt === 115) {
            out.byte(0)
            size++
          }
          break
        }
        default: controlOptions(L2, opt, f, h)
      }
    }
    lib.pushBytes(L2, out.buf, 0, out.len)
    return 1
  }

  const getinteger = (d: Uint8Array, at: number, isBig: boolean, isSigned: boolean, size: number): number => {
    if (size === 0) return 0
    if (size <= 6) {
      let v = 0
      for (let k = 0; k < size; k++) v = v * 256 + d[at + (isBig ? k : size - 1 - k)]
      return isSigned && v >= 2 ** (8 * size - 1) ? v - 2 ** (8 * size) : v
    }
    let l = 0n
    for (let k = 0; k < size; k++) {
      const i = isBig ? k : size - 1 - k
      l = ((l << 8n) | BigInt(d[at + i])) & U64
    }
    if (!isSigned) return Number(l)
    // ~0UL << (size*8 - 1): x86 takes the shift count modulo 64.
    const mask = (U64 << BigInt((size * 8 - 1) & 63)) & U64
    if ((l & mask) !== 0n) l |= mask
    return Number(BigInt.asIntN(64, l))
  }

  const unpack = (L2: LuaState): number => {
    const f = new Format(lib.checkBytes(L2, 1))
    const data = lib.checkBytes(L2, 2)
    const ld = data.length
    // size_t pos = luaL_optinteger(L, 3, 1): a negative offset becomes a huge size_t, which no
    // bounds check passes (Redis checks without wrapping); kept here as Infinity.
    const t = M._lua_type(L2, 3)
    const off = t === LUA_TNONE || t === LUA_TNIL ? 1 : Math.trunc(M._luaL_checknumber(L2, 3))
    if (off === 0) lib.argError(L2, 3, 'offset must be 1 or greater')
    let pos = off > 0 && off < 2 ** 63 ? off - 1 : Infinity
    const h: Header = { isBig: false, align: 1 }
    M._lua_settop(L2, 2)
    while (f.more()) {
      const opt = f.next()
      let size = optsize(L2, opt, f)
      pos += toAlign(pos === Infinity ? 0 : pos, h, opt, size)
      if (!(pos + size <= ld)) lib.argError(L2, 2, 'data string too short')
      M._luaL_checkstack(L2, 1, lib.cstr('too many results'))
      switch (opt) {
        case 98: case 66: case 104: case 72: case 108: case 76: case 84: case 105: case 73:
          M._lua_pushnumber(L2, getinteger(data, pos, h.isBig, opt >= 97, size))
          break
        case 120: break
        case 102:
          for (let i = 0; i < 4; i++) f32Bytes[h.isBig ? 3 - i : i] = data[pos + i]
          M._lua_pushnumber(L2, f32[0])
          break
        case 100:
          for (let i = 0; i < 8; i++) f64Bytes[h.isBig ? 7 - i : i] = data[pos + i]
          M._lua_pushnumber(L2, f64[0])
          break
        case 99:
          if (size === 0) {
            // Redis also refuses when nothing was unpacked yet (the data string is not a size).
            if (M._lua_gettop(L2) <= 2 || M._lua_isnumber(L2, -1) === 0) lib.error(L2, "format 'c0' needs a previous size")
            // (size_t) of the double, as x86-64 converts it (2^64 becomes 0, -1 becomes 2^64-1)
            size = Number(toU64(M._lua_tonumber(L2, -1)))
            M._lua_settop(L2, -2)
            if (!(pos + size <= ld)) lib.argError(L2, 2, 'data string too short')
          }
          lib.pushBytes(L2, data, pos, pos + size)
          break
        case 115: {
          const e = data.indexOf(0, pos)
          if (e < 0) lib.error(L2, 'unfinished string in data')
          size = e - pos + 1
          lib.pushBytes(L2, data, pos, e)
          break
        }
        default: controlOptions(L2, opt, f, h)
      }
      pos += size
    }
    M._lua_pushnumber(L2, pos + 1)
    return M._lua_gettop(L2) - 2
  }

  const size = (L2: LuaState): number => {
    const f = new Format(lib.checkBytes(L2, 1))
    const h: Header = { isBig: false, align: 1 }
    let pos = 0
    while (f.more()) {
      const opt = f.next()
      const sz = optsize(L2, opt, f)
      pos += toAlign(pos, h, opt, sz)
      if (opt === 115) lib.argError(L2, 1, "option 's' has no fixed size")
      else if (opt === 99 && sz === 0) lib.argError(L2, 1, "option 'c0' has no fixed size")
      if (!isAlnum(opt)) controlOptions(L2, opt, f, h)
      pos += sz
    }
    M._lua_pushnumber(L2, pos)
    return 1
  }

  lib.register(L, 'struct', { pack, unpack, size })
}
