// Configuration from flags, environment variables and a redis.conf-style file, in that order of
// precedence; malformed input names its source (file and line); defaults follow the cgroup.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseArgs, parseMemory, splitConfigLine, defaultShards, defaultReplyWaitUs, defaultSpinUs, usableCores, REPLY_WAIT_US, SPIN_US, ConfigError, CGROUP_MEMORY_SHARE, type Config } from '../../src/config.js'
import { cgroupCpuLimit, cgroupMemoryLimit } from '../../src/cgroup.js'
import { POLICY_NAMES } from '../../src/storage/eviction.js'
import { parseCpulist } from '../../src/cpu-affinity.js'

function run (argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}, cgroupRoot = '/nonexistent'): Config {
  const r = parseArgs(argv, { env, cgroupRoot, readFile: p => { if (p in files) return files[p]; throw new Error(`ENOENT ${p}`) } })
  if (r.kind !== 'run') throw new Error(r.kind)
  return r.config
}

function fails (argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}): string {
  try { run(argv, env, files) } catch (err) { expect(err).toBeInstanceOf(ConfigError); return (err as Error).message }
  throw new Error('no error')
}

describe('precedence: flag > env > file > default', () => {
  const file = { 'f.conf': 'port 7001\nbind 10.1.1.1\nshards 3\nloglevel warning\nmaxclients 50\nhttp-port 9100\nmaxmemory 1gb\n' }
  it('the file sets everything it names', () => {
    expect(run(['f.conf'], {}, file)).toMatchObject({ port: 7001, bind: '10.1.1.1', shards: 3, logLevel: 'warn', maxclients: 50, httpPort: 9100, maxmemory: 1024 ** 3, maxmemorySource: 'file', configFile: resolve('f.conf') })
  })
  it('environment beats the file', () => {
    expect(run(['f.conf'], { FLASHKV_PORT: '7002', FLASHKV_SHARDS: '2', FLASHKV_MAXMEMORY: '100mb' }, file)).toMatchObject({ port: 7002, shards: 2, bind: '10.1.1.1', maxmemory: 100 * 1024 ** 2, maxmemorySource: 'env' })
  })
  it('flags beat both', () => {
    expect(run(['f.conf', '--port', '7003', '--log-level=error'], { FLASHKV_PORT: '7002', FLASHKV_LOG_LEVEL: 'debug' }, file)).toMatchObject({ port: 7003, logLevel: 'error' })
  })
  it('the config file may come after flags', () => {
    expect(run(['--shards', '5', 'f.conf'], {}, file)).toMatchObject({ shards: 5, port: 7001 })
  })
  it('reply-wait-us defaults on where the threads must share cores', () => {
    // A core for the primary, one per shard, one for clients and the kernel's network work.
    expect(defaultReplyWaitUs(1, 2)).toBe(REPLY_WAIT_US)
    expect(defaultReplyWaitUs(2, 4)).toBe(0)
    expect(defaultReplyWaitUs(3, 4)).toBe(REPLY_WAIT_US)
    expect(defaultReplyWaitUs(14, 16)).toBe(0)
  })
  it('reply-wait-us from each source', () => {
    expect(run(['c.conf'], {}, { 'c.conf': 'reply-wait-us 250\n' })).toMatchObject({ replyWaitUs: 250 })
    expect(run(['c.conf'], { FLASHKV_REPLY_WAIT_US: '0' }, { 'c.conf': 'reply-wait-us 250\n' })).toMatchObject({ replyWaitUs: 0 })
    expect(run(['--reply-wait-us', '40'], { FLASHKV_REPLY_WAIT_US: '0' })).toMatchObject({ replyWaitUs: 40 })
    expect(fails(['--reply-wait-us', '-1'])).toMatch(/--reply-wait-us/)
  })
  it('spin-us defaults on where every server thread has a core, and comes from each source', () => {
    expect(defaultSpinUs(2, 2)).toBe(SPIN_US) // 1 shard and the primary on 2 CPUs
    expect(defaultSpinUs(3, 2)).toBe(0)
    expect(defaultSpinUs(16, 16)).toBe(SPIN_US)
    expect(run(['c.conf'], {}, { 'c.conf': 'spin-us 30\n' })).toMatchObject({ spinUs: 30 })
    expect(run(['c.conf'], { FLASHKV_SPIN_US: '0' }, { 'c.conf': 'spin-us 30\n' })).toMatchObject({ spinUs: 0 })
    expect(run(['--spin-us', '5'], { FLASHKV_SPIN_US: '0' })).toMatchObject({ spinUs: 5 })
    expect(fails(['--spin-us', 'x'])).toMatch(/--spin-us/)
  })
  it('server_cpulist from each source, in Redis\'s syntax; a malformed list is kept (Redis starts with it, binding nothing)', () => {
    expect(run([])).toMatchObject({ serverCpulist: '' })
    expect(run(['c.conf'], {}, { 'c.conf': 'server_cpulist 0-7:2\n' })).toMatchObject({ serverCpulist: '0-7:2' })
    expect(run(['c.conf'], { FLASHKV_SERVER_CPULIST: '1' }, { 'c.conf': 'server_cpulist 0\n' })).toMatchObject({ serverCpulist: '1' })
    expect(run(['--server-cpulist', '0,3'], { FLASHKV_SERVER_CPULIST: '1' })).toMatchObject({ serverCpulist: '0,3' })
    expect(parseCpulist('0-7:2')).toEqual([0, 2, 4, 6])
    expect(parseCpulist('5,1-2, 3')).toEqual([1, 2, 3, 5])
    expect(parseCpulist('2-2')).toEqual([2])
    expect(() => parseCpulist('3-1')).toThrow(/'3-1' is not a valid range/)
    expect(() => parseCpulist('0-4:0')).toThrow(/not a valid range/)
    expect(() => parseCpulist('a')).toThrow(/'a' is not a CPU/)
    expect(() => parseCpulist('1,,2')).toThrow(/'' is not a CPU/)
    expect(run(['--server-cpulist', 'a'])).toMatchObject({ serverCpulist: 'a' })
    expect(run(['c.conf'], {}, { 'c.conf': 'server_cpulist 1,,2\n' })).toMatchObject({ serverCpulist: '1,,2' })
  })
})

