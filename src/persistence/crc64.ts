// CRC-64/Jones, as Redis's crc64.c computes it for DUMP payloads and RDB files: reflected
// polynomial 0xad93d23594c935a9, initial value 0, no final xor (check: "123456789" gives
// 0xe9c6d914c4b8d9ca). The 64-bit register is kept as two u32 halves, so no BigInt per byte.

const LO = new Uint32Array(256)
const HI = new Uint32Array(256)
{
  // The polynomial with its bits reversed (the reflected form), split into halves.
  const polyLo = 0xac4bc9b5
  const polyHi = 0x95ac9329
  for (let i = 0; i < 256; i++) {
    let lo = i
    let hi = 0
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0
      hi = hi >>> 1
      if (carry !== 0) { lo = (lo ^ polyLo) >>> 0; hi = (hi ^ polyHi) >>> 0 }
    }
    LO[i] = lo
    HI[i] = hi
  }
}

/** The CRC of b[start, end), continuing from `crc` (0 for a fresh one). */
export function crc64 (b: Uint8Array, start = 0, end = b.length, crc = 0n): bigint {
  let lo = Number(crc & 0xffffffffn)
  let hi = Number(crc >> 32n)
  for (let i = start; i < end; i++) {
    const t = (lo ^ b[i]) & 0xff
    lo = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ LO[t]) >>> 0
    hi = ((hi >>> 8) ^ HI[t]) >>> 0
  }
  return (BigInt(hi) << 32n) | BigInt(lo)
}
