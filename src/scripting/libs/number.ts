// C number text for the script libraries: printf's "%.<P>g" (cjson's encoder) and glibc's strtod
// (cjson's decoder), both exact. %g rounds the double's exact decimal expansion to P digits with
// ties to even, as glibc does; JS's toPrecision breaks ties upward, so it is not used for that.
import { Buffer } from 'node:buffer'


const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

/** The exact decimal expansion of a finite x > 0: x = digits × 10^-scale, digits without leading zeros. */
function exactDecimal (x: number): { digits: string, scale: number } {
  f64[0] = x
  const hi = u32[1]
  const lo = u32[0]
  const biased = (hi >>> 20) & 0x7ff
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  let e2: number
  if (biased === 0) e2 = -1074
  else {
    mant |= 1n << 52n
    e2 = biased - 1075
  }
  if (e2 >= 0) return { digits: (mant << BigInt(e2)).toString(), scale: 0 }
  return { digits: (mant * 5n ** BigInt(-e2)).toString(), scale: -e2 }
}

/** x > 0 rounded to p significant digits: the digits (length p) and the decimal exponent of the first. */
function roundSignificant (x: number, p: number): { digits: string, exp: number } {
  const { digits, scale } = exactDecimal(x)
  let exp = digits.length - 1 - scale
  if (digits.length <= p) return { digits: digits.padEnd(p, '0'), exp }
  let head = digits.slice(0, p)
  const next = digits.charCodeAt(p) - 48
  let up = next > 5
  if (next === 5) {
    up = !/^0*$/.test(digits.slice(p + 1)) || ((head.charCodeAt(p - 1) - 48) & 1) === 1
  }
  if (up) {
    const bumped = (BigInt(head) + 1n).toString()
    if (bumped.length > p) {
      head = bumped.slice(0, p)
      exp++
    } else head = bumped
  }
  return { digits: head, exp }
}

function stripZeros (s: string): string {
  if (s.indexOf('.') < 0) return s
  s = s.replace(/0+$/, '')
  return s.endsWith('.') ? s.slice(0, -1) : s
}

/** printf("%.<prec>g", x) as glibc prints it (inf, -inf, nan, -nan included). */
export function formatG (x: number, prec: number): string {
  if (x !== x) {
    f64[0] = x
    return (u32[1] >>> 31) === 1 ? '-nan' : 'nan'
  }
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  const p = prec === 0 ? 1 : prec
  // Integers with at most p digits print as themselves.
  if (Number.isInteger(x) && Math.abs(x) < 10 ** p && Math.abs(x) <= Number.MAX_SAFE_INTEGER) return String(x)
  const sign = x < 0 ? '-' : ''
  const { digits, exp } = roundSignificant(Math.abs(x), p)
  let body: string
  if (exp < p && exp >= -4) {
    if (exp >= 0) body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
    else body = `0.${'0'.repeat(-exp - 1)}${digits}`
    body = stripZeros(body)
  } else {
    const mant = stripZeros(`${digits[0]}.${digits.slice(1)}`)
    const e = Math.abs(exp)
    body = `${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`
  }
  return sign + body
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const hexValue = (c: number): number => {
  if (c >= 48 && c <= 57) return c - 48
  const l = c | 0x20
  return l >= 97 && l <= 102 ? l - 87 : -1
}

function matchWord (b: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    if (at + i >= b.length || (b[at + i] | 0x20) !== word.charCodeAt(i)) return false
  }
  return true
}

/**
 * glibc strtod over bytes starting at `start` (the C string ends at the first NUL or the end):
 * decimal, hexadecimal (0x, with p exponents), inf/infinity and nan(...), with a sign.
 * Returns the value and the index after the number; end === start when nothing was read.
 */
export function strtod (b: Uint8Array, start: number): { value: number, end: number } {
  const at = (i: number): number => (i < b.length ? b[i] : 0)
  let i = start
  while (at(i) === 32 || (at(i) >= 9 && at(i) <= 13)) i++
  let negative = false
  if (at(i) === 43 || at(i) === 45) {
    negative = at(i) === 45
    i++
  }
  const signed = (v: number): number => (negative ? -v : v)
  if (matchWord(b, i, 'inf')) {
    const end = matchWord(b, i, 'infinity') ? i + 8 : i + 3
    return { value: signed(Infinity), end }
  }
  if (matchWord(b, i, 'nan')) {
    let end = i + 3
    if (at(end) === 40) {
      let j = end + 1
      while (isDigit(at(j)) || ((at(j) | 0x20) >= 97 && (at(j) | 0x20) <= 122) || at(j) === 95) j++
      if (at(j) === 41) end = j + 1
    }
    return { value: signed(NaN), end }
  }
  if (at(i) === 48 && (at(i + 1) | 0x20) === 120) {
    const r = hexNumber(at, i + 2)
    if (r !== null) return { value: signed(r.value), end: r.end }
    // "0x" with no hex digit: strtod reads the "0" alone.
    return { value: signed(0), end: i + 1 }
  }
  const numStart = i
  let sawDigit = false
  while (isDigit(at(i))) { i++; sawDigit = true }
  if (at(i) === 46) {
    i++
    while (isDigit(at(i))) { i++; sawDigit = true }
  }
  if (!sawDigit) return { value: 0, end: start }
  if ((at(i) | 0x20) === 101) {
    let j = i + 1
    if (at(j) === 43 || at(j) === 45) j++
    if (isDigit(at(j))) {
      while (isDigit(at(j))) j++
      i = j
    }
  }
  const text = Buffer.from(b.subarray(numStart, i)).toString('latin1')
  return { value: signed(Number(text)), end: i }
}

function hexNumber (at: (i: number) => number, i: number): { value: number, end: number } | null {
  let mant = 0n
  let sawDigit = false
  let shift = 0
  while (hexValue(at(i)) >= 0) { mant = mant * 16n + BigInt(hexValue(at(i))); i++; sawDigit = true }
  if (at(i) === 46) {
    i++
    while (hexValue(at(i)) >= 0) { mant = mant * 16n + BigInt(hexValue(at(i))); shift -= 4; i++; sawDigit = true }
  }
  if (!sawDigit) return null
  let exp = 0
  if ((at(i) | 0x20) === 112) {
    let j = i + 1
    let neg = false
    if (at(j) === 43 || at(j) === 45) { neg = at(j) === 45; j++ }
    if (isDigit(at(j))) {
      while (isDigit(at(j))) { exp = Math.min(exp * 10 + at(j) - 48, 1e6); j++ }
      if (neg) exp = -exp
      i = j
    }
  }
  if (mant === 0n) return { value: 0, end: i }
  // Scale so that one conversion to double rounds once (ties to even, as Number(bigint) does).
  const bits = mant.toString(2).length
  let e2 = exp + shift
  if (bits > 64) {
    const drop = bits - 64
    const sticky = (mant & ((1n << BigInt(drop)) - 1n)) !== 0n ? 1n : 0n
    mant = (mant >> BigInt(drop)) | sticky
    e2 += drop
  }
  return { value: Number(mant) * 2 ** Math.max(e2, -1074) * (e2 < -1074 ? 2 ** (e2 + 1074) : 1), end: i }
}
