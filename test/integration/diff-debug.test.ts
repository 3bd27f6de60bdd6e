// DEBUG behind enable-debug-command, against a real redis-server 7.0.15 started the same way:
// refused by default (Redis's exact error), served with `yes`; OBJECT, SLEEP, SET-ACTIVE-EXPIRE
// and the errors of a wrong call. DEBUG OBJECT's address and clock differ by nature: the test
// compares the rest of the line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { startRedis, DEFAULT_REDIS_ARGS } from './helpers/redis.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

const text = (b: Buffer): string => b.toString('latin1')
/** DEBUG OBJECT without the parts that cannot match: the address and the LRU clock. */
const shape = (s: string): string => {
  // Idle seconds may tick over between the write and the read on a loaded machine: a few at most.
  const idle = /lru_seconds_idle:(\d+)/.exec(s)
  if (idle !== null) expect(Number(idle[1])).toBeLessThan(5)
  return s.replace(/Value at:0x[0-9a-f]+/, 'Value at:ADDR').replace(/ lru:\d+/, ' lru:N').replace(/lru_seconds_idle:\d+/, 'lru_seconds_idle:N')
}

async function both (servers: ServerHandle[], run: (c: RawClient) => Promise<string[]>): Promise<string[][]> {
  return await Promise.all(servers.map(async s => {
    const c = await RawClient.connect(s.port, s.host)
    try { return await run(c) } finally { c.close() }
  }))
}

describe('enable-debug-command no (the default)', () => {
  let servers: ServerHandle[] = []
  beforeAll(async () => { servers = await Promise.all([startFlashKV({ shards: 4 }), startRedis()]) })
  afterAll(async () => { await Promise.all(servers.map(s => s.stop())) })

  it('DEBUG is refused with Redis\'s error, before its arguments are looked at', async () => {
    const [a, b] = await both(servers, async c => [
      text(await c.command('DEBUG', 'SLEEP', '0')), text(await c.command('DEBUG', 'nosuch')), text(await c.command('DEBUG')),
      text(await c.command('CONFIG', 'GET', 'enable-debug-command')), text(await c.command('CONFIG', 'SET', 'enable-debug-command', 'yes')),
    ])
    expect(a).toEqual(b)
    expect(a[0]).toMatch(/^-ERR DEBUG command not allowed/)
  })
})

describe('enable-debug-command yes', () => {
  let servers: ServerHandle[] = []
  beforeAll(async () => {
    servers = await Promise.all([
      startFlashKV({ shards: 4, extraArgs: ['--enable-debug-command', 'yes'] }),
      startRedis([...DEFAULT_REDIS_ARGS, '--enable-debug-command', 'yes']),
    ])
  })
  afterAll(async () => { await Promise.all(servers.map(s => s.stop())) })

  it('OBJECT, SLEEP and the errors of wrong calls', async () => {
    const [a, b] = await both(servers, async c => {
      const out: string[] = []
      for (const cmd of [
        ['SET', 'dbg:s', 'vvvv'], ['SET', 'dbg:i', '12345'], ['SET', 'dbg:long', 'x'.repeat(100)], ['RPUSH', 'dbg:l', 'a', 'b', 'c'], ['RPUSH', 'dbg:big', ...Array.from({ length: 3000 }, (_v, i) => `element-${i}`)],
        ['HSET', 'dbg:h', 'f', 'v'], ['SADD', 'dbg:set', '1', '2'], ['ZADD', 'dbg:z', '1', 'm'],
      ]) out.push(text(await c.command(...cmd)))
      for (const k of ['dbg:s', 'dbg:i', 'dbg:long', 'dbg:l', 'dbg:big', 'dbg:h', 'dbg:set', 'dbg:z', 'dbg:none']) out.push(shape(text(await c.command('DEBUG', 'OBJECT', k))))
      for (const cmd of [['DEBUG', 'SLEEP', '0'], ['DEBUG', 'SLEEP', 'abc'], ['DEBUG', 'sleep', '0.01'], ['DEBUG', 'SLEEP'], ['DEBUG', 'OBJECT'],
        ['DEBUG', 'nosuch'], ['DEBUG', 'OBJECT', 'a', 'b'], ['CONFIG', 'GET', 'enable-debug-command']]) out.push(text(await c.command(...cmd)))
      return out
    })
    expect(a).toEqual(b)
  })

  it('OBJECT shows a list\'s quicklist nodes as list-max-listpack-size fills them (sizes, counts, their limits)', async () => {
    const [a, b] = await both(servers, async c => {
      const out: string[] = []
      for (const fill of ['-2', '5', '1', '0', '-1', '-5', '-6', '100', '32768']) {
        out.push(text(await c.command('CONFIG', 'SET', 'list-max-listpack-size', fill)))
        await c.command('DEL', 'dbg:fill')
        // Elements of 40 to 1,200 bytes: nodes end on the byte limits as well as on the counts.
        for (let i = 1; i <= 30; i++) await c.command('RPUSH', 'dbg:fill', 'x'.repeat(i * 40))
        out.push(shape(text(await c.command('DEBUG', 'OBJECT', 'dbg:fill'))))
      }
      out.push(text(await c.command('CONFIG', 'SET', 'list-max-listpack-size', '-2')))
      return out
    })
    expect(a).toEqual(b)
  })

  it('SET-ACTIVE-EXPIRE 0 leaves expired keys until they are accessed; 1 sweeps them again', async () => {
    const [a, b] = await both(servers, async c => {
      const out: string[] = []
      await c.command('FLUSHALL')
      out.push(text(await c.command('DEBUG', 'SET-ACTIVE-EXPIRE', '0')))
      for (let i = 0; i < 20; i++) await c.command('SET', `exp:${i}`, 'v', 'PX', '20')
      // Well past the TTL and several active-expiry cycles: nothing swept them.
      await new Promise(resolve => setTimeout(resolve, 400))
      out.push(text(await c.command('DBSIZE')))
      out.push(text(await c.command('GET', 'exp:0')))
      out.push(text(await c.command('DBSIZE')))
      out.push(text(await c.command('DEBUG', 'SET-ACTIVE-EXPIRE', '1')))
      // Swept now: poll, since the sweep runs on its own clock.
      for (let i = 0; i < 200 && text(await c.command('DBSIZE')) !== ':0\r\n'; i++) await new Promise(resolve => setTimeout(resolve, 20))
      out.push(text(await c.command('DBSIZE')))
      return out
    })
    expect(a).toEqual(b)
    expect(a).toEqual(['+OK\r\n', ':20\r\n', '$-1\r\n', ':19\r\n', '+OK\r\n', ':0\r\n'])
  })
})
