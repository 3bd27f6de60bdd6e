// The wire protocol over raw sockets, with exact reply bytes. Ported from Redis 7.0's
// tests/unit/protocol.tcl where the case applies (the DEBUG-based RESP3 type tests and the
// blocking-command cases do not: no DEBUG, no blocking commands yet): empty and negative
// queries, out-of-range and malformed multibulk/bulk lengths (error bytes, then the connection
// is closed), unbalanced quotes, the protocol desync regression, large numbers of arguments.
// Plus: inline commands, values that cross the out-of-band path (records larger than half of
// a 1 MiB ring), RESP3 after HELLO 3, QUIT, and isolation of a failing connection.
import net from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { RawClient, encodeCommand } from './helpers/raw.js'
import { startFlashKV, type ServerHandle } from './helpers/server.js'
import { shardOfKey } from './helpers/slots.js'

let server: ServerHandle
/** Connections a test opened; closed after it. */
const open: RawClient[] = []

async function connect (): Promise<RawClient> {
  const c = await RawClient.connect(server.port, server.host)
  open.push(c)
  return c
}

beforeAll(async () => {
  server = await startFlashKV({ shards: 4 })
})

afterAll(async () => {
  await server?.stop()
})

beforeEach(async () => {
  const c = await connect()
  expect((await c.command('FLUSHALL')).toString('latin1')).toBe('+OK\r\n')
})

afterEach(() => {
  for (const c of open.splice(0)) c.close()
})

const text = (b: Buffer): string => b.toString('latin1')

/** Sends bytes and expects exactly `reply` back, then the server closing the connection. */
async function expectErrorAndClose (c: RawClient, bytes: string | Buffer, reply: string): Promise<void> {
  c.send(bytes)
  const { data, closed } = await c.readUntilClose(3000)
  expect(text(data)).toBe(reply)
  expect(closed, 'connection closed after the protocol error').toBe(true)
}

describe('protocol.tcl', () => {
  it('handles an empty query', async () => {
    const c = await connect()
    c.send('\r\n')
    expect(text(await c.command('PING'))).toBe('+PONG\r\n')
  })

  it('negative multibulk length', async () => {
    const c = await connect()
    c.send('*-10\r\n')
    expect(text(await c.command('PING'))).toBe('+PONG\r\n')
  })

  it('out of range multibulk length', async () => {
    await expectErrorAndClose(await connect(), '*3000000000\r\n', '-ERR Protocol error: invalid multibulk length\r\n')
  })

  it('wrong multibulk payload header', async () => {
    await expectErrorAndClose(await connect(), '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n',
      "-ERR Protocol error: expected '$', got 'f'\r\n")
  })

  it('negative multibulk payload length', async () => {
    await expectErrorAndClose(await connect(), '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n',
      '-ERR Protocol error: invalid bulk length\r\n')
  })

  it('out of range multibulk payload length', async () => {
    await expectErrorAndClose(await connect(), '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n',
      '-ERR Protocol error: invalid bulk length\r\n')
  })

  it('non-number multibulk payload length', async () => {
    await expectErrorAndClose(await connect(), '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n',
      '-ERR Protocol error: invalid bulk length\r\n')
  })

  it('multi bulk request not followed by bulk arguments', async () => {
    await expectErrorAndClose(await connect(), '*1\r\nfoo\r\n', "-ERR Protocol error: expected '$', got 'f'\r\n")
  })

  it('generic wrong number of args', async () => {
    const c = await connect()
    expect(text(await c.command('PING', 'x', 'y', 'z'))).toBe("-ERR wrong number of arguments for 'ping' command\r\n")
  })

  it('unbalanced number of quotes', async () => {
    const c = await connect()
    await expectErrorAndClose(c, 'set """test-key""" test-value\r\nping\r\n',
      '-ERR Protocol error: unbalanced quotes in request\r\n')
  })

  // The server must close a connection whose header or inline line never ends, instead of
  // buffering it forever. Redis's test writes 1 KB lines until the write fails.
  for (const [n, seq, reply] of [
    [1, '\x00', 'too big inline request'],
    [2, '*\x00', 'too big mbulk count string'],
    [3, '$\x00', 'too big inline request'],
  ] as const) {
    it(`protocol desync regression test #${n}`, async () => {
      const c = await connect()
      c.send(seq)
      const payload = 'A'.repeat(1024) + '\n'
      for (let i = 0; i < 200 && !c.isClosed; i++) {
        c.send(payload)
        await new Promise((resolve) => setImmediate(resolve))
      }
      const { data, closed } = await c.readUntilClose(3000)
      expect(text(data)).toBe(`-ERR Protocol error: ${reply}\r\n`)
      expect(closed).toBe(true)
    })
  }

  it('large number of args: MSET of 10,001 pairs', async () => {
    const c = await connect()
    const args: string[] = []
    for (let i = 0; i < 10_000; i++) args.push('k', 'v')
    args.push('{k}2', 'v2')
    expect(text(await c.command('MSET', ...args))).toBe('+OK\r\n')
    expect(text(await c.command('GET', '{k}2'))).toBe('$2\r\nv2\r\n')
    expect(text(await c.command('GET', 'k'))).toBe('$1\r\nv\r\n')
  })
})

