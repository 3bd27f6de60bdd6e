// A full disk and a read-only dir, as the issue asks: SAVE, BGSAVE and the writes that follow get
// what redis-server 7.0.15 gives on the same kind of filesystem (a 1 MiB tmpfs each), the old
// dump.rdb is left whole, no temporary file stays behind, and the failure is logged.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { startRedis } from './helpers/redis.js'
import { startFlashKV } from './helpers/server.js'
import { useSmallDisks, outcome } from './helpers/small-disk.js'
import { persistence, bgsaveDone } from './helpers/persistence.js'

const { canMount, smallDisk, client, servers } = useSmallDisks()

const MISCONF = "error: MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

/** Runs the same story on a server whose dir is `dir`; returns what the client saw at each step. */
async function story (c: Redis, dir: string): Promise<unknown[]> {
  const seen: unknown[] = []
  await c.set('small', 'x')
  seen.push(await c.save())
  const before = readFileSync(join(dir, 'dump.rdb'))
  // Random bytes do not compress: 3 × 400 KB is more than the 1 MiB disk holds.
  for (let i = 0; i < 3; i++) await c.set(`big${i}`, Buffer.from(Array.from({ length: 400_000 }, () => Math.floor(Math.random() * 256))))
  seen.push(await outcome(c.save()))
  // A failed SAVE leaves the changes counted, as Redis's dirty stays.
  seen.push(Number((await persistence(c)).rdb_changes_since_last_save) > 0)
  seen.push(await c.bgsave())
  seen.push((await bgsaveDone(c)).rdb_last_bgsave_status)
  // stop-writes-on-bgsave-error applies only with save points.
  seen.push(await outcome(c.set('a', '1')))
  await c.config('SET', 'save', '3600 1')
  seen.push(await outcome(c.set('a', '1')), await c.get('small'))
  seen.push(readFileSync(join(dir, 'dump.rdb')).equals(before), readdirSync(dir).sort())
  // Room again: a SAVE that works clears MISCONF.
  await c.config('SET', 'save', '')
  await c.del('big0', 'big1', 'big2')
  seen.push(await c.save())
  await c.config('SET', 'save', '3600 1')
  seen.push(await outcome(c.set('a', '2')))
  // A read-only filesystem: the same -ERR and the same status.
  execFileSync('mount', ['-o', 'remount,ro', dir])
  seen.push(await outcome(c.save()), await c.bgsave(), (await bgsaveDone(c)).rdb_last_bgsave_status, await outcome(c.set('b', '1')))
  execFileSync('mount', ['-o', 'remount,rw', dir])
  await c.config('SET', 'save', '')
  return seen
}

describe('a full disk and a read-only dir', () => {
  it.skipIf(!canMount)('SAVE and BGSAVE fail as Redis\'s do, writes get MISCONF with save points, the old file stays whole', async () => {
    const fdir = smallDisk() as string
    const rdir = smallDisk() as string
    const f = await client(await startFlashKV({ shards: 2, extraArgs: ['--dir', fdir, '--save', ''] }))
    const r = await client(await startRedis(['--save', '', '--appendonly', 'no', '--dir', rdir]))
    const [fs, rs] = [await story(f, fdir), await story(r, rdir)]
    expect(fs).toEqual(rs)
    expect(fs).toEqual([
      'OK', 'error: ERR', true, 'Background saving started', 'err', 'OK', MISCONF, 'x', true, ['dump.rdb'],
      'OK', 'OK', 'error: ERR', 'Background saving started', 'err', MISCONF,
    ])
    const logs = servers[0].logs()
    expect(logs).toMatch(/Write error saving DB on disk: ENOSPC/)
    expect(logs).toMatch(/Write error saving DB on disk: EROFS/)
    expect(logs).toMatch(/Background saving error/)
  })
})
