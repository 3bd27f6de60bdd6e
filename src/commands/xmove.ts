// RENAME, RENAMENX, COPY, LMOVE, RPOPLPUSH and SMOVE across two shards without a transaction hold: the router stages one
// __xmove record on each shard in one step (ticketed like a split MSET), and the two shards meet
// at that record through the source shard's outbox in shared memory (server/credits.ts): the
// source hands over the value, the destination stores it and says whether it could, and only
// then does the source delete its key (RENAME; COPY keeps it). Each shard changes its key exactly
// at the record's place in the global order, so no other client's command can see one change
// without the other, as with the hold (test/integration/atomic.test.ts). The hold costs four thread wake-ups and four
// structured-clone messages per command, with the coordination on the producer's thread; here
// the shards' own threads do all of it, and every hook of a local write (WATCH, tracking,
// blocked clients, snapshots) runs where it always does.
//
// No deadlock: a shard waits only for the other shard of the record it stands at, and every
// shard reaches records in the one global order, as with the verdict cells of a watched EXEC.
// A shard that dies while the other waits makes the waiter give up (the death counters, bumped
// by every producer's shardDown): nothing is deleted, and the command gets CLUSTERDOWN.
//
// Only without keyspace events (router.ts checks at staging): the hold keeps Redis's event order
// across the two shards. If they are turned on while a move is in flight, its parts still emit
// their events, each on its own shard.
//
// With the append-only file on (XMOVE_AOF, set at staging), the destination logs both halves as
// one MULTI/EXEC block (its key's state or push, then the source's DEL, pop or SREM) and writes
// it before it answers, so a crash never leaves one half in the file. The order around the block
// holds on both shards: the source writes what it logged before it hands over (its earlier
// effects come first), the block goes out with the destination's earlier effects in one write,
// and both shards log anything later only after that write. COPY changes one key: its
// destination logs the key's state in its own order, as any write.
//
// __xmove mykey otherkey meta [member]: meta is 16 bytes, u32 LE each: the move's id (never 0;
// its producer in the low 8 bits, so ids of different producers never meet), the other shard's
// index, flags (XMOVE_SRC: this is the source; XMOVE_NX, XMOVE_COPY, XMOVE_REPLACE...), and
// the other shard's death count when the move was staged: a shard that died since then lost its
// part with its ring (server.ts shardDown), so a wait for it would never end.

