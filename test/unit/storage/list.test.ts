// Arena lists (src/storage/list.ts) driven directly: push/pop at both ends, index from both ends,
// insert, replace across size classes, move between lists, free; then a model-based property
// test against a plain JS array of Buffers, checking the chain links and the arena's used bytes.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

import { Keyspace, TYPE_LIST } from '../../../src/storage/keyspace.js'
import {
  HEAD, TAIL, LIST_HEADER_BYTES, ELEM_HEADER_BYTES, listInit, listLen, listPush, listFirst, listIndex, listInsertAt,
  listReplaceElem, listRemoveElem, listUnlinkElem, listLinkElem, listFreeElements, listBytes, elemEquals, elemData,
  elemLen, elemNext, elemPrev,
} from '../../../src/storage/list.js'
import { keyHash } from '../../../src/storage/hash.js'

function newList (ks: Keyspace, name = 'l'): number {
  const k = Buffer.from(name)
  const e = ks.insert(k, 0, k.length, keyHash(k, 0, k.length), TYPE_LIST, LIST_HEADER_BYTES)
  listInit(ks, e)
  return e
}

function push (ks: Keyspace, e: number, where: number, s: string | Buffer): void {
  const b = typeof s === 'string' ? Buffer.from(s) : s
  expect(listPush(ks, e, where, b, 0, b.length)).toBe(true)
}

function bytesOf (ks: Keyspace, n: number): Buffer {
  return Buffer.from(ks.arena.u8.subarray(elemData(n), elemData(n) + elemLen(ks, n)))
}

/** The list's elements head to tail, after checking both link directions and the count. */
function contents (ks: Keyspace, e: number): string[] {
  const fwd: number[] = []
  for (let n = listFirst(ks, e, HEAD); n !== 0; n = elemNext(ks, n)) fwd.push(n)
  const back: number[] = []
  for (let n = listFirst(ks, e, TAIL); n !== 0; n = elemPrev(ks, n)) back.push(n)
  expect(back.reverse()).toEqual(fwd)
  expect(listLen(ks, e)).toBe(fwd.length)
  return fwd.map(n => bytesOf(ks, n).toString('latin1'))
}

