// TLS (tls-port and the tls-* settings) against a real redis-server 7.0.15 given the same
// certificates: redis-cli --tls and ioredis over TLS, client certificates required, optional or
// not asked for, protocol versions, CONFIG GET tls-*, the plain port beside it, and a server that
// refuses to start on a bad certificate. The certificates are made here with openssl.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { freePort, startFlashKV, type ServerHandle } from './helpers/server.js'
import { rawOnce } from './helpers/raw.js'
import { startRedis } from './helpers/redis.js'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'flashkv-tls-'))
const file = (n: string): string => join(dir, n)

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a second CA's client. */
function makeCertificates (): void {
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }) }
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  for (const ca of ['ca', 'other-ca']) {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=${ca}`)
  }
  const leaf = (name: string, ca: string, ext: string[]): void => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`)
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...ext)
  }
  leaf('server', 'ca', ['-extfile', 'san.ext'])
  // A second server certificate, from the other CA: what CONFIG SET tls-cert-file switches to.
  leaf('server2', 'other-ca', ['-extfile', 'san.ext'])
  leaf('client', 'ca', [])
  leaf('stranger', 'other-ca', [])
}

const serverArgs = (tlsPort: number, extra: string[] = []): string[] => [
  '--tls-port', String(tlsPort), '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'),
  '--tls-ca-cert-file', file('ca.crt'), ...extra,
]

interface Pair { flash: ServerHandle, flashTls: number, redis: ServerHandle, redisTls: number }

async function startPair (extra: string[] = []): Promise<Pair> {
  const flashTls = await freePort()
  const flash = await startFlashKV({ shards: 4, extraArgs: serverArgs(flashTls, extra) })
  const redisTls = await freePort()
  const redis = await startRedis(['--save', '', '--appendonly', 'no', ...serverArgs(redisTls, extra)])
  return { flash, flashTls, redis, redisTls }
}

/** redis-cli over TLS: its output, or its error output when it failed. */
async function cli (port: number, certs: 'client' | 'stranger' | 'none', ...args: string[]): Promise<{ ok: boolean, out: string }> {
  const auth = certs === 'none' ? [] : ['--cert', file(`${certs}.crt`), '--key', file(`${certs}.key`)]
  try {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--tls', '--cacert', file('ca.crt'), ...auth, ...args])
    return { ok: !stdout.startsWith('Error'), out: stdout }
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) }
  }
}

beforeAll(() => { makeCertificates() })

