// What every I/O thread must see alike, in one SharedArrayBuffer: client ids, the connected
// client count (maxclients holds across threads), the settings CONFIG SET changes, and each
// thread's counters, which INFO and /metrics add up. With one I/O thread it is the same, with
// one row of counters.

import { Buffer } from 'node:buffer'
import type { ServerSettings, ServerStats } from '../commands/spec.js'
import { commands } from '../commands/table.js'
import { HASH_ENTRIES_WORD, HASH_VALUE_WORD, SET_INTSET_WORD, ZSET_ENTRIES_WORD, ZSET_VALUE_WORD } from './credits.js'
import { LAZY_USER_DEL_WORD, BACKGROUND_WORD, EXPIRE_EFFORT_WORD, LIST_FILL_WORD, listFill, HZ_WORD, hzOf, HLL_SPARSE_WORD, PASSWORD_MAX, POLICY_WORD, SAMPLES_WORD, LFU_LOG_FACTOR_WORD, LFU_DECAY_TIME_WORD, TENACITY_WORD } from '../ipc/layout.js'
import { setMaxmemoryWords } from '../storage/eviction.js'
import { Acl, SharedText, ACL_USERS_BYTES, ACL_LOG_BYTES } from './acl.js'

// Int32 words.
const NEXT_CLIENT_ID = 0
const CONNECTED = 1
/**
 * The running script's state (scripting/scripts.ts SCRIPT_BUSY, SCRIPT_WROTE, SCRIPT_KILLED): 0
 * until a script passes busy-reply-threshold. Every thread's router answers BUSY while it is set,
 * and SCRIPT KILL on any thread asks the script's own thread to stop it here.
 */
const SCRIPT_STATE = 2
/** Then one word per I/O thread: its Linux thread id (INFO shards, bench --cpu). */
const TIDS = 3

// Float64 settings.
const SET_MAXCLIENTS = 0
const SET_TIMEOUT = 1
const SET_KEEPALIVE = 2
const SET_QUERY_LIMIT = 3
const SET_MAXMEMORY = 4
/** CLIENT PAUSE: until when (unix ms, 0 = not paused), and what (PAUSE_WRITE or PAUSE_ALL). */
const SET_PAUSE_END = 5
const SET_PAUSE_TYPE = 6
/** client-output-buffer-limit: hard, soft, soft seconds for normal, replica and pubsub clients. */
const SET_OBUF = 7
/** busy-reply-threshold, up to LONG_MAX: high and low 32 bits, each exact in a double. */
const SET_BUSY_REPLY = 16
/** LASTSAVE's unix seconds. */
const SET_LASTSAVE = 18
const SET_RDB_SAVES = 19
/** protected-mode (1 = yes). */
const SET_PROTECTED = 20
const SETTINGS = 21
export const PAUSE_WRITE = 1
export const PAUSE_ALL = 2

/** Per-thread counters (Float64), one row per I/O thread. */
export const CONNECTIONS_RECEIVED = 0
export const REJECTED = 1
export const NET_INPUT = 2
export const NET_OUTPUT = 3
export const COMMANDS = 4
export const REPLY_WAITS = 5
export const REPLY_WAIT_TIMEOUTS = 6
export const PARKED_NOW = 7
export const PARKED_TOTAL = 8
export const LOCAL_ERRORS = 9
/** Clients waiting in a blocking command whose keys span shards (server/blocking.ts): a gauge. */
export const CROSS_BLOCKED = 10
/** INFO's total_reads_processed / total_writes_processed: read callbacks, and writes of replies. */
export const READS_PROCESSED = 11
export const WRITES_PROCESSED = 12
/** Gauges: this thread's biggest query buffer and pending replies of the last 8 seconds (INFO's client_recent_max_*). */
export const RECENT_MAX_INPUT = 13
export const RECENT_MAX_OUTPUT = 14
/** Gauge: clients blocked across shards with a timeout (INFO's clients_in_timeout_table). */
export const CROSS_BLOCKED_TIMED = 15
/**
 * noeviction's refusals on this thread (Router.overMaxmemory): since when (epoch ms) a write was
 * refused over maxmemory with no write let through since (0: none), and the ms of the spells
 * that ended (INFO's *_eviction_exceeded_time; the shards keep their own for the other policies).
 */