describe('inline commands', () => {
  it('are split on spaces, with quotes and escapes, CRLF or LF terminated', async () => {
    const c = await connect()
    c.send('SET   inl   "hello world"\r\nGET inl\r\nSET inl2 \'a b\'\nGET inl2\nSET inl3 "\\x41\\n\\t"\r\nGET inl3\r\nPING\r\nECHO  x\r\n')
    const replies = (await c.readReplies(8)).map(text)
    expect(replies).toEqual([
      '+OK\r\n', '$11\r\nhello world\r\n',
      '+OK\r\n', '$3\r\na b\r\n',
      '+OK\r\n', '$3\r\nA\n\t\r\n',
      '+PONG\r\n', '$1\r\nx\r\n',
    ])
  })

  it('blank lines are skipped and an unknown inline command gets the usual error', async () => {
    const c = await connect()
    c.send('\r\n\r\n   \r\nFOO bar\r\nPING\r\n')
    expect((await c.readReplies(2)).map(text)).toEqual([
      "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n",
      '+PONG\r\n',
    ])
  })

  it('mix with multibulk commands in one write, replies in order', async () => {
    const c = await connect()
    c.send(Buffer.concat([
      Buffer.from('SET a 1\r\n'),
      encodeCommand(['SET', 'b', '2']),
      Buffer.from('MGET a b c\r\n'),
      encodeCommand(['DEL', 'a', 'b']),
    ]))
    expect((await c.readReplies(4)).map(text)).toEqual([
      '+OK\r\n', '+OK\r\n', '*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n', ':2\r\n',
    ])
  })

  it('a line over 64 KB without a newline is refused and the connection closed', async () => {
    await expectErrorAndClose(await connect(), 'A'.repeat(70 * 1024), '-ERR Protocol error: too big inline request\r\n')
  })
})

describe('commands split at every byte', () => {
  it('a multibulk sent one byte at a time is read correctly', async () => {
    const c = await connect()
    const bytes = Buffer.concat([encodeCommand(['SET', 'split', 'a\r\nb']), encodeCommand(['GET', 'split'])])
    for (let i = 0; i < bytes.length; i++) {
      c.send(bytes.subarray(i, i + 1))
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    }
    expect((await c.readReplies(2)).map(text)).toEqual(['+OK\r\n', '$4\r\na\r\nb\r\n'])
  })
})

/**
 * Sends `request` on a fresh socket and resolves with exactly `bytes` bytes of reply. Collects
 * chunks and joins them once: RawClient re-concatenates its buffer on every chunk, which takes
 * tens of seconds for a 20 MB reply.
 */
function exchange (request: Buffer, bytes: number, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port: server.port, host: server.host })
    const chunks: Buffer[] = []
    let got = 0
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`timed out after ${got} of ${bytes} bytes`)) }, timeoutMs)
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      got += chunk.length
      if (got >= bytes) { clearTimeout(timer); sock.destroy(); resolve(Buffer.concat(chunks)) }
    })
    sock.on('error', (err) => { clearTimeout(timer); reject(err) })
    sock.on('close', () => { clearTimeout(timer); reject(new Error(`closed after ${got} of ${bytes} bytes`)) })
    sock.write(request)
  })
}

