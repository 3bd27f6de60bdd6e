// HSCAN, SSCAN and ZSCAN's shared parts (scanGenericCommand): the MATCH/COUNT options and the
// reverse-binary walk of a hashtable's buckets, as dictScan does for one table.

import type { Argv } from './spec.js'
import { NOT_INTEGER, SYNTAX_ERR } from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { rev32 } from '../storage/keyspace.js'

const T_COUNT = token('count')
const T_MATCH = token('match')

/** COUNT (10 by default) and the MATCH pattern's argument index (-1: none, or "*"). */
export interface ScanArgs { count: number, pattern: number }

/** The options from argument `from` on, or the error reply (checked after the key, as Redis does). */
export function parseScanArgs (argv: Argv, from: number): ScanArgs | Buffer {
  const { buf, start, len, argc } = argv
  const a: ScanArgs = { count: 10, pattern: -1 }
  for (let i = from; i < argc; i += 2) {
    const hasValue = i + 1 < argc
    if (hasValue && equalsLower(buf, start[i], len[i], T_COUNT)) {
      if (!parseInt64(buf, start[i + 1], len[i + 1])) return NOT_INTEGER
      if (parsed.value < 1) return SYNTAX_ERR
      a.count = parsed.value
    } else if (hasValue && equalsLower(buf, start[i], len[i], T_MATCH)) {
      // "*" matches everything: Redis then skips the matcher.
      a.pattern = len[i + 1] === 1 && buf[start[i + 1]] === 42 ? -1 : i + 1
    } else {
      return SYNTAX_ERR
    }
  }
  return a
}

/**
 * Visits buckets from `cursor` in dictScan's reverse-binary order until `count` entries were
 * seen (visit returns how many a bucket held), at most count * 10 buckets, or the walk ends.
 * Returns the next cursor (0: done).
 */
export function walkBuckets (cursor: number, buckets: number, count: number, visit: (bucket: number) => number): number {
  const mask = buckets - 1
  let v = cursor >>> 0
  let budget = count * 10
  let seen = 0
  do {
    seen += visit(v & mask)
    v = rev32((rev32((v | ~mask) >>> 0) + 1) >>> 0)
  } while (v !== 0 && budget-- > 0 && seen < count)
  return v
}

/** The key positions of a numkeys command: numkeys at argument `at`, the keys right after it. */
export function numkeysKeys (argv: Argv, at: number): number[] | null {
  if (!parseInt64(argv.buf, argv.start[at], argv.len[at])) return null
  const n = parsed.value
  if (n < 1 || n > argv.argc - (at + 1)) return null
  const keys: number[] = []
  for (let k = at + 1; k < at + 1 + n; k++) keys.push(k)
  return keys
}
