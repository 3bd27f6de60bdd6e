// The append-only file (persistence/aof*.ts), with a real redis-server 7.0 on the other end:
// kill -9 under write load loses no acknowledged write with appendfsync always, and only a
// suffix with everysec; Redis loads FlashKV's multi-part AOF and FlashKV loads Redis's (base RDB
// plus an incremental file after a rewrite) with the same data; the incremental file holds the
// effects Redis writes for the same commands; a truncated tail loads as aof-load-truncated says;
// BGREWRITEAOF under concurrent writes leaves a directory that restarts with exactly the data.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, readFileSync, appendFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const dirs: string[] = []
const servers: ServerHandle[] = []
afterAll(async () => {
  await Promise.all(servers.map(async s => await s.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'flashkv-aof-'))
  dirs.push(d)
  return d
}

async function track (s: Promise<ServerHandle>): Promise<ServerHandle> {
  const h = await s
  servers.push(h)
  return h
}

const text = async (c: RawClient, ...args: string[]): Promise<string> => (await c.command(...args)).toString('latin1')
const AOF = (dir: string, ...more: string[]): string[] => ['--dir', dir, '--appendonly', 'yes', ...more]

/** Writes of every type over several databases, some keys with a TTL. */
const DATA: string[][] = [
  ['SET', 'str', 'hello'], ['SET', 'int', '12345'], ['SET', 'ttl', 'v', 'EX', '10000'], ['INCRBYFLOAT', 'float', '1.25'],
  ['RPUSH', 'list', ...Array.from({ length: 300 }, (_, i) => `e${i}`)], ['HSET', 'hash', 'f', 'v', 'n', '1'], ['HINCRBYFLOAT', 'hash', 'x', '0.5'],
  ['SADD', 'ints', '1', '2', '3'], ['SADD', 'strs', 'a', 'b'], ['ZADD', 'z', '1', 'a', '2.5', 'b'], ['PFADD', 'hll', 'a', 'b', 'c'],
  ['XADD', 'stream', '1-1', 'f', 'v'], ['XADD', 'stream', '*', 'g', 'w'], ['XGROUP', 'CREATE', 'stream', 'grp', '0'],
  ['SELECT', '5'], ['SET', 'db5', 'five'], ['HSET', 'h5', 'a', 'b'], ['PEXPIRE', 'h5', '9000000'], ['SELECT', '0'],
]
/** More writes, after a rewrite: they land in the new incremental file. */
const MORE: string[][] = [
  ['SET', 'after', 'rewrite', 'PX', '8000000'], ['LPUSH', 'list', 'head'], ['DEL', 'int'], ['SELECT', '5'], ['RENAME', 'db5', 'db5b'], ['SELECT', '0'],
  ['MULTI'], ['INCR', '{t}a'], ['INCR', '{t}b'], ['EXEC'], ['EVAL', "redis.call('SET', KEYS[1], '1'); redis.call('SET', KEYS[2], '2')", '2', 'sa', 'sb'],
]

/** Everything a comparison reads back (hashtable orders sorted, TTLs as present or not). */
async function snapshot (c: RawClient, dbs = ['0', '5']): Promise<string[]> {
  const out: string[] = []
  for (const db of dbs) {
    await c.command('SELECT', db)
    const keys = (await text(c, 'KEYS', '*')).split('\r\n').filter(l => l !== '' && !l.startsWith('*') && !l.startsWith('$')).sort()
    for (const k of keys) {
      const type = await text(c, 'TYPE', k)
      const ttl = await text(c, 'TTL', k)
      out.push(db, k, type, ttl.startsWith(':-') ? ttl : 'ttl>0')
      const sorted = async (...a: string[]): Promise<string> => (await text(c, ...a)).split('\r\n').sort().join('|')
      if (type === '+string\r\n') out.push(await text(c, 'GET', k))
      else if (type === '+list\r\n') out.push(await text(c, 'LRANGE', k, '0', '-1'))
      else if (type === '+hash\r\n') out.push(await sorted('HGETALL', k))
      else if (type === '+set\r\n') out.push(await sorted('SMEMBERS', k))
      else if (type === '+zset\r\n') out.push(await text(c, 'ZRANGE', k, '0', '-1', 'WITHSCORES'))
      else if (type === '+stream\r\n') out.push(await text(c, 'XRANGE', k, '-', '+'), await text(c, 'XINFO', 'GROUPS', k))
    }
  }
  await c.command('SELECT', '0')
  return out
}

async function run (c: RawClient, cmds: string[][]): Promise<void> { for (const cmd of cmds) await c.command(...cmd) }

async function infoField (c: RawClient, field: string): Promise<string> {
  const info = await text(c, 'INFO', 'persistence')
  return info.match(new RegExp(`${field}:(\\S+)`))?.[1] ?? ''
}

async function rewriteDone (c: RawClient): Promise<void> {
  for (let i = 0; i < 500 && (await infoField(c, 'aof_rewrite_in_progress')) !== '0'; i++) await new Promise(resolve => setTimeout(resolve, 20))
  expect(await infoField(c, 'aof_rewrite_in_progress')).toBe('0')
}

function manifest (dir: string): string { return readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1') }

function lastIncr (dir: string): string {
  const lines = manifest(dir).trim().split('\n').filter(l => l.endsWith('type i'))
  return join(dir, 'appendonlydir', lines[lines.length - 1].split(' ')[1])
}

/** The commands of an AOF commands file, each as its arguments (annotations skipped). */
function commandsOf (path: string): string[][] {
  const b = readFileSync(path)
  const out: string[][] = []
  let p = 0
  const line = (): string => { const e = b.indexOf('\r\n', p); const s = b.toString('latin1', p, e); p = e + 2; return s }
  while (p < b.length) {
    const h = line()
    if (h.startsWith('#')) continue
    const args: string[] = []
    for (let n = Number(h.slice(1)); n > 0; n--) {
      const len = Number(line().slice(1))
      args.push(b.toString('latin1', p, p + len))
      p += len + 2
    }
    out.push(args)
  }
  return out
}

/**
 * Writers on `n` connections, each setting its own keys w<i>:<seq> in pipelined batches and
 * recording every one acknowledged, until `stop()`.
 */
function writers (port: number, n: number): { acked: string[][], stop: () => Promise<void> } {
  const acked: string[][] = Array.from({ length: n }, () => [])
  let isStopping = false
  const loops = Array.from({ length: n }, async (_, w) => {
    const c = await RawClient.connect(port)
    let seq = 0
    try {
      while (!isStopping) {
        const keys = Array.from({ length: 20 }, () => `w${w}:${seq++}`)
        c.send(Buffer.concat(keys.map(k => encodeCommand(['SET', k, 'v']))))
        const replies = await c.readReplies(keys.length, 10_000)
        replies.forEach((r, i) => { if (r.toString('latin1') === '+OK\r\n') acked[w].push(keys[i]) })
      }
    } catch {
      // The server was killed under us: what was acknowledged so far is recorded.
    } finally {
      c.close()
    }
  })
  return { acked, stop: async () => { isStopping = true; await Promise.all(loops) } }
}

/** Which of `keys` exist (EXISTS in batches, one by one where a batch misses some). */
async function existing (c: RawClient, keys: string[]): Promise<boolean[]> {
  const found: boolean[] = []
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500)
    if (await text(c, 'EXISTS', ...batch) === `:${batch.length}\r\n`) { for (const _ of batch) found.push(true); continue }
    for (const k of batch) found.push(await text(c, 'EXISTS', k) === ':1\r\n')
  }
  return found
}

