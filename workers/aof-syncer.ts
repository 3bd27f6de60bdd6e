// appendfsync always, off the shards' threads: one syncer thread for the whole server. A shard
// writes a batch's effects, asks this thread for the sync (its slot in SaveWords.sync) and goes
// on with its next batch; the batch's replies stay staged in their rings until the sync is done
// (shard-worker.ts, "deferred replies"). So the shards and the primary read, run and write the
// next batch while the disk syncs the last one, where a sync on the shard's own thread stopped
// both for it (0.4-0.7 ms on this box's disk, per batch).
//
// One thread, not one per shard: every shard appends to the same file, so one fdatasync covers
// what all of them asked (a scan of the slots finds them; syncUpTo tells the later ones they are
// covered), and a thread is about 10 MB of RSS. Syncs go through aof.ts syncUpTo, so a shard that
// syncs in place shares them too.

import { workerData } from 'node:worker_threads'
import { syncForShard } from '../src/persistence/aof.js'
import { saveWords } from '../src/persistence/save-state.js'
import { SY_UP, SY_STOP, SY_KICK, SLOT_REQ, SLOT_FD, SLOT_DONE, SLOT_ERR, slotOf } from '../src/persistence/aof-syncer-words.js'
import { SEQ } from '../src/ipc/ring.js'

const { bells: bellSabs } = workerData as { bells: SharedArrayBuffer[] }
const bells = bellSabs.map(b => new Int32Array(b))
const ctl = saveWords().sync
// Fault injection for tests: asked for its (n+1)th sync, the thread ends
// (FLASHKV_FAULT_SYNCER_EXIT=<n>), or stops answering (FLASHKV_FAULT_SYNCER_HANG=<n>); the shards
// then sync in its place (aof.ts awaitSyncer).
const exitAfter = Number(process.env.FLASHKV_FAULT_SYNCER_EXIT ?? '0')
const hangAfter = Number(process.env.FLASHKV_FAULT_SYNCER_HANG ?? '0')
let syncs = 0
Atomics.store(ctl, SY_UP, 1)
while (Atomics.load(ctl, SY_STOP) === 0) {
  // KICK read before the scan: a shard that asks after the scan has bumped it, so the wait returns.
  const kick = Atomics.load(ctl, SY_KICK)
  let any = false
  for (let i = 0; i < bells.length; i++) {
    const at = slotOf(i)
    const n = Atomics.load(ctl, at + SLOT_REQ)
    if (n <= Atomics.load(ctl, at + SLOT_DONE)) continue
    any = true
    if (exitAfter > 0 && syncs === exitAfter) process.exit(0)
    if (hangAfter > 0 && syncs === hangAfter) while (Atomics.load(ctl, SY_STOP) === 0) Atomics.wait(ctl, SY_STOP, 0, 1000)
    syncs++
    // FD changes only once nothing is asked (the shard settles before a rewrite switches files).
    const err = syncForShard(Atomics.load(ctl, at + SLOT_FD), n)
    if (err !== 0) Atomics.store(ctl, at + SLOT_ERR, err)
    Atomics.store(ctl, at + SLOT_DONE, n)
    Atomics.notify(ctl, at + SLOT_DONE)
    // The shard's doorbell, as a producer rings it: an idle shard wakes to publish the replies.
    Atomics.add(bells[i], SEQ, 1)
    Atomics.notify(bells[i], SEQ, 1)
  }
  // A timed wait, so that STOP is seen.
  if (!any) Atomics.wait(ctl, SY_KICK, kick, 1000)
}
