// Start-up configuration from three places, in this order of precedence: command-line flags,
// environment variables (FLASHKV_*), and a config file in redis.conf syntax (`flashkv FILE`).
// Each setting is declared once in SETTINGS; the defaults follow the container's cgroup limits.
// Bad input is a ConfigError naming the flag, variable, or file and line; main.ts exits 2.

import { PASSWORD_MAX } from './ipc/layout.js'
import { parseNotifyFlags } from './storage/notify.js'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { cgroupCpuLimit, cgroupMemoryLimit, usableCpus } from './cgroup.js'

export interface Config {
  readonly port: number
  readonly bind: string
  readonly shards: number
  /** Threads that own client sockets and RESP framing (1: the main thread alone). */
  readonly ioThreads: number
  readonly logLevel: string
  readonly maxclients: number
  /** HTTP port for /healthz, /readyz and /metrics; 0 = off. */
  readonly httpPort: number
  /**
   * Microseconds the primary may block at the end of a turn waiting for the shards' replies, so
   * that they go out in the same turn; 0 = never block (replies arrive by message).
   */
  readonly replyWaitUs: number
  /** Bytes; 0 = no limit. Writes that may grow memory get Redis's OOM error above it. */
  readonly maxmemory: number
  /** Where maxmemory came from: 'default', 'cgroup', 'file', 'env' or 'flag'. */
  readonly maxmemorySource: string
  /** The cgroup memory limit in bytes, 0 when none is enforced (INFO memory reports it). */
  readonly cgroupMemoryLimit: number
  /** notify-keyspace-events as flags (storage/notify.ts); 0 = off. */
  readonly notifyKeyspaceEvents: number
  /** hash-max-listpack-entries / -value: OBJECT ENCODING's listpack-to-hashtable thresholds. */
  readonly hashMaxListpackEntries: number
  readonly hashMaxListpackValue: number
  /** set-max-intset-entries: more members make an intset a hashtable. */
  readonly setMaxIntsetEntries: number
  /** zset-max-listpack-entries / -value: OBJECT ENCODING's listpack-to-skiplist thresholds. */
  readonly zsetMaxListpackEntries: number
  readonly zsetMaxListpackValue: number
  /** hll-sparse-max-bytes: a sparse HyperLogLog longer than this turns dense. */
  readonly hllSparseMaxBytes: number
  readonly configFile: string
  /** dir and dbfilename: where SAVE writes the RDB file, and which one is loaded at start. */
  readonly dir: string
  readonly dbfilename: string
  /** requirepass: the default user's password ('' = none). */
  readonly requirepass: string
  /** protected-mode: with no password, only loopback clients are accepted (Redis's default: yes). */
  readonly protectedMode: boolean
  /** save points, "seconds changes ..." ('' = none): BGSAVE once any is reached; SHUTDOWN and SIGTERM save. */
  readonly save: string
  /** rdbcompression, rdbchecksum, stop-writes-on-bgsave-error (Redis's defaults: all yes). */
  readonly rdbcompression: boolean
  readonly rdbchecksum: boolean
  readonly stopWritesOnBgsaveError: boolean
}

/** Redis's save points when no config says otherwise. */
export const DEFAULT_SAVE = '3600 1 300 100 60 10000'

/** "seconds changes ..." as setConfigSaveOption checks it: the normalised text, or null. */
export function parseSavePoints (v: string): string | null {
  const args = v.trim() === '' ? [] : v.trim().split(/\s+/)
  if (args.length % 2 !== 0) return null
  for (let j = 0; j < args.length; j++) {
    if (!/^[0-9]+$/.test(args[j])) return null
    if ((j & 1) === 0 && Number(args[j]) < 1) return null
  }
  return args.map(a => String(Number(a))).join(' ')
}

const yesNo = (v: string): number => {
  if (v !== 'yes' && v !== 'no') throw new ConfigError(`must be yes or no, got '${v}'`)
  return v === 'yes' ? 1 : 0
}

