// Differential tests for the string commands (t_string.c): the same bytes go to a real
// redis-server 7.0.15 and to FlashKV (4 shards) and the replies must be identical, RESP2 and
// RESP3. MSETNX and LCS run both with all keys on one shard and across shards (the coordinated
// path). INCRBYFLOAT is checked digit for digit (Redis's x87 long double). TTLs that may round
// either way between the two servers are reduced to their sign (ttlSign). Random sequences
// (fast-check) mix every string command with lists (wrong types), bad integers, binary values
// and keys that share a shard ({tag}) or not.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { useDiffPair, ttlSign, type Arg } from './helpers/diff.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sameNormalized, sequence } = pair

// Two keys on shard 0, one each on shards 1 and 2: same-shard and cross-shard pairs.
const [A0, A1] = keysOnShard(0, SHARDS, 2, 'sa:')
const [B0] = keysOnShard(1, SHARDS, 1, 'sb:')
const [C0] = keysOnShard(2, SHARDS, 1, 'sc:')

const LLONG_MAX = '9223372036854775807'
const LLONG_MIN = '-9223372036854775808'
const BIN = Buffer.from([0, 1, 13, 10, 36, 255, 254, 42])

it('test keys land where the test expects', () => {
  expect([shardOfKey(A0, SHARDS), shardOfKey(A1, SHARDS), shardOfKey(B0, SHARDS), shardOfKey(C0, SHARDS)]).toEqual([0, 0, 1, 2])
})

async function hello3 (): Promise<void> {
  await Promise.all([pair.r.command('HELLO', '3'), pair.f.command('HELLO', '3')])
}

/** Runs cmds and compares the replies, TTL replies reduced to their sign. */
async function sequenceTtl (cmds: readonly Arg[][]): Promise<void> {
  for (const cmd of cmds) {
    if (String(cmd[0]).toUpperCase() === 'TTL') await sameNormalized(ttlSign, ...cmd)
    else await same(...cmd)
  }
}

describe('arity of every string command', () => {
  it('one argument short, and one too many for fixed arities', async () => {
    await sequence([
      ['APPEND', 'k'], ['APPEND', 'k', 'v', 'x'], ['DECR'], ['DECR', 'k', 'x'], ['DECRBY', 'k'], ['DECRBY', 'k', '1', '2'],
      ['GET'], ['GETDEL'], ['GETDEL', 'k', 'x'], ['GETEX'], ['GETRANGE', 'k', '0'], ['GETRANGE', 'k', '0', '1', '2'],
      ['GETSET', 'k'], ['GETSET', 'k', 'v', 'x'], ['INCR'], ['INCR', 'k', 'x'], ['INCRBY', 'k'], ['INCRBY', 'k', '1', '2'],
      ['INCRBYFLOAT', 'k'], ['INCRBYFLOAT', 'k', '1', '2'], ['LCS', 'k'], ['MGET'], ['MSET', 'k'], ['MSETNX'], ['MSETNX', 'k'],
      ['MSETNX', 'a', '1', 'b'], ['msetnx', 'a', '1', '{a}b', '2', 'c'], ['PSETEX', 'k', '100'], ['PSETEX', 'k', '100', 'v', 'x'],
      ['SET', 'k'], ['SETEX', 'k', '100'], ['SETEX', 'k', '100', 'v', 'x'], ['SETNX', 'k'], ['SETNX', 'k', 'v', 'x'],
      ['SETRANGE', 'k', '0'], ['SETRANGE', 'k', '0', 'v', 'x'], ['STRLEN'], ['STRLEN', 'k', 'x'], ['SUBSTR', 'k', '0'],
      ['SUBSTR', 'k', '0', '1', '2'], ['EXISTS', 'a', 'b', 'k'],
    ])
  })
})