describe('eviction settings', () => {
  it('defaults: noeviction, 5 samples, tenacity 10, lfu-log-factor 10, lfu-decay-time 1', () => {
    expect(run([])).toMatchObject({ maxmemoryPolicy: 0, maxmemorySamples: 5, evictionTenacity: 10, lfuLogFactor: 10, lfuDecayTime: 1 })
  })
  it('from the file (any case, as Redis reads enums), the environment and flags', () => {
    const file = { 'e.conf': 'maxmemory-policy ALLKEYS-LRU\nmaxmemory-samples 10\nmaxmemory-eviction-tenacity 20\nlfu-log-factor 0\nlfu-decay-time 5\n' }
    expect(run(['e.conf'], {}, file)).toMatchObject({ maxmemoryPolicy: POLICY_NAMES.indexOf('allkeys-lru'), maxmemorySamples: 10, evictionTenacity: 20, lfuLogFactor: 0, lfuDecayTime: 5 })
    expect(run(['e.conf'], { FLASHKV_MAXMEMORY_POLICY: 'volatile-ttl', FLASHKV_MAXMEMORY_SAMPLES: '3' }, file)).toMatchObject({ maxmemoryPolicy: POLICY_NAMES.indexOf('volatile-ttl'), maxmemorySamples: 3 })
    expect(run(['--maxmemory-policy', 'allkeys-lfu', '--lfu-decay-time=0'])).toMatchObject({ maxmemoryPolicy: POLICY_NAMES.indexOf('allkeys-lfu'), lfuDecayTime: 0 })
  })
  it('bad values name their source', () => {
    expect(fails(['--maxmemory-policy', 'lru'])).toMatch(/--maxmemory-policy.*noeviction/)
    expect(fails(['--maxmemory-samples', '0'])).toMatch(/--maxmemory-samples/)
    expect(fails(['--maxmemory-eviction-tenacity', '101'])).toMatch(/--maxmemory-eviction-tenacity/)
    expect(fails([], { FLASHKV_LFU_LOG_FACTOR: '-1' })).toMatch(/FLASHKV_LFU_LOG_FACTOR/)
  })
})

