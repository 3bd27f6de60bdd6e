// Output credit bookkeeping on the primary (src/server/credits.ts), without threads: the shard's
// side is played by Atomics.sub on the shared word, as workers/shard-worker.ts does.
import { describe, expect, it } from 'vitest'
import { Credits, CREDIT_BYTES, CREDIT_SLOTS, MAX_DEBIT } from '../../../src/server/credits.js'

/** A shard produced a reply of len bytes for slot (debit), and the primary drained it. */
function reply (c: Credits, slot: number, len: number, late = false): void {
  Atomics.sub(c.credit, slot, Math.min(len, MAX_DEBIT))
  c.replied(slot, len, late)
}

describe('Credits', () => {
  it('gives a new slot the full credit, and returns what has left the connection', () => {
    const c = new Credits()
    const s = c.alloc()
    expect(s).toBeGreaterThan(0)
    expect(Atomics.load(c.credit, s)).toBe(CREDIT_BYTES)
    c.staged(s)
    reply(c, s, 10 * 1024 * 1024)
    c.staged(s)
    reply(c, s, 10 * 1024 * 1024)
    expect(c.isExhausted(s)).toBe(true)
    // 4 MiB still buffered: everything else comes back.
    c.settle(s, 4 * 1024 * 1024)
    expect(Atomics.load(c.credit, s)).toBe(CREDIT_BYTES - 4 * 1024 * 1024)
    expect(c.isExhausted(s)).toBe(false)
    c.settle(s, 0)
    expect(Atomics.load(c.credit, s)).toBe(CREDIT_BYTES)
    // Settling again returns nothing twice.
    c.settle(s, 0)
    expect(Atomics.load(c.credit, s)).toBe(CREDIT_BYTES)
  })

  it('wakes the shards when credit comes back to a slot with parked requests, not otherwise', () => {
    const c = new Credits()
    let kicks = 0
    c.kick = () => { kicks++ }
    const s = c.alloc()
    c.staged(s)
    reply(c, s, CREDIT_BYTES + 1)
    c.staged(s)
    c.parked(s)
    expect(kicks).toBe(0)
    expect(c.parkedNow).toBe(1)
    c.settle(s, 0)
    expect(kicks).toBe(1)
    reply(c, s, 100, true)
    expect(c.parkedNow).toBe(0)
    expect(c.parkedTotal).toBe(1)
    c.settle(s, 0)
    expect(kicks).toBe(1)
  })

  it('a placeholder drained after the credit came back wakes the shards at once', () => {
    const c = new Credits()
    let kicks = 0
    c.kick = () => { kicks++ }
    const s = c.alloc()
    c.staged(s)
    c.parked(s)
    expect(kicks).toBe(1)
  })

  it('keeps a closed slot until its last request is answered, then reuses it', () => {
    const c = new Credits()
    let kicks = 0
    c.kick = () => { kicks++ }
    const s = c.alloc()
    c.staged(s)
    c.staged(s)
    reply(c, s, CREDIT_BYTES)
    c.parked(s)
    c.release(s)
    expect(kicks).toBe(1) // the parked request may run now, its reply dropped
    expect(c.isExhausted(s)).toBe(false)
    const before = c.inUse
    reply(c, s, 5, true)
    expect(c.inUse).toBe(before - 1)
    const again = c.alloc()
    expect(again).toBe(s)
    expect(Atomics.load(c.credit, again)).toBe(CREDIT_BYTES)
  })

  it('runs out of slots into slot 0, which is never accounted', () => {
    const c = new Credits()
    for (let i = 1; i < CREDIT_SLOTS; i++) expect(c.alloc()).toBeGreaterThan(0)
    expect(c.alloc()).toBe(0)
    expect(c.isExhausted(0)).toBe(false)
    c.staged(0)
    c.replied(0, 1 << 30, false)
    c.settle(0, 0)
    expect(Atomics.load(c.credit, 0)).toBe(0)
  })
})
