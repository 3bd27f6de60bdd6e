// cjson (lua-cjson 2.1.0 as Redis 7.0.15 ships it) against redis-server: encoding, decoding,
// settings, every error text, and random round trips. Settings persist between EVALs in Redis,
// so every snippet starts by putting the defaults back.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { useLuaPair } from './lua-harness.js'

const pair = useLuaPair()
const same = async (body: string): Promise<string> => await pair.same(RESET + body)

const RESET = 'cjson.encode_max_depth(1000) cjson.decode_max_depth(1000) cjson.encode_number_precision(14) ' +
  'cjson.encode_sparse_array(false, 2, 10) cjson.encode_invalid_numbers(false) cjson.decode_invalid_numbers(true) ' +
  'cjson.encode_keep_buffer(true)\n'


/** A Lua long-bracket string literal for arbitrary bytes (decimal escapes, no quoting issues). */
function luaBytes (s: string): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) out += `\\${s.charCodeAt(i) & 0xff}`
  return `${out}"`
}

const ENCODE = [
  'return cjson.encode({1, 2, 3, {a = 1}})', 'return cjson.encode({})', 'return cjson.encode({{}, {{}}})',
  'return cjson.encode("a/b\\"\\\\\\1\\8\\9\\10\\12\\13\\31\\127\\128\\255 ")', 'return cjson.encode(0.1)',
  'return cjson.encode(1/3)', 'return cjson.encode(1e100)', 'return cjson.encode(-0)', 'return cjson.encode(2^53)',
  'return cjson.encode(123456789012345678)', 'return cjson.encode(123456789012345)', 'return cjson.encode(5e-324)',
  'return cjson.encode(-1.5e-7)', 'return cjson.encode(true)', 'return cjson.encode(false)', 'return cjson.encode(nil)',
  'return cjson.encode(cjson.null)', 'return cjson.encode({cjson.null, false})', 'return cjson.encode("")',
  'return cjson.encode({[1] = 1, [2] = 2, [4] = 4})', 'return cjson.encode({[10] = 1})', 'return cjson.encode({[1.5] = 1})',
  'return cjson.encode({1, 2, x = 3})', 'return cjson.encode({[-1] = 1})', 'return cjson.encode({[0] = 1})',
  'return cjson.encode({1, nil, 3})', 'return cjson.encode({[2^31] = 1})', 'return cjson.encode({[1] = 1, [2^31] = 1})',
  'return cjson.encode({[2^31] = 1, [1] = 1, [2] = 2})', 'return cjson.encode({["a\\0b"] = 1})',
  'return cjson.encode({a = {b = {c = {1, 2, {d = "e"}}}}})', 'return cjson.encode({[1e20] = 1})',
  'cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0, 0/0})',
  'cjson.encode_invalid_numbers("null") return cjson.encode({1/0, 0/0, [1/0] = 1})',
  'cjson.encode_invalid_numbers("on") return cjson.encode({[1/0] = 1})',
  'cjson.encode_number_precision(3) return cjson.encode({2.5, 0.125, 123456, 1e-5, 0.00015, 2^40})',
  'cjson.encode_number_precision(1) return cjson.encode({2.5, 3.5, 0.25, 95, 0.05})',
  'cjson.encode_sparse_array(true) return cjson.encode({[20] = 1})', 'cjson.encode_sparse_array(false, 0) return cjson.encode({[20] = 1})',
  'cjson.encode_sparse_array(false, 3, 1) return cjson.encode({[3] = 1})', 'cjson.encode_sparse_array(false, 1, 0) return cjson.encode({1, 2})',
  'cjson.encode_max_depth(2) return cjson.encode({{1}})', 'local t = {} for i = 1, 100 do t[i] = i * 1.5 end return cjson.encode(t)',
  'local t = {} for i = 1, 50 do t["k" .. i] = i end return cjson.encode(t)',
  'local c = cjson.new() c.encode_max_depth(2) local t = {} for k, v in pairs(c) do t[#t + 1] = k end table.sort(t) ' +
    'return table.concat(t, " ") .. cjson.encode_max_depth() .. c.encode_max_depth() .. tostring(c.null == cjson.null)',
  'local c = cjson.new() c.encode_number_precision(2) return cjson.encode(1/3) .. c.encode(1/3)',
  'return cjson._NAME .. " " .. cjson._VERSION',
  'local t = {} for k, v in pairs(cjson) do t[#t + 1] = k .. "=" .. type(v) end table.sort(t) return table.concat(t, " ")',
]
const ENCODE_ERRORS = [
  'return cjson.encode(1/0)', 'return cjson.encode(-1/0)', 'return cjson.encode(0/0)', 'return cjson.encode({[20] = 1})',
  'return cjson.encode({[11] = 1})', 'return cjson.encode({[true] = 1})', 'return cjson.encode({[{}] = 1})',
  'return cjson.encode(type)', 'return cjson.encode({a = type})', 'return cjson.encode()', 'return cjson.encode(1, 2)',
  'local t = {} t[1] = t return cjson.encode(t)', 'cjson.encode_max_depth(2) return cjson.encode({{{}}})',
  'return cjson.encode({[1/0] = 1})', 'return cjson.encode(coroutine.create(type))',
  'cjson.encode_sparse_array(false, 1, 1) return cjson.encode({[2] = 1})',
]
const CONFIG = [
  'return cjson.encode_max_depth()', 'return cjson.decode_max_depth()', 'return table.concat({tostring(cjson.encode_sparse_array())}, ",")',
  'local a, b, c = cjson.encode_sparse_array() return tostring(a) .. b .. c', 'return cjson.encode_number_precision()',
  'return tostring(cjson.encode_keep_buffer())', 'return tostring(cjson.encode_invalid_numbers())', 'return tostring(cjson.decode_invalid_numbers())',
  'return tostring(cjson.encode_keep_buffer("off"))', 'return tostring(cjson.encode_invalid_numbers("null"))',
  'return tostring(cjson.encode_invalid_numbers("on"))', 'return tostring(cjson.encode_invalid_numbers(true))',
  'local a, b, c = cjson.encode_sparse_array(true, 2^32 + 3, 5) return tostring(a) .. b .. c',
  'local a, b, c = cjson.encode_sparse_array(nil, nil, 7) return tostring(a) .. b .. c',
  'return cjson.encode_max_depth(nil)', 'return cjson.encode_max_depth(2.9)', 'return cjson.decode_max_depth("5")',
  'return cjson.encode_invalid_numbers("x")', 'return cjson.encode_sparse_array(true, -1)', 'return cjson.encode_sparse_array(true, 1, -1)',
  'return cjson.encode_sparse_array(1)', 'return cjson.encode_sparse_array(true, 1, 1, 1)', 'return cjson.encode_max_depth(0)',
  'return cjson.encode_max_depth(1, 2)', 'return cjson.decode_max_depth(-1)', 'return cjson.encode_number_precision(15)',
  'return cjson.encode_number_precision(0)', 'return cjson.encode_number_precision("a")', 'return cjson.encode_keep_buffer(1)',
  'return cjson.encode_keep_buffer({})', 'return cjson.decode_invalid_numbers("both")', 'return cjson.encode_max_depth(2^63)',
]
const DECODE = [
  '{', '', '[1,2', '{"a" 1}', '{1:2}', '[1 2]', '"abc', '"\\q"', '"\\u12"', '"\\ud800x"', '"\\udc00"', '"\\ud800\\u0041"',
  'nul', '1 2', '@', 'a\0', '\0a', ' [1]x', '-', '0x10', '+1', 'inf', '-Infinity', 'nan', 'NaN(x1)', '-nan', '01', '1e5',
  '1.5e400', '"a\tb"', '{"a":1,}', '[1,]', 'tru', '1.', '.5', '1e', '1e+', '0x1p3', '0x', '0x.8', '   ', '["\\u0000"]',
  '["\\u00e9\\ud83d\\ude00\\u20ac"]', '"\\/\\b\\f\\n\\r\\t\\"\\\\"', 'true', 'false', 'null', '[null,true,false]',
  '{"a":{"b":[1,2,{"c":null}]}}', '12\0x', '"a\0b"', '[1,2,3]', '{"a":1,"a":2}', '  {  "x" : [ ] , "y" : { } }  ',
  '-0', '1E2', '1e-400', '123456789012345678901234567890', '0.1', '[-]', '[+]', '[--1]', '- 1', 'infinity', 'Inf',
  'nAn', 'i', 'n', 'x', '0x1.fffffffffffff8p0', '0x1.00000000000008p0', '0x1.00000000000018p0', '0x1p-1074', '0x1p-1075',
  '0x1.8p-1075', '0x1.8p-1074', '0x3p-1076', '0xffffffffffffffffffff', '0x.1p4', '0X1P+3', '0x1p', '0x1p+', '0xg', '-0x10', '0x1p99999',
  '0x1p-99999', '1e-320', '2.4703282292062328e-324', '2.4703282292062327e-324', '1e99999', '-1e-99999', '0.000000000000000000001e21',
  '123456789012345678901234567890e-10', '9007199254740993', '1.7976931348623158e308', '1.7976931348623159e308', '"\x80\xff"', '[1,2]]', '{"a":1}}', ']', '}', ':', ',', '"\\u0041"',
]
const DECODE_CALL_ERRORS = [
  'return cjson.decode()', 'return cjson.decode({})', 'return cjson.decode("1", 2)', 'return cjson.decode(12)',
  'return cjson.decode(string.rep("[", 1001))', 'return cjson.decode(string.rep("[", 1000))',
  'cjson.decode_max_depth(3) return show(cjson.decode("[[[1]]]"))', 'cjson.decode_max_depth(3) return cjson.decode("[[{\\"a\\":[1]}]]")',
  'cjson.decode_max_depth(2) return cjson.encode(cjson.decode("[[1]]"))',
]

