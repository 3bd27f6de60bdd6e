// Differential tests for transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH; Redis 7.0's
// multi.c): the same bytes go to a real redis-server 7.0.15 and to FlashKV (4 shards) and every
// reply must be identical, RESP2 and RESP3. Transactions hold keys of several shards, so EXEC runs
// a multi-shard batch; WATCH scenarios use a second connection to each server (client B) and run
// the identical steps, in the identical order, on both. Key replies (EXEC's null array, +QUEUED,
// the error texts) are also asserted literally, so a test cannot pass on two servers that agree
// on something else. Nothing here needs normalising except TTL rounding (ttlSign, where noted):
// HELLO's reply (server name, version, client id) is read but not compared.
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, ttlSign, type Arg } from './helpers/diff.js'
import { encodeCommand } from './helpers/raw.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { useSides, hello3, on, steps, sleep, type Step } from './helpers/sides.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sameNormalized, sequence, pipeline, sameRaw, sameUntilClose } = pair

// One key per shard (K[s] lives on shard s), and a second key on shard 0.
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `m${s}:`)[0])
const [K0b] = keysOnShard(0, SHARDS, 2, 'm0:').slice(1)

it('test keys land where the test expects', () => {
  expect([...K, K0b].map(k => shardOfKey(k, SHARDS))).toEqual([0, 1, 2, 3, 0])
})

const OK = '+OK\r\n'
const QUEUED = '+QUEUED\r\n'
const NULL_ARRAY = '*-1\r\n' // EXEC of a transaction whose watched keys were touched (RESP2)
const EXECABORT = '-EXECABORT Transaction discarded because of previous errors.\r\n'

const { A, client } = useSides(pair)


