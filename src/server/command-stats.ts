// Per-command statistics for INFO commandstats, errorstats and latencystats, LATENCY HISTOGRAM
// and CONFIG RESETSTAT, in one SharedArrayBuffer that every I/O thread and every shard sees.
// Each thread writes only its own row (plain stores, no atomics on the hot path); INFO on any
// thread adds the rows up. The I/O threads own rows [0, ioThreads), shard s row ioThreads + s.
//
//   header: settings (Float64), then the slowlog id counter and the error-name slots (Int32)
//   row r:  [calls, usec, rejected, failed] per command id (Float64)
//           count per error name slot, then total_error_replies (Float64)
//           latency histogram per command id (Uint32, HIST_BUCKETS each)
//           LATENCY events: per event [idx, max, (unix s, ms) x TS_LEN] (Float64)
//   names:  ERROR_SLOTS x NAME_BYTES, each claimed once by compare-and-swap on its state word
//   idents: per client slot (server/credits.ts): its address and name, written by its thread,
//           read by the shard that logs one of its commands in SLOWLOG
//
// The histogram is HdrHistogram's shape at a coarser precision: nanoseconds, one bucket below
// 1024 ns, then SUB_BUCKETS linear buckets per power of two up to 2^31 ns. Redis keeps one per
// command (hdr_histogram, 1 ns..1 s, 2 significant digits) and prints bucket upper bounds in µs.

import { Buffer } from 'node:buffer'
import { commands } from '../commands/table.js'

export const CALLS = 0
export const USEC = 1
export const REJECTED = 2
export const FAILED = 3
const CMD_WORDS = 4
/** Distinct error prefixes kept (Redis 7.0 keeps them all; past this many, new ones are not counted). */
export const ERROR_SLOTS = 128
/** afterErrorReply looks for the prefix's end in the first 32 bytes. */
const NAME_BYTES = 32
const SUB_BITS = 4
const SUB_BUCKETS = 1 << SUB_BITS
const MIN_OCTAVE = 10
const MAX_OCTAVE = 30
export const HIST_BUCKETS = 1 + (MAX_OCTAVE - MIN_OCTAVE + 1) * SUB_BUCKETS

// Float64 settings words.
/** latency-tracking (1 = yes). */
export const SET_LATENCY_TRACKING = 0
/** slowlog-log-slower-than (µs; negative: off). */
export const SET_SLOWLOG_SLOWER = 1
export const SET_SLOWLOG_MAX_LEN = 2
/** latency-monitor-threshold (ms; 0: off). */
export const SET_LATENCY_MONITOR = 3
/** latency-tracking-info-percentiles: count, then up to MAX_PERCENTILES values. */
export const SET_PERCENTILES = 4
export const MAX_PERCENTILES = 16
const SETTINGS = SET_PERCENTILES + 1 + MAX_PERCENTILES
// Int32 words after the settings.
const SLOWLOG_ID = 0
const NAME_STATE = 1
const INTS = NAME_STATE + ERROR_SLOTS
/** Client slots (server/credits.ts CREDIT_SLOTS) and each one's identity record. */
const IDENT_SLOTS = 1 << 16
const ADDR_MAX = 62
const IDENT_NAME_MAX = 64
const IDENT_BYTES = 2 + ADDR_MAX + IDENT_NAME_MAX

/** LATENCY's events measured here: a command flagged fast, or any other, past latency-monitor-threshold. */
export const LATENCY_EVENTS = ['command', 'fast-command'] as const
/** LATENCY_TS_LEN: samples kept per event, at most one per second. */
export const TS_LEN = 160
const EVENT_WORDS = 2 + TS_LEN * 2

export interface LatencySeries { max: number, samples: Array<[number, number]> }

