// SCAN, KEYS and RANDOMKEY over the storage: Keyspace.scanStep (dictScan's reverse-binary cursor
// over t0/t1) returns every key present for the whole walk at least once while the table grows
// and rehashes between steps; randomEntry samples live entries, also from a sparse table; the
// shard-level SCAN handler composes the global cursor (shardCursor * shards + shard), parses
// cursors like strtoul, filters MATCH/TYPE/expired keys; copyEntry and swapDbs (MOVE, COPY ... DB,
// SWAPDB) keep values, lists and the encoding flag.

import { beforeEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Keyspace, TYPE_LIST, TYPE_STRING, rev32 } from '../../../src/storage/keyspace.js'
import { Shard } from '../../../src/storage/shard.js'
import { keyHash } from '../../../src/storage/hash.js'
import { listInit, listPush, listFirst, elemNext, elemData, elemLen, HEAD, TAIL, LIST_HEADER_BYTES } from '../../../src/storage/list.js'
import { run, type Reply } from '../helpers/run.js'

interface Internals { t0: Uint32Array, t1: Uint32Array | null, rehashIdx: number }
const internals = (ks: Keyspace): Internals => ks as unknown as Internals

const key = (i: number): Buffer => Buffer.from(`key:${i}`, 'latin1')
const b = (s: string): Buffer => Buffer.from(s, 'latin1')

/** find-then-insert, as the shard does (each find also advances a pending rehash). */
function put (ks: Keyspace, k: Uint8Array): number {
  const h = keyHash(k, 0, k.length)
  if (ks.find(k, 0, k.length, h) !== 0) throw new Error('key already present')
  const e = ks.insert(k, 0, k.length, h, TYPE_STRING, 0)
  if (e === 0) throw new Error('arena full')
  return e
}

function del (ks: Keyspace, k: Uint8Array): void {
  const e = ks.find(k, 0, k.length, keyHash(k, 0, k.length))
  if (e === 0) throw new Error('key missing')
  ks.remove(e)
}

function keyOf (ks: Keyspace, e: number): string {
  const o = ks.keyOffset(e)
  return Buffer.from(ks.arena.u8.subarray(o, o + ks.keyLen(e))).toString('latin1')
}

/** A whole walk; `between` runs after each step (it may insert or delete). */
function walk (ks: Keyspace, between: (step: number) => void = () => {}): { seen: Map<string, number>, steps: number } {
  const seen = new Map<string, number>()
  const found: number[] = []
  let v = 0
  let steps = 0
  do {
    found.length = 0
    v = ks.scanStep(v, found)
    for (const e of found) { const k = keyOf(ks, e); seen.set(k, (seen.get(k) ?? 0) + 1) }
    between(steps++)
    expect(steps).toBeLessThan(1_000_000)
  } while (v !== 0)
  return { seen, steps }
}

describe('rev32', () => {
  it('reverses the 32 bits and is its own inverse', () => {
    expect(rev32(1)).toBe(0x80000000)
    expect(rev32(0x80000000)).toBe(1)
    expect(rev32(0)).toBe(0)
    expect(rev32(0xffffffff)).toBe(0xffffffff)
    expect(rev32(0b1011)).toBe(0xd0000000)
    fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (v) => rev32(rev32(v)) === v))
  })
})

