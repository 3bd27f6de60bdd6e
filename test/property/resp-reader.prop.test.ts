// Property tests for RespReader: any split of a valid request stream (multibulk with binary args,
// inline with quoting and escapes, empty commands between) yields the same commands as one read;
// arbitrary bytes never throw, always terminate and keep the arg arrays bounded; and every
// protocol error reply is one well-formed "-ERR Protocol error: ...\r\n" line.

import { fc, test } from '@fast-check/vitest'
import { expect } from 'vitest'
import { COMMAND, NEED_MORE, PROTOCOL_ERROR, RespReader, type ReaderLimits } from '../../src/protocol/resp-reader.js'

const latin1 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('latin1')
const bytes = (s: string): number[] => Array.from(Buffer.from(s, 'latin1'))

type Mode = 'front' | 'fresh' | 'lazy'

interface Run { cmds: string[][], status: number, error: string | null, maxArrayLen: number }

/**
 * Feeds `input` the way a connection does: append a chunk, parse until NEED_MORE, then drop the
 * consumed bytes. 'front' moves [next, end) to the front of the same buffer each chunk, 'fresh'
 * into a new buffer each chunk, 'lazy' only when space runs out.
 */
function feed (input: Uint8Array, sizes: number[], mode: Mode, limits?: Partial<ReaderLimits>): Run {
  const r = new RespReader(limits)
  let buf = new Uint8Array(8)
  let next = 0
  let end = 0
  let seen = 0
  let status = NEED_MORE
  const cmds: string[][] = []
  let maxArrayLen = r.argStart.length
  let i = 0
  let k = 0
  while (i < input.length && status !== PROTOCOL_ERROR) {
    const n = Math.max(1, sizes.length === 0 ? input.length : sizes[k++ % sizes.length])
    const chunk = input.subarray(i, Math.min(input.length, i + n))
    i += chunk.length
    seen += chunk.length
    const pending = end - next
    if (mode !== 'lazy' || end + chunk.length > buf.length) {
      const size = Math.max(pending + chunk.length, r.wanted, mode === 'fresh' ? 0 : buf.length)
      const target = mode === 'fresh' || size > buf.length ? new Uint8Array(size * (mode === 'fresh' ? 1 : 2)) : buf
      if (target === buf) buf.copyWithin(0, next, end)
      else target.set(buf.subarray(next, end), 0)
      if (mode === 'fresh') buf.fill(0xee) // stale bytes must never be read again
      buf = target
      next = 0
      end = pending
    }
    buf.set(chunk, end)
    end += chunk.length
    // Each COMMAND consumes at least one byte, so this loop is bounded by the bytes held.
    const held = end - next
    for (let guard = 0; ; guard++) {
      expect(guard).toBeLessThanOrEqual(held)
      const before = next
      status = r.parse(buf, next, end)
      expect(r.argStart.length).toBe(r.argLen.length)
      maxArrayLen = Math.max(maxArrayLen, r.argStart.length)
      expect(r.argStart.length).toBeLessThanOrEqual(Math.max(16, 2 * seen))
      if (status === COMMAND) {
        expect(r.next).toBeGreaterThan(before)
        expect(r.next).toBeLessThanOrEqual(end)
        expect(r.argc).toBeGreaterThanOrEqual(1)
        const args: string[] = []
        for (let a = 0; a < r.argc; a++) {
          const s = r.argStart[a]
          const l = r.argLen[a]
          expect(s).toBeGreaterThanOrEqual(before)
          expect(s + l).toBeLessThanOrEqual(r.next)
          args.push(latin1(buf.subarray(s, s + l)))
        }
        cmds.push(args)
        next = r.next
        continue
      }
      expect([NEED_MORE, PROTOCOL_ERROR]).toContain(status)
      if (status === NEED_MORE) {
        expect(r.next).toBeGreaterThanOrEqual(before)
        expect(r.next).toBeLessThanOrEqual(end)
        next = r.next
      }
      break
    }
  }
  const error = status === PROTOCOL_ERROR ? latin1(r.errorReply!) : null
  return { cmds, status, error, maxArrayLen }
}

