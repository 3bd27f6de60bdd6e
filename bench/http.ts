// Load on the HTTP side door (/healthz, /metrics) with autocannon, while FlashKV serves RESP:
// shows what a Prometheus scrape costs and that probes stay cheap. Not part of the RESP figures.
// Run: npm run build && node dist/bench/http.js

import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import autocannon from 'autocannon'

async function freePort (): Promise<number> {
  return await new Promise(resolve => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0))
    })
  })
}

const port = await freePort()
const httpPort = await freePort()
const main = new URL('../src/main.js', import.meta.url).pathname
const proc = spawn(process.execPath, [main, '--port', String(port), '--http-port', String(httpPort), '--shards', '2', '--save', '', '--log-level', 'warn'], { stdio: 'inherit' })
for (let i = 0; i < 100; i++) {
  const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(r => r.ok, () => false)
  if (ok) break
  await new Promise(resolve => setTimeout(resolve, 100))
}
for (const path of ['/healthz', '/readyz', '/metrics']) {
  const r = await autocannon({ url: `http://127.0.0.1:${httpPort}${path}`, connections: 10, duration: 5 })
  console.log(`${path.padEnd(9)} ${Math.round(r.requests.average).toLocaleString('en').padStart(8)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors + r.non2xx}`)
}
proc.kill('SIGTERM')
