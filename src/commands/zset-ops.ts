// Sorted-set algebra (Redis 7.0's zunionInterDiffGenericCommand and ZRANGESTORE): ZUNION, ZINTER,
// ZDIFF, their STORE forms and ZINTERCARD, with WEIGHTS, AGGREGATE and WITHSCORES; sets count as
// sorted sets of score 1. Keys on one shard run there whole; across shards the coord handlers read
// each key on its lent shard (server/engine.ts), compute here and write the destination last.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_SET, TYPE_ZSET } from '../storage/keyspace.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import {
  ZSET_HEADER_BYTES, zsetInit, zsetInsert, zsetFind, zsetLen, zsetAt, nodeScore, nodeMemberAt, nodeMemberLen, formatScore, parseScore,
  zsetReserveBytes, maxListpackEntries, maxListpackValue,
} from '../storage/zset-type.js'
import { setMembers } from '../storage/set-type.js'
import { writes } from '../storage/writes.js'
import { ZERO } from '../protocol/replies.js'
import { WRONGTYPE, SYNTAX_ERR, OOM, NOT_INTEGER, errorReply } from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { NOTIFY_GENERIC, NOTIFY_ZSET, eventName } from '../storage/notify.js'
import { argBytes, isErrorReply } from './txn-helpers.js'
import { numkeysKeys } from './scan-args.js'

const OP_UNION = 0
const OP_INTER = 1
const OP_DIFF = 2
const AGG_SUM = 0
const AGG_MIN = 1
const AGG_MAX = 2
const STORE_EVENTS = [eventName('zunionstore'), eventName('zinterstore'), eventName('zdiffstore')]
const EV_DEL = eventName('del')
const WEIGHT_NOT_FLOAT = errorReply('ERR weight value is not a float')
const LIMIT_NEGATIVE = errorReply("ERR LIMIT can't be negative")
const T_WEIGHTS = token('weights')
const T_AGGREGATE = token('aggregate')
const T_SUM = token('sum')
const T_MIN = token('min')
const T_MAX = token('max')
const T_WITHSCORES = token('withscores')
const T_LIMIT = token('limit')

/** A source: member (latin1) → score, or null for a missing key. */
type Source = Map<string, number> | null

interface OpArgs { numkeys: number, first: number, weights: number[], aggregate: number, withScores: boolean, limit: number }

function nameOf (argv: Argv): string {
  return Buffer.from(argv.buf.subarray(argv.start[0], argv.start[0] + argv.len[0])).toString('latin1').toLowerCase()
}

/** numkeys and its check, as zunionInterDiffGenericCommand reads them before the keys. */
function numkeysOf (argv: Argv, at: number, name: string): number | Buffer {
  if (!parseInt64(argv.buf, argv.start[at], argv.len[at])) return NOT_INTEGER
  const n = parsed.isBig ? Number(parsed.big) : parsed.value
  if (n < 1) return errorReply(`ERR at least 1 input key is needed for '${name}' command`)
  if (n > argv.argc - (at + 1)) return SYNTAX_ERR
  return n
}

/** The options after the keys (checked after the keys' types, as Redis does). */
function optionsOf (argv: Argv, op: number, numkeys: number, first: number, isStore: boolean, isCard: boolean): OpArgs | Buffer {
  const { buf, start, len, argc } = argv
  const a: OpArgs = { numkeys, first, weights: new Array<number>(numkeys).fill(1), aggregate: AGG_SUM, withScores: false, limit: 0 }
  let j = first + numkeys
  while (j < argc) {
    const remaining = argc - j
    if (op !== OP_DIFF && !isCard && remaining >= numkeys + 1 && equalsLower(buf, start[j], len[j], T_WEIGHTS)) {
      j++
      for (let i = 0; i < numkeys; i++, j++) {
        const w = parseScore(buf, start[j], len[j])
        if (Number.isNaN(w)) return WEIGHT_NOT_FLOAT
        a.weights[i] = w
      }
    } else if (op !== OP_DIFF && !isCard && remaining >= 2 && equalsLower(buf, start[j], len[j], T_AGGREGATE)) {
      j++
      if (equalsLower(buf, start[j], len[j], T_SUM)) a.aggregate = AGG_SUM
      else if (equalsLower(buf, start[j], len[j], T_MIN)) a.aggregate = AGG_MIN
      else if (equalsLower(buf, start[j], len[j], T_MAX)) a.aggregate = AGG_MAX
      else return SYNTAX_ERR
      j++
    } else if (!isStore && !isCard && equalsLower(buf, start[j], len[j], T_WITHSCORES)) {
      j++
      a.withScores = true
    } else if (isCard && remaining >= 2 && equalsLower(buf, start[j], len[j], T_LIMIT)) {
      j++
      if (!parseInt64(buf, start[j], len[j]) || parsed.value < 0) return LIMIT_NEGATIVE
      a.limit = parsed.isBig ? Number.MAX_SAFE_INTEGER : parsed.value
      j++
    } else {
      return SYNTAX_ERR
    }
  }
  return a
}

