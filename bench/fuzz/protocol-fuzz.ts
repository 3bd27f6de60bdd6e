// Protocol fuzzer for FlashKV's RESP port (issue 10). Many concurrent connections send valid,
// mutated, truncated and split RESP, huge and negative lengths, NUL bytes, overlong inline lines
// and garbage; some read their replies, some never do; some close politely, some mid-command,
// some with a TCP reset. Afterwards three checks: a fresh connection gets +PONG, INFO's
// connected_clients is back at its baseline, and the server's RSS is back within a fixed bound.
//
// Everything random comes from one 32-bit seed: session k always gets the same inputs, split
// points and ending, so a failing run is replayed with its seed. Which lane runs a session and how
// the sessions interleave on the wire is up to the scheduler, and so is where a session stops once
// the server has closed it.
//
// Used by `npm run fuzz` (bench/fuzz/run.ts, a long run with a report) and by
// test/integration/fuzz.test.ts (a short run inside `npm test`).
import net from 'node:net'
import { readFileSync } from 'node:fs'

// --- seeded PRNG -------------------------------------------------------------------------------

/** One step of splitmix32: scrambles a 32-bit counter into a well-mixed 32-bit value. */
function mix32 (x: number): number {
  let z = (x + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

/** xoshiro128** over four 32-bit words, seeded from (seed, stream) through splitmix32. */
export class Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor (seed: number, stream = 0) {
    let x = mix32((seed >>> 0) ^ mix32(stream >>> 0))
    this.s0 = x = mix32(x)
    this.s1 = x = mix32(x)
    this.s2 = x = mix32(x)
    this.s3 = mix32(x)
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  u32 (): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1). */
  float (): number { return this.u32() / 0x1_0000_0000 }
  /** Uniform integer in [0, n). */
  int (n: number): number { return Math.floor(this.float() * n) }
  /** Uniform integer in [lo, hi]. */
  range (lo: number, hi: number): number { return lo + this.int(hi - lo + 1) }
  chance (p: number): boolean { return this.float() < p }
  pick<T> (items: readonly T[]): T { return items[this.int(items.length)] }

  /** A key of `weights`, chosen with probability proportional to its weight. */
  weighted<K extends string> (weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[]
    let total = 0
    for (const k of keys) total += weights[k]
    let x = this.float() * total
    for (const k of keys) {
      x -= weights[k]
      if (x < 0) return k
    }
    return keys[keys.length - 1]
  }

  bytes (n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff
    return out
  }
}

// --- command generation ------------------------------------------------------------------------

type Args = Array<string | Buffer>

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-'

function word (r: Rng, min: number, max: number): string {
  const n = r.range(min, max)
  let s = ''
  for (let i = 0; i < n; i++) s += LETTERS[r.int(LETTERS.length)]
  return s
}

/** A small key space (24 names, some sharing a {tag}) so commands meet each other's data. */
function key (r: Rng): string | Buffer {
  const x = r.int(100)
  if (x < 80) return `fz:${r.int(24)}`
  if (x < 95) return `fz:{t}${r.int(6)}`
  return Buffer.concat([Buffer.from('fz:'), r.bytes(r.range(0, 6))])
}

/** Values stay small: the RSS check is about leaks, not about what the fuzz stored. */
function value (r: Rng): string | Buffer {
  const x = r.int(100)
  const n = x < 80 ? r.range(0, 16) : x < 98 ? r.range(17, 256) : r.range(257, 2048)
  return r.chance(0.7) ? word(r, n, n) : r.bytes(n)
}

function integer (r: Rng): string {
  return r.pick(['0', '1', '-1', '2', '10', '100', String(r.range(-1000, 1000)), '9223372036854775807',
    '-9223372036854775808', '9223372036854775808', '99999999999999999999', '1.5', 'abc', '', ' 1', '0x10'])
}

function smallInt (r: Rng): string { return String(r.range(-5, 50)) }

function keys (r: Rng, min: number, max: number): Args {
  const out: Args = []
  for (let n = r.range(min, max); n > 0; n--) out.push(key(r))
  return out
}

function pairs (r: Rng, min: number, max: number): Args {
  const out: Args = []
  for (let n = r.range(min, max); n > 0; n--) out.push(key(r), value(r))
  return out
}

function values (r: Rng, min: number, max: number): Args {
  const out: Args = []
  for (let n = r.range(min, max); n > 0; n--) out.push(value(r))
  return out
}

// Nothing here may harm the run itself: no SHUTDOWN, DEBUG, CONFIG SET, CLIENT KILL/PAUSE or QUIT
// (QUIT is one of the session endings). isHarmful() guards the mutated bytes too.
const COMMANDS: ReadonlyArray<[number, (r: Rng) => Args]> = [
  [6, r => r.chance(0.5) ? ['PING'] : ['PING', value(r)]],
  [3, r => ['ECHO', value(r)]],
  [10, r => {
    const a: Args = ['SET', key(r), value(r)]
    const o = r.int(8)
    if (o === 1) a.push('EX', smallInt(r))
    if (o === 2) a.push('PX', String(r.range(1, 5000)))
    if (o === 3) a.push(r.pick(['NX', 'XX', 'GET', 'KEEPTTL']))
    if (o === 4) a.push(r.pick(['EX', 'PX', 'EXAT', 'NX', 'XX', 'GET', 'KEEPTTL', 'BOGUS']), integer(r))
    return a
  }],
  [10, r => ['GET', key(r)]],
  [3, r => ['MSET', ...pairs(r, 1, 6)]],
  [3, r => ['MGET', ...keys(r, 1, 8)]],
  [4, r => [r.pick(['LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX']), key(r), ...values(r, 1, 5)]],
  [4, r => ['LRANGE', key(r), smallInt(r), r.pick(['-1', smallInt(r), integer(r)])]],
  [2, r => [r.pick(['LPOP', 'RPOP']), key(r), ...(r.chance(0.3) ? [smallInt(r)] : [])]],
  [1, r => ['LTRIM', key(r), smallInt(r), smallInt(r)]],
  [1, r => [r.pick(['LLEN', 'LINDEX', 'LSET', 'LREM', 'LPOS', 'LINSERT']), key(r), smallInt(r), value(r)]],
  [1, r => ['LMOVE', key(r), key(r), r.pick(['LEFT', 'RIGHT']), r.pick(['LEFT', 'RIGHT', 'UP'])]],
  [1, r => ['LMPOP', String(r.range(1, 3)), ...keys(r, 1, 3), r.pick(['LEFT', 'RIGHT'])]],
  [5, r => [r.pick(['DEL', 'UNLINK', 'EXISTS', 'TOUCH']), ...keys(r, 1, 5)]],
  [4, r => [r.pick(['INCR', 'DECR']), key(r)]],
  [2, r => [r.pick(['INCRBY', 'DECRBY', 'INCRBYFLOAT']), key(r), integer(r)]],
  [3, r => [r.pick(['EXPIRE', 'PEXPIRE']), key(r), smallInt(r), ...(r.chance(0.2) ? [r.pick(['NX', 'XX', 'GT', 'LT', 'ZZ'])] : [])]],
  [2, r => [r.pick(['TTL', 'PTTL', 'PERSIST', 'TYPE', 'STRLEN', 'GETDEL', 'EXPIRETIME']), key(r)]],
  [1, r => ['APPEND', key(r), value(r)]],
  [1, r => ['GETRANGE', key(r), smallInt(r), smallInt(r)]],
  [1, r => [r.pick(['RENAME', 'RENAMENX', 'COPY', 'RPOPLPUSH']), key(r), key(r)]],
  [1, r => ['SELECT', r.pick(['0', '1', '15', '16', '-1', 'x'])]],
  [1, r => ['SCAN', r.pick(['0', '1', '17', integer(r)]), ...(r.chance(0.5) ? ['COUNT', smallInt(r)] : []), ...(r.chance(0.3) ? ['MATCH', 'fz:*'] : [])]],
  [1, r => r.pick<Args>([['DBSIZE'], ['KEYS', 'fz:*'], ['RANDOMKEY'], ['TIME'], ['SWAPDB', '0', '1'], ['MOVE', 'fz:1', '2']])],
  [1, r => ['INFO', ...(r.chance(0.6) ? [r.pick(['clients', 'server', 'memory', 'shards', 'stats', 'keyspace', 'everything', 'bogus'])] : [])]],
  [2, r => ['CLIENT', r.pick(['ID', 'GETNAME', 'INFO', 'LIST', 'BOGUS']), ...(r.chance(0.2) ? [value(r)] : [])]],
  [1, r => ['CLIENT', 'SETNAME', r.chance(0.7) ? word(r, 0, 10) : value(r)]],
  [1, r => ['CLIENT', 'REPLY', r.pick(['ON', 'OFF', 'SKIP', 'MAYBE'])]],
  [1, r => ['CLIENT', 'SETINFO', r.pick(['LIB-NAME', 'LIB-VER', 'X']), word(r, 0, 8)]],
  [2, r => ['CONFIG', 'GET', r.pick(['*', 'maxclients', 'timeout', 'maxmemory', 'port', 'nosuch', '*max*'])]],
  [1, r => ['COMMAND', r.pick(['COUNT', 'INFO', 'DOCS']), ...(r.chance(0.8) ? [r.pick(['get', 'set', 'nosuch', 'lpush'])] : [])]],
  [1, r => ['HELLO', ...(r.chance(0.8) ? [r.pick(['2', '3', '4', 'x'])] : [])]],
  [1, r => ['OBJECT', r.pick(['ENCODING', 'REFCOUNT', 'FREQ', 'HELP']), key(r)]],
  [1, r => ['MEMORY', 'USAGE', key(r)]],
  [1, r => [r.pick(['FLUSHDB', 'FLUSHALL']), ...(r.chance(0.3) ? ['ASYNC'] : [])]],
  // The collection types, bitmaps, HyperLogLog, geo and SORT, with their options and bad ones.
  [3, r => ['HSET', key(r), ...pairs(r, 1, 4)]],
  [2, r => [r.pick(['HGET', 'HDEL', 'HEXISTS', 'HSTRLEN', 'HMGET', 'HSETNX']), key(r), ...values(r, 1, 3)]],
  [1, r => [r.pick(['HGETALL', 'HKEYS', 'HVALS', 'HLEN']), key(r)]],
  [1, r => [r.pick(['HINCRBY', 'HINCRBYFLOAT']), key(r), value(r), integer(r)]],
  [1, r => ['HRANDFIELD', key(r), ...(r.chance(0.7) ? [smallInt(r)] : []), ...(r.chance(0.3) ? ['WITHVALUES'] : [])]],
  [1, r => [r.pick(['HSCAN', 'SSCAN', 'ZSCAN']), key(r), r.pick(['0', '1', integer(r)]), ...(r.chance(0.5) ? ['COUNT', smallInt(r)] : []), ...(r.chance(0.3) ? ['MATCH', word(r, 1, 3)] : [])]],
  [3, r => ['SADD', key(r), ...(r.chance(0.5) ? values(r, 1, 5) : [smallInt(r), smallInt(r), integer(r)])]],
  [2, r => [r.pick(['SREM', 'SISMEMBER', 'SMISMEMBER']), key(r), ...values(r, 1, 3)]],
  [2, r => [r.pick(['SINTER', 'SUNION', 'SDIFF', 'SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE', 'SMEMBERS', 'SCARD']), ...keys(r, 1, 4)]],
  [1, r => [r.pick(['SPOP', 'SRANDMEMBER']), key(r), ...(r.chance(0.6) ? [smallInt(r)] : [])]],
  [1, r => ['SMOVE', key(r), key(r), value(r)]],
  [1, r => ['SINTERCARD', r.pick(['1', '2', '3', '0', 'x']), ...keys(r, 1, 3), ...(r.chance(0.4) ? ['LIMIT', integer(r)] : [])]],
  [3, r => {
    const a: Args = ['ZADD', key(r)]
    if (r.chance(0.3)) a.push(r.pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR', 'BOGUS']))
    for (let n = r.range(1, 4); n > 0; n--) a.push(r.pick([smallInt(r), '1.5', '-inf', '+inf', 'nan', integer(r)]), value(r))
    return a
  }],
  [2, r => ['ZRANGE', key(r), r.pick([smallInt(r), '-inf', '(1', '[a', '-']), r.pick([smallInt(r), '+inf', '(5', '[z', '+']),
    ...(r.chance(0.5) ? [r.pick(['BYSCORE', 'BYLEX'])] : []), ...(r.chance(0.3) ? ['REV'] : []),
    ...(r.chance(0.3) ? ['LIMIT', smallInt(r), smallInt(r)] : []), ...(r.chance(0.4) ? ['WITHSCORES'] : [])]],
  [2, r => [r.pick(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE', 'ZCOUNT', 'ZREMRANGEBYSCORE', 'ZRANGEBYLEX', 'ZLEXCOUNT', 'ZREMRANGEBYLEX', 'ZREMRANGEBYRANK']),
    key(r), r.pick([smallInt(r), '-inf', '(1', '[a', '-']), r.pick([smallInt(r), '+inf', '(5', '[z', '+'])]],
  [2, r => [r.pick(['ZSCORE', 'ZRANK', 'ZREVRANK', 'ZREM', 'ZMSCORE', 'ZINCRBY']), key(r), ...values(r, 1, 3)]],
  [1, r => [r.pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']), key(r), r.pick(['1', '2', '3', '0', 'x']), ...keys(r, 1, 3),
    ...(r.chance(0.3) ? ['WEIGHTS', smallInt(r), smallInt(r)] : []), ...(r.chance(0.3) ? ['AGGREGATE', r.pick(['SUM', 'MIN', 'MAX', 'AVG'])] : [])]],
  [1, r => [r.pick(['ZUNION', 'ZINTER', 'ZDIFF', 'ZINTERCARD']), r.pick(['1', '2', '0']), ...keys(r, 1, 2), ...(r.chance(0.3) ? ['WITHSCORES'] : [])]],
  [1, r => [r.pick(['ZPOPMIN', 'ZPOPMAX', 'ZRANDMEMBER', 'ZCARD']), key(r), ...(r.chance(0.5) ? [smallInt(r)] : [])]],
  [1, r => ['ZMPOP', r.pick(['1', '2']), ...keys(r, 1, 2), r.pick(['MIN', 'MAX', 'MID']), ...(r.chance(0.4) ? ['COUNT', smallInt(r)] : [])]],
  [1, r => ['ZRANGESTORE', key(r), key(r), smallInt(r), smallInt(r)]],
  [2, r => [r.pick(['SETBIT', 'GETBIT']), key(r), r.pick([smallInt(r), integer(r), '100000']), r.pick(['0', '1', '2'])]],
  [1, r => [r.pick(['BITCOUNT', 'BITPOS']), key(r), ...(r.chance(0.6) ? [smallInt(r), smallInt(r)] : []), ...(r.chance(0.3) ? [r.pick(['BYTE', 'BIT', 'WORD'])] : [])]],
  [1, r => ['BITOP', r.pick(['AND', 'OR', 'XOR', 'NOT', 'NAND']), key(r), ...keys(r, 1, 3)]],
  [1, r => ['BITFIELD', key(r), ...(r.chance(0.3) ? ['OVERFLOW', r.pick(['WRAP', 'SAT', 'FAIL', 'X'])] : []),
    r.pick(['GET', 'SET', 'INCRBY']), r.pick(['u8', 'i16', 'u63', 'i64', 'u64', 'x4']), r.pick(['0', '#1', smallInt(r), integer(r)]), integer(r)]],
  [2, r => [r.pick(['PFADD', 'PFCOUNT']), key(r), ...values(r, 0, 5)]],
  [1, r => ['PFMERGE', key(r), ...keys(r, 0, 3)]],
  [1, r => ['PFDEBUG', r.pick(['GETREG', 'DECODE', 'ENCODING', 'TODENSE', 'X']), key(r)]],
  [2, r => ['GEOADD', key(r), ...(r.chance(0.2) ? [r.pick(['NX', 'XX', 'CH'])] : []), r.pick([smallInt(r), '180', '-181', '13.361389']), r.pick([smallInt(r), '85.06', '-90', '38.115556']), value(r)]],
  [1, r => [r.pick(['GEOPOS', 'GEOHASH', 'GEODIST']), key(r), ...values(r, 1, 3)]],
  [1, r => [r.pick(['GEOSEARCH', 'GEOSEARCHSTORE']), key(r), ...(r.chance(0.5) ? [key(r)] : []),
    ...(r.chance(0.5) ? ['FROMLONLAT', smallInt(r), smallInt(r)] : ['FROMMEMBER', value(r)]),
    ...(r.chance(0.5) ? ['BYRADIUS', smallInt(r), r.pick(['m', 'km', 'mi', 'ft', 'x'])] : ['BYBOX', smallInt(r), smallInt(r), 'km']),
    ...(r.chance(0.3) ? [r.pick(['ASC', 'DESC'])] : []), ...(r.chance(0.3) ? ['COUNT', smallInt(r), ...(r.chance(0.3) ? ['ANY'] : [])] : []),
    ...(r.chance(0.3) ? [r.pick(['WITHCOORD', 'WITHDIST', 'WITHHASH', 'STOREDIST'])] : [])]],
  [1, r => [r.pick(['GEORADIUS', 'GEORADIUS_RO']), key(r), smallInt(r), smallInt(r), smallInt(r), r.pick(['m', 'km']), ...(r.chance(0.3) ? ['STORE', key(r)] : [])]],
  [1, r => ['SORT', key(r), ...(r.chance(0.3) ? ['BY', r.pick(['nosort', 'fz:*', 'fz:*->f'])] : []), ...(r.chance(0.3) ? ['LIMIT', smallInt(r), smallInt(r)] : []),
    ...(r.chance(0.3) ? ['GET', r.pick(['#', 'fz:*', 'fz:*->f'])] : []), ...(r.chance(0.3) ? [r.pick(['ASC', 'DESC', 'ALPHA'])] : []), ...(r.chance(0.2) ? ['STORE', key(r)] : [])]],
  // Streams: ids explicit, partial, '*' and bad; trims; groups, reads, claims and XINFO.
  [2, r => ['XADD', key(r), ...(r.chance(0.2) ? ['NOMKSTREAM'] : []),
    ...(r.chance(0.3) ? [r.pick(['MAXLEN', 'MINID']), ...(r.chance(0.5) ? [r.pick(['=', '~'])] : []), r.pick([smallInt(r), '0-1', integer(r)]), ...(r.chance(0.2) ? ['LIMIT', smallInt(r)] : [])] : []),
    r.pick(['*', `${r.range(0, 50)}-${r.range(0, 3)}`, `${r.range(0, 50)}-*`, smallInt(r), '0-0', 'x']), ...pairs(r, 0, 3)]],
  [1, r => [r.pick(['XRANGE', 'XREVRANGE']), key(r), r.pick(['-', '+', smallInt(r), `(${r.range(0, 50)}-1`]), r.pick(['-', '+', smallInt(r)]), ...(r.chance(0.4) ? ['COUNT', smallInt(r)] : [])]],
  [1, r => [r.pick(['XLEN', 'XDEL', 'XTRIM', 'XSETID']), key(r), ...(r.chance(0.5) ? [r.pick(['MAXLEN', 'MINID', `${r.range(0, 50)}-0`]), r.pick([smallInt(r), '~', '='])] : values(r, 0, 2))]],
  [1, r => ['XGROUP', r.pick(['CREATE', 'SETID', 'DESTROY', 'CREATECONSUMER', 'DELCONSUMER', 'HELP', 'X']), key(r), r.pick(['g', 'h']),
    ...(r.chance(0.7) ? [r.pick(['$', '0', 'c1', smallInt(r)])] : []), ...(r.chance(0.3) ? [r.pick(['MKSTREAM', 'ENTRIESREAD'])] : []), ...(r.chance(0.2) ? [smallInt(r)] : [])]],
  [1, r => {
    const ks = keys(r, 1, 2)
    const group = r.chance(0.6) ? ['GROUP', r.pick(['g', 'h']), r.pick(['c1', 'c2'])] : []
    return [group.length > 0 ? 'XREADGROUP' : 'XREAD', ...group, ...(r.chance(0.4) ? ['COUNT', smallInt(r)] : []),
      ...(r.chance(0.2) ? ['BLOCK', r.pick(['10', '50', 'x', '-1'])] : []), ...(r.chance(0.2) ? ['NOACK'] : []),
      'STREAMS', ...ks, ...ks.map(() => r.pick(['>', '$', '0', '0-0', smallInt(r)]))]
  }],
  [1, r => [r.pick(['XACK', 'XPENDING', 'XCLAIM', 'XAUTOCLAIM']), key(r), r.pick(['g', 'h']), ...values(r, 0, 4), ...(r.chance(0.3) ? [r.pick(['JUSTID', 'IDLE', 'COUNT', 'FORCE'])] : [])]],
  [1, r => ['XINFO', r.pick(['STREAM', 'GROUPS', 'CONSUMERS', 'HELP', 'X']), key(r), ...(r.chance(0.3) ? [r.pick(['FULL', 'g', 'COUNT'])] : [])]],
  // DUMP and RESTORE: real payloads, and payloads with a byte flipped (the CRC then fails) or
  // a valid footer over garbage ("Bad data format", never a crash).
  [1, r => ['DUMP', key(r)]],
  [1, r => ['RESTORE', key(r), r.pick(['0', '100000', '-1', 'x']), r.pick([
    Buffer.from('0001760a009108ceb219388ace', 'hex'), r.bytes(r.range(0, 40)), Buffer.from('000a', 'hex'),
  ]), ...(r.chance(0.3) ? [r.pick(['REPLACE', 'ABSTTL', 'IDLETIME', 'FREQ', 'X'])] : [])]],
  // Transactions and short blocking waits (a timeout always ends them).
  [2, r => r.pick<Args>([['MULTI'], ['EXEC'], ['DISCARD'], ['UNWATCH']])],
  [1, r => ['WATCH', ...keys(r, 1, 3)]],
  [1, r => [r.pick(['BLPOP', 'BRPOP', 'BZPOPMIN', 'BZPOPMAX']), ...keys(r, 1, 2), r.pick(['0.01', '0.05', 'x', '-1'])]],
  [3, r => [r.pick(['FOO', 'MULTI', 'WATCH', 'HSET', 'EVAL', 'get\u00e9', '']), ...values(r, 0, 3)]],
  [2, r => [word(r, 1, 12), ...values(r, 0, 4)]],
  [1, r => [r.bytes(r.range(1, 8)), ...values(r, 0, 2)]],
]

const COMMAND_WEIGHT = COMMANDS.reduce((sum, [w]) => sum + w, 0)

function command (r: Rng): Args {
  let x = r.float() * COMMAND_WEIGHT
  for (const [w, make] of COMMANDS) {
    x -= w
    if (x < 0) return make(r)
  }
  return ['PING']
}

const CRLF = Buffer.from('\r\n', 'latin1')
const asBytes = (a: string | Buffer): Buffer => typeof a === 'string' ? Buffer.from(a, 'latin1') : a

/** RESP multibulk encoding of a command. */
export function multibulk (args: Args): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')]
  for (const a of args) {
    const b = asBytes(a)
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, CRLF)
  }
  return Buffer.concat(parts)
}

/** Inline encoding: plain words where possible, else double quotes with \xHH escapes. */
function inline (r: Rng, args: Args): Buffer {
  const words = args.map((a) => {
    const b = asBytes(a)
    const plain = b.length > 0 && b.every(c => c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x27 && c !== 0x5c)
    if (plain && !r.chance(0.1)) return b.toString('latin1')
    let s = '"'
    for (const c of b) {
      if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c)
      else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c)
      else s += '\\x' + c.toString(16).padStart(2, '0')
    }
    return s + '"'
  })
  const sep = r.chance(0.9) ? ' ' : r.pick(['  ', '\t', ' \t '])
  return Buffer.from(words.join(sep) + (r.chance(0.8) ? '\r\n' : '\n'), 'latin1')
}

