import type { Expression, ExpressionBuilder, SqlBool } from 'kysely'

import { FINAL_STATES, STATES, type State } from '../../shared/access-tokens.js'
import { ENDPOINTS, findEndpoint } from '../../shared/endpoints.js'
import type { Database } from '../db/schema.js'
import type { DatabaseHandle } from '../db/index.js'
import { ApiError } from '../errors.js'
import type { AccessTokenRow } from './tables.js'

export interface LogFilters {
  workspaceId: string
  mode: 'test' | 'live'
  applicationId?: string
  state?: State
  endpointId?: string
  requestId?: string
  externalUserId?: string
  /** Inclusive lower bound on created_at, ISO 8601 in UTC. */
  since?: string
  /** Exclusive upper bound on created_at, ISO 8601 in UTC. */
  until?: string
}

type TokensBuilder = ExpressionBuilder<Database, 'access_tokens'>

/** Matches rows in the state the API returns, with EXPIRED derived from expires_at at `time`. */
function stateCondition(eb: TokensBuilder, state: State, time: string): Expression<SqlBool> {
  const notExpired = eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', time)])
  if (state === 'EXPIRED') {
    return eb.and([eb('expires_at', '<=', time), eb('state', 'not in', [...FINAL_STATES])])
  }
  if (FINAL_STATES.includes(state)) return eb('state', '=', state)
  return eb.and([eb('state', '=', state), notExpired])
}

function filtered(database: DatabaseHandle, filters: LogFilters, time: string) {
  let query = database.db
    .selectFrom('access_tokens')
    .where('workspace_id', '=', filters.workspaceId)
    .where('mode', '=', filters.mode)
  if (filters.applicationId) query = query.where('application_id', '=', filters.applicationId)
  if (filters.endpointId) query = query.where('endpoint_id', '=', filters.endpointId)
  if (filters.requestId) query = query.where('request_id', '=', filters.requestId)
  if (filters.externalUserId) query = query.where('external_user_id', '=', filters.externalUserId)
  if (filters.since) query = query.where('created_at', '>=', filters.since)
  if (filters.until) query = query.where('created_at', '<', filters.until)
  const state = filters.state
  if (state) query = query.where((eb) => stateCondition(eb, state, time))
  return query
}

export function encodeCursor(row: Pick<AccessTokenRow, 'created_at' | 'id'>): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url')
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return value as [string, string]
    }
  } catch {
    // Reported below with the field name.
  }
  throw new ApiError('validation_failed', 'cursor: is not a cursor returned by this list; start again without it', {
    field: 'cursor',
  })
}

/** Lists rows newest first, one keyset page at a time: never an offset, so deep pages cost what the first does. */
export async function listAccessTokens(
  database: DatabaseHandle,
  filters: LogFilters,
  page: { limit: number; cursor?: string },
  time: string,
): Promise<{ rows: AccessTokenRow[]; nextCursor: string | null }> {
  let query = filtered(database, filters, time).selectAll()
  if (page.cursor) {
    const [createdAt, id] = decodeCursor(page.cursor)
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(createdAt, id)))
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute()
  const more = rows.length > page.limit
  const pageRows = more ? rows.slice(0, page.limit) : rows
  return { rows: pageRows, nextCursor: more ? encodeCursor(pageRows[pageRows.length - 1]) : null }
}

export interface Analytics {
  total: number
  by_state: Record<State, number>
  by_endpoint: { endpoint_id: string; label: string | null; payer: string | null; created: number; exchanged: number; success_rate: number | null }[]
  by_day: { date: string; count: number }[]
}

/**
 * Counts rows by state, endpoint and day. The grouping follows the analytics index, so the scan
 * streams without a sort. Rows past their expiry are counted per group and moved to EXPIRED here.
 * The success rate of an endpoint is its rows that ever reached EXCHANGED over its rows created.
 */
