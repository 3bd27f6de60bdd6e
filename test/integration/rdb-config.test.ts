// Save points, SHUTDOWN and SIGTERM saving, rdbcompression, rdbchecksum and
// stop-writes-on-bgsave-error, checked against what redis-server 7.0.15 does and loads.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { persistence, bgsaveDone } from './helpers/persistence.js'
import { keysOnShard } from './helpers/slots.js'
import { RawClient } from './helpers/raw.js'

const dirs: string[] = []
const servers: ServerHandle[] = []
const clients: Redis[] = []
afterAll(async () => {
  for (const c of clients) c.disconnect()
  await Promise.all(servers.map(async s => await s.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'flashkv-rdbconf-'))
  dirs.push(d)
  return d
}

async function client (s: ServerHandle): Promise<Redis> {
  servers.push(s)
  const c = new Redis({ port: s.port, host: s.host, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  clients.push(c)
  await c.connect()
  return c
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))
async function until (cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(20)
}

/** Keys and values of database 0, sorted. */
async function strings (c: Redis): Promise<string[]> {
  const keys = (await c.keys('*')).sort()
  return keys.length === 0 ? [] : [...keys, ...(await c.mget(...keys) as string[])]
}

const MISCONF = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

describe('save points', () => {
  it('a point reached starts a BGSAVE (LASTSAVE moves); CONFIG GET/SET save as Redis prints it', async () => {
    const dir = tempDir()
    const f = await client(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir, '--save', '1 1'] }))
    expect(await f.config('GET', 'save')).toEqual(['save', '1 1'])
    const first = await f.lastsave()
    await f.set('a', '1')
    while (await f.lastsave() === first) await sleep(100)
    expect((await bgsaveDone(f)).rdb_saves).toBe('1')
    expect(await strings(await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir])))).toEqual(['a', '1'])
    const r = await client(await startRedis(['--save', '', '--appendonly', 'no']))
    for (const c of [f, r]) {
      expect(await c.config('SET', 'save', '3600 1 300 100')).toBe('OK')
      expect(await c.config('GET', 'save')).toEqual(['save', '3600 1 300 100'])
      await expect(c.config('SET', 'save', '1')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters")
      expect(await c.config('SET', 'save', '')).toBe('OK')
      expect(await c.config('GET', 'save')).toEqual(['save', ''])
    }
  })
})

describe('FLUSHALL with save points', () => {
  it('saves at once (flushAllDataAndResetRDB): an empty file with the libraries, LASTSAVE moves, no changes since; with save "" nothing is saved', async () => {
    const lib = "#!lua name=keep\nredis.register_function('one', function () return 1 end)"
    const fdir = tempDir()
    const rdir = tempDir()
    const f = await client(await startFlashKV({ shards: 3, extraArgs: ['--dir', fdir, '--save', '3600 1000'] }))
    const r = await client(await startRedis(['--save', '3600 1000', '--appendonly', 'no', '--dir', rdir]))
    const firsts: number[] = []
    for (const c of [f, r]) {
      expect(await c.function('LOAD', lib)).toBe('keep')
      await c.mset('a', '1', 'b', '2', 'c', '3')
      await c.select(3)
      await c.sadd('s', 'x', 'y')
      await c.select(0)
      firsts.push(await c.lastsave())
    }
    // LASTSAVE counts seconds: the save must fall in a later one.
    await sleep(1100)
    for (const [i, c] of [f, r].entries()) {
      expect(Number((await persistence(c)).rdb_changes_since_last_save)).toBeGreaterThan(0)
      expect(await c.flushall()).toBe('OK')
      const p = await persistence(c)
      expect(p.rdb_changes_since_last_save).toBe('0')
      expect(p.rdb_last_bgsave_status).toBe('ok')
      expect(Number(p.rdb_last_save_time)).toBeGreaterThan(firsts[i])
      expect(await c.lastsave()).toBe(Number(p.rdb_last_save_time))
    }
    expect(execFileSync('redis-check-rdb', [join(fdir, 'dump.rdb')], { encoding: 'utf8' })).toContain('RDB looks OK')
    // Redis loads our file: no keys, the library kept.
    for (const dir of [fdir, rdir]) {
      const loaded = await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir]))
      expect(await loaded.dbsize()).toBe(0)
      expect(await loaded.fcall('one', 0)).toBe(1)
    }
    // save "": FLUSHALL writes nothing and the changes go on counting.
    const before = readFileSync(join(fdir, 'dump.rdb'))
    for (const c of [f, r]) {
      await c.config('SET', 'save', '')
      await c.set('k', 'v')
      expect(await c.flushall()).toBe('OK')
      expect(Number((await persistence(c)).rdb_changes_since_last_save)).toBeGreaterThan(0)
    }
    expect(readFileSync(join(fdir, 'dump.rdb'))).toEqual(before)
    await expect(f.flushall('async', 'sync' as 'ASYNC')).rejects.toThrow('ERR syntax error')
  })
})

