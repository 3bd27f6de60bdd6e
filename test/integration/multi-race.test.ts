// Transactions are atomic across shards under concurrency: FlashKV with 4 shards, keys a and b on
// different shards. Writers pipeline `MULTI; INCR a; INCR b; EXEC` (or MSET a v b v inside MULTI),
// readers pipeline `MULTI; GET a; GET b; EXEC` (or MGET a b outside MULTI), and no reader may
// ever see a ≠ b; at the end a = b = the writers' total. A WATCH-based optimistic counter must
// lose no update. Every loop runs a fixed number of iterations; nothing depends on wall-clock
// time. Each scenario runs against two servers: one started as the rest of the suite starts it
// (it inherits FLASHKV_IO_THREADS, which npm run test:io-threads sets to 4) and one with
// --io-threads 3, where the connections are spread over several I/O threads, i.e. several
// producers per shard (with a single producer, even plain GET a / GET b pipelines see a = b).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { keysOnShard, shardOfKey } from './helpers/slots.js'

const SHARDS = 4
// The default start (the I/O threads the environment asks for: FLASHKV_IO_THREADS, set to 4 by
// npm run test:io-threads; one thread on a small machine otherwise), and an explicit
// --io-threads 3, so that several I/O threads produce into every shard on any run of this file.
const MODES: Array<{ label: string, extraArgs: string[] }> = [
  { label: `default start (FLASHKV_IO_THREADS=${process.env.FLASHKV_IO_THREADS ?? 'unset'})`, extraArgs: [] },
  { label: '--io-threads 3', extraArgs: ['--io-threads', '3'] },
]

const [A] = keysOnShard(1, SHARDS, 1, 'race:a:')
const [B] = keysOnShard(3, SHARDS, 1, 'race:b:')
/** A version key on a shard of its own: watched where the transaction runs nothing. */
const [V] = keysOnShard(0, SHARDS, 1, 'race:v:')

it('a and b live on different shards', () => {
  expect([shardOfKey(A, SHARDS), shardOfKey(B, SHARDS), shardOfKey(V, SHARDS)]).toEqual([1, 3, 0])
})

const text = (b: Buffer): string => b.toString('latin1')

/**
 * Sends `batches` × `perBatch` copies of `cmds`, one write per batch, reading each batch's
 * replies before the next write (so the connections keep interleaving until the end), and calls
 * `check` on the replies of every copy (cmds.length replies, as text).
 */
async function loop (
  c: RawClient, cmds: readonly string[][], batches: number, perBatch: number, check: (replies: string[]) => void,
): Promise<void> {
  const one = Buffer.concat(cmds.map(a => encodeCommand(a)))
  const batch = Buffer.concat(Array.from({ length: perBatch }, () => one))
  for (let i = 0; i < batches; i++) {
    c.send(batch)
    const replies = (await c.readReplies(cmds.length * perBatch, 60_000)).map(text)
    for (let j = 0; j < perBatch; j++) check(replies.slice(j * cmds.length, (j + 1) * cmds.length))
  }
}

/** Parses a RESP2 array of bulk strings / nulls / integers (EXEC of GETs, MGET, EXEC of INCRs). */
function flatArray (reply: string): Array<string | null> {
  const m = /^\*(\d+)\r\n/.exec(reply)
  if (m === null) throw new Error(`not an array: ${JSON.stringify(reply)}`)
  const out: Array<string | null> = []
  let p = m[0].length
  for (let i = 0; i < Number(m[1]); i++) {
    const nl = reply.indexOf('\r\n', p)
    const head = reply.slice(p, nl)
    if (head === '$-1') { out.push(null); p = nl + 2; continue }
    if (head[0] === ':') { out.push(head.slice(1)); p = nl + 2; continue }
    if (head[0] !== '$') throw new Error(`unexpected element ${JSON.stringify(head)} in ${JSON.stringify(reply)}`)
    const n = Number(head.slice(1))
    out.push(reply.slice(nl + 2, nl + 2 + n))
    p = nl + 2 + n + 2
  }
  if (p !== reply.length) throw new Error(`trailing bytes in ${JSON.stringify(reply)}`)
  return out
}

const WRITERS = 4
const READERS = 4
const BATCHES = 20
const PER_BATCH = 25 // transactions per write: 500 per connection

/** The value of a RESP2 bulk or null reply. */
function bulk (reply: string): string | null {
  if (reply === '$-1\r\n') return null
  const m = /^\$(\d+)\r\n([\s\S]*)\r\n$/.exec(reply)
  if (m === null || m[2].length !== Number(m[1])) throw new Error(`not a bulk reply: ${JSON.stringify(reply)}`)
  return m[2]
}

