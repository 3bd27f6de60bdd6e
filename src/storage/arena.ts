// Size-class allocator over one growable SharedArrayBuffer: the bytes of every key and value of
// a keyspace live here, not in JS objects. Offsets are byte offsets (8-aligned, 0 = null).
//
//   [ 0..8 reserved | block | block | free block → next free of its class | ... | top → unused ]
//
// Classes: multiples of 8 up to 512 bytes, then four per power of two (≤25% slack), like
// jemalloc's spacing. A freed block merges with free neighbours (boundary bits, below) and goes
// on the list of the largest class it holds; an alloc takes its class's list, else splits a
// block of the smallest bigger class, else carves from the top. So the bytes that deletions free
// serve any later size, and the arena grows only when no free block is big enough. Growth
// doubles the buffer in place (SharedArrayBuffer.grow), so the server never stops to copy its
// data; giving memory back means a new buffer (Keyspace.clear, FLUSHALL; shrink, after a slide
// brought the blocks in use down to the bottom).
//
// The bookkeeping (free list heads, top, used, the class mask) lives in a small SharedArrayBuffer
// of its own (`meta`), and the merge bits in another, not in this thread's JS: a shard worker
// that dies leaves its allocator as it was, and its replacement takes it over
// (docs/ARCHITECTURE.md, "A dead shard"). Only blocks freed since the last alloc and not yet
// merged (`pending`) are the thread's own; a clean exit settles them first.

const SMALL_LIMIT = 512
const SMALL_CLASSES = SMALL_LIMIT >>> 3 // 64
export const CLASS_COUNT = SMALL_CLASSES + 1 + 23 * 4
const PAGE = 64 * 1024
/** Node 20 rejects maxByteLength above 2^32; keep offsets within u32. */
export const MAX_ARENA_BYTES = 2 ** 32 - PAGE

const MASK_WORDS = (CLASS_COUNT + 32) >>> 5
/**
 * meta's float words after the free list heads: the top, the bytes in use, and the highest top
 * before the top last came down (pages up to it have been written); then the mask's u32 words.
 */
const META_TOP = CLASS_COUNT + 1
const META_USED = CLASS_COUNT + 2
const META_PEAK = CLASS_COUNT + 3
const META_WORDS = CLASS_COUNT + 4
const META_BYTES = META_WORDS * 8 + MASK_WORDS * 4

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

export class Arena {
  sab: SharedArrayBuffer
  u8: Uint8Array
  u32: Uint32Array
  f64: Float64Array
  readonly maxBytes: number
  /** Shared bookkeeping: free list head per class, then META_TOP and META_USED (Float64 words). */
  private meta: Float64Array
  private freeHeads: Float64Array
  /** Bit c set while class c's free list is not empty, so a miss finds a bigger block at once (in meta's buffer). */
  private mask: Uint32Array

  /** The merge bits' buffer (Keyspace.layout). */
  get bitsBuffer (): SharedArrayBuffer { return this.bitsSab }

  /** The view of the shared bookkeeping (Keyspace.layout, isMovedFrom). */
  get metaView (): Float64Array { return this.meta }

  /** End of the carved part: everything past it is untouched (freeing the last block lowers it). */
  get top (): number { return this.meta[META_TOP] }
  set top (v: number) { this.meta[META_TOP] = v }
  /**
   * The highest the top has been in this buffer: the pages below it were written, so they are
   * resident whatever the top is now (recorded only where the top comes down, not per alloc).
   */
  get residentTop (): number { return Math.max(this.meta[META_PEAK], this.meta[META_TOP]) }
  /** Bytes handed out in blocks (block sizes, not requested sizes): INFO used_memory. */
  get used (): number { return this.meta[META_USED] }
  set used (v: number) { this.meta[META_USED] = v }
  /**
   * Two bits per 8-byte granule, in pairs of words: (2w) a free block starts here, (2w+1) a free
   * block ends here. They let free() merge a block with free neighbours in O(1), so that freed
   * small blocks make room for big ones (Redis leaves that to jemalloc).
   */
  private bitsSab: SharedArrayBuffer
  private bits: Uint32Array
  /** Blocks freed since the last alloc, (offset, bytes) pairs, not merged yet (free, settle). */
  private readonly pending = new Float64Array(2 * PENDING_MAX)
  private pendingCount = 0

