// Geohash arithmetic as Redis 7.0.15 does it (geohash.c, geohash_helper.c): a point is a 52-bit
// score, latitude bits in the even positions and longitude bits in the odd ones (step 26 each),
// over [-180,180] x [-85.05112878,85.05112878]. Searches cover a shape with the cell holding
// its centre and that cell's 8 neighbours, at a step estimated from the radius.
//
// Every operation keeps C's order and types, so results match bit for bit: offsets truncate to
// uint32 before interleaving (an offset of exactly 2^step spills into the next bit, as in C),
// a score becomes uint64 as x86-64 gcc converts it, and ilat + 1 wraps in 32 bits.

import { crAsin, crCos, crSin } from './crmath.js'

export const GEO_STEP_MAX = 26
export const GEO_LAT_MIN = -85.05112878
export const GEO_LAT_MAX = 85.05112878
export const GEO_LONG_MIN = -180
export const GEO_LONG_MAX = 180

const EARTH_RADIUS_IN_METERS = 6372797.560856
const MERCATOR_MAX = 20037726.37
const D_R = Math.PI / 180.0
const TWO32 = 4294967296
const MASK64 = (1n << 64n) - 1n

const degRad = (ang: number): number => ang * D_R
const radDeg = (ang: number): number => ang / D_R

/** A geohash cell: `bits` (may carry a spilled bit above 2*step) and its step. */
export interface Cell { bits: bigint, step: number }

/** A cell's extent in degrees. */
export interface Area { lonMin: number, lonMax: number, latMin: number, latMax: number }

/** 16 bits spread to the even positions of 32. */
function spread (x: number): number {
  x = (x | (x << 8)) & 0x00FF00FF
  x = (x | (x << 4)) & 0x0F0F0F0F
  x = (x | (x << 2)) & 0x33333333
  x = (x | (x << 1)) & 0x55555555
  return x >>> 0
}

/** The even bits of a 32-bit word, packed into 16. */
function squash (x: number): number {
  x &= 0x55555555
  x = (x | (x >>> 1)) & 0x33333333
  x = (x | (x >>> 2)) & 0x0F0F0F0F
  x = (x | (x >>> 4)) & 0x00FF00FF
  x = (x | (x >>> 8)) & 0x0000FFFF
  return x
}

/** interleave64(lat, lon) of two uint32 values, as a BigInt. */
function interleave (lat: number, lon: number): bigint {
  const lo = (spread(lat & 0xFFFF) | (spread(lon & 0xFFFF) << 1)) >>> 0
  const hi = (spread(lat >>> 16) | (spread(lon >>> 16) << 1)) >>> 0
  return (BigInt(hi) << 32n) | BigInt(lo)
}

/** The lat and lon fields (uint32 each) of 64 interleaved bits given as two 32-bit halves. */
function deinterleave (hi: number, lo: number, out: Uint32Array): void {
  out[0] = (squash(lo) | (squash(hi) << 16)) >>> 0
  out[1] = (squash(lo >>> 1) | (squash(hi >>> 1) << 16)) >>> 0
}

const fields = new Uint32Array(2)

/**
 * geohashEncode over the given ranges (Redis's GEO ranges unless told): the cell of a point at
 * `step`. The caller has checked the point against the GEO limits.
 */
export function encode (lon: number, lat: number, step: number, latMin = GEO_LAT_MIN, latMax = GEO_LAT_MAX): Cell {
  let latOffset = (lat - latMin) / (latMax - latMin)
  let lonOffset = (lon - GEO_LONG_MIN) / (GEO_LONG_MAX - GEO_LONG_MIN)
  latOffset *= 2 ** step
  lonOffset *= 2 ** step
  return { bits: interleave(latOffset >>> 0, lonOffset >>> 0), step }
}

/** geohashAlign52Bits, as the uint64 the ZADD argument is printed from. */
export function align52 (c: Cell): bigint {
  return (c.bits << BigInt(52 - c.step * 2)) & MASK64
}

/** The score GEOADD stores for a point: its step-26 cell as a decimal integer string. */
export function scoreTextOf (lon: number, lat: number): string {
  return align52(encode(lon, lat, GEO_STEP_MAX)).toString()
}

