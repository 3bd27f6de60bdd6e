// The append-only file's one storage hook: a key deleted because its TTL passed (lazily on
// access, by the active sweep) or evicted is logged as a DEL (persistence/aof.ts), as Redis
// propagates deleteExpiredKeyAndPropagate and deleteEvictedKeyAndPropagate. Null while AOF is
// off, so expiry pays one field read. The thread running the deletion owns the sink: a shard's
// own log, or a transaction's while its steps run on lent databases (server/engine.ts).

import type { Keyspace } from './keyspace.js'

export const aofHook: { onDelete: ((ks: Keyspace, e: number) => void) | null } = { onDelete: null }
