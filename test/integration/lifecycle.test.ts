// Process lifecycle: command-line flags (help, version, bad values → exit 2), the pino start
// line, a SIGTERM that arrives while a pipeline is in flight (every reply delivered, exit 0), and
// a shard worker that dies mid-batch (FLASHKV_FAULT_SHARD_EXIT): every command gets its reply,
// the other shards keep working, and a replacement thread serves its keys again.
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

async function pollUntil (check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

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
      // Its last lines may still be in the pipe when npm's 'exit' comes ('close' waits for them).
      await vi.waitFor(() => { expect(out).toMatch(/"msg":"shutting down"/) }, { timeout: 10_000, interval: 50 })
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL')
    }
  }, 60_000)
})

function isAlive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

// A WATCHed EXEC across shards is decided on the shards (server/multi.ts execWatched): the shard
// with the EXEC's command waits until the shard with the watched key reaches the EXEC. Here that
// shard dies on the EXEC's record itself (FLASHKV_FAULT_SHARD_EXIT counts its commands), so it
// never arrives: its producer fills the verdict cell (Transactions.onShardDown), the waiting
// shard goes on without running the command, and EXEC answers the dead part's error.
describeLocal('a shard that dies before giving a watched EXEC its verdict', () => {
  const SHARDS = 4
  // Every thread of shard 2 exits on its 7th command, replacements too.
  const LIMIT = 6
  let server: ServerHandle

  beforeAll(async () => {
    server = await startFlashKV({ shards: SHARDS, env: { FLASHKV_FAULT_SHARD_EXIT: `2:${LIMIT}` } })
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('the shard waiting for it runs nothing and serves on; EXEC gets CLUSTERDOWN', async () => {
    const [probe, watched] = keysOnShard(2, SHARDS, 2, 'verdict:w:')
    const [written] = keysOnShard(1, SHARDS, 1, 'verdict:s:')
    const c = await RawClient.connect(server.port, server.host)
    const say = async (...args: string[]): Promise<string> => (await c.command(...args)).toString('latin1')
    // The first worker of shard 2 dies after however many commands start-up gave it...
    expect(await pollUntil(async () => await say('GET', probe) === CLUSTERDOWN, 10_000)).toBe(true)
    // ...and its replacement has run exactly the GETs that answered since it came up.
    let used = 0
    expect(await pollUntil(async () => {
      const r = await say('GET', probe)
      if (r !== CLUSTERDOWN) { expect(r).toBe('$-1\r\n'); used++ }
      return r !== CLUSTERDOWN
    }, 30_000)).toBe(true)
    const x = await RawClient.connect(server.port, server.host)
    expect((await x.command('WATCH', watched)).toString('latin1')).toBe('+OK\r\n')
    used++
    while (used < LIMIT) { expect(await say('GET', probe)).toBe('$-1\r\n'); used++ }
    // Shard 2's next command is the EXEC's record: it dies on it.
    x.send(Buffer.concat([encodeCommand(['MULTI']), encodeCommand(['SET', written, 'v']), encodeCommand(['EXEC'])]))
    const replies = (await x.readReplies(3, 20_000)).map((b) => b.toString('latin1'))
    expect(replies).toEqual(['+OK\r\n', '+QUEUED\r\n', CLUSTERDOWN])
    expect(await say('EXISTS', written)).toBe(':0\r\n')
    expect(await say('SET', written, 'after')).toBe('+OK\r\n')
    expect(await say('GET', written)).toBe('$5\r\nafter\r\n')
    x.close()
    c.close()
  }, 60_000)
})

describeLocal('a shard worker that dies mid-batch', () => {
  const SHARDS = 4
  let server: ServerHandle

  beforeAll(async () => {
    // Every thread of shard 1 exits on its 51st command (after running 50), as a crashed worker
    // would: process.exit in the middle of a batch, its replies not yet published.
    server = await startFlashKV({ shards: SHARDS, env: { FLASHKV_FAULT_SHARD_EXIT: '1:50' } })
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('answers every command in order, other shards keep working, then a replacement serves its keys again', async () => {
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
    const say = async (...args: string[]): Promise<string> => (await c.command(...args)).toString('latin1')
    expect(await say('GET', alive[0])).toBe('$2\r\na0\r\n')
    expect(await say('PING')).toBe('+PONG\r\n')

    // A new thread takes shard 1 over: the 50 SETs that ran before the crash are there (even
    // those whose reply was lost with the batch), the ones after it never ran.
    let got = ''
    const isBack = await pollUntil(async () => {
      got = await say('GET', dead[0])
      if (got !== '$2\r\nd0\r\n') expect(got).toBe(CLUSTERDOWN)
      return got === '$2\r\nd0\r\n'
    }, 30_000)
    expect(isBack, `GET ${dead[0]} answered ${JSON.stringify(got)}`).toBe(true)
    expect(server.logs()).toMatch(/"shard":1,"code":70,"msg":"shard worker exited; starting a replacement"/)
    for (const i of [1, 2, 49]) expect(await say('GET', dead[i])).toBe(`$${String(i).length + 1}\r\nd${i}\r\n`)
    for (const i of [50, 51, 99]) expect(await say('GET', dead[i])).toBe('$-1\r\n')
    expect(await say('SET', dead[50], 'x')).toBe('+OK\r\n')
    expect(await say('MGET', alive[2], dead[50])).toBe('*2\r\n$2\r\na2\r\n$1\r\nx\r\n')
    expect(await say('DBSIZE')).toBe(`:${100 + 51}\r\n`)
    c.close()
  })

})
