// The spin gate: open while spins find work early, shut (but probing) while they miss or find it
// late in their budget, open again on early hits.
import { describe, expect, it } from 'vitest'
import { SpinGate } from '../../src/spin-gate.js'

/** Offers `chances`, each spin worth `worth` (1: work at once, 0: ran out); the spins taken. */
function spins (g: SpinGate, chances: number, worth: number): number {
  let n = 0
  for (let i = 0; i < chances; i++) {
    if (!g.shouldSpin()) continue
    n++
    g.record(worth)
  }
  return n
}

describe('SpinGate', () => {
  it('spins at every chance while spins find work', () => {
    expect(spins(new SpinGate(), 1000, true)).toBe(1000)
  })

  it('after misses spins only at a fraction of its chances, and hits at its probes open it again', () => {
    const g = new SpinGate()
    const missed = spins(g, 1000, 0)
    expect(missed).toBeLessThan(300)
    expect(missed).toBeGreaterThan(100) // it keeps probing
    let hitAt = -1
    for (let i = 0; i < 100 && hitAt < 0; i++) if (g.shouldSpin()) { g.record(1); hitAt = i }
    expect(hitAt).toBeGreaterThanOrEqual(0)
    expect(spins(g, 100, 1)).toBeGreaterThan(90)
    expect(spins(g, 100, 1)).toBe(100)
  })

  it('shuts where spins find work only late in their budget, and stays open where they find it early', () => {
    // A client per request (-k 0): the next request came just before each spin ran out.
    expect(spins(new SpinGate(), 1000, 0.1)).toBeLessThan(300)
    // One client at a time: the next request a fifth of the way in.
    expect(spins(new SpinGate(), 1000, 0.8)).toBe(1000)
  })

  it('an idle pause (one miss between bursts) does not shut it', () => {
    const g = new SpinGate()
    for (let burst = 0; burst < 50; burst++) {
      expect(spins(g, 20, 1)).toBe(20)
      spins(g, 1, 0)
    }
  })

  it('spin: true once the word has moved, false when it stays; a shut gate does not spin', () => {
    const word = new Int32Array(1)
    const g = new SpinGate()
    word[0] = 1
    expect(g.spin(word, 0, 0, 5)).toBe(true)
    expect(g.spin(word, 0, 1, 1)).toBe(false)
    for (let i = 0; i < 20; i++) g.record(0)
    // Shut: at most one chance in four spins, and those that do still see the word.
    let spun = 0
    for (let i = 0; i < 8; i++) if (g.spin(word, 0, 0, 5)) spun++
    expect(spun).toBeGreaterThan(0)
    expect(spun).toBeLessThan(8)
  })
})
