// What redis.call checks before it runs a command (scriptCall's order and texts), and SELECT's
// change of the script's database: the same for a script held on a producer thread
// (server/scripting.ts CallHost) and for one inside a shard's worker (scripting/in-shard.ts).

import type { Command } from '../commands/table.js'
import { commands } from '../commands/table.js'
import { errorReply, NOT_INTEGER, OOM } from '../protocol/errors.js'
import { parseLL } from '../protocol/ascii.js'
import { DATABASES } from '../storage/shard.js'
import { KILLED } from './scripts.js'

export const NOSCRIPT = errorReply('NOSCRIPT No matching script. Please use EVAL.')
const UNKNOWN = errorReply('ERR Unknown Redis command called from script')
const WRONG_ARGS = errorReply('ERR Wrong number of args calling Redis command from script')
export const NOT_ALLOWED = errorReply('ERR This Redis command is not allowed from script')
const WRITE_IN_RO = errorReply('ERR Write commands are not allowed from read-only scripts.')
const DB_RANGE = errorReply('ERR DB index is out of range')
const KILLED_REPLY = errorReply(KILLED)
/** FUNCTION STATS on any thread names the busy function published on this channel. */
export const BUSY_CHANNEL = 'flashkv:busy-function'

/** noscript commands, and the writes that run on every shard (FLUSHALL, FLUSHDB, SWAPDB): refused. */
const NOT_IN_SCRIPT = Uint8Array.from(commands, c => c.flags.includes('noscript') || (c.route === 'all' && c.isWrite) ? 1 : 0)

/** The script running the call: its flags, and its host's view of ACL and memory. */
export interface CallContext {
  isReadOnly: boolean
  allowOom: boolean
  /** ACL's refusal of the command for the script's user (null: allowed). */
  aclRefusal: ((cmd: Command, argv: Buffer[]) => Uint8Array | null) | null
  /** Under noeviction, used memory is past maxmemory. */
  isOverMaxmemory: () => boolean
  /** The script is about to write: false when SCRIPT KILL came first. */
  noteWrite: () => boolean
}

/** Why redis.call refuses cmd (null: not found) with argv, in Redis's order; null when it may run. */
export function callRefusal (cmd: Command | null, argv: Buffer[], ctx: CallContext): Uint8Array | null {
  if (cmd === null || cmd.internal === true) return UNKNOWN
  const argc = argv.length
  if ((cmd.arity > 0 && argc !== cmd.arity) || argc < -cmd.arity) return WRONG_ARGS
  // Redis's MSET answers an odd count itself; split commands here need the pairs whole.
  if (cmd.step > 1 && cmd.lastKey < 0 && (argc - cmd.firstKey) % cmd.step !== 0) return cmd.arityErr
  // FLUSHALL, FLUSHDB and SWAPDB run on each shard's own thread, which a held script has lent.
  if (NOT_IN_SCRIPT[cmd.id] !== 0) return NOT_ALLOWED
  const refused = ctx.aclRefusal?.(cmd, argv) ?? null
  if (refused !== null) return refused
  if (ctx.isReadOnly && cmd.isWrite) return WRITE_IN_RO
  // scriptVerifyOOM: above maxmemory, commands that may grow memory are refused.
  if (cmd.isDenyOom && !ctx.allowOom && ctx.isOverMaxmemory()) return OOM
  if (cmd.isWrite && !ctx.noteWrite()) return KILLED_REPLY
  return null
}

/** SELECT inside a script: the database it names, or its error (the script client's own). */
export function selectedDb (index: Buffer): number | Uint8Array {
  const id = parseLL(index, 0, index.length)
  if (id === null || id > 2147483647 || id < -2147483648) return NOT_INTEGER
  if (id < 0 || id >= DATABASES) return DB_RANGE
  return id
}
