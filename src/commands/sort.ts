// SORT and SORT_RO (Redis 7.0's sort.c) over lists, sets and sorted sets: numeric or ALPHA order,
// ASC/DESC, LIMIT, BY and GET patterns (`*` replaced by the element, `->field` for a hash field,
// `#` for the element itself, BY without `*` for no sorting) and STORE into a list. Patterns may
// name keys on any shard, so a SORT with patterns holds every shard and runs on the transaction
// engine (server/engine.ts); one without patterns runs where its keys are.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, TxnContext } from './spec.js'
import type { Shard } from '../storage/shard.js'
import { TYPE_STRING, TYPE_LIST, TYPE_SET, TYPE_ZSET, TYPE_HASH } from '../storage/keyspace.js'
import { ReplyWriter } from '../protocol/resp-writer.js'
import { HEAD, TAIL, LIST_HEADER_BYTES, listInit, listPush, listFirst, elemNext, elemData, elemLen } from '../storage/list.js'
import { setMembers } from '../storage/set-type.js'
import { zsetLen, zsetAt, nodeMemberAt, nodeMemberLen, zsetMarkSkiplist, HEX_FLOAT, parseHexFloat } from '../storage/zset-type.js'
import { hashFind, found } from '../storage/hash-type.js'
import { ZERO } from '../protocol/replies.js'
import { WRONGTYPE, NOT_INTEGER, SYNTAX_ERR, OOM, errorReply } from '../protocol/errors.js'
import { equalsLower, token, parseInt64, parsed } from '../protocol/ascii.js'
import { NOTIFY_GENERIC, NOTIFY_LIST, eventName } from '../storage/notify.js'
import { argBytes, isErrorReply } from './txn-helpers.js'

const NOT_DOUBLE = errorReply("ERR One or more scores can't be converted into double")
const EV_SORTSTORE = eventName('sortstore')
const EV_DEL = eventName('del')
const T_ASC = token('asc')
const T_DESC = token('desc')
const T_ALPHA = token('alpha')
const T_LIMIT = token('limit')
const T_STORE = token('store')
const T_BY = token('by')
const T_GET = token('get')

interface SortOpts {
  desc: boolean
  alpha: boolean
  limitStart: number
  limitCount: number
  by: Buffer | null
  dontSort: boolean
  gets: Buffer[]
  store: number
}

/** The options, in Redis's order (before the key is looked up), or the error reply. */
function parseOpts (argv: Argv, isRo: boolean): SortOpts | Buffer {
  const { buf, start, len, argc } = argv
  const o: SortOpts = { desc: false, alpha: false, limitStart: 0, limitCount: -1, by: null, dontSort: false, gets: [], store: -1 }
  for (let j = 2; j < argc; j++) {
    const left = argc - j - 1
    if (equalsLower(buf, start[j], len[j], T_ASC)) o.desc = false
    else if (equalsLower(buf, start[j], len[j], T_DESC)) o.desc = true
    else if (equalsLower(buf, start[j], len[j], T_ALPHA)) o.alpha = true
    else if (equalsLower(buf, start[j], len[j], T_LIMIT) && left >= 2) {
      if (!parseInt64(buf, start[j + 1], len[j + 1])) return NOT_INTEGER
      o.limitStart = parsed.isBig ? Number(parsed.big) : parsed.value
      if (!parseInt64(buf, start[j + 2], len[j + 2])) return NOT_INTEGER
      o.limitCount = parsed.isBig ? Number(parsed.big) : parsed.value
      j += 2
    } else if (!isRo && equalsLower(buf, start[j], len[j], T_STORE) && left >= 1) {
      o.store = j + 1
      j++
    } else if (equalsLower(buf, start[j], len[j], T_BY) && left >= 1) {
      o.by = Buffer.from(buf.subarray(start[j + 1], start[j + 1] + len[j + 1]))
      // No '*' in the pattern: nothing to sort by (SORT ... BY nosort).
      if (!o.by.includes(42)) o.dontSort = true
      j++
    } else if (equalsLower(buf, start[j], len[j], T_GET) && left >= 1) {
      o.gets.push(Buffer.from(buf.subarray(start[j + 1], start[j + 1] + len[j + 1])))
      j++
    } else {
      return SYNTAX_ERR
    }
  }
  return o
}

