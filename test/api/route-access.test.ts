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

  it('flags a route without a declaration', () => {
    const app = new Hono()
    app.get('/declared', access('public'), (c) => c.text('ok'))
    app.post('/forgotten', (c) => c.text('ok'))
    app.put('/late', (c) => c.text('ok'), access('public'))

    expect(undeclared(app)).toEqual(['POST /forgotten', 'PUT /late'])
  })
})