  constructor (initialBytes = PAGE, maxBytes = MAX_ARENA_BYTES, state: ArenaState | null = null) {
    // A multiple of 8, so that the Float64Array view always fits the buffer.
    this.maxBytes = Math.max(8, Math.floor(Math.min(maxBytes, MAX_ARENA_BYTES) / 8) * 8)
    const initial = Math.min(roundPage(initialBytes), this.maxBytes)
    this.sab = state === null ? new SharedArrayBuffer(initial, { maxByteLength: this.maxBytes }) : state.sab
    this.bitsSab = state === null ? new SharedArrayBuffer(bitsBytes(initial), { maxByteLength: bitsBytes(this.maxBytes) }) : state.bits
    this.u8 = new Uint8Array(0)
    this.u32 = new Uint32Array(0)
    this.f64 = new Float64Array(0)
    this.bits = new Uint32Array(0)
    this.views()
    this.meta = this.freeHeads = new Float64Array(0)
    this.mask = new Uint32Array(0)
    this.useMeta(new SharedArrayBuffer(META_BYTES))
    this.top = 8
    if (state !== null) this.importState(state)
  }

  private useMeta (buf: SharedArrayBuffer): void {
    this.meta = new Float64Array(buf, 0, META_WORDS)
    this.freeHeads = this.meta.subarray(0, CLASS_COUNT + 1)
    this.mask = new Uint32Array(buf, META_WORDS * 8, MASK_WORDS)
  }

  /** The state a replacement thread takes over from a dead one's buffers (Keyspace.resume). */
  static resumeState (sab: SharedArrayBuffer, bits: SharedArrayBuffer, maxBytes: number, meta: Float64Array): ArenaState {
    return { sab, bits, maxBytes, top: meta[META_TOP], used: meta[META_USED], freeHeads: meta, mask: new Uint32Array(meta.buffer, META_WORDS * 8, MASK_WORDS) }
  }

  /**
   * The allocator's bookkeeping with its buffer, so that another thread can allocate here while
   * this one is parked (the transaction engine, storage/lend.ts). The bytes are shared already.
   */
  exportState (): ArenaState {
    this.settle()
    return { sab: this.sab, bits: this.bitsSab, maxBytes: this.maxBytes, top: this.top, used: this.used, freeHeads: this.meta, mask: this.mask }
  }

  /** Takes back the bookkeeping another thread left; the buffer may have grown meanwhile. */
  importState (s: ArenaState): void {
    this.pendingCount = 0
    // freeHeads is a view of a meta buffer (shared: the same one when it is this arena's).
    const buf = s.freeHeads.buffer
    if (buf !== this.meta.buffer) {
      if (buf instanceof SharedArrayBuffer && buf.byteLength === META_BYTES) this.useMeta(buf)
      else {
        this.useMeta(new SharedArrayBuffer(META_BYTES))
        this.freeHeads.set(s.freeHeads.subarray(0, CLASS_COUNT + 1))
        this.mask.set(s.mask)
      }
    }
    this.top = s.top
    this.used = s.used
    // Another thread's copy of the buffer may be another buffer (a database flushed since).
    if (this.sab !== s.sab) this.sab = s.sab
    if (this.bitsSab !== s.bits) this.bitsSab = s.bits
    if (this.u8.buffer !== this.sab || this.u8.length !== this.sab.byteLength || this.bits.buffer !== this.bitsSab || this.bits.length !== this.bitsSab.byteLength >>> 2) this.views()
  }

  /**
   * Makes sure `bytes` more (in block sizes, classBytes) can be allocated, growing now if need
   * be: a multi-step change checks this before its first write, so that it cannot stop half-way
   * on a full arena. Free blocks only help, so the top alone is counted.
   */
  reserve (bytes: number): boolean {
    this.settle()
    const needed = this.top + bytes
    if (needed <= this.sab.byteLength) return true
    return this.grow(needed)
  }

  get capacity (): number { return this.sab.byteLength }

  /**
   * Lets go of the buffers (a producer's kept copy between transactions, server/engine.ts), so that
   * a buffer the shard dropped can be freed; the next importState takes the current ones again.
   */
  detach (): void {
    this.sab = NO_BUFFER
    this.bitsSab = NO_BUFFER
    this.views()
  }

  /** Bytes carved from the buffer (blocks in use and free ones): what the arena holds in memory. */
  get committed (): number {
    this.settle()
    return this.top - 8
  }

  /** Bytes of the buffer's SharedArrayBuffers: what dropping this arena gives back at most. */
  get bufferBytes (): number { return this.sab.byteLength + this.bitsSab.byteLength }

  /** True when a block for `size` bytes would come from a free block, not from growing the top. */
  hasFreeBlock (size: number): boolean {
    this.settle()
    return size <= this.maxBytes && this.nonEmptyFrom(sizeClass(size)) >= 0
  }

