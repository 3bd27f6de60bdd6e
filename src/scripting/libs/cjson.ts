// The `cjson` library Redis 7.0 loads into scripts: lua-cjson 2.1.0 with Redis's patches
// (lua_cjson.c). Encoding walks the Lua stack with lua_next/lua_rawgeti the way the C code does,
// so key order, depth checks and error texts come out the same. Each instance (the global one
// and every cjson.new()) keeps its settings in a userdata upvalue shared by its functions.

import { Buffer } from 'node:buffer'
import { strtod, formatG } from './number.js'
import {
  ByteBuf, cInt32, luaLib, typeName, LUA_GLOBALSINDEX, LUA_TBOOLEAN, LUA_TLIGHTUSERDATA, LUA_TNIL,
  LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE, type LuaLib, type LuaModule, type LuaState,
} from './module.js'

const UPVALUE_1 = LUA_GLOBALSINDEX - 1 // lua_upvalueindex(1)
const INT_MAX = 2147483647

interface Config {
  encodeSparseConvert: number
  encodeSparseRatio: number
  encodeSparseSafe: number
  encodeMaxDepth: number
  decodeMaxDepth: number
  encodeInvalidNumbers: number // 0 off, 1 on, 2 null
  decodeInvalidNumbers: number
  encodeKeepBuffer: number
  encodeNumberPrecision: number
}

function defaultConfig (): Config {
  return {
    encodeSparseConvert: 0,
    encodeSparseRatio: 2,
    encodeSparseSafe: 10,
    encodeMaxDepth: 1000,
    decodeMaxDepth: 1000,
    encodeInvalidNumbers: 0,
    decodeInvalidNumbers: 1,
    encodeKeepBuffer: 1,
    encodeNumberPrecision: 14,
  }
}

// char2escape in lua_cjson.c: control characters, '"', '\\', '/' and DEL.
const ESCAPES: Array<Uint8Array | null> = []
for (let c = 0; c < 256; c++) {
  let e: string | null = null
  if (c < 32 || c === 127) e = `\\u${c.toString(16).padStart(4, '0')}`
  if (c === 8) e = '\\b'
  if (c === 9) e = '\\t'
  if (c === 10) e = '\\n'
  if (c === 12) e = '\\f'
  if (c === 13) e = '\\r'
  if (c === 34) e = '\\"'
  if (c === 92) e = '\\\\'
  if (c === 47) e = '\\/'
  ESCAPES.push(e === null ? null : Buffer.from(e, 'latin1'))
}

// Decoder tokens, named as lua_cjson.c names them in its error messages.
const T_OBJ_BEGIN = 0
const T_OBJ_END = 1
const T_ARR_BEGIN = 2
const T_ARR_END = 3
const T_STRING = 4
const T_NUMBER = 5
const T_BOOLEAN = 6
const T_NULL = 7
const T_COLON = 8
const T_COMMA = 9
const T_END = 10
const T_WHITESPACE = 11
const T_ERROR = 12
const T_UNKNOWN = 13
const TOKEN_NAMES = ['T_OBJ_BEGIN', 'T_OBJ_END', 'T_ARR_BEGIN', 'T_ARR_END', 'T_STRING', 'T_NUMBER',
  'T_BOOLEAN', 'T_NULL', 'T_COLON', 'T_COMMA', 'T_END', 'T_WHITESPACE', 'T_ERROR', 'T_UNKNOWN']

const CH2TOKEN = new Uint8Array(256).fill(T_ERROR)
CH2TOKEN[123] = T_OBJ_BEGIN
CH2TOKEN[125] = T_OBJ_END
CH2TOKEN[91] = T_ARR_BEGIN
CH2TOKEN[93] = T_ARR_END
CH2TOKEN[44] = T_COMMA
CH2TOKEN[58] = T_COLON
CH2TOKEN[0] = T_END
for (const c of [32, 9, 10, 13]) CH2TOKEN[c] = T_WHITESPACE
for (const c of 'fiInNt"+-0123456789') CH2TOKEN[c.charCodeAt(0)] = T_UNKNOWN

