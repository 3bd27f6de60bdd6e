// Memory that holds (issue 16): with maxmemory 64mb and allkeys-lru, a mix of writes several times
// bigger than maxmemory (many small keys, values of kilobytes, lists and hashes that grow and
// shrink, a delete-heavy churn) keeps INFO used_memory, which counts the arenas with their free
// blocks, the tables and the clients' buffers, at maxmemory; and the process's RSS within 10% of
// maxmemory above its base (plus the runtime's own variation, RUNTIME_SLACK) once each phase is
// over, and at every moment sampled between batches (compaction slides the arenas in place,
// lists' and hashes' blocks too, rather than copying them: see Shard.compactIfFragmented). The
// base is the RSS of the same server after a small warm-up of the same mix and a FLUSHALL (the
// Node/V8 heaps and compiled code that traffic brings), so the bound is about the data, not about
// the runtime. After FLUSHALL, RSS falls back near that base; after deleting most keys one by one
// (DEL, UNLINK), it falls by most of what they held.
// The other six policies keep used_memory at maxmemory, and RSS within the same bound at every
// moment sampled, on a lighter mix of strings whose keys all have TTLs (4-16 KB values evicted out
// of order: the arenas fragment).
// Under noeviction, writes get -OOM once used_memory reaches maxmemory, and go through again once
// keys are deleted (their blocks are reused).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { RawClient, encodeCommand, infoNumber } from './helpers/raw.js'

const MB = 1024 * 1024
const MAXMEMORY = 64 * MB
/**
 * What used_memory may pass maxmemory by: each of the 2 shards' last write (eviction runs before
 * a write, as Redis's), and the clients' buffers moving between the 100 ms crons that publish them.
 */
const ALLOWANCE = MB
/**
 * How much the runtime's own heaps (V8's young and old generations of each thread, malloc's) vary
 * between two moments of the same run: RSS above the base less used_memory was measured from -3
 * to +24 MB over runs (most often under 10), +27 MB inside a loaded full `npm test`, and +33 to
 * +39 MB on CI, where the base came out 24 MB lower than on a quiet box (146.8 against 170.5 MB).
 * Most of it is the primary's young generation: V8 grows its semi-spaces to 16 MB each under
 * pipelined writes and shrinks them when traffic stops, so the base catches it at any size (the
 * same server under `--max-semi-space-size=1` measured a base of 137 MB and stayed 31-37 MB under
 * the bound with 32 MB of slack, beside other tests). Without it the bound would test V8's heap
 * sizing; with it, a leaked or unfreed copy of the data (64 MB here) still fails.
 */
const RUNTIME_SLACK = 48 * MB
/**
 * More for a peak sampled between batches than for RSS once a phase is over: a loaded box saw
 * 103.6 MB above the base (the bound without it: 102.4). A copying compaction's moment of two
 * arenas, which this check is for, put the peak at up to 135 MB above the base.
 */
const PEAK_SLACK = 16 * MB
const OOM = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

let server: ServerHandle
let c: RawClient
// The bound is FlashKV's (Redis's own RSS passes it under this mix: jemalloc keeps the pages).
const describeFlashKV = describe.skipIf(REDIS_URL !== undefined && REDIS_URL !== '')

beforeAll(async () => {
  if (REDIS_URL !== undefined && REDIS_URL !== '') return
  server = await startFlashKV({ shards: 2, extraArgs: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] })
  c = await RawClient.connect(server.port, server.host)
})
afterAll(async () => {
  c?.close()
  await server?.stop()
})

async function info (field: string): Promise<number> { return await infoNumber(c, 'memory', field) }

/** The highest RSS seen after a batch of run() while `isSampling`. */
let peakRss = 0
let isSampling = false

/** Sends the commands in pipelined batches of about 256 KB; returns how many replies were `-OOM`. Any other error fails. */
async function run (cmds: Array<Array<string | Buffer>>): Promise<number> {
  let oom = 0
  for (let i = 0; i < cmds.length;) {
    const batch: Buffer[] = []
    let bytes = 0
    while (i < cmds.length && bytes < 256 * 1024) { const b = encodeCommand(cmds[i++]); batch.push(b); bytes += b.length }
    c.send(Buffer.concat(batch))
    for (const r of await c.readReplies(batch.length, 30_000)) {
      const s = r.toString('latin1', 0, 80)
      if (s === OOM) oom++
      else if (s.startsWith('-')) throw new Error(`error reply: ${s}`)
    }
    if (isSampling) peakRss = Math.max(peakRss, await info('used_memory_rss'))
  }
  return oom
}

