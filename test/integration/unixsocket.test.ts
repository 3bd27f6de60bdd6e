// unixsocket and unixsocketperm: FlashKV listens on a Unix socket beside its port, as Redis 7.0
// does, and treats its clients as Redis does (addr "<path>:0", flag U, MONITOR's "unix:<path>",
// local for protected mode and enable-debug-command local). Compared with redis-server started
// the same way; each side's path is put in place of the other's before comparing.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { PY, hasRedisPy } from './helpers/redis-py.js'

const run = promisify(execFile)
const MAIN = new URL('../../dist/src/main.js', import.meta.url).pathname

/** CLIENT INFO / LIST fields of one line. */
function fields (line: string): Record<string, string> {
  return Object.fromEntries(line.trim().split(' ').map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
}

/** A bulk reply's text. */
function bulk (b: Buffer): string {
  const s = b.toString('latin1')
  return s.slice(s.indexOf('\r\n') + 2, -2)
}

interface Side { server: ServerHandle, path: string }

async function both (extra: string[], shards = 2): Promise<{ dir: string, f: Side, r: Side }> {
  const dir = mkdtempSync(join(tmpdir(), 'flashkv-unix-'))
  const fp = join(dir, 'f.sock')
  const rp = join(dir, 'r.sock')
  const [f, r] = await Promise.all([
    startFlashKV({ shards, extraArgs: ['--unixsocket', fp, ...extra] }),
    startRedis(['--save', '', '--appendonly', 'no', '--unixsocket', rp, ...extra]),
  ])
  return { dir, f: { server: f, path: fp }, r: { server: r, path: rp } }
}

describe('unixsocket', () => {
  it('listens on the path with its mode; CONFIG, CLIENT INFO/LIST/KILL and MONITOR as redis-server; the file goes at shutdown', async () => {
    const dir0 = mkdtempSync(join(tmpdir(), 'flashkv-unix-stale-'))
    // What was at the path is replaced, as Redis unlinks it before binding.
    writeFileSync(join(dir0, 'f.sock'), 'stale')
    const f0 = await startFlashKV({ shards: 1, extraArgs: ['--unixsocket', join(dir0, 'f.sock'), '--log-level', 'info'] })
    try {
      expect(statSync(join(dir0, 'f.sock')).isSocket()).toBe(true)
      const c = await RawClient.connectPath(join(dir0, 'f.sock'))
      expect((await c.command('PING')).toString()).toBe('+PONG\r\n')
      c.close()
    } finally {
      expect(await f0.stop()).toBe(0)
    }
    expect(existsSync(join(dir0, 'f.sock'))).toBe(false)
    expect(f0.logs()).toContain(`"msg":"The server is now ready to accept connections at ${join(dir0, 'f.sock')}"`)
    expect(f0.logs()).toContain('"msg":"Removing the unix socket file."')

    const { f, r } = await both(['--unixsocketperm', '770'])
    try {
      for (const s of [f, r]) {
        expect(statSync(s.path).isSocket()).toBe(true)
        expect(statSync(s.path).mode & 0o777).toBe(0o770)
      }
      const [fc, rc] = await Promise.all([RawClient.connectPath(f.path), RawClient.connectPath(r.path)])
      const same = async (...args: string[]): Promise<string> => {
        const fr = (await fc.command(...args)).toString('latin1').replaceAll(f.path, '<path>')
        expect(fr, args.join(' ')).toBe((await rc.command(...args)).toString('latin1').replaceAll(r.path, '<path>'))
        return fr
      }
      // The paths differ in length: these replies are compared as text.
      for (const [c, s] of [[fc, f], [rc, r]] as const) {
        expect((await c.command('CONFIG', 'GET', 'unixsocket')).toString()).toBe(`*2\r\n$10\r\nunixsocket\r\n$${s.path.length}\r\n${s.path}\r\n`)
      }
      await same('CONFIG', 'GET', 'unixsocketperm')
      await same('CONFIG', 'SET', 'unixsocket', '/tmp/elsewhere.sock')
      await same('CONFIG', 'SET', 'unixsocketperm', '777')
      await same('SET', 'k', 'v')

      const info = async (c: RawClient, path: string): Promise<Record<string, string>> => {
        const x = fields(bulk(await c.command('CLIENT', 'INFO')))
        return { addr: x.addr.replace(path, '<path>'), laddr: x.laddr.replace(path, '<path>'), flags: x.flags }
      }
      expect(await info(fc, f.path)).toEqual({ addr: '<path>:0', laddr: '<path>:0', flags: 'U' })
      expect(await info(fc, f.path)).toEqual(await info(rc, r.path))
      // In MULTI (seen by another client of the socket): x, then U.
      const [fg, rg] = await Promise.all([RawClient.connectPath(f.path), RawClient.connectPath(r.path)])
      const multiFlags = async (c: RawClient): Promise<string[]> =>
        bulk(await c.command('CLIENT', 'LIST')).split('\n').filter(l => l.includes(' multi=0 ')).map(l => fields(l).flags)
      await same('MULTI')
      expect(await multiFlags(fg)).toEqual(['xU'])
      expect(await multiFlags(fg)).toEqual(await multiFlags(rg))
      await same('DISCARD')

      // MONITOR: a Unix socket's client is "unix:<path>"; the monitor itself is flagged O.
      const [fm, rm] = await Promise.all([RawClient.connectPath(f.path), RawClient.connectPath(r.path)])
      expect((await fm.command('MONITOR')).toString()).toBe('+OK\r\n')
      expect((await rm.command('MONITOR')).toString()).toBe('+OK\r\n')
      await same('GET', 'k')
      const line = async (m: RawClient, path: string): Promise<string> => (await m.readReplies(1))[0].toString('latin1').replace(/^\+\d+\.\d+ /, '').replaceAll(path, '<path>')
      expect(await line(fm, f.path)).toBe('[0 unix:<path>] "GET" "k"\r\n')
      expect(await line(rm, r.path)).toBe('[0 unix:<path>] "GET" "k"\r\n')
      const monitorFlags = async (c: RawClient): Promise<string[]> =>
        bulk(await c.command('CLIENT', 'LIST')).split('\n').filter(l => l.includes('cmd=monitor')).map(l => fields(l).flags)
      expect(await monitorFlags(fc)).toEqual(['OU'])
      expect(await monitorFlags(fc)).toEqual(await monitorFlags(rc))
      // Every client of the socket but the caller: the monitor and the other one.
      expect((await fc.command('CLIENT', 'KILL', 'ADDR', `${f.path}:0`, 'SKIPME', 'yes')).toString()).toBe(':2\r\n')
      expect((await rc.command('CLIENT', 'KILL', 'ADDR', `${r.path}:0`, 'SKIPME', 'yes')).toString()).toBe(':2\r\n')
      for (const c of [fm, rm, fg, rg]) expect((await c.readUntilClose(5000)).closed).toBe(true)
      fc.close()
      rc.close()

      // What went in over the socket is there over TCP.
      const t = await RawClient.connect(f.server.port, f.server.host)
      expect((await t.command('GET', 'k')).toString()).toBe('$1\r\nv\r\n')
      t.close()
    } finally {
      await Promise.all([f.server.stop(), r.server.stop()])
    }
    expect(existsSync(f.path)).toBe(false)
    expect(existsSync(r.path)).toBe(false)
  })

  it('lets its clients in as local: protected mode, and enable-debug-command / enable-protected-configs local', async () => {
    // No password: protected mode lets in loopback and Unix socket clients only.
    const { f, r } = await both(['--enable-debug-command', 'local', '--enable-protected-configs', 'local', '--protected-mode', 'yes'], 1)
    try {
      for (const s of [f, r]) {
        const c = await RawClient.connectPath(s.path)
        expect((await c.command('PING')).toString()).toBe('+PONG\r\n')
        expect((await c.command('DEBUG', 'SLEEP', '0')).toString()).toBe('+OK\r\n')
        expect((await c.command('CONFIG', 'SET', 'dbfilename', 'x.rdb')).toString()).toBe('+OK\r\n')
        c.close()
      }
    } finally {
      await Promise.all([f.server.stop(), r.server.stop()])
    }
  })

  it('serves ioredis, node-redis and redis-py clients, over four I/O threads too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashkv-unix-io-'))
    const path = join(dir, 'f.sock')
    const server = await startFlashKV({ shards: 2, extraArgs: ['--io-threads', '4', '--unixsocket', path] })
    try {
      const io = new Redis({ path })
      await io.set('io', '1')
      expect(await io.incr('io')).toBe(2)
      const nr = createClient({ socket: { path } })
      nr.on('error', () => {})
      await nr.connect()
      expect(await nr.get('io')).toBe('2')
      // Several clients at once land on several threads (each accepts on the shared socket).
      const many = await Promise.all(Array.from({ length: 12 }, () => RawClient.connectPath(path)))
      const ids = await Promise.all(many.map(async (c, i) => {
        expect((await c.command('SET', `k${i}`, String(i))).toString()).toBe('+OK\r\n')
        return bulk(await c.command('CLIENT', 'INFO'))
      }))
      for (const l of ids) expect([fields(l).addr, fields(l).flags]).toEqual([`${path}:0`, 'U'])
      const list = bulk(await many[0].command('CLIENT', 'LIST')).split('\n').filter(l => l.includes(`addr=${path}:0 `))
      // 12 raw clients, ioredis and node-redis.
      expect(list.length).toBe(14)
      if (hasRedisPy) {
        const { stdout } = await run(PY, ['-c', `import redis; r = redis.Redis(unix_socket_path=${JSON.stringify(path)}); print(r.get('k7').decode(), r.incr('io'))`])
        expect(stdout.trim()).toBe('7 3')
      }
      for (const c of many) c.close()
      io.disconnect()
      await nr.quit()
    } finally {
      await server.stop()
    }
    expect(existsSync(path)).toBe(false)
  })

  it('a path it cannot bind stops start-up with redis-server\'s line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashkv-unix-bad-'))
    const long = join(dir, 'x'.repeat(120 - dir.length) + '.sock')
    for (const [path, says] of [
      [join(dir, 'no-such-dir', 'x.sock'), 'Failed opening Unix socket: bind: No such file or directory'],
      [long, `Failed opening Unix socket: unix socket path too long (${long.length}), must be under 108`],
    ]) {
      const redis = await run('redis-server', ['--port', '0', '--save', '', '--unixsocket', path]).then(() => null, (e: { code: number, stdout: string }) => e)
      expect(redis?.code).toBe(1)
      expect(redis?.stdout).toContain(says)
      const ours = await run(process.execPath, [MAIN, '--port', '0', '--shards', '1', '--dir', dir, '--unixsocket', path]).then(() => null, (e: { code: number, stdout: string }) => e)
      expect(ours?.code).toBe(1)
      expect(ours?.stdout).toContain(`"msg":"${says}"`)
    }
    expect(existsSync(long.slice(0, 107))).toBe(false)
    // unixsocketperm is octal, 0 to 777 (redis-server says "argument couldn't be parsed as an octal number").
    for (const perm of ['999', 'rw', '1000']) {
      const e = await run(process.execPath, [MAIN, '--port', '0', '--unixsocketperm', perm]).then(() => null, (x: { code: number, stderr: string }) => x)
      expect(e?.code, perm).toBe(2)
      expect(e?.stderr).toMatch(/--unixsocketperm (needs an octal number|must be between 0 and 777)/)
    }
  })
})