describe('SET options, SETNX, SETEX, PSETEX, GETSET', () => {
  it('option words are compared as C strings: a NUL ends them', async () => {
    await sequence([
      ['SET', 'k', 'v', Buffer.from('nx\0y')], ['SET', 'k', 'w', Buffer.from('NX\0')], ['GET', 'k'],
      ['SET', 'k', 'w', Buffer.from('xx\0zz')], ['GET', 'k'], ['SET', 'k', 'v', Buffer.from('get\0')],
      ['SET', 'k', 'v', Buffer.from('\0nx')], ['SET', 'k', 'v', Buffer.from('n\0x')], ['SET', 'k', 'v', 'EX', Buffer.from('10\0')],
      ['SET', 'k', 'v', Buffer.from('keepttl\0x')], ['GET', 'k'],
    ])
  })

  it('SET over other types, GET option against wrong types', async () => {
    await sequenceTtl([
      ['RPUSH', 'l', 'a'], ['SET', 'l', 'v', 'GET'], ['TYPE', 'l'], ['SET', 'l', 'v', 'NX'], ['SET', 'l', 'v', 'XX', 'EX', '100'],
      ['TYPE', 'l'], ['TTL', 'l'], ['GET', 'l'], ['RPUSH', 'm', 'a'], ['SET', 'm', 'v', 'KEEPTTL'], ['GET', 'm'],
    ])
  })

  it('SETNX', async () => {
    await sequence([
      ['SETNX', 'k', 'v'], ['SETNX', 'k', 'w'], ['GET', 'k'], ['RPUSH', 'l', 'a'], ['SETNX', 'l', 'v'], ['TYPE', 'l'],
      ['SETNX', BIN, BIN], ['GET', BIN], ['SETNX', 'e', ''], ['GET', 'e'], ['setnx', 'e', 'x'],
      ['SET', 'x', 'v', 'PX', '1'],
    ])
    await new Promise((resolve) => setTimeout(resolve, 10))
    await sequence([['SETNX', 'x', 'again'], ['GET', 'x']])
  })

  it('SETEX and PSETEX', async () => {
    const cmds: Arg[][] = []
    for (const cmd of ['SETEX', 'PSETEX', 'setex']) {
      for (const t of ['0', '-1', '1.5', 'abc', '', '01', LLONG_MAX, LLONG_MIN, '9223372036854775', '9223372036854776', '99999999999999999999']) {
        cmds.push([cmd, 'k', t, 'v'], ['EXISTS', 'k'])
      }
      cmds.push([cmd, 'k', '100000', 'v'], ['GET', 'k'], ['TTL', 'k'], ['SET', 'k', 'w'], ['TTL', 'k'])
      cmds.push(['RPUSH', 'l', 'x'], [cmd, 'l', '100000', 'v'], ['GET', 'l'], ['TTL', 'l'], ['DEL', 'l'])
    }
    await sequenceTtl(cmds)
  })

  it('GETSET returns the old value and drops the TTL', async () => {
    await sequenceTtl([
      ['GETSET', 'k', 'v'], ['GETSET', 'k', 'w'], ['GET', 'k'], ['SET', 'k', 'x', 'EX', '1000'], ['GETSET', 'k', 'y'],
      ['TTL', 'k'], ['RPUSH', 'l', 'a'], ['GETSET', 'l', 'v'], ['TYPE', 'l'], ['GETSET', BIN, ''], ['GETSET', BIN, BIN],
      ['GET', BIN],
    ])
  })
})

