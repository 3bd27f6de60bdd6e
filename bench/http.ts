// Load on the HTTP port with autocannon: the probes (/healthz, /readyz, /metrics), and the
// Upstash-compatible REST API (GET and SET per request, a 100-command pipeline per request) beside
// the same work over RESP with redis-benchmark at the same concurrency. FlashKV only: Redis has no
// HTTP. Beside throughput, the server's CPU time per command (all its threads, from /proc), which
// a loaded machine disturbs less. Writes bench/results/<date>-<commit>-http.{json,md}.
// Run: npm run bench:http [-- --io-threads 1,4 --duration 5 --connections 10 --shards 2]

import { writeFileSync, mkdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import autocannon from 'autocannon'
import { ROOT, flashkvSpec, freePort, start, stop, redisBenchmark, gitCommit, versionOf } from './servers.js'

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(name)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def
}
const IO = arg('--io-threads', '1,4').split(',').map(Number)
const DURATION = Number(arg('--duration', '5'))
const CONNECTIONS = Number(arg('--connections', '10'))
const SHARDS = arg('--shards', '2')
const VALUE = 'x'.repeat(100)
const PIPELINE = 100

interface Row {
  io: number, work: string, commandsPerRequest: number,
  rest: { rps: number, p50: number, p99: number, errors: number, cpuUsPerCmd: number },
  resp: { rps: number, p50: number, p99: number, command: string, cpuUsPerCmd: number } | null
}

/** CPU milliseconds a process has used, all threads (NaN off Linux). */
function cpuMs (pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch { return NaN }
}

async function load (url: string, body: string | undefined, pid = 0, perRequest = 1): Promise<{ rps: number, p50: number, p99: number, errors: number, cpuUsPerCmd: number }> {
  const c0 = cpuMs(pid)
  const r = await autocannon({
    url, connections: CONNECTIONS, duration: DURATION,
    ...(body === undefined ? {} : { method: 'POST', body, headers: { 'content-type': 'application/json' } }),
  })
  const cpuUsPerCmd = (cpuMs(pid) - c0) * 1000 / (r.requests.total * perRequest)
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, cpuUsPerCmd }
}

const rows: Row[] = []
const probes: string[] = []
const hasRedisBenchmark = versionOf('redis-benchmark', ['--version']) !== 'unknown'
for (const io of IO) {
  const httpPort = await freePort()
  const [name, cmd, argv] = flashkvSpec(`flashkv-io${io}`, ['--shards', SHARDS, '--io-threads', String(io), '--http-port', String(httpPort)])
  const server = await start(name, cmd, argv)
  const base = `http://127.0.0.1:${httpPort}`
  try {
    if (io === IO[0]) {
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        const r = await load(base + path, undefined)
        probes.push(`| ${path} | ${Math.round(r.rps).toLocaleString('en')} | ${r.p50} | ${r.p99} | ${r.errors} |`)
      }
    }
    await fetch(base + '/', { method: 'POST', body: JSON.stringify(['SET', 'bench:k', VALUE]) })
    const pipeline = JSON.stringify(Array.from({ length: PIPELINE }, (_v, i) => ['SET', `bench:p:${i}`, VALUE]))
    const cases: Array<[work: string, per: number, body: string, path: string, test: string, n: number, p: number]> = [
      ['GET', 1, JSON.stringify(['GET', 'bench:k']), '/', 'get', 200_000, 1],
      ['SET 100 B', 1, JSON.stringify(['SET', 'bench:k', VALUE]), '/', 'set', 200_000, 1],
      [`pipeline of ${PIPELINE} SET 100 B`, PIPELINE, pipeline, '/pipeline', 'set', 2_000_000, PIPELINE],
    ]
    // Warm up (JIT on every thread that serves REST) before the measured rows.
    await autocannon({ url: base + '/', connections: CONNECTIONS, duration: 2, method: 'POST', body: cases[0][2] })
    for (const [work, per, body, path, test, n, p] of cases) {
      const rest = await load(base + path, body, server.pid, per)
      const c0 = cpuMs(server.pid)
      const run = hasRedisBenchmark ? redisBenchmark(server.port, test, n, CONNECTIONS, p, 100) : null
      const resp = run === null ? null : { rps: run.rps, p50: run.p50, p99: run.p99, command: run.command, cpuUsPerCmd: (cpuMs(server.pid) - c0) * 1000 / n }
      rows.push({ io, work, commandsPerRequest: per, rest, resp })
      const f = (x: number): string => Math.round(x).toLocaleString('en')
      console.log(`io ${io}  ${work.padEnd(24)} REST ${f(rest.rps)} req/s = ${f(rest.rps * per)} cmd/s  p50 ${rest.p50} p99 ${rest.p99} ms  ${rest.cpuUsPerCmd.toFixed(1)} µs CPU/cmd  errors ${rest.errors}` +
        (resp === null ? '' : `   RESP ${f(resp.rps)} cmd/s  p50 ${resp.p50} p99 ${resp.p99} ms  ${resp.cpuUsPerCmd.toFixed(1)} µs CPU/cmd`))
    }
  } finally {
    await stop(server)
  }
}