/** Kills the server with SIGKILL mid-load, restarts it on the same directory, returns which acknowledged keys survived. */
async function crashUnderLoad (fsync: string): Promise<{ acked: string[][], present: boolean[][] }> {
  const dir = tempDir()
  const f = await track(startFlashKV({ shards: 3, extraArgs: AOF(dir, '--appendfsync', fsync) }))
  const w = writers(f.port, 4)
  // Load until every writer has had many batches acknowledged, then kill without warning.
  while (w.acked.some(a => a.length < 2000)) await new Promise(resolve => setTimeout(resolve, 10))
  process.kill(f.pid, 'SIGKILL')
  await w.stop()
  const c = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
  const present: boolean[][] = []
  for (const keys of w.acked) present.push(await existing(c, keys))
  c.close()
  return { acked: w.acked, present }
}

describe('AOF durability', () => {
  it('kill -9 under write load with appendfsync always loses no acknowledged write', { timeout: 60_000 }, async () => {
    const { acked, present } = await crashUnderLoad('always')
    expect(acked.flat().length).toBeGreaterThanOrEqual(8000)
    const lost = acked.flatMap((keys, w) => keys.filter((_, i) => !present[w][i]))
    expect(lost).toEqual([])
  })

  it('kill -9 with everysec: what is lost of the acknowledged writes is a suffix of each client\'s, never a hole', { timeout: 60_000 }, async () => {
    const { acked, present } = await crashUnderLoad('everysec')
    expect(acked.flat().length).toBeGreaterThanOrEqual(8000)
    for (const found of present) {
      const firstLost = found.indexOf(false)
      if (firstLost >= 0) expect(found.slice(firstLost).every(p => !p)).toBe(true)
    }
  })
})

describe('AOF files and Redis 7.0', () => {
  it('Redis loads FlashKV\'s multi-part AOF (base RDB + increments) with the same data; redis-check-aof accepts it', async () => {
    const dir = tempDir()
    const f = await RawClient.connect((await track(startFlashKV({ shards: 4, extraArgs: AOF(dir) }))).port)
    await run(f, DATA)
    expect(await text(f, 'BGREWRITEAOF')).toBe('+Background append only file rewriting started\r\n')
    await rewriteDone(f)
    await run(f, MORE)
    const mine = await snapshot(f)
    expect(manifest(dir)).toBe('file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n')
    expect(execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toContain('All AOF files and manifest are valid')
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))).port)
    expect(await snapshot(r)).toEqual(mine)
    // And FlashKV on its own directory, with another shard count.
    const f2 = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
    expect(await snapshot(f2)).toEqual(mine)
  })

  it('with aof-use-rdb-preamble no the base is commands: redis-check-aof accepts it, Redis and FlashKV load it with the same data', async () => {
    const dir = tempDir()
    const f = await RawClient.connect((await track(startFlashKV({ shards: 3, extraArgs: AOF(dir, '--aof-use-rdb-preamble', 'no') }))).port)
    await run(f, DATA)
    expect(await text(f, 'BGREWRITEAOF')).toBe('+Background append only file rewriting started\r\n')
    await rewriteDone(f)
    await run(f, MORE)
    const mine = await snapshot(f)
    expect(manifest(dir)).toBe('file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n')
    expect(execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toContain('All AOF files and manifest are valid')
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))).port)
    expect(await snapshot(r)).toEqual(mine)
    const f2 = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
    expect(await snapshot(f2)).toEqual(mine)
  })

  it('FlashKV loads the directory Redis wrote (base RDB after a rewrite, then an incremental file of commands)', async () => {
    const dir = tempDir()
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))).port)
    await run(r, DATA)
    expect(await text(r, 'BGREWRITEAOF')).toBe('+Background append only file rewriting started\r\n')
    await rewriteDone(r)
    await run(r, MORE)
    const theirs = await snapshot(r)
    expect(commandsOf(lastIncr(dir)).length).toBeGreaterThan(5)
    const f = await RawClient.connect((await track(startFlashKV({ shards: 3, extraArgs: AOF(dir) }))).port)
    expect(await snapshot(f)).toEqual(theirs)
  })

  // Scripts run inside a shard worker (scripting/in-shard.ts): at one shard all, at four those
  // whose keys share a shard. At four the EVALSHA of INCR then a SET on another shard stops in
  // the worker after its INCR, is undone (its AOF unit dropped) and runs held: one INCR logged.
  const far = 'local n = redis.call("incr", KEYS[1]) redis.call("set", ARGV[1], n) return n'
  const near = 'local n = redis.call("incr", KEYS[1]) redis.call("set", KEYS[2], n) return n'
  const sha = (body: string): string => createHash('sha1').update(body).digest('hex')
  const farKey = keysOnShard((shardOfKey('{u}c', 4) + 1) % 4, 4, 1, 'far')[0]
  it.each([1, 4])('the incremental file holds the effects Redis writes for the same commands (%i shards)', async shards => {
    const seq: string[][] = [
      ['SET', 'k', 'v', 'EX', '100'], ['SETEX', 'k2', '100', 'v'], ['EXPIRE', 'k', '200'], ['INCRBYFLOAT', 'fl', '1.5'],
      ['HINCRBYFLOAT', 'h', 'f', '2.5'], ['SET', 'gone', '1', 'PX', '1'], ['SADD', 's', 'only'], ['SPOP', 's'],
      ['RPUSH', 'l', 'a'], ['BLPOP', 'l', '0'], ['DEL', 'nosuchkey'], ['MULTI'], ['SET', '{t}a', '1'], ['SET', '{t}b', '2'], ['EXEC'],
      ['MULTI'], ['SET', 'one', '1'], ['EXEC'], ['EVAL', "redis.call('SET', KEYS[1], 'x'); redis.call('INCR', KEYS[2])", '2', '{e}1', '{e}2'],
      ['EVAL', "redis.call('SET', KEYS[1], 'y')", '1', 'single'],
      ['SCRIPT', 'LOAD', far], ['SCRIPT', 'LOAD', near], ['EVALSHA', sha(far), '1', '{u}c', farKey], ['EVALSHA', sha(far), '1', '{u}c', farKey],
      ['EVALSHA', sha(near), '2', '{u}c', '{u}d'], ['EVALSHA', sha(near), '2', '{u}c', '{u}d'],
    ]
    const effects = async (c: RawClient, dir: string): Promise<string[]> => {
      for (const cmd of seq) {
        await c.command(...cmd)
        // The key set with PX 1 has expired once it is read again: its deletion is logged.
        if (cmd[1] === 'gone') { await new Promise(resolve => setTimeout(resolve, 20)); await c.command('GET', 'gone') }
      }
      // Only the effects: SELECTs come where each writer's chunk starts, and times differ.
      return commandsOf(lastIncr(dir)).filter(a => a[0] !== 'SELECT').map(a => a.map(x => /^\d{13}$/.test(x) ? '<ms>' : x).join(' '))
    }
    const fdir = tempDir()
    const rdir = tempDir()
    const f = await RawClient.connect((await track(startFlashKV({ shards, extraArgs: AOF(fdir, '--appendfsync', 'always') }))).port)
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', rdir]))).port)
    const theirs = await effects(r, rdir)
    const mine = await effects(f, fdir)
    expect(theirs).toContain('SET k v PXAT <ms>')
    expect(theirs).toContain('SET fl 1.5 KEEPTTL')
    expect(theirs).toContain('DEL gone')
    expect(mine).toEqual(theirs)
  })
})

