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
import { RawClient, encodeCommand } from './helpers/raw.js'

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
      ['XADD', 'nokey', 'NOMKSTREAM', '1-0', 'a', '1'], ['EXISTS', 'nokey'], ['XADD', 'nokey', 'nomkstream', 'MAXLEN', '1', '*', 'a', '1'] /* null: no clock in the reply */,
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
      ['XADD', 's', 'MAXLEN', '0', '41-0', 'a', '1'], ['XLEN', 's'], ['EXISTS', 's'], ['XADD', 's', 'MAXLEN', '~', '1', '50-0', 'a', '1'], ['XLEN', 's'],
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

  it('~ without LIMIT trims at most 100 nodes (100 * stream-node-max-entries entries)', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 1000; i++) adds.push(['XADD', 's', `${i}-0`, 'f', String(i)])
    await pipeline([...adds, ['XTRIM', 's', 'MAXLEN', '~', '0'], ['XLEN', 's'], ['XADD', 's', 'MINID', '~', '900', '1001-0', 'f', 'v'], ['XLEN', 's'],
      ['XTRIM', 's', 'MINID', '~', '2000', 'LIMIT', '0'], ['XLEN', 's']])
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

/** Clock-dependent numbers in group replies (idle times, delivery and seen times) replaced by a mark. */
const clock = (s: string): string => s
  .replace(/(\*4\r\n\$\d+\r\n[^\r]*\r\n\$\d+\r\n[^\r]*\r\n):\d+\r\n/g, '$1:<idle>\r\n')
  .replace(/(\$4\r\nidle\r\n):\d+/g, '$1<idle>')
  .replace(/:\d{13}\r\n/g, ':<time>\r\n')

