import { Hono } from 'hono'

import { findEndpoint } from '../../shared/endpoints.js'
import { AccessTokenCreateBody, AccessTokenUpdateBody } from '../../shared/schemas.js'
import { access, currentAppKey } from '../auth.js'
import type { AppEnv } from '../context.js'
import { ApiError, invalid } from '../errors.js'
import { precompile } from '../db/precompiled.js'
import { serializeAccessToken } from '../logs/serialize.js'
import { changeAccessToken, createAccessToken } from '../logs/store.js'
import type { AccessTokenRow } from '../logs/tables.js'
import { jsonBody } from '../validate.js'

/** Finds an access token of the application and mode whose keys sent the request. */
const findOwnRow = precompile<{ id: string; application: string; mode: string }, AccessTokenRow>((db, param) =>
  db
    .selectFrom('access_tokens')
    .selectAll()
    .where('id', '=', param('id'))
    .where('application_id', '=', param('application'))
    .where('mode', '=', param('mode')),
)

/**
 * Builds the ingestion API that an application's backend calls with its own keys. The mode of every row
 * is the mode of the key that wrote it, and a key reaches only its own application's rows.
 */
export function ingestionRoutes() {
  const app = new Hono<AppEnv>()

  app.post('/access-tokens', access('app-key'), jsonBody(AccessTokenCreateBody), async (c) => {
    const key = currentAppKey(c)
    const input = c.req.valid('json')
    const endpoint = findEndpoint(input.endpoint_id)
    if (!endpoint) throw invalid('endpoint_id', `no endpoint has the id ${input.endpoint_id}; see flexpa endpoints list`)
    if (endpoint.mode !== key.mode) {
      const expected = key.mode === 'test' ? 'a sandbox endpoint' : 'a live endpoint'
      throw invalid('endpoint_id', `${endpoint.label} is not usable with ${key.mode} keys, which write against ${expected}`)
    }
    if (input.usage === 'MULTIPLE' && !endpoint.refresh) {
      throw invalid('usage', `${endpoint.label} issues no refresh tokens, so its access tokens are ONE_TIME only`)
    }
    const row = await createAccessToken(c.get('services').database, {
      workspaceId: key.workspace_id,
      applicationId: key.application_id,
      mode: key.mode,
      endpointId: endpoint.id,
      usage: input.usage,
      requestId: c.get('requestId'),
      externalUserId: input.external_user_id ?? null,
      expiresAt: input.expires_at ? new Date(input.expires_at).toISOString() : null,
    })
    return c.json(serializeAccessToken(row, { phi: true }), 201)
  })

  app.patch('/access-tokens/:id', access('app-key'), jsonBody(AccessTokenUpdateBody), async (c) => {
    const key = currentAppKey(c)
    const id = c.req.param('id')
    const { database } = c.get('services')
    const [row] = (await findOwnRow.execute(database.db, { id, application: key.application_id, mode: key.mode })).rows
    if (!row) throw new ApiError('not_found', `access token "${id}" was not found for this application's ${key.mode} keys`)
    const updated = await changeAccessToken(database, row, c.req.valid('json'))
    return c.json(serializeAccessToken(updated, { phi: true }))
  })

  return app
}
