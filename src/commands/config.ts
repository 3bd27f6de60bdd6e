// CONFIG GET/SET/RESETSTAT over the effective configuration. Each parameter is listed once with
// the Redis name it answers to, Redis's value type (which decides the parse errors) and how
// FlashKV treats a change: 'live' ones take effect at once, 'shared' ones (listeners, TLS, and
// the 'protected' dir and dbfilename) on every I/O thread before the reply (server/listeners.ts),
// 'immutable' ones Redis refuses too, and 'fixed' ones Redis could change but FlashKV cannot yet
// (persistence, hz): setting the current value is a no-op, any other value gets the immutable
// error. Values are read from the running server, so CONFIG GET always tells the truth.

import { Buffer } from 'node:buffer'
import { PASSWORD_MAX, REHASH_OFF, LAZY_EXPIRE, LAZY_EVICTION, LAZY_SERVER_DEL, LAZY_USER_FLUSH } from '../ipc/layout.js'
import { SET_SLOWLOG_SLOWER, SET_SLOWLOG_MAX_LEN, SET_LATENCY_MONITOR, SET_LATENCY_TRACKING, MAX_PERCENTILES } from '../server/command-stats.js'
import { percentileName } from './introspection.js'
import type { Argv, ClientContext, ServerContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { stringMatch } from './glob.js'
import { REDIS_LOG_LEVELS, logLevelName, setLogLevel } from '../log.js'
import { parseNotifyFlags, notifyFlagsToString } from '../storage/notify.js'
import { DATABASES } from '../storage/shard.js'
import { POLICY_NAMES } from '../storage/eviction.js'
import { maxKeysOf, setMaxKeys } from '../storage/tracking.js'
import { OK } from '../protocol/replies.js'
import { saveWords, savePointsText, setSavePoints, updateDenyWrites, W_COMPRESSION, W_CHECKSUM, W_STOP_WRITES, W_AOF_ENABLED, W_AOF_FSYNC, W_AOF_PREAMBLE, W_AOF_LOAD_TRUNCATED, W_AOF_TIMESTAMPS, F_AOF_AUTO_PERCENT, F_AOF_AUTO_MIN, W_SHUTDOWN_SIGINT, W_SHUTDOWN_SIGTERM, W_SHUTDOWN_TIMEOUT, parseShutdownOnSig, shutdownOnSigText } from '../persistence/save-state.js'
import { FSYNC_NAMES } from '../persistence/aof.js'
import { aofNames, setAppendonly } from '../persistence/aof-files.js'
import { SYNTAX_ERR, errorReply } from '../protocol/errors.js'
import { tcpBacklog, type SharedChange, type ListenFailure } from '../server/listeners.js'
import type { TlsConfig } from '../config.js'
import { statSync, realpathSync } from 'node:fs'
import { resolve } from 'node:path'

const INT_MAX = 2147483647n
const INT_MIN = -2147483648n
const UINT_MAX = 4294967295n
const LONG_MAX = 9223372036854775807n
const ULLONG_MAX = 18446744073709551615n
const TWO_64 = 1n << 64n
const MB = 1024n * 1024n

type ValueType =
  /** Redis's numeric configs: string2ll (or memtoull for memory values), then a bounds check. */
  | { kind: 'number', min: bigint, max: bigint, isUnsigned: boolean, isMemory: boolean }
  | { kind: 'enum', values: readonly string[] }
  | { kind: 'bool' }
  | { kind: 'save' }
  | { kind: 'bind' }
  /** dir (must be a directory; kept absolute, as Redis's getcwd after chdir) and dbfilename (no path). */
  | { kind: 'dir' }
  | { kind: 'dbfilename' }
  | { kind: 'notify' }
  | { kind: 'obuf' }
  /** Any string (requirepass): kept as given. */
  | { kind: 'string' }
  /** latency-tracking-info-percentiles: doubles in [0, 100], space separated. */
  | { kind: 'percentiles' }
  /** shutdown-on-sigint and -sigterm: SHUTDOWN's flags (persistence/save-state.ts parseShutdownOnSig). */
  | { kind: 'shutdown' }

interface Param {
  name: string
  type: ValueType
  /**
   * live: applied at once | shared: applied by every I/O thread (listeners, TLS) | protected:
   * shared, if enable-protected-configs allows | fixed: only the current value | immutable.
   */
  mode: 'live' | 'fixed' | 'immutable' | 'protected' | 'shared'
  get: (s: ServerContext) => string
  /** 'live' only: applies an already checked value. */
  set?: (s: ServerContext, v: bigint) => void
  /** 'shared' and 'protected': puts the checked value (parsed, and as given) into the change. */
  change?: (c: SharedChange, v: bigint, value: string, s: ServerContext) => void
}

/** The change's own copy of the tls-* settings, made on the first tls-* parameter. */
function tlsOf (c: SharedChange, s: ServerContext): { -readonly [K in keyof TlsConfig]: TlsConfig[K] } {
  c.tls ??= { ...s.tls }
  return c.tls as { -readonly [K in keyof TlsConfig]: TlsConfig[K] }
}

const num = (min: bigint, max: bigint, isUnsigned: boolean, isMemory = false): ValueType =>
  ({ kind: 'number', min, max, isUnsigned, isMemory })
const POLICIES = ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction']

// Types and bounds as in Redis 7.0's config.c (createIntConfig, createUIntConfig, ...).
const PARAMS: readonly Param[] = [
  // Listeners, TLS (server/listeners.ts): every I/O thread applies them before the reply.
  { name: 'port', type: num(0n, 65535n, false), mode: 'shared', get: s => String(s.port), change: (c, v) => { c.port = Number(v) } },
  { name: 'bind', type: { kind: 'bind' }, mode: 'shared', get: s => s.bind, change: (c, _v, value) => { c.bind = value } },
  { name: 'tls-port', type: num(0n, 65535n, false), mode: 'shared', get: s => String(s.tls.port), change: (c, v, _x, s) => { tlsOf(c, s).port = Number(v) } },
  { name: 'tls-cert-file', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.certFile, change: (c, _v, x, s) => { tlsOf(c, s).certFile = x } },
  { name: 'tls-key-file', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.keyFile, change: (c, _v, x, s) => { tlsOf(c, s).keyFile = x } },
  { name: 'tls-key-file-pass', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.keyFilePass, change: (c, _v, x, s) => { tlsOf(c, s).keyFilePass = x } },
  { name: 'tls-client-cert-file', type: { kind: 'string' }, mode: 'fixed', get: () => '' },
  { name: 'tls-client-key-file', type: { kind: 'string' }, mode: 'fixed', get: () => '' },
  { name: 'tls-client-key-file-pass', type: { kind: 'string' }, mode: 'fixed', get: () => '' },
  { name: 'tls-dh-params-file', type: { kind: 'string' }, mode: 'fixed', get: () => '' },
  { name: 'tls-ca-cert-file', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.caCertFile, change: (c, _v, x, s) => { tlsOf(c, s).caCertFile = x } },
  { name: 'tls-ca-cert-dir', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.caCertDir, change: (c, _v, x, s) => { tlsOf(c, s).caCertDir = x } },
  { name: 'tls-protocols', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.protocols, change: (c, _v, x, s) => { tlsOf(c, s).protocols = x } },
  { name: 'tls-ciphers', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.ciphers, change: (c, _v, x, s) => { tlsOf(c, s).ciphers = x } },
  { name: 'tls-ciphersuites', type: { kind: 'string' }, mode: 'shared', get: s => s.tls.ciphersuites, change: (c, _v, x, s) => { tlsOf(c, s).ciphersuites = x } },
  { name: 'tls-auth-clients', type: { kind: 'enum', values: ['no', 'yes', 'optional'] }, mode: 'shared', get: s => s.tls.authClients, change: (c, v, _x, s) => { tlsOf(c, s).authClients = (['no', 'yes', 'optional'] as const)[Number(v)] } },
  { name: 'tls-prefer-server-ciphers', type: { kind: 'bool' }, mode: 'shared', get: s => s.tls.preferServerCiphers ? 'yes' : 'no', change: (c, v, _x, s) => { tlsOf(c, s).preferServerCiphers = v === 1n } },
  { name: 'tls-session-caching', type: { kind: 'bool' }, mode: 'fixed', get: () => 'yes' },
  { name: 'tls-session-cache-size', type: num(0n, INT_MAX, false), mode: 'fixed', get: () => '20480' },
  { name: 'tls-session-cache-timeout', type: num(0n, INT_MAX, false), mode: 'fixed', get: () => '300' },
  { name: 'tls-replication', type: { kind: 'bool' }, mode: 'fixed', get: () => 'no' },
  { name: 'tls-cluster', type: { kind: 'bool' }, mode: 'fixed', get: () => 'no' },
  // PROTECTED_CONFIG in Redis: CONFIG SET only as enable-protected-configs allows.
  { name: 'dir', type: { kind: 'dir' }, mode: 'protected', get: s => s.dir, change: (c, _v, x) => { c.dir = x } },
  { name: 'dbfilename', type: { kind: 'dbfilename' }, mode: 'protected', get: s => s.dbfilename, change: (c, _v, x) => { c.dbfilename = x } },
  { name: 'enable-protected-configs', type: { kind: 'enum', values: ['no', 'yes', 'local'] }, mode: 'immutable', get: s => s.enableProtectedConfigs },
  { name: 'enable-module-command', type: { kind: 'enum', values: ['no', 'yes', 'local'] }, mode: 'immutable', get: s => s.enableModuleCommand },
  { name: 'databases', type: num(1n, INT_MAX, false), mode: 'immutable', get: () => String(DATABASES) },
  { name: 'logfile', type: { kind: 'string' }, mode: 'immutable', get: s => s.logfile },
  { name: 'pidfile', type: { kind: 'string' }, mode: 'immutable', get: s => s.pidfile },
  { name: 'unixsocket', type: { kind: 'string' }, mode: 'immutable', get: s => s.unixsocket },
  { name: 'unixsocketperm', type: num(0n, 0o777n, true), mode: 'immutable', get: s => s.unixsocketperm.toString(8) },
  { name: 'tcp-backlog', type: num(0n, INT_MAX, false), mode: 'immutable', get: () => String(tcpBacklog()) },
  // Applied once at start (cpu-affinity.ts), as Redis does.
  { name: 'server_cpulist', type: { kind: 'string' }, mode: 'immutable', get: s => s.serverCpulist },
  // Every thread reads them from the shared save state (persistence/save-state.ts).
  { name: 'save', type: { kind: 'save' }, mode: 'live', get: () => savePointsText(), set: () => { setSavePoints(pendingSave) } },
  { name: 'rdbcompression', type: { kind: 'bool' }, mode: 'live', get: () => saveFlag(W_COMPRESSION), set: (_s, v) => { setSaveFlag(W_COMPRESSION, v) } },
  { name: 'rdbchecksum', type: { kind: 'bool' }, mode: 'live', get: () => saveFlag(W_CHECKSUM), set: (_s, v) => { setSaveFlag(W_CHECKSUM, v) } },
  { name: 'stop-writes-on-bgsave-error', type: { kind: 'bool' }, mode: 'live', get: () => saveFlag(W_STOP_WRITES), set: (_s, v) => { setSaveFlag(W_STOP_WRITES, v) } },
  { name: 'loglevel', type: { kind: 'enum', values: REDIS_LOG_LEVELS }, mode: 'live', get: () => logLevelName(), set: (_s, v) => { setLogLevel(Number(v)) } },
  // Shared words the main thread reads when a signal comes (main.ts).
  { name: 'shutdown-on-sigint', type: { kind: 'shutdown' }, mode: 'live', get: () => shutdownOnSigText(saveWord(W_SHUTDOWN_SIGINT)), set: (_s, v) => { setSaveWord(W_SHUTDOWN_SIGINT, v) } },
  { name: 'shutdown-on-sigterm', type: { kind: 'shutdown' }, mode: 'live', get: () => shutdownOnSigText(saveWord(W_SHUTDOWN_SIGTERM)), set: (_s, v) => { setSaveWord(W_SHUTDOWN_SIGTERM, v) } },
  // Redis waits up to this long for replicas to catch up before it exits; FlashKV has none.
  { name: 'shutdown-timeout', type: num(0n, INT_MAX, false), mode: 'live', get: () => String(saveWord(W_SHUTDOWN_TIMEOUT)), set: (_s, v) => { setSaveWord(W_SHUTDOWN_TIMEOUT, v) } },
  { name: 'aclfile', type: { kind: 'string' }, mode: 'immutable', get: s => s.aclfile },
  { name: 'acllog-max-len', type: num(0n, 9223372036854775807n, false), mode: 'live', get: s => String(s.acl.logMax), set: (s, v) => { s.acl.logMax = Number(v) } },
  { name: 'acl-pubsub-default', type: { kind: 'enum', values: ['allchannels', 'resetchannels'] }, mode: 'live', get: s => s.acl.pubsubAll ? 'allchannels' : 'resetchannels', set: (s, v) => { s.acl.pubsubAll = v === 0n } },
  { name: 'protected-mode', type: { kind: 'bool' }, mode: 'live', get: s => s.settings.protectedMode ? 'yes' : 'no', set: (s, v) => { s.settings.protectedMode = v === 1n } },
  // The default user's password, on every thread; '' makes the default user nopass again.
  { name: 'requirepass', type: { kind: 'string' }, mode: 'live', get: s => s.password.toString('latin1'), set: s => { s.setPassword(Buffer.from(pendingString, 'latin1')) } },
  // The append-only file (persistence/aof*.ts): shared words every thread and shard reads.
  { name: 'appendonly', type: { kind: 'bool' }, mode: 'live', get: () => saveFlag(W_AOF_ENABLED), set: (_s, v) => { setAppendonly(v === 1n) } },
  { name: 'appendfsync', type: { kind: 'enum', values: ['everysec', 'always', 'no'] }, mode: 'live', get: () => FSYNC_NAMES[saveWords().i32[W_AOF_FSYNC]], set: (_s, v) => { saveWords().i32[W_AOF_FSYNC] = [1, 2, 0][Number(v)] } },
  { name: 'appenddirname', type: { kind: 'string' }, mode: 'immutable', get: () => aofNames.dirname },
  { name: 'appendfilename', type: { kind: 'string' }, mode: 'immutable', get: () => aofNames.filename },
  { name: 'aof-use-rdb-preamble', type: { kind: 'bool' }, mode: 'live', get: () => saveFlag(W_AOF_PREAMBLE), set: (_s, v) => { setSaveFlag(W_AOF_PREAMBLE, v) } },
  { name: 'aof-load-truncated', type: { kind: 'bool' }, mode: 'live', get: () => saveFlag(W_AOF_LOAD_TRUNCATED), set: (_s, v) => { setSaveFlag(W_AOF_LOAD_TRUNCATED, v) } },
  { name: 'aof-timestamp-enabled', type: { kind: 'bool' }, mode: 'live', get: () => saveFlag(W_AOF_TIMESTAMPS), set: (_s, v) => { setSaveFlag(W_AOF_TIMESTAMPS, v) } },
  // The base is written in one go by a joiner thread (no incremental fsync); auto-gc is Redis's own housekeeping.
  { name: 'aof-rewrite-incremental-fsync', type: { kind: 'bool' }, mode: 'fixed', get: () => 'yes' },
  { name: 'aof-disable-auto-gc', type: { kind: 'bool' }, mode: 'fixed', get: () => 'no' },
  { name: 'auto-aof-rewrite-percentage', type: num(0n, INT_MAX, false), mode: 'live', get: () => String(saveWords().f64[F_AOF_AUTO_PERCENT]), set: (_s, v) => { saveWords().f64[F_AOF_AUTO_PERCENT] = Number(v) } },
  { name: 'auto-aof-rewrite-min-size', type: num(0n, LONG_MAX, false, true), mode: 'live', get: () => String(saveWords().f64[F_AOF_AUTO_MIN]), set: (_s, v) => { saveWords().f64[F_AOF_AUTO_MIN] = Number(v) } },
  { name: 'maxmemory', type: num(0n, ULLONG_MAX, true, true), mode: 'live', get: s => String(s.settings.maxmemory), set: (s, v) => { s.settings.maxmemory = Number(v) } },
  // Shared words every shard reads before its next write (storage/eviction.ts).
  { name: 'maxmemory-policy', type: { kind: 'enum', values: POLICIES }, mode: 'live', get: s => POLICY_NAMES[s.settings.maxmemoryPolicy], set: (s, v) => { s.settings.maxmemoryPolicy = POLICY_NAMES.indexOf(POLICIES[Number(v)]) } },
  { name: 'maxmemory-samples', type: num(1n, INT_MAX, false), mode: 'live', get: s => String(s.settings.maxmemorySamples), set: (s, v) => { s.settings.maxmemorySamples = Number(v) } },
  { name: 'maxmemory-eviction-tenacity', type: num(0n, 100n, false), mode: 'live', get: s => String(s.settings.evictionTenacity), set: (s, v) => { s.settings.evictionTenacity = Number(v) } },
  { name: 'lfu-log-factor', type: num(0n, INT_MAX, false), mode: 'live', get: s => String(s.settings.lfuLogFactor), set: (s, v) => { s.settings.lfuLogFactor = Number(v) } },
  { name: 'lfu-decay-time', type: num(0n, INT_MAX, false), mode: 'live', get: s => String(s.settings.lfuDecayTime), set: (s, v) => { s.settings.lfuDecayTime = Number(v) } },
  { name: 'maxclients', type: num(1n, UINT_MAX, true), mode: 'live', get: s => String(s.settings.maxclients), set: (s, v) => { s.settings.maxclients = Number(v) } },
  { name: 'timeout', type: num(0n, INT_MAX, false), mode: 'live', get: s => String(s.settings.timeoutSec), set: (s, v) => { s.settings.timeoutSec = Number(v) } },
  { name: 'tcp-keepalive', type: num(0n, INT_MAX, false), mode: 'live', get: s => String(s.settings.tcpKeepaliveSec), set: (s, v) => { s.settings.tcpKeepaliveSec = Number(v) } },
  { name: 'proto-max-bulk-len', type: num(MB, LONG_MAX, false, true), mode: 'fixed', get: () => '536870912' },
  { name: 'client-query-buffer-limit', type: num(MB, LONG_MAX, true, true), mode: 'live', get: s => String(s.settings.queryBufferLimit), set: (s, v) => { s.settings.queryBufferLimit = Number(v) } },
  // updateHZ: kept within 1 to 500, and CONFIG GET shows the value kept. The shards' tick follows it.
  { name: 'hz', type: num(0n, INT_MAX, false), mode: 'live', get: s => String(s.settings.hz), set: (s, v) => { s.settings.hz = Number(v < 1n ? 1n : v > 500n ? 500n : v) } },
  { name: 'shards', type: num(1n, 256n, false), mode: 'immutable', get: s => String(s.shards) },
  { name: 'io-threads', type: num(1n, 128n, false), mode: 'immutable', get: s => String(s.ioThreads) },
  { name: 'enable-debug-command', type: { kind: 'enum', values: ['no', 'yes', 'local'] }, mode: 'immutable', get: s => s.enableDebugCommand },
  { name: 'cluster-enabled', type: { kind: 'bool' }, mode: 'immutable', get: () => 'no' },
  { name: 'client-output-buffer-limit', type: { kind: 'obuf' }, mode: 'live', get: s => obufToString(s.settings.outputBufferLimits), set: (s) => { s.settings.outputBufferLimits.set(pendingObuf) } },
  { name: 'hash-max-listpack-entries', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.settings.hashMaxListpackEntries), set: (s, v) => { s.settings.hashMaxListpackEntries = v } },
  { name: 'hash-max-listpack-value', type: num(0n, LONG_MAX, false, true), mode: 'live', get: s => String(s.settings.hashMaxListpackValue), set: (s, v) => { s.settings.hashMaxListpackValue = v } },
  { name: 'set-max-intset-entries', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.settings.setMaxIntsetEntries), set: (s, v) => { s.settings.setMaxIntsetEntries = v } },
  { name: 'zset-max-listpack-entries', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.settings.zsetMaxListpackEntries), set: (s, v) => { s.settings.zsetMaxListpackEntries = v } },
  { name: 'zset-max-listpack-value', type: num(0n, LONG_MAX, false, true), mode: 'live', get: s => String(s.settings.zsetMaxListpackValue), set: (s, v) => { s.settings.zsetMaxListpackValue = v } },
  { name: 'zset-max-ziplist-entries', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.settings.zsetMaxListpackEntries), set: (s, v) => { s.settings.zsetMaxListpackEntries = v } },
  { name: 'zset-max-ziplist-value', type: num(0n, LONG_MAX, false, true), mode: 'live', get: s => String(s.settings.zsetMaxListpackValue), set: (s, v) => { s.settings.zsetMaxListpackValue = v } },
  { name: 'hll-sparse-max-bytes', type: num(0n, LONG_MAX, false, true), mode: 'live', get: s => String(s.settings.hllSparseMaxBytes), set: (s, v) => { s.settings.hllSparseMaxBytes = v } },
  // Shared words every shard reads after a tracking read and on its tick (storage/tracking.ts).
  { name: 'tracking-table-max-keys', type: num(0n, LONG_MAX, true), mode: 'live', get: s => String(maxKeysOf(s.tracking.words)), set: (s, v) => { setMaxKeys(s.tracking.words, v) } },
  // The shards' background work (storage/shard.ts), bits of one shared word read as they sweep and delete.
  { name: 'activerehashing', type: { kind: 'bool' }, mode: 'live', get: s => bgFlag(s, REHASH_OFF) ? 'no' : 'yes', set: (s, v) => { setBgFlag(s, REHASH_OFF, v === 0n) } },
  { name: 'lazyfree-lazy-expire', type: { kind: 'bool' }, mode: 'live', get: s => bgFlag(s, LAZY_EXPIRE) ? 'yes' : 'no', set: (s, v) => { setBgFlag(s, LAZY_EXPIRE, v === 1n) } },
  { name: 'lazyfree-lazy-server-del', type: { kind: 'bool' }, mode: 'live', get: s => bgFlag(s, LAZY_SERVER_DEL) ? 'yes' : 'no', set: (s, v) => { setBgFlag(s, LAZY_SERVER_DEL, v === 1n) } },
  // Kept, without effect: an evicted value is freed at once (background freeing runs between a
  // shard's batches, so an eviction that counted on it would evict far more than it must), and
  // FLUSHALL or FLUSHDB drops a shard's arena in one step, ASYNC or not.
  { name: 'lazyfree-lazy-eviction', type: { kind: 'bool' }, mode: 'live', get: s => bgFlag(s, LAZY_EVICTION) ? 'yes' : 'no', set: (s, v) => { setBgFlag(s, LAZY_EVICTION, v === 1n) } },
  { name: 'lazyfree-lazy-user-flush', type: { kind: 'bool' }, mode: 'live', get: s => bgFlag(s, LAZY_USER_FLUSH) ? 'yes' : 'no', set: (s, v) => { setBgFlag(s, LAZY_USER_FLUSH, v === 1n) } },
  { name: 'active-expire-effort', type: num(1n, 10n, false), mode: 'live', get: s => String(s.settings.activeExpireEffort), set: (s, v) => { s.settings.activeExpireEffort = Number(v) } },
  { name: 'list-max-listpack-size', type: num(INT_MIN, INT_MAX, false), mode: 'live', get: s => String(s.settings.listMaxListpackSize), set: (s, v) => { s.settings.listMaxListpackSize = Number(v) } },
  { name: 'list-max-ziplist-size', type: num(INT_MIN, INT_MAX, false), mode: 'live', get: s => String(s.settings.listMaxListpackSize), set: (s, v) => { s.settings.listMaxListpackSize = Number(v) } },
  { name: 'lazyfree-lazy-user-del', type: { kind: 'bool' }, mode: 'live', get: s => s.settings.lazyfreeLazyUserDel ? 'yes' : 'no', set: (s, v) => { s.settings.lazyfreeLazyUserDel = v === 1n } },
  { name: 'busy-reply-threshold', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.settings.busyReplyThresholdMs), set: (s, v) => { s.settings.busyReplyThresholdMs = v } },
  // Redis 7.0 keeps the old names as aliases, listed by CONFIG GET too.
  { name: 'lua-time-limit', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.settings.busyReplyThresholdMs), set: (s, v) => { s.settings.busyReplyThresholdMs = v } },
  { name: 'hash-max-ziplist-entries', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.settings.hashMaxListpackEntries), set: (s, v) => { s.settings.hashMaxListpackEntries = v } },
  { name: 'hash-max-ziplist-value', type: num(0n, LONG_MAX, false, true), mode: 'live', get: s => String(s.settings.hashMaxListpackValue), set: (s, v) => { s.settings.hashMaxListpackValue = v } },
  // server/command-stats.ts settings words, read by every thread and shard.
  { name: 'slowlog-log-slower-than', type: num(-1n, LONG_MAX, false), mode: 'live', get: s => String(s.cmdStats.settings[SET_SLOWLOG_SLOWER]), set: (s, v) => { s.cmdStats.settings[SET_SLOWLOG_SLOWER] = Number(v) } },
  { name: 'slowlog-max-len', type: num(0n, LONG_MAX, true), mode: 'live', get: s => String(s.cmdStats.settings[SET_SLOWLOG_MAX_LEN]), set: (s, v) => { s.cmdStats.settings[SET_SLOWLOG_MAX_LEN] = Number(v) } },
  { name: 'latency-monitor-threshold', type: num(0n, LONG_MAX, false), mode: 'live', get: s => String(s.cmdStats.settings[SET_LATENCY_MONITOR]), set: (s, v) => { s.cmdStats.settings[SET_LATENCY_MONITOR] = Number(v) } },
  { name: 'latency-tracking', type: { kind: 'bool' }, mode: 'live', get: s => s.cmdStats.settings[SET_LATENCY_TRACKING] !== 0 ? 'yes' : 'no', set: (s, v) => { s.cmdStats.settings[SET_LATENCY_TRACKING] = Number(v) } },
  { name: 'latency-tracking-info-percentiles', type: { kind: 'percentiles' }, mode: 'live', get: s => s.cmdStats.percentiles().map(percentileName).join(' '), set: s => { s.cmdStats.setPercentiles(pendingPercentiles) } },
  { name: 'notify-keyspace-events', type: { kind: 'notify' }, mode: 'live', get: s => notifyFlagsToString(s.settings.notifyKeyspaceEvents), set: (s, v) => { s.settings.notifyKeyspaceEvents = Number(v) } },
]
const NAMES = PARAMS.map(p => Buffer.from(p.name, 'latin1'))

