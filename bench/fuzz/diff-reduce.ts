// Shrinks a mismatch that `npm run fuzz:diff -- --trace` found to the fewest commands that still
// show it: replays the history written to /tmp (diff-fuzz-trace-<seed>-<index>.json) on a fresh
// redis-server and FlashKV, leaving out chunks of commands as long as the last command's replies
// still differ (delta debugging, ddmin), then prints what is left.
//
//   node dist/bench/fuzz/diff-reduce.js /tmp/diff-fuzz-trace-3-2542.json [--shards N] [--resp3] [--monitor]
//
// Before each replay both servers are brought back to where fuzz:diff starts: FLUSHALL, the
// encoding limits and the default user as they were, database 0, no users u1 and u2.
import { readFileSync } from 'node:fs'
import { start, stop, flashkvSpec, redisSpec } from '../servers.js'
import { Conn, Peer, canonSide, openSides, monitorLines } from './resp-conn.js'

const RESET = [
  ['FLUSHALL'], ['CONFIG', 'SET', 'list-max-listpack-size', '-2'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '128'],
  ['CONFIG', 'SET', 'hash-max-listpack-value', '64'], ['CONFIG', 'SET', 'zset-max-listpack-entries', '128'],
  ['CONFIG', 'SET', 'zset-max-listpack-value', '64'], ['CONFIG', 'SET', 'set-max-intset-entries', '512'], ['ACL', 'DELUSER', 'u1', 'u2'],
]

function argOf (name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}

async function main (): Promise<void> {
  const file = process.argv[2]
  if (file === undefined || file.startsWith('--')) throw new Error('usage: diff-reduce.js TRACE.json [--shards N] [--resp3]')
  const history = JSON.parse(readFileSync(file, 'utf8')) as string[][]
  const last = history[history.length - 1]
  const redis = await start(...redisSpec())
  const flashkv = await start(...flashkvSpec('flashkv', ['--shards', argOf('shards', '4')]))
  let replays = 0
  /** The replies to the last command after `body`, on a new connection to each server. */
  const replay = async (body: string[][]): Promise<[Buffer, Buffer]> => {
    replays++
    const [a, b] = await Promise.all([Conn.open(flashkv.port, 'flashkv'), Conn.open(redis.port, 'redis')])
    // The side connections of the pubsub and tracking families, as fuzz:diff opens them.
    let sides: Array<[string, Peer, Peer]> = []
    try {
      if (process.argv.includes('--resp3')) await Promise.all([a.send(['HELLO', '3']), b.send(['HELLO', '3'])])
      for (const c of RESET) await Promise.all([a.send(c), b.send(c)])
      let ids = ['', '']
      // --monitor: the mismatch was a MONITOR line ('@m').
      const withMonitor = process.argv.includes('--monitor')
      if (withMonitor || history.some(c => c[0][0] === '@')) ({ sides, s1Ids: ids } = await openSides(flashkv.port, redis.port, withMonitor))
      // As fuzz:diff does: the command on its connection, then a PING on each side connection.
      let round = 0
      const send = async (c: string[]): Promise<[Buffer, Buffer]> => {
        const main = sides.some(s => s[0] === c[0]) ? null : await Promise.all([a.send(c), b.send(c)])
        const out = main === null ? ['', ''] : main.map(x => x.toString('latin1'))
        round++
        for (const [name, fa, rb] of sides) {
          const args = (j: number): string[] | null => name === c[0] ? c.slice(1).map(v => v === '$S1' ? ids[j] : v) : null
          let [x, y] = await Promise.all([fa.exchange(args(0), `${name}${round}`), rb.exchange(args(1), `${name}${round}`)])
          if (name === '@m') [x, y] = await monitorLines(fa, x, y)
          out[0] += canonSide(x, ids[0])
          out[1] += canonSide(y, ids[1])
        }
        return [Buffer.from(out[0], 'latin1'), Buffer.from(out[1], 'latin1')]
      }
      for (const c of body) await send(c)
      return await send(last)
    } finally {
      a.close()
      b.close()
      for (const [, fa, rb] of sides) { fa.close(); rb.close() }
    }
  }
  const differs = async (body: string[][]): Promise<boolean> => {
    const [x, y] = await replay(body)
    return !x.equals(y)
  }
  try {
    let body = history.slice(0, -1)
    if (!(await differs(body))) {
      console.log('the replies agree on a replay: the mismatch needs something this replay does not redo (a clock, a random pick)')
      process.exitCode = 1
      return
    }
    // ddmin over the commands before the last one.
    let n = 2
    while (body.length > 0) {
      const chunk = Math.max(1, Math.floor(body.length / n))
      let isReduced = false
      for (let i = 0; i < body.length; i += chunk) {
        const rest = [...body.slice(0, i), ...body.slice(i + chunk)]
        if (await differs(rest)) { body = rest; n = Math.max(n - 1, 2); isReduced = true; break }
      }
      if (isReduced) continue
      if (chunk === 1) break
      n = Math.min(n * 2, body.length)
    }
    const short = (c: string[]): string => JSON.stringify(c.map(x => x.length > 24 ? `${x.slice(0, 3)}...(${x.length})` : x))
    for (const c of [...body, last]) console.log(short(c))
    const [x, y] = await replay(body)
    console.log(`flashkv: ${JSON.stringify(x.toString('latin1').slice(0, 300))}\nredis:   ${JSON.stringify(y.toString('latin1').slice(0, 300))}`)
    console.log(`${history.length} commands -> ${body.length + 1} in ${replays} replays`)
  } finally {
    await Promise.all([stop(redis), stop(flashkv)])
  }
}

void main()
