// Key → hash slot → shard. The only code that decides which shard owns a key; the primary and
// the workers both import it. Slots are Redis Cluster's: CRC16/XMODEM of the key, or of the
// first non-empty {tag} in it, mod 16384 (keyHashSlot in cluster.c), so keys sharing a tag
// always share a shard.

export const SLOTS = 16384

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let j = 0; j < 8; j++) crc = (crc & 0x8000) !== 0 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    t[i] = crc
  }
  return t
})()

export function crc16 (buf: Uint8Array, start: number, len: number): number {
  let crc = 0
  const end = start + len
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >>> 8) ^ buf[i]) & 0xff]
  return crc
}

export function keyHashSlot (buf: Uint8Array, start: number, len: number): number {
  const end = start + len
  let open = start
  for (; open < end; open++) if (buf[open] === 0x7b) break // '{'
  if (open < end) {
    let close = open + 1
    for (; close < end; close++) if (buf[close] === 0x7d) break // '}'
    // "{}" or no '}' at all: hash the whole key, as Redis does.
    if (close < end && close !== open + 1) return crc16(buf, open + 1, close - open - 1) & (SLOTS - 1)
  }
  return crc16(buf, start, len) & (SLOTS - 1)
}

/** Contiguous slot ranges per shard, like a cluster's slot assignment. */
export function shardOfSlot (slot: number, shards: number): number {
  return (slot * shards) >>> 14
}

export function shardOfKey (buf: Uint8Array, start: number, len: number, shards: number): number {
  return shards === 1 ? 0 : shardOfSlot(keyHashSlot(buf, start, len), shards)
}

/** 32-bit FNV-1a of the key bytes: the index hash inside a shard (independent of the slot). */
export function keyHash (buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5
  const end = start + len
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193)
  // Final avalanche so that low bits (used for buckets) depend on every byte.
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  h ^= h >>> 12
  return h >>> 0
}
