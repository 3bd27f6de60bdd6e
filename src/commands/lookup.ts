// Case-insensitive name → command, straight from request bytes: an open-addressing table keyed
// by a hash of the ASCII-folded name, then a byte compare. No strings are made per request.
import { Buffer } from 'node:buffer'


function foldedHash (buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5 ^ len
  for (let i = start; i < start + len; i++) {
    const c = buf[i]
    h = Math.imul(h ^ (c >= 65 && c <= 90 ? c | 0x20 : c), 0x01000193)
  }
  // 30 bits: a small integer (Smi) even when returned from a call, where a uint32 would be a heap number.
  return (h ^ (h >>> 16)) & 0x3fffffff
}

export class NameIndex<T> {
  private readonly names: Uint8Array[]
  private readonly values: T[]
  private readonly slots: Int32Array
  private readonly mask: number

  constructor (entries: ReadonlyArray<[string, T]>) {
    let size = 16
    while (size < entries.length * 4) size *= 2
    this.mask = size - 1
    this.slots = new Int32Array(size).fill(-1)
    this.names = []
    this.values = []
    for (const [name, value] of entries) {
      const bytes = Buffer.from(name.toLowerCase(), 'latin1')
      let i = foldedHash(bytes, 0, bytes.length) & this.mask
      while (this.slots[i] >= 0) i = (i + 1) & this.mask
      this.slots[i] = this.names.length
      this.names.push(bytes)
      this.values.push(value)
    }
  }

  get (buf: Uint8Array, start: number, len: number): T | undefined {
    let i = foldedHash(buf, start, len) & this.mask
    for (;;) {
      const k = this.slots[i]
      if (k < 0) return undefined
      const name = this.names[k]
      if (name.length === len) {
        let j = 0
        for (; j < len; j++) {
          const c = buf[start + j]
          if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== name[j]) break
        }
        if (j === len) return this.values[k]
      }
      i = (i + 1) & this.mask
    }
  }
}