describe('MULTI / EXEC', () => {
  it('MULTI is +OK, every command +QUEUED, EXEC returns the replies in order (strings)', async () => {
    const r = await steps([
      [A, 'SET', 'pre', 'x'], [A, 'MULTI'], [A, 'SET', 's', 'hello'], [A, 'APPEND', 's', ' world'], [A, 'GET', 's'],
      [A, 'STRLEN', 's'], [A, 'GETRANGE', 's', '0', '4'], [A, 'GETSET', 'pre', 'y'], [A, 'GET', 'missing'],
      [A, 'SETNX', 's', 'no'], [A, 'EXEC'],
      [A, 'GET', 's'], [A, 'GET', 'pre'],
    ])
    expect(r[1]).toBe(OK)
    expect(r.slice(2, 10)).toEqual(Array(8).fill(QUEUED))
    expect(r[10]).toBe('*8\r\n+OK\r\n:11\r\n$11\r\nhello world\r\n:11\r\n$5\r\nhello\r\n$1\r\nx\r\n$-1\r\n:0\r\n')
  })

  it('commands are not run while queued', async () => {
    const B = await client()
    const r = await steps([
      [A, 'MULTI'], [A, 'SET', 'k', '1'], [A, 'INCR', 'k'],
      [B, 'GET', 'k'], [B, 'SET', 'k', '10'],
      [A, 'GET', 'k'], [A, 'EXEC'], [B, 'GET', 'k'],
    ])
    expect(r[3]).toBe('$-1\r\n')
    expect(r[6]).toBe('*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n')
  })

  it('keyed commands all on one shard (EXEC passes the shard reply through): databases, run-time errors, binary and long values, RESP3', async () => {
    const long = 'v'.repeat(70000)
    const bin = '\x00\r\n~' // a NUL and CRLF inside an argument
    const r = await steps([
      [A, 'SELECT', '3'], [A, 'SET', K0b, 'text'], [A, 'MULTI'], [A, 'SET', K[0], bin], [A, 'INCR', K0b], [A, 'APPEND', K[0], long],
      [A, 'STRLEN', K[0]], [A, 'GET', K0b], [A, 'EXEC'], [A, 'SELECT', '0'], [A, 'EXISTS', K[0], K0b],
    ])
    expect(r[8]).toBe(`*5\r\n+OK\r\n-ERR value is not an integer or out of range\r\n:70004\r\n:70004\r\n$4\r\ntext\r\n`)
    expect(r[10]).toBe(':0\r\n')
    await hello3(A)
    const r3 = await steps([[A, 'SELECT', '3'], [A, 'MULTI'], [A, 'GET', 'missing:{x}'], [A, 'INCR', 'n:{x}'], [A, 'EXEC']])
    expect(r3[4]).toBe('*2\r\n_\r\n:1\r\n')
  })

  it('lists inside MULTI, with an LMOVE across shards', async () => {
    await sequence([
      ['MULTI'], ['RPUSH', K[0], 'a', 'b', 'c'], ['LPUSH', K[0], 'z'], ['LRANGE', K[0], '0', '-1'], ['LPOP', K[0]],
      ['RPOP', K[0], '2'], ['LLEN', K[0]], ['LMOVE', K[0], K[2], 'LEFT', 'RIGHT'], ['LRANGE', K[2], '0', '-1'],
      ['LINDEX', K[2], '0'], ['LPUSHX', K[1], 'x'], ['EXISTS', K[0], K[1], K[2]], ['EXEC'],
      ['LRANGE', K[2], '0', '-1'], ['DBSIZE'],
    ])
  })

  it('INCR, INCRBY, DECR, INCRBYFLOAT and DEL', async () => {
    await sequence([
      ['SET', 'n', '10'], ['MULTI'], ['INCR', 'n'], ['INCRBY', 'n', '5'], ['DECR', 'n'], ['DECRBY', 'n', '20'],
      ['INCRBYFLOAT', 'f', '1.5'], ['INCRBYFLOAT', 'f', '0.25'], ['INCR', 'fresh'], ['DEL', 'n', 'fresh', 'nope'],
      ['GET', 'n'], ['EXEC'], ['MGET', 'n', 'f', 'fresh'],
    ])
  })

  it('EXPIRE, PEXPIRE, PERSIST and TTL inside MULTI', async () => {
    await sequence([
      ['SET', 'e', 'v'], ['SET', 'p', 'v', 'EX', '100'], ['MULTI'],
      ['EXPIRE', 'e', '1000'], ['PERSIST', 'p'], ['TTL', 'p'], ['TTL', 'missing'], ['EXPIRE', 'missing', '10'],
      ['PEXPIRE', 'p', '100000000'], ['PERSIST', 'p'], ['SET', 'gone', 'v'], ['EXPIRE', 'gone', '0'], ['EXISTS', 'gone'],
      ['EXEC'], ['TTL', 'p'], ['EXISTS', 'gone'],
    ])
    // TTL is rounded from each server's own clock: compared by sign.
    expect(await sameNormalized(ttlSign, 'TTL', 'e')).toMatch(/^:(999|1000)\r\n$/)
  })

  it('SELECT inside MULTI switches the database for the rest of the transaction and after it', async () => {
    const r = await steps([
      [A, 'MULTI'], [A, 'SET', 'k', 'db0'], [A, 'SELECT', '3'], [A, 'SET', 'k', 'db3'], [A, 'GET', 'k'],
      [A, 'DBSIZE'], [A, 'SELECT', '99'], [A, 'GET', 'k'], [A, 'EXEC'],
      [A, 'GET', 'k'], [A, 'SELECT', '0'], [A, 'GET', 'k'],
    ])
    expect(r[8]).toBe('*7\r\n+OK\r\n+OK\r\n+OK\r\n$3\r\ndb3\r\n:1\r\n-ERR DB index is out of range\r\n$3\r\ndb3\r\n')
    expect(r[9]).toBe('$3\r\ndb3\r\n')
  })

  it('SELECT inside a transaction that is discarded does not switch the database', async () => {
    await sequence([['SET', 'k', 'db0'], ['MULTI'], ['SELECT', '5'], ['DISCARD'], ['GET', 'k'], ['MULTI'], ['SELECT', '6'], ['FOO'], ['EXEC'], ['GET', 'k']])
  })

  it('PING and ECHO inside MULTI', async () => {
    const r = await steps([[A, 'MULTI'], [A, 'PING'], [A, 'PING', 'hi'], [A, 'ECHO', 'echoed'], [A, 'EXEC']])
    expect(r[4]).toBe('*3\r\n+PONG\r\n$2\r\nhi\r\n$6\r\nechoed\r\n')
  })

  it('MSET, MGET and DEL with keys on four shards', async () => {
    const r = await steps([
      [A, 'MULTI'], [A, 'MSET', K[0], 'a', K[1], 'b', K[2], 'c', K[3], 'd'], [A, 'MGET', K[3], K[2], 'nope', K[1], K[0]],
      [A, 'DEL', K[1], K[3], 'nope'], [A, 'MGET', ...K], [A, 'MSETNX', K[1], 'x', K[3], 'y'], [A, 'MSETNX', K[0], 'z', K[1], 'w'],
      [A, 'EXISTS', ...K, K0b], [A, 'EXEC'], [A, 'MGET', ...K],
    ])
    expect(r[8]).toBe('*7\r\n+OK\r\n*5\r\n$1\r\nd\r\n$1\r\nc\r\n$-1\r\n$1\r\nb\r\n$1\r\na\r\n:2\r\n' +
      '*4\r\n$1\r\na\r\n$-1\r\n$1\r\nc\r\n$-1\r\n:1\r\n:0\r\n:4\r\n')
  })

  it('RENAME, RENAMENX and COPY across shards inside MULTI', async () => {
    await sequence([
      ['SET', K[0], 'v0'], ['RPUSH', K[1], 'l1'], ['MULTI'],
      ['RENAME', K[0], K[2]], ['RENAME', K[0], K[3]], ['RENAMENX', K[2], K[1]], ['RENAMENX', K[2], K[3]],
      ['COPY', K[3], K[0]], ['COPY', K[1], K[0]], ['COPY', K[1], K[0], 'REPLACE'], ['RENAME', K[1], K0b],
      ['MGET', ...K, K0b], ['TYPE', K[0]], ['LRANGE', K0b, '0', '-1'], ['EXEC'],
      ['MGET', ...K, K0b], ['TYPE', K[0]], ['TYPE', K0b], ['DBSIZE'],
    ])
  })

  it('DBSIZE and FLUSHDB inside MULTI', async () => {
    await sequence([
      ['MSET', ...K.flatMap(k => [k, 'v'])], ['SELECT', '1'], ['SET', 'other', 'db1'], ['SELECT', '0'],
      ['MULTI'], ['DBSIZE'], ['FLUSHDB'], ['DBSIZE'], ['SET', 'after', 'v'], ['DBSIZE'], ['SELECT', '1'], ['DBSIZE'],
      ['FLUSHALL'], ['DBSIZE'], ['EXEC'], ['DBSIZE'], ['SELECT', '0'], ['DBSIZE'],
    ])
  })

  it('empty MULTI / EXEC is an empty array', async () => {
    const r = await steps([[A, 'MULTI'], [A, 'EXEC']])
    expect(r[1]).toBe('*0\r\n')
  })

  it('lowercase and mixed-case multi / exec / discard', async () => {
    await sequence([['multi'], ['set', 'k', 'v'], ['exec'], ['Multi'], ['get', 'k'], ['Exec'], ['mUlTi'], ['del', 'k'], ['discard'], ['exists', 'k']])
  })

  it('the connection is out of MULTI after EXEC: the next commands run at once', async () => {
    await sequence([['MULTI'], ['SET', 'k', '1'], ['EXEC'], ['INCR', 'k'], ['EXEC'], ['GET', 'k']])
  })

  it('a transaction sent in one write (pipelined) gives the same replies', async () => {
    await pipeline([
      ['MULTI'], ['SET', K[0], '1'], ['INCR', K[0]], ['MSET', K[1], 'x', K[2], 'y'], ['MGET', ...K], ['EXEC'],
      ['GET', K[0]], ['MULTI'], ['INCR', K[1]], ['INCR', K[0]], ['EXEC'], ['MULTI'], ['EXEC'], ['GET', K[0]],
    ])
  })

  it('several transactions back to back in one write, with errors of both kinds', async () => {
    await pipeline([
      ['MULTI'], ['SET', 'a', 'x'], ['INCR', 'a'], ['EXEC'],
      ['MULTI'], ['SET', 'a', 'y'], ['NOSUCHCOMMAND'], ['EXEC'],
      ['MULTI'], ['GET', 'a'], ['DISCARD'],
      ['MULTI'], ['APPEND', 'a', 'z'], ['EXEC'], ['GET', 'a'],
    ])
  })

  it('one-shard transactions back to back, long and short, discarded and run: each command keeps its own bytes', async () => {
    // FlashKV reuses the copies of queued commands (under 512 bytes and 16 arguments) once a
    // one-shard EXEC or a DISCARD is done with them: a later, shorter command must not see an
    // earlier one's bytes.
    const items = Array.from({ length: 15 }, (_v, i) => String(i).repeat(i + 1))
    await pipeline([
      ['MULTI'], ['RPUSH', K0b, ...items], ['SET', K[0], 'x'.repeat(600)], ['EXEC'],
      ['MULTI'], ['SET', K[0], 'abcdefghij'.repeat(20)], ['APPEND', K[0], 'zz'], ['LRANGE', K0b, '0', '-1'], ['EXEC'],
      ['MULTI'], ['SET', K[0], 'q'], ['RPUSH', K0b, 'w', 'ee', 'rrr'], ['DISCARD'],
      ['MULTI'], ['GET', K[0]], ['RPUSH', K0b, 'a'], ['LRANGE', K0b, '-3', '-1'], ['SET', K[0], 'short'], ['EXEC'],
      ['MULTI'], ['GET', K[0]], ['LPOP', K0b, '2'], ['STRLEN', K[0]], ['EXEC'],
    ])
  })

  it('a transaction of 1,000 commands over four shards', async () => {
    const cmds: Arg[][] = [['MULTI']]
    for (let i = 0; i < 1000; i++) cmds.push(i % 5 === 4 ? ['MGET', ...K] : ['INCR', K[i % 4]])
    cmds.push(['EXEC'], ['MGET', ...K])
    await pipeline(cmds)
  })

  it('a transaction with large values', async () => {
    await pipeline([
      ['MULTI'], ['SET', K[0], 'a'.repeat(200_000)], ['APPEND', K[0], 'b'.repeat(100_000)], ['COPY', K[0], K[1]],
      ['RPUSH', K[2], 'c'.repeat(70_000), 'd'], ['GET', K[1]], ['LRANGE', K[2], '0', '-1'], ['EXEC'], ['STRLEN', K[1]],
    ])
  })

  it('QUIT inside MULTI closes the connection; nothing queued runs', async () => {
    const bytes = Buffer.concat([['MULTI'], ['SET', 'k', 'v'], ['QUIT']].map(c => encodeCommand(c)))
    expect(await sameUntilClose(bytes)).toBe(`${OK}${QUEUED}${OK}`)
    expect(await same('EXISTS', 'k')).toBe(':0\r\n')
  })

  it('inline commands inside MULTI', async () => {
    await sameRaw('MULTI\r\nSET k inline\r\nGET k\r\nEXEC\r\n', 4)
  })
})

