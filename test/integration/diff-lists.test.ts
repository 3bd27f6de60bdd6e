// Differential tests for the non-blocking list commands (t_list.c): the same bytes go to a real
// redis-server 7.0.15 and to FlashKV (4 shards) and the replies must be identical, RESP2 and
// RESP3. Keys are picked so that LMOVE/RPOPLPUSH/LMPOP run both on one shard and across shards
// (the coordinated path). Random sequences (fast-check) mix every list command with strings,
// wrong types, bad integers and out-of-range indexes over a small key set.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { listCommands } from '../../src/commands/list.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sequence, pipeline } = pair

// Two keys on shard 0, one each on shards 1 and 2: same-shard and cross-shard pairs.
const [A0, A1] = keysOnShard(0, SHARDS, 2, 'la:')
const [B0] = keysOnShard(1, SHARDS, 1, 'lb:')
const [C0] = keysOnShard(2, SHARDS, 1, 'lc:')
/** LMPOP is registered only once table.ts accepts movable-key rows (see src/commands/list.ts). */
const hasLmpop = listCommands.some(c => c.name === 'lmpop')

const LLONG_MAX = '9223372036854775807'
const LLONG_MIN = '-9223372036854775808'

it('test keys land where the test expects', () => {
  expect([shardOfKey(A0, SHARDS), shardOfKey(A1, SHARDS), shardOfKey(B0, SHARDS), shardOfKey(C0, SHARDS)]).toEqual([0, 0, 1, 2])
})

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

describe('LPUSH, RPUSH, LPUSHX, RPUSHX, LLEN, LRANGE', () => {
  it('push at both ends, binary and empty elements', async () => {
    const bin = Buffer.from([0, 13, 10, 36, 42, 255])
    await sequence([
      ['LLEN', 'l'], ['LPUSH', 'l', 'a'], ['RPUSH', 'l', 'b', 'c'], ['LPUSH', 'l', 'x', 'y', 'z'],
      ['LRANGE', 'l', '0', '-1'], ['LLEN', 'l'], ['RPUSH', 'l', ''], ['RPUSH', 'l', bin], ['LRANGE', 'l', '0', '-1'],
      ['LPUSH', bin, bin], ['LRANGE', bin, '0', '-1'], ['TYPE', 'l'],
      ['RPUSH', 'big', 'v'.repeat(100_000), 'w'.repeat(70_000)], ['LRANGE', 'big', '0', '-1'], ['LLEN', 'big'],
    ])
  })

  it('PUSHX only on existing lists', async () => {
    await sequence([
      ['LPUSHX', 'l', 'a'], ['RPUSHX', 'l', 'a', 'b'], ['EXISTS', 'l'], ['RPUSH', 'l', 'm'],
      ['LPUSHX', 'l', 'a', 'b'], ['RPUSHX', 'l', 'y', 'z'], ['LRANGE', 'l', '0', '-1'],
      ['SET', 's', 'v'], ['LPUSHX', 's', 'a'], ['RPUSHX', 's', 'a'], ['LPUSH', 's', 'a'], ['RPUSH', 's', 'a'],
    ])
  })

  it('many elements', async () => {
    const els = Array.from({ length: 1000 }, (_, i) => `e${i}`)
    await sequence([['RPUSH', 'l', ...els], ['LPUSH', 'l', ...els], ['LLEN', 'l'], ['LRANGE', 'l', '0', '-1'],
      ['LRANGE', 'l', '990', '1010'], ['LINDEX', 'l', '1500'], ['LINDEX', 'l', '-1500']])
  })

  it('LRANGE ranges, huge and bad indexes', async () => {
    await sequence([['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e']])
    for (const [s, e] of [['0', '-1'], ['1', '3'], ['-3', '-1'], ['-100', '100'], ['3', '1'], ['5', '10'], ['-1', '-5'],
      ['0', '0'], ['-1', '-1'], [LLONG_MIN, LLONG_MAX], [LLONG_MAX, LLONG_MAX], [LLONG_MIN, LLONG_MIN], ['4', '-1'],
      ['x', '1'], ['0', 'y'], ['0', '9223372036854775808'], ['', '1'], ['01', '2'], ['+1', '2'], [' 1', '2'], ['1.0', '2']]) {
      await same('LRANGE', 'l', s, e)
      await same('LRANGE', 'missing', s, e)
    }
  })
})

