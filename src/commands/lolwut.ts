// LOLWUT [VERSION v] [args...] (Redis 7.0's lolwut.c, lolwut5.c, lolwut6.c): version 5 draws
// Georg Nees' "Schotter" (rotated squares, more disordered row after row) in Braille characters,
// version 6 a city skyline in terminal colours, any other version one line with the server's
// version. The drawings are random, as Redis's (with Math.random, not glibc's rand); the canvas
// sizes, the Braille encoding and the float arithmetic follow Redis's C code (single-precision
// floats, C's round), so what chance does not touch (Schotter's first two rows, the sky) is the
// same bytes as Redis's.

import { Buffer } from 'node:buffer'
import type { Argv, ClientContext, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { NOT_INTEGER } from '../protocol/errors.js'
import { equalsLower, parseBigInt64, token } from '../protocol/ascii.js'

const VERSION_T = token('version')
const f32 = Math.fround
/** C's round(): halves away from zero. */
const cRound = (x: number): number => x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5)
/** rand() / RAND_MAX, and rand() % n: the drawings' chance. */
const rand01 = (): number => Math.random()
const randInt = (n: number): number => Math.floor(Math.random() * n)

/** A canvas of one byte per pixel (lwCanvas); out-of-range pixels are dropped, and read as 0. */
export class Canvas {
  readonly pixels: Uint8Array
  constructor (readonly width: number, readonly height: number, color: number) {
    this.pixels = new Uint8Array(width * height).fill(color)
  }

  set (x: number, y: number, color: number): void {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return
    this.pixels[x + y * this.width] = color
  }

  get (x: number, y: number): number {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return 0
    return this.pixels[x + y * this.width]
  }

  /** Bresenham, as lwDrawLine. */
  line (x1: number, y1: number, x2: number, y2: number, color: number): void {
    const dx = Math.abs(x2 - x1)
    const dy = Math.abs(y2 - y1)
    const sx = x1 < x2 ? 1 : -1
    const sy = y1 < y2 ? 1 : -1
    let err = dx - dy
    for (;;) {
      this.set(x1, y1, color)
      if (x1 === x2 && y1 === y2) break
      const e2 = err * 2
      if (e2 > -dy) { err -= dy; x1 += sx }
      if (e2 < dx) { err += dx; y1 += sy }
    }
  }

  /**
   * lwDrawSquare: the four corners lie on the circle through them, at 45° + angle and then
   * every 90°; `size` is the side, so the radius is size / √2.
   */
  square (x: number, y: number, size: number, angle: number, color: number): void {
    const radius = f32(cRound(f32(size / 1.4142135623)))
    const px = [0, 0, 0, 0]
    const py = [0, 0, 0, 0]
    let k = f32(Math.PI / 4 + angle)
    for (let j = 0; j < 4; j++) {
      px[j] = cRound(Math.sin(k) * radius + x)
      py[j] = cRound(Math.cos(k) * radius + y)
      k = f32(k + Math.PI / 2)
    }
    for (let j = 0; j < 4; j++) this.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color)
  }
}

/**
 * lwDrawSchotter: `cols` terminal columns are 2 × cols pixels wide; rows of squares, the first
 * two straight, then each more rotated and shifted at random.
 */
export function schotter (cols: number, perRow: number, perCol: number): Canvas {
  const width = cols * 2
  const padding = width > 4 ? 2 : 0
  const side = f32(f32(width - padding * 2) / perRow)
  const height = Math.trunc(f32(f32(side * perCol) + padding * 2))
  const canvas = new Canvas(width, height, 0)
  const half = f32(side / 2)
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = Math.trunc(f32(f32(f32(x * side) + half) + padding))
      let sy = Math.trunc(f32(f32(f32(y * side) + half) + padding))
      let angle = 0
      if (y > 1) {
        let r1 = f32(f32(f32(rand01()) / perCol) * y)
        let r2 = f32(f32(f32(rand01()) / perCol) * y)
        let r3 = f32(f32(f32(rand01()) / perCol) * y)
        if (randInt(2) === 1) r1 = -r1
        if (randInt(2) === 1) r2 = -r2
        if (randInt(2) === 1) r3 = -r3
        angle = r1
        sx = Math.trunc(f32(sx + f32(f32(r2 * side) / 3)))
        sy = Math.trunc(f32(sy + f32(f32(r3 * side) / 3)))
      }
      canvas.square(sx, sy, side, angle, 1)
    }
  }
  return canvas
}

/**
 * The canvas as Braille characters (U+2800 + 8 dots), each 2 pixels wide and 4 tall, rows
 * separated by newlines (renderCanvas of lolwut5.c, which omits the last one only when the
 * height is one more than a multiple of 4).
 */
export function renderBraille (c: Canvas): Buffer {
  const rows = Math.ceil(c.height / 4)
  const perRow = Math.ceil(c.width / 2)
  const out = Buffer.alloc(rows * (perRow * 3 + 1))
  let n = 0
  for (let y = 0; y < c.height; y += 4) {
    for (let x = 0; x < c.width; x += 2) {
      let dots = 0
      if (c.get(x, y) !== 0) dots |= 1
      if (c.get(x, y + 1) !== 0) dots |= 1 << 1
      if (c.get(x, y + 2) !== 0) dots |= 1 << 2
      if (c.get(x + 1, y) !== 0) dots |= 1 << 3
      if (c.get(x + 1, y + 1) !== 0) dots |= 1 << 4
      if (c.get(x + 1, y + 2) !== 0) dots |= 1 << 5
      if (c.get(x, y + 3) !== 0) dots |= 1 << 6
      if (c.get(x + 1, y + 3) !== 0) dots |= 1 << 7
      // UTF-8 of U+2800..U+28FF: 1110xxxx 10xxxxxx 10xxxxxx.
      const code = 0x2800 + dots
      out[n++] = 0xe0 | (code >> 12)
      out[n++] = 0x80 | ((code >> 6) & 0x3f)
      out[n++] = 0x80 | (code & 0x3f)
    }
    if (y !== c.height - 1) out[n++] = 10
  }
  return out.subarray(0, n)
}

