// Upstash-compatible REST API on the HTTP port, so @upstash/redis works unchanged:
//   POST /             ["SET","foo","bar"]              → {"result":"OK"}
//   GET|POST /set/foo/bar, /get/foo (a POST body is appended as the last argument, then the
//                      query's parameters, as Upstash does: POST /set/foo?EX=100 body v)
//   POST /pipeline     [["SET","a","1"],["INCR","a"]]  → [{"result":"OK"},{"result":2}]
//   POST /multi-exec   the same, run as MULTI … EXEC (all or nothing)
// Auth: `Authorization: Bearer <token>` or `?_token=`; with requirepass set the token must be the
// password (401 otherwise), without one any token is accepted. `Upstash-Encoding: base64` sends
// every string of a result base64-encoded (the status OK stays as is, as @upstash/redis expects);
// numbers, nulls and errors are never encoded.
// Nothing here runs a command: the RESP-encoded request goes to a thread's router on a virtual
// client (server/virtual-connection.ts) and the RESP replies are turned into JSON here.

import { Buffer } from 'node:buffer'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RestBackend, RestResult } from '../server/virtual-connection.js'
import { passGate } from '../persistence/aof.js'

/** The largest request body taken (413 above it). */
export const REST_MAX_BODY = 64 * 1024 * 1024
/** Commands whose replies do not fit one request, one reply: pub/sub, MONITOR, RESP3, CLIENT REPLY. */
const REFUSED = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR', 'HELLO'])
/** Inside /multi-exec: commands that would end or bypass the transaction the endpoint makes. */
const NOT_IN_MULTI = new Set(['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'QUIT', 'RESET'])
const MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n')
const EXEC = Buffer.from('*1\r\n$4\r\nEXEC\r\n')

const EMPTY = Buffer.alloc(0)

type Arg = string | Buffer
class BadRequest extends Error {}

let nextId = 1

/** Serves one REST request (anything on the HTTP port but /healthz, /readyz, /metrics). */
export function handleRest (backend: RestBackend, req: IncomingMessage, res: ServerResponse): void {
  const method = req.method ?? 'GET'
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST' && method !== 'PUT') {
    send(res, 405, '{"error":"ERR method not allowed"}', { allow: 'HEAD, GET, POST, PUT' })
    return
  }
  // Split by hand: new URL() would take a path starting with // for a host.
  const raw = req.url ?? '/'
  const q = raw.indexOf('?')
  const url = { pathname: q < 0 ? raw : raw.slice(0, q), searchParams: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) }
  const token = bearer(req.headers.authorization) ?? url.searchParams.get('_token')
  const addr = req.socket.remoteAddress ?? '?'
  const refused = backend.restGate(addr, token)
  if (refused !== null) { sendRefused(res, refused); return }
  const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64'
  // An HTTP client that leaves (before or during the run) cancels its virtual client: a BLPOP 0
  // must not wait for ever on nobody's behalf.
  let id = 0
  let isAnswered = false
  let isGone = false
  res.once('close', () => {
    isGone = true
    if (id !== 0 && !isAnswered) backend.abortRest(id)
  })
  readBody(req, method === 'POST' || method === 'PUT').then(body => {
    if (body === null) { send(res, 413, '{"error":"ERR max request size exceeded"}'); return }
    const path = url.pathname
    let cmds: Arg[][]
    let kind: 'one' | 'pipeline' | 'multi'
    if (path === '/pipeline' || path === '/multi-exec') {
      if (method !== 'POST' && method !== 'PUT') { send(res, 405, '{"error":"ERR method not allowed"}', { allow: 'POST, PUT' }); return }
      kind = path === '/pipeline' ? 'pipeline' : 'multi'
      cmds = commandsOf(body)
      if (cmds.length === 0) throw new BadRequest('ERR empty pipeline')
    } else {
      kind = 'one'
      cmds = [path === '/' ? commandOf(parseJson(body)) : pathCommand(path, url.searchParams, body)]
    }
    for (const c of cmds) check(c, kind === 'multi')
    let resp = encode(cmds)
    if (kind === 'multi') resp = Buffer.concat([MULTI, resp, EXEC])
    if (isGone) return
    id = nextId++
    const count = kind === 'multi' ? cmds.length + 2 : cmds.length
    return backend.runRest({
      id, addr, port: req.socket.remotePort ?? 0, localAddr: req.socket.localAddress ?? '?', localPort: req.socket.localPort ?? 0, cmds: resp, count,
    }).then(result => {
      isAnswered = true
      if (result.kind === 'refused') { sendRefused(res, result); return }
      const r = new Replies(result.bytes, base64)
      if (kind === 'one') {
        if (result.count === 0) { send(res, 500, '{"error":"ERR connection closed"}'); return }
        const isError = r.isError()
        send(res, isError ? 400 : 200, isError ? `{"error":${r.error()}}` : `{"result":${r.value()}}`)
      } else if (kind === 'pipeline') {
        let out = '['
        for (let i = 0; i < cmds.length; i++) {
          if (i > 0) out += ','
          out += i >= result.count ? '{"error":"ERR connection closed"}' : r.entry()
        }
        send(res, 200, out + ']')
      } else {
        sendExec(res, r, result.count, cmds.length)
      }
    })
  }).catch(err => {
    if (err instanceof BadRequest) send(res, 400, JSON.stringify({ error: err.message }))
    else send(res, 500, JSON.stringify({ error: `ERR internal error: ${(err as Error)?.message ?? String(err)}` }))
  })
}

