// Client socket I/O below Node's stream layer. A readable stream allocates a Buffer per read and
// pushes it through Readable's queue to a 'data' event; a writable stream allocates a write
// request, a state object and an after-write tick per write. Per request at `-c 50` that was
// about 1.8 µs of the primary's CPU on the bare PING server (15.6 against 13.8 µs, measured with
// /proc CPU time over 100k requests), and most of 1 KB of garbage.
//
// Reads: net.Socket's documented `onread` option makes libuv read into one buffer we own. The
// server accepts paused sockets and moves each handle into such a Socket. The buffer is shared
// by every connection: its callback copies the bytes out before the next read can land.
//
// Writes: the handle's own writeBuffer with a reusable write request. When the kernel takes all
// bytes at once (the usual case), nothing is allocated and no callback follows; otherwise the
// request keeps the buffer until its oncomplete.
//
// Both lean on Node internals (process.binding('stream_wrap'), Socket._handle) that Node 20, 22
// and 24 all have; where either is missing, or FLASHKV_STREAM_IO=1, the plain stream API is used.

import { Buffer } from 'node:buffer'
import { Socket, type Server as NetServer } from 'node:net'
import { getSystemErrorName } from 'node:util'

/** The parts of a libuv stream handle (TCPWrap) we call. */
interface StreamHandle {
  writeBuffer (req: WriteReq, data: Uint8Array): number
  useUserBuffer (buf: Uint8Array): void
}

/** Settles a raw write that the kernel did not take at once. */
export interface WriteOwner { afterWrite (req: WriteReq, status: number): void }

export interface WriteReq {
  oncomplete: (this: WriteReq, status: number) => void
  owner: WriteOwner
  /** Bytes of this write still queued in libuv, and the buffer kept alive for them. */
  bytes: number
  buffer: Uint8Array | null
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq
  streamBaseState: Int32Array
  kLastWriteWasAsync: number
}

function loadBinding (): StreamWrapBinding | null {
  if (process.env.FLASHKV_STREAM_IO === '1') return null
  try {
    const binding = (process as unknown as { binding: (name: string) => Partial<StreamWrapBinding> }).binding('stream_wrap')
    if (typeof binding.WriteWrap === 'function' && binding.streamBaseState instanceof Int32Array &&
      typeof binding.kLastWriteWasAsync === 'number') return binding as StreamWrapBinding
  } catch { /* a runtime without the binding: streams it is */ }
  return null
}

const binding = loadBinding()
/** Whether client sockets use the raw path (for INFO and tests). */
export const isRawIo = binding !== null

/** libuv reads into this; every onread callback consumes it before returning. */
const READ_BYTES = 64 * 1024
const sharedRead = Buffer.allocUnsafe(READ_BYTES)

function onWriteDone (this: WriteReq, status: number): void { this.owner.afterWrite(this, status) }

export function newWriteReq (owner: WriteOwner): WriteReq {
  const req = new (binding as StreamWrapBinding).WriteWrap()
  req.oncomplete = onWriteDone
  req.owner = owner
  req.bytes = 0
  req.buffer = null
  return req
}

/** What a connection reads and writes through. */
export interface SocketIo { socket: Socket, handle: StreamHandle | null }

/** Where a socket made by acceptRaw sends its reads once a connection owns it (null: dropped). */
const kReadTarget = Symbol('flashkv.readTarget')
type RawSocket = Socket & { [kReadTarget]: ((n: number, buf: Buffer) => void) | null }

/**
 * The accepted handle's callback on a plain listener (net.Server), replaced so that each client
 * gets one Socket, made straight from the handle with the `onread` option, where net.Server
 * would make one Socket and openSocket a second (its handle moved over). That second Socket
 * cost about 25 µs of CPU per client (about 150 µs in all then, bursts of 50: bench/accept.ts).
 * The sockets are made paused, as pauseOnConnect makes them, and nothing counts them in the
 * server's `_connections`: nothing here uses it (maxclients has its own count), and close()
 * then stops listening without waiting for every client to leave, as Redis's listener does.
 * Returns false where the runtime lacks what it needs: the server keeps Node's own accept.
 */
export function acceptRaw (server: NetServer, accept: (socket: Socket) => void): boolean {
  const handle = (server as unknown as { _handle?: { onconnection?: unknown } | null })._handle
  if (binding === null || handle === undefined || handle === null || typeof handle.onconnection !== 'function') return false
  handle.onconnection = (err: number, client: StreamHandle | undefined) => {
    if (err !== 0 || client === undefined) {
      // What Node's own onconnection does with a failed accept (EMFILE...): the listener's 'error'.
      let code = 'EACCEPT'
      try { code = getSystemErrorName(err) } catch { /* not an errno */ }
      server.emit('error', Object.assign(new Error(`accept ${code}`), { code, errno: err, syscall: 'accept' }))
      return
    }
    const socket = new Socket({
      handle: client,
      readable: true,
      writable: true,
      allowHalfOpen: true,
      pauseOnCreate: true,
      onread: { buffer: sharedRead, callback: (n: number, buf: Buffer) => { const t = socket[kReadTarget]; if (t !== null) t(n, buf) } },
    } as unknown as ConstructorParameters<typeof Socket>[0]) as RawSocket
    socket[kReadTarget] = null
    accept(socket)
  }
  return true
}

/**
 * Takes a socket the server accepted paused (pauseOnConnect, or acceptRaw) and starts reading:
 * into the shared buffer through onRead, or through 'data' events when the raw path is unavailable.
 */
export function openSocket (accepted: Socket, onRead: (n: number, buf: Buffer) => void): SocketIo {
  const handle = (accepted as unknown as { _handle?: StreamHandle | null })._handle
  if (kReadTarget in accepted && handle !== undefined && handle !== null) {
    (accepted as RawSocket)[kReadTarget] = onRead
    accepted.resume()
    return { socket: accepted, handle }
  }
  // A TLS socket's bytes pass through its TLS layer: its handle is not the one to read or write.
  if ((accepted as { encrypted?: boolean }).encrypted === true || binding === null || handle === undefined || handle === null || typeof handle.writeBuffer !== 'function' ||
    typeof handle.useUserBuffer !== 'function') {
    accepted.on('data', (chunk: Buffer) => onRead(chunk.length, chunk))
    accepted.resume()
    return { socket: accepted, handle: null }
  }
  // The accepted Socket gives up its handle; it stays only as the server's connection count,
  // which its destroy() releases when the new Socket closes.
  ;(accepted as unknown as { _handle: null })._handle = null
  const socket = new Socket({
    handle, readable: true, writable: true, allowHalfOpen: true, onread: { buffer: sharedRead, callback: onRead },
  } as unknown as ConstructorParameters<typeof Socket>[0])
  socket.once('close', () => accepted.destroy())
  return { socket, handle }
}

/**
 * Writes data. Returns -1 when the write failed at once (the caller closes the socket), 0 when
 * the kernel took it all, and 1 when req now holds the rest and data must not be reused.
 */
export function rawWrite (handle: StreamHandle, req: WriteReq, data: Uint8Array): number {
  const err = handle.writeBuffer(req, data)
  if (err !== 0) return -1
  const b = binding as StreamWrapBinding
  if (b.streamBaseState[b.kLastWriteWasAsync] === 0) return 0
  req.bytes = data.length
  req.buffer = data
  return 1
}
