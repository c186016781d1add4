import type { Kysely, Selectable } from 'kysely'
import type { z } from 'zod'

import { parseDuration } from '../shared/duration.js'
import type { AuditListQuery } from '../shared/schemas.js'
import type { AuditEventsTable, Database } from './db/schema.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { invalid } from './errors.js'

export type AuditFilters = z.output<typeof AuditListQuery>

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/** Checks the date part of an ISO 8601 value exists, because Date.parse reads 2026-02-30 as March 2. */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number)
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** Turns an ISO 8601 date or a duration counted back from `reference` into an ISO timestamp. */
export function parseTimeBound(field: string, value: string, reference = Date.now()): string {
  const duration = parseDuration(value)
  if (duration !== null) return new Date(reference - duration).toISOString()
  const time = ISO_DATE.test(value) && isCalendarDate(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(time)) {
    throw invalid(field, `"${value}" is neither an ISO 8601 date (2026-12-01T09:00:00Z) nor a duration (2h, 7d)`)
  }
  return new Date(time).toISOString()
}

/**
 * Reads one page of a workspace's audit log, newest first. The actor is a user id, a token id or
 * an email address. An action ending in `.` or `*` matches every action with that prefix.
 */
export async function listAuditEvents(db: Kysely<Database>, workspaceId: string, filters: AuditFilters) {
  let query = db.selectFrom('audit_events').selectAll().where('workspace_id', '=', workspaceId)

  if (filters.actor !== undefined) {
    const actor = filters.actor
    if (actor.includes('@')) {
      const email = actor.toLowerCase()
      const users = await db.selectFrom('users').select('id').where('email', '=', email).execute()
      const ids = users.map((user) => user.id)
      query = query
        .where('actor_type', '!=', 'token')
        .where((eb) => (ids.length > 0 ? eb.or([eb('actor_id', 'in', ids), eb('actor_label', '=', email)]) : eb('actor_label', '=', email)))
    } else if (/^(usr|tok)_\w+$/.test(actor)) {
      query = query.where('actor_id', '=', actor)
    } else {
      throw invalid('actor', `"${actor}" must be a user id (usr_…), a token id (tok_…) or an email address`)
    }
  }

  if (filters.action !== undefined) {
    const action = filters.action
    if (action.endsWith('*') || action.endsWith('.')) {
      const prefix = action.endsWith('*') ? action.slice(0, -1) : action
      // substr() rather than LIKE: LIKE ignores case on SQLite and treats _ as a wildcard.
      query = query.where((eb) => eb(eb.fn<string>('substr', ['action', eb.lit(1), eb.lit(prefix.length)]), '=', prefix))
    } else {
      query = query.where('action', '=', action)
    }
  }

  const reference = Date.now()
  const since = filters.since === undefined ? undefined : parseTimeBound('since', filters.since, reference)
  const until = filters.until === undefined ? undefined : parseTimeBound('until', filters.until, reference)
  if (since !== undefined && until !== undefined && since > until) {
    throw invalid('since', `"${filters.since}" (${since}) is later than until "${filters.until}" (${until}), so no event can match`)
  }
  if (since !== undefined) query = query.where('created_at', '>=', since)
  if (until !== undefined) query = query.where('created_at', '<', until)

  if (filters.cursor !== undefined) {
    const { createdAt, id } = decodeCursor(filters.cursor)
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
    )
  }

  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filters.limit + 1)
    .execute()
  const page = rows.slice(0, filters.limit)
  const more = rows.length > filters.limit
  return { data: page.map(serializeAuditEvent), next_cursor: more ? encodeCursor(page[page.length - 1]) : null }
}

export function serializeAuditEvent(row: Selectable<AuditEventsTable>) {
  return {
    id: row.id,
    created_at: row.created_at,
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    actor_label: row.actor_label,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    address: row.address,
    request_id: row.request_id,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
  }
}
