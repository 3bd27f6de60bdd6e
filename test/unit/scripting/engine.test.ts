// The Lua engine in-process: conversions, the sandbox and error texts, with a host that answers
// redis.call from a small table (the server's own host is tested against real Redis in
// test/integration/diff-scripting.test.ts).
import { beforeAll, describe, expect, it } from 'vitest'
import { ScriptEngine, SCRIPT_KILLED, killScript, sha1hex, type ScriptHost } from '../../../src/scripting/scripts.js'
import { argsOf } from '../../../src/commands/txn-helpers.js'

let engine: ScriptEngine
const logged: string[] = []
beforeAll(async () => {
  engine = await ScriptEngine.create({ debug: m => logged.push(`d ${m}`), info: m => logged.push(`i ${m}`), warn: m => logged.push(`w ${m}`) }, '7.0.15')
})

const host: ScriptHost = {
  call (a) {
    // The engine's scratch Argv, valid for this call: copied out as the held host does.
    const argv = argsOf(a)
    const name = argv[0].toString().toLowerCase()
    if (name === 'echo') return Buffer.from(`$${argv[1].length}\r\n${argv[1].toString()}\r\n`)
    if (name === 'async') return async () => Buffer.from(':42\r\n')
    if (name === 'fail') return Buffer.from('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n')
    if (name === 'arr') return Buffer.from('*3\r\n:1\r\n$-1\r\n*1\r\n+OK\r\n')
    return Buffer.from('-ERR Unknown Redis command called from script\r\n')
  },
  aclCheck: argv => argsOf(argv)[0].toString() === 'get' ? true : 'ERR Invalid command passed to redis.acl_check_cmd()',
}

async function ev (body: string, keys: string[] = [], args: string[] = []): Promise<string> {
  const sha = sha1hex(Buffer.from(body))
  const err = engine.compile(sha, Buffer.from(body))
  if (err !== null) return `-${err}`
  const r = await engine.execute(sha, keys.map(k => Buffer.from(k)), args.map(a => Buffer.from(a)), host, false)
  return r.toString('latin1')
}

