// Redis's dirty rules (persistence/dirty.ts): the count a reply carries, and the rule each
// command name gets from the one table (unknown names count 1).
import { describe, expect, it } from 'vitest'
import { replyCount, dirtyRules, DIRTY_ONE, DIRTY_REPLY, DIRTY_REPLY_MIN1, DIRTY_ELEMENTS, DIRTY_PAIRS_AFTER_KEY, DIRTY_PAIRS, DIRTY_OWN } from '../../../src/persistence/dirty.js'
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
    expect(rule('zadd')).toBe(DIRTY_REPLY_MIN1)
    expect(rule('lpush')).toBe(DIRTY_ELEMENTS)
    expect(rule('hset')).toBe(DIRTY_PAIRS_AFTER_KEY)
    expect(rule('mset')).toBe(DIRTY_PAIRS)
    expect(rule('flushall')).toBe(DIRTY_OWN)
  })
})
