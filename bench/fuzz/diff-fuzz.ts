// `npm run fuzz:diff`: random commands of every data type, with edge-case arguments (signed
// zeros, huge and tiny numbers, strtod's forms, crossed ranges, bad units and flags), sent one at
// a time to a real redis-server and to FlashKV; every reply must be byte for byte the same.
// Unlike the differential suites' fast-check properties, which draw well-formed sequences per
// type, this one mixes types on few keys, so WRONGTYPE paths, conversions and errors meet.
//
//   npm run fuzz:diff -- [--commands N] [--seeds 1,2,3] [--shards N] [--families zset,hash] [--resp3]
//                        [--wrap multi|eval] [--probe] [--trace] [--notify] [--aof always|everysec|no]
//
// --wrap multi sends 1-4 commands in MULTI/EXEC, --wrap eval each through EVAL (redis.call or
// redis.pcall over ARGV): transactions and Lua's reply conversions meet the same arguments.
//
// The pubsub, tracking and reply families also use side connections of each server ('@s1',
// '@s2', '@t', '@r'; a command so marked goes there, '|' separates several sent in one write):
// after every command each side connection gets a PING naming the command's index, and all it
// received up to that PING's reply (replies, messages, invalidations) must be the same, with
// what Redis orders by a seeded dict, and invalidations of several shards, compared as sets
// (resp-conn.ts canonSide).
//
// What two servers may rightly answer differently is compared loosely, each for its reason:
// - random picks (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER): the reply's first line only;
// - ACL's replies: sorted words (CAT lists a category from a dict, and LIST and GETUSER write a
//   user's commands in the order of Redis's command table, a dict hashed with a random seed);
// - members of a hashtable-encoded set (SMEMBERS, SINTER...): Redis's dict order is seeded per
//   process, so the lines are compared sorted; so are HGETALL/HKEYS/HVALS, KEYS and SORT (whose elements
//   may come from such a set);
// - DUMP of a hashtable-encoded set or hash (dict order), or of a stream with consumer groups
//   (delivery and seen times in ms): the length and the RDB type only; of a list or an intset,
//   the type only (node boundaries and intset widths follow history);
// - RANDOMKEY: whether there was a key; HELLO: all but the connection's id; a loose EXEC (a MULTI
//   that queued any of these): each reply as its command's;
// - TTL, PTTL, EXPIRETIME, PEXPIRETIME: within 2 (an expiry set relative to each server's clock);
// - SCAN and the type scans: sorted, as above; only cursor 0 is sent (COUNT 1000 answers it in
//   one call), since another cursor names a place in Redis's dict, which hashes with a random seed;
// - idle times of XPENDING, XINFO, XCLAIM and XAUTOCLAIM: integers are masked (the clocks differ);
// - SORT once any argument made strtod set ERANGE (1e400, 1e-310: a ZADD score, an increment):
//   Redis's sort.c never clears errno, so it then refuses every numeric SORT until another call
//   sets errno. Not reproduced: such a mismatch is printed with that reason and not counted.
// - a lex range (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX...) over members of different scores:
//   Redis documents the result as unspecified (its skiplist's descent depends on random node
//   levels). Such a mismatch is printed and not counted, and the key is deleted on both servers
//   so that the runs go on alike.
// A mismatch prints the seed, the command's index and both replies; the run exits 1.
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Rng } from './protocol-fuzz.js'
import { start, stop, flashkvSpec, redisSpec } from '../servers.js'
import { Conn, Subscriber, canonSide, openSides, monitorLines } from './resp-conn.js'

type Gen = (r: Rng) => string[]

const KEYS = ['k1', 'k2', 'k3', '{k}1', 's1', 'z1', 'h1', 'l1', 'x1']
const MEMBERS = ['a', 'b', 'c', 'd', '1', '2', '10', '-1', '', 'aa', 'zz', '0', '3.5']
const NUMBERS = ['0', '1', '-1', '2', '3', '10', '-10', '100', '1.5', '-2.5', 'inf', '-inf', '+inf', 'nan', 'abc', '', '9223372036854775807',
  '-9223372036854775808', '9223372036854775808', '1e3', '0x10', ' 1', '01', '-0', '(1', '(-inf', '+', '-', '[a', '(b', '5.0', '1e400', '1e-310']
const INDEXES = ['0', '1', '-1', '2', '-2', '5', '-5', '100', '-100', 'x', '1.0']
const LEX_MIN = ['-', '+', '[a', '(b', 'a', '[']
const LEX_MAX = ['-', '+', '[c', '(z', 'x']
const IDS = ['1-1', '2-0', '0-1', '5', '3-*', '1-2', '0-0', '18446744073709551615-18446744073709551615', 'x', '10-5']

const k = (r: Rng): string => r.pick(KEYS)
const m = (r: Rng): string => r.pick(MEMBERS)
const num = (r: Rng): string => r.pick(NUMBERS)
const idx = (r: Rng): string => r.pick(INDEXES)
const opt = (r: Rng, p: number, args: () => string[]): string[] => r.chance(p) ? args() : []

// Lua: what a script computes and how its result converts (numbers, strings, tables, errors,
// the libraries Redis loads), on a key and an argument of the other families.
const LUA_VALUES = [
  '3.99', '-3.5', '2^31', '2^53', '0.5', '-0', '1e15', "'x'", "''", 'true', 'false', 'nil', '{1, 2, {3, 4}}', "{1, 'a', nil, 4}", '{}',
  "{err = 'E1 boom'}", "{ok = 'fine'}", "{err = ''}", "redis.error_reply('MY err')", "redis.status_reply('S')", "{double = 1.5}", "{1, {err = 'in'}, 2}",
  'tostring(0.1)', 'tostring(1/3)', 'tostring(1e100)', 'tostring(-0)', 'tostring(0/0)', 'tostring(-(0/0))', 'tostring(1/0)', 'tostring(2^63)', 'tostring(123456789012345)',
  "string.format('%d', 3.7)", "string.format('%5.2f|%-6s|%x', 2.345, 'ab', 255)", "string.format('%q', 'a\\n\\0b\"')", "string.format('%g %e', 1e20, 0.1)", "string.format('%d', 2^40)",
  "string.format('%c%c', 72, 105)", "string.format('%o %X %i', 8, 3054, -7)", "string.format('%10.3s|', 'abcdef')", "string.format('%d')", "string.format('%y', 1)",
  "string.rep('ab', 3)", "string.sub('hello', -3, -2)", "string.byte('A')", "string.char(104, 105)", "string.upper('aBc')", "string.find('hello', 'l+')",
  "string.gsub('hello world', 'o', '0')", "string.match('key:123', '%d+')", "tonumber('0x10')", "tonumber('  5  ')", "tonumber('1e')", "tonumber('101', 2)", "tonumber('z', 36)",
  'math.floor(-2.5)', 'math.fmod(7, 3)', 'math.max(1, 9, 3)', "select('#', 1, nil, 3)", "table.concat({1, 2, 'x'}, ',')", '#{1, 2, 3, nil, 5}', 'table.getn({1, 2})',
  'cjson.encode({1, 2, 3})', "cjson.encode({a = 1})", 'cjson.encode(0.1)', 'cjson.encode(1/3)', 'cjson.encode(1e300)', "cjson.encode({1, nil, 3})", "cjson.encode('\\1\"/')",
  "cjson.decode('[1,2,{\"a\":3}]')", "cjson.decode('[1,\"x\",true]')", "cjson.decode('{\"a\":[1,2]}').a", "cjson.decode('1e2')", "cjson.decode('[1,')",
  "cmsgpack.pack({1, 2, 'a'})", "cmsgpack.pack(1.5, -1, 2^40, 'x')", "cmsgpack.unpack(cmsgpack.pack({1, {2, 'b'}}))", "cmsgpack.pack({a = 1})",
  'bit.band(0xff, 0x0f)', 'bit.tohex(255)', 'bit.lshift(1, 31)', 'bit.tobit(2^32 + 5)', 'bit.bnot(0)', 'bit.bxor(5, 3)', 'bit.arshift(-256, 4)',
  "struct.pack('>I4', 1)", "struct.unpack('<h', 'ab')", "struct.pack('b', 200)", "struct.size('>iI')",
  "redis.sha1hex('abc')", "redis.sha1hex('')", 'type(redis.call(\'GET\', KEYS[1]))', "redis.pcall('INCR', KEYS[1])", "redis.pcall('HGETALL', KEYS[1])",
  "redis.pcall('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')", "redis.pcall('TYPE', KEYS[1])", "redis.pcall('GET', KEYS[1])", "redis.pcall('SMEMBERS', KEYS[1])",
  "redis.pcall('INCRBYFLOAT', KEYS[1], ARGV[1])", "redis.pcall('XRANGE', KEYS[1], '-', '+')", "redis.pcall('ZSCORE', KEYS[1], ARGV[1])", "redis.pcall('SET', KEYS[1], ARGV[1])",
  "redis.pcall('NOSUCH')", "redis.pcall('GET')", "redis.pcall('EVAL', 'return 1', 0)", "redis.pcall('LPUSH', KEYS[1], ARGV[1])", "redis.pcall('HINCRBYFLOAT', KEYS[1], 'f', ARGV[1])",
  "pcall(error, 'x')", "pcall(error, {err = 'tbl'})", "pcall(redis.call, 'INCR', KEYS[1])", "tonumber(ARGV[1])", "#ARGV", "KEYS[1]", "ARGV[1] .. '!'", "ARGV[1] + 1",
  'type(cjson.null)', "unpack({1, 2, 3})", "loadstring", "getmetatable('').__index == string", "string.len(ARGV[1])", "math.huge", "-math.huge", "0/0",
]
const LUA_STATEMENTS = [
  "error('boom')", "error({err = 'ERR tbl'})", "error()", 'x = 1', 'return x', "redis.call('NOSUCH')", "redis.call('GET')", "redis.call('INCR', KEYS[1])",
  "redis.call('HSET', KEYS[1], 'f', ARGV[1])", "local t = redis.call('HGETALL', KEYS[1]); return #t", "redis.setresp(3)", "redis.setresp(2)", "redis.setresp(4)",
  "redis.log(redis.LOG_WARNING, 'x')", "redis.set_repl(redis.REPL_ALL)", "redis.call('SELECT', 1)", "local a = nil; return a.b", "return 1 + {}", "return #nil", "return ('x'):rep(3)",
  "string.rep('x', -1)", "redis.breakpoint()", "redis.debug('x')", "local t = {}; t[1.5] = 1; return t", "return redis.call('TIME')[3]", "bit.band()", 'struct.pack()', "cjson.decode('')",
]
const luaScript = (r: Rng): string => {
  const parts: string[] = []
  if (r.chance(0.2)) parts.push(r.pick(['redis.setresp(3)', 'redis.setresp(2)']))
  if (r.chance(0.3)) parts.push(r.pick(LUA_STATEMENTS))
  parts.push(r.chance(0.2) ? `return {${r.pick(LUA_VALUES)}, ${r.pick(LUA_VALUES)}}` : `return ${r.pick(LUA_VALUES)}`)
  return parts.join('; ')
}

