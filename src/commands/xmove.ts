// RENAME and RENAMENX across two shards without a transaction hold: the router stages one
// __xmove record on each shard in one step (ticketed like a split MSET), and the two shards meet
// at that record through the source shard's outbox in shared memory (server/credits.ts): the
// source hands over the value, the destination stores it and says whether it could, and only
// then does the source delete its key. Each shard changes its key exactly at the record's place
// in the global order, so no other client's command can see both keys or neither, as with the
// hold (test/integration/atomic.test.ts). The hold costs four thread wake-ups and four
// structured-clone messages per command, with the coordination on the producer's thread; here
// the shards' own threads do all of it, and every hook of a local write (WATCH, tracking,
// blocked clients, snapshots) runs where it always does.
//
// No deadlock: a shard waits only for the other shard of the record it stands at, and every
// shard reaches records in the one global order, as with the verdict cells of a watched EXEC.
// A shard that dies while the other waits makes the waiter give up (the death counters, bumped
// by every producer's shardDown): nothing is deleted, and the command gets CLUSTERDOWN.
//
// Only without keyspace events and without the append-only file (router.ts checks at staging):
// the hold keeps Redis's event order and the AOF's one MULTI/EXEC block there. If either is
// turned on while a move is in flight, its parts still emit their events and log their keys'
// states, each on its own shard.
//
// __xmove mykey otherkey meta: meta is 20 bytes, u32 LE each: the move's id (never 0), its
// producer's id, the other shard's index, flags (XMOVE_SRC: this is the source; XMOVE_NX), and
// the other shard's death count when the move was staged: a shard that died since then lost its
// part with its ring (server.ts shardDown), so a wait for it would never end.

import { Buffer } from 'node:buffer'
import type { Argv, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { xmoveWords, xmovePayload, XMOVE_WORDS, XMOVE_CHUNK, XMOVE_SHARDS } from '../server/credits.js'
import { valuePayload, restoreValue, readU32 } from './internal.js'
import { OK, ZERO, ONE } from '../protocol/replies.js'
import { NO_SUCH_KEY, SHARD_DOWN, OOM } from '../protocol/errors.js'
import { NOTIFY_GENERIC, eventName } from '../storage/notify.js'

export const XMOVE_SRC = 1
export const XMOVE_NX = 2

// Outbox words, at shard * XMOVE_WORDS.
const ID = 0 // the move the outbox serves now (0: none)
const PRODUCER = 1
const SEQ_SRC = 2 // messages the source has posted
const SEQ_DST = 3 // messages the destination has posted
const KIND = 4 // the source's last message
const LEN = 5 // payload bytes of this chunk
const TOTAL = 6 // payload bytes of the whole value
const PRE = 7 // the destination's arrival: whether the destination key exists
const RESULT = 8 // the destination's answer to the last chunk

const KIND_MISSING = 1
const KIND_CHUNK = 2
const KIND_LAST = 3
const PRE_EXISTS = 1
const PRE_ABSENT = 2
const RESULT_DONE = 1
const RESULT_OOM = 2

/** Bound on one sleep: waits re-check the other shard's death counter this often. */
const WAIT_MS = 20

let words: Int32Array | null = null
let payload: Uint8Array | null = null

/** The exchange of the credits buffer every thread shares (set once per shard thread). */
export function useXmoveExchange (sab: SharedArrayBuffer): void {
  words = xmoveWords(sab)
  payload = xmovePayload(sab)
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

/** The meta bytes of an __xmove record. */
export function xmoveMeta (id: number, producer: number, other: number, flags: number, otherDeaths: number): Buffer {
  const b = Buffer.allocUnsafe(20)
  b.writeUInt32LE(id >>> 0, 0)
  b.writeUInt32LE(producer >>> 0, 4)
  b.writeUInt32LE(other >>> 0, 8)
  b.writeUInt32LE(flags >>> 0, 12)
  b.writeUInt32LE(otherDeaths >>> 0, 16)
  return b
}

/**
 * Waits until w[i] reaches at least `target` (as a count); false if shard `peer` died meanwhile.
 */
function waitCount (w: Int32Array, i: number, target: number, peer: number, deaths: number): boolean {
  for (;;) {
    const v = Atomics.load(w, i)
    if (v >= target) return true
    if (Atomics.load(w, deathAt(peer)) !== deaths) return false
    Atomics.wait(w, i, v, WAIT_MS)
  }
}

/** __xmove's handler, on either shard (see the top of the file). */
export function xmoveCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start } = argv
  const m = start[3]
  const id = readU32(buf, m) | 0
  const producer = readU32(buf, m + 4) | 0
  const other = readU32(buf, m + 8)
  const flags = readU32(buf, m + 12)
  const deaths = readU32(buf, m + 16) | 0
  if ((flags & XMOVE_SRC) !== 0) source(shard, argv, out, id, producer, other, (flags & XMOVE_NX) !== 0, deaths)
  else destination(shard, argv, out, id, producer, other, (flags & XMOVE_NX) !== 0, deaths)
}

