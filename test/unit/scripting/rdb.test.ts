// FUNCTION DUMP's payload (src/scripting/rdb.ts): its framing and the reader RESTORE uses (CRC64
// and LZF themselves are tested in test/unit/persistence/codec.test.ts). Byte equality with Redis's own dumps is checked
// against a real redis-server in test/integration/diff-functions.test.ts.
import { describe, expect, it } from 'vitest'
import { dumpPayload, PayloadReader, verifyPayload } from '../../../src/scripting/rdb.js'

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
