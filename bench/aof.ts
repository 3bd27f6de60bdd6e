// SET with the append-only file on, FlashKV against Redis configured the same way
// (`--appendonly yes --appendfsync everysec|always`), side by side: redis-benchmark -t set, 50
// clients, unpipelined and at -P 16, each server on its own empty directory of the same disk.
// Each figure is the median of --repeat interleaved rounds (3), each on a fresh server warmed by an
// untimed run of the same size (a tenth left FlashKV's JIT cold: that second run measures 20%
// more at 1 shard; Redis, in C, is the same either way).
// Run: npm run bench:aof [-- --n N --shards N --repeat N --pin]. Writes bench/results/<date>-<commit>-aof.{md,json}.

import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { ROOT, start, stop, gitCommit, versionOf, redisBenchmark, median, pinFromArgs, type Run } from './servers.js'

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}
const N = arg('n', 100_000)
const SHARDS = arg('shards', 2)
const CLIENTS = 50

const REPEAT = arg('repeat', 3)
/** --pin: both servers on one CPU, redis-benchmark on the others (servers.ts). */
const PIN = pinFromArgs(process.argv)

interface Row { fsync: string, pipeline: number, redis: Run, flashkv: Run, redisRuns: Run[], flashkvRuns: Run[] }

/** Each figure the median of the rounds, as run.ts takes it. */
function medianRun (runs: Run[]): Run {
  const m = (f: (r: Run) => number): number => median(runs.map(f))
  return { ...runs[0], rps: m(r => r.rps), p50: m(r => r.p50), p99: m(r => r.p99), p999: m(r => r.p999) }
}

async function measure (name: string, cmd: string, argv: (dir: string) => string[], pipeline: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'flashkv-aof-bench-'))
  try {
    const s = await start(name, cmd, argv(dir))
    try {
      // An untimed run of the same size first, the same for both: FlashKV's JIT is warm when
      // the clock starts, as in a server that has been up for a while.
      redisBenchmark(s.port, 'set', pipeline === 1 ? N : N * 4, CLIENTS, pipeline, 64)
      return redisBenchmark(s.port, 'set', pipeline === 1 ? N : N * 4, CLIENTS, pipeline, 64)
    } finally {
      await stop(s)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const main = new URL('dist/src/main.js', ROOT).pathname
  const rows: Row[] = []
  const t0 = Date.now()
  for (const fsync of ['everysec', 'always']) {
    for (const pipeline of [1, 16]) {
      const redisRuns: Run[] = []
      const flashkvRuns: Run[] = []
      // Rounds interleaved, so that the disk's and the neighbours' noise falls on both alike.
      for (let r = 0; r < REPEAT; r++) {
        redisRuns.push(await measure('redis', 'redis-server', dir => ['--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--bind', '127.0.0.1', '--dir', dir], pipeline))
        flashkvRuns.push(await measure('flashkv', process.execPath, dir => [main, '--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--shards', String(SHARDS), '--log-level', 'warn', '--bind', '127.0.0.1', '--dir', dir], pipeline))
      }
      const redis = medianRun(redisRuns)
      const flashkv = medianRun(flashkvRuns)
      rows.push({ fsync, pipeline, redis, flashkv, redisRuns, flashkvRuns })
      console.log(`${fsync} -P ${pipeline}: redis ${redisRuns.map(x => Math.round(x.rps)).join('/')} flashkv ${flashkvRuns.map(x => Math.round(x.rps)).join('/')} (median ${(flashkv.rps / redis.rps).toFixed(2)}x)`)
    }
  }
  const commit = gitCommit()
  const date = new Date().toISOString().slice(0, 10)
  const fs = (() => { try { return execFileSync('df', ['-T', tmpdir()], { encoding: 'utf8' }).split('\n')[1]?.split(/\s+/)[1] ?? '?' } catch { return '?' } })()
  const md = [
    `# SET with appendonly yes (${date}, ${commit})`, '',
    `redis-benchmark -t set -c ${CLIENTS} -d 64 (-n ${N} unpipelined, ${N * 4} at -P 16, after an untimed run of the same size); FlashKV --shards ${SHARDS}; each server on an empty directory in ${tmpdir()} (${fs}); the median of ${REPEAT} interleaved rounds (every run in the JSON)${PIN === null ? '' : `; pinned: both servers on CPU ${PIN.server}, redis-benchmark on ${PIN.client}`};`,
    `Node ${process.version}, ${versionOf('redis-server', ['--version'])}; ${Math.round((Date.now() - t0) / 1000)} s.`, '',
    '| appendfsync | pipeline | Redis req/s | FlashKV req/s | ratio | Redis p50/p99 ms | FlashKV p50/p99 ms |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(r => `| ${r.fsync} | ${r.pipeline} | ${Math.round(r.redis.rps)} | ${Math.round(r.flashkv.rps)} | ${(r.flashkv.rps / r.redis.rps).toFixed(2)}× | ${r.redis.p50}/${r.redis.p99} | ${r.flashkv.p50}/${r.flashkv.p99} |`),
    '',
  ].join('\n')
  const base = new URL(`bench/results/${date}-${commit}-aof${SHARDS === 2 ? '' : `-s${SHARDS}`}${PIN === null ? '' : '-pin'}`, ROOT).pathname
  writeFileSync(`${base}.md`, md)
  writeFileSync(`${base}.json`, JSON.stringify({ date, commit, n: N, shards: SHARDS, clients: CLIENTS, repeat: REPEAT, pinned: PIN, rows }, null, 2))
  console.log(md)
}

void main()
