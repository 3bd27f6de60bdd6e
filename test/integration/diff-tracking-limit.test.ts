// tracking-table-max-keys (Redis 7.0's trackingLimitUsedSlots), against a real redis-server
// 7.0.15 and FlashKV (4 shards, so the keys sit on different shards): CONFIG GET/SET, and what a
// tracking client sees when the table outgrows the limit. Which keys go is random in Redis (a
// random walk of its table), so the tests compare what does not depend on it: how many
// invalidations arrive, that each names a key the client read, that tracking_total_keys ends at
// or under the limit, and that the keys not invalidated are still tracked.
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { encodeCommand, type RawClient } from './helpers/raw.js'
import { useSides, hello3, on, sleep, type Side } from './helpers/sides.js'

const pair = useDiffPair({ shards: 4 })
const { client } = useSides(pair)

/** Sends a command and reads frames up to its reply: the invalidation pushes before it, and the reply. */
async function withPushes (c: RawClient, ...args: Arg[]): Promise<{ keys: string[], reply: string }> {
  c.send(encodeCommand(args))
  const keys: string[] = []
  for (;;) {
    const [frame] = await c.readReplies(1)
    const s = text(frame)
    if (!s.startsWith('>')) return { keys, reply: s }
    expect(s).toMatch(/^>2\r\n\$10\r\ninvalidate\r\n\*/)
    for (const m of s.matchAll(/\$\d+\r\n([^\r]*)\r\n/g)) if (m[1] !== 'invalidate') keys.push(m[1])
  }
}

async function totalKeys (c: RawClient): Promise<{ keys: string[], total: number }> {
  const { keys, reply } = await withPushes(c, 'INFO', 'stats')
  return { keys, total: Number(/tracking_total_keys:(\d+)/.exec(reply)?.[1]) }
}

async function tracker (): Promise<Side> {
  const side = await client('C')
  await hello3(side)
  await on(side, 'CLIENT', 'TRACKING', 'on')
  return side
}

describe('tracking-table-max-keys', () => {
  it('CONFIG GET and SET answer as Redis does', async () => {
    const side = await client('B')
    for (const args of [
      ['CONFIG', 'GET', 'tracking-table-max-keys'], ['CONFIG', 'SET', 'tracking-table-max-keys', '-1'],
      ['CONFIG', 'SET', 'tracking-table-max-keys', 'abc'], ['CONFIG', 'SET', 'tracking-table-max-keys', '9223372036854775808'],
      ['CONFIG', 'SET', 'tracking-table-max-keys', '9223372036854775807'], ['CONFIG', 'GET', 'tracking-table-max-keys'],
      ['CONFIG', 'SET', 'tracking-table-max-keys', '0'], ['CONFIG', 'GET', 'tracking-table-max-keys'],
      ['CONFIG', 'SET', 'tracking-table-max-keys', '1000000'], ['CONFIG', 'GET', 'tracking-table-max-keys'],
    ]) await on(side, ...args)
  })

  it('with a limit of 1, reading a second key invalidates one of the two, and the other stays tracked', async () => {
    const setter = await client('B')
    await on(setter, 'CONFIG', 'SET', 'tracking-table-max-keys', '1')
    try {
      const C = await tracker()
      const seen: Record<string, string[]> = {}
      for (const [name, c] of [['redis', C.r], ['flashkv', C.f]] as const) {
        let keys: string[] = []
        for (const k of ['lim:a', 'lim:b', 'lim:c']) {
          const got = await withPushes(c, 'GET', k)
          keys.push(...got.keys)
        }
        const fence = await withPushes(c, 'PING')
        keys.push(...fence.keys)
        // Three keys read, one may stay: two invalidations, each for a key read, none twice.
        expect(keys.length, name).toBe(2)
        expect(new Set(keys).size, name).toBe(2)
        for (const k of keys) expect(['lim:a', 'lim:b', 'lim:c'], name).toContain(k)
        const info = await totalKeys(c)
        keys = keys.concat(info.keys)
        expect(info.total, name).toBe(1)
        seen[name] = keys
      }
      // The key left is still tracked: writing all three invalidates it alone.
      for (const k of ['lim:a', 'lim:b', 'lim:c']) await on(setter, 'SET', k, 'v')
      for (const [name, c] of [['redis', C.r], ['flashkv', C.f]] as const) {
        const { keys } = await withPushes(c, 'PING')
        const left = ['lim:a', 'lim:b', 'lim:c'].filter(k => !seen[name].includes(k))
        expect(keys, name).toEqual(left)
      }
    } finally {
      await on(setter, 'CONFIG', 'SET', 'tracking-table-max-keys', '1000000')
      await on(setter, 'DEL', 'lim:a', 'lim:b', 'lim:c')
    }
  })

  it('a lowered limit shrinks the table, each key forgotten sent as an invalidation', async () => {
    const setter = await client('B')
    try {
      const C = await tracker()
      const read = Array.from({ length: 20 }, (_, i) => `low:${i}`)
      for (const [name, c] of [['redis', C.r], ['flashkv', C.f]] as const) {
        for (const k of read) expect((await withPushes(c, 'GET', k)).keys, name).toEqual([])
        expect((await totalKeys(c)).total, name).toBe(20)
      }
      await on(setter, 'CONFIG', 'SET', 'tracking-table-max-keys', '5')
      for (const [name, c] of [['redis', C.r], ['flashkv', C.f]] as const) {
        // Redis shrinks it before the next command, FlashKV's shards on their next tick: poll.
        const got: string[] = []
        let total = Infinity
        for (let i = 0; i < 100 && total > 5; i++) {
          const info = await totalKeys(c)
          got.push(...info.keys)
          total = info.total
          if (total > 5) await sleep(20)
        }
        got.push(...(await withPushes(c, 'PING')).keys)
        expect(total, name).toBeLessThanOrEqual(5)
        // Every key forgotten is invalidated once, and only those.
        expect(got.length, name).toBe(20 - total)
        expect(new Set(got).size, name).toBe(got.length)
        for (const k of got) expect(read, name).toContain(k)
      }
    } finally {
      await on(setter, 'CONFIG', 'SET', 'tracking-table-max-keys', '1000000')
    }
  })
})