describe('GETDEL and GETEX', () => {
  it('GETDEL', async () => {
    await sequence([
      ['GETDEL', 'k'], ['SET', 'k', 'v'], ['GETDEL', 'k'], ['EXISTS', 'k'], ['RPUSH', 'l', 'a'], ['GETDEL', 'l'],
      ['EXISTS', 'l'], ['SET', BIN, BIN], ['GETDEL', BIN], ['DBSIZE'],
    ])
  })

  it('GETEX options, order and conflicts', async () => {
    const cmds: Arg[][] = [['SET', 'k', 'v']]
    for (const opts of [['EX', '10', 'PERSIST'], ['PERSIST', 'EX', '10'], ['PERSIST', 'PERSIST'], ['EX', '10', 'EX', '20'],
      ['EX', '10', 'PX', '20'], ['PX', '10', 'EXAT', '20'], ['EXAT', '10', 'PXAT', '20'], ['PXAT', '10', 'EX', '20'],
      ['EX'], ['PX'], ['EXAT'], ['PXAT'], ['KEEPTTL'], ['NX'], ['XX'], ['GET'], ['FOO'], [''], ['EX', '10', 'FOO'],
      ['persist', 'FOO'], [Buffer.from('persist\0x')], ['ex', 'abc'], ['ex', '0'], ['px', '-1'], ['exat', '0'],
      ['pxat', '-5'], ['ex', '1.5'], ['EX', LLONG_MAX], ['EX', '9223372036854776'], ['PX', LLONG_MAX]]) {
      cmds.push(['GETEX', 'k', ...opts], ['GETEX', 'nokey', ...opts], ['TTL', 'k'])
    }
    cmds.push(['RPUSH', 'l', 'a'], ['GETEX', 'l'], ['GETEX', 'l', 'EX', 'abc'], ['GETEX', 'l', 'FOO'])
    await sequenceTtl(cmds)
  })

  it('GETEX sets, replaces and removes TTLs; past absolute times delete', async () => {
    const pxat = String(Date.now() + 1_000_000)
    await sequenceTtl([
      ['SET', 'k', 'v'], ['GETEX', 'k'], ['TTL', 'k'], ['GETEX', 'k', 'EX', '1000'], ['TTL', 'k'],
      ['GETEX', 'k', 'PX', '2000000'], ['TTL', 'k'], ['GETEX', 'k', 'PERSIST'], ['TTL', 'k'],
      ['GETEX', 'k', 'PXAT', pxat], ['TTL', 'k'], ['GETEX', 'k'], ['TTL', 'k'],
      ['GETEX', 'k', 'EXAT', '1'], ['EXISTS', 'k'], ['SET', 'k', 'v'], ['GETEX', 'k', 'pxat', '1'], ['GET', 'k'],
      ['SET', 'k', BIN], ['GETEX', 'k', 'ex', '100'], ['DBSIZE'],
    ])
  })

  it('RESP3 nulls', async () => {
    await hello3()
    await sequence([['GETEX', 'nokey'], ['GETDEL', 'nokey'], ['GETSET', 'nokey', 'v'], ['GETSET', 'nokey', 'w'],
      ['SET', 'k', 'v', 'NX'], ['SET', 'k', 'v', 'XX', 'GET'], ['SET', 'z', 'v', 'XX']])
  })
})

