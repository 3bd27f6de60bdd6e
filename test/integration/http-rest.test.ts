// The Upstash-compatible REST API on the HTTP port (src/http/rest.ts): raw HTTP for each endpoint,
// auth, base64 and errors, then @upstash/redis unchanged, with one and with four I/O threads
// (with four, the main thread relays each request to an I/O thread's router).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from '@upstash/redis'

import { RawClient } from './helpers/raw.js'
import { freePort, startFlashKV, type ServerHandle } from './helpers/server.js'

interface Answer { status: number, body: unknown }

function useServer (io: number, password = ''): { url: () => string, resp: () => ServerHandle } {
  let server: ServerHandle | undefined
  let httpPort = 0
  beforeAll(async () => {
    httpPort = await freePort()
    server = await startFlashKV({ shards: 2, extraArgs: ['--io-threads', String(io), '--http-port', String(httpPort)] })
    // Set over RESP (the start waits for a PING): with I/O threads the HTTP thread sees it in shared memory.
    if (password !== '') {
      const c = await RawClient.connect(server.port, server.host)
      expect((await c.command('CONFIG', 'SET', 'requirepass', password)).toString()).toBe('+OK\r\n')
      c.close()
    }
    // The HTTP port opens just after the RESP one.
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(r => r.ok, () => false)) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })
  afterAll(async () => { await server?.stop() })
  return { url: () => `http://127.0.0.1:${httpPort}`, resp: () => server as ServerHandle }
}

async function call (url: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const { json, ...rest } = init
  const r = await fetch(url, json === undefined ? rest : { method: 'POST', ...rest, body: JSON.stringify(json) })
  const text = await r.text()
  return { status: r.status, body: JSON.parse(text) }
}

