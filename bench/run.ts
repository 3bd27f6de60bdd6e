// End-to-end benchmark: a real redis-server and FlashKV (--shards 1, 2, 4 by default) side by
// side in one run, redis-benchmark against each in turn (interleaved per test, so the machine's
// noise falls on every server alike), plus memory per key after loading 1,000,000 keys.
// A bare Node socket server (node-floor.ts) runs PING_MBULK too: the floor any Node server has.
// Each test runs --repeat times per server (3 in the full run), rounds interleaved, and the
// tables show the median of each figure: one noisy second on a shared box then moves one
// run's p99, not the result. Every run is kept in the JSON.
// Writes bench/results/<date>-<commit>.{json,md,svg}; with --readme, also the README table.
//
//   npm run bench               full run (about 16 minutes on 2 cores), then bench/{http,tls,evict,bgsave,aof,accept}.ts (--no-extras: not)
//   npm run bench -- --quick    about three minutes: fewer requests, 3-byte values, 200k keys, 1 round
//   options: --modes c50,c50-P16,c1,c50-txn  --shards 1,2,4  --threads N (redis-benchmark --threads)  --repeat N  --readme
//            --tests zrangebyscore,sinter  --no-memory  --memory-only
//            --warmup N   untimed requests per test first (10000 unpipelined, 4x at -P 16; 0 = none)
//            --pin   every server on the first CPU this process may use, the load generators on the rest
//            --held-scripts   adds flashkv-N-held for each --shards N: scripts on the held path (FLASHKV_SCRIPTS_IN_SHARD=0)
//            --report bench/results/X.json   re-render X.md, X.svg (and with --readme the README
//                                            table) from a saved run, e.g. one from a lent machine
//   npm run bench -- --cpu [--quick]   CPU µs per command of each thread kind, and the ceiling that
//                                      follows: see bench/cpu.ts (a saved -cpu.json re-renders too)

import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { cpus, totalmem } from 'node:os'
import { basename } from 'node:path'
import { chartSvg } from './chart.js'
import { cpuMain } from './cpu.js'
import { FEATURE_TESTS, featureRun } from './features.js'
import {
  ROOT, type Run, type Spec, type Server, redisSpec, flashkvSpec, start, stop, median, pinFromArgs,
  redisBenchmark as runBenchmark, prepareCustom, rawCommand, gitCommit, versionOf,
} from './servers.js'
const args = process.argv.slice(2)
const has = (f: string): boolean => args.includes(f)
const opt = (f: string, d: string): string => { const i = args.indexOf(f); return i >= 0 && i + 1 < args.length ? args[i + 1] : d }

const QUICK = has('--quick')
/** --pin: servers on one CPU, redis-benchmark and the Node clients on the others (servers.ts). */
const PIN = pinFromArgs(args)
const SHARDS = opt('--shards', '1,2,4').split(',').map(Number)
const THREADS = Number(opt('--threads', '0'))
const REQUESTS = Number(opt('--requests', QUICK ? '30000' : '100000'))
const REPEAT = Number(opt('--repeat', QUICK ? '1' : '3'))
const PIPE_REQUESTS = REQUESTS * (QUICK ? 4 : 5)
const MEMORY_KEYS = Number(opt('--memory-keys', QUICK ? '200000' : '1000000'))
const TESTS = ['ping_mbulk', 'set', 'get', 'incr', 'lpush', 'lpop', 'mset', 'hset', 'sadd', 'spop', 'zadd', 'zpopmin', 'lrange_100', 'lrange_600', 'zrangebyscore', 'sinter', 'evalsha', 'xadd', 'xread']
const SIZES = QUICK ? [3] : [3, 1024]
/** Requests per test of the untimed warm-up (-P 16: 4x), 0 = none. */
const WARMUP = Number(opt('--warmup', '10000'))
/** --modes c50,c50-txn: only these modes (all by default). */
const MODES = opt('--modes', '').split(',').filter(m => m !== '')
/** --tests zadd,sinter: only these of the redis-benchmark tests (all by default). */
const ONLY_TESTS = opt('--tests', '').split(',').filter(t => t !== '')

/** A server's figures for one test: the median of its runs, each figure on its own. */
interface Row extends Run { server: string, mode: string, runs: number }

/** Runs redis-benchmark (with --threads as given) and reads throughput and p50/p99/p99.9. */
function redisBenchmark (port: number, test: string, n: number, clients: number, pipeline: number, size: number): Run {
  return runBenchmark(port, test, n, clients, pipeline, size, THREADS)
}

function rssBytes (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024
}