describe('rdb_changes_since_last_save', () => {
  it('counts each command as Redis\'s dirty does (keys deleted, members added, elements pushed, pairs set)', async () => {
    const seq: string[][] = [
      ['SET', 'k', 'v'], ['SET', 'k', 'v2'], ['SET', 'k', 'x', 'NX'], ['INCR', 'n'], ['INCRBY', 'n', '5'], ['MSET', 'a', '1', 'b', '2', 'c', '3'],
      ['MSETNX', 'a', '1', 'zz', '2'], ['DEL', 'a', 'b', 'nosuch'], ['UNLINK', 'c', 'nosuch'], ['APPEND', 'k', 'y'], ['GETDEL', 'k'],
      ['SADD', 's', 'a', 'b', 'c'], ['SADD', 's', 'a', 'b'], ['SADD', 's', 'a', 'd'], ['SREM', 's', 'a', 'b', 'nosuch'], ['SPOP', 's', '2'],
      ['HSET', 'h', 'f1', 'v', 'f2', 'v'], ['HSET', 'h', 'f1', 'w', 'f3', 'v'], ['HSETNX', 'h', 'f1', 'v'], ['HDEL', 'h', 'f1', 'f2', 'nosuch'],
      ['LPUSH', 'l', 'a', 'b', 'c'], ['RPUSH', 'l', 'd', 'e'], ['LPUSHX', 'nolist', 'a'], ['LREM', 'l', '0', 'a'], ['LPOP', 'l', '2'], ['LSET', 'l', '0', 'z'],
      ['EXPIRE', 'l', '100'], ['EXPIRE', 'nosuch', '100'], ['PERSIST', 'l'], ['PERSIST', 'l'],
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZADD', 'z', '5', 'a'], ['ZADD', 'z', '5', 'a'], ['ZINCRBY', 'z', '1', 'b'], ['ZREM', 'z', 'a', 'b'],
      ['ZADD', 'z', '1', 'p', '2', 'q', '3', 'r'], ['ZPOPMIN', 'z', '2'], ['RPUSH', 'l', 'a', 'b', 'c'], ['RPOP', 'l', '2'], ['RPOP', 'l'],
      ['SETEX', 'e', '100', 'v'], ['SET', 'e2', 'v', 'EX', '100', 'GET'], ['GETEX', 'e', 'PERSIST'], ['SETRANGE', 'e', '0', 'w'], ['HINCRBY', 'h', 'n', '1'],
      ['XADD', 'st', '1-1', 'f', 'v'], ['XADD', 'st', '2-1', 'f', 'v'], ['XDEL', 'st', '1-1', '2-1'],
      ['SET', '{z}a', '1'], ['RENAME', '{z}a', '{z}b'],
      // LTRIM: the elements removed. ZPOPMIN/ZPOPMAX: the members popped (not the reply's pairs).
      ['RPUSH', 'tl', 'a', 'b', 'c', 'd', 'e', 'f'], ['LTRIM', 'tl', '1', '-2'], ['LTRIM', 'tl', '0', '-1'], ['LTRIM', 'tl', '5', '10'],
      ['ZADD', 'zp', '1', 'a', '2', 'b', '3', 'c', '4', 'd'], ['ZPOPMIN', 'zp', '2'], ['ZPOPMAX', 'zp'], ['ZPOPMAX', 'zp', '0'], ['BZPOPMIN', 'zp', '0'],
      ['ZADD', 'zp', '1', 'a', '2', 'b', '3', 'c'], ['ZMPOP', '1', 'zp', 'MAX', 'COUNT', '2'], ['BZMPOP', '0', '1', 'zp', 'MIN', 'COUNT', '5'],
      // SETBIT and BITFIELD: only what changed a bit or made or grew the string.
      ['SETBIT', 'sb', '3', '1'], ['SETBIT', 'sb', '3', '1'], ['SETBIT', 'sb', '3', '0'], ['SETBIT', 'sb', '3', '0'], ['SETBIT', 'sb', '100', '0'], ['SETBIT', 'sb', '100', '0'],
      ['BITFIELD', 'bf', 'SET', 'u8', '0', '255', 'INCRBY', 'u8', '0', '1'], ['BITFIELD', 'bf', 'INCRBY', 'u8', '0', '0'], ['BITFIELD', 'bf2', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '300'],
      ['BITFIELD', 'bf', 'SET', 'u8', '0', '1', 'SET', 'u8', '0', '1'], ['BITFIELD', 'bf', 'SET', 'u8', '100', '0', 'INCRBY', 'u8', '0', '0'], ['BITFIELD', 'bf', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '0', '300'],
      ['BITFIELD', 'bf', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '0', '300'], ['BITFIELD', 'bf', 'SET', 'i8', '8', '-1', 'SET', 'i8', '8', '255'], ['BITFIELD', 'bf', 'GET', 'u8', '0'],
      // SORT ... STORE: the elements stored; an empty result deleting the destination, 1.
      ['RPUSH', '{so}l', '3', '1', '2'], ['SORT', '{so}l', 'STORE', '{so}d'], ['SORT', '{so}l', 'BY', 'nosort', 'GET', '#', 'GET', 'x', 'STORE', '{so}d'],
      ['SORT', '{so}l', 'LIMIT', '5', '1', 'STORE', '{so}d'], ['SORT', '{so}l', 'LIMIT', '5', '1', 'STORE', '{so}d'], ['SORT', '{so}nosuch', 'STORE', '{so}e'],
      ['GEOADD', '{so}g', '13.3', '38.1', 'p1'], ['GEOSEARCHSTORE', '{so}gd', '{so}g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'],
      ['GEOSEARCHSTORE', '{so}gd', '{so}g', 'FROMLONLAT', '100', '37', 'BYRADIUS', '1', 'km'], ['GEOSEARCHSTORE', '{so}gd', '{so}g', 'FROMLONLAT', '100', '37', 'BYRADIUS', '1', 'km'],
      // PFCOUNT of one key rewrites a stale cached cardinality: 1.
      ['PFADD', 'hl', 'a'], ['PFCOUNT', 'hl'], ['PFCOUNT', 'hl'], ['PFADD', 'hl', 'b'], ['PFADD', 'hl', 'b'], ['PFCOUNT', 'hl'], ['PFADD', 'hl2'], ['PFCOUNT', 'hl2'],
      // Consumer groups (t_stream.c's server.dirty): groups, consumers and PEL entries.
      ['XADD', 'st2', '1-1', 'f', 'v'], ['XGROUP', 'CREATE', 'st2', 'g', '0'], ['XGROUP', 'CREATE', 'st2', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'st2', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'st2', '>'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'st2', '0'], ['XACK', 'st2', 'g', '1-1'], ['XACK', 'st2', 'g', '1-1'],
      ['XGROUP', 'CREATECONSUMER', 'st2', 'g', 'c2'], ['XGROUP', 'CREATECONSUMER', 'st2', 'g', 'c2'], ['XGROUP', 'DELCONSUMER', 'st2', 'g', 'c2'], ['XGROUP', 'DELCONSUMER', 'st2', 'g', 'c2'],
      ['XSETID', 'st2', '5-5'], ['XSETID', 'st2', '5-5'], ['XGROUP', 'SETID', 'st2', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'st2', '>'],
      ['XCLAIM', 'st2', 'g', 'c3', '0', '1-1'], ['XAUTOCLAIM', 'st2', 'g', 'c4', '0', '0'], ['XAUTOCLAIM', 'st2', 'g', 'c5', '999999999', '0'], ['XGROUP', 'DESTROY', 'st2', 'g'], ['XGROUP', 'DESTROY', 'st2', 'g'],
      ['XGROUP', 'CREATE', '{xs}a', 'g', '$', 'MKSTREAM'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', '{xs}a', '>'], ['XADD', '{xs}a', '1-1', 'f', 'v'], ['XADD', '{xs}a', '2-1', 'f', 'v'],
      ['XADD', '{xs}a', '3-1', 'f', 'v'], ['XADD', '{xs}a', '4-1', 'f', 'v'], ['XADD', '{xs}b', '1-1', 'f', 'v'], ['XGROUP', 'CREATE', '{xs}b', 'g', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '2', 'STREAMS', '{xs}a', '{xs}b', '>', '>'], ['XREADGROUP', 'GROUP', 'g', 'c2', 'NOACK', 'STREAMS', '{xs}a', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c3', 'STREAMS', '{xs}a', '{xs}b', '0', '>'], ['XACK', '{xs}a', 'g', '1-1', '2-1', '9-9'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', '{xs}a', '{xs}b', '0', '0'],
      ['XCLAIM', '{xs}b', 'g', 'c9', '0', '1-1', 'JUSTID'], ['XCLAIM', '{xs}b', 'g', 'c9', '0', '1-1'], ['XCLAIM', '{xs}a', 'g', 'c9', '0', '3-1', 'FORCE'], ['XCLAIM', '{xs}a', 'g', 'c9', '0', '9-9', 'FORCE'],
      ['XCLAIM', '{xs}a', 'g', 'c9', '999999999', '3-1', 'LASTID', '8-0'], ['XCLAIM', '{xs}a', 'g', 'c10', '999999999', '3-1'], ['XDEL', '{xs}a', '3-1'], ['XCLAIM', '{xs}a', 'g', 'c11', '0', '3-1', 'LASTID', '9-0'],
      ['XADD', '{xs}a', '10-1', 'f', 'v'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', '{xs}a', '>'], ['XDEL', '{xs}a', '10-1'], ['XAUTOCLAIM', '{xs}a', 'g', 'c12', '0', '0'], ['XGROUP', 'DELCONSUMER', '{xs}a', 'g', 'c12'],
      ['SELECT', '1'], ['MSET', 'x', '1', 'y', '2'], ['FLUSHDB'], ['FLUSHDB'], ['SELECT', '0'], ['FLUSHALL'], ['FLUSHALL'],
    ]
    const deltas = async (c: Redis): Promise<string[]> => {
      const out: string[] = []
      let last = Number((await persistence(c)).rdb_changes_since_last_save)
      for (const cmd of seq) {
        // Errors (BUSYGROUP, NOGROUP) count nothing, in both.
        await c.call(cmd[0], ...cmd.slice(1)).catch(() => null)
        const now = Number((await persistence(c)).rdb_changes_since_last_save)
        out.push(`${cmd.join(' ')}: ${now - last}`)
        last = now
      }
      return out
    }
    const f = await client(await startFlashKV({ shards: 3, extraArgs: ['--save', ''] }))
    const r = await client(await startRedis(['--save', '', '--appendonly', 'no']))
    const theirs = await deltas(r)
    expect(theirs).toContain('SADD s a b c: 3')
    expect(theirs).toContain('SADD s a b: 0')
    expect(theirs).toContain('ZPOPMIN zp 2: 2')
    expect(theirs).toContain('XREADGROUP GROUP g c STREAMS st2 >: 2')
    expect(await deltas(f)).toEqual(theirs)
  })
})

describe('rdb_changes_since_last_save across shards', () => {
  it('counts cross-shard commands once by their rule, and each write of a cross-shard transaction or script, as Redis does', async () => {
    // At 4 shards: a, b, c, d on shards 0, 1, 2, 3 (each name a key of its own shard).
    const [a, b, c, d] = [0, 1, 2, 3].map(s => keysOnShard(s, 4, 1, 'k:')[0])
    const [la, lb, sa, sb, za, zb, ha, hb] = [0, 1, 0, 1, 2, 3, 2, 3].map((s, i) => keysOnShard(s, 4, i + 2, `t${i}:`)[i + 1])
    const [xa, xb, xl, xd] = [0, 1, 2, 3].map(s => keysOnShard(s, 4, 1, 'x:')[0])
    const script = "redis.call('set', KEYS[1], 'v'); redis.call('incr', KEYS[2]); redis.call('rpush', KEYS[3], 'x', 'y', 'z'); redis.call('zadd', KEYS[4], 1, 'p', 2, 'q'); redis.call('del', KEYS[1], KEYS[2]); return 1"
    type Step = string[] | string[][]
    const seq: Step[] = [
      ['SET', a, 'v'], ['RENAME', a, b], ['RENAME', b, a], ['RENAMENX', a, b], ['SET', c, 'w'], ['RENAMENX', a, c], ['COPY', b, c], ['COPY', b, c, 'REPLACE'], ['COPY', b, d],
      ['RPUSH', la, '1', '2', '3'], ['LMOVE', la, lb, 'LEFT', 'RIGHT'], ['RPOPLPUSH', la, lb], ['LMOVE', 'nosuch', lb, 'LEFT', 'LEFT'],
      ['LMPOP', '2', la, lb, 'LEFT', 'COUNT', '2'], ['LMPOP', '2', 'nosuch', lb, 'RIGHT', 'COUNT', '5'],
      ['SADD', sa, 'm1', 'm2', 'm3'], ['SADD', sb, 'm2'], ['SMOVE', sa, sb, 'm1'], ['SMOVE', sa, sb, 'm2'], ['SMOVE', sa, sb, 'nosuch'],
      ['SUNIONSTORE', c, sa, sb], ['SINTERSTORE', d, sa, 'nosuch'], ['MSETNX', a, '1', 'fresh1', '2'], ['MSETNX', 'fresh2', '1', 'fresh3', '2', 'fresh4', '3'], ['MSET', a, '1', b, '2', c, '3', d, '4'], ['DEL', a, b, c, d, 'nosuch'],
      ['ZADD', za, '1', 'a', '2', 'b', '3', 'c'], ['ZADD', za, '5', 'a', '6', 'b', '3', 'c'], ['ZADD', za, '5', 'a'], ['ZADD', za, 'CH', '7', 'a', '8', 'd'], ['ZADD', za, 'INCR', '1', 'a'],
      ['ZADD', zb, '1', 'x'], ['ZUNIONSTORE', c, '2', za, zb], ['ZRANGESTORE', d, za, '0', '-1'], ['ZMPOP', '2', za, zb, 'MIN', 'COUNT', '2'],
      ['RPUSH', la, 'b1', 'b2', 'b3'], ['BLMOVE', la, lb, 'LEFT', 'RIGHT', '0'], ['BLMPOP', '0', '2', la, lb, 'RIGHT', 'COUNT', '2'], ['ZADD', zb, '1', 'y'], ['BZPOPMIN', za, zb, '0'],
      ['PFADD', ha, 'a', 'b', 'c'], ['PFADD', ha, 'a'], ['PFADD', ha, 'd'], ['PFADD', hb], ['PFADD', hb], ['PFMERGE', c, ha, hb],
      ['GEOADD', za, '13.3', '38.1', 'p1', '15.0', '37.5', 'p2'], ['GEOSEARCHSTORE', a, za, 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'],
      [['SET', a, 'x'], ['RENAME', a, d], ['INCR', b], ['LPUSH', la, 'q', 'r'], ['SMOVE', sb, sa, 'm2'], ['DEL', d, b, 'nosuch']],
      [['MSET', a, '1', b, '2'], ['SADD', sa, 'n1', 'n2'], ['HSET', c, 'f', 'v', 'g', 'w']],
      ['EVAL', script, '4', a, b, c, d], ['EVAL', "return redis.call('pfadd', KEYS[1], 'zz', 'yy')", '1', hb],
      ['EVAL', "redis.call('mset', KEYS[1], 1, KEYS[2], 2, KEYS[3], 3); redis.call('rename', KEYS[1], KEYS[4]); return redis.call('smove', KEYS[5], KEYS[6], 'n1')", '6', a, b, c, d, sa, sb],
      // Each stream served and each consumer made counts, on whichever shard; SORT ... STORE, what it stored.
      ['XADD', xa, '1-1', 'f', 'v'], ['XADD', xb, '1-1', 'f', 'v'], ['XGROUP', 'CREATE', xa, 'g', '0'], ['XGROUP', 'CREATE', xb, 'g', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', xa, xb, '>', '>'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', xa, xb, '0', '>'], ['XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', xa, xb, '0', '0'],
      ['RPUSH', xl, '3', '1', '2'], ['SORT', xl, 'STORE', xd], ['SORT', xl, 'LIMIT', '5', '1', 'STORE', xd], ['SORT', xl, 'LIMIT', '5', '1', 'STORE', xd],
      [['XADD', xa, '2-1', 'f', 'v'], ['XREADGROUP', 'GROUP', 'g', 'c3', 'STREAMS', xa, '>'], ['XACK', xa, 'g', '1-1', '2-1'], ['LTRIM', xl, '1', '1'], ['PFADD', xd, 'a'], ['PFCOUNT', xd]],
    ]
    const deltas = async (cl: Redis): Promise<string[]> => {
      const out: string[] = []
      let last = Number((await persistence(cl)).rdb_changes_since_last_save)
      for (const step of seq) {
        if (Array.isArray(step[0])) await cl.multi((step as string[][]).map(([name, ...args]) => [name.toLowerCase(), ...args])).exec()
        else await cl.call(step[0] as string, ...(step as string[]).slice(1)).catch(() => null)
        const now = Number((await persistence(cl)).rdb_changes_since_last_save)
        out.push(`${JSON.stringify(step)}: ${now - last}`)
        last = now
      }
      return out
    }
    const f = await client(await startFlashKV({ shards: 4, extraArgs: ['--save', ''] }))
    const r = await client(await startRedis(['--save', '', '--appendonly', 'no']))
    const theirs = await deltas(r)
    expect(theirs).toContain(`${JSON.stringify(['SMOVE', sa, sb, 'm1'])}: 2`)
    expect(await deltas(f)).toEqual(theirs)
  })
})

describe('SHUTDOWN and SIGTERM', () => {
  it('SIGTERM saves when there are save points, and not with save ""', async () => {
    const dir = tempDir()
    const s = await startFlashKV({ shards: 3, extraArgs: ['--dir', dir, '--save', '3600 1'] })
    const f = await client(s)
    await f.set('k1', 'v1')
    await f.set('k2', 'v2')
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(false)
    expect(await s.stop()).toBe(0)
    expect(execFileSync('redis-check-rdb', [join(dir, 'dump.rdb')], { encoding: 'utf8' })).toContain('RDB looks OK')
    expect(await strings(await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir])))).toEqual(['k1', 'k2', 'v1', 'v2'])
    const empty = tempDir()
    const s2 = await startFlashKV({ shards: 2, extraArgs: ['--dir', empty] })
    await (await client(s2)).set('k', 'v')
    expect(await s2.stop()).toBe(0)
    expect(existsSync(join(empty, 'dump.rdb'))).toBe(false)
  })

  it('a plain SHUTDOWN saves when there are save points; SHUTDOWN NOSAVE does not', async () => {
    for (const [how, saves] of [[[], true], [['NOSAVE'], false]] as const) {
      const dir = tempDir()
      const s = await startFlashKV({ shards: 2, extraArgs: ['--dir', dir, '--save', '3600 1'] })
      const f = await client(s)
      await f.set('x', 'y')
      await f.call('SHUTDOWN', ...how).catch(() => null)
      while (existsSync(`/proc/${s.pid}`)) await sleep(20)
      expect(existsSync(join(dir, 'dump.rdb'))).toBe(saves)
    }
  })
})