export class ConfigError extends Error {}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
/** redis.conf's loglevel names, mapped onto pino's. */
const REDIS_LOG_LEVELS: Record<string, string> = { debug: 'debug', verbose: 'debug', notice: 'info', warning: 'warn', nothing: 'silent' }

/** Share of the cgroup memory limit used as the default maxmemory: the rest is Node's own heap and buffers. */
export const CGROUP_MEMORY_SHARE = 0.8

/**
 * The cores for sockets and RESP (the I/O threads), the rest for shards; never fewer than one.
 * The CPUs counted are those this process may use: affinity, and the cgroup's CPU quota.
 */
export function defaultShards (cgroupRoot = '/', ioThreads = 1): number {
  return Math.max(1, usableCores(cgroupRoot) - ioThreads)
}

/**
 * One I/O thread up to 4 cores (today's shape: it is what small hosts run best), then one per
 * 4 cores: socket work per command is about what a shard's is, so a quarter of the cores keep
 * the I/O threads from being the ceiling while leaving the rest to shards.
 */
export function defaultIoThreads (cores: number): number {
  return cores <= 4 ? 1 : Math.floor(cores / 4)
}

export function usableCores (cgroupRoot = '/'): number {
  const cpus = usableCpus()
  const quota = cgroupCpuLimit(cgroupRoot)
  return quota === null ? cpus : Math.min(cpus, Math.max(1, Math.ceil(quota)))
}

/** The bound on a blocking wait for replies, when reply-wait-us is not given. */
export const REPLY_WAIT_US = 1000

/**
 * Block for replies only where the primary and the shard threads must share cores (with one
 * core left for clients and the kernel's network work): there the worker cannot run until the
 * primary yields anyway, and waking it while the primary keeps running cost up to a scheduler
 * slice (perf sched: 135 wake-ups over 1 ms in 3 s of SET -c 50 on 2 cores, 8 when blocking).
 * With a core per thread, the primary keeps reading while shards work.
 */
export function defaultReplyWaitUs (shards: number, cores: number): number {
  return shards + 2 > cores ? REPLY_WAIT_US : 0
}

export const USAGE = `Usage: flashkv [config-file] [options]

Settings come from flags, then FLASHKV_* environment variables, then the config file
(redis.conf syntax: one "directive value" per line, # comments).

Options (environment variable, config-file directive):
  --port <n>          TCP port, 0 picks a free one (FLASHKV_PORT, port; default 6379)
  --bind <addr>       listen address (FLASHKV_BIND, bind; default 127.0.0.1)
  --shards <n>        shard worker threads (FLASHKV_SHARDS, shards; default: usable CPUs,
                      after the cgroup CPU quota, minus one, at least 1)
  --io-threads <n>    threads that own client sockets and RESP framing; 1 = the main thread
                      alone (FLASHKV_IO_THREADS, io-threads; default 1 up to 4 usable CPUs,
                      then one per 4)
  --log-level <lvl>   ${LOG_LEVELS.join(', ')}; the file also takes Redis's debug, verbose,
                      notice, warning (FLASHKV_LOG_LEVEL, loglevel; default info)
  --maxclients <n>    most connected clients (FLASHKV_MAXCLIENTS, maxclients; default 10000)
  --maxmemory <size>  e.g. 512mb, 2gb, 0 = none (FLASHKV_MAXMEMORY, maxmemory; default
                      ${CGROUP_MEMORY_SHARE * 100}% of the cgroup memory limit when one is set, else 0)
  --http-port <n>     HTTP /healthz /readyz /metrics, 0 = off (FLASHKV_HTTP_PORT, http-port; default 0)
  --notify-keyspace-events <classes>  keyspace notifications, Redis's letters (KEA, Elg...)
                      (FLASHKV_NOTIFY_KEYSPACE_EVENTS, notify-keyspace-events; default '' = off)
  --hash-max-listpack-entries <n>  more fields make a hash a hashtable (FLASHKV_HASH_MAX_LISTPACK_ENTRIES,
                      hash-max-listpack-entries; default 512)
  --hash-max-listpack-value <n>  a longer field or value makes a hash a hashtable
                      (FLASHKV_HASH_MAX_LISTPACK_VALUE, hash-max-listpack-value; default 64)
  --set-max-intset-entries <n>  more members make an all-integer set a hashtable
                      (FLASHKV_SET_MAX_INTSET_ENTRIES, set-max-intset-entries; default 512)
  --zset-max-listpack-entries <n>, --zset-max-listpack-value <n>  sorted sets past these are
                      skiplists (FLASHKV_ZSET_MAX_LISTPACK_ENTRIES / _VALUE; defaults 128, 64)
  --hll-sparse-max-bytes <n>  a longer sparse HyperLogLog turns dense (FLASHKV_HLL_SPARSE_MAX_BYTES,
                      hll-sparse-max-bytes; default 3000)
  --reply-wait-us <n> longest the primary blocks at the end of a turn for shard replies, 0 =
                      never (FLASHKV_REPLY_WAIT_US, reply-wait-us; default ${REPLY_WAIT_US} when shards + 2
                      exceed the usable CPUs, else 0)
  --save <points>     "seconds changes ..." pairs: BGSAVE once that many changes are that old;
                      '' = none (FLASHKV_SAVE, save; default '${DEFAULT_SAVE}')
  --rdbcompression, --rdbchecksum, --stop-writes-on-bgsave-error <yes|no>  as in Redis
                      (FLASHKV_RDBCOMPRESSION, ...; default yes)
  --help              print this help and exit
  --version           print the version and exit
`

