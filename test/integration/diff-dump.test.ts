// DUMP and RESTORE against a real redis-server 7.0.15 (FlashKV with 4 shards): the payload bytes
// where Redis's are deterministic (strings, integer and LZF encodings, HyperLogLogs, listpacks,
// intsets, quicklists filled from the tail, skiplists, streams without groups), round trips both ways for every type and
// encoding, the encodings a restored value takes, and RESTORE's options and errors in Redis's order.
import { describe, expect, it } from 'vitest'
import { useDiffPair, text, ttlSign, type Arg } from './helpers/diff.js'
import { crc64 } from '../../src/persistence/crc64.js'

const pair = useDiffPair({ shards: 4 })

/** The bytes of a bulk reply (null for a null bulk). */
function bulk (reply: Buffer): Buffer | null {
  const nl = reply.indexOf('\r\n')
  const n = Number(reply.toString('latin1', 1, nl))
  expect(reply[0], text(reply)).toBe(36)
  return n < 0 ? null : reply.subarray(nl + 2, nl + 2 + n)
}

/** Runs the same writes on both servers. */
async function load (cmds: Arg[][]): Promise<void> {
  for (const c of cmds) await pair.same(...c)
}

/** DUMP of key on both servers, expected byte for byte equal; Redis's payload. */
async function sameDump (key: string): Promise<Buffer | null> {
  const [a, b] = await Promise.all([pair.f.command('DUMP', key), pair.r.command('DUMP', key)])
  const mine = bulk(a)
  const theirs = bulk(b)
  expect(mine?.toString('hex'), `DUMP ${key}`).toBe(theirs?.toString('hex'))
  return theirs
}

const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i))
const rnd = (n: number, seed: number): string => {
  let x = seed
  let s = ''
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; s += String.fromCharCode(33 + (x % 90)) }
  return s
}

/** Reads that show a whole value, whatever its type (hashtable orders sorted). */
async function sameValue (key: string): Promise<void> {
  const sorted = (s: string): string => s.split('\r\n').slice(1).sort().join('|')
  await pair.same('TYPE', key)
  await pair.same('OBJECT', 'ENCODING', key)
  await pair.same('GET', key).catch(() => {})
  await pair.same('LRANGE', key, '0', '-1')
  await pair.sameNormalized(sorted, 'HGETALL', key)
  await pair.sameNormalized(sorted, 'SMEMBERS', key)
  await pair.same('ZRANGE', key, '0', '-1', 'WITHSCORES')
}

describe('DUMP: the same bytes as Redis', () => {
  it('strings: integers in 8, 16 and 32 bits, longer integers as text, LZF past 20 bytes when it saves, HyperLogLogs', async () => {
    const values = ['', 'a', '0', '-1', '127', '-128', '128', '-32768', '32767', '32768', '2147483647', '-2147483648', '2147483648',
      '9223372036854775807', '-9223372036854775808', '007', '-0', '+1', '1.5', 'x'.repeat(20), 'x'.repeat(21), 'abcabcabcabcabcabcabcabc',
      rnd(21, 1), rnd(100, 2), rnd(1000, 3), 'ab'.repeat(3000), rnd(20000, 4).replace(/[a-m]/g, 'z')]
    for (let i = 0; i < values.length; i++) await load([['SET', `s${i}`, values[i]]])
    await load([['PFADD', 'hs', 'a', 'b', 'c'], ['PFADD', 'hd', ...range(3000, i => `m${i}`)], ['APPEND', 'ap', '12'], ['SETRANGE', 'sr', '0', '12']])
    for (let i = 0; i < values.length; i++) await sameDump(`s${i}`)
    for (const k of ['hs', 'hd', 'ap', 'sr']) await sameDump(k)
    expect(await sameDump('missing')).toBe(null)
  })

  it('lists: listpack entries of every integer width and string length, and quicklist nodes of 8 KB filled from the tail', async () => {
    await load([['RPUSH', 'l1', '0', '127', '128', '-1', '4095', '-4096', '4096', '32767', '-32769', '8388607', '-8388609', '2147483647', '-2147483649',
      '9223372036854775807', '-0', '01', 'a', 'x'.repeat(63), 'x'.repeat(64), 'y'.repeat(4095), 'z'.repeat(4096), rnd(300, 5)]])
    await load([['RPUSH', 'l2', ...range(3000, i => `element-${i}`)]])
    await load([['RPUSH', 'l3', ...range(50, i => rnd(500 + i, i))]])
    for (const k of ['l1', 'l2', 'l3']) await sameDump(k)
  })

  it('small hashes and sorted sets as listpacks, intsets of each width, big sorted sets as skiplists', async () => {
    await load([
      ['HSET', 'h', 'f', 'v', 'n', '12', 'neg', '-7000', 'long', 'w'.repeat(60)],
      ['ZADD', 'z', '1', 'a', '2.5', 'b', '-inf', 'c', '+inf', 'd', '1e100', 'e', '-0.000001', 'f', '3', '100'],
      ['SADD', 'i16', '1', '-5', '300'], ['SADD', 'i32', '1', '70000', '-70000'], ['SADD', 'i64', '5', '9007199254740993', '-9223372036854775808'],
      ['ZADD', 'zs', ...range(200, i => [String(i * 1.25), `member${i}`]).flat()],
    ])
    for (const k of ['h', 'z', 'i16', 'i32', 'i64', 'zs']) await sameDump(k)
  })
})

