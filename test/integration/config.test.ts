// Configuration end to end, on real processes: a config file, FLASHKV_* variables and flags in
// that order of precedence, seen through CONFIG GET and INFO; malformed input stops start-up
// with exit status 2 and a message naming the file and line.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { onFreePort, spawnServer, startFlashKV, type ServerHandle } from './helpers/server.js'

const run = promisify(execFile)
const MAIN = new URL('../../dist/src/main.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'flashkv-conf-'))

describe('file < environment < flags', () => {
  const file = join(dir, 'flashkv.conf')
  let server: ServerHandle
  beforeAll(async () => {
    writeFileSync(file, '# test config\nmaxclients 123\nmaxmemory 10mb\nshards 3\nloglevel warning\n')
    // The helper passes --port/--bind/--shards 2 as flags: shards from the flag beats the file's 3.
    server = await startFlashKV({ shards: 2, extraArgs: [file], env: { FLASHKV_MAXMEMORY: '20mb' } })
  })
  afterAll(async () => { await server?.stop() })

  it('CONFIG GET and INFO show the effective values and the file in use', async () => {
    const c = await RawClient.connect(server.port, server.host)
    const text = (b: Buffer): string => b.toString('latin1')
    expect(text(await c.command('CONFIG', 'GET', 'maxclients'))).toBe('*2\r\n$10\r\nmaxclients\r\n$3\r\n123\r\n')
    expect(text(await c.command('CONFIG', 'GET', 'maxmemory'))).toBe(`*2\r\n$9\r\nmaxmemory\r\n$8\r\n${20 * 1024 * 1024}\r\n`)
    expect(text(await c.command('CONFIG', 'GET', 'loglevel'))).toBe('*2\r\n$8\r\nloglevel\r\n$7\r\nwarning\r\n')
    const info = text(await c.command('INFO', 'server'))
    expect(info).toContain(`config_file:${file}\r\n`)
    expect(info).toContain('shards:2\r\n')
    expect(text(await c.command('INFO', 'memory'))).toMatch(/\r\ncgroup_memory_limit:\d+\r\n/)
    c.close()
  })
})

describe('loglevel', () => {
  it('CONFIG SET and GET answer as Redis 7.0 does, byte for byte', async () => {
    const r = await startRedis(['--save', '', '--appendonly', 'no'])
    const f = await startFlashKV({ shards: 2 })
    const [rc, fc] = await Promise.all([RawClient.connect(r.port, r.host), RawClient.connect(f.port, f.host)])
    try {
      // 7.0 has no "nothing" (7.2 added it); names in any case, one only.
      for (const v of ['debug', 'VERBOSE', 'notice', 'warning', 'nothing', 'bogus', '', 'debug notice', 'Notice']) {
        for (const c of [['CONFIG', 'SET', 'loglevel', v], ['CONFIG', 'GET', 'loglevel']]) {
          expect((await fc.command(...c)).toString(), c.join(' ')).toBe((await rc.command(...c)).toString())
        }
      }
    } finally {
      rc.close()
      fc.close()
      await Promise.all([r.stop(), f.stop()])
    }
  })

  it('a Redis name given at start reads back as given, as redis-server\'s does (verbose logs as debug)', async () => {
    const r = await startRedis(['--save', '', '--appendonly', 'no', '--loglevel', 'verbose'])
    const f = await startFlashKV({ shards: 1, extraArgs: ['--log-level', 'verbose'] })
    const [rc, fc] = await Promise.all([RawClient.connect(r.port, r.host), RawClient.connect(f.port, f.host)])
    try {
      const reply = (await rc.command('CONFIG', 'GET', 'loglevel')).toString()
      expect(reply).toContain('verbose')
      expect((await fc.command('CONFIG', 'GET', 'loglevel')).toString()).toBe(reply)
    } finally {
      rc.close()
      fc.close()
      await Promise.all([r.stop(), f.stop()])
    }
  })

  it('every thread logs at the level CONFIG SET gives: debug lines come and go', async () => {
    const f = await startFlashKV({ shards: 2, extraArgs: ['--log-level', 'info'] })
    const c = await RawClient.connect(f.port, f.host)
    const opened = (): number => f.logs().split('"msg":"connection opened"').length - 1
    const connect = async (): Promise<void> => { const x = await RawClient.connect(f.port, f.host); x.close() }
    try {
      expect((await c.command('CONFIG', 'GET', 'loglevel')).toString()).toBe('*2\r\n$8\r\nloglevel\r\n$6\r\nnotice\r\n')
      await connect()
      expect(opened()).toBe(0)
      expect((await c.command('CONFIG', 'SET', 'loglevel', 'debug')).toString()).toBe('+OK\r\n')
      // An I/O thread other than this one takes the change within a tenth of a second.
      while (opened() === 0) { await connect(); await new Promise(resolve => setTimeout(resolve, 50)) }
      expect((await c.command('CONFIG', 'SET', 'loglevel', 'warning')).toString()).toBe('+OK\r\n')
      // Until the threads have all taken it (no clock bound: a thread that never does times out
      // the test): then a run of new connections logs nothing.
      for (let quiet = 0; quiet < 8;) {
        const before = opened()
        await connect()
        await new Promise(resolve => setTimeout(resolve, 50))
        quiet = opened() === before ? quiet + 1 : 0
      }
    } finally {
      c.close()
      await f.stop()
    }
  })
})

describe('Redis directives CONFIG SET can change, from the config file and flags', () => {
  const file = join(dir, 'redis-params.conf')
  beforeAll(() => {
    writeFileSync(file, 'daemonize yes\nacl-pubsub-default allchannels\nlazyfree-lazy-user-del yes\nactiverehashing no\n' +
      'list-max-ziplist-size 5\nlatency-tracking-info-percentiles 50 99.9\nhz 20\nbusy-reply-threshold 3000\nactive-expire-effort 4\n')
  })

  it.each([1, 4])('are applied at start as CONFIG SET would (%i I/O threads); others are warned about once', async (io) => {
    const f = await startFlashKV({ shards: 2, extraArgs: [file, '--io-threads', String(io), '--lazyfree-lazy-expire', 'yes', '--client-query-buffer-limit', '2mb', '--active-expire-effort', '7'] })
    const c = await RawClient.connect(f.port, f.host)
    try {
      const get = async (name: string): Promise<string> => {
        const r = (await c.command('CONFIG', 'GET', name)).toString('latin1').split('\r\n')
        return r[4]
      }
      expect(await get('acl-pubsub-default')).toBe('allchannels')
      expect(await get('lazyfree-lazy-user-del')).toBe('yes')
      expect(await get('lazyfree-lazy-expire')).toBe('yes')
      expect(await get('activerehashing')).toBe('no')
      expect(await get('list-max-listpack-size')).toBe('5')
      expect(await get('latency-tracking-info-percentiles')).toBe('50 99.9')
      expect(await get('busy-reply-threshold')).toBe('3000')
      expect(await get('client-query-buffer-limit')).toBe(String(2 * 1024 * 1024))
      // A flag comes after the file: its value is the one in force.
      expect(await get('active-expire-effort')).toBe('7')
      // A user made now gets what acl-pubsub-default says: every channel (resetchannels: none).
      expect((await c.command('ACL', 'SETUSER', 'fresh', 'on')).toString()).toBe('+OK\r\n')
      expect((await c.command('ACL', 'GETUSER', 'fresh')).toString('latin1')).toContain('$8\r\nchannels\r\n$2\r\n&*\r\n')
      const logs = f.logs()
      expect(logs.split("'daemonize' is a Redis directive FlashKV does not implement").length - 1).toBe(1)
      expect(await get('hz')).toBe('20')
      expect(logs).not.toContain("'hz' is a Redis directive")
    } finally {
      c.close()
      await f.stop()
    }
  })

  it.each([
    ['a file line', ['bad-param.conf'], /bad-param\.conf:1: 'active-expire-effort' argument must be between 1 and 10 inclusive/],
    ['a flag', ['--port', '0', '--list-max-listpack-size', 'x'], /--list-max-listpack-size: 'list-max-listpack-size' argument couldn't be parsed into an integer/],
    ['a flag with four I/O threads', ['--port', '0', '--io-threads', '4', '--activerehashing', 'maybe'], /--activerehashing: 'activerehashing' argument must be 'yes' or 'no'/],
  ])('a bad value in %s stops start-up with status 2, as Redis refuses it', async (_name, args, message) => {
    writeFileSync(join(dir, 'bad-param.conf'), 'active-expire-effort 0\n')
    const err = await run(process.execPath, [MAIN, ...args, '--shards', '1', '--save', ''], { cwd: dir }).then(() => null, (e: { code: number, stderr: string }) => e)
    expect(err?.code).toBe(2)
    expect(err?.stderr).toMatch(message)
  })

  it('the background settings answer CONFIG SET and GET as Redis 7.0 does, byte for byte', async () => {
    const r = await startRedis(['--save', '', '--appendonly', 'no'])
    const f = await startFlashKV({ shards: 2 })
    const [rc, fc] = await Promise.all([RawClient.connect(r.port, r.host), RawClient.connect(f.port, f.host)])
    try {
      const cases: Array<[string, string[]]> = [
        ['activerehashing', ['no', 'YES', 'maybe', '']],
        ['lazyfree-lazy-expire', ['yes', 'no', '1']],
        ['lazyfree-lazy-server-del', ['yes', 'no']],
        ['lazyfree-lazy-eviction', ['yes', 'no']],
        ['lazyfree-lazy-user-flush', ['yes', 'no']],
        ['active-expire-effort', ['10', '0', '11', '-1', 'x', '1']],
        ['list-max-listpack-size', ['5', '-5', '-6', '0', '2147483647', '2147483648', '-2147483648', '-2147483649', '1.5', '-2']],
        ['list-max-ziplist-size', ['128', '-2']],
        // Kept within 1 to 500 (updateHZ): CONFIG GET and INFO show the value kept.
        ['hz', ['1000', '0', '-1', '50', 'abc', '10']],
      ]
      const hzLines = async (c: RawClient): Promise<string> => (await c.command('INFO', 'server')).toString().split('\r\n').filter(l => /^(configured_)?hz:/.test(l)).join(' ')
      for (const [name, values] of cases) {
        for (const v of values) {
          for (const cmd of [['CONFIG', 'SET', name, v], ['CONFIG', 'GET', name], ['CONFIG', 'GET', name === 'list-max-ziplist-size' ? 'list-max-listpack-size' : 'list-max-ziplist-size']]) {
            expect((await fc.command(...cmd)).toString(), cmd.join(' ')).toBe((await rc.command(...cmd)).toString())
          }
          if (name === 'hz') expect(await hzLines(fc), `INFO after hz ${v}`).toBe(await hzLines(rc))
        }
      }
    } finally {
      rc.close()
      fc.close()
      await Promise.all([r.stop(), f.stop()])
    }
  })
})

describe('logfile and pidfile', () => {
  it('logfile takes every thread\'s lines, relative to dir; CONFIG GET shows both, CONFIG SET refuses them as Redis does', async () => {
    const d = mkdtempSync(join(tmpdir(), 'flashkv-logfile-'))
    const f = await startFlashKV({ shards: 2, extraArgs: ['--dir', d, '--logfile', 'server.log', '--pidfile', 'server.pid', '--log-level', 'info'] })
    const r = await startRedis(['--save', '', '--appendonly', 'no'])
    const [fc, rc] = await Promise.all([RawClient.connect(f.port, f.host), RawClient.connect(r.port, r.host)])
    try {
      expect(f.logs()).not.toContain('ready to accept connections')
      expect(readFileSync(join(d, 'server.log'), 'latin1')).toContain('"msg":"FlashKV ready to accept connections"')
      expect(readFileSync(join(d, 'server.pid'), 'latin1')).toBe(`${String(f.pid)}\n`)
      expect((await fc.command('CONFIG', 'GET', 'logfile')).toString()).toBe(`*2\r\n$7\r\nlogfile\r\n$${join(d, 'server.log').length}\r\n${join(d, 'server.log')}\r\n`)
      for (const c of [['CONFIG', 'SET', 'logfile', 'x.log'], ['CONFIG', 'SET', 'pidfile', 'x.pid']]) {
        expect((await fc.command(...c)).toString(), c.join(' ')).toBe((await rc.command(...c)).toString())
      }
      // Lines of whichever I/O thread takes a new connection (each follows the level within 0.1 s).
      expect((await fc.command('CONFIG', 'SET', 'loglevel', 'debug')).toString()).toBe('+OK\r\n')
      while (!readFileSync(join(d, 'server.log'), 'latin1').includes('"msg":"connection closed"')) {
        const x = await RawClient.connect(f.port, f.host)
        x.close()
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    } finally {
      fc.close()
      rc.close()
      await Promise.all([f.stop(), r.stop()])
    }
    expect(existsSync(join(d, 'server.pid'))).toBe(false)
  })

})

describe('tcp-backlog', () => {
  /** The listening socket's backlog: ss's Send-Q for a socket in LISTEN. */
  const backlogOf = async (port: number): Promise<number> => {
    const { stdout } = await run('ss', ['-ltnH', `sport = :${port}`])
    return Number(stdout.trim().split(/\s+/)[2])
  }
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'latin1').trim())

  it('is listen(2)\'s backlog, 511 by default; CONFIG SET refuses it as Redis does', async () => {
    const r = await startRedis(['--save', '', '--appendonly', 'no'])
    const f = await startFlashKV({ shards: 1 })
    const g = await startFlashKV({ shards: 1, extraArgs: ['--tcp-backlog', '77'] })
    const [rc, fc, gc] = await Promise.all([RawClient.connect(r.port, r.host), RawClient.connect(f.port, f.host), RawClient.connect(g.port, g.host)])
    try {
      for (const c of [['CONFIG', 'GET', 'tcp-backlog'], ['CONFIG', 'SET', 'tcp-backlog', '100'], ['CONFIG', 'SET', 'tcp-backlog', 'x']]) {
        expect((await fc.command(...c)).toString(), c.join(' ')).toBe((await rc.command(...c)).toString())
      }
      expect(await backlogOf(f.port)).toBe(Math.min(511, somaxconn))
      expect((await gc.command('CONFIG', 'GET', 'tcp-backlog')).toString()).toBe('*2\r\n$11\r\ntcp-backlog\r\n$2\r\n77\r\n')
      expect(await backlogOf(g.port)).toBe(Math.min(77, somaxconn))
    } finally {
      for (const c of [rc, fc, gc]) c.close()
      await Promise.all([r.stop(), f.stop(), g.stop()])
    }
  })

  it('above net.core.somaxconn: Redis\'s warning at start', async () => {
    const f = await startFlashKV({ shards: 1, extraArgs: ['--tcp-backlog', String(somaxconn + 1)] })
    try {
      expect(f.logs()).toContain(`WARNING: The TCP backlog setting of ${somaxconn + 1} cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of ${somaxconn}.`)
      expect(await backlogOf(f.port)).toBe(somaxconn)
    } finally {
      await f.stop()
    }
  })
})

describe('a real redis.conf (Debian\'s /etc/redis/redis.conf)', () => {
  it('starts the server: what FlashKV implements applies, the rest is warned about once and skipped', async () => {
    // The flags the helper passes (--port, --bind, --dir) take precedence over the file's; so do
    // these: the log on stdout, where the test reads it (the file says /var/log/redis/...), and
    // the pid file in the test's directory.
    const pidfile = join(dir, 'debian.pid')
    const server = await startFlashKV({ shards: 2, extraArgs: ['/etc/redis/redis.conf', '--log-level', 'warn', '--logfile', '', '--pidfile', pidfile] })
    try {
      expect(readFileSync(pidfile, 'latin1')).toBe(`${String(server.pid)}\n`)
      const c = await RawClient.connect(server.port, server.host)
      expect((await c.command('PING')).toString()).toBe('+PONG\r\n')
      // tcp-keepalive 300, timeout 0 and the three client-output-buffer-limit lines come from the file.
      expect((await c.command('CONFIG', 'GET', 'client-output-buffer-limit')).toString()).toBe(
        '*2\r\n$26\r\nclient-output-buffer-limit\r\n$67\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60\r\n')
      expect((await c.command('CONFIG', 'GET', 'tcp-keepalive')).toString()).toBe('*2\r\n$13\r\ntcp-keepalive\r\n$3\r\n300\r\n')
      c.close()
      const logs = server.logs()
      expect(logs.split("'daemonize' is a Redis directive FlashKV does not implement").length - 1).toBe(1)
      for (const d of ['pidfile', 'logfile', 'tcp-backlog', 'loglevel']) expect(logs, d).not.toContain(`'${d}' is a Redis directive`)
    } finally {
      await server.stop()
    }
    expect(existsSync(pidfile)).toBe(false)
  })
})

describe('rename-command in the config file, beside Redis', () => {
  it('a renamed command answers under its new name only, a removed one is unknown, scripts and MULTI included', async () => {
    const file = join(dir, 'rename.conf')
    writeFileSync(file, 'rename-command CONFIG my-config\nrename-command flushall ""\nrename-command Get fetch\n')
    const flash = await startFlashKV({ shards: 4, extraArgs: [file] })
    const redis = await onFreePort('127.0.0.1', async port => await spawnServer('redis-server',
      [file, '--port', String(port), '--bind', '127.0.0.1', '--save', ''], port, '127.0.0.1', 'redis-server'))
    try {
      const [a, b] = await Promise.all([RawClient.connect(flash.port, flash.host), RawClient.connect(redis.port, redis.host)])
      const script: string[][] = [
        ['SET', 'k', 'v'], ['GET', 'k'], ['FETCH', 'k'], ['fetch', 'k'], ['CONFIG', 'GET', 'maxclients'], ['MY-CONFIG', 'GET', 'maxclients'],
        ['FLUSHALL'], ['EVAL', "return redis.call('fetch', KEYS[1])", '1', 'k'], ['EVAL', "return redis.pcall('get', KEYS[1])", '1', 'k'],
        ['MULTI'], ['FETCH', 'k'], ['GET', 'k'], ['EXEC'], ['MULTI'], ['FETCH', 'k'], ['EXEC'],
      ]
      for (const cmd of script) {
        const [x, y] = await Promise.all([a.command(...cmd), b.command(...cmd)])
        expect(x.toString('latin1'), cmd.join(' ')).toBe(y.toString('latin1'))
      }
      a.close()
      b.close()
    } finally {
      await flash.stop()
      await redis.stop()
    }
  })

  it('renaming a command that does not exist, or onto one that does, stops start-up as in Redis', async () => {
    for (const [text, says] of [['rename-command nosuch x\n', 'No such command in rename-command'], ['rename-command get set\n', 'Target command name already exists']]) {
      const file = join(dir, 'bad-rename.conf')
      writeFileSync(file, text)
      const r = await run(process.execPath, [MAIN, file, '--port', '0']).then(() => ({ code: 0, stderr: '' }), (e: { code: number, stderr: string }) => e)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(says)
    }
  })
})

describe('malformed configuration stops start-up with exit status 2', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['an unknown directive', ['bad1.conf'], {}, /bad1\.conf:2: unknown directive 'nosuch'/],
    ['a bad value', ['bad2.conf'], {}, /bad2\.conf:1: 'port' must be between 0 and 65535, got 99999/],
    ['a bad environment value', [], { FLASHKV_SHARDS: 'many' }, /FLASHKV_SHARDS needs an integer, got 'many'/],
    ['a missing file', ['missing.conf'], {}, /cannot read config file missing\.conf/],
    // Relative to dir (here the working directory), as Redis opens it after its chdir.
    ['a log file that cannot be opened', ['--port', '0', '--logfile', 'no-such-dir/x.log'], {}, /Can't open the log file: No such file or directory/],
  ]
  beforeAll(() => {
    writeFileSync(join(dir, 'bad1.conf'), 'port 7000\nnosuch thing\n')
    writeFileSync(join(dir, 'bad2.conf'), 'port 99999\n')
  })
  it.each(cases)('%s', async (_name, args, env, message) => {
    const err = await run(process.execPath, [MAIN, ...args], { cwd: dir, env: { ...process.env, ...env } }).then(() => null, (e: { code: number, stderr: string }) => e)
    expect(err).not.toBeNull()
    expect(err?.code).toBe(2)
    expect(err?.stderr).toMatch(message)
  })
})