type Source = 'flag' | 'env' | 'file'
interface Setting {
  key: keyof Config
  flag: string
  env: string
  directive: string
  parse: (v: string) => number | string
}

function int (min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new ConfigError(`needs an integer, got '${v}'`)
    const n = Number(v)
    if (n < min || n > max) throw new ConfigError(`must be between ${min} and ${max}, got ${n}`)
    return n
  }
}

/** Redis's memtoull: plain bytes, or k/kb/m/mb/g/gb (k = 1000, kb = 1024), any case. */
export function parseMemory (v: string): number {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(v)
  if (m === null) throw new ConfigError(`needs a size such as 100mb or 2gb, got '${v}'`)
  const unit = (m[2] ?? '').toLowerCase()
  const mult: Record<string, number> = { '': 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 }
  return Number(m[1]) * mult[unit]
}

const SETTINGS: readonly Setting[] = [
  { key: 'port', flag: '--port', env: 'FLASHKV_PORT', directive: 'port', parse: int(0, 65535) },
  {
    key: 'bind',
    flag: '--bind',
    env: 'FLASHKV_BIND',
    directive: 'bind',
    parse: v => {
      if (v === '') throw new ConfigError('needs an address')
      return v
    },
  },
  { key: 'shards', flag: '--shards', env: 'FLASHKV_SHARDS', directive: 'shards', parse: int(1, 256) },
  { key: 'ioThreads', flag: '--io-threads', env: 'FLASHKV_IO_THREADS', directive: 'io-threads', parse: int(1, 128) },
  {
    key: 'logLevel',
    flag: '--log-level',
    env: 'FLASHKV_LOG_LEVEL',
    directive: 'loglevel',
    parse: v => {
      if ((LOG_LEVELS as readonly string[]).includes(v)) return v
      const mapped = REDIS_LOG_LEVELS[v]
      if (mapped !== undefined) return mapped
      throw new ConfigError(`must be one of ${LOG_LEVELS.join(', ')}, got '${v}'`)
    },
  },
  { key: 'maxclients', flag: '--maxclients', env: 'FLASHKV_MAXCLIENTS', directive: 'maxclients', parse: int(1, 1_000_000) },
  { key: 'maxmemory', flag: '--maxmemory', env: 'FLASHKV_MAXMEMORY', directive: 'maxmemory', parse: parseMemory },
  {
    key: 'notifyKeyspaceEvents',
    flag: '--notify-keyspace-events',
    env: 'FLASHKV_NOTIFY_KEYSPACE_EVENTS',
    directive: 'notify-keyspace-events',
    parse: v => {
      const f = parseNotifyFlags(v)
      if (f === null) throw new ConfigError(`invalid event class character in '${v}': use 'Ag$lshzxeKEtmdn'`)
      return f
    },
  },
  { key: 'hashMaxListpackEntries', flag: '--hash-max-listpack-entries', env: 'FLASHKV_HASH_MAX_LISTPACK_ENTRIES', directive: 'hash-max-listpack-entries', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'hashMaxListpackValue', flag: '--hash-max-listpack-value', env: 'FLASHKV_HASH_MAX_LISTPACK_VALUE', directive: 'hash-max-listpack-value', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'setMaxIntsetEntries', flag: '--set-max-intset-entries', env: 'FLASHKV_SET_MAX_INTSET_ENTRIES', directive: 'set-max-intset-entries', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'zsetMaxListpackEntries', flag: '--zset-max-listpack-entries', env: 'FLASHKV_ZSET_MAX_LISTPACK_ENTRIES', directive: 'zset-max-listpack-entries', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'zsetMaxListpackValue', flag: '--zset-max-listpack-value', env: 'FLASHKV_ZSET_MAX_LISTPACK_VALUE', directive: 'zset-max-listpack-value', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'hllSparseMaxBytes', flag: '--hll-sparse-max-bytes', env: 'FLASHKV_HLL_SPARSE_MAX_BYTES', directive: 'hll-sparse-max-bytes', parse: int(0, Number.MAX_SAFE_INTEGER) },
  {
    key: 'dir',
    flag: '--dir',
    env: 'FLASHKV_DIR',
    directive: 'dir',
    parse: v => {
      if (v === '') throw new ConfigError('needs a directory')
      return v
    },
  },
  {
    key: 'dbfilename',
    flag: '--dbfilename',
    env: 'FLASHKV_DBFILENAME',
    directive: 'dbfilename',
    // Redis's isValidDBfilename: a file name, not a path.
    parse: v => {
      if (v === '' || v.includes('/')) throw new ConfigError('dbfilename can\'t be a path, just a filename')
      return v
    },
  },
  {
    key: 'save',
    flag: '--save',
    env: 'FLASHKV_SAVE',
    directive: 'save',
    parse: v => {
      const p = parseSavePoints(v)
      if (p === null) throw new ConfigError('Invalid save parameters')
      return p
    },
  },
  { key: 'rdbcompression', flag: '--rdbcompression', env: 'FLASHKV_RDBCOMPRESSION', directive: 'rdbcompression', parse: yesNo },
  { key: 'rdbchecksum', flag: '--rdbchecksum', env: 'FLASHKV_RDBCHECKSUM', directive: 'rdbchecksum', parse: yesNo },
  { key: 'stopWritesOnBgsaveError', flag: '--stop-writes-on-bgsave-error', env: 'FLASHKV_STOP_WRITES_ON_BGSAVE_ERROR', directive: 'stop-writes-on-bgsave-error', parse: yesNo },
  {
    key: 'protectedMode',
    flag: '--protected-mode',
    env: 'FLASHKV_PROTECTED_MODE',
    directive: 'protected-mode',
    parse: v => {
      if (v !== 'yes' && v !== 'no') throw new ConfigError(`must be yes or no, got '${v}'`)
      return v === 'yes' ? 1 : 0
    },
  },
  {
    key: 'requirepass',
    flag: '--requirepass',
    env: 'FLASHKV_REQUIREPASS',
    directive: 'requirepass',
    // Refused rather than cut: a server must not start with a password other than the one given.
    parse: v => {
      if (Buffer.byteLength(v, 'latin1') > PASSWORD_MAX) throw new ConfigError(`must be at most ${PASSWORD_MAX} bytes`)
      return v
    },
  },
  { key: 'httpPort', flag: '--http-port', env: 'FLASHKV_HTTP_PORT', directive: 'http-port', parse: int(0, 65535) },
  { key: 'replyWaitUs', flag: '--reply-wait-us', env: 'FLASHKV_REPLY_WAIT_US', directive: 'reply-wait-us', parse: int(0, 1_000_000) },
]

