// CLUSTER, READONLY, READWRITE and ASKING as a Redis 7.0 started with cluster-enabled no answers
// them: every subcommand (HELP included) and the three connection commands reply that cluster
// support is disabled. Clients and tools probe with them (CLUSTER INFO to tell a cluster from a
// single server): an unknown command looks like a broken server, this error like a plain one.
// Arity and unknown subcommands are checked by the table first, as Redis checks them.

import type { Argv, ClientContext, CommandSpec } from './spec.js'
import type { ReplyWriter } from '../protocol/resp-writer.js'
import { errorReply } from '../protocol/errors.js'

const DISABLED = errorReply('ERR This instance has cluster support disabled')

function clusterDisabled (_c: ClientContext, _argv: Argv, out: ReplyWriter): void { out.raw(DISABLED) }

const NO_KEYS = { group: 'cluster', firstKey: 0, lastKey: 0, step: 0, route: 'primary' } as const
const BASE = { ...NO_KEYS, local: clusterDisabled } as const
const READ = { ...BASE, flags: ['stale'] } as const
const ADMIN = { ...BASE, flags: ['admin', 'stale', 'no_async_loading'] } as const
const ADMIN_INFO = { ...BASE, flags: ['admin', 'stale'] } as const
const NONDET = ['nondeterministic_output'] as const
const SLOTS_N = 'O(N) where N is the total number of hash slot arguments'
const RANGE_N = 'O(N) where N is the total number of the slots between the start slot and end slot arguments.'

