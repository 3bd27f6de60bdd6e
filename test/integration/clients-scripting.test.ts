// Lua scripts through real clients with their default options, against FlashKV (1 and 4 shards):
// ioredis 6 (eval, and defineCommand: EVALSHA first, EVAL on NOSCRIPT), node-redis 6 (eval,
// scriptLoad, evalSha; RESP 3 and RESP 2) and redis-py 4.3.4's Lock, whose release, extend and
// reacquire are scripts run by register_script (EVALSHA, SCRIPT LOAD on NOSCRIPT). Keys are
// spread over the 4 shards, so scripts touch several shards.
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectIoredis, connectNodeRedis, type NodeRedisClient } from './helpers/client-libs.js'
import { hasRedisPy, redisPyLabel, py } from './helpers/redis-py.js'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard } from './helpers/slots.js'

const SHARDS = 4

/** One key per shard: K[s] lives on shard s. */
const K = [0, 1, 2, 3].map(s => keysOnShard(s, SHARDS, 1, `cs${s}:`)[0])

const SWAP = `
local a = redis.call('get', KEYS[1])
local b = redis.call('get', KEYS[2])
redis.call('set', KEYS[1], b)
redis.call('set', KEYS[2], a)
return {a, b}`

// At one shard the scripts run inside the shard worker (scripting/in-shard.ts), at four they hold every shard.
for (const shards of [1, 4]) {
describe(`${shards} shard${shards === 1 ? '' : 's'}`, () => {
  let server: ServerHandle
  useFlushedFlashKV({ shards }, s => { server = s })

  describe('ioredis 6 (default options)', () => {
    let client: Redis & { swap?: (a: string, b: string) => Promise<unknown>, bump?: (k: string, by: number) => Promise<unknown> }

    beforeAll(async () => {
      client = await connectIoredis(server)
    })

    afterAll(async () => {
      await client?.quit()
    })

    it('eval with keys on two shards', async () => {
      await client.mset(K[0], 'x', K[1], 'y')
      expect(await client.eval(SWAP, 2, K[0], K[1])).toEqual(['x', 'y'])
      expect(await client.mget(K[0], K[1])).toEqual(['y', 'x'])
    })

    it('defineCommand: EVALSHA, with EVAL when the script is not cached (after SCRIPT FLUSH too)', async () => {
      client.defineCommand('swap', { numberOfKeys: 2, lua: SWAP })
      client.defineCommand('bump', { numberOfKeys: 1, lua: "return redis.call('incrby', KEYS[1], ARGV[1])" })
      await client.mset(K[2], 'a', K[3], 'b')
      expect(await client.swap?.(K[2], K[3])).toEqual(['a', 'b'])
      expect(await client.bump?.(K[1], 5)).toBe(5)
      expect(await client.script('FLUSH')).toBe('OK')
      expect(await client.bump?.(K[1], 2)).toBe(7)
      expect(await client.mget(K[2], K[3], K[1])).toEqual(['b', 'a', '7'])
    })

    it('a script error rejects with Redis 7.0 text', async () => {
      await expect(client.eval("return redis.call('nosuch')", 0)).rejects.toThrow(/^ERR Unknown Redis command called from script script: [0-9a-f]{40}, on @user_script:1\.$/)
    })
  })

  for (const resp of [3, 2] as const) {
    describe(`node-redis 6 (RESP ${resp})`, () => {
      let client: NodeRedisClient
      const errors: Error[] = []

      beforeAll(async () => {
        client = await connectNodeRedis(server, resp, errors)
      })

      afterAll(async () => {
        if (client?.isOpen) await client.close()
      })

      it('eval, scriptLoad, evalSha, scriptExists', async () => {
        await client.mSet([[K[0], '1'], [K[3], '2']])
        expect(await client.eval(SWAP, { keys: [K[0], K[3]] })).toEqual(['1', '2'])
        const sha = await client.scriptLoad("return {KEYS[1], ARGV[1], redis.call('get', KEYS[1])}")
        expect(sha).toMatch(/^[0-9a-f]{40}$/)
        expect(await client.evalSha(sha, { keys: [K[0]], arguments: ['arg'] })).toEqual([K[0], 'arg', '2'])
        expect(await client.scriptExists([sha, '0'.repeat(40)])).toEqual([1, 0])
        await expect(client.evalSha('0'.repeat(40))).rejects.toThrow(/^NOSCRIPT No matching script/)
        expect(errors).toEqual([])
      })
    })
  }

  describe.skipIf(!hasRedisPy)(redisPyLabel, () => {
    it('Lock: acquire, extend, reacquire, release (scripts), and release by a non-owner fails', async () => {
      expect(await py(server, `
from redis.exceptions import LockNotOwnedError
out = []
lock = r.lock('${K[2]}', timeout=10)
out.append(lock.acquire(blocking=False))
out.append(r.lock('${K[2]}', timeout=10).acquire(blocking=False))
out.append(lock.extend(5))
out.append(lock.reacquire())
out.append(0 < r.pttl('${K[2]}') <= 10000)
lock.release()
out.append(lock.locked())
other = r.lock('${K[2]}', timeout=10)
out.append(other.acquire(blocking=False))
lock.local.token = b'not the owner'
try:
    lock.release()
    out.append('released by a non-owner')
except LockNotOwnedError:
    out.append('not owned')
out.append(other.owned())
print(json.dumps(out))
`)).toEqual([true, false, true, true, true, false, true, 'not owned', true])
    })
  })

  const LIBRARY = `#!lua name=clientlib
redis.register_function('swap', function(keys, args)
  local a = redis.call('get', keys[1])
  local b = redis.call('get', keys[2])
  redis.call('set', keys[1], b)
  redis.call('set', keys[2], a)
  return {a, b}
end)
redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}`

  for (const resp of [3, 2] as const) {
    describe(`functions through node-redis 6 (RESP ${resp})`, () => {
      let client: NodeRedisClient
      const errors: Error[] = []

      beforeAll(async () => {
        client = await connectNodeRedis(server, resp, errors)
      })

      afterAll(async () => {
        if (client?.isOpen) await client.close()
      })

      it('functionLoad, fCall over two shards, fCallRo, functionList, functionDelete', async () => {
        await client.functionFlush()
        expect(await client.functionLoad(LIBRARY)).toBe('clientlib')
        await client.mSet([[K[1], 'one'], [K[2], 'two']])
        expect(await client.fCall('swap', { keys: [K[1], K[2]] })).toEqual(['one', 'two'])
        expect(await client.fCallRo('peek', { keys: [K[1]] })).toBe('two')
        await expect(client.fCallRo('swap', { keys: [K[1], K[2]] })).rejects.toThrow('Can not execute a script with write flag using *_ro command.')
        const list = await client.functionList()
        expect(list).toHaveLength(1)
        expect(list[0].library_name).toBe('clientlib')
        expect(list[0].functions.map(f => f.name).sort()).toEqual(['peek', 'swap'])
        expect(list[0].functions.find(f => f.name === 'peek')?.description).toBe('reads')
        await expect(client.functionLoad(LIBRARY)).rejects.toThrow("Library 'clientlib' already exists")
        expect(await client.functionLoad(LIBRARY, { REPLACE: true })).toBe('clientlib')
        expect(await client.functionDelete('clientlib')).toBe('OK')
        await expect(client.fCall('swap', { keys: [K[1], K[2]] })).rejects.toThrow('Function not found')
        expect(errors).toEqual([])
      })
    })
  }

  describe('functions through ioredis 6: FUNCTION DUMP and RESTORE as binary', () => {
    let client: Redis

    beforeAll(async () => {
      client = await connectIoredis(server)
    })

    afterAll(async () => {
      await client?.quit()
    })

    it('a dump restores after FLUSH, and FCALL runs the restored library', async () => {
      await client.call('FUNCTION', 'FLUSH')
      expect(await client.call('FUNCTION', 'LOAD', LIBRARY)).toBe('clientlib')
      const dump = await client.callBuffer('FUNCTION', 'DUMP') as Buffer
      expect(dump[0]).toBe(245)
      expect(await client.call('FUNCTION', 'FLUSH')).toBe('OK')
      expect(await client.call('FUNCTION', 'RESTORE', dump)).toBe('OK')
      await client.mset(K[0], 'a', K[3], 'b')
      expect(await client.call('FCALL', 'swap', '2', K[0], K[3])).toEqual(['a', 'b'])
      expect(await client.call('FCALL_RO', 'peek', '1', K[0])).toBe('b')
      await client.call('FUNCTION', 'FLUSH')
    })
  })
})
}
