// One client connection for the differential fuzzer and its reducer: sends a command and
// resolves with its whole reply (RESP2 or RESP3), failing when none comes in 10 s.
import net from 'node:net'
import { respCommand } from '../servers.js'

/** One connection that sends a command and resolves with its whole reply (RESP2 or RESP3). */
export class Conn {
  private buf = Buffer.alloc(0)
  private readonly waiting: Array<(reply: Buffer) => void> = []
  private constructor (private readonly s: net.Socket, private readonly name: string) {
    s.on('data', d => { this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]); this.drain() })
  }

  static async open (port: number, name: string): Promise<Conn> {
    const s = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
    return new Conn(s, name)
  }

  /** The reply to args; a reply that has not come in 10 s (a server that hangs or closed) is a failure. */
  async send (args: string[]): Promise<Buffer> {
    this.s.write(respCommand(args))
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${this.name}: no reply in 10 s to ${JSON.stringify(args)}`)) }, 10_000)
      this.waiting.push(reply => { clearTimeout(timer); resolve(reply) })
    })
  }

  close (): void { this.s.destroy() }

  private drain (): void {
    while (this.waiting.length > 0) {
      const end = replyEnd(this.buf, 0)
      if (end < 0) return
      const reply = this.buf.subarray(0, end)
      this.buf = this.buf.subarray(end)
      this.waiting.shift()?.(reply)
    }
  }
}

/** Where the RESP value at b[p] ends, or -1 while it is incomplete. */
function replyEnd (b: Buffer, p: number): number {
  if (p >= b.length) return -1
  const eol = b.indexOf('\r\n', p)
  if (eol < 0) return -1
  const t = b[p]
  const n = Number(b.toString('latin1', p + 1, eol))
  // Bulk string and verbatim string: a length, then that many bytes and CRLF.
  if (t === 0x24 || t === 0x3d) return n < 0 ? eol + 2 : b.length < eol + 4 + n ? -1 : eol + 4 + n
  // Array, set, push and map (two values per entry).
  if (t === 0x2a || t === 0x7e || t === 0x3e || t === 0x25) {
    let q = eol + 2
    for (let i = 0; i < (t === 0x25 ? 2 * n : n); i++) if ((q = replyEnd(b, q)) < 0) return -1
    return n < 0 ? eol + 2 : q
  }
  return eol + 2
}


const PONG = '*2\r\n$4\r\npong\r\n$0\r\n\r\n'

/** A subscriber connection (RESP2): every message it gets, in order, for the fuzzer to take. */
export class Subscriber {
  private buf = Buffer.alloc(0)
  private readonly values: string[] = []
  private wake: (() => void) | null = null
  private constructor (private readonly s: net.Socket) {
    s.on('data', d => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
      for (let end; (end = replyEnd(this.buf, 0)) >= 0;) {
        this.values.push(this.buf.toString('latin1', 0, end))
        this.buf = this.buf.subarray(end)
      }
      this.wake?.()
    })
  }

  /** A connection in PSUBSCRIBE pattern, once the subscription is confirmed. */
  static async open (port: number, pattern: string): Promise<Subscriber> {
    const s = net.connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
    const sub = new Subscriber(s)
    s.write(respCommand(['PSUBSCRIBE', pattern]))
    await sub.take(1, 10_000)
    return sub
  }

  /** The messages that came before the reply to a PING sent now (Redis: all the events so far). */
  async untilPong (): Promise<string[]> {
    this.s.write(respCommand(['PING']))
    for (;;) {
      const i = this.values.indexOf(PONG)
      if (i >= 0) return this.values.splice(0, i + 1).slice(0, i)
      await this.next(10_000)
    }
  }

  /** The first n messages, or fewer if they do not all come within ms. */
  async take (n: number, ms: number): Promise<string[]> {
    const until = Date.now() + ms
    while (this.values.length < n && Date.now() < until) await this.next(until - Date.now())
    return this.values.splice(0, Math.min(n, this.values.length))
  }

  /** Messages already here, taken without waiting. */
  rest (): string[] { return this.values.splice(0) }

  close (): void { this.s.destroy() }

  private async next (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { this.wake = null; resolve() }, ms)
      this.wake = () => { clearTimeout(timer); this.wake = null; resolve() }
    })
  }
}