// Nesting as deep as the Lua stack allows (LUAI_MAXCSTACK, 8000 slots for a C function): the
// limits come from lua_checkstack at the same points as in C, and must not overflow JS frames.
const DEEP = [
  'cjson.decode_max_depth(100000) local n = "" for _, d in ipairs({1000, 3990, 3999, 4000, 4001, 5000}) do ' +
    'local ok, e = pcall(cjson.decode, string.rep("[", d) .. string.rep("]", d)) n = n .. " " .. tostring(ok) .. (ok and "" or e) end return n',
  'cjson.decode_max_depth(100000) local n = "" for _, d in ipairs({1000, 2660, 2666, 2667, 2668, 4000}) do ' +
    'local ok, e = pcall(cjson.decode, string.rep("{\\"a\\":", d) .. "1" .. string.rep("}", d)) n = n .. " " .. tostring(ok) .. (ok and "" or e) end return n',
  'cjson.decode_max_depth(100000) local ok, v = pcall(cjson.decode, string.rep("[", 3000) .. "7" .. string.rep("]", 3000)) ' +
    'for i = 1, 3000 do v = v[1] end return v',
  'cjson.encode_max_depth(100000) local n = "" for _, d in ipairs({1000, 7990, 7995, 7996, 7997, 8000, 10000}) do ' +
    'local t = {} local c = t for i = 1, d do c[1] = {} c = c[1] end local ok, e = pcall(cjson.encode, t) ' +
    'n = n .. " " .. tostring(ok) .. (ok and #e or e) end return n',
  'cjson.encode_max_depth(100000) local n = "" for _, d in ipairs({1000, 3990, 3999, 4000, 4001, 10000}) do ' +
    'local t = {} local c = t for i = 1, d do c.a = {} c = c.a end local ok, e = pcall(cjson.encode, t) ' +
    'n = n .. " " .. tostring(ok) .. (ok and #e or e) end return n',
  'cjson.encode_max_depth(100000) local t = {} t[1] = t local ok, e = pcall(cjson.encode, t) return e',
  'cjson.encode_max_depth(100000) local t = {} t.a = t local ok, e = pcall(cjson.encode, t) return e',
]

