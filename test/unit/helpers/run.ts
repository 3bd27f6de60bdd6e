// Runs shard command handlers in-process, as STYLE.md's unit tests do: run(shard, ['set', 'k',
// 'v']) builds an Argv (arguments at odd offsets with junk between them, so a handler that
// ignores argv.start fails), calls the handler from the command table and decodes the RESP2
// reply: null, number, Buffer (bulk), { status }, { err } or an array of those.

import type { Argv, ShardHandler } from '../../../src/commands/spec.js'
import type { Shard } from '../../../src/storage/shard.js'
import { ReplyWriter } from '../../../src/protocol/resp-writer.js'
import { stringCommands } from '../../../src/commands/string.js'
import { genericCommands } from '../../../src/commands/generic.js'

const HANDLERS = new Map<string, ShardHandler>()
for (const spec of [...stringCommands, ...genericCommands]) if (spec.run !== undefined) HANDLERS.set(spec.name, spec.run)

export type Reply = null | number | Buffer | { status: string } | { err: string } | Reply[]

export function argvOf (args: ReadonlyArray<Uint8Array | string>): Argv {
  const parts = args.map(a => typeof a === 'string' ? Buffer.from(a, 'latin1') : a)
  const total = parts.reduce((n, p) => n + p.length, 0)
  const buf = new Uint8Array(total + parts.length * 3 + 1).fill(0x5a)
  const start = new Int32Array(parts.length)
  const len = new Int32Array(parts.length)
  let pos = 1
  parts.forEach((p, i) => { buf.set(p, pos); start[i] = pos; len[i] = p.length; pos += p.length + 3 })
  return { buf, argc: parts.length, start, len }
}

/** Decodes exactly one RESP2 reply; throws on a malformed one or on bytes after it. */
export function decode (bytes: Buffer): Reply {
  let pos = 0
  const line = (): string => {
    const end = bytes.indexOf('\r\n', pos, 'latin1')
    if (end < 0) throw new Error(`unterminated reply: ${JSON.stringify(bytes.toString('latin1'))}`)
    const s = bytes.toString('latin1', pos, end)
    pos = end + 2
    return s
  }
  const one = (): Reply => {
    const t = String.fromCharCode(bytes[pos++])
    const s = line()
    if (t === '+') return { status: s }
    if (t === '-') return { err: s }
    if (t === ':') return Number(s)
    if (t === '$') {
      const n = Number(s)
      if (n < 0) return null
      const v = Buffer.from(bytes.subarray(pos, pos + n))
      if (bytes.toString('latin1', pos + n, pos + n + 2) !== '\r\n') throw new Error('bulk without CRLF')
      pos += n + 2
      return v
    }
    if (t === '*') {
      const n = Number(s)
      if (n < 0) return null
      return Array.from({ length: n }, one)
    }
    throw new Error(`bad reply type ${t}`)
  }
  const r = one()
  if (pos !== bytes.length) throw new Error(`${bytes.length - pos} bytes after the reply`)
  return r
}

const out = new ReplyWriter(64)

export function run (shard: Shard, args: ReadonlyArray<Uint8Array | string>): Reply {
  const name = (typeof args[0] === 'string' ? args[0] : Buffer.from(args[0]).toString('latin1')).toLowerCase()
  const h = HANDLERS.get(name)
  if (h === undefined) throw new Error(`no shard handler for ${name}`)
  out.reset()
  h(shard, argvOf(args), out)
  return decode(Buffer.from(out.buf.subarray(0, out.len)))
}
