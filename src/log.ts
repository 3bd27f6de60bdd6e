// pino logger: JSON lines on stdout with the fields log collectors expect (level, time, msg,
// pid); when stdout is a terminal, the same records as short human-readable lines instead.

import { pino, type Logger } from 'pino'

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

export function createLogger (level: string, stream: NodeJS.WriteStream = process.stdout): Logger {
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.epochTime }
  if (stream.isTTY === true) {
    return pino(options, { write: (line: string) => { stream.write(humanLine(line)) } })
  }
  return pino(options, pino.destination({ dest: 1, sync: true }))
}
