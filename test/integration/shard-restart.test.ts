// A shard worker that dies is replaced, with its data (issue 16, "Faults"; docs/ARCHITECTURE.md,
// "A dead shard"). DEBUG CRASH-SHARD makes a shard's thread exit between two batches; a new
// thread takes its databases over from shared memory. Meanwhile (only) its slots answer
// CLUSTERDOWN; every client gets an answer: blocked clients, WATCH sessions, pipelines,
// subscribers of the pub/sub hub (shard 0).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand, infoNumber, parseScan } from './helpers/raw.js'
import { REDIS_URL, freePort, startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard } from './helpers/slots.js'
import { startRedis } from './helpers/redis.js'
import { sleep } from './helpers/sides.js'

const CLUSTERDOWN = '-CLUSTERDOWN Hash slot not served\r\n'
const SHARDS = 4
const DBS = [0, 1, 7, 9]
const text = (b: Buffer): string => b.toString('latin1')

// Every part starts FlashKV itself with DEBUG enabled: not for a REDIS_URL.
const describeLocal = REDIS_URL === undefined || REDIS_URL === '' ? describe : describe.skip

/** Polls until `check` holds; false if it never did within the bound (a generous one: no timing is asserted). */
async function pollUntil (check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (await check()) return true
    if (Date.now() > deadline) return false
    await sleep(20)
  }
}

async function httpStatus (port: number, path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  await res.arrayBuffer()
  return res.status
}

/** Values of every type (and some TTLs) under keys of every shard, in several databases. */
async function fill (c: RawClient): Promise<void> {
  for (const db of DBS) {
    expect(text(await c.command('SELECT', String(db)))).toBe('+OK\r\n')
    if (db === 9) {
      // One MSETNX across every shard: it runs as a transaction on the client's thread, which
      // makes this database (and grows its index) on each shard's lent memory.
      const pairs = Array.from({ length: 300 }, (_, j) => [`txn:${j}`, `t${j}`]).flat()
      expect(text(await c.command('MSETNX', ...pairs))).toBe(':1\r\n')
      continue
    }
    const cmds: string[][] = []
    for (let s = 0; s < SHARDS; s++) {
      const k = keysOnShard(s, SHARDS, 40, `d${db}s${s}:`)
      for (let i = 0; i < 10; i++) cmds.push(['SET', k[i], `value-${db}-${s}-${i}`.repeat(1 + (i % 3) * 20)])
      cmds.push(['SET', k[10], '12345'])
      cmds.push(['SET', k[11], 'with-ttl', 'EX', '5000'])
      cmds.push(['RPUSH', k[12], 'a', 'b', 'c', 'd'])
      cmds.push(['RPUSH', k[13], ...Array.from({ length: 300 }, (_, j) => `element-${j}`)])
      cmds.push(['HSET', k[14], 'f1', 'v1', 'f2', 'v2'])
      cmds.push(['HSET', k[15], ...Array.from({ length: 300 }, (_, j) => [`field${j}`, `v${j}`]).flat()])
      cmds.push(['SADD', k[16], '1', '2', '3'])
      cmds.push(['SADD', k[17], ...Array.from({ length: 200 }, (_, j) => `m${j}`)])
      cmds.push(['ZADD', k[18], '1', 'one', '2', 'two'])
      cmds.push(['ZADD', k[19], ...Array.from({ length: 200 }, (_, j) => [String(j / 3), `z${j}`]).flat()])
      cmds.push(['XADD', k[20], '1-1', 'f', 'v'])
      cmds.push(['XADD', k[20], '2-1', 'g', 'w'])
      cmds.push(['XGROUP', 'CREATE', k[20], 'grp', '0'])
      cmds.push(['XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', '1', 'STREAMS', k[20], '>'])
      cmds.push(['HSET', k[21], 'h', 'x'])
      cmds.push(['PEXPIRE', k[21], '9000000'])
      cmds.push(['PFADD', k[22], 'a', 'b', 'c'])
      // Deleted again: their blocks go on the arena's free lists.
      for (let i = 23; i < 40; i++) cmds.push(['SET', k[i], 'x'.repeat(100 + i)])
      cmds.push(['DEL', ...k.slice(23, 40)])
    }
    c.send(Buffer.concat(cmds.map(a => encodeCommand(a))))
    const replies = (await c.readReplies(cmds.length, 20_000)).map(text)
    replies.forEach((r, i) => expect(r.startsWith('-'), `${cmds[i].join(' ').slice(0, 60)} → ${r}`).toBe(false))
  }
  expect(text(await c.command('SELECT', '0'))).toBe('+OK\r\n')
}

