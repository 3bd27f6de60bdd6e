// Byte constants and the byte-level helpers every hot path shares: ASCII case folding and
// Redis's strict integer syntax (string2ll in util.c), parsed straight from bytes.
import { Buffer } from 'node:buffer'


export const CR = 13
export const LF = 10
export const SPACE = 32
export const DASH = 45
export const ZERO = 48
export const NINE = 57

/** Result slot for parseInt64: callers read `value` after a `true` return (no allocation). */
export const parsed = { value: 0, big: 0n, isBig: false }

/**
 * Redis's string2ll: optional '-', no '+', no spaces, no leading zeros, at most 20 bytes, in
 * int64 range. Up to 15 digits are parsed as a number; longer inputs go through BigInt and set
 * `parsed.isBig` when the value does not fit a double exactly.
 */
export function parseInt64 (buf: Uint8Array, start: number, len: number): boolean {
  if (len === 0 || len >= 21) return false
  let p = start
  const end = start + len
  if (len === 1 && buf[p] === ZERO) { parsed.value = 0; parsed.isBig = false; return true }
  let negative = false
  if (buf[p] === DASH) {
    negative = true
    p++
    if (p === end) return false
  }
  const first = buf[p]
  if (first < 49 || first > NINE) return false
  const digits = end - p
  if (digits <= 15) {
    let v = 0
    for (; p < end; p++) {
      const c = buf[p]
      if (c < ZERO || c > NINE) return false
      v = v * 10 + (c - ZERO)
    }
    parsed.value = negative ? -v : v
    parsed.isBig = false
    return true
  }
  let v = 0n
  for (; p < end; p++) {
    const c = buf[p]
    if (c < ZERO || c > NINE) return false
    v = v * 10n + BigInt(c - ZERO)
  }
  if (negative) v = -v
  if (v > 9223372036854775807n || v < -9223372036854775808n) return false
  parsed.big = v
  parsed.value = Number(v)
  parsed.isBig = !Number.isSafeInteger(parsed.value)
  return true
}

/** getLongLongFromObject: the value string2ll reads (a double, inexact past 2^53), or null. */
export function parseLL (buf: Uint8Array, start: number, len: number): number | null {
  return parseInt64(buf, start, len) ? parsed.value : null
}

/** The exact int64 string2ll reads, or null. */
export function parseBigInt64 (buf: Uint8Array, start: number, len: number): bigint | null {
  if (!parseInt64(buf, start, len)) return null
  // Below 2^53 the number is exact; past it the BigInt path filled parsed.big.
  return parsed.isBig ? parsed.big : BigInt(parsed.value)
}

/** Case-insensitive compare of buf[start..start+len) with a lowercase ASCII token. */
export function equalsLower (buf: Uint8Array, start: number, len: number, lower: Uint8Array): boolean {
  if (len !== lower.length) return false
  for (let i = 0; i < len; i++) {
    const c = buf[start + i]
    // Fold A-Z only: '|' (0x7c) folded as 0x5c would otherwise match '\'.
    const f = c >= 65 && c <= 90 ? c | 0x20 : c
    if (f !== lower[i]) return false
  }
  return true
}

export function token (s: string): Uint8Array {
  return Buffer.from(s.toLowerCase(), 'latin1')
}

/** Number of decimal digits of a non-negative integer below 2^53 (header sizing). */
export function digitCount (n: number): number {
  let d = 1
  while (n >= 10) { n = Math.floor(n / 10); d++ }
  return d
}