describe('AOF and functions', () => {
  it('FUNCTION LOAD/DELETE/FLUSH/RESTORE go to the incremental file as Redis writes them; a restart from the increments alone has the libraries, in FlashKV and in Redis', async () => {
    const lib = (name: string, fn: string, ret: string): string => `#!lua name=${name}\nredis.register_function('${fn}', function () return ${ret} end)`
    const seq = async (c: RawClient): Promise<void> => {
      await c.command('FUNCTION', 'LOAD', lib('one', 'f1', '1'))
      await c.command('FUNCTION', 'LOAD', lib('two', 'f2', '2'))
      // Refused: nothing logged.
      await c.command('FUNCTION', 'LOAD', lib('one', 'f1', '11'))
      await c.command('FUNCTION', 'DELETE', 'nosuchlib')
      await c.command('FUNCTION', 'DELETE', 'two')
      await c.command('SET', 'k', 'v')
      const dump = await c.command('FUNCTION', 'DUMP')
      const payload = dump.subarray(dump.indexOf('\r\n') + 2, dump.length - 2)
      await c.command('FUNCTION', 'FLUSH')
      expect(await text(c, 'FUNCTION', 'RESTORE', payload)).toBe('+OK\r\n')
      await c.command('FUNCTION', 'LOAD', 'REPLACE', lib('one', 'f1', '111'))
      await c.command('FUNCTION', 'LOAD', lib('three', 'f3', '3'))
    }
    const effects = (dir: string): string[] =>
      commandsOf(lastIncr(dir)).filter(a => a[0] !== 'SELECT').map(a => (a[1] === 'RESTORE' ? a.slice(0, 2) : a).join(' '))
    const fdir = tempDir()
    const rdir = tempDir()
    const fh = await track(startFlashKV({ shards: 3, extraArgs: AOF(fdir) }))
    const f = await RawClient.connect(fh.port)
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', rdir]))).port)
    await seq(r)
    await seq(f)
    const theirs = effects(rdir)
    expect(theirs).toContain('FUNCTION DELETE two')
    expect(theirs).toContain('FUNCTION RESTORE')
    expect(effects(fdir)).toEqual(theirs)
    // One library at a time: Redis lists them in its dict's order, which depends on the order they were made.
    const list = async (c: RawClient): Promise<string> => (await text(c, 'FUNCTION', 'LIST', 'LIBRARYNAME', 'one', 'WITHCODE')) + (await text(c, 'FUNCTION', 'LIST', 'LIBRARYNAME', 'three', 'WITHCODE'))
    const listed = await list(f)
    expect(listed).toBe(await list(r))
    await fh.stop()
    // Only increments in the directory (no rewrite since the base was made empty): the libraries come back.
    const again = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(fdir) }))).port)
    expect(await list(again)).toBe(listed)
    expect(await text(again, 'FCALL', 'f1', '0')).toBe(':111\r\n')
    expect(await text(again, 'FCALL', 'f3', '0')).toBe(':3\r\n')
    expect(await text(again, 'GET', 'k')).toBe('$1\r\nv\r\n')
    const redisLoads = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', fdir]))).port)
    expect(await list(redisLoads)).toBe(listed)
    expect(await text(redisLoads, 'FCALL', 'f2', '0')).toBe('-ERR Function not found\r\n')
  })
})

/**
 * FlashKV (`shards`) and Redis, each with appendonly on an empty directory, after `seq` ran on
 * each. appendfsync always: everysec may hold Redis's write back while an fsync runs.
 */
async function sideBySide (shards: number, seq: (c: RawClient) => Promise<void>): Promise<{ fh: ServerHandle, f: RawClient, r: RawClient, fdir: string, rdir: string }> {
  const fdir = tempDir()
  const rdir = tempDir()
  const fh = await track(startFlashKV({ shards, extraArgs: AOF(fdir, '--appendfsync', 'always') }))
  const f = await RawClient.connect(fh.port)
  const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', rdir]))).port)
  await seq(r)
  await seq(f)
  return { fh, f, r, fdir, rdir }
}

describe('AOF and scripts', () => {
  for (const shards of [1, 4]) {
    it(`a script's FLUSHALL, FLUSHDB and SWAPDB go into its MULTI/EXEC block in place, as Redis writes them; a restart has the same data (${shards} shard${shards === 1 ? '' : 's'})`, async () => {
      const seq = async (c: RawClient): Promise<void> => {
        await run(c, [['SET', 'pre', '1'], ['SELECT', '1'], ['SET', 'd1', 'x'], ['SELECT', '0']])
        await c.command('EVAL', "redis.call('set', KEYS[1], 'a') redis.call('flushall') redis.call('set', KEYS[2], 'b') return 1", '2', 'k1', 'k2')
        await c.command('EVAL', "redis.call('select', 1) redis.call('set', 'x', '1') redis.call('set', 'z', '1') redis.call('flushdb') redis.call('set', 'y', '2') return redis.call('swapdb', 0, 1)", '0')
        await c.command('EVAL', "redis.call('set', KEYS[1], 'c') return redis.call('flushdb', 'async')", '1', 'k3')
        await c.command('EVAL', "return redis.call('flushall', 'bad')", '0')
        await run(c, [['SET', 'post', '1']])
      }
      // SELECT left out: each of FlashKV's writes starts with its own, where Redis selects only when the database changes (the same effect).
      const effects = (dir: string): string[] => commandsOf(lastIncr(dir)).filter(a => a[0] !== 'SELECT').map(a => a.join(' '))
      const contents = async (c: RawClient): Promise<string[]> => {
        const out: string[] = []
        for (const db of ['0', '1']) {
          await c.command('SELECT', db)
          out.push(db, (await text(c, 'KEYS', '*')).split('\r\n').sort().join('|'))
        }
        return out
      }
      const { fh, f, r, fdir, rdir } = await sideBySide(shards, seq)
      const theirs = effects(rdir)
      expect(theirs).toContain('flushall')
      expect(effects(fdir)).toEqual(theirs)
      const data = await contents(r)
      expect(await contents(f)).toEqual(data)
      await fh.stop()
      const again = await RawClient.connect((await track(startFlashKV({ shards, extraArgs: AOF(fdir) }))).port)
      expect(await contents(again)).toEqual(data)
    })
  }
})

