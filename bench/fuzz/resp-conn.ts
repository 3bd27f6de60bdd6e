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


/**
 * A second connection to a server, for what comes without being asked (messages, pushes): what
 * is sent goes out with a `PING marker`, and everything that comes back up to that PING's reply
 * (replies, messages, invalidations) is returned in order.
 */
export class Peer {
  private buf = Buffer.alloc(0)
  protected readonly values: string[] = []
  private wake: (() => void) | null = null
  protected constructor (protected readonly s: net.Socket) {
    s.on('data', d => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
      for (let end; (end = replyEnd(this.buf, 0)) >= 0;) {
        this.values.push(this.buf.toString('latin1', 0, end))
        this.buf = this.buf.subarray(end)
      }
      this.wake?.()
    })
  }

  static async open (port: number): Promise<Peer> {
    return new Peer(await connected(port))
  }

  /**
   * Sends args (if any: one command, or several separated by '|') and `PING marker` in one
   * write; resolves with every value up to the PING's reply, that reply included.
   */
  async exchange (args: string[] | null, marker: string): Promise<string[]> {
    const out: string[] = []
    for (let i = 0; args !== null && i < args.length;) {
      let j = args.indexOf('|', i)
      if (j < 0) j = args.length
      out.push(respCommand(args.slice(i, j)))
      i = j + 1
    }
    out.push(respCommand(['PING', marker]))
    this.s.write(out.join(''))
    // RESP2 subscribed: *2 pong marker; otherwise a bulk (RESP2 or RESP3).
    const tail = `$${marker.length}\r\n${marker}\r\n`
    const until = Date.now() + 10_000
    for (;;) {
      const i = this.values.findIndex(v => v.endsWith(tail) && (v === tail || v.startsWith('*2\r\n$4\r\npong\r\n')))
      if (i >= 0) return this.values.splice(0, i + 1)
      if (Date.now() >= until) throw new Error(`no reply to PING ${marker} in 10 s`)
      await this.next(until - Date.now())
    }
  }

  /** The first n values, or fewer if they do not all come within ms. */
  async take (n: number, ms: number): Promise<string[]> {
    const until = Date.now() + ms
    while (this.values.length < n && Date.now() < until) await this.next(until - Date.now())
    return this.values.splice(0, Math.min(n, this.values.length))
  }

  /** Values already here, taken without waiting. */
  rest (): string[] { return this.values.splice(0) }

  close (): void { this.s.destroy() }

  private async next (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => { this.wake = null; resolve() }, ms)
      this.wake = () => { clearTimeout(timer); this.wake = null; resolve() }
    })
  }
}

async function connected (port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
  return s
}

/** A subscriber connection (RESP2): every message it gets, in order, for the fuzzer to take. */
export class Subscriber extends Peer {
  /** A connection in PSUBSCRIBE pattern, once the subscription is confirmed. */
  static async subscribe (port: number, pattern: string): Promise<Subscriber> {
    const sub = new Subscriber(await connected(port))
    sub.s.write(respCommand(['PSUBSCRIBE', pattern]))
    await sub.take(1, 10_000)
    return sub
  }

  /** The messages that came before the reply to a PING sent now (Redis: all the events so far). */
  async untilPong (): Promise<string[]> {
    return (await this.exchange(null, '')).slice(0, -1)
  }
}

/**
 * A side connection's values, with what Redis orders by a seeded dict put in one order: the
 * pmessages of one publish for several patterns (server.pubsub_patterns), and the names of an
 * UNSUBSCRIBE (or SUNSUBSCRIBE, PUNSUBSCRIBE) of all (the client's dict of channels); the
 * confirmations' counts stay in the order they came. And one known difference: invalidations in
 * a row as one sorted list of keys (a flush's null as NULL), since what one command or
 * transaction changed on several shards reaches a client in the order the shards answer, and
 * BCAST groups keys per event-loop turn, where Redis keeps the order of the changes and groups
 * per beforeSleep.
 */
export function canonSide (values: string[], s1Id: string): string {
  const out: string[] = []
  for (let i = 0; i < values.length;) {
    const v = values[i]
    const inv = invalidated(v)
    if (inv !== null) {
      const keys = [...inv]
      let j = i + 1
      for (let more; j < values.length && (more = invalidated(values[j])) !== null; j++) keys.push(...more)
      out.push(`invalidated ${JSON.stringify(keys.sort())}\r\n`)
      i = j
      continue
    }
    const conf = /^([*>]3\r\n\$1[12]\r\n[ps]?unsubscribe\r\n)(.*\r\n)(:\d+\r\n)$/s.exec(v)
    const pm = /^[*>]4\r\n\$8\r\npmessage\r\n\$\d+\r\n.*?\r\n(.*)$/s.exec(v)
    const head = conf?.[1] ?? pm?.[1]
    let j = i + 1
    if (head !== undefined) {
      const same = (w: string): boolean => conf !== null ? w.startsWith(head) && /:\d+\r\n$/.test(w) : /^[*>]4\r\n\$8\r\npmessage\r\n/.test(w) && w.endsWith(head)
      while (j < values.length && same(values[j])) j++
    }
    const run = values.slice(i, j)
    if (conf !== null) {
      const names = run.map(w => w.slice(head!.length, w.lastIndexOf(':'))).sort()
      out.push(...run.map((w, n) => head! + names[n] + w.slice(w.lastIndexOf(':'))))
    } else out.push(...run.sort())
    i = j
  }
  return out.join('')
    // HELLO names the connection's id; GETREDIR and TRACKINGINFO name '@s1''s.
    .replace(/\$2\r\nid\r\n:\d+\r\n/g, '').replace(new RegExp(`^:${s1Id}\r\n|(?<=redirect\r\n):${s1Id}\r\n`, 'g'), ':S1\r\n')
}

