// Client and server administration that a differential test cannot compare byte for byte:
// CLIENT LIST/INFO fields (ids, addresses, ages), CLIENT KILL of live connections, CLIENT REPLY
// with commands spread over shards, INFO counters moving, and CONFIG SET parameters taking
// effect (maxclients, timeout, client-query-buffer-limit, maxmemory). Raw sockets check exact
// bytes; ioredis checks that a real client copes. One FlashKV (4 shards) for the whole file.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'

import { RawClient, encodeCommand } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard } from './helpers/slots.js'

let server: ServerHandle
let admin: RawClient
const opened: RawClient[] = []

beforeAll(async () => {
  server = await startFlashKV({ shards: 4 })
  admin = await RawClient.connect(server.port, server.host)
})

afterAll(async () => {
  admin?.close()
  await server?.stop()
})

afterEach(async () => {
  for (const c of opened.splice(0)) c.close()
  await admin.command('CONFIG', 'SET', 'timeout', '0', 'maxclients', '10000', 'client-query-buffer-limit', '1gb', 'maxmemory', '0')
  await admin.command('FLUSHALL')
  // Closes reach the server asynchronously: start every test with the admin connection alone.
  await eventually(async () => await num(admin, 'connected_clients', 'clients') === 1)
})

async function connect (): Promise<RawClient> {
  const c = await RawClient.connect(server.port, server.host)
  opened.push(c)
  return c
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** The payload of a bulk string (RESP2) or verbatim string (RESP3) reply. */
function payload (reply: Buffer): string {
  const s = reply.toString('latin1')
  const body = s.slice(s.indexOf('\r\n') + 2, -2)
  return s[0] === '=' ? body.slice(4) : body
}

type Fields = Array<[string, string]>

/** CLIENT LIST text → one [name, value] list per line, in the order printed. */
function parseClients (text: string): Fields[] {
  expect(text === '' || text.endsWith('\n')).toBe(true)
  return text.split('\n').filter((l) => l !== '').map((line) => line.split(' ').map((kv) => {
    const eq = kv.indexOf('=')
    return [kv.slice(0, eq), kv.slice(eq + 1)] as [string, string]
  }))
}

const field = (f: Fields, name: string): string => {
  const hit = f.find(([k]) => k === name)
  if (hit === undefined) throw new Error(`no ${name} in ${JSON.stringify(f)}`)
  return hit[1]
}

async function clientList (c: RawClient, ...filter: string[]): Promise<Fields[]> {
  return parseClients(payload(await c.command('CLIENT', 'LIST', ...filter)))
}

async function clientId (c: RawClient): Promise<number> {
  return Number(/^:(\d+)/.exec((await c.command('CLIENT', 'ID')).toString())?.[1])
}

async function info (c: RawClient, section = 'all'): Promise<Map<string, string>> {
  const m = new Map<string, string>()
  for (const line of payload(await c.command('INFO', section)).split('\r\n')) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1))
  }
  return m
}

const num = async (c: RawClient, name: string, section = 'all'): Promise<number> => Number((await info(c, section)).get(name))

/** Polls until check() holds (the server sees closes asynchronously). */
async function eventually (check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await sleep(20)
  }
}

const REDIS_70_FIELDS = ['id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi',
  'qbuf', 'qbuf-free', 'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user', 'redir', 'resp']