describe('EXEC, DISCARD and MULTI errors', () => {
  it('over maxmemory every queued command is refused (OOM), so EXEC aborts; read-only transactions too', async () => {
    try {
      const r = await steps([
        [A, 'SET', K[0], 'v'], [A, 'CONFIG', 'SET', 'maxmemory', '1'],
        [A, 'MULTI'], [A, 'SET', K[1], 'v'], [A, 'EXEC'],
        [A, 'MULTI'], [A, 'GET', K[0]], [A, 'EXEC'],
        [A, 'MULTI'], [A, 'DISCARD'],
      ])
      expect(r[3]).toBe("-OOM command not allowed when used memory > 'maxmemory'.\r\n")
      expect(r[4]).toBe(EXECABORT)
      expect(r[6].startsWith('-OOM')).toBe(true)
      expect(r[9]).toBe(OK)
    } finally {
      await on(A, 'CONFIG', 'SET', 'maxmemory', '0')
    }
  })

  it('EXEC and DISCARD without MULTI', async () => {
    const r = await steps([[A, 'EXEC'], [A, 'DISCARD'], [A, 'exec']])
    expect(r).toEqual(['-ERR EXEC without MULTI\r\n', '-ERR DISCARD without MULTI\r\n', '-ERR EXEC without MULTI\r\n'])
  })

  it('nested MULTI is an error that does not abort the transaction', async () => {
    const r = await steps([[A, 'MULTI'], [A, 'SET', 'k', 'v'], [A, 'MULTI'], [A, 'GET', 'k'], [A, 'EXEC'], [A, 'EXEC']])
    expect(r[2]).toBe('-ERR MULTI calls can not be nested\r\n')
    expect(r[4]).toBe('*2\r\n+OK\r\n$1\r\nv\r\n')
    expect(r[5]).toBe('-ERR EXEC without MULTI\r\n')
  })

  it('WATCH inside MULTI is an error that does not abort the transaction', async () => {
    const r = await steps([[A, 'MULTI'], [A, 'SET', 'k', 'v'], [A, 'WATCH', 'k'], [A, 'WATCH', K[1], K[2]], [A, 'GET', 'k'], [A, 'EXEC']])
    expect(r[2]).toBe('-ERR WATCH inside MULTI is not allowed\r\n')
    expect(r[5]).toBe('*2\r\n+OK\r\n$1\r\nv\r\n')
  })

  it('UNWATCH inside MULTI is queued', async () => {
    const r = await steps([[A, 'MULTI'], [A, 'UNWATCH'], [A, 'EXEC']])
    expect(r).toEqual([OK, QUEUED, '*1\r\n+OK\r\n'])
  })

  it('commands refused inside MULTI: MULTI and WATCH (the transaction goes on)', async () => {
    await sequence([
      ['MULTI'], ['MULTI'], ['WATCH', 'x'], ['multi'], ['INCR', 'c'], ['MULTI'], ['INCR', 'c'], ['EXEC'], ['GET', 'c'],
    ])
  })

  it('inside MULTI, MULTI or WATCH with a wrong arity aborts the transaction (unlike the well-formed ones)', async () => {
    for (const bad of [['MULTI', 'x'], ['WATCH'], ['UNWATCH', 'x'], ['DISCARD', 'x']]) {
      const r = await steps([[A, 'MULTI'], [A, 'SET', 'k', 'v'], [A, ...bad], [A, 'EXEC'], [A, 'EXISTS', 'k']])
      expect(r[2]).toBe(`-ERR wrong number of arguments for '${bad[0].toLowerCase()}' command\r\n`)
      expect(r[3]).toBe(EXECABORT)
      expect(r[4]).toBe(':0\r\n')
    }
  })

  it('an unknown command while queuing aborts the transaction (EXECABORT); nothing runs', async () => {
    const r = await steps([
      [A, 'SET', 'k', 'old'], [A, 'MULTI'], [A, 'SET', 'k', 'new'], [A, 'NOSUCHCMD', 'a', 'b'], [A, 'INCR', 'n'],
      [A, 'EXEC'], [A, 'GET', 'k'], [A, 'EXISTS', 'n'], [A, 'EXEC'],
    ])
    expect(r[3]).toBe("-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n")
    expect(r[4]).toBe(QUEUED)
    expect(r[5]).toBe(EXECABORT)
    expect(r[6]).toBe('$3\r\nold\r\n')
    expect(r[8]).toBe('-ERR EXEC without MULTI\r\n')
  })

  it('a wrong arity while queuing aborts the transaction (EXECABORT)', async () => {
    const r = await steps([
      [A, 'MULTI'], [A, 'SET', 'k', 'v'], [A, 'GET'], [A, 'MSET', 'a'], [A, 'RPUSH', 'l'], [A, 'EXEC'], [A, 'DBSIZE'],
    ])
    expect(r[2]).toBe("-ERR wrong number of arguments for 'get' command\r\n")
    expect(r[5]).toBe(EXECABORT)
    expect(r[6]).toBe(':0\r\n')
  })

  it('an unknown subcommand or a subcommand arity error while queuing aborts the transaction', async () => {
    await sequence([['MULTI'], ['SET', 'k', 'v'], ['OBJECT', 'NOSUCH', 'k'], ['EXEC'], ['EXISTS', 'k']])
    await sequence([['MULTI'], ['SET', 'k', 'v'], ['OBJECT', 'ENCODING'], ['EXEC'], ['EXISTS', 'k']])
    await sequence([['MULTI'], ['SET', 'k', 'v'], ['CONFIG', 'NOSUCH'], ['EXEC'], ['EXISTS', 'k']])
  })

  it('an error while queuing after DISCARD does not carry over to the next transaction', async () => {
    await sequence([['MULTI'], ['FOO'], ['DISCARD'], ['MULTI'], ['SET', 'k', 'v'], ['EXEC'], ['GET', 'k']])
  })

  it('EXEC with arguments inside MULTI aborts the transaction and leaves MULTI', async () => {
    const r = await steps([[A, 'MULTI'], [A, 'SET', 'k', 'v'], [A, 'EXEC', 'x'], [A, 'EXEC'], [A, 'EXISTS', 'k']])
    // Redis 7.0 answers a rejected EXEC with an EXECABORT that names the reason.
    expect(r[2]).toBe("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n")
    expect(r[3]).toBe('-ERR EXEC without MULTI\r\n')
    expect(r[4]).toBe(':0\r\n')
  })

  it('arity errors of MULTI, DISCARD, WATCH and UNWATCH', async () => {
    await sequence([
      ['MULTI', 'x'], ['EXEC'], ['WATCH'], ['UNWATCH', 'x'], ['DISCARD', 'x'],
      ['MULTI'], ['DISCARD', 'x'], ['SET', 'k', 'v'], ['EXEC'], ['EXISTS', 'k'],
      ['MULTI'], ['WATCH'], ['EXEC'],
    ])
  })

  it('run-time errors stay in their own slot while the other commands run', async () => {
    const r = await steps([
      [A, 'SET', 's', 'str'], [A, 'RPUSH', 'l', 'a'], [A, 'MULTI'],
      [A, 'LPUSH', 's', 'x'], [A, 'SET', 'k1', 'v1'], [A, 'INCR', 's'], [A, 'GET', 'l'], [A, 'INCR', 'n'],
      [A, 'SET', 'k', 'v', 'XX', 'NX'], [A, 'INCRBY', 'n', 'abc'], [A, 'RENAME', 'nope', 'x'], [A, 'LPOP', 'l'],
      [A, 'EXEC'], [A, 'MGET', 's', 'k1', 'n'], [A, 'EXISTS', 'l'],
    ])
    expect(r[12]).toBe('*9\r\n' +
      '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+OK\r\n' +
      '-ERR value is not an integer or out of range\r\n' +
      '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:1\r\n' +
      '-ERR syntax error\r\n-ERR value is not an integer or out of range\r\n-ERR no such key\r\n$1\r\na\r\n')
  })

  it('WRONGTYPE inside EXEC on keys of several shards', async () => {
    await sequence([
      ['RPUSH', K[1], 'l'], ['SET', K[2], 's'], ['MULTI'], ['MSET', K[0], 'a', K[3], 'd'], ['GET', K[1]],
      ['RPUSH', K[2], 'x'], ['MGET', ...K], ['RENAME', K[1], K[3]], ['TYPE', K[3]], ['LMOVE', K[2], K[3], 'LEFT', 'LEFT'],
      ['EXEC'], ['TYPE', K[3]], ['MGET', ...K],
    ])
  })

  it('DISCARD drops the queue and leaves MULTI', async () => {
    const r = await steps([
      [A, 'SET', 'k', 'before'], [A, 'MULTI'], [A, 'SET', 'k', 'after'], [A, 'DEL', 'k'], [A, 'DISCARD'],
      [A, 'GET', 'k'], [A, 'EXEC'], [A, 'DISCARD'],
    ])
    expect(r[4]).toBe(OK)
    expect(r[5]).toBe('$6\r\nbefore\r\n')
    expect(r[6]).toBe('-ERR EXEC without MULTI\r\n')
  })
})