const range = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i))
const val = (n: number, ch = 'v'): string => ch.repeat(n)

/** The mix, `scale` times: about 290 MB of writes at scale 1. */
const phases = (scale: number, tag: string): Array<[string, Array<Array<string | Buffer>>]> => [
  ['small keys', range(150_000 * scale, i => ['SET', `${tag}s:${i}`, val(20 + i % 40)])],
  ['values of 4-16 KB', range(6000 * scale, i => ['SET', `${tag}b:${i}`, val(4096 + (i % 7) * 2048, 'b')])],
  ['lists', range(100_000 * scale, i => i % 3 === 2 ? ['LPOP', `${tag}l:${(i * 7) % 2000}`] : ['RPUSH', `${tag}l:${i % 2000}`, val(30 + i % 50, 'l')])],
  ['hashes', range(150_000 * scale, i => i % 4 === 3 ? ['HDEL', `${tag}h:${i % 3000}`, `f${i - 3}`] : ['HSET', `${tag}h:${i % 3000}`, `f${i}`, val(10 + i % 90, 'h')])],
  ['churn', range(100_000 * scale, i => i % 2 === 1 ? ['DEL', `${tag}c:${i - 1}`] : ['SET', `${tag}c:${i}`, val(100 + i % 1400, 'c')])],
  ['small keys again', range(150_000 * scale, i => ['SET', `${tag}t:${i}`, val(10 + i % 30)])],
]

