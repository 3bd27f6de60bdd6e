// Shared by the benchmarks (run.ts, cpu.ts): starting and stopping redis-server and FlashKV on
// free ports, one redis-benchmark run, small RESP helpers, and what names a run (commit, versions).

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, connect } from 'node:net'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { allowedCpulist, applyCpulist, parseCpulist } from '../src/cpu-affinity.js'

export const ROOT = new URL('../../', import.meta.url)

export interface Server { name: string, port: number, pid: number, proc: ChildProcess, only: string[] | null }
/** A server to start: its name, the command and its arguments (`--port` is appended). */
export type Spec = [name: string, cmd: string, argv: string[]]
/** One redis-benchmark run. */
export interface Run {
  test: string, size: number, clients: number, pipeline: number,
  rps: number, p50: number, p99: number, p999: number, command: string
}

/** A real redis-server with persistence off. */
export function redisSpec (): Spec {
  return ['redis', 'redis-server', ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1']]
}

let dir: string | null = null
/** An empty directory for the benchmark's servers. */
function benchDir (): string {
  dir ??= mkdtempSync(join(tmpdir(), 'flashkv-bench-'))
  return dir
}

/** FlashKV from dist/ with the given server flags (e.g. ['--shards', '4']). */
export function flashkvSpec (name: string, flags: string[]): Spec {
  const main = new URL('dist/src/main.js', ROOT).pathname
  // Never the working directory as dir: a dump.rdb there would be loaded. No save points, as
  // the Redis it is measured against runs with --save '' (a flag given wins: the last one counts).
  return [name, process.execPath, [main, '--save', '', ...flags, '--log-level', 'warn', '--bind', '127.0.0.1', '--dir', benchDir()]]
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a !== null ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

export async function waitPing (port: number): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const ok = await new Promise<boolean>(resolve => {
      const s = connect(port, '127.0.0.1')
      s.setTimeout(1000, () => { s.destroy(); resolve(false) })
      s.once('error', () => resolve(false))
      s.once('connect', () => s.write('*1\r\n$4\r\nPING\r\n'))
      s.once('data', d => { s.destroy(); resolve(d.toString().startsWith('+PONG')) })
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`server on ${port} did not answer PING`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * --pin: every server on the first CPU this process may use, and this process (the load
 * generators it runs and spawns: redis-benchmark, the Node clients of features.ts) on the rest,
 * each server treated alike (taskset at spawn: all its threads inherit the mask). Null: not pinned.
 * What it shows: README, "Where the kernel puts the shard" (FlashKV's primary and shard on 2 CPUs).
 */
export function pinFromArgs (args: readonly string[]): { server: string, client: string } | null {
  if (!args.includes('--pin')) return null
  const own = allowedCpulist()
  const cpus = parseCpulist(own)
  if (cpus.length < 2) throw new Error(`--pin needs 2 CPUs, this process may use ${own}`)
  pinned = String(cpus[0])
  const client = cpus.slice(1).join(',')
  const failure = applyCpulist(client)
  if (failure !== null) throw new Error(`--pin: ${failure}`)
  return { server: pinned, client }
}
let pinned = ''

export async function start (name: string, cmd: string, argv: string[], only: string[] | null = null): Promise<Server> {
  const port = await freePort()
  // FLASHKV_*=value (or glibc's MALLOC_*) among the flags sets that variable for this server alone (variants in --cpu-servers).
  const env: NodeJS.ProcessEnv = { ...process.env }
  const args = argv.filter(a => {
    const m = /^(FLASHKV_[A-Z0-9_]+|MALLOC_[A-Z_]+)=(.*)$/.exec(a)
    if (m !== null) env[m[1]] = m[2]
    return m === null
  })
  const full = [...args, '--port', String(port)]
  const proc = pinned === ''
    ? spawn(cmd, full, { stdio: ['ignore', 'ignore', 'inherit'], env })
    : spawn('taskset', ['-c', pinned, cmd, ...full], { stdio: ['ignore', 'ignore', 'inherit'], env })
  await waitPing(port)
  return { name, port, pid: proc.pid as number, proc, only }
}

export function stop (s: Server): Promise<void> {
  return new Promise(resolve => {
    s.proc.once('exit', () => resolve())
    s.proc.kill('SIGTERM')
  })
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  // redis-benchmark prints 3 decimals; the mean of two middle runs keeps to that.
  return s.length % 2 === 1 ? s[m] : Math.round((s[m - 1] + s[m]) * 500) / 1000
}

/** Runs redis-benchmark and reads throughput and p50/p99/p99.9 from its own report. */
const EVALSHA_SCRIPT = "return redis.call('INCR', KEYS[1])"
const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex')

/**
 * Tests redis-benchmark has no -t name for: the command it runs, and what it reads (loaded by
 * prepareCustom first). The keys share a {tag}: these measure the command on one shard, not a
 * cross-shard transaction.
 */
export const CUSTOM_TESTS: Record<string, { command: string[], setup: string[][] }> = {
  // 11 of 1,000 members, by score.
  zrangebyscore: {
    command: ['ZRANGEBYSCORE', '{bench}zset', '500', '510'],
    setup: [['DEL', '{bench}zset'], ['ZADD', '{bench}zset', ...Array.from({ length: 1000 }, (_, i) => [String(i), `member:${(i * 7919) % 1000}`]).flat()]],
  },
  // Two sets of 100 members, 50 in common.
  sinter: {
    command: ['SINTER', '{bench}set1', '{bench}set2'],
    setup: [['DEL', '{bench}set1', '{bench}set2'], ['SADD', '{bench}set1', ...Array.from({ length: 100 }, (_, i) => `member:${i}`)],
      ['SADD', '{bench}set2', ...Array.from({ length: 100 }, (_, i) => `member:${i + 50}`)]],
  },
  // A small script from the cache (SCRIPT LOAD first): one INCR, the reply passed back.
  evalsha: {
    command: ['EVALSHA', sha1(EVALSHA_SCRIPT), '1', '{bench}evalsha'],
    setup: [['DEL', '{bench}evalsha'], ['SCRIPT', 'LOAD', EVALSHA_SCRIPT]],
  },
  // Append to a stream kept near 10,000 entries (MAXLEN ~, as BullMQ trims its events stream).
  xadd: {
    command: ['XADD', '{bench}xadd', 'MAXLEN', '~', '10000', '*', 'field', 'value'],
    setup: [['DEL', '{bench}xadd']],
  },
  // 10 entries of a 1,000-entry stream, from the start (XREAD without BLOCK).
  xread: {
    command: ['XREAD', 'COUNT', '10', 'STREAMS', '{bench}xread', '0'],
    setup: [['DEL', '{bench}xread'], ['EVAL', "for i = 1, 1000 do redis.call('XADD', KEYS[1], '*', 'field', i) end return 1", '1', '{bench}xread']],
  },
}

/** Loads what a custom test reads (see CUSTOM_TESTS); nothing for redis-benchmark's own tests. */
export async function prepareCustom (port: number, test: string): Promise<void> {
  const custom = CUSTOM_TESTS[test]
  if (custom === undefined) return
  for (const cmd of custom.setup) {
    const reply = await rawCommand(port, respCommand(cmd))
    if (reply.startsWith('-')) throw new Error(`${test} setup ${cmd[0]}: ${reply.trim()}`)
  }
}

export function redisBenchmark (port: number, test: string, n: number, clients: number, pipeline: number, size: number, threads = 0,
  extra: readonly string[] = []): Run {
  const custom = CUSTOM_TESTS[test]
  const argv = ['-p', String(port), ...(custom === undefined ? ['-t', test] : []), '-n', String(n), '-c', String(clients), '-P', String(pipeline), '-r', '100000', '-d', String(size)]
  if (threads > 0) argv.push('--threads', String(threads))
  argv.push(...extra)
  if (custom !== undefined) argv.push(...custom.command)
  // stderr ignored: against node-floor, redis-benchmark warns that it cannot read CONFIG.
  const all = execFileSync('redis-benchmark', argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\r/g, '\n')
  // The test's own section, the last: -t lrange_100 and lrange_600 run "LPUSH (needed to benchmark
  // LRANGE)" first, whose figures came first and were read as the LRANGE test's until 2026-12-03.
  const sections = all.split(/^====== /m)
  const text = sections[sections.length - 1]
  const rps = Number(/throughput summary: ([\d.]+) requests per second/.exec(text)?.[1])
  const pct = (p: number): number => {
    for (const m of text.matchAll(/^([\d.]+)% <= ([\d.]+) milliseconds/gm)) if (Number(m[1]) >= p) return Number(m[2])
    return NaN
  }
  return { test, size, clients, pipeline, rps, p50: pct(50), p99: pct(99), p999: pct(99.9), command: `redis-benchmark ${argv.join(' ')}` }
}

/** Sends raw request bytes on a fresh connection; resolves with one whole reply (a bulk or one line). */
export function rawCommand (port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    let out = ''
    s.on('data', d => {
      out += d.toString('latin1')
      const m = /^\$(\d+)\r\n/.exec(out)
      if (m !== null && out.length >= m[0].length + Number(m[1]) + 2) { s.destroy(); resolve(out) }
      else if (!out.startsWith('$') && out.endsWith('\r\n')) { s.destroy(); resolve(out) }
    })
    s.on('error', reject)
    s.write(bytes)
  })
}

export function gitCommit (): string {
  // A bundle run on a lent machine (scripts/device/) names the commit it was built from.
  if (process.env.FLASHKV_BENCH_COMMIT !== undefined) return process.env.FLASHKV_BENCH_COMMIT
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() } catch { return 'nocommit' }
}

export function versionOf (cmd: string, argv: string[]): string {
  try { return execFileSync(cmd, argv, { encoding: 'utf8' }).trim().split('\n')[0] } catch { return 'unknown' }
}

/** A command as a RESP multibulk. */
export const respCommand = (a: string[]): string => `*${a.length}\r\n` + a.map(x => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')

/** The process's resident memory (/proc/<pid>/status VmRSS), in bytes. */
export function rssOf (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
  return m === null ? 0 : Number(m[1]) * 1024
}

/** A numeric field of INFO memory. */
export async function infoMemoryField (port: number, field: string): Promise<number> {
  return Number(new RegExp(`\r\n${field}:(\\d+)`).exec(await rawCommand(port, respCommand(['INFO', 'memory'])))?.[1])
}