const ESCAPE2CHAR = new Uint8Array(256)
for (const [k, v] of [['"', 34], ['\\', 92], ['/', 47], ['b', 8], ['t', 9], ['n', 10], ['f', 12], ['r', 13], ['u', 117]] as const) {
  ESCAPE2CHAR[k.charCodeAt(0)] = v
}

interface Token {
  type: number
  index: number
  str: Uint8Array | null
  num: number
  err: string
}

function hex4 (d: Uint8Array, at: number): number {
  let v = 0
  for (let i = 0; i < 4; i++) {
    const c = at + i < d.length ? d[at + i] : 0
    let x = -1
    if (c >= 48 && c <= 57) x = c - 48
    else if ((c | 0x20) >= 97 && (c | 0x20) <= 102) x = (c | 0x20) - 87
    if (x < 0) return -1
    v = v * 16 + x
  }
  return v
}

function startsWith (d: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    if (at + i >= d.length || d[at + i] !== word.charCodeAt(i)) return false
  }
  return true
}

function isInvalidNumber (d: Uint8Array, at: number): boolean {
  const c = (i: number): number => (i < d.length ? d[i] : 0)
  let p = at
  if (c(p) === 43) return true
  if (c(p) === 45) p++
  if (c(p) === 48) {
    const c2 = c(p + 1)
    return (c2 | 0x20) === 120 || (c2 >= 48 && c2 <= 57)
  }
  if (c(p) <= 57) return false
  const word = (w: string): boolean => {
    for (let i = 0; i < 3; i++) if ((c(p + i) | 0x20) !== w.charCodeAt(i)) return false
    return true
  }
  return word('inf') || word('nan')
}

