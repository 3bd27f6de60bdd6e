// String handlers (src/commands/string.ts) run in-process against a Shard: what the differential
// tests cannot see from outside — values that outgrow their arena block while APPEND/SETRANGE
// edit them, zero-filled gaps over reused memory, the raw flag OBJECT ENCODING reads, TTLs kept
// or dropped, exact integers past 2^53, LCS ranges and a model-based run against a Map.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { Shard } from '../../../src/storage/shard.js'
import { TYPE_LIST } from '../../../src/storage/keyspace.js'
import { LIST_HEADER_BYTES, listInit } from '../../../src/storage/list.js'
import { stringCommands } from '../../../src/commands/string.js'
import type { ShardHandler } from '../../../src/commands/spec.js'
import { ReplyWriter } from '../../../src/protocol/resp-writer.js'
import { argvOf, decode, type Reply } from '../helpers/run.js'

// A local runner over the string family only, with the shared argv builder and RESP decoder.
const HANDLERS = new Map<string, ShardHandler>()
for (const spec of stringCommands) if (spec.run !== undefined) HANDLERS.set(spec.name, spec.run)
const out = new ReplyWriter(64)

function run (shard: Shard, ...args: Array<string | Buffer>): Reply {
  const h = HANDLERS.get(String(args[0]).toLowerCase())
  if (h === undefined) throw new Error(`no handler for ${String(args[0])}`)
  out.reset()
  h(shard, argvOf(args), out)
  return decode(Buffer.from(out.buf.subarray(0, out.len)))
}

function entry (shard: Shard, key: string): number {
  const k = Buffer.from(key)
  return shard.lookup(k, 0, k.length)
}

function makeList (shard: Shard, key: string): void {
  const k = Buffer.from(key)
  shard.lookup(k, 0, k.length)
  listInit(shard.ks, shard.ks.insert(k, 0, k.length, shard.lastHash, TYPE_LIST, LIST_HEADER_BYTES))
}

const WRONGTYPE = { err: 'WRONGTYPE Operation against a key holding the wrong kind of value' }
const b = (s: string): Buffer => Buffer.from(s, 'latin1')