/** A pattern split at its first '*' and '->' (lookupKeyByPattern): key parts and the hash field, if any. */
export function patternKey (pattern: Buffer, elem: Buffer): { key: Buffer, field: Buffer | null } | null {
  const star = pattern.indexOf(42)
  if (star < 0) return null
  const arrow = pattern.indexOf('->', star + 1)
  const hasField = arrow >= 0 && arrow + 2 < pattern.length
  const keyEnd = hasField ? arrow : pattern.length
  const key = Buffer.concat([pattern.subarray(0, star), elem, pattern.subarray(star + 1, keyEnd)])
  return { key, field: hasField ? pattern.subarray(arrow + 2) : null }
}

/** Reads a pattern's value for an element: a string, a hash field, or null. */
type Lookup = (pattern: Buffer, elem: Buffer) => Buffer | null

function lookupLocal (shard: Shard): Lookup {
  return (pattern, elem) => {
    if (pattern.length === 1 && pattern[0] === 35) return elem // '#'
    const p = patternKey(pattern, elem)
    if (p === null) return null
    const e = shard.lookupRead(p.key, 0, p.key.length)
    if (e === 0) return null
    const ks = shard.ks
    const t = ks.type(e)
    if (p.field === null) return t === TYPE_STRING ? Buffer.from(ks.arena.u8.subarray(ks.valOffset(e), ks.valOffset(e) + ks.valLen(e))) : null
    if (t !== TYPE_HASH || !hashFind(ks, e, p.field, 0, p.field.length)) return null
    return Buffer.from(ks.arena.u8.subarray(found.at, found.at + found.len))
  }
}

/** The elements of the key, or null when missing, or WRONGTYPE; a sorted set's in score order. */
function elementsLocal (shard: Shard, argv: Argv): Buffer[] | null | Buffer {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) return null
  const ks = shard.ks
  const t = ks.type(e)
  const out: Buffer[] = []
  if (t === TYPE_LIST) {
    for (let n = listFirst(ks, e, HEAD); n !== 0; n = elemNext(ks, n)) out.push(Buffer.from(ks.arena.u8.subarray(elemData(n), elemData(n) + elemLen(ks, n))))
  } else if (t === TYPE_SET) {
    for (const m of setMembers(ks, e)) out.push(Buffer.from(m, 'latin1'))
  } else if (t === TYPE_ZSET) {
    zsetMarkSkiplist(ks, e)
    for (let i = 0, n = zsetLen(ks, e); i < n; i++) {
      const node = zsetAt(ks, e, i)
      out.push(Buffer.from(ks.arena.u8.subarray(nodeMemberAt(node), nodeMemberAt(node) + nodeMemberLen(ks, node))))
    }
  } else {
    return WRONGTYPE
  }
  ;(out as Buffer[] & { isSet?: boolean, isZset?: boolean }).isSet = t === TYPE_SET
  ;(out as Buffer[] & { isSet?: boolean, isZset?: boolean }).isZset = t === TYPE_ZSET
  return out
}

/**
 * strtod as sort.c reads scores: leading white space skipped, then the rest a number, not NaN,
 * and no ERANGE. Unlike the other commands' doubles, "" is 0 (nothing converted, and the end is
 * the string's end), and an overflow or a result below DBL_MIN (glibc flags subnormals too) is an
 * error, since sort.c checks errno alone.
 */
function toScore (b: Buffer): number {
  const s = b.toString('latin1')
  if (s.length === 0) return 0
  const lower = s.replace(/^[ \t\n\v\f\r]+/, '').toLowerCase()
  const body = lower[0] === '-' || lower[0] === '+' ? lower.slice(1) : lower
  if (body === 'inf' || body === 'infinity') return lower[0] === '-' ? -Infinity : Infinity
  let v: number
  let isNonZero: boolean
  // strtod's hexadecimal form, rounded as zset-type.ts reads it (±Infinity or ±0 out of range).
  const hex = body.startsWith('0x') ? HEX_FLOAT.exec(lower) : null
  if (hex !== null) {
    v = parseHexFloat(lower, false)
    if (Number.isNaN(v)) return NaN
    const frac = hex[3] ?? ''
    isNonZero = /[1-9a-f]/.test(hex[2] + frac)
    // glibc flags a tiny result only when it is inexact: exact hexadecimal subnormals pass.
    if (isNonZero && v !== 0 && Math.abs(v) < DBL_MIN && isExactTiny(hex[2] + frac, Number(hex[4] ?? '0') - 4 * frac.length)) return v
  } else {
    const dec = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.exec(body)
    if (dec === null) return NaN
    isNonZero = /[1-9]/.test(dec[1])
    v = Number(lower)
  }
  // ERANGE: past DBL_MAX, or a nonzero number that comes out below DBL_MIN.
  if (!Number.isFinite(v) || (isNonZero && Math.abs(v) < DBL_MIN)) return NaN
  return v
}
const DBL_MIN = 2.2250738585072014e-308

