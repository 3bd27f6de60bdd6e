// What a client that sends many commands and does not read its replies may cost the server and
// the other clients. Each connection has 16 MiB of output credit (src/server/credits.ts): past
// it, its requests park on their shard until it reads, so such a client makes the server hold
// only a bounded amount, and other clients on the same shard are not stuck behind a long queue.
// (Before any bound: ~500 MB held and 4.6 s of delay for the case below.)
// FlashKV-only (skipped with REDIS_URL: Redis buffers a normal client's output without limit).
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4
const VALUE_BYTES = 64 * 1024
const GETS = 8000 // 500 MB of replies
let server: ServerHandle
let probe: RawClient

beforeAll(async () => {
  server = await startFlashKV({ shards: SHARDS })
  probe = await RawClient.connect(server.port, server.host)
})

afterAll(async () => {
  probe?.close()
  await server?.stop()
})

beforeEach(async () => {
  // Queued behind whatever a previous test's flood left in the shards: allow for it.
  probe.send(encodeCommand(['FLUSHALL']))
  const [ok] = await probe.readReplies(1, 30_000)
  expect(ok.toString()).toBe('+OK\r\n')
})

/** The server process's resident set size in bytes (Linux /proc), or INFO's used_memory_rss. */
async function serverRss (): Promise<number> {
  if (server.pid > 0) {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))
    if (m !== null) return Number(m[1]) * 1024
  }
  const info = (await probe.command('INFO', 'memory')).toString('latin1')
  return Number(/used_memory_rss:(\d+)/.exec(info)?.[1] ?? NaN)
}

/** Connects a socket that never reads and writes GETS × `GET huge` to it. */
async function flood (): Promise<net.Socket> {
  const sock = net.connect({ port: server.port, host: server.host })
  sock.pause()
  sock.on('error', () => {})
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  sock.write(Buffer.concat(new Array<Buffer>(GETS).fill(encodeCommand(['GET', 'huge']))))
  return sock
}

const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

describeLocal('a client that does not read its replies ', () => {
  // First in the file, so the server's heap has not yet grown: freed memory would hide growth.
  // 300 MB leaves room for the 32 MB high-water mark, one read's worth of commands and the heap.
  it('8,000 GETs of a 64 KB value keep the server\'s growth under 300 MB', async () => {
    const LIMIT = 300 * 1024 * 1024
    expect((await probe.command('SET', 'huge', Buffer.alloc(VALUE_BYTES, 'h'))).toString()).toBe('+OK\r\n')
    const before = await serverRss()
    const sock = await flood()
    try {
      let growth = 0
      for (const deadline = Date.now() + 8000; Date.now() < deadline && growth < LIMIT;) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        growth = await serverRss() - before
      }
      expect(growth, `server RSS grew by ${Math.round(growth / 1048576)} MB`).toBeLessThan(LIMIT)
    } finally {
      sock.destroy()
    }
  }, 30_000)

  it('meanwhile the shard parks its GETs instead of running them, and answers another client on it', async () => {
    const small = keysOnShard(shardOfKey('huge', SHARDS), SHARDS, 1, 'small:')[0]
    expect((await probe.command('SET', 'huge', Buffer.alloc(VALUE_BYTES, 'h'))).toString()).toBe('+OK\r\n')
    expect((await probe.command('SET', small, 'v')).toString()).toBe('+OK\r\n')
    const other = await RawClient.connect(server.port, server.host)
    const sock = await flood()
    try {
      // The flood's GETs beyond its credit wait on the shard, as copies, rather than run.
      let parked = 0
      for (const deadline = Date.now() + 20_000; parked === 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        parked = Number(/parked_requests:(\d+)/.exec((await probe.command('INFO', 'shards')).toString('latin1'))?.[1])
      }
      expect(parked, 'requests parked for the client that does not read').toBeGreaterThan(0)
      other.send(encodeCommand(['GET', small]))
      other.send(encodeCommand(['PING']))
      const [reply, pong] = await other.readReplies(2, 20_000)
      expect(pong.toString()).toBe('+PONG\r\n')
      expect(reply.toString()).toBe('$1\r\nv\r\n')
    } finally {
      sock.destroy()
      other.close()
    }
  }, 30_000)
})
