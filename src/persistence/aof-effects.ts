// What a write puts in the append-only file: its *effect*, as Redis 7.0 propagates it. Most
// commands are deterministic and go verbatim (the request's own bytes). The rest have a
// rewrite here, by command name (Redis's rewriteClientCommandVector/alsoPropagate calls):
// relative expirations become absolute (SET EX → SET PXAT, EXPIRE → PEXPIREAT, GETEX → PEXPIREAT
// or PERSIST), floats become their result (INCRBYFLOAT → SET KEEPTTL, HINCRBYFLOAT → HSET),
// random choices become what was chosen (SPOP → SREM, XADD * → the id), blocking commands served
// at once become their non-blocking form (BLPOP → LPOP...). What has no compact rewrite (stream
// consumer-group state, a blocked client served later, a transaction's internal steps) is logged
// as the key's resulting state: RESTORE key <abs ms> <DUMP payload> REPLACE ABSTTL, or DEL.

import { Buffer } from 'node:buffer'
import type { Argv } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { TYPE_STREAM } from '../storage/keyspace.js'
import { keyHash } from '../storage/hash.js'
import { valuePayload } from '../commands/internal.js'
import { dumpPayload, finishPayload } from './rdb-value.js'
import { encodeStream } from './rdb-stream.js'
import { ByteWriter } from './listpack.js'
import type { AofLog } from './aof.js'

/** The reply the command just wrote: reply[rs..re). */
export type Propagate = (shard: Shard, db: number, argv: Argv, reply: Uint8Array, rs: number, re: number, log: AofLog) => void

function arg (argv: Argv, i: number): Uint8Array { return argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]) }
function argLower (argv: Argv, i: number): string {
  return Buffer.from(argv.buf.buffer, argv.buf.byteOffset + argv.start[i], argv.len[i]).toString('latin1').toLowerCase()
}

/** Entry of key argument i in database db, without touching it (0: none). */
function entryOf (shard: Shard, db: number, argv: Argv, i: number): number {
  const ks = shard.dbs[db]
  if (ks === null) return 0
  return ks.find(argv.buf, argv.start[i], argv.len[i], keyHash(argv.buf, argv.start[i], argv.len[i]))
}

/** SET key value PXAT <ms>, or DEL when it is gone already. */
function setWithExpiry (shard: Shard, db: number, argv: Argv, log: AofLog, key: number, value: number): void {
  const e = entryOf(shard, db, argv, key)
  if (e === 0) { log.parts(db, ['DEL', arg(argv, key)]); return }
  const at = (shard.dbs[db] as Keyspace).expireAt(e)
  if (at === 0) log.parts(db, ['SET', arg(argv, key), arg(argv, value)])
  else log.parts(db, ['SET', arg(argv, key), arg(argv, value), 'PXAT', String(at)])
}

/** PEXPIREAT key <ms>; DEL when the time had passed (the key was deleted); PERSIST when it has none. */
function expiryOf (shard: Shard, db: number, argv: Argv, log: AofLog, key: number, isPersist: boolean): void {
  const e = entryOf(shard, db, argv, key)
  if (e === 0) { log.parts(db, ['DEL', arg(argv, key)]); return }
  const at = (shard.dbs[db] as Keyspace).expireAt(e)
  if (at === 0) log.parts(db, isPersist ? ['PERSIST', arg(argv, key)] : ['PEXPIREAT', arg(argv, key), '0'])
  else log.parts(db, ['PEXPIREAT', arg(argv, key), String(at)])
}

/** The bulk string at p of a reply: [start, end) of its bytes, or null. */
function bulkAt (b: Uint8Array, p: number): [number, number] | null {
  if (b[p] !== 36) return null
  let n = 0
  let q = p + 1
  if (b[q] === 45) return null
  while (b[q] !== 13) n = n * 10 + (b[q++] - 48)
  return [q + 2, q + 2 + n]
}

/** The bulk strings of a flat array reply (RESP2 `*` or RESP3 `~`), or of a single bulk. */
function bulksOf (b: Uint8Array, rs: number): Uint8Array[] {
  const out: Uint8Array[] = []
  if (b[rs] === 36) { const r = bulkAt(b, rs); if (r !== null) out.push(b.slice(r[0], r[1])); return out }
  if (b[rs] !== 42 && b[rs] !== 126) return out
  let q = rs + 1
  let n = 0
  if (b[q] === 45) return out
  while (b[q] !== 13) n = n * 10 + (b[q++] - 48)
  q += 2
  for (let i = 0; i < n; i++) {
    const r = bulkAt(b, q)
    if (r === null) break
    out.push(b.slice(r[0], r[1]))
    q = r[1] + 2
  }
  return out
}

