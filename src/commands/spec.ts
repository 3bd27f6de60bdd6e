// The shape of one command-table row. A command is declared once, in its family file; the row
// drives lookup, arity errors, key extraction, shard routing, merging and COMMAND INFO/DOCS.

import type { CommandStats } from '../server/command-stats.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { ArgvView } from '../protocol/errors.js'
import type { TlsConfig } from '../config.js'
import type { Acl, AclUser } from '../server/acl.js'
import type { SharedChange, ListenFailure } from '../server/listeners.js'
import type { Tracking, ClientTracking } from '../server/tracking.js'

export type Flag =
  | 'write' | 'readonly' | 'denyoom' | 'admin' | 'pubsub' | 'noscript' | 'blocking' | 'loading'
  | 'stale' | 'skip_monitor' | 'skip_slowlog' | 'fast' | 'no_auth' | 'may_replicate'
  | 'no_mandatory_keys' | 'no_async_loading' | 'no_multi' | 'movablekeys' | 'allow_busy'

/**
 * txn: MULTI, EXEC, DISCARD, WATCH, UNWATCH, run by the router itself (server/multi.ts) |
 * block: a blocking list command (the shard of its keys; the client waits for its reply) |
 * pubsub: SUBSCRIBE and kin, run by the router (server/pubsub.ts) | hub: the pub/sub hub shard (0) |
 * primary thread | the shard of the first key | one sub-request per shard | every shard |
 * one shard if all keys share it, else a transaction holding every shard involved |
 * the shard named by a SCAN cursor (global cursor = shardCursor * shards + shard) |
 * script: EVAL and SCRIPT LOAD/EXISTS/FLUSH, a transaction holding every shard (server/scripting.ts)
 */
export type Route = 'primary' | 'key' | 'split' | 'all' | 'coord' | 'cursor' | 'txn' | 'block' | 'pubsub' | 'hub' | 'script'
/** Redis command tips: AGG_SUM, ALL_SUCCEEDED, the default key-ordered merge, or a custom finish. */
export type Merge = 'sum' | 'allOk' | 'byKeyOrder' | 'concat' | 'custom'

export type Group = 'string' | 'generic' | 'server' | 'connection' | 'cluster' | 'list' | 'hash' | 'set' | 'sortedset' | 'bitmap' | 'hyperloglog' | 'geo' | 'transactions' | 'pubsub' | 'stream' | 'scripting'

/**
 * One Redis key spec. begin_search defaults to `index: firstKey` and find_keys to the row's
 * range; commands with several specs or movable keys spell them out.
 */
export interface KeySpec {
  flags: readonly string[]
  notes?: string
  index?: number
  keyword?: { keyword: string, startfrom: number }
  range?: { lastkey: number, keystep: number, limit: number }
  keynum?: { keynumidx: number, firstkey: number, keystep: number }
  /** Redis's "unknown" begin_search and find_keys (SORT's BY/GET and STORE keys). */
  unknown?: true
}

export interface Argv extends ArgvView {}

/** What a primary-thread handler may see of its client and of the server. */
export interface ClientContext {
  readonly id: number
  /** Authenticated as the default user (AUTH, HELLO AUTH, or no requirepass when it connected). */
  isAuthenticated: boolean
  /** The ACL user it runs as (server/acl.ts): the default user until AUTH names another. */
  user: AclUser
  name: Buffer | null
  libName: string
  libVer: string
  resp: 2 | 3
  db: number
  readonly server: ServerContext
  /** Peer and local address as Redis prints them ("ip:port", "[ipv6]:port"): CLIENT KILL filters. */
  readonly addr: string
  readonly laddr: string
  /** Redis's islocalClient: a loopback peer or the Unix socket (the 'local' of enable-*-command/configs). */
  readonly isLocal: boolean
  /** The row of the client's last command, unknown ones as null (CLIENT LIST cmd=): set by the router. */
  lastCmd: { readonly name: string } | null
  /** CLIENT NO-EVICT (flag 'e' in CLIENT LIST). */
  noEvict: boolean
  /** Reply first, then close once every earlier reply has been written (QUIT). */
  closeAfterReply (): void
  /** Subscribed to a channel, pattern or shard channel (PING answers differently in RESP2). */
  readonly isSubscribed: boolean
  /** RESET: back to a new connection's state (database 0, RESP2, no name, transaction, subscriptions or authentication). */
  reset (): void
  /** CLIENT REPLY ON|OFF|SKIP: the replies of the commands it silences are dropped, not their effects. */
  setReplyMode (mode: 'on' | 'off' | 'skip'): void
  /** One CLIENT LIST line without the newline (Redis's catClientInfoString); isCaller: the client asking. */
  infoLine (isCaller: boolean): string
  /** CLIENT PAUSE ms (type 1 WRITE, 2 ALL) and CLIENT UNPAUSE (ms 0), for every thread. */
  pauseClients (ms: number, type: number): void
  /** The client waits for its WAIT: ms (0 = until CLIENT UNBLOCK), then it replies :0. */
  waitReplicas (ms: number): void
  /**
   * The reply comes later (CONFIG SET that rebinds on every I/O thread): nothing after it is
   * parsed until it is sent. False inside EXEC, where the reply is due now.
   */
  deferReply (reply: Promise<Uint8Array>): boolean
  /** Inside MULTI or EXEC: blocking commands answer at once. */
  readonly isInMulti: boolean
  /** Closes the connection now, dropping its pending replies (CLIENT KILL of another client, idle timeout). */
  kill (): void
  /** CLIENT UNBLOCK (mode 0: as timed out, 1: UNBLOCKED error): true if it was blocked. */
  unblock (mode: number): boolean
  /** CLIENT TRACKING state (server/tracking.ts); null while tracking is off. */
  trk: ClientTracking | null
}

