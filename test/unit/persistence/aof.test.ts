// The AOF's pieces that need no server: the effect log's encoding and MULTI/EXEC wrapping, the
// scan that finds a truncated or malformed tail, the manifest's lines, and the settings.
import { describe, expect, it } from 'vitest'
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AofLog, noteGate, passGate, isAfter } from '../../../src/persistence/aof.js'
import { saveWords, W_AOF_WRITES, W_AOF_SYNCED, W_AOF_SYNCED_FD } from '../../../src/persistence/save-state.js'
import { CTRL_INTS, GATE, GATE_FD } from '../../../src/ipc/ring.js'
import { scanCommands, formatManifest } from '../../../src/persistence/aof-files.js'
import { parseArgs, ConfigError, type Config } from '../../../src/config.js'
import { argvOf } from '../../../src/commands/txn-helpers.js'

const config = (argv: string[], file = ''): Config => {
  const r = parseArgs(argv, { env: {}, readFile: () => file })
  if (r.kind !== 'run') throw new Error('not a run')
  return r.config
}

const text = (log: AofLog): string => log.buf.toString('latin1', 0, log.len)

describe('AofLog', () => {
  it('writes RESP multibulk commands, SELECT when the database changes, and starts every chunk with one', () => {
    const log = new AofLog(16)
    log.argv(0, argvOf([Buffer.from('set'), Buffer.from('k'), Buffer.from('v'.repeat(12))]))
    log.parts(0, ['DEL', Buffer.from('k')])
    log.parts(3, ['INCR', 'n'])
    expect(text(log)).toBe('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$12\r\nvvvvvvvvvvvv\r\n' +
      '*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n')
    log.flush(0)
    expect(log.len).toBe(0)
    log.parts(3, ['INCR', 'n'])
    expect(text(log).startsWith('*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n')).toBe(true)
  })

  it('abortUnit drops the open unit and all it logged, keeping what came before it', () => {
    const log = new AofLog()
    log.parts(0, ['SET', 'before', '1'])
    const kept = text(log)
    log.beginUnit()
    log.parts(2, ['SET', 'a', '1'])
    log.parts(2, ['SET', 'b', '2'])
    log.abortUnit()
    expect(text(log)).toBe(kept)
    expect(log.inUnit).toBe(false)
    // The next effect in the database the log was in needs no SELECT; another gets one.
    log.parts(0, ['SET', 'after', '1'])
    log.parts(2, ['SET', 'c', '3'])
    expect(text(log)).toBe(kept + '*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n')
  })

  it('wraps a unit of several effects in MULTI/EXEC, and leaves one effect (or none) alone', () => {
    const log = new AofLog()
    log.beginUnit()
    log.parts(0, ['SET', 'a', '1'])
    log.parts(0, ['SET', 'b', '2'])
    log.endUnit()
    // The first effect's SELECT goes before the MULTI, as Redis writes it.
    expect(text(log)).toBe('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n' +
      '*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$4\r\nEXEC\r\n')
    // A later change of database inside the unit selects inside it; an unchanged one not at all.
    const at = log.len
    log.beginUnit()
    log.parts(0, ['SET', 'c', '3'])
    log.parts(4, ['SET', 'd', '4'])
    log.endUnit()
    expect(log.buf.toString('latin1', at, log.len)).toBe('*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n' +
      '*2\r\n$6\r\nSELECT\r\n$1\r\n4\r\n*3\r\n$3\r\nSET\r\n$1\r\nd\r\n$1\r\n4\r\n*1\r\n$4\r\nEXEC\r\n')
    const one = new AofLog()
    one.beginUnit()
    one.beginUnit()
    one.parts(1, ['SET', 'a', '1'])
    one.endUnit()
    one.endUnit()
    expect(text(one)).toBe('*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n')
    const none = new AofLog()
    none.beginUnit()
    none.endUnit()
    expect(none.len).toBe(0)
  })

  it("takes another thread's effects whole: their first SELECT (before a unit's MULTI), the database they end in", () => {
    const log = new AofLog()
    log.beginUnit()
    // Effects that start in database 2 (their SELECT taken off), select 3, and hold 2 commands.
    log.raw(2, Buffer.from('*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n'), 2, 3)
    log.parts(3, ['INCR', 'c'])
    log.endUnit()
    expect(text(log)).toBe('*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n' +
      '*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n*1\r\n$4\r\nEXEC\r\n')
    // A kept chunk carries its own SELECT: the next command selects again.
    const kept = new AofLog()
    kept.rawChunk(Buffer.from('*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n'))
    kept.parts(5, ['DEL', 'j'])
    expect(text(kept).endsWith('*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*2\r\n$3\r\nDEL\r\n$1\r\nj\r\n')).toBe(true)
  })

  it('frames arguments of every length, across the digit counts, as RESP does', () => {
    const lens = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 100000]
    const log = new AofLog(8)
    const args = lens.map((n, i) => Buffer.alloc(n, 97 + i))
    log.argv(2, argvOf(args))
    const want = '*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n' + `*${lens.length}\r\n` + args.map(a => `$${a.length}\r\n${a.toString('latin1')}\r\n`).join('')
    expect(text(log)).toBe(want)
    // Twelve arguments: a two-digit count.
    expect(text(log).includes('*12\r\n$0\r\n\r\n$1\r\nb\r\n')).toBe(true)
  })

  it('hands unwritten bytes to another log, which puts them before its own', () => {
    const a = new AofLog()
    a.parts(0, ['SET', 'a', '1'])
    // Nothing was refused: nothing to hand over.
    expect(a.take()).toBe(null)
    a.pendingUnits = 1
    const rest = a.take()
    expect([a.len, a.pendingUnits, rest?.units]).toEqual([0, 0, 1])
    const b = new AofLog()
    b.parts(5, ['INCR', 'n'])
    b.adopt(rest?.bytes as Uint8Array, rest?.units as number)
    expect(text(b)).toBe('*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n' +
      '*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n')
    // b's next command in database 5 needs no SELECT: its own bytes still end there.
    b.parts(5, ['INCR', 'm'])
    expect(text(b).endsWith('$1\r\nn\r\n*2\r\n$4\r\nINCR\r\n$1\r\nm\r\n')).toBe(true)
    expect(b.pendingUnits).toBe(1)
  })
})

