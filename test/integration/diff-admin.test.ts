// Differential tests (FlashKV over 4 shards against redis-server 7.0.15) for MONITOR, WAIT and
// CLIENT PAUSE/UNPAUSE: replies and their order are compared, never how long anything took.
// MONITOR lines carry a time stamp and a client address: those are replaced by T and ADDR.
import { describe, expect, it } from 'vitest'

import { useDiffPair, text, type Arg } from './helpers/diff.js'
import { useSides, on, steps, send, sleep, hello3, type Side } from './helpers/sides.js'
import type { RawClient } from './helpers/raw.js'

const pair = useDiffPair({ shards: 4 })
const { A, client } = useSides(pair)

/** A script's commands are shown as "[<db> lua]": kept, unlike a client's address. */
const stamp = (line: string): string => line.replace(/^\+\d+\.\d{6} \[(\d+) ([^\]]+)\]/, (_m, db: string, who: string) => `+T [${db} ${who === 'lua' ? 'lua' : 'ADDR'}]`)

/** Reads MONITOR lines on one connection up to and including the one that contains `last`. */
async function linesUntil (c: RawClient, last: string): Promise<string[]> {
  const lines: string[] = []
  for (let i = 0; i < 200; i++) {
    const [r] = await c.readReplies(1, 5000)
    lines.push(stamp(text(r)))
    if (text(r).includes(last)) return lines
  }
  throw new Error(`no MONITOR line with ${last}`)
}

async function sameLines (m: Side, last: string): Promise<string[]> {
  const [f, r] = await Promise.all([linesUntil(m.f, last), linesUntil(m.r, last)])
  expect(f, 'MONITOR lines').toEqual(r)
  return r
}

describe('MONITOR', () => {
  it('prints every command as Redis does: MULTI, queued commands at EXEC, SELECT\'s new db, quoting; skips admin and unknown commands', async () => {
    const M = await client('M')
    expect(await on(M, 'MONITOR')).toBe('+OK\r\n')
    const cmds: Arg[][] = [
      ['SET', 'a b', Buffer.from('x"y\n\\\x01\xff', 'latin1')], ['MULTI'], ['SET', 'k', 'v'], ['INCR', 'c'], ['EXEC'],
      ['CONFIG', 'GET', 'maxmemory'], ['CLIENT', 'SETNAME', 'x'], ['NOSUCH', 'arg'], ['SELECT', '3'], ['GET', 'z'],
      ['HELLO', '3'], ['ECHO', 'last'],
    ]
    // HELLO's reply names each server: read, not compared (hello3).
    for (const c of cmds) {
      if (c[0] === 'HELLO') await hello3(A)
      else await on(A, ...c)
    }
    const lines = await sameLines(M, '"last"')
    expect(lines[0]).toBe('+T [0 ADDR] "SET" "a b" "x\\"y\\n\\\\\\x01\\xff"\r\n')
  })

  it("a script inside EXEC shows its own line in its place among the queued commands (its commands' lines: see README, Limits)", async () => {
    const M = await client('M')
    await on(M, 'MONITOR')
    await steps([[A, 'MULTI'], [A, 'SET', 'q1', 'v'], [A, 'EVAL', 'return redis.call("get", KEYS[1])', '1', 'q2'], [A, 'GET', 'q1'], [A, 'EXEC'], [A, 'ECHO', 'last']])
    const [f, r] = await Promise.all([linesUntil(M.f, '"last"'), linesUntil(M.r, '"last"')])
    const clientLines = (lines: string[]): string[] => lines.filter(l => !l.includes(' lua] '))
    expect(clientLines(f)).toEqual(clientLines(r))
    expect(clientLines(r).map(l => l.slice(l.indexOf('] ') + 2, -2))).toEqual(['"MULTI"', '"SET" "q1" "v"', '"EVAL" "return redis.call(\\"get\\", KEYS[1])" "1" "q2"', '"GET" "q1"', '"EXEC"', '"ECHO" "last"'])
    expect(f.filter(l => l.includes(' lua] '))).toEqual(r.filter(l => l.includes(' lua] ')))
  })

  it('AUTH and HELLO credentials are redacted as Redis parses them: not past a bad protocol version or a malformed option, nor in an AUTH of three', async () => {
    const M = await client('M')
    await on(M, 'MONITOR')
    await steps([[A, 'AUTH', 'pw'], [A, 'AUTH', 'u', 'pw'], [A, 'AUTH', 'a', 'b', 'c'], [A, 'HELLO', '2', 'AUTH', 'x'], [A, 'HELLO', 'x', 'AUTH', 'u', 'p'],
      [A, 'HELLO', '4', 'AUTH', 'u', 'p'], [A, 'HELLO', '2', 'SETNAME', 'AUTH', 'u', 'p'], [A, 'HELLO', '2', 'AUTH', 'u', 'p', 'SETNAME'],
      [A, 'HELLO', '2', 'AUTH', 'nobody', 'pw', 'SETNAME', 'n'], [A, 'ECHO', 'last']])
    const lines = await sameLines(M, '"last"')
    expect(lines[3]).toBe('+T [0 ADDR] "HELLO" "2" "AUTH" "x"\r\n')
    expect(lines[7]).toBe('+T [0 ADDR] "HELLO" "2" "AUTH" "(redacted)" "(redacted)" "SETNAME"\r\n')
  })

  it('a monitor may not touch the keyspace; PING still answers', async () => {
    const M = await client('M')
    await on(M, 'MONITOR')
    await steps([[M, 'GET', 'x'], [M, 'SET', 'x', 'y'], [M, 'DBSIZE']])
    // Its own PING is both answered and monitored.
    await on(M, 'PING')
    await sameLines(M, '"PING"')
  })
})