const ACL_RULES = ['on', 'off', '>pw', '<pw', '#' + 'a'.repeat(64), 'nopass', 'resetpass', '~k*', '%R~r*', '%W~w*', '%RW~x', 'allkeys', 'resetkeys', '&ch*', 'allchannels',
  'resetchannels', '+@all', '-@all', '+get', '-get', '+@string', '-@dangerous', '+config|get', '-config|set', '+select|0', 'allcommands', 'nocommands', 'reset',
  '(~a* +get)', '(+set ~b*)', 'clearselectors', 'x', '+nosuch', '~', '%X~k', '>', '-@nosuch', '+@hash -hset']
const COMMAND_SAMPLES = [['GET', 'k1'], ['SET', 'k1', 'v'], ['MSET', 'a', '1', 'b', '2'], ['EVAL', 'return 1', '2', 'a', 'b'], ['ZUNIONSTORE', 'd', '2', 'a', 'b'],
  ['XREAD', 'STREAMS', 'a', 'b', '0', '0'], ['SORT', 'k', 'BY', 'w*', 'STORE', 'd'], ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
  ['GET'], ['NOSUCH', 'x'], ['PING'], ['CONFIG', 'GET', 'x'], ['OBJECT', 'ENCODING', 'k'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'a', '>'], ['BLMPOP', '0', '2', 'a', 'b', 'LEFT'],
  ['GEORADIUS', 'k', '0', '0', '1', 'km', 'STORE', 'd'], ['SUBSCRIBE', 'c'], ['PUBLISH', 'c', 'm'], ['DEL', 'a', 'b', 'c'], ['FCALL', 'f', '1', 'k'], ['ZADD', 'z', '1', 'm'], ['SINTERCARD', '2', 'a', 'b']]
const CONFIG_PARAMS = ['maxmemory', 'maxmemory-policy', 'hz', 'notify-keyspace-events', 'lazyfree-lazy-user-del', 'timeout', 'slowlog-log-slower-than', 'slowlog-max-len',
  'lua-time-limit', 'active-expire-effort', 'activerehashing', 'maxmemory-samples', 'save', 'appendfsync', 'nosuch', 'databases', 'tracking-table-max-keys']

const GEO_LON = ['0', '13.361389', '15.087269', '-180', '180', '181', '-73.9857', '179.9999', '1e-5', 'x', '-0']
const GEO_LAT = ['0', '38.115556', '37.502669', '85.05112878', '85.05112879', '-85.05112878', '40.7484', '-33.8688', '89', 'x']
const GEO_DIST = ['0', '1', '100', '200', '5000', '20000', '-1', '0.5', '1e9', 'x']
const GEO_UNITS = ['m', 'km', 'mi', 'ft', 'KM', 'x']

const CHANNELS = ['c1', 'c2', 'news.a', 'news.b', '{k}1', '', 'C1']
const PATTERNS = ['c*', 'news.*', '*', 'c[12]', '?1', 'c\\*', '[', 'news.[ab]', 'C*']
const sub = (r: Rng): string => r.pick(['@s1', '@s2'])
const some = (r: Rng, of: string[]): string[] => Array.from({ length: 1 + r.int(3) }, () => r.pick(of))

const REPLY_CMDS: Gen[] = [
  r => ['SET', k(r), m(r)], r => ['GET', k(r)], r => ['INCR', k(r)], r => ['RPUSH', k(r), m(r)], r => ['CLIENT', 'REPLY', r.pick(['OFF', 'SKIP', 'ON'])], () => ['PING'],
  () => ['NOSUCH'], () => ['GET'], () => ['MULTI'], () => ['EXEC'], r => ['EVAL', "return redis.call('INCR', KEYS[1])", '1', k(r)], () => ['CLIENT', 'REPLY'],
  r => ['DEL', k(r)], () => ['ECHO', 'e'], r => ['LPOP', k(r), '2'], () => ['BLPOP', 'l1', '0.01'], () => ['SELECT', '1'], () => ['SELECT', '0'],
]
// The same without CLIENT REPLY and MULTI: one on its own leaves the connection answering its PING.
const REPLY_ALONE = REPLY_CMDS.filter(g => !['CLIENT', 'MULTI'].includes(g(new Rng(1))[0]))

