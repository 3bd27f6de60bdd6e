// Differential tests for the blocking list commands (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP),
// CLIENT UNBLOCK and INFO's blocked_clients (Redis 7.0's t_list.c and blocked.c): the same bytes go
// to a real redis-server 7.0.15 and to FlashKV (4 shards) and every reply must be identical, RESP2
// and RESP3. A scenario with a blocked client uses one more connection to each server per client
// and runs the identical steps, in the identical order, on both; a client is sent its blocking
// command on both servers, then the test sleeps a fixed 50–100 ms so that both have it parked
// before the next step. Nothing asserts elapsed time: a timeout is checked by its reply only.
// Keys are picked per shard (helpers/slots.ts) so each scenario runs once with every key on one
// shard (FlashKV parks the client on that shard) and once with keys on several shards (FlashKV's
// retry path). Key replies are also asserted literally, so a test cannot pass on two servers that
// agree on something else. HELLO's reply (server name, version, client id) and the client ids
// CLIENT UNBLOCK takes are read, not compared.
import { describe, expect, it } from 'vitest'

import { useDiffPair, show, text, type Arg } from './helpers/diff.js'
import { encodeCommand } from './helpers/raw.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'
import { useSides, hello3, on, steps, send, sleep, type Side, type Step } from './helpers/sides.js'

const SHARDS = 4
const pair = useDiffPair({ shards: SHARDS })
const { same, sequence, pipeline } = pair

// Keys by shard: S0[i] on shard 0, S1[i] on shard 1, S2 on shard 2, S3 on shard 3.
const S0 = keysOnShard(0, SHARDS, 3, 'bl0:')
const S1 = keysOnShard(1, SHARDS, 2, 'bl1:')
const [S2] = keysOnShard(2, SHARDS, 1, 'bl2:')
const [S3] = keysOnShard(3, SHARDS, 1, 'bl3:')

it('test keys land where the test expects', () => {
  expect([...S0, ...S1, S2, S3].map(k => shardOfKey(k, SHARDS))).toEqual([0, 0, 0, 1, 1, 2, 3])
})

const OK = '+OK\r\n'
const NULL_ARRAY = '*-1\r\n' // RESP2 null of every blocking list command that timed out
const NULL_BULK = '$-1\r\n' // RESP2 null of BRPOPLPUSH / BLMOVE inside MULTI
const NULL3 = '_\r\n' // RESP3 null
const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n'
const UNBLOCKED = '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n'
const NOT_FLOAT = '-ERR timeout is not a float or out of range\r\n'
const NEGATIVE = '-ERR timeout is negative\r\n'
const SYNTAX = '-ERR syntax error\r\n'

