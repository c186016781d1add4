import { serve, type ServerType } from '@hono/node-server'

import { createApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import type { Services } from './context.js'
import { DatabaseSetupError, migrate, openDatabase } from './db/index.js'
import { createLogger } from './logger.js'
import { changeFeed } from './logs/feed.js'
import { startLogSweeper } from './logs/retention.js'
import { MailSender } from './mail.js'

const SHUTDOWN_GRACE_MS = 3000

export interface RunningServer {
  url: string
  services: Services
  close(): Promise<void>
}

/** Opens the database, runs migrations and serves the API. */
export async function startServer(config: Config): Promise<RunningServer> {
  const logger = createLogger(config.logLevel)
  const database = await openDatabase(config.databaseUrl)
  await migrate(database.db)
  const mail = new MailSender(database.db, config, logger)
  const services: Services = { config, database, logger, notifyMail: () => mail.wake() }
  const app = createApp(services)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(started))
    started.once('error', reject)
  })
  mail.start()
  const feed = changeFeed(database)
  if (database.postgresUrl) await feed.listen(database.postgresUrl, logger)
  const sweeper = startLogSweeper(database.db, logger, config.logSweepIntervalMs)
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
  logger.info(
    { url, database: database.dialect, file: database.file ?? undefined },
    'server listening',
  )
  return {
    url,
    services,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Open `logs tail` streams end when the feed closes; their clients reconnect to another
      // process or after a restart. Connections still open after the grace period are cut.
      await feed.close()
      const cut = setTimeout(() => {
        if ('closeAllConnections' in server) server.closeAllConnections()
      }, SHUTDOWN_GRACE_MS)
      await closed
      clearTimeout(cut)
      await sweeper.stop()
      await mail.stop()
      await database.close()
      logger.info('server stopped')
    },
  }
}

/** Runs the server until SIGINT or SIGTERM; configuration errors exit with status 2. */
export async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`flexpa-server: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  let running: RunningServer
  try {
    running = await startServer(config)
  } catch (error) {
    const message = error instanceof DatabaseSetupError || (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? (error as Error).message
      : String((error as Error).stack ?? error)
    process.stderr.write(`flexpa-server: failed to start: ${message}\n`)
    process.exit(1)
  }
  process.stdout.write(`Flexpa API listening on ${running.url}\n`)
  const stop = async () => {
    await running.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
