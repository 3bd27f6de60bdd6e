// Byte copies every layer shares (protocol, storage, the primary's rings). A leaf: imports nothing.

/**
 * Copies src[start, start+len) to dst at `at`. Short runs (most replies) go byte by byte:
 * `subarray` would allocate a view object per reply on the hot path. Longer runs to or from a
 * SharedArrayBuffer whose addresses differ mod 8 go through a plain bounce buffer (see bounce).
 */
export function copyBytes (src: Uint8Array, start: number, len: number, dst: Uint8Array, at: number): void {
  if (len <= 64) {
    for (let i = 0; i < len; i++) dst[at + i] = src[start + i]
  } else if (len < BOUNCE_MIN || ((src.byteOffset + start - dst.byteOffset - at) & 7) === 0) {
    dst.set(src.subarray(start, start + len), at)
  } else {
    bounce(src, start, len, dst, at)
  }
}

/** Below this, a misaligned shared copy costs less than the extra plain copy (micro-benchmark). */
const BOUNCE_MIN = 256
const CHUNK = 32 * 1024
const BOUNCE_A = new Uint8Array(CHUNK + 8)
const BOUNCE_B = new Uint8Array(CHUNK + 8)

/**
 * V8 copies to or from shared memory with relaxed atomics: word by word when source and
 * destination addresses agree mod 8, byte by byte otherwise, ~390 ns per KB against ~105 on
 * Node 20 (bench:micro "copy"). So the shared side is copied co-aligned with a plain buffer,
 * and the shift between alignments is a plain memcpy. CHUNK is a multiple of 8, so every chunk
 * keeps the alignment of the first.
 */
function bounce (src: Uint8Array, start: number, len: number, dst: Uint8Array, at: number): void {
  const sb = src.buffer
  const db = dst.buffer
  const srcShared = sb instanceof SharedArrayBuffer
  const dstShared = db instanceof SharedArrayBuffer
  // Plain to plain is memcpy already; the same buffer may overlap, which set() handles.
  if ((!srcShared && !dstShared) || sb === db) { dst.set(src.subarray(start, start + len), at); return }
  const sa = (src.byteOffset + start) & 7
  const da = (dst.byteOffset + at) & 7
  for (let done = 0; done < len; done += CHUNK) {
    const n = len - done < CHUNK ? len - done : CHUNK
    // Plain Uint8Array views: a Buffer's subarray() goes through its species constructor.
    const from = new Uint8Array(sb, src.byteOffset + start + done, n)
    if (!srcShared) {
      // plain → shared: shift in plain memory to dst's alignment, then a co-aligned copy.
      BOUNCE_A.set(from, da)
      dst.set(BOUNCE_A.subarray(da, da + n), at + done)
    } else if (!dstShared) {
      BOUNCE_A.set(from, sa)
      dst.set(BOUNCE_A.subarray(sa, sa + n), at + done)
    } else {
      BOUNCE_A.set(from, sa)
      BOUNCE_B.set(BOUNCE_A.subarray(sa, sa + n), da)
      dst.set(BOUNCE_B.subarray(da, da + n), at + done)
    }
  }
}

/** Little-endian u32 at any byte offset (headers inside values are not 4-aligned). */
export function readU32LE (u8: Uint8Array, p: number): number {
  return (u8[p] | (u8[p + 1] << 8) | (u8[p + 2] << 16) | (u8[p + 3] << 24)) >>> 0
}

export function writeU32LE (u8: Uint8Array, p: number, v: number): void {
  u8[p] = v & 255
  u8[p + 1] = (v >>> 8) & 255
  u8[p + 2] = (v >>> 16) & 255
  u8[p + 3] = v >>> 24
}

/**
 * The decimal digits of an integer within ±2^53 at u8[p] (room made by the caller), a minus
 * first if negative: the position after them. RESP headers and lengths (ReplyWriter, AofLog).
 */
export function writeDigits (u8: Uint8Array, p: number, n: number): number {
  if (n < 0) { u8[p++] = 45; n = -n }
  if (n < 10) { u8[p] = 48 + n; return p + 1 }
  let tmp = n
  let d = 0
  while (tmp >= 1) { tmp = Math.floor(tmp / 10); d++ }
  let q = p + d - 1
  while (n >= 1) {
    const r = Math.floor(n / 10)
    u8[q--] = 48 + (n - r * 10)
    n = r
  }
  return p + d
}
