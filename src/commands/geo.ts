// Geo commands (Redis 7.0's geo.c): a geo set is a sorted set whose scores are 52-bit geohashes
// (storage/geohash.ts). GEOADD runs ZADD; searches walk the score ranges of 9 cells, keep the
// points inside the shape, and sort them as Redis does: glibc's qsort (a stable merge sort) for
// a full sort, Redis's pqsort (an unstable partial quicksort) when COUNT cuts the result, so
// points at equal distances come out in Redis's order too. STORE forms write on the
// destination's shard; across shards the coord handler reads on the source's first.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_ZSET } from '../storage/keyspace.js'
import { zsetFind, zsetLen, zsetAt, zsetFirstByScore, nodeScore, nodeMemberAt, nodeMemberLen, formatScore, parseScore } from '../storage/zset-type.js'
import {
  GEO_LAT_MAX, GEO_LAT_MIN, GEO_LONG_MAX, GEO_LONG_MIN, type Shape, decodeScore, exactDistance, distanceIfWithin, prepareShape, scoreTextOf,
  searchRanges, standardGeohash,
} from '../storage/geohash.js'
import { EMPTY_ARRAY } from '../protocol/replies.js'
import { WRONGTYPE, SYNTAX_ERR, NOT_INTEGER, NOT_FLOAT, errorReply } from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { eventName } from '../storage/notify.js'
import { formatLongDoubleHuman } from './float.js'
import { zaddCommand } from './zset.js'
import { storePairs } from './zset-ops.js'
import { argBytes, argvOf, isErrorReply } from './txn-helpers.js'

const UNIT_ERR = errorReply('ERR unsupported unit provided. please use M, KM, FT, MI')
const RADIUS_NOT_NUMBER = errorReply('ERR need numeric radius')
const RADIUS_NEGATIVE = errorReply('ERR radius cannot be negative')
const WIDTH_NOT_NUMBER = errorReply('ERR need numeric width')
const HEIGHT_NOT_NUMBER = errorReply('ERR need numeric height')
const BOX_NEGATIVE = errorReply('ERR height or width cannot be negative')
const MEMBER_UNDECODABLE = errorReply('ERR could not decode requested zset member')
const COUNT_NOT_POSITIVE = errorReply('ERR COUNT must be > 0')
const ANY_WITHOUT_COUNT = errorReply('ERR the ANY argument requires COUNT argument')
const STORE_WITH_OPTIONS = errorReply('ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options')
const SEARCHSTORE_WITH_OPTIONS = errorReply('ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options')
const EV_GEORADIUSSTORE = eventName('georadiusstore')
const EV_GEOSEARCHSTORE = eventName('geosearchstore')

const T_NX = token('nx')
const T_XX = token('xx')
const T_CH = token('ch')
const T_WITHDIST = token('withdist')
const T_WITHHASH = token('withhash')
const T_WITHCOORD = token('withcoord')
const T_ANY = token('any')
const T_ASC = token('asc')
const T_DESC = token('desc')
const T_COUNT = token('count')
const T_STORE = token('store')
const T_STOREDIST = token('storedist')
const T_FROMMEMBER = token('frommember')
const T_FROMLONLAT = token('fromlonlat')
const T_BYRADIUS = token('byradius')
const T_BYBOX = token('bybox')
const UNITS: ReadonlyArray<[Uint8Array, number]> = [[token('m'), 1], [token('km'), 1000], [token('ft'), 0.3048], [token('mi'), 1609.34]]

/** strcasecmp against a C string: Redis reads an argument only up to its first NUL byte. */
function isWord (argv: Argv, i: number, tok: Uint8Array): boolean {
  const s = argv.start[i]
  let l = 0
  while (l < argv.len[i] && argv.buf[s + l] !== 0) l++
  return equalsLower(argv.buf, s, l, tok)
}

// --- number formatting (printf on the exact binary value, ties to even as glibc rounds) ----------

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

/** |d| as m * 2^e (d finite). */
function partsOf (d: number): { m: bigint, e: number } {
  f64[0] = d
  const hi = u32[1] & 0x7FFFFFFF
  const bexp = hi >>> 20
  const mant = (BigInt(hi & 0xFFFFF) << 32n) | BigInt(u32[0])
  if (bexp === 0) return { m: mant, e: -1074 }
  return { m: mant | (1n << 52n), e: bexp - 1075 }
}

