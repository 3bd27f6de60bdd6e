// ACL users as Redis 7.0 has them (acl.c): rules, their ACL LIST description, and the checks
// the router runs before a command is staged. Every I/O thread keeps its own compiled users;
// the truth is their rules, serialized in a shared region (SharedText) with an epoch word:
// a change (SETUSER, DELUSER, LOAD, CONFIG SET requirepass) runs on one thread under the
// region's lock and publishes, and the others recompile when they see the epoch move. User
// objects are updated in place, so a connection's user reference stays valid; a deleted user
// is marked, and its clients are closed at their next command.
// ACL LOG is a second shared region, so every thread's denials land in one log.

import { Buffer } from 'node:buffer'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Command } from '../commands/table.js'
import { commands, topLevel, lookupCommand } from '../commands/table.js'
import { aclCategories, commandKeys } from '../commands/command-info.js'
import { stringMatch } from '../commands/glob.js'
import { equalsLower, token } from '../protocol/ascii.js'
import type { Argv } from '../commands/spec.js'

export const CATEGORIES: readonly string[] = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
]

/** masks[command id]: bit j set when the command is in CATEGORIES[j]; built on first use (the table loads after this module). */
let masks: Int32Array | null = null
function catMaskOf (): Int32Array {
  if (masks !== null) return masks
  masks = new Int32Array(commands.length)
  for (const cmd of commands) {
    if (cmd.internal === true) continue
    for (const c of aclCategories(cmd)) masks[cmd.id] |= 1 << CATEGORIES.indexOf(c)
  }
  return masks
}

const PERM_R = 1
const PERM_W = 2

export interface KeyPattern { pattern: Buffer, flags: number }

export class AclUser {
  isEnabled = false
  isNoPass = false
  /** 0: neither, 1: sanitize-payload, 2: skip-sanitize-payload. */
  sanitize = 0
  /** SHA-256 hex digests, in the order they were added. */
  passwords: string[] = []
  /** allowed[command id] = 1 when the command may run. */
  allowed = new Uint8Array(commands.length)
  /** The reserved "future commands" bit: set by +@all, cleared by -@all (ACL LIST starts from it). */
  future = false
  /** SELECTOR_FLAG_ALLCOMMANDS: no command check at all (cleared by any removal). */
  allCommands = false
  firstArgs: Map<number, string[]> = new Map()
  keys: KeyPattern[] = []
  allKeys = false
  channels: Buffer[] = []
  allChannels = false
  /** DELUSER (or LOAD without it): its clients are closed at their next command. */
  isDeleted = false
  /** Every command, key and channel: the router's per-command check is this one flag. */
  isAllPerms = false
  /** Selectors after the root one (7.0's `(...)` rules): a command runs if any of them allows it whole. */
  selectors: AclUser[] = []

  constructor (readonly name: string) {}

  copyFrom (o: AclUser): void {
    this.isEnabled = o.isEnabled; this.isNoPass = o.isNoPass; this.sanitize = o.sanitize
    this.passwords = o.passwords.slice(); this.allowed = o.allowed.slice(); this.future = o.future
    this.allCommands = o.allCommands; this.firstArgs = new Map([...o.firstArgs].map(([k, v]) => [k, v.slice()]))
    this.keys = o.keys.map(k => ({ ...k })); this.allKeys = o.allKeys
    this.channels = o.channels.slice(); this.allChannels = o.allChannels
    this.isDeleted = o.isDeleted
    this.selectors = o.selectors.map(x => x.clone())
    this.refresh()
  }

  clone (): AclUser { const u = new AclUser(this.name); u.copyFrom(this); return u }

  refresh (): void { this.isAllPerms = this.allCommands && this.allKeys && this.allChannels && !this.isDeleted }
}

/** The rules a selector takes (ACLSetSelector); the user's own (on, passwords...) are a syntax error there. */
const SELECTOR_OPS = new Set(['allkeys', 'resetkeys', 'allchannels', 'resetchannels', 'allcommands', 'nocommands'])

// ACLSetUserStringError's texts.
const E_SYNTAX = 'Syntax error'
const E_UNKNOWN = 'Unknown command or category name in ACL'
const E_KEYS_ALL = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
const E_CHANNELS_ALL = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
const E_NO_PASS = 'The password you are trying to remove from the user does not exist'
const E_HASH = 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters'
const E_SUB_FIRSTARG = 'Allowing first-arg of a subcommand is not supported'

export function sha256hex (b: Uint8Array): string { return createHash('sha256').update(b).digest('hex') }

const isHash = (s: string): boolean => /^[0-9a-f]{64}$/.test(s)

