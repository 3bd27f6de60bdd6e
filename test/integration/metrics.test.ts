// /metrics covers every I/O thread: the command latency histogram is kept per thread in shared
// memory and added up when scraped (with one I/O thread and with three).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { RawClient } from './helpers/raw.js'
import { freePort, startFlashKV, type ServerHandle } from './helpers/server.js'

for (const io of [1, 3]) {
  describe(`/metrics with --io-threads ${io}`, () => {
    let server: ServerHandle
    let httpPort: number
    beforeAll(async () => {
      httpPort = await freePort()
      server = await startFlashKV({ shards: 2, extraArgs: ['--io-threads', String(io), '--http-port', String(httpPort)] })
    })
    afterAll(async () => { await server?.stop() })

    it('the latency histogram counts sampled replies from every thread\'s clients', async () => {
      // Several connections, so that with three I/O threads more than one serves some of them.
      const clients = await Promise.all(Array.from({ length: 6 }, async () => await RawClient.connect(server.port, server.host)))
      for (const c of clients) {
        const cmds = Array.from({ length: 256 }, (_v, i) => ['SET', `k${i}`, 'v'])
        c.send(Buffer.concat(cmds.map(cmd => Buffer.from(`*3\r\n$3\r\nSET\r\n$${cmd[1].length}\r\n${cmd[1]}\r\n$1\r\nv\r\n`))))
        await c.readReplies(256)
      }
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
      const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN)
      const count = value(/^flashkv_command_duration_seconds_count (\S+)$/m)
      // One reply in 32 is sampled: 6 × 256 replies give about 48 samples.
      expect(count).toBeGreaterThanOrEqual(40)
      expect(value(/^flashkv_command_duration_seconds_bucket\{le="\+Inf"\} (\S+)$/m)).toBe(count)
      expect(value(/^flashkv_command_duration_seconds_sum (\S+)$/m)).toBeGreaterThan(0)
      const buckets = [...text.matchAll(/^flashkv_command_duration_seconds_bucket\{le="[^"]+"\} (\S+)$/gm)].map(m => Number(m[1]))
      expect(buckets.length).toBe(14)
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1])
      for (const c of clients) c.close()
    })

    it('the process and Node.js metrics carry the standard names Node dashboards read', async () => {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds',
        'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_version_info']) {
        expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? \\S+$`, 'm'))
      }
      expect(text).not.toContain('flashkv_process_')
    })
  })
}