import { Buffer } from 'node:buffer'
import type { Argv, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { xmoveWords, xmovePayload, XMOVE_WORDS, XMOVE_CHUNK, XMOVE_SHARDS } from '../server/credits.js'
import { valuePayload, restoreValue, readU32 } from './internal.js'
import { markCopy } from '../storage/types.js'
import { OK, ZERO, ONE } from '../protocol/replies.js'
import { NO_SUCH_KEY, SHARD_DOWN, OOM, WRONGTYPE } from '../protocol/errors.js'
import { ReplyWriter as Writer } from '../protocol/resp-writer.js'
import { TYPE_LIST, TYPE_SET } from '../storage/keyspace.js'
import { HEAD, TAIL, listFirst, elemData, elemLen } from '../storage/list.js'
import { lpushCommand, rpushCommand, lpopCommand, rpopCommand } from './list.js'
import { saddCommand, sremCommand } from './set.js'
import { setHas } from '../storage/set-type.js'
import { ownDirty } from '../persistence/dirty.js'
import { argvOf } from './txn-helpers.js'
import { NOTIFY_GENERIC, eventName } from '../storage/notify.js'
import { AofLog, shardAof, flushShardAof, aofIsOn, aofDebt, owe, aofMisconf, shardAofHooks } from '../persistence/aof.js'
import { saveWords, W_AOF_WRITE_OK } from '../persistence/save-state.js'
import { logKeyState } from '../persistence/aof-effects.js'

export const XMOVE_SRC = 1
export const XMOVE_NX = 2
/** COPY: the source keeps its key; the destination is replaced only with XMOVE_REPLACE. */
export const XMOVE_COPY = 4
export const XMOVE_REPLACE = 8
/**
 * LMOVE/RPOPLPUSH: one element moves, from the source list's head (or its tail with
 * XMOVE_FROM_TAIL) to the destination's head (or tail, XMOVE_TO_TAIL).
 */
export const XMOVE_LIST = 16
export const XMOVE_FROM_TAIL = 32
export const XMOVE_TO_TAIL = 64
/** SMOVE: argv[4] is the member; the source says whether its set has it, nothing else moves. */
export const XMOVE_SET = 128
/** The AOF was on at staging: the destination logs the move's block (see the top of the file). */
export const XMOVE_AOF = 256

// Outbox words, at shard * XMOVE_WORDS.
const ID = 0 // the move the outbox serves now (0: none, between moves)
const SEQ_SRC = 2 // messages the source has posted
const SEQ_DST = 3 // messages the destination has posted
const KIND = 4 // the source's last message
const LEN = 5 // payload bytes of this chunk
const TOTAL = 6 // payload bytes of the whole value
const RESULT = 7 // the destination's answer: 0 until it has one
const HAS_MEMBER = 8 // SMOVE: the source's set has the member
const OWED = 9 // appendfsync always: the W_AOF_WRITES number of the destination's unsynced block (0: none)
// An AOF group part's queue (below), in the payload area while no move uses it: a byte stream of
// entries, wrapping; the counts wrap too (int32).
const Q_HEAD = 10 // bytes the part's shard has queued
const Q_TAIL = 11 // bytes the last shards have read
const Q_WRITTEN = 12 // this shard's parts whose blocks were written (or tried: a failed write keeps them in its log, in order)
const Q_OWED = 13 // the W_AOF_WRITES number of the latest of those blocks (appendfsync always; 0: none)
const Q_READER = 14 // the last shard whose parts the queue holds: changed only once it is drained

const KIND_MISSING = 1
const KIND_CHUNK = 2
const KIND_LAST = 3
/** The source cannot log the move in order (the AOF's last write failed): nothing moves. */
const KIND_ABORT = 4
const RESULT_DONE = 1
const RESULT_OOM = 2
const RESULT_EXISTS = 3
const RESULT_WRONGTYPE = 4
const RESULT_ZERO = 5
/** SMOVE's destination did not have the member (Redis counts one more change). */
const RESULT_DONE_NEW = 6
/** The destination cannot log the move in order (see aofStalled). */
const RESULT_ABORT = 7

/** Bound on one sleep: waits re-check the other shard's death counter this often. */
const WAIT_MS = 20

let words: Int32Array | null = null
let payload: Uint8Array | null = null
/** This shard's index (the outbox its AOF group parts go through). */
let selfIndex = 0
/** How long a wait watches its word before it sleeps (ms). */
let spinMs = 0
/**
 * The least watch, even where threads share cores: the other shard of a move is often a few
 * microseconds from its part, and a futex sleep and wake costs more than that on both threads;
 * but a longer watch takes the core the other shard needs when there are more shards than cores.
 * 2 CPUs, 3 rounds each, watching 100 / 20 / 0 us: every client on one key pair
 * (bench/features.ts rename_xshard) at 4 shards 20.5-21.7k / 20.9-24.6k / 10.3-10.4k per second;
 * 50 clients each on its own pair, at 4 shards 8.8-9.4k / 9.6-13.2k / 9.0-14.4k, at 2 shards
 * 14.9-31.3k / 17.4-32.4k / 14.3-21.2k.
 */
const XMOVE_SPIN_US = 20

/**
 * The exchange of the credits buffer every thread shares (set once per shard thread). `spinUs`:
 * the shard's spin-us, where every thread has a core; a wait watches its word for the longer of
 * that and XMOVE_SPIN_US before it sleeps.
 */
export function useXmoveExchange (sab: SharedArrayBuffer, spinUs = 0, self = 0): void {
  words = xmoveWords(sab)
  payload = xmovePayload(sab)
  spinMs = Math.max(spinUs, XMOVE_SPIN_US) / 1000
  shardAofHooks.beforeFlush = awaitGroup
  // A shard restarted after a crash starts its group queue afresh: whatever its last life left
  // there went with it (a reader waiting on it gave up at its death).
  selfIndex = self
  const o = self * XMOVE_WORDS
  Atomics.store(words, o + Q_READER, -1)
  Atomics.store(words, o + Q_TAIL, Atomics.load(words, o + Q_HEAD))
  Atomics.store(words, o + Q_WRITTEN, 0)
}

const deathAt = (s: number): number => XMOVE_SHARDS * XMOVE_WORDS + s

/** Shard s died: waits on it give up (every producer calls this; any change is enough). */
export function xmoveShardDown (sab: SharedArrayBuffer, s: number): void {
  const w = xmoveWords(sab)
  Atomics.add(w, deathAt(s), 1)
  for (let i = 0; i < XMOVE_SHARDS; i++) {
    Atomics.notify(w, i * XMOVE_WORDS + SEQ_SRC)
    Atomics.notify(w, i * XMOVE_WORDS + SEQ_DST)
    Atomics.notify(w, i * XMOVE_WORDS + ID)
    Atomics.notify(w, i * XMOVE_WORDS + Q_HEAD)
    Atomics.notify(w, i * XMOVE_WORDS + Q_TAIL)
    Atomics.notify(w, i * XMOVE_WORDS + Q_WRITTEN)
  }
}

/** Shard s's death count now (router.ts stages it in the other shard's meta). */
export function xmoveDeaths (w: Int32Array, s: number): number { return Atomics.load(w, deathAt(s)) }

/**
 * A move's id: the producer's count (23 bits, wrapping) and the producer. A source serves one
 * move at a time and clears its ID between them, so a wrapped count can only meet one of its own
 * 8 million moves back, never in flight with it.
 */
export function exchangeId (count: number, producer: number): number {
  return (((count & 0x7fffff) << 8) | (producer & 0xff)) >>> 0
}

/** The meta bytes of an __xmove record; `id`: exchangeId. */
export function xmoveMeta (id: number, other: number, flags: number, otherDeaths: number): Buffer {
  const b = Buffer.allocUnsafe(16)
  b.writeUInt32LE(id >>> 0, 0)
  b.writeUInt32LE(other >>> 0, 4)
  b.writeUInt32LE(flags >>> 0, 8)
  b.writeUInt32LE(otherDeaths >>> 0, 12)
  return b
}

// How waitFor compares w[i] with its target.
const EXACT = 0
const AT_LEAST = 1
/** Any value but the target (a group queue's word moving on). */
const CHANGED = 2

/**
 * Waits until w[i] is `target` (EXACT), at least it (AT_LEAST, a count) or anything else
 * (CHANGED); false if shard `peer` died since the exchange was staged (its death count is no
 * longer `deaths`). Watches the word for spinMs first.
 */
function waitFor (w: Int32Array, i: number, target: number, mode: number, peer: number, deaths: number): boolean {
  let spinUntil = spinMs > 0 ? performance.now() + spinMs : 0
  for (;;) {
    const v = Atomics.load(w, i)
    if (mode === EXACT ? v === target : mode === AT_LEAST ? v >= target : v !== target) return true
    if (Atomics.load(w, deathAt(peer)) !== deaths) return false
    if (spinUntil !== 0) {
      if (performance.now() < spinUntil) continue
      spinUntil = 0
    }
    Atomics.wait(w, i, v, WAIT_MS)
  }
}

/** __xmove's handler, on either shard (see the top of the file). */
export function xmoveCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start } = argv
  const m = start[3]
  const id = readU32(buf, m) | 0
  const other = readU32(buf, m + 4)
  const flags = readU32(buf, m + 8)
  const deaths = readU32(buf, m + 12) | 0
  // Redis's dirty for the command is counted once, by the part that changes something on success
  // (the source's, COPY's destination's); anything else counts nothing here.
  ownDirty.n = 0
  // A group part this shard handed over goes into the file before the move's block, and the
  // outbox is free for this move.
  awaitGroup()
  if ((flags & XMOVE_SRC) !== 0) source(shard, argv, out, id, other, flags, deaths)
  else destination(shard, argv, out, id, other, flags, deaths)
}