describe('CLIENT LIST and CLIENT INFO', () => {
  it('prints Redis 7.0 fields in order, with this connection\'s real values', async () => {
    const c = await connect()
    const id = await clientId(c)
    const [me] = await clientList(c, 'ID', String(id))
    expect(me.map(([k]) => k)).toEqual(REDIS_70_FIELDS)
    expect(field(me, 'id')).toBe(String(id))
    expect(field(me, 'laddr')).toBe(`127.0.0.1:${server.port}`)
    expect(field(me, 'addr')).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(Number(field(me, 'fd'))).toBeGreaterThan(2)
    expect(field(me, 'name')).toBe('')
    expect(field(me, 'flags')).toBe('N')
    expect(field(me, 'db')).toBe('0')
    expect(field(me, 'multi')).toBe('-1')
    // The CLIENT LIST ID <n> request itself is still in the query buffer, as in Redis.
    const req = encodeCommand(['CLIENT', 'LIST', 'ID', String(id)])
    expect(Number(field(me, 'qbuf'))).toBe(req.length)
    expect(Number(field(me, 'argv-mem'))).toBe('CLIENTLISTID'.length + String(id).length)
    expect(Number(field(me, 'rbs'))).toBeGreaterThan(0)
    expect(Number(field(me, 'tot-mem'))).toBeGreaterThan(Number(field(me, 'rbs')))
    expect(field(me, 'events')).toBe('r')
    expect(field(me, 'user')).toBe('default')
    expect(field(me, 'redir')).toBe('-1')
    expect(field(me, 'resp')).toBe('2')
  })

  it('address fields match the socket ends; every connection is listed', async () => {
    const a = await connect()
    const b = await connect()
    const ids = [await clientId(a), await clientId(b)]
    const all = await clientList(a)
    for (const id of ids) expect(all.some((f) => field(f, 'id') === String(id))).toBe(true)
    const ports = new Set(all.map((f) => field(f, 'addr')))
    expect(ports.size).toBe(all.length)
    for (const f of all) expect(field(f, 'laddr')).toBe(`127.0.0.1:${server.port}`)
    // Connection order (ascending ids), as Redis keeps server.clients.
    const listed = all.map((f) => Number(field(f, 'id')))
    expect([...listed].sort((x, y) => x - y)).toEqual(listed)
  })

  it('name, db, flags and resp follow SETNAME, SELECT, NO-EVICT and HELLO', async () => {
    const c = await connect()
    const id = String(await clientId(c))
    expect((await c.command('CLIENT', 'SETNAME', 'worker-1')).toString()).toBe('+OK\r\n')
    expect((await c.command('SELECT', '5')).toString()).toBe('+OK\r\n')
    expect((await c.command('CLIENT', 'NO-EVICT', 'on')).toString()).toBe('+OK\r\n')
    let [f] = await clientList(admin, 'ID', id)
    expect([field(f, 'name'), field(f, 'db'), field(f, 'flags'), field(f, 'resp')]).toEqual(['worker-1', '5', 'e', '2'])
    await c.command('CLIENT', 'NO-EVICT', 'off')
    await c.command('HELLO', '3')
    ;[f] = await clientList(admin, 'ID', id)
    expect([field(f, 'flags'), field(f, 'resp')]).toEqual(['N', '3'])
    // RESP3: CLIENT INFO is a verbatim string.
    const raw = (await c.command('CLIENT', 'INFO')).toString('latin1')
    expect(raw).toMatch(/^=\d+\r\ntxt:id=\d+ addr=/)
    expect(raw.endsWith('\n\r\n')).toBe(true)
  })

  it('CLIENT INFO is the caller\'s CLIENT LIST line', async () => {
    const c = await connect()
    await c.command('CLIENT', 'SETNAME', 'me')
    const [own] = parseClients(payload(await c.command('CLIENT', 'INFO')))
    const [listed] = await clientList(c, 'ID', String(await clientId(c)))
    const stable = (f: Fields): Fields => f.filter(([k]) => !['qbuf', 'qbuf-free', 'argv-mem', 'tot-mem', 'cmd', 'age', 'idle', 'obl', 'rbp'].includes(k))
    expect(stable(own)).toEqual(stable(listed))
    expect(own.map(([k]) => k)).toEqual(REDIS_70_FIELDS)
  })

  it('age and idle count seconds', async () => {
    const idleOne = await connect()
    const id = String(await clientId(idleOne))
    await sleep(1200)
    const [f] = await clientList(admin, 'ID', id)
    expect(Number(field(f, 'age'))).toBeGreaterThanOrEqual(1)
    expect(Number(field(f, 'idle'))).toBeGreaterThanOrEqual(1)
    await idleOne.command('PING')
    const [g] = await clientList(admin, 'ID', id)
    expect(field(g, 'idle')).toBe('0')
  })

  it('cmd names the caller\'s own command', async () => {
    const [me] = parseClients(payload(await admin.command('CLIENT', 'INFO')))
    expect(field(me, 'cmd')).toBe('client|info')
  })

  it('cmd names each client\'s last command, NULL after an unknown one', async () => {
    const c = await connect()
    const id = String(await clientId(c))
    await c.command('GET', 'x')
    expect(field((await clientList(admin, 'ID', id))[0], 'cmd')).toBe('get')
    await c.command('CONFIG', 'GET', 'timeout')
    expect(field((await clientList(admin, 'ID', id))[0], 'cmd')).toBe('config|get')
    await c.command('NOSUCH')
    expect(field((await clientList(admin, 'ID', id))[0], 'cmd')).toBe('NULL')
  })

  it('TYPE and ID filters', async () => {
    const a = await connect()
    const b = await connect()
    const [ia, ib] = [String(await clientId(a)), String(await clientId(b))]
    const normal = await clientList(admin, 'TYPE', 'normal')
    expect(normal.map((f) => field(f, 'id'))).toEqual(expect.arrayContaining([ia, ib]))
    expect(await clientList(admin, 'TYPE', 'NORMAL')).toHaveLength(normal.length)
    for (const t of ['pubsub', 'master', 'replica', 'slave']) expect(await clientList(admin, 'TYPE', t)).toEqual([])
    // As asked, repeats included; unknown ids left out.
    const byId = await clientList(admin, 'ID', ib, '999999', ia, ib)
    expect(byId.map((f) => field(f, 'id'))).toEqual([ib, ia, ib])
  })
})

