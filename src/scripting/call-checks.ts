// What redis.call checks before it runs a command (scriptCall's order and texts), SELECT's
// change of the script's database, and how a call is counted: the same for a script held on a
// producer thread (server/scripting.ts CallHost) and for one inside a shard's worker
// (scripting/in-shard.ts).
//
// Stats, as Redis 7.0's scriptCall and call() make them: a refused call counts its error
// (errorstats, total_error_replies) and, for a known command, its rejected_calls; a call that
// runs counts calls, usec and a latency sample, failed_calls and its error if it answered one,
// and goes to SLOWLOG past slowlog-log-slower-than with the script client's "?:0" and no name.
// The error table the script gets carries ignore_error_stats_update, so the script command
// itself then moves only its failed_calls (scripting/scripts.ts replyErrors).

import { performance } from 'node:perf_hooks'
import type { Command } from '../commands/table.js'
import type { Argv } from '../commands/spec.js'
import { argsOf } from '../commands/txn-helpers.js'
import { commands } from '../commands/table.js'
import { xreadBlocksInScript } from '../commands/stream.js'
import { errorReply, NOT_INTEGER, OOM } from '../protocol/errors.js'
import { parseLL } from '../protocol/ascii.js'
import { DATABASES } from '../storage/shard.js'
import { SET_SLOWLOG_SLOWER, type StatsRow } from '../server/command-stats.js'
import { KILLED_REPLY, replyErrors } from './scripts.js'

export const NOSCRIPT = errorReply('NOSCRIPT No matching script. Please use EVAL.')
const UNKNOWN = errorReply('ERR Unknown Redis command called from script')
const WRONG_ARGS = errorReply('ERR Wrong number of args calling Redis command from script')
export const NOT_ALLOWED = errorReply('ERR This Redis command is not allowed from script')
const WRITE_IN_RO = errorReply('ERR Write commands are not allowed from read-only scripts.')
const DB_RANGE = errorReply('ERR DB index is out of range')
/** FUNCTION STATS on any thread names the busy function published on this channel. */
export const BUSY_CHANNEL = 'flashkv:busy-function'

/** noscript commands: refused (FLUSHALL, FLUSHDB and SWAPDB run, as in Redis 7.0). */
const NOT_IN_SCRIPT = Uint8Array.from(commands, c => c.flags.includes('noscript') ? 1 : 0)
/** Commands SLOWLOG never shows (CMD_SKIP_SLOWLOG). */
const SKIP_SLOWLOG = Uint8Array.from(commands, c => c.flags.includes('skip_slowlog') ? 1 : 0)

/** The script running the call: its flags, and its host's view of ACL and memory. */
export interface CallContext {
  isReadOnly: boolean
  allowOom: boolean
  /** ACL's refusal of the command for the script's user (null: allowed). */
  aclRefusal: ((cmd: Command, argv: Argv) => Uint8Array | null) | null
  /** Under noeviction, used memory is past maxmemory. */
  isOverMaxmemory: () => boolean
  /** The script is about to write: false when SCRIPT KILL came first. */
  noteWrite: () => boolean
}

/** Why redis.call refuses cmd (null: not found) with argv, in Redis's order; null when it may run. */
export function callRefusal (cmd: Command | null, argv: Argv, ctx: CallContext): Uint8Array | null {
  if (cmd === null || cmd.internal === true) return UNKNOWN
  const argc = argv.argc
  if ((cmd.arity > 0 && argc !== cmd.arity) || argc < -cmd.arity) return WRONG_ARGS
  if (NOT_IN_SCRIPT[cmd.id] !== 0) return NOT_ALLOWED
  const refused = ctx.aclRefusal?.(cmd, argv) ?? null
  if (refused !== null) return refused
  if (ctx.isReadOnly && cmd.isWrite) return WRITE_IN_RO
  // scriptVerifyOOM: above maxmemory, commands that may grow memory are refused.
  if (cmd.isDenyOom && !ctx.allowOom && ctx.isOverMaxmemory()) return OOM
  if (cmd.isWrite && !ctx.noteWrite()) return KILLED_REPLY
  return null
}

/**
 * The error a command answers itself before it would run (so a call, counted as one): MSET's
 * odd count (split commands here need the pairs whole), XREAD's BLOCK from a script. Null: run it.
 */
export function failsFirst (cmd: Command, argv: Argv): Uint8Array | null {
  if (cmd.step > 1 && cmd.lastKey < 0 && (argv.argc - cmd.firstKey) % cmd.step !== 0) return cmd.arityErr
  // xreadCommand refuses BLOCK from Lua while parsing its options.
  if (cmd.name === 'xread' || cmd.name === 'xreadgroup') {
    const args = argsOf(argv)
    if (xreadBlocksInScript(args)) return errorReply(`ERR ${args[0].toString('latin1')} command is not allowed with BLOCK option from scripts`)
  }
  return null
}

/** Where a host counts its script's calls: its thread's stats row, and its SLOWLOG. */
export interface CallStats {
  cmdStats: StatsRow
  /** A SLOWLOG entry of the script client (Redis's: address "?:0", no name), its id taken now; argv its own copy. */
  logScriptCall (argv: Buffer[], us: number): void
}

/** scriptCall's error path: afterErrorReply, and the rejected_calls of a known command. */
export function countRefused (row: StatsRow, cmd: Command | null, err: Uint8Array): void {
  // A killed script's write fails in Redis's hook, not in scriptCall: its error counts once, as the script's reply.
  if (err === KILLED_REPLY) return
  if (cmd !== null) row.rejected(cmd.id)
  row.error(err, 0, err.length)
}

/** call() of a redis.call begun at t0 (performance.now()) that answered `reply`: stats, latency and SLOWLOG. */
export function countCall (host: CallStats, cmd: Command, argv: Argv, reply: Uint8Array, t0: number): void {
  const ns = (performance.now() - t0) * 1e6
  const row = host.cmdStats
  row.call(cmd.id, ns)
  if (reply[0] === 45) { row.failed(cmd.id); row.error(reply, 0, reply.length) }
  const slower = row.stats.settings[SET_SLOWLOG_SLOWER]
  if (slower >= 0 && ns >= slower * 1000 && SKIP_SLOWLOG[cmd.id] === 0) host.logScriptCall(argsOf(argv), ns / 1000)
}

/**
 * A script command's own reply (EVAL, FCALL...: Redis's afterErrorReply for each error in it):
 * failed_calls once per error a redis.call counted already, and once more if any other error is
 * in it, each of which counts in errorstats and total_error_replies.
 */
export function countScriptReply (row: StatsRow, id: number, reply: Uint8Array): void {
  const e = replyErrors.get(reply)
  if (e === undefined) {
    if (reply[0] === 45) { row.failed(id); row.error(reply, 0, reply.length) }
    return
  }
  for (let i = 0; i < e.flagged; i++) row.failed(id)
  for (const err of e.counted) row.error(err, 0, err.length)
  if (e.counted.length > 0) row.failed(id)
}

/** SELECT inside a script: the database it names, or its error (the script client's own). */
export function selectedDb (index: Buffer): number | Uint8Array {
  const id = parseLL(index, 0, index.length)
  if (id === null || id > 2147483647 || id < -2147483648) return NOT_INTEGER
  if (id < 0 || id >= DATABASES) return DB_RANGE
  return id
}
