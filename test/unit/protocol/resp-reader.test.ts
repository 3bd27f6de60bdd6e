// Example-based tests for RespReader: every acceptance rule and error text of Redis 7.0's request
// parsing (processMultibulkBuffer, processInlineBuffer, sdssplitargs), resumption at every split
// point, `wanted` for big bulks, and linear work for huge multibulks fed in tiny chunks.

import { describe, expect, it } from 'vitest'
import { COMMAND, NEED_MORE, PROTOCOL_ERROR, RespReader, type ReaderLimits } from '../../../src/protocol/resp-reader.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const str = (u: Uint8Array): string => Buffer.from(u).toString('latin1')

interface Outcome { cmds: string[][], status: number, error: string | null, next: number, wanted: number }

/** Parses `input` in one buffer until NEED_MORE or an error. */
function parseAll (input: string | Uint8Array, limits?: Partial<ReaderLimits>, reader = new RespReader(limits)): Outcome {
  const buf = typeof input === 'string' ? b(input) : Uint8Array.from(input)
  const cmds: string[][] = []
  let pos = 0
  let status: number
  for (;;) {
    status = reader.parse(buf, pos, buf.length)
    if (status !== COMMAND) break
    cmds.push(argsOf(reader, buf))
    expect(reader.next).toBeGreaterThan(pos)
    pos = reader.next
  }
  return { cmds, status, error: reader.errorReply === null ? null : str(reader.errorReply), next: reader.next, wanted: reader.wanted }
}

function argsOf (r: RespReader, buf: Uint8Array): string[] {
  const out: string[] = []
  for (let i = 0; i < r.argc; i++) out.push(str(buf.subarray(r.argStart[i], r.argStart[i] + r.argLen[i])))
  return out
}

/**
 * A connection's read loop: one buffer, append each chunk, parse until NEED_MORE, and move the
 * unread tail to the front only when space runs out (or always, into a fresh buffer, when
 * `freshEachChunk` is set, to prove no absolute offset survives between calls).
 */
class Conn {
  buf: Uint8Array
  next = 0
  end = 0
  cmds: string[][] = []
  status = NEED_MORE
  error: string | null = null
  grows = 0
  constructor (readonly reader = new RespReader(), size = 64, readonly freshEachChunk = false) {
    this.buf = new Uint8Array(size)
  }

  feed (chunk: Uint8Array): number {
    if (this.status === PROTOCOL_ERROR) return this.status
    const pending = this.end - this.next
    const need = Math.max(pending + chunk.length, this.reader.wanted)
    if (this.freshEachChunk || this.end + chunk.length > this.buf.length) {
      let target = this.buf
      if (this.freshEachChunk || need > this.buf.length) {
        target = new Uint8Array(Math.max(need, this.freshEachChunk ? need : this.buf.length * 2))
        this.grows++
      }
      if (target === this.buf) this.buf.copyWithin(0, this.next, this.end)
      else target.set(this.buf.subarray(this.next, this.end), 0)
      this.buf = target
      this.end = pending
      this.next = 0
    }
    this.buf.set(chunk, this.end)
    this.end += chunk.length
    for (;;) {
      const r = this.reader.parse(this.buf, this.next, this.end)
      this.next = this.reader.next
      this.status = r
      if (r === COMMAND) { this.cmds.push(argsOf(this.reader, this.buf)); continue }
      if (r === PROTOCOL_ERROR) this.error = str(this.reader.errorReply!)
      return r
    }
  }
}

function feedChunks (input: Uint8Array, sizes: number[], fresh = false, limits?: Partial<ReaderLimits>): Conn {
  const c = new Conn(new RespReader(limits), 8, fresh)
  let i = 0
  let k = 0
  while (i < input.length) {
    const n = Math.max(1, sizes[k++ % sizes.length])
    c.feed(input.subarray(i, Math.min(input.length, i + n)))
    i += n
  }
  return c
}

/** Multibulk of latin1 string args, built as one string (fast for a million args). */
function encodeStrings (args: string[]): Buffer {
  let s = `*${args.length}\r\n`
  for (const a of args) s += `$${a.length}\r\n${a}\r\n`
  return b(s)
}