/** geohashDecode of the lat/lon fields at `step`, over the given latitude range. */
function decodeFields (ilat: number, ilon: number, step: number, latMin: number, latMax: number, a: Area): Area {
  const latScale = latMax - latMin
  const lonScale = GEO_LONG_MAX - GEO_LONG_MIN
  const div = 2 ** step
  a.latMin = latMin + (ilat * 1.0 / div) * latScale
  a.latMax = latMin + (((ilat + 1) >>> 0) * 1.0 / div) * latScale
  a.lonMin = GEO_LONG_MIN + (ilon * 1.0 / div) * lonScale
  a.lonMax = GEO_LONG_MIN + (((ilon + 1) >>> 0) * 1.0 / div) * lonScale
  return a
}

export function decodeCell (c: Cell): Area {
  const b = c.bits & MASK64
  deinterleave(Number(b >> 32n), Number(b & 0xFFFFFFFFn), fields)
  return decodeFields(fields[0], fields[1], c.step, GEO_LAT_MIN, GEO_LAT_MAX, { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 })
}

/**
 * (uint64_t)score as x86-64 gcc converts it (cvttsd2si, with 2^63 subtracted first from large
 * values): negative scores wrap, NaN and values out of range give 2^63 or 0. Halves in hi, lo.
 */
function scoreBits (score: number, out: Uint32Array): void {
  if (score >= 0 && score < 9007199254740992) {
    const t = Math.trunc(score)
    const hi = Math.floor(t / TWO32)
    out[0] = hi
    out[1] = t - hi * TWO32
    return
  }
  const cvt = (x: number): bigint => (Number.isNaN(x) || Math.abs(x) >= 2 ** 63) ? 1n << 63n : BigInt(Math.trunc(x)) & MASK64
  const v = score >= 2 ** 63 ? cvt(score - 2 ** 63) ^ (1n << 63n) : cvt(score)
  out[0] = Number(v >> 32n)
  out[1] = Number(v & 0xFFFFFFFFn)
}

const halves = new Uint32Array(2)

const LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN
const LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN
const CELLS_26 = 2 ** GEO_STEP_MAX

/**
 * decodeGeohash: the centre of a score's step-26 cell, clamped to the GEO limits, into xy
 * (longitude, latitude). Always succeeds, whatever the score (any sorted set can be asked).
 * Every candidate of a search comes through here: the common score (an integer below 2^53)
 * takes a path with no allocation and no typed-array traffic.
 */
export function decodeScore (score: number, xy: Float64Array): void {
  let hi: number
  let lo: number
  if (score >= 0 && score < 9007199254740992) {
    const t = Math.trunc(score)
    hi = (t / TWO32) >>> 0
    lo = (t - hi * TWO32) >>> 0
  } else {
    scoreBits(score, halves)
    hi = halves[0]
    lo = halves[1]
  }
  const ilat = (squash(lo) | (squash(hi) << 16)) >>> 0
  const ilon = (squash(lo >>> 1) | (squash(hi >>> 1) << 16)) >>> 0
  const latMin = GEO_LAT_MIN + (ilat / CELLS_26) * LAT_SCALE
  const latMax = GEO_LAT_MIN + (((ilat + 1) >>> 0) / CELLS_26) * LAT_SCALE
  const lonMin = GEO_LONG_MIN + (ilon / CELLS_26) * LONG_SCALE
  const lonMax = GEO_LONG_MIN + (((ilon + 1) >>> 0) / CELLS_26) * LONG_SCALE
  let x = (lonMin + lonMax) / 2
  if (x > GEO_LONG_MAX) x = GEO_LONG_MAX
  if (x < GEO_LONG_MIN) x = GEO_LONG_MIN
  let y = (latMin + latMax) / 2
  if (y > GEO_LAT_MAX) y = GEO_LAT_MAX
  if (y < GEO_LAT_MIN) y = GEO_LAT_MIN
  xy[0] = x
  xy[1] = y
}

const GEOALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz'

/**
 * GEOHASH's 11 characters: the point re-encoded over latitude [-90,90]. The 11th character
 * shifts by a negative count in C (52 - 55), which x86 masks to 61: always '0' for 52 bits.
 */
