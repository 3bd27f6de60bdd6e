// BullMQ 6 against FlashKV (1 and 4 shards), with its default ioredis connection (maxRetriesPerRequest
// null, as BullMQ asks of a Worker's connection). BullMQ is all Lua scripts (moveToActive,
// moveToFinished, addStandardJob, ...) over keys that share the queue's prefix but not a hash
// tag, so nearly every script touches keys on several shards; it blocks in BZPOPMIN on the
// queue's marker key, and QueueEvents reads the events stream with XREAD BLOCK.
//
// One queue takes 2,000 jobs at concurrency 8: some fail once and succeed on retry (fixed and
// exponential backoff), some fail every attempt, some are delayed, some prioritized, some report
// progress, and a flow's parent waits for its two children. Every job must complete exactly once
// (completions counted per job id), and QueueEvents, reading the events stream from its start,
// must see each event as often as the work done implies. Other queues take a job scheduler
// (repeat every 100 ms; it must fire at least twice) and a Worker with a rate limiter. With
// REDIS_URL set the same tests run against a real Redis. Nothing asserts elapsed time.
import { FlowProducer, Queue, QueueEvents, Worker, type Job } from 'bullmq'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connectIoredis } from './helpers/client-libs.js'
import { useFlushedFlashKV, type ServerHandle } from './helpers/server.js'

let server: ServerHandle
/** The queues' key prefix: BullMQ's default, or one hash tag for all of a queue's keys (as on a Redis Cluster). */
let prefix = 'bull'

const connection = (): { host: string, port: number, maxRetriesPerRequest: null } =>
  ({ host: server.host, port: server.port, maxRetriesPerRequest: null })

