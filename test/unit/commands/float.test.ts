// INCRBYFLOAT's long double emulation (src/commands/float.ts) against replies recorded from
// redis-server 7.0.15 on x86-64: [stored value (null: no key), increment, reply]. Replies longer
// than 60 bytes are kept as their length, first 30 and last 20 characters. NOT_FLOAT and
// NAN_OR_INF stand for "ERR value is not a valid float" and "ERR increment would produce NaN or
// Infinity".
import { describe, expect, it } from 'vitest'
import { incrByFloat, INCR_NOT_FLOAT, INCR_NAN_OR_INF, parseLongDouble, LD_INVALID, LD_INFINITE, formatLongDoubleHuman, addLongDouble, timeoutMillis, type LongDouble } from '../../../src/commands/float.js'

type Expected = string | { len: number, head: string, tail: string }
const RECORDED: Array<[string | null, string, Expected]> = [
  ["-1","1e-10","-0.9999999999"],
  ["0.1","1.2.3","NOT_FLOAT"],
  ["","-1e20","NOT_FLOAT"],
  ["-0","1e-5","0.00001"],
  [null,"0.000003814697265625","0.00000381469726562"],
  ["1e5000","4.9e-324","NOT_FLOAT"],
  ["","2.5e-18","NOT_FLOAT"],
  ["abc","6e-18","NOT_FLOAT"],
  ["1.1","nan","NOT_FLOAT"],
  ["0","1e-10","0.0000000001"],
  ["3.0e3","1e-5000","NOT_FLOAT"],
  ["0.333333333333333333","1e-5","0.33334333333333333"],
  ["1e5000","0e-99999","NOT_FLOAT"],
  ["1","0x10","17"],
  ["+7","7.5e-18","7.00000000000000001"],
  ["0.1","1e+5","100000.10000000000000142"],
  ["10.5","6e-18","10.50000000000000001"],
  ["3.0e3","1e-4951","NOT_FLOAT"],
  ["0.1","4.9e-324","0.1"],
  ["0","NaN","NOT_FLOAT"],
  ["0.333333333333333333","-0","0.33333333333333333"],
  ["0.1","12345678901234567890123","12345678901234567889920"],
  ["inf","0X1P","NOT_FLOAT"],
  ["10.5","-inf","NAN_OR_INF"],
  ["5.","5e-18","5.00000000000000001"],
  ["5.","10.50","15.5"],
  ["0.1","0x10","16.1"],
  ["5.","infinity","NAN_OR_INF"],
  ["1e5000","1.5e300","NOT_FLOAT"],
  ["9223372036854775807","..5","NOT_FLOAT"],
  ["1","1e20","100000000000000000000"],
  [" 1","0.2","NOT_FLOAT"],
  ["0.333333333333333333","1e4931",{"len":4932,"head":"100000000000000000000601894938","tail":"53841811379188662272"}],
  ["+7","NaN","NOT_FLOAT"],
  ["123456789012345678","0.2","123456789012345678.203125"],
  ["+7","0.2","7.2"],
  ["3.0e3","inf","NAN_OR_INF"],
  ["0.1","-inf","NAN_OR_INF"],
  ["-1e300","-0",{"len":302,"head":"-10000000000000000000089973240","tail":"90089424915104006144"}],
  ["0x10","12345678901234567890123","12345678901234567889920"],
  ["abc","NaN","NOT_FLOAT"],
  [" 1","0X1P","NOT_FLOAT"],
  ["5.","nan","NOT_FLOAT"],
  ["1e300","2.5e-18",{"len":301,"head":"100000000000000000000899732407","tail":"90089424915104006144"}],
  ["1.1","0X1P","NOT_FLOAT"],
  ["1.1","1e20","100000000000000000000"],
  ["1","nan","NOT_FLOAT"],
  [" 1","..5","NOT_FLOAT"],
  ["9223372036854775807","1e20","109223372036854775808"],
  [".5","0.000003814697265625","0.50000381469726562"],
  ["1.1","7.5e-18","1.10000000000000001"],
  ["3.0e3","3.0e3","6000"],
  ["1e4900","5e-18",{"len":4901,"head":"100000000000000000002708312230","tail":"41116846746313424896"}],
  [".5","5.0e3","5000.5"],
  ["3.0e3","+.5e-1","3000.05000000000000004"],
  ["5.","-1e4931",{"len":4933,"head":"-10000000000000000000060189493","tail":"53841811379188662272"}],
  [" 1","1e20","NOT_FLOAT"],
  ["abc","1e-17","NOT_FLOAT"],
  ["inf","1.7976931348623157e308","NAN_OR_INF"],
  ["9223372036854775807","12345678901234567890123","12354902273271422665728"],
  ["0.1","7.5e-18","0.10000000000000001"],
  ["","3.0e3","NOT_FLOAT"],
  ["1e300","1e-5",{"len":301,"head":"100000000000000000000899732407","tail":"90089424915104006144"}],
  ["1.5","-5","-3.5"],
  ["1.5","-0.1","1.4"],
  ["inf","1E5","NAN_OR_INF"],
  ["1.1","1e-5000","NOT_FLOAT"],
  [" 1","0e-99999","NOT_FLOAT"],
  ["abc","1e+5","NOT_FLOAT"],
  ["123456789012345678","0.1e1","123456789012345679"],
  ["123456789012345678","nan","NOT_FLOAT"],
  ["5.","1e+5","100005"],
  ["","0X1P","NOT_FLOAT"],
  ["123456789012345678","-0","123456789012345678"],
  ["9223372036854775807","0e-99999","9223372036854775807"],
  ["0.1","2.5e-18","0.1"],
  ["3.0e3","1e4931",{"len":4932,"head":"100000000000000000000601894938","tail":"53841811379188662272"}],
  ["1","12345678901234567890123","12345678901234567889920"],
  ["0","7.5e-18","0.00000000000000001"],
  ["0.333333333333333333","inf","NAN_OR_INF"],
  [".5","0X1P","NOT_FLOAT"],
  ["abc","0X1P","NOT_FLOAT"],
  ["0","1e-5","0.00001"],
  [" 1","0x10","NOT_FLOAT"],
  [null,"1e-4951","NOT_FLOAT"],
  ["0","0.1e1","1"],
  ["1e4900","1.7976931348623157e308",{"len":4901,"head":"100000000000000000002708312230","tail":"41116846746313424896"}],
  ["0.1","0x1.8p1","3.1"],
  ["0.1","0x1p-3","0.225"],
  ["inf","infinity","NAN_OR_INF"],
  ["0","3.0e3","3000"],
  ["10.5","1e-17","10.50000000000000001"],
  ["-1","1e-5","-0.99999"],
  ["3.0e3","1e-17","3000"],
  ["123456789012345678","0x","NOT_FLOAT"],
  ["9223372036854775807"," 1","NOT_FLOAT"],
  ["0.333333333333333333","99.99999999999999999","100.33333333333333333"],
  ["-1","0.000000000000000015","-0.99999999999999998"],
  ["","0x1p-3","NOT_FLOAT"],
  ["0","1 ","NOT_FLOAT"],
  ["0","0.1","0.1"],
  ["0x10","1.2e4932","NOT_FLOAT"],
  ["9223372036854775807","+.5e-1","9223372036854775807"],
  ["-1e300","-1e20",{"len":302,"head":"-10000000000000000000089973240","tail":"90089424915104006144"}],
  ["","-5","NOT_FLOAT"],
  [null,"0.2","0.2"],
  ["9223372036854775807","-0","9223372036854775807"],
  ["1","-5","-4"],
  ["0.1","99.99999999999999999","100.09999999999999999"],
  ["-1","2.5e-18","-1"],
  [".5","0e-99999","0.5"],
  ["-1","1 ","NOT_FLOAT"],
  ["1.1","0e-99999","1.1"],
  ["9223372036854775807","5e-18","9223372036854775807"],
  ["-0","1.7976931348623157e308",{"len":309,"head":"179769313486231569995921046774","tail":"76802466863339536384"}],
  ["3.0e3","-0","3000"],
  ["inf","0.1e1","NAN_OR_INF"],
  ["0x10","3.0e3","3016"],
  ["abc","2.5e-18","NOT_FLOAT"],
  ["1e300","1.5e300",{"len":301,"head":"249999999999999999998618918645","tail":"48663190613801304064"}],
  ["0.1","-5","-4.9"],
  ["9223372036854775807","0x10","9223372036854775823"],
  ["1e300","NaN","NOT_FLOAT"],
  ["1e5000","12345678901234567890123","NOT_FLOAT"],
  ["1e300","1.7976931348623157e308",{"len":309,"head":"179769314486231569991443988770","tail":"43396620111489007616"}],
  ["3.0e3","1.2.3","NOT_FLOAT"],
  ["3.0e3","1E5","103000"],
  ["9223372036854775807","2.5e-18","9223372036854775807"],
  ["0.333333333333333333","1e-10","0.33333333343333333"],
  ["-0","99.99999999999999999","99.99999999999999999"],
  ["-1e300","1e+5",{"len":302,"head":"-10000000000000000000089973240","tail":"90089424915104006144"}],
  ["-0","0x1p-3","0.125"],
  ["inf","1e","NOT_FLOAT"],
  ["1.1","12345678901234567890123","12345678901234567889920"],
  ["1e5000","10.50","NOT_FLOAT"],
  ["5.","1.5e300",{"len":301,"head":"150000000000000000004980010986","tail":"11694509046614720512"}],
  ["-1e300","12345678901234567890123",{"len":302,"head":"-10000000000000000000089973240","tail":"90089424915104006144"}],
  ["0x10","1e4931",{"len":4932,"head":"100000000000000000000601894938","tail":"53841811379188662272"}],
  ["1e4900","1e-10",{"len":4901,"head":"100000000000000000002708312230","tail":"41116846746313424896"}],
  ["abc","1.2e4932","NOT_FLOAT"],
  ["1e300","6e-18",{"len":301,"head":"100000000000000000000899732407","tail":"90089424915104006144"}],
  ["1","1e-5000","NOT_FLOAT"],
  ["+7","0x10","23"],
  ["1e5000","1 ","NOT_FLOAT"],
  ["","12345678901234567890123","NOT_FLOAT"],
  ["-1","5e-18","-1"],
  ["abc","99.99999999999999999","NOT_FLOAT"],
  ["0","1e20","100000000000000000000"],
  ["0.333333333333333333","6e-18","0.33333333333333334"],
  ["3.0e3","12345678901234567890123","12345678901234567892992"],
  ["0.1","1e-10","0.1000000001"],
  ["0x10","0x10","32"],
  ["9223372036854775807","1e-5","9223372036854775807"],
  [null,"0.1","0.1"],
  [null,"1e-10","0.0000000001"],
  [null,"3.0e3","3000"],
  [null,"-5","-5"],
  [null,"1.5e300",{"len":301,"head":"150000000000000000004980010986","tail":"11694509046614720512"}],
  [null,"10.50","10.5"],
  [null,"1e","NOT_FLOAT"],
  [null," 1","NOT_FLOAT"],
  [null,"1 ","NOT_FLOAT"],
  [null,"0x10","16"],
  [null,"5.0e3","5000"],
  [null,"-0.1","-0.1"],
  [null,"1e4932",{"len":4933,"head":"100000000000000000000601894938","tail":"38418113791886622720"}],
  [null,"1.2e4932","NOT_FLOAT"],
  [null,"1e-5000","NOT_FLOAT"],
  [null,"0e-99999","0"],
  [null,"inf","NAN_OR_INF"],
  [null,"-inf","NAN_OR_INF"],
  [null,"nan","NOT_FLOAT"],
  [null,"NaN","NOT_FLOAT"],
  [null,"infinity","NAN_OR_INF"],
  [null,"-0","0"],
  [null,"0x1p-3","0.125"],
  [null,"0x1.8p1","3"],
  [null,"0X1P","NOT_FLOAT"],
  [null,"0.000000000000000015","0.00000000000000002"],
  [null,"2.5e-18","0"],
  [null,"7.5e-18","0.00000000000000001"],
  [null,"1e20","100000000000000000000"],
  [null,"-1e20","-100000000000000000000"],
  [null,"12345678901234567890123","12345678901234567889920"],
  [null,"0.1e1","1"],
  [null,"1.7976931348623157e308",{"len":309,"head":"179769313486231569995921046774","tail":"76802466863339536384"}],
  [null,"4.9e-324","0"],
  [null,"1e-17","0.00000000000000001"],
  [null,"5e-18","0"],
  [null,"6e-18","0.00000000000000001"],
  [null,"99.99999999999999999","99.99999999999999999"],
  [null,"1E5","100000"],
  [null,"1e+5","100000"],
  [null,"1e-5","0.00001"],
  [null,"+.5e-1","0.05"],
  [null,"..5","NOT_FLOAT"],
  [null,"1.2.3","NOT_FLOAT"],
  [null,"0x","NOT_FLOAT"],
  [null,"1e4931",{"len":4932,"head":"100000000000000000000601894938","tail":"53841811379188662272"}],
  [null,"-1e4931",{"len":4933,"head":"-10000000000000000000060189493","tail":"53841811379188662272"}],
  ["1","0.1","1.1"],
  ["-1","0.1","-0.9"],
  ["0.1","0.1","0.2"],
  ["10.5","0.1","10.6"],
  ["3.0e3","0.1","3000.10000000000000009"],
  ["1.1","0.1","1.2"],
  ["123456789012345678","0.1","123456789012345678.1015625"],
  ["9223372036854775807","0.1","9223372036854775807"],
  ["1e300","0.1",{"len":301,"head":"100000000000000000000899732407","tail":"90089424915104006144"}],
  ["-1e300","0.1",{"len":302,"head":"-10000000000000000000089973240","tail":"90089424915104006144"}],
  ["1.5","0.1","1.6"],
  ["0x10","0.1","16.1"],
  ["5.","0.1","5.1"],
  [".5","0.1","0.6"],
  ["+7","0.1","7.1"],
  ["1e4900","0.1",{"len":4901,"head":"100000000000000000002708312230","tail":"41116846746313424896"}],
  ["0.333333333333333333","0.1","0.43333333333333333"],
  ["abc","0.1","NOT_FLOAT"],
  ["","0.1","NOT_FLOAT"],
  [" 1","0.1","NOT_FLOAT"],
  ["1e5000","0.1","NOT_FLOAT"],
  ["inf","0.1","NAN_OR_INF"],
  ["-0","0.1","0.1"],
]

