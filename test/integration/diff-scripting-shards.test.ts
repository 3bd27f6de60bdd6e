// Scripts inside a shard's worker at four shards (scripting/in-shard.ts, server/scripting.ts
// sendToShard), against a real redis-server 7.0.15: a script whose declared keys all hash to one
// shard runs in that shard's worker (INFO scripts_in_shard grows); one that then needs another
// shard stops there (before or after writing: then its writes are undone) and runs again holding
// every shard, with the reply, the data, the keyspace events, the AOF and the client's next
// commands exactly as Redis has them, its effects once.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg, sameOnBoth } from './helpers/diff.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { RawClient, encodeCommand, infoNumber } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

const SHARDS = 4
/** A hash tag per shard: `{T[s]}x` lives on shard s. */
const T = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, 'tag')[0])
const on = (s: number, name: string): string => `{${T[s]}}${name}`
/** A key on another shard than every `on(1, ...)` key. */
const FOREIGN = on(3, 'foreign')

/** The SHA1 of a body, as SCRIPT LOAD answers it on both servers. */
async function load (pair: ReturnType<typeof useDiffPair>, body: string): Promise<string> {
  const reply = await pair.same('SCRIPT', 'LOAD', body)
  return reply.split('\r\n')[1]
}

const INCR_THEN_FOREIGN = 'local n = redis.call("incr", KEYS[1]) return {n, redis.call("get", ARGV[1])}'
const INCR_THEN_FOREIGN_SET = 'local n = redis.call("incr", KEYS[1]) redis.call("set", ARGV[1], n) return n'

