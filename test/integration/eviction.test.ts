// Eviction (storage/eviction.ts) on a FlashKV with 4 shards and maxmemory 2mb: for every policy,
// writes well past the limit all succeed, used_memory stays at maxmemory (plus, per shard, what
// the last write added: eviction runs before a write, as Redis's performEvictions), evicted_keys
// counts, and the keys that go are the policy's. Ages and frequencies are set with RESTORE ...
// IDLETIME / FREQ rather than waited for: the LRU clock counts seconds, and nothing here depends
// on timing. The evicted key is reported as a deletion: WATCH sees it and the "evicted" event
// is published.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'
import { RawClient, encodeCommand } from './helpers/raw.js'

let server: ServerHandle
useFlushedFlashKV({ shards: 4 }, s => { server = s })
let c: RawClient

const MAXMEMORY = 2 * 1024 * 1024
/** What the last write of each of the 4 shards may add past its share (one entry, its table's share). */
const ALLOWANCE = 4 * 4096
const VALUE = 'v'.repeat(100)
const DEFAULTS = ['maxmemory', '0', 'maxmemory-policy', 'noeviction', 'maxmemory-samples', '5', 'lfu-log-factor', '10', 'lfu-decay-time', '1', 'notify-keyspace-events', '']

beforeEach(async () => {
  c = await RawClient.connect(server.port, server.host)
  expect((await c.command('CONFIG', 'SET', ...DEFAULTS)).toString()).toBe('+OK\r\n')
  expect((await c.command('CONFIG', 'RESETSTAT')).toString()).toBe('+OK\r\n')
})
afterEach(async () => {
  await c.command('CONFIG', 'SET', ...DEFAULTS)
  c.close()
})

/** Sends the commands in pipelined batches; every reply must be `expected`. */
async function run (cmds: string[][], expected = '+OK\r\n'): Promise<void> {
  for (let i = 0; i < cmds.length; i += 1000) {
    const batch = cmds.slice(i, i + 1000)
    c.send(Buffer.concat(batch.map(a => encodeCommand(a))))
    const replies = await c.readReplies(batch.length)
    for (let j = 0; j < replies.length; j++) expect(replies[j].toString(), batch[j].join(' ')).toBe(expected)
  }
}

async function infoField (section: string, field: string): Promise<number> {
  const s = (await c.command('INFO', section)).toString()
  const m = new RegExp(`\r\n${field}:(\\d+)\r\n`).exec(s)
  expect(m, `${field} in INFO ${section}`).not.toBeNull()
  return Number((m as RegExpExecArray)[1])
}

/** How many of the keys exist (EXISTS in batches). */
async function existing (keys: string[]): Promise<number> {
  let n = 0
  for (let i = 0; i < keys.length; i += 500) n += Number((await c.command('EXISTS', ...keys.slice(i, i + 500))).toString().slice(1))
  return n
}

const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i))

async function expectWithinLimit (): Promise<void> {
  // used_memory counts the clients' buffers too; they may have grown since the last write (this
  // test's 1,000 replies in one batch), which no eviction can follow when no key may go. The data
  // part is what each shard keeps to its share (test/integration/memory-bound.test.ts checks the whole).
  const used = await infoField('memory', 'used_memory') - await infoField('memory', 'mem_clients_normal')
  expect(used).toBeGreaterThan(MAXMEMORY / 2)
  expect(used).toBeLessThanOrEqual(MAXMEMORY + ALLOWANCE)
}

/** A DUMP payload of VALUE, for RESTORE. */
async function payload (): Promise<Buffer> {
  await c.command('SET', '__p', VALUE)
  const reply = await c.command('DUMP', '__p')
  await c.command('DEL', '__p')
  const nl = reply.indexOf('\r\n')
  return reply.subarray(nl + 2, reply.length - 2)
}

