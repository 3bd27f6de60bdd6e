// Functions (Redis 7.0's functions.c): FUNCTION and FCALL/FCALL_RO. Like EVAL, every row with
// route 'script' runs on its producer thread in a transaction holding every shard
// (server/functions.ts), but for FUNCTION KILL, answered at once from the shared script-state
// word, and FUNCTION HELP, which is local. __function is the library store on shard 0 (the hub):
// the code of every library, in load order, so that each producer thread can rebuild the same
// libraries in its own Lua VM when the shared function count says they changed.

import { Buffer } from 'node:buffer'
import type { Argv, CommandSpec, ClientContext } from './spec.js'
import type { Shard } from '../storage/shard.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { evalGetKeys } from './scripting.js'

const HELP = [
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Library description',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
]

function functionHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.help('FUNCTION', HELP)
}

// --- __function on the hub: GET | SET code... --------------------------------------------------

/** The hub's library codes, in load order. Only shard 0's thread ever fills it. */
let codes: Buffer[] = []

/** The libraries' codes as the hub holds them (SAVE writes them into the RDB file). */
export function libraryCodes (): readonly Buffer[] { return codes }
/** The libraries an RDB file brought, at start (shard 0). */
export function setLibraryCodes (c: Buffer[]): void { codes = c }

function functionStoreCommand (_shard: Shard, argv: Argv, out: ReplyWriter): void {
  const isGet = argv.len[1] === 3 && argv.buf[argv.start[1]] === 103 // 'get'
  if (isGet) {
    out.arrayHeader(codes.length)
    for (const c of codes) out.bulkBuf(c)
    return
  }
  codes = []
  for (let i = 2; i < argv.argc; i++) codes.push(Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])))
  out.int(codes.length)
}

const S = { group: 'scripting', firstKey: 0, lastKey: 0, step: 0 } as const
const FCALL_FLAGS = ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'] as const
const RUNS = 'Depends on the function that is executed.'
const RW_KEYS = { flags: ['RW', 'access', 'update'], index: 2, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 }, notes: 'We cannot tell how the keys will be used so we assume the worst, RW and UPDATE' }
const RO_KEYS = { flags: ['RO', 'access'], index: 2, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 }, notes: 'We cannot tell how the keys will be used so we assume the worst, RO and ACCESS' }
const ALL_OK = ['request_policy:all_shards', 'response_policy:all_succeeded']

export const functionCommands: readonly CommandSpec[] = [
  // may_replicate (unprinted in 7.0): CLIENT PAUSE WRITE holds FCALL, not FCALL_RO.
  { ...S, name: 'fcall', arity: -3, flags: [...FCALL_FLAGS, 'may_replicate'], route: 'script', since: '7.0.0', summary: 'Invoke a function', complexity: RUNS, keySpecs: [RW_KEYS], getKeys: evalGetKeys },
  { ...S, name: 'fcall_ro', arity: -3, flags: ['readonly', ...FCALL_FLAGS], route: 'script', since: '7.0.0', summary: 'Invoke a read-only function', complexity: RUNS, keySpecs: [RO_KEYS], getKeys: evalGetKeys },
  {
    ...S,
    name: 'function',
    arity: -2,
    flags: [],
    route: 'primary',
    since: '7.0.0',
    summary: 'A container for function commands',
    complexity: 'Depends on subcommand.',
    // In the order Redis 7.0.15 lists them (its dict's).
    subcommands: [
      { ...S, name: 'function|kill', arity: 2, flags: ['noscript', 'allow_busy'], route: 'script', since: '7.0.0', summary: 'Kill the function currently in execution.', complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:one_succeeded'] },
      { ...S, name: 'function|dump', arity: 2, flags: ['noscript'], route: 'script', since: '7.0.0', summary: 'Dump all functions into a serialized binary payload', complexity: 'O(N) where N is the number of functions' },
      { ...S, name: 'function|list', arity: -2, flags: ['noscript'], route: 'script', since: '7.0.0', summary: 'List information about all the functions', complexity: 'O(N) where N is the number of functions', tips: ['nondeterministic_output_order'] },
      { ...S, name: 'function|stats', arity: 2, flags: ['noscript', 'allow_busy'], route: 'script', since: '7.0.0', summary: 'Return information about the function currently running (name, description, duration)', complexity: 'O(1)', tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'] },
      { ...S, name: 'function|flush', arity: -2, flags: ['write', 'noscript'], route: 'script', since: '7.0.0', summary: 'Deleting all functions', complexity: 'O(N) where N is the number of functions deleted', tips: ALL_OK },
      { ...S, name: 'function|restore', arity: -3, flags: ['write', 'denyoom', 'noscript'], route: 'script', since: '7.0.0', summary: 'Restore all the functions on the given payload', complexity: 'O(N) where N is the number of functions on the payload', tips: ALL_OK },
      { ...S, name: 'function|delete', arity: 3, flags: ['write', 'noscript'], route: 'script', since: '7.0.0', summary: 'Delete a function by name', complexity: 'O(1)', tips: ALL_OK },
      { ...S, name: 'function|load', arity: -3, flags: ['write', 'denyoom', 'noscript'], route: 'script', since: '7.0.0', summary: 'Create a function with the given arguments (name, code, description)', complexity: 'O(1) (considering compilation time is redundant)', tips: ALL_OK },
      { ...S, name: 'function|help', arity: 2, flags: ['loading', 'stale'], route: 'primary', since: '7.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: functionHelpCommand },
    ],
  },
]

export const functionInternalCommands: readonly CommandSpec[] = [
  { ...S, name: '__function', arity: -2, flags: [], route: 'hub', since: '', summary: '', complexity: '', internal: true, run: functionStoreCommand },
]
