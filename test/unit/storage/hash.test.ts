// Key → slot → shard. Slot values are checked against CLUSTER KEYSLOT of a real Redis 7.0.15
// (hard-coded below) and, for random keys, against an independent bit-by-bit CRC16/XMODEM with
// keyHashSlot's tag rules re-derived from cluster.c. shardOfSlot must split 16384 slots into
// contiguous, even ranges; keyHash must be a stable 32-bit hash whose low bits spread keys.

import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { SLOTS, crc16, keyHash, keyHashSlot, shardOfKey, shardOfSlot } from '../../../src/storage/hash.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const slotOf = (s: string | Uint8Array): number => {
  const k = typeof s === 'string' ? b(s) : s
  return keyHashSlot(k, 0, k.length)
}

/** CRC16/XMODEM (poly 0x1021, init 0, no reflection), one bit at a time: no table to share bugs. */
function crc16Ref (bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) {
    crc ^= byte << 8
    for (let i = 0; i < 8; i++) crc = (crc & 0x8000) !== 0 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

/** keyHashSlot as cluster.c words it: first '{', then the first '}' after it; empty tag → whole key. */
function slotRef (key: Uint8Array): number {
  const open = key.indexOf(0x7b)
  if (open !== -1) {
    const close = key.indexOf(0x7d, open + 1)
    if (close !== -1 && close !== open + 1) return crc16Ref(key.subarray(open + 1, close)) & 16383
  }
  return crc16Ref(key) & 16383
}

describe('crc16', () => {
  it('is CRC16/XMODEM: check value of "123456789" is 0x31C3', () => {
    expect(crc16(b('123456789'), 0, 9)).toBe(0x31c3)
    expect(crc16Ref(b('123456789'))).toBe(0x31c3)
  })

  it('reads only [start, start+len)', () => {
    const buf = b('xx123456789yy')
    expect(crc16(buf, 2, 9)).toBe(0x31c3)
    expect(crc16(buf, 0, 0)).toBe(0)
  })

  test.prop([fc.uint8Array({ maxLength: 300 })])('matches the bitwise reference', (bytes) => {
    expect(crc16(bytes, 0, bytes.length)).toBe(crc16Ref(bytes))
  })
})

describe('keyHashSlot', () => {
  // From `redis-cli CLUSTER KEYSLOT <key>` against redis-server 7.0.15 --cluster-enabled yes.
  const KEYSLOT: Array<[string, number]> = [
    ['foo', 12182],
    ['bar', 5061],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['123456789', 12739],
    ['', 0],
    ['{}', 15257],
    ['{', 4092],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
    ['{a}x', 15495],
    ['}{a}', 15495],
    ['x{a}}', 15495],
    ['a{b', 13340],
    ['{}{a}', 13650],
  ]

  it.each(KEYSLOT)('CLUSTER KEYSLOT %j = %i', (key, slot) => {
    expect(slotOf(key)).toBe(slot)
  })

  it('keys sharing a {tag} share a slot; the tag alone hashes the same', () => {
    expect(slotOf('{user1000}.following')).toBe(slotOf('user1000'))
    expect(slotOf('foo{bar}{zap}')).toBe(slotOf('bar'))
    expect(slotOf('foo{{bar}}zap')).toBe(slotOf('{bar'))
  })

  it('"{}", a lone "{" and an empty first tag hash the whole key', () => {
    for (const k of ['{}', '{', 'foo{}{bar}', '{}{a}', 'a{b', 'abc{']) {
      expect(slotOf(k)).toBe(crc16Ref(b(k)) & 16383)
    }
    // The empty first tag wins over the later non-empty one.
    expect(slotOf('foo{}{bar}')).not.toBe(slotOf('bar'))
  })

  it('honours start and len inside a larger buffer', () => {
    const buf = b('xx{user1000}.followingyy')
    expect(keyHashSlot(buf, 2, 20)).toBe(3443)
    // A '}' after the window must not close a tag opened inside it.
    const cut = b('a{bc}')
    expect(keyHashSlot(cut, 0, 4)).toBe(slotOf('a{bc'))
  })

  test.prop([fc.uint8Array({ maxLength: 40 })])('agrees with the reference on arbitrary bytes', (key) => {
    expect(slotOf(key)).toBe(slotRef(key))
  })

  test.prop([fc.array(fc.constantFrom(0x7b, 0x7d, 0x61, 0x62, 0x00, 0xff), { maxLength: 12 })])(
    'agrees with the reference on keys made mostly of braces', (arr) => {
      const key = Uint8Array.from(arr)
      const slot = slotOf(key)
      expect(slot).toBe(slotRef(key))
      expect(slot).toBeGreaterThanOrEqual(0)
      expect(slot).toBeLessThan(SLOTS)
    })
})

describe('shardOfSlot', () => {
  it('splits the slots into contiguous, even ranges for 1..256 shards', () => {
    for (let n = 1; n <= 256; n++) {
      const counts = new Array<number>(n).fill(0)
      let prev = 0
      for (let s = 0; s < SLOTS; s++) {
        const sh = shardOfSlot(s, n)
        if (sh < prev || sh > prev + 1 || sh >= n) throw new Error(`${n} shards: slot ${s} → ${sh} after ${prev}`)
        prev = sh
        counts[sh]++
      }
      expect(shardOfSlot(0, n)).toBe(0)
      expect(shardOfSlot(SLOTS - 1, n)).toBe(n - 1)
      const lo = Math.floor(SLOTS / n)
      for (const c of counts) {
        if (c !== lo && c !== lo + 1) throw new Error(`${n} shards: a shard owns ${c} slots, expected ${lo} or ${lo + 1}`)
      }
    }
  })

  it('shardOfKey puts every key on shard 0 of 1, and follows the slot otherwise', () => {
    const k = b('{user1000}.following')
    expect(shardOfKey(k, 0, k.length, 1)).toBe(0)
    expect(shardOfKey(k, 0, k.length, 4)).toBe(shardOfSlot(3443, 4))
    expect(shardOfKey(k, 0, k.length, 4)).toBe(0) // 3443 < 4096
    const f = b('foo')
    expect(shardOfKey(f, 0, f.length, 4)).toBe(2) // 12182 in [8192, 12288)
  })
})

describe('keyHash', () => {
  it('is a stable unsigned 32-bit value that depends on every byte and on start/len', () => {
    const k = b('hello world')
    const h = keyHash(k, 0, k.length)
    expect(Number.isInteger(h)).toBe(true)
    expect(h).toBeGreaterThanOrEqual(0)
    expect(h).toBeLessThan(2 ** 32)
    expect(keyHash(b('xxhello worldyy'), 2, 11)).toBe(h)
    for (let i = 0; i < k.length; i++) {
      const m = Buffer.from(k)
      m[i] ^= 1
      expect(keyHash(m, 0, m.length)).not.toBe(h)
    }
    expect(keyHash(b('a\x00'), 0, 2)).not.toBe(keyHash(b('a'), 0, 1))
  })

  it('spreads sequential keys evenly over the low bits (bucket index)', () => {
    const BUCKETS = 1024
    const N = 64 * BUCKETS
    const counts = new Array<number>(BUCKETS).fill(0)
    for (let i = 0; i < N; i++) {
      const k = b(`key:${i}`)
      // The keyspace uses bits 3.. for the bucket (bits 0-2 carry the type).
      counts[(keyHash(k, 0, k.length) >>> 3) & (BUCKETS - 1)]++
    }
    const mean = N / BUCKETS
    const chi2 = counts.reduce((acc, c) => acc + (c - mean) ** 2 / mean, 0)
    // 1023 degrees of freedom: mean 1023, sd ≈ 45. 1300 is > 6 sd out.
    expect(chi2).toBeLessThan(1300)
  })
})
