// CPU per command of each thread (issue 11): redis-benchmark against a real redis-server and
// FlashKV configurations side by side, interleaved per test, with every thread's utime+stime
// read from /proc/<pid>/task/<tid>/stat just before and after each run (as
// shared/tools/cpu_per_thread.py does). The busiest single thread bounds throughput on any number
// of cores: ceiling = 10⁶ / (its µs per command) commands per second.
//
// Threads are attributed by their Linux tid (every thread of a Node process is named "node"):
// the main thread (tid = pid) is "primary"; a thread that INFO lists as `shardN:…tid=T` is a
// "shard", one listed as `ioN:…tid=T` an "io" thread; everything else (V8 GC and platform
// threads, the libuv pool; Redis's bio threads) is "other".
//
//   npm run bench -- --cpu                 Redis, flashkv-1 and flashkv-4 (--shards 1,4)
//   npm run bench -- --cpu --quick         fewer requests (50k, 500k at -P 16)
//   options: --shards 1,4 | --cpu-servers "flashkv-1:--shards 1,flashkv-io4:--io-threads 4 --shards 4"
//            --tests set,get,incr,lpush,mset  --requests N  --pipe-requests N  --repeat N
//            --threads N (redis-benchmark --threads)  --redis-io-threads N (adds Redis with io-threads N)  --readme
//            --report bench/results/X-cpu.json [--readme]   re-render X-cpu.md (and the README table)
// Writes bench/results/<date>-<commit>[-quick]-cpu.{json,md}.

import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { basename } from 'node:path'
import {
  ROOT, type Server, type Spec, flashkvSpec, gitCommit, rawCommand, redisBenchmark, redisSpec, start, stop, versionOf,
} from './servers.js'

export type Kind = 'primary' | 'io' | 'shard' | 'other'
export const KINDS: Kind[] = ['primary', 'io', 'shard', 'other']

/** One thread's CPU over one redis-benchmark run, in µs per command. */
export interface ThreadCpu { tid: number, kind: Kind, name: string, us: number }
/** One redis-benchmark run against one server, with the CPU of each of its threads. */
export interface Sample {
  server: string, test: string, mode: string, pipeline: number, requests: number, round: number,
  rps: number, wallS: number, command: string,
  /** µs per command summed over the threads of each kind, and over all threads. */
  kinds: Record<Kind, number>, total: number,
  busiest: ThreadCpu,
  /** Threads that used any CPU in the run, busiest first. */
  threads: ThreadCpu[],
  /** Threads present before the run and gone after it (their last ticks are lost). */
  exited: number,
}
export interface CpuReport {
  cpu: true, date: string, commit: string, quick: boolean, clkTck: number, repeat: number,
  machine: { cpus: number, cpuModel: string }, versions: { node: string, redis: string, redisBenchmark: string },
  servers: Array<{ name: string, argv: string[] }>, requests: number, pipeRequests: number, tests: string[],
  wallS: number,
  /** Per server, test and mode: the round whose busiest thread is the median one. */
  rows: Sample[],
  samples: Sample[],
}

const MODES = [{ mode: 'c50', pipeline: 1 }, { mode: 'c50-P16', pipeline: 16 }]

