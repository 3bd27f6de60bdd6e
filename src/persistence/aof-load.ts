// Replaying the append-only file at start (loadSingleAppendOnlyFile's fake client): once the
// shards have loaded the RDB base, the commands of the base (when it is commands) and of each
// incremental file go through the normal command path on a loader client (a virtual client of
// the router, server/virtual-connection.ts, that the LOADING gate lets through), in pieces of
// about a megabyte, never cut inside MULTI/EXEC, each piece starting with the SELECT in force.
// Writes are not logged again meanwhile: appendonly's word is set only once the replay is over.

import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { RestBackend } from '../server/virtual-connection.js'
import { saveWords, W_LOADING, W_AOF_ON, F_AOF_BASE_SIZE } from './save-state.js'
import { aofCurrentSize } from './aof-files.js'

interface Logger { info: (o: object, m: string) => void, warn: (o: object, m: string) => void }

const PIECE_BYTES = 1024 * 1024

/** End of the complete command at p (a RESP multibulk checked at start), or of an annotation line. */
function commandEnd (b: Buffer, p: number): number {
  let e = b.indexOf(10, p)
  if (b[p] === 35) return e + 1
  const argc = Number(b.toString('latin1', p + 1, e - 1))
  let q = e + 1
  for (let i = 0; i < argc; i++) {
    e = b.indexOf(10, q)
    q = e + 1 + Number(b.toString('latin1', q + 1, e - 1)) + 2
  }
  return q
}

/** The first two arguments of the command at p: its name (lower case) and the next one. */
function nameAndArg (b: Buffer, p: number): [string, string] {
  let e = b.indexOf(10, p)
  const argc = Number(b.toString('latin1', p + 1, e - 1))
  const out = ['', '']
  let q = e + 1
  for (let i = 0; i < argc && i < 2; i++) {
    e = b.indexOf(10, q)
    const len = Number(b.toString('latin1', q + 1, e - 1))
    out[i] = b.toString('latin1', e + 1, e + 1 + len)
    q = e + 1 + len + 2
  }
  return [out[0].toLowerCase(), out[1]]
}

function selectCmd (db: number): Buffer {
  const d = String(db)
  return Buffer.from(`*2\r\n$6\r\nSELECT\r\n$${d.length}\r\n${d}\r\n`, 'latin1')
}

let nextId = -1

/** Replays `files` in order, then turns logging on and ends the loading state. */
export async function replayAof (backend: RestBackend, files: readonly string[], log: Logger): Promise<void> {
  const i32 = saveWords().i32
  // The RDB base first: every shard has it once the count is down to this replay's own.
  while (Atomics.load(i32, W_LOADING) > 1) await new Promise(resolve => setTimeout(resolve, 5))
  const t0 = Date.now()
  let db = 0
  for (const path of files) {
    const t1 = Date.now()
    const b = readFileSync(path)
    let p = 0
    while (p < b.length) {
      const pieces: Buffer[] = [selectCmd(db)]
      let count = 1
      let bytes = 0
      let isInMulti = false
      while (p < b.length && (bytes < PIECE_BYTES || isInMulti)) {
        const e = commandEnd(b, p)
        if (b[p] === 35) { p = e; continue }
        const [name, first] = nameAndArg(b, p)
        pieces.push(b.subarray(p, e))
        count++
        bytes += e - p
        if (name === 'multi') isInMulti = true
        else if (name === 'exec' || name === 'discard') isInMulti = false
        else if (name === 'select') db = Number(first)
        p = e
      }
      const r = await backend.runRest({ id: nextId--, addr: '127.0.0.1', port: 0, localAddr: '127.0.0.1', localPort: 0, cmds: Buffer.concat(pieces), count, isLoader: true })
      if (r.kind === 'refused') throw new Error(`loading the AOF: ${r.error}`)
    }
    log.info({}, `DB loaded from ${files.indexOf(path) === 0 && path.includes('.base.') ? 'base' : 'incr'} file ${basename(path)}: ${((Date.now() - t1) / 1000).toFixed(3)} seconds`)
  }
  log.info({}, `DB loaded from append only file: ${((Date.now() - t0) / 1000).toFixed(3)} seconds`)
  saveWords().f64[F_AOF_BASE_SIZE] = aofCurrentSize()
  Atomics.store(i32, W_AOF_ON, 1)
  if (Atomics.load(i32, W_LOADING) > 0) Atomics.sub(i32, W_LOADING, 1)
}
