// The transaction engine (src/server/engine.ts): a cross-shard command or WATCH'd EXEC runs on
// its producer's thread over the held shards' lent databases, and each shard takes them back
// with the effects. These tests check what only that hand-over can break: the shard's own
// bookkeeping after a transaction grew its table and arena or made a database, WATCH touches and
// blocked clients' wake-ups that happened on another thread, and a full arena that must leave a
// multi-shard change undone rather than half done.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4

function text (b: Buffer): string { return b.toString('latin1') }

describe('lent databases come back whole', () => {
  let server: ServerHandle
  beforeAll(async () => { server = await startFlashKV({ shards: SHARDS }) })
  afterAll(async () => { await server?.stop() })
  const client = async (): Promise<RawClient> => await RawClient.connect(server.port, server.host)
  beforeEach(async () => {
    const c = await client()
    expect(text(await c.command('FLUSHALL'))).toBe('+OK\r\n')
    c.close()
  })

  it('a WATCHed EXEC that grows every shard\'s table and arena leaves each shard able to go on', async () => {
    const c = await client()
    const n = 4000
    const value = (i: number): string => `v${i}:` + 'x'.repeat(150)
    const pairs: string[] = []
    for (let i = 0; i < n; i++) pairs.push(`k:${i}`, value(i))
    expect(text(await c.command('WATCH', 'w'))).toBe('+OK\r\n')
    expect(text(await c.command('MULTI'))).toBe('+OK\r\n')
    expect(text(await c.command('MSET', ...pairs))).toBe('+QUEUED\r\n')
    expect(text(await c.command('EXEC'))).toBe('*1\r\n+OK\r\n')
    expect(text(await c.command('DBSIZE'))).toBe(`:${n}\r\n`)
    // The shards allocate again on their own threads: a stale allocator top or free list would
    // hand out blocks the transaction filled, and overwrite its keys.
    const more: string[] = []
    for (let i = 0; i < n; i++) more.push(`m:${i}`, value(-i))
    expect(text(await c.command('MSET', ...more))).toBe('+OK\r\n')
    const keys = Array.from({ length: n }, (_v, i) => `k:${i}`)
    const got = text(await c.command('MGET', ...keys))
    const expected = `*${n}\r\n` + keys.map((_k, i) => `$${value(i).length}\r\n${value(i)}\r\n`).join('')
    expect(got === expected, 'every key the transaction set reads back unchanged').toBe(true)
    expect(text(await c.command('DBSIZE'))).toBe(`:${2 * n}\r\n`)
    // Deleting them all frees what both threads allocated.
    expect(text(await c.command('DEL', ...keys))).toBe(`:${n}\r\n`)
    expect(text(await c.command('DBSIZE'))).toBe(`:${n}\r\n`)
    c.close()
  })

  it('a database first used inside the transaction is the shard\'s afterwards', async () => {
    const [a] = keysOnShard(1, SHARDS, 1, 'a:')
    const [b] = keysOnShard(2, SHARDS, 1, 'b:')
    const [d] = keysOnShard(3, SHARDS, 1, 'd:')
    const c = await client()
    await c.command('SELECT', '9')
    await c.command('SET', a, 'hello')
    await c.command('SELECT', '0')
    expect(text(await c.command('WATCH', a))).toBe('+OK\r\n')
    await c.command('MULTI')
    await c.command('SELECT', '11')
    await c.command('SET', a, 'in-11')
    await c.command('SET', b, 'also-11')
    expect(text(await c.command('EXEC'))).toBe('*3\r\n+OK\r\n+OK\r\n+OK\r\n')
    // RENAME across shards in database 11, made by the transaction on both shards.
    expect(text(await c.command('RENAME', a, d))).toBe('+OK\r\n')
    expect(text(await c.command('DBSIZE'))).toBe(':2\r\n')
    expect(text(await c.command('GET', b))).toBe('$7\r\nalso-11\r\n')
    expect(text(await c.command('GET', d))).toBe('$5\r\nin-11\r\n')
    await c.command('SELECT', '9')
    expect(text(await c.command('GET', a))).toBe('$5\r\nhello\r\n')
    c.close()
  })
})