describe('APPEND, STRLEN, SETRANGE, GETRANGE, SUBSTR', () => {
  it('APPEND creates and extends, binary safe', async () => {
    await sequence([
      ['APPEND', 'k', 'hello'], ['APPEND', 'k', ' world'], ['GET', 'k'], ['STRLEN', 'k'], ['APPEND', 'k', ''],
      ['APPEND', 'e', ''], ['EXISTS', 'e'], ['GET', 'e'], ['APPEND', BIN, BIN], ['APPEND', BIN, BIN], ['GET', BIN],
      ['SET', 'n', '12'], ['APPEND', 'n', '34'], ['INCR', 'n'], ['RPUSH', 'l', 'a'], ['APPEND', 'l', 'x'],
      ['STRLEN', 'l'], ['STRLEN', 'nokey'], ['APPEND', 'big', 'x'.repeat(70_000)], ['APPEND', 'big', 'y'.repeat(70_000)],
      ['STRLEN', 'big'], ['GET', 'big'],
    ])
  })

  it('APPEND keeps the TTL', async () => {
    await sequenceTtl([['SET', 'k', 'v', 'EX', '1000'], ['APPEND', 'k', 'w'], ['TTL', 'k'], ['GET', 'k']])
  })

  it('SETRANGE pads with zero bytes and checks its offset', async () => {
    await sequence([
      ['SETRANGE', 'k', '0', ''], ['EXISTS', 'k'], ['SETRANGE', 'k', '5', ''], ['EXISTS', 'k'], ['SETRANGE', 'k', '5', 'x'],
      ['GET', 'k'], ['SETRANGE', 'k', '0', 'abc'], ['GET', 'k'], ['SETRANGE', 'k', '2', 'ZZZZZZ'], ['GET', 'k'],
      ['SETRANGE', 'k', '100', ''], ['STRLEN', 'k'], ['SETRANGE', 'k', '-1', 'x'], ['SETRANGE', 'k', 'x', 'x'],
      ['SETRANGE', 'k', '', 'x'], ['SETRANGE', 'k', '1.0', 'x'], ['SETRANGE', 'k', LLONG_MIN, 'x'],
      ['SETRANGE', 'k', LLONG_MAX, 'x'], ['SETRANGE', 'k', '9223372036854775808', 'x'], ['SETRANGE', 'k', '536870911', ''],
      ['SETRANGE', 'k', '536870912', 'x'], ['SETRANGE', 'k', '536870911', 'xy'], ['SETRANGE', 'nokey', '536870912', 'x'],
      ['EXISTS', 'nokey'], ['SETRANGE', 'nokey', '-1', ''], ['SETRANGE', 'nokey', 'x', ''],
      ['SET', 'n', '1234'], ['SETRANGE', 'n', '1', '9'], ['GET', 'n'], ['INCR', 'n'], ['SETRANGE', BIN, '3', BIN], ['GET', BIN],
      ['RPUSH', 'l', 'a'], ['SETRANGE', 'l', '0', 'x'], ['SETRANGE', 'l', '0', ''], ['SETRANGE', 'l', '-1', 'x'],
      ['SETRANGE', 'big', '100000', 'end'], ['STRLEN', 'big'], ['GETRANGE', 'big', '99990', '-1'],
    ])
  })

  it('GETRANGE and SUBSTR index rules', async () => {
    const cmds: Arg[][] = [['SET', 's', 'Hello, world'], ['SET', 'e', ''], ['SET', 'n', '-1234567']]
    const idx = ['0', '1', '5', '11', '12', '100', '-1', '-5', '-12', '-13', '-100', LLONG_MAX, LLONG_MIN,
      '-9223372036854775807', '9223372036854775806']
    for (const cmd of ['GETRANGE', 'SUBSTR']) {
      for (const from of idx) for (const to of idx) cmds.push([cmd, 's', from, to])
      for (const [from, to] of [['0', '-1'], ['-1', '0'], ['0', '0'], ['5', '3']]) cmds.push([cmd, 'e', from, to], [cmd, 'nokey', from, to], [cmd, 'n', from, to])
      cmds.push([cmd, 's', 'x', '1'], [cmd, 's', '1', 'x'], [cmd, 's', '', '1'], [cmd, 's', '9223372036854775808', '1'],
        [cmd, 'nokey', 'x', '1'], ['RPUSH', 'l', 'a'], [cmd, 'l', '0', '1'], [cmd, 'l', 'x', '1'])
    }
    await sequence(cmds)
  })
})

