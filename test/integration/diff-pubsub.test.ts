// Differential tests for pub/sub (Redis 7.0's pubsub.c): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE,
// PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB's subcommands. The same
// bytes go to a real redis-server 7.0.15 and to FlashKV (4 shards) on the same number of
// connections (subscribers and publishers are separate clients, Side below), the steps run in the
// same order on both, and every reply and every pushed message must be byte-for-byte identical,
// in RESP2 and in RESP3 (HELLO 3, whose reply is read but not compared). Key replies are also
// asserted literally, so a test cannot pass on two servers that agree on something else.
//
// Where Redis's own order is hash order (random per server start) the test compares a normal form:
// - the pmessages one PUBLISH sends to a client after its `message` (Redis walks its pattern
//   dict): sorted, the `message` itself stays first;
// - UNSUBSCRIBE / SUNSUBSCRIBE with no arguments (Redis walks the client's channel dict): the
//   names sorted, the counts (which only ever go down by one) in order. PUNSUBSCRIBE with no
//   arguments walks a list in Redis 7.0 (subscription order) and is compared as is;
// - PUBSUB CHANNELS / SHARDCHANNELS: as a sorted set.
//
// "Nothing else arrived" is proven with a fence: the publisher sends one more message the client
// does receive, and it must be the client's next frame (one publisher's messages are ordered).
// A subscriber that disconnects leaves the counts a moment later: those are polled (bounded).
// What Redis does at once is not polled: a (un)subscription counts in PUBLISH as soon as its reply
// was read, and a message whose PUBLISH has answered comes before the reply to any command the
// subscriber sends afterwards; with several I/O threads those run many rounds, since a slip
// shows in some rounds only.
import { beforeEach, describe, expect, it } from 'vitest'

import { useDiffPair, show, text, type Arg } from './helpers/diff.js'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { useSides, hello3, sleep, type Side } from './helpers/sides.js'

const pair = useDiffPair({ shards: 4 })
const { sameUntilClose } = pair

const { A, client } = useSides(pair)

/** A client speaking `resp` (HELLO 3 for RESP3). */
async function clientResp (name: string, resp: 2 | 3): Promise<Side> {
  const side = await client(name)
  if (resp === 3) await hello3(side)
  return side
}

type Normalize = (frames: string[]) => string
const joined: Normalize = frames => frames.join('')

/** Reads n frames (replies or pushed messages) on `side` from both servers; normalize() must agree. Returns Redis's. */
async function read (side: Side, n: number, normalize: Normalize = joined, label = 'nothing (pushed frames)'): Promise<string[]> {
  const [a, b] = await Promise.all([side.f.readReplies(n), side.r.readReplies(n)])
  expect(normalize(a.map(text)), `client ${side.name}: ${n} frame(s) after ${label}`).toBe(normalize(b.map(text)))
  return b.map(text)
}

/** Sends one command on `side` to both servers and reads n frames from each. Returns Redis's. */
async function onN (side: Side, n: number, args: Arg[], normalize: Normalize = joined): Promise<string[]> {
  const bytes = encodeCommand(args)
  side.f.send(bytes)
  side.r.send(bytes)
  return await read(side, n, normalize, show(args))
}

/** One command, one reply (identical on both servers). Returns Redis's. */
async function on (side: Side, ...args: Arg[]): Promise<string> {
  return (await onN(side, 1, args))[0]
}

const SUB_FAMILY = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe'])

/** A step: a command on one client, or a pause (ms) on both servers alike. */
type Step = [Side, ...Arg[]] | number

/**
 * Runs the steps in order (one at a time, so both servers see the same interleaving). A
 * (un)subscribe command with k names reads k frames (one confirmation each); every other command
 * one reply. An (un)subscribe without names goes through onN, which is told how many.
 */
async function steps (list: readonly Step[]): Promise<string[]> {
  const replies: string[] = []
  for (const s of list) {
    if (typeof s === 'number') { await sleep(s); continue }
    const [side, ...args] = s
    const name = String(args[0]).toLowerCase()
    if (SUB_FAMILY.has(name) && args.length === 1 && name.includes('unsub')) throw new Error(`steps: ${show(args)} without names: use onN`)
    const n = SUB_FAMILY.has(name) ? Math.max(1, args.length - 1) : 1 // SUBSCRIBE alone: one arity error
    replies.push((await onN(side, n, args)).join(''))
  }
  return replies
}

// --- the expected bytes ------------------------------------------------------------------------