/** printf("%.<digits>f", d). */
function fixed (d: number, digits: number): string {
  if (Number.isNaN(d)) return '-nan'
  const isNeg = d < 0 || Object.is(d, -0)
  if (!Number.isFinite(d)) return isNeg ? '-inf' : 'inf'
  const { m, e } = partsOf(d)
  const scaled = m * 10n ** BigInt(digits)
  let n: bigint
  if (e >= 0) {
    n = scaled << BigInt(e)
  } else {
    const sh = BigInt(-e)
    n = scaled >> sh
    const rem = scaled - (n << sh)
    const half = 1n << (sh - 1n)
    if (rem > half || (rem === half && (n & 1n) === 1n)) n++
  }
  let s = n.toString()
  if (digits > 0) {
    if (s.length <= digits) s = '0'.repeat(digits + 1 - s.length) + s
    s = s.slice(0, s.length - digits) + '.' + s.slice(s.length - digits)
  }
  return (isNeg ? '-' : '') + s
}

/** addReplyHumanLongDouble of a double: "%.17Lf" trimmed, a RESP3 double or a bulk string. */
function replyHuman (out: ReplyWriter, d: number): void {
  const { m, e } = partsOf(d)
  const s = formatLongDoubleHuman({ neg: d < 0, m, e })
  if (out.resp3) out.raw(Buffer.from(`,${s}\r\n`, 'latin1'))
  else out.bulkStr(s)
}

/**
 * addReplyDoubleDistance: fixedpoint_d2string(d, 4), a bulk string in either protocol. Not
 * printf's "%.4f": the distance is scaled by 10^4 in double arithmetic, then llrint rounds
 * half to even (so 15079119.32505000010 prints .3250, where "%.4f" prints .3251); 0 and -0
 * print 0.0000, and NaN (llrint's LLONG_MIN) prints -922337203685477.5808.
 */
function replyDistance (out: ReplyWriter, d: number): void {
  if (d === 0) { out.bulkStr('0.0000'); return }
  const scaled = d * 10000
  let v: bigint
  if (Number.isNaN(scaled) || Math.abs(scaled) >= 2 ** 63) {
    v = -(1n << 63n)
  } else {
    let r = Math.floor(scaled)
    const frac = scaled - r
    if (frac > 0.5 || (frac === 0.5 && r % 2 !== 0)) r++
    v = BigInt(r)
  }
  const isNeg = v < 0n
  const digits = (isNeg ? -v : v).toString().padStart(5, '0')
  out.bulkStr(`${isNeg ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`)
}

// --- argument helpers (extractLongLatOrReply, extractUnitOrReply, ...) ------------------------------

/** getDoubleFromObject (string2d): strtod over the whole argument, hexadecimal too; NaN when it is no float. */
function parseDouble (argv: Argv, i: number): number {
  return parseScore(argv.buf, argv.start[i], argv.len[i])
}

/** Longitude and latitude at argv[i], argv[i+1], into xy: null, or the error reply. */
function lonLatOrError (argv: Argv, i: number, xy: Float64Array): Buffer | null {
  for (let k = 0; k < 2; k++) {
    const v = parseDouble(argv, i + k)
    if (Number.isNaN(v)) return NOT_FLOAT
    xy[k] = v
  }
  if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN || xy[1] > GEO_LAT_MAX) {
    return errorReply(`ERR invalid longitude,latitude pair ${fixed(xy[0], 6)},${fixed(xy[1], 6)}`)
  }
  return null
}

/** Meters per unit, or -1. */
function unitOf (argv: Argv, i: number): number {
  for (const [t, v] of UNITS) if (isWord(argv, i, t)) return v
  return -1
}

/** extractDistanceOrReply into the shape: null, or the error reply. */
function radiusOrError (argv: Argv, i: number, shape: Shape): Buffer | null {
  const r = parseDouble(argv, i)
  if (Number.isNaN(r)) return RADIUS_NOT_NUMBER
  if (r < 0) return RADIUS_NEGATIVE
  shape.radius = r
  const u = unitOf(argv, i + 1)
  if (u < 0) return UNIT_ERR
  shape.conversion = u
  return null
}

/** extractBoxOrReply into the shape: null, or the error reply. */
function boxOrError (argv: Argv, i: number, shape: Shape): Buffer | null {
  const w = parseDouble(argv, i)
  if (Number.isNaN(w)) return WIDTH_NOT_NUMBER
  const h = parseDouble(argv, i + 1)
  if (Number.isNaN(h)) return HEIGHT_NOT_NUMBER
  if (h < 0 || w < 0) return BOX_NEGATIVE
  const u = unitOf(argv, i + 2)
  if (u < 0) return UNIT_ERR
  shape.width = w
  shape.height = h
  shape.conversion = u
  return null
}