/** Everything a test opened, closed after it whatever happened. */
let opened: Array<{ close: () => Promise<unknown> }> = []
function track<T extends { close: () => Promise<unknown> }> (x: T): T {
  opened.push(x)
  return x
}
afterEach(async () => {
  await Promise.all(opened.reverse().map(async x => await x.close().catch(() => {})))
  opened = []
})

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Polls until cond() holds; throws with `what` (and the state it saw) if it does not within 45 s. */
async function until (what: string, cond: () => boolean | Promise<boolean>, state: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + 45_000
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state())}`)
    await sleep(20)
  }
}

const EVENTS = ['added', 'waiting', 'active', 'progress', 'completed', 'failed', 'delayed', 'retries-exhausted'] as const

/** QueueEvents reading the events stream from its first entry, so no event is missed by starting late. */
function countEvents (name: string): { qe: QueueEvents, seen: Record<string, number> } {
  const qe = track(new QueueEvents(name, { connection: connection(), prefix, lastEventId: '0-0' }))
  const seen: Record<string, number> = Object.fromEntries(EVENTS.map(e => [e, 0]))
  for (const e of EVENTS) qe.on(e, () => { seen[e]++ })
  return { qe, seen }
}

interface JobData { i: number, failOnce?: boolean, failAlways?: boolean, progress?: boolean }

// At one shard BullMQ's scripts run inside the shard worker (scripting/in-shard.ts). At four,
// with the default prefix they hold every shard; with a hash-tagged prefix every key of a queue
// is on one shard, so they are sent to that shard's worker (undeclared keys there too), where
// they stop at their first write to a value too big to keep for an undo (the events stream, the
// queue's lists: scripting/undo.ts) and run held.
for (const [shards, tag] of [[1, 'bull'], [4, 'bull'], [4, '{bull}']] as const) {
describe(`${shards} shard${shards === 1 ? '' : 's'}, prefix ${tag}`, () => {
  useFlushedFlashKV({ shards }, s => { server = s })
  beforeAll(() => { prefix = tag })

  it('2,000 jobs with retries, backoff, delays, priorities and a flow: each completes once, every event arrives', { timeout: 120_000 }, async () => {
    const N = 2000
    const name = 'main'
    // Events kept in the stream: more than this test emits, so QueueEvents reading from 0 sees them all.
    const queue = track(new Queue<JobData>(name, { connection: connection(), prefix, streams: { events: { maxLen: 100_000 } } }))
    const { seen } = countEvents(name)

    const completions = new Map<string, number>()
    const completedOrder: string[] = []
    let processorCalls = 0
    let workerFailed = 0
    const workerErrors: string[] = []
    let childrenSeenByParent = -1
    const worker = track(new Worker<JobData>(name, async (job: Job<JobData>) => {
      processorCalls++
      if (job.name === 'parent') {
        childrenSeenByParent = Object.keys(await job.getChildrenValues()).length
        return 'parent done'
      }
      if (job.data.failAlways === true) throw new Error('always fails')
      if (job.data.failOnce === true && job.attemptsMade === 0) throw new Error('first try fails')
      if (job.data.progress === true) await job.updateProgress(50)
      return job.data.i
    }, { connection: connection(), prefix, concurrency: 8 }))
    worker.on('completed', (job) => {
      completions.set(job.id as string, (completions.get(job.id as string) ?? 0) + 1)
      completedOrder.push(job.id as string)
    })
    worker.on('failed', () => { workerFailed++ })
    worker.on('error', (err) => { workerErrors.push(err.message) })

    const jobs = []
    let failOnce = 0; let failAlways = 0; let delayed = 0; let progress = 0
    for (let i = 0; i < N; i++) {
      const data: JobData = { i }
      if (i % 10 === 0) { data.failOnce = true; failOnce++ }
      if (i % 100 === 1) { data.failAlways = true; failAlways++ }
      if (i % 50 === 3) { data.progress = true; progress++ }
      const delay = i % 7 === 2 ? 30 + (i % 5) * 10 : 0
      if (delay > 0) delayed++
      jobs.push({
        name: 'job',
        data,
        opts: {
          jobId: `j${i}`,
          attempts: 3,
          backoff: { type: i % 2 === 0 ? 'exponential' : 'fixed', delay: 20 },
          delay,
          priority: i % 5 === 4 ? 1 + (i % 3) : undefined,
        },
      })
    }
    // addBulk in slices, the way an application feeds a queue while the worker already runs.
    for (let at = 0; at < N; at += 250) await queue.addBulk(jobs.slice(at, at + 250))
    const flows = track(new FlowProducer({ connection: connection(), prefix }))
    await flows.add({
      name: 'parent', queueName: name, data: { i: -1 }, opts: { jobId: 'parent' },
      children: [
        { name: 'child', queueName: name, data: { i: -2 }, opts: { jobId: 'child1' } },
        { name: 'child', queueName: name, data: { i: -3 }, opts: { jobId: 'child2' } },
      ],
    })

    const expectCompleted = N - failAlways + 3
    const attemptsTotal = N + failOnce + 2 * failAlways + 3 // failOnce: 2 tries; failAlways: 3 tries
    await until('every job to finish', () => completions.size === expectCompleted && seen.failed === failAlways,
      () => ({ completed: completions.size, seen }))
    await until('every event to arrive', () => seen.completed === expectCompleted && seen.active === attemptsTotal, () => seen)
    await sleep(200) // anything extra (a duplicate) would arrive now

    expect(workerErrors).toEqual([])
    expect([...completions.values()].every(n => n === 1)).toBe(true)
    expect(completions.size).toBe(expectCompleted)
    expect(processorCalls).toBe(attemptsTotal)
    expect(workerFailed).toBe(failOnce + 3 * failAlways)
    expect(seen).toEqual({
      added: N + 3,
      waiting: attemptsTotal, // each activation follows a move to wait (added, promoted or retried)
      active: attemptsTotal,
      progress,
      completed: expectCompleted,
      failed: failAlways, // QueueEvents' failed is the last attempt's
      'retries-exhausted': failAlways,
      delayed: delayed + failOnce + 2 * failAlways, // delayed at add, and each retry's backoff
    })
    // The flow: the parent ran after both children completed, and saw both results.
    expect(childrenSeenByParent).toBe(2)
    expect(completedOrder.indexOf('parent')).toBeGreaterThan(Math.max(completedOrder.indexOf('child1'), completedOrder.indexOf('child2')))
    expect(await queue.getJobCounts()).toEqual({
      active: 0, completed: expectCompleted, delayed: 0, failed: failAlways, prioritized: 0, waiting: 0, 'waiting-children': 0,
    })
    const failed = await queue.getFailed(0, -1)
    expect(failed.map(j => j.id).sort()).toEqual(jobs.filter(j => j.data.failAlways === true).map(j => j.opts.jobId).sort())
    expect(failed.every(j => j.attemptsMade === 3 && j.failedReason === 'always fails')).toBe(true)
    const returned = await Promise.all(['j0', 'j3', 'j4', 'parent'].map(async id => (await queue.getJob(id))?.returnvalue))
    expect(returned).toEqual([0, 3, 4, 'parent done'])
  })

  it('a job scheduler (repeat every 100 ms) fires at least twice, each iteration a new job, until removed', async () => {
    const name = 'repeat'
    const queue = track(new Queue(name, { connection: connection(), prefix }))
    const completions = new Map<string, number>()
    const worker = track(new Worker(name, async (job: Job) => job.data.n, { connection: connection(), prefix, concurrency: 4 }))
    worker.on('completed', (job) => { completions.set(job.id as string, (completions.get(job.id as string) ?? 0) + 1) })

    await queue.upsertJobScheduler('every100', { every: 100 }, { name: 'tick', data: { n: 7 } })
    expect((await queue.getJobSchedulers()).map(s => [s.key, s.every, s.name])).toEqual([['every100', 100, 'tick']])
    await until('three iterations', () => completions.size >= 3, () => [...completions.keys()])
    expect(await queue.removeJobScheduler('every100')).toBe(true)
    expect(await queue.getJobSchedulersCount()).toBe(0)
    await sleep(100) // an iteration that was already active may still finish
    const ids = [...completions.keys()]
    expect(ids.every(id => id.startsWith('repeat:every100:'))).toBe(true)
    expect([...completions.values()].every(n => n === 1)).toBe(true)
    const finished = await Promise.all(ids.map(async id => (await queue.getJob(id))?.returnvalue))
    expect(finished.every(v => v === 7)).toBe(true)
  })

  it('a Worker with a rate limiter (2 jobs per second) never starts a third job in one window', async () => {
    const name = 'limited'
    const MAX = 2
    const queue = track(new Queue(name, { connection: connection(), prefix }))
    const client = await connectIoredis(server)
    track({ close: async () => await client.quit() })
    const limiterCounts: number[] = []
    const ttls: number[] = []
    const worker = track(new Worker(name, async (job: Job) => {
      // The limiter key counts the jobs started in the current window; it expires with the window.
      limiterCounts.push(Number(await client.get(`${prefix}:${name}:limiter`)))
      ttls.push(await queue.getRateLimitTtl(MAX))
      return job.data.n
    }, { connection: connection(), prefix, concurrency: 8, limiter: { max: MAX, duration: 1000 } }))
    const done: string[] = []
    worker.on('completed', (job) => { done.push(job.id as string) })
    await queue.addBulk([0, 1, 2, 3, 4, 5].map(n => ({ name: 'lim', data: { n }, opts: { jobId: `l${n}` } })))
    await until('six jobs', () => done.length === 6, () => done)
    expect(done.slice().sort()).toEqual(['l0', 'l1', 'l2', 'l3', 'l4', 'l5'])
    // Concurrency 8 would start all six at once; the limiter lets two per window through.
    expect(Math.max(...limiterCounts)).toBeLessThanOrEqual(MAX)
    // A full window reports how long until it reopens (PTTL of the limiter key).
    expect(ttls.some(t => t > 0 && t <= 1000)).toBe(true)
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 6 })
  })
})
}