export const EXCEEDED_SINCE = 16
export const EXCEEDED_MS = 17
/** RENAME/RENAMENX staged as a move between two shards (commands/xmove.ts): INFO's cross_shard_moves. */
export const XMOVES = 18
const COUNTERS = 19
/** What CONFIG RESETSTAT leaves: the gauges. */
const GAUGES = [PARKED_NOW, CROSS_BLOCKED, RECENT_MAX_INPUT, RECENT_MAX_OUTPUT, CROSS_BLOCKED_TIMED]
/**
 * The command latency histogram (/metrics), per thread: one count per bucket of LATENCY_BOUNDS,
 * one past the last bound, then the sum of seconds and the count: every thread samples its own
 * shard replies, and /metrics adds the rows up.
 */
export const LATENCY_BOUNDS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1]
const LATENCY_WORDS = LATENCY_BOUNDS.length + 3

export class SharedState {
  readonly sab: SharedArrayBuffer
  private readonly ints: Int32Array
  private readonly settingsWords: Float64Array
  /** counters[thread * COUNTERS + field] */
  private readonly counters: Float64Array
  /** calls[thread * commands.length + command id] */
  private readonly callWords: Float64Array
  /** latency[thread * LATENCY_WORDS + word] */
  private readonly latencyWords: Float64Array
  /** requirepass: [length] then its bytes. */
  private readonly passLen: Int32Array
  private readonly passBytes: Uint8Array
  /** This thread's ACL users over the shared rules and log (server/acl.ts). */
  readonly acl: Acl

  constructor (readonly threads: number, sab?: SharedArrayBuffer) {
    const settingsAt = Math.ceil((TIDS + threads) * 4 / 8) * 8
    const countersAt = settingsAt + SETTINGS * 8
    const callsAt = countersAt + threads * COUNTERS * 8
    const latencyAt = callsAt + threads * commands.length * 8
    const passAt = latencyAt + threads * LATENCY_WORDS * 8
    // Then the ACL regions: the default user's auth-required word, the users' rules, the log.
    // [auth required, acl-pubsub-default allchannels] words, then acllog-max-len as a double.
    const authAt = Math.ceil((passAt + 4 + PASSWORD_MAX) / 8) * 8
    const usersAt = authAt + 16
    const logAt = usersAt + SharedText.bytesFor(ACL_USERS_BYTES)
    const bytes = logAt + SharedText.bytesFor(ACL_LOG_BYTES)
    this.sab = sab ?? new SharedArrayBuffer(bytes)
    this.acl = new Acl(new SharedText(this.sab, usersAt, ACL_USERS_BYTES), new SharedText(this.sab, logAt, ACL_LOG_BYTES), new Int32Array(this.sab, authAt, 2), new Float64Array(this.sab, authAt + 8, 1))
    this.passLen = new Int32Array(this.sab, passAt, 1)
    this.passBytes = new Uint8Array(this.sab, passAt + 4, PASSWORD_MAX)
    this.ints = new Int32Array(this.sab, 0, TIDS + threads)
    this.settingsWords = new Float64Array(this.sab, settingsAt, SETTINGS)
    this.counters = new Float64Array(this.sab, countersAt, threads * COUNTERS)
    this.latencyWords = new Float64Array(this.sab, latencyAt, threads * LATENCY_WORDS)
    this.callWords = new Float64Array(this.sab, callsAt, threads * commands.length)
  }

  /** The requirepass length word alone (0 = none): the router reads it for unauthenticated clients. */
  passwordWord (): Int32Array { return this.passLen }

  get password (): Buffer { return Buffer.from(this.passBytes.subarray(0, Atomics.load(this.passLen, 0))) }

  /**
   * Sets requirepass on every thread at once, and makes it the default user's one password as
   * Redis does (nopass when empty); false when it is longer than PASSWORD_MAX.
   */
  setPassword (b: Uint8Array): boolean {
    if (b.length > PASSWORD_MAX) return false
    Atomics.store(this.passLen, 0, 0)
    this.passBytes.set(b)
    Atomics.store(this.passLen, 0, b.length)
    this.acl.setDefaultPassword(b)
    return true
  }

  /** 1 while the default user needs a password (or is off): unauthenticated clients get NOAUTH. */
  authWord (): Int32Array { return this.acl.authWord }