describe('AOF and transactions', () => {
  for (const shards of [1, 4]) {
    it(`an EXEC across shards is one MULTI/EXEC block, with one FLUSHALL, FLUSHDB or SWAPDB in its place; Redis and FlashKV load it with the data it left (${shards} shard${shards === 1 ? '' : 's'})`, { timeout: 30_000 }, async () => {
      // Keys on every shard of 4 (with 1, all on the one).
      const k = [0, 1, 2, 3].map(s => keysOnShard(s, 4, 1, 'tx:')[0])
      const seq = async (c: RawClient): Promise<void> => {
        await run(c, [['SET', 'pre', '1'], ['SELECT', '1'], ['SET', 'd1', 'x'], ['SELECT', '0']])
        const txns: string[][][] = [
          [['SET', k[0], 'a'], ['SET', k[1], 'b'], ['INCR', k[2]], ['EXPIRE', k[3], '100']],
          // The FLUSHALL must replay after k[1] and before k[0] and k[2].
          [['SET', k[1], 'x'], ['FLUSHALL'], ['SET', k[0], 'y'], ['SELECT', '1'], ['SET', k[2], 'z'], ['SELECT', '0']],
          [['SET', k[3], 'w'], ['SET', k[1], 'v'], ['SWAPDB', '0', '1'], ['SET', k[0], 'after']],
          [['SELECT', '1'], ['RPUSH', k[0], 'e'], ['SET', k[1], '1', 'EX', '100'], ['FLUSHDB'], ['SET', k[3], 'q'], ['SELECT', '0']],
          [['SET', k[2], 'only']],
          // A SWAPDB that fails logs nothing: one effect, no block.
          [['SWAPDB', '0', '16'], ['SET', k[1], 'after-failed-swapdb']],
        ]
        for (const t of txns) {
          await c.command('MULTI')
          for (const cmd of t) await c.command(...cmd)
          await c.command('EXEC')
        }
        await run(c, [['SET', 'post', '1']])
      }
      // Each block's effects in order, SELECTs left out and the commands between two barriers
      // sorted (FlashKV runs a transaction's commands shard by shard between them).
      const blocks = (dir: string): string[] => {
        const out: string[] = []
        let run: string[] = []
        const cut = (): void => { out.push(...run.sort()); run = [] }
        for (const a of commandsOf(lastIncr(dir))) {
          const c = a.join(' ').replace(/ PXAT \d+$/, ' PXAT t').replace(/^PEXPIREAT (\S+) \d+$/, 'PEXPIREAT $1 t')
          if (a[0] === 'SELECT') continue
          if (['MULTI', 'EXEC', 'FLUSHALL', 'FLUSHDB', 'SWAPDB', 'flushall', 'flushdb', 'swapdb'].includes(a[0])) { cut(); out.push(c) } else run.push(c)
        }
        cut()
        return out
      }
      const contents = async (c: RawClient): Promise<string[]> => {
        const out: string[] = []
        for (const db of ['0', '1']) {
          await c.command('SELECT', db)
          const keys = (await text(c, 'KEYS', '*')).split('\r\n').filter(l => l !== '' && !l.startsWith('*') && !l.startsWith('$')).sort()
          for (const key of keys) out.push(db, key, await text(c, 'TYPE', key))
        }
        await c.command('SELECT', '0')
        return out
      }
      const { fh, f, r, fdir, rdir } = await sideBySide(shards, seq)
      const theirs = blocks(rdir)
      expect(theirs.filter(c => c === 'MULTI').length).toBe(4)
      expect(blocks(fdir)).toEqual(theirs)
      const data = await contents(r)
      expect(await contents(f)).toEqual(data)
      expect(execFileSync('redis-check-aof', [join(fdir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toContain('All AOF files and manifest are valid')
      await fh.stop()
      const again = await RawClient.connect((await track(startFlashKV({ shards, extraArgs: AOF(fdir) }))).port)
      expect(await contents(again)).toEqual(data)
      const redisOnOurs = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', fdir]))).port)
      expect(await contents(redisOnOurs)).toEqual(data)
    })
  }
})

describe('AOF and transactions under a crash', () => {
  it('kill -9 under EXECs across shards, watched and not (always): never half a transaction, every acknowledged one kept', { timeout: 60_000 }, async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 3, extraArgs: AOF(dir, '--appendfsync', 'always') }))
    const CLIENTS = 8
    const as = keysOnShard(0, 3, CLIENTS, 'ta:')
    const bs = keysOnShard(1, 3, CLIENTS, 'tb:')
    // Watched keys on the third shard (never written: every EXEC runs), for half the clients.
    const ws = keysOnShard(2, 3, CLIENTS, 'tw:')
    const done = new Array<number>(CLIENTS).fill(0)
    const wrong: string[] = []
    let acked = 0
    let isStopping = false
    const clients = Array.from({ length: CLIENTS }, async (_, i) => {
      const c = await RawClient.connect(f.port)
      try {
        while (!isStopping) {
          const txn = [['MULTI'], ['INCR', as[i]], ['INCR', bs[i]], ['EXEC']]
          if (i % 2 === 1) txn.unshift(['WATCH', ws[i]])
          c.send(Buffer.concat(txn.map(t => encodeCommand(t))))
          const replies = await c.readReplies(txn.length, 10_000)
          const exec = replies[replies.length - 1].toString('latin1')
          if (exec !== `*2\r\n:${done[i] + 1}\r\n:${done[i] + 1}\r\n`) wrong.push(exec)
          done[i]++
          acked++
        }
      } catch {} finally { c.close() }
    })
    while (acked < 2000) await new Promise(resolve => setTimeout(resolve, 10))
    process.kill(f.pid, 'SIGKILL')
    isStopping = true
    await Promise.all(clients)
    expect(wrong).toEqual([])
    // Each transaction is one block in the file.
    const logged = commandsOf(lastIncr(dir)).filter(a => a[0] !== 'SELECT').map(a => a[0])
    const i = logged.indexOf('INCR')
    expect(logged.slice(i - 1, i + 3)).toEqual(['MULTI', 'INCR', 'INCR', 'EXEC'])
    const g = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
    for (let k = 0; k < CLIENTS; k++) {
      const a = Number((await text(g, 'GET', as[k])).split('\r\n')[1] ?? 0)
      const b = Number((await text(g, 'GET', bs[k])).split('\r\n')[1] ?? 0)
      expect(a, `client ${k}`).toBe(b)
      // The acknowledged count, or one more (written, not yet answered).
      expect(a - done[k], `client ${k}`).toBeGreaterThanOrEqual(0)
      expect(a - done[k], `client ${k}`).toBeLessThanOrEqual(1)
    }
  })
})

