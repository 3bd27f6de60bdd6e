// requirepass, AUTH, HELLO AUTH and protected mode against a real redis-server 7.0.15 (the default user only; ACL
// users are not built): every reply compared on fresh connections of both servers, and the
// clients' own password options (ioredis, node-redis with HELLO 3 AUTH, redis-cli -a).
import { execFileSync } from 'node:child_process'
import net from 'node:net'
import { networkInterfaces } from 'node:os'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterEach, describe, expect, it } from 'vitest'
import { useDiffPair, text, show, type Arg } from './helpers/diff.js'
import { RawClient } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'
import { startFlashKV } from './helpers/server.js'

const pair = useDiffPair({ shards: 4 })

/** Runs cmds on a new connection to each server and expects the same replies, one by one. */
async function fresh (cmds: Arg[][]): Promise<void> {
  const [f, r] = await Promise.all([RawClient.connect(pair.flash.port, pair.flash.host), RawClient.connect(pair.redis.port, pair.redis.host)])
  try {
    for (const c of cmds) {
      const [a, b] = await Promise.all([f.command(...c), r.command(...c)])
      // HELLO names the connection's id, which differs between the servers.
      const norm = (t: string): string => t.replace(/\$2\r\nid\r\n:\d+\r\n/, '$2\r\nid\r\n:N\r\n')
      expect(norm(text(a)), `reply to ${show(c)}`).toBe(norm(text(b)))
    }
  } finally {
    f.close()
    r.close()
  }
}

/** The password both servers have now ('' = none). */
let current = ''
async function requirepass (pass: string): Promise<void> {
  await fresh([['AUTH', 'default', current === '' ? 'any' : current], ['CONFIG', 'SET', 'requirepass', pass]])
  current = pass
}

afterEach(async () => { await requirepass('') })

describe('without requirepass', () => {
  it('the default user is nopass: AUTH of one argument errs, AUTH default anything and HELLO AUTH pass', async () => {
    await fresh([
      ['AUTH', 'x'], ['AUTH', 'default', 'x'], ['AUTH', 'Default', 'x'], ['AUTH', 'other', 'x'], ['AUTH', 'a', 'b', 'c'],
      ['HELLO', '2', 'AUTH', 'other', 'x'], ['HELLO', '2', 'AUTH', 'default', 'anything'], ['PING'], ['CONFIG', 'GET', 'requirepass'],
    ])
  })
})

