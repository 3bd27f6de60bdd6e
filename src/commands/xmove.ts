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
// An AOF group's part (below): its bytes are the unwritten earlier effects, then the part's.
const G_PENDING = 10 // bytes of unwritten earlier effects (a failed write kept them) at the start
const G_UNITS = 11 // their share of W_AOF_PENDING
const G_N = 12 // the part's commands
const G_DB = 13 // the database its bytes start in (their SELECT taken off)
const G_END = 14 // and end in
// In the group's last shard's own outbox, written by it alone:
const G_WRITTEN = 1 // blocks it has written (or tried to: a failed write keeps them in its log, in order)
const G_LAST_WRITE = 15 // the W_AOF_WRITES number of its last block (appendfsync always; 0: none)
/** The last shard has the part (its OWED word then holds the number of the block it goes into). */
const RESULT_TAKEN = 8

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
export function useXmoveExchange (sab: SharedArrayBuffer, spinUs = 0): void {
  words = xmoveWords(sab)
  payload = xmovePayload(sab)
  spinMs = Math.max(spinUs, XMOVE_SPIN_US) / 1000
  shardAofHooks.beforeFlush = awaitGroup
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
  }
}

/** Shard s's death count now (router.ts stages it in the other shard's meta). */
export function xmoveDeaths (w: Int32Array, s: number): number { return Atomics.load(w, deathAt(s)) }

/**
 * An exchange id (a move's or an AOF group's): the producer's count (23 bits, wrapping) and the
 * producer. A source serves one exchange at a time and clears its ID between them, so a wrapped
 * count can only meet one of its own 8 million exchanges back, never in flight with it.
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

/**
 * Waits until w[i] is `target` (exact) or at least it (a count); false if shard `peer` died since
 * the move was staged (its death count is no longer `deaths`). Watches the word for spinMs first.
 */
