// A short run of the protocol fuzzer (bench/fuzz/protocol-fuzz.ts; `npm run fuzz` is the long
// one): valid, mutated, truncated and split RESP, huge and negative lengths, NULs and overlong
// inline lines over many connections, some closed mid-command or reset. Then the three checks:
// a fresh connection answers PING, connected_clients is back at its baseline, RSS is back within
// a fixed bound. Fixed seeds: a failure names its seed, and `npm run fuzz -- --seed S` replays it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatReport, runFuzz, type FuzzReport } from '../../bench/fuzz/protocol-fuzz.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

function expectChecks (rep: FuzzReport): void {
  const text = formatReport(rep)
  expect(rep.checks.ping.ok, text).toBe(true)
  expect(rep.checks.clients.ok, text).toBe(true)
  expect(rep.checks.rss.ok, text).toBe(true)
}

describe('protocol fuzz, short run', () => {
  let server: ServerHandle

  beforeAll(async () => {
    server = await startFlashKV({ shards: 2 })
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('30,000 inputs over 32 connections: alive, clients back to baseline, RSS bounded', async () => {
    const rep = await runFuzz({
      host: server.host, port: server.port, pid: server.pid, seed: 20261127, inputs: 30_000, conns: 32,
      // Only stops a hang (this phase takes ~5 s here): not an assertion on speed.
      maxDurationMs: 120_000,
    })
    // The run did what it claims: many connections, every kind of input, protocol errors seen.
    expect(rep.stats.connectionsOpened, formatReport(rep)).toBeGreaterThan(200)
    for (const kind of ['valid', 'inline', 'flip', 'truncate', 'length', 'nul', 'overlong', 'quotes', 'newlines', 'garbage', 'half']) {
      expect(rep.stats.inputsByKind[kind] ?? 0, `${kind} inputs`).toBeGreaterThan(0)
    }
    expect(rep.stats.replies['err:protocol'] ?? 0).toBeGreaterThan(0)
    expect(rep.stats.malformedStreams, formatReport(rep)).toBe(0)
    expectChecks(rep)
  }, 240_000)
})

describe('protocol fuzz under --maxclients 50', () => {
  let server: ServerHandle

  beforeAll(async () => {
    server = await startFlashKV({ shards: 1, extraArgs: ['--maxclients', '50'] })
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('200 sessions that end with half a command then FIN or RST leave room for a new client', async () => {
    const rep = await runFuzz({
      host: server.host, port: server.port, pid: server.pid, seed: 4242, inputs: 1_000, conns: 8,
      maxSessionInputs: 5, maxDurationMs: 120_000,
      endWeights: { quit: 0, fin: 0, 'half-fin': 4, 'half-reset': 1, reset: 0, destroy: 0, abandon: 0 },
    })
    // Far more half-command closes than the server has client slots: a leak of each would fill it.
    expect((rep.stats.sessionsByEnd['half-fin'] ?? 0) + (rep.stats.sessionsByEnd['half-reset'] ?? 0)).toBeGreaterThan(150)
    expectChecks(rep)
  }, 240_000)
})
