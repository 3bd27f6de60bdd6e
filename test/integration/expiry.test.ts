// Key expiry with millisecond precision on a 4-shard server: lazy expiry (a read after the
// deadline sees no key), active expiry (1,000 keys with PX 50 leave DBSIZE, INFO keyspace and
// INFO shards within about a second without being touched), PEXPIRE on an existing key, and
// TTL/PTTL/EXPIRETIME/PEXPIRETIME values in range.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { shardOfKey } from './helpers/slots.js'

let server: ServerHandle
let c: RawClient

beforeAll(async () => {
  server = await startFlashKV({ shards: 4 })
  c = await RawClient.connect(server.port, server.host)
})

afterAll(async () => {
  c?.close()
  await server?.stop()
})

beforeEach(async () => {
  expect(await say('FLUSHALL')).toBe('+OK\r\n')
})

async function say (...args: string[]): Promise<string> {
  return (await c.command(...args)).toString('latin1')
}

/** The integer of a `:n\r\n` reply. */
async function int (...args: string[]): Promise<number> {
  const r = await say(...args)
  expect(r, `reply to ${args.join(' ')}`).toMatch(/^:-?\d+\r\n$/)
  return Number(r.slice(1, -2))
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('lazy expiry', () => {
  it('SET k v PX 100: readable before, gone after 150 ms', async () => {
    expect(await say('SET', 'k', 'v', 'PX', '100')).toBe('+OK\r\n')
    expect(await say('GET', 'k')).toBe('$1\r\nv\r\n')
    const pttl = await int('PTTL', 'k')
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(100)
    await sleep(150)
    expect(await say('GET', 'k')).toBe('$-1\r\n')
    expect(await int('EXISTS', 'k')).toBe(0)
    expect(await int('TTL', 'k')).toBe(-2)
    expect(await int('PTTL', 'k')).toBe(-2)
  })

  it('every command sees an expired key as missing, on every shard', async () => {
    const keys = ['ex:a', 'ex:b', 'ex:c', 'ex:d', 'ex:e', 'ex:f', 'ex:g', 'ex:h']
    expect(new Set(keys.map((k) => shardOfKey(k, 4))).size).toBeGreaterThan(1)
    c.send(Buffer.concat(keys.map((k) => encodeCommand(['SET', k, 'v', 'PX', '30']))))
    for (const r of await c.readReplies(keys.length)) expect(r.toString()).toBe('+OK\r\n')
    await sleep(60)
    expect(await say('MGET', ...keys)).toBe(`*${keys.length}\r\n${'$-1\r\n'.repeat(keys.length)}`)
    expect(await int('EXISTS', ...keys)).toBe(0)
    expect(await int('DEL', ...keys)).toBe(0)
    expect(await int('EXPIRE', keys[0], '100')).toBe(0)
    expect(await int('PERSIST', keys[1])).toBe(0)
    expect(await say('TYPE', keys[2])).toBe('+none\r\n')
    expect(await say('SET', keys[3], 'new', 'NX')).toBe('+OK\r\n')
    expect(await int('TTL', keys[3])).toBe(-1)
    expect(await say('SET', keys[4], 'x', 'GET')).toBe('$-1\r\n')
  })

  it('PX 1 has expired a few milliseconds later', async () => {
    expect(await say('SET', 'short', 'v', 'PX', '1')).toBe('+OK\r\n')
    await sleep(5)
    expect(await say('GET', 'short')).toBe('$-1\r\n')
  })
})

describe('active expiry', () => {
  it('1,000 keys with PX 50 on 4 shards disappear from DBSIZE and INFO within ~1 s, untouched', async () => {
    const before = Number(/expired_keys:(\d+)/.exec(await say('INFO', 'stats'))?.[1] ?? NaN)
    const keys = Array.from({ length: 1000 }, (_, i) => `active:${i}`)
    const perShard = [0, 0, 0, 0]
    for (const k of keys) perShard[shardOfKey(k, 4)]++
    for (const n of perShard) expect(n).toBeGreaterThan(0)
    // 100 keys without a TTL stay.
    const cmds = keys.map((k) => encodeCommand(['SET', k, 'v', 'PX', '50']))
    for (let i = 0; i < 100; i++) cmds.push(encodeCommand(['SET', `stay:${i}`, 'v']))
    const t0 = Date.now()
    c.send(Buffer.concat(cmds))
    for (const r of await c.readReplies(cmds.length, 10_000)) expect(r.toString()).toBe('+OK\r\n')
    const dbsize = await int('DBSIZE')
    // Some or all may be gone already (Redis's fast expire cycle after each event loop turn).
    expect(dbsize).toBeGreaterThanOrEqual(100)
    expect(dbsize).toBeLessThanOrEqual(1100)

    let size = dbsize
    while (size > 100 && Date.now() - t0 < 3000) {
      await sleep(25)
      size = await int('DBSIZE')
    }
    const elapsed = Date.now() - t0
    expect(size, `DBSIZE ${elapsed} ms after the SETs`).toBe(100)
    expect(elapsed, 'time until every key with PX 50 was gone').toBeLessThan(1200)

    if (REDIS_URL === undefined || REDIS_URL === '') { // INFO shards and exact stats are FlashKV's
      const info = await say('INFO', 'keyspace', 'shards', 'stats')
      expect(info).toMatch(/^db0:keys=100,expires=0,avg_ttl=\d+\r$/m)
      const shards = [...info.matchAll(/^shard\d+:keys=(\d+),expires=(\d+),/gm)]
      expect(shards).toHaveLength(4)
      expect(shards.reduce((a, m) => a + Number(m[1]), 0)).toBe(100)
      for (const m of shards) expect(m[2]).toBe('0')
      const after = Number(/expired_keys:(\d+)/.exec(info)?.[1] ?? NaN)
      expect(after - before).toBe(1000)
    }
    expect(await int('EXISTS', 'stay:0', 'stay:99', 'active:0', 'active:999')).toBe(2)
  })

  it('keys in another database expire too', async () => {
    expect(await say('SELECT', '5')).toBe('+OK\r\n')
    try {
      c.send(Buffer.concat(Array.from({ length: 200 }, (_, i) => encodeCommand(['SET', `db5:${i}`, 'v', 'PX', '30']))))
      await c.readReplies(200)
      const t0 = Date.now()
      let size = await int('DBSIZE')
      while (size > 0 && Date.now() - t0 < 3000) {
        await sleep(25)
        size = await int('DBSIZE')
      }
      expect(size).toBe(0)
      expect(Date.now() - t0).toBeLessThan(1200)
    } finally {
      expect(await say('SELECT', '0')).toBe('+OK\r\n')
    }
  })
})

describe('PEXPIRE on an existing key', () => {
  it('sets a millisecond TTL; the key goes when it runs out', async () => {
    expect(await say('SET', 'pk', 'v')).toBe('+OK\r\n')
    expect(await int('PTTL', 'pk')).toBe(-1)
    expect(await int('PEXPIRE', 'pk', '100')).toBe(1)
    const pttl = await int('PTTL', 'pk')
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(100)
    expect(await int('TTL', 'pk')).toBeLessThanOrEqual(1)
    expect(await say('GET', 'pk')).toBe('$1\r\nv\r\n')
    await sleep(150)
    expect(await say('GET', 'pk')).toBe('$-1\r\n')
    expect(await int('PEXPIRE', 'pk', '100')).toBe(0)
  })

  it('a later PEXPIRE replaces the TTL; PERSIST removes it; SET drops it unless KEEPTTL', async () => {
    expect(await say('SET', 'pk', 'v', 'PX', '100')).toBe('+OK\r\n')
    expect(await int('PEXPIRE', 'pk', '100000')).toBe(1)
    await sleep(150)
    expect(await say('GET', 'pk')).toBe('$1\r\nv\r\n')
    expect(await int('PTTL', 'pk')).toBeGreaterThan(99_000)
    expect(await int('PERSIST', 'pk')).toBe(1)
    expect(await int('PTTL', 'pk')).toBe(-1)
    expect(await int('PERSIST', 'pk')).toBe(0)

    expect(await int('PEXPIRE', 'pk', '50000')).toBe(1)
    expect(await say('SET', 'pk', 'w', 'KEEPTTL')).toBe('+OK\r\n')
    expect(await int('PTTL', 'pk')).toBeGreaterThan(49_000)
    expect(await say('SET', 'pk', 'x')).toBe('+OK\r\n')
    expect(await int('PTTL', 'pk')).toBe(-1)
  })

  it('PEXPIRE with 0 or a negative time deletes the key at once', async () => {
    await say('SET', 'z1', 'v')
    await say('SET', 'z2', 'v')
    expect(await int('PEXPIRE', 'z1', '0')).toBe(1)
    expect(await int('PEXPIRE', 'z2', '-5')).toBe(1)
    expect(await int('EXISTS', 'z1', 'z2')).toBe(0)
    expect(await int('DBSIZE')).toBe(0)
  })

  it('NX / XX / GT / LT conditions', async () => {
    await say('SET', 'c', 'v')
    expect(await int('PEXPIRE', 'c', '100000', 'XX')).toBe(0)
    expect(await int('PEXPIRE', 'c', '100000', 'NX')).toBe(1)
    expect(await int('PEXPIRE', 'c', '200000', 'NX')).toBe(0)
    expect(await int('PEXPIRE', 'c', '50000', 'GT')).toBe(0)
    expect(await int('PEXPIRE', 'c', '200000', 'GT')).toBe(1)
    expect(await int('PEXPIRE', 'c', '300000', 'LT')).toBe(0)
    expect(await int('PEXPIRE', 'c', '50000', 'LT')).toBe(1)
    const pttl = await int('PTTL', 'c')
    expect(pttl).toBeGreaterThan(49_000)
    expect(pttl).toBeLessThanOrEqual(50_000)
  })
})

describe('TTL and PTTL values', () => {
  it('are in range for EX, PX, EXAT, PXAT, and -1 / -2 for no TTL / no key', async () => {
    await say('SET', 'ex', 'v', 'EX', '100')
    const ttl = await int('TTL', 'ex')
    expect(ttl).toBeGreaterThanOrEqual(99)
    expect(ttl).toBeLessThanOrEqual(100)
    const pttl = await int('PTTL', 'ex')
    expect(pttl).toBeGreaterThan(99_000)
    expect(pttl).toBeLessThanOrEqual(100_000)

    await say('SET', 'px', 'v', 'PX', '2500')
    expect(await int('TTL', 'px')).toBeGreaterThanOrEqual(2) // rounded, as Redis does: (ms + 500) / 1000
    expect(await int('TTL', 'px')).toBeLessThanOrEqual(3)

    const at = Math.floor(Date.now() / 1000) + 1000
    await say('SET', 'exat', 'v', 'EXAT', String(at))
    expect(await int('EXPIRETIME', 'exat')).toBe(at)
    expect(await int('PEXPIRETIME', 'exat')).toBe(at * 1000)
    const ttlAt = await int('TTL', 'exat')
    expect(ttlAt).toBeGreaterThanOrEqual(998)
    expect(ttlAt).toBeLessThanOrEqual(1000)

    const pat = Date.now() + 5000
    await say('SET', 'pxat', 'v', 'PXAT', String(pat))
    expect(await int('PEXPIRETIME', 'pxat')).toBe(pat)
    expect(await int('EXPIRETIME', 'pxat')).toBe(Math.floor((pat + 500) / 1000)) // Redis rounds: (ms + 500) / 1000
    const pttlAt = await int('PTTL', 'pxat')
    expect(pttlAt).toBeGreaterThan(4000)
    expect(pttlAt).toBeLessThanOrEqual(5000)

    await say('SET', 'plain', 'v')
    expect(await int('TTL', 'plain')).toBe(-1)
    expect(await int('PTTL', 'plain')).toBe(-1)
    expect(await int('EXPIRETIME', 'plain')).toBe(-1)
    expect(await int('TTL', 'nokey')).toBe(-2)
    expect(await int('PTTL', 'nokey')).toBe(-2)
    expect(await int('EXPIRETIME', 'nokey')).toBe(-2)
  })

  it('PEXPIREAT in the past deletes; EXPIREAT in the future sets EXPIRETIME', async () => {
    await say('SET', 'a', 'v')
    expect(await int('PEXPIREAT', 'a', String(Date.now() - 1000))).toBe(1)
    expect(await int('EXISTS', 'a')).toBe(0)
    await say('SET', 'b', 'v')
    const at = Math.floor(Date.now() / 1000) + 60
    expect(await int('EXPIREAT', 'b', String(at))).toBe(1)
    expect(await int('EXPIRETIME', 'b')).toBe(at)
  })
})
