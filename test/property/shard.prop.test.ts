// Model-based test of a Shard: random SET (NX/XX/GET, EX/PX/KEEPTTL) / GET / DEL / EXISTS /
// MSET / MGET / EXPIRE / PEXPIRE (NX/XX/GT/LT) / PERSIST / TTL / PTTL / TYPE / RENAME(NX) /
// SELECT / FLUSHDB / active-expiry sequences under a fake clock, run through the real handlers
// of string.ts and generic.ts (RESP replies decoded) and against one Map per database with
// Redis 7's rules. Every reply, the key and expire counts, keyspace hits/misses and
// expired_keys must agree.
//
// Keys include binary bytes and the empty key; values run 0..2000 bytes so entries move between
// size classes; bulk MSETs take some runs to thousands of keys (several incremental rehashes).
// The model follows Redis (expired when now > at). FlashKV expires at now >= at, a 1 ms
// difference pinned in test/unit/storage/shard.test.ts, so the clock never lands exactly on a
// key's expire time here.

import { fc, test } from '@fast-check/vitest'
import { expect } from 'vitest'
import { Shard } from '../../src/storage/shard.js'
import { keyHash } from '../../src/storage/hash.js'
import { run, type Reply } from '../unit/helpers/run.js'

// --- the model: Redis 7 semantics over Maps ------------------------------------------------------

interface Item { value: Buffer, at: number } // at: unix ms, 0 = no TTL

class Model {
  now = 1_700_000_000_000
  db = 0
  readonly dbs: Array<Map<string, Item>> = [new Map(), new Map(), new Map()]
  hits = 0
  misses = 0
  expired = 0

  get map (): Map<string, Item> { return this.dbs[this.db] }

  /** lookupKey: an item past its time is deleted and counted in expired_keys. */
  lookup (k: string): Item | undefined {
    const it = this.map.get(k)
    if (it === undefined) return undefined
    if (it.at !== 0 && this.now > it.at) { this.map.delete(k); this.expired++; return undefined }
    return it
  }

  lookupRead (k: string): Item | undefined {
    const it = this.lookup(k)
    if (it === undefined) this.misses++
    else this.hits++
    return it
  }

  live (): number {
    let n = 0
    for (const m of this.dbs) for (const it of m.values()) if (it.at === 0 || this.now <= it.at) n++
    return n
  }
}

// --- operations ----------------------------------------------------------------------------------

type SetExpire = { kind: 'none' } | { kind: 'px', ms: number } | { kind: 'ex', s: number } | { kind: 'keepttl' }
type Op =
  | { t: 'set', k: Buffer, v: Buffer, cond: 'none' | 'nx' | 'xx', get: boolean, exp: SetExpire }
  | { t: 'get', k: Buffer }
  | { t: 'del', ks: Buffer[] }
  | { t: 'exists', ks: Buffer[] }
  | { t: 'mset', kvs: Array<[Buffer, Buffer]> }
  | { t: 'mget', ks: Buffer[] }
  | { t: 'expire', k: Buffer, n: number, ms: boolean, flag: '' | 'nx' | 'xx' | 'gt' | 'lt' }
  | { t: 'persist', k: Buffer }
  | { t: 'ttl', k: Buffer, ms: boolean }
  | { t: 'type', k: Buffer }
  | { t: 'rename', from: Buffer, to: Buffer, nx: boolean }
  | { t: 'advance', ms: number }
  | { t: 'bulk', from: number, n: number, len: number }
  | { t: 'select', db: number }
  | { t: 'flushdb' }
  | { t: 'active', buckets: number }

/** Key i of the shared pool: text plus bytes that stress byte-exact compares (NUL, 0xff, '{'). */
function poolKey (i: number): Buffer {
  const text = Buffer.from(`k${i}`, 'latin1')
  switch (i % 4) {
    case 0: return text
    case 1: return Buffer.concat([text, Buffer.from([0, i & 0xff])])
    case 2: return Buffer.concat([Buffer.from([0xff, 0x7b]), text, Buffer.from([0x7d])])
    default: return Buffer.concat([text, Buffer.from([0x0d, 0x0a, 0x20])])
  }
}

function valueOf (len: number, seed: number): Buffer {
  const v = Buffer.allocUnsafe(len)
  for (let i = 0; i < len; i++) v[i] = (seed * 97 + i * 31 + (i >>> 7)) & 0xff
  return v
}

const keyArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 15 }).map(poolKey) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3999 }).map(poolKey) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map(u => Buffer.from(u)) },
)

const valueArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 40 }), fc.nat()).map(([l, s]) => valueOf(l, s)) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.nat()).map(([l, s]) => valueOf(l, s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }).map(u => Buffer.from(u)) },
)

const setExpireArb: fc.Arbitrary<SetExpire> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 5000 }).map(ms => ({ kind: 'px' as const, ms })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map(s => ({ kind: 'ex' as const, s })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'keepttl' as const }) },
)

const keysArb = fc.array(keyArb, { minLength: 1, maxLength: 5 })

function opArb (maxBulk: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 10, arbitrary: fc.record({ t: fc.constant('set' as const), k: keyArb, v: valueArb, cond: fc.constantFrom('none' as const, 'none' as const, 'nx' as const, 'xx' as const), get: fc.boolean(), exp: setExpireArb }) },
    { weight: 6, arbitrary: fc.record({ t: fc.constant('get' as const), k: keyArb }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), ks: keysArb }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('exists' as const), ks: keysArb }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('mset' as const), kvs: fc.array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 5 }) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('mget' as const), ks: keysArb }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('expire' as const), k: keyArb, n: fc.integer({ min: -3, max: 5000 }), ms: fc.boolean(), flag: fc.constantFrom('' as const, '' as const, 'nx' as const, 'xx' as const, 'gt' as const, 'lt' as const) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('persist' as const), k: keyArb }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('ttl' as const), k: keyArb, ms: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('type' as const), k: keyArb }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('rename' as const), from: keyArb, to: keyArb, nx: fc.boolean() }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 20_000 })) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('bulk' as const), from: fc.integer({ min: 0, max: 3999 }), n: fc.integer({ min: 1, max: maxBulk }), len: fc.integer({ min: 0, max: 2000 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('select' as const), db: fc.integer({ min: 0, max: 2 }) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'flushdb' as const }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('active' as const), buckets: fc.integer({ min: 1, max: 64 }) }) },
  )
}

/** Structural equality, fast for large Buffers (vitest's toEqual walks them index by index). */
function same (a: Reply, b: Reply): boolean {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b)
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]))
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b)
  return a === b
}

function expectReply (got: Reply, expected: Reply): void {
  if (!same(got, expected)) expect(got).toEqual(expected) // fails, with a readable diff
}

const OK = { status: 'OK' }
const bulkOf = (it: Item | undefined): Reply => it === undefined ? null : it.value
const str = (b: Buffer): string => b.toString('latin1')

