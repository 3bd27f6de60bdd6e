// Stream storage (stream-type.ts, stream-group.ts) against a plain model: random appends with
// ids anywhere in the u64 range (so the varint deltas take every width, carries included),
// deletions and trims, then a forward and a backward walk, the dump/restore round trip and the
// rax node count of small known key sets. The differential tests compare with Redis; these pin
// the encoding itself.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { Keyspace, TYPE_STREAM } from '../../../src/storage/keyspace.js'
import { keyHash } from '../../../src/storage/hash.js'
import * as S from '../../../src/storage/stream-type.js'
import { TYPES } from '../../../src/storage/types.js'

const KEY = Buffer.from('s')

function fresh (): { ks: Keyspace, e: number } {
  const ks = new Keyspace(1 << 22)
  const e = ks.insert(KEY, 0, KEY.length, keyHash(KEY, 0, KEY.length), TYPE_STREAM, S.STREAM_HEADER_BYTES)
  S.streamInit(ks, e)
  return { ks, e }
}

function argvOf (args: string[]): { buf: Buffer, start: Int32Array, len: Int32Array } {
  const buf = Buffer.from(args.join(''), 'latin1')
  const start = new Int32Array(args.length)
  const len = new Int32Array(args.length)
  let p = 0
  for (let i = 0; i < args.length; i++) { start[i] = p; len[i] = args[i].length; p += args[i].length }
  return { buf, start, len }
}

const big = (id: S.StreamId): bigint => (S.idMs(id) << 64n) | S.idSeq(id)
const idOf = (v: bigint): S.StreamId => S.idSet(new S.StreamId(), v >> 64n, v & ((1n << 64n) - 1n))

interface Entry { id: bigint, fields: string[] }

function walk (ks: Keyspace, e: number, isRev: boolean): Entry[] {
  const out: Entry[] = []
  const lo = S.idSetZero(new S.StreamId())
  const hi = S.idSetMax(new S.StreamId())
  S.streamRange(ks, e, lo, hi, isRev, () => {
    const fields: string[] = []
    S.pairsBegin(ks)
    const u8 = ks.arena.u8
    while (S.pairNext(u8)) {
      fields.push(Buffer.from(u8.subarray(S.pair.fa, S.pair.fa + S.pair.fl)).toString('latin1'))
      fields.push(Buffer.from(u8.subarray(S.pair.va, S.pair.va + S.pair.vl)).toString('latin1'))
    }
    out.push({ id: big(S.ent.id), fields })
    return true
  })
  return out
}

describe('ids', () => {
  it('increment and decrement carry across the sequence and stop at the ends', () => {
    const a = S.idSet(new S.StreamId(), 5n, (1n << 64n) - 1n)
    expect(S.idIncr(a)).toBe(true)
    expect(S.idString(a)).toBe('6-0')
    expect(S.idDecr(a)).toBe(true)
    expect(S.idString(a)).toBe('5-18446744073709551615')
    const max = S.idSetMax(new S.StreamId())
    expect(S.idIncr(max)).toBe(false)
    expect(S.idString(max)).toBe('0-0')
    expect(S.idDecr(max)).toBe(false)
    expect(S.idString(max)).toBe('18446744073709551615-18446744073709551615')
    const b = Buffer.alloc(48)
    const n = S.idFormat(S.idSet(new S.StreamId(), 9007199254740993n, 4294967296n), b)
    expect(b.subarray(0, n).toString()).toBe('9007199254740993-4294967296')
  })
})

