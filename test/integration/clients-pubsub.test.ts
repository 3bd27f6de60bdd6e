// Pub/sub through real clients with their default options, against FlashKV (4 shards):
// ioredis 6 (HELLO 3: messages arrive as RESP3 pushes) with subscribe + 'message', psubscribe +
// 'pmessage', ssubscribe + 'smessage' and binary 'messageBuffer'; node-redis 6 with a subscriber
// made by client.duplicate() and subscribe(channel, listener) / pSubscribe / sSubscribe, in its
// default RESP 3 and with RESP: 2; redis-py 4.3.4 (RESP2) through /usr/bin/python3 (the system
// interpreter, which has the redis package; the pyenv python3 on PATH does not): pubsub(),
// subscribe, get_message(timeout=...). Each publishes from another client of the same library
// and checks PUBLISH's counts, the messages in publish order, and the client being usable again
// after unsubscribing. Waits for messages are bounded polls; nothing asserts on time.
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectIoredis, connectNodeRedis, connectDuplicate, type NodeRedisClient } from './helpers/client-libs.js'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'

const run = promisify(execFile)
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

let server: ServerHandle
useFlushedFlashKV({ shards: 4 }, s => { server = s })

/** Waits (bounded: ~5 s) until list has at least n entries; returns a copy. */
async function collected<T> (list: T[], n: number): Promise<T[]> {
  for (let i = 0; i < 250 && list.length < n; i++) await sleep(20)
  return list.slice()
}

/** Every byte value 0..255 plus CR LF: survives only a binary-safe path. */
const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\r\n*1\r\n$-1\r\n')])

describe('ioredis 6 (default options)', () => {
  let sub: Redis
  let pub: Redis

  beforeAll(async () => {
    [sub, pub] = await Promise.all([connectIoredis(server), connectIoredis(server)])
  })

  afterAll(async () => {
    await Promise.all([sub?.quit(), pub?.quit()])
  })

  it("subscribe + on('message'): every message in publish order, with PUBLISH's counts", async () => {
    const got: Array<[string, string]> = []
    const onMessage = (channel: string, message: string): void => { got.push([channel, message]) }
    sub.on('message', onMessage)
    try {
      expect(await sub.subscribe('news', 'music')).toBe(2)
      const want: Array<[string, string]> = []
      const counts: number[] = []
      for (let i = 0; i < 50; i++) {
        const ch = i % 3 === 0 ? 'music' : 'news'
        want.push([ch, `m${i}`])
        counts.push(await pub.publish(ch, `m${i}`))
      }
      expect(counts).toEqual(Array(50).fill(1))
      expect(await pub.publish('nobody', 'x')).toBe(0)
      expect(await collected(got, 50)).toEqual(want)
      expect(await pub.pubsub('NUMSUB', 'news', 'music', 'nobody')).toEqual(['news', 1, 'music', 1, 'nobody', 0])
      expect(await sub.unsubscribe('news', 'music')).toBe(0)
      expect(await pub.publish('news', 'late')).toBe(0)
    } finally {
      sub.off('message', onMessage)
    }
  })

  it("psubscribe + on('pmessage'), alongside a channel subscription of the same client", async () => {
    const msgs: Array<[string, string]> = []
    const pmsgs: Array<[string, string, string]> = []
    const onMessage = (channel: string, message: string): void => { msgs.push([channel, message]) }
    const onPmessage = (pattern: string, channel: string, message: string): void => { pmsgs.push([pattern, channel, message]) }
    sub.on('message', onMessage)
    sub.on('pmessage', onPmessage)
    try {
      expect(await sub.psubscribe('news.*', 'h?llo')).toBe(2)
      expect(await sub.subscribe('news.tech')).toBe(3)
      expect(await pub.publish('news.tech', 'a')).toBe(2)
      expect(await pub.publish('news.sport', 'b')).toBe(1)
      expect(await pub.publish('hello', 'c')).toBe(1)
      expect(await pub.publish('hallo', 'd')).toBe(1)
      expect(await pub.publish('other', 'e')).toBe(0)
      expect(await pub.pubsub('NUMPAT')).toBe(2)
      expect(await collected(pmsgs, 4)).toEqual([
        ['news.*', 'news.tech', 'a'], ['news.*', 'news.sport', 'b'], ['h?llo', 'hello', 'c'], ['h?llo', 'hallo', 'd'],
      ])
      expect(await collected(msgs, 1)).toEqual([['news.tech', 'a']])
      // Names given: ioredis 6 waits forever on a PUNSUBSCRIBE without names (against Redis too).
      expect(await sub.punsubscribe('news.*', 'h?llo')).toBe(1)
      expect(await sub.unsubscribe('news.tech')).toBe(0)
      // Back to a normal connection.
      expect(await sub.set('k', 'v')).toBe('OK')
      expect(await sub.get('k')).toBe('v')
    } finally {
      sub.off('message', onMessage)
      sub.off('pmessage', onPmessage)
    }
  })

  it("ssubscribe + on('smessage'), and binary messages through on('messageBuffer')", async () => {
    const smsgs: Array<[string, string]> = []
    const bufs: Array<[Buffer, Buffer]> = []
    const onSmessage = (channel: string, message: string): void => { smsgs.push([channel, message]) }
    const onBuffer = (channel: Buffer, message: Buffer): void => { bufs.push([channel, message]) }
    sub.on('smessage', onSmessage)
    sub.on('messageBuffer', onBuffer)
    try {
      expect(await sub.ssubscribe('shard.ch')).toBe(1)
      expect(await sub.subscribe('bin')).toBe(1)
      expect(await pub.spublish('shard.ch', 'to shard')).toBe(1)
      expect(await pub.publish('shard.ch', 'not to shard')).toBe(0)
      expect(await pub.publish('bin', BINARY)).toBe(1)
      expect(await collected(smsgs, 1)).toEqual([['shard.ch', 'to shard']])
      const [b] = await collected(bufs, 1)
      expect(b[0].toString()).toBe('bin')
      expect(b[1].equals(BINARY)).toBe(true)
      expect(await sub.sunsubscribe('shard.ch')).toBe(0)
      expect(await sub.unsubscribe('bin')).toBe(0)
      expect(await sub.ping()).toBe('PONG')
    } finally {
      sub.off('smessage', onSmessage)
      sub.off('messageBuffer', onBuffer)
    }
  })
})

