import type { Kysely } from 'kysely'

import type { Database } from './db/schema.js'
import { now } from './time.js'

export interface ThrottleResult {
  allowed: boolean
  /** Seconds until the window ends, for Retry-After. */
  retryAfter: number
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
  const time = now()
  const windowStart = new Date(Math.floor(Date.parse(time) / windowMs) * windowMs).toISOString()
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        count: eb
          .case()
          .when('rate_limits.window_start', '=', windowStart)
          .then(eb('rate_limits.count', '+', 1))
          .else(1)
          .end(),
        window_start: windowStart,
      })),
    )
    .returning('count')
    .executeTakeFirstOrThrow()
  const retryAfter = Math.ceil((Date.parse(windowStart) + windowMs - Date.parse(time)) / 1000)
  return { allowed: row.count <= limit, retryAfter }
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
