// Raw RESP client over net.Socket, for tests that need the exact bytes a server sends: it frames
// complete RESP2/RESP3 replies (nested aggregates included) without decoding them, and can read
// until the server closes the connection (protocol errors).
import net from 'node:net'

const CRLF = Buffer.from('\r\n')

/** Encodes one command as a RESP multibulk: `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument. */
export function encodeCommand (args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF)
  }
  return Buffer.concat(parts)
}

/**
 * Returns the offset just past one complete reply starting at `pos`, or -1 if `buf` does not yet
 * hold all of it. Throws on a byte that cannot start a RESP reply (the stream is then unusable).
 */
export function replyEnd (buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1
  const lineEnd = buf.indexOf(CRLF, pos)
  if (lineEnd === -1) return -1
  const type = String.fromCharCode(buf[pos])
  const header = buf.toString('latin1', pos + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return next
    case '$': case '!': case '=': {
      const len = Number(header)
      if (!Number.isInteger(len)) throw new Error(`bad bulk length ${JSON.stringify(header)}`)
      if (len < 0) return next // $-1: RESP2 null bulk
      const end = next + len + 2
      return end <= buf.length ? end : -1
    }
    case '*': case '~': case '>': case '%': case '|': {
      const count = Number(header)
      if (!Number.isInteger(count)) throw new Error(`bad aggregate length ${JSON.stringify(header)}`)
      if (count < 0) return next // *-1: RESP2 null array
      const elements = type === '%' || type === '|' ? count * 2 : count
      let p = next
      for (let i = 0; i < elements; i++) {
        p = replyEnd(buf, p)
        if (p === -1) return -1
      }
      // An attribute annotates the reply that follows it: frame both as one reply.
      return type === '|' ? replyEnd(buf, p) : p
    }
    default:
      throw new Error(`unexpected RESP type byte 0x${buf[pos].toString(16)} at offset ${pos}: ` +
        JSON.stringify(buf.toString('latin1', pos, Math.min(buf.length, pos + 80))))
  }
}

export class RawClient {
  private buf: Buffer = Buffer.alloc(0)
  private closed = false
  private error: Error | null = null
  private wake: (() => void) | null = null

  private constructor (private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
      this.notify()
    })
    // A server that closes with unread input may reset the connection: count that as closed too.
    socket.on('error', (err) => { this.error = err; this.notify() })
    socket.on('close', () => { this.closed = true; this.notify() })
  }

  static connect (port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host })
      socket.setNoDelay(true)
      const onError = (err: Error): void => reject(err)
      socket.once('error', onError)
      socket.once('connect', () => {
        socket.off('error', onError)
        resolve(new RawClient(socket))
      })
    })
  }

  /** Over a Unix socket (the server's unixsocket). */
  static connectPath (path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ path })
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new RawClient(socket))
      })
    })
  }

  /** True once the server closed (or reset) the connection. */
  get isClosed (): boolean { return this.closed || this.error !== null }

  send (bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes)
  }

  /** Resolves with exactly n complete replies, each as its own bytes; leaves the rest buffered. */
  async readReplies (n: number, timeoutMs = 5000): Promise<Buffer[]> {
    const replies: Buffer[] = []
    let pos = 0
    await this.waitFor(timeoutMs, () => {
      while (replies.length < n) {
        const end = replyEnd(this.buf, pos)
        if (end === -1) break
        replies.push(Buffer.from(this.buf.subarray(pos, end)))
        pos = end
      }
      // Drop what is parsed, so a long run of big replies is not copied again on every chunk.
      if (pos > 0) { this.buf = this.buf.subarray(pos); pos = 0 }
      if (replies.length === n) return true
      if (this.isClosed) {
        throw new Error(`connection closed after ${replies.length} of ${n} replies; ` +
          `unparsed: ${JSON.stringify(this.buf.toString('latin1', pos, pos + 200))}`)
      }
      return false
    }, () => `timed out after ${replies.length} of ${n} replies; buffered: ` +
      JSON.stringify(this.buf.toString('latin1', 0, 300)))
    this.buf = this.buf.subarray(pos)
    return replies
  }

  /**
   * Collects everything the server sends until it closes the connection (closed: true) or
   * timeoutMs passes (closed: false). Consumes the buffer.
   */
  async readUntilClose (timeoutMs = 2000): Promise<{ data: Buffer, closed: boolean }> {
    let closed = true
    try {
      await this.waitFor(timeoutMs, () => this.isClosed, () => '')
    } catch {
      closed = false
    }
    const data = this.buf
    this.buf = Buffer.alloc(0)
    return { data, closed }
  }

  /** Sends one command as a multibulk and resolves with its reply's exact bytes. */
  async command (...args: Array<string | Buffer>): Promise<Buffer> {
    this.send(encodeCommand(args))
    const [reply] = await this.readReplies(1)
    return reply
  }

  close (): void {
    this.socket.destroy()
  }

  /** Stops reading: what the server sends backs up in the kernel, then in the server. */
  pause (): void {
    this.socket.pause()
  }

  private notify (): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }

  /** Re-checks `done` on every event until it returns true; rejects on timeout or if it throws. */
  private waitFor (timeoutMs: number, done: () => boolean, describe: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = null
        reject(new Error(describe()))
      }, timeoutMs)
      const check = (): void => {
        try {
          if (done()) {
            clearTimeout(timer)
            resolve()
            return
          }
        } catch (err) {
          clearTimeout(timer)
          reject(err)
          return
        }
        this.wake = check
      }
      check()
    })
  }
}

/** Decodes a RESP2 SCAN reply: [cursor, keys]. */
export function parseScan (reply: Buffer): [string, string[]] {
  const s = reply.toString('latin1')
  const m = /^\*2\r\n\$\d+\r\n(\d+)\r\n\*(\d+)\r\n/.exec(s)
  if (m === null) throw new Error(`not a SCAN reply: ${JSON.stringify(s.slice(0, 200))}`)
  const keys: string[] = []
  let p = m[0].length
  for (let i = 0; i < Number(m[2]); i++) {
    const nl = s.indexOf('\r\n', p)
    const n = Number(s.slice(p + 1, nl))
    keys.push(s.slice(nl + 2, nl + 2 + n))
    p = nl + 2 + n + 2
  }
  return [m[1], keys]
}

/** One command on a fresh plain connection, its reply as latin1 text (the "other client" of a test). */
export async function rawOnce (port: number, host: string, ...args: string[]): Promise<string> {
  const c = await RawClient.connect(port, host)
  try {
    return (await c.command(...args)).toString('latin1')
  } finally {
    c.close()
  }
}

/** A numeric INFO field of `section` (e.g. used_memory of memory); a missing field fails the test. */
export async function infoNumber (c: RawClient, section: string, field: string): Promise<number> {
  const s = (await c.command('INFO', section)).toString()
  const m = new RegExp(`\r\n${field}:(\\d+)\r\n`).exec(s)
  if (m === null) throw new Error(`INFO ${section} has no ${field}`)
  return Number(m[1])
}