function aggregate (target: number, v: number, how: number): number {
  if (how === AGG_SUM) { const s = target + v; return Number.isNaN(s) ? 0 : s }
  if (how === AGG_MIN) return v < target ? v : target
  return v > target ? v : target
}

/** The result as (member, score) pairs sorted by score, then member bytes. */
function compute (op: number, sources: Source[], a: OpArgs, isCard: boolean): Array<[string, number]> {
  const out = new Map<string, number>()
  const weighted = (i: number, s: number): number => { const v = a.weights[i] * s; return Number.isNaN(v) ? 0 : v }
  if (op === OP_INTER) {
    if (sources.some(s => s === null)) return []
    const order = sources.map((_s, i) => i).sort((x, y) => (sources[x] as Map<string, number>).size - (sources[y] as Map<string, number>).size)
    const first = sources[order[0]] as Map<string, number>
    for (const [m, s0] of first) {
      let score = weighted(order[0], s0)
      let isIn = true
      for (let k = 1; k < order.length; k++) {
        const s = (sources[order[k]] as Map<string, number>).get(m)
        if (s === undefined) { isIn = false; break }
        score = aggregate(score, weighted(order[k], s), a.aggregate)
      }
      if (isIn) {
        out.set(m, score)
        if (isCard && a.limit > 0 && out.size >= a.limit) break
      }
    }
  } else if (op === OP_UNION) {
    const order = sources.map((_s, i) => i).sort((x, y) => (sources[x]?.size ?? 0) - (sources[y]?.size ?? 0))
    for (const i of order) {
      const src = sources[i]
      if (src === null) continue
      for (const [m, s] of src) {
        const v = weighted(i, s)
        const cur = out.get(m)
        out.set(m, cur === undefined ? v : aggregate(cur, v, a.aggregate))
      }
    }
  } else {
    const first = sources[0]
    if (first !== null) {
      for (const [m, s] of first) {
        if (!sources.some((src, i) => i > 0 && src !== null && src.has(m))) out.set(m, s)
      }
    }
  }
  const pairs = [...out]
  pairs.sort((x, y) => x[1] !== y[1] ? (x[1] < y[1] ? -1 : 1) : Buffer.compare(Buffer.from(x[0], 'latin1'), Buffer.from(y[0], 'latin1')))
  return pairs
}

/** Each key's contents read on this shard, or the WRONGTYPE reply. */
function gatherLocal (shard: Shard, argv: Argv, first: number, numkeys: number): Source[] | Buffer {
  const out: Source[] = []
  for (let i = first; i < first + numkeys; i++) {
    const e = shard.lookupRead(argv.buf, argv.start[i], argv.len[i])
    if (e === 0) { out.push(null); continue }
    const ks = shard.ks
    const t = ks.type(e)
    if (t === TYPE_ZSET) {
      const m = new Map<string, number>()
      for (let r = 0, n = zsetLen(ks, e); r < n; r++) {
        const node = zsetAt(ks, e, r)
        m.set(Buffer.from(ks.arena.u8.buffer, ks.arena.u8.byteOffset + nodeMemberAt(node), nodeMemberLen(ks, node)).toString('latin1'), nodeScore(ks, node))
      }
      out.push(m)
    } else if (t === TYPE_SET) {
      out.push(new Map(setMembers(ks, e).map(s => [s, 1])))
    } else {
      return WRONGTYPE
    }
  }
  return out
}

