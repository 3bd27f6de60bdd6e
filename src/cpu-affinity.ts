// server_cpulist (Redis 6.2+): the CPUs the server's threads may run on. Node has no
// sched_setaffinity, so util-linux's taskset sets the mask of every thread that exists at start
// (-a); threads started later (shards, I/O threads, libuv's pool) inherit their creator's mask.
// Why it matters: on short batches the primary blocks while its shard runs (reply-wait-us), so on
// a box whose other cores are busy (a local load generator, other services) the pair does best on
// one core, which the scheduler does not always give them; pipelined, they do better apart
// (README, "Where the kernel puts the shard").

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** The CPUs a task may run on, as the kernel lists them (Cpus_allowed_list of /proc/<task>/status). */
export function allowedCpulist (task = '/proc/self'): string {
  return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`${task}/status`, 'utf8'))?.[1] ?? ''
}

/** Redis's cpulist syntax (setcpuaffinity.c): "0,2", "4-7", "0-7:2" (every second CPU), combined with commas. */
export function parseCpulist (v: string): number[] {
  const cpus = new Set<number>()
  for (const part of v.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim())
    if (m === null) throw new Error(`'${part}' is not a CPU, a range a-b or a range with a stride a-b:s`)
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    const stride = m[3] === undefined ? 1 : Number(m[3])
    if (b < a || stride < 1 || b > 65535) throw new Error(`'${part}' is not a valid range`)
    for (let c = a; c <= b; c += stride) cpus.add(c)
  }
  return [...cpus].sort((x, y) => x - y)
}

/** Binds every thread of the process to the list; the failure's text, or null. */
export function applyCpulist (list: string, pid = process.pid): string | null {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', parseCpulist(list).join(','), String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
    return null
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer }
    if (e.code === 'ENOENT') return 'taskset (util-linux) is not installed'
    return (e.stderr?.toString().trim() ?? '') || e.message
  }
}