/**
 * True for bytes that could turn into a command that harms the run itself rather than the
 * server's parser: SHUTDOWN, DEBUG, CONFIG SET (maxclients, timeout...), CLIENT KILL/PAUSE. Such
 * an input is replaced by PING (it is a property of the fuzzer, not a workaround: these commands
 * are meant to stop or starve clients).
 */
export function isHarmful (bytes: Buffer): boolean {
  const s = bytes.toString('latin1').toLowerCase()
  return s.includes('shutdown') || s.includes('debug') || s.includes('kill') || s.includes('pause') ||
    s.includes('slaveof') || s.includes('replicaof') || s.includes('failover') ||
    (s.includes('config') && /config[^a-z]{0,16}set/.test(s))
}

export const INPUT_KINDS = [
  'valid', 'inline', 'flip', 'truncate', 'length', 'nul', 'overlong', 'quotes', 'newlines', 'garbage',
  'bigvalue', 'manyargs', 'half',
] as const
export type InputKind = typeof INPUT_KINDS[number]

/** Malformed kinds and their relative weights (valid and inline make up the rest). */
const BAD_WEIGHTS = {
  flip: 20, truncate: 12, length: 14, nul: 10, overlong: 3, quotes: 10, newlines: 10, garbage: 10, manyargs: 4,
} as const

