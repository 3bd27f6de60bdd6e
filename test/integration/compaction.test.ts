// A shard compacts a half-free arena a step at a time (storage/db-copy.ts), between batches of
// commands, instead of stopping for a copy of every live key (bench:compaction measures the pause
// that was). Here each pass of a shard's loop copies only 2 keys (FLASHKV_COPY_BUDGET), so the
// copy spans many batches: while it runs, a client keeps writing, deleting and reading, and INFO
// shows it in progress (current_active_defrag_time, active_defrag_key_hits growing); scripts,
// MULTI/EXEC and COPY over keys of both shards run among them. Once it is adopted, used_memory is
// down and every key holds what the client last wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { RawClient, encodeCommand, infoNumber } from './helpers/raw.js'

let server: ServerHandle
let c: RawClient
const describeFlashKV = describe.skipIf(REDIS_URL !== undefined && REDIS_URL !== '')

beforeAll(async () => {
  if (REDIS_URL !== undefined && REDIS_URL !== '') return
  server = await startFlashKV({ shards: 2, env: { FLASHKV_COPY_BUDGET: '2' } })
  c = await RawClient.connect(server.port, server.host)
})
afterAll(async () => {
  c?.close()
  await server?.stop()
})

async function pipeline (cmds: string[][]): Promise<string[]> {
  const replies: string[] = []
  for (let i = 0; i < cmds.length; i += 200) {
    const batch = cmds.slice(i, i + 200)
    c.send(Buffer.concat(batch.map(a => encodeCommand(a))))
    for (const r of await c.readReplies(batch.length, 30_000)) {
      const s = r.toString('latin1')
      expect(s[0]).not.toBe('-')
      replies.push(s)
    }
  }
  return replies
}

const N = 30_000
const bulk = (v: string): string => `$${v.length}\r\n${v}\r\n`

describeFlashKV('compaction a step at a time', () => {
  it('serves writes, deletes and reads while the copy runs, and loses nothing', async () => {
    // What each key holds (null: deleted), as the client last wrote it.
    const model = new Map<string, string | null>()
    const set = (k: string, v: string): string[] => { model.set(k, v); return ['SET', k, v] }
    await pipeline(Array.from({ length: N }, (_, i) => set(`k:${i}`, `value-${i}-${'x'.repeat(i % 120)}`)))
    await pipeline(Array.from({ length: 300 }, (_, i) => ['RPUSH', `list:${i % 30}`, `e${i}`]))
    const usedBefore = await infoNumber(c, 'memory', 'used_memory')
    // Two in three go: each shard's arena is more than half free, and its copy starts.
    const del: string[][] = []
    for (let i = 0; i < N; i++) if (i % 3 !== 0) { model.set(`k:${i}`, null); del.push(['DEL', `k:${i}`]) }
    await pipeline(del)
    const seenHits = new Set<number>()
    let sawRunning = false
    let sawDefragPct = false
    let round = 0
    for (; round < 2000; round++) {
      // Writes over keys copied and not, new keys, deletes, list pushes; reads of each kind.
      const cmds: string[][] = []
      for (let j = 0; j < 20; j++) {
        const i = (round * 7919 + j * 104_729) % N
        if (j % 5 === 0) { model.set(`k:${i}`, null); cmds.push(['DEL', `k:${i}`]) } else cmds.push(set(`k:${i}`, `round-${round}-${j}`))
      }
      cmds.push(set(`new:${round}`, `n${round}`), ['RPUSH', `list:${round % 30}`, `r${round}`], ['GET', `k:${(round * 31) % N}`])
      // Scripts, transactions and COPY over keys of both shards, about half the time: a script
      // runs in its shard (its redis.call arguments in a buffer the next call overwrites), or on
      // the client's thread, to which both shards lend their databases and whose steps report
      // the keys they touch to the copy.
      for (let t = 0; t < 2; t++) {
        const x = (round * 4217 + t * 7001) % N
        const y = (round * 9173 + t * 3) % N
        if (x !== y) {
          cmds.push(['EVAL', "redis.call('set', KEYS[1], ARGV[1]); redis.call('del', KEYS[2]); return redis.call('get', KEYS[3]) or 'none'", '3', `k:${x}`, `k:${y}`, `k:${(x + 2) % N}`, `script-${round}-${t}`])
          model.set(`k:${x}`, `script-${round}-${t}`)
          model.set(`k:${y}`, null)
        }
        const a = (round * 613 + t * 15_485) % N
        const b = (round * 1097 + t * 32_452) % N
        cmds.push(['MULTI'], set(`k:${a}`, `txn-${round}-${t}`), ['DEL', `k:${b}`], ['GET', `k:${(a + 1) % N}`], ['EXEC'])
        if (a !== b) model.set(`k:${b}`, null)
        else model.set(`k:${a}`, null)
        const src = (round * 389 + t * 7) % N
        const dst = (round * 2711 + t * 49_999) % N
        if (src === dst) continue
        cmds.push(['COPY', `k:${src}`, `k:${dst}`, 'REPLACE'])
        const v = model.get(`k:${src}`)
        if (v !== null && v !== undefined) model.set(`k:${dst}`, v)
      }
      await pipeline(cmds)
      const stats = (await c.command('INFO', 'stats')).toString()
      const hits = Number(/active_defrag_key_hits:(\d+)/.exec(stats)?.[1])
      const current = Number(/current_active_defrag_time:(\d+)/.exec(stats)?.[1])
      if (current > 0 || hits === 0) {
        sawRunning ||= current > 0
        // INFO memory gives the share of a shard's time a running copy takes, as Redis's defrag.
        if (current > 0 && !sawDefragPct) sawDefragPct = /active_defrag_running:25\r\n/.test((await c.command('INFO', 'memory')).toString())
        if (hits > 0) seenHits.add(hits)
        continue
      }
      // Both shards' copies adopted (none running, keys copied): used_memory comes down.
      if (await infoNumber(c, 'memory', 'used_memory') < usedBefore / 2) break
    }
    expect(round).toBeLessThan(2000)
    expect(sawRunning).toBe(true)
    expect(sawDefragPct).toBe(true)
    expect((await c.command('INFO', 'memory')).toString()).toContain('active_defrag_running:0\r\n')
    // Copied over many batches: INFO saw the count of keys copied at several values on the way.
    expect(seenHits.size).toBeGreaterThanOrEqual(3)
    // Every key as the client left it, through the adopted arenas.
    const keys = [...model.keys()]
    const got = await pipeline(keys.map(k => ['GET', k]))
    keys.forEach((k, i) => {
      const v = model.get(k) as string | null
      if (got[i] !== (v === null ? '$-1\r\n' : bulk(v))) throw new Error(`${k}: ${JSON.stringify(got[i])}, expected ${String(v)}`)
    })
    const lens = await pipeline(Array.from({ length: 30 }, (_, i) => ['LLEN', `list:${i}`]))
    expect(lens.reduce((n, r) => n + Number(r.slice(1, -2)), 0)).toBe(300 + round + 1)
    expect(Number((await c.command('DBSIZE')).toString().slice(1, -2))).toBe([...model.values()].filter(v => v !== null).length + 30)
  })
})