  setTid (thread: number, tid: number): void { Atomics.store(this.ints, TIDS + thread, tid) }
  tid (thread: number): number { return Atomics.load(this.ints, TIDS + thread) }

  /** Redis's client ids: unique across threads, from 1. */
  nextClientId (): number { return Atomics.add(this.ints, NEXT_CLIENT_ID, 1) + 1 }

  /** Counts a new connection unless that would pass maxclients; false when full. */
  tryConnect (): boolean {
    const max = this.settingsWords[SET_MAXCLIENTS]
    for (;;) {
      const n = Atomics.load(this.ints, CONNECTED)
      if (n >= max) return false
      if (Atomics.compareExchange(this.ints, CONNECTED, n, n + 1) === n) return true
    }
  }

  disconnected (): void { Atomics.sub(this.ints, CONNECTED, 1) }

  get connected (): number { return Atomics.load(this.ints, CONNECTED) }

  /** Sets the starting values, once, on the thread that made the buffer. */
  initSettings (init: Readonly<ServerSettings>): void {
    const w = this.settingsWords
    w[SET_MAXCLIENTS] = init.maxclients
    w[SET_TIMEOUT] = init.timeoutSec
    w[SET_KEEPALIVE] = init.tcpKeepaliveSec
    w[SET_QUERY_LIMIT] = init.queryBufferLimit
    w[SET_MAXMEMORY] = init.maxmemory
    w.set(init.outputBufferLimits, SET_OBUF)
    w[SET_BUSY_REPLY] = Number(init.busyReplyThresholdMs >> 32n)
    w[SET_BUSY_REPLY + 1] = Number(init.busyReplyThresholdMs & 0xffffffffn)
    w[SET_LASTSAVE] = init.lastSaveSec
    w[SET_PROTECTED] = init.protectedMode ? 1 : 0
  }

  /** The CLIENT PAUSE words [end, type], read by every thread's router before each command. */
  pauseWords (): Float64Array { return this.settingsWords.subarray(SET_PAUSE_END, SET_PAUSE_TYPE + 1) }

  /** The script-state word alone (one Int32 word), for the router's per-command BUSY check. */
  scriptWord (): Int32Array { return this.ints.subarray(SCRIPT_STATE, SCRIPT_STATE + 1) }
  /** busy-reply-threshold's words (high, low 32 bits), for scripts run inside a shard worker. */
  busyReplyWords (): Float64Array { return this.settingsWords.subarray(SET_BUSY_REPLY, SET_BUSY_REPLY + 2) }
  /** LASTSAVE's unix seconds, for scripts run inside a shard worker. */
  lastSaveWord (): Float64Array { return this.settingsWords.subarray(SET_LASTSAVE, SET_LASTSAVE + 1) }

  /** The maxmemory word alone, for the router's per-command check (a typed-array read, no getter). */
  maxmemoryWord (): Float64Array { return this.settingsWords.subarray(SET_MAXMEMORY, SET_MAXMEMORY + 1) }