/** Colour escapes of the skyline's four greys, foreground and background (lolwut6.c). */
const SKY_COLORS = ['0;30;40m', '0;90;100m', '0;37;47m', '0;97;107m']

/** One building (generateSkyscraper): roof two pixels narrower each side, random window greys. */
function skyscraper (c: Canvas, xoff: number, width: number, height: number, hasWindows: boolean, color: number): void {
  const starty = c.height - 1
  const endy = starty - height + 1
  for (let y = starty; y >= endy; y--) {
    for (let x = xoff; x < xoff + width; x++) {
      if (y === endy && (x <= xoff + 1 || x >= xoff + width - 2)) continue
      let pixel = color
      if (hasWindows && x > xoff + 1 && x < xoff + width - 2 && y > endy + 1 && y < starty - 1) {
        const relx = x - (xoff + 1)
        const rely = y - (endy + 1)
        // Windows two pixels wide and one tall: terminal cells are not square.
        if (Math.trunc(relx / 2) % 2 !== 0 && rely % 2 !== 0) {
          do pixel = 1 + randInt(2); while (pixel === color)
          if (relx % 2 !== 0) pixel = c.get(x - 1, y)
        }
      }
      c.set(x, y, pixel)
    }
  }
}

/** generateSkyline: two rows of window-less buildings behind, then one with windows in front. */
export function skyline (cols: number, rows: number): Canvas {
  const c = new Canvas(cols, rows, 3)
  const h = c.height
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < c.width;) {
      offset += randInt(8)
      const width = 10 + randInt(9)
      // C's rand()%h/2 is (rand()%h)/2.
      const height = color === 2 ? Math.trunc(h / 2) + Math.trunc(randInt(h) / 2) : Math.trunc(h / 2) + Math.trunc(randInt(h) / 3)
      skyscraper(c, offset, width, height, false, color)
      offset += color === 2 ? Math.trunc(width / 2) : width + 1
    }
  }
  for (let offset = -10; offset < c.width;) {
    offset += randInt(8)
    let width = 5 + randInt(14)
    if (width % 4 !== 0) width += width % 3
    const height = Math.trunc(h / 3) + Math.trunc(randInt(h) / 2)
    skyscraper(c, offset, width, height, true, 0)
    offset += width + 5
  }
  return c
}

export function renderColors (c: Canvas): string {
  const lines: string[] = []
  for (let y = 0; y < c.height; y++) {
    let line = ''
    for (let x = 0; x < c.width; x++) line += `\x1b[${SKY_COLORS[c.get(x, y)] ?? SKY_COLORS[0]} \x1b[0m`
    lines.push(line)
  }
  return lines.join('\n')
}

const clamp = (v: bigint, min: number, max: number): number => v < BigInt(min) ? min : v > BigInt(max) ? max : Number(v)

/** getLongFromObjectOrReply for the optional arguments from `first` on: their values, or null (error sent). */
function longArgs (argv: Argv, first: number, defaults: readonly bigint[], out: ReplyWriter): bigint[] | null {
  const vals = [...defaults]
  for (let i = 0; i < defaults.length && first + i < argv.argc; i++) {
    const v = parseBigInt64(argv.buf, argv.start[first + i], argv.len[first + i])
    if (v === null) { out.raw(NOT_INTEGER); return null }
    vals[i] = v
  }
  return vals
}

function lolwutCommand (c: ClientContext, argv: Argv, out: ReplyWriter): void {
  // The version INFO reports as redis_version.
  const version = c.server.version
  let major = Number(version.split('.')[0])
  let first = 1
  if (argv.argc >= 3 && equalsLower(argv.buf, argv.start[1], argv.len[1], VERSION_T)) {
    const v = parseBigInt64(argv.buf, argv.start[2], argv.len[2])
    if (v === null) { out.raw(NOT_INTEGER); return }
    // snprintf("%u.0.0", (unsigned int)ver): only the low 32 bits count.
    major = Number(BigInt.asUintN(32, v))
    first = 3
  }
  const tail = `Redis ver. ${version}\n`
  if (major === 5) {
    const a = longArgs(argv, first, [66n, 8n, 12n], out)
    if (a === null) return
    const drawing = renderBraille(schotter(clamp(a[0], 1, 1000), clamp(a[1], 1, 200), clamp(a[2], 1, 200)))
    out.verbatim(drawing.toString('utf8') + '\nGeorg Nees - schotter, plotter on paper, 1968. ' + tail)
  } else if (major === 6) {
    const a = longArgs(argv, first, [80n, 20n], out)
    if (a === null) return
    const drawing = renderColors(skyline(clamp(a[0], 1, 1000), clamp(a[1], 1, 1000)))
    out.verbatim(drawing + '\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. ' + tail)
  } else {
    out.verbatim(tail)
  }
}

export const lolwutCommands: CommandSpec[] = [
  {
    name: 'lolwut', arity: -1, flags: ['readonly', 'fast'], firstKey: 0, lastKey: 0, step: 0, route: 'primary', group: 'server',
    since: '5.0.0', summary: 'Display some computer art and the Redis version', complexity: '', local: lolwutCommand,
  },
]
