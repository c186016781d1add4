import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { access } from '../../server/auth.js'
import { isPermission, NON_PERMISSION_ACCESS } from '../../shared/permissions.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { declaredRoutes } from '../helpers/routes.js'

/** Routes whose first handler is not an `access()` middleware. */
function undeclared(app: Hono<any>): string[] {
  return declaredRoutes(app)
    .filter((route) => route.access === undefined)
    .map((route) => `${route.method} ${route.path}`)
}

describe('route access declarations', () => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp('sqlite')
  })
  afterAll(async () => {
    await test.close()
  })

  it('finds every route of the app', () => {
    const paths = declaredRoutes(test.app).map((route) => `${route.method} ${route.path}`)

    expect(paths).toContain('GET /health')
    expect(paths).toContain('POST /v1/workspaces/:workspace/apps/:app/keys/test/rotate')
  })

  it('declares access first on every route', () => {
    expect(undeclared(test.app)).toEqual([])
  })

  it('declares only known access kinds', () => {
    const unknown = declaredRoutes(test.app).filter(
      (route) => !isPermission(route.access ?? '') && !(NON_PERMISSION_ACCESS as readonly string[]).includes(route.access ?? ''),
    )

    expect(unknown.map((route) => `${route.method} ${route.path}`)).toEqual([])
  })

  it.each([
    ['GET /health', 'public'],
    ['GET /openapi.json', 'public'],
    ['POST /v1/auth/signup', 'public'],
    ['POST /v1/auth/login', 'public'],
    ['POST /v1/auth/logout', 'session'],
    ['GET /v1/me', 'session'],
    ['PATCH /v1/profile', 'session'],
    ['POST /v1/profile/password', 'session'],
    ['DELETE /v1/profile/sessions/:session', 'session'],
    ['GET /v1/workspaces', 'session'],
    ['POST /v1/workspaces', 'session'],
    ['GET /v1/workspaces/:workspace', 'settings:read'],
    ['PATCH /v1/workspaces/:workspace', 'settings:manage'],
    ['GET /v1/workspaces/:workspace/apps', 'settings:read'],
    ['GET /v1/workspaces/:workspace/apps/:app', 'settings:read'],
    ['POST /v1/workspaces/:workspace/apps', 'settings:manage'],
    ['PATCH /v1/workspaces/:workspace/apps/:app', 'settings:manage'],
    ['DELETE /v1/workspaces/:workspace/apps/:app', 'settings:manage'],
    ['GET /v1/workspaces/:workspace/apps/:app/keys', 'api-keys:read'],
    ['POST /v1/workspaces/:workspace/apps/:app/keys/test/rotate', 'api-keys-test:manage'],
    ['POST /v1/workspaces/:workspace/apps/:app/keys/live/rotate', 'api-keys-live:manage'],
    ['POST /v1/workspaces/:workspace/invitations', 'team:manage'],
    ['GET /v1/workspaces/:workspace/invitations', 'team:read'],
    ['GET /invitations/:token', 'public'],
    ['GET /v1/workspaces/:workspace/audit', 'team:manage'],
  ])('declares %s as %s', (route, expected) => {
    const found = declaredRoutes(test.app).find((declared) => `${declared.method} ${declared.path}` === route)

    expect(found?.access).toBe(expected)
  })

  it('flags a route without a declaration', () => {
    const app = new Hono()
    app.get('/declared', access('public'), (c) => c.text('ok'))
    app.post('/forgotten', (c) => c.text('ok'))
    app.put('/late', (c) => c.text('ok'), access('public'))

    expect(undeclared(app)).toEqual(['POST /forgotten', 'PUT /late'])
  })
})
