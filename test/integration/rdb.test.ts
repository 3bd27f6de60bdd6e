// SAVE, LASTSAVE, SHUTDOWN, INFO persistence and loading dump.rdb at start, with a real
// redis-server 7.0.15 on the other end:
// FlashKV's file passes redis-check-rdb and loads into Redis with the same data; Redis's file
// loads into FlashKV (another shard count) with the same data; and a FlashKV restarted on its own
// file gets every type, database and TTL back.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

const dirs: string[] = []
const servers: ServerHandle[] = []
afterAll(async () => {
  await Promise.all(servers.map(async s => await s.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'flashkv-rdb-'))
  dirs.push(d)
  return d
}

async function connect (s: ServerHandle): Promise<RawClient> {
  servers.push(s)
  return await RawClient.connect(s.port, s.host)
}

const text = async (c: RawClient, ...args: string[]): Promise<string> => (await c.command(...args)).toString('latin1')

/** Writes of every type over several databases, some keys with a TTL. */
const DATA: string[][] = [
  ['SET', 'str', 'hello'], ['SET', 'int', '12345'], ['SET', 'big', 'x'.repeat(3000)], ['SET', 'ttl', 'v', 'EX', '10000'],
  ['RPUSH', 'list', ...Array.from({ length: 2000 }, (_, i) => `e${i}`)], ['HSET', 'hash', 'f', 'v', 'n', '1'],
  ['HSET', 'bighash', ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
  ['SADD', 'ints', '1', '2', '3'], ['SADD', 'strs', 'a', 'b'], ['ZADD', 'z', '1', 'a', '2.5', 'b'],
  ['ZADD', 'bigz', ...Array.from({ length: 300 }, (_, i) => [String(i), `m${i}`]).flat()], ['PFADD', 'hll', 'a', 'b', 'c'],
  ['XADD', 'stream', '1-1', 'f', 'v'], ['XADD', 'stream', '2-0', 'g', 'w'], ['XGROUP', 'CREATE', 'stream', 'grp', '0'],
  ['SELECT', '5'], ['SET', 'db5', 'five'], ['HSET', 'h5', 'a', 'b'], ['PEXPIRE', 'h5', '9000000'], ['SELECT', '0'],
]

/** Everything a comparison reads back (hashtable orders sorted). */
async function snapshot (c: RawClient): Promise<string[]> {
  const out: string[] = []
  for (const db of ['0', '5']) {
    await c.command('SELECT', db)
    out.push(await text(c, 'DBSIZE'))
    const keys = (await text(c, 'KEYS', '*')).split('\r\n').filter(l => l !== '' && !l.startsWith('*') && !l.startsWith('$')).sort()
    for (const k of keys) {
      // A string's encoding after a load is tryObjectEncoding's (a PFADD's raw HyperLogLog comes
      // back embstr, in Redis too): compared for the collections only.
      const type = await text(c, 'TYPE', k)
      out.push(k, type, type === '+string\r\n' ? '' : await text(c, 'OBJECT', 'ENCODING', k))
      const ttl = await text(c, 'TTL', k)
      out.push(ttl.startsWith(':-') ? ttl : 'ttl>0')
      const sorted = async (...a: string[]): Promise<string> => (await text(c, ...a)).split('\r\n').sort().join('|')
      out.push(await text(c, 'GET', k).catch(() => ''), await text(c, 'LRANGE', k, '0', '-1'), await sorted('HGETALL', k),
        await sorted('SMEMBERS', k), await text(c, 'ZRANGE', k, '0', '-1', 'WITHSCORES'), await text(c, 'XRANGE', k, '-', '+'),
        await text(c, 'XINFO', 'GROUPS', k))
    }
  }
  await c.command('SELECT', '0')
  return out
}

describe('RDB files', () => {
  it('SAVE writes a file redis-check-rdb accepts and Redis loads with the same data; FlashKV loads it back', async () => {
    const dir = tempDir()
    const f = await connect(await startFlashKV({ shards: 4, extraArgs: ['--dir', dir] }))
    expect(await text(f, 'CONFIG', 'GET', 'dir')).toBe(`*2\r\n$3\r\ndir\r\n$${dir.length}\r\n${dir}\r\n`)
    expect(await text(f, 'CONFIG', 'SET', 'dir', '/')).toBe("-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n")
    for (const c of DATA) await f.command(...c)
    const before = Number((await text(f, 'LASTSAVE')).slice(1))
    expect(await text(f, 'SAVE')).toBe('+OK\r\n')
    expect(Number((await text(f, 'LASTSAVE')).slice(1))).toBeGreaterThanOrEqual(before)
    expect(await text(f, 'MULTI')).toBe('+OK\r\n')
    expect(await text(f, 'SAVE')).toBe('-ERR Command not allowed inside a transaction\r\n')
    await f.command('DISCARD')
    expect(execFileSync('redis-check-rdb', [join(dir, 'dump.rdb')], { encoding: 'utf8' })).toContain('RDB looks OK')
    const mine = await snapshot(f)
    const r = await connect(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir]))
    expect(await snapshot(r)).toEqual(mine)
    const f2 = await connect(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir] }))
    expect(await snapshot(f2)).toEqual(mine)
    expect(await text(f2, 'OBJECT', 'ENCODING', 'hll')).toBe(await text(r, 'OBJECT', 'ENCODING', 'hll'))
  })

  it("Redis's SAVE loads into FlashKV with the same data", async () => {
    const dir = tempDir()
    const r = await connect(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir]))
    for (const c of DATA) await r.command(...c)
    expect(await text(r, 'SAVE')).toBe('+OK\r\n')
    const theirs = await snapshot(r)
    const f = await connect(await startFlashKV({ shards: 3, extraArgs: ['--dir', dir] }))
    expect(await snapshot(f)).toEqual(theirs)
  })

  it('a file that is not an RDB file stops the server from starting', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'dump.rdb'), 'not an rdb file')
    await expect(startFlashKV({ shards: 1, extraArgs: ['--dir', dir] })).rejects.toThrow()
  })

  it('a dir that is missing or a file stops the server from starting, with strerror\'s text, as Redis', async () => {
    const dir = tempDir()
    const missing = join(dir, 'no-such-dir')
    const file = join(dir, 'a-file')
    writeFileSync(file, '')
    for (const [d, reason] of [[missing, 'No such file or directory'], [file, 'Not a directory']]) {
      await expect(startRedis(['--save', '', '--dir', d])).rejects.toThrow(reason)
      await expect(startFlashKV({ shards: 1, extraArgs: ['--dir', d] })).rejects.toThrow(`can't chdir to '${d}': ${reason}`)
    }
    expect(existsSync(missing)).toBe(false)
  })
})