  /** Settings backed by the shared words: a CONFIG SET on any thread is seen by all at once. */
  settings (flags: Int32Array = new Int32Array(32)): ServerSettings {
    const w = this.settingsWords
    return {
      // In the credits buffer (server/credits.ts sharedFlags): the shards read it too.
      get notifyKeyspaceEvents () { return flags[0] },
      set notifyKeyspaceEvents (v: number) { Atomics.store(flags, 0, v) },
      get hashMaxListpackEntries () { return wordsGet(flags, HASH_ENTRIES_WORD) },
      set hashMaxListpackEntries (v: bigint) { wordsSet(flags, HASH_ENTRIES_WORD, v) },
      get hashMaxListpackValue () { return wordsGet(flags, HASH_VALUE_WORD) },
      set hashMaxListpackValue (v: bigint) { wordsSet(flags, HASH_VALUE_WORD, v) },
      get setMaxIntsetEntries () { return wordsGet(flags, SET_INTSET_WORD) },
      set setMaxIntsetEntries (v: bigint) { wordsSet(flags, SET_INTSET_WORD, v) },
      get zsetMaxListpackEntries () { return wordsGet(flags, ZSET_ENTRIES_WORD) },
      set zsetMaxListpackEntries (v: bigint) { wordsSet(flags, ZSET_ENTRIES_WORD, v) },
      get zsetMaxListpackValue () { return wordsGet(flags, ZSET_VALUE_WORD) },
      set zsetMaxListpackValue (v: bigint) { wordsSet(flags, ZSET_VALUE_WORD, v) },
      get hllSparseMaxBytes () { return wordsGet(flags, HLL_SPARSE_WORD) },
      set hllSparseMaxBytes (v: bigint) { wordsSet(flags, HLL_SPARSE_WORD, v) },
      get lazyfreeLazyUserDel () { return Atomics.load(flags, LAZY_USER_DEL_WORD) !== 0 },
      set lazyfreeLazyUserDel (v: boolean) { Atomics.store(flags, LAZY_USER_DEL_WORD, v ? 1 : 0) },
      get backgroundFlags () { return Atomics.load(flags, BACKGROUND_WORD) },
      set backgroundFlags (v: number) { Atomics.store(flags, BACKGROUND_WORD, v) },
      // Stored so that a zeroed word holds Redis's default: the effort less one, the size xor -2.
      get activeExpireEffort () { return Atomics.load(flags, EXPIRE_EFFORT_WORD) + 1 },
      set activeExpireEffort (v: number) { Atomics.store(flags, EXPIRE_EFFORT_WORD, v - 1) },
      get listMaxListpackSize () { return listFill(flags) },
      set listMaxListpackSize (v: number) { Atomics.store(flags, LIST_FILL_WORD, v ^ -2) },
      get hz () { return hzOf(flags) },
      set hz (v: number) { Atomics.store(flags, HZ_WORD, v) },
      get maxclients () { return w[SET_MAXCLIENTS] },
      set maxclients (v: number) { w[SET_MAXCLIENTS] = v },
      get timeoutSec () { return w[SET_TIMEOUT] },
      set timeoutSec (v: number) { w[SET_TIMEOUT] = v },
      get tcpKeepaliveSec () { return w[SET_KEEPALIVE] },
      set tcpKeepaliveSec (v: number) { w[SET_KEEPALIVE] = v },
      get queryBufferLimit () { return w[SET_QUERY_LIMIT] },
      set queryBufferLimit (v: number) { w[SET_QUERY_LIMIT] = v },
      get busyReplyThresholdMs () { return (BigInt(w[SET_BUSY_REPLY]) << 32n) | BigInt(w[SET_BUSY_REPLY + 1]) },
      set busyReplyThresholdMs (v: bigint) { w[SET_BUSY_REPLY] = Number(v >> 32n); w[SET_BUSY_REPLY + 1] = Number(v & 0xffffffffn) },
      get lastSaveSec () { return w[SET_LASTSAVE] },
      set lastSaveSec (v: number) { w[SET_LASTSAVE] = v },
      get protectedMode () { return w[SET_PROTECTED] !== 0 },
      set protectedMode (v: boolean) { w[SET_PROTECTED] = v ? 1 : 0 },
      get rdbSaves () { return w[SET_RDB_SAVES] },
      set rdbSaves (v: number) { w[SET_RDB_SAVES] = v },
      get maxmemory () { return w[SET_MAXMEMORY] },
      // The shards read it too (each evicts down to its share): a copy in the shared flags.
      set maxmemory (v: number) { w[SET_MAXMEMORY] = v; setMaxmemoryWords(flags, v) },
      get maxmemoryPolicy () { return Atomics.load(flags, POLICY_WORD) },
      set maxmemoryPolicy (v: number) { Atomics.store(flags, POLICY_WORD, v) },
      get maxmemorySamples () { return Atomics.load(flags, SAMPLES_WORD) },
      set maxmemorySamples (v: number) { Atomics.store(flags, SAMPLES_WORD, v) },
      get lfuLogFactor () { return Atomics.load(flags, LFU_LOG_FACTOR_WORD) },
      set lfuLogFactor (v: number) { Atomics.store(flags, LFU_LOG_FACTOR_WORD, v) },
      get lfuDecayTime () { return Atomics.load(flags, LFU_DECAY_TIME_WORD) },
      set lfuDecayTime (v: number) { Atomics.store(flags, LFU_DECAY_TIME_WORD, v) },
      get evictionTenacity () { return Atomics.load(flags, TENACITY_WORD) },
      set evictionTenacity (v: number) { Atomics.store(flags, TENACITY_WORD, v) },
      outputBufferLimits: w.subarray(SET_OBUF, SET_OBUF + 9),
    }
  }

