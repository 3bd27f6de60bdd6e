// LATENCY (Redis 7.0's latency.c and sparkline.c) over the shared rows of
// server/command-stats.ts: every thread and shard records its own "command" and "fast-command"
// events past latency-monitor-threshold; these commands run on the client's thread and merge
// the rows (per second, the highest sample; the all-time max of every row). HISTOGRAM reads the
// per-command histograms that latencystats reads.

import { Buffer } from 'node:buffer'
import type { Argv, ClientContext, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { errorReply } from '../protocol/errors.js'
import { commands, lookupCommand, type Command } from './table.js'
import { LATENCY_EVENTS, SET_LATENCY_MONITOR, SET_SLOWLOG_SLOWER, type CommandStats, type LatencySeries } from '../server/command-stats.js'
import { writeCommandCdf } from './introspection.js'

function str (argv: Argv, i: number): string {
  return Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1')
}

/** Event names match exactly, as Redis's dict of events does. */
function eventIndex (name: string): number {
  return (LATENCY_EVENTS as readonly string[]).indexOf(name)
}

function present (st: CommandStats): Array<[string, LatencySeries]> {
  const out: Array<[string, LatencySeries]> = []
  LATENCY_EVENTS.forEach((name, i) => {
    const s = st.latencySeries(i)
    if (s !== null) out.push([name, s])
  })
  return out
}

export function latencyLatestCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  const events = present(c.server.cmdStats)
  out.arrayHeader(events.length)
  for (const [name, s] of events) {
    const [time, ms] = s.samples[s.samples.length - 1]
    out.arrayHeader(4)
    out.bulkStr(name)
    out.int(time)
    out.int(ms)
    out.int(s.max)
  }
}

export function latencyHistoryCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const ev = eventIndex(str(argv, 2))
  const s = ev < 0 ? null : c.server.cmdStats.latencySeries(ev)
  if (s === null) { out.arrayHeader(0); return }
  out.arrayHeader(s.samples.length)
  for (const [time, ms] of s.samples) { out.arrayHeader(2); out.int(time); out.int(ms) }
}

/** LATENCY RESET [event ...]: how many events had data and were reset. */
export function latencyResetCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const st = c.server.cmdStats
  let n = 0
  if (argv.argc === 2) {
    for (let i = 0; i < LATENCY_EVENTS.length; i++) if (st.latencySeries(i) !== null) { st.latencyReset(i); n++ }
  } else {
    for (let j = 2; j < argv.argc; j++) {
      const ev = eventIndex(str(argv, j))
      if (ev >= 0 && st.latencySeries(ev) !== null) { st.latencyReset(ev); n++ }
    }
  }
  out.int(n)
}

// --- GRAPH: sparkline.c ------------------------------------------------------------------------

const GRAPH_COLS = 80
const CHARSET_FILL = '_o#'
const CHARSET_LEN = 3
const LABEL_MARGIN_TOP = 1

interface Sample { value: number, label: string }

/** sparklineRenderRange with SPARKLINE_FILL: `rows` rows of bars, then the labels, vertically. */
function renderRange (seq: Sample[], min: number, max: number, rows: number, offset: number, len: number): string {
  let relmax = max - min
  if (relmax === 0) relmax = 1
  const steps = CHARSET_LEN * rows
  let out = ''
  let hasLabels = false
  for (const s of seq) if (s.label !== '') hasLabels = true
  for (let row = 0, loop = true; loop; row++) {
    loop = false
    const chars = new Array<string>(len).fill(' ')
    for (let j = 0; j < len; j++) {
      const s = seq[j + offset]
      let step = Math.trunc(((s.value - min) * steps) / relmax)
      if (step < 0) step = 0
      if (step >= steps) step = steps - 1
      if (row < rows) {
        const charidx = step - (rows - row - 1) * CHARSET_LEN
        loop = true
        if (charidx >= 0 && charidx < CHARSET_LEN) chars[j] = CHARSET_FILL[charidx]
        else if (charidx >= CHARSET_LEN) chars[j] = '|'
      } else {
        if (hasLabels && row - rows < LABEL_MARGIN_TOP) { loop = true; break }
        const labelChar = row - rows - LABEL_MARGIN_TOP
        if (s.label.length > labelChar) { loop = true; chars[j] = s.label[labelChar] }
      }
    }
    if (loop) out += chars.join('') + '\n'
  }
  return out
}