describe('effects reach the shard', () => {
  let server: ServerHandle
  beforeAll(async () => { server = await startFlashKV({ shards: SHARDS }) })
  afterAll(async () => { await server?.stop() })
  const client = async (): Promise<RawClient> => await RawClient.connect(server.port, server.host)
  beforeEach(async () => {
    const c = await client()
    expect(text(await c.command('FLUSHALL'))).toBe('+OK\r\n')
    c.close()
  })

  const [src] = keysOnShard(0, SHARDS, 1, 'src:')
  const [dst] = keysOnShard(3, SHARDS, 1, 'dst:')

  it('a cross-shard RENAME touches the watched source and destination', async () => {
    for (const watched of [src, dst]) {
      const [a, b] = [await client(), await client()]
      await a.command('SET', src, 'v')
      expect(text(await a.command('WATCH', watched))).toBe('+OK\r\n')
      expect(text(await b.command('RENAME', src, dst))).toBe('+OK\r\n')
      await a.command('MULTI')
      await a.command('PING')
      expect(text(await a.command('EXEC')), `watching ${watched}`).toBe('*-1\r\n')
      await a.command('DEL', src, dst)
      a.close()
      b.close()
    }
  })

  it('the touch has landed by the time the writer has its reply, whatever shard the EXEC runs on', async () => {
    // A's EXEC runs on shard 1 while its watched key lives on shard 3: the EXEC checks the
    // watch word without passing through shard 3, so B's reply must wait for the touch.
    const [ran] = keysOnShard(1, SHARDS, 1, 'ran:')
    const [a, b] = [await client(), await client()]
    let failed = 0
    const rounds = 200
    for (let i = 0; i < rounds; i++) {
      await b.command('SET', src, String(i))
      expect(text(await a.command('WATCH', dst))).toBe('+OK\r\n')
      expect(text(await b.command('RENAME', src, dst))).toBe('+OK\r\n')
      await a.command('MULTI')
      await a.command('INCR', ran)
      if (text(await a.command('EXEC')) === '*-1\r\n') failed++
    }
    expect(failed).toBe(rounds)
    expect(text(await a.command('GET', ran))).toBe('$-1\r\n')
    a.close()
    b.close()
  })

  it('a write inside another client\'s WATCHed cross-shard EXEC touches a watched key', async () => {
    const [a, b] = [await client(), await client()]
    expect(text(await a.command('WATCH', dst))).toBe('+OK\r\n')
    await b.command('WATCH', src)
    await b.command('MULTI')
    await b.command('SET', src, '1')
    await b.command('SET', dst, '2')
    expect(text(await b.command('EXEC'))).toBe('*2\r\n+OK\r\n+OK\r\n')
    await a.command('MULTI')
    await a.command('GET', dst)
    expect(text(await a.command('EXEC'))).toBe('*-1\r\n')
    // An untouched watch still passes.
    expect(text(await a.command('WATCH', 'nobody-writes-this'))).toBe('+OK\r\n')
    await a.command('MULTI')
    await a.command('GET', dst)
    expect(text(await a.command('EXEC'))).toBe('*1\r\n$1\r\n2\r\n')
    a.close()
    b.close()
  })

  it('a list made by a cross-shard LMOVE serves the client blocked on it', async () => {
    const [blocked, mover] = [await client(), await client()]
    await mover.command('RPUSH', src, 'one', 'two')
    blocked.send(Buffer.from(`*3\r\n$5\r\nBLPOP\r\n$${dst.length}\r\n${dst}\r\n$1\r\n0\r\n`))
    // Wait until the server counts it as blocked, then move.
    for (let i = 0; i < 500; i++) {
      if (/blocked_clients:1\r\n/.test(text(await mover.command('INFO', 'clients')))) break
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    expect(text(await mover.command('LMOVE', src, dst, 'LEFT', 'RIGHT'))).toBe('$3\r\none\r\n')
    const [reply] = await blocked.readReplies(1, 10_000)
    expect(text(reply)).toBe(`*2\r\n$${dst.length}\r\n${dst}\r\n$3\r\none\r\n`)
    expect(text(await mover.command('LLEN', dst))).toBe(':0\r\n')
    expect(text(await mover.command('LRANGE', src, '0', '-1'))).toBe('*1\r\n$3\r\ntwo\r\n')
    blocked.close()
    mover.close()
  })

  it('a push inside a WATCHed cross-shard EXEC serves the client blocked on it', async () => {
    const [blocked, writer] = [await client(), await client()]
    blocked.send(Buffer.from(`*3\r\n$5\r\nBRPOP\r\n$${dst.length}\r\n${dst}\r\n$1\r\n0\r\n`))
    for (let i = 0; i < 500; i++) {
      if (/blocked_clients:1\r\n/.test(text(await writer.command('INFO', 'clients')))) break
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    await writer.command('WATCH', src)
    await writer.command('MULTI')
    await writer.command('SET', src, 'x')
    await writer.command('LPUSH', dst, 'a', 'b')
    expect(text(await writer.command('EXEC'))).toBe('*2\r\n+OK\r\n:2\r\n')
    const [reply] = await blocked.readReplies(1, 10_000)
    expect(text(reply)).toBe(`*2\r\n$${dst.length}\r\n${dst}\r\n$1\r\na\r\n`)
    expect(text(await writer.command('LRANGE', dst, '0', '-1'))).toBe('*1\r\n$1\r\nb\r\n')
    blocked.close()
    writer.close()
  })
})

describe('a full arena leaves a multi-shard change undone', () => {
  // Every database's arena capped at 1 MiB, so that one shard can be filled quickly.
  const SHARDS2 = 2
  let server: ServerHandle
  beforeAll(async () => { server = await startFlashKV({ shards: SHARDS2, env: { FLASHKV_ARENA_MAX_BYTES: String(1024 * 1024) } }) })
  afterAll(async () => { await server?.stop() })
  const client = async (): Promise<RawClient> => await RawClient.connect(server.port, server.host)
  const [onA, onA2] = keysOnShard(0, SHARDS2, 2, 'a:')
  const [full, old] = keysOnShard(1, SHARDS2, 2, 'full:')
  const big = 'y'.repeat(200 * 1024)
  const OOM = /^-OOM /

  /** Fills shard 1's database 0 until a 200 KiB value no longer fits there. */
  async function fillShard1 (c: RawClient): Promise<void> {
    expect(text(await c.command('FLUSHALL'))).toBe('+OK\r\n')
    expect(text(await c.command('SET', old, 'old-value'))).toBe('+OK\r\n')
    const fillers = keysOnShard(1, SHARDS2, 40, 'fill:')
    let i = 0
    while (i < fillers.length && text(await c.command('SET', fillers[i], 'z'.repeat(100 * 1024))) === '+OK\r\n') i++
    expect(i, 'shard 1 filled before running out of keys').toBeLessThan(fillers.length)
    expect(text(await c.command('SET', full, big))).toMatch(OOM)
  }

  it('MSETNX over two shards sets nothing when one of them cannot take its keys', async () => {
    const c = await client()
    await fillShard1(c)
    expect(text(await c.command('MSETNX', onA, 'small', full, big))).toMatch(OOM)
    expect(text(await c.command('EXISTS', onA, full))).toBe(':0\r\n')
    c.close()
  })

  it('MSET on one shard sets none of its keys when they do not all fit', async () => {
    const c = await client()
    await fillShard1(c)
    const [k1, k2] = keysOnShard(1, SHARDS2, 2, 'mset:')
    expect(text(await c.command('MSET', k1, 'small', k2, big))).toMatch(OOM)
    expect(text(await c.command('EXISTS', k1, k2))).toBe(':0\r\n')
    c.close()
  })

  it('RENAME and COPY onto a full shard keep the destination\'s old value', async () => {
    const c = await client()
    await fillShard1(c)
    expect(text(await c.command('SET', onA, big))).toBe('+OK\r\n')
    expect(text(await c.command('RENAME', onA, old))).toMatch(OOM)
    expect(text(await c.command('GET', old))).toBe('$9\r\nold-value\r\n')
    expect(text(await c.command('STRLEN', onA))).toBe(`:${big.length}\r\n`)
    expect(text(await c.command('COPY', onA, old, 'REPLACE'))).toMatch(OOM)
    expect(text(await c.command('GET', old))).toBe('$9\r\nold-value\r\n')
    // A list too: its elements are blocks of their own.
    const elems = Array.from({ length: 60 }, (_v, i) => `${i}:` + 'e'.repeat(5000))
    expect(text(await c.command('RPUSH', onA2, ...elems))).toBe(':60\r\n')
    expect(text(await c.command('RENAME', onA2, old))).toMatch(OOM)
    expect(text(await c.command('GET', old))).toBe('$9\r\nold-value\r\n')
    expect(text(await c.command('LLEN', onA2))).toBe(':60\r\n')
    c.close()
  })
})