/** Polls INFO over RESP until `field` reads `value` (the client state we wait for is not timed). */
async function waitInfo (c: RawClient, field: string, value: string): Promise<void> {
  for (;;) {
    const info = (await c.command('INFO', 'clients')).toString('latin1')
    if (info.includes(`${field}:${value}\r\n`)) return
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

for (const io of [1, 4]) {
  describe(`REST API without requirepass, --io-threads ${io}`, () => {
    const srv = useServer(io)
    const url = (path: string): string => srv.url() + path

    it('runs a JSON command POSTed to / and the path form, with any token or none', async () => {
      expect(await call(url('/'), { json: ['SET', 'foo', 'bar'] })).toEqual({ status: 200, body: { result: 'OK' } })
      expect(await call(url('/get/foo'))).toEqual({ status: 200, body: { result: 'bar' } })
      expect(await call(url('/get/foo'), { headers: { authorization: 'Bearer whatever' } })).toEqual({ status: 200, body: { result: 'bar' } })
      expect(await call(url('/set/a%2Fb/x%20y'))).toEqual({ status: 200, body: { result: 'OK' } })
      expect(await call(url('/'), { json: ['GET', 'a/b'] })).toEqual({ status: 200, body: { result: 'x y' } })
      // JSON numbers are arguments too.
      expect(await call(url('/'), { json: ['SET', 'n', 41] })).toEqual({ status: 200, body: { result: 'OK' } })
      expect(await call(url('/incr/n'))).toEqual({ status: 200, body: { result: 42 } })
    })

    it('appends a POST body as the last argument, then the query parameters', async () => {
      const value = Buffer.from([0, 1, 2, 255, 47, 63, 10])
      const r = await fetch(url('/set/bin?EX=100'), { method: 'POST', body: value })
      expect(await r.json()).toEqual({ result: 'OK' })
      const ttl = await call(url('/ttl/bin'))
      expect(ttl.body).toEqual({ result: expect.any(Number) })
      expect((ttl.body as { result: number }).result).toBeGreaterThan(90)
      // Binary bytes come back exactly with base64.
      const got = await call(url('/get/bin'), { headers: { 'upstash-encoding': 'base64' } })
      expect(Buffer.from((got.body as { result: string }).result, 'base64')).toEqual(value)
      // And over RESP: the same keyspace, the same bytes.
      const c = await RawClient.connect(srv.resp().port, srv.resp().host)
      expect(await c.command('GET', 'bin')).toEqual(Buffer.concat([Buffer.from('$7\r\n'), value, Buffer.from('\r\n')]))
      c.close()
    })

    it('maps RESP types to JSON: integers, nil, arrays with nil, nested arrays', async () => {
      await call(url('/'), { json: ['DEL', 'l', 'h', 'x'] })
      expect(await call(url('/'), { json: ['RPUSH', 'l', 'a', 'b', 'c'] })).toEqual({ status: 200, body: { result: 3 } })
      expect(await call(url('/lrange/l/0/-1'))).toEqual({ status: 200, body: { result: ['a', 'b', 'c'] } })
      expect(await call(url('/get/missing'))).toEqual({ status: 200, body: { result: null } })
      expect(await call(url('/'), { json: ['MGET', 'missing', 'foo'] })).toEqual({ status: 200, body: { result: [null, 'bar'] } })
      await call(url('/'), { json: ['ZADD', 'z', '1', 'm1', '2', 'm2'] })
      expect(await call(url('/'), { json: ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'] })).toEqual({ status: 200, body: { result: ['m1', '1', 'm2', '2'] } })
      // SCAN: a cursor and an array inside an array.
      expect(await call(url('/'), { json: ['SCAN', '0', 'MATCH', 'l', 'COUNT', '1000'] })).toEqual({ status: 200, body: { result: ['0', ['l']] } })
    })

    it('answers command errors with 400 and Redis\'s text', async () => {
      await call(url('/'), { json: ['SET', 's', 'text'] })
      expect(await call(url('/incr/s'))).toEqual({ status: 400, body: { error: 'ERR value is not an integer or out of range' } })
      expect(await call(url('/'), { json: ['LPUSH', 's', 'x'] })).toEqual({ status: 400, body: { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' } })
      expect(await call(url('/'), { json: ['NOPE', 'a'] })).toEqual({ status: 400, body: { error: "ERR unknown command 'NOPE', with args beginning with: 'a' " } })
      expect(await call(url('/get'))).toEqual({ status: 400, body: { error: "ERR wrong number of arguments for 'get' command" } })
    })

    it('refuses malformed requests and commands that do not fit one request, one reply', async () => {
      for (const body of ['[1,', '{"a":1}', '[]', '[["GET"]]', '[{"x":1}]']) {
        const r = await fetch(url('/'), { method: 'POST', body })
        expect(r.status).toBe(400)
        expect(await r.json()).toEqual({ error: expect.stringMatching(/^ERR /) })
      }
      for (const cmd of [['SUBSCRIBE', 'ch'], ['MONITOR'], ['HELLO', '3'], ['CLIENT', 'REPLY', 'OFF']]) {
        expect(await call(url('/'), { json: cmd })).toEqual({ status: 400, body: { error: expect.stringMatching(/^ERR command is not available/) } })
      }
      expect((await fetch(url('/get/foo'), { method: 'DELETE' })).status).toBe(405)
      expect((await fetch(url('/pipeline'))).status).toBe(405)
      // The probes are still the probes.
      expect(await (await fetch(url('/healthz'))).text()).toBe('ok\n')
    })

    it('/pipeline answers each command in order, errors in place', async () => {
      const r = await call(url('/pipeline'), { json: [['SET', 'p', '1'], ['INCR', 'p'], ['HGET', 'p', 'f'], ['GET', 'p'], ['GET', 'nope']] })
      expect(r).toEqual({
        status: 200,
        body: [
          { result: 'OK' }, { result: 2 },
          { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
          { result: '2' }, { result: null },
        ],
      })
      // QUIT closes the client: what follows it has no answer.
      expect(await call(url('/pipeline'), { json: [['PING'], ['QUIT'], ['PING']] })).toEqual({
        status: 200, body: [{ result: 'PONG' }, { result: 'OK' }, { error: 'ERR connection closed' }],
      })
    })

    it('/multi-exec runs a transaction: all of it, with run-time errors in place, or none of it', async () => {
      await call(url('/'), { json: ['DEL', 't1', 't2'] })
      const r = await call(url('/multi-exec'), { json: [['SET', 't1', 'a'], ['INCR', 't1'], ['MSET', 't2', 'x', '{t}3', 'y'], ['MGET', 't1', 't2']] })
      expect(r).toEqual({
        status: 200,
        body: [{ result: 'OK' }, { error: 'ERR value is not an integer or out of range' }, { result: 'OK' }, { result: ['a', 'x'] }],
      })
      // A command refused while queueing aborts the whole transaction: nothing is written.
      const aborted = await call(url('/multi-exec'), { json: [['SET', 't1', 'changed'], ['NOPE']] })
      expect(aborted).toEqual({ status: 400, body: { error: 'EXECABORT Transaction discarded because of previous errors.' } })
      expect(await call(url('/get/t1'))).toEqual({ status: 200, body: { result: 'a' } })
      expect(await call(url('/multi-exec'), { json: [['SET', 't1', 'b'], ['EXEC']] })).toEqual({ status: 400, body: { error: expect.stringMatching(/^ERR command is not allowed in \/multi-exec/) } })
      expect(await call(url('/get/t1'))).toEqual({ status: 200, body: { result: 'a' } })
    })

    it('Upstash-Encoding: base64 encodes strings (not OK, numbers, nulls or errors), nested too', async () => {
      const h = { headers: { 'upstash-encoding': 'base64' } }
      const b64 = (s: string): string => Buffer.from(s).toString('base64')
      expect(await call(url('/set/e/héllo'), h)).toEqual({ status: 200, body: { result: 'OK' } })
      expect(await call(url('/get/e'), h)).toEqual({ status: 200, body: { result: b64('héllo') } })
      expect(await call(url('/ping'), h)).toEqual({ status: 200, body: { result: b64('PONG') } })
      expect(await call(url('/strlen/e'), h)).toEqual({ status: 200, body: { result: 6 } })
      expect(await call(url('/incr/e'), h)).toEqual({ status: 400, body: { error: 'ERR value is not an integer or out of range' } })
      expect(await call(url('/'), { ...h, json: ['MGET', 'e', 'missing'] })).toEqual({ status: 200, body: { result: [b64('héllo'), null] } })
      expect(await call(url('/'), { ...h, json: ['SCAN', '0', 'MATCH', 'e', 'COUNT', '1000'] })).toEqual({ status: 200, body: { result: [b64('0'), [b64('e')]] } })
      expect(await call(url('/pipeline'), { ...h, json: [['GET', 'e'], ['INCR', 'e']] })).toEqual({
        status: 200, body: [{ result: b64('héllo') }, { error: 'ERR value is not an integer or out of range' }],
      })
    })

    it('goes through the router\'s limits: maxmemory refuses writes with OOM', async () => {
      expect(await call(url('/'), { json: ['CONFIG', 'SET', 'maxmemory', '1'] })).toEqual({ status: 200, body: { result: 'OK' } })
      try {
        expect(await call(url('/set/oom/x'))).toEqual({ status: 400, body: { error: "OOM command not allowed when used memory > 'maxmemory'." } })
      } finally {
        await call(url('/'), { json: ['CONFIG', 'SET', 'maxmemory', '0'] })
      }
      expect(await call(url('/set/oom/x'))).toEqual({ status: 200, body: { result: 'OK' } })
    })

    it('a blocked command ends when its HTTP client goes away', async () => {
      const c = await RawClient.connect(srv.resp().port, srv.resp().host)
      await c.command('DEL', 'q')
      const ac = new AbortController()
      const pending = fetch(url('/blpop/q/0'), { signal: ac.signal }).catch(() => 'aborted')
      await waitInfo(c, 'blocked_clients', '1')
      ac.abort()
      expect(await pending).toBe('aborted')
      await waitInfo(c, 'blocked_clients', '0')
      // Nobody is waiting any more: the pushed value stays.
      expect((await c.command('LPUSH', 'q', 'v')).toString()).toBe(':1\r\n')
      expect((await c.command('LLEN', 'q')).toString()).toBe(':1\r\n')
      // A blocking pop with a timeout answers through REST once served.
      const served = call(url('/blpop/q2/0'))
      await waitInfo(c, 'blocked_clients', '1')
      await c.command('RPUSH', 'q2', 'w')
      expect(await served).toEqual({ status: 200, body: { result: ['q2', 'w'] } })
      c.close()
    })

    it('@upstash/redis runs strings, hashes, pipelines and transactions unchanged', async () => {
      const redis = new Redis({ url: srv.url(), token: 'any', retry: false, enableTelemetry: false })
      expect(await redis.set('u:str', 'hello')).toBe('OK')
      expect(await redis.get('u:str')).toBe('hello')
      expect(await redis.set('u:obj', { a: 1, b: ['x'] })).toBe('OK')
      expect(await redis.get('u:obj')).toEqual({ a: 1, b: ['x'] })
      expect(await redis.incrby('u:n', 5)).toBe(5)
      expect(await redis.mget('u:str', 'u:none', 'u:n')).toEqual(['hello', null, 5])
      expect(await redis.set('u:ex', 'v', { ex: 100, nx: true })).toBe('OK')
      expect(await redis.set('u:ex', 'w', { ex: 100, nx: true })).toBe(null)
      expect(await redis.ttl('u:ex')).toBeGreaterThan(90)
      expect(await redis.append('u:str', ' wörld')).toBe(12)
      expect(await redis.get('u:str')).toBe('hello wörld')

      expect(await redis.hset('u:h', { name: 'ann', age: 31 })).toBe(2)
      expect(await redis.hget('u:h', 'name')).toBe('ann')
      expect(await redis.hgetall('u:h')).toEqual({ name: 'ann', age: 31 })
      expect(await redis.hincrby('u:h', 'age', 1)).toBe(32)
      expect(await redis.hkeys('u:h')).toEqual(['name', 'age'])
      expect(await redis.hdel('u:h', 'name')).toBe(1)

      const p = redis.pipeline()
      p.set('u:p', 1)
      p.incr('u:p')
      p.get('u:p')
      p.lpush('u:list', 'a', 'b')
      p.lrange('u:list', 0, -1)
      expect(await p.exec()).toEqual(['OK', 2, 2, 2, ['b', 'a']])

      const tx = redis.multi()
      tx.set('u:t', 'one')
      tx.hset('u:th', { f: 'v' })
      tx.get('u:t')
      tx.hgetall('u:th')
      expect(await tx.exec()).toEqual(['OK', 1, 'one', { f: 'v' }])
      // A run-time error inside a transaction throws, as against Upstash.
      await expect(redis.multi().set('u:t', 'x').incr('u:t').exec()).rejects.toThrow(/ERR value is not an integer/)
      expect(await redis.get('u:t')).toBe('x')
      await expect(redis.incr('u:str')).rejects.toThrow(/ERR value is not an integer/)
    })
  })

  describe(`REST API with requirepass, --io-threads ${io}`, () => {
    const srv = useServer(io, 's3cret')
    const url = (path: string): string => srv.url() + path
    const unauthorized = { status: 401, body: { error: 'WRONGPASS invalid or missing auth token' } }

    it('refuses a missing or wrong token with 401 and runs nothing', async () => {
      expect(await call(url('/set/k/v'))).toEqual(unauthorized)
      expect(await call(url('/set/k/v'), { headers: { authorization: 'Bearer wrong' } })).toEqual(unauthorized)
      expect(await call(url('/set/k/v?_token=s3cre'))).toEqual(unauthorized)
      expect(await call(url('/pipeline'), { json: [['SET', 'k', 'v']] })).toEqual(unauthorized)
      expect(await call(url('/multi-exec'), { json: [['SET', 'k', 'v']], headers: { authorization: 'Basic s3cret' } })).toEqual(unauthorized)
      const c = await RawClient.connect(srv.resp().port, srv.resp().host)
      expect((await c.command('AUTH', 's3cret')).toString()).toBe('+OK\r\n')
      expect((await c.command('EXISTS', 'k')).toString()).toBe(':0\r\n')
      c.close()
    })

    it('runs commands with the password as Bearer token or _token', async () => {
      const auth = { headers: { authorization: 'Bearer s3cret' } }
      expect(await call(url('/set/k/v'), auth)).toEqual({ status: 200, body: { result: 'OK' } })
      expect(await call(url('/get/k?_token=s3cret'))).toEqual({ status: 200, body: { result: 'v' } })
      expect(await call(url('/pipeline'), { ...auth, json: [['GET', 'k'], ['DBSIZE']] })).toEqual({ status: 200, body: [{ result: 'v' }, { result: 1 }] })
      // A RESP client still has to AUTH: the REST token changes nothing there.
      const c = await RawClient.connect(srv.resp().port, srv.resp().host)
      expect((await c.command('GET', 'k')).toString()).toBe('-NOAUTH Authentication required.\r\n')
      c.close()
    })

    it('follows CONFIG SET requirepass at once', async () => {
      const auth = { headers: { authorization: 'Bearer s3cret' } }
      expect(await call(url('/'), { ...auth, json: ['CONFIG', 'SET', 'requirepass', 'n3w'] })).toEqual({ status: 200, body: { result: 'OK' } })
      try {
        expect(await call(url('/get/k'), auth)).toEqual(unauthorized)
        expect(await call(url('/get/k'), { headers: { authorization: 'Bearer n3w' } })).toEqual({ status: 200, body: { result: 'v' } })
      } finally {
        await call(url('/'), { headers: { authorization: 'Bearer n3w' }, json: ['CONFIG', 'SET', 'requirepass', 's3cret'] })
      }
    })

    it('@upstash/redis works with the password as token, and fails with another', async () => {
      const redis = new Redis({ url: srv.url(), token: 's3cret', retry: false, enableTelemetry: false })
      expect(await redis.set('u', { x: 1 })).toBe('OK')
      expect(await redis.get('u')).toEqual({ x: 1 })
      expect(await redis.multi().incr('c').incr('c').exec()).toEqual([1, 2])
      expect(await redis.pipeline().hset('h', { a: 'b' }).hget('h', 'a').exec()).toEqual([1, 'b'])
      const wrong = new Redis({ url: srv.url(), token: 'nope', retry: false, enableTelemetry: false })
      await expect(wrong.get('u')).rejects.toThrow(/WRONGPASS invalid or missing auth token/)
    })
  })
}
