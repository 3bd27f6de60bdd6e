// The spin gate: open while spins find work, shut (but probing) while they miss, open again on a hit.
import { describe, expect, it } from 'vitest'
import { SpinGate } from '../../src/spin-gate.js'

function spins (g: SpinGate, chances: number, hit: boolean): number {
  let n = 0
  for (let i = 0; i < chances; i++) {
    if (!g.shouldSpin()) continue
    n++
    g.record(hit)
  }
  return n
}

describe('SpinGate', () => {
  it('spins at every chance while spins find work', () => {
    expect(spins(new SpinGate(), 1000, true)).toBe(1000)
  })

  it('after misses spins only at a fraction of its chances, and hits at its probes open it again', () => {
    const g = new SpinGate()
    const missed = spins(g, 1000, false)
    expect(missed).toBeLessThan(300)
    expect(missed).toBeGreaterThan(100) // it keeps probing
    let hitAt = -1
    for (let i = 0; i < 100 && hitAt < 0; i++) if (g.shouldSpin()) { g.record(true); hitAt = i }
    expect(hitAt).toBeGreaterThanOrEqual(0)
    expect(spins(g, 100, true)).toBeGreaterThan(90)
    expect(spins(g, 100, true)).toBe(100)
  })

  it('an idle pause (one miss between bursts) does not shut it', () => {
    const g = new SpinGate()
    for (let burst = 0; burst < 50; burst++) {
      expect(spins(g, 20, true)).toBe(20)
      spins(g, 1, false)
    }
  })

  it('spin: true once the word has moved, false when it stays; a shut gate does not spin', () => {
    const word = new Int32Array(1)
    const g = new SpinGate()
    word[0] = 1
    expect(g.spin(word, 0, 0, 5)).toBe(true)
    expect(g.spin(word, 0, 1, 1)).toBe(false)
    for (let i = 0; i < 20; i++) g.record(false)
    // Shut: at most one chance in four spins, and those that do still see the word.
    let spun = 0
    for (let i = 0; i < 8; i++) if (g.spin(word, 0, 0, 5)) spun++
    expect(spun).toBeGreaterThan(0)
    expect(spun).toBeLessThan(8)
  })
})
