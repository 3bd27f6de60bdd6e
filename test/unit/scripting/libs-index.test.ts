// registerAll: the four tables as globals, the Lua stack left as it was, and errors raised from
// the functions behaving as C errors do (method calls, debug.getinfo, error objects).
import { describe, expect, it } from 'vitest'
import { Lua } from 'wasmoon-lua5.1'
import { registerAll } from '../../../src/scripting/libs/index.js'
import type { LuaModule } from '../../../src/scripting/libs/module.js'
import { useLuaPair } from './lua-harness.js'

const pair = useLuaPair()
const same = pair.same


describe('registerAll', () => {
  it('leaves the stack balanced', async () => {
    const lua = await Lua.create()
    const inner = lua as unknown as { luaApi: { module: LuaModule }, global: { address: number } }
    const M = inner.luaApi.module
    const L = inner.global.address
    M._lua_settop(L, 0)
    M._lua_pushnil(L)
    registerAll(M, L)
    expect(M._lua_gettop(L)).toBe(1)
  })

  it.each([
    'return type(bit) .. type(cjson) .. type(cmsgpack) .. type(struct)',
    'return cjson:encode(1)', 'return cjson.encode:x()', 'return bit:tobit()', 'return struct:pack("b")',
    'return cmsgpack:unpack()', 'return cjson:decode("1")',
    'local ok, e = pcall(cjson.decode, "{") return type(e) .. " " .. e',
    'local ok, e = pcall(struct.size, "s") return e',
    'local ok, e = pcall(function() local x = cjson.decode("[") end) return e',
    'local t = {} local ok, e = pcall(cjson.encode, t, t) return e',
    'return tostring(select("#", cmsgpack.unpack(cmsgpack.pack(1, 2, 3))))',
  ])('%s', async (body) => { await same(body) })

  // Scripts in Redis cannot reach debug; the sandbox's error handler can, and skips C frames.
  it('the functions are C functions to debug.getinfo', async () => {
    expect(await pair.vm().run('return debug.getinfo(cjson.encode).what .. debug.getinfo(bit.band).what .. ' +
      'debug.getinfo(struct.pack).what .. debug.getinfo(cmsgpack.pack).what')).toBe('ok:CCCC')
  })
})
