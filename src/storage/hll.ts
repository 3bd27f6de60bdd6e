// HyperLogLog values as Redis 7.0 stores them (hyperloglog.c): a plain string with a 16-byte
// header, then either 16384 six-bit registers (dense, 12288 bytes) or a run-length opcode stream
// (sparse). The bytes must be Redis's own: GET of an HLL, a SET of those bytes on the other server
// and PFCOUNT's cached cardinality all agree with a real Redis.
//
//   header  | "HYLL" | enc (0 dense, 1 sparse) | 3 unused | cardinality u64 LE, bit 63 = stale |
//   dense   | register i at bit 6*i, least significant bits first, across byte boundaries   |
//   sparse  | ZERO 00xxxxxx (1..64 zeros) | XZERO 01xxxxxx yyyyyyyy (1..16384 zeros) |
//           | VAL 1vvvvvxx (value 1..32, repeated 1..4 times)                                 |
//
// Sparse edits happen in a module scratch buffer (`work`), which the commands copy in and out of
// the arena: an edit may grow the string by up to 3 bytes, or turn it dense.

export const HLL_HDR = 16
export const HLL_REGISTERS = 16384
const P = 14
const Q = 64 - P
const DENSE_BYTES = (HLL_REGISTERS * 6) / 8
export const HLL_DENSE_SIZE = HLL_HDR + DENSE_BYTES
export const ENC_DENSE = 0
export const ENC_SPARSE = 1
const SPARSE_VAL_MAX = 32
const SPARSE_VAL_MAX_LEN = 4
const SPARSE_ZERO_MAX_LEN = 64
const ALPHA_INF = 0.721347520444481703680 // 0.5 / ln(2)
/** Redis's hash seed for HLL elements. */
const SEED = 0xadc83b19

// --- MurmurHash64A, in 32-bit halves ------------------------------------------------------------

const M_HI = 0xc6a4a793
const M_LO = 0x5bd1e995

let mulHi = 0
let mulLo = 0

/** (ah:al) * (bh:bl) mod 2^64 into mulHi:mulLo. */
function mul64 (ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff
  const a1 = al >>> 16
  const b0 = bl & 0xffff
  const b1 = bl >>> 16
  const p00 = a0 * b0
  const p01 = a0 * b1
  const p10 = a1 * b0
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)
  mulLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)
  mulHi = (carry + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0
}

/** The last hash, as two unsigned 32-bit halves. */
export let hashHi = 0
export let hashLo = 0

/** Redis's MurmurHash64A (endian-neutral variant): reads 8-byte blocks little-endian. */
export function murmurHash64A (buf: Uint8Array, start: number, len: number, seed: number): void {
  mul64(0, len >>> 0, M_HI, M_LO)
  let hh = mulHi
  let hl = (mulLo ^ seed) >>> 0
  const end = start + len - (len & 7)
  let p = start
  for (; p < end; p += 8) {
    let kl = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0
    let kh = (buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24)) >>> 0
    mul64(kh, kl, M_HI, M_LO)
    kh = mulHi; kl = mulLo
    kl = (kl ^ (kh >>> 15)) >>> 0 // k ^= k >> 47
    mul64(kh, kl, M_HI, M_LO)
    hh = (hh ^ mulHi) >>> 0
    hl = (hl ^ mulLo) >>> 0
    mul64(hh, hl, M_HI, M_LO)
    hh = mulHi; hl = mulLo
  }
  const rest = len & 7
  if (rest > 0) {
    if (rest >= 7) hh ^= buf[p + 6] << 16
    if (rest >= 6) hh ^= buf[p + 5] << 8
    if (rest >= 5) hh ^= buf[p + 4]
    if (rest >= 4) hl ^= buf[p + 3] << 24
    if (rest >= 3) hl ^= buf[p + 2] << 16
    if (rest >= 2) hl ^= buf[p + 1] << 8
    hl ^= buf[p]
    mul64(hh >>> 0, hl >>> 0, M_HI, M_LO)
    hh = mulHi; hl = mulLo
  }
  hl = (hl ^ (hh >>> 15)) >>> 0
  mul64(hh, hl, M_HI, M_LO)
  hh = mulHi; hl = mulLo
  hl = (hl ^ (hh >>> 15)) >>> 0
  hashHi = hh >>> 0
  hashLo = hl
}