// ---- valid streams -------------------------------------------------------------------------

const SPECIAL = [0, 7, 8, 9, 10, 11, 12, 13, 32, 34, 36, 39, 42, 92, 120, 255]
const argBytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...SPECIAL)), { maxLength: 12 })

interface Cmd { inline: boolean, args: number[][], enc: number[] }

const IS_SPACE = new Set([9, 10, 11, 12, 13, 32])

const mbCommand = fc.record({
  args: fc.array(argBytes, { minLength: 1, maxLength: 6 }),
  // Redis skips the byte after a header CR and the 2 bytes after data without checking them.
  junk: fc.array(fc.option(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })), { nil: undefined }), { minLength: 8, maxLength: 8 }),
}).map(({ args, junk }): Cmd => {
  const enc: number[] = bytes(`*${args.length}\r`)
  enc.push(junk[0] === undefined ? 10 : junk[0][0])
  args.forEach((a, i) => {
    enc.push(...bytes(`$${a.length}\r\n`), ...a)
    const j = junk[(i + 1) % 8]
    enc.push(...(j === undefined ? [13, 10] : j))
  })
  return { inline: false, args, enc }
})

// How one inline arg is written: bare when possible, else quoted with escapes.
const inlineArg = fc.tuple(argBytes, fc.nat(3), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }))
const inlineCommand = fc.record({
  args: fc.array(inlineArg, { minLength: 1, maxLength: 5 }),
  seps: fc.array(fc.constantFrom(' ', '\t', '  ', ' \t', '\r'), { minLength: 5, maxLength: 5 }),
  lead: fc.constantFrom('', ' ', '\t', '\v', '\f ', ' \r'),
  trail: fc.constantFrom('', ' ', '\t '),
  eol: fc.constantFrom('\n', '\r\n'),
}).map(({ args, seps, lead, trail, eol }): Cmd => {
  const enc: number[] = bytes(lead)
  args.forEach(([a, style, raw], i) => {
    if (i > 0) enc.push(...bytes(seps[i % seps.length]))
    const bareOk = a.length > 0 && a.every(c => c !== 0 && c !== 34 && c !== 39 && !IS_SPACE.has(c)) &&
      !(i === 0 && lead === '' && a[0] === 42) // a leading '*' would make it multibulk
    const singleOk = a.every(c => c !== 0 && c !== 10) && a[a.length - 1] !== 92
    if (style === 0 && bareOk) {
      enc.push(...a)
    } else if (style === 1 && singleOk) {
      enc.push(39)
      for (const c of a) { if (c === 39) enc.push(92); enc.push(c) }
      enc.push(39)
    } else {
      enc.push(34)
      a.forEach((c, j) => {
        if (c === 34 || c === 92) enc.push(92, c)
        else if (c === 10) enc.push(...bytes(raw[j % 16] ? '\\n' : '\\x0a'))
        else if (c === 0) enc.push(...bytes('\\x00'))
        else if (c === 13 && raw[j % 16]) enc.push(...bytes('\\r'))
        else if (raw[j % 16]) enc.push(c)
        else enc.push(...bytes('\\x' + c.toString(16).padStart(2, '0')))
      })
      enc.push(34)
    }
  })
  enc.push(...bytes(trail + eol))
  return { inline: true, args: args.map(([a]) => a), enc }
})

const filler = fc.constantFrom('', '*0\r\n', '*-1\r\n', '*-9223372036854775808\r\n', '\r\n', '\n', ' \t\n')

const stream = fc.array(fc.tuple(filler, fc.oneof(mbCommand, inlineCommand)), { maxLength: 8 }).map(list => {
  const enc: number[] = []
  const expected: string[][] = []
  for (const [fill, cmd] of list) {
    enc.push(...bytes(fill), ...cmd.enc)
    expected.push(cmd.args.map(a => latin1(Uint8Array.from(a))))
  }
  return { input: Uint8Array.from(enc), expected }
})

