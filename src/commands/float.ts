// INCRBYFLOAT's arithmetic, bit for bit as Redis on x86-64 does it: `long double` is the x87
// 80-bit format (64-bit significand, 15-bit exponent), inputs go through strtold (string2ld in
// util.c), the sum is rounded once to 64 significant bits, and the result is printed with
// ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros and a trailing dot removed, "-0" → "0".
// JS doubles would print other digits (0.1 is 0.1000000000000000055 as a double, but
// 0.1000000000000000000013 as a long double), so every value here is an exact BigInt
// m * 2^e, rounded half to even wherever the C library or the FPU rounds.

/** A finite long double: (-1)^neg * m * 2^e, m < 2^64 (not necessarily normalized). */
export interface LongDouble { neg: boolean, m: bigint, e: number }

export const LD_INVALID = 0 // string2ld fails: "ERR value is not a valid float"
export const LD_INFINITE = 1 // +-inf is accepted by string2ld; any sum with it is rejected later

const MAX_LONG_DOUBLE_CHARS = 5 * 1024
/** Exponent of the least significant bit of the smallest denormal (2^-16445). */
const MIN_E = -16445
/** m * 2^e stays finite while e <= 16320 (m < 2^64, max finite just under 2^16384). */
const MAX_E = 16320
const TWO64 = 1n << 64n
const TWO63 = 1n << 63n

/** Exact bit length of a positive BigInt. */
function bits (x: bigint): number {
  const hex = x.toString(16)
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)))
}

/**
 * Rounds the positive rational num/den to the nearest long double (ties to even), with the
 * x87 format's denormals. Returns null on overflow; m = 0n when it rounds to zero.
 */
