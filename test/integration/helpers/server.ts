// Starts the compiled FlashKV (dist/src/main.js; run `npm run build` first) on a free loopback
// port for one integration test file, and waits until it answers PING. With REDIS_URL set
// (e.g. redis://127.0.0.1:6379) it starts nothing and returns that address, so the same suite can
// be run against a real Redis: a test that fails there tests our opinion, not Redis.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, expect } from 'vitest'

import { RawClient } from './raw.js'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const MAIN_JS = fileURLToPath(new URL('../../../dist/src/main.js', import.meta.url))
export const REDIS_URL: string | undefined = process.env.REDIS_URL

export interface ServerHandle {
  port: number
  host: string
  pid: number
  /** SIGTERM, then SIGKILL after 5 s; resolves the exit code (null if killed by a signal). */
  stop (): Promise<number | null>
  /** Everything the process wrote to stdout and stderr so far. */
  logs (): string
}

/** A port that was free a moment ago: bind port 0 on loopback, read the port, close. */
/** Ports freePort has handed out in this process: the kernel may draw a just-closed one again. */
const handedOut = new Set<number>()

/** A port free now and not handed out before by this process (the caller binds it a little later). */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await drawPort(host)
    if (!handedOut.has(port) || attempt === 20) { handedOut.add(port); return port }
  }
}

function drawPort (host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const addr = srv.address()
      if (addr === null || typeof addr === 'string') {
        srv.close()
        reject(new Error('no port from net.Server.address()'))
        return
      }
      srv.close(() => resolve(addr.port))
    })
  })
}

/** One attempt: connect, send PING, resolve true iff the first bytes back are exactly +PONG. */
function pingOnce (port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host })
    let data = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('close', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1')
      if (data.length >= 7) done(data.startsWith('+PONG\r\n'))
    })
  })
}

/**
 * Retries PING until it gets +PONG, for up to timeoutMs. `exited` is checked before each try so
 * a process that died fails fast.
 */
export async function waitForPing (
  port: number, host: string, timeoutMs = 15_000, exited: () => string | null = () => null,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const why = exited()
    if (why !== null) throw new Error(why)
    if (await pingOnce(port, host)) return
    if (Date.now() > deadline) throw new Error(`no +PONG from ${host}:${port} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Spawns a server process, captures its output and waits for PING. Rejects with the captured
 * output if the process exits or does not answer in time (the process is then killed).
 */
export async function spawnServer (
  command: string, args: string[], port: number, host: string, name: string,
  env?: Record<string, string>,
): Promise<ServerHandle> {
  let output = ''
  let exitCode: number | null | undefined // undefined while running
  let exitSignal: NodeJS.Signals | null = null
  let spawnError: Error | null = null
  const child: ChildProcess = spawn(command, args, {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: env === undefined ? process.env : { ...process.env, ...env },
  })
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => { spawnError = err; exitCode = null; resolve(null) })
    child.once('exit', (code, signal) => { exitCode = code; exitSignal = signal; resolve(code) })
  })
  const logs = (): string => output
  const stop = async (): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  try {
    // A bound on a start that hangs, not a speed check: 4 shards and 4 I/O threads take ~3 s on an
    // idle 2-CPU box and went past 15 s while the suite's other file loaded it (hooks allow 60 s).
    await waitForPing(port, host, 45_000, () => {
      if (spawnError !== null) return `${name} failed to start: ${String(spawnError)}`
      if (exitCode === undefined) return null
      return `${name} exited early (code ${String(exitCode)}, signal ${String(exitSignal)}); output:\n${output}`
    })
  } catch (err) {
    await stop()
    // Another test's server bound the port between freePort and this start: draw another.
    if (/EADDRINUSE|Address already in use/.test(output)) throw new PortTakenError(`${name}: port ${port} was taken\n${output}`)
    throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${output}`)
  }
  if (child.pid === undefined) throw new Error(`${name} has no pid`)
  // Two test files can draw the same free port at once: then the PONG may come from the other
  // file's server, and this one has failed to bind. Only a server whose process holds the
  // listening socket is ours (Linux: /proc/net/tcp names the socket, /proc/<pid>/fd holds it).
  if (!ownsListener(child.pid, port)) {
    await stop()
    throw new PortTakenError(`${name}: port ${port} is not listened on by process ${child.pid}`)
  }
  return { port, host, pid: child.pid, stop, logs }
}

