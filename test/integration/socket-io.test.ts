// Client socket I/O both ways the server can do it (src/server/socket-io.ts): on the libuv
// handle (the default) and through Node's streams (FLASHKV_STREAM_IO=1, the fallback). Each way:
// INFO says which is in use; 64 MB of replies to a client that stops reading for a while arrive
// whole and in order once it reads again (writes the kernel cannot take at once, then the
// pause and resume of reading); and a client that half-closes after its commands still gets
// every reply. FlashKV-only: the switch is an environment variable of the server process.
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'

const VALUE_BYTES = 64 * 1024
const VALUES = 8
const GETS = 1024
const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

/** Connects, writes bytes, and returns the socket paused (nothing read yet). */
async function connectPaused (port: number, host: string): Promise<net.Socket> {
  const sock = net.connect({ port, host })
  sock.pause()
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject) })
  return sock
}

/** Reads until `total` bytes or the server closes; resolves with what came. */
function readAll (sock: net.Socket, total: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let got = 0
    const done = (): void => { clearTimeout(timer); resolve(Buffer.concat(chunks)) }
    const timer = setTimeout(() => reject(new Error(`timed out with ${got} of ${total} bytes`)), timeoutMs)
    sock.on('data', (c: Buffer) => { chunks.push(c); got += c.length; if (got >= total) done() })
    sock.once('close', done)
    sock.once('error', reject)
    sock.resume()
  })
}

for (const io of ['handle', 'stream'] as const) {
  describeLocal(`client sockets on the ${io} path`, () => {
    let server: ServerHandle
    let probe: RawClient

    beforeAll(async () => {
      server = await startFlashKV({ shards: 2, env: io === 'stream' ? { FLASHKV_STREAM_IO: '1' } : { FLASHKV_STREAM_IO: '' } })
      probe = await RawClient.connect(server.port, server.host)
    })

    afterAll(async () => {
      probe?.close()
      await server?.stop()
    })

    it(`INFO shards reports client_io:${io}`, async () => {
      const info = (await probe.command('INFO', 'shards')).toString('latin1')
      expect(info).toMatch(new RegExp(`\\r\\nclient_io:${io}\\r\\n`))
    })

    it('64 MB of replies to a client that stops reading arrive whole and in order', async () => {
      // Eight values with different fill bytes, on both shards; GET i asks for value i % 8.
      for (let v = 0; v < VALUES; v++) {
        const reply = await probe.command('SET', `v${v}`, Buffer.alloc(VALUE_BYTES, 97 + v))
        expect(reply.toString()).toBe('+OK\r\n')
      }
      const sock = await connectPaused(server.port, server.host)
      const cmds: Buffer[] = []
      for (let i = 0; i < GETS; i++) cmds.push(encodeCommand(['GET', `v${i % VALUES}`]))
      sock.write(Buffer.concat(cmds))
      // Long enough for the kernel's socket buffers to fill and the server to stop reading.
      await new Promise((resolve) => setTimeout(resolve, 500))
      const header = Buffer.from(`$${VALUE_BYTES}\r\n`)
      const one = header.length + VALUE_BYTES + 2
      const all = await readAll(sock, GETS * one, 30_000)
      sock.destroy()
      expect(all.length).toBe(GETS * one)
      for (let i = 0; i < GETS; i++) {
        const at = i * one
        const fill = 97 + (i % VALUES)
        const ok = all.subarray(at, at + header.length).equals(header) &&
          all[at + header.length] === fill && all[at + one - 3] === fill &&
          all.subarray(at + header.length, at + one - 2).every(b => b === fill) &&
          all[at + one - 2] === 13 && all[at + one - 1] === 10
        if (!ok) expect.fail(`reply ${i} is not $${VALUE_BYTES} of ${String.fromCharCode(fill)}: ${JSON.stringify(all.toString('latin1', at, at + 20))}`)
      }
    }, 60_000)

    it('a client that half-closes after its commands gets every reply, then the close', async () => {
      const sock = await connectPaused(server.port, server.host)
      sock.end(Buffer.concat([encodeCommand(['SET', 'hc', 'b']), encodeCommand(['GET', 'hc']), encodeCommand(['PING'])]))
      const all = await readAll(sock, Number.MAX_SAFE_INTEGER, 5000)
      expect(all.toString('latin1')).toBe('+OK\r\n$1\r\nb\r\n+PONG\r\n')
    })
  })
}