describe('consumer groups', () => {
  const setup: Arg[][] = [
    ['XADD', 's', '1-0', 'a', '1'], ['XADD', 's', '2-0', 'b', '2'], ['XADD', 's', '3-0', 'c', '3'], ['XADD', 's', '4-0', 'd', '4'], ['XADD', 's', '5-0', 'e', '5'],
  ]

  it('XGROUP: CREATE (MKSTREAM, ENTRIESREAD, $), SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP and the errors', async () => {
    await sequence([...setup,
      ['XGROUP', 'CREATE', 's', 'g1', '0'], ['XGROUP', 'CREATE', 's', 'g1', '0'], ['XGROUP', 'CREATE', 's', 'g2', '$'], ['XGROUP', 'CREATE', 's', 'g3', '3', 'ENTRIESREAD', '3'],
      ['XGROUP', 'CREATE', 's', 'g4', '-'], ['XGROUP', 'CREATE', 's', 'g4', 'x'], ['XGROUP', 'CREATE', 's', 'g4', '0', 'ENTRIESREAD', '-2'], ['XGROUP', 'CREATE', 's', 'g4', '0', 'ENTRIESREAD', 'x'],
      ['XGROUP', 'CREATE', 's', 'g4', '0', 'ENTRIESREAD'], ['XGROUP', 'CREATE', 's', 'g4', '0', 'FOO'], ['XGROUP', 'CREATE', 's', 'g4', '0', 'ENTRIESREAD', '-1', 'MKSTREAM'],
      ['XGROUP', 'CREATE', 'nokey', 'g', '0'], ['XGROUP', 'CREATE', 'nokey', 'g', '$', 'MKSTREAM'], ['TYPE', 'nokey'], ['XLEN', 'nokey'], ['XINFO', 'STREAM', 'nokey'],
      ['XGROUP', 'CREATE', 'mk', 'g', '5-5', 'mkstream', 'entriesread', '7'], ['XINFO', 'GROUPS', 'mk'],
      ['XGROUP', 'CREATE', 's', 'g9', '0', 'MKSTREAM', 'MKSTREAM', 'MKSTREAM', 'MKSTREAM'], ['XGROUP', 'CREATE', 's', 'g9'],
      ['XINFO', 'GROUPS', 's'], ['XGROUP', 'SETID', 's', 'g1', '2-0'], ['XGROUP', 'SETID', 's', 'g1', '$', 'ENTRIESREAD', '5'], ['XGROUP', 'SETID', 's', 'g2', '-'],
      ['XGROUP', 'SETID', 's', 'g2', '+'], ['XGROUP', 'SETID', 's', 'g2', 'x'], ['XGROUP', 'SETID', 's', 'nog', '0'], ['XGROUP', 'SETID', 'nokey2', 'g', '0'],
      ['XGROUP', 'SETID', 's', 'g2', '0', 'MKSTREAM'], ['XGROUP', 'SETID', 's', 'g2', '0', 'ENTRIESREAD'], ['XGROUP', 'SETID', 's', 'g2', '0', 'ENTRIESREAD', '1', 'x'],
      ['XINFO', 'GROUPS', 's'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g1', 'alice'], ['XGROUP', 'CREATECONSUMER', 's', 'g1', 'alice'], ['XGROUP', 'CREATECONSUMER', 's', 'g1', 'bob'],
      ['XGROUP', 'CREATECONSUMER', 's', 'nog', 'x'], ['XGROUP', 'CREATECONSUMER', 'nokey2', 'g', 'x'], ['XGROUP', 'CREATECONSUMER', 's', 'g1'],
      ['XGROUP', 'DELCONSUMER', 's', 'g1', 'bob'], ['XGROUP', 'DELCONSUMER', 's', 'g1', 'bob'], ['XGROUP', 'DELCONSUMER', 's', 'nog', 'bob'],
      ['XGROUP', 'DESTROY', 's', 'g3'], ['XGROUP', 'DESTROY', 's', 'g3'], ['XGROUP', 'DESTROY', 'nokey2', 'g3'], ['XGROUP', 'DESTROY', 's'],
      ['XGROUP', 'HELP'], ['XGROUP', 'HELP', 'x'], ['XGROUP', 'FOO'], ['XGROUP', 'FOO', 's', 'g'], ['XGROUP'], ['XGROUP', 'create'],
      ['SET', 'str', 'v'], ['XGROUP', 'CREATE', 'str', 'g', '0'], ['XGROUP', 'CREATE', 'str', 'g', '0', 'MKSTREAM'], ['XGROUP', 'DESTROY', 'str', 'g'],
      ['XGROUP', 'CREATE', 'str', 'g', '0', 'FOO'],
    ])
    await sameNormalized(clock, 'XINFO', 'CONSUMERS', 's', 'g1')
  })

  it('XREADGROUP: >, history, NOACK, COUNT, reassignment after SETID, deleted entries, and the errors', async () => {
    await sequence([...setup, ['XGROUP', 'CREATE', 's', 'g', '0'], ['XGROUP', 'CREATE', 's', 'h', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '1', 'STREAMS', 's', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '1-0'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 's', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'carol', 'STREAMS', 's', '0'], ['XREADGROUP', 'GROUP', 'g', 'bob', 'NOACK', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 's', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'dave', 'STREAMS', 's', '>'], ['XINFO', 'GROUPS', 's'],
      ['XDEL', 's', '2-0'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0'], ['XPENDING', 's', 'g'],
      ['XGROUP', 'SETID', 's', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '2', 'STREAMS', 's', '>'], ['XPENDING', 's', 'g'], ['XINFO', 'GROUPS', 's'],
      ['XREADGROUP', 'GROUP', 'h', 'x', 'STREAMS', 's', '>'], ['XINFO', 'GROUPS', 's'], ['XADD', 's', '6-0', 'f', '6'], ['XINFO', 'GROUPS', 's'],
      ['XREADGROUP', 'GROUP', 'h', 'x', 'STREAMS', 's', '>'], ['XINFO', 'GROUPS', 's'],
      ['XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 's', '$'], ['XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 's', 'x'], ['XREADGROUP', 'GROUP', 'nog', 'a', 'STREAMS', 's', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 'nokey', '>'], ['XREADGROUP', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 's'],
      ['XREADGROUP', 'GROUP', 'g', 'a', 'FOO', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'a', 'COUNT', 'x', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'STREAMS', 's', '>'],
      ['SET', 'str', 'v'], ['XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 'str', '>'], ['XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 's', 'str', '>', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 'nokey', 's', '>', '$'],
    ])
    await sameNormalized(clock, 'XINFO', 'CONSUMERS', 's', 'g')
    await sameNormalized(clock, 'XPENDING', 's', 'g', '-', '+', '10')
    await hello3()
    await sequence([['XREADGROUP', 'GROUP', 'h', 'y', 'STREAMS', 's', '0'], ['XGROUP', 'SETID', 's', 'h', '0'], ['XREADGROUP', 'GROUP', 'h', 'y', 'COUNT', '2', 'STREAMS', 's', '>'],
      ['XREADGROUP', 'GROUP', 'h', 'y', 'STREAMS', 's', '0'], ['XPENDING', 's', 'h'], ['XINFO', 'GROUPS', 's'], ['XREADGROUP', 'GROUP', 'h', 'y', 'STREAMS', 's', '>']])
    await sameNormalized(clock, 'XINFO', 'STREAM', 's', 'FULL')
  })

  it('XREADGROUP over streams on every shard: checks before any read, in key order', async () => {
    const cmds: Arg[][] = []
    for (const [i, k] of K.entries()) cmds.push(['XADD', k, `${i + 1}-0`, 'k', k], ['XADD', k, `${i + 1}-1`, 'n', String(i)], ['XGROUP', 'CREATE', k, 'g', '0'])
    await sequence([...cmds,
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', ...K, '>', '>', '>', '>'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', ...K, '>', '0', '>', '0'],
      ['XGROUP', 'DESTROY', K[3], 'g'], ['XREADGROUP', 'GROUP', 'g', 'd', 'STREAMS', ...K, '>', '>', '>', '>'], ['XINFO', 'GROUPS', K[0]],
      ['XREADGROUP', 'GROUP', 'g', 'd', 'STREAMS', K[0], K[1], '>', 'x'], ['XREADGROUP', 'GROUP', 'g', 'd', 'STREAMS', K[2], K[1], '>', '$'],
      ['XREADGROUP', 'GROUP', 'g', 'd', 'NOACK', 'STREAMS', K[0], K[1], K[2], '0', '0', '0'], ['XPENDING', K[0], 'g'], ['XPENDING', K[1], 'g'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', K[2], K[0], '>', '>'],
    ])
    await hello3()
    await sequence([['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', K[0], K[1], K[2], '0', '0', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', K[0], K[1], '>', '>']])
  })

  it('XACK and XPENDING: summary, extended form with IDLE and a consumer, and the errors', async () => {
    await sequence([...setup, ['XGROUP', 'CREATE', 's', 'g', '0'], ['XPENDING', 's', 'g'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'], ['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 's', '>'],
      ['XPENDING', 's', 'g'], ['XACK', 's', 'g', '1-0', '9-0', '1-0'], ['XACK', 's', 'g', 'x'], ['XACK', 's', 'g', '3-0', 'x'], ['XACK', 's', 'nog', '3-0'],
      ['XACK', 'nokey', 'g', '3-0'], ['XACK', 'nokey', 'g', 'x'], ['XPENDING', 's', 'g'], ['XACK', 's', 'g', '2-0'], ['XPENDING', 's', 'g'],
      ['XPENDING', 's', 'g', '-', '+', '0'], ['XPENDING', 's', 'g', '(3-0', '+', '1', 'alice'], ['XPENDING', 's', 'g', '-', '+', '10', 'nobody'],
      ['XPENDING', 's', 'g', 'IDLE', '3600000', '-', '+', '10'], ['XPENDING', 's', 'g', 'IDLE', 'x', '-', '+', '10'], ['XPENDING', 's', 'g', 'IDLE', '1', '-', '+'],
      ['XPENDING', 's', 'g', '-', '+'], ['XPENDING', 's', 'g', '-', '+', '10', 'a', 'b'], ['XPENDING', 's', 'g', 'x', '+', '10'], ['XPENDING', 's', 'g', '-', '+', 'x'],
      ['XPENDING', 's', 'g', '(-', '+', '10'], ['XPENDING', 's', 'g', '-', '(0-0', '10'], ['XPENDING', 's', 'nog'], ['XPENDING', 'nokey', 'g'],
      ['XPENDING', 'nokey', 'g', 'x', '+', '1'], ['SET', 'str', 'v'], ['XPENDING', 'str', 'g'], ['XACK', 'str', 'g', '1-0'],
      ['XACK', 's', 'g', '3-0', '4-0', '5-0'], ['XPENDING', 's', 'g'],
    ])
    await sameNormalized(clock, 'XPENDING', 's', 'g', '-', '+', '10')
    await sameNormalized(clock, 'XPENDING', 's', 'g', 'IDLE', '0', '-', '+', '10', 'alice')
    await hello3()
    await sequence([['XPENDING', 's', 'g'], ['XGROUP', 'CREATE', 's', 'e', '0'], ['XPENDING', 's', 'e']])
  })

  it('XCLAIM: every option, deleted entries, FORCE, and the errors', async () => {
    await sequence([...setup, ['XGROUP', 'CREATE', 's', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', 's', '>'],
      ['XCLAIM', 's', 'g', 'bob', '0', '1-0', '2-0'], ['XCLAIM', 's', 'g', 'bob', '3600000', '3-0'], ['XCLAIM', 's', 'g', 'carol', '0', '3-0', 'JUSTID'],
      ['XCLAIM', 's', 'g', 'carol', '0', '1-0', 'TIME', '1000', 'RETRYCOUNT', '7'], ['XCLAIM', 's', 'g', 'carol', '0', '2-0', 'IDLE', '5000', 'JUSTID'],
      ['XCLAIM', 's', 'g', 'dave', '0', '4-0'], ['XCLAIM', 's', 'g', 'dave', '0', '4-0', 'FORCE', 'JUSTID'], ['XCLAIM', 's', 'g', 'dave', '0', '5-0', '9-0', 'FORCE', 'RETRYCOUNT', '3'],
      ['XCLAIM', 's', 'g', 'dave', '0', '1-0', 'LASTID', '8-0', 'JUSTID'], ['XINFO', 'GROUPS', 's'], ['XCLAIM', 's', 'g', 'dave', '0', '1-0', 'LASTID', '2-0', 'JUSTID'],
      ['XDEL', 's', '3-0'], ['XCLAIM', 's', 'g', 'erin', '0', '3-0', '1-0', 'JUSTID'], ['XPENDING', 's', 'g'],
      ['XCLAIM', 's', 'g', 'x', 'y', '1-0'], ['XCLAIM', 's', 'g', 'x', '-5', '1-0', 'JUSTID'], ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'IDLE', 'x'],
      ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'TIME', 'x'], ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'RETRYCOUNT', 'x'], ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'LASTID', 'x'],
      ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'FOO'], ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'IDLE'], ['XCLAIM', 's', 'g', 'x', '0', 'x', '1-0'],
      ['XCLAIM', 's', 'nog', 'x', '0', '1-0'], ['XCLAIM', 'nokey', 'g', 'x', 'y', '1-0'], ['SET', 'str', 'v'], ['XCLAIM', 'str', 'g', 'x', '0', '1-0'],
      ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'TIME', '99999999999999', 'JUSTID'], ['XCLAIM', 's', 'g', 'x', '0', '1-0', 'TIME', '-5', 'JUSTID'],
    ])
    await sameNormalized(clock, 'XPENDING', 's', 'g', '-', '+', '10')
    await sameNormalized(clock, 'XINFO', 'CONSUMERS', 's', 'g')
    await sameNormalized(clock, 'XINFO', 'STREAM', 's', 'FULL')
  })

  it('XAUTOCLAIM: COUNT, JUSTID, the cursor, deleted entries, and the errors', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 12; i++) adds.push(['XADD', 's', `${i}-0`, 'f', String(i)])
    await sequence([...adds, ['XGROUP', 'CREATE', 's', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '>'],
      ['XDEL', 's', '2-0', '3-0', '7-0'],
      ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'COUNT', '2'], ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'COUNT', '2', 'JUSTID'],
      ['XAUTOCLAIM', 's', 'g', 'bob', '0', '(4-0', 'COUNT', '3'], ['XAUTOCLAIM', 's', 'g', 'bob', '3600000', '0'], ['XAUTOCLAIM', 's', 'g', 'carol', '0', '10', 'JUSTID'],
      ['XAUTOCLAIM', 's', 'g', 'carol', '0', '0', 'JUSTID', 'COUNT', '100'], ['XAUTOCLAIM', 's', 'g', 'carol', '0', '13-0'],
      ['XAUTOCLAIM', 's', 'g', 'x', 'y', '0'], ['XAUTOCLAIM', 's', 'g', 'x', '0', 'x'], ['XAUTOCLAIM', 's', 'g', 'x', '0', '(18446744073709551615-18446744073709551615'],
      ['XAUTOCLAIM', 's', 'g', 'x', '0', '0', 'COUNT', '0'], ['XAUTOCLAIM', 's', 'g', 'x', '0', '0', 'COUNT', 'x'], ['XAUTOCLAIM', 's', 'g', 'x', '0', '0', 'COUNT'],
      ['XAUTOCLAIM', 's', 'g', 'x', '0', '0', 'FOO'], ['XAUTOCLAIM', 's', 'nog', 'x', '0', '0'], ['XAUTOCLAIM', 'nokey', 'g', 'x', '0', '0'],
      ['SET', 'str', 'v'], ['XAUTOCLAIM', 'str', 'g', 'x', '0', '0'], ['XAUTOCLAIM', 'str', 'g', 'x', '0', '0', 'FOO'], ['XPENDING', 's', 'g'],
    ])
    await sameNormalized(clock, 'XPENDING', 's', 'g', '-', '+', '20')
  })

  it('XINFO STREAM (and FULL with COUNT), GROUPS, CONSUMERS, lag and entries-read through deletions and SETID', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 15; i++) adds.push(['XADD', 's', `${i}-0`, 'f', String(i), ...(i % 4 === 0 ? ['extra', 'x'] : [])])
    await sequence([['XGROUP', 'CREATE', 'e', 'g', '$', 'MKSTREAM'], ['XINFO', 'STREAM', 'e'], ['XINFO', 'STREAM', 'e', 'FULL'], ['XINFO', 'GROUPS', 'e'],
      ...adds, ['XGROUP', 'CREATE', 's', 'g', '0'], ['XGROUP', 'CREATE', 's', 'h', '$'], ['XGROUP', 'CREATE', 's', 'i', '5-0', 'ENTRIESREAD', '5'],
      ['XINFO', 'STREAM', 's'], ['XINFO', 'GROUPS', 's'], ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '4', 'STREAMS', 's', '>'], ['XINFO', 'GROUPS', 's'],
      ['XDEL', 's', '10-0'], ['XINFO', 'GROUPS', 's'], ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '8', 'STREAMS', 's', '>'], ['XINFO', 'GROUPS', 's'],
      ['XDEL', 's', '1-0'], ['XINFO', 'GROUPS', 's'], ['XTRIM', 's', 'MAXLEN', '5'], ['XINFO', 'GROUPS', 's'], ['XINFO', 'STREAM', 's'],
      ['XGROUP', 'SETID', 's', 'g', '0'], ['XINFO', 'GROUPS', 's'], ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>'], ['XINFO', 'GROUPS', 's'],
      ['XSETID', 's', '20-0', 'ENTRIESADDED', '30', 'MAXDELETEDID', '18-0'], ['XINFO', 'GROUPS', 's'], ['XINFO', 'STREAM', 's'],
      ['XINFO', 'STREAM', 's', 'FULL', 'COUNT'], ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', 'x'], ['XINFO', 'STREAM', 's', 'FOO'], ['XINFO', 'STREAM', 's', 'FULL', 'FOO', '1'],
      ['XINFO', 'STREAM', 'nokey'], ['XINFO', 'GROUPS', 'nokey'], ['XINFO', 'CONSUMERS', 'nokey', 'g'], ['XINFO', 'CONSUMERS', 's', 'nog'],
      ['XINFO', 'HELP'], ['XINFO', 'HELP', 'x'], ['XINFO', 'FOO', 's'], ['XINFO'], ['XINFO', 'GROUPS', 's', 'x'], ['XINFO', 'STREAM'],
      ['SET', 'str', 'v'], ['XINFO', 'STREAM', 'str'], ['XINFO', 'GROUPS', 'str'], ['XINFO', 'CONSUMERS', 'str', 'g'],
    ])
    for (const count of [[], ['COUNT', '0'], ['COUNT', '2'], ['COUNT', '-1']]) await sameNormalized(clock, 'XINFO', 'STREAM', 's', 'FULL', ...count)
    await hello3()
    await sequence([['XINFO', 'STREAM', 's'], ['XINFO', 'GROUPS', 's'], ['XINFO', 'STREAM', 'e']])
    await sameNormalized(clock, 'XINFO', 'STREAM', 's', 'FULL')
    await sameNormalized(clock, 'XINFO', 'CONSUMERS', 's', 'g')
  })

  it('radix-tree-nodes: many nodes, deleted in the middle and at both ends', async () => {
    const adds: Arg[][] = []
    for (let i = 0; i < 200; i++) adds.push(['XADD', 's', `${1000 + i * 37}-${i % 3}`, 'f', String(i)])
    const info = ['XINFO', 'STREAM', 's']
    const dels: Arg[] = ['XDEL', 's']
    for (let i = 40; i < 80; i++) dels.push(`${1000 + i * 37}-${i % 3}`)
    await sequence([...adds, info, dels, info, ['XTRIM', 's', 'MAXLEN', '~', '100'], info, ['XTRIM', 's', 'MAXLEN', '7'], info,
      ['XADD', 's', '18446744073709551615-0', 'a', 'b'], info, ['XADD', 's', '18446744073709551615-1', 'a', 'b'], info])
  })

  it('groups travel with RENAME, COPY and MOVE across shards, and go with DEL', async () => {
    await sequence([...setup.map(c => c.map(a => a === 's' ? K[0] : a)), ['XGROUP', 'CREATE', K[0], 'g', '0'], ['XGROUP', 'CREATE', K[0], 'h', '3-0', 'ENTRIESREAD', '3'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', K[0], '>'], ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '1', 'STREAMS', K[0], '>'],
      ['XGROUP', 'CREATECONSUMER', K[0], 'h', 'zed'], ['RENAME', K[0], K[1]], ['XINFO', 'GROUPS', K[1]], ['XPENDING', K[1], 'g'],
      ['COPY', K[1], K[2]], ['XACK', K[2], 'g', '1-0'], ['XPENDING', K[2], 'g'], ['XPENDING', K[1], 'g'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', K[2], '0'],
      ['MOVE', K[2], '3'], ['SELECT', '3'], ['XINFO', 'GROUPS', K[2]], ['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', K[2], '0'], ['SELECT', '0'],
      ['DEL', K[1]], ['XINFO', 'GROUPS', K[1]], ['XGROUP', 'CREATE', K[1], 'g', '0', 'MKSTREAM'], ['XINFO', 'GROUPS', K[1]],
    ])
    await sameNormalized(clock, 'XINFO', 'CONSUMERS', K[1], 'g')
  })

  it('groups travel with COPY and RENAME on one shard, and MOVE to another database', async () => {
    await sequence([...setup.map(c => c.map(a => a === 's' ? '{c}a' : a)), ['XGROUP', 'CREATE', '{c}a', 'g', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', '{c}a', '>'], ['XDEL', '{c}a', '2-0'], ['COPY', '{c}a', '{c}b'],
      ['XACK', '{c}b', 'g', '1-0'], ['XPENDING', '{c}a', 'g'], ['XPENDING', '{c}b', 'g'], ['XINFO', 'STREAM', '{c}b'], ['RENAME', '{c}b', '{c}c'],
      ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', '{c}c', '0'], ['XINFO', 'GROUPS', '{c}c'], ['COPY', '{c}c', '{c}a'], ['COPY', '{c}c', '{c}a', 'REPLACE'],
      ['XPENDING', '{c}a', 'g'], ['MOVE', '{c}a', '5'], ['SELECT', '5'], ['XINFO', 'STREAM', '{c}a'], ['XPENDING', '{c}a', 'g'], ['SELECT', '0'],
    ])
  })
})

describe('XREAD and XREADGROUP BLOCK', () => {
  it('served at once when there is something; timeouts; errors in Redis order; inside MULTI', async () => {
    await sequence([
      ['XADD', 's{b}', '1-0', 'a', '1'], ['XREAD', 'BLOCK', '0', 'STREAMS', 's{b}', '0'], ['XREAD', 'BLOCK', '10', 'STREAMS', 's{b}', '$'],
      ['XREAD', 'BLOCK', '10', 'STREAMS', 's{b}', 'n{b}', '$', '$'], ['XREAD', 'BLOCK', 'x', 'STREAMS', 's{b}', '$'], ['XREAD', 'BLOCK', '-1', 'STREAMS', 's{b}', '$'],
      ['XREAD', 'BLOCK', '10', 'STREAMS', 's{b}', 'x'], ['SET', 'str{b}', 'v'], ['XREAD', 'BLOCK', '10', 'STREAMS', 's{b}', 'str{b}', '$', '$'],
      ['XREAD', 'BLOCK', '10', 'STREAMS', 's{b}', '>'], ['XREAD', 'BLOCK', '10', 'COUNT', '1', 'STREAMS', 's{b}'],
      ['XGROUP', 'CREATE', 's{b}', 'g', '$'], ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10', 'STREAMS', 's{b}', '>'], ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10', 'STREAMS', 's{b}', '0'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10', 'STREAMS', 's{b}', '$'], ['XREADGROUP', 'GROUP', 'nog', 'c', 'BLOCK', '10', 'STREAMS', 's{b}', '>'],
      ['XREADGROUP', 'BLOCK', '10', 'STREAMS', 's{b}', '>'], ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', 'x', 'STREAMS', 's{b}', '>'],
      ['MULTI'], ['XREAD', 'BLOCK', '0', 'STREAMS', 's{b}', '$'], ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's{b}', '>'], ['XREAD', 'BLOCK', '0', 'STREAMS', K[0], K[1], '$', '$'], ['EXEC'],
      ['XREAD', 'BLOCK', '10', 'STREAMS', K[0], K[1], '$', '$'], ['XREAD', 'BLOCK', '10', 'STREAMS', K[0], K[1], '0', 'x'],
      ['XREAD', 'BLOCK', '10', 'STREAMS', K[0], 'str{b}', '0', '0'], ['XREAD', 'BLOCK', 'x', 'STREAMS', K[0], K[1], '$', '$'],
    ])
    await hello3()
    await sequence([['XREAD', 'BLOCK', '10', 'STREAMS', 's{b}', '$'], ['XREAD', 'BLOCK', '10', 'STREAMS', K[2], K[3], '$', '$'], ['XREAD', 'BLOCK', '0', 'STREAMS', 's{b}', '0']])
  })

  for (const [label, keys] of [['one shard', ['{q}a', '{q}b']], ['across shards', [K[0], K[1]]]] as const) {
    it(`blocked clients are served by an XADD from another client, in their order, each after its own id (${label})`, async () => {
      const [k1, k2] = keys
      const conns = await Promise.all([0, 1, 2, 3].map(async i => await RawClient.connect(i % 2 === 0 ? pair.redis.port : pair.flash.port, i % 2 === 0 ? pair.redis.host : pair.flash.host)))
      const [ra, fa, rb, fb] = conns
      // Both servers count n blocked clients (within 5 s each), or the test fails here.
      const waitBlocked = async (n: number): Promise<void> => {
        for (const c of [pair.r, pair.f]) {
          let info = ''
          for (let i = 0; i < 500; i++) {
            info = text(await c.command('INFO', 'clients'))
            if (info.includes(`blocked_clients:${n}\r\n`)) break
            await new Promise(resolve => setTimeout(resolve, 10))
          }
          expect(/blocked_clients:\d+/.exec(info)?.[0], c === pair.r ? 'redis' : 'flashkv').toBe(`blocked_clients:${n}`)
        }
      }
      const reply = async (r: RawClient, f: RawClient, label: string): Promise<void> => {
        const [a, b] = await Promise.all([r.readReplies(1, 10_000), f.readReplies(1, 10_000)])
        expect(text(b[0]), label).toBe(text(a[0]))
      }
      const both = (r: RawClient, f: RawClient, ...args: Arg[]): void => { r.send(encodeCommand(args)); f.send(encodeCommand(args)) }
      try {
        await sequence([['XADD', k1, '1-0', 'a', '1'], ['XGROUP', 'CREATE', k1, 'g', '$'], ['XGROUP', 'CREATE', k2, 'g', '$', 'MKSTREAM']])
        // Two XREADs after different ids: the XADD serves the one it can, then the other.
        both(ra, fa, 'XREAD', 'BLOCK', '0', 'STREAMS', k1, k2, '5-0', '$')
        await waitBlocked(1)
        both(rb, fb, 'XREAD', 'BLOCK', '0', 'STREAMS', k1, '1-0')
        await waitBlocked(2)
        await same('XADD', k1, '3-0', 'b', '2')
        await reply(rb, fb, 'the waiter after 1-0')
        await same('XADD', k1, '6-0', 'c', '3', 'd', '4')
        await reply(ra, fa, 'the waiter after 5-0')
        // "$" on the second key, and COUNT.
        both(ra, fa, 'XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', k1, k2, '$', '$')
        await waitBlocked(1)
        await same('XADD', k2, '2-0', 'e', '5')
        await reply(ra, fa, 'the waiter on the second key')
        // XREADGROUP: served with the group's new entries, one consumer after the other.
        await same('XGROUP', 'SETID', k1, 'g', '$')
        both(ra, fa, 'XREADGROUP', 'GROUP', 'g', 'alice', 'BLOCK', '0', 'STREAMS', k1, '>')
        await waitBlocked(1)
        both(rb, fb, 'XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', k1, '>')
        await waitBlocked(2)
        await same('XADD', k1, '7-0', 'f', '6')
        await reply(ra, fa, 'alice')
        await same('XADD', k1, '8-0', 'g', '7')
        await reply(rb, fb, 'bob')
        await sameNormalized(clock, 'XPENDING', k1, 'g', '-', '+', '10')
        await same('XINFO', 'GROUPS', k1)
        // XREADGROUP over both keys: the XADD to the second serves it.
        await sequence([['XGROUP', 'CREATE', k1, 'h', '$'], ['XGROUP', 'CREATE', k2, 'h', '$']])
        both(ra, fa, 'XREADGROUP', 'GROUP', 'h', 'dave', 'BLOCK', '0', 'STREAMS', k1, k2, '>', '>')
        await waitBlocked(1)
        await same('XADD', k2, '3-0', 'j', '1')
        await reply(ra, fa, 'dave, on the second key')
        await sameNormalized(clock, 'XPENDING', k2, 'h', '-', '+', '10')
        // Its group destroyed on one of the keys: NOGROUP; a key turned into a string meanwhile changes nothing.
        both(ra, fa, 'XREADGROUP', 'GROUP', 'h', 'erin', 'BLOCK', '0', 'STREAMS', k1, k2, '>', '>')
        await waitBlocked(1)
        await sequence([['SET', 'other', 'x'], ['XGROUP', 'DESTROY', k2, 'h']])
        await reply(ra, fa, 'erin, whose group went')
        // XGROUP DESTROY: the blocked consumer gets the NOGROUP error.
        await same('XGROUP', 'SETID', k2, 'g', '$')
        both(ra, fa, 'XREADGROUP', 'GROUP', 'g', 'carol', 'BLOCK', '0', 'STREAMS', k2, '>')
        await waitBlocked(1)
        await same('XGROUP', 'DESTROY', k2, 'g')
        await reply(ra, fa, 'the consumer of a destroyed group')
        // RESP3, and a timeout.
        for (const c of [ra, fa]) await c.command('HELLO', '3')
        both(ra, fa, 'XREAD', 'BLOCK', '0', 'STREAMS', k1, k2, '$', '$')
        await waitBlocked(1)
        await same('XADD', k2, '9-0', 'h', '8')
        await reply(ra, fa, 'RESP3')
        both(ra, fa, 'XREAD', 'BLOCK', '50', 'STREAMS', k1, k2, '$', '$')
        await reply(ra, fa, 'timed out')
        // More than 1000 new entries at once: a blocked client without COUNT gets 1000.
        both(ra, fa, 'XREAD', 'BLOCK', '0', 'STREAMS', k1, k2, '$', '$')
        await waitBlocked(1)
        const many: Arg[][] = [['MULTI']]
        for (let i = 0; i < 1003; i++) many.push(['XADD', k1, `${100 + i}-0`, 'n', String(i)])
        many.push(['EXEC'])
        await pipeline(many)
        await reply(ra, fa, 'the first 1000 of 1003')
        // An XADD inside a transaction over two shards (WATCH: held on the transaction engine).
        both(rb, fb, 'XREAD', 'BLOCK', '0', 'STREAMS', k1, '$')
        await waitBlocked(1)
        await sequence([['WATCH', K[2]], ['MULTI'], ['XADD', k1, '5000-0', 'i', '9'], ['SET', K[3], 'v'], ['EXEC']])
        await reply(rb, fb, 'served by an XADD in EXEC')
      } finally {
        for (const c of conns) c.close()
      }
    })
  }
})

