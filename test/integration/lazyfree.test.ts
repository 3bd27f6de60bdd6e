// UNLINK frees big collections in the background (storage/lazyfree.ts): the keys go at once,
// the server answers other commands while the elements are freed, used_memory comes back down,
// and nothing written meanwhile is harmed by the freeing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'

let server: ServerHandle
beforeAll(async () => { server = await startFlashKV({ shards: 1 }) })
afterAll(async () => { await server?.stop() })

function text (b: Buffer): string { return b.toString('latin1') }

/** used_memory less the clients' buffers (which used_memory counts): the data's part. */
async function usedMemory (c: RawClient): Promise<number> {
  const info = text(await c.command('INFO', 'memory'))
  return Number(/used_memory:(\d+)/.exec(info)?.[1]) - Number(/mem_clients_normal:(\d+)/.exec(info)?.[1])
}

/** Sends commands in batches of 1000, waiting for each batch's replies. */
async function load (c: RawClient, cmds: string[][]): Promise<void> {
  for (let i = 0; i < cmds.length; i += 1000) {
    const batch = cmds.slice(i, i + 1000)
    c.send(Buffer.concat(batch.map(x => encodeCommand(x))))
    await c.readReplies(batch.length, 30_000)
  }
}

describe('UNLINK of big collections', () => {
  it('removes them at once, frees them in the background, and leaves new data intact', async () => {
    const c = await RawClient.connect(server.port, server.host)
    const N = 100_000
    const cmds: string[][] = []
    for (let i = 0; i < N; i += 100) {
      const h = ['HSET', 'h']
      const s = ['SADD', 's']
      const z = ['ZADD', 'z']
      const l = ['RPUSH', 'l']
      for (let k = i; k < i + 100; k++) { h.push(`f${k}`, `v${k}`); s.push(`m${k}`); z.push(String(k), `m${k}`); l.push(`e${k}`) }
      cmds.push(h, s, z, l)
    }
    const base = await usedMemory(c)
    await load(c, cmds)
    const loaded = await usedMemory(c)
    expect(loaded - base, 'the four collections take memory').toBeGreaterThan(4 * N * 8)
    expect(text(await c.command('UNLINK', 'h', 's', 'z', 'l', 'nokey'))).toBe(':4\r\n')
    expect(text(await c.command('EXISTS', 'h', 's', 'z', 'l'))).toBe(':0\r\n')
    // New values under the same names, written while the old ones are being freed.
    await load(c, [['HSET', 'h', 'a', '1'], ['SADD', 's', 'x'], ['ZADD', 'z', '5', 'y'], ['RPUSH', 'l', 'p', 'q'], ['SET', 'k', 'v'.repeat(1000)]])
    let now = await usedMemory(c)
    for (let i = 0; i < 500 && now > base + 1024 * 1024; i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      now = await usedMemory(c)
    }
    expect(now - base, 'used_memory back down once the background freeing is done').toBeLessThan(1024 * 1024)
    expect(text(await c.command('HGETALL', 'h'))).toBe('*2\r\n$1\r\na\r\n$1\r\n1\r\n')
    expect(text(await c.command('SMEMBERS', 's'))).toBe('*1\r\n$1\r\nx\r\n')
    expect(text(await c.command('ZRANGE', 'z', '0', '-1', 'WITHSCORES'))).toBe('*2\r\n$1\r\ny\r\n$1\r\n5\r\n')
    expect(text(await c.command('LRANGE', 'l', '0', '-1'))).toBe('*2\r\n$1\r\np\r\n$1\r\nq\r\n')
    expect(text(await c.command('STRLEN', 'k'))).toBe(':1000\r\n')
    // Small values go at once, as DEL does.
    await load(c, [['HSET', 'small', 'a', '1'], ['UNLINK', 'small']])
    expect(text(await c.command('EXISTS', 'small'))).toBe(':0\r\n')
    c.close()
  })

  it('a big stream with consumer groups: freed in the background, a new stream under its name intact', async () => {
    const c = await RawClient.connect(server.port, server.host)
    const cmds: string[][] = []
    for (let i = 1; i <= 100_000; i++) cmds.push(['XADD', 'st', `${i}-0`, 'f', `v${i}`, 'g', String(i)])
    cmds.push(['XGROUP', 'CREATE', 'st', 'g1', '0'], ['XGROUP', 'CREATE', 'st', 'g2', '0'], ['XREADGROUP', 'GROUP', 'g1', 'c', 'COUNT', '5000', 'STREAMS', 'st', '>'])
    const base = await usedMemory(c)
    await load(c, cmds)
    expect(await usedMemory(c) - base, 'the stream takes memory').toBeGreaterThan(100_000 * 8)
    expect(text(await c.command('UNLINK', 'st'))).toBe(':1\r\n')
    expect(text(await c.command('EXISTS', 'st'))).toBe(':0\r\n')
    await load(c, [['XADD', 'st', '1-1', 'a', 'b'], ['XGROUP', 'CREATE', 'st', 'g1', '0']])
    let now = await usedMemory(c)
    for (let i = 0; i < 500 && now > base + 256 * 1024; i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      now = await usedMemory(c)
    }
    expect(now - base, 'used_memory back down once the background freeing is done').toBeLessThan(256 * 1024)
    expect(text(await c.command('XRANGE', 'st', '-', '+'))).toBe('*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n')
    expect(text(await c.command('XINFO', 'GROUPS', 'st'))).toContain('$2\r\ng1\r\n')
    c.close()
  })

  it('lazyfree-lazy-user-del yes makes DEL free big values as UNLINK does', async () => {
    const c = await RawClient.connect(server.port, server.host)
    expect(text(await c.command('CONFIG', 'GET', 'lazyfree-lazy-user-del'))).toBe('*2\r\n$22\r\nlazyfree-lazy-user-del\r\n$2\r\nno\r\n')
    expect(text(await c.command('CONFIG', 'SET', 'lazyfree-lazy-user-del', 'maybe'))).toBe("-ERR CONFIG SET failed (possibly related to argument 'lazyfree-lazy-user-del') - argument must be 'yes' or 'no'\r\n")
    expect(text(await c.command('CONFIG', 'SET', 'lazyfree-lazy-user-del', 'yes'))).toBe('+OK\r\n')
    const base = await usedMemory(c)
    const cmds: string[][] = []
    for (let i = 0; i < 50_000; i += 100) {
      const h = ['HSET', 'big']
      for (let k = i; k < i + 100; k++) h.push(`f${k}`, `v${k}`)
      cmds.push(h)
    }
    await load(c, cmds)
    expect(text(await c.command('DEL', 'big'))).toBe(':1\r\n')
    await load(c, [['HSET', 'big', 'new', 'value']])
    let now = await usedMemory(c)
    for (let i = 0; i < 500 && now > base + 1024 * 1024; i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      now = await usedMemory(c)
    }
    expect(now - base).toBeLessThan(1024 * 1024)
    expect(text(await c.command('HGETALL', 'big'))).toBe('*2\r\n$3\r\nnew\r\n$5\r\nvalue\r\n')
    expect(text(await c.command('CONFIG', 'SET', 'lazyfree-lazy-user-del', 'no'))).toBe('+OK\r\n')
    c.close()
  })
})