function encode (args: (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [b(`*${args.length}\r\n`)]
  for (const a of args) {
    const v = typeof a === 'string' ? b(a) : Buffer.from(a)
    parts.push(b(`$${v.length}\r\n`), v, b('\r\n'))
  }
  return Buffer.concat(parts)
}

const err = (m: string): string => `-ERR Protocol error: ${m}\r\n`

describe('multibulk', () => {
  it('reads a command and reports absolute offsets and next', () => {
    const input = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n'
    const r = new RespReader()
    const buf = b('xx' + input + 'yy')
    expect(r.parse(buf, 2, buf.length - 2)).toBe(COMMAND)
    expect(r.argc).toBe(3)
    expect(Array.from(r.argStart.subarray(0, 3))).toEqual([2 + 8, 2 + 17, 2 + 24])
    expect(Array.from(r.argLen.subarray(0, 3))).toEqual([3, 1, 5])
    expect(r.next).toBe(2 + input.length)
    expect(r.parse(buf, r.next, buf.length - 2)).toBe(NEED_MORE)
    expect(r.next).toBe(2 + input.length)
    expect(r.wanted).toBe(0)
  })

  it('reads a pipeline one command per call', () => {
    const out = parseAll('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*1\r\n$4\r\nPING\r\n')
    expect(out.cmds).toEqual([['PING'], ['ECHO', 'hi'], ['PING']])
    expect(out.status).toBe(NEED_MORE)
  })

  it('is binary safe: CR, LF, NUL and high bytes inside args, and empty args', () => {
    const bin = Uint8Array.from([0, 13, 10, 255, 42, 36, 13, 10, 0])
    const input = encode(['SET', bin, '', '\r\n'])
    const r = new RespReader()
    expect(r.parse(input, 0, input.length)).toBe(COMMAND)
    expect(r.argc).toBe(4)
    expect(Array.from(input.subarray(r.argStart[1], r.argStart[1] + r.argLen[1]))).toEqual(Array.from(bin))
    expect(r.argLen[2]).toBe(0)
    expect(str(input.subarray(r.argStart[3], r.argStart[3] + r.argLen[3]))).toBe('\r\n')
  })

  it('skips the 2 bytes after bulk data without checking them', () => {
    expect(parseAll('*1\r\n$4\r\nPINGxyPING\r\n').cmds).toEqual([['PING'], ['PING']])
  })

  it('skips the byte after a header CR without checking it is LF', () => {
    expect(parseAll('*1\rX$4\rYPING\r\n').cmds).toEqual([['PING']])
  })

  it('consumes *0 and negative counts silently and goes on in the same call', () => {
    expect(parseAll('*0\r\nPING\r\n').cmds).toEqual([['PING']])
    expect(parseAll('*-5\r\n*0\r\n*-1\r\n*1\r\n$1\r\na\r\n').cmds).toEqual([['a']])
    expect(parseAll('*-9223372036854775808\r\n*1\r\n$1\r\nb\r\n').cmds).toEqual([['b']])
    const r = new RespReader()
    const buf = b('*0\r\n*-1\r\n')
    expect(r.parse(buf, 0, buf.length)).toBe(NEED_MORE)
    expect(r.next).toBe(buf.length)
  })

  it('waits for a CR and for the byte after it', () => {
    for (const input of ['*', '*1', '*1\r', '*1\r\n$', '*1\r\n$3', '*1\r\n$3\r', '*1\r\n$3\r\nfo', '*1\r\n$3\r\nfoo', '*1\r\n$3\r\nfoo\r']) {
      const out = parseAll(input)
      expect(out.status, input).toBe(NEED_MORE)
      expect(out.next, input).toBe(0)
    }
    expect(parseAll('*1\r\n$3\r\nfoo\r\n').cmds).toEqual([['foo']])
  })

  it('accepts big declared counts and waits (no preallocation)', () => {
    for (const n of ['1048577', '2147483647']) {
      const r = new RespReader()
      const out = parseAll(`*${n}\r\n$1\r\na\r\n`, undefined, r)
      expect(out.status).toBe(NEED_MORE)
      expect(r.argStart.length).toBeLessThanOrEqual(16)
    }
  })

  it('rejects invalid multibulk lengths byte for byte', () => {
    for (const n of ['2147483648', '9223372036854775807', '99999999999999999999', '+1', '01', '', ' 1', '1 ', 'abc', '-0', '1x', '-9223372036854775809', '--1']) {
      const out = parseAll(`*${n}\r\n`)
      expect(out.status, n).toBe(PROTOCOL_ERROR)
      expect(out.error, n).toBe(err('invalid multibulk length'))
    }
  })

  it('rejects invalid bulk lengths byte for byte', () => {
    for (const n of ['536870913', '-1', '+4', '04', '', 'abc', '4 ', '-0', '99999999999999999999', '9223372036854775807']) {
      const out = parseAll(`*1\r\n$${n}\r\n`)
      expect(out.status, n).toBe(PROTOCOL_ERROR)
      expect(out.error, n).toBe(err('invalid bulk length'))
    }
  })

  it('waits for a bulk of exactly the maximum length and reports wanted', () => {
    const out = parseAll('*1\r\n$536870912\r\n')
    expect(out.status).toBe(NEED_MORE)
    expect(out.wanted).toBe(16 + 536870912 + 2)
  })

  it('honours a custom maxBulkLen', () => {
    expect(parseAll('*1\r\n$11\r\n', { maxBulkLen: 10 }).error).toBe(err('invalid bulk length'))
    expect(parseAll('*1\r\n$10\r\n0123456789\r\n', { maxBulkLen: 10 }).cmds).toEqual([['0123456789']])
  })

  it("reports expected '$' with the raw byte, CR and LF shown as a space", () => {
    expect(parseAll('*1\r\nx3\r\nfoo\r\n').error).toBe(err("expected '$', got 'x'"))
    expect(parseAll('*2\r\n$1\r\na\r\n*1\r\n').error).toBe(err("expected '$', got '*'"))
    const hi = parseAll(Uint8Array.from([...b('*1\r\n'), 0xff, 13, 10]))
    expect(Array.from(b(hi.error!))).toEqual([...b("-ERR Protocol error: expected '$', got '"), 0xff, ...b("'\r\n")])
    expect(parseAll('*1\r\n\r\n').error).toBe(err("expected '$', got ' '"))
    expect(parseAll('*1\r\n\nfoo\r\n').error).toBe(err("expected '$', got ' '"))
  })

  it('errors on a count line longer than maxInlineLen without CR', () => {
    const limit = 64 * 1024
    expect(parseAll('*' + '1'.repeat(limit - 1)).status).toBe(NEED_MORE)
    expect(parseAll('*' + '1'.repeat(limit)).error).toBe(err('too big mbulk count string'))
    expect(parseAll('*12345', { maxInlineLen: 4 }).error).toBe(err('too big mbulk count string'))
  })

  it('errors on a bulk header longer than maxInlineLen without CR (counted from the header)', () => {
    const limit = 64 * 1024
    expect(parseAll('*1\r\n$' + '1'.repeat(limit - 1)).status).toBe(NEED_MORE)
    expect(parseAll('*1\r\n$' + '1'.repeat(limit)).error).toBe(err('too big bulk count string'))
    expect(parseAll('*1\r\n$123', { maxInlineLen: 4 }).status).toBe(NEED_MORE)
    expect(parseAll('*1\r\n$1234', { maxInlineLen: 4 }).error).toBe(err('too big bulk count string'))
  })

  it('stops the CR search at a NUL byte, like strchr on the query buffer', () => {
    expect(parseAll('*1\0\r\n$1\r\na\r\n').status).toBe(NEED_MORE)
    expect(parseAll('*1\0\r\n$1\r\na\r\n', { maxInlineLen: 8 }).error).toBe(err('too big mbulk count string'))
    expect(parseAll('*1\r\n$1\0\r\na\r\n', { maxInlineLen: 4 }).error).toBe(err('too big bulk count string'))
    // NUL inside bulk data is never searched.
    expect(parseAll('*1\r\n$1\r\n\0\r\n').cmds).toEqual([['\0']])
  })

  it('grows the arg arrays by doubling as args arrive', () => {
    const r = new RespReader()
    const args = Array.from({ length: 100 }, (_, i) => String(i))
    const input = encode(args)
    expect(r.parse(input, 0, input.length)).toBe(COMMAND)
    expect(r.argc).toBe(100)
    expect(r.argStart.length).toBe(128)
    expect(argsOf(r, input)).toEqual(args)
  })
})

describe('inline', () => {
  it('splits on spaces and tabs and strips LF or CRLF', () => {
    expect(parseAll('SET k v\r\n').cmds).toEqual([['SET', 'k', 'v']])
    expect(parseAll('  SET\t k  \t v  \n').cmds).toEqual([['SET', 'k', 'v']])
    expect(parseAll('PING\nPING\r\n').cmds).toEqual([['PING'], ['PING']])
  })

  it('consumes empty and blank lines silently', () => {
    expect(parseAll('\r\n\nPING\n').cmds).toEqual([['PING']])
    const out = parseAll('   \r\n\t\n \n')
    expect(out.cmds).toEqual([])
    expect(out.status).toBe(NEED_MORE)
    expect(out.next).toBe(9)
  })

  it('treats a CR inside the line as a separator; only a CR just before LF is stripped', () => {
    expect(parseAll('a\rb\n').cmds).toEqual([['a', 'b']])
    expect(parseAll('a\r\r\n').cmds).toEqual([['a']])
    expect(parseAll('"a\r"\r\n').cmds).toEqual([['a\r']])
  })

  it('skips \\v and \\f between args but keeps them inside a bare arg', () => {
    expect(parseAll('\va\f b\n').cmds).toEqual([['a\f', 'b']])
    expect(parseAll('a\vb\n').cmds).toEqual([['a\vb']])
  })

  it('waits for LF; a lone trailing CR is not enough', () => {
    for (const s of ['P', 'PING', 'PING\r', 'SET "a b']) expect(parseAll(s).status, s).toBe(NEED_MORE)
  })

  it('unescapes double-quoted args in place', () => {
    const buf = b('ECHO "a\\x41\\n"\r\n')
    const r = new RespReader()
    expect(r.parse(buf, 0, buf.length)).toBe(COMMAND)
    expect(argsOf(r, buf)).toEqual(['ECHO', 'aA\n'])
    expect(r.argStart[1]).toBe(5) // the view starts at the opening quote, rewritten in place
    expect(parseAll('X "\\n\\r\\t\\b\\a\\\\\\"\\q\\x7a\\x7A\\xff"\n').cmds).toEqual([['X', '\n\r\t\b\x07\\"qzz\xff']])
  })

  it('keeps \\x without two hex digits as a literal x', () => {
    expect(parseAll('"\\xZZ" "\\x4" "\\x"\n').cmds).toEqual([['xZZ', 'x4', 'x']])
  })

  it('supports only \\\' inside single quotes', () => {
    expect(parseAll("'a\\'b' 'c\\nd' 'e\"f'\n").cmds).toEqual([["a'b", 'c\\nd', 'e"f']])
  })

  it('reads empty quoted args as args, not as an empty command', () => {
    expect(parseAll('"" \'\'\n').cmds).toEqual([['', '']])
  })

  it('lets a quote open mid-token, as sdssplitargs does', () => {
    expect(parseAll('a"b c"\n').cmds).toEqual([['ab c']])
    expect(parseAll("x'y z' w\n").cmds).toEqual([['xy z', 'w']])
  })

  it('accepts any isspace byte after a closing quote', () => {
    expect(parseAll('"a"\tb "c"\vd "e"\n').cmds).toEqual([['a', 'b', 'c', 'd', 'e']])
    expect(parseAll('"a"\r\n').cmds).toEqual([['a']])
  })

  it('rejects unbalanced quotes byte for byte', () => {
    for (const s of ['ECHO "a"b\n', 'ECHO "abc\n', "ECHO 'abc\n", 'ECHO "abc\\"\n', 'ECHO "abc\\\n', "'a'b\n", 'a"b"c\n', '"\r\n']) {
      const out = parseAll(s)
      expect(out.status, s).toBe(PROTOCOL_ERROR)
      expect(out.error, s).toBe(err('unbalanced quotes in request'))
    }
  })

  it('errors on a line longer than maxInlineLen without LF', () => {
    const limit = 64 * 1024
    expect(parseAll('a'.repeat(limit)).status).toBe(NEED_MORE)
    expect(parseAll('a'.repeat(limit + 1)).error).toBe(err('too big inline request'))
    // A complete line is accepted whatever its length, as in Redis.
    expect(parseAll('a'.repeat(limit + 10) + '\n').cmds).toEqual([['a'.repeat(limit + 10)]])
  })

  it('stops the LF search at a NUL byte, like strchr', () => {
    expect(parseAll('PING\0\n').status).toBe(NEED_MORE)
    expect(parseAll('PING\0\nPING\n', { maxInlineLen: 8 }).error).toBe(err('too big inline request'))
  })

  it('takes any first byte but * as inline', () => {
    expect(parseAll('$3 foo\n').cmds).toEqual([['$3', 'foo']])
    expect(parseAll(' *1\n').cmds).toEqual([['*1']])
  })
})

describe('state and errors', () => {
  it('latches an error until reset()', () => {
    const r = new RespReader()
    const bad = b('*x\r\n')
    expect(r.parse(bad, 0, bad.length)).toBe(PROTOCOL_ERROR)
    const good = b('PING\n')
    expect(r.parse(good, 0, good.length)).toBe(PROTOCOL_ERROR)
    expect(str(r.errorReply!)).toBe(err('invalid multibulk length'))
    r.reset()
    expect(r.errorReply).toBeNull()
    expect(r.parse(good, 0, good.length)).toBe(COMMAND)
  })

  it('reset() drops a half-read command', () => {
    const r = new RespReader()
    const half = b('*2\r\n$1\r\na\r\n')
    expect(r.parse(half, 0, half.length)).toBe(NEED_MORE)
    r.reset()
    const ping = b('*1\r\n$4\r\nPING\r\n')
    expect(r.parse(ping, 0, ping.length)).toBe(COMMAND)
    expect(argsOf(r, ping)).toEqual(['PING'])
  })

  it('clamps end to the buffer and never throws', () => {
    const r = new RespReader()
    const buf = b('*1\r\n$4\r\nPI')
    expect(r.parse(buf, 0, 1000)).toBe(NEED_MORE)
  })
})

describe('resumption', () => {
  const stream = Buffer.concat([
    encode(['SET', 'key', 'a\r\nb']),
    b('*0\r\n'),
    b('PING\r\n'),
    encode(['']),
    b('\r\n'),
    b('ECHO "x\\x41y" \'q\\\'r\'\n'),
    b('*-1\r\n'),
    encode(['MSET', 'k1', 'v1', 'k2', '\0\0']),
    b('*1\r\n$4\r\nPINGzz'),
    b('GET k\n'),
  ])
  const expected = parseAll(stream)

  it('has the expected commands in one go', () => {
    expect(expected.cmds).toEqual([
      ['SET', 'key', 'a\r\nb'], ['PING'], [''], ['ECHO', 'xAy', "q'r"],
      ['MSET', 'k1', 'v1', 'k2', '\0\0'], ['PING'], ['GET', 'k'],
    ])
    expect(expected.next).toBe(stream.length)
  })

  it('gives the same commands for a split at every position', () => {
    for (const fresh of [false, true]) {
      for (let i = 0; i <= stream.length; i++) {
        const c = new Conn(new RespReader(), 8, fresh)
        c.feed(stream.subarray(0, i))
        c.feed(stream.subarray(i))
        expect(c.cmds, `split at ${i}`).toEqual(expected.cmds)
        expect(c.next).toBe(c.end)
      }
    }
  })

  it('gives the same commands for two splits at every pair of positions', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const c = new Conn(new RespReader(), 8, true)
        c.feed(stream.subarray(0, i))
        c.feed(stream.subarray(i, j))
        c.feed(stream.subarray(j))
        expect(c.cmds, `split at ${i},${j}`).toEqual(expected.cmds)
      }
    }
  })

  it('gives the same commands byte by byte', () => {
    expect(feedChunks(stream, [1]).cmds).toEqual(expected.cmds)
    expect(feedChunks(stream, [1], true).cmds).toEqual(expected.cmds)
  })

  it('reports errors after a split exactly as in one go', () => {
    const bad = b('*1\r\n$4\r\nPING\r\n*1\r\n$-1\r\n')
    for (let i = 0; i <= bad.length; i++) {
      const c = new Conn(new RespReader(), 8, true)
      c.feed(bad.subarray(0, i))
      c.feed(bad.subarray(i))
      expect(c.cmds).toEqual([['PING']])
      expect(c.error).toBe(err('invalid bulk length'))
    }
  })
})

