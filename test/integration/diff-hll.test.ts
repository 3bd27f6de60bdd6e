// Differential tests for the HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE and
// PFDEBUG, with the raw value read back by GET after each step, so that the sparse and dense
// layouts, the promotion between them and the cached cardinality in the header are compared byte
// for byte with a real redis-server 7.0.15. FlashKV runs 4 shards; multi-key commands are run with
// keys on one shard and across shards.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { encodeCommand } from './helpers/raw.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { useSides, steps as sideSteps, on, send, sleep } from './helpers/sides.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sequence, pipeline } = pair
const { A, client } = useSides(pair)

// K[s]: keys on shard s.
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 3, `h${s}:`))

it('test keys land where the test expects', () => {
  expect(K.map(ks => ks.map(k => shardOfKey(k, SHARDS)))).toEqual([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]])
})

const els = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`)

/** CONFIG SET hll-sparse-max-bytes on both for the length of fn, then back to the default. */
async function withSparseMax (bytes: string, fn: () => Promise<void>): Promise<void> {
  expect(await same('CONFIG', 'SET', 'hll-sparse-max-bytes', bytes)).toBe('+OK\r\n')
  try {
    await fn()
  } finally {
    for (const c of [pair.r, pair.f]) expect(text(await c.command('CONFIG', 'SET', 'hll-sparse-max-bytes', '3000'))).toBe('+OK\r\n')
  }
}

describe('PFADD and PFCOUNT of one key', () => {
  it('replies, the sparse value, the cached cardinality after PFCOUNT and its invalidation', async () => {
    await sequence([
      ['PFADD', 'h', 'a', 'b', 'c'], ['GET', 'h'], ['PFCOUNT', 'h'], ['GET', 'h'], ['PFCOUNT', 'h'], ['PFADD', 'h', 'a', 'b'], ['GET', 'h'],
      ['PFADD', 'h', 'd'], ['GET', 'h'], ['PFCOUNT', 'h'], ['GET', 'h'], ['OBJECT', 'ENCODING', 'h'], ['STRLEN', 'h'],
      ['PFADD', 'e'], ['GET', 'e'], ['PFADD', 'e'], ['PFCOUNT', 'e'], ['GET', 'e'], ['PFCOUNT', 'nokey'], ['EXISTS', 'nokey'],
      ['PFADD', 'x', ''], ['GET', 'x'], ['PFADD', 'x', 'a'.repeat(100), 'b'.repeat(7), 'c'.repeat(9), '\x00\xff'], ['GET', 'x'], ['PFCOUNT', 'x'],
      ['PFADD'], ['PFCOUNT'], ['PFMERGE'], ['PFDEBUG', 'encoding'], ['PFDEBUG', 'encoding', 'h', 'x'],
    ])
  })

  it('a TTL survives PFADD and PFCOUNT; OBJECT ENCODING of a copied HLL turns raw', async () => {
    await sequence([['PFADD', 'h', 'a'], ['EXPIRE', 'h', '1000'], ['PFADD', 'h', 'b'], ['PFCOUNT', 'h'], ['TTL', 'h']])
    const v = await pair.r.command('GET', 'h')
    const bytes = v.subarray(v.indexOf(10) + 1, v.length - 2)
    await sequence([['SET', 'c', bytes], ['OBJECT', 'ENCODING', 'c'], ['PFCOUNT', 'c'], ['OBJECT', 'ENCODING', 'c'],
      ['SET', 'd', bytes], ['PFCOUNT', 'd', 'c'], ['OBJECT', 'ENCODING', 'd'], ['PFADD', 'd'], ['OBJECT', 'ENCODING', 'd'], ['GET', 'd']])
  })

  it('sparse to dense at the default hll-sparse-max-bytes, step by step', async () => {
    for (let i = 0; i < 3000; i += 150) {
      await pipeline([['PFADD', 'h', ...els('e', i, i + 150)], ['GET', 'h'], ['PFDEBUG', 'ENCODING', 'h'], ['PFCOUNT', 'h'], ['GET', 'h']])
    }
  })

  it('every element one at a time across the promotion: replies and values', async () => {
    const cmds: Arg[][] = []
    for (let i = 0; i < 1600; i++) cmds.push(['PFADD', 'h', `x${i}`])
    await pipeline(cmds)
    await sequence([['GET', 'h'], ['PFCOUNT', 'h'], ['GET', 'h']])
  })

  it('a small hll-sparse-max-bytes promotes early; CONFIG GET and SET', async () => {
    await sequence([['CONFIG', 'GET', 'hll-sparse-max-bytes'], ['CONFIG', 'SET', 'hll-sparse-max-bytes', 'x'], ['CONFIG', 'SET', 'hll-sparse-max-bytes', '-1'],
      ['CONFIG', 'GET', 'hll-sparse-max-bytes']])
    await withSparseMax('40', async () => {
      await sequence([['CONFIG', 'GET', 'hll-sparse-max-bytes']])
      for (let i = 0; i < 12; i++) await sequence([['PFADD', 'h', `s${i}`], ['GET', 'h']])
      await sequence([['PFADD', 'z'], ['GET', 'z']])
    })
    await withSparseMax('1kb', async () => {
      await sequence([['CONFIG', 'GET', 'hll-sparse-max-bytes']])
      for (let i = 0; i < 800; i += 40) await sequence([['PFADD', 'k', ...els('k', i, i + 40)], ['GET', 'k']])
    })
    await withSparseMax('0', async () => {
      await sequence([['PFADD', 'y'], ['GET', 'y'], ['PFADD', 'y', 'a'], ['GET', 'y']])
    })
  })

  it('20000 elements: the count and the dense value equal Redis\'s', async () => {
    for (let i = 0; i < 20000; i += 2000) await pipeline([['PFADD', 'big', ...els('big-element-', i, i + 2000)], ['PFCOUNT', 'big']])
    await sequence([['GET', 'big'], ['PFCOUNT', 'big']])
  })

  it('counts at many cardinalities', async () => {
    const cmds: Arg[][] = []
    for (let n = 1, i = 0; n < 60000; n = Math.ceil(n * 1.7)) {
      cmds.push(['PFADD', 'c', ...els('', i, n)], ['PFCOUNT', 'c'])
      i = n
    }
    await pipeline(cmds)
  })
})

describe('several keys: PFCOUNT and PFMERGE', () => {
  const layouts = [['one shard', K[0][0], K[0][1], K[0][2], K[0][0] + 'x'], ['across shards', K[0][0], K[1][0], K[2][0], K[3][0]]] as const
  for (const [label, a, b, c, d] of layouts) {
    it(`union counts, merges into a missing, sparse or dense destination, missing sources (${label})`, async () => {
      await sequence([
        ['PFADD', a, ...els('a', 0, 50)], ['PFADD', b, ...els('a', 25, 80)], ['PFCOUNT', a, b], ['PFCOUNT', a, b, 'nokey'], ['PFCOUNT', 'nokey', 'nokey2'],
        ['GET', a], ['GET', b], ['PFMERGE', c, a, b], ['GET', c], ['PFCOUNT', c], ['GET', c], ['PFMERGE', c], ['GET', c],
        ['PFMERGE', d, 'nokey'], ['GET', d], ['EXISTS', d], ['PFMERGE', d, d], ['GET', d],
        ['PFADD', d, ...els('d', 0, 3000)], ['GET', d], ['PFCOUNT', a, d], ['PFCOUNT', d, a, b, c],
        ['PFMERGE', a, d], ['GET', a], ['PFMERGE', b, c, 'nokey'], ['GET', b], ['PFMERGE', c, b, d], ['GET', c], ['PFCOUNT', c],
        ['DEL', c], ['PFMERGE', c, a], ['GET', c], ['OBJECT', 'ENCODING', c],
      ])
    })

    it(`errors in argument order: wrong type, not an HLL, corrupt (${label})`, async () => {
      await sequence([
        ['PFADD', a, 'x', 'y'], ['RPUSH', b, 'l'], ['SET', c, 'plain string'], ['PFCOUNT', a, b], ['PFCOUNT', a, c], ['PFCOUNT', c, b],
        ['PFMERGE', d, a, b], ['EXISTS', d], ['PFMERGE', d, c], ['PFMERGE', b, a], ['PFMERGE', c, a], ['EXISTS', d],
        ['SET', c, Buffer.concat([Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.from([0x7f, 0xfe])])],
        ['PFCOUNT', a, c], ['PFMERGE', d, a, c], ['EXISTS', d], ['PFCOUNT', c], ['PFADD', c, 'a'], ['GET', c],
      ])
    })
  }

  it('a merge of sparse sources whose union passes hll-sparse-max-bytes turns dense', async () => {
    const [a, b, c] = [K[1][0], K[2][0], K[3][0]]
    await withSparseMax('60', async () => {
      await sequence([['PFADD', a, ...els('p', 0, 10)], ['PFADD', b, ...els('q', 0, 10)], ['GET', a], ['GET', b], ['PFMERGE', c, a, b], ['GET', c],
        ['PFMERGE', K[1][1], a], ['GET', K[1][1]]])
    })
  })
})

describe('values that are not HyperLogLogs', () => {
  it('WRONGTYPE for other types and for strings that are not HLLs; INVALIDOBJ for corrupt sparse HLLs', async () => {
    const hdr = (enc: number): Buffer => Buffer.concat([Buffer.from('HYLL', 'latin1'), Buffer.from([enc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])])
    await sequence([
      ['RPUSH', 'l', 'a'], ['PFADD', 'l', 'a'], ['PFCOUNT', 'l'], ['PFMERGE', 'l', 'l'], ['PFDEBUG', 'GETREG', 'l'],
      ['SET', 's', 'hello'], ['PFADD', 's', 'a'], ['PFCOUNT', 's'], ['PFDEBUG', 'ENCODING', 's'], ['SET', 'n', '12345'], ['PFADD', 'n', 'a'],
      ['SET', 'hd', hdr(1)], ['PFCOUNT', 'hd'], ['PFADD', 'hd', 'a'], ['GET', 'hd'],
      ['SET', 'enc', Buffer.concat([hdr(2), Buffer.from([0x7f, 0xff])])], ['PFCOUNT', 'enc'], ['PFADD', 'enc', 'a'],
      ['SET', 'short', 'HYLL\x01\x00\x00'], ['PFCOUNT', 'short'],
      ['SET', 'dense', Buffer.concat([hdr(0), Buffer.alloc(100)])], ['PFCOUNT', 'dense'], ['PFADD', 'dense', 'x'],
      ['SET', 'dense', Buffer.concat([hdr(0), Buffer.alloc(12288)])], ['PFCOUNT', 'dense'], ['PFADD', 'dense', 'x'], ['GET', 'dense'],
    ])
  })

  it('corrupt sparse HLLs as Redis\'s tests make them: tail bytes, broken magic, bad encoding, dense of the wrong length', async () => {
    await sequence([
      ['PFADD', 'h', 'a', 'b', 'c'], ['APPEND', 'h', 'hello'], ['PFCOUNT', 'h'], ['PFADD', 'h', 'zzz'], ['GET', 'h'],
      ['DEL', 'h'], ['PFADD', 'h', 'a', 'b', 'c'], ['SETRANGE', 'h', '0', '0123'], ['PFCOUNT', 'h'],
      ['DEL', 'h'], ['PFADD', 'h', 'a', 'b', 'c'], ['SETRANGE', 'h', '4', 'x'], ['PFCOUNT', 'h'],
      ['DEL', 'h'], ['PFADD', 'h', 'a', 'b', 'c'], ['SETRANGE', 'h', '4', '\x00'], ['PFCOUNT', 'h'], ['PFADD', 'h', 'q'],
      ['DEL', 'h'], ['PFADD', 'h', ...els('w', 0, 20)], ['PFCOUNT', 'h'], ['SETRANGE', 'h', '16', '\x00\x01'], ['PFCOUNT', 'h'], ['GET', 'h'],
      ['SETRANGE', 'h', '15', '\x00'], ['PFCOUNT', 'h'], ['GET', 'h'],
    ])
  })

  it('random corruptions of sparse and dense HLLs: every command answers as Redis does', async () => {
    await sequence([['PFADD', 'base', ...els('f', 0, 120)], ['PFADD', 'dn', ...els('g', 0, 4000)]])
    const get = async (k: string): Promise<Buffer> => { const v = await pair.r.command('GET', k); return v.subarray(v.indexOf(10) + 1, v.length - 2) }
    const sparse = await get('base')
    const dense = await get('dn')
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat({ max: 6 }),
      fc.array(fc.string({ maxLength: 3 }), { maxLength: 6 }), async (isSparse, edits, cut, adds) => {
        const v = Buffer.from(isSparse ? sparse : dense)
        for (const [at, b] of edits) v[16 + (at % (v.length - 16))] = b
        const val = isSparse && cut > 0 ? v.subarray(0, v.length - cut) : v
        await pipeline([['SET', 'c', val], ['PFCOUNT', 'c'], ['GET', 'c'], ['SET', 'c2', val], ['PFADD', 'c2', ...adds], ['GET', 'c2'],
          ['PFCOUNT', 'base', 'c'], ['PFMERGE', 'm', 'c'], ['GET', 'm'], ['SET', 'c3', val], ['PFDEBUG', 'TODENSE', 'c3'], ['GET', 'c3'], ['DEL', 'm']])
      }), { numRuns: 80 })
  })
})

describe('sparse values Redis would never write itself', () => {
  // Any opcode stream: runs of zeros split anywhere, XZERO for short runs, VAL runs that could
  // have been merged. Filled with zeros up to 16384 registers unless `isShort`.
  const op = fc.oneof(
    fc.integer({ min: 1, max: 64 }).map(n => [n - 1]),
    fc.integer({ min: 1, max: 700 }).map(n => [0x40 | ((n - 1) >> 8), (n - 1) & 0xff]),
    fc.tuple(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 4 })).map(([v, n]) => [0x80 | ((v - 1) << 2) | (n - 1)]),
  )
  const runOf = (b: number[]): number => (b[0] & 0xc0) === 0 ? (b[0] & 0x3f) + 1 : (b[0] & 0xc0) === 0x40 ? (((b[0] & 0x3f) << 8) | b[1]) + 1 : (b[0] & 3) + 1
  it('PFADD, PFCOUNT, PFMERGE and PFDEBUG on them answer and write as Redis does', async () => {
    await withSparseMax('3000', async () => await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.boolean(), fc.array(fc.string({ maxLength: 4 }), { maxLength: 30 }),
      fc.constantFrom('3000', '200'), async (ops, isShort, adds, maxBytes) => {
        const bytes: number[] = []
        let total = 0
        for (const o of ops) {
          if (total + runOf(o) > 16384) break
          bytes.push(...o)
          total += runOf(o)
        }
        for (let left = 16384 - total - (isShort ? 1 : 0); left > 0; left -= Math.min(left, 16384)) {
          const n = Math.min(left, 16384)
          bytes.push(0x40 | ((n - 1) >> 8), (n - 1) & 0xff)
        }
        const v = Buffer.concat([Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.from(bytes)])
        for (const c of [pair.r, pair.f]) expect(text(await c.command('CONFIG', 'SET', 'hll-sparse-max-bytes', maxBytes))).toBe('+OK\r\n')
        await pipeline([['SET', 's', v], ['PFCOUNT', 's'], ['GET', 's'], ['PFADD', 's', ...adds], ['GET', 's'], ['PFCOUNT', 's'],
          ['SET', 't', v], ['PFMERGE', 'm', 't', 'nokey'], ['GET', 'm'], ['PFMERGE', 't', 's'], ['GET', 't'], ['PFCOUNT', 's', 't', 'm'],
          ['SET', 'u', v], ['PFDEBUG', 'DECODE', 'u'], ['PFDEBUG', 'GETREG', 'u'], ['GET', 'u'], ['DEL', 's', 't', 'm', 'u']])
      }), { numRuns: 100 }))
  })
})

describe('PFDEBUG', () => {
  it('GETREG, DECODE, ENCODING, TODENSE; unknown subcommand; missing key', async () => {
    await sequence([
      ['PFADD', 'h', 'a', 'b', 'c', 'd'], ['PFDEBUG', 'DECODE', 'h'], ['PFDEBUG', 'encoding', 'h'], ['PFDEBUG', 'GETREG', 'h'], ['GET', 'h'],
      ['PFDEBUG', 'ENCODING', 'h'], ['PFDEBUG', 'DECODE', 'h'], ['PFDEBUG', 'TODENSE', 'h'], ['PFADD', 'g', 'x'], ['PFDEBUG', 'TODENSE', 'g'], ['GET', 'g'],
      ['PFDEBUG', 'FOO', 'h'], ['PFDEBUG', 'FOO', 'nokey'], ['PFDEBUG', 'GETREG', 'nokey'], ['PFADD', 'e'], ['PFDEBUG', 'DECODE', 'e'],
      ['PFDEBUG', 'Decode', 'e'],
    ])
  })

  it('PFSELFTEST passes; arity', async () => {
    // The self-test takes about a second of shard 0 (seconds on a loaded box): its reply is
    // awaited without the harness's usual 5 s bound.
    const cmd = encodeCommand(['pfselftest'])
    pair.f.send(cmd)
    pair.r.send(cmd)
    const [[a], [b]] = await Promise.all([pair.f.readReplies(1, 120_000), pair.r.readReplies(1, 120_000)])
    expect(text(a)).toBe(text(b))
    expect(text(a)).toBe('+OK\r\n')
    await sequence([['PFSELFTEST', 'x']])
  })
})

describe('MULTI', () => {
  it('PF commands queued with keys on several shards, errors inside EXEC', async () => {
    const [a, b, c] = [K[1][0], K[2][0], K[3][0]]
    await sequence([
      ['MULTI'], ['PFADD', a, 'x', 'y'], ['PFADD', b, 'y', 'z'], ['PFCOUNT', a, b], ['PFMERGE', c, a, b], ['PFCOUNT', c], ['GET', c],
      ['RPUSH', 'l', 'v'], ['PFCOUNT', a, 'l'], ['PFADD', 'l', 'x'], ['PFMERGE', c, 'l'], ['GET', c], ['PFCOUNT', c], ['EXEC'], ['GET', c],
      ['MULTI'], ['PFADD'], ['EXEC'],
    ])
  })
})

describe('WATCH', () => {
  it('PFADD that changes nothing and PFCOUNT from the cache leave a watched key alone; PFCOUNT that fills the cache, PFADD and PFMERGE touch it', async () => {
    const B = await client()
    const [h, src, src2, dst] = [K[0][0], K[0][1], K[0][2], K[1][0]]
    const tx = (...first: Array<[typeof A, ...string[]]>): Array<[typeof A, ...string[]]> =>
      [[A, 'WATCH', h, src, src2], ...first, [A, 'MULTI'], [A, 'PING'], [A, 'EXEC']]
    await sideSteps([[A, 'PFADD', h, 'a'], [A, 'PFADD', src, 'b'], [A, 'PFADD', src2, 'c']])
    for (const step of [[B, 'PFCOUNT', h], [B, 'PFCOUNT', h], [B, 'PFADD', h, 'a'], [B, 'PFADD', h, 'zz'], [B, 'PFCOUNT', h, src],
      [B, 'PFMERGE', dst, src, src2], [B, 'PFMERGE', h, src], [B, 'PFMERGE', K[0][0] + 'x', src, src2]] as Array<[typeof A, ...string[]]>) {
      await sideSteps(tx(step))
    }
  })
})

describe('CLIENT PAUSE WRITE', () => {
  it('holds PFCOUNT (it may write the cache), like PFADD; GET goes through', async () => {
    const B = await client('B')
    await on(A, 'PFADD', 'h', 'a', 'b')
    await on(A, 'CLIENT', 'PAUSE', '100000', 'WRITE')
    send(B, 'PFCOUNT', 'h')
    await sleep(50)
    await on(A, 'GET', 'h') // the cache is still stale: PFCOUNT waits
    await on(A, 'CLIENT', 'UNPAUSE')
    const [fb, rb] = await Promise.all([B.f.readReplies(1), B.r.readReplies(1)])
    expect(text(fb[0])).toBe(text(rb[0]))
    await on(A, 'GET', 'h')
  })
})

describe('random sequences', () => {
  it('PFADD, PFCOUNT, PFMERGE and GET over keys on every shard', async () => {
    const keys = [K[0][0], K[0][1], K[1][0], K[2][0], K[3][0]]
    const key = fc.constantFrom(...keys)
    const cmd = fc.oneof(
      fc.tuple(key, fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 40 })).map(([k, xs]): Arg[] => ['PFADD', k, ...xs.map(String)]),
      fc.array(key, { minLength: 1, maxLength: 4 }).map((ks): Arg[] => ['PFCOUNT', ...ks]),
      fc.array(key, { minLength: 1, maxLength: 4 }).map((ks): Arg[] => ['PFMERGE', ...ks]),
      key.map((k): Arg[] => ['GET', k]),
    )
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 25 }), async (cmds) => {
      await pipeline([...cmds, ...keys.map((k): Arg[] => ['GET', k]), ['DEL', ...keys.slice(0, 2)], ['DEL', ...keys.slice(2, 3)], ['DEL', keys[3]], ['DEL', keys[4]]])
    }), { numRuns: 60 })
  })
})
