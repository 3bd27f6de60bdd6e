// Client libraries as an application gets them: nothing but the address (and RESP 2 when asked),
// so each library's own connect sequence and defaults (HELLO 3, CLIENT SETINFO, ...) are what the server sees.
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import type { ServerHandle } from './server.js'

/** An ioredis client with its defaults, resolved once it reports ready (its connect sequence done). */
export async function connectIoredis (server: ServerHandle): Promise<Redis> {
  const c = new Redis(server.port, server.host)
  await new Promise<void>((resolve, reject) => {
    c.once('ready', resolve)
    c.once('error', reject)
  })
  return c
}

function options(server: ServerHandle) {
  return { socket: { port: server.port, host: server.host } }
}
const defaultClient = (server: ServerHandle) => createClient(options(server))
/** The RESP 3 client's type; the RESP 2 one differs only in reply types, which the tests assert at run time. */
export type NodeRedisClient = ReturnType<typeof defaultClient>

/** Connects a default node-redis client; every 'error' event lands in `errors` for the test to assert on. */
export async function connectNodeRedis(server: ServerHandle, resp: 2 | 3, errors: Error[]): Promise<NodeRedisClient> {
  const client = resp === 3 ? defaultClient(server) : createClient({ ...options(server), RESP: 2 }) as unknown as NodeRedisClient
  client.on('error', (err: Error) => errors.push(err))
  await client.connect()
  return client
}

/** A second connection with the same options (node-redis runs blocking commands and subscriptions on one). */
export async function connectDuplicate(client: NodeRedisClient, errors: Error[]): Promise<NodeRedisClient> {
  const dup = client.duplicate()
  dup.on('error', (err: Error) => errors.push(err))
  await dup.connect()
  return dup
}
