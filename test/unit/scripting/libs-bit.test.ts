// bit (LuaBitOp) against redis-server 7.0.15: fixed cases, error texts, random operands.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { useLuaPair } from './lua-harness.js'

const pair = useLuaPair()
const same = pair.same


const CASES = [
  'return bit.tobit(0xffffffff)', 'return bit.tobit(2^31 + 0.5)', 'return bit.tobit(1.5)', 'return bit.tobit(2.5)',
  'return bit.tobit(-1.5)', 'return bit.tobit(2^52 + 3)', 'return bit.tobit(1/0)', 'return bit.tobit(0/0)',
  'return bit.tobit("0x10")', 'return bit.tobit(" 12 ")', 'return bit.tobit(-2^63)',
  'return bit.bnot(0)', 'return bit.band(0xff, 0x0f, 0x3)', 'return bit.bor(1, 2, 4, 8)', 'return bit.bxor(5)',
  'return bit.band(1)', 'return bit.lshift(1, 31)', 'return bit.lshift(1, 32)', 'return bit.lshift(1, -1)',
  'return bit.rshift(-1, 28)', 'return bit.arshift(-256, 4)', 'return bit.rol(0x12345678, 12)',
  'return bit.ror(0x12345678, 12)', 'return bit.rol(7, 0)', 'return bit.ror(7, 32)', 'return bit.bswap(0x12345678)',
  'return bit.tohex(255)', 'return bit.tohex(-1)', 'return bit.tohex(255, -4)', 'return bit.tohex(0x12345678, 3)',
  'return bit.tohex(1, 0)', 'return bit.tohex(-1, 20)', 'return bit.tohex(1, -20)',
  'return bit.tohex("255")',
]
const ERRORS = [
  'return bit.tobit()', 'return bit.tobit("x")', 'return bit.tobit(nil)', 'return bit.band(1, {})',
  'return bit.bor(1, 2, true)', 'return bit.lshift(1, "a")', 'return bit.rshift(1)', 'return bit.tohex(1, "z")',
  'return bit.bswap(type)', 'return bit.tohex(1, nil)', 'local f = bit.bnot return f()',
]

describe('bit', () => {
  it('has the same functions as Redis', async () => {
    await same('local t = {} for k, v in pairs(bit) do t[#t + 1] = k .. "=" .. type(v) end table.sort(t) return table.concat(t, " ")')
  })
  it.each(CASES)('%s', async (body) => { expect(await same(body)).toMatch(/^ok:/) })
  it.each(ERRORS)('error: %s', async (body) => { expect(await same(body)).toMatch(/^err:user_script:\d+: bad argument #/) })

  it('random operands', async () => {
    const num = fc.oneof(fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.double({ noNaN: true, min: -1e12, max: 1e12 }),
      fc.constantFrom(0.5, 1.5, -0.5, 2 ** 31, -(2 ** 31), 2 ** 32 - 1))
    const fn = fc.constantFrom('tobit', 'bnot', 'band', 'bor', 'bxor', 'lshift', 'rshift', 'arshift', 'rol', 'ror', 'bswap', 'tohex')
    const calls = fc.array(fc.tuple(fn, fc.array(num, { minLength: 1, maxLength: 4 })), { minLength: 20, maxLength: 20 })
    await fc.assert(fc.asyncProperty(calls, async (cs) => {
      const body = 'local r = {}\n' + cs.map(([f, args]) =>
        `r[#r + 1] = tostring(bit.${f}(${args.map((a) => `(${formatLua(a)})`).join(', ')}))`).join('\n') +
        '\nreturn table.concat(r, " ")'
      await same(body)
    }), { numRuns: 25 })
  })
})

/** A Lua literal that reads back as exactly this double. */
function formatLua (x: number): string {
  if (Object.is(x, -0)) return '-0'
  return x.toPrecision(17)
}
