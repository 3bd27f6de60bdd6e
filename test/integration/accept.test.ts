// Bursts of short-lived clients. Each client gets one Socket made straight from its accepted
// handle (server/socket-io.ts acceptRaw), and a closed client's read and reply buffers go to
// the next one (server/connection.ts): a buffer handed on while its old client could still
// write into it, or read from it, would show here as one client's bytes in another's reply.
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { encodeCommand, infoNumber, RawClient } from './helpers/raw.js'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'

let server: ServerHandle
useFlushedFlashKV({ shards: 2 }, s => { server = s })

/** A value of its own for client i: sizes from a few bytes to past the 16 KiB buffers. */
function valueOf (round: number, i: number): Buffer {
  const size = (i * 7919 + round * 104729) % 40_000 + 1
  const b = Buffer.alloc(size, 97 + (i % 26))
  b.write(`r${round}c${i}:`, 0, 'latin1')
  return b
}

type Ending = 'quit' | 'destroy' | 'reset-unread'

/**
 * One client: connects, sends SET and GET of its own key in one write as soon as it is
 * connected, and checks both replies byte for byte; then leaves as `ending` says. A
 * 'reset-unread' client also sends a GET of a large value and resets without reading it.
 */
function client (port: number, round: number, i: number, ending: Ending): Promise<void> {
  return new Promise((resolve, reject) => {
    const key = `acc:${round}:${i}`
    const value = valueOf(round, i)
    const expected = Buffer.concat([Buffer.from('+OK\r\n'), Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')])
    const s = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let got = 0
    s.on('error', err => { if (ending !== 'reset-unread') reject(err) })
    s.once('connect', () => { s.write(Buffer.concat([encodeCommand(['SET', key, value]), encodeCommand(['GET', key])])) })
    s.on('data', d => {
      chunks.push(d)
      got += d.length
      if (got < expected.length) return
      s.removeAllListeners('data')
      const reply = Buffer.concat(chunks)
      if (!reply.subarray(0, expected.length).equals(expected)) {
        reject(new Error(`client ${round}/${i}: ${reply.subarray(0, 80).toString('latin1')}... (${reply.length} bytes, ${expected.length} expected)`))
        return
      }
      if (ending === 'quit') {
        s.on('data', () => {})
        s.once('close', () => resolve())
        s.write(encodeCommand(['QUIT']))
      } else if (ending === 'destroy') {
        s.destroy()
        resolve()
      } else {
        s.write(encodeCommand(['GET', 'acc:big']))
        setImmediate(() => { s.resetAndDestroy(); resolve() })
      }
    })
  })
}

describe('bursts of new clients', () => {
  it('300 clients at once, 4 rounds: each reads back exactly its own value, whichever way the others leave; none is left behind', async () => {
    const admin = await RawClient.connect(server.port, server.host)
    expect((await admin.command('SET', 'acc:big', 'x'.repeat(1 << 20))).toString('latin1')).toBe('+OK\r\n')
    const before = await infoNumber(admin, 'clients', 'connected_clients')
    const endings: Ending[] = ['quit', 'destroy', 'reset-unread']
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 300 }, (_v, i) => client(server.port, round, i, endings[(i + round) % 3])))
    }
    // Closing is asynchronous on the server's side: wait for the count to come back (the poll is
    // bounded inside the test's own timeout, so a slow box waits longer rather than failing).
    let now = await infoNumber(admin, 'clients', 'connected_clients')
    for (let i = 0; i < 400 && now !== before; i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
      now = await infoNumber(admin, 'clients', 'connected_clients')
    }
    expect(now).toBe(before)
    // Every value is still whole in the keyspace.
    for (const i of [0, 1, 2, 149, 299]) {
      const v = valueOf(3, i)
      expect((await admin.command('GET', `acc:3:${i}`)).equals(Buffer.concat([Buffer.from(`$${v.length}\r\n`), v, Buffer.from('\r\n')]))).toBe(true)
    }
    admin.close()
  })
})
