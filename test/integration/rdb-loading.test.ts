// Loading at start: the port opens before the shards have read dump.rdb; until they have,
// commands get -LOADING (those Redis flags 'loading', INFO among them, still answer), INFO
// persistence has loading:1 and the loading_* fields, /readyz answers 503; ioredis, whose ready
// check waits for loading:0, works once it is over. The file is a big one (400k keys, ~25 MB) made
// by a real redis-server's DEBUG POPULATE, loaded in slowed-down steps, so the loading window is
// seconds long; nothing below depends on how long: the polls stop at the first PONG.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { MAIN_JS, freePort, REDIS_URL } from './helpers/server.js'

const dirs: string[] = []
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))
const KEYS = 400_000

const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

describeLocal('loading the RDB file at start', () => {
  it('-LOADING, INFO loading fields and /readyz 503 until every shard has loaded; then ioredis works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashkv-loading-'))
    dirs.push(dir)
    const r = await startRedis(['--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'yes'])
    const rc = await RawClient.connect(r.port, r.host)
    expect((await rc.command('DEBUG', 'POPULATE', String(KEYS), 'key', '48')).toString()).toBe('+OK\r\n')
    expect((await rc.command('SAVE')).toString()).toBe('+OK\r\n')
    rc.close()
    await r.stop()
    const size = statSync(join(dir, 'dump.rdb')).size

    const port = await freePort()
    const httpPort = await freePort()
    const child = spawn(process.execPath, [MAIN_JS, '--port', String(port), '--http-port', String(httpPort), '--shards', '2',
      '--dir', dir, '--save', '', '--log-level', 'warn'], {
      stdio: 'ignore',
      // Slower steps keep the window open past the start of the I/O threads (FLASHKV_IO_THREADS).
      env: { ...process.env, FLASHKV_LOAD_BUDGET: '1000', FLASHKV_LOAD_PAUSE_MS: '5' },
    })
    children.push(child)
    // Connect as soon as the port is open.
    let c: RawClient | null = null
    while (c === null) {
      c = await RawClient.connect(port, '127.0.0.1').catch(() => null)
      if (c === null) await sleep(20)
    }
    // Its ready check waits out loading_eta_seconds, up to maxLoadingRetryTime, between INFOs.
    const io = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, maxLoadingRetryTime: 500 })
    const ioGet = io.get('key:12345')
    const replies = new Set<string>()
    let readyz = new Set<number>()
    let sawLoadingInfo = false
    for (;;) {
      const pong = (await c.command('PING')).toString()
      replies.add(pong)
      const status = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(res => res.status, () => 0)
      readyz.add(status)
      const info = (await c.command('INFO', 'persistence')).toString()
      if (/\r\nloading:1\r\n/.test(info)) {
        sawLoadingInfo = true
        const field = (n: string): number => Number(new RegExp(`\r\n${n}:([0-9.]+)\r\n`).exec(info)?.[1])
        expect(field('loading_total_bytes')).toBe(size)
        expect(field('loading_loaded_bytes')).toBeLessThanOrEqual(size)
        expect(field('loading_loaded_perc')).toBeLessThanOrEqual(100)
        expect(field('loading_start_time')).toBeGreaterThan(0)
        expect(info).toContain('\r\nloading_eta_seconds:')
      } else {
        expect(info).not.toContain('loading_total_bytes')
      }
      if (pong === '+PONG\r\n') break
      expect(pong).toBe('-LOADING Redis is loading the dataset in memory\r\n')
      await sleep(20)
    }
    // The first PING came while loading (the port opens first), the last after.
    expect([...replies]).toEqual(['-LOADING Redis is loading the dataset in memory\r\n', '+PONG\r\n'])
    expect(sawLoadingInfo).toBe(true)
    expect(readyz.has(503)).toBe(true)
    readyz = new Set([await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(res => res.status)])
    expect([...readyz]).toEqual([200])
    expect((await c.command('DBSIZE')).toString()).toBe(`:${KEYS}\r\n`)
    // DEBUG POPULATE pads values to the size asked with zero bytes.
    expect(await ioGet).toBe('value:12345'.padEnd(48, '\0'))
    io.disconnect()
    c.close()
  }, 120_000)
})
