// CONFIG SET of what Redis 7.0 guards or rebinds, against a real redis-server 7.0.15: the
// protected configs (dir, dbfilename) behind enable-protected-configs, the start-up-only gates,
// and port and bind: a port in use or an address that is not there gives Redis's error, the old
// listener keeps serving and nothing of the same CONFIG SET is applied; a new port takes new
// clients while those already connected stay. CONFIG REWRITE writes what was set.
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useDiffPair, text } from './helpers/diff.js'
import { RawClient } from './helpers/raw.js'
import { DEFAULT_REDIS_ARGS, startRedis } from './helpers/redis.js'
import { freePort, startFlashKV, type ServerHandle } from './helpers/server.js'

const pair = useDiffPair()
const { sequence } = pair

/** Whether a new connection to host:port is accepted. */
function canConnect (port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect({ port, host })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

/** A port held by a listener of this test process until release(). */
async function busyPort (): Promise<{ port: number, release: () => Promise<void> }> {
  const srv = net.createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as net.AddressInfo).port
  return { port, release: () => new Promise(resolve => srv.close(() => resolve())) }
}

describe('protected and start-up-only configs (enable-protected-configs no, the default)', () => {
  it('dir and dbfilename are refused, alone or among others, and nothing changes', async () => {
    await sequence([
      ['CONFIG', 'SET', 'dir', '/tmp'], ['CONFIG', 'SET', 'DIR', '/tmp'], ['CONFIG', 'SET', 'dbfilename', 'x.rdb'],
      ['CONFIG', 'SET', 'timeout', '5', 'dir', '/tmp'], ['CONFIG', 'GET', 'timeout'], ['CONFIG', 'GET', 'dbfilename'],
      ['CONFIG', 'SET', 'dir', '/tmp', 'databases', '3'],
    ])
  })

  it('the gates themselves are immutable, and report no', async () => {
    await sequence([
      ['CONFIG', 'SET', 'enable-protected-configs', 'yes'], ['CONFIG', 'SET', 'enable-debug-command', 'yes'],
      ['CONFIG', 'SET', 'enable-module-command', 'local'], ['CONFIG', 'SET', 'enable-protected-configs', 'no'],
      ['CONFIG', 'GET', 'enable-protected-configs'], ['CONFIG', 'GET', 'enable-module-command'], ['CONFIG', 'GET', 'enable-debug-command'],
    ])
  })
})

describe('server_cpulist (start-up only)', () => {
  it('reads back empty by default and CONFIG SET is refused as immutable', async () => {
    await sequence([
      ['CONFIG', 'GET', 'server_cpulist'], ['CONFIG', 'SET', 'server_cpulist', '0'], ['CONFIG', 'SET', 'server_cpulist', ''],
      ['CONFIG', 'SET', 'SERVER_CPULIST', '0-1:2', 'timeout', '3'], ['CONFIG', 'GET', 'timeout'],
    ])
  })
})

describe('MODULE, with no modules', () => {
  it('LIST and HELP answer; LOAD, LOADEX and UNLOAD are refused by enable-module-command no', async () => {
    await sequence([
      ['MODULE', 'LIST'], ['MODULE', 'HELP'], ['module', 'list', 'x'], ['MODULE'], ['MODULE', 'FOO'], ['MODULE', 'LOAD'],
      ['MODULE', 'LOAD', '/nonexistent.so'], ['MODULE', 'LOADEX', '/nonexistent.so', 'CONFIG', 'a', 'b'], ['MODULE', 'UNLOAD', 'x'],
      ['MODULE', 'UNLOAD', 'x', 'y'], ['COMMAND', 'INFO', 'module|load'],
    ])
  })
})