async function infoUsedMemory (port: number): Promise<number> {
  const text = await rawCommand(port, 'INFO memory\r\n')
  return Number(/used_memory:(\d+)/.exec(text)?.[1])
}

/** Loads `count` keys key:%09d with 16-byte values through one pipelined connection. */
async function loadKeys (port: number, count: number): Promise<void> {
  const s = connect(port, '127.0.0.1')
  await new Promise(resolve => s.once('connect', resolve))
  let pending = 0
  let done: (() => void) | null = null
  s.on('data', d => {
    for (const b of d) if (b === 10) pending--
    if (pending === 0 && done !== null) done()
  })
  const value = 'v'.repeat(16)
  const BATCH = 10_000
  for (let i = 0; i < count; i += BATCH) {
    let chunk = ''
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      const key = `key:${String(j).padStart(9, '0')}`
      chunk += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$16\r\n${value}\r\n`
      pending++
    }
    s.write(chunk)
    await new Promise<void>(resolve => { done = resolve; if (pending === 0) resolve() })
  }
  s.destroy()
}

async function main (): Promise<void> {
  const specs: Spec[] = [redisSpec()]
  for (const n of SHARDS) specs.push(flashkvSpec(`flashkv-${n}`, ['--shards', String(n)]))
  // The same build with every script holding every shard: what running them inside a worker gains.
  if (has('--held-scripts')) for (const n of SHARDS) specs.push(flashkvSpec(`flashkv-${n}-held`, ['--shards', String(n), 'FLASHKV_SCRIPTS_IN_SHARD=0']))
  const floor = new URL('dist/bench/node-floor.js', ROOT).pathname
  const rows: Row[] = []
  const runs: Array<Run & { server: string, mode: string, round: number }> = []
  const modes: Array<{ mode: string, clients: number, pipeline: number, n: number, tests: string[], feature?: true }> = [
    { mode: 'c50', clients: 50, pipeline: 1, n: REQUESTS, tests: TESTS },
    { mode: 'c50-P16', clients: 50, pipeline: 16, n: PIPE_REQUESTS, tests: TESTS },
    { mode: 'c1', clients: 1, pipeline: 1, n: Math.max(5000, REQUESTS / 10), tests: ['set', 'get'] },
    // What redis-benchmark cannot drive (bench/features.ts): transactions, one at a time per client.
    { mode: 'c50-txn', clients: 50, pipeline: 1, n: REQUESTS / 2, tests: FEATURE_TESTS, feature: true },
  ]
  if (!has('--memory-only')) {
    const servers: Server[] = []
    for (const spec of specs) servers.push(await start(...spec))
    servers.push(await start('node-floor', process.execPath, [floor], ['ping_mbulk']))
    try {
      // Untimed first, every server alike: each redis-benchmark test unpipelined and at -P 16, so
      // that FlashKV's JIT is warm when the clock starts, as in a server that has been up a while
      // (a cold server read up to 20% lower in its first run; Redis is the same either way).
      if (WARMUP > 0) {
        for (const test of TESTS) {
          if (ONLY_TESTS.length > 0 && !ONLY_TESTS.includes(test)) continue
          for (const s of servers.filter(x => x.only === null || x.only.includes(test))) {
            await prepareCustom(s.port, test)
            for (const pipeline of [1, 16]) redisBenchmark(s.port, test, pipeline === 1 ? WARMUP : WARMUP * 4, 50, pipeline, SIZES[0])
          }
        }
        if (MODES.length === 0 || MODES.includes('c50-txn')) {
          for (const test of FEATURE_TESTS) for (const s of servers.filter(x => x.only === null)) await featureRun(s.port, test, Math.max(1000, WARMUP / 5), 50, SIZES[0])
        }
      }
      for (const m of modes) {
        if (MODES.length > 0 && !MODES.includes(m.mode)) continue
        for (const size of m.feature === true ? SIZES.slice(0, 1) : SIZES) {
          for (const test of m.tests) {
            if (ONLY_TESTS.length > 0 && m.feature !== true && !ONLY_TESTS.includes(test)) continue
            const mine = servers.filter(s => s.only === null || s.only.includes(test))
            if (m.feature !== true) for (const s of mine) await prepareCustom(s.port, test)
            const byServer = new Map<string, Run[]>(mine.map(s => [s.name, []]))
            for (let round = 0; round < REPEAT; round++) {
              for (const s of mine) {
                const r = m.feature === true ? await featureRun(s.port, test, m.n, m.clients, size) : redisBenchmark(s.port, test, m.n, m.clients, m.pipeline, size)
                byServer.get(s.name)?.push(r)
                runs.push({ server: s.name, mode: m.mode, round, ...r })
                process.stderr.write(`${m.mode} d=${size} ${test.padEnd(10)} ${s.name.padEnd(10)} ${Math.round(r.rps).toString().padStart(9)} rps  p50 ${r.p50}  p99 ${r.p99}  p99.9 ${r.p999}\n`)
              }
            }
            for (const [server, rs] of byServer) {
              rows.push({
                ...rs[0], server, mode: m.mode, runs: rs.length,
                rps: median(rs.map(r => r.rps)), p50: median(rs.map(r => r.p50)), p99: median(rs.map(r => r.p99)), p999: median(rs.map(r => r.p999)),
              })
            }
          }
        }
      }
    } finally {
      await Promise.all(servers.map(stop))
    }
  }
  // Memory on fresh processes: a server that already ran the benchmark keeps freed pages
  // (jemalloc, V8), which would hide the growth we want to see.
  const memory: Array<{ server: string, keys: number, rssPerKey: number, usedMemoryPerKey: number }> = []
  if (!has('--no-memory')) {
    for (const spec of specs) {
      const s = await start(...spec)
      try {
        await new Promise(resolve => setTimeout(resolve, 500))
        const rss0 = rssBytes(s.pid)
        const used0 = await infoUsedMemory(s.port)
        await loadKeys(s.port, MEMORY_KEYS)
        await new Promise(resolve => setTimeout(resolve, 500))
        const rss1 = rssBytes(s.pid)
        const used1 = await infoUsedMemory(s.port)
        memory.push({ server: s.name, keys: MEMORY_KEYS, rssPerKey: (rss1 - rss0) / MEMORY_KEYS, usedMemoryPerKey: (used1 - used0) / MEMORY_KEYS })
        process.stderr.write(`memory ${s.name}: ${((rss1 - rss0) / MEMORY_KEYS).toFixed(1)} B/key RSS, ${((used1 - used0) / MEMORY_KEYS).toFixed(1)} B/key used_memory\n`)
      } finally {
        await stop(s)
      }
    }
  }
  report(rows, runs, memory)
}

type Memory = Array<{ server: string, keys: number, rssPerKey: number, usedMemoryPerKey: number }>
interface Meta { date: string, commit: string, machine: { cpus: number }, versions: { node: string, redis: string }, quick: boolean, repeat: number }

function report (rows: Row[], runs: Run[], memory: Memory): void {
  const date = new Date().toISOString().slice(0, 10)
  const commit = gitCommit()
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), ...(PIN === null ? {} : { pinned: `servers on CPU ${PIN.server}, load generators on ${PIN.client}` }) }
  const versions = { node: process.version, redis: versionOf('redis-server', ['--version']), redisBenchmark: versionOf('redis-benchmark', ['--version']) }
  const base = `${date}-${commit}${QUICK ? '-quick' : ''}${PIN === null ? '' : '-pin'}${has('--memory-only') ? '-memory' : ''}${THREADS > 0 ? `-threads${THREADS}` : ''}`
  mkdirSync(new URL('bench/results/', ROOT), { recursive: true })
  writeFileSync(new URL(`bench/results/${base}.json`, ROOT), JSON.stringify({ date, commit, quick: QUICK, machine, versions, shards: SHARDS, threads: THREADS, repeat: REPEAT, rows, runs, memory }, null, 1) + '\n')
  render(base, rows, memory, { date, commit, machine, versions, quick: QUICK, repeat: REPEAT })
}

/** Writes <base>.md and .svg from a run's rows, and with --readme the README table. */
function render (base: string, rows: Row[], memory: Memory, meta: Meta): void {
  const { machine, versions } = meta
  const dir = new URL('bench/results/', ROOT)
  const md = markdown(rows, memory, meta)
  writeFileSync(new URL(`${base}.md`, dir), md)
  if (rows.length > 0) writeFileSync(new URL(`${base}.svg`, dir), chartSvg(rows.filter(r => r.mode !== 'c1' && r.size === SIZES[0])))
  process.stderr.write(`wrote bench/results/${base}.{json,md,svg}\n`)
  if (has('--readme') && rows.length > 0) {
    const readmePath = new URL('README.md', ROOT)
    const readme = readFileSync(readmePath, 'utf8')
    const a = readme.indexOf('<!-- bench:begin -->')
    const b = readme.indexOf('<!-- bench:end -->')
    if (a >= 0 && b > a) {
      const table = tableFor(rows.filter(r => r.size === SIZES[0] && r.mode !== 'c1'), true) + `\n\nFrom \`bench/results/${base}.md\` (${machine.cpus} CPUs, ${versions.node}, ${versions.redis.split(' ').slice(0, 3).join(' ')}).\n`
      writeFileSync(readmePath, readme.slice(0, a) + '<!-- bench:begin -->\n' + table + readme.slice(b))
    }
  }
}

