// Memory per element of the collection types, FlashKV (1 shard) beside Redis in the same run:
// one hash of N fields, N/10 hashes of 10 fields, one set of N integers, one set of N strings
// and one sorted set of N members (random scores). Each case starts from an empty database;
// the figures are the growth of INFO used_memory and of the process's RSS, per element.
//
//   npm run bench:types [-- --n 1000000]     (default 200,000 elements per case)

import { readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { ROOT, start, stop, rawCommand, gitCommit, redisSpec, flashkvSpec, respCommand as encode } from './servers.js'

const args = process.argv.slice(2)
const N = Number(args[args.indexOf('--n') + 1] ?? '') > 0 ? Number(args[args.indexOf('--n') + 1]) : 200_000

function rss (pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024
}

async function usedMemory (port: number): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await rawCommand(port, 'INFO memory\r\n'))?.[1])
}

/** Sends the commands in batches over one connection and waits for every reply line. */
async function send (port: number, commands: Iterable<string[]>): Promise<void> {
  const s = connect(port, '127.0.0.1')
  await new Promise(resolve => s.once('connect', resolve))
  let pending = 0
  let wake: (() => void) | null = null
  s.on('data', d => {
    for (const b of d) if (b === 10) pending--
    if (pending <= 0 && wake !== null) { const w = wake; wake = null; w() }
  })
  let batch = ''
  let n = 0
  const flush = async (): Promise<void> => {
    if (n === 0) return
    pending += n
    const done = new Promise<void>(resolve => { wake = resolve })
    s.write(batch)
    batch = ''
    n = 0
    await done
  }
  for (const c of commands) {
    batch += encode(c)
    if (++n === 1000) await flush()
  }
  await flush()
  s.end()
}

let seed = 7
function random (): number { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }

const CASES: Array<{ name: string, load: () => Iterable<string[]> }> = [
  { name: `one hash of ${N.toLocaleString('en')} fields`, load: function * () { for (let i = 0; i < N; i += 100) { const a = ['HSET', 'h']; for (let k = i; k < Math.min(N, i + 100); k++) a.push(`field:${k}`, `value:${k}`); yield a } } },
  { name: `${(N / 10).toLocaleString('en')} hashes of 10 fields`, load: function * () { for (let i = 0; i < N / 10; i++) { const a = ['HSET', `h:${i}`]; for (let k = 0; k < 10; k++) a.push(`f${k}`, `v${k}`); yield a } } },
  { name: `one set of ${N.toLocaleString('en')} integers`, load: function * () { for (let i = 0; i < N; i += 100) { const a = ['SADD', 's']; for (let k = i; k < Math.min(N, i + 100); k++) a.push(String(k * 7)); yield a } } },
  { name: `one set of ${N.toLocaleString('en')} strings`, load: function * () { for (let i = 0; i < N; i += 100) { const a = ['SADD', 's']; for (let k = i; k < Math.min(N, i + 100); k++) a.push(`member:${k}`); yield a } } },
  { name: `one stream of ${N.toLocaleString('en')} entries of 2 small fields`, load: function * () { for (let i = 1; i <= N; i++) yield ['XADD', 'x', `${1700000000000 + Math.floor(i / 3)}-${i % 3}`, 'name', `u${i % 1000}`, 'score', String(i % 97)] } },
  { name: `one sorted set of ${N.toLocaleString('en')} members`, load: function * () { for (let i = 0; i < N; i += 100) { const a = ['ZADD', 'z']; for (let k = i; k < Math.min(N, i + 100); k++) a.push(String(Math.floor(random() * 1e9)), `member:${k}`); yield a } } },
]

const rows: Array<{ case: string, server: string, used: number, rss: number, ms: number }> = []
for (const [name, spec] of [['redis', redisSpec()], ['flashkv-1', flashkvSpec('flashkv-1', ['--shards', '1'])]] as const) {
  for (const c of CASES) {
    // A fresh server per case: RSS does not give memory back, so cases must not share one.
    const s = await start(name, spec[1], spec[2])
    try {
      const u0 = await usedMemory(s.port)
      const r0 = rss(s.pid)
      seed = 7
      const t0 = Date.now()
      await send(s.port, c.load())
      const ms = Date.now() - t0
      const u1 = await usedMemory(s.port)
      const r1 = rss(s.pid)
      rows.push({ case: c.name, server: name, used: (u1 - u0) / N, rss: (r1 - r0) / N, ms })
      process.stderr.write(`${name}: ${c.name}: ${((u1 - u0) / N).toFixed(1)} B/element used_memory, ${((r1 - r0) / N).toFixed(1)} B/element RSS, loaded in ${ms} ms\n`)
    } finally {
      await stop(s)
    }
  }
}

const date = new Date().toISOString().slice(0, 10)
let md = `# Memory per element of the collection types (${date}, ${gitCommit()})\n\n`
md += 'Each case on a fresh server; growth of INFO used_memory and of RSS, divided by the element count. FlashKV runs 1 shard.\n\n'
md += '| case | redis used / RSS (B/element) | flashkv-1 used / RSS (B/element) | RSS ×redis | load ms redis / flashkv-1 |\n|---|---|---|---|---|\n'
for (const c of CASES) {
  const r = rows.find(x => x.case === c.name && x.server === 'redis')
  const f = rows.find(x => x.case === c.name && x.server === 'flashkv-1')
  if (r === undefined || f === undefined) continue
  md += `| ${c.name} | ${r.used.toFixed(1)} / ${r.rss.toFixed(1)} | ${f.used.toFixed(1)} / ${f.rss.toFixed(1)} | ${(f.rss / r.rss).toFixed(2)} | ${r.ms} / ${f.ms} |\n`
}
const file = `bench/results/${date}-${gitCommit()}-types-memory.md`
writeFileSync(new URL(file, ROOT), md)
process.stderr.write(`wrote ${file}\n`)
