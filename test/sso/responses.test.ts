import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { TestIdp, wrapSignature } from '../helpers/saml-idp.js'
import { configureSso, LOOPBACK, postToAcs, startSsoLogin, verifyEmail } from '../helpers/sso.js'
import { createCertificate } from '../helpers/x509.js'

describe.each(await dialects())('SAML responses on %s', (dialect) => {
  let test: TestApp
  let workspaceId: string
  const idp = new TestIdp()

  beforeAll(async () => {
    test = await createTestApp(dialect, { PUBLIC_URL: 'https://flexpa.example.test' })
    const admin = await signUp(test, { email: 'admin@acme.test', workspace_name: 'Acme' })
    await verifyEmail(test, admin.user.id)
    workspaceId = admin.workspace.id
    await configureSso(test, admin.token, workspaceId, idp, { domains: ['acme.test'] })
  })
  afterAll(async () => {
    await test.close()
  })

  async function respond(options: Partial<Parameters<TestIdp['response']>[0]> = {}) {
    const login = await startSsoLogin(test, workspaceId)
    const samlResponse = idp.response({
      requestId: login.id,
      acsUrl: login.acsUrl,
      audience: login.issuer,
      email: 'grace@acme.test',
      ...options,
    })
    return { login, samlResponse }
  }

  it('accepts a signed response to its request', async () => {
    const { login, samlResponse } = await respond()

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.status).toBe(303)
    expect(outcome.error).toBeNull()
    expect(outcome.code).toMatch(/^fxc_/)
    expect(outcome.location!.startsWith(`${LOOPBACK}?`)).toBe(true)
    expect(new URL(outcome.location!).searchParams.get('state')).toBe(login.state)
  })

  it('accepts a response signed over the whole Response', async () => {
    const { login, samlResponse } = await respond({ sign: 'response' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.error).toBeNull()
    expect(outcome.code).toMatch(/^fxc_/)
  })

  it('rejects an unsigned response', async () => {
    const { login, samlResponse } = await respond({ sign: 'none' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('not signed')
  })

  it('rejects a response signed by another key', async () => {
    const { login, samlResponse } = await respond({ signer: createCertificate({ commonName: 'impostor' }) })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('signature does not verify')
  })

  it('rejects a wrong audience', async () => {
    const { login, samlResponse } = await respond({ audience: 'https://other.example.test/metadata' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain("audience is \"https://other.example.test/metadata\"")
  })

  it('rejects a wrong destination', async () => {
    const { login, samlResponse } = await respond({ destination: 'https://other.example.test/acs' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('Destination is "https://other.example.test/acs"')
  })

  it('rejects a wrong recipient', async () => {
    const { login, samlResponse } = await respond({ recipient: 'https://other.example.test/acs' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('Recipient is "https://other.example.test/acs"')
  })

  it('rejects an expired assertion', async () => {
    const { login, samlResponse } = await respond({
      notBefore: new Date(Date.now() - 60 * 60_000),
      notOnOrAfter: new Date(Date.now() - 30 * 60_000),
    })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('expired')
  })

  it('rejects an assertion not yet valid', async () => {
    const { login, samlResponse } = await respond({
      notBefore: new Date(Date.now() + 30 * 60_000),
      notOnOrAfter: new Date(Date.now() + 60 * 60_000),
    })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('not valid before')
  })

  it('accepts a clock difference within the skew', async () => {
    const { login, samlResponse } = await respond({
      notBefore: new Date(Date.now() + 60_000),
      notOnOrAfter: new Date(Date.now() + 5 * 60_000),
    })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.error).toBeNull()
    expect(outcome.code).toMatch(/^fxc_/)
  })

  it('rejects a replayed response', async () => {
    const { login, samlResponse } = await respond()
    const first = await postToAcs(test, login.acsUrl, samlResponse)
    expect(first.code).toMatch(/^fxc_/)

    const replay = await postToAcs(test, login.acsUrl, samlResponse)

    expect(replay.status).toBe(401)
    expect(replay.code).toBeNull()
    expect(replay.error).toContain('already answered')
  })

  it('rejects a replayed assertion under a new request', async () => {
    const assertionId = '_replayed0123456789abcdef'
    const first = await respond({ assertionId })
    expect((await postToAcs(test, first.login.acsUrl, first.samlResponse)).code).toMatch(/^fxc_/)
    const second = await respond({ assertionId })

    const outcome = await postToAcs(test, second.login.acsUrl, second.samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain(`assertion ${assertionId} was already used`)
  })

  it('rejects an unknown InResponseTo', async () => {
    const { login, samlResponse } = await respond({ requestId: '_0123456789abcdef0123456789abcdef01234567' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.status).toBe(401)
    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('which this server did not send')
  })

  it('rejects a response to an expired request', async () => {
    const { login, samlResponse } = await respond()
    await test.services.database.db
      .updateTable('sso_requests')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', login.id)
      .execute()

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain(`request ${login.id} expired`)
  })

  it("rejects a response to another workspace's request", async () => {
    const other = await signUp(test, { email: 'admin@other.test' })
    await verifyEmail(test, other.user.id)
    await configureSso(test, other.token, other.workspace.id, idp)
    const { login, samlResponse } = await respond()
    const otherAcs = login.acsUrl.replace(workspaceId, other.workspace.id)

    const outcome = await postToAcs(test, otherAcs, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('which this server did not send for this workspace')
  })

  it('rejects an unsolicited response', async () => {
    const { login, samlResponse } = await respond({ requestId: null })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.status).toBe(401)
    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('unsolicited')
  })

  it('rejects a SHA-1 signature', async () => {
    const { login, samlResponse } = await respond({ algorithm: 'sha1' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('SHA-1')
  })

  it('rejects a signature-wrapping attempt', async () => {
    const { login, samlResponse } = await respond()

    const outcome = await postToAcs(test, login.acsUrl, wrapSignature(samlResponse, 'admin@acme.test'))

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('signature wrapping')
  })

  it('rejects an assertion edited after signing', async () => {
    const { login, samlResponse } = await respond()
    const edited = Buffer.from(
      Buffer.from(samlResponse, 'base64').toString('utf8').replaceAll('grace@acme.test', 'admin@acme.test'),
    ).toString('base64')

    const outcome = await postToAcs(test, login.acsUrl, edited)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('signature does not verify')
  })

  it('rejects another issuer', async () => {
    const { login, samlResponse } = await respond({ issuer: 'https://evil.example.test/metadata' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('Issuer')
  })

  it('rejects a document type declaration', async () => {
    const { login, samlResponse } = await respond()
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8')
    const withDoctype = Buffer.from(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml}`).toString('base64')

    const outcome = await postToAcs(test, login.acsUrl, withDoctype)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('document type declaration')
  })

  it('rejects an outsider from an unlisted domain', async () => {
    const { login, samlResponse } = await respond({ email: 'mallory@elsewhere.test' })

    const outcome = await postToAcs(test, login.acsUrl, samlResponse)

    expect(outcome.code).toBeNull()
    expect(outcome.error).toContain('elsewhere.test is not one of its SSO domains')
  })

  it('reports a failure status from the provider', async () => {
    const login = await startSsoLogin(test, workspaceId)
    const xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_f1" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${login.acsUrl}" InResponseTo="${login.id}">` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode>' +
      '<samlp:StatusMessage>User is not assigned to this application</samlp:StatusMessage></samlp:Status></samlp:Response>'

    const outcome = await postToAcs(test, login.acsUrl, Buffer.from(xml).toString('base64'))

    expect(outcome.code).toBeNull()
    expect(outcome.error).toBe(
      'the response contains no assertion; the identity provider reported Responder/RequestDenied: User is not assigned to this application',
    )
  })

  it('records rejected responses in the audit log', async () => {
    const { login, samlResponse } = await respond({ sign: 'none' })
    await postToAcs(test, login.acsUrl, samlResponse)

    const rows = await test.services.database.db
      .selectFrom('audit_events')
      .select(['action', 'data'])
      .where('workspace_id', '=', workspaceId)
      .where('action', '=', 'sso.login_failed')
      .execute()

    expect(rows.some((row) => (row.data ?? '').includes('not signed'))).toBe(true)
  })
})