/** ACLLookupCommand: "get" or "config|get" (a container's subcommand). */
function findCommand (name: string): Command | undefined {
  const bar = name.indexOf('|')
  const b = Buffer.from(bar < 0 ? name : name.slice(0, bar), 'latin1')
  const cmd = lookupCommand(b, 0, b.length)
  if (cmd === undefined || cmd.internal === true) return undefined
  if (bar < 0) return cmd
  if (cmd.subIndex === null) return undefined
  const s = Buffer.from(name.slice(bar + 1), 'latin1')
  return cmd.subIndex.get(s, 0, s.length)
}

function setBit (u: AclUser, bits: Uint8Array, id: number, v: boolean): void {
  bits[id] = v ? 1 : 0
  if (!v && bits === u.allowed) u.allCommands = false
}

/** ACLChangeSelectorPerm: the command, its subcommands, and no first-args left for it. */
function changePerm (u: AclUser, bits: Uint8Array, cmd: Command, v: boolean): void {
  setBit(u, bits, cmd.id, v)
  if (bits === u.allowed) u.firstArgs.delete(cmd.id)
  for (const s of cmd.subList) setBit(u, bits, s.id, v)
}

function setCategory (u: AclUser, bits: Uint8Array, cat: number, v: boolean): void {
  const catMask = catMaskOf()
  const bit = 1 << cat
  for (const cmd of topLevel) {
    if (cmd.internal === true) continue
    if ((catMask[cmd.id] & bit) !== 0) changePerm(u, bits, cmd, v)
    for (const s of cmd.subList) if ((catMask[s.id] & bit) !== 0) changePerm(u, bits, s, v)
  }
}