// Shows a decoded value: its type and an encoding that keeps key order out of the picture.
const SHOW = `local function show(v)
  if v == cjson.null then return "null" end
  if type(v) == "number" then return "number:" .. string.format("%.17g", v) end
  if type(v) ~= "table" then return type(v) .. ":" .. tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = type(k) .. ":" .. tostring(k) .. "=" .. show(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end
`

describe('cjson encode', () => {
  it.each(ENCODE)('%s', async (body) => { expect(await same(body)).toMatch(/^ok:/) })
  it.each(ENCODE_ERRORS)('error: %s', async (body) => { expect(await same(body)).toMatch(/^err:/) })
})

describe('cjson settings', () => {
  it.each(CONFIG)('%s', async (body) => { await same(body) })
})

describe('cjson decode', () => {
  it.each(DECODE)('%j', async (text) => {
    await same(`${SHOW}return show(cjson.decode(${luaBytes(text)}))`)
  })
  it.each(DECODE)('%j (strict numbers)', async (text) => {
    await same(`${SHOW}cjson.decode_invalid_numbers(false) return show(cjson.decode(${luaBytes(text)}))`)
  })
  it.each(DECODE_CALL_ERRORS)('%s', async (body) => { await same(`${SHOW}${body}`) })
  it.each(DEEP)('%s', async (body) => { await same(body) })
})

