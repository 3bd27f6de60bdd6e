// I/O thread entry (--io-threads N > 1): one FlashServer over this thread's end of every shard,
// with its own listener, clients and cron (src/server/io-threads.ts starts it). It tells the main
// thread where it listens, then serves until told to stop.

import { workerData } from 'node:worker_threads'
import { FlashServer, type IoThreadData, type ControlMessage } from '../src/server/server.js'
import { createLogger, followLogLevel } from '../src/log.js'
import { ListenError } from '../src/server/listeners.js'
import { ConfigError } from '../src/config.js'

const data = workerData as IoThreadData
const log = createLogger(data.config.logLevel, data.config.logfile).child({ io: data.index })
followLogLevel(log)
const server = new FlashServer(data.config, log, data)
server.start().then(() => {
  data.control.postMessage({ op: 'listening', port: server.port, fds: server.listenFds, unixFd: server.unixFd, tid: 0 } satisfies ControlMessage)
}, err => {
  // The main thread exits as it would itself (main.ts): status 2 and the message for a config error.
  if (err instanceof ConfigError) data.control.postMessage({ op: 'configError', message: err.message } satisfies ControlMessage)
  log.fatal({ err }, err instanceof ListenError ? err.message : 'I/O thread failed to start')
  process.exit(1)
})
