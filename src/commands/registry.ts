// Late-bound view of the built command table, for the few handlers that describe the table
// itself (COMMAND, COMMAND INFO/DOCS). table.ts fills it; importing this instead of table.ts
// keeps the family modules free of an import cycle.

import type { Command } from './table.js'

export const registry: {
  topLevel: readonly Command[]
  lookup: (buf: Uint8Array, start: number, len: number) => Command | undefined
} = {
  topLevel: [],
  lookup: () => undefined,
}
