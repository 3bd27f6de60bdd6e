// `npm run soak:diff`: the differential suites (a real redis-server beside FlashKV, every reply
// compared byte for byte) run again and again. Their fast-check properties draw new random
// command sequences each run, so rounds keep exploring where one `npm test` samples once.
// Stops at the first failing round and keeps its output (fast-check prints the seed and the
// shrunk counterexample that replays it).
//
//   npm run soak:diff -- [--minutes M] [--rounds N] [--files "test/integration/diff-zset.test.ts ..."]
//
// Needs what `npm test` needs: a build (the npm script builds first) and redis-server on PATH.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const args = process.argv.slice(2)
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 && i + 1 < args.length ? args[i + 1] : def }
const minutes = Number(opt('minutes', '20'))
const rounds = Number(opt('rounds', '0'))
const files = opt('files', '') !== ''
  ? opt('files', '').split(/\s+/).filter(f => f !== '')
  : readdirSync('test/integration').filter(f => /^diff(-.*)?\.test\.ts$|^differential\.test\.ts$/.test(f)).map(f => `test/integration/${f}`)

const logs = join(tmpdir(), `flashkv-diff-soak-${Date.now()}`)
mkdirSync(logs, { recursive: true })
const until = Date.now() + minutes * 60_000
console.log(`${files.length} files, ${rounds > 0 ? `${rounds} rounds` : `${minutes} minutes`}; logs in ${logs}`)
for (let r = 1; rounds > 0 ? r <= rounds : Date.now() < until; r++) {
  const t0 = Date.now()
  const run = spawnSync('npx', ['vitest', 'run', ...files], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  const out = (run.stdout ?? '') + (run.stderr ?? '')
  const log = join(logs, `round-${r}.log`)
  writeFileSync(log, out)
  const tests = /Tests\s+(.*)/.exec(out)?.[1]?.replace(/\x1b\[[0-9;]*m/g, '') ?? '?'
  console.log(`round ${r}: exit ${run.status}, ${tests}, ${Math.round((Date.now() - t0) / 1000)} s`)
  if (run.status !== 0) {
    console.log(`round ${r} failed: ${log}`)
    process.exit(1)
  }
}
console.log('no mismatch')