const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`
const arr = (...items: string[]): string => `*${items.length}\r\n${items.join('')}`
/** BLPOP / BRPOP's reply: [key, element]. */
const popped = (key: string, element: string): string => arr(bulk(key), bulk(element))
/** BLMPOP's reply: [key, [elements]]. */
const mpopped = (key: string, ...elements: string[]): string => arr(bulk(key), arr(...elements.map(bulk)))

/** Pause long enough for both servers to have parked a client that was just sent a blocking command. */
const BLOCK_MS = 100
const { A, client } = useSides(pair)

async function clients (...names: string[]): Promise<Side[]> {
  return await Promise.all(names.map(async n => await client(n)))
}


/** Sends a blocking command on `side`, then waits until both servers have parked the client. */
async function block (side: Side, ...args: Arg[]): Promise<void> {
  const before = await blockedCounts()
  send(side, ...args)
  await sleep(BLOCK_MS)
  await parked(before.map(n => n + 1))
}

/** blocked_clients of FlashKV and Redis, read on A. */
async function blockedCounts (): Promise<number[]> {
  const got = await Promise.all([A.f.command('INFO', 'clients'), A.r.command('INFO', 'clients')])
  return got.map(r => Number(/(?:^|\r\n)blocked_clients:(\d+)\r\n/.exec(text(r))?.[1] ?? -1))
}

/**
 * Waits (2 s at most) until each server has parked `want` clients: a loaded box can take longer
 * than BLOCK_MS. A command that does not block falls through, and the test's checks decide.
 */
async function parked (want: number[]): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const now = await blockedCounts()
    if (now[0] >= want[0] && now[1] >= want[1]) return
    await sleep(50)
  }
}

/**
 * Reads the next reply on `side` from both servers (e.g. of a blocked command); they must be
 * identical. A server that sends nothing within 5 s is named in the error, with Redis's reply.
 */
async function reply (side: Side, what = 'the blocked command'): Promise<string> {
  const [a, b] = await Promise.allSettled([side.f.readReplies(1), side.r.readReplies(1)])
  if (b.status === 'rejected') throw new Error(`client ${side.name}: Redis: no reply to ${what}: ${String(b.reason)}`)
  const redis = text(b.value[0])
  if (a.status === 'rejected') {
    throw new Error(`client ${side.name}: FlashKV: no reply to ${what} (Redis replied ${JSON.stringify(redis)}): ${String(a.reason)}`)
  }
  expect(text(a.value[0]), `client ${side.name}: reply to ${what}`).toBe(redis)
  return redis
}


/**
 * INFO clients' blocked_clients on both servers: must be equal; returns the number. So must
 * clients_in_timeout_table (those of them blocked with a timeout other than 0).
 */
async function blockedClients (side: Side = A): Promise<number> {
  const [a, b] = await Promise.all([side.f.command('INFO', 'clients'), side.r.command('INFO', 'clients')])
  const field = (reply: Buffer, server: string, name: string): number => {
    const m = new RegExp(`(?:^|\r\n)${name}:(\\d+)\r\n`).exec(text(reply))
    expect(m, `${server}: INFO clients has ${name}`).not.toBeNull()
    return Number(m?.[1])
  }
  const redis = field(b, 'redis', 'blocked_clients')
  expect(field(a, 'flashkv', 'blocked_clients'), 'blocked_clients (FlashKV vs Redis)').toBe(redis)
  expect(field(a, 'flashkv', 'clients_in_timeout_table'), 'clients_in_timeout_table (FlashKV vs Redis)').toBe(field(b, 'redis', 'clients_in_timeout_table'))
  return redis
}

/** Each server's own id for the connection of `side` (CLIENT ID); ids differ between the servers. */
interface Ids { readonly f: string, readonly r: string }
async function clientId (side: Side): Promise<Ids> {
  const [a, b] = await Promise.all([side.f.command('CLIENT', 'ID'), side.r.command('CLIENT', 'ID')])
  const id = (reply: Buffer): string => {
    const m = /^:(\d+)\r\n$/.exec(text(reply))
    expect(m, `CLIENT ID reply ${JSON.stringify(text(reply))}`).not.toBeNull()
    return m?.[1] ?? ''
  }
  return { f: id(a), r: id(b) }
}

/** CLIENT UNBLOCK <the target's id on each server> [reason] from `by`; the replies must be identical. */
async function unblock (by: Side, target: Ids, ...reason: string[]): Promise<string> {
  const [a, b] = await Promise.all([
    by.f.command('CLIENT', 'UNBLOCK', target.f, ...reason), by.r.command('CLIENT', 'UNBLOCK', target.r, ...reason),
  ])
  expect(text(a), `client ${by.name}: CLIENT UNBLOCK ${reason.join(' ')}`).toBe(text(b))
  return text(b)
}

/** The five blocking commands on (first, second) keys with a timeout: pops from `first`/`second`, moves first → second. */
function fiveCommands (first: string, second: string, timeout: string): Arg[][] {
  return [
    ['BLPOP', first, second, timeout],
    ['BRPOP', first, second, timeout],
    ['BRPOPLPUSH', first, second, timeout],
    ['BLMOVE', first, second, 'RIGHT', 'LEFT', timeout],
    ['BLMPOP', timeout, '2', first, second, 'LEFT', 'COUNT', '2'],
  ]
}

describe('immediate pops when a list exists', () => {
  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    it(`BLPOP and BRPOP pop from the first non-empty key (${label})`, async () => {
      const r = await steps([
        [A, 'RPUSH', k2, 'a', 'b', 'c', 'd'],
        [A, 'BLPOP', k1, k2, '0'], [A, 'BRPOP', k1, k2, '0'], [A, 'BLPOP', k2, k1, '1'], [A, 'BRPOP', k2, '0.5'],
        [A, 'EXISTS', k2], [A, 'RPUSH', k1, 'x'], [A, 'RPUSH', k2, 'y'],
        [A, 'BRPOP', k2, k1, '0'], [A, 'BLPOP', k2, k1, '0'], [A, 'EXISTS', k1, k2],
      ])
      expect(r[1]).toBe(popped(k2, 'a'))
      expect(r[2]).toBe(popped(k2, 'd'))
      expect(r[3]).toBe(popped(k2, 'b'))
      expect(r[4]).toBe(popped(k2, 'c'))
      expect(r[5]).toBe(':0\r\n') // popping the last element deletes the key
      expect(r[8]).toBe(popped(k2, 'y'))
      expect(r[9]).toBe(popped(k1, 'x'))
      expect(r[10]).toBe(':0\r\n')
    })

    it(`BRPOPLPUSH and BLMOVE with every LEFT / RIGHT pair (${label})`, async () => {
      const r = await steps([
        [A, 'RPUSH', k1, 'a', 'b', 'c', 'd', 'e', 'f'], [A, 'RPUSH', k2, 'z'],
        [A, 'BRPOPLPUSH', k1, k2, '0'],
        [A, 'BLMOVE', k1, k2, 'LEFT', 'LEFT', '0'], [A, 'BLMOVE', k1, k2, 'LEFT', 'RIGHT', '0'],
        [A, 'BLMOVE', k1, k2, 'RIGHT', 'LEFT', '0'], [A, 'blmove', k1, k2, 'right', 'right', '0.1'],
        [A, 'LRANGE', k1, '0', '-1'], [A, 'LRANGE', k2, '0', '-1'],
        // Source == destination: a rotation.
        [A, 'BLMOVE', k2, k2, 'LEFT', 'RIGHT', '0'], [A, 'BRPOPLPUSH', k2, k2, '0'], [A, 'LRANGE', k2, '0', '-1'],
        // The last element moved away deletes the source.
        [A, 'BLMOVE', k1, k2, 'LEFT', 'LEFT', '0'], [A, 'EXISTS', k1],
      ])
      expect(r[2]).toBe(bulk('f'))
      expect(r[3]).toBe(bulk('a'))
      expect(r[5]).toBe(bulk('e'))
      expect(r[7]).toBe(arr(bulk('c')))
      expect(r[8]).toBe(arr(...['e', 'a', 'f', 'z', 'b', 'd'].map(bulk)))
      expect(r[11]).toBe(arr(...['e', 'a', 'f', 'z', 'b', 'd'].map(bulk)))
      expect(r[13]).toBe(':0\r\n')
    })

    it(`BLMPOP LEFT / RIGHT, with and without COUNT, from the first non-empty key (${label})`, async () => {
      const r = await steps([
        [A, 'RPUSH', k2, 'a', 'b', 'c', 'd', 'e'],
        [A, 'BLMPOP', '0', '2', k1, k2, 'LEFT'], [A, 'BLMPOP', '0', '2', k1, k2, 'RIGHT'],
        [A, 'BLMPOP', '0', '2', k1, k2, 'LEFT', 'COUNT', '2'], [A, 'RPUSH', k1, 'x', 'y', 'w'],
        [A, 'BLMPOP', '0.5', '2', k1, k2, 'RIGHT', 'COUNT', '2'], [A, 'BLMPOP', '0', '2', k2, k1, 'LEFT', 'COUNT', '10'],
        [A, 'blmpop', '0', '1', k1, 'right', 'count', '1'], [A, 'EXISTS', k1, k2],
      ])
      expect(r[1]).toBe(mpopped(k2, 'a'))
      expect(r[2]).toBe(mpopped(k2, 'e'))
      expect(r[3]).toBe(mpopped(k2, 'b', 'c'))
      expect(r[5]).toBe(mpopped(k1, 'w', 'y'))
      expect(r[6]).toBe(mpopped(k2, 'd'))
      expect(r[7]).toBe(mpopped(k1, 'x'))
      expect(r[8]).toBe(':0\r\n')
    })

    it(`WRONGTYPE on a non-list key met before a non-empty list; a list met first pops (${label})`, async () => {
      await sequence([['SET', k1, 'str'], ['RPUSH', k2, 'a', 'b', 'c', 'd']])
      for (const cmd of fiveCommands(k1, k2, '0')) expect(await same(...cmd)).toBe(WRONGTYPE)
      // With the list first, the string after it is never looked at.
      await sequence(fiveCommands(k2, k1, '0').filter(c => c[0] !== 'BRPOPLPUSH' && c[0] !== 'BLMOVE'))
      // An empty key before the string: still WRONGTYPE (the string is met before any list).
      await sequence([['DEL', k2], ['BLPOP', k2, k1, '0'], ['BRPOP', k2, k1, '0'], ['BLMPOP', '0', '2', k2, k1, 'RIGHT']])
      await sequence([['LRANGE', k2, '0', '-1'], ['GET', k1]])
    })

    it(`BRPOPLPUSH / BLMOVE into a non-list destination: WRONGTYPE, the source unchanged (${label})`, async () => {
      const r = await steps([
        [A, 'RPUSH', k1, 'a', 'b'], [A, 'SET', k2, 'str'],
        [A, 'BRPOPLPUSH', k1, k2, '0'], [A, 'BLMOVE', k1, k2, 'LEFT', 'RIGHT', '0'],
        [A, 'LRANGE', k1, '0', '-1'], [A, 'GET', k2],
      ])
      expect(r[2]).toBe(WRONGTYPE)
      expect(r[3]).toBe(WRONGTYPE)
      expect(r[4]).toBe(arr(bulk('a'), bulk('b')))
    })
  }

  it('the same key twice, and keys on four shards: the first non-empty key in argument order wins', async () => {
    await sequence([
      ['RPUSH', S3, 'd3'], ['RPUSH', S1[0], 'd1'], ['RPUSH', S2, 'd2'],
      ['BLPOP', S0[0], S0[0], S2, S1[0], S3, '0'], ['BRPOP', S0[0], S3, S3, S1[0], '0'],
      ['BLMPOP', '0', '4', S0[0], S1[0], S2, S3, 'LEFT', 'COUNT', '5'], ['DBSIZE'],
    ])
  })

  it('RESP3 (HELLO 3): immediate pops of the five commands', async () => {
    await hello3(A)
    await sequence([
      ['RPUSH', S0[0], 'a', 'b', 'c', 'd', 'e', 'f'],
      ['BLPOP', S0[1], S0[0], '0'], ['BRPOP', S1[0], S0[0], '0'], ['BRPOPLPUSH', S0[0], S1[0], '0'],
      ['BLMOVE', S0[0], S0[1], 'LEFT', 'RIGHT', '0'], ['BLMPOP', '0', '2', S2, S0[0], 'RIGHT', 'COUNT', '5'],
      ['BLMPOP', '0', '2', S1[0], S0[1], 'LEFT'], ['LRANGE', S1[0], '0', '-1'], ['SET', S2, 'str'], ['BLPOP', S2, '0'],
    ])
  })
})

describe('timeouts', () => {
  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    it(`each command times out with a null array (*-1) in RESP2 (${label})`, async () => {
      for (const cmd of fiveCommands(k1, k2, '0.1')) expect(await same(...cmd)).toBe(NULL_ARRAY)
      // The connection is usable afterwards, nothing was created, and nobody is blocked.
      expect(await same('PING')).toBe('+PONG\r\n')
      expect(await same('EXISTS', k1, k2)).toBe(':0\r\n')
      expect(await blockedClients()).toBe(0)
    })

    it(`each command times out with a RESP3 null (_) after HELLO 3 (${label})`, async () => {
      await hello3(A)
      for (const cmd of fiveCommands(k1, k2, '0.1')) expect(await same(...cmd)).toBe(NULL3)
      expect(await same('PING')).toBe('+PONG\r\n')
    })
  }

  it('other spellings of a short timeout: .1, 1e-1, 0.05, +0.1, 100e-3', async () => {
    for (const t of ['.1', '1e-1', '0.05', '+0.1', '100e-3']) {
      expect(await same('BLPOP', S0[0], t)).toBe(NULL_ARRAY)
      expect(await same('BLMPOP', t, '2', S0[0], S2, 'RIGHT')).toBe(NULL_ARRAY)
    }
  })

  it('keys on four shards time out too; a key that exists elsewhere is not touched', async () => {
    await sequence([['SET', 'other', 'v'], ['BLPOP', S0[0], S1[0], S2, S3, '0.1'], ['BLMPOP', '0.1', '4', S3, S2, S1[0], S0[0], 'LEFT'], ['DBSIZE']])
  })

  it('the timeout is parsed before the keys are looked at: 0 with data pops, a bad timeout with data is an error', async () => {
    await sequence([
      ['RPUSH', S0[0], 'a', 'b', 'c'], ['BLPOP', S0[0], '-0'], ['BLPOP', S0[0], '0.0'], ['BLPOP', S0[0], 'x'],
      ['BRPOPLPUSH', S0[0], S1[0], '-1'], ['BLMPOP', 'nope', '1', S0[0], 'LEFT'], ['LRANGE', S0[0], '0', '-1'],
    ])
  })

  it('hexadecimal timeouts, which Redis reads with strtold, pop when the list has data', async () => {
    await sequence([['RPUSH', S0[0], 'a', 'b'], ['BLPOP', S0[0], '0x1'], ['BRPOP', S0[0], '0X0.8']])
  })

  it('a timeout above -1 ms rounds up to 0 (forever), not an error: pops when the list has data', async () => {
    // Redis: ms = ceill(seconds * 1000), then negative is an error; -0.0005 s gives 0.
    expect(await same('RPUSH', S0[0], 'a', 'b')).toBe(':2\r\n')
    expect(await same('BLPOP', S0[0], '-0.0005')).toBe(popped(S0[0], 'a'))
    expect(await same('BLMPOP', '-0.0009', '1', S0[0], 'LEFT')).toBe(mpopped(S0[0], 'b'))
  })
})

describe('argument errors', () => {
  const badTimeouts: Array<[string, string]> = [
    ['x', NOT_FLOAT], ['', NOT_FLOAT], [' 1', NOT_FLOAT], ['1x', NOT_FLOAT], ['nan', NOT_FLOAT], ['1.5.2', NOT_FLOAT],
    ['-1', NEGATIVE], ['-0.5', NEGATIVE], ['inf', NEGATIVE], ['+inf', NEGATIVE], ['-inf', NEGATIVE], ['1e20', NEGATIVE],
  ]

  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    it(`bad timeouts of the five commands (${label})`, async () => {
      for (const [t, err] of badTimeouts) {
        for (const cmd of fiveCommands(k1, k2, t)) expect(await same(...cmd), `${show(cmd)}`).toBe(err)
      }
      expect(await same('DBSIZE')).toBe(':0\r\n')
    })
  }

  it('BLMOVE: a bad LEFT / RIGHT is a syntax error even before a bad timeout', async () => {
    const r = await steps([
      [A, 'BLMOVE', 'a', 'b', 'UP', 'LEFT', 'x'], [A, 'BLMOVE', 'a', 'b', 'LEFT', 'DOWN', '-1'],
      [A, 'BLMOVE', S0[0], S1[0], 'MIDDLE', 'RIGHT', '0'], [A, 'BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', 'x'],
      [A, 'BLMOVE', 'a', 'b', 'RIGHT', 'LEFT', '-1'], [A, 'BLMOVE', 'a', 'b', 'LEFTX', 'LEFT', '0'],
    ])
    expect(r.slice(0, 3)).toEqual([SYNTAX, SYNTAX, SYNTAX])
    expect(r[3]).toBe(NOT_FLOAT)
    expect(r[4]).toBe(NEGATIVE)
  })

  it('BLMPOP: numkeys, where, COUNT and timeout errors in Redis\'s order', async () => {
    const r = await steps([
      [A, 'BLMPOP', '0', '0', 'k', 'LEFT'], [A, 'BLMPOP', '0', '-1', 'k', 'LEFT'], [A, 'BLMPOP', '0', 'x', 'k', 'LEFT'],
      [A, 'BLMPOP', 'x', '0', 'k', 'LEFT'], [A, 'BLMPOP', '0', '2', 'k', 'LEFT'], [A, 'BLMPOP', '0', '1', 'k', 'UP'],
      [A, 'BLMPOP', 'x', '1', 'k', 'UP'], [A, 'BLMPOP', '0', '1', 'k', 'LEFT', 'COUNT', '0'],
      [A, 'BLMPOP', '0', '1', 'k', 'LEFT', 'COUNT', '-1'], [A, 'BLMPOP', '0', '1', 'k', 'LEFT', 'COUNT', 'x'],
      [A, 'BLMPOP', '0', '1', 'k', 'LEFT', 'COUNT', '1', 'COUNT', '2'], [A, 'BLMPOP', '0', '1', 'k', 'LEFT', 'FOO'],
      [A, 'BLMPOP', '0', '1', 'k', 'LEFT', 'COUNT'], [A, 'BLMPOP', 'x', '1', 'k', 'LEFT', 'COUNT', '0'],
      [A, 'BLMPOP', 'x', '1', 'k', 'LEFT'], [A, 'BLMPOP', '-1', '1', 'k', 'LEFT'], [A, 'BLMPOP', 'inf', '1', 'k', 'LEFT'],
      [A, 'BLMPOP', '0', '99999999999999999999', 'k', 'LEFT'], [A, 'BLMPOP', '0', '1', 'k', 'LEFT', 'COUNT', '99999999999999999999'],
      [A, 'BLMPOP', '0', '2', S0[0], S1[0], 'RIGHT', 'COUNT', '0'],
    ])
    expect(r[0]).toBe('-ERR numkeys should be greater than 0\r\n')
    expect(r[4]).toBe(SYNTAX)
    expect(r[5]).toBe(SYNTAX)
    expect(r[7]).toBe('-ERR count should be greater than 0\r\n')
    expect(r[14]).toBe(NOT_FLOAT)
    expect(r[15]).toBe(NEGATIVE)
  })

  it('arity errors of the five commands', async () => {
    const r = await steps([
      [A, 'BLPOP'], [A, 'BLPOP', 'k'], [A, 'BRPOP', 'k'], [A, 'BRPOPLPUSH', 'a', 'b'], [A, 'BRPOPLPUSH', 'a', 'b', '0', 'x'],
      [A, 'BLMOVE', 'a', 'b', 'LEFT', 'LEFT'], [A, 'BLMOVE', 'a', 'b', 'LEFT', 'LEFT', '0', 'x'],
      [A, 'BLMPOP', '0', '1', 'k'], [A, 'BLMPOP', '0', '0', 'LEFT'], [A, 'BLMPOP', '0'], [A, 'blpop', 'k'],
    ])
    expect(r[1]).toBe("-ERR wrong number of arguments for 'blpop' command\r\n")
    expect(r[3]).toBe("-ERR wrong number of arguments for 'brpoplpush' command\r\n")
    expect(r[5]).toBe("-ERR wrong number of arguments for 'blmove' command\r\n")
    expect(r[7]).toBe("-ERR wrong number of arguments for 'blmpop' command\r\n")
  })
})

describe('a blocked client served by a push from another client', () => {
  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    it(`BLPOP on two keys, served by an RPUSH to the second (${label})`, async () => {
      const B = await client()
      await block(B, 'BLPOP', k1, k2, '0')
      expect(await blockedClients()).toBe(1)
      expect(await on(A, 'RPUSH', k2, 'x', 'y')).toBe(':2\r\n')
      expect(await reply(B)).toBe(popped(k2, 'x'))
      expect(await on(A, 'LRANGE', k2, '0', '-1')).toBe(arr(bulk('y')))
      expect(await blockedClients()).toBe(0)
      expect(await on(B, 'PING')).toBe('+PONG\r\n')
    })

    it(`BRPOP on two keys, served by an LPUSH to the first (${label})`, async () => {
      const B = await client()
      await block(B, 'BRPOP', k1, k2, '0')
      expect(await on(A, 'LPUSH', k1, 'x', 'y', 'z')).toBe(':3\r\n')
      expect(await reply(B)).toBe(popped(k1, 'x'))
      expect(await on(A, 'LRANGE', k1, '0', '-1')).toBe(arr(bulk('z'), bulk('y')))
    })

    it(`BRPOPLPUSH from one key to another, served by an RPUSH to the source (${label})`, async () => {
      const B = await client()
      await on(A, 'RPUSH', k2, 'old')
      await block(B, 'BRPOPLPUSH', k1, k2, '0')
      expect(await on(A, 'RPUSH', k1, 'a', 'b')).toBe(':2\r\n')
      expect(await reply(B)).toBe(bulk('b'))
      expect(await on(A, 'LRANGE', k1, '0', '-1')).toBe(arr(bulk('a')))
      expect(await on(A, 'LRANGE', k2, '0', '-1')).toBe(arr(bulk('b'), bulk('old')))
    })

    for (const [from, to] of [['LEFT', 'RIGHT'], ['RIGHT', 'LEFT']]) {
      it(`BLMOVE ${from} ${to}, source and destination on ${label}, served by an RPUSH to the source`, async () => {
        const B = await client()
        await on(A, 'RPUSH', k2, 'old')
        await block(B, 'BLMOVE', k1, k2, from, to, '0')
        expect(await on(A, 'RPUSH', k1, 'a', 'b', 'c')).toBe(':3\r\n')
        expect(await reply(B)).toBe(bulk(from === 'LEFT' ? 'a' : 'c'))
        await steps([[A, 'LRANGE', k1, '0', '-1'], [A, 'LRANGE', k2, '0', '-1']])
        expect(await blockedClients()).toBe(0)
      })
    }

    it(`BLMPOP on two keys with COUNT, served by an RPUSH to the second (${label})`, async () => {
      const [B, C] = await clients('B', 'C')
      await block(B, 'BLMPOP', '0', '2', k1, k2, 'RIGHT', 'COUNT', '2')
      await block(C, 'BLMPOP', '0', '2', k2, k1, 'LEFT', 'COUNT', '10')
      expect(await blockedClients()).toBe(2)
      expect(await on(A, 'RPUSH', k2, 'a', 'b', 'c')).toBe(':3\r\n')
      expect(await reply(B)).toBe(mpopped(k2, 'c', 'b'))
      expect(await reply(C)).toBe(mpopped(k2, 'a'))
      expect(await on(A, 'EXISTS', k1, k2)).toBe(':0\r\n')
    })

    it(`a BLMOVE that is served makes its destination serve a client blocked on it (${label})`, async () => {
      const [B, C] = await clients('B', 'C')
      await block(B, 'BLMOVE', k1, k2, 'RIGHT', 'LEFT', '0')
      await block(C, 'BLPOP', k2, '0')
      expect(await on(A, 'RPUSH', k1, 'x')).toBe(':1\r\n')
      expect(await reply(B)).toBe(bulk('x'))
      expect(await reply(C)).toBe(popped(k2, 'x'))
      expect(await on(A, 'EXISTS', k1, k2)).toBe(':0\r\n')
      expect(await blockedClients()).toBe(0)
    })

    it(`a BLMOVE served into a non-list destination: WRONGTYPE to the blocked client, the element stays (${label})`, async () => {
      const B = await client()
      await on(A, 'SET', k2, 'str')
      await block(B, 'BLMOVE', k1, k2, 'LEFT', 'LEFT', '0')
      expect(await on(A, 'RPUSH', k1, 'a')).toBe(':1\r\n')
      expect(await reply(B)).toBe(WRONGTYPE)
      expect(await on(A, 'LRANGE', k1, '0', '-1')).toBe(arr(bulk('a')))
      expect(await blockedClients()).toBe(0)
    })

    // Known deviation (README, Limits): a move whose destination is on another shard is retried
    // by its thread; the elements it pushes there may serve a client behind it before Redis would.
    ;(label === 'two shards' ? it.skip : it)(`RESP3: each command served by a push (${label})`, async () => {
      const [B, C, D, E, F] = await clients('B', 'C', 'D', 'E', 'F')
      for (const s of [B, C, D, E, F]) await hello3(s)
      const cmds = fiveCommands(k1, k2, '0')
      for (const [i, s] of [B, C, D, E, F].entries()) await block(s, ...cmds[i])
      // Seven elements on k1 serve every client, each in its turn (BRPOPLPUSH and BLMOVE push to k2).
      await steps([[A, 'RPUSH', k1, 'a', 'b', 'c', 'd', 'e', 'f', 'g']])
      const r = [await reply(B), await reply(C), await reply(D), await reply(E), await reply(F)]
      expect(r[0]).toBe(popped(k1, 'a'))
      await steps([[A, 'LRANGE', k1, '0', '-1'], [A, 'LRANGE', k2, '0', '-1']])
    })
  }

  // Known deviation, as above: pushes to two shards in one write race to serve.
  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    const test = label === 'two shards' ? it.skip : it
    test(`two pushes in one write from another client: the first push serves, the second key keeps its element (${label})`, async () => {
      const B = await client()
      await block(B, 'BLPOP', k1, k2, '0')
      // Redis serves blocked clients after each command, so the RPUSH to k2 serves B before k1 exists.
      const bytes = Buffer.concat([encodeCommand(['RPUSH', k2, 'y']), encodeCommand(['RPUSH', k1, 'x'])])
      A.f.send(bytes)
      A.r.send(bytes)
      const [a, b] = await Promise.all([A.f.readReplies(2), A.r.readReplies(2)])
      expect(a.map(text)).toEqual(b.map(text))
      expect(await reply(B)).toBe(popped(k2, 'y'))
      expect(await on(A, 'LRANGE', k1, '0', '-1')).toBe(arr(bulk('x')))
      expect(await on(A, 'EXISTS', k2)).toBe(':0\r\n')
    })
  }

  it('keys on four shards: BLPOP served by a push to the shard-3 key', async () => {
    const B = await client()
    await block(B, 'BLPOP', S0[0], S1[0], S2, S3, '0')
    expect(await on(A, 'RPUSH', S3, 'x')).toBe(':1\r\n')
    expect(await reply(B)).toBe(popped(S3, 'x'))
  })

  it('the push of a client in another database does not serve; one in the same database does', async () => {
    const B = await client()
    await on(B, 'SELECT', '1')
    await block(B, 'BLPOP', S0[0], '0')
    await steps([[A, 'RPUSH', S0[0], 'db0'], BLOCK_MS])
    expect(await blockedClients()).toBe(1)
    await steps([[A, 'SELECT', '1'], [A, 'RPUSH', S0[0], 'db1']])
    expect(await reply(B)).toBe(popped(S0[0], 'db1'))
    await steps([[A, 'SELECT', '0'], [A, 'LRANGE', S0[0], '0', '-1']])
  })

  it('a blocked connection\'s later writes are read only after it is answered', async () => {
    const B = await client()
    await block(B, 'BLPOP', S0[0], '0')
    send(B, 'PING')
    send(B, 'RPUSH', S0[1], 'after')
    await sleep(BLOCK_MS)
    // The RPUSH sent after the BLPOP has not run.
    expect(await on(A, 'EXISTS', S0[1])).toBe(':0\r\n')
    expect(await on(A, 'RPUSH', S0[0], 'x')).toBe(':1\r\n')
    expect(await reply(B)).toBe(popped(S0[0], 'x'))
    expect(await reply(B, 'PING')).toBe('+PONG\r\n')
    expect(await reply(B, 'RPUSH')).toBe(':1\r\n')
  })
})

describe('FIFO order of clients blocked on one key', () => {
  for (const [label, other] of [['one shard', S0[1]], ['two shards', S1[0]]] as const) {
    it(`three clients blocked on one key, one RPUSH of three elements (${label})`, async () => {
      const [B, C, D] = await clients('B', 'C', 'D')
      // Each client also waits on `other` (same shard or another shard), which stays empty.
      for (const s of [B, C, D]) await block(s, 'BLPOP', other, S0[0], '0')
      expect(await blockedClients()).toBe(3)
      expect(await on(A, 'RPUSH', S0[0], 'a', 'b', 'c')).toBe(':3\r\n')
      expect(await reply(B)).toBe(popped(S0[0], 'a'))
      expect(await reply(C)).toBe(popped(S0[0], 'b'))
      expect(await reply(D)).toBe(popped(S0[0], 'c'))
      expect(await on(A, 'EXISTS', S0[0])).toBe(':0\r\n')
    })

    it(`one element for two blocked clients: the first gets it, the second waits for the next push (${label})`, async () => {
      const [B, C] = await clients('B', 'C')
      await block(B, 'BLPOP', S0[0], other, '0')
      await block(C, 'BLPOP', S0[0], other, '0')
      expect(await on(A, 'RPUSH', S0[0], 'first')).toBe(':1\r\n')
      expect(await reply(B)).toBe(popped(S0[0], 'first'))
      await sleep(BLOCK_MS)
      expect(await blockedClients()).toBe(1)
      expect(await on(A, 'LLEN', S0[0])).toBe(':0\r\n')
      expect(await on(A, 'LPUSH', S0[0], 'second')).toBe(':1\r\n')
      expect(await reply(C)).toBe(popped(S0[0], 'second'))
      expect(await blockedClients()).toBe(0)
    })
  }

  it('one-shard and cross-shard waiters on one key are served in arrival order', async () => {
    const [B, C, D] = await clients('B', 'C', 'D')
    await block(B, 'BLPOP', S0[0], '0')
    await block(C, 'BLPOP', S1[0], S0[0], '0') // keys on two shards
    await block(D, 'BLPOP', S0[0], S0[1], '0')
    expect(await blockedClients()).toBe(3)
    expect(await on(A, 'RPUSH', S0[0], 'a', 'b', 'c')).toBe(':3\r\n')
    expect(await reply(B)).toBe(popped(S0[0], 'a'))
    expect(await reply(C)).toBe(popped(S0[0], 'b'))
    expect(await reply(D)).toBe(popped(S0[0], 'c'))
  })

  it('queues stay whole after a client waited on over a thousand keys of one shard and timed out', async () => {
    // FlashKV keeps a key's emptied queue and drops them in bulk past 1,024 (shard-worker.ts):
    // the timeout below empties 1,100 at once, while C still waits on one of those keys.
    const many = keysOnShard(0, SHARDS, 1100, 'blw:')
    const [B, C, D] = await clients('B', 'C', 'D')
    await block(C, 'BLPOP', many[1], '0')
    expect(await same('BLPOP', ...many, '0.1')).toBe(NULL_ARRAY)
    expect(await blockedClients()).toBe(1)
    await block(B, 'BLPOP', many[0], '0')
    await block(D, 'BLPOP', many[0], '0')
    expect(await on(A, 'RPUSH', many[1], 'c')).toBe(':1\r\n')
    expect(await reply(C)).toBe(popped(many[1], 'c'))
    expect(await on(A, 'RPUSH', many[0], 'a', 'b')).toBe(':2\r\n')
    expect(await reply(B)).toBe(popped(many[0], 'a'))
    expect(await reply(D)).toBe(popped(many[0], 'b'))
    expect(await blockedClients()).toBe(0)
  })

  it('different commands blocked on one key are served in arrival order, each its own way', async () => {
    const [B, C, D, E] = await clients('B', 'C', 'D', 'E')
    await block(B, 'BRPOP', S0[0], '0')
    await block(C, 'BLMPOP', '0', '1', S0[0], 'LEFT', 'COUNT', '2')
    await block(D, 'BLMOVE', S0[0], S0[1], 'LEFT', 'LEFT', '0')
    await block(E, 'BLPOP', S0[0], '0')
    expect(await on(A, 'RPUSH', S0[0], 'a', 'b', 'c', 'd', 'e', 'f')).toBe(':6\r\n')
    expect(await reply(B)).toBe(popped(S0[0], 'f'))
    expect(await reply(C)).toBe(mpopped(S0[0], 'a', 'b'))
    expect(await reply(D)).toBe(bulk('c'))
    expect(await reply(E)).toBe(popped(S0[0], 'd'))
    await steps([[A, 'LRANGE', S0[0], '0', '-1'], [A, 'LRANGE', S0[1], '0', '-1']])
  })
})

describe('which writes that create the key serve a blocked client', () => {
  // Each writer creates the list `tgt` from `src`; the client blocked on BLPOP tgt is served by it
  // or not (whatever Redis does), then a final RPUSH tgt late serves it if it is still blocked.
  const writers: Array<[string, (src: string, tgt: string) => Arg[][]]> = [
    ['LMOVE', (src, tgt) => [['LMOVE', src, tgt, 'LEFT', 'RIGHT']]],
    ['RPOPLPUSH', (src, tgt) => [['RPOPLPUSH', src, tgt]]],
    ['RENAME', (src, tgt) => [['RENAME', src, tgt]]],
    ['RENAMENX', (src, tgt) => [['RENAMENX', src, tgt]]],
    ['COPY', (src, tgt) => [['COPY', src, tgt]]],
    ['MOVE from db 1', (_src, tgt) => [['SELECT', '1'], ['RPUSH', tgt, 'm1', 'm2'], ['MOVE', tgt, '0'], ['SELECT', '0']]],
    ['SWAPDB', (_src, tgt) => [['SELECT', '1'], ['RPUSH', tgt, 'w1', 'w2'], ['SELECT', '0'], ['SWAPDB', '0', '1']]],
  ]
  for (const [name, writer] of writers) {
    for (const [label, src] of [['source on the same shard', S0[1]], ['source on another shard', S1[0]]] as const) {
      it(`${name} (${label})`, async () => {
        const B = await client()
        const tgt = S0[0]
        await on(A, 'RPUSH', src, 's1', 's2')
        await block(B, 'BLPOP', tgt, '0')
        await steps(writer(src, tgt).map(c => [A, ...c] as Step))
        await sleep(BLOCK_MS)
        const stillBlocked = await blockedClients()
        if (stillBlocked === 1) await on(A, 'RPUSH', tgt, 'late')
        const r = await reply(B)
        expect(r.startsWith(`*2\r\n${bulk(tgt)}`)).toBe(true)
        await steps([[A, 'LRANGE', tgt, '0', '-1'], [A, 'LRANGE', src, '0', '-1'], [A, 'DBSIZE']])
      })
    }
  }

  it('a SET of a string on the key does not serve it; the client stays blocked', async () => {
    const B = await client()
    await block(B, 'BLPOP', S0[0], '0')
    expect(await on(A, 'SET', S0[0], 'str')).toBe(OK)
    await sleep(BLOCK_MS)
    expect(await blockedClients()).toBe(1)
    await steps([[A, 'DEL', S0[0]], [A, 'RPUSH', S0[0], 'late']])
    expect(await reply(B)).toBe(popped(S0[0], 'late'))
  })
})

describe('MULTI / EXEC', () => {
  it('pushes inside MULTI serve blocked clients after EXEC, from the list as EXEC left it', async () => {
    const [B, C] = await clients('B', 'C')
    await block(B, 'BLPOP', S0[0], '0')
    await block(C, 'BLPOP', S0[0], '0')
    const r = await steps([
      [A, 'MULTI'], [A, 'RPUSH', S0[0], 'a', 'b'], [A, 'RPUSH', S0[0], 'c'], [A, 'LPOP', S0[0]], [A, 'EXEC'],
    ])
    expect(r[4]).toBe(`*3\r\n:2\r\n:3\r\n${bulk('a')}`)
    expect(await reply(B)).toBe(popped(S0[0], 'b'))
    expect(await reply(C)).toBe(popped(S0[0], 'c'))
    expect(await on(A, 'EXISTS', S0[0])).toBe(':0\r\n')
  })

  // Known deviation (README, Limits): when a client waits on keys of two shards and both get
  // their push at the same moment (one EXEC, or one write), the shard that runs first serves
  // it, whichever push was first in the transaction or the write. The one-shard case must match.
  for (const [label, first, second] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    const test = label === 'two shards' ? it.skip : it
    test(`a client blocked on two keys both created in one EXEC is served from the key written first (${label})`, async () => {
      const B = await client()
      // B lists `second` first; the transaction creates `first` before `second`.
      await block(B, 'BLPOP', second, first, '0')
      await steps([[A, 'MULTI'], [A, 'RPUSH', first, 'x'], [A, 'RPUSH', second, 'y'], [A, 'EXEC']])
      expect(await reply(B)).toBe(popped(first, 'x'))
      await steps([[A, 'LRANGE', first, '0', '-1'], [A, 'LRANGE', second, '0', '-1']])
    })

    it(`a key pushed then deleted inside one EXEC does not serve (${label})`, async () => {
      const B = await client()
      await block(B, 'BLMPOP', '0', '2', first, second, 'LEFT')
      await steps([[A, 'MULTI'], [A, 'RPUSH', first, 'x'], [A, 'DEL', first], [A, 'RPUSH', second, 'y'], [A, 'LPOP', second], [A, 'EXEC'], BLOCK_MS])
      expect(await blockedClients()).toBe(1)
      expect(await on(A, 'RPUSH', second, 'late')).toBe(':1\r\n')
      expect(await reply(B)).toBe(mpopped(second, 'late'))
    })

    it(`blocking commands inside MULTI on empty keys return null at once (${label})`, async () => {
      const r = await steps([
        [A, 'MULTI'], ...fiveCommands(first, second, '0').map(c => [A, ...c] as Step), [A, 'EXEC'],
      ])
      expect(r[6]).toBe(`*5\r\n${NULL_ARRAY}${NULL_ARRAY}${NULL_BULK}${NULL_BULK}${NULL_ARRAY}`)
    })

    it(`blocking commands inside MULTI pop data pushed earlier in the transaction (${label})`, async () => {
      await sequence([
        ['MULTI'], ['RPUSH', first, 'a', 'b', 'c', 'd', 'e', 'f'], ...fiveCommands(first, second, '0'),
        ['BLPOP', 'nothing', '0'], ['EXEC'], ['LRANGE', first, '0', '-1'], ['LRANGE', second, '0', '-1'],
      ])
    })

    it(`RESP3: blocking commands inside MULTI on empty keys return _ (${label})`, async () => {
      await hello3(A)
      const r = await steps([[A, 'MULTI'], ...fiveCommands(first, second, '0').map(c => [A, ...c] as Step), [A, 'EXEC']])
      expect(r[6]).toBe(`*5\r\n${NULL3.repeat(5)}`)
    })
  }

  it('argument errors of blocking commands inside MULTI: timeouts at EXEC, arity at queuing', async () => {
    await sequence([
      ['MULTI'], ['BLPOP', 'k', 'x'], ['BLMOVE', 'a', 'b', 'UP', 'LEFT', '0'], ['BLMPOP', '0', '0', 'k', 'LEFT'],
      ['BRPOPLPUSH', 'a', 'b', '-1'], ['EXEC'],
      ['MULTI'], ['BLPOP', 'k'], ['EXEC'],
    ])
  })
})

describe('CLIENT UNBLOCK', () => {
  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    for (const reason of [[], ['TIMEOUT'], ['ERROR']]) {
      it(`CLIENT UNBLOCK id${reason.map(x => ' ' + x).join('')} of a client blocked in BLPOP (${label})`, async () => {
        const B = await client()
        const idB = await clientId(B)
        await block(B, 'BLPOP', k1, k2, '0')
        expect(await blockedClients()).toBe(1)
        expect(await unblock(A, idB, ...reason)).toBe(':1\r\n')
        expect(await reply(B)).toBe(reason[0] === 'ERROR' ? UNBLOCKED : NULL_ARRAY)
        expect(await unblock(A, idB, ...reason)).toBe(':0\r\n')
        expect(await blockedClients()).toBe(0)
        // B does not wait any more: a later push stays in the list, and B's next reply is its own.
        expect(await on(A, 'RPUSH', k2, 'x')).toBe(':1\r\n')
        await sleep(BLOCK_MS)
        expect(await on(B, 'PING')).toBe('+PONG\r\n')
        expect(await on(A, 'LRANGE', k2, '0', '-1')).toBe(arr(bulk('x')))
      })
    }

    it(`CLIENT UNBLOCK of BRPOPLPUSH, BLMOVE and BLMPOP: TIMEOUT and ERROR (${label})`, async () => {
      const [B, C, D] = await clients('B', 'C', 'D')
      const [idB, idC, idD] = [await clientId(B), await clientId(C), await clientId(D)]
      await block(B, 'BRPOPLPUSH', k1, k2, '0')
      await block(C, 'BLMOVE', k1, k2, 'LEFT', 'RIGHT', '0')
      await block(D, 'BLMPOP', '0', '2', k1, k2, 'LEFT', 'COUNT', '3')
      expect(await blockedClients()).toBe(3)
      expect(await unblock(A, idB, 'TIMEOUT')).toBe(':1\r\n')
      expect(await reply(B)).toBe(NULL_ARRAY)
      expect(await unblock(A, idC, 'ERROR')).toBe(':1\r\n')
      expect(await reply(C)).toBe(UNBLOCKED)
      expect(await unblock(A, idD, 'timeout')).toBe(':1\r\n')
      expect(await reply(D)).toBe(NULL_ARRAY)
      expect(await blockedClients()).toBe(0)
      expect(await on(A, 'RPUSH', k1, 'a')).toBe(':1\r\n')
      await sleep(BLOCK_MS)
      await steps([[A, 'LRANGE', k1, '0', '-1'], [A, 'EXISTS', k2], [B, 'PING'], [C, 'PING'], [D, 'PING']])
    })

    it(`RESP3: CLIENT UNBLOCK TIMEOUT answers the blocked client _ (${label})`, async () => {
      const B = await client()
      await hello3(B)
      const idB = await clientId(B)
      await block(B, 'BLMOVE', k1, k2, 'RIGHT', 'RIGHT', '0')
      expect(await unblock(A, idB)).toBe(':1\r\n')
      expect(await reply(B)).toBe(NULL3)
    })
  }

  it('CLIENT UNBLOCK unblocks only the client named, the other blocked client is still served', async () => {
    const [B, C] = await clients('B', 'C')
    const idB = await clientId(B)
    await block(B, 'BLPOP', S0[0], '0')
    await block(C, 'BLPOP', S0[0], '0')
    expect(await unblock(A, idB)).toBe(':1\r\n')
    expect(await reply(B)).toBe(NULL_ARRAY)
    expect(await on(A, 'RPUSH', S0[0], 'x')).toBe(':1\r\n')
    expect(await reply(C)).toBe(popped(S0[0], 'x'))
  })

  it('CLIENT UNBLOCK of a client that is not blocked, of an unknown id, of itself: :0', async () => {
    const B = await client()
    const [idA, idB] = [await clientId(A), await clientId(B)]
    expect(await unblock(A, idB)).toBe(':0\r\n')
    expect(await unblock(A, idB, 'ERROR')).toBe(':0\r\n')
    expect(await unblock(A, idA)).toBe(':0\r\n')
    expect(await same('CLIENT', 'UNBLOCK', '999999999')).toBe(':0\r\n')
    expect(await on(B, 'PING')).toBe('+PONG\r\n')
  })

  it('CLIENT UNBLOCK argument errors', async () => {
    await sequence([
      ['CLIENT', 'UNBLOCK'], ['CLIENT', 'UNBLOCK', 'x'], ['CLIENT', 'UNBLOCK', '1', 'FOO'], ['CLIENT', 'UNBLOCK', 'x', 'FOO'],
      ['CLIENT', 'UNBLOCK', '1', 'TIMEOUT', 'x'], ['CLIENT', 'UNBLOCK', '-1'], ['client', 'unblock', '1', 'error'],
    ])
  })
})

describe('disconnects and blocked_clients', () => {
  const cases: Array<[string, (k1: string, k2: string) => Arg[]]> = [
    ['BLPOP', (k1, k2) => ['BLPOP', k1, k2, '0']],
    ['BLMOVE', (k1, k2) => ['BLMOVE', k2, k1, 'LEFT', 'LEFT', '0']],
    ['BLMPOP', (k1, k2) => ['BLMPOP', '0', '2', k1, k2, 'RIGHT']],
  ]
  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    for (const [name, cmd] of cases) {
      it(`a client blocked in ${name} that disconnects leaves nothing behind (${label})`, async () => {
        const B = await client()
        await block(B, ...cmd(k1, k2))
        expect(await blockedClients()).toBe(1)
        B.f.close()
        B.r.close()
        await sleep(BLOCK_MS)
        expect(await blockedClients()).toBe(0)
        expect(await on(A, 'RPUSH', k2, 'x')).toBe(':1\r\n')
        await sleep(BLOCK_MS)
        expect(await on(A, 'LRANGE', k2, '0', '-1')).toBe(arr(bulk('x')))
        expect(await on(A, 'EXISTS', k1)).toBe(':0\r\n')
      })
    }

    it(`a disconnected waiter is skipped: the next blocked client gets the element (${label})`, async () => {
      const [B, C] = await clients('B', 'C')
      await block(B, 'BLPOP', k1, k2, '0')
      await block(C, 'BLPOP', k2, k1, '0')
      B.f.close()
      B.r.close()
      await sleep(BLOCK_MS)
      expect(await blockedClients()).toBe(1)
      expect(await on(A, 'RPUSH', k2, 'x', 'y')).toBe(':2\r\n')
      expect(await reply(C)).toBe(popped(k2, 'x'))
      expect(await on(A, 'LRANGE', k2, '0', '-1')).toBe(arr(bulk('y')))
    })
  }

  it('blocked_clients and clients_in_timeout_table count the clients while they wait', async () => {
    const [B, C, D, E] = await clients('B', 'C', 'D', 'E')
    const idC = await clientId(C)
    expect(await blockedClients()).toBe(0)
    await block(B, 'BLPOP', S0[0], '0')
    expect(await blockedClients()).toBe(1)
    // C and D wait with timeouts (long ones: they end otherwise), across shards: blockedClients()
    // compares clients_in_timeout_table too.
    await block(C, 'BLPOP', S0[1], S1[0], '30')
    expect(await blockedClients()).toBe(2)
    await block(D, 'BLMOVE', S2, S3, 'LEFT', 'LEFT', '25')
    expect(await blockedClients()).toBe(3)
    await block(E, 'BRPOP', S3, '1')
    expect(await blockedClients()).toBe(4)
    expect(await reply(E)).toBe(NULL_ARRAY)
    expect(await blockedClients()).toBe(3)
    expect(await on(A, 'RPUSH', S0[0], 'x')).toBe(':1\r\n')
    expect(await reply(B)).toBe(popped(S0[0], 'x'))
    expect(await blockedClients()).toBe(2)
    expect(await unblock(A, idC)).toBe(':1\r\n')
    expect(await reply(C)).toBe(NULL_ARRAY)
    expect(await blockedClients()).toBe(1)
    D.f.close()
    D.r.close()
    await sleep(BLOCK_MS)
    expect(await blockedClients()).toBe(0)
  })
})

describe('pipelining', () => {
  for (const [label, k1, k2] of [['one shard', S0[0], S0[1]], ['two shards', S0[0], S1[0]]] as const) {
    it(`BLPOP k 0 and PING in one write: both answered, in order, after another client pushes (${label})`, async () => {
      const B = await client()
      const bytes = Buffer.concat([encodeCommand(['BLPOP', k1, k2, '0']), encodeCommand(['PING'])])
      B.f.send(bytes)
      B.r.send(bytes)
      await sleep(BLOCK_MS)
      await parked([1, 1])
      expect(await blockedClients()).toBe(1)
      expect(await on(A, 'RPUSH', k2, 'x')).toBe(':1\r\n')
      const [a, b] = await Promise.all([B.f.readReplies(2), B.r.readReplies(2)])
      expect(a.map(text)).toEqual(b.map(text))
      expect(b.map(text)).toEqual([popped(k2, 'x'), '+PONG\r\n'])
    })

    it(`BLPOP and an RPUSH that would serve it in one write: the RPUSH waits for the BLPOP (${label})`, async () => {
      const B = await client()
      const bytes = Buffer.concat([encodeCommand(['BLPOP', k1, k2, '0']), encodeCommand(['RPUSH', k1, 'own']), encodeCommand(['LRANGE', k1, '0', '-1'])])
      B.f.send(bytes)
      B.r.send(bytes)
      await sleep(BLOCK_MS)
      expect(await on(A, 'EXISTS', k1)).toBe(':0\r\n')
      expect(await on(A, 'RPUSH', k2, 'other')).toBe(':1\r\n')
      const [a, b] = await Promise.all([B.f.readReplies(3), B.r.readReplies(3)])
      expect(a.map(text)).toEqual(b.map(text))
      expect(b.map(text)).toEqual([popped(k2, 'other'), ':1\r\n', arr(bulk('own'))])
    })

    it(`pipelined pops with data, a timeout, and commands after them (${label})`, async () => {
      await pipeline([
        ['RPUSH', k1, 'a', 'b'], ['BLPOP', k1, k2, '0'], ['BRPOPLPUSH', k1, k2, '0'], ['BLPOP', k1, '0.1'],
        ['GET', 'nope'], ['BLMPOP', '0', '2', k1, k2, 'LEFT', 'COUNT', '5'], ['BRPOP', k2, '0.1'], ['PING'],
      ])
    })
  }
})
