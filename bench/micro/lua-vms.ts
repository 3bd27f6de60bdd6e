// Which Lua VM should run EVAL (the scripting issue)? Three candidates from npm, each driven
// through its C API from JS, the way a shard would drive it (bytes in and out, no JS proxies):
//   wasmoon-lua5.1  Lua 5.1.5 compiled to WebAssembly (the language Redis scripts are written for)
//   wasmoon         Lua 5.4 compiled to WebAssembly
//   fengari         Lua 5.3 written in JavaScript
// Speed: an EVAL-shaped call (KEYS and ARGV tables built, a cached chunk run under pcall, two
// calls back into JS that read their arguments as bytes and push a reply, a table returned), in
// µs per call. Behaviour: Lua expressions whose results differ between 5.1 and later versions,
// each compared with a real redis-server's EVAL of the same expression (started here).
//
//   npm run bench:lua          writes bench/results/<date>-<commit>-lua-vms.md

import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync, mkdirSync } from 'node:fs'
import { rawCommand } from '../servers.js'
import { performance } from 'node:perf_hooks'

const GLOBALS = -10002 // LUA_GLOBALSINDEX in 5.1
const REGISTRY_51 = -10000

/** The operations the comparison needs, over one VM. Strings are raw bytes both ways. */
interface Vm {
  name: string
  load (code: Uint8Array): void // compiles a chunk and keeps it (run() runs the last one)
  run (keys: Uint8Array[], argv: Uint8Array[]): number // pcall status
  resultString (): string // tostring of the top of the stack (after run), then clears it
  setCall (fn: (args: Uint8Array[]) => Uint8Array): void
}

/** The emscripten builds (wasmoon, wasmoon-lua5.1) export the raw C API on their module. */
interface EmModule {
  HEAPU8: Uint8Array
  _malloc (n: number): number
  addFunction (fn: (L: number) => number, sig: string): number
  [k: string]: unknown
}
type CFn = (...a: number[]) => number

function emscriptenVm (name: string, M: EmModule, L: number, v51: boolean): Vm {
  const f = (n: string): CFn => M[n] as CFn
  const pushl = f('_lua_pushlstring'); const tol = f('_lua_tolstring'); const createtable = f('_lua_createtable')
  // 5.4 takes lua_Integer (64-bit, a BigInt through wasm) for table indexes.
  const int = (n: number): number => (v51 ? n : BigInt(n)) as number
  const rawseti = (L2: number, t: number, n: number): number => f('_lua_rawseti')(L2, t, int(n))
  const rawgeti = (L2: number, t: number, n: number): number => f('_lua_rawgeti')(L2, t, int(n))
  const settop = f('_lua_settop'); const gettop = f('_lua_gettop')
  const ref = f('_luaL_ref'); const pushcclosure = f('_lua_pushcclosure')
  const pcall = v51 ? f('_lua_pcall') : (L2: number, a: number, r: number, e: number) => f('_lua_pcallk')(L2, a, r, e, 0, 0)
  const load = v51 ? (L2: number, p: number, n: number, nm: number) => f('_luaL_loadbuffer')(L2, p, n, nm) : (L2: number, p: number, n: number, nm: number) => f('_luaL_loadbufferx')(L2, p, n, nm, 0)
  const setglobal = v51 ? (L2: number, nm: number) => f('_lua_setfield')(L2, GLOBALS, nm) : (L2: number, nm: number) => f('_lua_setglobal')(L2, nm)
  const registry = v51 ? REGISTRY_51 : -1001000 // LUA_REGISTRYINDEX in 5.4 (LUAI_MAXSTACK 1000000)
  const scratch = M._malloc(1 << 16)
  const lenp = M._malloc(8)
  const cstr = (s: string): number => { const b = Buffer.from(`${s}\0`); const p = M._malloc(b.length); M.HEAPU8.set(b, p); return p }
  const KEYS = cstr('KEYS'); const ARGV = cstr('ARGV'); const CALL = cstr('call'); const NAME = cstr('@user_script')
  const push = (L2: number, b: Uint8Array): void => { M.HEAPU8.set(b, scratch); pushl(L2, scratch, b.length) }
  const bytesAt = (L2: number, i: number): Uint8Array => {
    const p = tol(L2, i, lenp)
    const h = M.HEAPU8
    return h.slice(p, p + (h[lenp] | h[lenp + 1] << 8 | h[lenp + 2] << 16 | h[lenp + 3] << 24))
  }
  let chunk = 0
  const table = (items: Uint8Array[]): void => {
    createtable(L, items.length, 0)
    items.forEach((b, i) => { push(L, b); rawseti(L, -2, i + 1) })
  }
  return {
    name,
    load (code) {
      M.HEAPU8.set(code, scratch)
      if (load(L, scratch, code.length, NAME) !== 0) throw new Error(`${name}: load failed: ${Buffer.from(bytesAt(L, -1)).toString()}`)
      chunk = ref(L, registry)
    },
    run (keys, argv) {
      table(keys); setglobal(L, KEYS)
      table(argv); setglobal(L, ARGV)
      rawgeti(L, registry, chunk)
      return pcall(L, 0, 1, 0)
    },
    resultString () {
      const s = Buffer.from(bytesAt(L, -1)).toString('latin1')
      settop(L, 0)
      return s
    },
    setCall (fn) {
      const ptr = M.addFunction((L2: number) => {
        const args: Uint8Array[] = []
        for (let i = 1, n = gettop(L2); i <= n; i++) args.push(bytesAt(L2, i))
        push(L2, fn(args))
        return 1
      }, 'ii')
      pushcclosure(L, ptr, 0)
      setglobal(L, CALL)
    },
  }
}

