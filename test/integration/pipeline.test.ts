// Pipelines through one connection to a 4-shard server: a 10,000-command write of mixed
// commands (single-key, multi-key across shards, primary-only) whose replies must come back in
// order and match a Map model; the same bytes cut into random chunks with delays; 1,000 keys
// landing on every shard; MSET atomicity under concurrent writers and readers; and a client that
// does not read its replies (the server must apply back-pressure, not buffer 1 GB, and keep
// serving others; the bounds it does not meet yet are in backpressure.test.ts).
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startFlashKV, REDIS_URL, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { defaultReplyWaitUs, usableCores } from '../../src/config.js'

const SHARDS = 4
let shared: ServerHandle
let server: ServerHandle

beforeAll(async () => {
  shared = server = await startFlashKV({ shards: SHARDS })
})

afterAll(async () => {
  await shared?.stop()
})

beforeEach(async () => {
  server = shared
  const c = await RawClient.connect(server.port, server.host)
  expect((await c.command('FLUSHALL')).toString('latin1')).toBe('+OK\r\n')
  c.close()
})

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const bulk = (v: Buffer | undefined): Buffer =>
  v === undefined ? Buffer.from('$-1\r\n') : Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')])
const int = (n: number): Buffer => Buffer.from(`:${n}\r\n`)
const OK = Buffer.from('+OK\r\n')

interface Workload { commands: Buffer[], expected: Buffer[], bytes: Buffer }

/**
 * n random commands over 300 keys (spread over all shards) with the RESP2 reply each one must
 * get, computed with a Map model of the keyspace.
 */
function workload (n: number, seed: number): Workload {
  const rand = prng(seed)
  const pick = (k: number): number => Math.floor(rand() * k)
  const key = (): string => `key:${pick(300)}`
  const value = (): Buffer => {
    if (pick(10) === 0) return Buffer.from(Array.from({ length: pick(40) }, () => pick(256))) // binary
    return Buffer.from(`v${pick(1_000_000)}`.repeat(1 + pick(4)))
  }
  const model = new Map<string, Buffer>()
  const commands: Buffer[] = []
  const expected: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const r = pick(100)
    let args: Array<string | Buffer>
    let reply: Buffer
    if (r < 25) {
      const k = key(); const v = value()
      args = ['SET', k, v]; model.set(k, v); reply = OK
    } else if (r < 50) {
      const k = key()
      args = ['GET', k]; reply = bulk(model.get(k))
    } else if (r < 58) {
      const keys = Array.from({ length: 1 + pick(5) }, key)
      args = ['DEL', ...keys]
      let removed = 0
      for (const k of keys) if (model.delete(k)) removed++
      reply = int(removed)
    } else if (r < 66) {
      const keys = Array.from({ length: 1 + pick(6) }, key)
      args = ['EXISTS', ...keys]; reply = int(keys.filter((k) => model.has(k)).length)
    } else if (r < 78) {
      const keys = Array.from({ length: 1 + pick(12) }, key)
      args = ['MGET', ...keys]
      reply = Buffer.concat([Buffer.from(`*${keys.length}\r\n`), ...keys.map((k) => bulk(model.get(k)))])
    } else if (r < 88) {
      args = ['MSET']
      for (let j = 1 + pick(6); j > 0; j--) {
        const k = key(); const v = value()
        args.push(k, v); model.set(k, v)
      }
      reply = OK
    } else if (r < 94) {
      args = ['PING']; reply = Buffer.from('+PONG\r\n')
    } else {
      const msg = value()
      args = ['ECHO', msg]; reply = bulk(msg)
    }
    commands.push(encodeCommand(args))
    expected.push(reply)
  }
  return { commands, expected, bytes: Buffer.concat(commands) }
}

/** Printable first bytes of a reply, for failure messages. */
const show = (b: Buffer): string => JSON.stringify(b.toString('latin1', 0, 120))

