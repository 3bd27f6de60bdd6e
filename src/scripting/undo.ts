// The undo log of a script run inside a shard worker, with several shards (scripting/in-shard.ts):
// before a write command, each key it writes (commands/written-keys.ts, as WATCH counts them)
// that the run has not written yet is kept as it is: its value as a __dump payload (type,
// encoding flags, TTL and the value: commands/internal.ts valuePayload) and its access clock,
// or its absence. A run that must stop after writing (it needs another shard) puts every key
// back, newest first, and runs again holding every shard.
//
// A big value (a queue's list, an events stream) is not copied: a copy per run would cost more
// than the hold. The commands a queue runs on one are kept by what undoes them instead (planBig):
// - a list push, pop or move: the inverse command, made from the reply once it ran (LPUSH's is
//   LPOP of as many, RPOPLPUSH's is LMOVE back...);
// - ZADD, ZINCRBY, ZREM and ZREMRANGEBYRANK: the members' scores before (ZADD them back, ZREM
//   the new ones);
// - XADD, and XTRIM with `~`: the stream's few blocks that an append or an approximate trim
//   changes in place, while the blocks the run frees are kept from reuse (storage/stream-type.ts
//   streamSnapshot).
// Any other write to a big value stops the run (planBig answers null) and the script runs held.
// An inverse command must meet the key as its command left it: a later write to one of its keys
// keeps the key again (isKept stops at the inverse), so that it is undone first.

import { Buffer } from 'node:buffer'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import type { Argv } from '../commands/spec.js'
import type { Command } from '../commands/table.js'
import type { Arena } from '../storage/arena.js'
import { RAW_FLAG, NO_INT_FLAG, entryBlockBytes, TYPE_LIST, TYPE_ZSET, TYPE_STREAM } from '../storage/keyspace.js'
import { TYPES, PAYLOAD_HEADER_BYTES } from '../storage/types.js'
import { keyHash } from '../storage/hash.js'
import { valuePayload } from '../commands/internal.js'
import { listLen } from '../storage/list.js'
import { hashLen } from '../storage/hash-type.js'
import { setLen } from '../storage/set-type.js'
import { zsetLen, zsetFind, zsetAt, nodeScore, nodeMemberAt, nodeMemberLen, formatScore, zsetEncoding, zsetSetEncoding } from '../storage/zset-type.js'
import { streamLen, streamSnapshot, streamRestore, streamUndo, streamUndoEnd, type StreamSnap } from '../storage/stream-type.js'
import { equalsLower, parseInt64, parsed, token } from '../protocol/ascii.js'

/** A key as the run found it (payload null: absent). */
interface KeptValue { kind: typeof KEPT_VALUE, db: number, key: Buffer, payload: Buffer | null, clock: number }
/** Commands that undo one command on big values, run in order; then the keys' clocks (and a zset's encoding) as they were. */
interface KeptOps { kind: typeof KEPT_OPS, db: number, keys: Buffer[], clocks: number[], encodings: number[], ops: Buffer[][] }
/** A big stream as the run found it (storage/stream-type.ts streamSnapshot). */
interface KeptStream { kind: typeof KEPT_STREAM, db: number, key: Buffer, snap: StreamSnap, clock: number }
type Kept = KeptValue | KeptOps | KeptStream

const KEPT_VALUE = 0
const KEPT_OPS = 1
const KEPT_STREAM = 2

/** save's answers. */
export const SAVED = 0
/** The key holds a big value: nothing kept; planBig decides. */
export const BIG = 1

/** Past this many keys kept, a map finds the ones kept already (below it, a scan costs less than the strings). */
const SCAN_MAX = 16
/** The biggest value kept: a string's bytes, a collection's elements. */
const KEEP_MAX_BYTES = 16384
const KEEP_MAX_ELEMENTS = 128
/** The most elements a ZREMRANGEBYRANK on a big sorted set may remove and still be undone. */
const KEEP_MAX_RANGE = 1024

