// Differential tests for the stream commands (t_stream.c): the same bytes go to a real
// redis-server 7.0.15 and to FlashKV (4 shards), and the replies must be identical, RESP2 and
// RESP3. Ids are explicit wherever a reply would show the clock; where `*` is used, the generated
// ids are compared by shape. Both servers open a new node every 4 entries (FlashKV's
// FLASHKV_STREAM_NODE_ENTRIES, Redis's stream-node-max-entries), so XTRIM ~ and XINFO's node counts
// are checked across many node boundaries. Idle times are clock-dependent and are normalised.
import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS, env: { FLASHKV_STREAM_NODE_ENTRIES: '4' } })
const { same, sequence, pipeline, sameNormalized } = pair

beforeEach(async () => {
  expect(text(await pair.r.command('CONFIG', 'SET', 'stream-node-max-entries', '4'))).toBe('+OK\r\n')
})

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

// Keys on every shard: K[s] lives on shard s.
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `st${s}:`)[0])

it('test keys land where the test expects', () => {
  expect(K.map(k => shardOfKey(k, SHARDS))).toEqual([0, 1, 2, 3])
})

/** A generated id ("<ms>-<seq>") in a reply, replaced by its shape. */
const genIds = (s: string): string => s.replace(/\$\d+\r\n\d{13}-\d+\r\n/g, '<id>')