describe('CLIENT KILL', () => {
  it('ID: closes that connection at once and counts it', async () => {
    const victim = await connect()
    const id = String(await clientId(victim))
    const before = await num(admin, 'connected_clients')
    expect((await admin.command('CLIENT', 'KILL', 'ID', id)).toString()).toBe(':1\r\n')
    expect((await victim.readUntilClose(2000)).closed).toBe(true)
    expect(await clientList(admin, 'ID', id)).toEqual([])
    expect(await num(admin, 'connected_clients')).toBe(before - 1)
    expect((await admin.command('CLIENT', 'KILL', 'ID', id)).toString()).toBe(':0\r\n')
  })

  it('old form ip:port: OK, then "No such client"', async () => {
    const victim = await connect()
    const [f] = await clientList(admin, 'ID', String(await clientId(victim)))
    const addr = field(f, 'addr')
    expect((await admin.command('CLIENT', 'KILL', addr)).toString()).toBe('+OK\r\n')
    expect((await victim.readUntilClose(2000)).closed).toBe(true)
    expect((await admin.command('CLIENT', 'KILL', addr)).toString()).toBe('-ERR No such client\r\n')
  })

  it('ADDR, and filters that must all match', async () => {
    const victim = await connect()
    const id = String(await clientId(victim))
    const [f] = await clientList(admin, 'ID', id)
    expect((await admin.command('CLIENT', 'KILL', 'ADDR', field(f, 'addr'), 'ID', '999999')).toString()).toBe(':0\r\n')
    expect((await admin.command('CLIENT', 'KILL', 'ADDR', field(f, 'addr'), 'TYPE', 'pubsub')).toString()).toBe(':0\r\n')
    expect((await admin.command('CLIENT', 'KILL', 'ADDR', field(f, 'addr'), 'ID', id, 'TYPE', 'normal', 'USER', 'default')).toString()).toBe(':1\r\n')
    expect((await victim.readUntilClose(2000)).closed).toBe(true)
  })

  it('LADDR, TYPE normal and USER default spare the caller unless SKIPME no', async () => {
    const others = [await connect(), await connect(), await connect()]
    for (const o of others) await o.command('PING')
    const total = (await clientList(admin)).length
    expect((await admin.command('CLIENT', 'KILL', 'LADDR', `127.0.0.1:${server.port}`)).toString()).toBe(`:${total - 1}\r\n`)
    for (const o of others) expect((await o.readUntilClose(2000)).closed).toBe(true)
    expect((await clientList(admin)).length).toBe(1)
    const more = [await connect(), await connect()]
    for (const o of more) await o.command('PING')
    expect((await admin.command('CLIENT', 'KILL', 'TYPE', 'normal')).toString()).toBe(':2\r\n')
    for (const o of more) expect((await o.readUntilClose(2000)).closed).toBe(true)
    const last = await connect()
    await last.command('PING')
    expect((await admin.command('CLIENT', 'KILL', 'USER', 'default', 'SKIPME', 'yes')).toString()).toBe(':1\r\n')
    expect((await last.readUntilClose(2000)).closed).toBe(true)
    expect((await admin.command('PING')).toString()).toBe('+PONG\r\n')
  })

  it('killing yourself: the reply arrives, then the connection closes and later commands are not run', async () => {
    const self = await connect()
    const id = String(await clientId(self))
    self.send(Buffer.concat([encodeCommand(['CLIENT', 'KILL', 'ID', id, 'SKIPME', 'no']), encodeCommand(['SET', 'after-kill', '1'])]))
    const { data, closed } = await self.readUntilClose(2000)
    expect(data.toString()).toBe(':1\r\n')
    expect(closed).toBe(true)
    expect((await admin.command('EXISTS', 'after-kill')).toString()).toBe(':0\r\n')
    const other = await connect()
    const [f] = await clientList(other, 'ID', String(await clientId(other)))
    other.send(encodeCommand(['CLIENT', 'KILL', field(f, 'addr')]))
    const r = await other.readUntilClose(2000)
    expect(r.data.toString()).toBe('+OK\r\n')
    expect(r.closed).toBe(true)
  })

  it('a killed client\'s replies still in flight are dropped', async () => {
    const victim = await connect()
    const id = String(await clientId(victim))
    const keys = keysOnShard(1, 4, 200, 'kv:')
    victim.send(Buffer.concat(keys.map((k) => encodeCommand(['SET', k, 'x'.repeat(1000)]))))
    expect((await admin.command('CLIENT', 'KILL', 'ID', id)).toString()).toBe(':1\r\n')
    await victim.readUntilClose(2000)
    expect((await admin.command('PING')).toString()).toBe('+PONG\r\n')
  })
})