// MSET, DEL and UNLINK with keys on several shards: each part in one AOF group (Router.sendSplit).
describe('AOF and split writes', () => {
  it('MSET, DEL and UNLINK across shards are one MULTI/EXEC block each; redis-check-aof accepts the file; Redis and FlashKV load it with the live data', { timeout: 30_000 }, async () => {
    const k = [0, 1, 2, 3].map(s => keysOnShard(s, 4, 2, 'sw:'))
    const seq = async (c: RawClient): Promise<void> => {
      await run(c, [
        ['MSET', k[0][0], 'a', k[1][0], 'b', k[2][0], 'c', k[3][0], 'd', k[0][1], 'e'],
        // A shard's part with nothing to delete logs nothing.
        ['DEL', k[0][0], k[1][0], keysOnShard(2, 4, 3, 'sw:')[2]], ['UNLINK', k[2][0], k[3][0]],
        // Two shards, one of them with nothing to delete: the other's DEL alone.
        ['MSET', k[1][1], 'f', k[2][1], 'g'], ['DEL', k[1][1], k[3][1]],
        // All keys on one shard: the command itself, no block.
        ['MSET', k[2][0], 'h', k[2][1], 'i'],
        ['SELECT', '3'], ['MSET', k[0][0], 'x', k[3][0], 'y', k[1][1], 'z'], ['SELECT', '0'],
      ])
    }
    const { fh, f, r, fdir } = await sideBySide(4, seq)
    // Each block's commands, SELECTs left out and the parts sorted (their order in a block is by shard).
    const blocks: string[] = []
    let block: string[] | null = null
    for (const a of commandsOf(lastIncr(fdir))) {
      if (a[0] === 'SELECT') continue
      if (a[0] === 'MULTI') { block = []; continue }
      if (a[0] === 'EXEC') { blocks.push((block as string[]).sort().join(' ; ')); block = null; continue }
      if (block !== null) block.push(a.join(' ').toLowerCase())
      else blocks.push(a.join(' ').toLowerCase())
    }
    const sorted = (...cmds: string[][]): string => cmds.map(c => c.join(' ')).sort().join(' ; ')
    expect(blocks).toEqual([
      sorted(['mset', k[0][0], 'a', k[0][1], 'e'], ['mset', k[1][0], 'b'], ['mset', k[2][0], 'c'], ['mset', k[3][0], 'd']),
      sorted(['del', k[0][0]], ['del', k[1][0]]),
      sorted(['unlink', k[2][0]], ['unlink', k[3][0]]),
      sorted(['mset', k[1][1], 'f'], ['mset', k[2][1], 'g']),
      `del ${k[1][1]}`,
      `mset ${k[2][0]} h ${k[2][1]} i`,
      sorted(['mset', k[0][0], 'x'], ['mset', k[1][1], 'z'], ['mset', k[3][0], 'y']),
    ])
    // Each counts one call, as Redis counts it, though each part ran in its own __exec.
    const calls = async (c: RawClient): Promise<string> => (await text(c, 'INFO', 'commandstats')).split('\r\n')
      .filter(l => /^cmdstat_(mset|del|unlink):/.test(l)).map(l => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, '')).sort().join('\n')
    expect(await calls(f)).toBe(await calls(r))
    const data = await snapshot(r, ['0', '3'])
    expect(await snapshot(f, ['0', '3'])).toEqual(data)
    expect(execFileSync('redis-check-aof', [join(fdir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toContain('All AOF files and manifest are valid')
    await fh.stop()
    const again = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(fdir) }))).port)
    expect(await snapshot(again, ['0', '3'])).toEqual(data)
    const redisOnOurs = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', fdir]))).port)
    expect(await snapshot(redisOnOurs, ['0', '3'])).toEqual(data)
  })

  it('kill -9 under MSET and DEL across shards (always): each whole or not at all after the restart, every acknowledged one kept', { timeout: 60_000 }, async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 3, extraArgs: AOF(dir, '--appendfsync', 'always') }))
    const CLIENTS = 8
    // Round n of client i: MSET of its three keys on the three shards, then DEL of round n-1's.
    const keysOf = (i: number, n: number): string[] => [0, 1, 2].map(s => keysOnShard(s, 3, 1, `ms${i}:${n}:`)[0])
    const acked = new Array<number>(CLIENTS).fill(-1)
    const wrong: string[] = []
    let rounds = 0
    let isStopping = false
    const clients = Array.from({ length: CLIENTS }, async (_, i) => {
      const c = await RawClient.connect(f.port)
      try {
        for (let n = 0; !isStopping; n++) {
          const cmds = [['MSET', ...keysOf(i, n).flatMap(key => [key, `${n}`])]]
          if (n > 0) cmds.push(['DEL', ...keysOf(i, n - 1)])
          c.send(Buffer.concat(cmds.map(t => encodeCommand(t))))
          const replies = (await c.readReplies(cmds.length, 10_000)).map(b => b.toString('latin1')).join('')
          if (replies !== (n > 0 ? '+OK\r\n:3\r\n' : '+OK\r\n')) wrong.push(replies)
          acked[i] = n
          rounds++
        }
      } catch {} finally { c.close() }
    })
    while (rounds < 1500) await new Promise(resolve => setTimeout(resolve, 10))
    process.kill(f.pid, 'SIGKILL')
    isStopping = true
    await Promise.all(clients)
    expect(wrong).toEqual([])
    const g = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
    for (let i = 0; i < CLIENTS; i++) {
      const last = acked[i]
      expect(last, `client ${i}`).toBeGreaterThan(0)
      // Rounds before the last acknowledged were deleted; the last is whole; the next (sent,
      // maybe not answered) is whole or absent, and its DEL of the last took all or nothing.
      expect(await text(g, 'EXISTS', ...keysOf(i, last - 1)), `client ${i}`).toBe(':0\r\n')
      const lastCount = await text(g, 'EXISTS', ...keysOf(i, last))
      const next = await text(g, 'EXISTS', ...keysOf(i, last + 1))
      expect([':0\r\n', ':3\r\n'], `client ${i}`).toContain(next)
      // Its DEL came after the next MSET on the connection: with that MSET absent, it is too.
      if (next === ':0\r\n') expect(lastCount, `client ${i}`).toBe(':3\r\n')
      expect([':0\r\n', ':3\r\n'], `client ${i}`).toContain(lastCount)
      const v = `$${String(last).length}\r\n${last}\r\n`
      if (lastCount === ':3\r\n') expect(await text(g, 'MGET', ...keysOf(i, last)), `client ${i}`).toBe(`*3\r\n${v}${v}${v}`)
      expect(await text(g, 'EXISTS', ...keysOf(i, last + 2)), `client ${i}`).toBe(':0\r\n')
    }
  })
})