describe('scripts inside a shard worker at four shards', () => {
  const pair = useDiffPair({ shards: SHARDS })
  const { same, sequence, pipeline } = pair
  const inShard = async (): Promise<number> => await infoNumber(pair.f, 'shards', 'scripts_in_shard')

  it('test keys land where the test expects', () => {
    expect(T.map((_, s) => shardOfKey(on(s, 'x'), SHARDS))).toEqual([0, 1, 2, 3])
  })

  it('a script whose keys share a shard runs in that worker: EVALSHA, EVAL of a stored body, _RO forms, on every shard', async () => {
    const body = 'return {redis.call("incr", KEYS[1]), redis.call("incr", KEYS[2]), redis.call("get", KEYS[1])}'
    const sha = await load(pair, body)
    const before = await inShard()
    for (let s = 0; s < SHARDS; s++) {
      await sequence([
        ['EVALSHA', sha, '2', on(s, 'a'), on(s, 'b')], ['EVAL', body, '2', on(s, 'a'), on(s, 'b')],
        ['EVALSHA_RO', sha, '2', on(s, 'a'), on(s, 'b')], ['EVAL_RO', body, '2', on(s, 'a'), on(s, 'b')],
        ['MGET', on(s, 'a'), on(s, 'b')],
      ])
    }
    // Four scripts per shard, each run whole by a worker (the _RO ones fail there, at their INCR).
    expect(await inShard() - before).toBe(4 * SHARDS)
  })

  it('a script with keys on several shards, or none, holds every shard as before', async () => {
    const body = 'return redis.call("incr", KEYS[1])'
    const sha = await load(pair, body)
    const before = await inShard()
    await sequence([
      ['EVALSHA', sha, '2', on(1, 'a'), on(2, 'a')], ['EVALSHA', sha, '0'], ['EVAL', 'return 1', '0'], ['GET', on(1, 'a')],
      ['EVALSHA', sha, '1', on(1, 'n')],
    ])
    expect(await inShard() - before).toBe(1)
  })

  it('a held script\'s DEL, UNLINK, EXISTS, TOUCH and MSET over keys of several shards: replies, data, dirty and commandstats as Redis has them', async () => {
    const body = 'local r = {redis.call("mset", KEYS[1], "x", KEYS[2], "y", KEYS[3], "z", KEYS[4], "w")["ok"]} ' +
      'r[2] = redis.call("exists", KEYS[1], KEYS[2], KEYS[3], KEYS[1], ARGV[1]) r[3] = redis.call("touch", KEYS[2], ARGV[1], KEYS[3]) ' +
      'r[4] = redis.call("del", KEYS[1], ARGV[1], KEYS[2]) r[5] = redis.call("unlink", KEYS[3], KEYS[1]) ' +
      'r[6] = redis.call("exists", KEYS[1], KEYS[2], KEYS[3], KEYS[4]) r[7] = redis.pcall("mset", KEYS[1], "x", KEYS[2]) r[8] = redis.call("del", KEYS[4]) return r'
    const keys = [on(1, 'sp'), on(2, 'sp'), on(1, 'sq'), on(3, 'sp')]
    const dirty = async (): Promise<[number, number]> =>
      [await infoNumber(pair.f, 'persistence', 'rdb_changes_since_last_save'), await infoNumber(pair.r, 'persistence', 'rdb_changes_since_last_save')]
    await sequence([['CONFIG', 'RESETSTAT']])
    const before = await dirty()
    for (let i = 0; i < 2; i++) await sequence([['EVAL', body, '4', ...keys, on(0, 'none')], ['MSET', keys[0], 'a', keys[2], 'b'], ['EVAL', 'return redis.call("del", KEYS[1], KEYS[2])', '2', keys[2], keys[0]]])
    await sequence([['EXISTS', ...keys], ['DBSIZE']])
    const after = await dirty()
    expect(after[0] - before[0]).toBe(after[1] - before[1])
    const stats = (info: string): string => info.split('\r\n').filter(l => /^cmdstat_(del|unlink|exists|touch|mset):/.test(l))
      .map(l => l.replace(/usec=[\d.]+,usec_per_call=[\d.]+,/, '')).sort().join('\n')
    await pair.sameNormalized(stats, 'INFO', 'commandstats')
  })

  it('a foreign read before any write: the run stops, runs held, same reply; that script then goes held at once', async () => {
    const body = 'local mine = redis.call("get", KEYS[1]) return {mine, redis.call("get", ARGV[1]), redis.call("exists", KEYS[1])}'
    const sha = await load(pair, body)
    await sequence([['SET', on(1, 'r'), 'here'], ['SET', FOREIGN, 'there']])
    const before = await inShard()
    for (let i = 0; i < 3; i++) await same('EVALSHA', sha, '1', on(1, 'r'), FOREIGN)
    // Stopped runs do not count; after the first, the sha goes held without trying.
    expect(await inShard() - before).toBe(0)
    // Commands for every shard or the hub stop a run too.
    for (const b of ['return redis.call("dbsize")', 'return #redis.call("keys", "*")', 'return redis.call("publish", "ch", KEYS[1])',
      'return redis.call("exists", KEYS[1], ARGV[1])', 'return redis.call("randomkey") ~= false']) {
      const one = await load(pair, b)
      await same('EVALSHA', one, '1', on(2, 'x'), FOREIGN)
    }
    expect(await inShard() - before).toBe(0)
  })

  it('INCR then a foreign GET or SET: the INCR is undone and done once, the reply as Redis has it', async () => {
    const get = await load(pair, INCR_THEN_FOREIGN)
    const set = await load(pair, INCR_THEN_FOREIGN_SET)
    await sequence([
      ['SET', FOREIGN, 'x'],
      ['EVALSHA', get, '1', on(1, 'c'), FOREIGN], ['EVALSHA', get, '1', on(1, 'c'), FOREIGN], ['GET', on(1, 'c')],
      ['EVALSHA', set, '1', on(2, 'c'), FOREIGN], ['EVALSHA', set, '1', on(2, 'c'), FOREIGN], ['MGET', on(2, 'c'), FOREIGN],
      // Every type put back as it was: a list, a hash with a TTL, a set, a sorted set, a stream, a string.
      ['RPUSH', on(1, 'l'), 'a', 'b'], ['HSET', on(1, 'h'), 'f', 'v'], ['PEXPIRE', on(1, 'h'), '500000'], ['SADD', on(1, 's'), '1', 'x'],
      ['ZADD', on(1, 'z'), '1', 'a'], ['XADD', on(1, 'x'), '5-1', 'f', 'v'], ['SET', on(1, 'c'), 'str'],
    ])
    // The first EVAL of a body holds every shard (it stores the body on the hub); the second runs in
    // the worker, writes every type, stops at the foreign GET, is undone and runs held.
    const all: Arg[] = ['EVAL', 'redis.call("rpush", KEYS[1], "c") redis.call("hset", KEYS[2], "g", "w") redis.call("persist", KEYS[2]) redis.call("sadd", KEYS[3], "y") redis.call("zadd", KEYS[4], 2, "b") redis.call("xadd", KEYS[5], "*", "g", "w") redis.call("del", KEYS[6]) redis.call("set", KEYS[7], "new") return redis.call("get", ARGV[1])',
      '7', on(1, 'l'), on(1, 'h'), on(1, 's'), on(1, 'z'), on(1, 'x'), on(1, 'c'), on(1, 'fresh'), FOREIGN]
    await sequence([all, ['DEL', on(1, 'fresh')], ['SET', on(1, 'c'), 'str'], all])
    await sequence([
      ['LRANGE', on(1, 'l'), '0', '-1'], ['TTL', on(1, 'h')], ['ZRANGE', on(1, 'z'), '0', '-1', 'WITHSCORES'],
      ['XLEN', on(1, 'x')], ['EXISTS', on(1, 'c')], ['GET', on(1, 'fresh')], ['DBSIZE'],
    ])
    await pair.sameNormalized(s => s.split('\r\n').sort().join('|'), 'SMEMBERS', on(1, 's'))
    await pair.sameNormalized(s => s.split('\r\n').sort().join('|'), 'HGETALL', on(1, 'h'))
  })

  it("a stopped run's calls count nowhere: commandstats, errorstats and SLOWLOG show each call once, as Redis's", async () => {
    // A body no earlier test ran, so that this thread has not yet learnt that it needs another shard.
    const stop = await load(pair, INCR_THEN_FOREIGN + ' -- stats')
    const local = await load(pair, 'redis.call("set", KEYS[1], "v") return redis.pcall("incr", KEYS[1])')
    await sequence([
      ['SET', FOREIGN, 'x'], ['CONFIG', 'RESETSTAT'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '0'], ['SLOWLOG', 'RESET'],
      // Stops in its worker after the INCR (undone), runs held: INCR and GET once each.
      ['EVALSHA', stop, '1', on(2, 'sc'), FOREIGN],
      // Runs whole in its worker: its calls count when it ends.
      ['EVALSHA', local, '1', on(1, 'sl')],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1'],
    ])
    // Since RESETSTAT: the whole run only (a stopped one is not counted).
    expect(await inShard()).toBe(1)
    const stats = (info: string): string => info.split('\r\n').filter(l => /^(cmdstat_(incr|get|set|evalsha)|errorstat_|total_error_replies:)/.test(l))
      .map(l => l.replace(/usec=[\d.]+,usec_per_call=[\d.]+,/, '')).sort().join('\n')
    await pair.sameNormalized(stats, 'INFO', 'everything')
    const entries = (reply: string): string => reply.replace(/:\d+\r\n/g, ':N\r\n').replace(/127\.0\.0\.1:\d+/g, 'client')
    await pair.sameNormalized(entries, 'SLOWLOG', 'GET', '100')
    await sequence([['CONFIG', 'SET', 'slowlog-log-slower-than', '10000']])
  })

  it('a run that wrote many keys, some twice, before stopping puts each back as it was', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => on(3, `many${i}`))
    const sha = await load(pair, 'for round = 1, 2 do for i, k in ipairs(KEYS) do if i % 3 ~= 0 then redis.call("incr", k) end end end redis.call("del", KEYS[3]) return redis.call("get", ARGV[1])')
    await sequence([['SET', keys[2], 'keep'], ['SET', keys[5], '10'], ['EVALSHA', sha, String(keys.length), ...keys, on(0, 'elsewhere')], ['MGET', ...keys], ['DBSIZE']])
  })

  it('a write to a value too big to keep for an undo (a big string) runs held, once; three such runs in a row, and the script goes held at once', async () => {
    const sha = await load(pair, 'redis.call("incr", KEYS[2]) redis.call("rpush", KEYS[1], "x") redis.call("append", KEYS[3], "y") return {redis.call("llen", KEYS[1]), redis.call("strlen", KEYS[3]), redis.call("get", KEYS[2])}')
    const small = await load(pair, 'return redis.call("incr", KEYS[1])')
    await sequence([['RPUSH', on(2, 'long'), ...Array.from({ length: 300 }, (_, i) => `e${i}`)], ['SET', on(2, 'str'), 'z'.repeat(20000)]])
    const stopped = async (): Promise<number> => await infoNumber(pair.f, 'shards', 'scripts_stopped_in_shard')
    const before = await inShard()
    const stops = await stopped()
    const run: Arg[] = ['EVALSHA', sha, '3', on(2, 'long'), on(2, 'n'), on(2, 'str')]
    // Each run stops at its APPEND to the big string (the RPUSH to the long list is one the worker
    // can undo) and runs held; a run that goes whole in the worker starts the count again.
    await sequence([run, run, ['SET', on(2, 'str'), 'short'], run, ['SET', on(2, 'str'), 'z'.repeat(20000)], run, run])
    expect(await stopped() - stops).toBe(4)
    expect(await inShard() - before).toBe(1)
    // The third in a row; then it goes held at once, and the small one still runs in the worker.
    await sequence([run, run, ['GET', on(2, 'n')], ['LLEN', on(2, 'long')], ['STRLEN', on(2, 'str')], ['EVALSHA', small, '1', on(2, 'n')]])
    expect(await stopped() - stops).toBe(5)
    expect(await inShard() - before).toBe(2)
  })

  describe('big lists, sorted sets and streams, kept by what undoes each write (scripting/undo.ts)', () => {
    const LISTS = 'redis.call("lpush", KEYS[1], "a", "b") redis.call("rpush", KEYS[1], "c") redis.call("rpushx", KEYS[1], "d") ' +
      'redis.call("lpushx", KEYS[1], "e") local p = redis.call("lpop", KEYS[1]) local q = redis.call("rpop", KEYS[1], 3) ' +
      'local r = redis.call("lpop", KEYS[1], 2) local m = redis.call("rpoplpush", KEYS[1], KEYS[2]) ' +
      'local n = redis.call("lmove", KEYS[2], KEYS[1], "LEFT", "LEFT") local o = redis.call("lmove", KEYS[1], KEYS[1], "RIGHT", "LEFT") ' +
      'local s = redis.call("rpoplpush", KEYS[3], KEYS[1]) local t = redis.call("lmove", KEYS[1], KEYS[3], "LEFT", "RIGHT") ' +
      'redis.call("rpush", KEYS[1], "after") local u = redis.call("rpop", KEYS[1]) return {p, q, r, m, n, o, s, t, u'
    const ZSETS = 'redis.call("zadd", KEYS[1], 5.5, "m3", 1000, "newm") redis.call("zadd", KEYS[1], "NX", 1, "m4", 2, "nx1") ' +
      'redis.call("zadd", KEYS[1], "XX", "GT", "CH", 7, "m5", 1, "m6") redis.call("zadd", KEYS[1], "INCR", 1.25, "m6") ' +
      'redis.call("zincrby", KEYS[1], -3, "m7") redis.call("zincrby", KEYS[1], 0.1, "fresh") redis.call("zrem", KEYS[1], "m8", "nope", "m9") ' +
      'redis.call("zadd", KEYS[1], 3, "m8") local r = {redis.call("zremrangebyrank", KEYS[1], 0, 4), redis.call("zremrangebyrank", KEYS[1], -3, -1), ' +
      'redis.call("zremrangebyrank", KEYS[1], 500, 600)} return {r[1], r[2], r[3], redis.call("zscore", KEYS[1], "m3"), redis.call("zcard", KEYS[1])'
    const STREAMS = 'local a = redis.call("xadd", KEYS[1], "2-1", "f", "v") local b = redis.call("xadd", KEYS[1], "MAXLEN", "~", "150", "2-2", "f", "w") ' +
      'local c = redis.call("xtrim", KEYS[1], "MAXLEN", "~", "100") for i = 3, 240 do redis.call("xadd", KEYS[1], "2-" .. i, "g", "x") end ' +
      'local d = redis.call("xadd", KEYS[1], "MINID", "~", "2-50", "LIMIT", "1000", "2-500", "h", "y") return {a, b, c, d, redis.call("xlen", KEYS[1])'
    const keys = { bl: on(1, 'bl'), bl2: on(1, 'bl2'), sl: on(1, 'sl'), bz: on(1, 'bz'), bx: on(1, 'bx') }
    const setup = async (): Promise<void> => {
      await sequence([
        ['DEL', ...Object.values(keys)],
        ['RPUSH', keys.bl, ...Array.from({ length: 300 }, (_, i) => `e${i}`)], ['PEXPIRE', keys.bl, '500000'],
        ['RPUSH', keys.bl2, ...Array.from({ length: 200 }, (_, i) => `f${i}`)], ['RPUSH', keys.sl, 's1', 's2'],
        ['ZADD', keys.bz, ...Array.from({ length: 200 }, (_, i) => [String(i), `m${i}`]).flat()], ['PEXPIRE', keys.bz, '500000'],
        ['SET', FOREIGN, 'x'],
      ])
      for (let i = 1; i <= 350; i++) await same('XADD', keys.bx, `1-${i}`, 'f', String(i))
      await sequence([['PEXPIRE', keys.bx, '500000']])
    }
    const check = async (): Promise<void> => {
      await sequence([
        ['LRANGE', keys.bl, '0', '-1'], ['LRANGE', keys.bl2, '0', '-1'], ['LRANGE', keys.sl, '0', '-1'], ['EXISTS', keys.sl],
        ['ZRANGE', keys.bz, '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', keys.bz], ['XRANGE', keys.bx, '-', '+'], ['XINFO', 'STREAM', keys.bx],
        ['DBSIZE'],
      ])
      for (const k of [keys.bl, keys.bz, keys.bx]) await pair.sameNormalized(s => s.replace(/:\d+/, ':ttl'), 'PTTL', k)
    }

    for (const [name, body, args] of [['lists', LISTS, [keys.bl, keys.bl2, keys.sl]], ['sorted sets', ZSETS, [keys.bz]], ['streams', STREAMS, [keys.bx]]] as const) {
      it(`${name}: a whole run in the worker, and a run stopped after them (undone, then held), each as Redis has it`, async () => {
        await setup()
        // No other shard: the run stays in the worker, big writes and all.
        const local = await load(pair, `${body}} -- ${name} local`)
        const before = await inShard()
        await same('EVALSHA', local, String(args.length), ...args)
        expect(await inShard() - before).toBe(1)
        await check()
        // Then a read on another shard: the worker undoes every write, and the held rerun does them once.
        const stop = await load(pair, `${body}, redis.call("get", ARGV[1])} -- ${name} stop`)
        await setup()
        await same('EVALSHA', stop, String(args.length), ...args, FOREIGN)
        expect(await inShard() - before).toBe(1)
        await check()
        // The script goes held at once from now on.
        await setup()
        await same('EVALSHA', stop, String(args.length), ...args, FOREIGN)
        expect(await inShard() - before).toBe(1)
        await check()
      })
    }
  })

  it('random writes to big lists, sorted sets and a stream, then a read on another shard or none: each run as Redis has it', async () => {
    const [bl, sl, bz, bx] = [on(2, 'rl'), on(2, 'rs'), on(2, 'rz'), on(2, 'rx')]
    const side = fc.constantFrom('"LEFT"', '"RIGHT"')
    let seq = 0
    const op = fc.oneof(
      fc.tuple(fc.constantFrom('lpush', 'rpush', 'lpushx', 'rpushx'), fc.constantFrom('K1', 'K2'), fc.integer({ min: 1, max: 3 }))
        .map(([c, k, n]) => `redis.call("${c}", ${k}${', "v"'.repeat(n)})`),
      fc.tuple(fc.constantFrom('lpop', 'rpop'), fc.constantFrom('K1', 'K2'), fc.integer({ min: 0, max: 4 }))
        .map(([c, k, n]) => `redis.call("${c}", ${k}${n === 0 ? '' : `, ${n}`})`),
      fc.tuple(fc.constantFrom('K1', 'K2'), fc.constantFrom('K1', 'K2')).map(([a, b]) => `redis.call("rpoplpush", ${a}, ${b})`),
      fc.tuple(fc.constantFrom('K1', 'K2'), fc.constantFrom('K1', 'K2'), side, side).map(([a, b, f, t]) => `redis.call("lmove", ${a}, ${b}, ${f}, ${t})`),
      fc.tuple(fc.constantFrom('', '"NX", ', '"XX", ', '"GT", "CH", ', '"LT", '), fc.integer({ min: -5, max: 250 }), fc.integer({ min: 0, max: 260 }))
        .map(([f, sc, m]) => `redis.call("zadd", K3, ${f}${sc}, "m${m}")`),
      fc.tuple(fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 260 })).map(([d, m]) => `redis.call("zincrby", K3, ${d}, "m${m}")`),
      fc.array(fc.integer({ min: 0, max: 260 }), { minLength: 1, maxLength: 3 }).map(ms => `redis.call("zrem", K3${ms.map(m => `, "m${m}"`).join('')})`),
      fc.tuple(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -8, max: 8 })).map(([a, b]) => `redis.call("zremrangebyrank", K3, ${a}, ${b})`),
      fc.constantFrom('', '"MAXLEN", "~", "150", ', '"MINID", "~", "1-120", ').map(t => `redis.call("xadd", K4, ${t}"2-" .. n(), "f", "v")`),
      fc.constantFrom('"MAXLEN", "~", "100"', '"MINID", "~", "1-200"').map(t => `redis.call("xtrim", K4, ${t})`),
    )
    const stopped = async (): Promise<number> => await infoNumber(pair.f, 'shards', 'scripts_stopped_in_shard')
    const [inBefore, stopsBefore] = [await inShard(), await stopped()]
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 25 }), fc.boolean(), async (ops, isStop) => {
      await sequence([
        ['DEL', bl, sl, bz, bx], ['RPUSH', bl, ...Array.from({ length: 150 }, (_, i) => `e${i}`)], ['RPUSH', sl, 'a', 'b'],
        ['ZADD', bz, ...Array.from({ length: 200 }, (_, i) => [String(i), `m${i}`]).flat()],
        ['EVAL', 'for i = 1, 330 do redis.call("xadd", KEYS[1], "1-" .. i, "f", i) end', '1', bx], ['SET', FOREIGN, 'x'],
      ])
      // A body no earlier run sent (each stopped script goes held for good).
      const body = `local c = 0 local function n() c = c + 1 return c end local K1, K2, K3, K4 = KEYS[1], KEYS[2], KEYS[3], KEYS[4] -- ${seq++}\n` +
        ops.map(o => `pcall(function() ${o} end)`).join('\n') + (isStop ? '\nredis.call("get", ARGV[1])' : '') + '\nreturn 1'
      const sha = await load(pair, body)
      await same('EVALSHA', sha, '4', bl, sl, bz, bx, FOREIGN)
      await sequence([
        ['LRANGE', bl, '0', '-1'], ['LRANGE', sl, '0', '-1'], ['ZRANGE', bz, '0', '-1', 'WITHSCORES'], ['XRANGE', bx, '-', '+'],
        ['XINFO', 'STREAM', bx], ['EXISTS', bl, sl, bz, bx],
      ])
    }), { numRuns: 25 })
    // Both kinds ran: whole in the worker, and stopped there (then held).
    expect(await inShard()).toBeGreaterThan(inBefore)
    expect(await stopped()).toBeGreaterThan(stopsBefore)
  })

  it('a stopped run with big arguments (its arguments come back from the worker out of band) runs held with them', async () => {
    const sha = await load(pair, 'redis.call("set", KEYS[1], ARGV[2]) redis.call("set", ARGV[1], ARGV[2]) return redis.call("strlen", ARGV[1])')
    const big = 'v'.repeat(3 * 1024 * 1024)
    await sequence([['EVALSHA', sha, '1', on(2, 'big'), FOREIGN, big], ['STRLEN', on(2, 'big')], ['STRLEN', FOREIGN]])
  })

  it("a stopped run's client sees its effects in its next pipelined commands, on every shard", async () => {
    const set = await load(pair, INCR_THEN_FOREIGN_SET)
    const cmds: Arg[][] = []
    for (let i = 0; i < 10; i++) {
      cmds.push(['EVALSHA', set, '1', on(1, 'p'), FOREIGN], ['GET', FOREIGN], ['GET', on(1, 'p')], ['INCR', on(1, 'p')])
    }
    await pipeline(cmds)
  })

  it('pipelined scripts for one worker: those behind one that stops are turned back and run held after it, in order', async () => {
    const local = await load(pair, 'return {redis.call("incr", KEYS[1]), redis.call("get", ARGV[1])}')
    const cmds: Arg[][] = [['SET', FOREIGN, '0']]
    for (let round = 0; round < 6; round++) {
      // A body not seen before, so that its first run is in the worker and stops there.
      const far = await load(pair, `-- round ${round}\nlocal n = redis.call("incr", KEYS[1]) redis.call("set", ARGV[1], n) return n`)
      cmds.push(['EVALSHA', local, '1', on(1, 'pl'), on(1, 'x')], ['EVALSHA', far, '1', on(1, 'pl'), FOREIGN], ['EVALSHA', local, '1', on(1, 'pl'), on(1, 'x')],
        ['EVALSHA', local, '1', on(1, 'pl'), on(1, 'x')], ['GET', FOREIGN])
    }
    const before = await inShard()
    await pipeline(cmds)
    await same('MGET', on(1, 'pl'), FOREIGN)
    // At least the first script of each round ran in the worker.
    expect(await inShard() - before).toBeGreaterThanOrEqual(6)
  })

  it('redis.pcall of the foreign call does not keep a stopped run going', async () => {
    const body = 'redis.call("incr", KEYS[1]) local r = redis.pcall("get", ARGV[1]) redis.call("incr", KEYS[1]) return {r, redis.call("get", KEYS[1])}'
    const sha = await load(pair, body)
    await sequence([['SET', FOREIGN, 'f'], ['EVALSHA', sha, '1', on(1, 'q'), FOREIGN], ['EVALSHA', sha, '1', on(2, 'q'), FOREIGN], ['MGET', on(1, 'q'), on(2, 'q')]])
    const caught = 'redis.call("incr", KEYS[1]) local ok = pcall(redis.call, "get", ARGV[1]) return {tostring(ok), redis.call("incr", KEYS[1])}'
    const sha2 = await load(pair, caught)
    await sequence([['EVALSHA', sha2, '1', on(2, 'w'), FOREIGN], ['GET', on(2, 'w')]])
  })

  it('keyspace events of a stopped-then-held script reach a subscriber once each', async () => {
    const sha = await load(pair, INCR_THEN_FOREIGN_SET)
    await same('CONFIG', 'SET', 'notify-keyspace-events', 'KEA')
    try {
      await sameOnBoth(pair, async (first, second) => {
        const seen = [text(await second.command('PSUBSCRIBE', '__keyevent@0__:*'))]
        for (let i = 0; i < 2; i++) seen.push(text(await first.command('EVALSHA', sha, '1', on(1, 'ev'), FOREIGN)))
        seen.push(text(await first.command('SET', on(2, 'end'), '1')))
        // Two INCRs and two SETs, then the marker SET: nothing more, nothing twice.
        const events = (await second.readReplies(5)).map(text).map(e => e.replace(/\r\n\$\d+\r\n/g, ' '))
        seen.push(...events.sort())
        return seen
      })
    } finally {
      await same('CONFIG', 'SET', 'notify-keyspace-events', '')
    }
  })

  it("a script's LPUSH in a worker serves another client's BLPOP; a WATCHing client's EXEC fails after its write", async () => {
    const push = await load(pair, 'redis.call("lpush", KEYS[1], "a", "b") return redis.call("llen", KEYS[1])')
    const incr = await load(pair, 'return redis.call("incr", KEYS[1])')
    const before = await inShard()
    await sameOnBoth(pair, async (first, second) => {
      // A thread sends a script to a worker once it has its body (with I/O threads this
      // connection's may not: its first EVALSHA of each holds every shard and fetches it).
      const seen = [text(await first.command('EVALSHA', push, '1', on(2, 'warm'))), text(await first.command('EVALSHA', incr, '1', on(2, 'warm2')))]
      second.send(encodeCommand(['BLPOP', on(2, 'blq'), '0']))
      for (let i = 0; i < 500 && !/blocked_clients:1\r\n/.test(text(await first.command('INFO', 'clients'))); i++) await new Promise(resolve => setTimeout(resolve, 5))
      seen.push(text(await first.command('EVALSHA', push, '1', on(2, 'blq'))))
      seen.push(...(await second.readReplies(1)).map(text))
      seen.push(text(await second.command('WATCH', on(2, 'w'))), text(await second.command('MULTI')), text(await second.command('SET', on(2, 'w'), 'mine')))
      seen.push(text(await first.command('EVALSHA', incr, '1', on(2, 'w'))))
      seen.push(text(await second.command('EXEC')), text(await first.command('GET', on(2, 'w'))), text(await first.command('LRANGE', on(2, 'blq'), '0', '-1')))
      return seen
    })
    expect(await inShard() - before).toBeGreaterThanOrEqual(2)
  })

  it("a held script's write to a watched key, then calls with other arguments, fails the watcher's EXEC (the touch keeps the key's bytes)", async () => {
    const body = 'redis.call("set", KEYS[1], "s") redis.call("set", KEYS[2], "longer value") redis.call("get", "zzzzzz") return 1'
    await sameOnBoth(pair, async (first, second) => {
      const seen = [text(await second.command('WATCH', on(1, 'hw'))), text(await second.command('MULTI')), text(await second.command('SET', on(1, 'hw'), 'mine'))]
      // Keys on two shards: the script runs held; its second and third calls reuse the argument buffer.
      seen.push(text(await first.command('EVAL', body, '2', on(1, 'hw'), on(2, 'hw2'))))
      seen.push(text(await second.command('EXEC')), text(await first.command('MGET', on(1, 'hw'), on(2, 'hw2'))))
      return seen
    })
  })

  it('MONITOR: with a monitor present scripts hold every shard, and their lines come once', async () => {
    const sha = await load(pair, INCR_THEN_FOREIGN_SET)
    await sameOnBoth(pair, async (first, second) => {
      const seen = [text(await second.command('MONITOR'))]
      seen.push(text(await first.command('EVALSHA', sha, '1', on(1, 'm'), FOREIGN)))
      seen.push(text(await first.command('GET', on(1, 'm'))))
      // "+<time> [0 <addr>] ..." without the time and address.
      seen.push(...(await second.readReplies(4)).map(l => text(l).replace(/^\+[\d.]+ \[(\d+) [^\]]*\]/, '+[$1]')))
      return seen
    })
  })

  it('FCALL: a function whose keys are on the hub runs in its worker, and one that needs another shard runs held, its writes once', async () => {
    await same('FUNCTION', 'LOAD', 'REPLACE', `#!lua name=shardlib
redis.register_function('bump', function(k, a) return redis.call('incr', k[1]) end)
redis.register_function('bumpfar', function(k, a) local n = redis.call('incr', k[1]) redis.call('set', a[1], n) return {n, redis.call('get', a[1])} end)`)
    const before = await inShard()
    await sequence([
      ['FCALL', 'bump', '1', on(0, 'f')], ['FCALL', 'bump', '1', on(0, 'f')], ['FCALL', 'bump', '1', on(2, 'f')],
      ['FCALL', 'bumpfar', '1', on(0, 'g'), FOREIGN], ['FCALL', 'bumpfar', '1', on(0, 'g'), FOREIGN], ['MGET', on(0, 'f'), on(2, 'f'), on(0, 'g'), FOREIGN],
    ])
    expect(await inShard() - before).toBe(2)
    await same('FUNCTION', 'DELETE', 'shardlib')
  })

  it('SCRIPT FLUSH: a worker that had the body answers NOSCRIPT as Redis does', async () => {
    const sha = await load(pair, 'return redis.call("incr", KEYS[1])')
    await sequence([['EVALSHA', sha, '1', on(3, 'k')], ['SCRIPT', 'FLUSH'], ['EVALSHA', sha, '1', on(3, 'k')], ['GET', on(3, 'k')]])
  })
})