describe('node-redis 6 (default options), subscriber from client.duplicate()', () => {
  for (const resp of [3, 2] as const) {
    describe(resp === 3 ? 'default RESP (3)' : 'RESP: 2', () => {
      let client: NodeRedisClient
      let sub: NodeRedisClient
      const errors: Error[] = []

      beforeAll(async () => {
        client = await connectNodeRedis(server, resp, errors)
        sub = await connectDuplicate(client, errors)
      })

      afterAll(async () => {
        if (sub?.isOpen) await sub.close()
        if (client?.isOpen) await client.close()
      })

      it('subscribe(channel, listener) gets every message in publish order; PUBLISH counts it', async () => {
        const got: Array<[string, string]> = []
        await sub.subscribe('news', (message, channel) => { got.push([channel, message]) })
        await sub.subscribe('music', (message, channel) => { got.push([channel, message]) })
        const want: Array<[string, string]> = []
        const counts: number[] = []
        for (let i = 0; i < 50; i++) {
          const ch = i % 4 === 0 ? 'music' : 'news'
          want.push([ch, `m${i}`])
          counts.push(await client.publish(ch, `m${i}`))
        }
        expect(counts).toEqual(Array(50).fill(1))
        expect(await collected(got, 50)).toEqual(want)
        expect(await client.pubSubNumSub(['news', 'music', 'nobody'])).toEqual({ news: 1, music: 1, nobody: 0 })
        expect((await client.pubSubChannels()).sort()).toEqual(['music', 'news'])
        await sub.unsubscribe()
        expect(await client.publish('news', 'late')).toBe(0)
        expect(errors).toEqual([])
      })

      it('pSubscribe and sSubscribe with listeners; the duplicate is a normal client afterwards', async () => {
        const pm: Array<[string, string]> = []
        const sm: Array<[string, string]> = []
        await sub.pSubscribe('news.*', (message, channel) => { pm.push([channel, message]) })
        await sub.sSubscribe('shard.ch', (message, channel) => { sm.push([channel, message]) })
        expect(await client.publish('news.tech', 'a')).toBe(1)
        expect(await client.publish('news.sport', 'b')).toBe(1)
        expect(await client.sPublish('shard.ch', 's')).toBe(1)
        expect(await client.publish('shard.ch', 'not to shard')).toBe(0)
        expect(await client.pubSubNumPat()).toBe(1)
        expect(await collected(pm, 2)).toEqual([['news.tech', 'a'], ['news.sport', 'b']])
        expect(await collected(sm, 1)).toEqual([['shard.ch', 's']])
        await sub.pUnsubscribe()
        await sub.sUnsubscribe()
        expect(await client.publish('news.tech', 'late')).toBe(0)
        // The duplicate is a normal client again. (String(): node-redis 6 in RESP 2 answers Buffers
        // once a subscription has ended, against Redis too.)
        expect(String(await sub.set('k', 'v'))).toBe('OK')
        expect(String(await sub.get('k'))).toBe('v')
        expect(errors).toEqual([])
      })

      it('binary messages with a listener in buffer mode', async () => {
        const bin: Buffer[] = []
        await sub.subscribe('bin', (message) => { bin.push(message) }, true)
        expect(await client.publish('bin', BINARY)).toBe(1)
        expect(await client.publish('bin', Buffer.alloc(0))).toBe(1)
        const got = await collected(bin, 2)
        expect(got.map(b => Buffer.isBuffer(b))).toEqual([true, true])
        expect(got[0].equals(BINARY)).toBe(true)
        expect(got[1].length).toBe(0)
        await sub.unsubscribe('bin')
        expect(await client.publish('bin', 'late')).toBe(0)
        expect(errors).toEqual([])
      })
    })
  }
})

