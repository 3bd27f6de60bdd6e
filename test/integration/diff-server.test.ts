// ROLE, COMMAND LIST and COMMAND GETKEYS/GETKEYSANDFLAGS against a real redis-server 7.0.15. COMMAND LIST comes in each server's
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

describe('COMMAND GETKEYS and GETKEYSANDFLAGS', () => {
  const CASES: string[][] = [
    ['GET', 'k'], ['SET', 'k', 'v', 'EX', '10'], ['MSET', 'a', '1', 'b', '2'], ['MGET', 'a', 'b', 'c'], ['DEL', 'a', 'b'],
    ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'], ['RENAME', 'a', 'b'], ['COPY', 'a', 'b', 'DB', '1'], ['SMOVE', 'a', 'b', 'm'],
    ['ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'], ['ZUNION', '2', 'a', 'b'], ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', '1'],
    ['LMPOP', '2', 'a', 'b', 'LEFT'], ['BLMPOP', '0', '2', 'a', 'b', 'LEFT'], ['BLPOP', 'a', 'b', '0'], ['BZPOPMIN', 'a', '0'],
    ['EVAL', 'return 1', '2', 'a', 'b', 'c'], ['EVAL', 'return 1', '0'], ['FCALL', 'f', '1', 'a'],
    ['XREAD', 'COUNT', '2', 'STREAMS', 'a', 'b', '0', '0'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'a', '>'],
    ['GEORADIUS', 'a', '0', '0', '1', 'km', 'STORE', 'b'], ['GEOSEARCHSTORE', 'd', 's', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
    ['SORT', 'a', 'STORE', 'b'], ['SORT_RO', 'a'], ['BITOP', 'AND', 'd', 'a', 'b'], ['PFMERGE', 'd', 'a', 'b'], ['PFCOUNT', 'a', 'b'],
    ['OBJECT', 'ENCODING', 'a'], ['MEMORY', 'USAGE', 'a'], ['XINFO', 'STREAM', 'a'], ['XGROUP', 'CREATE', 'a', 'g', '$'],
    ['SINTERCARD', '2', 'a', 'b'], ['MIGRATE'], ['NOSUCH', 'a'], ['PING'], ['CONFIG', 'GET', 'x'], ['CONFIG'], ['GET'], ['GET', 'a', 'b'],
    ['ZUNIONSTORE', 'd', '5', 'a'], ['LMPOP', 'x', 'a', 'LEFT'], ['EVAL', 'x', '-1'], ['SET', 'k'], ['XREAD', 'STREAMS', 'a'],
  ]

  it('the keys, and their flags, of commands of every key-spec kind; the errors', async () => {
    for (const c of CASES) {
      await pair.same('COMMAND', 'GETKEYS', ...c)
      await pair.same('COMMAND', 'GETKEYSANDFLAGS', ...c)
    }
    await pair.same('COMMAND', 'GETKEYS')
  })
})
