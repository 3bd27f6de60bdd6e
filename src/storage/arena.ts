// Size-class allocator over one growable SharedArrayBuffer: the bytes of every key and value of
// a keyspace live here, not in JS objects. Offsets are byte offsets (8-aligned, 0 = null).
//
//   [ 0..8 reserved | block | block | free block → next free of its class | ... | top → unused ]
//
// Classes: multiples of 8 up to 512 bytes, then four per power of two (≤25% slack), like
// jemalloc's spacing. Freed blocks go on a per-class list; growth doubles the buffer in place
// (SharedArrayBuffer.grow), so the server never stops to copy its data.
//
// The bookkeeping (free list heads, top, used) lives in a small SharedArrayBuffer of its own
// (`meta`), not in this thread's JS: a shard worker that dies leaves its allocator exactly as it
// was, and its replacement takes it over (docs/ARCHITECTURE.md, "A dead shard").

const SMALL_LIMIT = 512
const SMALL_CLASSES = SMALL_LIMIT >>> 3 // 64
export const CLASS_COUNT = SMALL_CLASSES + 1 + 23 * 4
const PAGE = 64 * 1024
/** Node 20 rejects maxByteLength above 2^32; keep offsets within u32. */
export const MAX_ARENA_BYTES = 2 ** 32 - PAGE

export function sizeClass (size: number): number {
  if (size <= SMALL_LIMIT) return (size + 7) >>> 3
  const n = size - 1
  const b = 31 - Math.clz32(n)
  return SMALL_CLASSES + 1 + (b - 9) * 4 + ((n >>> (b - 2)) - 4)
}

/** 2^i for the large classes' steps: `2 ** i` with a variable i is a pow() call in V8. */
const POW2 = Float64Array.from({ length: 33 }, (_, i) => 2 ** i)

export function classBytes (cls: number): number {
  if (cls <= SMALL_CLASSES) return cls << 3
  const k = cls - SMALL_CLASSES - 1
  const b = (k >>> 2) + 9
  return ((k & 3) + 5) * POW2[b - 2]
}

/** meta's words after the free list heads: the top, and the bytes in use. */
const META_TOP = CLASS_COUNT + 1
const META_USED = CLASS_COUNT + 2
const META_WORDS = CLASS_COUNT + 3

export class Arena {
  sab: SharedArrayBuffer
  u8: Uint8Array
  u32: Uint32Array
  f64: Float64Array
  readonly maxBytes: number
  /** Shared bookkeeping: free list head per class, then META_TOP and META_USED. */
  private meta: Float64Array
  private freeHeads: Float64Array

  /** The buffer of the shared bookkeeping (Keyspace.isMovedFrom). */
  get metaBuffer (): ArrayBufferLike { return this.meta.buffer }

  get top (): number { return this.meta[META_TOP] }
  set top (v: number) { this.meta[META_TOP] = v }
  /** Bytes handed out in blocks (block sizes, not requested sizes): INFO used_memory. */
  get used (): number { return this.meta[META_USED] }
  set used (v: number) { this.meta[META_USED] = v }

  constructor (initialBytes = PAGE, maxBytes = MAX_ARENA_BYTES, state: ArenaState | null = null) {
    // A multiple of 8, so that the Float64Array view always fits the buffer.
    this.maxBytes = Math.max(8, Math.floor(Math.min(maxBytes, MAX_ARENA_BYTES) / 8) * 8)
    const initial = Math.min(roundPage(initialBytes), this.maxBytes)
    this.sab = state === null ? new SharedArrayBuffer(initial, { maxByteLength: this.maxBytes }) : state.sab
    this.u8 = new Uint8Array(0)
    this.u32 = new Uint32Array(0)
    this.f64 = new Float64Array(0)
    this.views()
    this.meta = new Float64Array(new SharedArrayBuffer(META_WORDS * 8))
    this.freeHeads = this.meta.subarray(0, CLASS_COUNT + 1)
    this.top = 8
    if (state !== null) this.importState(state)
  }

