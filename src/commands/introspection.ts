// INFO's commandstats, errorstats, latencystats and cpu sections, and LATENCY HISTOGRAM, over
// the rows of server/command-stats.ts that every I/O thread and shard writes. Formats as
// Redis 7.0's genRedisInfoString prints them (server.c); a command is listed once it has a call,
// a rejection or a failure, by its full name (`config|get`).

import { readFileSync } from 'node:fs'
import { commands, type Command } from './table.js'
import { HIST_BUCKETS, bucketTop, valueAtPercentile, type CommandStats } from '../server/command-stats.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'

function visible (c: Command): boolean { return !c.name.startsWith('__') }

export function commandstatsLines (st: CommandStats): string[] {
  const lines: string[] = []
  for (const c of commands) {
    if (!visible(c)) continue
    const [calls, usecF, rejected, failed] = st.totals(c.id)
    if (calls === 0 && rejected === 0 && failed === 0) continue
    const usec = Math.floor(usecF)
    lines.push(`cmdstat_${c.name}:calls=${calls},usec=${usec},usec_per_call=${(calls === 0 ? 0 : usec / calls).toFixed(2)},rejected_calls=${rejected},failed_calls=${failed}`)
  }
  return lines
}

export function errorstatsLines (st: CommandStats): string[] {
  return st.errorCounts().map(([name, n]) => `errorstat_${name}:count=${n}`)
}

/** sprintf("%f") then trimDoubleString: 99.9, 50, 10. */
export function percentileName (p: number): string {
  return p.toFixed(6).replace(/\.?0+$/, '')
}

export function latencystatsLines (st: CommandStats): string[] {
  const ps = st.percentiles()
  const lines: string[] = []
  for (const c of commands) {
    if (!visible(c)) continue
    const h = st.histogram(c.id)
    if (h === null) continue
    lines.push(`latency_percentiles_usec_${c.name}:` + ps.map(p => `p${percentileName(p)}=${valueAtPercentile(h, p).toFixed(3)}`).join(','))
  }
  return lines
}

const TICKS_PER_SEC = 100

/** This thread's CPU seconds [user, sys]: Node 23.9's threadCpuUsage, else /proc/thread-self/stat. */
function threadCpu (): [number, number] {
  const p = process as unknown as { threadCpuUsage?: () => { user: number, system: number } }
  if (typeof p.threadCpuUsage === 'function') {
    const u = p.threadCpuUsage()
    return [u.user / 1e6, u.system / 1e6]
  }
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14 and 15 of stat(5), counted from the state (field 3).
    return [Number(f[11]) / TICKS_PER_SEC, Number(f[12]) / TICKS_PER_SEC]
  } catch {
    return [0, 0]
  }
}

/** Redis prints "%ld.%06ld" of seconds and microseconds. */
function secs (s: number): string { return s.toFixed(6) }

/**
 * The process's CPU (every thread: I/O threads and shards), no children (FlashKV does not fork),
 * and the "main thread": the thread that answers, which runs this client's commands.
 */
export function cpuLines (): string[] {
  const all = process.cpuUsage()
  const [user, sys] = threadCpu()
  return [
    `used_cpu_sys:${secs(all.system / 1e6)}`,
    `used_cpu_user:${secs(all.user / 1e6)}`,
    'used_cpu_sys_children:0.000000',
    'used_cpu_user_children:0.000000',
    `used_cpu_sys_main_thread:${secs(sys)}`,
    `used_cpu_user_main_thread:${secs(user)}`,
  ]
}

/**
 * LATENCY HISTOGRAM's map for one command (fillCommandCDF): calls, then the cumulative count at
 * each power-of-two bound from 1024 ns, keyed by the bound in µs, where the count grew.
 */
export function writeCommandCdf (st: CommandStats, c: Command, out: ReplyWriter): void {
  const h = st.histogram(c.id) as Float64Array
  let total = 0
  for (let b = 0; b < HIST_BUCKETS; b++) total += h[b]
  const keys: number[] = []
  const counts: number[] = []
  let cum = 0
  let prev = 0
  let b = 0
  for (let bound = 1024; cum < total; bound *= 2) {
    while (b < HIST_BUCKETS && bucketTop(b) < bound) cum += h[b++]
    if (cum > prev) { keys.push(Math.floor(bound / 1000)); counts.push(cum) }
    prev = cum
  }
  out.mapHeader(2)
  out.bulkStr('calls')
  out.int(total)
  out.bulkStr('histogram_usec')
  out.mapHeader(keys.length)
  for (let i = 0; i < keys.length; i++) { out.int(keys[i]); out.int(counts[i]) }
}