/** 1–4 random edits: overwrite, insert or delete a byte (digits and CR/LF are favoured). */
function flip (r: Rng, src: Buffer): Buffer {
  const bytes = [...src]
  for (let n = r.range(1, 4); n > 0; n--) {
    const at = r.int(bytes.length + 1)
    const b = r.chance(0.5) ? r.u32() & 0xff : r.pick([0x30, 0x39, 0x2d, 0x0d, 0x0a, 0x24, 0x2a, 0x00, 0x20, 0x22])
    const op = r.int(3)
    if (op === 0 && at < bytes.length) bytes[at] = b
    else if (op === 1) bytes.splice(at, 0, b)
    else if (at < bytes.length) bytes.splice(at, 1)
  }
  return Buffer.from(bytes)
}

/** Length and count headers Redis must refuse or survive: huge, negative, non-numeric, overflowing. */
function badLength (r: Rng): Buffer {
  const huge = r.pick(['2147483648', '2147483647', '4294967296', '9223372036854775807', '9223372036854775808',
    '99999999999999999999', '536870912', '536870913', '1048577', '-5', '-2', '-1', '0', '+1', ' 1', '1 ', 'abc', '', '0x10', '1e3'])
  switch (r.int(7)) {
    case 0: return Buffer.from(`*${huge}\r\n`, 'latin1')
    case 1: return Buffer.from(`*1\r\n$${huge}\r\n`, 'latin1')
    case 2: return Buffer.from(`*2\r\n$3\r\nGET\r\n$${huge}\r\nabc\r\n`, 'latin1')
    case 3: return Buffer.from(`$${huge}\r\n`, 'latin1') // a bulk with no multibulk: inline "$..."
    case 4: return Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n:${huge}\r\n`, 'latin1') // not a '$'
    case 5: return Buffer.from(`*${r.range(2, 5)}\r\n$4\r\nPING\r\n`, 'latin1') // count larger than sent
    default: return Buffer.from(`*-${r.range(1, 9)}\r\n*1\r\n$4\r\nPING\r\n`, 'latin1') // negative count: no command
  }
}

function nul (r: Rng): Buffer {
  switch (r.int(5)) {
    case 0: return Buffer.from('GET \0\0\0\r\n', 'latin1')
    case 1: return multibulk(['SET', Buffer.from([0x66, 0x7a, 0, 0x31]), Buffer.from([0, 0, 0, 0x0d, 0x0a, 0])])
    case 2: return Buffer.from('\0\0\0\0\r\n', 'latin1')
    case 3: return Buffer.from('*\x002\r\n$3\r\nGET\r\n$1\r\na\r\n', 'latin1')
    default: return Buffer.concat([Buffer.alloc(r.range(1, 64)), CRLF])
  }
}

/** Over the 64 KB inline limit (Redis PROTO_INLINE_MAX_SIZE): an inline line or a count line. */
function overlong (r: Rng): Buffer {
  const n = r.range(64 * 1024 + 1, 160 * 1024)
  const fill = r.int(3)
  const body = fill === 0 ? Buffer.alloc(n, 0x41) : fill === 1 ? Buffer.alloc(n, 0x31) : r.bytes(n)
  if (fill === 2) for (let i = 0; i < n; i++) if (body[i] === 10) body[i] = 0x20 // no line end inside
  if (fill === 1 && r.chance(0.5)) body[0] = 0x2a // "*111...": an overlong multibulk count
  return r.chance(0.5) ? Buffer.concat([body, CRLF]) : body
}

function quotes (r: Rng): Buffer {
  return Buffer.from(r.pick([
    'SET "abc\r\n', "GET 'x\r\n", 'ECHO "a\\"\r\n', 'ECHO "\\x4\r\n', 'SET "a"b c\r\n', "SET 'a'b c\r\n",
    'ECHO "\\xZZ"\r\n', 'ECHO "\\\r\n', '"\r\n', "'\r\n", 'ECHO "unterminated\n', 'PING "" \'\'\r\n',
  ]), 'latin1')
}

function newlines (r: Rng): Buffer {
  return Buffer.from(r.pick(['\n', '\r\n', '\n\n\n', '\r\r\n', ' \r\n', '\t\n', '\r', '\r\n\r\n\r\n', '*\r\n', '$\r\n']), 'latin1')
}

function bigValue (r: Rng): Buffer {
  return multibulk(['SET', `fz:big${r.int(4)}`, Buffer.alloc(r.range(64 * 1024, 512 * 1024), 0x62)])
}

function manyArgs (r: Rng): Buffer {
  const n = r.range(100, 1500)
  if (r.chance(0.5)) return multibulk([r.pick(['DEL', 'MGET', 'EXISTS']), ...keys(r, n, n)])
  return multibulk(['RPUSH', `fz:many${r.int(2)}`, ...Array.from({ length: n }, () => word(r, 1, 8))])
}

/** A valid command cut strictly inside itself (at least one byte sent, at least one missing). */
function half (r: Rng): Buffer {
  const full = multibulk(command(r))
  // Favour cuts inside a bulk so the server waits for its bytes, e.g. `*2\r\n$3\r\nGET\r\n$10\r\nabc`.
  if (r.chance(0.3)) return Buffer.from(`*2\r\n$3\r\nGET\r\n$10\r\n${word(r, 0, 9)}`, 'latin1')
  return full.subarray(0, r.range(1, full.length - 1))
}

export interface Generated { kind: InputKind, bytes: Buffer }

/** One input: valid most of the time, malformed with probability badRate. */
export function generate (r: Rng, badRate: number, allowOverlong: boolean): Generated {
  let kind: InputKind
  if (r.chance(badRate)) {
    kind = r.weighted(BAD_WEIGHTS)
    if (kind === 'overlong' && !allowOverlong) kind = 'garbage'
  } else {
    kind = r.chance(0.12) ? 'inline' : r.chance(0.0005) ? 'bigvalue' : 'valid'
  }
  let bytes: Buffer
  switch (kind) {
    case 'valid': bytes = multibulk(command(r)); break
    case 'inline': bytes = inline(r, command(r)); break
    case 'flip': bytes = flip(r, r.chance(0.2) ? inline(r, command(r)) : multibulk(command(r))); break
    case 'truncate': {
      const full = multibulk(command(r))
      bytes = full.subarray(0, r.int(full.length))
      break
    }
    case 'length': bytes = badLength(r); break
    case 'nul': bytes = nul(r); break
    case 'overlong': bytes = overlong(r); break
    case 'quotes': bytes = quotes(r); break
    case 'newlines': bytes = newlines(r); break
    case 'garbage': bytes = r.bytes(r.range(1, 512)); break
    case 'bigvalue': bytes = bigValue(r); break
    case 'manyargs': bytes = manyArgs(r); break
    default: bytes = half(r)
  }
  if (isHarmful(bytes)) return { kind, bytes: Buffer.from('*1\r\n$4\r\nPING\r\n', 'latin1') }
  return { kind, bytes }
}

// --- sessions ----------------------------------------------------------------------------------

export const END_MODES = ['quit', 'fin', 'half-fin', 'half-reset', 'reset', 'destroy', 'abandon'] as const
/**
 * How a session ends. quit: QUIT, then wait for the server's close. fin: half-close (FIN) and wait.
 * half-fin / half-reset: half a command, then FIN / TCP reset. reset: resetAndDestroy (RST).
 * destroy: close the socket at once. abandon: destroy with a write still in flight.
 */
export type EndMode = typeof END_MODES[number]
export type SplitMode = 'whole' | 'per-input' | 'random' | 'bytes'

export interface SessionPlan {
  inputs: number
  badRate: number
  /** false: the session never reads its replies (until it closes). */
  read: boolean
  split: SplitMode
  end: EndMode
}

const DEFAULT_END_WEIGHTS: Readonly<Record<EndMode, number>> = {
  quit: 12, fin: 25, 'half-fin': 15, 'half-reset': 10, reset: 10, destroy: 18, abandon: 10,
}

function planSession (r: Rng, endWeights: Readonly<Record<EndMode, number>>, maxInputs: number): SessionPlan {
  const size = r.int(100)
  const inputs = Math.min(maxInputs, size < 30 ? r.range(1, 5) : size < 70 ? r.range(6, 60) : size < 95 ? r.range(61, 300) : r.range(301, 1000))
  const b = r.int(100)
  const badRate = b < 35 ? 0 : b < 60 ? 0.01 : b < 85 ? 0.1 : 0.6
  const read = r.chance(0.7)
  const s = r.int(100)
  const split: SplitMode = s < 40 ? 'whole' : s < 65 ? 'per-input' : s < 90 ? 'random' : 'bytes'
  let end = r.weighted(endWeights)
  if (end === 'quit' && !read) end = 'fin' // only a reader sees the close that QUIT asks for
  return { inputs, badRate, read, split, end }
}

// --- reply framing -----------------------------------------------------------------------------

/**
 * Streaming RESP2/RESP3 reply framer: counts top-level replies without keeping them (memory is
 * one header line). A byte that cannot start a reply marks the stream malformed.
 */
class ReplyFramer {
  private readonly stack: number[] = []
  private line: number[] = []
  private lineLen = 0
  private lineLast = -1
  private bulkLeft = -1 // >= 0 while inside a bulk body (CRLF included)
  private bulkEnd: number[] = []
  private topLine = ''
  malformed: string | null = null
  lastTop = ''

  constructor (private readonly onReply: (firstLine: string) => void) {}

  push (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length && this.malformed === null) {
      if (this.bulkLeft >= 0) {
        const take = Math.min(this.bulkLeft, chunk.length - i)
        // Keep the last two bytes of the body: they must be CRLF.
        for (let j = Math.max(i, i + take - 2); j < i + take; j++) this.bulkEnd.push(chunk[j])
        if (this.bulkEnd.length > 2) this.bulkEnd.splice(0, this.bulkEnd.length - 2)
        this.bulkLeft -= take
        i += take
        if (this.bulkLeft === 0) {
          this.bulkLeft = -1
          if (this.bulkEnd[0] !== 13 || this.bulkEnd[1] !== 10) { this.malformed = 'bulk not followed by CRLF'; return }
          this.bulkEnd = []
          this.element()
        }
        continue
      }
      const nl = chunk.indexOf(10, i)
      const end = nl === -1 ? chunk.length : nl
      for (let j = i; j < end && this.line.length < 512; j++) this.line.push(chunk[j])
      if (end > i) this.lineLast = chunk[end - 1]
      this.lineLen += end - i
      if (nl === -1) return
      i = nl + 1
      this.header()
    }
  }

  private header (): void {
    const text = Buffer.from(this.line).toString('latin1').replace(/\r$/, '')
    const ok = this.lineLen >= 2 && this.lineLast === 13
    this.line = []
    this.lineLen = 0
    this.lineLast = -1
    if (!ok) { this.malformed = `reply line without CR or type: ${JSON.stringify(text.slice(0, 80))}`; return }
    if (this.stack.length === 0) this.topLine = text
    const type = text[0]
    const n = Number(text.slice(1))
    switch (type) {
      case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        this.element()
        return
      case '$': case '!': case '=':
        if (!Number.isInteger(n)) { this.malformed = `bad bulk length ${JSON.stringify(text)}`; return }
        if (n < 0) { this.element(); return }
        this.bulkLeft = n + 2
        return
      case '*': case '~': case '>': case '%': case '|': {
        if (!Number.isInteger(n)) { this.malformed = `bad aggregate length ${JSON.stringify(text)}`; return }
        const count = type === '%' ? n * 2 : type === '|' ? n * 2 + 1 : n
        if (count <= 0) { this.element(); return }
        this.stack.push(count)
        return
      }
      default:
        this.malformed = `unexpected reply line ${JSON.stringify(text.slice(0, 80))}`
    }
  }

  /** One element finished: close every aggregate it completes; report a finished top level. */
  private element (): void {
    for (;;) {
      if (this.stack.length === 0) {
        this.lastTop = this.topLine
        this.onReply(this.topLine)
        return
      }
      const top = this.stack.length - 1
      if (--this.stack[top] > 0) return
      this.stack.pop()
    }
  }
}

/** The report's name for a reply, from its first line. */
export function replyKind (first: string): string {
  switch (first[0]) {
    case '+': return first === '+PONG' ? 'pong' : first === '+OK' ? 'ok' : 'simple'
    case ':': return 'integer'
    case '$': return first === '$-1' ? 'null' : 'bulk'
    case '*': return first === '*-1' ? 'null' : 'array'
    case '_': return 'null'
    case '%': return 'map'
    case '-': {
      if (first.startsWith('-ERR Protocol error')) return 'err:protocol'
      if (first.startsWith('-ERR unknown command') || first.startsWith('-ERR unknown subcommand')) return 'err:unknown-command'
      if (first.startsWith('-ERR wrong number of arguments')) return 'err:arity'
      if (first.startsWith('-ERR syntax error')) return 'err:syntax'
      if (first.startsWith('-WRONGTYPE')) return 'err:wrongtype'
      if (first.startsWith('-ERR value is not') || first.includes('not an integer') || first.includes('not a valid float')) return 'err:value'
      if (first.startsWith('-ERR max number of clients')) return 'err:maxclients'
      if (first.startsWith('-ERR no such key')) return 'err:nokey'
      return 'err:other'
    }
    default: return 'resp3:other'
  }
}

// --- the run -----------------------------------------------------------------------------------

export interface FuzzOptions {
  host: string
  port: number
  /** Server process id, for VmRSS from /proc; 0 or absent: INFO's used_memory_rss. */
  pid?: number
  seed: number
  /** Stop starting sessions once this many inputs were sent. */
  inputs: number
  /** Concurrent connections (lanes, each running one session at a time). */
  conns?: number
  /** Hard stop for the fuzzing phase; the checks run after it either way. */
  maxDurationMs?: number
  /** A session gives up (destroys its socket) after this long. */
  sessionTimeoutMs?: number
  /** How long a socket we half-closed waits for the server's close before we destroy it. */
  lingerMs?: number
  /** At most this many such sockets waiting; a lane waits for one to settle beyond it. */
  maxLingering?: number
  /** Cap on inputs per session (the plan draws 1–1000). */
  maxSessionInputs?: number
  /** Override the weights of session endings, e.g. all 'half-fin'. */
  endWeights?: Partial<Record<EndMode, number>>
  /** RSS may end at most this far above its baseline. */
  rssBoundBytes?: number
  /** Deadline for each check's polling (the checks wait for asynchronous closes and frees). */
  checkDeadlineMs?: number
  /** Called every progressEveryMs with the running stats. */
  onProgress?: (stats: FuzzStats, elapsedMs: number) => void
  progressEveryMs?: number
}

export interface FuzzStats {
  inputs: number
  inputsByKind: Record<string, number>
  bytesSent: number
  bytesReceived: number
  sessions: number
  connectionsOpened: number
  connectFailures: number
  sessionsByEnd: Record<string, number>
  sessionsNeverRead: number
  sessionTimeouts: number
  replies: Record<string, number>
  /** Sessions whose replies could not be framed as RESP (a server bug), and the first such. */
  malformedStreams: number
  malformedSample: string | null
  /** The server closed the connection before the session ended it (read sessions only see this). */
  serverCloses: number
  /** ...right after a -ERR Protocol error reply. */
  protocolErrorCloses: number
  /** Sockets we half-closed (FIN) that the server had not closed within lingerMs. */
  serverNeverClosedAfterFin: number
  /** Sessions that sent QUIT and saw no close within lingerMs (QUIT can land inside a mangled command). */
  quitNotClosed: number
  socketErrors: Record<string, number>
  otherErrorSamples: string[]
  peakRssBytes: number
  stoppedByTime: boolean
}

export interface CheckResult { ok: boolean, detail: string }

export interface FuzzReport {
  seed: number
  durationMs: number
  fuzzMs: number
  stats: FuzzStats
  baseline: { connectedClients: number, rssBytes: number }
  rssBoundBytes: number
  checks: { ping: CheckResult, clients: CheckResult, rss: CheckResult }
  ok: boolean
}

const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** A small request/reply client for the checks (never used with fuzz input). */
class Probe {
  private buf = Buffer.alloc(0)
  private closedWhy: string | null = null
  private wake: (() => void) | null = null

  private constructor (private readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => { this.buf = Buffer.concat([this.buf, c]); this.notify() })
    socket.on('error', (e) => { this.closedWhy ??= e.message; this.notify() })
    socket.on('close', () => { this.closedWhy ??= 'closed by server'; this.notify() })
  }

  static async open (host: string, port: number, timeoutMs: number): Promise<Probe> {
    return await new Promise((resolve, reject) => {
      const socket = net.connect({ host, port })
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connect timed out after ${timeoutMs} ms`)) }, timeoutMs)
      socket.once('error', (e) => { clearTimeout(timer); reject(e) })
      socket.once('connect', () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(new Probe(socket)) })
    })
  }

  /** Sends a command and resolves its reply's first line and (for a bulk) its body. */
  async call (args: string[], timeoutMs: number): Promise<string> {
    this.socket.write(multibulk(args))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const nl = this.buf.indexOf('\r\n')
      if (nl !== -1) {
        const first = this.buf.toString('latin1', 0, nl)
        if (first[0] !== '$') { this.buf = this.buf.subarray(nl + 2); return first }
        const n = Number(first.slice(1))
        if (n < 0) { this.buf = this.buf.subarray(nl + 2); return first }
        if (this.buf.length >= nl + 2 + n + 2) {
          const body = this.buf.toString('latin1', nl + 2, nl + 2 + n)
          this.buf = this.buf.subarray(nl + 4 + n)
          return body
        }
      }
      if (this.closedWhy !== null) {
        throw new Error(`${this.closedWhy}; received ${JSON.stringify(this.buf.toString('latin1', 0, 200))}`)
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no reply to ${args.join(' ')} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.wake = () => { clearTimeout(t); resolve() }
      })
    }
  }

  close (): void { this.socket.destroy() }

  private notify (): void {
    const w = this.wake
    this.wake = null
    w?.()
  }
}

