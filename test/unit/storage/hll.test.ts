// The HyperLogLog codec (src/storage/hll.ts) in-process: MurmurHash64A against a BigInt
// transcription of the algorithm, register/run lengths against values Redis 7.0.15 reported
// (PFADD of one element, then PFDEBUG GETREG), and the sparse editor against a plain array of
// registers: every edit must decode to the same registers, before and after promotion.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import {
  HLL_DENSE_SIZE, HLL_HDR, HLL_REGISTERS, ENC_DENSE, ENC_SPARSE, denseGet, denseSet, emptyWork, hashHi, hashLo, hllCount,
  hllMerge, isHll, murmurHash64A, patIndex, patLen, rawCount, selfTest, work, workLen, workSet, workToDense,
} from '../../../src/storage/hll.js'

const MASK = (1n << 64n) - 1n
const M = 0xc6a4a7935bd1e995n

/** MurmurHash64A in 64-bit BigInt arithmetic, straight from its definition. */
function murmurRef (data: Uint8Array, seed: bigint): bigint {
  const len = data.length
  let h = (seed ^ (BigInt(len) * M)) & MASK
  const blocks = len - (len & 7)
  for (let i = 0; i < blocks; i += 8) {
    let k = 0n
    for (let b = 7; b >= 0; b--) k = (k << 8n) | BigInt(data[i + b])
    k = (k * M) & MASK
    k ^= k >> 47n
    k = (k * M) & MASK
    h ^= k
    h = (h * M) & MASK
  }
  const rest = len & 7
  if (rest > 0) {
    for (let b = rest - 1; b >= 0; b--) h ^= BigInt(data[blocks + b]) << BigInt(8 * b)
    h = (h * M) & MASK
  }
  h ^= h >> 47n
  h = (h * M) & MASK
  h ^= h >> 47n
  return h
}

/** Registers of a sparse stream, or null when it does not cover exactly 16384 registers. */
function decodeSparse (u8: Uint8Array, len: number): number[] | null {
  const regs: number[] = []
  for (let p = HLL_HDR; p < len;) {
    const op = u8[p]
    if ((op & 0xc0) === 0) { for (let i = 0; i <= (op & 0x3f); i++) regs.push(0); p++ } else if ((op & 0xc0) === 0x40) {
      const n = (((op & 0x3f) << 8) | u8[p + 1]) + 1
      for (let i = 0; i < n; i++) regs.push(0)
      p += 2
    } else {
      for (let i = 0; i <= (op & 3); i++) regs.push(((op >>> 2) & 0x1f) + 1)
      p++
    }
  }
  return regs.length === HLL_REGISTERS ? regs : null
}

function registersOfWork (): number[] | null {
  if (work[4] === ENC_SPARSE) return decodeSparse(work, workLen)
  return Array.from({ length: HLL_REGISTERS }, (_, i) => denseGet(work, HLL_HDR, i))
}

describe('MurmurHash64A', () => {
  it('equals the 64-bit definition for any bytes and seed', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 0xffffffff }), (data, seed) => {
      murmurHash64A(data, 0, data.length, seed)
      expect((BigInt(hashHi) << 32n) | BigInt(hashLo)).toBe(murmurRef(data, BigInt(seed)))
    }), { numRuns: 500 })
  })

  it('reads from an offset inside a larger buffer', () => {
    const buf = Buffer.from('xxhello world, a longer elementyy')
    murmurHash64A(buf, 2, buf.length - 4, 0xadc83b19)
    expect((BigInt(hashHi) << 32n) | BigInt(hashLo)).toBe(murmurRef(buf.subarray(2, buf.length - 2), 0xadc83b19n))
  })
})

describe('patLen', () => {
  // [element, register, value] as Redis 7.0.15 sets them.
  const REDIS: Array<[string, number, number]> = [
    ['', 5938, 2], ['a', 12711, 2], ['hello', 9216, 1], ['12345678', 10579, 3], ['123456789abcdef', 1977, 3], ['foo bar baz qux', 1705, 1],
  ]
  it.each(REDIS)('%j: register %i, run %i', (s, reg, count) => {
    const b = Buffer.from(s)
    expect(patLen(b, 0, b.length)).toBe(count)
    expect(patIndex).toBe(reg)
  })
})

describe('dense registers', () => {
  it('set and get every register without touching its neighbours', () => {
    const u8 = new Uint8Array(HLL_DENSE_SIZE)
    const model = new Array<number>(HLL_REGISTERS).fill(0)
    let seed = 7
    for (let i = 0; i < HLL_REGISTERS; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0
      model[i] = seed & 63
      denseSet(u8, HLL_HDR, i, model[i])
    }
    for (let i = 0; i < HLL_REGISTERS; i++) expect(denseGet(u8, HLL_HDR, i)).toBe(model[i])
  })
})

describe('sparse editing', () => {
  const edit = fc.tuple(fc.integer({ min: 0, max: HLL_REGISTERS - 1 }), fc.integer({ min: 1, max: 40 }))
  it('any sequence of raises decodes to the model registers, sparse or promoted', () => {
    fc.assert(fc.property(fc.array(edit, { maxLength: 300 }), fc.constantFrom(60, 300, 3000), (edits, maxBytes) => {
      emptyWork()
      const model = new Array<number>(HLL_REGISTERS).fill(0)
      for (const [i, v] of edits) {
        const r = workSet(i, v, maxBytes)
        expect(r).toBe(v > model[i] ? 1 : 0)
        if (v > model[i]) model[i] = v
        if (work[4] === ENC_SPARSE) expect(workLen).toBeLessThanOrEqual(Math.max(maxBytes, HLL_HDR + 2))
      }
      expect(registersOfWork()).toEqual(model)
      // The count does not depend on the layout.
      const asIs = hllCount(work, 0, workLen)
      const max = new Uint8Array(HLL_REGISTERS)
      expect(hllMerge(max, work, 0, workLen)).toBe(true)
      expect(Array.from(max)).toEqual(model)
      expect(rawCount(max)).toBe(asIs)
      expect(workToDense()).toBe(true)
      expect(work[4]).toBe(ENC_DENSE)
      expect(hllCount(work, 0, workLen)).toBe(asIs)
      expect(registersOfWork()).toEqual(model)
    }), { numRuns: 60 })
  })

  it('a run past the last register, or short of it, is corrupt', () => {
    const hdr = [72, 89, 76, 76, ENC_SPARSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    const of = (...ops: number[]): Uint8Array => Uint8Array.from([...hdr, ...ops])
    const whole = of(0x7f, 0xff)
    const short = of(0x7f, 0xfe)
    const over = of(0x7f, 0xff, 0x80)
    expect(hllCount(whole, 0, whole.length)).toBe(0)
    expect(hllCount(short, 0, short.length)).toBe(-1)
    expect(hllCount(over, 0, over.length)).toBe(-1)
    expect(hllMerge(new Uint8Array(HLL_REGISTERS), over, 0, over.length)).toBe(false)
    expect(isHll(whole, 0, whole.length)).toBe(true)
    expect(isHll(whole, 0, 15)).toBe(false)
  })
})

describe('selfTest (PFSELFTEST)', () => {
  it('passes at the default hll-sparse-max-bytes and with a small one', () => {
    expect(selfTest(3000)).toBe(null)
    expect(selfTest(100)).toBe(null)
  })
})
