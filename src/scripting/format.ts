// string.format with Redis's integer width. Lua 5.1 formats %d and %i as C's `long` and %o, %u,
// %x and %X as `unsigned long`, 64 bits where Redis runs (x86-64, aarch64), but 32 bits in this
// WebAssembly build, so string.format("%d", 2^40) would print -2147483648. This C function
// (TypeScript) walks the format as lstrlib.c's str_format does, raising the same errors in the
// same order; each integer item is formatted here as glibc's printf would format the 64-bit
// value, and handed to the original string.format as a %s item with that text. %c gets the
// argument as x86-64's (int) cast of it; every other item goes through unchanged.

import { Buffer } from 'node:buffer'
import type { LuaVm } from './lua.js'
import { LUA_GLOBALSINDEX, LUA_REGISTRYINDEX } from './lua.js'
import { luaLib, type LuaLib, type LuaModule } from './libs/module.js'

const FLAGS = '-+ #0'
const PERCENT = 37
const TWO_63 = 2 ** 63
const INT64_MIN = -(1n << 63n)
const U64 = (1n << 64n) - 1n

/** (long)x on x86-64 (cvttsd2si): truncated; INT64_MIN when NaN or out of range. */
export function cLong (x: number): bigint {
  return x >= -TWO_63 && x < TWO_63 ? BigInt(Math.trunc(x)) : INT64_MIN
}

/** (unsigned long)x as gcc compiles it for x86-64: below 2^63 through long, else offset by 2^63. */
export function cUnsignedLong (x: number): bigint {
  if (x >= TWO_63) return (cLong(x - TWO_63) ^ INT64_MIN) & U64
  return cLong(x) & U64
}

/** (int)x on x86-64: truncated; INT_MIN when NaN or out of range. */
function cInt (x: number): number {
  return x >= -(2 ** 31) && x < 2 ** 31 ? Math.trunc(x) : -(2 ** 31)
}

/** printf's %d %i %o %u %x %X of a 64-bit value, with flags, width and precision (-1: none). */
export function formatInteger (flags: string, width: number, precision: number, conv: string, v: bigint): string {
  const isSigned = conv === 'd' || conv === 'i'
  const isNegative = isSigned && v < 0n
  let digits = (isNegative ? -v : v).toString(conv === 'o' ? 8 : conv === 'x' || conv === 'X' ? 16 : 10)
  if (conv === 'X') digits = digits.toUpperCase()
  if (precision >= 0) digits = precision === 0 && v === 0n ? '' : digits.padStart(precision, '0')
  let prefix = ''
  if (isSigned) prefix = isNegative ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : ''
  if (flags.includes('#')) {
    if (conv === 'o' && digits[0] !== '0') digits = `0${digits}`
    else if ((conv === 'x' || conv === 'X') && v !== 0n) prefix = conv === 'x' ? '0x' : '0X'
  }
  const len = prefix.length + digits.length
  if (len >= width) return prefix + digits
  if (flags.includes('-')) return (prefix + digits).padEnd(width)
  if (flags.includes('0') && precision < 0) return prefix + digits.padStart(width - prefix.length, '0')
  return (prefix + digits).padStart(width)
}

function isDigit (c: number): boolean { return c >= 48 && c <= 57 }

/**
 * str_format's checks, then the original function on the rewritten format. `original` is its
 * registry ref. Returns the number of results (1).
 */