function str (argv: Argv, i: number): string {
  return Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])).toString('latin1')
}

function hasGlob (buf: Uint8Array, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (buf[i] === 42 || buf[i] === 63 || buf[i] === 91) return true
  return false
}

function paramIndex (name: string): number {
  const lower = name.toLowerCase()
  return PARAMS.findIndex(p => p.name === lower)
}

// Like configGetCommand (7.0): an exact name is echoed as asked (any case); a pattern matches
// case-insensitively and reports canonical names; every parameter appears at most once.
export function configGetCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  const matched: Array<[string, string]> = []
  const seen = new Set<number>()
  for (let i = 2; i < argc; i++) {
    const isGlob = hasGlob(buf, start[i], len[i])
    const exact = isGlob ? -1 : paramIndex(str(argv, i))
    for (let p = 0; p < PARAMS.length; p++) {
      if (seen.has(p)) continue
      const name = NAMES[p]
      if (isGlob ? !stringMatch(buf, start[i], len[i], name, 0, name.length, true) : p !== exact) continue
      seen.add(p)
      matched.push([isGlob ? PARAMS[p].name : str(argv, i), PARAMS[p].get(c.server)])
    }
  }
  out.mapHeader(matched.length)
  for (const [k, v] of matched) { out.bulkStr(k); out.bulkStr(v) }
}

