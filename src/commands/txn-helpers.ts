// Small helpers for coord handlers: reading the reply bytes that transaction steps return, and
// building the argument lists of the records they send.

import { Buffer } from 'node:buffer'
import type { Argv } from './spec.js'

/** True for a null reply in either protocol ($-1, *-1 or _). */
export function isNullReply (r: Uint8Array): boolean {
  return ((r[0] === 36 || r[0] === 42) && r[1] === 45) || r[0] === 95
}

export function isErrorReply (r: Uint8Array): boolean { return r[0] === 45 }

/** The integer of a :n reply. */
export function intReply (r: Uint8Array): number {
  let v = 0
  let i = 1
  const neg = r[1] === 45
  if (neg) i++
  for (; r[i] !== 13; i++) v = v * 10 + (r[i] - 48)
  return neg ? -v : v
}

/** The payload of a $len bulk reply. */
export function bulkPayload (r: Buffer): Buffer {
  const nl = r.indexOf(10)
  const len = Number(r.subarray(1, nl - 1).toString('latin1'))
  return r.subarray(nl + 1, nl + 1 + len)
}

export function argBytes (buf: Uint8Array, start: number, len: number): Uint8Array {
  return buf.subarray(start, start + len)
}

/** Argument i as a subarray, no copy (about 50 ns where a Buffer view over the record costs 70-90): valid while argv's buffer is. */
export function bytesAt (argv: Argv, i: number): Uint8Array {
  return argBytes(argv.buf, argv.start[i], argv.len[i])
}

/** Each argument of argv as a Buffer of its own (a copy: argv's buffer may be reused). */
export function argsOf (argv: Argv): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < argv.argc; i++) out.push(Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])))
  return out
}

/** An Argv over the concatenation of `args` (records the primary or a step builds). */
export function argvOf (args: readonly Uint8Array[]): Argv {
  const buf = Buffer.concat(args)
  const start = new Int32Array(args.length)
  const len = new Int32Array(args.length)
  let off = 0
  for (let i = 0; i < args.length; i++) { start[i] = off; len[i] = args[i].length; off += args[i].length }
  return { buf, argc: args.length, start, len }
}