describe('malformed input fails with its source', () => {
  it.each([
    ['port 70000\n', "c.conf:1: 'port' must be between 0 and 65535, got 70000"],
    ['# comment\n\nshards zero\n', "c.conf:3: 'shards' needs an integer, got 'zero'"],
    ['port 1\nfoo bar\n', "c.conf:2: unknown directive 'foo'"],
    ['port\n', "c.conf:1: 'port' takes exactly one value, got 0"],
    ['port 1 2\n', "c.conf:1: 'port' takes exactly one value, got 2"],
    ['bind "127.0.0.1\n', 'c.conf:1: unbalanced quotes'],
    ['loglevel loud\n', "c.conf:1: 'loglevel' must be one of trace, debug, info, warn, error, fatal, silent, got 'loud'"],
    ['maxmemory 12qb\n', "c.conf:1: 'maxmemory' needs a size such as 100mb or 2gb, got '12qb'"],
  ])('%j', (text, message) => {
    expect(fails(['c.conf'], {}, { 'c.conf': text })).toBe(message)
  })
  it('another Redis directive is passed on for the server to apply or warn about (in file order, then flags); bind takes every address', () => {
    const cfg = run(['c.conf', '--lazyfree-lazy-expire', 'yes', '--acl-pubsub-default=allchannels'], {}, {
      'c.conf': 'daemonize yes\nbind 127.0.0.2 -::1\ndatabases 16\nclient-output-buffer-limit normal 0 0 0\n' +
        'client-output-buffer-limit pubsub 32mb 8mb 60\ntimeout 7\ntcp-keepalive 60\nlatency-tracking-info-percentiles 50 99.9\n',
    }) as unknown as { bind: string, timeoutSec: number, tcpKeepaliveSec: number, redisParams: unknown[] }
    expect(cfg.bind).toBe('127.0.0.2 -::1')
    expect(cfg.timeoutSec).toBe(7)
    expect(cfg.tcpKeepaliveSec).toBe(60)
    expect(cfg.redisParams).toEqual([
      { where: 'c.conf:1', name: 'daemonize', value: 'yes' },
      { where: 'c.conf:8', name: 'latency-tracking-info-percentiles', value: '50 99.9' },
      { where: '--lazyfree-lazy-expire', name: 'lazyfree-lazy-expire', value: 'yes' },
      { where: '--acl-pubsub-default', name: 'acl-pubsub-default', value: 'allchannels' },
    ])
    expect(fails(['--activerehashing'])).toBe('--activerehashing needs a value')
    expect((cfg as unknown as { outputBufferLimits: number[][] }).outputBufferLimits).toEqual([[0, 0, 0, 0], [2, 32 * 1024 * 1024, 8 * 1024 * 1024, 60]])
    expect(fails(['c.conf'], {}, { 'c.conf': 'databases 8\nnot-redis 1\n' })).toBe("c.conf:2: unknown directive 'not-redis'")
  })
  it('environment values', () => {
    expect(fails([], { FLASHKV_SHARDS: '0' })).toBe('FLASHKV_SHARDS must be between 1 and 256, got 0')
    expect(fails([], { FLASHKV_PORT: 'x' })).toBe("FLASHKV_PORT needs an integer, got 'x'")
  })
  it('a missing file', () => {
    expect(fails(['nope.conf'])).toMatch(/^cannot read config file nope.conf: /)
  })
  it('SLOWLOG and LATENCY settings: directives, flags over file, defaults, and bad values', () => {
    const conf = 'slowlog-log-slower-than -1\nslowlog-max-len 5\nlatency-monitor-threshold 100\nlatency-tracking no\n'
    expect(run(['s.conf'], {}, { 's.conf': conf })).toMatchObject({ slowlogLogSlowerThan: -1, slowlogMaxLen: 5, latencyMonitorThreshold: 100, latencyTracking: false })
    expect(run(['s.conf', '--slowlog-log-slower-than', '0'], {}, { 's.conf': conf })).toMatchObject({ slowlogLogSlowerThan: 0 })
    expect(run([])).toMatchObject({ slowlogLogSlowerThan: 10000, slowlogMaxLen: 128, latencyMonitorThreshold: 0, latencyTracking: true })
    expect(fails(['--slowlog-log-slower-than', '-2'])).toBe("--slowlog-log-slower-than needs an integer of -1 or more, got '-2'")
    expect(fails([], { FLASHKV_LATENCY_TRACKING: 'maybe' })).toBe("FLASHKV_LATENCY_TRACKING must be yes or no, got 'maybe'")
  })
  it('directives are case-insensitive and quoted values work, as in redis.conf', () => {
    expect(run(['q.conf'], {}, { 'q.conf': 'PORT 7005\nbind "0.0.0.0"\n' })).toMatchObject({ port: 7005, bind: '0.0.0.0' })
  })
})

