// Writes across shards with the append-only file on, FlashKV against Redis configured the same
// way: bench/features.ts multi_xshard (MULTI; SET a v; INCR b; EXEC, a and b on different shards)
// and watch_xshard (WATCH c first), 50 clients one transaction at a time each, and
// redis-benchmark's MSET (10 random keys, spread over the shards). With the AOF on, the parts of
// each hand their effects to one shard, which writes them as one MULTI/EXEC block
// (commands/xmove.ts "AOF groups"): this is what that costs. Each figure is the
// median of --repeat interleaved rounds (3), on servers warmed by an untimed fifth of a round.
// `--base <dir>`: a second FlashKV from another checkout's build (its dist/src/main.js), beside.
// Run: npm run bench:aof-txn [-- --n N --shards N --repeat N --base DIR].
// Writes bench/results/<date>-<commit>-aof-txn.{md,json}.

import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, start, stop, gitCommit, median, redisBenchmark, type Server } from './servers.js'
import { featureRun } from './features.js'

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : def
}
const N = Number(arg('n', '20000'))
const SHARDS = Number(arg('shards', '2'))
const REPEAT = Number(arg('repeat', '3'))
const BASE = arg('base', '')
const TESTS = ['multi_xshard', 'watch_xshard', 'mset']
/** One timed run of `test`: MSET is redis-benchmark's own (unpipelined, 3-byte values). */
const runOf = async (port: number, test: string, n: number): Promise<number> =>
  test === 'mset' ? redisBenchmark(port, 'mset', n, 50, 1, 3).rps : (await featureRun(port, test, n, 50, 3)).rps

interface Row { test: string, fsync: string, rps: Record<string, number[]> }

async function main (): Promise<void> {
  const rows: Row[] = []
  for (const fsync of ['everysec', 'always']) {
    const dirs: string[] = []
    const servers: Server[] = []
    const aof = (): string[] => {
      const dir = mkdtempSync(join(tmpdir(), 'flashkv-aof-txn-'))
      dirs.push(dir)
      return ['--save', '', '--appendonly', 'yes', '--appendfsync', fsync, '--dir', dir]
    }
    try {
      servers.push(await start('redis', 'redis-server', aof()))
      servers.push(await start('flashkv', 'node', [new URL('dist/src/main.js', ROOT).pathname, '--shards', String(SHARDS), ...aof()]))
      if (BASE !== '') servers.push(await start('base', 'node', [join(BASE, 'dist/src/main.js'), '--shards', String(SHARDS), ...aof()]))
      for (const test of TESTS) {
        const row: Row = { test, fsync, rps: {} }
        for (const s of servers) { row.rps[s.name] = []; await runOf(s.port, test, Math.max(1000, N / 5)) }
        for (let r = 0; r < REPEAT; r++) {
          for (const s of servers) row.rps[s.name].push(Math.round(await runOf(s.port, test, N)))
        }
        rows.push(row)
        console.log(test, fsync, JSON.stringify(row.rps))
      }
    } finally {
      for (const s of servers) await stop(s)
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    }
  }
  const date = new Date().toISOString().slice(0, 10)
  const commit = gitCommit()
  const names = ['redis', 'flashkv', ...(BASE === '' ? [] : ['base'])]
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
  let md = `# Writes across shards with the AOF on (${date}, ${commit})\n\n` +
    `bench/aof-txn.ts: ${N} transactions or MSETs per round, 50 clients, ${REPEAT} interleaved rounds, medians; FlashKV \`--shards ${SHARDS}\`` +
    `${BASE === '' ? '' : `; base: ${BASE}`}.\n\n` +
    `| test | appendfsync | ${names.join(' | ')} | flashkv ×redis |\n|---|---|${names.map(() => '---|').join('')}---|\n`
  for (const r of rows) {
    const m = (n: string): number => median(r.rps[n])
    md += `| ${r.test} | ${r.fsync} | ${names.map(n => `${fmt(m(n))} (${r.rps[n].map(fmt).join(' / ')})`).join(' | ')} | ${(m('flashkv') / m('redis')).toFixed(2)} |\n`
  }
  const base = new URL(`bench/results/${date}-${commit}-aof-txn`, ROOT).pathname
  writeFileSync(`${base}.md`, md)
  writeFileSync(`${base}.json`, JSON.stringify({ date, commit, n: N, shards: SHARDS, repeat: REPEAT, base: BASE, rows }, null, 2))
  console.log(md)
}

await main()
