// Differential tests for the bitmap commands (bitops.c) FlashKV supports: SETBIT, GETBIT,
// BITCOUNT and BITPOS with BYTE|BIT ranges, and BITOP on one shard and across shards. The same
// bytes go to a real redis-server 7.0.15 and to FlashKV (4 shards); replies must be identical.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { useDiffPair, type Arg } from './helpers/diff.js'
import { shardOfKey } from './helpers/slots.js'

const pair = useDiffPair({ shards: 4 })
const { sequence, pipeline } = pair

describe('SETBIT and GETBIT', () => {
  it('growth with zero bytes, old bits, offsets and values out of range, encodings', async () => {
    await sequence([
      ['SETBIT', 'b', '7', '1'], ['GET', 'b'], ['SETBIT', 'b', '7', '0'], ['SETBIT', 'b', '100', '1'], ['GET', 'b'], ['STRLEN', 'b'],
      ['GETBIT', 'b', '100'], ['GETBIT', 'b', '99'], ['GETBIT', 'b', '100000'], ['GETBIT', 'nokey', '3'], ['OBJECT', 'ENCODING', 'b'],
      ['SETBIT', 'b', '-1', '1'], ['SETBIT', 'b', '4294967296', '1'], ['SETBIT', 'b', 'x', '1'], ['SETBIT', 'b', '1', '2'], ['SETBIT', 'b', '1', 'x'],
      ['SETBIT', 'b', '1', '-1'], ['GETBIT', 'b', '-1'], ['GETBIT', 'b', 'x'], ['SET', 's', 'abc'], ['SETBIT', 's', '1', '1'], ['GET', 's'],
      ['GETBIT', 's', '1'], ['SETBIT', 'z', '0', '0'], ['GET', 'z'], ['OBJECT', 'ENCODING', 'z'], ['LPUSH', 'l', 'x'], ['SETBIT', 'l', '1', '1'],
      ['GETBIT', 'l', '1'], ['SETBIT', 'x'], ['GETBIT', 'x'], ['SET', 'n', '12'], ['SETBIT', 'n', '0', '1'], ['GET', 'n'], ['OBJECT', 'ENCODING', 'n'],
    ])
  })
})

describe('BITCOUNT and BITPOS', () => {
  const setup: Arg[][] = [['SET', 'b', Buffer.from([0xff, 0xf0, 0x00, 0x0f, 0x80])], ['SET', 'ones', Buffer.from([0xff, 0xff])], ['SET', 'e', '']]
  it('whole strings, BYTE and BIT ranges, negative and reversed ranges, errors in Redis order', async () => {
    await sequence([...setup,
      ['BITCOUNT', 'b'], ['BITCOUNT', 'b', '1', '3'], ['BITCOUNT', 'b', '-2', '-1'], ['BITCOUNT', 'b', '3', '1'], ['BITCOUNT', 'b', '0', '-1', 'BIT'],
      ['BITCOUNT', 'b', '5', '30', 'bit'], ['BITCOUNT', 'b', '-9', '-2', 'BIT'], ['BITCOUNT', 'b', '0', '100', 'BYTE'], ['BITCOUNT', 'b', '0'],
      ['BITCOUNT', 'b', '0', '1', 'FOO'], ['BITCOUNT', 'b', '-2', '-5', 'FOO'], ['BITCOUNT', 'b', '5', '1', 'FOO'], ['BITCOUNT', 'b', '-1', '-100', 'x'], ['BITCOUNT', 'nokey', '1', '2', 'FOO'], ['BITCOUNT', 'b', 'x', '1'], ['BITCOUNT', 'b', '0', 'x'], ['BITCOUNT', 'b', '0', '1', 'BIT', 'x'],
      ['BITCOUNT', 'nokey', '0'], ['BITCOUNT', 'nokey', 'x', 'y'], ['BITCOUNT', 'e'], ['BITCOUNT', 'e', '0', '-1'],
      ['BITPOS', 'b', '1'], ['BITPOS', 'b', '0'], ['BITPOS', 'b', '0', '1'], ['BITPOS', 'b', '1', '2'], ['BITPOS', 'b', '1', '2', '2'],
      ['BITPOS', 'b', '0', '0', '0'], ['BITPOS', 'b', '1', '7', '20', 'BIT'], ['BITPOS', 'b', '0', '0', '-1', 'bit'], ['BITPOS', 'b', '1', '-1'],
      ['BITPOS', 'ones', '0'], ['BITPOS', 'ones', '0', '0', '-1'], ['BITPOS', 'ones', '0', '1'], ['BITPOS', 'ones', '0', '8', '15', 'BIT'],
      ['BITPOS', 'ones', '0', '3', 'BIT'], ['BITPOS', 'b', '2'], ['BITPOS', 'b', 'x'], ['BITPOS', 'b', '1', 'x'], ['BITPOS', 'b', '1', '0', 'x'],
      ['BITPOS', 'b', '1', '0', '1', 'FOO'], ['BITPOS', 'b', '1', '0', '1', 'BIT', 'x'], ['BITPOS', 'nokey', '0'], ['BITPOS', 'nokey', '1'],
      ['BITPOS', 'e', '0'], ['BITPOS', 'e', '1'], ['BITPOS', 'b', '1', '9', '3'], ['LPUSH', 'l', 'x'], ['BITCOUNT', 'l'], ['BITPOS', 'l', '1'],
    ])
  })

  it('random strings and ranges', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 12 }), fc.array(fc.tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -40, max: 40 }),
      fc.constantFrom('BYTE', 'BIT'), fc.constantFrom(0, 1)), { minLength: 1, maxLength: 8 }), async (bytes, ranges) => {
      const cmds: Arg[][] = [['SET', 'r', Buffer.from(bytes)]]
      for (const [a, b, unit, bit] of ranges) {
        cmds.push(['BITCOUNT', 'r', String(a), String(b), unit], ['BITPOS', 'r', String(bit), String(a), String(b), unit], ['BITPOS', 'r', String(bit), String(a)])
      }
      await pipeline(cmds)
    }), { numRuns: 60 })
  })
})