async function wasmoon51 (): Promise<Vm> {
  const { Lua } = await import('wasmoon-lua5.1')
  const lua = await Lua.create()
  const inner = lua as unknown as { luaApi: { module: EmModule }, global: { address: number } }
  return emscriptenVm('wasmoon-lua5.1 (Lua 5.1.5, wasm)', inner.luaApi.module, inner.global.address, true)
}

async function wasmoon54 (): Promise<Vm> {
  const { LuaFactory } = await import('wasmoon')
  const engine = await new LuaFactory().createEngine()
  const inner = engine as unknown as { global: { lua: { module: EmModule }, address: number } }
  return emscriptenVm('wasmoon (Lua 5.4, wasm)', inner.global.lua.module, inner.global.address, false)
}

async function fengari53 (): Promise<Vm> {
  const fengari = (await import('fengari')).default
  const { lua, lauxlib, lualib } = fengari
  const L = lauxlib.luaL_newstate()
  lualib.luaL_openlibs(L)
  let chunk = 0
  const table = (items: Uint8Array[]): void => {
    lua.lua_createtable(L, items.length, 0)
    items.forEach((b, i) => { lua.lua_pushlstring(L, b, b.length); lua.lua_rawseti(L, -2, i + 1) })
  }
  return {
    name: 'fengari (Lua 5.3, JavaScript)',
    load (code) {
      if (lauxlib.luaL_loadbuffer(L, code, code.length, fengari.to_luastring('@user_script')) !== 0) throw new Error('fengari: load failed')
      chunk = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX)
    },
    run (keys, argv) {
      table(keys); lua.lua_setglobal(L, fengari.to_luastring('KEYS'))
      table(argv); lua.lua_setglobal(L, fengari.to_luastring('ARGV'))
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, chunk)
      return lua.lua_pcall(L, 0, 1, 0)
    },
    resultString () {
      const s = Buffer.from(lua.lua_tolstring(L, -1) ?? new Uint8Array(0)).toString('latin1')
      lua.lua_settop(L, 0)
      return s
    },
    setCall (fn) {
      lua.lua_pushcfunction(L, (L2: unknown) => {
        const args: Uint8Array[] = []
        for (let i = 1, n = lua.lua_gettop(L2); i <= n; i++) args.push(lua.lua_tolstring(L2, i))
        const r = fn(args)
        lua.lua_pushlstring(L2, r, r.length)
        return 1
      })
      lua.lua_setglobal(L, fengari.to_luastring('call'))
    },
  }
}