describe('INCR, DECR, INCRBY, DECRBY', () => {
  it('counting, limits and overflow', async () => {
    await sequence([
      ['INCR', 'k'], ['INCR', 'k'], ['DECR', 'k'], ['INCRBY', 'k', '100'], ['DECRBY', 'k', '-50'], ['DECRBY', 'k', '1000'],
      ['GET', 'k'], ['SET', 'k', LLONG_MAX], ['INCR', 'k'], ['INCRBY', 'k', '0'], ['DECR', 'k'], ['INCRBY', 'k', '1'],
      ['SET', 'k', LLONG_MIN], ['DECR', 'k'], ['DECRBY', 'k', '1'], ['INCRBY', 'k', '-1'], ['INCRBY', 'k', LLONG_MAX],
      ['INCRBY', 'k', LLONG_MAX], ['GET', 'k'], ['DECRBY', 'k', LLONG_MIN], ['DECRBY', 'nokey', LLONG_MIN], ['EXISTS', 'nokey'],
      ['INCRBY', 'nokey', LLONG_MIN], ['DECR', 'nokey'], ['DECRBY', 'nokey', LLONG_MAX], ['GET', 'nokey'],
      ['SET', 'b', '9007199254740991'], ['INCR', 'b'], ['INCR', 'b'], ['INCRBY', 'b', '9007199254740993'], ['GET', 'b'],
      ['DECRBY', 'b', '18014398509481986'], ['DECRBY', 'b', '9007199254740993'], ['GET', 'b'],
      ['SET', 'c', '-9007199254740991'], ['DECR', 'c'], ['DECR', 'c'], ['INCRBY', 'c', '-123456789012345678'], ['GET', 'c'],
    ])
  })

  it('values and increments that are not int64', async () => {
    const cmds: Arg[][] = []
    for (const v of ['', ' 1', '1 ', '+1', '01', '-0', '1.0', '1e3', 'abc', '9223372036854775808', '-9223372036854775809',
      '99999999999999999999', '0x10', '0', '-1', Buffer.from('1\0')]) {
      cmds.push(['SET', 'k', v], ['INCR', 'k'], ['SET', 'k', v], ['DECRBY', 'k', '1'], ['INCRBY', 'n', v], ['DECRBY', 'n', v], ['GET', 'k'])
    }
    cmds.push(['RPUSH', 'l', 'a'], ['INCR', 'l'], ['DECR', 'l'], ['INCRBY', 'l', '1'], ['INCRBY', 'l', 'x'], ['DECRBY', 'l', LLONG_MIN])
    await sequence(cmds)
  })

  it('keep the TTL', async () => {
    await sequenceTtl([['SET', 'k', '1', 'EX', '1000'], ['INCR', 'k'], ['TTL', 'k'], ['DECRBY', 'k', '5'], ['TTL', 'k'],
      ['SET', 'k', '9007199254740993', 'EX', '1000'], ['INCR', 'k'], ['TTL', 'k'], ['GET', 'k']])
  })
})

describe('INCRBYFLOAT', () => {
  it('long double sums printed with %.17Lf', async () => {
    const cmds: Arg[][] = []
    for (const by of ['0.1', '0.1', '0.1', '1e-10', '3.0e3', '-5', '10.50', '5.0e3', '1.5e300', '-1.5e300', '1e20', '-1e20',
      '0.000003814697265625', '0.000000000000000015', '7.5e-18', '99.99999999999999999', '12345678901234567890123', '-0',
      '+.5', '5.', '0x10', '0x1.8p1', '1E5', '1e+5', '-1e-5', '1e4900', '-1e4900', '1.7976931348623157e308']) {
      cmds.push(['INCRBYFLOAT', 'f', by])
    }
    for (const start of ['0', '1', '-1', '10.5', '1.1', '123456789012345678', LLONG_MAX, '1e300', '0x10', '.5', '+7', '-0',
      '0.333333333333333333', '1e4900']) {
      for (const by of ['0.1', '-0.1', '1e-17', '3']) cmds.push(['SET', 'g', start], ['INCRBYFLOAT', 'g', by])
    }
    await sequence(cmds)
  })

  it('invalid floats, NaN and infinity', async () => {
    const cmds: Arg[][] = []
    for (const by of ['', ' 1', '1 ', '\t1', '1e', '1e+', '.', '-', '0x', '0x1p', 'abc', 'nan', 'NaN', '-nan', 'inf', '-inf',
      'infinity', 'infinit', '1e5000', '-1e5000', '1e-5000', '1e-4951', '0e-99999', '1.2e4932', '1e4932', '1..2',
      Buffer.from('1.5\0'), '1'.repeat(5119), '0.' + '1'.repeat(5118), '0.' + '1'.repeat(5117)]) {
      cmds.push(['INCRBYFLOAT', 'f', by], ['GET', 'f'])
    }
    for (const v of ['abc', '', 'inf', '-inf', '1e4932', 'nan', '1 ', '1'.repeat(5120)]) {
      cmds.push(['SET', 'g', v], ['INCRBYFLOAT', 'g', '1'], ['INCRBYFLOAT', 'g', '-inf'], ['GET', 'g'])
    }
    cmds.push(['SET', 'h', '1e4932'], ['INCRBYFLOAT', 'h', '1e4932'], ['INCRBYFLOAT', 'h', '-1e4932'],
      ['RPUSH', 'l', 'a'], ['INCRBYFLOAT', 'l', '1'], ['INCRBYFLOAT', 'l', 'abc'])
    await sequence(cmds)
  })

  it('keeps the TTL; RESP3 reply', async () => {
    await sequenceTtl([['SET', 'k', '1.5', 'EX', '1000'], ['INCRBYFLOAT', 'k', '1'], ['TTL', 'k']])
    await hello3()
    await sequence([['INCRBYFLOAT', 'k', '0.25'], ['INCRBYFLOAT', 'k', 'x']])
  })
})