describe('APPEND and SETRANGE edit in place', () => {
  it('APPEND keeps every byte while the value moves to bigger blocks', () => {
    const shard = new Shard()
    let model = ''
    for (let i = 0; i < 3000; i++) {
      const piece = String.fromCharCode(33 + (i % 90)).repeat(1 + (i % 7))
      model += piece
      expect(run(shard, 'append', 'k', piece)).toBe(model.length)
      // Other keys churn the free lists between appends.
      run(shard, 'set', `x${i % 13}`, 'y'.repeat(i % 200))
    }
    expect(run(shard, 'get', 'k')).toEqual(b(model))
  })

  it('SETRANGE zero-fills the gap even over reused memory', () => {
    const shard = new Shard()
    for (let i = 0; i < 50; i++) run(shard, 'set', `junk${i}`, '\xff'.repeat(300))
    for (let i = 0; i < 50; i++) run(shard, 'getdel', `junk${i}`)
    expect(run(shard, 'setrange', 'k', '100', 'ab')).toBe(102)
    expect(run(shard, 'get', 'k')).toEqual(Buffer.concat([Buffer.alloc(100), b('ab')]))
    run(shard, 'set', 's', 'hello')
    expect(run(shard, 'setrange', 's', '200', 'z')).toBe(201)
    expect(run(shard, 'get', 's')).toEqual(Buffer.concat([b('hello'), Buffer.alloc(195), b('z')]))
    expect(run(shard, 'setrange', 's', '1', 'EL')).toBe(201)
    expect((run(shard, 'getrange', 's', '0', '4') as Buffer).toString()).toBe('hELlo')
  })

  it('marks edited strings raw; a new value clears it', () => {
    const shard = new Shard()
    run(shard, 'append', 'a', '1')
    expect(shard.ks.isRaw(entry(shard, 'a'))).toBe(false) // APPEND creating the key stores it as given
    run(shard, 'append', 'a', '2')
    expect(shard.ks.isRaw(entry(shard, 'a'))).toBe(true)
    run(shard, 'incr', 'a')
    expect(shard.ks.isRaw(entry(shard, 'a'))).toBe(false)
    run(shard, 'setrange', 'a', '0', '9')
    expect(shard.ks.isRaw(entry(shard, 'a'))).toBe(true)
    run(shard, 'set', 'a', 'v')
    expect(shard.ks.isRaw(entry(shard, 'a'))).toBe(false)
    run(shard, 'setrange', 'n', '0', '')
    expect(entry(shard, 'n')).toBe(0)
    run(shard, 'setrange', 'n', '2', 'x')
    expect(shard.ks.isRaw(entry(shard, 'n'))).toBe(true)
  })

  it('size limit and wrong types', () => {
    const shard = new Shard()
    run(shard, 'set', 'k', 'abc')
    expect(run(shard, 'setrange', 'k', String(512 * 1024 * 1024 - 3), 'xyzw')).toEqual({ err: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)' })
    expect(run(shard, 'setrange', 'k', '-1', 'x')).toEqual({ err: 'ERR offset is out of range' })
    makeList(shard, 'list')
    expect(run(shard, 'append', 'list', 'x')).toEqual(WRONGTYPE)
    expect(run(shard, 'setrange', 'list', '0', 'x')).toEqual(WRONGTYPE)
    expect(run(shard, 'setrange', 'list', 'x', 'x')).toEqual({ err: 'ERR value is not an integer or out of range' })
  })
})

describe('TTLs', () => {
  it('INCR, INCRBYFLOAT, APPEND, SETRANGE keep the TTL; GETSET and SET drop it', () => {
    const shard = new Shard()
    const at = Date.now() + 100_000
    const ttl = (k: string): number => shard.ks.expireAt(entry(shard, k))
    run(shard, 'set', 'k', '10', 'pxat', String(at))
    for (const cmd of [['incr', 'k'], ['incrby', 'k', '5'], ['decr', 'k'], ['incrbyfloat', 'k', '1.5'], ['append', 'k', '0'], ['setrange', 'k', '0', '7']]) {
      run(shard, ...cmd)
      expect(ttl('k'), cmd.join(' ')).toBe(at)
    }
    expect(run(shard, 'get', 'k')).toEqual(b('76.50'))
    expect(run(shard, 'getset', 'k', 'x')).toEqual(b('76.50'))
    expect(ttl('k')).toBe(0)
    run(shard, 'set', 'k', 'v', 'pxat', String(at))
    expect(run(shard, 'getex', 'k', 'persist')).toEqual(b('v'))
    expect(ttl('k')).toBe(0)
    expect(run(shard, 'getex', 'k', 'pxat', String(at))).toEqual(b('v'))
    expect(ttl('k')).toBe(at)
    expect(run(shard, 'getex', 'k', 'pxat', '1')).toEqual(b('v'))
    expect(entry(shard, 'k')).toBe(0)
  })

  it('SETEX and PSETEX set relative TTLs with their own error names', () => {
    const shard = new Shard()
    shard.clock = () => 1_000_000
    run(shard, 'setex', 'a', '10', 'v')
    expect(shard.ks.expireAt(entry(shard, 'a'))).toBe(1_010_000)
    run(shard, 'psetex', 'a', '10', 'v')
    expect(shard.ks.expireAt(entry(shard, 'a'))).toBe(1_000_010)
    expect(run(shard, 'setex', 'a', '0', 'v')).toEqual({ err: "ERR invalid expire time in 'setex' command" })
    expect(run(shard, 'psetex', 'a', '-1', 'v')).toEqual({ err: "ERR invalid expire time in 'psetex' command" })
    expect(run(shard, 'getex', 'a', 'ex', '0')).toEqual({ err: "ERR invalid expire time in 'getex' command" })
  })
})

describe('counters', () => {
  it('are exact past 2^53 and overflow where int64 does', () => {
    const shard = new Shard()
    run(shard, 'set', 'k', String(2 ** 53 - 1))
    expect(run(shard, 'incr', 'k')).toBe(2 ** 53)
    expect(run(shard, 'incr', 'k')).toBe(Number(2n ** 53n + 1n)) // decoded as a double; check the text
    expect(run(shard, 'get', 'k')).toEqual(b('9007199254740993'))
    expect(run(shard, 'incrby', 'k', '9223372036854775807')).toEqual({ err: 'ERR increment or decrement would overflow' })
    expect(run(shard, 'decrby', 'k', '9007199254740993')).toBe(0)
    expect(run(shard, 'get', 'k')).toEqual(b('0'))
    expect(run(shard, 'decrby', 'k', '-9223372036854775808')).toEqual({ err: 'ERR decrement would overflow' })
    expect(run(shard, 'decrby', 'k', '9223372036854775807')).toBe(Number(-9223372036854775807n))
    expect(run(shard, 'get', 'k')).toEqual(b('-9223372036854775807'))
    expect(run(shard, 'decr', 'k')).toBe(Number(-9223372036854775808n))
    expect(run(shard, 'decr', 'k')).toEqual({ err: 'ERR increment or decrement would overflow' })
    expect(run(shard, 'get', 'k')).toEqual(b('-9223372036854775808'))
  })

  it('reject values string2ll rejects, and wrong types', () => {
    const shard = new Shard()
    for (const v of ['', ' 1', '1 ', '+1', '01', '1.0', '99999999999999999999', 'abc']) {
      run(shard, 'set', 'k', v)
      expect(run(shard, 'incr', 'k'), JSON.stringify(v)).toEqual({ err: 'ERR value is not an integer or out of range' })
    }
    makeList(shard, 'list')
    expect(run(shard, 'incr', 'list')).toEqual(WRONGTYPE)
    expect(run(shard, 'incrbyfloat', 'list', '1')).toEqual(WRONGTYPE)
    expect(run(shard, 'incrby', 'list', 'x')).toEqual({ err: 'ERR value is not an integer or out of range' })
  })
})

describe('LCS', () => {
  it('string, LEN and IDX with ranges as Redis walks them', () => {
    const shard = new Shard()
    run(shard, 'mset', 'a', 'ohmytext', 'b', 'mynewtext')
    expect(run(shard, 'lcs', 'a', 'b')).toEqual(b('mytext'))
    expect(run(shard, 'lcs', 'a', 'b', 'len')).toBe(6)
    expect(run(shard, 'lcs', 'a', 'b', 'idx', 'withmatchlen')).toEqual([b('matches'), [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b('len'), 6])
    expect(run(shard, 'lcs', 'a', 'b', 'idx', 'minmatchlen', '4')).toEqual([b('matches'), [[[4, 7], [5, 8]]], b('len'), 6])
    expect(run(shard, 'lcs', 'a', 'nope')).toEqual(b(''))
    expect(run(shard, 'lcs', 'a', 'b', 'len', 'idx')).toEqual({ err: 'ERR If you want both the length and indexes, please just use IDX.' })
    makeList(shard, 'list')
    expect(run(shard, 'lcs', 'a', 'list', 'foo')).toEqual({ err: 'ERR The specified keys must contain string values' })
  })

  it('LEN alone (two rows) agrees with the full table', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'b', 'c') }), fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'b', 'c') }), (x, y) => {
      const shard = new Shard()
      run(shard, 'mset', 'x', x, 'y', y)
      const full = run(shard, 'lcs', 'x', 'y', 'idx') as Reply[]
      expect(run(shard, 'lcs', 'x', 'y', 'len')).toBe(full[3])
      expect((run(shard, 'lcs', 'x', 'y') as Buffer).length).toBe(full[3])
    }), { numRuns: 200 })
  })
})