describe('large values (out-of-band ring records)', () => {
  for (const [name, size] of [['600 KB', 600 * 1024], ['20 MB', 20 * 1024 * 1024]] as const) {
    it(`a ${name} value round trips through SET and GET`, async () => {
      const key = `big:${name}`
      const value = Buffer.alloc(size)
      for (let i = 0; i < size; i += 4096) value.write(`<${i}>`, i, 'latin1') // position marks
      value[size - 1] = 0x0a
      const bulk = Buffer.concat([Buffer.from(`$${size}\r\n`), value, Buffer.from('\r\n')])
      // Small commands around the big ones keep their order; the MGET spans shards.
      const other = 'other' // a key on another shard than `key`
      expect(shardOfKey(other, 4)).not.toBe(shardOfKey(key, 4))
      const expected = Buffer.concat([
        Buffer.from('+OK\r\n'), // SET key value
        Buffer.from('+OK\r\n'), // SET small s
        bulk, // GET key
        Buffer.from('$1\r\ns\r\n'), // GET small
        Buffer.from("-ERR unknown command 'STRLEN-IS-UNKNOWN', with args beginning with: \r\n"),
        Buffer.from('*3\r\n$1\r\ns\r\n'), bulk, Buffer.from('$-1\r\n'), // MGET small key other
        Buffer.from(':1\r\n'), // DEL key
        Buffer.from('$-1\r\n'), // GET key
      ])
      const reply = await exchange(Buffer.concat([
        encodeCommand(['SET', key, value]),
        encodeCommand(['SET', 'small', 's']),
        encodeCommand(['GET', key]),
        encodeCommand(['GET', 'small']),
        encodeCommand(['STRLEN-IS-UNKNOWN']),
        encodeCommand(['MGET', 'small', key, other]),
        encodeCommand(['DEL', key]),
        encodeCommand(['GET', key]),
      ]), expected.length)
      expect(reply.length).toBe(expected.length)
      if (!reply.equals(expected)) {
        let i = 0
        while (reply[i] === expected[i]) i++
        expect.fail(`replies differ at byte ${i}: expected ${JSON.stringify(text(expected.subarray(i, i + 40)))}, ` +
          `got ${JSON.stringify(text(reply.subarray(i, i + 40)))}`)
      }
    }, 30_000)
  }
})

describe('many arguments across shards', () => {
  it('MGET of 2,000 keys (more than 1,024 arguments) on all shards', async () => {
    const c = await connect()
    const keys = Array.from({ length: 2000 }, (_, i) => `many:${i}`)
    const shards = new Set(keys.map((k) => shardOfKey(k, 4)))
    expect(shards.size).toBe(4)
    const pairs: string[] = []
    for (let i = 0; i < keys.length; i += 2) pairs.push(keys[i], `v${i}`) // even keys only
    expect(text(await c.command('MSET', ...pairs))).toBe('+OK\r\n')
    const reply = await c.command('MGET', ...keys)
    const want = ['*2000\r\n']
    for (let i = 0; i < keys.length; i++) want.push(i % 2 === 0 ? `$${String(`v${i}`).length}\r\nv${i}\r\n` : '$-1\r\n')
    expect(text(reply)).toBe(want.join(''))
    expect(text(await c.command('EXISTS', ...keys))).toBe(':1000\r\n')
    expect(text(await c.command('DEL', ...keys))).toBe(':1000\r\n')
    expect(text(await c.command('DBSIZE'))).toBe(':0\r\n')
  })
})