export class PortTakenError extends Error {}

/** True if process pid holds the socket listening on 127.0.0.1:port (true where /proc is missing). */
function ownsListener (pid: number, port: number): boolean {
  let table: string
  try { table = readFileSync('/proc/net/tcp', 'latin1') } catch { return true }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set<string>()
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    // local_address rem_address st ... inode: a LISTEN (0A) socket on our port.
    if (f.length > 9 && f[1].endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9])
  }
  if (inodes.size === 0) return false
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = ''
      try { target = readlinkSync(`/proc/${pid}/fd/${fd}`) } catch { continue }
      const m = /^socket:\[(\d+)\]$/.exec(target)
      if (m !== null && inodes.has(m[1])) return true
    }
  } catch { return true }
  return false
}

/** Starts a server on a fresh free port, again if another test's server took the port first. */
export async function onFreePort (host: string, start: (port: number) => Promise<ServerHandle>): Promise<ServerHandle> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(host)
    try {
      return await start(port)
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt === 5) throw err
    }
  }
}

/**
 * Starts FlashKV from dist/ (or returns REDIS_URL's address when that is set). `env` adds to the
 * inherited environment (e.g. FLASHKV_FAULT_SHARD_EXIT for fault-injection tests).
 */
let dir: string | null = null
/** An empty directory of this test process, for servers started without --dir. */
/** The test process's own empty directory, where its servers keep files unless a test names one. */
export function testDir (): string {
  dir ??= mkdtempSync(join(tmpdir(), 'flashkv-test-'))
  return dir
}

export async function startFlashKV (
  opts: { shards?: number, extraArgs?: string[], env?: Record<string, string> } = {},
): Promise<ServerHandle> {
  if (REDIS_URL !== undefined && REDIS_URL !== '') {
    const url = new URL(REDIS_URL)
    const host = url.hostname || '127.0.0.1'
    const port = Number(url.port || 6379)
    await waitForPing(port, host, 5000)
    return { port, host, pid: 0, stop: async () => 0, logs: () => '' }
  }
  if (!existsSync(MAIN_JS)) {
    throw new Error(`${MAIN_JS} does not exist: run \`npm run build\` before the integration tests`)
  }
  const host = '127.0.0.1'
  return await onFreePort(host, async (port) => {
    const extra = opts.extraArgs ?? []
    const args = [
      MAIN_JS, '--port', String(port), '--bind', host,
      '--shards', String(opts.shards ?? 4), '--log-level', 'warn',
      // Never the working directory: a dump.rdb there would be loaded by every test server.
      ...(extra.includes('--dir') ? [] : ['--dir', testDir()]),
      // No save points unless a test asks (Redis's default has them): no BGSAVE nor save at exit.
      ...(extra.includes('--save') ? [] : ['--save', '']),
      ...extra,
    ]
    return await spawnServer(process.execPath, args, port, host, 'FlashKV', opts.env)
  })
}

/**
 * One FlashKV for a test file (started before its tests, stopped after), flushed before each
 * test: `use` receives the handle once it is up.
 */
export function useFlushedFlashKV (opts: { shards: number }, use: (server: ServerHandle) => void): void {
  let server: ServerHandle | undefined
  beforeAll(async () => { server = await startFlashKV(opts); use(server) })
  afterAll(async () => { await server?.stop() })
  beforeEach(async () => {
    const s = server as ServerHandle
    const c = await RawClient.connect(s.port, s.host)
    expect((await c.command('FLUSHALL')).toString('latin1')).toBe('+OK\r\n')
    c.close()
  })
}
