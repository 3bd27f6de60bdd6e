// The README's supported-command table must be exactly what the command table generates.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { replaceTable, supportedCommandsMarkdown } from '../../src/commands/command-docs.js'
import { topLevel } from '../../src/commands/table.js'

describe('README supported commands', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

  it('matches the command table (run npm run docs:commands after changing commands)', () => {
    expect(replaceTable(readme)).toBe(readme)
  })

  it('lists every top-level command', () => {
    const table = supportedCommandsMarkdown()
    for (const cmd of topLevel) expect(table).toContain(cmd.name.toUpperCase())
  })
})