describeFlashKV('memory bound (maxmemory 64mb, 2 shards)', () => {
  let base = 0

  it('a warm-up and FLUSHALL give the base RSS', async () => {
    for (const [, cmds] of phases(0.3, 'w')) expect(await run(cmds)).toBe(0)
    expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
    base = await info('used_memory_rss')
    expect(base).toBeGreaterThan(0)
  })

  /**
   * RSS within 10% of maxmemory above the base (and RUNTIME_SLACK). An arena moved to a smaller
   * buffer (Shard.shrinkIfRoom) holds the old one until it is swept, on a V8 background thread
   * moments after the collection: wait for that outcome, generously.
   */
  async function expectRssBound (what: string): Promise<void> {
    const bound = base + 1.1 * MAXMEMORY + RUNTIME_SLACK
    let rss = await info('used_memory_rss')
    for (let i = 0; i < 30 && rss > bound; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      rss = await info('used_memory_rss')
    }
    expect(rss, `${what}: RSS ${(rss / MB).toFixed(1)} MB, base ${(base / MB).toFixed(1)} MB`).toBeLessThanOrEqual(bound)
  }

  it('allkeys-lru: used_memory stays at maxmemory and RSS within 10% of it above the base, phase by phase and between batches', async () => {
    let evicted = 0
    peakRss = 0
    isSampling = true
    for (const [name, cmds] of phases(1, '')) {
      expect(await run(cmds), name).toBe(0)
      expect(await info('used_memory'), `${name}: used_memory`).toBeLessThanOrEqual(MAXMEMORY + ALLOWANCE)
      await expectRssBound(name)
      // used_memory is what the process holds for data: the RSS above the base is at least most of it.
      expect(await info('allocator_active'), name).toBeGreaterThanOrEqual(await info('allocator_allocated'))
      const s = (await c.command('INFO', 'stats')).toString()
      evicted = Number(/evicted_keys:(\d+)/.exec(s)?.[1])
    }
    isSampling = false
    // At every moment sampled too (when lists' and hashes' blocks could not slide, a copying
    // compaction's moment of two arenas put the peak at 1.7-2x maxmemory above the base).
    expect(peakRss, `peak RSS ${(peakRss / MB).toFixed(1)} MB, base ${(base / MB).toFixed(1)} MB`).toBeLessThanOrEqual(base + 1.1 * MAXMEMORY + RUNTIME_SLACK + PEAK_SLACK)
    // Several times maxmemory went in: most of it had to go.
    expect(evicted).toBeGreaterThan(50_000)
    expect(await info('used_memory')).toBeGreaterThan(MAXMEMORY / 2)
  })

  it('FLUSHALL gives the memory back: RSS falls to the base plus 20% of maxmemory', async () => {
    expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
    expect(await info('used_memory')).toBeLessThan(MB)
    // The shards free their arenas at once; the other threads on their next cron (100 ms): wait
    // for the outcome, with a generous bound.
    let rss = await info('used_memory_rss')
    for (let i = 0; i < 100 && rss > base + 0.2 * MAXMEMORY + RUNTIME_SLACK; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      rss = await info('used_memory_rss')
    }
    expect(rss, `RSS ${(rss / MB).toFixed(1)} MB, base ${(base / MB).toFixed(1)} MB`).toBeLessThanOrEqual(base + 0.2 * MAXMEMORY + RUNTIME_SLACK)
  })

  // The other policies, on a lighter mix of keys that all have a TTL (so the volatile ones can
  // evict too): about twice maxmemory goes in, nothing is refused, used_memory and RSS hold, and
  // keys go.
  for (const policy of ['allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
    it(`${policy}: used_memory stays at maxmemory and RSS within 10% of it above the base, nothing refused, keys evicted`, async () => {
      expect((await c.command('CONFIG', 'SET', 'maxmemory-policy', policy)).toString()).toBe('+OK\r\n')
      expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
      const evictedBefore = Number(/evicted_keys:(\d+)/.exec((await c.command('INFO', 'stats')).toString())?.[1])
      const p = policy.replace(/-/g, '')
      peakRss = 0
      isSampling = true
      const mix: Array<[string, Array<Array<string | Buffer>>]> = [
        ['small keys', range(100_000, i => ['SET', `${p}:s:${i}`, val(20 + i % 40), 'EX', String(1000 + i % 5000)])],
        ['values of 4-16 KB', range(8000, i => ['SET', `${p}:b:${i}`, val(4096 + (i % 7) * 2048, 'b'), 'EX', String(1000 + i % 5000)])],
      ]
      for (const [name, cmds] of mix) {
        expect(await run(cmds), `${policy}, ${name}: -OOM replies`).toBe(0)
        expect(await info('used_memory'), `${policy}, ${name}: used_memory`).toBeLessThanOrEqual(MAXMEMORY + ALLOWANCE)
        await expectRssBound(`${policy}, ${name}`)
      }
      isSampling = false
      // Not only once a phase is over: at every moment sampled, between batches (a copying
      // compaction, which held two arenas at once, put the peaks at 1.3-1.5x maxmemory above the base).
      expect(peakRss, `${policy}: peak RSS ${(peakRss / MB).toFixed(1)} MB, base ${(base / MB).toFixed(1)} MB`).toBeLessThanOrEqual(base + 1.1 * MAXMEMORY + RUNTIME_SLACK + PEAK_SLACK)
      const evicted = Number(/evicted_keys:(\d+)/.exec((await c.command('INFO', 'stats')).toString())?.[1])
      expect(evicted - evictedBefore, `${policy}: keys evicted`).toBeGreaterThan(10_000)
      expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
    })
  }

  it('allkeys-lru: deleting most keys one by one (DEL, UNLINK; no FLUSHALL) gives most of their RSS back', async () => {
    expect((await c.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')).toString()).toBe('+OK\r\n')
    expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
    // About 50 MB of every type: 1 KB strings in database 0 (an arena of strings alone slid in
    // place and kept its pages), lists, hashes, sorted sets and sets in database 1.
    const keep = (i: number): boolean => i % 20 === 0
    const collections: Array<Array<string | Buffer>> = [
      ['SELECT', '1'],
      ...range(400, i => ['RPUSH', `d:l:${i}`, ...range(40, j => `${i}:${j}:${val(100, 'l')}`)]),
      ...range(200, i => ['HSET', `d:h:${i}`, ...range(50, j => [`f${j}`, `${i}:${val(100, 'h')}`]).flat()]),
      ...range(200, i => ['ZADD', `d:z:${i}`, ...range(50, j => [String(j), `${i}:${j}:${val(60, 'z')}`]).flat()]),
      ...range(200, i => ['SADD', `d:t:${i}`, ...range(50, j => `${i}:${j}:${val(60, 't')}`)]),
      ['SELECT', '0'],
    ]
    expect(await run(range(40_000, i => ['SET', `d:s:${i}`, `${i}:${val(1000, 'd')}`]))).toBe(0)
    expect(await run(collections)).toBe(0)
    const usedFull = await info('used_memory')
    expect(usedFull).toBeGreaterThan(MAXMEMORY / 2)
    const rssFull = await info('used_memory_rss')
    const residentFull = await info('allocator_resident')
    // All but one key in 20 go: the strings by DEL, the collections by UNLINK.
    expect(await run(range(40_000, i => i).filter(i => !keep(i)).map(i => ['DEL', `d:s:${i}`]))).toBe(0)
    const unlink = (p: string, n: number): Array<Array<string | Buffer>> => range(n, i => i).filter(i => !keep(i)).map(i => ['UNLINK', `${p}${i}`])
    expect(await run([['SELECT', '1'], ...unlink('d:l:', 400), ...unlink('d:h:', 200), ...unlink('d:z:', 200), ...unlink('d:t:', 200), ['SELECT', '0']])).toBe(0)
    const deleted = usedFull - await info('used_memory')
    expect(deleted).toBeGreaterThan(MAXMEMORY / 2)
    // The shards slide their arenas down and move what is left to buffers of its size between
    // batches or on their next tick, and every thread collects the old ones: wait for the outcome.
    let rss = await info('used_memory_rss')
    let resident = await info('allocator_resident')
    for (let i = 0; i < 100 && (rssFull - rss < deleted / 2 || residentFull - resident < deleted / 2); i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      rss = await info('used_memory_rss')
      resident = await info('allocator_resident')
    }
    // The arenas' pages (allocator_resident), and the process's.
    expect(residentFull - resident, `allocator_resident ${(residentFull / MB).toFixed(1)} → ${(resident / MB).toFixed(1)} MB`).toBeGreaterThanOrEqual(deleted / 2)
    expect(rssFull - rss, `RSS ${(rssFull / MB).toFixed(1)} → ${(rss / MB).toFixed(1)} MB, ${(deleted / MB).toFixed(1)} MB deleted`).toBeGreaterThanOrEqual(deleted / 2)
    // What was kept is intact (nothing was evicted: the fill stayed under maxmemory).
    for (let i = 0; i < 40_000; i += 20 * 97) expect((await c.command('GET', `d:s:${i}`)).toString()).toBe(`$${`${i}:`.length + 1000}\r\n${i}:${val(1000, 'd')}\r\n`)
    expect((await c.command('DBSIZE')).toString()).toBe(':2000\r\n')
    expect((await c.command('SELECT', '1')).toString()).toBe('+OK\r\n')
    for (let i = 0; i < 400; i += 20) expect((await c.command('LINDEX', `d:l:${i}`, '39')).toString()).toBe(`$${`${i}:39:`.length + 100}\r\n${i}:39:${val(100, 'l')}\r\n`)
    for (let i = 0; i < 200; i += 20) {
      expect((await c.command('HGET', `d:h:${i}`, 'f49')).toString()).toBe(`$${`${i}:`.length + 100}\r\n${i}:${val(100, 'h')}\r\n`)
      expect((await c.command('ZSCORE', `d:z:${i}`, `${i}:49:${val(60, 'z')}`)).toString()).toBe('$2\r\n49\r\n')
      expect((await c.command('SCARD', `d:t:${i}`)).toString()).toBe(':50\r\n')
    }
    expect((await c.command('DBSIZE')).toString()).toBe(`:${20 + 10 + 10 + 10}\r\n`)
    expect((await c.command('SELECT', '0')).toString()).toBe('+OK\r\n')
    expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
  })

  it('noeviction: -OOM once used_memory reaches maxmemory, and writes again once keys are deleted', async () => {
    expect((await c.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')).toString()).toBe('+OK\r\n')
    // Empty to start with, whatever a failed test before left.
    expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
    const N = 80_000 // 80k × 1 KB: more than maxmemory
    const oom = await run(range(N, i => ['SET', `n:${i}`, val(1000, 'n')]))
    expect(oom).toBeGreaterThan(0)
    const used = await info('used_memory')
    // Refused only once full, and never past maxmemory by more than the last writes.
    expect(used).toBeGreaterThan(MAXMEMORY - 2 * MB)
    expect(used).toBeLessThanOrEqual(MAXMEMORY + ALLOWANCE)
    expect((await c.command('SET', 'n:more', val(1000, 'n'))).toString()).toBe(OOM)
    // Half the keys go: their blocks take new writes of the same size.
    expect(await run(range(N / 2, i => ['DEL', `n:${i * 2}`]))).toBe(0)
    expect(await run(range(10_000, i => ['SET', `m:${i}`, val(1000, 'm')]))).toBe(0)
    expect(await info('used_memory')).toBeLessThanOrEqual(MAXMEMORY + ALLOWANCE)
  })
})