/** Lua whose result differs between 5.1 and 5.3/5.4, as scripts written for Redis meet it. */
const PROBES = [
  'tostring(10/2)', 'tostring(3.0)', 'tostring(2^53)', 'tostring(1e15)', 'tostring(0.1)', 'tostring(7 % -3)',
  'string.format("%d", 3.7)', 'tostring(math.floor(3.5))', 'type(unpack)', 'type(table.getn)', 'type(math.mod)',
  'type(loadstring)', 'type(setfenv)', 'type(table.unpack)', 'type(math.tointeger)', 'type(string.pack)',
  'tostring(#"héllo")', 'tostring(select("#", unpack({1, nil, 3})))', '_VERSION', 'tostring(tonumber("0x10"))',
  'tostring(tonumber("  5  "))', 'tostring(9007199254740993)', 'tostring(-0.0)', 'tostring(1/0)', 'string.rep("ab", 3)',
]

/** A real Redis's EVAL of `return <expr>`: a bulk's payload, or the error/status/integer line. */
async function redisEval (port: number, expr: string): Promise<string> {
  const script = `return ${expr}`
  const reply = await rawCommand(port, `*3\r\n$4\r\nEVAL\r\n$${Buffer.byteLength(script)}\r\n${script}\r\n$1\r\n0\r\n`)
  const m = /^\$(\d+)\r\n/.exec(reply)
  return m === null ? reply.trim() : reply.slice(m[0].length, m[0].length + Number(m[1]))
}

async function main (): Promise<void> {
  const port = 16390 + Math.floor(Math.random() * 1000)
  const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await new Promise(r => setTimeout(r, 400))
  const lines: string[] = []
  try {
    const expected = new Map<string, string>()
    for (const p of PROBES) expected.set(p, await redisEval(port, p))
    const vms = [await wasmoon51(), await wasmoon54(), await fengari53()]
    const N = Number(process.env.LUA_BENCH_N ?? '50000')
    const script = Buffer.from("local a = call('GET', KEYS[1]); local b = call('SET', KEYS[2], ARGV[1]); return {a, b, #ARGV}")
    const keys = [Buffer.from('k1'), Buffer.from('k2')]
    const argv = [Buffer.from('x'), Buffer.from('y')]
    const reply = Buffer.from('v')
    lines.push('| VM | µs per EVAL-shaped call | probes equal to Redis 7.0 |', '|---|---|---|')
    const details: string[] = []
    for (const vm of vms) {
      vm.setCall(() => reply)
      vm.load(script)
      for (let i = 0; i < 2000; i++) { vm.run(keys, argv); vm.resultString() }
      let best = Infinity
      for (let round = 0; round < 3; round++) {
        const t = performance.now()
        for (let i = 0; i < N; i++) { if (vm.run(keys, argv) !== 0) throw new Error(`${vm.name}: pcall failed`); vm.resultString() }
        best = Math.min(best, (performance.now() - t) / N * 1000)
      }
      let same = 0
      for (const p of PROBES) {
        vm.load(Buffer.from(`return ${p}`))
        const got = vm.run([], []) === 0 ? vm.resultString() : `error: ${vm.resultString()}`
        const want = expected.get(p) as string
        if (got === want) same++
        else details.push(`| ${vm.name} | \`${p}\` | \`${got}\` | \`${want}\` |`)
      }
      lines.push(`| ${vm.name} | ${best.toFixed(2)} | ${same} of ${PROBES.length} |`)
    }
    lines.push('', 'Probes that differ from Redis:', '', '| VM | Lua | VM says | Redis says |', '|---|---|---|---|', ...details)
  } finally {
    redis.kill()
  }
  const commit = (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim() } catch { return 'nocommit' } })()
  const date = new Date().toISOString().slice(0, 10)
  const text = `# Lua VMs for EVAL (${date}, ${commit})\n\nredis-server ${execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).split(' ')[2]}, Node ${process.version}. ` +
    'Each VM driven through its C API from JS (bytes in and out). Best of 3 rounds.\n\n' + lines.join('\n') + '\n'
  mkdirSync(new URL('../../../bench/results/', import.meta.url), { recursive: true })
  const file = new URL(`../../../bench/results/${date}-${commit}-lua-vms.md`, import.meta.url)
  writeFileSync(file, text)
  process.stdout.write(text)
}

await main()
