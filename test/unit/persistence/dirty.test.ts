// Redis's dirty rules (persistence/dirty.ts): the count a reply carries, and the rule each
// command name gets from the one table (unknown names count 1).
import { describe, expect, it } from 'vitest'
import { replyCount, dirtyRules, dirtyOf, ownDirty, DIRTY_ONE, DIRTY_REPLY, DIRTY_SET, DIRTY_MPOP, DIRTY_ELEMENTS, DIRTY_PAIRS_AFTER_KEY, DIRTY_PAIRS, DIRTY_OWN, DIRTY_STORED } from '../../../src/persistence/dirty.js'
import { commands } from '../../../src/commands/table.js'

describe('dirty rules', () => {
  it('replyCount reads integers, array and set lengths; anything else is one change', () => {
    expect(replyCount(Buffer.from(':0\r\n'), 0)).toBe(0)
    expect(replyCount(Buffer.from('xx:123\r\n'), 2)).toBe(123)
    expect(replyCount(Buffer.from('*2\r\n$1\r\na\r\n$1\r\nb\r\n'), 0)).toBe(2)
    expect(replyCount(Buffer.from('~3\r\n'), 0)).toBe(3)
    expect(replyCount(Buffer.from('$1\r\na\r\n'), 0)).toBe(1)
    expect(replyCount(Buffer.from('+OK\r\n'), 0)).toBe(1)
  })

  it('each command gets its rule by name, by id', () => {
    const rules = dirtyRules(commands)
    expect(rules.length).toBe(commands.length)
    const rule = (name: string): number => rules[commands.findIndex(c => c.name === name)]
    expect(rule('set')).toBe(DIRTY_ONE)
    expect(rule('del')).toBe(DIRTY_REPLY)
    expect(rule('zadd')).toBe(DIRTY_SET)
    expect(rule('pfadd')).toBe(DIRTY_SET)
    expect(rule('lmpop')).toBe(DIRTY_MPOP)
    expect(rule('lpush')).toBe(DIRTY_ELEMENTS)
    expect(rule('hset')).toBe(DIRTY_PAIRS_AFTER_KEY)
    expect(rule('mset')).toBe(DIRTY_PAIRS)
    expect(rule('flushall')).toBe(DIRTY_OWN)
    // Counted by the handler, whatever the reply's shape (RESP3 nests ZPOPMIN's pairs).
    for (const name of ['zpopmin', 'zpopmax', 'ltrim', 'bitfield']) expect(rule(name)).toBe(DIRTY_SET)
    for (const name of ['sort', 'georadius', 'geosearchstore']) expect(rule(name)).toBe(DIRTY_STORED)
    for (const name of ['xack', 'xclaim', 'xautoclaim', 'xreadgroup', 'xsetid', 'xgroup|create', 'xgroup|setid', 'xgroup|destroy']) expect(rule(name)).toBe(DIRTY_OWN)
  })

  it('dirtyOf: what the command left (read once), and the elements LMPOP/ZMPOP popped', () => {
    ownDirty.n = 5
    expect(dirtyOf(DIRTY_SET, 3, Buffer.from(':0\r\n'), 0)).toBe(5)
    expect(dirtyOf(DIRTY_SET, 3, Buffer.from(':0\r\n'), 0)).toBe(0)
    expect(dirtyOf(DIRTY_MPOP, 6, Buffer.from('*2\r\n$3\r\nkey\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n'), 0)).toBe(3)
    expect(dirtyOf(DIRTY_MPOP, 6, Buffer.from('*-1\r\n'), 0)).toBe(0)
    expect(dirtyOf(DIRTY_PAIRS, 7, Buffer.from('+OK\r\n'), 0)).toBe(3)
    expect(dirtyOf(DIRTY_OWN, 1, Buffer.from('+OK\r\n'), 0)).toBe(0)
    // SORT ... STORE: the elements stored, or the destination deleted (one change).
    expect(dirtyOf(DIRTY_STORED, 4, Buffer.from(':6\r\n'), 0)).toBe(6)
    expect(dirtyOf(DIRTY_STORED, 4, Buffer.from(':0\r\n'), 0)).toBe(1)
  })
})