/** Resolves once the process is gone. */
async function exited (pid: number): Promise<void> {
  for (;;) {
    try { process.kill(pid, 0) } catch { return }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('function libraries in the RDB file', () => {
  // One function: Redis lists a library's functions in an order of its own from run to run.
  const LIB = "#!lua name=mylib\nredis.register_function{function_name='myset', callback=function(keys, args) return redis.call('SET', keys[1], args[1]) end, flags={'allow-oom'}}"
  const check = async (c: RawClient): Promise<string[]> => [
    await text(c, 'FUNCTION', 'LIST', 'WITHCODE'), await text(c, 'FCALL', 'myset', '1', 'fk', 'fv'), await text(c, 'GET', 'fk'),
  ]

  it('SAVE writes the libraries; Redis loads them, and so does FlashKV at start, with every I/O thread seeing them', async () => {
    const dir = tempDir()
    const f = await connect(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir] }))
    expect(await text(f, 'FUNCTION', 'LOAD', LIB)).toBe('$5\r\nmylib\r\n')
    expect(await text(f, 'SAVE')).toBe('+OK\r\n')
    const r = await connect(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir]))
    const theirs = await check(r)
    expect(await check(await connect(await startFlashKV({ shards: 3, extraArgs: ['--dir', dir] })))).toEqual(theirs)
    expect(await check(await connect(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir, '--io-threads', '3'] })))).toEqual(theirs)
  })

  it("Redis's libraries load into FlashKV", async () => {
    const dir = tempDir()
    const r = await connect(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir]))
    await r.command('FUNCTION', 'LOAD', LIB)
    expect(await text(r, 'SAVE')).toBe('+OK\r\n')
    const f = await connect(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir] }))
    expect(await check(f)).toEqual(await check(r))
  })
})

