// Differential tests for the access clock and eviction settings against a real redis-server
// 7.0.15 (FlashKV with 4 shards): OBJECT IDLETIME and FREQ (their errors under the other kind of
// policy, real values), which commands leave the clock alone (TYPE, EXISTS, TTL, OBJECT), RESTORE
// ... IDLETIME / FREQ, the eviction parameters of CONFIG GET/SET, shared integers under an LRU
// policy, and the OOM error when a policy finds nothing to evict. The LRU clock counts seconds,
// so an idle time read right after a set point may be one more: replies are compared with that
// second of tolerance, never with a wait. lfu-decay-time 0 keeps the LFU counters from decaying
// when a minute turns mid-test, and lfu-log-factor 0 makes each access count exactly one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useDiffPair, text } from './helpers/diff.js'

const pair = useDiffPair({ shards: 4 })

const DEFAULTS = ['maxmemory', '0', 'maxmemory-policy', 'noeviction', 'lfu-log-factor', '10', 'lfu-decay-time', '1', 'maxmemory-samples', '5']
async function config (...args: string[]): Promise<void> {
  await pair.same('CONFIG', 'SET', ...args)
}
beforeEach(async () => { await config(...DEFAULTS) })
afterEach(async () => {
  await Promise.all([pair.f.command('CONFIG', 'SET', ...DEFAULTS), pair.r.command('CONFIG', 'SET', ...DEFAULTS)])
})

/** An integer reply within one second of `n` reads as `~n` (the LRU clock counts whole seconds). */
const about = (n: number) => (s: string): string => {
  const m = /^:(\d+)\r\n$/.exec(s)
  return m !== null && Math.abs(Number(m[1]) - n) <= 1 ? `:~${n}\r\n` : s
}

/** Redis's DUMP of a string value, to RESTORE on both servers. */
async function payload (value: string): Promise<Buffer> {
  await pair.r.command('SET', '__tmp', value)
  const reply = await pair.r.command('DUMP', '__tmp')
  await pair.r.command('DEL', '__tmp')
  const nl = reply.indexOf('\r\n')
  return reply.subarray(nl + 2, reply.length - 2)
}

describe('OBJECT IDLETIME and FREQ', () => {
  it('answer null for a missing key, and the error of the policy that does not track them', async () => {
    await pair.same('SET', 'k', 'hello')
    await pair.same('OBJECT', 'IDLETIME', 'nosuch')
    await pair.same('OBJECT', 'FREQ', 'nosuch')
    await pair.same('OBJECT', 'FREQ', 'k')
    for (const p of ['allkeys-lfu', 'volatile-lfu']) {
      await config('maxmemory-policy', p)
      await pair.same('OBJECT', 'IDLETIME', 'k')
      await pair.same('OBJECT', 'IDLETIME', 'nosuch')
    }
    for (const p of ['allkeys-lru', 'volatile-lru', 'volatile-ttl', 'allkeys-random', 'volatile-random', 'noeviction']) {
      await config('maxmemory-policy', p)
      await pair.same('OBJECT', 'FREQ', 'k')
    }
    await pair.same('OBJECT', 'IDLETIME', 'k', 'extra')
    await pair.same('OBJECT', 'FREQ')
  })

  it('IDLETIME: 0 right after an access; RESTORE ... IDLETIME sets it; TYPE, EXISTS, TTL and OBJECT leave it', async () => {
    await pair.same('SET', 'k', 'hello')
    await pair.sameNormalized(about(0), 'OBJECT', 'IDLETIME', 'k')
    const p = await payload('some value')
    await pair.same('RESTORE', 'old', '0', p, 'IDLETIME', '1000')
    await pair.sameNormalized(about(1000), 'OBJECT', 'IDLETIME', 'old')
    for (const c of [['TYPE', 'old'], ['EXISTS', 'old'], ['TTL', 'old'], ['PTTL', 'old'], ['EXPIRETIME', 'old'], ['OBJECT', 'ENCODING', 'old'], ['OBJECT', 'FREQ', 'old']]) {
      await pair.same(...c)
    }
    await pair.sameNormalized(about(1000), 'OBJECT', 'IDLETIME', 'old')
    // A read touches it, and so does a write.
    await pair.same('GET', 'old')
    await pair.sameNormalized(about(0), 'OBJECT', 'IDLETIME', 'old')
    await pair.same('RESTORE', 'old2', '0', p, 'IDLETIME', '500')
    await pair.same('APPEND', 'old2', 'x')
    await pair.sameNormalized(about(0), 'OBJECT', 'IDLETIME', 'old2')
    await pair.same('RESTORE', 'old3', '0', p, 'IDLETIME', '500')
    await pair.same('TOUCH', 'old3', 'nosuch')
    await pair.sameNormalized(about(0), 'OBJECT', 'IDLETIME', 'old3')
    // FREQ is checked and ignored under an LRU policy.
    await pair.same('RESTORE', 'f', '0', p, 'FREQ', '100')
    await pair.sameNormalized(about(0), 'OBJECT', 'IDLETIME', 'f')
  })

  it('FREQ: 5 for a new key, one more per access with lfu-log-factor 0; RESTORE ... FREQ sets it', async () => {
    await config('maxmemory-policy', 'allkeys-lfu', 'lfu-log-factor', '0', 'lfu-decay-time', '0')
    await pair.same('SET', 'k', 'hello')
    await pair.same('OBJECT', 'FREQ', 'k')
    for (let i = 0; i < 7; i++) await pair.same('GET', 'k')
    await pair.same('TYPE', 'k')
    await pair.same('EXISTS', 'k')
    await pair.same('OBJECT', 'FREQ', 'k')
    await pair.same('HSET', 'h', 'f', 'v')
    await pair.same('HGET', 'h', 'f')
    await pair.same('OBJECT', 'FREQ', 'h')
    const p = await payload('some value')
    await pair.same('RESTORE', 'r', '0', p, 'FREQ', '100')
    await pair.same('OBJECT', 'FREQ', 'r')
    await pair.same('RESTORE', 'r0', '0', p, 'FREQ', '0')
    await pair.same('OBJECT', 'FREQ', 'r0')
    // IDLETIME is checked and ignored under an LFU policy: a new key's counter.
    await pair.same('RESTORE', 'i', '0', p, 'IDLETIME', '1000')
    await pair.same('OBJECT', 'FREQ', 'i')
    await pair.same('RESTORE', 'bad', '0', p, 'FREQ', '256')
  })

  it('RENAME and MOVE keep the key\'s counter (Redis moves the object), COPY starts a new one', async () => {
    await config('maxmemory-policy', 'allkeys-lfu', 'lfu-log-factor', '0', 'lfu-decay-time', '0')
    await pair.same('SET', '{t}a', 'hello')
    for (let i = 0; i < 5; i++) await pair.same('GET', '{t}a')
    await pair.same('RENAME', '{t}a', '{t}b')
    await pair.same('OBJECT', 'FREQ', '{t}b')
    await pair.same('COPY', '{t}b', '{t}c')
    await pair.same('OBJECT', 'FREQ', '{t}c')
    await pair.same('MOVE', '{t}b', '1')
    await pair.same('SELECT', '1')
    await pair.same('OBJECT', 'FREQ', '{t}b')
    await pair.same('FLUSHDB')
  })

  it('FREQ with the default log factor: 6 after the first access (p = 1 below LFU_INIT_VAL + 1)', async () => {
    await config('maxmemory-policy', 'volatile-lfu', 'lfu-decay-time', '0')
    await pair.same('SET', 'k', 'hello')
    await pair.same('GET', 'k')
    await pair.same('OBJECT', 'FREQ', 'k')
  })
})