function tableFor (rows: Row[], withP99: boolean): string {
  const servers = [...new Set(rows.map(r => r.server))]
  const keys = [...new Set(rows.map(r => `${r.mode}|${r.size}|${r.test}`))]
  const head = `| test | ${servers.map(s => s === 'redis' ? 'redis ops/s' : `${s} ops/s (×redis)`).join(' | ')}${withP99 ? ' | p99 ms redis / ' + servers.slice(1).join(' / ') : ''} |`
  const lines = [head, `|${'---|'.repeat(servers.length + 1 + (withP99 ? 1 : 0))}`]
  for (const k of keys) {
    const [mode, size, test] = k.split('|')
    const byServer = new Map(rows.filter(r => `${r.mode}|${r.size}|${r.test}` === k).map(r => [r.server, r]))
    const redis = byServer.get('redis')
    const cells = servers.map(s => {
      const r = byServer.get(s)
      if (r === undefined) return '–'
      const v = Math.round(r.rps).toLocaleString('en')
      return s === 'redis' || redis === undefined ? v : `${v} (${(r.rps / redis.rps).toFixed(2)})`
    })
    const p99 = withP99 ? ` | ${servers.map(s => byServer.get(s)?.p99 ?? '–').join(' / ')}` : ''
    lines.push(`| ${test.toUpperCase()} ${mode}${size !== '3' ? ` d=${size}` : ''} | ${cells.join(' | ')}${p99} |`)
  }
  return lines.join('\n')
}

