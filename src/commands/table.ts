// The command table: every family's rows, frozen, with ids (the same on the primary and in the
// workers, since both build it from the same modules), cached arity errors and name lookup.
// Rows are checked at load: a malformed row fails start-up, not a request.

import type { CommandSpec, KeySpec } from './spec.js'
import { NameIndex } from './lookup.js'
import { arityError, type ArgvView } from '../protocol/errors.js'
import { connectionCommands } from './connection.js'
import { stringCommands } from './string.js'
import { genericCommands } from './generic.js'
import { serverCommands } from './server.js'
import { commandCommands } from './command-info.js'
import { internalCommands } from './internal.js'
import { xmoveCommands } from './xmove.js'
import { slowlogCommands } from './slowlog.js'
import { latencyCommands } from './latency.js'
import { listCommands } from './list.js'
import { hashCommands } from './hash.js'
import { setCommands, setInternalCommands } from './set.js'
import { zsetCommands } from './zset.js'
import { bitmapCommands, bitmapInternalCommands } from './bitmap.js'
import { hyperloglogCommands, hyperloglogInternalCommands } from './hyperloglog.js'
import { sortCommands, sortInternalCommands } from './sort.js'
import { zsetOpsCommands, zsetOpsInternalCommands } from './zset-ops.js'
import { geoCommands, geoInternalCommands } from './geo.js'
import { transactionCommands } from './transactions.js'
import { pubsubCommands } from './pubsub.js'
import { trackingInternalCommands } from './tracking.js'
import { streamCommands, streamInternalCommands } from './stream.js'
import { streamGroupCommands, streamGroupInternalCommands } from './stream-group.js'
import { streamBlockInternalCommands } from './stream-block.js'
import { streamInfoCommands } from './stream-info.js'
import { scriptingCommands, scriptingInternalCommands } from './scripting.js'
import { dumpCommands } from './dump.js'
import { persistenceCommands } from './persistence.js'
import { functionCommands, functionInternalCommands } from './functions.js'
import { debugSpecs } from './debug.js'
import { lolwutCommands } from './lolwut.js'
import { moduleCommands } from './module.js'
import { aclCommands } from './acl.js'
import { clusterCommands } from './cluster.js'
import { registry } from './registry.js'

export interface Command extends CommandSpec {
  readonly id: number
  readonly parent: Command | null
  readonly arityErr: Buffer
  readonly subIndex: NameIndex<Command> | null
  readonly subList: readonly Command[]
  /** 'denyoom' flag: refused above maxmemory. */
  readonly isDenyOom: boolean
  /** 'write' flag: its changes touch WATCHed keys (storage/watch.ts). */
  readonly isWrite: boolean
  /** 'allow_busy' flag: runs while a script is past busy-reply-threshold (others get BUSY). */
  readonly isAllowBusy: boolean
  /** A key position this write command only reads (COPY's source, a read-only key spec); 0: none. */
  readonly readOnlyKey: number
  /** That read-only key spec runs to the last argument (BITOP's and PFMERGE's sources): all of them are only read. */
  readonly isReadOnlyToEnd: boolean
  /** Its keys are only ever deleted (RM key specs: DEL, UNLINK): WATCH sees that through the deletions. */
  readonly onlyDeletes: boolean
  /** 'no_multi' flag: refused inside MULTI. */
  readonly isNoMulti: boolean
  /** 'no_auth' flag: runs before AUTH (AUTH, HELLO, QUIT). */
  readonly isNoAuth: boolean
  /** Refused unless enable-debug-command allows it (Redis's CMD_PROTECTED: DEBUG). */
  readonly isProtected: boolean
  /** Protected by enable-module-command rather than enable-debug-command. */
  readonly isModuleCommand: boolean
  /** MONITOR prints it (not 'admin', not 'skip_monitor'). */
  readonly isMonitored: boolean
  /** 'readonly', 'write' or 'may_replicate': refused to a MONITOR client ("Replica can't interact with the keyspace"). */
  readonly touchesKeyspace: boolean
}

