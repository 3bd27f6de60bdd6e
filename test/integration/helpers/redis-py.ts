// redis-py (Debian's python3-redis, for /usr/bin/python3: the pyenv python3 on PATH may lack
// it) for the client tests. Each file runs its scripts through py(); the describe block skips,
// saying why, only where /usr/bin/python3 cannot import redis.
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'

import type { ServerHandle } from './server.js'

export const PY = '/usr/bin/python3'
const run = promisify(execFile)
const check = spawnSync(PY, ['-c', 'import redis; print(redis.__version__)'], { encoding: 'utf8' })

export const hasRedisPy = check.status === 0
export const redisPyLabel = hasRedisPy
  ? `redis-py ${check.stdout.trim()} (${PY})`
  : `redis-py (SKIPPED: ${PY} cannot import redis: ${(check.stderr ?? String(check.error)).trim().split('\n').pop() ?? ''})`

/**
 * Runs `body` with `r` = redis.Redis(host, port, decode_responses=True) after `prelude` (more
 * imports, more clients) and parses its stdout as JSON.
 */
export async function py (server: ServerHandle, body: string, prelude: readonly string[] = []): Promise<unknown> {
  const script = [
    'import json, sys',
    'import redis',
    ...prelude,
    'r = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]), decode_responses=True)',
    body,
  ].join('\n')
  const { stdout } = await run(PY, ['-c', script, server.host, String(server.port)], { timeout: 20_000 })
  return JSON.parse(stdout)
}
