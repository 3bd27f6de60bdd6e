// Single-producer/single-consumer record ring over a SharedArrayBuffer, one per direction per
// shard. Records never wrap: a 0 length word tells the reader to jump to the start.
//
//   ctrl (Int32Array):  [HEAD write pos][TAIL read pos][SEQ wake-ups][NOTIFIED][STOP][SLEEPING][GATE][GATE_FD]
//   data (Uint8Array):  | u32 recordLen | payload ... pad to 4 | u32 recordLen | ... | 0 → wrap
//
// The producer writes records past HEAD freely and publishes them with one Atomics.store of
// HEAD (once per event-loop turn on the primary, once per batch in a worker), so the consumer
// sees either none or all of a batch. HEAD === TAIL means empty; the producer never lets its
// write position catch up with TAIL, so a full ring is never mistaken for an empty one.

export const HEAD = 0
export const TAIL = 1
/** Bumped by the producer after publishing; a sleeping consumer waits on it. */
export const SEQ = 2
/** Response rings: 1 while a wake-up message to the primary is in flight. */
export const NOTIFIED = 3
export const STOP = 4
/**
 * 1 while the consumer is (about to be) blocked in Atomics.wait: a worker on its request ring,
 * the primary in ShardLink.awaitReplies on a response ring. The producer calls Atomics.notify
 * (a futex syscall) only then; the consumer re-checks SEQ in wait(), so a wake-up can never be
 * lost.
 */
export const SLEEPING = 5
/**
 * Response rings under appendfsync always: the W_AOF_WRITES number (and descriptor) of the last
 * AOF write made before replies now published; the consumer syncs that far before any of them
 * leaves the process (persistence/aof.ts, "Reply gate"). Descriptor stored first, number second.
 */
export const GATE = 6
export const GATE_FD = 7
export const CTRL_INTS = 8

export interface RingBuffers { ctrl: SharedArrayBuffer, data: SharedArrayBuffer }

export function createRing (capacity: number): RingBuffers {
  if (capacity % 8 !== 0) throw new Error('ring capacity must be a multiple of 8')
  return { ctrl: new SharedArrayBuffer(CTRL_INTS * 4), data: new SharedArrayBuffer(capacity) }
}

export class RingWriter {
  readonly ctrl: Int32Array
  readonly u8: Uint8Array
  readonly u32: Uint32Array
  readonly capacity: number
  /** Local write position: records past the published HEAD are staged. */
  pos: number

  constructor (bufs: RingBuffers) {
    this.ctrl = new Int32Array(bufs.ctrl)
    this.u8 = new Uint8Array(bufs.data)
    this.u32 = new Uint32Array(bufs.data)
    this.capacity = this.u8.length
    this.pos = Atomics.load(this.ctrl, HEAD)
  }

  /**
   * Reserves a record of `payload` bytes and returns the payload's offset, or -1 when the ring
   * has no room now. The caller fills the payload, then calls commit(offset, payload).
   */
  reserve (payload: number): number {
    const size = (payload + 4 + 3) & ~3
    const tail = Atomics.load(this.ctrl, TAIL)
    let pos = this.pos
    if (pos >= tail) {
      const endRoom = this.capacity - pos
      if (size < endRoom || (size === endRoom && tail !== 0)) return pos + 4
      // Not enough room before the end: wrap if the start has room (strictly below TAIL).
      if (size >= tail) return -1
      this.u32[pos >>> 2] = 0
      pos = this.pos = 0
      return 4
    }
    return pos + size < tail ? pos + 4 : -1
  }

  /** Would reserve(payload) succeed now? Changes nothing. */
  reserveCheck (payload: number): boolean {
    const size = (payload + 4 + 3) & ~3
    const tail = Atomics.load(this.ctrl, TAIL)
    const pos = this.pos
    if (pos >= tail) {
      const endRoom = this.capacity - pos
      return size < endRoom || (size === endRoom && tail !== 0) || size < tail
    }
    return pos + size < tail
  }

  commit (payloadOffset: number, payload: number): void {
    const size = (payload + 4 + 3) & ~3
    const pos = payloadOffset - 4
    this.u32[pos >>> 2] = size
    let next = pos + size
    if (next === this.capacity) next = 0
    this.pos = next
  }

  /** Makes staged records visible; returns true if there was anything new. */
  publish (): boolean {
    if (Atomics.load(this.ctrl, HEAD) === this.pos) return false
    Atomics.store(this.ctrl, HEAD, this.pos)
    Atomics.add(this.ctrl, SEQ, 1)
    return true
  }

  /** Largest payload that can ever fit (records above this travel out of band). */
  get maxPayload (): number { return (this.capacity >>> 1) - 8 }
}

export class RingReader {
  readonly ctrl: Int32Array
  readonly u8: Uint8Array
  readonly u32: Uint32Array
  readonly capacity: number
  pos: number
  /** Offset and length of the current record's payload after next() returns true. */
  payload = 0
  payloadLen = 0
  private head = 0

  constructor (bufs: RingBuffers) {
    this.ctrl = new Int32Array(bufs.ctrl)
    this.u8 = new Uint8Array(bufs.data)
    this.u32 = new Uint32Array(bufs.data)
    this.capacity = this.u8.length
    this.pos = Atomics.load(this.ctrl, TAIL)
  }

  /** Loads HEAD; true if there is anything to read. */
  poll (): boolean {
    this.head = Atomics.load(this.ctrl, HEAD)
    return this.head !== this.pos
  }

  /** Advances to the next record of the batch seen by the last poll(). */
  next (): boolean {
    if (!this.peek()) return false
    this.advance()
    return true
  }

  private after = 0

  /**
   * Looks at the next record of the batch seen by the last poll() (payload, payloadLen) without
   * consuming it: advance() does. A consumer that must not run it yet (a multi-shard part whose
   * turn has not come) leaves it at the head.
   */
  peek (): boolean {
    if (this.pos === this.head) return false
    let size = this.u32[this.pos >>> 2]
    if (size === 0) {
      this.pos = 0
      if (this.head === 0) return false
      size = this.u32[0]
    }
    this.payload = this.pos + 4
    this.payloadLen = size - 4
    this.after = this.pos + size === this.capacity ? 0 : this.pos + size
    return true
  }

  /** Consumes the record the last peek() returned. */
  advance (): void { this.pos = this.after }

  /** Hands consumed space back to the producer. */
  release (): void {
    Atomics.store(this.ctrl, TAIL, this.pos)
  }
}