/** Whether hex digits times 2^exp (a number below DBL_MIN) is a subnormal double exactly. */
function isExactTiny (digits: string, exp: number): boolean {
  let m = BigInt('0x' + digits)
  while ((m & 1n) === 0n) { m >>= 1n; exp++ }
  return exp >= -1074
}

/** The sorted, limited elements and the rows to reply (or store): the SORT itself. */
function run (elems: Buffer[] | null, o: SortOpts, lookup: Lookup): { rows: Array<Buffer | null>, count: number } | Buffer {
  let list = elems ?? []
  const info = elems as (Buffer[] & { isSet?: boolean, isZset?: boolean }) | null
  let dontSort = o.dontSort
  let alpha = o.alpha
  let by = o.by
  // Sets have no order of their own: with STORE, Redis sorts them by value so that the stored list is deterministic.
  if (dontSort && info?.isSet === true && o.store >= 0) { dontSort = false; alpha = true; by = null }
  const n = list.length
  let start = o.limitStart < 0 ? 0 : o.limitStart
  let end = o.limitCount < 0 ? n - 1 : start + o.limitCount - 1
  if (start >= n) { start = n - 1; end = n - 2 }
  if (end >= n) end = n - 1
  if (!dontSort) {
    const keys: Array<{ elem: Buffer, score: number, cmp: Buffer | null }> = []
    for (const elem of list) {
      let cmp: Buffer | null = null
      let score = 0
      if (by !== null) {
        const v = lookup(by, elem)
        if (alpha) cmp = v
        else if (v !== null) { score = toScore(v); if (Number.isNaN(score)) return NOT_DOUBLE }
      } else if (alpha) {
        cmp = elem
      } else {
        score = toScore(elem)
        if (Number.isNaN(score)) return NOT_DOUBLE
      }
      keys.push({ elem, score, cmp })
    }
    keys.sort((a, b) => {
      let c: number
      if (alpha) {
        if (by !== null && (a.cmp === null || b.cmp === null)) c = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1
        else c = Buffer.compare(a.cmp as Buffer, b.cmp as Buffer)
      } else {
        c = a.score > b.score ? 1 : a.score < b.score ? -1 : Buffer.compare(a.elem, b.elem)
      }
      return o.desc ? -c : c
    })
    list = keys.map(k => k.elem)
  } else if (info?.isZset === true && o.desc) {
    list = list.slice().reverse()
  }
  const picked = end >= start ? list.slice(start, end + 1) : []
  const rows: Array<Buffer | null> = []
  for (const elem of picked) {
    if (o.gets.length === 0) { rows.push(elem); continue }
    for (const g of o.gets) rows.push(lookup(g, elem))
  }
  return { rows, count: rows.length }
}

function replyRows (out: ReplyWriter, rows: Array<Buffer | null>): void {
  out.arrayHeader(rows.length)
  for (const r of rows) { if (r === null) out.nullBulk(); else out.bulkBuf(r) }
}

/** Writes rows as the list at argv[i] (empty: deleted), with "sortstore" (or "del"). */
function storeRows (shard: Shard, argv: Argv, i: number, rows: Array<Buffer | null>, out: ReplyWriter): void {
  const { buf, start, len } = argv
  const ks = shard.ks
  let bytes = 0
  for (const r of rows) bytes += (r?.length ?? 0) + 32
  if (!ks.arena.reserve(2 * bytes + 128 + len[i])) { out.raw(OOM); return }
  const old = shard.lookup(buf, start[i], len[i])
  if (rows.length === 0) {
    if (old !== 0) { shard.removeOverwritten(ks, old); shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[i], len[i]) }
    out.raw(ZERO)
    return
  }
  if (old !== 0) shard.removeOverwritten(ks, old)
  const e = ks.insert(buf, start[i], len[i], shard.lastHash, TYPE_LIST, LIST_HEADER_BYTES)
  if (e === 0) { out.raw(OOM); return }
  listInit(ks, e)
  for (const r of rows) {
    const v = r ?? Buffer.alloc(0)
    if (!listPush(ks, e, TAIL, v, 0, v.length)) { out.raw(OOM); return }
  }
  out.int(rows.length)
  shard.notify(NOTIFY_LIST, EV_SORTSTORE, buf, start[i], len[i])
}

