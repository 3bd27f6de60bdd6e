// Starts a real redis-server on a free loopback port, as the reference for differential tests.
// No persistence, Redis's default 16 databases. If redis-server is
// missing the caller gets an error (tests fail rather than skip).
import { accessSync, constants } from 'node:fs'
import path from 'node:path'
import { onFreePort, spawnServer, testDir, type ServerHandle } from './server.js'

export const DEFAULT_REDIS_ARGS: readonly string[] = [
  '--save', '', '--appendonly', 'no',
]

function onPath (bin: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue
    try {
      accessSync(path.join(dir, bin), constants.X_OK)
      return true
    } catch {}
  }
  return false
}

export async function startRedis (
  extraArgs: readonly string[] = DEFAULT_REDIS_ARGS,
): Promise<ServerHandle> {
  if (!onPath('redis-server')) {
    throw new Error('redis-server is not on PATH; the differential tests need it: ' +
      'apt-get install -y redis-server redis-tools')
  }
  const host = '127.0.0.1'
  // Unless a test names one, the test process's own empty directory, not the repository: a stray
  // dump.rdb there (a redis-server run by hand) would be loaded at start, its keys in every comparison.
  const dir = extraArgs.includes('--dir') ? [] : ['--dir', testDir()]
  return await onFreePort(host, async (port) => await spawnServer('redis-server', ['--port', String(port), '--bind', host, ...dir, ...extraArgs],
    port, host, 'redis-server'))
}
