// The Lua engine in-process: conversions, the sandbox and error texts, with a host that answers
// redis.call from a small table (the server's own host is tested against real Redis in
// test/integration/diff-scripting.test.ts).
import { beforeAll, describe, expect, it } from 'vitest'
import { ScriptEngine, sha1hex, type ScriptHost } from '../../../src/scripting/scripts.js'

let engine: ScriptEngine
const logged: string[] = []
beforeAll(async () => {
  engine = await ScriptEngine.create({ debug: m => logged.push(`d ${m}`), info: m => logged.push(`i ${m}`), warn: m => logged.push(`w ${m}`) }, '7.0.15')
})

const host: ScriptHost = {
  call (argv) {
    const name = argv[0].toString().toLowerCase()
    if (name === 'echo') return Buffer.from(`$${argv[1].length}\r\n${argv[1].toString()}\r\n`)
    if (name === 'async') return async () => Buffer.from(':42\r\n')
    if (name === 'fail') return Buffer.from('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n')
    if (name === 'arr') return Buffer.from('*3\r\n:1\r\n$-1\r\n*1\r\n+OK\r\n')
    return Buffer.from('-ERR Unknown Redis command called from script\r\n')
  },
  aclCheck: argv => argv[0].toString() === 'get' ? null : 'ERR Invalid command passed to redis.acl_check_cmd()',
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