/** ACLSetUser for one rule; the error text, or null. */
export function applyRule (u: AclUser, op: string, pubsubAll = false, isSelector = false): string | null {
  const lower = op.toLowerCase()
  if (op.length >= 2 && op[0] === '(' && op[op.length - 1] === ')') {
    if (isSelector) return E_SYNTAX
    // ACLCreateSelectorFromOpSet: a selector of its own rules, starting from nothing.
    const sel = new AclUser('')
    applyRule(sel, pubsubAll ? 'allchannels' : 'resetchannels', false, true)
    for (const r of op.slice(1, -1).split(' ')) {
      if (r === '') continue
      const e = applyRule(sel, r, pubsubAll, true)
      if (e !== null) return e
    }
    sel.refresh()
    u.selectors.push(sel)
    return null
  }
  if (isSelector && !SELECTOR_OPS.has(lower) && !'~%&+-'.includes(op[0] ?? ' ')) return E_SYNTAX
  switch (lower) {
    case 'on': u.isEnabled = true; return null
    case 'off': u.isEnabled = false; return null
    case 'skip-sanitize-payload': u.sanitize = 2; return null
    case 'sanitize-payload': u.sanitize = 1; return null
    case 'nopass': u.isNoPass = true; u.passwords = []; return null
    case 'resetpass': u.isNoPass = false; u.passwords = []; return null
    case 'allkeys': u.allKeys = true; u.keys = []; return null
    case 'resetkeys': u.allKeys = false; u.keys = []; return null
    case 'allchannels': u.allChannels = true; u.channels = []; return null
    case 'resetchannels': u.allChannels = false; u.channels = []; return null
    case 'allcommands': case '+@all':
      u.allowed.fill(1); u.future = true; u.allCommands = true; u.firstArgs.clear(); return null
    case 'nocommands': case '-@all':
      u.allowed.fill(0); u.future = false; u.allCommands = false; u.firstArgs.clear(); return null
    case 'clearselectors': u.selectors = []; return null
    case 'reset':
      for (const r of ['resetpass', 'resetkeys', 'resetchannels', pubsubAll ? 'allchannels' : null, 'off', 'clearselectors', '-@all']) if (r !== null) applyRule(u, r)
      u.sanitize = 1
      return null
  }
  const c0 = op[0]
  if (c0 === '>' || c0 === '#') {
    const h = c0 === '>' ? sha256hex(Buffer.from(op.slice(1), 'latin1')) : op.slice(1)
    if (!isHash(h)) return E_HASH
    if (!u.passwords.includes(h)) u.passwords.push(h)
    u.isNoPass = false
    return null
  }
  if (c0 === '<' || c0 === '!') {
    const h = c0 === '<' ? sha256hex(Buffer.from(op.slice(1), 'latin1')) : op.slice(1)
    if (c0 === '!' && !isHash(h)) return E_HASH
    const i = u.passwords.indexOf(h)
    if (i < 0) return E_NO_PASS
    u.passwords.splice(i, 1)
    u.isNoPass = false
    return null
  }
  if (c0 === '~' || c0 === '%') {
    // Refused under allkeys before the rule itself is read, as Redis does.
    if (u.allKeys) return E_KEYS_ALL
    let flags = PERM_R | PERM_W
    let at = 1
    if (c0 === '%') {
      flags = 0
      for (; at < op.length && op[at] !== '~'; at++) {
        const f = op[at].toUpperCase()
        // Each of R and W once.
        if (f === 'R' && (flags & PERM_R) === 0) flags |= PERM_R
        else if (f === 'W' && (flags & PERM_W) === 0) flags |= PERM_W
        else return E_SYNTAX
      }
      // "%R" without "~" is the empty pattern, as Redis takes it.
      if (flags === 0) return E_SYNTAX
      if (at < op.length) at++
    }
    const pat = op.slice(at)
    // Only "~*" itself is allkeys: "%RW~*" is a pattern like any other (later ones still go in).
    if (op === '~*') { u.allKeys = true; u.keys = []; return null }
    const b = Buffer.from(pat, 'latin1')
    const have = u.keys.find(k => k.pattern.equals(b))
    if (have !== undefined) have.flags |= flags
    else u.keys.push({ pattern: b, flags })
    return null
  }
  if (c0 === '&') {
    if (u.allChannels) return E_CHANNELS_ALL
    const pat = op.slice(1)
    if (pat === '*') { u.allChannels = true; u.channels = []; return null }
    const b = Buffer.from(pat, 'latin1')
    if (!u.channels.some(c => c.equals(b))) u.channels.push(b)
    return null
  }
  if ((c0 === '+' || c0 === '-') && op[1] === '@') {
    const cat = CATEGORIES.indexOf(lower.slice(2))
    if (cat < 0) return E_UNKNOWN
    setCategory(u, u.allowed, cat, c0 === '+')
    return null
  }
  if (c0 === '+' || c0 === '-') {
    const name = lower.slice(1)
    const bar = name.lastIndexOf('|')
    if (c0 === '-' || bar < 0) {
      const cmd = findCommand(name)
      if (cmd === undefined) return E_UNKNOWN
      changePerm(u, u.allowed, cmd, c0 === '+')
      return null
    }
    const parent = findCommand(name.slice(0, bar))
    if (parent === undefined) return E_UNKNOWN
    if (parent.parent !== null) return E_SUB_FIRSTARG
    const sub = name.slice(bar + 1)
    if (sub.length === 0) return E_SYNTAX
    if (parent.subIndex !== null) {
      const cmd = findCommand(name)
      if (cmd === undefined) return E_UNKNOWN
      changePerm(u, u.allowed, cmd, true)
      return null
    }
    // SELECT|0 and the like: a first argument allowed of an otherwise refused command.
    const list = u.firstArgs.get(parent.id) ?? []
    if (!list.includes(sub)) list.push(sub)
    u.firstArgs.set(parent.id, list)
    return null
  }
  return E_SYNTAX
}

/** The command rules as ACL LIST prints them (ACLDescribeSelectorCommandRules, 7.0's best-fit of categories). */
function describeCommands (u: AclUser): string[] {
  const catMask = catMaskOf()
  const rules: string[] = []
  const additive = !u.future
  const scratch = new AclUser('')
  const fake = new Uint8Array(commands.length)
  if (!additive) fake.fill(1)
  rules.push(additive ? '-@all' : '+@all')
  const temp = u.allowed.slice()
  const applied = new Array<boolean>(CATEGORIES.length).fill(false)
  for (;;) {
    let best = -1
    let mindiff = Infinity
    let maxsame = 0
    for (let j = 0; j < CATEGORIES.length; j++) {
      if (applied[j]) continue
      let on = 0
      let off = 0
      for (const cmd of topLevel) {
        if (cmd.internal === true || (catMask[cmd.id] & (1 << j)) === 0) continue
        if (temp[cmd.id] !== 0) on++; else off++
      }
      const diff = additive ? off : on
      const same = additive ? on : off
      if (same > diff && (diff < mindiff || (diff === mindiff && same > maxsame))) { best = j; mindiff = diff; maxsame = same }
    }
    if (best < 0) break
    setCategory(scratch, fake, best, additive)
    setCategory(scratch, temp, best, !additive)
    rules.push((additive ? '+@' : '-@') + CATEGORIES[best])
    applied[best] = true
  }
  const single = (list: readonly Command[]): void => {
    for (const cmd of list) {
      if (cmd.internal === true) continue
      const bit = u.allowed[cmd.id] !== 0
      if (bit !== (fake[cmd.id] !== 0)) {
        rules.push((bit ? '+' : '-') + cmd.name)
        changePerm(scratch, fake, cmd, bit)
      }
      single(cmd.subList)
      const fa = u.firstArgs.get(cmd.id)
      if (!bit && fa !== undefined) for (const a of fa) rules.push(`+${cmd.name}|${a}`)
    }
  }
  single(topLevel)
  return rules
}

