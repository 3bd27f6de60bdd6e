// RENAME, RENAMENX, COPY, LMOVE, RPOPLPUSH and SMOVE across shards as a move between the two shards (commands/xmove.ts): the
// same bytes go to Redis 7.0 and to FlashKV (4 shards), for every type, TTLs, values bigger than
// the exchange's chunk (32 KiB: several hand-overs), several databases, a blocked client on the
// destination; INFO's cross_shard_moves shows the path ran. Then shards are crashed while
// clients race RENAMEs across them: every request is answered and the server goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { useDiffPair, text, ttlSign } from './helpers/diff.js'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { keysOnShard } from './helpers/slots.js'
import { REDIS_URL, startFlashKV, type ServerHandle } from './helpers/server.js'
import { sleep } from './helpers/sides.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { sequence } = pair

const [S0, S1] = keysOnShard(0, SHARDS, 2, 'src:')
const [D0, D1] = keysOnShard(1, SHARDS, 2, 'dst:')
const [E0] = keysOnShard(3, SHARDS, 1, 'far:')

async function moves (): Promise<number> {
  const m = /^cross_shard_moves:(\d+)\r$/m.exec(text(await pair.f.command('INFO', 'shards')))
  if (m === null) throw new Error('no cross_shard_moves in INFO shards')
  return Number(m[1])
}

/** Reads that show a key's whole value for each type, in an order both servers agree on. */
function readAll (k: string): string[][] {
  return [
    ['TYPE', k], ['EXISTS', k], ['OBJECT', 'ENCODING', k],
    ['GET', k], ['STRLEN', k], ['LRANGE', k, '0', '-1'], ['HLEN', k], ['HGET', k, 'f1'], ['HGET', k, 'field77'],
    ['SCARD', k], ['SISMEMBER', k, 'm5'], ['ZRANGE', k, '0', '-1', 'WITHSCORES'], ['XRANGE', k, '-', '+'], ['XLEN', k],
  ]
}