export async function accessTokenAnalytics(database: DatabaseHandle, filters: LogFilters, time: string): Promise<Analytics> {
  let query = database.db
    .selectFrom('access_tokens')
    .where('workspace_id', '=', filters.workspaceId)
    .where('mode', '=', filters.mode)
  if (filters.since) query = query.where('created_day', '>=', filters.since.slice(0, 10)).where('created_at', '>=', filters.since)
  if (filters.until) query = query.where('created_day', '<=', filters.until.slice(0, 10)).where('created_at', '<', filters.until)
  if (filters.applicationId) query = query.where('application_id', '=', filters.applicationId)
  const groups = await query
    .select((eb) => [
      'created_day',
      'endpoint_id',
      'state',
      eb.fn.countAll<number | string>().as('created'),
      eb.fn.count<number | string>('exchanged_at').as('exchanged'),
      eb.fn
        .sum<number | string | null>(eb.case().when('expires_at', '<=', time).then(1).else(0).end())
        .as('past_expiry'),
    ])
    .groupBy(['created_day', 'endpoint_id', 'state'])
    .execute()

  const byState = Object.fromEntries(STATES.map((state) => [state, 0])) as Record<State, number>
  const byEndpoint = new Map<string, { created: number; exchanged: number }>()
  const byDay = new Map<string, number>()
  let total = 0
  for (const group of groups) {
    const created = Number(group.created)
    const expired = FINAL_STATES.includes(group.state) ? 0 : Number(group.past_expiry ?? 0)
    total += created
    byState[group.state] += created - expired
    byState.EXPIRED += expired
    const endpoint = byEndpoint.get(group.endpoint_id) ?? { created: 0, exchanged: 0 }
    endpoint.created += created
    endpoint.exchanged += Number(group.exchanged)
    byEndpoint.set(group.endpoint_id, endpoint)
    byDay.set(group.created_day, (byDay.get(group.created_day) ?? 0) + created)
  }
  const order = new Map(ENDPOINTS.map((endpoint, index) => [endpoint.id, index]))
  return {
    total,
    by_state: byState,
    by_endpoint: [...byEndpoint.entries()]
      .sort(([a], [b]) => (order.get(a) ?? 1e6) - (order.get(b) ?? 1e6) || a.localeCompare(b))
      .map(([id, counts]) => ({
        endpoint_id: id,
        label: findEndpoint(id)?.label ?? null,
        payer: findEndpoint(id)?.payer ?? null,
        created: counts.created,
        exchanged: counts.exchanged,
        success_rate: counts.created === 0 ? null : Math.round((counts.exchanged / counts.created) * 10_000) / 10_000,
      })),
    by_day: [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([date, count]) => ({ date, count })),
  }
}

export interface Change {
  id: number
  created_at: string
  row: AccessTokenRow
}

/** Returns the last change id of a workspace and mode, where a new tail starts. */
export async function latestChangeId(database: DatabaseHandle, workspaceId: string, mode: 'test' | 'live'): Promise<number> {
  const row = await database.db
    .selectFrom('access_token_changes')
    .select((eb) => eb.fn.max('id').as('id'))
    .where('workspace_id', '=', workspaceId)
    .where('mode', '=', mode)
    .executeTakeFirst()
  return Number(row?.id ?? 0)
}

/**
 * Reads up to `limit` changes after `after`, in id order, and keeps those that match the filters.
 * Filters on columns of the change table run in SQL; the others run on the row snapshot. `lastId`
 * is the last change read, matching or not, and `full` is true when more may follow.
 */
export async function readChanges(
  database: DatabaseHandle,
  filters: LogFilters,
  after: number,
  limit: number,
): Promise<{ changes: Change[]; lastId: number; full: boolean }> {
  let query = database.db
    .selectFrom('access_token_changes')
    .select(['id', 'created_at', 'state', 'snapshot'])
    .where('workspace_id', '=', filters.workspaceId)
    .where('mode', '=', filters.mode)
    .where('id', '>', after)
  if (filters.applicationId) query = query.where('application_id', '=', filters.applicationId)
  if (filters.endpointId) query = query.where('endpoint_id', '=', filters.endpointId)
  const rows = await query.orderBy('id').limit(limit).execute()
  const changes: Change[] = []
  for (const change of rows) {
    const row = JSON.parse(change.snapshot) as AccessTokenRow
    if (!matchesSnapshot(row, filters, change.state)) continue
    changes.push({ id: Number(change.id), created_at: change.created_at, row })
  }
  const lastId = rows.length > 0 ? Number(rows[rows.length - 1].id) : after
  return { changes, lastId, full: rows.length === limit }
}

function matchesSnapshot(row: AccessTokenRow, filters: LogFilters, state: string): boolean {
  if (filters.state && filters.state !== state) return false
  if (filters.requestId && row.request_id !== filters.requestId) return false
  if (filters.externalUserId && row.external_user_id !== filters.externalUserId) return false
  if (filters.since && row.created_at < filters.since) return false
  if (filters.until && row.created_at >= filters.until) return false
  return true
}