function expectReplies (replies: Buffer[], w: Workload): void {
  expect(replies).toHaveLength(w.expected.length)
  for (let i = 0; i < replies.length; i++) {
    if (!replies[i].equals(w.expected[i])) {
      expect.fail(`reply ${i} to ${show(w.commands[i])}: expected ${show(w.expected[i])}, got ${show(replies[i])}`)
    }
  }
}

// Each reply path: the default here (2 cores: the primary blocks for replies at the end of its
// turn), never blocking (replies arrive by message), and a 1 µs bound that almost always runs out
// and leaves the replies to the message path.
describe.each([
  ['default reply wait', null],
  ['--reply-wait-us 0', '0'],
  ['--reply-wait-us 1', '1'],
])('one connection, many shards (%s)', (_label, wait) => {
  let own: ServerHandle | null = null
  let server: ServerHandle
  beforeAll(async () => {
    if (wait !== null && (REDIS_URL === undefined || REDIS_URL === '')) own = await startFlashKV({ shards: SHARDS, extraArgs: ['--reply-wait-us', wait] })
  })
  afterAll(async () => { await own?.stop() })
  beforeEach(async () => {
    server = own ?? shared
    const c = await RawClient.connect(server.port, server.host)
    expect((await c.command('FLUSHALL')).toString('latin1')).toBe('+OK\r\n')
    c.close()
  })

  it('a single write of 10,000 mixed commands gets every reply, in order', async () => {
    const w = workload(10_000, 1)
    const c = await RawClient.connect(server.port, server.host)
    c.send(w.bytes)
    expectReplies(await c.readReplies(w.expected.length, 15_000), w)
    if (REDIS_URL === undefined || REDIS_URL === '') {
      // The server runs the reply path this block is about, and says so.
      const info = (await c.command('INFO', 'shards')).toString('latin1')
      const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)\r$`, 'm').exec(info)?.[1])
      const bound = wait === null ? defaultReplyWaitUs(SHARDS, usableCores()) : Number(wait)
      expect(field('reply_wait_us')).toBe(bound)
      if (bound === 0) expect(field('reply_waits')).toBe(0)
      else expect(field('reply_waits')).toBeGreaterThan(0)
      expect(field('reply_wait_timeouts')).toBeLessThanOrEqual(field('reply_waits'))
    }
    c.close()
  })

  it('1,000 keys written through one connection land on all 4 shards', async () => {
    const c = await RawClient.connect(server.port, server.host)
    const cmds: Buffer[] = []
    for (let i = 0; i < 1000; i++) cmds.push(encodeCommand(['SET', `spread:${i}`, String(i)]))
    c.send(Buffer.concat(cmds))
    const replies = await c.readReplies(1000, 10_000)
    expect(new Set(replies.map((r) => r.toString('latin1')))).toEqual(new Set(['+OK\r\n']))
    expect((await c.command('DBSIZE')).toString('latin1')).toBe(':1000\r\n')
    if (REDIS_URL === undefined || REDIS_URL === '') { // INFO shards and exact stats are FlashKV's
      const info = (await c.command('INFO', 'shards')).toString('latin1')
      const lines = [...info.matchAll(/^shard(\d+):keys=(\d+),expires=(\d+),used_memory=(\d+),tid=(\d+)\r$/gm)]
      expect(lines.map((m) => Number(m[1]))).toEqual([0, 1, 2, 3])
      const counts = lines.map((m) => Number(m[2]))
      for (const n of counts) expect(n).toBeGreaterThan(0)
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1000)
    }
    c.close()
  })

  it('the same pipeline cut into random chunks (1 byte .. 4 KB) with delays gets the same replies', async () => {
    const w = workload(10_000, 2)
    const rand = prng(3)
    const c = await RawClient.connect(server.port, server.host)
    const replies = c.readReplies(w.expected.length, 20_000)
    let pos = 0
    let chunks = 0
    while (pos < w.bytes.length) {
      // Mostly small cuts (inside headers, lengths, CRLFs), now and then a large one.
      const size = rand() < 0.5 ? 1 + Math.floor(rand() * 16) : 1 + Math.floor(rand() * 4096)
      c.send(w.bytes.subarray(pos, pos + size))
      pos += size
      chunks++
      // A real pause every few chunks so that the server sees partial commands between reads.
      if (chunks % 8 === 0) await new Promise((resolve) => setTimeout(resolve, rand() < 0.2 ? 2 : 0))
    }
    expectReplies(await replies, w)
    c.close()
  })
})

describe('MSET is atomic across shards', () => {
  it('concurrent MSETs of the same 8 keys never leave a mix visible to MGET', async () => {
    // Eight keys, two per shard (found by trying names), so every MSET touches all four shards.
    const keys: string[] = []
    const perShard = new Array<number>(SHARDS).fill(0)
    for (let i = 0; keys.length < 8; i++) {
      const k = `atomic:${i}`
      const s = shardOfKey(k, SHARDS)
      if (perShard[s] < 2) { perShard[s]++; keys.push(k) }
    }
    const WRITERS = 4
    const READERS = 4
    const ROUNDS = 20
    const BATCH = 50
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => RawClient.connect(server.port, server.host)))
    const readers = await Promise.all(Array.from({ length: READERS }, () => RawClient.connect(server.port, server.host)))
    const seed = await RawClient.connect(server.port, server.host)
    expect((await seed.command('MSET', ...keys.flatMap((k) => [k, 'init']))).toString()).toBe('+OK\r\n')
    seed.close()

    const write = async (c: RawClient, id: number): Promise<void> => {
      for (let r = 0; r < ROUNDS; r++) {
        const batch: Buffer[] = []
        for (let b = 0; b < BATCH; b++) {
          const v = `w${id}-${r}-${b}`
          batch.push(encodeCommand(['MSET', ...keys.flatMap((k) => [k, v])]))
        }
        c.send(Buffer.concat(batch))
        for (const reply of await c.readReplies(BATCH, 10_000)) expect(reply.toString()).toBe('+OK\r\n')
      }
    }
    let mgets = 0
    const mixed: string[] = []
    const read = async (c: RawClient): Promise<void> => {
      const mget = encodeCommand(['MGET', ...keys])
      for (let r = 0; r < ROUNDS; r++) {
        c.send(Buffer.concat(new Array<Buffer>(BATCH).fill(mget)))
        for (const reply of await c.readReplies(BATCH, 10_000)) {
          const values = reply.toString('latin1').split('\r\n').filter((_, i) => i > 0 && i % 2 === 0)
          expect(values).toHaveLength(8)
          mgets++
          if (new Set(values).size !== 1 && mixed.length < 5) mixed.push(values.join(' '))
        }
      }
    }
    await Promise.all([...writers.map(write), ...readers.map(read)])
    expect(mixed, 'MGET replies that mix values of different MSETs').toEqual([])
    expect(mgets).toBe(READERS * ROUNDS * BATCH)
    for (const c of [...writers, ...readers]) c.close()
  })
})

/** The server process's resident set size in bytes (Linux /proc), or INFO's used_memory_rss. */
async function serverRss (probe: RawClient): Promise<number> {
  if (server.pid > 0) {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))
    if (m !== null) return Number(m[1]) * 1024
  }
  const info = (await probe.command('INFO', 'memory')).toString('latin1')
  return Number(/used_memory_rss:(\d+)/.exec(info)?.[1] ?? NaN)
}

describe('a client that does not read its replies', () => {
  it('100,000 GETs of a 10 KB value: memory does not hold every reply, others served, all replies in order once read', async () => {
    const KEYS = 16
    const N = 100_000
    const values = Array.from({ length: KEYS }, (_, k) => Buffer.alloc(10 * 1024, `value-${k}-`))
    const probe = await RawClient.connect(server.port, server.host)
    for (let k = 0; k < KEYS; k++) expect((await probe.command('SET', `big:${k}`, values[k])).toString()).toBe('+OK\r\n')
    const replies = values.map((v) => bulk(v))
    const smallKeys = [0, 1, 2, 3].map((s) => keysOnShard(s, SHARDS, 1, 'small:')[0])
    for (const k of smallKeys) expect((await probe.command('SET', k, k)).toString()).toBe('+OK\r\n')
    const rssBefore = await serverRss(probe)

    // A socket that is paused from the start: the kernel buffers fill and the server must stop.
    const sock = net.connect({ port: server.port, host: server.host })
    sock.pause()
    await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
    const gets = Array.from({ length: KEYS }, (_, k) => encodeCommand(['GET', `big:${k}`]))
    const request = Buffer.concat(Array.from({ length: N }, (_, i) => gets[i % KEYS]))
    sock.write(request)

    // For ~1.2 s: memory stays bounded and another connection's PING is answered within 1 s.
    // Its GETs (one key per shard) are answered too, though they may queue behind the flood's
    // GETs already staged on that shard (measured 2 s, and over 5 s with other test files
    // running): only "answered" is checked here; backpressure.test.ts has the latency bound.
    let peak = rssBefore
    let slowestPing = 0
    for (let t = 0; t < 6; t++) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      peak = Math.max(peak, await serverRss(probe))
      const t0 = Date.now()
      const pong = await probe.command('PING')
      slowestPing = Math.max(slowestPing, Date.now() - t0)
      expect(pong.toString()).toBe('+PONG\r\n')
      for (const k of smallKeys) {
        probe.send(encodeCommand(['GET', k]))
        const [reply] = await probe.readReplies(1, 30_000)
        expect(reply.toString()).toBe(`$${k.length}\r\n${k}\r\n`)
      }
    }
    expect(slowestPing).toBeLessThan(1000)
    // Loose bound: the 1 GB of replies must not all be held (let alone twice). A tight bound
    // fails today (see backpressure.test.ts): back-pressure counts commands in flight (up to
    // 65,536 × 10 KB ≈ 670 MB of replies), and growth was measured at 250–890 MB here.
    expect(peak - rssBefore, `RSS grew from ${rssBefore} to ${peak}`).toBeLessThan(1536 * 1024 * 1024)

    // Now read: every reply, in order, compared as the bytes stream in (1 GB, never kept whole).
    let index = 0
    let offset = 0 // bytes of replies[index % KEYS] matched so far
    let mismatch: string | null = null
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${index} of ${N} replies`)), 60_000)
      const finish = (err?: Error): void => { clearTimeout(timer); if (err !== undefined) reject(err); else resolve() }
      sock.on('data', (chunk: Buffer) => {
        let p = 0
        while (p < chunk.length && mismatch === null) {
          if (index >= N) { mismatch = `extra bytes after ${N} replies`; break }
          const want = replies[index % KEYS]
          const n = Math.min(want.length - offset, chunk.length - p)
          if (chunk.compare(want, offset, offset + n, p, p + n) !== 0) {
            mismatch = `reply ${index} (GET big:${index % KEYS}) differs at byte ${offset}: ` +
              show(chunk.subarray(p, p + 60))
            break
          }
          p += n
          offset += n
          if (offset === want.length) { index++; offset = 0 }
        }
        if (mismatch !== null) { sock.destroy(); finish(new Error(mismatch)) } else if (index === N) finish()
      })
      sock.on('error', finish)
      sock.on('close', () => finish(new Error(`connection closed after ${index} of ${N} replies`)))
      sock.resume()
    })
    expect(index).toBe(N)
    sock.destroy()
    expect((await probe.command('PING')).toString()).toBe('+PONG\r\n')
    probe.close()
  }, 90_000)
})