export const families: ReadonlyArray<readonly CommandSpec[]> = [
  connectionCommands, stringCommands, listCommands, hashCommands, setCommands, zsetCommands, zsetOpsCommands, geoCommands, bitmapCommands, hyperloglogCommands, streamCommands, streamGroupCommands, streamInfoCommands, sortCommands, genericCommands, dumpCommands, serverCommands, debugSpecs, lolwutCommands, moduleCommands, clusterCommands, slowlogCommands, latencyCommands, persistenceCommands, aclCommands, transactionCommands, pubsubCommands, scriptingCommands, functionCommands, commandCommands, internalCommands, xmoveCommands, setInternalCommands, zsetOpsInternalCommands, geoInternalCommands, bitmapInternalCommands, hyperloglogInternalCommands, sortInternalCommands, streamInternalCommands, streamGroupInternalCommands, streamBlockInternalCommands, scriptingInternalCommands, functionInternalCommands, trackingInternalCommands,
]

/** Every command and subcommand, indexed by id. */
export const commands: Command[] = []
/** Top-level commands in declaration order. */
export const topLevel: Command[] = []

function check (spec: CommandSpec): void {
  const bad = (why: string): never => { throw new Error(`command table: '${spec.name}' ${why}`) }
  if (spec.name !== spec.name.toLowerCase()) bad('name must be lowercase')
  if (spec.firstKey > 0 && spec.step < 1) bad('step must be >= 1 for keyed commands')
  if (spec.firstKey > 0 && spec.arity > 0 && spec.firstKey >= spec.arity) bad('first key outside the arity')
  if ((spec.route === 'split' || spec.route === 'all') && spec.merge === undefined) bad('split/all routes need a merge')
  if (spec.merge === 'custom' && spec.finish === undefined) bad('custom merge needs finish')
  if (spec.route === 'txn' && spec.internal !== true && spec.local !== undefined) bad('txn routes run in the router')
  if (spec.route === 'primary' && spec.local === undefined && spec.subcommands === undefined) bad('primary route needs a local handler')
  if (spec.route !== 'primary' && spec.route !== 'txn' && spec.route !== 'pubsub' && spec.route !== 'script' && spec.run === undefined) bad('shard route needs a run handler')
  if ((spec.route === 'key' || spec.route === 'split' || spec.route === 'coord' || spec.route === 'block') && spec.firstKey < 1 && spec.internal !== true && spec.getKeys === undefined) bad('key routes need keys')
  if (spec.route === 'coord' && spec.coord === undefined) bad('coord route needs a coord handler')
}

const names = new Set<string>()

function add (spec: CommandSpec, parent: Command | null): Command {
  check(spec)
  // Internal steps share the lookup by name with client commands: a second row would be unreachable.
  if (names.has(spec.name)) throw new Error(`command table: '${spec.name}' is declared twice`)
  names.add(spec.name)
  const subs: Command[] = []
  // Every field, always, in one order: every command gets the same hidden class. A spread of
  // the specs gave 101 shapes for 359 commands, so that every property load on a command in
  // code that sees several (dispatch, runOne, redis.call) went megamorphic (perf: ~7% of a
  // script's redis.call loop in LoadIC_Megamorphic).
  const cmd: Command = {
    name: spec.name,
    arity: spec.arity,
    flags: spec.flags,
    firstKey: spec.firstKey,
    lastKey: spec.lastKey,
    step: spec.step,
    route: spec.route,
    merge: spec.merge,
    group: spec.group,
    since: spec.since,
    summary: spec.summary,
    complexity: spec.complexity,
    acl: spec.acl,
    noGroupAcl: spec.noGroupAcl,
    tips: spec.tips,
    keySpecs: spec.keySpecs,
    run: spec.run,
    local: spec.local,
    finish: spec.finish,
    admit: spec.admit,
    touchesReplyKey: spec.touchesReplyKey,
    begin: spec.begin,
    getKeys: spec.getKeys,
    blocks: spec.blocks,
    coord: spec.coord,
    allShards: spec.allShards,
    protectedCommand: spec.protectedCommand,
    internal: spec.internal,
    logsItself: spec.logsItself,
    subcommands: spec.subcommands,
    id: commands.length,
    parent,
    arityErr: arityError(spec.name),
    subIndex: null,
    subList: subs,
    isDenyOom: spec.flags.includes('denyoom'),
    isWrite: spec.flags.includes('write'),
    isAllowBusy: spec.flags.includes('allow_busy'),
    readOnlyKey: readOnlyKeyOf(spec),
    isReadOnlyToEnd: isReadOnlyToEndOf(spec),
    onlyDeletes: spec.keySpecs !== undefined && spec.keySpecs.length > 0 && spec.keySpecs.every(k => k.flags.includes('RM')),
    isNoMulti: spec.flags.includes('no_multi'),
    isNoAuth: spec.flags.includes('no_auth'),
    isProtected: spec.protectedCommand !== undefined,
    isModuleCommand: spec.protectedCommand === 'module',
    isMonitored: !spec.flags.includes('admin') && !spec.flags.includes('skip_monitor'),
    touchesKeyspace: spec.flags.includes('readonly') || spec.flags.includes('write') || spec.flags.includes('may_replicate'),
  }
  // A spec field the literal above does not copy would be lost: refuse it (add it there).
  for (const k of Object.keys(spec)) if (!(k in cmd)) throw new Error(`command table: '${spec.name}' has a field add() does not copy: ${k}`)
  commands.push(cmd)
  if (spec.subcommands !== undefined) {
    for (const s of spec.subcommands) subs.push(add(s, cmd))
    ;(cmd as { subIndex: NameIndex<Command> | null }).subIndex =
      new NameIndex(subs.map(s => [s.name.slice(s.name.indexOf('|') + 1), s] as [string, Command]))
  }
  return Object.freeze(cmd)
}