describe('parsers', () => {
  it('memory units like Redis memtoull', () => {
    expect(parseMemory('0')).toBe(0)
    expect(parseMemory('1k')).toBe(1000)
    expect(parseMemory('1KB')).toBe(1024)
    expect(parseMemory('3m')).toBe(3e6)
    expect(parseMemory('2gb')).toBe(2 * 1024 ** 3)
    expect(() => parseMemory('1.5gb')).toThrow(ConfigError)
  })
  it('config line splitting', () => {
    expect(splitConfigLine('bind  "a b"  c')).toEqual(['bind', 'a b', 'c'])
    expect(splitConfigLine("x 'it\\'s'")).toEqual(['x', "it's"])
    expect(splitConfigLine('x "a"b')).toBeNull()
  })
})

function fakeRoot (files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'flashkv-cg-'))
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true })
    writeFileSync(join(root, p), text)
  }
  return root
}

describe('cgroup limits', () => {
  it('v2: cpu.max quota and memory.max', () => {
    const root = fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': '150000 100000\n', 'sys/fs/cgroup/memory.max': '536870912\n' })
    expect(cgroupCpuLimit(root)).toBe(1.5)
    expect(cgroupMemoryLimit(root)).toBe(536870912)
    expect(defaultShards(root)).toBe(1) // ceil(1.5) = 2 CPUs, one for the primary
    // 1 shard + the primary + a core for clients exceed 2 CPUs: the primary blocks for replies.
    expect(usableCores(root)).toBe(2)
    expect(run([], {}, {}, root)).toMatchObject({ shards: 1, replyWaitUs: REPLY_WAIT_US, spinUs: SPIN_US })
    const c = run([], {}, {}, root)
    expect(c).toMatchObject({ cgroupMemoryLimit: 536870912, maxmemory: Math.floor(536870912 * CGROUP_MEMORY_SHARE), maxmemorySource: 'cgroup' })
  })
  it('v2: unlimited', () => {
    const root = fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': 'max 100000\n', 'sys/fs/cgroup/memory.max': 'max\n' })
    expect(cgroupCpuLimit(root)).toBeNull()
    expect(cgroupMemoryLimit(root)).toBeNull()
    expect(run([], {}, {}, root)).toMatchObject({ maxmemory: 0, maxmemorySource: 'default', cgroupMemoryLimit: 0 })
  })
  it('v2: the process cgroup path under the mount', () => {
    const root = fakeRoot({ 'proc/self/cgroup': '0::/kubepods/pod1\n', 'sys/fs/cgroup/kubepods/pod1/cpu.max': '400000 100000\n' })
    expect(cgroupCpuLimit(root)).toBe(4)
  })
  it('v1: cfs quota and memory.limit_in_bytes (cpu,cpuacct mount)', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000\n',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '1073741824\n',
    })
    expect(cgroupCpuLimit(root)).toBe(3)
    expect(cgroupMemoryLimit(root)).toBe(1073741824)
  })
  it('v1: -1 quota and the huge "unlimited" memory value', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '4:memory:/\n3:cpu:/\n',
      'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    })
    expect(cgroupCpuLimit(root)).toBeNull()
    expect(cgroupMemoryLimit(root)).toBeNull()
  })
  it('no cgroup files at all', () => {
    expect(cgroupCpuLimit('/nonexistent')).toBeNull()
    expect(cgroupMemoryLimit('/nonexistent')).toBeNull()
  })
})
