// Differential tests for client-side caching (Redis 7.0's tracking.c): CLIENT TRACKING with its
// options, CLIENT CACHING, GETREDIR and TRACKINGINFO, every error text, and the invalidations
// themselves: RESP3 pushes, RESP2 `message`s on __redis__:invalidate through REDIRECT, BCAST
// with prefixes, OPTIN/OPTOUT, NOLOOP, the null of FLUSHALL/FLUSHDB, expiry. The same bytes go
// to a real redis-server 7.0.15 and to FlashKV (4 shards) on the same number of connections
// (helpers/sides.ts), one step at a time, and each client's frames (replies and pushes) must be
// identical. "Nothing else arrived" is proven with a fence: the client sends PING, and the PONG
// must be its next frame after the expected pushes. Client ids differ between the servers, so a
// REDIRECT names each server's own id.
import { describe, expect, it } from 'vitest'

import { useDiffPair, show, text, type Arg } from './helpers/diff.js'
import { encodeCommand } from './helpers/raw.js'
import { useSides, hello3, on, sleep, type Side } from './helpers/sides.js'

const pair = useDiffPair({ shards: 4 })
const { A, client } = useSides(pair)

/** Sends one command on `side` to both servers and reads n frames from each; they must agree. */
async function frames (side: Side, n: number, ...args: Arg[]): Promise<string[]> {
  const bytes = encodeCommand(args)
  side.f.send(bytes)
  side.r.send(bytes)
  const [a, b] = await Promise.all([side.f.readReplies(n), side.r.readReplies(n)])
  expect(a.map(text), `client ${side.name}: ${n} frame(s) after ${show(args)}`).toEqual(b.map(text))
  return b.map(text)
}

/** INFO keyspace's expires count of db0 (0 when the line is absent). */
async function expiresIn (server: { command: (...args: Arg[]) => Promise<Buffer> }): Promise<number> {
  return Number(/db0:keys=\d+,expires=(\d+)/.exec(text(await server.command('INFO', 'keyspace')))?.[1] ?? 0)
}

/** PING as a fence: the frames before PONG are the pushes that arrived; they must agree. */
async function fence (side: Side, pushes: number): Promise<string[]> {
  const got = await frames(side, pushes + 1, 'PING')
  expect(got[pushes]).toMatch(/^(\+PONG|\*2\r\n\$4\r\npong)/)
  return got.slice(0, pushes)
}

/** Each server's own id of a client. */
async function ids (side: Side): Promise<{ r: string, f: string }> {
  const [f, r] = await Promise.all([side.f.command('CLIENT', 'ID'), side.r.command('CLIENT', 'ID')])
  return { f: text(f).slice(1, -2), r: text(r).slice(1, -2) }
}

/** The same command on both servers with each server's own client id in place of `ID`. */
async function onWithId (side: Side, id: { r: string, f: string }, ...args: string[]): Promise<string> {
  const [a, b] = await Promise.all([
    side.f.command(...args.map(a => a === 'ID' ? id.f : a)), side.r.command(...args.map(a => a === 'ID' ? id.r : a)),
  ])
  expect(text(a), `client ${side.name}: reply to ${show(args)}`).toBe(text(b))
  return text(b)
}

/** CLIENT TRACKINGINFO on both, the redirect id (each server's own) left out. */
async function sameInfo (side: Side): Promise<string> {
  const [a, b] = await Promise.all([side.f.command('CLIENT', 'TRACKINGINFO'), side.r.command('CLIENT', 'TRACKINGINFO')])
  const norm = (s: string): string => s.replace(/redirect\r\n:\d+/, 'redirect\r\n:ID')
  expect(norm(text(a))).toBe(norm(text(b)))
  return text(b)
}

const push = (...keys: string[]): string => `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n${keys.map(k => `$${k.length}\r\n${k}\r\n`).join('')}`
const message = (...keys: string[]): string => `*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*${keys.length}\r\n${keys.map(k => `$${k.length}\r\n${k}\r\n`).join('')}`

