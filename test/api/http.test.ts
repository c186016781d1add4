import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { createPrincipals, type PrincipalFixture } from '../helpers/principals.js'

describe('HTTP conventions', () => {
  let test: TestApp
  let fixture: PrincipalFixture
  let admin: string
  let apps: string

  async function send(body: string, contentType = 'application/json') {
    const response = await test.app.request(apps, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': contentType },
      body,
    })
    return { status: response.status, body: (await response.json()) as any, requestId: response.headers.get('x-request-id') }
  }

  beforeAll(async () => {
    test = await createTestApp('sqlite')
    fixture = await createPrincipals(test)
    admin = await fixture.session(fixture.admin)
    apps = `/v1/workspaces/${fixture.workspaceId}/apps`
  })
  afterAll(async () => {
    await test.close()
  })

  it('rejects a body over 1 MiB with 413', async () => {
    const answer = await send(JSON.stringify({ name: 'x'.repeat(1_100_000) }))

    expect(answer.status).toBe(413)
    expect(answer.body.error.code).toBe('payload_too_large')
    expect(answer.requestId).toMatch(/^req_/)
  })

  it('rejects a body that is not JSON', async () => {
    const answer = await send('{"name": ')

    expect(answer.status).toBe(400)
    expect(answer.body.error.code).toBe('invalid_request')
  })

  it('rejects another media type with 415', async () => {
    const answer = await send('name=x', 'application/x-www-form-urlencoded')

    expect(answer.status).toBe(415)
    expect(answer.body.error.code).toBe('unsupported_media_type')
  })

  it('rejects unknown fields naming them', async () => {
    const answer = await send(JSON.stringify({ name: 'Strict', colour: 'blue' }))

    expect(answer.status).toBe(422)
    expect(answer.body.error.code).toBe('validation_failed')
    expect(answer.body.error.message).toContain('colour')
  })

  it('wraps an unknown route in the envelope', async () => {
    const response = await test.app.request('/v1/nowhere')
    const body = (await response.json()) as any

    expect(response.status).toBe(404)
    expect(body.error.code).toBe('not_found')
    expect(response.headers.get('x-request-id')).toMatch(/^req_/)
  })

  it('gives every response its own request id', async () => {
    const first = await test.app.request('/health')
    const second = await test.app.request('/health')

    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'))
  })

  it('rejects a malformed Authorization header with 401', async () => {
    const response = await test.app.request('/v1/me', { headers: { authorization: 'Token abc' } })
    const body = (await response.json()) as any

    expect(response.status).toBe(401)
    expect(body.error.code).toBe('unauthenticated')
  })

  it('rejects a NUL character in a path', async () => {
    const response = await test.app.request('/v1/workspaces/%00', { headers: { authorization: `Bearer ${admin}` } })

    expect(response.status).toBe(400)
  })

  it('rejects a NUL character in a body naming the field', async () => {
    const answer = await send(JSON.stringify({ name: 'a\u0000b' }))

    expect(answer.status).toBe(422)
    expect(answer.body.error.field).toBe('name')
  })
})
