// BGSAVE of 1M keys, FlashKV's fork-free snapshot against Redis's fork: how long the save takes
// and what other clients see meanwhile (p50/p99/max of SET and GET from a few clients writing
// and reading the keys being saved), next to the same clients' figures just before it.
// Run: npm run bench:bgsave [-- --keys N --shards N]. Writes bench/results/<date>-<commit>-bgsave.{md,json}.

import { mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { ROOT, start, stop, gitCommit, versionOf, type Server } from './servers.js'

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}
const KEYS = arg('keys', 1_000_000)
const SHARDS = arg('shards', 2)
const CLIENTS = 4
const BASELINE_MS = 2000

interface Result { server: string, keys: number, fileBytes: number, seconds: number, before: Stats, during: Stats }
interface Stats { requests: number, p50: number, p99: number, max: number }

function stats (lat: number[]): Stats {
  const s = [...lat].sort((a, b) => a - b)
  const at = (q: number): number => s.length === 0 ? 0 : Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 1000) / 1000
  return { requests: s.length, p50: at(0.5), p99: at(0.99), max: s.length === 0 ? 0 : Math.round(s[s.length - 1] * 1000) / 1000 }
}

async function fill (c: Redis): Promise<void> {
  const batch = 1000
  for (let i = 0; i < KEYS; i += batch * 50) {
    const p = c.pipeline()
    for (let j = i; j < Math.min(KEYS, i + batch * 50); j += batch) {
      const args: string[] = []
      for (let k = j; k < Math.min(KEYS, j + batch); k++) args.push(`key:${k}`, `value-${k}-${'x'.repeat(k % 32)}`)
      p.mset(...args)
    }
    await p.exec()
  }
}

async function info (c: Redis): Promise<Record<string, string>> {
  const text = await c.info('persistence')
  return Object.fromEntries(text.split('\r\n').filter(l => l.includes(':')).map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]))
}

/** Clients alternating SET and GET on random keys; each latency in ms lands in the current window. */
function load (port: number): { window: number[][], stop: () => Promise<void> } {
  const window: number[][] = [[]]
  let isRunning = true
  const runs = Array.from({ length: CLIENTS }, async () => {
    const c = new Redis({ port, host: '127.0.0.1' })
    for (let n = 0; isRunning; n++) {
      const k = `key:${Math.floor(Math.random() * KEYS)}`
      const t = process.hrtime.bigint()
      if ((n & 1) === 0) await c.set(k, `new-${n}`)
      else await c.get(k)
      window[window.length - 1].push(Number(process.hrtime.bigint() - t) / 1e6)
    }
    c.disconnect()
  })
  return { window, stop: async () => { isRunning = false; await Promise.all(runs) } }
}

async function measure (s: Server, dir: string): Promise<Result> {
  const c = new Redis({ port: s.port, host: '127.0.0.1' })
  await fill(c)
  const keys = await c.dbsize()
  const l = load(s.port)
  await new Promise(resolve => setTimeout(resolve, BASELINE_MS))
  l.window.push([])
  const saves = Number((await info(c)).rdb_saves)
  const t0 = process.hrtime.bigint()
  await c.bgsave()
  for (;;) {
    const i = await info(c)
    if (i.rdb_bgsave_in_progress === '0' && Number(i.rdb_saves) > saves) break
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  await l.stop()
  const fileBytes = statSync(join(dir, 'dump.rdb')).size
  c.disconnect()
  return { server: s.name, keys, fileBytes, seconds: Math.round(seconds * 100) / 100, before: stats(l.window[0]), during: stats(l.window[1]) }
}

const results: Result[] = []
for (const which of ['redis', 'flashkv']) {
  const dir = mkdtempSync(join(tmpdir(), 'flashkv-bench-bgsave-'))
  const s = which === 'redis'
    ? await start('redis 7.0 (fork)', 'redis-server', ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir])
    : await start(`flashkv --shards ${SHARDS}`, process.execPath, [new URL('dist/src/main.js', ROOT).pathname, '--save', '', '--shards', String(SHARDS), '--log-level', 'warn', '--bind', '127.0.0.1', '--dir', dir])
  try {
    const r = await measure(s, dir)
    results.push(r)
    console.log(JSON.stringify(r))
  } finally {
    await stop(s)
    rmSync(dir, { recursive: true, force: true })
  }
}

const row = (r: Result): string => `| ${r.server} | ${r.keys.toLocaleString('en')} | ${(r.fileBytes / 1e6).toFixed(1)} MB | ${r.seconds} s | ` +
  `${r.before.p50} / ${r.before.p99} / ${r.before.max} ms | ${r.during.p50} / ${r.during.p99} / ${r.during.max} ms | ${r.during.requests.toLocaleString('en')} |`
const md = [
  `# BGSAVE of ${KEYS.toLocaleString('en')} keys (${gitCommit()}, ${new Date().toISOString().slice(0, 10)})`,
  '',
  `${CLIENTS} clients alternate SET and GET on random keys of the data set being saved; latency p50 / p99 / max before the BGSAVE (${BASELINE_MS / 1000} s) and while it runs (from BGSAVE until INFO shows it done). ${versionOf('redis-server', ['--version'])}; node ${process.version}.`,
  '',
  '| server | keys | file | BGSAVE took | before: p50 / p99 / max | during: p50 / p99 / max | requests during |',
  '|---|---|---|---|---|---|---|',
  ...results.map(row),
  '',
].join('\n')
console.log(md)
const name = `${new Date().toISOString().slice(0, 10)}-${gitCommit()}-bgsave`
writeFileSync(new URL(`bench/results/${name}.md`, ROOT), md)
writeFileSync(new URL(`bench/results/${name}.json`, ROOT), JSON.stringify(results, null, 2) + '\n')