describe('streams', () => {
  const build: Arg[][] = [
    ['XADD', 'x', '1-1', 'a', '1', 'b', '2'], ['XADD', 'x', '1-2', 'a', '3', 'b', '4'], ['XADD', 'x', '5-0', 'c', 'x'], ['XADD', 'x', '6-0', 'a', '1', 'b', '2'],
    ['XDEL', 'x', '1-2'], ...range(250, i => ['XADD', 'x', `${10 + i}-${i % 3}`, 'field', `v${i}`, ...(i % 7 === 0 ? ['other', rnd(40, i)] : [])]),
    ['XDEL', 'x', '20-1', '21-2'], ['XADD', 'x', '18446744073709551615-18446744073709551614', 'big', 'id'],
  ]

  it('DUMP without groups: the same bytes (nodes, master entries, deltas, deleted entries, ids past 2^53)', async () => {
    await load(build)
    await sameDump('x')
    await load([['XADD', 'e', 'MAXLEN', '0', '1-0', 'a', 'b']])
    await sameDump('e')
  })

  it('with groups, consumers and pending entries: round trips both ways, XINFO STREAM FULL equal', async () => {
    await load([...build, ['XGROUP', 'CREATE', 'x', 'g1', '0'], ['XGROUP', 'CREATE', 'x', 'g2', '$'], ['XGROUP', 'CREATECONSUMER', 'x', 'g2', 'idle']])
    await pair.f.command('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '5', 'STREAMS', 'x', '>')
    await pair.r.command('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '5', 'STREAMS', 'x', '>')
    await pair.f.command('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '3', 'STREAMS', 'x', '>')
    await pair.r.command('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '3', 'STREAMS', 'x', '>')
    await load([['XACK', 'x', 'g1', '5-0'], ['XSETID', 'x', '18446744073709551615-18446744073709551615', 'ENTRIESADDED', '9000', 'MAXDELETEDID', '30-0']])
    const theirs = bulk(await pair.r.command('DUMP', 'x')) as Buffer
    const mine = bulk(await pair.f.command('DUMP', 'x')) as Buffer
    for (const [k, d] of [['from-redis', theirs], ['from-flashkv', mine]] as const) {
      await pair.same('RESTORE', k, '0', d)
      await pair.same('XINFO', 'STREAM', k, 'FULL')
      await pair.same('XRANGE', k, '-', '+')
      await pair.same('XINFO', 'GROUPS', k)
      await pair.same('XPENDING', k, 'g1')
      await pair.same('XREADGROUP', 'GROUP', 'g1', 'carol', 'COUNT', '2', 'STREAMS', k, '>')
    }
  })
})

describe('RESTORE', () => {
  it('round trips both ways for every type and encoding, across shards', async () => {
    await load([
      ['SET', 'str', rnd(500, 9)], ['SET', 'int', '-99'], ['RPUSH', 'list', ...range(2000, i => `e${i}`)], ['LPUSH', 'lpl', ...range(2000, i => `e${i}`)],
      ['HSET', 'hsmall', 'a', '1'], ['HSET', 'hbig', ...range(300, i => [`f${i}`, `v${i}`]).flat()],
      ['SADD', 'ssmall', '1', '2'], ['SADD', 'sbig', ...range(600, i => String(i))], ['SADD', 'sstr', 'a', 'b', 'c'],
      ['ZADD', 'zsmall', '1', 'a'], ['ZADD', 'zbig', ...range(300, i => [String(i % 17), `m${i}`]).flat()],
      ['PFADD', 'hll', 'x', 'y'],
    ])
    const keys = ['str', 'int', 'list', 'lpl', 'hsmall', 'hbig', 'ssmall', 'sbig', 'sstr', 'zsmall', 'zbig', 'hll']
    for (const k of keys) {
      // Redis's payload into both, then FlashKV's payload into both.
      const theirs = bulk(await pair.r.command('DUMP', k)) as Buffer
      const mine = bulk(await pair.f.command('DUMP', k)) as Buffer
      await pair.same('RESTORE', `${k}:from-redis`, '0', theirs)
      await pair.same('RESTORE', `${k}:from-flashkv`, '0', mine)
      await sameValue(`${k}:from-redis`)
      await sameValue(`${k}:from-flashkv`)
    }
    await pair.same('DBSIZE')
  })

  it('a restored value takes the encoding the thresholds give it', async () => {
    await load([['HSET', 'h', 'a', '1', 'b', '2', 'c', '3'], ['SADD', 's', '1', '2', '3'], ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['SADD', 'm', '1', 'x']])
    const dumps = new Map<string, Buffer>()
    for (const k of ['h', 's', 'z', 'm']) dumps.set(k, bulk(await pair.r.command('DUMP', k)) as Buffer)
    for (const c of [pair.r, pair.f]) {
      for (const [p, v] of [['hash-max-listpack-entries', '2'], ['set-max-intset-entries', '2'], ['zset-max-listpack-entries', '2']]) await c.command('CONFIG', 'SET', p, v)
    }
    try {
      for (const [k, d] of dumps) {
        await pair.same('RESTORE', `${k}2`, '0', d)
        await pair.same('OBJECT', 'ENCODING', `${k}2`)
      }
    } finally {
      for (const c of [pair.r, pair.f]) {
        for (const [p, v] of [['hash-max-listpack-entries', '128'], ['set-max-intset-entries', '512'], ['zset-max-listpack-entries', '128']]) await c.command('CONFIG', 'SET', p, v)
      }
    }
  })

  it('a listpack payload converts on its entry count only, not on the length of its items', async () => {
    await load([['HSET', 'h', 'long-field', '1', 'b', 'long-value'], ['ZADD', 'z', '1', 'long-member', '2', 'b'], ['ZADD', 'big', ...range(200, i => [String(i), `m${i}`]).flat()]])
    const dumps = new Map<string, Buffer>()
    for (const k of ['h', 'z', 'big']) dumps.set(k, bulk(await pair.r.command('DUMP', k)) as Buffer)
    const limits = async (hash: string, zset: string): Promise<void> => {
      for (const c of [pair.r, pair.f]) {
        await c.command('CONFIG', 'SET', 'hash-max-listpack-value', hash)
        await c.command('CONFIG', 'SET', 'zset-max-listpack-value', zset)
      }
    }
    await limits('3', '3')
    try {
      // h and z are listpacks with items past the value limit: they stay listpacks. big is a
      // skiplist past the entry limit, and z3 one with a member past the value limit: skiplists.
      for (const [k, d] of dumps) {
        await pair.same('RESTORE', `${k}2`, '0', d)
        await pair.same('OBJECT', 'ENCODING', `${k}2`)
      }
      await pair.same('ZADD', 'z3', '1', 'abcdef')
      await pair.same('DUMP', 'z3')
      await pair.same('RESTORE', 'z4', '0', bulk(await pair.r.command('DUMP', 'z3')) as Buffer)
      await pair.same('OBJECT', 'ENCODING', 'z4')
    } finally {
      await limits('64', '64')
    }
  })

  it('TTL, ABSTTL, REPLACE, IDLETIME and FREQ, and every error in Redis\'s order', async () => {
    await load([['SET', 'src', 'value'], ['SET', 'busy', 'x']])
    const d = bulk(await pair.r.command('DUMP', 'src')) as Buffer
    const wrongCrc = Buffer.from(d)
    wrongCrc[wrongCrc.length - 1] ^= 1
    const newer = Buffer.from(d)
    newer.writeUInt16LE(11, newer.length - 10)
    newer.writeBigUInt64LE(crc64(newer, 0, newer.length - 8), newer.length - 8)
    const unknownType = Buffer.from([99, 0, 10, 0])
    const unknown = Buffer.concat([unknownType, Buffer.alloc(8)])
    unknown.writeBigUInt64LE(crc64(unknown, 0, unknown.length - 8), unknown.length - 8)
    const trailing = Buffer.concat([d.subarray(0, d.length - 10), Buffer.from([0]), d.subarray(d.length - 10)])
    trailing.writeBigUInt64LE(crc64(trailing, 0, trailing.length - 8), trailing.length - 8)
    await pair.sequence([
      ['RESTORE', 'busy', '0', d], ['RESTORE', 'busy', 'x', d, 'REPLACE'], ['RESTORE', 'k', '-1', d], ['RESTORE', 'k', 'abc', d],
      ['RESTORE', 'k', '0', wrongCrc], ['RESTORE', 'k', '0', 'short'], ['RESTORE', 'k', '0', ''], ['RESTORE', 'k', '0', newer],
      ['RESTORE', 'k', '0', unknown], ['RESTORE', 'k', '0', trailing],
      ['RESTORE', 'k', '0', d, 'BOGUS'], ['RESTORE', 'k', '0', d, 'IDLETIME'], ['RESTORE', 'k', '0', d, 'IDLETIME', '-1'],
      ['RESTORE', 'k', '0', d, 'IDLETIME', 'x'], ['RESTORE', 'k', '0', d, 'FREQ', '256'], ['RESTORE', 'k', '0', d, 'FREQ', '-1'],
      ['RESTORE', 'k', '0', d, 'IDLETIME', '1', 'FREQ', '1'], ['RESTORE', 'k', '0', d, 'FREQ', '1', 'IDLETIME', '1'],
      ['RESTORE', 'busy', '-1', d, 'BOGUS'], ['RESTORE', 'busy', '0', d, 'REPLACE', 'IDLETIME', '5'], ['GET', 'busy'],
      ['RESTORE', 'f', '0', d, 'FREQ', '100'], ['GET', 'f'],
      ['RESTORE', 'past', '1', d, 'ABSTTL'], ['EXISTS', 'past'], ['RESTORE', 'busy', '1', d, 'ABSTTL', 'REPLACE'], ['EXISTS', 'busy'],
      ['RESTORE', 'k', '0', d], ['TTL', 'k'], ['RESTORE', 'k', '0', d], ['DUMP', 'nosuch'],
    ])
    await pair.same('RESTORE', 't', '100000', d)
    await pair.sameNormalized(ttlSign, 'TTL', 't')
    await pair.same('RESTORE', 'abs', String(Date.now() + 100000), d, 'ABSTTL')
    await pair.sameNormalized(ttlSign, 'TTL', 'abs')
    await pair.same('DUMP')
    await pair.same('RESTORE', 'k', '0')
  })
})