/** The same through transaction steps (keys on several shards): __zsource answers each key's contents. */
async function gatherSteps (tx: TxnContext, argv: Argv, first: number, numkeys: number): Promise<Source[] | Uint8Array> {
  const out: Source[] = []
  for (let i = first; i < first + numkeys; i++) {
    const key = argBytes(argv.buf, argv.start[i], argv.len[i])
    const r = await tx.run(tx.shardOf(key, 0, key.length), '__zsource', [key])
    if (isErrorReply(r)) return r
    out.push(parseSource(r))
  }
  return out
}

/** __zsource key: `*-1` for a missing key, else *2n of member and score text (sets: score 1). */
export function zsourceStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const src = gatherLocal(shard, argv, 1, 1)
  if (Buffer.isBuffer(src)) { out.raw(src); return }
  const m = src[0]
  if (m === null) { out.raw(Buffer.from('*-1\r\n')); return }
  out.arrayHeader(m.size * 2)
  for (const [k, v] of m) { out.bulkBuf(Buffer.from(k, 'latin1')); out.bulkStr(formatScore(v)) }
}

function parseSource (r: Uint8Array): Source {
  const s = Buffer.from(r.buffer, r.byteOffset, r.length).toString('latin1')
  if (s.startsWith('*-1')) return null
  const m = new Map<string, number>()
  let p = s.indexOf('\r\n') + 2
  const next = (): string => {
    const nl = s.indexOf('\r\n', p)
    const n = Number(s.slice(p + 1, nl))
    const v = s.slice(nl + 2, nl + 2 + n)
    p = nl + 4 + n
    return v
  }
  while (p < s.length) {
    const k = next()
    const v = next()
    m.set(k, v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v))
  }
  return m
}

function replyPairs (out: ReplyWriter, pairs: Array<[string, number]>, withScores: boolean): void {
  out.arrayHeader(withScores && !out.resp3 ? pairs.length * 2 : pairs.length)
  for (const [m, s] of pairs) {
    if (withScores && out.resp3) out.arrayHeader(2)
    out.bulkBuf(Buffer.from(m, 'latin1'))
    if (withScores) {
      const t = formatScore(s)
      if (out.resp3) out.raw(Buffer.from(`,${t}\r\n`, 'latin1'))
      else out.bulkStr(t)
    }
  }
}

/** Writes the result as the sorted set at argv[1] (replacing any value), with Redis's events. */
export function storePairs (shard: Shard, argv: Argv, pairs: Array<[string, number]>, event: Buffer, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  let bytes = 0
  let longest = 0
  for (const [m] of pairs) { bytes += m.length; if (m.length > longest) longest = m.length }
  if (!ks.arena.reserve(zsetReserveBytes(ks, 0, bytes, pairs.length) + 64 + len[1])) { out.raw(OOM); return }
  const old = shard.lookup(buf, start[1], len[1])
  if (pairs.length === 0) {
    if (old !== 0) { shard.removeOverwritten(ks, old); shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1]) }
    out.raw(ZERO)
    return
  }
  if (old !== 0) shard.removeOverwritten(ks, old)
  // setKey over an existing key (dbOverwrite): not a "new" key.
  writes.isReplacing = old !== 0
  const e = ks.insert(buf, start[1], len[1], shard.lastHash, TYPE_ZSET, ZSET_HEADER_BYTES)
  writes.isReplacing = false
  if (e === 0) { out.raw(OOM); return }
  // zsetConvertToListpackIfNeeded: the result is a listpack if small enough, whatever its sources.
  zsetInit(ks, e, pairs.length > maxListpackEntries() || longest > maxListpackValue())
  for (const [m, s] of pairs) {
    const b = Buffer.from(m, 'latin1')
    if (zsetInsert(ks, e, s, b, 0, b.length) === 0) { out.raw(OOM); return }
  }
  out.int(pairs.length)
  shard.notify(NOTIFY_ZSET, event, buf, start[1], len[1])
}

function opOfName (name: string): number {
  return name.startsWith('zunion') ? OP_UNION : name.startsWith('zinter') ? OP_INTER : OP_DIFF
}

/** Parses and reads: the op's arguments and sources, or the error reply, in Redis's order. */
function prepareLocal (shard: Shard, argv: Argv): { op: number, a: OpArgs, sources: Source[], isStore: boolean, isCard: boolean } | Buffer {
  const name = nameOf(argv)
  const isStore = name.endsWith('store')
  const isCard = name === 'zintercard'
  const op = opOfName(name)
  const at = isStore ? 2 : 1
  const n = numkeysOf(argv, at, name)
  if (Buffer.isBuffer(n)) return n
  const sources = gatherLocal(shard, argv, at + 1, n)
  if (Buffer.isBuffer(sources)) return sources
  const a = optionsOf(argv, op, n, at + 1, isStore, isCard)
  if (Buffer.isBuffer(a)) return a
  return { op, a, sources, isStore, isCard }
}