/** Register index of the last patLen call. */
export let patIndex = 0

/**
 * hllPatLen: hashes an element; sets patIndex to its register (the low 14 bits) and returns the
 * length of the 0...01 run in the remaining 50 bits, 1..51 (a bit past them ends the run).
 */
export function patLen (buf: Uint8Array, start: number, len: number): number {
  murmurHash64A(buf, start, len, SEED)
  patIndex = hashLo & (HLL_REGISTERS - 1)
  const low = hashLo >>> P // 18 bits
  if (low !== 0) return 32 - Math.clz32(low & -low)
  if (hashHi !== 0) return 18 + 32 - Math.clz32(hashHi & -hashHi)
  return Q + 1
}

// --- Dense registers ------------------------------------------------------------------------------

/** Register i of the dense registers at `off` (12288 bytes). */
export function denseGet (u8: Uint8Array, off: number, i: number): number {
  const bit = i * 6
  const b = off + (bit >>> 3)
  const fb = bit & 7
  // The last register ends inside its byte: Redis reads the string's NUL after it as zero.
  const b1 = fb > 2 ? u8[b + 1] : 0
  return ((u8[b] >>> fb) | (b1 << (8 - fb))) & 63
}

export function denseSet (u8: Uint8Array, off: number, i: number, v: number): void {
  const bit = i * 6
  const b = off + (bit >>> 3)
  const fb = bit & 7
  u8[b] = (u8[b] & ~(63 << fb)) | (v << fb)
  if (fb > 2) u8[b + 1] = (u8[b + 1] & ~(63 >>> (8 - fb))) | (v >>> (8 - fb))
}

// --- Validation and headers -----------------------------------------------------------------------

/** isHLLObjectOrReply's checks on a string's bytes: magic, a known encoding, the dense size. */
export function isHll (u8: Uint8Array, off: number, len: number): boolean {
  if (len < HLL_HDR) return false
  if (u8[off] !== 72 || u8[off + 1] !== 89 || u8[off + 2] !== 76 || u8[off + 3] !== 76) return false
  const enc = u8[off + 4]
  if (enc > ENC_SPARSE) return false
  return enc !== ENC_DENSE || len === HLL_DENSE_SIZE
}

export function invalidateCache (u8: Uint8Array, off: number): void { u8[off + 15] |= 0x80 }
export function isCacheValid (u8: Uint8Array, off: number): boolean { return (u8[off + 15] & 0x80) === 0 }

/**
 * Registers covered by the sparse opcode at p. A run past the 16384th register makes the whole
 * value corrupt, as in Redis's hllSparseToDense, hllMerge and hllSparseRegHisto since the fix for
 * CVE-2025-32023 (the Redis 7.0.15 we compare with carries it).
 */
function runLen (u8: Uint8Array, p: number, end: number): number {
  const op = u8[p]
  if ((op & 0xc0) === 0) return (op & 0x3f) + 1
  // An XZERO cut short reads the string's terminating NUL in Redis.
  if ((op & 0xc0) === 0x40) return (((op & 0x3f) << 8) | (p + 1 < end ? u8[p + 1] : 0)) + 1
  return (op & 3) + 1
}

// --- Cardinality ----------------------------------------------------------------------------------

const histo = new Int32Array(64)

function sigma (x: number): number {
  if (x === 1) return Infinity
  let y = 1
  let z = x
  let prev: number
  do {
    x *= x
    prev = z
    z += x * y
    y += y
  } while (prev !== z)
  return z
}

function tau (x: number): number {
  if (x === 0 || x === 1) return 0
  let y = 1.0
  let z = 1 - x
  let prev: number
  do {
    x = Math.sqrt(x)
    prev = z
    y *= 0.5
    z -= (1 - x) * (1 - x) * y
  } while (prev !== z)
  return z / 3
}