describe('CLIENT REPLY', () => {
  it('OFF over commands on every shard: they run, nothing is answered until ON', async () => {
    const c = await connect()
    // DBSIZE below counts this test's keys only: earlier tests of the file may have left some.
    expect((await c.command('FLUSHALL')).toString()).toBe('+OK\r\n')
    const keys = Array.from({ length: 64 }, (_, i) => `r${i}`)
    const cmds = [['CLIENT', 'REPLY', 'OFF'], ...keys.map((k) => ['SET', k, k]), ['MGET', ...keys], ['DBSIZE'], ['NOSUCH'],
      ['GET'], ['CLIENT', 'REPLY', 'ON'], ['DBSIZE']]
    c.send(Buffer.concat(cmds.map((x) => encodeCommand(x))))
    const replies = await c.readReplies(2)
    expect(replies.map((r) => r.toString())).toEqual(['+OK\r\n', ':64\r\n'])
    await sleep(50)
    expect((await c.command('PING')).toString()).toBe('+PONG\r\n')
  })

  it('SKIP drops exactly one reply, even when replies from shards arrive out of order', async () => {
    const c = await connect()
    const a = keysOnShard(0, 4, 1, 'sk:')[0]
    const b = keysOnShard(3, 4, 1, 'sk:')[0]
    const big = 'v'.repeat(300_000)
    await c.command('SET', a, big)
    await c.command('SET', b, 'small')
    const cmds = [['GET', a], ['CLIENT', 'REPLY', 'SKIP'], ['GET', b], ['GET', a], ['CLIENT', 'REPLY', 'SKIP'], ['GET', a], ['GET', b], ['PING', 'end']]
    c.send(Buffer.concat(cmds.map((x) => encodeCommand(x))))
    const replies = (await c.readReplies(4)).map((r) => r.toString())
    expect(replies).toEqual([`$${big.length}\r\n${big}\r\n`, `$${big.length}\r\n${big}\r\n`, '$5\r\nsmall\r\n', '$3\r\nend\r\n'])
  })

  it('a silenced QUIT still closes', async () => {
    const c = await connect()
    c.send(Buffer.concat([encodeCommand(['CLIENT', 'REPLY', 'OFF']), encodeCommand(['QUIT'])]))
    const { data, closed } = await c.readUntilClose(2000)
    expect(data.toString()).toBe('')
    expect(closed).toBe(true)
  })
})