/** Redis's string2ll on a string: no spaces, no '+', no leading zeros, int64 range. */
function string2ll (s: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(s)) return null
  const v = BigInt(s)
  return v > LONG_MAX || v < -LONG_MAX - 1n ? null : v
}

const MEM_UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n }

/**
 * Redis 7.0's memtoull: digits (possibly none; strtoull saturates), then an optional unit; no
 * sign, no spaces. 7.0 does not check the multiplication, which wraps modulo 2^64.
 */
function memtoull (s: string): bigint | null {
  const m = /^([0-9]*)([a-z]*)$/i.exec(s)
  if (m === null || m[1].length >= 128) return null
  const mul = MEM_UNITS[m[2].toLowerCase()]
  if (mul === undefined) return null
  let v = m[1] === '' ? 0n : BigInt(m[1])
  if (v > ULLONG_MAX) v = ULLONG_MAX
  return (v * mul) % TWO_64
}

/** strtoll with an end check, as setConfigSaveOption uses it. */
function saveNumber (s: string): number | null {
  if (s === '') return 0
  if (!/^[\t\n\v\f\r ]*[+-]?[0-9]+$/.test(s)) return null
  return Number(s.trim())
}

/**
 * A Redis directive from the config file or a flag that is none of FlashKV's own settings
 * (Config.redisParams), on the lead thread before it listens: one CONFIG SET can change is
 * checked and applied as CONFIG SET would (a bad value stops start-up, as Redis refuses its
 * config file); a fixed one (FlashKV has only the value CONFIG GET shows) is fine with that value.
 */
