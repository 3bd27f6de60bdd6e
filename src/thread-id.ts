// The calling thread's Linux thread id, for per-thread CPU accounting from /proc (every thread
// of the process is named "node", so INFO names them by id). -1 where /proc is not there.
import { readlinkSync } from 'node:fs'

let cached = 0

export function threadTid (): number {
  if (cached === 0) {
    try {
      cached = Number(readlinkSync('/proc/thread-self').split('/').pop())
      if (!Number.isInteger(cached) || cached <= 0) cached = -1
    } catch {
      cached = -1
    }
  }
  return cached
}
