import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { declaredAccess } from '../../server/auth.js'
import { createTestApp, type TestApp } from '../helpers/app.js'

describe('SSO route access', () => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp('sqlite')
  })
  afterAll(async () => {
    await test.close()
  })

  /** Returns the access each route declares in its first handler, by "METHOD path". */
  function declaredByRoute(): Map<string, string | undefined> {
    const routes = new Map<string, string | undefined>()
    for (const route of test.app.routes) {
      if (route.method === 'ALL') continue
      const key = `${route.method} ${route.path}`
      if (!routes.has(key)) routes.set(key, declaredAccess(route.handler))
    }
    return routes
  }

  it('declares access on every route', () => {
    const undeclared = [...declaredByRoute()].filter(([, access]) => access === undefined).map(([route]) => route)

    expect(undeclared).toEqual([])
  })

  it('declares the expected access on SSO routes', () => {
    const routes = declaredByRoute()

    expect(routes.get('GET /v1/workspaces/:workspace/sso')).toBe('sso:manage')
    expect(routes.get('PUT /v1/workspaces/:workspace/sso')).toBe('sso:manage')
    expect(routes.get('DELETE /v1/workspaces/:workspace/sso')).toBe('sso:manage')
    expect(routes.get('GET /v1/sso/:workspace/metadata')).toBe('public')
    expect(routes.get('GET /v1/sso/discover')).toBe('public')
    expect(routes.get('GET /v1/sso/start')).toBe('public')
    expect(routes.get('POST /v1/sso/:workspace/acs')).toBe('public')
    expect(routes.get('POST /v1/sso/token')).toBe('public')
  })
})
