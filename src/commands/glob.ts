// Redis's glob matcher (stringmatchlen in util.c) over bytes: * ? [abc] [^a] [a-z] and \x.
// Used by CONFIG GET now and by KEYS/SCAN MATCH later, so it works on Uint8Array views.

function signed (c: number): number { return c >= 128 ? c - 256 : c }

function fold (c: number, nocase: boolean): number {
  return nocase && c >= 65 && c <= 90 ? c | 0x20 : c
}

export function stringMatch (p: Uint8Array, ps: number, plen: number, s: Uint8Array, ss: number, slen: number, nocase: boolean): boolean {
  const skip = { longer: false }
  return matchImpl(p, ps, ps + plen, s, ss, ss + slen, nocase, skip, 0)
}

function matchImpl (p: Uint8Array, pi: number, pe: number, s: Uint8Array, si: number, se: number, nocase: boolean, skip: { longer: boolean }, nesting: number): boolean {
  // Same guard as Redis 7.0: deeply nested stars cannot blow the stack.
  if (nesting > 1000) return false
  while (pi < pe && si < se) {
    const c = p[pi]
    if (c === 42) { // '*'
      while (pi + 1 < pe && p[pi + 1] === 42) pi++
      if (pi + 1 === pe) return true
      while (si < se) {
        if (matchImpl(p, pi + 1, pe, s, si, se, nocase, skip, nesting + 1)) return true
        if (skip.longer) return false
        si++
      }
      skip.longer = true
      return false
    } else if (c === 63) { // '?'
      si++
    } else if (c === 91) { // '['
      pi++
      const not = pi < pe && p[pi] === 94 // '^'
      if (not) pi++
      let match = false
      for (;;) {
        if (pi >= pe) { pi--; break } // unterminated class: Redis treats the end as ']'
        if (p[pi] === 92 && pi + 1 < pe) { // '\'
          pi++
          if (p[pi] === s[si]) match = true
        } else if (p[pi] === 93) { // ']'
          break
        } else if (pi + 2 < pe && p[pi + 1] === 45) { // a-z
          // Redis compares (signed) chars here: on x86-64 a byte >= 0x80 is below 'a'.
          let start = signed(p[pi])
          let end = signed(p[pi + 2])
          let ch = signed(s[si])
          if (start > end) { const t = start; start = end; end = t }
          if (nocase) { start = fold(start, true); end = fold(end, true); ch = fold(ch, true) }
          pi += 2
          if (ch >= start && ch <= end) match = true
        } else if (fold(p[pi], nocase) === fold(s[si], nocase)) {
          match = true
        }
        pi++
      }
      if (not) match = !match
      if (!match) return false
      si++
    } else if (c === 92 && pi + 1 < pe) { // '\x'
      pi++
      if (fold(p[pi], nocase) !== fold(s[si], nocase)) return false
      si++
    } else {
      if (fold(c, nocase) !== fold(s[si], nocase)) return false
      si++
    }
    pi++
    if (si === se) {
      while (pi < pe && p[pi] === 42) pi++
      break
    }
  }
  return pi === pe && si === se
}
