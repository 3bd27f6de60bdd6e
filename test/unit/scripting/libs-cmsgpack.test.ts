// cmsgpack (lua-cmsgpack 0.4.0 as Redis 7.0.15 ships it) against redis-server: packed bytes
// compared in hex, unpacking of every type byte, the unpack_one/unpack_limit offsets, every
// error text, the stack limits, and random values packed byte for byte.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { useLuaPair } from './lua-harness.js'

const pair = useLuaPair()
const same = pair.same


function luaBytes (b: Uint8Array | number[]): string {
  return `"${Array.from(b, (c) => `\\${c}`).join('')}"`
}

// Shows unpacked values: count, then each value with its type (tables with sorted keys).
const SHOW = `local function show(v)
  if type(v) == "number" then return "number:" .. string.format("%.17g", v) end
  if type(v) ~= "table" then return type(v) .. ":" .. (type(v) == "string" and HEX(v) or tostring(v)) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = show(k) .. "=" .. show(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end
local function all(...)
  local r = {select("#", ...)}
  for i = 1, select("#", ...) do r[#r + 1] = show((select(i, ...))) end
  return table.concat(r, " ")
end
`

const PACK = [
  'return HEX(cmsgpack.pack(string.rep("a", 31), string.rep("b", 32), string.rep("c", 255), string.rep("d", 256)))',
  'return HEX(cmsgpack.pack(string.rep("a", 65535))):sub(1, 12) .. HEX(cmsgpack.pack(string.rep("a", 65536))):sub(1, 12)',
  'return HEX(cmsgpack.pack(0.5, 0.1, 2^63, -2^63, 2^64, 1/0, -1/0, -0, 2^53 + 1, -33, -129, 255, 65536, 2^32))',
  'return HEX(cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 2^32 - 1, 2^32, -1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31 - 1))',
  'return HEX(cmsgpack.pack(1.5, -1.5, 1e300, 1e-300, 3.4028234663852886e38, 1/3, 2^-149, 2^-150, 0.1 + 0.2))',
  'return HEX(cmsgpack.pack({1, 2, 3}, {a = 1}, {}, {[1] = 1, [3] = 3}, {1, nil, 3}, true, false, nil))',
  'return HEX(cmsgpack.pack(type))', 'return HEX(cmsgpack.pack(coroutine.create(function() end)))',
  'local t = {} t[1] = t return HEX(cmsgpack.pack(t))', 'local t = {} t.x = t return HEX(cmsgpack.pack(t))',
  'return HEX(cmsgpack.pack({[1.5] = 1}))', 'return HEX(cmsgpack.pack({[0] = 1}))', 'return HEX(cmsgpack.pack({[2^40] = 1}))',
  'return HEX(cmsgpack.pack({[2^31] = 1}))', 'return HEX(cmsgpack.pack({[-1] = 1}))', 'return HEX(cmsgpack.pack({["1"] = "x"}))',
  'return HEX(cmsgpack.pack({["1"] = "x", [2] = "y"}))', 'return HEX(cmsgpack.pack({1, 2, [4] = 4}))',
  'return HEX(cmsgpack.pack({[1] = 1, [2] = 2, [3.5] = 3}))', 'return HEX(cmsgpack.pack({n = 1, 2}))',
  'return HEX(cmsgpack.pack(setmetatable({}, {__index = function(t, k) return k * 2 end})))',
  'return HEX(cmsgpack.pack(setmetatable({1, 2}, {__index = function(t, k) return k * 2 end})))',
  'local t = {} for i = 1, 20 do t[i] = i end return HEX(cmsgpack.pack(t))',
  'local t = {} for i = 1, 70000 do t[i] = i % 3 end return HEX(cmsgpack.pack(t)):sub(1, 20)',
  'local t = {} for i = 1, 20 do t["k" .. i] = i end return HEX(cmsgpack.pack(t))',
  'local t = {} for i = 1, 70000 do t["k" .. i] = true end return #cmsgpack.pack(t) .. HEX(cmsgpack.pack(t)):sub(1, 10)',
  'return HEX(cmsgpack.pack("a\\0b", 12, "12"))',
  'local t = {} for i = 1, 3999 do t[i] = i end return #cmsgpack.pack(unpack(t))',
  'local v = {} for i = 1, 14 do v = {v} end return HEX(cmsgpack.pack(v))',
  'local v = {} for i = 1, 16 do v = {a = v} end return HEX(cmsgpack.pack(v))',
  'local t = {} for k, v in pairs(cmsgpack) do t[#t + 1] = k .. "=" .. type(v) end table.sort(t) return table.concat(t, " ")',
  'return cmsgpack._NAME .. cmsgpack._VERSION .. cmsgpack._COPYRIGHT .. cmsgpack._DESCRIPTION',
]
const PACK_ERRORS = ['return cmsgpack.pack()', 'local f = cmsgpack.pack return f()',
  'local t = {} for i = 1, 4001 do t[i] = i end return #cmsgpack.pack(unpack(t))']

