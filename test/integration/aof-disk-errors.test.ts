// AOF write errors on a full disk (a 1 MiB tmpfs each, as rdb-disk-errors.test.ts): with
// appendfsync everysec the write that did not fit is still answered, then writes and PING get
// "-MISCONF Errors writing to the AOF file: <strerror>" and INFO shows aof_last_write_status:err
// until the disk has room again ("AOF write error looks solved"); the short write is cut off, so
// the file stays whole and loads with every acknowledged write. Checked against redis-server 7.0.15.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomFillSync } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { startRedis } from './helpers/redis.js'
import { startFlashKV } from './helpers/server.js'
import { useSmallDisks, outcome } from './helpers/small-disk.js'
import { persistence } from './helpers/persistence.js'
import { keysOnShard } from './helpers/slots.js'

const { canMount, smallDisk, client } = useSmallDisks()

const MISCONF = 'error: MISCONF Errors writing to the AOF file: No space left on device'
/** 400 KB that do not compress: two fill the disk with the filler beside them. */
const big = randomFillSync(Buffer.alloc(300_000)).toString('base64')

/** Polls INFO until the AOF write status is `want` (the server retries the write on its own). */
async function writeStatus (c: Redis, want: string): Promise<string> {
  for (;;) {
    const s = (await persistence(c)).aof_last_write_status
    if (s === want) return s
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** The same story on a server whose dir is `dir` (a filler file there); what the client saw. */
async function story (c: Redis, dir: string): Promise<unknown[]> {
  const seen: unknown[] = []
  seen.push(await c.set('big1', big), await c.set('big2', big))
  seen.push(await outcome(c.set('a', '1')), await outcome(c.ping()), await outcome(c.incr('n')))
  seen.push((await c.strlen('big2')), (await persistence(c)).aof_last_write_status, (await persistence(c)).aof_enabled)
  // CONFIG SET is not a write: it answers.
  seen.push(await c.config('SET', 'appendfsync', 'no'))
  seen.push(await outcome(c.set('a', '1')))
  rmSync(join(dir, 'filler'))
  seen.push(await writeStatus(c, 'ok'))
  seen.push(await c.set('a', '2'), await c.ping())
  return seen
}

/**
 * The reference Redis's account of `tale`, on a fresh small disk with a filler of `filler` bytes.
 * With appendfsync everysec Redis postpones an AOF write while its background fsync still runs
 * (up to 2 s, flushAppendOnlyFile), and on a loaded box it sometimes does so here: its write
 * error then comes a command later than in `usual`, its account otherwise, which FlashKV must
 * give. Such a run is taken again, on a fresh disk, up to three times.
 */
async function redisTale (filler: number, tale: (c: Redis, dir: string) => Promise<unknown[]>, usual: unknown[]): Promise<unknown[]> {
  let seen: unknown[] = []
  for (let i = 0; i < 3; i++) {
    const dir = smallDisk() as string
    writeFileSync(join(dir, 'filler'), Buffer.alloc(filler, 1))
    seen = await tale(await client(await startRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir])), dir)
    if (isDeepStrictEqual(seen, usual)) break
  }
  return seen
}