/** utime+stime in clock ticks of every thread of `pid`, by tid. */
export function threadTicks (pid: number): Map<number, number> {
  const out = new Map<number, number>()
  let tids: string[]
  try { tids = readdirSync(`/proc/${pid}/task`) } catch { return out }
  for (const tid of tids) {
    let st: string
    try { st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8') } catch { continue }
    // Fields after the command name "(…)", which may itself hold spaces: state is field 3,
    // utime and stime are fields 14 and 15.
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
    out.set(Number(tid), Number(f[11]) + Number(f[12]))
  }
  return out
}

/** Thread names by tid from INFO's `shardN:…tid=T` and `ioN:…tid=T` lines. */
export function parseThreadTids (info: string): Map<number, { kind: Kind, name: string }> {
  const out = new Map<number, { kind: Kind, name: string }>()
  for (const m of info.matchAll(/^(io\d+|shard\d+):.*\btid=(\d+)/gm)) {
    out.set(Number(m[2]), { kind: m[1].startsWith('io') ? 'io' : 'shard', name: m[1] })
  }
  return out
}

/** Per-thread µs per command from two tick snapshots. */
export function attribute (pid: number, before: Map<number, number>, after: Map<number, number>,
  named: Map<number, { kind: Kind, name: string }>, requests: number, clkTck: number): Pick<Sample, 'kinds' | 'total' | 'busiest' | 'threads' | 'exited'> {
  const kinds: Record<Kind, number> = { primary: 0, io: 0, shard: 0, other: 0 }
  const threads: ThreadCpu[] = []
  const perTick = 1e6 / clkTck / requests
  for (const [tid, t1] of after) {
    const ticks = t1 - (before.get(tid) ?? 0)
    const n = named.get(tid)
    const kind: Kind = tid === pid ? 'primary' : n?.kind ?? 'other'
    const us = ticks * perTick
    kinds[kind] += us
    if (ticks > 0) threads.push({ tid, kind, name: tid === pid ? 'primary' : n?.name ?? 'other', us })
  }
  threads.sort((a, b) => b.us - a.us)
  let exited = 0
  for (const tid of before.keys()) if (!after.has(tid)) exited++
  const total = KINDS.reduce((s, k) => s + kinds[k], 0)
  return { kinds, total, busiest: threads[0] ?? { tid: pid, kind: 'primary', name: 'primary', us: 0 }, threads, exited }
}

/** Clock ticks per second (CLK_TCK), 100 where getconf is missing. */
export function clockTicks (): number {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { return 100 }
}

/** "name:flags,name:flags" (a comma starts a new server only where `name:` follows). */
export function parseServers (s: string): Array<[name: string, flags: string[]]> {
  return s.split(/,(?=\s*[\w.-]+:)/).map(part => {
    const i = part.indexOf(':')
    if (i <= 0) throw new Error(`--cpu-servers: "${part}" is not name:flags`)
    return [part.slice(0, i).trim(), part.slice(i + 1).trim().split(/\s+/).filter(x => x !== '')]
  })
}

export async function cpuMain (args: string[]): Promise<void> {
  const has = (f: string): boolean => args.includes(f)
  const opt = (f: string, d: string): string => { const i = args.indexOf(f); return i >= 0 && i + 1 < args.length ? args[i + 1] : d }
  const saved = opt('--report', '')
  if (saved !== '') {
    const j = JSON.parse(readFileSync(saved, 'utf8')) as CpuReport
    render(basename(saved).replace(/\.json$/, ''), j, has('--readme'))
    return
  }
  const quick = has('--quick')
  const requests = Number(opt('--requests', quick ? '50000' : '200000'))
  const pipeRequests = Number(opt('--pipe-requests', quick ? '500000' : '2000000'))
  const repeat = Number(opt('--repeat', '1'))
  const threads = Number(opt('--threads', '0'))
  const tests = opt('--tests', 'set,get,incr,lpush,mset').split(',')
  const configs = has('--cpu-servers')
    ? parseServers(opt('--cpu-servers', ''))
    : opt('--shards', '1,4').split(',').map(n => [`flashkv-${n}`, ['--shards', n]] as [string, string[]])
  // --redis-io-threads N adds Redis with its own I/O threads (reads too), the comparison users know.
  const redisIo = Number(opt('--redis-io-threads', '0'))
  const redisSpecs: Spec[] = [redisSpec()]
  if (redisIo > 1) {
    const [, cmd, argv] = redisSpec()
    redisSpecs.push([`redis-io${redisIo}`, cmd, [...argv, '--io-threads', String(redisIo), '--io-threads-do-reads', 'yes']])
  }
  const specs: Spec[] = [...redisSpecs, ...configs.map(([name, flags]) => flashkvSpec(name, flags))]
  const clkTck = clockTicks()
  const t0 = Date.now()
  const samples: Sample[] = []
  const servers: Server[] = []
  try {
    for (const spec of specs) servers.push(await start(...spec))
    // Warm-up, not measured: V8 compiles the hot paths (on its own threads, which would count as
    // "other") and the keyspace fills, before the first measured test.
    for (const s of servers) {
      for (const m of MODES) redisBenchmark(s.port, tests.join(','), m.pipeline > 1 ? 100_000 : 20_000, 50, m.pipeline, 3, threads)
    }
    for (const test of tests) {
      for (const m of MODES) {
        const n = m.pipeline > 1 ? pipeRequests : requests
        for (let round = 0; round < repeat; round++) {
          for (const s of servers) {
            // Asked before every run, outside the measured span: a thread a server starts late
            // (or restarts) is still named.
            const named = parseThreadTids(await rawCommand(s.port, 'INFO shards\r\n'))
            const before = threadTicks(s.pid)
            const w0 = Date.now()
            const r = redisBenchmark(s.port, test, n, 50, m.pipeline, 3, threads)
            const wallS = (Date.now() - w0) / 1000
            const after = threadTicks(s.pid)
            const a = attribute(s.pid, before, after, named, n, clkTck)
            samples.push({ server: s.name, test, mode: m.mode, pipeline: m.pipeline, requests: n, round, rps: r.rps, wallS, command: r.command, ...a })
            process.stderr.write(`${m.mode.padEnd(8)} ${test.padEnd(6)} ${s.name.padEnd(12)} ${Math.round(r.rps).toString().padStart(9)} rps  ` +
              `${KINDS.map(k => `${k} ${a.kinds[k].toFixed(2)}`).join('  ')}  busiest ${a.busiest.name} ${a.busiest.us.toFixed(2)} µs/cmd\n`)
          }
        }
      }
    }
  } finally {
    await Promise.all(servers.map(stop))
  }
  const date = new Date().toISOString().slice(0, 10)
  const commit = gitCommit()
  const report: CpuReport = {
    cpu: true, date, commit, quick, clkTck, repeat,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' },
    versions: { node: process.version, redis: versionOf('redis-server', ['--version']), redisBenchmark: versionOf('redis-benchmark', ['--version']) },
    servers: specs.map(([name, , argv]) => ({ name, argv: name.startsWith('redis') ? argv : argv.slice(1) })),
    requests, pipeRequests, tests,
    wallS: Math.round((Date.now() - t0) / 1000),
    rows: medianRows(samples), samples,
  }
  const base = `${date}-${commit}${quick ? '-quick' : ''}${threads > 0 ? `-threads${threads}` : ''}-cpu`
  mkdirSync(new URL('bench/results/', ROOT), { recursive: true })
  writeFileSync(new URL(`bench/results/${base}.json`, ROOT), JSON.stringify(report, null, 1) + '\n')
  render(base, report, has('--readme'))
}

/** For each server, test and mode, the round whose busiest thread is the median (lower middle). */
export function medianRows (samples: Sample[]): Sample[] {
  const groups = new Map<string, Sample[]>()
  for (const s of samples) {
    const k = `${s.test}|${s.mode}|${s.server}`
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [s]); else g.push(s)
  }
  return [...groups.values()].map(g => [...g].sort((a, b) => a.busiest.us - b.busiest.us)[(g.length - 1) >> 1])
}