/** Redis's sdssplitargs, enough for config lines: bare words, "double" and 'single' quotes. */
export function splitConfigLine (line: string): string[] | null {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++
    if (i >= line.length) break
    let cur = ''
    if (line[i] === '"' || line[i] === "'") {
      const q = line[i++]
      let closed = false
      while (i < line.length) {
        const c = line[i]
        if (q === '"' && c === '\\' && i + 1 < line.length) {
          const n = line[i + 1]
          const esc: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' }
          cur += esc[n] ?? n
          i += 2
        } else if (q === "'" && c === '\\' && line[i + 1] === "'") {
          cur += "'"
          i += 2
        } else if (c === q) {
          closed = true
          i++
          break
        } else {
          cur += c
          i++
        }
      }
      if (!closed || (i < line.length && !/\s/.test(line[i]))) return null
    } else {
      while (i < line.length && !/\s/.test(line[i])) cur += line[i++]
    }
    out.push(cur)
  }
  return out
}

/** Parses a config file's text into setting values; errors name the file and line. */
export function parseConfigFile (text: string, file: string): Map<keyof Config, number | string> {
  const values = new Map<keyof Config, number | string>()
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const trimmed = lines[n].trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const where = `${file}:${n + 1}`
    const words = splitConfigLine(trimmed)
    if (words === null) throw new ConfigError(`${where}: unbalanced quotes`)
    const directive = words[0].toLowerCase()
    const setting = SETTINGS.find(s => s.directive === directive)
    if (setting === undefined) throw new ConfigError(`${where}: unknown directive '${words[0]}'`)
    // save takes its pairs as several words, and several save lines add up, as in redis.conf.
    if (directive === 'save' && words.length > 2) words.splice(1, words.length - 1, words.slice(1).join(' '))
    if (words.length !== 2) throw new ConfigError(`${where}: '${directive}' takes exactly one value, got ${words.length - 1}`)
    if (directive === 'save' && words[1] !== '' && values.has('save')) words[1] = `${values.get('save') as string} ${words[1]}`
    try {
      values.set(setting.key, setting.parse(words[1]))
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${where}: '${directive}' ${err.message}`)
      throw err
    }
  }
  return values
}

export type ParseResult = { kind: 'run', config: Config } | { kind: 'help' } | { kind: 'version' }

export interface ParseOptions {
  env?: NodeJS.ProcessEnv
  readFile?: (path: string) => string
  cgroupRoot?: string
}

export function parseArgs (argv: readonly string[], opts: ParseOptions = {}): ParseResult {
  const env = opts.env ?? {}
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'))
  const cgroupRoot = opts.cgroupRoot ?? '/'
  const fromFlags = new Map<keyof Config, number | string>()
  let configFile = ''
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]
    let value: string | undefined
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq) }
    if (arg === '--help' || arg === '-h') return { kind: 'help' }
    if (arg === '--version' || arg === '-v') return { kind: 'version' }
    const setting = SETTINGS.find(s => s.flag === arg)
    if (setting === undefined) {
      if (!arg.startsWith('-') && configFile === '' && value === undefined) { configFile = arg; continue }
      throw new ConfigError(`unknown option '${arg}'`)
    }
    const v = value ?? argv[++i]
    if (v === undefined) throw new ConfigError(`${setting.flag} needs a value`)
    try {
      fromFlags.set(setting.key, setting.parse(v))
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${setting.flag} ${err.message}`)
      throw err
    }
  }
  const fromEnv = new Map<keyof Config, number | string>()
  for (const s of SETTINGS) {
    const v = env[s.env]
    if (v === undefined) continue
    try {
      fromEnv.set(s.key, s.parse(v))
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${s.env} ${err.message}`)
      throw err
    }
  }
  let fromFile = new Map<keyof Config, number | string>()
  if (configFile !== '') {
    let text: string
    try {
      text = readFile(configFile)
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`)
    }
    fromFile = parseConfigFile(text, configFile)
  }
  const pick = (key: keyof Config): [number | string | undefined, Source | null] => {
    for (const [m, src] of [[fromFlags, 'flag'], [fromEnv, 'env'], [fromFile, 'file']] as const) {
      if (m.has(key)) return [m.get(key), src]
    }
    return [undefined, null]
  }
  const memLimit = cgroupMemoryLimit(cgroupRoot) ?? 0
  const [maxmemory, memSource] = pick('maxmemory')
  const cores = usableCores(cgroupRoot)
  const ioThreads = (pick('ioThreads')[0] as number | undefined) ?? defaultIoThreads(cores)
  const shards = (pick('shards')[0] as number | undefined) ?? defaultShards(cgroupRoot, ioThreads)
  const config: Config = {
    port: (pick('port')[0] as number | undefined) ?? 6379,
    bind: (pick('bind')[0] as string | undefined) ?? '127.0.0.1',
    shards,
    ioThreads,
    // The I/O threads count as the primary does: each one beyond the first takes a core.
    replyWaitUs: (pick('replyWaitUs')[0] as number | undefined) ?? defaultReplyWaitUs(shards + ioThreads - 1, cores),
    logLevel: (pick('logLevel')[0] as string | undefined) ?? 'info',
    maxclients: (pick('maxclients')[0] as number | undefined) ?? 10000,
    httpPort: (pick('httpPort')[0] as number | undefined) ?? 0,
    maxmemory: (maxmemory as number | undefined) ?? Math.floor(memLimit * CGROUP_MEMORY_SHARE),
    maxmemorySource: memSource ?? (memLimit > 0 ? 'cgroup' : 'default'),
    cgroupMemoryLimit: memLimit,
    notifyKeyspaceEvents: (pick('notifyKeyspaceEvents')[0] as number | undefined) ?? 0,
    hashMaxListpackEntries: (pick('hashMaxListpackEntries')[0] as number | undefined) ?? 512,
    hashMaxListpackValue: (pick('hashMaxListpackValue')[0] as number | undefined) ?? 64,
    setMaxIntsetEntries: (pick('setMaxIntsetEntries')[0] as number | undefined) ?? 512,
    zsetMaxListpackEntries: (pick('zsetMaxListpackEntries')[0] as number | undefined) ?? 128,
    zsetMaxListpackValue: (pick('zsetMaxListpackValue')[0] as number | undefined) ?? 64,
    hllSparseMaxBytes: (pick('hllSparseMaxBytes')[0] as number | undefined) ?? 3000,
    // INFO server's config_file is an absolute path, as Redis prints it.
    configFile: configFile === '' ? '' : resolve(configFile),
    // Redis chdirs to `dir` and reports it absolute; the default is where the server started.
    dir: resolve((pick('dir')[0] as string | undefined) ?? '.'),
    dbfilename: (pick('dbfilename')[0] as string | undefined) ?? 'dump.rdb',
    requirepass: (pick('requirepass')[0] as string | undefined) ?? '',
    protectedMode: ((pick('protectedMode')[0] as number | undefined) ?? 1) === 1,
    save: (pick('save')[0] as string | undefined) ?? DEFAULT_SAVE,
    rdbcompression: ((pick('rdbcompression')[0] as number | undefined) ?? 1) === 1,
    rdbchecksum: ((pick('rdbchecksum')[0] as number | undefined) ?? 1) === 1,
    stopWritesOnBgsaveError: ((pick('stopWritesOnBgsaveError')[0] as number | undefined) ?? 1) === 1,
  }
  return { kind: 'run', config: Object.freeze(config) }
}
