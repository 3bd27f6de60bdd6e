// The floor for any Node.js server on this machine: a bare `net` server that parses nothing and
// stores nothing. It counts newlines and answers one +PONG per three (a PING_MBULK request is
// "*1\r\n$4\r\nPING\r\n"), writing at once from the 'data' handler. bench/run.ts measures it
// next to Redis and FlashKV on PING_MBULK only, so the cost of Node's event loop and sockets
// is visible apart from FlashKV's own.

import { createServer } from 'node:net'

const i = process.argv.indexOf('--port')
const port = i >= 0 ? Number(process.argv[i + 1]) : 6390
const PONG = Buffer.from('+PONG\r\n')
const PONGS = Buffer.alloc(PONG.length * 1024)
for (let k = 0; k < 1024; k++) PONG.copy(PONGS, k * PONG.length)

createServer({ noDelay: true }, socket => {
  let lines = 0
  socket.on('data', chunk => {
    for (let k = 0; k < chunk.length; k++) if (chunk[k] === 10) lines++
    let n = Math.floor(lines / 3)
    lines -= n * 3
    while (n > 0) {
      const m = Math.min(n, 1024)
      socket.write(m === 1 ? PONG : PONGS.subarray(0, m * PONG.length))
      n -= m
    }
  })
  socket.on('error', () => {})
}).listen(port, '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
