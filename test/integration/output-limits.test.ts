// client-output-buffer-limit for normal clients, beside a real redis-server 7.0.15: a client that
// sends requests but stops reading is closed once its pending replies pass the hard limit, and
// other clients are not affected. With the default (normal 0 0 0) it is never closed for that.
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

let servers: ServerHandle[] = []
beforeAll(async () => { servers = await Promise.all([startFlashKV({ shards: 4 }), startRedis()]) })
afterAll(async () => { await Promise.all(servers.map(s => s.stop())) })

const GETS = 300
const VALUE = 'x'.repeat(100 * 1024)

/** Sends GETS requests for a 100 KB value without reading; resolves whether the server closed it. */
async function stall (server: ServerHandle, limit: string): Promise<boolean> {
  const admin = await RawClient.connect(server.port, server.host)
  try {
    await admin.command('CONFIG', 'SET', 'client-output-buffer-limit', limit)
    await admin.command('SET', 'obuf:big', VALUE)
    const clients = async (): Promise<number> => Number(/connected_clients:(\d+)/.exec((await admin.command('INFO', 'clients')).toString())?.[1])
    const before = await clients()
    const s = net.connect(server.port, server.host)
    await new Promise<void>(resolve => s.once('connect', () => resolve()))
    let closed = false
    s.on('close', () => { closed = true })
    s.on('error', () => {})
    s.pause()
    s.write(Buffer.from('*2\r\n$3\r\nGET\r\n$8\r\nobuf:big\r\n'.repeat(GETS)))
    // Wait until the server has answered all it will: the client is gone (closed), or it still
    // counts and a later PING from the admin connection comes back after its replies were made.
    let gone = false
    for (let i = 0; i < 100 && !gone; i++) {
      await new Promise(resolve => setTimeout(resolve, 30))
      gone = (await clients()) === before
    }
    s.resume()
    s.destroy()
    return gone || closed
  } finally {
    await admin.command('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0')
    admin.close()
  }
}

describe('client-output-buffer-limit normal', () => {
  it('a hard limit of 1mb closes a client that stopped reading, as Redis does', async () => {
    const [flash, redis] = await Promise.all(servers.map(s => stall(s, 'normal 1mb 0 0')))
    expect(redis).toBe(true)
    expect(flash).toBe(true)
  })

  it('with no limit (the default) the client stays connected', async () => {
    const [flash, redis] = await Promise.all(servers.map(s => stall(s, 'normal 0 0 0')))
    expect(redis).toBe(false)
    expect(flash).toBe(false)
  })
})
