import { Hono, type Context } from 'hono'
import { streamSSE, type SSEStreamingApi } from 'hono/streaming'
import type { z } from 'zod'

import { ENDPOINTS, resolveEndpoint } from '../../shared/endpoints.js'
import { AnalyticsQuery, LogListQuery, LogStreamQuery, LogTriggerBody } from '../../shared/schemas.js'
import { access, holdsPermission, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { ApiError, invalid } from '../errors.js'
import { changeFeed } from '../logs/feed.js'
import { accessTokenAnalytics, latestChangeId, listAccessTokens, readChanges, type LogFilters } from '../logs/query.js'
import { carriesPhi, serializeAccessToken } from '../logs/serialize.js'
import type { AccessTokenRow } from '../logs/tables.js'
import { sandboxEndpoint, triggerAccessToken } from '../logs/trigger.js'
import { addMs, now } from '../time.js'
import { jsonBody, queryParams } from '../validate.js'
import { findApplication } from './applications.js'

const BASE = '/workspaces/:workspace'

/** A stream re-reads the change table at least this often, even without a wake-up. */
const STREAM_POLL_MS = 1000
/** A comment line keeps idle connections open through proxies. */
const STREAM_HEARTBEAT_MS = 15_000
const STREAM_BATCH = 500
const ANALYTICS_DEFAULT_DAYS = 30

type FilterQuery = Partial<Pick<z.output<typeof LogListQuery>, 'app' | 'state' | 'endpoint' | 'request_id' | 'external_user_id' | 'since' | 'until'>> & {
  mode: 'test' | 'live'
}

/** Turns the query's filters into ids and UTC times; filtering by a PHI field needs phi:read. */
async function resolveFilters(c: Context<AppEnv>, query: FilterQuery): Promise<LogFilters> {
  const { workspace } = workspaceAccess(c)
  const filters: LogFilters = { workspaceId: workspace.id, mode: query.mode }
  if (query.app) filters.applicationId = (await findApplication(c, query.app)).id
  if (query.endpoint) {
    const endpoint = resolveEndpoint(query.endpoint, query.mode)
    if (!endpoint) throw invalid('endpoint', `no endpoint is named or numbered "${query.endpoint}"; see flexpa endpoints list`)
    filters.endpointId = endpoint.id
  }
  if (query.external_user_id) {
    if (!holdsPermission(c, 'phi:read')) {
      throw new ApiError('permission_denied', 'filtering by external user id requires the phi:read permission', {
        permission: 'phi:read',
      })
    }
    filters.externalUserId = query.external_user_id
  }
  if (query.state) filters.state = query.state
  if (query.request_id) filters.requestId = query.request_id
  if (query.since) filters.since = new Date(query.since).toISOString()
  if (query.until) filters.until = new Date(query.until).toISOString()
  return filters
}

/** Records that a response carried PHI: who (the request's principal), when, and which rows; never the values. */
async function auditPhi(c: Context<AppEnv>, via: string, rows: AccessTokenRow[]): Promise<void> {
  const ids = rows.filter(carriesPhi).map((row) => row.id)
  if (ids.length === 0) return
  await recordAudit(c, {
    workspaceId: workspaceAccess(c).workspace.id,
    action: 'phi.read',
    targetType: 'access_token',
    targetId: ids.length === 1 ? ids[0] : undefined,
    data: { via, access_token_ids: ids },
  })
}

function lastEventId(c: Context<AppEnv>, after: string | undefined): number | null {
  const header = c.req.header('last-event-id')
  const value = header ?? after
  if (value === undefined || value === '') return null
  if (!/^\d{1,18}$/.test(value)) throw invalid('Last-Event-ID', `"${value}" is not an event id sent by this stream`)
  return Number(value)
}

export function logRoutes() {
  const app = new Hono<AppEnv>()

  app.get(`${BASE}/endpoints`, access('member'), (c) => {
    const mode = c.req.query('mode')
    const data = ENDPOINTS.filter((endpoint) => mode === undefined || endpoint.mode === mode)
    return c.json({ data, next_cursor: null })
  })

  app.get(`${BASE}/logs`, access('analytics:read'), queryParams(LogListQuery), async (c) => {
    const query = c.req.valid('query')
    const filters = await resolveFilters(c, query)
    const phi = holdsPermission(c, 'phi:read')
    const time = now()
    const page = await listAccessTokens(c.get('services').database, filters, { limit: query.limit, cursor: query.cursor }, time)
    if (phi) await auditPhi(c, 'logs.list', page.rows)
    return c.json({
      data: page.rows.map((row) => serializeAccessToken(row, { phi, time })),
      next_cursor: page.nextCursor,
    })
  })

  app.get(`${BASE}/logs/stream`, access('analytics:read'), queryParams(LogStreamQuery), async (c) => {
    const query = c.req.valid('query')
    const filters = await resolveFilters(c, query)
    const { database } = c.get('services')
    const resumeAfter = lastEventId(c, query.after)
    const start = resumeAfter ?? (await latestChangeId(database, filters.workspaceId, filters.mode))
    return streamSSE(c, async (stream) => {
      try {
        await streamChanges(c, stream, filters, start)
      } catch (error) {
        // Caught here so that no internal message reaches the client; it reconnects and resumes.
        c.get('logger').error({ err: error, workspace_id: filters.workspaceId }, 'access token stream failed')
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ code: 'stream_failed', message: 'the stream failed; reconnect to resume' }) })
      }
    })
  })

  app.get(`${BASE}/logs/:id`, access('analytics:read'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const id = c.req.param('id')
    const row = await c
      .get('services')
      .database.db.selectFrom('access_tokens')
      .selectAll()
      .where('workspace_id', '=', workspace.id)
      .where('id', '=', id)
      .executeTakeFirst()
    if (!row) throw new ApiError('not_found', `access token "${id}" was not found in this workspace`)
    const phi = holdsPermission(c, 'phi:read')
    if (phi) await auditPhi(c, 'logs.show', [row])
    return c.json(serializeAccessToken(row, { phi }))
  })

  app.post(`${BASE}/logs/trigger`, access('api-keys-test:manage'), jsonBody(LogTriggerBody), async (c) => {
    const input = c.req.valid('json')
    const application = await findApplication(c, input.app)
    const endpoint = sandboxEndpoint(input.endpoint)
    const steps = await triggerAccessToken(
      c.get('services').database,
      { workspaceId: application.workspace_id, applicationId: application.id, requestId: c.get('requestId') },
      input.outcome,
      endpoint,
    )
    const final = steps[steps.length - 1]
    await recordAudit(c, {
      workspaceId: application.workspace_id,
      action: 'logs.trigger',
      targetType: 'access_token',
      targetId: final.id,
      data: { application_id: application.id, outcome: input.outcome, endpoint_id: endpoint.id },
    })
    const phi = holdsPermission(c, 'phi:read')
    if (phi) await auditPhi(c, 'logs.trigger', [final])
    return c.json(
      {
        outcome: input.outcome,
        states: steps.map((step) => step.state),
        access_token: serializeAccessToken(final, { phi }),
      },
      201,
    )
  })

  app.get(`${BASE}/analytics`, access('analytics:read'), queryParams(AnalyticsQuery), async (c) => {
    const query = c.req.valid('query')
    const time = now()
    const until = query.until ? new Date(query.until).toISOString() : time
    const since = query.since ? new Date(query.since).toISOString() : addMs(until, -ANALYTICS_DEFAULT_DAYS * 86_400_000)
    if (since >= until) throw invalid('since', `must be before until (${until})`)
    const filters = await resolveFilters(c, { mode: query.mode, app: query.app, since, until })
    const analytics = await accessTokenAnalytics(c.get('services').database, filters, time)
    return c.json({ mode: query.mode, application_id: filters.applicationId ?? null, since, until, ...analytics })
  })

  return app
}

