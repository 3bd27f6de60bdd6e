// Differential tests (FlashKV over 4 shards against redis-server 7.0.15) for INFO's
// commandstats, errorstats, latencystats and cpu sections, section arguments, the parameters
// behind them, and CONFIG RESETSTAT. Timings differ between the servers: counts, names, field
// sets and formats are compared, never microseconds.
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { RawClient, encodeCommand } from './helpers/raw.js'

const pair = useDiffPair({ shards: 4 })

/** The body of an INFO reply (RESP2 bulk). */
async function info (c: RawClient, ...sections: string[]): Promise<string> {
  const reply = text(await c.command('INFO', ...sections))
  return reply.slice(reply.indexOf('\r\n') + 2, -2)
}

/** `name:value` lines of a section body, as a map; `# Title` lines dropped. */
function fields (body: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const line of body.split('\r\n')) {
    const i = line.indexOf(':')
    if (line.startsWith('#') || i < 0) continue
    m.set(line.slice(0, i), line.slice(i + 1))
  }
  return m
}

/** commandstats without the timings: name -> calls/rejected/failed. */
function counts (body: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of fields(body)) {
    const m = /^calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),rejected_calls=(\d+),failed_calls=(\d+)$/.exec(v)
    expect(m, `${k}:${v}`).not.toBeNull()
    out[k] = `calls=${m?.[1]},rejected_calls=${m?.[4]},failed_calls=${m?.[5]}`
  }
  return out
}

/** A CONFIG GET pattern's reply in Redis's dict order: its name/value pairs, sorted. */
function sortedPairs (reply: string): string {
  const lines = reply.split('\r\n').slice(1, -1)
  const pairs: string[] = []
  for (let i = 0; i + 3 < lines.length; i += 4) pairs.push(lines.slice(i, i + 4).join('\n'))
  return pairs.sort().join('\n')
}

const headers = (body: string): string[] => body.split('\r\n').filter(l => l.startsWith('# ') && l !== '# Shards')

async function both (...args: Arg[]): Promise<void> {
  await Promise.all([pair.f.command(...args), pair.r.command(...args)])
}

/** A known sequence: keyed commands on several shards, a split MSET/MGET, failures and refusals. */
const SEQUENCE: Arg[][] = [
  ['SET', 'a', 'b'], ['GET', 'a'], ['INCR', 'a'], ['LPUSH', 'a', 'x'], ['MSET', 'x', '1', 'y', '2', 'z', '3'],
  ['MGET', 'x', 'y', 'z'], ['GET'], ['MSET', 'x'], ['NOSUCH', 'arg'], ['CONFIG', 'NOSUCH'], ['CONFIG', 'GET', 'maxmemory'],
  ['HSET', 'h', 'f', 'v'], ['HGET', 'h', 'f'], ['DEL', 'x', 'y', 'z'], ['EXISTS', 'a', 'h'], ['PING'], ['ECHO', 'e'],
  ['ZADD', 'zz', 'x', 'm'], ['SADD', 's', '1', '2'],
]

describe('INFO commandstats / errorstats after a known sequence', () => {
  it('counts calls, rejected_calls and failed_calls per command as Redis does', async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.sequence(SEQUENCE)
    const [a, b] = await Promise.all([info(pair.f, 'commandstats'), info(pair.r, 'commandstats')])
    expect(counts(a)).toEqual(counts(b))
    expect(counts(b)['cmdstat_incr']).toBe('calls=1,rejected_calls=0,failed_calls=1')
    expect(counts(b)['cmdstat_get']).toBe('calls=1,rejected_calls=1,failed_calls=0')
  })

  it('errorstats by prefix and total_error_replies', async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.sequence(SEQUENCE)
    const [a, b] = await Promise.all([info(pair.f, 'errorstats'), info(pair.r, 'errorstats')])
    expect(a).toBe(b)
    expect(b).toBe('# Errorstats\r\nerrorstat_ERR:count=6\r\nerrorstat_WRONGTYPE:count=1\r\n')
    const [sa, sb] = await Promise.all([info(pair.f, 'stats'), info(pair.r, 'stats')])
    expect(fields(sa).get('total_error_replies')).toBe(fields(sb).get('total_error_replies'))
    expect(fields(sa).get('unexpected_error_replies')).toBe('0')
  })

  it('counts commands inside MULTI/EXEC one by one, and EXEC itself', async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.sequence([['MULTI'], ['SET', 'k', 'v'], ['INCR', 'k'], ['GET', 'k'], ['EXEC']])
    const [a, b] = await Promise.all([info(pair.f, 'commandstats'), info(pair.r, 'commandstats')])
    expect(counts(a)).toEqual(counts(b))
  })

  it("EXEC counts the commands it runs on the client's thread too (CLIENT, SELECT, UNWATCH, the subscribe kin) and the errors they answer", async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.sequence([['WATCH', 'w'], ['MULTI'], ['CLIENT', 'KILL', 'ID', '999999'], ['SELECT', '99'], ['SET', 's', 'x'], ['INCR', 's'],
      ['SSUBSCRIBE', 'x'], ['UNWATCH'], ['CLIENT', 'SETNAME', 'a'], ['PSUBSCRIBE', 'p'], ['PUNSUBSCRIBE', 'p'], ['EXEC']])
    const [a, b] = await Promise.all([info(pair.f, 'commandstats', 'errorstats'), info(pair.r, 'commandstats', 'errorstats')])
    expect(counts(a.split('# Errorstats')[0])).toEqual(counts(b.split('# Errorstats')[0]))
    expect(a.split('# Errorstats')[1]).toBe(b.split('# Errorstats')[1])
    expect(counts(b.split('# Errorstats')[0])['cmdstat_select']).toBe('calls=1,rejected_calls=0,failed_calls=1')
    expect(b.split('# Errorstats')[1]).toBe('\r\nerrorstat_ERR:count=3\r\n')
  })

  it('an INFO does not count itself; the next one sees it', async () => {
    await both('CONFIG', 'RESETSTAT')
    const [a, b] = await Promise.all([info(pair.f, 'commandstats'), info(pair.r, 'commandstats')])
    expect(counts(a)).toEqual(counts(b))
    const [a2, b2] = await Promise.all([info(pair.f, 'commandstats'), info(pair.r, 'commandstats')])
    expect(counts(a2)).toEqual(counts(b2))
    expect(counts(b2)['cmdstat_info']).toBe('calls=1,rejected_calls=0,failed_calls=0')
    // total_commands_processed too: RESETSTAT and the two INFOs before, not this one.
    const [sa, sb] = await Promise.all([info(pair.f, 'stats'), info(pair.r, 'stats')])
    expect(fields(sa).get('total_commands_processed')).toBe(fields(sb).get('total_commands_processed'))
    expect(fields(sb).get('total_commands_processed')).toBe('3')
  })
})