function keyRule (k: KeyPattern): string {
  const p = k.pattern.toString('latin1')
  return k.flags === (PERM_R | PERM_W) ? '~' + p : k.flags === PERM_R ? '%R~' + p : '%W~' + p
}

export function flagNames (u: AclUser): string[] {
  const f = [u.isEnabled ? 'on' : 'off']
  if (u.isNoPass) f.push('nopass')
  if (u.sanitize === 2) f.push('skip-sanitize-payload')
  if (u.sanitize === 1) f.push('sanitize-payload')
  return f
}

export function keysText (u: AclUser): string { return u.allKeys ? '~*' : u.keys.map(keyRule).join(' ') }
export function channelsText (u: AclUser): string { return u.allChannels ? '&*' : u.channels.map(c => '&' + c.toString('latin1')).join(' ') }
export function commandsText (u: AclUser): string { return describeCommands(u).join(' ') }

/** ACLDescribeSelector: keys, channels, commands. */
function describeSelector (u: AclUser): string[] {
  const out: string[] = []
  if (u.allKeys) out.push('~*'); else for (const k of u.keys) out.push(keyRule(k))
  if (u.allChannels) out.push('&*')
  else { out.push('resetchannels'); for (const c of u.channels) out.push('&' + c.toString('latin1')) }
  out.push(...describeCommands(u))
  return out
}

/** ACLDescribeUser: flags, password hashes, the root selector, then each selector as one "(...)" word. */
export function describeUser (u: AclUser): string[] {
  const out = flagNames(u)
  for (const p of u.passwords) out.push('#' + p)
  out.push(...describeSelector(u))
  for (const s of u.selectors) out.push(`(${describeSelector(s).join(' ')})`)
  return out
}

/**
 * ACLMergeSelectorArguments: arguments from one starting with "(" to the one ending with ")"
 * make one selector rule; null and the index of the unclosed one when a selector never ends.
 */
export function mergeSelectorArgs (args: readonly string[]): { merged: string[] } | { unclosed: number } {
  const merged: string[] = []
  let open: string | null = null
  let openAt = -1
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (open !== null) {
      open += ' ' + a
      if (a.endsWith(')')) { merged.push(open); open = null }
    } else if (a.startsWith('(') && !a.endsWith(')')) { open = a; openAt = i } else merged.push(a)
  }
  return open !== null ? { unclosed: openAt } : { merged }
}

export const DENIED_CMD = 1
export const DENIED_KEY = 2
export const DENIED_CHANNEL = 3

/** Where a check failed: the argument index of the key or channel refused. */
export const denied = { pos: 0 }

const lowerArg = (argv: Argv, i: number): string => Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1').toLowerCase()

const TOK_GET = token('get')

/** One key spec of a plain range (GET, MGET, HSET...): its keys are checked on argv itself. */
interface SimpleKeys { first: number, lastkey: number, step: number, limit: number, need: number }
let simpleSpecs: Array<SimpleKeys | null | undefined> | null = null

function simpleKeysOf (cmd: Command): SimpleKeys | null {
  simpleSpecs ??= new Array<SimpleKeys | null | undefined>(commands.length)
  const have = simpleSpecs[cmd.id]
  if (have !== undefined) return have
  let sk: SimpleKeys | null = null
  const specs = cmd.keySpecs ?? []
  const spec = specs[0]
  if (specs.length === 1 && spec.keyword === undefined && spec.keynum === undefined && spec.unknown !== true &&
    !spec.flags.some(f => f === 'variable_flags' || f === 'incomplete' || f === 'not_key')) {
    const r = spec.range ?? { lastkey: cmd.lastKey >= 0 ? cmd.lastKey - cmd.firstKey : cmd.lastKey, keystep: cmd.step, limit: 0 }
    let need = 0
    if (spec.flags.includes('access')) need |= PERM_R
    if (spec.flags.includes('insert') || spec.flags.includes('delete') || spec.flags.includes('update')) need |= PERM_W
    if (r.keystep >= 1) sk = { first: spec.index ?? cmd.firstKey, lastkey: r.lastkey, step: r.keystep, limit: r.limit, need }
  }
  simpleSpecs[cmd.id] = sk
  return sk
}

