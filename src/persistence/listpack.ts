// Listpacks as Redis 7.0 lays them out (listpack.c), for the RDB and DUMP encodings of small
// hashes, sorted sets and list nodes: | u32 total bytes | u16 count (65535 = unknown) | entries |
// 0xff |. An entry is its encoding and data, then its own length written backwards (backlen).
// A string that reads as a canonical int64 (lpStringToInt64, as string2ll) is stored as an
// integer in the smallest form: 7-bit uint, 13-bit, 16, 24, 32 or 64-bit signed.

import { Buffer } from 'node:buffer'
import { parseBigInt64 as readInt64 } from '../protocol/ascii.js'

export { readInt64 }

/** A growable byte buffer. */
export class ByteWriter {
  buf: Buffer
  len = 0
  constructor (size = 256) { this.buf = Buffer.allocUnsafe(size) }
  need (n: number): void {
    if (this.len + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }
  byte (b: number): void { this.need(1); this.buf[this.len++] = b }
  bytes (b: Uint8Array, start = 0, end = b.length): void {
    this.need(end - start)
    this.buf.set(b.subarray(start, end), this.len)
    this.len += end - start
  }
  get result (): Buffer { return this.buf.subarray(0, this.len) }
}

function backlen (w: ByteWriter, l: number): void {
  if (l <= 127) w.byte(l)
  else if (l < 16383) { w.byte(l >>> 7); w.byte((l & 127) | 128) } else if (l < 2097151) {
    w.byte(l >>> 14); w.byte(((l >>> 7) & 127) | 128); w.byte((l & 127) | 128)
  } else if (l < 268435455) {
    w.byte(l >>> 21); w.byte(((l >>> 14) & 127) | 128); w.byte(((l >>> 7) & 127) | 128); w.byte((l & 127) | 128)
  } else {
    w.byte(Math.floor(l / 2 ** 28)); w.byte(((l >>> 21) & 127) | 128); w.byte(((l >>> 14) & 127) | 128)
    w.byte(((l >>> 7) & 127) | 128); w.byte((l & 127) | 128)
  }
}

/** Bytes of backlen(l). */
function backlenBytes (l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5
}

/** Appends one listpack entry for the element b[start, start + len). */
export function lpEntry (w: ByteWriter, b: Uint8Array, start: number, len: number): void {
  const v = readInt64(b, start, len)
  const at = w.len
  if (v !== null) {
    if (v >= 0n && v <= 127n) w.byte(Number(v))
    else if (v >= -4096n && v <= 4095n) {
      const u = Number(v < 0n ? (1n << 13n) + v : v)
      w.byte((u >>> 8) | 0xc0); w.byte(u & 0xff)
    } else if (v >= -32768n && v <= 32767n) {
      w.need(3); w.buf[w.len] = 0xf1; w.buf.writeInt16LE(Number(v), w.len + 1); w.len += 3
    } else if (v >= -8388608n && v <= 8388607n) {
      w.need(4); w.buf[w.len] = 0xf2; w.buf.writeIntLE(Number(v), w.len + 1, 3); w.len += 4
    } else if (v >= -2147483648n && v <= 2147483647n) {
      w.need(5); w.buf[w.len] = 0xf3; w.buf.writeInt32LE(Number(v), w.len + 1); w.len += 5
    } else {
      w.need(9); w.buf[w.len] = 0xf4; w.buf.writeBigInt64LE(v, w.len + 1); w.len += 9
    }
  } else if (len < 64) {
    w.byte(0x80 | len)
    w.bytes(b, start, start + len)
  } else if (len < 4096) {
    w.byte((len >>> 8) | 0xe0); w.byte(len & 0xff)
    w.bytes(b, start, start + len)
  } else {
    w.need(5); w.buf[w.len] = 0xf0; w.buf.writeUInt32LE(len, w.len + 1); w.len += 5
    w.bytes(b, start, start + len)
  }
  backlen(w, w.len - at)
}

/** A listpack builder: start(), entries, then finish() fills in the header and terminator. */
export class ListpackWriter {
  readonly w = new ByteWriter()
  count = 0
  start (): void { this.w.len = 0; this.count = 0; this.w.need(6); this.w.len = 6 }
  add (b: Uint8Array, start: number, len: number): void { lpEntry(this.w, b, start, len); this.count++ }
  /** Bytes the listpack would take now, terminator included. */
  get bytes (): number { return this.w.len + 1 }
  finish (): Buffer {
    const w = this.w
    w.byte(0xff)
    w.buf.writeUInt32LE(w.len, 0)
    w.buf.writeUInt16LE(this.count < 65535 ? this.count : 65535, 4)
    return w.result
  }
}

/**
 * Calls fn with each element of a listpack (integers as their decimal text); false when the
 * bytes are not a well-formed listpack.
 */
export function lpForEach (lp: Uint8Array, fn: (b: Uint8Array, start: number, len: number) => void): boolean {
  if (lp.length < 7) return false
  const total = lp[0] | (lp[1] << 8) | (lp[2] << 16) | (lp[3] * 2 ** 24)
  if (total !== lp.length || lp[total - 1] !== 0xff) return false
  const v = new DataView(lp.buffer, lp.byteOffset, lp.length)
  let p = 6
  while (p < total - 1) {
    const c = lp[p]
    const at = p
    let num: bigint | null = null
    if (c < 0x80) { num = BigInt(c); p += 1 } else if ((c & 0xc0) === 0x80) {
      const l = c & 0x3f
      if (p + 1 + l > total - 1) return false
      fn(lp, p + 1, l); p += 1 + l
    } else if ((c & 0xe0) === 0xc0) {
      let u = ((c & 0x1f) << 8) | lp[p + 1]
      if (u >= 4096) u -= 8192
      num = BigInt(u); p += 2
    } else if ((c & 0xf0) === 0xe0) {
      const l = ((c & 0x0f) << 8) | lp[p + 1]
      if (p + 2 + l > total - 1) return false
      fn(lp, p + 2, l); p += 2 + l
    } else if (c === 0xf0) {
      const l = v.getUint32(p + 1, true)
      if (p + 5 + l > total - 1) return false
      fn(lp, p + 5, l); p += 5 + l
    } else if (c === 0xf1) { num = BigInt(v.getInt16(p + 1, true)); p += 3 } else if (c === 0xf2) {
      let u = lp[p + 1] | (lp[p + 2] << 8) | (lp[p + 3] << 16)
      if (u >= 0x800000) u -= 0x1000000
      num = BigInt(u); p += 4
    } else if (c === 0xf3) { num = BigInt(v.getInt32(p + 1, true)); p += 5 } else if (c === 0xf4) {
      num = v.getBigInt64(p + 1, true); p += 9
    } else return false
    if (num !== null) {
      const s = Buffer.from(num.toString(), 'latin1')
      fn(s, 0, s.length)
    }
    const l = p - at
    p += backlenBytes(l)
    if (p > total - 1) return false
  }
  return true
}
