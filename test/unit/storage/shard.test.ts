// Shard: lazy expiry on lookup (expireIfNeeded), active expiry over every database, the INFO
// counters (keyspace hits/misses, expired_keys, keys, expires), SELECT and FLUSHDB/FLUSHALL, all
// under a fake clock, including the expire-time boundary (a key still exists at exactly its
// expire time) and which commands count keyspace hits/misses, as in Redis 7.0.15.

import { beforeEach, describe, expect, it } from 'vitest'
import { DATABASES, Shard } from '../../../src/storage/shard.js'
import { run, argvOf, decode, type Reply } from '../helpers/run.js'
import { commandOfArgs } from '../../../src/commands/table.js'
import { ReplyWriter } from '../../../src/protocol/resp-writer.js'

const T0 = 1_700_000_000_000
let now = T0
let shard: Shard

beforeEach(() => {
  now = T0
  shard = new Shard()
  shard.clock = () => now
})

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

describe('lazy expiry', () => {
  it('a key past its time reads as missing, is deleted and counted once', () => {
    expect(run(shard, ['SET', 'k', 'v', 'PX', '100'])).toEqual({ status: 'OK' })
    now += 50
    expect(run(shard, ['GET', 'k'])).toEqual(b('v'))
    expect(run(shard, ['PTTL', 'k'])).toBe(50)
    now += 51
    expect(shard.keyCount()).toBe(1) // still stored until touched
    expect(run(shard, ['GET', 'k'])).toBeNull()
    expect(shard.keyCount()).toBe(0)
    expect(shard.expiresCount()).toBe(0)
    expect(shard.expiredKeys).toBe(1)
    expect(run(shard, ['EXISTS', 'k'])).toBe(0)
    expect(shard.expiredKeys).toBe(1)
  })

  it('writes, DEL, EXPIRE and TTL all expire the key first', () => {
    for (const cmd of [['SET', 'k', 'w', 'NX'], ['DEL', 'k'], ['EXPIRE', 'k', '100'], ['TTL', 'k'], ['PERSIST', 'k']]) {
      run(shard, ['SET', 'k', 'v', 'PX', '10'])
      now += 11
      const before = shard.expiredKeys
      const reply = run(shard, cmd)
      expect(shard.expiredKeys, cmd.join(' ')).toBe(before + 1)
      expect(reply, cmd.join(' ')).toEqual(cmd[0] === 'SET' ? { status: 'OK' } : cmd[0] === 'TTL' ? -2 : 0)
      run(shard, ['DEL', 'k'])
    }
  })

  it('EXPIRE with a time not in the future deletes at once, without counting an expiry', () => {
    run(shard, ['SET', 'k', 'v'])
    expect(run(shard, ['PEXPIRE', 'k', '0'])).toBe(1)
    expect(shard.keyCount()).toBe(0)
    expect(shard.expiredKeys).toBe(0)
  })

  // Difference: Redis's keyIsExpired is `now > when`, so at exactly the expire time the key
  // still exists (GET returns it, PTTL is 0). Shard.lookup expires at `at <= now`, and so does
  // Keyspace.expireSweep (Redis's activeExpireCycleTryExpire also uses `now > t`).
  // Repro: SET k v PX 100 at t; at t+100 GET k → nil here, "v" in Redis.
  it('at exactly its expire time a key still exists, as in Redis', () => {
    run(shard, ['SET', 'k', 'v', 'PX', '100'])
    now += 100
    expect(run(shard, ['PTTL', 'k'])).toBe(0)
    expect(run(shard, ['GET', 'k'])).toEqual(b('v'))
  })

  it('at exactly its expire time active expiry leaves the key, as in Redis', () => {
    run(shard, ['SET', 'k', 'v', 'PX', '100'])
    now += 100
    expect(shard.activeExpire(1024)).toBe(0)
  })
})

