import type { Kysely } from 'kysely'

import { batchedWrite } from './db/batch.js'
import type { DatabaseHandle } from './db/index.js'
import { precompile } from './db/precompiled.js'
import type { Database } from './db/schema.js'
import { now } from './time.js'

export interface ThrottleResult {
  allowed: boolean
  /** Seconds until the window ends, for Retry-After. */
  retryAfter: number
}

/**
 * Adds `hits` to the count of `key` in the window starting at `window`, or starts the window with
 * them when the stored count belongs to an earlier one, and returns the new count.
 */
const addHits = precompile<{ key: string; window: string; hits: number }, { count: number }>((db, param) =>
  db
    .insertInto('rate_limits')
    .values({ key: param('key'), window_start: param('window'), count: param('hits') })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        count: eb
          .case()
          .when('rate_limits.window_start', '=', param('window'))
          .then(eb('rate_limits.count', '+', param('hits')))
          .else(param('hits'))
          .end(),
        window_start: param('window'),
      })),
    )
    .returning('count'),
)

function windowOf(timeMs: number, windowMs: number): string {
  return new Date(Math.floor(timeMs / windowMs) * windowMs).toISOString()
}

function secondsLeft(window: string, windowMs: number, timeMs: number): number {
  return Math.ceil((Date.parse(window) + windowMs - timeMs) / 1000)
}

/**
 * Counts one hit against `key` in a fixed window, in the database so every server process
 * shares the count. Returns whether the hit is within `limit`.
 */
export async function hit(
  db: Kysely<Database>,
  key: string,
  limit: number,
  windowMs: number,
): Promise<ThrottleResult> {
  const timeMs = Date.parse(now())
  const window = windowOf(timeMs, windowMs)
  const { rows } = await addHits.execute(db, { key, window, hits: 1 })
  return { allowed: rows[0].count <= limit, retryAfter: secondsLeft(window, windowMs, timeMs) }
}

/** How long a process trusts the shared count it last read before it waits for a fresh one. */
export const SHARED_COUNT_FRESH_MS = 1000

interface KeyCount {
  window: string
  /** The shared count as last read from the database, hits of every process included. */
  known: number
  /** This process's hits being written now. */
  writing: number
  /** This process's hits not yet written. */
  pending: number
  /** Whether a write that takes the pending hits is queued. */
  queued: boolean
  readAt: number
}

/**
 * A per-key throttle for hot paths, shared across processes through the same rows as `hit()`
 * without a commit of its own on each request. A hit is decided against the shared count this
 * process last read plus its own hits since, and its increment joins the next batched commit
 * (on SQLite the one that also writes the request's rows), which returns the fresh shared count.
 * While the count read is older than `SHARED_COUNT_FRESH_MS`, and at the start of each window, a
 * hit instead waits for its own increment like `hit()`. So a process sees every hit of its own at
 * once, and another process's hits within one commit of its own while it is busy, or within
 * `SHARED_COUNT_FRESH_MS` at most: across N processes a key can overshoot its limit by the hits
 * that the other processes admit in that time, and never by more.
 */
export class SharedThrottle {
  private readonly counts = new Map<string, KeyCount>()

  constructor(private readonly database: DatabaseHandle) {}

  async hit(key: string, limit: number, windowMs: number): Promise<ThrottleResult> {
    const timeMs = Date.parse(now())
    const window = windowOf(timeMs, windowMs)
    const retryAfter = secondsLeft(window, windowMs, timeMs)
    let entry = this.counts.get(key)
    if (!entry || entry.window !== window || timeMs - entry.readAt > SHARED_COUNT_FRESH_MS) {
      const found = await batchedWrite(this.database, (trx) => addHits.execute(trx, { key, window, hits: 1 }))
      const count = found.rows[0].count
      entry = this.counts.get(key)
      if (!entry || entry.window !== window) {
        entry = { window, known: count, writing: 0, pending: 0, queued: false, readAt: timeMs }
        this.counts.set(key, entry)
      } else {
        entry.known = Math.max(entry.known, count)
        entry.readAt = timeMs
      }
      this.forgetEnded(window)
      return { allowed: count <= limit, retryAfter }
    }
    const allowed = entry.known + entry.writing + entry.pending + 1 <= limit
    entry.pending += 1
    if (!entry.queued) this.write(key, entry)
    return { allowed, retryAfter }
  }

  /**
   * Queues a write of the pending hits of `entry` in the next batched commit. The hits are taken
   * when the commit runs, so every hit counted before then joins it.
   */
  private write(key: string, entry: KeyCount): void {
    entry.queued = true
    const { window } = entry
    let hits: number | undefined
    batchedWrite(this.database, (trx) => {
      // A failed batch runs each write again alone, with the hits it took the first time.
      if (hits === undefined) {
        hits = entry.pending
        entry.pending = 0
        entry.writing += hits
        entry.queued = false
      }
      return addHits.execute(trx, { key, window, hits })
    }).then(
      (found) => {
        entry.known = found.rows[0].count
        entry.readAt = Date.now()
        entry.writing -= hits ?? 0
      },
      () => {
        // The hits stay counted here and are written with the next ones. The next hit waits for
        // its own write, so a database that keeps failing fails that request and is logged there.
        entry.queued = false
        entry.pending += hits ?? 0
        entry.writing -= hits ?? 0
        entry.readAt = 0
      },
    )
  }

  private forgetEnded(window: string): void {
    if (this.counts.size < 1000) return
    for (const [key, entry] of this.counts) {
      if (entry.window < window && entry.writing === 0 && entry.pending === 0 && !entry.queued) this.counts.delete(key)
    }
  }
}

const throttles = new WeakMap<DatabaseHandle, SharedThrottle>()

/** Returns the shared throttle of `database`, one for each database in a process. */
export function sharedThrottle(database: DatabaseHandle): SharedThrottle {
  let throttle = throttles.get(database)
  if (!throttle) {
    throttle = new SharedThrottle(database)
    throttles.set(database, throttle)
  }
  return throttle
}

/** Returns the hits counted against `key` in the current window, without adding one. */
export async function peek(db: Kysely<Database>, key: string, windowMs: number): Promise<number> {
  const windowStart = new Date(Math.floor(Date.now() / windowMs) * windowMs).toISOString()
  const row = await db
    .selectFrom('rate_limits')
    .select(['count', 'window_start'])
    .where('key', '=', key)
    .executeTakeFirst()
  return row && row.window_start === windowStart ? row.count : 0
}

export async function reset(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute()
}
