import { describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:net'
import { bindAddresses, listenAll } from '../../../src/server/listeners.js'

describe('bindAddresses', () => {
  it('reads Redis\'s bind words: optional addresses, * and ::*', () => {
    expect(bindAddresses('127.0.0.1 -::1')).toEqual([{ host: '127.0.0.1', isOptional: false }, { host: '::1', isOptional: true }])
    expect(bindAddresses('* -::*')).toEqual([{ host: '0.0.0.0', isOptional: false }, { host: '::', isOptional: true }])
    expect(bindAddresses('')).toEqual([])
  })
})

describe('listenAll', () => {
  const make = (): Server => createServer()
  const close = (servers: Server[]): void => { for (const s of servers) s.close() }

  it('port 0 picks one port for every address; an optional missing address is skipped', async () => {
    const r = await listenAll(make, bindAddresses('127.0.0.1 -192.0.2.254 127.0.0.2'), 0, false)
    try {
      expect(r.servers).toHaveLength(2)
      expect(r.port).toBeGreaterThan(0)
      for (const s of r.servers) expect((s.address() as { port: number }).port).toBe(r.port)
    } finally {
      close(r.servers)
    }
  })

  it('a required address that fails closes what was bound and rejects', async () => {
    const first = await listenAll(make, bindAddresses('127.0.0.1'), 0, false)
    try {
      // 127.0.0.2 binds, then 127.0.0.1 on the same port is taken.
      await expect(listenAll(make, bindAddresses('127.0.0.2 127.0.0.1'), first.port, false)).rejects.toMatchObject({ code: 'EADDRINUSE' })
      // 127.0.0.2 was released: binding it again works.
      const again = await listenAll(make, bindAddresses('127.0.0.2'), first.port, false)
      close(again.servers)
      await expect(listenAll(make, bindAddresses('192.0.2.254'), 0, false)).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' })
    } finally {
      close(first.servers)
    }
  })
})
