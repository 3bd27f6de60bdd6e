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

  /** INFO memory's lazyfree fields: values waiting for the background freeing, and those it finished. */
  async function lazy (c: RawClient): Promise<{ pending: number, freed: number }> {
    const info = text(await c.command('INFO', 'memory'))
    return { pending: Number(/lazyfree_pending_objects:(\d+)/.exec(info)?.[1]), freed: Number(/lazyfreed_objects:(\d+)/.exec(info)?.[1]) }
  }

  /** Waits until the background freeing has finished `n` more values than `from` had, with none pending. */
  async function freedSince (c: RawClient, from: number, n: number): Promise<void> {
    let now = await lazy(c)
    for (let i = 0; i < 500 && (now.freed < from + n || now.pending > 0); i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      now = await lazy(c)
    }
    expect(now).toEqual({ pending: 0, freed: from + n })
  }

  /** Four big values (over LAZYFREE_THRESHOLD elements each) under `p`:l, :s, :z and :h. */
  function bigValues (p: string): string[][] {
    const cmds: string[][] = []
    for (let i = 0; i < 5000; i += 100) {
      const l = ['RPUSH', `${p}:l`]
      const st = ['SADD', `${p}:s`]
      const z = ['ZADD', `${p}:z`]
      const h = ['HSET', `${p}:h`]
      for (let k = i; k < i + 100; k++) { l.push(`e${k}`); st.push(`m${k}`); z.push(String(k), `m${k}`); h.push(`f${k}`, `v${k}`) }
      cmds.push(l, st, z, h)
    }
    return cmds
  }

  it('lazyfree-lazy-server-del yes: a big value a command replaces (SET, a STORE, RENAME, RESTORE REPLACE) is freed in the background', async () => {
    const c = await RawClient.connect(server.port, server.host)
    const dump = text(await (async () => { await c.command('SADD', 'src', 'a', 'b'); return await c.command('DUMP', 'src') })())
    const payload = Buffer.from(dump.slice(dump.indexOf('\r\n') + 2, -2), 'latin1')
    const replace = async (p: string): Promise<void> => {
      await c.command('SADD', `${p}:one`, 'x')
      await c.command('ZADD', `${p}:two`, '1', 'y')
      expect(text(await c.command('SET', `${p}:l`, 'str'))).toBe('+OK\r\n')
      expect(text(await c.command('SUNIONSTORE', `${p}:s`, `${p}:one`))).toBe(':1\r\n')
      expect(text(await c.command('RENAME', `${p}:two`, `${p}:z`))).toBe('+OK\r\n')
      expect(text(await c.command('RESTORE', `${p}:h`, '0', payload, 'REPLACE'))).toBe('+OK\r\n')
    }
    const check = async (p: string): Promise<void> => {
      expect(text(await c.command('GET', `${p}:l`))).toBe('$3\r\nstr\r\n')
      expect(text(await c.command('SMEMBERS', `${p}:s`))).toBe('*1\r\n$1\r\nx\r\n')
      expect(text(await c.command('ZRANGE', `${p}:z`, '0', '-1'))).toBe('*1\r\n$1\r\ny\r\n')
      expect(text(await c.command('SCARD', `${p}:h`))).toBe(':2\r\n')
    }
    // Off (Redis's default): freed at once, nothing counted by the background freeing.
    const base = await usedMemory(c)
    await load(c, bigValues('off'))
    const before = await lazy(c)
    await replace('off')
    expect(await lazy(c)).toEqual(before)
    await check('off')
    expect(text(await c.command('CONFIG', 'SET', 'lazyfree-lazy-server-del', 'yes'))).toBe('+OK\r\n')
    try {
      await load(c, bigValues('on'))
      const from = (await lazy(c)).freed
      await replace('on')
      await check('on')
      await freedSince(c, from, 4)
      await check('on')
      await load(c, [['DEL', 'off:l', 'off:s', 'off:z', 'off:h', 'on:l', 'on:s', 'on:z', 'on:h', 'src']])
      expect(await usedMemory(c) - base).toBeLessThan(1024 * 1024)
    } finally {
      await c.command('CONFIG', 'SET', 'lazyfree-lazy-server-del', 'no')
      c.close()
    }
  })

  it('lazyfree-lazy-expire yes: a big value that expires, found by a read or by the sweep, is freed in the background', async () => {
    const c = await RawClient.connect(server.port, server.host)
    const expireAll = async (p: string): Promise<void> => {
      for (const t of ['l', 's', 'z', 'h']) expect(text(await c.command('PEXPIRE', `${p}:${t}`, '1'))).toBe(':1\r\n')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    await load(c, bigValues('xoff'))
    const before = await lazy(c)
    await expireAll('xoff')
    expect(text(await c.command('EXISTS', 'xoff:l', 'xoff:s', 'xoff:z', 'xoff:h'))).toBe(':0\r\n')
    expect(await lazy(c)).toEqual(before)
    expect(text(await c.command('CONFIG', 'SET', 'lazyfree-lazy-expire', 'yes'))).toBe('+OK\r\n')
    try {
      await load(c, bigValues('xon'))
      const from = (await lazy(c)).freed
      await expireAll('xon')
      // Two found by a read; the other two left to the sweep.
      expect(text(await c.command('EXISTS', 'xon:l', 'xon:s'))).toBe(':0\r\n')
      await freedSince(c, from, 4)
      expect(text(await c.command('EXISTS', 'xon:z', 'xon:h'))).toBe(':0\r\n')
    } finally {
      await c.command('CONFIG', 'SET', 'lazyfree-lazy-expire', 'no')
      c.close()
    }
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
