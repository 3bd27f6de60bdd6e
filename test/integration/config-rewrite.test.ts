// CONFIG REWRITE beside a real redis-server 7.0.15 started from the same config file: after the
// same CONFIG SETs both rewrite it to the same lines (compared as a set: Redis appends in its
// hash table's order, which changes from run to run), keeping comments, blanking duplicates and
// writing old names under new ones. Also: the error without a config file, and FlashKV's table of
// defaults checked against a server that was given none.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RawClient } from './helpers/raw.js'
import { onFreePort, spawnServer, startFlashKV } from './helpers/server.js'
import { startRedis } from './helpers/redis.js'
import { DEFAULTS } from '../../dist/src/commands/config-rewrite.js'

const dir = mkdtempSync(join(tmpdir(), 'flashkv-rewrite-'))
const ORIGINAL = [
  '# a config file', 'maxmemory 10mb', '', '# the old name of a listpack threshold', 'hash-max-ziplist-entries 100',
  'timeout 5', 'timeout 6', 'save ""', 'notify-keyspace-events ""', 'tcp-keepalive 60',
].join('\n') + '\n'
const SETS: string[][] = [
  ['maxmemory', '20mb'], ['maxclients', '500'], ['timeout', '0'], ['notify-keyspace-events', 'KEA'],
  ['client-output-buffer-limit', 'normal 1mb 0 0'], ['hash-max-listpack-value', '100'], ['maxmemory-policy', 'allkeys-lru'],
  ['slowlog-max-len', '64'], ['lazyfree-lazy-user-del', 'yes'], ['busy-reply-threshold', '3000'], ['save', '100 10'],
]
/** Lines that differ by nature: each server's port, bind and dir are the test's own. */
const own = (l: string): boolean => /^(port|bind|dir) /.test(l)

describe('CONFIG REWRITE', () => {
  it('rewrites the same file to the same lines as Redis', async () => {
    const files = ['flash.conf', 'redis.conf'].map(n => join(dir, n))
    for (const f of files) writeFileSync(f, ORIGINAL)
    const flash = await startFlashKV({ shards: 4, extraArgs: [files[0]] })
    const redis = await onFreePort('127.0.0.1', async port => await spawnServer('redis-server',
      // The helper starts FlashKV with --log-level warn: both rewrite that level.
      [files[1], '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--loglevel', 'warning'], port, '127.0.0.1', 'redis-server'))
    try {
      for (const [server, file] of [[flash, files[0]], [redis, files[1]]] as const) {
        const c = await RawClient.connect(server.port, server.host)
        for (const [k, v] of SETS) expect((await c.command('CONFIG', 'SET', k, v)).toString(), `${k} ${v}`).toBe('+OK\r\n')
        expect((await c.command('CONFIG', 'REWRITE')).toString()).toBe('+OK\r\n')
        c.close()
        expect(readFileSync(file, 'latin1').startsWith('# a config file\nmaxmemory 20mb\n\n# the old name of a listpack threshold\nhash-max-listpack-entries 100\ntimeout 0\n\n'), file).toBe(true)
      }
      const [a, b] = files.map(f => readFileSync(f, 'latin1').split('\n').filter(l => !own(l)).sort())
      expect(a).toEqual(b)
    } finally {
      await flash.stop()
      await redis.stop()
    }
  })

  it('without a config file: Redis\'s error', async () => {
    const [flash, redis] = await Promise.all([startFlashKV({ shards: 2 }), startRedis()])
    try {
      const replies = await Promise.all([flash, redis].map(async s => {
        const c = await RawClient.connect(s.port, s.host)
        const r = (await c.command('CONFIG', 'REWRITE')).toString()
        c.close()
        return r
      }))
      expect(replies[0]).toBe(replies[1])
    } finally {
      await flash.stop()
      await redis.stop()
    }
  })

  it('the table of defaults is what a server given no settings reports', async () => {
    const flash = await startFlashKV({ shards: 2 })
    try {
      const c = await RawClient.connect(flash.port, flash.host)
      // The test helper sets these itself.
      const given = new Set(['port', 'bind', 'dir', 'save', 'shards', 'io-threads', 'loglevel'])
      for (const [name, value] of Object.entries(DEFAULTS as Record<string, string>)) {
        if (given.has(name)) continue
        const reply = (await c.command('CONFIG', 'GET', name)).toString('latin1')
        expect(reply, name).toBe(`*2\r\n$${name.length}\r\n${name}\r\n$${value.length}\r\n${value}\r\n`)
      }
      c.close()
    } finally {
      await flash.stop()
    }
  })
})