/** Ertl's estimator over `histo` (Redis 7's hllCount). */
function estimate (): number {
  const m = HLL_REGISTERS
  let z = m * tau((m - histo[Q + 1]) / m)
  for (let j = Q; j >= 1; j--) {
    z += histo[j]
    z *= 0.5
  }
  z += m * sigma(histo[0] / m)
  return Math.round(ALPHA_INF * m * m / z)
}

/** Cardinality of the HLL at off (header included); -1 when a sparse one is corrupt. */
export function hllCount (u8: Uint8Array, off: number, len: number): number {
  histo.fill(0)
  const r = off + HLL_HDR
  if (u8[off + 4] === ENC_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) histo[denseGet(u8, r, i)]++
  } else {
    const end = off + len
    let idx = 0
    for (let p = r; p < end;) {
      const op = u8[p]
      const n = runLen(u8, p, end)
      if (idx + n > HLL_REGISTERS) return -1
      idx += n
      histo[(op & 0x80) === 0 ? 0 : ((op >>> 2) & 0x1f) + 1] += n
      p += (op & 0xc0) === 0x40 ? 2 : 1
    }
    if (idx !== HLL_REGISTERS) return -1
  }
  return estimate()
}

/** Cardinality of registers held one per byte (PFCOUNT of several keys). */
export function rawCount (max: Uint8Array): number {
  histo.fill(0)
  for (let i = 0; i < HLL_REGISTERS; i++) histo[max[i]]++
  return estimate()
}

/** hllMerge: max[i] = MAX(max[i], register i). False when a sparse HLL is corrupt. */
export function hllMerge (max: Uint8Array, u8: Uint8Array, off: number, len: number): boolean {
  const r = off + HLL_HDR
  if (u8[off + 4] === ENC_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(u8, r, i)
      if (v > max[i]) max[i] = v
    }
    return true
  }
  const end = off + len
  let i = 0
  for (let p = r; p < end;) {
    const op = u8[p]
    let n = runLen(u8, p, end)
    if (i + n > HLL_REGISTERS) return false
    if ((op & 0x80) === 0) { i += n; p += (op & 0x40) === 0 ? 1 : 2; continue }
    const v = ((op >>> 2) & 0x1f) + 1
    while (n-- > 0) { if (v > max[i]) max[i] = v; i++ }
    p++
  }
  return i === HLL_REGISTERS
}

// --- The scratch value: sparse edits and promotion ------------------------------------------------

/** The HLL being edited, work[0..workLen). */
export let work = new Uint8Array(HLL_DENSE_SIZE + 8)
export let workLen = 0
const dense = new Uint8Array(HLL_DENSE_SIZE)

function ensure (n: number): void {
  if (work.length >= n) return
  const w = new Uint8Array(Math.max(n, work.length * 2))
  w.set(work.subarray(0, workLen))
  work = w
}

/** Copies a stored HLL into the scratch value. */
export function loadWork (u8: Uint8Array, off: number, len: number): void {
  workLen = 0
  ensure(len + 3)
  work.set(u8.subarray(off, off + len))
  workLen = len
}

/** createHLLObject: an empty sparse HLL (one XZERO opcode covering every register). */
export function emptyWork (): void {
  workLen = 0
  ensure(HLL_HDR + 2 + 3)
  work.fill(0, 0, HLL_HDR)
  work[0] = 72; work[1] = 89; work[2] = 76; work[3] = 76
  work[4] = ENC_SPARSE
  work[HLL_HDR] = 0x40 | ((HLL_REGISTERS - 1) >>> 8)
  work[HLL_HDR + 1] = (HLL_REGISTERS - 1) & 0xff
  workLen = HLL_HDR + 2
}