function source (shard: Shard, argv: Argv, out: ReplyWriter, id: number, dst: number, flags: number, deaths: number): void {
  const w = words as Int32Array
  const { buf, start, len } = argv
  const o = shard.index * XMOVE_WORDS
  // The outbox is idle (this shard finished every earlier move): fill it, then name the move,
  // which is what the destination waits for. Two messages per move: this one (with the value,
  // or the news that there is none), and the destination's answer.
  Atomics.store(w, o + SEQ_DST, 0)
  Atomics.store(w, o + RESULT, 0)
  Atomics.store(w, o + OWED, 0)
  const isCopy = (flags & XMOVE_COPY) !== 0
  const isList = (flags & XMOVE_LIST) !== 0
  const isSet = (flags & XMOVE_SET) !== 0
  // COPY reads its source as copyCommand does (a hit or a miss); RENAME's lookup counts neither.
  const e = isCopy ? shard.lookupRead(buf, start[1], len[1]) : shard.lookup(buf, start[1], len[1])
  // LMOVE's and SMOVE's source must be a list or a set (checked before the destination).
  const isWrongType = e !== 0 && ((isList && shard.ks.type(e) !== TYPE_LIST) || (isSet && shard.ks.type(e) !== TYPE_SET))
  let value: Buffer | null = null
  let sent = 0
  if (e === 0 || isWrongType) {
    Atomics.store(w, o + KIND, KIND_MISSING)
  } else if (isSet) {
    // Only whether the member is there: the destination has the member in its own record.
    Atomics.store(w, o + HAS_MEMBER, setHas(shard.ks, e, buf, start[4], len[4]) ? 1 : 0)
    Atomics.store(w, o + LEN, 0)
    Atomics.store(w, o + TOTAL, 0)
    Atomics.store(w, o + KIND, KIND_LAST)
  } else {
    if (isList) {
      // The element LMOVE pops; it is popped only once the destination has it.
      const ks = shard.ks
      const el = listFirst(ks, e, (flags & XMOVE_FROM_TAIL) !== 0 ? TAIL : HEAD)
      value = Buffer.from(ks.arena.u8.subarray(elemData(el), elemData(el) + elemLen(ks, el)))
    } else {
      value = valuePayload(shard.ks, e)
    }
    sent = postChunk(w, o, shard.index, value, 0)
  }
  // The destination's block must follow this shard's earlier effects in the file (their sync,
  // under always, can wait for the batch's: aofDebt). If they cannot be written, nothing moves.
  const isAborted = (flags & (XMOVE_AOF | XMOVE_COPY)) === XMOVE_AOF && aofStalled()
  if (isAborted) Atomics.store(w, o + KIND, KIND_ABORT)
  Atomics.store(w, o + SEQ_SRC, 1)
  Atomics.store(w, o + ID, id)
  Atomics.notify(w, o + ID)
  let result = 0
  for (let n = 1; ; n++) {
    // The destination took chunk n (after the last, or on an early answer, with its result).
    if (!waitFor(w, o + SEQ_DST, n, AT_LEAST, dst, deaths)) { Atomics.store(w, o + ID, 0); out.raw(SHARD_DOWN); return }
    result = Atomics.load(w, o + RESULT)
    if (value === null || result !== 0 || isAborted) break
    sent = postChunk(w, o, shard.index, value, sent)
    Atomics.store(w, o + SEQ_SRC, n + 1)
    Atomics.notify(w, o + SEQ_SRC)
  }
  Atomics.store(w, o + ID, 0)
  if (isAborted || result === RESULT_ABORT) { out.raw(aofMisconf()); return }
  // The block is written; its sync is owed by this reply too (appendfsync always).
  const owed = Atomics.load(w, o + OWED)
  if (owed !== 0) owe(owed, shardAof.fd)
  if (e === 0) {
    if (isList) out.nullBulk()
    else out.raw(isCopy || isSet ? ZERO : NO_SUCH_KEY)
    return
  }
  if (isWrongType || result === RESULT_WRONGTYPE) { out.raw(WRONGTYPE); return }
  if (result === RESULT_EXISTS || result === RESULT_ZERO) { out.raw(ZERO); return }
  if (result !== RESULT_DONE && result !== RESULT_DONE_NEW) { out.raw(OOM); return }
  if (isCopy) { out.raw(ONE); return }
  if (isSet) {
    // The destination has the member: the source lets it go (an emptied set is deleted).
    scratch.reset()
    sremCommand(shard, argvOf([SREM_NAME, buf.subarray(start[1], start[1] + len[1]), buf.subarray(start[4], start[4] + len[4])]), scratch)
    out.raw(ONE)
    ownDirty.n = result === RESULT_DONE_NEW ? 2 : 1
    return
  }
  if (isList) {
    // The pop replies the element and emits "lpop"/"rpop" (and "del"), after the push's events.
    const pop = (flags & XMOVE_FROM_TAIL) !== 0 ? rpopCommand : lpopCommand
    pop(shard, argvOf([POP_NAME, buf.subarray(start[1], start[1] + len[1])]), out)
    ownDirty.n = 1
    return
  }
  shard.ks.remove(e)
  shard.notify(NOTIFY_GENERIC, EV_RENAME_FROM, buf, start[1], len[1])
  out.raw((flags & XMOVE_NX) !== 0 ? ONE : OK)
  ownDirty.n = 1
}