describe('shutdown-on-sigint, shutdown-on-sigterm and shutdown-timeout', () => {
  it('CONFIG SET and GET answer as Redis does, byte for byte', async () => {
    const r = await startRedis(['--save', '', '--appendonly', 'no'])
    const f = await startFlashKV({ shards: 2, extraArgs: ['--dir', tempDir()] })
    servers.push(r, f)
    const [rc, fc] = await Promise.all([RawClient.connect(r.port, r.host), RawClient.connect(f.port, f.host)])
    try {
      const cases: string[][] = []
      for (const name of ['shutdown-on-sigint', 'shutdown-on-sigterm']) {
        // Names in any case and order, repeated, 'default' among others; single spaces only.
        for (const v of ['nosave now', 'now save', 'FORCE', 'default', 'default save', 'now now', 'save nosave', 'bogus', '', 'now  nosave', "save 'now'", 'nosave now force']) {
          cases.push(['CONFIG', 'SET', name, v], ['CONFIG', 'GET', name])
        }
      }
      for (const v of ['0', '-1', '2147483647', '2147483648', 'abc', ' 5', '30']) cases.push(['CONFIG', 'SET', 'shutdown-timeout', v], ['CONFIG', 'GET', 'shutdown-timeout'])
      for (const c of cases) expect((await fc.command(...c)).toString(), c.join(' ')).toBe((await rc.command(...c)).toString())
    } finally {
      rc.close()
      fc.close()
    }
  })

  it('a signal saves as its flags say: save without save points, nosave with them, force past a failed save', async () => {
    // SIGTERM with 'save' and no save points: the file is written, and Redis loads it.
    const dir = tempDir()
    const s = await startFlashKV({ shards: 3, extraArgs: ['--dir', dir, '--save', '', '--shutdown-on-sigterm', 'save'] })
    const f = await client(s)
    await f.set('k1', 'v1')
    expect(await f.config('GET', 'shutdown-on-sigterm')).toEqual(['shutdown-on-sigterm', 'save'])
    expect(await s.stop()).toBe(0)
    expect(await strings(await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir])))).toEqual(['k1', 'v1'])

    // SIGINT with 'nosave' (set at run time) and save points: no file. SIGTERM's default would save.
    const dir2 = tempDir()
    const s2 = await startFlashKV({ shards: 2, extraArgs: ['--dir', dir2, '--save', '3600 1'] })
    const f2 = await client(s2)
    await f2.set('k', 'v')
    expect(await f2.config('SET', 'shutdown-on-sigint', 'nosave now')).toBe('OK')
    process.kill(s2.pid as number, 'SIGINT')
    while (existsSync(`/proc/${s2.pid as number}`)) await sleep(20)
    expect(existsSync(join(dir2, 'dump.rdb'))).toBe(false)

    // A save that fails keeps the server up (Redis's rule) unless the flags say force.
    const dir3 = tempDir()
    const s3 = await startFlashKV({ shards: 2, extraArgs: ['--dir', dir3, '--save', '3600 1'] })
    const f3 = await client(s3)
    await f3.set('k', 'v')
    rmSync(dir3, { recursive: true })
    process.kill(s3.pid as number, 'SIGTERM')
    await until(() => s3.logs().includes('SIGTERM received but errors trying to shut down the server'))
    expect(await f3.get('k')).toBe('v')
    expect(await f3.config('SET', 'shutdown-on-sigterm', 'force')).toBe('OK')
    process.kill(s3.pid as number, 'SIGTERM')
    await until(() => !existsSync(`/proc/${s3.pid as number}`))
    expect(s3.logs()).toContain('Error trying to save the DB. Exit anyway.')
  })

  it('the config file takes several flags on one line, and CONFIG REWRITE writes them back', async () => {
    const dir = tempDir()
    const file = join(dir, 'flashkv.conf')
    writeFileSync(file, 'shutdown-on-sigterm nosave now\nshutdown-on-sigint "save force"\nshutdown-timeout 3\n')
    const f = await client(await startFlashKV({ shards: 1, extraArgs: [file, '--dir', dir] }))
    expect(await f.config('GET', 'shutdown-on-sig*')).toEqual(expect.arrayContaining(['shutdown-on-sigterm', 'nosave now', 'shutdown-on-sigint', 'save force']))
    expect(await f.config('GET', 'shutdown-timeout')).toEqual(['shutdown-timeout', '3'])
    expect(await f.config('SET', 'shutdown-on-sigint', 'default')).toBe('OK')
    expect(await f.config('REWRITE')).toBe('OK')
    const text = readFileSync(file, 'utf8')
    expect(text).toContain('shutdown-on-sigterm nosave now\n')
    expect(text).toContain('shutdown-timeout 3\n')
    expect(text).toContain('shutdown-on-sigint default\n')
  })
})

