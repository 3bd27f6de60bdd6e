// Runs Lua snippets in two places: a wasmoon-lua5.1 VM with our libraries (registerAll), and a
// real redis-server through EVAL. A snippet is a function body that returns a string; `run*`
// wrap it in pcall so an error comes back as 'err:' + message, a result as 'ok:' + string.
// HEX is a local helper prepended to every snippet, for binary results.
import { Lua } from 'wasmoon-lua5.1'
import { afterAll, beforeAll, expect } from 'vitest'
import { Redis } from 'ioredis'
import { registerAll } from '../../../src/scripting/libs/index.js'
import type { LuaModule } from '../../../src/scripting/libs/module.js'
import { startRedis } from '../../integration/helpers/redis.js'
import type { ServerHandle } from '../../integration/helpers/server.js'

const PRELUDE = 'local function HEX(s) return (string.gsub(s, ".", function(c) return string.format("%02x", string.byte(c)) end)) end\n'

export function wrap (body: string): string {
  return `${PRELUDE}local ok, r = pcall(function()\n${body}\nend)\n` +
    'if ok then return "ok:" .. tostring(r) else return "err:" .. tostring(r) end'
}

export interface LocalVm {
  run (body: string): Promise<string>
  M: LuaModule
  L: number
}

export async function createVm (): Promise<LocalVm> {
  const lua = await Lua.create()
  const inner = lua as unknown as { luaApi: { module: LuaModule }, global: { address: number } }
  const M = inner.luaApi.module
  const L = inner.global.address
  registerAll(M, L)
  const m = M as unknown as Record<string, (...a: number[]) => number>
  const lenPtr = M._malloc(4)
  const name = M._malloc(16)
  M.HEAPU8.set(Buffer.from('@user_script\0'), name)
  return {
    M,
    L,
    async run (body) {
      const code = Buffer.from(wrap(body), 'latin1')
      const p = M._malloc(code.length)
      M.HEAPU8.set(code, p)
      const top = M._lua_gettop(L)
      let status = m._luaL_loadbuffer(L, p, code.length, name)
      M._free(p)
      if (status === 0) status = m._lua_pcall(L, 0, 1, 0)
      const sp = M._lua_tolstring(L, -1, lenPtr)
      const len = new DataView(M.HEAPU8.buffer).getUint32(lenPtr, true)
      const out = Buffer.from(M.HEAPU8.slice(sp, sp + len)).toString('latin1')
      M._lua_settop(L, top)
      if (status !== 0) throw new Error(`local VM: ${out}`)
      return out
    },
  }
}

export interface RedisRef {
  run (body: string): Promise<string>
  stop (): Promise<void>
}

export async function createRedisRef (): Promise<RedisRef> {
  const server: ServerHandle = await startRedis()
  const client = new Redis({ port: server.port, host: server.host, lazyConnect: false })
  return {
    async run (body) {
      const r = await client.evalBuffer(wrap(body), 0) as Buffer
      return r.toString('latin1')
    },
    async stop () {
      client.disconnect()
      await server.stop()
    },
  }
}

/**
 * One VM and one redis-server for a test file, set up around its tests: `same(body)` runs a
 * snippet (after `prelude`) in both and expects the same result, which it returns.
 */
export function useLuaPair (prelude = ''): { same: (body: string) => Promise<string>, vm: () => LocalVm } {
  let vm: LocalVm
  let redis: RedisRef
  beforeAll(async () => {
    vm = await createVm()
    redis = await createRedisRef()
  })
  afterAll(async () => { await redis?.stop() })
  return {
    vm: () => vm,
    same: async (body: string): Promise<string> => {
      const want = await redis.run(prelude + body)
      expect(await vm.run(prelude + body), body).toBe(want)
      return want
    },
  }
}
