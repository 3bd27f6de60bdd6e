// The save, rdbcompression, rdbchecksum and stop-writes-on-bgsave-error settings: Redis's
// defaults with no config, flags and redis.conf lines (several save lines add up).
import { describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_SAVE, parseArgs, parseSavePoints, type Config } from '../../../src/config.js'

const config = (argv: string[], file = ''): Config => {
  const r = parseArgs(argv, { env: {}, readFile: () => file })
  if (r.kind !== 'run') throw new Error('not a run')
  return r.config
}

describe('persistence settings', () => {
  it("default to Redis's: save points, and yes for the three switches", () => {
    const c = config([])
    expect(c.save).toBe(DEFAULT_SAVE)
    expect(DEFAULT_SAVE).toBe('3600 1 300 100 60 10000')
    expect([c.rdbcompression, c.rdbchecksum, c.stopWritesOnBgsaveError]).toEqual([true, true, true])
  })

  it('flags and config-file lines', () => {
    expect(config(['--save', '']).save).toBe('')
    expect(config(['--save', '10 2', '--rdbchecksum', 'no']).rdbchecksum).toBe(false)
    expect(config(['x.conf'], 'save 900 1\nsave 300 10\nrdbcompression no\n')).toMatchObject({ save: '900 1 300 10', rdbcompression: false })
    expect(config(['x.conf'], 'save ""\n').save).toBe('')
    expect(() => config(['--save', '1'])).toThrow(ConfigError)
    expect(() => config(['--save', '0 1'])).toThrow(ConfigError)
    expect(() => config(['--stop-writes-on-bgsave-error', 'maybe'])).toThrow(ConfigError)
  })

  it('parseSavePoints checks pairs as setConfigSaveOption does', () => {
    expect(parseSavePoints(' 60  100 ')).toBe('60 100')
    expect(parseSavePoints('60 -1')).toBe(null)
    expect(parseSavePoints('x 1')).toBe(null)
  })
})