/**
 * Sends changes after `after` as Server-Sent Events, each with its change id as the event id, so
 * a client that reconnects with Last-Event-ID receives every later change once. Ends when the
 * client leaves or the server shuts down.
 */
async function streamChanges(c: Context<AppEnv>, stream: SSEStreamingApi, filters: LogFilters, after: number): Promise<void> {
  const { database } = c.get('services')
  const feed = changeFeed(database)
  const phi = holdsPermission(c, 'phi:read')
  let position = after
  let lastWrite = Date.now()
  stream.onAbort(() => feed.notify())
  await stream.writeSSE({ event: 'ready', data: JSON.stringify({ after: position }), retry: 1000 })
  while (!stream.aborted && !stream.closed && !feed.isClosed) {
    const { changes, lastId, full } = await readChanges(database, filters, position, STREAM_BATCH)
    const time = now()
    // The audit record is written before the PHI it covers is sent.
    if (phi) await auditPhi(c, 'logs.tail', changes.map((change) => change.row))
    for (const change of changes) {
      const data = { ...serializeAccessToken(change.row, { phi, time }), change_id: change.id, changed_at: change.created_at }
      await stream.writeSSE({ id: String(change.id), event: 'access_token', data: JSON.stringify(data) })
    }
    position = lastId
    if (changes.length > 0) lastWrite = Date.now()
    if (full) continue
    if (Date.now() - lastWrite >= STREAM_HEARTBEAT_MS) {
      await stream.write(': keep-alive\n\n')
      lastWrite = Date.now()
    }
    await feed.wait(STREAM_POLL_MS)
  }
}