/**
 * Optimistic increments: WATCH keys / read them / MULTI / SET each to value + 1 / EXEC, retried
 * while EXEC is the null array, until `successes` increments went through. Returns the retries.
 */
async function optimisticIncrements (c: RawClient, keys: readonly string[], successes: number): Promise<number> {
  let retries = 0
  for (let done = 0; done < successes;) {
    expect(text(await c.command('WATCH', ...keys))).toBe('+OK\r\n')
    const values = keys.length === 1
      ? [bulk(text(await c.command('GET', keys[0])))]
      : flatArray(text(await c.command('MGET', ...keys)))
    // Both keys are only ever written together, in one transaction.
    for (const v of values) expect(v).toBe(values[0])
    const next = String(Number(values[0] ?? '0') + 1)
    const cmds = [['MULTI'], ...keys.map(k => ['SET', k, next]), ['EXEC']]
    c.send(Buffer.concat(cmds.map(a => encodeCommand(a))))
    const replies = (await c.readReplies(cmds.length)).map(text)
    expect(replies.slice(0, -1)).toEqual(['+OK\r\n', ...keys.map(() => '+QUEUED\r\n')])
    const exec = replies[replies.length - 1]
    if (exec === '*-1\r\n') {
      retries++
      if (retries > 100_000) throw new Error('no progress')
      continue
    }
    expect(exec).toBe(`*${keys.length}\r\n${'+OK\r\n'.repeat(keys.length)}`)
    done++
  }
  return retries
}

