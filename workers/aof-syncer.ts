// appendfsync always, off the shard's thread. The shard writes a batch's effects, asks this
// thread for the sync and goes on with its next batch; the batch's replies stay staged in their
// rings until the sync is done (shard-worker.ts, "deferred replies"). So the shard and the
// primary read, run and write the next batch while the disk syncs the last one, where a sync on
// the shard's own thread stopped both for it (0.4-0.7 ms on this box's disk, per batch).
//
//   ctl (Int32Array): [REQ write number asked][FD its descriptor][DONE last number synced][ERR errno][STOP][UP]
//
// Each sync goes through aof.ts syncUpTo, so the shards' syncers and any thread that syncs in
// place share one fdatasync as before (group commit across threads).

import { workerData } from 'node:worker_threads'
import { syncForShard } from '../src/persistence/aof.js'
import { SYNC_REQ, SYNC_FD, SYNC_DONE, SYNC_ERR, SYNC_STOP, SYNC_UP } from '../src/persistence/aof-syncer-words.js'

const { ctl: ctlSab, bell: bellSab, seq } = workerData as { ctl: SharedArrayBuffer, bell: SharedArrayBuffer, seq: number }
const ctl = new Int32Array(ctlSab)
const bell = new Int32Array(bellSab)
// Fault injection for tests (FLASHKV_FAULT_SYNCER_EXIT=<n>): the thread ends when asked for its
// (n+1)th sync, as a syncer that died; the shard then syncs in its place (aof.ts syncHere).
const exitAfter = Number(process.env.FLASHKV_FAULT_SYNCER_EXIT ?? '0')
let syncs = 0
let done = Atomics.load(ctl, SYNC_DONE)
Atomics.store(ctl, SYNC_UP, 1)
while (Atomics.load(ctl, SYNC_STOP) === 0) {
  const n = Atomics.load(ctl, SYNC_REQ)
  // A timed wait, so that a stopped shard's syncer sees STOP.
  if (n <= done) { Atomics.wait(ctl, SYNC_REQ, n, 1000); continue }
  if (exitAfter > 0 && syncs++ === exitAfter) process.exit(0)
  // FD changes only once nothing is asked (the shard settles before a rewrite switches files).
  const err = syncForShard(Atomics.load(ctl, SYNC_FD), n)
  if (err !== 0) Atomics.store(ctl, SYNC_ERR, err)
  done = n
  Atomics.store(ctl, SYNC_DONE, n)
  Atomics.notify(ctl, SYNC_DONE)
  // The shard's doorbell, as a producer rings it: an idle shard wakes to publish the replies.
  Atomics.add(bell, seq, 1)
  Atomics.notify(bell, seq, 1)
}
