// ReplyWriter: appends RESP2/RESP3 replies into one growable Buffer. Used by shard handlers
// (then copied into the response ring) and by the primary for its own replies (then written to
// the socket once per turn). `resp3` picks the encoding of nulls, maps, sets and verbatim text.

import { Buffer } from 'node:buffer'
import { copyBytes, writeDigits } from '../bytes.js'

const CRLF0 = 13
const CRLF1 = 10
const INITIAL = 16 * 1024

export class ReplyWriter {
  buf: Buffer
  len: number
  resp3: boolean

  /** initial: the first buffer's size, or the buffer itself. */
  constructor (initial: number | Buffer = INITIAL) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial
    this.len = 0
    this.resp3 = false
  }

  reset (): void { this.len = 0 }

  ensure (n: number): void {
    const need = this.len + n
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < need) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  /**
   * Empties the writer, and drops a buffer that grew large for one big reply, so idle writers
   * do not pin memory.
   */
  shrink (): void {
    this.len = 0
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(INITIAL)
  }

  raw (src: Uint8Array): void {
    const n = src.length
    this.ensure(n)
    // Most raw replies are a few bytes (+OK, :1): a loop costs less than TypedArray.set's call.
    if (n <= 16) {
      const b = this.buf
      let p = this.len
      for (let i = 0; i < n; i++) b[p++] = src[i]
      this.len = p
    } else {
      this.buf.set(src, this.len)
      this.len += n
    }
  }

  rawRange (src: Uint8Array, start: number, len: number): void {
    this.ensure(len)
    copyBytes(src, start, len, this.buf, this.len)
    this.len += len
  }

  private byte (b: number): void { this.buf[this.len++] = b }

  private digits (n: number): void {
    // Caller has ensured room.
    this.len = writeDigits(this.buf, this.len, n)
  }

  private crlf (): void { this.buf[this.len++] = CRLF0; this.buf[this.len++] = CRLF1 }

  private prefixed (prefix: number, n: number): void {
    this.ensure(24)
    this.header(prefix, n)
  }

  /** prefix, n, CRLF; the caller has ensured room. Bytes written in place: a shared "$3\r\n" copied with TypedArray.set cost more. */
  private header (prefix: number, n: number): void {
    const b = this.buf
    let p = this.len
    b[p++] = prefix
    if (n >= 0 && n < 10) b[p++] = 48 + n
    else if (n >= 10 && n < 100) {
      const t = (n / 10) | 0
      b[p++] = 48 + t
      b[p++] = 48 + n - t * 10
    } else p = writeDigits(b, p, n)
    b[p++] = CRLF0
    b[p++] = CRLF1
    this.len = p
  }

  int (n: number): void { this.prefixed(58, n) } // ':'

  bigint (n: bigint): void {
    const s = n.toString()
    this.ensure(s.length + 3)
    this.byte(58)
    this.len += this.buf.write(s, this.len, 'latin1')
    this.crlf()
  }

  bulk (src: Uint8Array, start: number, len: number): void {
    this.ensure(len + 24)
    this.header(36, len) // '$'
    copyBytes(src, start, len, this.buf, this.len)
    this.len += len
    this.crlf()
  }

  bulkBuf (b: Uint8Array): void { this.bulk(b, 0, b.length) }

  /** Edge paths only (INFO, CONFIG, HELLO): strings are encoded as latin1 bytes. */
  bulkStr (s: string): void {
    const n = Buffer.byteLength(s, 'utf8')
    this.ensure(n + 24)
    this.byte(36)
    this.digits(n)
    this.crlf()
    this.len += this.buf.write(s, this.len, 'utf8')
    this.crlf()
  }

  /** A status reply (+text): only for constant, CRLF-free texts. */
  status (s: string): void {
    this.ensure(s.length + 3)
    this.byte(43)
    this.len += this.buf.write(s, this.len, 'latin1')
    this.crlf()
  }

  /** addReplyHelp: a "<NAME> <subcommand> ..." header, the subcommands' lines, then HELP's own two. */
  help (name: string, lines: readonly string[]): void {
    this.arrayHeader(lines.length + 3)
    this.status(`${name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`)
    for (const line of lines) this.status(line)
    this.status('HELP')
    this.status('    Prints this help.')
  }

  nullBulk (): void {
    if (this.resp3) { this.ensure(3); this.byte(95); this.crlf() } else this.raw(NULL_BULK2)
  }

  nullArray (): void {
    if (this.resp3) { this.ensure(3); this.byte(95); this.crlf() } else this.raw(NULL_ARRAY2)
  }

  arrayHeader (n: number): void { this.prefixed(42, n) }

  mapHeader (n: number): void {
    if (this.resp3) this.prefixed(37, n) // '%'
    else this.arrayHeader(n * 2)
  }

  setHeader (n: number): void {
    if (this.resp3) this.prefixed(126, n) // '~'
    else this.arrayHeader(n)
  }

  /** Verbatim text (INFO, CLIENT INFO): RESP3 '=' with the "txt:" format, RESP2 a bulk. */
  verbatim (s: string): void {
    if (!this.resp3) { this.bulkStr(s); return }
    const n = Buffer.byteLength(s, 'utf8') + 4
    this.ensure(n + 24)
    this.byte(61)
    this.digits(n)
    this.crlf()
    this.len += this.buf.write('txt:', this.len, 'latin1')
    this.len += this.buf.write(s, this.len, 'utf8')
    this.crlf()
  }
}

const NULL_BULK2 = Buffer.from('$-1\r\n')
const NULL_ARRAY2 = Buffer.from('*-1\r\n')
