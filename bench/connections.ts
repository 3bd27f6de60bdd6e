// Idle connections (issue 16, "maxclients with 10,000 connections held"): opens N connections
// (10,000 by default) to Redis and to FlashKV, PINGs on each so the server has really accepted
// and set it up, and reports the RSS each idle connection costs, beside Redis, in one run.
// Run: npm run bench:connections [-- --n 10000]
// Writes bench/results/<date>-<commit>-connections.{json,md}.

import { connect, type Socket } from 'node:net'
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { ROOT, flashkvSpec, gitCommit, redisSpec, start, stop, versionOf, type Spec } from './servers.js'

const args = process.argv.slice(2)
const at = args.indexOf('--n')
const N = at >= 0 ? Number(args[at + 1]) : 10_000

function rss (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) * 1024
}

/** Opens n connections, in batches, each answering a PING; resolves with them. */
async function open (port: number, n: number): Promise<Socket[]> {
  const socks: Socket[] = []
  for (let i = 0; i < n; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, n - i) }, async () => {
      const s = connect(port, '127.0.0.1')
      s.on('error', () => {})
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => s.write('PING\r\n'))
        s.once('data', d => d.toString().startsWith('+PONG') ? resolve() : reject(new Error(d.toString())))
        s.once('error', reject)
      })
      socks.push(s)
    }))
  }
  return socks
}

const specs: Spec[] = [redisSpec(), flashkvSpec('flashkv-1', ['--shards', '1']), flashkvSpec('flashkv-io2s2', ['--io-threads', '2', '--shards', '2'])]
interface Row { server: string, before: number, after: number, perConn: number, connected: number }
const rows: Row[] = []
for (const [name, cmd, argv] of specs) {
  const s = await start(name, cmd, [...argv, '--maxclients', String(N + 100)])
  try {
    await new Promise(resolve => setTimeout(resolve, 500))
    const before = rss(s.pid)
    const socks = await open(s.port, N)
    // Idle for a while, as connections held open are: past the 2 s after which both servers
    // give an idle client's buffers back.
    await new Promise(resolve => setTimeout(resolve, 4000))
    const after = rss(s.pid)
    const info = await open(s.port, 1)
    info[0].write('INFO clients\r\n')
    const text = await new Promise<string>(resolve => info[0].once('data', d => resolve(d.toString())))
    const connected = Number(/connected_clients:(\d+)/.exec(text)?.[1])
    rows.push({ server: name, before, after, perConn: (after - before) / N, connected })
    process.stderr.write(`${name}: RSS ${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB with ${N} idle connections: ${((after - before) / N).toFixed(0)} B each (connected_clients ${connected})\n`)
    for (const x of [...socks, ...info]) x.destroy()
  } finally {
    await stop(s)
  }
}

const redis = rows.find(r => r.server === 'redis')
const lines = [
  `# ${N.toLocaleString('en')} idle connections, ${new Date().toISOString().slice(0, 10)} (${gitCommit()})`, '',
  `Each connection is opened and answers one PING, then stays idle; RSS from /proc/<pid>/status before and after. ${versionOf('redis-server', ['--version'])}; Node ${process.version}.`, '',
  '| server | RSS before (MB) | RSS with connections (MB) | bytes per idle connection | ×redis | connected_clients |',
  '|---|---|---|---|---|---|',
  ...rows.map(r => `| ${r.server} | ${(r.before / 1e6).toFixed(1)} | ${(r.after / 1e6).toFixed(1)} | ${Math.round(r.perConn).toLocaleString('en')} | ${redis === undefined ? '–' : (r.perConn / redis.perConn).toFixed(1)} | ${r.connected} |`),
]
const base = `${new Date().toISOString().slice(0, 10)}-${gitCommit()}-connections`
mkdirSync(new URL('bench/results/', ROOT), { recursive: true })
writeFileSync(new URL(`bench/results/${base}.json`, ROOT), JSON.stringify({ n: N, rows }, null, 1) + '\n')
writeFileSync(new URL(`bench/results/${base}.md`, ROOT), lines.join('\n') + '\n')
process.stdout.write(lines.join('\n') + '\n')
