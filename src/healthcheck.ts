// The container's HEALTHCHECK (Dockerfile): PING over plain TCP with Node itself, since the image
// has no redis-cli, curl or nc. It follows the same variables as the server: FLASHKV_PORT, and
// FLASHKV_REQUIREPASS (AUTH first, or a server with a password would look unhealthy).
// Exit 0 on +PONG, 1 otherwise.

import { Buffer } from 'node:buffer'
import { connect } from 'node:net'

const port = Number(process.env.FLASHKV_PORT ?? '6379') || 6379
const pass = process.env.FLASHKV_REQUIREPASS ?? ''
const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`
const request = (pass !== '' ? `*2\r\n${bulk('AUTH')}${bulk(pass)}` : '') + '*1\r\n$4\r\nPING\r\n'
const replies = pass !== '' ? 2 : 1

const s = connect(port, '127.0.0.1')
const fail = (): never => process.exit(1)
s.setTimeout(2000, fail)
s.on('error', fail)
let got = ''
s.on('data', d => {
  got += d.toString('latin1')
  const lines = got.split('\r\n')
  if (lines.length <= replies) return
  process.exit(lines[replies - 1] === '+PONG' && (replies === 1 || lines[0] === '+OK') ? 0 : 1)
})
s.write(request)
