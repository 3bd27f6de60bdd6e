// The scripting sandbox of Redis 7.0 (script_lua.c luaRegisterRedisAPI, eval.c scriptingInit),
// rebuilt on stock Lua 5.1: the `redis` table, Redis's math.random, pcall that unwraps error
// tables (and runs Lua functions in coroutines that can yield), and read-only globals. Redis 7.0 patches Lua with read-only tables; here every global
// table (and the globals table itself) is an empty proxy whose __index is the real table and
// whose __newindex raises Redis's error, and rawset/setmetatable/getmetatable/next/pairs/
// ipairs/rawget see through the proxies. The C functions that need the server are JS functions
// (scripts.ts) passed in as the chunk's arguments; everything else is Lua, run once per VM.

import { Buffer } from 'node:buffer'
import type { LuaVm } from './lua.js'
import { LUA_GLOBALSINDEX, LUA_REGISTRYINDEX } from './lua.js'
import { registerAll } from './libs/index.js'
import { registerFormat } from './format.js'
import type { LuaModule } from './libs/module.js'

/** Chunk name of the sandbox's own functions: error positions skip their frames. */
export const SANDBOX_CHUNK = '=redis'

const SANDBOX_LUA = `
local ccall, cpcall, csha1, clog, cresp, crepl, crand, cseed, cacl, cpcallable, cprepare, cinternal, cwait, cdone, cdriven, version, version_num = ...
local G = _G
local dbg = debug
local error, type, select, tostring, tonumber, floor = error, type, select, tostring, tonumber, math.floor
local rawget, rawset, rawnext, rawpairs, rawipairs = rawget, rawset, next, pairs, ipairs
local rawsetmeta, rawgetmeta, rawpcall, rawloadstring = setmetatable, getmetatable, pcall, loadstring
local concat, byte = table.concat, string.byte
local rawsetfenv = setfenv

local function E (msg) return { err = msg } end

local redis = {}
-- What may raise an error is a C function (scripts.ts), so that \`return redis.call(...)\` keeps
-- the script's frame: a Lua function would be tail-called, and the error's line lost.
redis.call = ccall
redis.pcall = cpcall
redis.sha1hex = csha1
-- luaPushErrorBuff: "-CODE msg" keeps its code, a message without a space gets ERR.
local function trim (s) return (s:gsub('^[\\r\\n]+', ''):gsub('[\\r\\n]+$', '')) end
function redis.error_reply (...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return E('ERR wrong number or type of arguments') end
  if byte(s, 1) == 45 then s = s:sub(2) end
  local sp = s:find(' ', 1, true)
  if sp == nil then return E('ERR ' .. trim(s)) end
  return E(s:sub(1, sp - 1) .. ' ' .. trim(s:sub(sp + 1)))
end
function redis.status_reply (...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return E('ERR wrong number or type of arguments') end
  return { ok = s }
end
redis.log, redis.setresp, redis.set_repl = clog, cresp, crepl
function redis.replicate_commands () return true end
redis.acl_check_cmd = cacl
function redis.breakpoint () return false end
function redis.debug () end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = version, version_num
G.redis = redis

-- redis_math_random: Lua's own algorithm over Redis's lrand48 (never reseeded by Redis 7.0).
math.random, math.randomseed = crand, cseed

-- luaRedisPcall: an error table with an err field comes back as its message; with an err
-- field that is not a string, Redis 7.0 leaves that field after the table (three results).
local function unwrap (ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then return false, m end
    return false, e, m
  end
  return false, e
end

-- pcall of a Lua function (or of redis.call and redis.pcall) from where the script can yield
-- runs it in a coroutine of its own, so that a redis.call waiting for other shards, or a busy
-- script's pause, can yield through it (Lua 5.1 cannot yield across its C pcall): cwait
-- yields this thread on the inner one's behalf and hands what comes back down to it.
local cocreate, coresume, costatus, rawrunning = coroutine.create, coroutine.resume, coroutine.status, coroutine.running
local function drive (co, ok, ...)
  if costatus(co) == 'dead' then
    cdone(co)
    return unwrap(ok, ...)
  end
  if cinternal() then return drive(co, coresume(co, cwait())) end
  -- The function itself yielded: inside Redis's pcall that is this error.
  cdone(co)
  return false, 'attempt to yield across metamethod/C-call boundary'
end
local function trampoline (f)
  return function (...) return f(...) end
end
local callTrampoline, pcallTrampoline = trampoline(ccall), trampoline(cpcall)
function G.pcall (...)
  -- luaRedisPcall with no arguments calls its own placeholder, the boolean true.
  if select('#', ...) == 0 then return false, 'attempt to call a boolean value' end
  local f = ...
  local body = f
  if f == ccall then body = callTrampoline elseif f == cpcall then body = pcallTrampoline end
  if type(body) ~= 'function' or not cpcallable(body) then return unwrap(rawpcall(...)) end
  local co = cocreate(body)
  -- luaD_call's "C stack overflow", as nested C pcalls would meet it.
  if not cprepare(co) then return false, 'C stack overflow' end
  return drive(co, coresume(co, select(2, ...)))
end
-- Scripts run in the main thread in Redis: coroutine.running() is nil there, and in pcall.
function coroutine.running ()
  if cdriven() then return nil end
  return rawrunning()
end

-- Bytecode is refused (Redis's Lua: loadstring of a binary chunk gives nil).
function G.loadstring (s, ...)
  if type(s) == 'string' and byte(s, 1) == 27 then return nil end
  return rawloadstring(s, ...)
end

-- eval.c's handler, kept as the global Redis has (this runtime builds errors in errinfo).
function G.__redis__err__handler (err)
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then i = dbg.getinfo(3, 'nSl') end
  if type(err) ~= 'table' then err = { err = 'ERR ' .. tostring(err) } end
  if i then err.source = i.source; err.line = i.currentline end
  return err
end

-- The globals Redis 7.0 leaves: everything else the libraries opened goes.
local keep = {}
for _, k in rawipairs({ 'string', 'cjson', 'bit', 'cmsgpack', 'math', 'table', 'struct', 'redis',
  '__redis__err__handler', 'xpcall', 'tostring', 'setmetatable', 'next', 'assert', 'tonumber',
  'rawequal', 'collectgarbage', 'getmetatable', 'rawset', 'pcall', 'coroutine', 'type', '_G',
  'select', 'unpack', 'gcinfo', 'pairs', 'rawget', 'loadstring', 'ipairs', '_VERSION', 'load',
  'error' }) do keep[k] = true end
local drop = {}
for k in rawpairs(G) do if not keep[k] then drop[#drop + 1] = k end end
for _, k in rawipairs(drop) do G[k] = nil end

-- Read-only tables: proxies over the real ones.
local real = rawsetmeta({}, { __mode = 'k' })
local function readonly () error('Attempt to modify a readonly table', 2) end
local function protect (t)
  local p = rawsetmeta({}, { __index = t, __newindex = readonly, __metatable = false })
  real[p] = t
  return p
end
local strmeta = rawgetmeta('')
for k, v in rawpairs(G) do
  if type(v) == 'table' and v ~= G then rawset(G, k, protect(v)) end
end
strmeta.__index = G.string
local strmetaProxy = protect(strmeta)
rawsetmeta(G, { __index = function (_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end })
local gmetaProxy = protect(rawgetmeta(G))
local proxyG = protect(G)
rawset(G, '_G', proxyG)

local function unproxy (t) return real[t] or t end
function G.rawget (t, k) return rawget(unproxy(t), k) end
function G.next (t, k) return rawnext(unproxy(t), k) end
function G.pairs (t) if real[t] then return rawnext, real[t], nil end return rawpairs(t) end
function G.ipairs (t) return rawipairs(unproxy(t)) end
function G.rawset (t, k, v)
  if real[t] or t == G then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
function G.setmetatable (t, mt)
  if real[t] or t == G then error('Attempt to modify a readonly table', 0) end
  return rawsetmeta(t, mt)
end
function G.getmetatable (t)
  if t == proxyG then return gmetaProxy end
  if real[t] then return nil end
  if type(t) == 'string' then return strmetaProxy end
  return rawgetmeta(t)
end

-- The first frame of the failed script that is neither C nor this sandbox: Redis's source:line.
local function errinfo (co)
  for level = 0, 200 do
    local i = dbg.getinfo(co, level, 'Sl')
    if i == nil then return nil end
    if i.what ~= 'C' and i.source ~= '${SANDBOX_CHUNK}' then return i.source, i.currentline end
  end
  return nil
end

-- FUNCTION LOAD (function_lua.c luaEngineCreate): a library's chunk runs with only the load
-- API as its globals: \`redis\` holding register_function, log, the LOG_ levels and the version
-- (anything else is a nonexistent global, any assignment a readonly table). Once it has run, the
-- library's functions see the globals every script sees; the returned function makes that switch.
local function libenv (fn, register)
  local api = { register_function = register, log = clog, LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2,
    LOG_WARNING = 3, REDIS_VERSION = version, REDIS_VERSION_NUM = version_num }
  local proxyApi = rawsetmeta({}, { __index = function (_, k)
    local v = rawget(api, k)
    if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
    return v
  end, __newindex = readonly, __metatable = false })
  local mt = { __index = function (_, k)
    if k ~= 'redis' then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
    return proxyApi
  end, __newindex = readonly, __metatable = false }
  rawsetfenv(fn, rawsetmeta({}, mt))
  return function () mt.__index = proxyG end
end

return G, proxyG, errinfo, libenv
`

