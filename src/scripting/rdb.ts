// FUNCTION DUMP's payload, as Redis 7.0 writes it (functionDumpCommand, rdbSaveFunctions,
// createDumpPayload): for each library the RDB_OPCODE_FUNCTION2 byte and its code as an RDB
// string (LZF-compressed when that saves bytes, as rdbSaveRawString does with rdbcompression on),
// then the RDB version (10) as two little-endian bytes and the CRC64 (Jones, reflected, as
// Redis's crc64.c) of everything before it, eight little-endian bytes. The LZF compressor
// follows liblzf's algorithm with Redis's settings (HLOG 16, VERY_FAST), so the bytes are Redis's.

export const RDB_VERSION = 10
export const RDB_OPCODE_FUNCTION = 246
export const RDB_OPCODE_FUNCTION2 = 245

// --- CRC64 (Jones polynomial, reflected; crc64(0, "123456789") = 0xe9c6d914c4b8d9ca) -----------

const POLY = 0x95ac9329ac4bc9b5n
const CRC_TABLE: bigint[] = []
for (let i = 0; i < 256; i++) {
  let c = BigInt(i)
  for (let k = 0; k < 8; k++) c = (c & 1n) !== 0n ? (c >> 1n) ^ POLY : c >> 1n
  CRC_TABLE.push(c)
}

export function crc64 (crc: bigint, data: Uint8Array): bigint {
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[Number((crc ^ BigInt(data[i])) & 0xffn)] ^ (crc >> 8n)
  return crc
}

// --- LZF --------------------------------------------------------------------------------------

const HLOG = 16
const HSIZE = 1 << HLOG
const MAX_LIT = 1 << 5
const MAX_OFF = 1 << 13
const MAX_REF = (1 << 8) + (1 << 3)

/** lzf_compress's hash slot of the three bytes whose running value is h (VERY_FAST). */
function idx (h: number): number {
  return (((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) >>> 0) & (HSIZE - 1)
}

/**
 * liblzf's lzf_compress into at most outLen bytes: the compressed bytes, or null when they do
 * not fit (Redis then stores the string as it is). Slots start at offset 0, which never matches
 * (a reference must be above the input's start), as a zeroed table in C.
 */
export function lzfCompress (input: Uint8Array, outLen: number): Buffer | null {
  const inLen = input.length
  if (inLen === 0 || outLen === 0) return null
  const htab = new Uint32Array(HSIZE)
  const out = Buffer.alloc(outLen + 1)
  let ip = 0
  let op = 0
  const inEnd = inLen
  const outEnd = outLen
  let lit = 0
  op++ // start run
  let hval = ((input[0] << 8) | input[1]) >>> 0
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0
    const slot = idx(hval)
    const ref = htab[slot]
    htab[slot] = ip
    const off = ip - ref - 1
    if (ref < ip && off < MAX_OFF && ref > 0 && input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] && input[ref + 1] === input[ip + 1]) {
      let len = 2
      let maxlen = inEnd - ip - len
      if (maxlen > MAX_REF) maxlen = MAX_REF
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return null
      out[op - lit - 1] = lit - 1 // stop run
      op -= lit === 0 ? 1 : 0 // undo run if length is zero
      match: {
        if (maxlen > 16) {
          for (let k = 0; k < 16; k++) {
            len++
            if (input[ref + len] !== input[ip + len]) break match
          }
        }
        do len++
        while (len < maxlen && input[ref + len] === input[ip + len])
      }
      len -= 2 // now the count of bytes less one
      ip++
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5)
      } else {
        out[op++] = (off >> 8) + (7 << 5)
        out[op++] = len - 7
      }
      out[op++] = off & 0xff
      lit = 0; op++ // start run
      ip += len + 1
      if (ip >= inEnd - 2) break
      ip -= 2
      hval = ((input[ip] << 8) | input[ip + 1]) >>> 0
      hval = ((hval << 8) | input[ip + 2]) >>> 0
      htab[idx(hval)] = ip
      ip++
      hval = ((hval << 8) | input[ip + 2]) >>> 0
      htab[idx(hval)] = ip
      ip++
    } else {
      if (op >= outEnd) return null
      lit++; out[op++] = input[ip++]
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1
        lit = 0; op++
      }
    }
  }
  if (op + 3 > outEnd) return null
  while (ip < inEnd) {
    lit++; out[op++] = input[ip++]
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1
      lit = 0; op++
    }
  }
  out[op - lit - 1] = lit - 1 // end run
  op -= lit === 0 ? 1 : 0
  return out.subarray(0, op)
}

/** lzf_decompress: the outLen bytes, or null when the input is malformed or of another length. */
export function lzfDecompress (input: Uint8Array, outLen: number): Buffer | null {
  const out = Buffer.alloc(outLen)
  let ip = 0
  let op = 0
  while (ip < input.length) {
    let ctrl = input[ip++]
    if (ctrl < (1 << 5)) {
      ctrl++
      if (op + ctrl > outLen || ip + ctrl > input.length) return null
      for (let k = 0; k < ctrl; k++) out[op++] = input[ip++]
    } else {
      let len = ctrl >> 5
      let ref = op - ((ctrl & 0x1f) << 8) - 1
      if (ip >= input.length) return null
      if (len === 7) {
        len += input[ip++]
        if (ip >= input.length) return null
      }
      ref -= input[ip++]
      if (op + len + 2 > outLen || ref < 0) return null
      len += 2
      for (let k = 0; k < len; k++) out[op++] = out[ref++]
    }
  }
  return op === outLen ? out : null
}

