// CLIENT TRACKING's shard table (storage/tracking.ts), in-process over its shared words: a key
// read by a tracking client is invalidated once, for that client's thread, then forgotten; a
// client that turned tracking off (or whose slot now holds another client) gets nothing; NOLOOP
// skips the writer's own change; a REDIRECT goes to the target's slot and thread, or reports a
// broken redirect when the target left; BCAST keys go to the threads with BCAST clients; FLUSH
// reaches every tracking client; INFO's counts follow.
import { describe, expect, it } from 'vitest'
import {
  TrackingTable, TrackingWords, TRACKING_BYTES, TRK_KEY, TRK_BROKEN, TRK_NULL, TRK_BCAST, OPT_BCAST, OPT_NOLOOP, G_BCAST, G_BCAST_OF,
  setMaxKeys, maxKeysOf,
} from '../../../src/storage/tracking.js'

const key = (s: string): Buffer => Buffer.from(s)

function setup (): { t: TrackingTable, w: TrackingWords } {
  const w = new TrackingWords(new SharedArrayBuffer(TRACKING_BYTES + 64), 64)
  return { t: new TrackingTable(w), w }
}

/** A connection in `slot` on thread `prod`, tracking as client `id` when `on`. */
function client (w: TrackingWords, slot: number, id: number, prod: number, on = true, opts = 0): void {
  w.conn[slot] = id
  w.prod[slot] = prod
  if (on) { w.on[slot] = id; w.opts[slot] = opts }
}

function decode (payload: Buffer): { op: number, slot: number, id: number, aux: number, rest: string } {
  return { op: payload[1], slot: payload.readUInt32LE(4), id: payload.readUInt32LE(8), aux: payload.readUInt32LE(12), rest: payload.subarray(16).toString('latin1') }
}

function remember (t: TrackingTable, slot: number, k: string): void { const b = key(k); t.remember(slot, b, 0, b.length) }
function touch (t: TrackingTable, k: string, writer = 0): void { const b = key(k); t.writer = writer; t.touch(b, 0, b.length) }