function incr (cur: string | null, by: string): string {
  const c = cur === null ? null : Buffer.from(cur, 'latin1')
  const b = Buffer.from(by, 'latin1')
  const r = incrByFloat(c, 0, c?.length ?? 0, b, 0, b.length)
  if (r === INCR_NOT_FLOAT) return 'NOT_FLOAT'
  if (r === INCR_NAN_OR_INF) return 'NAN_OR_INF'
  return r
}

function ld (s: string): LongDouble {
  const r = parseLongDouble(Buffer.from(s), 0, s.length)
  if (typeof r === 'number') throw new Error(`not finite: ${s}`)
  return r
}

describe('INCRBYFLOAT matches redis-server 7.0.15 (x87 long double)', () => {
  it.each(RECORDED)('%s + %s', (cur, by, expected) => {
    const got = incr(cur, by)
    if (typeof expected === 'string') {
      expect(got).toBe(expected)
    } else {
      expect({ len: got.length, head: got.slice(0, 30), tail: got.slice(-20) }).toEqual(expected)
    }
  })

  it('0.1 added three times prints 0.1, 0.2, 0.3 (a double would not)', () => {
    let v: string | null = null
    const seen: string[] = []
    for (let i = 0; i < 3; i++) { v = incr(v, '0.1'); seen.push(v) }
    expect(seen).toEqual(['0.1', '0.2', '0.3'])
  })

  it('prints every integer digit of huge values, exactly as %.17Lf does', () => {
    expect(incr(null, '1e300')).toBe('1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144')
    expect(incr('1e300', '-1e300')).toBe('0')
  })

  it('a long chain of mixed increments', () => {
    // Recorded: 1.1 + 1e-10, then + 3.0e3, -5, 10.50, 5.0e3.
    let v: string | null = '1.1'
    const seen: string[] = []
    for (const by of ['1e-10', '3.0e3', '-5', '10.50', '5.0e3']) { v = incr(v, by); seen.push(v) }
    expect(seen).toEqual(['1.1000000001', '3001.1000000001000001', '2996.1000000001000001', '3006.6000000001000001', '8006.6000000001000001'])
  })
})

