// Transaction commands (Redis's "transactions" group). Their rows live here like every other
// command's, but they run in the router (route 'txn', server/multi.ts): they change how the
// connection's next commands are dispatched, and EXEC and WATCH talk to the shards.

import type { CommandSpec } from './spec.js'

const TXN = { group: 'transactions', firstKey: 0, lastKey: 0, step: 0, route: 'txn' } as const
const FAST = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'] as const

export const transactionCommands: CommandSpec[] = [
  { ...TXN, name: 'multi', arity: 1, flags: FAST, since: '1.2.0', summary: 'Mark the start of a transaction block', complexity: 'O(1)' },
  { ...TXN, name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], since: '1.2.0', summary: 'Execute all commands issued after MULTI', complexity: 'Depends on commands in the transaction' },
  { ...TXN, name: 'discard', arity: 1, flags: FAST, since: '2.0.0', summary: 'Discard all commands issued after MULTI', complexity: 'O(N), when N is the number of queued commands' },
  { ...TXN, name: 'watch', arity: -2, flags: FAST, firstKey: 1, lastKey: -1, step: 1, since: '2.2.0', summary: 'Watch the given keys to determine execution of the MULTI/EXEC block', complexity: 'O(1) for every key.', keySpecs: [{ flags: ['RO'] }] },
  { ...TXN, name: 'unwatch', arity: 1, flags: FAST, since: '2.2.0', summary: 'Forget about all watched keys', complexity: 'O(1)' },
]