describe('AOF write errors', () => {
  it.skipIf(!canMount)('a full disk: the write that failed is answered, then writes and PING get MISCONF until it has room; the file loads whole', async () => {
    const fdir = smallDisk() as string
    writeFileSync(join(fdir, 'filler'), Buffer.alloc(500_000, 1))
    const fh = await startFlashKV({ shards: 2, extraArgs: ['--dir', fdir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'] })
    const f = await client(fh)
    const usual = ['OK', 'OK', MISCONF, MISCONF, MISCONF, big.length, 'err', '1', 'OK', MISCONF, 'ok', 'OK', 'PONG']
    const [fs, rs] = [await story(f, fdir), await redisTale(500_000, story, usual)]
    expect(fs).toEqual(rs)
    expect(fs).toEqual(usual)
    // A worker thread's stderr reaches the process's a moment later.
    while (!fh.logs().includes('AOF write error looks solved, Redis can write again.')) await new Promise(resolve => setTimeout(resolve, 20))
    expect(fh.logs()).toMatch(/Short write while writing to the AOF file|Error writing to the AOF file: No space left on device/)
    // Every acknowledged write is in the file, whole: redis-check-aof accepts it, and both load it.
    expect(execFileSync('redis-check-aof', [join(fdir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toMatch(/is valid/)
    await fh.stop()
    for (const start of [async () => await startFlashKV({ shards: 3, extraArgs: ['--dir', fdir, '--save', '', '--appendonly', 'yes'] }), async () => await startRedis(['--save', '', '--appendonly', 'yes', '--dir', fdir])]) {
      const again = await client(await start())
      expect(await again.strlen('big1')).toBe(big.length)
      expect(await again.strlen('big2')).toBe(big.length)
      expect(await again.get('a')).toBe('2')
      expect(await again.exists('n')).toBe(0)
    }
  })

  it.skipIf(!canMount)('a cross-shard transaction and a script that hit the full disk are kept and written once it has room: no hole, in order', async () => {
    // Keys on four different shards (at 4 shards), so EXEC and EVAL run as cross-shard transactions.
    const [k0, k1, k2, k3] = [0, 1, 2, 3].map(s => keysOnShard(s, 4, 1, 'x:')[0])
    const mid = randomFillSync(Buffer.alloc(150_000)).toString('base64')
    const script = "redis.call('set', KEYS[1], ARGV[1]); redis.call('incr', KEYS[2]); return redis.call('rpush', KEYS[3], 'a', 'b')"
    const tale = async (c: Redis, dir: string): Promise<unknown[]> => {
      const seen: unknown[] = []
      seen.push(await c.set(k0, mid))
      // The block does not fit: EXEC is answered (everysec), then writes get MISCONF.
      seen.push(await c.multi().set(k1, mid).incr(k2).rpush(k3, 'x').set(k0, 'after').exec())
      seen.push(await outcome(c.set('a', '1')), (await persistence(c)).aof_last_write_status)
      rmSync(join(dir, 'filler'))
      seen.push(await writeStatus(c, 'ok'))
      seen.push(await c.incr(k2))
      // Full again: the script's block does not fit either.
      writeFileSync(join(dir, 'filler2'), Buffer.alloc(Math.max(0, Number(execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' }).split('\n')[1]) - 100_000), 1))
      seen.push(await c.eval(script, 3, k1, k2, k3, mid + 'z'))
      seen.push(await outcome(c.set('a', '2')), (await persistence(c)).aof_last_write_status)
      rmSync(join(dir, 'filler2'))
      seen.push(await writeStatus(c, 'ok'))
      seen.push(await c.set('a', '3'))
      return seen
    }
    const fdir = smallDisk() as string
    writeFileSync(join(fdir, 'filler'), Buffer.alloc(700_000, 1))
    const fh = await startFlashKV({ shards: 4, extraArgs: ['--dir', fdir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'] })
    const f = await client(fh)
    const usual = ['OK', [[null, 'OK'], [null, 1], [null, 1], [null, 'OK']], MISCONF, 'err', 'ok', 2, 3, MISCONF, 'err', 'ok', 'OK']
    const [fs, rs] = [await tale(f, fdir), await redisTale(700_000, tale, usual)]
    expect(fs).toEqual(rs)
    expect(fs).toEqual(usual)
    expect(execFileSync('redis-check-aof', [join(fdir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toMatch(/is valid/)
    await fh.stop()
    // Every acknowledged write is in the file, in order: FlashKV (other shard counts) and Redis load the same data.
    const dumps: unknown[] = []
    for (const start of [async () => await startFlashKV({ shards: 3, extraArgs: ['--dir', fdir, '--save', '', '--appendonly', 'yes'] }), async () => await startRedis(['--save', '', '--appendonly', 'yes', '--dir', fdir])]) {
      const again = await client(await start())
      dumps.push([await again.get(k0), (await again.get(k1))?.length, await again.get(k2), await again.lrange(k3, 0, -1), await again.get('a')])
    }
    expect(dumps[0]).toEqual(['after', mid.length + 1, '3', ['x', 'a', 'b'], '3'])
    expect(dumps[1]).toEqual(dumps[0])
  })

  it.skipIf(!canMount)('a transaction that holds a shard whose write the full disk refused writes that write first, then its own block', async () => {
    // Pipelined: RENAME is usually taken before SET's write fails, so it runs on a shard holding
    // kept bytes. Whether it is (Redis answers either way too, by when the write fails), the file
    // must hold what was acknowledged, in order, and load so in FlashKV and in Redis.
    const [ka, kb] = [0, 1].map(s => keysOnShard(s, 2, 1, 'p:')[0])
    const dir = smallDisk() as string
    writeFileSync(join(dir, 'filler'), Buffer.alloc(700_000, 1))
    const fh = await startFlashKV({ shards: 2, extraArgs: ['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'] })
    const c = await client(fh)
    const [set, rename] = (await c.pipeline().set(ka, big).rename(ka, kb).exec()) ?? []
    expect(set).toEqual([null, 'OK'])
    expect([await outcome(c.set('a', '1')), (await persistence(c)).aof_last_write_status]).toEqual([MISCONF, 'err'])
    rmSync(join(dir, 'filler'))
    expect(await writeStatus(c, 'ok')).toBe('ok')
    expect(execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toMatch(/is valid/)
    await fh.stop()
    const renamed = rename[1] === 'OK'
    for (const start of [async () => await startFlashKV({ shards: 3, extraArgs: ['--dir', dir, '--save', '', '--appendonly', 'yes'] }), async () => await startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir])]) {
      const again = await client(await start())
      expect([await again.strlen(ka), await again.strlen(kb)]).toEqual(renamed ? [0, big.length] : [big.length, 0])
    }
  })

  it.skipIf(!canMount)('a shard that dies keeping bytes the full disk refused: its replacement gives its share back, so writes are taken again (the bytes are lost)', async () => {
    // FLASHKV_FAULT_SHARD_EXIT: shard 1's thread exits on its 6th command (each replacement too).
    const [k0, k1] = [0, 1].map(s => keysOnShard(s, 2, 1, 'q:')[0])
    const dir = smallDisk() as string
    writeFileSync(join(dir, 'filler'), Buffer.alloc(700_000, 1))
    const fh = await startFlashKV({ shards: 2, env: { FLASHKV_FAULT_SHARD_EXIT: '1:5' }, extraArgs: ['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'] })
    const c = await client(fh)
    expect(await c.set(k1, big)).toBe('OK')
    expect(await outcome(c.set(k0, '1'))).toBe(MISCONF)
    // Reads still reach shard 1 until its thread dies; then a replacement takes it over.
    for (let i = 0; i < 5; i++) await outcome(c.get(k1))
    // INFO answers CLUSTERDOWN while shard 1 has no thread.
    for (;;) {
      const s = await outcome(persistence(c)) as { aof_last_write_status?: string }
      if (s.aof_last_write_status === 'ok') break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    while (!fh.logs().includes('Shard 1 stopped with AOF data it could not write yet: that data is lost.')) await new Promise(resolve => setTimeout(resolve, 20))
    rmSync(join(dir, 'filler'))
    expect(await c.set(k0, '2')).toBe('OK')
    expect(execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' })).toMatch(/is valid/)
    await fh.stop()
    const again = await client(await startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))
    expect([await again.get(k0), await again.exists(k1)]).toEqual(['2', 0])
  })

  it('an everysec fsync that fails denies writes as Redis 7.0 does (aof_bio_fsync_status) until a sync works again', async () => {
    // No real fsync error can be provoked on tmpfs: FLASHKV_FAULT_FSYNC makes the everysec sync
    // fail with EIO while the named file exists. Texts are Redis 7.0's (bio.c, server.c).
    const dir = mkdtempSync(join(tmpdir(), 'flashkv-fsync-'))
    const fault = join(dir, 'fail-fsync')
    const h = await startFlashKV({ shards: 2, env: { FLASHKV_FAULT_FSYNC: fault }, extraArgs: ['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'] })
    const c = await client(h)
    expect(await c.set('a', '1')).toBe('OK')
    writeFileSync(fault, '')
    expect(await writeStatus(c, 'err')).toBe('err')
    const EIO = 'error: MISCONF Errors writing to the AOF file: Input/output error'
    expect([await outcome(c.set('a', '2')), await outcome(c.ping()), await c.get('a')]).toEqual([EIO, EIO, '1'])
    while (!h.logs().includes('Fail to fsync the AOF file: Input/output error')) await new Promise(resolve => setTimeout(resolve, 20))
    rmSync(fault)
    expect(await writeStatus(c, 'ok')).toBe('ok')
    expect([await c.set('a', '3'), await c.ping()]).toEqual(['OK', 'PONG'])
    expect(h.logs().split('Fail to fsync the AOF file').length).toBe(2)
    rmSync(dir, { recursive: true, force: true })
  })

  it('appendfsync always: a sync that fails leaves its write unanswered, and the server exits 1 with Redis 7.0\'s line; every write acknowledged before is in the file', async () => {
    // FLASHKV_FAULT_FSYNC makes the syncs fail while the file exists (no real fsync error on
    // tmpfs). The line is redis-server 7.0.15's (flushAppendOnlyFile). With 2 shards and 4 I/O
    // threads too: the thread that reads the replies syncs before they leave (the reply gate),
    // so the one whose sync failed never leaves, and an I/O thread's exit is the process's.
    for (const [shards, io] of [[1, 1], [2, 1], [2, 4]]) {
      const dir = mkdtempSync(join(tmpdir(), 'flashkv-fsync-always-'))
      const fault = join(dir, 'fail-fsync')
      const h = await startFlashKV({ shards, env: { FLASHKV_FAULT_FSYNC: fault, FLASHKV_IO_THREADS: String(io) }, extraArgs: ['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'] })
      const c = await client(h)
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
      // Pipelined and one at a time: replies deferred behind syncs, in batches of all sizes.
      expect(await Promise.all(keys.map(async (k, i) => await c.set(k, String(i))))).toEqual(keys.map(() => 'OK'))
      for (const k of keys.slice(0, 10)) expect(await c.incr(k)).toBeGreaterThan(0)
      writeFileSync(fault, '')
      // With 2 shards the write after the fault is a transaction across both, whose block one
      // shard writes (an AOF group), or with a SWAPDB the thread that answers EXEC (the engine's
      // hold): either way the block is synced before the reply leaves (the reply gate).
      const [ta, tb] = [keysOnShard(0, shards, 1, 'ta')[0], keysOnShard(shards - 1, shards, 1, 'tb')[0]]
      const txn = io === 1 ? c.multi().set(ta, 'x').set(tb, 'y') : c.multi().set(ta, 'x').set(tb, 'y').swapdb(1, 2)
      const late = shards > 1 ? txn.exec() : c.set('late', 'x')
      expect(await outcome(late)).toBe('error: Connection is closed.')
      expect(await h.stop()).toBe(1)
      expect(h.logs()).toContain("Can't persist AOF for fsync error when the AOF fsync policy is 'always': Input/output error. Exiting...")
      rmSync(fault)
      const again = await client(await startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))
      expect(await again.mget(...keys)).toEqual(keys.map((_, i) => String(i < 10 ? i + 1 : i)))
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it.skipIf(!canMount)('appendfsync always: the write that failed gets no reply and the server exits 1, as Redis does; the file loads with what was acknowledged', async () => {
    const seen: unknown[][] = []
    for (const start of [async (dir: string) => await startFlashKV({ shards: 2, extraArgs: ['--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'] }),
      async (dir: string) => await startRedis(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir])]) {
      const dir = smallDisk() as string
      writeFileSync(join(dir, 'filler'), Buffer.alloc(500_000, 1))
      const h = await start(dir)
      const c = await client(h)
      const mine = [await c.set('big1', big), await outcome(c.set('big2', big))]
      // Exited on its own: stop() finds the code it exited with.
      while (await outcome(c.ping()) === 'PONG') await new Promise(resolve => setTimeout(resolve, 20))
      mine.push(await h.stop(), h.logs().includes("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting..."))
      rmSync(join(dir, 'filler'))
      const again = await client(await startRedis(['--save', '', '--appendonly', 'yes', '--dir', dir]))
      mine.push(await again.strlen('big1'), await again.exists('big2'))
      seen.push(mine)
    }
    expect(seen[0]).toEqual(seen[1])
    expect(seen[0]).toEqual(['OK', 'error: Connection is closed.', 1, true, big.length, 0])
  })
})