describe('scripting engine', () => {
  it('converts Lua values to RESP2', async () => {
    expect(await ev('return 1')).toBe(':1\r\n')
    expect(await ev('return 3.99')).toBe(':3\r\n')
    expect(await ev('return -3.99')).toBe(':-3\r\n')
    expect(await ev('return 1e20')).toBe(':-9223372036854775808\r\n')
    expect(await ev('return true')).toBe(':1\r\n')
    expect(await ev('return false')).toBe('$-1\r\n')
    expect(await ev('return nil')).toBe('$-1\r\n')
    expect(await ev('return "a\\0b"')).toBe('$3\r\na\0b\r\n')
    expect(await ev('return {1,2,nil,4}')).toBe('*2\r\n:1\r\n:2\r\n')
    expect(await ev('return {ok="fine"}')).toBe('+fine\r\n')
    expect(await ev('return {err="bad thing"}')).toBe('-bad thing\r\n')
    expect(await ev('return redis.error_reply("My Error")')).toBe('-My Error\r\n')
    expect(await ev('return redis.error_reply("x")')).toBe('-ERR x\r\n')
    expect(await ev('return redis.status_reply("Fine")')).toBe('+Fine\r\n')
    expect(await ev('return {double=3.5}')).toBe('$3\r\n3.5\r\n')
  })

  it('converts replies to Lua, sync and async', async () => {
    expect(await ev('return redis.call("echo", KEYS[1])', ['k'])).toBe('$1\r\nk\r\n')
    expect(await ev('return redis.call("async") + 1')).toBe(':43\r\n')
    expect(await ev('local a = redis.call("async") local b = redis.call("async") return {a, b}')).toBe('*2\r\n:42\r\n:42\r\n')
    expect(await ev('return redis.call("arr")')).toBe('*3\r\n:1\r\n$-1\r\n*1\r\n+OK\r\n')
    expect(await ev('local t = redis.call("arr") return t[3][1].ok')).toBe('$2\r\nOK\r\n')
    expect(await ev('return redis.call("echo", 1.5)')).toBe('$3\r\n1.5\r\n')
    expect(await ev('return redis.call("echo", 0.1)')).toBe('$19\r\n0.10000000000000001\r\n')
    // Numbers as luaArgsToRedisArgv writes them ("%.17g"): integers, negative ones, -0, past 2^53, nan.
    expect(await ev('return redis.call("echo", 42)')).toBe('$2\r\n42\r\n')
    expect(await ev('return redis.call("echo", -1700000000123)')).toBe('$14\r\n-1700000000123\r\n')
    expect(await ev('return redis.call("echo", -0.0)')).toBe('$2\r\n-0\r\n')
    expect(await ev('return redis.call("echo", 2^53 + 2)')).toBe('$16\r\n9007199254740994\r\n')
    expect(await ev('return redis.call("echo", 1e300)')).toBe('$23\r\n1.0000000000000001e+300\r\n')
    // A NaN's sign as printf shows it: 0/0 is negative on x86 (Redis 7.0.15 sends -nan), -(0/0) not.
    expect(await ev('return redis.call("echo", 0/0)')).toBe('$4\r\n-nan\r\n')
    expect(await ev('return redis.call("echo", -(0/0))')).toBe('$3\r\nnan\r\n')
    // Arguments of every size in one call, then a short call: nothing of the long one left over.
    expect(await ev('local big = string.rep("x", 5000) return redis.call("echo", big):len()')).toBe(':5000\r\n')
    expect(await ev('return redis.call("echo", "ab", 1)')).toBe('$2\r\nab\r\n')
  })

  it('reports errors as Redis 7.0 does', async () => {
    const s = (b: string): string => sha1hex(Buffer.from(b))
    expect(await ev('error("boom")')).toBe(`-ERR user_script:1: boom script: ${s('error("boom")')}, on @user_script:1.\r\n`)
    expect(await ev('return redis.call("fail")')).toBe(`-WRONGTYPE Operation against a key holding the wrong kind of value script: ${s('return redis.call("fail")')}, on @user_script:1.\r\n`)
    expect(await ev('return redis.pcall("fail")')).toBe('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n')
    expect(await ev('local ok, e = pcall(redis.call, "nosuch") return e')).toBe('$44\r\nERR Unknown Redis command called from script\r\n')
    expect(await ev('x = 1')).toBe(`-ERR user_script:1: Attempt to modify a readonly table script: ${s('x = 1')}, on @user_script:1.\r\n`)
    expect(await ev('return print')).toBe(`-ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: ${s('return print')}, on @user_script:1.\r\n`)
    expect(await ev('\n\nreturn redis.call()')).toBe(`-ERR Please specify at least one argument for this redis lib call script: ${s('\n\nreturn redis.call()')}, on @user_script:3.\r\n`)
    expect(await ev('return (')).toBe("-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
    expect(await ev('error(nil)')).toBe(`-ERR nil script: ${s('error(nil)')}, on @user_script:1.\r\n`)
    expect(await ev('coroutine.yield(1)')).toBe(`-ERR attempt to yield across metamethod/C-call boundary script: ${s('coroutine.yield(1)')}, on @user_script:1.\r\n`)
    expect(await ev('rawset(_G, "x", 1)')).toBe(`-ERR Attempt to modify a readonly table script: ${s('rawset(_G, "x", 1)')}, on @user_script:1.\r\n`)
  })

  it('keeps the sandbox and math.random of Redis', async () => {
    expect(await ev('return {tostring(math.random()), tostring(math.random())}')).toBe('*2\r\n$16\r\n0.39646477363839\r\n$16\r\n0.84048536971234\r\n')
    expect(await ev('return {math.random(), math.random(100), math.random(5,10)}')).toBe('*3\r\n:0\r\n:45\r\n:6\r\n')
    expect(await ev('return {type(loadstring), type(unpack), type(coroutine), type(_G), _VERSION}')).toBe('*5\r\n$8\r\nfunction\r\n$8\r\nfunction\r\n$5\r\ntable\r\n$5\r\ntable\r\n$7\r\nLua 5.1\r\n')
    expect(await ev('string.foo = 1')).toMatch(/^-ERR user_script:1: Attempt to modify a readonly table/)
    expect(await ev('return ("abc"):upper()')).toBe('$3\r\nABC\r\n')
    expect(await ev('local n = 0 for k in pairs(_G) do n = n + 1 end return n > 20')).toBe(':1\r\n')
    expect(await ev('return redis.sha1hex("")')).toBe('$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n')
    expect(await ev('return redis.acl_check_cmd("get")')).toBe(':1\r\n')
    await ev('redis.log(redis.LOG_WARNING, "hello", "world")')
    expect(logged).toContain('w hello world')
  })
})

describe('busy scripts and SCRIPT KILL', () => {
  // SCRIPT KILL sent from another I/O thread (the only place one can come from while a script
  // loops inside pcall, where its own thread cannot serve): here, the moment the script is busy.
  // Expected replies are real Redis 7.0.15's for the same kill.
  let killer: ScriptEngine
  const state = new Int32Array(new SharedArrayBuffer(4))
  const seen: string[] = []
  beforeAll(async () => {
    const log = { debug () {}, info () {}, warn (m: string) { seen.push(m); if (m.startsWith('Slow script')) seen.push(killScript(state)) } }
    killer = await ScriptEngine.create(log, '7.0.15')
    killer.state = state
  })

  async function killed (body: string, write = false): Promise<string> {
    const b = Buffer.from(body)
    const sha = sha1hex(b)
    expect(killer.compile(sha, b)).toBe(null)
    const writer: ScriptHost = { ...host, call: argv => write && !killer.noteWrite() ? Buffer.from('-ERR killed\r\n') : host.call(argv, false) }
    const r = await killer.execute(sha, [], [], writer, false, 1)
    expect(state[0]).toBe(0)
    return r.toString('latin1').replace(sha, '<sha>')
  }

  it('a kill inside pcall is caught there, and raised again at the next line of the script', async () => {
    const loop = 'pcall(function() local i = 0 while true do i = i + 1 end end)'
    expect(await killed(`return ${loop}`)).toBe('$-1\r\n')
    expect(await killed(`local ok, e = ${loop}\nreturn {ok, e}`)).toBe('-ERR Script killed by user with SCRIPT KILL... script: <sha>, on @user_script:2.\r\n')
    expect(await killed(`local ok, e = ${loop} return {ok, e}`)).toBe('*2\r\n$-1\r\n$45\r\nERR Script killed by user with SCRIPT KILL...\r\n')
    expect(await killed('local t = {} for i = 1, 10 do t[i] = i end table.sort(t, function(a, b) while true do end end)')).toBe('-ERR Script killed by user with SCRIPT KILL... script: <sha>, on @user_script:1.\r\n')
    expect(await killed('local co = coroutine.wrap(function() local i = 0 while true do i = i + 1 end end) return co()')).toBe('-ERR Script killed by user with SCRIPT KILL... script: <sha>, on @user_script:1.\r\n')
    expect(seen.filter(m => m === 'killed')).toHaveLength(5)
    expect(seen).toContain('Lua script killed by user with SCRIPT KILL.')
  })

  it('a script that wrote is unkillable; with no busy script there is nothing to kill', async () => {
    seen.length = 0
    const loops = 'local n = 0 redis.call("echo", "w") while n < 3000000 do n = n + 1 end return n'
    expect(await killed(loops, true)).toBe(':3000000\r\n')
    expect(seen).toContain('unkillable')
    expect(killScript(state)).toBe('notbusy')
    expect(state[0] & SCRIPT_KILLED).toBe(0)
  })
})

describe('the Lua stack read from the VM memory', () => {
  it('matches the C API on this build (a VM whose layout differs refuses to start)', async () => {
    const { createVm, LUA_TNUMBER, LUA_TSTRING, TVALUE_BYTES } = await import('../../../src/scripting/lua.js')
    const vm = await createVm()
    const L = vm.L
    vm.settop(L, 0)
    vm.push(L, Buffer.from('k\r\n\0x'))
    vm.pushnumber(L, 0.1)
    vm.push(L, Buffer.alloc(70000, 0x61))
    expect(vm.slotCount(L)).toBe(vm.gettop(L))
    const base = vm.slotBase(L)
    expect(vm.slotType(base)).toBe(LUA_TSTRING)
    expect(Buffer.from(vm.M.HEAPU8.subarray(vm.slotStr(base), vm.slotStr(base) + vm.slotStrLen(base))).toString('latin1')).toBe('k\r\n\0x')
    expect(vm.slotType(base + TVALUE_BYTES)).toBe(LUA_TNUMBER)
    expect(vm.slotNumber(base + TVALUE_BYTES)).toBe(vm.tonumber(L, 2))
    expect(vm.slotStrLen(base + 2 * TVALUE_BYTES)).toBe(70000)
    vm.settop(L, 0)
  })
})
