// CLIENT TRACKING's records for shard 0 (server/tracking.ts sends them, storage/tracking.ts keeps
// the state): the distinct BCAST prefixes of every thread (INFO tracking_total_prefixes), and the
// relay of a ready invalidation to a REDIRECT target on another I/O thread. CLIENT TRACKING and
// its kin themselves are rows of connection.ts.

import type { CommandSpec, Argv } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import type { Shard } from '../storage/shard.js'
import { OK } from '../protocol/replies.js'
import { readU32 } from './internal.js'

/** __trkpfx delta prefix...: a thread's BCAST clients took (+1) or dropped (-1) these prefixes. */
function trkpfxCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  const delta = readU32(argv.buf, argv.start[1]) | 0
  for (let i = 2; i < argv.argc; i++) shard.tracking?.changePrefix(delta, argv.buf, argv.start[i], argv.len[i])
  out.raw(OK)
}

/** __trkrelay record: passes a tracking record on to the thread of the client slot it names. */
function trkrelayCommand (shard: Shard, argv: Argv, out: ReplyWriter): void {
  shard.tracking?.relay(argv.buf, argv.start[1], argv.len[1])
  out.raw(OK)
}

const INTERNAL = { group: 'connection', firstKey: 0, lastKey: 0, step: 0, since: '', summary: '', complexity: '', internal: true } as const

export const trackingInternalCommands: CommandSpec[] = [
  { ...INTERNAL, name: '__trkpfx', arity: -3, flags: [], route: 'hub', run: trkpfxCommand },
  { ...INTERNAL, name: '__trkrelay', arity: 2, flags: [], route: 'hub', run: trkrelayCommand },
]