/** Every key of the databases: its DUMP, and whether it has a TTL; and each database's size. */
async function snapshot (c: RawClient): Promise<Map<string, string>> {
  const snap = new Map<string, string>()
  for (const db of DBS) {
    expect(text(await c.command('SELECT', String(db)))).toBe('+OK\r\n')
    const keys = new Set<string>()
    let cursor = '0'
    do {
      const [next, found] = parseScan(await c.command('SCAN', cursor, 'COUNT', '100'))
      for (const k of found) keys.add(k)
      cursor = next
    } while (cursor !== '0')
    snap.set(`${db} dbsize`, text(await c.command('DBSIZE')))
    snap.set(`${db} scan`, String(keys.size))
    for (const k of [...keys].sort()) {
      const ttl = text(await c.command('PTTL', k))
      snap.set(`${db} ${k}`, `${text(await c.command('DUMP', k))} ttl:${ttl === ':-1\r\n' ? 'none' : ttl.startsWith(':') && Number(ttl.slice(1)) > 0 ? 'some' : ttl}`)
    }
  }
  const info = text(await c.command('INFO', 'keyspace')).replace(/,avg_ttl=\d+/g, '')
  snap.set('info keyspace', info)
  expect(text(await c.command('SELECT', '0'))).toBe('+OK\r\n')
  return snap
}

/**
 * DEBUG CRASH-SHARD `shard`, then polls GET `key` (a key of that shard) until the server has
 * logged the replacement and the key is served again. Every reply meanwhile is the key's value
 * or exactly CLUSTERDOWN (whether a CLUSTERDOWN is seen at all depends on timing).
 */
async function crashAndAwait (server: ServerHandle, c: RawClient, shard: number, key: string, expected: string): Promise<void> {
  const generation = (crashes.get(shard) ?? 0) + 1
  crashes.set(shard, generation)
  expect(text(await c.command('DEBUG', 'CRASH-SHARD', String(shard)))).toBe('+OK\r\n')
  const replaced = `"shard":${shard},"generation":${generation},`
  let last = ''
  const ok = await pollUntil(async () => {
    last = text(await c.command('GET', key))
    if (last !== expected) expect(last, 'a reply while the shard is down').toBe(CLUSTERDOWN)
    return last === expected && server.logs().includes(replaced)
  })
  expect(ok, `shard ${shard} replaced (${server.logs().includes(replaced)}), last reply ${JSON.stringify(last)}`).toBe(true)
}
const crashes = new Map<number, number>()

/** used_memory less the clients' buffers (which it counts too: a big pipeline grows them). */
function usedMemory (info: string): number {
  const m = /^used_memory:(\d+)\r$/m.exec(info)
  const c = /^mem_clients_normal:(\d+)\r$/m.exec(info)
  if (m === null || c === null) throw new Error('no used_memory in INFO')
  return Number(m[1]) - Number(c[1])
}

