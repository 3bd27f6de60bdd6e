// Connection commands (Redis's "connection" group): they run on the primary thread against the
// client's own state, or the server's list of clients (CLIENT LIST/KILL), and never reach a
// shard. The CLIENT branches follow clientCommand in networking.c (7.0) check for check.

import { Buffer } from 'node:buffer'
import { checkPassword } from '../server/acl.js'
import { Tracking } from '../server/tracking.js'
import type { CommandSpec, Argv, ClientContext } from './spec.js'
import { helpCommand } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { OK, PONG } from '../protocol/replies.js'
import {
  NOT_INTEGER, INT_OUT_OF_RANGE, DB_INDEX_OUT_OF_RANGE, NOPROTO, PROTO_NOT_INTEGER, WRONGPASS, CLIENT_NAME_CHARS,
  SYNTAX_ERR, NO_SUCH_CLIENT, arityError, errorReply,
} from '../protocol/errors.js'
import { parseInt64, parsed, equalsLower, token } from '../protocol/ascii.js'
import { DATABASES } from '../storage/shard.js'

const PING_ARITY = arityError('ping')

export function pingCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc > 2) out.raw(PING_ARITY)
  else if (c.isSubscribed && c.resp === 2) {
    // A RESP2 subscriber gets its reply in the shape of a message: ["pong", arg or ""].
    out.arrayHeader(2)
    out.bulkStr('pong')
    if (argv.argc === 2) out.bulk(argv.buf, argv.start[1], argv.len[1]); else out.bulkStr('')
  } else if (argv.argc === 2) out.bulk(argv.buf, argv.start[1], argv.len[1])
  else out.raw(PONG)
}

export function echoCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void {
  out.bulk(argv.buf, argv.start[1], argv.len[1])
}

export function quitCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.raw(OK)
  c.closeAfterReply()
}

export function selectCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  // getIntFromObjectOrReply: not a long long → "not an integer"; outside int → its own text.
  if (!parseInt64(argv.buf, argv.start[1], argv.len[1])) { out.raw(NOT_INTEGER); return }
  if (parsed.value > 2147483647 || parsed.value < -2147483648) { out.raw(INT_OUT_OF_RANGE); return }
  const id = parsed.value
  if (id < 0 || id >= DATABASES) { out.raw(DB_INDEX_OUT_OF_RANGE); return }
  c.db = id
  out.raw(OK)
}

/** Redis's validateClientName: printable ASCII without spaces ('!'..'~'). */
function isValidName (buf: Uint8Array, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (buf[i] < 33 || buf[i] > 126) return false
  return true
}

function setNameOrReply (c: ClientContext, argv: Argv, i: number, out: ReplyWriter): boolean {
  const { buf, start, len } = argv
  if (!isValidName(buf, start[i], len[i])) { out.raw(CLIENT_NAME_CHARS); return false }
  c.name = len[i] === 0 ? null : Buffer.from(buf.subarray(start[i], start[i] + len[i]))
  return true
}

const TOK_AUTH = token('auth')
const TOK_SETNAME = token('setname')

const HELLO_NOAUTH = errorReply('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time')
const AUTH_NO_PASSWORD = errorReply('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?')

const argBuf = (argv: Argv, i: number): Buffer => Buffer.from(argv.buf.buffer, argv.buf.byteOffset + argv.start[i], argv.len[i])

/**
 * ACLAuthenticateUser: an enabled user whose password matches (or nopass) becomes the client's
 * user; a failure is recorded in ACL LOG with the command name as typed.
 */
function authenticate (c: ClientContext, argv: Argv, user: string, pass: Buffer): boolean {
  const acl = c.server.acl
  acl.sync()
  const u = acl.users.get(user)
  if (u !== undefined && checkPassword(u, pass)) {
    c.isAuthenticated = true
    c.user = u
    return true
  }
  acl.addLog('auth', c.isInMulti ? 'multi' : 'toplevel', argBuf(argv, 0).toString('latin1'), user, c.infoLine(false))
  return false
}

const RESET = Buffer.from('+RESET\r\n')