describe('LPOP and RPOP', () => {
  it('single pops, count pops, deleting the emptied key', async () => {
    await sequence([
      ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'], ['LPOP', 'l'], ['RPOP', 'l'], ['LPOP', 'l', '1'], ['RPOP', 'l', '1'],
      ['LPOP', 'l', '0'], ['RPOP', 'l', '0'], ['LRANGE', 'l', '0', '-1'], ['LPOP', 'l', '5'], ['EXISTS', 'l'],
      ['RPUSH', 'l', 'a', 'b', 'c'], ['RPOP', 'l', '2'], ['RPOP', 'l', LLONG_MAX], ['EXISTS', 'l'],
      ['RPUSH', 'l', 'x'], ['RPOP', 'l'], ['EXISTS', 'l'], ['LPOP', 'l'], ['RPOP', 'l'],
    ])
  })

  it('missing keys, bad counts, wrong types, arity', async () => {
    await sequence([
      ['LPOP', 'missing'], ['LPOP', 'missing', '0'], ['LPOP', 'missing', '2'], ['RPOP', 'missing', '2'],
      ['LPOP', 'missing', '-1'], ['LPOP', 'missing', 'x'], ['RPOP', 'missing', '9223372036854775808'],
      ['SET', 's', 'v'], ['LPOP', 's'], ['LPOP', 's', '0'], ['RPOP', 's', '2'], ['RPOP', 's', '-1'],
      ['LPOP'], ['RPOP'], ['LPOP', 'l', '1', '2'], ['RPOP', 'l', '1', '2', '3'], ['RPOP', 's', 'x', 'y'],
    ])
  })

  it('RESP3 nulls', async () => {
    await hello3()
    await sequence([['LPOP', 'missing'], ['LPOP', 'missing', '2'], ['RPOP', 'missing', '0'],
      ['RPUSH', 'l', 'a', 'b'], ['LPOP', 'l', '0'], ['LPOP', 'l', '5'], ['RPOP', 'l']])
  })
})

describe('LINDEX and LSET', () => {
  it('indexes from both ends and out of range', async () => {
    await sequence([['RPUSH', 'l', 'a', 'b', 'c', 'd']])
    for (const i of ['0', '1', '3', '4', '-1', '-4', '-5', '100', '-100', LLONG_MAX, LLONG_MIN, 'x', '', '1.5', '9223372036854775808']) {
      await same('LINDEX', 'l', i)
      await same('LINDEX', 'missing', i)
      await same('LSET', 'l', i, `v${i}`)
      await same('LSET', 'missing', i, 'v')
    }
    await same('LRANGE', 'l', '0', '-1')
  })

  it('LSET across element sizes, wrong type', async () => {
    await sequence([
      ['RPUSH', 'l', 'a', 'b', 'c'], ['LSET', 'l', '1', 'x'.repeat(1000)], ['LSET', 'l', '0', ''], ['LSET', 'l', '-1', 'y'.repeat(70_000)],
      ['LRANGE', 'l', '0', '-1'], ['LSET', 'l', '1', 'z'], ['LRANGE', 'l', '0', '-1'],
      ['SET', 's', 'v'], ['LSET', 's', '0', 'x'], ['LSET', 's', 'x', 'x'], ['LINDEX', 's', '0'], ['LINDEX', 's', 'x'],
      ['LSET', 'l', '0'], ['LINDEX', 'l'], ['LINDEX', 'l', '0', '1'], ['LSET', 'l', '0', 'a', 'b'],
    ])
  })
})