/** A bulk string of latin1 text (binary names are passed around as latin1 strings). */
const bulk = (s: string): string => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`
const head = (resp: 2 | 3, n: number): string => `${resp === 3 ? '>' : '*'}${n}\r\n`
/** A (un)subscribe confirmation: [kind, name (null: none), count]. */
const conf = (resp: 2 | 3, kind: string, name: string | null, count: number): string =>
  head(resp, 3) + bulk(kind) + (name === null ? (resp === 3 ? '_\r\n' : '$-1\r\n') : bulk(name)) + `:${count}\r\n`
const confs = (resp: 2 | 3, kind: string, list: Array<[string, number]>): string =>
  list.map(([name, count]) => conf(resp, kind, name, count)).join('')
const msg = (resp: 2 | 3, channel: string, message: string): string => head(resp, 3) + bulk('message') + bulk(channel) + bulk(message)
const smsg = (resp: 2 | 3, channel: string, message: string): string => head(resp, 3) + bulk('smessage') + bulk(channel) + bulk(message)
const pmsg = (resp: 2 | 3, pattern: string, channel: string, message: string): string =>
  head(resp, 4) + bulk('pmessage') + bulk(pattern) + bulk(channel) + bulk(message)
const int = (n: number): string => `:${n}\r\n`
const PONG = '+PONG\r\n'
/** PING's reply to a RESP2 subscriber: ["pong", ""] (or ["pong", arg]). */
const SUB_PONG = (arg = ''): string => `*2\r\n$4\r\npong\r\n${bulk(arg)}`
const OK = '+OK\r\n'
const notAllowed = (cmd: string): string =>
  `-ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n`

// --- decoding, for the normal forms ------------------------------------------------------------

type Value = string | number | null | Value[]

/** Decodes one RESP2/RESP3 value (latin1 text) starting at pos: [value, end]. Verbatim strings lose their `txt:`. */
function decode (s: string, pos = 0): [Value, number] {
  const nl = s.indexOf('\r\n', pos)
  if (nl < 0) throw new Error(`incomplete reply ${JSON.stringify(s.slice(pos, pos + 80))}`)
  const h = s.slice(pos + 1, nl)
  let p = nl + 2
  switch (s[pos]) {
    case '+': case '-': return [h, p]
    case ':': return [Number(h), p]
    case '_': return [null, p]
    case '$': case '=': {
      const n = Number(h)
      if (n < 0) return [null, p]
      const v = s.slice(p, p + n)
      return [s[pos] === '=' ? v.slice(4) : v, p + n + 2]
    }
    case '*': case '>': case '~': case '%': {
      const n = Number(h) * (s[pos] === '%' ? 2 : 1)
      if (n < 0) return [null, p]
      const out: Value[] = []
      for (let i = 0; i < n; i++) { const [v, q] = decode(s, p); out.push(v); p = q }
      return [out, p]
    }
    default: throw new Error(`unexpected reply ${JSON.stringify(s.slice(pos, pos + 80))}`)
  }
}
const value = (s: string): Value => decode(s)[0]

/** The frames from index k on, sorted (pmessages after a message; Redis walks its pattern dict). */
const sortedFrom = (k: number): Normalize => frames => JSON.stringify([...frames.slice(0, k), ...frames.slice(k).sort()])

/** UNSUBSCRIBE / SUNSUBSCRIBE with no names: the kind and counts in order, the names sorted. */
const unsubAll: Normalize = frames => {
  const items = frames.map(f => value(f) as [string, string | null, number])
  return JSON.stringify({ frames: frames.map(f => f[0]), kinds: items.map(i => i[0]), counts: items.map(i => i[2]), names: items.map(i => i[1]).sort() })
}

/** PUBSUB CHANNELS / SHARDCHANNELS: the type byte and the names as a sorted set. */
const sortedArray: Normalize = frames => JSON.stringify(frames.map(f => [f[0], (value(f) as string[]).slice().sort()]))

/** Sends a command on `side` that answers an array in hash order; compares it sorted. Returns Redis's names, sorted. */
async function onSorted (side: Side, ...args: Arg[]): Promise<string[]> {
  const [reply] = await onN(side, 1, args, sortedArray)
  return (value(reply) as string[]).slice().sort()
}

/** Fence: `pub` publishes `message` on `channel`, which `sub` receives: it must be `sub`'s next frame. */
async function fence (pub: Side, sub: Side, expectFrame: string, ...publish: Arg[]): Promise<void> {
  expect(await on(pub, ...publish)).toMatch(/^:[1-9]\d*\r\n$/)
  const [frame] = await read(sub, 1, joined, `fence ${show(publish)}`)
  expect(frame).toBe(expectFrame)
}

/** Repeats `args` on c until the reply is `want` (a count that lags a disconnect a moment); returns the last reply. */
async function pollFor (c: RawClient, want: string, ...args: Arg[]): Promise<string> {
  let last = ''
  for (let i = 0; i < 150; i++) {
    last = text(await c.command(...args))
    if (last === want) break
    await sleep(20)
  }
  return last
}

// Every test starts with no subscription anywhere: the previous test's connections are closed,
// and their subscriptions must be gone (a moment after the close, hence the bounded poll).
beforeEach(async () => {
  for (const [name, c] of [['redis', pair.r], ['flashkv', pair.f]] as const) {
    expect(await pollFor(c, '*0\r\n', 'PUBSUB', 'CHANNELS'), `${name}: no channel left from the previous test`).toBe('*0\r\n')
    expect(await pollFor(c, '*0\r\n', 'PUBSUB', 'SHARDCHANNELS'), `${name}: no shard channel left`).toBe('*0\r\n')
    expect(await pollFor(c, ':0\r\n', 'PUBSUB', 'NUMPAT'), `${name}: no pattern left`).toBe(':0\r\n')
  }
})

for (const resp of [2, 3] as const) {
  describe(`RESP${resp}`, () => {
    /** The test's client A in this protocol. */
    const subA = async (): Promise<Side> => { if (resp === 3) await hello3(A); return A }

    describe('subscribe and unsubscribe confirmations', () => {
      it('SUBSCRIBE confirms each name with the running count; a duplicate (in the same command or later) counts once', async () => {
        const S = await subA()
        const r = await steps([
          [S, 'SUBSCRIBE', 'a', 'b', 'a', 'c'], [S, 'SUBSCRIBE', 'c', 'd'],
          [S, 'UNSUBSCRIBE', 'b', 'nosuch'], [S, 'UNSUBSCRIBE', 'b', 'b'], [S, 'subscribe', 'B'],
        ])
        expect(r[0]).toBe(confs(resp, 'subscribe', [['a', 1], ['b', 2], ['a', 2], ['c', 3]]))
        expect(r[1]).toBe(confs(resp, 'subscribe', [['c', 3], ['d', 4]]))
        expect(r[2]).toBe(confs(resp, 'unsubscribe', [['b', 3], ['nosuch', 3]]))
        expect(r[3]).toBe(confs(resp, 'unsubscribe', [['b', 3], ['b', 3]]))
        expect(r[4]).toBe(conf(resp, 'subscribe', 'B', 4)) // names are case-sensitive
        // No names: one confirmation per channel (Redis's order is hash order: names compared sorted).
        const all = await onN(S, 4, ['UNSUBSCRIBE'], unsubAll)
        expect(all.map(f => (value(f) as Value[])[2])).toEqual([3, 2, 1, 0])
        expect(all.map(f => (value(f) as Value[])[1]).sort()).toEqual(['B', 'a', 'c', 'd'])
        // Subscribed to nothing: one confirmation with a null name.
        expect(await on(S, 'UNSUBSCRIBE')).toBe(conf(resp, 'unsubscribe', null, 0))
      })

      it('UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE on a client subscribed to nothing', async () => {
        const S = await subA()
        const r = await steps([
          [S, 'UNSUBSCRIBE', 'x', 'y'], [S, 'PUNSUBSCRIBE', 'p*'], [S, 'SUNSUBSCRIBE', 's'],
        ])
        expect(r[0]).toBe(confs(resp, 'unsubscribe', [['x', 0], ['y', 0]]))
        expect(r[1]).toBe(conf(resp, 'punsubscribe', 'p*', 0))
        expect(r[2]).toBe(conf(resp, 'sunsubscribe', 's', 0))
        expect(await on(S, 'UNSUBSCRIBE')).toBe(conf(resp, 'unsubscribe', null, 0))
        expect(await on(S, 'PUNSUBSCRIBE')).toBe(conf(resp, 'punsubscribe', null, 0))
        expect(await on(S, 'SUNSUBSCRIBE')).toBe(conf(resp, 'sunsubscribe', null, 0))
        // Never subscribed: a normal client (RESP2 too).
        expect(await on(S, 'PING')).toBe(PONG)
        expect(await on(S, 'GET', 'k')).toBe(resp === 3 ? '_\r\n' : '$-1\r\n')
      })

      it('channels and patterns share one count; PUNSUBSCRIBE with no names ends every pattern in subscription order', async () => {
        const S = await subA()
        const r = await steps([
          [S, 'SUBSCRIBE', 'a', 'b'], [S, 'PSUBSCRIBE', 'p*', 'q?', 'p*'], [S, 'PSUBSCRIBE', 'a'],
          [S, 'PUNSUBSCRIBE', 'q?', 'zz'], [S, 'UNSUBSCRIBE', 'a'], [S, 'PSUBSCRIBE', 'r[a-c]'],
        ])
        expect(r[0]).toBe(confs(resp, 'subscribe', [['a', 1], ['b', 2]]))
        expect(r[1]).toBe(confs(resp, 'psubscribe', [['p*', 3], ['q?', 4], ['p*', 4]]))
        expect(r[2]).toBe(conf(resp, 'psubscribe', 'a', 5)) // a pattern named like a channel is another subscription
        expect(r[3]).toBe(confs(resp, 'punsubscribe', [['q?', 4], ['zz', 4]]))
        expect(r[4]).toBe(conf(resp, 'unsubscribe', 'a', 3))
        expect(r[5]).toBe(conf(resp, 'psubscribe', 'r[a-c]', 4))
        const pats = await onN(S, 3, ['PUNSUBSCRIBE'])
        expect(pats.join('')).toBe(confs(resp, 'punsubscribe', [['p*', 3], ['a', 2], ['r[a-c]', 1]]))
        expect(await on(S, 'PUNSUBSCRIBE')).toBe(conf(resp, 'punsubscribe', null, 1))
        expect(await on(S, 'UNSUBSCRIBE')).toBe(conf(resp, 'unsubscribe', 'b', 0))
      })

      it('SSUBSCRIBE counts shard channels on their own', async () => {
        const S = await subA()
        const r = await steps([
          [S, 'SUBSCRIBE', 'a'], [S, 'PSUBSCRIBE', 'p*'], [S, 'SSUBSCRIBE', 'a', 's1', 's2', 's1'],
          [S, 'SUBSCRIBE', 'b'], [S, 'SUNSUBSCRIBE', 's2', 'nope'], [S, 'PUNSUBSCRIBE', 'p*'], [S, 'SSUBSCRIBE', 'p*'],
        ])
        expect(r[0]).toBe(conf(resp, 'subscribe', 'a', 1))
        expect(r[1]).toBe(conf(resp, 'psubscribe', 'p*', 2))
        expect(r[2]).toBe(confs(resp, 'ssubscribe', [['a', 1], ['s1', 2], ['s2', 3], ['s1', 3]]))
        expect(r[3]).toBe(conf(resp, 'subscribe', 'b', 3))
        expect(r[4]).toBe(confs(resp, 'sunsubscribe', [['s2', 2], ['nope', 2]]))
        expect(r[5]).toBe(conf(resp, 'punsubscribe', 'p*', 2))
        expect(r[6]).toBe(conf(resp, 'ssubscribe', 'p*', 3))
        const shards = await onN(S, 3, ['SUNSUBSCRIBE'], unsubAll)
        expect(shards.map(f => (value(f) as Value[])[2])).toEqual([2, 1, 0])
        expect(await on(S, 'SUNSUBSCRIBE')).toBe(conf(resp, 'sunsubscribe', null, 0))
        const chans = await onN(S, 2, ['UNSUBSCRIBE'], unsubAll)
        expect(chans.map(f => (value(f) as Value[])[2])).toEqual([1, 0])
      })
    })

    describe('messages', () => {
      it('message, pmessage and smessage reach subscribers on other connections; each kind only its own', async () => {
        const S1 = await clientResp('S1', resp)
        const S2 = await clientResp('S2', resp)
        const S3 = await clientResp('S3', resp)
        const P = await clientResp('P', resp)
        await steps([[S1, 'SUBSCRIBE', 'news'], [S2, 'PSUBSCRIBE', 'n*'], [S3, 'SSUBSCRIBE', 'news']])
        expect(await on(P, 'PUBLISH', 'news', 'hello')).toBe(int(2))
        expect((await read(S1, 1))[0]).toBe(msg(resp, 'news', 'hello'))
        expect((await read(S2, 1))[0]).toBe(pmsg(resp, 'n*', 'news', 'hello'))
        expect(await on(P, 'SPUBLISH', 'news', 'shard')).toBe(int(1))
        expect((await read(S3, 1))[0]).toBe(smsg(resp, 'news', 'shard'))
        expect(await on(P, 'PUBLISH', 'other', 'x')).toBe(int(0))
        expect(await on(P, 'SPUBLISH', 'other', 'x')).toBe(int(0))
        // SPUBLISH reached neither S1 nor S2, PUBLISH did not reach S3: the fences are their next frames.
        await fence(P, S1, msg(resp, 'news', 'f1'), 'PUBLISH', 'news', 'f1')
        expect((await read(S2, 1))[0]).toBe(pmsg(resp, 'n*', 'news', 'f1'))
        await fence(P, S3, smsg(resp, 'news', 'f2'), 'SPUBLISH', 'news', 'f2')
      })

      it('a client subscribed to a channel and to two matching patterns gets the message, then one pmessage per pattern', async () => {
        const S = await clientResp('S', resp)
        const P = await clientResp('P', resp)
        await steps([[S, 'SUBSCRIBE', 'news.tech'], [S, 'PSUBSCRIBE', 'news.*', '*.tech']])
        expect(await on(P, 'PUBLISH', 'news.tech', 'hi')).toBe(int(3))
        // The channel's message first; the pmessages in Redis's pattern-dict order (compared sorted).
        const got = await read(S, 3, sortedFrom(1))
        expect(got[0]).toBe(msg(resp, 'news.tech', 'hi'))
        expect(got.slice(1).sort()).toEqual([pmsg(resp, '*.tech', 'news.tech', 'hi'), pmsg(resp, 'news.*', 'news.tech', 'hi')].sort())
        expect(await on(P, 'PUBLISH', 'news.sport', 'goal')).toBe(int(1))
        expect((await read(S, 1))[0]).toBe(pmsg(resp, 'news.*', 'news.sport', 'goal'))
        expect(await on(P, 'PUBLISH', 'old.tech', 'x')).toBe(int(1))
        expect((await read(S, 1))[0]).toBe(pmsg(resp, '*.tech', 'old.tech', 'x'))
      })

      it("PUBLISH's count is every channel subscription plus every matching pattern subscription, of every client", async () => {
        const C1 = await clientResp('C1', resp)
        const C2 = await clientResp('C2', resp)
        const C3 = await clientResp('C3', resp)
        const C4 = await clientResp('C4', resp)
        const C5 = await clientResp('C5', resp)
        const P = await clientResp('P', resp)
        await steps([
          [C1, 'SUBSCRIBE', 'x'], [C2, 'SUBSCRIBE', 'x'], [C2, 'PSUBSCRIBE', 'x*', '*'], [C3, 'PSUBSCRIBE', '?'],
          [C4, 'SSUBSCRIBE', 'x'], [C5, 'PSUBSCRIBE', 'y*'],
        ])
        expect(await on(P, 'PUBLISH', 'x', 'm')).toBe(int(5))
        expect((await read(C1, 1))[0]).toBe(msg(resp, 'x', 'm'))
        const c2 = await read(C2, 3, sortedFrom(1))
        expect(c2[0]).toBe(msg(resp, 'x', 'm'))
        expect((await read(C3, 1))[0]).toBe(pmsg(resp, '?', 'x', 'm'))
        expect(await on(P, 'PUBLISH', 'xy', 'n')).toBe(int(2))
        await read(C2, 2, sortedFrom(0))
        expect(await on(P, 'SPUBLISH', 'x', 's')).toBe(int(1))
        expect((await read(C4, 1))[0]).toBe(smsg(resp, 'x', 's'))
        // C5's pattern matched nothing so far: the fence is its first frame.
        await fence(P, C5, pmsg(resp, 'y*', 'yes', 'f'), 'PUBLISH', 'yes', 'f')
      })

      it('SPUBLISH reaches only SSUBSCRIBE subscribers (not channel nor pattern subscribers of the same name)', async () => {
        const S1 = await clientResp('S1', resp)
        const S2 = await clientResp('S2', resp)
        const S3 = await clientResp('S3', resp)
        const P = await clientResp('P', resp)
        await steps([[S1, 'SUBSCRIBE', 'k'], [S2, 'PSUBSCRIBE', '*'], [S3, 'SSUBSCRIBE', 'k', 'k2']])
        expect(await on(P, 'SPUBLISH', 'k', 'v')).toBe(int(1))
        expect(await on(P, 'SPUBLISH', 'k2', 'w')).toBe(int(1))
        expect(await on(P, 'SPUBLISH', 'other', 'v')).toBe(int(0))
        expect((await read(S3, 2)).join('')).toBe(smsg(resp, 'k', 'v') + smsg(resp, 'k2', 'w'))
        await fence(P, S1, msg(resp, 'k', 'fence'), 'PUBLISH', 'k', 'fence')
        expect((await read(S2, 1))[0]).toBe(pmsg(resp, '*', 'k', 'fence'))
        expect(await on(P, 'PUBSUB', 'NUMSUB', 'k')).toBe(`*2\r\n${bulk('k')}:1\r\n`)
        expect(await on(P, 'PUBSUB', 'SHARDNUMSUB', 'k')).toBe(`*2\r\n${bulk('k')}:1\r\n`)
      })

      it('glob patterns: *, ?, [abc], [^a], [a-c], reversed ranges and escapes', async () => {
        const S = await clientResp('S', resp)
        const P = await clientResp('P', resp)
        const patterns = ['h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-c]llo', 'r[c-a]ng', 'h\\*llo', 'h\\?llo', '\\[x]', 'a*b*c', '*\\\\']
        await onN(S, patterns.length, ['PSUBSCRIBE', ...patterns])
        const channels = ['hello', 'hallo', 'hllo', 'heeello', 'hxllo', 'h*llo', 'h?llo', 'hbllo', 'hcllo', 'hdllo', 'HELLO',
          'rbng', 'rdng', '[x]', 'x', 'abc', 'aXbYc', 'acb', 'back\\', '']
        const counts: number[] = []
        for (const ch of channels) {
          const n = Number((await on(P, 'PUBLISH', ch, `to ${ch}`)).slice(1, -2))
          counts.push(n)
          if (n > 0) {
            const frames = await read(S, n, sortedFrom(0), `PUBLISH ${ch}`)
            for (const f of frames) expect((value(f) as string[])[2]).toBe(ch)
          }
        }
        // Redis 7.0's stringmatchlen, literally (pattern by pattern: see the list above).
        expect(counts).toEqual([3, 5, 1, 1, 3, 4, 4, 4, 4, 3, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0])
      })

      it('channels and messages are binary-safe (CR LF and every byte 0..255 inside)', async () => {
        const S = await clientResp('S', resp)
        const P = await clientResp('P', resp)
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
        const CH = Buffer.concat([Buffer.from('bin\r\n'), bytes, Buffer.from('\r\n*1\r\n$-1\r\n')])
        const MSG = Buffer.concat([Buffer.from(bytes).reverse(), Buffer.from('\r\n$3\r\n>3\r\n'), bytes])
        const PAT = Buffer.from('bin\r\n*')
        const ch = text(CH)
        const m = text(MSG)
        expect(await on(S, 'SUBSCRIBE', CH)).toBe(conf(resp, 'subscribe', ch, 1))
        expect(await on(S, 'PSUBSCRIBE', PAT)).toBe(conf(resp, 'psubscribe', text(PAT), 2))
        expect(await on(S, 'SSUBSCRIBE', CH)).toBe(conf(resp, 'ssubscribe', ch, 1))
        expect(await on(S, 'SUBSCRIBE', '')).toBe(conf(resp, 'subscribe', '', 3))
        expect(await on(P, 'PUBLISH', CH, MSG)).toBe(int(2))
        expect((await read(S, 2)).join('')).toBe(msg(resp, ch, m) + pmsg(resp, text(PAT), ch, m))
        expect(await on(P, 'SPUBLISH', CH, MSG)).toBe(int(1))
        expect((await read(S, 1))[0]).toBe(smsg(resp, ch, m))
        expect(await on(P, 'PUBLISH', CH, '')).toBe(int(2))
        expect((await read(S, 2)).join('')).toBe(msg(resp, ch, '') + pmsg(resp, text(PAT), ch, ''))
        expect(await on(P, 'PUBLISH', '', MSG)).toBe(int(1))
        expect((await read(S, 1))[0]).toBe(msg(resp, '', m))
        expect(await on(P, 'PUBSUB', 'NUMSUB', CH, '')).toBe(`*4\r\n${bulk(ch)}:1\r\n${bulk('')}:1\r\n`)
        expect(await on(P, 'PUBSUB', 'SHARDNUMSUB', CH)).toBe(`*2\r\n${bulk(ch)}:1\r\n`)
        expect(await onSorted(P, 'PUBSUB', 'CHANNELS')).toEqual(['', ch].sort())
        expect(await onSorted(P, 'PUBSUB', 'CHANNELS', Buffer.from('bin\r\n*'))).toEqual([ch])
        expect(await onN(S, 1, ['UNSUBSCRIBE', CH])).toEqual([conf(resp, 'unsubscribe', ch, 2)])
      })

      it("one publisher's messages on several channels arrive in publish order at a subscriber of all of them", async () => {
        const S = await clientResp('S', resp)
        const P = await clientResp('P', resp)
        const chans = ['c0', 'c1', 'c2', 'c3', 'c4']
        await onN(S, chans.length, ['SUBSCRIBE', ...chans])
        const cmds = Array.from({ length: 200 }, (_, i) => ['PUBLISH', chans[(i * 7) % 5], `m${i}`])
        const batch = Buffer.concat(cmds.map(c => encodeCommand(c)))
        P.f.send(batch)
        P.r.send(batch)
        const [pf, pr] = await Promise.all([P.f.readReplies(200), P.r.readReplies(200)])
        expect(pf.map(text)).toEqual(pr.map(text))
        expect(new Set(pr.map(text))).toEqual(new Set([int(1)]))
        const got = await read(S, 200)
        expect(got).toEqual(cmds.map(c => msg(resp, c[1], c[2])))
      })

      it('a message published after the SUBSCRIBE reply arrives (several subscribers, one after another)', async () => {
        const P = await clientResp('P', resp)
        const subs: Side[] = []
        for (let i = 1; i <= 8; i++) {
          const C = await clientResp(`C${i}`, resp)
          subs.push(C)
          expect(await on(C, 'SUBSCRIBE', 'late')).toBe(conf(resp, 'subscribe', 'late', 1))
          expect(await on(P, 'PUBLISH', 'late', `m${i}`)).toBe(int(i))
        }
        for (let i = 1; i <= 8; i++) {
          const want = Array.from({ length: 9 - i }, (_, j) => msg(resp, 'late', `m${i + j}`))
          expect(await read(subs[i - 1], 9 - i)).toEqual(want)
        }
      })
    })

    describe('the subscriber afterwards', () => {
      it('after unsubscribing from every channel, pattern and shard channel the client is back to normal', async () => {
        const S = await subA()
        const P = await clientResp('P', resp)
        await steps([[S, 'SUBSCRIBE', 'a'], [S, 'PSUBSCRIBE', 'p*'], [S, 'SSUBSCRIBE', 's']])
        expect(await onN(S, 1, ['UNSUBSCRIBE'])).toEqual([conf(resp, 'unsubscribe', 'a', 1)])
        expect(await onN(S, 1, ['PUNSUBSCRIBE'])).toEqual([conf(resp, 'punsubscribe', 'p*', 0)])
        // Still subscribed to a shard channel.
        expect(await on(S, 'GET', 'k')).toBe(resp === 2 ? notAllowed('get') : '_\r\n')
        expect(await on(S, 'PING')).toBe(resp === 2 ? SUB_PONG() : PONG)
        expect(await onN(S, 1, ['SUNSUBSCRIBE'])).toEqual([conf(resp, 'sunsubscribe', 's', 0)])
        const r = await steps([
          [S, 'PING'], [S, 'PING', 'x'], [S, 'SET', 'k', 'v'], [S, 'GET', 'k'], [P, 'PUBLISH', 'a', 'gone'], [P, 'PUBLISH', 'pq', 'gone'],
          [S, 'ECHO', 'e'],
        ])
        expect(r).toEqual([PONG, bulk('x'), OK, bulk('v'), int(0), int(0), bulk('e')])
      })

      it('PUBLISH inside MULTI/EXEC delivers at EXEC, in order; DISCARD delivers nothing', async () => {
        const S = await clientResp('S', resp)
        const P = await clientResp('P', resp)
        const P2 = await clientResp('P2', resp)
        await steps([[S, 'SUBSCRIBE', 'ch'], [S, 'PSUBSCRIBE', 'c*']])
        const q = await steps([[P, 'MULTI'], [P, 'PUBLISH', 'ch', 'a'], [P, 'SET', 'k', 'v'], [P, 'PUBLISH', 'ch', 'b'], [P, 'PUBLISH', 'none', 'c']])
        expect(q).toEqual([OK, '+QUEUED\r\n', '+QUEUED\r\n', '+QUEUED\r\n', '+QUEUED\r\n'])
        // Nothing queued was delivered: another publisher's message is the next thing S sees.
        expect(await on(P2, 'PUBLISH', 'ch', 'before')).toBe(int(2))
        expect(await read(S, 2)).toEqual([msg(resp, 'ch', 'before'), pmsg(resp, 'c*', 'ch', 'before')])
        expect(await on(P, 'EXEC')).toBe(`*4\r\n${int(2)}${OK}${int(2)}${int(0)}`)
        expect(await read(S, 4)).toEqual([
          msg(resp, 'ch', 'a'), pmsg(resp, 'c*', 'ch', 'a'), msg(resp, 'ch', 'b'), pmsg(resp, 'c*', 'ch', 'b'),
        ])
        expect(await steps([[P, 'MULTI'], [P, 'PUBLISH', 'ch', 'discarded'], [P, 'DISCARD']])).toEqual([OK, '+QUEUED\r\n', OK])
        await fence(P2, S, msg(resp, 'ch', 'after'), 'PUBLISH', 'ch', 'after')
        expect((await read(S, 1))[0]).toBe(pmsg(resp, 'c*', 'ch', 'after'))
      })

      it('after UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE replied, PUBLISH and PUBSUB no longer count the client', async () => {
        const S = await subA()
        const P = await clientResp('P', resp)
        await steps([[S, 'SUBSCRIBE', 'ch'], [S, 'PSUBSCRIBE', 'c*'], [S, 'SSUBSCRIBE', 'sc']])
        expect(await on(S, 'UNSUBSCRIBE', 'ch')).toBe(conf(resp, 'unsubscribe', 'ch', 1))
        expect(await on(P, 'PUBSUB', 'NUMSUB', 'ch')).toBe(`*2\r\n${bulk('ch')}:0\r\n`)
        expect(await on(P, 'PUBLISH', 'ch', 'x')).toBe(int(1))
        expect((await read(S, 1))[0]).toBe(pmsg(resp, 'c*', 'ch', 'x'))
        expect(await on(S, 'PUNSUBSCRIBE', 'c*')).toBe(conf(resp, 'punsubscribe', 'c*', 0))
        expect(await on(P, 'PUBSUB', 'NUMPAT')).toBe(int(0))
        expect(await on(P, 'PUBLISH', 'ch', 'y')).toBe(int(0))
        expect(await on(S, 'SUNSUBSCRIBE', 'sc')).toBe(conf(resp, 'sunsubscribe', 'sc', 0))
        expect(await on(P, 'SPUBLISH', 'sc', 'z')).toBe(int(0))
        expect(await on(P, 'PUBSUB', 'SHARDNUMSUB', 'sc')).toBe(`*2\r\n${bulk('sc')}:0\r\n`)
        expect(await on(S, 'PING')).toBe(PONG)
      })

      it("a name repeated in one unsubscribe (plain or in MULTI) leaves only this client: the other subscribers' stay counted", async () => {
        const S = await subA()
        const T = await clientResp('T', resp)
        const P = await clientResp('P', resp)
        await steps([[S, 'SUBSCRIBE', 'ch'], [S, 'PSUBSCRIBE', 'c*'], [S, 'SSUBSCRIBE', 'sc'], [T, 'SUBSCRIBE', 'ch'], [T, 'PSUBSCRIBE', 'c*'], [T, 'SSUBSCRIBE', 'sc']])
        expect((await steps([[S, 'UNSUBSCRIBE', 'ch', 'ch'], [S, 'PUNSUBSCRIBE', 'c*', 'c*', 'x*']])).join(''))
          .toBe(confs(resp, 'unsubscribe', [['ch', 1], ['ch', 1]]) + confs(resp, 'punsubscribe', [['c*', 0], ['c*', 0], ['x*', 0]]))
        expect(await on(P, 'PUBSUB', 'NUMPAT')).toBe(int(1))
        expect(await on(P, 'PUBSUB', 'NUMSUB', 'ch')).toBe(`*2\r\n${bulk('ch')}:1\r\n`)
        expect(await on(P, 'PUBLISH', 'ch', 'm')).toBe(int(2))
        await read(T, 2, sortedFrom(1))
        // In EXEC the hub hears of it just after: the same count. (EXEC's array counts commands,
        // and a PUNSUBSCRIBE of two names writes two confirmations in it, as Redis does.)
        const U = await clientResp('U', resp)
        expect(await steps([[U, 'MULTI'], [U, 'PSUBSCRIBE', 'c*']])).toEqual([OK, '+QUEUED\r\n'])
        expect(await onN(U, 1, ['PUNSUBSCRIBE', 'c*', 'c*'])).toEqual(['+QUEUED\r\n'])
        expect((await onN(U, 2, ['EXEC'])).join(''))
          .toBe(`*2\r\n${conf(resp, 'psubscribe', 'c*', 1)}${conf(resp, 'punsubscribe', 'c*', 0)}${conf(resp, 'punsubscribe', 'c*', 0)}`)
        expect(await on(P, 'PUBSUB', 'NUMPAT')).toBe(int(1))
        expect(await on(P, 'PUBLISH', 'cx', 'n')).toBe(int(1))
        expect((await read(T, 1))[0]).toBe(pmsg(resp, 'c*', 'cx', 'n'))
      })

      it("PUBLISH's count follows each SUBSCRIBE / UNSUBSCRIBE reply at once (many rounds)", async () => {
        const S = await subA()
        const P = await clientResp('P', resp)
        for (let i = 0; i < 100; i++) {
          expect(await on(S, 'SUBSCRIBE', 'ch')).toBe(conf(resp, 'subscribe', 'ch', 1))
          expect(await on(P, 'PUBLISH', 'ch', `m${i}`)).toBe(int(1))
          expect((await read(S, 1))[0]).toBe(msg(resp, 'ch', `m${i}`))
          expect(await on(S, 'UNSUBSCRIBE', 'ch')).toBe(conf(resp, 'unsubscribe', 'ch', 0))
          expect(await on(P, 'PUBLISH', 'ch', `gone${i}`)).toBe(int(0))
        }
        expect(await on(S, 'PING')).toBe(PONG)
      })

      it('a subscriber that disconnects is no longer counted', async () => {
        const C1 = await clientResp('C1', resp)
        const C2 = await clientResp('C2', resp)
        const C3 = await clientResp('C3', resp)
        const C4 = await clientResp('C4', resp)
        const P = await clientResp('P', resp)
        await steps([[C1, 'SUBSCRIBE', 'x', 'y'], [C2, 'SUBSCRIBE', 'x'], [C3, 'PSUBSCRIBE', 'x*'], [C4, 'SSUBSCRIBE', 'x']])
        expect(await on(P, 'PUBSUB', 'NUMSUB', 'x', 'y')).toBe(`*4\r\n${bulk('x')}:2\r\n${bulk('y')}:1\r\n`)
        expect(await on(P, 'PUBLISH', 'x', 'm1')).toBe(int(3))
        expect((await read(C2, 1))[0]).toBe(msg(resp, 'x', 'm1'))
        expect((await read(C3, 1))[0]).toBe(pmsg(resp, 'x*', 'x', 'm1'))

        /** Closes a client on both servers, then polls each until `args` answers `want`, and compares. */
        const leave = async (c: Side, want: string, ...args: Arg[]): Promise<void> => {
          c.r.close()
          c.f.close()
          expect(await pollFor(P.r, want, ...args), `redis: ${show(args)} after ${c.name} left`).toBe(want)
          expect(await pollFor(P.f, want, ...args), `flashkv: ${show(args)} after ${c.name} left`).toBe(want)
          expect(await on(P, ...args)).toBe(want)
        }
        await leave(C1, `*4\r\n${bulk('x')}:1\r\n${bulk('y')}:0\r\n`, 'PUBSUB', 'NUMSUB', 'x', 'y')
        expect(await onSorted(P, 'PUBSUB', 'CHANNELS')).toEqual(['x'])
        expect(await on(P, 'PUBLISH', 'x', 'm2')).toBe(int(2))
        expect(await on(P, 'PUBLISH', 'y', 'm2')).toBe(int(0))
        expect((await read(C2, 1))[0]).toBe(msg(resp, 'x', 'm2'))
        expect((await read(C3, 1))[0]).toBe(pmsg(resp, 'x*', 'x', 'm2'))
        await leave(C3, int(0), 'PUBSUB', 'NUMPAT')
        expect(await on(P, 'PUBLISH', 'x', 'm3')).toBe(int(1))
        expect((await read(C2, 1))[0]).toBe(msg(resp, 'x', 'm3'))
        await leave(C4, '*0\r\n', 'PUBSUB', 'SHARDCHANNELS')
        expect(await on(P, 'SPUBLISH', 'x', 's')).toBe(int(0))
        await leave(C2, '*0\r\n', 'PUBSUB', 'CHANNELS')
        expect(await on(P, 'PUBLISH', 'x', 'm4')).toBe(int(0))
      })

      it('CLIENT LIST shows flags=P and the sub / psub / ssub counts of a subscriber', async () => {
        const S = await clientResp('S', resp)
        const P = await clientResp('P', resp)
        // Client ids differ between the servers: each side lists its own subscriber.
        const ids = await Promise.all([S.f.command('CLIENT', 'ID'), S.r.command('CLIENT', 'ID')])
        const [fid, rid] = ids.map(b => String(value(text(b))))
        const fields = (reply: Buffer): Record<string, string> => {
          const line = String(value(text(reply))).trim()
          const out: Record<string, string> = {}
          for (const kv of line.split(' ')) {
            const [k, v] = kv.split('=')
            if (['flags', 'sub', 'psub', 'ssub'].includes(k)) out[k] = v
          }
          return out
        }
        const list = async (want: Record<string, string>): Promise<void> => {
          const [a, b] = await Promise.all([P.f.command('CLIENT', 'LIST', 'ID', fid), P.r.command('CLIENT', 'LIST', 'ID', rid)])
          expect(fields(a), `flashkv CLIENT LIST ${text(a)}`).toEqual(fields(b))
          expect(fields(b)).toEqual(want)
        }
        await list({ flags: 'N', sub: '0', psub: '0', ssub: '0' })
        await steps([[S, 'SUBSCRIBE', 'a', 'b', 'a'], [S, 'PSUBSCRIBE', 'p*'], [S, 'SSUBSCRIBE', 's1', 's2', 's3']])
        await list({ flags: 'P', sub: '2', psub: '1', ssub: '3' })
        await steps([[S, 'UNSUBSCRIBE', 'a'], [S, 'SUNSUBSCRIBE', 's1', 's2', 's3']])
        await list({ flags: 'P', sub: '1', psub: '1', ssub: '0' })
        if (resp === 3) {
          // A RESP3 subscriber may ask itself.
          const [a, b] = await Promise.all([S.f.command('CLIENT', 'INFO'), S.r.command('CLIENT', 'INFO')])
          expect(fields(a)).toEqual(fields(b))
          expect(fields(b)).toEqual({ flags: 'P', sub: '1', psub: '1', ssub: '0' })
        }
        await onN(S, 1, ['UNSUBSCRIBE'])
        await onN(S, 1, ['PUNSUBSCRIBE'])
        await list({ flags: 'N', sub: '0', psub: '0', ssub: '0' })
      })
    })

    describe('PUBSUB', () => {
      it('CHANNELS (sorted, with and without a pattern), NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB', async () => {
        const C1 = await clientResp('C1', resp)
        const C2 = await clientResp('C2', resp)
        const C3 = await clientResp('C3', resp)
        const C4 = await clientResp('C4', resp)
        const C5 = await clientResp('C5', resp)
        const P = await clientResp('P', resp)
        await steps([
          [C1, 'SUBSCRIBE', 'news.tech', 'news.sport', 'x'], [C2, 'SUBSCRIBE', 'news.tech'], [C2, 'PSUBSCRIBE', 'news.*'],
          [C3, 'PSUBSCRIBE', 'news.*', 'h?llo'], [C4, 'SSUBSCRIBE', 'shard.a', 'shard.b'], [C5, 'SSUBSCRIBE', 'shard.a'],
        ])
        expect(await onSorted(P, 'PUBSUB', 'CHANNELS')).toEqual(['news.sport', 'news.tech', 'x'])
        expect(await onSorted(P, 'PUBSUB', 'CHANNELS', '*')).toEqual(['news.sport', 'news.tech', 'x'])
        expect(await onSorted(P, 'PUBSUB', 'CHANNELS', 'news.*')).toEqual(['news.sport', 'news.tech'])
        expect(await onSorted(P, 'PUBSUB', 'CHANNELS', 'n[a-f]ws.t*')).toEqual(['news.tech'])
        expect(await onSorted(P, 'pubsub', 'channels', 'NEWS.*')).toEqual([])
        expect(await on(P, 'PUBSUB', 'CHANNELS', 'shard.*')).toBe('*0\r\n') // shard channels are not channels
        expect(await on(P, 'PUBSUB', 'NUMSUB', 'news.tech', 'x', 'unknown', 'news.tech', 'news.*', 'shard.a')).toBe(
          `*12\r\n${bulk('news.tech')}:2\r\n${bulk('x')}:1\r\n${bulk('unknown')}:0\r\n${bulk('news.tech')}:2\r\n` +
          `${bulk('news.*')}:0\r\n${bulk('shard.a')}:0\r\n`)
        expect(await on(P, 'PUBSUB', 'NUMSUB')).toBe('*0\r\n')
        expect(await on(P, 'PUBSUB', 'NUMPAT')).toBe(int(2)) // unique patterns
        expect(await on(P, 'pubsub', 'numpat')).toBe(int(2))
        expect(await onSorted(P, 'PUBSUB', 'SHARDCHANNELS')).toEqual(['shard.a', 'shard.b'])
        expect(await onSorted(P, 'PUBSUB', 'SHARDCHANNELS', '*.a')).toEqual(['shard.a'])
        expect(await on(P, 'PUBSUB', 'SHARDCHANNELS', 'news*')).toBe('*0\r\n')
        expect(await on(P, 'PUBSUB', 'SHARDNUMSUB', 'shard.a', 'shard.b', 'news.tech')).toBe(
          `*6\r\n${bulk('shard.a')}:2\r\n${bulk('shard.b')}:1\r\n${bulk('news.tech')}:0\r\n`)
        expect(await on(P, 'PUBSUB', 'SHARDNUMSUB')).toBe('*0\r\n')
        // C2 leaves news.* but C3 still has it.
        expect(await on(C2, 'PUNSUBSCRIBE', 'news.*')).toBe(conf(resp, 'punsubscribe', 'news.*', 1))
        expect(await on(P, 'PUBSUB', 'NUMPAT')).toBe(int(2))
        expect(await on(C1, 'UNSUBSCRIBE', 'news.tech')).toBe(conf(resp, 'unsubscribe', 'news.tech', 2))
        expect(await on(P, 'PUBSUB', 'NUMSUB', 'news.tech')).toBe(`*2\r\n${bulk('news.tech')}:1\r\n`)
      })

      it('PUBSUB HELP, and the errors of PUBSUB, PUBLISH and the subscribe commands', async () => {
        const P = await clientResp('P', resp)
        const help = await on(P, 'PUBSUB', 'HELP')
        expect(help.startsWith('*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CHANNELS [<pattern>]\r\n')).toBe(true)
        expect(await on(P, 'pubsub', 'help')).toBe(help)
        const r = await steps([
          [P, 'PUBSUB'], [P, 'PUBSUB', 'FOO'], [P, 'PUBSUB', 'NUMPAT', 'x'], [P, 'PUBSUB', 'HELP', 'x'],
          [P, 'PUBSUB', 'CHANNELS', 'a', 'b'], [P, 'PUBSUB', 'SHARDCHANNELS', 'a', 'b'], [P, 'PUBLISH', 'a'],
          [P, 'PUBLISH', 'a', 'b', 'c'], [P, 'SPUBLISH', 'a'], [P, 'SUBSCRIBE'], [P, 'PSUBSCRIBE'], [P, 'SSUBSCRIBE'],
        ])
        expect(r.slice(0, 4)).toEqual([
          "-ERR wrong number of arguments for 'pubsub' command\r\n",
          "-ERR unknown subcommand 'FOO'. Try PUBSUB HELP.\r\n",
          "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n",
          "-ERR wrong number of arguments for 'pubsub|help' command\r\n",
        ])
        expect(r[4]).toBe("-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n")
        expect(r[6]).toBe("-ERR wrong number of arguments for 'publish' command\r\n")
        expect(r[9]).toBe("-ERR wrong number of arguments for 'subscribe' command\r\n")
        // None of them subscribed the client.
        expect(await on(P, 'PING')).toBe(PONG)
      })
    })
  })
}

describe('RESP2 subscribed mode', () => {
  it('only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING and QUIT run; PING answers ["pong", arg]', async () => {
    const P = await client('P')
    expect(await on(A, 'SUBSCRIBE', 'ch')).toBe(conf(2, 'subscribe', 'ch', 1))
    const refused: Array<[Arg[], string]> = [
      [['GET', 'k'], 'get'], [['SET', 'k', 'v'], 'set'], [['CLIENT', 'SETNAME', 'n'], 'client|setname'],
      [['PUBLISH', 'ch', 'x'], 'publish'], [['SPUBLISH', 'ch', 'x'], 'spublish'], [['PUBSUB', 'NUMSUB', 'ch'], 'pubsub|numsub'],
      [['PUBSUB', 'CHANNELS'], 'pubsub|channels'], [['MULTI'], 'multi'], [['SELECT', '1'], 'select'], [['DBSIZE'], 'dbsize'],
      [['HELLO', '3'], 'hello'], [['CLIENT', 'ID'], 'client|id'], [['ECHO', 'x'], 'echo'], [['get', 'k'], 'get'],
    ]
    for (const [cmd, name] of refused) expect(await on(A, ...cmd), show(cmd)).toBe(notAllowed(name))
    // Unknown commands and wrong arity are found first.
    expect(await on(A, 'NOSUCH', 'x')).toBe("-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n")
    expect(await on(A, 'GET')).toBe("-ERR wrong number of arguments for 'get' command\r\n")
    expect(await on(A, 'PING', 'a', 'b')).toBe("-ERR wrong number of arguments for 'ping' command\r\n")
    expect(await steps([[A, 'PING'], [A, 'PING', 'hi'], [A, 'ping', '']])).toEqual([SUB_PONG(), SUB_PONG('hi'), SUB_PONG('')])
    // Still subscribed after all that, and still counted.
    expect(await on(P, 'PUBLISH', 'ch', 'still')).toBe(int(1))
    expect((await read(A, 1))[0]).toBe(msg(2, 'ch', 'still'))
    // A shard subscription alone is subscribed mode too.
    expect(await on(A, 'UNSUBSCRIBE')).toBe(conf(2, 'unsubscribe', 'ch', 0))
    expect(await on(A, 'SSUBSCRIBE', 's')).toBe(conf(2, 'ssubscribe', 's', 1))
    expect(await on(A, 'SET', 'k', 'v')).toBe(notAllowed('set'))
    expect(await on(A, 'PING')).toBe(SUB_PONG())
  })

  it("a message published before the subscriber's PING arrives before PING's reply (many rounds)", async () => {
    const P = await client('P')
    expect(await on(A, 'SUBSCRIBE', 'ch')).toBe(conf(2, 'subscribe', 'ch', 1))
    for (let i = 0; i < 200; i++) {
      expect(await on(P, 'PUBLISH', 'ch', `m${i}`)).toBe(int(1))
      // PUBLISH has answered, so the message is already the subscriber's: it comes first.
      expect(await onN(A, 2, ['PING'])).toEqual([msg(2, 'ch', `m${i}`), SUB_PONG()])
    }
  })

  it('commands pipelined after SUBSCRIBE in the same write are refused too; QUIT answers +OK and closes', async () => {
    const bytes = Buffer.concat([['SUBSCRIBE', 'a', 'b'], ['GET', 'k'], ['PING'], ['PSUBSCRIBE', 'p*'], ['QUIT'], ['PING']].map(c => encodeCommand(c)))
    expect(await sameUntilClose(bytes)).toBe(
      confs(2, 'subscribe', [['a', 1], ['b', 2]]) + notAllowed('get') + SUB_PONG() + conf(2, 'psubscribe', 'p*', 3) + OK)
  })
})

describe('RESP3 subscriber', () => {
  it('runs GET, SET and other commands between messages; PING is +PONG', async () => {
    await hello3(A)
    const P = await clientResp('P', 3)
    expect(await on(A, 'SUBSCRIBE', 'ch')).toBe(conf(3, 'subscribe', 'ch', 1))
    expect(await on(A, 'SET', 'k', 'v1')).toBe(OK)
    expect(await on(P, 'PUBLISH', 'ch', 'm1')).toBe(int(1))
    expect((await read(A, 1))[0]).toBe(msg(3, 'ch', 'm1'))
    const r = await steps([
      [A, 'GET', 'k'], [A, 'INCR', 'n'], [A, 'PING'], [A, 'PING', 'x'], [A, 'PUBSUB', 'NUMSUB', 'ch'], [A, 'CLIENT', 'SETNAME', 'sub'],
      [A, 'SELECT', '1'], [A, 'GET', 'k'], [A, 'SELECT', '0'],
    ])
    expect(r).toEqual([bulk('v1'), int(1), PONG, bulk('x'), `*2\r\n${bulk('ch')}:1\r\n`, OK, OK, '_\r\n', OK])
    expect(await on(P, 'PUBLISH', 'ch', 'm2')).toBe(int(1))
    expect((await read(A, 1))[0]).toBe(msg(3, 'ch', 'm2'))
    expect(await on(A, 'MGET', 'k', 'n')).toBe(`*2\r\n${bulk('v1')}${bulk('1')}`)
  })

  it('a message published before the subscriber sends a command arrives before that command\'s reply', async () => {
    await hello3(A)
    const P = await clientResp('P', 3)
    await steps([[A, 'SUBSCRIBE', 'ch'], [A, 'SET', 'k', 'v']])
    // Many rounds: with several I/O threads an ordering slip shows in some rounds only.
    for (let i = 0; i < 200; i++) {
      expect(await on(P, 'PUBLISH', 'ch', `m${i}`)).toBe(int(1))
      // PUBLISH has answered, so the message is already the subscriber's: it comes first.
      expect(await onN(A, 2, ['GET', 'k'])).toEqual([msg(3, 'ch', `m${i}`), bulk('v')])
    }
  })

  it('a subscriber that publishes to its own channel gets the message before PUBLISH\'s reply', async () => {
    await hello3(A)
    expect(await on(A, 'SUBSCRIBE', 'ch')).toBe(conf(3, 'subscribe', 'ch', 1))
    expect(await onN(A, 2, ['PUBLISH', 'ch', 'self'])).toEqual([msg(3, 'ch', 'self'), int(1)])
    // Pipelined with more commands behind it.
    const bytes = Buffer.concat([['PUBLISH', 'ch', 'again'], ['PING'], ['GET', 'k']].map(c => encodeCommand(c)))
    A.f.send(bytes)
    A.r.send(bytes)
    expect(await read(A, 4, joined, 'PUBLISH; PING; GET pipelined')).toEqual([msg(3, 'ch', 'again'), int(1), PONG, '_\r\n'])
  })
})

describe('RESP2 and RESP3 subscribers together', () => {
  it('each gets its own framing of the same message', async () => {
    const S2 = await clientResp('S2', 2)
    const S3 = await clientResp('S3', 3)
    const P = await clientResp('P', 2)
    await steps([[S2, 'SUBSCRIBE', 'ch'], [S2, 'PSUBSCRIBE', 'c?'], [S3, 'SUBSCRIBE', 'ch'], [S3, 'PSUBSCRIBE', 'c?'], [S3, 'SSUBSCRIBE', 'ch'], [S2, 'SSUBSCRIBE', 'ch']])
    expect(await on(P, 'PUBLISH', 'ch', 'm')).toBe(int(4))
    expect(await read(S2, 2)).toEqual([msg(2, 'ch', 'm'), pmsg(2, 'c?', 'ch', 'm')])
    expect(await read(S3, 2)).toEqual([msg(3, 'ch', 'm'), pmsg(3, 'c?', 'ch', 'm')])
    expect(await on(P, 'SPUBLISH', 'ch', 's')).toBe(int(2))
    expect(await read(S2, 1)).toEqual([smsg(2, 'ch', 's')])
    expect(await read(S3, 1)).toEqual([smsg(3, 'ch', 's')])
  })
})

describe('transactions', () => {
  // Redis 7.0 runs SUBSCRIBE queued in MULTI: EXEC's reply holds the confirmation, and the client
  // is subscribed afterwards.
  it('SUBSCRIBE inside MULTI: EXEC subscribes the client', async () => {
    const P = await client('P')
    const r = await steps([[A, 'MULTI'], [A, 'SUBSCRIBE', 'tx'], [A, 'EXEC']])
    expect(r).toEqual([OK, '+QUEUED\r\n', `*1\r\n${conf(2, 'subscribe', 'tx', 1)}`])
    expect(await on(P, 'PUBLISH', 'tx', 'm')).toBe(int(1))
    expect((await read(A, 1))[0]).toBe(msg(2, 'tx', 'm'))
    expect(await on(A, 'GET', 'k')).toBe(notAllowed('get'))
  })

  it('SSUBSCRIBE inside MULTI: an error in EXEC (no blocking client there), which INFO errorstats counts; outside, it subscribes', async () => {
    expect(await on(A, 'CONFIG', 'RESETSTAT')).toBe(OK)
    const r = await steps([[A, 'MULTI'], [A, 'SSUBSCRIBE', 'sc'], [A, 'PING'], [A, 'EXEC']])
    expect(r[3]).toBe("*2\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n+PONG\r\n")
    expect(await on(A, 'PUBSUB', 'SHARDNUMSUB', 'sc')).toBe(`*2\r\n${bulk('sc')}:0\r\n`)
    expect(await on(A, 'INFO', 'errorstats')).toMatch(/errorstat_ERR:count=1\r\n/)
    expect(await on(A, 'SSUBSCRIBE', 'sc')).toBe(conf(2, 'ssubscribe', 'sc', 1))
  })
})

describe('client-output-buffer-limit (CONFIG)', () => {
  it('GET, SET with units and several classes, and the three errors, as Redis', async () => {
    try {
      for (const v of ['pubsub 1mb 512kb 10', 'normal 0 0 0 pubsub 64mb 16mb 30', 'replica 1 1 1', 'pubsub 1 2', 'foo 1 2 3', 'master 1 1 1', 'pubsub x 2 3', 'pubsub -1 0 0', 'pubsub 1 1 abc']) {
        await on(A, 'CONFIG', 'SET', 'client-output-buffer-limit', v)
        await on(A, 'CONFIG', 'GET', 'client-output-buffer-limit')
      }
    } finally {
      await on(A, 'CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60')
    }
  })
})
