// HTTP side door (--http-port, off by default): for orchestrators /healthz (the process is
// alive), /readyz (listening, every shard worker up and the RDB file loaded) and /metrics
// (Prometheus text from prom-client); every other path is the Upstash-compatible REST API
// (rest.ts). Nothing here runs per command: the counters live in typed arrays on the
// primary and in each shard's stats buffer, and prom-client reads them at scrape time.

import { createServer, type Server } from 'node:http'
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client'
import { LATENCY_BOUNDS } from '../server/shared-state.js'
import type { RestBackend } from '../server/virtual-connection.js'
import { handleRest } from './rest.js'
import { isLoading } from '../persistence/save-state.js'
import {
  STAT_KEYS, STAT_EXPIRES, STAT_USED_MEMORY, STAT_EXPIRED_KEYS, STAT_HITS, STAT_MISSES, STAT_ERRORS,
} from '../ipc/layout.js'

/** What the HTTP endpoints read from the running server. */
export interface ObservedServer {
  isReady (): boolean
  connectedClients (): number
  totalConnections (): number
  /** Per shard: its stats buffer (STAT_* slots) and whether its worker is alive. */
  shardStats (): ReadonlyArray<{ stats: Float64Array, isAlive: boolean }>
  /** Command name → calls. */
  commandCalls (): Iterable<[string, number]>
  /** Error replies produced on the primary thread. */
  primaryErrors (): number
  /** Sampled command latencies of every thread (SharedState.latency: bucket counts, sum, count). */
  latency (): Float64Array
  readonly maxmemory: number
}

export function createMetrics (srv: ObservedServer): Registry {
  const registry = new Registry()
  // The names Node dashboards expect (process_cpu_seconds_total, nodejs_heap_size_used_bytes...).
  collectDefaultMetrics({ register: registry })
  const shardGauge = (name: string, help: string, slot: number): void => {
    registry.registerMetric(new Gauge({
      name, help, labelNames: ['shard'], registers: [],
      collect () {
        this.reset()
        srv.shardStats().forEach((s, i) => this.set({ shard: String(i) }, s.stats[slot]))
      },
    }))
  }
  shardGauge('flashkv_shard_keys', 'Keys stored per shard (all databases)', STAT_KEYS)
  shardGauge('flashkv_shard_expires', 'Keys with a TTL per shard', STAT_EXPIRES)
  shardGauge('flashkv_shard_used_memory_bytes', 'Bytes of key and value data per shard', STAT_USED_MEMORY)
  registry.registerMetric(new Gauge({
    name: 'flashkv_shard_up', help: '1 while the shard worker is running', labelNames: ['shard'], registers: [],
    collect () { this.reset(); srv.shardStats().forEach((s, i) => this.set({ shard: String(i) }, s.isAlive ? 1 : 0)) },
  }))
  const shardCounter = (name: string, help: string, slot: number): void => {
    registry.registerMetric(new Counter({
      name, help, registers: [],
      collect () { this.reset(); this.inc(srv.shardStats().reduce((a, s) => a + s.stats[slot], 0)) },
    }))
  }
  shardCounter('flashkv_expired_keys_total', 'Keys deleted because their TTL passed', STAT_EXPIRED_KEYS)
  shardCounter('flashkv_keyspace_hits_total', 'Successful key lookups', STAT_HITS)
  shardCounter('flashkv_keyspace_misses_total', 'Failed key lookups', STAT_MISSES)
  registry.registerMetric(new Counter({
    name: 'flashkv_errors_total', help: 'Error replies sent to clients', registers: [],
    collect () { this.reset(); this.inc(srv.primaryErrors() + srv.shardStats().reduce((a, s) => a + s.stats[STAT_ERRORS], 0)) },
  }))
  registry.registerMetric(new Counter({
    name: 'flashkv_commands_total', help: 'Commands processed, by command', labelNames: ['command'], registers: [],
    collect () {
      this.reset()
      for (const [name, n] of srv.commandCalls()) if (n > 0) this.inc({ command: name }, n)
    },
  }))
  registry.registerMetric(new Gauge({
    name: 'flashkv_connected_clients', help: 'Client connections open now', registers: [],
    collect () { this.set(srv.connectedClients()) },
  }))
  registry.registerMetric(new Counter({
    name: 'flashkv_connections_received_total', help: 'Client connections accepted', registers: [],
    collect () { this.reset(); this.inc(srv.totalConnections()) },
  }))
  registry.registerMetric(new Gauge({
    name: 'flashkv_maxmemory_bytes', help: 'Memory ceiling for data (0 = none)', registers: [],
    collect () { this.set(srv.maxmemory) },
  }))
  // Each thread samples into its own row of shared memory (SharedState.observeLatency); the
  // histogram reads their sum when scraped, so it covers every I/O thread.
  const name = 'flashkv_command_duration_seconds'
  const latency = new Histogram({
    name, help: 'Time from routing a command to its shard reply (one command in 32 is sampled)',
    buckets: [...LATENCY_BOUNDS], registers: [],
  })
  // The registry prints a histogram through getForPromString (get() for JSON): both read here.
  const snapshot = async (): Promise<Awaited<ReturnType<Histogram['get']>>> => {
    const w = srv.latency()
    const values: Array<{ labels: Record<string, string | number>, value: number, metricName: string }> = []
    let cumulative = 0
    LATENCY_BOUNDS.forEach((bound, i) => {
      cumulative += w[i]
      values.push({ labels: { le: bound }, value: cumulative, metricName: `${name}_bucket` })
    })
    values.push({ labels: { le: '+Inf' }, value: cumulative + w[LATENCY_BOUNDS.length], metricName: `${name}_bucket` })
    values.push({ labels: {}, value: w[LATENCY_BOUNDS.length + 1], metricName: `${name}_sum` })
    values.push({ labels: {}, value: w[LATENCY_BOUNDS.length + 2], metricName: `${name}_count` })
    const metric = { name, help: 'Time from routing a command to its shard reply (one command in 32 is sampled)', type: 'histogram', aggregator: 'sum', values }
    return metric as unknown as Awaited<ReturnType<Histogram['get']>>
  }
  latency.get = snapshot
  ;(latency as unknown as { getForPromString: typeof snapshot }).getForPromString = snapshot
  registry.registerMetric(latency)
  return registry
}

const PROBES = new Set(['/healthz', '/readyz', '/metrics'])

export async function startHttp (srv: ObservedServer & RestBackend, port: number, host: string): Promise<Server> {
  const registry = createMetrics(srv)
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    // Everything else is the Upstash-compatible REST API (rest.ts).
    if (!PROBES.has(path)) { handleRest(srv, req, res); return }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return }
    if (path === '/healthz') { res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'); return }
    if (path === '/readyz') {
      // Not ready while the shards load the RDB file at start (clients would get -LOADING).
      const loading = isLoading()
      const ready = !loading && srv.isReady()
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : loading ? 'loading\n' : 'not ready\n')
      return
    }
    if (path === '/metrics') {
      registry.metrics().then(text => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text)
      }, err => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err))
      })
      return
    }
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, host, () => { http.off('error', reject); resolve() })
  })
  return http
}
