// The REST API's virtual client counts complete RESP replies as their bytes arrive in pieces.
import { describe, expect, it } from 'vitest'
import { respEndWithin } from '../../../src/server/virtual-connection.js'

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