describe('TrackingTable', () => {
  it('invalidates a read key once, for its reader\'s thread, and forgets it', () => {
    const { t, w } = setup()
    client(w, 5, 100, 2)
    client(w, 6, 101, 0)
    remember(t, 5, 'a')
    remember(t, 6, 'a')
    remember(t, 5, 'a')
    remember(t, 5, 'b')
    expect([t.size, t.items]).toEqual([2, 3])
    touch(t, 'a')
    expect(t.out.map(o => [o.producer, decode(o.payload)])).toEqual([
      [2, { op: TRK_KEY, slot: 5, id: 100, aux: 0, rest: 'a' }],
      [0, { op: TRK_KEY, slot: 6, id: 101, aux: 0, rest: 'a' }],
    ])
    expect([t.size, t.items]).toEqual([1, 1])
    t.out.length = 0
    touch(t, 'a')
    touch(t, 'zzz')
    expect(t.out).toEqual([])
    expect(t.isActive).toBe(true)
  })

  it('skips a client that stopped tracking, a new client in the same slot, BCAST clients and NOLOOP writers', () => {
    const { t, w } = setup()
    client(w, 1, 10, 0)
    client(w, 2, 20, 0, true, OPT_NOLOOP)
    client(w, 3, 30, 0)
    for (const s of [1, 2, 3]) remember(t, s, 'k')
    w.on[1] = 0
    w.on[3] = 31
    touch(t, 'k', 2)
    expect(t.out).toEqual([])
    client(w, 4, 40, 1, true, OPT_BCAST)
    remember(t, 4, 'k')
    expect(t.size).toBe(0)
  })

  it('sends to the REDIRECT target, or reports it broken once it left', () => {
    const { t, w } = setup()
    client(w, 7, 70, 1)
    client(w, 9, 90, 3, false)
    w.redir[7] = 90
    w.rslot[7] = 9
    remember(t, 7, 'r')
    touch(t, 'r')
    expect(t.out.map(o => [o.producer, decode(o.payload)])).toEqual([[3, { op: TRK_KEY, slot: 9, id: 90, aux: 1, rest: 'r' }]])
    t.out.length = 0
    w.conn[9] = 0
    remember(t, 7, 'r')
    touch(t, 'r')
    expect(t.out.map(o => [o.producer, decode(o.payload)])).toEqual([[1, { op: TRK_BROKEN, slot: 7, id: 70, aux: 90, rest: '' }]])
  })

  it('collects modified keys for the threads with BCAST clients only while one exists', () => {
    const { t, w } = setup()
    touch(t, 'x')
    expect(t.bcastKeys).toEqual([])
    w.g[G_BCAST] = 1
    w.g[G_BCAST_OF + 2] = 1
    expect(t.isActive).toBe(true)
    touch(t, 'x', 4)
    touch(t, 'yy', 4)
    const recs = t.bcastRecords(4)
    expect(recs.map(r => r.producer)).toEqual([2])
    const d = decode(recs[0].payload)
    expect([d.op, d.slot, d.aux]).toEqual([TRK_BCAST, 4, 2])
    expect(d.rest).toBe('\x01\x00\x00\x00x\x02\x00\x00\x00yy')
    expect(t.bcastKeys).toEqual([])
  })

  it('FLUSH: every tracking client (BCAST ones too) or its target gets the null; the table empties', () => {
    const { t, w } = setup()
    client(w, 1, 10, 0)
    client(w, 2, 20, 1, true, OPT_BCAST)
    client(w, 3, 30, 1)
    client(w, 4, 40, 0, false)
    w.redir[3] = 40
    w.rslot[3] = 4
    remember(t, 1, 'k')
    t.clear()
    t.flushAll()
    expect([t.size, t.items]).toEqual([0, 0])
    expect(t.out.map(o => [o.producer, decode(o.payload).op, decode(o.payload).slot, decode(o.payload).aux])).toEqual([
      [0, TRK_NULL, 1, 0], [1, TRK_NULL, 2, 0], [0, TRK_NULL, 4, 1],
    ])
  })

  it('counts distinct BCAST prefixes over every thread', () => {
    const { t } = setup()
    const p = key('user:')
    t.changePrefix(1, p, 0, p.length)
    t.changePrefix(1, p, 0, p.length)
    t.changePrefix(1, key(''), 0, 0)
    expect(t.prefixCount).toBe(2)
    t.changePrefix(-1, p, 0, p.length)
    t.changePrefix(-1, key(''), 0, 0)
    expect(t.prefixCount).toBe(1)
  })

  it('tracking-table-max-keys: over the limit of all shards together, forgets its oldest keys as invalidations', () => {
    const { t, w } = setup()
    // A second shard over the same words, holding one key.
    const other = new TrackingTable(w, 1, 2)
    const mine = new TrackingTable(w, 0, 2)
    client(w, 5, 100, 1)
    remember(other, 5, 'x')
    for (const k of ['a', 'b', 'c', 'd']) remember(mine, 5, k)
    expect(mine.totalKeys()).toBe(5)
    setMaxKeys(w, 0n)
    mine.limit()
    expect(mine.out.length).toBe(0)
    setMaxKeys(w, 3n)
    expect(maxKeysOf(w)).toBe(3n)
    mine.limit()
    // Two of its own go, the oldest first; the other shard's key stays.
    expect(mine.out.map(p => decode(p.payload))).toEqual(['a', 'b'].map(rest => ({ op: TRK_KEY, slot: 5, id: 100, aux: 0, rest })))
    expect(mine.out.every(p => p.producer === 1)).toBe(true)
    expect([mine.size, other.size, mine.totalKeys(), mine.items]).toEqual([2, 1, 3, 2])
    // A forgotten key is no longer tracked: its change sends nothing.
    mine.out.length = 0
    touch(mine, 'a')
    expect(mine.out.length).toBe(0)
    // Past 2^32 the limit is never reached.
    setMaxKeys(w, 1n << 40n)
    expect(maxKeysOf(w)).toBe(1n << 40n)
    remember(mine, 5, 'e')
    mine.limit()
    expect(mine.out.length).toBe(0)
    expect(t.size).toBe(0)
  })
})