/** Bucket of a duration in nanoseconds. */
export function bucketOf (ns: number): number {
  if (ns < 1024) return 0
  const n = ns >= 0x7fffffff ? 0x7fffffff : ns | 0
  const o = 31 - Math.clz32(n)
  return 1 + (o - MIN_OCTAVE) * SUB_BUCKETS + ((n >>> (o - SUB_BITS)) & (SUB_BUCKETS - 1))
}

/** The highest nanosecond value a bucket holds (HdrHistogram's highest_equivalent_value). */
export function bucketTop (b: number): number {
  if (b === 0) return 1023
  const o = MIN_OCTAVE + ((b - 1) >> SUB_BITS)
  const sub = (b - 1) & (SUB_BUCKETS - 1)
  const width = 2 ** (o - SUB_BITS)
  return (SUB_BUCKETS + sub) * width + width - 1
}

/** One thread's row: written by that thread alone. */
export class StatsRow {
  constructor (readonly cmd: Float64Array, readonly errs: Float64Array, readonly hist: Uint32Array, readonly events: Float64Array, readonly stats: CommandStats) {}

  /** A command ran for `ns` nanoseconds (one call). */
  call (id: number, ns: number): void {
    const c = this.cmd
    c[id * CMD_WORDS + CALLS]++
    c[id * CMD_WORDS + USEC] += ns / 1000
    const st = this.stats.settings
    if (st[SET_LATENCY_TRACKING] !== 0) this.hist[id * HIST_BUCKETS + bucketOf(ns)]++
    // latencyAddSampleIfNeeded("command" / "fast-command", duration in whole ms).
    const ms = st[SET_LATENCY_MONITOR]
    if (ms > 0 && ns >= ms * 1e6) this.latencyEvent(this.stats.isFast[id], Math.floor(ns / 1e6))
  }

  /** latencyAddSample: the event's max, and one sample per second (the highest). */
  latencyEvent (ev: number, ms: number): void {
    const w = this.events
    const base = ev * EVENT_WORDS
    const now = Math.floor(Date.now() / 1000)
    if (ms > w[base + 1]) w[base + 1] = ms
    const idx = w[base]
    const prev = base + 2 + ((idx + TS_LEN - 1) % TS_LEN) * 2
    if (w[prev] === now) {
      if (ms > w[prev + 1]) w[prev + 1] = ms
      return
    }
    w[base + 2 + idx * 2] = now
    w[base + 2 + idx * 2 + 1] = ms
    w[base] = idx + 1 === TS_LEN ? 0 : idx + 1
  }

  /** A call counted elsewhere (a multi-shard command's dispatch) ran part of its work here. */
  time (id: number, ns: number): void { this.cmd[id * CMD_WORDS + USEC] += ns / 1000 }

  /** A latency sample alone (latencystats, LATENCY HISTOGRAM). */
  sample (id: number, ns: number): void {
    const st = this.stats.settings
    if (st[SET_LATENCY_TRACKING] !== 0) this.hist[id * HIST_BUCKETS + bucketOf(ns)]++
    const ms = st[SET_LATENCY_MONITOR]
    if (ms > 0 && ns >= ms * 1e6) this.latencyEvent(this.stats.isFast[id], Math.floor(ns / 1e6))
  }

  /** A call with no execution time to measure here (its parts run on the shards). */
  count (id: number): void { this.cmd[id * CMD_WORDS + CALLS]++ }

  rejected (id: number): void { this.cmd[id * CMD_WORDS + REJECTED]++ }
  failed (id: number): void { this.cmd[id * CMD_WORDS + FAILED]++ }

  /** An error reply (`-PREFIX message\r\n` at buf[at]): total_error_replies and its errorstat. */
  error (buf: Uint8Array, at: number, end: number): void {
    this.errs[ERROR_SLOTS]++
    const slot = this.stats.errorSlot(buf, at, end)
    if (slot >= 0) this.errs[slot]++
  }
}

/**
 * A row whose counts wait (a script run in a shard worker that may stop and run again held:
 * scripting/in-shard.ts): commit() adds them to the row, drop() forgets them.
 */
