// server_cpulist: every thread of the server, those started after the listener too (a shard
// worker that replaces a dead one), may run only on the CPUs listed; an unusable list is logged
// and the server serves anyway. CONFIG GET/SET of it against Redis: diff-config-net.test.ts.
import { readdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis } from './helpers/redis.js'
import { RawClient } from './helpers/raw.js'
import { text } from './helpers/diff.js'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { allowedCpulist, parseCpulist } from '../../src/cpu-affinity.js'

const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

/** Every thread of pid with its allowed list; threads that ended meanwhile are left out. */
function threadMasks (pid: number): string[] {
  const out: string[] = []
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { out.push(allowedCpulist(`/proc/${pid}/task/${tid}`)) } catch {}
  }
  return out
}

// The first CPU this test may use (a CI container may not have CPU 0), and a CPU beyond them all.
const ours = parseCpulist(allowedCpulist())
const cpu = String(ours[0])
const missing = String(ours[ours.length - 1] + 1000)

describeLocal('server_cpulist', () => {
  let server: ServerHandle
  let c: RawClient

  beforeAll(async () => {
    server = await startFlashKV({ shards: 2, extraArgs: ['--server-cpulist', cpu, '--enable-debug-command', 'yes'] })
    c = await RawClient.connect(server.port, server.host)
  })
  afterAll(async () => {
    c?.close()
    await server?.stop()
  })

  it('binds every thread, and a shard started later inherits it', async () => {
    expect(text(await c.command('CONFIG', 'GET', 'server_cpulist'))).toBe(`*2\r\n$14\r\nserver_cpulist\r\n$${cpu.length}\r\n${cpu}\r\n`)
    expect(text(await c.command('SET', 'k', 'v'))).toBe('+OK\r\n')
    const before = threadMasks(server.pid)
    // main, 2 shards and V8's and libuv's own threads
    expect(before.length).toBeGreaterThan(3)
    expect(new Set(before)).toEqual(new Set([cpu]))

    expect(text(await c.command('DEBUG', 'CRASH-SHARD', '1'))).toBe('+OK\r\n')
    for (let i = 0; i < 400 && !server.logs().includes('"shard":1,"generation":1,'); i++) await new Promise(resolve => setTimeout(resolve, 50))
    expect(server.logs()).toContain('"shard":1,"generation":1,')
    expect(text(await c.command('PING'))).toBe('+PONG\r\n')
    expect(new Set(threadMasks(server.pid))).toEqual(new Set([cpu]))
  })

  it('a malformed list is logged, as Redis starts with one and binds nothing', async () => {
    const other = await startFlashKV({ shards: 1, extraArgs: ['--server-cpulist', '0-x'] })
    const redis = await startRedis(['--save', '', '--appendonly', 'no', '--server_cpulist', '0-x'])
    try {
      const o = await RawClient.connect(other.port, other.host)
      const r = await RawClient.connect(redis.port, redis.host)
      expect(text(await o.command('PING'))).toBe('+PONG\r\n')
      const reply = text(await r.command('CONFIG', 'GET', 'server_cpulist'))
      expect(reply).toBe('*2\r\n$14\r\nserver_cpulist\r\n$3\r\n0-x\r\n')
      expect(text(await o.command('CONFIG', 'GET', 'server_cpulist'))).toBe(reply)
      o.close()
      r.close()
      expect(other.logs()).toContain('server_cpulist not applied')
      expect(new Set(threadMasks(other.pid))).toEqual(new Set([allowedCpulist()]))
      expect(new Set(threadMasks(redis.pid))).toEqual(new Set([allowedCpulist()]))
    } finally {
      await other.stop()
      await redis.stop()
    }
  })

  it('a CPU the box does not have is logged, and the server serves on any CPU', async () => {
    const other = await startFlashKV({ shards: 1, extraArgs: ['--server-cpulist', missing] })
    try {
      const o = await RawClient.connect(other.port, other.host)
      expect(text(await o.command('PING'))).toBe('+PONG\r\n')
      o.close()
      expect(other.logs()).toContain('server_cpulist not applied')
      expect(new Set(threadMasks(other.pid))).toEqual(new Set([allowedCpulist()]))
    } finally {
      await other.stop()
    }
  })
})
