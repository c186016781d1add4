import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { hashSecret, newId, newSecret } from '../../shared/tokens.js'
import { addMember, createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { TestIdp } from '../helpers/saml-idp.js'
import { configureSso, LOOPBACK, pkcePair, postToAcs, startSsoLogin, verifyEmail } from '../helpers/sso.js'

describe.each(await dialects())('SSO routes on %s', (dialect) => {
  let test: TestApp
  const idp = new TestIdp()

  beforeAll(async () => {
    test = await createTestApp(dialect, { PUBLIC_URL: 'https://flexpa.example.test' })
  })
  afterAll(async () => {
    await test.close()
  })

  async function auditActions(workspaceId: string): Promise<string[]> {
    const rows = await test.services.database.db
      .selectFrom('audit_events')
      .select('action')
      .where('workspace_id', '=', workspaceId)
      .where('action', 'like', 'sso.%')
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map((row) => row.action)
  }

  /** Signs up the admin of a new workspace with a verified address at `domain`. */
  async function workspaceAt(domain: string) {
    const admin = await signUp(test, { email: `admin@${domain}`, workspace_name: domain })
    await verifyEmail(test, admin.user.id)
    return admin
  }

  /** Runs the whole login for `email` and returns the session the CLI would receive. */
  async function ssoLogin(workspaceId: string, email: string) {
    const login = await startSsoLogin(test, workspaceId)
    const outcome = await postToAcs(
      test,
      login.acsUrl,
      idp.response({ requestId: login.id, acsUrl: login.acsUrl, audience: login.issuer, email, name: 'Grace Hopper' }),
    )
    if (!outcome.code) throw new Error(`login failed: ${outcome.error}`)
    const token = await test.call('POST', '/v1/sso/token', {
      body: { code: outcome.code, code_verifier: login.verifier, redirect_uri: LOOPBACK },
    })
    if (token.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(token.body)}`)
    return token.body as { session: { token: string }; user: { id: string; email: string }; workspace: { id: string } }
  }

  it('shows the service-provider values before configuration', async () => {
    const admin = await workspaceAt('show.test')

    const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/sso`, { token: admin.token })

    expect(response.status).toBe(200)
    expect(response.body.configured).toBe(false)
    expect(response.body.service_provider.entity_id).toBe(`https://flexpa.example.test/v1/sso/${admin.workspace.id}/metadata`)
    expect(response.body.service_provider.acs_url).toBe(`https://flexpa.example.test/v1/sso/${admin.workspace.id}/acs`)
    expect(response.body.service_provider.metadata_url).toBe(`https://flexpa.example.test/v1/sso/${admin.workspace.id}/metadata`)
    expect(response.body.identity_provider).toBeNull()
  })

  it('rejects a member reading the configuration', async () => {
    const admin = await workspaceAt('member-read.test')
    const member = await signUp(test)
    await addMember(test, admin.workspace.id, member.user.id)

    const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/sso`, { token: member.token })

    expect(response.status).toBe(403)
    expect(response.body.error.permission).toBe('sso:manage')
  })

  it('hides the configuration from outsiders', async () => {
    const admin = await workspaceAt('outsider.test')
    const outsider = await signUp(test)

    const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/sso`, { token: outsider.token })

    expect(response.status).toBe(404)
  })

  it('serves service-provider metadata publicly', async () => {
    const admin = await workspaceAt('metadata.test')

    const response = await test.app.request(`/v1/sso/${admin.workspace.id}/metadata`)
    const xml = await response.text()

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('application/samlmetadata+xml')
    expect(xml).toContain(`entityID="https://flexpa.example.test/v1/sso/${admin.workspace.id}/metadata"`)
    expect(xml).toContain(`Location="https://flexpa.example.test/v1/sso/${admin.workspace.id}/acs"`)
    expect((await test.app.request('/v1/sso/ws_unknown/metadata')).status).toBe(404)
  })

  it('requires metadata the first time', async () => {
    const admin = await workspaceAt('first.test')

    const response = await test.call('PUT', `/v1/workspaces/${admin.workspace.id}/sso`, { token: admin.token, body: { enforce: true } })

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('metadata_xml')
  })

  it('lists each metadata problem', async () => {
    const admin = await workspaceAt('broken.test')

    const response = await test.call('PUT', `/v1/workspaces/${admin.workspace.id}/sso`, {
      token: admin.token,
      body: { metadata_xml: idp.metadata({ ssoUrl: 'http://idp.example.test/sso', certificates: [] }) },
    })

    expect(response.status).toBe(422)
    expect(response.body.error.problems).toEqual([
      'the single sign-on URL http://idp.example.test/sso does not use HTTPS',
      'the IDPSSODescriptor has no signing certificate (KeyDescriptor with an X509Certificate)',
    ])
  })

  it('rejects a domain without a verified admin address', async () => {
    const admin = await signUp(test, { email: 'admin@unverified.test' })

    const response = await test.call('PUT', `/v1/workspaces/${admin.workspace.id}/sso`, {
      token: admin.token,
      body: { metadata_xml: idp.metadata(), domains: ['unverified.test'] },
    })

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('domains')
    expect(response.body.error.message).toContain('unverified.test is not the domain of a verified email address of an admin')
  })

  it("rejects a domain that is not an admin's", async () => {
    const admin = await workspaceAt('mine.test')

    const response = await test.call('PUT', `/v1/workspaces/${admin.workspace.id}/sso`, {
      token: admin.token,
      body: { metadata_xml: idp.metadata(), domains: ['gmail.com'] },
    })

    expect(response.status).toBe(422)
    expect(response.body.error.message).toContain('gmail.com is not the domain')
  })

  it('rejects a domain listed by another workspace', async () => {
    const first = await workspaceAt('shared.test')
    await configureSso(test, first.token, first.workspace.id, idp, { domains: ['shared.test'] })
    const second = await signUp(test, { email: 'other-admin@shared.test' })
    await verifyEmail(test, second.user.id)

    const response = await test.call('PUT', `/v1/workspaces/${second.workspace.id}/sso`, {
      token: second.token,
      body: { metadata_xml: idp.metadata(), domains: ['shared.test'] },
    })

    expect(response.status).toBe(409)
    expect(response.body.error.message).toBe('shared.test is already listed for single sign-on by another workspace')
  })

  it('configures, updates and disables with audit records', async () => {
    const admin = await workspaceAt('cycle.test')
    const path = `/v1/workspaces/${admin.workspace.id}/sso`

    const created = await test.call('PUT', path, {
      token: admin.token,
      body: { metadata_xml: idp.metadata(), domains: ['Cycle.test'] },
    })
    const updated = await test.call('PUT', path, { token: admin.token, body: { enforce: true } })
    const disabled = await test.call('DELETE', path, { token: admin.token })
    const again = await test.call('DELETE', path, { token: admin.token })
    const settings = await test.call('GET', path, { token: admin.token })

    expect(created.status).toBe(201)
    expect(created.body.identity_provider.entity_id).toBe(idp.entityId)
    expect(created.body.identity_provider.certificates[0].key).toBe('RSA 2048')
    expect(created.body.domains).toEqual(['cycle.test'])
    expect(created.body.enforced).toBe(false)
    expect(updated.status).toBe(200)
    expect(updated.body.enforced).toBe(true)
    expect(updated.body.domains).toEqual(['cycle.test'])
    expect(disabled.status).toBe(204)
    expect(again.status).toBe(412)
    expect(settings.body.configured).toBe(false)
    expect(settings.body.domains).toEqual([])
    expect(await auditActions(admin.workspace.id)).toEqual(['sso.configure', 'sso.update', 'sso.disable'])
  })

  it('finds the workspace by id, domain or address', async () => {
    const admin = await workspaceAt('discover.test')
    await configureSso(test, admin.token, admin.workspace.id, idp, { domains: ['discover.test'] })

    for (const reference of [admin.workspace.id, 'discover.test', 'Someone@Discover.test']) {
      const response = await test.call('GET', `/v1/sso/discover?workspace=${encodeURIComponent(reference)}`)
      expect(response.status).toBe(200)
      expect(response.body.workspace_id).toBe(admin.workspace.id)
    }
    expect((await test.call('GET', '/v1/sso/discover?workspace=nowhere.test')).status).toBe(404)
  })

  it('rejects a redirect URI that is not loopback', async () => {
    const admin = await workspaceAt('redirect.test')
    await configureSso(test, admin.token, admin.workspace.id, idp)
    const { challenge } = pkcePair()
    const query = new URLSearchParams({
      workspace: admin.workspace.id,
      redirect_uri: 'http://attacker.example.test:8080/callback',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'abcdefghijklmnopqrstuvwxyz',
    })

    const response = await test.call('GET', `/v1/sso/start?${query}`)

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('redirect_uri')
  })

  it('rejects the plain PKCE method', async () => {
    const admin = await workspaceAt('plain.test')
    await configureSso(test, admin.token, admin.workspace.id, idp)
    const { challenge } = pkcePair()
    const query = new URLSearchParams({
      workspace: admin.workspace.id,
      redirect_uri: LOOPBACK,
      code_challenge: challenge,
      code_challenge_method: 'plain',
      state: 'abcdefghijklmnopqrstuvwxyz',
    })

    const response = await test.call('GET', `/v1/sso/start?${query}`)

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('code_challenge_method')
  })

  it('sends the AuthnRequest to the identity provider', async () => {
    const admin = await workspaceAt('request.test')
    await configureSso(test, admin.token, admin.workspace.id, idp)

    const login = await startSsoLogin(test, admin.workspace.id)
    const stored = await test.services.database.db.selectFrom('sso_requests').selectAll().where('id', '=', login.id).executeTakeFirst()

    expect(login.destination).toBe(idp.ssoUrl)
    expect(login.acsUrl).toBe(`https://flexpa.example.test/v1/sso/${admin.workspace.id}/acs`)
    expect(login.issuer).toBe(`https://flexpa.example.test/v1/sso/${admin.workspace.id}/metadata`)
    expect(stored?.workspace_id).toBe(admin.workspace.id)
    expect(stored?.redirect_uri).toBe(LOOPBACK)
  })

  it('posts the AuthnRequest for the HTTP-POST binding', async () => {
    const admin = await workspaceAt('post-binding.test')
    await test.call('PUT', `/v1/workspaces/${admin.workspace.id}/sso`, {
      token: admin.token,
      body: { metadata_xml: idp.metadata({ binding: 'post' }) },
    })
    const { challenge } = pkcePair()
    const query = new URLSearchParams({
      workspace: admin.workspace.id,
      redirect_uri: LOOPBACK,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'abcdefghijklmnopqrstuvwxyz',
    })

    const response = await test.app.request(`/v1/sso/start?${query}`)
    const html = await response.text()
    const encoded = /name="SAMLRequest" value="([^"]+)"/.exec(html)?.[1] ?? ''
    const request = Buffer.from(encoded, 'base64').toString('utf8')

    expect(response.status).toBe(200)
    expect(html).toContain(`<form method="post" action="${idp.ssoUrl}">`)
    expect(request).toContain('<samlp:AuthnRequest')
    expect(request).toContain(`AssertionConsumerServiceURL="https://flexpa.example.test/v1/sso/${admin.workspace.id}/acs"`)
  })

  it('joins a new person as a member without a password', async () => {
    const admin = await workspaceAt('join.test')
    await configureSso(test, admin.token, admin.workspace.id, idp, { domains: ['join.test'] })

    const result = await ssoLogin(admin.workspace.id, 'Grace@join.test')
    const user = await test.services.database.db.selectFrom('users').selectAll().where('id', '=', result.user.id).executeTakeFirstOrThrow()
    const me = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/me`, { token: result.session.token })
    const profile = await test.call('GET', '/v1/me', { token: result.session.token })

    expect(result.user.email).toBe('grace@join.test')
    expect(user.display_name).toBe('Grace Hopper')
    expect(user.password_hash).toBeNull()
    expect(user.email_verified_at).toBeNull()
    expect(me.body.role).toBe('member')
    expect(profile.body.principal.auth_method).toBe('sso')
    expect(await auditActions(admin.workspace.id)).toEqual(['sso.configure', 'sso.member_join', 'sso.login'])
  })

  it('answers a password login for an SSO account as a wrong password', async () => {
    const admin = await workspaceAt('nopassword.test')
    await configureSso(test, admin.token, admin.workspace.id, idp, { domains: ['nopassword.test'] })
    await ssoLogin(admin.workspace.id, 'ada@nopassword.test')

    const noPassword = await test.call('POST', '/v1/auth/login', { body: { email: 'ada@nopassword.test', password: 'anything at all here' } })
    const wrongPassword = await test.call('POST', '/v1/auth/login', { body: { email: 'admin@nopassword.test', password: 'anything at all here' } })

    expect(noPassword.status).toBe(401)
    expect(noPassword.body).toEqual(wrongPassword.body)
  })

  it('redeems a code once and only with its verifier', async () => {
    const admin = await workspaceAt('code.test')
    await configureSso(test, admin.token, admin.workspace.id, idp, { domains: ['code.test'] })
    const login = await startSsoLogin(test, admin.workspace.id)
    const outcome = await postToAcs(
      test,
      login.acsUrl,
      idp.response({ requestId: login.id, acsUrl: login.acsUrl, audience: login.issuer, email: 'lin@code.test' }),
    )

    const wrongVerifier = await test.call('POST', '/v1/sso/token', {
      body: { code: outcome.code, code_verifier: pkcePair().verifier, redirect_uri: LOOPBACK },
    })
    const wrongRedirect = await test.call('POST', '/v1/sso/token', {
      body: { code: outcome.code, code_verifier: login.verifier, redirect_uri: 'http://127.0.0.1:1/callback' },
    })
    const redeemed = await test.call('POST', '/v1/sso/token', {
      body: { code: outcome.code, code_verifier: login.verifier, redirect_uri: LOOPBACK },
    })
    const reused = await test.call('POST', '/v1/sso/token', {
      body: { code: outcome.code, code_verifier: login.verifier, redirect_uri: LOOPBACK },
    })

    expect(wrongVerifier.status).toBe(400)
    expect(wrongVerifier.body.error.code).toBe('invalid_grant')
    expect(wrongRedirect.status).toBe(400)
    expect(redeemed.status).toBe(200)
    expect(redeemed.body.session.token).toMatch(/^fxs_/)
    expect(redeemed.body.workspace.id).toBe(admin.workspace.id)
    expect(reused.status).toBe(400)
    expect(reused.body.error.code).toBe('invalid_grant')
  })

  it('limits an SSO session of an existing account to its workspace', async () => {
    const admin = await workspaceAt('scope.test')
    await configureSso(test, admin.token, admin.workspace.id, idp, { domains: ['scope.test'] })
    const existing = await signUp(test, { email: 'bob@scope.test', workspace_name: 'Bob private' })

    const result = await ssoLogin(admin.workspace.id, 'bob@scope.test')
    const own = await test.call('GET', `/v1/workspaces/${existing.workspace.id}`, { token: result.session.token })
    const joined = await test.call('GET', `/v1/workspaces/${admin.workspace.id}`, { token: result.session.token })
    const me = await test.call('GET', '/v1/me', { token: result.session.token })
    const list = await test.call('GET', '/v1/workspaces', { token: result.session.token })
    const withPassword = await test.call('GET', `/v1/workspaces/${existing.workspace.id}`, { token: existing.token })

    expect(own.status).toBe(404)
    expect(joined.status).toBe(200)
    expect(me.body.workspaces.map((ws: { id: string }) => ws.id)).toEqual([admin.workspace.id])
    expect(list.body.data.map((ws: { id: string }) => ws.id)).toEqual([admin.workspace.id])
    expect(withPassword.status).toBe(200)
  })

  describe('enforcement', () => {
    let admin: Awaited<ReturnType<typeof workspaceAt>>
    let member: Awaited<ReturnType<typeof signUp>>

    beforeAll(async () => {
      admin = await workspaceAt('enforced.test')
      await configureSso(test, admin.token, admin.workspace.id, idp, { domains: ['enforced.test'], enforce: true })
      member = await signUp(test, { email: 'member@enforced.test' })
      await addMember(test, admin.workspace.id, member.user.id)
    })

    it('rejects a member with a password session', async () => {
      const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}`, { token: member.token })

      expect(response.status).toBe(401)
      expect(response.body.error.code).toBe('sso_required')
      expect(response.body.error.message).toBe(
        `this workspace requires single sign-on; log in with flexpa login --sso ${admin.workspace.id}`,
      )
    })

    it('keeps password access for admins', async () => {
      const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}`, { token: admin.token })

      expect(response.status).toBe(200)
    })

    it('admits a member who came through SSO', async () => {
      const result = await ssoLogin(admin.workspace.id, 'member@enforced.test')

      const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}`, { token: result.session.token })

      expect(response.status).toBe(200)
    })

    it('keeps workspace tokens working', async () => {
      const token = newSecret('workspace_token')
      const time = new Date().toISOString()
      await test.services.database.db
        .insertInto('workspace_tokens')
        .values({
          id: newId('wtk'),
          workspace_id: admin.workspace.id,
          name: 'ci',
          token_hash: hashSecret(token),
          permissions: JSON.stringify(['settings:read']),
          created_by: member.user.id,
          created_at: time,
          expires_at: new Date(Date.now() + 86_400_000).toISOString(),
          revoked_at: null,
          last_used_at: null,
        })
        .execute()

      const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}`, { token })

      expect(response.status).toBe(200)
    })

    it('lets members in again once SSO is disabled', async () => {
      const other = await workspaceAt('relaxed.test')
      await configureSso(test, other.token, other.workspace.id, idp, { domains: ['relaxed.test'], enforce: true })
      const colleague = await signUp(test)
      await addMember(test, other.workspace.id, colleague.user.id)
      const before = await test.call('GET', `/v1/workspaces/${other.workspace.id}`, { token: colleague.token })

      await test.call('DELETE', `/v1/workspaces/${other.workspace.id}/sso`, { token: other.token })
      const after = await test.call('GET', `/v1/workspaces/${other.workspace.id}`, { token: colleague.token })

      expect(before.status).toBe(401)
      expect(after.status).toBe(200)
    })
  })
})