function keyAllowed (u: AclUser, buf: Uint8Array, start: number, len: number, need: number): boolean {
  const keys = u.keys
  for (let j = 0; j < keys.length; j++) {
    const p = keys[j]
    if ((p.flags & need) === need && stringMatch(p.pattern, 0, p.pattern.length, buf, start, len, false)) return true
  }
  return false
}

/**
 * The key check without copies, for a command with one plain range spec (keysBySpecs' range
 * arithmetic): true when done (denied.pos is 0, or the refused key's index); false when the
 * general path must decide (denied.pos 0) or a key was refused (denied.pos set).
 */
function checkSimpleKeys (u: AclUser, cmd: Command, argv: Argv): boolean {
  denied.pos = 0
  if (cmd.name === 'set' && argv.argc >= 3) {
    // setGetKeys: the key is written, and read too with GET.
    let need = PERM_W
    for (let i = 3; i < argv.argc; i++) if (equalsLower(argv.buf, argv.start[i], argv.len[i], TOK_GET)) need |= PERM_R
    if (!keyAllowed(u, argv.buf, argv.start[1], argv.len[1], need)) { denied.pos = 1; return false }
    return true
  }
  const sk = simpleKeysOf(cmd)
  if (sk === null) return false
  const argc = argv.argc
  const first = sk.first
  const last = sk.lastkey >= 0 ? first + sk.lastkey : sk.limit === 0 ? argc + sk.lastkey : first + (Math.floor((argc - first) / sk.limit) + sk.lastkey)
  // A range that does not fit: the command's own key function may still find keys.
  if (last >= argc || last < first || first >= argc) return false
  for (let i = first; i <= last; i += sk.step) {
    if (!keyAllowed(u, argv.buf, argv.start[i], argv.len[i], sk.need)) { denied.pos = i; return false }
  }
  return true
}

function channelAllowed (u: AclUser, buf: Uint8Array, start: number, len: number, isPattern: boolean): boolean {
  for (const p of u.channels) {
    if (isPattern) { if (p.length === len && Buffer.compare(p, buf.subarray(start, start + len)) === 0) return true }
    else if (stringMatch(p, 0, p.length, buf, start, len, false)) return true
  }
  return false
}

/**
 * ACLCheckAllUserCommandPerm for a user whose isAllPerms is false: 0, or why the command is
 * refused (denied.pos names the key or channel argument).
 */
export function checkCommand (u: AclUser, cmd: Command, argv: Argv): number {
  const root = checkSelector(u, cmd, argv)
  if (root === 0 || u.selectors.length === 0) return root
  // ACLCheckAllUserCommandPerm: any selector may allow it; else the most telling refusal
  // (channel over key over command, then the latest argument).
  let why = root
  let pos = why === DENIED_CMD ? 0 : denied.pos
  for (const s of u.selectors) {
    const r = checkSelector(s, cmd, argv)
    if (r === 0) return 0
    const p = r === DENIED_CMD ? 0 : denied.pos
    if (r > why || (r === why && p > pos)) { why = r; pos = p }
  }
  denied.pos = pos
  return why
}

function checkSelector (u: AclUser, cmd: Command, argv: Argv): number {
  if (!u.allCommands && !cmd.isNoAuth && u.allowed[cmd.id] === 0) {
    const fa = u.firstArgs.get(cmd.id)
    if (fa === undefined || argv.argc < 2 || !fa.includes(lowerArg(argv, 1))) return DENIED_CMD
  }
  if (!u.allKeys && cmd.keySpecs !== undefined && cmd.keySpecs.length > 0 && !checkSimpleKeys(u, cmd, argv)) {
    if (denied.pos !== 0) return DENIED_KEY
    const args: Buffer[] = []
    for (let i = 0; i < argv.argc; i++) args.push(Buffer.from(argv.buf.buffer, argv.buf.byteOffset + argv.start[i], argv.len[i]))
    const keys = commandKeys(cmd, args) ?? []
    for (const [i, flags] of keys) {
      if (flags.includes('not_key')) continue
      let need = 0
      if (flags.includes('access')) need |= PERM_R
      if (flags.includes('insert') || flags.includes('delete') || flags.includes('update')) need |= PERM_W
      const k = args[i]
      if (!u.keys.some(p => (p.flags & need) === need && stringMatch(p.pattern, 0, p.pattern.length, k, 0, k.length, false))) {
        denied.pos = i
        return DENIED_KEY
      }
    }
  }
  if (!u.allChannels) {
    const n = cmd.name
    const isPattern = n === 'psubscribe'
    let from = 0
    let to = 0
    if (n === 'publish' || n === 'spublish') { from = 1; to = 2 } else if (n === 'subscribe' || n === 'ssubscribe' || isPattern) { from = 1; to = argv.argc }
    for (let i = from; i < to; i++) {
      if (!channelAllowed(u, argv.buf, argv.start[i], argv.len[i], isPattern)) { denied.pos = i; return DENIED_CHANNEL }
    }
  }
  return 0
}