/** EVAL, EVALSHA and FCALL's lines, then their commands' ("[<db> lua]", SELECT's new db, not the refused ones). */
async function scriptLines (M: Side, A: Side): Promise<void> {
  const lib = '#!lua name=monlib\nredis.register_function("mf", function (keys) redis.call("set", keys[1], "v"); return redis.call("get", keys[1]) end)'
  await on(A, 'FUNCTION', 'LOAD', 'REPLACE', lib)
  await on(M, 'MONITOR')
  const body = 'redis.call("select", "2"); redis.call("ping"); redis.pcall("nosuch"); redis.pcall("get"); redis.pcall("lpush", KEYS[1], "x"); ' +
    'redis.pcall("config", "get", "maxmemory"); redis.pcall("incr", KEYS[1]); redis.pcall("set", KEYS[1], "v", "xx", "nx"); return redis.call("get", KEYS[1])'
  await steps([
    [A, 'EVAL', body, '1', 'mk'], [A, 'FCALL', 'mf', '1', 'fk'], [A, 'EVALSHA', '0'.repeat(40), '0'], [A, 'EVAL', 'return 1', 'x'],
    [A, 'EVAL_RO', 'return redis.call("exists", KEYS[1])', '1', 'fk'], [A, 'ECHO', 'last'],
  ])
  const lines = await sameLines(M, '"last"')
  expect(lines.filter(l => l.includes(' lua] ')).length).toBe(9)
}

describe('MONITOR of scripts and functions', () => {
  it('4 shards (scripts hold the shards)', async () => {
    await scriptLines(await client('M'), A)
  })
  describe('1 shard (scripts run inside the worker)', () => {
    const one = useDiffPair({ shards: 1 })
    const sides = useSides(one)
    it('the same lines in the same order', async () => {
      await scriptLines(await sides.client('M'), sides.A)
    })
  })
})

describe('WAIT (no replicas)', () => {
  it('answers 0: at once for 0 replicas, after the timeout otherwise, at once inside MULTI; argument errors', async () => {
    await steps([
      [A, 'WAIT', '0', '0'], [A, 'WAIT', '1', '50'], [A, 'WAIT', 'x', '0'], [A, 'WAIT', '1', 'x'], [A, 'WAIT', '1', '-1'],
      [A, 'WAIT', '1', '1.5'], [A, 'MULTI'], [A, 'WAIT', '5', '0'], [A, 'EXEC'],
    ])
  })

  it('a WAIT with no timeout ends by CLIENT UNBLOCK (TIMEOUT: :0, ERROR: the UNBLOCKED error)', async () => {
    const B = await client('B')
    const [fid, rid] = await Promise.all([B.f.command('CLIENT', 'ID'), B.r.command('CLIENT', 'ID')])
    for (const reason of ['TIMEOUT', 'ERROR']) {
      send(B, 'WAIT', '1', '0')
      await sleep(50)
      const [fu, ru] = await Promise.all([
        A.f.command('CLIENT', 'UNBLOCK', text(fid).slice(1, -2), reason), A.r.command('CLIENT', 'UNBLOCK', text(rid).slice(1, -2), reason),
      ])
      expect(text(fu)).toBe(text(ru))
      const [fb, rb] = await Promise.all([B.f.readReplies(1), B.r.readReplies(1)])
      expect(text(fb[0]), `WAIT after CLIENT UNBLOCK ${reason}`).toBe(text(rb[0]))
    }
  })
})

describe('CLIENT PAUSE / UNPAUSE', () => {
  it('WRITE holds writes (and an EXEC with writes) until UNPAUSE, lets reads through', async () => {
    const B = await client('B')
    const C = await client('C')
    await on(A, 'SET', 'k', 'old')
    await on(A, 'CLIENT', 'PAUSE', '100000', 'WRITE')
    await on(B, 'GET', 'k') // a read goes through
    send(B, 'SET', 'k', 'new') // held
    send(C, 'MULTI')
    send(C, 'INCR', 'n') // held too: a write, even queued
    await sleep(50)
    await on(A, 'GET', 'k') // still old: B's SET waits
    await on(A, 'CLIENT', 'UNPAUSE')
    const [fb, rb] = await Promise.all([B.f.readReplies(1), B.r.readReplies(1)])
    expect(text(fb[0])).toBe(text(rb[0]))
    const [fc, rc] = await Promise.all([C.f.readReplies(2), C.r.readReplies(2)])
    expect(fc.map(text)).toEqual(rc.map(text))
    await on(C, 'EXEC')
    await on(A, 'GET', 'k')
  })

  it('ALL holds every client\'s commands until the pause ends; argument errors', async () => {
    const B = await client('B')
    await on(A, 'CLIENT', 'PAUSE', '150')
    send(B, 'PING')
    const [fb, rb] = await Promise.all([B.f.readReplies(1, 10_000), B.r.readReplies(1, 10_000)])
    expect(text(fb[0])).toBe(text(rb[0]))
    await steps([
      [A, 'CLIENT', 'PAUSE', 'x'], [A, 'CLIENT', 'PAUSE', '10', 'FOO'], [A, 'CLIENT', 'PAUSE', '-1'], [A, 'CLIENT', 'PAUSE', 'x', 'FOO'], [A, 'CLIENT', 'PAUSE', '-1', 'foo'],
      [A, 'CLIENT', 'PAUSE', '10', 'WRITE', 'x'], [A, 'CLIENT', 'UNPAUSE', 'x'], [A, 'CLIENT', 'UNPAUSE'],
    ])
  })
})