/** /multi-exec: MULTI's +OK and the +QUEUED (or errors) go unread; EXEC's reply is the answer. */
function sendExec (res: ServerResponse, r: Replies, got: number, n: number): void {
  if (got < n + 2) { send(res, 500, '{"error":"ERR connection closed"}'); return }
  for (let i = 0; i < n + 1; i++) r.skip()
  if (r.isError()) { send(res, 400, `{"error":${r.error()}}`); return }
  const len = r.arrayLength()
  if (len < 0) { send(res, 400, '{"error":"EXECABORT Transaction discarded"}'); return }
  let out = '['
  for (let i = 0; i < len; i++) out += (i > 0 ? ',' : '') + r.entry()
  send(res, 200, out + ']')
}

function send (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  passGate()
  if (res.headersSent || res.destroyed) return
  // A length, not chunked encoding: head and body leave in one write.
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }).end(body)
}

function sendRefused (res: ServerResponse, r: RestResult): void {
  if (r.kind === 'refused') send(res, r.status, JSON.stringify({ error: r.error }))
}

function bearer (h: string | undefined): string | null {
  if (h === undefined) return null
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(h)
  return m === null ? null : m[1]
}

/** The request body (empty when there is none to read), or null when it passes REST_MAX_BODY. */
function readBody (req: IncomingMessage, hasBody: boolean): Promise<Buffer | null> {
  if (!hasBody) { req.resume(); return Promise.resolve(EMPTY) }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let n = 0
    req.on('data', (chunk: Buffer) => {
      n += chunk.length
      if (n <= REST_MAX_BODY) chunks.push(chunk)
    })
    req.once('end', () => { resolve(n > REST_MAX_BODY ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, n)) })
    req.once('error', reject)
  })
}

function parseJson (body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new BadRequest('ERR failed to parse the request body as JSON')
  }
}

/** One command: a non-empty JSON array of strings and numbers. */
function commandOf (v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new BadRequest('ERR the command must be a non-empty JSON array')
  const out: string[] = []
  for (const a of v) {
    if (typeof a === 'string') out.push(a)
    else if (typeof a === 'number') out.push(String(a))
    else throw new BadRequest('ERR command arguments must be strings or numbers')
  }
  return out
}

function commandsOf (body: Buffer): string[][] {
  const v = parseJson(body)
  if (!Array.isArray(v)) throw new BadRequest('ERR the body must be a JSON array of commands')
  return v.map(commandOf)
}

/** /cmd/arg1/arg2, then the POST body, then the query's parameters (not _token). */
function pathCommand (path: string, query: URLSearchParams, body: Buffer): Arg[] {
  const args: Arg[] = []
  for (const seg of path.split('/')) {
    if (seg === '') continue
    try {
      args.push(decodeURIComponent(seg))
    } catch {
      throw new BadRequest('ERR malformed URL path')
    }
  }
  if (args.length === 0) throw new BadRequest('ERR empty command')
  if (body.length > 0) args.push(body)
  for (const [k, v] of query) {
    if (k === '_token') continue
    args.push(k)
    if (v !== '') args.push(v)
  }
  return args
}

