import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'

import { randomBase62 } from '../shared/tokens.js'
import type { AppEnv, Services } from './context.js'
import { ApiError } from './errors.js'
import { openApiDocument } from './openapi.js'
import { redactPath } from './redact.js'
import { access } from './auth.js'
import { pageRoutes } from './pages/routes.js'
import { accountMailRoutes } from './routes/account-mail.js'
import { accountRoutes } from './routes/accounts.js'
import { applicationRoutes } from './routes/applications.js'
import { auditRoutes } from './routes/audit.js'
import { billingRoutes, stripeWebhookRoutes } from './routes/billing.js'
import { liveAccessRoutes } from './routes/live-access.js'
import { ingestionRoutes } from './routes/ingestion.js'
import { logRoutes } from './routes/logs.js'
import { profileRoutes } from './routes/profile.js'
import { tokenRoutes } from './routes/tokens.js'
import { teamRoutes } from './routes/team.js'
import { ssoRoutes } from './routes/sso.js'
import { workspaceRoutes } from './routes/workspaces.js'

const MAX_BODY_BYTES = 1_048_576

/** Builds the HTTP API. Tests call `app.request()` on it; `bin/server.js` serves it on a port. */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>()

  app.use(async function setRequestContext(c, next) {
    const requestId = `req_${randomBase62(20)}`
    c.set('services', services)
    c.set('requestId', requestId)
    c.set('logger', services.logger.child({ request_id: requestId }))
    c.header('X-Request-Id', requestId)
    const started = performance.now()
    await next()
    // A response the route built itself lacks the header. Setting it again on one that has it
    // would make Hono copy the whole response.
    if (c.res.headers.get('X-Request-Id') !== requestId) c.header('X-Request-Id', requestId)
    c.get('logger').info(
      { method: c.req.method, path: redactPath(c.req.path), status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    )
  })
  app.use(async function rejectNulInPath(c, next) {
    // No id or name contains U+0000, and PostgreSQL fails on it in a text comparison.
    if (/%00/.test(new URL(c.req.url).pathname)) {
      throw new ApiError('invalid_request', 'the request path must not contain a NUL character (%00)')
    }
    await next()
  })
  const tooLarge = () => {
    throw new ApiError('payload_too_large', `the request body must be at most ${MAX_BODY_BYTES} bytes`)
  }
  const limitStreamedBody = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge })
  app.use(async function limitBodySize(c, next) {
    // A declared length is checked from the header alone: Hono's bodyLimit reads the body stream,
    // which makes @hono/node-server build a whole web Request for every request. The HTTP parser
    // reads no more than the declared length, so the check holds for what the route reads.
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(length, 10) > MAX_BODY_BYTES ? tooLarge() : next()
    }
    return limitStreamedBody(c, next)
  })

  app.get('/health', access('public'), async (c) => {
    await services.database.db.selectFrom('users').select('id').limit(1).execute()
    return c.json({ status: 'ok' })
  })
  app.get('/openapi.json', access('public'), (c) => c.json(openApiDocument(app)))

  app.route('/v1', accountRoutes())
  app.route('/v1', profileRoutes())
  app.route('/v1', workspaceRoutes())
  app.route('/v1', applicationRoutes())
  app.route('/v1', tokenRoutes())
  app.route('/v1', auditRoutes())
  app.route('/v1', teamRoutes())
  app.route('/v1', accountMailRoutes())
  app.route('/', pageRoutes())
  app.route('/v1', ssoRoutes())
  app.route('/v1', liveAccessRoutes())
  app.route('/v1', billingRoutes())
  app.route('/', stripeWebhookRoutes())
  app.route('/v1', ingestionRoutes())
  app.route('/v1', logRoutes())

  app.notFound((c) => {
    const error = new ApiError('not_found', `no route for ${c.req.method} ${c.req.path}`)
    return c.json(error.toBody(), 404)
  })
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      if (error.code === 'rate_limited' && typeof error.details.retry_after === 'number') {
        c.header('Retry-After', String(error.details.retry_after))
      }
      return c.json(error.toBody(), error.status as 400)
    }
    if (error instanceof HTTPException && error.status < 500) {
      let code = 'invalid_request'
      if (error.status === 401) code = 'unauthenticated'
      if (error.status === 404) code = 'not_found'
      return c.json({ error: { code, message: error.message || 'invalid request' } }, error.status)
    }
    const logger = c.get('logger') ?? services.logger
    logger.error({ err: error, method: c.req.method, path: redactPath(c.req.path) }, 'unhandled error')
    const requestId = c.get('requestId')
    return c.json(
      {
        error: {
          code: 'internal_error',
          message: `the server failed to handle this request; quote request id ${requestId} when reporting it`,
          request_id: requestId,
        },
      },
      500,
    )
  })
  return app
}
