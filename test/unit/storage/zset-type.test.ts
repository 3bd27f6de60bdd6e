// The sorted-set order (zset-type.ts) against a plain sorted array: random inserts, score
// updates and deletions with chunks of 4 nodes (FLASHKV_ZSET_CHUNK), so chunks split, empty and
// the directory grows all the time. After every step, each member's rank (zsetRank: the Fenwick
// prefix) and the node at each rank (zsetAt: the Fenwick descent, or the cached walk) agree with
// the model, in ascending walks and in random order.
import '../helpers/zset-chunk-4.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { Keyspace, TYPE_ZSET } from '../../../src/storage/keyspace.js'
import { keyHash } from '../../../src/storage/hash.js'
import { readU32LE } from '../../../src/bytes.js'

import * as Z from '../../../src/storage/zset-type.js'

const KEY = Buffer.from('z')

function fresh (): { ks: Keyspace, e: number } {
  const ks = new Keyspace(1 << 22)
  const e = ks.insert(KEY, 0, KEY.length, keyHash(KEY, 0, KEY.length), TYPE_ZSET, Z.ZSET_HEADER_BYTES)
  Z.zsetInit(ks, e, false)
  return { ks, e }
}

function memberOf (ks: Keyspace, n: number): string {
  const at = Z.nodeMemberAt(n)
  return Buffer.from(ks.arena.u8.subarray(at, at + Z.nodeMemberLen(ks, n))).toString('latin1')
}

type Op = { kind: 'add' | 'score' | 'del', member: number, score: number }

describe('sorted-set order with a Fenwick tree over chunk counts', () => {
  it('ranks and positions match a sorted array through splits, emptied chunks and directory growth', () => {
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('add', 'add', 'add', 'score', 'del'),
      member: fc.integer({ min: 0, max: 150 }),
      score: fc.integer({ min: -20, max: 20 }),
    })
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), fc.array(fc.nat(), { minLength: 20, maxLength: 20 }), (ops, probes) => {
      const { ks, e } = fresh()
      const model = new Map<string, number>()
      for (const o of ops) {
        const m = `m${o.member}`
        const b = Buffer.from(m)
        const n = Z.zsetFind(ks, e, b, 0, b.length)
        if (o.kind === 'add' && n === 0) {
          expect(Z.zsetInsert(ks, e, o.score, b, 0, b.length)).not.toBe(0)
          model.set(m, o.score)
        } else if (o.kind === 'score' && n !== 0) {
          Z.zsetUpdateScore(ks, e, n, o.score)
          model.set(m, o.score)
        } else if (o.kind === 'del' && n !== 0) {
          Z.zsetDelete(ks, e, n)
          model.delete(m)
        }
      }
      const sorted = [...model].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(x => x[0])
      expect(Z.zsetLen(ks, e)).toBe(sorted.length)
      // An ascending walk (the cached path) and random probes (the tree's descent).
      for (let i = 0; i < sorted.length; i++) expect(memberOf(ks, Z.zsetAt(ks, e, i))).toBe(sorted[i])
      if (sorted.length > 0) {
        for (const p of probes) {
          const i = p % sorted.length
          expect(memberOf(ks, Z.zsetAt(ks, e, i))).toBe(sorted[i])
        }
        for (let i = sorted.length - 1; i >= 0; i -= 3) expect(memberOf(ks, Z.zsetAt(ks, e, i))).toBe(sorted[i])
      }
      sorted.forEach((m, i) => {
        const b = Buffer.from(m)
        expect(Z.zsetRank(ks, e, Z.zsetFind(ks, e, b, 0, b.length))).toBe(i)
      })
    }), { numRuns: 150 })
  })

  it('a large set: every rank, after deleting every third member', () => {
    const { ks, e } = fresh()
    const N = 5000
    for (let i = 0; i < N; i++) {
      const b = Buffer.from(`k${(i * 7919) % N}`)
      expect(Z.zsetInsert(ks, e, (i * 7919) % N, b, 0, b.length)).not.toBe(0)
    }
    for (let s = 0; s < N; s += 3) {
      const b = Buffer.from(`k${s}`)
      Z.zsetDelete(ks, e, Z.zsetFind(ks, e, b, 0, b.length))
    }
    // Chunks of at most 4 nodes: more than a thousand of them.
    const dir = readU32LE(ks.arena.u8, ks.valOffset(e) + 8)
    expect(ks.arena.u32[(dir >>> 2) + 1]).toBeGreaterThan(N / 3 / 4)
    const left = [...Array(N).keys()].filter(s => s % 3 !== 0)
    expect(Z.zsetLen(ks, e)).toBe(left.length)
    left.forEach((s, i) => {
      const b = Buffer.from(`k${s}`)
      expect(Z.zsetRank(ks, e, Z.zsetFind(ks, e, b, 0, b.length))).toBe(i)
    })
    for (let i = left.length - 1; i >= 0; i -= 97) expect(memberOf(ks, Z.zsetAt(ks, e, i))).toBe(`k${left[i]}`)
    Z.zsetFree(ks, e)
  })
})

describe('formatScore', () => {
  // %.17g written out the long way (17 significant digits, trailing zeros dropped): the safe
  // integer shortcut must print exactly this.
  const viaExponent = (d: number): string => {
    const exp = d.toExponential(16)
    const x = Number(exp.slice(exp.indexOf('e') + 1))
    const f = d.toFixed(16 - x)
    return f.includes('.') ? f.replace(/0+$/, '').replace(/\.$/, '') : f
  }

  it('a safe integer prints as %.17g does (all its digits, no exponent)', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (d) => {
      fc.pre(d !== 0)
      expect(Z.formatScore(d)).toBe(viaExponent(d))
    }))
    for (const d of [1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 1700000000123 * 0x1000 + 4095, 10 ** 15]) expect(Z.formatScore(d)).toBe(viaExponent(d))
    expect(Z.formatScore(2 ** 53)).toBe('9007199254740992')
    expect(Z.formatScore(1e17)).toBe('1e+17')
  })
})