/** RESET (resetCommand): the client's state cleared, then +RESET. */
export function resetCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  c.reset()
  out.raw(RESET)
}

/** AUTH [username] password (authCommand). */
export function authCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc > 3) { out.raw(SYNTAX_ERR); return }
  // AUTH <password> is the default user's; without requirepass there is no password to check.
  if (argv.argc === 2 && c.server.acl.defaultUser.isNoPass) { out.raw(AUTH_NO_PASSWORD); return }
  const ok = argv.argc === 2 ? authenticate(c, argv, 'default', argBuf(argv, 1)) : authenticate(c, argv, argBuf(argv, 1).toString('latin1'), argBuf(argv, 2))
  out.raw(ok ? OK : WRONGPASS)
}

// Same order of checks as helloCommand in networking.c (7.0).
export function helloCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let ver = 0
  let next = 1
  if (argc >= 2) {
    if (!parseInt64(buf, start[1], len[1])) { out.raw(PROTO_NOT_INTEGER); return }
    ver = parsed.value
    next = 2
    if (ver < 2 || ver > 3) { out.raw(NOPROTO); return }
  }
  // Each option takes effect where it stands, as in Redis 7.0: an AUTH or a SETNAME before a bad
  // option stays done (and SETNAME works before the client has authenticated).
  for (let j = next; j < argc; j++) {
    const more = argc - 1 - j
    if (equalsLower(buf, start[j], len[j], TOK_AUTH) && more >= 2) {
      if (!authenticate(c, argv, argBuf(argv, j + 1).toString('latin1'), argBuf(argv, j + 2))) { out.raw(WRONGPASS); return }
      j += 2
    } else if (equalsLower(buf, start[j], len[j], TOK_SETNAME) && more >= 1) {
      if (!setNameOrReply(c, argv, j + 1, out)) return
      j++
    } else {
      out.raw(errorReply(`ERR Syntax error in HELLO option '${Buffer.from(buf.subarray(start[j], start[j] + len[j])).toString('latin1')}'`))
      return
    }
  }
  if (!c.isAuthenticated && Atomics.load(c.server.acl.authWord, 0) !== 0) { out.raw(HELLO_NOAUTH); return }
  if (ver !== 0) c.resp = ver as 2 | 3
  out.resp3 = c.resp === 3
  out.mapHeader(7)
  out.bulkStr('server'); out.bulkStr('redis')
  out.bulkStr('version'); out.bulkStr(c.server.version)
  out.bulkStr('proto'); out.int(c.resp)
  out.bulkStr('id'); out.int(c.id)
  out.bulkStr('mode'); out.bulkStr('standalone')
  out.bulkStr('role'); out.bulkStr('master')
  out.bulkStr('modules'); out.arrayHeader(0)
}

export function clientIdCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void { out.int(c.id) }

export function clientGetnameCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  if (c.name === null) out.nullBulk()
  else out.bulkBuf(c.name)
}

export function clientSetnameCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (setNameOrReply(c, argv, 2, out)) out.raw(OK)
}

const TOK_LIB_NAME = token('lib-name')
const TOK_LIB_VER = token('lib-ver')

// CLIENT SETINFO arrived in Redis 7.2; clients send it on connect and ignore errors, but
// answering it properly lets CLIENT LIST show the library.
export function clientSetinfoCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const isName = equalsLower(buf, start[2], len[2], TOK_LIB_NAME)
  if (!isName && !equalsLower(buf, start[2], len[2], TOK_LIB_VER)) {
    out.raw(errorReply(`ERR Unrecognized option '${Buffer.from(buf.subarray(start[2], start[2] + len[2])).toString('latin1')}'`))
    return
  }
  if (!isValidName(buf, start[3], len[3])) {
    out.raw(errorReply(`ERR ${isName ? 'lib-name' : 'lib-ver'} cannot contain spaces, newlines or special characters.`))
    return
  }
  const v = Buffer.from(buf.subarray(start[3], start[3] + len[3])).toString('latin1')
  if (isName) c.libName = v
  else c.libVer = v
  out.raw(OK)
}