describe('CONFIG RESETSTAT', () => {
  it('zeroes commandstats, errorstats, latencystats and total_error_replies; counts itself after', async () => {
    await pair.sequence(SEQUENCE)
    await pair.same('CONFIG', 'RESETSTAT')
    const [a, b] = await Promise.all([info(pair.f, 'commandstats', 'errorstats', 'latencystats'), info(pair.r, 'commandstats', 'errorstats', 'latencystats')])
    expect(counts(a.split('# Errorstats')[0])).toEqual(counts(b.split('# Errorstats')[0]))
    expect(a.split('# Errorstats')[1].split('# Latencystats')[0]).toBe(b.split('# Errorstats')[1].split('# Latencystats')[0])
    expect(counts(b.split('# Errorstats')[0])).toEqual({ 'cmdstat_config|resetstat': 'calls=1,rejected_calls=0,failed_calls=0' })
    const [sa, sb] = await Promise.all([info(pair.f, 'stats'), info(pair.r, 'stats')])
    expect(fields(sa).get('total_error_replies')).toBe('0')
    expect(fields(sb).get('total_error_replies')).toBe('0')
  })

  it('pipelined with the commands after it (in one write), it zeroes only what came before: MULTI, refusals and errors after it count', async () => {
    await pair.sequence(SEQUENCE)
    const batch: Arg[][] = [['CONFIG', 'RESETSTAT'], ['MULTI'], ['CLIENT', 'NOSUCH'], ['INCR'], ['SET', 's', 'x'], ['INCR', 's'], ['CONFIG', 'GET'], ['EXEC'], ['GET', 'a']]
    const bytes = Buffer.concat(batch.map(encodeCommand))
    pair.f.send(bytes)
    pair.r.send(bytes)
    const [fr, rr] = await Promise.all([pair.f.readReplies(batch.length), pair.r.readReplies(batch.length)])
    expect(fr.map(text)).toEqual(rr.map(text))
    const [a, b] = await Promise.all([info(pair.f, 'commandstats', 'errorstats'), info(pair.r, 'commandstats', 'errorstats')])
    expect(counts(a.split('# Errorstats')[0])).toEqual(counts(b.split('# Errorstats')[0]))
    expect(a.split('# Errorstats')[1]).toBe(b.split('# Errorstats')[1])
    expect(b.split('# Errorstats')[1]).toBe('\r\nerrorstat_ERR:count=3\r\nerrorstat_EXECABORT:count=1\r\n')
    expect(counts(b.split('# Errorstats')[0])['cmdstat_multi']).toBe('calls=1,rejected_calls=0,failed_calls=0')
  })

  it('answers the arity error with an argument', async () => {
    await pair.same('CONFIG', 'RESETSTAT', 'x')
  })
})

