// Does memory come back after FLUSHALL? Rounds of N SETs of SIZE-byte values (600 × 1 MiB by
// default), each followed by FLUSHALL; the process's RSS (/proc/<pid>/status VmRSS) and INFO's
// used_memory after the SETs and again after the FLUSHALL, FlashKV and Redis side by side.
// Issue 16 saw FlashKV's RSS stay at 2.9, 3.6, then 4.2 GB while Redis went back to 15 MB.
//
//   npm run bench:memflush [-- --rounds 3 --n 600 --size 1048576 --shards 1]

import { writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { ROOT, start, stop, rawCommand, gitCommit, redisSpec, flashkvSpec, respCommand, rssOf, infoMemoryField, type Spec } from './servers.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string): string => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt }
const ROUNDS = Number(opt('--rounds', '3'))
const N = Number(opt('--n', '600'))
const SIZE = Number(opt('--size', String(1024 * 1024)))
const SHARDS = opt('--shards', '1')
const MMAP_THRESHOLD = 131072


/** SETs key:0..n-1 to `size` bytes, 8 in flight at a time; resolves once every reply came. */
async function fill (port: number, n: number, size: number): Promise<void> {
  const s: Socket = connect(port, '127.0.0.1')
  await new Promise(resolve => s.once('connect', resolve))
  const value = Buffer.alloc(size, 'x')
  let acked = 0
  let wake: (() => void) | null = null
  s.on('data', d => {
    for (const b of d) if (b === 10) acked++
    if (wake !== null) { const w = wake; wake = null; w() }
  })
  for (let i = 0; i < n; i++) {
    const key = `key:${i}`
    s.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${size}\r\n`)
    s.write(value)
    s.write('\r\n')
    while (i + 1 - acked > 8) await new Promise<void>(resolve => { wake = resolve })
  }
  while (acked < n) await new Promise<void>(resolve => { wake = resolve })
  s.destroy()
}

interface Row { server: string, round: number, rssFull: number, usedFull: number, rssFlushed: number, usedFlushed: number }
const rows: Row[] = []
const baseRss: Record<string, number> = {}
// glibc raises its mmap threshold after the first big free, so 1 MiB request buffers then come from
// heaps it rarely gives back; the image pins the threshold (Dockerfile), the second FlashKV does too.
const specs: Spec[] = [redisSpec(), flashkvSpec(`flashkv-${SHARDS}`, ['--shards', SHARDS]),
  flashkvSpec(`flashkv-${SHARDS}-mmap-threshold`, ['--shards', SHARDS, `MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD}`])]
const MB = (n: number): string => (n / 1048576).toFixed(1)

for (const [name, c, argv] of specs) {
  const s = await start(name, c, argv)
  try {
    baseRss[name] = rssOf(s.pid)
    for (let r = 1; r <= ROUNDS; r++) {
      await fill(s.port, N, SIZE)
      const rssFull = rssOf(s.pid)
      const usedFull = await infoMemoryField(s.port, 'used_memory')
      const reply = await rawCommand(s.port, respCommand(['FLUSHALL']))
      if (!reply.startsWith('+OK')) throw new Error(`FLUSHALL: ${reply.trim()}`)
      // The shards drop their old buffers on their next pass: give them a moment, as a client would.
      await new Promise(resolve => setTimeout(resolve, 500))
      const rssFlushed = rssOf(s.pid)
      const usedFlushed = await infoMemoryField(s.port, 'used_memory')
      rows.push({ server: name, round: r, rssFull, usedFull, rssFlushed, usedFlushed })
      process.stderr.write(`${name} round ${r}: full rss ${MB(rssFull)} MB used ${MB(usedFull)} MB; after FLUSHALL rss ${MB(rssFlushed)} MB used ${MB(usedFlushed)} MB\n`)
    }
  } finally {
    await stop(s)
  }
}

const date = new Date().toISOString().slice(0, 10)
const commit = gitCommit()
let md = `# Memory after FLUSHALL (${date}, ${commit})\n\n`
md += `${ROUNDS} rounds of ${N} SETs of ${SIZE}-byte values, each followed by FLUSHALL (and 0.5 s); FlashKV with ${SHARDS} shard(s). `
md += `RSS is VmRSS from /proc; used_memory from INFO memory. \`mmap-threshold\`: run with \`MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD}\`, as the image is. Start RSS: ` + Object.entries(baseRss).map(([k, v]) => `${k} ${MB(v)} MB`).join(', ') + '.\n\n'
md += '| server | round | RSS full (MB) | used_memory full (MB) | RSS after FLUSHALL (MB) | used_memory after (MB) |\n|---|---|---|---|---|---|\n'
for (const r of rows) md += `| ${r.server} | ${r.round} | ${MB(r.rssFull)} | ${MB(r.usedFull)} | ${MB(r.rssFlushed)} | ${MB(r.usedFlushed)} |\n`
const file = `bench/results/${date}-${commit}-memflush.md`
writeFileSync(new URL(file, ROOT), md)
writeFileSync(new URL(file.replace(/\.md$/, '.json'), ROOT), JSON.stringify({ date, commit, rounds: ROUNDS, n: N, size: SIZE, shards: SHARDS, baseRss, rows }, null, 2) + '\n')
process.stderr.write(`wrote ${file}\n`)
