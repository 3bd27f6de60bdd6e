// List commands (Redis t_list.c) over the arena lists of src/storage/list.ts.

import type { CommandSpec } from './spec.js'

export const listCommands: CommandSpec[] = []