describe('INFO latencystats', () => {
  const LINE = /^latency_percentiles_usec_[a-z|]+:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/
  it('a line per command that ran, with p50, p99, p99.9', async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.sequence([['SET', 'a', 'b'], ['GET', 'a'], ['HSET', 'h', 'f', 'v'], ['CONFIG', 'GET', 'maxmemory'], ['PING']])
    const [a, b] = await Promise.all([info(pair.f, 'latencystats'), info(pair.r, 'latencystats')])
    const names = (body: string): string[] => [...fields(body).keys()].sort()
    expect(names(a)).toEqual(names(b))
    for (const line of a.split('\r\n').slice(1, -1)) expect(line).toMatch(LINE)
    // Percentiles ascend.
    for (const v of fields(a).values()) {
      const [p50, p99, p999] = v.split(',').map(s => Number(s.split('=')[1]))
      expect(p50).toBeLessThanOrEqual(p99)
      expect(p99).toBeLessThanOrEqual(p999)
    }
  })

  it('latency-tracking-info-percentiles names the fields; latency-tracking no stops new samples', async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.same('CONFIG', 'SET', 'latency-tracking-info-percentiles', '99.90 50.0 1e1')
    await pair.same('CONFIG', 'GET', 'latency-tracking-info-percentiles')
    await pair.same('SET', 'a', 'b')
    const [a, b] = await Promise.all([info(pair.f, 'latencystats'), info(pair.r, 'latencystats')])
    // Redis lists commands in its dict's order: compared as sorted lines.
    const shape = (body: string): string => body.replace(/=\d+\.\d{3}/g, '=N').split('\r\n').sort().join('\r\n')
    expect(shape(a)).toBe(shape(b))
    expect(shape(b)).toContain('latency_percentiles_usec_set:p99.9=N,p50=N,p10=N')
    await pair.same('CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9')
    await pair.same('CONFIG', 'SET', 'latency-tracking', 'no')
    await pair.same('CONFIG', 'RESETSTAT')
    await pair.same('GET', 'a')
    const [a2, b2] = await Promise.all([info(pair.f, 'latencystats'), info(pair.r, 'latencystats')])
    expect(a2).toBe(b2)
    expect(b2).toBe('# Latencystats\r\n')
    await pair.same('CONFIG', 'SET', 'latency-tracking', 'yes')
  })
})