// --- RDB strings ------------------------------------------------------------------------------

function saveLen (parts: Buffer[], len: number): void {
  if (len < 64) parts.push(Buffer.from([len]))
  else if (len < 16384) parts.push(Buffer.from([0x40 | (len >> 8), len & 0xff]))
  else if (len <= 0xffffffff) {
    const b = Buffer.alloc(5)
    b[0] = 0x80
    b.writeUInt32BE(len, 1)
    parts.push(b)
  } else {
    const b = Buffer.alloc(9)
    b[0] = 0x81
    b.writeBigUInt64BE(BigInt(len), 1)
    parts.push(b)
  }
}

/** rdbSaveRawString for a library's code (never short enough for the integer encodings). */
function saveString (parts: Buffer[], s: Buffer): void {
  if (s.length > 20) {
    const c = lzfCompress(s, s.length - 4)
    if (c !== null) {
      parts.push(Buffer.from([0xc3]))
      saveLen(parts, c.length)
      saveLen(parts, s.length)
      parts.push(c)
      return
    }
  }
  saveLen(parts, s.length)
  parts.push(s)
}

/** The payload FUNCTION DUMP answers for these library codes. */
export function dumpPayload (codes: readonly Buffer[]): Buffer {
  const parts: Buffer[] = []
  for (const code of codes) {
    parts.push(Buffer.from([RDB_OPCODE_FUNCTION2]))
    saveString(parts, code)
  }
  parts.push(Buffer.from([RDB_VERSION & 0xff, RDB_VERSION >> 8]))
  const body = Buffer.concat(parts)
  const crc = Buffer.alloc(8)
  crc.writeBigUInt64LE(crc64(0n, body))
  return Buffer.concat([body, crc])
}

/** verifyDumpPayload: at least the footer, a version Redis can read, and the CRC64. */
export function verifyPayload (p: Buffer): boolean {
  if (p.length < 10) return false
  const version = p[p.length - 10] | (p[p.length - 9] << 8)
  if (version > RDB_VERSION) return false
  return crc64(0n, p.subarray(0, p.length - 8)) === p.readBigUInt64LE(p.length - 8)
}

/** A reader over the payload's records (functionRestoreCommand): up to the last ten bytes. */
export class PayloadReader {
  pos = 0
  constructor (private readonly p: Buffer) {}

  get hasMore (): boolean { return this.p.length - this.pos > 10 }

  byte (): number | null {
    return this.pos < this.p.length ? this.p[this.pos++] : null
  }

  /** rdbLoadLen of a plain length; null past the end or for an encoding marker. */
  plainLen (): number | null {
    const l = this.len()
    return l === null || l.isEncoded ? null : l.len
  }

  /** rdbLoadLen: the length, or an encoding marker (isEncoded), or null past the end. */
  private len (): { len: number, isEncoded: boolean } | null {
    const b = this.byte()
    if (b === null) return null
    const type = b >> 6
    if (type === 0) return { len: b & 0x3f, isEncoded: false }
    if (type === 1) {
      const b2 = this.byte()
      return b2 === null ? null : { len: ((b & 0x3f) << 8) | b2, isEncoded: false }
    }
    if (type === 3) return { len: b & 0x3f, isEncoded: true }
    if (b === 0x80) {
      if (this.pos + 4 > this.p.length) return null
      const v = this.p.readUInt32BE(this.pos)
      this.pos += 4
      return { len: v, isEncoded: false }
    }
    if (b === 0x81) {
      if (this.pos + 8 > this.p.length) return null
      const v = Number(this.p.readBigUInt64BE(this.pos))
      this.pos += 8
      return { len: v, isEncoded: false }
    }
    return null
  }

  /** rdbGenericLoadStringObject: plain, integer-encoded or LZF; null when it cannot be read. */
  string (): Buffer | null {
    const l = this.len()
    if (l === null) return null
    if (l.isEncoded) {
      const p = this.p
      switch (l.len) {
        case 0: { const v = this.byte(); return v === null ? null : Buffer.from(String((v << 24) >> 24)) }
        case 1: {
          if (this.pos + 2 > p.length) return null
          const v = p.readInt16LE(this.pos); this.pos += 2; return Buffer.from(String(v))
        }
        case 2: {
          if (this.pos + 4 > p.length) return null
          const v = p.readInt32LE(this.pos); this.pos += 4; return Buffer.from(String(v))
        }
        case 3: {
          const c = this.len()
          const n = this.len()
          if (c === null || n === null || c.isEncoded || n.isEncoded || this.pos + c.len > p.length) return null
          const out = lzfDecompress(p.subarray(this.pos, this.pos + c.len), n.len)
          this.pos += c.len
          return out
        }
        default: return null
      }
    }
    if (this.pos + l.len > this.p.length) return null
    const s = Buffer.from(this.p.subarray(this.pos, this.pos + l.len))
    this.pos += l.len
    return s
  }
}