describe('INFO counters', () => {
  it('total_commands_processed counts executed commands, not rejected ones', async () => {
    const c = await connect()
    const before = await num(c, 'total_commands_processed', 'stats')
    for (let i = 0; i < 10; i++) await c.command('PING')
    await c.command('SET', 'a', '1')
    await c.command('NOSUCHCOMMAND')
    await c.command('GET')
    // 10 PINGs + SET + this INFO (counted as it is dispatched).
    expect(await num(c, 'total_commands_processed', 'stats')).toBe(before + 12)
  })

  it('keyspace hits and misses, expired_keys', async () => {
    const c = await connect()
    await c.command('SET', 'h', 'v')
    const m0 = await info(c, 'stats')
    await c.command('GET', 'h')
    await c.command('GET', 'h')
    await c.command('GET', 'nope')
    await c.command('SET', 'e', 'v', 'PX', '1')
    await sleep(20)
    await c.command('GET', 'e')
    const m1 = await info(c, 'stats')
    expect(Number(m1.get('keyspace_hits')) - Number(m0.get('keyspace_hits'))).toBe(2)
    expect(Number(m1.get('keyspace_misses')) - Number(m0.get('keyspace_misses'))).toBe(2)
    expect(Number(m1.get('expired_keys')) - Number(m0.get('expired_keys'))).toBe(1)
  })

  it('connections: connected, received, net bytes', async () => {
    const m0 = await info(admin)
    const cs = [await connect(), await connect(), await connect()]
    await Promise.all(cs.map(async (c) => await c.command('PING')))
    const m1 = await info(admin)
    expect(Number(m1.get('connected_clients'))).toBe(Number(m0.get('connected_clients')) + 3)
    expect(Number(m1.get('total_connections_received'))).toBe(Number(m0.get('total_connections_received')) + 3)
    expect(Number(m1.get('total_net_input_bytes')) - Number(m0.get('total_net_input_bytes'))).toBeGreaterThanOrEqual(3 * 14 + 20)
    expect(Number(m1.get('total_net_output_bytes')) - Number(m0.get('total_net_output_bytes'))).toBeGreaterThanOrEqual(3 * 7)
    for (const c of cs) c.close()
    await eventually(async () => await num(admin, 'connected_clients') === Number(m0.get('connected_clients')))
  })

  it('instantaneous_ops_per_sec follows the load', async () => {
    const c = await connect()
    const end = Date.now() + 700
    while (Date.now() < end) {
      c.send(Buffer.concat(Array.from({ length: 100 }, () => encodeCommand(['PING']))))
      await c.readReplies(100)
    }
    const m = await info(admin, 'stats')
    expect(Number(m.get('instantaneous_ops_per_sec'))).toBeGreaterThan(100)
    expect(Number(m.get('instantaneous_input_kbps'))).toBeGreaterThan(0)
  })

  it('used_memory grows with data; avg_ttl estimates the remaining TTL', async () => {
    const c = await connect()
    const m0 = await num(c, 'used_memory', 'memory')
    c.send(Buffer.concat(Array.from({ length: 1000 }, (_, i) => encodeCommand(['SET', `m${i}`, 'x'.repeat(1000), 'EX', '100']))))
    await c.readReplies(1000)
    expect(await num(c, 'used_memory', 'memory') - m0).toBeGreaterThan(1000 * 1000)
    const ks = (await info(c, 'keyspace')).get('db0') ?? ''
    const m = /^keys=1000,expires=1000,avg_ttl=(\d+)$/.exec(ks)
    expect(m, ks).not.toBeNull()
    expect(Number(m?.[1])).toBeGreaterThan(90_000)
    expect(Number(m?.[1])).toBeLessThanOrEqual(100_000)
  })

  it('CONFIG RESETSTAT zeroes the counters', async () => {
    const c = await connect()
    await c.command('SET', 'z', '1')
    await c.command('GET', 'z')
    await c.command('GET', 'nope')
    expect((await c.command('CONFIG', 'RESETSTAT')).toString()).toBe('+OK\r\n')
    const m = await info(c, 'stats')
    expect(m.get('keyspace_hits')).toBe('0')
    expect(m.get('keyspace_misses')).toBe('0')
    expect(m.get('expired_keys')).toBe('0')
    expect(m.get('total_connections_received')).toBe('0')
    expect(m.get('rejected_connections')).toBe('0')
    expect(Number(m.get('total_commands_processed'))).toBeLessThanOrEqual(2)
  })
})

