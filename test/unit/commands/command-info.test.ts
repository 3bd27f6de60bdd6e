// COMMAND INFO for every command in the table must match real Redis 7.0 (recorded in
// test/fixtures/redis-command-info.json by scripts/record-command-info.mjs): name, arity, flags,
// key positions, ACL categories, tips and key specs. Commands that Redis 7.0 lacks are listed
// in NOT_IN_REDIS_7_0 with the reason.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { commandInfoCommand } from '../../../src/commands/command-info.js'
import { topLevel, type Command } from '../../../src/commands/table.js'
import { ReplyWriter } from '../../../src/protocol/resp-writer.js'
import type { ClientContext } from '../../../src/commands/spec.js'

interface Info {
  arity: number, flags: string[], firstKey: number, lastKey: number, step: number, acl: string[],
  tips: string[], keySpecs: unknown[], subcommands: Record<string, Info>
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/redis-command-info.json', import.meta.url), 'utf8')) as { redis_version: string, commands: Record<string, Info> }

/** Added after 7.0 (CLIENT SETINFO is 7.2): clients send it, so we answer it. */
const NOT_IN_REDIS_7_0 = new Set(['client|setinfo'])

type R = string | number | null | R[]
function parse (buf: Buffer, pos: number): [R, number] {
  const t = String.fromCharCode(buf[pos])
  const nl = buf.indexOf('\r\n', pos, 'latin1')
  const line = buf.toString('latin1', pos + 1, nl)
  let p = nl + 2
  if (t === '+' || t === '-') return [line, p]
  if (t === ':') return [Number(line), p]
  if (t === '$') { const n = Number(line); return n < 0 ? [null, p] : [buf.toString('utf8', p, p + n), p + n + 2] }
  const n = Number(line)
  const out: R[] = []
  for (let i = 0; i < n; i++) { const [v, q] = parse(buf, p); out.push(v); p = q }
  return [out, p]
}

function pairs (arr: R[]): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (let i = 0; i < arr.length; i += 2) {
    const v = arr[i + 1]
    o[arr[i] as string] = Array.isArray(v) && ['begin_search', 'find_keys', 'spec'].includes(arr[i] as string) ? pairs(v) : v
  }
  return o
}

function toInfo (e: R[]): Info {
  return {
    arity: e[1] as number,
    flags: e[2] as string[],
    firstKey: e[3] as number,
    lastKey: e[4] as number,
    step: e[5] as number,
    acl: e[6] as string[],
    tips: e[7] as string[],
    keySpecs: (e[8] as R[][]).map(pairs),
    subcommands: Object.fromEntries((e[9] as R[][]).map(s => [s[0] as string, toInfo(s)])),
  }
}

function ourInfo (cmd: Command): Info {
  const out = new ReplyWriter()
  const name = Buffer.from(cmd.name)
  const argv = { buf: Buffer.concat([Buffer.from('commandinfo'), name]), argc: 3, start: Int32Array.of(0, 7, 11), len: Int32Array.of(7, 4, name.length) }
  commandInfoCommand({} as ClientContext, argv, out)
  const [reply] = parse(out.buf.subarray(0, out.len), 0)
  return toInfo((reply as R[][])[0])
}

describe(`COMMAND INFO matches Redis ${fixture.redis_version}`, () => {
  const rows = topLevel.flatMap(c => [c, ...c.subList])
  it.each(rows.map(c => [c.name, c] as const))('%s', (name, cmd) => {
    if (NOT_IN_REDIS_7_0.has(name)) return
    const parent = name.includes('|') ? fixture.commands[name.slice(0, name.indexOf('|'))] : undefined
    const expected = parent === undefined ? fixture.commands[name] : parent.subcommands[name]
    expect(expected, `${name} is not a Redis 7.0 command`).toBeDefined()
    const ours = ourInfo(cmd)
    // Subcommands are compared on their own rows; the container compares their names only.
    expect(Object.keys(ours.subcommands).filter(n => !NOT_IN_REDIS_7_0.has(n)).every(n => n in expected.subcommands)).toBe(true)
    expect({ ...ours, subcommands: {} }).toEqual({ ...expected, subcommands: {} })
  })

  it('reports what Redis 7.0 does not have', () => {
    for (const name of NOT_IN_REDIS_7_0) expect(rows.some(c => c.name === name)).toBe(true)
  })
})