describe('every policy keeps used_memory at maxmemory', () => {
  const N = 20000
  for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random']) {
    it(`${policy}: writes past the limit succeed, keys are evicted`, async () => {
      await run([['CONFIG', 'SET', 'maxmemory', String(MAXMEMORY), 'maxmemory-policy', policy]])
      await run(range(N, i => ['SET', `k:${i}`, VALUE]))
      await expectWithinLimit()
      const evicted = await infoField('stats', 'evicted_keys')
      const keys = await infoField('keyspace', 'db0:keys').catch(() => 0)
      const dbsize = Number((await c.command('DBSIZE')).toString().slice(1))
      expect(evicted).toBeGreaterThan(0)
      expect(dbsize).toBeLessThan(N)
      expect(dbsize + evicted).toBe(N)
      expect(keys === 0 || keys === dbsize).toBe(true)
    })
  }

  for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
    it(`${policy}: only keys with a TTL go`, async () => {
      await run([['CONFIG', 'SET', 'maxmemory', String(MAXMEMORY), 'maxmemory-policy', policy]])
      const persistent = range(2000, i => `p:${i}`)
      await run(persistent.map(k => ['SET', k, VALUE]))
      await run(range(N, i => ['SET', `v:${i}`, VALUE, 'EX', String(100000 + i)]))
      await expectWithinLimit()
      expect(await infoField('stats', 'evicted_keys')).toBeGreaterThan(0)
      expect(await existing(persistent)).toBe(persistent.length)
    })
  }

  it('volatile-* with only keys without a TTL answers OOM once full, as Redis', async () => {
    await run([['CONFIG', 'SET', 'maxmemory', String(MAXMEMORY), 'maxmemory-policy', 'volatile-lru']])
    let oom = 0
    for (let i = 0; i < N; i += 1000) {
      const batch = range(1000, j => ['SET', `p:${i + j}`, VALUE])
      c.send(Buffer.concat(batch.map(a => encodeCommand(a))))
      for (const r of await c.readReplies(batch.length)) if (r.toString() === "-OOM command not allowed when used memory > 'maxmemory'.\r\n") oom++
    }
    expect(oom).toBeGreaterThan(0)
    expect(await infoField('stats', 'evicted_keys')).toBe(0)
    await expectWithinLimit()
  })
})

describe('which keys go', () => {
  it('volatile-ttl: the soonest to expire go first', async () => {
    await run([['CONFIG', 'SET', 'maxmemory', String(MAXMEMORY), 'maxmemory-policy', 'volatile-ttl']])
    // Each key expires sooner than the one before it: the newest are the best candidates.
    const N = 20000
    const keys = range(N, i => `t:${i}`)
    await run(keys.map((k, i) => ['SET', k, VALUE, 'PX', String(1e9 - i * 1000)]))
    const older = await existing(keys.slice(0, N / 2))
    const newer = await existing(keys.slice(N / 2))
    // Measured: about 10,000 of the older half stay, 5,000 of the newer.
    expect(older).toBeGreaterThan(0.9 * N / 2)
    expect(newer).toBeLessThan(0.75 * older)
  })

  for (const [policy, age] of [['allkeys-lru', ['IDLETIME', '100']], ['allkeys-lfu', ['FREQ', '0']]] as const) {
    it(`${policy}: hot keys read between writes stay, old or rare ones go`, async () => {
      await run([['CONFIG', 'SET', 'maxmemory', String(MAXMEMORY), 'maxmemory-policy', policy, 'lfu-log-factor', '0', 'lfu-decay-time', '0']])
      const p = await payload()
      const hot = range(20, i => `hot:${i}`)
      await run(hot.map(k => ['SET', k, VALUE]))
      // Fillers restored as long idle (LRU) or never used (LFU), the hot keys read between batches.
      for (let i = 0; i < 30000; i += 1000) {
        await run(range(1000, j => ['RESTORE', `f:${i + j}`, '0', p, ...age]))
        c.send(Buffer.concat(hot.map(k => encodeCommand(['GET', k]))))
        for (const r of await c.readReplies(hot.length)) expect(r.toString()).toBe(`$${VALUE.length}\r\n${VALUE}\r\n`)
      }
      await expectWithinLimit()
      expect(await infoField('stats', 'evicted_keys')).toBeGreaterThan(10000)
      expect(await existing(hot)).toBe(hot.length)
    })
  }
})

describe('an eviction is a deletion', () => {
  it('WATCH sees it, and the "evicted" event is published', async () => {
    await run([['CONFIG', 'SET', 'maxmemory', String(MAXMEMORY), 'maxmemory-policy', 'allkeys-lru', 'maxmemory-samples', '20', 'notify-keyspace-events', 'KEe']])
    const p = await payload()
    // The oldest key of all: the first sample that holds it evicts it.
    await run([['RESTORE', 'w', '0', p, 'IDLETIME', '100000']])
    const sub = await RawClient.connect(server.port, server.host)
    const watcher = await RawClient.connect(server.port, server.host)
    try {
      expect((await sub.command('SUBSCRIBE', '__keyspace@0__:w')).toString()).toContain('__keyspace@0__:w')
      expect((await watcher.command('WATCH', 'w')).toString()).toBe('+OK\r\n')
      await run(range(30000, i => ['RESTORE', `f:${i}`, '0', p, 'IDLETIME', '100']))
      expect(await existing(['w'])).toBe(0)
      const [msg] = await sub.readReplies(1)
      expect(msg.toString()).toBe('*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:w\r\n$7\r\nevicted\r\n')
      expect((await watcher.command('MULTI')).toString()).toBe('+OK\r\n')
      expect((await watcher.command('SET', 'x', '1')).toString()).toBe('+QUEUED\r\n')
      expect((await watcher.command('EXEC')).toString()).toBe('*-1\r\n')
    } finally {
      sub.close()
      watcher.close()
    }
  })
})