function ago (sec: number): string {
  if (sec < 60) return `${sec}s`
  if (sec < 3600) return `${Math.floor(sec / 60)}m`
  if (sec < 86400) return `${Math.floor(sec / 3600)}h`
  return `${Math.floor(sec / 86400)}d`
}

/** latencyCommandGenSparkeline */
function sparkline (event: string, s: LatencySeries): string {
  const now = Math.floor(Date.now() / 1000)
  const seq: Sample[] = s.samples.map(([time, ms]) => ({ value: ms, label: ago(now - time) }))
  let min = 0
  let max = 0
  seq.forEach((x, i) => {
    if (i === 0) { min = max = x.value } else { if (x.value > max) max = x.value; if (x.value < min) min = x.value }
  })
  let graph = `${event} - high ${max} ms, low ${min} ms (all time high ${s.max} ms)\n${'-'.repeat(GRAPH_COLS)}\n`
  for (let j = 0; j < seq.length; j += GRAPH_COLS) {
    if (j !== 0) graph += '\n'
    graph += renderRange(seq, min, max, 4, j, Math.min(seq.length - j, GRAPH_COLS))
  }
  return graph
}

export function latencyGraphCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const name = str(argv, 2)
  const ev = eventIndex(name)
  const s = ev < 0 ? null : c.server.cmdStats.latencySeries(ev)
  if (s === null) { out.raw(errorReply(`ERR No samples available for event '${name}'`)); return }
  out.verbatim(sparkline(name, s))
}

// --- DOCTOR: createLatencyReport ---------------------------------------------------------------

/** analyzeLatencyForEvent: samples, average, mean absolute deviation, seconds covered. */
function analyze (s: LatencySeries): { samples: number, avg: number, mad: number, period: number } {
  const n = s.samples.length
  let sum = 0
  let oldest = 0
  for (const [time, ms] of s.samples) {
    sum += ms
    if (oldest === 0 || time < oldest) oldest = time
  }
  const avg = Math.floor(sum / n)
  let period = Math.floor(Date.now() / 1000) - oldest
  if (period === 0) period = 1
  let dev = 0
  for (const [, ms] of s.samples) dev += Math.abs(avg - ms)
  return { samples: n, avg, mad: Math.floor(dev / n), period }
}

export function latencyDoctorCommand (c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.verbatim(latencyReport(c.server.cmdStats))
}

function latencyReport (st: CommandStats): string {
  const threshold = st.settings[SET_LATENCY_MONITOR]
  const events = present(st)
  if (events.length === 0 && threshold === 0) {
    return 'I\'m sorry, Dave, I can\'t do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren\'t in a deep space mission I\'d suggest to take a look at https://redis.io/topics/latency-monitor.\n'
  }
  let report = ''
  let advices = 0
  let slowlogEnabled = false
  let slowlogTuning = false
  let slowlogInspect = false
  let largeObjects = false
  let scheduler = false
  events.forEach(([name, s], i) => {
    if (i === 0) report += 'Dave, I have observed latency spikes in this Redis instance. You don\'t mind talking about it, do you Dave?\n\n'
    const ls = analyze(s)
    report += `${i + 1}. ${name}: ${ls.samples} latency spikes (average ${ls.avg}ms, mean deviation ${ls.mad}ms, period ${(ls.period / ls.samples).toFixed(2)} sec). Worst all time event ${s.max}ms.`
    if (name === 'command') {
      const slower = st.settings[SET_SLOWLOG_SLOWER]
      if (slower < 0) { slowlogEnabled = true; advices++ } else if (Math.trunc(slower / 1000) > threshold) { slowlogTuning = true; advices++ }
      slowlogInspect = true
      largeObjects = true
      advices += 2
    } else if (name === 'fast-command') {
      scheduler = true
      advices++
    }
    report += '\n'
  })
  if (events.length === 0 && advices === 0) {
    return report + 'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n'
  }
  if (advices === 0) {
    return report + '\nWhile there are latency events logged, I\'m not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n'
  }
  report += '\nI have a few advices for you:\n\n'
  if (slowlogEnabled) report += `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${threshold * 1000}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`
  if (slowlogTuning) report += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${threshold * 1000}'.\n`
  if (slowlogInspect) report += '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n'
  if (scheduler) {
    report += '- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n' +
      '  1) Lower the system load.\n' +
      '  2) Use a computer / VM just for Redis if you are running other software in the same system.\n' +
      '  3) Check if you have a "noisy neighbour" problem.\n' +
      '  4) Check with \'redis-cli --intrinsic-latency 100\' what is the intrinsic latency in your system.\n' +
      '  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n'
  }
  if (largeObjects) report += '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n'
  return report
}