/** Too big to copy for an undo (O(1): the type's own count). */
function isBig (ks: Keyspace, e: number): boolean {
  switch (TYPES[ks.type(e)].name) {
    case 'string': return ks.valLen(e) > KEEP_MAX_BYTES
    case 'list': return listLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'hash': return hashLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'set': return setLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'zset': return zsetLen(ks, e) > KEEP_MAX_ELEMENTS
    case 'stream': return streamLen(ks, e) > KEEP_MAX_ELEMENTS
    default: return true
  }
}

const B = (s: string): Buffer => Buffer.from(s, 'latin1')
const LPOP = B('lpop')
const RPOP = B('rpop')
const LPUSH = B('lpush')
const RPUSH = B('rpush')
const LMOVE = B('lmove')
const LEFT = B('left')
const RIGHT = B('right')
const ZADD = B('zadd')
const ZREM = B('zrem')
const TOK_LEFT = token('left')
const TOK_TILDE = token('~')
const TOK_MAXLEN = token('maxlen')
const TOK_MINID = token('minid')
const TOK_LIMIT = token('limit')
const TOK_NOMKSTREAM = token('nomkstream')
const ZADD_FLAGS = ['nx', 'xx', 'gt', 'lt', 'ch', 'incr'].map(token)
const ONE_KEY = [1]
const TWO_KEYS = [1, 2]

/** What planBig learnt before its command ran; finishBig makes the inverse from the reply. */
export interface BigPlan {
  db: number
  /** The command's written keys, with their clocks (-1: absent) and, for a zset, its encoding word (-1: none). */
  keys: Buffer[]
  clocks: number[]
  encodings: number[]
  /** The lists: how to undo from the reply, and a push's count of elements. */
  list: 'push-left' | 'push-right' | 'pop-left' | 'pop-right' | 'move' | null
  count: number
  /** LMOVE's sides (RPOPLPUSH: right, left). */
  from: Buffer
  to: Buffer
  /** ZADD, ZINCRBY, ZREM, ZREMRANGEBYRANK: each member's score before (null: absent). */
  members: Buffer[] | null
  scores: Array<number | null>
}

function argBuf (argv: Argv, i: number): Buffer {
  return Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i]))
}

export class UndoLog {
  private readonly kept: Kept[] = []
  /** "db:key" (latin1) of the keys kept, once there are more than SCAN_MAX: KEPT_VALUE or KEPT_STREAM. */
  private readonly seen = new Map<string, number>()

  get isEmpty (): boolean { return this.kept.length === 0 }

  /**
   * Keeps key (in database db) as it is now, unless this run kept it already: SAVED; or BIG
   * (nothing kept) when its value is too big to copy, or a stream kept by its blocks (only an
   * append or an approximate trim may follow: planBig).
   */
  save (shard: Shard, db: number, buf: Uint8Array, start: number, len: number): number {
    const was = this.keptAs(db, buf, start, len)
    if (was === KEPT_VALUE) return SAVED
    if (was === KEPT_STREAM) return BIG
    const key = Buffer.from(buf.subarray(start, start + len))
    const ks = shard.dbs[db]
    // Found as it is, expired or not, with no access: an expired key comes back expired.
    const e = ks === null ? 0 : ks.find(key, 0, len, keyHash(key, 0, len))
    if (e !== 0 && isBig(ks as Keyspace, e)) return BIG
    this.push({ kind: KEPT_VALUE, db, key, payload: e === 0 ? null : valuePayload(ks as Keyspace, e), clock: e === 0 ? 0 : (ks as Keyspace).clock(e) })
    return SAVED
  }