describe('Keyspace.scanStep', () => {
  it('an empty table is walked bucket by bucket and finds nothing', () => {
    const ks = new Keyspace()
    const { seen, steps } = walk(ks)
    expect(seen.size).toBe(0)
    expect(steps).toBe(16)
  })

  it('a stable table: every key exactly once, one step per bucket', () => {
    const ks = new Keyspace()
    for (let i = 0; i < 1000; i++) put(ks, key(i))
    // Let the rehash that the inserts started finish, so the walk sees one table.
    while (internals(ks).rehashIdx >= 0) ks.rehashIdle(1000)
    const { seen, steps } = walk(ks)
    expect(seen.size).toBe(1000)
    for (const n of seen.values()) expect(n).toBe(1)
    expect(steps).toBe(internals(ks).t0.length)
  })

  it('cursors follow the reverse-binary order of dictScan (16 buckets)', () => {
    const ks = new Keyspace()
    const order: number[] = []
    let v = 0
    do { order.push(v); v = ks.scanStep(v, []) } while (v !== 0)
    expect(order).toEqual([0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15])
  })

  it('a walk that starts mid-rehash sees both tables, every key exactly once', () => {
    const ks = new Keyspace()
    for (let i = 0; i < 17; i++) put(ks, key(i)) // 17 > 16 buckets: a rehash to 32 starts
    expect(internals(ks).rehashIdx).toBeGreaterThanOrEqual(0)
    expect(internals(ks).t1).not.toBeNull()
    const { seen } = walk(ks)
    expect(seen.size).toBe(17)
    for (const n of seen.values()) expect(n).toBe(1)
  })

  it('keys present for the whole walk are all returned while the table grows 64-fold', () => {
    const ks = new Keyspace()
    const original = 1000
    for (let i = 0; i < original; i++) put(ks, key(i))
    let next = original
    let sawRehash = false
    // The first 600 steps insert keys (starting and advancing rehashes through find/insert)
    // and delete some of the new ones; the originals must all come back. (A walk never ends
    // while the table keeps growing faster than it is walked.)
    const { seen } = walk(ks, (step) => {
      if (step >= 600) return
      for (let j = 0; j < 150; j++) {
        const k = key(next++)
        put(ks, k)
        if (j % 3 === 0) del(ks, k)
      }
      if (internals(ks).rehashIdx >= 0) sawRehash = true
      if (step % 7 === 0) ks.rehashIdle(50)
    })
    expect(sawRehash).toBe(true)
    expect(internals(ks).t0.length).toBeGreaterThanOrEqual(1024 * 64)
    for (let i = 0; i < original; i++) expect(seen.has(`key:${i}`), `key:${i}`).toBe(true)
  })

  it('property: random inserts/deletes between steps never lose a key present throughout', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 300 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 200 }),
      (initial, ops) => {
        const ks = new Keyspace()
        for (let i = 0; i < initial; i++) put(ks, key(i))
        let next = initial
        const extra: Buffer[] = []
        let op = 0
        const { seen } = walk(ks, () => {
          if (op >= ops.length) return
          const [adds, dels] = ops[op++]
          for (let j = 0; j < adds; j++) { const k = key(next++); put(ks, k); extra.push(k) }
          for (let j = 0; j < dels && extra.length > 0; j++) del(ks, extra.pop() as Buffer)
        })
        for (let i = 0; i < initial; i++) if (!seen.has(`key:${i}`)) return false
        return true
      }), { numRuns: 60 })
  })
})

describe('Keyspace.randomEntry', () => {
  it('is 0 on an empty keyspace', () => {
    expect(new Keyspace().randomEntry()).toBe(0)
  })

  it('returns live entries, and over many draws every key of a small set', () => {
    const ks = new Keyspace()
    for (let i = 0; i < 20; i++) put(ks, key(i))
    const seen = new Set<string>()
    for (let n = 0; n < 2000; n++) {
      const e = ks.randomEntry()
      expect(e).not.toBe(0)
      seen.add(keyOf(ks, e))
    }
    expect(seen.size).toBe(20)
  })

  it('finds the last key of a table emptied by deletes (the table never shrinks)', () => {
    const ks = new Keyspace()
    for (let i = 0; i < 20000; i++) put(ks, key(i))
    for (let i = 0; i < 20000; i++) if (i !== 12345) del(ks, key(i))
    expect(ks.count).toBe(1)
    for (let n = 0; n < 20; n++) expect(keyOf(ks, ks.randomEntry())).toBe('key:12345')
  })
})