/** Parameters CONFIG SET may change at run time; readers take the current value on each use. */
export interface ServerSettings {
  maxclients: number
  timeoutSec: number
  tcpKeepaliveSec: number
  queryBufferLimit: number
  /** Bytes, 0 = none: above it keys are evicted, or denyoom commands get the OOM error (noeviction). */
  maxmemory: number
  /** notify-keyspace-events as flags (storage/notify.ts); 0 = off. */
  notifyKeyspaceEvents: number
  /** hash-max-listpack-entries and -value (shared words: the shards read them). */
  hashMaxListpackEntries: bigint
  hashMaxListpackValue: bigint
  /** set-max-intset-entries (a shared word pair, like the hash thresholds). */
  setMaxIntsetEntries: bigint
  /** zset-max-listpack-entries and -value. */
  zsetMaxListpackEntries: bigint
  zsetMaxListpackValue: bigint
  /** lazyfree-lazy-user-del (a shared word: the shards read it in DEL). */
  lazyfreeLazyUserDel: boolean
  /** The shards' background switches (ipc/layout.ts BACKGROUND_WORD bits: activerehashing, lazyfree-lazy-*). */
  backgroundFlags: number
  /** active-expire-effort (1-10). */
  activeExpireEffort: number
  /** list-max-listpack-size (RDB's and DEBUG OBJECT's quicklist nodes). */
  listMaxListpackSize: number
  /** hz, as updateHZ keeps it: 1 to 500. */
  hz: number
  /** hll-sparse-max-bytes (a shared word pair: the shards read it in PFADD and PFMERGE). */
  hllSparseMaxBytes: bigint
  /** maxmemory-policy (storage/eviction.ts POLICY_*), maxmemory-samples, lfu-log-factor, lfu-decay-time, maxmemory-eviction-tenacity: shared words the shards read. */
  maxmemoryPolicy: number
  maxmemorySamples: number
  lfuLogFactor: number
  lfuDecayTime: number
  evictionTenacity: number
  /** busy-reply-threshold (lua-time-limit) in ms: past it a script lets its thread answer BUSY. */
  busyReplyThresholdMs: bigint
  /** LASTSAVE: unix seconds of the last successful SAVE (the start time before any), every thread alike. */
  lastSaveSec: number
  /** protected-mode: with no password, clients from other than loopback are refused. */
  protectedMode: boolean
  /** INFO's rdb_saves: successful SAVEs since start. */
  rdbSaves: number
  /**
   * client-output-buffer-limit: [hard, soft, soft seconds] of the normal, replica and pubsub
   * classes, in that order (0 = none). FlashKV enforces the pubsub class.
   */
  readonly outputBufferLimits: Float64Array
}

/** Counters the primary bumps on its own paths (plain numbers; INFO reads, CONFIG RESETSTAT zeroes). */
export interface ServerStats {
  connectionsReceived: number
  rejectedConnections: number
  netInputBytes: number
  netOutputBytes: number
  readsProcessed: number
  writesProcessed: number
}

