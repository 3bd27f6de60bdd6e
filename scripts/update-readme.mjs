// Rewrites the generated command table in README.md from the built command table.
import { readFileSync, writeFileSync } from 'node:fs'
import { replaceTable } from '../dist/src/commands/command-docs.js'

const path = new URL('../README.md', import.meta.url)
writeFileSync(path, replaceTable(readFileSync(path, 'utf8')))
