// DUMP and RESTORE (Redis's cluster.c dumpCommand/restoreCommand): a value as Redis 7.0's
// payload, | RDB type | RDB object | u16 RDB version | u64 CRC64 |, written and read by
// persistence/rdb-value.ts, so a DUMP from Redis restores here and one from here restores in
// Redis. IDLETIME sets the key's LRU clock (under a non-LFU policy), FREQ its LFU counter (under
// an LFU policy), as objectSetLRUOrLFU does; the other one is ignored.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { TYPES, PAYLOAD_HEADER_BYTES } from '../storage/types.js'
import { entryBlockBytes, TYPE_STREAM } from '../storage/keyspace.js'
import { valuePayload } from './internal.js'
import { dumpPayload, finishPayload, restorePayload, verifyDumpPayload } from '../persistence/rdb-value.js'
import { encodeStream } from '../persistence/rdb-stream.js'
import { ByteWriter } from '../persistence/listpack.js'
import { OK } from '../protocol/replies.js'
import { NOT_INTEGER, SYNTAX_ERR, OOM, errorReply } from '../protocol/errors.js'
import { equalsLower, token, parseLL } from '../protocol/ascii.js'
import { NOTIFY_GENERIC, eventName } from '../storage/notify.js'
import { isLfu, policy, clockForIdle, clockForFreq } from '../storage/eviction.js'

const BUSYKEY = errorReply('BUSYKEY Target key name already exists.')
const BAD_TTL = errorReply('ERR Invalid TTL value, must be >= 0')
const BAD_IDLETIME = errorReply('ERR Invalid IDLETIME value, must be >= 0')
const BAD_FREQ = errorReply('ERR Invalid FREQ value, must be >= 0 and <= 255')
const BAD_PAYLOAD = errorReply('ERR DUMP payload version or checksum are wrong')
const BAD_FORMAT = errorReply('ERR Bad data format')
const TOK_REPLACE = token('replace')
const TOK_ABSTTL = token('absttl')
const TOK_IDLETIME = token('idletime')
const TOK_FREQ = token('freq')
const EV_DEL = eventName('del')
const EV_RESTORE = eventName('restore')


function dumpCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = shard.lookupRead(argv.buf, argv.start[1], argv.len[1])
  if (e === 0) { out.nullBulk(); return }
  if (shard.ks.type(e) === TYPE_STREAM) {
    const w = new ByteWriter()
    encodeStream(w, shard.ks, e)
    out.bulkBuf(finishPayload(w))
    return
  }
  out.bulkBuf(dumpPayload(valuePayload(shard.ks, e)) as Buffer)
}

function restoreCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const { buf, start, len, argc } = argv
  let isReplace = false
  let isAbsTtl = false
  let idle = -1
  let freq = -1
  for (let j = 4; j < argc; j++) {
    const more = argc - j - 1
    const s = start[j]
    const l = len[j]
    if (equalsLower(buf, s, l, TOK_REPLACE)) isReplace = true
    else if (equalsLower(buf, s, l, TOK_ABSTTL)) isAbsTtl = true
    else if (more >= 1 && freq === -1 && equalsLower(buf, s, l, TOK_IDLETIME)) {
      const v = parseLL(buf, start[j + 1], len[j + 1])
      if (v === null) { out.raw(NOT_INTEGER); return }
      if (v < 0) { out.raw(BAD_IDLETIME); return }
      idle = v
      j++
    } else if (more >= 1 && idle === -1 && equalsLower(buf, s, l, TOK_FREQ)) {
      const v = parseLL(buf, start[j + 1], len[j + 1])
      if (v === null) { out.raw(NOT_INTEGER); return }
      if (v < 0 || v > 255) { out.raw(BAD_FREQ); return }
      freq = v
      j++
    } else { out.raw(SYNTAX_ERR); return }
  }
  const old = shard.lookup(buf, start[1], len[1])
  if (!isReplace && old !== 0) { out.raw(BUSYKEY); return }
  let ttl = parseLL(buf, start[2], len[2])
  if (ttl === null) { out.raw(NOT_INTEGER); return }
  if (ttl < 0) { out.raw(BAD_TTL); return }
  const serialized = Buffer.from(buf.buffer, buf.byteOffset + start[3], len[3])
  if (!verifyDumpPayload(serialized)) { out.raw(BAD_PAYLOAD); return }
  const payload = restorePayload(serialized)
  if (payload === null) { out.raw(BAD_FORMAT); return }
  const ks = shard.ks
  const type = payload[0] & 7
  const ops = TYPES[type]
  const dataLen = payload.length - PAYLOAD_HEADER_BYTES
  // Reserved before the old value goes: a full arena answers OOM with the key as it was.
  if (!ks.arena.reserve(entryBlockBytes(len[1], ops.valueBytes(dataLen)) + ops.restoreBytes(payload, PAYLOAD_HEADER_BYTES, payload.length))) {
    out.raw(OOM)
    return
  }
  const now = shard.now()
  if (ttl !== 0 && !isAbsTtl) ttl += now
  // checkAlreadyExpired.
  if (ttl !== 0 && shard.isAlreadyExpired(ttl, now)) {
    // Already expired: nothing is created, and a replaced key is deleted ("del").
    if (old !== 0) {
      shard.removeOverwritten(ks, old)
      shard.notify(NOTIFY_GENERIC, EV_DEL, buf, start[1], len[1])
    }
    out.raw(OK)
    return
  }
  if (old !== 0) shard.removeOverwritten(ks, old)
  const e = ks.insert(buf, start[1], len[1], shard.lastHash, type, ops.valueBytes(dataLen))
  if (e === 0) { out.raw(OOM); return }
  if (!ops.restore(ks, e, payload, PAYLOAD_HEADER_BYTES, payload.length)) { ks.remove(e); out.raw(OOM); return }
  if (ttl !== 0) ks.setExpireAt(e, ttl)
  if (isLfu(policy())) { if (freq >= 0) ks.setClock(e, clockForFreq(freq, now)) } else if (idle >= 0) ks.setClock(e, clockForIdle(idle, now))
  shard.notify(NOTIFY_GENERIC, EV_RESTORE, buf, start[1], len[1])
  out.raw(OK)
}

const KEY = { firstKey: 1, lastKey: 1, step: 1, route: 'key', group: 'generic', since: '2.6.0' } as const

export const dumpCommands: readonly CommandSpec[] = [
  {
    ...KEY, name: 'dump', arity: 2, flags: ['readonly'], tips: ['nondeterministic_output'],
    summary: 'Return a serialized version of the value stored at the specified key.',
    complexity: 'O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).',
    keySpecs: [{ flags: ['RO', 'access'] }], run: dumpCommand,
  },
  {
    ...KEY, name: 'restore', arity: -4, flags: ['write', 'denyoom'], acl: ['dangerous'],
    summary: 'Create a key using the provided serialized value, previously obtained using DUMP.',
    complexity: 'O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).',
    keySpecs: [{ flags: ['OW', 'update'] }], run: restoreCommand,
  },
]