/** hllSparseToDense on the scratch value; false (and unchanged) when the sparse form is corrupt. */
export function workToDense (): boolean {
  if (work[4] === ENC_DENSE) return true
  dense.fill(0)
  dense.set(work.subarray(0, HLL_HDR)) // magic and cached cardinality
  dense[4] = ENC_DENSE
  let idx = 0
  for (let p = HLL_HDR; p < workLen;) {
    const op = work[p]
    let n = runLen(work, p, workLen)
    if (idx + n > HLL_REGISTERS) return false
    if ((op & 0x80) === 0) { idx += n; p += (op & 0x40) === 0 ? 1 : 2; continue }
    const v = ((op >>> 2) & 0x1f) + 1
    while (n-- > 0) denseSet(dense, HLL_HDR, idx++, v)
    p++
  }
  if (idx !== HLL_REGISTERS) return false
  ensure(HLL_DENSE_SIZE)
  work.set(dense)
  workLen = HLL_DENSE_SIZE
  return true
}

function valOp (v: number, n: number): number { return 0x80 | ((v - 1) << 2) | (n - 1) }

/** Writes a ZERO or XZERO run of n at seq[at]; returns the bytes written. */
function zeroOp (seq: Uint8Array, at: number, n: number): number {
  if (n > SPARSE_ZERO_MAX_LEN) {
    seq[at] = 0x40 | ((n - 1) >>> 8)
    seq[at + 1] = (n - 1) & 0xff
    return 2
  }
  seq[at] = n - 1
  return 1
}

const seq = new Uint8Array(5)

/**
 * hllSparseSet / hllDenseSet on the scratch value: raises register `index` to `count`. Returns
 * 1 when it changed, 0 when it was already as high, -1 when the sparse form is corrupt. A sparse
 * value turns dense when the count does not fit a VAL opcode or the string would pass
 * `sparseMaxBytes`, as in Redis.
 */
export function workSet (index: number, count: number, sparseMaxBytes: number): number {
  if (work[4] === ENC_DENSE) {
    if (denseGet(work, HLL_HDR, index) >= count) return 0
    denseSet(work, HLL_HDR, index, count)
    return 1
  }
  if (count > SPARSE_VAL_MAX) return promote(index, count)
  ensure(workLen + 3)
  const u8 = work
  let end = workLen
  // Step 1: the opcode covering `index`, with the register it starts at and the one before it.
  let p = HLL_HDR
  let prev = -1
  let first = 0
  let span = 0
  while (p < end) {
    span = runLen(u8, p, end)
    const oplen = (u8[p] & 0xc0) === 0x40 ? 2 : 1
    if (index <= first + span - 1) break
    prev = p
    p += oplen
    first += span
  }
  if (span === 0 || p >= end) return -1
  const op = u8[p]
  const isZero = (op & 0xc0) === 0
  const isXzero = (op & 0xc0) === 0x40
  const isVal = !isZero && !isXzero
  const oplen = isXzero ? 2 : 1
  const next = p + oplen < end ? p + oplen : -1
  const runlen = runLen(u8, p, end)

  let isUpdated = false
  if (isVal) {
    const old = ((op >>> 2) & 0x1f) + 1
    if (old >= count) return 0
    if (runlen === 1) { u8[p] = valOp(count, 1); isUpdated = true }
  }
  if (!isUpdated && isZero && runlen === 1) { u8[p] = valOp(count, 1); isUpdated = true }

  if (!isUpdated) {
    // Split the opcode into up to three: what comes before the register, the register, after it.
    const last = first + span - 1
    let n = 0
    if (isVal) {
      const cur = ((op >>> 2) & 0x1f) + 1
      if (index !== first) seq[n++] = valOp(cur, index - first)
      seq[n++] = valOp(count, 1)
      if (index !== last) seq[n++] = valOp(cur, last - index)
    } else {
      if (index !== first) n += zeroOp(seq, n, index - first)
      seq[n++] = valOp(count, 1)
      if (index !== last) n += zeroOp(seq, n, last - index)
    }
    const delta = n - oplen
    if (delta > 0 && workLen + delta > sparseMaxBytes) return promote(index, count)
    if (delta !== 0 && next >= 0) u8.copyWithin(next + delta, next, end)
    workLen += delta
    u8.set(seq.subarray(0, n), p)
    end += delta
  }

  // Step 4: merge neighbouring VAL opcodes of the same value, scanning up to 5 from prev.
  p = prev >= 0 ? prev : HLL_HDR
  let scan = 5
  while (p < end && scan-- > 0) {
    const a = u8[p]
    if ((a & 0xc0) === 0x40) { p += 2; continue }
    if ((a & 0xc0) === 0) { p++; continue }
    if (p + 1 < end && (u8[p + 1] & 0x80) !== 0) {
      const b = u8[p + 1]
      const v = ((a >>> 2) & 0x1f) + 1
      if (v === ((b >>> 2) & 0x1f) + 1) {
        const len = (a & 3) + (b & 3) + 2
        if (len <= SPARSE_VAL_MAX_LEN) {
          u8[p + 1] = valOp(v, len)
          u8.copyWithin(p, p + 1, end)
          workLen--
          end--
          continue
        }
      }
    }
    p++
  }
  invalidateCache(u8, 0)
  return 1
}

