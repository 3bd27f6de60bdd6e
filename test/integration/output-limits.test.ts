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

/**
 * Sends GETS requests for a 100 KB value without reading. With `untilGone` it waits for the server
 * to close the client; otherwise until the client holds more than 2 MB of replies (past the point
 * where a 1mb limit would have closed it). Resolves whether the server closed it.
 */
async function stall (server: ServerHandle, limit: string, untilGone: boolean): Promise<boolean> {
  const admin = await RawClient.connect(server.port, server.host)
  try {
    await admin.command('CONFIG', 'SET', 'client-output-buffer-limit', limit)
    await admin.command('SET', 'obuf:big', VALUE)
    const s = net.connect(server.port, server.host)
    await new Promise<void>(resolve => s.once('connect', () => resolve()))
    s.on('error', () => {})
    s.pause()
    const me = `addr=127.0.0.1:${s.localPort} `
    const listed = async (): Promise<boolean> => (await admin.command('CLIENT', 'LIST')).toString('latin1').includes(me)
    // The server lists the client before it is sent anything: on a loaded box its accept can
    // come after our 'connect', and an unlisted client would read as one the server closed.
    for (let i = 0; i < 600 && !(await listed()); i++) await new Promise(resolve => setTimeout(resolve, 50))
    s.write(Buffer.from('*2\r\n$3\r\nGET\r\n$8\r\nobuf:big\r\n'.repeat(GETS)))
    // Polled, with a bound far beyond what either outcome takes, so a loaded box cannot fail it.
    for (let i = 0; i < 600; i++) {
      const line = (await admin.command('CLIENT', 'LIST')).toString('latin1').split('\n').find(l => l.includes(me))
      if (line === undefined) { s.destroy(); return true }
      if (!untilGone && Number(/ omem=(\d+)/.exec(line)?.[1]) > 2 * 1024 * 1024) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    s.destroy()
    return false
  } finally {
    await admin.command('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0')
    admin.close()
  }
}

describe('client-output-buffer-limit normal', () => {
  it('a hard limit of 1mb closes a client that stopped reading, as Redis does', async () => {
    const [flash, redis] = await Promise.all(servers.map(s => stall(s, 'normal 1mb 0 0', true)))
    expect(redis).toBe(true)
    expect(flash).toBe(true)
  })

  it('with no limit (the default) the client stays connected', async () => {
    const [flash, redis] = await Promise.all(servers.map(s => stall(s, 'normal 0 0 0', false)))
    expect(redis).toBe(false)
    expect(flash).toBe(false)
  })
})
