// MODULE (Redis 7.0's module.c, for a server with no modules loaded): LIST is empty, LOAD and
// LOADEX fail as a library that cannot be loaded does, UNLOAD finds no module. LOAD, LOADEX and
// UNLOAD are protected commands behind enable-module-command (refused before routing, as DEBUG
// is behind enable-debug-command: Router.dispatch).

import type { Argv, ClientContext, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { errorReply } from '../protocol/errors.js'

/** enable-module-command: 'no', 'yes' or 'local' (set from the config on every producer thread). */
export const moduleGate = { mode: 'no' as 'no' | 'yes' | 'local' }
export const MODULE_NOT_ALLOWED = errorReply('ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.')
const LOAD_FAILED = errorReply('ERR Error loading the extension. Please check the server logs.')
const NO_SUCH_MODULE = errorReply('ERR Error unloading module: no such module with that name')

const HELP_LINES = [
  'LIST',
  '    Return a list of loaded modules.',
  'LOAD <path> [<arg> ...]',
  '    Load a module library from <path>, passing to it any optional arguments.',
  'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]',
  '    Load a module library from <path>, while passing it module configurations and optional arguments.',
  'UNLOAD <name>',
  '    Unload a module.',
]

function moduleHelpCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void { out.help('MODULE', HELP_LINES) }
function moduleListCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void { out.arrayHeader(0) }
// FlashKV loads no native code: every path is one that cannot be loaded.
function moduleLoadCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void { out.raw(LOAD_FAILED) }
function moduleUnloadCommand (_c: ClientContext, _argv: Argv, out: ReplyWriter): void { out.raw(NO_SUCH_MODULE) }

const M = { group: 'server', firstKey: 0, lastKey: 0, step: 0, route: 'primary' } as const
const LOADING = ['admin', 'noscript', 'no_async_loading'] as const

export const moduleCommands: CommandSpec[] = [
  {
    ...M,
    name: 'module',
    arity: -2,
    flags: [],
    since: '4.0.0',
    summary: 'A container for module commands',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...M, name: 'module|help', arity: 2, flags: ['loading', 'stale'], since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', local: moduleHelpCommand },
      { ...M, name: 'module|list', arity: 2, flags: ['admin', 'noscript'], since: '4.0.0', summary: 'List all modules loaded by the server', complexity: 'O(N) where N is the number of loaded modules.', tips: ['nondeterministic_output_order'], local: moduleListCommand },
      { ...M, name: 'module|load', arity: -3, flags: LOADING, since: '4.0.0', summary: 'Load a module', complexity: 'O(1)', protectedCommand: 'module', local: moduleLoadCommand },
      { ...M, name: 'module|loadex', arity: -3, flags: LOADING, since: '7.0.0', summary: 'Load a module with extended parameters', complexity: 'O(1)', protectedCommand: 'module', local: moduleLoadCommand },
      { ...M, name: 'module|unload', arity: 3, flags: LOADING, since: '4.0.0', summary: 'Unload a module', complexity: 'O(1)', protectedCommand: 'module', local: moduleUnloadCommand },
    ],
  },
]
