// Scripting commands (Redis's eval.c): EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT. The rows
// with route 'script' run on their producer thread, in a transaction holding every shard
// (server/scripting.ts), but for SCRIPT KILL, answered there at once from the shared
// script-state word; SCRIPT HELP is local. __script is the script store on shard 0 (the hub):
// every body any producer compiled, so that an EVALSHA reaching another I/O thread finds it
// there, and SCRIPT EXISTS and FLUSH see every thread's scripts.

import { Buffer } from 'node:buffer'
import type { Argv, CommandSpec, ClientContext } from './spec.js'
import type { Shard } from '../storage/shard.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'

/** numkeys of EVAL*: the key indexes, or null when numkeys is not a valid count for argv. */
export function evalGetKeys (argv: Argv): number[] | null {
  const n = Number(Buffer.from(argv.buf.subarray(argv.start[2], argv.start[2] + argv.len[2])).toString('latin1'))
  if (!Number.isInteger(n) || n < 0 || n > argv.argc - 3) return null
  const keys: number[] = []
  for (let i = 0; i < n; i++) keys.push(3 + i)
  return keys
}

const HELP = [
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
]

function scriptHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.help('SCRIPT', HELP)
}

// --- __script on the hub: STORE sha body | GET sha | EXISTS sha... | FLUSH ----------------------

/** The hub's bodies by sha1 (lowercase hex). Only shard 0's thread ever fills it. */
const bodies = new Map<string, Buffer>()

/** A body on the hub (a script run inside shard 0's worker, at one shard, reads the store in place). */
export function hubScript (sha: string): Buffer | undefined { return bodies.get(sha) }
/** Stores a body on the hub, as __script STORE does. */
export function storeHubScript (sha: string, body: Buffer): void { bodies.set(sha, body) }
/** The hub's script cache: how many, and their bytes as Redis's lua_scripts_mem counts them (sha1 and body). */
export function hubScriptsMemory (): { count: number, bytes: number } {
  let bytes = 0
  for (const b of bodies.values()) bytes += 40 + b.length
  return { count: bodies.size, bytes }
}
/** Another shard's worker forgets the bodies its producers gave it (SCRIPT FLUSH seen there). */
export function forgetHubScripts (): void { bodies.clear() }

function argStr (argv: Argv, i: number): string {
  return Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1')
}

function scriptStoreCommand (_shard: Shard, argv: Argv, out: ReplyWriter): void {
  switch (argStr(argv, 1)) {
    case 'store':
      bodies.set(argStr(argv, 2), Buffer.from(argv.buf.subarray(argv.start[3], argv.start[3] + argv.len[3])))
      out.int(1)
      return
    case 'get': {
      const body = bodies.get(argStr(argv, 2))
      if (body === undefined) out.nullBulk()
      else out.bulkBuf(body)
      return
    }
    case 'exists':
      out.arrayHeader(argv.argc - 2)
      for (let i = 2; i < argv.argc; i++) out.int(bodies.has(argStr(argv, i).toLowerCase()) ? 1 : 0)
      return
    default:
      bodies.clear()
      out.int(1)
  }
}

const S = { group: 'scripting', firstKey: 0, lastKey: 0, step: 0 } as const
const EVAL_FLAGS = ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'] as const
const RO_FLAGS = ['readonly', ...EVAL_FLAGS] as const
// may_replicate (unprinted in 7.0): CLIENT PAUSE WRITE holds EVAL and EVALSHA, not the _RO forms.
const RW_FLAGS = [...EVAL_FLAGS, 'may_replicate'] as const
const RW_KEYS = { flags: ['RW', 'access', 'update'], index: 2, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } }
const RO_KEYS = { flags: ['RO', 'access'], index: 2, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } }
const RUNS = 'Depends on the script that is executed.'

export const scriptingCommands: readonly CommandSpec[] = [
  { ...S, name: 'eval', arity: -3, flags: RW_FLAGS, route: 'script', since: '2.6.0', summary: 'Execute a Lua script server side', complexity: RUNS, keySpecs: [{ ...RW_KEYS, notes: 'We cannot tell how the keys will be used so we assume the worst, RW and UPDATE' }], getKeys: evalGetKeys },
  { ...S, name: 'evalsha', arity: -3, flags: RW_FLAGS, route: 'script', since: '2.6.0', summary: 'Execute a Lua script server side', complexity: RUNS, keySpecs: [RW_KEYS], getKeys: evalGetKeys },
  { ...S, name: 'eval_ro', arity: -3, flags: RO_FLAGS, route: 'script', since: '7.0.0', summary: 'Execute a read-only Lua script server side', complexity: RUNS, keySpecs: [{ ...RO_KEYS, notes: 'We cannot tell how the keys will be used so we assume the worst, RO and ACCESS' }], getKeys: evalGetKeys },
  { ...S, name: 'evalsha_ro', arity: -3, flags: RO_FLAGS, route: 'script', since: '7.0.0', summary: 'Execute a read-only Lua script server side', complexity: RUNS, keySpecs: [RO_KEYS], getKeys: evalGetKeys },
  {
    ...S,
    name: 'script',
    arity: -2,
    flags: [],
    route: 'primary',
    since: '2.6.0',
    summary: 'A container for Lua scripts management commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...S, name: 'script|exists', arity: -3, flags: ['noscript'], route: 'script', since: '2.6.0', summary: 'Check existence of scripts in the script cache.', complexity: 'O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).', tips: ['request_policy:all_shards', 'response_policy:agg_logical_and'] },
      { ...S, name: 'script|flush', arity: -2, flags: ['noscript'], route: 'script', since: '2.6.0', summary: 'Remove all the scripts from the script cache.', complexity: 'O(N) with N being the number of scripts in cache', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] },
      { ...S, name: 'script|help', arity: 2, flags: ['loading', 'stale'], route: 'primary', since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: scriptHelpCommand },
      { ...S, name: 'script|kill', arity: 2, flags: ['noscript', 'allow_busy'], route: 'script', since: '2.6.0', summary: 'Kill the script currently in execution.', complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:one_succeeded'] },
      { ...S, name: 'script|load', arity: 3, flags: ['noscript', 'stale'], route: 'script', since: '2.6.0', summary: 'Load the specified Lua script into the script cache.', complexity: 'O(N) with N being the length in bytes of the script body.', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'] },
    ],
  },
]

export const scriptingInternalCommands: readonly CommandSpec[] = [
  { ...S, name: '__script', arity: -2, flags: [], route: 'hub', since: '', summary: '', complexity: '', internal: true, run: scriptStoreCommand },
]