describe('XADD', () => {
  it('explicit, partial and generated ids, and their errors', async () => {
    await sequence([
      ['XADD', 's', '1-1', 'a', '1', 'b', '2'], ['XADD', 's', '1-1', 'a', '1'], ['XADD', 's', '1-0', 'a', '1'], ['XADD', 's', '1-*', 'a', '1'],
      ['XADD', 's', '1-*', 'f', 'v'], ['XADD', 's', '0-*', 'a', '1'], ['XADD', 's', '2', 'c', '3'], ['XADD', 's', '3-*', 'x', 'y'],
      ['XADD', 's', '0-0', 'a', '1'], ['XADD', 'new', '0-0', 'a', '1'], ['EXISTS', 'new'], ['XADD', 'new', '0-*', 'a', '1'], ['XADD', 'new', '0-1', 'a', '1'],
      ['XADD', 's', '5-18446744073709551615', 'a', '1'], ['XADD', 's', '5-*', 'a', '1'], ['XADD', 's', '18446744073709551615-18446744073709551614', 'a', '1'],
      ['XADD', 's', '18446744073709551615-*', 'a', '1'], ['XADD', 's', '*', 'a', '1'], ['XADD', 's', '18446744073709551615-*', 'a', '1'],
      ['XRANGE', 's', '-', '+'], ['XLEN', 's'],
      ['XADD', 'w', '01-+5', 'a', '1'], ['XADD', 'w', '2- -5', 'a', '1'], ['XADD', 'w', ' -5', 'a', '1'], ['XADD', 'w', '3-', 'a', '1'], ['XADD', 'w', '-3', 'a', '1'],
      ['XADD', 'w', '4-x', 'a', '1'], ['XADD', 'w', '18446744073709551616-1', 'a', '1'], ['XADD', 'w', '5-18446744073709551616', 'a', '1'], ['XADD', 'w', '-', 'a', '1'],
      ['XADD', 'w', '+', 'a', '1'], ['XADD', 'w', '6-*-1', 'a', '1'], ['XADD', 'w', 'x'.repeat(130), 'a', '1'], ['XADD', 'w', '7-7\x00x', 'a', '1'], ['XRANGE', 'w', '-', '+'],
      ['XADD', 'w', '8-0'], ['XADD', 'w', '8-0', 'a'], ['XADD', 'w', '8-0', 'a', '1', 'b'], ['XADD', 'w', 'MAXLEN', '1'], ['XADD', 'w', 'NOMKSTREAM'],
      ['XADD', 'w', '9-0', '', ''], ['XADD', 'w', '10-0', 'a', '1', 'a', '2'], ['XRANGE', 'w', '9', '10'],
      ['SET', 'str', 'v'], ['XADD', 'str', '1-1', 'a', '1'], ['XADD', 'str', 'NOMKSTREAM', '1-1', 'a', '1'], ['XADD', 'str', '0-0', 'a', '1'],
    ])
    await sameNormalized(genIds, 'XADD', 'g', '*', 'a', '1')
    await sameNormalized(genIds, 'XADD', 'g', '*', 'b', '2')
    await same('XLEN', 'g')
    await sameNormalized(s => s.replace(/\d{13}-\d+/g, '<id>'), 'XRANGE', 'g', '-', '+')
  })

  it('NOMKSTREAM, MAXLEN and MINID with = and ~, LIMIT, and the option errors', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 30; i++) adds.push(['XADD', 's', `${i}-0`, 'f', String(i)])
    await sequence([
      ['XADD', 'nokey', 'NOMKSTREAM', '1-0', 'a', '1'], ['EXISTS', 'nokey'], ['XADD', 'nokey', 'nomkstream', 'MAXLEN', '1', '*', 'a', '1'],
      ...adds,
      ['XADD', 's', 'MAXLEN', '25', '31-0', 'f', '31'], ['XLEN', 's'], ['XADD', 's', 'MAXLEN', '~', '20', '32-0', 'f', '32'], ['XLEN', 's'],
      ['XADD', 's', 'MAXLEN', '=', '20', '33-0', 'f', '33'], ['XLEN', 's'], ['XRANGE', 's', '-', '+', 'COUNT', '2'],
      ['XADD', 's', 'MINID', '~', '20', '34-0', 'f', '34'], ['XLEN', 's'], ['XADD', 's', 'MINID', '=', '22-0', '35-0', 'f', '35'], ['XLEN', 's'],
      ['XADD', 's', 'MINID', '25', '36-0', 'f', '36'], ['XRANGE', 's', '-', '+', 'COUNT', '1'],
      ['XADD', 's', 'MAXLEN', '~', '2', 'LIMIT', '4', '37-0', 'f', '37'], ['XLEN', 's'], ['XADD', 's', 'MAXLEN', '~', '2', 'LIMIT', '3', '38-0', 'f', '38'], ['XLEN', 's'],
      ['XADD', 's', 'MAXLEN', '~', '0', 'LIMIT', '0', '39-0', 'f', '39'], ['XLEN', 's'],
      ['XADD', 's', 'MAXLEN', '1', 'LIMIT', '5', '40-0', 'a', '1'], ['XADD', 's', 'LIMIT', '5', '40-0', 'a', '1'], ['XADD', 's', 'LIMIT', '0', '40-0', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '1', 'MINID', '5', '40-0', 'a', '1'], ['XADD', 's', 'MINID', '1', 'MAXLEN', '5', '40-0', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '-1', '40-0', 'a', '1'], ['XADD', 's', 'MAXLEN', 'x', '40-0', 'a', '1'], ['XADD', 's', 'MAXLEN', '~', 'x', '40-0', 'a', '1'],
      ['XADD', 's', 'MINID', '-', '40-0', 'a', '1'], ['XADD', 's', 'MINID', 'x', '40-0', 'a', '1'], ['XADD', 's', 'MAXLEN', '~', '1', 'LIMIT', '-1', '40-0', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '~', '1', 'LIMIT', 'x', '40-0', 'a', '1'], ['XADD', 's', 'maxlen', '=', '1', 'nomkstream', '40-0', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '0', '41-0', 'a', '1'], ['XLEN', 's'], ['EXISTS', 's'], ['XADD', 's', 'MAXLEN', '~', '1', '*', 'a', '1'], ['XLEN', 's'],
      ['XADD', 's', 'MAXLEN', '1'], ['XADD', 's', 'LIMIT'], ['XADD', 's', 'FOO', 'a', 'b'],
    ])
  })

  it('big entries: nodes closed by the byte limit, and entries with fields of their own', async () => {
    const cmds: Arg[][] = []
    for (let i = 1; i <= 12; i++) {
      cmds.push(['XADD', 'b', `${i}-0`, ...(i % 3 === 0 ? ['other', 'x'.repeat(i * 150)] : ['f', 'x'.repeat(i * 100), 'g', String(i * 1000)])])
    }
    await sequence([...cmds, ['XLEN', 'b'], ['XRANGE', 'b', '-', '+'], ['XTRIM', 'b', 'MAXLEN', '~', '5'], ['XLEN', 'b'], ['XTRIM', 'b', 'MINID', '~', '11'],
      ['XLEN', 'b'], ['XREVRANGE', 'b', '+', '-']])
  })
})