describe('RESP3 (HELLO 3)', () => {
  it('EXEC replies in RESP3 types: nulls, nested arrays, doubles-as-bulk, errors', async () => {
    await hello3(A)
    await sequence([
      ['SET', 'k', 'v'], ['MULTI'], ['GET', 'nope'], ['MGET', 'k', 'nope', K[3]], ['TTL', 'k'], ['INCRBYFLOAT', 'f', '1.5'],
      ['LRANGE', 'nope', '0', '-1'], ['LPOP', 'nope'], ['RPOP', 'nope', '2'], ['INCR', 'k'], ['EXEC'],
    ])
  })

  it('empty EXEC, EXECABORT, EXEC without MULTI', async () => {
    await hello3(A)
    await sequence([['MULTI'], ['EXEC'], ['MULTI'], ['FOO'], ['EXEC'], ['EXEC'], ['DISCARD']])
  })

  it('a touched WATCH makes EXEC reply a RESP3 null (_)', async () => {
    await hello3(A)
    const B = await client()
    const r = await steps([[A, 'WATCH', 'k'], [B, 'SET', 'k', 'b'], [A, 'MULTI'], [A, 'SET', 'k', 'a'], [A, 'EXEC'], [A, 'GET', 'k']])
    expect(r[4]).toBe('_\r\n')
    expect(r[5]).toBe('$1\r\nb\r\n')
  })

  it('the same pipelined transaction in RESP2, then in RESP3 on the same connection', async () => {
    await pipeline([['MULTI'], ['GET', 'nope'], ['EXEC']])
    await hello3(A)
    await pipeline([['MULTI'], ['GET', 'nope'], ['EXEC']])
  })
})

/** Replies of the probe transaction run after the scenario: it ran, or the watch was touched. */
const RAN = '*1\r\n:1\r\n'

/**
 * The WATCH scenario: `before` on A (setup), WATCH on A, then `meddle` (steps, any client), then
 * MULTI / INCR ran / EXEC on A. Returns Redis's EXEC reply, after checking that `ran` exists
 * exactly when EXEC ran its commands.
 */
async function watchCase (before: readonly Arg[][], watch: readonly Arg[], meddle: readonly Step[]): Promise<string> {
  await steps(before.map(c => [A, ...c] as Step))
  expect(await on(A, 'WATCH', ...watch)).toBe(OK)
  await steps(meddle)
  const r = await steps([[A, 'MULTI'], [A, 'INCR', 'ran'], [A, 'EXEC'], [A, 'SELECT', '0'], [A, 'EXISTS', 'ran']])
  expect(r[1]).toBe(QUEUED)
  expect(r[4]).toBe(r[2] === NULL_ARRAY ? ':0\r\n' : ':1\r\n')
  return r[2]
}

