// `npm run fuzz`: the long protocol fuzz (bench/fuzz/protocol-fuzz.ts) with a report. Starts the
// built server on a free loopback port (--shards 2) unless --port names a running one, sends a
// million inputs by default, prints the report and exits non-zero if a check fails.
//
//   npm run fuzz -- [--inputs N] [--seed S] [--conns C] [--shards N] [--rss-bound-mb M]
//                   [--max-seconds T] [--port P [--host H] [--pid PID]] [--json FILE]
//
// Against a running server (--port), the fuzz FLUSHALLs it and counts every client on it:
// use a scratch server. Without --pid the RSS check reads INFO's used_memory_rss.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { formatReport, runFuzz, type FuzzStats } from './protocol-fuzz.js'

const USAGE = 'usage: node dist/bench/fuzz/run.js [--inputs N] [--seed S] [--conns C] [--shards N] ' +
  '[--rss-bound-mb M] [--max-seconds T] [--port P [--host H] [--pid PID]] [--json FILE]'

function parseArgs (argv: string[]): Map<string, string> {
  const known = new Set(['inputs', 'seed', 'conns', 'shards', 'rss-bound-mb', 'max-seconds', 'port', 'host', 'pid', 'json'])
  const out = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0) }
    const name = a.startsWith('--') ? a.slice(2) : ''
    if (!known.has(name) || i + 1 >= argv.length) { console.error(`bad argument ${JSON.stringify(a)}\n${USAGE}`); process.exit(2) }
    out.set(name, argv[++i])
  }
  return out
}

function intArg (args: Map<string, string>, name: string, fallback: number): number {
  const v = args.get(name)
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) { console.error(`--${name} wants a non-negative integer, got ${JSON.stringify(v)}`); process.exit(2) }
  return n
}

async function freePort (host: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const a = s.address()
      s.close(() => typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port')))
    })
  })
}

async function pingOnce (host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect({ host, port })
    let got = ''
    const done = (ok: boolean): void => { s.destroy(); resolve(ok) }
    s.setTimeout(1000, () => done(false))
    s.once('error', () => done(false))
    s.once('connect', () => s.write('PING\r\n'))
    s.on('data', (c: Buffer) => { got += c.toString('latin1'); if (got.length >= 7) done(got.startsWith('+PONG\r\n')) })
  })
}

const args = parseArgs(process.argv.slice(2))
const host = args.get('host') ?? '127.0.0.1'
const seed = intArg(args, 'seed', randomInt(0, 2 ** 32 - 1)) >>> 0
const inputs = intArg(args, 'inputs', 1_000_000)
const conns = intArg(args, 'conns', 32)
const shards = intArg(args, 'shards', 2)
const rssBoundMb = intArg(args, 'rss-bound-mb', 200)
const maxSeconds = intArg(args, 'max-seconds', 30 * 60)

let child: ChildProcess | null = null
let output = ''
let port = intArg(args, 'port', 0)
let pid = intArg(args, 'pid', 0)
if (port === 0) {
  port = await freePort(host)
  const main = fileURLToPath(new URL('../../src/main.js', import.meta.url))
  // Its own empty dir: a SAVE the fuzzer sends must not leave a dump.rdb where servers start.
  child = spawn(process.execPath, [main, '--port', String(port), '--bind', host, '--shards', String(shards), '--log-level', 'warn', '--dir', mkdtempSync(join(tmpdir(), 'flashkv-fuzz-'))],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout?.on('data', (c: Buffer) => { output = (output + c.toString()).slice(-20_000) })
  child.stderr?.on('data', (c: Buffer) => { output = (output + c.toString()).slice(-20_000) })
  pid = child.pid ?? 0
  let up = false
  for (let i = 0; i < 150 && !up && child.exitCode === null; i++) {
    up = await pingOnce(host, port)
    if (!up) await new Promise(resolve => setTimeout(resolve, 100))
  }
  if (!up) {
    console.error(`server did not answer PING on ${host}:${port}\n${output}`)
    child.kill('SIGKILL')
    process.exit(1)
  }
}

console.log(`fuzzing ${host}:${port} (pid ${pid === 0 ? 'unknown' : pid}): ${inputs.toLocaleString('en')} inputs, ` +
  `${conns} connections at a time, seed ${seed}`)
const progress = (s: FuzzStats, ms: number): void => {
  console.log(`  ${(ms / 1000).toFixed(0)} s: ${s.inputs.toLocaleString('en')} inputs, ${s.connectionsOpened.toLocaleString('en')} connections, ` +
    `${s.serverCloses.toLocaleString('en')} server closes, FINs unanswered ${s.serverNeverClosedAfterFin.toLocaleString('en')}`)
}
const report = await runFuzz({
  host, port, pid, seed, inputs, conns, maxDurationMs: maxSeconds * 1000,
  rssBoundBytes: rssBoundMb * 1024 * 1024, onProgress: progress, progressEveryMs: 10_000,
})
console.log(formatReport(report))

let exitCode = report.ok ? 0 : 1
if (child !== null) {
  const c = child
  const exited = new Promise<number | null>(resolve => c.once('exit', code => resolve(code)))
  if (c.exitCode === null) c.kill('SIGTERM')
  const timer = setTimeout(() => c.kill('SIGKILL'), 10_000)
  const code = c.exitCode ?? await exited
  clearTimeout(timer)
  console.log(`server exit code after SIGTERM: ${String(code)}`)
  if (code !== 0) {
    exitCode = 1
    console.log(`server output (tail):\n${output.slice(-4000)}`)
  }
}
const json = args.get('json')
if (json !== undefined) writeFileSync(json, JSON.stringify(report, null, 2) + '\n')
if (!report.ok) console.log(`FAILED. Replay: npm run fuzz -- --seed ${seed} --inputs ${inputs} --conns ${conns}`)
process.exit(exitCode)
