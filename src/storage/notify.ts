// Keyspace notifications (Redis's notify.c): the event classes of notify-keyspace-events, with
// Redis's bit values, and the flag letters CONFIG reads and prints. A shard records the events
// of the command it runs (Shard.notify); the worker sends them to the hub, which publishes them
// on __keyspace@<db>__:<key> and __keyevent@<db>__:<event> (server/pubsub.ts).
import { Buffer } from 'node:buffer'


export const NOTIFY_KEYSPACE = 1 // K
export const NOTIFY_KEYEVENT = 2 // E
export const NOTIFY_GENERIC = 4 // g
export const NOTIFY_STRING = 8 // $
export const NOTIFY_LIST = 16 // l
export const NOTIFY_SET = 32 // s
export const NOTIFY_HASH = 64 // h
export const NOTIFY_ZSET = 128 // z
export const NOTIFY_EXPIRED = 256 // x
export const NOTIFY_EVICTED = 512 // e
export const NOTIFY_STREAM = 1024 // t
export const NOTIFY_KEY_MISS = 2048 // m
export const NOTIFY_LOADED = 4096 // module only
export const NOTIFY_MODULE = 8192 // d
export const NOTIFY_NEW = 16384 // n
/** A: every class but m and n. */
export const NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET |
  NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE

const LETTERS: Record<string, number> = {
  A: NOTIFY_ALL, g: NOTIFY_GENERIC, $: NOTIFY_STRING, l: NOTIFY_LIST, s: NOTIFY_SET, h: NOTIFY_HASH,
  z: NOTIFY_ZSET, x: NOTIFY_EXPIRED, e: NOTIFY_EVICTED, K: NOTIFY_KEYSPACE, E: NOTIFY_KEYEVENT,
  t: NOTIFY_STREAM, m: NOTIFY_KEY_MISS, d: NOTIFY_MODULE, n: NOTIFY_NEW,
}

/** keyspaceEventsStringToFlags: null on an unknown letter. */
export function parseNotifyFlags (s: string): number | null {
  let flags = 0
  for (const ch of s) {
    const f = LETTERS[ch]
    if (f === undefined) return null
    flags |= f
  }
  return flags
}

/** keyspaceEventsFlagsToString. */
export function notifyFlagsToString (flags: number): string {
  let s = ''
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) s += 'A'
  else {
    if ((flags & NOTIFY_GENERIC) !== 0) s += 'g'
    if ((flags & NOTIFY_STRING) !== 0) s += '$'
    if ((flags & NOTIFY_LIST) !== 0) s += 'l'
    if ((flags & NOTIFY_SET) !== 0) s += 's'
    if ((flags & NOTIFY_HASH) !== 0) s += 'h'
    if ((flags & NOTIFY_ZSET) !== 0) s += 'z'
    if ((flags & NOTIFY_EXPIRED) !== 0) s += 'x'
    if ((flags & NOTIFY_EVICTED) !== 0) s += 'e'
    if ((flags & NOTIFY_STREAM) !== 0) s += 't'
    if ((flags & NOTIFY_MODULE) !== 0) s += 'd'
    if ((flags & NOTIFY_NEW) !== 0) s += 'n'
  }
  if ((flags & NOTIFY_KEYSPACE) !== 0) s += 'K'
  if ((flags & NOTIFY_KEYEVENT) !== 0) s += 'E'
  if ((flags & NOTIFY_KEY_MISS) !== 0) s += 'm'
  return s
}

/** Event names as bytes, made once. */
const names = new Map<string, Buffer>()
export function eventName (name: string): Buffer {
  let b = names.get(name)
  if (b === undefined) { b = Buffer.from(name, 'latin1'); names.set(name, b) }
  return b
}
