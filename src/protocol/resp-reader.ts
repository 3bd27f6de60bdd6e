// Incremental, binary-safe reader for client requests: RESP multibulk and inline commands, with
// Redis 7.0's exact acceptance rules and error texts (processMultibulkBuffer, processInlineBuffer
// and sdssplitargs). Arguments come back as (start, len) views into the caller's buffer; resume
// state is kept relative to the command start, so the caller may move unread bytes between calls.

import { Buffer } from 'node:buffer'
import { CR, LF, parseInt64, parsed } from './ascii.js'

export const NEED_MORE = 0
export const COMMAND = 1
export const PROTOCOL_ERROR = 2

export interface ReaderLimits {
  /** Largest accepted bulk argument (Redis proto-max-bulk-len). */
  maxBulkLen: number
  /** Longest header or inline line kept waiting for its terminator (Redis PROTO_INLINE_MAX_SIZE). */
  maxInlineLen: number
}

const DEFAULT_LIMITS: ReaderLimits = { maxBulkLen: 512 * 1024 * 1024, maxInlineLen: 64 * 1024 }
// Offsets live in Int32Arrays, so a bulk (plus its 2 trailing bytes) must stay below 2^31.
const MAX_REPRESENTABLE_BULK = 0x7fffffff - 2
const INT_MAX = 2147483647
const INITIAL_ARGS = 16

// Internal result of one command attempt: consumed without producing a command.
const EMPTY = 3

const NUL = 0
const TAB = 9
const SP = 32
const DQUOTE = 34
const DOLLAR = 36
const SQUOTE = 39
const STAR = 42
const BACKSLASH = 92

/** C isspace() in the C locale: \t \n \v \f \r and space. */
const IS_SPACE = new Uint8Array(256)
IS_SPACE[9] = IS_SPACE[10] = IS_SPACE[11] = IS_SPACE[12] = IS_SPACE[13] = IS_SPACE[SP] = 1

/** Hex digit value plus one (0 = not a hex digit), for the \xHH escape. */
const HEX = new Uint8Array(256)
for (let i = 0; i < 10; i++) HEX[48 + i] = i + 1
for (let i = 0; i < 6; i++) { HEX[65 + i] = i + 11; HEX[97 + i] = i + 11 }

// Error texts, encoded once. Candidates for protocol/errors.ts when that module lands.
const err = (msg: string): Buffer => Buffer.from(`-ERR Protocol error: ${msg}\r\n`, 'latin1')
const ERR_TOO_BIG_MBULK = err('too big mbulk count string')
const ERR_TOO_BIG_BULK = err('too big bulk count string')
const ERR_TOO_BIG_INLINE = err('too big inline request')
const ERR_INVALID_MBULK = err('invalid multibulk length')
const ERR_INVALID_BULK = err('invalid bulk length')
const ERR_UNBALANCED = err('unbalanced quotes in request')
const ERR_UNAUTH_MBULK = err('unauthenticated multibulk length')
const ERR_UNAUTH_BULK = err('unauthenticated bulk length')
/** Before it authenticates, a client may send no more arguments, and none longer, than these (Redis 7.0). */
const UNAUTH_MAX_ARGS = 10
const UNAUTH_MAX_BULK = 16384
const EXPECTED_DOLLAR_HEAD = Buffer.from("-ERR Protocol error: expected '$', got '", 'latin1')

function expectedDollar (got: number): Buffer {
  const out = Buffer.allocUnsafe(EXPECTED_DOLLAR_HEAD.length + 4)
  EXPECTED_DOLLAR_HEAD.copy(out, 0)
  let i = EXPECTED_DOLLAR_HEAD.length
  // addReplyErrorFormat maps CR and LF to spaces so the reply stays one line.
  out[i++] = got === CR || got === LF ? SP : got
  out[i++] = SQUOTE
  out[i++] = CR
  out[i] = LF
  return out
}

export class RespReader {
  /** Number of args of the command just returned by COMMAND (>= 1). */
  argc = 0
  /** argStart[i], argLen[i]: absolute offsets into that call's buffer; grown by doubling. */
  argStart: Int32Array = new Int32Array(INITIAL_ARGS)
  argLen: Int32Array = new Int32Array(INITIAL_ARGS)
  /** Everything before it is consumed; after NEED_MORE, the start of the unfinished command. */
  next = 0
  /** After NEED_MORE: bytes from `next` needed to finish the current bulk, or 0 if unknown. */
  wanted = 0
  /** After PROTOCOL_ERROR: the exact reply to send before closing. */
  errorReply: Buffer | null = null
  /** Bytes examined by line searches since construction: tests use it to prove no rescans. */
  scanned = 0
  /**
   * Redis's authRequired(c), asked only of a multibulk count past 10 or a bulk past 16 KB: an
   * unauthenticated client gets a protocol error for those, before their bytes arrive.
   */
  authRequired: (() => boolean) | null = null

