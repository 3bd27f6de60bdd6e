// Transactions through real clients with their default options, against FlashKV (4 shards):
// ioredis 6 (HELLO 3; multi() pipelines MULTI … EXEC and unwraps EXEC into [err, value] pairs;
// a touched WATCH resolves exec() with null), node-redis 6 (RESP 3 by default, and RESP 2;
// multi().exec() resolves the replies, rejects with WatchError when EXEC is null and with
// MultiErrorReply when a command failed inside EXEC), and redis-py 4.3.4 (RESP 2; run by
// /usr/bin/python3 in a child process that prints JSON: pipeline() is a MULTI/EXEC transaction
// by default, and transaction(fn, *watches) retries fn on WatchError). Keys are spread over the
// 4 shards, so EXEC runs commands of several shards.
import { Redis } from 'ioredis'
import { MultiErrorReply, WatchError } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectIoredis, connectNodeRedis, type NodeRedisClient } from './helpers/client-libs.js'
import { rawOnce } from './helpers/raw.js'
import { hasRedisPy, redisPyLabel, py as helperPy } from './helpers/redis-py.js'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4

let server: ServerHandle
useFlushedFlashKV({ shards: SHARDS }, s => { server = s })

/** One key per shard: K[s] lives on shard s. */
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `cm${s}:`)[0])

it('test keys land where the test expects', () => {
  expect(K.map(k => shardOfKey(k, SHARDS))).toEqual([0, 1, 2, 3])
})

const raw = async (...args: string[]): Promise<string> => await rawOnce(server.port, server.host, ...args)

describe('ioredis 6 (default options)', () => {
  let client: Redis

  beforeAll(async () => {
    client = await connectIoredis(server)
  })

  afterAll(async () => {
    await client?.quit()
  })

  it('multi().set().incr().get().exec() resolves [err, value] pairs', async () => {
    const res = await client.multi().set('k', '1').incr('k').get('k').exec()
    expect(res).toEqual([[null, 'OK'], [null, 2], [null, '2']])
    expect(await client.get('k')).toBe('2')
  })

  it('a transaction over four shards: mset, mget, del, rename', async () => {
    const res = await client.multi()
      .mset(K[0], 'a', K[1], 'b', K[2], 'c', K[3], 'd')
      .mget(K[3], K[2], K[1], K[0])
      .del(K[1], K[2])
      .rename(K[0], K[2])
      .mget(...K)
      .exec()
    expect(res).toEqual([[null, 'OK'], [null, ['d', 'c', 'b', 'a']], [null, 2], [null, 'OK'], [null, [null, null, 'a', 'd']]])
  })

  it('a command that fails inside EXEC gives its error in its slot; the others run', async () => {
    const res = await client.multi().set('s', 'str').lpush('s', 'x').incr('n').exec()
    expect(res).not.toBeNull()
    const [[e0, v0], [e1], [e2, v2]] = res as Array<[Error | null, unknown]>
    expect([e0, v0]).toEqual([null, 'OK'])
    expect(e1?.message).toMatch(/^WRONGTYPE /)
    expect([e2, v2]).toEqual([null, 1])
  })

  it('an unknown command while queuing: exec() rejects with EXECABORT, nothing runs', async () => {
    const p = client.multi().set('k', 'v')
    p.call('NOSUCHCOMMAND', 'x')
    await expect(p.exec()).rejects.toThrow(/^EXECABORT Transaction discarded because of previous errors\./)
    expect(await client.exists('k')).toBe(0)
  })

  it('multi({ pipeline: false }): each command answers QUEUED, exec() the results', async () => {
    expect(await client.multi({ pipeline: false })).toBe('OK')
    expect(await client.set(K[1], 'x')).toBe('QUEUED')
    expect(await client.append(K[3], 'y')).toBe('QUEUED')
    expect(await client.exec()).toEqual([[null, 'OK'], [null, 1]])
    expect(await client.mget(K[1], K[3])).toEqual(['x', 'y'])
  })

  it('watch() then another client changes the key: exec() resolves null', async () => {
    await client.set('w', '1')
    expect(await client.watch('w')).toBe('OK')
    expect(await raw('SET', 'w', 'other')).toBe('+OK\r\n')
    expect(await client.multi().set('w', 'mine').exec()).toBeNull()
    expect(await client.get('w')).toBe('other')
  })

  it('watch() of keys on four shards with no change: exec() runs', async () => {
    expect(await client.watch(...K)).toBe('OK')
    expect(await raw('SET', 'unrelated', 'x')).toBe('+OK\r\n')
    expect(await client.multi().set(K[2], 'mine').exec()).toEqual([[null, 'OK']])
  })

  it('unwatch() forgets the watched keys', async () => {
    await client.watch('w')
    expect(await client.unwatch()).toBe('OK')
    await raw('SET', 'w', 'other')
    expect(await client.multi().get('w').exec()).toEqual([[null, 'other']])
  })
})

