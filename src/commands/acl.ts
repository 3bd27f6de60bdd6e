// ACL and its subcommands (aclCommand in acl.c, 7.0). They run on the client's I/O thread; a
// change goes through Acl.mutate, which publishes it to every thread (server/acl.ts).

import { Buffer } from 'node:buffer'
import { renameSync, writeFileSync } from 'node:fs'
import type { CommandSpec, Argv, ClientContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { OK } from '../protocol/replies.js'
import { NOT_INTEGER, errorReply } from '../protocol/errors.js'
import { parseInt64, parsed } from '../protocol/ascii.js'
import { lookupCommand } from './table.js'
import {
  AclFullError, AclUser, CATEGORIES, applyRule, categoryCommands, channelsText, checkCommand, commandsText, denied,
  describeUser, flagNames, genpass, keysText, loadAclFile, mergeSelectorArgs, DENIED_CMD, DENIED_KEY,
} from '../server/acl.js'
import { formatScore } from '../storage/zset-type.js'

const bulkL = (out: ReplyWriter, s: string): void => { out.bulkBuf(Buffer.from(s, 'latin1')) }

const str = (argv: Argv, i: number): string => Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1')

const NO_ACLFILE = errorReply('ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.')
const GENPASS_BITS = errorReply('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096')
const DEFAULT_UNDELETABLE = errorReply("ERR The 'default' user cannot be removed")
const BAD_USERNAME = errorReply("ERR Usernames can't contain spaces or null characters")

const subError = (argv: Argv): Buffer => errorReply(`ERR unknown subcommand or wrong number of arguments for '${str(argv, 1).slice(0, 128)}'. Try ACL HELP.`)

/** ACL SETUSER: every rule applied to a copy, then the copy replaces the user, or nothing changes. */
export function aclSetuserCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const name = str(argv, 2)
  if (/[ \0]/.test(name)) { out.raw(BAD_USERNAME); return }
  let err: Buffer | null
  try { err = setuser(c, argv, name) } catch (e) {
    if (!(e instanceof AclFullError)) throw e
    err = errorReply(e.message)
  }
  out.raw(err ?? OK)
}

function setuser (c: ClientContext, argv: Argv, name: string): Buffer | null {
  return c.server.acl.mutate(users => {
    const old = users.get(name)
    const u = old?.clone() ?? new AclUser(name)
    if (old === undefined) applyRule(u, c.server.acl.newUserChannels)
    const args: string[] = []
    for (let i = 3; i < argv.argc; i++) args.push(str(argv, i))
    const m = mergeSelectorArgs(args)
    if ('unclosed' in m) return errorReply(`ERR Unmatched parenthesis in acl selector starting at '${args[m.unclosed]}'.`)
    for (const rule of m.merged) {
      const e = applyRule(u, rule, c.server.acl.pubsubAll)
      if (e !== null) return errorReply(`ERR Error in ACL SETUSER modifier '${rule}': ${e}`)
    }
    if (old === undefined) users.set(name, u); else old.copyFrom(u)
    return null
  })
}

export function aclGetuserCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  c.server.acl.sync()
  const u = c.server.acl.users.get(str(argv, 2))
  if (u === undefined) { out.nullBulk(); return }
  out.mapHeader(6)
  out.bulkStr('flags')
  const flags = flagNames(u)
  out.setHeader(flags.length)
  for (const f of flags) out.bulkStr(f)
  out.bulkStr('passwords')
  out.arrayHeader(u.passwords.length)
  for (const p of u.passwords) out.bulkStr(p)
  out.bulkStr('commands'); out.bulkStr(commandsText(u))
  out.bulkStr('keys'); bulkL(out, keysText(u))
  out.bulkStr('channels'); bulkL(out, channelsText(u))
  out.bulkStr('selectors')
  out.arrayHeader(u.selectors.length)
  for (const sel of u.selectors) {
    out.mapHeader(3)
    out.bulkStr('commands'); out.bulkStr(commandsText(sel))
    out.bulkStr('keys'); bulkL(out, keysText(sel))
    out.bulkStr('channels'); bulkL(out, channelsText(sel))
  }
}

export function aclDeluserCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  for (let i = 2; i < argv.argc; i++) if (str(argv, i) === 'default') { out.raw(DEFAULT_UNDELETABLE); return }
  const n = c.server.acl.mutate(users => {
    let n = 0
    for (let i = 2; i < argv.argc; i++) {
      const u = users.get(str(argv, i))
      if (u === undefined) continue
      u.isDeleted = true
      users.delete(u.name)
      n++
    }
    return n
  })
  out.int(n)
  closeDeletedUsers(c)
}

/**
 * Clients of deleted users on this thread are closed now (the caller after its reply); other
 * threads' close at their next command, when the router sees the user deleted.
 */
