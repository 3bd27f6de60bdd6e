// ROLE and COMMAND LIST against a real redis-server 7.0.15. COMMAND LIST comes in each server's
// own order, so lists compare sorted; the full list is a subset of Redis's (FlashKV lists what it
// supports), and every filter gives what Redis gives for the commands both have.
import { describe, expect, it } from 'vitest'
import { useDiffPair, text } from './helpers/diff.js'

const pair = useDiffPair({ shards: 2 })

/** The bulk strings of an array reply, sorted. */
function names (reply: string): string[] {
  return reply.split('\r\n').filter((l, i, all) => i > 0 && all[i - 1].startsWith('$')).sort()
}

describe('ROLE and COMMAND LIST', () => {
  it('ROLE: a master at offset 0 with no replicas', async () => {
    await pair.sequence([['ROLE'], ['ROLE', 'x']])
  })

  it('COMMAND LIST with and without FILTERBY, and its errors', async () => {
    await pair.sequence([
      ['COMMAND', 'LIST', 'FILTERBY', 'BOGUS', 'x'], ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN'], ['COMMAND', 'LIST', 'EXTRA'],
      ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'], ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuch'],
    ])
    const all = async (...a: string[]): Promise<[string[], string[]]> =>
      [names(text(await pair.f.command(...a))), names(text(await pair.r.command(...a)))]
    const [mine, theirs] = await all('COMMAND', 'LIST')
    // CLIENT SETINFO is Redis 7.2's; clients send it on connect, so it is answered here.
    expect(mine.filter(n => !theirs.includes(n))).toEqual(['client|setinfo'])
    expect(mine.length).toBeGreaterThan(250)
    for (const filter of [['PATTERN', 'x*'], ['PATTERN', 'CLIENT|*'], ['ACLCAT', 'scripting'], ['ACLCAT', 'stream'], ['ACLCAT', 'HYPERLOGLOG']]) {
      const [m, t] = await all('COMMAND', 'LIST', 'FILTERBY', ...filter)
      expect(m.filter(n => theirs.includes(n)), filter.join(' ')).toEqual(t.filter(n => mine.includes(n)))
      expect(m.length, filter.join(' ')).toBeGreaterThan(0)
    }
  })
})