export function register (M: LuaModule, L: LuaState): void {
  const lib = luaLib(M)
  const configs = new Map<number, Config>()
  let nextId = 1
  const out = new ByteBuf()

  const config = (L2: LuaState): Config => {
    const p = M._lua_touserdata(L2, UPVALUE_1)
    const cfg = p === 0 ? undefined : configs.get(new DataView(M.HEAPU8.buffer).getUint32(p, true))
    return cfg ?? lib.error(L2, 'BUG: Unable to fetch CJSON configuration')
  }

  // json_arg_init: at most `args` arguments, the missing ones filled with nil.
  const argInit = (L2: LuaState, args: number): Config => {
    if (M._lua_gettop(L2) > args) lib.argError(L2, args + 1, 'found too many arguments')
    while (M._lua_gettop(L2) < args) M._lua_pushnil(L2)
    return config(L2)
  }
  const isNil = (L2: LuaState, i: number): boolean => M._lua_type(L2, i) === LUA_TNIL
  // json_integer_option; its range check names argument 1 whatever the option (as in C).
  const integerOption = (L2: LuaState, i: number, get: () => number, set: (v: number) => void, min: number, max: number): number => {
    if (!isNil(L2, i)) {
      const v = lib.checkInt(L2, i)
      if (!(min <= v && v <= max)) lib.argError(L2, 1, `expected integer between ${min} and ${max}`)
      set(v)
    }
    M._lua_pushnumber(L2, get())
    return 1
  }
  const BOOL_OPTIONS = ['off', 'on']
  // json_enum_option with bool_true = 1.
  const enumOption = (L2: LuaState, i: number, get: () => number, set: (v: number) => void, options = BOOL_OPTIONS): number => {
    if (!isNil(L2, i)) {
      if (M._lua_type(L2, i) === LUA_TBOOLEAN) set(M._lua_toboolean(L2, i))
      else set(M._luaL_checkoption(L2, i, 0, lib.optionList(options)))
    }
    const v = get()
    if (v === 0 || v === 1) M._lua_pushboolean(L2, v)
    else lib.pushString(L2, options[v])
    return 1
  }

  // ===== encoding =====

  const encodeException = (L2: LuaState, idx: number, reason: string): never =>
    lib.error(L2, `Cannot serialise ${typeName(M._lua_type(L2, idx))}: ${reason}`)

  const appendString = (L2: LuaState, idx: number): void => {
    const s = lib.toBytes(L2, idx)
    out.byte(34)
    for (let i = 0; i < s.length; i++) {
      const e = ESCAPES[s[i]]
      if (e === null) out.byte(s[i])
      else out.bytes(e)
    }
    out.byte(34)
  }

  const appendNumber = (L2: LuaState, cfg: Config, idx: number): void => {
    const n = M._lua_tonumber(L2, idx)
    const bad = !Number.isFinite(n)
    if (cfg.encodeInvalidNumbers === 0) {
      if (bad) encodeException(L2, idx, 'must not be NaN or Inf')
    } else if (cfg.encodeInvalidNumbers === 1) {
      if (n !== n) {
        out.ascii('nan')
        return
      }
    } else if (bad) {
      out.ascii('null')
      return
    }
    out.ascii(formatG(n, cfg.encodeNumberPrecision))
  }

  // lua_array_length: the largest positive integer key if every key is one, else -1. `max` is a C
  // int, so a key of 2^31 or more stores INT_MIN (x86-64) and the table becomes an object.
  const arrayLength = (L2: LuaState, cfg: Config): number => {
    let max = 0
    let items = 0
    M._lua_pushnil(L2)
    while (M._lua_next(L2, -2) !== 0) {
      if (M._lua_type(L2, -2) === LUA_TNUMBER) {
        const k = M._lua_tonumber(L2, -2)
        if (k !== 0 && Math.floor(k) === k && k >= 1) {
          if (k > max) max = cInt32(k)
          items++
          M._lua_settop(L2, -2)
          continue
        }
      }
      M._lua_settop(L2, -3)
      return -1
    }
    if (cfg.encodeSparseRatio > 0 && max > Math.imul(items, cfg.encodeSparseRatio) && max > cfg.encodeSparseSafe) {
      if (cfg.encodeSparseConvert === 0) encodeException(L2, -1, 'excessively sparse array')
      return -1
    }
    return max
  }

  // json_append_data and its array/object helpers, without recursion: nesting may go as deep
  // as the Lua stack allows (several thousand levels), more than JS frames allow. Each open table
  // has a frame; the Lua stack holds exactly what the C recursion would hold.
  interface EncodeFrame { isArray: boolean, i: number, len: number, depth: number }

  // Appends the value on top of the stack (the caller pops it), or opens a frame for a table.
  const openValue = (L2: LuaState, cfg: Config, frames: EncodeFrame[], depth: number): boolean => {
    switch (M._lua_type(L2, -1)) {
      case LUA_TSTRING:
        appendString(L2, -1)
        return false
      case LUA_TNUMBER:
        appendNumber(L2, cfg, -1)
        return false
      case LUA_TBOOLEAN:
        out.ascii(M._lua_toboolean(L2, -1) !== 0 ? 'true' : 'false')
        return false
      case LUA_TTABLE: {
        depth++
        if (!(depth <= cfg.encodeMaxDepth && M._lua_checkstack(L2, 3) !== 0)) {
          lib.error(L2, `Cannot serialise, excessive nesting (${depth})`)
        }
        const len = arrayLength(L2, cfg)
        if (len > 0) {
          out.byte(91)
          frames.push({ isArray: true, i: 0, len, depth })
        } else {
          out.byte(123)
          M._lua_pushnil(L2)
          frames.push({ isArray: false, i: 0, len: 0, depth })
        }
        return true
      }
      case LUA_TNIL:
        out.ascii('null')
        return false
      case LUA_TLIGHTUSERDATA:
        if (M._lua_touserdata(L2, -1) === 0) {
          out.ascii('null')
          return false
        }
        break
    }
    return encodeException(L2, -1, 'type not supported')
  }

  const appendData = (L2: LuaState, cfg: Config): void => {
    const frames: EncodeFrame[] = []
    if (!openValue(L2, cfg, frames, 0)) return
    while (frames.length > 0) {
      const f = frames[frames.length - 1]
      let hasChild = false
      if (f.isArray) {
        if (f.i < f.len) {
          if (f.i > 0) out.byte(44)
          f.i++
          M._lua_rawgeti(L2, -1, f.i)
          hasChild = true
        } else out.byte(93)
      } else if (M._lua_next(L2, -2) !== 0) {
        if (f.i > 0) out.byte(44)
        f.i++
        const kt = M._lua_type(L2, -2)
        if (kt === LUA_TNUMBER) {
          out.byte(34)
          appendNumber(L2, cfg, -2)
          out.byte(34)
          out.byte(58)
        } else if (kt === LUA_TSTRING) {
          appendString(L2, -2)
          out.byte(58)
        } else {
          encodeException(L2, -2, 'table key must be a number or string')
        }
        hasChild = true
      } else out.byte(125)
      if (hasChild) {
        if (openValue(L2, cfg, frames, f.depth)) continue
        M._lua_settop(L2, -2)
      } else {
        frames.pop()
        if (frames.length > 0) M._lua_settop(L2, -2) // the table was an element of the one below
      }
    }
  }

  const encode = (L2: LuaState): number => {
    const cfg = config(L2)
    if (M._lua_gettop(L2) !== 1) lib.argError(L2, 1, 'expected 1 argument')
    out.reset()
    appendData(L2, cfg)
    lib.pushBytes(L2, out.buf, 0, out.len)
    return 1
  }

  // ===== decoding =====

  const decode = (L2: LuaState): number => {
    if (M._lua_gettop(L2) !== 1) lib.argError(L2, 1, 'expected 1 argument')
    const cfg = config(L2)
    const d = lib.checkBytes(L2, 1)
    if (d.length >= 2 && (d[0] === 0 || d[1] === 0)) lib.error(L2, 'JSON parser does not support UTF-16 or UTF-32')
    const at = (i: number): number => (i < d.length ? d[i] : 0)
    let ptr = 0
    let depth = 0
    const tok: Token = { type: T_END, index: 0, str: null, num: 0, err: '' }
    const tmp = new ByteBuf()

    const setError = (msg: string): void => {
      tok.type = T_ERROR
      tok.index = ptr
      tok.err = msg
    }

    // json_append_unicode_escape: \uXXXX (a surrogate pair takes two) to UTF-8.
    const unicodeEscape = (): boolean => {
      let cp = hex4(d, ptr + 2)
      if (cp < 0) return false
      let escapeLen = 6
      if ((cp & 0xf800) === 0xd800) {
        if ((cp & 0x400) !== 0) return false
        if (at(ptr + 6) !== 92 || at(ptr + 7) !== 117) return false
        const low = hex4(d, ptr + 8)
        if (low < 0 || (low & 0xfc00) !== 0xdc00) return false
        cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000
        escapeLen = 12
      }
      if (cp <= 0x7f) tmp.byte(cp)
      else if (cp <= 0x7ff) {
        tmp.byte((cp >> 6) | 0xc0)
        tmp.byte((cp & 0x3f) | 0x80)
      } else if (cp <= 0xffff) {
        tmp.byte((cp >> 12) | 0xe0)
        tmp.byte(((cp >> 6) & 0x3f) | 0x80)
        tmp.byte((cp & 0x3f) | 0x80)
      } else {
        tmp.byte((cp >> 18) | 0xf0)
        tmp.byte(((cp >> 12) & 0x3f) | 0x80)
        tmp.byte(((cp >> 6) & 0x3f) | 0x80)
        tmp.byte((cp & 0x3f) | 0x80)
      }
      ptr += escapeLen
      return true
    }

    const stringToken = (): void => {
      ptr++
      tmp.reset()
      for (;;) {
        let ch = at(ptr)
        if (ch === 34) break
        if (ch === 0) return setError('unexpected end of string')
        if (ch === 92) {
          ch = ESCAPE2CHAR[at(ptr + 1)]
          if (ch === 117) {
            if (unicodeEscape()) continue
            return setError('invalid unicode escape code')
          }
          if (ch === 0) return setError('invalid escape code')
          ptr++
        }
        tmp.byte(ch)
        ptr++
      }
      ptr++
      tok.type = T_STRING
      tok.str = tmp.buf.subarray(0, tmp.len)
    }

    const numberToken = (): void => {
      const r = strtod(d, ptr)
      tok.type = T_NUMBER
      tok.num = r.value
      if (r.end === ptr) setError('invalid number')
      else ptr = r.end
    }

    const nextToken = (): void => {
      let ch: number
      for (;;) {
        ch = at(ptr)
        tok.type = CH2TOKEN[ch]
        if (tok.type !== T_WHITESPACE) break
        ptr++
      }
      tok.index = ptr
      if (tok.type === T_ERROR) return setError('invalid token')
      if (tok.type === T_END) return
      if (tok.type !== T_UNKNOWN) {
        ptr++
        return
      }
      if (ch === 34) return stringToken()
      if (ch === 45 || (ch >= 48 && ch <= 57)) {
        if (cfg.decodeInvalidNumbers === 0 && isInvalidNumber(d, ptr)) return setError('invalid number')
        return numberToken()
      }
      if (startsWith(d, ptr, 'true')) {
        tok.type = T_BOOLEAN
        tok.num = 1
        ptr += 4
        return
      }
      if (startsWith(d, ptr, 'false')) {
        tok.type = T_BOOLEAN
        tok.num = 0
        ptr += 5
        return
      }
      if (startsWith(d, ptr, 'null')) {
        tok.type = T_NULL
        ptr += 4
        return
      }
      if (cfg.decodeInvalidNumbers !== 0 && isInvalidNumber(d, ptr)) return numberToken()
      setError('invalid token')
    }

    const parseError = (expected: string): never => {
      const found = tok.type === T_ERROR ? tok.err : TOKEN_NAMES[tok.type]
      return lib.error(L2, `Expected ${expected} but found ${found} at character ${tok.index + 1}`)
    }

    const descend = (slots: number): void => {
      depth++
      if (depth <= cfg.decodeMaxDepth && M._lua_checkstack(L2, slots) !== 0) return
      lib.error(L2, `Found too many nested data structures (${depth}) at character ${ptr}`)
    }

    // json_process_value with json_parse_object_context and json_parse_array_context, without
    // recursion (see appendData). Returns true when it opened a non-empty table.
    const frames: Array<{ isObj: boolean, i: number }> = []
    const processValue = (): boolean => {
      switch (tok.type) {
        case T_STRING: lib.pushBytes(L2, tok.str!); return false
        case T_NUMBER: M._lua_pushnumber(L2, tok.num); return false
        case T_BOOLEAN: M._lua_pushboolean(L2, tok.num); return false
        case T_NULL: M._lua_pushlightuserdata(L2, 0); return false
        case T_OBJ_BEGIN:
        case T_ARR_BEGIN: {
          const isObj = tok.type === T_OBJ_BEGIN
          descend(isObj ? 3 : 2)
          M._lua_createtable(L2, 0, 0)
          nextToken()
          if ((tok.type as number) === (isObj ? T_OBJ_END : T_ARR_END)) {
            depth--
            return false
          }
          frames.push({ isObj, i: 1 })
          return true
        }
      }
      return parseError('value')
    }

    const parseValue = (): void => {
      if (!processValue()) return
      for (;;) {
        if (frames[frames.length - 1].isObj) {
          if (tok.type !== T_STRING) parseError('object key string')
          lib.pushBytes(L2, tok.str!)
          nextToken()
          if (tok.type !== T_COLON) parseError('colon')
          nextToken()
        }
        if (processValue()) continue
        // A value is complete: store it, then close every table that ends here.
        for (;;) {
          const f = frames[frames.length - 1]
          if (f.isObj) M._lua_rawset(L2, -3)
          else M._lua_rawseti(L2, -2, f.i++)
          nextToken()
          if (tok.type === (f.isObj ? T_OBJ_END : T_ARR_END)) {
            depth--
            frames.pop()
            if (frames.length === 0) return
            continue
          }
          if (tok.type !== T_COMMA) parseError(f.isObj ? 'comma or object end' : 'comma or array end')
          nextToken()
          break
        }
      }
    }

    nextToken()
    parseValue()
    nextToken()
    if (tok.type !== T_END) parseError('the end')
    return 1
  }

  // ===== configuration =====

  const options: Record<string, (L2: LuaState) => number> = {
    encode_sparse_array: (L2) => {
      const cfg = argInit(L2, 3)
      enumOption(L2, 1, () => cfg.encodeSparseConvert, (v) => { cfg.encodeSparseConvert = v })
      integerOption(L2, 2, () => cfg.encodeSparseRatio, (v) => { cfg.encodeSparseRatio = v }, 0, INT_MAX)
      integerOption(L2, 3, () => cfg.encodeSparseSafe, (v) => { cfg.encodeSparseSafe = v }, 0, INT_MAX)
      return 3
    },
    encode_max_depth: (L2) => {
      const cfg = argInit(L2, 1)
      return integerOption(L2, 1, () => cfg.encodeMaxDepth, (v) => { cfg.encodeMaxDepth = v }, 1, INT_MAX)
    },
    decode_max_depth: (L2) => {
      const cfg = argInit(L2, 1)
      return integerOption(L2, 1, () => cfg.decodeMaxDepth, (v) => { cfg.decodeMaxDepth = v }, 1, INT_MAX)
    },
    encode_number_precision: (L2) => {
      const cfg = argInit(L2, 1)
      return integerOption(L2, 1, () => cfg.encodeNumberPrecision, (v) => { cfg.encodeNumberPrecision = v }, 1, 14)
    },
    encode_keep_buffer: (L2) => {
      const cfg = argInit(L2, 1)
      return enumOption(L2, 1, () => cfg.encodeKeepBuffer, (v) => { cfg.encodeKeepBuffer = v })
    },
    encode_invalid_numbers: (L2) => {
      const cfg = argInit(L2, 1)
      return enumOption(L2, 1, () => cfg.encodeInvalidNumbers, (v) => { cfg.encodeInvalidNumbers = v }, ['off', 'on', 'null'])
    },
    decode_invalid_numbers: (L2) => {
      const cfg = argInit(L2, 1)
      return enumOption(L2, 1, () => cfg.decodeInvalidNumbers, (v) => { cfg.decodeInvalidNumbers = v })
    },
  }

  const functions: Array<[string, number]> = []
  const add = (name: string, fn: (L2: LuaState) => number): void => {
    functions.push([name, M.addFunction(fn, 'ii')])
  }
  add('encode', encode)
  add('decode', decode)
  for (const [name, fn] of Object.entries(options)) add(name, fn)
  add('new', (L2) => {
    newInstance(L2)
    return 1
  })
  // The userdata's __gc drops its settings when the instance is collected.
  const gc = M.addFunction((L2) => {
    const p = M._lua_touserdata(L2, 1)
    if (p !== 0) configs.delete(new DataView(M.HEAPU8.buffer).getUint32(p, true))
    return 0
  }, 'ii')

  // lua_cjson_new: a table of the functions, each with this instance's settings as upvalue 1.
  const newInstance = (L2: LuaState): void => {
    const id = nextId++
    configs.set(id, defaultConfig())
    M._lua_createtable(L2, 0, functions.length + 3)
    const p = M._lua_newuserdata(L2, 4)
    new DataView(M.HEAPU8.buffer).setUint32(p, id, true)
    M._lua_createtable(L2, 0, 1)
    M._lua_pushcclosure(L2, gc, 0)
    M._lua_setfield(L2, -2, lib.cstr('__gc'))
    M._lua_setmetatable(L2, -2)
    for (const [name, fp] of functions) {
      M._lua_pushvalue(L2, -1)
      M._lua_pushcclosure(L2, fp, 1)
      M._lua_setfield(L2, -3, lib.cstr(name))
    }
    M._lua_settop(L2, -2)
    M._lua_pushlightuserdata(L2, 0)
    M._lua_setfield(L2, -2, lib.cstr('null'))
    setString(lib, L2, '_NAME', 'cjson')
    setString(lib, L2, '_VERSION', '2.1.0')
  }

  newInstance(L)
  M._lua_setfield(L, LUA_GLOBALSINDEX, lib.cstr('cjson'))
}

function setString (lib: LuaLib, L: LuaState, key: string, value: string): void {
  lib.pushString(L, value)
  lib.M._lua_setfield(L, -2, lib.cstr(key))
}

