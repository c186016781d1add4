import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { declaredAccess } from '../../server/auth.js'
import { addMember, createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'

const DAY_MS = 86_400_000

for (const dialect of await dialects()) {
  describe(`audit log on ${dialect}`, () => {
    let test: TestApp
    let admin: Awaited<ReturnType<typeof signUp>>
    let member: Awaited<ReturnType<typeof signUp>>
    let outsider: Awaited<ReturnType<typeof signUp>>
    let tokenId: string
    let base: string

    beforeAll(async () => {
      test = await createTestApp(dialect)
      admin = await signUp(test, { workspace_name: 'Audited' })
      member = await signUp(test)
      outsider = await signUp(test)
      await addMember(test, admin.workspace.id, member.user.id)
      base = `/v1/workspaces/${admin.workspace.id}`

      await test.call('POST', `${base}/apps`, { token: admin.token, body: { name: 'Portal' } })
      await test.call('PATCH', `${base}`, { token: admin.token, body: { name: 'Audited Inc' } })
      const token = await test.call('POST', `${base}/tokens`, {
        token: admin.token,
        body: { name: 'ci', permissions: ['api-keys-test:manage'] },
      })
      tokenId = token.body.id
      await test.call('POST', `${base}/apps/portal/keys/test/rotate`, { token: token.body.token, body: {} })
      await test.call('POST', `${base}/apps/portal/keys/test/rotate`, { token: member.token, body: {} })
      await test.services.database.db
        .insertInto('audit_events')
        .values([
          { id: 'aud_old10', workspace_id: admin.workspace.id, actor_type: 'user', actor_id: admin.user.id, actor_label: admin.user.email, action: 'settings.update', target_type: null, target_id: null, address: null, request_id: null, data: null, created_at: new Date(Date.now() - 10 * DAY_MS).toISOString() },
          { id: 'aud_old03', workspace_id: admin.workspace.id, actor_type: 'user', actor_id: admin.user.id, actor_label: admin.user.email, action: 'settings.update', target_type: null, target_id: null, address: null, request_id: null, data: null, created_at: new Date(Date.now() - 3 * DAY_MS).toISOString() },
        ])
        .execute()
    })
    afterAll(async () => {
      await test.close()
    })

    async function list(query = '', token = admin.token) {
      return test.call('GET', `${base}/audit${query}`, { token })
    }

    const actions = (body: { data: { action: string }[] }) => body.data.map((event) => event.action)
    const ids = (body: { data: { id: string }[] }) => body.data.map((event) => event.id)

    it('records changes to the workspace newest first', async () => {
      const response = await list()

      expect(response.status).toBe(200)
      expect(actions(response.body)).toEqual([
        'keys.rotate',
        'keys.rotate',
        'token.create',
        'settings.update',
        'application.create',
        'workspace.create',
        'settings.update',
        'settings.update',
      ])
      expect(response.body.data[0].actor_id).toBe(member.user.id)
      expect(response.body.data[0].request_id).toMatch(/^req_/)
      expect(response.body.next_cursor).toBeNull()
    })

    it('filters by exact action and by prefix', async () => {
      const exact = await list('?action=token.create')
      const prefix = await list('?action=keys.')
      const star = await list('?action=settings*')
      const none = await list('?action=keys')

      expect(actions(exact.body)).toEqual(['token.create'])
      expect(actions(prefix.body)).toEqual(['keys.rotate', 'keys.rotate'])
      expect(actions(star.body)).toEqual(['settings.update', 'settings.update', 'settings.update'])
      expect(none.body.data).toEqual([])
    })

    it('filters by actor id, email and token id', async () => {
      const byToken = await list(`?actor=${tokenId}`)
      const byMemberId = await list(`?actor=${member.user.id}`)
      const byEmail = await list(`?actor=${encodeURIComponent(` ${admin.user.email.toUpperCase()}`)}`)

      expect(actions(byToken.body)).toEqual(['keys.rotate'])
      expect(byToken.body.data[0].actor_type).toBe('token')
      expect(byToken.body.data[0].actor_label).toBe('ci')
      expect(actions(byMemberId.body)).toEqual(['keys.rotate'])
      expect(byEmail.body.data).toHaveLength(6)
      expect(byEmail.body.data.every((event: { actor_id: string }) => event.actor_id === admin.user.id)).toBe(true)
    })

    it('rejects an actor that is neither id nor email', async () => {
      const response = await list('?actor=ada')

      expect(response.status).toBe(422)
      expect(response.body.error.field).toBe('actor')
    })

    it('filters by relative and ISO times', async () => {
      const lastWeek = await list('?since=7d')
      const olderThanWeek = await list('?until=7d')
      const fiveDaysAgo = new Date(Date.now() - 5 * DAY_MS).toISOString()
      const window = await list(`?since=${fiveDaysAgo.slice(0, 10)}&until=1d`)

      expect(ids(lastWeek.body)).not.toContain('aud_old10')
      expect(ids(lastWeek.body)).toContain('aud_old03')
      expect(ids(olderThanWeek.body)).toEqual(['aud_old10'])
      expect(ids(window.body)).toEqual(['aud_old03'])
    })

    it('rejects a malformed time', async () => {
      const response = await list('?since=yesterday')

      expect(response.status).toBe(422)
      expect(response.body.error.field).toBe('since')
    })

    it.each(['2026-02-30', '2026-04-31T10:00:00Z', '2025-02-29'])('rejects the impossible date %s', async (date) => {
      const since = await list(`?since=${encodeURIComponent(date)}`)
      const until = await list(`?until=${encodeURIComponent(date)}`)

      expect(since.status).toBe(422)
      expect(since.body.error.field).toBe('since')
      expect(since.body.error.message).toContain(date)
      expect(until.status).toBe(422)
      expect(until.body.error.field).toBe('until')
    })

    it('rejects since later than until', async () => {
      const response = await list('?since=2026-03-01&until=2026-02-01')
      const relative = await list('?since=1d&until=7d')

      expect(response.status).toBe(422)
      expect(response.body.error.field).toBe('since')
      expect(response.body.error.message).toContain('is later than until')
      expect(relative.status).toBe(422)
      expect(relative.body.error.field).toBe('since')
    })

    it('pages with a cursor without gaps or repeats', async () => {
      const all = await list()
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page = await list(cursor ? `?limit=3&cursor=${cursor}` : '?limit=3')
        expect(page.status).toBe(200)
        seen.push(...ids(page.body))
        cursor = page.body.next_cursor
        pages += 1
      } while (cursor)

      expect(pages).toBe(3)
      expect(seen).toEqual(ids(all.body))
    })

    it('rejects a cursor it did not issue', async () => {
      const response = await list('?cursor=not-a-cursor')

      expect(response.status).toBe(422)
      expect(response.body.error.field).toBe('cursor')
    })

    it('requires team:manage', async () => {
      const byMember = await list('', member.token)
      const byOutsider = await list('', outsider.token)

      expect(byMember.status).toBe(403)
      expect(byMember.body.error.permission).toBe('team:manage')
      expect(byOutsider.status).toBe(404)
    })

    it('never stores a secret', async () => {
      const rotated = await test.call('POST', `${base}/apps/portal/keys/test/rotate`, { token: admin.token, body: {} })
      const rows = await test.services.database.db.selectFrom('audit_events').selectAll().execute()

      expect(JSON.stringify(rows)).not.toContain(rotated.body.secret_key)
      expect(JSON.stringify(rows)).not.toMatch(/sk_test_|fxw_|fxs_/)
    })

    it('rejects updates and deletes of audit rows', async () => {
      const { db } = test.services.database

      await expect(db.updateTable('audit_events').set({ action: 'forged' }).execute()).rejects.toThrow(/append-only/)
      await expect(db.deleteFrom('audit_events').where('id', '=', 'aud_old10').execute()).rejects.toThrow(/append-only/)
      const kept = await db.selectFrom('audit_events').select('id').where('id', '=', 'aud_old10').execute()
      expect(kept).toHaveLength(1)
    })

    it.runIf(dialect === 'postgres')('rejects truncating audit rows', async () => {
      const { db } = test.services.database

      await expect(sql`truncate audit_events`.execute(db)).rejects.toThrow(/append-only/)
      const kept = await db.selectFrom('audit_events').select('id').execute()
      expect(kept.length).toBeGreaterThan(0)
    })
  })

  describe(`leaving and deleting workspaces on ${dialect}`, () => {
    let test: TestApp

    beforeAll(async () => {
      test = await createTestApp(dialect)
    })
    afterAll(async () => {
      await test.close()
    })

    it('hides leave and delete from outsiders', async () => {
      const admin = await signUp(test, { workspace_name: 'Private' })
      const outsider = await signUp(test)
      const path = `/v1/workspaces/${admin.workspace.id}`

      const leave = await test.call('POST', `${path}/leave`, { token: outsider.token })
      const remove = await test.call('DELETE', `${path}?confirm=Private`, { token: outsider.token })
      const create = await test.call('POST', `${path}/tokens`, { token: outsider.token, body: { name: 'x', permissions: ['settings:read'] } })

      expect(leave.status).toBe(404)
      expect(remove.status).toBe(404)
      expect(create.status).toBe(404)
    })

    it('declares access on every new route', () => {
      const routes = test.app.routes.filter(
        (route) => /\/(tokens|audit|leave)\b/.test(route.path) || (route.method === 'DELETE' && route.path === '/v1/workspaces/:workspace'),
      )
      const undeclared = routes.filter(
        (route) => !test.app.routes.some((other) => other.path === route.path && other.method === route.method && declaredAccess(other.handler)),
      )

      expect(routes.length).toBeGreaterThanOrEqual(6)
      expect(undeclared).toEqual([])
    })

    it('rejects the last admin leaving', async () => {
      const admin = await signUp(test)

      const response = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/leave`, { token: admin.token })

      expect(response.status).toBe(412)
      expect(response.body.error.message).toContain('last admin')
    })

    it('lets a member leave and revokes their tokens', async () => {
      const admin = await signUp(test)
      const member = await signUp(test)
      await addMember(test, admin.workspace.id, member.user.id)
      const base = `/v1/workspaces/${admin.workspace.id}`
      const token = await test.call('POST', `${base}/tokens`, { token: member.token, body: { name: 'm', permissions: ['settings:read'] } })

      const response = await test.call('POST', `${base}/leave`, { token: member.token })
      const after = await test.call('GET', `${base}/me`, { token: member.token })
      const tokens = await test.call('GET', `${base}/tokens`, { token: admin.token })
      const audit = await test.call('GET', `${base}/audit?action=member.leave`, { token: admin.token })

      expect(response.status).toBe(200)
      expect(response.body.revoked_token_ids).toEqual([token.body.id])
      expect(after.status).toBe(404)
      expect(tokens.body.data[0].status).toBe('revoked')
      expect(audit.body.data[0].actor_id).toBe(member.user.id)
    })

    it('lets an admin leave when another admin remains', async () => {
      const admin = await signUp(test)
      const second = await signUp(test)
      await addMember(test, admin.workspace.id, second.user.id, 'admin')

      const response = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/leave`, { token: admin.token })
      const last = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/leave`, { token: second.token })

      expect(response.status).toBe(200)
      expect(last.status).toBe(412)
    })

    it('rejects a token leaving', async () => {
      const admin = await signUp(test)
      const token = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/tokens`, {
        token: admin.token,
        body: { name: 't', permissions: ['team:manage'] },
      })

      const response = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/leave`, { token: token.body.token })

      expect(response.status).toBe(403)
    })

    it('rejects deleting without team:manage or the name', async () => {
      const admin = await signUp(test, { workspace_name: 'Keep' })
      const member = await signUp(test)
      await addMember(test, admin.workspace.id, member.user.id)
      const token = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/tokens`, {
        token: admin.token,
        body: { name: 't', permissions: ['team:manage'] },
      })
      const path = `/v1/workspaces/${admin.workspace.id}`

      const byMember = await test.call('DELETE', `${path}?confirm=Keep`, { token: member.token })
      const byToken = await test.call('DELETE', `${path}?confirm=Keep`, { token: token.body.token })
      const unconfirmed = await test.call('DELETE', path, { token: admin.token })
      const mismatch = await test.call('DELETE', `${path}?confirm=keep`, { token: admin.token })
      const stillThere = await test.call('GET', path, { token: admin.token })

      expect(byMember.status).toBe(403)
      expect(byToken.status).toBe(403)
      expect(unconfirmed.status).toBe(422)
      expect(unconfirmed.body.error.field).toBe('confirm')
      expect(mismatch.status).toBe(422)
      expect(stillThere.status).toBe(200)
    })

    it('deletes the workspace and keeps its audit rows', async () => {
      const admin = await signUp(test, { workspace_name: 'Doomed' })
      const path = `/v1/workspaces/${admin.workspace.id}`
      const app = await test.call('POST', `${path}/apps`, { token: admin.token, body: { name: 'Gone' } })
      await test.call('POST', `${path}/tokens`, { token: admin.token, body: { name: 't', permissions: ['settings:read'] } })
      const { db } = test.services.database
      const before = await db.selectFrom('audit_events').select('id').where('workspace_id', '=', admin.workspace.id).execute()

      const response = await test.call('DELETE', `${path}?confirm=Doomed`, { token: admin.token })

      expect(response.status).toBe(200)
      expect(response.body.deleted).toBe(true)
      expect((await test.call('GET', path, { token: admin.token })).status).toBe(404)
      const apps = await db.selectFrom('applications').select('id').where('workspace_id', '=', admin.workspace.id).execute()
      const keys = await db.selectFrom('api_keys').select('id').where('application_id', '=', app.body.id).execute()
      const tokens = await db.selectFrom('workspace_tokens').select('id').where('workspace_id', '=', admin.workspace.id).execute()
      const members = await db.selectFrom('memberships').select('user_id').where('workspace_id', '=', admin.workspace.id).execute()
      expect(apps).toEqual([])
      expect(keys).toEqual([])
      expect(tokens).toEqual([])
      expect(members).toEqual([])
      const after = await db
        .selectFrom('audit_events')
        .select(['id', 'action'])
        .where('workspace_id', '=', admin.workspace.id)
        .orderBy('created_at')
        .execute()
      expect(after.map((row) => row.id)).toEqual(expect.arrayContaining(before.map((row) => row.id)))
      expect(after.at(-1)?.action).toBe('workspace.delete')
    })
  })
}
