// Connection commands (Redis's "connection" group): they run on the primary thread against the
// client's own state and never reach a shard.

import type { CommandSpec, Argv, ClientContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { OK, PONG } from '../protocol/replies.js'
import {
  NOT_INTEGER, DB_INDEX_OUT_OF_RANGE, NOPROTO, PROTO_NOT_INTEGER, WRONGPASS, CLIENT_NAME_CHARS,
  arityError, errorReply,
} from '../protocol/errors.js'
import { parseInt64, parsed, equalsLower, token } from '../protocol/ascii.js'
import { DATABASES } from '../storage/shard.js'

const PING_ARITY = arityError('ping')

export function pingCommand (_c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if (argv.argc > 2) out.raw(PING_ARITY)
  else if (argv.argc === 2) out.bulk(argv.buf, argv.start[1], argv.len[1])
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
  if (!parseInt64(argv.buf, argv.start[1], argv.len[1]) || parsed.value > 2147483647 || parsed.value < -2147483648) {
    out.raw(NOT_INTEGER)
    return
  }
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
const TOK_DEFAULT = token('default')

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
  let user = -1
  let nameArg = -1
  for (let j = next; j < argc; j++) {
    const more = argc - 1 - j
    if (equalsLower(buf, start[j], len[j], TOK_AUTH) && more >= 2) { user = j + 1; j += 2 }
    else if (equalsLower(buf, start[j], len[j], TOK_SETNAME) && more >= 1) { nameArg = j + 1; j++ }
    else {
      out.raw(errorReply(`ERR Syntax error in HELLO option '${Buffer.from(buf.subarray(start[j], start[j] + len[j])).toString('latin1')}'`))
      return
    }
  }
  // Only the passwordless "default" user exists, as in a Redis without requirepass/ACLs.
  if (user >= 0 && !(len[user] === 7 && equalsLower(buf, start[user], len[user], TOK_DEFAULT) && buf[start[user]] === 100)) {
    out.raw(WRONGPASS)
    return
  }
  if (nameArg >= 0 && !setNameOrReply(c, argv, nameArg, out)) return
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

const CONN = { group: 'connection', firstKey: 0, lastKey: 0, step: 0, route: 'primary' } as const
const CLIENT_SUB = { ...CONN, flags: ['noscript', 'loading', 'stale'] } as const

export const connectionCommands: CommandSpec[] = [
  { ...CONN, name: 'ping', arity: -1, flags: ['fast'], since: '1.0.0', summary: 'Ping the server', complexity: 'O(1)', tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], local: pingCommand },
  { ...CONN, name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], since: '1.0.0', summary: 'Echo the given string', complexity: 'O(1)', local: echoCommand },
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
      { ...CLIENT_SUB, name: 'client|id', arity: 2, since: '5.0.0', summary: 'Returns the client ID for the current connection', complexity: 'O(1)', local: clientIdCommand },
      { ...CLIENT_SUB, name: 'client|getname', arity: 2, since: '2.6.9', summary: 'Get the current connection name', complexity: 'O(1)', local: clientGetnameCommand },
      { ...CLIENT_SUB, name: 'client|setname', arity: 3, since: '2.6.9', summary: 'Set the current connection name', complexity: 'O(1)', local: clientSetnameCommand },
      { ...CLIENT_SUB, name: 'client|setinfo', arity: 4, since: '7.2.0', summary: 'Set client or connection specific info', complexity: 'O(1)', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], local: clientSetinfoCommand },
    ],
  },
]