function infoField (info: string, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(info)
  return m === null ? NaN : Number(m[1])
}

/** The server's resident set: /proc/<pid>/status VmRSS when we know the pid, else INFO. */
async function serverRss (opts: FuzzOptions, probe: Probe | null): Promise<number> {
  if (opts.pid !== undefined && opts.pid > 0) {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${opts.pid}/status`, 'utf8'))
    if (m === null) throw new Error(`no VmRSS in /proc/${opts.pid}/status`)
    return Number(m[1]) * 1024
  }
  if (probe === null) return NaN
  return infoField(await probe.call(['INFO', 'memory'], 10_000), 'used_memory_rss')
}

const MB = 1024 * 1024
const mb = (n: number): string => `${(n / MB).toFixed(1)} MB`

function emptyStats (): FuzzStats {
  return {
    inputs: 0,
    inputsByKind: {},
    bytesSent: 0,
    bytesReceived: 0,
    sessions: 0,
    connectionsOpened: 0,
    connectFailures: 0,
    sessionsByEnd: {},
    sessionsNeverRead: 0,
    sessionTimeouts: 0,
    replies: {},
    malformedStreams: 0,
    malformedSample: null,
    serverCloses: 0,
    protocolErrorCloses: 0,
    serverNeverClosedAfterFin: 0,
    quitNotClosed: 0,
    socketErrors: {},
    otherErrorSamples: [],
    peakRssBytes: 0,
    stoppedByTime: false,
  }
}

const bump = (rec: Record<string, number>, k: string, n = 1): void => { rec[k] = (rec[k] ?? 0) + n }

/**
 * Runs the fuzz against a server that is already up, then the three checks. Never throws for a
 * failed check: the report says which failed and why (report.ok is false).
 */
export async function runFuzz (opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now()
  const conns = Math.max(1, opts.conns ?? 32)
  const maxDurationMs = opts.maxDurationMs ?? 15 * 60_000
  const sessionTimeoutMs = opts.sessionTimeoutMs ?? 10_000
  const lingerMs = opts.lingerMs ?? 3000
  const maxLingering = opts.maxLingering ?? 2000
  const maxSessionInputs = opts.maxSessionInputs ?? 1000
  const rssBoundBytes = opts.rssBoundBytes ?? 200 * MB
  const checkDeadlineMs = opts.checkDeadlineMs ?? 30_000
  const endWeights = { ...DEFAULT_END_WEIGHTS, ...(opts.endWeights ?? {}) }
  const { host, port } = opts
  const stats = emptyStats()

  // Baseline: clients as seen by one probe (counting itself), RSS of the idle server.
  const probe0 = await Probe.open(host, port, 10_000)
  const baselineClients = infoField(await probe0.call(['INFO', 'clients'], 10_000), 'connected_clients')
  const baselineRss = await serverRss(opts, probe0)
  probe0.close()
  stats.peakRssBytes = baselineRss

  const fuzzStart = Date.now()
  const stopAt = fuzzStart + maxDurationMs
  const lingering = new Set<Promise<void>>()
  let nextSession = 0
  const sampler = setInterval(() => {
    if (opts.pid !== undefined && opts.pid > 0) {
      try { stats.peakRssBytes = Math.max(stats.peakRssBytes, Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${opts.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024) } catch { /* gone: the ping check says so */ }
    }
  }, 250)
  const progress = opts.onProgress === undefined
    ? null
    : setInterval(() => opts.onProgress?.(stats, Date.now() - fuzzStart), opts.progressEveryMs ?? 5000)

  const noteReply = (first: string): void => {
    const kind = replyKind(first)
    bump(stats.replies, kind)
    if (kind === 'err:other' && stats.otherErrorSamples.length < 12) {
      const sample = first.slice(0, 100)
      if (!stats.otherErrorSamples.includes(sample)) stats.otherErrorSamples.push(sample)
    }
  }

  /** After our FIN: wait (in the background) for the server's close, up to lingerMs. */
  const linger = (socket: net.Socket, isClosed: () => boolean, afterQuit: boolean): void => {
    if (isClosed()) return
    const p = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        if (afterQuit) stats.quitNotClosed++
        else stats.serverNeverClosedAfterFin++
        socket.destroy()
      }, lingerMs)
      socket.once('close', () => { clearTimeout(timer); resolve() })
    })
    lingering.add(p)
    void p.then(() => lingering.delete(p))
  }

  async function session (k: number): Promise<void> {
    const r = new Rng(opts.seed, k)
    const plan = planSession(r, endWeights, maxSessionInputs)
    stats.sessions++
    bump(stats.sessionsByEnd, plan.end)
    if (!plan.read) stats.sessionsNeverRead++
    const deadline = Math.min(Date.now() + sessionTimeoutMs, stopAt + sessionTimeoutMs)

    const socket = net.connect({ host, port })
    let closed = false
    let serverEnded = false
    let wake: (() => void) | null = null
    const notify = (): void => { const w = wake; wake = null; w?.() }
    socket.on('error', (e: NodeJS.ErrnoException) => { bump(stats.socketErrors, e.code ?? e.message); notify() })
    socket.on('close', () => { closed = true; notify() })
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), Math.max(1, deadline - Date.now()))
      socket.once('connect', () => { clearTimeout(timer); resolve(true) })
      socket.once('close', () => { clearTimeout(timer); resolve(false) })
    })
    if (!connected) { stats.connectFailures++; return }
    stats.connectionsOpened++
    socket.setNoDelay(true)

    const framer = new ReplyFramer(noteReply)
    let counting = false
    const onData = (c: Buffer): void => {
      stats.bytesReceived += c.length
      if (counting) framer.push(c)
    }
    const startReading = (count: boolean): void => {
      counting = count
      if (socket.listenerCount('data') === 0) socket.on('data', onData)
      socket.resume()
    }
    socket.on('end', () => {
      serverEnded = true
      if (counting && framer.malformed === null) {
        stats.serverCloses++
        if (framer.lastTop.startsWith('-ERR Protocol error')) stats.protocolErrorCloses++
      }
      notify()
    })
    if (plan.read) startReading(true)
    else socket.pause()

    const live = (): boolean => !closed && !serverEnded && Date.now() < deadline
    /** Writes and waits until the kernel has it (or the socket dies or the deadline passes). */
    const write = async (bytes: Buffer): Promise<void> => {
      if (!live() || bytes.length === 0) return
      stats.bytesSent += bytes.length
      let done = false
      socket.write(bytes, () => { done = true; notify() })
      while (!done && live()) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(1, deadline - Date.now()))
          wake = () => { clearTimeout(t); resolve() }
        })
      }
    }
    const pause = async (): Promise<void> => {
      const x = r.int(10)
      if (x < 3) await new Promise(resolve => setImmediate(resolve))
      else if (x < 4) await sleep(r.range(1, 3))
    }

    let pending: Buffer[] = []
    let pendingLen = 0
    let overlongLeft = 1
    const flush = async (): Promise<void> => {
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending)
      pending = []
      pendingLen = 0
      if (plan.split === 'random' && all.length > 1) {
        // 1–4 cuts at random offsets: any split of the stream must parse the same.
        const cuts = Array.from({ length: r.range(1, 4) }, () => r.range(1, all.length - 1)).sort((a, b) => a - b)
        let from = 0
        for (const c of [...cuts, all.length]) {
          if (c > from) { await write(all.subarray(from, c)); await pause() }
          from = Math.max(from, c)
        }
      } else if (plan.split === 'bytes' && all.length > 1) {
        const n = Math.min(all.length - 1, r.range(1, 40))
        for (let i = 0; i < n; i++) await write(all.subarray(i, i + 1))
        await write(all.subarray(n))
      } else {
        await write(all)
      }
      await pause()
    }

    for (let i = 0; i < plan.inputs && live() && stats.inputs < opts.inputs && Date.now() < stopAt; i++) {
      const g = generate(r, plan.badRate, overlongLeft > 0)
      if (g.kind === 'overlong') overlongLeft--
      stats.inputs++
      bump(stats.inputsByKind, g.kind)
      pending.push(g.bytes)
      pendingLen += g.bytes.length
      if (plan.split !== 'whole' || pendingLen >= 16 * 1024) await flush()
    }
    if (pendingLen > 0) await flush()

    if (Date.now() >= deadline && !closed && !serverEnded) stats.sessionTimeouts++
    if (plan.end === 'half-fin' || plan.end === 'half-reset') {
      const h = half(r)
      stats.inputs++
      bump(stats.inputsByKind, 'half')
      if (!isHarmful(h)) await write(h)
    }
    if (plan.end === 'quit' && live()) await write(multibulk(['QUIT']))

    if (framer.malformed !== null) {
      stats.malformedStreams++
      stats.malformedSample ??= `session ${k}: ${framer.malformed}`
    }
    if (closed) return
    switch (plan.end) {
      case 'quit': case 'fin': case 'half-fin':
        if (!plan.read) startReading(false) // read (and drop) from now on, or the server's FIN is never seen
        if (plan.end !== 'quit') socket.end()
        linger(socket, () => closed, plan.end === 'quit')
        break
      case 'half-reset': case 'reset':
        socket.resetAndDestroy()
        break
      case 'destroy':
        socket.destroy()
        break
      case 'abandon':
        socket.write(multibulk(command(r)))
        socket.destroy()
        break
    }
    while (lingering.size >= maxLingering) await Promise.race(lingering)
  }

  const lanes = Array.from({ length: conns }, async () => {
    while (stats.inputs < opts.inputs) {
      if (Date.now() >= stopAt) { stats.stoppedByTime = true; return }
      await session(nextSession++)
    }
  })
  await Promise.all(lanes)
  await Promise.all([...lingering])
  clearInterval(sampler)
  if (progress !== null) clearInterval(progress)
  const fuzzMs = Date.now() - fuzzStart

  const checks = {
    ping: await checkPing(host, port, checkDeadlineMs),
    clients: { ok: false, detail: '' },
    rss: { ok: false, detail: '' },
  }
  await checkClientsAndRss(opts, baselineClients, baselineRss, rssBoundBytes, checkDeadlineMs, checks)
  return {
    seed: opts.seed,
    durationMs: Date.now() - started,
    fuzzMs,
    stats,
    baseline: { connectedClients: baselineClients, rssBytes: baselineRss },
    rssBoundBytes,
    checks,
    ok: checks.ping.ok && checks.clients.ok && checks.rss.ok,
  }
}

/** Check 1: a fresh connection answers PING with +PONG. */
async function checkPing (host: string, port: number, deadlineMs: number): Promise<CheckResult> {
  let probe: Probe | null = null
  try {
    probe = await Probe.open(host, port, deadlineMs)
    const reply = await probe.call(['PING'], deadlineMs)
    return reply === '+PONG'
      ? { ok: true, detail: '+PONG on a fresh connection' }
      : { ok: false, detail: `fresh connection: PING answered ${JSON.stringify(reply)}` }
  } catch (err) {
    return { ok: false, detail: `fresh connection: ${(err as Error).message}` }
  } finally {
    probe?.close()
  }
}

/**
 * Check 2: connected_clients (seen from a new probe, which counts itself as the baseline's probe
 * did) comes back to the baseline; polled, because the server learns of closes asynchronously.
 * Check 3: after FLUSHALL, the server's RSS comes back to at most baseline + bound; polled,
 * because freed memory goes back to the OS lazily.
 */
async function checkClientsAndRss (
  opts: FuzzOptions, baselineClients: number, baselineRss: number, boundBytes: number, deadlineMs: number,
  checks: { clients: CheckResult, rss: CheckResult },
): Promise<void> {
  let probe: Probe
  try {
    probe = await Probe.open(opts.host, opts.port, deadlineMs)
  } catch (err) {
    checks.clients = { ok: false, detail: `no probe connection: ${(err as Error).message}` }
    checks.rss = { ok: false, detail: 'not measured (no probe connection)' }
    return
  }
  try {
    const t0 = Date.now()
    let last = NaN
    for (;;) {
      try {
        const info = await probe.call(['INFO', 'clients'], deadlineMs)
        if (info.startsWith('-')) throw new Error(`INFO answered ${info}`)
        last = infoField(info, 'connected_clients')
      } catch (err) {
        checks.clients = { ok: false, detail: `INFO clients failed: ${(err as Error).message}` }
        break
      }
      // At most the baseline: a connection that was still closing when the baseline was read
      // (the start-up probe's, say) may be gone by now.
      if (last <= baselineClients) {
        checks.clients = { ok: true, detail: `connected_clients ${last} ≤ baseline ${baselineClients} after ${((Date.now() - t0) / 1000).toFixed(1)} s` }
        break
      }
      if (Date.now() - t0 > deadlineMs) {
        checks.clients = { ok: false, detail: `connected_clients still ${last} (baseline ${baselineClients}) ${deadlineMs / 1000} s after the fuzz connections closed` }
        break
      }
      await sleep(200)
    }

    const t1 = Date.now()
    let rss = NaN
    try {
      await probe.call(['FLUSHALL'], deadlineMs) // what the fuzz stored is data, not a leak
      for (;;) {
        rss = await serverRss(opts, probe)
        if (rss <= baselineRss + boundBytes) {
          checks.rss = { ok: true, detail: `RSS ${mb(rss)} ≤ baseline ${mb(baselineRss)} + ${mb(boundBytes)}` }
          break
        }
        if (Date.now() - t1 > deadlineMs) {
          checks.rss = { ok: false, detail: `RSS ${mb(rss)} > baseline ${mb(baselineRss)} + ${mb(boundBytes)} after ${deadlineMs / 1000} s` }
          break
        }
        await sleep(500)
      }
    } catch (err) {
      checks.rss = { ok: false, detail: `RSS not measured: ${(err as Error).message}` }
    }
  } finally {
    probe.close()
  }
}

/** The report as text lines (the CLI prints it; the test puts it in failure messages). */
export function formatReport (rep: FuzzReport): string {
  const s = rep.stats
  const sorted = (rec: Record<string, number>): string =>
    Object.entries(rec).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')
  const lines = [
    `seed ${rep.seed}`,
    `inputs sent ${s.inputs.toLocaleString('en')} (${sorted(s.inputsByKind)})`,
    `bytes sent ${mb(s.bytesSent)}, received ${mb(s.bytesReceived)}`,
    `sessions ${s.sessions.toLocaleString('en')}, connections opened ${s.connectionsOpened.toLocaleString('en')}, connect failures ${s.connectFailures}` +
      `, never read ${s.sessionsNeverRead}, timed out ${s.sessionTimeouts}`,
    `session endings: ${sorted(s.sessionsByEnd)}`,
    `replies seen (reading sessions): ${sorted(s.replies)}`,
    `server closes seen ${s.serverCloses.toLocaleString('en')} (after a protocol error ${s.protocolErrorCloses.toLocaleString('en')})` +
      `; our FIN not answered by a close within the linger time ${s.serverNeverClosedAfterFin.toLocaleString('en')}` +
      `, QUIT not answered ${s.quitNotClosed.toLocaleString('en')}`,
    `socket errors: ${sorted(s.socketErrors) || 'none'}`,
    `malformed reply streams ${s.malformedStreams}${s.malformedSample === null ? '' : ` (first: ${s.malformedSample})`}`,
    ...(s.otherErrorSamples.length > 0 ? [`other errors seen: ${s.otherErrorSamples.join(' | ')}`] : []),
    `duration ${(rep.durationMs / 1000).toFixed(1)} s (fuzzing ${(rep.fuzzMs / 1000).toFixed(1)} s${s.stoppedByTime ? ', stopped by the time limit' : ''})` +
      `, peak RSS ${mb(s.peakRssBytes)}`,
    `check ping:    ${rep.checks.ping.ok ? 'PASS' : 'FAIL'}  ${rep.checks.ping.detail}`,
    `check clients: ${rep.checks.clients.ok ? 'PASS' : 'FAIL'}  ${rep.checks.clients.detail}`,
    `check rss:     ${rep.checks.rss.ok ? 'PASS' : 'FAIL'}  ${rep.checks.rss.detail}`,
  ]
  return lines.join('\n')
}
