import { describe, expect, it } from 'vitest'
import { Canvas, renderBraille, renderColors, schotter, skyline } from '../../../src/commands/lolwut.js'

describe('LOLWUT drawing', () => {
  it('Braille: each 2×4 block is one character, dots numbered as Redis numbers them', () => {
    const c = new Canvas(4, 4, 0)
    c.set(0, 0, 1) // dot 1
    c.set(1, 3, 1) // dot 8
    for (let y = 0; y < 4; y++) { c.set(2, y, 1); c.set(3, y, 1) }
    expect(renderBraille(c).toString('utf8')).toBe('\u2881\u28ff\n')
  })

  it('a canvas whose height is one more than a multiple of 4 ends without a newline', () => {
    expect(renderBraille(new Canvas(2, 5, 0)).toString('utf8')).toBe('\u2800\n\u2800')
  })

  it('Schotter\'s canvas is 2 × cols wide, padded, with square-side rows', () => {
    const c = schotter(66, 8, 12)
    expect(c.width).toBe(132)
    expect(c.height).toBe(12 * 16 + 4)
    // One square per position of the first row, undisturbed: its top edge is a straight line.
    const one = schotter(1, 1, 1)
    expect(renderBraille(one).toString('utf8')).toBe('\u280b\n')
  })

  it('the skyline fills cols × rows cells and leaves the top row to the sky', () => {
    const c = skyline(30, 20)
    const lines = renderColors(c).split('\n')
    expect(lines).toHaveLength(20)
    expect(lines[0]).toBe('\x1b[0;97;107m \x1b[0m'.repeat(30))
    for (const l of lines) expect(l.match(/\x1b\[0m/g)).toHaveLength(30)
  })
})