describe('tls-auth-clients yes (the default)', () => {
  let p: Pair
  beforeAll(async () => { p = await startPair() }, 60_000)
  afterAll(async () => { await p?.flash.stop(); await p?.redis.stop() })

  it('redis-cli --tls with a client certificate gets the same replies as from Redis', async () => {
    const script = [['SET', 'k', 'v'], ['GET', 'k'], ['INCR', 'n'], ['LPUSH', 'l', 'a', 'b'], ['LRANGE', 'l', '0', '-1'], ['GET', 'nosuch'], ['HGET', 'k', 'f']]
    for (const cmd of script) {
      const [a, b] = await Promise.all([cli(p.flashTls, 'client', ...cmd), cli(p.redisTls, 'client', ...cmd)])
      expect(a.ok, `${cmd.join(' ')}: ${a.out}`).toBe(true)
      expect(a.out, cmd.join(' ')).toBe(b.out)
    }
  })

  it('a client without a certificate, or with one from another CA, is refused by both', async () => {
    for (const certs of ['none', 'stranger'] as const) {
      const [a, b] = await Promise.all([cli(p.flashTls, certs, 'PING'), cli(p.redisTls, certs, 'PING')])
      expect(b.ok, `redis, ${certs}`).toBe(false)
      expect(a.ok, `flashkv, ${certs}: ${a.out}`).toBe(false)
    }
    // Refusing them harmed no one: the server still answers over TLS.
    expect((await cli(p.flashTls, 'client', 'PING')).out).toBe('PONG\n')
  })

  it('the plain port serves beside TLS, over the same data', async () => {
    const plain = new Redis({ port: p.flash.port, host: '127.0.0.1', lazyConnect: true })
    await plain.connect()
    try {
      await plain.set('shared', 'plain')
      expect((await cli(p.flashTls, 'client', 'GET', 'shared')).out).toBe('plain\n')
    } finally {
      plain.disconnect()
    }
  })

  it('ioredis over TLS: commands, a pipeline of 1,000, and MULTI', async () => {
    const client = new Redis({
      port: p.flashTls, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0,
      tls: { ca: readFileSync(file('ca.crt')), cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')), servername: 'localhost' },
    })
    await client.connect()
    try {
      expect(await client.set('io:k', 'v')).toBe('OK')
      expect(await client.get('io:k')).toBe('v')
      const pipe = client.pipeline()
      for (let i = 0; i < 1000; i++) pipe.set(`io:${i}`, String(i))
      for (let i = 0; i < 1000; i++) pipe.get(`io:${i}`)
      const res = await pipe.exec()
      expect(res?.slice(1000).map(r => r[1])).toEqual(Array.from({ length: 1000 }, (_v, i) => String(i)))
      expect(await client.multi().incr('io:n').incr('io:n').exec()).toEqual([[null, 1], [null, 2]])
      // A value bigger than a TLS record and than the read buffer.
      const big = 'x'.repeat(3 << 20)
      await client.set('io:big', big)
      expect(await client.get('io:big')).toBe(big)
    } finally {
      client.disconnect()
    }
  })

  it('CONFIG GET tls-* lists what Redis lists, with the values given at start', async () => {
    const norm = (s: string, port: number): string => {
      // One line per name and per value; an empty value is an empty line, so no trim.
      const lines = s.split('\n').slice(0, -1)
      const pairs: string[] = []
      for (let i = 0; i + 1 < lines.length; i += 2) pairs.push(`${lines[i]}=${lines[i] === 'tls-port' ? (lines[i + 1] === String(port) ? 'PORT' : lines[i + 1]) : lines[i + 1]}`)
      return pairs.sort().join('\n')
    }
    const [a, b] = await Promise.all([cli(p.flashTls, 'client', 'CONFIG', 'GET', 'tls-*'), cli(p.redisTls, 'client', 'CONFIG', 'GET', 'tls-*')])
    expect(norm(a.out, p.flashTls)).toBe(norm(b.out, p.redisTls))
    const [c, d] = await Promise.all([cli(p.flashTls, 'client', 'CONFIG', 'SET', 'tls-auth-clients', 'maybe'), cli(p.redisTls, 'client', 'CONFIG', 'SET', 'tls-auth-clients', 'maybe')])
    expect(c.out).toBe(d.out)
  })
})

describe('tls-auth-clients no and optional', () => {
  it('no: a client without a certificate is served', async () => {
    const p = await startPair(['--tls-auth-clients', 'no'])
    try {
      const [a, b] = await Promise.all([cli(p.flashTls, 'none', 'PING'), cli(p.redisTls, 'none', 'PING')])
      expect(b.out).toBe('PONG\n')
      expect(a.out).toBe('PONG\n')
    } finally {
      await p.flash.stop()
      await p.redis.stop()
    }
  }, 60_000)

  it('optional: no certificate is served, a trusted one is served, one from another CA is refused', async () => {
    const p = await startPair(['--tls-auth-clients', 'optional'])
    try {
      for (const [certs, served] of [['none', true], ['client', true], ['stranger', false]] as const) {
        const [a, b] = await Promise.all([cli(p.flashTls, certs, 'PING'), cli(p.redisTls, certs, 'PING')])
        expect(b.ok, `redis, ${certs}`).toBe(served)
        expect(a.ok, `flashkv, ${certs}: ${a.out}`).toBe(served)
      }
    } finally {
      await p.flash.stop()
      await p.redis.stop()
    }
  }, 60_000)
})

describe('tls-protocols', () => {
  /** Whether a handshake limited to `version` succeeds. */
  function handshake (port: number, version: 'TLSv1.2' | 'TLSv1.3'): Promise<boolean> {
    return new Promise(resolve => {
      const s = tlsConnect({
        port, host: '127.0.0.1', servername: 'localhost', minVersion: version, maxVersion: version,
        ca: readFileSync(file('ca.crt')), cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')),
      })
      s.once('secureConnect', () => { s.write('PING\r\n') })
      s.once('data', d => { s.destroy(); resolve(d.toString() === '+PONG\r\n') })
      s.once('error', () => { s.destroy(); resolve(false) })
      s.once('close', () => resolve(false))
    })
  }

  it('TLSv1.3 only: a TLSv1.2 client is refused, as by Redis', async () => {
    const p = await startPair(['--tls-protocols', 'TLSv1.3'])
    try {
      expect(await handshake(p.redisTls, 'TLSv1.3')).toBe(true)
      expect(await handshake(p.redisTls, 'TLSv1.2')).toBe(false)
      expect(await handshake(p.flashTls, 'TLSv1.3')).toBe(true)
      expect(await handshake(p.flashTls, 'TLSv1.2')).toBe(false)
    } finally {
      await p.flash.stop()
      await p.redis.stop()
    }
  }, 60_000)
})

describe('CONFIG SET of the TLS settings at run time', () => {
  /** A TLS PING trusting `ca` (with the client certificate unless told not to): +PONG or not. */
  function tlsPing (port: number, ca: string, withCert = true): Promise<boolean> {
    return new Promise(resolve => {
      const s = tlsConnect({
        port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(file(ca)),
        ...(withCert ? { cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')) } : {}),
      })
      s.once('secureConnect', () => { s.write('PING\r\n') })
      s.once('data', d => { s.destroy(); resolve(d.toString() === '+PONG\r\n') })
      s.once('error', () => { s.destroy(); resolve(false) })
      s.once('close', () => resolve(false))
    })
  }
  let p: Pair
  beforeAll(async () => { p = await startPair() }, 60_000)
  afterAll(async () => { await p?.flash.stop(); await p?.redis.stop() })
  /** The same CONFIG SET on both (over their plain ports); the reply, which must match. */
  const both = async (...args: string[]): Promise<string> => {
    const [a, b] = await Promise.all([rawOnce(p.flash.port, '127.0.0.1', ...args), rawOnce(p.redis.port, '127.0.0.1', ...args)])
    expect(a, args.join(' ')).toBe(b)
    return a
  }

  it('a new certificate serves new connections; one already open stays; a bad file changes nothing', async () => {
    const open = new Redis({
      port: p.flashTls, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0,
      tls: { ca: readFileSync(file('ca.crt')), cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')), servername: 'localhost' },
    })
    await open.connect()
    try {
      expect(await both('CONFIG', 'SET', 'tls-cert-file', file('nosuch.crt'))).toBe('-ERR CONFIG SET failed (possibly related to argument \'tls-cert-file\') - Unable to update TLS configuration. Check server logs.\r\n')
      expect(await both('CONFIG', 'SET', 'timeout', '7', 'tls-key-file', file('client.key'))).toMatch(/^-ERR CONFIG SET failed \(possibly related to argument 'tls-key-file'\)/)
      expect(await both('CONFIG', 'GET', 'timeout')).toBe('*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n')
      for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt')).toBe(true)
      expect(await both('CONFIG', 'SET', 'tls-cert-file', file('server2.crt'), 'tls-key-file', file('server2.key'))).toBe('+OK\r\n')
      // Every new connection gets the new certificate (several, to reach each I/O thread's listener).
      for (let i = 0; i < 4; i++) {
        for (const port of [p.flashTls, p.redisTls]) {
          expect(await tlsPing(port, 'other-ca.crt'), `port ${port}`).toBe(true)
          expect(await tlsPing(port, 'ca.crt'), `port ${port}`).toBe(false)
        }
      }
      expect(await open.ping()).toBe('PONG')
      expect((await both('CONFIG', 'GET', 'tls-cert-file')).endsWith('server2.crt\r\n')).toBe(true)
    } finally {
      open.disconnect()
      await both('CONFIG', 'SET', 'tls-cert-file', file('server.crt'), 'tls-key-file', file('server.key'))
    }
  })

  it('tls-auth-clients and tls-protocols apply to the next handshake', async () => {
    try {
      expect(await both('CONFIG', 'SET', 'tls-auth-clients', 'no')).toBe('+OK\r\n')
      for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt', false), `no cert, port ${port}`).toBe(true)
      expect(await both('CONFIG', 'SET', 'tls-auth-clients', 'yes')).toBe('+OK\r\n')
      for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt', false), `no cert, port ${port}`).toBe(false)
      expect(await both('CONFIG', 'SET', 'tls-protocols', 'SSLv3')).toMatch(/Unable to update TLS configuration/)
      expect(await both('CONFIG', 'SET', 'tls-protocols', 'TLSv1.3')).toBe('+OK\r\n')
      expect(await both('CONFIG', 'GET', 'tls-protocols')).toBe('*2\r\n$13\r\ntls-protocols\r\n$7\r\nTLSv1.3\r\n')
    } finally {
      await both('CONFIG', 'SET', 'tls-auth-clients', 'yes', 'tls-protocols', '')
    }
  })

  it('bind moves the TLS listener with the plain one, on the same ports', async () => {
    try {
      expect(await both('CONFIG', 'SET', 'bind', '127.0.0.1 -::1')).toBe('+OK\r\n')
      for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt'), `port ${port}`).toBe(true)
      expect(await both('CONFIG', 'SET', 'bind', '127.0.0.2')).toBe('+OK\r\n')
      for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt'), `port ${port}`).toBe(false)
    } finally {
      // Over 127.0.0.2 now, for both.
      const back = await Promise.all([rawOnce(p.flash.port, '127.0.0.2', 'CONFIG', 'SET', 'bind', '127.0.0.1'), rawOnce(p.redis.port, '127.0.0.2', 'CONFIG', 'SET', 'bind', '127.0.0.1')])
      expect(back).toEqual(['+OK\r\n', '+OK\r\n'])
    }
    for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt'), `port ${port}`).toBe(true)
  })

  it('tls-port moves the TLS listener; a port in use is refused and the old one serves', async () => {
    const busy = createNetServer()
    await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
    const busyPort = (busy.address() as AddressInfo).port
    try {
      expect(await both('CONFIG', 'SET', 'tls-port', String(busyPort))).toBe('-ERR CONFIG SET failed (possibly related to argument \'tls-port\') - Unable to listen on this port. Check server logs.\r\n')
      for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt')).toBe(true)
    } finally {
      busy.close()
    }
    const [fNew, rNew] = [await freePort(), await freePort()]
    const [a, b] = await Promise.all([rawOnce(p.flash.port, '127.0.0.1', 'CONFIG', 'SET', 'tls-port', String(fNew)), rawOnce(p.redis.port, '127.0.0.1', 'CONFIG', 'SET', 'tls-port', String(rNew))])
    expect([a, b]).toEqual(['+OK\r\n', '+OK\r\n'])
    for (const port of [fNew, rNew]) expect(await tlsPing(port, 'ca.crt'), `new port ${port}`).toBe(true)
    for (const port of [p.flashTls, p.redisTls]) expect(await tlsPing(port, 'ca.crt'), `old port ${port}`).toBe(false)
    const back = await Promise.all([rawOnce(p.flash.port, '127.0.0.1', 'CONFIG', 'SET', 'tls-port', String(p.flashTls)), rawOnce(p.redis.port, '127.0.0.1', 'CONFIG', 'SET', 'tls-port', String(p.redisTls))])
    expect(back).toEqual(['+OK\r\n', '+OK\r\n'])
  })
})

describe('start-up checks', () => {
  /** Runs FlashKV to its exit and returns the status and output (it must not start). */
  function refusedStart (args: string[]): Promise<{ code: number | null, out: string }> {
    return new Promise(resolve => {
      const child = spawn(process.execPath, ['dist/src/main.js', '--port', '0', '--shards', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', d => { out += String(d) })
      child.stderr.on('data', d => { out += String(d) })
      child.once('exit', code => resolve({ code, out }))
    })
  }

  it('a missing certificate, a key that is not the certificate\'s, no CA with client auth, or a bad protocol stop start-up', async () => {
    const port = await freePort()
    const cases: Array<[string[], string]> = [
      [serverArgs(port, ['--tls-cert-file', file('nosuch.crt')]), 'nosuch.crt'],
      [serverArgs(port, ['--tls-key-file', file('client.key')]), 'Failed to configure TLS'],
      [['--tls-port', String(port), '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key')], 'tls-ca-cert-file or tls-ca-cert-dir'],
      [serverArgs(port, ['--tls-protocols', 'SSLv3']), 'Invalid tls-protocols'],
    ]
    for (const [args, says] of cases) {
      const r = await refusedStart(args)
      expect(r.code, r.out).toBe(1)
      expect(r.out).toContain(says)
    }
  }, 60_000)
})