const FAMILIES: Record<string, Gen[]> = {
  hash: [
    r => ['HSET', k(r), m(r), m(r), ...opt(r, 0.5, () => [m(r), m(r)])], r => ['HGET', k(r), m(r)], r => ['HDEL', k(r), m(r), m(r)],
    r => ['HINCRBY', k(r), m(r), num(r)], r => ['HINCRBYFLOAT', k(r), m(r), num(r)], r => ['HLEN', k(r)], r => ['HSTRLEN', k(r), m(r)],
    r => ['HEXISTS', k(r), m(r)], r => ['HMGET', k(r), m(r), m(r)], r => ['HSETNX', k(r), m(r), m(r)], r => ['HGETALL', k(r)], r => ['HKEYS', k(r)],
    r => ['HVALS', k(r)], r => ['HMSET', k(r), m(r), m(r)], r => ['HRANDFIELD', k(r), idx(r)],
  ],
  set: [
    r => ['SADD', k(r), m(r), m(r)], r => ['SREM', k(r), m(r)], r => ['SCARD', k(r)], r => ['SISMEMBER', k(r), m(r)], r => ['SMISMEMBER', k(r), m(r), m(r)],
    r => ['SMEMBERS', k(r)], r => ['SINTER', k(r), k(r)], r => ['SUNION', k(r), k(r)], r => ['SDIFF', k(r), k(r)],
    r => ['SINTERCARD', r.pick(['1', '2', '0', '-1', 'x']), k(r), k(r), ...opt(r, 0.5, () => ['LIMIT', idx(r)])], r => ['SMOVE', k(r), k(r), m(r)],
    r => ['SINTERSTORE', k(r), k(r), k(r)], r => ['SUNIONSTORE', k(r), k(r)], r => ['SDIFFSTORE', k(r), k(r), k(r)],
    r => ['SPOP', k(r), r.pick(['0', '-1', 'x', '0.5'])], r => ['SRANDMEMBER', k(r), r.pick(['0', '-1x', 'x'])],
  ],
  zset: [
    r => ['ZADD', k(r), ...opt(r, 0.4, () => [r.pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'])]), ...opt(r, 0.2, () => [r.pick(['NX', 'XX', 'GT', 'LT', 'CH'])]), num(r), m(r), ...opt(r, 0.4, () => [num(r), m(r)])],
    r => ['ZINCRBY', k(r), num(r), m(r)], r => ['ZSCORE', k(r), m(r)], r => ['ZMSCORE', k(r), m(r), m(r)], r => ['ZRANK', k(r), m(r)], r => ['ZREVRANK', k(r), m(r)],
    r => ['ZCARD', k(r)], r => ['ZCOUNT', k(r), num(r), num(r)], r => ['ZLEXCOUNT', k(r), r.pick(LEX_MIN), r.pick(LEX_MAX)],
    r => ['ZRANGE', k(r), idx(r), idx(r), ...opt(r, 0.3, () => ['WITHSCORES']), ...opt(r, 0.2, () => ['REV'])],
    r => ['ZRANGE', k(r), num(r), num(r), 'BYSCORE', ...opt(r, 0.5, () => ['LIMIT', idx(r), idx(r)]), ...opt(r, 0.3, () => ['WITHSCORES'])],
    r => ['ZRANGE', k(r), r.pick(LEX_MIN), r.pick(LEX_MAX), 'BYLEX', ...opt(r, 0.3, () => ['REV']), ...opt(r, 0.5, () => ['LIMIT', idx(r), idx(r)])],
    r => ['ZRANGEBYSCORE', k(r), num(r), num(r), ...opt(r, 0.3, () => ['WITHSCORES']), ...opt(r, 0.3, () => ['LIMIT', idx(r), idx(r)])],
    r => ['ZREVRANGEBYSCORE', k(r), num(r), num(r)], r => ['ZREMRANGEBYSCORE', k(r), num(r), num(r)], r => ['ZREMRANGEBYRANK', k(r), idx(r), idx(r)],
    r => ['ZREMRANGEBYLEX', k(r), r.pick(['-', '[a', '(b']), r.pick(['+', '[c'])], r => ['ZPOPMIN', k(r), ...opt(r, 0.5, () => [idx(r)])],
    r => ['ZPOPMAX', k(r), ...opt(r, 0.5, () => [idx(r)])], r => ['ZREM', k(r), m(r), m(r)],
    r => ['ZUNIONSTORE', k(r), r.pick(['1', '2', '0', '3']), k(r), k(r), ...opt(r, 0.3, () => ['WEIGHTS', num(r), num(r)]), ...opt(r, 0.3, () => ['AGGREGATE', r.pick(['SUM', 'MIN', 'MAX', 'X'])])],
    r => ['ZINTER', r.pick(['1', '2']), k(r), k(r), ...opt(r, 0.5, () => ['WITHSCORES'])], r => ['ZDIFF', r.pick(['1', '2']), k(r), k(r), 'WITHSCORES'],
    r => ['ZRANGESTORE', k(r), k(r), idx(r), idx(r)], r => ['ZMPOP', r.pick(['1', '2']), k(r), k(r), r.pick(['MIN', 'MAX']), ...opt(r, 0.5, () => ['COUNT', idx(r)])],
    r => ['ZINTERCARD', r.pick(['1', '2']), k(r), k(r)], r => ['ZRANDMEMBER', k(r), r.pick(['0', '1', 'x', '-0'])],
    r => ['ZRANGEBYLEX', k(r), r.pick(LEX_MIN), r.pick(LEX_MAX), ...opt(r, 0.5, () => ['LIMIT', idx(r), idx(r)])], r => ['ZREVRANGEBYLEX', k(r), r.pick(LEX_MAX), r.pick(LEX_MIN)],
    r => ['ZINTERSTORE', k(r), r.pick(['1', '2']), k(r), k(r), ...opt(r, 0.4, () => ['WEIGHTS', num(r), num(r)]), ...opt(r, 0.3, () => ['AGGREGATE', r.pick(['SUM', 'MIN', 'MAX'])])],
    r => ['ZDIFFSTORE', k(r), r.pick(['1', '2']), k(r), k(r)], r => ['ZREVRANGE', k(r), idx(r), idx(r), ...opt(r, 0.4, () => ['WITHSCORES'])],
    r => ['ZUNION', r.pick(['1', '2']), k(r), k(r), ...opt(r, 0.4, () => ['WEIGHTS', num(r), num(r)]), ...opt(r, 0.3, () => ['AGGREGATE', r.pick(['SUM', 'MIN', 'MAX'])]), ...opt(r, 0.5, () => ['WITHSCORES'])],
  ],
  string: [
    r => ['SET', k(r), m(r), ...opt(r, 0.3, () => [r.pick(['NX', 'XX', 'GET', 'KEEPTTL'])])], r => ['APPEND', k(r), m(r)], r => ['INCRBYFLOAT', k(r), num(r)],
    r => ['INCRBY', k(r), num(r)], r => ['GETRANGE', k(r), idx(r), idx(r)], r => ['SETRANGE', k(r), r.pick(['0', '1', '5', '-1', 'x']), m(r)],
    r => ['STRLEN', k(r)], r => ['GETDEL', k(r)], r => ['LCS', k(r), k(r), ...opt(r, 0.5, () => [r.pick(['LEN', 'IDX'])])],
    r => ['SETBIT', k(r), r.pick(['0', '7', '100', '-1', 'x']), r.pick(['0', '1', '2'])],
    r => ['BITCOUNT', k(r), ...opt(r, 0.5, () => [idx(r), idx(r), ...opt(r, 0.5, () => [r.pick(['BIT', 'BYTE', 'X'])])])],
    r => ['BITPOS', k(r), r.pick(['0', '1', '2']), ...opt(r, 0.5, () => [idx(r), ...opt(r, 0.5, () => [idx(r)])])],
    r => ['BITOP', r.pick(['AND', 'OR', 'XOR', 'NOT']), k(r), k(r), ...opt(r, 0.5, () => [k(r)])],
    r => ['BITFIELD', k(r), r.pick(['GET', 'SET', 'INCRBY']), r.pick(['u8', 'i5', 'u63', 'i64', 'u64', 'x8']), r.pick(['0', '#1', '100', '-1']), ...opt(r, 0.7, () => [num(r)])],
    r => ['BITFIELD', k(r), 'OVERFLOW', r.pick(['WRAP', 'SAT', 'FAIL', 'X']), 'INCRBY', 'i8', '0', num(r)],
    r => ['INCR', k(r)], r => ['DECRBY', k(r), num(r)], r => ['MSETNX', k(r), m(r), k(r), m(r)], r => ['GETSET', k(r), m(r)], r => ['SETNX', k(r), m(r)],
    r => ['SUBSTR', k(r), idx(r), idx(r)], r => ['MGET', k(r), k(r)], r => [r.pick(['SETEX', 'PSETEX']), k(r), r.pick(['0', '-1', '100000', 'x']), m(r)],
  ],
  number: [
    r => ['INCRBYFLOAT', k(r), r.pick(['1.5e300', '-1e-300', '3.0000000000000001', '0.1', '1e17', '123456789012345678', '-0', '5e-324', '1.7976931348623157e308', '1e-7', '10.50', '1e16'])],
    r => ['HINCRBYFLOAT', k(r), m(r), r.pick(['1.5e300', '-1e-300', '0.1', '1e17', '123456789012345678', '-0', '1e-7', '10.50', '1e16', '1e308'])],
    r => ['SET', k(r), r.pick(['1', '-1', '9223372036854775807', '-9223372036854775808', '1.5', '1e3', ' 2', '0x1', '007', '-0', '+1', ''])],
    r => ['INCRBY', k(r), r.pick(['9223372036854775807', '-9223372036854775808', '1', '-1'])], r => ['DECR', k(r)],
    r => ['HINCRBY', k(r), m(r), r.pick(['9223372036854775807', '-9223372036854775808', '1', '-1', '1.5'])], r => ['GET', k(r)], r => ['HGET', k(r), m(r)],
    r => ['SETRANGE', k(r), r.pick(['0', '3', '100', '536870912', '-1']), r.pick(['', 'x', 'ab'])],
    r => ['GETRANGE', k(r), r.pick(['0', '-1', '9223372036854775807', '-9223372036854775808']), r.pick(['0', '-1', '9223372036854775807', '-9223372036854775808'])],
  ],
  list: [
    r => ['LPUSH', k(r), m(r), m(r)], r => ['RPUSH', k(r), m(r)], r => ['LPOS', k(r), m(r), ...opt(r, 0.5, () => [r.pick(['RANK', 'COUNT', 'MAXLEN']), idx(r)])],
    r => ['LRANGE', k(r), idx(r), idx(r)], r => ['LINSERT', k(r), r.pick(['BEFORE', 'AFTER', 'X']), m(r), m(r)],
    r => ['LMPOP', r.pick(['1', '2']), k(r), k(r), r.pick(['LEFT', 'RIGHT']), ...opt(r, 0.5, () => ['COUNT', idx(r)])], r => ['LSET', k(r), idx(r), m(r)],
    r => ['LTRIM', k(r), idx(r), idx(r)], r => ['LREM', k(r), idx(r), m(r)], r => ['LMOVE', k(r), k(r), r.pick(['LEFT', 'RIGHT']), r.pick(['LEFT', 'RIGHT', 'UP'])],
    r => ['LPOS', k(r), m(r), 'RANK', r.pick(['0', '-1', '2', '-9223372036854775808']), ...opt(r, 0.5, () => ['COUNT', r.pick(['0', '1', '-1'])]), ...opt(r, 0.3, () => ['MAXLEN', r.pick(['0', '1', '-1'])])],
    r => ['LINDEX', k(r), idx(r)], r => ['RPOPLPUSH', k(r), k(r)], r => [r.pick(['LPOP', 'RPOP']), k(r), ...opt(r, 0.6, () => [r.pick(['0', '1', '3', '-1', 'x'])])], r => ['LLEN', k(r)],
  ],
  stream: [
    r => ['XADD', k(r), ...opt(r, 0.3, () => ['MAXLEN', r.pick(['~', '=']), idx(r)]), ...opt(r, 0.2, () => ['NOMKSTREAM']), r.pick(IDS), m(r), m(r)],
    r => ['XLEN', k(r)], r => ['XRANGE', k(r), r.pick(['-', '1', '0-1', '(1-1', '2']), r.pick(['+', '5', '(5', '3-0']), ...opt(r, 0.4, () => ['COUNT', idx(r)])],
    r => ['XREVRANGE', k(r), r.pick(['+', '5', '(5']), r.pick(['-', '1', '(1-1'])], r => ['XDEL', k(r), r.pick(['1-1', '2-0', '5-0', 'x'])],
    r => ['XTRIM', k(r), r.pick(['MAXLEN', 'MINID']), ...opt(r, 0.3, () => [r.pick(['~', '='])]), r.pick(['0', '1', '2', '3-0', '-1', 'x']), ...opt(r, 0.2, () => ['LIMIT', idx(r)])],
    r => ['XREAD', ...opt(r, 0.3, () => ['COUNT', idx(r)]), 'STREAMS', k(r), r.pick(['0', '1-1', '$', '0-0', 'x'])], r => ['XSETID', k(r), r.pick(['10-0', '5-5', '0-0', '1'])],
    r => ['XGROUP', 'CREATE', k(r), r.pick(['g1', 'g2']), r.pick(['0', '$', '1-1', 'x']), ...opt(r, 0.3, () => ['MKSTREAM'])],
    r => ['XREADGROUP', 'GROUP', r.pick(['g1', 'g2']), 'c1', ...opt(r, 0.3, () => ['COUNT', idx(r)]), 'STREAMS', k(r), r.pick(['>', '0'])],
    r => ['XACK', k(r), r.pick(['g1', 'g2']), r.pick(['1-1', '2-0', '5-0'])], r => ['XPENDING', k(r), r.pick(['g1', 'g2']), ...opt(r, 0.5, () => ['-', '+', idx(r)])],
    r => ['XCLAIM', k(r), 'g1', 'c2', '0', r.pick(['1-1', '2-0']), ...opt(r, 0.3, () => ['JUSTID'])],
    r => ['XAUTOCLAIM', k(r), 'g1', 'c2', '0', r.pick(['0', '0-0', '1-1']), ...opt(r, 0.3, () => ['COUNT', idx(r)]), ...opt(r, 0.3, () => ['JUSTID'])],
    r => ['XINFO', 'STREAM', k(r)], r => ['XINFO', 'GROUPS', k(r)],
    r => ['XGROUP', r.pick(['SETID', 'DESTROY', 'CREATECONSUMER', 'DELCONSUMER']), k(r), r.pick(['g1', 'g2']), r.pick(['0', '$', 'c1', 'c2', '1-1'])],
    r => ['XINFO', 'CONSUMERS', k(r), r.pick(['g1', 'g2'])], r => ['XADD', k(r), 'MINID', r.pick(['~', '=']), r.pick(['0', '2', '5-0']), r.pick(['6-0', '*x', '7']), m(r), m(r)],
    r => ['XINFO', 'STREAM', k(r), 'FULL', ...opt(r, 0.5, () => ['COUNT', idx(r)])],
  ],
  lua: [
    r => ['EVAL', luaScript(r), '1', k(r), r.chance(0.5) ? m(r) : num(r)], r => ['EVAL', luaScript(r), r.pick(['0', '-1', '3', 'x']), k(r)],
    r => ['EVAL_RO', r.pick(["return redis.call('SET', KEYS[1], 'v')", "return redis.pcall('DEL', KEYS[1])", "return redis.call('GET', KEYS[1])", 'return 1']), '1', k(r)],
    r => ['EVALSHA', r.pick(['e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'ffffffffffffffffffffffffffffffffffffffff', 'x']), '0'],
    () => ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'x'], r => ['SCRIPT', 'LOAD', luaScript(r)],
  ],
  // Blocking commands that find data, or time out at once (never 0: that would wait for good).
  blocking: [
    r => [r.pick(['BLPOP', 'BRPOP']), k(r), ...opt(r, 0.5, () => [k(r)]), r.pick(['0.01', '-1', 'x', '0.001', 'inf', '1e-400'])],
    r => ['BLMOVE', k(r), k(r), r.pick(['LEFT', 'RIGHT']), r.pick(['LEFT', 'RIGHT', 'UP']), r.pick(['0.01', '-1', 'x'])], r => ['BRPOPLPUSH', k(r), k(r), r.pick(['0.01', '-0.5'])],
    r => [r.pick(['BZPOPMIN', 'BZPOPMAX']), k(r), ...opt(r, 0.5, () => [k(r)]), r.pick(['0.01', '-1', 'x'])],
    r => ['BLMPOP', r.pick(['0.01', '-1']), r.pick(['1', '2', '0', '3']), k(r), k(r), r.pick(['LEFT', 'RIGHT', 'X']), ...opt(r, 0.5, () => ['COUNT', idx(r)])],
    r => ['BZMPOP', r.pick(['0.01', 'x']), r.pick(['1', '2']), k(r), k(r), r.pick(['MIN', 'MAX']), ...opt(r, 0.5, () => ['COUNT', idx(r)])],
    r => ['XREAD', 'BLOCK', r.pick(['10', '-1', 'x']), ...opt(r, 0.3, () => ['COUNT', idx(r)]), 'STREAMS', k(r), r.pick(['0', '$', '1-1'])],
    r => ['XREADGROUP', 'GROUP', 'g1', 'c1', 'BLOCK', '10', ...opt(r, 0.3, () => ['NOACK']), 'STREAMS', k(r), r.pick(['>', '0'])],
    r => ['LPUSH', k(r), m(r)], r => ['ZADD', k(r), num(r), m(r)], r => ['XADD', k(r), r.pick(IDS), 'f', m(r)], r => ['XGROUP', 'CREATE', k(r), 'g1', '0', 'MKSTREAM'],
  ],
  // Keyspace across databases, more expiry forms, SCAN and the type scans (COUNT large: one call answers).
  keyspace: [
    r => ['SELECT', r.pick(['0', '0', '1', '15', '16', '-1', 'x'])], r => ['MOVE', k(r), r.pick(['0', '1', '16', 'x'])], r => ['SWAPDB', r.pick(['0', '1']), r.pick(['0', '1', '16'])],
    r => ['COPY', k(r), k(r), 'DB', r.pick(['0', '1', '16']), ...opt(r, 0.5, () => ['REPLACE'])], () => ['DBSIZE'], () => ['FLUSHDB'],
    r => [r.pick(['PEXPIRE', 'EXPIREAT', 'PEXPIREAT']), k(r), r.pick(['100000000', '9999999999999', '0', '-1', 'x', '9223372036854775807', '-9223372036854775808']), ...opt(r, 0.4, () => [r.pick(['NX', 'XX', 'GT', 'LT'])]), ...opt(r, 0.1, () => ['GT', 'LT'])],
    r => [r.pick(['PTTL', 'PEXPIRETIME', 'TTL', 'EXPIRETIME']), k(r)], r => ['SET', k(r), m(r), 'PX', '100000000'], r => ['OBJECT', r.pick(['REFCOUNT', 'FREQ', 'ENCODING', 'FOO']), k(r)],
    r => ['SCAN', '0', 'COUNT', '1000', ...opt(r, 0.5, () => ['MATCH', r.pick(['*', 'k*', '?1', '[hs]1', '\\k*'])]), ...opt(r, 0.4, () => ['TYPE', r.pick(['string', 'list', 'zset', 'hash', 'set', 'stream', 'nosuch'])])],
    r => [r.pick(['HSCAN', 'SSCAN', 'ZSCAN']), k(r), r.pick(['0', '0', 'x', '18446744073709551616']), 'COUNT', r.pick(['1000', '0', '-1']), ...opt(r, 0.4, () => ['MATCH', r.pick(['*', 'a*', '?', '1*'])])],
    r => ['SCAN', r.pick(['x', '-x', '18446744073709551616', '1.5']), ...opt(r, 0.5, () => ['COUNT', r.pick(['0', '-1', 'x'])])], () => ['RANDOMKEY'], r => ['EXISTS', k(r)],
    r => ['HSET', k(r), m(r), m(r)], r => ['SADD', k(r), m(r), m(r)], r => ['ZADD', k(r), num(r), m(r)], r => ['RPUSH', k(r), m(r)], r => ['SET', k(r), m(r)],
    r => ['DUMP', k(r)], r => ['RENAME', k(r), k(r)], r => ['TYPE', k(r)], r => ['LPUSHX', k(r), m(r)], r => ['RPUSHX', k(r), m(r), m(r)],
  ],
  // Quicklist nodes: the fill limit and every list edit, with DUMP (node by node) after them.
  quicklist: [
    r => ['CONFIG', 'SET', 'list-max-listpack-size', r.pick(['-1', '-2', '1', '2', '3', '4'])],
    r => [r.pick(['LPUSH', 'RPUSH']), 'l1', ...Array.from({ length: 1 + r.int(3) }, () => r.chance(0.15) ? 'e'.repeat(r.pick([100, 3000, 9000])) : m(r))],
    r => [r.pick(['LPOP', 'RPOP']), 'l1', ...opt(r, 0.4, () => [r.pick(['1', '2', '3'])])], r => ['LINSERT', 'l1', r.pick(['BEFORE', 'AFTER']), m(r), r.chance(0.2) ? 'f'.repeat(5000) : m(r)],
    r => ['LSET', 'l1', idx(r), r.chance(0.2) ? 'g'.repeat(r.pick([100, 9000])) : m(r)], r => ['LREM', 'l1', r.pick(['0', '1', '-1']), m(r)], r => ['LTRIM', 'l1', idx(r), idx(r)],
    r => ['LMOVE', 'l1', 'l1', r.pick(['LEFT', 'RIGHT']), r.pick(['LEFT', 'RIGHT'])], () => ['DUMP', 'l1'], () => ['DUMP', 'l1'], () => ['DUMP', 'l1'],
  ],
  // Server surfaces with exact replies (the default user is left as it is: a client that loses
  // its login is closed at its next long command): ACL rules and their read-back, COMMAND's key finding, CONFIG's
  // parsers (CONFIG GET by name only: a pattern also matches Redis's parameters that FlashKV lacks).
  admin: [
    r => ['ACL', 'SETUSER', r.pick(['u1', 'u2']), ...Array.from({ length: r.int(4) }, () => r.pick(ACL_RULES))],
    r => ['ACL', 'GETUSER', r.pick(['u1', 'u2', 'default', 'nobody'])], () => ['ACL', 'LIST'], () => ['ACL', 'USERS'], r => ['ACL', 'DELUSER', r.pick(['u1', 'u2', 'default'])],
    r => ['ACL', 'DRYRUN', r.pick(['u1', 'u2', 'default', 'nobody']), ...r.pick(COMMAND_SAMPLES)], r => ['ACL', 'CAT', ...opt(r, 0.5, () => [r.pick(['string', 'hash', 'nosuch', 'pubsub', 'list'])])],
    r => ['COMMAND', 'GETKEYS', ...r.pick(COMMAND_SAMPLES)], r => ['COMMAND', 'GETKEYSANDFLAGS', ...r.pick(COMMAND_SAMPLES)],
    r => ['COMMAND', 'INFO', r.pick(['get', 'SET', 'nosuch', 'config|get', 'xadd', 'client|list', 'eval'])],
    // A maxmemory that takes (1, 100, 10k) is under both servers' memory, which each counts its
    // own way (README, Limits): what it refuses or evicts then differs. Those set 0 instead.
    r => {
      const [param, value] = [r.pick(CONFIG_PARAMS), r.pick(['yes', 'no', '0', '-1', '1', '100', 'x', '1gb', '10k', '', '1.5', 'allkeys-lru', 'KEA', 'Ex', 'always'])]
      // A maxmemory that evicts, or a tracking table of 1 key (Redis forgets a random key of a
      // fuller one, with its invalidation), would make the servers part ways by chance.
      const isRandom = (param === 'maxmemory' && /^(1|100|10k)$/.test(value)) || (param === 'tracking-table-max-keys' && value === '1')
      return ['CONFIG', 'SET', param, isRandom ? '0' : value]
    },
    r => ['CONFIG', 'GET', r.pick(CONFIG_PARAMS)],
  ],
  // GEO's options and its float formatting: every search form, units, sorting, counts, stores.
  geo: [
    r => ['GEOADD', k(r), ...opt(r, 0.2, () => [r.pick(['NX', 'XX', 'CH'])]), r.pick(GEO_LON), r.pick(GEO_LAT), m(r), ...opt(r, 0.5, () => [r.pick(GEO_LON), r.pick(GEO_LAT), m(r)])],
    r => ['GEOSEARCH', k(r), ...(r.chance(0.5) ? ['FROMLONLAT', r.pick(GEO_LON), r.pick(GEO_LAT)] : ['FROMMEMBER', m(r)]),
      ...(r.chance(0.5) ? ['BYRADIUS', r.pick(GEO_DIST)] : ['BYBOX', r.pick(GEO_DIST), r.pick(GEO_DIST)]), r.pick(GEO_UNITS),
      ...opt(r, 0.5, () => [r.pick(['ASC', 'DESC'])]), ...opt(r, 0.4, () => ['COUNT', r.pick(['1', '2', '0', '-1', 'x']), ...opt(r, 0.4, () => ['ANY'])]),
      ...opt(r, 0.4, () => ['WITHCOORD']), ...opt(r, 0.4, () => ['WITHDIST']), ...opt(r, 0.4, () => ['WITHHASH'])],
    r => ['GEOSEARCHSTORE', k(r), k(r), 'FROMLONLAT', r.pick(GEO_LON), r.pick(GEO_LAT), 'BYRADIUS', r.pick(GEO_DIST), r.pick(GEO_UNITS),
      ...opt(r, 0.5, () => [r.pick(['ASC', 'DESC'])]), ...opt(r, 0.4, () => ['COUNT', r.pick(['1', '3'])]), ...opt(r, 0.5, () => ['STOREDIST'])],
    r => [r.pick(['GEORADIUS', 'GEORADIUS_RO']), k(r), r.pick(GEO_LON), r.pick(GEO_LAT), r.pick(GEO_DIST), r.pick(GEO_UNITS), ...opt(r, 0.4, () => ['WITHDIST']),
      ...opt(r, 0.3, () => ['WITHCOORD']), ...opt(r, 0.3, () => ['WITHHASH']), ...opt(r, 0.4, () => [r.pick(['ASC', 'DESC'])]), ...opt(r, 0.3, () => ['COUNT', r.pick(['1', '2'])])],
    r => ['GEORADIUSBYMEMBER', k(r), m(r), r.pick(GEO_DIST), r.pick(GEO_UNITS), ...opt(r, 0.5, () => ['WITHDIST']), ...opt(r, 0.3, () => [r.pick(['STORE', 'STOREDIST']), k(r)])],
    r => ['GEODIST', k(r), m(r), m(r), ...opt(r, 0.6, () => [r.pick(GEO_UNITS)])], r => ['GEOPOS', k(r), m(r), m(r)], r => ['GEOHASH', k(r), m(r), m(r)],
    r => ['ZADD', k(r), r.pick(['0', '1', '3471579339700058', '4503599627370495', '-1', '4503599627370496', '1e20', 'inf']), m(r)], r => ['ZRANGE', k(r), '0', '-1', 'WITHSCORES'],
  ],
  // Stream options the stream family leaves out: lag bookkeeping (ENTRIESREAD, ENTRIESADDED,
  // MAXDELETEDID), XCLAIM's options, XTRIM's LIMIT, consumer groups read and acknowledged.
  stream2: [
    r => ['XADD', 'x1', r.pick(['1-1', '2-0', '3-0', '3-5', '5-0', '7-1', '9-0']), 'f', m(r)], r => ['XDEL', 'x1', r.pick(['1-1', '2-0', '3-0', '5-0'])],
    r => ['XGROUP', 'CREATE', 'x1', r.pick(['g1', 'g2']), r.pick(['0', '$', '2-0', '3-0']), ...opt(r, 0.5, () => ['ENTRIESREAD', r.pick(['0', '1', '2', '-1', '-2', 'x', '100'])]), ...opt(r, 0.2, () => ['MKSTREAM'])],
    r => ['XGROUP', 'SETID', 'x1', r.pick(['g1', 'g2']), r.pick(['0', '$', '3-0']), ...opt(r, 0.5, () => ['ENTRIESREAD', r.pick(['0', '1', '3', '-1', 'x'])])],
    r => ['XSETID', 'x1', r.pick(['9-0', '10-0', '3-0', '0-0', '18446744073709551615-18446744073709551615']), ...opt(r, 0.5, () => ['ENTRIESADDED', r.pick(['0', '5', '100', '-1', 'x'])]), ...opt(r, 0.5, () => ['MAXDELETEDID', r.pick(['0-0', '5-0', '2-0', '20-0', 'x'])])],
    r => ['XREADGROUP', 'GROUP', r.pick(['g1', 'g2']), r.pick(['c1', 'c2']), ...opt(r, 0.4, () => ['COUNT', r.pick(['1', '2'])]), ...opt(r, 0.2, () => ['NOACK']), 'STREAMS', 'x1', r.pick(['>', '>', '0', '3-0'])],
    r => ['XACK', 'x1', r.pick(['g1', 'g2']), r.pick(['1-1', '2-0', '3-0', '5-0', 'x']), ...opt(r, 0.4, () => ['7-1'])],
    r => ['XCLAIM', 'x1', r.pick(['g1', 'g2']), r.pick(['c1', 'c3']), r.pick(['0', '-1', 'x']), r.pick(['1-1', '2-0', '3-0', '5-0']), ...opt(r, 0.3, () => ['IDLE', r.pick(['0', '-5', '1000000000'])]),
      ...opt(r, 0.2, () => ['RETRYCOUNT', r.pick(['0', '3', '-1'])]), ...opt(r, 0.3, () => ['FORCE']), ...opt(r, 0.3, () => ['JUSTID']), ...opt(r, 0.2, () => ['LASTID', r.pick(['0', '9-0', 'x'])])],
    r => ['XAUTOCLAIM', 'x1', r.pick(['g1', 'g2']), 'c2', r.pick(['0', '-1']), r.pick(['0', '2-0', '(3-0', 'x']), ...opt(r, 0.5, () => ['COUNT', r.pick(['1', '0', '2', '100000000'])]), ...opt(r, 0.3, () => ['JUSTID'])],
    r => ['XTRIM', 'x1', r.pick(['MAXLEN', 'MINID']), r.pick(['=', '~']), r.pick(['0', '2', '3-0', '5']), ...opt(r, 0.4, () => ['LIMIT', r.pick(['0', '1', '100', '-1'])])],
    () => ['XINFO', 'STREAM', 'x1'], () => ['XINFO', 'GROUPS', 'x1'], r => ['XINFO', 'STREAM', 'x1', 'FULL', ...opt(r, 0.3, () => ['COUNT', r.pick(['0', '1'])])],
    r => ['XPENDING', 'x1', r.pick(['g1', 'g2']), ...opt(r, 0.6, () => [...opt(r, 0.3, () => ['IDLE', r.pick(['0', '100000'])]), '-', '+', r.pick(['1', '10', '0', '-1']), ...opt(r, 0.4, () => [r.pick(['c1', 'c2'])])])],
    r => ['XGROUP', r.pick(['DELCONSUMER', 'CREATECONSUMER']), 'x1', r.pick(['g1', 'g2']), r.pick(['c1', 'c2', 'c3'])], () => ['XLEN', 'x1'],
  ],
  // Connection commands whose replies do not name ids or addresses (CLIENT REPLY OFF/SKIP and
  // TRACKING ON are the reply and tracking families', on side connections).
  client: [
    r => ['CLIENT', 'SETNAME', r.pick(['n1', 'a b', 'x\ny', '', 'name-1', 'é'])], () => ['CLIENT', 'GETNAME'], r => ['CLIENT', 'NO-EVICT', r.pick(['on', 'off', 'x', 'ON'])],
    r => ['CLIENT', 'TRACKING', r.pick(['off', 'x', 'OFF']), ...opt(r, 0.5, () => [r.pick(['BCAST', 'OPTIN', 'OPTOUT', 'NOLOOP', 'PREFIX', 'REDIRECT'])]), ...opt(r, 0.3, () => [r.pick(['a', '0', 'OPTIN'])])],
    r => ['CLIENT', 'CACHING', r.pick(['yes', 'no', 'x'])], () => ['CLIENT', 'GETREDIR'], () => ['CLIENT', 'TRACKINGINFO'],
    r => ['CLIENT', 'KILL', ...r.pick([['ID', 'x'], ['ID', '999999'], ['TYPE', 'bad'], ['TYPE', 'pubsub'], ['SKIPME', 'x'], ['ADDR', '1.2.3.4:5'], ['LADDR', 'x'], ['USER', 'nobody'], ['1.2.3.4:5'], ['ID'], ['MAXAGE', 'x']])],
    r => ['CLIENT', 'UNBLOCK', r.pick(['999999', 'x', '-1']), ...opt(r, 0.5, () => [r.pick(['TIMEOUT', 'ERROR', 'X'])])], r => ['CLIENT', 'PAUSE', r.pick(['x', '-1', '0']), ...opt(r, 0.5, () => [r.pick(['WRITE', 'ALL', 'X'])])],
    () => ['CLIENT', 'UNPAUSE'], r => ['CLIENT', 'REPLY', r.pick(['ON', 'x'])], r => ['CLIENT', r.pick(['NOSUCH', 'help', 'LIST x', 'INFO x'])],
    r => ['CLIENT', 'LIST', 'TYPE', r.pick(['x', 'master'])], r => ['CLIENT', 'LIST', 'ID', r.pick(['x', '0', '-1', '999999'])],
    r => ['HELLO', r.pick(['2', '4', 'x', '1'])], r => ['HELLO', '2', r.pick(['SETNAME', 'AUTH', 'X']), ...opt(r, 0.7, () => [r.pick(['n2', 'default', 'a b'])]), ...opt(r, 0.5, () => ['x'])],
    r => ['PING', ...opt(r, 0.5, () => [m(r)]), ...opt(r, 0.2, () => ['x'])], r => ['ECHO', ...opt(r, 0.8, () => [m(r)])], r => ['SELECT', r.pick(['0', '1', '16', 'x', '-1', '0x1', ' 1'])],
    () => ['RESET'], r => ['SET', k(r), m(r)], r => ['GET', k(r)], () => ['DBSIZE'], r => ['WAIT', r.pick(['0', '-1', 'x']), r.pick(['0', '-1', 'x'])],
  ],
  // Pub/sub between connections: '@s1' and '@s2' are two more connections of each server (a
  // command so marked goes there); after every command each side connection's messages, up to
  // a PING's reply, must be the same.
  pubsub: [
    r => [sub(r), r.pick(['SUBSCRIBE', 'SSUBSCRIBE']), ...some(r, CHANNELS)], r => [sub(r), 'PSUBSCRIBE', ...some(r, PATTERNS)],
    r => [sub(r), r.pick(['UNSUBSCRIBE', 'SUNSUBSCRIBE']), ...opt(r, 0.6, () => some(r, CHANNELS))], r => [sub(r), 'PUNSUBSCRIBE', ...opt(r, 0.6, () => some(r, PATTERNS))],
    r => [sub(r), ...r.pick([['PING'], ['PING', 'x'], ['PING', 'a', 'b'], ['GET', 'k1'], ['SET', 'k1', 'v'], ['ECHO', 'e'], ['RESET'], ['HELLO', '3'], ['HELLO', '2'],
      ['CLIENT', 'SETNAME', 's'], ['PUBLISH', 'c1', 'self'], ['SUBSCRIBE'], ['PSUBSCRIBE'], ['SSUBSCRIBE'], ['PUBSUB', 'NUMPAT'], ['SELECT', '1'], ['SELECT', '0'], ['CLIENT', 'GETNAME']])],
    r => ['PUBLISH', r.pick(CHANNELS), m(r)], r => ['SPUBLISH', r.pick(CHANNELS), m(r)], r => ['PUBLISH', r.pick(CHANNELS), 'x'.repeat(r.pick([0, 100, 70000]))],
    r => ['PUBSUB', r.pick(['CHANNELS', 'SHARDCHANNELS']), ...opt(r, 0.6, () => [r.pick(PATTERNS)]), ...opt(r, 0.1, () => ['x'])],
    r => ['PUBSUB', r.pick(['NUMSUB', 'SHARDNUMSUB']), ...opt(r, 0.8, () => some(r, CHANNELS))], () => ['PUBSUB', 'NUMPAT'], r => ['PUBSUB', r.pick(['x', 'NUMPAT x', 'help'])],
  ],
  // CLIENT TRACKING: '@t' is a RESP3 connection that tracks (default, BCAST, OPTIN, OPTOUT,
  // NOLOOP, REDIRECT to '@s1', whose id '$S1' names on each server); the main connection and
  // '@t' write the keys it read, so invalidations (and their order among the replies) are compared.
  tracking: [
    r => ['@t', 'CLIENT', 'TRACKING', r.pick(['ON', 'ON', 'OFF']), ...opt(r, 0.3, () => ['BCAST', ...opt(r, 0.7, () => ['PREFIX', r.pick(['k', 'h', '', '{k}', 'k1'])])]),
      ...opt(r, 0.3, () => [r.pick(['OPTIN', 'OPTOUT'])]), ...opt(r, 0.3, () => ['NOLOOP']), ...opt(r, 0.3, () => ['REDIRECT', r.pick(['$S1', '$S1', '0', '999999'])])],
    r => ['@t', r.pick(['GET', 'STRLEN', 'TYPE', 'EXISTS', 'HGETALL', 'LRANGE', 'SMEMBERS', 'TTL']), k(r)],
    r => ['@t', 'MGET', k(r), k(r)], r => ['@t', 'CLIENT', 'CACHING', r.pick(['yes', 'no', 'x'])], r => ['@t', 'SET', k(r), m(r)], r => ['@t', 'DEL', k(r)],
    r => ['@t', 'CLIENT', r.pick(['TRACKINGINFO', 'GETREDIR'])], r => ['@t', ...r.pick([['RESET'], ['HELLO', '3'], ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'k1']])],
    r => ['@s1', r.pick(['SUBSCRIBE', 'UNSUBSCRIBE']), '__redis__:invalidate'],
    r => ['SET', k(r), m(r)], r => ['DEL', k(r)], r => ['HSET', k(r), m(r), m(r)], r => ['EXPIRE', k(r), '100000'], r => ['RENAME', k(r), k(r)], r => ['LPUSH', k(r), m(r)],
    r => ['MSET', k(r), m(r), k(r), m(r)], r => [r.pick(['FLUSHDB', 'FLUSHALL']), ...opt(r, 0.3, () => [r.pick(['SYNC', 'ASYNC'])])], r => ['GET', k(r)], r => ['APPEND', k(r), m(r)],
    r => ['EVAL', "redis.call('SET', KEYS[1], 'e'); return redis.call('DEL', KEYS[2])", '2', k(r), k(r)], r => ['COPY', k(r), k(r), 'REPLACE'], () => ['SWAPDB', '0', '1'],
  ],
  // What each command touches, seen by WATCH and CLIENT TRACKING: '@w' watches every key, then
  // runs MULTI/PING/EXEC (null when a command since touched one); '@t' reads every key (MGET)
  // and tracks them. Mixed with the data families (--families watch,zset,...), every write's
  // touched keys are compared.
  watch: [
    () => ['@w', 'WATCH', ...KEYS], () => ['@w', 'MULTI', '|', 'PING', '|', 'EXEC'], () => ['@t', 'CLIENT', 'TRACKING', 'ON'], () => ['@t', 'MGET', ...KEYS],
  ],
  // MONITOR: '@m' monitors; every command's line (time and address left out) must be the same,
  // in the same order (a script's calls, a transaction's commands, the side connections' PINGs).
  monitor: [
    r => ['EVAL', "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])", '1', k(r), m(r)], r => ['SET', k(r), 'a b\n"\\\x01'],
    () => ['MULTI'], () => ['EXEC'], () => ['DISCARD'], r => ['GET', k(r)], r => ['MSET', k(r), m(r), k(r), m(r)], () => ['AUTH', 'pw'], () => ['HELLO', '2', 'AUTH', 'default', 'x'],
    () => ['CONFIG', 'SET', 'maxmemory', '0'], () => ['DEBUG', 'SLEEP', '0'], r => ['SELECT', r.pick(['0', '1'])], () => ['PING'], r => ['DEL', k(r), k(r)], () => ['NOSUCH', 'x'],
    r => ['BLPOP', k(r), '0.01'], r => ['@t', 'GET', k(r)], () => ['FCALL', 'nosuch', '0'], r => ['EVAL', 'return 1', '0', m(r)],
  ],
  // CLIENT REPLY OFF and SKIP: '@r' is one more connection, sent a few commands in one write
  // after a CLIENT REPLY, then CLIENT REPLY ON (and the PING every side connection gets).
  reply: [
    r => ['@r', 'CLIENT', 'REPLY', r.pick(['OFF', 'SKIP', 'SKIP', 'ON', 'x', 'off']), ...Array.from({ length: r.int(4) }, () => ['|', ...r.pick(REPLY_CMDS)(r)]).flat(),
      '|', 'DISCARD', '|', 'CLIENT', 'REPLY', 'ON'],
    r => ['@r', ...r.pick(REPLY_ALONE)(r)], r => ['GET', k(r)], r => ['LRANGE', k(r), '0', '-1'],
  ],
  // Small encoding limits and long members: conversions (listpack, intset, quicklist) meet the other commands.
  encoding: [
    r => ['CONFIG', 'SET', r.pick(['hash-max-listpack-entries', 'zset-max-listpack-entries', 'set-max-intset-entries']), r.pick(['0', '1', '2', '3', '128', '512'])],
    r => ['CONFIG', 'SET', r.pick(['hash-max-listpack-value', 'zset-max-listpack-value']), r.pick(['0', '1', '3', '64'])], r => ['CONFIG', 'SET', 'list-max-listpack-size', r.pick(['-1', '-2', '1', '2', '3', '128'])],
    r => ['HSET', k(r), r.pick(MEMBERS), 'v'.repeat(r.pick([1, 63, 64, 65, 300]))], r => ['ZADD', k(r), num(r), 'm'.repeat(r.pick([1, 64, 65]))], r => ['SADD', k(r), r.pick(['1', '2', '-3', '9223372036854775807', 'x', '18446744073709551616'])],
    r => ['RPUSH', k(r), 'e'.repeat(r.pick([1, 100, 9000]))], r => ['OBJECT', 'ENCODING', k(r)], r => ['DUMP', k(r)], r => ['LINSERT', k(r), 'BEFORE', r.pick(['e', 'a']), 'f'.repeat(r.pick([1, 70]))],
  ],
  other: [
    // Times far off, so that no key expires between the two servers' replies.
    // (An EXAT or PXAT of 100000 is in 1970: the key is there, expired, until each server's own
    // active expiry finds it, which DBSIZE would show. The far future instead.)
    r => {
      const unit = r.pick(['EX', 'PX', 'EXAT', 'PXAT'])
      const t = r.pick(['0', '-1', '100000', 'x', '9999999999999999'])
      return ['SET', k(r), m(r), unit, t === '100000' && unit.endsWith('AT') ? '4102444800000' : t]
    },
    r => ['GETEX', k(r), ...opt(r, 0.5, () => [r.pick(['EX', 'PX', 'PERSIST', 'EXAT'])]), ...opt(r, 0.4, () => [r.pick(['0', '100000', '-1'])])],
    r => ['EXPIRE', k(r), r.pick(['100000', '0', '-1', 'x', '9223372036854775807']), ...opt(r, 0.4, () => [r.pick(['NX', 'XX', 'GT', 'LT', 'FOO'])])], r => ['PERSIST', k(r)],
    r => ['PFADD', k(r), m(r), m(r)], r => ['PFCOUNT', k(r), ...opt(r, 0.3, () => [k(r)])], r => ['PFMERGE', k(r), k(r)],
    r => ['GEOADD', k(r), ...opt(r, 0.2, () => [r.pick(['NX', 'XX', 'CH'])]), r.pick(['13.36', '0', '-180', '181', 'x']), r.pick(['38.1', '85.06', '-85.1', '0']), m(r)],
    r => ['GEODIST', k(r), m(r), m(r), ...opt(r, 0.5, () => [r.pick(['m', 'km', 'mi', 'ft', 'xx'])])], r => ['GEOPOS', k(r), m(r), m(r)],
    r => ['GEOSEARCH', k(r), 'FROMLONLAT', '13', '38', 'BYRADIUS', r.pick(['100', '0', '-1', '5000']), r.pick(['km', 'm']), ...opt(r, 0.5, () => [r.pick(['ASC', 'DESC'])]), ...opt(r, 0.3, () => ['WITHDIST'])],
    r => ['DEL', k(r)], r => ['TYPE', k(r)], r => ['OBJECT', 'ENCODING', k(r)], r => ['COPY', k(r), k(r), ...opt(r, 0.5, () => ['REPLACE'])], r => ['RENAME', k(r), k(r)],
    r => ['RENAMENX', k(r), k(r)], r => ['EXISTS', k(r), k(r)], r => ['SORT', k(r), ...opt(r, 0.5, () => [r.pick(['ALPHA', 'DESC', 'LIMIT'])])],
    r => ['TTL', k(r)], r => ['EXPIRETIME', k(r)], r => ['TOUCH', k(r), k(r)], r => ['UNLINK', k(r)], () => ['DBSIZE'], r => ['KEYS', r.pick(['*', 'k*', '?1', '[hs]1', '{k}*'])],
    r => ['GEOHASH', k(r), m(r), m(r)], r => ['GEORADIUS', k(r), '13', '38', r.pick(['100', '5000', '-1']), r.pick(['km', 'm']), ...opt(r, 0.4, () => ['WITHCOORD']), ...opt(r, 0.4, () => ['COUNT', idx(r)])],
    r => ['GEOSEARCHSTORE', k(r), k(r), 'FROMMEMBER', m(r), 'BYBOX', r.pick(['100', '5000']), r.pick(['100', '0']), 'km', ...opt(r, 0.3, () => ['STOREDIST'])],
    r => ['SORT', k(r), 'LIMIT', idx(r), idx(r), ...opt(r, 0.5, () => ['ALPHA']), ...opt(r, 0.3, () => ['STORE', k(r)])],
  ],
}

const RANDOM = new Set(['HRANDFIELD', 'SPOP', 'SRANDMEMBER', 'ZRANDMEMBER', 'RANDOMKEY'])
const UNORDERED = new Set(['SMEMBERS', 'SINTER', 'SUNION', 'SDIFF', 'HGETALL', 'HKEYS', 'HVALS', 'SORT', 'KEYS', 'SCAN', 'HSCAN', 'SSCAN', 'ZSCAN'])
const CLOCK = new Set(['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME'])
const IDLE_TIMES = new Set(['XPENDING', 'XINFO', 'XCLAIM', 'XAUTOCLAIM'])
const SORT_ERANGE = "-ERR One or more scores can't be converted into double\r\n"

/** Whether strtod sets ERANGE on this argument: a decimal past DBL_MAX, or nonzero below DBL_MIN. */
function isOutOfRange (arg: string): boolean {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.exec(arg)
  if (m === null) return false
  const v = Math.abs(Number(arg.trim()))
  return v === Infinity || (v < 2.2250738585072014e-308 && /[1-9]/.test(m[1]))
}

// PUBSUB CHANNELS and SHARDCHANNELS list a dict of channels: compared sorted.
const isChannelList = (cmd: string[]): boolean => cmd[0] === 'PUBSUB' && /^(SHARD)?CHANNELS$/i.test(cmd[1] ?? '')

const LEX = new Set(['ZRANGEBYLEX', 'ZREVRANGEBYLEX', 'ZLEXCOUNT', 'ZREMRANGEBYLEX'])
const isLex = (cmd: string[]): boolean => LEX.has(cmd[0]) || (cmd[0] === 'ZRANGE' && cmd.includes('BYLEX'))

/** Whether a reply to `cmd` may rightly differ between the two servers. */
function isLoose (cmd: string[]): boolean {
  return RANDOM.has(cmd[0]) || UNORDERED.has(cmd[0]) || isChannelList(cmd) || cmd[0] === 'ACL' || cmd[0] === 'HELLO' || CLOCK.has(cmd[0]) || cmd[0] === 'DUMP' || IDLE_TIMES.has(cmd[0]) || isLex(cmd)
}

/** Whether `key` holds a sorted set whose members do not all have one score (a ZREMRANGEBYLEX may have emptied it on one side: both are asked). */
async function hasMixedScores (c: Conn, key: string): Promise<boolean> {
  const lines = (await c.send(['ZRANGE', key, '0', '-1', 'WITHSCORES'])).toString('latin1').split('\r\n')
  if (lines[0][0] !== '*') return false
  const scores = new Set<string>()
  for (let i = 4; i < lines.length; i += 4) scores.add(lines[i])
  return scores.size > 1
}

/**
 * Not sent wrapped: a reply compared loosely, and OBJECT REFCOUNT, which in Redis counts the
 * transaction's (or script's) own reference to an argument a write just stored.
 */
function isUnwrappable (cmd: string[]): boolean {
  return isLoose(cmd) || (cmd[0] === 'OBJECT' && /^refcount$/i.test(cmd[1] ?? ''))
}

/** CLIENT KILL TYPE pubsub: it would close the side connections that subscribed. */
function isKillOfSubscribers (cmd: string[]): boolean {
  return cmd[0] === 'CLIENT' && cmd[1] === 'KILL' && cmd[3] === 'pubsub'
}

/** The commands queued since the families' last MULTI (the loop's), for a loose EXEC's replies. */
let queued: string[][] = []

/** Where the RESP2/RESP3 value that starts at s[pos] ends. */
function respEnd (s: string, pos: number): number {
  const le = s.indexOf('\r\n', pos)
  if (le < 0) return s.length
  const t = s[pos]
  const n = Number(s.slice(pos + 1, le))
  if (t === '$' || t === '=' || t === '!') return n < 0 ? le + 2 : le + 2 + n + 2
  if (t === '*' || t === '~' || t === '>' || t === '%' || t === '|') {
    let p = le + 2
    for (let i = 0; i < (t === '%' || t === '|' ? 2 * n : n); i++) p = respEnd(s, p)
    return p
  }
  return le + 2
}

/** The elements of an array reply, each as its bytes; null if it is not one. */
function respElements (s: string): string[] | null {
  if (s[0] !== '*') return null
  const le = s.indexOf('\r\n')
  const n = Number(s.slice(1, le))
  const out: string[] = []
  let p = le + 2
  for (let i = 0; i < n; i++) {
    const end = respEnd(s, p)
    out.push(s.slice(p, end))
    p = end
  }
  return p === s.length ? out : null
}

/** Whether two different replies to `cmd` are still the same answer (see the top of the file). */
function isSameAnswer (cmd: string[], a: string, b: string): boolean {
  const name = cmd[0]
  // A command the loop wrapped in EVAL (--wrap eval) answers as itself (RANDOMKEY, a clock...).
  if (name === 'EVAL' && cmd[2] === '0' && cmd[1].endsWith('(unpack(ARGV))')) return isSameAnswer(cmd.slice(3), a, b)
  if (CLOCK.has(name)) {
    const [x, y] = [/^:(-?\d+)\r\n$/.exec(a), /^:(-?\d+)\r\n$/.exec(b)]
    // Seconds within 2; milliseconds (PTTL, PEXPIRETIME) within 100.
    return x !== null && y !== null && Math.abs(Number(x[1]) - Number(y[1])) <= (name[0] === 'P' ? 100 : 2)
  }
  // HELLO names the connection's id, which differs between the servers (also in EXEC's array).
  const noId = (x: string): string => x.replace(/\$2\r\nid\r\n:\d+\r\n/g, '')
  if (name === 'HELLO') return noId(a) === noId(b)
  // An EXEC whose queue held a command compared loosely (the loop's multiLoose): each reply as
  // its queued command's (`queued`), or where they do not pair up (a queue the EXEC refused), its
  // lines sorted.
  if (name === 'EXEC') {
    if (noId(a) === noId(b)) return true
    if (cmd[1] !== 'loose') return false
    const [xs, ys] = [respElements(a), respElements(b)]
    if (xs !== null && ys !== null && xs.length === ys.length && xs.length === queued.length) {
      return xs.every((x, j) => x === ys[j] || isSameAnswer(queued[j], x, ys[j]))
    }
    return noId(a).split('\r\n').sort().join() === noId(b).split('\r\n').sort().join()
  }
  if (name === 'RANDOMKEY') return (a === '$-1\r\n') === (b === '$-1\r\n')
  if (RANDOM.has(name)) return a.split('\r\n')[0] === b.split('\r\n')[0]
  if (name === 'DUMP') {
    // A hashtable-encoded set or hash (RDB types 2 and 4) is dumped in dict order: same length,
    // same type. A list's nodes (18) and an intset's width (11) depend on history FlashKV does
    // not keep (README, Limits): the same type. A stream with consumer groups (19) holds delivery
    // and seen times in milliseconds, which differ by the moment each server ran the command:
    // same length, same type.
    const type = (x: string): number => x.charCodeAt(x.indexOf('\r\n') + 2)
    if (type(a) !== type(b)) return false
    return type(a) === 18 || type(a) === 11 || (a.length === b.length && (type(a) === 2 || type(a) === 4 || type(a) === 19))
  }
  if (name === 'ACL') return a.split(/\r\n| /).sort().join() === b.split(/\r\n| /).sort().join()
  if (UNORDERED.has(name) || isChannelList(cmd)) return a.split('\r\n').sort().join() === b.split('\r\n').sort().join()
  if (IDLE_TIMES.has(name)) return a.replace(/:\d+\r\n/g, ':N') === b.replace(/:\d+\r\n/g, ':N')
  return false
}


/** Whether both servers hold as many keys, each in the same encoding. */
async function sameState (a: Conn, b: Conn): Promise<boolean> {
  for (const cmd of [['DBSIZE'], ...KEYS.map(key => ['OBJECT', 'ENCODING', key])]) {
    const [x, y] = await Promise.all([a.send(cmd), b.send(cmd)])
    if (!x.equals(y)) return false
  }
  return true
}

function argOf (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}

async function main (): Promise<void> {
  const commands = Number(argOf('commands', '20000'))
  const seeds = argOf('seeds', '1,2,3').split(',').map(Number)
  const shards = argOf('shards', '4')
  // --wrap multi: 1-4 commands in MULTI/EXEC; --wrap eval: each command through EVAL (redis.call or redis.pcall).
  const wrap = argOf('wrap', '')
  // --probe: after each command whose replies agree, compare DBSIZE and each key's OBJECT
  // ENCODING, so that a divergence is reported at the command that made it.
  const probe = process.argv.includes('--probe')
  // --notify: notify-keyspace-events KEA on both, and a subscriber to every keyspace event on
  // each; after each command, the events Redis published (those before a PING's reply on its
  // subscriber) must be FlashKV's, as a sorted multiset (shards publish side by side). FlashKV's
  // are waited for up to 2 s: they come from the shards through the pub/sub hub.
  const notify = process.argv.includes('--notify')
  // --trace: at a mismatch, print every earlier command of the seed that names the same key (and every CONFIG SET).
  const trace = process.argv.includes('--trace')
  const families = argOf('families', Object.keys(FAMILIES).join(',')).split(',')
  const gens = families.flatMap(f => {
    if (FAMILIES[f] === undefined) throw new Error(`no family ${f}: ${Object.keys(FAMILIES).join(', ')}`)
    return FAMILIES[f]
  })
  // The pubsub and tracking families send some commands on side connections of each server.
  const useSides = ['pubsub', 'tracking', 'reply', 'watch', 'monitor'].some(f => families.includes(f))
  // --aof always|everysec|no: both servers log to an append-only file (each in its own empty
  // directory) with that appendfsync; under always FlashKV syncs before its replies leave.
  const aof = argOf('aof', '')
  const aofFlags = aof === '' ? [] : ['--appendonly', 'yes', '--appendfsync', aof]
  const [redisName, redisCmd, redisArgs] = redisSpec()
  const redis = await start(redisName, redisCmd, aof === '' ? redisArgs : [...redisArgs, ...aofFlags, '--dir', mkdtempSync(join(tmpdir(), 'flashkv-fuzz-redis-'))])
  const flashkv = await start(...flashkvSpec('flashkv', ['--shards', shards, ...aofFlags]))
  let counted = 0
  try {
    for (const seed of seeds) {
      const rng = new Rng(seed)
      const [a, b] = await Promise.all([Conn.open(flashkv.port, 'flashkv'), Conn.open(redis.port, 'redis')])
      for (const c of [a, b]) {
        await c.send(['FLUSHALL'])
        if (process.argv.includes('--resp3')) await c.send(['HELLO', '3'])
      }
      let subs: [Subscriber, Subscriber] | null = null
      let events = 0
      if (notify) {
        await Promise.all([a.send(['CONFIG', 'SET', 'notify-keyspace-events', 'KEA']), b.send(['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'])])
        subs = await Promise.all([Subscriber.subscribe(flashkv.port, '__key*__:*'), Subscriber.subscribe(redis.port, '__key*__:*')])
      }
      // Side connections: [name, FlashKV's, Redis's]; '$S1' in an argument is '@s1''s id on each server.
      const { sides, s1Ids } = useSides ? await openSides(flashkv.port, redis.port, families.includes('monitor')) : { sides: [], s1Ids: ['', ''] }
      let erange = false
      let multiLoose = false
      let inMulti = false
      const history: string[][] = []
      let found = 0
      for (let i = 0; i < commands && found < 10; i++) {
        let cmd = rng.pick(gens)(rng)
        // Wrapped, a reply is compared whole: no command whose reply may rightly differ (nor
        // OBJECT REFCOUNT in a MULTI the families opened).
        while ((wrap !== '' && isUnwrappable(cmd)) || (inMulti && cmd[0] === 'OBJECT')) cmd = rng.pick(gens)(rng)
        // --notify keeps every event class on; with side connections they stay off (a subscriber
        // to '*' would get the events, which come through the hub a moment after the reply and
        // from several shards in either order: --notify compares them as they should be).
        while ((notify || useSides) && cmd[0] === 'CONFIG' && cmd[2] === 'notify-keyspace-events') cmd = rng.pick(gens)(rng)
        // Side connections stay: no CLIENT KILL TYPE pubsub of the subscribers.
        while (useSides && isKillOfSubscribers(cmd)) cmd = rng.pick(gens)(rng)
        const side = cmd[0][0] === '@' ? cmd[0] : ''
        // A MULTI the families sent themselves (not --wrap): whether a queued command's reply may rightly differ.
        if (side === '' && wrap === '') {
          if (cmd[0] === 'MULTI') { multiLoose = false; inMulti = true; queued = [] } else if (cmd[0] === 'EXEC' || cmd[0] === 'DISCARD' || cmd[0] === 'RESET') inMulti = false
          else if (cmd[0] !== 'EXEC' && cmd[0] !== 'DISCARD' && isLoose(cmd)) multiLoose = true
          // MULTI and WATCH inside a MULTI are refused there and then, not queued.
          if (inMulti && cmd[0] !== 'MULTI' && cmd[0] !== 'WATCH') queued.push(cmd)
        }
        const group = side === '' ? [cmd] : []
        if (side !== '') { /* sent below, unwrapped */ } else if (wrap === 'eval') group[0] = ['EVAL', rng.chance(0.5) ? 'return redis.pcall(unpack(ARGV))' : 'return redis.call(unpack(ARGV))', '0', ...cmd]
        if (side === '' && wrap === 'multi') {
          for (let n = rng.int(4); n > 0; n--) {
            let more = rng.pick(gens)(rng)
            while (isUnwrappable(more) || more[0][0] === '@' || (useSides && (isKillOfSubscribers(more) || more[2] === 'notify-keyspace-events'))) more = rng.pick(gens)(rng)
            group.push(more)
          }
          group.unshift(['MULTI'])
          group.push(['EXEC'])
        }
        // What was sent, for a reducer to replay: the side command, or each of the group.
        history.push(...(side !== '' ? [cmd] : group))
        if (!erange && group.some(c => c.some(isOutOfRange))) erange = true
        const xs: Buffer[] = []
        const ys: Buffer[] = []
        for (const c of group) {
          const [x1, y1] = await Promise.all([a.send(c), b.send(c)])
          xs.push(x1)
          ys.push(y1)
        }
        const x = Buffer.concat(xs)
        const y = Buffer.concat(ys)
        // Each side connection: the command if it was marked for it, then a PING; all that came back must be the same.
        for (const [name, fa, rb] of sides) {
          const args = (j: number): string[] | null => name === side ? cmd.slice(1).map(v => v === '$S1' ? s1Ids[j] : v) : null
          const got = await Promise.allSettled([fa.exchange(args(0), `${name}${i}`), rb.exchange(args(1), `${name}${i}`)])
          if (got[0].status === 'rejected' || got[1].status === 'rejected') {
            // A side connection that stopped answering: which server, after what (the history to /tmp).
            const who = got.map((g, j) => g.status === 'rejected' ? ['flashkv', 'redis'][j] : null).filter(w => w !== null).join(' and ')
            console.log(`SIDE ${name} seed ${seed} #${i}: no answer from ${who}; the last commands: ${JSON.stringify(history.slice(-8))}`)
            writeFileSync(`/tmp/diff-fuzz-trace-${seed}-${i}.json`, JSON.stringify(history))
            throw (got[0].status === 'rejected' ? got[0].reason : (got[1] as PromiseRejectedResult).reason) as Error
          }
          let [fs, rs] = [got[0].value, got[1].value]
          if (name === '@m') [fs, rs] = await monitorLines(fa, fs, rs)
          if (fs.join('') === rs.join('') || canonSide(fs, s1Ids[0]) === canonSide(rs, s1Ids[1])) continue
          // A side command whose reply comes in hashtable order (HGETALL on '@t'): its lines sorted, as on the main connection.
          const sorted = (v: string[]): string => v.join('').split('\r\n').sort().join()
          if (name === side && UNORDERED.has(cmd[1]) && sorted(fs) === sorted(rs)) continue
          console.log(`SIDE ${name} seed ${seed} #${i}: after ${JSON.stringify(group.length > 0 ? group : cmd).slice(0, 300)}\n  flashkv: ${JSON.stringify(fs.join('').slice(0, 400))}\n  redis:   ${JSON.stringify(rs.join('').slice(0, 400))}`)
          if (trace) writeFileSync(`/tmp/diff-fuzz-trace-${seed}-${i}.json`, JSON.stringify(history))
          found++
          counted++
        }
        if (subs !== null) {
          const theirs = await subs[1].untilPong()
          events += theirs.length
          const mine = await subs[0].take(theirs.length, theirs.length === 0 ? 0 : 2000)
          if (mine.sort().join() !== [...theirs].sort().join()) {
            console.log(`EVENTS seed ${seed} #${i}: after ${JSON.stringify(group)}\n  flashkv: ${JSON.stringify(mine)}\n  redis:   ${JSON.stringify(theirs)}`)
            found++
            counted++
          }
          // Events FlashKV sent past Redis's count belong to no later command: reported here.
          const extra = subs[0].rest()
          if (extra.length > 0) {
            console.log(`EVENTS seed ${seed} #${i}: FlashKV's more after ${JSON.stringify(group)}: ${JSON.stringify(extra)}`)
            found++
            counted++
          }
        }
        if (x.equals(y)) {
          if (probe && !(await sameState(a, b))) {
            console.log(`STATE seed ${seed} #${i}: after ${JSON.stringify(group)}`)
            found++
            counted++
          }
          continue
        }
        if (wrap !== '') cmd = group.flat()
        else if (cmd[0] === 'EXEC' && multiLoose) cmd = ['EXEC', 'loose']
        const fx = x.toString('latin1')
        const ry = y.toString('latin1')
        if (isSameAnswer(cmd, fx, ry)) continue
        if (wrap === '' && isLex(cmd) && ((await hasMixedScores(a, cmd[1])) || (await hasMixedScores(b, cmd[1])))) {
          console.log(`lex range over mixed scores (unspecified), seed ${seed} #${i}: ${JSON.stringify(cmd)}: ${JSON.stringify(fx.slice(0, 100))} / ${JSON.stringify(ry.slice(0, 100))}`)
          await Promise.all([a.send(['DEL', cmd[1]]), b.send(['DEL', cmd[1]])])
          continue
        }
        // Redis's stale errno after an out-of-range SORT score: reported, not counted.
        const isStale = cmd[0] === 'SORT' && erange && ry === SORT_ERANGE
        console.log(`${isStale ? 'ERANGE left in the errno of Redis by an earlier argument' : 'MISMATCH'} seed ${seed} #${i}: ${JSON.stringify(cmd).slice(0, 300)}\n  flashkv: ${JSON.stringify(fx.slice(0, 300))}\n  redis:   ${JSON.stringify(ry.slice(0, 300))}`)
        if (!isStale) { found++; counted++ }
        if (trace && !isStale) {
          const short = (h: string[]): string => JSON.stringify(h.map(x => x.length > 24 ? `${x.slice(0, 3)}...(${x.length})` : x))
          for (const h of history.slice(0, -1)) if (h[0] === 'CONFIG' || h.includes(cmd[1])) console.log(`  ${short(h)}`)
          // The whole history, for a reducer to replay.
          writeFileSync(`/tmp/diff-fuzz-trace-${seed}-${i}.json`, JSON.stringify(history))
        }
      }
      a.close()
      subs?.forEach(sub => { sub.close() })
      for (const [, fa, rb] of sides) { fa.close(); rb.close() }
      b.close()
      console.log(`seed ${seed}: ${commands} commands${notify ? `, ${events} events` : ''}, ${found} mismatches`)
    }
  } finally {
    await Promise.all([stop(redis), stop(flashkv)])
  }
  process.exit(counted === 0 ? 0 : 1)
}

void main()
