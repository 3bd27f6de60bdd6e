// LOLWUT against a real redis-server 7.0.15. The drawings are random, so bytes are compared where
// Redis's algorithm leaves nothing to chance: the version line, the errors, Schotter with at most
// two rows of squares (only later rows are disturbed), the undisturbed top of a larger one, the
// skyline's sky; elsewhere the shape (lines, characters per line) and the closing lines.
import { describe, expect, it } from 'vitest'
import { useDiffPair, text } from './helpers/diff.js'

const pair = useDiffPair({ shards: 2 })
const { sequence } = pair

/** A RESP2 bulk reply's payload. */
function payload (reply: string): string {
  const at = reply.indexOf('\r\n')
  expect(reply[0]).toBe('$')
  return Buffer.from(reply.slice(at + 2, -2), 'latin1').toString('utf8')
}

async function both (...args: string[]): Promise<[string, string]> {
  const [a, b] = await Promise.all([pair.f.command(...args), pair.r.command(...args)])
  return [payload(text(a)), payload(text(b))]
}

describe('LOLWUT', () => {
  it('the version line for the server\'s own version and any other than 5 or 6; integer errors', async () => {
    await sequence([
      ['LOLWUT'], ['lolwut', 'foo'], ['LOLWUT', 'VERSION'], ['LOLWUT', 'VERSION', '4'], ['LOLWUT', 'version', '7', 'x'],
      ['LOLWUT', 'VERSION', '-1'], ['LOLWUT', 'VERSION', '50'], ['LOLWUT', 'VERSION', 'x'], ['LOLWUT', 'VERSION', '5.0'],
      ['LOLWUT', 'VERSION', '99999999999999999999'], ['LOLWUT', 'VERSION', '5', 'x'], ['LOLWUT', 'VERSION', '5', '10', '2', 'x'],
      ['LOLWUT', 'VERSION', '6', 'x'], ['LOLWUT', 'VERSION', '6', '10', ''],
    ])
    // The same version as INFO's redis_version.
    const info = text(await pair.f.command('INFO', 'server'))
    const version = /redis_version:(\S+)/.exec(info)?.[1]
    expect(payload(text(await pair.f.command('LOLWUT')))).toBe(`Redis ver. ${version}\n`)
  })

  it('Schotter with one or two rows of squares is the same drawing, limits included', async () => {
    await sequence([
      ['LOLWUT', 'VERSION', '5', '1', '1', '1'], ['LOLWUT', 'VERSION', '5', '66', '8', '2'], ['LOLWUT', 'VERSION', '5', '40', '3', '1'],
      ['LOLWUT', 'VERSION', '5', '2', '1', '2'], ['LOLWUT', 'VERSION', '5', '0', '0', '0'], ['LOLWUT', 'VERSION', '5', '-5', '-1', '-1'],
      ['LOLWUT', 'VERSION', '5', '13', '7', '2'], ['LOLWUT', 'VERSION', '4294967301', '20', '2', '2'],
      ['LOLWUT', 'VERSION', '5', '3000', '300', '1'],
    ])
  })

  it('Schotter at its defaults and with given sizes: same shape, same undisturbed top rows, same closing line', async () => {
    for (const args of [['VERSION', '5'], ['VERSION', '5', '66', '4', '4'], ['VERSION', '5', '30', '3', '9']]) {
      const [a, b] = await both('LOLWUT', ...args)
      const la = a.split('\n')
      const lb = b.split('\n')
      expect(la.length, args.join(' ')).toBe(lb.length)
      expect(la.map(l => [...l].length)).toEqual(lb.map(l => [...l].length))
      expect(la.at(-2)).toBe('Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15')
      expect(la.at(-1)).toBe('')
      // Every drawing character is Braille (U+2800..U+28FF).
      for (const l of la.slice(0, -3)) expect(l).toMatch(/^[\u2800-\u28ff]*$/)
      // Rows 0 and 1 of squares are never disturbed; row 2's reach starts ~1.7 squares down.
      const cols = Number(args[2] ?? 66)
      const perRow = Number(args[3] ?? 8)
      const side = (cols * 2 - 4) / perRow
      const safeLines = Math.floor((1.6 * side + 2) / 4)
      expect(safeLines).toBeGreaterThan(0)
      expect(la.slice(0, safeLines)).toEqual(lb.slice(0, safeLines))
    }
  })

  it('the skyline: rows × columns of colour cells, an empty sky, the dedication', async () => {
    for (const args of [['VERSION', '6'], ['VERSION', '6', '30', '12'], ['VERSION', '6', '0', '0']]) {
      const [a, b] = await both('LOLWUT', ...args)
      const la = a.split('\n')
      const lb = b.split('\n')
      expect(la.length, args.join(' ')).toBe(lb.length)
      const cell = '\\x1b\\[0;(30;40|90;100|37;47|97;107)m \\x1b\\[0m'
      for (const [i, l] of la.slice(0, -3).entries()) expect(l.replace(new RegExp(cell, 'g'), '.')).toBe(lb[i].replace(new RegExp(cell, 'g'), '.'))
      // No building reaches the top row.
      expect(la[0]).toBe(lb[0])
      expect(la.slice(-3)).toEqual(lb.slice(-3))
    }
  })

  it('is verbatim text in RESP3', async () => {
    await Promise.all([pair.f.command('HELLO', '3'), pair.r.command('HELLO', '3')])
    await sequence([['LOLWUT'], ['LOLWUT', 'VERSION', '5', '4', '2', '1'], ['LOLWUT', 'VERSION', 'x']])
  })
})
