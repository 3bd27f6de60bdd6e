// What the container lets this process use: the CPU quota and memory limit of its cgroup,
// v1 or v2 (/proc/self/cgroup says where the cgroup lives; /sys/fs/cgroup holds the limits).
// Every function takes the filesystem root so tests can point it at a fake tree.

import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'

function read (path: string): string | null {
  try { return readFileSync(path, 'utf8').trim() } catch { return null }
}

interface CgroupLine { controllers: string[], path: string }

function cgroupLines (root: string): CgroupLine[] {
  const text = read(join(root, 'proc/self/cgroup'))
  if (text === null) return []
  return text.split('\n').map(l => {
    const parts = l.split(':')
    return { controllers: (parts[1] ?? '').split(',').filter(c => c !== ''), path: parts.slice(2).join(':') }
  })
}

/** Candidate directories for a controller: v1 mount (own cgroup path, then its root), or v2. */
function dirs (root: string, controller: string): Array<{ dir: string, v2: boolean }> {
  const lines = cgroupLines(root)
  const out: Array<{ dir: string, v2: boolean }> = []
  const v1 = lines.find(l => l.controllers.includes(controller))
  if (v1 !== undefined) {
    for (const mount of [controller, 'cpu,cpuacct', 'cpuacct,cpu']) {
      if (mount !== controller && controller !== 'cpu') continue
      out.push({ dir: join(root, 'sys/fs/cgroup', mount, v1.path), v2: false })
      out.push({ dir: join(root, 'sys/fs/cgroup', mount), v2: false })
    }
  }
  const v2 = lines.find(l => l.controllers.length === 0)
  if (v2 !== undefined) {
    out.push({ dir: join(root, 'sys/fs/cgroup', v2.path), v2: true })
    out.push({ dir: join(root, 'sys/fs/cgroup'), v2: true })
  }
  return out
}

/** CPUs allowed by the cgroup quota (e.g. 1.5), or null when unlimited or unknown. */
export function cgroupCpuLimit (root = '/'): number | null {
  for (const { dir, v2 } of dirs(root, 'cpu')) {
    if (v2) {
      const max = read(join(dir, 'cpu.max'))
      if (max === null) continue
      const [quota, period] = max.split(/\s+/)
      if (quota === 'max') return null
      const q = Number(quota)
      const p = Number(period ?? 100000)
      return q > 0 && p > 0 ? q / p : null
    }
    const quota = read(join(dir, 'cpu.cfs_quota_us'))
    const period = read(join(dir, 'cpu.cfs_period_us'))
    if (quota === null || period === null) continue
    const q = Number(quota)
    const p = Number(period)
    return q > 0 && p > 0 ? q / p : null
  }
  return null
}

/** Memory limit in bytes, or null when none is enforced (v1 reports "unlimited" as ~2^63). */
export function cgroupMemoryLimit (root = '/'): number | null {
  for (const { dir, v2 } of dirs(root, 'memory')) {
    const text = read(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'))
    if (text === null) continue
    if (text === 'max') return null
    const n = Number(text)
    if (!Number.isFinite(n) || n <= 0 || n >= 2 ** 60) return null
    return n
  }
  return null
}

/** CPUs this process may run on (affinity), before any quota. */
export function usableCpus (): number {
  return availableParallelism()
}
