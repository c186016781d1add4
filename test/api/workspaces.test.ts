import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { addMember, createTestApp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { createPrincipals, insertWorkspaceToken, type PrincipalFixture } from '../helpers/principals.js'

describe('workspaces', () => {
  let test: TestApp
  let fixture: PrincipalFixture
  let admin: string

  beforeAll(async () => {
    test = await createTestApp('sqlite')
    fixture = await createPrincipals(test)
    admin = await fixture.session(fixture.admin)
  })
  afterAll(async () => {
    await test.close()
  })

  it('creates another workspace with the creator as admin', async () => {
    const created = await test.call('POST', '/v1/workspaces', { token: admin, body: { name: ' Second Lab ' } })
    const listed = await test.call('GET', '/v1/workspaces', { token: admin })

    expect(created.status).toBe(201)
    expect(created.body.name).toBe('Second Lab')
    expect(created.body.role).toBe('admin')
    const found = listed.body.data.find((row: { id: string }) => row.id === created.body.id)
    expect(found.role).toBe('admin')
    expect(listed.body.data.some((row: { id: string }) => row.id === fixture.workspaceId)).toBe(true)
  })

  it('lists every workspace a user belongs to with its role', async () => {
    const member = await fixture.session(fixture.member)
    await addMember(test, fixture.otherWorkspaceId, fixture.member, 'admin')

    const listed = await test.call('GET', '/v1/workspaces', { token: member })

    const roles = Object.fromEntries(listed.body.data.map((row: { id: string; role: string }) => [row.id, row.role]))
    expect(roles[fixture.workspaceId]).toBe('member')
    expect(roles[fixture.otherWorkspaceId]).toBe('admin')
  })

  it('reports the role and effective permissions', async () => {
    const { effectivePermissions } = await import('../../shared/permissions.js')
    const withheld = await fixture.session(fixture.withheldMember)

    const asAdmin = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}/me`, { token: admin })
    const asWithheld = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}/me`, { token: withheld })

    expect(asAdmin.body.role).toBe('admin')
    expect(asAdmin.body.permissions).toEqual(effectivePermissions('admin'))
    expect(asWithheld.body.role).toBe('member')
    expect(asWithheld.body.permissions).toEqual(effectivePermissions('member', ['phi:read']))
    expect(asWithheld.body.permissions).not.toContain('phi:read')
  })

  it('rejects a name that looks like an id', async () => {
    const answer = await test.call('POST', '/v1/workspaces', { token: admin, body: { name: 'ws_lookalike' } })

    expect(answer.status).toBe(422)
    expect(answer.body.error.field).toBe('name')
  })

  it('resolves a workspace by id or by name in any case', async () => {
    const created = await test.call('POST', '/v1/workspaces', { token: admin, body: { name: 'Orion Clinic' } })

    const byId = await test.call('GET', `/v1/workspaces/${created.body.id}`, { token: admin })
    const byName = await test.call('GET', `/v1/workspaces/${encodeURIComponent('orion CLINIC')}`, { token: admin })

    expect(byId.status).toBe(200)
    expect(byName.status).toBe(200)
    expect(byName.body.id).toBe(created.body.id)
  })

  it('rejects an ambiguous name with 409', async () => {
    await test.call('POST', '/v1/workspaces', { token: admin, body: { name: 'Twin' } })
    await test.call('POST', '/v1/workspaces', { token: admin, body: { name: 'twin' } })

    const answer = await test.call('GET', '/v1/workspaces/Twin', { token: admin })

    expect(answer.status).toBe(409)
    expect(answer.body.error.code).toBe('conflict')
    expect(answer.body.error.message).toContain('workspace id')
  })

  it('hides workspaces of others by name and by id', async () => {
    const outsider = await fixture.session(fixture.outsider)
    const settings = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}`, { token: admin })

    const byId = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}`, { token: outsider })
    const byName = await test.call('GET', `/v1/workspaces/${encodeURIComponent(settings.body.name)}`, { token: outsider })

    expect(byId.status).toBe(404)
    expect(byName.status).toBe(404)
  })

  it('shows settings with settings:read only', async () => {
    const token = await insertWorkspaceToken(test, fixture.workspaceId, fixture.admin, ['settings:read'])

    const shown = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}`, { token })
    const changed = await test.call('PATCH', `/v1/workspaces/${fixture.workspaceId}`, { token, body: { name: 'Nope' } })

    expect(shown.status).toBe(200)
    expect(shown.body.id).toBe(fixture.workspaceId)
    expect(changed.status).toBe(403)
    expect(changed.body.error.permission).toBe('settings:manage')
  })

  it('refuses to show settings without settings:read', async () => {
    const token = await insertWorkspaceToken(test, fixture.workspaceId, fixture.admin, ['settings:manage'])

    const shown = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}`, { token })

    expect(shown.status).toBe(403)
    expect(shown.body.error.permission).toBe('settings:read')
  })

  it('renames the workspace with settings:manage and audits it', async () => {
    const token = await insertWorkspaceToken(test, fixture.workspaceId, fixture.admin, ['settings:manage'])

    const changed = await test.call('PATCH', `/v1/workspaces/${fixture.workspaceId}`, { token, body: { name: 'Renamed Lab' } })
    const shown = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}`, { token: admin })
    const audit = await test.services.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('workspace_id', '=', fixture.workspaceId)
      .where('action', '=', 'settings.update')
      .execute()

    expect(changed.status).toBe(200)
    expect(changed.body.name).toBe('Renamed Lab')
    expect(shown.body.name).toBe('Renamed Lab')
    expect(audit).toHaveLength(1)
    expect(audit[0].actor_type).toBe('token')
  })
})

const DIALECTS = await dialects()

describe.each(DIALECTS)('workspace names on %s', (dialect) => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp(dialect)
  })
  afterAll(async () => {
    await test?.close()
  })

  it.each(['Ärzte Nord', 'ärzte nord', 'ÄRZTE NORD'])('resolves a non-ASCII name given as %s', async (reference) => {
    const fixture = await createPrincipals(test)
    const admin = await fixture.session(fixture.admin)
    const created = await test.call('POST', '/v1/workspaces', { token: admin, body: { name: 'Ärzte Nord' } })

    const answer = await test.call('GET', `/v1/workspaces/${encodeURIComponent(reference)}`, { token: admin })

    expect(answer.status).toBe(200)
    expect(answer.body.id).toBe(created.body.id)
  })
})