describeLocal('a shard worker killed with DEBUG CRASH-SHARD is replaced, with its data', () => {
  let server: ServerHandle
  let httpPort = 0
  let c: RawClient

  beforeAll(async () => {
    httpPort = await freePort()
    server = await startFlashKV({
      shards: SHARDS,
      extraArgs: ['--enable-debug-command', 'yes', '--http-port', String(httpPort)],
      env: { FLASHKV_ARENA_MAX_BYTES: String(4 << 20) },
    })
    c = await RawClient.connect(server.port, server.host)
  })
  afterAll(async () => {
    c?.close()
    await server?.stop()
  })

  it('keeps every key of every type and database, then serves reads and writes', async () => {
    // The probe first: the last writes on shard 2 before the crash are then the transaction's (db 9).
    const probe = keysOnShard(2, SHARDS, 1, 'probe:')[0]
    expect(text(await c.command('SET', probe, 'here'))).toBe('+OK\r\n')
    await fill(c)
    const before = await snapshot(c)
    expect(before.get('0 dbsize')).not.toBe(':0\r\n')
    expect(await httpStatus(httpPort, '/readyz')).toBe(200)

    await crashAndAwait(server, c, 2, probe, '$4\r\nhere\r\n')
    expect(await pollUntil(async () => await httpStatus(httpPort, '/readyz') === 200)).toBe(true)

    const after = await snapshot(c)
    expect([...after.entries()]).toEqual([...before.entries()])

    // New writes go to the same arenas: they must not land on the old keys' blocks.
    const fresh = keysOnShard(2, SHARDS, 300, 'fresh:')
    c.send(Buffer.concat(fresh.map((k, i) => encodeCommand(['SET', k, `new-${i}`.repeat(1 + (i % 5) * 10)]))))
    for (const r of await c.readReplies(fresh.length, 20_000)) expect(text(r)).toBe('+OK\r\n')
    expect(text(await c.command('RPUSH', keysOnShard(2, SHARDS, 13, 'd0s2:')[12], 'e'))).toBe(':5\r\n')
    expect(text(await c.command('GET', fresh[7]))).toBe(`$${'new-7'.length * 21}\r\n${'new-7'.repeat(21)}\r\n`)
    expect(text(await c.command('DEL', ...fresh))).toBe(`:${fresh.length}\r\n`)
    expect(text(await c.command('RPOP', keysOnShard(2, SHARDS, 13, 'd0s2:')[12]))).toBe('$1\r\ne\r\n')
    expect([...(await snapshot(c)).entries()]).toEqual([...before.entries()])
  }, 120_000)

  it('keeps the arena\'s free lists: what was freed before the crash is reused after it', async () => {
    // Fill shard 2's arena (4 MiB, FLASHKV_ARENA_MAX_BYTES) until a write fails, then free it
    // all: the room is on the free lists only. The same writes after the restart fit again only
    // if the replacement has those lists.
    const keys = keysOnShard(2, SHARDS, 2000, 'cycle:')
    const value = 'y'.repeat(4000)
    const writeAll = async (list: string[]): Promise<string[]> => {
      c.send(Buffer.concat(list.map(k => encodeCommand(['SET', k, value]))))
      return (await c.readReplies(list.length, 30_000)).map(text)
    }
    const first = await writeAll(keys)
    const fitted = first.filter(r => r === '+OK\r\n').length
    expect(first[fitted], 'the arena filled up').toMatch(/^-OOM /)
    expect(fitted).toBeGreaterThan(500)
    const stored = keys.slice(0, fitted)
    expect(text(await c.command('DEL', ...stored))).toBe(`:${fitted}\r\n`)
    const base = usedMemory(text(await c.command('INFO', 'memory')))

    await crashAndAwait(server, c, 2, keys[0], '$-1\r\n')
    for (let round = 0; round < 3; round++) {
      const again = await writeAll(stored)
      expect(again.filter(r => r !== '+OK\r\n'), `round ${round}: writes that no longer fit`).toEqual([])
      expect(text(await c.command('DEL', ...stored))).toBe(`:${fitted}\r\n`)
      expect(usedMemory(text(await c.command('INFO', 'memory')))).toBeLessThanOrEqual(base + 4096)
    }
  }, 120_000)

  it('answers a client blocked on the dead shard, then blocks and serves again', async () => {
    const list = keysOnShard(2, SHARDS, 1, 'blocked:')[0]
    const b = await RawClient.connect(server.port, server.host)
    b.send(encodeCommand(['BLPOP', list, '0']))
    expect(await pollUntil(async () => /blocked_clients:1\r/.test(text(await c.command('INFO', 'clients'))))).toBe(true)
    const answered = b.readReplies(1, 20_000)
    await crashAndAwait(server, c, 2, list, '$-1\r\n')
    expect(text((await answered)[0])).toBe(CLUSTERDOWN)
    b.send(encodeCommand(['BLPOP', list, '0']))
    expect(await pollUntil(async () => /blocked_clients:1\r/.test(text(await c.command('INFO', 'clients'))))).toBe(true)
    expect(text(await c.command('RPUSH', list, 'hello'))).toBe(':1\r\n')
    expect(text((await b.readReplies(1, 20_000))[0])).toBe(`*2\r\n$${list.length}\r\n${list}\r\n$5\r\nhello\r\n`)
    b.close()
  }, 60_000)

  it('fails the EXEC of a WATCH on the dead shard, as if its key was touched; a WATCH elsewhere holds', async () => {
    const [mine] = keysOnShard(2, SHARDS, 1, 'watched:')
    const [other] = keysOnShard(1, SHARDS, 1, 'watched:')
    const w1 = await RawClient.connect(server.port, server.host)
    const w2 = await RawClient.connect(server.port, server.host)
    expect(text(await w1.command('WATCH', mine))).toBe('+OK\r\n')
    expect(text(await w2.command('WATCH', other))).toBe('+OK\r\n')
    await crashAndAwait(server, c, 2, mine, '$-1\r\n')
    for (const w of [w1, w2]) {
      expect(text(await w.command('MULTI'))).toBe('+OK\r\n')
      expect(text(await w.command('SET', w === w1 ? mine : other, 'v'))).toBe('+QUEUED\r\n')
    }
    expect(text(await w1.command('EXEC'))).toBe('*-1\r\n')
    expect(text(await w2.command('EXEC'))).toBe('*1\r\n+OK\r\n')
    expect(text(await c.command('EXISTS', mine))).toBe(':0\r\n')
    // A new session on the replaced shard works as usual.
    expect(text(await w1.command('WATCH', mine))).toBe('+OK\r\n')
    expect(text(await w1.command('MULTI'))).toBe('+OK\r\n')
    expect(text(await w1.command('SET', mine, 'v'))).toBe('+QUEUED\r\n')
    expect(text(await w1.command('EXEC'))).toBe('*1\r\n+OK\r\n')
    w1.close()
    w2.close()
  }, 60_000)

  it('gives a pipelining client only valid replies or CLUSTERDOWN, in order, across the crash', async () => {
    const keys = [0, 1, 2, 3].flatMap(s => keysOnShard(s, SHARDS, 25, `load${s}:`))
    const value = (k: string): string => `v:${k}`
    const pair = [keysOnShard(1, SHARDS, 1, 'pair:')[0], keysOnShard(2, SHARDS, 1, 'pair:')[0]]
    expect(text(await c.command('MSET', pair[0], 'r0', pair[1], 'r0'))).toBe('+OK\r\n')
    c.send(Buffer.concat(keys.map(k => encodeCommand(['SET', k, value(k)]))))
    await c.readReplies(keys.length, 20_000)
    const l = await RawClient.connect(server.port, server.host)
    let isDone = false
    let bad: string | null = null
    let downs = 0
    let rounds = 0
    const load = (async () => {
      while (!isDone && bad === null) {
        const cmds: string[][] = []
        const wants: Array<string | RegExp> = []
        const tag = `r${rounds}`
        for (const k of keys) {
          cmds.push(['GET', k]); wants.push(`$${value(k).length}\r\n${value(k)}\r\n`)
          cmds.push(['SET', k, value(k)]); wants.push('+OK\r\n')
        }
        // Across the dead shard and a live one: all of it or none of it, never half.
        cmds.push(['MSET', pair[0], tag, pair[1], tag]); wants.push('+OK\r\n')
        cmds.push(['MGET', pair[0], pair[1]]); wants.push(/^\*2\r\n\$(\d+)\r\n(r\d+)\r\n\$\1\r\n\2\r\n$/)
        l.send(Buffer.concat(cmds.map(a => encodeCommand(a))))
        const replies = (await l.readReplies(cmds.length, 30_000)).map(text)
        replies.forEach((r, i) => {
          const want = wants[i]
          if (r === CLUSTERDOWN) downs++
          else if ((typeof want === 'string' ? r !== want : !want.test(r)) && bad === null) bad = `${cmds[i].join(' ')} → ${JSON.stringify(r)}`
        })
        rounds++
      }
    })()
    await pollUntil(async () => rounds > 0)
    await crashAndAwait(server, c, 2, keys[50], `$${value(keys[50]).length}\r\n${value(keys[50])}\r\n`)
    const at = rounds
    await pollUntil(async () => rounds > at + 1)
    isDone = true
    await load
    expect(bad).toBe(null)
    // It ran before, during and after the crash (CLUSTERDOWN replies are allowed, not required:
    // the window may fall between two of its rounds).
    expect(rounds).toBeGreaterThan(at + 1)
    expect(downs).toBeGreaterThanOrEqual(0)
    l.close()
  }, 120_000)

  it('replaces the hub (shard 0): its subscribers keep their subscriptions, new ones work, functions survive', async () => {
    const s1 = await RawClient.connect(server.port, server.host)
    expect(text(await s1.command('SUBSCRIBE', 'before'))).toBe('*3\r\n$9\r\nsubscribe\r\n$6\r\nbefore\r\n:1\r\n')
    expect(text(await c.command('FUNCTION', 'LOAD', "#!lua name=restartlib\nredis.register_function('answer', function() return 42 end)"))).toBe('$10\r\nrestartlib\r\n')
    const [probe] = keysOnShard(0, SHARDS, 1, 'hubprobe:')
    expect(text(await c.command('SET', probe, 'p'))).toBe('+OK\r\n')
    // Events before the crash: the hub's ticket count moves on, and the new hub must go on from it.
    expect(text(await c.command('CONFIG', 'SET', 'notify-keyspace-events', 'E$'))).toBe('+OK\r\n')
    for (const k of [1, 2, 3].map(sh => keysOnShard(sh, SHARDS, 1, 'pre:')[0])) expect(text(await c.command('SET', k, 'e'))).toBe('+OK\r\n')
    await crashAndAwait(server, c, 0, probe, '$1\r\np\r\n')
    expect(await pollUntil(async () => text(await c.command('PUBLISH', 'before', 'm1')) === ':1\r\n')).toBe(true)
    expect(text((await s1.readReplies(1, 20_000))[0])).toBe('*3\r\n$7\r\nmessage\r\n$6\r\nbefore\r\n$2\r\nm1\r\n')
    const s2 = await RawClient.connect(server.port, server.host)
    expect(text(await s2.command('SUBSCRIBE', 'after'))).toBe('*3\r\n$9\r\nsubscribe\r\n$5\r\nafter\r\n:1\r\n')
    expect(text(await c.command('PUBLISH', 'after', 'm2'))).toBe(':1\r\n')
    expect(text((await s2.readReplies(1, 20_000))[0])).toBe('*3\r\n$7\r\nmessage\r\n$5\r\nafter\r\n$2\r\nm2\r\n')
    expect(text(await c.command('FCALL', 'answer', '0'))).toBe(':42\r\n')
    expect(text(await c.command('FUNCTION', 'DELETE', 'restartlib'))).toBe('+OK\r\n')

    // Keyspace events of the other shards reach the new hub, in order.
    expect(text(await s2.command('SUBSCRIBE', '__keyevent@0__:set'))).toBe('*3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:set\r\n:2\r\n')
    const evKeys = [1, 2, 3, 2].map((sh, j) => keysOnShard(sh, SHARDS, j + 1, 'ev:')[j])
    for (const k of evKeys) expect(text(await c.command('SET', k, 'e'))).toBe('+OK\r\n')
    const events = (await s2.readReplies(evKeys.length, 20_000)).map(text)
    expect(events).toEqual(evKeys.map(k => `*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$${k.length}\r\n${k}\r\n`))
    expect(text(await c.command('CONFIG', 'SET', 'notify-keyspace-events', ''))).toBe('+OK\r\n')
    s1.close()
    s2.close()
  }, 60_000)

  it("a replaced worker lost the script bodies its producers gave it: the next EVALSHA there runs held, the one after in the worker again", async () => {
    const key = keysOnShard(3, SHARDS, 1, 'scripted:')[0]
    const sha = text(await c.command('SCRIPT', 'LOAD', 'return redis.call("incr", KEYS[1])')).split('\r\n')[1]
    expect(text(await c.command('EVALSHA', sha, '1', key))).toBe(':1\r\n')
    await crashAndAwait(server, c, 3, key, '$1\r\n1\r\n')
    const before = await infoNumber(c, 'shards', 'scripts_in_shard')
    expect(text(await c.command('EVALSHA', sha, '1', key))).toBe(':2\r\n')
    expect(text(await c.command('EVALSHA', sha, '1', key))).toBe(':3\r\n')
    expect(await infoNumber(c, 'shards', 'scripts_in_shard') - before).toBe(1)
  })

  it('takes over an arena that, under maxmemory, slid and moved to a smaller buffer once most of its keys went', async () => {
    const mem = async (field: string): Promise<number> => await infoNumber(c, 'memory', field)
    // What a slide leaves resident above the arenas' tops (allocator_resident less allocator_active) comes back once they move.
    const isSettled = async (): Promise<boolean> => await mem('allocator_resident') - await mem('allocator_active') < (1 << 20)
    expect(text(await c.command('CONFIG', 'SET', 'maxmemory', '64mb'))).toBe('+OK\r\n')
    expect(await pollUntil(isSettled)).toBe(true)
    expect(text(await c.command('SELECT', '3'))).toBe('+OK\r\n')
    // About 3 MB on shard 1 (its arenas hold 4 MiB at most here), every type among it.
    const all = keysOnShard(1, SHARDS, 3004, 'shrink:')
    const keys = all.slice(0, 3000)
    const [l, h, z, x] = all.slice(3000)
    const value = (i: number): string => `${i}:${'s'.repeat(1000)}`
    c.send(Buffer.concat([
      ...keys.map((k, i) => encodeCommand(['SET', k, value(i)])),
      encodeCommand(['RPUSH', l, ...Array.from({ length: 50 }, (_, j) => `e${j}`)]),
      encodeCommand(['HSET', h, ...Array.from({ length: 200 }, (_, j) => [`f${j}`, 'h'.repeat(80)]).flat()]),
      encodeCommand(['ZADD', z, ...Array.from({ length: 200 }, (_, j) => [String(j), `m${j}`]).flat()]),
      encodeCommand(['XADD', x, '1-1', 'f', 'v']),
    ]))
    for (const r of await c.readReplies(keys.length + 4, 20_000)) expect(text(r).startsWith('-'), text(r)).toBe(false)
    const full = await mem('allocator_resident')
    // All but one in 20 go: the arena slides down, then moves to a buffer of what is left.
    const gone = keys.filter((_, i) => i % 20 !== 0)
    expect(text(await c.command('DEL', ...gone))).toBe(`:${gone.length}\r\n`)
    expect(await pollUntil(async () => await mem('allocator_active') < full - (2 << 20) && await isSettled())).toBe(true)

    await crashAndAwait(server, c, 1, keys[20], `$${value(20).length}\r\n${value(20)}\r\n`)
    for (let i = 0; i < keys.length; i += 20 * 7) expect(text(await c.command('GET', keys[i]))).toBe(`$${value(i).length}\r\n${value(i)}\r\n`)
    expect(text(await c.command('LINDEX', l, '-1'))).toBe('$3\r\ne49\r\n')
    expect(text(await c.command('HLEN', h))).toBe(':200\r\n')
    expect(text(await c.command('ZSCORE', z, 'm199'))).toBe('$3\r\n199\r\n')
    expect(text(await c.command('XLEN', x))).toBe(':1\r\n')
    expect(text(await c.command('DBSIZE'))).toBe(`:${keys.length - gone.length + 4}\r\n`)
    // The new thread writes on in the smaller buffer: it grows again.
    c.send(Buffer.concat(gone.map(k => encodeCommand(['SET', k, 'again']))))
    for (const r of await c.readReplies(gone.length, 20_000)) expect(text(r)).toBe('+OK\r\n')
    expect(text(await c.command('GET', gone[gone.length - 1]))).toBe('$5\r\nagain\r\n')
    expect(text(await c.command('FLUSHDB'))).toBe('+OK\r\n')
    expect(text(await c.command('SELECT', '0'))).toBe('+OK\r\n')
    expect(text(await c.command('CONFIG', 'SET', 'maxmemory', '0'))).toBe('+OK\r\n')
  }, 120_000)

  it('checks its arguments as Redis checks DEBUG subcommands', async () => {
    expect(text(await c.command('DEBUG', 'CRASH-SHARD', 'x'))).toBe('-ERR value is not an integer or out of range\r\n')
    expect(text(await c.command('DEBUG', 'CRASH-SHARD', String(SHARDS)))).toBe('-ERR shard index out of range\r\n')
    expect(text(await c.command('DEBUG', 'CRASH-SHARD', '-1'))).toBe('-ERR shard index out of range\r\n')
    expect(text(await c.command('DEBUG', 'crash-shard'))).toBe("-ERR unknown subcommand or wrong number of arguments for 'crash-shard'. Try DEBUG HELP.\r\n")
    expect(text(await c.command('PING'))).toBe('+PONG\r\n')
  })
})

describeLocal('DEBUG CRASH-SHARD without enable-debug-command', () => {
  let server: ServerHandle
  let redis: ServerHandle
  beforeAll(async () => { [server, redis] = await Promise.all([startFlashKV({ shards: 2 }), startRedis()]) })
  afterAll(async () => { await Promise.all([server?.stop(), redis?.stop()]) })

  it('is refused with Redis\'s DEBUG-disabled error, and no shard goes down', async () => {
    const c = await RawClient.connect(server.port, server.host)
    const r = await RawClient.connect(redis.port, redis.host)
    // Redis 7.0 refuses DEBUG before looking at the subcommand, with enable-debug-command no.
    const refused = text(await r.command('DEBUG', 'CRASH-SHARD', '1'))
    r.close()
    expect(text(await c.command('DEBUG', 'CRASH-SHARD', '1'))).toBe(refused)
    expect(refused).toBe('-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n')
    const [k] = keysOnShard(1, 2, 1, 'still:')
    expect(text(await c.command('SET', k, 'up'))).toBe('+OK\r\n')
    await sleep(300)
    expect(text(await c.command('GET', k))).toBe('$2\r\nup\r\n')
    expect(server.logs()).not.toMatch(/shard worker exited/)
    c.close()
  })
})