function roundToLd (neg: boolean, num: bigint, den: bigint): LongDouble | null {
  if (num === 0n) return { neg, m: 0n, e: 0 }
  let t = bits(num) - bits(den) // floor(log2(num/den)) is t or t - 1
  if (t >= 0 ? num < (den << BigInt(t)) : (num << BigInt(-t)) < den) t--
  let e = t - 63
  if (e < MIN_E) e = MIN_E
  let n = num
  let d = den
  if (e >= 0) d = den << BigInt(e)
  else n = num << BigInt(-e)
  let q = n / d
  const twice = (n - q * d) * 2n
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++
  if (q === TWO64) { q = TWO63; e++ }
  if (e > MAX_E) return null
  return { neg, m: q, e }
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
function hexVal (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  const f = c | 0x20
  if (f >= 97 && f <= 102) return f - 87
  return -1
}
function isSpace (c: number): boolean { return c === 32 || (c >= 9 && c <= 13) }

function matchWord (buf: Uint8Array, p: number, end: number, word: string): boolean {
  if (end - p < word.length) return false
  for (let i = 0; i < word.length; i++) if ((buf[p + i] | 0x20) !== word.charCodeAt(i)) return false
  return true
}

/** Decimal exponent digits after 'e'/'p': saturates far outside any representable range. */
function readExponent (buf: Uint8Array, p: number, end: number): { value: number, next: number } | null {
  let neg = false
  if (p < end && (buf[p] === 43 || buf[p] === 45)) { neg = buf[p] === 45; p++ }
  if (p >= end || !isDigit(buf[p])) return null
  let v = 0
  for (; p < end && isDigit(buf[p]); p++) if (v < 1e9) v = v * 10 + (buf[p] - 48)
  return { value: neg ? -v : v, next: p }
}

/**
 * Redis's string2ld: strtold over the whole argument. Rejects empty or ≥5120-byte input, a
 * leading space, trailing bytes (a NUL included), NaN, overflow and non-zero underflow to zero.
 * Accepts what strtold does: "+1", ".5", "5.", "1e3", hex "0x1p3", "inf", "infinity".
 */
export function parseLongDouble (buf: Uint8Array, start: number, len: number): LongDouble | typeof LD_INVALID | typeof LD_INFINITE {
  if (len === 0 || len >= MAX_LONG_DOUBLE_CHARS || isSpace(buf[start])) return LD_INVALID
  const end = start + len
  let p = start
  let neg = false
  if (buf[p] === 43 || buf[p] === 45) { neg = buf[p] === 45; p++ }
  if (p < end && (buf[p] | 0x20) === 105) { // 'i'
    if (matchWord(buf, p, end, 'infinity')) p += 8
    else if (matchWord(buf, p, end, 'inf')) p += 3
    else return LD_INVALID
    return p === end ? LD_INFINITE : LD_INVALID
  }
  // "nan", "nan(...)" parse but are NaN: string2ld rejects them, like anything unparsable.
  if (p + 1 < end && buf[p] === 48 && (buf[p + 1] | 0x20) === 120) {
    const r = parseHex(buf, p + 2, end, neg)
    if (r !== null) return r
    // "0x" without hex digits: strtold reads "0" and stops at 'x', a trailing byte.
    return LD_INVALID
  }
  return parseDecimal(buf, p, end, neg)
}

function parseDecimal (buf: Uint8Array, p: number, end: number, neg: boolean): LongDouble | typeof LD_INVALID {
  let digits = ''
  let sawDigit = false
  let fracDigits = 0
  let leadingZeros = true
  for (; p < end && isDigit(buf[p]); p++) {
    sawDigit = true
    if (leadingZeros && buf[p] === 48) continue
    leadingZeros = false
    digits += String.fromCharCode(buf[p])
  }
  if (p < end && buf[p] === 46) {
    p++
    for (; p < end && isDigit(buf[p]); p++) {
      sawDigit = true
      fracDigits++
      if (leadingZeros && buf[p] === 48) continue
      leadingZeros = false
      digits += String.fromCharCode(buf[p])
    }
  }
  if (!sawDigit) return LD_INVALID
  let exp = 0
  if (p < end && (buf[p] | 0x20) === 101) {
    const x = readExponent(buf, p + 1, end)
    if (x === null) return LD_INVALID // "1e": strtold stops before the 'e', a trailing byte
    exp = x.value
    p = x.next
  }
  if (p !== end) return LD_INVALID
  if (digits === '') return { neg, m: 0n, e: 0 }
  // value = D * 10^e10, with D's digits significant (no leading zeros).
  const e10 = exp - fracDigits
  const magnitude = digits.length + e10 // value in [10^(magnitude-1), 10^magnitude)
  if (magnitude - 1 >= 4933) return LD_INVALID // above LDBL_MAX (1.19e4932): ERANGE
  if (magnitude < -4952) return LD_INVALID // below half the smallest denormal: ERANGE, zero
  const d = BigInt(digits)
  const r = e10 >= 0 ? roundToLd(neg, d * 10n ** BigInt(e10), 1n) : roundToLd(neg, d, 10n ** BigInt(-e10))
  if (r === null || r.m === 0n) return LD_INVALID
  return r
}

function parseHex (buf: Uint8Array, p: number, end: number, neg: boolean): LongDouble | typeof LD_INVALID | null {
  let hex = ''
  let sawDigit = false
  let fracDigits = 0
  for (; p < end && hexVal(buf[p]) >= 0; p++) { sawDigit = true; hex += String.fromCharCode(buf[p]) }
  if (p < end && buf[p] === 46) {
    p++
    for (; p < end && hexVal(buf[p]) >= 0; p++) { sawDigit = true; fracDigits++; hex += String.fromCharCode(buf[p]) }
  }
  if (!sawDigit) return null
  let exp = 0
  if (p < end && (buf[p] | 0x20) === 112) { // 'p'
    const x = readExponent(buf, p + 1, end)
    if (x === null) return LD_INVALID
    exp = x.value
    p = x.next
  }
  if (p !== end) return LD_INVALID
  const h = BigInt('0x' + hex)
  if (h === 0n) return { neg, m: 0n, e: 0 }
  const e2 = exp - 4 * fracDigits
  const magnitude = bits(h) + e2 // value in [2^(magnitude-1), 2^magnitude)
  if (magnitude > 16384) return LD_INVALID
  if (magnitude < MIN_E - 1) return LD_INVALID
  const r = e2 >= 0 ? roundToLd(neg, h << BigInt(e2), 1n) : roundToLd(neg, h, 1n << BigInt(-e2))
  if (r === null || r.m === 0n) return LD_INVALID
  return r
}

/** a + b rounded once to the long double format (the x87 FADD). null: the sum overflows. */
export function addLongDouble (a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.m === 0n) return b.m === 0n ? { neg: a.neg && b.neg, m: 0n, e: 0 } : b
  if (b.m === 0n) return a
  const emin = Math.min(a.e, b.e)
  const sa = a.m << BigInt(a.e - emin)
  const sb = b.m << BigInt(b.e - emin)
  const s = (a.neg ? -sa : sa) + (b.neg ? -sb : sb)
  if (s === 0n) return { neg: false, m: 0n, e: 0 } // x + (-x) is +0 when rounding to nearest
  const neg = s < 0n
  const mag = neg ? -s : s
  return emin >= 0 ? roundToLd(neg, mag << BigInt(emin), 1n) : roundToLd(neg, mag, 1n << BigInt(-emin))
}