describe('MGET, MSET, MSETNX', () => {
  it('MGET returns nil for other types', async () => {
    await sequence([['RPUSH', 'l', 'a'], ['SET', 'k', 'v'], ['MGET', 'l', 'k', 'nokey', 'l'], ['MSET', 'l', 'v'], ['GET', 'l']])
  })

  it('MSETNX with every key on one shard', async () => {
    await sequence([
      ['MSETNX', A0, '1', A1, '2'], ['MGET', A0, A1], ['MSETNX', A0, 'x', 'nokey{' + A0 + '}', 'y'],
      ['MSETNX', '{t}a', '1', '{t}b', '2'], ['MSETNX', '{t}b', '3', '{t}c', '4'], ['MGET', '{t}a', '{t}b', '{t}c'],
      ['MSETNX', '{t}d', '1', '{t}d', '2'], ['GET', '{t}d'], ['RPUSH', '{t}l', 'x'], ['MSETNX', '{t}l', 'v', '{t}e', 'w'],
      ['EXISTS', '{t}e'], ['MSETNX', 'solo', BIN], ['GET', 'solo'],
    ])
  })

  it('MSETNX across shards: all or nothing', async () => {
    await sequence([
      ['MSETNX', A0, '1', B0, '2', C0, '3'], ['MGET', A0, B0, C0], ['MSETNX', A1, 'x', B0, 'y'], ['EXISTS', A1],
      ['DEL', B0], ['MSETNX', A1, 'x', B0, 'y', A1, 'z'], ['MGET', A1, B0], ['RPUSH', 'l', 'a'],
      ['MSETNX', 'l', 'v', B0 + 'x', 'w'], ['EXISTS', B0 + 'x'], ['DEL', A0, A1, B0, C0],
      ['SET', C0, 'v', 'EX', '1000'], ['MSETNX', A0, '1', C0, '2'], ['TTL', A0],
    ])
  })

  it('MSETNX treats expired keys as missing', async () => {
    await sequence([['SET', A0, 'v', 'PX', '1'], ['SET', B0, 'v', 'PX', '1']])
    await new Promise((resolve) => setTimeout(resolve, 20))
    await sequence([['MSETNX', A0, 'x', A1, 'y'], ['MSETNX', B0, 'x', C0, 'y'], ['MGET', A0, A1, B0, C0]])
  })
})