describe('AOF groups while shards crash', () => {
  it('MSETs and EXECs across shards are all answered while each shard crashes in turn; then they run whole again and the file loads', { timeout: 90_000 }, async () => {
    const dir = tempDir()
    const fh = await track(startFlashKV({ shards: 4, extraArgs: [...AOF(dir, '--appendfsync', 'always'), '--enable-debug-command', 'yes'] }))
    const admin = await RawClient.connect(fh.port)
    const keys = [0, 1, 2, 3].map(s => keysOnShard(s, 4, 6, 'gc:'))
    const answers = new Map<string, number>()
    let isDone = false
    const race = Array.from({ length: 6 }, async (_, i) => {
      const c = await RawClient.connect(fh.port)
      try {
        while (!isDone) {
          const cmds = [['MSET', keys[0][i], 'a', keys[1][i], 'b', keys[2][i], 'c', keys[3][i], 'd'], ['MULTI'], ['INCR', keys[1][i]], ['SET', keys[3][i], 'x'], ['EXEC'], ['DEL', keys[0][i], keys[2][i]]]
          c.send(Buffer.concat(cmds.map(a => encodeCommand(a))))
          for (const r of await c.readReplies(cmds.length, 60_000)) {
            const t = r.toString('latin1')
            const kind = t.startsWith('-CLUSTERDOWN') ? 'down' : t.startsWith('-EXECABORT') ? 'abort' : t.startsWith('-') ? t : 'ok'
            answers.set(kind, (answers.get(kind) ?? 0) + 1)
          }
        }
      } finally { c.close() }
    })
    for (const shard of [3, 0, 2, 1]) {
      await new Promise(resolve => setTimeout(resolve, 200))
      let reply = ''
      for (let tries = 0; tries < 600 && reply !== '+OK\r\n'; tries++) {
        reply = await text(admin, 'DEBUG', 'CRASH-SHARD', String(shard))
        if (reply !== '+OK\r\n') await new Promise(resolve => setTimeout(resolve, 50))
      }
      expect(reply).toBe('+OK\r\n')
    }
    await new Promise(resolve => setTimeout(resolve, 300))
    isDone = true
    await Promise.all(race)
    expect([...answers.keys()].filter(k => k !== 'ok' && k !== 'down' && k !== 'abort')).toEqual([])
    expect(answers.get('ok') ?? 0).toBeGreaterThan(100)
    // Every shard back: the group runs whole again, and goes into the file.
    let reply = ''
    for (let tries = 0; tries < 600 && reply !== '+OK\r\n'; tries++) {
      reply = await text(admin, 'MSET', keys[0][0], 'end0', keys[1][0], 'end1', keys[2][0], 'end2', keys[3][0], 'end3')
      if (reply !== '+OK\r\n') await new Promise(resolve => setTimeout(resolve, 50))
    }
    expect(reply).toBe('+OK\r\n')
    const live = await snapshot(admin)
    await fh.stop()
    expect(execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toContain('All AOF files and manifest are valid')
    const again = await RawClient.connect((await track(startFlashKV({ shards: 4, extraArgs: AOF(dir) }))).port)
    expect(await text(again, 'MGET', keys[0][0], keys[1][0], keys[2][0], keys[3][0])).toBe('*4\r\n$4\r\nend0\r\n$4\r\nend1\r\n$4\r\nend2\r\n$4\r\nend3\r\n')
    expect(await snapshot(again)).toEqual(live)
  })
})

describe('AOF and concurrent cross-shard writes', () => {
  it('clients racing transactions (watched and not), moves and plain writes over shared keys on 4 shards: FlashKV and Redis reload exactly the live data', { timeout: 60_000 }, async () => {
    const dir = tempDir()
    const fh = await track(startFlashKV({ shards: 4, extraArgs: AOF(dir, '--appendfsync', 'everysec') }))
    const KEYS = Array.from({ length: 12 }, (_, i) => `rk:${i}`)
    let seed = 7
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    const key = (): string => KEYS[rnd(KEYS.length)]
    const op = (): string[][] => {
      switch (rnd(7)) {
        case 0: return [['MULTI'], ['INCR', key()], ['SET', key(), `v${rnd(100)}`], ['APPEND', key(), 'x'], ['EXEC']]
        case 1: return [['WATCH', key()], ['MULTI'], ['INCRBY', key(), '3'], ['SET', key(), 'w'], ['EXEC']]
        case 2: return [['RENAME', key(), key()]]
        case 3: return [['MULTI'], ['DEL', key()], ['SELECT', '5'], ['SET', key(), 'five'], ['SELECT', '0'], ['RPUSH', `list:${rnd(3)}`, 'e'], ['EXEC']]
        case 4: return [['MSET', key(), 'm1', key(), 'm2', key(), 'm3']]
        case 5: return [['LMOVE', `list:${rnd(3)}`, `list:${rnd(3)}`, 'LEFT', 'RIGHT']]
        default: return [['SET', key(), `s${rnd(1000)}`]]
      }
    }
    await Promise.all(Array.from({ length: 8 }, async () => {
      const c = await RawClient.connect(fh.port)
      for (let i = 0; i < 250; i++) {
        const cmds = op()
        c.send(Buffer.concat(cmds.map(a => encodeCommand(a))))
        await c.readReplies(cmds.length, 10_000)
      }
      c.close()
    }))
    const f = await RawClient.connect(fh.port)
    const live = await snapshot(f)
    expect(live.length).toBeGreaterThan(10)
    await fh.stop()
    expect(execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toContain('All AOF files and manifest are valid')
    const again = await RawClient.connect((await track(startFlashKV({ shards: 3, extraArgs: AOF(dir) }))).port)
    expect(await snapshot(again)).toEqual(live)
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))).port)
    expect(await snapshot(r)).toEqual(live)
  })
})

describe('AOF settings', () => {
  it('CONFIG GET/SET of the aof settings answer as Redis does', async () => {
    const f = await RawClient.connect((await track(startFlashKV({ shards: 2 }))).port)
    const r = await RawClient.connect((await track(startRedis())).port)
    const cmds = [
      ['CONFIG', 'GET', 'append*'], ['CONFIG', 'GET', 'aof-*'], ['CONFIG', 'GET', 'auto-aof-rewrite-*'],
      ['CONFIG', 'SET', 'appendfsync', 'always'], ['CONFIG', 'GET', 'appendfsync'], ['CONFIG', 'SET', 'appendfsync', 'sometimes'],
      ['CONFIG', 'SET', 'appenddirname', 'x'], ['CONFIG', 'SET', 'auto-aof-rewrite-min-size', '1mb'], ['CONFIG', 'GET', 'auto-aof-rewrite-min-size'],
      ['CONFIG', 'SET', 'aof-timestamp-enabled', 'maybe'],
    ]
    const sorted = (s: string): string => s.split('\r\n').sort().join('|')
    for (const cmd of cmds) expect(sorted(await text(f, ...cmd))).toBe(sorted(await text(r, ...cmd)))
  })

  it('CONFIG SET appendonly yes makes the base with a rewrite, as Redis does; a restart with appendonly yes has the data', async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 2, extraArgs: ['--dir', dir] }))
    const c = await RawClient.connect(f.port)
    await run(c, DATA)
    expect(await infoField(c, 'aof_enabled')).toBe('0')
    expect(await text(c, 'CONFIG', 'SET', 'appendonly', 'yes')).toBe('+OK\r\n')
    expect(await infoField(c, 'aof_enabled')).toBe('1')
    for (let i = 0; i < 500 && (await infoField(c, 'aof_rewrites')) !== '1'; i++) await new Promise(resolve => setTimeout(resolve, 20))
    await rewriteDone(c)
    await run(c, MORE)
    const mine = await snapshot(c)
    c.close()
    await f.stop()
    const c2 = await RawClient.connect((await track(startFlashKV({ shards: 3, extraArgs: AOF(dir) }))).port)
    expect(await snapshot(c2)).toEqual(mine)
  })
})