describe('with requirepass', () => {
  it('new clients get NOAUTH for every command but AUTH, HELLO and QUIT; unknown commands and arity errors come first', async () => {
    await requirepass('secret')
    await fresh([
      ['PING'], ['GET', 'k'], ['NOSUCH'], ['GET'], ['CLIENT', 'BOGUS'], ['SELECT', '1'], ['HELLO', '3'], ['HELLO'], ['HELLO', '2', 'SETNAME', 'x'],
      ['AUTH', 'wrong'], ['AUTH', 'default', 'wrong'], ['AUTH', 'Default', 'secret'], ['HELLO', '2', 'AUTH', 'default', 'wrong'], ['PING'],
      ['AUTH', 'secret'], ['PING'], ['AUTH', 'wrong'], ['PING'], ['CONFIG', 'GET', 'requirepass'],
    ])
    await fresh([['HELLO', '2', 'AUTH', 'default', 'secret', 'SETNAME', 'n'], ['CLIENT', 'GETNAME'], ['SET', 'k', 'v'], ['GET', 'k']])
    // Each HELLO option takes effect where it stands: what comes before a bad option stays done,
    // and SETNAME works before the client is authenticated.
    await fresh([['HELLO', '2', 'SETNAME', 'early', 'x'], ['HELLO', '2', 'SETNAME', 'a b', 'x'], ['AUTH', 'secret'], ['CLIENT', 'GETNAME']])
    await fresh([['HELLO', '2', 'AUTH', 'default', 'secret', 'BOGUS'], ['PING'], ['HELLO', '3', 'SETNAME', 'n2', 'AUTH', 'default', 'wrong'], ['CLIENT', 'GETNAME']])
    await fresh([['MULTI'], ['SET', 'k', 'v'], ['EXEC'], ['EXEC', 'x'], ['AUTH', 'default', 'secret'], ['MULTI'], ['SET', 'k', 'w'], ['EXEC'], ['GET', 'k'], ['EXEC', 'x']])
  })

  it('before AUTH, more than 10 arguments or a bulk past 16 KB is a protocol error that closes the connection', async () => {
    await requirepass('secret')
    /** Everything a new connection gets for `bytes` (then QUIT) until the server closes it. */
    const exchange = async (port: number, host: string, bytes: Buffer): Promise<string> => await new Promise((resolve, reject) => {
      const s = net.connect(port, host)
      const got: Buffer[] = []
      s.on('data', d => got.push(d))
      s.on('error', reject)
      s.on('close', () => { resolve(Buffer.concat(got).toString('latin1')) })
      s.write(Buffer.concat([bytes, Buffer.from('*1\r\n$4\r\nQUIT\r\n')]))
    })
    const mb = (args: string[]): Buffer => Buffer.from(`*${args.length}\r\n${args.map(a => `$${a.length}\r\n${a}\r\n`).join('')}`)
    const cases: Buffer[] = [
      mb(Array(11).fill('a')), mb(['PING', ...Array(9).fill('a')]), Buffer.from('*2\r\n$4\r\nECHO\r\n$16385\r\n'), mb(['ECHO', 'x'.repeat(16384)]),
      Buffer.from('*11\r\n'), Buffer.from('*-1\r\n*11\r\n'), Buffer.from(`PING ${Array(12).fill('a').join(' ')}\r\n`),
      Buffer.concat([Buffer.from('AUTH secret\r\n'), mb(Array(11).fill('a'))]), Buffer.concat([Buffer.from('AUTH secret\r\n'), mb(['ECHO', 'y'.repeat(16385)])]),
      Buffer.concat([Buffer.from('AUTH wrong\r\n'), mb(Array(11).fill('a'))]), Buffer.concat([Buffer.from('HELLO 2 AUTH default secret\r\n'), mb(['MSET', ...Array(10).fill('k')])]),
    ]
    for (const c of cases) {
      const [a, b] = await Promise.all([exchange(pair.flash.port, pair.flash.host, c), exchange(pair.redis.port, pair.redis.host, c)])
      const norm = (t: string): string => t.replace(/\$2\r\nid\r\n:\d+\r\n/, '$2\r\nid\r\n:N\r\n')
      expect(norm(a), `reply to ${JSON.stringify(c.toString('latin1').slice(0, 60))}`).toBe(norm(b))
    }
  })

  it('clients already connected stay authenticated when the password changes; clearing it lets everyone in', async () => {
    const [f, r] = await Promise.all([RawClient.connect(pair.flash.port, pair.flash.host), RawClient.connect(pair.redis.port, pair.redis.host)])
    try {
      // A PING first: the server has accepted them (a loaded box can run the accept after CONFIG SET).
      expect(text(await f.command('PING'))).toBe(text(await r.command('PING')))
      await requirepass('secret')
      for (const c of [['PING'], ['SET', 'a', '1']]) expect(text(await f.command(...c))).toBe(text(await r.command(...c)))
      await fresh([['PING']])
      await fresh([['AUTH', 'secret'], ['CONFIG', 'SET', 'requirepass', '']])
      current = ''
      await fresh([['PING'], ['GET', 'a']])
    } finally {
      f.close()
      r.close()
    }
  })

  it('ioredis, node-redis (HELLO 3 AUTH) and redis-cli -a log in with the password, and fail without it', async () => {
    await requirepass('s3cret')
    const io = new Redis({ port: pair.flash.port, host: pair.flash.host, password: 's3cret', lazyConnect: true })
    await io.connect()
    expect(await io.ping()).toBe('PONG')
    io.disconnect()
    const nr = createClient({ socket: { port: pair.flash.port, host: pair.flash.host }, password: 's3cret' })
    nr.on('error', () => {})
    await nr.connect()
    expect(await nr.ping()).toBe('PONG')
    await nr.quit()
    const wrong = createClient({ socket: { port: pair.flash.port, host: pair.flash.host, reconnectStrategy: false }, password: 'nope' })
    wrong.on('error', () => {})
    await expect(wrong.connect()).rejects.toThrow(/WRONGPASS/)
    const cli = (...a: string[]): string => execFileSync('redis-cli', ['-p', String(pair.flash.port), ...a], { encoding: 'utf8' }).trim()
    expect(cli('-a', 's3cret', '--no-auth-warning', 'PING')).toBe('PONG')
    expect(cli('PING')).toBe('NOAUTH Authentication required.')
  })
})