/** Copies the next chunk of value (from byte `sent`) into shard s's payload area; returns the bytes sent so far. */
function postChunk (w: Int32Array, o: number, s: number, value: Buffer, sent: number): number {
  const k = Math.min(XMOVE_CHUNK, value.length - sent)
  ;(payload as Uint8Array).set(value.subarray(sent, sent + k), s * XMOVE_CHUNK)
  Atomics.store(w, o + LEN, k)
  Atomics.store(w, o + TOTAL, value.length)
  Atomics.store(w, o + KIND, sent + k === value.length ? KIND_LAST : KIND_CHUNK)
  return sent + k
}

function destination (shard: Shard, argv: Argv, out: ReplyWriter, id: number, src: number, flags: number, deaths: number): void {
  const w = words as Int32Array
  const { buf, start, len } = argv
  const o = src * XMOVE_WORDS
  // The part's own reply is not the command's (the source's is): +OK whatever happens here.
  out.raw(OK)
  // Wait for the source to reach this move.
  if (!waitFor(w, o + ID, id, EXACT, src, deaths)) return
  const answer = (n: number, result: number): void => {
    Atomics.store(w, o + RESULT, result)
    Atomics.store(w, o + SEQ_DST, n)
    Atomics.notify(w, o + SEQ_DST)
  }
  const kind = Atomics.load(w, o + KIND)
  if (kind === KIND_MISSING || kind === KIND_ABORT) { answer(1, 0); return }
  if ((flags & (XMOVE_AOF | XMOVE_COPY)) === XMOVE_AOF && aofStalled()) { answer(1, RESULT_ABORT); return }
  // RENAMENX, or COPY without REPLACE, onto an existing key: nothing changes (the value sent goes unused).
  const isCopy = (flags & XMOVE_COPY) !== 0
  const keeps = isCopy ? (flags & XMOVE_REPLACE) === 0 : (flags & XMOVE_NX) !== 0
  if (keeps && shard.lookup(buf, start[1], len[1]) !== 0) { answer(1, RESULT_EXISTS); return }
  if ((flags & XMOVE_SET) !== 0) { answer(1, logged(shard, argv, flags, o, addMember(shard, argv, Atomics.load(w, o + HAS_MEMBER) !== 0), null)); return }
  const area = payload as Uint8Array
  const at = src * XMOVE_CHUNK
  const value = Buffer.allocUnsafe(Atomics.load(w, o + TOTAL))
  let got = 0
  for (let n = 1; ; n++) {
    if (n > 1 && !waitFor(w, o + SEQ_SRC, n, AT_LEAST, src, deaths)) return
    const k = Atomics.load(w, o + LEN)
    value.set(area.subarray(at, at + k), got)
    got += k
    if (Atomics.load(w, o + KIND) === KIND_LAST) {
      if ((flags & XMOVE_LIST) !== 0) { answer(n, logged(shard, argv, flags, o, pushElement(shard, argv, value, flags), value)); return }
      const err = restoreValue(shard, buf, start[1], len[1], value, 0, value.length, false)
      if (err === null) shard.notify(NOTIFY_GENERIC, isCopy ? EV_COPY_TO : EV_RENAME_TO, buf, start[1], len[1])
      // COPY's source changes nothing: the copy is the change that counts.
      if (err === null && isCopy) { ownDirty.n = 1; markCopy(shard.ks, shard.lookup(buf, start[1], len[1])) }
      answer(n, logged(shard, argv, flags, o, err === null ? RESULT_DONE : RESULT_OOM, null))
      return
    }
    answer(n, 0)
  }
}