describe('SCAN on one shard of four', () => {
  const T0 = 1_700_000_000_000
  let now = T0
  let shard: Shard
  beforeEach(() => {
    now = T0
    shard = new Shard(2, 4)
    shard.clock = () => now
  })

  const scan = (...args: string[]): [string, string[]] => {
    const r = run(shard, ['SCAN', ...args]) as Reply[]
    return [(r[0] as Buffer).toString('latin1'), (r[1] as Buffer[]).map(k => k.toString('latin1')).sort()]
  }

  it('an empty shard hands the cursor to the next shard; the last shard ends with 0', () => {
    expect(scan('2')).toEqual(['3', []])
    const last = new Shard(3, 4)
    expect(run(last, ['SCAN', '3'])).toEqual([b('0'), []])
  })

  it('the global cursor is shardCursor * 4 + 2, and the full walk returns every key', () => {
    for (let i = 0; i < 100; i++) run(shard, ['SET', `k${i}`, 'v'])
    const seen = new Set<string>()
    let cursor = '2'
    let calls = 0
    do {
      const [next, keys] = scan(cursor, 'COUNT', '5')
      for (const k of keys) seen.add(k)
      if (next !== '3') expect(Number(next) % 4).toBe(2)
      cursor = next
      calls++
    } while (cursor !== '3')
    expect(seen.size).toBe(100)
    expect(calls).toBeGreaterThan(5)
  })

  it('parses the cursor like strtoul: sign, empty string, 2^64 wrap-around; rejects the rest', () => {
    run(shard, ['SET', 'a', '1'])
    expect(scan('')[1]).toEqual(['a'])
    expect(scan('+2')[1]).toEqual(['a'])
    expect(scan('-0')[1]).toEqual(['a'])
    expect(scan('18446744073709551615')[0]).toMatch(/^\d+$/)
    expect(scan('-1')[0]).toMatch(/^\d+$/)
    for (const bad of [' 1', '1 ', 'x', '-', '+', '+-1', '1.0', '0x1', '18446744073709551616', '-18446744073709551616']) {
      expect(run(shard, ['SCAN', bad]), bad).toEqual({ err: 'ERR invalid cursor' })
    }
  })

  it('options: COUNT must be a positive integer, unknown or valueless options are syntax errors', () => {
    expect(run(shard, ['SCAN', '2', 'COUNT', '0'])).toEqual({ err: 'ERR syntax error' })
    expect(run(shard, ['SCAN', '2', 'COUNT', '-1'])).toEqual({ err: 'ERR syntax error' })
    expect(run(shard, ['SCAN', '2', 'COUNT', 'x'])).toEqual({ err: 'ERR value is not an integer or out of range' })
    expect(run(shard, ['SCAN', '2', 'COUNT'])).toEqual({ err: 'ERR syntax error' })
    expect(run(shard, ['SCAN', '2', 'MATCH'])).toEqual({ err: 'ERR syntax error' })
    expect(run(shard, ['SCAN', '2', 'FOO', 'x'])).toEqual({ err: 'ERR syntax error' })
    expect(run(shard, ['SCAN', 'x', 'FOO'])).toEqual({ err: 'ERR invalid cursor' })
    expect(run(shard, ['SCAN', '2', 'count', '1000000', 'match', '*', 'type', 'string'])).toEqual([b('3'), []])
  })

  it('MATCH and TYPE filter; expired keys are deleted and skipped, except under TYPE none (7.0)', () => {
    run(shard, ['SET', 'user:1', 'a'])
    run(shard, ['SET', 'user:2', 'b'])
    run(shard, ['SET', 'other', 'c'])
    const ks = shard.ks
    const h = keyHash(b('list'), 0, 4)
    const e = ks.insert(b('list'), 0, 4, h, TYPE_LIST, LIST_HEADER_BYTES)
    listInit(ks, e)
    listPush(ks, e, TAIL, b('x'), 0, 1)
    expect(scan('2', 'COUNT', '100', 'MATCH', 'user:*')).toEqual(['3', ['user:1', 'user:2']])
    expect(scan('2', 'COUNT', '100', 'TYPE', 'LIST')).toEqual(['3', ['list']])
    expect(scan('2', 'COUNT', '100', 'TYPE', 'hash')).toEqual(['3', []])
    expect(scan('2', 'COUNT', '100', 'TYPE', 'string', 'MATCH', '*1')).toEqual(['3', ['user:1']])
    run(shard, ['SET', 'gone', 'v', 'PX', '10'])
    run(shard, ['SET', 'gone2', 'v', 'PX', '10'])
    now += 11
    expect(scan('2', 'COUNT', '100', 'MATCH', 'gone')).toEqual(['3', []])
    expect(shard.expiredKeys).toBe(1)
    expect(scan('2', 'COUNT', '100', 'TYPE', 'none')).toEqual(['3', ['gone2']])
    expect(shard.expiredKeys).toBe(2)
    expect(shard.ks.count).toBe(4)
  })

  it('KEYS skips expired keys without deleting them', () => {
    run(shard, ['SET', 'a', '1'])
    run(shard, ['SET', 'b', '1', 'PX', '5'])
    now += 6
    expect((run(shard, ['KEYS', '*']) as Buffer[]).map(String)).toEqual(['a'])
    expect(shard.ks.count).toBe(2)
    expect((run(shard, ['KEYS', '[ab]']) as Buffer[]).map(String)).toEqual(['a'])
    expect(run(shard, ['KEYS', 'z*'])).toEqual([])
  })
})