  /**
   * A write command on a big value (save said BIG for one of its keys): what undoing it needs,
   * read before it runs (finishBig completes it); null when it is not one this log can undo, or
   * could delete the key (its TTL would not come back): then the run stops.
   */
  planBig (shard: Shard, cmd: Command, argv: Argv, db: number): BigPlan | null {
    const ks = shard.dbs[db]
    if (ks === null) return null
    const plan: BigPlan = { db, keys: [], clocks: [], encodings: [], list: null, count: argv.argc - 2, from: LEFT, to: LEFT, members: null, scores: [] }
    // The keys it writes: the destination too for a move.
    const keys = cmd.name === 'rpoplpush' || cmd.name === 'lmove' ? TWO_KEYS : ONE_KEY
    // The first key's entry: the one the list, sorted-set and stream cases below read.
    let e = 0
    for (const k of keys) {
      const key = argBuf(argv, k)
      const found = ks.find(key, 0, key.length, keyHash(key, 0, key.length))
      if (k === 1) e = found
      plan.keys.push(key)
      plan.clocks.push(found === 0 ? -1 : ks.clock(found))
      plan.encodings.push(found !== 0 && ks.type(found) === TYPE_ZSET ? zsetEncoding(ks, found) : -1)
      // A stream kept by its blocks takes nothing but appends and approximate trims.
      if (this.keptAs(db, key, 0, key.length) === KEPT_STREAM && cmd.name !== 'xadd' && cmd.name !== 'xtrim') return null
    }
    const { buf, start, len } = argv
    switch (cmd.name) {
      case 'lpush': case 'lpushx': plan.list = 'push-left'; return plan
      case 'rpush': case 'rpushx': plan.list = 'push-right'; return plan
      case 'lpop': case 'rpop': {
        if (e === 0 || ks.type(e) !== TYPE_LIST) return plan
        // A count that may empty the list (the key would go, with its TTL).
        if (argv.argc > 2 && (!parseInt64(buf, start[2], len[2]) || parsed.isBig || parsed.value >= listLen(ks, e))) return null
        plan.list = cmd.name === 'lpop' ? 'pop-left' : 'pop-right'
        return plan
      }
      // One element moves: a big source keeps the rest, and a small one was kept whole (save).
      case 'rpoplpush': plan.list = 'move'; plan.from = RIGHT; plan.to = LEFT; return plan
      case 'lmove':
        plan.list = 'move'
        plan.from = equalsLower(buf, start[3], len[3], TOK_LEFT) ? LEFT : RIGHT
        plan.to = equalsLower(buf, start[4], len[4], TOK_LEFT) ? LEFT : RIGHT
        return plan
      case 'zadd': case 'zincrby': case 'zrem': {
        if (e === 0 || ks.type(e) !== TYPE_ZSET) return plan
        let at = 2
        let step = 1
        if (cmd.name === 'zincrby') { at = 3; step = 2 } else if (cmd.name === 'zadd') {
          while (at < argv.argc && ZADD_FLAGS.some(f => equalsLower(buf, start[at], len[at], f))) at++
          at++
          step = 2
        }
        plan.members = []
        let present = 0
        for (let i = at; i < argv.argc; i += step) {
          const n = zsetFind(ks, e, buf, start[i], len[i])
          plan.members.push(argBuf(argv, i))
          plan.scores.push(n === 0 ? null : nodeScore(ks, n))
          if (n !== 0) present++
        }
        // A ZREM that may empty the set (the key would go, with its TTL).
        if (cmd.name === 'zrem' && present >= zsetLen(ks, e)) return null
        return plan
      }
      case 'zremrangebyrank': {
        if (e === 0 || ks.type(e) !== TYPE_ZSET) return plan
        if (!parseInt64(buf, start[2], len[2])) return plan
        let from = parsed.isBig ? Number(parsed.big) : parsed.value
        if (!parseInt64(buf, start[3], len[3])) return plan
        let to = parsed.isBig ? Number(parsed.big) : parsed.value
        // The ranks zremrangeGenericCommand removes: kept with their scores, unless that is all of them.
        const size = zsetLen(ks, e)
        if (from < 0) from = size + from
        if (to < 0) to = size + to
        if (from < 0) from = 0
        if (to >= size) to = size - 1
        plan.members = []
        if (from > to || from >= size) return plan
        if (to - from + 1 >= size || to - from + 1 > KEEP_MAX_RANGE) return null
        const u8 = ks.arena.u8
        for (let i = from; i <= to; i++) {
          const n = zsetAt(ks, e, i)
          const at = nodeMemberAt(n)
          plan.members.push(Buffer.from(u8.subarray(at, at + nodeMemberLen(ks, n))))
          plan.scores.push(nodeScore(ks, n))
        }
        return plan
      }
      case 'xadd': case 'xtrim': {
        if (e === 0 || ks.type(e) !== TYPE_STREAM) return plan
        if (!isApproxTrim(argv, cmd.name === 'xadd')) return null
        const key = plan.keys[0]
        if (this.keptAs(db, key, 0, key.length) !== KEPT_STREAM) {
          streamUndo.isDeferring = true
          this.push({ kind: KEPT_STREAM, db, key, snap: streamSnapshot(ks, e), clock: ks.clock(e) })
        }
        return plan
      }
      default: return null
    }
  }