describe('LCS', () => {
  const pairs: Array<[string, string]> = [['ohmytext', 'mynewtext'], ['', 'abc'], ['abc', ''], ['', ''], ['abc', 'abc'],
    ['abcdef', 'fedcba'], ['aaaa', 'aa'], ['rosettacode', 'raisethysword'], ['ACCGGTCGAGTGCGCGGAAGCCGGCCGAA', 'GTCGTTCGGAATGCCGTTGCTCTGTAAA'],
    ['abab', 'baba'], ['xyz', 'qqq']]
  const opts: Arg[][] = [[], ['LEN'], ['IDX'], ['IDX', 'WITHMATCHLEN'], ['IDX', 'MINMATCHLEN', '2'], ['idx', 'minmatchlen', '3', 'withmatchlen'],
    ['IDX', 'MINMATCHLEN', '-5'], ['LEN', 'MINMATCHLEN', '2'], ['WITHMATCHLEN'], ['MINMATCHLEN', '0'], ['LEN', 'LEN'], ['IDX', 'IDX']]

  for (const [name, k1, k2] of [['one shard', A0, A1], ['two shards', A0, B0]] as const) {
    it(`strings, LEN, IDX ranges (${name})`, async () => {
      const cmds: Arg[][] = []
      for (const [x, y] of pairs) {
        cmds.push(['MSET', k1, x], ['SET', k2, y])
        for (const o of opts) cmds.push(['LCS', k1, k2, ...o])
      }
      cmds.push(['DEL', k1], ['LCS', k1, k2], ['LCS', k1, k2, 'IDX'], ['LCS', k1, k1, 'LEN'], ['SET', k1, BIN], ['SET', k2, Buffer.concat([BIN, BIN])],
        ['LCS', k1, k2], ['LCS', k1, k2, 'IDX', 'WITHMATCHLEN'])
      await sequence(cmds)
    })

    it(`errors and option order (${name})`, async () => {
      await sequence([
        ['SET', k1, 'abc'], ['SET', k2, 'abd'], ['LCS', k1, k2, 'IDX', 'LEN'], ['LCS', k1, k2, 'LEN', 'IDX'], ['LCS', k1, k2, 'FOO'],
        ['LCS', k1, k2, 'MINMATCHLEN'], ['LCS', k1, k2, 'MINMATCHLEN', 'x'], ['LCS', k1, k2, 'MINMATCHLEN', 'x', 'FOO'],
        ['LCS', k1, k2, 'FOO', 'MINMATCHLEN', 'x'], ['LCS', k1, k2, Buffer.from('idx\0z')], ['LCS', k1, k2, ''],
        ['LCS', k1, k2, 'MINMATCHLEN', LLONG_MAX, 'IDX'], ['LCS', k1, k2, 'MINMATCHLEN', '99999999999999999999'],
        ['DEL', k2], ['RPUSH', k2, 'x'], ['LCS', k1, k2], ['LCS', k2, k1, 'FOO'], ['LCS', k2, k2, 'IDX', 'LEN'],
        ['LCS', 'nokey', k2],
      ])
    })

    it(`RESP3 IDX is a map (${name})`, async () => {
      await hello3()
      await sequence([['SET', k1, 'ohmytext'], ['SET', k2, 'mynewtext'], ['LCS', k1, k2, 'IDX', 'WITHMATCHLEN'], ['LCS', k1, k2, 'IDX'],
        ['LCS', k1, k2], ['LCS', k1, k2, 'LEN'], ['LCS', 'nokey', 'nokey2', 'IDX']])
    })
  }

  it('the transient table is limited to proto-max-bulk-len', async () => {
    await sequence([
      ['SET', A0, 'x'.repeat(11_585)], ['SET', B0, 'y'.repeat(11_585)], ['LCS', A0, B0], ['LCS', A0, B0, 'LEN'], ['LCS', A0, B0, 'FOO'],
      ['SET', A1, 'y'.repeat(11_585)], ['LCS', A0, A1, 'IDX'],
      ['SET', A0, 'ab'.repeat(1000)], ['SET', B0, 'ba'.repeat(1000)], ['LCS', A0, B0, 'LEN'], ['LCS', A0, B0, 'IDX', 'MINMATCHLEN', '10'],
    ])
  })
})