// --- CLIENT LIST / INFO / KILL / NO-EVICT / REPLY -----------------------------------------------

/** An argument as Redis's %s prints it: up to the first NUL. */
function cstr (argv: Argv, i: number): string {
  const { buf, start, len } = argv
  let end = start[i]
  while (end < start[i] + len[i] && buf[end] !== 0) end++
  return Buffer.from(buf.subarray(start[i], end)).toString('latin1')
}

const TOK_TYPE = token('type')
const TOK_ID = token('id')
const TOK_ADDR = token('addr')
const TOK_LADDR = token('laddr')
const TOK_USER = token('user')
const TOK_SKIPME = token('skipme')
const TOK_YES = token('yes')
const TOK_NO = token('no')
const TOK_ON = token('on')
const TOK_OFF = token('off')
const TOK_SKIP = token('skip')
const CLIENT_TYPES = ['normal', 'slave', 'replica', 'pubsub', 'master'].map(token)
const TYPE_NORMAL = 0
const INVALID_CLIENT_ID = errorReply('ERR Invalid client ID')
const CLIENT_ID_NOT_POSITIVE = errorReply('ERR client-id should be greater than 0')

/** getClientTypeByName: normal 0, slave/replica 1, pubsub 3, master 4, or -1. */
function clientTypeByName (argv: Argv, i: number): number {
  for (let t = 0; t < CLIENT_TYPES.length; t++) {
    if (equalsLower(argv.buf, argv.start[i], argv.len[i], CLIENT_TYPES[t])) return t === 2 ? 1 : t
  }
  return -1
}

/** getClientType. FlashKV has no replication or pub/sub yet, so every client is normal. */
function clientType (_c: ClientContext): number { return TYPE_NORMAL }

// clientCommand's "list" branch: TYPE or ID (never both), lines in connection order (by ID: in
// the order asked, repeats included), each ending in a newline.
export function clientListCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let text = ''
  if (argc === 4 && equalsLower(buf, start[2], len[2], TOK_TYPE)) {
    const type = clientTypeByName(argv, 3)
    if (type < 0) { out.raw(errorReply(`ERR Unknown client type '${cstr(argv, 3)}'`)); return }
    for (const other of c.server.clientList()) if (clientType(other) === type) text += other.infoLine(other === c) + '\n'
  } else if (argc > 3 && equalsLower(buf, start[2], len[2], TOK_ID)) {
    const clients = c.server.clientList()
    for (let j = 3; j < argc; j++) {
      if (!parseInt64(buf, start[j], len[j])) { out.raw(INVALID_CLIENT_ID); return }
      const id = parsed.value
      const other = clients.find(o => o.id === id)
      if (other !== undefined) text += other.infoLine(other === c) + '\n'
    }
  } else if (argc !== 2) {
    out.raw(SYNTAX_ERR)
    return
  } else {
    for (const other of c.server.clientList()) text += other.infoLine(other === c) + '\n'
  }
  out.verbatim(text)
}

export function clientInfoCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.verbatim(c.infoLine(true) + '\n')
}

// clientCommand's "unblock" branch: the reason is checked before the id; 1 if the client was
// blocked (and is now answered as timed out, or with the UNBLOCKED error), else 0.
export function clientUnblockCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  if (argc > 4) {
    out.raw(errorReply(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv, 1)}'. Try CLIENT HELP.`))
    return
  }
  let mode = 0
  if (argc === 4) {
    if (equalsLower(buf, start[3], len[3], TOK_TIMEOUT)) mode = 0
    else if (equalsLower(buf, start[3], len[3], TOK_ERROR)) mode = 1
    else { out.raw(UNBLOCK_REASON); return }
  }
  if (!parseInt64(buf, start[2], len[2])) { out.raw(NOT_INTEGER); return }
  const id = parsed.value
  const target = c.server.clientList().find(t => t.id === id)
  out.int(target !== undefined && target.unblock(mode) ? 1 : 0)
}

