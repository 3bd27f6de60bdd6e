// Values between RESP and Lua, as Redis 7.0's script_lua.c converts them.
// RESP → Lua (redisProtocolToLuaType, a redis.call reply): integer → number, bulk → string,
// null bulk or array → false, array → table, status → {ok=}, error → {err=}; RESP3 adds map →
// {map={}}, set → {set={k=true}}, null → nil, boolean, double → {double=}, big number →
// {big_number=}, verbatim → {verbatim_string={format=, string=}}; attributes are skipped.
// Lua → RESP (luaReplyToRedisReply, a script's result): string → bulk, number → integer
// (truncated), true → 1 and false → null (RESP2 scripts) or booleans (after redis.setresp(3)),
// tables by their err/ok/double/big_number/verbatim_string/map/set field, else an array cut at
// the first nil; anything else → null.

import { Buffer } from 'node:buffer'
import type { LuaVm } from './lua.js'
import { LUA_TBOOLEAN, LUA_TNIL, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from './lua.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { respEnd } from '../protocol/resp-scan.js'
import { formatScore } from '../storage/zset-type.js'

const nanBits = new Float64Array(1)
const nanHigh = new Uint32Array(nanBits.buffer)
/** printf's text for a NaN keeps its sign: x86's 0/0 is negative, so Redis prints "-nan" for it. */
export function nanText (d: number): string {
  nanBits[0] = d
  return (nanHigh[1] >>> 31) !== 0 ? '-nan' : 'nan'
}

function lineEnd (src: Uint8Array, p: number): number {
  while (src[p] !== 13) p++
  return p
}

function lineInt (src: Uint8Array, p: number, end: number): number {
  let neg = false
  if (src[p] === 45) { neg = true; p++ }
  let v = 0
  for (; p < end; p++) v = v * 10 + (src[p] - 48)
  return neg ? -v : v
}

function text (src: Uint8Array, p: number, end: number): string {
  return Buffer.from(src.buffer, src.byteOffset + p, end - p).toString('latin1')
}

/** A one-field table {name = value at the top}, replacing the value. */
function wrap (vm: LuaVm, L: number, name: string): void {
  vm.createtable(L, 0, 1)
  vm.pushName(L, name)
  vm.pushvalue(L, -3)
  vm.rawset(L, -3)
  vm.remove(L, -2)
}

/** The error table luaPushErrorBuff makes of "-CODE msg" (a message without a code gets ERR). */
export function pushErrorTable (vm: LuaVm, L: number, msg: string): void {
  vm.createtable(L, 0, 1)
  vm.pushName(L, 'err')
  vm.pushStr(L, msg.includes(' ') ? msg : `ERR ${msg}`)
  vm.rawset(L, -3)
}

/**
 * The field Redis sets on the error table of a redis.call/pcall error reply (the command's own
 * error, or scriptCall's refusal): its stats were counted when the call was made, so a script
 * that returns or raises that table moves only its own failed_calls (a script sees the field).
 */
export const IGNORE_STATS = 'ignore_error_stats_update'

/**
 * The error replies writeLuaValue wrote since the caller reset this (luaReplyToRedisReply's
 * addReplyErrorFormatEx per error, nested ones too): those to count in errorstats, and how many
 * carried IGNORE_STATS.
 */
export const writtenErrors: { counted: Buffer[], flagged: number } = { counted: [], flagged: 0 }

/** The table at the top has IGNORE_STATS = true (luaExtractErrorInformation: a boolean). */
export function isStatsIgnored (vm: LuaVm, L: number): boolean {
  const t = field(vm, L, IGNORE_STATS)
  const is = t === LUA_TBOOLEAN && vm.toboolean(L, -1) !== 0
  vm.settop(L, -2)
  return is
}

/** Pushes the reply at src[p] onto L; returns the position after it. */
export function pushReply (vm: LuaVm, L: number, src: Uint8Array, p: number): number {
  const t = src[p]
  const e = lineEnd(src, p + 1)
  const next = e + 2
  vm.checkstack(L, 4)
  switch (t) {
    case 43: // '+'
      vm.pushRange(L, src, p + 1, e); wrap(vm, L, 'ok'); return next
    case 45: // '-'
      pushErrorTable(vm, L, text(src, p + 1, e))
      vm.pushName(L, IGNORE_STATS)
      vm.pushboolean(L, 1)
      vm.rawset(L, -3)
      return next
    case 58: // ':'
      // Up to 15 digits the running sum is exact; longer ones round as strtod does, via Number.
      vm.pushnumber(L, e - p - 1 <= 15 ? lineInt(src, p + 1, e) : Number(text(src, p + 1, e))); return next
    case 36: { // '$'
      const n = lineInt(src, p + 1, e)
      if (n < 0) { vm.pushboolean(L, 0); return next }
      vm.pushRange(L, src, next, next + n)
      return next + n + 2
    }
    case 42: { // '*'
      const n = lineInt(src, p + 1, e)
      if (n < 0) { vm.pushboolean(L, 0); return next }
      vm.createtable(L, n, 0)
      let q = next
      // A new table has no metatable: rawseti stores as Redis's pushnumber + settable does.
      for (let i = 1; i <= n; i++) {
        q = pushReply(vm, L, src, q)
        vm.rawseti(L, -2, i)
      }
      return q
    }
    case 37: // '%'
    case 126: { // '~'
      const n = lineInt(src, p + 1, e)
      vm.createtable(L, 0, 1)
      vm.pushName(L, t === 37 ? 'map' : 'set')
      vm.createtable(L, 0, n)
      let q = next
      for (let i = 0; i < n; i++) {
        q = pushReply(vm, L, src, q)
        if (t === 37) q = pushReply(vm, L, src, q)
        else vm.pushboolean(L, 1)
        vm.settable(L, -3)
      }
      vm.settable(L, -3)
      return q
    }
    case 95: // '_'
      vm.pushnil(L); return next
    case 35: // '#'
      vm.pushboolean(L, src[p + 1] === 116 ? 1 : 0); return next
    case 44: { // ','
      const s = text(src, p + 1, e)
      vm.pushnumber(L, s === 'inf' ? Infinity : s === '-inf' ? -Infinity : s === 'nan' ? NaN : Number(s))
      wrap(vm, L, 'double')
      return next
    }
    case 40: // '('
      vm.push(L, src.subarray(p + 1, e)); wrap(vm, L, 'big_number'); return next
    case 61: { // '='
      const n = lineInt(src, p + 1, e)
      vm.createtable(L, 0, 1)
      vm.pushStr(L, 'verbatim_string')
      vm.createtable(L, 0, 2)
      vm.pushStr(L, 'string'); vm.push(L, src.subarray(next + 4, next + n)); vm.rawset(L, -3)
      vm.pushStr(L, 'format'); vm.push(L, src.subarray(next, next + 3)); vm.rawset(L, -3)
      vm.rawset(L, -3)
      return next + n + 2
    }
    case 124: { // '|': attributes are not shown to scripts
      const n = lineInt(src, p + 1, e)
      let q = next
      for (let i = 0; i < 2 * n; i++) q = respEnd(src, q)
      return pushReply(vm, L, src, q)
    }
    default:
      vm.pushnil(L)
      return respEnd(src, p)
  }
}

/** The field `name` of the table at the top, pushed (raw access, as Redis's lua_rawget). */
function field (vm: LuaVm, L: number, name: string): number {
  vm.pushName(L, name)
  vm.rawget(L, -2)
  return vm.type(L, -1)
}

function crlfFree (b: Buffer): Buffer {
  for (let i = 0; i < b.length; i++) if (b[i] === 13 || b[i] === 10) b[i] = 32
  return b
}

/** (long long) of a Lua number as x86-64 casts it: out of range and NaN give INT64_MIN. */
function writeInteger (out: ReplyWriter, d: number): void {
  if (!(d > -9223372036854775809 && d < 9223372036854775808)) { out.bigint(-9223372036854775808n); return }
  const t = Math.trunc(d)
  if (Number.isSafeInteger(t)) out.int(t === 0 ? 0 : t)
  else out.bigint(BigInt(t))
}

/**
 * Writes the value at the top of L as a reply and pops it. `isScriptResp3`: the script called
 * redis.setresp(3) (booleans become booleans); the writer's own resp3 is the client's.
 */
export function writeLuaValue (vm: LuaVm, L: number, out: ReplyWriter, isScriptResp3: boolean): void {
  vm.checkstack(L, 4)
  switch (vm.type(L, -1)) {
    case LUA_TSTRING: {
      // Straight from the VM's memory into the reply (no Buffer per string).
      const p = vm.strAt(L, -1)
      out.bulk(vm.M.HEAPU8, p, vm.strLen)
      break
    }
    case LUA_TBOOLEAN: {
      const b = vm.toboolean(L, -1) !== 0
      if (!isScriptResp3) { if (b) out.int(1); else out.nullBulk() } else if (out.resp3) out.raw(b ? TRUE3 : FALSE3)
      else out.int(b ? 1 : 0)
      break
    }
    case LUA_TNUMBER: writeInteger(out, vm.tonumber(L, -1)); break
    case LUA_TTABLE: writeTable(vm, L, out, isScriptResp3); break
    default: out.nullBulk()
  }
  vm.settop(L, -2)
}

const TRUE3 = Buffer.from('#t\r\n')
const FALSE3 = Buffer.from('#f\r\n')

function writeTable (vm: LuaVm, L: number, out: ReplyWriter, isScriptResp3: boolean): void {
  if (field(vm, L, 'err') === LUA_TSTRING) {
    const msg = crlfFree(vm.bytes(L, -1) as Buffer)
    vm.settop(L, -2)
    const err = Buffer.concat([DASH, msg, CRLF])
    if (isStatsIgnored(vm, L)) writtenErrors.flagged++
    else writtenErrors.counted.push(err)
    out.raw(err)
    return
  }
  vm.settop(L, -2)
  if (field(vm, L, 'ok') === LUA_TSTRING) {
    const msg = crlfFree(vm.bytes(L, -1) as Buffer)
    vm.settop(L, -2)
    out.raw(Buffer.concat([PLUS, msg, CRLF]))
    return
  }
  vm.settop(L, -2)
  if (field(vm, L, 'double') === LUA_TNUMBER) {
    const d = vm.tonumber(L, -1)
    vm.settop(L, -2)
    const s = Number.isNaN(d) ? nanText(d) : formatScore(d)
    if (out.resp3) out.raw(Buffer.from(`,${s}\r\n`, 'latin1'))
    else out.bulkStr(s)
    return
  }
  vm.settop(L, -2)
  if (field(vm, L, 'big_number') === LUA_TSTRING) {
    const s = crlfFree(vm.bytes(L, -1) as Buffer)
    vm.settop(L, -2)
    if (out.resp3) out.raw(Buffer.concat([OPEN, s, CRLF]))
    else out.bulkBuf(s)
    return
  }
  vm.settop(L, -2)
  if (field(vm, L, 'verbatim_string') === LUA_TTABLE) {
    const isFormat = field(vm, L, 'format') === LUA_TSTRING
    const format = isFormat ? vm.bytes(L, -1) as Buffer : null
    vm.settop(L, -2)
    const isString = field(vm, L, 'string') === LUA_TSTRING
    const str = isString ? vm.bytes(L, -1) as Buffer : null
    vm.settop(L, -3)
    if (format !== null && str !== null) {
      if (!out.resp3) out.bulkBuf(str)
      else {
        const body = Buffer.concat([format.subarray(0, 3), COLON, str])
        out.raw(Buffer.concat([Buffer.from(`=${body.length}\r\n`), body, CRLF]))
      }
      return
    }
  } else vm.settop(L, -2)
  if (field(vm, L, 'map') === LUA_TTABLE) {
    writeMapOrSet(vm, L, out, isScriptResp3, true)
    return
  }
  vm.settop(L, -2)
  if (field(vm, L, 'set') === LUA_TTABLE) {
    writeMapOrSet(vm, L, out, isScriptResp3, false)
    return
  }
  vm.settop(L, -2)
  // An array: elements 1.. up to the first nil, written after the count is known.
  const items = new ReplyWriter(64)
  items.resp3 = out.resp3
  let n = 0
  for (let j = 1; ; j++) {
    vm.pushnumber(L, j)
    vm.rawget(L, -2)
    if (vm.type(L, -1) === LUA_TNIL) { vm.settop(L, -2); break }
    writeLuaValue(vm, L, items, isScriptResp3)
    n++
  }
  out.arrayHeader(n)
  out.raw(items.buf.subarray(0, items.len))
}

/** The table at -1 is the map/set (its owner below it): both are popped, the reply written. */
function writeMapOrSet (vm: LuaVm, L: number, out: ReplyWriter, isScriptResp3: boolean, isMap: boolean): void {
  const items = new ReplyWriter(64)
  items.resp3 = out.resp3
  let n = 0
  vm.pushnil(L)
  while (vm.next(L, -2) !== 0) {
    // Stack: table, key, value.
    if (isMap) {
      vm.pushvalue(L, -2)
      writeLuaValue(vm, L, items, isScriptResp3) // the key copy
      writeLuaValue(vm, L, items, isScriptResp3) // the value
    } else {
      vm.settop(L, -2)
      vm.pushvalue(L, -1)
      writeLuaValue(vm, L, items, isScriptResp3)
    }
    n++
  }
  vm.settop(L, -2)
  if (isMap) out.mapHeader(n)
  else out.setHeader(n)
  out.raw(items.buf.subarray(0, items.len))
}

const DASH = Buffer.from('-')
const PLUS = Buffer.from('+')
const OPEN = Buffer.from('(')
const COLON = Buffer.from(':')
const CRLF = Buffer.from('\r\n')