/** ACL CAT <category>: the commands and subcommands in it; null for an unknown category. */
export function categoryCommands (name: string): string[] | null {
  const j = CATEGORIES.indexOf(name.toLowerCase())
  if (j < 0) return null
  const catMask = catMaskOf()
  const out: string[] = []
  for (const cmd of topLevel) {
    if (cmd.internal === true) continue
    if ((catMask[cmd.id] & (1 << j)) !== 0) out.push(cmd.name)
    for (const s of cmd.subList) if ((catMask[s.id] & (1 << j)) !== 0) out.push(s.name)
  }
  return out
}

/** AUTH's check (ACLCheckUserCredentials): an enabled user, nopass or one of its passwords. */
export function checkPassword (u: AclUser | undefined, pass: Uint8Array): boolean {
  if (u === undefined || u.isDeleted || !u.isEnabled) return false
  if (u.isNoPass) return true
  return u.passwords.includes(sha256hex(pass))
}

export function genpass (bits: number): string {
  const chars = Math.floor((bits + 3) / 4)
  return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars)
}

/**
 * A text shared by every thread: [lock, epoch, length] words, then the bytes. Writers take
 * the lock (a spin: held for a copy), readers copy under it.
 */
export class SharedText {
  private readonly words: Int32Array
  private readonly bytes: Uint8Array
  constructor (sab: SharedArrayBuffer, at: number, readonly capacity: number) {
    this.words = new Int32Array(sab, at, 3)
    this.bytes = new Uint8Array(sab, at + 12, capacity)
  }

  static bytesFor (capacity: number): number { return 12 + capacity + ((4 - (capacity % 4)) % 4) }

  get epoch (): number { return Atomics.load(this.words, 1) }
  epochWord (): Int32Array { return this.words.subarray(1, 2) }

  lock (): void { while (Atomics.compareExchange(this.words, 0, 0, 1) !== 0) { /* held for a copy */ } }
  unlock (): void { Atomics.store(this.words, 0, 0) }

  /** The text, read under the lock (the caller may hold it already). */
  read (held = false): string {
    if (!held) this.lock()
    const s = Buffer.from(this.bytes.subarray(0, Atomics.load(this.words, 2))).toString('utf8')
    if (!held) this.unlock()
    return s
  }

  /** Writes under a lock the caller holds; false when the text does not fit. */
  write (s: string): boolean {
    const b = Buffer.from(s, 'utf8')
    if (b.length > this.capacity) return false
    this.bytes.set(b)
    Atomics.store(this.words, 2, b.length)
    Atomics.add(this.words, 1, 1)
    return true
  }
}

export const ACL_USERS_BYTES = 1 << 20
export const ACL_LOG_BYTES = 1 << 18

export interface AclLogEntry {
  count: number
  reason: string
  context: string
  object: string
  username: string
  ctime: number
  cinfo: string
}

/** acllog-max-len's default. */
const LOG_MAX = 128
/** ACL_LOG_GROUPING_MAX_TIME_DELTA: a repeat within a minute counts on the same entry. */
const LOG_GROUPING_MS = 60000

/** The users' rules would not fit their shared region (ACL_USERS_BYTES): the change is refused. */
export class AclFullError extends Error {
  constructor () { super(`ERR the ACL rules would pass ${ACL_USERS_BYTES} bytes`) }
}

/** One thread's view of the users (see the top of the file). */
export class Acl {
  readonly users = new Map<string, AclUser>()
  /** The epoch these users were compiled at; the router compares epochWord[0] with it per command. */
  seen = -1
  readonly epochWord: Int32Array
  /** 1 when the default user asks for a password (or is off): new clients must AUTH. */
  readonly authWord: Int32Array
  private readonly pubsubWord: Int32Array