/** The sorted set at argv[i]: 0 when missing, -1 (reply written) when of another type. */
function readZset (shard: Shard, argv: Argv, i: number, out: ReplyWriter): number {
  const e = shard.lookupRead(argv.buf, argv.start[i], argv.len[i])
  if (e !== 0 && shard.ks.type(e) !== TYPE_ZSET) { out.raw(WRONGTYPE); return -1 }
  return e
}

const xy = new Float64Array(2)

/** The score of a member of the set e (which may be 0), or null. */
function memberScore (shard: Shard, e: number, argv: Argv, i: number): number | null {
  if (e === 0) return null
  const n = zsetFind(shard.ks, e, argv.buf, argv.start[i], argv.len[i])
  return n === 0 ? null : nodeScore(shard.ks, n)
}

// --- GEOADD, GEOPOS, GEOHASH, GEODIST -------------------------------------------------------------

export function geoaddCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { argc } = argv
  let isNx = false
  let isXx = false
  let longidx = 2
  for (; longidx < argc; longidx++) {
    if (isWord(argv, longidx, T_NX)) isNx = true
    else if (isWord(argv, longidx, T_XX)) isXx = true
    else if (!isWord(argv, longidx, T_CH)) break
  }
  if ((argc - longidx) % 3 !== 0 || (isXx && isNx)) { out.raw(SYNTAX_ERR); return }
  // ZADD key [NX] [XX] [CH] score member ...: geoaddCommand hands its options and scores to zadd.
  const parts: Uint8Array[] = [Buffer.from('zadd'), argBytes(argv.buf, argv.start[1], argv.len[1])]
  for (let i = 2; i < longidx; i++) {
    parts.push(isWord(argv, i, T_NX) ? T_NX : isWord(argv, i, T_XX) ? T_XX : T_CH)
  }
  for (let i = longidx; i < argc; i += 3) {
    const err = lonLatOrError(argv, i, xy)
    if (err !== null) { out.raw(err); return }
    parts.push(Buffer.from(scoreTextOf(xy[0], xy[1]), 'latin1'), argBytes(argv.buf, argv.start[i + 2], argv.len[i + 2]))
  }
  zaddCommand(shard, argvOf(parts), out)
}

export function geoposCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readZset(shard, argv, 1, out)
  if (e < 0) return
  out.arrayHeader(argv.argc - 2)
  for (let i = 2; i < argv.argc; i++) {
    const score = memberScore(shard, e, argv, i)
    if (score === null) { out.nullArray(); continue }
    decodeScore(score, xy)
    out.arrayHeader(2)
    replyHuman(out, xy[0])
    replyHuman(out, xy[1])
  }
}

export function geohashCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = readZset(shard, argv, 1, out)
  if (e < 0) return
  out.arrayHeader(argv.argc - 2)
  for (let i = 2; i < argv.argc; i++) {
    const score = memberScore(shard, e, argv, i)
    if (score === null) { out.nullBulk(); continue }
    decodeScore(score, xy)
    out.bulkStr(standardGeohash(xy[0], xy[1]))
  }
}

export function geodistCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  let toMeter = 1
  if (argv.argc === 5) {
    toMeter = unitOf(argv, 4)
    if (toMeter < 0) { out.raw(UNIT_ERR); return }
  } else if (argv.argc > 5) {
    out.raw(SYNTAX_ERR)
    return
  }
  const e = readZset(shard, argv, 1, out)
  if (e < 0) return
  const s1 = memberScore(shard, e, argv, 2)
  const s2 = memberScore(shard, e, argv, 3)
  if (s1 === null || s2 === null) { out.nullBulk(); return }
  decodeScore(s1, xy)
  const lon1 = xy[0]
  const lat1 = xy[1]
  decodeScore(s2, xy)
  replyDistance(out, exactDistance(lon1, lat1, xy[0], xy[1]) / toMeter)
}

// --- searches (georadiusGeneric) -------------------------------------------------------------------

const RADIUS_COORDS = 1
const RADIUS_MEMBER = 2
const RADIUS_NOSTORE = 4
const GEOSEARCH = 8
const GEOSEARCHSTORE = 16

const SORT_NONE = 0
const SORT_ASC = 1
const SORT_DESC = 2

interface GeoPoint { member: Buffer, lon: number, lat: number, dist: number, score: number }

