// FUNCTION DUMP's payload, as Redis 7.0 writes it (functionDumpCommand, rdbSaveFunctions,
// createDumpPayload): for each library the RDB_OPCODE_FUNCTION2 byte and its code as an RDB
// string, then the footer DUMP uses (RDB version 10, CRC64). The string encoding, LZF and the
// footer are persistence/'s, shared with DUMP of keys.

import { Buffer } from 'node:buffer'
import { ByteWriter } from '../persistence/listpack.js'
import { RDB_BAD, RdbReader, finishPayload, saveString, verifyDumpPayload } from '../persistence/rdb-value.js'

export { RDB_VERSION } from '../persistence/rdb-value.js'
export const RDB_OPCODE_FUNCTION = 246
export const RDB_OPCODE_FUNCTION2 = 245

/** The payload FUNCTION DUMP answers for these library codes. */
export function dumpPayload (codes: readonly Buffer[]): Buffer {
  const w = new ByteWriter()
  for (const code of codes) {
    w.byte(RDB_OPCODE_FUNCTION2)
    saveString(w, code, 0, code.length)
  }
  return finishPayload(w)
}

/** verifyDumpPayload: at least the footer, a version Redis can read, and the CRC64. */
export const verifyPayload = (p: Buffer): boolean => verifyDumpPayload(p)

/** A reader over the payload's records (functionRestoreCommand): up to the last ten bytes. */
export class PayloadReader {
  private readonly r: RdbReader
  constructor (private readonly p: Buffer) { this.r = new RdbReader(p, p.length) }

  get pos (): number { return this.r.p }
  get hasMore (): boolean { return this.p.length - this.r.p > 10 }

  byte (): number | null {
    return this.r.p < this.p.length ? this.p[this.r.p++] : null
  }

  /** rdbLoadLen of a plain length; null past the end or for an encoding marker. */
  plainLen (): number | null {
    const l = this.guard(() => this.r.len())
    return l === null || l < 0 ? null : l
  }

  /** rdbGenericLoadStringObject: plain, integer-encoded or LZF; null when it cannot be read. */
  string (): Buffer | null {
    const s = this.guard(() => this.r.string())
    return s === null ? null : Buffer.from(s)
  }

  private guard<T> (fn: () => T): T | null {
    try {
      return fn()
    } catch (err) {
      if (err === RDB_BAD) return null
      throw err
    }
  }
}