async function resp3 (name: string): Promise<Side> {
  const side = await client(name)
  await hello3(side)
  return side
}

describe('CLIENT TRACKING: subcommands and errors', () => {
  it('answers every option and error as Redis does, in RESP2 and RESP3', async () => {
    for (const resp of [2, 3]) {
      const C = resp === 3 ? await resp3('C') : await client('C')
      const all: Arg[][] = [
        ['CLIENT', 'GETREDIR'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'CACHING', 'yes'],
        ['CLIENT', 'TRACKING'], ['CLIENT', 'CACHING'], ['CLIENT', 'GETREDIR', 'x'], ['CLIENT', 'TRACKINGINFO', 'x'],
        ['CLIENT', 'TRACKING', 'maybe'], ['CLIENT', 'TRACKING', 'on', 'foo'], ['CLIENT', 'TRACKING', 'on', 'prefix', 'x'],
        ['CLIENT', 'TRACKING', 'on', 'optin', 'optout'], ['CLIENT', 'TRACKING', 'on', 'bcast', 'optin'], ['CLIENT', 'TRACKING', 'on', 'bcast', 'optout'],
        ['CLIENT', 'TRACKING', 'on', 'redirect', '999999'], ['CLIENT', 'TRACKING', 'on', 'redirect', 'x'], ['CLIENT', 'TRACKING', 'on', 'redirect', '-1'],
        ['CLIENT', 'TRACKING', 'on', 'redirect'], ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix'],
        ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'x', 'prefix', 'xy'], ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'ab', 'prefix', 'a'],
        ['CLIENT', 'TRACKING', 'ON', 'OPTIN'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'GETREDIR'],
        ['CLIENT', 'CACHING', 'no'], ['CLIENT', 'CACHING', 'maybe'], ['CLIENT', 'CACHING', 'YES'], ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'TRACKING', 'on', 'optout'], ['CLIENT', 'TRACKING', 'on', 'bcast'], ['CLIENT', 'TRACKING', 'on', 'noloop', 'optin'], ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'TRACKING', 'off'], ['CLIENT', 'TRACKING', 'off'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'GETREDIR'],
        ['CLIENT', 'TRACKING', 'on', 'optout', 'noloop'], ['CLIENT', 'CACHING', 'yes'], ['CLIENT', 'CACHING', 'no'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'TRACKING', 'off'],
        ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'a', 'prefix', 'b'], ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'ab'], ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'b'], ['CLIENT', 'TRACKING', 'on'],
        ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'c'], ['CLIENT', 'TRACKING', 'on', 'bcast'], ['CLIENT', 'TRACKINGINFO'], ['CLIENT', 'TRACKING', 'off'],
        ['CLIENT', 'TRACKINGINFO'],
      ]
      for (const args of all) await on(C, ...args)
    }
    // The error texts, literally (a test cannot pass on two servers that agree on something else).
    expect(await on(A, 'CLIENT', 'TRACKING', 'on', 'optin', 'optout')).toBe("-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n")
    expect(await on(A, 'CLIENT', 'TRACKING', 'on', 'prefix', 'p')).toBe('-ERR PREFIX option requires BCAST mode to be enabled\r\n')
    expect(await on(A, 'CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'x', 'prefix', 'xy')).toBe("-ERR Prefix 'x' overlaps with another provided prefix 'xy'. Prefixes for a single client must not overlap.\r\n")
    expect(await on(A, 'CLIENT', 'TRACKING', 'on', 'redirect', '999999')).toBe('-ERR The client ID you want redirect to does not exist\r\n')
    expect(await on(A, 'CLIENT', 'CACHING', 'yes')).toBe('-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled\r\n')
  })

  it('REDIRECT names an existing client once; GETREDIR, TRACKINGINFO and CLIENT LIST show it', async () => {
    const B = await client('B')
    const b = await ids(B)
    await onWithId(A, b, 'CLIENT', 'TRACKING', 'on', 'REDIRECT', 'ID', 'REDIRECT', 'ID')
    await onWithId(A, b, 'CLIENT', 'TRACKING', 'on', 'REDIRECT', 'ID')
    const [rg, fg] = await Promise.all([A.r.command('CLIENT', 'GETREDIR'), A.f.command('CLIENT', 'GETREDIR')])
    expect(text(rg)).toBe(`:${b.r}\r\n`)
    expect(text(fg)).toBe(`:${b.f}\r\n`)
    const [ri, fi] = await Promise.all([A.r.command('CLIENT', 'INFO'), A.f.command('CLIENT', 'INFO')])
    const fields = (s: string, id: string): string => `${/ flags=(\S+)/.exec(s)?.[1]} ${/ redir=(\S+)/.exec(s)?.[1] === id ? 'ID' : 'other'}`
    expect(fields(text(fi), b.f)).toBe(fields(text(ri), b.r))
    expect(fields(text(ri), b.r)).toBe('t ID')
  })
})

