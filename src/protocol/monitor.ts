// MONITOR lines, as replicationFeedMonitors writes them: built on a producer for clients'
// commands (server/pubsub.ts) and in a shard worker for the commands of a script it runs
// (scripting/in-shard.ts), then published to the hub's monitor subscribers.
import { Buffer } from 'node:buffer'
import { performance } from 'node:perf_hooks'


/** sdscatrepr: a quoted string, with \\ \" \n \r \t \a \b escaped and other unprintables as \xHH. */
export function repr (buf: Uint8Array, start: number, len: number): string {
  let s = '"'
  for (let i = start; i < start + len; i++) {
    const c = buf[i]
    switch (c) {
      case 92: s += '\\\\'; break
      case 34: s += '\\"'; break
      case 10: s += '\\n'; break
      case 13: s += '\\r'; break
      case 9: s += '\\t'; break
      case 7: s += '\\a'; break
      case 8: s += '\\b'; break
      default: s += c >= 32 && c <= 126 ? String.fromCharCode(c) : '\\x' + c.toString(16).padStart(2, '0')
    }
  }
  return s + '"'
}

/** A line's head: "+<unix seconds>.<microseconds> [<db> <who>]" (who: the client's address, or lua). */
export function monitorHead (db: number, who: string): string {
  const now = Date.now()
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1_000_000
  return `+${Math.floor(now / 1000)}.${String(us).padStart(6, '0')} [${db} ${who}]`
}

/** The whole line of a command a script ran: "[<db> lua]" and its quoted arguments. */
export function luaMonitorLine (db: number, argv: readonly Uint8Array[]): Buffer {
  let line = monitorHead(db, 'lua')
  for (const a of argv) line += ' ' + repr(a, 0, a.length)
  return Buffer.from(line + '\r\n', 'latin1')
}