describe('CONFIG SET port and bind', () => {
  it('a port in use: Redis\'s error, the other parameters unchanged, the old port still serving', async () => {
    const busy = await busyPort()
    try {
      await sequence([
        ['CONFIG', 'SET', 'port', String(busy.port)],
        ['CONFIG', 'SET', 'maxmemory', '5mb', 'port', String(busy.port)], ['CONFIG', 'GET', 'maxmemory'],
        ['CONFIG', 'SET', 'port', String(busy.port), 'timeout', '9'], ['CONFIG', 'GET', 'timeout'],
        ['PING'],
      ])
      expect(await canConnect(pair.flash.port)).toBe(true)
      expect(text(await pair.f.command('CONFIG', 'GET', 'port'))).toBe(`*2\r\n$4\r\nport\r\n$${String(pair.flash.port).length}\r\n${pair.flash.port}\r\n`)
    } finally {
      await busy.release()
    }
  })

  it('an address that is not there: Redis\'s error; an optional one (-) is skipped', async () => {
    try {
      await sequence([
        ['CONFIG', 'SET', 'bind', '192.0.2.1'], ['CONFIG', 'GET', 'bind'], ['CONFIG', 'SET', 'bind', '127.0.0.1 192.0.2.1'],
        ['CONFIG', 'SET', 'bind', '192.0.2.1', 'port', '1'], ['CONFIG', 'SET', 'timeout', '3', 'bind', '192.0.2.1'], ['CONFIG', 'GET', 'timeout'],
        ['CONFIG', 'SET', 'bind', '127.0.0.1   -192.0.2.1'], ['CONFIG', 'GET', 'bind'],
        ['CONFIG', 'SET', 'bind', '-192.0.2.1 127.0.0.1'], ['CONFIG', 'GET', 'bind'], ['PING'],
      ])
      // The new listener took over on the same port.
      expect(await canConnect(pair.flash.port)).toBe(true)
    } finally {
      await sequence([['CONFIG', 'SET', 'bind', '127.0.0.1']])
    }
  })

  it('a new port takes new clients, the old one refuses them, clients already in stay', async () => {
    const [fNew, rNew] = [await freePort(), await freePort()]
    const fOld = pair.flash.port
    const rOld = pair.redis.port
    expect(text(await pair.f.command('SET', 'k', 'v'))).toBe('+OK\r\n')
    const replies = await Promise.all([pair.f.command('CONFIG', 'SET', 'port', String(fNew)), pair.r.command('CONFIG', 'SET', 'port', String(rNew))])
    expect(replies.map(text)).toEqual(['+OK\r\n', '+OK\r\n'])
    try {
      expect(await canConnect(fOld)).toBe(false)
      expect(await canConnect(rOld)).toBe(false)
      // The connection made before the change still works, on both.
      expect(text(await pair.f.command('GET', 'k'))).toBe('$1\r\nv\r\n')
      expect(text(await pair.f.command('CONFIG', 'GET', 'port'))).toBe(`*2\r\n$4\r\nport\r\n$${String(fNew).length}\r\n${fNew}\r\n`)
      // A new client, over the new port, on every I/O thread alike: each sees the new value.
      for (let i = 0; i < 4; i++) {
        const c = await RawClient.connect(fNew, '127.0.0.1')
        expect(text(await c.command('GET', 'k'))).toBe('$1\r\nv\r\n')
        expect(text(await c.command('CONFIG', 'GET', 'port'))).toBe(`*2\r\n$4\r\nport\r\n$${String(fNew).length}\r\n${fNew}\r\n`)
        c.close()
      }
    } finally {
      const back = await Promise.all([pair.f.command('CONFIG', 'SET', 'port', String(fOld)), pair.r.command('CONFIG', 'SET', 'port', String(rOld))])
      expect(back.map(text)).toEqual(['+OK\r\n', '+OK\r\n'])
    }
    expect(await canConnect(fOld)).toBe(true)
  })
})

describe('enable-protected-configs yes', () => {
  let redis: ServerHandle
  let flash: ServerHandle
  let r: RawClient
  let f: RawClient
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'flashkv-protected-')))
  beforeAll(async () => {
    ;[redis, flash] = await Promise.all([
      startRedis([...DEFAULT_REDIS_ARGS, '--enable-protected-configs', 'yes']),
      startFlashKV({ shards: 2, extraArgs: ['--enable-protected-configs', 'yes'] }),
    ])
    ;[r, f] = await Promise.all([RawClient.connect(redis.port, redis.host), RawClient.connect(flash.port, flash.host)])
  })
  afterAll(async () => {
    r?.close()
    f?.close()
    await Promise.all([redis?.stop(), flash?.stop()])
  })
  const same = async (...args: string[]): Promise<void> => {
    const [a, b] = await Promise.all([f.command(...args), r.command(...args)])
    expect(text(a), args.join(' ')).toBe(text(b))
  }

  it('dir: errors as chdir reports them, then an absolute path; dbfilename: no path', async () => {
    writeFileSync(join(dir, 'file'), '')
    for (const cmd of [
      ['CONFIG', 'GET', 'enable-protected-configs'], ['CONFIG', 'SET', 'dir', '/nonexistent/x'], ['CONFIG', 'SET', 'dir', join(dir, 'file')],
      ['CONFIG', 'SET', 'dbfilename', 'a/b.rdb'], ['CONFIG', 'SET', 'dbfilename', 'x.rdb', 'dir', '/nonexistent'], ['CONFIG', 'GET', 'dbfilename'],
      ['CONFIG', 'SET', 'dir', dir, 'dbfilename', 'saved.rdb'], ['CONFIG', 'GET', 'dir'], ['CONFIG', 'GET', 'dbfilename'],
      ['CONFIG', 'SET', 'dir', '.'], ['CONFIG', 'GET', 'dir'],
    ]) await same(...cmd)
  })

  it('SAVE writes to the new dir and dbfilename', async () => {
    const sub = realpathSync(mkdtempSync(join(dir, 'save-')))
    expect(text(await f.command('CONFIG', 'SET', 'dir', sub, 'dbfilename', 'one.rdb'))).toBe('+OK\r\n')
    expect(text(await f.command('SET', 'saved', 'yes'))).toBe('+OK\r\n')
    expect(text(await f.command('SAVE'))).toBe('+OK\r\n')
    expect(readFileSync(join(sub, 'one.rdb')).subarray(0, 5).toString('latin1')).toBe('REDIS')
  })
})