describe('RESP3', () => {
  it('HELLO 3 replies with a %7 map and switches the connection to RESP3', async () => {
    const c = await connect()
    const hello = text(await c.command('HELLO', '3'))
    expect(hello).toMatch(new RegExp(
      '^%7\\r\\n' +
      '\\$6\\r\\nserver\\r\\n\\$5\\r\\nredis\\r\\n' +
      '\\$7\\r\\nversion\\r\\n\\$\\d+\\r\\n7\\.[\\d.]+\\r\\n' +
      '\\$5\\r\\nproto\\r\\n:3\\r\\n' +
      '\\$2\\r\\nid\\r\\n:\\d+\\r\\n' +
      '\\$4\\r\\nmode\\r\\n\\$10\\r\\nstandalone\\r\\n' +
      '\\$4\\r\\nrole\\r\\n\\$6\\r\\nmaster\\r\\n' +
      '\\$7\\r\\nmodules\\r\\n\\*0\\r\\n$'))
    expect(text(await c.command('GET', 'nokey'))).toBe('_\r\n')
    expect(text(await c.command('SET', 'k', 'v'))).toBe('+OK\r\n')
    expect(text(await c.command('SET', 'k', 'w', 'NX'))).toBe('_\r\n')
    expect(text(await c.command('MGET', 'k', 'nokey', 'other'))).toBe('*3\r\n$1\r\nv\r\n_\r\n_\r\n')
    expect(text(await c.command('TTL', 'k'))).toBe(':-1\r\n')
    expect(text(await c.command('EXISTS', 'k', 'nokey'))).toBe(':1\r\n')
  })

  it('HELLO 2 goes back to RESP2 nulls; a second connection is not affected by the first one\'s HELLO 3', async () => {
    const a = await connect()
    const b = await connect()
    expect(text(await a.command('HELLO', '3'))).toMatch(/^%7\r\n/)
    expect(text(await b.command('GET', 'nokey'))).toBe('$-1\r\n')
    expect(text(await a.command('GET', 'nokey'))).toBe('_\r\n')
    expect(text(await a.command('HELLO', '2'))).toMatch(/^\*14\r\n/)
    expect(text(await a.command('GET', 'nokey'))).toBe('$-1\r\n')
    expect(text(await a.command('MGET', 'nokey'))).toBe('*1\r\n$-1\r\n')
  })

  it('HELLO with an unsupported version is refused', async () => {
    const c = await connect()
    expect(text(await c.command('HELLO', '4'))).toBe('-NOPROTO unsupported protocol version\r\n')
    expect(text(await c.command('GET', 'nokey'))).toBe('$-1\r\n')
  })
})

describe('QUIT', () => {
  it('replies +OK and closes; commands pipelined after it are not run', async () => {
    const c = await connect()
    c.send(Buffer.concat([
      encodeCommand(['SET', 'before', '1']),
      encodeCommand(['GET', 'before']),
      encodeCommand(['QUIT']),
      encodeCommand(['SET', 'after', '1']),
    ]))
    const { data, closed } = await c.readUntilClose(3000)
    expect(text(data)).toBe('+OK\r\n$1\r\n1\r\n+OK\r\n')
    expect(closed).toBe(true)
    const d = await connect()
    expect(text(await d.command('EXISTS', 'before', 'after'))).toBe(':1\r\n')
  })

  it('inline QUIT works too', async () => {
    const c = await connect()
    await expectErrorAndClose(c, 'QUIT\r\n', '+OK\r\n')
  })
})

describe('a protocol error is contained to its connection', () => {
  it('replies to earlier commands come first, then the error, then the close', async () => {
    const c = await connect()
    c.send(Buffer.concat([
      encodeCommand(['SET', 'x', '1']),
      encodeCommand(['GET', 'x']),
      encodeCommand(['GET', 'nokey']),
      Buffer.from('*1\r\nfoo\r\n'),
      encodeCommand(['SET', 'never', '1']),
    ]))
    const { data, closed } = await c.readUntilClose(3000)
    expect(text(data)).toBe("+OK\r\n$1\r\n1\r\n$-1\r\n-ERR Protocol error: expected '$', got 'f'\r\n")
    expect(closed).toBe(true)
    const d = await connect()
    expect(text(await d.command('EXISTS', 'x', 'never'))).toBe(':1\r\n')
  })

  it('another connection mid-command and the stored data are unaffected', async () => {
    const good = await connect()
    const pairs: string[] = []
    for (let i = 0; i < 100; i++) pairs.push(`iso:${i}`, `v${i}`)
    expect(text(await good.command('MSET', ...pairs))).toBe('+OK\r\n')
    // Half of a command on the good connection, then a protocol error elsewhere.
    const cmd = encodeCommand(['MGET', 'iso:0', 'iso:99'])
    good.send(cmd.subarray(0, 10))
    for (const junk of ['*3000000000\r\n', '*1\r\nfoo\r\n', '*2\r\n$3\r\nGET\r\n$-5\r\n', 'set "unbalanced\r\n']) {
      const bad = await connect()
      bad.send(junk)
      const { closed } = await bad.readUntilClose(3000)
      expect(closed).toBe(true)
    }
    good.send(cmd.subarray(10))
    expect(text((await good.readReplies(1))[0])).toBe('*2\r\n$2\r\nv0\r\n$3\r\nv99\r\n')
    expect(text(await good.command('DBSIZE'))).toBe(':100\r\n')
    const fresh = await connect()
    expect(text(await fresh.command('GET', 'iso:50'))).toBe('$3\r\nv50\r\n')
  })
})
