// Finding where one complete RESP2/RESP3 value ends, over bytes a shard produced (so well formed):
// EXEC's shard replies are cut into their commands' replies without parsing them.

/** Offset just past the value that starts at p. */
export function respEnd (buf: Uint8Array, p: number): number {
  const type = buf[p]
  let nl = p + 1
  while (buf[nl] !== 10) nl++
  const next = nl + 1
  switch (type) {
    case 36: case 33: case 61: { // '$' '!' '=': length-prefixed
      if (buf[p + 1] === 45) return next // $-1
      return next + lengthAt(buf, p + 1) + 2
    }
    case 42: case 126: case 62: case 37: case 124: { // '*' '~' '>' '%' '|': aggregates
      if (buf[p + 1] === 45) return next // *-1
      const n = lengthAt(buf, p + 1) * (type === 37 || type === 124 ? 2 : 1)
      let q = next
      for (let i = 0; i < n; i++) q = respEnd(buf, q)
      // An attribute annotates the value after it: both are one reply.
      return type === 124 ? respEnd(buf, q) : q
    }
    default: return next // + - : _ , # ( : one line
  }
}

function lengthAt (buf: Uint8Array, p: number): number {
  let n = 0
  while (buf[p] !== 13) n = n * 10 + (buf[p++] - 48)
  return n
}
