// Correctly rounded sin, cos and asin for the distances Redis prints. Redis calls glibc's, which
// round correctly for all but a few arguments in ten thousand; V8's Math.sin, Math.cos and
// Math.asin (fdlibm) miss the correctly rounded double for a few percent of them, and STOREDIST
// keeps the distance to the last bit. These evaluate in double-double arithmetic (about 106
// bits: Dekker products, Taylor series after reduction by a triple-double pi/2) and round once.
// They are slower than Math's (a microsecond or so): geo.ts uses them only for distances it
// reports, never to filter or sort.

const SPLIT = 134217729 // 2^27 + 1

/** A double-double: hi + lo with |lo| <= ulp(hi) / 2. */
interface DD { hi: number, lo: number }

function dd (hi: number, lo: number): DD {
  const s = hi + lo
  return { hi: s, lo: lo - (s - hi) }
}

function add (a: DD, b: DD): DD {
  const s = a.hi + b.hi
  const v = s - a.hi
  let e = (a.hi - (s - v)) + (b.hi - v)
  const t = a.lo + b.lo
  const w = t - a.lo
  const f = (a.lo - (t - w)) + (b.lo - w)
  e += t
  const s2 = s + e
  e = e - (s2 - s)
  return dd(s2, e + f)
}

function neg (a: DD): DD { return { hi: -a.hi, lo: -a.lo } }

/** a * b exactly, as hi + lo (Dekker: no fused multiply-add in JavaScript). */
function twoProd (a: number, b: number): DD {
  const p = a * b
  let t = SPLIT * a
  const ah = t - (t - a)
  const al = a - ah
  t = SPLIT * b
  const bh = t - (t - b)
  const bl = b - bh
  return { hi: p, lo: ((ah * bh - p) + ah * bl + al * bh) + al * bl }
}

function mul (a: DD, b: DD): DD {
  const p = twoProd(a.hi, b.hi)
  return dd(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi))
}

/** a / n for a small positive integer n. */
function divInt (a: DD, n: number): DD {
  const q1 = a.hi / n
  const r = add(a, neg(twoProd(q1, n)))
  const q2 = r.hi / n
  const r2 = add(r, neg(twoProd(q2, n)))
  return add(dd(q1, q2), { hi: r2.hi / n, lo: 0 })
}

const PIO2_1 = 1.5707963267948966
const PIO2_2 = 6.123233995736766e-17
const PIO2_3 = -1.4973849048591698e-33
const PIO2: DD = dd(PIO2_1, PIO2_2)

// 1/n! as double-doubles, for the Taylor series (|r| <= pi/4 needs terms up to 1/27!).
const INV_FACT: DD[] = [{ hi: 1, lo: 0 }]
for (let n = 1; n <= 28; n++) INV_FACT.push(divInt(INV_FACT[n - 1], n))

// Signed Taylor coefficients: SIN_C[j] = (-1)^j / (2j+1)!, COS_C[j] = (-1)^j / (2j)!.
const SIN_C: DD[] = []
const COS_C: DD[] = []
for (let j = 0; j <= 13; j++) {
  SIN_C.push(j % 2 === 0 ? INV_FACT[2 * j + 1] : neg(INV_FACT[2 * j + 1]))
  COS_C.push(j % 2 === 0 ? INV_FACT[2 * j] : neg(INV_FACT[2 * j]))
}

/** sin(r) and cos(r) for |r| <= pi/4 (a little more is fine), by Horner in r^2. */
function sinCosSmall (r: DD): [DD, DD] {
  const r2 = mul(r, r)
  let s = SIN_C[13]
  let c = COS_C[13]
  for (let j = 12; j >= 0; j--) {
    s = add(mul(s, r2), SIN_C[j])
    c = add(mul(c, r2), COS_C[j])
  }
  return [mul(s, r), c]
}

/** sin(x) and cos(x) of a double-double |x| <= 3.5, before rounding. */
function sinCosDD (x: DD): [DD, DD] {
  const k = Math.round(x.hi / PIO2_1)
  let r = x
  if (k !== 0) {
    r = add(r, { hi: -k * PIO2_1, lo: 0 }) // k * PIO2_1 is exact for |k| <= 2
    r = add(r, neg(twoProd(k, PIO2_2)))
    r = add(r, { hi: -k * PIO2_3, lo: 0 })
  }
  const [s, c] = sinCosSmall(r)
  switch (((k % 4) + 4) % 4) {
    case 0: return [s, c]
    case 1: return [c, neg(s)]
    case 2: return [neg(s), neg(c)]
    default: return [neg(c), s]
  }
}

/** sin(x), correctly rounded, for |x| <= 3.5 (Math.sin beyond: geo never goes there). */
export function crSin (x: number): number {
  if (!(Math.abs(x) <= 3.5)) return Math.sin(x)
  if (Math.abs(x) < 1e-150) return x
  return sinCosDD({ hi: x, lo: 0 })[0].hi
}

/** cos(x), correctly rounded, for |x| <= 3.5. */
export function crCos (x: number): number {
  if (!(Math.abs(x) <= 3.5)) return Math.cos(x)
  return sinCosDD({ hi: x, lo: 0 })[1].hi
}

/**
 * asin of a double-double 0 <= z <= 0.5: one Newton step on sin from Math.asin's guess, whose
 * error (an ulp or so) it squares, times tan(y)/2 < 0.3: far below the double-double's own.
 */
function asinSmall (z: DD): DD {
  const y: DD = { hi: Math.asin(z.hi + z.lo), lo: 0 }
  const [s, c] = sinCosDD(y)
  const d = add(s, neg(z))
  return add(y, { hi: -(d.hi + d.lo) / c.hi, lo: 0 })
}

/** asin(x), correctly rounded. */
export function crAsin (x: number): number {
  if (Number.isNaN(x) || x > 1 || x < -1) return Math.asin(x)
  if (x < 0) return -crAsin(-x)
  if (x === 0 || x < 1e-150) return x
  if (x <= 0.5) return asinSmall({ hi: x, lo: 0 }).hi
  if (x === 1) return PIO2_1
  // asin(x) = pi/2 - 2 asin(sqrt((1 - x) / 2)): 1 - x is exact here, the square root is refined once.
  const t = (1 - x) / 2
  const s = Math.sqrt(t)
  const sq = twoProd(s, s)
  const root = dd(s, ((t - sq.hi) - sq.lo) / (2 * s))
  const a = asinSmall(root)
  return add(PIO2, neg(add(a, a))).hi
}