const internal: Command[] = []
for (const family of families) {
  for (const spec of family) {
    const cmd = add(spec, null)
    if (spec.internal === true) internal.push(cmd)
    else topLevel.push(cmd)
  }
}

let index = new NameIndex(topLevel.map(c => [c.name, c] as [string, Command]))

/**
 * rename-command (config file): serve commands under other names, or not at all (an empty new
 * name), on this thread. Always applied to the original table, so applying the same list again
 * changes nothing. Returns Redis's error text for a bad pair, or null.
 */
export function renameCommands (pairs: ReadonlyArray<readonly [string, string]>): string | null {
  const names = new Map<string, Command>(topLevel.map(c => [c.name, c]))
  for (const [from, to] of pairs) {
    const cmd = names.get(from.toLowerCase())
    if (cmd === undefined) return 'No such command in rename-command'
    names.delete(from.toLowerCase())
    if (to === '') continue
    if (names.has(to.toLowerCase())) return 'Target command name already exists'
    names.set(to.toLowerCase(), cmd)
  }
  index = new NameIndex([...names])
  return null
}

/** Worker-only commands by name (transaction steps). */
export function internalCommand (name: string): Command {
  const cmd = internal.find(c => c.name === name)
  if (cmd === undefined) throw new Error(`no internal command ${name}`)
  return cmd
}

/** Any client-visible or internal command by lowercase name (transaction steps name them). */
export function commandByName (name: string): Command {
  const cmd = topLevel.find(c => c.name === name) ?? internal.find(c => c.name === name)
  if (cmd === undefined) throw new Error(`no command ${name}`)
  return cmd
}

export function lookupCommand (buf: Uint8Array, start: number, len: number): Command | undefined {
  return index.get(buf, start, len)
}

/** The command, or its subcommand, that an argument list names (redis.call's lookup), or null. */
export function commandOfArgs (args: readonly Uint8Array[]): Command | null {
  const cmd = lookupCommand(args[0], 0, args[0].length)
  if (cmd === undefined) return null
  if (cmd.subIndex === null || args.length < 2) return cmd
  return cmd.subIndex.get(args[1], 0, args[1].length) ?? null
}

/** commandOfArgs over an Argv (a script's redis.call in a shard worker). */
export function commandOfArgv (argv: ArgvView): Command | null {
  const cmd = lookupCommand(argv.buf, argv.start[0], argv.len[0])
  if (cmd === undefined) return null
  if (cmd.subIndex === null || argv.argc < 2) return cmd
  return cmd.subIndex.get(argv.buf, argv.start[1], argv.len[1]) ?? null
}

registry.topLevel = topLevel
registry.lookup = lookupCommand

/** The read-only key spec with a fixed start (COPY's source; ZUNIONSTORE's numkeys sources). */
function readOnlySpec (spec: CommandSpec): KeySpec | undefined {
  return spec.keySpecs?.find(k => k.flags.includes('RO') && k.index !== undefined)
}

/** Its first key: a numkeys spec's index names the count, its keys start keynum.firstkey after it. */
function readOnlyKeyOf (spec: CommandSpec): number {
  const ro = readOnlySpec(spec)
  if (ro === undefined) return 0
  return (ro.index as number) + (ro.keynum?.firstkey ?? 0)
}

/** The sources run to the last key: a range to the end, or a numkeys list (nothing written follows it). */
function isReadOnlyToEndOf (spec: CommandSpec): boolean {
  const ro = readOnlySpec(spec)
  return ro !== undefined && (ro.range?.lastkey === -1 || ro.keynum !== undefined)
}