describe('big inputs', () => {
  it('reports wanted for a 10 MB bulk arriving in 64 KB chunks, so the buffer grows once', () => {
    const size = 10 * 1024 * 1024
    const data = Buffer.alloc(size)
    for (let i = 0; i < size; i++) data[i] = (i * 31) & 0xff
    const input = Buffer.concat([b(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${size}\r\n`), data, b('\r\n')])
    const c = new Conn(new RespReader(), 64 * 1024)
    let sawWanted = 0
    for (let i = 0; i < input.length; i += 64 * 1024) {
      const st = c.feed(input.subarray(i, i + 64 * 1024))
      if (st === NEED_MORE && c.reader.wanted !== 0) {
        expect(c.reader.wanted).toBe(input.length) // the whole command: header, data, CRLF
        sawWanted++
      }
    }
    expect(sawWanted).toBeGreaterThan(100)
    expect(c.grows).toBe(1) // sized once, from `wanted`
    expect(c.cmds.length).toBe(1)
    expect(c.cmds[0][0]).toBe('SET')
    expect(c.cmds[0][2].length).toBe(size)
    expect(Buffer.from(c.cmds[0][2], 'latin1').equals(data)).toBe(true)
  })

  it('reads a 200,000-arg command in small chunks with linear work', () => {
    const n = 200_000
    const args = Array.from({ length: n }, (_, i) => String(i % 1000))
    const input = encodeStrings(args)
    const t0 = performance.now()
    const c = feedChunks(input, [1, 3, 7, 2, 16, 5])
    const ms = performance.now() - t0
    expect(c.cmds.length).toBe(1)
    expect(c.cmds[0].length).toBe(n)
    expect(c.cmds[0][n - 1]).toBe(String((n - 1) % 1000))
    // Header lines are a small part of the stream; a rescan per call would be ~n times larger.
    expect(c.reader.scanned).toBeLessThan(input.length)
    expect(ms).toBeLessThan(5000)
  })

  it('reads a 1,000,000-arg command in 1-byte chunks without rescanning', () => {
    const n = 1_000_000
    const input = encodeStrings(Array.from({ length: n }, () => 'x'))
    const r = new RespReader()
    const buf = new Uint8Array(input.length)
    let status = NEED_MORE
    let next = 0
    for (let end = 1; end <= input.length; end++) {
      buf[end - 1] = input[end - 1]
      status = r.parse(buf, next, end)
      if (status !== NEED_MORE) break
      next = r.next
    }
    expect(status).toBe(COMMAND)
    expect(r.argc).toBe(n)
    expect(r.scanned).toBeLessThan(input.length)
  })

  it('resumes a long inline line without rescanning it', () => {
    const input = b('SET k ' + 'v'.repeat(60_000) + '\r\n')
    const c = feedChunks(input, [1])
    expect(c.cmds.length).toBe(1)
    expect(c.reader.scanned).toBeLessThanOrEqual(input.length)
  })
})
