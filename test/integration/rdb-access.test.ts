// The access information of keys in RDB files (RDB_OPCODE_IDLE under an LRU policy,
// RDB_OPCODE_FREQ under an LFU one), both ways with a real redis-server 7.0.15: what SAVE writes
// from FlashKV, Redis reads back as the same idle time or counter, and what Redis writes, FlashKV
// reads back. Idle times are set with RESTORE ... IDLETIME so nothing depends on waiting.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

const text = async (c: RawClient, ...args: string[]): Promise<string> => (await c.command(...args)).toString('latin1')
const intOf = (reply: string): number => Number(/^:(-?\d+)/.exec(reply)?.[1])

async function withClient<T> (s: ServerHandle, f: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(s.port, s.host)
  try { return await f(c) } finally { c.close() }
}

/** Keys a, b, c with idle times of 1000, 5000 and 50 s (LRU) or counters 100, 7, 255 (LFU). */
async function fill (c: RawClient, lfu: boolean): Promise<void> {
  await text(c, 'SET', 'seed', 'v')
  const dump = await c.command('DUMP', 'seed')
  const payload = dump.subarray(dump.indexOf('\r\n') + 2, dump.length - 2)
  const values = lfu ? [100, 7, 255] : [1000, 5000, 50]
  for (const [i, k] of ['a', 'b', 'c'].entries()) {
    expect((await c.command('RESTORE', k, '0', payload, lfu ? 'FREQ' : 'IDLETIME', String(values[i]))).toString()).toBe('+OK\r\n')
  }
}

async function read (c: RawClient, lfu: boolean): Promise<number[]> {
  const out: number[] = []
  for (const k of ['a', 'b', 'c']) out.push(intOf(await text(c, 'OBJECT', lfu ? 'FREQ' : 'IDLETIME', k)))
  return out
}

for (const policy of ['allkeys-lru', 'allkeys-lfu']) {
  const lfu = policy.endsWith('lfu')
  describe(`RDB access info under ${policy}`, () => {
    it('FlashKV\'s SAVE carries it to Redis, and Redis\'s SAVE to FlashKV', async () => {
      // lfu-decay-time 0: no decay, so a minute that turns during the test cannot take a counter down.
      const args = ['--maxmemory', '1gb', '--maxmemory-policy', policy, ...(lfu ? ['--lfu-decay-time', '0'] : [])]
      // FlashKV → Redis.
      const d1 = mkdtempSync(join(tmpdir(), 'flashkv-rdbacc-'))
      const flash = await startFlashKV({ shards: 4, extraArgs: [...args, '--dir', d1] })
      await withClient(flash, async c => { await fill(c, lfu); expect(await text(c, 'SAVE')).toBe('+OK\r\n') })
      await flash.stop()
      execFileSync('redis-check-rdb', [join(d1, 'dump.rdb')], { stdio: 'ignore' })
      const redis = await startRedis(['--save', '', ...args, '--dir', d1])
      const inRedis = await withClient(redis, async c => await read(c, lfu))
      // Redis → FlashKV (Redis's SAVE replaces the file in the same dir: CONFIG SET dir is protected).
      await withClient(redis, async c => {
        await text(c, 'FLUSHALL')
        await fill(c, lfu)
        expect(await text(c, 'SAVE')).toBe('+OK\r\n')
      })
      await redis.stop()
      const back = await startFlashKV({ shards: 3, extraArgs: [...args, '--dir', d1] })
      const inFlash = await withClient(back, async c => await read(c, lfu))
      await back.stop()
      // Idle times may have moved on by a second or two while the servers restarted.
      const want = lfu ? [100, 7, 255] : [1000, 5000, 50]
      for (const got of [inRedis, inFlash]) {
        got.forEach((v, i) => {
          if (lfu) expect(v, `counter ${i}`).toBe(want[i])
          else { expect(v).toBeGreaterThanOrEqual(want[i]); expect(v).toBeLessThan(want[i] + 30) }
        })
      }
    }, 60_000)
  })
}
