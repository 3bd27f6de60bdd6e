// Every error reply, byte for byte as Redis 7 words it, encoded once. Builders exist only for
// the few texts that embed user input or a command name; those follow Redis's own formatting
// (commandCheckExistence / addReplyErrorArity in server.c).

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