/**
 * With the AOF on, whether this shard's log cannot go out ahead of a move's block: it writes
 * what it logged so far, and a write that failed now or earlier (kept bytes here or on any
 * shard: W_AOF_WRITE_OK) would let the block, retried on another thread, land before them or
 * after later effects. Such a move answers -MISCONF and changes nothing, as writes get once
 * the failure is seen (the router refuses any write staged after it).
 */
function aofStalled (): boolean {
  if (!aofIsOn()) return false
  if (shardAof.log.len !== 0) flushShardAof(false)
  return shardAof.log.len !== 0 || Atomics.load(saveWords().i32, W_AOF_WRITE_OK) === 0
}

/**
 * The destination's AOF entry for a move that changed something (`result` DONE or DONE_NEW, and
 * the AOF on at staging and now; `o`: the source's outbox): MULTI, this key's state (RENAME) or
 * the push (LMOVE) or the SADD (SMOVE, when the member is new here), then the source's DEL, pop
 * or SREM, EXEC. The log is written at once, before the source may go on; under `always` both
 * shards owe its sync before their replies leave (aofDebt), so the moves of a batch share one.
 * COPY's one change is logged in this shard's order, not written early. Returns `result`.
 */
function logged (shard: Shard, argv: Argv, flags: number, o: number, result: number, element: Buffer | null): number {
  if ((result !== RESULT_DONE && result !== RESULT_DONE_NEW) || (flags & XMOVE_AOF) === 0 || !aofIsOn()) return result
  const { buf, start, len } = argv
  const log = shardAof.log
  const db = shard.dbIndex
  const key = buf.subarray(start[1], start[1] + len[1])
  const src = buf.subarray(start[2], start[2] + len[2])
  if ((flags & XMOVE_COPY) !== 0) { logKeyState(shard, db, buf, start[1], len[1], log); return result }
  log.beginUnit(db)
  if ((flags & XMOVE_LIST) !== 0) {
    log.parts(db, [(flags & XMOVE_TO_TAIL) !== 0 ? 'RPUSH' : 'LPUSH', key, element as Buffer])
    log.parts(db, [(flags & XMOVE_FROM_TAIL) !== 0 ? 'RPOP' : 'LPOP', src])
  } else if ((flags & XMOVE_SET) !== 0) {
    const member = buf.subarray(start[4], start[4] + len[4])
    if (result === RESULT_DONE_NEW) log.parts(db, ['SADD', key, member])
    log.parts(db, ['SREM', src, member])
  } else {
    logKeyState(shard, db, buf, start[1], len[1], log)
    log.parts(db, ['DEL', src])
  }
  log.endUnit()
  // Written now, synced with the batch (both shards owe the sync before their replies leave).
  flushShardAof(false)
  Atomics.store(words as Int32Array, o + OWED, aofDebt.n)
  return result
}