  /** Returns an 8-aligned offset, or 0 when the arena cannot grow any more. */
  alloc (size: number): number {
    if (size > this.maxBytes) return 0
    const cls = sizeClass(size)
    const bytes = classBytes(cls)
    const n = this.pendingCount
    if (n !== 0) {
      // The block just freed, when it is of this class: handed back as is (a value rewritten at
      // another size class, an eviction before an insert), as a LIFO free list would.
      if (this.pending[2 * n - 1] === bytes) {
        this.pendingCount = n - 1
        this.used += bytes
        return this.pending[2 * n - 2]
      }
      this.settle()
    }
    // Its own class first (every block there is big enough), else the smallest bigger one.
    let c = cls
    if (this.freeHeads[c] === 0) c = this.nonEmptyFrom(cls + 1)
    if (c >= 0) {
      const off = this.freeHeads[c]
      const have = this.freeSize(off)
      this.unlink(off, c)
      if (have > bytes) this.insertFree(off + bytes, have - bytes)
      this.used += bytes
      return off
    }
    const off = this.top
    if (off + bytes > this.sab.byteLength && !this.grow(off + bytes)) return 0
    this.top = off + bytes
    this.used += bytes
    return off
  }

  /**
   * Frees a block. Its bytes stay as they were until the next alloc (callers copy a value out of
   * a block they have just freed, as they could when a free wrote nothing past the block's first
   * word): the merge, which writes sizes and links into the block, waits until then (settle).
   */
  free (off: number, size: number): void {
    const bytes = classBytes(sizeClass(size))
    this.used -= bytes
    let n = this.pendingCount
    if (n === PENDING_MAX) {
      // Full: merge all but the newest, which a caller may still be reading.
      const lastOff = this.pending[2 * n - 2]
      const lastBytes = this.pending[2 * n - 1]
      this.pendingCount = n - 1
      this.settle()
      this.pending[0] = lastOff
      this.pending[1] = lastBytes
      n = 1
    }
    this.pending[2 * n] = off
    this.pending[2 * n + 1] = bytes
    this.pendingCount = n + 1
  }

  /** Merges the blocks freed since the last alloc into the free lists (or the top). */
  settle (): void {
    const n = this.pendingCount
    if (n === 0) return
    this.pendingCount = 0
    for (let i = 0; i < n; i++) this.release(this.pending[2 * i], this.pending[2 * i + 1])
  }

  private release (off: number, bytes: number): void {
    const bits = this.bits
    // Merge with a free block right after, then with one right before.
    const end = off + bytes
    if (end < this.top && (bits[(end >>> 8) << 1] & (1 << ((end >>> 3) & 31))) !== 0) {
      const n = this.freeSize(end)
      this.unlink(end, floorClass(n))
      bytes += n
    }
    if (off > 8) {
      const g = (off >>> 3) - 1
      if ((bits[((g >>> 5) << 1) + 1] & (1 << (g & 31))) !== 0) {
        const n = (bits[(g >>> 5) << 1] & (1 << (g & 31))) !== 0 ? 8 : this.u32[(off - 4) >>> 2]
        off -= n
        this.unlink(off, floorClass(n))
        bytes += n
      }
    }
    // The last block goes back to the untouched part: the next growth reuses its pages.
    if (off + bytes === this.top) { this.lowerTop(off); return }
    this.insertFree(off, bytes)
  }

  /** True when a block allocated for `a` bytes can hold `b` bytes in place. */
  static sameBlock (a: number, b: number): boolean {
    return sizeClass(a) === sizeClass(b)
  }

  sameBlockFor (a: number, b: number): boolean { return sizeClass(a) === sizeClass(b) }

  /** Bytes a block for `size` bytes really takes. */
  blockBytes (size: number): number { return classBytes(sizeClass(size)) }

  // --- in-place compaction (Keyspace.slide) ----------------------------------------------------
  /** The first offset from off on where a free block starts, or `limit` when none does before it. */
  private nextFreeAt (off: number, limit: number): number {
    const bits = this.bits
    const g = off >>> 3
    const last = Math.min((limit + 255) >>> 8, bits.length >>> 1)
    for (let w = g >>> 5; w < last; w++) {
      let m = bits[w << 1]
      if (w === g >>> 5) m &= ~((1 << (g & 31)) - 1)
      // * 8, not << 3: past 2 GiB the offset would turn negative.
      if (m !== 0) return Math.min(limit, ((w << 5) + 31 - Math.clz32(m & -m)) * 8)
    }
    return limit
  }

