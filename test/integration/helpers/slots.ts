// Key → hash slot → shard, reimplemented for tests (Redis Cluster's keyHashSlot: CRC16/XMODEM of
// the key, or of its first non-empty {tag}, mod 16384; shard = slot * N >>> 14), independently
// of src/storage/hash.ts so that a test also checks the server's mapping.

function crc16 (buf: Buffer): number {
  let crc = 0
  for (const byte of buf) {
    crc ^= byte << 8
    for (let i = 0; i < 8; i++) crc = (crc & 0x8000) !== 0 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

export function keySlot (key: string | Buffer): number {
  const buf = typeof key === 'string' ? Buffer.from(key) : key
  const open = buf.indexOf(0x7b) // '{'
  if (open >= 0) {
    const close = buf.indexOf(0x7d, open + 1) // '}'
    if (close > open + 1) return crc16(buf.subarray(open + 1, close)) & 16383
  }
  return crc16(buf) & 16383
}

export function shardOfKey (key: string | Buffer, shards: number): number {
  return (keySlot(key) * shards) >>> 14
}

/** The first `count` keys `${prefix}0`, `${prefix}1`, … that live on `shard`. */
export function keysOnShard (shard: number, shards: number, count: number, prefix = 'key:'): string[] {
  const keys: string[] = []
  for (let i = 0; keys.length < count; i++) {
    const k = `${prefix}${i}`
    if (shardOfKey(k, shards) === shard) keys.push(k)
  }
  return keys
}
