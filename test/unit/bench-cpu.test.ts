// bench/cpu.ts: naming threads from INFO, attributing /proc ticks to thread kinds, --cpu-servers.
import { describe, expect, it } from 'vitest'
import { attribute, parseServers, parseThreadTids, threadTicks } from '../../bench/cpu.js'

describe('bench --cpu', () => {
  it('names shard and io threads from INFO lines', () => {
    const info = '# Shards\r\nshard0:keys=0,expires=0,used_memory=64,tid=101\r\nshard1:keys=3,tid=102\r\nio0:tid=201\r\nclient_io:raw\r\n'
    const m = parseThreadTids(info)
    expect([...m.entries()]).toEqual([
      [101, { kind: 'shard', name: 'shard0' }], [102, { kind: 'shard', name: 'shard1' }], [201, { kind: 'io', name: 'io0' }],
    ])
  })

  it('attributes tick deltas: main thread primary, named threads by kind, the rest other', () => {
    const named = parseThreadTids('shard0:tid=11\nio0:tid=12\n')
    const before = new Map([[10, 100], [11, 50], [12, 0], [13, 5], [14, 7]])
    const after = new Map([[10, 300], [11, 90], [12, 100], [13, 15], [15, 1]])
    // 100 ticks/s, 10,000 requests: one tick is 1 µs per command.
    const a = attribute(10, before, after, named, 10_000, 100)
    expect(a.kinds).toEqual({ primary: 200, io: 100, shard: 40, other: 11 })
    expect(a.total).toBe(351)
    expect(a.busiest).toEqual({ tid: 10, kind: 'primary', name: 'primary', us: 200 })
    expect(a.threads.map(t => t.name)).toEqual(['primary', 'io0', 'shard0', 'other', 'other'])
    expect(a.exited).toBe(1)
  })

  it('reads this process\'s threads from /proc', () => {
    expect(threadTicks(process.pid).has(process.pid)).toBe(true)
  })

  it('parses --cpu-servers with flags that hold spaces', () => {
    expect(parseServers('flashkv-1:--shards 1,flashkv-io4:--io-threads 4 --shards 4')).toEqual([
      ['flashkv-1', ['--shards', '1']], ['flashkv-io4', ['--io-threads', '4', '--shards', '4']],
    ])
  })
})