  /**
   * Where every block in use goes when the arena slides down over all its free blocks (null when
   * it has none): see SlidePlan. The caller rewrites every offset it holds through plan.to, then
   * applySlide moves the bytes.
   */
  planSlide (): SlidePlan | null {
    this.settle()
    const top = this.top
    let n = 0
    for (let p = this.nextFreeAt(8, top); p < top; p = this.nextFreeAt(p + this.freeSize(p), top)) n++
    if (n === 0) return null
    const starts = new Uint32Array(n)
    const ends = new Uint32Array(n)
    const below = new Float64Array(n)
    let sum = 0
    let j = 0
    for (let p = this.nextFreeAt(8, top); p < top; p = this.nextFreeAt(p + this.freeSize(p), top)) {
      const bytes = this.freeSize(p)
      sum += bytes
      starts[j] = p
      ends[j] = p + bytes
      below[j++] = sum
    }
    const pages = new Uint32Array((top >>> PLAN_PAGE_BITS) + 2)
    for (let k = 0, i = 0; k < pages.length; k++) {
      while (i < n && starts[i] < k * (1 << PLAN_PAGE_BITS)) i++
      pages[k] = i
    }
    return new SlidePlan(starts, ends, below, pages, top)
  }

  /**
   * Moves every run of blocks in use down over the free blocks before it (plan from planSlide,
   * with nothing allocated or freed since): the arena ends at its bytes in use, with no free block.
   * Returns the bytes the top came down by.
   */
  applySlide (plan: SlidePlan): number {
    const { starts, ends, below } = plan
    const n = starts.length
    const u8 = this.u8
    for (let j = 0; j < n; j++) {
      const from = ends[j]
      const to = j + 1 < n ? starts[j + 1] : plan.top
      // Down, in address order: an overlap with the run's own old bytes is safe (memmove).
      if (to > from) u8.copyWithin(from - below[j], from, to)
    }
    const top = plan.top - below[n - 1]
    this.freeHeads.fill(0)
    this.mask.fill(0)
    this.bits.fill(0)
    this.lowerTop(top)
    return plan.top - top
  }

  /**
   * Moves the arena into a fresh buffer of its size (offsets unchanged): the pages the old one
   * wrote above the top go back once it is collected. Returns the old buffers' bytes (dropped).
   * Both buffers are made before anything changes, so a failed allocation leaves the arena as it was.
   */
  shrink (): number {
    this.settle()
    const dropped = this.bufferBytes
    const top = this.top
    const size = Math.min(roundPage(top + (top >>> 3)), this.maxBytes)
    const sab = new SharedArrayBuffer(size, { maxByteLength: this.maxBytes })
    new Uint8Array(sab, 0, top).set(this.u8.subarray(0, top))
    const bits = new SharedArrayBuffer(bitsBytes(size), { maxByteLength: bitsBytes(this.maxBytes) })
    new Uint32Array(bits).set(this.bits.subarray(0, bitsBytes(size) >>> 2))
    this.sab = sab
    this.bitsSab = bits
    this.views()
    this.meta[META_PEAK] = top
    return dropped
  }

  /** The top comes down: what it was stays recorded as the resident high-water mark (residentTop). */
  private lowerTop (top: number): void {
    const meta = this.meta
    if (meta[META_TOP] > meta[META_PEAK]) meta[META_PEAK] = meta[META_TOP]
    meta[META_TOP] = top
  }

  // --- free blocks: | next u32 | prev u32 | size u32 ... size u32 | (an 8-byte block: bits alone) ---
  private freeSize (off: number): number {
    const g = off >>> 3
    return (this.bits[((g >>> 5) << 1) + 1] & (1 << (g & 31))) !== 0 ? 8 : this.u32[(off + 8) >>> 2]
  }

  private insertFree (off: number, bytes: number): void {
    const u32 = this.u32
    const bits = this.bits
    const c = floorClass(bytes)
    const head = this.freeHeads[c]
    u32[off >>> 2] = head
    u32[(off + 4) >>> 2] = 0
    if (head !== 0) u32[(head + 4) >>> 2] = off
    if (bytes > 8) { u32[(off + 8) >>> 2] = bytes; u32[(off + bytes - 4) >>> 2] = bytes }
    this.freeHeads[c] = off
    this.mask[c >>> 5] |= 1 << (c & 31)
    const g = off >>> 3
    bits[(g >>> 5) << 1] |= 1 << (g & 31)
    const e = g + (bytes >>> 3) - 1
    bits[((e >>> 5) << 1) + 1] |= 1 << (e & 31)
  }