export function applyStartupParam (s: ServerContext, name: string, value: string): { kind: 'applied' | 'ignored' } | { kind: 'invalid', reason: string } {
  const i = paramIndex(name)
  if (i < 0) return { kind: 'ignored' }
  const p = PARAMS[i]
  if (p.mode !== 'live' && p.mode !== 'fixed') return { kind: 'ignored' }
  const r = parseValue(p, value, s)
  if (typeof r === 'string') return { kind: 'invalid', reason: r }
  if (p.mode === 'fixed') return { kind: r.isCurrent ? 'applied' : 'ignored' }
  p.set?.(s, r.v)
  return { kind: 'applied' }
}

function bgFlag (s: ServerContext, bit: number): boolean { return (s.settings.backgroundFlags & bit) !== 0 }
function setBgFlag (s: ServerContext, bit: number, on: boolean): void {
  s.settings.backgroundFlags = on ? s.settings.backgroundFlags | bit : s.settings.backgroundFlags & ~bit
}

/** Parses and checks one value: the bigint to apply, or Redis's error text for it. */
function parseValue (p: Param, value: string, s: ServerContext): { v: bigint, isCurrent: boolean } | string {
  const t = p.type
  switch (t.kind) {
    case 'number': {
      // numericParseString then numericBoundaryCheck.
      let v = t.isMemory ? memtoull(value) : string2ll(value)
      if (v === null) return t.isMemory ? 'argument must be a memory value' : "argument couldn't be parsed into an integer"
      if (t.isUnsigned) {
        if (v < 0n) v += TWO_64
      } else if (v > LONG_MAX) {
        v -= TWO_64
      }
      if (v < t.min || v > t.max) return `argument must be between ${t.min} and ${t.max} inclusive`
      return { v, isCurrent: String(v) === p.get(s) }
    }
    case 'enum': {
      const i = t.values.indexOf(value.toLowerCase())
      if (i < 0) return `argument(s) must be one of the following: ${t.values.join(', ')}`
      return { v: BigInt(i), isCurrent: t.values[i] === p.get(s) }
    }
    case 'shutdown': {
      const flags = parseShutdownOnSig(value)
      if (typeof flags === 'string') return flags
      return { v: BigInt(flags), isCurrent: shutdownOnSigText(flags) === p.get(s) }
    }
    case 'bool': {
      const lower = value.toLowerCase()
      if (lower !== 'yes' && lower !== 'no') return "argument must be 'yes' or 'no'"
      return { v: lower === 'yes' ? 1n : 0n, isCurrent: lower === p.get(s) }
    }
    case 'save': {
      // setConfigSaveOption: pairs of seconds >= 1 and changes >= 0, split on single spaces.
      const args = value === '' ? [] : value.split(' ')
      if (args.length % 2 !== 0) return 'Invalid save parameters'
      for (let j = 0; j < args.length; j++) {
        const n = saveNumber(args[j])
        if (n === null || ((j & 1) === 0 && n < 1) || ((j & 1) === 1 && n < 0)) return 'Invalid save parameters'
      }
      pendingSave = args.map(a => String(saveNumber(a))).join(' ')
      return { v: 0n, isCurrent: pendingSave === p.get(s) }
    }
    case 'notify': {
      const f = parseNotifyFlags(value)
      if (f === null) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
      return { v: BigInt(f), isCurrent: false }
    }
    case 'obuf': {
      // setConfigClientOutputBufferLimitOption: class hard soft seconds, repeated.
      const args = value === '' ? [] : value.split(' ')
      if (args.length % 4 !== 0) return 'Wrong number of arguments in buffer limit configuration.'
      const next = Float64Array.from(s.settings.outputBufferLimits)
      for (let j = 0; j < args.length; j += 4) {
        const cls = OBUF_CLASSES[args[j].toLowerCase()]
        if (cls === undefined) return 'Invalid client class specified in buffer limit configuration.'
        const hard = memtoull(args[j + 1])
        const soft = memtoull(args[j + 2])
        const secs = string2ll(args[j + 3])
        if (hard === null || soft === null || secs === null || secs < 0n) return 'Error in hard, soft or soft_seconds setting in buffer limit configuration.'
        next[cls * 3] = Number(hard)
        next[cls * 3 + 1] = Number(soft)
        next[cls * 3 + 2] = Number(secs)
      }
      pendingObuf = next
      return { v: 0n, isCurrent: false }
    }
    case 'percentiles': {
      // setConfigLatencyTrackingInfoPercentilesOutputOption: string2d, then the range.
      const args = value.split(' ').filter(a => a !== '')
      if (args.length > MAX_PERCENTILES) return 'Invalid latency-tracking-info-percentiles parameters'
      const ps: number[] = []
      for (const a of args) {
        if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?$/i.test(a)) return 'Invalid latency-tracking-info-percentiles parameters'
        const p = Number(a)
        if (p > 100 || p < 0) return 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]'
        ps.push(p)
      }
      pendingPercentiles = ps
      return { v: 0n, isCurrent: false }
    }
    case 'string':
      if (Buffer.byteLength(value, 'latin1') > PASSWORD_MAX) return `argument must be at most ${PASSWORD_MAX} bytes`
      pendingString = value
      return { v: 0n, isCurrent: value === p.get(s) }
    case 'bind': {
      // setConfigBindOption splits on single spaces: "a  b" has an empty address, which fails to bind.
      const args = value === '' ? [] : value.split(' ')
      if (args.length > 16) return 'Too many bind addresses specified.'
      return { v: 0n, isCurrent: value === p.get(s) }
    }
    case 'dir': {
      // setConfigDirOption: chdir, whose failure Redis reports with strerror.
      let st
      try { st = statSync(resolve(s.dir, value)) } catch (err) { return strerror((err as NodeJS.ErrnoException).code) }
      if (!st.isDirectory()) return 'Not a directory'
      return { v: 0n, isCurrent: false }
    }
    case 'dbfilename':
      if (value.includes('/') || value.includes('\\')) return "dbfilename can't be a path, just a filename"
      return { v: 0n, isCurrent: value === p.get(s) }
  }
}

