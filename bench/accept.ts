// New connections: what accepting a client costs, beside Redis 7 in one run. redis-benchmark
// opens its 50 clients at once at the start of every run, and a pool does the same when an
// application starts; the slowest request of a run used to be the first request of the last
// client accepted in that burst.
//   burst: 50 clients connect at once, each sends one command (PING, or a GET that goes to a
//          shard) as soon as it is connected, waits for the reply and closes. Reported: the time
//          from the first connect to the last reply, and the slowest first reply, medians of the
//          rounds; and the server's CPU per client (every thread, /proc/<pid>/task/*/stat).
//   redis-benchmark GET -c 50: the slowest request (its "max") and p99, medians of the rounds; and
//          GET -c 50 -k 0, a new connection for every request: requests per second.
// Run: npm run bench:accept [-- --quick] [-- --rounds N]
// Writes bench/results/<date>-<commit>[-quick]-accept.{json,md}.

import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { clockTicks, threadTicks } from './cpu.js'
import { ROOT, flashkvSpec, gitCommit, median, redisBenchmark, redisSpec, start, stop, versionOf, type Server } from './servers.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const roundsAt = args.indexOf('--rounds')
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : (quick ? 5 : 20)
const BURST = 50
/** Bursts per sample; the CPU figure is the sum over all samples (a tick is 10 ms). */
const BURSTS = 10
const COMMANDS: Record<string, string> = { PING: '*1\r\n$4\r\nPING\r\n', GET: '*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n' }

/** CPU ticks (user + system) of every thread of a process. */
function cpuTicks (pid: number): number {
  let sum = 0
  for (const t of threadTicks(pid).values()) sum += t
  return sum
}

/** One burst: resolves with [ms from the first connect to the last reply, slowest first reply in ms]. */
async function burst (port: number, command: string): Promise<[number, number]> {
  const t0 = process.hrtime.bigint()
  const firsts = await Promise.all(Array.from({ length: BURST }, () => new Promise<number>((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    s.setNoDelay(true)
    let at = 0n
    s.once('connect', () => { at = process.hrtime.bigint(); s.write(command) })
    s.once('data', () => { resolve(Number(process.hrtime.bigint() - at) / 1e6); s.destroy() })
    s.once('error', reject)
  })))
  return [Number(process.hrtime.bigint() - t0) / 1e6, Math.max(...firsts)]
}

