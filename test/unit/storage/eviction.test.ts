// storage/eviction.ts in-process: the LRU and LFU clock arithmetic (idle time across the 24-bit
// wrap, LFU decay by lfu-decay-time, the deterministic first increment, RESTORE's clocks), and
// Shard.evictTo with maxmemory-samples above the key count, where sampling sees every key and
// the order is exact: oldest first (LRU), lowest counter first (LFU), soonest expiry first
// (volatile-ttl), keys without a TTL never under volatile-*, and false when nothing can go.

import { afterEach, describe, expect, it } from 'vitest'
import { Shard } from '../../../src/storage/shard.js'
import { TYPE_STRING, entryBlockBytes } from '../../../src/storage/keyspace.js'
import { keyHash } from '../../../src/storage/hash.js'
import {
  evictionSettings, idleMs, lruClock, lfuCounter, touchedClock, clockForIdle, clockForFreq, initialClock, LFU_INIT_VAL,
  POLICY_NOEVICTION, POLICY_ALLKEYS_LRU, POLICY_ALLKEYS_LFU, POLICY_VOLATILE_TTL, POLICY_VOLATILE_LRU,
} from '../../../src/storage/eviction.js'
import { POLICY_WORD, SAMPLES_WORD, LFU_LOG_FACTOR_WORD, LFU_DECAY_TIME_WORD } from '../../../src/ipc/layout.js'

const f = evictionSettings.flags
afterEach(() => { f[POLICY_WORD] = POLICY_NOEVICTION; f[SAMPLES_WORD] = 5; f[LFU_LOG_FACTOR_WORD] = 10; f[LFU_DECAY_TIME_WORD] = 1 })

const NOW = 1_800_000_000_000

describe('the access clock', () => {
  it('idle time in whole seconds, across the 24-bit wrap', () => {
    expect(idleMs(lruClock(NOW), NOW)).toBe(0)
    expect(idleMs(lruClock(NOW - 5000), NOW)).toBe(5000)
    expect(idleMs(clockForIdle(1000, NOW), NOW)).toBe(1_000_000)
    // A clock just before the wrap, read just after it.
    const before = 0xffffff
    const after = (0xffffff + 3) * 1000
    expect(idleMs(before, after)).toBe(2000)
  })

  it('LFU: a new key counts LFU_INIT_VAL, the first access always adds one, decay takes one per period', () => {
    f[POLICY_WORD] = POLICY_ALLKEYS_LFU
    const c0 = initialClock(NOW)
    expect(lfuCounter(c0, NOW)).toBe(LFU_INIT_VAL)
    expect(lfuCounter(touchedClock(c0, NOW), NOW)).toBe(LFU_INIT_VAL + 1)
    f[LFU_LOG_FACTOR_WORD] = 0
    let c = c0
    for (let i = 0; i < 300; i++) c = touchedClock(c, NOW)
    expect(lfuCounter(c, NOW)).toBe(255)
    const ten = clockForFreq(10, NOW - 3 * 60_000)
    expect(lfuCounter(ten, NOW)).toBe(7)
    f[LFU_DECAY_TIME_WORD] = 2
    expect(lfuCounter(ten, NOW)).toBe(9)
    f[LFU_DECAY_TIME_WORD] = 0
    expect(lfuCounter(ten, NOW)).toBe(10)
    f[LFU_DECAY_TIME_WORD] = 1
    expect(lfuCounter(clockForFreq(2, NOW - 60 * 60_000), NOW)).toBe(0)
  })
})

/** A shard of 100 string keys k0..k99 of 40 bytes, with the clock or TTL the test gives each. */
function shardWith (setup: (ks: Shard['ks'], e: number, i: number) => void): { shard: Shard, keys: string[] } {
  const shard = new Shard()
  shard.clock = () => NOW
  const keys: string[] = []
  for (let i = 0; i < 100; i++) {
    const k = Buffer.from(`k${i}`)
    const e = shard.ks.insert(k, 0, k.length, keyHash(k, 0, k.length), TYPE_STRING, 40)
    setup(shard.ks, e, i)
    keys.push(`k${i}`)
  }
  // Done growing: a rehash finishing mid-eviction would free the old table's bytes too.
  shard.ks.rehashIdle(1000)
  return { shard, keys }
}

function survivors (shard: Shard, keys: string[]): string[] {
  return keys.filter(k => shard.lookupNoTouch(Buffer.from(k), 0, k.length) !== 0)
}

describe('Shard.evictTo with every key sampled', () => {
  const evictTen = (shard: Shard): void => {
    // Every entry takes one 72-byte block (28 + 2 or 3 + 40 bytes).
    const per = entryBlockBytes(3, 40)
    expect(entryBlockBytes(2, 40)).toBe(per)
    expect(shard.evictTo(shard.usedMemory() - per * 9.5)).toBe(true)
    expect(shard.evictedKeys).toBe(10)
  }

  it('allkeys-lru: the ten idlest go', () => {
    f[POLICY_WORD] = POLICY_ALLKEYS_LRU
    f[SAMPLES_WORD] = 1000
    // k0 idle 100 s, k1 99 s, ...
    const { shard, keys } = shardWith((ks, e, i) => ks.setClock(e, clockForIdle(100 - i, NOW)))
    evictTen(shard)
    expect(survivors(shard, keys)).toEqual(keys.slice(10))
  })

  it('allkeys-lfu: the ten least used go', () => {
    f[POLICY_WORD] = POLICY_ALLKEYS_LFU
    f[SAMPLES_WORD] = 1000
    const { shard, keys } = shardWith((ks, e, i) => ks.setClock(e, clockForFreq(200 - i, NOW)))
    evictTen(shard)
    expect(survivors(shard, keys)).toEqual(keys.slice(0, 90))
  })

  it('volatile-ttl: the soonest to expire go; volatile-*: never a key without a TTL', () => {
    f[POLICY_WORD] = POLICY_VOLATILE_TTL
    f[SAMPLES_WORD] = 1000
    // Even keys never expire; odd ones expire in 1,000,000 - i seconds.
    const { shard, keys } = shardWith((ks, e, i) => { if (i % 2 === 1) ks.setExpireAt(e, NOW + (1_000_000 - i) * 1000) })
    evictTen(shard)
    const gone = keys.filter(k => !survivors(shard, keys).includes(k))
    expect(gone).toEqual(['k81', 'k83', 'k85', 'k87', 'k89', 'k91', 'k93', 'k95', 'k97', 'k99'])
    // Asked for more than the volatile keys hold: they all go, then it gives up.
    f[POLICY_WORD] = POLICY_VOLATILE_LRU
    expect(shard.evictTo(0)).toBe(false)
    expect(survivors(shard, keys)).toEqual(keys.filter((_, i) => i % 2 === 0))
  })

  it('noeviction evicts nothing and reports whether the shard is within the limit', () => {
    const { shard } = shardWith(() => {})
    expect(shard.evictTo(shard.usedMemory())).toBe(true)
    expect(shard.evictTo(1)).toBe(false)
    expect(shard.evictedKeys).toBe(0)
  })
})