export interface ServerContext {
  /** CLIENT TRACKING on this thread (server/tracking.ts). */
  readonly tracking: Tracking
  /** CLIENT PAUSE ms (type 1 WRITE, 2 ALL; ms 0 ends any pause), on every thread. */
  pauseClients (ms: number, type: number): void
  readonly shards: number
  readonly port: number
  readonly bind: string
  readonly version: string
  readonly startedAt: number
  readonly configFile: string
  /** logfile ('' = stdout) and pidfile ('' = none), absolute: CONFIG GET (immutable, as in Redis). */
  readonly logfile: string
  readonly pidfile: string
  /** unixsocket ('' = none), as given, and unixsocketperm (CONFIG GET; immutable, as in Redis). */
  readonly unixsocket: string
  readonly unixsocketperm: number
  /** enable-debug-command, enable-protected-configs, enable-module-command (CONFIG GET). */
  readonly enableDebugCommand: 'no' | 'yes' | 'local'
  readonly enableProtectedConfigs: 'no' | 'yes' | 'local'
  readonly enableModuleCommand: 'no' | 'yes' | 'local'
  /**
   * CONFIG SET of port, bind, tls-*, dir and dbfilename, on every I/O thread: resolves with
   * what failed (nothing changed then) or null (server/listeners.ts).
   */
  applyShared (change: SharedChange): Promise<ListenFailure | null>
  /** The tls-* settings (CONFIG GET). */
  readonly tls: TlsConfig
  /** Where SAVE writes (dir/dbfilename, absolute dir) and what was loaded at start. */
  readonly dir: string
  readonly dbfilename: string
  /** requirepass, every thread alike ('' = none: the default user is nopass). */
  readonly password: Buffer
  setPassword (b: Uint8Array): boolean
  /** This thread's ACL users (server/acl.ts), and the aclfile ACL SAVE/LOAD use ('' = none). */
  readonly acl: Acl
  readonly aclfile: string
  /** The container's cgroup memory limit in bytes; 0 when none is enforced. */
  readonly cgroupMemoryLimit: number
  readonly runId: string
  /** The bound on the primary's blocking wait for shard replies (0 = never blocks). */
  readonly replyWaitUs: number
  /** spin-us (config.ts): INFO shards. */
  readonly spinUs: number
  /** server_cpulist as given at start ('' = any CPU). */
  readonly serverCpulist: string
  /** How client sockets are read and written: 'handle' below Node's streams, or 'stream'. */
  readonly clientIo: 'handle' | 'stream'
  readonly settings: ServerSettings
  readonly stats: ServerStats
  connectedClients (): number
  totalConnections (): number
  totalCommands (): number
  /** Turns that blocked for shard replies, and those whose bound ran out first. */
  replyWaitCounts (): { waits: number, timeouts: number }
  /** RENAME/RENAMENX run as a move between two shards (commands/xmove.ts), every thread. */
  moveCount (): number
  /** Requests parked now for want of their client's output credit, and ever (server/credits.ts). */
  parkedRequests (): { now: number, total: number }
  /** Clients blocked in BLPOP & co., every shard and thread. */
  blockedClients (): number
  /** noeviction's refusals over maxmemory on every I/O thread: the longest spells, in ms (INFO's *_eviction_exceeded_time). */
  evictionExceeded (): { total: number, current: number }
  /** This thread's Lua VMs (EVAL's; the functions', once made) and libraries: INFO memory's scripting figures. */
  scriptingMemory (): { vmEval: number, vmFunctions: number, functions: number, libraries: number, functionsBytes: number }
  /** Clients blocked with a timeout (INFO's clients_in_timeout_table). */
  clientsInTimeoutTable (): number
  /** The biggest query buffer and pending replies of any client in the last 8 seconds (INFO's client_recent_max_*). */
  recentMaxBuffers (): { input: number, output: number }
  rejectedConnections (): number
  /** Bytes read from and written to clients, over every I/O thread. */
  netBytes (): { input: number, output: number }
  /** Every thread's read callbacks and reply writes (INFO total_reads_processed & co.). */
  ioProcessed (): { reads: number, writes: number }
  /** I/O threads, how they share the port, and each one's Linux thread id. */
  readonly ioThreads: number
  readonly ioListen: string
  ioTids (): number[]
  /** Connections each I/O thread accepted (INFO shards' io<i> lines). */
  ioConnections (): number[]
  clientList (): ClientContext[]
  /** Redis's getInstantaneousMetric: the mean of the last 16 samples taken every 100 ms, per second. */
  instantaneous (metric: 'ops' | 'netInput' | 'netOutput'): number
  /** The primary's half of CONFIG RESETSTAT (shards reset their own counters). */
  resetStats (): void
  /** INFO commandstats, errorstats and latencystats, LATENCY HISTOGRAM: every thread's rows. */
  readonly cmdStats: CommandStats
  /** The server's log (pino): what Redis writes to its log file, commands log here. */
  readonly log: { warn: (obj: object, msg: string) => void }
}