/** The key's state after the command: RESTORE ... REPLACE ABSTTL, or DEL if it is gone. */
export function logKeyState (shard: Shard, db: number, kbuf: Uint8Array, kStart: number, kLen: number, log: AofLog): void {
  const key = kbuf.slice(kStart, kStart + kLen)
  const ks = shard.dbs[db]
  const e = ks === null ? 0 : ks.find(key, 0, key.length, keyHash(key, 0, key.length))
  if (ks === null || e === 0) { log.parts(db, ['DEL', key]); return }
  let payload: Buffer | null
  if (ks.type(e) === TYPE_STREAM) {
    const w = new ByteWriter()
    encodeStream(w, ks, e)
    payload = finishPayload(w)
  } else {
    payload = dumpPayload(valuePayload(ks, e))
  }
  if (payload === null) return
  log.parts(db, ['RESTORE', key, String(ks.expireAt(e)), payload, 'REPLACE', 'ABSTTL'])
}

function stateOfArg (shard: Shard, db: number, argv: Argv, i: number, log: AofLog): void {
  logKeyState(shard, db, argv.buf, argv.start[i], argv.len[i], log)
}

/** The keys of XREADGROUP's STREAMS clause (the first half of what follows it). */
function streamKeys (argv: Argv): number[] {
  for (let i = 1; i < argv.argc; i++) {
    if (argLower(argv, i) === 'streams') {
      const n = (argv.argc - i - 1) >> 1
      return Array.from({ length: n }, (_, k) => i + 1 + k)
    }
  }
  return []
}

/** XADD's id position: after the key and the NOMKSTREAM/MAXLEN/MINID/LIMIT options. */
function xaddIdPos (argv: Argv): { pos: number, approx: boolean } {
  let i = 2
  let approx = false
  while (i < argv.argc) {
    const a = argLower(argv, i)
    if (a === 'nomkstream') { i++; continue }
    if (a === 'maxlen' || a === 'minid') {
      i++
      const t = argLower(argv, i)
      if (t === '~') { approx = true; i++ } else if (t === '=') i++
      i++
      continue
    }
    if (a === 'limit') { i += 2; continue }
    break
  }
  return { pos: i, approx }
}

const pop = (name: string): Propagate => (_s, db, _argv, reply, rs, _re, log) => {
  // [key, element(s)]: the key the element came from.
  const b = bulksOf(reply, rs)
  if (b.length >= 1) log.parts(db, [name, b[0]])
}