const f2 = (x: number): string => x.toFixed(2)

/** The table: one row per test and server; Redis's µs per command (all its threads) is the reference. */
export function cpuTable (rows: Sample[]): string {
  const withIo = rows.some(r => r.kinds.io > 0)
  const kinds = KINDS.filter(k => k !== 'io' || withIo)
  const head = `| test | server | req/s | ${kinds.map(k => k === 'shard' ? 'shards' : k).join(' | ')} | all threads | busiest thread | ceiling cmd/s | busiest ÷ Redis |`
  const lines = [head, `|${'---|'.repeat(kinds.length + 7)}`]
  const keys = [...new Set(rows.map(r => `${r.test}|${r.mode}`))]
  for (const k of keys) {
    const group = rows.filter(r => `${r.test}|${r.mode}` === k)
    const redis = group.find(r => r.server === 'redis')
    for (const [i, r] of group.entries()) {
      const label = i === 0 ? `${r.test.toUpperCase()} ${r.mode}` : ''
      const ratio = r.server.startsWith('redis') || redis === undefined || redis.total === 0 ? '–' : f2(r.busiest.us / redis.total)
      const ceiling = r.busiest.us > 0 ? Math.round(1e6 / r.busiest.us).toLocaleString('en') : '–'
      lines.push(`| ${label} | ${r.server} | ${Math.round(r.rps).toLocaleString('en')} | ${kinds.map(kd => r.kinds[kd] > 0 ? f2(r.kinds[kd]) : '–').join(' | ')} | ` +
        `${f2(r.total)} | ${f2(r.busiest.us)} (${r.busiest.name}) | ${ceiling} | ${ratio} |`)
    }
  }
  return lines.join('\n')
}