function format (vm: LuaVm, lib: LuaLib, original: number, L: number): number {
  const M = vm.M as unknown as LuaModule
  const top = vm.gettop(L)
  const fmt = lib.checkBytes(L, 1)
  const n = fmt.length
  const at = (i: number): number => i < n ? fmt[i] : 0
  // Pieces of the new format, and the arguments that change: index → value to push instead.
  const pieces: Uint8Array[] = []
  const replaced = new Map<number, string | number>()
  let copied = 0
  let arg = 1
  let i = 0
  while (i < n) {
    if (fmt[i] !== PERCENT) { i++; continue }
    if (at(i + 1) === PERCENT) { i += 2; continue }
    const itemStart = i
    i++
    if (++arg > top) lib.argError(L, arg, 'no value')
    // scanformat: at most 5 flags, 2 digits of width, 2 of precision.
    let p = i
    while (p < n && fmt[p] !== 0 && FLAGS.includes(String.fromCharCode(fmt[p]))) p++
    if (p - i >= FLAGS.length + 1) lib.error(L, 'invalid format (repeated flags)')
    const flagsEnd = p
    if (isDigit(at(p))) p++
    if (isDigit(at(p))) p++
    const widthEnd = p
    let precision = -1
    if (at(p) === 46) {
      p++
      const precisionStart = p
      if (isDigit(at(p))) p++
      if (isDigit(at(p))) p++
      precision = p > precisionStart ? Number(Buffer.from(fmt.subarray(precisionStart, p)).toString('latin1')) : 0
    }
    if (isDigit(at(p))) lib.error(L, 'invalid format (width or precision too long)')
    const conv = at(p)
    i = p + 1
    switch (conv) {
      case 99: { // c: (int)luaL_checknumber
        const x = M._luaL_checknumber(L, arg)
        const c = cInt(x)
        if (c !== x) replaced.set(arg, c)
        break
      }
      case 100: case 105: case 111: case 117: case 120: case 88: { // d i o u x X
        const x = M._luaL_checknumber(L, arg)
        const ch = String.fromCharCode(conv)
        const flags = Buffer.from(fmt.subarray(itemStart + 1, flagsEnd)).toString('latin1')
        const width = widthEnd > flagsEnd ? Number(Buffer.from(fmt.subarray(flagsEnd, widthEnd)).toString('latin1')) : 0
        const v = ch === 'd' || ch === 'i' ? cLong(x) : cUnsignedLong(x)
        replaced.set(arg, formatInteger(flags, width, precision, ch, v))
        pieces.push(fmt.subarray(copied, itemStart), Buffer.from('%s', 'latin1'))
        copied = i
        break
      }
      case 101: case 69: case 102: case 103: case 71: // e E f g G
        M._luaL_checknumber(L, arg)
        break
      case 113: case 115: // q s
        lib.checkBytes(L, arg)
        break
      default: {
        // luaL_error's %c of the byte (none when it is the terminating NUL).
        const opt = conv === 0 ? Buffer.from("invalid option '%' to 'format'", 'latin1')
          : Buffer.concat([Buffer.from("invalid option '%", 'latin1'), Buffer.of(conv), Buffer.from("' to 'format'", 'latin1')])
        lib.error(L, opt)
      }
    }
  }
  vm.rawgeti(L, LUA_REGISTRYINDEX, original)
  if (pieces.length === 0) vm.pushvalue(L, 1)
  else {
    pieces.push(fmt.subarray(copied))
    vm.push(L, Buffer.concat(pieces))
  }
  for (let a = 2; a <= top; a++) {
    const r = replaced.get(a)
    if (r === undefined) vm.pushvalue(L, a)
    else if (typeof r === 'number') vm.pushnumber(L, r)
    else vm.pushStr(L, r)
  }
  ;(M as unknown as { _lua_call: (L: number, nargs: number, nresults: number) => void })._lua_call(L, top, 1)
  return 1
}

/** Replaces string.format (call before the sandbox seals the string table). */
export function registerFormat (vm: LuaVm): void {
  const L = vm.L
  const lib = luaLib(vm.M as unknown as LuaModule)
  vm.getfield(L, LUA_GLOBALSINDEX, vm.cstr('string'))
  vm.getfield(L, -1, vm.cstr('format'))
  const original = vm.ref(L, LUA_REGISTRYINDEX)
  vm.pushcclosure(L, vm.cfunction(L2 => format(vm, lib, original, L2)), 0)
  vm.setfield(L, -2, vm.cstr('format'))
  vm.settop(L, -2)
}