  /** The command of planBig ran and answered reply[from, to): its inverse goes into the log. */
  finishBig (plan: BigPlan, reply: Uint8Array, from: number, to: number): void {
    if (reply[from] === 45 /* '-' */) return
    const ops: Buffer[][] = []
    const key = plan.keys[0]
    switch (plan.list) {
      case 'push-left': case 'push-right': {
        // The reply is the new length; the arguments after the key were pushed.
        if (reply[from] !== 58 /* ':' */) return
        ops.push([plan.list === 'push-left' ? LPOP : RPOP, key, B(String(plan.count))])
        break
      }
      case 'pop-left': case 'pop-right': {
        const values = bulks(reply, from, to)
        if (values.length === 0) return
        values.reverse()
        ops.push([plan.list === 'pop-left' ? LPUSH : RPUSH, key, ...values])
        break
      }
      case 'move': {
        if (bulks(reply, from, to).length === 0) return
        ops.push([LMOVE, plan.keys[1], key, plan.to, plan.from])
        break
      }
      case null:
        if (plan.members !== null) {
          const absent = plan.members.filter((_m, i) => plan.scores[i] === null)
          if (absent.length > 0) ops.push([ZREM, key, ...absent])
          const back: Buffer[] = []
          plan.members.forEach((m, i) => { const s = plan.scores[i]; if (s !== null) back.push(B(formatScore(s)), m) })
          if (back.length > 0) ops.push([ZADD, key, ...back])
        }
        break
    }
    if (ops.length === 0) return
    this.push({ kind: KEPT_OPS, db: plan.db, keys: plan.keys, clocks: plan.clocks, encodings: plan.encodings, ops })
  }

  private push (k: Kept): void {
    const kept = this.kept
    kept.push(k)
    const n = kept.length
    if (n === SCAN_MAX + 1) {
      // The map from now on: every entry so far, oldest first (a later one wins).
      for (const x of kept) this.note(x)
    } else if (n > SCAN_MAX + 1) this.note(k)
  }

  private note (k: Kept): void {
    if (k.kind === KEPT_OPS) { for (const key of k.keys) this.seen.delete(`${k.db}:${key.toString('latin1')}`) } else this.seen.set(`${k.db}:${k.key.toString('latin1')}`, k.kind)
  }

  /** How the run keeps the key now: KEPT_VALUE, KEPT_STREAM, or -1 (not kept, or last met by an inverse command, which needs it kept again). */
  private keptAs (db: number, buf: Uint8Array, start: number, len: number): number {
    const kept = this.kept
    if (kept.length > SCAN_MAX) return this.seen.get(`${db}:${Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1')}`) ?? -1
    for (let i = kept.length - 1; i >= 0; i--) {
      const k = kept[i]
      if (k.db !== db) continue
      if (k.kind === KEPT_OPS) { for (const key of k.keys) if (sameKey(key, buf, start, len)) return -1; continue }
      if (sameKey(k.key, buf, start, len)) return k.kind
    }
    return -1
  }