describe('LINSERT', () => {
  it('before and after a pivot, first match wins, missing pivot and key', async () => {
    await sequence([
      ['RPUSH', 'l', 'a', 'b', 'a', 'c'], ['LINSERT', 'l', 'BEFORE', 'a', 'x'], ['LINSERT', 'l', 'after', 'a', 'y'],
      ['LINSERT', 'l', 'After', 'c', 'z'], ['LINSERT', 'l', 'before', 'zz', 'w'], ['LINSERT', 'l', 'before', '', 'w'],
      ['LRANGE', 'l', '0', '-1'], ['LINSERT', 'missing', 'before', 'a', 'x'], ['LINSERT', 'missing', 'middle', 'a', 'x'],
      ['LINSERT', 'l', 'middle', 'a', 'x'], ['SET', 's', 'v'], ['LINSERT', 's', 'before', 'a', 'x'], ['LINSERT', 's', 'bad', 'a', 'x'],
      ['LINSERT', 'l', 'before', 'a'], ['LINSERT', 'l', 'after', 'z', 'big'.repeat(10_000)], ['LRANGE', 'l', '-2', '-1'],
    ])
  })
})

describe('LTRIM and LREM', () => {
  it('LTRIM ranges; an emptied list is deleted', async () => {
    for (const [s, e] of [['1', '-2'], ['0', '-1'], ['-100', '100'], ['2', '1'], ['0', '0'], ['5', '10'], [LLONG_MIN, LLONG_MAX], ['-2', '-1']]) {
      await sequence([['DEL', 'l'], ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'], ['LTRIM', 'l', s, e], ['LRANGE', 'l', '0', '-1'], ['EXISTS', 'l']])
    }
    await sequence([['LTRIM', 'missing', '0', '1'], ['LTRIM', 'missing', 'x', '1'], ['LTRIM', 'l', '0', 'y'],
      ['SET', 's', 'v'], ['LTRIM', 's', '0', '1'], ['LTRIM', 's', 'x', '1'], ['LTRIM', 'l', '0']])
  })

  it('LREM from the head, the tail, everything', async () => {
    for (const n of ['0', '1', '2', '-1', '-2', '100', '-100', LLONG_MIN, LLONG_MAX]) {
      await sequence([['DEL', 'l'], ['RPUSH', 'l', 'a', 'b', 'a', 'c', 'a', ''], ['LREM', 'l', n, 'a'], ['LRANGE', 'l', '0', '-1'],
        ['LREM', 'l', n, ''], ['LREM', 'l', n, 'zz']])
    }
    await sequence([['RPUSH', 'm', 'a', 'a'], ['LREM', 'm', '0', 'a'], ['EXISTS', 'm'], ['LREM', 'missing', '0', 'a'],
      ['LREM', 'missing', 'x', 'a'], ['SET', 's', 'v'], ['LREM', 's', '0', 'a'], ['LREM', 's', 'x', 'a'], ['LREM', 's', '0']])
  })
})

describe('LPOS', () => {
  it('RANK, COUNT and MAXLEN in every combination', async () => {
    await sequence([['RPUSH', 'l', 'a', 'b', 'c', 'a', 'b', 'c', 'a', 'x', 'a']])
    const opts: Arg[][] = [[], ['RANK', '1'], ['RANK', '2'], ['RANK', '-1'], ['RANK', '-3'], ['RANK', '9'], ['RANK', LLONG_MAX],
      ['RANK', LLONG_MIN], ['RANK', '-9223372036854775807']]
    const counts: Arg[][] = [[], ['COUNT', '0'], ['COUNT', '1'], ['COUNT', '2'], ['COUNT', '100']]
    const maxlens: Arg[][] = [[], ['MAXLEN', '0'], ['MAXLEN', '1'], ['MAXLEN', '4'], ['MAXLEN', '100']]
    for (const o of opts) {
      for (const c of counts) {
        for (const m of maxlens) {
          await same('LPOS', 'l', 'a', ...o, ...c, ...m)
        }
      }
    }
    await sequence([['LPOS', 'l', 'a', 'MAXLEN', '3', 'RANK', '-2', 'COUNT', '0'], ['lpos', 'l', 'b', 'rank', '2', 'count', '1'],
      ['LPOS', 'l', 'a', 'RANK', '2', 'RANK', '-1'], ['LPOS', 'l', 'a', 'COUNT', '1', 'COUNT', '0'], ['LPOS', 'l', 'zz'],
      ['LPOS', 'l', 'zz', 'COUNT', '0'], ['LPOS', 'l', '']])
  })

  it('errors, missing keys, wrong type', async () => {
    await sequence([
      ['RPUSH', 'l', 'a'], ['SET', 's', 'v'],
      ['LPOS', 'l', 'a', 'RANK', '0'], ['LPOS', 'missing', 'a', 'RANK', '0'], ['LPOS', 's', 'a', 'RANK', '0'],
      ['LPOS', 'l', 'a', 'RANK', 'x'], ['LPOS', 'l', 'a', 'RANK', '9223372036854775808'], ['LPOS', 'l', 'a', 'COUNT', '-1'],
      ['LPOS', 'l', 'a', 'COUNT', 'x'], ['LPOS', 'l', 'a', 'MAXLEN', '-1'], ['LPOS', 'l', 'a', 'MAXLEN', 'x'],
      ['LPOS', 'l', 'a', 'RANK'], ['LPOS', 'l', 'a', 'COUNT'], ['LPOS', 'l', 'a', 'FOO', '1'], ['LPOS', 'l', 'a', 'rank', '1', 'x'],
      ['LPOS', 'missing', 'a'], ['LPOS', 'missing', 'a', 'COUNT', '0'], ['LPOS', 'missing', 'a', 'COUNT', '-1'],
      ['LPOS', 's', 'a'], ['LPOS', 's', 'a', 'COUNT', '1'], ['LPOS', 'l'],
    ])
  })

  it('RESP3', async () => {
    await hello3()
    await sequence([['RPUSH', 'l', 'a'], ['LPOS', 'l', 'zz'], ['LPOS', 'missing', 'a'], ['LPOS', 'missing', 'a', 'COUNT', '1'],
      ['LPOS', 'l', 'a', 'COUNT', '0'], ['LINDEX', 'l', '5'], ['LINDEX', 'missing', '0']])
  })
})

describe('LMOVE and RPOPLPUSH', () => {
  const dirs = ['LEFT', 'RIGHT']
  const cases: Array<[string, string, string]> = [['same key', A0, A0], ['same shard', A0, A1], ['across shards', A0, B0]]
  for (const [label, src, dst] of cases) {
    it(`every direction, ${label}`, async () => {
      await sequence([['RPUSH', src, 'a', 'b', 'c', 'd']])
      for (const from of dirs) {
        for (const to of dirs) {
          await sequence([['LMOVE', src, dst, from, to], ['LRANGE', src, '0', '-1'], ['LRANGE', dst, '0', '-1']])
        }
      }
      await sequence([['RPOPLPUSH', src, dst], ['LRANGE', src, '0', '-1'], ['LRANGE', dst, '0', '-1'],
        ['lmove', src, dst, 'left', 'Right'], ['EXISTS', src, dst]])
      // Drain the source: it is deleted once empty (unless it is also the destination).
      for (let i = 0; i < 6; i++) await sequence([['LMOVE', src, dst, 'LEFT', 'RIGHT'], ['EXISTS', src], ['LLEN', dst]])
      await sequence([['RPOPLPUSH', src, dst], ['LMOVE', src, dst, 'LEFT', 'LEFT']])
    })

    it(`check order: missing source, wrong types, bad directions, ${label}`, async () => {
      if (src === dst) return
      await sequence([
        ['LMOVE', src, dst, 'UP', 'LEFT'], ['LMOVE', src, dst, 'LEFT', 'DOWN'], ['LMOVE', src, dst, 'LEFT', 'LEFT'],
        ['RPOPLPUSH', src, dst], ['EXISTS', dst],
        ['SET', dst, 'v'], ['LMOVE', src, dst, 'LEFT', 'LEFT'], ['RPOPLPUSH', src, dst], ['LMOVE', src, dst, 'UP', 'LEFT'],
        ['RPUSH', src, 'a'], ['LMOVE', src, dst, 'LEFT', 'LEFT'], ['RPOPLPUSH', src, dst], ['LRANGE', src, '0', '-1'], ['GET', dst],
        ['DEL', src], ['SET', src, 'v'], ['LMOVE', src, dst, 'LEFT', 'LEFT'], ['DEL', dst], ['LMOVE', src, dst, 'LEFT', 'LEFT'],
        ['RPOPLPUSH', src, dst], ['EXISTS', dst], ['LMOVE', src, dst, 'LEFT'], ['RPOPLPUSH', src],
        ['DEL', src], ['RPUSH', src, Buffer.from([0, 255, 13, 10]), ''], ['LMOVE', src, dst, 'LEFT', 'LEFT'], ['RPOPLPUSH', src, dst],
        ['LRANGE', dst, '0', '-1'], ['RPUSH', src, 'x'.repeat(100_000)], ['RPOPLPUSH', src, dst], ['LINDEX', dst, '0'],
      ])
    })

    it(`RESP3, ${label}`, async () => {
      await hello3()
      await sequence([['LMOVE', src, dst, 'LEFT', 'RIGHT'], ['RPOPLPUSH', src, dst], ['RPUSH', src, 'a'], ['RPOPLPUSH', src, dst]])
    })
  }

  it('cross-shard moves keep every element exactly once under concurrent clients', async () => {
    const n = 50
    const els = Array.from({ length: n }, (_, i) => `e${i}`)
    await pair.f.command('RPUSH', A0, ...els)
    const clients = await Promise.all([0, 1, 2, 3].map(async () => await RawClient.connect(pair.flash.port, pair.flash.host)))
    try {
      await Promise.all(clients.map(async (c, i) => {
        const cmds: Arg[][] = []
        for (let k = 0; k < 200; k++) {
          const keys = [A0, B0, C0, A1]
          cmds.push(k % 2 === 0 ? ['LMOVE', keys[(i + k) % 4], keys[(i + k + 1) % 4], 'LEFT', 'RIGHT'] : ['RPOPLPUSH', keys[(i + k + 2) % 4], keys[(i + k + 1) % 4]])
        }
        c.send(Buffer.concat(cmds.map((cmd) => encodeCommand(cmd))))
        await c.readReplies(cmds.length, 20_000)
      }))
      const all: string[] = []
      for (const k of [A0, B0, C0, A1]) {
        const reply = text(await pair.f.command('LRANGE', k, '0', '-1'))
        all.push(...[...reply.matchAll(/\$\d+\r\n(e\d+)\r\n/g)].map(m => m[1]))
      }
      expect(all.sort()).toEqual([...els].sort())
    } finally {
      for (const c of clients) c.close()
    }
  })
})

describe.skipIf(!hasLmpop)('LMPOP', () => {
  it('pops from the first non-empty list, on one shard and across shards', async () => {
    for (const keys of [[A0, A1], [A0, B0, C0], [C0, B0, A0, A1]]) {
      await sequence([
        ['FLUSHALL'], ['LMPOP', String(keys.length), ...keys, 'LEFT'], ['RPUSH', keys[keys.length - 1], 'a', 'b', 'c'],
        ['LMPOP', String(keys.length), ...keys, 'LEFT'], ['LMPOP', String(keys.length), ...keys, 'RIGHT', 'COUNT', '1'],
        ['RPUSH', keys[1], 'x', 'y', 'z'], ['LMPOP', String(keys.length), ...keys, 'right', 'count', '2'],
        ['LMPOP', String(keys.length), ...keys, 'LEFT', 'COUNT', '10'], ['LMPOP', String(keys.length), ...keys, 'LEFT', 'COUNT', LLONG_MAX],
        ['EXISTS', ...keys],
      ])
    }
  })

  it('a wrong type stops the search only when it comes before a non-empty list', async () => {
    for (const [s, l, m] of [[A0, A1, 'nokey:0'], [A0, B0, C0]]) {
      await sequence([
        ['FLUSHALL'], ['SET', s, 'v'], ['RPUSH', l, 'a', 'b'],
        ['LMPOP', '2', s, l, 'LEFT'], ['LMPOP', '2', l, s, 'LEFT'], ['LMPOP', '3', m, s, l, 'LEFT'], ['LMPOP', '2', m, l, 'LEFT'],
        ['LMPOP', '2', m, s, 'LEFT'], ['LMPOP', '1', s, 'LEFT'], ['LMPOP', '1', m, 'LEFT'],
      ])
    }
  })

  it('argument errors', async () => {
    await sequence([['RPUSH', A0, 'a'], ['RPUSH', B0, 'b']])
    for (const args of [['0', A0, 'LEFT'], ['-1', A0, 'LEFT'], ['x', A0, 'LEFT'], ['', A0, 'LEFT'], ['3', A0, B0, 'LEFT'],
      ['2', A0, B0], ['1', A0, 'UP'], ['2', A0, B0, 'UP'], ['1', A0, 'LEFT', 'COUNT', '0'], ['2', A0, B0, 'LEFT', 'COUNT', '0'],
      ['2', A0, B0, 'LEFT', 'COUNT', '-1'], ['1', A0, 'LEFT', 'COUNT', 'x'], ['1', A0, 'LEFT', 'COUNT'], ['1', A0, 'LEFT', 'FOO'],
      ['2', A0, B0, 'LEFT', 'COUNT', '1', 'COUNT', '1'], ['1', A0, 'LEFT', 'COUNT', '1', 'x'], [LLONG_MAX, A0, 'LEFT'],
      ['9223372036854775808', A0, 'LEFT'], ['1', A0, B0], ['1', 'LEFT'], ['1'], [], ['1', A0]]) {
      await same('LMPOP', ...args)
    }
  })

  it('RESP3', async () => {
    await hello3()
    await sequence([['LMPOP', '2', A0, B0, 'LEFT'], ['RPUSH', B0, 'a', 'b'], ['LMPOP', '2', A0, B0, 'LEFT', 'COUNT', '5'],
      ['LMPOP', '1', A0, 'RIGHT']])
  })
})

describe('wrong types and arity', () => {
  it('every list command against a string key', async () => {
    await sequence([['SET', 's', 'v'], ['LLEN', 's'], ['LRANGE', 's', '0', '-1'], ['LINDEX', 's', '0'], ['LPOS', 's', 'v'],
      ['LPUSH', 's', 'a'], ['RPUSH', 's', 'a'], ['LPOP', 's'], ['RPOP', 's'], ['LREM', 's', '0', 'a'], ['LTRIM', 's', '0', '1'],
      ['LSET', 's', '0', 'a'], ['LINSERT', 's', 'before', 'a', 'b'], ['GET', 's'], ['RPUSH', 'l', 'a'], ['GET', 'l'],
      ['SET', 'l', 'v'], ['GET', 'l'], ['LLEN', 'l']])
  })

  it('arity errors', async () => {
    await sequence([['LLEN'], ['LLEN', 'a', 'b'], ['LRANGE', 'a', '0'], ['LRANGE', 'a', '0', '1', '2'], ['LINDEX', 'a'],
      ['LPUSH', 'a'], ['RPUSH'], ['LPUSHX', 'a'], ['RPUSHX'], ['LPOP'], ['RPOP'], ['LREM', 'a', '0'], ['LTRIM', 'a'],
      ['LSET', 'a', '0'], ['LINSERT', 'a', 'before', 'x'], ['LPOS', 'a'], ['LMOVE', 'a', 'b', 'LEFT'],
      ['LMOVE', 'a', 'b', 'LEFT', 'LEFT', 'x'], ['RPOPLPUSH', 'a'], ['RPOPLPUSH', 'a', 'b', 'c'], ['lmove'], ['rpoplpush']])
  })

  it('expired lists are gone for every command', async () => {
    await sequence([['RPUSH', 'l', 'a', 'b'], ['PEXPIRE', 'l', '1']])
    await new Promise(resolve => setTimeout(resolve, 20))
    await sequence([['LLEN', 'l'], ['LPUSHX', 'l', 'x'], ['LINDEX', 'l', '0'], ['LSET', 'l', '0', 'x'], ['RPUSH', 'l', 'c'],
      ['LRANGE', 'l', '0', '-1'], ['TTL', 'l']])
  })
})

describe('random list command sequences (fast-check)', () => {
  // Small key set: {t} keys share a shard, the la:/lb:/lc: keys sit on shards 0, 0, 1, 2.
  const keys = [A0, A1, B0, C0, '{t}x', '{t}y', 'k']
  const key = fc.constantFrom(...keys)
  const value = fc.oneof(
    fc.constantFrom('a', 'b', 'c', ''),
    fc.string({ maxLength: 6 }),
    fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
  )
  const index = fc.oneof(fc.integer({ min: -6, max: 6 }).map(String), fc.constantFrom(LLONG_MIN, LLONG_MAX, 'x', '', '9223372036854775808'))
  const count = fc.oneof(fc.integer({ min: -2, max: 5 }).map(String), fc.constantFrom('x', LLONG_MAX))
  const dir = fc.constantFrom('LEFT', 'RIGHT', 'left', 'UP')
  const vals = fc.array(value, { minLength: 1, maxLength: 4 })
  const lposOpt = fc.oneof(
    fc.constant<Arg[]>([]),
    fc.tuple(fc.constantFrom('RANK', 'COUNT', 'MAXLEN', 'rank'), index).map(([o, n]) => [o, n]),
    fc.tuple(index, count).map(([r, c]) => ['RANK', r, 'COUNT', c]),
  )
  const commands: Array<fc.Arbitrary<Arg[]>> = [
    fc.tuple(fc.constantFrom('LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX'), key, vals).map(([c, k, v]) => [c, k, ...v]),
    fc.tuple(fc.constantFrom('LPOP', 'RPOP'), key, fc.option(count)).map(([c, k, n]) => n === null ? [c, k] : [c, k, n]),
    key.map((k) => ['LLEN', k]),
    fc.tuple(key, index, index).map(([k, s, e]) => ['LRANGE', k, s, e]),
    fc.tuple(key, index).map(([k, i]) => ['LINDEX', k, i]),
    fc.tuple(key, index, value).map(([k, i, v]) => ['LSET', k, i, v]),
    fc.tuple(key, fc.constantFrom('BEFORE', 'after', 'x'), value, value).map(([k, w, p, v]) => ['LINSERT', k, w, p, v]),
    fc.tuple(key, index, index).map(([k, s, e]) => ['LTRIM', k, s, e]),
    fc.tuple(key, count, value).map(([k, n, v]) => ['LREM', k, n, v]),
    fc.tuple(key, value, lposOpt).map(([k, v, o]) => ['LPOS', k, v, ...o]),
    fc.tuple(key, key, dir, dir).map(([a, b, x, y]) => ['LMOVE', a, b, x, y]),
    fc.tuple(key, key).map(([a, b]) => ['RPOPLPUSH', a, b]),
    fc.tuple(key, value).map(([k, v]) => ['SET', k, v]),
    key.map((k) => ['DEL', k]),
    key.map((k) => ['TYPE', k]),
  ]
  if (hasLmpop) {
    commands.push(fc.tuple(fc.array(key, { minLength: 1, maxLength: 3 }), dir, fc.option(count))
      .map(([ks, d, n]) => n === null ? ['LMPOP', String(ks.length), ...ks, d] : ['LMPOP', String(ks.length), ...ks, d, 'COUNT', n]))
  }
  const command = fc.oneof(...commands)

  it('replies match Redis byte for byte', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (cmds) => {
      await pipeline([['FLUSHALL'], ...cmds])
    }), { numRuns: 100 })
  })

  it('final contents match after each sequence', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (cmds) => {
      await pipeline([['FLUSHALL'], ...cmds, ...keys.map((k) => ['LRANGE', k, '0', '-1']), ...keys.map((k) => ['TYPE', k])])
    }), { numRuns: 50 })
  })
})