describe('cjson random', () => {
  const key = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -3, max: 30 }), fc.double({ noNaN: true, noDefaultInfinity: true }))
  const leaf = fc.oneof(fc.string({ maxLength: 10 }), fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 8 }))
  type V = unknown
  const value: fc.Arbitrary<V> = fc.letrec<{ v: V }>((tie) => ({
    v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf,
      fc.array(tie('v'), { maxLength: 5 }), fc.array(fc.tuple(key, tie('v')), { maxLength: 5 })),
  })).v
  it('encode of random values matches byte for byte', async () => {
    await fc.assert(fc.asyncProperty(fc.array(value, { minLength: 5, maxLength: 5 }), fc.integer({ min: 1, max: 14 }), async (vs, prec) => {
      const body = `cjson.encode_number_precision(${prec}) local r = {}\n` +
        vs.map((v) => `do local ok, s = pcall(cjson.encode, ${toLua(v)}) r[#r + 1] = ok and HEX(s) or s end`).join('\n') + '\nreturn table.concat(r, " ")'
      await same(body)
    }), { numRuns: Number(process.env.LUALIBS_RUNS ?? 60) })
  })
  it('decode of random JSON text matches', async () => {
    const json = fc.oneof(fc.json(), fc.string({ maxLength: 12 }), fc.constantFrom('[1e5, -0.5, 1E-3]', '{"a":"\\u00e9"}'))
    await fc.assert(fc.asyncProperty(fc.array(json, { minLength: 5, maxLength: 5 }), async (texts) => {
      const body = `${SHOW}local r = {}\n` + texts.map((t) =>
        `do local ok, v = pcall(cjson.decode, ${luaBytes(Buffer.from(t, 'utf8').toString('latin1'))}) r[#r + 1] = tostring(ok) .. (ok and show(v) or v) end`).join('\n') +
        '\nreturn table.concat(r, " | ")'
      await same(body)
    }), { numRuns: Number(process.env.LUALIBS_RUNS ?? 60) })
  })
})

function luaNumber (x: number): string {
  if (Object.is(x, -0)) return '-0'
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 53) return String(x)
  return x.toPrecision(17)
}

function toLua (v: unknown): string {
  if (v === null) return 'cjson.null'
  if (typeof v === 'string') return luaBytes(Buffer.from(v, 'utf8').toString('latin1'))
  if (v instanceof Uint8Array) return luaBytes(Buffer.from(v).toString('latin1'))
  if (typeof v === 'number') return `(${luaNumber(v)})`
  if (typeof v === 'boolean') return String(v)
  if (Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2 && !Array.isArray(e[0]) && !(e[0] instanceof Uint8Array) && (typeof e[0] === 'string' || typeof e[0] === 'number'))) {
    // a list of [key, value] pairs: a table built with keys
    return `{${v.map(([k, x]) => `[${typeof k === 'string' ? luaBytes(k) : `(${luaNumber(k as number)})`}] = ${toLua(x)}`).join(', ')}}`
  }
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`
  return 'nil'
}
