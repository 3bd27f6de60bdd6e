// A compaction made a step at a time (storage/db-copy.ts, Shard.copyStep): commands of every type
// run between the steps, as the worker runs batches between them, and touch their keys first as
// the worker does (touchForCopy). Every read must then see what a shard that never compacted
// sees, after the database adopted the copy as before; and a copy dropped half-way changes nothing.

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DATABASES, Shard } from '../../../src/storage/shard.js'
import { argvOf, decode, type Reply } from '../helpers/run.js'
import { commandOfArgs } from '../../../src/commands/table.js'
import { forEachKey, forEachWrittenKey } from '../../../src/commands/written-keys.js'
import { ReplyWriter } from '../../../src/protocol/resp-writer.js'
import { borrow, lendOf, takeBack, type LentShard } from '../../../src/server/engine.js'
import { accessTime } from '../../../src/storage/eviction.js'

const T0 = 1_700_000_000_000
let now = T0
let shard: Shard
/** The same commands, never compacted. */
let ref: Shard

beforeEach(() => {
  lent = null
  now = T0
  // Accesses are stamped with the worker's cached clock: the test's, or the two shards' stamps
  // straddle a second of the wall clock now and then, and their IDLETIMEs differ by one.
  accessTime.ms = now
  shard = new Shard()
  shard.clock = () => now
  ref = new Shard()
  ref.clock = () => now
})
afterEach(() => { accessTime.ms = 0 })

const out = new ReplyWriter(64)
/** While set, `shard`'s databases are lent (a multi-shard transaction's hold): its commands run there. */
let lent: LentShard | null = null

/** Any shard command of the table ('xgroup|create', ...), its keys touched first as the worker does. */
function exec (s: Shard, name: string, ...args: string[]): Reply {
  out.reset()
  const words = [...name.split('|'), ...args]
  const cmd = commandOfArgs(words.map(a => Buffer.from(a, 'latin1')))
  if (cmd?.run === undefined) throw new Error(`no shard handler for ${words.slice(0, 2).join(' ')}`)
  if (s === shard && lent !== null) return decode(lent.run(cmd, 0, false, words.slice(1).map(a => Buffer.from(a, 'latin1'))))
  const argv = argvOf(words)
  // A Buffer, as a script's redis.call passes its arguments (its slice is a view)...
  argv.buf = Buffer.from(argv.buf.buffer, argv.buf.byteOffset, argv.buf.length)
  if (s.copying !== null) {
    if (cmd.isWrite) forEachWrittenKey(cmd, argv, s.dbIndex, DATABASES, (db, buf, start, len) => { s.touchCopy(db, buf, start, len, true) })
    else forEachKey(cmd, argv, (buf, start, len) => { s.touchCopy(s.dbIndex, buf, start, len, false) })
  }
  cmd.run(s, argv, out)
  // ...which, as a ring's, the next command overwrites.
  argv.buf.fill(0x3f)
  return decode(Buffer.from(out.buf.subarray(0, out.len)))
}

/** Runs on both shards; their replies must agree. */
function both (name: string, ...args: string[]): Reply {
  const r = exec(shard, name, ...args)
  expect(exec(ref, name, ...args), `${name} ${args.join(' ')}`).toEqual(r)
  return r
}

let seed = 4242
const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 16) % n }
const NAMES = 1500

