// Cross-shard commands are atomic: many clients race on keys spread over 4 shards, and no client
// ever observes a moved key in both places or in neither, or half of an MSETNX. Also checks that
// commands pipelined behind a cross-shard transaction get their own replies, in order.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4
let server: ServerHandle
beforeAll(async () => { server = await startFlashKV({ shards: SHARDS }) })
afterAll(async () => { await server?.stop() })

async function client (): Promise<RawClient> { return await RawClient.connect(server.port, server.host) }

beforeEach(async () => {
  const c = await client()
  expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
  c.close()
})

/** Sends `rounds` copies of `cmds` in one write and returns every reply as text. */
async function pipelined (c: RawClient, cmds: string[][], rounds: number): Promise<string[]> {
  const one = Buffer.concat(cmds.map(a => encodeCommand(a)))
  c.send(Buffer.concat(Array.from({ length: rounds }, () => one)))
  return (await c.readReplies(cmds.length * rounds, 60_000)).map(b => b.toString('latin1'))
}

describe('cross-shard moves under concurrency', () => {
  const [src] = keysOnShard(0, SHARDS, 1, 'src:')
  const [dst] = keysOnShard(3, SHARDS, 1, 'dst:')

  it('RENAME back and forth: readers always see exactly one of the two keys', async () => {
    const setup = await client()
    await setup.command('SET', src, 'v')
    setup.close()
    const writers = await Promise.all([client(), client()])
    const readers = await Promise.all([client(), client(), client()])
    const [w, ...rs] = await Promise.all([
      Promise.all(writers.map(c => pipelined(c, [['RENAME', src, dst], ['RENAME', dst, src]], 300))),
      ...readers.map(c => pipelined(c, [['MGET', src, dst], ['EXISTS', src, dst]], 300)),
    ])
    for (const replies of rs) {
      for (let i = 0; i < replies.length; i += 2) {
        const nulls = (replies[i].match(/\$-1\r\n/g) ?? []).length
        expect(nulls, `MGET reply ${replies[i]}`).toBe(1)
        expect(replies[i + 1]).toBe(':1\r\n')
      }
    }
    // Racing writers may find the key already moved; every reply is OK or Redis's no-such-key.
    for (const replies of w) for (const r of replies) expect(['+OK\r\n', '-ERR no such key\r\n']).toContain(r)
    for (const c of [...writers, ...readers]) c.close()
  })

  it('MSETNX over four shards: readers see all of a group or none of it', async () => {
    const keys = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `g:${s}:`)[0])
    const writers = await Promise.all([client(), client()])
    const readers = await Promise.all([client(), client()])
    const cycle = (v: string): string[][] => [['MSETNX', ...keys.flatMap(k => [k, v])], ['DEL', ...keys]]
    const [, ...rs] = await Promise.all([
      Promise.all(writers.map((c, i) => pipelined(c, cycle(`w${i}`), 300))),
      ...readers.map(c => pipelined(c, [['MGET', ...keys]], 600)),
    ])
    for (const replies of rs) {
      for (const r of replies) {
        const values = [...r.matchAll(/\$(-1|2\r\n(w\d))\r\n/g)].map(m => m[2] ?? null)
        expect(values.length).toBe(4)
        expect(new Set(values).size, `MGET ${JSON.stringify(r)}`).toBe(1)
      }
    }
    for (const c of [...writers, ...readers]) c.close()
  })
})

describe('replies stay in order around transactions', () => {
  it('commands pipelined behind cross-shard RENAME and MSETNX get their own replies', async () => {
    const [a] = keysOnShard(1, SHARDS, 1, 'a:')
    const [b] = keysOnShard(2, SHARDS, 1, 'b:')
    const c = await client()
    const cmds = [['SET', a, '1'], ['RENAME', a, b], ['GET', b], ['GET', a], ['MSETNX', a, 'x', b, 'y'], ['PING'], ['RENAME', b, a], ['GET', a], ['MGET', a, b]]
    const replies = await pipelined(c, cmds, 50)
    const expected = ['+OK\r\n', '+OK\r\n', '$1\r\n1\r\n', '$-1\r\n', ':0\r\n', '+PONG\r\n', '+OK\r\n', '$1\r\n1\r\n', '*2\r\n$1\r\n1\r\n$-1\r\n']
    for (let i = 0; i < replies.length; i++) expect(replies[i], `reply ${i} to ${cmds[i % cmds.length].join(' ')}`).toBe(expected[i % cmds.length])
    c.close()
  })
})
