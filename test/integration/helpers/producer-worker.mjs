// A producer thread for multi-producer.test.ts: it owns one end of every shard (ShardLinks, as an
// I/O thread would) and races the other producers over two shards: even ids write with split
// MSETs, odd ids read with split MGETs. Each MGET's two halves must show the same writer's value:
// a torn read means two shards took two producers' multi-shard commands in different orders.
// Posts the number of torn reads.
import { workerData, parentPort } from 'node:worker_threads'
import { ShardLink } from '../../../dist/src/server/shard-link.js'
import { Credits } from '../../../dist/src/server/credits.js'
import { Sequencer } from '../../../dist/src/server/sequencer.js'
import { commandByName } from '../../../dist/src/commands/table.js'
import { REQ_NOPARK } from '../../../dist/src/ipc/layout.js'

const { id, endpoints, seq, rounds, perTurn, useTickets, keys, shardOf } = workerData
const credits = new Credits()
const links = endpoints.map((ep) => new ShardLink(ep, credits))
const sequencer = useTickets ? new Sequencer(links.length, seq) : null
const MSET = commandByName('mset').id
const MGET = commandByName('mget').id
const tickets = new Int32Array(2)
const shards = [shardOf[0], shardOf[1]]

function argvOf (args) {
  const bufs = args.map((a) => Buffer.from(a))
  const buf = Buffer.concat(bufs)
  const start = new Int32Array(bufs.length)
  const len = new Int32Array(bufs.length)
  let off = 0
  bufs.forEach((b, i) => { start[i] = off; len[i] = b.length; off += b.length })
  return { buf, argc: bufs.length, start, len }
}

function valueOf (src, start, len) {
  const s = Buffer.from(src.subarray(start, start + len)).toString('latin1')
  if (s === '*1\r\n$-1\r\n') return 'nil'
  const m = /^\*1\r\n\$\d+\r\n(.*)\r\n$/s.exec(s)
  return m === null ? `?${s}` : m[1]
}

let torn = 0
let answered = 0
let reads = 0

/** One MGET: collects the value from each shard, then compares. */
class Read {
  constructor () { this.vals = [null, null]; this.left = 2 }
  onReply (tag, src, start, len) {
    this.vals[tag] = valueOf(src, start, len)
    if (--this.left === 0) {
      if (this.vals[0] !== this.vals[1]) torn++
      answered++
    }
  }
}
const ignore = { onReply () { answered++ } }

/** Stages one command's two parts (one per shard) as a multi-shard command does. */
function stage (cmd, perShardArgs, target, isRead) {
  if (sequencer !== null) sequencer.take(shards, 2, tickets)
  for (let k = 0; k < 2; k++) {
    const argv = argvOf(perShardArgs[k])
    const link = links[shards[k]]
    const bytes = ShardLink.recordBytes(argv, null, argv.argc)
    if (!link.canTake(bytes)) throw new Error('ring full')
    link.send(cmd, REQ_NOPARK, 0, argv, null, argv.argc, bytes, isRead ? target : ignore, k, 0, sequencer === null ? 0 : tickets[k])
  }
}

let round = 0
let expected = 0
function turn () {
  for (let i = 0; i < perTurn && round < rounds; i++, round++) {
    if (id % 2 === 0) {
      const v = `${id}:${round}`
      stage(MSET, [['MSET', keys[0], v], ['MSET', keys[1], v]], null, false)
      expected += 2 // two MSET parts
    } else {
      stage(MGET, [['MGET', keys[0]], ['MGET', keys[1]]], new Read(), true)
      reads++
      expected += 1 // one completed MGET
    }
  }
  for (const l of links) l.publish()
  if (round < rounds) setImmediate(turn)
  else waitDone()
}
function waitDone () {
  if (answered >= expected) {
    parentPort.postMessage({ torn, reads })
    for (const l of links) l.close()
    return
  }
  setTimeout(waitDone, 5)
}
turn()
