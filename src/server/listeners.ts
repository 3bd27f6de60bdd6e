// One thread's listening sockets: the plain port on each `bind` address and, with tls-port, the
// TLS port on the same addresses (Redis's listenToPort). CONFIG SET port, bind and tls-port
// rebind here as changeListenPort/changeBindAddr do: new sockets are bound before the old ones
// close, so a port in use leaves the old ones serving; clients already connected stay either way.
// A server listening on another thread's descriptor (shared-fd I/O threads) is never closed
// here: closing it would close that thread's descriptor (see io-threads.ts).

import { chmodSync, statSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Server as NetServer } from 'node:net'
import type { Server as TlsServer, TlsOptions } from 'node:tls'
import { errnoText, type TlsConfig } from '../config.js'

/** A listener that could not be opened at start, with the line Redis logs before it exits. */
export class ListenError extends Error {}

export interface Address { host: string, isOptional: boolean }

/**
 * What a CONFIG SET asks every I/O thread to apply; a field left out is unchanged. Applied by
 * FlashServer.applyShared (one thread) or relayed by IoThreads (all of them, I/O thread 0 first).
 */
export interface SharedChange {
  port?: number
  bind?: string
  tls?: TlsConfig
  dir?: string
  dbfilename?: string
}

/** Why a change failed: the plain listener, the TLS settings, or the TLS listener. */
export type ListenFailure = 'plain' | 'tls-config' | 'tls-listen'

/** Redis's bind words: '-' marks an address that may be missing, '*' any IPv4 one, '::*' any IPv6 one. */
export function bindAddresses (bind: string): Address[] {
  return bind.split(' ').filter(w => w !== '').map(w => {
    const isOptional = w.startsWith('-')
    let host = isOptional ? w.slice(1) : w
    if (host === '*') host = '0.0.0.0'
    else if (host === '::*') host = '::'
    return { host, isOptional }
  })
}

/**
 * tcp-backlog (Redis's default 511): the accept queue every listener asks listen(2) for, set
 * once at start on each thread. The kernel caps it at net.core.somaxconn (main.ts warns then).
 */
let backlog = 511
export function setTcpBacklog (n: number): void { backlog = n }
export function tcpBacklog (): number { return backlog }

// listenToPort skips an optional address on these errors (no such address, no IPv6...).
const OPTIONAL_SKIP = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'ENOPROTOOPT', 'ESOCKTNOSUPPORT', 'EPFNOSUPPORT'])

function listenOne (s: NetServer, host: string, port: number, reusePort: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { s.off('listening', onListening); reject(err) }
    const onListening = (): void => { s.off('error', onError); resolve() }
    s.once('error', onError)
    s.once('listening', onListening)
    // Redis sets IPV6_V6ONLY, so '::' and '0.0.0.0' can both be bound on one port.
    const opts = { port, host, backlog, ipv6Only: host.includes(':'), ...(reusePort ? { reusePort: true } : {}) }
    s.listen(opts as Parameters<NetServer['listen']>[0])
  })
}

/**
 * Binds `port` on every address (port 0 at start: the first one picks it, the others take the
 * same). Rejects on the first failure, having closed what it bound. No address: no socket, as
 * Redis has no TCP listener with an empty bind.
 */
export async function listenAll<S extends NetServer> (make: () => S, addrs: readonly Address[], port: number, reusePort: boolean): Promise<{ servers: S[], port: number }> {
  const servers: S[] = []
  try {
    for (const a of addrs) {
      const s = make()
      try {
        await listenOne(s, a.host, port, reusePort)
      } catch (err) {
        if (a.isOptional && OPTIONAL_SKIP.has((err as NodeJS.ErrnoException).code ?? '')) continue
        throw err
      }
      servers.push(s)
      if (port === 0) {
        const addr = s.address()
        if (addr !== null && typeof addr === 'object') port = addr.port
      }
    }
  } catch (err) {
    for (const s of servers) s.close()
    throw err
  }
  return { servers, port }
}

/** sun_path's size: Node 20 would silently cut a longer path short and bind that. */
const SUN_PATH_BYTES = 108

/**
 * unixsocket, as Redis's anetUnixServer opens it: whatever is at the path is removed first, and
 * a mode other than 0 is set once bound. Closing the listener removes the file (libuv does).
 */
export async function listenUnix (make: () => NetServer, path: string, perm: number): Promise<NetServer> {
  const n = Buffer.byteLength(path)
  if (n > SUN_PATH_BYTES - 1) throw new ListenError(`Failed opening Unix socket: unix socket path too long (${n}), must be under ${SUN_PATH_BYTES}`)
  try { unlinkSync(path) } catch { /* nothing there: Redis ignores this too */ }
  const s = make()
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen({ path, backlog }, () => { s.off('error', reject); resolve() })
    })
  } catch (err) {
    throw new ListenError(`Failed opening Unix socket: bind: ${errnoText(bindErrno(err, path))}`)
  }
  if (perm !== 0) {
    try { chmodSync(path, perm) } catch { /* Redis does not check chmod either */ }
  }
  return s
}

/**
 * libuv reports a missing directory as EACCES (as Windows would); bind(2), and so Redis, says
 * ENOENT or ENOTDIR: the directory's own error, where it has one, is that.
 */
function bindErrno (err: unknown, path: string): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'EACCES') return err
  try { statSync(dirname(path)) } catch (dirErr) { return dirErr }
  return err
}

/** The tls-* settings a running TLS listener takes without rebinding (setSecureContext). */
export function refreshTls (s: TlsServer, opts: TlsOptions): void {
  s.setSecureContext(opts)
  // Read per connection by Node's TLS server, like its secure context.
  const srv = s as unknown as { requestCert: boolean, rejectUnauthorized: boolean }
  srv.requestCert = opts.requestCert === true
  srv.rejectUnauthorized = opts.rejectUnauthorized !== false
}

export function sameTls (a: TlsConfig, b: TlsConfig): boolean {
  for (const k of Object.keys(a) as Array<keyof TlsConfig>) if (a[k] !== b[k]) return false
  return true
}
