// INFO persistence as a record, and waiting for a background save to end: shared by the RDB tests.
import type { Redis } from 'ioredis'

export async function persistence (c: Redis): Promise<Record<string, string>> {
  const info = await c.info('persistence')
  return Object.fromEntries(info.split('\r\n').filter(l => l.includes(':')).map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]))
}

/** Polls INFO until no background save runs; its fields then. */
export async function bgsaveDone (c: Redis): Promise<Record<string, string>> {
  for (;;) {
    const p = await persistence(c)
    if (p.rdb_bgsave_in_progress === '0') return p
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
