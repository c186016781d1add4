import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { createPrincipals, type PrincipalFixture } from '../helpers/principals.js'

describe('applications', () => {
  let test: TestApp
  let fixture: PrincipalFixture
  let admin: string
  let base: string

  const create = (body: unknown, token = admin) => test.call('POST', `${base}/apps`, { token, body })

  beforeAll(async () => {
    test = await createTestApp('sqlite')
    fixture = await createPrincipals(test)
    admin = await fixture.session(fixture.admin)
    base = `/v1/workspaces/${fixture.workspaceId}`
  })
  afterAll(async () => {
    await test.close()
  })

  it('creates, lists, shows, updates and deletes one', async () => {
    const created = await create({ name: 'Lifecycle', redirect_uris: ['https://example.com/cb'] })
    const id = created.body.id
    const listed = await test.call('GET', `${base}/apps`, { token: admin })
    const byName = await test.call('GET', `${base}/apps/LIFECYCLE`, { token: admin })
    const updated = await test.call('PATCH', `${base}/apps/${id}`, {
      token: admin,
      body: { name: 'Lifecycle Two', redirect_uris: ['http://localhost:3000/cb', 'https://example.org/cb'] },
    })
    const deleted = await test.call('DELETE', `${base}/apps/lifecycle%20two`, { token: admin })
    const gone = await test.call('GET', `${base}/apps/${id}`, { token: admin })
    const keysLeft = await test.services.database.db.selectFrom('api_keys').select('id').where('application_id', '=', id).execute()

    expect(created.status).toBe(201)
    expect(id).toMatch(/^app_/)
    expect(created.body.keys.publishable_key).toMatch(/^pk_test_/)
    expect(created.body.keys.secret_key).toMatch(/^sk_test_/)
    expect(listed.body.data.map((app: { id: string }) => app.id)).toContain(id)
    expect(byName.body.id).toBe(id)
    expect(byName.body.redirect_uris).toEqual(['https://example.com/cb'])
    expect(updated.status).toBe(200)
    expect(updated.body.name).toBe('Lifecycle Two')
    expect(updated.body.redirect_uris).toEqual(['http://localhost:3000/cb', 'https://example.org/cb'])
    expect(deleted.status).toBe(200)
    expect(deleted.body.deleted).toBe(true)
    expect(gone.status).toBe(404)
    expect(keysLeft).toEqual([])
  })

  it('rejects a duplicate name in any case', async () => {
    await create({ name: 'Portal' })

    const duplicate = await create({ name: ' PORTAL ' })

    expect(duplicate.status).toBe(409)
    expect(duplicate.body.error.code).toBe('already_exists')
    expect(duplicate.body.error.field).toBe('name')
  })

  it('rejects a rename onto another name in any case', async () => {
    await create({ name: 'Alpha' })
    const beta = await create({ name: 'Beta' })

    const renamed = await test.call('PATCH', `${base}/apps/${beta.body.id}`, { token: admin, body: { name: 'aLPHA' } })

    expect(renamed.status).toBe(409)
    expect(renamed.body.error.code).toBe('already_exists')
  })

  it('allows a change of case in its own name', async () => {
    const gamma = await create({ name: 'gamma' })

    const renamed = await test.call('PATCH', `${base}/apps/${gamma.body.id}`, { token: admin, body: { name: 'Gamma' } })

    expect(renamed.status).toBe(200)
    expect(renamed.body.name).toBe('Gamma')
  })

  it('allows the same name in another workspace', async () => {
    await create({ name: 'Shared Name' })
    const outsider = await fixture.session(fixture.outsider)

    const elsewhere = await test.call('POST', `/v1/workspaces/${fixture.otherWorkspaceId}/apps`, {
      token: outsider,
      body: { name: 'shared name' },
    })

    expect(elsewhere.status).toBe(201)
  })

  it('hides applications from another workspace', async () => {
    const app = await create({ name: 'Private' })
    const outsider = await fixture.session(fixture.outsider)

    const inOwn = await test.call('GET', `/v1/workspaces/${fixture.otherWorkspaceId}/apps/${app.body.id}`, { token: outsider })
    const inTheirs = await test.call('GET', `${base}/apps/${app.body.id}`, { token: outsider })

    expect(inOwn.status).toBe(404)
    expect(inTheirs.status).toBe(404)
  })

  it.each([
    'https://example.com/callback',
    'https://example.com:8443/cb?state=1',
    'http://localhost/cb',
    'http://localhost:3000/cb',
    'http://127.0.0.1:8080/cb',
    'http://[::1]:9000/cb',
  ])('accepts the redirect URI %s', async (uri) => {
    const answer = await create({ name: `ok ${uri}`.slice(0, 100), redirect_uris: [uri] })

    expect(answer.status).toBe(201)
    expect(answer.body.redirect_uris).toEqual([uri])
  })

  it.each([
    'http://example.com/cb',
    'http://localhost.example.com/cb',
    'http://127.0.0.2/cb',
    'https://example.com/cb#section',
    'https://example.com/cb#',
    'ftp://example.com/cb',
    'javascript:alert(1)',
    'example.com/cb',
  ])('rejects the redirect URI %s naming it', async (uri) => {
    const answer = await create({ name: `bad ${uri}`.slice(0, 100), redirect_uris: ['https://fine.example/cb', uri] })

    expect(answer.status).toBe(422)
    expect(answer.body.error.code).toBe('validation_failed')
    expect(answer.body.error.message).toContain(uri)
    expect(answer.body.error.field).toBe('redirect_uris.1')
  })

  it.each(['https://user:secret@example.com/cb', 'https://user@example.com/cb', 'http://:secret@localhost:3000/cb'])(
    'rejects credentials in the redirect URI %s',
    async (uri) => {
      const answer = await create({ name: `creds ${uri}`.slice(0, 100), redirect_uris: [uri] })

      expect(answer.status).toBe(422)
      expect(answer.body.error.field).toBe('redirect_uris.0')
      expect(answer.body.error.message).toContain('must not contain a user name or password')
      expect(answer.body.error.message).not.toContain('secret')
    },
  )

  it('rejects a redirect URI listed twice', async () => {
    const uris = ['https://a.example/cb', 'https://b.example/cb', 'https://A.example/cb']

    const created = await create({ name: 'Twice', redirect_uris: uris })
    const app = await create({ name: 'Twice On Update' })
    const updated = await test.call('PATCH', `${base}/apps/${app.body.id}`, { token: admin, body: { redirect_uris: ['https://c.example/cb', 'https://c.example/cb'] } })

    expect(created.status).toBe(422)
    expect(created.body.error.field).toBe('redirect_uris.2')
    expect(created.body.error.message).toBe('redirect_uris.2: "https://A.example/cb" is listed more than once')
    expect(updated.status).toBe(422)
    expect(updated.body.error.message).toContain('"https://c.example/cb" is listed more than once')
  })

  it('replaces the redirect URIs on update', async () => {
    const app = await create({ name: 'Replace', redirect_uris: ['https://a.example/cb', 'https://b.example/cb'] })

    const updated = await test.call('PATCH', `${base}/apps/${app.body.id}`, { token: admin, body: { redirect_uris: ['https://c.example/cb'] } })
    const cleared = await test.call('PATCH', `${base}/apps/${app.body.id}`, { token: admin, body: { redirect_uris: [] } })

    expect(updated.body.redirect_uris).toEqual(['https://c.example/cb'])
    expect(cleared.body.redirect_uris).toEqual([])
  })

  it('rejects a bad redirect URI on update', async () => {
    const app = await create({ name: 'Update Check' })

    const answer = await test.call('PATCH', `${base}/apps/${app.body.id}`, { token: admin, body: { redirect_uris: ['http://example.com/x'] } })

    expect(answer.status).toBe(422)
    expect(answer.body.error.message).toContain('http://example.com/x')
  })

  it('audits creation, update and deletion', async () => {
    const app = await create({ name: 'Audited' })
    await test.call('PATCH', `${base}/apps/${app.body.id}`, { token: admin, body: { name: 'Audited 2' } })
    await test.call('DELETE', `${base}/apps/${app.body.id}`, { token: admin })

    const actions = await test.services.database.db
      .selectFrom('audit_events')
      .select(['action', 'data'])
      .where('target_id', '=', app.body.id)
      .execute()

    expect(actions.map((row) => row.action).sort()).toEqual(['application.create', 'application.delete', 'application.update'])
    expect(JSON.stringify(actions)).not.toContain(app.body.keys.secret_key)
  })
})