function strerror (code: string | undefined): string {
  if (code === 'ENOENT') return 'No such file or directory'
  if (code === 'ENOTDIR') return 'Not a directory'
  if (code === 'EACCES') return 'Permission denied'
  return code ?? 'Unknown error'
}

/** What a CONFIG SET value means for the shared change: dir becomes absolute, with links resolved. */
function changeValue (p: Param, value: string, s: ServerContext): string {
  if (p.type.kind !== 'dir') return value
  const abs = resolve(s.dir, value)
  try { return realpathSync(abs) } catch { return abs }
}

/** enable-protected-configs: yes, or local and a loopback or Unix socket client. */
function mayChangeProtected (c: ClientContext): boolean {
  const gate = c.server.enableProtectedConfigs
  return gate === 'yes' || (gate === 'local' && c.isLocal)
}

/**
 * A failed shared change, blamed on the parameter Redis's apply functions would have failed on
 * (the first of them given, in argument order), with its message.
 */
function sharedFailure (failure: ListenFailure, asked: readonly Param[]): Buffer {
  const names = asked.map(p => p.name)
  const first = (cands: readonly string[]): string | undefined => names.find(n => cands.includes(n))
  const portMsg = 'Unable to listen on this port. Check server logs.'
  const bindMsg = 'Failed to bind to specified addresses.'
  if (failure === 'plain') {
    const n = first(['port', 'bind']) ?? 'port'
    return setFailed(n, n === 'bind' ? bindMsg : portMsg)
  }
  if (failure === 'tls-listen') {
    const n = first(['bind', 'tls-port']) ?? 'tls-port'
    return setFailed(n, n === 'bind' ? bindMsg : portMsg)
  }
  return setFailed(names.find(n => n.startsWith('tls-')) ?? 'tls-port', 'Unable to update TLS configuration. Check server logs.')
}