describe('cross-shard RENAME, RENAMENX, COPY, LMOVE, RPOPLPUSH and SMOVE match Redis', () => {
  it('every type, with and without TTL, onto absent and present keys of any type', async () => {
    const before = await moves()
    const values: string[][][] = [
      [['SET', S0, 'hello']],
      [['SET', S0, '12345']],
      [['SET', S0, 'x'.repeat(100)]],
      [['RPUSH', S0, 'a', 'b', 'c']],
      [['RPUSH', S0, ...Array.from({ length: 600 }, (_, i) => `element-${i}`)]],
      [['HSET', S0, 'f1', 'v1', 'f2', 'v2']],
      [['HSET', S0, ...Array.from({ length: 200 }, (_, i) => [`field${i}`, `v${i}`]).flat()]],
      [['SADD', S0, 'm1', 'm5', 'm9']],
      [['SADD', S0, '1', '2', '3']],
      [['ZADD', S0, '1', 'one', '2.5', 'two']],
      [['XADD', S0, '1-1', 'f', 'v'], ['XADD', S0, '2-1', 'g', 'w']],
    ]
    for (const make of values) {
      for (const ttl of [false, true]) {
        for (const dst of [null, ['SET', D0, 'old'], ['RPUSH', D0, 'z']]) {
          const setup = [...make, ...(ttl ? [['PEXPIRE', S0, '500000']] : []), ...(dst === null ? [] : [dst])]
          await sequence([
            ...setup,
            ['RENAMENX', S0, D0],
            ['RENAME', S0, D0],
            ['EXISTS', S0],
            ...readAll(D0),
          ])
          await pair.sameNormalized(ttlSign, 'TTL', D0)
          await sequence([
            ['RENAME', D0, S0], ['RENAMENX', S0, D1], ['EXISTS', S0, D0, D1],
            ...readAll(D1),
            ['RENAME', 'nosuch', D0], ['RENAMENX', 'nosuch', D0], ['EXISTS', D0],
            ['DEL', S0, S1, D0, D1],
          ])
        }
      }
    }
    expect(await moves() - before).toBeGreaterThan(100)
  })

  it('values bigger than one hand-over move whole, both ways, in other databases too', async () => {
    const before = await moves()
    for (const db of ['0', '5']) {
      await sequence([
        ['SELECT', db],
        ['SET', S0, 'v'.repeat(200_000)],
        ['RENAME', S0, E0], ['STRLEN', E0], ['GETRANGE', E0, '199990', '-1'], ['EXISTS', S0],
        ['RPUSH', S1, ...Array.from({ length: 5000 }, (_, i) => `item-${i}-${'p'.repeat(i % 40)}`)],
        ['RENAME', S1, D1], ['LLEN', D1], ['LINDEX', D1, '4999'], ['LINDEX', D1, '0'], ['EXISTS', S1],
        ['RENAMENX', E0, D1], ['RENAMENX', E0, D0], ['STRLEN', D0], ['EXISTS', E0],
        ['DBSIZE'],
        ['SELECT', '0'],
      ])
    }
    expect(await moves() - before).toBe(8)
  })

  it('COPY across shards: REPLACE, DB, TTLs, every type, big values, and its errors', async () => {
    const before = await moves()
    for (const make of [['SET', S0, 'hello'], ['SET', S0, '42'], ['RPUSH', S0, 'a', 'b'], ['HSET', S0, 'f1', 'v1'], ['SADD', S0, 'm5'],
      ['ZADD', S0, '3', 'z'], ['XADD', S0, '5-5', 'f', 'v'], ['SET', S0, 'w'.repeat(70_000)]]) {
      await sequence([
        make, ['PEXPIRE', S0, '800000'],
        ['COPY', S0, D0], ['COPY', S0, D0], ['COPY', S0, D0, 'REPLACE'], ['EXISTS', S0, D0],
        ...readAll(D0),
        ['COPY', S0, D1, 'DB', '3'], ['COPY', S0, D1, 'DB', '3'], ['COPY', S0, D1, 'REPLACE', 'DB', '3'],
        ['SELECT', '3'], ...readAll(D1), ['SELECT', '0'],
      ])
      await pair.sameNormalized(ttlSign, 'TTL', D0)
      await sequence([['DEL', S0, D0], ['SELECT', '3'], ['FLUSHDB'], ['SELECT', '0']])
    }
    await sequence([
      ['COPY', 'nosuch', D0], ['SET', S0, 'v'], ['COPY', S0, D0, 'DB'], ['COPY', S0, D0, 'DB', 'x'], ['COPY', S0, D0, 'DB', '16'],
      ['COPY', S0, D0, 'REPLACE', 'REPLACE', 'NOPE'], ['COPY', S0, D0, 'DB', '-1'], ['EXISTS', D0],
    ])
    expect(await moves() - before).toBeGreaterThan(40)
  })

  it('LMOVE and RPOPLPUSH across shards: every direction, types, big elements, RESP3', async () => {
    const before = await moves()
    const cmds: string[][] = [['RPUSH', S0, 'a', 'b', 'c', 'x'.repeat(40_000), 'd']]
    for (const from of ['LEFT', 'RIGHT']) {
      for (const to of ['LEFT', 'RIGHT']) cmds.push(['LMOVE', S0, D0, from, to], ['LRANGE', D0, '0', '-1'], ['LLEN', S0])
    }
    cmds.push(['RPOPLPUSH', S0, D0], ['STRLEN', D0], ['LINDEX', D0, '0'], ['EXISTS', S0])
    cmds.push(['RPOPLPUSH', S0, D0], ['LMOVE', 'nosuch', D0, 'LEFT', 'LEFT'], ['LLEN', D0])
    cmds.push(['SET', S1, 'str'], ['LMOVE', S1, D0, 'LEFT', 'LEFT'], ['RPOPLPUSH', S1, D0])
    cmds.push(['SET', D1, 'str'], ['RPUSH', S0, 'p', 'q'], ['LMOVE', S0, D1, 'LEFT', 'LEFT'], ['RPOPLPUSH', S0, D1], ['LRANGE', S0, '0', '-1'], ['GET', D1])
    cmds.push(['LMOVE', S0, D0, 'UP', 'LEFT'], ['LMOVE', S0, D0, 'LEFT', 'DOWN'], ['LRANGE', S0, '0', '-1'])
    cmds.push(['RPUSH', E0, 'only'], ['LMOVE', E0, D0, 'RIGHT', 'RIGHT'], ['EXISTS', E0], ['LRANGE', D0, '-2', '-1'])
    await sequence(cmds)
    // RESP3's null (HELLO's own reply names each server, so it is not compared).
    await Promise.all([pair.f.command('HELLO', '3'), pair.r.command('HELLO', '3')])
    await sequence([['LMOVE', 'nosuch', D0, 'LEFT', 'LEFT'], ['RPOPLPUSH', 'nosuch', D0], ['LMOVE', E0, D1, 'LEFT', 'LEFT']])
    await Promise.all([pair.f.command('HELLO', '2'), pair.r.command('HELLO', '2')])
    expect(await moves() - before).toBeGreaterThan(10)
  })

  it('SMOVE across shards: types first, then the member; intsets and empty sets', async () => {
    const before = await moves()
    await sequence([
      ['SMOVE', S0, D0, 'm'], ['SET', S0, 'str'], ['SMOVE', S0, D0, 'm'], ['DEL', S0],
      ['SADD', S0, '1', '2', '3'], ['SET', D0, 'str'], ['SMOVE', S0, D0, 'nope'], ['SMOVE', S0, D0, '1'], ['DEL', D0],
      ['SMOVE', S0, D0, 'nope'], ['EXISTS', D0], ['SMOVE', S0, D0, '1'], ['SMEMBERS', D0], ['OBJECT', 'ENCODING', D0],
      ['SADD', D0, '2'], ['SMOVE', S0, D0, '2'], ['SCARD', S0], ['SCARD', D0], ['SISMEMBER', D0, '2'],
      ['SADD', D0, 'word'], ['SMOVE', S0, D0, '3'], ['EXISTS', S0], ['SCARD', D0], ['OBJECT', 'ENCODING', D0],
      ['SADD', E0, ...Array.from({ length: 300 }, (_, i) => `member-${i}`)], ['SMOVE', E0, D1, 'member-7'], ['SMOVE', E0, D1, 'member-7'],
      ['SCARD', E0], ['SMEMBERS', D1], ['SISMEMBER', E0, 'member-7'],
    ])
    expect(await moves() - before).toBeGreaterThan(8)
  })

  it('keyspace hits and misses count as Redis counts them (COPY reads its source; the others write)', async () => {
    const stats = async (c: RawClient): Promise<string> => {
      const info = text(await c.command('INFO', 'stats'))
      return ['keyspace_hits', 'keyspace_misses'].map(f => new RegExp(`^${f}:(\\d+)\r$`, 'm').exec(info)?.[1] ?? '?').join('/')
    }
    await sequence([['SET', S0, 'v'], ['RPUSH', S1, 'a', 'b'], ['SADD', E0, 'm'], ['SET', D1, 'x']])
    await Promise.all([pair.f.command('CONFIG', 'RESETSTAT'), pair.r.command('CONFIG', 'RESETSTAT')])
    await sequence([
      ['COPY', S0, D0], ['COPY', 'nosuch', D0], ['COPY', S0, D0], ['RENAME', 'nosuch', D0], ['RENAMENX', S0, D1],
      ['RENAME', S0, D0], ['LMOVE', S1, D0, 'LEFT', 'LEFT'], ['LMOVE', S1, D1, 'LEFT', 'LEFT'], ['RPOPLPUSH', 'nosuch', D1],
      ['SMOVE', E0, D1, 'm'], ['SMOVE', E0, D0, 'm'], ['SMOVE', 'nosuch', D0, 'm'],
    ])
    const [f, r] = await Promise.all([stats(pair.f), stats(pair.r)])
    expect(r, 'Redis counted some of each').toMatch(/^[1-9]\d*\/[1-9]\d*$/)
    expect(f, 'keyspace_hits/keyspace_misses').toBe(r)
  })

  /** A BLPOP on the destination on each server, then `cmds`: both BLPOPs get the same answer. */
  async function blockedOnDestination (cmds: string[][], after: string[][]): Promise<void> {
    const [fb, rb] = await Promise.all([RawClient.connect(pair.flash.port, pair.flash.host), RawClient.connect(pair.redis.port, pair.redis.host)])
    try {
      fb.send(encodeCommand(['BLPOP', D0, '0']))
      rb.send(encodeCommand(['BLPOP', D0, '0']))
      await sleep(100)
      await sequence(cmds)
      const [a, b] = await Promise.all([fb.readReplies(1, 10_000), rb.readReplies(1, 10_000)])
      expect(text(a[0])).toBe(text(b[0]))
      await sequence(after)
    } finally {
      fb.close()
      rb.close()
    }
  }

  it('a client blocked on the destination is served by an LMOVE', async () => {
    await blockedOnDestination([['RPUSH', S0, 'one', 'two'], ['LMOVE', S0, D0, 'LEFT', 'RIGHT'], ['LLEN', S0]], [['LRANGE', D0, '0', '-1'], ['EXISTS', D0]])
  })

  it('a client blocked on the destination is served by the move', async () => {
    await blockedOnDestination([['RPUSH', S0, 'first', 'second'], ['RENAME', S0, D0]], [['LRANGE', D0, '0', '-1'], ['EXISTS', S0]])
  })

  it('pipelined moves keep the order of everything around them', async () => {
    const cmds: string[][] = [['SET', S0, '0']]
    for (let i = 1; i <= 50; i++) {
      cmds.push(['RENAME', i % 2 === 1 ? S0 : D0, i % 2 === 1 ? D0 : S0], ['INCR', i % 2 === 1 ? D0 : S0], ['RENAMENX', E0, S1])
    }
    cmds.push(['MGET', S0, D0, S1, E0])
    await pair.pipeline(cmds)
  })
})