describe('WATCH', () => {
  it('with no modification, EXEC runs', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'GET', 'k'], [B, 'EXISTS', 'k'], [B, 'TTL', 'k']])).toBe(RAN)
  })

  it('another client modifies the watched key: EXEC returns a null array and runs nothing', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'SET', 'k', 'w']])).toBe(NULL_ARRAY)
    // Out of MULTI afterwards, and the watch is gone.
    expect(await on(A, 'EXEC')).toBe('-ERR EXEC without MULTI\r\n')
  })

  it('WATCH of a missing key that another client creates', async () => {
    const B = await client()
    expect(await watchCase([], ['k'], [[B, 'RPUSH', 'k', 'a']])).toBe(NULL_ARRAY)
  })

  it('WATCH, then the same client modifies the key before MULTI: EXEC fails', async () => {
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[A, 'SET', 'k', 'mine']])).toBe(NULL_ARRAY)
  })

  it('WATCH, then the same client modifies the key inside its own transaction: EXEC runs', async () => {
    const r = await steps([[A, 'WATCH', 'k'], [A, 'MULTI'], [A, 'SET', 'k', '1'], [A, 'INCR', 'k'], [A, 'EXEC']])
    expect(r[4]).toBe('*2\r\n+OK\r\n:2\r\n')
  })

  it('UNWATCH forgets every watched key', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k', K[1]], [[A, 'UNWATCH'], [B, 'SET', 'k', 'w'], [B, 'DEL', K[1]]])).toBe(RAN)
    expect(await on(A, 'UNWATCH')).toBe(OK)
  })

  it('EXEC unwatches: a later modification does not affect the next transaction', async () => {
    const B = await client()
    expect(await watchCase([], ['k'], [])).toBe(RAN)
    await steps([[B, 'SET', 'k', 'later'], [A, 'DEL', 'ran']])
    expect(await watchCase([], ['other'], [])).toBe(RAN)
  })

  it('a failed EXEC unwatches too', async () => {
    const B = await client()
    expect(await watchCase([], ['k'], [[B, 'SET', 'k', '1']])).toBe(NULL_ARRAY)
    const r = await steps([[B, 'SET', 'k', '2'], [A, 'MULTI'], [A, 'GET', 'k'], [A, 'EXEC']])
    expect(r[3]).toBe('*1\r\n$1\r\n2\r\n')
  })

  it('DISCARD unwatches', async () => {
    const B = await client()
    const r = await steps([
      [A, 'WATCH', 'k'], [A, 'MULTI'], [A, 'SET', 'k', 'a'], [A, 'DISCARD'], [B, 'SET', 'k', 'b'],
      [A, 'MULTI'], [A, 'SET', 'k', 'c'], [A, 'EXEC'], [A, 'GET', 'k'],
    ])
    expect(r[7]).toBe('*1\r\n+OK\r\n')
    expect(r[8]).toBe('$1\r\nc\r\n')
  })

  it('EXECABORT unwatches', async () => {
    const B = await client()
    await steps([[A, 'WATCH', 'k'], [A, 'MULTI'], [A, 'NOSUCH'], [A, 'EXEC'], [B, 'SET', 'k', 'b']])
    expect(await watchCase([], ['other'], [])).toBe(RAN)
  })

  for (let s = 0; s < SHARDS; s++) {
    it(`WATCH of keys on four shards: a write to the one on shard ${s} fails EXEC`, async () => {
      const B = await client()
      expect(await watchCase([['MSET', ...K.flatMap(k => [k, 'v'])]], K, [[B, 'SET', K[s], 'w']])).toBe(NULL_ARRAY)
    })
  }

  it('WATCH of keys on four shards, in several calls, with repeats: untouched, EXEC runs', async () => {
    const B = await client()
    const meddle: Step[] = [[A, 'WATCH', K[2], K[3], K[2]], [A, 'WATCH', K[0]], [B, 'MSET', K0b, 'x', 'elsewhere', 'y'], [B, 'MGET', ...K]]
    expect(await watchCase([['MSET', K[0], '1', K[1], '2']], [K[1], K[0]], meddle)).toBe(RAN)
  })

  it('WATCH in several calls: a key from the second call is touched', async () => {
    const B = await client()
    expect(await watchCase([], [K[0]], [[A, 'WATCH', K[3]], [B, 'INCR', K[3]]])).toBe(NULL_ARRAY)
  })

  it('another client\'s MULTI / EXEC that writes the watched key touches it', async () => {
    const B = await client()
    const meddle: Step[] = [[B, 'MULTI'], [B, 'SET', 'k', 'b'], [B, 'GET', 'k'], [B, 'EXEC']]
    expect(await watchCase([['SET', 'k', 'v']], ['k'], meddle)).toBe(NULL_ARRAY)
  })

  it('another client\'s transaction that is only queued, then discarded, does not touch it', async () => {
    const B = await client()
    const meddle: Step[] = [[B, 'MULTI'], [B, 'SET', 'k', 'b'], [B, 'DISCARD'], [B, 'MULTI'], [B, 'SET', 'k', 'c'], [B, 'FOO'], [B, 'EXEC']]
    expect(await watchCase([['SET', 'k', 'v']], ['k'], meddle)).toBe(RAN)
  })

  it('another client\'s transaction writing the watched key across shards (MSET) touches it', async () => {
    const B = await client()
    const meddle: Step[] = [[B, 'MULTI'], [B, 'MSET', K[0], 'x', K[2], 'y'], [B, 'EXEC']]
    expect(await watchCase([], [K[2]], meddle)).toBe(NULL_ARRAY)
  })

  it('failed writes do not touch: INCR of a string, SET NX on an existing key, RPUSH on a string', async () => {
    const B = await client()
    const meddle: Step[] = [[B, 'INCR', 'k'], [B, 'SET', 'k', 'w', 'NX'], [B, 'RPUSH', 'k', 'a'], [B, 'SETNX', 'k', 'z'], [B, 'LPOP', 'k']]
    expect(await watchCase([['SET', 'k', 'v']], ['k'], meddle)).toBe(RAN)
  })

  it('DEL of a missing watched key does not touch it', async () => {
    const B = await client()
    expect(await watchCase([], ['k'], [[B, 'DEL', 'k'], [B, 'UNLINK', 'k'], [B, 'LPOP', 'k'], [B, 'GETDEL', 'k']])).toBe(RAN)
  })

  it('DEL of an existing watched key touches it', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'DEL', 'k']])).toBe(NULL_ARRAY)
  })

  it('LTRIM that trims nothing touches it (Redis signals the key either way), also from a script', async () => {
    const B = await client()
    expect(await watchCase([['RPUSH', 'k', 'a', 'b']], ['k'], [[B, 'LTRIM', 'k', '0', '-1']])).toBe(NULL_ARRAY)
    expect(await watchCase([['RPUSH', 'k2', 'a']], ['k2'], [[B, 'EVAL', "return redis.call('LTRIM', KEYS[1], -5, 5)", '1', 'k2']])).toBe(NULL_ARRAY)
  })

  it('PFCOUNT that refreshes its cached cardinality touches the key, directly and from a script; with a fresh cache it does not', async () => {
    const B = await client()
    expect(await watchCase([['PFADD', 'h', 'a', 'b']], ['h'], [[B, 'PFCOUNT', 'h']])).toBe(NULL_ARRAY)
    expect(await watchCase([['PFADD', 'h2', 'a']], ['h2'], [[B, 'EVAL', "return redis.call('PFCOUNT', KEYS[1])", '1', 'h2']])).toBe(NULL_ARRAY)
    expect(await watchCase([['PFADD', 'h3', 'a'], ['PFCOUNT', 'h3']], ['h3'], [[B, 'PFCOUNT', 'h3']])).toBe(RAN)
  })

  it('SADD of members already there does not touch it (listpack, intset and hashtable sets)', async () => {
    const B = await client()
    const many = Array.from({ length: 200 }, (_, i) => `m${i}`)
    expect(await watchCase([['SADD', 's1', 'a', 'b'], ['SADD', 's2', '1', '2'], ['SADD', 's3', ...many]], ['s1', 's2', 's3'],
      [[B, 'SADD', 's1', 'a', 'b'], [B, 'SADD', 's2', '2'], [B, 'SADD', 's3', 'm7', 'm199']])).toBe(RAN)
  })

  it('SET of the same value touches it', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'SET', 'k', 'v']])).toBe(NULL_ARRAY)
  })

  it('a write to the same key name in another database does not touch it', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'SELECT', '1'], [B, 'SET', 'k', 'w'], [B, 'DEL', 'k']])).toBe(RAN)
  })

  it('a watched key keeps its database when the watching client SELECTs another', async () => {
    const B = await client()
    expect(await watchCase([], ['k'], [[A, 'SELECT', '2'], [B, 'SET', 'k', 'w']])).toBe(NULL_ARRAY)
  })

  it('FLUSHDB touches watched keys that exist', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'FLUSHDB']])).toBe(NULL_ARRAY)
  })

  it('FLUSHDB does not touch watched keys that do not exist', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'other', 'v']], ['k', 'k2'], [[B, 'FLUSHDB']])).toBe(RAN)
  })

  it('FLUSHDB of another database does not touch', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'SELECT', '1'], [B, 'SET', 'k', 'x'], [B, 'FLUSHDB']])).toBe(RAN)
  })

  it('FLUSHALL touches watched keys that exist, on any shard', async () => {
    const B = await client()
    expect(await watchCase([['SET', K[3], 'v']], [K[0], K[3]], [[B, 'FLUSHALL']])).toBe(NULL_ARRAY)
  })

  it('FLUSHALL does not touch watched keys that do not exist', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'other', 'v']], ['k'], [[B, 'SELECT', '1'], [B, 'SET', 'k', 'in-db1'], [B, 'FLUSHALL']])).toBe(RAN)
  })

  it('SWAPDB touches a watched key that exists in the database swapped in', async () => {
    const B = await client()
    expect(await watchCase([], ['k'], [[B, 'SELECT', '1'], [B, 'SET', 'k', 'v'], [B, 'SWAPDB', '0', '1']])).toBe(NULL_ARRAY)
  })

  it('SWAPDB touches a watched key that exists in the database swapped out', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'SWAPDB', '1', '0']])).toBe(NULL_ARRAY)
  })

  it('SWAPDB does not touch a watched key missing in both databases, nor swaps of other databases', async () => {
    const B = await client()
    const meddle: Step[] = [[B, 'SET', 'other', 'v'], [B, 'SWAPDB', '0', '1'], [B, 'SWAPDB', '2', '3'], [B, 'SWAPDB', '0', '1']]
    expect(await watchCase([], ['k'], meddle)).toBe(RAN)
    await same('DEL', 'ran')
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'SWAPDB', '2', '3']])).toBe(RAN)
  })

  // SET, PEXPIRE and WATCH go in one write, so that the key is surely alive when watched.
  it('a watched key that expires before EXEC touches it ("WATCH will consider touched expired keys")', async () => {
    await pipeline([['SET', 'k', 'v'], ['PEXPIRE', 'k', '50'], ['WATCH', 'k'], ['EXISTS', 'k']])
    await sleep(100)
    expect(await watchCase([], ['other'], [])).toBe(NULL_ARRAY)
  })

  it('a watched key that expires and is then read by another client is touched as well', async () => {
    const B = await client()
    await pipeline([['SET', 'k', 'v'], ['PEXPIRE', 'k', '50'], ['WATCH', 'k'], ['EXISTS', 'k']])
    await sleep(100)
    expect(await watchCase([], ['other'], [[B, 'GET', 'k'], [B, 'EXISTS', 'k']])).toBe(NULL_ARRAY)
  })

  it('a watched key with a TTL that is still alive at EXEC is not touched', async () => {
    expect(await watchCase([['SET', 'k', 'v', 'EX', '1000']], ['k'], [])).toBe(RAN)
  })

  it('WATCH of a key already expired (read with GET after WATCH): EXEC runs', async () => {
    // FlashKV has no DEBUG SET-ACTIVE-EXPIRE: the key may or may not have been reclaimed before
    // WATCH; either way it is logically missing when watched and EXEC must run.
    const r = await steps([[A, 'SET', 'k', 'v'], [A, 'PEXPIRE', 'k', '1'], 20])
    expect(r[1]).toBe(':1\r\n')
    expect(await watchCase([], ['k'], [[A, 'GET', 'k']])).toBe(RAN)
  })

  it('WATCH of a key already expired, not read again: EXEC runs', async () => {
    await steps([[A, 'SET', 'k', 'v'], [A, 'PEXPIRE', 'k', '1'], 20])
    expect(await watchCase([], ['k'], [])).toBe(RAN)
  })

  it('EXPIRE on a watched key touches it', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'EXPIRE', 'k', '100']])).toBe(NULL_ARRAY)
  })

  it('EXPIRE of a missing watched key and PERSIST of a key without TTL do not touch', async () => {
    const B = await client()
    const meddle: Step[] = [[B, 'EXPIRE', 'k', '100'], [B, 'PERSIST', 'j'], [B, 'PEXPIRE', 'k', '5']]
    expect(await watchCase([['SET', 'j', 'v']], ['k', 'j'], meddle)).toBe(RAN)
  })

  it('PERSIST that removes a TTL touches it', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v', 'EX', '100']], ['k'], [[B, 'PERSIST', 'k']])).toBe(NULL_ARRAY)
  })

  it('EXPIRE 0 (a delete) touches it', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'EXPIRE', 'k', '0']])).toBe(NULL_ARRAY)
  })

  it('COPY with the watched key as source does not touch it (across shards)', async () => {
    const B = await client()
    const meddle: Step[] = [[B, 'COPY', K[0], K[2]], [B, 'COPY', K[0], K0b, 'REPLACE'], [B, 'COPY', K[0], K[1], 'DB', '4']]
    expect(await watchCase([['SET', K[0], 'v']], [K[0]], meddle)).toBe(RAN)
  })

  it('ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE touch their destination, not their sources (one shard and across)', async () => {
    const B = await client()
    const K0c = keysOnShard(0, SHARDS, 3, 'm0:')[2]
    const setup = [['ZADD', K[0], '1', 'a'], ['ZADD', K0b, '2', 'a'], ['ZADD', K[1], '3', 'a']]
    const meddle: Step[] = [[B, 'ZUNIONSTORE', K0c, '2', K[0], K0b], [B, 'ZINTERSTORE', K0c, '2', K0b, K[0], 'WEIGHTS', '1', '2'], [B, 'ZDIFFSTORE', K0c, '2', K[0], K0b],
      [B, 'ZUNIONSTORE', K[2], '2', K[0], K0b], [B, 'ZINTERSTORE', K[2], '2', K[0], K[1], 'WEIGHTS', '1', '2'], [B, 'ZDIFFSTORE', K[3], '2', K[1], K0b]]
    expect(await watchCase(setup, [K[0], K0b, K[1]], meddle)).toBe(RAN)
    await same('DEL', 'ran')
    expect(await watchCase(setup, [K[2]], [[B, 'ZINTERSTORE', K[2], '2', K[0], K0b]])).toBe(NULL_ARRAY)
  })

  it('LMPOP, ZMPOP, BLPOP, BZPOPMIN and kin touch only the key they popped from, not the empty ones before it (plain, in EXEC, in a script)', async () => {
    const B = await client()
    const setup = [['RPUSH', K[0], 'a', 'b', 'c', 'd', 'e', 'f'], ['ZADD', K[0] + 'z', '1', 'a', '2', 'b', '3', 'c']]
    const [E, Ez] = [K0b, K0b + 'z']
    const meddle: Step[] = [[B, 'LMPOP', '2', E, K[0], 'LEFT'], [B, 'BLMPOP', '0', '2', E, K[0], 'RIGHT'], [B, 'BLPOP', E, K[0], '0'], [B, 'BRPOP', E, K[0], '0'],
      [B, 'ZMPOP', '2', Ez, K[0] + 'z', 'MIN'], [B, 'BZMPOP', '0', '2', Ez, K[0] + 'z', 'MAX'], [B, 'BZPOPMIN', Ez, K[0] + 'z', '0'],
      [B, 'MULTI'], [B, 'LMPOP', '2', E, K[0], 'LEFT'], [B, 'EXEC'], [B, 'EVAL', 'return redis.call(unpack(ARGV))', '0', 'LMPOP', '2', E, K[0], 'LEFT']]
    expect(await watchCase(setup, [E, Ez], meddle)).toBe(RAN)
  })

  it('a COPY refused (no REPLACE) does not touch the watched destination; a COPY that creates it does', async () => {
    const B = await client()
    expect(await watchCase([['SET', K[0], 'v'], ['SET', K[2], 'old']], [K[2]], [[B, 'COPY', K[0], K[2]]])).toBe(RAN)
    await same('DEL', 'ran')
    expect(await watchCase([], [K[3]], [[B, 'COPY', K[0], K[3]]])).toBe(NULL_ARRAY)
  })

  it('RENAME across shards touches the watched source', async () => {
    const B = await client()
    expect(await watchCase([['SET', K[0], 'v']], [K[0]], [[B, 'RENAME', K[0], K[3]]])).toBe(NULL_ARRAY)
  })

  it('RENAME across shards touches the watched destination', async () => {
    const B = await client()
    expect(await watchCase([['SET', K[0], 'v']], [K[3]], [[B, 'RENAME', K[0], K[3]]])).toBe(NULL_ARRAY)
  })

  it('LMOVE across shards touches the watched destination list', async () => {
    const B = await client()
    expect(await watchCase([['RPUSH', K[1], 'a']], [K[2]], [[B, 'LMOVE', K[1], K[2], 'LEFT', 'RIGHT']])).toBe(NULL_ARRAY)
  })

  it('MOVE of the watched key to another database touches it; MOVE into its database too', async () => {
    const B = await client()
    expect(await watchCase([['SET', 'k', 'v']], ['k'], [[B, 'MOVE', 'k', '1']])).toBe(NULL_ARRAY)
    expect(await watchCase([], ['j'], [[B, 'SELECT', '1'], [B, 'SET', 'j', 'v'], [B, 'MOVE', 'j', '0']])).toBe(NULL_ARRAY)
  })

  it('RPOP that empties the watched list touches it', async () => {
    const B = await client()
    expect(await watchCase([['RPUSH', 'k', 'a']], ['k'], [[B, 'RPOP', 'k']])).toBe(NULL_ARRAY)
  })

  it('WATCH, the client\'s own write to the watched key on its shard, and an EXEC on another shard, in one write', async () => {
    // The EXEC runs elsewhere, but after the write: it fails, as in Redis.
    await pipeline([['SET', K[0], 'v'], ['WATCH', K[3]], ['SET', K[3], 'x'], ['MULTI'], ['INCR', K[1]], ['EXEC'], ['GET', K[1]]])
    await pipeline([['WATCH', K[3]], ['RENAME', K[0], K[3]], ['MULTI'], ['INCR', K[1]], ['EXEC'], ['GET', K[1]]])
    await pipeline([['WATCH', K[2]], ['GET', K[0]], ['MULTI'], ['INCR', K[1]], ['EXEC'], ['GET', K[1]]])
  })

  it('WATCH scenario pipelined: WATCH, meddling, MULTI and EXEC each in one write', async () => {
    const B = await client()
    await pipeline([['SET', 'k', '1'], ['WATCH', 'k'], ['GET', 'k']])
    const both = Buffer.concat([['INCR', 'k'], ['GET', 'k']].map(c => encodeCommand(c)))
    B.f.send(both)
    B.r.send(both)
    const [a, b] = await Promise.all([B.f.readReplies(2), B.r.readReplies(2)])
    expect(a.map(text)).toEqual(b.map(text))
    await pipeline([['MULTI'], ['SET', 'k', '100'], ['EXEC'], ['GET', 'k'], ['WATCH', 'k'], ['MULTI'], ['SET', 'k', '200'], ['EXEC'], ['GET', 'k']])
    expect(await same('GET', 'k')).toBe('$3\r\n200\r\n')
  })
})