describe('rdbcompression and rdbchecksum', () => {
  it('no: strings stored plain, eight zero checksum bytes; Redis and FlashKV load the file', async () => {
    const dir = tempDir()
    const f = await client(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir, '--rdbchecksum', 'no'] }))
    expect(await f.config('GET', 'rdbchecksum')).toEqual(['rdbchecksum', 'no'])
    expect(await f.config('GET', 'rdbcompression')).toEqual(['rdbcompression', 'yes'])
    const long = 'a'.repeat(200)
    await f.set('long', long)
    await f.save()
    let file = readFileSync(join(dir, 'dump.rdb'))
    expect(file.subarray(file.length - 8)).toEqual(Buffer.alloc(8))
    expect(file.includes(long)).toBe(false)
    expect(await f.config('SET', 'rdbcompression', 'no')).toBe('OK')
    expect(await f.bgsave()).toBe('Background saving started')
    await bgsaveDone(f)
    file = readFileSync(join(dir, 'dump.rdb'))
    expect(file.subarray(file.length - 8)).toEqual(Buffer.alloc(8))
    expect(file.includes(long)).toBe(true)
    expect(await strings(await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir])))).toEqual(['long', long])
    expect(await strings(await client(await startFlashKV({ shards: 1, extraArgs: ['--dir', dir] })))).toEqual(['long', long])
    await f.config('SET', 'rdbchecksum', 'yes')
    await f.save()
    file = readFileSync(join(dir, 'dump.rdb'))
    expect(file.subarray(file.length - 8)).not.toEqual(Buffer.alloc(8))
    expect(execFileSync('redis-check-rdb', [join(dir, 'dump.rdb')], { encoding: 'utf8' })).toContain('RDB looks OK')
  })
})

