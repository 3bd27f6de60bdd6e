// Process lifecycle: command-line flags (help, version, bad values → exit 2), the pino start
// line, a SIGTERM that arrives while a pipeline is in flight (every reply delivered, exit 0), and
// a shard worker that dies (FLASHKV_FAULT_SHARD_EXIT): its keys answer CLUSTERDOWN, the other
// shards keep working, no command is left without a reply, and the server logs it and stays up.
// Each part needs its own server (a stopped one, a broken one), so servers start per describe;
// none of them is shared across describes, hence no FLUSHALL between tests.
import { execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RawClient, encodeCommand, replyEnd } from './helpers/raw.js'
import { MAIN_JS, REDIS_URL, freePort, startFlashKV, waitForPing, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
const CLUSTERDOWN = '-CLUSTERDOWN Hash slot not served\r\n'

// Every part below starts FlashKV itself (flags, signals, fault injection): not for a REDIS_URL.
const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

/** Runs `node dist/src/main.js ...args` to completion (it must exit by itself within 10 s). */
function runMain (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

/** Splits a byte stream into complete RESP replies (texts); a trailing partial reply is dropped. */
function splitReplies (data: Buffer): string[] {
  const out: string[] = []
  for (let pos = 0; ;) {
    const end = replyEnd(data, pos)
    if (end === -1) return out
    out.push(data.toString('latin1', pos, end))
    pos = end
  }
}

describeLocal('command-line flags', () => {
  it('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await runMain(['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Usage: flashkv \[config-file\] \[options\]/)
    for (const flag of ['--port', '--bind', '--shards', '--log-level', '--maxclients', '--maxmemory', '--http-port', '--help', '--version', 'FLASHKV_PORT']) expect(stdout).toContain(flag)
  })

  it('--version prints the version and exits 0', async () => {
    const { code, stdout } = await runMain(['--version'])
    expect(code).toBe(0)
    expect(stdout).toContain(VERSION)
    expect(stdout).toMatch(/^flashkv /)
  })

  const bad: Array<[string[], RegExp]> = [
    [['--shards', '0'], /--shards.*\b0\b/],
    [['--shards', 'x'], /--shards.*'x'/],
    [['--port', '70000'], /--port.*70000/],
    [['--log-level', 'loud'], /--log-level.*'loud'/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--port'], /--port/],
  ]
  for (const [args, message] of bad) {
    it(`${args.join(' ')} exits 2 with a clear message on stderr`, async () => {
      const { code, stdout, stderr } = await runMain(args)
      expect(code).toBe(2)
      expect(stderr.split('\n')[0]).toMatch(/^flashkv: /)
      expect(stderr.split('\n')[0]).toMatch(message)
      expect(stderr).toContain('Usage: flashkv')
      expect(stdout).toBe('')
    })
  }
})

describeLocal('pino start line', () => {
  let server: ServerHandle

  beforeAll(async () => {
    server = await startFlashKV({ shards: 2, extraArgs: ['--log-level', 'info'] })
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('the first stdout line is JSON with msg, level, time, pid, version, port and shards', () => {
    const first = server.logs().split('\n')[0]
    const line = JSON.parse(first) as Record<string, unknown>
    expect(typeof line.msg).toBe('string')
    expect(line.level).toBe(30)
    expect(typeof line.time).toBe('number')
    expect(Math.abs((line.time as number) - Date.now())).toBeLessThan(60_000)
    expect(line.pid).toBe(server.pid)
    expect(line.version).toBe(VERSION)
    expect(line.port).toBe(server.port)
    expect(line.shards).toBe(2)
  })
})

describeLocal('SIGTERM with a pipeline in flight', () => {
  it('the client receives all 5,000 replies and the process exits 0', async () => {
    const server = await startFlashKV({ shards: 4, extraArgs: ['--log-level', 'info'] })
    try {
      const c = await RawClient.connect(server.port, server.host)
      const cmds: Buffer[] = []
      const expected: string[] = []
      for (let i = 0; i < 5000; i++) {
        const k = `term:${Math.floor(i / 2) % 500}`
        if (i % 2 === 0) { cmds.push(encodeCommand(['SET', k, `v${i}`])); expected.push('+OK\r\n') } else {
          cmds.push(encodeCommand(['GET', k]))
          expected.push(`$${String(`v${i - 1}`).length}\r\nv${i - 1}\r\n`)
        }
      }
      c.send(Buffer.concat(cmds))
      await c.readReplies(1) // the server is working on the pipeline now
      const code = server.stop()
      const { data, closed } = await c.readUntilClose(10_000)
      expect(await code).toBe(0)
      expect(closed).toBe(true)
      const replies = splitReplies(data)
      expect(replies.length + 1, 'replies received (including the first one)').toBe(5000)
      expect(replies).toEqual(expected.slice(1))
      expect(server.logs()).toMatch(/"msg":"shutting down"/)
    } finally {
      await server.stop()
    }
  })
})

describeLocal('npm start', () => {
  it('serves, and the SIGTERM npm passes on stops the server itself (no orphaned process)', async () => {
    const port = await freePort()
    const npm = spawn('npm', ['start', '--silent', '--', '--port', String(port), '--shards', '1', '--log-level', 'info', '--dir', tmpdir()],
      { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    npm.stdout.on('data', d => { out += String(d) })
    const exited = new Promise<number | null>(resolve => npm.once('exit', code => resolve(code)))
    try {
      await waitForPing(port, '127.0.0.1', 30_000)
      const pid = Number(/"pid":(\d+)/.exec(out)?.[1])
      expect(pid).toBeGreaterThan(0)
      npm.kill('SIGTERM')
      await exited
      // The server's own process is gone (not left running under init), and said so.
      await vi.waitFor(() => { expect(isAlive(pid)).toBe(false) }, { timeout: 10_000, interval: 50 })
      expect(out).toMatch(/"msg":"shutting down"/)
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL')
    }
  }, 60_000)
})

function isAlive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

describeLocal('a shard worker that dies', () => {
  const SHARDS = 4
  let server: ServerHandle

  beforeAll(async () => {
    // Shard 1's thread exits on its 51st command (after running 50), as a crashed worker would.
    server = await startFlashKV({ shards: SHARDS, env: { FLASHKV_FAULT_SHARD_EXIT: '1:50' } })
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('its keys answer CLUSTERDOWN, other shards keep working, every command is answered, the server stays up', async () => {
    const dead = keysOnShard(1, SHARDS, 100, 'dead:')
    const alive = [0, 2, 3].flatMap((s) => keysOnShard(s, SHARDS, 40, `alive${s}:`))
    const c = await RawClient.connect(server.port, server.host)

    // 100 SETs to shard 1 interleaved with SETs to the other shards, in one write: shard 1 dies
    // part way through. Replies are still in order, one per command.
    const cmds: Buffer[] = []
    const isDead: boolean[] = []
    for (let i = 0; i < 100; i++) {
      cmds.push(encodeCommand(['SET', dead[i], `d${i}`])); isDead.push(true)
      cmds.push(encodeCommand(['SET', alive[i], `a${i}`])); isDead.push(false)
    }
    c.send(Buffer.concat(cmds))
    const replies = (await c.readReplies(cmds.length, 10_000)).map((b) => b.toString('latin1'))
    let seenDown = false
    let downCount = 0
    replies.forEach((r, i) => {
      if (!isDead[i]) { expect(r, `reply ${i} (other shard)`).toBe('+OK\r\n'); return }
      if (r === CLUSTERDOWN) { seenDown = true; downCount++; return }
      expect(r, `reply ${i} (shard 1)`).toBe('+OK\r\n')
      expect(seenDown, `reply ${i}: +OK from shard 1 after it answered CLUSTERDOWN`).toBe(false)
    })
    expect(downCount).toBeGreaterThanOrEqual(50)

    // From now on: shard 1's keys are down, others work, primary commands work.
    const say = async (...args: string[]): Promise<string> => (await c.command(...args)).toString('latin1')
    expect(await say('GET', dead[0])).toBe(CLUSTERDOWN)
    expect(await say('SET', dead[0], 'x')).toBe(CLUSTERDOWN)
    expect(await say('EXPIRE', dead[1], '10')).toBe(CLUSTERDOWN)
    expect(await say('GET', alive[0])).toBe('$2\r\na0\r\n')
    expect(await say('SET', alive[1], 'new')).toBe('+OK\r\n')
    expect(await say('GET', alive[1])).toBe('$3\r\nnew\r\n')
    expect(await say('MGET', alive[2], alive[3])).toBe('*2\r\n$2\r\na2\r\n$2\r\na3\r\n')
    expect(await say('PING')).toBe('+PONG\r\n')
    expect(await say('ECHO', 'still here')).toBe('$10\r\nstill here\r\n')
    // A multi-key command that touches shard 1 fails as a whole.
    expect(await say('MGET', alive[0], dead[0])).toBe(CLUSTERDOWN)
    expect(await say('MSET', alive[0], 'y', dead[0], 'y')).toBe(CLUSTERDOWN)

    // All-shard commands and a pipeline mixing everything still get one reply each, in order.
    const mixed = [
      ['DBSIZE'], ['INFO', 'keyspace'], ['GET', dead[5]], ['GET', alive[5]], ['PING'], ['DEL', alive[6], dead[6]], ['EXISTS', alive[7]],
    ]
    c.send(Buffer.concat(mixed.map((m) => encodeCommand(m))))
    const got = (await c.readReplies(mixed.length, 5000)).map((b) => b.toString('latin1'))
    expect(got[2]).toBe(CLUSTERDOWN)
    expect(got[3]).toBe('$2\r\na5\r\n')
    expect(got[4]).toBe('+PONG\r\n')
    expect(got[5]).toBe(CLUSTERDOWN)
    expect(got[6]).toBe(':1\r\n')

    // A new connection works the same way.
    const d = await RawClient.connect(server.port, server.host)
    expect((await d.command('GET', alive[8])).toString()).toBe('$2\r\na8\r\n')
    expect((await d.command('GET', dead[8])).toString()).toBe(CLUSTERDOWN)
    d.close()
    c.close()

    // Logged at error level, naming the shard; the process is still running.
    const errors = server.logs().split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === 50 && l.shard === 1)
    expect(errors.length, `logs:\n${server.logs()}`).toBeGreaterThan(0)
    expect(() => process.kill(server.pid, 0)).not.toThrow()
    expect(shardOfKey(dead[0], SHARDS)).toBe(1)
  })
})