function isRoOf (argv: Argv): boolean { return argv.len[0] === 7 } // "sort_ro"

/** All of it on this shard (no patterns naming other shards' keys). */
export function sortCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const o = parseOpts(argv, isRoOf(argv))
  if (Buffer.isBuffer(o)) { out.raw(o); return }
  const elems = elementsLocal(shard, argv)
  if (Buffer.isBuffer(elems)) { out.raw(elems); return }
  const r = run(elems, o, lookupLocal(shard))
  if (Buffer.isBuffer(r)) { out.raw(r); return }
  if (o.store >= 0) storeRows(shard, argv, o.store, r.rows, out)
  else replyRows(out, r.rows)
}

/** Across shards (patterns, or STORE elsewhere): the same, with steps on every held shard. */
async function sortCoord (tx: TxnContext, argv: Argv): Promise<Uint8Array> {
  const o = parseOpts(argv, isRoOf(argv))
  if (Buffer.isBuffer(o)) return o
  const key = argBytes(argv.buf, argv.start[1], argv.len[1])
  const src = await tx.run(tx.shardOf(key, 0, key.length), '__sortsrc', [key])
  if (isErrorReply(src)) return src
  const elems = parseSrc(src)
  // Every pattern's value for every element, read on its shard first; the sort then runs as on one shard.
  const values = new Map<string, Buffer | null>()
  const patterns = [...(o.by !== null && !o.dontSort ? [o.by] : []), ...o.gets]
  for (const elem of elems ?? []) {
    for (const pattern of patterns) {
      const p = patternKey(pattern, elem)
      if (p === null || (pattern.length === 1 && pattern[0] === 35)) continue
      const id = pattern.toString('latin1') + '\0' + elem.toString('latin1')
      if (values.has(id)) continue
      const r = await tx.run(tx.shardOf(p.key, 0, p.key.length), '__sortget', p.field === null ? [p.key] : [p.key, p.field])
      if (isErrorReply(r)) return r
      values.set(id, r[0] === 36 && r[1] !== 45 ? bulkOf(r) : null)
    }
  }
  const lookup: Lookup = (pattern, elem) => {
    if (pattern.length === 1 && pattern[0] === 35) return elem
    return values.get(pattern.toString('latin1') + '\0' + elem.toString('latin1')) ?? null
  }
  const r = run(elems, o, lookup)
  if (Buffer.isBuffer(r)) return r
  if (o.store >= 0) {
    const dst = argBytes(argv.buf, argv.start[o.store], argv.len[o.store])
    const args: Uint8Array[] = [dst]
    for (const row of r.rows) args.push(row ?? Buffer.alloc(0))
    return await tx.run(tx.shardOf(dst, 0, dst.length), '__sortstore', args)
  }
  const out = new ReplyWriter(256)
  out.resp3 = tx.resp3
  replyRows(out, r.rows)
  return out.buf.subarray(0, out.len)
}

function bulkOf (r: Uint8Array): Buffer {
  const b = Buffer.from(r)
  const nl = b.indexOf(10)
  const n = Number(b.subarray(1, nl - 1).toString('latin1'))
  return b.subarray(nl + 1, nl + 1 + n)
}

/** __sortsrc key: `*-1` missing, else `*n` elements after a type word (list, set or zset). */
export function sortsrcStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const elems = elementsLocal(shard, argv)
  if (Buffer.isBuffer(elems)) { out.raw(elems); return }
  if (elems === null) { out.raw(Buffer.from('*-1\r\n')); return }
  const info = elems as Buffer[] & { isSet?: boolean, isZset?: boolean }
  out.arrayHeader(elems.length + 1)
  out.bulkStr(info.isSet === true ? 'set' : info.isZset === true ? 'zset' : 'list')
  for (const e of elems) out.bulkBuf(e)
}