  /** acl-pubsub-default: new users (and reset) get allchannels rather than resetchannels. */
  get pubsubAll (): boolean { return Atomics.load(this.pubsubWord, 0) !== 0 }
  set pubsubAll (v: boolean) { Atomics.store(this.pubsubWord, 0, v ? 1 : 0) }
  /** acllog-max-len: 0 until first set, read as the default 128. */
  get logMax (): number { const w = this.logMaxWord[0]; return w === 0 ? LOG_MAX : w - 1 }
  set logMax (v: number) { this.logMaxWord[0] = v + 1 }

  /** The rule a new user starts with (ACLCreateUser). */
  get newUserChannels (): string { return this.pubsubAll ? 'allchannels' : 'resetchannels' }
  readonly defaultUser: AclUser

  /** [auth required, acl-pubsub-default is allchannels]; acllog-max-len (set once, at start, to 128). */
  constructor (private readonly text: SharedText, private readonly log: SharedText, words: Int32Array, private readonly logMaxWord: Float64Array) {
    this.authWord = words.subarray(0, 1)
    this.pubsubWord = words.subarray(1, 2)
    this.epochWord = text.epochWord()
    this.defaultUser = Acl.initialDefault()
    this.users.set('default', this.defaultUser)
    this.sync()
  }

  private static initialDefault (): AclUser {
    const u = new AclUser('default')
    for (const r of ['+@all', '~*', '&*', 'on', 'nopass']) applyRule(u, r)
    u.refresh()
    return u
  }


  /** Recompiles from the shared rules when another thread changed them. */
  sync (held = false): void {
    const e = this.text.epoch
    if (e === this.seen) return
    const s = this.text.read(held)
    this.seen = e
    const list: Array<[string, string[]]> = s.length === 0 ? [] : JSON.parse(s)
    const names = new Set<string>()
    for (const [name, rules] of list) {
      names.add(name)
      const fresh = new AclUser(name)
      for (const r of rules) applyRule(fresh, r)
      let u = this.users.get(name)
      if (u === undefined || u.isDeleted) { u = fresh; this.users.set(name, u) } else u.copyFrom(fresh)
      u.refresh()
    }
    if (list.length === 0) this.defaultUser.copyFrom(Acl.initialDefault())
    for (const [name, u] of this.users) {
      if (!names.has(name) && list.length !== 0) { u.isDeleted = true; u.refresh(); this.users.delete(name) }
    }
  }

  /** A change: under the lock, on up-to-date users; fn returns its result, then it is published. */
  mutate<T> (fn: (users: Map<string, AclUser>) => T): T {
    this.text.lock()
    try {
      this.sync(true)
      const r = fn(this.users)
      for (const u of this.users.values()) u.refresh()
      const list = [...this.users.values()].map(u => [u.name, describeUser(u)])
      if (!this.text.write(JSON.stringify(list))) {
        // Back to the published rules: the change is refused whole.
        this.seen = -1
        this.sync(true)
        throw new AclFullError()
      }
      this.seen = this.text.epoch
      const d = this.users.get('default') ?? this.defaultUser
      Atomics.store(this.authWord, 0, !d.isNoPass || !d.isEnabled ? 1 : 0)
      return r
    } finally { this.text.unlock() }
  }

  /** ACLUpdateDefaultUserPassword (requirepass). */
  setDefaultPassword (pass: Uint8Array): void {
    this.mutate(users => {
      const d = users.get('default') ?? this.defaultUser
      applyRule(d, 'resetpass')
      applyRule(d, pass.length > 0 ? '>' + Buffer.from(pass).toString('latin1') : 'nopass')
    })
  }

  /** The ACL LIST lines. */
  list (): string[] {
    this.sync()
    return [...this.users.values()].map(u => `user ${u.name} ${describeUser(u).join(' ')}`)
  }

  /** addACLLogEntry: grouped with a like entry of the last minute, newest first, 128 at most. */
  addLog (reason: string, context: string, object: string, username: string, cinfo: string): void {
    // A huge key or user name is cut: one entry must not crowd the others out of the region.
    object = object.slice(0, 4096)
    username = username.slice(0, 4096)
    this.log.lock()
    try {
      const s = this.log.read(true)
      const entries: AclLogEntry[] = s.length === 0 ? [] : JSON.parse(s)
      const now = Date.now()
      const i = entries.findIndex(e => e.reason === reason && e.context === context && e.object === object && e.username === username && now - e.ctime < LOG_GROUPING_MS)
      if (i >= 0) {
        const [e] = entries.splice(i, 1)
        e.count++; e.ctime = now; e.cinfo = cinfo
        entries.unshift(e)
      } else entries.unshift({ count: 1, reason, context, object, username, ctime: now, cinfo })
      const max = this.logMax
      if (entries.length > max) entries.length = max
      // Oldest entries go first when the region is full.
      while (!this.log.write(JSON.stringify(entries)) && entries.length > 0) entries.pop()
    } finally { this.log.unlock() }
  }