/** A random write of some type to one of NAMES keys (or a new key, so the index grows). */
function randomWrite (tag: string): void {
  const k = `r:${rnd(NAMES)}`
  const kind = rnd(110)
  const x = String(rnd(1000))
  if (kind < 25) both('set', k, 'v'.repeat(rnd(40) === 0 ? 3000 + rnd(9000) : rnd(300)))
  else if (kind < 38) both('del', k)
  else if (kind < 46) both('rpush', k, x)
  else if (kind < 50) both('lpop', k)
  else if (kind < 58) both('hset', k, `f${x}`, 'h'.repeat(rnd(200)))
  else if (kind < 62) both('hdel', k, `f${x}`)
  else if (kind < 68) both('sadd', k, rnd(2) === 0 ? x : `m${x}`)
  else if (kind < 74) both('zadd', k, String(rnd(50)), `m${x}`)
  else if (kind < 78) both('zrem', k, `m${x}`)
  else if (kind < 84) both('append', k, 'a'.repeat(rnd(500)))
  // Short TTLs too: keys expire while the copy runs, and reads delete them (writes.beforeRemove).
  else if (kind < 90) both('pexpire', k, String(rnd(3) === 0 ? 1 + rnd(40) : 100_000 + rnd(100_000)))
  else if (kind < 94) both('setrange', k, String(rnd(100)), 'r'.repeat(rnd(50)))
  else if (kind < 98) both('set', `n:${tag}:${rnd(100000)}`, x)
  else if (kind < 100) both('zadd', k, ...Array.from({ length: 60 }, (_, i) => [String(rnd(500)), `Z${x}:${i}`]).flat())
  else if (kind < 101) both('hset', k, ...Array.from({ length: 20 }, (_, i) => [`F${x}:${i}`, 'H'.repeat(rnd(100))]).flat())
  else if (kind < 104) both('xadd', k, '*', 'f', x, 'g', 's'.repeat(rnd(80)))
  else if (kind < 105) both('xgroup|create', k, `g${rnd(3)}`, '0')
  else if (kind < 107) both('xreadgroup', 'group', `g${rnd(3)}`, `c${rnd(4)}`, 'count', String(1 + rnd(20)), 'streams', k, '>')
  else if (kind < 108) both('copy', k, `r:${rnd(NAMES)}`, 'replace')
  else if (kind < 109) both('rename', k, `r:${rnd(NAMES)}`)
  else both('get', k)
  now += rnd(3)
  accessTime.ms = now
}

/** Every key as a read sees it, on both shards (which must agree); field and member orders aside. */
function readAll (): void {
  const status = (r: unknown): string => (r as { status?: string }).status ?? ''
  const sorted = (r: Reply): string[] => (r as Buffer[]).map(v => v.toString('latin1')).sort()
  for (let i = 0; i < NAMES; i++) {
    const k = `r:${i}`
    const t = status(both('type', k))
    both('pttl', k)
    both('object|encoding', k)
    if (t === 'string') both('get', k)
    else if (t === 'list') both('lrange', k, '0', '-1')
    else if (t === 'hash') expect(sorted(exec(shard, 'hgetall', k))).toEqual(sorted(exec(ref, 'hgetall', k)))
    else if (t === 'set') expect(sorted(exec(shard, 'smembers', k))).toEqual(sorted(exec(ref, 'smembers', k)))
    else if (t === 'zset') both('zrange', k, '0', '-1', 'withscores')
    else if (t === 'stream') both('xinfo|stream', k, 'full')
  }
  expect(shard.keyCount()).toBe(ref.keyCount())
  expect(shard.expiresCount()).toBe(ref.expiresCount())
  // A key expiry deleted during the copy is gone from it too, not deleted (and counted) again.
  expect(shard.expiredKeys).toBe(ref.expiredKeys)
}