function markdown (j: CpuReport): string {
  let md = `# CPU per command, ${j.date} (${j.commit})\n\nMachine: \`${JSON.stringify(j.machine)}\`  \nVersions: \`${JSON.stringify(j.versions)}\`  \n`
  md += `Quick: ${j.quick}. Clock tick ${1000 / j.clkTck} ms. ${j.requests.toLocaleString('en')} requests unpipelined, ${j.pipeRequests.toLocaleString('en')} at -P 16, ` +
    `-c 50 -r 100000 -d 3; servers started together and measured in turn per test, ${j.repeat} round(s) (each row is the round with the median busiest thread; all are in the JSON). Wall time ${j.wallS} s.\n\n`
  md += 'Servers:\n\n' + j.servers.map(s => `- ${s.name}: \`${s.argv.map(a => a === '' ? "''" : a).join(' ')}\``).join('\n') + '\n\n'
  md += 'µs of CPU (utime+stime, /proc/<pid>/task/<tid>/stat) per command, summed over the threads of each kind: `primary` is the main thread (sockets, RESP, routing), ' +
    '`shards` the shard workers (tids from INFO), `other` the rest (V8 GC and platform threads, libuv pool; Redis\'s bio threads). ' +
    'The busiest single thread bounds throughput on any number of cores: ceiling = 10⁶ / its µs. busiest ÷ Redis divides it by Redis\'s µs per command over all its threads. MSET sets 10 keys per command.\n\n'
  md += '## CPU µs per command\n\n' + cpuTable(j.rows) + '\n\n'
  md += '## Threads that ran (µs per command)\n\n| test | server | threads |\n|---|---|---|\n'
  for (const r of j.rows) {
    const named = r.threads.filter(t => t.kind !== 'other').map(t => `${t.name} ${f2(t.us)}`)
    const others = r.threads.filter(t => t.kind === 'other')
    if (others.length > 0) named.push(`other ×${others.length} ${f2(others.reduce((s, t) => s + t.us, 0))}`)
    md += `| ${r.test.toUpperCase()} ${r.mode} | ${r.server} | ${named.join(', ')}${r.exited > 0 ? ` (${r.exited} exited)` : ''} |\n`
  }
  md += '\n## Commands\n\n```\n' + [...new Set(j.rows.map(r => r.command.replace(/-p \d+ /, '-p PORT ')))].join('\n') + '\n```\n'
  return md
}

/** Writes <base>.md, prints the table, and with --readme replaces the README's cpu table. */
function render (base: string, j: CpuReport, readme: boolean): void {
  const dir = new URL('bench/results/', ROOT)
  writeFileSync(new URL(`${base}.md`, dir), markdown(j))
  process.stdout.write(cpuTable(j.rows) + '\n')
  process.stderr.write(`wrote bench/results/${base}.{json,md}\n`)
  if (!readme) return
  const readmePath = new URL('README.md', ROOT)
  const text = readFileSync(readmePath, 'utf8')
  const a = text.indexOf('<!-- cpu:begin -->')
  const b = text.indexOf('<!-- cpu:end -->')
  if (a < 0 || b < a) { process.stderr.write('README.md has no <!-- cpu:begin --> / <!-- cpu:end --> markers\n'); return }
  const servers = j.servers.filter(s => s.name !== 'redis').map(s => `${s.name} \`${s.argv.filter(x => !['--log-level', 'warn', '--bind', '127.0.0.1'].includes(x)).join(' ')}\``).join(', ')
  const table = cpuTable(j.rows) + `\n\nFrom \`bench/results/${base}.md\` (${j.machine.cpus} CPUs, ${j.versions.node}, ${j.versions.redis.split(' ').slice(0, 3).join(' ')}; ${servers}; ` +
    `${j.requests.toLocaleString('en')} requests unpipelined, ${j.pipeRequests.toLocaleString('en')} at -P 16; ${j.wallS} s).\n`
  writeFileSync(readmePath, text.slice(0, a) + '<!-- cpu:begin -->\n' + table + text.slice(b))
}