export function standardGeohash (lon: number, lat: number): string {
  const bits = encode(lon, lat, GEO_STEP_MAX, -90, 90).bits
  let s = ''
  for (let i = 0; i < 11; i++) {
    const shift = (52 - (i + 1) * 5) & 63
    s += GEOALPHABET[Number((bits >> BigInt(shift)) & 0x1Fn)]
  }
  return s
}

/** geohashGetLatDistance: along a meridian, the arc itself (no trigonometry). */
function latDistance (lat1d: number, lat2d: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2d) - degRad(lat1d))
}

/**
 * geohashGetDistance: haversine over Redis's earth radius, in meters. As in Redis 7.0.15, two
 * points on one meridian (the sine of half their longitude difference is 0) take
 * geohashGetLatDistance instead.
 */
export function distance (lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lon1r = degRad(lon1d)
  const lon2r = degRad(lon2d)
  const v = Math.sin((lon2r - lon1r) / 2)
  if (v === 0) return latDistance(lat1d, lat2d)
  const lat1r = degRad(lat1d)
  const lat2r = degRad(lat2d)
  const u = Math.sin((lat2r - lat1r) / 2)
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v))
}

/**
 * The same haversine with correctly rounded sin, cos and asin (storage/crmath.ts), as glibc's
 * nearly always are: for the distances Redis prints, whose last bits V8's Math would change.
 */
export function exactDistance (lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lon1r = degRad(lon1d)
  const lon2r = degRad(lon2d)
  const v = crSin((lon2r - lon1r) / 2)
  if (v === 0) return latDistance(lat1d, lat2d)
  const lat1r = degRad(lat1d)
  const lat2r = degRad(lat2d)
  const u = crSin((lat2r - lat1r) / 2)
  return 2.0 * EARTH_RADIUS_IN_METERS * crAsin(Math.sqrt(u * u + crCos(lat1r) * crCos(lat2r) * v * v))
}

/** A search shape: centre, a radius or a box (in `conversion` units: meters per unit). */
export interface Shape {
  lon: number
  lat: number
  isBox: boolean
  radius: number
  width: number
  height: number
  conversion: number
  /** Set by prepareShape. */
  latR: number
  lonR: number
  cosLat: number
}

/**
 * geoWithinShape for a point already decoded: its distance from the centre in meters, or -1
 * when outside (geohashGetDistanceIfInRadius / geohashGetDistanceIfInRectangle of 7.0.15: a
 * box checks the latitude distance first, then the longitude one). These are distance()'s
 * computations with the centre's radians and cosine taken once (prepareShape) and the zero
 * terms of a distance along a parallel left out: every result is the same double.
 */
export function distanceIfWithin (s: Shape, lon: number, lat: number): number {
  const latR = degRad(lat)
  const lonR = degRad(lon)
  if (s.isBox) {
    if (EARTH_RADIUS_IN_METERS * Math.abs(s.latR - latR) > s.height * s.conversion / 2) return -1
    const vc = Math.sin((s.lonR - lonR) / 2)
    const cosLat = Math.cos(latR)
    if (vc !== 0 && 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(cosLat * cosLat * vc * vc)) > s.width * s.conversion / 2) return -1
  }
  const v = Math.sin((lonR - s.lonR) / 2)
  let d: number
  if (v === 0) {
    d = EARTH_RADIUS_IN_METERS * Math.abs(latR - s.latR)
  } else {
    const u = Math.sin((latR - s.latR) / 2)
    d = 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(u * u + s.cosLat * Math.cos(latR) * v * v))
  }
  return !s.isBox && d > s.radius * s.conversion ? -1 : d
}

/** Sets the centre's radians and cosine once its coordinates are known. */
export function prepareShape (s: Shape): void {
  s.latR = degRad(s.lat)
  s.lonR = degRad(s.lon)
  s.cosLat = Math.cos(s.latR)
}

/** geohashEstimateStepsByRadius. */
function estimateSteps (rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26
  let step = 1
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2
    step++
  }
  step -= 2
  if (lat > 66 || lat < -66) {
    step--
    if (lat > 80 || lat < -80) step--
  }
  if (step < 1) step = 1
  if (step > 26) step = 26
  return step
}

