// Differential tests for Lua scripting (eval.c, script_lua.c): the same bytes go to a real
// redis-server 7.0.15 and to FlashKV (4 shards), and the replies must be identical, RESP2 and
// RESP3: every conversion rule both ways, every error text with its "script: <sha>, on
// @user_script:<line>." suffix, the sandbox, scripts over keys of several shards (declared or
// not), cross-shard commands inside scripts, scripts in MULTI and against WATCH, and the script
// cache seen from several connections.
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg, sameOnBoth } from './helpers/diff.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { RawClient, encodeCommand, infoNumber } from './helpers/raw.js'

const SHARDS = 4
/** K[s][i]: keys on shard s. */
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 3, `sc${s}:`))

const ev = (script: string, ...rest: Arg[]): Arg[] => ['EVAL', script, ...rest]

it('test keys land where the test expects', () => {
  expect(K.map(ks => ks.map(k => shardOfKey(k, SHARDS)))).toEqual([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]])
})

// Every test at one shard (scripts run inside the shard worker: scripting/in-shard.ts) and at
// four (scripts hold every shard, or run in a worker when their keys share one: see
// diff-scripting-shards.test.ts).
for (const shards of [1, SHARDS]) {
describe(`${shards} shard${shards === 1 ? '' : 's'}`, () => {
  const pair = useDiffPair({ shards })
  const { same, sequence, pipeline } = pair

  async function hello3 (): Promise<void> {
    await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
  }

  /** Lua values a script returns: each rule of luaReplyToRedisReply. */
  const RETURNS = [
    'return 1', 'return 3.99', 'return -3.99', 'return 0.5', 'return 1e20', 'return -1e20', 'return 0/0', 'return 1/0',
    'return 2^53 + 1', 'return -2^63', 'return true', 'return false', 'return nil', 'return', 'return "a\\0b"', 'return ""',
    'return {1,2,nil,4}', 'return {}', 'return {1, "a", {2, {3}}, false, true}', 'return {1, 2, {}, {err="in array"}, {ok="st"}}',
    'return {ok="fine"}', 'return {ok="a\\r\\nb"}', 'return {err="bad thing"}', 'return {err="-bad thing"}', 'return {err="x\\ny"}',
    'return {err=3}', 'return {ok=3}', 'return {double=3.5}', 'return {double=-0.1}', 'return {double=1/0}', 'return {double="x"}',
    // A NaN keeps its sign as printf shows it: x86's 0/0 is -nan.
    'return {double=0/0}', 'return {double=-(0/0)}',
    'return {big_number="123456789012345678901234567890"}', 'return {verbatim_string={format="txt", string="hello"}}',
    'return {verbatim_string={format="txt"}}', 'return {map={a=1}}', 'return {set={a=true}}', 'return {map={}}',
    'return {1, x=2}', 'return {x=2}', 'return function () end', 'return coroutine.create(function () end) and nil',
    'return redis.error_reply("My Error")', 'return redis.error_reply("-X My Error")', 'return redis.error_reply("x")',
    'return redis.error_reply("-x")', 'return redis.error_reply("ERR \\r\\nlines\\r\\n")', 'return redis.status_reply("Fine")',
    'return redis.error_reply()', 'return redis.error_reply(1)', 'return redis.status_reply(1)', 'return redis.status_reply("a", "b")',
    'return 1, 2', 'return pcall(error, "x")', 'return select("#", pcall(error, "x"))',
  ]

  describe('Lua values to replies', () => {
    it('RESP2', async () => {
      for (const s of RETURNS) await same(...ev(s, '0'))
    })

    it('RESP3, and booleans after redis.setresp(3)', async () => {
      await hello3()
      for (const s of RETURNS) await same(...ev(s, '0'))
      for (const s of ['return true', 'return false', 'return {true, false}']) {
        await same(...ev(`redis.setresp(3) ${s}`, '0'))
      }
    })

    it('RESP2 client, script in RESP3', async () => {
      for (const s of ['return true', 'return false', 'return {double=2.5}', 'return {map={a=1}}', 'return {set={x=true}}',
        'return {big_number="12"}', 'return {verbatim_string={format="txt", string="v"}}']) {
        await same(...ev(`redis.setresp(3) ${s}`, '0'))
      }
    })
  })

  describe('replies to Lua values', () => {
    it('RESP2 replies of redis.call', async () => {
      await sequence([
        ['RPUSH', 'l', 'a', 'b', 'c'], ['HSET', 'h', 'f', 'v', 'g', 'w'], ['SET', 's', '10'], ['SADD', 'st', 'x'],
        ev('return redis.call("get", "s")', '0'), ev('return type(redis.call("get", "s"))', '0'),
        ev('return type(redis.call("get", "nokey"))', '0'), ev('return tostring(redis.call("get", "nokey"))', '0'),
        ev('return redis.call("incr", "s") + 1', '0'), ev('return type(redis.call("incr", "s"))', '0'),
        ev('return redis.call("lrange", "l", 0, -1)', '0'), ev('return #redis.call("lrange", "l", 0, -1)', '0'),
        ev('return redis.call("hgetall", "h")', '0'), ev('return redis.call("set", "x", "y").ok', '0'),
        ev('return redis.call("ping")', '0'), ev('return type(redis.call("ping"))', '0'),
        ev('return redis.pcall("incr", "l")', '0'), ev('return redis.pcall("incr", "l").err', '0'),
        ev('return type(redis.call("zscore", "nokey", "a"))', '0'), ev('return redis.call("exists", "l", "h", "nope")', '0'),
        ev('return redis.call("lpush", "l2", 1.5, 2, 3, -0.0, 1e100, 0.1)', '0'), ev('return redis.call("lrange", "l2", 0, -1)', '0'),
        ev('return redis.call("set", "n", 123456789012345678) and redis.call("get", "n")', '0'),
        ev('return tostring(redis.call("incrbyfloat", "f", "1.5"))', '0'), ev('return redis.call("type", "st")', '0'),
        ev('return redis.call("echo", "a\\0b")', '0'), ev('return redis.call("time")[3]', '0'),
        // Numbers as arguments ("%.17g"; a NaN's sign as printf shows it), each call after a longer one.
        ev('return redis.call("echo", string.rep("z", 3000)):len()', '0'),
        ev('return {redis.call("echo", 0/0), redis.call("echo", -(0/0)), redis.call("echo", -1700000000123), redis.call("echo", 2^53 + 2), redis.call("echo", -1e-300)}', '0'),
      ])
    })

    it('RESP3 replies after redis.setresp(3), to RESP2 and RESP3 clients', async () => {
      await sequence([['HSET', 'h', 'f', 'v'], ['SADD', 'st', 'x'], ['ZADD', 'z', '1.5', 'a']])
      const scripts = [
        'redis.setresp(3) return redis.call("hgetall", "h")', 'redis.setresp(3) return redis.call("hgetall", "h").map.f',
        'redis.setresp(3) return redis.call("smembers", "st")', 'redis.setresp(3) return redis.call("smembers", "st").set.x',
        'redis.setresp(3) return redis.call("zscore", "z", "a")', 'redis.setresp(3) return redis.call("zscore", "z", "a").double',
        'redis.setresp(3) return type(redis.call("get", "nokey"))', 'redis.setresp(3) return redis.call("get", "nokey") == nil',
        'redis.setresp(3) return redis.call("zrange", "z", 0, -1, "withscores")', 'redis.setresp(2) return redis.call("hgetall", "h")',
      ]
      for (const s of scripts) await same(...ev(s, '0'))
      await hello3()
      for (const s of scripts) await same(...ev(s, '0'))
    })
  })

  describe('errors', () => {
    it('compile, runtime and redis.call errors with their suffixes', async () => {
      await sequence([
        ['SET', 'str', 'v'],
        ev('return (', '0'), ev('x y z', '0'), ev('error("boom")', '0'), ev('\n\nerror("line three")', '0'), ev('error(nil)', '0'),
        ev('error(42)', '0'), ev('error({err="X y"})', '0'), ev('error({err="ERR custom"})', '0'), ev('error("a\\nb")', '0'),
        ev('return nil + 1', '0'), ev('local t = nil; return t.x', '0'), ev('return redis.call("nosuch")', '0'),
        ev('return redis.call()', '0'), ev('return redis.call("get")', '0'), ev('return redis.call("get", {})', '0'),
        ev('return redis.call("set", "k", true)', '0'), ev('return redis.call("get", KEYS[1])', '0'), ev('return redis.call("incr", "a", "b")', '0'),
        ev('return redis.pcall("get")', '0'), ev('return redis.pcall()', '0'), ev('return redis.pcall("nosuch")', '0'),
        ev('return redis.call("lpush", "str", "x")', '0'), ev('return redis.pcall("lpush", "str", "x")', '0'),
        ev('local ok, e = pcall(redis.call, "nosuch") return e', '0'), ev('local ok, e = pcall(redis.call, "lpush", "str", 1) return {tostring(ok), e}', '0'),
        ev('return pcall(error, {err="table"})', '0'), ev('local ok, e = pcall(error, {err="T"}) return e', '0'),
        ev('return redis.call("eval", "return 1", "0")', '0'), ev('return redis.call("multi")', '0'), ev('return redis.call("exec")', '0'),
        ev('return redis.call("subscribe", "x")', '0'), ev('return redis.call("blpop", "x", "0")', '0'), ev('return redis.call("client", "id")', '0'),
        ev('return redis.call("script", "load", "return 1")', '0'), ev('return redis.call("watch", "x")', '0'),
        ev('return redis.call("mset", "a", "1", "b")', '0'), ev('return redis.call("config", "nosuch")', '0'), ev('return redis.call("config")', '0'),
        ev('return redis.sha1hex()', '0'), ev('return redis.setresp(4)', '0'), ev('return redis.setresp()', '0'),
        ev('return redis.set_repl(77)', '0'), ev('return redis.set_repl()', '0'), ev('return redis.log(1)', '0'),
        ev('return redis.log("x", 1)', '0'), ev('return redis.log(9, 1)', '0'), ev('coroutine.yield(1)', '0'),
        ev('return math.random(0)', '0'), ev('return math.random(1, 2, 3)', '0'), ev('return math.random("a")', '0'),
        ev('return math.random(3, 1)', '0'), ev('return redis.acl_check_cmd("nosuch")', '0'), ev('return redis.acl_check_cmd()', '0'),
        ev('local function f() error("deep") end\nf()', '0'), ev('return string.rep()', '0'),
        // Streams: BLOCK is refused from scripts as XREAD meets it (an earlier bad COUNT first);
        // without BLOCK they read as anywhere else.
        ev('return redis.call("xread", "BLOCK", "0", "STREAMS", "s", "$")', '0'), ev('return redis.call("XREAD", "COUNT", "x", "BLOCK", "0", "STREAMS", "s", "$")', '0'),
        ev('return redis.call("XREAD", "BLOCK", "zz", "STREAMS", "s", "$")', '0'), ev('return redis.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")', '0'),
        ['EVAL_RO', 'return redis.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")', '0'],
        ev('redis.call("XADD", "s", "1-0", "a", "b") redis.call("XGROUP", "CREATE", "s", "g", "0") return {redis.call("XREAD", "STREAMS", "s", "0"), redis.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")}', '0'),
      ])
    })

    it('above maxmemory, commands that may grow memory are refused inside scripts', async () => {
      await sequence([['SET', 'a', 'before'], ['CONFIG', 'SET', 'maxmemory', '1']])
      try {
        await sequence([ev('return redis.call("set", "a", "b")', '0'), ev('return redis.pcall("set", "a", "b")', '0'),
          ev('return redis.call("get", "a")', '0'), ev('return redis.call("del", "a")', '0')])
      } finally {
        await sequence([['CONFIG', 'SET', 'maxmemory', '0']])
      }
    })

    it('shebangs: #!lua and its flags', async () => {
      await sequence([
        ev('#!lua flags=no-writes\nreturn redis.call("set", "a", "b")', '0'), ev('#!lua\nreturn 1', '0'), ev('#!lua\nerror("x")', '0'),
        ev('#!foo\nreturn 1', '0'), ev('#!lua flags=bad\nreturn 1', '0'), ev('#!lua name=x\nreturn 1', '0'),
        ev('#!lua flags=allow-oom,no-cluster\nreturn 1', '0'), ev('#!lua flags=no-writes\nreturn redis.call("get", KEYS[1])', '1', 'k'),
        ev('#!lua flags=\nreturn redis.call("set", "a", "b")', '0'), ['SCRIPT', 'LOAD', '#!lua flags=nope\nreturn 1'], ev('#!lua', '0'),
      ])
    })

    it('numkeys, NOSCRIPT and EVAL_RO', async () => {
      await sequence([
        ev('return 1', '2', 'a'), ev('return 1', '-1'), ev('return 1', 'abc'), ev('return 1', ' 1'), ev('return 1', '1.0'),
        ev('return 1', '99999999999999999999'), ['EVAL', 'return 1'], ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'],
        ['EVALSHA', 'fff', '0'], ['EVALSHA', 'fff', 'x'], ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '3', 'a'],
        ['EVAL_RO', 'return redis.call("set", "a", "b")', '1', 'a'], ['EVAL_RO', 'return redis.pcall("set", "a", "b")', '1', 'a'],
        ['EVAL_RO', 'return redis.call("get", "a")', '1', 'a'], ['EVAL_RO', 'return redis.call("del", "a")', '0'],
      ])
    })
  })

  describe('the sandbox', () => {
    it('globals, libraries and protection', async () => {
      const names = ['print', 'os', 'io', 'loadstring', 'dofile', 'loadfile', 'require', 'module', 'setfenv', 'getfenv', 'debug', 'newproxy',
        'gcinfo', 'collectgarbage', 'package', 'unpack', 'coroutine', '_G', 'rawget', 'xpcall', 'load', 'select', 'redis', 'math', 'table',
        'string', 'KEYS', 'ARGV', '__redis__err__handler', 'cjson', 'cmsgpack', 'bit', 'struct']
      for (const n of names) await same(...ev(`return type(${n})`, '0'))
      await sequence([
        ev('local t = {} for k, v in pairs(redis) do table.insert(t, k .. ":" .. type(v)) end table.sort(t) return t', '0'),
        ev('local t = {} for k, v in pairs(math) do table.insert(t, k) end table.sort(t) return t', '0'),
        ev('local t = {} for k, v in pairs(string) do table.insert(t, k) end table.sort(t) return t', '0'),
        ev('local t = {} for k, v in pairs(table) do table.insert(t, k) end table.sort(t) return t', '0'),
        ev('return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL, redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}', '0'),
        ev('return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}', '0'),
        ev('x = 1', '0'), ev('string.foo = 1 return 1', '0'), ev('redis.call = nil return 1', '0'), ev('_G.x = 1', '0'),
        ev('math.random = nil', '0'), ev('rawset(_G, "x", 1) return x', '0'), ev('return _G.zzz', '0'), ev('return rawget(_G, "zzz")', '0'),
        ev('return {pcall(function() rawset(_G, "x", 1) end)}', '0'), ev('return {pcall(function() local x = nosuch end)}', '0'),
        ev('local t = setmetatable({}, {}) return 1', '0'), ev('setmetatable(_G, {})', '0'), ev('return tostring(getmetatable("").__index == string)', '0'),
        ev('return ("abc"):upper()', '0'), ev('return _VERSION', '0'), ev('return loadstring("return 1")()', '0'),
        ev('return {loadstring(string.dump(function() return 1 end))}', '0'), ev('return coroutine.wrap(function() coroutine.yield(5) end)()', '0'),
        ev('return redis.sha1hex("")', '0'), ev('return redis.sha1hex(12)', '0'), ev('return {redis.set_repl(redis.REPL_ALL)}', '0'),
        ev('return redis.replicate_commands()', '0'), ev('return redis.log(redis.LOG_DEBUG, "from a script", 1)', '0'),
        ev('return {redis.breakpoint(), redis.debug("x")}', '0'), ev('return redis.acl_check_cmd("get", "x")', '0'),
        ev('return {#KEYS, #ARGV, KEYS[1], ARGV[2]}', '2', 'k1', 'k2', 'a1', 'a2'), ev('return tostring(KEYS[3])', '2', 'k1', 'k2', 'a1'),
        ev('math.randomseed(7) return {tostring(math.random()), math.random(10), math.random(5, 9)}', '0'),
        ev('math.randomseed(7) return tostring(math.random())', '0'),
      ])
    })

    it("pcall as Redis 7.0's luaRedisPcall, and coroutines", async () => {
      await sequence([
        ev('return {pcall()}', '0'), ev('return select("#", pcall())', '0'), ev('return {pcall(pcall)}', '0'), ev('return {pcall(nil)}', '0'),
        ev('return select("#", pcall(error, {x=1}))', '0'), ev('local a, b, c = pcall(error, {err=true, y=2}) return {type(a), type(b), tostring(c), b.y}', '0'),
        ev('return {pcall(pcall, error, {x=1})}', '0'), ev('return {pcall(error, {err={}})}', '0'), ev('return {pcall(error, {err=1})}', '0'),
        ev('return {pcall(error)}', '0'), ev('return {pcall(function() error("x", 2) end)}', '0'), ev('return {pcall(function() error("x", 1) end)}', '0'),
        ev('return {pcall(function(...) return select("#", ...), ... end, 1, nil, 3, nil)}', '0'),
        ev('return {pcall(setmetatable({}, {__call = function(t, a) return a end}), 5)}', '0'),
        ev('return {pcall(function() coroutine.yield(1) end)}', '0'), ev('return {pcall(coroutine.yield, 1)}', '0'),
        ev('return {pcall(function() return pcall(function() coroutine.yield() end) end)}', '0'),
        ev('return {tostring(coroutine.running()), pcall(function() return tostring(coroutine.running()) end)}', '0'),
        ev('local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end) local _, x = coroutine.resume(co, 1) local _, y = coroutine.resume(co, 10) return {x, y, coroutine.status(co)}', '0'),
        ev('return {pcall(function() local co = coroutine.wrap(function() coroutine.yield(7) end) return co() end)}', '0'),
        ev('local n = 0 local function f() n = n + 1 return pcall(f) end local r = {f()} return {n, #r, r[#r]}', '0'),
        ev('local n = 0 local function f() n = n + 1 local ok, e = pcall(f) return e end return {f(), n}', '0'),
        ev('return {pcall(function() local function r() return 1 + r() end return r() end)}', '0'),
        ev('return {pcall(string.rep)}', '0'), ev('return {pcall(bit.band, "x")}', '0'), ev('return {pcall(redis.call)}', '0'), ev('return {pcall(redis.call, "nosuch")}', '0'),
        ev('return {xpcall(function() error("z") end, function(e) return "h:" .. e end)}', '0'),
      ])
    })

    it('a script cannot leave globals behind for the next one', async () => {
      await sequence([ev('pcall(function() y = 1 end) return tostring(rawget(_G, "y"))', '0'), ev('return type(y)', '0')])
    })
  })

  describe('the libraries: cjson, cmsgpack, bit, struct and redis.sha1hex', () => {
    it('their tables: names, types and read-only protection', async () => {
      await sequence([
        ...['cjson', 'cmsgpack', 'bit', 'struct'].map(lib =>
          ev(`local t = {} for k, v in pairs(${lib}) do table.insert(t, k .. ":" .. type(v)) end table.sort(t) return t`, '0')),
        ev('return {cjson._NAME, cjson._VERSION, cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}', '0'),
        ev('cjson.encode = nil', '0'), ev('bit.x = 1', '0'), ev('struct.pack = struct.unpack', '0'), ev('cmsgpack.pack = 1', '0'),
        ev('rawset(cjson, "x", 1)', '0'), ev('setmetatable(bit, {})', '0'), ev('return {pcall(function() cjson.null = 1 end)}', '0'),
        ev('return tostring(getmetatable(cjson))', '0'), ev('return rawget(bit, "band") == bit.band', '0'),
        ev('local c = cjson.new() c.x = 1 return {c.x, c.encode({1}), type(c.null)}', '0'),
      ])
    })

    it('cjson: encode, decode, null, options, errors', async () => {
      await sequence([
        ev('return cjson.encode({1,2,3})', '0'), ev('return cjson.encode({a=1})', '0'), ev('return cjson.encode("a\\"b\\n/\\0")', '0'),
        ev('return cjson.encode({1.5, -0.1, 1e300, 2^53, -3})', '0'), ev('return cjson.encode({})', '0'), ev('return cjson.encode(cjson.null)', '0'),
        ev('return cjson.encode({true, false, {x={y={}}}})', '0'), ev('return cjson.encode({[1]=1, [3]=3})', '0'),
        ev('return cjson.encode({[1]=1, [20]=3})', '0'), ev('return cjson.encode({1, x=2})', '0'),
        ev('return cjson.encode(0/0)', '0'), ev('return cjson.encode(1/0)', '0'), ev('return cjson.encode(function() end)', '0'),
        ev('return cjson.encode()', '0'), ev('local t = {} t[1] = t return cjson.encode(t)', '0'),
        ev('return cjson.decode("[1,2,3]")', '0'), ev('return cjson.decode(\'{"a":[1,"x",null,true]}\').a', '0'),
        ev('return cjson.decode("null") == cjson.null', '0'), ev('return type(cjson.decode(\'{"a":1}\'))', '0'),
        ev('return tostring(cjson.decode("1.5e3"))', '0'), ev('return cjson.decode(\'"\\\\u00e9\\\\ud83d\\\\ude00"\')', '0'),
        ev('return cjson.decode("[1,")', '0'), ev('return cjson.decode("{a:1}")', '0'), ev('return cjson.decode("")', '0'),
        ev('return {pcall(cjson.decode, "nul")}', '0'), ev('return cjson.decode(\'{"a":1}\', 2)', '0'),
        ev('return cjson.decode(string.rep("[", 1001) .. string.rep("]", 1001))', '0'),
        ev('cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) cjson.encode_max_depth(1000) return {tostring(ok), e}', '0'),
        ev('return {cjson.encode_keep_buffer(), cjson.encode_number_precision(), cjson.encode_sparse_array(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}', '0'),
        ev('return cjson.encode_number_precision(20)', '0'), ev('return cjson.encode_sparse_array("x")', '0'),
        ev('local v = redis.call("lrange", KEYS[1], 0, -1) return cjson.encode(v)', '1', 'nolist'),
      ])
      await sequence([
        ['RPUSH', 'l', 'a', '1', 'b'], ['HSET', 'h', 'f', 'v'],
        ev('return cjson.encode(redis.call("lrange", KEYS[1], 0, -1))', '1', 'l'),
        ev('return cjson.encode(redis.call("hgetall", KEYS[1]))', '1', 'h'),
        ev('local t = cjson.decode(ARGV[1]) return redis.call("set", KEYS[1], t.v)', '1', 'k', '{"v":"from json"}'), ['GET', 'k'],
      ])
    })

    it('cmsgpack: pack, unpack, unpack_one, unpack_limit', async () => {
      await sequence([
        ev('return cmsgpack.pack({1,2,3})', '0'), ev('return cmsgpack.pack({a=1, b={true, false}})', '0'), ev('return cmsgpack.pack(1, "x", nil, 1.5)', '0'),
        ev('return cmsgpack.pack(-1, -33, 127, 128, 65536, 2^32, -2^31, 2^53, 0.1, 1/0)', '0'), ev('return cmsgpack.pack(string.rep("x", 40), string.rep("y", 300))', '0'),
        ev('return cmsgpack.pack()', '0'), ev('return {cmsgpack.unpack(cmsgpack.pack(1, "a", {2, {3}}))}', '0'),
        ev('return cmsgpack.unpack(cmsgpack.pack({a=1})).a', '0'), ev('return tostring(cmsgpack.unpack(cmsgpack.pack(1.25)))', '0'),
        ev('return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}', '0'), ev('return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}', '0'),
        ev('return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}', '0'), ev('return cmsgpack.unpack("\\193")', '0'),
        ev('return cmsgpack.unpack("\\146\\1")', '0'), ev('return cmsgpack.unpack()', '0'), ev('return cmsgpack.unpack({})', '0'),
        ev('return {pcall(cmsgpack.unpack_limit, "\\1", -1)}', '0'),
      ])
    })

    it('bit and struct', async () => {
      await sequence([
        ev('return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.tobit(2^32 + 5), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4)}', '0'),
        ev('return {bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tohex(255), bit.tohex(-1, -4), bit.tohex(255, 2)}', '0'),
        ev('return bit.band("x")', '0'), ev('return bit.band()', '0'), ev('return bit.tobit(1.5)', '0'),
        ev('return struct.pack(">I2<i4bB", 258, -2, -1, 255)', '0'), ev('return struct.pack("s", "ab\\0c")', '0'), ev('return struct.pack("c3", "abcdef")', '0'),
        ev('return {struct.unpack(">I2<i4", struct.pack(">I2<i4", 258, -2))}', '0'), ev('return {struct.unpack("c0", struct.pack("B", 3) .. "abc")}', '0'), ev('return {struct.unpack("Bc0", struct.pack("B", 3) .. "abcd")}', '0'),
        ev('return struct.size(">I4 i2 d")', '0'), ev('return tostring(struct.unpack("d", struct.pack("d", 0.1)))', '0'),
        ev('return struct.pack("x")', '0'), ev('return struct.pack("i17", 1)', '0'), ev('return struct.unpack("I4", "ab")', '0'), ev('return struct.size("s")', '0'),
        ev('return struct.pack("q")', '0'),
      ])
    })

    it('string.format: integer items as 64-bit C longs, every error in str_format\'s order', async () => {
      const cases = [
        '"%x|%X|%o|%u", -1, -1, -1, -1', '"%x|%u|%d", 0/0, 0/0, 0/0', '"%x|%u|%d", 2^64, 2^64, 2^64', '"%u|%x", 2^63+2^11, 2^63+2^11',
        '"%d|%d|%i", 2^63, -2^63, 1700000000123', '"%c|%c|%c", 2^40+65, -1, 321',
        '"[%+5d|%-5d|%05d|% d|%.3d|%#x|%#o|%#.0o|%.0d|%5.3d|%-+8.4d]", 42, 42, 42, 42, 7, 255, 8, 0, 0, 7, 7',
        '"%#X|%#5x|%#05x|%+u|% x|%08.3x", 255, 1, 1, 5, 5, 5', '"%i|%5.1i|%.d|%-08d|%+0 8d", 2.9, -2.9, 0, 5, 5',
        '"%10.3x|%-#10o|%#.5X", 2^40, 2^40, 2^40', '"%s %d %5.2f %q %g %e", 1, 2^40, 3.14159, "a\\nb", 1e20, 2^40',
        '"%d %%d %s", 1099511627776, "a\\0b"', '"%5s|%-5s|%.2s", "ab", "ab", "abc"', '12', '"%d", "12"', '"%d"', '"%y", 1',
        '"%", 1', '"%000000d", 1', '"%123d", 1', '"%1.123d", 1', '"%d", "x"', '', '"%d %d", 1', '"%s %d", {}, 1', '"%5c", 66',
      ]
      await sequence([
        ...cases.map(c => ev(`return string.format(${c})`, '0')),
        ev('return ("%d-%s"):format(2^33, "z")', '0'), ev('return {pcall(string.format, "%d", {})}', '0'),
        ev('return string.format == ("").format', '0'), ev('return string.format("%d", redis.call("time")[1] * 1000) ~= nil', '0'),
      ])
    })

    it('redis.sha1hex', async () => {
      await sequence([
        ev('return redis.sha1hex("")', '0'), ev('return redis.sha1hex("abc")', '0'), ev('return redis.sha1hex(ARGV[1])', '0', Buffer.from([0, 1, 255, 10, 13])),
        ev('return redis.sha1hex(1.5)', '0'), ev('return redis.sha1hex({})', '0'), ev('return redis.sha1hex(nil)', '0'), ev('return redis.sha1hex("a", "b")', '0'),
      ])
    })
  })

  describe('keys on several shards', () => {
    it('declared and undeclared keys, in one atomic script', async () => {
      const keys = [K[0][0], K[1][0], K[2][0], K[3][0]]
      await sequence([
        ev('for i, k in ipairs(KEYS) do redis.call("set", k, ARGV[i]) end return redis.call("mget", unpack(KEYS))', '4', ...keys, 'a', 'b', 'c', 'd'),
        ev(`return {redis.call("get", "${K[1][1]}"), redis.call("incr", "${K[2][1]}"), redis.call("get", "${K[2][1]}")}`, '0'),
        ['MGET', ...keys, K[2][1]],
        ev('local n = 0 for _, k in ipairs(redis.call("keys", "sc*")) do n = n + 1 end return n', '0'),
        ev('return redis.call("dbsize")', '0'), ev('return redis.call("del", unpack(KEYS))', '4', ...keys), ['DBSIZE'],
      ])
    })

    it('cross-shard commands inside scripts: RENAME, LMOVE, SINTERSTORE, MSET, SUNION', async () => {
      const [a, b, c, d] = [K[0][0], K[1][0], K[2][0], K[3][0]]
      await sequence([
        ev(`redis.call("set", KEYS[1], "v") return {redis.call("rename", KEYS[1], KEYS[2]), redis.call("get", KEYS[2]), redis.call("exists", KEYS[1])}`, '2', a, b),
        ev('redis.call("rpush", KEYS[1], "x", "y") return {redis.call("lmove", KEYS[1], KEYS[2], "LEFT", "RIGHT"), redis.call("lrange", KEYS[2], 0, -1)}', '2', c, d),
        ev('redis.call("sadd", KEYS[1], "1", "2", "3") redis.call("sadd", KEYS[2], "2", "3", "4") return {redis.call("sinterstore", KEYS[3], KEYS[1], KEYS[2]), redis.call("sort", KEYS[3])}', '3', a, b, c),
        ev('return {redis.call("mset", KEYS[1], "1", KEYS[2], "2", KEYS[3], "3"), redis.call("mget", KEYS[1], KEYS[2], KEYS[3])}', '3', a, b, d),
        ev('return redis.call("sort", redis.call("sunion", KEYS[1], KEYS[2]))', '2', a, b),
        ev('return redis.call("rename", KEYS[1], KEYS[2])', '2', K[0][2], K[3][2]),
        ev('return redis.pcall("rename", KEYS[1], KEYS[2]).err', '2', K[0][2], K[3][2]),
        ['MGET', a, b, c, d],
      ])
    })

    it('cross-shard commands inside pcall, and their errors caught there', async () => {
      const [a, b, c] = [K[0][0], K[1][0], K[2][0]]
      await sequence([
        ev('return {pcall(function() redis.call("set", KEYS[1], "v") return redis.call("rename", KEYS[1], KEYS[2]) end)}', '2', a, b),
        ev('return {pcall(redis.call, "rename", KEYS[1], KEYS[2])}', '2', a, b),
        ev('return {pcall(redis.call, "rename", KEYS[2], KEYS[1]), redis.call("get", KEYS[1])}', '2', a, b),
        ev('return {pcall(redis.pcall, "rename", KEYS[1], KEYS[3])}', '3', K[3][1], b, c),
        ev('local ok, e = pcall(function() local r = redis.call("mset", KEYS[1], "1", KEYS[2], "2") return {r, redis.call("mget", KEYS[1], KEYS[2])} end)\nreturn {ok, e}', '2', a, c),
        ev('local ok, e = pcall(function() return pcall(function() return redis.call("rename", KEYS[1], KEYS[2]) end) end) return {ok, e}', '2', K[3][2], c),
        ev('local ok, e = pcall(function() redis.call("rename", KEYS[1], KEYS[2]) return "not here" end) return {tostring(ok), e, redis.call("exists", KEYS[2])}', '2', K[3][2], c),
        ev('local t = {} for i = 1, 3 do t[i] = {pcall(redis.call, "sunion", KEYS[1], KEYS[2])} end return t', '2', a, b),
        ['MGET', a, b, c],
      ])
    })

    it('a failing call keeps what the script wrote before it, as Redis does', async () => {
      await sequence([
        ['SET', K[1][0], 'str'],
        ev('redis.call("set", KEYS[1], "written") redis.call("lpush", KEYS[2], "x") redis.call("set", KEYS[3], "never")', '3', K[0][0], K[1][0], K[2][0]),
        ['MGET', K[0][0], K[1][0], K[2][0]],
      ])
    })

    it('pipelined scripts (several run in one hold) keep their order with the commands between them', async () => {
      const [a, b] = [K[0][0], K[3][0]]
      const incr = ev('return redis.call("incr", KEYS[1]) * 10 + redis.call("incr", KEYS[2])', '2', a, b)
      const cmds: Arg[][] = []
      for (let i = 0; i < 20; i++) {
        cmds.push(incr, incr)
        if (i % 3 === 0) cmds.push(['SET', a, String(i)])
        if (i % 4 === 0) cmds.push(['GET', b], ['SCRIPT', 'LOAD', `return ${i}`])
        if (i % 5 === 0) cmds.push(ev('return redis.call("rename", KEYS[1], KEYS[2])', '2', b, K[1][1]), ev('return redis.call("rename", KEYS[2], KEYS[1])', '2', b, K[1][1]))
      }
      await pipeline(cmds)
      await same('MGET', a, b)
    })

    it("another client's write before its script is seen by that script, whatever batch is open", async () => {
      const f2 = await RawClient.connect(pair.flash.port, pair.flash.host)
      try {
        const slow = ev('local n = 0 for i = 1, 2000 do n = n + i end return redis.call("incr", KEYS[1])', '1', K[2][0])
        for (let round = 0; round < 20; round++) {
          const mine = `v${round}`
          pair.f.send(Buffer.concat(Array.from({ length: 8 }, () => encodeCommand(slow))))
          f2.send(Buffer.concat([encodeCommand(['SET', K[1][0], mine]), encodeCommand(ev('return redis.call("get", KEYS[1])', '1', K[1][0]))]))
          const [, seen] = await Promise.all([pair.f.readReplies(8), f2.readReplies(2)])
          expect(seen.map(text)).toEqual(['+OK\r\n', `$${mine.length}\r\n${mine}\r\n`])
        }
      } finally {
        f2.close()
      }
    })

    it('SELECT inside a script changes its own database only', async () => {
      await sequence([
        ev('redis.call("select", 3) redis.call("set", "x", "1") return redis.call("get", "x")', '0'),
        ['GET', 'x'], ['SELECT', '3'], ['GET', 'x'], ['SELECT', '0'],
        ev('return redis.call("select", 99)', '0'), ev('return redis.call("select", "x")', '0'),
      ])
    })
  })

  describe('MULTI, WATCH and the script cache', () => {
    it('scripts inside MULTI', async () => {
      await pipeline([
        ['MULTI'], ['SET', K[0][0], '1'], ev('return redis.call("incr", KEYS[1])', '1', K[0][0]),
        ev('return redis.call("mset", KEYS[1], "a", KEYS[2], "b")', '2', K[1][0], K[2][0]), ev('return (', '0'),
        ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'], ev('return 1', '5'), ['SCRIPT', 'LOAD', 'return 7'], ['EXEC'],
        ['MGET', K[0][0], K[1][0], K[2][0]],
      ])
    })

    it("a script's writes touch watched keys", async () => {
      const [r, f] = [pair.r, pair.f]
      const [r2, f2] = await Promise.all([RawClient.connect(pair.redis.port, pair.redis.host), RawClient.connect(pair.flash.port, pair.flash.host)])
      try {
        for (const [c, o] of [[r, r2], [f, f2]] as const) {
          expect(text(await c.command('WATCH', K[2][0], K[3][0]))).toBe('+OK\r\n')
          expect(text(await o.command('EVAL', 'return redis.call("set", KEYS[1], "x")', '1', K[3][0]))).toBe('+OK\r\n')
          await c.command('MULTI')
          await c.command('SET', K[2][0], 'mine')
        }
        await same('EXEC')
        // A script that only reads leaves the watch alone.
        for (const [c, o] of [[r, r2], [f, f2]] as const) {
          await c.command('WATCH', K[2][0])
          await o.command('EVAL', 'return redis.call("get", KEYS[1])', '1', K[2][0])
          await o.command('EVAL', `return redis.call("set", "${K[1][1]}", "elsewhere")`, '0')
          await c.command('MULTI')
          await c.command('SET', K[2][0], 'mine')
        }
        await same('EXEC')
        await same('MGET', K[2][0], K[3][0])
      } finally {
        r2.close()
        f2.close()
      }
    })

    it('SCRIPT LOAD, EXISTS, FLUSH and EVALSHA across connections', async () => {
      const body = 'return {KEYS[1], ARGV[1], "cached"}'
      const sha = await same('SCRIPT', 'LOAD', body)
      const [r2, f2] = await Promise.all([RawClient.connect(pair.redis.port, pair.redis.host), RawClient.connect(pair.flash.port, pair.flash.host)])
      try {
        const both = async (...args: string[]): Promise<void> => {
          const [a, b] = await Promise.all([f2.command(...args), r2.command(...args)])
          expect(text(a), args.join(' ')).toBe(text(b))
        }
        const id = sha.split('\r\n')[1]
        await both('EVALSHA', id, '1', 'k', 'a')
        await both('EVALSHA', id.toUpperCase(), '1', 'k', 'a')
        await both('EVALSHA_RO', id, '0')
        await both('SCRIPT', 'EXISTS', id, id.toUpperCase(), 'nope', '')
        await same(...ev('return "via eval"', '0'))
        await both('EVALSHA', 'c9b9b6bf3bd2bd17a3f9cfafbb5c43a9fbfdf8f6', '0')
        await both('SCRIPT', 'EXISTS', 'c9b9b6bf3bd2bd17a3f9cfafbb5c43a9fbfdf8f6')
        await sequence([['SCRIPT', 'LOAD', 'return ('], ['SCRIPT', 'FLUSH', 'x'], ['SCRIPT', 'FLUSH', 'sync', 'a'], ['SCRIPT', 'FLUSH', 'ASYNC']])
        await both('EVALSHA', id, '1', 'k', 'a')
        await both('SCRIPT', 'EXISTS', id)
        await same('SCRIPT', 'LOAD', body)
        await both('EVALSHA', id, '1', 'k', 'a')
        await same('SCRIPT', 'FLUSH')
        await both('SCRIPT', 'EXISTS', id)
        await sequence([['SCRIPT', 'KILL'], ['SCRIPT', 'HELP'], ['SCRIPT', 'foo'], ['SCRIPT']])
      } finally {
        r2.close()
        f2.close()
      }
    })

    it("a script's commands count in total_commands_processed, refused ones do not", async () => {
      const total = (info: string): string => /total_commands_processed:(\d+)/.exec(info)?.[0] ?? 'no total_commands_processed'
      await sequence([
        ['CONFIG', 'RESETSTAT'], ['RPUSH', 'list', 'x'],
        ev('redis.call("set", KEYS[1], "1") redis.call("incr", KEYS[1]) redis.call("get", KEYS[2]) return redis.call("select", 1)', '2', K[0][0], K[1][0]),
        ev('return {redis.pcall("incr", "list"), redis.pcall("nosuch"), redis.pcall("set", "a"), redis.pcall("multi"), redis.pcall("subscribe", "c")}', '0'),
        ev('return redis.call("set", KEYS[1], "v")', '1', K[2][0]), ['EVAL_RO', 'return redis.pcall("set", KEYS[1], "v")', '1', K[2][0]],
      ])
      await pair.sameNormalized(total, 'INFO', 'stats')
    })

    it('EVAL, EVALSHA, their _RO forms and FCALL run inside the shard worker (INFO scripts_in_shard), at four when their keys are on one shard', async () => {
    const before = await infoNumber(pair.f, 'shards', 'scripts_in_shard')
    const body = 'return redis.call("incr", KEYS[1])'
    const sha = text(await pair.f.command('SCRIPT', 'LOAD', body)).split('\r\n')[1]
    await sequence([
      ev(body, '1', 'in-shard'), ['EVALSHA', sha, '1', 'in-shard'], ['EVAL_RO', 'return redis.call("get", KEYS[1])', '1', 'in-shard'],
      ['EVALSHA_RO', sha, '1', 'in-shard'], ['FUNCTION', 'LOAD', 'REPLACE', "#!lua name=inshard\nredis.register_function('inshard', function(k) return redis.call('get', k[1]) end)"],
      ['FCALL', 'inshard', '1', 'in-shard'], ['FUNCTION', 'DELETE', 'inshard'],
    ])
    const after = await infoNumber(pair.f, 'shards', 'scripts_in_shard')
    // Five scripts, each run whole by the worker (EVALSHA_RO of the writing script fails there, at its INCR).
    // At four: EVAL of the loaded body, EVALSHA and EVALSHA_RO in the key's worker (EVAL_RO's body
    // is not on the hub yet: held), and FCALL only if the key is on the hub, shard 0.
    expect(after - before).toBe(shards === 1 ? 5 : shardOfKey('in-shard', SHARDS) === 0 ? 4 : 3)
  })

  it("a script's reads and writes in CLIENT TRACKING: its reads are remembered, its own write's invalidation follows its reply", async () => {
    await sameOnBoth(pair, async (first, second) => {
      await first.command('HELLO', '3')
      const seen = [text(await first.command('CLIENT', 'TRACKING', 'on'))]
      seen.push(text(await first.command(...ev('return {redis.call("get", KEYS[1]), redis.call("get", KEYS[2])}', '2', 'tk1', 'tk2'))))
      seen.push(text(await second.command('SET', 'tk2', 'x')))
      seen.push(...(await first.readReplies(1)).map(text))
      seen.push(text(await first.command('GET', 'tk3')))
      first.send(encodeCommand(ev('return redis.call("set", KEYS[1], "v")', '1', 'tk3')))
      seen.push(...(await first.readReplies(2)).map(text))
      return seen
    })
  })

  it("a script's keyspace events reach subscribers in order", async () => {
    await same('CONFIG', 'SET', 'notify-keyspace-events', 'KEA')
    try {
      await sameOnBoth(pair, async (first, second) => {
        const seen = [text(await second.command('PSUBSCRIBE', '__keyspace@0__:ke*'))]
        seen.push(text(await first.command(...ev('redis.call("set", KEYS[1], "1") redis.call("incr", KEYS[1]) redis.call("rpush", KEYS[2], "a") return redis.call("del", KEYS[1], KEYS[2])', '2', 'ke1', 'ke2'))))
        seen.push(...(await second.readReplies(5)).map(text))
        return seen
      })
    } finally {
      await same('CONFIG', 'SET', 'notify-keyspace-events', '')
    }
  })

  it("a script's LPUSH serves another client's BLPOP once the script has ended", async () => {
    await sameOnBoth(pair, async (first, second) => {
      second.send(encodeCommand(['BLPOP', 'blq', '0']))
      // Wait until the BLPOP is blocked (not recorded: INFO differs between the servers).
      for (let i = 0; i < 500 && !/blocked_clients:1\r\n/.test(text(await first.command('INFO', 'clients'))); i++) await new Promise(resolve => setTimeout(resolve, 5))
      const seen = [text(await first.command(...ev('redis.call("lpush", KEYS[1], "a", "b") return redis.call("llen", KEYS[1])', '1', 'blq')))]
      seen.push(...(await second.readReplies(1)).map(text))
      seen.push(text(await first.command('LRANGE', 'blq', '0', '-1')))
      return seen
    })
  })

  describe("a script's commands in INFO commandstats, errorstats, latencystats and SLOWLOG, as Redis's call() counts them", () => {
    /** Each script after CONFIG RESETSTAT: what its redis.calls and its own reply move. */
    const SCRIPTS: Arg[][] = [
      ev('return redis.call("incr", KEYS[1])', '1', 'str'), ev('return redis.pcall("incr", KEYS[1])', '1', 'str'),
      ev('redis.pcall("incr", KEYS[1]) return 1', '1', 'str'), ev('local ok, e = pcall(redis.call, "incr", KEYS[1]) return e', '1', 'str'),
      ev('local ok, e = pcall(redis.call, "incr", KEYS[1]) error(e)', '1', 'str'), ev('local t = redis.pcall("incr", KEYS[1]) error(t)', '1', 'str'),
      ev('error("boom")', '0'), ev('return 1 + nil', '0'), ev('return redis.error_reply("MY err")', '0'), ev('return {err="-ERR x", ignore_error_stats_update=true}', '0'),
      ev('return {1, {err="XX in array"}, {err="YY two"}}', '0'), ev('return {redis.pcall("incr", KEYS[1]), redis.pcall("incr", KEYS[1])}', '1', 'str'),
      ev('return {redis.pcall("incr", KEYS[1]), {err="XX y"}, {err="ZZ y"}}', '1', 'str'),
      ev('local t = redis.pcall("incr", KEYS[1]) t.ignore_error_stats_update = false return t', '1', 'str'),
      ev('local t = redis.pcall("incr", KEYS[1]) local n = {} for k, v in pairs(t) do n[#n + 1] = k .. "=" .. tostring(v) end table.sort(n) return n', '1', 'str'),
      ev('return redis.call("nosuch")', '0'), ev('return redis.pcall("nosuch", "a")', '0'), ev('return redis.call("get")', '0'),
      ev('return redis.call("multi")', '0'), ev('return redis.pcall("eval", "return 1", "0")', '0'), ['EVAL_RO', 'return redis.call("set", KEYS[1], "v")', '1', 'k'],
      ev('return redis.call("mset", "a", "b", "c")', '0'), ev('return redis.call("xread", "block", "0", "streams", "s", "0")', '0'),
      ev('return redis.call("select", "99")', '0'), ev('return redis.call()', '0'), ev('return redis.pcall({})', '0'),
      ev('redis.call("set", KEYS[1], "1") redis.call("get", KEYS[1]) redis.call("select", 1) return redis.call("ping")', '1', K[0][0]),
      ev('redis.call("set", KEYS[1], "1") return redis.call("mget", KEYS[1], KEYS[2], KEYS[3])', '3', K[0][0], K[1][0], K[2][0]),
      ev('return redis.call("config", "get", "maxmemory")', '0'), ['EVALSHA', 'f'.repeat(40), '0'], ev('return 1', 'x'),
    ]
    /** INFO commandstats and latencystats without times, sorted (Redis lists them in its dict's order). */
    const stats = (info: string): string => info.split('\r\n').filter(l => /^(cmdstat_|errorstat_|latency_percentiles_usec_|total_error_replies:|total_commands_processed:)/.test(l))
      .map(l => l.replace(/usec=[\d.]+,usec_per_call=[\d.]+,/, '').replace(/^(latency_percentiles_usec_[^:]+):.*/, '$1')).sort().join('\n')

    it('each redis.call counts its call, failure or rejection; the script counts what its reply holds', async () => {
      for (const script of SCRIPTS) {
        await sequence([['SET', 'str', 'abc'], ['CONFIG', 'RESETSTAT'], script])
        await pair.sameNormalized(stats, 'INFO', 'everything')
      }
    })

    it('inside MULTI a script counts as one of the commands EXEC runs, after its redis.calls', async () => {
      await sequence([['SET', 'str', 'abc'], ['CONFIG', 'RESETSTAT']])
      await pipeline([['MULTI'], ev('return redis.call("incr", KEYS[1])', '1', 'str'), ev('return redis.pcall("nosuch")', '0'),
        ev('return redis.call("set", KEYS[1], "1")', '1', K[1][0]), ['EXEC']])
      await pair.sameNormalized(stats, 'INFO', 'everything')
    })

    it('above maxmemory a refused redis.call counts as rejected, with its OOM error', async () => {
      await sequence([['CONFIG', 'SET', 'maxmemory', '1']])
      try {
        await sequence([['CONFIG', 'RESETSTAT'], ev('return redis.pcall("set", "a", "b")', '0'), ev('return redis.call("set", "a", "b")', '0')])
        await pair.sameNormalized(stats, 'INFO', 'everything')
      } finally {
        await sequence([['CONFIG', 'SET', 'maxmemory', '0']])
      }
    })

    it("SLOWLOG: each command of the script as Redis's script client (\"?:0\", no name), then the script", async () => {
      const body = 'redis.call("set", KEYS[1], "v") redis.call("get", KEYS[1]) return redis.pcall("incr", KEYS[1])'
      const sha = text(await pair.r.command('SCRIPT', 'LOAD', body)).split('\r\n')[1]
      await same('SCRIPT', 'LOAD', body)
      await sequence([
        ['CLIENT', 'SETNAME', 'slowclient'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '0'], ['SLOWLOG', 'RESET'],
        ev(body, '1', K[0][0]), ['EVALSHA', sha, '1', K[1][0]], ev('return redis.call("nosuch")', '0'),
        ev('redis.call("set", KEYS[1], "1") return redis.call("mget", KEYS[1], KEYS[2])', '2', K[0][0], K[1][0]),
        ev('return redis.call("rpush", KEYS[1], unpack(ARGV))', '1', 'long', 'x'.repeat(200), ...Array.from({ length: 40 }, (_v, i) => `a${i}`)),
        // Off (-1), so that nothing more is logged, however slow this box makes a command.
        ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1'],
      ])
      // Ids, times and durations differ; the clients' ports too.
      const entries = (reply: string): string => reply.replace(/:\d+\r\n/g, ':N\r\n').replace(/127\.0\.0\.1:\d+/g, 'client')
      await pair.sameNormalized(entries, 'SLOWLOG', 'GET', '100')
      await sequence([['SLOWLOG', 'LEN'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '10000']])
    })
  })

  describe('FLUSHALL, FLUSHDB and SWAPDB inside scripts (run by each shard itself; a held script lends its shards again after)', () => {
    const all = [K[0][0], K[1][0], K[2][0], K[3][0]]
    /** rdb_changes_since_last_save on each side (earlier tests leave different counts). */
    const dirty = async (): Promise<[number, number]> => await Promise.all([pair.f, pair.r].map(async c => await infoNumber(c, 'persistence', 'rdb_changes_since_last_save'))) as [number, number]

    it('what they remove, their errors and options, and the writes around them', async () => {
      const before = await dirty()
      await sequence([
        ['MSET', ...all.flatMap(k => [k, 'v'])], ['SELECT', '1'], ['MSET', K[0][1], 'v1', K[1][1], 'v1'], ['SELECT', '0'],
        ['CONFIG', 'RESETSTAT'],
        ev('redis.call("set", KEYS[1], "before") local r = redis.call("flushall") redis.call("set", KEYS[2], "after") return {r, redis.call("dbsize"), redis.call("get", KEYS[1])}', '2', K[0][0], K[1][0]),
        ['MGET', ...all], ['DBSIZE'], ['SELECT', '1'], ['DBSIZE'], ['SELECT', '0'],
        ['MSET', ...all.flatMap(k => [k, 'v'])], ev('return redis.call("flushall", "async")', '0'), ['DBSIZE'],
        ev('return redis.call("flushall", "x")', '0'), ev('return redis.pcall("flushdb", "sync", "x")', '0'), ['EVAL_RO', 'return redis.call("flushall")', '0'],
        ['MSET', ...all.flatMap(k => [k, 'v'])], ['SELECT', '1'], ['MSET', K[2][1], 'v1', K[3][1], 'v1'], ['SELECT', '0'],
        ev('redis.call("select", 1) local r = redis.call("flushdb") return {r, redis.call("dbsize")}', '0'), ['DBSIZE'], ['SELECT', '1'], ['DBSIZE'], ['SELECT', '0'],
        ev('return redis.call("flushdb")', '0'), ['DBSIZE'],
      ])
      // Redis's dirty: the keys each removed, as FLUSHALL and FLUSHDB outside scripts count them.
      const after = await dirty()
      expect(after[0] - before[0]).toBe(after[1] - before[1])
      await pair.sameNormalized(info => info.split('\r\n').filter(l => /^cmdstat_(flush|eval|dbsize)/.test(l)).map(l => l.replace(/usec=[\d.]+,usec_per_call=[\d.]+,/, '')).sort().join('\n'), 'INFO', 'commandstats')
      await sequence([
        ['SET', K[0][0], 'db0'], ['SELECT', '2'], ['SET', K[1][0], 'db2'], ['SELECT', '0'],
        ev('local r = redis.call("swapdb", 0, 2) return {r, redis.call("get", KEYS[1]), redis.call("get", KEYS[2])}', '2', K[0][0], K[1][0]),
        ['GET', K[0][0]], ['GET', K[1][0]], ['SELECT', '2'], ['GET', K[0][0]], ['SELECT', '0'],
        ev('return redis.call("swapdb", 0, 99)', '0'), ev('return redis.pcall("swapdb", "a", 1)', '0'), ev('return redis.call("swapdb", 0)', '0'),
      ])
    })

    it('inside MULTI, and several in one script', async () => {
      await pipeline([
        ['MULTI'], ['SET', K[0][0], '1'], ev('redis.call("flushdb") redis.call("set", KEYS[1], "x") redis.call("flushall") return redis.call("set", KEYS[2], "y")', '2', K[1][0], K[2][0]),
        ['GET', K[2][0]], ['EXEC'], ['MGET', K[0][0], K[1][0], K[2][0]],
      ])
    })

    it('a watched key they remove or swap makes EXEC fail; one in a database they leave alone does not', async () => {
      await sameOnBoth(pair, async (first, second) => {
        const seen: string[] = []
        const cases: Array<[string, string, string]> = [
          ['0', K[1][0], 'return redis.call("flushall")'], ['0', K[2][0], 'return redis.call("flushdb")'],
          ['0', K[3][0], 'return redis.call("swapdb", 0, 1)'], ['1', K[0][0], 'return redis.call("flushdb")'],
        ]
        for (const [db, key, script] of cases) {
          for (const cmd of [['SELECT', db], ['SET', key, 'w'], ['WATCH', key], ['MULTI'], ['GET', key]]) seen.push(text(await first.command(...cmd)))
          seen.push(text(await second.command(...ev(script, '0'))))
          seen.push(text(await first.command('EXEC')))
        }
        return seen
      })
    })

    it('no keyspace events of their own; the writes around them have theirs', async () => {
      await same('CONFIG', 'SET', 'notify-keyspace-events', 'KEA')
      try {
        await sameOnBoth(pair, async (first, second) => {
          const seen = [text(await second.command('PSUBSCRIBE', '__key*@*__:*'))]
          seen.push(text(await first.command(...ev('redis.call("set", KEYS[1], "1") redis.call("flushall") return redis.call("set", KEYS[2], "2")', '2', K[0][0], K[1][0]))))
          seen.push(text(await first.command(...ev('redis.call("swapdb", 0, 1) return redis.call("flushdb")', '0'))))
          seen.push(text(await first.command('SET', 'marker', '1')))
          seen.push(...(await second.readReplies(6)).map(text))
          return seen
        })
      } finally {
        await same('CONFIG', 'SET', 'notify-keyspace-events', '')
      }
    })

    it("SWAPDB serves a client blocked on a key the other database has; FLUSHALL invalidates a tracking client's keys", async () => {
      await sameOnBoth(pair, async (first, second) => {
        second.send(encodeCommand(['BLPOP', 'swapq', '0']))
        for (let i = 0; i < 500 && !/blocked_clients:1\r\n/.test(text(await first.command('INFO', 'clients'))); i++) await new Promise(resolve => setTimeout(resolve, 5))
        const seen = [text(await first.command('SELECT', '1')), text(await first.command('RPUSH', 'swapq', 'a', 'b')), text(await first.command('SELECT', '0'))]
        seen.push(text(await first.command(...ev('return redis.call("swapdb", 0, 1)', '0'))))
        seen.push(...(await second.readReplies(1)).map(text))
        seen.push(text(await first.command('LRANGE', 'swapq', '0', '-1')))
        await second.command('HELLO', '3')
        seen.push(text(await second.command('CLIENT', 'TRACKING', 'on')), text(await second.command('GET', 'swapq')))
        seen.push(text(await first.command(...ev('return redis.call("flushall")', '0'))))
        seen.push(...(await second.readReplies(1)).map(text))
        return seen
      })
    })
  })

  it('commands whose reply a producer merges from every shard: RANDOMKEY, INFO, SLOWLOG LEN, MEMORY STATS', async () => {
    await sequence([
      // Nothing logged meanwhile (a loaded box may make FLUSHALL slow): SLOWLOG LEN is 0 on both.
      ['FLUSHALL'], ['SET', 'only', 'v'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1'], ['SLOWLOG', 'RESET'],
      ev('return redis.call("randomkey")', '0'), ev('return redis.call("info", "keyspace")', '0'),
      ev('return redis.call("slowlog", "len")', '0'), ev('return type(redis.call("memory", "stats"))', '0'),
      ev('return redis.pcall("info", "keyspace", "x")', '0'), ev('return redis.call("select", "3") and redis.call("randomkey")', '0'),
      ev('return redis.call("dbsize") + #redis.call("keys", "*")', '0'), ['CONFIG', 'SET', 'slowlog-log-slower-than', '10000'],
    ])
  })

  it('COMMAND INFO of the scripting commands', async () => {
      // SCRIPT itself is left out: its subcommands come in dict order, and SCRIPT DEBUG is not built.
      await same('COMMAND', 'INFO', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'script|load', 'script|exists', 'script|flush', 'script|kill', 'script|help')
    })
  })

  describe('busy scripts: busy-reply-threshold, BUSY and SCRIPT KILL', () => {
    const threshold = (name: string, ms: string): Arg[] => ['CONFIG', 'SET', name, ms]

    /** PING until the reply is something else (BUSY once the script passes the threshold); that reply. */
    async function untilBusy (c: RawClient): Promise<string> {
      for (let i = 0; i < 3000; i++) {
        const reply = text(await c.command('PING'))
        if (reply !== '+PONG\r\n') return reply
        await new Promise(resolve => setTimeout(resolve, 5))
      }
      throw new Error('the script never became busy')
    }

    /**
     * Runs one scenario on each server at once, with two fresh connections there (the script's
     * and another), and compares what each server answered, step by step.
     */
    async function onBoth (scenario: (script: RawClient, other: RawClient) => Promise<string[]>): Promise<void> {
      try {
        await sameOnBoth(pair, scenario)
      } finally {
        await sequence([threshold('busy-reply-threshold', '5000')])
      }
    }

    it('CONFIG GET and SET of busy-reply-threshold and its alias lua-time-limit', async () => {
      await sequence([
        ['CONFIG', 'GET', 'busy-reply-threshold'], ['CONFIG', 'GET', 'lua-time-limit'],
        threshold('lua-time-limit', '9223372036854775807'), ['CONFIG', 'GET', 'busy-reply-threshold'],
        threshold('busy-reply-threshold', '9007199254740993'), ['CONFIG', 'GET', 'lua-time-limit'],
        threshold('busy-reply-threshold', '-1'), threshold('lua-time-limit', 'x'), threshold('busy-reply-threshold', '9223372036854775808'),
        threshold('busy-reply-threshold', '0'), ['CONFIG', 'GET', 'busy-reply-threshold'], threshold('lua-time-limit', '5000'),
      ])
    })

    it('past the threshold other clients get BUSY, allow_busy commands run, SCRIPT KILL stops a script that did not write', async () => {
      await onBoth(async (script, other) => {
        const seen: string[] = [text(await other.command(...threshold('busy-reply-threshold', '10')))]
        // The script's own next command waits for the script, as Redis reads nothing from its client.
        script.send(Buffer.concat([encodeCommand(ev('redis.call("get", KEYS[1])\nlocal i = 0\nwhile true do i = i + 1 end', '1', 'k')), encodeCommand(['PING'])]))
        seen.push(await untilBusy(other))
        for (const cmd of [['GET', 'k'], ['SET', 'k', 'v'], ev('return 1', '0'), ['SCRIPT', 'LOAD', 'return 1'], ['CONFIG', 'GET', 'maxmemory'],
          ['CLIENT', 'ID'], ['ECHO', 'x'], ['MULTI'], ['SET', 'k', 'v'], ['PING'], ['EXEC'], ['MULTI'], ['DISCARD'], ['UNWATCH'], ['NOSUCH'], ['GET']]) {
          seen.push(text(await other.command(...cmd)))
        }
        seen.push(text(await other.command('SCRIPT', 'KILL')))
        seen.push(...(await script.readReplies(2, 20000)).map(text))
        seen.push(text(await other.command('SCRIPT', 'KILL')), text(await other.command('PING')), text(await other.command('GET', 'k')))
        return seen
      })
    })

    it('a killed script fails even when it catches errors with pcall (its next line raises again)', async () => {
      const scripts = [
        'local n = 0\nwhile true do\nlocal ok, e = pcall(function() n = n + 1 end)\nend',
        'while true do\nlocal ok, e = pcall(error, "x")\nend',
        // Killed inside pcall: pcall returns false and the error, and the script's next new line raises it again.
        'return pcall(function() local i = 0 while true do i = i + 1 end end)',
        'local ok, e = pcall(function() local i = 0 while true do i = i + 1 end end)\nreturn {ok, e}',
        'local ok, e = pcall(function() local i = 0 while true do i = i + 1 end end) return {ok, e}',
        'local ok, e = pcall(pcall, function() while true do end end)\nreturn 1',
      ]
      for (const body of scripts) {
        await onBoth(async (script, other) => {
          const seen: string[] = [text(await other.command(...threshold('lua-time-limit', '10')))]
          script.send(encodeCommand(ev(body, '0')))
          seen.push(await untilBusy(other))
          seen.push(text(await other.command('SCRIPT', 'KILL')))
          seen.push(...(await script.readReplies(1, 20000)).map(text))
          return seen
        })
      }
    })

    it('inside MULTI: the busy script is EXEC\'s, and EXEC answers once it is killed', async () => {
      await onBoth(async (script, other) => {
        const seen: string[] = [text(await other.command(...threshold('busy-reply-threshold', '10')))]
        script.send(Buffer.concat([['MULTI'], ['SET', 'a', '1'], ev('while true do end', '0'), ['GET', 'a'], ['EXEC']].map(c => encodeCommand(c))))
        seen.push(await untilBusy(other))
        seen.push(text(await other.command('GET', 'a')), text(await other.command('SCRIPT', 'KILL')))
        seen.push(...(await script.readReplies(5, 20000)).map(text))
        seen.push(text(await other.command('GET', 'a')))
        return seen
      })
    })

    it('a script that wrote is UNKILLABLE, and runs to its end', async () => {
      // It writes, then loops for three seconds by the server's clock (TIME inside the script).
      const body = 'redis.call("set", KEYS[1], "written")\n' +
        'local function now() local t = redis.call("time") return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 end\n' +
        'local t0 = now()\nwhile now() - t0 < 3000 do end\nreturn redis.call("get", KEYS[1])'
      await onBoth(async (script, other) => {
        const seen: string[] = [text(await other.command(...threshold('busy-reply-threshold', '10')))]
        script.send(encodeCommand(ev(body, '1', 'w')))
        seen.push(await untilBusy(other))
        seen.push(text(await other.command('SCRIPT', 'KILL')), text(await other.command('GET', 'w')))
        seen.push(...(await script.readReplies(1, 20000)).map(text))
        seen.push(text(await other.command('SCRIPT', 'KILL')), text(await other.command('GET', 'w')))
        return seen
      })
    })
  })
})
}