/** A search's outcome: the points to return or store (sorted, cut to COUNT, distances in units). */
interface GeoResult {
  points: GeoPoint[]
  withDist: boolean
  withHash: boolean
  withCoord: boolean
  /** argv index of the STORE/STOREDIST destination (GEOSEARCHSTORE: 1), or -1. */
  storeIdx: number
  isStoreDist: boolean
}

function flagsOfName (argv: Argv): number {
  const name = Buffer.from(argv.buf.subarray(argv.start[0], argv.start[0] + argv.len[0])).toString('latin1').toLowerCase()
  switch (name) {
    case 'georadius': return RADIUS_COORDS
    case 'georadius_ro': return RADIUS_COORDS | RADIUS_NOSTORE
    case 'georadiusbymember': return RADIUS_MEMBER
    case 'georadiusbymember_ro': return RADIUS_MEMBER | RADIUS_NOSTORE
    case 'geosearch': return GEOSEARCH
    default: return GEOSEARCH | GEOSEARCHSTORE
  }
}

/** Parses, checks and runs a search as georadiusGeneric does, in its order: the result or the error reply. */
function geoSearch (shard: Shard, argv: Argv, flags: number): GeoResult | Buffer {
  const ks = shard.ks
  const srcIdx = (flags & GEOSEARCHSTORE) !== 0 ? 2 : 1
  const e = shard.lookupRead(argv.buf, argv.start[srcIdx], argv.len[srcIdx])
  if (e !== 0 && ks.type(e) !== TYPE_ZSET) return WRONGTYPE
  const shape: Shape = { lon: 0, lat: 0, isBox: false, radius: 0, width: 0, height: 0, conversion: 0, latR: 0, lonR: 0, cosLat: 0 }
  const pos = new Float64Array(2)
  let baseArgs: number
  let storeIdx = -1
  let isStoreDist = false
  if ((flags & RADIUS_COORDS) !== 0) {
    baseArgs = 6
    const err = lonLatOrError(argv, 2, pos) ?? radiusOrError(argv, 4, shape)
    if (err !== null) return err
  } else if ((flags & RADIUS_MEMBER) !== 0 && e === 0) {
    // No source: the rest is still parsed, for the error or the reply STORE calls for.
    baseArgs = 5
  } else if ((flags & RADIUS_MEMBER) !== 0) {
    baseArgs = 5
    const score = memberScore(shard, e, argv, 2)
    if (score === null) return MEMBER_UNDECODABLE
    decodeScore(score, pos)
    const err = radiusOrError(argv, 3, shape)
    if (err !== null) return err
  } else {
    baseArgs = 2
    if ((flags & GEOSEARCHSTORE) !== 0) { baseArgs = 3; storeIdx = 1 }
  }

  let withDist = false
  let withHash = false
  let withCoord = false
  let isFromMember = false
  let isFromLoc = false
  let isByRadius = false
  let isByBox = false
  let sort = SORT_NONE
  let isAny = false
  let count = 0
  const argc = argv.argc
  const canStore = (flags & RADIUS_NOSTORE) === 0 && (flags & GEOSEARCH) === 0
  const isSearch = (flags & GEOSEARCH) !== 0
  for (let i = baseArgs; i < argc; i++) {
    const left = argc - i - 1 // arguments after this one
    if (isWord(argv, i, T_WITHDIST)) withDist = true
    else if (isWord(argv, i, T_WITHHASH)) withHash = true
    else if (isWord(argv, i, T_WITHCOORD)) withCoord = true
    else if (isWord(argv, i, T_ANY)) isAny = true
    else if (isWord(argv, i, T_ASC)) sort = SORT_ASC
    else if (isWord(argv, i, T_DESC)) sort = SORT_DESC
    else if (isWord(argv, i, T_COUNT) && left >= 1) {
      if (!parseInt64(argv.buf, argv.start[i + 1], argv.len[i + 1])) return NOT_INTEGER
      count = parsed.isBig ? Number(parsed.big) : parsed.value
      if (count <= 0) return COUNT_NOT_POSITIVE
      i++
    } else if (isWord(argv, i, T_STORE) && left >= 1 && canStore) {
      storeIdx = i + 1
      isStoreDist = false
      i++
    } else if (isWord(argv, i, T_STOREDIST) && left >= 1 && canStore) {
      storeIdx = i + 1
      isStoreDist = true
      i++
    } else if (isWord(argv, i, T_STOREDIST) && (flags & GEOSEARCHSTORE) !== 0) {
      isStoreDist = true
    } else if (isWord(argv, i, T_FROMMEMBER) && left >= 1 && isSearch && !isFromLoc) {
      if (e !== 0) {
        const score = memberScore(shard, e, argv, i + 1)
        if (score === null) return MEMBER_UNDECODABLE
        decodeScore(score, pos)
      }
      isFromMember = true
      i++
    } else if (isWord(argv, i, T_FROMLONLAT) && left >= 2 && isSearch && !isFromMember) {
      const err = lonLatOrError(argv, i + 1, pos)
      if (err !== null) return err
      isFromLoc = true
      i += 2
    } else if (isWord(argv, i, T_BYRADIUS) && left >= 2 && isSearch && !isByBox) {
      const err = radiusOrError(argv, i + 1, shape)
      if (err !== null) return err
      shape.isBox = false
      isByRadius = true
      i += 2
    } else if (isWord(argv, i, T_BYBOX) && left >= 3 && isSearch && !isByRadius) {
      const err = boxOrError(argv, i + 1, shape)
      if (err !== null) return err
      shape.isBox = true
      isByBox = true
      i += 3
    } else {
      return SYNTAX_ERR
    }
  }

  if (storeIdx >= 0 && (withDist || withHash || withCoord)) {
    return (flags & GEOSEARCHSTORE) !== 0 ? SEARCHSTORE_WITH_OPTIONS : STORE_WITH_OPTIONS
  }
  const name = (): string => Buffer.from(argv.buf.subarray(argv.start[0], argv.start[0] + argv.len[0])).toString('latin1')
  if (isSearch && !(isFromMember || isFromLoc)) return errorReply(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${name()}`)
  if (isSearch && !(isByRadius || isByBox)) return errorReply(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${name()}`)
  if (isAny && count === 0) return ANY_WITHOUT_COUNT

  const result: GeoResult = { points: [], withDist, withHash, withCoord, storeIdx, isStoreDist }
  if (e === 0) return result
  // COUNT without an order sorts ascending: the nearest N (not with ANY, which takes the first N found).
  if (count !== 0 && sort === SORT_NONE && !isAny) sort = SORT_ASC
  shape.lon = pos[0]
  shape.lat = pos[1]
  prepareShape(shape)
  const points = collect(shard, e, shape, isAny ? count : 0)
  const returned = count === 0 || points.length < count ? points.length : count
  if (sort !== SORT_NONE) {
    const cmp = sort === SORT_ASC ? cmpAsc : cmpDesc
    // qsort in glibc is a merge sort (stable); pqsort, for a cut result, is not.
    if (returned === points.length) points.sort(cmp)
    else pqsort(points, 0, points.length, cmp, 0, returned - 1)
  }
  points.length = returned
  // Filtering and sorting used Math's haversine; what is printed or stored gets glibc's bits.
  const isShown = withDist || isStoreDist
  for (const p of points) {
    if (isShown) p.dist = exactDistance(shape.lon, shape.lat, p.lon, p.lat)
    p.dist /= shape.conversion
  }
  result.points = points
  return result
}

