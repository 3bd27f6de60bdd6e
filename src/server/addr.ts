// Client addresses.

/** connIsLocal: 127.0.0.0/8 and ::1 (also as IPv4-mapped IPv6). */
export function isLoopback (addr: string | undefined): boolean {
  if (addr === undefined) return false
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr
  return a === '::1' || a.startsWith('127.')
}