const rewrites: Record<string, Propagate> = {
  set: (shard, db, argv, _r, _rs, _re, log) => {
    for (let i = 3; i < argv.argc; i++) {
      const a = argLower(argv, i)
      if (a === 'ex' || a === 'px' || a === 'exat') { setWithExpiry(shard, db, argv, log, 1, 2); return }
    }
    log.argv(db, argv)
  },
  setex: (shard, db, argv, _r, _rs, _re, log) => { setWithExpiry(shard, db, argv, log, 1, 3) },
  psetex: (shard, db, argv, _r, _rs, _re, log) => { setWithExpiry(shard, db, argv, log, 1, 3) },
  getex: (shard, db, argv, _r, _rs, _re, log) => {
    if (argv.argc < 3) return
    expiryOf(shard, db, argv, log, 1, argLower(argv, 2) === 'persist')
  },
  expire: (shard, db, argv, _r, _rs, _re, log) => { expiryOf(shard, db, argv, log, 1, false) },
  pexpire: (shard, db, argv, _r, _rs, _re, log) => { expiryOf(shard, db, argv, log, 1, false) },
  expireat: (shard, db, argv, _r, _rs, _re, log) => { expiryOf(shard, db, argv, log, 1, false) },
  pexpireat: (shard, db, argv, _r, _rs, _re, log) => { expiryOf(shard, db, argv, log, 1, false) },
  incrbyfloat: (_s, db, argv, reply, rs, _re, log) => {
    const r = bulkAt(reply, rs)
    if (r !== null) log.parts(db, ['SET', arg(argv, 1), reply.slice(r[0], r[1]), 'KEEPTTL'])
  },
  hincrbyfloat: (_s, db, argv, reply, rs, _re, log) => {
    const r = bulkAt(reply, rs)
    if (r !== null) log.parts(db, ['HSET', arg(argv, 1), arg(argv, 2), reply.slice(r[0], r[1])])
  },
  spop: (_s, db, argv, reply, rs, _re, log) => {
    const members = bulksOf(reply, rs)
    if (members.length > 0) log.parts(db, ['SREM', arg(argv, 1), ...members])
  },
  blpop: pop('LPOP'),
  brpop: pop('RPOP'),
  bzpopmin: pop('ZPOPMIN'),
  bzpopmax: pop('ZPOPMAX'),
  brpoplpush: (_s, db, argv, _r, _rs, _re, log) => { log.parts(db, ['RPOPLPUSH', arg(argv, 1), arg(argv, 2)]) },
  blmove: (_s, db, argv, _r, _rs, _re, log) => { log.parts(db, ['LMOVE', arg(argv, 1), arg(argv, 2), arg(argv, 3), arg(argv, 4)]) },
  blmpop: (_s, db, argv, _r, _rs, _re, log) => {
    log.parts(db, ['LMPOP', ...Array.from({ length: argv.argc - 2 }, (_, k) => arg(argv, k + 2))])
  },
  bzmpop: (_s, db, argv, _r, _rs, _re, log) => {
    log.parts(db, ['ZMPOP', ...Array.from({ length: argv.argc - 2 }, (_, k) => arg(argv, k + 2))])
  },
  restore: (_s, db, argv, _r, _rs, _re, log) => {
    // A relative TTL becomes absolute (the key's time would start again on replay).
    let isAbs = false
    for (let i = 4; i < argv.argc; i++) if (argLower(argv, i) === 'absttl') isAbs = true
    const ttl = Number(argLower(argv, 2))
    if (isAbs || ttl === 0) { log.argv(db, argv); return }
    const parts: Array<string | Uint8Array> = Array.from({ length: argv.argc }, (_, k) => arg(argv, k))
    parts[2] = String(Date.now() + ttl)
    parts.push('ABSTTL')
    log.parts(db, parts)
  },
  xadd: (shard, db, argv, reply, rs, _re, log) => {
    const { pos, approx } = xaddIdPos(argv)
    if (approx) { stateOfArg(shard, db, argv, 1, log); return }
    const r = bulkAt(reply, rs)
    if (r === null) return
    const parts: Array<string | Uint8Array> = Array.from({ length: argv.argc }, (_, k) => arg(argv, k))
    parts[pos] = reply.slice(r[0], r[1])
    log.parts(db, parts)
  },
  xtrim: (shard, db, argv, _r, _rs, _re, log) => {
    for (let i = 2; i < argv.argc; i++) if (argLower(argv, i) === '~') { stateOfArg(shard, db, argv, 1, log); return }
    log.argv(db, argv)
  },
  // Delivery times, counters and consumers' seen-times: the stream's state after the command.
  xreadgroup: (shard, db, argv, _r, _rs, _re, log) => { for (const i of streamKeys(argv)) stateOfArg(shard, db, argv, i, log) },
  xclaim: (shard, db, argv, _r, _rs, _re, log) => { stateOfArg(shard, db, argv, 1, log) },
  xautoclaim: (shard, db, argv, _r, _rs, _re, log) => { stateOfArg(shard, db, argv, 1, log) },
}

/** Per command id: its rewrite, or undefined (verbatim). Built once from the table. */
let byId: Array<Propagate | undefined> | null = null

function rewriteOf (cmd: Command, all: readonly Command[]): Propagate | undefined {
  if (byId === null) {
    byId = all.map(c => rewrites[c.name])
    for (const name of Object.keys(rewrites)) if (!all.some(c => c.name === name)) throw new Error(`aof: no command '${name}'`)
  }
  return byId[cmd.id]
}

/**
 * Logs the effect of write command `cmd` that just changed something in database `db` (its reply
 * is reply[rs..re)). Internal transaction steps log the state of the key they wrote.
 */
export function logEffect (all: readonly Command[], cmd: Command, shard: Shard, db: number, argv: Argv, reply: Uint8Array, rs: number, re: number, log: AofLog): void {
  if (cmd.internal === true) {
    if (cmd.logsItself === true) return
    if (cmd.firstKey > 0 && cmd.firstKey < argv.argc) stateOfArg(shard, db, argv, cmd.firstKey, log)
    return
  }
  const p = rewriteOf(cmd, all)
  if (p === undefined) log.argv(db, argv)
  else p(shard, db, argv, reply, rs, re, log)
}

/** The DEL of a key deleted by expiry or eviction (Redis: DEL, with lazyfree-lazy-expire/eviction no). */
export function logDelete (ks: Keyspace, e: number, db: number, log: AofLog): void {
  const p = ks.keyOffset(e)
  log.parts(db, ['DEL', ks.arena.u8.slice(p, p + ks.keyLen(e))])
}