describe('CONFIG SET takes effect', () => {
  it('maxclients: over the limit a client gets the error, is closed and counted as rejected', async () => {
    const before = await num(admin, 'rejected_connections', 'stats')
    const connected = await num(admin, 'connected_clients', 'clients')
    expect((await admin.command('CONFIG', 'SET', 'maxclients', String(connected))).toString()).toBe('+OK\r\n')
    expect(await num(admin, 'maxclients', 'clients')).toBe(connected)
    const extra = await connect()
    const { data, closed } = await extra.readUntilClose(2000)
    expect(data.toString()).toBe('-ERR max number of clients reached\r\n')
    expect(closed).toBe(true)
    expect(await num(admin, 'rejected_connections', 'stats')).toBe(before + 1)
    expect(await num(admin, 'connected_clients', 'clients')).toBe(connected)
    await admin.command('CONFIG', 'SET', 'maxclients', '10000')
    const ok = await connect()
    expect((await ok.command('PING')).toString()).toBe('+PONG\r\n')
  })

  it('timeout: idle clients are closed, busy ones are not', async () => {
    const idle = await connect()
    const busy = await connect()
    await idle.command('PING')
    expect((await admin.command('CONFIG', 'SET', 'timeout', '1')).toString()).toBe('+OK\r\n')
    const stop = Date.now() + 3000
    let isIdleClosed = false
    while (Date.now() < stop && !isIdleClosed) {
      expect((await busy.command('PING')).toString()).toBe('+PONG\r\n')
      expect((await admin.command('PING')).toString()).toBe('+PONG\r\n')
      await sleep(200)
      isIdleClosed = idle.isClosed
    }
    expect(isIdleClosed).toBe(true)
    expect(busy.isClosed).toBe(false)
    expect((await admin.command('CONFIG', 'SET', 'timeout', '0')).toString()).toBe('+OK\r\n')
  })

  it('client-query-buffer-limit: a bigger request closes the client', async () => {
    expect((await admin.command('CONFIG', 'SET', 'client-query-buffer-limit', '1mb')).toString()).toBe('+OK\r\n')
    const c = await connect()
    c.send(encodeCommand(['SET', 'big', 'x'.repeat(2 * 1024 * 1024)]))
    expect((await c.readUntilClose(3000)).closed).toBe(true)
    await admin.command('CONFIG', 'SET', 'client-query-buffer-limit', '1gb')
    const d = await connect()
    expect((await d.command('SET', 'big', 'x'.repeat(2 * 1024 * 1024))).toString()).toBe('+OK\r\n')
  })

  it('maxmemory: denyoom commands get the OOM error above it, reads still work', async () => {
    const c = await connect()
    await c.command('SET', 'm', 'x'.repeat(10_000))
    expect((await admin.command('CONFIG', 'SET', 'maxmemory', '1')).toString()).toBe('+OK\r\n')
    expect((await admin.command('CONFIG', 'GET', 'maxmemory')).toString()).toBe('*2\r\n$9\r\nmaxmemory\r\n$1\r\n1\r\n')
    await eventually(async () => (await c.command('SET', 'n', 'v')).toString().startsWith('-OOM'))
    expect((await c.command('GET', 'm')).toString()).toBe(`$10000\r\n${'x'.repeat(10_000)}\r\n`)
    expect(await num(c, 'maxmemory', 'memory')).toBe(1)
    expect((await admin.command('CONFIG', 'SET', 'maxmemory', '0')).toString()).toBe('+OK\r\n')
    expect((await c.command('SET', 'n', 'v')).toString()).toBe('+OK\r\n')
  })

  it('tcp-keepalive and several parameters at once', async () => {
    expect((await admin.command('CONFIG', 'SET', 'tcp-keepalive', '60', 'timeout', '500')).toString()).toBe('+OK\r\n')
    const got = (await admin.command('CONFIG', 'GET', 'tcp-keepalive', 'timeout')).toString()
    expect(got).toContain('$13\r\ntcp-keepalive\r\n$2\r\n60\r\n')
    expect(got).toContain('$7\r\ntimeout\r\n$3\r\n500\r\n')
    const c = await connect()
    expect((await c.command('PING')).toString()).toBe('+PONG\r\n')
    await admin.command('CONFIG', 'SET', 'tcp-keepalive', '300')
  })

  it('values FlashKV cannot apply are refused with the immutable-config error', async () => {
    // port, bind and appendonly are live (diff-config-net.test.ts, aof.test.ts).
    for (const [p, v] of [['aof-disable-auto-gc', 'yes'], ['proto-max-bulk-len', '1gb']]) {
      expect((await admin.command('CONFIG', 'SET', p, v)).toString()).toBe(`-ERR CONFIG SET failed (possibly related to argument '${p}') - can't set immutable config\r\n`)
    }
    expect((await admin.command('CONFIG', 'SET', 'shards', '2')).toString()).toBe("-ERR CONFIG SET failed (possibly related to argument 'shards') - can't set immutable config\r\n")
    expect(payload((await admin.command('CONFIG', 'GET', 'port')))).toContain(String(server.port))
  })
})

