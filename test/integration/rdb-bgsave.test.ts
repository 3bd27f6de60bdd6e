// BGSAVE without fork (persistence/snapshot.ts, persistence/bgsave.ts): the file holds exactly
// the data at the cut however much is written while the shards walk, redis-check-rdb accepts it
// and a real redis-server 7.0.15 loads it with the same data. The walk is slowed down
// (FLASHKV_SNAPSHOT_BUDGET) so that the writes after BGSAVE land while it runs.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { persistence, bgsaveDone } from './helpers/persistence.js'

const dirs: string[] = []
const servers: ServerHandle[] = []
const clients: Redis[] = []
afterAll(async () => {
  for (const c of clients) c.disconnect()
  await Promise.all(servers.map(async s => await s.stop()))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir (): string {
  const d = mkdtempSync(join(tmpdir(), 'flashkv-bgsave-'))
  dirs.push(d)
  return d
}

async function client (s: ServerHandle): Promise<Redis> {
  servers.push(s)
  return await connect(s)
}

/** Another connection to a server already started. */
async function connect (s: ServerHandle): Promise<Redis> {
  const c = new Redis({ port: s.port, host: s.host, lazyConnect: true, maxRetriesPerRequest: 0 })
  clients.push(c)
  await c.connect()
  return c
}

const N = 6000

/** Every key of databases 0 and 3 with its type, value and whether it has a TTL, sorted. */
async function dump (c: Redis): Promise<string[]> {
  const out: string[] = []
  for (const db of [0, 3]) {
    await c.select(db)
    const keys = (await c.keys('*')).sort()
    const p = c.pipeline()
    for (const k of keys) { p.type(k); p.pttl(k) }
    const meta = (await p.exec()) ?? []
    const q = c.pipeline()
    keys.forEach((k, i) => {
      const type = meta[2 * i][1] as string
      if (type === 'string') q.get(k)
      else if (type === 'list') q.lrange(k, 0, -1)
      else if (type === 'hash') q.hgetall(k)
      else if (type === 'set') q.smembers(k)
      else if (type === 'zset') q.zrange(k, 0, -1, 'WITHSCORES')
      else q.xrange(k, '-', '+')
    })
    const values = (await q.exec()) ?? []
    keys.forEach((k, i) => {
      let v = values[i][1]
      if (Array.isArray(v) && meta[2 * i][1] === 'set') v = [...v].sort()
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) v = Object.entries(v).sort()
      out.push(`${db}|${k}|${meta[2 * i][1] as string}|${(meta[2 * i + 1][1] as number) > 0 ? 'ttl' : 'none'}|${JSON.stringify(v)}`)
    })
  }
  await c.select(0)
  return out
}

describe('BGSAVE', () => {
  it('saves exactly the data at the cut while keys are overwritten, deleted, expired and added; Redis loads the file', async () => {
    const dir = tempDir()
    const fs = await startFlashKV({ shards: 4, extraArgs: ['--dir', dir], env: { FLASHKV_SNAPSHOT_BUDGET: '3' } })
    const f = await client(fs)
    const p = f.pipeline()
    for (let i = 0; i < N; i++) {
      if (i % 10 === 0) p.rpush(`list:${i}`, 'a', 'b', String(i))
      else if (i % 10 === 1) p.hset(`hash:${i}`, 'f', String(i), 'g', 'x')
      else if (i % 10 === 2) p.zadd(`z:${i}`, 1, 'a', i, 'b')
      else if (i % 10 === 3) p.sadd(`set:${i}`, 'a', String(i))
      else if (i % 10 === 4) p.set(`ttl:${i}`, String(i), 'EX', 100000)
      else p.set(`k:${i}`, `value-${i}-${'x'.repeat(i % 50)}`)
    }
    p.rpush('{t}dst', 'd1', 'd2')
    for (let i = 0; i < 8; i++) p.set(`lua:${i}`, `before-${i}`)
    p.select(3)
    for (let i = 0; i < 500; i++) p.set(`db3:${i}`, String(i))
    p.select(0)
    await p.exec()
    // A client blocked on {t}src: served after the cut, it moves an element into {t}dst, a key
    // no command of the write pipeline names.
    const b = await connect(fs)
    const moved = b.blmove('{t}src', '{t}dst', 'LEFT', 'RIGHT', 0)
    while (!(await f.info('clients')).includes('blocked_clients:1\r\n')) await new Promise(resolve => setTimeout(resolve, 10))
    const before = await dump(f)
    const saves = Number((await persistence(f)).rdb_saves)
    // BGSAVE, then at once (the same connection: after the cut on every shard) change everything.
    const w = f.pipeline()
    w.bgsave()
    w.bgsave()
    w.save()
    for (let i = 0; i < N; i++) {
      if (i % 10 === 0) w.lpush(`list:${i}`, 'new')
      else if (i % 10 === 1) w.hdel(`hash:${i}`, 'f')
      else if (i % 10 === 2) w.zincrby(`z:${i}`, 5, 'a')
      else if (i % 10 === 3) w.del(`set:${i}`)
      else if (i % 10 === 4) w.pexpire(`ttl:${i}`, 1)
      else if (i % 10 === 5) w.unlink(`k:${i}`)
      else if (i % 10 === 6) w.append(`k:${i}`, '-more')
      else w.set(`k:${i}`, 'overwritten')
      if (i % 3 === 0) w.set(`new:${i}`, 'after the cut')
    }
    w.rename('k:7', 'renamed')
    w.rpush('{t}src', 'moved')
    // A script over keys on several shards runs on lent databases: their walk finishes first.
    w.eval("for i = 1, #KEYS do if i % 2 == 0 then redis.call('DEL', KEYS[i]) else redis.call('SET', KEYS[i], 'lua') end end return 1",
      8, ...Array.from({ length: 8 }, (_, i) => `lua:${i}`))
    w.swapdb(3, 4)
    w.select(3)
    w.flushdb()
    w.set('db3:new', 'x')
    w.select(0)
    const replies = (await w.exec()) ?? []
    expect(await moved).toBe('moved')
    expect(replies[0][1]).toBe('Background saving started')
    expect((replies[1][0] as Error).message).toBe('ERR Background save already in progress')
    expect((replies[2][0] as Error).message).toBe('ERR Background save already in progress')
    const info = await bgsaveDone(f)
    expect(info.rdb_last_bgsave_status).toBe('ok')
    expect(Number(info.rdb_saves)).toBe(saves + 1)
    expect(info.rdb_last_bgsave_time_sec).not.toBe('-1')
    expect(await f.dbsize()).not.toBe(N)
    expect(execFileSync('redis-check-rdb', [join(dir, 'dump.rdb')], { encoding: 'utf8' })).toContain('RDB looks OK')
    const r = await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir]))
    expect(await dump(r)).toEqual(before)
    // And FlashKV, with another shard count, loads the same.
    const f2 = await client(await startFlashKV({ shards: 3, extraArgs: ['--dir', dir] }))
    expect(await dump(f2)).toEqual(before)
  })

  it("answers as Redis: syntax errors, SCHEDULE, and INFO's fields once it is over", async () => {
    const dir = tempDir()
    const f = await client(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir] }))
    const r = await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', tempDir()]))
    for (const c of [f, r]) {
      await expect(c.call('BGSAVE', 'NOW')).rejects.toThrow('ERR syntax error')
      await expect(c.call('BGSAVE', 'SCHEDULE', 'X')).rejects.toThrow('ERR syntax error')
      await c.set('a', '1')
      expect(await c.call('BGSAVE', 'SCHEDULE')).toBe('Background saving started')
      const info = await bgsaveDone(c)
      expect(info.rdb_last_bgsave_status).toBe('ok')
      expect(info.rdb_changes_since_last_save).toBe('0')
      expect(info.rdb_current_bgsave_time_sec).toBe('-1')
      expect(info.rdb_last_bgsave_time_sec).toMatch(/^[0-9]+$/)
      // Inside EXEC it is scheduled, and the cron starts it.
      const saves = Number(info.rdb_saves)
      expect(await c.multi().bgsave().exec()).toEqual([[null, 'Background saving scheduled']])
      while (Number((await bgsaveDone(c)).rdb_saves) === saves) await new Promise(resolve => setTimeout(resolve, 20))
    }
  })

  it('FLUSHALL during BGSAVE drops the snapshot: no file, status unchanged, and the next BGSAVE works', async () => {
    const dir = tempDir()
    const f = await client(await startFlashKV({ shards: 2, extraArgs: ['--dir', dir], env: { FLASHKV_SNAPSHOT_BUDGET: '1' } }))
    const p = f.pipeline()
    for (let i = 0; i < 3000; i++) p.set(`k${i}`, String(i))
    await p.exec()
    const w = f.pipeline()
    w.bgsave()
    w.flushall()
    w.set('after', 'flush')
    await w.exec()
    const info = await bgsaveDone(f)
    expect(info.rdb_last_bgsave_status).toBe('ok')
    expect(info.rdb_saves).toBe('0')
    expect(execFileSync('ls', [dir], { encoding: 'utf8' })).toBe('')
    expect(await f.bgsave()).toBe('Background saving started')
    expect((await bgsaveDone(f)).rdb_saves).toBe('1')
    const r = await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir]))
    expect(await r.keys('*')).toEqual(['after'])
  })
})