describe('random command sequences (fast-check)', () => {
  // Small key set: {t} keys share a shard, the others mostly do not, so MSETNX and LCS go both
  // ways. Values lean towards integers and floats so the counters get exercised. Each command
  // goes as one pipeline, so cross-shard transactions interleave with queued commands.
  const keys = ['k1', 'k2', 'k3', '{t}a', '{t}b', 'lst']
  const key = fc.constantFrom(...keys)
  const int = fc.oneof(fc.integer({ min: -20, max: 20 }).map(String), fc.constantFrom(LLONG_MAX, LLONG_MIN, '9007199254740993', 'x', '', '1.5', '-0'))
  const float = fc.oneof(fc.constantFrom('0.1', '-0.1', '1e-3', '2.5', '1e20', 'inf', 'nan', 'abc', '', '0x1p-2', '3'),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String))
  const value = fc.oneof(int, float, fc.string({ maxLength: 6 }), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)))
  const command: fc.Arbitrary<Arg[]> = fc.oneof(
    fc.tuple(key, value).map(([k, v]) => ['SET', k, v]),
    fc.tuple(key, value, fc.constantFrom('NX', 'XX', 'GET', 'KEEPTTL')).map(([k, v, o]) => ['SET', k, v, o]),
    key.map((k) => ['GET', k]),
    fc.tuple(key, value).map(([k, v]) => ['SETNX', k, v]),
    fc.tuple(key, value).map(([k, v]) => ['GETSET', k, v]),
    key.map((k) => ['GETDEL', k]),
    fc.tuple(key, fc.constantFrom([], ['PERSIST'], ['EX', '1000'], ['PX', '0'], ['EX', 'x'], ['FOO'])).map(([k, o]) => ['GETEX', k, ...o]),
    fc.tuple(key, value).map(([k, v]) => ['APPEND', k, v]),
    key.map((k) => ['STRLEN', k]),
    fc.tuple(key, fc.integer({ min: -2, max: 12 }).map(String), value).map(([k, o, v]) => ['SETRANGE', k, o, v]),
    fc.tuple(fc.constantFrom('GETRANGE', 'SUBSTR'), key, int, int).map(([c, k, a, b]) => [c, k, a, b]),
    fc.tuple(fc.constantFrom('INCR', 'DECR'), key).map(([c, k]) => [c, k]),
    fc.tuple(fc.constantFrom('INCRBY', 'DECRBY'), key, int).map(([c, k, n]) => [c, k, n]),
    fc.tuple(key, float).map(([k, f]) => ['INCRBYFLOAT', k, f]),
    fc.array(key, { minLength: 1, maxLength: 4 }).map((ks) => ['MGET', ...ks]),
    fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((kvs) => ['MSET', ...kvs.flat()]),
    fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((kvs) => ['MSETNX', ...kvs.flat()]),
    fc.tuple(key, key, fc.constantFrom([], ['LEN'], ['IDX'], ['IDX', 'WITHMATCHLEN', 'MINMATCHLEN', '2'], ['LEN', 'IDX'], ['FOO']))
      .map(([a, b, o]) => ['LCS', a, b, ...o]),
    fc.tuple(key, value).map(([k, v]) => ['RPUSH', k, v]),
    fc.tuple(fc.constantFrom('SETEX', 'PSETEX'), key, fc.constantFrom('100000', '0', 'x'), value).map(([c, k, t, v]) => [c, k, t, v]),
    key.map((k) => ['TTL', k]),
    key.map((k) => ['TYPE', k]),
  )

  it('replies match Redis byte for byte', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (cmds) => {
      await same('FLUSHALL')
      await pair.pipeline(cmds, (reply, cmd) => String(cmd[0]).toUpperCase() === 'TTL' ? ttlSign(reply) : reply)
    }), { numRuns: 100 })
  })
})

describe('pipelines', () => {
  it('single-shard string commands keep reply order across shards', async () => {
    const cmds: Arg[][] = []
    for (let i = 0; i < 100; i++) {
      cmds.push(['INCR', `c:${i % 7}`], ['APPEND', `s:${i % 5}`, `${i},`], ['GETRANGE', `s:${i % 5}`, '-3', '-1'],
        ['INCRBYFLOAT', `f:${i % 3}`, '0.1'], ['SETRANGE', `r:${i % 4}`, String(i % 9), 'x'], ['STRLEN', `r:${i % 4}`])
      if (i % 10 === 0) cmds.push(['MSETNX', `{n${i}}a`, '1', `{n${i}}b`, '2'], ['LCS', `{n${i}}a`, `{n${i}}b`, 'IDX'])
    }
    await pair.pipeline(cmds)
  })

  // Commands staged behind a cross-shard transaction on a shard it holds must get their own
  // replies (step replies travel on their own queue while the shard is held).
  it('pipelined after a cross-shard command', async () => {
    await pair.pipeline([['SET', A0, 'ab'], ['SET', B0, 'b'], ['MSETNX', A1, '1', C0, '2'], ['GET', A1], ['GET', C0],
      ['LCS', A0, B0], ['GET', A0], ['GET', B0]])
  })
})