export function zsetopCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const p = prepareLocal(shard, argv)
  if (Buffer.isBuffer(p)) { out.raw(p); return }
  const pairs = compute(p.op, p.sources, p.a, p.isCard)
  if (p.isCard) { out.int(p.a.limit > 0 && pairs.length > p.a.limit ? p.a.limit : pairs.length); return }
  if (p.isStore) { storePairs(shard, argv, pairs, STORE_EVENTS[p.op], out); return }
  replyPairs(out, pairs, p.a.withScores)
}

async function zsetopCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const name = nameOf(argv)
  const isStore = name.endsWith('store')
  const isCard = name === 'zintercard'
  const op = opOfName(name)
  const at = isStore ? 2 : 1
  const n = numkeysOf(argv, at, name)
  if (Buffer.isBuffer(n)) return n
  const sources = await gatherSteps(tx, argv, at + 1, n)
  if (!Array.isArray(sources)) return sources
  const a = optionsOf(argv, op, n, at + 1, isStore, isCard)
  if (Buffer.isBuffer(a)) return a
  const pairs = compute(op, sources, a, isCard)
  if (isCard) return Buffer.from(`:${a.limit > 0 && pairs.length > a.limit ? a.limit : pairs.length}\r\n`)
  if (isStore) {
    const dst = argBytes(argv.buf, argv.start[1], argv.len[1])
    const args: Uint8Array[] = [dst, Buffer.from([op])]
    for (const [m, s] of pairs) args.push(Buffer.from(m, 'latin1'), Buffer.from(formatScore(s)))
    return await tx.run(tx.shardOf(dst, 0, dst.length), '__zstore', args)
  }
  const out = new ReplyWriter(256)
  out.resp3 = tx.resp3
  replyPairs(out, pairs, a.withScores)
  return out.buf.subarray(0, out.len)
}

/** __zstore dst event member score...: a STORE form's result written on the destination's shard. */
export function zstoreStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const pairs: Array<[string, number]> = []
  const { buf, start, len } = argv
  for (let i = 3; i + 1 < argv.argc; i += 2) {
    const m = Buffer.from(buf.subarray(start[i], start[i] + len[i])).toString('latin1')
    pairs.push([m, parseScore(buf, start[i + 1], len[i + 1])])
  }
  const ev = buf[start[2]]
  storePairs(shard, argv, pairs, ev < STORE_EVENTS.length ? STORE_EVENTS[ev] : RANGESTORE_EVENT, out)
}

// --- ZRANGESTORE ----------------------------------------------------------------------------------

const RANGESTORE_EVENT = eventName('zrangestore')
const RANGESTORE_OP = 3

/** ZRANGESTORE dst src ...: the range as ZRANGE ... WITHSCORES computes it on src, then stored. */
export function zrangestoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const r = rangeOf(shard, argv)
  if (Buffer.isBuffer(r)) { out.raw(r); return }
  storePairs(shard, argv, r, RANGESTORE_EVENT, out)
}

/** Runs ZRANGE src ... WITHSCORES (REV etc. passed on) here and reads its reply back as pairs. */
function rangeOf (shard: Shard, argv: Argv): Array<[string, number]> | Buffer {
  for (let i = 5; i < argv.argc; i++) if (equalsLower(argv.buf, argv.start[i], argv.len[i], T_WITHSCORES)) return SYNTAX_ERR
  const parts: Uint8Array[] = [Buffer.from('zrange')]
  for (let i = 2; i < argv.argc; i++) parts.push(argBytes(argv.buf, argv.start[i], argv.len[i]))
  const withScores = hasRangeScores(argv)
  if (withScores) parts.push(Buffer.from('WITHSCORES'))
  const sub = argvOfParts(parts)
  const w = new ReplyWriter(256)
  zrangeRun(shard, sub, w)
  const reply = Buffer.from(w.buf.subarray(0, w.len))
  if (reply[0] === 45) return reply
  const pairs = pairsOfRange(reply, withScores)
  if (!withScores && pairs.length > 0) {
    // A lex range: each member keeps its own score.
    const e = shard.lookupRead(argv.buf, argv.start[2], argv.len[2])
    for (const p of pairs) {
      const b = Buffer.from(p[0], 'latin1')
      const n = zsetFind(shard.ks, e, b, 0, b.length)
      if (n !== 0) p[1] = nodeScore(shard.ks, n)
    }
  }
  return pairs
}