describe('AOF loading', () => {
  it('a truncated last command loads with aof-load-truncated yes (the file is cut there) and stops the start with no', async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))
    const c = await RawClient.connect(f.port)
    await run(c, [['SET', 'a', '1'], ['SET', 'b', '2']])
    c.close()
    await f.stop()
    const incr = lastIncr(dir)
    const whole = statSync(incr).size
    appendFileSync(incr, '*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1')
    const f2 = await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))
    const c2 = await RawClient.connect(f2.port)
    expect(await text(c2, 'MGET', 'a', 'b', 'c')).toBe('*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n')
    c2.close()
    expect(f2.logs()).toContain('!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!')
    expect(statSync(incr).size).toBe(whole)
    await f2.stop()
    appendFileSync(incr, '*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1')
    await expect(startFlashKV({ shards: 2, extraArgs: AOF(dir, '--aof-load-truncated', 'no') }))
      .rejects.toThrow("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.")
  })

  it('a file that ends inside MULTI is cut at the MULTI, as Redis reverts it (DISCARD ends no block there); complete blocks replay', async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))
    const c = await RawClient.connect(f.port)
    await run(c, [['SET', 'a', '1'], ['MULTI'], ['SET', 'b', '2'], ['INCR', 'a'], ['EXEC']])
    c.close()
    await f.stop()
    const incr = lastIncr(dir)
    const cmd = (...a: string[]): string => encodeCommand(a).toString('latin1')
    appendFileSync(incr, cmd('MULTI') + cmd('SET', 'f', '6') + cmd('INCR', 'a') + cmd('EXEC'))
    const whole = statSync(incr).size
    // Redis's loader queues everything but EXEC inside MULTI: a DISCARD ends nothing.
    const open = cmd('MULTI') + cmd('SET', 'c', '3') + cmd('SET', 'd', '4') + cmd('DISCARD') + cmd('SET', 'e', '5')
    appendFileSync(incr, open)
    const expected = '*6\r\n$1\r\n3\r\n$1\r\n2\r\n$-1\r\n$-1\r\n$-1\r\n$1\r\n6\r\n'
    const f2 = await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))
    const c2 = await RawClient.connect(f2.port)
    expect(await text(c2, 'MGET', 'a', 'b', 'c', 'd', 'e', 'f')).toBe(expected)
    c2.close()
    expect(f2.logs()).toContain('Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof')
    expect(f2.logs()).toContain('!!! Truncating the AOF appendonly.aof.1.incr.aof at offset ' + String(whole) + ' !!!')
    expect(statSync(incr).size).toBe(whole)
    await f2.stop()
    // Redis reads the same bytes the same way.
    appendFileSync(incr, open)
    const copy = tempDir()
    execFileSync('cp', ['-r', join(dir, 'appendonlydir'), copy])
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', copy]))).port)
    expect(await text(r, 'MGET', 'a', 'b', 'c', 'd', 'e', 'f')).toBe(expected)
    r.close()
    await expect(startFlashKV({ shards: 2, extraArgs: AOF(dir, '--aof-load-truncated', 'no') }))
      .rejects.toThrow('Unexpected end of file reading the append only file appendonly.aof.1.incr.aof.')
  })

  it('nothing expires while the file replays, as in Redis: writes to keys whose time has passed since meet the keys they met', { timeout: 30_000 }, async () => {
    // A directory Redis wrote, then commands whose keys' times passed before this restart.
    const dir = tempDir()
    const r0 = await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))
    const c0 = await RawClient.connect(r0.port)
    await c0.command('SET', 'dumped', 'payload')
    const dump = await c0.command('DUMP', 'dumped')
    const payload = dump.subarray(dump.indexOf('\r\n') + 2, dump.length - 2)
    c0.close()
    await r0.stop()
    const past = String(Date.now() - 60_000)
    const more: Array<Array<string | Buffer>> = [
      ['SET', 'k', 'v', 'PXAT', past], ['APPEND', 'k', 'x'], ['SET', 'kept', 'v', 'PXAT', past], ['PERSIST', 'kept'],
      ['SADD', 's', 'm'], ['PEXPIREAT', 's', past], ['SADD', 's', 'n'], ['SADD', 's2', 'm'], ['PEXPIREAT', 's2', past], ['PERSIST', 's2'],
      ['RPUSH', 'l', 'a', 'b'], ['PEXPIREAT', 'l', past], ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'],
      ['RESTORE', 'r', past, payload, 'ABSTTL'], ['PERSIST', 'r'], ['GETEX', 'k', 'PXAT', past], ['SET', 'g', '1'], ['GETEX', 'g', 'PXAT', past], ['PERSIST', 'g'],
    ]
    appendFileSync(lastIncr(dir), Buffer.concat(more.map(a => encodeCommand(a))))
    const copy = tempDir()
    execFileSync('cp', ['-r', join(dir, 'appendonlydir'), copy])
    const reads = async (c: RawClient): Promise<string[]> => {
      const out: string[] = []
      for (const a of [['EXISTS', 'k', 's', 'l', 'kept', 's2', 'l2', 'r', 'g'], ['MGET', 'k', 'kept', 'r', 'g'], ['SMEMBERS', 's'], ['SMEMBERS', 's2'], ['LRANGE', 'l', '0', '-1'], ['LRANGE', 'l2', '0', '-1'], ['TTL', 'kept'], ['TTL', 'r']]) out.push(await text(c, ...a))
      return out
    }
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', copy]))).port)
    const theirs = await reads(r)
    r.close()
    expect(theirs[1]).toBe('*4\r\n$-1\r\n$1\r\nv\r\n$7\r\npayload\r\n$1\r\n1\r\n')
    const f = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
    expect(await reads(f)).toEqual(theirs)
    f.close()
  })

  it('an AOF base keeps keys whose time has passed while the increments replay (Redis\'s preamble does)', { timeout: 30_000 }, async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))
    const c = await RawClient.connect(f.port)
    // Times far enough ahead that the base surely has both keys, even on a loaded box.
    const until = Date.now() + 4000
    await run(c, [['SET', 'x', 'v', 'PXAT', String(until)], ['SET', 'y', 'w', 'PXAT', String(until)]])
    expect(await text(c, 'BGREWRITEAOF')).toBe('+Background append only file rewriting started\r\n')
    await rewriteDone(c)
    c.close()
    await f.stop()
    // x's time passes after the base was written; the increment (as if written just before) clears it.
    appendFileSync(lastIncr(dir), encodeCommand(['PERSIST', 'x']))
    await new Promise(resolve => setTimeout(resolve, Math.max(0, until - Date.now()) + 200))
    const copy = tempDir()
    execFileSync('cp', ['-r', join(dir, 'appendonlydir'), copy])
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', copy]))).port)
    const theirs = [await text(r, 'MGET', 'x', 'y'), await text(r, 'EXISTS', 'x', 'y')]
    r.close()
    expect(theirs).toEqual(['*2\r\n$1\r\nv\r\n$-1\r\n', ':1\r\n'])
    const g = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
    expect([await text(g, 'MGET', 'x', 'y'), await text(g, 'EXISTS', 'x', 'y')]).toEqual(theirs)
    g.close()
  })

  it('BGREWRITEAOF under concurrent writes: a restart has exactly the data', { timeout: 60_000 }, async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 3, extraArgs: AOF(dir) }))
    const c = await RawClient.connect(f.port)
    const w = writers(f.port, 3)
    const counters = (async () => { for (let i = 0; i < 3000; i++) await c.command('INCR', `ctr${i % 7}`) })()
    // Writers stop once the rewrite is over: the keys they wrote meanwhile straddle its cut.
    while (w.acked.some(a => a.length < 500)) await new Promise(resolve => setTimeout(resolve, 5))
    const c2 = await RawClient.connect(f.port)
    expect(await text(c2, 'BGREWRITEAOF')).toBe('+Background append only file rewriting started\r\n')
    await rewriteDone(c2)
    await counters
    await w.stop()
    const ctrs = Array.from({ length: 7 }, (_, i) => `ctr${i}`)
    const before = [await text(c2, 'DBSIZE'), await text(c2, 'MGET', ...ctrs)]
    expect(before[1]).toBe('*7\r\n' + [429, 429, 429, 429, 428, 428, 428].map(n => `$3\r\n${n}\r\n`).join(''))
    expect(manifest(dir)).toMatch(/^file appendonly\.aof\.2\.base\.rdb seq 2 type b\nfile appendonly\.aof\.2\.incr\.aof seq 2 type i\n$/)
    c.close()
    c2.close()
    await f.stop()
    const c3 = await RawClient.connect((await track(startFlashKV({ shards: 3, extraArgs: AOF(dir) }))).port)
    expect([await text(c3, 'DBSIZE'), await text(c3, 'MGET', ...ctrs)]).toEqual(before)
    const keys = w.acked.flat()
    expect((await existing(c3, keys)).filter(p => !p).length).toBe(0)
  })
})

