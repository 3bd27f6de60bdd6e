// Eviction's cost, FlashKV beside Redis in the same run: SET throughput (redis-benchmark, random
// keys out of a million, 100-byte values) with no maxmemory, and at allkeys-lru with maxmemory
// reached, so that nearly every SET evicts a key first. Both servers are configured alike
// (maxmemory, policy, maxmemory-samples 5). Also the memory of a small string key (INFO
// used_memory per key after 200,000 SETs), which the access clock in the entry header changed;
// --baseline <dir> measures another FlashKV build (its dist/) beside this one.
//
//   npm run bench:evict [-- --n 300000 --shards 2 --maxmemory 4mb --baseline /path/to/old/checkout]

import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { ROOT, start, stop, rawCommand, gitCommit, redisSpec, flashkvSpec, redisBenchmark, median, respCommand, type Spec } from './servers.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string): string => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt }
const N = Number(opt('--n', '300000'))
const SHARDS = opt('--shards', '2')
const MAXMEMORY = opt('--maxmemory', '4mb')
const BASELINE = opt('--baseline', '')
const RUNS = Number(opt('--runs', '3'))
const KEYS = 200_000
const VALUES = Array.from({ length: 16 }, (_, i) => 'v'.repeat(i + 1))


async function info (port: number, field: string): Promise<number> {
  return Number(new RegExp(`${field}:(\\d+)`).exec(await rawCommand(port, respCommand(['INFO', 'all'])))?.[1])
}

/** SET key:0..n-1 to values of 1 to 16 bytes (so that size-class rounding averages out), pipelined. */
async function load (port: number, n: number): Promise<void> {
  const s = connect(port, '127.0.0.1')
  await new Promise(resolve => s.once('connect', resolve))
  let pending = 0
  let wake: (() => void) | null = null
  s.on('data', d => {
    for (const b of d) if (b === 10) pending--
    if (pending <= 0 && wake !== null) { const w = wake; wake = null; w() }
  })
  for (let i = 0; i < n; i += 1000) {
    let batch = ''
    for (let k = i; k < Math.min(n, i + 1000); k++) batch += respCommand(['SET', `key:${k}`, VALUES[k & 15]])
    pending += Math.min(n, i + 1000) - i
    await new Promise<void>(resolve => { wake = resolve; s.write(batch) })
  }
  s.destroy()
}

async function config (port: number, ...kv: string[]): Promise<void> {
  const r = await rawCommand(port, respCommand(['CONFIG', 'SET', ...kv]))
  if (!r.startsWith('+OK')) throw new Error(`CONFIG SET ${kv.join(' ')}: ${r.trim()}`)
}

const specs: Spec[] = [redisSpec(), flashkvSpec(`flashkv-${SHARDS}`, ['--shards', SHARDS])]
const baseline: Spec | null = BASELINE === '' ? null : [`flashkv-${SHARDS}-baseline`, process.execPath, [new URL(`file://${BASELINE}/dist/src/main.js`).pathname, '--shards', SHARDS, '--log-level', 'warn', '--bind', '127.0.0.1', '--dir', '/tmp']]

// 1. Memory per small string key.
const perKey: Array<{ server: string, bytes: number }> = []
for (const [name, c, argv] of baseline === null ? specs : [...specs, baseline]) {
  const s = await start(name, c, argv)
  try {
    const u0 = await info(s.port, 'used_memory')
    await load(s.port, KEYS)
    const u1 = await info(s.port, 'used_memory')
    perKey.push({ server: name, bytes: (u1 - u0) / KEYS })
    process.stderr.write(`${name}: ${((u1 - u0) / KEYS).toFixed(1)} B per key (key:N -> 1 to 16 bytes)\n`)
  } finally {
    await stop(s)
  }
}

// 2. SET throughput without eviction and with it.
interface Row { server: string, mode: string, rps: number, p50: number, evicted: number, used: number }
const rows: Row[] = []
for (const [name, c, argv] of specs) {
  for (const mode of ['no maxmemory', `allkeys-lru, maxmemory ${MAXMEMORY} reached`]) {
    const s = await start(name, c, argv)
    try {
      const isEvict = mode !== 'no maxmemory'
      if (isEvict) {
        await config(s.port, 'maxmemory', MAXMEMORY, 'maxmemory-policy', 'allkeys-lru', 'maxmemory-samples', '5')
        // Fill past the limit first: every measured SET of a new key evicts.
        redisBenchmark(s.port, 'set', N, 50, 16, 100)
      }
      const runs = Array.from({ length: RUNS }, () => redisBenchmark(s.port, 'set', N, 50, 16, 100))
      const rps = median(runs.map(r => r.rps))
      const p50 = median(runs.map(r => r.p50))
      const evicted = await info(s.port, 'evicted_keys')
      const used = await info(s.port, 'used_memory')
      rows.push({ server: name, mode, rps, p50, evicted, used })
      process.stderr.write(`${name}: ${mode}: ${Math.round(rps)} SET/s, p50 ${p50} ms, evicted ${evicted}, used_memory ${used}\n`)
    } finally {
      await stop(s)
    }
  }
}

const date = new Date().toISOString().slice(0, 10)
const commit = gitCommit()
let md = `# Eviction: SET throughput with and without it (${date}, ${commit})\n\n`
md += `redis-benchmark -t set -n ${N} -r 100000 -c 50 -P 16 -d 100, median of ${RUNS} runs; FlashKV with ${SHARDS} shards. `
md += `With eviction, the server is first filled past maxmemory ${MAXMEMORY} (allkeys-lru, maxmemory-samples 5), so that most SETs (of keys not kept) evict one first. Shared 2-core box: compare within a run.\n\n`
md += '| server | mode | SET/s | p50 ms | evicted_keys | used_memory |\n|---|---|---|---|---|---|\n'
for (const r of rows) md += `| ${r.server} | ${r.mode} | ${Math.round(r.rps)} | ${r.p50} | ${r.evicted} | ${r.used} |\n`
md += `\n## Memory per small string key\n\n${KEYS.toLocaleString('en')} SETs of key:N to values of 1 to 16 bytes on a fresh server: growth of used_memory per key.\n\n| server | bytes per key |\n|---|---|\n`
for (const p of perKey) md += `| ${p.server} | ${p.bytes.toFixed(1)} |\n`
const file = `bench/results/${date}-${commit}-evict.md`
writeFileSync(new URL(file, ROOT), md)
writeFileSync(new URL(file.replace(/\.md$/, '.json'), ROOT), JSON.stringify({ date, commit, n: N, shards: SHARDS, maxmemory: MAXMEMORY, rows, perKey }, null, 2) + '\n')
process.stderr.write(`wrote ${file}\n`)
