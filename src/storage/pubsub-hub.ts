// The pub/sub hub: which channels, patterns and shard channels have subscribers, counted per
// producer (the primary, or each I/O thread). It lives on one shard (shard 0), so every PUBLISH
// and every (un)subscription is ordered in one place: a subscriber sees one publisher's messages
// in the order it published them, and PUBLISH counts exactly the subscriptions in place when it
// ran. The hub names the producers that have receivers; each producer fans the message out to
// its own connections (server/pubsub.ts), so a message crosses threads once per producer, not
// once per subscriber.

import { Buffer } from 'node:buffer'
import { stringMatch } from '../commands/glob.js'

export const PUBSUB_CHANNEL = 0
export const PUBSUB_PATTERN = 1
export const PUBSUB_SHARD = 2
/** MONITOR clients, as subscribers of one name; their messages are ready monitor lines. */
export const PUBSUB_MONITOR = 3

interface Entry { counts: Int32Array, total: number, bytes: Buffer }

export class PubSubHub {
  private readonly maps: Array<Map<string, Entry>> = [new Map(), new Map(), new Map(), new Map()]

  constructor (readonly producers: number) {}

  /** A producer's subscriptions to `name` changed by delta (+1 subscribe, -1 unsubscribe). */
  change (kind: number, producer: number, delta: number, name: Buffer): void {
    const map = this.maps[kind]
    const key = name.toString('latin1')
    let e = map.get(key)
    if (e === undefined) {
      if (delta < 0) return
      e = { counts: new Int32Array(this.producers), total: 0, bytes: name }
      map.set(key, e)
    }
    e.counts[producer] += delta
    e.total += delta
    if (e.total <= 0) map.delete(key)
  }

  /**
   * Receivers of a message on `channel` (PUBLISH's reply: one per channel subscription, one per
   * matching pattern subscription), and per producer whether it has any (to[p] = 1).
   */
  publish (kind: number, channel: Uint8Array, start: number, len: number, to: Uint8Array): number {
    to.fill(0)
    let receivers = 0
    const e = this.maps[kind].get(Buffer.from(channel.buffer, channel.byteOffset + start, len).toString('latin1'))
    if (e !== undefined) {
      receivers += e.total
      for (let p = 0; p < this.producers; p++) if (e.counts[p] > 0) to[p] = 1
    }
    if (kind === PUBSUB_CHANNEL) {
      for (const pe of this.maps[PUBSUB_PATTERN].values()) {
        if (!stringMatch(pe.bytes, 0, pe.bytes.length, channel, start, len, false)) continue
        receivers += pe.total
        for (let p = 0; p < this.producers; p++) if (pe.counts[p] > 0) to[p] = 1
      }
    }
    return receivers
  }

  /** Active channels (or shard channels) matching pattern (all when null). */
  channels (kind: number, pattern: Uint8Array | null): Buffer[] {
    const out: Buffer[] = []
    for (const e of this.maps[kind].values()) {
      if (pattern === null || stringMatch(pattern, 0, pattern.length, e.bytes, 0, e.bytes.length, false)) out.push(e.bytes)
    }
    return out
  }

  /** Subscribers of one channel (or shard channel). */
  numsub (kind: number, name: Uint8Array): number {
    return this.maps[kind].get(Buffer.from(name.buffer, name.byteOffset, name.length).toString('latin1'))?.total ?? 0
  }

  /** Patterns with at least one subscriber. */
  /** Channels (or patterns, or shard channels: `kind`) with at least one subscriber: PUBSUB NUMPAT, INFO stats. */
  count (kind: number): number { return this.maps[kind].size }
}
