// --io-threads N: several threads own client sockets (src/server/io-threads.ts). They listen on
// one port (SO_REUSEPORT where Node has it, else the first thread's socket, shared), and what a
// client sees must not depend on which thread took it: client ids, CLIENT LIST and KILL,
// connected_clients and maxclients cover every thread. The rest of the integration suite runs
// with 4 I/O threads too (npm run test:io-threads).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'

const THREADS = 3
const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip
const text = (b: Buffer): string => b.toString('latin1')

function hasReusePort (): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

describeLocal(`--io-threads ${THREADS}`, () => {
  let server: ServerHandle
  const clients: RawClient[] = []

  beforeAll(async () => {
    server = await startFlashKV({ shards: 2, extraArgs: ['--io-threads', String(THREADS), '--maxclients', '12', '--log-level', 'info'] })
    // Enough clients that every thread has some (the kernel or the threads' race spreads them).
    for (let i = 0; i < 10; i++) clients.push(await RawClient.connect(server.port, server.host))
  })

  afterAll(async () => {
    for (const c of clients) c.close()
    await server?.stop()
  })

  it('INFO and the start line say how many threads and how they share the port', async () => {
    const mode = hasReusePort() ? 'reuseport' : 'shared-fd'
    const info = text(await clients[0].command('INFO', 'shards'))
    expect(info).toContain(`io_threads:${THREADS}\r\n`)
    expect(info).toContain(`io_listen:${mode}\r\n`)
    const tids = [...info.matchAll(/^io(\d+):tid=(\d+),connections_received=\d+\r$/gm)]
    expect(tids.map((m) => Number(m[1]))).toEqual([0, 1, 2])
    expect(new Set(tids.map((m) => m[2])).size).toBe(THREADS)
    // Redis's io-threads directive, immutable there too.
    expect(text(await clients[0].command('CONFIG', 'GET', 'io-threads'))).toBe(`*2\r\n$10\r\nio-threads\r\n$1\r\n${THREADS}\r\n`)
    const start = JSON.parse(server.logs().split('\n')[0]) as Record<string, unknown>
    expect(start.ioThreads).toBe(THREADS)
    expect(start.ioListen).toBe(mode)
  })

  it('client ids are unique across threads, and CLIENT LIST shows every client once, by id', async () => {
    const ids: number[] = []
    for (const c of clients) ids.push(Number(/^:(\d+)/.exec(text(await c.command('CLIENT', 'ID')))?.[1]))
    expect(new Set(ids).size).toBe(clients.length)
    const list = text(await clients[3].command('CLIENT', 'LIST'))
    const listed = [...list.matchAll(/(?:^|\n)id=(\d+) /g)].map((m) => Number(m[1]))
    expect(listed).toEqual([...listed].sort((a, b) => a - b))
    for (const id of ids) expect(listed).toContain(id)
    expect(text(await clients[0].command('INFO', 'clients'))).toMatch(/connected_clients:10\r\n/)
  })

  it('CLIENT KILL ID reaches a client on any thread', async () => {
    const victim = await RawClient.connect(server.port, server.host)
    const id = /^:(\d+)/.exec(text(await victim.command('CLIENT', 'ID')))?.[1] as string
    expect(text(await clients[5].command('CLIENT', 'KILL', 'ID', id))).toBe(':1\r\n')
    const { closed } = await victim.readUntilClose(10_000)
    expect(closed).toBe(true)
  })

  it('maxclients holds over all threads together', async () => {
    // 10 clients are connected: two more fit, the next is refused, whichever thread takes it.
    const extra = [await RawClient.connect(server.port, server.host), await RawClient.connect(server.port, server.host)]
    for (const c of extra) expect(text(await c.command('PING'))).toBe('+PONG\r\n')
    const over = await RawClient.connect(server.port, server.host)
    const { data } = await over.readUntilClose(10_000)
    expect(text(data)).toBe('-ERR max number of clients reached\r\n')
    for (const c of extra) c.close()
  })

  it('CONFIG SET on one thread is seen by clients of every thread', async () => {
    expect(text(await clients[1].command('CONFIG', 'SET', 'maxmemory', '1'))).toBe('+OK\r\n')
    for (const c of clients) expect(text(await c.command('SET', 'k', 'v'))).toMatch(/^-OOM /)
    expect(text(await clients[2].command('CONFIG', 'SET', 'maxmemory', '0'))).toBe('+OK\r\n')
    for (const c of clients) expect(text(await c.command('SET', 'k', 'v'))).toBe('+OK\r\n')
  })

  it('functions loaded, replaced, restored and deleted on one thread are what every thread runs', async () => {
    const code = (n: number): string => `#!lua name=io\nredis.register_function('iof', function(k, a) return ${n} end)`
    const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`
    expect(text(await clients[0].command('FUNCTION', 'LOAD', code(1)))).toBe(bulk('io'))
    for (const c of clients) expect(text(await c.command('FCALL', 'iof', '0'))).toBe(':1\r\n')
    expect(text(await clients[4].command('FUNCTION', 'LOAD', 'REPLACE', code(2)))).toBe(bulk('io'))
    for (const c of clients) expect(text(await c.command('FCALL', 'iof', '0'))).toBe(':2\r\n')
    const dumps = new Set<string>()
    for (const c of clients) dumps.add(text(await c.command('FUNCTION', 'DUMP')))
    expect(dumps.size).toBe(1)
    expect(text(await clients[7].command('FUNCTION', 'DELETE', 'io'))).toBe('+OK\r\n')
    for (const c of clients) expect(text(await c.command('FCALL', 'iof', '0'))).toBe('-ERR Function not found\r\n')
    const dump = [...dumps][0]
    const payload = Buffer.from(dump.slice(dump.indexOf('\r\n') + 2, -2), 'latin1')
    expect(text(await clients[9].command('FUNCTION', 'RESTORE', payload))).toBe('+OK\r\n')
    for (const c of clients) {
      expect(text(await c.command('FCALL', 'iof', '0'))).toBe(':2\r\n')
      expect(text(await c.command('FUNCTION', 'STATS'))).toContain('libraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n')
    }
    expect(text(await clients[3].command('FUNCTION', 'FLUSH'))).toBe('+OK\r\n')
    for (const c of clients) expect(text(await c.command('FUNCTION', 'LIST'))).toBe('*0\r\n')
  })
})
