// SCAN's guarantee on a 4-shard server: every key present from the first call to the last is
// returned at least once, while another client keeps inserting (and deleting) keys so that every
// shard's table grows and rehashes in the middle of the iteration. Also checks the cursor's shard
// part (cursor mod 4) only moves forward, and that MATCH/TYPE filtered walks keep the guarantee.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

import { RawClient, encodeCommand, parseScan } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4
let server: ServerHandle
let scanner: RawClient
let writer: RawClient

beforeAll(async () => {
  server = await startFlashKV({ shards: SHARDS })
})

afterAll(async () => {
  scanner?.close()
  writer?.close()
  await server?.stop()
})

beforeEach(async () => {
  scanner?.close()
  writer?.close()
  ;[scanner, writer] = await Promise.all([RawClient.connect(server.port, server.host), RawClient.connect(server.port, server.host)])
  expect((await scanner.command('FLUSHALL')).toString()).toBe('+OK\r\n')
})

async function msetBatches (c: RawClient, keys: string[], batch = 500): Promise<void> {
  const cmds: Buffer[] = []
  for (let i = 0; i < keys.length; i += batch) {
    const args: string[] = ['MSET']
    for (const k of keys.slice(i, i + batch)) args.push(k, 'v')
    cmds.push(encodeCommand(args))
  }
  c.send(Buffer.concat(cmds))
  const replies = await c.readReplies(cmds.length, 30_000)
  for (const r of replies) expect(r.toString()).toBe('+OK\r\n')
}

async function dbsize (c: RawClient): Promise<number> {
  return Number(/^:(\d+)/.exec((await c.command('DBSIZE')).toString())?.[1])
}

/**
 * Inserts `total` new keys in MSET batches (and deletes every third batch's keys again) until
 * done or `stop()` says the scan is over. Returns how many batches it ran.
 */
async function keepInserting (total: number, isDone: () => boolean): Promise<number> {
  let batches = 0
  for (let n = 0; n < total && !isDone(); n += 1000) {
    const keys = Array.from({ length: 1000 }, (_, i) => `new:${n + i}`)
    await msetBatches(writer, keys, 1000)
    if (batches % 3 === 2) {
      const r = await writer.command('DEL', ...keys.slice(0, 300))
      expect(r.toString()).toBe(':300\r\n')
    }
    batches++
  }
  return batches
}

async function scanWhileWriting (opts: string[], originals: string[], writes: number): Promise<{ seen: Set<string>, calls: number, callsDuringWrites: number, batches: number }> {
  const seen = new Set<string>()
  let calls = 0
  let callsDuringWrites = 0
  let isScanDone = false
  let isWriterDone = false
  const writing = keepInserting(writes, () => isScanDone).then((b) => { isWriterDone = true; return b })
  let cursor = '0'
  let lastShard = 0
  do {
    const [next, keys] = parseScan(await scanner.command('SCAN', cursor, ...opts))
    for (const k of keys) seen.add(k)
    // The shard part of the cursor never goes back: shard 0's walk, then shard 1's...
    if (next !== '0') {
      const shard = Number(BigInt(next) % BigInt(SHARDS))
      expect(shard).toBeGreaterThanOrEqual(lastShard)
      lastShard = shard
    }
    cursor = next
    calls++
    if (!isWriterDone) callsDuringWrites++
    expect(calls).toBeLessThan(200_000)
  } while (cursor !== '0')
  isScanDone = true
  const batches = await writing
  expect(originals.length).toBeGreaterThan(0)
  return { seen, calls, callsDuringWrites, batches }
}

describe('SCAN while another client inserts keys (4 shards, tables rehashing)', () => {
  it('returns every key that existed for the whole iteration', async () => {
    const originals = Array.from({ length: 20_000 }, (_, i) => `orig:${i}`)
    await msetBatches(writer, originals)
    // Every shard holds a share of the originals, so every shard's walk is tested.
    const perShard = new Array<number>(SHARDS).fill(0)
    for (const k of originals) perShard[shardOfKey(k, SHARDS)]++
    for (const n of perShard) expect(n).toBeGreaterThan(3000)

    const { seen, calls, callsDuringWrites, batches } = await scanWhileWriting(['COUNT', '20'], originals, 150_000)
    const missing = originals.filter(k => !seen.has(k))
    expect(missing, `${missing.length} originals never returned`).toEqual([])
    // The writes really overlapped the scan, and grew every shard's table at least twice over
    // (a shard's table doubles each time its key count passes the bucket count).
    expect(callsDuringWrites).toBeGreaterThan(50)
    expect(calls - callsDuringWrites).toBeGreaterThan(50)
    expect(batches).toBeGreaterThan(60)
    expect(await dbsize(scanner)).toBeGreaterThan(20_000 + batches * 1000 * 0.6)
  })

  it('with MATCH and TYPE filters, and keys expiring meanwhile', async () => {
    const originals = Array.from({ length: 8000 }, (_, i) => `keep:${i}`)
    await msetBatches(writer, originals)
    const lists = Array.from({ length: 200 }, (_, i) => `keeplist:${i}`)
    writer.send(Buffer.concat(lists.map(k => encodeCommand(['RPUSH', k, 'x']))))
    await writer.readReplies(lists.length)
    writer.send(Buffer.concat(Array.from({ length: 2000 }, (_, i) => encodeCommand(['SET', `keep:tmp:${i}`, 'v', 'PX', '50']))))
    await writer.readReplies(2000)

    const matched = await scanWhileWriting(['MATCH', 'keep:*', 'COUNT', '15'], originals, 60_000)
    expect(originals.filter(k => !matched.seen.has(k))).toEqual([])
    for (const k of matched.seen) expect(k.startsWith('keep:')).toBe(true)

    await new Promise(resolve => setTimeout(resolve, 60))
    const typed = await scanWhileWriting(['TYPE', 'list', 'COUNT', '30'], lists, 60_000)
    expect([...typed.seen].sort()).toEqual([...lists].sort())
  })
})