describe('MEMORY USAGE', () => {
  it('grows with the value and counts list elements', async () => {
    const c = await connect()
    await c.command('SET', 's', 'x')
    await c.command('SET', 'big', 'x'.repeat(10_000))
    const small = Number(/^:(\d+)/.exec((await c.command('MEMORY', 'USAGE', 's')).toString())?.[1])
    const large = Number(/^:(\d+)/.exec((await c.command('MEMORY', 'USAGE', 'big')).toString())?.[1])
    expect(small).toBeGreaterThan(24)
    expect(large).toBeGreaterThanOrEqual(10_000)
    expect((await c.command('MEMORY', 'USAGE', 'none')).toString()).toBe('$-1\r\n')
  })

  it('lists: sampled estimate close to the exact size (SAMPLES 0)', async () => {
    const c = await connect()
    const pushed = (await c.command('RPUSH', 'l', ...Array.from({ length: 100 }, () => 'e'.repeat(100)))).toString()
    expect(pushed).toBe(':100\r\n')
    const one = Number(/^:(\d+)/.exec((await c.command('MEMORY', 'USAGE', 'l', 'SAMPLES', '1')).toString())?.[1])
    const exact = Number(/^:(\d+)/.exec((await c.command('MEMORY', 'USAGE', 'l', 'SAMPLES', '0')).toString())?.[1])
    const dflt = Number(/^:(\d+)/.exec((await c.command('MEMORY', 'USAGE', 'l')).toString())?.[1])
    expect(exact).toBeGreaterThan(100 * 100)
    expect(one).toBe(exact)
    expect(dflt).toBe(exact)
  })
})

describe('ioredis', () => {
  it('CLIENT, CONFIG, INFO, TIME and MEMORY through a real client', async () => {
    const client = new Redis(server.port, server.host, { lazyConnect: true })
    try {
      await client.connect()
      const id = await client.client('ID') as number
      const list = await client.client('LIST') as string
      expect(list).toContain(`id=${id} `)
      expect(await client.call('CLIENT', 'INFO')).toMatch(new RegExp(`^id=${id} `))
      expect(await client.config('GET', 'timeout')).toEqual(['timeout', '0'])
      expect(await client.config('SET', 'timeout', '0')).toBe('OK')
      await expect(client.config('SET', 'nosuch', '1')).rejects.toThrow("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")
      const [secs, usecs] = await client.time()
      expect(Math.abs(Number(secs) - Date.now() / 1000)).toBeLessThan(5)
      expect(Number(usecs)).toBeLessThan(1_000_000)
      await client.set('k', 'v')
      expect(await client.memory('USAGE', 'k')).toBeGreaterThan(0)
      expect(await client.info('stats')).toMatch(/total_commands_processed:\d+/)
      expect(await client.client('NO-EVICT', 'ON')).toBe('OK')
      const other = new Redis(server.port, server.host, { retryStrategy: () => null })
      await new Promise((resolve) => other.once('ready', resolve))
      const otherId = await other.client('ID') as number
      const ended = new Promise((resolve) => other.once('end', resolve))
      expect(await client.client('KILL', 'ID', String(otherId))).toBe(1)
      await ended
    } finally {
      client.disconnect()
    }
  })
})
