// redis-benchmark (the tool users measure us with) must run clean against every shard count:
// ping, set, get and mset, unpipelined and at -P 16, with no error replies and every request
// answered. Small -n keeps it a correctness check; speed lives in bench/.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

const run = promisify(execFile)

describe.each([1, 2, 4])('redis-benchmark against --shards %i', (shards) => {
  let server: ServerHandle
  beforeAll(async () => { server = await startFlashKV({ shards }) })
  afterAll(async () => { await server?.stop() })

  it.each([1, 16])('ping, set, get, mset with -P %i finish without errors', async (pipeline) => {
    const { stdout, stderr } = await run('redis-benchmark', ['-h', server.host, '-p', String(server.port), '-t', 'ping,set,get,mset',
      '-n', '5000', '-c', '50', '-P', String(pipeline), '-r', '1000', '--csv'], { timeout: 60_000 })
    // redis-benchmark 7.0 reports error replies ("Error from server") on its own; there must be none.
    expect(stdout).not.toMatch(/error/i)
    expect(stderr).not.toMatch(/error/i)
    const rows = stdout.trim().split('\n').slice(1).map(l => l.split(',')[0].replace(/"/g, ''))
    expect(rows).toEqual(['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'MSET (10 keys)'])
    for (const line of stdout.trim().split('\n').slice(1)) expect(Number(line.split(',')[1].replace(/"/g, ''))).toBeGreaterThan(0)
  })
})
