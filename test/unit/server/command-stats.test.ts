// The shared per-command statistics (server/command-stats.ts): histogram buckets and their
// percentiles, error prefixes as afterErrorReply takes them, rows added up, CONFIG RESETSTAT,
// LATENCY events per second, and the client slots' identities.
import { describe, expect, it } from 'vitest'
import { CommandStats, HIST_BUCKETS, bucketOf, bucketTop, valueAtPercentile, SET_LATENCY_MONITOR, SET_LATENCY_TRACKING } from '../../../src/server/command-stats.js'
import { commandByName } from '../../../src/commands/table.js'

const GET = commandByName('get').id

describe('histogram buckets', () => {
  it('every duration falls in a bucket whose top is at least it, and the buckets ascend', () => {
    for (const ns of [0, 1, 1023, 1024, 1100, 2047, 2048, 5000, 123456, 1e6, 1e9, 2 ** 31 - 1]) {
      const b = bucketOf(ns)
      expect(b).toBeGreaterThanOrEqual(0)
      expect(b).toBeLessThan(HIST_BUCKETS)
      expect(bucketTop(b)).toBeGreaterThanOrEqual(ns)
      if (b > 0) expect(bucketTop(b - 1)).toBeLessThan(ns)
    }
    for (let b = 1; b < HIST_BUCKETS; b++) expect(bucketTop(b)).toBeGreaterThan(bucketTop(b - 1))
    // Past the last bound: the last bucket.
    expect(bucketOf(1e12)).toBe(HIST_BUCKETS - 1)
  })

  it('percentiles are the tops of the buckets that hold them, in µs', () => {
    const h = new Float64Array(HIST_BUCKETS)
    for (let i = 0; i < 99; i++) h[bucketOf(5000)]++
    h[bucketOf(2_000_000)]++
    expect(valueAtPercentile(h, 50)).toBe(bucketTop(bucketOf(5000)) / 1000)
    expect(valueAtPercentile(h, 99)).toBe(bucketTop(bucketOf(5000)) / 1000)
    expect(valueAtPercentile(h, 99.9)).toBe(bucketTop(bucketOf(2_000_000)) / 1000)
  })
})

describe('rows', () => {
  it('calls, time, rejections and failures add up over every row; RESETSTAT zeroes them', () => {
    const st = new CommandStats(3)
    st.row(0).call(GET, 3000)
    st.row(2).call(GET, 5000)
    st.row(1).rejected(GET)
    st.row(2).failed(GET)
    expect(st.totals(GET)).toEqual([2, 8, 1, 1])
    const h = st.histogram(GET)
    expect(h?.reduce((a, b) => a + b, 0)).toBe(2)
    st.reset()
    expect(st.totals(GET)).toEqual([0, 0, 0, 0])
    expect(st.histogram(GET)).toBeNull()
  })

  it('latency-tracking no records no histogram sample', () => {
    const st = new CommandStats(1)
    st.settings[SET_LATENCY_TRACKING] = 0
    st.row(0).call(GET, 3000)
    expect(st.histogram(GET)).toBeNull()
    expect(st.totals(GET)[0]).toBe(1)
  })

  it('error prefixes: the first word within 32 bytes, else ERR; shared names across rows, sorted', () => {
    const st = new CommandStats(2)
    const err = (s: string): Buffer => Buffer.from(`-${s}\r\n`)
    for (const [r, e] of [[0, 'WRONGTYPE Operation'], [1, 'ERR syntax error'], [1, 'WRONGTYPE x'], [0, 'NOPREFIXWITHOUTASPACEINTHEFIRST32BYTES at all'], [0, 'BUSY y']] as const) {
      const b = err(e)
      st.row(r).error(b, 0, b.length)
    }
    expect(st.errorCounts()).toEqual([['BUSY', 1], ['ERR', 2], ['WRONGTYPE', 2]])
    expect(st.totalErrors()).toBe(5)
  })
})

describe('LATENCY events', () => {
  it('past latency-monitor-threshold: one sample per second, the highest; the all-time max', () => {
    const st = new CommandStats(2)
    st.settings[SET_LATENCY_MONITOR] = 2
    st.row(0).call(GET, 1_000_000)
    expect(st.latencySeries(1)).toBeNull()
    st.row(0).call(GET, 3_000_000)
    st.row(1).call(GET, 7_000_000)
    st.row(0).call(GET, 5_000_000)
    const s = st.latencySeries(1)
    // GET is flagged fast: event 1, fast-command. All in this second: one sample, the highest.
    expect(s?.max).toBe(7)
    expect(s?.samples.length).toBe(1)
    expect(s?.samples[0][1]).toBe(7)
    expect(st.latencySeries(0)).toBeNull()
    st.latencyReset(1)
    expect(st.latencySeries(1)).toBeNull()
  })
})

describe('client identities', () => {
  it('address and name per slot, seen through another view of the same buffer', () => {
    const st = new CommandStats(1)
    const other = new CommandStats(1, st.sab)
    st.setClientAddr(5, '127.0.0.1:5000')
    st.setClientName(5, Buffer.from('worker'))
    expect(other.clientAddr(5).toString()).toBe('127.0.0.1:5000')
    expect(other.clientName(5).toString()).toBe('worker')
    st.setClientAddr(5, '10.0.0.1:1')
    expect(other.clientName(5).length).toBe(0)
    expect(other.clientAddr(0).length).toBe(0)
    expect(other.nextSlowlogId()).toBe(0)
    expect(st.nextSlowlogId()).toBe(1)
  })
})
