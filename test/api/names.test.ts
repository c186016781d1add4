import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { LiveAccessRejectBody, liveAccessFields } from '../../shared/schemas.js'
import { VALID_FORM } from '../fixtures/live-access-form.js'
import { createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { TestIdp } from '../helpers/saml-idp.js'
import { configureSso, postToAcs, startSsoLogin, verifyEmail } from '../helpers/sso.js'

/** Characters no name may contain, with the word the error message uses for them. */
const FORBIDDEN: Array<[string, string, string]> = [
  ['escape', 'Acme\u001b[31m', 'control character (U+001B'],
  ['bell', 'Acme\u0007', 'control character (U+0007'],
  ['newline', 'Acme\nInc', 'control character (U+000A'],
  ['tab', 'Acme\tInc', 'control character (U+0009'],
  ['delete', 'Acme\u007f', 'control character (U+007F'],
  ['C1 control', 'Acme\u0085Inc', 'control character (U+0085'],
  ['right-to-left override', 'evil\u202Etxt.exe', 'bidirectional formatting character (U+202E'],
  ['first strong isolate', 'a\u2068b', 'bidirectional formatting character (U+2068'],
  ['lone surrogate', 'Acme\ud800', 'lone surrogate'],
]

const CAFE_NFC = 'Caf\u00e9'
const CAFE_NFD = 'Cafe\u0301'

describe.each(await dialects())('names on %s', (dialect) => {
  let test: TestApp
  let admin: Awaited<ReturnType<typeof signUp>>

  beforeAll(async () => {
    test = await createTestApp(dialect)
    admin = await signUp(test)
  })
  afterAll(async () => {
    await test.close()
  })

  /** Every route that takes a name, as [label, method, path, body for a given name, field]. */
  function nameRoutes(): Array<[string, string, string, (name: string) => object, string]> {
    const ws = `/v1/workspaces/${admin.workspace.id}`
    return [
      ['workspace', 'POST', '/v1/workspaces', (name) => ({ name }), 'name'],
      ['workspace rename', 'PATCH', ws, (name) => ({ name }), 'name'],
      ['display name', 'PATCH', '/v1/profile', (name) => ({ name }), 'name'],
      ['application', 'POST', `${ws}/apps`, (name) => ({ name }), 'name'],
      ['token', 'POST', `${ws}/tokens`, (name) => ({ name, permissions: ['apps:read'] }), 'name'],
      ['organization', 'POST', `${ws}/live-access`, (name) => ({ ...VALID_FORM, organization_name: name }), 'organization_name'],
      ['contact', 'POST', `${ws}/live-access`, (name) => ({ ...VALID_FORM, contact_name: name }), 'contact_name'],
    ]
  }

  it.each(FORBIDDEN)('rejects a %s in every name', async (_, name, message) => {
    for (const [label, method, path, body, field] of nameRoutes()) {
      const response = await test.call(method, path, { token: admin.token, body: body(name) })

      expect(response.status, label).toBe(422)
      expect(response.body.error.field, label).toBe(field)
      expect(response.body.error.message, label).toContain(message)
    }
  })

  it('rejects a control character at signup', async () => {
    const response = await test.call('POST', '/v1/auth/signup', {
      body: { email: 'esc@example.com', name: 'Ada\u001b]0;pwned\u0007', password: 'correct battery horse staple' },
    })

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('name')
    expect(response.body.error.message).toContain('U+001B')
  })

  it('keeps line breaks in the use case', async () => {
    const owner = await signUp(test)
    const useCase = 'Patients share their claims history.\r\nWe find gaps in their preventive care.'

    const submitted = await test.call('POST', `/v1/workspaces/${owner.workspace.id}/live-access`, {
      token: owner.token,
      body: { ...VALID_FORM, use_case: useCase },
    })
    const tabbed = await test.call('POST', `/v1/workspaces/${owner.workspace.id}/live-access`, {
      token: owner.token,
      body: { ...VALID_FORM, use_case: 'Patients share their claims.\tWe find gaps in care.' },
    })

    expect(submitted.status).toBe(201)
    expect(submitted.body.form.use_case).toBe('Patients share their claims history.\nWe find gaps in their preventive care.')
    expect(tabbed.status).toBe(422)
    expect(tabbed.body.error.field).toBe('use_case')
  })

  it('treats NFC and NFD application names as one', async () => {
    const ws = `/v1/workspaces/${admin.workspace.id}`
    const created = await test.call('POST', `${ws}/apps`, { token: admin.token, body: { name: CAFE_NFD } })

    const duplicate = await test.call('POST', `${ws}/apps`, { token: admin.token, body: { name: CAFE_NFC.toUpperCase() } })
    const found = await test.call('GET', `${ws}/apps/${encodeURIComponent(CAFE_NFC)}`, { token: admin.token })

    expect(created.status).toBe(201)
    expect(created.body.name).toBe(CAFE_NFC)
    expect(duplicate.status).toBe(409)
    expect(duplicate.body.error.code).toBe('already_exists')
    expect(found.status).toBe(200)
    expect(found.body.id).toBe(created.body.id)
  })

  it('drops an SSO name with control characters', async () => {
    const idp = new TestIdp()
    const owner = await signUp(test, { email: 'owner@names.test', workspace_name: 'names.test' })
    await verifyEmail(test, owner.user.id)
    await configureSso(test, owner.token, owner.workspace.id, idp, { domains: ['names.test'] })

    async function joinAs(email: string, name: string) {
      const login = await startSsoLogin(test, owner.workspace.id)
      const response = idp.response({ requestId: login.id, acsUrl: login.acsUrl, audience: login.issuer, email, name })
      expect((await postToAcs(test, login.acsUrl, response)).code).not.toBeNull()
      const user = await test.services.database.db.selectFrom('users').select('display_name').where('email', '=', email).executeTakeFirstOrThrow()
      return user.display_name
    }

    expect(await joinAs('mallory@names.test', 'Mallory\u001b]0;owned\u0007')).toBe('mallory')
    expect(await joinAs('cafe@names.test', CAFE_NFD)).toBe(CAFE_NFC)
  })

  it('finds a workspace by its NFD name', async () => {
    const created = await test.call('POST', '/v1/workspaces', { token: admin.token, body: { name: `${CAFE_NFC} Labs` } })

    const found = await test.call('GET', `/v1/workspaces/${encodeURIComponent(`${CAFE_NFD} labs`)}`, { token: admin.token })

    expect(created.status).toBe(201)
    expect(found.status).toBe(200)
    expect(found.body.id).toBe(created.body.id)
  })
})

describe('free-text schemas', () => {
  it('keeps newlines in a rejection reason', () => {
    const parsed = LiveAccessRejectBody.safeParse({ reason: 'The website is down.\nSend it again when it is up.' })

    expect(parsed.success).toBe(true)
  })

  it('rejects an escape in a rejection reason', () => {
    const parsed = LiveAccessRejectBody.safeParse({ reason: 'The website\u001b[2J is down.' })

    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0].message).toContain('U+001B')
  })

  it('normalizes a contact name to NFC', () => {
    expect(liveAccessFields.contact_name.parse(` ${CAFE_NFD} `)).toBe(CAFE_NFC)
  })
})