/** membersOfAllNeighbors: the points inside the shape, cell by cell, each cell in score order. */
function collect (shard: Shard, e: number, shape: Shape, limit: number): GeoPoint[] {
  const ks = shard.ks
  const points: GeoPoint[] = []
  const n = zsetLen(ks, e)
  for (const [min, max] of searchRanges(shape)) {
    if (points.length > 0 && limit > 0 && points.length >= limit) break
    for (let i = zsetFirstByScore(ks, e, min, false); i < n; i++) {
      const node = zsetAt(ks, e, i)
      const score = nodeScore(ks, node)
      if (!(score < max)) break
      decodeScore(score, xy)
      const d = distanceIfWithin(shape, xy[0], xy[1])
      if (d >= 0) {
        const at = nodeMemberAt(node)
        const member = Buffer.from(ks.arena.u8.subarray(at, at + nodeMemberLen(ks, node)))
        points.push({ member, lon: xy[0], lat: xy[1], dist: d, score })
      }
      if (points.length > 0 && limit > 0 && points.length >= limit) break
    }
  }
  return points
}

function cmpAsc (a: GeoPoint, b: GeoPoint): number {
  return a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1
}

function cmpDesc (a: GeoPoint, b: GeoPoint): number {
  return -cmpAsc(a, b)
}

/**
 * Redis's pqsort (pqsort.c, NetBSD's Bentley-McIlroy quicksort that skips the parts outside
 * [lrange, rrange]), element for element: its swaps decide where equal elements end up.
 */
