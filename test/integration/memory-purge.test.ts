// MEMORY PURGE gives memory back (Redis asks jemalloc to purge its dirty pages): after a DEL of
// 40% of 100 MB of values, which leaves the arenas' free blocks in place (less than half free,
// so the shards' own compaction leaves them be), MEMORY PURGE answers +OK and the shards copy
// their arenas afresh: used_memory (which counts the arenas' free blocks) and the process's RSS
// go down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { RawClient, encodeCommand, infoNumber } from './helpers/raw.js'

let server: ServerHandle
let c: RawClient
const describeFlashKV = describe.skipIf(REDIS_URL !== undefined && REDIS_URL !== '')

beforeAll(async () => {
  if (REDIS_URL !== undefined && REDIS_URL !== '') return
  server = await startFlashKV({ shards: 2 })
  c = await RawClient.connect(server.port, server.host)
})
afterAll(async () => {
  c?.close()
  await server?.stop()
})

async function info (field: string): Promise<number> { return await infoNumber(c, 'memory', field) }

async function pipeline (cmds: string[][]): Promise<void> {
  for (let i = 0; i < cmds.length; i += 50) {
    const batch = cmds.slice(i, i + 50)
    c.send(Buffer.concat(batch.map(a => encodeCommand(a))))
    for (const r of await c.readReplies(batch.length, 30_000)) expect(r.toString('latin1', 0, 1)).not.toBe('-')
  }
}

describeFlashKV('MEMORY PURGE', () => {
  it('after a big DEL, compacts the arenas: used_memory and RSS go down', async () => {
    const N = 400
    const value = 'p'.repeat(256 * 1024)
    await pipeline(Array.from({ length: N }, (_, i) => ['SET', `purge:${i}`, value]))
    const deleted = Array.from({ length: N }, (_, i) => i).filter(i => i % 5 < 2)
    await pipeline(deleted.map(i => ['DEL', `purge:${i}`]))
    const usedBefore = await info('used_memory')
    const rssBefore = await info('used_memory_rss')
    expect((await c.command('MEMORY', 'PURGE')).toString()).toBe('+OK\r\n')
    // The shards compact after the batch that ran it, and the threads collect on their crons.
    const margin = deleted.length * value.length / 4
    let used = usedBefore
    let rss = rssBefore
    for (let i = 0; i < 100 && (used >= usedBefore || rss > rssBefore - margin); i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
      used = await info('used_memory')
      rss = await info('used_memory_rss')
    }
    expect(used).toBeLessThan(usedBefore)
    expect(rss).toBeLessThan(rssBefore - margin)
    // Every value left is intact.
    c.send(Buffer.concat(Array.from({ length: N }, (_, i) => encodeCommand(['STRLEN', `purge:${i}`]))))
    const lens = (await c.readReplies(N, 30_000)).map(r => r.toString())
    for (let i = 0; i < N; i++) expect(lens[i]).toBe(i % 5 < 2 ? ':0\r\n' : `:${value.length}\r\n`)
  })
})

describeFlashKV('MEMORY PURGE and the key index', () => {
  /** MEMORY STATS' db.0 overhead.hashtable.main: the bytes of the index buckets, every shard's. */
  async function indexBytes (): Promise<number> {
    const m = /overhead\.hashtable\.main\r\n:(\d+)\r\n/.exec((await c.command('MEMORY', 'STATS')).toString('latin1'))
    if (m === null) throw new Error('no overhead.hashtable.main in MEMORY STATS')
    return Number(m[1])
  }

  /** used_memory, polled until it falls under `than` (a bound on the wait, not a speed: 400 polls). */
  async function usedBelow (than: number): Promise<number> {
    let used = than
    for (let i = 0; i < 400 && used >= than; i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
      used = await info('used_memory')
    }
    return used
  }

  async function allExist (prefix: string, n: number): Promise<number> {
    c.send(Buffer.concat(Array.from({ length: n }, (_, i) => encodeCommand(['EXISTS', `${prefix}:${i}`]))))
    return (await c.readReplies(n, 30_000)).filter(r => r.toString() === ':1\r\n').length
  }

  it('a compacted database keeps an index sized for its keys', async () => {
    await c.command('FLUSHALL')
    const N = 20_000
    // Keys with freed blocks between them, most of the arena: the shards' own compaction copies it
    // (a step at a time, storage/db-copy.ts).
    await pipeline(Array.from({ length: N }, (_, i) => [['SET', `idx:${i}`, 'v'.repeat(20)], ['SET', `pad:${i}`, 'p'.repeat(200)]]).flat())
    const before = await indexBytes()
    expect(before).toBeGreaterThanOrEqual(N * 2 * 4 / 2)
    const usedFull = await info('used_memory')
    await pipeline(Array.from({ length: N }, (_, i) => ['DEL', `pad:${i}`]))
    expect(await usedBelow(usedFull / 2)).toBeLessThan(usedFull / 2)
    // A copy made with inserts alone used to stop at 32 buckets a shard (chains of about 300
    // keys: 256 bytes in all), and reads never grew it back.
    expect(await indexBytes()).toBeGreaterThanOrEqual(N * 4 / 2)
    expect(await allExist('idx', N)).toBe(N)

    // Freed blocks under half of the arena, which the shards leave be: MEMORY PURGE copies it.
    await pipeline(Array.from({ length: N }, (_, i) => [['SET', `idx2:${i}`, 'w'.repeat(20)], ['SET', `pad2:${i}`, 'q'.repeat(8)]]).flat())
    await pipeline(Array.from({ length: N }, (_, i) => ['DEL', `pad2:${i}`]))
    const usedBefore = await info('used_memory')
    expect((await c.command('MEMORY', 'PURGE')).toString()).toBe('+OK\r\n')
    expect(await usedBelow(usedBefore)).toBeLessThan(usedBefore)
    expect(await indexBytes()).toBeGreaterThanOrEqual(N * 2 * 4 / 2)
    expect(await allExist('idx', N)).toBe(N)
    expect(await allExist('idx2', N)).toBe(N)
  })
})