/** The keys of an invalidation (a RESP3 push or a RESP2 `message` on __redis__:invalidate; a null: ['NULL']), or null. */
function invalidated (v: string): string[] | null {
  // Known difference: the null of a flush sent to a RESP2 REDIRECT target. Redis 7.0 writes the
  // tracking client's null (`_` when it speaks RESP3, which a RESP2 reader cannot parse);
  // FlashKV writes the target's, `$-1`.
  if (/^(?:>2\r\n\$10\r\ninvalidate|\*3\r\n\$7\r\nmessage\r\n\$20\r\n__redis__:invalidate)\r\n(?:_|\$-1)\r\n$/.test(v)) return ['NULL']
  const m = /^(?:>2\r\n\$10\r\ninvalidate|\*3\r\n\$7\r\nmessage\r\n\$20\r\n__redis__:invalidate)\r\n\*(\d+)\r\n(.*)$/s.exec(v)
  if (m === null) return null
  const keys: string[] = []
  for (let p = 0, n = Number(m[1]); n > 0; n--) {
    const nl = m[2].indexOf('\r\n', p)
    const len = Number(m[2].slice(p + 1, nl))
    keys.push(m[2].slice(nl + 2, nl + 2 + len))
    p = nl + 4 + len
  }
  return keys
}

/**
 * A MONITOR side connection's lines for one command: Redis's are those before its PING's reply;
 * FlashKV's come through the hub shard, so as many are taken (waiting up to 2 s), its PING reply
 * left out. Each line without its time and the client's address ([db addr] becomes [db]).
 */
export async function monitorLines (fa: Peer, fs: string[], rs: string[]): Promise<[string[], string[]]> {
  // The monitor's own PINGs ("PING" "@m<i>") come after their replies in Redis (call() feeds
  // monitors once the command ran): left out on both sides.
  const isOwn = (v: string): boolean => /"PING" "@m\d+"\r\n$/.test(v)
  const theirs = rs.slice(0, -1).filter(v => !isOwn(v))
  const mine = fs.slice(0, -1).filter(v => !isOwn(v))
  while (mine.length < theirs.length) {
    const more = await fa.take(theirs.length - mine.length, 2000)
    if (more.length === 0) break
    mine.push(...more.filter(v => !isOwn(v)))
  }
  // Each server's own client id after REDIRECT ('$S1') is left out too.
  const norm = (v: string): string => v.replace(/^\+\d+\.\d{6} \[(\d+) [^\]]+\]/, '+T [$1]').replace(/"REDIRECT" "\d+"/gi, '"REDIRECT" "ID"')
  // Known difference (README, Limits): a script's own commands ("[<db> lua]") are shown as it
  // runs, which on several shards may be after a command pipelined behind it, and inside EXEC
  // after EXEC's line (Redis: right after the script's line). The clients' lines and the
  // scripts' lines are compared each in their order, not how they interleave.
  const split = (lines: string[]): string[] => {
    const isLua = (v: string): boolean => /^\+\d+\.\d{6} \[\d+ lua\]/.test(v)
    return [...lines.filter(v => !isLua(v)).map(norm), '(scripts)', ...lines.filter(isLua).map(norm)]
  }
  return [split(mine), split(theirs)]
}

/** fuzz:diff's side connections, [name, FlashKV's, Redis's]: '@t' speaks RESP3, '@m' monitors; and '@s1''s id on each server. */
export async function openSides (fport: number, rport: number, withMonitor: boolean): Promise<{ sides: Array<[string, Peer, Peer]>, s1Ids: string[] }> {
  const sides: Array<[string, Peer, Peer]> = []
  for (const name of ['@s1', '@s2', '@t', '@r', '@w', ...(withMonitor ? ['@m'] : [])]) {
    const [fa, rb] = await Promise.all([Peer.open(fport), Peer.open(rport)])
    sides.push([name, fa, rb])
  }
  const setup = async (name: string, args: string[]): Promise<string[][]> => {
    const [, fa, rb] = sides.find(s => s[0] === name) as [string, Peer, Peer]
    return await Promise.all([fa.exchange(args, ''), rb.exchange(args, '')])
  }
  if (withMonitor) await setup('@m', ['MONITOR'])
  await setup('@t', ['HELLO', '3'])
  const s1Ids = (await setup('@s1', ['CLIENT', 'ID'])).map(v => v[0].slice(1, -2))
  return { sides, s1Ids }
}
