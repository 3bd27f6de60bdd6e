// OBJECT (Redis object.c, objectCommand): introspection of a key's value. Encodings follow
// Redis 7.0: a string is "int" when string2l accepts it (at most 20 bytes) and it was stored
// whole, "embstr" up to 44 bytes, else "raw" (always "raw" once edited in place: APPEND,
// SETRANGE); a list is a "quicklist". IDLETIME and FREQ read the key's access clock
// (storage/eviction.ts); OBJECT itself never touches it (LOOKUP_NOTOUCH).

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, ClientContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import type { Keyspace } from '../storage/keyspace.js'
import { typeOf } from '../storage/types.js'
import { parsed } from '../protocol/ascii.js'
import { LFU_NOT_SELECTED, LFU_SELECTED } from '../protocol/errors.js'
import { isLfu, policy, noSharedIntegers, idleMs, lfuCounter, evictionSettings, maxmemoryOf } from '../storage/eviction.js'

const bulk = (s: string): Buffer => Buffer.from(`$${s.length}\r\n${s}\r\n`, 'latin1')
/** OBJ_SHARED_INTEGERS: 0..9999 are shared objects unless maxmemory is set under an LRU or LFU policy. */
const SHARED_INTEGERS = 10000
/** OBJ_SHARED_REFCOUNT (INT_MAX) */
const SHARED_REFCOUNT = 2147483647

/** The value's encoding (storage/types.ts); an int leaves its value in `parsed`. */
export function encodingOf (ks: Keyspace, e: number): string {
  return typeOf(ks, e).encoding(ks, e)
}

const encodingReplies = new Map<string, Buffer>()
function encodingReply (name: string): Buffer {
  let b = encodingReplies.get(name)
  if (b === undefined) { b = bulk(name); encodingReplies.set(name, b) }
  return b
}

function keyOf (shard: Shard, argv: Argv): number {
  // objectCommandLookup: lookupKeyReadWithFlags(LOOKUP_NOTOUCH), so hits and misses are counted.
  return shard.lookupNoTouch(argv.buf, argv.start[2], argv.len[2])
}

export function objectEncodingCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = keyOf(shard, argv)
  if (e === 0) { out.nullBulk(); return }
  out.raw(encodingReply(encodingOf(shard.ks, e)))
}

export function objectRefcountCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = keyOf(shard, argv)
  if (e === 0) { out.nullBulk(); return }
  const isShared = encodingOf(shard.ks, e) === 'int' && !shard.ks.isUnshared(e) && parsed.value >= 0 && parsed.value < SHARED_INTEGERS &&
    (maxmemoryOf(evictionSettings.flags) === 0 || !noSharedIntegers(policy()))
  out.int(isShared ? SHARED_REFCOUNT : 1)
}

/** The LFU counter, decayed to now (LFUDecrAndReturn); an error unless an LFU policy is set. */
export function objectFreqCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = keyOf(shard, argv)
  if (e === 0) { out.nullBulk(); return }
  if (!isLfu(policy())) { out.raw(LFU_NOT_SELECTED); return }
  out.int(lfuCounter(shard.ks.clock(e), shard.now()))
}

/** Seconds since the last access (estimateObjectIdleTime); an error under an LFU policy. */
export function objectIdletimeCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const e = keyOf(shard, argv)
  if (e === 0) { out.nullBulk(); return }
  if (isLfu(policy())) { out.raw(LFU_SELECTED); return }
  out.int(Math.floor(idleMs(shard.ks.clock(e), shard.now()) / 1000))
}

const HELP_LINES = [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
]

/** Redis 7.0's text, IDLETIME included. */
export function objectHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.help('OBJECT', HELP_LINES)
}

const SUB = { group: 'generic', arity: 3, flags: ['readonly'], firstKey: 2, lastKey: 2, step: 1, route: 'key', tips: ['nondeterministic_output'], keySpecs: [{ flags: ['RO'] }], complexity: 'O(1)' } as const

export const objectCommands: CommandSpec[] = [
  {
    name: 'object',
    arity: -2,
    flags: [],
    firstKey: 0,
    lastKey: 0,
    step: 0,
    route: 'primary',
    group: 'generic',
    since: '2.2.3',
    summary: 'A container for object introspection commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...SUB, name: 'object|encoding', since: '2.2.3', summary: 'Inspect the internal encoding of a Redis object', run: objectEncodingCommand },
      { ...SUB, name: 'object|freq', since: '4.0.0', summary: 'Get the logarithmic access frequency counter of a Redis object', run: objectFreqCommand },
      { ...SUB, name: 'object|idletime', since: '2.2.3', summary: 'Get the time since a Redis object was last accessed', run: objectIdletimeCommand },
      { ...SUB, name: 'object|refcount', since: '2.2.3', summary: 'Get the number of references to the value of the key', run: objectRefcountCommand },
      { name: 'object|help', arity: 2, flags: ['loading', 'stale'], firstKey: 0, lastKey: 0, step: 0, route: 'primary', group: 'generic', since: '6.2.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: objectHelpCommand },
    ],
  },
]
