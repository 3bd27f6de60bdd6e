// struct (struct 1.4 as Redis 7.0.15 ships it) against redis-server: every format option,
// alignment, sizes past 8 bytes, conversions of out-of-range numbers, every error text, and
// random formats with random values packed byte for byte and unpacked again.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { useLuaPair } from './lua-harness.js'

const pair = useLuaPair()
const same = async (body: string): Promise<string> => await pair.same(ALL + body)


const ALL = `local function all(...)
  local r = {select("#", ...)}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    r[#r + 1] = type(v) .. ":" .. (type(v) == "string" and HEX(v) or string.format("%.17g", v))
  end
  return table.concat(r, " ")
end
`

const CASES = [
  'return HEX(struct.pack(">i", 1))', 'return HEX(struct.pack("bBhHlLTiI", -1, 255, -2, 65535, -3, 4, 5, -6, 7))',
  'return HEX(struct.pack(">bBhHlLTiI", -1, 255, -2, 65535, -3, 4, 5, -6, 7))',
  'return HEX(struct.pack("i3", 1))', 'return HEX(struct.pack("i16", -2))', 'return HEX(struct.pack(">i16", -2))',
  'return HEX(struct.pack("i32", -2))', 'return HEX(struct.pack("i0", 1))', 'return HEX(struct.pack("i9", 1))',
  'return HEX(struct.pack("I1 I2 I5 I7", 300, 70000, 2^40 + 1, -1))',
  'return struct.size("i7")', 'return struct.size("!bi")', 'return struct.size("bi")', 'return struct.size("!4bd")',
  'return struct.size("!bd")', 'return struct.size("c5")', 'return struct.size("z")', 'return struct.size("!")',
  'return struct.size("!2bhbibl")', 'return struct.size("!16bd")', 'return struct.size("!bi3")', 'return struct.size("!8bi3bi5bi6")',
  'return struct.size("<>! bx")', 'return struct.size("")', 'return struct.size("bTfd")', 'return struct.size(12)',
  'return all(struct.unpack("bc0", "\\0abc"))', 'return all(struct.unpack("bc0c0", "\\2" .. "12" .. string.rep("z", 12)))',
  'return all(struct.unpack("bc0", "\\2abc", 1))', 'return all(struct.unpack("I16c0", string.rep("\\255", 8) .. string.rep("\\0", 8) .. "abc"))',
  'return all(struct.unpack(">i16", struct.pack(">i16", -5)))', 'return all(struct.unpack("i16", string.rep("\\1", 16)))',
  'return all(struct.unpack("I9", string.rep("\\255", 9)))', 'return all(struct.unpack("i9", string.rep("\\255", 9)))',
  'return all(struct.unpack("i9", "\\0\\0\\0\\0\\0\\0\\0\\128\\0"))', 'return all(struct.unpack(">i3", "\\255\\0\\1"))',
  'return all(struct.unpack("bc0", "\\2abc"))', 'return all(struct.unpack("bc0", "\\0abc"))',
  'return all(struct.unpack("s", "ab\\0cd"))', 'return all(struct.unpack("ss", "ab\\0\\0x"))', 'return all(struct.unpack("b", "ab", 2))',
  'return all(struct.unpack("b", "ab", 2.9))', 'return all(struct.unpack("b", "ab", "2"))', 'return all(struct.unpack("x", "ab"))',
  'return all(struct.unpack("!4 b i", "\\1\\0\\0\\0\\2\\0\\0\\0"))', 'return all(struct.unpack("!4 b i", "\\1\\0\\0\\0\\2\\0\\0\\0", 2))',
  'return all(struct.unpack("<fd", struct.pack("<fd", 1.1, 1.1)))', 'return all(struct.unpack(">fd", struct.pack(">fd", -1/0, 1e308)))',
  'return all(struct.unpack("lL", string.rep("\\255", 16)))', 'return all(struct.unpack("T", "\\1\\2\\3\\4\\5\\6\\7\\8"))',
  'return all(struct.unpack("i0", ""))', 'return all(struct.unpack("c2 c1", "abc"))', 
  'return HEX(struct.pack("c0s", "ab", "cd"))', 'return HEX(struct.pack("c2", "abcd"))', 'return HEX(struct.pack("s", "a\\0b"))',
  'return HEX(struct.pack(">L", 2^32 + 5))', 'return HEX(struct.pack(">L", -1))', 'return HEX(struct.pack(">l", 2^63))',
  'return HEX(struct.pack(">l", 2^64))', 'return HEX(struct.pack(">l", 1e20))', 'return HEX(struct.pack(">l", -1e20))',
  'return HEX(struct.pack(">l", -2^63))', 'return HEX(struct.pack(">L", 2^63 + 2^11))', 'return HEX(struct.pack(">i", 0/0))',
  'return HEX(struct.pack(">l", 0/0))', 'return HEX(struct.pack(">l", 1/0))', 'return HEX(struct.pack(">l", -1/0))',
  'return HEX(struct.pack(">b", 1.7))', 'return HEX(struct.pack(">b", -1.7))', 'return HEX(struct.pack(">b", "12"))',
  'return HEX(struct.pack("<fd", 1.1, 1.1))', 'return HEX(struct.pack(">fd", 1e300, 2^-1074))', 'return HEX(struct.pack("<fd>fd", 0/0, 0/0, -(0/0), 1/0))',
  'return HEX(struct.pack("!4 b x h > i", 1, 2, 3))', 'return HEX(struct.pack("!bd", 1, 2))', 'return HEX(struct.pack("!2bhbibl", 1, 2, 3, 4, 5, 6))',
  'return HEX(struct.pack("!8bi3bi5", 1, 2, 3, 4))', 'return HEX(struct.pack("b", 1, 2, 3))', 'return HEX(struct.pack(""))',
  'return HEX(struct.pack("bx!4xi", 1, 2))', 'return HEX(struct.pack("c", "xyz"))', 'return HEX(struct.pack("b\\0b", 1, 2))',
  'local t = {} for k, v in pairs(struct) do t[#t + 1] = k .. "=" .. type(v) end table.sort(t) return table.concat(t, " ")',
  'return select("#", struct.unpack(string.rep("b", 7000), string.rep("\\1", 7000)))',
]
const ERRORS = [
  'return HEX(struct.pack("i64", 1))', 'return HEX(struct.pack("i33", 1))', 'return struct.size("s")', 'return struct.size("c0")',
  'return struct.size("!3")', 'return struct.size("!0")', 'return struct.size("i99999999999")', 'return struct.size("c2147483648")',
  'return all(struct.unpack("c0", "abc"))', 'return all(struct.unpack("s", "ab"))', 'return all(struct.unpack("i", "ab"))',
  'return all(struct.unpack("b", "ab", 3))', 'return all(struct.unpack("b", "ab", 0))', 'return all(struct.unpack("b", "ab", -1))',
  'return all(struct.unpack("h", "ab", -1))', 'return all(struct.unpack("b", "ab", 2^64))', 'return all(struct.unpack("b", "ab", 0/0))',
  'return all(struct.unpack("b", "ab", "x"))', 'return all(struct.unpack("bc0", "\\255abc"))', 'return all(struct.unpack("bc0", "\\5abc"))',
  'return all(struct.unpack("c0", "\\0"))', 'return HEX(struct.pack("c3", "ab"))', 'return HEX(struct.pack("bc3", 1, "ab"))',
  'return HEX(struct.pack("b"))', 'return HEX(struct.pack("b", "x"))', 'return HEX(struct.pack())', 'return HEX(struct.pack(1))',
  'return HEX(struct.pack("z"))', 'return HEX(struct.pack("b z", 1))', 'return HEX(struct.pack("s"))', 'return HEX(struct.pack("s", {}))',
  'return all(struct.unpack())', 'return all(struct.unpack("b"))', 'return all(struct.unpack("z", "a"))', 'return all(struct.unpack({}, "a"))',
  'return struct.size()', 'return struct.size("b?")',
  'return all(struct.unpack("c0", "2abc"))', 'return all(struct.unpack("c0", "3"))', 'return all(struct.unpack("xc0", "3abc"))', 'return all(struct.unpack("c0", "abc", 4))',
  'return select("#", struct.unpack(string.rep("b", 9000), string.rep("\\1", 9000)))', 'return HEX(struct.pack("!17"))',
  'return all(struct.unpack("!3", "a"))', 'return HEX(struct.pack("f", nil))', 'return HEX(struct.pack("d"))',
]