/** redis-benchmark GET at -c 50: [max ms, p99 ms] from its latency summary. */
function benchmarkMax (port: number, n: number): [number, number] {
  const text = execFileSync('redis-benchmark', ['-p', String(port), '-t', 'get', '-n', String(n), '-c', '50', '-r', '100000'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\r/g, '\n')
  // "  avg       min       p50       p95       p99       max" then the values.
  const m = /avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(text)
  return m === null ? [NaN, NaN] : [Number(m[6]), Number(m[5])]
}

interface Row { server: string, command: string, burstMs: number[], firstMaxMs: number[], cpuTicks: number, clients: number }
interface BenchRow { server: string, maxMs: number[], p99Ms: number[], reconnectRps: number[] }
const rows: Row[] = []
const benchRows: BenchRow[] = []
const servers: Server[] = []
for (const [name, cmd, argv] of [redisSpec(), flashkvSpec('flashkv-1', ['--shards', '1']), flashkvSpec('flashkv-2', ['--shards', '2'])]) {
  servers.push(await start(name, cmd, argv))
}
const tick = 1e6 / clockTicks()
try {
  // Warm-up: FlashKV's accept path runs as optimized code only after some hundreds of clients.
  for (const s of servers) for (let i = 0; i < 10; i++) for (const c of Object.keys(COMMANDS)) await burst(s.port, COMMANDS[c])
  for (let r = 0; r < rounds; r++) {
    for (const s of servers) {
      for (const [command, bytes] of Object.entries(COMMANDS)) {
        let row = rows.find(x => x.server === s.name && x.command === command)
        if (row === undefined) { row = { server: s.name, command, burstMs: [], firstMaxMs: [], cpuTicks: 0, clients: 0 }; rows.push(row) }
        const c0 = cpuTicks(s.pid)
        let ms = 0
        let first = 0
        for (let i = 0; i < BURSTS; i++) {
          const [b, f] = await burst(s.port, bytes)
          ms += b
          first = Math.max(first, f)
        }
        row.cpuTicks += cpuTicks(s.pid) - c0
        row.clients += BURSTS * BURST
        row.burstMs.push(ms / BURSTS)
        row.firstMaxMs.push(first)
      }
    }
  }
  for (let r = 0; r < Math.max(3, Math.ceil(rounds / 4)); r++) {
    for (const s of servers) {
      let row = benchRows.find(x => x.server === s.name)
      if (row === undefined) { row = { server: s.name, maxMs: [], p99Ms: [], reconnectRps: [] }; benchRows.push(row) }
      const [max, p99] = benchmarkMax(s.port, quick ? 50_000 : 200_000)
      row.maxMs.push(max)
      row.p99Ms.push(p99)
      // -k 0: a new connection for every request. 5,000 only: every connection the client closes
      // waits in TIME_WAIT for a minute, and with tens of thousands of them the client's own
      // connect() bounds the rate (Redis: 36-40k req/s over 5,000 requests, 17k over 20,000).
      const rps = redisBenchmark(s.port, 'get', 5_000, 50, 1, 3, 0, ['-k', '0']).rps
      row.reconnectRps.push(rps)
      process.stderr.write(`${s.name.padEnd(10)} redis-benchmark GET -c 50: max ${max} ms, p99 ${p99} ms; -k 0: ${Math.round(rps)} req/s\n`)
    }
  }
} finally {
  for (const s of servers) await stop(s)
}

const f1 = (n: number): string => n.toFixed(1)
const lines = [
  `# Accepting clients, ${new Date().toISOString().slice(0, 10)} (${gitCommit()})`, '',
  `Bursts of ${BURST} clients that connect at once, send one command each on connect, read the reply and close;`,
  `${rounds} rounds of ${BURSTS} bursts per server and command, servers interleaved; medians of the rounds' means and maxima. CPU: every thread of the server, all rounds.`,
  `${versionOf('redis-server', ['--version'])}; Node ${process.version}.`, '',
  '| server | command | burst of 50, ms | slowest first reply, ms | CPU µs per client |',
  '|---|---|---|---|---|',
]
for (const r of rows) lines.push(`| ${r.server} | ${r.command} | ${f1(median(r.burstMs))} | ${f1(median(r.firstMaxMs))} | ${Math.round(r.cpuTicks * tick / r.clients)} |`)
lines.push('', `redis-benchmark -t get -c 50 -r 100000 -n ${quick ? '50,000' : '200,000'} (each run opens its 50 clients anew), and -n 5,000 with -k 0, medians of ${benchRows[0]?.maxMs.length ?? 0} runs:`, '',
  '| server | slowest request (max), ms | p99, ms | with -k 0 (a new client per request), req/s (×Redis) |', '|---|---|---|---|')
const redisReconnect = median(benchRows.find(r => r.server === 'redis')?.reconnectRps ?? [])
for (const r of benchRows) {
  const rps = median(r.reconnectRps)
  lines.push(`| ${r.server} | ${median(r.maxMs)} | ${median(r.p99Ms)} | ${Math.round(rps).toLocaleString('en')} (${(rps / redisReconnect).toFixed(2)}) |`)
}
const base = `${new Date().toISOString().slice(0, 10)}-${gitCommit()}${quick ? '-quick' : ''}-accept`
mkdirSync(new URL('bench/results/', ROOT), { recursive: true })
writeFileSync(new URL(`bench/results/${base}.json`, ROOT), JSON.stringify({ rounds, burst: BURST, rows, benchRows }, null, 1) + '\n')
writeFileSync(new URL(`bench/results/${base}.md`, ROOT), lines.join('\n') + '\n')
process.stdout.write(lines.join('\n') + '\n')
process.stderr.write(`wrote bench/results/${base}.{json,md}\n`)
