// The `bit` library Redis loads into scripts: LuaBitOp 1.0.2 (lua_bit.c). Every argument becomes
// a 32-bit integer the way LuaBitOp does it: add 2^52+2^51 to the double and keep the low word
// of its bits, which rounds to nearest-even and wraps modulo 2^32. Results are signed 32-bit.

import { luaLib, type LuaModule, type LuaState } from './module.js'

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

export function register (M: LuaModule, L: LuaState): void {
  const lib = luaLib(M)

  // barg in lua_bit.c: Lua 5.1 reads with lua_tonumber and complains only when the result is 0
  // and the value is not a number.
  const barg = (L2: LuaState, idx: number): number => {
    f64[0] = M._lua_tonumber(L2, idx) + 6755399441055744.0
    const b = u32[0]
    if (b === 0 && M._lua_isnumber(L2, idx) === 0) lib.typeError(L2, idx, 'number')
    return b
  }
  const ret = (L2: LuaState, b: number): number => {
    M._lua_pushnumber(L2, b | 0)
    return 1
  }
  const fold = (op: (a: number, b: number) => number) => (L2: LuaState): number => {
    let b = barg(L2, 1)
    for (let i = M._lua_gettop(L2); i > 1; i--) b = op(b, barg(L2, i))
    return ret(L2, b)
  }
  const shift = (op: (b: number, n: number) => number) => (L2: LuaState): number => {
    const b = barg(L2, 1)
    const n = barg(L2, 2) & 31
    return ret(L2, op(b, n))
  }

  lib.register(L, 'bit', {
    tobit: (L2) => ret(L2, barg(L2, 1)),
    bnot: (L2) => ret(L2, ~barg(L2, 1)),
    band: fold((a, b) => a & b),
    bor: fold((a, b) => a | b),
    bxor: fold((a, b) => a ^ b),
    lshift: shift((b, n) => b << n),
    rshift: shift((b, n) => b >>> n),
    arshift: shift((b, n) => b >> n),
    rol: shift((b, n) => (b << n) | (b >>> (32 - n))),
    ror: shift((b, n) => (b << (32 - n)) | (b >>> n)),
    bswap: (L2) => {
      const b = barg(L2, 1)
      return ret(L2, (b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24))
    },
    tohex: (L2) => {
      let b = barg(L2, 1)
      let n = M._lua_type(L2, 2) === -1 ? 8 : barg(L2, 2) | 0
      let digits = '0123456789abcdef'
      if (n < 0) {
        n = -n
        digits = '0123456789ABCDEF'
      }
      // -(-2^31) stays negative in C; LuaBitOp then asks for a huge string. Give an empty one.
      if (n > 8) n = 8
      if (n < 0) n = 0
      const out = new Uint8Array(n)
      for (let i = n; --i >= 0;) {
        out[i] = digits.charCodeAt(b & 15)
        b >>>= 4
      }
      lib.pushBytes(L2, out)
      return 1
    },
  })
}