/** This machine's first non-loopback IPv4 address, if it has one. */
function outsideAddress (): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return undefined
}

/**
 * What one connection from `host` receives for two PINGs, the second sent once the first is
 * answered: a refused client gets one error and the close, an admitted one two replies. No
 * timer decides which.
 */
async function pingFrom (port: number, host: string): Promise<string> {
  return await new Promise((resolve) => {
    let got = ''
    let isSecondSent = false
    const s = net.connect(port, host, () => s.write('PING\r\n'))
    const done = (suffix: string): void => { s.destroy(); resolve(got + suffix) }
    s.on('data', (d) => {
      got += d.toString('latin1')
      const lines = got.split('\r\n').length - 1
      if (lines >= 1 && !isSecondSent) { isSecondSent = true; s.write('PING\r\n', () => {}) }
      if (lines >= 2) done('')
    })
    s.on('error', () => {})
    s.on('close', () => done('<closed>'))
  })
}

describe.skipIf(outsideAddress() === undefined)('protected mode', () => {
  it('with no password only loopback clients get in; others get DENIED and are closed; a password or protected-mode no lets them in', async () => {
    const outside = outsideAddress() as string
    const f = await startFlashKV({ shards: 2, extraArgs: ['--bind', '0.0.0.0'] })
    const r = await startRedis(['--save', '', '--appendonly', 'no', '--bind', '0.0.0.0'])
    try {
      const both = async (): Promise<void> => { expect(await pingFrom(f.port, outside)).toBe(await pingFrom(r.port, outside)) }
      await both()
      expect(await pingFrom(f.port, outside)).toMatch(/^-DENIED Redis is running in protected mode.*<closed>$/s)
      expect(await pingFrom(f.port, '127.0.0.1')).toBe('+PONG\r\n+PONG\r\n')
      for (const [k, v] of [['protected-mode', 'no'], ['protected-mode', 'yes'], ['requirepass', 'x']]) {
        for (const s of [f, r]) {
          const c = await RawClient.connect(s.port, '127.0.0.1')
          await c.command('AUTH', 'x').catch(() => {})
          expect(text(await c.command('CONFIG', 'SET', k, v)), `${s === f ? 'flashkv' : 'redis'} CONFIG SET ${k} ${v}`).toBe('+OK\r\n')
          c.close()
        }
        await both()
      }
    } finally {
      await Promise.all([f.stop(), r.stop()])
    }
  })
})

describe('RESET', () => {
  it('back to a new connection: database 0, no name, RESP2, no MULTI or WATCH, no subscriptions, replies on', async () => {
    await fresh([['SELECT', '3'], ['SET', 'k', 'v'], ['CLIENT', 'SETNAME', 'n'], ['RESET'], ['GET', 'k'], ['CLIENT', 'GETNAME'], ['RESET', 'x']])
    await fresh([['MULTI'], ['SET', 'a', '1'], ['RESET'], ['EXEC'], ['MULTI'], ['BOGUS'], ['RESET'], ['MULTI'], ['SET', 'a', '2'], ['EXEC'], ['GET', 'a']])
    await fresh([['WATCH', 'w'], ['RESET'], ['MULTI'], ['EXEC']])
    await fresh([['SUBSCRIBE', 'ch'], ['RESET'], ['PING'], ['PSUBSCRIBE', 'p*'], ['RESET'], ['PUBLISH', 'p1', 'x'], ['PUBSUB', 'NUMPAT']])
    await fresh([['HELLO', '3'], ['RESET'], ['HELLO']])
    await pair.sameRaw('CLIENT REPLY OFF\r\nPING\r\nRESET\r\nPING\r\n', 2)
  })

  it('with requirepass, RESET logs the client out', async () => {
    await requirepass('pw')
    await fresh([['AUTH', 'pw'], ['PING'], ['RESET'], ['PING'], ['RESET'], ['AUTH', 'pw'], ['PING']])
  })
})