describe('model-based: random string commands against a Map', () => {
  it('agrees with a plain model', () => {
    const key = fc.constantFrom('a', 'b', 'c')
    const val = fc.string({ maxLength: 6, unit: fc.constantFrom('1', '2', 'x', '-', '0') })
    const cmd = fc.oneof(
      fc.tuple(fc.constant('set'), key, val),
      fc.tuple(fc.constant('append'), key, val),
      fc.tuple(fc.constant('setrange'), key, fc.integer({ min: 0, max: 20 }).map(String), val),
      fc.tuple(fc.constant('incrby'), key, fc.integer({ min: -100, max: 100 }).map(String)),
      fc.tuple(fc.constant('getdel'), key),
      fc.tuple(fc.constant('getset'), key, val),
      fc.tuple(fc.constant('setnx'), key, val),
      fc.tuple(fc.constant('strlen'), key),
      fc.tuple(fc.constant('getrange'), key, fc.integer({ min: -10, max: 10 }).map(String), fc.integer({ min: -10, max: 10 }).map(String)),
    )
    fc.assert(fc.property(fc.array(cmd, { maxLength: 60 }), (cmds) => {
      const shard = new Shard()
      const m = new Map<string, string>()
      for (const c of cmds) {
        const [name, k] = c
        const cur = m.get(k)
        const got = run(shard, ...c)
        switch (name) {
          case 'set': m.set(k, c[2] as string); break
          case 'append': m.set(k, (cur ?? '') + (c[2] as string)); expect(got).toBe(m.get(k)?.length); break
          case 'setrange': {
            const off = Number(c[2]); const v = c[3] as string
            if (v === '') { expect(got).toBe(cur?.length ?? 0); break }
            const base = (cur ?? '').padEnd(off, '\0')
            m.set(k, base.slice(0, off) + v + base.slice(off + v.length))
            expect(got).toBe(m.get(k)?.length)
            break
          }
          case 'incrby': {
            if (cur !== undefined && !/^(0|-?[1-9]\d*)$/.test(cur)) { expect(got).toEqual({ err: 'ERR value is not an integer or out of range' }); break }
            const n = Number(cur ?? '0') + Number(c[2])
            m.set(k, String(n)); expect(got).toBe(n)
            break
          }
          case 'getdel': expect(got).toEqual(cur === undefined ? null : b(cur)); m.delete(k); break
          case 'getset': expect(got).toEqual(cur === undefined ? null : b(cur)); m.set(k, c[2] as string); break
          case 'setnx': expect(got).toBe(cur === undefined ? 1 : 0); if (cur === undefined) m.set(k, c[2] as string); break
          case 'strlen': expect(got).toBe(cur?.length ?? 0); break
          case 'getrange': {
            const s = cur ?? ''
            let from = Number(c[2]); let to = Number(c[3])
            let want = ''
            if (!(from < 0 && to < 0 && from > to)) {
              if (from < 0) from = Math.max(0, s.length + from)
              if (to < 0) to = Math.max(0, s.length + to)
              if (to >= s.length) to = s.length - 1
              if (from <= to && s.length > 0) want = s.slice(from, to + 1)
            }
            expect(got).toEqual(b(want))
            break
          }
        }
        expect(run(shard, 'get', k)).toEqual(m.has(k) ? b(m.get(k) as string) : null)
      }
    }), { numRuns: 300 })
  })
})