describe('eviction settings', () => {
  it('CONFIG GET and SET of the eviction parameters, their bounds and errors', async () => {
    for (const p of ['allkeys-lru', 'ALLKEYS-LFU', 'volatile-ttl', 'volatile-random', 'allkeys-random', 'volatile-lfu', 'volatile-lru', 'noeviction']) {
      await config('maxmemory-policy', p)
      await pair.same('CONFIG', 'GET', 'maxmemory-policy')
    }
    await pair.same('CONFIG', 'SET', 'maxmemory-policy', 'lru')
    await pair.same('CONFIG', 'SET', 'maxmemory-policy', '')
    for (const [p, vs] of [['maxmemory-samples', ['1', '10', '0', '-1', 'x', '2147483648']], ['lfu-log-factor', ['0', '100', '-1', 'x']],
      ['lfu-decay-time', ['0', '5', '-1']], ['maxmemory-eviction-tenacity', ['0', '100', '101', '-1']]] as const) {
      for (const v of vs) {
        await pair.same('CONFIG', 'SET', p, v)
        await pair.same('CONFIG', 'GET', p)
      }
    }
    await config('maxmemory-eviction-tenacity', '10')
  })

  it('OBJECT REFCOUNT: no shared integers with maxmemory set under an LRU or LFU policy', async () => {
    await pair.same('SET', 'a', '100')
    await pair.same('OBJECT', 'REFCOUNT', 'a')
    await config('maxmemory', '1gb', 'maxmemory-policy', 'allkeys-lru')
    await pair.same('SET', 'b', '100')
    await pair.same('OBJECT', 'ENCODING', 'b')
    await pair.same('OBJECT', 'REFCOUNT', 'b')
    await config('maxmemory-policy', 'allkeys-random')
    await pair.same('SET', 'c', '100')
    await pair.same('OBJECT', 'REFCOUNT', 'c')
  })

  it('OOM when nothing can be evicted: noeviction, volatile-* without volatile keys, any policy over a tiny limit', async () => {
    await pair.same('SET', 'k', 'v')
    await config('maxmemory', '1')
    await pair.same('SET', 'x', 'v')
    await pair.same('GET', 'k')
    await pair.same('DEL', 'nosuch')
    for (const p of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-random']) {
      await config('maxmemory-policy', p)
      await pair.same('SET', 'x', 'v')
      await pair.same('RPUSH', 'l', 'a')
    }
    await config('maxmemory', '0', 'maxmemory-policy', 'noeviction')
    await pair.same('SET', 'x', 'v')
    expect(text(await pair.f.command('INFO', 'stats'))).toMatch(/\r\nevicted_keys:\d+\r\n/)
  })
})
