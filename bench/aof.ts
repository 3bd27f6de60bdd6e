// SET with the append-only file on, FlashKV against Redis configured the same way
// (`--appendonly yes --appendfsync everysec|always`), side by side: redis-benchmark -t set, 50
// clients, unpipelined and at -P 16, each server on its own empty directory of the same disk.
// Run: npm run bench:aof [-- --n N --shards N]. Writes bench/results/<date>-<commit>-aof.{md,json}.

import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { ROOT, start, stop, gitCommit, versionOf, redisBenchmark, type Run } from './servers.js'

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}
const N = arg('n', 100_000)
const SHARDS = arg('shards', 2)
const CLIENTS = 50

interface Row { fsync: string, pipeline: number, redis: Run, flashkv: Run }

async function measure (name: string, cmd: string, argv: (dir: string) => string[], pipeline: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'flashkv-aof-bench-'))
  try {
    const s = await start(name, cmd, argv(dir))
    try {
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
      const redis = await measure('redis', 'redis-server', dir => ['--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--bind', '127.0.0.1', '--dir', dir], pipeline)
      const flashkv = await measure('flashkv', process.execPath, dir => [main, '--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--shards', String(SHARDS), '--log-level', 'warn', '--bind', '127.0.0.1', '--dir', dir], pipeline)
      rows.push({ fsync, pipeline, redis, flashkv })
      console.log(`${fsync} -P ${pipeline}: redis ${redis.rps} flashkv ${flashkv.rps} (${(flashkv.rps / redis.rps).toFixed(2)}x)`)
    }
  }
  const commit = gitCommit()
  const date = new Date().toISOString().slice(0, 10)
  const fs = (() => { try { return execFileSync('df', ['-T', tmpdir()], { encoding: 'utf8' }).split('\n')[1]?.split(/\s+/)[1] ?? '?' } catch { return '?' } })()
  const md = [
    `# SET with appendonly yes (${date}, ${commit})`, '',
    `redis-benchmark -t set -c ${CLIENTS} -d 64 (-n ${N} unpipelined, ${N * 4} at -P 16); FlashKV --shards ${SHARDS}; each server on an empty directory in ${tmpdir()} (${fs});`,
    `Node ${process.version}, ${versionOf('redis-server', ['--version'])}; ${Math.round((Date.now() - t0) / 1000)} s.`, '',
    '| appendfsync | pipeline | Redis req/s | FlashKV req/s | ratio | Redis p50/p99 ms | FlashKV p50/p99 ms |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(r => `| ${r.fsync} | ${r.pipeline} | ${Math.round(r.redis.rps)} | ${Math.round(r.flashkv.rps)} | ${(r.flashkv.rps / r.redis.rps).toFixed(2)}× | ${r.redis.p50}/${r.redis.p99} | ${r.flashkv.p50}/${r.flashkv.p99} |`),
    '',
  ].join('\n')
  const base = new URL(`bench/results/${date}-${commit}-aof`, ROOT).pathname
  writeFileSync(`${base}.md`, md)
  writeFileSync(`${base}.json`, JSON.stringify({ date, commit, n: N, shards: SHARDS, clients: CLIENTS, rows }, null, 2))
  console.log(md)
}

void main()