// Rows as Redis 7.0's COMMAND INFO and COMMAND DOCS give them (test/fixtures/redis-command-info.json).
export const clusterCommands: CommandSpec[] = [
  {
    ...NO_KEYS, name: 'cluster', arity: -2, flags: [], since: '3.0.0', summary: 'A container for cluster commands', complexity: 'Depends on subcommand.',
    subcommands: [
      { ...ADMIN, name: 'cluster|addslots', arity: -3, since: '3.0.0', summary: 'Assign new hash slots to receiving node', complexity: SLOTS_N },
      { ...ADMIN, name: 'cluster|addslotsrange', arity: -4, since: '7.0.0', summary: 'Assign new hash slots to receiving node', complexity: RANGE_N },
      { ...ADMIN, name: 'cluster|bumpepoch', arity: 2, since: '3.0.0', summary: 'Advance the cluster config epoch', complexity: 'O(1)', tips: NONDET },
      { ...ADMIN_INFO, name: 'cluster|count-failure-reports', arity: 3, since: '3.0.0', summary: 'Return the number of failure reports active for a given node', complexity: 'O(N) where N is the number of failure reports', tips: NONDET },
      { ...READ, name: 'cluster|countkeysinslot', arity: 3, since: '3.0.0', summary: 'Return the number of local keys in the specified hash slot', complexity: 'O(1)' },
      { ...ADMIN, name: 'cluster|delslots', arity: -3, since: '3.0.0', summary: 'Set hash slots as unbound in receiving node', complexity: SLOTS_N },
      { ...ADMIN, name: 'cluster|delslotsrange', arity: -4, since: '7.0.0', summary: 'Set hash slots as unbound in receiving node', complexity: RANGE_N },
      { ...ADMIN, name: 'cluster|failover', arity: -2, since: '3.0.0', summary: 'Forces a replica to perform a manual failover of its master.', complexity: 'O(1)' },
      { ...ADMIN, name: 'cluster|flushslots', arity: 2, since: '3.0.0', summary: "Delete a node's own slots information", complexity: 'O(1)' },
      { ...ADMIN, name: 'cluster|forget', arity: 3, since: '3.0.0', summary: 'Remove a node from the nodes table', complexity: 'O(1)' },
      { ...READ, name: 'cluster|getkeysinslot', arity: 4, since: '3.0.0', summary: 'Return local key names in the specified hash slot', complexity: 'O(log(N)) where N is the number of requested keys', tips: NONDET },
      { ...BASE, name: 'cluster|help', arity: 2, flags: ['loading', 'stale'], since: '5.0.0', summary: 'Show helpful text about the different subcommands', complexity: 'O(1)' },
      { ...READ, name: 'cluster|info', arity: 2, since: '3.0.0', summary: 'Provides info about Redis Cluster node state', complexity: 'O(1)', tips: NONDET },
      { ...READ, name: 'cluster|keyslot', arity: 3, since: '3.0.0', summary: 'Returns the hash slot of the specified key', complexity: 'O(N) where N is the number of bytes in the key' },
      { ...READ, name: 'cluster|links', arity: 2, since: '7.0.0', summary: 'Returns a list of all TCP links to and from peer nodes in cluster', complexity: 'O(N) where N is the total number of Cluster nodes', tips: NONDET },
      { ...ADMIN, name: 'cluster|meet', arity: -4, since: '3.0.0', summary: 'Force a node cluster to handshake with another node', complexity: 'O(1)' },
      { ...READ, name: 'cluster|myid', arity: 2, since: '3.0.0', summary: 'Return the node id', complexity: 'O(1)' },
      { ...READ, name: 'cluster|nodes', arity: 2, since: '3.0.0', summary: 'Get Cluster config for the node', complexity: 'O(N) where N is the total number of Cluster nodes', tips: NONDET },
      { ...ADMIN_INFO, name: 'cluster|replicas', arity: 3, since: '5.0.0', summary: 'List replica nodes of the specified master node', complexity: 'O(1)', tips: NONDET },
      { ...ADMIN, name: 'cluster|replicate', arity: 3, since: '3.0.0', summary: 'Reconfigure a node as a replica of the specified master node', complexity: 'O(1)' },
      { ...BASE, name: 'cluster|reset', arity: -2, flags: ['admin', 'noscript', 'stale'], since: '3.0.0', summary: 'Reset a Redis Cluster node', complexity: 'O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.' },
      { ...ADMIN, name: 'cluster|saveconfig', arity: 2, since: '3.0.0', summary: 'Forces the node to save cluster state on disk', complexity: 'O(1)' },
      { ...ADMIN, name: 'cluster|set-config-epoch', arity: 3, since: '3.0.0', summary: 'Set the configuration epoch in a new node', complexity: 'O(1)' },
      { ...ADMIN, name: 'cluster|setslot', arity: -4, since: '3.0.0', summary: 'Bind a hash slot to a specific node', complexity: 'O(1)' },
      { ...READ, name: 'cluster|shards', arity: 2, since: '7.0.0', summary: 'Get array of cluster slots to node mappings', complexity: 'O(N) where N is the total number of cluster nodes', tips: NONDET },
      { ...ADMIN_INFO, name: 'cluster|slaves', arity: 3, since: '3.0.0', summary: 'List replica nodes of the specified master node', complexity: 'O(1)', tips: NONDET },
      { ...READ, name: 'cluster|slots', arity: 2, since: '3.0.0', summary: 'Get array of Cluster slot to node mappings', complexity: 'O(N) where N is the total number of Cluster nodes', tips: NONDET },
    ],
  },
  { ...BASE, name: 'readonly', arity: 1, flags: ['loading', 'stale', 'fast'], acl: ['connection'], since: '3.0.0', summary: 'Enables read queries for a connection to a cluster replica node', complexity: 'O(1)' },
  { ...BASE, name: 'readwrite', arity: 1, flags: ['loading', 'stale', 'fast'], acl: ['connection'], since: '3.0.0', summary: 'Disables read queries for a connection to a cluster replica node', complexity: 'O(1)' },
  { ...BASE, name: 'asking', arity: 1, flags: ['fast'], acl: ['connection'], since: '3.0.0', summary: 'Sent by cluster clients after an -ASK redirect', complexity: 'O(1)' },
]