describe('node-redis 6 (default options)', () => {
  for (const resp of [3, 2] as const) {
    describe(`RESP ${resp}`, () => {
      let client: NodeRedisClient
      const errors: Error[] = []

      beforeAll(async () => {
        client = await connectNodeRedis(server, resp, errors)
      })

      afterAll(async () => {
        if (client?.isOpen) await client.close()
      })

      it('multi().set().incr().get().exec() resolves the replies', async () => {
        expect(await client.multi().set('k', '1').incr('k').get('k').exec()).toEqual(['OK', 2, '2'])
        expect(errors).toEqual([])
      })

      it('a transaction over four shards: mSet, mGet, del', async () => {
        const res = await client.multi()
          .mSet([[K[0], 'a'], [K[1], 'b'], [K[2], 'c'], [K[3], 'd']])
          .mGet([K[3], K[0], 'missing'])
          .del([K[0], K[3]])
          .mGet(K)
          .exec()
        expect(res).toEqual(['OK', ['d', 'a', null], 2, [null, 'b', 'c', null]])
      })

      it('a command that fails inside EXEC: exec() rejects with MultiErrorReply; the others ran', async () => {
        await client.set('s', 'str')
        const err = await client.multi().lPush('s', 'x').set('t', 'v').exec().then(() => null, (e: unknown) => e)
        expect(err).toBeInstanceOf(MultiErrorReply)
        const multiErr = err as MultiErrorReply
        expect(multiErr.errorIndexes).toEqual([0])
        expect(multiErr.replies[0].message).toMatch(/^WRONGTYPE /)
        expect(multiErr.replies[1]).toBe('OK')
        expect(await client.get('t')).toBe('v')
      })

      it('watch() then another client changes the key: exec() rejects with WatchError', async () => {
        await client.set('w', '1')
        expect(await client.watch('w')).toBe('OK')
        expect(await raw('INCR', 'w')).toBe(':2\r\n')
        await expect(client.multi().set('w', 'mine').exec()).rejects.toBeInstanceOf(WatchError)
        expect(await client.get('w')).toBe('2')
      })

      it('watch() with no change: exec() runs', async () => {
        expect(await client.watch(['w', K[1]])).toBe('OK')
        expect(await client.multi().set('w', 'mine').get(K[1]).exec()).toEqual(['OK', null])
        // EXEC unwatched: a change now does not fail the next transaction.
        await raw('SET', 'w', 'later')
        expect(await client.multi().get('w').exec()).toEqual(['later'])
      })

      it('a WATCH retry loop: no lost update between two clients', async () => {
        const other = client.duplicate()
        other.on('error', (err: Error) => errors.push(err))
        await other.connect()
        try {
          const increment = async (c: typeof client, times: number): Promise<number> => {
            let conflicts = 0
            for (let done = 0; done < times;) {
              await c.watch('ctr')
              const v = Number(await c.get('ctr') ?? '0')
              try {
                await c.multi().set('ctr', String(v + 1)).exec()
                done++
              } catch (e) {
                if (!(e instanceof WatchError)) throw e
                if (++conflicts > 10_000) throw new Error('no progress: every EXEC fails')
              }
            }
            return conflicts
          }
          await Promise.all([increment(client, 100), increment(other, 100)])
          expect(await client.get('ctr')).toBe('200')
          expect(errors).toEqual([])
        } finally {
          await other.close()
        }
      })
    })
  }
})