/** LPUSH/RPUSH of an LMOVE's element onto this shard's key (WRONGTYPE, OOM, a new list, blocked clients: as LPUSH). */
function pushElement (shard: Shard, argv: Argv, element: Buffer, flags: number): number {
  const { buf, start, len } = argv
  const toTail = (flags & XMOVE_TO_TAIL) !== 0
  scratch.reset()
  ;(toTail ? rpushCommand : lpushCommand)(shard, argvOf([toTail ? RPUSH_NAME : LPUSH_NAME, buf.subarray(start[1], start[1] + len[1]), element]), scratch)
  if (scratch.len === 0 || scratch.buf[0] !== 45 /* '-' */) return RESULT_DONE
  return scratch.len >= WRONGTYPE.length && Buffer.compare(scratch.buf.subarray(0, WRONGTYPE.length), WRONGTYPE) === 0 ? RESULT_WRONGTYPE : RESULT_OOM
}
/**
 * SMOVE's destination: WRONGTYPE if its key is not a set (even when the source lacks the
 * member, as smoveCommand checks both types first); then, if the source has the member, SADD.
 */
function addMember (shard: Shard, argv: Argv, hasMember: boolean): number {
  const { buf, start, len } = argv
  const d = shard.lookup(buf, start[1], len[1])
  if (d !== 0 && shard.ks.type(d) !== TYPE_SET) return RESULT_WRONGTYPE
  if (!hasMember) return RESULT_ZERO
  scratch.reset()
  saddCommand(shard, argvOf([SADD_NAME, buf.subarray(start[1], start[1] + len[1]), buf.subarray(start[4], start[4] + len[4])]), scratch)
  if (scratch.len > 0 && scratch.buf[0] === 45) return RESULT_OOM
  return scratch.buf[1] === 49 /* ':1' */ ? RESULT_DONE_NEW : RESULT_DONE
}
const scratch = new Writer()
const SADD_NAME = Buffer.from('SADD')
const SREM_NAME = Buffer.from('SREM')

const LPUSH_NAME = Buffer.from('LPUSH')
const RPUSH_NAME = Buffer.from('RPUSH')
const POP_NAME = Buffer.from('POP')

const EV_RENAME_FROM = eventName('rename_from')
const EV_RENAME_TO = eventName('rename_to')
const EV_COPY_TO = eventName('copy_to')

export const xmoveCommands: readonly CommandSpec[] = [
  // The key of this shard is argv[1]: WATCH touches, snapshots and the AOF's key state follow it.
  // Its AOF entries are its own (logged above), never the worker's key state of argv[1].
  { name: '__xmove', arity: -4, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, logsItself: true, run: xmoveCommand },
]

// --- AOF groups ---------------------------------------------------------------------------------
// A transaction staged on several shards without a hold (server/multi.ts execSplit, execWatched),
// or a split MSET, DEL or UNLINK (router.ts sendSplit), runs a part on each, at the same place in
// the global order. With the AOF on, its effects must reach the file as one MULTI/EXEC block (a
// crash between two shards' writes would keep half of it), in that place on every shard. So each
// part but the last shard's logs its effects as usual, takes them out of its log and queues them,
// after what its log held before them (not written yet, or kept by a failed write), for the
// group's last shard in its own outbox: a byte ring in the payload area (Q_HEAD, Q_TAIL), free
// for moves once drained. It goes on at once. The queue serves one last shard at a time
// (Q_READER): a part for another waits until every queued part is written, so a last shard that
// reaches its group before the part's shard does never reads a part meant for another. The last
// shard reads the next entry of each part's queue (each part's shard queues in the global order,
// the order it meets the groups in), puts the earlier bytes first, wraps its own part and the
// others' in one MULTI/EXEC, writes it all at once, then counts the part written in the part's
// shard's Q_WRITTEN word (Q_OWED: the write to sync under always). A part's shard waits for
// every part it queued to be written only before it writes anything (its later effects come
// after the blocks: the flush hook and notifyProducer call awaitGroup), before it queues for
// another last shard, and before a move; under `appendfsync always` it then owes the blocks' sync
// (aofDebt) before its replies leave. No deadlock, by the moves' argument: a shard waits only for
// shards at records before the one it stands at, or at it; a full queue only for its reader to
// reach groups before this one; and the last shard writes each block as soon as it has its parts.
// A waiting until the last shard took each part, as a move's source does, cost a third of the
// rate under always on 2 CPUs (bench/aof-txn.ts). A shard that dies loses its queue with it:
// its new life starts an empty one, and parts it had queued for a dead last shard are logged
// back where they were (relog).