/** BYLEX ranges take no WITHSCORES: their scores are read afterwards. */
function hasRangeScores (argv: Argv): boolean {
  for (let i = 5; i < argv.argc; i++) if (equalsLower(argv.buf, argv.start[i], argv.len[i], token('bylex'))) return false
  return true
}

function pairsOfRange (reply: Buffer, withScores: boolean): Array<[string, number]> {
  const s = reply.toString('latin1')
  const out: Array<[string, number]> = []
  let p = s.indexOf('\r\n') + 2
  const next = (): string => {
    const nl = s.indexOf('\r\n', p)
    const n = Number(s.slice(p + 1, nl))
    const v = s.slice(nl + 2, nl + 2 + n)
    p = nl + 4 + n
    return v
  }
  while (p < s.length) {
    const m = next()
    const v = withScores ? next() : '0'
    out.push([m, v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v)])
  }
  return out
}

function argvOfParts (args: readonly Uint8Array[]): Argv {
  const buf = Buffer.concat(args)
  const start = new Int32Array(args.length)
  const len = new Int32Array(args.length)
  let off = 0
  for (let i = 0; i < args.length; i++) { start[i] = off; len[i] = args[i].length; off += args[i].length }
  return { buf, argc: args.length, start, len }
}

let zrangeRun: (shard: Shard, argv: Argv, out: ReplyWriter) => void = () => {}
/** Set by zset.ts (ZRANGE's handler), so that ZRANGESTORE reads exactly what ZRANGE would. */
export function useZrange (fn: (shard: Shard, argv: Argv, out: ReplyWriter) => void): void { zrangeRun = fn }

/** Across shards: ZRANGE on the source's shard (RESP2), then __zstore on the destination's. */
async function zrangestoreCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  for (let i = 5; i < argv.argc; i++) if (equalsLower(argv.buf, argv.start[i], argv.len[i], T_WITHSCORES)) return SYNTAX_ERR
  const src = argBytes(argv.buf, argv.start[2], argv.len[2])
  const args: Uint8Array[] = []
  for (let i = 2; i < argv.argc; i++) args.push(argBytes(argv.buf, argv.start[i], argv.len[i]))
  const withScores = hasRangeScores(argv)
  if (withScores) args.push(Buffer.from('WITHSCORES'))
  const r = await tx.run(tx.shardOf(src, 0, src.length), '__zrange2', args)
  if (isErrorReply(r)) return r
  const pairs = pairsOfRange(Buffer.from(r), withScores)
  if (!withScores && pairs.length > 0) {
    // A lex range: each member keeps its own score.
    const scores = await tx.run(tx.shardOf(src, 0, src.length), 'zmscore', [src, ...pairs.map(p => Buffer.from(p[0], 'latin1'))])
    const lines = scores.toString('latin1').split('\r\n')
    let k = 0
    for (let i = 1; i < lines.length && k < pairs.length; i++) {
      if (lines[i].startsWith('$-1') || lines[i] === '_') { k++; continue }
      if (lines[i][0] === '$') continue
      const t = lines[i][0] === ',' ? lines[i].slice(1) : lines[i]
      pairs[k++][1] = t === 'inf' ? Infinity : t === '-inf' ? -Infinity : Number(t)
    }
  }
  const dst = argBytes(argv.buf, argv.start[1], argv.len[1])
  const store: Uint8Array[] = [dst, Buffer.from([RANGESTORE_OP])]
  for (const [m, s] of pairs) store.push(Buffer.from(m, 'latin1'), Buffer.from(formatScore(s)))
  return await tx.run(tx.shardOf(dst, 0, dst.length), '__zstore', store)
}

/** __zrange2 key args...: ZRANGE answered in RESP2 whatever the client speaks (a step's reply to parse). */
export function zrange2StepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const was = out.resp3
  out.resp3 = false
  try {
    zrangeRun(shard, argv, out)
  } finally {
    out.resp3 = was
  }
}

