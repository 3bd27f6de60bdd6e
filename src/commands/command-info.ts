// COMMAND, COMMAND COUNT/INFO/DOCS, written straight from the command table (Redis's
// addReplyCommandInfo / addReplyCommandDocs). Flags and ACL categories are printed in Redis's
// own order; categories are derived from flags and group as setImplicitACLCategories does.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, ClientContext, Flag } from './spec.js'
import { helpCommand } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Command } from './table.js'
import { registry } from './registry.js'
import { stringMatch } from './glob.js'
import { parseLL } from '../protocol/ascii.js'
import { SYNTAX_ERR, errorReply } from '../protocol/errors.js'

// Redis 7.0 does not print may_replicate (PFCOUNT and PUBLISH have it): it only steers CLIENT PAUSE.
const FLAG_ORDER: readonly Flag[] = [
  'write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale',
  'skip_monitor', 'skip_slowlog', 'fast', 'no_auth', 'no_mandatory_keys',
  'no_async_loading', 'no_multi', 'movablekeys', 'allow_busy',
]
const ACL_ORDER = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
]
const GROUP_ACL: Record<string, string | null> = { string: 'string', generic: 'keyspace', list: 'list', hash: 'hash', set: 'set', sortedset: 'sortedset', bitmap: 'bitmap', hyperloglog: 'hyperloglog', geo: 'geo', connection: 'connection', server: null, cluster: null, transactions: 'transaction', pubsub: null, stream: 'stream', scripting: 'scripting' }

export function aclCategories (spec: CommandSpec): string[] {
  const cats = new Set<string>(spec.acl ?? [])
  const g = GROUP_ACL[spec.group]
  // Containers (CONFIG, CLIENT) carry no group category of their own, only their subcommands do.
  if (g !== null && g !== undefined && spec.subcommands === undefined && spec.noGroupAcl !== true) cats.add(g)
  if (spec.flags.includes('write')) cats.add('write')
  // setImplicitACLCategories: read-only scripts (EVAL_RO) are not @read.
  if (spec.flags.includes('readonly') && spec.group !== 'scripting') cats.add('read')
  if (spec.flags.includes('admin')) { cats.add('admin'); cats.add('dangerous') }
  if (spec.flags.includes('pubsub')) cats.add('pubsub')
  if (spec.flags.includes('blocking')) cats.add('blocking')
  cats.add(spec.flags.includes('fast') ? 'fast' : 'slow')
  return ACL_ORDER.filter(c => cats.has(c))
}