/**
 * The group in an __exec meta: u32 k, then k shards and k death counts (u32 each). No id: a part
 * is known by its place in its shard's queue.
 */
export function groupMeta (shards: readonly number[], deaths: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(4 + shards.length * 8)
  b.writeUInt32LE(shards.length, 0)
  for (let i = 0; i < shards.length; i++) {
    b.writeUInt32LE(shards[i] >>> 0, 4 + i * 4)
    b.writeUInt32LE(deaths[i] >>> 0, 4 + (shards.length + i) * 4)
  }
  return b
}

/** What a part hands over: its bytes (the unwritten earlier effects, `pending` of them, then the part's) and how to log them. */
export interface GroupPart { bytes: Buffer, pending: number, units: number, n: number, db: number, end: number }

/** A part queued in the outbox, kept here until its block is written: `seq` is its number among this shard's parts. */
interface SentPart extends GroupPart { seq: number }

// The queue's entry header: u32 bytes, pending, units, n, db, end.
const ENTRY_HEADER = 24
const entryHead = new Uint8Array(ENTRY_HEADER)
const entryWords = new Uint32Array(entryHead.buffer)

// The parts this shard queued whose block is not known to be written, all to one last shard
// (`awaitLast`, at death count `awaitDeaths`); kept to log here if that shard dies first.
let awaitLast = -1
let awaitDeaths = 0
/** Parts this shard has queued, ever (Q_WRITTEN counts those written, in the same order). */
let partsSent = 0
const awaitParts: SentPart[] = []

/**
 * Waits until the blocks with the parts this shard queued are written, then owes their sync
 * (appendfsync always). If their last shard died first, the parts it had not written are lost
 * with its ring: this shard logs them itself, in order, as if they had never left, and empties
 * the queue.
 */
export function awaitGroup (): void {
  if (awaitLast < 0) return
  const w = words as Int32Array
  const o = selfIndex * XMOVE_WORDS
  let isWritten = true
  for (;;) {
    const written = Atomics.load(w, o + Q_WRITTEN)
    if (((partsSent - written) | 0) <= 0) break
    if (!waitFor(w, o + Q_WRITTEN, written, CHANGED, awaitLast, awaitDeaths)) { isWritten = false; break }
  }
  if (isWritten) {
    const owed = Atomics.load(w, o + Q_OWED)
    if (owed > 0) owe(owed, shardAof.fd)
  } else {
    const done = Atomics.load(w, o + Q_WRITTEN)
    relog(awaitParts.filter(p => ((p.seq - done) | 0) > 0))
    // The dead shard's unread entries go with it; its replacement starts on an empty queue.
    Atomics.store(w, o + Q_TAIL, Atomics.load(w, o + Q_HEAD))
    Atomics.store(w, o + Q_WRITTEN, partsSent)
  }
  awaitLast = -1
  awaitParts.length = 0
}

/**
 * Parts whose last shard died before their block was written: they go back to the front of this
 * shard's log, in order, ahead of what it logged after them (each part after the bytes it carried).
 */
function relog (parts: readonly GroupPart[]): void {
  const tmp = new AofLog(1024)
  let units = 0
  for (const p of parts) {
    if (p.pending > 0) { tmp.rawChunk(p.bytes.subarray(0, p.pending)); units += p.units }
    if (p.n > 0) tmp.raw(p.db, p.bytes.subarray(p.pending), p.n, p.end)
  }
  shardAof.log.adopt(tmp.buf.subarray(0, tmp.len), units)
}

/**
 * A part (not the last shard's): queues `part` for shard `last` in this shard's outbox and goes
 * on; it waits only when the queue is full, until the last shard has read enough of it.
 */
export function groupHandOver (self: number, last: number, deaths: number, part: GroupPart): void {
  const w = words as Int32Array
  // The queue has one reader: parts for another last shard (or a new one in a dead one's place)
  // wait until it is drained. Blocks of two last shards could be written in either order too.
  if (awaitLast >= 0 && (awaitLast !== last || awaitDeaths !== deaths)) awaitGroup()
  // A last shard that died since staging lost its record of the group with its ring: the part
  // stays here, in this shard's order.
  if (Atomics.load(w, deathAt(last)) !== deaths) { relog([part]); return }
  const o = self * XMOVE_WORDS
  // Drained (no part outstanding) or already this reader's: another shard's group may reach its
  // read of this queue before this shard queues its part, and must not take one meant for another.
  Atomics.store(w, o + Q_READER, last)
  entryWords[0] = part.bytes.length
  entryWords[1] = part.pending
  entryWords[2] = part.units
  entryWords[3] = part.n
  entryWords[4] = part.db
  entryWords[5] = part.end
  const sent: SentPart = { ...part, seq: (partsSent + 1) | 0 }
  awaitLast = last
  awaitDeaths = deaths
  awaitParts.push(sent)
  partsSent = sent.seq
  if (!enqueue(w, o, self, entryHead, last, deaths) || !enqueue(w, o, self, part.bytes, last, deaths)) awaitGroup()
}

