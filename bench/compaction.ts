// Latency after a mass delete: what a client sees while a FlashKV shard compacts. N keys of SIZE
// bytes are loaded, then two keys in three are deleted (pipelined DELs, one key each). A FlashKV
// shard whose arena is then more than half free copies its live keys into a fresh arena, a slice
// at a time between batches (storage/db-copy.ts; it starts as soon as the arena is half free,
// while the DELs still come), adopts the copy, and every thread collects the old buffer (a full
// GC each); Redis frees in place. A probe client on its own connection sends one GET at a time
// from the first DEL until WINDOW ms after the last DEL's reply, and records each round trip; the
// table gives those latencies, over the whole window and apart for the DELs and what follows
// them, and used_memory and RSS before and after, FlashKV and Redis side by side. The JSON lists
// the GETs over 10 ms, with when they ended (ms after the last DEL's reply).
//
//   npm run bench:compaction [-- --n 1000000 --size 64 --shards 2 --window 5000]
// Writes bench/results/<date>-<commit>-compaction.{md,json}.

import { writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { ROOT, start, stop, gitCommit, redisSpec, flashkvSpec, respCommand, rssOf, infoMemoryField, type Spec } from './servers.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string): string => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt }
const N = Number(opt('--n', '1000000'))
const SIZE = Number(opt('--size', '64'))
const SHARDS = opt('--shards', '2')
const WINDOW = Number(opt('--window', '5000'))
const BATCH = 1500


/** A socket whose replies are counted as lines: every reply sent here is one line (+OK, :1). */
async function lineClient (port: number): Promise<{ s: Socket, send: (text: string, replies: number) => Promise<void> }> {
  const s = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  let want = 0
  let done: (() => void) | null = null
  s.on('data', (b: Buffer) => {
    for (let i = 0; i < b.length; i++) if (b[i] === 10) want--
    if (want <= 0 && done !== null) { const d = done; done = null; d() }
  })
  const send = async (text: string, replies: number): Promise<void> => {
    want += replies
    const p = new Promise<void>(resolve => { done = resolve })
    s.write(text)
    await p
  }
  return { s, send }
}

/** One GET at a time on its own connection until stopped; the round trips in ms, with when each ended. */
function probe (port: number): { stop: () => Promise<Array<[number, number]>> } {
  const s = connect(port, '127.0.0.1')
  const samples: Array<[number, number]> = []
  const req = respCommand(['GET', 'ck:0'])
  // The reply: $SIZE\r\n then SIZE bytes and \r\n.
  const replyBytes = `$${SIZE}\r\n`.length + SIZE + 2
  let got = 0
  let sentAt = 0
  let isStopping = false
  let finish: (() => void) | null = null
  const next = (): void => {
    if (isStopping) { finish?.(); return }
    got = 0
    sentAt = performance.now()
    s.write(req)
  }
  s.on('data', (b: Buffer) => {
    got += b.length
    if (got < replyBytes) return
    const now = performance.now()
    samples.push([now, now - sentAt])
    next()
  })
  s.once('connect', next)
  return {
    stop: async () => {
      await new Promise<void>(resolve => { finish = resolve; isStopping = true })
      s.destroy()
      return samples
    },
  }
}

function pct (sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

interface Result {
  server: string, loadMs: number, deleteMs: number, usedBefore: number, usedAfter: number, rssBefore: number, rssAfter: number,
  n: number, p50: number, p99: number, p999: number, max: number, over10: number,
  /** During the DELs, and from the last DEL's reply on: p99, max, GETs over 10 ms. */
  during: Phase, after: Phase,
  /** GETs over 10 ms: [ms after the last DEL's reply when it ended, round trip ms]. */
  slow: Array<[number, number]>,
}
interface Phase { p99: number, max: number, over10: number }

function phase (samples: Array<[number, number]>, from: number, to: number): Phase {
  const v = samples.filter(([at]) => at >= from && at < to).map(([, ms]) => ms).sort((a, b) => a - b)
  return { p99: pct(v, 0.99), max: v.at(-1) ?? 0, over10: v.filter(ms => ms > 10).length }
}

async function measure (spec: Spec): Promise<Result> {
  const s = await start(...spec)
  try {
    const c = await lineClient(s.port)
    const value = 'v'.repeat(SIZE)
    const t0 = performance.now()
    for (let i = 0; i < N; i += BATCH) {
      let text = ''
      const n = Math.min(BATCH, N - i)
      for (let j = i; j < i + n; j++) text += respCommand(['SET', `ck:${j}`, value])
      await c.send(text, n)
    }
    const loadMs = performance.now() - t0
    await new Promise(resolve => setTimeout(resolve, 1000))
    const usedBefore = await infoMemoryField(s.port, 'used_memory')
    const rssBefore = rssOf(s.pid)
    const p = probe(s.port)
    await new Promise(resolve => setTimeout(resolve, 500))
    const d0 = performance.now()
    for (let i = 0; i < N; i += BATCH) {
      let text = ''
      let n = 0
      for (let j = i; j < Math.min(N, i + BATCH); j++) if (j % 3 !== 0) { text += respCommand(['DEL', `ck:${j}`]); n++ }
      await c.send(text, n)
    }
    const d1 = performance.now()
    await new Promise(resolve => setTimeout(resolve, WINDOW))
    const samples = await p.stop()
    c.s.destroy()
    const usedAfter = await infoMemoryField(s.port, 'used_memory')
    const rssAfter = rssOf(s.pid)
    const all = samples.filter(([at]) => at >= d0).map(([, ms]) => ms).sort((a, b) => a - b)
    return {
      server: spec[0],
      loadMs,
      deleteMs: d1 - d0,
      usedBefore,
      usedAfter,
      rssBefore,
      rssAfter,
      n: all.length,
      p50: pct(all, 0.5),
      p99: pct(all, 0.99),
      p999: pct(all, 0.999),
      max: all.at(-1) ?? 0,
      over10: all.filter(ms => ms > 10).length,
      during: phase(samples, d0, d1),
      after: phase(samples, d1, Infinity),
      slow: samples.filter(([at, ms]) => at >= d0 && ms > 10).map(([at, ms]) => [Math.round(at - d1), Number(ms.toFixed(2))]),
    }
  } finally {
    await stop(s)
  }
}

const specs: Spec[] = [redisSpec(), flashkvSpec(`flashkv-${SHARDS}`, ['--shards', SHARDS])]
const results: Result[] = []
for (const spec of specs) {
  const r = await measure(spec)
  results.push(r)
  process.stderr.write(`${r.server}: GET max ${r.max.toFixed(1)} ms, p99.9 ${r.p999.toFixed(2)} ms (${r.n} GETs)\n`)
}
const mb = (b: number): string => (b / 1048576).toFixed(1)
const ms = (x: number): string => x.toFixed(2)
const commit = gitCommit()
const date = new Date().toISOString().slice(0, 10)
const lines = [
  `# Latency after a mass delete (${date}, ${commit})`,
  '',
  `${N} keys of ${SIZE} bytes, then DEL of two in three (pipelined); a probe client sends one GET at a time, and the table gives its round trips in ms from the first DEL to ${WINDOW} ms after the last one (a FlashKV shard compacts once its arena is half free). FlashKV --shards ${SHARDS}; Node ${process.version}.`,
  '',
  '| server | load s | DELs s | GETs | p50 / p99 / p99.9 / max ms | GETs over 10 ms | during the DELs: p99 / max ms, over 10 ms | after them: p99 / max ms, over 10 ms | used_memory MB before → after | RSS MB before → after |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(r => `| ${r.server} | ${(r.loadMs / 1000).toFixed(1)} | ${(r.deleteMs / 1000).toFixed(1)} | ${r.n} | ${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.p999)} / ${ms(r.max)} | ${r.over10} | ${ms(r.during.p99)} / ${ms(r.during.max)}, ${r.during.over10} | ${ms(r.after.p99)} / ${ms(r.after.max)}, ${r.after.over10} | ${mb(r.usedBefore)} → ${mb(r.usedAfter)} | ${mb(r.rssBefore)} → ${mb(r.rssAfter)} |`),
  '',
]
const base = new URL(`bench/results/${date}-${commit}-compaction`, ROOT).pathname
writeFileSync(`${base}.md`, lines.join('\n'))
writeFileSync(`${base}.json`, JSON.stringify({ date, commit, n: N, size: SIZE, shards: SHARDS, window: WINDOW, results }, null, 2))
process.stdout.write(lines.join('\n'))
process.stderr.write(`wrote ${base}.{md,json}\n`)
