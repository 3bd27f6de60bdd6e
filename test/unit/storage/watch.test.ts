// WatchTable.isExpired: the shard's own check that a watched key has expired since WATCH (Redis
// 7.0's isWatchedKeyExpired), used when an EXEC reaches the shard before its WATCH's reply
// reached the client's thread (one shard, pipelined WATCH ... EXEC). A fake clock drives it.
import { beforeEach, describe, expect, it } from 'vitest'
import { Shard } from '../../../src/storage/shard.js'
import { run } from '../helpers/run.js'

const T0 = 1_700_000_000_000
let now = T0
let shard: Shard

beforeEach(() => {
  now = T0
  shard = new Shard()
  shard.clock = () => now
})

const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const TAG = 7

function watch (key: string, tag = TAG): number {
  const k = b(key)
  return shard.watch.watch(shard.dbIndex, shard.ks, k, 0, k.length, 1, tag, now)
}

describe('WatchTable.isExpired', () => {
  it('a watched key with a TTL: not expired until its time has passed, then expired while it is still stored', () => {
    run(shard, ['SET', 'k', 'v', 'PX', '100'])
    expect(watch('k')).toBe(T0 + 100)
    now += 100
    expect(shard.watch.isExpired(TAG, shard.dbs, now)).toBe(false) // at its time it still exists
    now += 1
    expect(shard.watch.isExpired(TAG, shard.dbs, now)).toBe(true)
    // Another session watching nothing here sees nothing.
    expect(shard.watch.isExpired(TAG + 1, shard.dbs, now)).toBe(false)
  })

  it('a key without a TTL, or a missing one, never counts as expired', () => {
    run(shard, ['SET', 'p', 'v'])
    watch('p')
    watch('missing')
    now += 1e9
    expect(shard.watch.isExpired(TAG, shard.dbs, now)).toBe(false)
  })

  it('a key already expired when watched (stale) is skipped, as Redis skips wk->expired', () => {
    run(shard, ['SET', 'old', 'v', 'PX', '10'])
    now += 20
    expect(watch('old')).toBe(0)
    expect(shard.watch.isExpired(TAG, shard.dbs, now)).toBe(false)
  })

  it('keys of other databases are checked in their own database', () => {
    shard.select(3)
    run(shard, ['SET', 'd3', 'v', 'PX', '50'])
    watch('d3')
    shard.select(0)
    now += 51
    expect(shard.watch.isExpired(TAG, shard.dbs, now)).toBe(true)
  })

  it('after the session ends, nothing of it is checked', () => {
    run(shard, ['SET', 'k', 'v', 'PX', '10'])
    watch('k')
    shard.watch.unwatch(TAG)
    now += 11
    expect(shard.watch.isExpired(TAG, shard.dbs, now)).toBe(false)
  })
})

// The slot's word holds the tag of the last session touched; a later session of the same client
// may overwrite it (from another shard) before an earlier session's EXEC is decided across shards.
// Touches come from the worker's write hook (WatchTable.touch), called here directly.
describe('WatchTable.isTouched', () => {
  const touch = (key: string): void => { const k = b(key); shard.watch.touch(shard.dbIndex, k, 0, k.length, shard.ks) }

  it('remembers a touch of the session on this shard whatever the slot word holds later', () => {
    run(shard, ['SET', 'k', 'v'])
    watch('k')
    watch('other', TAG + 1)
    expect(shard.watch.isTouched(TAG)).toBe(false)
    touch('unwatched')
    expect(shard.watch.isTouched(TAG)).toBe(false)
    touch('k')
    expect(Atomics.load(shard.watch.words, 1)).toBe(TAG)
    // The client's next session is touched elsewhere: the word now names that one.
    Atomics.store(shard.watch.words, 1, TAG + 1)
    expect(shard.watch.isTouched(TAG)).toBe(true)
    expect(shard.watch.isTouched(TAG + 1)).toBe(false)
    shard.watch.unwatch(TAG)
    expect(shard.watch.isTouched(TAG)).toBe(false)
  })

  it('FLUSHDB of the key\'s database touches; a touch held back during a script counts once stored', () => {
    run(shard, ['SET', 'k', 'v'])
    watch('k')
    shard.watch.replaced(shard.dbIndex, shard.ks, null, now)
    expect(shard.watch.isTouched(TAG)).toBe(true)
    watch('h', TAG + 2)
    shard.watch.held = []
    touch('h')
    expect(shard.watch.isTouched(TAG + 2)).toBe(false)
    shard.watch.held = null
    shard.watch.storeHeld(1, TAG + 2)
    expect(Atomics.load(shard.watch.words, 1)).toBe(TAG + 2)
    expect(shard.watch.isTouched(TAG + 2)).toBe(true)
  })
})