describe('the stream type', () => {
  it('TYPE, OBJECT ENCODING, SCAN TYPE, RENAME, COPY, MOVE across shards, DEL and EXISTS', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 10; i++) adds.push(['XADD', K[0], `${i}-0`, 'f', String(i), 'g', 'v'.repeat(i)])
    await sequence([...adds, ['XDEL', K[0], '3-0'], ['XSETID', K[0], '20-0', 'ENTRIESADDED', '30', 'MAXDELETEDID', '15-0'],
      ['TYPE', K[0]], ['OBJECT', 'ENCODING', K[0]], ['RENAME', K[0], K[1]], ['TYPE', K[1]], ['XRANGE', K[1], '-', '+'], ['XLEN', K[1]],
      ['COPY', K[1], K[2]], ['XRANGE', K[2], '-', '+', 'COUNT', '3'], ['XADD', K[2], '19-5', 'x', 'y'], ['XADD', K[2], '20-*', 'x', 'y'], ['XLEN', K[1]],
      ['XADD', K[1], '20-1', 'x', 'y'], ['MOVE', K[1], '1'], ['SELECT', '1'], ['XRANGE', K[1], '18', '+'], ['XTRIM', K[1], 'MAXLEN', '~', '2'], ['XLEN', K[1]],
      ['SELECT', '0'], ['COPY', K[2], K[3], 'DB', '2'], ['SELECT', '2'], ['XREVRANGE', K[3], '+', '-', 'COUNT', '2'], ['SELECT', '0'],
      ['DEL', K[2]], ['EXISTS', K[2]], ['XADD', K[3], '1-0', 'a', 'b'], ['SCAN', '0', 'TYPE', 'stream', 'COUNT', '100'], ['SCAN', '0', 'TYPE', 'string'],
      ['SET', 'str', 'v'], ['RENAME', 'str', K[3]], ['TYPE', K[3]],
    ])
  })
})