export function pqsort<T> (a: T[], base: number, n: number, cmp: (x: T, y: T) => number, lrange: number, rrange: number): void {
  const swap = (i: number, j: number): void => { const t = a[i]; a[i] = a[j]; a[j] = t }
  const vecswap = (i: number, j: number, k: number): void => { for (let x = 0; x < k; x++) swap(i + x, j + x) }
  const med3 = (i: number, j: number, k: number): number =>
    cmp(a[i], a[j]) < 0
      ? (cmp(a[j], a[k]) < 0 ? j : (cmp(a[i], a[k]) < 0 ? k : i))
      : (cmp(a[j], a[k]) > 0 ? j : (cmp(a[i], a[k]) < 0 ? i : k))
  const insertion = (): void => {
    for (let pm = base + 1; pm < base + n; pm++) {
      for (let pl = pm; pl > base && cmp(a[pl - 1], a[pl]) > 0; pl--) swap(pl, pl - 1)
    }
  }
  /** The part [s, s+k) holds some of [lrange, rrange]. */
  const isWanted = (s: number, k: number): boolean => !((lrange < s && rrange < s) || (lrange >= s + k && rrange >= s + k))
  for (;;) {
    if (n < 7) { insertion(); return }
    let pm = base + Math.floor(n / 2)
    if (n > 7) {
      let pl = base
      let pn = base + n - 1
      if (n > 40) {
        const d = Math.floor(n / 8)
        pl = med3(pl, pl + d, pl + 2 * d)
        pm = med3(pm - d, pm, pm + d)
        pn = med3(pn - 2 * d, pn - d, pn)
      }
      pm = med3(pl, pm, pn)
    }
    swap(base, pm)
    let pa = base + 1
    let pb = pa
    let pc = base + n - 1
    let pd = pc
    for (;;) {
      let r: number
      while (pb <= pc && (r = cmp(a[pb], a[base])) <= 0) {
        if (r === 0) { swap(pa, pb); pa++ }
        pb++
      }
      while (pb <= pc && (r = cmp(a[pc], a[base])) >= 0) {
        if (r === 0) { swap(pc, pd); pd-- }
        pc--
      }
      if (pb > pc) break
      swap(pb, pc)
      pb++
      pc--
    }
    const pn = base + n
    let r = Math.min(pa - base, pb - pa)
    vecswap(base, pb - r, r)
    r = Math.min(pd - pc, pn - pd - 1)
    vecswap(pb, pn - r, r)
    if ((r = pb - pa) > 1 && isWanted(base, r)) pqsort(a, base, r, cmp, lrange, rrange)
    if ((r = pd - pc) > 1) {
      base = pn - r
      n = r
      if (isWanted(base, n)) continue
    }
    return
  }
}

function replyPoints (out: ReplyWriter, r: GeoResult): void {
  const extra = (r.withDist ? 1 : 0) + (r.withHash ? 1 : 0) + (r.withCoord ? 1 : 0)
  out.arrayHeader(r.points.length)
  for (const p of r.points) {
    if (extra > 0) out.arrayHeader(extra + 1)
    out.bulkBuf(p.member)
    if (r.withDist) replyDistance(out, p.dist)
    if (r.withHash) out.int(Math.trunc(p.score))
    if (r.withCoord) {
      out.arrayHeader(2)
      replyHuman(out, p.lon)
      replyHuman(out, p.lat)
    }
  }
}

function storePairsOf (r: GeoResult): Array<[string, number]> {
  return r.points.map(p => [p.member.toString('latin1'), r.isStoreDist ? p.dist : p.score])
}

/** Runs a search on this shard and replies, storing here when asked (every key on this shard). */
function geoSearchCommand (shard: Shard, argv: Argv, out: ReplyWriter, flags: number): void {
  const r = geoSearch(shard, argv, flags)
  if (Buffer.isBuffer(r)) { out.raw(r); return }
  if (r.storeIdx < 0) {
    if (r.points.length === 0) out.raw(EMPTY_ARRAY)
    else replyPoints(out, r)
    return
  }
  const dst = argvOf([Buffer.from('store'), argBytes(argv.buf, argv.start[r.storeIdx], argv.len[r.storeIdx])])
  storePairs(shard, dst, storePairsOf(r), (flags & GEOSEARCH) !== 0 ? EV_GEOSEARCHSTORE : EV_GEORADIUSSTORE, out)
}