/** Applies op to both sides and checks the reply and the counters. */
function step (shard: Shard, m: Model, op: Op): void {
  let expected: Reply
  let got: Reply
  switch (op.t) {
    case 'set': {
      const args: Array<Buffer | string> = ['SET', op.k, op.v]
      if (op.cond !== 'none') args.push(op.cond.toUpperCase())
      if (op.get) args.push('GET')
      if (op.exp.kind === 'px') args.push('PX', String(op.exp.ms))
      else if (op.exp.kind === 'ex') args.push('EX', String(op.exp.s))
      else if (op.exp.kind === 'keepttl') args.push('KEEPTTL')
      got = run(shard, args)
      // setGenericCommand: GET replies first (a read), then NX/XX look the key up for write.
      const k = str(op.k)
      let cur: Item | undefined
      let reply: Reply = OK
      if (op.get) { cur = m.lookupRead(k); reply = bulkOf(cur) } else cur = m.lookup(k)
      if ((op.cond === 'nx' && cur !== undefined) || (op.cond === 'xx' && cur === undefined)) {
        expected = op.get ? reply : null
        break
      }
      const at = op.exp.kind === 'px'
        ? m.now + op.exp.ms
        : op.exp.kind === 'ex' ? m.now + op.exp.s * 1000 : op.exp.kind === 'keepttl' ? cur?.at ?? 0 : 0
      m.map.set(k, { value: op.v, at })
      expected = reply
      break
    }
    case 'get':
      got = run(shard, ['GET', op.k])
      expected = bulkOf(m.lookupRead(str(op.k)))
      break
    case 'del': {
      got = run(shard, ['DEL', ...op.ks])
      let n = 0
      for (const k of op.ks) if (m.lookup(str(k)) !== undefined) { m.map.delete(str(k)); n++ }
      expected = n
      break
    }
    case 'exists': {
      got = run(shard, ['EXISTS', ...op.ks])
      let n = 0
      for (const k of op.ks) if (m.lookupRead(str(k)) !== undefined) n++
      expected = n
      break
    }
    case 'mset': {
      got = run(shard, ['MSET', ...op.kvs.flat()])
      for (const [k, v] of op.kvs) { m.lookup(str(k)); m.map.set(str(k), { value: v, at: 0 }) }
      expected = OK
      break
    }
    case 'mget':
      got = run(shard, ['MGET', ...op.ks])
      expected = op.ks.map(k => bulkOf(m.lookupRead(str(k))))
      break
    case 'expire': {
      const args: Array<Buffer | string> = [op.ms ? 'PEXPIRE' : 'EXPIRE', op.k, String(op.n)]
      if (op.flag !== '') args.push(op.flag)
      got = run(shard, args)
      // expireGenericCommand: look the key up, apply NX/XX/GT/LT (no TTL = infinite), then
      // delete if the new time is not in the future.
      const when = m.now + (op.ms ? op.n : op.n * 1000)
      const k = str(op.k)
      const cur = m.lookup(k)
      const current = cur === undefined || cur.at === 0 ? -1 : cur.at
      if (cur === undefined ||
        (op.flag === 'nx' && current !== -1) ||
        (op.flag === 'xx' && current === -1) ||
        (op.flag === 'gt' && (when <= current || current === -1)) ||
        (op.flag === 'lt' && current !== -1 && when >= current)) {
        expected = 0
        break
      }
      if (when <= m.now) m.map.delete(k)
      else cur.at = when
      expected = 1
      break
    }
    case 'persist': {
      got = run(shard, ['PERSIST', op.k])
      const cur = m.lookup(str(op.k))
      expected = cur === undefined || cur.at === 0 ? 0 : 1
      if (cur !== undefined) cur.at = 0
      break
    }
    case 'ttl': {
      got = run(shard, [op.ms ? 'PTTL' : 'TTL', op.k])
      // Redis counts TTL's (and TYPE's) lookup in keyspace_hits/misses; FlashKV does not (see
      // shard.test.ts), so runOps leaves both out of the hit/miss totals.
      const cur = m.lookupRead(str(op.k))
      if (cur === undefined) expected = -2
      else if (cur.at === 0) expected = -1
      else {
        const ttl = Math.max(0, cur.at - m.now)
        expected = op.ms ? ttl : Math.floor((ttl + 500) / 1000)
      }
      break
    }
    case 'type':
      got = run(shard, ['TYPE', op.k])
      expected = { status: m.lookupRead(str(op.k)) === undefined ? 'none' : 'string' }
      break
    case 'rename': {
      got = run(shard, [op.nx ? 'RENAMENX' : 'RENAME', op.from, op.to])
      // renameGenericCommand: source first (no such key), then the same-name shortcut, then
      // the destination (RENAMENX stops if it exists); the TTL moves with the value.
      const from = str(op.from)
      const to = str(op.to)
      const src = m.lookup(from)
      if (src === undefined) { expected = { err: 'ERR no such key' }; break }
      if (from === to) { expected = op.nx ? 0 : OK; break }
      const dst = m.lookup(to)
      if (dst !== undefined && op.nx) { expected = 0; break }
      m.map.delete(from)
      m.map.set(to, src)
      expected = op.nx ? 1 : OK
      break
    }
    case 'advance': {
      // Never stop on a key's exact expire time: FlashKV and Redis differ there by design of
      // this test (the difference has its own test).
      let t = m.now + op.ms
      const ats = new Set<number>()
      for (const db of m.dbs) for (const it of db.values()) if (it.at !== 0) ats.add(it.at)
      while (ats.has(t)) t++
      m.now = t
      return
    }
    case 'bulk': {
      const args: Array<Buffer | string> = ['MSET']
      for (let i = 0; i < op.n; i++) {
        const k = poolKey((op.from + i) % 4000)
        const v = valueOf((op.len + i * 37) % 2001, op.from + i)
        args.push(k, v)
        m.lookup(str(k))
        m.map.set(str(k), { value: v, at: 0 })
      }
      got = run(shard, args)
      expected = OK
      break
    }
    case 'select':
      shard.select(op.db)
      m.db = op.db
      return
    case 'flushdb':
      shard.flushDb(shard.dbIndex)
      m.map.clear()
      return
    case 'active': {
      const deleted = shard.activeExpire(op.buckets)
      // Drop from the model what the sweep removed: items past their time that the shard's
      // index no longer holds (a raw find: no lazy expiry, no stats).
      let gone = 0
      const db = m.db
      m.dbs.forEach((map, i) => {
        shard.select(i)
        for (const [k, it] of map) {
          if (it.at === 0 || m.now <= it.at) continue
          const kb = Buffer.from(k, 'latin1')
          if (shard.ks.find(kb, 0, kb.length, keyHash(kb, 0, kb.length)) === 0) { map.delete(k); gone++ }
        }
      })
      shard.select(db)
      expect(gone).toBe(deleted)
      m.expired += deleted
      expect(shard.expiredKeys).toBe(m.expired)
      return
    }
  }
  expectReply(got, expected)
}