const date = new Date().toISOString().slice(0, 10)
const commit = gitCommit()
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' }
const versions = { node: process.version, redisBenchmark: versionOf('redis-benchmark', ['--version']) }
const f = (x: number): string => Math.round(x).toLocaleString('en')
const md = [
  `# HTTP port, ${date} (${commit})`,
  '',
  `${machine.cpus} CPUs (${machine.cpuModel}), Node ${versions.node}, ${versions.redisBenchmark}. FlashKV \`--shards ${SHARDS}\`,`,
  `autocannon with ${CONNECTIONS} connections for ${DURATION} s per row; RESP is redis-benchmark \`-c ${CONNECTIONS} -d 100 -r 100000\`,`,
  `\`-P ${PIPELINE}\` for the pipeline row. REST requests are POSTed JSON (\`["GET","k"]\` to \`/\`, an array of ${PIPELINE} SETs to \`/pipeline\`).`,
  'CPU µs/cmd: the server process\'s CPU time (every thread: HTTP, I/O, shards) over the commands run.',
  '',
  '| io-threads | work | REST req/s | REST cmd/s | REST p50 / p99 ms | REST CPU µs/cmd | RESP cmd/s | RESP p50 / p99 ms | RESP CPU µs/cmd | REST ÷ RESP cmd/s |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(r => `| ${r.io} | ${r.work} | ${f(r.rest.rps)} | ${f(r.rest.rps * r.commandsPerRequest)} | ${r.rest.p50} / ${r.rest.p99} | ${r.rest.cpuUsPerCmd.toFixed(1)} | ` +
    (r.resp === null ? '- | - | - | - |' : `${f(r.resp.rps)} | ${r.resp.p50} / ${r.resp.p99} | ${r.resp.cpuUsPerCmd.toFixed(1)} | ${(r.rest.rps * r.commandsPerRequest / r.resp.rps).toFixed(2)} |`)),
  '',
  `Probes (\`--io-threads ${IO[0]}\`):`,
  '',
  '| path | req/s | p50 ms | p99 ms | errors |',
  '|---|---|---|---|---|',
  ...probes,
  '',
].join('\n')
const out = `bench/results/${date}-${commit}-http`
mkdirSync(new URL('bench/results/', ROOT), { recursive: true })
writeFileSync(new URL(`${out}.json`, ROOT), JSON.stringify({ date, commit, machine, versions, shards: SHARDS, connections: CONNECTIONS, duration: DURATION, rows }, null, 1) + '\n')
writeFileSync(new URL(`${out}.md`, ROOT), md)
console.log(`wrote ${out}.{json,md}`)
