// CONFIG SET port with 4 I/O threads: the new port serves, the old one is refused, and the
// clients of the new port spread over more than one thread (INFO shards' io<i>
// connections_received). Where the threads share the port with SO_REUSEPORT (Node 22.12+, the
// image's Node 24: `bash scripts/test-node24.sh`), each thread binds the new port. On Node 20
// (shared-fd) only I/O thread 0 binds it, so that part is skipped there (docs/ARCHITECTURE.md,
// "The port").
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, connect } from 'node:net'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { RawClient } from './helpers/raw.js'

const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip
const text = (b: Buffer): string => b.toString('latin1')

async function freePort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

function refused (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(false) })
    s.once('error', err => resolve((err as NodeJS.ErrnoException).code === 'ECONNREFUSED'))
  })
}

function perThread (info: string): number[] {
  return [...info.matchAll(/^io\d+:tid=\d+,connections_received=(\d+)\r$/gm)].map(m => Number(m[1]))
}

describeLocal('CONFIG SET port with --io-threads 4', () => {
  let server: ServerHandle
  let mode = ''
  const clients: RawClient[] = []

  beforeAll(async () => {
    server = await startFlashKV({ shards: 2, extraArgs: ['--io-threads', '4'] })
    const c = await RawClient.connect(server.port, server.host)
    clients.push(c)
    mode = /io_listen:(\S+)\r\n/.exec(text(await c.command('INFO', 'shards')))?.[1] ?? ''
  })

  afterAll(async () => {
    for (const c of clients) c.close()
    await server?.stop()
  })

  it('serves on the new port from every thread that binds it, and refuses the old one', async () => {
    const admin = clients[0]
    const oldPort = server.port
    const port = await freePort()
    expect(text(await admin.command('CONFIG', 'SET', 'port', String(port)))).toBe('+OK\r\n')
    expect(text(await admin.command('CONFIG', 'GET', 'port'))).toBe(`*2\r\n$4\r\nport\r\n$${String(port).length}\r\n${port}\r\n`)
    expect(await refused(oldPort)).toBe(true)
    const before = perThread(text(await admin.command('INFO', 'shards')))
    expect(before.length).toBe(4)
    const fresh: RawClient[] = []
    for (let i = 0; i < 40; i++) fresh.push(await RawClient.connect(port, '127.0.0.1'))
    clients.push(...fresh)
    // Every one of them works.
    for (let i = 0; i < fresh.length; i++) {
      expect(text(await fresh[i].command('SET', `rebind:${i}`, String(i)))).toBe('+OK\r\n')
      expect(text(await fresh[i].command('GET', `rebind:${i}`))).toBe(`$${String(i).length}\r\n${i}\r\n`)
    }
    const after = perThread(text(await admin.command('INFO', 'shards')))
    const took = after.map((n, i) => n - before[i])
    expect(took.reduce((a, b) => a + b, 0)).toBe(40)
    // On Node 20 (shared-fd) only thread 0 binds the new port.
    if (mode === 'shared-fd') expect(took.slice(1)).toEqual([0, 0, 0])
    else expect(took.filter(n => n > 0).length).toBeGreaterThan(1)
  })
})
