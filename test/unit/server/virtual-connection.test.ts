// The REST API's virtual client counts complete RESP replies as their bytes arrive in pieces; its
// gate checks the token against requirepass, then protected mode.
import { describe, expect, it } from 'vitest'
import { respEndWithin } from '../../../src/server/virtual-connection.js'
import { restGate } from '../../../src/server/server.js'

const replies = [
  '+OK\r\n', '-ERR no\r\n', ':42\r\n', '$-1\r\n', '$5\r\nhe\r\nl\r\n', '*-1\r\n', '*0\r\n',
  '*3\r\n$1\r\na\r\n*2\r\n:1\r\n$0\r\n\r\n+x\r\n', '%1\r\n+k\r\n:1\r\n', '_\r\n', '=8\r\ntxt:abcd\r\n',
]

describe('respEndWithin', () => {
  it('finds the end of each complete reply and -1 for every strict prefix', () => {
    for (const r of replies) {
      const b = Buffer.from(r, 'latin1')
      expect(respEndWithin(b, 0, b.length)).toBe(b.length)
      for (let cut = 0; cut < b.length; cut++) expect(respEndWithin(b, 0, cut)).toBe(-1)
    }
  })

  it('walks replies back to back from any offset', () => {
    const all = Buffer.from(replies.join(''), 'latin1')
    let p = 0
    for (const r of replies) {
      const e = respEndWithin(all, p, all.length)
      expect(all.toString('latin1', p, e)).toBe(r)
      p = e
    }
    expect(respEndWithin(all, p, all.length)).toBe(-1)
  })
})

describe('restGate', () => {
  const pw = Buffer.from('s3cret')
  it('wants the password as token when one is set, whatever the address', () => {
    expect(restGate(pw, true, '10.1.2.3', 's3cret')).toBeNull()
    for (const token of [null, '', 's3cre', 's3cret!', 'S3CRET']) {
      expect(restGate(pw, false, '127.0.0.1', token)).toEqual({ kind: 'refused', status: 401, error: 'WRONGPASS invalid or missing auth token' })
    }
  })

  it('without a password takes any token, and protected mode keeps to loopback', () => {
    const none = Buffer.alloc(0)
    expect(restGate(none, true, '127.0.0.1', null)).toBeNull()
    expect(restGate(none, true, '::ffff:127.0.0.1', 'x')).toBeNull()
    expect(restGate(none, false, '10.1.2.3', null)).toBeNull()
    const denied = restGate(none, true, '10.1.2.3', 'x')
    expect(denied).toMatchObject({ kind: 'refused', status: 403 })
    expect(denied?.kind === 'refused' && denied.error.startsWith('DENIED Redis is running in protected mode')).toBe(true)
  })
})