describe('scanCommands', () => {
  const cmd = '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'
  it('counts complete commands and skips #TS annotations', () => {
    expect(scanCommands(Buffer.from(`#TS:1700000000\r\n${cmd}${cmd}`))).toEqual({ end: 16 + 2 * cmd.length, count: 2, status: 'ok' })
  })

  it('stops at a truncated last command, at its start', () => {
    for (let cut = 1; cut < cmd.length; cut++) {
      expect(scanCommands(Buffer.from(cmd + cmd.slice(0, cut)))).toEqual({ end: cmd.length, count: 1, status: 'truncated' })
    }
  })

  it('calls anything else a bad format', () => {
    expect(scanCommands(Buffer.from(`${cmd}garbage\r\n`)).status).toBe('bad')
    expect(scanCommands(Buffer.from('*1\r\n$3\r\nGETX\r\n')).status).toBe('bad')
    expect(scanCommands(Buffer.from('*x\r\n')).status).toBe('bad')
  })

  it('ends a file inside MULTI at that MULTI (only EXEC closes it, as in Redis\'s loader)', () => {
    const multi = '*1\r\n$5\r\nMULTI\r\n'
    const exec = '*1\r\n$4\r\nexec\r\n'
    const discard = '*1\r\n$7\r\nDISCARD\r\n'
    expect(scanCommands(Buffer.from(cmd + multi + cmd + exec + cmd))).toEqual({ end: 3 * cmd.length + multi.length + exec.length, count: 5, status: 'ok' })
    expect(scanCommands(Buffer.from(cmd + multi + cmd + discard + cmd))).toEqual({ end: cmd.length, count: 1, status: 'truncated', isRevert: true })
    expect(scanCommands(Buffer.from(cmd + multi + cmd + exec + multi + cmd))).toEqual({ end: 2 * cmd.length + multi.length + exec.length, count: 4, status: 'truncated', isRevert: true })
  })
})

describe('manifest and settings', () => {
  it("formats the manifest as aofInfoFormat: base, history, increments", () => {
    expect(formatManifest({ base: { name: 'appendonly.aof.2.base.rdb', seq: 2, type: 'b' }, history: [{ name: 'appendonly.aof.1.base.rdb', seq: 1, type: 'h' }], incrs: [{ name: 'appendonly.aof.2.incr.aof', seq: 2, type: 'i' }] }))
      .toBe('file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n')
    expect(formatManifest({ base: null, history: [], incrs: [{ name: 'my file.aof', seq: 1, type: 'i' }] })).toBe('file "my file.aof" seq 1 type i\n')
  })

  it("defaults to Redis's, and takes flags and redis.conf lines", () => {
    const c = config([])
    expect([c.appendonly, c.appendfsync, c.appenddirname, c.appendfilename, c.aofUseRdbPreamble, c.aofLoadTruncated, c.aofTimestampEnabled, c.autoAofRewritePercentage, c.autoAofRewriteMinSize])
      .toEqual([false, 1, 'appendonlydir', 'appendonly.aof', true, true, false, 100, 64 * 1024 * 1024])
    expect(config(['x.conf'], 'appendonly yes\nappendfsync always\nauto-aof-rewrite-min-size 1mb\n')).toMatchObject({ appendonly: true, appendfsync: 2, autoAofRewriteMinSize: 1024 * 1024 })
    expect(() => config(['--appendfsync', 'sometimes'])).toThrow(ConfigError)
    expect(() => config(['--appenddirname', 'a/b'])).toThrow(ConfigError)
  })
})

describe('the reply gate (appendfsync always)', () => {
  it('a ring reader syncs up to the write its gate names before replies leave, once, and across the int32 wrap of the write count', () => {
    const i32 = saveWords().i32
    const dir = mkdtempSync(join(tmpdir(), 'flashkv-gate-'))
    const fd = openSync(join(dir, 'f'), 'a')
    try {
      // The count of writes just before it wraps: the last sync covered 2^31 - 2.
      Atomics.store(i32, W_AOF_WRITES, 0x7ffffffe)
      Atomics.store(i32, W_AOF_SYNCED, 0x7ffffffe)
      Atomics.store(i32, W_AOF_SYNCED_FD, fd)
      const ring = new Int32Array(new SharedArrayBuffer(CTRL_INTS * 4))
      noteGate(ring)
      passGate()
      expect(Atomics.load(i32, W_AOF_SYNCED)).toBe(0x7ffffffe)
      // Two writes later the count has wrapped to -2^31: that write is after the last sync.
      Atomics.store(i32, W_AOF_WRITES, -0x80000000)
      Atomics.store(ring, GATE_FD, fd)
      Atomics.store(ring, GATE, -0x80000000)
      expect(isAfter(-0x80000000, 0x7ffffffe)).toBe(true)
      noteGate(ring)
      passGate()
      expect(Atomics.load(i32, W_AOF_SYNCED)).toBe(-0x80000000)
      // Noted and synced already: nothing to do (a sync would take the newer count).
      Atomics.store(i32, W_AOF_WRITES, -0x7fffffff)
      noteGate(ring)
      passGate()
      expect(Atomics.load(i32, W_AOF_SYNCED)).toBe(-0x80000000)
    } finally {
      closeSync(fd)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
