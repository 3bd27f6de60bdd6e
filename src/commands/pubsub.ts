// Pub/sub commands (Redis's "pubsub" group). SUBSCRIBE and its kin change the connection's own
// state and run on its thread (server/pubsub.ts); PUBLISH, SPUBLISH and PUBSUB's queries run on
// the hub shard (shard 0, storage/pubsub-hub.ts), which knows every producer's subscriptions.
// A PUBLISH answers its receivers and leaves the message in shard.pushes: the worker sends it to
// each producer with receivers, which delivers it to its own connections. Keyspace events come
// to the hub as __notify records and are published the same way.

import { Buffer } from 'node:buffer'
import type { CommandSpec, Argv, ClientContext } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { PUBSUB_CHANNEL, PUBSUB_PATTERN, PUBSUB_SHARD, PUBSUB_MONITOR } from '../storage/pubsub-hub.js'
import { NOTIFY_KEYSPACE, NOTIFY_KEYEVENT } from '../storage/notify.js'
import { OK } from '../protocol/replies.js'
import { readU32 } from './internal.js'
import { errorReply } from '../protocol/errors.js'


function publish (shard: Shard, argv: Argv, out: ReplyWriter, kind: number): void {
  out.int(publishOn(shard, kind, argv.buf, argv.start[1], argv.len[1], argv.buf, argv.start[2], argv.len[2]))
}

/** Publishes on the hub: the receivers, and the message queued for the producers that have some. */
export function publishOn (shard: Shard, kind: number, cbuf: Uint8Array, cstart: number, clen: number, mbuf: Uint8Array, mstart: number, mlen: number): number {
  const to = new Uint8Array(shard.producers)
  const n = shard.hub.publish(kind, cbuf, cstart, clen, to)
  if (n === 0) return 0
  const b = Buffer.allocUnsafe(5 + clen + mlen)
  b[0] = kind
  b.writeUInt32LE(clen, 1)
  b.set(cbuf.subarray(cstart, cstart + clen), 5)
  b.set(mbuf.subarray(mstart, mstart + mlen), 5 + clen)
  shard.pushes.push({ payload: b, to })
  return n
}

const MONITOR_NAME = Buffer.from('monitor')

export function monitorFeedCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  for (let i = 1; i < argv.argc; i++) publishOn(shard, PUBSUB_MONITOR, MONITOR_NAME, 0, MONITOR_NAME.length, argv.buf, argv.start[i], argv.len[i])
  out.raw(OK)
}

/**
 * __notify events: keyspace events a shard recorded (Shard.notify), each | u32 db | u32 event
 * length | event | key |, published as notifyKeyspaceEvent does: the event on
 * __keyspace@<db>__:<key> (K), the key on __keyevent@<db>__:<event> (E).
 */
export function notifyCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const flags = shard.notifyFlags[0]
  const { buf } = argv
  for (let i = 1; i < argv.argc; i++) {
    const p = argv.start[i]
    const end = p + argv.len[i]
    const db = readU32(buf, p)
    const elen = readU32(buf, p + 4)
    const ev = p + 8
    const key = ev + elen
    if ((flags & NOTIFY_KEYSPACE) !== 0) {
      const ch = Buffer.concat([Buffer.from(`__keyspace@${db}__:`), buf.subarray(key, end)])
      publishOn(shard, PUBSUB_CHANNEL, ch, 0, ch.length, buf, ev, elen)
    }
    if ((flags & NOTIFY_KEYEVENT) !== 0) {
      const ch = Buffer.concat([Buffer.from(`__keyevent@${db}__:`), buf.subarray(ev, key)])
      publishOn(shard, PUBSUB_CHANNEL, ch, 0, ch.length, buf, key, end - key)
    }
  }
  out.raw(OK)
}

export function publishCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { publish(shard, argv, out, PUBSUB_CHANNEL) }
export function spublishCommand (shard: Shard, argv: Argv, out: ReplyWriter): void { publish(shard, argv, out, PUBSUB_SHARD) }

function arg (argv: Argv, i: number): Buffer { return Buffer.from(argv.buf.subarray(argv.start[i], argv.start[i] + argv.len[i])) }

function channels (shard: Shard, argv: Argv, out: ReplyWriter, kind: number): void {
  if (argv.argc > 3) {
    // pubsubCommand checks its own argument counts (the row's arity is -2).
    const sub = Buffer.from(argv.buf.subarray(argv.start[1], argv.start[1] + argv.len[1])).toString('latin1')
    out.raw(errorReply(`ERR unknown subcommand or wrong number of arguments for '${sub}'. Try PUBSUB HELP.`))
    return
  }
  const list = shard.hub.channels(kind, argv.argc > 2 ? arg(argv, 2) : null)
  out.arrayHeader(list.length)
  for (const c of list) out.bulkBuf(c)
}

function numsub (shard: Shard, argv: Argv, out: ReplyWriter, kind: number): void {
  out.arrayHeader((argv.argc - 2) * 2)
  for (let i = 2; i < argv.argc; i++) {
    const name = arg(argv, i)
    out.bulkBuf(name)
    out.int(shard.hub.numsub(kind, name))
  }
}

/** __psub kind delta name...: this producer's connections (un)subscribed (delta ±1 each). */
export function psubCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const kind = readU32(argv.buf, argv.start[1])
  const delta = readU32(argv.buf, argv.start[2]) | 0
  for (let i = 3; i < argv.argc; i++) shard.hub.change(kind, shard.producer, delta, arg(argv, i))
  out.raw(OK)
}

