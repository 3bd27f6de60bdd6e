// Start-up configuration from three places, in this order of precedence: command-line flags,
// environment variables (FLASHKV_*), and a config file in redis.conf syntax (`flashkv FILE`).
// Each setting is declared once in SETTINGS; the defaults follow the container's cgroup limits.
// Bad input is a ConfigError naming the flag, variable, or file and line; main.ts exits 2.

import { Buffer } from 'node:buffer'
import { PASSWORD_MAX } from './ipc/layout.js'
import { parseNotifyFlags } from './storage/notify.js'
import { POLICY_NAMES } from './storage/eviction.js'
import { readFileSync, statSync, accessSync, openSync, closeSync, constants as fsConstants } from 'node:fs'
import { resolve } from 'node:path'
import { cgroupCpuLimit, cgroupMemoryLimit, usableCpus } from './cgroup.js'
import { REDIS_DIRECTIVES } from './redis-directives.js'
import { parseShutdownOnSig } from './persistence/save-state.js'
import { PINO_LEVEL_OF_REDIS, redisLevelOf } from './log.js'

export interface Config {
  readonly port: number
  readonly bind: string
  readonly shards: number
  /** Threads that own client sockets and RESP framing (1: the main thread alone). */
  readonly ioThreads: number
  readonly logLevel: string
  /** The same level as CONFIG GET loglevel names it (log.ts REDIS_LOG_LEVELS): redis.conf's own name when given one. */
  readonly logLevelIndex: number
  /** logfile: where the log lines go ('' = stdout); pidfile: a file the process id is written to ('' = none). Absolute, relative ones taken from `dir` as Redis (which chdirs there) takes them. */
  readonly logfile: string
  readonly pidfile: string
  /** unixsocket: a Unix socket path to listen on too ('' = none), as given (relative to dir); unixsocketperm: its mode, 0 = the umask's. */
  readonly unixsocket: string
  readonly unixsocketperm: number
  readonly maxclients: number
  /** tcp-backlog: listen(2)'s accept queue (server/listeners.ts). */
  readonly tcpBacklog: number
  /** HTTP port for /healthz, /readyz and /metrics; 0 = off. */
  readonly httpPort: number
  /**
   * Microseconds the primary may block at the end of a turn waiting for the shards' replies, so
   * that they go out in the same turn; 0 = never block (replies arrive by message).
   */
  readonly replyWaitUs: number
  /**
   * Microseconds a thread that just answered a short batch watches for the next one before it
   * sleeps (a shard on its ring, the primary on a reply); 0 = sleep at once.
   */
  readonly spinUs: number
  /** server_cpulist: the CPUs every server thread may run on, Redis's syntax ('' = any). */
  readonly serverCpulist: string
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
  /** maxmemory-policy as storage/eviction.ts POLICY_* (0 = noeviction). */
  readonly maxmemoryPolicy: number
  /** maxmemory-samples, lfu-log-factor, lfu-decay-time, maxmemory-eviction-tenacity. */
  readonly maxmemorySamples: number
  readonly lfuLogFactor: number
  readonly lfuDecayTime: number
  readonly evictionTenacity: number
  /** tracking-table-max-keys: keys CLIENT TRACKING remembers before it invalidates some (0: no limit). */
  readonly trackingTableMaxKeys: number
  readonly configFile: string
  /** dir and dbfilename: where SAVE writes the RDB file, and which one is loaded at start. */
  readonly dir: string
  readonly dbfilename: string
  /** requirepass: the default user's password ('' = none). */
  readonly requirepass: string
  /** aclfile: where ACL SAVE writes and ACL LOAD reads users ('' = none); loaded at start. */
  readonly aclfile: string
  /** The config file's `user <name> <rules...>` directives, one line each ("name rules..."). */
  readonly users: readonly string[]
  /** protected-mode: with no password, only loopback clients are accepted (Redis's default: yes). */
  readonly protectedMode: boolean
  /** enable-debug-command: DEBUG for everyone, loopback clients, or no one (Redis's default). */
  readonly enableDebugCommand: 'no' | 'yes' | 'local'
  /** enable-protected-configs: CONFIG SET of dir and dbfilename for everyone, loopback clients, or no one (default). */
  readonly enableProtectedConfigs: 'no' | 'yes' | 'local'
  /** enable-module-command: kept and reported as Redis does; FlashKV loads no modules. */
  readonly enableModuleCommand: 'no' | 'yes' | 'local'
  /** timeout: idle seconds before a client is closed (0 = never); tcp-keepalive: seconds. */
  readonly timeoutSec: number
  readonly tcpKeepaliveSec: number
  /** client-output-buffer-limit lines of the config file: [class (0 normal, 1 replica, 2 pubsub), hard, soft, seconds]. */
  readonly outputBufferLimits: ReadonlyArray<readonly [number, number, number, number]>
  /** rename-command pairs from the config file, in order (an empty new name removes the command). */
  readonly renameCommands: ReadonlyArray<readonly [string, string]>
  /**
   * Redis directives that are not FlashKV settings above, from the config file and then from
   * `--<name> <value>` flags, in that order: main.ts applies each one CONFIG SET can change as
   * CONFIG SET would, and warns about the others (commands/config.ts startupParam).
   */
  readonly redisParams: readonly RedisParam[]
  /** SLOWLOG and LATENCY (commands/slowlog.ts, latency.ts): µs (-1 = off), entries, ms (0 = off). */
  readonly slowlogLogSlowerThan: number
  readonly slowlogMaxLen: number
  readonly latencyMonitorThreshold: number
  /** latency-tracking: per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM). */
  readonly latencyTracking: boolean
  /** TLS (src/server/tls.ts): tls-port 0 = no TLS listener; the rest as Redis's tls-* directives. */
  readonly tls: TlsConfig
  /** save points, "seconds changes ..." ('' = none): BGSAVE once any is reached; SHUTDOWN and SIGTERM save. */
  readonly save: string
  /** rdbcompression, rdbchecksum, stop-writes-on-bgsave-error (Redis's defaults: all yes). */
  readonly rdbcompression: boolean
  readonly rdbchecksum: boolean
  readonly stopWritesOnBgsaveError: boolean
  /** shutdown-on-sigint and shutdown-on-sigterm as SHUTDOWN_* flags (0 = default); shutdown-timeout in seconds. */
  readonly shutdownOnSigint: number
  readonly shutdownOnSigterm: number
  readonly shutdownTimeout: number
  /** The append-only file (persistence/aof*.ts), Redis 7.0's settings and defaults. */
  readonly appendonly: boolean
  /** appendfsync: 0 no, 1 everysec, 2 always. */
  readonly appendfsync: number
  readonly appenddirname: string
  readonly appendfilename: string
  readonly aofUseRdbPreamble: boolean
  readonly autoAofRewritePercentage: number
  readonly autoAofRewriteMinSize: number
  readonly aofLoadTruncated: boolean
  readonly aofTimestampEnabled: boolean
}