function check (cmd: Arg[], inMulti: boolean): void {
  const name = cmd[0].toString().toUpperCase()
  if (REFUSED.has(name) || (name === 'CLIENT' && cmd.length > 1 && cmd[1].toString().toUpperCase() === 'REPLY')) {
    throw new BadRequest(`ERR command is not available over the REST API: '${cmd[0].toString()}'`)
  }
  if (inMulti && NOT_IN_MULTI.has(name)) throw new BadRequest(`ERR command is not allowed in /multi-exec: '${cmd[0].toString()}'`)
}

/** RESP multibulk requests, one per command, in one buffer. */
function encode (cmds: Arg[][]): Buffer {
  let size = 0
  for (const c of cmds) {
    size += 16
    for (const a of c) {
      const n = typeof a === 'string' ? Buffer.byteLength(a) : a.length
      size += 16 + n
    }
  }
  const out = Buffer.allocUnsafe(size)
  let p = 0
  for (const c of cmds) {
    p += out.write(`*${c.length}\r\n`, p, 'latin1')
    for (const a of c) {
      const n = typeof a === 'string' ? Buffer.byteLength(a) : a.length
      p += out.write(`$${n}\r\n`, p, 'latin1')
      p += typeof a === 'string' ? out.write(a, p, 'utf8') : a.copy(out, p)
      out[p++] = 13
      out[p++] = 10
    }
  }
  return out.subarray(0, p)
}

/**
 * Reads RESP replies in order and writes them as JSON text: bulk and simple strings → strings
 * (UTF-8, or base64), integers → numbers, nil → null, arrays → arrays, an error inside an array
 * → its text. Upstash speaks RESP2; the RESP3 types (none reach here: HELLO is refused) map to
 * the nearest JSON all the same.
 */
class Replies {
  private p = 0
  private readonly b: Buffer

  constructor (bytes: Uint8Array, private readonly base64: boolean) {
    this.b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  isError (): boolean { return this.b[this.p] === 45 }

  /** The error line at p, as a JSON string. */
  error (): string { return JSON.stringify(this.line()) }

  /** {"result":…} or {"error":…} for the reply at p. */
  entry (): string { return this.isError() ? `{"error":${this.error()}}` : `{"result":${this.value()}}` }

  skip (): void { this.value() }

  /** An array's length (its elements follow), or -1 for a nil array. */
  arrayLength (): number {
    const line = this.line()
    return line.startsWith('-') ? -1 : Number(line)
  }

  /** The text after the type byte up to CRLF; p moves past it. */
  private line (): string {
    const b = this.b
    const end = b.indexOf(13, this.p)
    const s = b.toString('utf8', this.p + 1, end)
    this.p = end + 2
    return s
  }

  private str (start: number, end: number, isStatus: boolean): string {
    const b = this.b
    if (!this.base64 || (isStatus && end - start === 2 && b[start] === 79 && b[start + 1] === 75)) return JSON.stringify(b.toString('utf8', start, end))
    return `"${b.toString('base64', start, end)}"`
  }

  value (): string {
    const b = this.b
    const type = b[this.p]
    const start = this.p + 1
    const end = b.indexOf(13, start)
    this.p = end + 2
    switch (type) {
      case 43: return this.str(start, end, true) // '+'
      case 45: return JSON.stringify(b.toString('utf8', start, end)) // '-'
      case 58: return b.toString('latin1', start, end) // ':'
      case 36: case 61: case 33: { // '$' verbatim '=' blob error '!'
        if (b[start] === 45) return 'null'
        const n = Number(b.toString('latin1', start, end))
        const s = this.p + (type === 61 ? 4 : 0)
        this.p += n + 2
        return this.str(s, this.p - 2, false)
      }
      case 42: case 126: case 62: case 37: { // '*' set '~' push '>' map '%' (flat, as RESP2 sends it)
        if (b[start] === 45) return 'null'
        const n = Number(b.toString('latin1', start, end)) * (type === 37 ? 2 : 1)
        let out = '['
        for (let i = 0; i < n; i++) out += (i > 0 ? ',' : '') + this.value()
        return out + ']'
      }
      case 95: return 'null' // '_'
      case 35: return b[start] === 116 ? '1' : '0' // '#t' / '#f', as RESP2 integers
      default: return this.str(start, end, false) // ',' double, '(' big number: as RESP2's bulk strings
    }
  }
}
