// Keyspace.forSlot, the unit of a BGSAVE walk (persistence/snapshot.ts): walking every slot of
// the table's size at the start visits each key present at the start exactly once, however much
// the table grows and rehashes between slots, mid-rehash starts included.

import { describe, expect, it } from 'vitest'
import { Keyspace, TYPE_STRING } from '../../../src/storage/keyspace.js'
import { keyHash } from '../../../src/storage/hash.js'

function put (ks: Keyspace, k: string): void {
  const b = Buffer.from(k, 'latin1')
  const h = keyHash(b, 0, b.length)
  if (ks.find(b, 0, b.length, h) !== 0) return
  if (ks.insert(b, 0, b.length, h, TYPE_STRING, 0) === 0) throw new Error('arena full')
}

function keyOf (ks: Keyspace, e: number): string {
  return Buffer.from(ks.arena.u8.subarray(ks.keyOffset(e), ks.keyOffset(e) + ks.keyLen(e))).toString('latin1')
}

/** Walks all slots, inserting `grow` new keys between slots; how often each key was seen. */
function walk (ks: Keyspace, grow: number): Map<string, number> {
  const bits = 31 - Math.clz32(ks.buckets)
  const mask = (1 << bits) - 1
  const seen = new Map<string, number>()
  let n = 0
  for (let s = 0; s <= mask; s++) {
    ks.forSlot(s, mask, e => { const k = keyOf(ks, e); seen.set(k, (seen.get(k) ?? 0) + 1) })
    for (let i = 0; i < grow; i++) put(ks, `new:${n++}`)
  }
  return seen
}

describe('Keyspace.forSlot', () => {
  for (const [start, grow] of [[1000, 0], [1000, 40], [1500, 60], [20, 500]]) {
    it(`${start} keys, ${grow} inserted between slots: each key present at the start once`, () => {
      const ks = new Keyspace()
      for (let i = 0; i < start; i++) put(ks, `k:${i}`)
      const seen = walk(ks, grow)
      for (let i = 0; i < start; i++) expect(seen.get(`k:${i}`)).toBe(1)
      for (const [k, c] of seen) if (!k.startsWith('k:')) expect(c).toBe(1)
    })
  }
})