describe('struct', () => {
  it.each(CASES)('%s', async (body) => { expect(await same(body)).toMatch(/^ok:/) })
  it.each(ERRORS)('error: %s', async (body) => { expect(await same(body)).toMatch(/^err:/) })
})

describe('struct random', () => {
  const item = fc.oneof(
    fc.tuple(fc.constantFrom('b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I', 'i1', 'I2', 'i3', 'I5', 'i8', 'I9', 'i12', 'I16', 'i0'),
      fc.oneof(fc.integer(), fc.double(), fc.constantFrom(2 ** 63, -(2 ** 63), 2 ** 64, 2 ** 53 + 1, -1, 255, 65536))),
    fc.tuple(fc.constantFrom('f', 'd'), fc.double()),
    fc.tuple(fc.constantFrom('c0', 's', 'c3'), fc.uint8Array({ minLength: 3, maxLength: 12 })),
    fc.tuple(fc.constantFrom('x', ' ', '<', '>', '!', '!1', '!2', '!4', '!8', '!16'), fc.constant(undefined)),
  )
  it('pack of random formats matches byte for byte, and unpack and size agree', async () => {
    await fc.assert(fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 10 }), async (items) => {
      const fmt = items.map(([o]) => o).join('')
      const args = items.filter(([, v]) => v !== undefined).map(([o, v]) => toLua(o, v)).join(', ')
      const hasVar = items.some(([o]) => o === 's' || o === 'c0')
      await same(`local p = struct.pack("${fmt}"${args === '' ? '' : ', '}${args}) ` +
        `return HEX(p) .. " " .. all(struct.unpack("${fmt.replace(/c0/g, 'c' + 'X')}", p))`.replace(/cX/g, 'c0') +
        (hasVar ? '' : ` .. " " .. struct.size("${fmt}")`))
    }), { numRuns: Number(process.env.LUALIBS_RUNS ?? 80) })
  })
})

function toLua (opt: string, v: unknown): string {
  if (v instanceof Uint8Array) {
    // 's' stops at the first NUL when unpacking; keep strings free of it so round trips stay meaningful.
    const bytes = opt === 's' ? v.map((c) => c === 0 ? 1 : c) : v
    return `"${Array.from(bytes, (c) => `\\${c}`).join('')}"`
  }
  const x = v as number
  if (x !== x) return '(0/0)'
  if (x === Infinity) return '(1/0)'
  if (x === -Infinity) return '(-1/0)'
  if (Object.is(x, -0)) return '(-0)'
  return `(${x.toPrecision(17)})`
}
