// Micro-benchmarks of the hot pieces: request reader, command lookup, hash slot, shard hash
// table, reply writer and byte copies. Reports ops/s and bytes allocated per op (heapUsed growth over a
// batch small enough to finish between young-generation collections, after gc()).
// Run: npm run bench:micro   (node --expose-gc dist/bench/micro/run.js)

import { RespReader, COMMAND } from '../../src/protocol/resp-reader.js'
import { lookupCommand } from '../../src/commands/table.js'
import { keyHashSlot, keyHash } from '../../src/storage/hash.js'
import { Keyspace, TYPE_STRING } from '../../src/storage/keyspace.js'
import { ReplyWriter } from '../../src/protocol/resp-writer.js'
import { copyBytes } from '../../src/bytes.js'

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

function bench (name: string, batch: number, batches: number, fn: (i: number) => void): void {
  for (let i = 0; i < batch; i++) fn(i) // warm-up
  let allocated = 0
  let elapsed = 0
  for (let b = 0; b < batches; b++) {
    gc()
    const h0 = process.memoryUsage().heapUsed
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) fn(b * batch + i)
    const t1 = process.hrtime.bigint()
    allocated += Math.max(0, process.memoryUsage().heapUsed - h0)
    elapsed += Number(t1 - t0)
  }
  const ops = batch * batches
  console.log(`${name.padEnd(36)} ${Math.round(ops / (elapsed / 1e9)).toLocaleString('en').padStart(14)} ops/s ${(allocated / ops).toFixed(2).padStart(8)} B/op`)
}

// Request reader: 64 pipelined SETs per buffer, parsed command by command.
const one = '*3\r\n$3\r\nSET\r\n$13\r\nkey:000012345\r\n$3\r\nxyz\r\n'
const stream = Buffer.from(one.repeat(64))
const reader = new RespReader()
bench('resp-reader: parse SET', 64 * 100, 20, (i) => {
  const pos = (i & 63) * one.length
  if (reader.parse(stream, pos, stream.length) !== COMMAND) throw new Error('parse failed')
})

const names = ['GET', 'set', 'MSET', 'ping', 'Del', 'ttl'].map(n => Buffer.from(n))
bench('lookupCommand (mixed case)', 100_000, 20, (i) => {
  const n = names[i % names.length]
  if (lookupCommand(n, 0, n.length) === undefined) throw new Error('lookup failed')
})

const keys = Array.from({ length: 1024 }, (_, i) => Buffer.from(`key:${String(i * 7919).padStart(9, '0')}`))
bench('keyHashSlot (13-byte key)', 100_000, 20, (i) => { keyHashSlot(keys[i & 1023], 0, 13) })

const ks = new Keyspace()
const many = Array.from({ length: 100_000 }, (_, i) => Buffer.from(`key:${String(i).padStart(9, '0')}`))
bench('keyspace insert (100k keys)', 100_000, 1, (i) => {
  const k = many[i % many.length]
  const h = keyHash(k, 0, k.length)
  if (ks.find(k, 0, k.length, h) === 0) ks.insert(k, 0, k.length, h, TYPE_STRING, 16)
})
bench('keyspace find (hit)', 100_000, 20, (i) => {
  const k = many[i % many.length]
  if (ks.find(k, 0, k.length, keyHash(k, 0, k.length)) === 0) throw new Error('miss')
})

const out = new ReplyWriter()
const value = Buffer.from('0123456789abcdef')
bench('reply writer: bulk 16 B', 100_000, 20, (i) => {
  if ((i & 1023) === 0) out.reset()
  out.bulk(value, 0, 16)
})

// copy: 1 KB between plain memory and a SharedArrayBuffer at addresses that differ mod 8 (a
// value's place in a read buffer, a ring and an arena rarely agree). V8's own typed-array copy
// against copyBytes, which bounces such copies through plain memory (src/bytes.ts).
const shared = new Uint8Array(new SharedArrayBuffer(1 << 20))
const plain = new Uint8Array(1 << 20)
const at = (i: number): number => (i * 2048) & ((1 << 19) - 1)
bench('copy 1 KB plain→shared, V8 set', 100_000, 10, (i) => { shared.set(plain.subarray(at(i) + 3, at(i) + 1027), at(i)) })
bench('copy 1 KB plain→shared, copyBytes', 100_000, 10, (i) => { copyBytes(plain, at(i) + 3, 1024, shared, at(i)) })
bench('copy 1 KB shared→plain, V8 set', 100_000, 10, (i) => { plain.set(shared.subarray(at(i) + 3, at(i) + 1027), at(i)) })
bench('copy 1 KB shared→plain, copyBytes', 100_000, 10, (i) => { copyBytes(shared, at(i) + 3, 1024, plain, at(i)) })