// clientCommand's "pause" branch: the timeout in ms first, then WRITE or ALL (the default).
export function clientPauseCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  if (argc > 4) {
    out.raw(errorReply(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv, 1)}'. Try CLIENT HELP.`))
    return
  }
  // The mode is checked before the timeout, as Redis 7.0 does.
  let type = 2
  if (argc === 4) {
    if (equalsLower(buf, start[3], len[3], TOK_WRITE)) type = 1
    else if (!equalsLower(buf, start[3], len[3], TOK_ALL)) { out.raw(PAUSE_MODE); return }
  }
  const ms = msTimeout(argv, 2, out)
  if (ms === null) return
  c.pauseClients(ms, type)
  out.raw(OK)
}

export function clientUnpauseCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  c.pauseClients(0, 0)
  out.raw(OK)
}

/** getTimeoutFromObjectOrReply with UNIT_MILLISECONDS: the ms, or null after the error. */
export function msTimeout (argv: Argv, i: number, out: ReplyWriter): number | null {
  if (!parseInt64(argv.buf, argv.start[i], argv.len[i])) { out.raw(TIMEOUT_NOT_INTEGER); return null }
  if (parsed.value < 0) { out.raw(TIMEOUT_NEGATIVE); return null }
  return parsed.value
}

/** WAIT numreplicas timeout: no replicas, so :0 at once for 0 replicas, else after the timeout. */
export function waitCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (!parseInt64(argv.buf, argv.start[1], argv.len[1])) { out.raw(NOT_INTEGER); return }
  const n = parsed.value
  const ms = msTimeout(argv, 2, out)
  if (ms === null) return
  if (n <= 0 || c.isInMulti) { out.int(0); return }
  c.waitReplicas(ms)
}

const TOK_WRITE = token('write')
const TOK_ALL = token('all')
const PAUSE_MODE = errorReply('ERR CLIENT PAUSE mode must be WRITE or ALL')
const TIMEOUT_NOT_INTEGER = errorReply('ERR timeout is not an integer or out of range')
const TIMEOUT_NEGATIVE = errorReply('ERR timeout is negative')
const TOK_TIMEOUT = token('timeout')
const TOK_ERROR = token('error')
const UNBLOCK_REASON = errorReply('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR')

// clientCommand's "kill" branch (7.0): the old form `CLIENT KILL addr` may kill the caller and
// answers OK or "No such client"; the filter form answers the count and spares the caller
// unless SKIPME no. All filters must match.
export function clientKillCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let addr: string | null = null
  let laddr: string | null = null
  let type = -1
  let id = 0
  let skipMe = true
  let userName: string | null = null
  if (argc === 3) {
    addr = cstr(argv, 2)
    skipMe = false
  } else {
    for (let i = 2; i < argc; i += 2) {
      const hasValue = i + 1 < argc
      const s = start[i]
      const l = len[i]
      if (hasValue && equalsLower(buf, s, l, TOK_ID)) {
        // getRangeLongFromObjectOrReply(1, LONG_MAX) with one message for every failure.
        if (!parseInt64(buf, start[i + 1], len[i + 1]) || parsed.value < 1) { out.raw(CLIENT_ID_NOT_POSITIVE); return }
        id = parsed.value
      } else if (hasValue && equalsLower(buf, s, l, TOK_TYPE)) {
        type = clientTypeByName(argv, i + 1)
        if (type < 0) { out.raw(errorReply(`ERR Unknown client type '${cstr(argv, i + 1)}'`)); return }
      } else if (hasValue && equalsLower(buf, s, l, TOK_ADDR)) {
        addr = cstr(argv, i + 1)
      } else if (hasValue && equalsLower(buf, s, l, TOK_LADDR)) {
        laddr = cstr(argv, i + 1)
      } else if (hasValue && equalsLower(buf, s, l, TOK_USER)) {
        // ACLGetUserByName is case-sensitive.
        c.server.acl.sync()
        const name = argBuf(argv, i + 1).toString('latin1')
        if (!c.server.acl.users.has(name)) { out.raw(errorReply(`ERR No such user '${cstr(argv, i + 1)}'`)); return }
        userName = name
      } else if (hasValue && equalsLower(buf, s, l, TOK_SKIPME)) {
        if (equalsLower(buf, start[i + 1], len[i + 1], TOK_YES)) skipMe = true
        else if (equalsLower(buf, start[i + 1], len[i + 1], TOK_NO)) skipMe = false
        else { out.raw(SYNTAX_ERR); return }
      } else {
        out.raw(SYNTAX_ERR)
        return
      }
    }
  }
  let killed = 0
  let isSelfKilled = false
  for (const other of c.server.clientList()) {
    // Another thread's client is known by its CLIENT LIST line.
    if (userName !== null && (other.user !== undefined ? other.user.name : / user=(\S*) /.exec(other.infoLine(false))?.[1]) !== userName) continue
    if (addr !== null && other.addr !== addr) continue
    if (laddr !== null && other.laddr !== laddr) continue
    if (type !== -1 && clientType(other) !== type) continue
    if (id !== 0 && other.id !== id) continue
    if (other === c && skipMe) continue
    if (other === c) isSelfKilled = true
    else other.kill()
    killed++
  }
  if (argc === 3) out.raw(killed === 0 ? NO_SUCH_CLIENT : OK)
  else out.int(killed)
  // Like CLIENT_CLOSE_AFTER_REPLY: flagged once the reply is queued.
  if (isSelfKilled) c.closeAfterReply()
}

