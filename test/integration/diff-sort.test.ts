// Differential tests for SORT and SORT_RO (sort.c): lists, sets and sorted sets; numeric and
// ALPHA order, DESC, LIMIT; BY and GET patterns (string keys and hash fields, on any shard) and
// STORE, against a real redis-server 7.0.15, with FlashKV on 4 shards (patterns and STORE across
// shards run on the transaction engine).
import { describe, it } from 'vitest'

import { useDiffPair } from './helpers/diff.js'

const pair = useDiffPair({ shards: 4 })
const { sequence } = pair

describe('SORT and SORT_RO', () => {
  it('numbers, ALPHA, DESC, LIMIT, errors in Redis order', async () => {
    await sequence([
      ['RPUSH', 'l', '3', '1', '2', '10', '-5', '2.5'], ['SORT', 'l'], ['SORT', 'l', 'DESC'], ['SORT', 'l', 'ALPHA'], ['SORT', 'l', 'alpha', 'desc'],
      ['SORT', 'l', 'LIMIT', '1', '2'], ['SORT', 'l', 'LIMIT', '-1', '2'], ['SORT', 'l', 'LIMIT', '2', '-1'], ['SORT', 'l', 'LIMIT', '10', '2'],
      ['SORT', 'l', 'LIMIT', '0', '0'], ['SORT', 'l', 'LIMIT', 'x', '1'], ['SORT', 'l', 'LIMIT', '1'], ['SORT', 'l', 'FOO'], ['SORT_RO', 'l', 'STORE', 'd'],
      ['RPUSH', 'm', 'a', '1', 'b'], ['SORT', 'm'], ['SORT', 'm', 'ALPHA'], ['SORT', 'nokey'], ['SORT', 'nokey', 'FOO'], ['SET', 's', 'v'], ['SORT', 's'],
      ['SORT', 's', 'FOO'], ['SADD', 'st', '5', '3', '9', '1'], ['SORT', 'st'], ['SORT', 'st', 'DESC', 'LIMIT', '0', '2'],
      ['ZADD', 'zs', '1', 'c', '2', 'a', '3', 'b'], ['SORT', 'zs', 'ALPHA'], ['SORT', 'zs', 'BY', 'nosort'], ['SORT', 'zs', 'BY', 'nosort', 'DESC', 'LIMIT', '0', '2'],
      ['ZADD', 'z1', '1', 'a'], ['ZADD', 'z2', '1', 'a'], ['ZADD', 'z3', '1', 'a'], ['ZADD', 'z4', '1', 'a'], ['ZADD', 'z5', '1', 'a'],
      // SORT turns a listpack sorted set into a skiplist for good, unless its options fail to parse.
      ['SORT', 'z1', 'FOO'], ['SORT', 'z1', 'LIMIT', 'x', '1'], ['OBJECT', 'ENCODING', 'z1'], ['SORT', 'z1', 'ALPHA'], ['OBJECT', 'ENCODING', 'z1'],
      ['SORT_RO', 'z2', 'BY', 'nosort'], ['OBJECT', 'ENCODING', 'z2'], ['SORT', 'z3', 'BY', 'w_*'], ['OBJECT', 'ENCODING', 'z3'],
      ['SORT', 'z4', 'STORE', 'd'], ['OBJECT', 'ENCODING', 'z4'], ['SORT', 'z5', 'GET', 'k_*', 'ALPHA'], ['OBJECT', 'ENCODING', 'z5'],
      ['SORT_RO', 'l', 'DESC', 'LIMIT', '0', '3'], ['RPUSH', 'inf', 'inf', '-inf', '1e3', '0x10'], ['SORT', 'inf'], ['RPUSH', 'ok', 'inf', '-inf', '1e3'], ['SORT', 'ok'],
    ])
  })

  it('scores as strtod reads them: "" and leading spaces pass, overflow and inexact tiny numbers fail', async () => {
    // sort.c takes strtod's result unless the end is not the string's end, errno is ERANGE or
    // it is NaN: "" is 0, and a subnormal is refused unless written exactly (hexadecimal). It
    // never clears errno, so after an ERANGE Redis refuses every score until some other call
    // sets errno (a read that finds no data): the values that pass come first.
    const pass = ['', ' 1', '\t-2', '\n3', '2.2250738585072014e-308', '0e-400', '-0', '0x1p-1074', '0x10p-1078', ' inf']
    const fail = ['   ', '1 ', 'nan', '1e', '0x', '1e400', '-1.8e308', '1e-310', '2.225073858507201e-308', '0x1.8p-1074', '0x1p-1075', '0x1p1024']
    const cmds: string[][] = []
    ;[...pass, ...fail].forEach((v, i) => { cmds.push(['RPUSH', `l${i}`, v, '7'], ['SORT', `l${i}`], ['MSET', `w_${i}`, v, `w_x${i}`, '1'], ['RPUSH', `b${i}`, String(i), `x${i}`], ['SORT', `b${i}`, 'BY', 'w_*']) })
    await sequence(cmds)
  })

  it('BY and GET patterns over strings and hash fields, nosort, missing keys, STORE', async () => {
    await sequence([
      ['RPUSH', 'l', '3', '1', '2', '10'], ['MSET', 'w_3', '30', 'w_1', '100', 'w_2', '20', 'w_10', '5', 'n_1', 'one', 'n_2', 'two'],
      ['HSET', 'h_1', 'f', 'x', 'g', '7'], ['HSET', 'h_2', 'g', '3'], ['HSET', 'h_3', 'g', '9'],
      ['SORT', 'l', 'BY', 'w_*'], ['SORT', 'l', 'BY', 'w_*', 'DESC'], ['SORT', 'l', 'BY', 'nosort'], ['SORT', 'l', 'BY', 'nokey_*'],
      ['SORT', 'l', 'GET', '#', 'GET', 'h_*->f', 'GET', 'w_*', 'GET', 'n_*'], ['SORT', 'l', 'BY', 'h_*->g', 'GET', '#'], ['SORT', 'l', 'BY', 'h_*->f'],
      ['SORT', 'l', 'BY', 'n_*', 'ALPHA'], ['SORT', 'l', 'BY', 'w_*', 'LIMIT', '1', '2', 'GET', 'n_*'], ['SORT', 'l', 'GET', 'h_*->'], ['SORT', 'l', 'GET', 'h_*-'],
      ['SORT', 'l', 'STORE', 'd'], ['LRANGE', 'd', '0', '-1'], ['SORT', 'l', 'BY', 'w_*', 'GET', 'n_*', 'STORE', 'd2'], ['LRANGE', 'd2', '0', '-1'],
      ['SADD', 'st', '5', '3', '9'], ['SORT', 'st', 'BY', 'nosort', 'STORE', 'd3'], ['LRANGE', 'd3', '0', '-1'], ['SORT', 'nokey', 'STORE', 'd'], ['EXISTS', 'd'],
      ['SORT', 'l', 'BY', 'w_*', 'LIMIT', '0', '2', 'STORE', 'd4'], ['LRANGE', 'd4', '0', '-1'], ['SORT_RO', 'l', 'BY', 'w_*', 'GET', '#', 'GET', 'w_*'],
      ['MULTI'], ['SORT', 'l', 'BY', 'w_*', 'GET', 'n_*'], ['SORT', 'l', 'STORE', 'd5'], ['EXEC'], ['LRANGE', 'd5', '0', '-1'],
    ])
  })
})
