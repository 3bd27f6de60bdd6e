// The sequencer's shared words (src/server/sequencer.ts): per-shard tickets taken together, the
// seqlock a single-shard command reads them with, and where each producer's epoch words live.
import { describe, expect, it } from 'vitest'
import { Sequencer, snapshot, epochIndex, epochProducers, versionIndex } from '../../../src/server/sequencer.js'

describe('Sequencer', () => {
  it('takes the next ticket of each shard a command touches, starting at 1', () => {
    const seq = new Sequencer(3, undefined, 2)
    const t = new Int32Array(3)
    seq.take([0, 2], 2, t)
    expect([t[0], t[1]]).toEqual([1, 1])
    seq.take([2, 1, 0], 3, t)
    expect([...t]).toEqual([2, 1, 2])
    const w = new Int32Array(seq.sab)
    expect([0, 1, 2].map(s => snapshot(w, 3, s))).toEqual([2, 1, 2])
  })

  it('bumps the version twice per take (even between takes: a snapshot never waits then)', () => {
    const seq = new Sequencer(2)
    const w = new Int32Array(seq.sab)
    const t = new Int32Array(2)
    for (let i = 1; i <= 3; i++) {
      seq.take([0, 1], 2, t)
      expect(w[versionIndex(2)]).toBe(2 * i)
    }
  })

  it('gives every (producer, shard) pair its own epoch word after the version, none without producers', () => {
    const shards = 4
    const seq = new Sequencer(shards, undefined, 3)
    const w = new Int32Array(seq.sab)
    expect(epochProducers(w.length, shards)).toBe(3)
    const at = new Set<number>()
    for (let q = 0; q < 3; q++) for (let s = 0; s < shards; s++) at.add(epochIndex(shards, q, s))
    expect(at.size).toBe(12)
    expect(Math.min(...at)).toBe(versionIndex(shards) + 1)
    expect(Math.max(...at)).toBe(w.length - 1)
    expect(epochProducers(new Int32Array(new Sequencer(shards).sab).length, shards)).toBe(0)
  })
})