describe('XRANGE and XREVRANGE', () => {
  const setup: Arg[][] = [
    ['XADD', 's', '1-0', 'a', '1'], ['XADD', 's', '1-1', 'a', '2'], ['XADD', 's', '2-0', 'a', '3', 'b', '4'], ['XADD', 's', '2-5', 'a', '5'],
    ['XADD', 's', '3-0', 'c', '6'], ['XADD', 's', '5-0', 'a', '7'], ['XADD', 's', '18446744073709551615-0', 'z', '8'],
  ]
  it('bounds: -, +, incomplete ids, exclusive ids, COUNT, and the errors', async () => {
    await sequence([...setup,
      ['XRANGE', 's', '-', '+'], ['XREVRANGE', 's', '+', '-'], ['XRANGE', 's', '2', '2'], ['XRANGE', 's', '1', '2-0'], ['XREVRANGE', 's', '2', '1'],
      ['XRANGE', 's', '(1-0', '(2-5'], ['XRANGE', 's', '(1', '(3'], ['XREVRANGE', 's', '(3', '(1'], ['XRANGE', 's', '(1-1', '+', 'COUNT', '2'],
      ['XRANGE', 's', '-', '+', 'COUNT', '0'], ['XRANGE', 's', '-', '+', 'COUNT', '-3'], ['XRANGE', 's', '-', '+', 'COUNT', 'x'], ['XRANGE', 's', '-', '+', 'COUNT'],
      ['XRANGE', 's', '-', '+', 'COUNT', '1', 'COUNT', '2'], ['XRANGE', 's', '-', '+', 'FOO'], ['XREVRANGE', 's', '+', '-', 'COUNT', '3'],
      ['XRANGE', 's', '(-', '+'], ['XRANGE', 's', '-', '(+'], ['XRANGE', 's', '(', '+'], ['XRANGE', 's', '-', '(0-0'], ['XRANGE', 's', '(18446744073709551615-18446744073709551615', '+'],
      ['XRANGE', 's', '(18446744073709551615', '+'], ['XRANGE', 's', '18446744073709551615', '+'], ['XRANGE', 's', '5', '3'], ['XREVRANGE', 's', '3', '5'],
      ['XRANGE', 's', 'x', '+'], ['XRANGE', 's', '-', 'y'], ['XRANGE', 'nokey', '-', '+'], ['XRANGE', 'nokey', 'x', '+'], ['XRANGE', 'nokey', '-', '+', 'COUNT', '0'],
      ['SET', 'str', 'v'], ['XRANGE', 'str', '-', '+'], ['XRANGE', 'str', 'x', '+'], ['XREVRANGE', 'str', '+', '-', 'COUNT', '0'], ['XLEN', 'str'], ['XLEN', 'nokey'],
    ])
    await hello3()
    await sequence([['XRANGE', 's', '-', '+', 'COUNT', '0'], ['XRANGE', 's', '-', '+', 'COUNT', '2'], ['XRANGE', 'nokey', '-', '+']])
  })
})