function closeDeletedUsers (c: ClientContext): void {
  for (const cl of c.server.clientList()) {
    if (cl.user === undefined || !cl.user.isDeleted) continue
    if (cl === c) cl.closeAfterReply(); else cl.kill()
  }
}

const byName = (a: AclUser, b: AclUser): number => Buffer.compare(Buffer.from(a.name, 'latin1'), Buffer.from(b.name, 'latin1'))

function sortedUsers (c: ClientContext): AclUser[] {
  c.server.acl.sync()
  return [...c.server.acl.users.values()].sort(byName)
}

export function aclListCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  const users = sortedUsers(c)
  out.arrayHeader(users.length)
  for (const u of users) bulkL(out, `user ${u.name} ${describeUser(u).join(' ')}`)
}

export function aclUsersCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  const users = sortedUsers(c)
  out.arrayHeader(users.length)
  for (const u of users) bulkL(out, u.name)
}

export function aclWhoamiCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  bulkL(out, c.user.name)
}

export function aclCatCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc > 3) { out.raw(subError(argv)); return }
  if (argv.argc === 2) {
    out.arrayHeader(CATEGORIES.length)
    for (const cat of CATEGORIES) out.bulkStr(cat)
    return
  }
  const cat = str(argv, 2)
  const names = categoryCommands(cat)
  if (names === null) { out.raw(errorReply(`ERR Unknown category '${cat.slice(0, 128)}'`)); return }
  out.arrayHeader(names.length)
  for (const n of names) out.bulkStr(n)
}

export function aclGenpassCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc > 3) { out.raw(subError(argv)); return }
  let bits = 256
  if (argv.argc === 3) {
    if (!parseInt64(argv.buf, argv.start[2], argv.len[2])) { out.raw(NOT_INTEGER); return }
    if (parsed.value <= 0 || parsed.value > 4096) { out.raw(GENPASS_BITS); return }
    bits = parsed.value
  }
  out.bulkStr(genpass(bits))
}

export function aclLogCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc > 3) { out.raw(subError(argv)); return }
  let count = 10
  if (argv.argc === 3) {
    if (str(argv, 2).toLowerCase() === 'reset') { c.server.acl.resetLog(); out.raw(OK); return }
    if (!parseInt64(argv.buf, argv.start[2], argv.len[2])) { out.raw(NOT_INTEGER); return }
    count = Math.max(0, parsed.value)
  }
  const entries = c.server.acl.logEntries().slice(0, count)
  const now = Date.now()
  out.arrayHeader(entries.length)
  for (const e of entries) {
    out.mapHeader(7)
    out.bulkStr('count'); out.int(e.count)
    out.bulkStr('reason'); out.bulkStr(e.reason)
    out.bulkStr('context'); out.bulkStr(e.context)
    out.bulkStr('object'); bulkL(out, e.object)
    out.bulkStr('username'); bulkL(out, e.username)
    out.bulkStr('age-seconds')
    const age = formatScore((now - e.ctime) / 1000)
    if (out.resp3) out.raw(Buffer.from(`,${age}\r\n`, 'latin1')); else out.bulkStr(age)
    out.bulkStr('client-info'); bulkL(out, e.cinfo)
  }
}

/** ACL DRYRUN user command [arg ...] (7.0): the check the router would make, without running it. */
export function aclDryrunCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  c.server.acl.sync()
  const name = str(argv, 2)
  const u = c.server.acl.users.get(name)
  if (u === undefined) { out.raw(errorReply(`ERR User '${name}' not found`)); return }
  let cmd = lookupCommand(argv.buf, argv.start[3], argv.len[3])
  if (cmd !== undefined && cmd.internal === true) cmd = undefined
  if (cmd !== undefined && cmd.subIndex !== null && argv.argc > 4) cmd = cmd.subIndex.get(argv.buf, argv.start[4], argv.len[4])
  if (cmd === undefined) { out.raw(errorReply(`ERR Command '${str(argv, 3)}' not found`)); return }
  const n = argv.argc - 3
  if ((cmd.arity > 0 && cmd.arity !== n) || n < -cmd.arity) { out.raw(errorReply(`ERR wrong number of arguments for '${cmd.name}' command`)); return }
  const view = { buf: argv.buf, start: argv.start.subarray(3), len: argv.len.subarray(3), argc: n } as Argv
  const why = checkCommand(u, cmd, view)
  if (why === 0) { out.raw(OK); return }
  if (why === DENIED_CMD) bulkL(out, `This user has no permissions to run the '${cmd.name}' command`)
  else bulkL(out, `This user has no permissions to access the '${str(view, denied.pos)}' ${why === DENIED_KEY ? 'key' : 'channel'}`)
}

