// A pipelined client whose replies outgrow a shard's 1 MiB reply ring in one batch: the shard
// waits for the primary to drain the ring, and the primary's release must wake it. A lost
// wake-up there (fixed in 9fbd75d: the shard read the ring's tail after its failed try, so a
// release in between was missed) did not change any reply, only slept 50 ms per full ring, so
// this test asserts the count INFO keeps of those waits and of the ones that ran to their
// timeout, not a clock: with the client reading all the time, the primary drains every full
// ring long before 50 ms, so a timeout is a missed wake-up. Measured here (15 rounds): 0 of 90
// waits timed out with the fix, 9-16 of 90 before it; a loaded box may preempt the primary past
// 50 ms now and then, hence the margin of one in thirty.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

let server: ServerHandle

beforeAll(async () => {
  server = await startFlashKV({ shards: 1 })
})

afterAll(async () => {
  await server?.stop()
})

function field (info: string, name: string): number {
  const m = new RegExp(`^${name}:(\\d+)\\r$`, 'm').exec(info)
  if (m === null) throw new Error(`INFO has no ${name}`)
  return Number(m[1])
}

it('a batch of replies bigger than the reply ring: every full ring is drained without a timed-out wait', async () => {
  const c = await RawClient.connect(server.port, server.host)
  const value = Buffer.alloc(64 * 1024, 'v')
  expect((await c.command('SET', 'big', value)).toString('latin1')).toBe('+OK\r\n')
  const list = Array.from({ length: 600 }, (_, i) => `element:${i}`)
  expect((await c.command('RPUSH', 'list', ...list)).toString('latin1')).toBe(':600\r\n')
  expect((await c.command('CONFIG', 'RESETSTAT')).toString('latin1')).toBe('+OK\r\n')

  const expectedGet = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')])
  const getBatch = Buffer.concat(Array.from({ length: 64 }, () => encodeCommand(['GET', 'big'])))
  const rangeBatch = Buffer.concat(Array.from({ length: 200 }, () => encodeCommand(['LRANGE', 'list', '0', '-1'])))
  const expectedRange = Buffer.concat([Buffer.from('*600\r\n'), ...list.map(e => Buffer.from(`$${e.length}\r\n${e}\r\n`))])
  for (let round = 0; round < 30; round++) {
    // 4 MiB of 64 KiB replies, then 200 LRANGE replies of ~8.5 KB (1.7 MB) of many elements each.
    c.send(getBatch)
    const gets = await c.readReplies(64, 30_000)
    for (const r of gets) expect(r.equals(expectedGet)).toBe(true)
    c.send(rangeBatch)
    const ranges = await c.readReplies(200, 30_000)
    for (const r of ranges) expect(r.equals(expectedRange)).toBe(true)
  }

  const info = (await c.command('INFO', 'shards')).toString('latin1')
  const waits = field(info, 'reply_ring_full_waits')
  const timeouts = field(info, 'reply_ring_full_timeouts')
  // 60 batches of 1.7-4 MiB each fill the 1 MiB ring several times over (180 waits here); a
  // primary with a core of its own drains more of it while the shard writes, hence the margin.
  expect(waits).toBeGreaterThanOrEqual(30)
  expect(timeouts, `${timeouts} of ${waits} waits for room in the reply ring timed out`).toBeLessThanOrEqual(Math.floor(waits / 30))
  c.close()
})
