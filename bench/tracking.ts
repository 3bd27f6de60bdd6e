// CLIENT TRACKING's cost (issue 17): CPU per GET of the whole server process (/proc utime +
// stime), for 4 RESP3 connections pipelining 16 GETs over 100,000 keys each, with tracking off
// and then on (every read remembered, as a client-side cache does), on Redis and on FlashKV
// (1 shard). A figure, not a pass/fail: the cost of the read path with no tracking client is
// measured by `npm run bench` (GET/SET -P 16), which this feature must leave unchanged.
// Run: npm run build && node dist/bench/tracking.js

import { connect, type Socket } from 'node:net'
import { readFileSync } from 'node:fs'
import { flashkvSpec, redisSpec, start, stop, type Spec } from './servers.js'

const CONNS = 4
const PIPE = 16
const PER_CONN = 100_000
const KEYS = 100_000

function cpuTicks (pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12])
}

/** Counts complete top-level replies and pushes in RESP3 bytes of simple shapes (bulk, null, +, >2 pushes). */
function countFrames (s: Socket, onFrame: (isPush: boolean) => void): void {
  let buf = ''
  s.on('data', d => {
    buf += d.toString('latin1')
    for (;;) {
      const nl = buf.indexOf('\r\n')
      if (nl < 0) return
      const t = buf[0]
      if (t === '$') {
        const n = Number(buf.slice(1, nl))
        if (buf.length < nl + 2 + n + 2) return
        buf = buf.slice(nl + 2 + n + 2)
        onFrame(false)
      } else if (t === '>') {
        // >2 $10 invalidate *1 $len key
        const m = /^>2\r\n\$10\r\ninvalidate\r\n\*1\r\n\$(\d+)\r\n/.exec(buf)
        if (m === null) return
        const end = m[0].length + Number(m[1]) + 2
        if (buf.length < end) return
        buf = buf.slice(end)
        onFrame(true)
      } else {
        buf = buf.slice(nl + 2)
        onFrame(false)
      }
    }
  })
}

async function client (port: number, tracking: boolean): Promise<Socket> {
  const s = connect(port, '127.0.0.1')
  await new Promise<void>(resolve => s.once('connect', () => resolve()))
  s.write('HELLO 3\r\n')
  await new Promise<void>(resolve => s.once('data', () => resolve()))
  if (tracking) {
    s.write('CLIENT TRACKING on\r\n')
    await new Promise<void>(resolve => s.once('data', () => resolve()))
  }
  return s
}

async function run (port: number, tracking: boolean): Promise<void> {
  const socks = await Promise.all(Array.from({ length: CONNS }, async () => await client(port, tracking)))
  await Promise.all(socks.map(async (s, c) => {
    await new Promise<void>(resolve => {
      let sent = 0
      let got = 0
      const batch = (): void => {
        let req = ''
        for (let i = 0; i < PIPE && sent < PER_CONN; i++, sent++) {
          const k = `key:${(sent * 7919 + c * 104729) % KEYS}`
          req += `*2\r\n$3\r\nGET\r\n$${k.length}\r\n${k}\r\n`
        }
        s.write(req)
      }
      countFrames(s, isPush => {
        if (isPush) return
        if (++got === PER_CONN) resolve()
        else if (got % PIPE === 0) batch()
      })
      batch()
    })
  }))
  for (const s of socks) s.destroy()
}

const specs: Spec[] = [redisSpec(), flashkvSpec('flashkv-1', ['--shards', '1'])]
for (const [name, cmd, argv] of specs) {
  const srv = await start(name, cmd, argv)
  // Values to read: SET key:0..KEYS-1 through one pipelined connection.
  const s = await client(srv.port, false)
  await new Promise<void>(resolve => {
    let got = 0
    countFrames(s, () => { if (++got === KEYS) resolve() })
    let req = ''
    for (let i = 0; i < KEYS; i++) req += `*3\r\n$3\r\nSET\r\n$${`key:${i}`.length}\r\nkey:${i}\r\n$3\r\nval\r\n`
    s.write(req)
  })
  s.destroy()
  for (const tracking of [false, true, false, true]) {
    const t0 = cpuTicks(srv.pid)
    await run(srv.port, tracking)
    const us = (cpuTicks(srv.pid) - t0) * 10_000 / (CONNS * PER_CONN)
    console.log(`${name} GET -P ${PIPE} x${CONNS}, tracking ${tracking ? 'on ' : 'off'}: ${us.toFixed(2)} µs CPU per GET`)
  }
  await stop(srv)
}
