// Differential tests for Redis 7.0's functions (functions.c, function_lua.c): the same bytes go
// to a real redis-server 7.0.15 and to FlashKV (4 shards), and the replies must be identical:
// FUNCTION LOAD's metadata and register_function checks with every error text, the load-time
// environment, FCALL and FCALL_RO with keys on several shards, the flags, LIST, STATS, DELETE,
// FLUSH, DUMP (byte for byte) and RESTORE with each policy, payloads crossing between the two
// servers, libraries seen from other connections, and busy functions against FUNCTION KILL.
// Redis lists several libraries (and a library's functions) in its dict's order, which changes
// from run to run, so the tests that list or dump keep to one library, or one function per library.
import { beforeEach, describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg, sameOnBoth } from './helpers/diff.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { crc64 as crc64Of } from '../../src/persistence/crc64.js'
const crc64 = (init: bigint, b: Uint8Array): bigint => crc64Of(b, 0, b.length, init)

const SHARDS = 4

/** K[s][i]: keys on shard s. */
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 2, `fn${s}:`))

const load = (code: string, ...opts: string[]): Arg[] => ['FUNCTION', 'LOAD', ...opts, code]
/** A library named `name` whose body is `body` (after the shebang line). */
const lib = (name: string, body: string): string => `#!lua name=${name}\n${body}`
const reg = (fn: string, ret: string): string => `redis.register_function('${fn}', function(keys, args) ${ret} end)`

it('test keys land where the test expects', () => {
  expect(K.map(ks => ks.map(k => shardOfKey(k, SHARDS)))).toEqual([[0, 0], [1, 1], [2, 2], [3, 3]])
})