  private readonly maxBulkLen: number
  private readonly maxInlineLen: number
  // Resume state, all relative to the command start so the caller may move the bytes.
  private mbLeft = 0 // multibulk args still to read; 0 = no count line parsed yet
  private filled = 0 // args recorded so far for the command in progress
  private cur = 0 // next arg's header start, or its data start once bulkLen >= 0
  private bulkLen = -1 // length of the current bulk, -1 while its header is unread
  private scan = 0 // where the pending CR/LF search resumes
  private failed = false

  constructor (limits?: Partial<ReaderLimits>) {
    const maxBulk = limits?.maxBulkLen ?? DEFAULT_LIMITS.maxBulkLen
    this.maxBulkLen = Math.min(maxBulk, MAX_REPRESENTABLE_BULK)
    this.maxInlineLen = limits?.maxInlineLen ?? DEFAULT_LIMITS.maxInlineLen
  }

  reset (): void {
    this.argc = 0
    this.next = 0
    this.wanted = 0
    this.errorReply = null
    this.failed = false
    this.clearCommand()
  }

  /**
   * Reads the next command from buf[pos, end). pos must be where the unfinished command (if any)
   * now starts: `next` from the previous call, or its new place after the caller moved bytes.
   */
  parse (buf: Uint8Array, pos: number, end: number): number {
    if (this.failed) return PROTOCOL_ERROR
    this.wanted = 0
    if (end > buf.length) end = buf.length
    let base = pos
    for (;;) {
      this.next = base
      if (base >= end) return NEED_MORE
      // Redis decides the request type on the first byte alone; it cannot change while waiting.
      const r = buf[base] === STAR
        ? this.multibulk(buf, base, end)
        : this.inline(buf, base, end)
      if (r !== EMPTY) return r
      base = this.next // consumed an empty command (*0, *-1, blank line): keep going
    }
  }

  private clearCommand (): void {
    this.mbLeft = 0
    this.filled = 0
    this.cur = 0
    this.bulkLen = -1
    this.scan = 0
  }

  private fail (reply: Buffer): number {
    this.errorReply = reply
    this.failed = true
    this.clearCommand()
    return PROTOCOL_ERROR
  }

  /**
   * strchr(base + scan, target) limited to `end`: returns the index or -1. Like strchr on Redis's
   * query buffer, a NUL byte ends the search, so a header or inline line containing NUL waits
   * (and later trips the too-big check) exactly as Redis does. Remembers where it stopped.
   */
  private find (buf: Uint8Array, base: number, end: number, target: number): number {
    const from = base + this.scan
    let i = from
    for (; i < end; i++) {
      const c = buf[i]
      if (c === target || c === NUL) break
    }
    this.scanned += i - from
    this.scan = i - base
    return i < end && buf[i] === target ? i : -1
  }

  private push (start: number, len: number): void {
    const n = this.filled
    if (n === this.argStart.length) {
      const s = new Int32Array(n * 2)
      s.set(this.argStart)
      this.argStart = s
      const l = new Int32Array(n * 2)
      l.set(this.argLen)
      this.argLen = l
    }
    this.argStart[n] = start
    this.argLen[n] = len
    this.filled = n + 1
  }