function checkCounters (shard: Shard, m: Model): void {
  let total = 0
  let expiring = 0
  for (const db of m.dbs) for (const it of db.values()) { total++; if (it.at !== 0) expiring++ }
  expect(shard.keyCount()).toBe(total)
  expect(shard.expiresCount()).toBe(expiring)
  expect(shard.expiredKeys).toBe(m.expired)
}

/** Reads every model key back through GET and PTTL in every database. */
function checkAll (shard: Shard, m: Model): void {
  const db = m.db
  for (let i = 0; i < m.dbs.length; i++) {
    shard.select(i)
    m.db = i
    for (const k of [...m.map.keys()]) {
      const kb = Buffer.from(k, 'latin1')
      expectReply(run(shard, ['GET', kb]), bulkOf(m.lookupRead(k)))
      const cur = m.lookup(k)
      expect(run(shard, ['PTTL', kb])).toBe(cur === undefined ? -2 : cur.at === 0 ? -1 : Math.max(0, cur.at - m.now))
    }
  }
  shard.select(db)
  m.db = db
}

function runOps (ops: Op[]): { shard: Shard, m: Model } {
  const m = new Model()
  const shard = new Shard()
  shard.clock = () => m.now
  let hitsOffset = 0
  let missesOffset = 0
  for (const op of ops) {
    const h = shard.hits
    const mi = shard.misses
    const mh = m.hits
    const mm = m.misses
    stepChecked(shard, m, op)
    if (op.t === 'ttl' || op.t === 'type') {
      // Keep the totals comparable: leave out what each side counted for a TTL or TYPE.
      hitsOffset += (m.hits - mh) - (shard.hits - h)
      missesOffset += (m.misses - mm) - (shard.misses - mi)
    }
    expect(shard.hits + hitsOffset).toBe(m.hits)
    expect(shard.misses + missesOffset).toBe(m.misses)
    checkCounters(shard, m)
  }
  checkAll(shard, m)
  checkCounters(shard, m)
  return { shard, m }
}

function stepChecked (shard: Shard, m: Model, op: Op): void {
  try {
    step(shard, m, op)
  } catch (err) {
    const show = JSON.stringify(op, (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
        const data = (v as { data: number[] }).data
        return data.length > 32 ? `<${data.length} bytes>` : Buffer.from(data).toString('latin1')
      }
      return v
    })
    throw new Error(`op ${show} at t=${m.now} db=${m.db}: ${(err as Error).message}`, { cause: err })
  }
}

test.prop([fc.array(opArb(400), { minLength: 1, maxLength: 150 })], { numRuns: 300 })(
  'random command sequences agree with a Map model', (ops) => {
    runOps(ops)
  })

test.prop([
  fc.integer({ min: 1500, max: 3000 }),
  fc.integer({ min: 0, max: 2000 }),
  fc.array(opArb(50), { minLength: 50, maxLength: 300 }),
], { numRuns: 15 })(
  'thousands of keys: rehashes and size-class moves under random commands', (n, len, ops) => {
    // Bulk-load n keys with TTLs on a third of them, then run random commands over the pool.
    const load: Op[] = [{ t: 'bulk', from: 0, n, len }]
    for (let i = 0; i < n; i += 3) load.push({ t: 'expire', k: poolKey(i), n: 100 + (i * 7) % 4000, ms: true, flag: '' })
    const { shard, m } = runOps([...load, ...ops, { t: 'advance', ms: 10_000 }, ...Array.from({ length: 40 }, (): Op => ({ t: 'active', buckets: 64 }))])
    // Enough idle ticks to finish any rehash (64 buckets each) and sweep every bucket after it:
    // nothing expired may remain.
    for (let i = 0; i < 160; i++) step(shard, m, { t: 'active', buckets: 1024 })
    expect(shard.keyCount()).toBe(m.live())
  })