  /** Takes free block off (of class c's list) out of its list and clears its bits. */
  private unlink (off: number, c: number): void {
    const u32 = this.u32
    const bits = this.bits
    const bytes = this.freeSize(off)
    const next = u32[off >>> 2]
    const prev = u32[(off + 4) >>> 2]
    if (prev !== 0) u32[prev >>> 2] = next
    else {
      this.freeHeads[c] = next
      if (next === 0) this.mask[c >>> 5] &= ~(1 << (c & 31))
    }
    if (next !== 0) u32[(next + 4) >>> 2] = prev
    const g = off >>> 3
    bits[(g >>> 5) << 1] &= ~(1 << (g & 31))
    const e = g + (bytes >>> 3) - 1
    bits[((e >>> 5) << 1) + 1] &= ~(1 << (e & 31))
  }

  /** The smallest class from c on with a free block, or -1. */
  private nonEmptyFrom (c: number): number {
    const mask = this.mask
    for (let w = c >>> 5; w < MASK_WORDS; w++) {
      let m = mask[w]
      if (w === c >>> 5) m &= ~((1 << (c & 31)) - 1) | 0
      if (m !== 0) return (w << 5) + 31 - Math.clz32(m & -m)
    }
    return -1
  }

  private grow (needed: number): boolean {
    if (needed > this.maxBytes) return false
    const next = Math.min(this.maxBytes, Math.max(roundPage(needed), roundPage(this.sab.byteLength * 2)))
    this.sab.grow(next)
    if (this.bitsSab.byteLength < bitsBytes(next)) this.bitsSab.grow(bitsBytes(next))
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
    this.bits = new Uint32Array(this.bitsSab, 0, this.bitsSab.byteLength >>> 2)
  }
}

const PENDING_MAX = 64
const NO_BUFFER = new SharedArrayBuffer(8)
/** SlidePlan's index: the first free block of each 4 KiB page, so that a lookup searches one page's blocks. */
const PLAN_PAGE_BITS = 12

/**
 * Where each block in use goes when an arena slides down over its free blocks (Arena.planSlide):
 * a block at x moves down by the free bytes below x. Offsets of blocks in use (and 0) only.
 */
export class SlidePlan {
  constructor (
    /** The free blocks in address order: where each starts and ends. */
    readonly starts: Uint32Array,
    readonly ends: Uint32Array,
    /** Free bytes in blocks 0..j. */
    readonly below: Float64Array,
    /** pages[k]: the first free block that starts at or after page k. */
    readonly pages: Uint32Array,
    readonly top: number,
  ) {}

  /** The offset the block at x (in use, or 0) has after the slide. */
  to (x: number): number {
    const k = x >>> PLAN_PAGE_BITS
    const s = this.starts
    let lo = this.pages[k]
    let hi = this.pages[k + 1]
    while (lo < hi) {
      const m = (lo + hi) >>> 1
      if (s[m] < x) lo = m + 1
      else hi = m
    }
    return lo === 0 ? x : x - this.below[lo - 1]
  }

  /**
   * A chained table's buckets u32[from, from + count) and every link of their chains (each
   * entry's first word is the next one's offset) pointed at where the slide moves them.
   */
  chains (u32: Uint32Array, from: number, count: number): void {
    for (let i = from, end = from + count; i < end; i++) {
      let n = u32[i]
      if (n === 0) continue
      u32[i] = this.to(n)
      while (n !== 0) {
        // Read the link before it is rewritten: the walk goes on through the old offsets.
        const next = u32[n >>> 2]
        if (next !== 0) u32[n >>> 2] = this.to(next)
        n = next
      }
    }
  }
}

/** Bytes of the free-block bits for an arena of n bytes: 2 bits per 8 bytes, in whole word pairs. */
function bitsBytes (n: number): number {
  return Math.ceil(n / 256) * 8
}

/** The class whose list holds a free block of `bytes` (a multiple of 8): the largest that fits in it. */
function floorClass (bytes: number): number {
  const c = sizeClass(bytes)
  return classBytes(c) === bytes ? c : c - 1
}

/** What Arena.exportState hands over: structured-cloneable, the buffer shared, not copied. */
export interface ArenaState {
  sab: SharedArrayBuffer
  bits: SharedArrayBuffer
  maxBytes: number
  top: number
  used: number
  /** A view of the arena's shared bookkeeping (its META_TOP and META_USED words follow the heads). */
  freeHeads: Float64Array
  mask: Uint32Array
}

function roundPage (n: number): number {
  return Math.ceil(n / PAGE) * PAGE
}
