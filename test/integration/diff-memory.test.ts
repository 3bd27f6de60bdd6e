// MEMORY STATS, DOCTOR, PURGE, MALLOC-STATS and HELP against a real redis-server 7.0.15 over 4
// shards: the same fields in the same order (the figures are each server's own), the same
// texts where they are Redis's (HELP, DOCTOR of a nearly empty instance), the same errors.
import { describe, expect, it } from 'vitest'
import { useDiffPair, text } from './helpers/diff.js'
import { RawClient } from './helpers/raw.js'

const pair = useDiffPair({ shards: 4 })

async function both (run: (c: RawClient) => Promise<string[]>): Promise<[string[], string[]]> {
  const [f, r] = await Promise.all([RawClient.connect(pair.flash.port, pair.flash.host), RawClient.connect(pair.redis.port, pair.redis.host)])
  try {
    return await Promise.all([run(f), run(r)]) as [string[], string[]]
  } finally {
    f.close()
    r.close()
  }
}

/** The field names of a MEMORY STATS reply (RESP2 flat array or RESP3 map), nested db maps included. */
function statNames (reply: string): string[] {
  return [...reply.matchAll(/\$\d+\r\n([a-z][a-z0-9.-]*)\r\n/g)].map(m => m[1])
}

describe('MEMORY', () => {
  it('HELP, PURGE, DOCTOR of a nearly empty instance and wrong calls answer as Redis', async () => {
    const [a, b] = await both(async c => {
      const out: string[] = []
      for (const cmd of [['MEMORY', 'HELP'], ['MEMORY', 'PURGE'], ['MEMORY', 'DOCTOR'], ['MEMORY', 'nosuch'], ['MEMORY', 'STATS', 'x'],
        ['MEMORY', 'DOCTOR', 'x'], ['MEMORY', 'PURGE', 'x'], ['MEMORY', 'MALLOC-STATS', 'x'], ['MEMORY']]) out.push(text(await c.command(...cmd)))
      return out
    })
    expect(a).toEqual(b)
  })

  it('STATS has Redis\'s fields in Redis\'s order, in RESP2 and RESP3, with a db entry per database holding keys', async () => {
    const [a, b] = await both(async c => {
      await c.command('FLUSHALL')
      for (let i = 0; i < 50; i++) await c.command('SET', `mem:${i}`, 'v')
      await c.command('SELECT', '3')
      await c.command('SET', 'mem:x', 'v')
      await c.command('SELECT', '0')
      const out = [statNames(text(await c.command('MEMORY', 'STATS')))]
      await c.command('HELLO', '3')
      const r3 = text(await c.command('MEMORY', 'STATS'))
      out.push(statNames(r3), [r3.slice(0, 4)])
      const keys = /keys\.count\r\n:(\d+)/.exec(r3)?.[1] ?? ''
      out.push([keys])
      return out.map(x => x.join(' '))
    })
    expect(a).toEqual(b)
    expect(a[3]).toBe('51')
  })
})
