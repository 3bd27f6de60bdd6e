// Output credit (src/server/credits.ts): a client whose unread replies pass 16 MiB has its
// requests parked on their shard, then run as it reads. Parking must keep the client's order on
// each shard, and multi-shard commands that meet parked requests must run after them, whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { shardOfKey } from './helpers/slots.js'

const SHARDS = 2
const MB = 1024 * 1024
let server: ServerHandle

beforeAll(async () => { server = await startFlashKV({ shards: SHARDS }) })
afterAll(async () => { await server?.stop() })

async function totalParked (c: RawClient): Promise<number> {
  const info = (await c.command('INFO', 'shards')).toString('latin1')
  return Number(/total_parked_requests:(\d+)/.exec(info)?.[1] ?? NaN)
}

const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

describeLocal('a client over its output credit', () => {
  it('gets every reply, in order, with its writes and multi-shard commands applied in order', async () => {
    // {a} and {b} on different shards.
    expect(shardOfKey('{a}', SHARDS)).not.toBe(shardOfKey('{b}', SHARDS))
    const admin = await RawClient.connect(server.port, server.host)
    const big = Buffer.alloc(MB, 'q')
    expect((await admin.command('SET', '{a}big', big)).toString()).toBe('+OK\r\n')
    expect((await admin.command('DEL', '{a}x', '{a}y', '{b}z')).toString()).toMatch(/^:\d+\r\n$/)
    const parkedBefore = await totalParked(admin)

    const c = await RawClient.connect(server.port, server.host)
    const cmds: Array<Array<string | Buffer>> = []
    const expected: string[] = []
    const bigReply = `$${MB}\r\n${'q'.repeat(MB)}\r\n`
    // 40 MB of replies: past the credit, so the later ones park.
    for (let i = 0; i < 40; i++) { cmds.push(['GET', '{a}big']); expected.push(bigReply) }
    cmds.push(['SET', '{a}x', '1']); expected.push('+OK\r\n')
    cmds.push(['INCR', '{a}x']); expected.push(':2\r\n')
    cmds.push(['SET', '{b}z', 'b1']); expected.push('+OK\r\n')
    // Multi-shard: its {a} part meets the parked requests and must run after them.
    cmds.push(['MSET', '{a}y', 'y1', '{b}z', 'z1']); expected.push('+OK\r\n')
    cmds.push(['MGET', '{a}x', '{a}y', '{b}z']); expected.push('*3\r\n$1\r\n2\r\n$2\r\ny1\r\n$2\r\nz1\r\n')
    cmds.push(['GET', '{a}big']); expected.push(bigReply)
    cmds.push(['INCR', '{a}x']); expected.push(':3\r\n')
    cmds.push(['GET', '{b}z']); expected.push('$2\r\nz1\r\n')
    c.send(Buffer.concat(cmds.map(encodeCommand)))

    // Requests park while the client is not reading.
    let parked = 0
    for (const deadline = Date.now() + 20_000; parked === 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      parked = await totalParked(admin) - parkedBefore
    }
    expect(parked).toBeGreaterThan(0)

    const replies = await c.readReplies(expected.length, 60_000)
    for (let i = 0; i < expected.length; i++) {
      const got = replies[i].toString('latin1')
      if (got !== expected[i]) expect.fail(`reply ${i} to ${String(cmds[i][0])}: ${JSON.stringify(got.slice(0, 80))}, expected ${JSON.stringify(expected[i].slice(0, 80))}`)
    }
    // Nothing is left parked once the client has read everything.
    const info = (await admin.command('INFO', 'shards')).toString('latin1')
    expect(info).toMatch(/parked_requests:0\r\n/)
    c.close()
    admin.close()
  }, 90_000)
})
