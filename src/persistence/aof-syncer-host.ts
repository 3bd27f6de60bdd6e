// The main thread's side of the AOF syncer (workers/aof-syncer.ts): it starts the thread when the
// first shard asks for it (appendfsync always), with every shard's doorbell, and when the thread
// exits, tells the shards, which then sync in its place (aof.ts awaitSyncer). The main thread,
// whose event loop turns, is the one that hears of the exit: a shard's loop does not turn.

import { Worker } from 'node:worker_threads'
import { saveSab, saveWords } from './save-state.js'
import { SY_UP, SY_STOP, SY_KICK, SY_SPAWN, SLOT_DONE, slotOf } from './aof-syncer-words.js'
import { SEQ } from '../ipc/ring.js'

const SYNCER_FILE = new URL('../../workers/aof-syncer.js', import.meta.url)
/** Each shard's doorbell, by index (a replacement shard keeps its predecessor's). */
const bells: SharedArrayBuffer[] = []
let syncer: Worker | null = null

export function registerShardBell (index: number, bell: SharedArrayBuffer): void { bells[index] = bell }

/** Starts the syncer (once); `onExit` hears of an exit the server did not ask for. */
export function startAofSyncer (onExit: (code: number) => void): void {
  if (syncer !== null) return
  const w = new Worker(SYNCER_FILE, { workerData: { save: saveSab(), bells: bells.slice() }, name: 'aof-syncer' })
  // It never holds the process up.
  w.unref()
  syncer = w
  w.once('exit', code => {
    const ctl = saveWords().sync
    Atomics.store(ctl, SY_UP, 0)
    // Shards waiting for it stop waiting, and idle ones wake, to sync what they asked themselves.
    for (let i = 0; i < bells.length; i++) {
      Atomics.notify(ctl, slotOf(i) + SLOT_DONE)
      const bell = new Int32Array(bells[i])
      Atomics.add(bell, SEQ, 1)
      Atomics.notify(bell, SEQ, 1)
    }
    if (Atomics.load(ctl, SY_STOP) === 0) { onExit(code); return }
    // Stopped with its server: a later server in this process may start one again.
    syncer = null
    Atomics.store(ctl, SY_STOP, 0)
    Atomics.store(ctl, SY_SPAWN, 0)
  })
}

/** Ends the syncer (the server stops, after its shards). */
export function stopAofSyncer (): void {
  const ctl = saveWords().sync
  Atomics.store(ctl, SY_STOP, 1)
  Atomics.notify(ctl, SY_KICK)
}