  /** This thread's row of counters (plain stores: only this thread writes it). */
  row (thread: number): Float64Array {
    return this.counters.subarray(thread * COUNTERS, (thread + 1) * COUNTERS)
  }

  /** ServerStats over a row, for the code that bumps them by name. */
  static statsOf (row: Float64Array): ServerStats {
    return new RowStats(row)
  }

  /** A counter summed over every thread. */
  sum (field: number): number {
    let n = 0
    for (let t = 0; t < this.threads; t++) n += this.counters[t * COUNTERS + field]
    return n
  }

  /** This thread's row of per-command call counts. */
  calls (thread: number): Float64Array {
    return this.callWords.subarray(thread * commands.length, (thread + 1) * commands.length)
  }

  /** Calls of one command over every thread. */
  /** Records one sampled latency (seconds) in this thread's row (only this thread writes it). */
  observeLatency (thread: number, seconds: number): void {
    const w = this.latencyWords
    const base = thread * LATENCY_WORDS
    let i = 0
    while (i < LATENCY_BOUNDS.length && seconds > LATENCY_BOUNDS[i]) i++
    w[base + i]++
    w[base + LATENCY_WORDS - 2] += seconds
    w[base + LATENCY_WORDS - 1]++
  }

  /** Every thread's latency rows added up: per-bucket counts (last: past every bound), sum, count. */
  latency (): Float64Array {
    const out = new Float64Array(LATENCY_WORDS)
    for (let t = 0; t < this.threads; t++) for (let k = 0; k < LATENCY_WORDS; k++) out[k] += this.latencyWords[t * LATENCY_WORDS + k]
    return out
  }

  callsOf (id: number): number {
    let n = 0
    for (let t = 0; t < this.threads; t++) n += this.callWords[t * commands.length + id]
    return n
  }

  /** CONFIG RESETSTAT: every thread's counters and calls, except the gauges. */
  resetAll (): void {
    for (let t = 0; t < this.threads; t++) {
      const kept = GAUGES.map(g => this.counters[t * COUNTERS + g])
      this.counters.fill(0, t * COUNTERS, (t + 1) * COUNTERS)
      GAUGES.forEach((g, i) => { this.counters[t * COUNTERS + g] = kept[i] })
    }
    this.callWords.fill(0)
  }

  /** The largest of every thread's counter `i` (a gauge of maxima). */
  max (i: number): number {
    let n = 0
    for (let t = 0; t < this.threads; t++) n = Math.max(n, this.counters[t * COUNTERS + i])
    return n
  }
}

/** A 64-bit setting kept in two shared words (low, high). */
function wordsGet (flags: Int32Array, w: number): bigint {
  return (BigInt(flags[w + 1] >>> 0) << 32n) | BigInt(flags[w] >>> 0)
}

function wordsSet (flags: Int32Array, w: number, v: bigint): void {
  Atomics.store(flags, w + 1, Number((v >> 32n) & 0xffffffffn) | 0)
  Atomics.store(flags, w, Number(v & 0xffffffffn) | 0)
}

/**
 * A class, not an object literal with accessors: each read or every reply's byte count went
 * through the runtime (perf: SetPropertyInternal under the primary's onRead and flushOne), where
 * prototype accessors inline.
 */
class RowStats implements ServerStats {
  constructor (private readonly row: Float64Array) {}
  get connectionsReceived (): number { return this.row[CONNECTIONS_RECEIVED] }
  set connectionsReceived (v: number) { this.row[CONNECTIONS_RECEIVED] = v }
  get rejectedConnections (): number { return this.row[REJECTED] }
  set rejectedConnections (v: number) { this.row[REJECTED] = v }
  get netInputBytes (): number { return this.row[NET_INPUT] }
  set netInputBytes (v: number) { this.row[NET_INPUT] = v }
  get netOutputBytes (): number { return this.row[NET_OUTPUT] }
  set netOutputBytes (v: number) { this.row[NET_OUTPUT] = v }
  get readsProcessed (): number { return this.row[READS_PROCESSED] }
  set readsProcessed (v: number) { this.row[READS_PROCESSED] = v }
  get writesProcessed (): number { return this.row[WRITES_PROCESSED] }
  set writesProcessed (v: number) { this.row[WRITES_PROCESSED] = v }
}