  /**
   * Puts every kept key back as it was, newest first; false if an arena had no room for one.
   * runOp runs an inverse command (its name first) on the shard in database db, as the run's
   * own commands ran, without eviction.
   */
  restore (shard: Shard, runOp: (db: number, parts: Buffer[]) => void): boolean {
    let isWhole = true
    let streams: Map<Arena, Set<number>> | null = null
    for (let i = this.kept.length - 1; i >= 0; i--) {
      const k = this.kept[i]
      const ks = shard.db(k.db)
      if (k.kind === KEPT_OPS) {
        for (const op of k.ops) runOp(k.db, op)
        k.keys.forEach((key, j) => {
          const e = ks.find(key, 0, key.length, keyHash(key, 0, key.length))
          if (e === 0 || k.clocks[j] < 0) return
          ks.setClock(e, k.clocks[j])
          if (k.encodings[j] >= 0 && ks.type(e) === TYPE_ZSET) zsetSetEncoding(ks, e, k.encodings[j])
        })
        continue
      }
      const { key } = k
      const h = keyHash(key, 0, key.length)
      if (k.kind === KEPT_STREAM) {
        const e = ks.find(key, 0, key.length, h)
        // Gone (it expired meanwhile): its blocks were freed with it.
        if (e === 0 || ks.type(e) !== TYPE_STREAM) continue
        streamRestore(ks, e, k.snap)
        ks.setClock(e, k.clock)
        streams ??= new Map()
        let set = streams.get(ks.arena)
        if (set === undefined) { set = new Set(); streams.set(ks.arena, set) }
        for (const b of k.snap.blocks) set.add(b)
        continue
      }
      const { payload, clock } = k
      const e = ks.find(key, 0, key.length, h)
      if (e !== 0) ks.remove(e)
      if (payload === null) continue
      const type = payload[0] & 7
      const ops = TYPES[type]
      const dataLen = payload.length - PAYLOAD_HEADER_BYTES
      ks.arena.reserve(entryBlockBytes(key.length, ops.valueBytes(dataLen)) + ops.restoreBytes(payload, PAYLOAD_HEADER_BYTES, payload.length))
      const n = ks.insert(key, 0, key.length, h, type, ops.valueBytes(dataLen))
      if (n === 0) { isWhole = false; continue }
      ks.setEncFlags(n, payload[0] & (RAW_FLAG | NO_INT_FLAG))
      if (!ops.restore(ks, n, payload, PAYLOAD_HEADER_BYTES, payload.length)) { ks.remove(n); isWhole = false; continue }
      ks.setExpireAt(n, payload.readDoubleLE(1))
      ks.setClock(n, clock)
    }
    // The blocks the run freed go, but those the streams put back reference again.
    if (streamUndo.isDeferring) streamUndoEnd(streams)
    this.reset()
    return isWhole
  }

  /** The run ended (kept or undone): the blocks it freed while it could be undone go now. */
  clear (): void {
    if (streamUndo.isDeferring) streamUndoEnd(null)
    this.reset()
  }

  private reset (): void {
    if (this.kept.length === 0) return
    this.kept.length = 0
    if (this.seen.size !== 0) this.seen.clear()
  }
}

function sameKey (key: Buffer, buf: Uint8Array, start: number, len: number): boolean {
  if (key.length !== len) return false
  let j = 0
  while (j < len && key[j] === buf[start + j]) j++
  return j === len
}

/**
 * XADD's or XTRIM's trim is absent or approximate (`~`): it only drops whole chunks, which
 * streamSnapshot's blocks can undo. XADD's options end at its id (the first other word).
 */
function isApproxTrim (argv: Argv, isXadd: boolean): boolean {
  const { buf, start, len } = argv
  for (let i = 2; i < argv.argc; i++) {
    if (equalsLower(buf, start[i], len[i], TOK_MAXLEN) || equalsLower(buf, start[i], len[i], TOK_MINID)) {
      if (i + 1 >= argv.argc || !equalsLower(buf, start[i + 1], len[i + 1], TOK_TILDE)) return false
      i += 2
      continue
    }
    if (equalsLower(buf, start[i], len[i], TOK_LIMIT)) { i++; continue }
    if (isXadd && equalsLower(buf, start[i], len[i], TOK_NOMKSTREAM)) continue
    return isXadd
  }
  return true
}

/** The bulk strings of a reply: one bulk, an array of them (RESP2 or RESP3), or none for a null. */
function bulks (src: Uint8Array, from: number, to: number): Buffer[] {
  const out: Buffer[] = []
  let p = from
  let count = 1
  if (src[p] === 42 /* '*' */) {
    if (src[p + 1] === 45) return out
    count = 0
    p++
    while (src[p] !== 13) count = count * 10 + (src[p++] - 48)
    p += 2
  }
  for (let i = 0; i < count && p < to; i++) {
    if (src[p] !== 36 /* '$' */ || src[p + 1] === 45) return out
    let n = 0
    p++
    while (src[p] !== 13) n = n * 10 + (src[p++] - 48)
    p += 2
    out.push(Buffer.from(src.subarray(p, p + n)))
    p += n + 2
  }
  return out
}
