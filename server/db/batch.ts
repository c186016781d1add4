import type { Transaction } from 'kysely'

import type { DatabaseHandle } from './index.js'
import type { Database } from './schema.js'

/** Writes that share one SQLite transaction at most; a bound on how long one commit holds the lock. */
const MAX_BATCH = 256

interface QueuedWrite {
  work: (trx: Transaction<Database>) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

class WriteBatcher {
  private queue: QueuedWrite[] = []
  private flushing = false

  constructor(private readonly database: DatabaseHandle) {}

  enqueue<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (!this.flushing) {
        this.flushing = true
        // Writes queued by requests parsed in the same turn of the event loop join this batch.
        setImmediate(() => void this.flush())
      }
    })
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH)
        try {
          const results = await this.database.db.transaction().execute(async (trx) => {
            const out: unknown[] = []
            for (const write of batch) out.push(await write.work(trx))
            return out
          })
          batch.forEach((write, index) => write.resolve(results[index]))
        } catch {
          // One failing write must not fail the others: run each alone, so only its own caller sees the error.
          for (const write of batch) {
            try {
              write.resolve(await this.database.db.transaction().execute(write.work))
            } catch (error) {
              write.reject(error)
            }
          }
        }
      }
    } finally {
      this.flushing = false
    }
  }
}

const batchers = new WeakMap<DatabaseHandle, WriteBatcher>()

/**
 * Runs `work` in a write transaction. On SQLite, concurrent writes share one transaction, so one
 * commit, and its fsync under synchronous=FULL, covers many requests; each caller still gets its
 * own result or error, and its write is durable when the promise resolves. `work` must touch the
 * database only through `trx`, because a failed batch is rolled back and each write runs again
 * alone. On PostgreSQL each write gets its own transaction.
 */
export function batchedWrite<T>(database: DatabaseHandle, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (database.dialect !== 'sqlite') return database.db.transaction().execute(work)
  let batcher = batchers.get(database)
  if (!batcher) {
    batcher = new WriteBatcher(database)
    batchers.set(database, batcher)
  }
  return batcher.enqueue(work)
}