function writeInfo (cmd: Command, out: ReplyWriter): void {
  out.arrayHeader(10)
  out.bulkStr(cmd.name)
  out.int(cmd.arity)
  const flags = FLAG_ORDER.filter(f => cmd.flags.includes(f))
  out.setHeader(flags.length)
  for (const f of flags) out.status(f)
  out.int(cmd.firstKey)
  out.int(cmd.lastKey)
  out.int(cmd.step)
  const cats = aclCategories(cmd)
  out.setHeader(cats.length)
  for (const c of cats) out.status('@' + c)
  // RESP3 sets, as addReplyCommandTips and addReplyCommandKeySpecs make them.
  const tips = cmd.tips ?? []
  out.setHeader(tips.length)
  for (const t of tips) out.bulkStr(t)
  const specs = cmd.keySpecs ?? []
  out.setHeader(specs.length)
  for (const ks of specs) {
    out.mapHeader(ks.notes === undefined ? 3 : 4)
    if (ks.notes !== undefined) { out.bulkStr('notes'); out.bulkStr(ks.notes) }
    out.bulkStr('flags')
    out.setHeader(ks.flags.length)
    for (const f of ks.flags) out.status(f)
    out.bulkStr('begin_search')
    out.mapHeader(2)
    if (ks.unknown === true) {
      out.bulkStr('type'); out.bulkStr('unknown')
      out.bulkStr('spec'); out.mapHeader(0)
      out.bulkStr('find_keys'); out.mapHeader(2)
      out.bulkStr('type'); out.bulkStr('unknown')
      out.bulkStr('spec'); out.mapHeader(0)
      continue
    }
    if (ks.keyword !== undefined) {
      out.bulkStr('type'); out.bulkStr('keyword')
      out.bulkStr('spec'); out.mapHeader(2)
      out.bulkStr('keyword'); out.bulkStr(ks.keyword.keyword)
      out.bulkStr('startfrom'); out.int(ks.keyword.startfrom)
    } else {
      out.bulkStr('type'); out.bulkStr('index')
      out.bulkStr('spec'); out.mapHeader(1); out.bulkStr('index'); out.int(ks.index ?? cmd.firstKey)
    }
    out.bulkStr('find_keys')
    out.mapHeader(2)
    if (ks.keynum !== undefined) {
      out.bulkStr('type'); out.bulkStr('keynum')
      out.bulkStr('spec'); out.mapHeader(3)
      out.bulkStr('keynumidx'); out.int(ks.keynum.keynumidx)
      out.bulkStr('firstkey'); out.int(ks.keynum.firstkey)
      out.bulkStr('keystep'); out.int(ks.keynum.keystep)
    } else {
      // Redis stores lastkey relative to the first key when it is not negative.
      const r = ks.range ?? { lastkey: cmd.lastKey >= 0 ? cmd.lastKey - cmd.firstKey : cmd.lastKey, keystep: cmd.step, limit: 0 }
      out.bulkStr('type'); out.bulkStr('range')
      out.bulkStr('spec'); out.mapHeader(3)
      out.bulkStr('lastkey'); out.int(r.lastkey)
      out.bulkStr('keystep'); out.int(r.keystep)
      out.bulkStr('limit'); out.int(r.limit)
    }
  }
  // addReplyCommandSubCommands: an empty set without subcommands, else an array.
  if (cmd.subList.length === 0) out.setHeader(0)
  else out.arrayHeader(cmd.subList.length)
  for (const s of cmd.subList) writeInfo(s, out)
}

function writeDocs (cmd: Command, out: ReplyWriter): void {
  const hasSubs = cmd.subList.length > 0
  // Redis leaves out a complexity its JSON does not give (LOLWUT).
  const hasComplexity = cmd.complexity !== ''
  out.mapHeader(3 + (hasSubs ? 1 : 0) + (hasComplexity ? 1 : 0))
  out.bulkStr('summary'); out.bulkStr(cmd.summary)
  out.bulkStr('since'); out.bulkStr(cmd.since)
  out.bulkStr('group'); out.bulkStr(cmd.group)
  if (hasComplexity) { out.bulkStr('complexity'); out.bulkStr(cmd.complexity) }
  if (hasSubs) {
    out.bulkStr('subcommands')
    out.mapHeader(cmd.subList.length)
    for (const s of cmd.subList) { out.bulkStr(s.name); writeDocs(s, out) }
  }
}

/** COMMAND INFO/DOCS look names up as Redis's lookupCommandBySds: "config|get" finds a subcommand. */
function findByName (buf: Uint8Array, start: number, len: number): Command | undefined {
  let bar = -1
  for (let i = start; i < start + len; i++) if (buf[i] === 124) { bar = i; break }
  if (bar < 0) return registry.lookup(buf, start, len)
  const parent = registry.lookup(buf, start, bar - start)
  if (parent === undefined || parent.subIndex === null) return undefined
  return parent.subIndex.get(buf, bar + 1, start + len - bar - 1)
}

export function commandCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.arrayHeader(registry.topLevel.length)
  for (const cmd of registry.topLevel) writeInfo(cmd, out)
}

export function commandCountCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.int(registry.topLevel.length)
}

