// Start-up configuration: defaults, then command-line flags, into one frozen object. A bad
// value is a ConfigError, which main.ts prints with the usage and turns into exit code 2.

import { availableParallelism } from 'node:os'

export interface Config {
  readonly port: number
  readonly bind: string
  readonly shards: number
  readonly logLevel: string
  readonly configFile: string
}

export class ConfigError extends Error {}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

/** One core for the primary (sockets and RESP), the rest for shards; never fewer than one. */
export function defaultShards (): number {
  return Math.max(1, availableParallelism() - 1)
}

export const USAGE = `Usage: flashkv [options]

Options:
  --port <n>          TCP port to listen on (default 6379; 0 picks a free port)
  --bind <addr>       address to listen on (default 127.0.0.1)
  --shards <n>        shard worker threads (default: usable CPUs minus one, at least 1)
  --log-level <lvl>   ${LOG_LEVELS.join(', ')} (default info)
  --help              print this help and exit
  --version           print the version and exit
`

function parseIntFlag (name: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined || !/^\d+$/.test(v)) throw new ConfigError(`--${name} needs an integer, got ${v === undefined ? 'nothing' : `'${v}'`}`)
  const n = Number(v)
  if (n < min || n > max) throw new ConfigError(`--${name} must be between ${min} and ${max}, got ${n}`)
  return n
}

export type ParseResult = { kind: 'run', config: Config } | { kind: 'help' } | { kind: 'version' }

export function parseArgs (argv: readonly string[]): ParseResult {
  let port = 6379
  let bind = '127.0.0.1'
  let shards = defaultShards()
  let logLevel = 'info'
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]
    let value: string | undefined
    const eq = arg.indexOf('=')
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq) }
    const take = (): string | undefined => value ?? argv[++i]
    switch (arg) {
      case '--help': case '-h': return { kind: 'help' }
      case '--version': case '-v': return { kind: 'version' }
      case '--port': port = parseIntFlag('port', take(), 0, 65535); break
      case '--bind': {
        const v = take()
        if (v === undefined || v === '') throw new ConfigError('--bind needs an address')
        bind = v
        break
      }
      case '--shards': shards = parseIntFlag('shards', take(), 1, 256); break
      case '--log-level': {
        const v = take()
        if (v === undefined || !(LOG_LEVELS as readonly string[]).includes(v)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${v === undefined ? 'nothing' : `'${v}'`}`)
        logLevel = v
        break
      }
      default: throw new ConfigError(`unknown option '${arg}'`)
    }
  }
  return { kind: 'run', config: Object.freeze({ port, bind, shards, logLevel, configFile: '' }) }
}