// --- HISTOGRAM ---------------------------------------------------------------------------------

/** Commands with samples, and their subcommands that have some (latencyAllCommandsFillCDF). */
function withSamples (st: CommandStats, list: readonly Command[]): Command[] {
  const out: Command[] = []
  for (const c of list) {
    if (c.name.startsWith('__')) continue
    if (st.histogram(c.id) !== null) out.push(c)
    for (const sub of c.subList) if (st.histogram(sub.id) !== null) out.push(sub)
  }
  return out
}

export function latencyHistogramCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const st = c.server.cmdStats
  let list: Command[]
  if (argv.argc === 2) {
    list = withSamples(st, commands.filter(x => x.parent === null))
  } else {
    // latencySpecificCommandsFillCDF: names as COMMAND INFO takes them (`config|get`), unknown ones skipped.
    const asked: Command[] = []
    for (let j = 2; j < argv.argc; j++) {
      const name = str(argv, j).toLowerCase()
      const [top, sub] = name.split('|', 2)
      const buf = Buffer.from(top, 'latin1')
      let cmd = lookupCommand(buf, 0, buf.length)
      if (cmd !== undefined && sub !== undefined) cmd = cmd.subList.find(x => x.name === name)
      if (cmd === undefined || cmd.name.startsWith('__')) continue
      if (st.histogram(cmd.id) !== null) asked.push(cmd)
      if (sub === undefined) for (const s of cmd.subList) if (st.histogram(s.id) !== null) asked.push(s)
    }
    list = asked
  }
  out.mapHeader(list.length)
  for (const cmd of list) {
    out.bulkStr(cmd.name)
    writeCommandCdf(st, cmd, out)
  }
}

const HELP_LINES = [
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
]

export function latencyHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.help('LATENCY', HELP_LINES)
}

const S = { group: 'server', firstKey: 0, lastKey: 0, step: 0, route: 'primary' } as const
const ADMIN = ['admin', 'noscript', 'loading', 'stale'] as const
const SPECIAL = ['nondeterministic_output', 'request_policy:all_nodes', 'response_policy:special']

export const latencyCommands: CommandSpec[] = [
  {
    ...S,
    name: 'latency',
    arity: -2,
    flags: [],
    since: '2.8.13',
    summary: 'A container for latency diagnostics commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...S, name: 'latency|doctor', arity: 2, flags: ADMIN, since: '2.8.13', summary: 'Return a human readable latency analysis report.', complexity: 'O(1)', tips: SPECIAL, local: latencyDoctorCommand },
      { ...S, name: 'latency|graph', arity: 3, flags: ADMIN, since: '2.8.13', summary: 'Return a latency graph for the event.', complexity: 'O(1)', tips: SPECIAL, local: latencyGraphCommand },
      { ...S, name: 'latency|help', arity: 2, flags: ['loading', 'stale'], since: '2.8.13', summary: 'Show helpful text about the different subcommands.', complexity: 'O(1)', local: latencyHelpCommand },
      { ...S, name: 'latency|histogram', arity: -2, flags: ADMIN, since: '7.0.0', summary: 'Return the cumulative distribution of latencies of a subset of commands or all commands.', complexity: 'O(N) where N is the number of commands with latency information being retrieved.', tips: SPECIAL, local: latencyHistogramCommand },
      { ...S, name: 'latency|history', arity: 3, flags: ADMIN, since: '2.8.13', summary: 'Return timestamp-latency samples for the event.', complexity: 'O(1)', tips: SPECIAL, local: latencyHistoryCommand },
      { ...S, name: 'latency|latest', arity: 2, flags: ADMIN, since: '2.8.13', summary: 'Return the latest latency samples for all events.', complexity: 'O(1)', tips: SPECIAL, local: latencyLatestCommand },
      { ...S, name: 'latency|reset', arity: -2, flags: ADMIN, since: '2.8.13', summary: 'Reset latency data for one or more events.', complexity: 'O(1)', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], local: latencyResetCommand },
    ],
  },
]