export function commandInfoCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc === 2) { commandCommand(_c, argv, out); return }
  out.arrayHeader(argv.argc - 2)
  for (let i = 2; i < argv.argc; i++) {
    const cmd = findByName(argv.buf, argv.start[i], argv.len[i])
    // addReplyNull: a null bulk in RESP2, as Redis 7.0 answers an unknown name.
    if (cmd === undefined) out.nullBulk()
    else writeInfo(cmd, out)
  }
}

export function commandDocsCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc === 2) {
    out.mapHeader(registry.topLevel.length)
    for (const cmd of registry.topLevel) { out.bulkStr(cmd.name); writeDocs(cmd, out) }
    return
  }
  const found: Command[] = []
  for (let i = 2; i < argv.argc; i++) {
    const cmd = findByName(argv.buf, argv.start[i], argv.len[i])
    if (cmd !== undefined) found.push(cmd)
  }
  out.mapHeader(found.length)
  for (const cmd of found) { out.bulkStr(cmd.name); writeDocs(cmd, out) }
}

const TOK_FILTERBY = Buffer.from('filterby')

/** COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern] (commandListCommand). */
export function commandListCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const word = (i: number): string => Buffer.from(buf.buffer, buf.byteOffset + start[i], len[i]).toString('latin1')
  let filter: ((cmd: Command) => boolean) | null = null
  for (let i = 2; i < argc; i++) {
    if (word(i).toLowerCase() !== TOK_FILTERBY.toString() || argc - 1 - i !== 2) { out.raw(SYNTAX_ERR); return }
    const type = word(i + 1).toLowerCase()
    const arg = Buffer.from(buf.buffer, buf.byteOffset + start[i + 2], len[i + 2])
    if (type === 'module') filter = () => false
    else if (type === 'aclcat') {
      const cat = arg.toString('latin1').toLowerCase()
      filter = cmd => aclCategories(cmd).includes(cat)
    } else if (type === 'pattern') {
      filter = cmd => { const n = Buffer.from(cmd.name, 'latin1'); return stringMatch(arg, 0, arg.length, n, 0, n.length, true) }
    } else { out.raw(SYNTAX_ERR); return }
    i += 2
  }
  const names: string[] = []
  for (const cmd of registry.topLevel) {
    if (filter === null || filter(cmd)) names.push(cmd.name)
    for (const sub of cmd.subList) if (filter === null || filter(sub)) names.push(sub.name)
  }
  out.arrayHeader(names.length)
  for (const n of names) out.bulkStr(n)
}

const INVALID_COMMAND = errorReply('ERR Invalid command specified')
const NO_KEY_ARGS = errorReply('ERR The command has no key arguments')
const INVALID_NUMBER = errorReply('ERR Invalid number of arguments specified for command')
const INVALID_ARGS = errorReply('ERR Invalid arguments specified for command')

/**
 * getKeysUsingKeySpecs: [argument index, key spec flags] of each key of argv[first..], or null
 * when a spec does not fit the arguments (an invalid or incomplete spec).
 */
function keysBySpecs (cmd: Command, args: Buffer[]): Array<[number, readonly string[]]> | null {
  const argc = args.length
  const keys: Array<[number, readonly string[]]> = []
  for (const spec of cmd.keySpecs ?? []) {
    if (spec.unknown === true) return null
    let first = 0
    if (spec.keyword !== undefined) {
      const kw = spec.keyword.keyword.toLowerCase()
      const from = spec.keyword.startfrom > 0 ? spec.keyword.startfrom : argc + spec.keyword.startfrom
      const to = spec.keyword.startfrom > 0 ? argc - 1 : 1
      for (let i = from; i !== to; i = from <= to ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break
        if (args[i].toString('latin1').toLowerCase() === kw) { first = i + 1; break }
      }
      if (first === 0) continue
    } else first = spec.index ?? cmd.firstKey
    let last: number
    let step: number
    if (spec.keynum !== undefined) {
      if (spec.keynum.keynumidx >= argc || first + spec.keynum.keynumidx >= argc) return null
      const a = args[first + spec.keynum.keynumidx]
      const numkeys = parseLL(a, 0, a.length)
      if (numkeys === null || numkeys < 0) return null
      first += spec.keynum.firstkey
      last = first + numkeys - 1
      step = spec.keynum.keystep
    } else {
      const r = spec.range ?? { lastkey: cmd.lastKey >= 0 ? cmd.lastKey - cmd.firstKey : cmd.lastKey, keystep: cmd.step, limit: 0 }
      if (r.lastkey >= 0) last = first + r.lastkey
      else if (r.limit === 0) last = argc + r.lastkey
      else last = first + (Math.floor((argc - first) / r.limit) + r.lastkey)
      step = r.keystep
    }
    if (last >= argc || last < first || first >= argc) return null
    for (let i = first; i <= last; i += step) keys.push([i, spec.flags])
    if (spec.flags.includes('incomplete')) return null
  }
  return keys
}