describe('BITFIELD and BITFIELD_RO', () => {
  it('GET, SET, INCRBY with every type and OVERFLOW mode, # offsets, errors in Redis order', async () => {
    await sequence([
      ['BITFIELD', 'f', 'GET', 'i8', '0', 'SET', 'u4', '4', '15', 'INCRBY', 'u4', '4', '1', 'OVERFLOW', 'SAT', 'INCRBY', 'u4', '4', '1', 'OVERFLOW', 'FAIL', 'INCRBY', 'i8', '#1', '200'],
      ['GET', 'f'], ['BITFIELD', 'f', 'GET', 'x8', '0'], ['BITFIELD', 'f', 'GET', 'u64', '0'], ['BITFIELD', 'f', 'GET', 'i65', '0'], ['BITFIELD', 'f', 'GET', 'u0', '0'],
      ['BITFIELD', 'f', 'OVERFLOW', 'foo'], ['BITFIELD', 'f', 'GET', 'i8'], ['BITFIELD', 'f', 'SET', 'i8', '-1', '1'], ['BITFIELD', 'f', 'GET', 'i8', '#x'],
      ['BITFIELD', 'f', 'SET', 'i8', '0', 'x'], ['BITFIELD_RO', 'f', 'SET', 'i8', '0', '1'], ['BITFIELD_RO', 'f', 'GET', 'i8', '0', 'GET', 'u3', '#2'],
      ['BITFIELD', 'nokey', 'GET', 'u8', '0'], ['EXISTS', 'nokey'], ['BITFIELD', 'nokey', 'OVERFLOW', 'WRAP'], ['EXISTS', 'nokey'], ['BITFIELD', 'f'],
      ['BITFIELD', 'w', 'SET', 'i64', '0', '-9223372036854775808', 'INCRBY', 'i64', '0', '-1', 'OVERFLOW', 'SAT', 'INCRBY', 'i64', '0', '-1', 'GET', 'u63', '1'],
      ['BITFIELD', 'w', 'SET', 'u8', '100', '-1', 'SET', 'u8', '100', '256', 'OVERFLOW', 'SAT', 'SET', 'u8', '100', '300', 'SET', 'i8', '100', '-200', 'OVERFLOW', 'FAIL', 'SET', 'i4', '100', '8'],
      ['GET', 'w'], ['OBJECT', 'ENCODING', 'w'], ['BITFIELD', 'g', 'GET', 'i8', '4294967288'], ['BITFIELD', 'g', 'GET', 'i8', '4294967296'],
      ['BITFIELD', 'g', 'FOO', 'i8', '0'], ['LPUSH', 'l', 'x'], ['BITFIELD', 'l', 'GET', 'i8', '0'], ['BITFIELD_RO', 'l', 'GET', 'i8', '0'],
      ['BITFIELD', 'l', 'GET', 'x8', '0'], ['BITFIELD', 'i', 'INCRBY', 'u2', '0', '1', 'INCRBY', 'u2', '0', '1', 'INCRBY', 'u2', '0', '1', 'INCRBY', 'u2', '0', '1', 'INCRBY', 'u2', '0', '-5'],
      ['BITFIELD', 'i', 'OVERFLOW', 'SAT', 'INCRBY', 'i5', '3', '100', 'INCRBY', 'i5', '3', '-100', 'OVERFLOW', 'FAIL', 'INCRBY', 'i5', '3', '40'],
      // A write op makes the key raw even when OVERFLOW FAIL writes nothing: a new key, an embstr, an int.
      ['BITFIELD', 'nf', 'OVERFLOW', 'FAIL', 'INCRBY', 'i8', '0', '-9223372036854775808'], ['OBJECT', 'ENCODING', 'nf'], ['GET', 'nf'],
      ['SET', 'ef', 'ab'], ['BITFIELD', 'ef', 'OVERFLOW', 'FAIL', 'INCRBY', 'i8', '0', '1000'], ['OBJECT', 'ENCODING', 'ef'],
      ['SET', 'if', '12'], ['BITFIELD', 'if', 'OVERFLOW', 'FAIL', 'SET', 'i4', '0', '100'], ['OBJECT', 'ENCODING', 'if'], ['GET', 'if'],
      ['SET', 'gf', 'ab'], ['BITFIELD', 'gf', 'GET', 'i8', '0'], ['OBJECT', 'ENCODING', 'gf'],
    ])
  })

  // lookupStringForBitCommand makes or grows the string first; when every write then fails
  // (OVERFLOW FAIL) nothing is signalled: the watch holds and the dirty count stays.
  it('a BITFIELD whose writes all fail makes or grows the key without touching a WATCH or counting a change', async () => {
    // Each server's own count since the start of the test (earlier tests may leave them apart).
    const changes = async (): Promise<number[]> => await Promise.all([pair.f, pair.r].map(async c =>
      Number(/rdb_changes_since_last_save:(\d+)/.exec((await c.command('INFO', 'persistence')).toString('latin1'))?.[1] ?? NaN)))
    await sequence([['SET', 'g', 'ab']])
    const before = await changes()
    await sequence([
      ['WATCH', 'made', 'g'],
      ['BITFIELD', 'made', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '0', '5', 'SET', 'u2', '2', '9'],
      ['BITFIELD', 'g', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '100', '5'],
      ['MULTI'], ['GET', 'made'], ['STRLEN', 'g'], ['EXEC'],
      ['BITFIELD', 'made', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '0', '5', 'INCRBY', 'u2', '0', '1'], ['GET', 'made'],
    ])
    const after = await changes()
    // Only the last BITFIELD changed something, once.
    expect([after[0] - before[0], after[1] - before[1]]).toEqual([1, 1])
  })

  it('random fields and operations', async () => {
    const typ = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 64 })).map(([s, b]) => (s ? `i${b}` : `u${Math.min(b, 63)}`))
    const off = fc.oneof(fc.integer({ min: 0, max: 80 }).map(String), fc.integer({ min: 0, max: 4 }).map(n => `#${n}`))
    const num = fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map(String), fc.integer({ min: -300, max: 300 }).map(String))
    const sub = fc.oneof(
      fc.tuple(typ, off).map(([t, o]) => ['GET', t, o]), fc.tuple(typ, off, num).map(([t, o, v]) => ['SET', t, o, v]),
      fc.tuple(typ, off, num).map(([t, o, v]) => ['INCRBY', t, o, v]), fc.constantFrom(['OVERFLOW', 'WRAP'], ['OVERFLOW', 'SAT'], ['OVERFLOW', 'FAIL']),
    )
    await fc.assert(fc.asyncProperty(fc.array(fc.array(sub, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }), async (calls) => {
      await pipeline([['DEL', 'r'], ...calls.map(c => ['BITFIELD', 'r', ...c.flat()]), ['GET', 'r']])
    }), { numRuns: 80 })
  })
})

