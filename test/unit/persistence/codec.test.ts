// The byte codecs behind DUMP/RESTORE on their own: CRC-64/Jones's check value, LZF round trips
// and its refusals, listpack entries read back as written, and payloads that must not load.
// (Byte equality with Redis's own output is in test/integration/diff-dump.test.ts.)
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { crc64 } from '../../../src/persistence/crc64.js'
import { lzfCompress, lzfDecompress } from '../../../src/persistence/lzf.js'
import { ListpackWriter, lpForEach } from '../../../src/persistence/listpack.js'
import { restorePayload, verifyDumpPayload } from '../../../src/persistence/rdb-value.js'

describe('crc64', () => {
  it('has Jones\'s check value and continues across calls', () => {
    expect(crc64(Buffer.from('123456789')).toString(16)).toBe('e9c6d914c4b8d9ca')
    const b = Buffer.from('123456789')
    expect(crc64(b, 4, 9, crc64(b, 0, 4))).toBe(crc64(b))
  })
})

describe('lzf', () => {
  it('round trips any bytes that it compresses, and refuses output that does not fit', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.constantFrom(2, 4, 16), (data, alphabet) => {
      const input = data.map(x => x % alphabet)
      const c = lzfCompress(input, input.length + 64)
      if (input.length === 0) { expect(c).toBe(null); return }
      expect(c).not.toBe(null)
      expect(Buffer.from(lzfDecompress(c as Uint8Array, input.length) as Uint8Array)).toEqual(Buffer.from(input))
    }))
    expect(lzfCompress(Buffer.from('abcdefghijklmnopqrstuvwxyz'), 22)).toBe(null)
  })

  it('compresses each input alike whatever earlier calls left in its table, and still finds matches', () => {
    // The table is not cleared between calls (slots carry a generation): one value's bytes
    // must not depend on the values compressed before it.
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 21, maxLength: 400 }), { minLength: 2, maxLength: 30 }), inputs => {
      const small = inputs.map(d => d.map(x => x % 3))
      const hex = (d: Uint8Array): string => Buffer.from(lzfCompress(d, d.length + 64) as Uint8Array).toString('hex')
      const first = small.map(hex)
      expect(small.slice().reverse().map(hex).reverse()).toEqual(first)
    }))
    // Redis 7.0.15's DUMP of 'ab' × 50 holds these 10 bytes after 0xc3 and the two lengths.
    expect(Buffer.from(lzfCompress(Buffer.from('ab'.repeat(50)), 96) as Uint8Array).toString('hex')).toBe('02616261e05601016162')
  })

  it('rejects malformed input and wrong sizes instead of reading past it', () => {
    const c = lzfCompress(Buffer.from('ab'.repeat(50)), 96) as Uint8Array
    expect(lzfDecompress(c, 99)).toBe(null)
    expect(lzfDecompress(c, 101)).toBe(null)
    expect(lzfDecompress(Buffer.from([0x20, 0x05]), 10)).toBe(null)
    expect(lzfDecompress(Buffer.from([0x05, 0x61]), 6)).toBe(null)
  })
})

describe('listpack', () => {
  it('reads back every element as written (integers as their canonical text)', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.string({ maxLength: 5000 }))), (items) => {
      const lp = new ListpackWriter()
      lp.start()
      for (const s of items) { const b = Buffer.from(s); lp.add(b, 0, b.length) }
      const out: string[] = []
      expect(lpForEach(lp.finish(), (b, s, l) => { out.push(Buffer.from(b.subarray(s, s + l)).toString()) })).toBe(true)
      expect(out).toEqual(items)
    }), { numRuns: 50 })
  })
})

describe('RESTORE payloads', () => {
  function withFooter (body: number[]): Buffer {
    const b = Buffer.concat([Buffer.from(body), Buffer.from([10, 0]), Buffer.alloc(8)])
    b.writeBigUInt64LE(crc64(b, 0, b.length - 8), b.length - 8)
    return b
  }
  it('verifies the footer and refuses truncated, empty and oversized objects', () => {
    expect(verifyDumpPayload(withFooter([0, 1, 0x76]))).toBe(true)
    expect(verifyDumpPayload(Buffer.from([0, 1, 0x76, 10, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(false)
    expect(restorePayload(withFooter([0, 5, 0x76]))).toBe(null)
    expect(restorePayload(withFooter([4, 0]))).toBe(null)
    expect(restorePayload(withFooter([0, 0xc3, 1, 0x80, 0x7f, 0xff, 0xff, 0xff, 0]))).toBe(null)
    expect(restorePayload(withFooter([18, 1, 2, 3, 1, 2, 3]))).toBe(null)
    expect(restorePayload(withFooter([2, 0x80, 0xff, 0xff, 0xff, 0xff]))).toBe(null)
  })
})
