#!/usr/bin/env node
// Entry point: read the configuration, start the shard workers and the listener, log one line,
// and stop cleanly on SIGINT/SIGTERM (a second signal exits at once).

import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { parseArgs, ConfigError, USAGE, errnoText } from './config.js'
import { FlashServer } from './server/server.js'
import { IoThreads } from './server/io-threads.js'
import { checkTls } from './server/tls.js'
import { bindAddresses, ListenError } from './server/listeners.js'
import { renameCommands } from './commands/table.js'
import { createLogger, initLogLevel, followLogLevel } from './log.js'
import { startHttp } from './http/observability.js'
import type { Server as HttpServer } from 'node:http'
import { setVersion } from './commands/server.js'
import { saveWords, hasSavePoints, isLoading, W_SHUTDOWN_DONE, W_SHUTDOWN_SIGINT, W_SHUTDOWN_SIGTERM, SHUTDOWN_SAVE, SHUTDOWN_NOSAVE, SHUTDOWN_FORCE } from './persistence/save-state.js'
import { replayAof } from './persistence/aof-load.js'
import { startEverysec, fsyncAofNow } from './persistence/aof-files.js'
import { applyCpulist } from './cpu-affinity.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
setVersion(pkg.version)

async function main (): Promise<void> {
  let parsed
  try {
    parsed = parseArgs(process.argv.slice(2), { env: process.env })
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flashkv: ${err.message}\n\n${USAGE}`)
      process.exit(2)
    }
    throw err
  }
  if (parsed.kind === 'help') { process.stdout.write(USAGE); return }
  if (parsed.kind === 'version') { process.stdout.write(`flashkv ${pkg.version} (redis ${'7.0.15'} compatible)\n`); return }
  const config = parsed.config
  initLogLevel(config.logLevelIndex)
  const log = createLogger(config.logLevel, config.logfile)
  followLogLevel(log)
  const renameError = renameCommands(config.renameCommands)
  if (renameError !== null) {
    process.stderr.write(`flashkv: ${config.configFile}: ${renameError}\n`)
    process.exit(2)
  }
  // Certificates and keys are checked before anything starts, as Redis refuses to start on them.
  if (config.tls.port > 0) {
    try {
      checkTls(config.tls)
    } catch (err) {
      log.fatal({ err }, 'Failed to configure TLS. Check logs for more info.')
      process.exit(1)
    }
  }
  // Before any worker starts: every thread started later inherits the main thread's mask.
  if (config.serverCpulist !== '') {
    const failure = applyCpulist(config.serverCpulist)
    if (failure !== null) log.warn({ serverCpulist: config.serverCpulist, failure }, 'server_cpulist not applied: threads may run on any CPU')
  }
  checkTcpBacklog(config.tcpBacklog, log)
  // One I/O thread: the main thread serves clients itself. More: it starts them and relays.
  const server = config.ioThreads > 1 ? new IoThreads(config, log) : new FlashServer(config, log)
  try {
    await server.start()
  } catch (err) {
    // A Redis directive's bad value (applied at start: server.ts applyRedisParams), as a config error.
    if (err instanceof ConfigError) {
      process.stderr.write(`flashkv: ${err.message}\n`)
      process.exit(2)
    }
    log.fatal({ err }, err instanceof ListenError ? err.message : 'failed to start')
    process.exit(1)
  }
  // createPidFile, once listening; a failure is only a warning, as in Redis.
  if (config.pidfile !== '') {
    try {
      writeFileSync(config.pidfile, `${process.pid}\n`)
    } catch (err) {
      log.warn(`Failed to write PID file: ${errnoText(err)}`)
    }
  }
  let http: HttpServer | null = null
  if (config.httpPort > 0) {
    try {
      // The first bind address ('-' and '*' as the listeners read them).
      http = await startHttp(server, config.httpPort, bindAddresses(config.bind)[0]?.host ?? '127.0.0.1')
    } catch (err) {
      log.fatal({ err, httpPort: config.httpPort }, 'failed to start the HTTP endpoint')
      process.exit(1)
    }
  }
  log.info({
    version: pkg.version,
    address: config.bind,
    port: server.port,
    shards: config.shards,
    ioThreads: config.ioThreads,
    ioListen: server instanceof IoThreads ? server.mode : 'single',
    replyWaitUs: config.replyWaitUs,
    serverCpulist: config.serverCpulist === '' ? undefined : config.serverCpulist,
    clientIo: server instanceof FlashServer ? server.clientIo : undefined,
    httpPort: config.httpPort,
    tlsPort: config.tls.port > 0 ? config.tls.port : undefined,
    maxmemory: config.maxmemory,
    configFile: config.configFile,
  }, 'FlashKV ready to accept connections')
  if (config.unixsocket !== '') log.info(`The server is now ready to accept connections at ${config.unixsocket}`)
  if (server instanceof IoThreads) server.open()
  // appendonly yes: the incremental files go through a loader client once the base is in.
  if (server.aofReplay.length > 0) {
    replayAof(server, server.aofReplay, log).catch(err => {
      log.fatal({ err }, 'failed to load the append only file')
      process.exit(1)
    })
  }
  startEverysec()

  let isStopping = false
  const onSignal = (sig: NodeJS.Signals): void => {
    if (isStopping) { log.warn({ signal: sig }, 'second signal: exiting now'); process.exit(1) }
    isStopping = true
    log.info({ signal: sig }, 'shutting down')
    // prepareForShutdown with shutdown-on-sigint or -sigterm's flags: with save points (or
    // SAVE), unless NOSAVE, and not after SHUTDOWN (which saved already), the dataset is saved
    // first; if that fails the server keeps running, as Redis does, unless FORCE. NOW skips the
    // wait for replicas, of which there are none.
    const i32 = saveWords().i32
    const flags = Atomics.load(i32, sig === 'SIGINT' ? W_SHUTDOWN_SIGINT : W_SHUTDOWN_SIGTERM)
    const saves = (flags & SHUTDOWN_SAVE) !== 0 || ((flags & SHUTDOWN_NOSAVE) === 0 && hasSavePoints())
    // Never while loading: half the data set would overwrite the file.
    const saving = saves && !isLoading() && Atomics.load(i32, W_SHUTDOWN_DONE) === 0 ? server.saveForShutdown() : Promise.resolve(true)
    saving.then(ok => {
      if (!ok && (flags & SHUTDOWN_FORCE) !== 0) {
        log.warn({ signal: sig }, 'Error trying to save the DB. Exit anyway.')
      } else if (!ok) {
        log.warn({ signal: sig }, 'SIGTERM received but errors trying to shut down the server, check the logs for more information')
        isStopping = false
        return
      }
      stop()
    }, () => { isStopping = false })
  }
  const stop = (): void => {
    http?.close()
    http?.closeAllConnections()
    server.stop().then(() => {
      fsyncAofNow()
      if (config.pidfile !== '') {
        log.info('Removing the pid file.')
        try { unlinkSync(config.pidfile) } catch {}
      }
      // The listener's close removed it (libuv unlinks a socket file it bound).
      if (config.unixsocket !== '') log.info('Removing the unix socket file.')
      log.info('bye')
      process.exit(0)
    }, err => {
      log.error({ err }, 'error during shutdown')
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

/** checkTcpBacklogSettings: the kernel silently caps listen(2)'s backlog at somaxconn. */
function checkTcpBacklog (backlog: number, log: { warn: (msg: string) => void }): void {
  let somaxconn: number
  try { somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'latin1').trim()) } catch { return }
  if (Number.isInteger(somaxconn) && somaxconn < backlog) {
    log.warn(`WARNING: The TCP backlog setting of ${backlog} cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of ${somaxconn}.`)
  }
}

void main()
