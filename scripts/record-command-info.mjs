// Records COMMAND INFO from a real redis-server into test/fixtures/redis-command-info.json, the
// reference that test/unit/commands/command-info.test.ts compares the command table against.
// Usage: node scripts/record-command-info.mjs <port>   (a redis-server 7.0.x on 127.0.0.1)
import net from 'node:net'
import { writeFileSync } from 'node:fs'

function parse (buf, pos) {
  const type = String.fromCharCode(buf[pos])
  const nl = buf.indexOf('\r\n', pos, 'latin1')
  const line = buf.toString('latin1', pos + 1, nl)
  let p = nl + 2
  switch (type) {
    case '+': case '-': return [line, p]
    case ':': return [Number(line), p]
    case '$': {
      const n = Number(line)
      if (n < 0) return [null, p]
      return [buf.toString('utf8', p, p + n), p + n + 2]
    }
    case '*': {
      const n = Number(line)
      if (n < 0) return [null, p]
      const out = []
      for (let i = 0; i < n; i++) { const [v, q] = parse(buf, p); out.push(v); p = q }
      return [out, p]
    }
    default: throw new Error(`unexpected ${type}`)
  }
}

function pairs (arr) {
  const o = {}
  for (let i = 0; i < arr.length; i += 2) o[arr[i]] = Array.isArray(arr[i + 1]) && arr[i + 1].length % 2 === 0 && typeof arr[i + 1][0] === 'string' && ['type', 'index', 'lastkey', 'keystep', 'limit', 'spec', 'keyword', 'startfrom', 'firstkey'].includes(arr[i + 1][0]) ? pairs(arr[i + 1]) : arr[i + 1]
  return o
}

function info (e) {
  return {
    arity: e[1],
    flags: e[2],
    firstKey: e[3],
    lastKey: e[4],
    step: e[5],
    acl: e[6],
    tips: e[7],
    keySpecs: e[8].map(ks => {
      const o = pairs(ks)
      if (o.begin_search !== undefined) o.begin_search = pairs(ks[ks.indexOf('begin_search') + 1])
      if (o.find_keys !== undefined) o.find_keys = pairs(ks[ks.indexOf('find_keys') + 1])
      for (const k of ['begin_search', 'find_keys']) if (o[k]?.spec !== undefined && Array.isArray(o[k].spec)) o[k].spec = pairs(o[k].spec)
      return o
    }),
    subcommands: Object.fromEntries(e[9].map(s => [s[0], info(s)])),
  }
}

const port = Number(process.argv[2] ?? 6379)
const sock = net.connect(port, '127.0.0.1')
let data = Buffer.alloc(0)
sock.write('*1\r\n$7\r\nCOMMAND\r\n*1\r\n$4\r\nINFO\r\n')
sock.on('data', d => {
  data = Buffer.concat([data, d])
  try {
    const [cmds, p] = parse(data, 0)
    const [infoText] = parse(data, p)
    const version = /redis_version:(\S+)/.exec(infoText)[1]
    const out = { redis_version: version, commands: Object.fromEntries(cmds.sort((a, b) => a[0] < b[0] ? -1 : 1).map(e => [e[0], info(e)])) }
    writeFileSync(new URL('../test/fixtures/redis-command-info.json', import.meta.url), JSON.stringify(out, null, 1) + '\n')
    sock.end()
  } catch (err) {
    if (!(err instanceof RangeError) && !/unexpected|Cannot read/.test(String(err))) throw err
  }
})