// redis-py: the system interpreter's redis package (4.3.4). Skipped, saying why, only where it
// cannot be imported.
const PYTHON = '/usr/bin/python3'
const pyCheck = spawnSync(PYTHON, ['-c', 'import redis; print(redis.__version__)'], { encoding: 'utf8' })
const pyOk = pyCheck.status === 0
const pyWhy = pyOk ? `redis ${pyCheck.stdout.trim()}` : `SKIPPED: ${PYTHON} cannot import redis (${(pyCheck.stderr ?? String(pyCheck.error)).trim().split('\n').pop() ?? ''})`

const PY_SCRIPT = `
import json, sys, redis
r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]))
out = {}
def enc(m):
    if m is None:
        return None
    return {k: (v.decode('latin1') if isinstance(v, bytes) else v) for k, v in m.items()}
p = r.pubsub()
p.subscribe('ch')
out['confirm'] = enc(p.get_message(timeout=5))
out['counts'] = [r.publish('ch', 'm%d' % i) for i in range(20)]
out['messages'] = [enc(p.get_message(timeout=5)) for _ in range(20)]
p.psubscribe('c*')
out['pconfirm'] = enc(p.get_message(timeout=5))
out['both'] = r.publish('ch', 'two')
out['pair'] = [enc(p.get_message(timeout=5)) for _ in range(2)]
out['numsub'] = [[c.decode('latin1'), n] for c, n in r.pubsub_numsub('ch', 'nobody')]
out['numpat'] = r.pubsub_numpat()
binary = bytes(range(256)) + b'\\r\\n'
out['binary_count'] = r.publish('ch', binary)
got = [p.get_message(timeout=5) for _ in range(2)]
out['binary_ok'] = [m is not None and m['data'] == binary for m in got]
p.unsubscribe('ch')
out['unconfirm'] = enc(p.get_message(timeout=5))
p.punsubscribe('c*')
out['punconfirm'] = enc(p.get_message(timeout=5))
out['after'] = r.publish('ch', 'nobody listens')
p.close()
print(json.dumps(out))
`

describe(`redis-py via ${PYTHON} (${pyWhy})`, () => {
  it.skipIf(!pyOk)('pubsub(): subscribe / psubscribe, get_message(timeout) in order, PUBLISH counts, unsubscribe', async () => {
    const { stdout } = await run(PYTHON, ['-c', PY_SCRIPT, server.host, String(server.port)], { timeout: 60_000 })
    const out = JSON.parse(stdout) as Record<string, unknown>
    expect(out.confirm).toEqual({ type: 'subscribe', pattern: null, channel: 'ch', data: 1 })
    expect(out.counts).toEqual(Array(20).fill(1))
    expect(out.messages).toEqual(Array.from({ length: 20 }, (_, i) => ({ type: 'message', pattern: null, channel: 'ch', data: `m${i}` })))
    expect(out.pconfirm).toEqual({ type: 'psubscribe', pattern: null, channel: 'c*', data: 2 })
    expect(out.both).toBe(2)
    expect(out.pair).toEqual([
      { type: 'message', pattern: null, channel: 'ch', data: 'two' },
      { type: 'pmessage', pattern: 'c*', channel: 'ch', data: 'two' },
    ])
    expect(out.numsub).toEqual([['ch', 1], ['nobody', 0]])
    expect(out.numpat).toBe(1)
    expect(out.binary_count).toBe(2)
    expect(out.binary_ok).toEqual([true, true])
    expect(out.unconfirm).toEqual({ type: 'unsubscribe', pattern: null, channel: 'ch', data: 1 })
    expect(out.punconfirm).toEqual({ type: 'punsubscribe', pattern: null, channel: 'c*', data: 0 })
    expect(out.after).toBe(0)
  })
})
