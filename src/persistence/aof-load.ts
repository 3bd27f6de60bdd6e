// Replaying the append-only file at start (loadSingleAppendOnlyFile's fake client): once the
// shards have loaded the RDB base, the commands of the base (when it is commands) and of each
// incremental file go through the normal command path on a loader client (a virtual client of
// the router, server/virtual-connection.ts, that the LOADING gate lets through), in pieces of
// about a megabyte, never cut inside MULTI/EXEC, each piece starting with the SELECT in force
// (complete MULTI/EXEC blocks go without their MULTI and EXEC: nothing else runs meanwhile).
// Writes are not logged again meanwhile: appendonly's word is set only once the replay is over.

import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import type { RestBackend } from '../server/virtual-connection.js'
import { saveWords, W_LOADING, W_AOF_ON, W_AOF_LOADING, F_AOF_BASE_SIZE } from './save-state.js'
import { aofCurrentSize } from './aof-files.js'
import { equalsLower, token } from '../protocol/ascii.js'

interface Logger { info: (o: object, m: string) => void, warn: (o: object, m: string) => void }

const PIECE_BYTES = 1024 * 1024

// The file was checked whole before (aof-files.ts scanCommands): every command here is complete.
// The scan reads bytes, with no string per argument: it was a third of the main thread's time
// replaying a million SETs.

/** The decimal number at b[p] up to its CR (a RESP header's length); its end is left in `numEnd`. */
let numEnd = 0
function numAt (b: Buffer, p: number): number {
  let v = 0
  while (b[p] !== 13) v = v * 10 + b[p++] - 48
  numEnd = p
  return v
}

/** End of the complete command at p (a RESP multibulk), or of an annotation line. */
function commandEnd (b: Buffer, p: number): number {
  if (b[p] === 35) return b.indexOf(10, p) + 1
  const argc = numAt(b, p + 1)
  let q = numEnd + 2
  for (let i = 0; i < argc; i++) {
    const len = numAt(b, q + 1)
    q = numEnd + 2 + len + 2
  }
  return q
}

const KIND_OTHER = 0
const KIND_MULTI = 1
const KIND_EXEC = 2
const KIND_SELECT = 3

const MULTI = token('multi')
const EXEC = token('exec')
const SELECT = token('select')

/** What the command at p is to the piece cutter; for SELECT, its database is left in `selected`. */
let selected = 0
function kindOf (b: Buffer, p: number): number {
  const argc = numAt(b, p + 1)
  const len = numAt(b, numEnd + 3)
  const name = numEnd + 2
  if (equalsLower(b, name, len, MULTI)) return KIND_MULTI
  if (equalsLower(b, name, len, EXEC)) return KIND_EXEC
  if (argc < 2 || !equalsLower(b, name, len, SELECT)) return KIND_OTHER
  const n = numAt(b, name + len + 3)
  selected = Number(b.toString('latin1', numEnd + 2, numEnd + 2 + n))
  return KIND_SELECT
}

/**
 * Where the EXEC that ends the block whose commands start at p is; -1 when the file ends first
 * (or another MULTI comes: no file of Redis's has that; it runs as it stands). Only EXEC ends a
 * block here, as in Redis's loader (scanCommands cut a block with none off the file's end).
 */
function blockEnd (b: Buffer, p: number): number {
  while (p < b.length) {
    if (b[p] !== 35) {
      const kind = kindOf(b, p)
      if (kind === KIND_EXEC) return p
      if (kind === KIND_MULTI) return -1
    }
    p = commandEnd(b, p)
  }
  return -1
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
      // The piece's commands are runs of the file between annotations, sent as they are, less
      // the MULTI and EXEC of complete blocks (below).
      const pieces: Buffer[] = [selectCmd(db)]
      let count = 1
      const start = p
      let from = p
      // The EXEC of the block being read (-1: none): a piece never ends inside one.
      let execAt = -1
      while (p < b.length && (p - start < PIECE_BYTES || execAt >= 0)) {
        const e = commandEnd(b, p)
        if (b[p] === 35) {
          if (p > from) pieces.push(b.subarray(from, p))
          p = from = e
          continue
        }
        if (p === execAt) {
          if (p > from) pieces.push(b.subarray(from, p))
          p = from = e
          execAt = -1
          continue
        }
        const kind = kindOf(b, p)
        if (kind === KIND_MULTI && execAt < 0) {
          // Nothing else runs while loading, so a block's commands need no transaction: sent bare,
          // the split-shard EXEC's bookkeeping goes (a file of cross-shard moves, each one block,
          // loaded in a third of the time). A block with no EXEC was cut off the file before
          // (scanCommands), as Redis reverts it.
          const end = blockEnd(b, e)
          if (end >= 0) {
            if (p > from) pieces.push(b.subarray(from, p))
            from = e
            execAt = end
            p = e
            continue
          }
        }
        count++
        if (kind === KIND_SELECT) db = selected
        p = e
      }
      if (p > from) pieces.push(b.subarray(from, p))
      const r = await backend.runRest({ id: nextId--, addr: '127.0.0.1', port: 0, localAddr: '127.0.0.1', localPort: 0, cmds: Buffer.concat(pieces), count, isLoader: true })
      if (r.kind === 'refused') throw new Error(`loading the AOF: ${r.error}`)
    }
    log.info({}, `DB loaded from ${files.indexOf(path) === 0 && path.includes('.base.') ? 'base' : 'incr'} file ${basename(path)}: ${((Date.now() - t1) / 1000).toFixed(3)} seconds`)
  }
  log.info({}, `DB loaded from append only file: ${((Date.now() - t0) / 1000).toFixed(3)} seconds`)
  saveWords().f64[F_AOF_BASE_SIZE] = aofCurrentSize()
  Atomics.store(i32, W_AOF_LOADING, 0)
  Atomics.store(i32, W_AOF_ON, 1)
  if (Atomics.load(i32, W_LOADING) > 0) Atomics.sub(i32, W_LOADING, 1)
}