describe('copyEntry and swapDbs (MOVE, COPY ... DB, SWAPDB)', () => {
  it('copies a string with its raw flag, and a list element by element, into another database', () => {
    const shard = new Shard()
    const src = shard.db(0)
    const dst = shard.db(5)
    const s = put(src, b('s'))
    const sv = src.resizeValue(s, 3)
    src.arena.u8.set(b('abc'), src.valOffset(sv))
    src.setRaw(sv, true)
    const l = src.insert(b('l'), 0, 1, keyHash(b('l'), 0, 1), TYPE_LIST, LIST_HEADER_BYTES)
    listInit(src, l)
    for (const x of ['one', '', 'three'.repeat(100)]) listPush(src, l, TAIL, b(x), 0, x.length)

    const ns = shard.copyEntry(src, sv, dst, b('s2'), 0, 2, keyHash(b('s2'), 0, 2))
    expect(dst.isRaw(ns)).toBe(true)
    expect(Buffer.from(dst.arena.u8.subarray(dst.valOffset(ns), dst.valOffset(ns) + 3)).toString()).toBe('abc')
    const nl = shard.copyEntry(src, l, dst, b('l'), 0, 1, keyHash(b('l'), 0, 1))
    expect(dst.type(nl)).toBe(TYPE_LIST)
    const items: string[] = []
    for (let n = listFirst(dst, nl, HEAD); n !== 0; n = elemNext(dst, n)) items.push(Buffer.from(dst.arena.u8.subarray(elemData(n), elemData(n) + elemLen(dst, n))).toString())
    expect(items).toEqual(['one', '', 'three'.repeat(100)])
    // The source is untouched; freeing it leaves the copy intact.
    src.remove(l)
    expect(listFirst(dst, nl, HEAD)).not.toBe(0)
    expect(dst.count).toBe(2)
  })

  it('swapDbs swaps databases (created or not) and rebinds the selected one', () => {
    const shard = new Shard()
    shard.select(3)
    run(shard, ['SET', 'k', 'in3'])
    shard.swapDbs(3, 9)
    expect(run(shard, ['GET', 'k'])).toBeNull()
    shard.select(9)
    expect(run(shard, ['GET', 'k'])).toEqual(b('in3'))
    shard.swapDbs(9, 9)
    expect(run(shard, ['GET', 'k'])).toEqual(b('in3'))
  })
})
