// Scenarios with several clients, each one a connection to Redis and one to FlashKV driven
// with the same commands in the same order (the differential tests of transactions, blocking,
// pub/sub and keyspace events). Call useSides(pair) at the top of a test file.
import { afterEach, expect } from 'vitest'

import { show, text, type Arg, type DiffPair } from './diff.js'
import { RawClient, encodeCommand } from './raw.js'

/** One client of the scenario: a connection to each server, driven with the same commands. */
export interface Side { readonly name: string, readonly r: RawClient, readonly f: RawClient }

/** A step: a command on one client, or a pause (ms) on both servers alike. */
export type Step = [Side, ...Arg[]] | number

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Sends one command on `side` to both servers; the replies must be identical. Returns Redis's. */
export async function on (side: Side, ...args: Arg[]): Promise<string> {
  const [a, b] = await Promise.all([side.f.command(...args), side.r.command(...args)])
  expect(text(a), `client ${side.name}: reply to ${show(args)}`).toBe(text(b))
  return text(b)
}

/** Runs the steps in order (one at a time, so both servers see the same interleaving). */
export async function steps (list: readonly Step[]): Promise<string[]> {
  const replies: string[] = []
  for (const s of list) {
    if (typeof s === 'number') await sleep(s)
    else replies.push(await on(s[0], ...s.slice(1) as Arg[]))
  }
  return replies
}

/** Sends a command on `side` to both servers without reading its reply (one that blocks). */
export function send (side: Side, ...args: Arg[]): void {
  const bytes = encodeCommand(args)
  side.f.send(bytes)
  side.r.send(bytes)
}

/**
 * The test's own client A (pair.r and pair.f, fresh for every test) and a maker of more
 * clients, each closed after its test.
 */
export function useSides (pair: DiffPair): { A: Side, client: (name?: string) => Promise<Side>, extra: RawClient[] } {
  const extra: RawClient[] = []
  afterEach(() => { for (const c of extra.splice(0)) c.close() })
  const A: Side = { name: 'A', get r () { return pair.r }, get f () { return pair.f } }
  async function client (name = 'B'): Promise<Side> {
    const [r, f] = await Promise.all([
      RawClient.connect(pair.redis.port, pair.redis.host), RawClient.connect(pair.flash.port, pair.flash.host),
    ])
    extra.push(r, f)
    return { name, r, f }
  }
  return { A, client, extra }
}

/** HELLO 3 on both servers; its reply (server name, version, client id) is read, not compared. */
export async function hello3 (side: Side): Promise<void> {
  const [a, b] = await Promise.all([side.f.command('HELLO', '3'), side.r.command('HELLO', '3')])
  expect(text(a).startsWith('%')).toBe(true)
  expect(text(b).startsWith('%')).toBe(true)
}