export class DeferredRow extends StatsRow {
  private readonly ops: Array<number | Buffer> = []
  constructor (private readonly row: StatsRow) { super(row.cmd, row.errs, row.hist, row.events, row.stats) }
  override call (id: number, ns: number): void { this.ops.push(0, id, ns) }
  override rejected (id: number): void { this.ops.push(1, id) }
  override failed (id: number): void { this.ops.push(2, id) }
  override error (buf: Uint8Array, at: number, end: number): void { this.ops.push(3, Buffer.from(buf.subarray(at, end))) }
  commit (): void {
    const o = this.ops
    const row = this.row
    for (let i = 0; i < o.length;) {
      switch (o[i++] as number) {
        case 0: row.call(o[i++] as number, o[i++] as number); break
        case 1: row.rejected(o[i++] as number); break
        case 2: row.failed(o[i++] as number); break
        default: { const b = o[i++] as Buffer; row.error(b, 0, b.length) }
      }
    }
    o.length = 0
  }

  drop (): void { this.ops.length = 0 }
}

const ERR = Buffer.from('-ERR ')

export class CommandStats {
  readonly sab: SharedArrayBuffer
  readonly settings: Float64Array
  private readonly ints: Int32Array
  private readonly names: Uint8Array
  private readonly idents: Uint8Array
  private readonly rowList: StatsRow[] = []
  private readonly n = commands.length
  /** Index into LATENCY_EVENTS by command id: fast-command for commands flagged fast. */
  readonly isFast = Uint8Array.from(commands, c => c.flags.includes('fast') ? 1 : 0)

  constructor (readonly rows: number, sab?: SharedArrayBuffer) {
    const n = this.n
    const rowF64 = n * CMD_WORDS + ERROR_SLOTS + 1 + LATENCY_EVENTS.length * EVENT_WORDS
    const rowBytes = rowF64 * 8 + Math.ceil(n * HIST_BUCKETS * 4 / 8) * 8
    const intsAt = SETTINGS * 8
    const namesAt = intsAt + INTS * 4
    const identsAt = namesAt + ERROR_SLOTS * NAME_BYTES
    const rowsAt = Math.ceil((identsAt + IDENT_SLOTS * IDENT_BYTES) / 8) * 8
    this.sab = sab ?? new SharedArrayBuffer(rowsAt + rows * rowBytes)
    this.idents = new Uint8Array(this.sab, identsAt, IDENT_SLOTS * IDENT_BYTES)
    this.settings = new Float64Array(this.sab, 0, SETTINGS)
    this.ints = new Int32Array(this.sab, intsAt, INTS)
    this.names = new Uint8Array(this.sab, namesAt, ERROR_SLOTS * NAME_BYTES)
    for (let r = 0; r < rows; r++) {
      const at = rowsAt + r * rowBytes
      this.rowList.push(new StatsRow(
        new Float64Array(this.sab, at, n * CMD_WORDS),
        new Float64Array(this.sab, at + n * CMD_WORDS * 8, ERROR_SLOTS + 1),
        new Uint32Array(this.sab, at + rowF64 * 8, n * HIST_BUCKETS),
        new Float64Array(this.sab, at + (n * CMD_WORDS + ERROR_SLOTS + 1) * 8, LATENCY_EVENTS.length * EVENT_WORDS),
        this))
    }
    if (sab === undefined) {
      this.settings[SET_LATENCY_TRACKING] = 1
      this.settings[SET_SLOWLOG_SLOWER] = 10000
      this.settings[SET_SLOWLOG_MAX_LEN] = 128
      this.setPercentiles([50, 99, 99.9])
    }
  }

  row (r: number): StatsRow { return this.rowList[r] }