// RENAME, COPY, LMOVE, RPOPLPUSH and SMOVE with their keys on two shards run as moves with the
// AOF on too (commands/xmove.ts): the destination logs both halves as one MULTI/EXEC block.
describe('AOF and cross-shard moves', () => {
  const movesOf = async (c: RawClient): Promise<number> => Number(/cross_shard_moves:(\d+)/.exec(await text(c, 'INFO', 'shards'))?.[1] ?? NaN)

  it('moves log one block each: redis-check-aof accepts the file, Redis and FlashKV load it with the same data', async () => {
    const dir = tempDir()
    const f = await RawClient.connect((await track(startFlashKV({ shards: 4, extraArgs: AOF(dir, '--appendfsync', 'always') }))).port)
    const [a, a2, a3, a4] = keysOnShard(0, 4, 4, 'src:')
    const [b, b2, b3] = keysOnShard(2, 4, 3, 'dst:')
    const big = 'x'.repeat(100_000)
    const before = await movesOf(f)
    const cmds: string[][] = [
      ['SET', a, 'hello', 'PX', '90000000'], ['RENAME', a, b], ['SET', a, 'again'], ['RENAMENX', a, b], ['RENAMENX', b, a2],
      ['SET', a3, big], ['RENAME', a3, b3], ['COPY', b3, a3], ['COPY', b3, a, 'REPLACE'], ['COPY', a2, b, 'DB', '5'],
      ['DEL', a], ['RPUSH', a, 'e1', 'e2', 'e3', 'e4'], ['RPUSH', b2, 'z'], ['LMOVE', a, b2, 'LEFT', 'RIGHT'], ['LMOVE', a, b2, 'RIGHT', 'LEFT'],
      ['RPOPLPUSH', a, b2], ['LMOVE', a, b2, 'LEFT', 'LEFT'], ['LMOVE', a, b2, 'LEFT', 'LEFT'],
      ['SADD', a4, 'm1', 'm2', 'm3'], ['SADD', b, 'm3'], ['SMOVE', a4, b, 'm1'], ['SMOVE', a4, b, 'm3'], ['SMOVE', a4, b, 'nosuch'],
      ['SELECT', '5'], ['SET', a, 'in5'], ['RENAME', a, b], ['SELECT', '0'],
    ]
    await run(f, cmds)
    expect(await movesOf(f) - before).toBe(16)
    const mine = await snapshot(f)
    // RENAME's block: the destination's state, then the source's DEL.
    const logged = commandsOf(lastIncr(dir)).map(c => c[0] === 'RESTORE' ? `RESTORE ${c[1]}` : c.join(' '))
    const i = logged.indexOf(`RESTORE ${b3}`)
    expect(logged.slice(i - 1, i + 3)).toEqual(['MULTI', `RESTORE ${b3}`, `DEL ${a3}`, 'EXEC'])
    expect(logged).toContain(`RPUSH ${b2} e1`)
    expect(logged).toContain(`SREM ${a4} m3`)
    expect(logged).toContain(`SADD ${b} m1`)
    expect(execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toContain('All AOF files and manifest are valid')
    const r = await RawClient.connect((await track(startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))).port)
    expect(await snapshot(r)).toEqual(mine)
    const f2 = await RawClient.connect((await track(startFlashKV({ shards: 2, extraArgs: AOF(dir) }))).port)
    expect(await snapshot(f2)).toEqual(mine)
  })

  it('kill -9 under RENAME and RPOPLPUSH load across shards (always): no half move, every acknowledged one kept', { timeout: 60_000 }, async () => {
    const dir = tempDir()
    const f = await track(startFlashKV({ shards: 2, extraArgs: AOF(dir, '--appendfsync', 'always') }))
    const setup = await RawClient.connect(f.port)
    const PAIRS = 8
    const from = keysOnShard(0, 2, PAIRS, 'pa:')
    const to = keysOnShard(1, 2, PAIRS, 'pb:')
    const [l0] = keysOnShard(0, 2, 1, 'list:')
    const [l1] = keysOnShard(1, 2, 1, 'list:')
    const ELEMENTS = 200
    for (let i = 0; i < PAIRS; i++) await setup.command('SET', from[i], `v${i}`)
    await setup.command('RPUSH', l0, ...Array.from({ length: ELEMENTS }, (_, i) => `e${i}`))
    const before = await movesOf(setup)
    setup.close()
    // Each pair's client renames it back and forth, one at a time: `at[i]` is where its last
    // acknowledged RENAME put it (0: from, 1: to).
    const at = new Array<number>(PAIRS).fill(0)
    let acked = 0
    let isStopping = false
    const renamers = Array.from({ length: PAIRS }, async (_, i) => {
      const c = await RawClient.connect(f.port)
      try {
        while (!isStopping) {
          const r = await text(c, 'RENAME', at[i] === 0 ? from[i] : to[i], at[i] === 0 ? to[i] : from[i])
          expect(r).toBe('+OK\r\n')
          at[i] ^= 1
          acked++
        }
      } catch {} finally { c.close() }
    })
    const poppers = Array.from({ length: 2 }, async (_, k) => {
      const c = await RawClient.connect(f.port)
      try {
        while (!isStopping) {
          c.send(Buffer.concat(Array.from({ length: 16 }, () => encodeCommand(k === 0 ? ['RPOPLPUSH', l0, l1] : ['RPOPLPUSH', l1, l0]))))
          await c.readReplies(16, 10_000)
        }
      } catch {} finally { c.close() }
    })
    while (acked < 2000) await new Promise(resolve => setTimeout(resolve, 10))
    const c = await RawClient.connect(f.port)
    expect(await movesOf(c) - before).toBeGreaterThan(2000)
    c.close()
    process.kill(f.pid, 'SIGKILL')
    isStopping = true
    await Promise.all([...renamers, ...poppers])
    const g = await RawClient.connect((await track(startFlashKV({ shards: 3, extraArgs: AOF(dir) }))).port)
    for (let i = 0; i < PAIRS; i++) {
      // The acknowledged place, or one RENAME further (sent, written, not yet answered).
      const has = [await text(g, 'GET', from[i]), await text(g, 'GET', to[i])]
      expect(has.filter(v => v === `$${`v${i}`.length}\r\nv${i}\r\n`).length, `pair ${i}`).toBe(1)
      expect(has.filter(v => v === '$-1\r\n').length, `pair ${i}`).toBe(1)
    }
    const elements = [
      ...(await text(g, 'LRANGE', l0, '0', '-1')).split('\r\n').filter(l => l.startsWith('e')),
      ...(await text(g, 'LRANGE', l1, '0', '-1')).split('\r\n').filter(l => l.startsWith('e')),
    ]
    expect(elements.sort()).toEqual(Array.from({ length: ELEMENTS }, (_, i) => `e${i}`).sort())
    g.close()
  })
})