describe('XDEL, XTRIM, XSETID', () => {
  it('deleting entries, the first entry, whole nodes, and every entry', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 14; i++) adds.push(['XADD', 's', `${i}-0`, 'f', String(i)])
    await sequence([...adds,
      ['XDEL', 's', '1-0', '99-0', '1-0'], ['XRANGE', 's', '-', '+', 'COUNT', '1'], ['XDEL', 's', '5-0', '6-0', '7-0', '8-0'], ['XLEN', 's'],
      ['XRANGE', 's', '4', '9'], ['XREVRANGE', 's', '9', '4'], ['XDEL', 's', 'x'], ['XDEL', 's', '2-0', 'x'], ['XLEN', 's'], ['XDEL', 's', '-'],
      ['XDEL', 's', '14-0', '13-0'], ['XADD', 's', '14-*', 'f', 'again'], ['XADD', 's', '13-0', 'f', 'v'], ['XRANGE', 's', '10', '+'],
      ['XDEL', 's', '2-0', '3-0', '4-0', '9-0', '10-0', '11-0', '12-0', '14-1'], ['XLEN', 's'], ['EXISTS', 's'], ['XRANGE', 's', '-', '+'],
      ['XADD', 's', '15-0', 'f', 'v'], ['XRANGE', 's', '-', '+'], ['XDEL', 'nokey', '1-0'], ['SET', 'str', 'v'], ['XDEL', 'str', '1-0'], ['XDEL', 'str', 'x'],
    ])
  })

  it('XTRIM: strategies, ~, LIMIT, deleted entries inside nodes, and the errors', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 40; i++) adds.push(['XADD', 's', `${i}-0`, 'f', String(i)])
    await sequence([...adds,
      ['XTRIM', 's', 'MAXLEN', '38'], ['XLEN', 's'], ['XTRIM', 's', 'MAXLEN', '~', '33'], ['XLEN', 's'], ['XDEL', 's', '10-0', '11-0'],
      ['XTRIM', 's', 'MINID', '12'], ['XLEN', 's'], ['XRANGE', 's', '-', '+', 'COUNT', '1'], ['XTRIM', 's', 'MINID', '~', '20'], ['XLEN', 's'],
      ['XTRIM', 's', 'MAXLEN', '~', '5', 'LIMIT', '3'], ['XTRIM', 's', 'MAXLEN', '~', '5', 'LIMIT', '4'], ['XLEN', 's'], ['XTRIM', 's', 'MAXLEN', '=', '5'],
      ['XLEN', 's'], ['XTRIM', 's', 'MINID', '=', '0'], ['XTRIM', 's', 'MAXLEN', '100'], ['XTRIM', 's', 'MINID', '18446744073709551615-18446744073709551615'],
      ['XLEN', 's'], ['EXISTS', 's'], ['XRANGE', 's', '-', '+'],
      ['XTRIM', 's'], ['XTRIM', 's', 'FOO', '1'], ['XTRIM', 's', 'LIMIT', '1'], ['XTRIM', 's', 'MAXLEN', '1', 'LIMIT', '1'], ['XTRIM', 's', 'MAXLEN', '-1'],
      ['XTRIM', 's', 'MAXLEN', 'x'], ['XTRIM', 's', 'MINID', 'x'], ['XTRIM', 's', 'MINID', '+'], ['XTRIM', 's', 'MAXLEN', '1', 'MINID', '1'],
      ['XTRIM', 's', 'MAXLEN', '~', '1', 'LIMIT', '-1'], ['XTRIM', 's', 'NOMKSTREAM', 'MAXLEN', '1'], ['XTRIM', 's', 'MAXLEN', '1', 'FOO'],
      ['XTRIM', 'nokey', 'MAXLEN', '1'], ['XTRIM', 'nokey', 'FOO'], ['SET', 'str', 'v'], ['XTRIM', 'str', 'MAXLEN', '1'], ['XTRIM', 'str', 'MAXLEN', 'x'],
    ])
  })

  it('XSETID: ENTRIESADDED, MAXDELETEDID and the errors', async () => {
    await sequence([
      ['XADD', 's', '5-0', 'a', '1'], ['XADD', 's', '6-0', 'a', '1'], ['XSETID', 's', '4-0'], ['XSETID', 's', '6-0'], ['XSETID', 's', '10-0', 'ENTRIESADDED', '1'],
      ['XSETID', 's', '10-0', 'ENTRIESADDED', '-1'], ['XSETID', 's', '10-0', 'ENTRIESADDED', 'x'], ['XSETID', 's', '10-0', 'MAXDELETEDID', '11-0'],
      ['XSETID', 's', '10-0', 'MAXDELETEDID', 'x'], ['XSETID', 's', '10-0', 'FOO'], ['XSETID', 's', '10-0', 'ENTRIESADDED'], ['XSETID', 's', 'x'], ['XSETID', 's', '-'],
      ['XSETID', 's', '10-0', 'ENTRIESADDED', '7', 'MAXDELETEDID', '3-0'], ['XADD', 's', '10-0', 'a', '1'], ['XADD', 's', '10-*', 'a', '1'], ['XRANGE', 's', '-', '+'],
      ['XSETID', 'nokey', '1-0'], ['XSETID', 'nokey', 'x'], ['SET', 'str', 'v'], ['XSETID', 'str', '1-0'],
      ['XDEL', 's', '5-0', '6-0', '10-1'], ['XSETID', 's', '1-0'], ['XADD', 's', '2-0', 'a', '1'], ['XSETID', 's', '0-0'],
    ])
  })
})

