// The undo log of a script run inside a shard worker (scripting/undo.ts), on a Shard in-process:
// every type comes back as it was (value, TTL, encoding, access clock), a key the run created
// goes, a key kept twice comes back as it was before the first write; big lists, sorted sets and
// streams come back through their inverse commands and kept blocks, with nothing leaked.
import { beforeEach, describe, expect, it } from 'vitest'
import { Shard } from '../../../src/storage/shard.js'
import { UndoLog, SAVED, BIG } from '../../../src/scripting/undo.js'
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

/** The worker's runUndoOp: an inverse command run on the shard in database db. */
function runOp (db: number, parts: Buffer[]): void {
  const was = shard.dbIndex
  shard.select(db)
  run(shard, parts.map(p => p.toString('latin1')))
  shard.select(was)
}

/**
 * A write as the worker runs it inside an undoable script: its keys kept (save), a big one by
 * planBig, the command, then finishBig. False: the log cannot undo it (the run would stop).
 */
function write (undo: UndoLog, args: string[], keys = [1]): boolean {
  let isBig = false
  for (const k of keys) if (undo.save(shard, 0, b(args[k]), 0, args[k].length) === BIG) isBig = true
  const cmd = commandByName(args[0].toLowerCase())
  const plan = isBig ? undo.planBig(shard, cmd, argvOf(args), 0) : null
  if (isBig && plan === null) return false
  out.reset()
  cmd.run?.(shard, argvOf(args), out)
  if (plan !== null) undo.finishBig(plan, out.buf, 0, out.len)
  return true
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
    expect(undo.restore(shard, runOp)).toBe(true)
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
    undo.restore(shard, runOp)
    expect(run(shard, ['GET', 'k'])).toEqual(b('v1'))
    shard.select(5)
    expect(run(shard, ['GET', 'k'])).toEqual(b('five'))
  })

  it('keeps no value too big to copy: a long list, a big string', () => {
    run(shard, ['RPUSH', 'l', ...Array.from({ length: 129 }, (_, i) => `e${i}`)])
    run(shard, ['SET', 's', 'x'.repeat(16385)])
    run(shard, ['SET', 'ok', 'x'.repeat(16384)])
    const undo = new UndoLog()
    expect([undo.save(shard, 0, b('l'), 0, 1), undo.save(shard, 0, b('s'), 0, 1), undo.save(shard, 0, b('ok'), 0, 2)]).toEqual([BIG, BIG, SAVED])
    // A big string has no inverse here: the run stops.
    expect(undo.planBig(shard, commandByName('append'), argvOf(['APPEND', 's', 'y']), 0)).toBe(null)
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
    undo.restore(shard, runOp)
    const e2 = ks.find(b('c'), 0, 1, keyHash(b('c'), 0, 1))
    expect(ks.clock(e2)).toBe(12345)
    expect(run(shard, ['DBSIZE'])).toBe(1)
    undo.clear()
    expect(undo.isEmpty).toBe(true)
  })

  it('big lists and sorted sets come back through their inverse commands, with their TTL, clock and encoding', () => {
    run(shard, ['RPUSH', 'bl', ...Array.from({ length: 200 }, (_, i) => `e${i}`)])
    run(shard, ['PEXPIRE', 'bl', '90000'])
    run(shard, ['RPUSH', 'sl', 'a'])
    run(shard, ['ZADD', 'bz', ...Array.from({ length: 200 }, (_, i) => [String(i), `m${i}`]).flat()])
    const keys = ['bl', 'sl', 'bz']
    const before = keys.map(view)
    // After the reads above, which set it.
    shard.ks.setClock(shard.ks.find(b('bl'), 0, 2, keyHash(b('bl'), 0, 2)), 777)
    const used = shard.ks.arena.used
    const undo = new UndoLog()
    expect(write(undo, ['LPUSH', 'bl', 'x', 'y'])).toBe(true)
    expect(write(undo, ['RPOP', 'bl', '3'])).toBe(true)
    expect(write(undo, ['RPOPLPUSH', 'sl', 'bl'], [1, 2])).toBe(true)
    expect(write(undo, ['LMOVE', 'bl', 'sl', 'LEFT', 'RIGHT'], [1, 2])).toBe(true)
    // A later write to a key an inverse command needs: kept again, so that it is undone first.
    expect(write(undo, ['RPUSH', 'sl', 'later'])).toBe(true)
    expect(write(undo, ['ZADD', 'bz', '5.5', 'm3', '1', 'new'])).toBe(true)
    expect(write(undo, ['ZREM', 'bz', 'm7', 'absent'])).toBe(true)
    expect(write(undo, ['ZREMRANGEBYRANK', 'bz', '0', '9'])).toBe(true)
    // Pops that may empty a big value (its TTL would go) stop the run.
    expect(write(undo, ['LPOP', 'bl', '500'])).toBe(false)
    expect(keys.map(view)).not.toEqual(before)
    expect(undo.restore(shard, runOp)).toBe(true)
    // Before the reads below, which set it.
    expect(shard.ks.clock(shard.ks.find(b('bl'), 0, 2, keyHash(b('bl'), 0, 2)))).toBe(777)
    expect(keys.map(view)).toEqual(before)
    expect(shard.ks.arena.used).toBe(used)
  })

  it('a big stream comes back from its kept blocks after appends and approximate trims; an exact trim stops the run; nothing leaks', () => {
    for (let i = 1; i <= 350; i++) run(shard, ['XADD', 'bx', `1-${i}`, 'f', String(i)])
    run(shard, ['PEXPIRE', 'bx', '90000'])
    const info = (): unknown => run(shard, ['XINFO', 'STREAM', 'bx'])
    const before = [view('bx'), info()]
    const used = shard.ks.arena.used
    const undo = new UndoLog()
    expect(write(undo, ['XADD', 'bx', '2-1', 'f', 'v'])).toBe(true)
    expect(write(undo, ['XADD', 'bx', 'MAXLEN', '~', '150', '2-2', 'f', 'w'])).toBe(true)
    for (let i = 3; i < 300; i++) expect(write(undo, ['XADD', 'bx', `2-${i}`, 'g', 'x'])).toBe(true)
    expect(write(undo, ['XTRIM', 'bx', 'MINID', '~', '2-100'])).toBe(true)
    expect(write(undo, ['XTRIM', 'bx', 'MAXLEN', '5'])).toBe(false)
    expect(write(undo, ['XDEL', 'bx', '2-5'])).toBe(false)
    expect([view('bx'), info()]).not.toEqual(before)
    expect(undo.restore(shard, runOp)).toBe(true)
    expect([view('bx'), info()]).toEqual(before)
    expect(shard.ks.arena.used).toBe(used)
    // A run that ends kept: the blocks it freed go at its end.
    const plain = new Shard()
    plain.clock = () => T0
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 120; i++) expect(write(undo, ['XADD', 'bx', 'MAXLEN', '~', '200', `${3 + round}-${i}`, 'h', 'y'])).toBe(true)
      undo.clear()
    }
    for (let i = 1; i <= 350; i++) run(plain, ['XADD', 'bx', `1-${i}`, 'f', String(i)])
    for (let round = 0; round < 3; round++) for (let i = 0; i < 120; i++) run(plain, ['XADD', 'bx', 'MAXLEN', '~', '200', `${3 + round}-${i}`, 'h', 'y'])
    expect(view('bx')).toEqual([run(plain, ['TYPE', 'bx']), run(plain, ['XRANGE', 'bx', '-', '+']), run(shard, ['PTTL', 'bx']), run(plain, ['OBJECT', 'ENCODING', 'bx'])])
    expect(shard.ks.arena.used).toBe(plain.ks.arena.used)
  })
})