  /**
   * The allocator's bookkeeping with its buffer, so that another thread can allocate here while
   * this one is parked (the transaction engine, storage/lend.ts). The bytes are shared already.
   */
  exportState (): ArenaState {
    return { sab: this.sab, maxBytes: this.maxBytes, top: this.top, used: this.used, freeHeads: this.freeHeads }
  }

  /** Takes back the bookkeeping another thread left; the buffer may have grown meanwhile. */
  importState (s: ArenaState): void {
    // freeHeads is a view of a meta buffer (shared: the same one when it is this arena's).
    const buf = s.freeHeads.buffer
    if (buf !== this.meta.buffer) {
      if (buf instanceof SharedArrayBuffer && buf.byteLength === META_WORDS * 8) this.meta = new Float64Array(buf)
      else { this.meta = new Float64Array(new SharedArrayBuffer(META_WORDS * 8)); this.meta.set(s.freeHeads.subarray(0, CLASS_COUNT + 1)) }
      this.freeHeads = this.meta.subarray(0, CLASS_COUNT + 1)
    }
    this.top = s.top
    this.used = s.used
    // Another thread's copy of the buffer may be another buffer (a database flushed since).
    if (this.sab !== s.sab) this.sab = s.sab
    if (this.u8.buffer !== this.sab || this.u8.length !== this.sab.byteLength) this.views()
  }

  /**
   * Makes sure `bytes` more (in block sizes, classBytes) can be allocated, growing now if need
   * be: a multi-step change checks this before its first write, so that it cannot stop half-way
   * on a full arena. Free blocks only help, so the top alone is counted.
   */
  reserve (bytes: number): boolean {
    const needed = this.top + bytes
    if (needed <= this.sab.byteLength) return true
    return this.grow(needed)
  }

  get capacity (): number { return this.sab.byteLength }

  /** Returns an 8-aligned offset, or 0 when the arena cannot grow any more. */
  alloc (size: number): number {
    if (size > this.maxBytes) return 0
    const cls = sizeClass(size)
    const m = this.meta
    const head = m[cls]
    const bytes = classBytes(cls)
    if (head !== 0) {
      m[cls] = this.u32[head >>> 2]
      m[META_USED] += bytes
      return head
    }
    const off = m[META_TOP]
    if (off + bytes > this.sab.byteLength && !this.grow(off + bytes)) return 0
    m[META_TOP] = off + bytes
    m[META_USED] += bytes
    return off
  }

  free (off: number, size: number): void {
    const cls = sizeClass(size)
    const m = this.meta
    this.u32[off >>> 2] = m[cls]
    m[cls] = off
    m[META_USED] -= classBytes(cls)
  }

  /** True when a block allocated for `a` bytes can hold `b` bytes in place. */
  static sameBlock (a: number, b: number): boolean {
    return sizeClass(a) === sizeClass(b)
  }

  sameBlockFor (a: number, b: number): boolean { return sizeClass(a) === sizeClass(b) }

  /** Bytes a block for `size` bytes really takes. */
  blockBytes (size: number): number { return classBytes(sizeClass(size)) }

  private grow (needed: number): boolean {
    if (needed > this.maxBytes) return false
    const next = Math.min(this.maxBytes, Math.max(roundPage(needed), roundPage(this.sab.byteLength * 2)))
    this.sab.grow(next)
    this.views()
    return true
  }

  /**
   * Fixed-length views over the current size. A view made without a length over a growable
   * buffer is length-tracking, and V8 gives those a slower element kind on every access.
   */
  private views (): void {
    const n = this.sab.byteLength
    this.u8 = new Uint8Array(this.sab, 0, n)
    this.u32 = new Uint32Array(this.sab, 0, n >>> 2)
    this.f64 = new Float64Array(this.sab, 0, n >>> 3)
  }
}

/** What Arena.exportState hands over: structured-cloneable, the buffer shared, not copied. */
export interface ArenaState {
  sab: SharedArrayBuffer
  maxBytes: number
  top: number
  used: number
  /** A view of the arena's shared bookkeeping (its META_TOP and META_USED words follow). */
  freeHeads: Float64Array
}

function roundPage (n: number): number {
  return Math.ceil(n / PAGE) * PAGE
}
