// The undo log of a script run inside a shard worker (scripting/undo.ts), on a Shard in-process:
// every type comes back as it was (value, TTL, encoding, access clock), a key the run created
// goes, a key kept twice comes back as it was before the first write.
import { beforeEach, describe, expect, it } from 'vitest'
import { Shard } from '../../../src/storage/shard.js'
import { UndoLog } from '../../../src/scripting/undo.js'
import { argvOf, decode, type Reply } from '../helpers/run.js'
import { keyHash } from '../../../src/storage/hash.js'
import { commandByName } from '../../../src/commands/table.js'
import { ReplyWriter } from '../../../src/protocol/resp-writer.js'

const T0 = 1_700_000_000_000
let shard: Shard
const b = (s: string): Buffer => Buffer.from(s, 'latin1')

beforeEach(() => {
  shard = new Shard()
  shard.clock = () => T0
})

const out = new ReplyWriter(64)

/** A command of any family run on the shard (OBJECT ENCODING by its subcommand row). */
function run (sh: Shard, args: string[]): Reply {
  const top = commandByName(args[0].toLowerCase())
  const sub = top.subIndex?.get(Buffer.from(args[1] ?? ''), 0, (args[1] ?? '').length)
  const cmd = sub ?? top
  out.reset()
  cmd.run?.(sh, argvOf(args), out)
  return decode(Buffer.from(out.buf.subarray(0, out.len)))
}

function keep (undo: UndoLog, db: number, key: string): void {
  const k = b(key)
  undo.save(shard, db, k, 0, k.length)
}

/** What a comparison reads back of a key: its type, value and TTL, through commands. */
function view (key: string): unknown[] {
  const type = run(shard, ['TYPE', key]) as { status: string }
  const value = type.status === 'string' ? run(shard, ['GET', key])
    : type.status === 'list' ? run(shard, ['LRANGE', key, '0', '-1'])
      : type.status === 'hash' ? run(shard, ['HGETALL', key])
        : type.status === 'set' ? run(shard, ['SMEMBERS', key])
          : type.status === 'zset' ? run(shard, ['ZRANGE', key, '0', '-1', 'WITHSCORES'])
            : type.status === 'stream' ? run(shard, ['XRANGE', key, '-', '+']) : null
  return [type, value, run(shard, ['PTTL', key]), run(shard, ['OBJECT', 'ENCODING', key])]
}

describe('UndoLog', () => {
  it('puts every type back as it was, and removes what the run created', () => {
    run(shard, ['SET', 's', 'abc', 'PX', '90000'])
    run(shard, ['SET', 'n', '12'])
    run(shard, ['RPUSH', 'l', 'a', 'b'])
    run(shard, ['HSET', 'h', 'f', 'v'])
    run(shard, ['SADD', 'st', '1', '2'])
    run(shard, ['ZADD', 'z', '1', 'a'])
    run(shard, ['XADD', 'x', '1-1', 'f', 'v'])
    const keys = ['s', 'n', 'l', 'h', 'st', 'z', 'x', 'fresh']
    const before = keys.map(view)
    const undo = new UndoLog()
    for (const k of keys) keep(undo, 0, k)
    run(shard, ['APPEND', 's', 'def'])
    run(shard, ['INCR', 'n'])
    run(shard, ['RPUSH', 'l', 'c'])
    run(shard, ['DEL', 'h'])
    run(shard, ['SADD', 'st', 'x'])
    run(shard, ['ZADD', 'z', '2', 'b'])
    run(shard, ['XADD', 'x', '2-1', 'g', 'w'])
    run(shard, ['SET', 'fresh', 'new'])
    expect(keys.map(view)).not.toEqual(before)
    expect(undo.restore(shard)).toBe(true)
    expect(keys.map(view)).toEqual(before)
    expect(run(shard, ['DBSIZE'])).toBe(7)
  })

  it('a key kept again later in the run comes back as it was before its first write; other databases too', () => {
    run(shard, ['SET', 'k', 'v1'])
    const undo = new UndoLog()
    keep(undo, 0, 'k')
    run(shard, ['SET', 'k', 'v2'])
    keep(undo, 0, 'k')
    run(shard, ['SET', 'k', 'v3'])
    shard.select(5)
    run(shard, ['SET', 'k', 'five'])
    shard.select(0)
    keep(undo, 5, 'k')
    shard.select(5)
    run(shard, ['DEL', 'k'])
    shard.select(0)
    undo.restore(shard)
    expect(run(shard, ['GET', 'k'])).toEqual(b('v1'))
    shard.select(5)
    expect(run(shard, ['GET', 'k'])).toEqual(b('five'))
  })

  it('keeps no value too big to copy: a long list, a big string', () => {
    run(shard, ['RPUSH', 'l', ...Array.from({ length: 129 }, (_, i) => `e${i}`)])
    run(shard, ['SET', 's', 'x'.repeat(16385)])
    run(shard, ['SET', 'ok', 'x'.repeat(16384)])
    const undo = new UndoLog()
    expect([undo.save(shard, 0, b('l'), 0, 1), undo.save(shard, 0, b('s'), 0, 1), undo.save(shard, 0, b('ok'), 0, 2)]).toEqual([false, false, true])
  })

  it('keeps the access clock, and finds keys kept already past the scan limit', () => {
    run(shard, ['SET', 'c', 'v'])
    const ks = shard.ks
    const e = ks.find(b('c'), 0, 1, keyHash(b('c'), 0, 1))
    ks.setClock(e, 12345)
    const undo = new UndoLog()
    for (let i = 0; i < 40; i++) keep(undo, 0, `k${i}`)
    keep(undo, 0, 'c')
    run(shard, ['SET', 'c', 'w'])
    for (let i = 0; i < 40; i++) { run(shard, ['SET', `k${i}`, 'x']); keep(undo, 0, `k${i}`) }
    undo.restore(shard)
    const e2 = ks.find(b('c'), 0, 1, keyHash(b('c'), 0, 1))
    expect(ks.clock(e2)).toBe(12345)
    expect(run(shard, ['DBSIZE'])).toBe(1)
    undo.clear()
    expect(undo.isEmpty).toBe(true)
  })
})