export function clientNoEvictCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (equalsLower(buf, start[2], len[2], TOK_ON)) c.noEvict = true
  else if (equalsLower(buf, start[2], len[2], TOK_OFF)) c.noEvict = false
  else { out.raw(SYNTAX_ERR); return }
  out.raw(OK)
}

// OFF and SKIP answer nothing; ON answers OK even when it was the command a SKIP silenced.
export function clientReplyCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len } = argv
  if (equalsLower(buf, start[2], len[2], TOK_ON)) { c.setReplyMode('on'); out.raw(OK) }
  else if (equalsLower(buf, start[2], len[2], TOK_OFF)) c.setReplyMode('off')
  else if (equalsLower(buf, start[2], len[2], TOK_SKIP)) c.setReplyMode('skip')
  else out.raw(SYNTAX_ERR)
}

const CONN = { group: 'connection', firstKey: 0, lastKey: 0, step: 0, route: 'primary' } as const
const CLIENT_SUB = { ...CONN, flags: ['noscript', 'loading', 'stale'] } as const

/** Redis 7.0's text (its KILL/LIST lines as Redis prints them). */
const CLIENT_HELP_LINES = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
]
const CLIENT_ADMIN = { ...CONN, flags: ['admin', 'noscript', 'loading', 'stale'] } as const