describe('arena list', () => {
  it('push and pop at both ends', () => {
    const ks = new Keyspace()
    const e = newList(ks)
    expect(listLen(ks, e)).toBe(0)
    expect(listFirst(ks, e, HEAD)).toBe(0)
    expect(listFirst(ks, e, TAIL)).toBe(0)
    push(ks, e, TAIL, 'b')
    push(ks, e, HEAD, 'a')
    push(ks, e, TAIL, 'c')
    push(ks, e, TAIL, '')
    push(ks, e, HEAD, 'x'.repeat(40))
    expect(contents(ks, e)).toEqual(['x'.repeat(40), 'a', 'b', 'c', ''])
    listRemoveElem(ks, e, listFirst(ks, e, HEAD))
    listRemoveElem(ks, e, listFirst(ks, e, TAIL))
    expect(contents(ks, e)).toEqual(['a', 'b', 'c'])
    listRemoveElem(ks, e, listIndex(ks, e, 1))
    expect(contents(ks, e)).toEqual(['a', 'c'])
    listRemoveElem(ks, e, listFirst(ks, e, HEAD))
    listRemoveElem(ks, e, listFirst(ks, e, HEAD))
    expect(contents(ks, e)).toEqual([])
    expect(listFirst(ks, e, HEAD)).toBe(0)
    expect(listFirst(ks, e, TAIL)).toBe(0)
    push(ks, e, HEAD, 'again')
    expect(contents(ks, e)).toEqual(['again'])
  })

  it('the header sits at any byte offset: keys of every length stay intact and findable', () => {
    const ks = new Keyspace()
    const names = Array.from({ length: 9 }, (_, i) => 'k'.repeat(i + 1))
    const entries = names.map(n => newList(ks, n))
    for (let r = 0; r < 3; r++) entries.forEach((e, i) => push(ks, e, r % 2 === 0 ? TAIL : HEAD, `${names[i]}:${r}`))
    names.forEach((n, i) => {
      const k = Buffer.from(n)
      expect(ks.find(k, 0, k.length, keyHash(k, 0, k.length))).toBe(entries[i])
      expect(contents(ks, entries[i])).toEqual([`${n}:1`, `${n}:0`, `${n}:2`])
    })
    // A raw copy of the 12 header bytes under a key of another length (RENAME) keeps the list.
    const k = Buffer.from('other-length')
    const e2 = ks.insert(k, 0, k.length, keyHash(k, 0, k.length), TYPE_LIST, LIST_HEADER_BYTES)
    const from = ks.valOffset(entries[0])
    ks.arena.u8.copyWithin(ks.valOffset(e2), from, from + LIST_HEADER_BYTES)
    expect(contents(ks, e2)).toEqual(['k:1', 'k:0', 'k:2'])
  })

  it('index from both ends, out of range is 0', () => {
    const ks = new Keyspace()
    const e = newList(ks)
    for (let i = 0; i < 9; i++) push(ks, e, TAIL, `e${i}`)
    for (let i = 0; i < 9; i++) {
      expect(bytesOf(ks, listIndex(ks, e, i)).toString()).toBe(`e${i}`)
      expect(bytesOf(ks, listIndex(ks, e, i - 9)).toString()).toBe(`e${i}`)
    }
    expect(listIndex(ks, e, 9)).toBe(0)
    expect(listIndex(ks, e, -10)).toBe(0)
    expect(listIndex(ks, e, 2 ** 63)).toBe(0)
    expect(listIndex(ks, e, -(2 ** 63))).toBe(0)
  })

  it('insert before and after, at the ends and inside', () => {
    const ks = new Keyspace()
    const e = newList(ks)
    push(ks, e, TAIL, 'm')
    const ins = (at: number, isAfter: boolean, s: string): void => {
      const b = Buffer.from(s)
      expect(listInsertAt(ks, e, at, isAfter, b, 0, b.length)).toBe(true)
    }
    ins(listFirst(ks, e, HEAD), false, 'a')
    ins(listFirst(ks, e, TAIL), true, 'z')
    ins(listIndex(ks, e, 1), true, 'n')
    ins(listIndex(ks, e, 1), false, 'l')
    expect(contents(ks, e)).toEqual(['a', 'l', 'm', 'n', 'z'])
  })

  it('replace in place within a size class and by moving across classes', () => {
    const ks = new Keyspace()
    const e = newList(ks)
    for (const s of ['a', 'b', 'c']) push(ks, e, TAIL, s)
    const rep = (i: number, s: string): number => {
      const b = Buffer.from(s)
      const n = listReplaceElem(ks, e, listIndex(ks, e, i), b, 0, b.length)
      expect(n).not.toBe(0)
      expect(bytesOf(ks, n).toString()).toBe(s)
      return n
    }
    const before = listIndex(ks, e, 1)
    expect(rep(1, 'B')).toBe(before) // same class: same block
    rep(1, 'x'.repeat(1000)) // bigger class: moved
    rep(0, 'y'.repeat(70_000))
    rep(2, '')
    expect(contents(ks, e)).toEqual(['y'.repeat(70_000), 'x'.repeat(1000), ''])
    rep(0, 'small')
    rep(1, 'tiny')
    expect(contents(ks, e)).toEqual(['small', 'tiny', ''])
  })

  it('unlink and link move a block between lists without copying', () => {
    const ks = new Keyspace()
    const a = newList(ks, 'a')
    const b = newList(ks, 'b')
    for (const s of ['1', '2', '3']) push(ks, a, TAIL, s)
    const used = ks.arena.used
    const n = listFirst(ks, a, HEAD)
    listUnlinkElem(ks, a, n)
    listLinkElem(ks, b, TAIL, n)
    const m = listFirst(ks, a, TAIL)
    listUnlinkElem(ks, a, m)
    listLinkElem(ks, b, HEAD, m)
    expect(contents(ks, a)).toEqual(['2'])
    expect(contents(ks, b)).toEqual(['3', '1'])
    expect(ks.arena.used).toBe(used)
    // Same list: rotation.
    const t = listFirst(ks, b, TAIL)
    listUnlinkElem(ks, b, t)
    listLinkElem(ks, b, HEAD, t)
    expect(contents(ks, b)).toEqual(['1', '3'])
  })

  it('elemEquals compares bytes and length', () => {
    const ks = new Keyspace()
    const e = newList(ks)
    push(ks, e, TAIL, Buffer.from([0, 255, 10]))
    const n = listFirst(ks, e, HEAD)
    expect(elemEquals(ks, n, Buffer.from([9, 0, 255, 10]), 1, 3)).toBe(true)
    expect(elemEquals(ks, n, Buffer.from([0, 255]), 0, 2)).toBe(false)
    expect(elemEquals(ks, n, Buffer.from([0, 255, 11]), 0, 3)).toBe(false)
  })

  it('free: elements and the entry give back every byte', () => {
    const ks = new Keyspace()
    const base = ks.arena.used
    const e = newList(ks)
    const withEntry = ks.arena.used
    for (let i = 0; i < 100; i++) push(ks, e, i % 2 === 0 ? HEAD : TAIL, 'v'.repeat(i * 7))
    expect(listBytes(ks, e)).toBe(ks.arena.used - withEntry)
    listFreeElements(ks, e)
    expect(ks.arena.used).toBe(withEntry)
    expect(listLen(ks, e)).toBe(0)
    for (let i = 0; i < 10; i++) push(ks, e, TAIL, 'w'.repeat(i * 100))
    ks.remove(e)
    expect(ks.arena.used).toBe(base)
    expect(ks.count).toBe(0)
  })

  it('a full arena refuses a push and leaves the list unchanged', () => {
    const ks = new Keyspace()
    const e = newList(ks)
    push(ks, e, TAIL, 'a')
    const huge = new Uint8Array(1)
    // Ask for more than the arena may ever hold: alloc fails without growing.
    expect(listPush(ks, e, TAIL, huge, 0, ks.arena.maxBytes)).toBe(false)
    expect(listInsertAt(ks, e, listFirst(ks, e, HEAD), true, huge, 0, ks.arena.maxBytes)).toBe(false)
    expect(listReplaceElem(ks, e, listFirst(ks, e, HEAD), huge, 0, ks.arena.maxBytes)).toBe(0)
    expect(contents(ks, e)).toEqual(['a'])
  })
})