export function georadiusCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { geoSearchCommand(shard, argv, out, RADIUS_COORDS) }
export function georadiusRoCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { geoSearchCommand(shard, argv, out, RADIUS_COORDS | RADIUS_NOSTORE) }
export function georadiusbymemberCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { geoSearchCommand(shard, argv, out, RADIUS_MEMBER) }
export function georadiusbymemberRoCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { geoSearchCommand(shard, argv, out, RADIUS_MEMBER | RADIUS_NOSTORE) }
export function geosearchCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { geoSearchCommand(shard, argv, out, GEOSEARCH) }
export function geosearchstoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { geoSearchCommand(shard, argv, out, GEOSEARCH | GEOSEARCHSTORE) }

// --- STORE across shards -----------------------------------------------------------------------------

const STEP_REPLY = Buffer.from('+R\r\n')
const STEP_STORE = Buffer.from('+S\r\n')

/**
 * __geosearch name key ...: the whole search command (its name first) run on the source's shard.
 * Replies with the error, "+R" and the client's reply when nothing is stored, or "+S", the
 * destination's index, 1 for GEOSEARCHSTORE, and member/score pairs to store.
 */
export function geosearchStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const sub: Argv = { buf: argv.buf, argc: argv.argc - 1, start: argv.start.subarray(1), len: argv.len.subarray(1) }
  const flags = flagsOfName(sub)
  const r = geoSearch(shard, sub, flags)
  if (Buffer.isBuffer(r)) { out.raw(r); return }
  if (r.storeIdx < 0) {
    out.raw(STEP_REPLY)
    if (r.points.length === 0) out.raw(EMPTY_ARRAY)
    else replyPoints(out, r)
    return
  }
  out.raw(STEP_STORE)
  out.int(r.storeIdx)
  out.int((flags & GEOSEARCH) !== 0 ? 1 : 0)
  const pairs = storePairsOf(r)
  out.arrayHeader(pairs.length * 2)
  for (const [m, s] of pairs) { out.bulkBuf(Buffer.from(m, 'latin1')); out.bulkStr(formatScore(s)) }
}

/** __geostore dst isSearch member score...: the result written on the destination's shard. */
export function geostoreStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const pairs: Array<[string, number]> = []
  for (let i = 3; i + 1 < argv.argc; i += 2) {
    pairs.push([Buffer.from(buf.subarray(start[i], start[i] + len[i])).toString('latin1'), parseScore(buf, start[i + 1], len[i + 1])])
  }
  storePairs(shard, argv, pairs, buf[start[2]] === 49 ? EV_GEOSEARCHSTORE : EV_GEORADIUSSTORE, out)
}

/** Reads one RESP line of a step reply from `p`: its text and the position after it. */
function line (r: Buffer, p: number): [string, number] {
  const nl = r.indexOf(13, p)
  return [r.toString('latin1', p, nl), nl + 2]
}

/** Source and destination on different shards: search on the source's, then store on the destination's. */
async function geoStoreCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const flags = flagsOfName(argv)
  const srcIdx = (flags & GEOSEARCHSTORE) !== 0 ? 2 : 1
  const args: Uint8Array[] = []
  for (let i = 0; i < argv.argc; i++) args.push(argBytes(argv.buf, argv.start[i], argv.len[i]))
  const src = args[srcIdx]
  const r = await tx.run(tx.shardOf(src, 0, src.length), '__geosearch', args)
  if (isErrorReply(r)) return r
  if (r[1] === 82) return r.subarray(STEP_REPLY.length) // 'R'
  let p = STEP_STORE.length
  let t: string
  ;[t, p] = line(r, p)
  const dst = args[Number(t.slice(1))]
  ;[t, p] = line(r, p)
  const isSearchStore = t === ':1'
  ;[t, p] = line(r, p)
  const n = Number(t.slice(1))
  const store: Uint8Array[] = [dst, Buffer.from(isSearchStore ? '1' : '0')]
  for (let k = 0; k < n; k++) {
    ;[t, p] = line(r, p)
    const l = Number(t.slice(1))
    store.push(r.subarray(p, p + l))
    p += l + 2
  }
  return await tx.run(tx.shardOf(dst, 0, dst.length), '__geostore', store)
}

/** GEORADIUS's keys: the source, and the last STORE/STOREDIST destination (georadiusGetKeys). */
export function georadiusGetKeys (argv: Argv): number[] | null {
  let stored = -1
  for (let i = 5; i < argv.argc; i++) {
    if ((isWord(argv, i, T_STORE) || isWord(argv, i, T_STOREDIST)) && i + 1 < argv.argc) { stored = i + 1; i++ }
  }
  return stored < 0 ? [1] : [1, stored]
}