describe('XREAD', () => {
  it('one shard: COUNT, $, several streams, missing keys and the errors', async () => {
    await sequence([
      ['XADD', 's{t}', '1-0', 'a', '1'], ['XADD', 's{t}', '2-0', 'b', '2'], ['XADD', 'u{t}', '3-0', 'c', '3'],
      ['XREAD', 'STREAMS', 's{t}', '0'], ['XREAD', 'COUNT', '1', 'STREAMS', 's{t}', 'u{t}', '0', '0'], ['XREAD', 'STREAMS', 's{t}', 'u{t}', '1', '3'],
      ['XREAD', 'STREAMS', 's{t}', 'no{t}', '0', '0'], ['XREAD', 'STREAMS', 's{t}', '$'], ['XREAD', 'STREAMS', 's{t}', '2'], ['XREAD', 'STREAMS', 's{t}', '1'],
      ['XREAD', 'COUNT', '0', 'STREAMS', 's{t}', '-'], ['XREAD', 'COUNT', '-1', 'STREAMS', 's{t}', '0'], ['XREAD', 'COUNT', 'x', 'STREAMS', 's{t}', '0'],
      ['XREAD', 'STREAMS', 's{t}', 'u{t}', '0'], ['XREAD', 'STREAMS', 's{t}', '>'], ['XREAD', 'STREAMS', 's{t}', 'x'], ['XREAD', 'STREAMS', 's{t}', '+'],
      ['XREAD', 'GROUP', 'g', 'c', 'STREAMS', 's{t}', '0'], ['XREAD', 'NOACK', 'STREAMS', 's{t}', '0'], ['XREAD', 'FOO', 'STREAMS', 's{t}', '0'],
      ['XREAD', 'COUNT', '1', 's{t}', '0'], ['XREAD', 'STREAMS'], ['XREAD', 'COUNT', '1', 'STREAMS'],
      ['SET', 'str{t}', 'v'], ['XREAD', 'STREAMS', 's{t}', 'str{t}', '0', '0'], ['XREAD', 'STREAMS', 'str{t}', 's{t}', 'x', 'x'],
      ['XREAD', 'STREAMS', 's{t}', 'str{t}', 'x', '0'], ['XDEL', 's{t}', '2-0'], ['XREAD', 'STREAMS', 's{t}', '1'], ['XREAD', 'STREAMS', 's{t}', '0-5'],
    ])
    await hello3()
    await sequence([['XREAD', 'STREAMS', 's{t}', 'u{t}', '0', '0'], ['XREAD', 'STREAMS', 's{t}', '$'], ['XREAD', 'STREAMS', 'no{t}', '0']])
  })

  it('streams on every shard (a transaction over the shards), in key order', async () => {
    const cmds: Arg[][] = []
    for (const [i, k] of K.entries()) cmds.push(['XADD', k, `${i + 1}-0`, 'k', k], ['XADD', k, `${i + 1}-1`, 'n', String(i)])
    const ids = K.map(() => '0')
    await sequence([...cmds,
      ['XREAD', 'STREAMS', ...K, ...ids], ['XREAD', 'COUNT', '1', 'STREAMS', ...K, ...ids], ['XREAD', 'STREAMS', ...K, '$', '0', '$', '3-0'],
      ['XREAD', 'STREAMS', ...K, '$', '$', '$', '$'], ['XREAD', 'STREAMS', K[3], 'missing', K[0], '0', '0', '0'],
      ['SET', 'str', 'v'], ['XREAD', 'STREAMS', ...K, 'str', ...ids, '0'], ['XREAD', 'STREAMS', K[0], 'str', K[1], 'x', '0', '0'],
      ['XREAD', 'STREAMS', K[0], K[1], '0', 'x'], ['XREAD', 'STREAMS', K[0], K[1], '0', '>'], ['XREAD', 'STREAMS', ...K, ...ids, 'extra'],
    ])
    await hello3()
    await sequence([['XREAD', 'STREAMS', ...K, ...ids], ['XREAD', 'STREAMS', ...K, '$', '$', '$', '$']])
  })
})