/** redis-py with this file's server. */
async function py (body: string): Promise<unknown> {
  return await helperPy(server, body, ['import threading', 'from redis.exceptions import WatchError, ResponseError', "other = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), decode_responses=True)"])
}

describe.skipIf(!hasRedisPy)(redisPyLabel, () => {
  it('pipeline() (transaction=True) with set / incr / get, then execute()', async () => {
    expect(await py(`
p = r.pipeline()
p.set('k', '1').incr('k').get('k')
p.mset({${K.map((k, i) => `'${k}': 'v${i}'`).join(', ')}})
p.mget(${JSON.stringify(K)})
print(json.dumps({'res': p.execute(), 'after': r.get('k')}))
`)).toEqual({ res: [true, 2, '2', true, ['v0', 'v1', 'v2', 'v3']], after: '2' })
  })

  it('an error inside EXEC: execute(raise_on_error=False) keeps it in its slot', async () => {
    expect(await py(`
r.set('s', 'str')
p = r.pipeline()
p.lpush('s', 'x').set('t', 'v').incr('s')
res = p.execute(raise_on_error=False)
print(json.dumps([type(x).__name__ + ':' + str(x) if isinstance(x, Exception) else x for x in res] + [r.get('t')]))
`)).toEqual([
      'ResponseError:WRONGTYPE Operation against a key holding the wrong kind of value', true,
      'ResponseError:value is not an integer or out of range', 'v',
    ])
  })

  it('an unknown command while queuing: execute() raises, nothing runs', async () => {
    const res = await py(`
p = r.pipeline()
p.set('k', 'v')
p.execute_command('NOSUCHCOMMAND', 'x')
try:
    p.execute()
    out = 'no error'
except ResponseError as e:
    out = type(e).__name__ + ':' + str(e)
print(json.dumps({'err': out, 'exists': r.exists('k')}))
`) as { err: string, exists: number }
    expect(res.exists).toBe(0)
    expect(res.err).toMatch(/^ResponseError:.*unknown command 'NOSUCHCOMMAND'/)
  })

  it('transaction(fn, key) retries when another client changes the watched key', async () => {
    expect(await py(`
r.set('w', '10')
calls = []
def fn(pipe):
    v = int(pipe.get('w'))
    calls.append(v)
    if len(calls) == 1:
        other.set('w', '20')  # after WATCH, before EXEC: the first EXEC must fail
    pipe.multi()
    pipe.set('w', v + 1)
res = r.transaction(fn, 'w')
print(json.dumps({'calls': calls, 'res': res, 'w': r.get('w')}))
`)).toEqual({ calls: [10, 20], res: [true], w: '21' })
  })

  it('pipeline.watch() loop: WatchError on a touched key, success on retry', async () => {
    expect(await py(`
keys = ${JSON.stringify([K[0], K[3]])}
r.mset({keys[0]: '0', keys[1]: '0'})
attempts = 0
while True:
    with r.pipeline() as pipe:
        try:
            pipe.watch(*keys)
            a, b = pipe.mget(keys)
            attempts += 1
            if attempts == 1:
                other.incr(keys[1])
            pipe.multi()
            pipe.mset({keys[0]: int(a) + 100, keys[1]: int(b) + 100})
            pipe.execute()
            break
        except WatchError:
            continue
print(json.dumps({'attempts': attempts, 'values': r.mget(keys)}))
`)).toEqual({ attempts: 2, values: ['100', '101'] })
  })

  it('threads racing with transaction(fn, key): no lost update', async () => {
    expect(await py(`
def worker():
    c = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), decode_responses=True)
    def fn(pipe):
        v = int(pipe.get('ctr') or 0)
        pipe.multi()
        pipe.set('ctr', v + 1)
    for _ in range(50):
        c.transaction(fn, 'ctr')
threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(r.get('ctr')))
`)).toBe('200')
  })
})