function markdown (rows: Row[], memory: Memory, meta: Meta): string {
  let md = `# Benchmark ${meta.date} (${meta.commit})\n\nMachine: \`${JSON.stringify(meta.machine)}\`  \nVersions: \`${JSON.stringify(meta.versions)}\`  \n`
  md += `Quick: ${meta.quick}. Servers started in one run and measured in turn per test, ${meta.repeat} interleaved round(s); each figure is the median over the rounds (every run is in the JSON). Ratios are to Redis. node-floor is a bare Node socket server that answers PING_MBULK without parsing (bench/node-floor.ts).\n\n`
  md += '## Throughput and p99 latency\n\n' + tableFor(rows, true) + '\n\n'
  md += '## Latency percentiles (ms)\n\n| server | test | mode | d | p50 | p99 | p99.9 |\n|---|---|---|---|---|---|---|\n'
  for (const r of rows) md += `| ${r.server} | ${r.test} | ${r.mode} | ${r.size} | ${r.p50} | ${r.p99} | ${r.p999} |\n`
  if (memory.length > 0) {
    md += `\n## Memory, ${memory[0].keys.toLocaleString('en')} keys (key:%09d, 16-byte values)\n\n| server | bytes/key (RSS growth) | bytes/key (INFO used_memory) |\n|---|---|---|\n`
    for (const m of memory) md += `| ${m.server} | ${m.rssPerKey.toFixed(1)} | ${m.usedMemoryPerKey.toFixed(1)} |\n`
  }
  md += '\n## Commands\n\n```\n' + [...new Set(rows.map(r => r.command.replace(/-p \d+ /, '-p PORT ')))].join('\n') + '\n```\n'
  return md
}

const saved = opt('--report', '')
if (has('--cpu') || (saved !== '' && (JSON.parse(readFileSync(saved, 'utf8')) as { cpu?: boolean }).cpu === true)) {
  await cpuMain(args)
} else if (saved !== '') {
  const j = JSON.parse(readFileSync(saved, 'utf8')) as Meta & { rows: Row[], memory: Memory }
  render(basename(saved).replace(/\.json$/, ''), j.rows, j.memory, j)
} else {
  await main()
  // The full run also reports what the issues ask of `npm run bench` beside the core table, each
  // side by side with Redis in its own results file: HTTP (REST GET/SET and a 100-command
  // pipeline per request), TLS, eviction's cost, BGSAVE of 1M keys, SET under appendfsync
  // everysec/always, bursts of new clients. --no-extras leaves them out (--no-http: the HTTP one alone).
  if (!QUICK && MODES.length === 0 && !has('--no-extras')) {
    for (const extra of ['http', 'tls', 'evict', 'bgsave', 'aof', 'accept']) {
      if (extra === 'http' && has('--no-http')) continue
      execFileSync(process.execPath, [new URL(`./${extra}.js`, import.meta.url).pathname], { stdio: 'inherit' })
    }
  }
}
