// Loads the libraries Redis 7.0 gives every script (scriptingInit → luaLoadLibraries): bit,
// cjson, cmsgpack and struct, each a global table of C functions written in TypeScript. Call once
// per lua_State, before the sandbox is sealed: the tables are plain globals here, and Redis 7.0.15
// makes them (and _G) read-only afterwards, which is the sandbox's job, not this module's.
// Errors are raised with lua_error from inside the functions, so they behave as C errors do:
// pcall catches them, and debug.getinfo sees a C function (what == 'C').

import { register as registerBit } from './bit.js'
import { register as registerCjson } from './cjson.js'
import { register as registerCmsgpack } from './cmsgpack.js'
import { register as registerStruct } from './struct.js'
import type { LuaModule, LuaState } from './module.js'

export function registerAll (M: LuaModule, L: LuaState): void {
  // The order of Redis's luaLoadLibraries (cjson, struct, cmsgpack, bit).
  registerCjson(M, L)
  registerStruct(M, L)
  registerCmsgpack(M, L)
  registerBit(M, L)
}
