import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { declaredRoutes } from '../helpers/routes.js'

describe('service documents', () => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp('sqlite')
  })
  afterAll(async () => {
    await test.close()
  })

  it('reports health', async () => {
    const answer = await test.call('GET', '/health')

    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ status: 'ok' })
    expect(answer.headers.get('x-request-id')).toMatch(/^req_/)
  })

  it('lists every route with its access', async () => {
    const answer = await test.call('GET', '/openapi.json')
    const missing: string[] = []

    for (const route of declaredRoutes(test.app)) {
      const path = route.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')
      const operation = answer.body.paths[path]?.[route.method.toLowerCase()]
      if (!operation) missing.push(`${route.method} ${route.path} is missing`)
      else if (operation['x-access'] !== route.access) missing.push(`${route.method} ${route.path} has x-access ${operation['x-access']}`)
    }

    expect(answer.status).toBe(200)
    expect(answer.body.openapi).toMatch(/^3\./)
    expect(missing).toEqual([])
  })

  it('documents the path parameters', async () => {
    const answer = await test.call('GET', '/openapi.json')

    const operation = answer.body.paths['/v1/workspaces/{workspace}/apps/{app}'].get
    expect(operation.parameters.map((parameter: { name: string; in: string }) => `${parameter.in}:${parameter.name}`)).toEqual([
      'path:workspace',
      'path:app',
    ])
  })

  it('includes the request schema of every validated route', async () => {
    const answer = await test.call('GET', '/openapi.json')
    const missing: string[] = []

    for (const route of declaredRoutes(test.app)) {
      const operation = answer.body.paths[route.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')]?.[route.method.toLowerCase()]
      for (const declared of route.schemas) {
        if (declared.target === 'json' && !operation?.requestBody?.content?.['application/json']?.schema) {
          missing.push(`${route.method} ${route.path} has no request body schema`)
        }
      }
    }

    expect(missing).toEqual([])
  })

  it('describes the fields and limits of a body', async () => {
    const answer = await test.call('GET', '/openapi.json')

    const schema = answer.body.paths['/v1/workspaces/{workspace}/apps'].post.requestBody.content['application/json'].schema
    const rotate = answer.body.paths['/v1/workspaces/{workspace}/apps/{app}/keys/test/rotate'].post.requestBody.content['application/json'].schema
    expect(schema.required).toEqual(['name'])
    expect(schema.properties.redirect_uris.type).toBe('array')
    expect(schema.additionalProperties).toBe(false)
    expect(rotate.properties.expire_old_in_seconds.maximum).toBe(604800)
  })
})
