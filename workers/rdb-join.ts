// The BGSAVE joiner's thread (src/persistence/bgsave.ts): writes one RDB file from the shards'
// parts, off every thread that serves clients, and says whether it worked.

import { parentPort, workerData } from 'node:worker_threads'
import { joinRdb, type JoinJob } from '../src/persistence/bgsave.js'

try {
  joinRdb(workerData as JoinJob)
  parentPort?.postMessage({ ok: true })
} catch (err) {
  parentPort?.postMessage({ ok: false, err: (err as Error).message })
}