describe('entries', () => {
  const gap = fc.oneof(fc.bigInt({ min: 1n, max: 3n }), fc.bigInt({ min: 1n, max: 1n << 40n }), fc.bigInt({ min: 1n, max: 1n << 100n }))
  const fields = fc.constantFrom(['a', '1'], ['a', '2'], ['a', 'x'.repeat(300), 'b', ''], ['c', '-5'], ['a', '123456789012'])
  const op = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(gap, fields).map(([g, f]) => ({ kind: 'add' as const, g, f })) },
    { weight: 2, arbitrary: fc.nat(200).map(i => ({ kind: 'del' as const, i })) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(60), fc.boolean()).map(([n, a]) => ({ kind: 'trim' as const, n, a })) },
  )

  it('appends, deletions and trims read back in both directions, and survive a dump and restore', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 300 }), (ops) => {
      const { ks, e } = fresh()
      let model: Entry[] = []
      let last = 0n
      for (const o of ops) {
        if (o.kind === 'add') {
          last += o.g
          if (last >= 1n << 128n) continue
          const a = argvOf(o.f)
          expect(S.streamAppend(ks, e, idOf(last), a, 0, o.f.length)).toBe(true)
          model.push({ id: last, fields: o.f })
        } else if (o.kind === 'del') {
          if (model.length === 0) continue
          const victim = model[o.i % model.length]
          expect(S.streamDelete(ks, e, idOf(victim.id))).toBe(true)
          model = model.filter(m => m !== victim)
          expect(S.streamDelete(ks, e, idOf(victim.id))).toBe(false)
        } else {
          const deleted = S.streamTrim(ks, e, S.TRIM_MAXLEN, o.n, new S.StreamId(), o.a, 0)
          const keep = o.a ? model.length - deleted : Math.min(o.n, model.length)
          expect(model.length - deleted).toBe(keep)
          model = model.slice(model.length - keep)
        }
        expect(S.streamLen(ks, e)).toBe(model.length)
      }
      expect(walk(ks, e, false)).toEqual(model)
      expect(walk(ks, e, true)).toEqual([...model].reverse())
      const ops2 = TYPES[TYPE_STREAM]
      const b = Buffer.alloc(ops2.dumpBytes(ks, e))
      ops2.dump(ks, e, b, 0)
      const other = new Keyspace(1 << 22)
      const n = other.insert(KEY, 0, KEY.length, keyHash(KEY, 0, KEY.length), TYPE_STREAM, S.STREAM_HEADER_BYTES)
      expect(ops2.restore(other, n, b, 0, b.length)).toBe(true)
      expect(walk(other, n, false)).toEqual(model)
      expect(S.idString(S.streamLastId(other, n, new S.StreamId()))).toBe(S.idString(S.streamLastId(ks, e, new S.StreamId())))
      // Freeing gives every block back.
      const before = ks.arena.used
      ks.remove(e)
      expect(ks.arena.used).toBeLessThan(before)
      expect(ks.arena.used).toBe(0)
    }), { numRuns: 200 })
  })
})

describe('radix-tree-nodes', () => {
  it('counts the nodes of the rax Redis builds over the nodes\' master ids', () => {
    const count = (ids: Array<[bigint, bigint]>): number => {
      const { ks, e } = fresh()
      // One entry per chunk: each a different field set far apart would still share chunks, so
      // entries of 3000 bytes close every chunk by the byte limit.
      for (const [ms, seq] of ids) {
        const a = argvOf(['f', 'x'.repeat(3000)])
        S.streamAppend(ks, e, S.idSet(new S.StreamId(), ms, seq), a, 0, 2)
      }
      expect(S.streamRaxKeys(ks, e)).toBe(ids.length)
      return S.streamRaxNodes(ks, e)
    }
    expect(S.streamRaxNodes(fresh().ks, fresh().e)).toBe(1)
    expect(count([[1n, 0n]])).toBe(2)
    // Keys apart at their 8th byte: root, the compressed common run, a branch, two children, two leaves.
    expect(count([[1n, 0n], [2n, 0n]])).toBe(6)
    // Apart at the last byte: the compressed run, a branch and two leaves.
    expect(count([[1n, 0n], [1n, 1n]])).toBe(4)
    expect(count([[1n, 0n], [1n, 1n], [1n, 2n]])).toBe(5)
  })
})

// Ids go out as "ms-seq" in every reply that names one; the digits come from int32 arithmetic
// below 2^53 (split at 10^8) and from BigInt above it.
describe('idFormat', () => {
  const u64 = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo)
  const show = (msHi: number, msLo: number, seqHi: number, seqLo: number): string => {
    const id = new S.StreamId()
    id.msHi = msHi; id.msLo = msLo; id.seqHi = seqHi; id.seqLo = seqLo
    const b = new Uint8Array(41)
    return Buffer.from(b.subarray(0, S.idFormat(id, b))).toString('latin1')
  }
  it('every width at the edges of the split, 2^53 and the largest u64', () => {
    const cases: Array<[number, number]> = [[0, 0], [0, 9], [0, 10], [0, 99_999_999], [0, 100_000_000], [0, 100_000_001], [0, 0xffffffff],
      [1, 0], [0x18c, 0x12345678], [0x1fffff, 0xffffffff], [0x200000, 0], [0x200000, 1], [0xffffffff, 0xffffffff]]
    for (const [hi, lo] of cases) {
      expect(show(hi, lo, 0, 7)).toBe(`${u64(hi, lo)}-7`)
      expect(show(0, 3, hi, lo)).toBe(`3-${u64(hi, lo)}`)
    }
  })
  it('random ids, as BigInt formats them', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (ms, seq) => {
      expect(show(Number(ms >> 32n), Number(ms & 0xffffffffn), Number(seq >> 32n), Number(seq & 0xffffffffn))).toBe(`${ms}-${seq}`)
    }), { numRuns: 2000 })
  })
})