export const connectionCommands: CommandSpec[] = [
  { ...CONN, name: 'ping', arity: -1, flags: ['fast'], since: '1.0.0', summary: 'Ping the server', complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], local: pingCommand },
  // WAIT is in Redis's generic group; it lives here, with the other commands about this connection.
  { ...CONN, group: 'generic', name: 'wait', arity: 3, flags: ['noscript'], acl: ['connection'], noGroupAcl: true, since: '3.0.0', summary: 'Wait for the synchronous replication of all the write commands sent in the context of the current connection', complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:agg_min'], local: waitCommand },
  { ...CONN, name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], since: '1.0.0', summary: 'Echo the given string', complexity: 'O(1)', local: echoCommand },
  { ...CONN, name: 'auth', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], since: '1.0.0', summary: 'Authenticate to the server', complexity: 'O(N) where N is the number of passwords defined for the user', local: authCommand },
  { ...CONN, name: 'reset', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], since: '6.2.0', summary: 'Reset the connection', complexity: 'O(1)', local: resetCommand },
  { ...CONN, name: 'quit', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], since: '1.0.0', summary: 'Close the connection', complexity: 'O(1)', local: quitCommand },
  { ...CONN, name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], since: '1.0.0', summary: 'Change the selected database for the current connection', complexity: 'O(1)', local: selectCommand },
  { ...CONN, name: 'hello', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], since: '6.0.0', summary: 'Handshake with Redis', complexity: 'O(1)', local: helloCommand },
  {
    ...CONN,
    name: 'client',
    arity: -2,
    flags: [],
    since: '2.4.0',
    summary: 'A container for client connection commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...CLIENT_SUB, name: 'client|tracking', arity: -3, since: '6.0.0', summary: 'Enable or disable server assisted client side caching support', complexity: 'O(1). Some options may introduce additional complexity.', local: (c, argv, out) => { c.server.tracking.tracking(c, argv, out) } },
      { ...CLIENT_SUB, name: 'client|caching', arity: 3, since: '6.0.0', summary: 'Instruct the server about tracking or not keys in the next request', complexity: 'O(1)', local: (c, argv, out) => { c.server.tracking.caching(c, argv, out) } },
      { ...CLIENT_SUB, name: 'client|getredir', arity: 2, since: '6.0.0', summary: 'Get tracking notifications redirection client ID if any', complexity: 'O(1)', local: (c, _argv, out) => { Tracking.getredir(c, out) } },
      { ...CLIENT_SUB, name: 'client|trackinginfo', arity: 2, since: '6.2.0', summary: 'Return information about server assisted client side caching for the current connection', complexity: 'O(1)', local: (c, _argv, out) => { Tracking.trackinginfo(c, out) } },
      { ...CLIENT_SUB, name: 'client|id', arity: 2, since: '5.0.0', summary: 'Returns the client ID for the current connection', complexity: 'O(1)', local: clientIdCommand },
      { ...CLIENT_SUB, name: 'client|getname', arity: 2, since: '2.6.9', summary: 'Get the current connection name', complexity: 'O(1)', local: clientGetnameCommand },
      { ...CLIENT_SUB, name: 'client|setname', arity: 3, since: '2.6.9', summary: 'Set the current connection name', complexity: 'O(1)', local: clientSetnameCommand },
      { ...CLIENT_ADMIN, name: 'client|list', arity: -2, since: '2.4.0', summary: 'Get the list of client connections', complexity: 'O(N) where N is the number of client connections', tips: ['nondeterministic_output'], local: clientListCommand },
      { ...CLIENT_SUB, name: 'client|info', arity: 2, since: '6.2.0', summary: 'Returns information about the current client connection.', complexity: 'O(1)', tips: ['nondeterministic_output'], local: clientInfoCommand },
      { ...CLIENT_ADMIN, name: 'client|pause', arity: -3, since: '2.9.50', summary: 'Stop processing commands from clients for some time', complexity: 'O(1)', local: clientPauseCommand },
      { ...CLIENT_ADMIN, name: 'client|unpause', arity: 2, since: '6.2.0', summary: 'Resume processing of clients that were paused', complexity: 'O(N) Where N is the number of paused clients', local: clientUnpauseCommand },
      { ...CLIENT_ADMIN, name: 'client|unblock', arity: -3, since: '5.0.0', summary: 'Unblock a client blocked in a blocking command from a different connection', complexity: 'O(log N) where N is the number of client connections', local: clientUnblockCommand },
      { ...CLIENT_ADMIN, name: 'client|kill', arity: -3, since: '2.4.0', summary: 'Kill the connection of a client', complexity: 'O(N) where N is the number of client connections', local: clientKillCommand },
      { ...CLIENT_ADMIN, name: 'client|no-evict', arity: 3, since: '7.0.0', summary: 'Set client eviction mode for the current connection', complexity: 'O(1)', local: clientNoEvictCommand },
      { ...CLIENT_SUB, name: 'client|reply', arity: 3, since: '3.2.0', summary: 'Instruct the server whether to reply to commands', complexity: 'O(1)', local: clientReplyCommand },
      { ...CONN, name: 'client|help', arity: 2, flags: ['loading', 'stale'], since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: helpCommand('CLIENT', CLIENT_HELP_LINES) },
      { ...CLIENT_SUB, name: 'client|setinfo', arity: 4, since: '7.2.0', summary: 'Set client or connection specific info', complexity: 'O(1)', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], local: clientSetinfoCommand },
    ],
  },
]
