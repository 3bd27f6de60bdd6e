// Log records: JSON for collectors (level, time, msg, pid), short human-readable lines on a TTY.
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger, humanLine } from '../../src/log.js'

describe('log output', () => {
  it('formats a record for a terminal: time, level, message, then the other fields', () => {
    const line = humanLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), pid: 9, msg: 'slow shard', shard: 2, err: { message: 'boom' } }))
    expect(line).toBe('03:04:05.006 WARN  slow shard shard=2 err=boom\n')
  })

  it('passes through text that is not JSON', () => {
    expect(humanLine('not json')).toBe('not json')
  })

  it('writes human lines when the stream is a terminal', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream
    let out = ''
    ;(stream as unknown as PassThrough).on('data', (d: Buffer) => { out += d.toString() })
    createLogger('info', '', stream).info({ port: 6379 }, 'ready')
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  ready port=6379\n$/)
  })
})
