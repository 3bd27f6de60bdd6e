// DEBUG (Redis's debug.c): the subcommands with a meaning here, behind enable-debug-command as in
// Redis 7.0 (no by default: refused before routing, Router.dispatch; local: loopback clients).
// DEBUG runs on a shard: OBJECT on its key's shard, the others on shard 0. SLEEP therefore stops
// shard 0 (and every client waiting on it), where Redis stops the whole server.

import { Buffer } from 'node:buffer'
import type { Argv, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { OK } from '../protocol/replies.js'
import { errorReply } from '../protocol/errors.js'
import { encodingOf } from './object.js'
import { valuePayload } from './internal.js'
import { ByteWriter } from '../persistence/listpack.js'
import { encodeValue, quicklistFill } from '../persistence/rdb-value.js'
import { idleMs, evictionSettings } from '../storage/eviction.js'
import { ACTIVE_EXPIRE_OFF_WORD, CRASH_SHARD_WORD } from '../ipc/layout.js'
import { NOT_INTEGER } from '../protocol/errors.js'
import { parseInt64, parsed } from '../protocol/ascii.js'
import { listLen } from '../storage/list.js'
import { equalsLower, token } from '../protocol/ascii.js'

const NO_SUCH_KEY = errorReply('ERR no such key')
const HELP_T = token('help')
const OBJECT_T = token('object')
const SLEEP_T = token('sleep')
const ACTIVE_EXPIRE_T = token('set-active-expire')
const CRASH_SHARD_T = token('crash-shard')
const SHARD_RANGE = errorReply('ERR shard index out of range')
const sub = (argv: Argv, t: Uint8Array): boolean => equalsLower(argv.buf, argv.start[1], argv.len[1], t)

/** enable-debug-command: 'no', 'yes' or 'local' (set from the config on every producer thread). */
export const debugGate = { mode: 'no' as 'no' | 'yes' | 'local' }
export const DEBUG_NOT_ALLOWED = errorReply('ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.')

const HELP = [
  'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'OBJECT <key>',
  '    Show low-level info about the `key` and associated value.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not accessed (otherwise the Redis behavior). Setting it to 1 reenables back the default.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
  'CRASH-SHARD <index>',
  '    Make the thread of shard <index> exit at its next batch boundary, as a crashed worker would (a new one takes its data over).',
  'HELP',
  '    Print this help.',
]

/** Redis's atof/atoi: the leading number, 0 when there is none. */
function leadingNumber (argv: Argv, i: number): number {
  const s = Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1')
  const n = Number.parseFloat(s)
  return Number.isFinite(n) ? n : 0
}

function debugObject (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupNoTouch(argv.buf, argv.start[2], argv.len[2])
  if (e === 0) { out.raw(NO_SUCH_KEY); return }
  const ks = shard.ks
  // rdbSavedObjectLen: the object's RDB encoding, without the type byte.
  const w = new ByteWriter(64)
  encodeValue(w, valuePayload(ks, e))
  const clock = ks.clock(e)
  const encoding = encodingOf(ks, e)
  out.status(`Value at:0x${e.toString(16)} refcount:1 encoding:${encoding} serializedlength:${w.len - 1} ` +
    `lru:${clock} lru_seconds_idle:${Math.floor(idleMs(clock, shard.now()) / 1000)}` +
    (encoding === 'quicklist' ? quicklistInfo(w.buf, 1, listLen(ks, e)) : ''))
}

/**
 * The ql_* fields of a quicklist, read back from its RDB encoding (QUICKLIST_2: a node count,
 * then per node a container kind and a listpack string, raw or LZF), as the nodes Redis would
 * have: no compression (list-compress-depth 0) and nodes as list-max-listpack-size fills them now
 * (Redis keeps the fill a list was created with).
 */
function quicklistInfo (b: Uint8Array, p: number, count: number): string {
  const len = (): number => {
    const c = b[p]
    if ((c & 0xc0) === 0) { p += 1; return c & 0x3f }
    if ((c & 0xc0) === 0x40) { p += 2; return ((c & 0x3f) << 8) | b[p - 1] }
    if (c === 0x80) { p += 5; return ((b[p - 4] << 24) >>> 0) + (b[p - 3] << 16) + (b[p - 2] << 8) + b[p - 1] }
    throw new Error('unexpected RDB length')
  }
  const nodes = len()
  let size = 0
  for (let i = 0; i < nodes; i++) {
    len() // container: packed
    if (b[p] === 0xc3) { p++; const clen = len(); size += len(); p += clen } else { const n = len(); size += n; p += n }
  }
  const avg = nodes === 0 ? 0 : count / nodes
  return ` ql_nodes:${nodes} ql_avg_node:${avg.toFixed(2)} ql_listpack_max:${quicklistFill()} ql_compressed:0 ql_uncompressed_size:${size}`
}

function debugCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  if (argv.argc === 2 && sub(argv, HELP_T)) {
    out.arrayHeader(HELP.length)
    for (const line of HELP) out.status(line)
    return
  }
  if (argv.argc === 3 && sub(argv, OBJECT_T)) { debugObject(shard, argv, out); return }
  if (argv.argc === 3 && sub(argv, SLEEP_T)) {
    const ms = leadingNumber(argv, 2) * 1000
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
    out.raw(OK)
    return
  }
  if (argv.argc === 3 && sub(argv, CRASH_SHARD_T)) {
    // The shard's loop checks this word between batches (workers/shard-worker.ts).
    if (!parseInt64(argv.buf, argv.start[2], argv.len[2]) || parsed.isBig) { out.raw(NOT_INTEGER); return }
    const i = parsed.value
    if (i < 0 || i >= shard.shards) { out.raw(SHARD_RANGE); return }
    Atomics.store(evictionSettings.flags, CRASH_SHARD_WORD, i + 1)
    out.raw(OK)
    return
  }
  if (argv.argc === 3 && sub(argv, ACTIVE_EXPIRE_T)) {
    Atomics.store(evictionSettings.flags, ACTIVE_EXPIRE_OFF_WORD, Math.trunc(leadingNumber(argv, 2)) === 0 ? 1 : 0)
    out.raw(OK)
    return
  }
  const name = Buffer.from(argv.buf.subarray(argv.start[1], argv.start[1] + argv.len[1])).toString('latin1')
  out.raw(errorReply(`ERR unknown subcommand or wrong number of arguments for '${name}'. Try DEBUG HELP.`))
}

export const debugSpecs: CommandSpec[] = [
  {
    name: 'debug', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], firstKey: 0, lastKey: 0, step: 0,
    route: 'key', group: 'server', since: '1.0.0', summary: 'A container for debugging commands', complexity: 'Depends on subcommand.',
    acl: ['dangerous'], protectedCommand: true,
    // Routing only (Redis declares no keys): OBJECT goes to its key's shard, the rest to shard 0.
    getKeys: argv => argv.argc === 3 && sub(argv, OBJECT_T) ? [2] : [],
    run: debugCommand,
  },
]