const OPS = { step: 1, route: 'coord', group: 'sortedset' } as const
const NUMKEYS_KEYS = (index: number, flags: readonly string[]): NonNullable<CommandSpec['keySpecs']>[number] =>
  ({ flags: flags as never, index, keynum: { keynumidx: 0, firstkey: 1, keystep: 1 } })
const ONE_KEY = { lastkey: 0, keystep: 1, limit: 0 }

function numkeysGetKeys (at: number, withDst: boolean) {
  return (argv: Argv): number[] | null => {
    const keys = numkeysKeys(argv, at)
    return keys === null || !withDst ? keys : [1, ...keys]
  }
}

export const zsetOpsCommands: CommandSpec[] = [
  { ...OPS, name: 'zdiff', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, since: '6.2.0', summary: 'Subtract multiple sorted sets', complexity: 'O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.', keySpecs: [NUMKEYS_KEYS(1, ['RO', 'access'])], getKeys: numkeysGetKeys(1, false), run: zsetopCommand, coord: zsetopCoord },
  { ...OPS, name: 'zdiffstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], firstKey: 1, lastKey: 1, since: '6.2.0', summary: 'Subtract multiple sorted sets and store the resulting sorted set in a new key', complexity: 'O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.', keySpecs: [{ flags: ['OW', 'update'], index: 1, range: ONE_KEY }, NUMKEYS_KEYS(2, ['RO', 'access'])], getKeys: numkeysGetKeys(2, true), run: zsetopCommand, coord: zsetopCoord },
  { ...OPS, name: 'zinter', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, since: '6.2.0', summary: 'Intersect multiple sorted sets', complexity: 'O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.', keySpecs: [NUMKEYS_KEYS(1, ['RO', 'access'])], getKeys: numkeysGetKeys(1, false), run: zsetopCommand, coord: zsetopCoord },
  { ...OPS, name: 'zintercard', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, since: '7.0.0', summary: 'Intersect multiple sorted sets and return the cardinality of the result', complexity: 'O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.', keySpecs: [NUMKEYS_KEYS(1, ['RO', 'access'])], getKeys: numkeysGetKeys(1, false), run: zsetopCommand, coord: zsetopCoord },
  { ...OPS, name: 'zinterstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], firstKey: 1, lastKey: 1, since: '2.0.0', summary: 'Intersect multiple sorted sets and store the resulting sorted set in a new key', complexity: 'O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.', keySpecs: [{ flags: ['OW', 'update'], index: 1, range: ONE_KEY }, NUMKEYS_KEYS(2, ['RO', 'access'])], getKeys: numkeysGetKeys(2, true), run: zsetopCommand, coord: zsetopCoord },
  { ...OPS, name: 'zrangestore', arity: -5, flags: ['write', 'denyoom'], firstKey: 1, lastKey: 2, since: '6.2.0', summary: 'Store a range of members from sorted set into another key', complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.', keySpecs: [{ flags: ['OW', 'update'], index: 1, range: ONE_KEY }, { flags: ['RO', 'access'], index: 2, range: ONE_KEY }], run: zrangestoreCommand, coord: zrangestoreCoord },
  { ...OPS, name: 'zunion', arity: -3, flags: ['readonly', 'movablekeys'], firstKey: 0, lastKey: 0, step: 0, since: '6.2.0', summary: 'Add multiple sorted sets', complexity: 'O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.', keySpecs: [NUMKEYS_KEYS(1, ['RO', 'access'])], getKeys: numkeysGetKeys(1, false), run: zsetopCommand, coord: zsetopCoord },
  { ...OPS, name: 'zunionstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], firstKey: 1, lastKey: 1, since: '2.0.0', summary: 'Add multiple sorted sets and store the resulting sorted set in a new key', complexity: 'O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.', keySpecs: [{ flags: ['OW', 'update'], index: 1, range: ONE_KEY }, NUMKEYS_KEYS(2, ['RO', 'access'])], getKeys: numkeysGetKeys(2, true), run: zsetopCommand, coord: zsetopCoord },
]

export const zsetOpsInternalCommands: CommandSpec[] = [
  { name: '__zsource', arity: 2, flags: [], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: zsourceStepCommand },
  { name: '__zstore', arity: -3, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: zstoreStepCommand },
  { name: '__zrange2', arity: -4, flags: [], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: zrange2StepCommand },
]
