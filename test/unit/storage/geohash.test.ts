// Geohash arithmetic (src/storage/geohash.ts) and the partial sort of geo searches
// (src/commands/geo.ts pqsort), checked against values recorded from redis-server 7.0.15:
// GEOADD's scores, GEOPOS's decoded cell centres, GEOHASH's strings, GEODIST's meters.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeScore, distance, scoreTextOf, searchRanges, standardGeohash, type Shape } from '../../../src/storage/geohash.js'
import { formatLongDoubleHuman } from '../../../src/commands/float.js'
import { pqsort } from '../../../src/commands/geo.js'

/** addReplyHumanLongDouble's text of a (positive or negative) double. */
function human (d: number): string {
  const f = new Float64Array([d])
  const u = new Uint32Array(f.buffer)
  const hi = u[1] & 0x7FFFFFFF
  const bexp = hi >>> 20
  const mant = (BigInt(hi & 0xFFFFF) << 32n) | BigInt(u[0])
  return formatLongDoubleHuman(bexp === 0 ? { neg: d < 0, m: mant, e: -1074 } : { neg: d < 0, m: mant | (1n << 52n), e: bexp - 1075 })
}

function pos (score: number): [string, string] {
  const xy = new Float64Array(2)
  decodeScore(score, xy)
  return [human(xy[0]), human(xy[1])]
}

// [longitude, latitude, GEOADD's score, GEOPOS, GEOHASH], from redis-server 7.0.15.
const RECORDED: Array<[string, string, string, [string, string], string]> = [
  ['13.361389', '38.115556', '3479099956230698', ['13.36138933897018433', '38.11555639549629859'], 'sqc8b49rny0'],
  ['15.087269', '37.502669', '3479447370796909', ['15.08726745843887329', '37.50266842333162032'], 'sqdtr74hyu0'],
]

describe('geohash', () => {
  it('GEOADD scores, GEOPOS centres and GEOHASH strings as Redis computes them', () => {
    for (const [lon, lat, score, xy, hash] of RECORDED) {
      expect(scoreTextOf(Number(lon), Number(lat))).toBe(score)
      expect(pos(Number(score))).toEqual(xy)
      const c = new Float64Array(2)
      decodeScore(Number(score), c)
      expect(standardGeohash(c[0], c[1])).toBe(hash)
    }
  })

  it('scores that are no geohash decode as x86-64 converts them to uint64', () => {
    // ZADD z -1 a 1e20 b 0.5 c; GEOPOS z a b c on redis-server 7.0.15.
    expect(pos(-1)).toEqual(['180', '85.0511287799999991'])
    expect(pos(1e20)).toEqual(['-179.99999731779098511', '-85.05112751263942528'])
    expect(pos(0.5)).toEqual(['-179.99999731779098511', '-85.05112751263942528'])
  })

  it('the limits spill into the next bit, as interleave64 of an offset of 2^26 does', () => {
    // GEOADD lim 180 85.05112878 ne: the score is above 2^53 and rounds like strtod's.
    expect(BigInt(scoreTextOf(180, 85.05112878))).toBe(3n << 52n)
    expect(scoreTextOf(-180, -85.05112878)).toBe('0')
  })

  it('haversine distance over Redis\'s earth radius (GEODIST Palermo Catania = 166274.1516 m)', () => {
    const a = new Float64Array(2)
    const b = new Float64Array(2)
    decodeScore(3479099956230698, a)
    decodeScore(3479447370796909, b)
    expect(distance(a[0], a[1], b[0], b[1]).toFixed(4)).toBe('166274.1516')
  })

  it('the search covers the centre\'s own cell first, and the ranges are ordered cells of one step', () => {
    fc.assert(fc.property(
      fc.double({ min: -180, max: 180, noNaN: true }), fc.double({ min: -85.05112878, max: 85.05112878, noNaN: true }),
      fc.double({ min: 0, max: 3e7, noNaN: true }), fc.boolean(),
      (lon, lat, r, isBox) => {
        const s: Shape = { lon, lat, isBox, radius: r, width: r, height: r / 2, conversion: 1, latR: 0, lonR: 0, cosLat: 0 }
        const ranges = searchRanges(s)
        const score = Number(scoreTextOf(lon, lat))
        expect(ranges.length).toBeGreaterThan(0)
        expect(ranges.length).toBeLessThanOrEqual(9)
        const [min, max] = ranges[0]
        expect(score >= min && score < max).toBe(true)
        const width = max - min
        for (const [a, b] of ranges) expect(b - a).toBe(width)
      }))
  })
})

describe('pqsort', () => {
  it('puts the k smallest first, in order, whatever the ties', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 120 }), fc.nat(), (values, k0) => {
      const k = (k0 % values.length) + 1
      const items = values.map((v, i) => ({ v, i }))
      pqsort(items, 0, items.length, (a, b) => a.v > b.v ? 1 : a.v === b.v ? 0 : -1, 0, k - 1)
      const sorted = [...values].sort((a, b) => a - b)
      expect(items.slice(0, k).map(x => x.v)).toEqual(sorted.slice(0, k))
      expect(items.map(x => x.i).sort((a, b) => a - b)).toEqual(values.map((_v, i) => i))
    }))
  })
})