const UNPACK_BYTES: number[][] = [
  [0xd9, 3, 97, 98, 99], [0xc4, 3, 97, 98, 99], [0xc1], [0xcd, 1], [], [1, 2, 3], [0xca, 0x3f, 0, 0, 0],
  [0xcf, 255, 255, 255, 255, 255, 255, 255, 255], [0xd3, 255, 255, 255, 255, 255, 255, 255, 255],
  [0xcf, 0x7f, 255, 255, 255, 255, 255, 255, 255], [0xcf, 0, 0x20, 0, 0, 0, 0, 0, 1], [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
  [0xcc, 200], [0xd0, 200], [0xcd, 0xff, 0xfe], [0xd1, 0xff, 0x7f], [0xd1, 0x80, 0], [0xce, 0xff, 0xff, 0xff, 0xff],
  [0xd2, 0x80, 0, 0, 1], [0xc0, 0xc2, 0xc3], [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
  [0xca, 0x7f, 0x80, 0, 0], [0xca, 0xff, 0x80, 0, 0], [0xda, 0, 2, 104, 105], [0xdb, 0, 0, 0, 1, 0],
  [0xdb, 0x80, 0, 0, 0], [0xda, 0, 5, 1], [0xdc, 0, 2, 1, 2], [0xdd, 0, 0, 0, 2, 1], [0xdd, 0, 0, 0, 1, 1],
  [0xde, 0, 1, 1, 2], [0xdf, 0, 0, 0, 1, 0xa1, 120, 0x92, 1, 2], [0x93, 1, 0xc0, 3], [0x82, 1, 2, 0xa1, 120, 0xc3],
  [0x81, 0xc0, 1], [0x81, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 1], [0x81, 1, 0xc0], [0x82, 1, 2, 1, 3],
  [0xe0, 0xff, 0x7f, 0x00], [0xa0], [0xbf, 97], [0x90, 0x80, 0x9f], [0xd4, 1, 1], [0xc7, 1, 1, 1], [0xc5, 0, 1, 0],
  [0x92, 1], [0x81, 1], [0xa2, 97], [0xcb, 0, 0], [0xdc, 0xff, 0xff], [0xde, 0, 1, 1],
]

const OFFSETS = [
  'return all(cmsgpack.unpack_one("\\1\\2\\3"))', 'return all(cmsgpack.unpack_one("\\1\\2\\3", 2))',
  'return all(cmsgpack.unpack_one("\\1\\2\\3", 3))', 'return all(cmsgpack.unpack_one("\\1\\2\\3", 4))',
  'return all(cmsgpack.unpack_one("\\1\\2\\3", -1))', 'return all(cmsgpack.unpack_one("\\1\\2\\3", nil))',
  'return all(cmsgpack.unpack_one("\\1\\2\\3", 1.9))', 'return all(cmsgpack.unpack_one("\\1\\2\\3", "1"))',
  'return all(cmsgpack.unpack_one("\\1\\2\\3", "x"))', 'return all(cmsgpack.unpack_one(""))', 'return all(cmsgpack.unpack_one("", 0))',
  'return all(cmsgpack.unpack_one("\\1\\2\\3", 0, "ignored"))',
  'return all(cmsgpack.unpack_limit("\\1\\2\\3", 2))', 'return all(cmsgpack.unpack_limit("\\1\\2\\3", 0))',
  'return all(cmsgpack.unpack_limit("\\1\\2\\3", 0, 1))', 'return all(cmsgpack.unpack_limit("\\1\\2\\3", 5, 1))',
  'return all(cmsgpack.unpack_limit("\\1\\2\\3", -1, 1))', 'return all(cmsgpack.unpack_limit("\\1\\2\\3"))',
  'return all(cmsgpack.unpack_limit("\\1\\2\\3", 1, 7))', 'return all(cmsgpack.unpack_limit("\\1\\2\\3", {}))',
  'return all(cmsgpack.unpack_limit("\\1\\205\\1", 2))', 'return all(cmsgpack.unpack_limit("\\1\\193", 1))',
  'return all(cmsgpack.unpack_limit("\\1\\193", 2))', 'return all(cmsgpack.unpack_limit("\\1\\2\\3", 2^32 + 1))',
  'return all(cmsgpack.unpack_limit("\\1\\2\\3", 1, 2^32 + 1))', 'return all(cmsgpack.unpack_limit("\\1\\2\\3", 1, -2^32 - 1))',
  'return all(cmsgpack.unpack_limit("\\1\\2\\3", 1, 2^63))', 'return all(cmsgpack.unpack_limit("\\1\\2\\3", 0/0))',
  'return all(cmsgpack.unpack_limit("\\1\\2\\3", 1/0))', 'return all(cmsgpack.unpack_one("\\1\\2\\3", 1/0))',
  'return all(cmsgpack.unpack())', 'return all(cmsgpack.unpack({}))', 'return all(cmsgpack.unpack(17))',
  'return all(cmsgpack.unpack("\\1", "\\2"))', 'return all(cmsgpack.unpack_one())',
  'return select("#", cmsgpack.unpack(string.rep("\\1", 7990)))', 'return select("#", cmsgpack.unpack(string.rep("\\1", 7999)))',
  'return select("#", cmsgpack.unpack(string.rep("\\1", 8000)))', 'return select("#", cmsgpack.unpack(string.rep("\\1", 10000)))',
  'local n = 0 for d = 7990, 8010 do local ok = pcall(cmsgpack.unpack, string.rep("\\145", d) .. "\\1") if ok then n = d end end return n',
  'local n = 0 for d = 3990, 4010 do local ok = pcall(cmsgpack.unpack, string.rep("\\129\\1", d) .. "\\1") if ok then n = d end end return n',
  'local r = {} for _, d in ipairs({3999, 4000, 7990, 8000}) do local ok, e = pcall(cmsgpack.unpack, string.rep("\\129", d) .. "\\1") ' +
    'r[#r + 1] = tostring(ok) .. tostring(e) end return table.concat(r, " ")',
  'return all(cmsgpack.unpack(string.rep("\\145", 10000) .. "\\1"))', 'return all(cmsgpack.unpack(string.rep("\\129\\1", 10000) .. "\\1"))',
]

describe('cmsgpack pack', () => {
  it.each(PACK)('%s', async (body) => { expect(await same(body)).toMatch(/^ok:/) })
  it.each(PACK_ERRORS)('error: %s', async (body) => { expect(await same(body)).toMatch(/^err:/) })
})

describe('cmsgpack unpack', () => {
  it.each(UNPACK_BYTES)('%j', async (...bytes) => {
    await same(`${SHOW}return all(cmsgpack.unpack(${luaBytes(bytes)}))`)
  })
  it.each(OFFSETS)('%s', async (body) => { await same(SHOW + body) })
})

describe('cmsgpack random', () => {
  const leaf = fc.oneof(fc.string({ maxLength: 40 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null),
    fc.uint8Array({ maxLength: 300 }), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map((b) => Number(b)),
    fc.float().map((f) => f))
  type V = unknown
  const value: fc.Arbitrary<V> = fc.letrec<{ v: V }>((tie) => ({
    v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf,
      fc.array(tie('v'), { maxLength: 18 }),
      fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -2, max: 20 }), fc.double({ noNaN: true })), tie('v')), { maxLength: 18 })),
  })).v
  it('pack of random values matches byte for byte, and unpack gives the same values', async () => {
    await fc.assert(fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 6 }), async (vs) => {
      const args = vs.map(toLua).join(', ')
      await same(`${SHOW}local p = cmsgpack.pack(${args}) return HEX(p) .. " " .. all(cmsgpack.unpack(p))`)
    }), { numRuns: Number(process.env.LUALIBS_RUNS ?? 60) })
  })
  it('unpack of random bytes matches', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 5, maxLength: 5 }), async (inputs) => {
      const body = `${SHOW}local r = {}\n` + inputs.map((b) =>
        `do local ok, v = pcall(function() return all(cmsgpack.unpack(${luaBytes(b)})) end) r[#r + 1] = tostring(ok) .. v end`).join('\n') +
        '\nreturn table.concat(r, " | ")'
      await same(body)
    }), { numRuns: Number(process.env.LUALIBS_RUNS ?? 60) })
  })
})

function luaNumber (x: number): string {
  if (x !== x) return '(0/0)'
  if (x === Infinity) return '(1/0)'
  if (x === -Infinity) return '(-1/0)'
  if (Object.is(x, -0)) return '(-0)'
  return `(${x.toPrecision(17)})`
}

function toLua (v: unknown): string {
  if (v === null) return 'nil'
  if (typeof v === 'string') return luaBytes(Buffer.from(v, 'utf8'))
  if (v instanceof Uint8Array) return luaBytes(v)
  if (typeof v === 'number') return luaNumber(v)
  if (typeof v === 'boolean') return String(v)
  if (Array.isArray(v) && v.length > 0 && v.every((e) => Array.isArray(e) && e.length === 2 && (typeof e[0] === 'string' || typeof e[0] === 'number'))) {
    return `{${v.map(([k, x]) => `[${typeof k === 'string' ? luaBytes(Buffer.from(k, 'utf8')) : luaNumber(k as number)}] = ${toLua(x)}`).join(', ')}}`
  }
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`
  return 'nil'
}