describe('other shard counts', () => {
  for (const shards of [1, 3]) {
    it(`a full iteration on ${shards} shard(s) returns every key once the cursor is back to 0`, async () => {
      const other = await startFlashKV({ shards })
      const c = await RawClient.connect(other.port, other.host)
      try {
        const keys = Array.from({ length: 3000 }, (_, i) => `s${shards}:${i}`)
        await msetBatches(c, keys)
        const seen = new Set<string>()
        let cursor = '0'
        let calls = 0
        do {
          const [next, page] = parseScan(await c.command('SCAN', cursor, 'COUNT', '100'))
          for (const k of page) seen.add(k)
          cursor = next
          calls++
        } while (cursor !== '0' && calls < 10_000)
        expect(cursor).toBe('0')
        expect(seen.size).toBe(keys.length)
      } finally {
        c.close()
        await other.stop()
      }
    })
  }
})

describe('one call fills its COUNT across shards', () => {
  it('SCAN 0 MATCH p:* COUNT 1000 over keys on every shard answers them all with cursor 0, as Redis does', async () => {
    const keys = ['p:a', 'p:b', 'p:c', 'p:d', 'p:e', 'p:f', 'p:g', 'p:h', 'q:x']
    expect(new Set(keys.map(k => shardOfKey(k, SHARDS))).size, 'keys on several shards').toBeGreaterThan(1)
    await writer.command('MSET', ...keys.flatMap(k => [k, 'v']))
    const [cursor, got] = parseScan(await scanner.command('SCAN', '0', 'MATCH', 'p:*', 'COUNT', '1000'))
    expect(cursor).toBe('0')
    expect([...got].sort()).toEqual(keys.filter(k => k.startsWith('p:')).sort())
    // The default COUNT (10) covers this small database too.
    const [allCursor, all] = parseScan(await scanner.command('SCAN', '0'))
    expect(allCursor).toBe('0')
    expect([...all].sort()).toEqual([...keys].sort())
    // A small COUNT still walks: every key comes back once the cursor is 0 again.
    const seen = new Set<string>()
    let c = '0'
    let calls = 0
    do {
      const [next, page] = parseScan(await scanner.command('SCAN', c, 'COUNT', '2'))
      for (const k of page) seen.add(k)
      c = next
    } while (c !== '0' && ++calls < 100)
    expect([...seen].sort()).toEqual([...keys].sort())
  })
})

describe('a SCAN that continues on the next shard keeps the database it was sent for', () => {
  it('SELECT 1; SCAN 0 COUNT 1000; SELECT 0 pipelined walks database 1 on every shard', async () => {
    const keys = ['d:a', 'd:b', 'd:c', 'd:d', 'd:e', 'd:f']
    expect(new Set(keys.map(k => shardOfKey(k, SHARDS))).size, 'keys on several shards').toBeGreaterThan(2)
    await writer.command('MSET', ...keys.flatMap(k => [k, 'v']))
    await writer.command('SELECT', '1')
    await writer.command('SET', 'd:b', 'one')
    scanner.send(Buffer.concat([encodeCommand(['SELECT', '1']), encodeCommand(['SCAN', '0', 'COUNT', '1000']), encodeCommand(['SELECT', '0']), encodeCommand(['DBSIZE'])]))
    const [sel1, scan, sel0, size] = await scanner.readReplies(4)
    expect(sel1.toString()).toBe('+OK\r\n')
    const [cursor, got] = parseScan(scan)
    expect(cursor).toBe('0')
    expect(got).toEqual(['d:b'])
    expect(sel0.toString()).toBe('+OK\r\n')
    expect(size.toString()).toBe(`:${keys.length}\r\n`)
  })
})

describe('a SCAN walking on to further shards comes before what the client sent after it', () => {
  it('SCAN 0 COUNT 1000 then SET of a key on the last shard, pipelined: the SCAN does not list the new key', async () => {
    const [first] = keysOnShard(0, SHARDS, 1, 'o:')
    const later = keysOnShard(SHARDS - 1, SHARDS, 20, 'n:')
    await writer.command('SET', first, 'v')
    for (let round = 0; round < later.length; round++) {
      scanner.send(Buffer.concat([encodeCommand(['SCAN', '0', 'COUNT', '1000']), encodeCommand(['SET', later[round], 'v']), encodeCommand(['DBSIZE'])]))
      const [scan, set, size] = await scanner.readReplies(3)
      const [cursor, got] = parseScan(scan)
      expect(cursor).toBe('0')
      expect([...got].sort()).toEqual([first, ...later.slice(0, round)].sort())
      expect(set.toString()).toBe('+OK\r\n')
      expect(size.toString()).toBe(`:${round + 2}\r\n`)
    }
  })
})