describe('an undone script and the AOF at four shards', () => {
  const dirs: string[] = []
  const servers: ServerHandle[] = []
  afterAll(async () => {
    await Promise.all(servers.map(async s => await s.stop()))
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })
  /** A server at four shards with `appendfsync always` in a fresh directory; `restart` starts another on the same files. */
  const withAof = async (): Promise<{ c: RawClient, restart: () => Promise<RawClient> }> => {
    const dir = mkdtempSync(join(tmpdir(), 'flashkv-aof-shards-'))
    dirs.push(dir)
    const args = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']
    const first = await startFlashKV({ shards: SHARDS, extraArgs: args })
    servers.push(first)
    const c = await RawClient.connect(first.port)
    return {
      c,
      restart: async () => {
        c.close()
        await first.stop()
        const again = await startFlashKV({ shards: SHARDS, extraArgs: args })
        servers.push(again)
        return await RawClient.connect(again.port)
      },
    }
  }

  it('the file replays to the same data: the stopped runs left nothing in it', async () => {
    const { c, restart } = await withAof()
    const sha = text(await c.command('SCRIPT', 'LOAD', INCR_THEN_FOREIGN_SET)).split('\r\n')[1]
    const local = text(await c.command('SCRIPT', 'LOAD', 'local n = redis.call("incr", KEYS[1]) redis.call("set", KEYS[2], n) return n')).split('\r\n')[1]
    // The first run stops after its INCR (undone), the rest go held; the others run in shard 2's worker.
    for (let i = 0; i < 5; i++) await c.command('EVALSHA', sha, '1', on(1, 'a'), FOREIGN)
    for (let i = 0; i < 3; i++) await c.command('EVALSHA', local, '2', on(2, 'a'), on(2, 'b'))
    expect(await infoNumber(c, 'shards', 'scripts_in_shard')).toBe(3)
    const want = text(await c.command('MGET', on(1, 'a'), FOREIGN, on(2, 'a'), on(2, 'b')))
    expect(want).toBe('*4\r\n$1\r\n5\r\n$1\r\n5\r\n$1\r\n3\r\n$1\r\n3\r\n')
    const c2 = await restart()
    expect(text(await c2.command('MGET', on(1, 'a'), FOREIGN, on(2, 'a'), on(2, 'b')))).toBe(want)
    expect(text(await c2.command('DBSIZE'))).toBe(':4\r\n')
    c2.close()
  })

  it('big values: a stopped run undone by inverse commands and kept blocks left nothing in the file either', async () => {
    const { c, restart } = await withAof()
    const [l, z, x] = [on(1, 'al'), on(1, 'az'), on(1, 'ax')]
    await c.command('RPUSH', l, ...Array.from({ length: 200 }, (_, i) => `e${i}`))
    await c.command('ZADD', z, ...Array.from({ length: 200 }, (_, i) => [String(i), `m${i}`]).flat())
    for (let i = 1; i <= 250; i++) await c.command('XADD', x, `1-${i}`, 'f', String(i))
    await c.command('SET', FOREIGN, 'x')
    const body = 'redis.call("rpoplpush", KEYS[1], KEYS[1]) redis.call("lpush", KEYS[1], "n") redis.call("zadd", KEYS[2], 0.5, "m9", 7, "new") ' +
      'redis.call("zremrangebyrank", KEYS[2], 0, 2) redis.call("xadd", KEYS[3], "MAXLEN", "~", "120", "*", "g", "h") return redis.call("get", ARGV[1])'
    const stop = text(await c.command('SCRIPT', 'LOAD', body)).split('\r\n')[1]
    const whole = text(await c.command('SCRIPT', 'LOAD', body.replace('return redis.call("get", ARGV[1])', 'return 1'))).split('\r\n')[1]
    await c.command('EVALSHA', whole, '3', l, z, x)
    await c.command('EVALSHA', stop, '3', l, z, x, FOREIGN)
    await c.command('EVALSHA', whole, '3', l, z, x)
    expect(await infoNumber(c, 'shards', 'scripts_in_shard')).toBe(2)
    expect(await infoNumber(c, 'shards', 'scripts_stopped_in_shard')).toBe(1)
    const read = async (cl: RawClient): Promise<string[]> => [
      text(await cl.command('LRANGE', l, '0', '-1')), text(await cl.command('ZRANGE', z, '0', '-1', 'WITHSCORES')),
      text(await cl.command('XRANGE', x, '-', '+')), text(await cl.command('XINFO', 'STREAM', x)), text(await cl.command('DBSIZE')),
    ]
    const want = await read(c)
    // Three runs' writes, once each: each rotates the list by one and pushes "n".
    expect(want[0].startsWith('*203\r\n$1\r\nn\r\n$4\r\ne197\r\n$1\r\nn\r\n$4\r\ne198\r\n$1\r\nn\r\n$4\r\ne199\r\n$2\r\ne0\r\n')).toBe(true)
    const c2 = await restart()
    expect(await read(c2)).toEqual(want)
    c2.close()
  })
})
