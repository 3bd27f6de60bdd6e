// TLS against plain TCP, FlashKV beside Redis 7 given the same certificates (issue 16: "the cost
// per request"): redis-benchmark SET and GET, -c 50, unpipelined and -P 16, over each server's
// plain port and its tls-port (client certificates required, as both servers default to).
// Servers are started together and measured in turn, rounds interleaved; medians reported.
// Run: npm run bench:tls [-- --quick] [-- --rounds N]
// Writes bench/results/<date>-<commit>[-quick]-tls.{json,md}.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, freePort, flashkvSpec, gitCommit, median, redisBenchmark, redisSpec, start, stop, versionOf, type Server } from './servers.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const roundsAt = args.indexOf('--rounds')
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : (quick ? 1 : 3)
const N = quick ? 30_000 : 100_000
const NP = quick ? 300_000 : 1_000_000

const dir = mkdtempSync(join(tmpdir(), 'flashkv-tls-bench-'))
const ssl = (...a: string[]): void => { execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' }) }
writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=bench-ca')
for (const name of ['server', 'client']) {
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`)
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2',
    ...(name === 'server' ? ['-extfile', 'san.ext'] : []))
}
const f = (n: string): string => join(dir, n)
const tlsServerArgs = (port: number): string[] => ['--tls-port', String(port), '--tls-cert-file', f('server.crt'), '--tls-key-file', f('server.key'), '--tls-ca-cert-file', f('ca.crt')]
const tlsClientArgs = ['--tls', '--cacert', f('ca.crt'), '--cert', f('client.crt'), '--key', f('client.key')]

interface Target { server: Server, tlsPort: number }
const targets: Target[] = []
for (const [name, cmd, argv] of [redisSpec(), flashkvSpec('flashkv-1', ['--shards', '1'])]) {
  const tlsPort = await freePort()
  targets.push({ server: await start(name, cmd, [...argv, ...tlsServerArgs(tlsPort)]), tlsPort })
}

interface Row { server: string, transport: string, test: string, pipeline: number, rps: number[], p99: number[] }
const rows: Row[] = []
try {
  for (const t of targets) for (const test of ['set', 'get']) redisBenchmark(t.tlsPort, test, 10_000, 50, 1, 3, 0, tlsClientArgs)
  for (let r = 0; r < rounds; r++) {
    for (const test of ['set', 'get']) {
      for (const pipeline of [1, 16]) {
        for (const transport of ['tcp', 'tls']) {
          for (const t of targets) {
            const port = transport === 'tls' ? t.tlsPort : t.server.port
            const run = redisBenchmark(port, test, pipeline > 1 ? NP : N, 50, pipeline, 3, 0, transport === 'tls' ? tlsClientArgs : [])
            let row = rows.find(x => x.server === t.server.name && x.transport === transport && x.test === test && x.pipeline === pipeline)
            if (row === undefined) { row = { server: t.server.name, transport, test, pipeline, rps: [], p99: [] }; rows.push(row) }
            row.rps.push(run.rps)
            row.p99.push(run.p99)
            process.stderr.write(`${t.server.name.padEnd(10)} ${transport} ${test} -P ${pipeline}: ${Math.round(run.rps)} rps, p99 ${run.p99} ms\n`)
          }
        }
      }
    }
  }
} finally {
  for (const t of targets) await stop(t.server)
}

const med = (r: Row | undefined): number => r === undefined ? NaN : median(r.rps)
const get = (server: string, transport: string, test: string, pipeline: number): Row | undefined =>
  rows.find(x => x.server === server && x.transport === transport && x.test === test && x.pipeline === pipeline)
const fmt = (n: number): string => Math.round(n).toLocaleString('en')
const lines = [
  `# TLS against plain TCP, ${new Date().toISOString().slice(0, 10)} (${gitCommit()})`, '',
  `redis-benchmark -c 50 -d 3 -r 100000, ${fmt(N)} requests unpipelined and ${fmt(NP)} at -P 16, ${rounds} round(s), medians;`,
  `client certificates required on both servers (tls-auth-clients yes). ${versionOf('redis-server', ['--version'])}; Node ${process.version}.`, '',
  '| test | Redis tcp | Redis tls | FlashKV tcp | FlashKV tls | FlashKV ÷ Redis, tls | tls ÷ tcp, Redis | tls ÷ tcp, FlashKV | p99 ms tls, Redis / FlashKV |',
  '|---|---|---|---|---|---|---|---|---|',
]
for (const test of ['set', 'get']) {
  for (const pipeline of [1, 16]) {
    const rt = med(get('redis', 'tcp', test, pipeline)); const rs = med(get('redis', 'tls', test, pipeline))
    const ft = med(get('flashkv-1', 'tcp', test, pipeline)); const fs = med(get('flashkv-1', 'tls', test, pipeline))
    const p99 = (s: string): number => median(get(s, 'tls', test, pipeline)?.p99 ?? [])
    lines.push(`| ${test.toUpperCase()}${pipeline > 1 ? ` -P ${pipeline}` : ''} | ${fmt(rt)} | ${fmt(rs)} | ${fmt(ft)} | ${fmt(fs)} | ${(fs / rs).toFixed(2)} | ${(rs / rt).toFixed(2)} | ${(fs / ft).toFixed(2)} | ${p99('redis')} / ${p99('flashkv-1')} |`)
  }
}
const base = `${new Date().toISOString().slice(0, 10)}-${gitCommit()}${quick ? '-quick' : ''}-tls`
mkdirSync(new URL('bench/results/', ROOT), { recursive: true })
writeFileSync(new URL(`bench/results/${base}.json`, ROOT), JSON.stringify({ rounds, n: N, np: NP, rows }, null, 1) + '\n')
writeFileSync(new URL(`bench/results/${base}.md`, ROOT), lines.join('\n') + '\n')
process.stdout.write(lines.join('\n') + '\n')
process.stderr.write(`wrote bench/results/${base}.{json,md}\n`)