const HELP_LINES = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
]

export function pubsubHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void {
  out.help('PUBSUB', HELP_LINES)
}

const PS = { group: 'pubsub', firstKey: 0, lastKey: 0, step: 0 } as const
const SUB_FLAGS = ['pubsub', 'noscript', 'loading', 'stale'] as const
const NOT_KEY = [{ flags: ['not_key'] }] as const
const QUERY = { ...PS, flags: ['pubsub', 'loading', 'stale'], route: 'hub', since: '2.8.0' } as const

export const pubsubCommands: CommandSpec[] = [
  { ...PS, name: 'subscribe', arity: -2, flags: SUB_FLAGS, route: 'pubsub', since: '2.0.0', summary: 'Listen for messages published to the given channels', complexity: 'O(N) where N is the number of channels to subscribe to.' },
  { ...PS, name: 'unsubscribe', arity: -1, flags: SUB_FLAGS, route: 'pubsub', since: '2.0.0', summary: 'Stop listening for messages posted to the given channels', complexity: 'O(N) where N is the number of clients already subscribed to a channel.' },
  { ...PS, name: 'psubscribe', arity: -2, flags: SUB_FLAGS, route: 'pubsub', since: '2.0.0', summary: 'Listen for messages published to channels matching the given patterns', complexity: 'O(N) where N is the number of patterns the client is already subscribed to.' },
  { ...PS, name: 'punsubscribe', arity: -1, flags: SUB_FLAGS, route: 'pubsub', since: '2.0.0', summary: 'Stop listening for messages posted to channels matching the given patterns', complexity: 'O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).' },
  { ...PS, name: 'ssubscribe', arity: -2, flags: SUB_FLAGS, firstKey: 1, lastKey: -1, step: 1, keySpecs: NOT_KEY, route: 'pubsub', since: '7.0.0', summary: 'Listen for messages published to the given shard channels', complexity: 'O(N) where N is the number of shard channels to subscribe to.' },
  { ...PS, name: 'sunsubscribe', arity: -1, flags: SUB_FLAGS, firstKey: 1, lastKey: -1, step: 1, keySpecs: NOT_KEY, route: 'pubsub', since: '7.0.0', summary: 'Stop listening for messages posted to the given shard channels', complexity: 'O(N) where N is the number of clients already subscribed to a shard channel.' },
  { ...PS, name: 'publish', arity: 3, flags: ['pubsub', 'loading', 'stale', 'fast'], route: 'hub', since: '2.0.0', summary: 'Post a message to a channel', complexity: 'O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).', run: publishCommand },
  { ...PS, name: 'spublish', arity: 3, flags: ['pubsub', 'loading', 'stale', 'fast'], firstKey: 1, lastKey: 1, step: 1, keySpecs: NOT_KEY, route: 'hub', since: '7.0.0', summary: 'Post a message to a shard channel', complexity: 'O(N) where N is the number of clients subscribed to the receiving shard channel.', run: spublishCommand },
  {
    ...PS, name: 'pubsub', arity: -2, flags: [], route: 'primary', since: '2.8.0', summary: 'A container for Pub/Sub commands', complexity: 'Depends on subcommand.',
    subcommands: [
      { ...QUERY, name: 'pubsub|channels', arity: -2, summary: 'List active channels', complexity: 'O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)', run: (s, a, o) => channels(s, a, o, PUBSUB_CHANNEL) },
      { ...QUERY, name: 'pubsub|numsub', arity: -2, summary: 'Get the count of subscribers for channels', complexity: 'O(N) for the NUMSUB subcommand, where N is the number of requested channels', run: (s, a, o) => numsub(s, a, o, PUBSUB_CHANNEL) },
      { ...QUERY, name: 'pubsub|numpat', arity: 2, summary: 'Get the count of unique patterns pattern subscriptions', complexity: 'O(1)', run: (s, _a, o) => o.int(s.hub.count(PUBSUB_PATTERN)) },
      { ...QUERY, name: 'pubsub|shardchannels', arity: -2, since: '7.0.0', summary: 'List active shard channels', complexity: 'O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).', run: (s, a, o) => channels(s, a, o, PUBSUB_SHARD) },
      { ...QUERY, name: 'pubsub|shardnumsub', arity: -2, since: '7.0.0', summary: 'Get the count of subscribers for shard channels', complexity: 'O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels', run: (s, a, o) => numsub(s, a, o, PUBSUB_SHARD) },
      { ...PS, name: 'pubsub|help', arity: 2, flags: ['loading', 'stale'], route: 'primary', since: '6.2.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: pubsubHelpCommand },
    ],
  },
  { ...PS, name: '__psub', arity: -4, flags: [], route: 'hub', since: '', summary: '', complexity: '', internal: true, run: psubCommand },
  { ...PS, name: 'monitor', group: 'server', arity: 1, flags: ['admin', 'noscript', 'loading', 'stale'], route: 'pubsub', since: '1.0.0', summary: 'Listen for all requests received by the server in real time', complexity: '' },
  // __monitor line...: monitor lines for every producer's MONITOR clients (server/pubsub.ts feed).
  { ...PS, name: '__monitor', arity: -2, flags: [], route: 'hub', since: '', summary: '', complexity: '', internal: true, run: monitorFeedCommand },
  { ...PS, name: '__notify', arity: -2, flags: [], route: 'hub', since: '', summary: '', complexity: '', internal: true, run: notifyCommand },
]