describe('the stream type', () => {
  it('TYPE, OBJECT ENCODING, SCAN TYPE, RENAME, COPY, MOVE across shards, DEL and EXISTS', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 10; i++) adds.push(['XADD', K[0], `${i}-0`, 'f', String(i), 'g', 'v'.repeat(i)])
    await sequence([...adds, ['XDEL', K[0], '3-0'], ['XSETID', K[0], '20-0', 'ENTRIESADDED', '30', 'MAXDELETEDID', '15-0'],
      ['TYPE', K[0]], ['OBJECT', 'ENCODING', K[0]], ['RENAME', K[0], K[1]], ['TYPE', K[1]], ['XRANGE', K[1], '-', '+'], ['XLEN', K[1]],
      ['COPY', K[1], K[2]], ['XRANGE', K[2], '-', '+', 'COUNT', '3'], ['XADD', K[2], '*', 'x', 'y'], ['XADD', K[2], '20-*', 'x', 'y'], ['XLEN', K[1]],
      ['XADD', K[1], '20-1', 'x', 'y'], ['MOVE', K[1], '1'], ['SELECT', '1'], ['XRANGE', K[1], '18', '+'], ['XTRIM', K[1], 'MAXLEN', '~', '2'], ['XLEN', K[1]],
      ['SELECT', '0'], ['COPY', K[2], K[3], 'DB', '2'], ['SELECT', '2'], ['XREVRANGE', K[3], '+', '-', 'COUNT', '2'], ['SELECT', '0'],
      ['DEL', K[2]], ['EXISTS', K[2]], ['XADD', K[3], '1-0', 'a', 'b'], ['SCAN', '0', 'TYPE', 'stream', 'COUNT', '100'], ['SCAN', '0', 'TYPE', 'string'],
      ['SET', 'str', 'v'], ['RENAME', 'str', K[3]], ['TYPE', K[3]],
    ])
  })
})

describe('random sequences', () => {
  it('stream commands mixed with DEL, RENAME, COPY, TYPE and OBJECT ENCODING', async () => {
    const key = fc.constantFrom('s1', 's2', 'x')
    const idArg = fc.oneof(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3 })).map(([m, s]) => `${m}-${s}`),
      fc.integer({ min: 0, max: 12 }).map(String), fc.constantFrom('-', '+', '(3', '(5-1', 'x'))
    const addId = fc.oneof(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3 })).map(([m, s]) => `${m}-${s}`),
      fc.integer({ min: 0, max: 12 }).map(m => `${m}-*`))
    const fields = fc.constantFrom(['f', 'v'], ['f', 'v', 'g', 'w'], ['other', '1'], ['f', '12345678'])
    const trim = fc.oneof(fc.constant([] as string[]), fc.tuple(fc.constantFrom('MAXLEN', 'MINID'), fc.constantFrom('=', '~', ''), fc.integer({ min: 0, max: 8 }))
      .map(([s, a, n]) => [s, ...(a === '' ? [] : [a]), String(n)]))
    const cmd: fc.Arbitrary<Arg[]> = fc.oneof(
      fc.tuple(key, trim, addId, fields).map(([k, t, i, f]) => ['XADD', k, ...t, i, ...f]),
      fc.tuple(key, fc.array(idArg, { minLength: 1, maxLength: 3 })).map(([k, ids]) => ['XDEL', k, ...ids]),
      fc.tuple(key, trim.filter(t => t.length > 0)).map(([k, t]) => ['XTRIM', k, ...t]),
      fc.tuple(key, idArg, idArg, fc.constantFrom([], ['COUNT', '2'])).map(([k, a, b, c]) => ['XRANGE', k, a, b, ...c]),
      fc.tuple(key, idArg, idArg).map(([k, a, b]) => ['XREVRANGE', k, a, b]),
      key.map(k => ['XLEN', k]), fc.tuple(key, addId).map(([k, i]) => ['XSETID', k, i.replace('-*', '')]),
      key.map(k => ['TYPE', k]), key.map(k => ['OBJECT', 'ENCODING', k]), key.map(k => ['DEL', k]), fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]),
      fc.tuple(key, key).map(([a, b]) => ['COPY', a, b, 'REPLACE']), key.map(k => ['SET', k, 'v']),
      fc.tuple(key, idArg).map(([k, i]) => ['XREAD', 'STREAMS', k, i]),
    )
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 50 }), async (cmds) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      await pipeline(cmds)
    }), { numRuns: 100 })
  })
})