const GEO = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'geo' } as const
const ONE_KEY = { lastkey: 0, keystep: 1, limit: 0 }
const RO_ACCESS = [{ flags: ['RO', 'access'] }] as const
const RADIUS_COMPLEXITY = 'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.'
const SEARCH_COMPLEXITY = 'O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape'
const storeSpecs = (from: number): NonNullable<CommandSpec['keySpecs']> => [
  { flags: ['RO', 'access'], index: 1, range: ONE_KEY },
  { flags: ['OW', 'update'], keyword: { keyword: 'STORE', startfrom: from }, range: ONE_KEY },
  { flags: ['OW', 'update'], keyword: { keyword: 'STOREDIST', startfrom: from }, range: ONE_KEY },
]

export const geoCommands: CommandSpec[] = [
  { ...GEO, name: 'geoadd', arity: -5, flags: ['write', 'denyoom'], since: '3.2.0', summary: 'Add one or more geospatial items in the geospatial index represented using a sorted set', complexity: 'O(log(N)) for each item added, where N is the number of elements in the sorted set.', keySpecs: [{ flags: ['RW', 'update'] }], run: geoaddCommand },
  { ...GEO, name: 'geodist', arity: -4, flags: ['readonly'], since: '3.2.0', summary: 'Returns the distance between two members of a geospatial index', complexity: 'O(log(N))', keySpecs: RO_ACCESS, run: geodistCommand },
  { ...GEO, name: 'geohash', arity: -2, flags: ['readonly'], since: '3.2.0', summary: 'Returns members of a geospatial index as standard geohash strings', complexity: 'O(log(N)) for each member requested, where N is the number of elements in the sorted set.', keySpecs: RO_ACCESS, run: geohashCommand },
  { ...GEO, name: 'geopos', arity: -2, flags: ['readonly'], since: '3.2.0', summary: 'Returns longitude and latitude of members of a geospatial index', complexity: 'O(N) where N is the number of members requested.', keySpecs: RO_ACCESS, run: geoposCommand },
  { ...GEO, name: 'georadius', arity: -6, flags: ['write', 'denyoom', 'movablekeys'], route: 'coord', since: '3.2.0', summary: 'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point', complexity: RADIUS_COMPLEXITY, keySpecs: storeSpecs(6), getKeys: georadiusGetKeys, run: georadiusCommand, coord: geoStoreCoord },
  { ...GEO, name: 'georadius_ro', arity: -6, flags: ['readonly'], since: '3.2.10', summary: 'A read-only variant for GEORADIUS', complexity: RADIUS_COMPLEXITY, keySpecs: RO_ACCESS, run: georadiusRoCommand },
  { ...GEO, name: 'georadiusbymember', arity: -5, flags: ['write', 'denyoom', 'movablekeys'], route: 'coord', since: '3.2.0', summary: 'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member', complexity: RADIUS_COMPLEXITY, keySpecs: storeSpecs(5), getKeys: georadiusGetKeys, run: georadiusbymemberCommand, coord: geoStoreCoord },
  { ...GEO, name: 'georadiusbymember_ro', arity: -5, flags: ['readonly'], since: '3.2.10', summary: 'A read-only variant for GEORADIUSBYMEMBER', complexity: RADIUS_COMPLEXITY, keySpecs: RO_ACCESS, run: georadiusbymemberRoCommand },
  { ...GEO, name: 'geosearch', arity: -7, flags: ['readonly'], since: '6.2.0', summary: 'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.', complexity: SEARCH_COMPLEXITY, keySpecs: RO_ACCESS, run: geosearchCommand },
  { ...GEO, name: 'geosearchstore', arity: -8, flags: ['write', 'denyoom'], lastKey: 2, route: 'coord', since: '6.2.0', summary: 'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.', complexity: SEARCH_COMPLEXITY, keySpecs: [{ flags: ['OW', 'update'], index: 1, range: ONE_KEY }, { flags: ['RO', 'access'], index: 2, range: ONE_KEY }], run: geosearchstoreCommand, coord: geoStoreCoord },
]

export const geoInternalCommands: CommandSpec[] = [
  { name: '__geosearch', arity: -3, flags: [], firstKey: 2, lastKey: 2, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: geosearchStepCommand },
  { name: '__geostore', arity: -3, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: geostoreStepCommand },
]