describe('WATCH', () => {
  it('XADD, XDEL, XTRIM, XSETID, XGROUP, XREADGROUP and XACK by another client abort EXEC; XRANGE, XLEN and XINFO do not', async () => {
    const other = await Promise.all([RawClient.connect(pair.redis.port, pair.redis.host), RawClient.connect(pair.flash.port, pair.flash.host)])
    const [or, of] = other
    const onOther = async (...args: Arg[]): Promise<void> => {
      const [a, b] = await Promise.all([of.command(...args), or.command(...args)])
      expect(text(a), `other client: ${args.join(' ')}`).toBe(text(b))
    }
    try {
      await sequence([['XADD', 's', '1-0', 'a', '1'], ['XADD', 's', '2-0', 'a', '2'], ['XGROUP', 'CREATE', 's', 'g', '0']])
      const writesOf: Arg[][] = [['XADD', 's', '3-0', 'a', '3'], ['XDEL', 's', '1-0'], ['XTRIM', 's', 'MAXLEN', '1'], ['XSETID', 's', '9-0'],
        ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '0'], ['XGROUP', 'SETID', 's', 'g', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>'], ['XACK', 's', 'g', '9-0', '3-0'], ['XRANGE', 's', '-', '+'], ['XLEN', 's'], ['XINFO', 'STREAM', 's'],
        ['XDEL', 's', '99-0'], ['XACK', 's', 'g', '99-0']]
      for (const w of writesOf) {
        await same('WATCH', 's')
        await onOther(...w)
        await sequence([['MULTI'], ['XLEN', 's'], ['EXEC']])
      }
    } finally {
      for (const c of other) c.close()
    }
  })
})

