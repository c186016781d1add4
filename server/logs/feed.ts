import { EventEmitter } from 'node:events'

import type pg from 'pg'
import type { Logger } from 'pino'

import type { DatabaseHandle } from '../db/index.js'

/** PostgreSQL channel that every server process notifies, in the writing transaction, after a change. */
export const CHANGE_CHANNEL = 'flexpa_access_token_changes'

const RELISTEN_DELAY_MS = 1000

/**
 * Wakes `logs tail` streams when an access token changes. Writes in this process wake them at
 * once; on PostgreSQL a LISTEN connection also wakes them for writes of other processes. Streams
 * poll the change table as well, so a missed wake-up delays an event but never loses it.
 */
export class ChangeFeed {
  private readonly emitter = new EventEmitter().setMaxListeners(0)
  private client: pg.Client | null = null
  private closed = false

  /** Wakes every waiting stream of this process. */
  notify(): void {
    this.emitter.emit('change')
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Resolves at the next change, after `timeoutMs`, or when the feed closes. */
  wait(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.emitter.off('change', done)
        this.emitter.off('close', done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.emitter.once('change', done)
      this.emitter.once('close', done)
    })
  }

  /** Listens for changes written by other server processes on the same PostgreSQL database. */
  async listen(postgresUrl: string, logger: Logger): Promise<void> {
    const { default: pgModule } = await import('pg')
    const url = new URL(postgresUrl)
    url.searchParams.delete('schema')
    const connect = async () => {
      if (this.closed) return
      const client = new pgModule.Client({ connectionString: url.toString() })
      client.on('notification', () => this.notify())
      client.on('error', (error) => {
        logger.warn({ err: error }, 'change feed connection failed; listening again')
        client.end().catch(() => undefined)
        if (this.client === client) this.client = null
        setTimeout(() => void connect().catch(() => undefined), RELISTEN_DELAY_MS).unref()
      })
      await client.connect()
      await client.query(`listen ${CHANGE_CHANNEL}`)
      this.client = client
      // Changes written while the connection was down are found by the streams' next poll.
      this.notify()
    }
    await connect()
  }

  /** Ends every waiting stream and the LISTEN connection. */
  async close(): Promise<void> {
    this.closed = true
    this.emitter.emit('close')
    const client = this.client
    this.client = null
    await client?.end().catch(() => undefined)
  }
}

const feeds = new WeakMap<DatabaseHandle, ChangeFeed>()

/** Returns the change feed of a database, creating it on first use. */
export function changeFeed(database: DatabaseHandle): ChangeFeed {
  let feed = feeds.get(database)
  if (!feed) {
    feed = new ChangeFeed()
    feeds.set(database, feed)
  }
  return feed
}