  logEntries (): AclLogEntry[] {
    const s = this.log.read()
    return s.length === 0 ? [] : JSON.parse(s)
  }

  resetLog (): void {
    this.log.lock()
    try { this.log.write('') } finally { this.log.unlock() }
  }
}

/** The aclfile's users, parsed whole: a map of name → rules, or the error text (ACLLoadFromFile). */
export function parseAclFile (path: string): Map<string, string[]> | string {
  let text: string
  try { text = readFileSync(path, 'latin1') } catch (err) {
    return `Error loading ACLs, opening file '${path}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String((err as Error).message)}`
  }
  const users = new Map<string, string[]>()
  let errors = ''
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim()
    if (line.length === 0) continue
    const words = line.split(/\s+/)
    if (words[0] !== 'user' || words.length < 2) { errors += `${path}:${n + 1} should start with user keyword. `; continue }
    const name = words[1]
    if (users.has(name)) { errors += `${path}:${n + 1}: Duplicate user '${name}' found. `; continue }
    const m = mergeSelectorArgs(words.slice(2))
    if ('unclosed' in m) { errors += `${path}:${n + 1}: Unmatched parenthesis in acl selector starting at '${words[2 + m.unclosed]}'. `; continue }
    const probe = new AclUser(name)
    applyRule(probe, 'resetchannels')
    for (const r of m.merged) {
      const e = applyRule(probe, r)
      if (e !== null) { errors += `${path}:${n + 1}: ${e}. `; break }
    }
    users.set(name, m.merged)
  }
  return errors === '' ? users : errors.trimEnd()
}

/** Config-file `user` lines ("name rules..."): each user created or changed, all checked first. */
function applyUserLines (acl: Acl, lines: readonly string[]): string | null {
  const parsed: Array<[string, string[]]> = []
  for (const line of lines) {
    const [name, ...words] = line.split(/\s+/)
    const m = mergeSelectorArgs(words)
    if ('unclosed' in m) return `Unmatched parenthesis in acl selector starting at '${words[m.unclosed]}'.`
    const rules = m.merged
    const probe = new AclUser(name)
    for (const r of rules) {
      const e = applyRule(probe, r)
      if (e !== null) return `Error in user declaration '${name}': ${e}`
    }
    parsed.push([name, rules])
  }
  acl.mutate(users => {
    for (const [name, rules] of parsed) {
      let u = users.get(name)
      // ACLLoadConfiguredUsers: the default user is reset first, a new one starts as SETUSER's.
      if (u === undefined) { u = new AclUser(name); applyRule(u, acl.newUserChannels); users.set(name, u) } else applyRule(u, 'reset', acl.pubsubAll)
      for (const r of rules) applyRule(u, r, acl.pubsubAll)
    }
  })
  return null
}

/** Replaces every user with the file's (the default user as a fresh one unless the file has it). */
export function loadAclFile (acl: Acl, path: string): string | null {
  const parsedUsers = parseAclFile(path)
  if (typeof parsedUsers === 'string') return parsedUsers
  acl.mutate(users => {
    for (const [name, u] of users) if (name !== 'default' && !parsedUsers.has(name)) { u.isDeleted = true; users.delete(name) }
    const fresh = (name: string, rules: string[]): AclUser => {
      const u = new AclUser(name)
      if (name === 'default') for (const r of ['+@all', '~*', '&*', 'on', 'nopass']) applyRule(u, r)
      else applyRule(u, acl.newUserChannels)
      for (const r of rules) applyRule(u, r, acl.pubsubAll)
      return u
    }
    if (!parsedUsers.has('default')) users.get('default')?.copyFrom(fresh('default', []))
    for (const [name, rules] of parsedUsers) {
      const u = fresh(name, rules)
      const old = users.get(name)
      if (old === undefined) users.set(name, u); else old.copyFrom(u)
    }
  })
  return null
}

/** aclfile at start: its users, or a start-up failure (as Redis exits on a bad aclfile). */
export function loadUsersAtStart (acl: Acl, path: string, users: readonly string[] = []): void {
  if (users.length > 0) {
    // ACLLoadConfiguredUsers; Redis refuses both sources at once.
    if (path !== '') throw new Error('Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.')
    const err = applyUserLines(acl, users)
    if (err !== null) throw new Error(err)
    return
  }
  if (path === '') return
  const err = loadAclFile(acl, path)
  if (err !== null) throw new Error(err)
}