  /** The starting values from the configuration, once, on the thread that made the buffer. */
  configure (c: { slowlogLogSlowerThan: number, slowlogMaxLen: number, latencyMonitorThreshold: number, latencyTracking: boolean }): void {
    this.settings[SET_SLOWLOG_SLOWER] = c.slowlogLogSlowerThan
    this.settings[SET_SLOWLOG_MAX_LEN] = c.slowlogMaxLen
    this.settings[SET_LATENCY_MONITOR] = c.latencyMonitorThreshold
    this.settings[SET_LATENCY_TRACKING] = c.latencyTracking ? 1 : 0
  }

  /** A client took `slot`: its address (ip:port), and no name yet. */
  setClientAddr (slot: number, addr: string): void {
    if (slot <= 0 || slot >= IDENT_SLOTS) return
    const at = slot * IDENT_BYTES
    const n = Math.min(addr.length, ADDR_MAX)
    Buffer.from(this.idents.buffer, this.idents.byteOffset + at + 2, ADDR_MAX).write(addr.slice(0, n), 'latin1')
    this.idents[at] = n
    this.idents[at + 1] = 0
  }

  /** CLIENT SETNAME & co.: names past IDENT_NAME_MAX bytes are logged cut. */
  setClientName (slot: number, name: Uint8Array | null): void {
    if (slot <= 0 || slot >= IDENT_SLOTS) return
    const at = slot * IDENT_BYTES
    const n = name === null ? 0 : Math.min(name.length, IDENT_NAME_MAX)
    if (name !== null) this.idents.set(name.subarray(0, n), at + 2 + ADDR_MAX)
    this.idents[at + 1] = n
  }

  clientAddr (slot: number): Buffer {
    if (slot <= 0 || slot >= IDENT_SLOTS) return Buffer.alloc(0)
    const at = slot * IDENT_BYTES
    return Buffer.from(this.idents.subarray(at + 2, at + 2 + this.idents[at]))
  }

  clientName (slot: number): Buffer {
    if (slot <= 0 || slot >= IDENT_SLOTS) return Buffer.alloc(0)
    const at = slot * IDENT_BYTES
    return Buffer.from(this.idents.subarray(at + 2 + ADDR_MAX, at + 2 + ADDR_MAX + this.idents[at + 1]))
  }

  /** The next SLOWLOG id, unique and increasing across every thread. */
  nextSlowlogId (): number { return Atomics.add(this.ints, SLOWLOG_ID, 1) }

  percentiles (): number[] {
    const k = this.settings[SET_PERCENTILES]
    return Array.from(this.settings.subarray(SET_PERCENTILES + 1, SET_PERCENTILES + 1 + k))
  }

  setPercentiles (p: readonly number[]): void {
    this.settings[SET_PERCENTILES] = p.length
    this.settings.set(p, SET_PERCENTILES + 1)
  }

  /**
   * The slot of an error reply's prefix (afterErrorReply: the first word, looked for in the first
   * 32 bytes, else ERR), claiming a free slot the first time a prefix is seen; -1 when full.
   */
  errorSlot (buf: Uint8Array, at: number, end: number): number {
    let s = at + 1
    let e = -1
    const lim = Math.min(end, at + NAME_BYTES)
    for (let i = s; i < lim; i++) if (buf[i] === 32) { e = i; break }
    if (e < 0) { buf = ERR; s = 1; e = 4 }
    const len = e - s
    const names = this.names
    for (let slot = 0; slot < ERROR_SLOTS; slot++) {
      let st = Atomics.load(this.ints, NAME_STATE + slot)
      if (st === 0) {
        if (Atomics.compareExchange(this.ints, NAME_STATE + slot, 0, -1) === 0) {
          for (let i = 0; i < len; i++) names[slot * NAME_BYTES + i] = buf[s + i]
          Atomics.store(this.ints, NAME_STATE + slot, len)
          return slot
        }
        st = Atomics.load(this.ints, NAME_STATE + slot)
      }
      // Another thread is writing this name: it takes a few stores.
      while (st === -1) st = Atomics.load(this.ints, NAME_STATE + slot)
      if (st !== len) continue
      let same = true
      for (let i = 0; i < len; i++) if (names[slot * NAME_BYTES + i] !== buf[s + i]) { same = false; break }
      if (same) return slot
    }
    return -1
  }