describe('active expiry', () => {
  it('deletes only expired keys, in every database, and counts them', () => {
    for (let db = 0; db < 3; db++) {
      shard.select(db)
      for (let i = 0; i < 100; i++) {
        run(shard, ['SET', `k${i}`, 'v', ...(i % 2 === 0 ? ['PX', db < 2 ? '100' : '1000'] : [])])
      }
    }
    shard.select(0)
    expect(shard.keyCount()).toBe(300)
    expect(shard.expiresCount()).toBe(150)
    now += 150 // past due in dbs 0 and 1, not in db 2
    let deleted = 0
    for (let i = 0; i < 20; i++) deleted += shard.activeExpire(64)
    expect(deleted).toBe(100)
    expect(shard.expiredKeys).toBe(100)
    expect(shard.keyCount()).toBe(200)
    expect(shard.expiresCount()).toBe(50)
    shard.select(2)
    expect(run(shard, ['EXISTS', 'k0', 'k1'])).toBe(2)
  })
})

describe('keyspace hits and misses', () => {
  it('GET, MGET, EXISTS and SET ... GET count; writes and DEL do not', () => {
    run(shard, ['SET', 'a', '1'])
    run(shard, ['GET', 'a'])
    run(shard, ['GET', 'zz'])
    run(shard, ['MGET', 'a', 'zz', 'a'])
    run(shard, ['EXISTS', 'a', 'zz'])
    run(shard, ['SET', 'a', '2', 'GET'])
    expect([shard.hits, shard.misses]).toEqual([1 + 2 + 1 + 1, 1 + 1 + 1])
    run(shard, ['SET', 'a', '3', 'NX'])
    run(shard, ['SET', 'zz', '3', 'XX'])
    run(shard, ['DEL', 'zz'])
    run(shard, ['EXPIRE', 'a', '100'])
    run(shard, ['PERSIST', 'a'])
    expect([shard.hits, shard.misses]).toEqual([5, 3])
  })

  // Difference: Redis 7.0 looks the key up with lookupKeyReadWithFlags(LOOKUP_NOTOUCH) for TTL,
  // PTTL, EXPIRETIME, PEXPIRETIME and TYPE, which counts keyspace_hits/misses (checked against
  // redis-server 7.0.15: `ttl a` on an existing key → keyspace_hits:1, on a missing key →
  // keyspace_misses:1). ttlGeneric and typeCommand use shard.lookup, which counts nothing.
  it('TTL, PTTL, EXPIRETIME, PEXPIRETIME and TYPE count hits and misses, as in Redis', () => {
    run(shard, ['SET', 'a', '1'])
    for (const cmd of ['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'TYPE']) {
      run(shard, [cmd, 'a'])
      run(shard, [cmd, 'zz'])
    }
    expect([shard.hits, shard.misses]).toEqual([5, 5])
  })
})

describe('databases', () => {
  it('are independent, created lazily, and SELECT switches ks', () => {
    expect(shard.dbs.filter(d => d !== null).length).toBe(1)
    run(shard, ['SET', 'k', 'zero'])
    shard.select(5)
    expect(shard.dbIndex).toBe(5)
    expect(shard.ks).toBe(shard.dbs[5])
    expect(run(shard, ['GET', 'k'])).toBeNull()
    run(shard, ['SET', 'k', 'five', 'PX', '1000'])
    shard.select(0)
    expect(run(shard, ['GET', 'k'])).toEqual(b('zero'))
    expect(shard.keyCount()).toBe(2)
    expect(shard.expiresCount()).toBe(1)
    expect(shard.dbs.length).toBe(DATABASES)
  })

  it('FLUSHDB empties one database and FLUSHALL every one, counters included', () => {
    run(shard, ['SET', 'a', '1', 'PX', '1000'])
    shard.select(3)
    run(shard, ['SET', 'b', '2'])
    const used = shard.usedMemory()
    shard.flushDb(3)
    expect(shard.ks).toBe(shard.dbs[3]) // the current db's ks follows the new keyspace
    expect(run(shard, ['GET', 'b'])).toBeNull()
    expect(shard.keyCount()).toBe(1)
    expect(shard.usedMemory()).toBeLessThan(used)
    shard.flushAll()
    expect(shard.keyCount()).toBe(0)
    expect(shard.expiresCount()).toBe(0)
    shard.select(0)
    expect(run(shard, ['GET', 'a'])).toBeNull()
  })

  it('SELECT after FLUSHDB of the current db does not keep the old keyspace', () => {
    run(shard, ['SET', 'a', '1'])
    const old = shard.ks
    shard.dbs[0] = null // as if replaced behind the shard's back
    shard.select(0)
    expect(shard.ks).not.toBe(old)
    expect(run(shard, ['GET', 'a'])).toBeNull()
  })
})

describe('values across size classes', () => {
  it('SET over an existing key grows and shrinks it, keeping or clearing the TTL', () => {
    const k = b('k\x00\xff')
    let ttl = -1
    for (const len of [0, 1, 7, 8, 100, 488, 489, 600, 2000, 5000, 3, 0, 70_000, 10]) {
      const v = Buffer.alloc(len, len & 0xff)
      expect(run(shard, ['SET', k, v, 'KEEPTTL'])).toEqual({ status: 'OK' })
      const got = run(shard, ['GET', k])
      expect(Buffer.isBuffer(got) && got.equals(v), `GET after SET of ${len} bytes`).toBe(true)
      if (len === 100) { run(shard, ['PEXPIRE', k, '5000']); ttl = 5000 }
      expect(run(shard, ['PTTL', k])).toBe(ttl)
    }
    run(shard, ['SET', k, 'plain'])
    expect(run(shard, ['PTTL', k])).toBe(-1)
    expect(shard.keyCount()).toBe(1)
    expect(shard.expiresCount()).toBe(0)
  })
})

describe('compaction (Shard.compactDb, compactIfFragmented)', () => {
  const out = new ReplyWriter(64)
  /** Any shard command of the table, subcommands too ('xgroup', 'create', ... or 'xinfo|stream', ...). */
  const any = (shard: Shard, name: string, ...args: string[]): Reply => {
    out.reset()
    const argv = [...name.split('|'), ...args]
    const cmd = commandOfArgs(argv.map(a => Buffer.from(a, 'latin1')))
    if (cmd?.run === undefined) throw new Error(`no shard handler for ${argv.slice(0, 2).join(' ')}`)
    cmd.run(shard, argvOf(argv), out)
    return decode(Buffer.from(out.buf.subarray(0, out.len)))
  }
  it('keeps every key, value, type, encoding, TTL and access clock, and gives the free bytes back', () => {
    for (let i = 0; i < 2000; i++) run(shard, ['SET', `s:${i}`, 'x'.repeat(100 + i % 300)])
    run(shard, ['SET', 'n', '12345'])
    run(shard, ['SET', 'ttl', 'v', 'PX', '100000'])
    any(shard, 'rpush', 'l', 'a', 'b', 'c')
    any(shard, 'hset', 'h', 'f', 'v', 'g', 'w')
    any(shard, 'sadd', 'st', '1', '2', 'x')
    any(shard, 'zadd', 'z', '1', 'a', '2', 'b')
    any(shard, 'xadd', 'x', '1-1', 'f', 'v')
    for (let i = 0; i < 2000; i += 2) run(shard, ['DEL', `s:${i}`])
    const before = shard.committedMemory()
    const live = shard.usedMemory()
    const entry = (k: string): number => shard.lookupNoTouch(b(k), 0, k.length)
    shard.ks.setClock(entry('h'), 12345)
    const flags = shard.ks.encFlags(entry('n'))
    const ks = shard.ks
    shard.compactDb(0)
    expect(shard.ks).toBe(ks) // the same Keyspace, a new arena
    expect(shard.ks.clock(entry('h'))).toBe(12345)
    expect(shard.committedMemory()).toBeLessThan(before)
    expect(shard.committedMemory()).toBeLessThanOrEqual(live)
    expect(shard.droppedBytes).toBeGreaterThan(0)
    expect(shard.keyCount()).toBe(1000 + 7)
    expect(shard.expiresCount()).toBe(1)
    for (let i = 1; i < 2000; i += 2) expect(run(shard, ['STRLEN', `s:${i}`])).toBe(100 + i % 300)
    expect(run(shard, ['GET', `s:0`])).toBeNull()
    expect(shard.ks.encFlags(entry('n'))).toBe(flags)
    expect(run(shard, ['PTTL', 'ttl'])).toBe(100000)
    expect(any(shard, 'lrange', 'l', '0', '-1')).toEqual([b('a'), b('b'), b('c')])
    expect(any(shard, 'hget', 'h', 'g')).toEqual(b('w'))
    expect(any(shard, 'sismember', 'st', 'x')).toBe(1)
    expect(any(shard, 'zscore', 'z', 'b')).toEqual(b('2'))
    expect(any(shard, 'xlen', 'x')).toBe(1)
    // Writes go on in the new arena.
    expect(run(shard, ['SET', 's:0', 'back'])).toEqual({ status: 'OK' })
    expect(run(shard, ['GET', 's:0'])).toEqual(b('back'))
  })

  it('leaves the copy a table sized for its keys, not the 32 buckets its first rehash reached', () => {
    for (let i = 0; i < 20_000; i++) run(shard, ['SET', `c:${i}`, 'v'])
    for (let i = 0; i < 20_000; i += 2) run(shard, ['DEL', `c:${i}`])
    shard.compactDb(0)
    // Buckets of both tables (a rehash may still be under way): chains of a key or two, where
    // they were 300 long and stayed so for reads (only later writes doubled the table again).
    expect(shard.ks.tableBytes / 4).toBeGreaterThanOrEqual(shard.keyCount() / 2)
    for (let i = 1; i < 20_000; i += 2) if (run(shard, ['GET', `c:${i}`]) === null) throw new Error(`c:${i} lost`)
  })

  it('compacts once over the share with the excess free, not before', () => {
    for (let i = 0; i < 4000; i++) run(shard, ['SET', `k:${i}`, 'v'.repeat(200)])
    const share = shard.committedMemory()
    expect(shard.compactIfFragmented(share)).toBe(false) // nothing free
    for (let i = 0; i < 100; i++) run(shard, ['DEL', `k:${i * 2}`])
    // A few free blocks, and not over the share: nothing to gain.
    expect(shard.compactIfFragmented(share)).toBe(false)
    for (let i = 0; i < 4000; i += 3) run(shard, ['DEL', `k:${i}`])
    // Over a share of the live bytes: the free bytes are the excess, and a copy removes them.
    expect(shard.compactIfFragmented(shard.usedMemory())).toBe(true)
    expect(shard.committedMemory()).toBe(shard.usedMemory())
  })

  // Keyspace.slide: in place, under maxmemory (no second buffer).
  /** Every kind of value, its elements' blocks spread between string entries, then holes. */
  const fill = (tag: string, n: number): void => {
    for (let i = 0; i < n; i++) {
      run(shard, ['SET', `${tag}s:${i}`, String.fromCharCode(97 + i % 26).repeat(1 + (i * 37) % 900)])
      if (i % 50 === 0) run(shard, ['SET', `${tag}t:${i}`, 'ttl', 'PX', String(100000 + i)])
      if (i % 7 === 0) any(shard, 'rpush', `${tag}l:${i % 70}`, `e${i}`, 'x'.repeat(i % 200))
      if (i % 5 === 0) any(shard, 'hset', `${tag}h:${i % 40}`, `f${i}`, 'v'.repeat(i % 90))
      if (i % 11 === 0) any(shard, 'sadd', `${tag}st:${i % 20}`, String(i), `m${i}`)
      if (i % 13 === 0) any(shard, 'zadd', `${tag}z:${i % 10}`, String(i % 17), `m${i}`)
      if (i % 3 === 0) any(shard, 'zadd', `${tag}zb`, String(i % 101), `m${i}`) // several chunks
      if (i % 17 === 0) any(shard, 'sadd', `${tag}int`, String(i * 1000)) // an intset
      if (i % 97 === 0) any(shard, 'xadd', `${tag}x`, '*', 'f', String(i))
      if (i % 4 === 0) any(shard, 'xadd', `${tag}xb`, `${i + 1}-0`, 'f', String(i), 'g', 'y'.repeat(i % 60)) // several chunks
      if (i % 9 === 0) any(shard, 'hset', `${tag}hb`, `f${i}`, 'w'.repeat(70 + i % 30)) // a hashtable
      if (i === 100) any(shard, 'xgroup', 'create', `${tag}xb`, 'g1', '0')
      if (i === 300) any(shard, 'xgroup', 'create', `${tag}xb`, 'g2', '$')
      if (i % 40 === 0 && i >= 100) any(shard, 'xreadgroup', 'group', 'g1', `c${i % 3}`, 'count', '7', 'streams', `${tag}xb`, '>')
      if (i % 60 === 0 && i >= 300) any(shard, 'xreadgroup', 'group', 'g2', `d${i % 2}`, 'count', '3', 'streams', `${tag}xb`, '>')
    }
    for (let i = 0; i < n; i += 3) run(shard, ['DEL', `${tag}s:${i}`])
    for (let i = 0; i < n; i += 14) any(shard, 'lpop', `${tag}l:${i % 70}`)
    for (let i = 0; i < n; i += 8) any(shard, 'hdel', `${tag}hb`, `f${i}`)
    for (let i = 0; i < n; i += 6) any(shard, 'zrem', `${tag}zb`, `m${i}`)
    for (let i = 0; i < n; i += 16) any(shard, 'xdel', `${tag}xb`, `${i + 1}-0`)
    any(shard, 'xack', `${tag}xb`, 'g1', '1-0', '41-0', '81-0')
  }
  /** What every key of fill(tag, n) holds now, read through commands. */
  const dump = (tag: string, n: number): unknown[] => {
    const out: unknown[] = []
    for (let i = 0; i < n; i++) out.push(run(shard, ['GET', `${tag}s:${i}`]))
    for (let i = 0; i < n; i += 50) out.push(run(shard, ['PTTL', `${tag}t:${i}`]))
    // From the head by the next links, and near the tail by the previous ones.
    for (let i = 0; i < 70; i++) out.push(any(shard, 'lrange', `${tag}l:${i}`, '0', '-1'), any(shard, 'lindex', `${tag}l:${i}`, '-2'))
    for (let i = 0; i < 40; i++) out.push(any(shard, 'hgetall', `${tag}h:${i}`))
    for (let i = 0; i < 20; i++) out.push(any(shard, 'smembers', `${tag}st:${i}`))
    for (let i = 0; i < 10; i++) out.push(any(shard, 'zrange', `${tag}z:${i}`, '0', '-1', 'withscores'))
    out.push(any(shard, 'zrange', `${tag}zb`, '0', '-1', 'withscores'), any(shard, 'zrank', `${tag}zb`, 'm100'))
    out.push(any(shard, 'zscore', `${tag}zb`, 'm301'), any(shard, 'smembers', `${tag}int`), any(shard, 'hgetall', `${tag}hb`))
    out.push(any(shard, 'xlen', `${tag}x`), any(shard, 'xrange', `${tag}xb`, '-', '+'))
    out.push(any(shard, 'xinfo|stream', `${tag}xb`, 'full'), any(shard, 'xpending', `${tag}xb`, 'g1', '-', '+', '1000'))
    out.push(shard.keyCount(), shard.expiresCount())
    return out
  }

  it('slide: every block in use moves down, entries and values\' own blocks alike, every value and TTL intact, and writes go on after', () => {
    fill('a', 1500)
    // A string bigger than any free block: the last block.
    run(shard, ['SET', 'last', 'z'.repeat(20_000)])
    const before = dump('a', 1500)
    const committed = shard.committedMemory()
    const live = shard.usedMemory()
    const capacity = shard.ks.arena.capacity
    // No free block is left: the arena ends at its bytes in use.
    const down = shard.ks.slide()
    expect(down).toBeGreaterThan(0)
    expect(shard.committedMemory()).toBe(committed - down)
    expect(shard.usedMemory()).toBe(live)
    expect(shard.committedMemory()).toBe(live)
    expect(shard.ks.arena.capacity).toBe(capacity) // the same buffer
    expect(dump('a', 1500)).toEqual(before)
    expect(run(shard, ['STRLEN', 'last'])).toBe(20_000)
    // Writes go on (from the top), and a second slide keeps everything too.
    fill('b', 1000)
    const both = [dump('a', 1500), dump('b', 1000)]
    shard.ks.slide()
    expect(shard.committedMemory()).toBe(shard.usedMemory())
    expect([dump('a', 1500), dump('b', 1000)]).toEqual(both)
    // The strings go: the collections, alone now, slide down and still hold the same.
    const collections = [dump('a', 0).slice(0, -2), dump('b', 0).slice(0, -2)]
    for (let i = 0; i < 1500; i++) run(shard, ['DEL', `as:${i}`, `bs:${i}`])
    shard.ks.slide()
    expect(shard.committedMemory()).toBe(shard.usedMemory())
    expect(run(shard, ['GET', 'bs:1'])).toBeNull()
    expect([dump('a', 0).slice(0, -2), dump('b', 0).slice(0, -2)]).toEqual(collections)
    expect(any(shard, 'lrange', 'al:7', '0', '-1')).toEqual(before[1500 + 30 + 7 * 2])
    // The collections change after the slide as before it: their links lead where they should.
    any(shard, 'rpush', 'al:7', 'after')
    any(shard, 'hset', 'ahb', 'new', 'v'.repeat(100))
    any(shard, 'zadd', 'azb', '50.5', 'new')
    any(shard, 'xreadgroup', 'group', 'g1', 'c9', 'count', '2', 'streams', 'axb', '0')
    any(shard, 'xgroup', 'delconsumer', 'axb', 'g1', 'c1')
    expect((any(shard, 'lrange', 'al:7', '-1', '-1') as Buffer[])[0]).toEqual(b('after'))
    expect(any(shard, 'hget', 'ahb', 'new')).toEqual(b('v'.repeat(100)))
    expect(any(shard, 'zscore', 'azb', 'new')).toEqual(b('50.5'))
    expect(shard.ks.slide()).toBeGreaterThanOrEqual(0)
    expect(any(shard, 'zscore', 'azb', 'new')).toEqual(b('50.5'))
  })

  it('slide: an empty arena, and one of strings alone, come down to their live bytes', () => {
    expect(shard.ks.slide()).toBe(0)
    for (let i = 0; i < 2000; i++) run(shard, ['SET', `k:${i}`, 'v'.repeat(i % 500)])
    for (let i = 0; i < 2000; i += 2) run(shard, ['DEL', `k:${i}`])
    shard.ks.slide()
    expect(shard.committedMemory()).toBe(shard.usedMemory())
    for (let i = 1; i < 2000; i += 2) expect(run(shard, ['STRLEN', `k:${i}`])).toBe(i % 500)
  })

  it('slide: random writes of every type between slides change nothing a read sees (the index growing meanwhile)', () => {
    let seed = 12345
    const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 16) % n }
    const names = 1200
    const status = (r: unknown): string => (r as { status?: string }).status ?? ''
    const read = (): unknown[] => {
      const out: unknown[] = [shard.keyCount(), shard.expiresCount()]
      for (let i = 0; i < names; i++) {
        const k = `r:${i}`
        const t = status(any(shard, 'type', k))
        out.push(t, run(shard, ['PTTL', k]))
        if (t === 'string') out.push(run(shard, ['GET', k]))
        else if (t === 'list') out.push(any(shard, 'lrange', k, '0', '-1'), any(shard, 'lindex', k, '-2'))
        else if (t === 'hash') out.push(any(shard, 'hgetall', k), any(shard, 'object|encoding', k))
        else if (t === 'set') out.push(any(shard, 'smembers', k), any(shard, 'object|encoding', k))
        else if (t === 'zset') out.push(any(shard, 'zrange', k, '0', '-1', 'withscores'), any(shard, 'zrange', k, '-3', '-1'))
        else if (t === 'stream') out.push(any(shard, 'xinfo|stream', k, 'full'))
      }
      return out
    }
    let slid = 0
    for (let round = 0; round < 8; round++) {
      for (let op = 0; op < 1000; op++) {
        const k = `r:${rnd(names)}`
        const kind = rnd(120)
        const x = String(rnd(1000))
        if (kind < 25) run(shard, ['SET', k, 'v'.repeat(rnd(40) === 0 ? 3000 + rnd(9000) : rnd(300))])
        else if (kind < 40) run(shard, ['DEL', k])
        else if (kind < 48) any(shard, 'rpush', k, x)
        else if (kind < 52) any(shard, 'lpop', k)
        else if (kind < 60) any(shard, 'hset', k, `f${x}`, 'h'.repeat(rnd(200)))
        else if (kind < 64) any(shard, 'hdel', k, `f${x}`)
        else if (kind < 70) any(shard, 'sadd', k, rnd(2) === 0 ? x : `m${x}`)
        else if (kind < 76) any(shard, 'zadd', k, String(rnd(50)), `m${x}`)
        else if (kind < 80) any(shard, 'zrem', k, `m${x}`)
        else if (kind < 86) any(shard, 'append', k, 'a'.repeat(rnd(500)))
        else if (kind < 90) run(shard, ['PEXPIRE', k, String(100_000 + rnd(100_000))])
        else if (kind < 95) any(shard, 'setrange', k, String(rnd(100)), 'r'.repeat(rnd(50)))
        else if (kind < 100) run(shard, ['SET', `n:${round}:${op}`, x]) // more keys: the index grows and rehashes
        // Collections that outgrow their small encodings (hashtables, several zset chunks, intsets).
        else if (kind < 102) any(shard, 'hset', k, ...Array.from({ length: 20 }, (_, i) => [`F${x}:${i}`, 'H'.repeat(rnd(100))]).flat())
        else if (kind < 104) any(shard, 'zadd', k, ...Array.from({ length: 60 }, (_, i) => [String(rnd(500)), `Z${x}:${i}`]).flat())
        else if (kind < 105) any(shard, 'sadd', k, ...Array.from({ length: 30 }, (_, i) => String(rnd(100000) + i)))
        else if (kind < 106) any(shard, 'rpush', k, ...Array.from({ length: 30 }, (_, i) => `L${x}:${i}`))
        // Streams: entries over several chunks, groups, consumers and pending entries.
        else if (kind < 110) any(shard, 'xadd', k, ...(rnd(4) === 0 ? ['MAXLEN', String(50 + rnd(200))] : []), '*', 'f', x, 'g', 's'.repeat(rnd(80)))
        else if (kind < 111) any(shard, 'xtrim', k, 'MAXLEN', String(rnd(300)))
        else if (kind < 113) any(shard, 'xgroup', 'create', k, `g${rnd(3)}`, rnd(2) === 0 ? '0' : '$')
        else if (kind < 116) any(shard, 'xreadgroup', 'group', `g${rnd(3)}`, `c${rnd(4)}`, 'count', String(1 + rnd(20)), 'streams', k, '>')
        else if (kind < 117) any(shard, 'xautoclaim', k, `g${rnd(3)}`, `c${rnd(4)}`, '0', '0-0', 'count', '5')
        else if (kind < 118) any(shard, 'xgroup', 'delconsumer', k, `g${rnd(3)}`, `c${rnd(4)}`)
        else if (kind < 119) any(shard, 'xgroup', 'createconsumer', k, `g${rnd(3)}`, `e${rnd(4)}`)
        else any(shard, 'xgroup', 'destroy', k, `g${rnd(3)}`)
        now += rnd(3) // new stream ids
      }
      const before = read()
      const committed = shard.committedMemory()
      const down = shard.ks.slide()
      slid += down
      expect(shard.committedMemory()).toBe(committed - down)
      // Nothing is left behind as a free block.
      expect(shard.committedMemory()).toBe(shard.usedMemory())
      expect(read()).toEqual(before)
    }
    expect(slid).toBeGreaterThan(0)
    // Each type was there to slide.
    const types = new Set<string>()
    for (let i = 0; i < names; i++) types.add(status(any(shard, 'type', `r:${i}`)))
    for (const t of ['string', 'list', 'hash', 'set', 'zset', 'stream']) expect(types.has(t), t).toBe(true)
  })

  it('under a share, compactIfFragmented slides in place instead of copying', () => {
    for (let i = 0; i < 4000; i++) run(shard, ['SET', `k:${i}`, 'v'.repeat(200)])
    for (let i = 0; i < 4000; i += 3) run(shard, ['DEL', `k:${i}`])
    const arena = shard.ks.arena
    expect(shard.compactIfFragmented(shard.usedMemory())).toBe(true)
    expect(shard.ks.arena).toBe(arena) // no new buffer
    expect(shard.droppedBytes).toBe(0)
    expect(shard.committedMemory()).toBe(shard.usedMemory())
    for (let i = 1; i < 4000; i += 3) expect(run(shard, ['STRLEN', `k:${i}`])).toBe(200)
    // Without maxmemory (share 0) a half-free arena is still copied, a step at a time
    // (storage/db-copy.ts, db-copy.test.ts): the memory goes back once the copy is adopted.
    for (let i = 0; i < 4000; i++) if (i % 3 !== 0 && i % 4 !== 0) run(shard, ['DEL', `k:${i}`])
    expect(shard.compactIfFragmented(0)).toBe(true)
    expect(shard.copying).not.toBeNull()
    while (!shard.copyStep(100, 0)) expect(shard.ks.arena).toBe(arena)
    expect(shard.ks.arena).not.toBe(arena)
    expect(shard.droppedBytes).toBeGreaterThan(0)
  })

  it('an arena whose top came down by itself (its last blocks freed) moves to a buffer of its size, with or without a share', () => {
    for (const share of [0, 8 << 20]) {
      for (let i = 0; i < 4000; i++) run(shard, ['SET', `k:${i}`, 'v'.repeat(500)])
      const capacity = shard.ks.arena.capacity
      // The newest keys go, last first: the top comes down with them, and no block is left free.
      for (let i = 3999; i >= 400; i--) run(shard, ['DEL', `k:${i}`])
      expect(shard.committedMemory()).toBe(shard.usedMemory())
      expect(shard.ks.arena.residentTop).toBeGreaterThan(2 * shard.ks.arena.top)
      expect(shard.compactIfFragmented(share)).toBe(true)
      expect(shard.ks.arena.capacity).toBeLessThan(capacity / 4)
      expect(shard.ks.arena.residentTop).toBe(shard.ks.arena.top)
      for (let i = 0; i < 400; i++) expect(run(shard, ['STRLEN', `k:${i}`])).toBe(500)
      expect(shard.compactIfFragmented(share)).toBe(false) // nothing more to give back
      shard.flushAll()
    }
  })

  it('under a share, an arena that keeps little of what it held moves to a buffer of its size, when that fits beside the rest', () => {
    fill('a', 3000)
    for (let i = 0; i < 6000; i++) run(shard, ['SET', `big:${i}`, 'b'.repeat(300 + i % 500)])
    const share = shard.committedMemory()
    const arena = shard.ks.arena
    const capacity = arena.capacity
    const held = arena.residentTop
    // Most of it goes (DEL, not FLUSHALL): more than half the arena is free, and it slides...
    for (let i = 0; i < 5000; i++) run(shard, ['DEL', `big:${i}`])
    const before = dump('a', 3000)
    // ... but with a share too small for a second buffer beside the first, the buffer stays.
    expect(shard.compactIfFragmented(shard.usedMemory())).toBe(true)
    expect(shard.committedMemory()).toBe(shard.usedMemory())
    expect(arena.capacity).toBe(capacity)
    expect(shard.droppedBytes).toBe(0)
    expect(arena.residentTop).toBe(held) // its pages are still written
    expect(dump('a', 3000)).toEqual(before)
    // More goes, and the copy fits now: a buffer of the live bytes, the same offsets.
    for (let i = 5000; i < 6000; i++) run(shard, ['DEL', `big:${i}`])
    for (let i = 0; i < 3000; i++) run(shard, ['DEL', `as:${i}`])
    const after = dump('a', 0)
    expect(shard.compactIfFragmented(share)).toBe(true)
    expect(shard.ks.arena).toBe(arena) // the same Arena, a new buffer
    expect(arena.capacity).toBeLessThan(capacity / 2)
    expect(arena.residentTop).toBeLessThan(held / 2)
    expect(shard.droppedBytes).toBeGreaterThanOrEqual(capacity)
    expect(shard.committedMemory()).toBe(shard.usedMemory())
    expect(dump('a', 0)).toEqual(after)
    // Writes go on: the new buffer grows.
    for (let i = 0; i < 6000; i++) run(shard, ['SET', `big:${i}`, 'c'.repeat(300 + i % 500)])
    for (let i = 0; i < 6000; i += 97) expect(run(shard, ['STRLEN', `big:${i}`])).toBe(300 + i % 500)
    expect(dump('a', 0).slice(0, -2)).toEqual(after.slice(0, -2))
  })
})