describe('stop-writes-on-bgsave-error', () => {
  it('after a failed BGSAVE writes and PING get MISCONF until a save succeeds; reads still answer', async () => {
    const dir = tempDir()
    const f = await client(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir, '--save', '3600 1'] }))
    await f.set('k', 'v')
    rmSync(dir, { recursive: true })
    expect(await f.bgsave()).toBe('Background saving started')
    expect((await bgsaveDone(f)).rdb_last_bgsave_status).toBe('err')
    await expect(f.set('k', 'w')).rejects.toThrow(MISCONF)
    await expect(f.ping()).rejects.toThrow(MISCONF)
    expect(await f.get('k')).toBe('v')
    expect(await f.config('SET', 'stop-writes-on-bgsave-error', 'no')).toBe('OK')
    expect(await f.set('k', 'w')).toBe('OK')
    expect(await f.config('SET', 'stop-writes-on-bgsave-error', 'yes')).toBe('OK')
    await expect(f.set('k', 'x')).rejects.toThrow(MISCONF)
    // Without save points Redis does not refuse writes either.
    expect(await f.config('SET', 'save', '')).toBe('OK')
    expect(await f.set('k', 'x')).toBe('OK')
    expect(await f.config('SET', 'save', '3600 1')).toBe('OK')
    await expect(f.set('k', 'y')).rejects.toThrow(MISCONF)
    mkdirSync(dir)
    // A SAVE that works ends it too (rdbSave sets the status to ok).
    expect(await f.save()).toBe('OK')
    expect(await f.set('k', 'y')).toBe('OK')
    expect(await f.bgsave()).toBe('Background saving started')
    expect((await bgsaveDone(f)).rdb_last_bgsave_status).toBe('ok')
    expect(await f.set('k', 'y')).toBe('OK')
  })
})