/**
 * The cjson, struct, cmsgpack and bit libraries (libs/, C functions written in TypeScript), as
 * globals, and string.format with 64-bit integers (format.ts). Called once per VM, before the
 * sandbox runs, so that the sandbox keeps and protects them as Redis does.
 */
export function registerLibraries (vm: LuaVm): void {
  registerAll(vm.M as unknown as LuaModule, vm.L)
  registerFormat(vm)
}

/** The C functions the sandbox needs from the server (scripts.ts). */
export interface SandboxHooks {
  call: number
  pcall: number
  /** pcall's helpers (scripts.ts): whether f runs in a driven coroutine, its C-call depth, waits. */
  pcallable: number
  pcallPrepare: number
  pcallInternal: number
  pcallWait: number
  pcallDone: number
  /** The running thread is the script's or one of its pcall coroutines. */
  driven: number
  sha1hex: number
  log: number
  setresp: number
  setRepl: number
  random: number
  randomseed: number
  aclCheck: number
}

export interface Sandbox {
  /** Registry refs: the real globals table (KEYS and ARGV go there) and errinfo(co). */
  globalsRef: number
  errinfoRef: number
  /** libenv(chunk, register_function): gives a library's chunk its load-time globals; returns the switch to run-time ones. */
  libenvRef: number
}