describe('enable-protected-configs and enable-module-command local', () => {
  // A non-loopback address of this machine, to connect from as a remote client would.
  const remote = Object.values(networkInterfaces()).flat().find(a => a !== undefined && a.family === 'IPv4' && !a.internal)?.address
  let redis: ServerHandle
  let flash: ServerHandle
  beforeAll(async () => {
    const bind = remote === undefined ? '127.0.0.1' : `127.0.0.1 ${remote}`
    const args = ['--enable-protected-configs', 'local', '--enable-module-command', 'local', '--protected-mode', 'no', '--bind', bind]
    ;[redis, flash] = await Promise.all([startRedis([...DEFAULT_REDIS_ARGS, ...args]), startFlashKV({ shards: 1, extraArgs: args })])
  })
  afterAll(async () => { await Promise.all([redis?.stop(), flash?.stop()]) })

  it('a loopback client may change dbfilename and run MODULE LOAD; one from another address may not', async () => {
    const ask = async (host: string, ...args: string[]): Promise<[string, string]> => {
      const [f, r] = await Promise.all([RawClient.connect(flash.port, host), RawClient.connect(redis.port, host)])
      try {
        const replies = await Promise.all([f.command(...args), r.command(...args)])
        return [text(replies[0]), text(replies[1])]
      } finally {
        f.close()
        r.close()
      }
    }
    const [a, b] = await ask('127.0.0.1', 'CONFIG', 'SET', 'dbfilename', 'local.rdb')
    expect(a).toBe('+OK\r\n')
    expect(a).toBe(b)
    const [m, n] = await ask('127.0.0.1', 'MODULE', 'LOAD', '/nonexistent.so')
    expect(m).toBe('-ERR Error loading the extension. Please check the server logs.\r\n')
    expect(m).toBe(n)
    if (remote === undefined) return
    const [o, q] = await ask(remote, 'MODULE', 'UNLOAD', 'x')
    expect(o).toMatch(/^-ERR MODULE command not allowed/)
    expect(o).toBe(q)
    const [c, d] = await ask(remote, 'CONFIG', 'SET', 'dbfilename', 'remote.rdb')
    expect(c).toBe("-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config\r\n")
    expect(c).toBe(d)
    const [e, g] = await ask(remote, 'CONFIG', 'GET', 'dbfilename')
    expect(e).toBe(g)
  })
})

describe('several bind addresses', () => {
  it('at start: each one listens, a missing optional one is skipped, CONFIG GET lists them as given', async () => {
    const flash = await startFlashKV({ shards: 1, extraArgs: ['--bind', '127.0.0.1 -192.0.2.1 127.0.0.2'] })
    try {
      for (const host of ['127.0.0.1', '127.0.0.2']) {
        // Several connections, so that every I/O thread's listener is tried.
        for (let i = 0; i < 4; i++) {
          const c = await RawClient.connect(flash.port, host)
          expect(text(await c.command('CONFIG', 'GET', 'bind'))).toBe('*2\r\n$4\r\nbind\r\n$30\r\n127.0.0.1 -192.0.2.1 127.0.0.2\r\n')
          c.close()
        }
      }
      expect(await canConnect(flash.port, '127.0.0.3')).toBe(false)
      // CONFIG SET moves them all: 127.0.0.3 only.
      const c = await RawClient.connect(flash.port, '127.0.0.1')
      expect(text(await c.command('CONFIG', 'SET', 'bind', '127.0.0.3'))).toBe('+OK\r\n')
      expect(await canConnect(flash.port, '127.0.0.3')).toBe(true)
      expect(await canConnect(flash.port, '127.0.0.1')).toBe(false)
      expect(await canConnect(flash.port, '127.0.0.2')).toBe(false)
      expect(text(await c.command('PING'))).toBe('+PONG\r\n')
      c.close()
    } finally {
      await flash.stop()
    }
  })
})

describe('CONFIG REWRITE writes port and bind', () => {
  it('as set, in the file it started from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashkv-rewrite-net-'))
    const conf = join(dir, 'flashkv.conf')
    writeFileSync(conf, 'bind 127.0.0.1\n')
    const flash = await startFlashKV({ shards: 1, extraArgs: [conf] })
    const port = await freePort()
    try {
      const c = await RawClient.connect(flash.port, flash.host)
      expect(text(await c.command('CONFIG', 'SET', 'bind', '127.0.0.1 -::1', 'port', String(port)))).toBe('+OK\r\n')
      expect(text(await c.command('CONFIG', 'REWRITE'))).toBe('+OK\r\n')
      c.close()
      const lines = readFileSync(conf, 'latin1').split('\n')
      expect(lines[0]).toBe('bind 127.0.0.1 -::1')
      expect(lines).toContain(`port ${port}`)
      expect(await canConnect(port)).toBe(true)
    } finally {
      await flash.stop()
    }
  })
})
