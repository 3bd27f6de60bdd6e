// Shared by the benchmarks (run.ts, cpu.ts): starting and stopping redis-server and FlashKV on
// free ports, one redis-benchmark run, small RESP helpers, and what names a run (commit, versions).

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { createServer, connect } from 'node:net'

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

/** FlashKV from dist/ with the given server flags (e.g. ['--shards', '4']). */
export function flashkvSpec (name: string, flags: string[]): Spec {
  const main = new URL('dist/src/main.js', ROOT).pathname
  return [name, process.execPath, [main, ...flags, '--log-level', 'warn', '--bind', '127.0.0.1']]
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

export async function start (name: string, cmd: string, argv: string[], only: string[] | null = null): Promise<Server> {
  const port = await freePort()
  const proc = spawn(cmd, [...argv, '--port', String(port)], { stdio: ['ignore', 'ignore', 'inherit'] })
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
export function redisBenchmark (port: number, test: string, n: number, clients: number, pipeline: number, size: number, threads = 0): Run {
  const argv = ['-p', String(port), '-t', test, '-n', String(n), '-c', String(clients), '-P', String(pipeline), '-r', '100000', '-d', String(size)]
  if (threads > 0) argv.push('--threads', String(threads))
  // stderr ignored: against node-floor, redis-benchmark warns that it cannot read CONFIG.
  const text = execFileSync('redis-benchmark', argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\r/g, '\n')
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
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() } catch { return 'nocommit' }
}

export function versionOf (cmd: string, argv: string[]): string {
  try { return execFileSync(cmd, argv, { encoding: 'utf8' }).trim().split('\n')[0] } catch { return 'unknown' }
}
