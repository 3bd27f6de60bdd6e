// Real clients against FlashKV with their default options: ioredis 6 and node-redis 6 both open
// with HELLO 3 and CLIENT SETINFO (node-redis also sends CLIENT MAINT_NOTIFICATIONS and ignores
// its error); node-redis is also run with RESP 2 (no HELLO). Each runs the string and expiry
// commands with text and binary values, ioredis a 1,000-command pipeline, and redis-cli (the
// binary) PING / SET / GET. Keys are spread over 4 shards.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { RESP_TYPES } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectIoredis, connectNodeRedis, type NodeRedisClient } from './helpers/client-libs.js'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'

const run = promisify(execFile)

let server: ServerHandle
useFlushedFlashKV({ shards: 4 }, s => { server = s })

/** Every byte value 0..255, twice, plus CR LF in the middle: survives only a binary-safe path. */
const BINARY = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from('\r\n$-1\r\n*3\r\n'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)),
])
const BINARY_KEY = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x7b, 0x7d, 0x80, 0x81])

describe('ioredis 6 (default options: HELLO 3, CLIENT SETINFO, INFO ready check)', () => {
  let client: Redis

  beforeAll(async () => {
    client = await connectIoredis(server)
  })

  afterAll(async () => {
    await client?.quit()
  })

  it('connects and reports ready', async () => {
    expect(client.status).toBe('ready')
    expect(await client.ping()).toBe('PONG')
  })

  it('GET/SET/MSET/MGET/DEL', async () => {
    expect(await client.set('a', '1')).toBe('OK')
    expect(await client.get('a')).toBe('1')
    expect(await client.get('missing')).toBeNull()
    expect(await client.mset('k1', 'v1', 'k2', 'v2', 'k3', 'v3', 'k4', 'v4')).toBe('OK')
    expect(await client.mget('k1', 'missing', 'k2', 'k3', 'k4')).toEqual(['v1', null, 'v2', 'v3', 'v4'])
    expect(await client.del('k1', 'k2', 'missing')).toBe(2)
    expect(await client.exists('k1', 'k3', 'k4')).toBe(2)
    expect(await client.set('a', 'x', 'NX')).toBeNull()
    expect(await client.set('a', 'x', 'GET')).toBe('1')
  })

  it('EXPIRE/TTL/PTTL', async () => {
    await client.set('e', 'v')
    expect(await client.ttl('e')).toBe(-1)
    expect(await client.expire('e', 100)).toBe(1)
    const ttl = await client.ttl('e')
    expect(ttl).toBeGreaterThanOrEqual(99)
    expect(ttl).toBeLessThanOrEqual(100)
    const pttl = await client.pttl('e')
    expect(pttl).toBeGreaterThan(98_000)
    expect(pttl).toBeLessThanOrEqual(100_000)
    expect(await client.ttl('missing')).toBe(-2)
    expect(await client.expire('missing', 10)).toBe(0)
  })

  it('binary keys and values round trip as Buffers', async () => {
    expect(await client.set(BINARY_KEY, BINARY)).toBe('OK')
    const got = await client.getBuffer(BINARY_KEY)
    expect(got).not.toBeNull()
    expect(Buffer.compare(got as Buffer, BINARY)).toBe(0)
    await client.mset(Buffer.from('bin:1'), BINARY, Buffer.from('bin:2'), Buffer.alloc(0))
    const many = await client.mgetBuffer('bin:1', 'bin:2', 'missing')
    expect(many[0]?.equals(BINARY)).toBe(true)
    expect(many[1]?.length).toBe(0)
    expect(many[2]).toBeNull()
  })

  it('a pipeline of 1,000 commands returns every reply in order', async () => {
    const p = client.pipeline()
    for (let i = 0; i < 1000; i++) {
      switch (i % 4) {
        case 0: p.set(`p:${i}`, `v${i}`); break
        case 1: p.get(`p:${i - 1}`); break
        case 2: p.del(`p:${i - 2}`); break
        case 3: p.exists(`p:${i - 3}`); break
      }
    }
    const results = await p.exec()
    expect(results).not.toBeNull()
    expect(results).toHaveLength(1000)
    for (let i = 0; i < 1000; i++) {
      const [err, value] = (results as Array<[Error | null, unknown]>)[i]
      expect(err).toBeNull()
      const want = [`OK`, `v${i - 1}`, 1, 0][i % 4]
      expect(value, `reply ${i}`).toEqual(want)
    }
  })
})

