import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { declaredAccess } from '../../server/auth.js'
import { createTestApp, type TestApp } from '../helpers/app.js'

describe('route access declarations', () => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp('sqlite')
  })
  afterAll(async () => {
    await test.close()
  })

  it('declares access on every route', () => {
    const declared = new Map<string, boolean>()
    for (const route of test.app.routes) {
      if (route.method === 'ALL') continue
      const key = `${route.method} ${route.path}`
      declared.set(key, (declared.get(key) ?? false) || declaredAccess(route.handler) !== undefined)
    }

    const undeclared = [...declared].filter(([, has]) => !has).map(([key]) => key)
    expect(undeclared).toEqual([])
    expect(declared.has('POST /v1/workspaces/:workspace/invitations')).toBe(true)
    expect(declared.has('GET /invitations/:token')).toBe(true)
  })
})