const chunkSizes = fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 })
const mode = fc.constantFrom<Mode>('front', 'fresh', 'lazy')

test.prop([stream, chunkSizes, mode], { numRuns: 400 })('any split of a valid stream yields the same commands as one read', ({ input, expected }, sizes, m) => {
  const whole = feed(input, [], 'front')
  expect(whole.cmds).toEqual(expected)
  expect(whole.status).toBe(NEED_MORE)
  const split = feed(input, sizes, m)
  expect(split.cmds).toEqual(expected)
  expect(split.status).toBe(NEED_MORE)
})

// ---- arbitrary bytes -----------------------------------------------------------------------

const FRAGMENTS = ['*', '$', '\r\n', '\r', '\n', '"', "'", '\\', '\\x4', '\\x41', '0', '1', '3', '-', '+', ' ', '\t', '\0',
  '*1\r\n', '*2\r\n', '$1\r\n', '$3\r\n', '$-1\r\n', '$0\r\n', '*0\r\n', '*-1\r\n', 'PING', 'abc', '\xff',
  // Whole requests, good and bad, so complete lines (and so errors) are common at default limits.
  '*1\r\n$4\r\nPING\r\n', '*2\r\n$1\r\na\r\n$0\r\n\r\n', 'PING\r\n', 'ECHO "a\\x41"\n', "SET 'k' v\n",
  '*1\r\n$-1\r\n', '*1\r\n$x\r\n', '*1\r\nx\r\n', '*x\r\n', '*3000000000\r\n', 'ECHO "a"b\n', "ECHO 'a\n", '*1\r\n$4\r\nPINGxy']
const noise = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 1 },
  {
    arbitrary: fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS).map(bytes), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 })), { maxLength: 60 })
      .map(parts => Uint8Array.from(parts.flat())),
    weight: 3,
  },
)
const limits = fc.option(fc.record({ maxBulkLen: fc.integer({ min: 0, max: 40 }), maxInlineLen: fc.integer({ min: 0, max: 40 }) }), { nil: undefined })

test.prop([noise, chunkSizes, mode, limits], { numRuns: 500 })('arbitrary bytes never throw, terminate, and keep arrays bounded', (input, sizes, m, lim) => {
  const whole = feed(input, [], 'front', lim)
  const split = feed(input, sizes, m, lim)
  expect(whole.maxArrayLen).toBeLessThanOrEqual(Math.max(16, 2 * input.length))
  expect(split.maxArrayLen).toBeLessThanOrEqual(Math.max(16, 2 * input.length))
  if (lim === undefined) {
    // Far below the 64 KB line limit, chunking cannot change the outcome.
    expect(split.cmds).toEqual(whole.cmds)
    expect(split.error).toBe(whole.error)
    expect(split.status).toBe(whole.status)
  }
})

// ---- error replies -------------------------------------------------------------------------

const KNOWN = new Set([
  'too big mbulk count string', 'too big bulk count string', 'too big inline request',
  'invalid multibulk length', 'invalid bulk length', 'unbalanced quotes in request',
])

const broken = fc.tuple(stream, noise).map(([s, tail]) => Uint8Array.from([...s.input, ...tail]))

test.prop([fc.oneof(noise, broken), chunkSizes, mode, limits], { numRuns: 500 })('every protocol error is one "-ERR Protocol error: ...\\r\\n" line', (input, sizes, m, lim) => {
  for (const run of [feed(input, [], 'front', lim), feed(input, sizes, m, lim)]) {
    if (run.status !== PROTOCOL_ERROR) continue
    const e = run.error!
    expect(e.startsWith('-ERR Protocol error: ')).toBe(true)
    expect(e.endsWith('\r\n')).toBe(true)
    const msg = e.slice('-ERR Protocol error: '.length, -2)
    expect(msg).not.toMatch(/[\r\n]/)
    if (!KNOWN.has(msg)) expect(msg).toMatch(/^expected '\$', got '[^\r\n]'$/s)
  }
})