export interface TlsConfig {
  readonly port: number
  readonly certFile: string
  readonly keyFile: string
  readonly keyFilePass: string
  readonly caCertFile: string
  readonly caCertDir: string
  /** yes: a client certificate is required; optional: checked when given; no: not asked for. */
  readonly authClients: 'yes' | 'no' | 'optional'
  /** Space-separated TLSv1 ... TLSv1.3; '' = TLSv1.2 and TLSv1.3, as Redis. */
  readonly protocols: string
  readonly ciphers: string
  readonly ciphersuites: string
  readonly preferServerCiphers: boolean
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

/** appenddirname, appendfilename: a plain name (Redis's pathIsBaseName). */
const fileName = (what: string) => (v: string): string => {
  if (v === '' || v.includes('/')) throw new ConfigError(`${what} can't be a path, just a filename`)
  return v
}

function shutdownOnSig (v: string): number {
  const flags = parseShutdownOnSig(v)
  if (typeof flags === 'string') throw new ConfigError(flags)
  return flags
}

const yesNo = (v: string): number => {
  if (v !== 'yes' && v !== 'no') throw new ConfigError(`must be yes or no, got '${v}'`)
  return v === 'yes' ? 1 : 0
}

export class ConfigError extends Error {}

/**
 * Redis chdirs to `dir` as it reads the directive and refuses to start when it cannot, with
 * strerror's text. Starting anyway left a server whose every save failed, and a save point's
 * failure then refused SIGTERM (Redis's rule), so `docker stop` had to kill it.
 */
/** A path as Redis, having chdir'ed to `dir`, opens it ('' stays ''). */
function inDir (dir: string, v: string | undefined): string {
  return v === undefined || v === '' ? '' : resolve(dir, v)
}

function checkDir (v: string): void {
  let reason = ''
  try {
    if (!statSync(v).isDirectory()) reason = 'Not a directory'
    else accessSync(v, fsConstants.X_OK)
  } catch (err) {
    reason = errnoText(err)
  }
  if (reason !== '') throw new ConfigError(`can't chdir to '${v}': ${reason}`)
}

/** strerror's text for the errors opening a path meets. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory', ENOTDIR: 'Not a directory', EACCES: 'Permission denied', EISDIR: 'Is a directory',
  EADDRINUSE: 'Address already in use', EROFS: 'Read-only file system', ENAMETOOLONG: 'File name too long', EPERM: 'Operation not permitted',
}

export function errnoText (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  return STRERROR[code ?? ''] ?? (err as Error).message
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

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

/** The spin before sleeping, when spin-us is not given. */
export const SPIN_US = 200

/**
 * Spin only where every server thread has a core of its own: then a spinning thread takes no
 * core another one needs. One client at a time (redis-benchmark -c 1, 1 shard, 2 CPUs) waits on
 * two wake-ups per request otherwise, each a futex syscall and a scheduler hop that this VM makes
 * dear: GET -c 1 went from 8.6-13.0k to 19.6-21.8k requests/s (Redis 18-22k, warm servers),
 * while CPU per command at -c 50 and -P 16 stayed within noise (only short batches spin).
 */
export function defaultSpinUs (threads: number, cores: number): number {
  return threads <= cores ? SPIN_US : 0
}

export const USAGE = `Usage: flashkv [config-file] [options]

Settings come from flags, then FLASHKV_* environment variables, then the config file
(redis.conf syntax: one "directive value" per line, # comments).

Options (environment variable, config-file directive):
  --port <n>          TCP port, 0 picks a free one (FLASHKV_PORT, port; default 6379)
  --bind <addrs>      listen addresses, space-separated, '-' for optional ones
                      (FLASHKV_BIND, bind; default 127.0.0.1)
  --shards <n>        shard worker threads (FLASHKV_SHARDS, shards; default: usable CPUs,
                      after the cgroup CPU quota, minus one, at least 1)
  --io-threads <n>    threads that own client sockets and RESP framing; 1 = the main thread
                      alone (FLASHKV_IO_THREADS, io-threads; default 1 up to 4 usable CPUs,
                      then one per 4)
  --log-level <lvl>   ${LOG_LEVELS.join(', ')}; the file also takes Redis's debug, verbose,
                      notice, warning (FLASHKV_LOG_LEVEL, loglevel; default info)
  --logfile <path>    append the log lines there instead of stdout, relative to dir
                      (FLASHKV_LOGFILE, logfile; default '' = stdout)
  --pidfile <path>    write the process id there once listening, relative to dir; removed at
                      shutdown (FLASHKV_PIDFILE, pidfile; default '' = none)
  --unixsocket <path>  listen on this Unix socket as well, relative to dir; a file already there
                      is replaced, and removed at shutdown (FLASHKV_UNIXSOCKET, unixsocket;
                      default '' = none); --unixsocketperm <octal> its mode, e.g. 770
                      (FLASHKV_UNIXSOCKETPERM, unixsocketperm; default 0 = as the umask leaves it)
  --maxclients <n>    most connected clients (FLASHKV_MAXCLIENTS, maxclients; default 10000)
  --tcp-backlog <n>   listen(2)'s queue of connections not yet accepted, capped by the kernel's
                      net.core.somaxconn (FLASHKV_TCP_BACKLOG, tcp-backlog; default 511)
  --maxmemory <size>  e.g. 512mb, 2gb, 0 = none (FLASHKV_MAXMEMORY, maxmemory; default
                      ${CGROUP_MEMORY_SHARE * 100}% of the cgroup memory limit when one is set, else 0)
  --maxmemory-policy <p>  what goes above maxmemory: noeviction (-OOM), allkeys-lru, allkeys-lfu,
                      allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl
                      (FLASHKV_MAXMEMORY_POLICY, maxmemory-policy; default noeviction)
  --maxmemory-samples <n>  keys sampled per eviction (FLASHKV_MAXMEMORY_SAMPLES, maxmemory-samples;
                      default 5); also --maxmemory-eviction-tenacity <0-100> (default 10),
                      --lfu-log-factor <n> (default 10), --lfu-decay-time <minutes> (default 1)
  --tracking-table-max-keys <n>  keys CLIENT TRACKING remembers, 0 = no limit
                      (FLASHKV_TRACKING_TABLE_MAX_KEYS, tracking-table-max-keys; default 1000000)
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
  --slowlog-log-slower-than <us>  SLOWLOG logs commands that ran this long, -1 = none
                      (FLASHKV_SLOWLOG_LOG_SLOWER_THAN, slowlog-log-slower-than; default 10000)
  --slowlog-max-len <n>  SLOWLOG entries kept (FLASHKV_SLOWLOG_MAX_LEN, slowlog-max-len; default 128)
  --latency-monitor-threshold <ms>  LATENCY events for commands this slow, 0 = off
                      (FLASHKV_LATENCY_MONITOR_THRESHOLD, latency-monitor-threshold; default 0)
  --latency-tracking yes|no  per-command latency histograms for INFO latencystats
                      (FLASHKV_LATENCY_TRACKING, latency-tracking; default yes)
  --reply-wait-us <n> longest the primary blocks at the end of a turn for shard replies, 0 =
                      never (FLASHKV_REPLY_WAIT_US, reply-wait-us; default ${REPLY_WAIT_US} when shards + 2
                      exceed the usable CPUs, else 0)
  --spin-us <n>       how long a shard (or the primary) that just answered a short batch watches
                      for more before it sleeps, 0 = sleep at once (FLASHKV_SPIN_US, spin-us;
                      default ${SPIN_US} when shards + I/O threads fit the usable CPUs, else 0)
  --server-cpulist <cpus>  the CPUs every server thread may run on, Redis's syntax: 0,2 or 4-7 or
                      0-7:2 (FLASHKV_SERVER_CPULIST, server_cpulist; default '' = any; needs taskset)
  --enable-debug-command no|yes|local  allow DEBUG (FLASHKV_ENABLE_DEBUG_COMMAND, enable-debug-command;
                      default no; local: loopback clients only)
  --enable-protected-configs no|yes|local  allow CONFIG SET of dir and dbfilename
                      (FLASHKV_ENABLE_PROTECTED_CONFIGS, enable-protected-configs; default no)
  --enable-module-command no|yes|local  allow MODULE LOAD/LOADEX/UNLOAD (no modules load)
                      (FLASHKV_ENABLE_MODULE_COMMAND, enable-module-command; default no)
  --timeout <sec>     close clients idle this long, 0 = never (FLASHKV_TIMEOUT, timeout; default 0)
  --tcp-keepalive <sec>  TCP keepalive interval, 0 = off (FLASHKV_TCP_KEEPALIVE, tcp-keepalive; default 300)
  --tls-port <n>      TLS listener beside the plain port, 0 = off (FLASHKV_TLS_PORT, tls-port; default 0),
                      with --tls-cert-file, --tls-key-file, --tls-key-file-pass, --tls-ca-cert-file,
                      --tls-ca-cert-dir, --tls-auth-clients yes|no|optional (default yes),
                      --tls-protocols, --tls-ciphers, --tls-ciphersuites, --tls-prefer-server-ciphers
                      (FLASHKV_TLS_*, Redis's tls-* directives)
  --save <points>     "seconds changes ..." pairs: BGSAVE once that many changes are that old;
                      '' = none (FLASHKV_SAVE, save; default '${DEFAULT_SAVE}')
  --rdbcompression, --rdbchecksum, --stop-writes-on-bgsave-error <yes|no>  as in Redis
                      (FLASHKV_RDBCOMPRESSION, ...; default yes)
  --shutdown-on-sigterm, --shutdown-on-sigint <flags>  what a signal's shutdown does: default
                      (save if there are save points), or save|nosave, now, force as SHUTDOWN
                      takes them (FLASHKV_SHUTDOWN_ON_SIGTERM, ...; default default)
  --shutdown-timeout <s>  accepted as in Redis, where it bounds the wait for replicas; FlashKV has
                      none (FLASHKV_SHUTDOWN_TIMEOUT, shutdown-timeout; default 10)
  --appendonly <yes|no>  the append-only file (FLASHKV_APPENDONLY, appendonly; default no), with
                      --appendfsync always|everysec|no (default everysec), --appenddirname
                      (appendonlydir), --appendfilename (appendonly.aof), --aof-use-rdb-preamble,
                      --aof-load-truncated (yes), --aof-timestamp-enabled (no),
                      --auto-aof-rewrite-percentage (100), --auto-aof-rewrite-min-size (64mb)
                      (FLASHKV_APPENDFSYNC, ..., and Redis's directives)
  --help              print this help and exit
  --version           print the version and exit
`

type Source = 'flag' | 'env' | 'file'
/** getClientTypeByName for client-output-buffer-limit (the master class is refused). */
const OBUF_CLASS_INDEX: Record<string, number> = { normal: 0, slave: 1, replica: 1, pubsub: 2 }

/** The flat names the tls-* settings are picked by (tlsPort, tlsCertFile...). */
type TlsKey = `tls${Capitalize<keyof TlsConfig & string>}`
type SettingKey = keyof Config | TlsKey

interface Setting {
  key: SettingKey
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

/** An octal file mode of 0 to 777, as Redis's OCTAL_CONFIG reads unixsocketperm. */
function octalPerm (v: string): number {
  if (!/^[0-7]*$/.test(v)) throw new ConfigError(`needs an octal number, got '${v}'`)
  const n = v === '' ? 0 : parseInt(v, 8)
  if (n > 0o777) throw new ConfigError(`must be between 0 and 777, got ${v}`)
  return n
}

/** Redis's memtoull: plain bytes, or k/kb/m/mb/g/gb (k = 1000, kb = 1024), any case. */
export function parseMemory (v: string): number {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(v)
  if (m === null) throw new ConfigError(`needs a size such as 100mb or 2gb, got '${v}'`)
  const unit = (m[2] ?? '').toLowerCase()
  const mult: Record<string, number> = { '': 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 }
  return Number(m[1]) * mult[unit]
}

function gate (v: string): string {
  if (v !== 'yes' && v !== 'no' && v !== 'local') throw new ConfigError(`must be one of no, yes, local, got '${v}'`)
  return v
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
    // Kept as given: config.logLevel is pino's name for it, logLevelIndex Redis's (CONFIG GET).
    parse: v => {
      if ((LOG_LEVELS as readonly string[]).includes(v) || PINO_LEVEL_OF_REDIS[v] !== undefined) return v
      throw new ConfigError(`must be one of ${LOG_LEVELS.join(', ')}, got '${v}'`)
    },
  },
  { key: 'logfile', flag: '--logfile', env: 'FLASHKV_LOGFILE', directive: 'logfile', parse: v => v },
  { key: 'pidfile', flag: '--pidfile', env: 'FLASHKV_PIDFILE', directive: 'pidfile', parse: v => v },
  { key: 'unixsocket', flag: '--unixsocket', env: 'FLASHKV_UNIXSOCKET', directive: 'unixsocket', parse: v => v },
  { key: 'unixsocketperm', flag: '--unixsocketperm', env: 'FLASHKV_UNIXSOCKETPERM', directive: 'unixsocketperm', parse: octalPerm },
  { key: 'maxclients', flag: '--maxclients', env: 'FLASHKV_MAXCLIENTS', directive: 'maxclients', parse: int(1, 1_000_000) },
  { key: 'tcpBacklog', flag: '--tcp-backlog', env: 'FLASHKV_TCP_BACKLOG', directive: 'tcp-backlog', parse: int(0, 2147483647) },
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
  // Redis 7.0 still reads the ziplist names of these four (redis.conf files from 6.x have them).
  { key: 'hashMaxListpackEntries', flag: '--hash-max-ziplist-entries', env: 'FLASHKV_HASH_MAX_ZIPLIST_ENTRIES', directive: 'hash-max-ziplist-entries', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'hashMaxListpackValue', flag: '--hash-max-ziplist-value', env: 'FLASHKV_HASH_MAX_ZIPLIST_VALUE', directive: 'hash-max-ziplist-value', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'zsetMaxListpackEntries', flag: '--zset-max-ziplist-entries', env: 'FLASHKV_ZSET_MAX_ZIPLIST_ENTRIES', directive: 'zset-max-ziplist-entries', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'zsetMaxListpackValue', flag: '--zset-max-ziplist-value', env: 'FLASHKV_ZSET_MAX_ZIPLIST_VALUE', directive: 'zset-max-ziplist-value', parse: int(0, Number.MAX_SAFE_INTEGER) },
  {
    key: 'maxmemoryPolicy',
    flag: '--maxmemory-policy',
    env: 'FLASHKV_MAXMEMORY_POLICY',
    directive: 'maxmemory-policy',
    parse: v => {
      const p = POLICY_NAMES.indexOf(v.toLowerCase())
      if (p < 0) throw new ConfigError(`must be one of ${POLICY_NAMES.join(', ')}, got '${v}'`)
      return p
    },
  },
  { key: 'maxmemorySamples', flag: '--maxmemory-samples', env: 'FLASHKV_MAXMEMORY_SAMPLES', directive: 'maxmemory-samples', parse: int(1, 2147483647) },
  { key: 'evictionTenacity', flag: '--maxmemory-eviction-tenacity', env: 'FLASHKV_MAXMEMORY_EVICTION_TENACITY', directive: 'maxmemory-eviction-tenacity', parse: int(0, 100) },
  { key: 'lfuLogFactor', flag: '--lfu-log-factor', env: 'FLASHKV_LFU_LOG_FACTOR', directive: 'lfu-log-factor', parse: int(0, 2147483647) },
  { key: 'trackingTableMaxKeys', flag: '--tracking-table-max-keys', env: 'FLASHKV_TRACKING_TABLE_MAX_KEYS', directive: 'tracking-table-max-keys', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'lfuDecayTime', flag: '--lfu-decay-time', env: 'FLASHKV_LFU_DECAY_TIME', directive: 'lfu-decay-time', parse: int(0, 2147483647) },
  { key: 'hllSparseMaxBytes', flag: '--hll-sparse-max-bytes', env: 'FLASHKV_HLL_SPARSE_MAX_BYTES', directive: 'hll-sparse-max-bytes', parse: int(0, Number.MAX_SAFE_INTEGER) },
  {
    key: 'dir',
    flag: '--dir',
    env: 'FLASHKV_DIR',
    directive: 'dir',
    parse: v => {
      if (v === '') throw new ConfigError('needs a directory')
      checkDir(v)
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
    key: 'slowlogLogSlowerThan',
    flag: '--slowlog-log-slower-than',
    env: 'FLASHKV_SLOWLOG_LOG_SLOWER_THAN',
    directive: 'slowlog-log-slower-than',
    parse: v => {
      if (!/^-?\d+$/.test(v) || Number(v) < -1) throw new ConfigError(`needs an integer of -1 or more, got '${v}'`)
      return Number(v)
    },
  },
  { key: 'slowlogMaxLen', flag: '--slowlog-max-len', env: 'FLASHKV_SLOWLOG_MAX_LEN', directive: 'slowlog-max-len', parse: int(0, Number.MAX_SAFE_INTEGER) },
  { key: 'latencyMonitorThreshold', flag: '--latency-monitor-threshold', env: 'FLASHKV_LATENCY_MONITOR_THRESHOLD', directive: 'latency-monitor-threshold', parse: int(0, Number.MAX_SAFE_INTEGER) },
  {
    key: 'latencyTracking',
    flag: '--latency-tracking',
    env: 'FLASHKV_LATENCY_TRACKING',
    directive: 'latency-tracking',
    parse: v => {
      if (v !== 'yes' && v !== 'no') throw new ConfigError(`must be yes or no, got '${v}'`)
      return v === 'yes' ? 1 : 0
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
  { key: 'shutdownOnSigint', flag: '--shutdown-on-sigint', env: 'FLASHKV_SHUTDOWN_ON_SIGINT', directive: 'shutdown-on-sigint', parse: shutdownOnSig },
  { key: 'shutdownOnSigterm', flag: '--shutdown-on-sigterm', env: 'FLASHKV_SHUTDOWN_ON_SIGTERM', directive: 'shutdown-on-sigterm', parse: shutdownOnSig },
  { key: 'shutdownTimeout', flag: '--shutdown-timeout', env: 'FLASHKV_SHUTDOWN_TIMEOUT', directive: 'shutdown-timeout', parse: int(0, 2147483647) },
  { key: 'appendonly', flag: '--appendonly', env: 'FLASHKV_APPENDONLY', directive: 'appendonly', parse: yesNo },
  {
    key: 'appendfsync',
    flag: '--appendfsync',
    env: 'FLASHKV_APPENDFSYNC',
    directive: 'appendfsync',
    parse: v => {
      const i = ['no', 'everysec', 'always'].indexOf(v.toLowerCase())
      if (i < 0) throw new ConfigError(`must be one of always, everysec, no, got '${v}'`)
      return i
    },
  },
  { key: 'appenddirname', flag: '--appenddirname', env: 'FLASHKV_APPENDDIRNAME', directive: 'appenddirname', parse: fileName('appenddirname') },
  { key: 'appendfilename', flag: '--appendfilename', env: 'FLASHKV_APPENDFILENAME', directive: 'appendfilename', parse: fileName('appendfilename') },
  { key: 'aofUseRdbPreamble', flag: '--aof-use-rdb-preamble', env: 'FLASHKV_AOF_USE_RDB_PREAMBLE', directive: 'aof-use-rdb-preamble', parse: yesNo },
  { key: 'autoAofRewritePercentage', flag: '--auto-aof-rewrite-percentage', env: 'FLASHKV_AUTO_AOF_REWRITE_PERCENTAGE', directive: 'auto-aof-rewrite-percentage', parse: int(0, 2147483647) },
  { key: 'autoAofRewriteMinSize', flag: '--auto-aof-rewrite-min-size', env: 'FLASHKV_AUTO_AOF_REWRITE_MIN_SIZE', directive: 'auto-aof-rewrite-min-size', parse: parseMemory },
  { key: 'aofLoadTruncated', flag: '--aof-load-truncated', env: 'FLASHKV_AOF_LOAD_TRUNCATED', directive: 'aof-load-truncated', parse: yesNo },
  { key: 'aofTimestampEnabled', flag: '--aof-timestamp-enabled', env: 'FLASHKV_AOF_TIMESTAMP_ENABLED', directive: 'aof-timestamp-enabled', parse: yesNo },
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
  { key: 'aclfile', flag: '--aclfile', env: 'FLASHKV_ACLFILE', directive: 'aclfile', parse: v => v },
  { key: 'httpPort', flag: '--http-port', env: 'FLASHKV_HTTP_PORT', directive: 'http-port', parse: int(0, 65535) },
  { key: 'replyWaitUs', flag: '--reply-wait-us', env: 'FLASHKV_REPLY_WAIT_US', directive: 'reply-wait-us', parse: int(0, 1_000_000) },
  { key: 'spinUs', flag: '--spin-us', env: 'FLASHKV_SPIN_US', directive: 'spin-us', parse: int(0, 1_000_000) },
  {
    key: 'serverCpulist',
    flag: '--server-cpulist',
    env: 'FLASHKV_SERVER_CPULIST',
    directive: 'server_cpulist',
    // Kept as given: Redis starts with a malformed list and binds nothing (setcpuaffinity gives
    // up at the first bad part); applyCpulist logs why at start (main.ts).
    parse: v => v,
  },
  {
    key: 'enableDebugCommand',
    flag: '--enable-debug-command',
    env: 'FLASHKV_ENABLE_DEBUG_COMMAND',
    directive: 'enable-debug-command',
    parse: v => {
      if (v !== 'yes' && v !== 'no' && v !== 'local') throw new ConfigError(`must be one of no, yes, local, got '${v}'`)
      return v
    },
  },
  // Redis 7.0's other start-up-only gates, same values as enable-debug-command.
  { key: 'enableProtectedConfigs', flag: '--enable-protected-configs', env: 'FLASHKV_ENABLE_PROTECTED_CONFIGS', directive: 'enable-protected-configs', parse: gate },
  { key: 'enableModuleCommand', flag: '--enable-module-command', env: 'FLASHKV_ENABLE_MODULE_COMMAND', directive: 'enable-module-command', parse: gate },
  { key: 'timeoutSec', flag: '--timeout', env: 'FLASHKV_TIMEOUT', directive: 'timeout', parse: int(0, 2147483647) },
  { key: 'tcpKeepaliveSec', flag: '--tcp-keepalive', env: 'FLASHKV_TCP_KEEPALIVE', directive: 'tcp-keepalive', parse: int(0, 2147483647) },
  // TLS, as Redis's tls-* directives (values checked when the listener is built: src/server/tls.ts).
  { key: 'tlsPort', flag: '--tls-port', env: 'FLASHKV_TLS_PORT', directive: 'tls-port', parse: int(0, 65535) },
  { key: 'tlsCertFile', flag: '--tls-cert-file', env: 'FLASHKV_TLS_CERT_FILE', directive: 'tls-cert-file', parse: v => v },
  { key: 'tlsKeyFile', flag: '--tls-key-file', env: 'FLASHKV_TLS_KEY_FILE', directive: 'tls-key-file', parse: v => v },
  { key: 'tlsKeyFilePass', flag: '--tls-key-file-pass', env: 'FLASHKV_TLS_KEY_FILE_PASS', directive: 'tls-key-file-pass', parse: v => v },
  { key: 'tlsCaCertFile', flag: '--tls-ca-cert-file', env: 'FLASHKV_TLS_CA_CERT_FILE', directive: 'tls-ca-cert-file', parse: v => v },
  { key: 'tlsCaCertDir', flag: '--tls-ca-cert-dir', env: 'FLASHKV_TLS_CA_CERT_DIR', directive: 'tls-ca-cert-dir', parse: v => v },
  {
    key: 'tlsAuthClients',
    flag: '--tls-auth-clients',
    env: 'FLASHKV_TLS_AUTH_CLIENTS',
    directive: 'tls-auth-clients',
    parse: v => {
      if (v !== 'yes' && v !== 'no' && v !== 'optional') throw new ConfigError(`must be one of yes, no, optional, got '${v}'`)
      return v
    },
  },
  { key: 'tlsProtocols', flag: '--tls-protocols', env: 'FLASHKV_TLS_PROTOCOLS', directive: 'tls-protocols', parse: v => v },
  { key: 'tlsCiphers', flag: '--tls-ciphers', env: 'FLASHKV_TLS_CIPHERS', directive: 'tls-ciphers', parse: v => v },
  { key: 'tlsCiphersuites', flag: '--tls-ciphersuites', env: 'FLASHKV_TLS_CIPHERSUITES', directive: 'tls-ciphersuites', parse: v => v },
  {
    key: 'tlsPreferServerCiphers',
    flag: '--tls-prefer-server-ciphers',
    env: 'FLASHKV_TLS_PREFER_SERVER_CIPHERS',
    directive: 'tls-prefer-server-ciphers',
    parse: v => {
      if (v !== 'yes' && v !== 'no') throw new ConfigError(`must be yes or no, got '${v}'`)
      return v === 'yes' ? 1 : 0
    },
  },
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

/**
 * Reads a config file in redis.conf syntax into setting values; errors name the file and line.
 * Another Redis 7.0 directive goes to `params`, for main.ts to apply as CONFIG SET would or to
 * warn about, so a real redis.conf starts the server; a directive Redis does not know stops start-up.
 */
export function parseConfigFile (text: string, file: string,
  renames: Array<[string, string]> = [], obufs: Array<[number, number, number, number]> = [], params: RedisParam[] = []): Map<SettingKey, number | string> {
  const values = new Map<SettingKey, number | string>()
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const trimmed = lines[n].trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const where = `${file}:${n + 1}`
    const words = splitConfigLine(trimmed)
    if (words === null) throw new ConfigError(`${where}: unbalanced quotes`)
    const directive = words[0].toLowerCase()
    // rename-command takes two names and may repeat: the table is changed at start (commands/table.ts).
    if (directive === 'rename-command') {
      if (words.length !== 3) throw new ConfigError(`${where}: 'rename-command' takes two names, got ${words.length - 1}`)
      renames.push([words[1], words[2]])
      continue
    }
    // client-output-buffer-limit <class> <hard> <soft> <seconds>, repeatable (one class per line or several).
    if (directive === 'client-output-buffer-limit') {
      const args = words.slice(1)
      if (args.length === 0 || args.length % 4 !== 0) throw new ConfigError(`${where}: 'client-output-buffer-limit' takes <class> <hard> <soft> <seconds>, repeated`)
      for (let i = 0; i < args.length; i += 4) {
        const cls = OBUF_CLASS_INDEX[args[i].toLowerCase()]
        if (cls === undefined) throw new ConfigError(`${where}: Invalid client class specified in buffer limit configuration.`)
        const secs = args[i + 3]
        if (!/^\d+$/.test(secs)) throw new ConfigError(`${where}: Error in hard, soft or soft_seconds setting in buffer limit configuration.`)
        let hard: number
        let soft: number
        try {
          hard = parseMemory(args[i + 1])
          soft = parseMemory(args[i + 2])
        } catch {
          throw new ConfigError(`${where}: Error in hard, soft or soft_seconds setting in buffer limit configuration.`)
        }
        obufs.push([cls, hard, soft, Number(secs)])
      }
      continue
    }
    // `user` may come many times, one ACL user each (checked when the server applies them).
    if (directive === 'user') {
      if (words.length < 2) throw new ConfigError(`${where}: 'user' needs a name`)
      const prev = values.get('users') as string | undefined
      values.set('users', (prev === undefined ? '' : prev + '\n') + words.slice(1).join(' '))
      continue
    }
    const setting = SETTINGS.find(s => s.directive === directive)
    if (setting === undefined) {
      if (!REDIS_DIRECTIVES.has(directive)) throw new ConfigError(`${where}: unknown directive '${words[0]}'`)
      // databases: FlashKV always has Redis's default 16.
      if (directive === 'databases' && words.length === 2 && words[1] === '16') continue
      // Several words are one value, as CONFIG SET takes them (latency-tracking-info-percentiles 50 99).
      params.push({ where, name: directive, value: words.slice(1).join(' ') })
      continue
    }
    // bind takes several addresses, as in Redis ('-' marks one that may be missing: server/listeners.ts).
    if (directive === 'bind' && words.length > 2) words.splice(1, words.length - 1, words.slice(1).join(' '))
    // save takes its pairs as several words, and several save lines add up, as in redis.conf.
    // shutdown-on-sig* takes several flags.
    if ((directive === 'save' || directive.startsWith('shutdown-on-sig')) && words.length > 2) words.splice(1, words.length - 1, words.slice(1).join(' '))
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

/** One Redis directive for main.ts to apply or warn about; `where` is the file and line, or the flag. */
export interface RedisParam { readonly where: string, readonly name: string, readonly value: string }

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
  const fromFlags = new Map<SettingKey, number | string>()
  const flagParams: RedisParam[] = []
  const fileParams: RedisParam[] = []
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
      // Any other Redis directive as a flag, as redis-server takes `--<name> <value>`.
      const name = arg.slice(2).toLowerCase()
      if (arg.startsWith('--') && REDIS_DIRECTIVES.has(name)) {
        const v = value ?? argv[++i]
        if (v === undefined) throw new ConfigError(`${arg} needs a value`)
        flagParams.push({ where: arg, name, value: v })
        continue
      }
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
  const fromEnv = new Map<SettingKey, number | string>()
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
  let fromFile = new Map<SettingKey, number | string>()
  const renames: Array<[string, string]> = []
  const obufs: Array<[number, number, number, number]> = []
  if (configFile !== '') {
    let text: string
    try {
      text = readFile(configFile)
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`)
    }
    fromFile = parseConfigFile(text, configFile, renames, obufs, fileParams)
  }
  const pick = (key: SettingKey): [number | string | undefined, Source | null] => {
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
  const logLevel = (pick('logLevel')[0] as string | undefined) ?? 'info'
  // Redis chdirs to `dir` and reports it absolute; the default is where the server started.
  const dir = resolve((pick('dir')[0] as string | undefined) ?? '.')
  const config: Config = {
    port: (pick('port')[0] as number | undefined) ?? 6379,
    bind: (pick('bind')[0] as string | undefined) ?? '127.0.0.1',
    shards,
    ioThreads,
    // The I/O threads count as the primary does: each one beyond the first takes a core.
    replyWaitUs: (pick('replyWaitUs')[0] as number | undefined) ?? defaultReplyWaitUs(shards + ioThreads - 1, cores),
    spinUs: (pick('spinUs')[0] as number | undefined) ?? defaultSpinUs(shards + ioThreads, cores),
    serverCpulist: (pick('serverCpulist')[0] as string | undefined) ?? '',
    logLevel: PINO_LEVEL_OF_REDIS[logLevel] ?? logLevel,
    logLevelIndex: redisLevelOf(logLevel),
    maxclients: (pick('maxclients')[0] as number | undefined) ?? 10000,
    tcpBacklog: (pick('tcpBacklog')[0] as number | undefined) ?? 511,
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
    maxmemoryPolicy: (pick('maxmemoryPolicy')[0] as number | undefined) ?? 0,
    maxmemorySamples: (pick('maxmemorySamples')[0] as number | undefined) ?? 5,
    evictionTenacity: (pick('evictionTenacity')[0] as number | undefined) ?? 10,
    lfuLogFactor: (pick('lfuLogFactor')[0] as number | undefined) ?? 10,
    lfuDecayTime: (pick('lfuDecayTime')[0] as number | undefined) ?? 1,
    trackingTableMaxKeys: (pick('trackingTableMaxKeys')[0] as number | undefined) ?? 1000000,
    // INFO server's config_file is an absolute path, as Redis prints it.
    configFile: configFile === '' ? '' : resolve(configFile),
    dir,
    logfile: inDir(dir, pick('logfile')[0] as string | undefined),
    pidfile: inDir(dir, pick('pidfile')[0] as string | undefined),
    unixsocket: (pick('unixsocket')[0] as string | undefined) ?? '',
    unixsocketperm: (pick('unixsocketperm')[0] as number | undefined) ?? 0,
    dbfilename: (pick('dbfilename')[0] as string | undefined) ?? 'dump.rdb',
    requirepass: (pick('requirepass')[0] as string | undefined) ?? '',
    aclfile: (pick('aclfile')[0] as string | undefined) ?? '',
    users: ((fromFile.get('users') as string | undefined) ?? '').split('\n').filter(l => l !== ''),
    protectedMode: ((pick('protectedMode')[0] as number | undefined) ?? 1) === 1,
    enableDebugCommand: (pick('enableDebugCommand')[0] as Config['enableDebugCommand'] | undefined) ?? 'no',
    enableProtectedConfigs: (pick('enableProtectedConfigs')[0] as Config['enableProtectedConfigs'] | undefined) ?? 'no',
    enableModuleCommand: (pick('enableModuleCommand')[0] as Config['enableModuleCommand'] | undefined) ?? 'no',
    timeoutSec: (pick('timeoutSec')[0] as number | undefined) ?? 0,
    tcpKeepaliveSec: (pick('tcpKeepaliveSec')[0] as number | undefined) ?? 300,
    redisParams: Object.freeze([...fileParams, ...flagParams]),
    renameCommands: Object.freeze(renames),
    outputBufferLimits: Object.freeze(obufs),
    tls: Object.freeze({
      port: (pick('tlsPort')[0] as number | undefined) ?? 0,
      certFile: (pick('tlsCertFile')[0] as string | undefined) ?? '',
      keyFile: (pick('tlsKeyFile')[0] as string | undefined) ?? '',
      keyFilePass: (pick('tlsKeyFilePass')[0] as string | undefined) ?? '',
      caCertFile: (pick('tlsCaCertFile')[0] as string | undefined) ?? '',
      caCertDir: (pick('tlsCaCertDir')[0] as string | undefined) ?? '',
      authClients: (pick('tlsAuthClients')[0] as TlsConfig['authClients'] | undefined) ?? 'yes',
      protocols: (pick('tlsProtocols')[0] as string | undefined) ?? '',
      ciphers: (pick('tlsCiphers')[0] as string | undefined) ?? '',
      ciphersuites: (pick('tlsCiphersuites')[0] as string | undefined) ?? '',
      preferServerCiphers: ((pick('tlsPreferServerCiphers')[0] as number | undefined) ?? 0) === 1,
    }),
    slowlogLogSlowerThan: (pick('slowlogLogSlowerThan')[0] as number | undefined) ?? 10000,
    slowlogMaxLen: (pick('slowlogMaxLen')[0] as number | undefined) ?? 128,
    latencyMonitorThreshold: (pick('latencyMonitorThreshold')[0] as number | undefined) ?? 0,
    latencyTracking: ((pick('latencyTracking')[0] as number | undefined) ?? 1) === 1,
    save: (pick('save')[0] as string | undefined) ?? DEFAULT_SAVE,
    rdbcompression: ((pick('rdbcompression')[0] as number | undefined) ?? 1) === 1,
    rdbchecksum: ((pick('rdbchecksum')[0] as number | undefined) ?? 1) === 1,
    stopWritesOnBgsaveError: ((pick('stopWritesOnBgsaveError')[0] as number | undefined) ?? 1) === 1,
    shutdownOnSigint: (pick('shutdownOnSigint')[0] as number | undefined) ?? 0,
    shutdownOnSigterm: (pick('shutdownOnSigterm')[0] as number | undefined) ?? 0,
    shutdownTimeout: (pick('shutdownTimeout')[0] as number | undefined) ?? 10,
    appendonly: ((pick('appendonly')[0] as number | undefined) ?? 0) === 1,
    appendfsync: (pick('appendfsync')[0] as number | undefined) ?? 1,
    appenddirname: (pick('appenddirname')[0] as string | undefined) ?? 'appendonlydir',
    appendfilename: (pick('appendfilename')[0] as string | undefined) ?? 'appendonly.aof',
    aofUseRdbPreamble: ((pick('aofUseRdbPreamble')[0] as number | undefined) ?? 1) === 1,
    autoAofRewritePercentage: (pick('autoAofRewritePercentage')[0] as number | undefined) ?? 100,
    autoAofRewriteMinSize: (pick('autoAofRewriteMinSize')[0] as number | undefined) ?? 64 * 1024 * 1024,
    aofLoadTruncated: ((pick('aofLoadTruncated')[0] as number | undefined) ?? 1) === 1,
    aofTimestampEnabled: ((pick('aofTimestampEnabled')[0] as number | undefined) ?? 0) === 1,
  }
  // loadServerConfigFromString opens the log file once, to refuse one it cannot write.
  if (config.logfile !== '') {
    try {
      closeSync(openSync(config.logfile, 'a'))
    } catch (err) {
      throw new ConfigError(`Can't open the log file: ${errnoText(err)}`)
    }
  }
  return { kind: 'run', config: Object.freeze(config) }
}
