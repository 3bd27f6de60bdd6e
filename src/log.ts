// pino logger: JSON lines on stdout with the fields log collectors expect (level, time, msg,
// pid); when stdout is a terminal, the same records as short human-readable lines instead.

import { pino, type Logger } from 'pino'
import { saveWords, W_LOG_LEVEL } from './persistence/save-state.js'

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }

/** Formats one pino JSON record for a person: "12:00:00.000 INFO  msg key=value ...". */
export function humanLine (json: string): string {
  let rec: Record<string, unknown>
  try { rec = JSON.parse(json) as Record<string, unknown> } catch { return json }
  const rest: Record<string, unknown> = { ...rec }
  const { level, time, msg } = rec
  for (const k of ['level', 'time', 'msg', 'pid', 'hostname']) delete rest[k]
  const t = new Date(Number(time)).toISOString().slice(11, 23)
  const extras = Object.entries(rest).map(([k, v]) => {
    if (k === 'err' && typeof v === 'object' && v !== null) return `err=${String((v as { message?: unknown }).message)}`
    return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`
  }).join(' ')
  return `${t} ${(LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${extras === '' ? '' : ' ' + extras}\n`
}

/**
 * `logfile` ('' = stdout): a path gets the JSON lines appended, written at once (sync), so the
 * lines of several threads appending to it never mix.
 */
export function createLogger (level: string, logfile = '', stream: NodeJS.WriteStream = process.stdout): Logger {
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime }
  if (logfile !== '') return pino(options, pino.destination({ dest: logfile, append: true, sync: true }))
  if (stream.isTTY === true) {
    return pino(options, { write: (line: string) => { stream.write(humanLine(line)) } })
  }
  return pino(options, pino.destination({ dest: 1, sync: true }))
}

/** Redis 7.0's loglevel names (CONFIG GET/SET loglevel). */
export const REDIS_LOG_LEVELS: readonly string[] = ['debug', 'verbose', 'notice', 'warning']
/** The pino level each Redis name sets (7.2's "nothing" too, which the config file takes). */
export const PINO_LEVEL_OF_REDIS: Readonly<Record<string, string>> = { debug: 'debug', verbose: 'debug', notice: 'info', warning: 'warn', nothing: 'silent' }

/**
 * The index CONFIG GET loglevel reads for a level given at start: a Redis 7.0 name's own; for a
 * pino name the closest (trace is below debug; error, fatal, silent and 7.2's "nothing" are above
 * warning, 7.0's highest).
 */
export function redisLevelOf (level: string): number {
  const i = REDIS_LOG_LEVELS.indexOf(level)
  if (i >= 0) return i
  switch (level) {
    case 'trace': case 'debug': return 0
    case 'info': return 2
    default: return 3
  }
}

/** Start-up, on the main thread before any other: the level every thread's logger begins at. */
export function initLogLevel (index: number): void {
  saveWords().i32[W_LOG_LEVEL] = index
}

const followers: Logger[] = []
let seen = -1

function sync (): void {
  const w = Atomics.load(saveWords().i32, W_LOG_LEVEL)
  if (w === seen) return
  seen = w
  for (const log of followers) log.level = PINO_LEVEL_OF_REDIS[REDIS_LOG_LEVELS[w & 7]]
}

/**
 * This thread's logger takes the level CONFIG SET loglevel sets on any thread: at once on the
 * thread that ran it, within a tenth of a second on the others. The level it was created with
 * stays until then (a pino level such as trace, which Redis's names do not have).
 */
export function followLogLevel (log: Logger): void {
  if (followers.length === 0) {
    seen = Atomics.load(saveWords().i32, W_LOG_LEVEL)
    setInterval(sync, 100).unref()
  }
  followers.push(log)
}

/** CONFIG SET loglevel: Redis's level index. */
export function setLogLevel (index: number): void {
  const i32 = saveWords().i32
  const w = Atomics.load(i32, W_LOG_LEVEL)
  Atomics.store(i32, W_LOG_LEVEL, (((w >>> 3) + 1) << 3) | index)
  sync()
}

/** CONFIG GET loglevel. */
export function logLevelName (): string { return REDIS_LOG_LEVELS[Atomics.load(saveWords().i32, W_LOG_LEVEL) & 7] }