function source (shard: Shard, argv: Argv, out: ReplyWriter, id: number, producer: number, dst: number, nx: boolean, deaths: number): void {
  const w = words as Int32Array
  const { buf, start, len } = argv
  const o = shard.index * XMOVE_WORDS
  // The outbox is idle (this shard finished every earlier move): reset it, then name the move.
  Atomics.store(w, o + SEQ_SRC, 0)
  Atomics.store(w, o + SEQ_DST, 0)
  Atomics.store(w, o + KIND, 0)
  Atomics.store(w, o + PRE, 0)
  Atomics.store(w, o + RESULT, 0)
  Atomics.store(w, o + PRODUCER, producer)
  Atomics.store(w, o + ID, id)
  Atomics.notify(w, o + ID)
  const done = (reply: Uint8Array): void => {
    Atomics.store(w, o + ID, 0)
    out.raw(reply)
  }
  // The destination's arrival says whether its key exists (RENAMENX's answer).
  if (!waitCount(w, o + SEQ_DST, 1, dst, deaths)) { done(SHARD_DOWN); return }
  const isDstThere = Atomics.load(w, o + PRE) === PRE_EXISTS
  const e = shard.lookup(buf, start[1], len[1])
  if (e === 0) {
    Atomics.store(w, o + KIND, KIND_MISSING)
    Atomics.store(w, o + SEQ_SRC, 1)
    Atomics.notify(w, o + SEQ_SRC)
    // A RENAMENX destination that found its key has gone already; otherwise it reads this first.
    if (!(nx && isDstThere) && !waitCount(w, o + SEQ_DST, 2, dst, deaths)) { done(SHARD_DOWN); return }
    done(NO_SUCH_KEY)
    return
  }
  if (nx && isDstThere) { done(ZERO); return }
  const value = valuePayload(shard.ks, e)
  const area = payload as Uint8Array
  const at = shard.index * XMOVE_CHUNK
  let sent = 0
  let n = 0
  do {
    const k = Math.min(XMOVE_CHUNK, value.length - sent)
    area.set(value.subarray(sent, sent + k), at)
    sent += k
    n++
    Atomics.store(w, o + LEN, k)
    Atomics.store(w, o + TOTAL, value.length)
    Atomics.store(w, o + KIND, sent === value.length ? KIND_LAST : KIND_CHUNK)
    Atomics.store(w, o + SEQ_SRC, n)
    Atomics.notify(w, o + SEQ_SRC)
    // The destination took the chunk (the last: stored the value, or could not).
    if (!waitCount(w, o + SEQ_DST, n + 1, dst, deaths)) { done(SHARD_DOWN); return }
  } while (sent < value.length)
  const result = Atomics.load(w, o + RESULT)
  if (result !== RESULT_DONE) { done(result === RESULT_OOM ? OOM : SHARD_DOWN); return }
  shard.ks.remove(e)
  shard.notify(NOTIFY_GENERIC, EV_RENAME_FROM, buf, start[1], len[1])
  done(nx ? ONE : OK)
}

function destination (shard: Shard, argv: Argv, out: ReplyWriter, id: number, producer: number, src: number, nx: boolean, deaths: number): void {
  const w = words as Int32Array
  const { buf, start, len } = argv
  const o = src * XMOVE_WORDS
  // The part's own reply is not the command's (the source's is): +OK whatever happens here.
  out.raw(OK)
  // Wait for the source to reach this move.
  for (;;) {
    const v = Atomics.load(w, o + ID)
    if (v === id && Atomics.load(w, o + PRODUCER) === producer) break
    if (Atomics.load(w, deathAt(src)) !== deaths) return
    Atomics.wait(w, o + ID, v, WAIT_MS)
  }
  const isThere = shard.lookup(buf, start[1], len[1]) !== 0
  Atomics.store(w, o + PRE, isThere ? PRE_EXISTS : PRE_ABSENT)
  Atomics.store(w, o + SEQ_DST, 1)
  Atomics.notify(w, o + SEQ_DST)
  if (nx && isThere) return
  const area = payload as Uint8Array
  const at = src * XMOVE_CHUNK
  let value: Buffer | null = null
  let got = 0
  for (let n = 1; ; n++) {
    if (!waitCount(w, o + SEQ_SRC, n, src, deaths)) return
    const kind = Atomics.load(w, o + KIND)
    if (kind === KIND_MISSING) {
      Atomics.store(w, o + SEQ_DST, n + 1)
      Atomics.notify(w, o + SEQ_DST)
      return
    }
    const k = Atomics.load(w, o + LEN)
    if (value === null) value = Buffer.allocUnsafe(Atomics.load(w, o + TOTAL))
    value.set(area.subarray(at, at + k), got)
    got += k
    if (kind === KIND_LAST) {
      const err = restoreValue(shard, buf, start[1], len[1], value, 0, value.length, false)
      Atomics.store(w, o + RESULT, err === null ? RESULT_DONE : RESULT_OOM)
      if (err === null) shard.notify(NOTIFY_GENERIC, EV_RENAME_TO, buf, start[1], len[1])
    }
    Atomics.store(w, o + SEQ_DST, n + 1)
    Atomics.notify(w, o + SEQ_DST)
    if (kind === KIND_LAST) return
  }
}

const EV_RENAME_FROM = eventName('rename_from')
const EV_RENAME_TO = eventName('rename_to')

export const xmoveCommands: readonly CommandSpec[] = [
  // The key of this shard is argv[1]: WATCH touches, snapshots and the AOF's key state follow it.
  { name: '__xmove', arity: 4, flags: ['write'], firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '', summary: '', complexity: '', internal: true, run: xmoveCommand },
]