/**
 * SET's and BITFIELD's keys, whose flags depend on their options (setGetKeys, bitfieldGetKeys):
 * SET with GET reads, BITFIELD with SET or INCRBY writes.
 */
function variableFlagKeys (cmd: Command, args: Buffer[]): Array<[number, readonly string[]]> | null {
  const has = (words: string[], from: number): boolean => args.slice(from).some(a => words.includes(a.toString('latin1').toLowerCase()))
  if (cmd.name === 'set') return [[1, has(['get'], 3) ? ['RW', 'access', 'update'] : ['OW', 'update']]]
  if (cmd.name === 'bitfield') return [[1, has(['set', 'incrby'], 2) ? ['RW', 'access', 'update'] : ['RO', 'access']]]
  return null
}

/**
 * getKeysFromCommandWithSpecs: [argument index, key spec flags] of each key of args (args[0]
 * is the command's name), or null when none can be found. COMMAND GETKEYS and the ACL key
 * check (server/acl.ts) both use it.
 */
export function commandKeys (cmd: Command, args: Buffer[]): Array<[number, readonly string[]]> | null {
  const specs = cmd.keySpecs ?? []
  // Key specs first when their flags can be trusted; else the command's own key function.
  const isVariable = specs.some(k => k.flags.includes('variable_flags'))
  let keys = isVariable ? variableFlagKeys(cmd, args) : keysBySpecs(cmd, args)
  if (keys === null && cmd.getKeys !== undefined) {
    const view = argvOf(args)
    // As sortGetKeys flags them: the sorted key by the first spec, a STORE key by the last.
    const firstFlags = specs[0]?.flags ?? []
    const lastFlags = specs[specs.length - 1]?.flags ?? []
    keys = (cmd.getKeys(view) ?? []).map((i, n) => [i, n === 0 ? firstFlags : lastFlags])
  }
  if (keys === null && cmd.getKeys === undefined && cmd.firstKey > 0 && cmd.firstKey < args.length) {
    // The legacy key positions (sortROGetKeys and the like: the first key alone, here).
    keys = []
    const last = cmd.lastKey >= 0 ? cmd.lastKey : args.length + cmd.lastKey
    for (let i = cmd.firstKey; i <= last && i < args.length; i += cmd.step || 1) keys.push([i, specs[0]?.flags ?? []])
  }
  return keys
}

/** An Argv over separate buffers (joined), for a command's own key function. */
function argvOf (args: Buffer[]): Argv {
  const buf = Buffer.concat(args)
  const start = new Int32Array(args.length)
  const len = new Int32Array(args.length)
  let at = 0
  for (let i = 0; i < args.length; i++) { start[i] = at; len[i] = args[i].length; at += args[i].length }
  return { buf, start, len, argc: args.length } as unknown as Argv
}