describe('one shard: commands of every shard inside EXEC', () => {
  const one = useDiffPair({ shards: 1 })
  it('RANDOMKEY, INFO, DBSIZE, KEYS and SCAN in a transaction, with and without WATCH', async () => {
    await one.pipeline([
      ['FLUSHALL'], ['SET', 'only', 'v'],
      ['MULTI'], ['RANDOMKEY'], ['INFO', 'keyspace'], ['DBSIZE'], ['KEYS', '*'], ['EXEC'],
      ['WATCH', 'only'], ['MULTI'], ['INFO', 'keyspace'], ['SCAN', '0'], ['RANDOMKEY'], ['GET', 'only'], ['EXEC'],
      ['MULTI'], ['SELECT', '2'], ['RANDOMKEY'], ['EXEC'],
    ])
  })
})

// With one shard, an EXEC after WATCH does not wait for the WATCH's reply: the shard's ring
// keeps the order, the shard checks the watch (and the expiry of watched keys) and ends the
// session itself. These send WATCH ... EXEC in one write, so the EXEC reaches the shard first.
describe('one shard: WATCH and EXEC pipelined in one write', () => {
  const one = useDiffPair({ shards: 1 })
  const sides = useSides(one)
  const A1 = sides.A

  it('untouched: EXEC runs; touched by the same client after WATCH: null; RESP3 null too', async () => {
    await one.pipeline([
      ['FLUSHALL'], ['SET', 'k', 'v'],
      ['WATCH', 'k'], ['MULTI'], ['INCR', 'c'], ['GET', 'k'], ['EXEC'],
      ['WATCH', 'k'], ['SET', 'k', 'mine'], ['MULTI'], ['INCR', 'c'], ['EXEC'], ['GET', 'c'],
      ['WATCH', 'k', 'c'], ['MULTI'], ['PING'], ['ECHO', 'x'], ['EXEC'],
      ['WATCH', 'k'], ['DEL', 'k'], ['MULTI'], ['PING'], ['EXEC'],
    ])
    await hello3(A1)
    await one.pipeline([['WATCH', 'k'], ['SET', 'k', 'again'], ['MULTI'], ['GET', 'k'], ['EXEC'], ['WATCH', 'k'], ['MULTI'], ['GET', 'k'], ['EXEC']])
  })

  it('the session ends with the EXEC (run or failed): a later write by another client changes nothing', async () => {
    const B = await sides.client()
    await one.pipeline([['FLUSHALL'], ['WATCH', 'k'], ['MULTI'], ['SET', 'k', '1'], ['EXEC']])
    await on(B, 'SET', 'k', '2')
    await one.pipeline([['MULTI'], ['GET', 'k'], ['EXEC']])
    await one.pipeline([['WATCH', 'k'], ['SET', 'k', '3'], ['MULTI'], ['GET', 'k'], ['EXEC']])
    await on(B, 'SET', 'k', '4')
    await one.pipeline([['MULTI'], ['GET', 'k'], ['EXEC'], ['UNWATCH'], ['DISCARD']])
  })

  it('another client\'s write between WATCH and the pipelined rest fails it; a watched key that expires fails it', async () => {
    const B = await sides.client()
    await one.pipeline([['FLUSHALL'], ['SET', 'k', 'v'], ['WATCH', 'k', 'other']])
    await on(B, 'APPEND', 'k', 'w')
    await one.pipeline([['MULTI'], ['GET', 'k'], ['EXEC'], ['GET', 'k']])
    await one.pipeline([['SET', 't', 'v', 'PX', '40'], ['WATCH', 't', 'k']])
    await sleep(80)
    await one.pipeline([['MULTI'], ['SET', 'k', 'ran'], ['EXEC'], ['GET', 'k']])
  })

  it('a script inside the transaction still checks the watch first', async () => {
    const B = await sides.client()
    await one.pipeline([['FLUSHALL'], ['SET', 'k', 'v'], ['WATCH', 'k']])
    await on(B, 'SET', 'k', 'w')
    await one.pipeline([['MULTI'], ['EVAL', 'return redis.call("GET", KEYS[1])', '1', 'k'], ['EXEC']])
    await one.pipeline([['WATCH', 'k'], ['MULTI'], ['EVAL', 'return redis.call("INCR", KEYS[1])', '1', 'n'], ['EXEC'], ['GET', 'n']])
  })
})