/** Copies `src` into shard s's queue, waiting for room; false if the reader died. */
function enqueue (w: Int32Array, o: number, s: number, src: Uint8Array, reader: number, deaths: number): boolean {
  const area = payload as Uint8Array
  const at = s * XMOVE_CHUNK
  let done = 0
  while (done < src.length) {
    const head = Atomics.load(w, o + Q_HEAD)
    const tail = Atomics.load(w, o + Q_TAIL)
    const room = XMOVE_CHUNK - ((head - tail) | 0)
    if (room === 0) {
      if (!waitFor(w, o + Q_TAIL, tail, CHANGED, reader, deaths)) return false
      continue
    }
    const pos = (head >>> 0) % XMOVE_CHUNK
    const k = Math.min(room, src.length - done, XMOVE_CHUNK - pos)
    area.set(src.subarray(done, done + k), at + pos)
    done += k
    Atomics.store(w, o + Q_HEAD, (head + k) | 0)
    Atomics.notify(w, o + Q_HEAD)
  }
  return true
}

/** Fills `dst` from shard s's queue, waiting for its bytes; false if s died. */
function dequeue (w: Int32Array, o: number, s: number, dst: Uint8Array, deaths: number): boolean {
  const area = payload as Uint8Array
  const at = s * XMOVE_CHUNK
  let done = 0
  while (done < dst.length) {
    const head = Atomics.load(w, o + Q_HEAD)
    const tail = Atomics.load(w, o + Q_TAIL)
    const avail = (head - tail) | 0
    if (avail === 0) {
      if (!waitFor(w, o + Q_HEAD, head, CHANGED, s, deaths)) return false
      continue
    }
    const pos = (tail >>> 0) % XMOVE_CHUNK
    const k = Math.min(avail, dst.length - done, XMOVE_CHUNK - pos)
    dst.set(area.subarray(at + pos, at + pos + k), done)
    done += k
    Atomics.store(w, o + Q_TAIL, (tail + k) | 0)
    Atomics.notify(w, o + Q_TAIL)
  }
  return true
}

const takeHead = new Uint8Array(ENTRY_HEADER)
const takeWords = new Uint32Array(takeHead.buffer)

/**
 * The last shard: reads shard s's part of the group it stands at, the next entry of s's queue
 * (null if s died). Each part shard queues its parts in the global order, the order this shard
 * meets them.
 */
export function groupTake (self: number, s: number, deaths: number): GroupPart | null {
  const w = words as Int32Array
  const o = s * XMOVE_WORDS
  // Until s queues this part, what its queue holds (if anything) is another shard's: s may have
  // groups with other last shards before this one, each queued once the queue is drained. Once
  // this shard is the reader and a byte is there, it is this part's, and stays so until read.
  for (;;) {
    const head = Atomics.load(w, o + Q_HEAD)
    if (Atomics.load(w, o + Q_READER) === self && head !== Atomics.load(w, o + Q_TAIL)) break
    if (!waitFor(w, o + Q_HEAD, head, CHANGED, s, deaths)) return null
  }
  // The entry is this group's: a queue has one reader at a time, and its writer queues in the
  // order every shard meets the groups.
  if (!dequeue(w, o, s, takeHead, deaths)) return null
  const bytes = Buffer.allocUnsafe(takeWords[0])
  if (!dequeue(w, o, s, bytes, deaths)) return null
  return { bytes, pending: takeWords[1], units: takeWords[2], n: takeWords[3], db: takeWords[4], end: takeWords[5] }
}

/**
 * The last shard wrote the block with shard s's next part; `owed`: the write number to sync under
 * always (0: none). Not counted if s died since the group was staged (`deaths`): its new life
 * counts its own parts from 0.
 */
export function groupWritten (s: number, deaths: number, owed: number): void {
  const w = words as Int32Array
  if (Atomics.load(w, deathAt(s)) !== deaths) return
  const o = s * XMOVE_WORDS
  Atomics.store(w, o + Q_OWED, owed)
  Atomics.add(w, o + Q_WRITTEN, 1)
  Atomics.notify(w, o + Q_WRITTEN)
}
