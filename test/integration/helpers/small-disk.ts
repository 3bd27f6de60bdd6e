// Full-disk tests (rdb-disk-errors, aof-disk-errors): each server gets its own 1 MiB tmpfs, and
// everything a file made (mounts, servers, clients) is undone in its afterAll.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll } from 'vitest'
import type { ServerHandle } from './server.js'

export interface SmallDisks {
  /** false where this process may not mount (not root, no CAP_SYS_ADMIN): the tests skip. */
  canMount: boolean
  /** A new 1 MiB tmpfs, or null where mounting fails. */
  smallDisk: () => string | null
  /** An ioredis client of `s` that never retries; `s` is stopped after the file. */
  client: (s: ServerHandle) => Promise<Redis>
  /** The servers given to `client`, in order (their logs). */
  servers: ServerHandle[]
}

export function useSmallDisks (): SmallDisks {
  const mounts: string[] = []
  const servers: ServerHandle[] = []
  const clients: Redis[] = []
  const smallDisk = (): string | null => {
    const d = mkdtempSync(join(tmpdir(), 'flashkv-disk-'))
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d], { stdio: 'ignore' })
    } catch {
      rmSync(d, { recursive: true, force: true })
      return null
    }
    mounts.push(d)
    return d
  }
  const canMount = ((): boolean => {
    const d = smallDisk()
    if (d === null) return false
    execFileSync('umount', [d])
    mounts.pop()
    rmSync(d, { recursive: true, force: true })
    return true
  })()
  afterAll(async () => {
    for (const c of clients) c.disconnect()
    await Promise.all(servers.map(async s => await s.stop()))
    for (const d of mounts) {
      try { execFileSync('umount', [d], { stdio: 'ignore' }) } catch {}
      rmSync(d, { recursive: true, force: true })
    }
  })
  const client = async (s: ServerHandle): Promise<Redis> => {
    servers.push(s)
    const c = new Redis({ port: s.port, host: s.host, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    clients.push(c)
    await c.connect()
    return c
  }
  return { canMount, smallDisk, client, servers }
}

/** What a client sees: the reply, or the error's text. */
export async function outcome (p: Promise<unknown>): Promise<unknown> {
  try { return await p } catch (err) { return `error: ${(err as Error).message}` }
}
