// Every error reply, byte for byte as Redis 7 words it, encoded once. Builders exist only for
// the few texts that embed user input or a command name; those follow Redis's own formatting
// (commandCheckExistence / addReplyErrorArity in server.c).
import { Buffer } from 'node:buffer'


const e = (s: string): Buffer => Buffer.from(`-${s}\r\n`, 'latin1')

export const SYNTAX_ERR = e('ERR syntax error')
export const WRONGTYPE = e('WRONGTYPE Operation against a key holding the wrong kind of value')
export const NOT_INTEGER = e('ERR value is not an integer or out of range')
export const NOT_FLOAT = e('ERR value is not a valid float')
export const OVERFLOW = e('ERR increment or decrement would overflow')
export const NO_SUCH_KEY = e('ERR no such key')
export const INDEX_OUT_OF_RANGE = e('ERR index out of range')
export const DB_INDEX_OUT_OF_RANGE = e('ERR DB index is out of range')
export const NOPROTO = e('NOPROTO unsupported protocol version')
export const PROTO_NOT_INTEGER = e('ERR Protocol version is not an integer or out of range')
export const WRONGPASS = e('WRONGPASS invalid username-password pair or user is disabled.')
export const CLIENT_NAME_CHARS = e('ERR Client names cannot contain spaces, newlines or special characters.')
export const EXPIRE_NX_COMBO = e('ERR NX and XX, GT or LT options at the same time are not compatible')
export const EXPIRE_GT_LT = e('ERR GT and LT options at the same time are not compatible')
export const OOM = e("OOM command not allowed when used memory > 'maxmemory'.")
/** A shard worker died: its slots are not served, as a cluster answers for an unowned slot. */
export const SHARD_DOWN = e('CLUSTERDOWN Hash slot not served')
export const NO_SUCH_CLIENT = e('ERR No such client')
/** CLIENT UNBLOCK ... ERROR: the blocked command's answer. */
export const UNBLOCKED = e('UNBLOCKED client unblocked via CLIENT UNBLOCK')

export function errorReply (msg: string): Buffer {
  return e(msg.replace(/[\r\n]/g, ' '))
}

export function arityError (fullName: string): Buffer {
  return e(`ERR wrong number of arguments for '${fullName}' command`)
}

export function expireTimeError (fullName: string): Buffer {
  return e(`ERR invalid expire time in '${fullName}' command`)
}

/** Redis prints C strings: user bytes stop at the first NUL. */
function cstr (buf: Uint8Array, start: number, len: number): string {
  let end = start
  const max = start + len
  while (end < max && buf[end] !== 0) end++
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1')
}

export interface ArgvView { buf: Uint8Array, argc: number, start: Int32Array, len: Int32Array }

export function unknownCommandError (argv: ArgvView): Buffer {
  let args = ''
  for (let i = 1; i < argv.argc && args.length < 128; i++) {
    args += `'${cstr(argv.buf, argv.start[i], argv.len[i]).slice(0, 128 - args.length)}' `
  }
  const name = cstr(argv.buf, argv.start[0], argv.len[0]).slice(0, 128)
  return errorReply(`ERR unknown command '${name}', with args beginning with: ${args}`)
}

export function unknownSubcommandError (argv: ArgvView): Buffer {
  const container = cstr(argv.buf, argv.start[0], argv.len[0]).toUpperCase()
  const sub = cstr(argv.buf, argv.start[1], argv.len[1]).slice(0, 128)
  return errorReply(`ERR unknown subcommand '${sub}'. Try ${container} HELP.`)
}

export function unsupportedOptionError (argv: ArgvView, i: number): Buffer {
  return errorReply(`ERR Unsupported option ${cstr(argv.buf, argv.start[i], argv.len[i])}`)
}
export const POP_COUNT_RANGE = e('ERR value is out of range, must be positive')
export const LPOS_RANK_ZERO = e("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
export const LPOS_COUNT_NEGATIVE = e("ERR COUNT can't be negative")
export const LPOS_MAXLEN_NEGATIVE = e("ERR MAXLEN can't be negative")
export const NUMKEYS_NOT_POSITIVE = e('ERR numkeys should be greater than 0')
export const COUNT_NOT_POSITIVE = e('ERR count should be greater than 0')
export const OFFSET_OUT_OF_RANGE = e('ERR offset is out of range')
export const STRING_TOO_LONG = e('ERR string exceeds maximum allowed size (proto-max-bulk-len)')
export const DECR_OVERFLOW = e('ERR decrement would overflow')
export const INCR_NAN_OR_INFINITY = e('ERR increment would produce NaN or Infinity')
export const LCS_NOT_STRINGS = e('ERR The specified keys must contain string values')
export const LCS_IDX_WITH_LEN = e('ERR If you want both the length and indexes, please just use IDX.')
export const LCS_TOO_MUCH_MEMORY = e('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len')

// Keyspace commands (db.c, object.c): COPY/MOVE/SWAPDB/SCAN/OBJECT.
export const SAME_OBJECT = e('ERR source and destination objects are the same')
export const INVALID_CURSOR = e('ERR invalid cursor')
export const INVALID_FIRST_DB = e('ERR invalid first DB index')
export const INVALID_SECOND_DB = e('ERR invalid second DB index')
export const LFU_SELECTED = e('ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.')
export const LFU_NOT_SELECTED = e('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.')
/** getIntFromObjectOrReply without a message: a valid integer outside int32 (SELECT, MOVE, COPY DB). */
export const INT_OUT_OF_RANGE = e('ERR value is out of range, value must between -2147483648 and 2147483647')
