// CONFIG GET over the effective configuration. Parameters are listed once here with the Redis
// name they answer to; values come from the running server, so CONFIG GET always tells the truth.

import type { Argv, ClientContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { stringMatch } from './glob.js'
import { DATABASES } from '../storage/shard.js'

type Getter = (c: ClientContext) => string

const PARAMS: ReadonlyArray<[string, Getter]> = [
  ['port', c => String(c.server.port)],
  ['bind', c => c.server.bind],
  ['databases', () => String(DATABASES)],
  ['save', () => ''],
  ['appendonly', () => 'no'],
  ['maxmemory', () => '0'],
  ['maxmemory-policy', () => 'noeviction'],
  ['maxclients', () => '10000'],
  ['timeout', () => '0'],
  ['tcp-keepalive', () => '300'],
  ['proto-max-bulk-len', () => '536870912'],
  ['client-query-buffer-limit', () => '1073741824'],
  ['hz', () => '10'],
  ['shards', c => String(c.server.shards)],
  ['cluster-enabled', () => 'no'],
]
const NAMES = PARAMS.map(([n]) => Buffer.from(n, 'latin1'))

function hasGlob (buf: Uint8Array, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (buf[i] === 42 || buf[i] === 63 || buf[i] === 91) return true
  return false
}

// Like configGetCommand (7.0): an exact name is echoed as asked (any case); a pattern matches
// case-insensitively and reports canonical names; every parameter appears at most once.
export function configGetCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const matched: Array<[string, string]> = []
  const seen = new Set<number>()
  for (let i = 2; i < argc; i++) {
    const glob = hasGlob(buf, start[i], len[i])
    for (let p = 0; p < PARAMS.length; p++) {
      if (seen.has(p)) continue
      const name = NAMES[p]
      const hit = glob
        ? stringMatch(buf, start[i], len[i], name, 0, name.length, true)
        : Buffer.from(buf.subarray(start[i], start[i] + len[i])).toString('latin1').toLowerCase() === PARAMS[p][0]
      if (!hit) continue
      seen.add(p)
      matched.push([glob ? PARAMS[p][0] : Buffer.from(buf.subarray(start[i], start[i] + len[i])).toString('latin1'), PARAMS[p][1](c)])
    }
  }
  out.mapHeader(matched.length)
  for (const [k, v] of matched) { out.bulkStr(k); out.bulkStr(v) }
}