function parseSrc (r: Uint8Array): Buffer[] | null {
  const b = Buffer.from(r)
  if (b[0] === 42 && b[1] === 45) return null
  const items: Buffer[] = []
  let p = b.indexOf(10) + 1
  while (p < b.length) {
    const nl = b.indexOf(10, p)
    const n = Number(b.subarray(p + 1, nl - 1).toString('latin1'))
    items.push(b.subarray(nl + 1, nl + 1 + n))
    p = nl + 1 + n + 2
  }
  const kind = items.shift()?.toString('latin1')
  const out = items as Buffer[] & { isSet?: boolean, isZset?: boolean }
  out.isSet = kind === 'set'
  out.isZset = kind === 'zset'
  return out
}

/** __sortget key [field]: a pattern's value on its shard (string, or hash field), or null. */
export function sortgetStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.nullBulk(); return }
  const ks = shard.ks
  const t = ks.type(e)
  if (argv.argc === 2) {
    if (t !== TYPE_STRING) { out.nullBulk(); return }
    out.bulk(ks.arena.u8, ks.valOffset(e), ks.valLen(e))
    return
  }
  if (t !== TYPE_HASH || !hashFind(ks, e, argv.buf, argv.start[2], argv.len[2])) { out.nullBulk(); return }
  out.bulk(ks.arena.u8, found.at, found.len)
}

/** __sortstore dst row...: SORT ... STORE's list written on the destination's shard. */
export function sortstoreStepCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const rows: Buffer[] = []
  for (let i = 2; i < argv.argc; i++) rows.push(Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])))
  storeRows(shard, argv, 1, rows, out)
}

/** Shards a SORT must hold: every one when a BY or GET pattern may name any key. */
export function sortNeedsAllShards (argv: Argv): boolean {
  const { buf, start, len, argc } = argv
  for (let j = 2; j + 1 < argc; j++) {
    const isBy = equalsLower(buf, start[j], len[j], T_BY)
    const isGet = equalsLower(buf, start[j], len[j], T_GET)
    if (!isBy && !isGet) continue
    const p = buf.subarray(start[j + 1], start[j + 1] + len[j + 1])
    if (p.includes(42) && !(isGet && p.length === 1 && p[0] === 35)) return true
    j++
  }
  return false
}

/** SORT's keys: the key, and STORE's destination. */
export function sortGetKeys (argv: Argv): number[] | null {
  const keys = [1]
  const { buf, start, len, argc } = argv
  for (let j = 2; j + 1 < argc; j++) {
    if (equalsLower(buf, start[j], len[j], T_STORE)) { keys.push(j + 1); break }
  }
  return keys
}

const SORT_KEY = { flags: ['RO', 'access'], index: 1, range: { lastkey: 0, keystep: 1, limit: 0 } } as const
const SORT_PATTERNS = { flags: ['RO', 'access'], notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort", unknown: true } as const

export const sortCommands: CommandSpec[] = [
  { name: 'sort', arity: -2, flags: ['write', 'denyoom', 'movablekeys'], firstKey: 1, lastKey: 1, step: 1, route: 'coord', group: 'generic', since: '1.0.0', summary: 'Sort the elements in a list, set or sorted set', complexity: 'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).', acl: ['set', 'sortedset', 'list', 'dangerous'], noGroupAcl: true, keySpecs: [SORT_KEY, SORT_PATTERNS, { flags: ['OW', 'update'], notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array", unknown: true }], getKeys: sortGetKeys, run: sortCommand, coord: sortCoord, allShards: sortNeedsAllShards },
  { name: 'sort_ro', arity: -2, flags: ['readonly', 'movablekeys'], firstKey: 1, lastKey: 1, step: 1, route: 'coord', group: 'generic', since: '7.0.0', summary: 'Sort the elements in a list, set or sorted set. Read-only variant of SORT.', complexity: 'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).', acl: ['set', 'sortedset', 'list', 'dangerous'], noGroupAcl: true, keySpecs: [SORT_KEY, SORT_PATTERNS], run: sortCommand, coord: sortCoord, allShards: sortNeedsAllShards },
]

export const sortInternalCommands: CommandSpec[] = [
  { name: '__sortsrc', arity: 2, flags: [], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: sortsrcStepCommand },
  { name: '__sortget', arity: -2, flags: [], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: sortgetStepCommand },
  { name: '__sortstore', arity: -2, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: sortstoreStepCommand },
]