function promote (index: number, count: number): number {
  if (!workToDense()) return -1
  denseSet(work, HLL_HDR, index, count)
  return 1
}

// --- PFSELFTEST (pfselftestCommand) ----------------------------------------------------------------

/** xorshift32 for the self-test's random registers and seed (Redis uses rand()). */
let rng = 0x9e3779b9
function rand32 (): number {
  rng ^= rng << 13
  rng ^= rng >>> 17
  rng ^= rng << 5
  return rng >>> 0
}

/**
 * Redis's PFSELFTEST: dense registers keep what is written to them without touching their
 * neighbours; then 10 million distinct 8-byte elements go into a dense HLL and into one that
 * starts sparse, and at each power of ten the two must agree, the sparse one must still be sparse
 * while small, and the error must stay within 6 standard errors. Null when all passed, else the
 * error text.
 */
export function selfTest (sparseMaxBytes: number): string | null {
  rng = (Date.now() >>> 0) | 1
  const regs = new Uint8Array(HLL_DENSE_SIZE)
  const bytes = new Uint8Array(HLL_REGISTERS)
  for (let cycle = 0; cycle < 1000; cycle++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = rand32() & 63
      bytes[i] = r
      denseSet(regs, HLL_HDR, i, r)
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(regs, HLL_HDR, i)
      if (v !== bytes[i]) return `TESTFAILED Register ${i} should be ${bytes[i]} but is ${v}`
    }
  }
  regs.fill(0)
  regs[4] = ENC_DENSE
  emptyWork()
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS)
  const seedLo = rand32()
  const seedHi = rand32()
  const ele = new Uint8Array(8)
  ele[4] = seedHi & 0xff; ele[5] = (seedHi >>> 8) & 0xff; ele[6] = (seedHi >>> 16) & 0xff; ele[7] = seedHi >>> 24
  let checkpoint = 1
  for (let j = 1; j <= 10_000_000; j++) {
    const lo = (j ^ seedLo) >>> 0
    ele[0] = lo & 0xff; ele[1] = (lo >>> 8) & 0xff; ele[2] = (lo >>> 16) & 0xff; ele[3] = lo >>> 24
    const count = patLen(ele, 0, 8)
    if (denseGet(regs, HLL_HDR, patIndex) < count) denseSet(regs, HLL_HDR, patIndex, count)
    workSet(patIndex, count, sparseMaxBytes)
    if (j !== checkpoint) continue
    if (j < Math.floor(sparseMaxBytes / 2) && work[4] !== ENC_SPARSE) return 'TESTFAILED sparse encoding not used'
    const card = hllCount(regs, 0, HLL_DENSE_SIZE)
    if (card !== hllCount(work, 0, workLen)) return 'TESTFAILED dense/sparse disagree'
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint)
    const abserr = Math.abs(checkpoint - card)
    if (abserr > maxerr) return `TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`
    checkpoint *= 10
  }
  return null
}
