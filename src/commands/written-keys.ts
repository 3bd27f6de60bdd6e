// The keys a write command writes, as WATCH counts them (Redis's touchWatchedKey calls of each
// command): its key positions less the read-only sources (COPY's, BITOP's, PFMERGE's), plus the
// key in the other database of MOVE key db and COPY ... DB db. The shard worker touches them
// after a write that changed something; the transaction engine (server/engine.ts) records them
// for the shard.

import { Buffer } from 'node:buffer'
import type { Argv } from './spec.js'
import type { Command } from './table.js'

export type KeyVisitor = (db: number, buf: Uint8Array, start: number, len: number) => void

export function forEachWrittenKey (cmd: Command, argv: Argv, db: number, databases: number, fn: KeyVisitor): void {
  const { buf, start, len } = argv
  let keys: number[] | null
  if (cmd.getKeys !== undefined) keys = cmd.getKeys(argv)
  else {
    keys = []
    const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
    for (let k = cmd.firstKey; k > 0 && k <= last; k += cmd.step) keys.push(k)
  }
  if (keys === null) return
  for (const k of keys) {
    const isReadOnly = k === cmd.readOnlyKey || (cmd.isReadOnlyToEnd && cmd.readOnlyKey > 0 && k > cmd.readOnlyKey)
    if (!isReadOnly) fn(db, buf, start[k], len[k])
  }
  const other = cmd.name === 'move' ? 2 : cmd.name === 'copy' ? dbOption(argv, 3) : -1
  if (other > 0 && other < argv.argc) {
    const to = Number(Buffer.from(buf.buffer, buf.byteOffset + start[other], len[other]).toString('latin1'))
    if (Number.isInteger(to) && to >= 0 && to < databases && to !== db) {
      const k = cmd.name === 'move' ? 1 : 2
      fn(to, buf, start[k], len[k])
    }
  }
}

/**
 * The keys a write that changed something touched, once it ran: forEachWrittenKey's, but for a
 * pop from the first non-empty of several keys (BLPOP, BZPOPMIN, LMPOP, ZMPOP and their blocking
 * forms) only the key its reply names, as Redis signals that key alone.
 */
export function forEachTouchedKey (cmd: Command, argv: Argv, db: number, databases: number, fn: KeyVisitor, reply: Uint8Array, at: number): void {
  if (cmd.touchesReplyKey !== true) { forEachWrittenKey(cmd, argv, db, databases, fn); return }
  // *n CRLF $len CRLF key CRLF ...
  if (reply[at] !== 42) return
  let p = reply.indexOf(10, at) + 1
  if (p === 0 || reply[p] !== 36) return
  const nl = reply.indexOf(13, p)
  let len = 0
  for (let i = p + 1; i < nl; i++) len = len * 10 + reply[i] - 48
  p = nl + 2
  fn(db, reply, p, len)
}

/** Index of the argument after a DB option, from position `from` (COPY's options); -1: none. */
function dbOption (argv: Argv, from: number): number {
  const { buf, start, len } = argv
  for (let i = from; i + 1 < argv.argc; i++) {
    if (len[i] === 2 && (buf[start[i]] | 32) === 100 && (buf[start[i] + 1] | 32) === 98) return i + 1
  }
  return -1
}

/** Every key a command names (CLIENT TRACKING remembers what a read-only command read). */
export function forEachKey (cmd: Command, argv: Argv, fn: (buf: Uint8Array, start: number, len: number) => void): void {
  const { buf, start, len } = argv
  if (cmd.getKeys !== undefined) {
    const keys = cmd.getKeys(argv)
    if (keys !== null) for (const k of keys) fn(buf, start[k], len[k])
    return
  }
  const last = cmd.lastKey < 0 ? argv.argc + cmd.lastKey : cmd.lastKey
  for (let k = cmd.firstKey; k > 0 && k <= last; k += cmd.step) fn(buf, start[k], len[k])
}

/** A read-only command with keys (never an internal record): what CLIENT TRACKING remembers. */
export function isTrackedRead (cmd: Command): boolean {
  return cmd.flags.includes('readonly') && !cmd.name.startsWith('__') && (cmd.firstKey > 0 || cmd.getKeys !== undefined)
}