/** COMMAND GETKEYS and GETKEYSANDFLAGS (getKeysSubcommandImpl). */
function getKeys (argv: Argv, out: ReplyWriter, withFlags: boolean): void {
  const args: Buffer[] = []
  for (let i = 2; i < argv.argc; i++) args.push(Buffer.from(argv.buf.buffer, argv.buf.byteOffset + argv.start[i], argv.len[i]))
  let cmd = registry.lookup(args[0], 0, args[0].length)
  if (cmd !== undefined && cmd.subIndex !== null && args.length > 1) cmd = cmd.subIndex.get(args[1], 0, args[1].length) ?? undefined
  if (cmd === undefined || cmd.internal === true) { out.raw(INVALID_COMMAND); return }
  const specs = cmd.keySpecs ?? []
  if (cmd.getKeys === undefined && !specs.some(k => !k.flags.includes('not_key'))) { out.raw(NO_KEY_ARGS); return }
  if ((cmd.arity > 0 && cmd.arity !== args.length) || args.length < -cmd.arity) { out.raw(INVALID_NUMBER); return }
  const keys = commandKeys(cmd, args)
  if (keys === null || keys.length === 0) {
    if (cmd.flags.includes('no_mandatory_keys')) out.arrayHeader(0)
    else out.raw(INVALID_ARGS)
    return
  }
  out.arrayHeader(keys.length)
  for (const [i, flags] of keys) {
    if (!withFlags) { out.bulkBuf(args[i]); continue }
    out.arrayHeader(2)
    out.bulkBuf(args[i])
    out.setHeader(flags.length)
    for (const f of flags) out.status(f)
  }
}

export function commandGetkeysCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void { getKeys(argv, out, false) }
export function commandGetkeysandflagsCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void { getKeys(argv, out, true) }

const CMD = { group: 'server', firstKey: 0, lastKey: 0, step: 0, route: 'primary', acl: ['connection'] } as const
const CMD_FLAGS = ['loading', 'stale'] as const

const COMMAND_HELP_LINES = [
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
]

export const commandCommands: readonly CommandSpec[] = [
  {
    ...CMD,
    name: 'command',
    arity: -1,
    flags: CMD_FLAGS,
    since: '2.8.13',
    summary: 'Get array of Redis command details',
    complexity: 'O(N) where N is the total number of Redis commands',
    tips: ['nondeterministic_output_order'],
    local: commandCommand,
    subcommands: [
      { ...CMD, name: 'command|count', arity: 2, flags: CMD_FLAGS, since: '2.8.13', summary: 'Get total number of Redis commands', complexity: 'O(1)', local: commandCountCommand },
      { ...CMD, name: 'command|info', arity: -2, flags: CMD_FLAGS, since: '2.8.13', summary: 'Get array of specific Redis command details, or all when no argument is given.', complexity: 'O(N) where N is the number of commands to look up', tips: ['nondeterministic_output_order'], local: commandInfoCommand },
      { ...CMD, name: 'command|getkeys', arity: -4, flags: CMD_FLAGS, since: '2.8.13', summary: 'Extract keys given a full Redis command', complexity: 'O(N) where N is the number of arguments to the command', local: commandGetkeysCommand },
      { ...CMD, name: 'command|getkeysandflags', arity: -4, flags: CMD_FLAGS, since: '7.0.0', summary: 'Extract keys and access flags given a full Redis command', complexity: 'O(N) where N is the number of arguments to the command', local: commandGetkeysandflagsCommand },
      { ...CMD, name: 'command|list', arity: -2, flags: CMD_FLAGS, since: '7.0.0', summary: 'Get an array of Redis command names', complexity: 'O(N) where N is the total number of Redis commands', tips: ['nondeterministic_output_order'], local: commandListCommand },
      { ...CMD, name: 'command|help', arity: 2, flags: CMD_FLAGS, since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: helpCommand('COMMAND', COMMAND_HELP_LINES) },
      { ...CMD, name: 'command|docs', arity: -2, flags: CMD_FLAGS, since: '7.0.0', summary: 'Get array of specific Redis command documentation', complexity: 'O(N) where N is the number of commands to look up', tips: ['nondeterministic_output_order'], local: commandDocsCommand },
    ],
  },
]