describe('string2ld', () => {
  const parse = (s: string): LongDouble | number => parseLongDouble(Buffer.from(s, 'latin1'), 0, s.length)

  it('rejects what strtold does not read whole, NaN, overflow and underflow to zero', () => {
    for (const s of ['', ' 1', '1 ', '\t1', '1e', '1e+', '.', '-', '+', '0x', '0x1p', 'nan', 'NAN', '-nan', 'nan(1)',
      'infinit', 'infx', '1.5\x00', '1e5000', '-1e5000', '1e-5000', '0x1p16384', '0x1p-16447', '1'.repeat(5120), '1..2', '1_0']) {
      expect(parse(s), JSON.stringify(s)).toBe(LD_INVALID)
    }
  })

  it('accepts signs, bare dots, hex, exact zeros and infinities', () => {
    for (const s of ['inf', '-inf', 'INF', 'Infinity', '+infinity']) expect(parse(s), s).toBe(LD_INFINITE)
    expect(formatLongDoubleHuman(ld('+1'))).toBe('1')
    expect(formatLongDoubleHuman(ld('.5'))).toBe('0.5')
    expect(formatLongDoubleHuman(ld('5.'))).toBe('5')
    expect(formatLongDoubleHuman(ld('0x10'))).toBe('16')
    expect(formatLongDoubleHuman(ld('0x1.8p1'))).toBe('3')
    expect(formatLongDoubleHuman(ld('0X.8'))).toBe('0.5')
    expect(formatLongDoubleHuman(ld('0e-99999'))).toBe('0')
    expect(formatLongDoubleHuman(ld('-0'))).toBe('0')
    expect(formatLongDoubleHuman(ld('0.' + '1'.repeat(5117)))).toBe('0.11111111111111111')
  })

  it('keeps denormals down to 2^-16445 and rounds half of it to zero (rejected)', () => {
    expect(ld('0x1p-16445')).toEqual({ neg: false, m: 1n, e: -16445 })
    expect(ld('0x1.8p-16446')).toEqual({ neg: false, m: 1n, e: -16445 }) // 0.75 ulp rounds up
    expect(parse('0x1p-16446')).toBe(LD_INVALID) // exactly half: ties to even, zero
  })

  it('rounds to 64 significant bits, ties to even', () => {
    // 2^64 + 1 is halfway between 2^64 and 2^64 + 2: ties to even gives 2^64.
    expect(formatLongDoubleHuman(ld('18446744073709551617'))).toBe('18446744073709551616')
    // 2^64 + 3 is halfway between 2^64 + 2 and 2^64 + 4: even mantissa is 2^64 + 4.
    expect(formatLongDoubleHuman(ld('18446744073709551619'))).toBe('18446744073709551620')
  })

  it('sums round once, and overflow is reported', () => {
    expect(addLongDouble(ld('0x1.fffffffffffffffep16383'), ld('0x1.fffffffffffffffep16383'))).toBeNull()
    expect(formatLongDoubleHuman(addLongDouble(ld('18446744073709551616'), ld('1')) as LongDouble)).toBe('18446744073709551616')
  })
})

describe('timeoutMillis', () => {
  const ms = (s: string): number | string => { const b = Buffer.from(s); return timeoutMillis(b, 0, b.length) }
  it('reads whole seconds as the long double path does ("N" against "N.0")', () => {
    for (const n of ['0', '1', '7', '000012', '86400', '123456789', '999999999999']) {
      expect(ms(n)).toBe(Number(n) * 1000)
      expect(ms(n)).toBe(ms(n + '.0'))
    }
  })
  it('leaves signs, fractions, spaces and overflow to the long double path', () => {
    expect(ms('0.1')).toBe(100)
    expect(ms('0.0001')).toBe(1)
    expect(ms('+3')).toBe(3000)
    expect(ms('-1')).toBe('negative')
    expect(ms('1e3')).toBe(1000000)
    expect(ms('9999999999999999999')).toBe('negative')
    expect(ms('')).toBe('invalid')
    expect(ms('1 ')).toBe('invalid')
    expect(ms('x')).toBe('invalid')
  })
})
