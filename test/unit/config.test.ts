// parseArgs: defaults, every flag in both `--flag v` and `--flag=v` form, --help/--version, and
// every bad value as a ConfigError whose message names the flag (main.ts prints it with the
// usage and exits 2).

import { describe, expect, it } from 'vitest'
import { availableParallelism } from 'node:os'
import { ConfigError, LOG_LEVELS, USAGE, defaultShards, parseArgs, type Config } from '../../src/config.js'

function config (argv: string[]): Config {
  const r = parseArgs(argv)
  if (r.kind !== 'run') throw new Error(`expected a run config, got ${r.kind}`)
  return r.config
}

function error (argv: string[]): ConfigError {
  try {
    parseArgs(argv)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error(`parseArgs(${JSON.stringify(argv)}) did not throw`)
}

describe('defaults', () => {
  it('no flags: port 6379, 127.0.0.1, usable CPUs (after the cgroup quota) minus one, info', () => {
    const c = config([])
    expect(c).toMatchObject({ port: 6379, bind: '127.0.0.1', logLevel: 'info', maxclients: 10000, httpPort: 0, configFile: '' })
    expect(c.shards).toBeLessThanOrEqual(Math.max(1, availableParallelism() - 1))
    expect(c.shards).toBe(defaultShards())
    expect(defaultShards()).toBeGreaterThanOrEqual(1)
    expect(Object.isFrozen(c)).toBe(true)
  })
})

describe('flags', () => {
  const cases: Array<[flag: string, value: string, field: keyof Config, expected: unknown]> = [
    ['--port', '7000', 'port', 7000],
    ['--port', '0', 'port', 0],
    ['--port', '65535', 'port', 65535],
    ['--bind', '0.0.0.0', 'bind', '0.0.0.0'],
    ['--bind', '::1', 'bind', '::1'],
    ['--shards', '1', 'shards', 1],
    ['--shards', '256', 'shards', 256],
    ...LOG_LEVELS.map((l): [string, string, keyof Config, unknown] => ['--log-level', l, 'logLevel', l]),
  ]

  it.each(cases)('%s %s', (flag, value, field, expected) => {
    expect(config([flag, value])[field]).toBe(expected)
  })

  it.each(cases)('%s=%s', (flag, value, field, expected) => {
    expect(config([`${flag}=${value}`])[field]).toBe(expected)
  })

  it('everything at once, mixing both forms; the last of a repeated flag wins', () => {
    expect(config(['--port=1234', '--bind', '10.0.0.1', '--shards=3', '--log-level', 'warn', '--port', '4321'])).toMatchObject(
      { port: 4321, bind: '10.0.0.1', shards: 3, logLevel: 'warn', configFile: '' })
  })

  it('only the first = splits: --bind=a=b binds "a=b"', () => {
    expect(config(['--bind=a=b']).bind).toBe('a=b')
  })

  it('--help, -h, --version and -v stop parsing and win over bad flags after them', () => {
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' })
    expect(parseArgs(['-h', '--port', 'nope'])).toEqual({ kind: 'help' })
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' })
    expect(parseArgs(['--port', '1', '-v', '--bogus'])).toEqual({ kind: 'version' })
  })

  it('USAGE lists every flag and every log level', () => {
    for (const f of ['--port', '--bind', '--shards', '--log-level', '--help', '--version']) expect(USAGE).toContain(f)
    for (const l of LOG_LEVELS) expect(USAGE).toContain(l)
  })
})

describe('bad values', () => {
  const bad: Array<[argv: string[], message: string]> = [
    [['--port'], '--port needs a value'],
    [['--port', 'abc'], "--port needs an integer, got 'abc'"],
    [['--port=abc'], "--port needs an integer, got 'abc'"],
    [['--port='], "--port needs an integer, got ''"],
    [['--port', '-1'], "--port needs an integer, got '-1'"],
    [['--port', '+5'], "--port needs an integer, got '+5'"],
    [['--port', '1e3'], "--port needs an integer, got '1e3'"],
    [['--port', '80.5'], "--port needs an integer, got '80.5'"],
    [['--port', ' 80'], "--port needs an integer, got ' 80'"],
    [['--port', '65536'], '--port must be between 0 and 65535, got 65536'],
    [['--port=99999999999'], '--port must be between 0 and 65535, got 99999999999'],
    [['--bind'], '--bind needs a value'],
    [['--bind', ''], '--bind needs an address'],
    [['--bind='], '--bind needs an address'],
    [['--shards'], '--shards needs a value'],
    [['--shards', 'x'], "--shards needs an integer, got 'x'"],
    [['--shards=0'], '--shards must be between 1 and 256, got 0'],
    [['--shards', '257'], '--shards must be between 1 and 256, got 257'],
    [['--log-level'], '--log-level needs a value'],
    [['--log-level', 'loud'], `--log-level must be one of ${LOG_LEVELS.join(', ')}, got 'loud'`],
    [['--log-level=INFO'], `--log-level must be one of ${LOG_LEVELS.join(', ')}, got 'INFO'`],
    [['--log-level='], `--log-level must be one of ${LOG_LEVELS.join(', ')}, got ''`],
    [['--bogus'], "unknown option '--bogus'"],
    [['--bogus=1'], "unknown option '--bogus'"],
    [['port'], 'cannot read config file port: ENOENT: no such file or directory, open \'port\''],
    [['-p', '1'], "unknown option '-p'"],
    [['--port', '1', 'a.conf', 'extra'], "unknown option 'extra'"],
  ]

  it.each(bad)('%j → %s', (argv, message) => {
    const err = error(argv)
    expect(err.message).toBe(message)
  })

  it('a missing value swallows the next flag as the value and names the flag that needed it', () => {
    expect(error(['--port', '--bind', 'x']).message).toBe("--port needs an integer, got '--bind'")
  })

  it('ConfigError is an Error', () => {
    expect(error(['--bogus'])).toBeInstanceOf(Error)
  })
})

describe('--io-threads', () => {
  it('defaults to 1 up to 4 usable CPUs, then one per 4', async () => {
    const { defaultIoThreads } = await import('../../src/config.js')
    expect([1, 2, 4, 5, 8, 16, 64].map(defaultIoThreads)).toEqual([1, 1, 1, 1, 2, 4, 16])
  })

  it('takes the flag, the variable and the directive, 1 to 128', async () => {
    const { parseArgs } = await import('../../src/config.js')
    const run = (argv: string[], env: Record<string, string> = {}): number => {
      const r = parseArgs(argv, { env })
      if (r.kind !== 'run') throw new Error('not a run')
      return r.config.ioThreads
    }
    expect(run(['--io-threads', '4'])).toBe(4)
    expect(run([], { FLASHKV_IO_THREADS: '3' })).toBe(3)
    expect(() => run(['--io-threads', '0'])).toThrow()
    expect(() => run(['--io-threads', '129'])).toThrow()
  })
})
