// The TLS listener (Redis's tls-port and tls-* directives, tls.c). It sits beside the plain
// port and hands each connection, once its handshake is done, to the same accept path: the
// connection, router and limits are the plain port's. TLS sockets use Node's stream API (the
// raw handle path of socket-io.ts reads and writes the TCP handle, below the TLS layer).

import { createServer, createSecureContext, DEFAULT_CIPHERS, type Server, type TLSSocket, type TlsOptions, type SecureVersion } from 'node:tls'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { TlsConfig } from '../config.js'

export class TlsSetupError extends Error {}

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/** tls-protocols: a space-separated set, any case; '' is Redis's default, TLSv1.2 and TLSv1.3. */
export function protocolRange (protocols: string): { minVersion: SecureVersion, maxVersion: SecureVersion } {
  const words = protocols.split(' ').filter(w => w !== '')
  if (words.length === 0) return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }
  let min = VERSIONS.length
  let max = -1
  for (const w of words) {
    const i = VERSIONS.findIndex(v => v.toLowerCase() === w.toLowerCase())
    if (i < 0) throw new TlsSetupError("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
    if (i < min) min = i
    if (i > max) max = i
  }
  // Node takes a range: a set with a gap (TLSv1.1 TLSv1.3) allows what lies between too.
  return { minVersion: VERSIONS[min], maxVersion: VERSIONS[max] }
}

/**
 * Node takes TLSv1.3 suites (TLS_*) and TLSv1.2 ciphers in one list; Redis has tls-ciphersuites
 * and tls-ciphers. Either one left empty keeps Node's defaults for its half.
 */
function cipherList (ciphers: string, suites: string): string | undefined {
  if (ciphers === '' && suites === '') return undefined
  const defaults = DEFAULT_CIPHERS.split(':')
  const v13 = suites !== '' ? suites : defaults.filter(c => c.startsWith('TLS_')).join(':')
  const v12 = ciphers !== '' ? ciphers : defaults.filter(c => !c.startsWith('TLS_')).join(':')
  return `${v13}:${v12}`
}

function read (what: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new TlsSetupError(`Failed to load ${what} ${path}: ${(err as Error).message}`)
  }
}

/** Every certificate file in a CA directory (OpenSSL's hashed links included). */
function caDir (dir: string): Buffer[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    throw new TlsSetupError(`Failed to read tls-ca-cert-dir ${dir}: ${(err as Error).message}`)
  }
  const out: Buffer[] = []
  for (const n of names.sort()) {
    const p = join(dir, n)
    if (!statSync(p).isFile()) continue
    const b = readFileSync(p)
    if (b.includes('-----BEGIN CERTIFICATE-----')) out.push(b)
  }
  return out
}

/** The options of Node's TLS server for the tls-* settings; throws TlsSetupError as Redis fails to start. */
export function tlsOptions (t: TlsConfig): TlsOptions {
  if (t.certFile === '' || t.keyFile === '') throw new TlsSetupError('tls-port needs tls-cert-file and tls-key-file')
  const auth = t.authClients !== 'no'
  if (auth && t.caCertFile === '' && t.caCertDir === '') {
    throw new TlsSetupError('Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!')
  }
  const ca: Buffer[] = []
  if (t.caCertFile !== '') ca.push(read('CA certificate(s) file', t.caCertFile))
  if (t.caCertDir !== '') ca.push(...caDir(t.caCertDir))
  return {
    cert: read('certificate', t.certFile),
    key: read('private key', t.keyFile),
    passphrase: t.keyFilePass !== '' ? t.keyFilePass : undefined,
    ca: ca.length > 0 ? ca : undefined,
    requestCert: auth,
    // optional: a client may come without a certificate, but one it shows must verify (below).
    rejectUnauthorized: t.authClients === 'yes',
    ...protocolRange(t.protocols),
    ciphers: cipherList(t.ciphers, t.ciphersuites),
    honorCipherOrder: t.preferServerCiphers,
  }
}

/** Builds the secure context once, so that a bad file or a key that does not fit fails at start. */
export function checkTls (t: TlsConfig): void {
  try {
    createSecureContext(tlsOptions(t))
  } catch (err) {
    if (err instanceof TlsSetupError) throw err
    throw new TlsSetupError(`Failed to configure TLS: ${(err as Error).message}`)
  }
}

/**
 * A TLS server whose connections reach `accept` after their handshake. Throws TlsSetupError
 * for files that cannot be read or a key that does not fit (Redis refuses to start then).
 */
export function createTlsListener (t: TlsConfig, current: () => TlsConfig, accept: (socket: TLSSocket) => void, onRefused: (err: Error) => void): Server {
  let server: Server
  try {
    server = createServer({ ...tlsOptions(t), allowHalfOpen: true }, socket => {
      // tls-auth-clients optional: no certificate is fine, a bad one is not (the setting as it is
      // now: CONFIG SET may have changed it since the listener was made).
      if (current().authClients === 'optional' && !socket.authorized && hasPeerCertificate(socket)) { socket.destroy(); return }
      socket.setNoDelay(true)
      accept(socket)
    })
  } catch (err) {
    if (err instanceof TlsSetupError) throw err
    throw new TlsSetupError(`Failed to configure TLS: ${(err as Error).message}`)
  }
  // A failed handshake concerns that client alone.
  server.on('tlsClientError', (err, socket) => { onRefused(err); socket.destroy() })
  return server
}

function hasPeerCertificate (socket: TLSSocket): boolean {
  const cert = socket.getPeerCertificate()
  return cert !== null && Object.keys(cert).length > 0
}
