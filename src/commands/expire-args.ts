// Expire-time arithmetic shared by SET and the EXPIRE family, with Redis's overflow rules
// (getExpireMillisecondsOrReply in t_string.c, expireGenericCommand in expire.c). Times are
// returned as a double of unix ms; -1 signals "invalid expire time".

import { parseInt64, parsed } from '../protocol/ascii.js'

export const LLONG_MAX = 9223372036854775807n
export const LLONG_MIN = -9223372036854775808n
export const BAD_INT = -2
export const BAD_TIME = -1

/** For SET/GETEX: value must be > 0; EX/PX are relative to now. Returns ms, BAD_INT or BAD_TIME. */
export function setExpireMs (buf: Uint8Array, start: number, len: number, isSeconds: boolean, isRelative: boolean, now: number): number {
  if (!parseInt64(buf, start, len)) return BAD_INT
  const v = parsed.isBig || Math.abs(parsed.value) > 2 ** 40 ? BigInt.asIntN(64, parsed.isBig ? parsed.big : BigInt(parsed.value)) : null
  if (v === null) {
    let ms = parsed.value
    if (ms <= 0) return BAD_TIME
    if (isSeconds) ms *= 1000
    if (isRelative) ms += now
    return ms
  }
  let ms = v
  if (ms <= 0n || (isSeconds && ms > LLONG_MAX / 1000n)) return BAD_TIME
  if (isSeconds) ms *= 1000n
  if (isRelative) ms += BigInt(now)
  if (ms > LLONG_MAX) return BAD_TIME // C wraps to a negative number here and rejects it
  return Number(ms)
}

/** For EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT: negatives allowed, only overflow rejected. */
export function expireCommandMs (buf: Uint8Array, start: number, len: number, isSeconds: boolean, basetime: number): number | null {
  if (!parseInt64(buf, start, len)) return null
  if (!parsed.isBig && Math.abs(parsed.value) <= 2 ** 40) {
    return (isSeconds ? parsed.value * 1000 : parsed.value) + basetime
  }
  let when = parsed.isBig ? parsed.big : BigInt(parsed.value)
  if (isSeconds) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) return NaN
    when *= 1000n
  }
  if (when > LLONG_MAX - BigInt(basetime)) return NaN
  return Number(when + BigInt(basetime))
}