describe('BITOP', () => {
  for (const [label, keys] of [['one shard', ['{b}d', '{b}x', '{b}y', '{b}z']], ['across shards', ['bd', 'bx', 'by', 'bz']]] as const) {
    it(`AND, OR, XOR, NOT with missing keys, different lengths, wrong types (${label})`, async () => {
      const [d, x, y, z] = keys
      if (label === 'across shards') expect(new Set([d, x, y].map(k => shardOfKey(k, 4))).size).toBeGreaterThan(1)
      await sequence([
        ['SET', x, Buffer.from([0xf0, 0x0f, 0xaa])], ['SET', y, Buffer.from([0xff])],
        ['BITOP', 'AND', d, x, y], ['GET', d], ['BITOP', 'or', d, x, y], ['GET', d], ['BITOP', 'XOR', d, x, y, 'nokey'], ['GET', d],
        ['BITOP', 'NOT', d, x], ['GET', d], ['OBJECT', 'ENCODING', d], ['BITOP', 'NOT', d, x, y], ['BITOP', 'FOO', d, x], ['BITOP', 'AND', d, 'nokey'],
        ['EXISTS', d], ['BITOP', 'AND', d], ['LPUSH', z, 'l'], ['BITOP', 'OR', d, x, z], ['SET', d, 'keep'], ['BITOP', 'OR', d, 'nokey', 'nokey2'], ['EXISTS', d],
      ])
    })
  }
})