// --- model-based: the arena list against a JS array -------------------------------------------

type Op =
  | { op: 'push', where: number, v: Buffer }
  | { op: 'pop', where: number }
  | { op: 'insert', i: number, isAfter: boolean, v: Buffer }
  | { op: 'replace', i: number, v: Buffer }
  | { op: 'remove', i: number }
  | { op: 'move', where: number, to: number }

const val = fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 500, maxLength: 700 })).map(a => Buffer.from(a))
const where = fc.constantFrom(HEAD, TAIL)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const), where, v: val }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pop' as const), where }) },
  fc.record({ op: fc.constant('insert' as const), i: fc.integer({ min: -30, max: 30 }), isAfter: fc.boolean(), v: val }),
  fc.record({ op: fc.constant('replace' as const), i: fc.integer({ min: -30, max: 30 }), v: val }),
  fc.record({ op: fc.constant('remove' as const), i: fc.integer({ min: -30, max: 30 }) }),
  fc.record({ op: fc.constant('move' as const), where, to: where }),
)

describe('arena list against a JS array model', () => {
  it('same contents after any sequence of operations; freeing returns every byte', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const ks = new Keyspace()
      const base = ks.arena.used
      const e = newList(ks, 'a')
      const f = newList(ks, 'b')
      const model: Buffer[] = []
      const other: Buffer[] = []
      const norm = (i: number): number => i < 0 ? i + model.length : i
      for (const o of ops) {
        switch (o.op) {
          case 'push':
            push(ks, e, o.where, o.v)
            if (o.where === HEAD) model.unshift(o.v)
            else model.push(o.v)
            break
          case 'pop': {
            const n = listFirst(ks, e, o.where)
            if (model.length === 0) { expect(n).toBe(0); break }
            const m = o.where === HEAD ? model.shift() : model.pop()
            expect(bytesOf(ks, n)).toEqual(m)
            listRemoveElem(ks, e, n)
            break
          }
          case 'insert': {
            const n = listIndex(ks, e, o.i)
            const i = norm(o.i)
            if (i < 0 || i >= model.length) { expect(n).toBe(0); break }
            expect(listInsertAt(ks, e, n, o.isAfter, o.v, 0, o.v.length)).toBe(true)
            model.splice(o.isAfter ? i + 1 : i, 0, o.v)
            break
          }
          case 'replace': {
            const n = listIndex(ks, e, o.i)
            const i = norm(o.i)
            if (i < 0 || i >= model.length) { expect(n).toBe(0); break }
            expect(listReplaceElem(ks, e, n, o.v, 0, o.v.length)).not.toBe(0)
            model[i] = o.v
            break
          }
          case 'remove': {
            const n = listIndex(ks, e, o.i)
            const i = norm(o.i)
            if (i < 0 || i >= model.length) { expect(n).toBe(0); break }
            listRemoveElem(ks, e, n)
            model.splice(i, 1)
            break
          }
          case 'move': {
            const n = listFirst(ks, e, o.where)
            if (n === 0) break
            listUnlinkElem(ks, e, n)
            listLinkElem(ks, f, o.to, n)
            const m = (o.where === HEAD ? model.shift() : model.pop()) as Buffer
            if (o.to === HEAD) other.unshift(m)
            else other.push(m)
            break
          }
        }
        expect(listLen(ks, e)).toBe(model.length)
      }
      expect(contents(ks, e)).toEqual(model.map(b => b.toString('latin1')))
      expect(contents(ks, f)).toEqual(other.map(b => b.toString('latin1')))
      let bytes = 0
      for (const b of [...model, ...other]) bytes += ks.arena.blockBytes(ELEM_HEADER_BYTES + b.length)
      expect(listBytes(ks, e) + listBytes(ks, f)).toBe(bytes)
      ks.remove(e)
      ks.remove(f)
      expect(ks.arena.used).toBe(base)
    }), { numRuns: 300 })
  })
})