// call() counts each command EXEC runs in total_commands_processed, as a client's own; a queued
// command that never ran (the watch failed, EXECABORT, DISCARD) is not counted.
describe('total_commands_processed and the commands EXEC runs', () => {
  const total = (info: string): string => /total_commands_processed:\d+/.exec(info)?.[0] ?? 'no total_commands_processed'
  for (const shards of [1, SHARDS]) {
    const p = shards === 1 ? useDiffPair({ shards: 1 }) : pair
    const sides = shards === 1 ? useSides(p) : { A, client }

    it(`at ${shards} shard(s): each queued command that ran counts, a failed watch, EXECABORT or DISCARD counts none`, async () => {
      const B = await sides.client()
      await p.sequence([['FLUSHALL'], ['CONFIG', 'RESETSTAT']])
      // On one shard; across shards; with a command of the client's thread inside.
      await p.pipeline([['MULTI'], ['SET', K[0], '1'], ['INCR', K0b], ['EXEC']])
      await p.pipeline([['MULTI'], ['SET', K[0], '1'], ['INCR', K[1]], ['MGET', K[2], K[3]], ['PING'], ['EXEC']])
      await p.pipeline([['WATCH', K[1]], ['MULTI'], ['INCR', K[1]], ['EXEC']])
      // A watch another client breaks: EXEC is null, nothing it held ran.
      await p.pipeline([['WATCH', K[0]]])
      await on(B, 'SET', K[0], 'other')
      const a = sides.A
      expect(await steps([[a, 'MULTI'], [a, 'INCR', K[2]], [a, 'GET', K[3]], [a, 'EXEC']])).toEqual([OK, QUEUED, QUEUED, NULL_ARRAY])
      await p.pipeline([['MULTI'], ['SET', K[0]], ['INCR', K[1]], ['EXEC']])
      await p.pipeline([['MULTI'], ['INCR', K[1]], ['DISCARD']])
      // A watched key that expired: null too (across shards the check is made under the hold).
      // (200 ms: the key must still live when WATCH reaches each server, on a loaded box too.)
      await p.pipeline([['SET', K[1], 'v', 'PX', '200'], ['WATCH', K[1]]])
      await sleep(400)
      expect(await steps([[a, 'MULTI'], [a, 'INCR', K[2]], [a, 'INCR', K[3]], [a, 'EXEC']])).toEqual([OK, QUEUED, QUEUED, NULL_ARRAY])
      // CONFIG RESETSTAT 1; 4 + 6 + 4 for the three that ran; WATCH, B's SET and MULTI/EXEC of the
      // failed one 4; MULTI and EXEC of the aborted one 2 (its SET was refused, its INCR never ran);
      // MULTI and DISCARD 2; SET, WATCH, MULTI and EXEC of the expired watch 4.
      expect(total(await p.sameNormalized(total, 'INFO', 'stats'))).toBe('total_commands_processed:27')
    })

    it(`at ${shards} shard(s): a command split over shards inside EXEC counts one call in commandstats, as Redis's`, async () => {
      await p.sequence([['FLUSHALL'], ['CONFIG', 'RESETSTAT']])
      await p.pipeline([['MULTI'], ['MSET', K[0], '1', K[1], '2', K[2], '3', K[3], '4'], ['DEL', K[0], K[1], K[2]], ['EXISTS', ...K], ['MGET', ...K], ['EXEC']])
      await p.pipeline([['WATCH', K[3]], ['MULTI'], ['MSET', K[0], '1', K[1], '2'], ['UNLINK', K[1], K[2], K[3]], ['EXEC']])
      // A held transaction (RENAME across shards inside) runs its split commands as steps.
      await p.pipeline([['MULTI'], ['MSET', K[0], 'a', K[2], 'b'], ['RENAME', K[0], K[1]], ['MGET', K[1], K[2]], ['EXEC']])
      const calls = (info: string): string => info.split('\r\n').filter(l => /^cmdstat_(mset|del|unlink|exists|mget|exec):/.test(l))
        .map(l => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, '')).sort().join('\n')
      expect(calls(await p.sameNormalized(calls, 'INFO', 'commandstats'))).toContain('cmdstat_mset:calls=3,')
    })
  }
})