  private multibulk (buf: Uint8Array, base: number, end: number): number {
    if (this.mbLeft === 0) {
      const cr = this.find(buf, base, end, CR)
      if (cr < 0) return end - base > this.maxInlineLen ? this.fail(ERR_TOO_BIG_MBULK) : NEED_MORE
      if (cr + 2 > end) return NEED_MORE
      if (!parseInt64(buf, base + 1, cr - base - 1) || parsed.value > INT_MAX) {
        return this.fail(ERR_INVALID_MBULK)
      }
      if (parsed.value > UNAUTH_MAX_ARGS && this.authRequired !== null && this.authRequired()) return this.fail(ERR_UNAUTH_MBULK)
      // Redis skips CR plus one byte without checking that it is LF.
      const rel = cr + 2 - base
      if (parsed.value <= 0) {
        this.clearCommand()
        this.next = base + rel
        return EMPTY
      }
      this.mbLeft = parsed.value
      this.filled = 0
      this.cur = rel
      this.bulkLen = -1
      this.scan = rel
    }

    while (this.mbLeft > 0) {
      if (this.bulkLen < 0) {
        const hdr = base + this.cur
        const cr = this.find(buf, base, end, CR)
        if (cr < 0) return end - hdr > this.maxInlineLen ? this.fail(ERR_TOO_BIG_BULK) : NEED_MORE
        if (cr + 2 > end) return NEED_MORE
        const first = buf[hdr]
        if (first !== DOLLAR) return this.fail(expectedDollar(first))
        if (!parseInt64(buf, hdr + 1, cr - hdr - 1) || parsed.value < 0 || parsed.value > this.maxBulkLen) {
          return this.fail(ERR_INVALID_BULK)
        }
        if (parsed.value > UNAUTH_MAX_BULK && this.authRequired !== null && this.authRequired()) return this.fail(ERR_UNAUTH_BULK)
        this.bulkLen = parsed.value
        this.cur = cr + 2 - base
      }
      const need = this.cur + this.bulkLen + 2
      if (end - base < need) {
        this.wanted = need
        return NEED_MORE
      }
      this.push(this.cur, this.bulkLen) // relative until the command completes
      // The 2 bytes after the data are skipped unchecked, as in Redis.
      this.cur = need
      this.scan = need
      this.bulkLen = -1
      this.mbLeft--
    }

    const n = this.filled
    const starts = this.argStart
    for (let i = 0; i < n; i++) starts[i] += base
    this.argc = n
    this.next = base + this.cur
    this.clearCommand()
    return COMMAND
  }

  private inline (buf: Uint8Array, base: number, end: number): number {
    const lf = this.find(buf, base, end, LF)
    if (lf < 0) return end - base > this.maxInlineLen ? this.fail(ERR_TOO_BIG_INLINE) : NEED_MORE
    const lineEnd = lf > base && buf[lf - 1] === CR ? lf - 1 : lf
    this.filled = 0
    if (!this.splitArgs(buf, base, lineEnd)) return this.fail(ERR_UNBALANCED)
    const n = this.filled
    this.clearCommand()
    this.next = lf + 1
    if (n === 0) return EMPTY
    this.argc = n
    return COMMAND
  }

  /**
   * sdssplitargs over buf[p, e), where e plays the C string's NUL. Unescapes in place: an arg's
   * output never outruns its input, so each arg stays a (start, len) view into buf. Returns false
   * on unbalanced quotes or a closing quote glued to the next character.
   */
  private splitArgs (buf: Uint8Array, p: number, e: number): boolean {
    for (;;) {
      while (p < e && IS_SPACE[buf[p]] === 1) p++
      if (p >= e) return true
      const start = p
      let w = p
      let inq = false
      let insq = false
      for (;;) {
        if (inq) {
          if (p >= e) return false // unterminated "
          const c = buf[p]
          if (c === BACKSLASH && p + 3 < e && buf[p + 1] === 120 && HEX[buf[p + 2]] !== 0 && HEX[buf[p + 3]] !== 0) {
            buf[w++] = (HEX[buf[p + 2]] - 1) * 16 + HEX[buf[p + 3]] - 1
            p += 4
          } else if (c === BACKSLASH && p + 1 < e) {
            const x = buf[p + 1]
            buf[w++] = x === 110 ? LF : x === 114 ? CR : x === 116 ? TAB : x === 98 ? 8 : x === 97 ? 7 : x
            p += 2
          } else if (c === DQUOTE) {
            if (p + 1 < e && IS_SPACE[buf[p + 1]] === 0) return false
            p++
            break
          } else {
            buf[w++] = c
            p++
          }
        } else if (insq) {
          if (p >= e) return false // unterminated '
          const c = buf[p]
          if (c === BACKSLASH && p + 1 < e && buf[p + 1] === SQUOTE) {
            buf[w++] = SQUOTE
            p += 2
          } else if (c === SQUOTE) {
            if (p + 1 < e && IS_SPACE[buf[p + 1]] === 0) return false
            p++
            break
          } else {
            buf[w++] = c
            p++
          }
        } else {
          if (p >= e) break
          const c = buf[p]
          // Only these end a bare token; \v and \f are skipped between args but kept inside one.
          if (c === SP || c === LF || c === CR || c === TAB) { p++; break }
          // A quote opens quoting even mid-token: a"b c" is the single arg `ab c`.
          if (c === DQUOTE) inq = true
          else if (c === SQUOTE) insq = true
          else buf[w++] = c
          p++
        }
      }
      this.push(start, w - start)
    }
  }
}