/** Builds the sandbox on the VM's main state; from then on new chunks see the read-only globals. */
export function buildSandbox (vm: LuaVm, hooks: SandboxHooks, version: string): Sandbox {
  const L = vm.L
  registerLibraries(vm)
  if (vm.load(L, Buffer.from(SANDBOX_LUA), SANDBOX_CHUNK) !== 0) throw new Error(`sandbox: ${String(vm.bytes(L, -1))}`)
  for (const fn of [hooks.call, hooks.pcall, hooks.sha1hex, hooks.log, hooks.setresp, hooks.setRepl, hooks.random, hooks.randomseed, hooks.aclCheck,
    hooks.pcallable, hooks.pcallPrepare, hooks.pcallInternal, hooks.pcallWait, hooks.pcallDone, hooks.driven]) vm.pushcclosure(L, fn, 0)
  vm.pushStr(L, version)
  const [major, minor, patch] = version.split('.').map(Number)
  vm.pushnumber(L, (major << 16) | (minor << 8) | patch)
  if (vm.pcall(L, 17, 4, 0) !== 0) throw new Error(`sandbox: ${String(vm.bytes(L, -1))}`)
  const libenvRef = vm.ref(L, LUA_REGISTRYINDEX)
  const errinfoRef = vm.ref(L, LUA_REGISTRYINDEX)
  // Chunks compiled from now on take the proxy as their environment.
  vm.replace(L, LUA_GLOBALSINDEX)
  const globalsRef = vm.ref(L, LUA_REGISTRYINDEX)
  return { globalsRef, errinfoRef, libenvRef }
}
