// copyBytes: every length, offset and kind of memory (plain Buffer, plain Uint8Array, shared)
// gives the same bytes as a plain copy, including the bounce path for misaligned shared copies
// and copies longer than one bounce chunk.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { copyBytes } from '../../src/bytes.js'

type Kind = 'buffer' | 'u8' | 'shared'
const KINDS: Kind[] = ['buffer', 'u8', 'shared']

function make (kind: Kind, size: number, seed: number): Uint8Array {
  const u8 = kind === 'buffer' ? Buffer.allocUnsafe(size) : kind === 'u8' ? new Uint8Array(size) : new Uint8Array(new SharedArrayBuffer(size))
  for (let i = 0; i < size; i++) u8[i] = (i * 31 + seed) & 255
  return u8
}

describe('copyBytes', () => {
  it('matches a plain copy for every kind pair, length and alignment', () => {
    fc.assert(fc.property(
      fc.constantFrom(...KINDS), fc.constantFrom(...KINDS),
      fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 200, max: 80_000 })),
      fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 15 }),
      (sk, dk, len, so, d0) => {
        const src = make(sk, len + 16, 7)
        const dst = make(dk, len + 32, 101)
        const expected = Buffer.from(dst)
        Buffer.from(src.buffer, src.byteOffset, src.length).copy(expected, d0 + 8, so, so + len)
        copyBytes(src, so, len, dst, d0 + 8)
        expect(Buffer.from(dst.buffer, dst.byteOffset, dst.length).equals(expected)).toBe(true)
      }), { numRuns: 300 })
  })

  it('copies within one shared buffer, overlapping either way', () => {
    for (const shift of [-13, -1, 1, 5, 13]) {
      const u8 = make('shared', 4096, 3)
      const expected = Buffer.from(u8)
      expected.copy(expected, 1000 + shift, 1000, 3000)
      copyBytes(u8, 1000, 2000, u8, 1000 + shift)
      expect(Buffer.from(u8).equals(expected)).toBe(true)
    }
  })
})
