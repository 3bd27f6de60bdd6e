// saveWrites/saveWritesInto/restoreWrites copy `writes` field by field (server/engine.ts runs them around every
// step on a lent shard): a field added to `writes` and not to them would leak from a step.
import { describe, expect, it } from 'vitest'
import { restoreWrites, saveWrites, saveWritesInto, writes } from '../../../src/storage/writes.js'

describe('saveWrites / restoreWrites', () => {
  it('copy every field of writes, and put every one back', () => {
    const before = saveWrites()
    const hook = (): void => {}
    for (const k of Object.keys(writes) as Array<keyof typeof writes>) {
      ;(writes as Record<string, unknown>)[k] = typeof before[k] === 'number' ? 12345 : typeof before[k] === 'boolean' ? !before[k] : hook
    }
    // saveWritesInto reads every field too (into an object saved before the change).
    const into = saveWritesInto({ ...before })
    expect(into).toEqual({ ...writes })
    expect(into).not.toEqual(before)
    restoreWrites(before)
    expect(saveWrites()).toEqual(before)
  })
})