describe('INFO sections', () => {
  it('default, all, everything, several sections at once, unknown and any case', async () => {
    for (const args of [[], ['default'], ['all'], ['everything'], ['server', 'clients'], ['CPU', 'keyspace', 'Server'], ['commandstats', 'default'], ['nosuch']]) {
      const [a, b] = await Promise.all([info(pair.f, ...args), info(pair.r, ...args)])
      expect(headers(a), `INFO ${args.join(' ')}`).toEqual(headers(b))
    }
  })

  it('cpu has Redis\'s fields, in seconds with six decimals', async () => {
    const [a, b] = await Promise.all([info(pair.f, 'cpu'), info(pair.r, 'cpu')])
    expect([...fields(a).keys()]).toEqual([...fields(b).keys()])
    for (const v of fields(a).values()) expect(v).toMatch(/^\d+\.\d{6}$/)
  })

  it('server, clients, memory and stats give Redis\'s fields in Redis\'s order, but for those left out below', async () => {
    // The resizing of Redis's own reply buffers: a mechanism FlashKV does not have.
    const LEFT_OUT = new Set(['reply_buffer_shrinks', 'reply_buffer_expands'])
    for (const section of ['server', 'clients', 'memory', 'stats']) {
      const [a, b] = await Promise.all([info(pair.f, section), info(pair.r, section)])
      const ours = [...fields(a).keys()]
      const theirs = [...fields(b).keys()]
      for (const name of LEFT_OUT) expect(ours, name).not.toContain(name)
      expect(ours.filter(n => theirs.includes(n)), section).toEqual(theirs.filter(n => !LEFT_OUT.has(n)))
    }
  })

  it('total_reads_processed and total_writes_processed count a client\'s reads and writes as Redis does', async () => {
    const stat = async (c: RawClient): Promise<Map<string, string>> => fields(await info(c, 'stats'))
    const deltas = async (c: RawClient): Promise<number[]> => {
      const a = await stat(c)
      for (let i = 0; i < 5; i++) await c.command('PING')
      c.send('PING\r\nPING\r\n') // one read, one write
      await c.readReplies(2)
      const b = await stat(c)
      return ['total_reads_processed', 'total_writes_processed'].map(k => Number(b.get(k)) - Number(a.get(k)))
    }
    // Other clients of the pair are idle here: each delta is this client's alone.
    const [ours, theirs] = [await deltas(pair.f), await deltas(pair.r)]
    expect(ours).toEqual(theirs)
    expect(ours).toEqual([7, 7])
    const s = await stat(pair.f)
    // Every read and write is an I/O thread's when there are several.
    const threaded = fields(await info(pair.f, 'server')).get('io_threads_active') === '1'
    expect(Number(s.get('io_threaded_reads_processed'))).toBe(threaded ? Number(s.get('total_reads_processed')) : 0)
    expect(s.get('dump_payload_sanitizations')).toBe('0')
  })

  it('memory counts cached scripts, functions and libraries as Redis does, and the Lua VMs\' memory', async () => {
    const lib = '#!lua name=infolib\nredis.register_function(\'f1\', function() return 1 end)\nredis.register_function(\'f2\', function() return 2 end)'
    const counts = async (c: RawClient): Promise<string[]> => {
      const m = fields(await info(c, 'memory'))
      return ['number_of_cached_scripts', 'number_of_functions', 'number_of_libraries'].map(k => `${k}:${m.get(k)}`)
    }
    for (const c of [pair.f, pair.r]) {
      await c.command('SCRIPT', 'FLUSH')
      await c.command('FUNCTION', 'FLUSH')
    }
    expect(await counts(pair.f)).toEqual(await counts(pair.r))
    for (const c of [pair.f, pair.r]) {
      await c.command('SCRIPT', 'LOAD', 'return 1')
      await c.command('SCRIPT', 'LOAD', 'return 2')
      await c.command('SCRIPT', 'LOAD', 'return 1')
      expect(text(await c.command('FUNCTION', 'LOAD', lib))).toBe('$7\r\ninfolib\r\n')
    }
    expect(await counts(pair.f)).toEqual(['number_of_cached_scripts:2', 'number_of_functions:2', 'number_of_libraries:1'])
    expect(await counts(pair.f)).toEqual(await counts(pair.r))
    const m = fields(await info(pair.f, 'memory'))
    for (const k of ['used_memory_vm_eval', 'used_memory_vm_functions', 'used_memory_scripts_eval', 'used_memory_functions']) expect(Number(m.get(k)), k).toBeGreaterThan(0)
    expect(Number(m.get('used_memory_vm_total'))).toBe(Number(m.get('used_memory_vm_eval')) + Number(m.get('used_memory_vm_functions')))
    expect(m.get('used_memory_lua')).toBe(m.get('used_memory_vm_eval'))
    for (const c of [pair.f, pair.r]) {
      await c.command('SCRIPT', 'FLUSH')
      await c.command('FUNCTION', 'FLUSH')
    }
    expect(await counts(pair.f)).toEqual(['number_of_cached_scripts:0', 'number_of_functions:0', 'number_of_libraries:0'])
    expect(await counts(pair.f)).toEqual(await counts(pair.r))
  })

  it('client_recent_max_input_buffer and _output_buffer show a big query buffer and a reader that fell behind', async () => {
    const big = 'v'.repeat(3 * 1024 * 1024)
    for (const c of [pair.f, pair.r]) expect(text(await c.command('SET', 'recent:big', big))).toBe('+OK\r\n')
    const recent = async (c: RawClient, name: string, atLeast: number): Promise<number> => {
      let v = 0
      for (let i = 0; i < 60 && v < atLeast; i++) {
        v = Number(fields(await info(c, 'clients')).get(name))
        if (v < atLeast) await new Promise(resolve => setTimeout(resolve, 50))
      }
      return v
    }
    for (const [c, s] of [[pair.f, pair.flash], [pair.r, pair.redis]] as const) {
      // A client that sends half of a 4 MB argument, and one that reads none of 20 big replies.
      const writer = await RawClient.connect(s.port, s.host)
      const reader = await RawClient.connect(s.port, s.host)
      writer.send(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${4 * 1024 * 1024}\r\n${'x'.repeat(2 * 1024 * 1024)}`)
      reader.pause()
      reader.send('GET recent:big\r\n'.repeat(20))
      const name = c === pair.f ? 'flashkv' : 'redis'
      expect(await recent(c, 'client_recent_max_input_buffer', 2 * 1024 * 1024), name).toBeGreaterThanOrEqual(2 * 1024 * 1024)
      expect(await recent(c, 'client_recent_max_output_buffer', 1024 * 1024), name).toBeGreaterThanOrEqual(1024 * 1024)
      writer.close()
      reader.close()
    }
  })

  it('current_eviction_exceeded_time runs while a write finds the server over maxmemory, total_ keeps it once under', async () => {
    const stat = async (c: RawClient, name: string): Promise<number> => Number(fields(await info(c, 'stats')).get(name))
    // noeviction (FlashKV refuses on the client's thread) and a policy with nothing to evict (each shard refuses).
    for (const [c, policy] of [[pair.f, 'noeviction'], [pair.r, 'noeviction'], [pair.f, 'allkeys-lru'], [pair.r, 'allkeys-lru']] as const) {
      const name = `${c === pair.f ? 'flashkv' : 'redis'} ${policy}`
      await c.command('FLUSHALL')
      expect(text(await c.command('CONFIG', 'SET', 'maxmemory-policy', policy))).toBe('+OK\r\n')
      expect(text(await c.command('CONFIG', 'RESETSTAT'))).toBe('+OK\r\n')
      expect(await stat(c, 'total_eviction_exceeded_time'), name).toBe(0)
      expect(text(await c.command('CONFIG', 'SET', 'maxmemory', '1'))).toBe('+OK\r\n')
      try {
        expect(text(await c.command('SET', 'over', 'v'))).toBe("-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        await new Promise(resolve => setTimeout(resolve, 30))
        // Over since that write: at least the 30 ms slept (ms, floored).
        expect(await stat(c, 'current_eviction_exceeded_time'), name).toBeGreaterThanOrEqual(25)
        // Room again: the next write ends the spell (as long as maxmemory is set; at 0 Redis never looks again).
        expect(text(await c.command('CONFIG', 'SET', 'maxmemory', '1gb'))).toBe('+OK\r\n')
        expect(text(await c.command('SET', 'over', 'v'))).toBe('+OK\r\n')
        let current = await stat(c, 'current_eviction_exceeded_time')
        for (let i = 0; i < 50 && current !== 0; i++) {
          await new Promise(resolve => setTimeout(resolve, 20))
          current = await stat(c, 'current_eviction_exceeded_time')
        }
        expect(current, name).toBe(0)
        expect(await stat(c, 'total_eviction_exceeded_time'), name).toBeGreaterThanOrEqual(25)
      } finally {
        expect(text(await c.command('CONFIG', 'SET', 'maxmemory', '0'))).toBe('+OK\r\n')
        await c.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
      }
    }
  })

  it('expired_stale_perc and expire_cycle_cpu_milliseconds follow the active expiry sweep', async () => {
    for (const c of [pair.f, pair.r]) {
      const args: string[] = ['MSET']
      for (let i = 0; i < 200; i++) args.push(`stale:${i}`, 'v')
      await c.command(...args)
      for (let i = 0; i < 200; i++) c.send(`PEXPIRE stale:${i} 20\r\n`)
      await c.readReplies(200)
    }
    // Nothing reads the keys: only the sweep deletes them, finding them expired as it samples.
    for (const c of [pair.f, pair.r]) {
      let s = fields(await info(c, 'stats'))
      while (Number(s.get('expired_keys')) < 200) {
        await new Promise(resolve => setTimeout(resolve, 20))
        s = fields(await info(c, 'stats'))
      }
      expect(Number(s.get('expired_stale_perc')), c === pair.f ? 'flashkv' : 'redis').toBeGreaterThan(0)
      expect(s.get('expired_stale_perc')).toMatch(/^\d+\.\d\d$/)
      expect(s.get('expire_cycle_cpu_milliseconds')).toMatch(/^\d+$/)
      expect(s.get('expired_time_cap_reached_count')).toBe('0')
    }
  })

  it('replication: a master that never had a replica, as a fresh Redis reports it (its replid apart)', async () => {
    const [a, b] = await Promise.all([info(pair.f, 'replication'), info(pair.r, 'replication')])
    const ours = fields(a)
    const theirs = fields(b)
    expect(ours.get('master_replid')).toMatch(/^[0-9a-f]{40}$/)
    expect(fields(await info(pair.f, 'replication')).get('master_replid')).toBe(ours.get('master_replid'))
    ours.delete('master_replid')
    theirs.delete('master_replid')
    expect([...ours]).toEqual([...theirs])
  })

  it('pubsub_channels, pubsub_patterns and pubsubshard_channels count what is subscribed', async () => {
    const subs = await Promise.all([pair.flash, pair.redis].map(async s => await Promise.all([0, 1].map(async () => await RawClient.connect(s.port, s.host)))))
    try {
      for (const [x, y] of subs) {
        await x.command('SUBSCRIBE', 'ch1', 'ch2', 'ch3')
        await y.command('SUBSCRIBE', 'ch3', 'ch4')
        await x.command('PSUBSCRIBE', 'p*', 'q*')
        await y.command('PSUBSCRIBE', 'p*')
        await y.command('SSUBSCRIBE', '{s}1', '{s}2')
      }
      const counts = async (c: RawClient): Promise<string[]> => {
        const m = fields(await info(c, 'stats'))
        return ['pubsub_channels', 'pubsub_patterns', 'pubsubshard_channels'].map(k => `${k}:${m.get(k) ?? ''}`)
      }
      expect(await counts(pair.f)).toEqual(await counts(pair.r))
      expect(await counts(pair.f)).toEqual(['pubsub_channels:4', 'pubsub_patterns:2', 'pubsubshard_channels:2'])
    } finally {
      for (const c of subs.flat()) c.close()
    }
  })

  it('cluster and modules sections', async () => {
    await pair.same('INFO', 'cluster')
    await pair.same('INFO', 'modules')
  })
})

describe('CONFIG parameters behind INFO, SLOWLOG and LATENCY', () => {
  it('GET, SET and Redis\'s errors', async () => {
    await pair.sameNormalized(sortedPairs, 'CONFIG', 'GET', 'latency-tracking*')
    await pair.sameNormalized(sortedPairs, 'CONFIG', 'GET', 'slowlog*')
    await pair.same('CONFIG', 'GET', 'latency-monitor-threshold')
    for (const [k, v] of [['slowlog-log-slower-than', '-2'], ['slowlog-max-len', '-1'], ['latency-monitor-threshold', '-1'], ['latency-tracking', 'maybe'],
      ['latency-tracking-info-percentiles', '50 101'], ['latency-tracking-info-percentiles', 'abc'], ['slowlog-log-slower-than', 'x']]) {
      await pair.same('CONFIG', 'SET', k, v)
    }
    await pair.sequence([
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1', 'slowlog-max-len', '5'], ['CONFIG', 'GET', 'slowlog-max-len'], ['CONFIG', 'GET', 'slowlog-log-slower-than'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', ''], ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '10000', 'slowlog-max-len', '128'],
    ])
  })
})

/**
 * A SLOWLOG GET reply with what differs between servers replaced: ids (checked apart: they
 * descend), unix times, durations and the client's ip:port.
 */
function slowShape (reply: string): string {
  return reply
    .replace(/\*6\r\n:\d+\r\n:\d+\r\n:\d+\r\n/g, '*6\r\n:ID\r\n:TIME\r\n:US\r\n')
    .replace(/\$\d+\r\n127\.0\.0\.1:\d+\r\n/g, '$A\r\nADDR\r\n')
}

function slowIds (reply: string): number[] {
  return [...reply.matchAll(/\*6\r\n:(\d+)\r\n/g)].map(m => Number(m[1]))
}

describe('SLOWLOG', () => {
  const big = 'v'.repeat(200)
  const many = Array.from({ length: 40 }, (_v, i) => `e${i}`)

  it('with slowlog-log-slower-than 0 logs every command: args trimmed as Redis does, client name, newest first', async () => {
    await pair.same('CONFIG', 'SET', 'slowlog-log-slower-than', '0')
    await pair.same('SLOWLOG', 'RESET')
    await pair.sequence([
      ['CLIENT', 'SETNAME', 'tester'], ['SET', 'k', big], ['MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4'], ['GET', 'a'],
      ['RPUSH', 'l', ...many], ['HSET', 'h', 'f', 'v'],
      // Split over shards: logged once merged, trimmed alike.
      ['MSET', 'm0', big, ...many.flatMap(k => [k, '1']).slice(0, 40)], ['DEL', ...many], ['CONFIG', 'GET', 'maxmemory'], ['MULTI'], ['INCR', 'n'], ['EXEC'], ['NOSUCH'], ['GET'],
    ])
    const reply = await pair.sameNormalized(slowShape, 'SLOWLOG', 'GET', '-1')
    // Both logged that GET too; FlashKV's ids descend as Redis's do.
    const [fr] = await Promise.all([pair.f.command('SLOWLOG', 'GET', '-1'), pair.r.command('SLOWLOG', 'GET', '-1')])
    const ids = slowIds(text(fr))
    expect(ids.length).toBeGreaterThan(10)
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeLessThan(ids[i - 1])
    expect(reply).toContain('... (11 more arguments)')
    expect(reply).toContain(`${'v'.repeat(128)}... (72 more bytes)`)
    expect(reply).toContain('$6\r\ntester\r\n')
    await pair.sameNormalized(slowShape, 'SLOWLOG', 'GET', '3')
    await pair.sameNormalized(slowShape, 'SLOWLOG', 'GET', '0')
    await pair.same('SLOWLOG', 'LEN')
    await pair.same('SLOWLOG', 'RESET')
    await pair.same('SLOWLOG', 'LEN')
    await pair.sameNormalized(slowShape, 'SLOWLOG', 'GET')
  })

  it('slowlog-max-len keeps the newest entries; CONFIG RESETSTAT leaves the log alone', async () => {
    await pair.same('CONFIG', 'SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '3')
    await pair.same('SLOWLOG', 'RESET')
    await pair.sequence([['SET', 'a', '1'], ['SET', 'b', '2'], ['GET', 'a'], ['GET', 'b'], ['CONFIG', 'RESETSTAT']])
    await pair.same('SLOWLOG', 'LEN')
    await pair.sameNormalized(slowShape, 'SLOWLOG', 'GET')
    await pair.same('CONFIG', 'SET', 'slowlog-max-len', '128')
  })

  it('a negative slowlog-log-slower-than logs nothing', async () => {
    await pair.same('CONFIG', 'SET', 'slowlog-log-slower-than', '-1')
    await pair.same('SLOWLOG', 'RESET')
    await pair.sequence([['SET', 'a', '1'], ['MGET', 'a', 'b', 'c']])
    await pair.same('SLOWLOG', 'LEN')
    await pair.same('SLOWLOG', 'GET')
    await pair.same('CONFIG', 'SET', 'slowlog-log-slower-than', '10000')
  })

  it('errors and HELP as Redis', async () => {
    await pair.sequence([
      ['SLOWLOG'], ['SLOWLOG', 'NOSUCH'], ['SLOWLOG', 'GET', '-2'], ['SLOWLOG', 'GET', 'x'], ['SLOWLOG', 'GET', '1', '2'],
      ['SLOWLOG', 'LEN', 'x'], ['SLOWLOG', 'RESET', 'x'], ['SLOWLOG', 'HELP'], ['SLOWLOG', 'help', 'x'],
    ])
  })
})

/** LATENCY HISTOGRAM with each command's bucket map (bounds and counts differ) left out. */
const histShape = (reply: string): string => reply.replace(/histogram_usec\r\n[*%]\d+\r\n(:\d+\r\n)*/g, 'histogram_usec\r\nH\r\n')

describe('LATENCY', () => {
  it('HISTOGRAM of named commands, RESP2 and RESP3: calls per command, cumulative counts by power-of-two µs', async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.sequence([['SET', 'a', '1'], ['SET', 'b', '2'], ['SET', 'c', '3'], ['GET', 'a'], ['CONFIG', 'GET', 'maxmemory']])
    const reply = await pair.sameNormalized(histShape, 'LATENCY', 'HISTOGRAM', 'set', 'GET', 'nosuch', 'config|get')
    expect(histShape(reply)).toContain('$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:3\r\n')
    await pair.same('LATENCY', 'HISTOGRAM', 'nosuch')
    // FlashKV's buckets: keys ascend, counts are cumulative and end at calls.
    const mine = text(await pair.f.command('LATENCY', 'HISTOGRAM', 'set'))
    const nums = (mine.split('histogram_usec\r\n')[1].match(/:\d+/g) ?? []).map(x => Number(x.slice(1)))
    for (let i = 2; i < nums.length; i += 2) {
      expect(nums[i]).toBeGreaterThan(nums[i - 2])
      expect(nums[i + 1]).toBeGreaterThan(nums[i - 1])
    }
    expect(nums[nums.length - 1]).toBe(3)
    await both('HELLO', '3')
    await pair.sameNormalized(histShape, 'LATENCY', 'HISTOGRAM', 'set', 'get')
    await pair.same('LATENCY', 'HISTOGRAM', 'nosuch')
  })

  it('LATEST, HISTORY, RESET, GRAPH and DOCTOR with no events', async () => {
    await pair.same('CONFIG', 'SET', 'latency-monitor-threshold', '0')
    await pair.same('LATENCY', 'RESET')
    await pair.sequence([
      ['LATENCY', 'LATEST'], ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'HISTORY', 'nosuch'], ['LATENCY', 'RESET'],
      ['LATENCY', 'RESET', 'command', 'nosuch'], ['LATENCY', 'GRAPH', 'command'], ['LATENCY', 'GRAPH', 'nosuch'], ['LATENCY', 'DOCTOR'],
    ])
  })

  it('errors and HELP as Redis', async () => {
    await pair.sequence([
      ['LATENCY'], ['LATENCY', 'NOSUCH'], ['LATENCY', 'HELP'], ['LATENCY', 'HELP', 'x'], ['LATENCY', 'LATEST', 'x'], ['LATENCY', 'HISTORY'],
      ['LATENCY', 'GRAPH'], ['LATENCY', 'DOCTOR', 'x'], ['LATENCY', 'GRAPH', 'a', 'b'],
    ])
  })
})

describe('LATENCY events (FlashKV)', () => {
  it('a command past latency-monitor-threshold is an event: LATEST, HISTORY, GRAPH, DOCTOR, RESET', async () => {
    const f = pair.f
    await f.command('CONFIG', 'SET', 'latency-monitor-threshold', '1')
    await f.command('LATENCY', 'RESET')
    // DEBUG is not built: a big SORT on one shard takes well over a millisecond.
    const members = Array.from({ length: 200_000 }, (_v, i) => String((i * 7919) % 200_003))
    for (let i = 0; i < members.length; i += 10_000) await f.command('RPUSH', 'big', ...members.slice(i, i + 10_000))
    await f.command('SORT', 'big', 'LIMIT', '0', '1')
    const latest = text(await f.command('LATENCY', 'LATEST'))
    // RPUSH is flagged fast: a long one may add a fast-command event too.
    expect(latest).toMatch(/^\*[12]\r\n/)
    expect(latest).toMatch(/\*4\r\n\$7\r\ncommand\r\n:\d+\r\n:[1-9]\d*\r\n:[1-9]\d*\r\n/)
    expect(text(await f.command('LATENCY', 'HISTORY', 'command'))).toMatch(/^\*[1-9]\d*\r\n\*2\r\n:\d+\r\n:[1-9]\d*\r\n/)
    const graph = text(await f.command('LATENCY', 'GRAPH', 'command'))
    expect(graph).toMatch(/command - high \d+ ms, low \d+ ms \(all time high \d+ ms\)\n-{80}\n/)
    const doctor = text(await f.command('LATENCY', 'DOCTOR'))
    expect(doctor).toContain('Dave, I have observed latency spikes in this Redis instance.')
    expect(doctor).toMatch(/1\. command: \d+ latency spikes \(average \d+ms, mean deviation \d+ms, period \d+\.\d\d sec\)\. Worst all time event \d+ms\./)
    // Monitoring off first: on a loaded box any command may pass 1 ms and add a new event.
    await f.command('CONFIG', 'SET', 'latency-monitor-threshold', '0')
    expect(text(await f.command('LATENCY', 'RESET', 'command'))).toBe(':1\r\n')
    expect(text(await f.command('LATENCY', 'HISTORY', 'command'))).toBe('*0\r\n')
    await f.command('LATENCY', 'RESET')
    expect(text(await f.command('LATENCY', 'LATEST'))).toBe('*0\r\n')
  })
})

describe('commands answered on the client\'s thread', () => {
  it('MULTI/EXEC/DISCARD/WATCH errors, EXECABORT, refused SUBSCRIBE and PUBLISH, a bad EVAL', async () => {
    await both('CONFIG', 'RESETSTAT')
    await pair.sequence([
      ['MULTI'], ['GET'], ['EXEC'], ['EXEC'], ['DISCARD'], ['WATCH'], ['SUBSCRIBE'], ['PUBLISH', 'a'], ['EVAL', 'return 1', 'x'],
      ['MULTI'], ['MULTI'], ['DISCARD'],
    ])
    const [a, b] = await Promise.all([info(pair.f, 'commandstats', 'errorstats'), info(pair.r, 'commandstats', 'errorstats')])
    expect(counts(a.split('# Errorstats')[0])).toEqual(counts(b.split('# Errorstats')[0]))
    expect(a.split('# Errorstats')[1]).toBe(b.split('# Errorstats')[1])
  })
})

describe('refusals before running', () => {
  it('NOAUTH counts in rejected_calls and errorstat_NOAUTH', async () => {
    await both('CONFIG', 'RESETSTAT')
    await both('CONFIG', 'SET', 'requirepass', 'pw')
    const [f2, r2] = await Promise.all([RawClient.connect(pair.flash.port, pair.flash.host), RawClient.connect(pair.redis.port, pair.redis.host)])
    try {
      const run = async (c: RawClient): Promise<string[]> => {
        const out: string[] = []
        for (const cmd of [['GET', 'a'], ['CONFIG', 'GET', 'x'], ['AUTH', 'nope'], ['AUTH', 'pw'], ['GET', 'a']]) out.push(text(await c.command(...cmd)))
        return out
      }
      const [a, b] = await Promise.all([run(f2), run(r2)])
      expect(a).toEqual(b)
    } finally {
      f2.close()
      r2.close()
      await both('CONFIG', 'SET', 'requirepass', '')
    }
    const [a, b] = await Promise.all([info(pair.f, 'commandstats', 'errorstats'), info(pair.r, 'commandstats', 'errorstats')])
    expect(counts(a.split('# Errorstats')[0])).toEqual(counts(b.split('# Errorstats')[0]))
    expect(a.split('# Errorstats')[1]).toBe(b.split('# Errorstats')[1])
    expect(b).toContain('errorstat_NOAUTH:count=2')
  })
})

describe('HELP of CLIENT, COMMAND and CONFIG', () => {
  it('the help texts, and the arity error with an argument', async () => {
    await pair.sequence([
      ['CLIENT', 'HELP'], ['client', 'help'], ['CLIENT', 'HELP', 'x'], ['COMMAND', 'HELP'], ['COMMAND', 'HELP', 'x'],
      ['CONFIG', 'HELP'], ['CONFIG', 'help', 'x'], ['COMMAND', 'INFO', 'client|help', 'command|help', 'config|help'], ['COMMAND', 'INFO', 'nosuch', 'get', 'client|nosuch'],
    ])
    await both('HELLO', '3')
    await pair.sequence([['CLIENT', 'HELP'], ['COMMAND', 'HELP'], ['CONFIG', 'HELP'], ['COMMAND', 'INFO', 'nosuch', 'get']])
  })
})

describe('a server with cluster support disabled', () => {
  const SUBS = ['ADDSLOTS 1', 'ADDSLOTSRANGE 1 2', 'BUMPEPOCH', 'COUNT-FAILURE-REPORTS n', 'COUNTKEYSINSLOT 1', 'DELSLOTS 1',
    'DELSLOTSRANGE 1 2', 'FAILOVER', 'FLUSHSLOTS', 'FORGET n', 'GETKEYSINSLOT 1 2', 'HELP', 'INFO', 'KEYSLOT k', 'LINKS',
    'MEET 127.0.0.1 7000', 'MYID', 'NODES', 'REPLICAS n', 'REPLICATE n', 'RESET', 'SAVECONFIG', 'SET-CONFIG-EPOCH 1',
    'SETSLOT 1 STABLE', 'SHARDS', 'SLAVES n', 'SLOTS']

  it('every CLUSTER subcommand, READONLY, READWRITE and ASKING answer that, after the arity and subcommand checks', async () => {
    const cmds: string[][] = SUBS.map(s => ['CLUSTER', ...s.split(' ')])
    // Each with one argument more (an arity error where the arity is fixed), and the container's own errors.
    cmds.push(...SUBS.map(s => ['cluster', ...s.toLowerCase().split(' '), 'extra']))
    cmds.push(['CLUSTER'], ['CLUSTER', 'NOSUCH'], ['CLUSTER', 'KEYSLOT'], ['READONLY'], ['READWRITE'], ['ASKING'], ['READONLY', 'x'], ['ASKING', 'x'])
    await pair.sequence(cmds)
    await pair.sequence([
      ['COMMAND', 'INFO', 'cluster|info', 'cluster|reset', 'readonly', 'readwrite', 'asking'],
      ['COMMAND', 'GETKEYS', 'CLUSTER', 'INFO'], ['COMMAND', 'DOCS', 'readonly', 'cluster|myid'],
    ])
  })

  it('inside MULTI, in a script, and to a user without @admin', async () => {
    await pair.sequence([['MULTI'], ['CLUSTER', 'INFO'], ['READONLY'], ['CLUSTER', 'HELP'], ['SET', 'k', 'v'], ['EXEC'], ['GET', 'k']])
    await pair.sequence([
      ['EVAL', "return redis.pcall('CLUSTER', 'INFO')", '0'], ['EVAL', "return redis.pcall('CLUSTER', 'RESET')", '0'],
      ['EVAL', "return redis.pcall('READONLY')", '0'],
    ])
    await pair.sequence([
      ['ACL', 'SETUSER', 'app', 'on', 'nopass', '+@all', '-@admin'], ['AUTH', 'app', 'x'], ['CLUSTER', 'INFO'], ['CLUSTER', 'RESET'],
      ['ASKING'], ['CLIENT', 'HELP'],
    ])
    await both('AUTH', 'default', '')
    await both('ACL', 'DELUSER', 'app')
  })
})
