// Client-side caching through node-redis 6, against FlashKV (4 shards): its clientSideCache
// (RESP 3, CLIENT TRACKING on behind the scenes) serves repeated reads from memory and must
// drop an entry when another client modifies the key, on any shard; and the RESP2 flow, where a
// subscriber of __redis__:invalidate receives the invalidations of a client that REDIRECTs to it.
// An invalidation travels on its own after the writer's reply (as from Redis), so the waits for
// it are bounded polls; what is asserted is the value read, never a time.
import { createClient, BasicClientSideCache } from 'redis'
import { afterEach, describe, expect, it } from 'vitest'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'

let server: ServerHandle
useFlushedFlashKV({ shards: 4 }, s => { server = s })

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const opened: Array<{ quit: () => Promise<unknown> }> = []
afterEach(async () => { for (const c of opened.splice(0)) await c.quit().catch(() => {}) })

async function connect (resp: 2 | 3, cache?: BasicClientSideCache): Promise<ReturnType<typeof createClient>> {
  const c = createClient({ socket: { port: server.port, host: server.host }, RESP: resp, ...(cache === undefined ? {} : { clientSideCache: cache }) }) as ReturnType<typeof createClient>
  c.on('error', () => {})
  await c.connect()
  opened.push(c)
  return c
}

/** Reads until `read` returns `want` (bounded: ~5 s); returns the last value read. */
async function until<T> (read: () => Promise<T>, want: T): Promise<T> {
  let v = await read()
  for (let i = 0; i < 250 && v !== want; i++) { await sleep(20); v = await read() }
  return v
}

describe('node-redis clientSideCache (RESP 3)', () => {
  it('serves cached reads, and reads the new value once another client wrote it', async () => {
    const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 })
    const reader = await connect(3, cache)
    const writer = await connect(3)
    // Keys on different shards (4 shards: their hash slots differ).
    const keys = ['user:1', 'user:2', 'user:3', 'user:4', 'session', 'cart']
    for (const k of keys) await writer.set(k, `${k}-v1`)
    for (const k of keys) expect(await reader.get(k)).toBe(`${k}-v1`)
    for (const k of keys) expect(await reader.get(k)).toBe(`${k}-v1`)
    expect(cache.stats().hitCount).toBe(keys.length)
    for (const k of keys) await writer.set(k, `${k}-v2`)
    for (const k of keys) expect(await until(async () => await reader.get(k), `${k}-v2`)).toBe(`${k}-v2`)
    // Each new value came from the server: one more miss per key.
    expect(cache.stats().missCount).toBe(2 * keys.length)
    // And is cached again.
    const hits = cache.stats().hitCount
    for (const k of keys) expect(await reader.get(k)).toBe(`${k}-v2`)
    expect(cache.stats().hitCount).toBe(hits + keys.length)
  })

  it('drops a cached hash on HSET, a deleted key on DEL, and everything on FLUSHALL', async () => {
    const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 })
    const reader = await connect(3, cache)
    const writer = await connect(3)
    await writer.hSet('h', { a: '1' })
    await writer.set('s', 'x')
    expect(await reader.hGetAll('h')).toEqual({ a: '1' })
    expect(await reader.get('s')).toBe('x')
    await writer.hSet('h', { b: '2' })
    expect(await until(async () => JSON.stringify(await reader.hGetAll('h')), JSON.stringify({ a: '1', b: '2' }))).toBe(JSON.stringify({ a: '1', b: '2' }))
    await writer.del('s')
    expect(await until(async () => await reader.get('s'), null)).toBe(null)
    await writer.set('s', 'y')
    expect(await until(async () => await reader.get('s'), 'y')).toBe('y')
    await writer.flushAll()
    expect(await until(async () => await reader.get('s'), null)).toBe(null)
  })
})

describe('RESP2: REDIRECT to a subscriber of __redis__:invalidate', () => {
  it('the subscriber receives the keys the tracking client read, when another client writes them', async () => {
    const sub = await connect(2)
    const tracker = await connect(2)
    const writer = await connect(2)
    const got: string[] = []
    const id = await sub.clientId()
    await sub.subscribe('__redis__:invalidate', (message: unknown) => {
      for (const k of message as Buffer[]) got.push(k.toString())
    }, true)
    expect(await tracker.sendCommand(['CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id)])).toBe('OK')
    await tracker.get('a')
    await tracker.get('b')
    await writer.set('b', '1')
    await writer.set('c', '1')
    await writer.set('a', '1')
    for (let i = 0; i < 250 && got.length < 2; i++) await sleep(20)
    expect(got).toEqual(['b', 'a'])
  })
})
