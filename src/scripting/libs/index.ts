// Loads the libraries Redis 7.0 gives every script (scriptingInit → luaLoadLibraries): bit,
// cjson, cmsgpack and struct, each a global table of C functions written in TypeScript.

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