export function aclLoadCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  const path = c.server.aclfile
  if (path === '') { out.raw(NO_ACLFILE); return }
  let err: string | null
  try { err = loadAclFile(c.server.acl, path) } catch (e) {
    if (!(e instanceof AclFullError)) throw e
    err = e.message.slice(4)
  }
  out.raw(err === null ? OK : errorReply('ERR ' + err))
  if (err === null) closeDeletedUsers(c)
}

export function aclSaveCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  const path = c.server.aclfile
  if (path === '') { out.raw(NO_ACLFILE); return }
  const users = sortedUsers(c)
  const text = users.map(u => `user ${u.name} ${describeUser(u).join(' ')}\n`).join('')
  try {
    // Written aside, then renamed over: a crash never leaves half a file.
    const tmp = `${path}.tmp-${process.pid}`
    writeFileSync(tmp, text, 'latin1')
    renameSync(tmp, path)
  } catch {
    out.raw(errorReply('ERR There was an error trying to save the ACLs. Please check the server logs for more information'))
    return
  }
  out.raw(OK)
}

const HELP_LINES = [
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'LOG [<count> | RESET]',
  '    Show the ACL log entries.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
]

export function aclHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.help('ACL', HELP_LINES)
}

const ACL = { group: 'server', firstKey: 0, lastKey: 0, step: 0, route: 'primary' } as const
const ADMIN = ['admin', 'noscript', 'loading', 'stale'] as const
const PLAIN = ['noscript', 'loading', 'stale'] as const
const N = 'O(N). Where N is the number of configured users.'

export const aclCommands: readonly CommandSpec[] = [
  {
    ...ACL,
    name: 'acl',
    arity: -2,
    flags: [],
    since: '6.0.0',
    summary: 'A container for Access List Control commands ',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...ACL, name: 'acl|cat', arity: -2, flags: PLAIN, since: '6.0.0', summary: 'List the ACL categories or the commands inside a category', complexity: 'O(1) since the categories and commands are a fixed set.', local: aclCatCommand },
      { ...ACL, name: 'acl|deluser', arity: -3, flags: ADMIN, since: '6.0.0', summary: 'Remove the specified ACL users and the associated rules', complexity: 'O(1) amortized time considering the typical user.', local: aclDeluserCommand },
      { ...ACL, name: 'acl|dryrun', arity: -4, flags: ADMIN, since: '7.0.0', summary: 'Returns whether the user can execute the given command without executing the command.', complexity: 'O(1).', local: aclDryrunCommand },
      { ...ACL, name: 'acl|genpass', arity: -2, flags: PLAIN, since: '6.0.0', summary: 'Generate a pseudorandom secure password to use for ACL users', complexity: 'O(1)', local: aclGenpassCommand },
      { ...ACL, name: 'acl|getuser', arity: 3, flags: ADMIN, since: '6.0.0', summary: 'Get the rules for a specific ACL user', complexity: 'O(N). Where N is the number of password, command and pattern rules that the user has.', local: aclGetuserCommand },
      { ...ACL, name: 'acl|help', arity: 2, flags: ['loading', 'stale'], since: '6.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: aclHelpCommand },
      { ...ACL, name: 'acl|list', arity: 2, flags: ADMIN, since: '6.0.0', summary: 'List the current ACL rules in ACL config file format', complexity: N, local: aclListCommand },
      { ...ACL, name: 'acl|load', arity: 2, flags: ADMIN, since: '6.0.0', summary: 'Reload the ACLs from the configured ACL file', complexity: N, local: aclLoadCommand },
      { ...ACL, name: 'acl|log', arity: -2, flags: ADMIN, since: '6.0.0', summary: 'List latest events denied because of ACLs in place', complexity: 'O(N) with N being the number of entries shown.', local: aclLogCommand },
      { ...ACL, name: 'acl|save', arity: 2, flags: ADMIN, since: '6.0.0', summary: 'Save the current ACL rules in the configured ACL file', complexity: N, local: aclSaveCommand },
      { ...ACL, name: 'acl|setuser', arity: -3, flags: ADMIN, since: '6.0.0', summary: 'Modify or create the rules for a specific ACL user', complexity: 'O(N). Where N is the number of rules provided.', local: aclSetuserCommand },
      { ...ACL, name: 'acl|users', arity: 2, flags: ADMIN, since: '6.0.0', summary: 'List the username of all the configured ACL rules', complexity: N, local: aclUsersCommand },
      { ...ACL, name: 'acl|whoami', arity: 2, flags: PLAIN, since: '6.0.0', summary: 'Return the name of the user associated to the current connection', complexity: 'O(1)', local: aclWhoamiCommand },
    ],
  },
]