describe('SHUTDOWN and INFO persistence', () => {
  it('option errors as Redis gives them; NOSAVE and a plain SHUTDOWN stop the server without a file', async () => {
    const dir = tempDir()
    const s = await startFlashKV({ shards: 2, extraArgs: ['--dir', dir] })
    const f = await connect(s)
    expect(await text(f, 'SHUTDOWN', 'BOGUS')).toBe('-ERR syntax error\r\n')
    expect(await text(f, 'SHUTDOWN', 'SAVE', 'NOSAVE')).toBe('-ERR syntax error\r\n')
    expect(await text(f, 'SHUTDOWN', 'ABORT', 'NOW')).toBe('-ERR syntax error\r\n')
    expect(await text(f, 'SHUTDOWN', 'ABORT')).toBe('-ERR No shutdown in progress.\r\n')
    await f.command('MULTI')
    expect(await text(f, 'SHUTDOWN')).toBe('-ERR Command not allowed inside a transaction\r\n')
    await f.command('DISCARD')
    await f.command('SET', 'k', 'v')
    f.send('*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n')
    expect((await f.readUntilClose(10_000)).closed).toBe(true)
    await exited(s.pid)
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(false)
    const s2 = await startFlashKV({ shards: 2, extraArgs: ['--dir', dir] })
    const f2 = await connect(s2)
    f2.send('*1\r\n$8\r\nSHUTDOWN\r\n')
    expect((await f2.readUntilClose(10_000)).closed).toBe(true)
    await exited(s2.pid)
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(false)
  })

  it('SHUTDOWN SAVE writes the file and the next start has the data; INFO persistence has Redis\'s fields', async () => {
    const dir = tempDir()
    const s = await startFlashKV({ shards: 3, extraArgs: ['--dir', dir] })
    const f = await connect(s)
    for (const c of DATA) await f.command(...c)
    const fields = (info: string): string[] => info.split('\r\n').filter(l => l.includes(':')).map(l => l.slice(0, l.indexOf(':')))
    const r = await connect(await startRedis())
    expect(fields(await text(f, 'INFO', 'persistence'))).toEqual(fields(await text(r, 'INFO', 'persistence')))
    expect(await text(f, 'INFO', 'persistence')).toMatch(/rdb_saves:0\r\n/)
    expect(await text(f, 'INFO', 'persistence')).not.toMatch(/rdb_changes_since_last_save:0\r\n/)
    expect(await text(f, 'SAVE')).toBe('+OK\r\n')
    expect(await text(f, 'INFO', 'persistence')).toMatch(/rdb_changes_since_last_save:0\r\n(.|\r\n)*rdb_saves:1\r\n/)
    await f.command('SET', 'after-save', 'x')
    const before = await snapshot(f)
    f.send('*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n')
    expect((await f.readUntilClose(10_000)).closed).toBe(true)
    await exited(s.pid)
    const f2 = await connect(await startFlashKV({ shards: 1, extraArgs: ['--dir', dir] }))
    expect(await snapshot(f2)).toEqual(before)
    expect(await text(f2, 'INFO', 'persistence')).toMatch(/rdb_last_load_keys_loaded:16\r\n/)
  })

  it('while a script is busy: SHUTDOWN is refused, SHUTDOWN NOSAVE stops the server', async () => {
    const s = await startFlashKV({ shards: 2, extraArgs: ['--dir', tempDir()] })
    const script = await connect(s)
    const other = await RawClient.connect(s.port, s.host)
    await other.command('CONFIG', 'SET', 'busy-reply-threshold', '10')
    script.send('*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n')
    for (;;) {
      const reply = await text(other, 'PING')
      if (reply.startsWith('-BUSY')) break
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    expect(await text(other, 'SHUTDOWN')).toBe('-ERR Errors trying to SHUTDOWN. Check logs.\r\n')
    other.send('*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n')
    // Its graceful stop gives the busy script 5 s before it ends the process.
    expect((await other.readUntilClose(25_000)).closed).toBe(true)
    await exited(s.pid)
  })
})