describe('a compaction copied a step at a time (DbCopy)', () => {
  it('keeps what every read sees while writes, deletes and expiry run between its steps', () => {
    for (let i = 0; i < 3000; i++) randomWrite('a')
    // Strings between the collections' blocks, two in three deleted: the arena is more than half free.
    for (let i = 0; i < 12_000; i++) both('set', `s:${i}`, 'x'.repeat(50 + i % 200))
    for (let i = 0; i < 12_000; i++) if (i % 3 !== 0) both('del', `s:${i}`)
    const committed = shard.committedMemory()
    expect(shard.compactIfFragmented(0)).toBe(true)
    const copy = shard.copying
    expect(copy).not.toBeNull()
    const ks = shard.ks
    let steps = 0
    while (shard.copying !== null) {
      for (let j = 0; j < 15; j++) randomWrite('b')
      // Reads carry access clocks over; lazy expiry deletes through the removal hook.
      for (let j = 0; j < 5; j++) both('get', `s:${rnd(12_000)}`)
      for (let j = 0; j < 5; j++) both('exists', `r:${rnd(NAMES)}`)
      if (shard.copyStep(40, 0)) break
      steps++
      expect(shard.copying).toBe(copy)
    }
    // A step at a time: about 6,000 keys, 40 a step.
    expect(steps).toBeGreaterThan(50)
    expect(shard.copying).toBeNull()
    expect(shard.ks).toBe(ks) // the same Keyspace, on the copy's arena now
    expect(shard.ks.arena).toBe(copy?.fresh.arena)
    expect(shard.defragKeys).toBeGreaterThanOrEqual(shard.keyCount())
    expect(shard.committedMemory()).toBeLessThan(committed / 2)
    readAll()
    for (let i = 0; i < 12_000; i += 3) both('strlen', `s:${i}`)
    // Writes go on in the new arena.
    for (let i = 0; i < 2000; i++) randomWrite('c')
    readAll()
  })

  it('stops a slice at its time, counts the copy in used_memory until the old arena goes, and carries a read\'s access clock over', () => {
    for (let i = 0; i < 6000; i++) both('set', `s:${i}`, 'x'.repeat(100))
    for (let i = 0; i < 6000; i++) if (i % 3 !== 0) both('del', `s:${i}`)
    const before = shard.committedMemory()
    shard.compactIfFragmented(0)
    // A slice whose end has passed stops after its first 32 slots, whatever the budget.
    shard.copyStep(1_000_000, 0, 0)
    expect(shard.copying).not.toBeNull()
    expect(shard.defragKeys).toBeGreaterThan(0)
    expect(shard.defragKeys).toBeLessThan(200)
    shard.copyStep(1000, 0)
    expect(shard.copying).not.toBeNull()
    expect(shard.committedMemory()).toBeGreaterThan(before)
    // Reads move access clocks, of keys copied already (about half) and not: the copy follows.
    const key = (i: number): Buffer => Buffer.from(`s:${i}`)
    for (let i = 0; i < 6000; i += 3) {
      shard.ks.setClock(shard.lookupNoTouch(key(i), 0, key(i).length), 777 + i)
      shard.touchCopy(0, key(i), 0, key(i).length, false)
    }
    while (!shard.copyStep(1000, 0)) expect(shard.copying).not.toBeNull()
    expect(shard.committedMemory()).toBeLessThan(before / 2)
    for (let i = 0; i < 6000; i += 3) expect(shard.ks.clock(shard.lookupNoTouch(key(i), 0, key(i).length))).toBe(777 + i)
  })

  it('a copy dropped half-way (FLUSHDB, a BGSAVE\'s cut, maxmemory set) changes nothing; after three interruptions the next compaction copies at once', () => {
    /** Keys enough that deleting nine in ten leaves the arena more than half free. */
    const fill = (tag: string): void => {
      for (let i = 0; i < 20_000; i++) both('set', `${tag}:${i}`, 'x'.repeat(100))
      for (let i = 0; i < 20_000; i++) if (i % 10 !== 0) both('del', `${tag}:${i}`)
    }
    fill('s')
    const committed = shard.committedMemory()
    for (let round = 0; round < 3; round++) {
      expect(shard.compactIfFragmented(0)).toBe(true)
      shard.copyStep(500, 0)
      for (let j = 0; j < 50; j++) randomWrite(`d${round}`)
      expect(shard.copying).not.toBeNull()
      shard.dropCopy(true)
      expect(shard.copying).toBeNull()
      expect(shard.committedMemory()).toBeGreaterThanOrEqual(committed)
      readAll()
    }
    // The fourth: no copy in steps, one in place of it.
    expect(shard.compactIfFragmented(0)).toBe(true)
    expect(shard.copying).toBeNull()
    expect(shard.committedMemory()).toBeLessThan(committed / 2)
    readAll()
    // maxmemory set meanwhile: the copy goes, the data stays.
    fill('t')
    expect(shard.compactIfFragmented(0)).toBe(true)
    expect(shard.copying).not.toBeNull()
    expect(shard.copyStep(100, 1 << 30)).toBe(false)
    expect(shard.copying).toBeNull()
    readAll()
    // FLUSHDB of the database being copied drops it too.
    expect(shard.compactIfFragmented(0)).toBe(true)
    expect(shard.copying).not.toBeNull()
    both('flushdb')
    expect(shard.copying).toBeNull()
    expect(shard.keyCount()).toBe(0)
  })

  it('goes on across a multi-shard transaction\'s hold: the steps report the keys they touch; a FLUSHDB or SWAPDB among them voids it', () => {
    /** The worker's holdForTransaction and release, in one thread: the steps run on the lent databases. */
    const hold = (steps: () => void): void => {
      const l = borrow(lendOf(shard, false), [])
      l.shard.clock = () => now
      lent = l
      try { steps() } finally { lent = null }
      const r = l.finish()
      takeBack(shard, r)
      shard.touchCopyLent(r.copyWritten ?? [], r.copyRead ?? [], r.isCopyVoid === true)
    }
    for (let i = 0; i < 3000; i++) randomWrite('a')
    for (let i = 0; i < 12_000; i++) both('set', `s:${i}`, 'x'.repeat(50 + i % 200))
    for (let i = 0; i < 12_000; i++) if (i % 3 !== 0) both('del', `s:${i}`)
    expect(shard.compactIfFragmented(0)).toBe(true)
    const copy = shard.copying
    let holds = 0
    while (shard.copying !== null) {
      // Writes, deletes, expiry and reads on the lent databases, then on the shard's own.
      hold(() => {
        for (let j = 0; j < 15; j++) randomWrite('b')
        for (let j = 0; j < 5; j++) both('get', `s:${rnd(12_000)}`)
        // Reads that find a key past its TTL delete it (writes.beforeRemove on the lent side).
        for (let j = 0; j < 5; j++) both('exists', `r:${rnd(NAMES)}`)
      })
      holds++
      expect(shard.copying).toBe(copy)
      for (let j = 0; j < 5; j++) randomWrite('c')
      if (shard.copyStep(40, 0)) break
    }
    expect(holds).toBeGreaterThan(50)
    expect(shard.ks.arena).toBe(copy?.fresh.arena)
    readAll()
    // Access clocks the lent steps moved came over with the copy.
    for (let i = 0; i < 12_000; i += 3) both('object|idletime', `s:${i}`)

    // A FLUSHDB, FLUSHALL or SWAPDB in a hold voids the copy (it would copy databases that are gone).
    for (const step of [['flushdb'], ['swapdb', '0', '1'], ['flushall']]) {
      for (let i = 0; i < 20_000; i++) both('set', `t:${i}`, 'x'.repeat(100))
      for (let i = 0; i < 20_000; i++) if (i % 10 !== 0) both('del', `t:${i}`)
      expect(shard.compactIfFragmented(0)).toBe(true)
      shard.copyStep(500, 0)
      expect(shard.copying).not.toBeNull()
      // ...but not a FLUSHDB of another database.
      const flushdb = commandOfArgs([Buffer.from('flushdb')])
      if (flushdb === undefined) throw new Error('no flushdb')
      hold(() => { lent?.run(flushdb, 1, false, []) })
      expect(shard.copying).not.toBeNull()
      hold(() => { both(step[0], ...step.slice(1)) })
      expect(shard.copying).toBeNull()
      readAll()
    }
  })
})
