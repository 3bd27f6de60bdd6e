// What SAVE (commands/persistence.ts) and BGSAVE's joiner (bgsave.ts) write alike: the file's
// header with its AUX fields, each database's SELECTDB/RESIZEDB, the EOF and checksum, and the
// write itself, whole or not at all.

import { Buffer } from 'node:buffer'
import { openSync, writeSync, fsyncSync, closeSync, renameSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { ByteWriter } from './listpack.js'
import { saveLen, saveString } from './rdb-value.js'

const RDB_OPCODE_AUX = 0xfa
const RDB_OPCODE_RESIZEDB = 0xfb
const RDB_OPCODE_SELECTDB = 0xfe
export const RDB_OPCODE_EOF = 0xff

function aux (w: ByteWriter, name: string, value: string): void {
  w.byte(RDB_OPCODE_AUX)
  const n = Buffer.from(name, 'latin1')
  const v = Buffer.from(value, 'latin1')
  saveString(w, n, 0, n.length)
  saveString(w, v, 0, v.length)
}

/** RDB version 10's magic and the AUX fields Redis 7.0 writes first (rdbSaveInfoAuxFields). */
export function rdbHeader (w: ByteWriter, version: string, usedMemory: number): void {
  w.bytes(Buffer.from('REDIS0010', 'latin1'))
  aux(w, 'redis-ver', version)
  aux(w, 'redis-bits', '64')
  aux(w, 'ctime', String(Math.floor(Date.now() / 1000)))
  aux(w, 'used-mem', String(usedMemory))
  aux(w, 'aof-base', '0')
}

/** A database's records start: SELECTDB, then RESIZEDB with its key and TTL counts. */
export function dbHeader (w: ByteWriter, db: number, keys: number, expires: number): void {
  w.byte(RDB_OPCODE_SELECTDB)
  saveLen(w, db)
  w.byte(RDB_OPCODE_RESIZEDB)
  saveLen(w, keys)
  saveLen(w, expires)
}

/** The eight bytes after EOF: the CRC64 of everything before them, or zeros (rdbchecksum no: "not checked"). */
export function checksumBytes (crc: bigint | null): Buffer {
  const b = Buffer.alloc(8)
  if (crc !== null) b.writeBigUInt64LE(crc)
  return b
}

/**
 * Writes dir/name whole or not at all: `fill` writes a temporary file (through `put`), which is
 * fsynced and renamed over the old one; on an error the temporary file is removed.
 */
export function writeAtomically (dir: string, name: string, tmpName: string, fill: (put: (b: Uint8Array) => void) => void): void {
  const tmp = join(dir, tmpName)
  const fd = openSync(tmp, 'w')
  try {
    fill(b => { for (let p = 0; p < b.length;) p += writeSync(fd, b, p, b.length - p) })
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    try { unlinkSync(tmp) } catch {}
    throw err
  }
  closeSync(fd)
  renameSync(tmp, join(dir, name))
}