/** ld2string(LD_STR_HUMAN): "%.17Lf" (glibc rounds the exact value half to even), zeros trimmed. */
export function formatLongDoubleHuman (x: LongDouble): string {
  const scaled = x.m * 10n ** 17n
  let n: bigint
  if (x.e >= 0) {
    n = scaled << BigInt(x.e)
  } else {
    const sh = BigInt(-x.e)
    n = scaled >> sh
    const rem = scaled - (n << sh)
    const half = 1n << (sh - 1n)
    if (rem > half || (rem === half && (n & 1n) === 1n)) n++
  }
  if (n === 0n) return '0' // "-0.00000000000000000" trims to "-0", which Redis prints as "0"
  let s = n.toString()
  if (s.length < 18) s = '0'.repeat(18 - s.length) + s
  const intPart = s.slice(0, s.length - 17)
  let frac = s.slice(s.length - 17)
  let k = frac.length
  while (k > 0 && frac.charCodeAt(k - 1) === 48) k--
  frac = frac.slice(0, k)
  return (x.neg ? '-' : '') + intPart + (frac === '' ? '' : '.' + frac)
}

export const INCR_NOT_FLOAT = 0
export const INCR_NAN_OR_INF = 1

/**
 * incrbyfloatCommand's arithmetic: current value (null: missing key) + increment. Returns the
 * new value's text, or INCR_NOT_FLOAT / INCR_NAN_OR_INF.
 */
export function incrByFloat (cur: Uint8Array | null, curStart: number, curLen: number,
  incr: Uint8Array, incrStart: number, incrLen: number): string | typeof INCR_NOT_FLOAT | typeof INCR_NAN_OR_INF {
  const a = cur === null ? ZERO : parseLongDouble(cur, curStart, curLen)
  if (a === LD_INVALID) return INCR_NOT_FLOAT
  const b = parseLongDouble(incr, incrStart, incrLen)
  if (b === LD_INVALID) return INCR_NOT_FLOAT
  // inf + anything is inf or NaN: both are rejected after the sum.
  if (a === LD_INFINITE || b === LD_INFINITE) return INCR_NAN_OR_INF
  const sum = addLongDouble(a, b)
  if (sum === null) return INCR_NAN_OR_INF
  return formatLongDoubleHuman(sum)
}

const ZERO: LongDouble = { neg: false, m: 0n, e: 0 }


const TWO63N = 1n << 63n

/**
 * A blocking command's timeout in seconds, as Redis 7.0's getTimeoutFromObjectOrReply reads it:
 * ceill(x * 1000.0) with the product rounded to a long double, then cast to long long, where
 * anything from 2^63 up (and infinity) becomes LLONG_MIN: "timeout is negative". 0 = forever.
 */
export function timeoutMillis (buf: Uint8Array, start: number, len: number): number | 'invalid' | 'negative' {
  // Whole seconds (BLPOP k 0, the common case) are exact in any arithmetic: no BigInt needed.
  if (len > 0 && len <= 12) {
    let n = 0
    let i = 0
    for (; i < len; i++) {
      const c = buf[start + i] - 48
      if (c < 0 || c > 9) break
      n = n * 10 + c
    }
    if (i === len) return n * 1000
  }
  const ld = parseLongDouble(buf, start, len)
  if (ld === LD_INVALID) return 'invalid'
  if (ld === LD_INFINITE) return 'negative'
  const r = roundToLd(ld.neg, ld.m * 1000n * (ld.e >= 0 ? 1n << BigInt(ld.e) : 1n), ld.e >= 0 ? 1n : 1n << BigInt(-ld.e))
  if (r === null) return 'negative'
  const num = r.m * (r.e >= 0 ? 1n << BigInt(r.e) : 1n)
  const den = r.e >= 0 ? 1n : 1n << BigInt(-r.e)
  const ms = r.neg ? -(num / den) : (num + den - 1n) / den
  if (ms < 0n || ms >= TWO63N) return 'negative'
  return Number(ms)
}
