import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { TestIdp } from '../helpers/saml-idp.js'
import { configureSso, postToAcs, startSsoLogin, verifyEmail } from '../helpers/sso.js'
import { signedHeaders } from '../helpers/stripe.js'

const DEEP_ARRAY = '['.repeat(10_000) + ']'.repeat(10_000)
const DEEP_OBJECT = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)
const WEBHOOK_SECRET = 'whsec_deep_json_test'

describe.each(await dialects())('deeply nested bodies on %s', (dialect) => {
  let test: TestApp
  const idp = new TestIdp()

  beforeAll(async () => {
    test = await createTestApp(dialect, {
      PUBLIC_URL: 'https://flexpa.example.test',
      STRIPE_SECRET_KEY: 'sk_test_deep',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: 'http://127.0.0.1:9',
    })
  })
  afterAll(async () => {
    await test.close()
  })

  async function send(path: string, body: string, headers: Record<string, string> = {}, method = 'POST') {
    const response = await test.app.request(path, { method, headers: { 'content-type': 'application/json', ...headers }, body })
    return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } }
  }

  it('rejects a deep array at login', async () => {
    const response = await send('/v1/auth/login', DEEP_ARRAY)

    expect(response.status).toBe(400)
    expect(response.body.error.code).toBe('invalid_request')
    expect(response.body.error.message).toContain('deeper than 64 levels')
  })

  it('rejects a deep object at signup', async () => {
    const response = await send('/v1/auth/signup', DEEP_OBJECT)

    expect(response.status).toBe(400)
    expect(response.body.error.message).toContain('deeper than 64 levels')
  })

  it('rejects deep values inside a field', async () => {
    const admin = await signUp(test)
    const body = `{"name":"Deep","redirect_uris":${DEEP_ARRAY}}`

    const response = await send(`/v1/workspaces/${admin.workspace.id}/apps`, body, { authorization: `Bearer ${admin.token}` })

    expect(response.status).toBe(400)
    expect(response.body.error.message).toContain('deeper than 64 levels')
  })

  it('accepts nesting up to the limit', async () => {
    const body = `{"email":"a@example.com","password":${'['.repeat(63)}${']'.repeat(63)}}`

    const response = await send('/v1/auth/login', body)

    expect(response.status).toBe(422)
    expect(response.body.error.message).toMatch(/^password:/)
  })

  it('ignores brackets inside strings', async () => {
    const body = JSON.stringify({ email: 'nobody@example.com', password: '['.repeat(500) })

    const response = await send('/v1/auth/login', body)

    expect(response.status).toBe(401)
  })

  it('rejects deep bodies on ingestion and SSO', async () => {
    const ingestion = await send('/v1/access-tokens', DEEP_ARRAY, { authorization: 'Bearer fxs_nope' })
    const token = await send('/v1/sso/token', DEEP_OBJECT)

    expect(ingestion.status).toBeLessThan(500)
    expect(token.status).toBe(400)
    expect(token.body.error.message).toContain('deeper than 64 levels')
  })

  it('rejects a deep webhook without breaking signatures', async () => {
    const unsigned = await send('/webhooks/stripe', DEEP_ARRAY, { 'stripe-signature': 't=1,v1=00' })
    const signed = await send('/webhooks/stripe', DEEP_OBJECT, signedHeaders(DEEP_OBJECT, WEBHOOK_SECRET))

    expect(unsigned.status).toBe(400)
    expect(signed.status).toBe(400)
    expect(signed.body.error.message).toContain('deeper than 64 levels')
  })

  it('rejects a deep SAML response without a 500', async () => {
    const admin = await signUp(test, { email: 'admin@deep.test', workspace_name: 'deep.test' })
    await verifyEmail(test, admin.user.id)
    await configureSso(test, admin.token, admin.workspace.id, idp, { domains: ['deep.test'] })
    const login = await startSsoLogin(test, admin.workspace.id)
    const xml = idp.responseXml({ requestId: login.id, acsUrl: login.acsUrl, audience: login.issuer, email: 'ada@deep.test' })
    const nested = '<saml:AttributeValue>'.repeat(30_000) + '</saml:AttributeValue>'.repeat(30_000)
    const deep = xml.replace('<saml:AttributeStatement>', `<saml:AttributeStatement><saml:Attribute Name="x">${nested}</saml:Attribute>`)

    const outcome = await postToAcs(test, login.acsUrl, Buffer.from(deep).toString('base64'))

    expect(outcome.status).toBeLessThan(500)
    expect(outcome.code).toBeNull()
  })
})