describe('node-redis 6 (default options: RESP 3, HELLO 3, CLIENT SETINFO, MAINT_NOTIFICATIONS)', () => {
  for (const resp of [3, 2] as const) {
    describe(`RESP ${resp}`, () => {
      let client: NodeRedisClient
      const errors: Error[] = []

      beforeAll(async () => {
        client = await connectNodeRedis(server, resp, errors)
      })

      afterAll(async () => {
        if (client?.isOpen) await client.close()
      })

      it('connects without client errors', async () => {
        expect(client.isReady).toBe(true)
        expect(await client.ping()).toBe('PONG')
        expect(errors).toEqual([])
      })

      it('GET/SET/MSET/MGET/DEL', async () => {
        expect(await client.set('a', '1')).toBe('OK')
        expect(await client.get('a')).toBe('1')
        expect(await client.get('missing')).toBeNull()
        expect(await client.mSet({ k1: 'v1', k2: 'v2', k3: 'v3', k4: 'v4' })).toBe('OK')
        expect(await client.mGet(['k1', 'missing', 'k2', 'k3', 'k4'])).toEqual(['v1', null, 'v2', 'v3', 'v4'])
        expect(await client.del(['k1', 'k2', 'missing'])).toBe(2)
        expect(await client.exists(['k1', 'k3', 'k4'])).toBe(2)
        expect(await client.set('a', 'x', { condition: 'NX' })).toBeNull()
      })

      it('EXPIRE/TTL/PTTL', async () => {
        await client.set('e', 'v')
        expect(await client.ttl('e')).toBe(-1)
        expect(await client.expire('e', 100)).toBe(1)
        const ttl = await client.ttl('e')
        expect(ttl).toBeGreaterThanOrEqual(99)
        expect(ttl).toBeLessThanOrEqual(100)
        const pttl = await client.pTTL('e')
        expect(pttl).toBeGreaterThan(98_000)
        expect(pttl).toBeLessThanOrEqual(100_000)
        expect(await client.ttl('missing')).toBe(-2)
        expect(await client.expire('missing', 10)).toBe(0)
      })

      it('binary keys and values round trip as Buffers', async () => {
        const bin = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
        expect(await bin.set(BINARY_KEY, BINARY)).toBe('OK')
        const got = await bin.get(BINARY_KEY)
        expect(Buffer.isBuffer(got)).toBe(true)
        expect((got as unknown as Buffer).equals(BINARY)).toBe(true)
        await bin.mSet([[Buffer.from('bin:1'), BINARY], [Buffer.from('bin:2'), Buffer.alloc(0)]])
        const many = await bin.mGet(['bin:1', 'bin:2', 'missing']) as unknown as Array<Buffer | null>
        expect(many[0]?.equals(BINARY)).toBe(true)
        expect(many[1]?.length).toBe(0)
        expect(many[2]).toBeNull()
      })

      it('many concurrent commands (auto-pipelined) keep their replies apart', async () => {
        const writes = []
        for (let i = 0; i < 500; i++) writes.push(client.set(`c:${i}`, `v${i}`))
        expect(new Set(await Promise.all(writes))).toEqual(new Set(['OK']))
        const reads = []
        for (let i = 0; i < 500; i++) reads.push(client.get(`c:${i}`))
        const values = await Promise.all(reads)
        values.forEach((v, i) => expect(v).toBe(`v${i}`))
      })
    })
  }
})

describe('redis-cli', () => {
  const cli = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('redis-cli', ['-h', server.host, '-p', String(server.port), ...args], { timeout: 5000 })
    return stdout
  }

  it('PING answers PONG', async () => {
    expect(await cli('PING')).toBe('PONG\n')
  })

  it('set k v / get k', async () => {
    expect(await cli('set', 'k', 'v')).toBe('OK\n')
    expect(await cli('get', 'k')).toBe('v\n')
    expect(await cli('get', 'nothing')).toBe('\n')
  })

  it('-3 (RESP3 via HELLO 3) works as well', async () => {
    expect(await cli('-3', 'set', 'k3', 'v3')).toBe('OK\n')
    expect(await cli('-3', 'get', 'k3')).toBe('v3\n')
  })
})
