// Differential harness shared by every test/integration/diff-*.test.ts file: one real
// redis-server and one FlashKV (4 shards) per file, a fresh connection pair and FLUSHALL on both
// before every test, and comparisons of exact reply bytes. Call useDiffPair() at the top level
// of a test file; it registers the vitest hooks and returns the comparison functions.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import { RawClient, encodeCommand } from './raw.js'
import { startRedis } from './redis.js'
import { startFlashKV, type ServerHandle } from './server.js'

export type Arg = string | Buffer

/** Printable form of a command for failure messages (long arguments are shortened). */
export function show (args: readonly Arg[]): string {
  return args.map((a) => {
    const s = typeof a === 'string' ? a : a.toString('latin1')
    return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…(${s.length} bytes)` : s)
  }).join(' ')
}

export function text (b: Buffer): string {
  return b.toString('latin1')
}

// TTL replies are rounded to the nearest second from each server's own clock: where a test
// cannot promise both read the same second, positive TTLs are reduced to their sign.
export const ttlSign = (s: string): string => s.replace(/^:[1-9]\d*\r\n$/, ':<positive>\r\n')

export interface DiffPair {
  readonly redis: ServerHandle
  readonly flash: ServerHandle
  /** The test's connections (fresh for every test). */
  readonly r: RawClient
  readonly f: RawClient
  same: (...args: Arg[]) => Promise<string>
  sameNormalized: (normalize: (reply: string) => string, ...args: Arg[]) => Promise<string>
  sequence: (cmds: readonly Arg[][]) => Promise<void>
  pipeline: (cmds: readonly Arg[][], normalize?: (reply: string, cmd: readonly Arg[]) => string) => Promise<void>
  sameRaw: (bytes: string | Buffer, n: number) => Promise<void>
  sameUntilClose: (bytes: string | Buffer) => Promise<string>
}

export function useDiffPair (opts: { shards?: number, env?: Record<string, string> } = {}): DiffPair {
  let redis: ServerHandle
  let flash: ServerHandle
  let r: RawClient
  let f: RawClient

  beforeAll(async () => {
    // allSettled, so that a server that did start is still stopped in afterAll when the other fails.
    const [a, b] = await Promise.allSettled([startRedis(), startFlashKV({ shards: opts.shards ?? 4, env: opts.env })])
    if (a.status === 'fulfilled') redis = a.value
    if (b.status === 'fulfilled') flash = b.value
    if (a.status === 'rejected') throw a.reason
    if (b.status === 'rejected') throw b.reason
  })

  afterAll(async () => {
    await Promise.all([redis?.stop(), flash?.stop()])
  })

  beforeEach(async () => {
    ;[r, f] = await Promise.all([RawClient.connect(redis.port, redis.host), RawClient.connect(flash.port, flash.host)])
    const [a, b] = await Promise.all([f.command('FLUSHALL'), r.command('FLUSHALL')])
    expect(a.toString('latin1')).toBe('+OK\r\n')
    expect(b.toString('latin1')).toBe('+OK\r\n')
  })

  afterEach(() => {
    r?.close()
    f?.close()
  })

  const sameNormalized = async (normalize: (reply: string) => string, ...args: Arg[]): Promise<string> => {
    const [a, b] = await Promise.all([f.command(...args), r.command(...args)])
    expect(normalize(text(a)), `reply to ${show(args)}`).toBe(normalize(text(b)))
    return text(b)
  }
  const same = async (...args: Arg[]): Promise<string> => await sameNormalized((s) => s, ...args)

  return {
    get redis () { return redis },
    get flash () { return flash },
    get r () { return r },
    get f () { return f },
    same,
    sameNormalized,
    async sequence (cmds) { for (const cmd of cmds) await same(...cmd) },
    async pipeline (cmds, normalize = (s) => s) {
      const bytes = Buffer.concat(cmds.map((c) => encodeCommand(c)))
      f.send(bytes)
      r.send(bytes)
      const [a, b] = await Promise.all([f.readReplies(cmds.length), r.readReplies(cmds.length)])
      for (let i = 0; i < cmds.length; i++) {
        expect(normalize(text(a[i]), cmds[i]), `reply ${i} to ${show(cmds[i])}`).toBe(normalize(text(b[i]), cmds[i]))
      }
    },
    async sameRaw (bytes, n) {
      f.send(bytes)
      r.send(bytes)
      const [a, b] = await Promise.all([f.readReplies(n), r.readReplies(n)])
      const label = show([typeof bytes === 'string' ? bytes : text(bytes)])
      expect(a.map(text), `replies to raw ${label}`).toEqual(b.map(text))
    },
    async sameUntilClose (bytes) {
      const [fc2, rc2] = await Promise.all([RawClient.connect(flash.port, flash.host), RawClient.connect(redis.port, redis.host)])
      try {
        fc2.send(bytes)
        rc2.send(bytes)
        const [a, b] = await Promise.all([fc2.readUntilClose(3000), rc2.readUntilClose(3000)])
        const label = show([typeof bytes === 'string' ? bytes : text(bytes)])
        expect(text(a.data), `bytes received for ${label}`).toBe(text(b.data))
        expect(b.closed, `redis closes after ${label}`).toBe(true)
        expect(a.closed, `flashkv closes after ${label}`).toBe(true)
        return text(b.data)
      } finally {
        fc2.close()
        rc2.close()
      }
    },
  }
}

/**
 * Runs one scenario on each server of the pair at once, each with two fresh connections (say, a
 * busy script's and another client's), and expects the same answers, step by step.
 */
export async function sameOnBoth (pair: DiffPair, scenario: (first: RawClient, second: RawClient) => Promise<string[]>): Promise<void> {
  const run = async (port: number, host: string): Promise<string[]> => {
    const [first, second] = await Promise.all([RawClient.connect(port, host), RawClient.connect(port, host)])
    try {
      return await scenario(first, second)
    } finally {
      first.close()
      second.close()
    }
  }
  const [fromFlash, fromRedis] = await Promise.all([run(pair.flash.port, pair.flash.host), run(pair.redis.port, pair.redis.host)])
  expect(fromFlash).toEqual(fromRedis)
}