/** geohash_move_x / geohash_move_y on the interleaved bits (wrapping inside 2*step bits). */
function move (c: Cell, dx: number, dy: number): Cell {
  let bits = c.bits
  const width = BigInt(64 - c.step * 2)
  const odd = 0xAAAAAAAAAAAAAAAAn
  const even = 0x5555555555555555n
  if (dx !== 0) {
    let x = bits & odd
    const y = bits & even
    const zz = even >> width
    x = dx > 0 ? x + (zz + 1n) : (x | zz) - (zz + 1n)
    x = (x & MASK64) & (odd >> width)
    bits = x | y
  }
  if (dy !== 0) {
    const x = bits & odd
    let y = bits & even
    const zz = odd >> width
    y = dy > 0 ? y + (zz + 1n) : (y | zz) - (zz + 1n)
    y = (y & MASK64) & (even >> width)
    bits = x | y
  }
  return { bits, step: c.step }
}

/**
 * geohashCalculateAreasByShapeWGS84 then membersOfAllNeighbors' order: the score ranges
 * [min, max) to walk, centre first, then N, S, E, W, NE, NW, SE, SW, the excluded ones left
 * out and a cell equal to the one walked before it skipped (Redis compares with the last
 * processed cell, never with the centre).
 */
export function searchRanges (s: Shape): Array<[number, number]> {
  const height = s.conversion * (s.isBox ? s.height / 2 : s.radius)
  const width = s.conversion * (s.isBox ? s.width / 2 : s.radius)
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS)
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat + latDelta)))
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(s.lat - latDelta)))
  const isSouth = s.lat < 0
  const minLon = isSouth ? s.lon - lonDeltaBottom : s.lon - lonDeltaTop
  const maxLon = isSouth ? s.lon + lonDeltaBottom : s.lon + lonDeltaTop
  const minLat = s.lat - latDelta
  const maxLat = s.lat + latDelta

  let radiusMeters = s.isBox ? Math.sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2)) : s.radius
  radiusMeters *= s.conversion
  let steps = estimateSteps(radiusMeters, s.lat)
  let hash = encode(s.lon, s.lat, steps)
  let n = neighboursOf(hash)
  let area = decodeCell(hash)
  const north = decodeCell(n[0])
  const south = decodeCell(n[1])
  const east = decodeCell(n[2])
  const west = decodeCell(n[3])
  const isTooSmall = north.latMax < maxLat || south.latMin > minLat || east.lonMax < maxLon || west.lonMin > minLon
  if (steps > 1 && isTooSmall) {
    steps--
    hash = encode(s.lon, s.lat, steps)
    n = neighboursOf(hash)
    area = decodeCell(hash)
  }
  // n: N, S, E, W, NE, NW, SE, SW
  const cells: Array<Cell | null> = [hash, ...n]
  if (steps >= 2) {
    if (area.latMin < minLat) { cells[2] = null; cells[8] = null; cells[7] = null }
    if (area.latMax > maxLat) { cells[1] = null; cells[5] = null; cells[6] = null }
    if (area.lonMin < minLon) { cells[4] = null; cells[8] = null; cells[6] = null }
    if (area.lonMax > maxLon) { cells[3] = null; cells[7] = null; cells[5] = null }
  }
  const ranges: Array<[number, number]> = []
  let last = 0
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]
    if (c === null) continue
    const prev = cells[last]
    if (last !== 0 && prev !== null && c.bits === prev.bits && c.step === prev.step) continue
    const min = align52(c)
    const max = align52({ bits: c.bits + 1n, step: c.step })
    ranges.push([Number(min), Number(max)])
    last = i
  }
  return ranges
}

/** N, S, E, W, NE, NW, SE, SW (geohashNeighbors). */
function neighboursOf (c: Cell): Cell[] {
  return [move(c, 0, 1), move(c, 0, -1), move(c, 1, 0), move(c, -1, 0), move(c, 1, 1), move(c, -1, 1), move(c, 1, -1), move(c, -1, -1)]
}
