import type { Kysely } from 'kysely'
import type { Logger } from 'pino'

import { LOG_RETENTION_DAYS } from '../../shared/schemas.js'
import type { Database } from '../db/schema.js'
import { hit } from '../throttle.js'
import { addMs, now } from '../time.js'

const DAY_MS = 86_400_000

/** A shortened retention deletes nothing for this long, so a mistake can be undone. */
export const SHORTENING_GRACE_MS = 7 * DAY_MS

/** Rows deleted per statement, so a sweep never holds the write lock for long. */
const SWEEP_BATCH = 2000

export interface Retention {
  days: number
  /** The retention applied now: the longer previous one during a shortening's grace period. */
  effective_days: number
  /** When a pending shortening starts deleting rows, or null. */
  shortening_takes_effect_at: string | null
}

function describe(row: { days: number; previous_days: number | null; changed_at: string } | undefined, time: string): Retention {
  if (!row) return { days: LOG_RETENTION_DAYS.default, effective_days: LOG_RETENTION_DAYS.default, shortening_takes_effect_at: null }
  const takesEffectAt = addMs(row.changed_at, SHORTENING_GRACE_MS)
  const pending = row.previous_days !== null && row.previous_days > row.days && takesEffectAt > time
  return {
    days: row.days,
    effective_days: pending ? row.previous_days! : row.days,
    shortening_takes_effect_at: pending ? takesEffectAt : null,
  }
}

export async function readRetention(db: Kysely<Database>, workspaceId: string, time = now()): Promise<Retention> {
  const row = await db.selectFrom('log_retention').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst()
  return describe(row, time)
}

/**
 * Sets a workspace's retention. Lengthening applies at once; shortening keeps the longer
 * retention in force for 7 days. Returns the retention before and after.
 */
export async function changeRetention(
  db: Kysely<Database>,
  workspaceId: string,
  days: number,
  time = now(),
): Promise<{ before: Retention; after: Retention }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('log_retention').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst()
    const before = describe(row, time)
    let next: { days: number; previous_days: number | null; changed_at: string }
    if (days < before.effective_days) {
      // A second shortening within the grace period keeps the original, longer retention pending.
      next = { days, previous_days: before.effective_days, changed_at: before.shortening_takes_effect_at ? row!.changed_at : time }
    } else {
      next = { days, previous_days: null, changed_at: time }
    }
    await trx
      .insertInto('log_retention')
      .values({ workspace_id: workspaceId, ...next })
      .onConflict((oc) => oc.column('workspace_id').doUpdateSet(next))
      .execute()
    return { before, after: describe(next, time) }
  })
}

/**
 * Deletes access tokens older than each workspace's effective retention, with their changes.
 * Returns the number of rows deleted.
 */
export async function sweepExpiredLogs(db: Kysely<Database>, time = now()): Promise<number> {
  const workspaces = await db
    .selectFrom('workspaces')
    .leftJoin('log_retention', 'log_retention.workspace_id', 'workspaces.id')
    .select(['workspaces.id', 'log_retention.days', 'log_retention.previous_days', 'log_retention.changed_at'])
    .execute()
  let deleted = 0
  for (const workspace of workspaces) {
    const retention = describe(
      workspace.days === null ? undefined : { days: workspace.days, previous_days: workspace.previous_days, changed_at: workspace.changed_at! },
      time,
    )
    const cutoff = addMs(time, -retention.effective_days * DAY_MS)
    for (const mode of ['test', 'live'] as const) {
      deleted += await deleteOlderThan(db, workspace.id, mode, cutoff)
    }
  }
  return deleted
}

async function deleteOlderThan(db: Kysely<Database>, workspaceId: string, mode: 'test' | 'live', cutoff: string): Promise<number> {
  let deleted = 0
  for (;;) {
    const ids = (
      await db
        .selectFrom('access_tokens')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('mode', '=', mode)
        .where('created_at', '<', cutoff)
        .limit(SWEEP_BATCH)
        .execute()
    ).map((row) => row.id)
    if (ids.length === 0) return deleted
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('access_token_changes').where('access_token_id', 'in', ids).execute()
      await trx.deleteFrom('access_tokens').where('id', 'in', ids).execute()
    })
    deleted += ids.length
  }
}

/** Changes older than this are dropped: a tail resumes within this window. */
const CHANGE_KEEP_MS = 7 * DAY_MS

async function pruneChanges(db: Kysely<Database>, time: string): Promise<void> {
  await db.deleteFrom('access_token_changes').where('created_at', '<', addMs(time, -CHANGE_KEEP_MS)).execute()
}

/**
 * Runs the sweep every `intervalMs`. Server processes share the database, so a shared throttle
 * lets one process per interval do the work.
 */
export function startLogSweeper(db: Kysely<Database>, logger: Logger, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<void> | null = null
  let stopped = false
  const sweep = async () => {
    const turn = await hit(db, 'sweeper:access-token-logs', 1, intervalMs)
    if (!turn.allowed) return
    const time = now()
    const deleted = await sweepExpiredLogs(db, time)
    await pruneChanges(db, time)
    if (deleted > 0) logger.info({ deleted }, 'deleted access tokens past their retention')
  }
  const tick = () => {
    if (stopped) return
    running ??= sweep()
      .catch((error) => logger.error({ err: error }, 'access token log sweep failed'))
      .finally(() => (running = null))
  }
  const timer = setInterval(tick, intervalMs)
  timer.unref()
  setTimeout(tick, 1000).unref()
  return {
    stop: async () => {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