for (const mode of MODES) {
  describe(mode.label, () => {
    let server: ServerHandle
    beforeAll(async () => { server = await startFlashKV({ shards: SHARDS, extraArgs: mode.extraArgs }) })
    afterAll(async () => { await server?.stop() })

    const open: RawClient[] = []
    async function client (): Promise<RawClient> {
      const c = await RawClient.connect(server.port, server.host)
      open.push(c)
      return c
    }

    beforeEach(async () => {
      for (const c of open.splice(0)) c.close()
      const c = await RawClient.connect(server.port, server.host)
      expect((await c.command('FLUSHALL')).toString('latin1')).toBe('+OK\r\n')
      c.close()
    })

    afterAll(() => { for (const c of open.splice(0)) c.close() })

    describe('MULTI / EXEC across shards under concurrency', () => {
      it('writers MULTI; INCR a; INCR b; EXEC and readers MULTI; GET a; GET b; EXEC: never a ≠ b', async () => {
        const writers = await Promise.all(Array.from({ length: WRITERS }, client))
        const readers = await Promise.all(Array.from({ length: READERS }, client))
        const seen: number[][] = readers.map(() => [])
        const bad: string[] = [] // replies that break atomicity, collected so the race runs to its end
        await Promise.all([
          ...writers.map(c => loop(c, [['MULTI'], ['INCR', A], ['INCR', B], ['EXEC']], BATCHES, PER_BATCH, (r) => {
            // Inside one transaction both INCRs see the same previous value.
            const exec = flatArray(r[3])
            if (r[0] !== '+OK\r\n' || r[1] !== '+QUEUED\r\n' || r[2] !== '+QUEUED\r\n' || exec.length !== 2 || exec[0] !== exec[1]) {
              bad.push(`writer: ${JSON.stringify(r)}`)
            }
          })),
          ...readers.map((c, i) => loop(c, [['MULTI'], ['GET', A], ['GET', B], ['EXEC']], BATCHES, PER_BATCH, (r) => {
            const exec = flatArray(r[3])
            if (r[0] !== '+OK\r\n' || r[1] !== '+QUEUED\r\n' || r[2] !== '+QUEUED\r\n' || exec.length !== 2 || exec[0] !== exec[1]) {
              bad.push(`reader: ${JSON.stringify(r)}`)
            }
            seen[i].push(Number(exec[0] ?? '0'))
          })),
        ])
        expect(bad.slice(0, 10), `${bad.length} replies break atomicity`).toEqual([])
        // Every reader saw the counter only move forward (transactions are applied in one order).
        for (const nums of seen) {
          expect(nums).toHaveLength(BATCHES * PER_BATCH)
          for (let j = 1; j < nums.length; j++) expect(nums[j]).toBeGreaterThanOrEqual(nums[j - 1])
        }
        const total = String(WRITERS * BATCHES * PER_BATCH)
        const check = await client()
        expect(text(await check.command('MGET', A, B))).toBe(`*2\r\n$${total.length}\r\n${total}\r\n$${total.length}\r\n${total}\r\n`)
      })

      it('writers MULTI; MSET a v b v; EXEC and readers MGET a b (no MULTI): never a ≠ b', async () => {
        const writers = await Promise.all(Array.from({ length: WRITERS }, client))
        const readers = await Promise.all(Array.from({ length: READERS }, client))
        // Each writer's transaction count lives in its value, so that values differ between writers.
        const counters = writers.map(() => 0)
        const bad: string[] = []
        let mgets = 0
        await Promise.all([
          ...writers.map(async (c, w) => {
            for (let i = 0; i < BATCHES; i++) {
              const cmds: string[][] = []
              for (let j = 0; j < PER_BATCH; j++) {
                const v = `w${w}:${counters[w]++}`
                cmds.push(['MULTI'], ['MSET', A, v, B, v], ['INCR', `count:${w}`], ['EXEC'])
              }
              c.send(Buffer.concat(cmds.map(a => encodeCommand(a))))
              const replies = (await c.readReplies(cmds.length, 60_000)).map(text)
              for (let j = 0; j < PER_BATCH; j++) {
                expect(replies.slice(j * 4, j * 4 + 4)).toEqual(['+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n', `*2\r\n+OK\r\n:${i * PER_BATCH + j + 1}\r\n`])
              }
            }
          }),
          ...readers.map(c => loop(c, [['MGET', A, B]], BATCHES, PER_BATCH * 2, ([r]) => {
            const [x, y] = flatArray(r)
            if (x !== y) bad.push(`MGET: ${JSON.stringify(r)}`)
            mgets++
          })),
          // A reader that uses a transaction for the same pair, read in the other order.
          client().then(c => loop(c, [['MULTI'], ['GET', B], ['GET', A], ['EXEC']], BATCHES, PER_BATCH, (r) => {
            const [y, x] = flatArray(r[3])
            if (r[0] !== '+OK\r\n' || x !== y) bad.push(`EXEC: ${JSON.stringify(r)}`)
          })),
        ])
        expect(bad.slice(0, 10), `${bad.length} replies break atomicity`).toEqual([])
        expect(mgets).toBe(READERS * BATCHES * PER_BATCH * 2)
        const check = await client()
        const [x, y] = flatArray(text(await check.command('MGET', A, B)))
        expect(x).toBe(y)
        // The last transaction applied was some writer's last one.
        expect(writers.map((_, w) => `w${w}:${BATCHES * PER_BATCH - 1}`)).toContain(x)
        for (let w = 0; w < WRITERS; w++) expect(text(await check.command('GET', `count:${w}`))).toBe(`$3\r\n${BATCHES * PER_BATCH}\r\n`)
      })

      // Once a reader has seen a transaction's write to a, it has happened: a later read of b (sent
      // after a's reply came, or pipelined behind GET a) must see that transaction's write to b too,
      // as on Redis, even when the read reaches b's shard from another I/O thread before the
      // writer's part does (server/sequencer.ts: REQ_AFTER and the producers' epochs).
      it('writers MULTI; INCR a; INCR b; EXEC and MSET a n b n, readers GET a then GET b, one at a time or pipelined: b is never behind a', async () => {
        const writers = await Promise.all(Array.from({ length: WRITERS }, client))
        const readers = await Promise.all(Array.from({ length: READERS }, client))
        const bad: string[] = []
        let reads = 0
        const ROUNDS = BATCHES * PER_BATCH
        // a and b only ever change together, and only upward: the INCR pairs add 1 to both, and
        // the one MSET writer (its MSETs apply in its order) sets both to a million times its
        // count, above anything the INCRs (1,500 in all) reach in between.
        await Promise.all([
          ...writers.slice(1).map(c => loop(c, [['MULTI'], ['INCR', A], ['INCR', B], ['EXEC']], BATCHES, PER_BATCH, (r) => {
            const exec = flatArray(r[3])
            if (exec.length !== 2 || exec[0] !== exec[1]) bad.push(`writer: ${JSON.stringify(r)}`)
          })),
          (async () => {
            let n = 0
            for (let i = 0; i < BATCHES; i++) {
              const cmds: string[][] = []
              for (let j = 0; j < PER_BATCH; j++) { n++; cmds.push(['MSET', A, String(1_000_000 * n), B, String(1_000_000 * n)]) }
              writers[0].send(Buffer.concat(cmds.map(a => encodeCommand(a))))
              for (const r of (await writers[0].readReplies(cmds.length, 60_000)).map(text)) if (r !== '+OK\r\n') bad.push(`MSET: ${JSON.stringify(r)}`)
            }
          })(),
          // Half the readers send GET b once GET a has answered; the other half pipeline both in
          // one write, which reach the two shards at once (Redis runs them one after the other).
          ...readers.map(async (c, i) => {
            const isPipelined = i % 2 === 1
            for (let j = 0; j < ROUNDS; j++) {
              let ra: string, rb: string
              if (isPipelined) {
                c.send(Buffer.concat([encodeCommand(['GET', A]), encodeCommand(['GET', B])]))
                ;[ra, rb] = (await c.readReplies(2)).map(text)
              } else {
                ra = text(await c.command('GET', A))
                rb = text(await c.command('GET', B))
              }
              const a = Number(bulk(ra) ?? '0')
              const b = Number(bulk(rb) ?? '0')
              if (b < a) bad.push(`GET a = ${a}, then GET b = ${b}${isPipelined ? ' (pipelined)' : ''}`)
              reads++
            }
          }),
        ])
        expect(bad.slice(0, 10), `${bad.length} reads saw b behind a`).toEqual([])
        expect(reads).toBe(READERS * ROUNDS)
      })
    })

    describe('WATCH-based optimistic locking', () => {
      const CLIENTS = 6
      const EACH = 150

      it('a counter in one key: no lost update', async () => {
        const cs = await Promise.all(Array.from({ length: CLIENTS }, client))
        await Promise.all(cs.map(c => optimisticIncrements(c, ['ctr'], EACH)))
        expect(text(await cs[0].command('GET', 'ctr'))).toBe(`$3\r\n${CLIENTS * EACH}\r\n`)
      })

      it('a counter kept in two keys on different shards: no lost update, the keys never disagree', async () => {
        const cs = await Promise.all(Array.from({ length: CLIENTS }, client))
        await Promise.all(cs.map(c => optimisticIncrements(c, [A, B], EACH)))
        const total = String(CLIENTS * EACH)
        expect(text(await cs[0].command('MGET', A, B))).toBe(`*2\r\n$3\r\n${total}\r\n$3\r\n${total}\r\n`)
      })

      // The watched key's shard runs none of the transaction: the shards with its commands learn
      // the verdict from that one (the EXEC is decided where it sits in the global order).
      it('a watched key on a shard the transaction does not write: no EXEC runs after a change it should have seen', async () => {
        const writers = await Promise.all(Array.from({ length: 4 }, client))
        const bumper = await client()
        const BUMPS = 300
        let succeeded = 0
        await Promise.all([
          ...writers.map(async (c, w) => {
            for (let i = 0; i < 60; i++) {
              c.send(Buffer.concat([encodeCommand(['WATCH', V]), encodeCommand(['GET', V])]))
              const [ok, got] = (await c.readReplies(2)).map(text)
              expect(ok).toBe('+OK\r\n')
              const v = bulk(got) ?? '0'
              const cmds = [['MULTI'], ['RPUSH', A, `w${w}:${v}`], ['RPUSH', B, `w${w}:${v}`], ['EXEC']]
              c.send(Buffer.concat(cmds.map(a => encodeCommand(a))))
              const exec = (await c.readReplies(cmds.length)).map(text)[3]
              if (exec !== '*-1\r\n') { expect(exec).toMatch(/^\*2\r\n:\d+\r\n:\d+\r\n$/); succeeded++ }
            }
          }),
          // Each bump moves the version and marks both lists, as one transaction across three shards.
          loop(bumper, [['MULTI'], ['INCR', V], ['RPUSH', A, 'bump'], ['RPUSH', B, 'bump'], ['EXEC']], BUMPS / 10, 10, r => {
            expect(r[4]).toMatch(/^\*3\r\n:\d+\r\n:\d+\r\n:\d+\r\n$/)
          }),
        ])
        const [a, b] = [flatArray(text(await bumper.command('LRANGE', A, '0', '-1'))), flatArray(text(await bumper.command('LRANGE', B, '0', '-1')))]
        // Atomic across the two list shards: the same entries in the same order.
        expect(b).toEqual(a)
        // An entry w:v ran while the version was still v: exactly v bumps before it.
        let bumps = 0
        const wrong: string[] = []
        for (const e of a) {
          if (e === 'bump') { bumps++; continue }
          if (Number((e as string).split(':')[1]) !== bumps) wrong.push(`${e as string} after ${bumps} bumps`)
        }
        expect(wrong.slice(0, 5)).toEqual([])
        expect(bumps).toBe(BUMPS)
        expect(a.length).toBe(BUMPS + succeeded)
        expect(succeeded).toBeGreaterThan(0)
      })

      it('optimistic increments racing with plain INCRs of the same key: no lost update', async () => {
        const cs = await Promise.all(Array.from({ length: 4 }, client))
        const plain = await client()
        const INCRS = 400
        await Promise.all([
          ...cs.map(c => optimisticIncrements(c, ['ctr'], 100)),
          loop(plain, [['INCR', 'ctr']], 16, INCRS / 16, ([r]) => { expect(r).toMatch(/^:\d+\r\n$/) }),
        ])
        expect(text(await plain.command('GET', 'ctr'))).toBe(`$3\r\n${4 * 100 + INCRS}\r\n`)
      })
    })
  })
}