function waitFor (w: Int32Array, i: number, target: number, exact: boolean, peer: number, deaths: number): boolean {
  let spinUntil = spinMs > 0 ? performance.now() + spinMs : 0
  for (;;) {
    const v = Atomics.load(w, i)
    if (exact ? v === target : v >= target) return true
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
    if (!waitFor(w, o + SEQ_DST, n, false, dst, deaths)) { Atomics.store(w, o + ID, 0); out.raw(SHARD_DOWN); return }
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
  if (!waitFor(w, o + ID, id, true, src, deaths)) return
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
    if (n > 1 && !waitFor(w, o + SEQ_SRC, n, false, src, deaths)) return
    const k = Atomics.load(w, o + LEN)
    value.set(area.subarray(at, at + k), got)
    got += k
    if (Atomics.load(w, o + KIND) === KIND_LAST) {
      if ((flags & XMOVE_LIST) !== 0) { answer(n, logged(shard, argv, flags, o, pushElement(shard, argv, value, flags), value)); return }
      const err = restoreValue(shard, buf, start[1], len[1], value, 0, value.length, false)
      if (err === null) shard.notify(NOTIFY_GENERIC, isCopy ? EV_COPY_TO : EV_RENAME_TO, buf, start[1], len[1])
      // COPY's source changes nothing: the copy is the change that counts.
      if (err === null && isCopy) ownDirty.n = 1
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
// A transaction staged on several shards without a hold (server/multi.ts execSplit, execWatched)
// runs a part on each, at the same place in the global order. With the AOF on, its effects must
// reach the file as one MULTI/EXEC block (a crash between two shards' writes would keep half of
// it), in that place on every shard. So each part but the last shard's logs its effects as usual,
// takes them out of its log and hands them, after what its log held before them (not written yet,
// or kept by a failed write), to the group's last shard through its own outbox (the move exchange
// above, in chunks). The last shard puts those earlier bytes first, wraps its own part and the
// others' in one MULTI/EXEC, writes it all at once, then counts the block in its G_WRITTEN word. A part goes on as soon as its bytes are taken, and waits for that count
// only before its shard writes anything (its later effects come after the block: the flush hook
// and notifyProducer call awaitGroup), before it hands a part to another last shard, and before a
// move; under `appendfsync always` it then owes the block's sync (aofDebt) before its replies
// leave. No deadlock, by the moves' argument: a shard waits only for shards at records before
// the one it stands at, or at it; and the last shard writes each block as soon as it has its parts.

/** The group in an __exec meta: u32 id, u32 k, then k shards and k death counts (u32 each). */
export function groupMeta (id: number, shards: readonly number[], deaths: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(8 + shards.length * 8)
  b.writeUInt32LE(id >>> 0, 0)
  b.writeUInt32LE(shards.length, 4)
  for (let i = 0; i < shards.length; i++) {
    b.writeUInt32LE(shards[i] >>> 0, 8 + i * 4)
    b.writeUInt32LE(deaths[i] >>> 0, 8 + (shards.length + i) * 4)
  }
  return b
}

/** What a part hands over: its bytes and the G_ words' values. */
export interface GroupPart { bytes: Buffer, pending: number, units: number, n: number, db: number, end: number }

// The parts this shard handed over whose block is not known to be written: all to one last
// shard (`awaitLast`), the newest in its block `awaitBlock`; kept to log here if that shard dies.
let awaitLast = -1
let awaitDeaths = 0
let awaitBlock = 0
const awaitParts: GroupPart[] = []

/**
 * Waits until the blocks with the parts this shard handed over are written, then owes their sync
 * (appendfsync always). If their last shard died first, they are lost with its ring: this shard
 * logs them itself, in order, as if they had never left.
 */
export function awaitGroup (): void {
  if (awaitLast < 0) return
  const last = awaitLast
  awaitLast = -1
  const w = words as Int32Array
  const o = last * XMOVE_WORDS
  if (waitFor(w, o + G_WRITTEN, awaitBlock, false, last, awaitDeaths)) {
    const owed = Atomics.load(w, o + G_LAST_WRITE)
    if (owed > 0) owe(owed, shardAof.fd)
  } else {
    relog(awaitParts)
  }
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

/** A part (not the last shard's): hands `part` to shard `last` through this shard's outbox. */
export function groupHandOver (self: number, id: number, last: number, deaths: number, part: GroupPart): void {
  // Blocks of two last shards could be written in either order: the earlier one first.
  if (awaitLast >= 0 && awaitLast !== last) awaitGroup()
  const w = words as Int32Array
  const o = self * XMOVE_WORDS
  Atomics.store(w, o + SEQ_DST, 0)
  Atomics.store(w, o + RESULT, 0)
  Atomics.store(w, o + OWED, 0)
  Atomics.store(w, o + G_PENDING, part.pending)
  Atomics.store(w, o + G_UNITS, part.units)
  Atomics.store(w, o + G_N, part.n)
  Atomics.store(w, o + G_DB, part.db)
  Atomics.store(w, o + G_END, part.end)
  let sent = postChunk(w, o, self, part.bytes, 0)
  Atomics.store(w, o + SEQ_SRC, 1)
  Atomics.store(w, o + ID, id | 0)
  Atomics.notify(w, o + ID)
  for (let n = 1; ; n++) {
    if (!waitFor(w, o + SEQ_DST, n, false, last, deaths)) {
      // The last shard died before it took the part: it stays here, in this shard's order.
      Atomics.store(w, o + ID, 0)
      relog([part])
      return
    }
    if (Atomics.load(w, o + RESULT) !== 0) break
    sent = postChunk(w, o, self, part.bytes, sent)
    Atomics.store(w, o + SEQ_SRC, n + 1)
    Atomics.notify(w, o + SEQ_SRC)
  }
  awaitLast = last
  awaitDeaths = deaths
  awaitBlock = Atomics.load(w, o + OWED)
  awaitParts.push(part)
  Atomics.store(w, o + ID, 0)
}

/**
 * The last shard: waits for shard s to reach the group and takes its part (null if s died); the
 * part goes on, to find its block written as number `block` of this shard's.
 */
export function groupTake (s: number, id: number, deaths: number, block: number): GroupPart | null {
  const w = words as Int32Array
  const o = s * XMOVE_WORDS
  if (!waitFor(w, o + ID, id | 0, true, s, deaths)) return null
  const area = payload as Uint8Array
  const at = s * XMOVE_CHUNK
  const bytes = Buffer.allocUnsafe(Atomics.load(w, o + TOTAL))
  let got = 0
  for (let n = 1; ; n++) {
    if (n > 1 && !waitFor(w, o + SEQ_SRC, n, false, s, deaths)) return null
    const k = Atomics.load(w, o + LEN)
    bytes.set(area.subarray(at, at + k), got)
    got += k
    if (Atomics.load(w, o + KIND) === KIND_LAST) {
      const part = {
        bytes, pending: Atomics.load(w, o + G_PENDING), units: Atomics.load(w, o + G_UNITS), n: Atomics.load(w, o + G_N),
        db: Atomics.load(w, o + G_DB), end: Atomics.load(w, o + G_END),
      }
      Atomics.store(w, o + OWED, block)
      Atomics.store(w, o + RESULT, RESULT_TAKEN)
      Atomics.store(w, o + SEQ_DST, n)
      Atomics.notify(w, o + SEQ_DST)
      return part
    }
    Atomics.store(w, o + SEQ_DST, n)
    Atomics.notify(w, o + SEQ_DST)
  }
}

/** The last shard: the number its next block will have (parts are told it as they are taken). */
export function groupNextBlock (self: number): number {
  return Atomics.load(words as Int32Array, self * XMOVE_WORDS + G_WRITTEN) + 1
}

/** The last shard wrote its next block; `owed`: the write number to sync under always (0: none). */
export function groupWritten (self: number, owed: number): void {
  const w = words as Int32Array
  const o = self * XMOVE_WORDS
  Atomics.store(w, o + G_LAST_WRITE, owed)
  Atomics.add(w, o + G_WRITTEN, 1)
  Atomics.notify(w, o + G_WRITTEN)
}
