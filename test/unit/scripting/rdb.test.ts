// FUNCTION DUMP's building blocks (src/scripting/rdb.ts): CRC64 Jones, LZF both ways, the
// payload's framing and the reader RESTORE uses. Byte equality with Redis's own dumps is checked
// against a real redis-server in test/integration/diff-functions.test.ts.
import { describe, expect, it } from 'vitest'
import { crc64, dumpPayload, lzfCompress, lzfDecompress, PayloadReader, verifyPayload } from '../../../src/scripting/rdb.js'

describe('crc64', () => {
  it('is the Jones CRC Redis uses (crc64.c test vector)', () => {
    expect(crc64(0n, Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can)
    expect(crc64(0n, Buffer.alloc(0))).toBe(0n)
  })
})

describe('lzf', () => {
  const inputs = [
    'a'.repeat(300), 'abcabcabcabcabcabcabcabcabcabc', 'x'.repeat(5000) + 'y'.repeat(9000),
    Array.from({ length: 400 }, (_, i) => `line ${i % 13} ${'q'.repeat(i % 7)}`).join('\n'),
  ]

  it('decompresses what it compresses', () => {
    for (const s of inputs) {
      const b = Buffer.from(s)
      const c = lzfCompress(b, b.length - 4)
      expect(c).not.toBeNull()
      expect((c as Buffer).length).toBeLessThan(b.length - 4)
      expect(lzfDecompress(c as Buffer, b.length)).toEqual(b)
    }
  })

  it('gives up when the output would not fit, as Redis then stores the string plainly', () => {
    const random = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 151 + 7) % 251))
    expect(lzfCompress(random, random.length - 4)).toBeNull()
  })

  it('refuses malformed input and a wrong length', () => {
    const b = Buffer.from('a'.repeat(100))
    const c = lzfCompress(b, 96) as Buffer
    expect(lzfDecompress(c, 99)).toBeNull()
    expect(lzfDecompress(Buffer.from([0x20, 5]), 10)).toBeNull() // a back reference before the start
    expect(lzfDecompress(Buffer.from([5, 65]), 6)).toBeNull() // a literal run past the input
  })
})

describe('payload', () => {
  it('frames records, version 10 and the CRC, and reads them back (plain and compressed strings)', () => {
    const codes = [Buffer.from('#!lua name=a\nshort'), Buffer.from('#!lua name=b\n' + 'z'.repeat(20000))]
    const p = dumpPayload(codes)
    expect(verifyPayload(p)).toBe(true)
    expect(p.subarray(p.length - 10, p.length - 8)).toEqual(Buffer.from([10, 0]))
    const r = new PayloadReader(p)
    const read: Buffer[] = []
    while (r.hasMore) {
      expect(r.byte()).toBe(245)
      read.push(r.string() as Buffer)
    }
    expect(read).toEqual(codes)
    expect(p[1 + 1 + codes[0].length + 1]).toBe(0xc3)
  })

  it('an empty dump is the footer alone; a flipped byte or a newer version fails the check', () => {
    const empty = dumpPayload([])
    expect(empty.length).toBe(10)
    expect(verifyPayload(empty)).toBe(true)
    const p = dumpPayload([Buffer.from('#!lua name=a\nx')])
    const flipped = Buffer.from(p)
    flipped[2] ^= 1
    expect(verifyPayload(flipped)).toBe(false)
    expect(verifyPayload(p.subarray(0, 9))).toBe(false)
  })
})