// Every part starts FlashKV itself with DEBUG enabled: not for a REDIS_URL.
const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

describeLocal('moves while shards crash', () => {
  let server: ServerHandle
  beforeAll(async () => { server = await startFlashKV({ shards: SHARDS, extraArgs: ['--enable-debug-command', 'yes'] }) })
  afterAll(async () => { await server?.stop() })

  it('every RENAME is answered, and moves run again once the shards are back', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, async () => await RawClient.connect(server.port, server.host)))
    const admin = await RawClient.connect(server.port, server.host)
    try {
      const pairs = clients.map((_, i) => [keysOnShard(i % 2, SHARDS, 1, `c${i}a:`)[0], keysOnShard(2 + (i % 2), SHARDS, 1, `c${i}b:`)[0]])
      let isDone = false
      const answers = new Map<string, number>()
      const race = clients.map(async (c, i) => {
        const [a, b] = pairs[i]
        while (!isDone) {
          const cmds = [['SET', a, 'v'], ['RENAME', a, b], ['RENAME', b, a], ['RENAMENX', a, b]]
          c.send(Buffer.concat(cmds.map(encodeCommand)))
          for (const r of await c.readReplies(cmds.length, 60_000)) {
            const t = text(r)
            const kind = t.startsWith('-CLUSTERDOWN') ? 'down' : t === '+OK\r\n' || t === ':1\r\n' || t === ':0\r\n' ? 'ok' : t === '-ERR no such key\r\n' ? 'nokey' : t
            answers.set(kind, (answers.get(kind) ?? 0) + 1)
          }
        }
      })
      for (const shard of [1, 2, 0, 3]) {
        await sleep(150)
        // DEBUG itself answers CLUSTERDOWN while the shard it goes through is still coming back.
        let reply = ''
        for (let tries = 0; tries < 600 && reply !== '+OK\r\n'; tries++) {
          reply = text(await admin.command('DEBUG', 'CRASH-SHARD', String(shard)))
          if (reply !== '+OK\r\n') { expect(reply).toMatch(/^-CLUSTERDOWN/); await sleep(50) }
        }
        expect(reply).toBe('+OK\r\n')
      }
      await sleep(300)
      isDone = true
      await Promise.all(race)
      // Only the three expected kinds of answer, and plenty of moves among them.
      expect([...answers.keys()].filter(k => k !== 'ok' && k !== 'down' && k !== 'nokey')).toEqual([])
      expect(answers.get('ok') ?? 0).toBeGreaterThan(100)
      // Once every shard is back, a move runs whole on each pair.
      for (const [a, b] of pairs) {
        let reply = ''
        for (let tries = 0; tries < 600; tries++) {
          await admin.command('DEL', a, b)
          await admin.command('SET', a, 'again')
          reply = text(await admin.command('RENAME', a, b))
          if (reply === '+OK\r\n') break
          await sleep(50)
        }
        expect(reply).toBe('+OK\r\n')
        expect(text(await admin.command('MGET', a, b))).toBe('*2\r\n$-1\r\n$5\r\nagain\r\n')
      }
    } finally {
      for (const c of clients) c.close()
      admin.close()
    }
  })
})