const setFailed = (name: string, why: string): Buffer =>
  errorReply(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`)

// configSetCommand (7.0): every name is checked before any value is parsed, every value is
// parsed before any is applied, so a failing pair leaves all parameters as they were. What every
// I/O thread applies (listeners, TLS, dir) goes first, and may fail (a port in use): the reply
// waits for it, and the other parameters are applied only once it succeeded (Redis's rollback).
export function configSetCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  if ((argv.argc & 1) !== 0) { out.raw(SYNTAX_ERR); return }
  const pairs = (argv.argc - 2) / 2
  const found: Param[] = []
  for (let i = 0; i < pairs; i++) {
    const asked = str(argv, 2 + i * 2)
    const p = paramIndex(asked)
    if (p < 0) { out.raw(errorReply(`ERR Unknown option or number of arguments for CONFIG SET - '${asked}'`)); return }
    const param = PARAMS[p]
    if (param.mode === 'immutable') { out.raw(setFailed(asked, "can't set immutable config")); return }
    if (param.mode === 'protected' && !mayChangeProtected(c)) { out.raw(setFailed(asked, "can't set protected config")); return }
    if (found.includes(param)) { out.raw(setFailed(asked, 'duplicate parameter')); return }
    found.push(param)
  }
  const values: bigint[] = []
  const pending: Pending[] = []
  const change: SharedChange = {}
  const shared: Param[] = []
  for (let i = 0; i < pairs; i++) {
    const p = found[i]
    const value = str(argv, 3 + i * 2)
    const r = parseValue(p, value, c.server)
    if (typeof r === 'string') { out.raw(setFailed(p.name, r)); return }
    // FlashKV cannot persist or evict at run time for these: only the current value is accepted.
    if (p.mode === 'fixed' && !r.isCurrent) { out.raw(setFailed(p.name, "can't set immutable config")); return }
    if (p.change !== undefined) { p.change(change, r.v, changeValue(p, value, c.server), c.server); shared.push(p) }
    values.push(r.v)
    pending.push(takePending())
  }
  const applyRest = (): void => {
    for (let i = 0; i < pairs; i++) {
      if (found[i].set === undefined) continue
      restorePending(pending[i])
      found[i].set?.(c.server, values[i])
    }
  }
  if (shared.length === 0) { applyRest(); out.raw(OK); return }
  if (change.bind !== undefined && change.bind !== '' && change.bind.split(' ').includes('')) { out.raw(sharedFailure('plain', shared)); return }
  if (c.isInMulti) {
    // Inside EXEC the reply is due now: the rest applies at once, the shared part when it can
    // (a failure is logged by the thread that could not bind).
    void c.server.applyShared(change)
    applyRest()
    out.raw(OK)
    return
  }
  c.deferReply(c.server.applyShared(change).then(failure => {
    if (failure !== null) return sharedFailure(failure, shared)
    applyRest()
    return OK
  }, () => sharedFailure('plain', shared)))
}

/** The shard's half of CONFIG RESETSTAT: its keyspace counters. */
export function configResetstatShard (shard: Shard, _argv: Argv, out: ReplyWriter): void {
  shard.hits = 0
  shard.misses = 0
  shard.expiredKeys = 0
  shard.expireStale = 0
  shard.expireCycleMs = 0
  shard.lazyFreed = 0
  // As resetServerStats: a spell still on counts again from the next pass that finds it.
  shard.exceededMs = 0
  shard.exceededSince = 0
  shard.evictedKeys = 0
  shard.defragKeys = 0
  shard.defragMs = 0
  shard.scriptRuns = 0
  shard.scriptCalls = 0
  shard.scriptStops = 0
  shard.ringFullWaits = 0
  shard.ringFullTimeouts = 0
  out.raw(OK)
}

/**
 * The client threads' half of CONFIG RESETSTAT (resetServerStats), as the command leaves for the
 * shards: what those threads count for the commands pipelined after it (MULTI, rejected calls,
 * errors they answer) must survive it, as in Redis, where it runs in its turn.
 */
export function configResetstatBegin (c: ClientContext): void {
  c.server.resetStats()
}

/** Every shard has reset its own counters, each in its ring's order. */
export function configResetstatFinish (_c: ClientContext, _argv: Argv, _parts: readonly Buffer[], out: ReplyWriter): void {
  out.raw(OK)
}

/** getClientTypeByName for output buffer limits (the master class is refused). */
const OBUF_CLASSES: Record<string, number> = { normal: 0, slave: 1, replica: 1, pubsub: 2 }
/** The limits a CONFIG SET client-output-buffer-limit parsed, applied by its `set`. */
/** A 'string' value parsed by parseValue, for its set(). */
let pendingString = ''
/** A 'save' value parsed by parseValue, normalised ("3600 1 300 100"). */
let pendingSave = ''

const saveFlag = (word: number): string => saveWords().i32[word] !== 0 ? 'yes' : 'no'
function setSaveFlag (word: number, v: bigint): void {
  Atomics.store(saveWords().i32, word, v === 1n ? 1 : 0)
  updateDenyWrites()
}
/** A save-state word other threads read (the signal handler on the main thread: main.ts). */
const saveWord = (word: number): number => Atomics.load(saveWords().i32, word)
const setSaveWord = (word: number, v: bigint): void => { Atomics.store(saveWords().i32, word, Number(v)) }
let pendingObuf = new Float64Array(9)
let pendingPercentiles: number[] = []

/**
 * The values parseValue left for one parameter's set(), kept per parameter: a CONFIG SET that
 * waits for the I/O threads applies them later, after other CONFIG SETs have parsed theirs.
 */
interface Pending { str: string, save: string, obuf: Float64Array<ArrayBuffer>, percentiles: number[] }
const takePending = (): Pending => ({ str: pendingString, save: pendingSave, obuf: pendingObuf, percentiles: pendingPercentiles })
function restorePending (p: Pending): void {
  pendingString = p.str
  pendingSave = p.save
  pendingObuf = p.obuf
  pendingPercentiles = p.percentiles
}


function obufToString (w: Float64Array): string {
  const names = ['normal', 'slave', 'pubsub']
  return names.map((n, i) => `${n} ${w[i * 3]} ${w[i * 3 + 1]} ${w[i * 3 + 2]}`).join(' ')
}

/** Every parameter's name, value type and current value (CONFIG REWRITE, commands/config-rewrite.ts). */
export function paramValues (s: ServerContext): Array<{ name: string, kind: string, isMemory: boolean, value: string }> {
  return PARAMS.map(p => ({ name: p.name, kind: p.type.kind, isMemory: p.type.kind === 'number' && p.type.isMemory, value: p.get(s) }))
}
