// LZF as Redis's bundled liblzf 3.6 writes and reads it (lzf_c.c with HLOG 16, VERY_FAST, no
// table initialisation), so that a string's DUMP and RDB bytes equal Redis's. The format: a
// control byte c < 32 starts a run of c + 1 literal bytes; otherwise the top 3 bits are the
// match length - 2 (7 = one more length byte follows), the low 5 bits and the next byte the
// back offset - 1.
//
// liblzf does not clear its hash table between calls; neither does this, but each call's slots
// carry a generation, so every call compresses as on a fresh table. Any slot value is safe
// anyway: a candidate match is checked byte by byte and must lie behind the current position.

const HLOG = 16
const HSIZE = 1 << HLOG
const MAX_LIT = 1 << 5
const MAX_OFF = 1 << 13
const MAX_REF = (1 << 8) + (1 << 3)

const htab = new Int32Array(HSIZE)
/**
 * Each call's slots hold `gen + offset + 1`, with gen past every value an earlier call stored, so
 * a slot from an earlier call reads as "never written" without a 256 KB fill of the table per
 * string (a fill per call was most of a snapshot's time on short values).
 */
let nextGen = 0

/**
 * The hash slot (IDX of VERY_FAST) of h, an unsigned int into which every byte so far was
 * shifted, as in liblzf: its top bits still hold the bytes before the last three.
 */
function idx (h: number): number {
  return ((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) & (HSIZE - 1)
}

/** Where output is built: one buffer for every call (up to 1 MiB), not a fresh zeroed one each. */
let scratch = new Uint8Array(4096)
const SCRATCH_MAX = 1 << 20

/**
 * Compresses input into at most outLen bytes; null when it does not fit (lzf_compress's 0), with
 * the same fit tests as liblzf, so the compressed-or-raw choice is Redis's. The bytes returned are
 * valid until the next call: copy them first.
 */
export function lzfCompress (input: Uint8Array, outLen: number): Uint8Array | null {
  const inLen = input.length
  if (inLen === 0 || outLen <= 0) return null
  if (scratch.length < outLen && outLen <= SCRATCH_MAX) scratch = new Uint8Array(Math.min(SCRATCH_MAX, Math.max(outLen, scratch.length * 2)))
  const out = outLen <= SCRATCH_MAX ? scratch : new Uint8Array(outLen)
  // Offsets + 1 past gen, so a slot below gen means "never written" (liblzf's `ref > in_data`
  // test fails for those, as for offset 0).
  if (nextGen > 0x7fffffff - inLen - 1) { htab.fill(0); nextGen = 0 }
  const gen = nextGen
  nextGen += inLen + 1
  let ip = 0
  let op = 1
  let lit = 0
  let hval = (input[0] << 8) | input[1]
  while (ip < inLen - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0
    const slot = idx(hval)
    const ref = htab[slot] - gen - 1
    htab[slot] = gen + ip + 1
    let off = 0
    if (ref > 0 && (off = ip - ref - 1) < MAX_OFF && off >= 0 &&
        input[ref + 2] === input[ip + 2] && input[ref] === input[ip] && input[ref + 1] === input[ip + 1]) {
      let len = 2
      let maxLen = inLen - ip - len
      if (maxLen > MAX_REF) maxLen = MAX_REF
      if (op + 3 + 1 >= outLen) {
        if (op - (lit === 0 ? 1 : 0) + 3 + 1 >= outLen) return null
      }
      out[op - lit - 1] = lit - 1
      if (lit === 0) op--
      // liblzf compares 16 bytes unrolled before it looks at maxLen when maxLen > 16.
      let stop = false
      if (maxLen > 16) {
        for (let u = 0; u < 16; u++) {
          len++
          if (input[ref + len] !== input[ip + len]) { stop = true; break }
        }
      }
      if (!stop) {
        do len++
        while (len < maxLen && input[ref + len] === input[ip + len])
      }
      len -= 2
      ip++
      if (len < 7) {
        out[op++] = (off >>> 8) + (len << 5)
      } else {
        out[op++] = (off >>> 8) + (7 << 5)
        out[op++] = len - 7
      }
      out[op++] = off & 0xff
      lit = 0
      op++
      ip += len + 1
      if (ip >= inLen - 2) break
      // VERY_FAST: the last two positions of the match go into the table.
      ip -= 2
      hval = (input[ip] << 8) | input[ip + 1]
      hval = ((hval << 8) | input[ip + 2]) >>> 0
      htab[idx(hval)] = gen + ip + 1
      ip++
      hval = ((hval << 8) | input[ip + 2]) >>> 0
      htab[idx(hval)] = gen + ip + 1
      ip++
    } else {
      if (op >= outLen) return null
      lit++
      out[op++] = input[ip++]
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1
        lit = 0
        op++
      }
    }
  }
  if (op + 3 > outLen) return null
  while (ip < inLen) {
    lit++
    out[op++] = input[ip++]
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1
      lit = 0
      op++
    }
  }
  out[op - lit - 1] = lit - 1
  if (lit === 0) op--
  return out.subarray(0, op)
}

/** Decompresses exactly outLen bytes; null when the input is malformed or the sizes disagree. */
export function lzfDecompress (input: Uint8Array, outLen: number): Uint8Array | null {
  const out = new Uint8Array(outLen)
  let ip = 0
  let op = 0
  while (ip < input.length) {
    let ctrl = input[ip++]
    if (ctrl < 32) {
      ctrl++
      if (op + ctrl > outLen || ip + ctrl > input.length) return null
      out.set(input.subarray(ip, ip + ctrl), op)
      op += ctrl
      ip += ctrl
    } else {
      let len = ctrl >>> 5
      let ref = op - ((ctrl & 0x1f) << 8) - 1
      if (ip >= input.length) return null
      if (len === 7) {
        len += input[ip++]
        if (ip >= input.length) return null
      }
      ref -= input[ip++]
      len += 2
      if (op + len > outLen || ref < 0) return null
      // Byte by byte: a match may overlap what it writes (a run of one repeated byte).
      for (let k = 0; k < len; k++) out[op++] = out[ref++]
    }
  }
  return op === outLen ? out : null
}