// Every test at one shard (FCALL runs inside the shard worker: scripting/in-shard.ts) and at
// four (it holds every shard).
for (const shards of [1, SHARDS]) {
describe(`${shards} shard${shards === 1 ? '' : 's'}`, () => {
  const pair = useDiffPair({ shards })
  const { same, sequence } = pair

  beforeEach(async () => {
    await sequence([['FUNCTION', 'FLUSH']])
  })

  describe('FUNCTION LOAD', () => {
    it('library metadata: the shebang, the engine, the name', async () => {
      await sequence([
        load('return 1'), load('#!lua'), load('#!lua name=a b=c\nx'), load('#!lua name=a name=b\nx'), load('#!py name=a\nx'),
        load('#!lua name=a-b\nx'), load('#!lua name=\nx'), load('#!lua name=a'), load('#!lua name=a\n'), load('#!lua x\n'),
        load('#!lua "name=a\nx'), load(lib('ok_1', reg('f', 'return 1'))), load(lib('ok_1', reg('g', 'return 1'))),
        load('#!LUA NAME=up\n' + reg('up', 'return 2')), ['FCALL', 'up', '0'],
        ['FUNCTION', 'LOAD'], ['FUNCTION', 'LOAD', 'REPLACE'], ['FUNCTION', 'LOAD', 'x', 'y', 'z'],
        load(lib('ok_1', reg('f', 'return 2')), 'REPLACE', 'replace'), ['FCALL', 'f', '0'],
      ])
    })

    it('the shebang is split as sdssplitargs splits: quotes, escapes, blanks', async () => {
      const lines = ['#!lua name="a b"', '#!lua name="ab"', "#!lua name='ab'", '#!lua  name=ab  ', '#!lua "name=ab', '#!lua name="a\\x41"',
        '#!"lua" name=ab', '#! lua name=ab', '#!lua\tname=ab', '#!lua name=ab"x"', '#!lua NAME=ab', '#!Lua name=ab', "#!lua name='a\\'b'",
        '#!lua name="a\\"b"', '#!lua name="a\\nb"', "#!lua name='ab'x", '#!lua name="ab"x', '#!lua name="ab', '#!lua name=a"b c"']
      for (const line of lines) {
        await same(...load(`${line}\n${reg('f', 'return 1')}`, 'REPLACE'))
        await same('FUNCTION', 'FLUSH')
      }
    })

    it('what the chunk may do while it loads (only redis.register_function, redis.log, the levels and the version)', async () => {
      const bodies = [
        "redis.call('ping')", "redis.pcall('ping')", "local x = string.len('a')", 'x = 1', 'local x = KEYS', 'local x = _G', 'local x = pcall',
        'redis.setresp(3)', 'local t = {} t.x = redis.sha1hex', 'local x = redis.foo', 'redis.foo = 1', 'redis.register_function = 1',
        "error('boom')", "error({err='MY error'})", 'error()', 'return +', 'local x = math.random()', 'local t = {} t[1] = 1',
        "redis.log(redis.LOG_WARNING, 'loading') " + reg('v', 'return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}'),
        reg('lv', 'return redis.LOG_DEBUG + redis.LOG_VERBOSE + redis.LOG_NOTICE + redis.LOG_WARNING') + ' return 5',
      ]
      for (const body of bodies) await same(...load(lib('env', body), 'REPLACE'))
      await sequence([['FCALL', 'v', '0'], ['FCALL', 'lv', '0']])
    })

    it('redis.register_function: positional and named arguments, flags, names', async () => {
      const bodies = [
        reg('f-1', 'return 1'), "redis.register_function('f1', 3)", "redis.register_function('f1')", 'redis.register_function()',
        'redis.register_function(1, 2, 3)', "redis.register_function('', function() end)", 'redis.register_function(1, function() return 1 end)',
        "redis.register_function({}, function() end)", reg('a', 'return 1') + ' ' + reg('a', 'return 2'),
        "redis.register_function{function_name='a', callback=function() end, flags={'bad'}}",
        "redis.register_function{function_name='a', callback=function() end, flags='no-writes'}",
        "redis.register_function{function_name='a', callback=function() end, flags={1}}",
        "redis.register_function{function_name='a', callback=function() end, flags={{}}}",
        "redis.register_function{function_name='a', callback=function() end, description=1}",
        "redis.register_function{function_name='a', callback=function() end, foo=1}",
        "redis.register_function{function_name='a'}", 'redis.register_function{callback=function() end}',
        'redis.register_function{function_name=1, callback=function() end}', "redis.register_function{function_name='a', callback=1}",
        'redis.register_function{function_name={}, callback=function() end}', "redis.register_function{function_name='a', description={}, callback=function() end}",
        'redis.register_function{[{}]=1}', 'redis.register_function{}', "redis.register_function({function_name='a', callback=function() end}, 2)",
        "redis.register_function{function_name='a', callback=function() end, flags={}}",
        "redis.register_function{function_name='a', callback=function() end, flags={x=1}}",
        "redis.register_function{function_name='a', callback=function() end, flags={'no-writes', 'NO-WRITES'}}",
        "redis.register_function{FUNCTION_NAME='a', CallBack=function() end, Description='d'}",
        "redis.register_function{function_name='a', callback=function() end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}, description='all flags'}",
      ]
      for (const body of bodies) {
        await same(...load(lib('reg', body), 'REPLACE'))
        await same('FUNCTION', 'LIST')
      }
    })

    it('a chunk that runs past 500 ms fails with FUNCTION LOAD timeout', async () => {
      await sequence([load(lib('slow', 'local i = 0\nwhile true do\ni = i + 1\nend')), ['FUNCTION', 'LIST']])
    })

    it('libraries and functions that already exist', async () => {
      await sequence([
        load(lib('one', reg('f1', 'return 1'))), load(lib('one', reg('f9', 'return 9'))), load(lib('two', reg('f1', 'return 2'))),
        load(lib('two', reg('F1', 'return 2'))), ['FCALL', 'F1', '0'], ['FCALL', 'f1', '0'],
        // REPLACE keeps the old library when the new one fails, and may reuse its function names.
        load(lib('one', 'error("no")'), 'REPLACE'), ['FCALL', 'f1', '0'], load(lib('one', reg('f1', 'return 11')), 'REPLACE'), ['FCALL', 'f1', '0'],
        load(lib('two', reg('f2', 'return 2'))), load(lib('two', reg('f1', 'return 22')), 'REPLACE'),
        ['FUNCTION', 'LIST', 'LIBRARYNAME', 'one'], ['FUNCTION', 'LIST', 'LIBRARYNAME', 'two'],
      ])
    })
  })

  describe('FCALL and FCALL_RO', () => {
    const LIB = lib('t', [
      "redis.register_function('err', function(k, a) return redis.call('incr', 'nokey', 'x') end)",
      "redis.register_function('kglob', function(k, a) return KEYS end)",
      "redis.register_function('setg', function(k, a) x = 1 end)",
      "redis.register_function('reg', function(k, a) redis.register_function('z', function() end) end)",
      "redis.register_function('args', function(k, a) return {k, a, #k, #a} end)",
      "redis.register_function('w', function(k, a) return redis.call('set', k[1], a[1]) end)",
      "redis.register_function{function_name='ro', callback=function(k, a) return redis.call('set', k[1], a[1]) end, flags={'no-writes'}}",
      "redis.register_function{function_name='rog', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}}",
      "redis.register_function('boom', function(k, a) error('boom') end)",
      "redis.register_function('boomt', function(k, a) error({err='MY boom'}) end)",
      "redis.register_function('gs', function(k, a) return string.rep('x', 3) end)",
      "redis.register_function('pc', function(k, a) return redis.pcall('incr', k[1]) end)",
      "redis.register_function('mk', function(k, a) for i, key in ipairs(k) do redis.call('set', key, a[i]) end return redis.call('mget', unpack(k)) end)",
      "redis.register_function('undeclared', function(k, a) redis.call('mset', a[1], 'x', a[2], 'y') return redis.call('mget', a[1], a[2]) end)",
      "redis.register_function('maps', function(k, a) redis.setresp(3) return {redis.call('hgetall', k[1]), {double=1.5}, {map={a=1}}} end)",
      "redis.register_function('rnd', function(k, a) return {math.random(100), math.random(100)} end)",
    ].join('\n'))

    it('arguments, replies and errors with their "script: <function>, on @user_function:<line>." suffix', async () => {
      await same(...load(LIB))
      await sequence([
        ['FCALL', 'err', '0'], ['FCALL', 'kglob', '0'], ['FCALL', 'setg', '0'], ['FCALL', 'reg', '0'], ['FCALL', 'args', '2', 'a', 'b', 'c', 'd'],
        ['FCALL', 'args', '0'], ['FCALL', 'w', '1', 'k', 'v'], ['FCALL', 'ro', '1', 'k', 'v'], ['FCALL', 'rog', '1', 'k'],
        ['FCALL', 'boom', '0'], ['FCALL', 'boomt', '0'], ['FCALL', 'gs', '0'], ['FCALL', 'pc', '1', 'k'], ['FCALL', 'nope', '0'],
        ['FCALL', 'w', 'x'], ['FCALL', 'w', '-1'], ['FCALL', 'w', '3', 'a'], ['FCALL', 'nope', 'x'], ['FCALL'], ['FCALL', 'w'],
        ['FCALL', 'args', '1.0', 'a'], ['FCALL', 'args', '01', 'a'], ['FCALL', 'args', '+1', 'a'], ['FCALL', 'W', '1', 'k', 'v2'], ['GET', 'k'],
        ['FCALL', 'maps', '1', 'h'], ['HSET', 'h', 'f', 'v'], ['FCALL', 'maps', '1', 'h'], ['FCALL', 'rnd', '0'], ['FCALL', 'rnd', '0'],
        ['EVAL', 'return math.random(100)', '0'],
      ])
      await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
      await sequence([['FCALL', 'maps', '1', 'h'], ['FCALL', 'args', '1', 'a', 'b'], ['FCALL', 'boomt', '0']])
    })

    it('what a function kept from load time does at run time (register_function refuses, log works)', async () => {
      await same(...load(lib('k', [
        'local r = redis.register_function', 'local lg = redis.log',
        "r('f', function() return r('g', function() end) end)",
        "r('l', function() lg(redis.LOG_WARNING, 'x') return redis.setresp(3) end)",
        "r('p', function(k, a) return {pcall(redis.call, 'nosuch')} end)",
        "r('sha', function() return redis.sha1hex('') end)",
      ].join('\n'))))
      await sequence([['FCALL', 'f', '0'], ['FCALL', 'l', '0'], ['FCALL', 'p', '0'], ['FCALL', 'sha', '0']])
    })

    it('FCALL_RO runs only functions flagged no-writes; a no-writes function cannot write', async () => {
      await same(...load(LIB))
      await sequence([
        ['SET', 'k', 'v'], ['FCALL_RO', 'rog', '1', 'k'], ['FCALL_RO', 'w', '1', 'k', 'v'], ['FCALL_RO', 'ro', '1', 'k', 'x'],
        ['FCALL_RO', 'gs', '0'], ['FCALL_RO', 'nope', '0'], ['FCALL_RO', 'rog', 'x'], ['FCALL_RO', 'w', 'x'], ['GET', 'k'],
      ])
    })

    it('above maxmemory: functions that may write need allow-oom (FCALL is denyoom for them)', async () => {
      await same(...load(lib('o', [
        "redis.register_function('w', function(k, a) return redis.call('set', k[1], 'v') end)",
        "redis.register_function{function_name='wo', callback=function(k, a) return redis.call('set', k[1], 'v') end, flags={'allow-oom'}}",
        "redis.register_function{function_name='r', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes'}}",
        "redis.register_function{function_name='rw', callback=function(k, a) return redis.call('set', k[1], 'v') end, flags={'no-writes'}}",
      ].join('\n'))))
      try {
        await sequence([
          ['CONFIG', 'SET', 'maxmemory', '1'], ['FCALL', 'w', '1', 'k'], ['FCALL', 'w', 'x'], ['FCALL_RO', 'w', '1', 'k'], ['FCALL', 'nope', '0'],
          ['FCALL', 'wo', '1', 'k'], ['FCALL', 'r', '1', 'k'], ['FCALL', 'rw', '1', 'k'], ['FCALL_RO', 'r', '1', 'k'],
          load(lib('x', reg('x', 'return 1'))), ['FUNCTION', 'RESTORE', 'x'], ['FUNCTION', 'DELETE', 'o'],
        ])
      } finally {
        await sequence([['CONFIG', 'SET', 'maxmemory', '0']])
      }
    })

    it('keys on every shard, declared or not, and commands across shards inside a function', async () => {
      await same(...load(LIB))
      const keys = K.map(ks => ks[0])
      await sequence([
        ['FCALL', 'mk', '4', ...keys, '1', '2', '3', '4'], ['MGET', ...keys],
        ['FCALL', 'undeclared', '0', K[1][1], K[3][1]], ['MGET', K[1][1], K[3][1]],
        ['FCALL_RO', 'rog', '1', keys[2]],
      ])
    })

    it('inside MULTI, and from a script (not allowed)', async () => {
      await same(...load(LIB))
      await sequence([
        ['MULTI'], ['FCALL', 'w', '1', K[0][0], 'a'], ['FCALL_RO', 'rog', '1', K[0][0]], ['FCALL', 'nope', '0'], ['FUNCTION', 'STATS'], ['EXEC'],
        ['EVAL', "return redis.call('fcall', 'gs', '0')", '0'], ['EVAL', "return redis.pcall('function', 'list')", '0'],
      ])
    })

    it('CLIENT PAUSE WRITE holds FCALL and FCALL_RO of functions that may write, not of no-writes ones', async () => {
      await same(...load(LIB))
      const scenario = async (port: number, host: string): Promise<string[]> => {
        const [admin, reader, writer, roWriter] = await Promise.all([0, 1, 2, 3].map(async () => await RawClient.connect(port, host)))
        try {
          // Each client runs a function first (with several I/O threads, its thread learns the libraries).
          for (const c of [reader, writer, roWriter]) await c.command('FCALL', 'gs', '0')
          const seen = [text(await admin.command('CLIENT', 'PAUSE', '100000', 'WRITE'))]
          writer.send(encodeCommand(['FCALL', 'w', '1', 'pk', 'v']))
          roWriter.send(encodeCommand(['FCALL_RO', 'w', '1', 'pk', 'v']))
          // A pause of 100 s: these answer only because they are not held.
          seen.push(text(await reader.command('FCALL', 'rog', '1', 'pk')), text(await reader.command('FCALL_RO', 'rog', '1', 'pk')))
          seen.push(text(await admin.command('CLIENT', 'UNPAUSE')))
          seen.push(...(await writer.readReplies(1)).map(text), ...(await roWriter.readReplies(1)).map(text))
          seen.push(text(await reader.command('GET', 'pk')))
          return seen
        } finally {
          for (const c of [admin, reader, writer, roWriter]) c.close()
        }
      }
      const [a, b] = await Promise.all([scenario(pair.flash.port, pair.flash.host), scenario(pair.redis.port, pair.redis.host)])
      expect(a).toEqual(b)
    })

    it('libraries loaded on one connection run on others', async () => {
      const [r2, f2] = await Promise.all([RawClient.connect(pair.redis.port, pair.redis.host), RawClient.connect(pair.flash.port, pair.flash.host)])
      try {
        await same(...load(lib('shared', reg('sh', 'return 7'))))
        expect(text(await f2.command('FCALL', 'sh', '0'))).toBe(text(await r2.command('FCALL', 'sh', '0')))
        expect(text(await f2.command('FUNCTION', 'DELETE', 'shared'))).toBe(text(await r2.command('FUNCTION', 'DELETE', 'shared')))
        await same('FCALL', 'sh', '0')
      } finally {
        r2.close()
        f2.close()
      }
    })
  })

  describe('FUNCTION LIST, DELETE, FLUSH, STATS, HELP, KILL', () => {
    it('LIST: WITHCODE, LIBRARYNAME patterns, argument errors', async () => {
      await sequence([
        load(lib('alpha', "redis.register_function{function_name='af', callback=function() return 1 end, description='the alpha', flags={'allow-stale', 'no-writes'}}")),
        load(lib('beta', reg('bf', 'return 2'))),
        ['FUNCTION', 'LIST', 'LIBRARYNAME', 'alpha'], ['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'b*'], ['FUNCTION', 'LIST', 'libraryname', 'AL?HA', 'withcode'],
        ['FUNCTION', 'LIST', 'LIBRARYNAME', 'x*'], ['FUNCTION', 'LIST', 'LIBRARYNAME'], ['FUNCTION', 'LIST', 'WITHCODE', 'WITHCODE'],
        ['FUNCTION', 'LIST', 'LIBRARYNAME', 'a', 'LIBRARYNAME', 'b'], ['FUNCTION', 'LIST', 'x'],
      ])
      await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
      await sequence([['FUNCTION', 'LIST', 'LIBRARYNAME', 'alpha', 'WITHCODE'], ['FUNCTION', 'STATS']])
    })

    it('DELETE, FLUSH and STATS', async () => {
      await sequence([
        ['FUNCTION', 'STATS'], load(lib('a', reg('fa', 'return 1') + '\n' + reg('fb', 'return 2'))), load(lib('b', reg('fc', 'return 3'))),
        ['FUNCTION', 'STATS'], ['FUNCTION', 'DELETE', 'nope'], ['FUNCTION', 'DELETE', 'A'], ['FUNCTION', 'DELETE', 'a'], ['FCALL', 'fa', '0'],
        ['FUNCTION', 'STATS'], ['FUNCTION', 'DELETE'], ['FUNCTION', 'DELETE', 'a', 'b'], ['FUNCTION', 'STATS', 'x'],
        ['FUNCTION', 'FLUSH', 'x'], ['FUNCTION', 'FLUSH', 'a', 'b'], ['FUNCTION', 'FLUSH', 'SYNC'], ['FUNCTION', 'STATS'],
        load(lib('c', reg('fc', 'return 3'))), ['FUNCTION', 'FLUSH', 'async'], ['FUNCTION', 'LIST'], ['FCALL', 'fc', '0'],
        load(lib('c', reg('fc', 'return 3'))), ['FLUSHALL'], ['FCALL', 'fc', '0'], ['FUNCTION', 'FLUSH'], ['FCALL', 'fc', '0'],
      ])
    })

    it("a function's commands in INFO commandstats, errorstats and SLOWLOG, as Redis's call() counts them; FLUSHALL inside a function", async () => {
      await same(...load(lib('st', [
        reg('fincr', 'return redis.call("incr", keys[1])'), reg('fpincr', 'return redis.pcall("incr", keys[1])'),
        reg('fnosuch', 'return redis.pcall("nosuch")'), reg('fboom', 'error("boom")'),
        reg('fsets', 'redis.call("set", keys[1], "1") redis.call("set", keys[2], "2") return redis.call("mget", keys[1], keys[2])'),
        reg('fflush', 'redis.call("set", keys[1], "x") local r = redis.call("flushall") return {r, redis.call("dbsize")}'),
      ].join('\n'))))
      const stats = (info: string): string => info.split('\r\n').filter(l => /^(cmdstat_|errorstat_|total_error_replies:|total_commands_processed:)/.test(l))
        .map(l => l.replace(/usec=[\d.]+,usec_per_call=[\d.]+,/, '')).sort().join('\n')
      for (const call of [['FCALL', 'fincr', '1', 'str'], ['FCALL', 'fpincr', '1', 'str'], ['FCALL', 'fnosuch', '0'], ['FCALL', 'fboom', '0'],
        ['FCALL_RO', 'fincr', '1', 'str'], ['FCALL', 'fsets', '2', K[0][0], K[1][0]], ['FCALL', 'fflush', '1', K[2][0]]]) {
        await sequence([['SET', 'str', 'abc'], ['CONFIG', 'RESETSTAT'], call])
        await pair.sameNormalized(stats, 'INFO', 'everything')
      }
      await sequence([['CONFIG', 'SET', 'slowlog-log-slower-than', '0'], ['SLOWLOG', 'RESET'], ['FCALL', 'fsets', '2', K[0][0], K[1][0]],
        ['FCALL', 'fpincr', '1', K[0][0]], ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1']])
      await pair.sameNormalized(reply => reply.replace(/:\d+\r\n/g, ':N\r\n').replace(/127\.0\.0\.1:\d+/g, 'client'), 'SLOWLOG', 'GET', '100')
      await same('CONFIG', 'SET', 'slowlog-log-slower-than', '10000')
    })

    it('HELP, KILL with nothing running, unknown subcommands, arity', async () => {
      await sequence([
        ['FUNCTION', 'HELP'], ['FUNCTION', 'help', 'x'], ['FUNCTION', 'KILL'], ['FUNCTION', 'KILL', 'x'], ['FUNCTION', 'foo'], ['FUNCTION'],
        ['FUNCTION', 'DUMP', 'x'], ['FUNCTION', 'RESTORE'], ['SCRIPT', 'KILL'],
      ])
    })

    it('COMMAND INFO of the function commands', async () => {
      await same('COMMAND', 'INFO', 'fcall', 'fcall_ro', 'function|load', 'function|delete', 'function|list', 'function|dump', 'function|restore',
        'function|flush', 'function|stats', 'function|kill', 'function|help')
    })
  })

  /** The payload of a bulk string reply. */
  function bulk (reply: Buffer): Buffer {
    const e = reply.indexOf('\r\n')
    return reply.subarray(e + 2, e + 2 + Number(reply.subarray(1, e).toString()))
  }

  /** A payload as FUNCTION DUMP frames one: records, RDB version 10, CRC64. */
  function payload (body: Buffer): Buffer {
    const b = Buffer.concat([body, Buffer.from([10, 0])])
    const crc = Buffer.alloc(8)
    crc.writeBigUInt64LE(crc64(0n, b))
    return Buffer.concat([b, crc])
  }
  /** An RDB string (lengths below 16384). */
  const rdbString = (s: string): Buffer => Buffer.concat([s.length < 64 ? Buffer.from([s.length]) : Buffer.from([0x40 | (s.length >> 8), s.length & 255]), Buffer.from(s)])
  const record = (code: string): Buffer => Buffer.concat([Buffer.from([245]), rdbString(code)])

  describe('FUNCTION DUMP and RESTORE', () => {
    it('CRC64 is Redis\'s (Jones)', () => {
      expect(crc64(0n, Buffer.from('123456789')).toString(16)).toBe('e9c6d914c4b8d9ca')
    })

    it('DUMP is byte for byte Redis\'s, plain and LZF-compressed, and restores on the other server', async () => {
      const filler = Array.from({ length: 200 }, (_, i) => `-- line ${i % 17} of some filler text ${'abc'.repeat(i % 5)}`).join('\n')
      const codes = [
        lib('small', reg('f', 'return 1')),
        lib('big', reg('g1', "return redis.call('get', keys[1])") + '\n' + filler),
        lib('rep', reg('r', 'return 3') + ' --' + 'a'.repeat(300) + 'b'.repeat(17)),
      ]
      for (const code of codes) {
        await sequence([['FUNCTION', 'FLUSH'], load(code), ['FUNCTION', 'DUMP']])
        const [fromRedis, fromFlash] = await Promise.all([pair.r.command('FUNCTION', 'DUMP'), pair.f.command('FUNCTION', 'DUMP')])
        // The small library is stored as it is; the others LZF-compressed (0xc3 after the opcode).
        expect(bulk(fromFlash)[1] === 0xc3).toBe(code !== codes[0])
        await sequence([['FUNCTION', 'FLUSH']])
        const [a, b] = await Promise.all([pair.r.command('FUNCTION', 'RESTORE', bulk(fromFlash)), pair.f.command('FUNCTION', 'RESTORE', bulk(fromRedis))])
        expect([text(a), text(b)]).toEqual(['+OK\r\n', '+OK\r\n'])
        await sequence([['FUNCTION', 'LIST', 'WITHCODE'], ['FUNCTION', 'DUMP']])
      }
      await sequence([['FUNCTION', 'FLUSH'], ['FUNCTION', 'DUMP']])
    })

    it('RESTORE policies: APPEND (the default), REPLACE, FLUSH, and what collides', async () => {
      const a = (fn: string): string => lib('a', reg(fn, "return 'a'"))
      await sequence([
        load(a('fa')), ['FUNCTION', 'RESTORE', payload(record(a('fa')))], ['FUNCTION', 'RESTORE', payload(record(a('fa'))), 'APPEND'],
        ['FUNCTION', 'RESTORE', payload(record(a('fb'))), 'replace'], ['FUNCTION', 'LIST'], ['FCALL', 'fb', '0'], ['FCALL', 'fa', '0'],
        ['FUNCTION', 'RESTORE', payload(record(lib('b', reg('fb', "return 'b'")))), 'APPEND'],
        ['FUNCTION', 'RESTORE', payload(record(lib('c', reg('FB', "return 'c'")))), 'REPLACE'],
        ['FUNCTION', 'RESTORE', payload(Buffer.concat([record(lib('c', reg('fc', '1'))), record(lib('c', reg('fd', '2')))])), 'REPLACE'],
        ['FUNCTION', 'RESTORE', payload(record(lib('z', reg('fz', "return 'z'")))), 'FLUSH'], ['FUNCTION', 'LIST'], ['FCALL', 'fb', '0'], ['FCALL', 'fz', '0'],
        ['FUNCTION', 'RESTORE', payload(Buffer.alloc(0)), 'flush'], ['FUNCTION', 'LIST'],
        ['FUNCTION', 'RESTORE', 'x', 'append', 'y'], ['FUNCTION', 'RESTORE', 'x', 'bad'],
      ])
    })

    it('RESTORE of bad payloads: checksum, version, record types, strings, libraries', async () => {
      const good = payload(record(lib('q', reg('fq', '1'))))
      const flipped = Buffer.from(good)
      flipped[3] ^= 1
      const v11 = payload(Buffer.alloc(0))
      v11[0] = 11
      const old = (...parts: Buffer[]): Buffer => payload(Buffer.concat([Buffer.from([246]), ...parts]))
      await sequence([
        ['FUNCTION', 'RESTORE', flipped], ['FUNCTION', 'RESTORE', v11], ['FUNCTION', 'RESTORE', '123456789'], ['FUNCTION', 'RESTORE', ''],
        ['FUNCTION', 'RESTORE', payload(Buffer.from([0, 1, 65]))], ['FUNCTION', 'RESTORE', payload(Buffer.from([245, 60, 65, 66]))],
        ['FUNCTION', 'RESTORE', payload(record('#!lua name=x\nreturn 1'))], ['FUNCTION', 'RESTORE', payload(record('no shebang'))],
        ['FUNCTION', 'RESTORE', payload(Buffer.from([245, 0xc3, 2, 9, 1, 0x41, 0x42]))],
        // Redis 7.0 RC records: name, engine, a description flag (and description), the code.
        ['FUNCTION', 'RESTORE', old(rdbString('old'), rdbString('LUA'), Buffer.from([0]), rdbString(reg('fold', "return 'old'")))],
        ['FUNCTION', 'RESTORE', old(rdbString('old2'), rdbString('LUA'), Buffer.from([1]), rdbString('desc'), rdbString(reg('fold2', "return 'old2'")))],
        ['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', 'old'], ['FCALL', 'fold2', '0'],
        ['FUNCTION', 'RESTORE', old(rdbString('old3'))], ['FUNCTION', 'RESTORE', old(rdbString('old3'), rdbString('LUA'))],
        ['FUNCTION', 'RESTORE', old(rdbString('old3'), rdbString('LUA'), Buffer.from([1]))],
        ['FUNCTION', 'RESTORE', old(rdbString('old3'), rdbString('LUA'), Buffer.from([0]))],
        ['FUNCTION', 'RESTORE', good], ['FCALL', 'fq', '0'],
      ])
    })
  })

  describe('busy functions: BUSY, FUNCTION KILL, SCRIPT KILL, FUNCTION STATS', () => {
    const threshold = (ms: string): Arg[] => ['CONFIG', 'SET', 'busy-reply-threshold', ms]
    const LOOPS = lib('busy', [
      "redis.register_function{function_name='spin', callback=function(k, a) redis.call('get', 'x') while true do end end, flags={'no-writes'}}",
      "redis.register_function('spinw', function(k, a) redis.call('set', k[1], 'written') " +
        "local function now() local t = redis.call('time') return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 end " +
        "local t0 = now() while now() - t0 < 3000 do end return redis.call('get', k[1]) end)",
      "redis.register_function('spinp', function(k, a) local ok, e = pcall(function() while true do end end) return {ok, e} end)",
    ].join('\n'))

    async function untilBusy (c: RawClient): Promise<string> {
      for (let i = 0; i < 3000; i++) {
        const reply = text(await c.command('PING'))
        if (reply !== '+PONG\r\n') return reply
        await new Promise(resolve => setTimeout(resolve, 5))
      }
      throw new Error('the function never became busy')
    }

    /** FUNCTION STATS while busy, its duration_ms made constant. */
    const stats = async (c: RawClient): Promise<string> => text(await c.command('FUNCTION', 'STATS')).replace(/duration_ms\r\n:\d+/, 'duration_ms\r\n:N')

    async function onBoth (scenario: (script: RawClient, other: RawClient) => Promise<string[]>): Promise<void> {
      try {
        await sameOnBoth(pair, scenario)
      } finally {
        await sequence([threshold('5000')])
      }
    }

    it('others get BUSY naming FUNCTION KILL; SCRIPT KILL is refused; FUNCTION STATS describes it; FUNCTION KILL stops it', async () => {
      await same(...load(LOOPS))
      await onBoth(async (script, other) => {
        const seen: string[] = [text(await other.command(...threshold('10')))]
        script.send(Buffer.concat([encodeCommand(['FCALL', 'spin', '1', 'k', 'arg']), encodeCommand(['PING'])]))
        seen.push(await untilBusy(other))
        for (const cmd of [['GET', 'k'], ['FCALL', 'spin', '0'], ['EVAL', 'return 1', '0'], ['FUNCTION', 'LIST'], ['FUNCTION', 'LOAD', 'x'], ['SCRIPT', 'KILL']]) {
          seen.push(text(await other.command(...cmd)))
        }
        seen.push(await stats(other))
        seen.push(text(await other.command('FUNCTION', 'KILL')))
        seen.push(...(await script.readReplies(2, 20000)).map(text))
        seen.push(text(await other.command('FUNCTION', 'KILL')), await stats(other))
        return seen
      })
    })

    it('a function killed inside pcall fails all the same', async () => {
      await same(...load(LOOPS))
      await onBoth(async (script, other) => {
        const seen: string[] = [text(await other.command(...threshold('10')))]
        script.send(encodeCommand(['FCALL', 'spinp', '0']))
        seen.push(await untilBusy(other))
        seen.push(text(await other.command('FUNCTION', 'KILL')))
        seen.push(...(await script.readReplies(1, 20000)).map(text))
        return seen
      })
    })

    it('a function that wrote is UNKILLABLE, and runs to its end', async () => {
      await same(...load(LOOPS))
      await onBoth(async (script, other) => {
        const seen: string[] = [text(await other.command(...threshold('10')))]
        script.send(encodeCommand(['FCALL', 'spinw', '1', 'w']))
        seen.push(await untilBusy(other))
        seen.push(text(await other.command('FUNCTION', 'KILL')), text(await other.command('SCRIPT', 'KILL')))
        seen.push(...(await script.readReplies(1, 20000)).map(text))
        seen.push(text(await other.command('GET', 'w')))
        return seen
      })
    })

    it('a busy EVAL: FUNCTION KILL and FUNCTION STATS are refused, SCRIPT KILL stops it', async () => {
      await onBoth(async (script, other) => {
        const seen: string[] = [text(await other.command(...threshold('10')))]
        script.send(encodeCommand(['EVAL', 'while true do end', '0']))
        seen.push(await untilBusy(other))
        seen.push(text(await other.command('FUNCTION', 'KILL')), text(await other.command('FUNCTION', 'STATS')), text(await other.command('SCRIPT', 'KILL')))
        seen.push(...(await script.readReplies(1, 20000)).map(text))
        return seen
      })
    })
  })
})
}