describe('CLIENT TRACKING: invalidations', () => {
  it('RESP3: a key read is invalidated once, when another client modifies it', async () => {
    const C = await resp3('C')
    const B = await client('B')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    await on(B, 'SET', 'k1', 'v')
    await on(C, 'GET', 'k1')
    await on(C, 'GET', 'k2')
    await on(C, 'MGET', 'k3', 'k4', 'k5')
    await on(C, 'SELECT', '1')
    await on(C, 'HGETALL', 'h')
    await on(C, 'SELECT', '0')
    // Redis's table has key names only: writing h in database 0 invalidates a read in database 1.
    await on(B, 'HSET', 'h', 'f', 'v')
    expect(await fence(C, 1)).toEqual([push('h')])
    await on(B, 'SET', 'k1', 'w')
    expect(await fence(C, 1)).toEqual([push('k1')])
    await on(B, 'SET', 'k1', 'x')
    expect(await fence(C, 0)).toEqual([])
    // A write that changes nothing invalidates nothing.
    await on(B, 'SET', 'k2', 'v', 'XX')
    expect(await fence(C, 0)).toEqual([])
    await on(B, 'SET', 'k2', 'v')
    await on(B, 'DEL', 'k3')
    await on(B, 'LPUSH', 'k4', 'a')
    await on(B, 'DEL', 'k4')
    expect(await fence(C, 2)).toEqual([push('k2'), push('k4')])
    await on(B, 'SET', 'k5', 'v')
    expect(await fence(C, 1)).toEqual([push('k5')])
    // The client's own writes: the invalidation follows the reply.
    await on(C, 'GET', '{t}a')
    await frames(C, 2, 'SET', '{t}a', '1')
    await on(C, 'MGET', '{t}a', '{t}b')
    await frames(C, 3, 'MSET', '{t}a', '1', '{t}b', '2')
    // Pipelined: GET, SET, GET on one key.
    const bytes = Buffer.concat([encodeCommand(['GET', 'p']), encodeCommand(['SET', 'p', '1']), encodeCommand(['GET', 'p'])])
    C.f.send(bytes)
    C.r.send(bytes)
    const [a, b] = await Promise.all([C.f.readReplies(4), C.r.readReplies(4)])
    expect(a.map(text)).toEqual(b.map(text))
    expect(b.map(text)).toEqual(['_\r\n', '+OK\r\n', push('p'), '$1\r\n1\r\n'])
  })

  it('NOLOOP leaves out the client\'s own writes; OFF stops everything', async () => {
    const C = await resp3('C')
    const B = await client('B')
    await on(C, 'CLIENT', 'TRACKING', 'on', 'NOLOOP')
    await on(C, 'GET', 'n1')
    await on(C, 'GET', 'n2')
    await on(C, 'SET', 'n1', 'v')
    expect(await fence(C, 0)).toEqual([])
    await on(B, 'SET', 'n2', 'v')
    expect(await fence(C, 1)).toEqual([push('n2')])
    await on(C, 'GET', 'n2')
    await on(C, 'CLIENT', 'TRACKING', 'off')
    await on(B, 'SET', 'n2', 'w')
    expect(await fence(C, 0)).toEqual([])
  })

  it('OPTIN remembers after CLIENT CACHING yes only; OPTOUT all but after CACHING no', async () => {
    const C = await resp3('C')
    const B = await client('B')
    await on(C, 'CLIENT', 'TRACKING', 'on', 'OPTIN')
    await on(C, 'GET', 'o1')
    await on(C, 'CLIENT', 'CACHING', 'yes')
    await on(C, 'CLIENT', 'GETNAME')
    await on(C, 'GET', 'o2')
    await on(C, 'GET', 'o3')
    await on(C, 'CLIENT', 'CACHING', 'yes')
    await on(C, 'MULTI')
    await on(C, 'GET', 'o4')
    await on(C, 'GET', 'o5')
    await on(C, 'EXEC')
    await on(C, 'CLIENT', 'CACHING', 'yes')
    await on(C, 'PING')
    await on(C, 'GET', 'o6')
    for (const k of ['o1', 'o2', 'o3', 'o4', 'o5', 'o6']) await on(B, 'SET', k, 'v')
    expect(await fence(C, 3)).toEqual([push('o2'), push('o4'), push('o5')])
    await on(C, 'CLIENT', 'TRACKING', 'off')
    await on(C, 'CLIENT', 'TRACKING', 'on', 'OPTOUT')
    await on(C, 'GET', 'o1')
    await on(C, 'CLIENT', 'CACHING', 'no')
    await on(C, 'GET', 'o2')
    await on(C, 'GET', 'o3')
    for (const k of ['o1', 'o2', 'o3']) await on(B, 'SET', k, 'w')
    expect(await fence(C, 2)).toEqual([push('o1'), push('o3')])
  })

  it('RESP2 through REDIRECT: messages on __redis__:invalidate; a gone target breaks it', async () => {
    const S = await client('S')
    const T = await client('T')
    const W = await client('W')
    const s = await ids(S)
    await on(S, 'SUBSCRIBE', '__redis__:invalidate')
    await onWithId(T, s, 'CLIENT', 'TRACKING', 'on', 'REDIRECT', 'ID')
    await on(T, 'GET', 'r1')
    await on(T, 'GET', 'r2')
    await on(W, 'SET', 'r1', 'v')
    expect(await fence(S, 1)).toEqual([message('r1')])
    await on(W, 'FLUSHALL')
    expect(await fence(S, 1)).toEqual(['*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n'])
    await on(T, 'GET', 'r3')
    S.f.close()
    S.r.close()
    await sleep(100)
    await on(W, 'SET', 'r3', 'v')
    await sameInfo(T)
    const [ri, fi] = await Promise.all([T.r.command('CLIENT', 'INFO'), T.f.command('CLIENT', 'INFO')])
    expect(/ flags=(\S+)/.exec(text(fi))?.[1]).toBe(/ flags=(\S+)/.exec(text(ri))?.[1])
    expect(/ flags=(\S+)/.exec(text(ri))?.[1]).toBe('tR')
  })

  it('RESP3 REDIRECT target gets pushes; a RESP3 client whose target left hears tracking-redir-broken', async () => {
    const R = await resp3('R')
    const T = await resp3('T')
    const W = await client('W')
    const r = await ids(R)
    await onWithId(T, r, 'CLIENT', 'TRACKING', 'on', 'REDIRECT', 'ID')
    await on(T, 'GET', 'x1')
    await on(T, 'GET', 'x2')
    await on(W, 'SET', 'x1', 'v')
    expect(await fence(R, 1)).toEqual([push('x1')])
    expect(await fence(T, 0)).toEqual([])
    R.f.close()
    R.r.close()
    await sleep(100)
    await on(W, 'SET', 'x2', 'v')
    const [a, b] = await Promise.all([T.f.readReplies(1), T.r.readReplies(1)])
    expect(text(a[0]).replace(/:\d+/, ':ID')).toBe(text(b[0]).replace(/:\d+/, ':ID'))
    expect(text(b[0])).toBe(`>2\r\n$21\r\ntracking-redir-broken\r\n:${r.r}\r\n`)
    expect(await sameInfo(T)).toContain('broken_redirect')
  })

  it('BCAST: every modified key under a prefix, one message per prefix, keys sorted', async () => {
    const C = await resp3('C')
    const B = await client('B')
    await on(C, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', '{u}a', 'PREFIX', '{u}b')
    await on(B, 'MSET', '{u}b1', '1', '{u}a1', '2', '{u}c', '3', '{u}a0', '4')
    expect(await fence(C, 2)).toEqual([push('{u}a0', '{u}a1'), push('{u}b1')])
    await on(B, 'SET', '{u}c2', 'v')
    expect(await fence(C, 0)).toEqual([])
    // Its own writes too (no NOLOOP), after the reply; DEL and expiry count.
    await frames(C, 2, 'SET', '{u}a5', 'v')
    await on(B, 'DEL', '{u}b1')
    expect(await fence(C, 1)).toEqual([push('{u}b1')])
    await on(C, 'CLIENT', 'TRACKING', 'off')
    await on(C, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'NOLOOP')
    await on(C, 'SET', 'any', 'v')
    expect(await fence(C, 0)).toEqual([])
    await on(B, 'SET', 'any', 'w')
    expect(await fence(C, 1)).toEqual([push('any')])
    await on(B, 'INCR', 'counter')
    expect(await fence(C, 1)).toEqual([push('counter')])
  })

  it('FLUSHALL and FLUSHDB send a null invalidation to every tracking client, after the flusher\'s reply', async () => {
    const C = await resp3('C')
    const D = await resp3('D')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    await on(D, 'CLIENT', 'TRACKING', 'on', 'BCAST')
    await on(C, 'GET', 'f1')
    expect(await frames(C, 2, 'FLUSHALL')).toEqual(['+OK\r\n', '>2\r\n$10\r\ninvalidate\r\n_\r\n'])
    expect(await fence(D, 1)).toEqual(['>2\r\n$10\r\ninvalidate\r\n_\r\n'])
    await on(C, 'SELECT', '3')
    await frames(C, 2, 'FLUSHDB')
    expect(await fence(D, 1)).toEqual(['>2\r\n$10\r\ninvalidate\r\n_\r\n'])
    // The table was emptied: an earlier read is not invalidated again.
    await on(D, 'SET', 'f1', 'v')
    await fence(D, 1)
    expect(await fence(C, 0)).toEqual([])
  })

  it("a client's own write, pipelined with what follows: its invalidation comes right after the write's reply, before the next reply", async () => {
    const C = await resp3('C')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    await on(C, 'MGET', 'o1', 'o2', 'o3')
    // One write: SET (one shard), then PING (this thread's) and GET of another key, in one batch.
    const batch = (...cmds: Arg[][]): Buffer => Buffer.concat(cmds.map(encodeCommand))
    // The pushes of one write whose keys are on several shards come in the order the shards
    // answer (Redis: key order): those between the replies are compared sorted.
    const norm = (frames: string[]): string[] => [frames[0], ...frames.slice(1, -1).sort(), frames[frames.length - 1]]
    const send = async (n: number, bytes: Buffer): Promise<string[]> => {
      C.f.send(bytes)
      C.r.send(bytes)
      const [a, b] = await Promise.all([C.f.readReplies(n), C.r.readReplies(n)])
      expect(norm(a.map(text))).toEqual(norm(b.map(text)))
      return b.map(text)
    }
    expect(await send(4, batch(['SET', 'o1', 'v'], ['PING', 'p'], ['GET', 'o9'])))
      .toEqual(['+OK\r\n', push('o1'), '$1\r\np\r\n', '_\r\n'])
    // MSET across shards: after its (merged) reply, one push per key.
    await on(C, 'MGET', 'o1', 'o2', 'o3')
    const got = await send(5, batch(['MSET', 'o1', 'a', 'o2', 'b', 'o3', 'c'], ['PING', 'q']))
    expect(got[0]).toBe('+OK\r\n')
    expect(got.slice(1, 4).sort()).toEqual([push('o1'), push('o2'), push('o3')])
    expect(got[4]).toBe('$1\r\nq\r\n')
    // A REDIRECT target's write of a key another client tracks: Redis 7.0 defers only the
    // tracking client's own, so this one comes before the reply (a RESP3 target gets pushes).
    const R = await resp3('R')
    const id = await ids(R)
    await onWithId(C, id, 'CLIENT', 'TRACKING', 'on', 'REDIRECT', 'ID')
    await on(C, 'GET', 'o5')
    const bytes = batch(['SET', 'o5', 'v'], ['PING', 'r'])
    R.f.send(bytes)
    R.r.send(bytes)
    const [a, b] = await Promise.all([R.f.readReplies(3), R.r.readReplies(3)])
    expect(a.map(text)).toEqual(b.map(text))
    expect(b.map(text)).toEqual([push('o5'), '+OK\r\n', '$1\r\nr\r\n'])
    await on(C, 'CLIENT', 'TRACKING', 'off')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    // FLUSHALL: its null right after its reply, before PING's.
    expect(await send(3, batch(['FLUSHALL'], ['PING', 's']))).toEqual(['+OK\r\n', '>2\r\n$10\r\ninvalidate\r\n_\r\n', '$1\r\ns\r\n'])
  })

  it('a key that expires is invalidated, by active expiry or by the read that finds it expired', async () => {
    const C = await resp3('C')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    const before = await Promise.all([expiresIn(A.f), expiresIn(A.r)])
    // 500 ms: the GET must find it alive on both, also on a loaded box (50 ms once was not).
    await on(A, 'SET', 'e1', 'v', 'PX', '500')
    await on(C, 'GET', 'e1')
    // Active expiry (10 times a second on both) deletes it: wait until both count one key with
    // a TTL fewer (INFO reads no key, so no read expires it lazily), a bound on waiting only.
    for (let i = 0; i < 100; i++) {
      const now = await Promise.all([expiresIn(A.f), expiresIn(A.r)])
      if (now[0] === before[0] && now[1] === before[1]) break
      await sleep(50)
    }
    expect(await fence(C, 1)).toEqual([push('e1')])
    expect(await frames(C, 1, 'GET', 'e1')).toEqual(['_\r\n'])
    await on(A, 'SET', 'e1', 'v')
    expect(await fence(C, 1)).toEqual([push('e1')])
  })

  it('reads inside scripts and cross-shard transactions are remembered too', async () => {
    const C = await resp3('C')
    const B = await client('B')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    // Keys on different shards: the script and the WATCHed EXEC run holding several shards.
    await on(C, 'EVAL', "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}", '2', 's1', 's2')
    await on(C, 'WATCH', 'w1')
    await on(C, 'MULTI')
    await on(C, 'GET', 'w1')
    await on(C, 'GET', 'w2')
    await on(C, 'SET', 'w3', 'v')
    await on(C, 'EXEC')
    expect(await fence(C, 0)).toEqual([])
    for (const k of ['s2', 'w2', 's1', 'w1']) {
      await on(B, 'SET', k, 'x')
      expect(await fence(C, 1)).toEqual([push(k)])
    }
    // A script's own write: after its reply.
    await on(C, 'GET', 's3')
    expect(await frames(C, 2, 'EVAL', "return redis.call('SET', KEYS[1], 'v')", '1', 's3')).toEqual(['+OK\r\n', push('s3')])
  })

  it('PFCOUNT that refreshes its cached cardinality invalidates the key (Redis signals it), directly, in a script and across shards; a fresh cache does not', async () => {
    const C = await resp3('C')
    const B = await client('B')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    // h2 and h3 on other shards than h1 (4 shards): the script with both runs holding shards.
    await on(B, 'PFADD', 'h1', 'a', 'b')
    await on(B, 'PFADD', 'h2', 'c')
    await on(B, 'PFADD', 'h3', 'd')
    for (const k of ['h1', 'h2', 'h3']) await on(C, 'EXISTS', k)
    await on(B, 'PFCOUNT', 'h1')
    expect(await fence(C, 1)).toEqual([push('h1')])
    await on(C, 'EXISTS', 'h1')
    // The cache is fresh now: nothing changes, nothing is signalled.
    await on(B, 'PFCOUNT', 'h1')
    expect(await fence(C, 0)).toEqual([])
    await on(B, 'EVAL', "return redis.call('PFCOUNT', KEYS[1])", '1', 'h2')
    expect(await fence(C, 1)).toEqual([push('h2')])
    await on(B, 'EVAL', "return {redis.call('PFCOUNT', KEYS[1]), redis.call('PFCOUNT', KEYS[2])}", '2', 'h1', 'h3')
    expect(await fence(C, 1)).toEqual([push('h3')])
    // A count of several keys merges into a scratch copy: no key changes.
    await on(C, 'EXISTS', 'h2')
    await on(B, 'PFADD', 'h4', 'e')
    await on(B, 'PFCOUNT', 'h2', 'h4')
    expect(await fence(C, 0)).toEqual([])
  })

  it('HELLO 2 silences a client\'s own pushes (RESP2 gets none without REDIRECT); HELLO 3 brings them back', async () => {
    const C = await resp3('C')
    const B = await client('B')
    await on(C, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'h')
    const flags = async (): Promise<string> => {
      const [ri, fi] = await Promise.all([C.r.command('CLIENT', 'INFO'), C.f.command('CLIENT', 'INFO')])
      const pick = (s: string): string => `${/ flags=(\S+)/.exec(s)?.[1]} ${/ redir=(\S+)/.exec(s)?.[1]}`
      expect(pick(text(fi))).toBe(pick(text(ri)))
      return pick(text(ri))
    }
    expect(await flags()).toBe('tB 0')
    // HELLO's reply names the client id (each server's own): read, not compared.
    await Promise.all([C.f.command('HELLO', '2'), C.r.command('HELLO', '2')])
    await on(B, 'SET', 'h1', 'v')
    expect(await fence(C, 0)).toEqual([])
    await hello3(C)
    await on(B, 'SET', 'h2', 'v')
    expect(await fence(C, 1)).toEqual([push('h2')])
    await on(C, 'CLIENT', 'TRACKING', 'off')
    expect(await flags()).toBe('N -1')
  })

  it('RESET turns tracking off; INFO counts clients, keys, items and prefixes', async () => {
    const C = await resp3('C')
    const D = await client('D')
    await on(C, 'CLIENT', 'TRACKING', 'on')
    await on(C, 'MGET', 'i1', 'i2', 'i3')
    await on(D, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'p1', 'PREFIX', 'p2')
    await on(D, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'p3')
    await on(A, 'CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'p1')
    await on(A, 'GET', 'i1')
    // Another thread's prefixes reach shard 0's count through that thread's own ring: a moment
    // after its reply at most, so the figures are polled (bounded) until they agree.
    const fields = async (): Promise<void> => {
      const pick = (s: string): string => s.split('\r\n').filter(l => l.startsWith('tracking_')).join(',')
      let f = ''
      let r = ''
      for (let i = 0; i < 50; i++) {
        const [ri, fi] = await Promise.all([A.r.command('INFO', 'everything'), A.f.command('INFO', 'everything')])
        f = pick(text(fi))
        r = pick(text(ri))
        if (f === r) break
        await sleep(20)
      }
      expect(f).toBe(r)
      expect(r).toMatch(/^tracking_clients:\d+,tracking_total_keys:\d+,tracking_total_items:\d+,tracking_total_prefixes:\d+$/)
    }
    await fields()
    await on(C, 'RESET')
    await on(C, 'CLIENT', 'TRACKINGINFO')
    await on(D, 'CLIENT', 'TRACKING', 'off')
    await fields()
    await on(A, 'SET', 'i2', 'v')
    await fields()
    await on(A, 'CLIENT', 'TRACKING', 'off')
    await fields()
  })
})