export type ShardHandler = (shard: Shard, argv: Argv, out: ReplyWriter) => void
export type LocalHandler = (client: ClientContext, argv: Argv, out: ReplyWriter) => void

/** A container's HELP subcommand: Redis's usage line, `lines`, then HELP itself (ReplyWriter.help). */
export function helpCommand (container: string, lines: readonly string[]): LocalHandler {
  return (_c, _argv, out) => { out.help(container, lines) }
}
/** What a cross-shard transaction may do: run commands on its held shards, in order. */
export interface TxnContext {
  /** Shard owning a key (the transaction holds every shard its command's keys hash to). */
  shardOf (buf: Uint8Array, start: number, len: number): number
  /** Runs a command on a held shard; resolves with its reply bytes. */
  run (shard: number, cmd: string, args: readonly Uint8Array[], db?: number): Promise<Buffer>
  /**
   * Makes sure `bytes` (arena block sizes) can be allocated on a held shard before any step
   * writes: false when its arena cannot grow that far, and the command must answer OOM having
   * changed nothing.
   */
  reserve (shard: number, bytes: number, db?: number): boolean
  /**
   * Adds to Redis's dirty what the command counts itself (DIRTY_SET in persistence/dirty.ts;
   * SMOVE: 2 when the member was new to the destination). Absent where steps run remotely.
   */
  addDirty?: (n: number) => void
  readonly db: number
  readonly resp3: boolean
}
export type CoordHandler = (tx: TxnContext, argv: Argv) => Promise<Uint8Array>

/** Custom merge on the primary: parts[i] is shard i's reply bytes. */
export type FinishHandler = (client: ClientContext, argv: Argv, parts: readonly Buffer[], out: ReplyWriter) => void

export interface CommandSpec {
  name: string // lowercase, as Redis prints it: 'get', 'client|id'
  arity: number // N: exactly N args (name included); -N: at least N
  flags: readonly Flag[]
  firstKey: number // 0: no keys
  lastKey: number // negative counts from the end
  step: number
  route: Route
  merge?: Merge
  group: Group
  since: string
  summary: string
  complexity: string
  /** ACL categories beyond those implied by the flags and the group (e.g. 'dangerous'). */
  acl?: readonly string[]
  /** The group implies no ACL category (WAIT: group generic, but not @keyspace). */
  noGroupAcl?: true
  tips?: readonly string[]
  keySpecs?: readonly KeySpec[]
  run?: ShardHandler
  local?: LocalHandler
  finish?: FinishHandler
  /**
   * route 'all': checked on the client's thread just before the request goes to the shards; an
   * error reply refuses it there (BGSAVE while one runs: only one thread may start it).
   */
  admit?: (client: ClientContext, argv: Argv) => Buffer | null
  /**
   * route 'all': its part on the client's thread, in the client's order: as the request leaves
   * for the shards, or as EXEC plans it (RESETSTAT zeroes what the client threads count, so the
   * commands after it still count).
   */
  begin?: (client: ClientContext) => void
  /**
   * It pops from the first non-empty of its keys, and its reply (an array) names that key first:
   * WATCH and CLIENT TRACKING see it alone written, as Redis signals that key alone.
   */
  touchesReplyKey?: true
  /**
   * Key positions for commands whose keys move with their arguments (movablekeys: LMPOP's
   * numkeys). Null when the arguments are malformed: the command then runs on shard 0, whose
   * handler replies with Redis's error.
   */
  getKeys?: (argv: Argv) => number[] | null
  /**
   * route 'block': false when this call cannot block (XREAD without BLOCK), and then it runs as
   * route 'coord' would. Absent: the command always may block.
   */
  blocks?: (argv: Argv) => boolean
  /** route 'coord': the cross-shard version of `run`, composed of steps on held shards. */
  coord?: CoordHandler
  /** route 'coord': true when this call must hold every shard (SORT's BY/GET patterns name any key). */
  allShards?: (argv: Argv) => boolean
  /**
   * Redis's CMD_PROTECTED: refused unless enable-debug-command (DEBUG: true) or
   * enable-module-command ('module': MODULE LOAD/LOADEX/UNLOAD) allows this client.
   */
  protectedCommand?: true | 'module'
  /** Worker-only helper (transaction steps): not looked up from clients, not in COMMAND. */
  internal?: true
  /** Its handler writes its own AOF effects (commands/xmove.ts): the worker logs nothing for it. */
  logsItself?: true
  subcommands?: readonly CommandSpec[]
}