describe('random sequences', () => {
  it('a big pending entries list: acks from both ends and the middle, claims, new reads in between', async () => {
    const adds: Arg[][] = []
    for (let i = 1; i <= 400; i++) adds.push(['XADD', 'P', `${i}-0`, 'f', String(i)])
    const op = fc.oneof(
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }).map(ns => ['XACK', 'P', 'g', ...ns.map(n => `${n}-0`)]),
      fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 60 })).map(([c, n]) => ['XREADGROUP', 'GROUP', 'g', c, 'COUNT', String(n), 'STREAMS', 'P', '>']),
      fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 5 })).map(([c, ns]) => ['XCLAIM', 'P', 'g', c, '0', ...ns.map(n => `${n}-0`), 'JUSTID', 'FORCE']),
      fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 400 })).map(([c, n]) => ['XAUTOCLAIM', 'P', 'g', c, '0', `${n}-0`, 'COUNT', '7', 'JUSTID']),
      fc.constantFrom(['XPENDING', 'P', 'g'], ['XGROUP', 'DELCONSUMER', 'P', 'g', 'b'], ['XGROUP', 'SETID', 'P', 'g', '100-0'], ['XDEL', 'P', '5-0', '150-0']),
    )
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 60 }), async (ops) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      const cmds: Arg[][] = [...adds, ['XGROUP', 'CREATE', 'P', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'a', 'COUNT', '300', 'STREAMS', 'P', '>']]
      for (const o of ops) cmds.push(o, ['XPENDING', 'P', 'g'])
      cmds.push(['XPENDING', 'P', 'g', '-', '+', '1000'], ['XINFO', 'CONSUMERS', 'P', 'g'])
      await pipeline(cmds, clock)
    }), { numRuns: Number(process.env.STREAM_RUNS ?? 30) })
  })

  it('long streams: appends with deletions, trims, ranges, node counts and a consumer group', async () => {
    const value = fc.constantFrom('1', 'v', '12345', '-7', 'x'.repeat(70), 'y'.repeat(700), '')
    const fieldSet = fc.constantFrom(['a'], ['a', 'b'], ['b', 'a'], ['c'])
    const id = (n: number): string => `${n}-${n % 3}`
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(fieldSet, value, fc.constantFrom([], [], ['MAXLEN', '~', '30'], ['MINID', '=', '5'])).map(([f, v, t]) => ({ kind: 'add', f, v, t })) },
      { weight: 2, arbitrary: fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 4 }).map(ns => ({ kind: 'del', ns })) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('MAXLEN', 'MINID'), fc.constantFrom('=', '~'), fc.integer({ min: 0, max: 100 }), fc.constantFrom([], ['LIMIT', '5'], ['LIMIT', '0'])).map(([s, a, n, l]) => ({ kind: 'trim', s, a, n, l })) },
      { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 6 }), fc.boolean()).map(([a, b, c, r]) => ({ kind: 'range', a, b, c, r })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'info' }) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom('alice', 'bob'), fc.integer({ min: 1, max: 5 })).map(([c, n]) => ({ kind: 'read', c, n })) },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 3 }).map(ns => ({ kind: 'ack', ns })) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom('alice', 'bob', 'carol'), fc.integer({ min: 1, max: 120 })).map(([c, n]) => ({ kind: 'claim', c, n })) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 120 }), fc.constantFrom([], ['ENTRIESREAD', '3'])).map(([n, e]) => ({ kind: 'setid', n, e })) },
    )
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 150 }), async (ops) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      const cmds: Arg[][] = [['XGROUP', 'CREATE', 'L', 'g', '0', 'MKSTREAM']]
      let n = 0
      for (const o of ops as any[]) {
        if (o.kind === 'add') { n++; cmds.push(['XADD', 'L', ...o.t, id(n), ...o.f.flatMap((f: string) => [f, o.v])]) } else if (o.kind === 'del') cmds.push(['XDEL', 'L', ...o.ns.map(id)])
        else if (o.kind === 'trim') cmds.push(['XTRIM', 'L', o.s, o.a, o.s === 'MAXLEN' ? String(o.n) : id(o.n), ...(o.a === '~' ? o.l : [])])
        else if (o.kind === 'range') cmds.push([o.r ? 'XREVRANGE' : 'XRANGE', 'L', ...(o.r ? [id(o.b), id(o.a)] : [id(o.a), id(o.b)]), 'COUNT', String(o.c)])
        else if (o.kind === 'info') cmds.push(['XINFO', 'STREAM', 'L'], ['XINFO', 'GROUPS', 'L'], ['XLEN', 'L'])
        else if (o.kind === 'read') cmds.push(['XREADGROUP', 'GROUP', 'g', o.c, 'COUNT', String(o.n), 'STREAMS', 'L', '>'])
        else if (o.kind === 'ack') cmds.push(['XACK', 'L', 'g', ...o.ns.map(id)])
        else if (o.kind === 'claim') cmds.push(['XCLAIM', 'L', 'g', o.c, '0', id(o.n), 'JUSTID'], ['XAUTOCLAIM', 'L', 'g', o.c, '0', id(o.n), 'COUNT', '3'])
        else cmds.push(['XGROUP', 'SETID', 'L', 'g', id(o.n), ...o.e])
      }
      cmds.push(['XINFO', 'STREAM', 'L'], ['XINFO', 'GROUPS', 'L'], ['XPENDING', 'L', 'g'], ['XRANGE', 'L', '-', '+'])
      await pipeline(cmds, clock)
    }), { numRuns: Number(process.env.STREAM_RUNS ?? 60) })
  })

  it('stream and consumer group commands mixed with DEL, RENAME, COPY, TYPE and OBJECT ENCODING', async () => {
    const key = fc.constantFrom('s1', 's2', 'x')
    const idArg = fc.oneof(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3 })).map(([m, s]) => `${m}-${s}`),
      fc.integer({ min: 0, max: 12 }).map(String), fc.constantFrom('-', '+', '(3', '(5-1', 'x'))
    const addId = fc.oneof(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3 })).map(([m, s]) => `${m}-${s}`),
      fc.integer({ min: 0, max: 12 }).map(m => `${m}-*`))
    const fields = fc.constantFrom(['f', 'v'], ['f', 'v', 'g', 'w'], ['other', '1'], ['f', '12345678'])
    const group = fc.constantFrom('g', 'h')
    const consumer = fc.constantFrom('alice', 'bob')
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
      fc.tuple(key, group, fc.constantFrom('0', '$', '3-0'), fc.boolean()).map(([k, g, i, m]) => ['XGROUP', 'CREATE', k, g, i, ...(m ? ['MKSTREAM'] : [])]),
      fc.tuple(key, group, fc.constantFrom('0', '$', '5')).map(([k, g, i]) => ['XGROUP', 'SETID', k, g, i]),
      fc.tuple(key, group).map(([k, g]) => ['XGROUP', 'DESTROY', k, g]),
      fc.tuple(key, group, consumer).map(([k, g, c]) => ['XGROUP', 'DELCONSUMER', k, g, c]),
      fc.tuple(key, group, consumer, fc.constantFrom('>', '0', '4-0'), fc.constantFrom([], ['COUNT', '2']), fc.constantFrom([], ['NOACK']))
        .map(([k, g, c, i, n, a]) => ['XREADGROUP', 'GROUP', g, c, ...n, ...a, 'STREAMS', k, i]),
      fc.tuple(key, group, fc.array(idArg, { minLength: 1, maxLength: 3 })).map(([k, g, ids]) => ['XACK', k, g, ...ids]),
      fc.tuple(key, group).map(([k, g]) => ['XPENDING', k, g]),
      fc.tuple(key, group, fc.constantFrom([], ['alice'])).map(([k, g, c]) => ['XPENDING', k, g, '-', '+', '5', ...c]),
      fc.tuple(key, group, consumer, fc.array(idArg, { minLength: 1, maxLength: 2 }), fc.constantFrom([], ['JUSTID'], ['FORCE'], ['RETRYCOUNT', '4', 'JUSTID']))
        .map(([k, g, c, ids, o]) => ['XCLAIM', k, g, c, '0', ...ids, ...o]),
      fc.tuple(key, group, consumer, idArg).map(([k, g, c, i]) => ['XAUTOCLAIM', k, g, c, '0', i, 'COUNT', '2', 'JUSTID']),
      fc.tuple(key).map(([k]) => ['XINFO', 'GROUPS', k]), fc.tuple(key).map(([k]) => ['XINFO', 'STREAM', k]),
    )
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 50 }), async (cmds) => {
      await Promise.all([pair.r.command('FLUSHALL'), pair.f.command('FLUSHALL')])
      await pipeline(cmds, clock)
    }), { numRuns: Number(process.env.STREAM_RUNS ?? 150) })
  })
})