  /** [calls, usec, rejected, failed] of one command over every row. */
  totals (id: number): [number, number, number, number] {
    const t: [number, number, number, number] = [0, 0, 0, 0]
    for (const r of this.rowList) for (let k = 0; k < CMD_WORDS; k++) t[k] += r.cmd[id * CMD_WORDS + k]
    return t
  }

  /** One command's histogram over every row; null when it has no samples. */
  histogram (id: number): Float64Array | null {
    const h = new Float64Array(HIST_BUCKETS)
    let any = false
    for (const r of this.rowList) {
      const base = id * HIST_BUCKETS
      for (let b = 0; b < HIST_BUCKETS; b++) { const v = r.hist[base + b]; if (v !== 0) { h[b] += v; any = true } }
    }
    return any ? h : null
  }

  /** errorstat counts by prefix over every row, in Redis's (rax) order: sorted by bytes. */
  errorCounts (): Array<[string, number]> {
    const outList: Array<[string, number]> = []
    for (let slot = 0; slot < ERROR_SLOTS; slot++) {
      const len = Atomics.load(this.ints, NAME_STATE + slot)
      if (len <= 0) continue
      let n = 0
      for (const r of this.rowList) n += r.errs[slot]
      if (n > 0) outList.push([Buffer.from(this.names.subarray(slot * NAME_BYTES, slot * NAME_BYTES + len)).toString('latin1'), n])
    }
    return outList.sort((a, b) => Buffer.compare(Buffer.from(a[0], 'latin1'), Buffer.from(b[0], 'latin1')))
  }

  totalErrors (): number {
    let n = 0
    for (const r of this.rowList) n += r.errs[ERROR_SLOTS]
    return n
  }

  /** One LATENCY event over every row: samples by second (the highest), oldest first; null if none. */
  latencySeries (ev: number): LatencySeries | null {
    const bySec = new Map<number, number>()
    let max = 0
    for (const r of this.rowList) {
      const base = ev * EVENT_WORDS
      if (r.events[base + 1] > max) max = r.events[base + 1]
      for (let j = 0; j < TS_LEN; j++) {
        const t = r.events[base + 2 + j * 2]
        if (t === 0) continue
        const ms = r.events[base + 3 + j * 2]
        const had = bySec.get(t)
        if (had === undefined || ms > had) bySec.set(t, ms)
      }
    }
    if (bySec.size === 0) return null
    const samples = [...bySec].sort((a, b) => a[0] - b[0]).slice(-TS_LEN)
    return { max, samples }
  }

  /** LATENCY RESET of one event on every row. */
  latencyReset (ev: number): void {
    for (const r of this.rowList) r.events.fill(0, ev * EVENT_WORDS, (ev + 1) * EVENT_WORDS)
  }

  /** CONFIG RESETSTAT: every row. A thread may add to a row meanwhile; at worst that count survives. */
  reset (): void {
    for (const r of this.rowList) { r.cmd.fill(0); r.errs.fill(0); r.hist.fill(0) }
  }
}

/** hdr_value_at_percentile over a summed histogram, in µs: the top of the bucket holding it. */
export function valueAtPercentile (h: Float64Array, p: number): number {
  let total = 0
  for (let b = 0; b < HIST_BUCKETS; b++) total += h[b]
  const want = Math.max(1, Math.ceil((p / 100) * total))
  let seen = 0
  for (let b = 0; b < HIST_BUCKETS; b++) {
    seen += h[b]
    if (seen >= want) return bucketTop(b) / 1000
  }
  return bucketTop(HIST_BUCKETS - 1) / 1000
}
