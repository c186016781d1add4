import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { addMember, createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'

for (const dialect of await dialects()) {
  describe(`workspace tokens on ${dialect}`, () => {
    let test: TestApp
    let admin: Awaited<ReturnType<typeof signUp>>
    let member: Awaited<ReturnType<typeof signUp>>
    let outsider: Awaited<ReturnType<typeof signUp>>

    beforeAll(async () => {
      test = await createTestApp(dialect)
      admin = await signUp(test, { workspace_name: 'Acme' })
      member = await signUp(test)
      outsider = await signUp(test)
      await addMember(test, admin.workspace.id, member.user.id)
      const created = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/apps`, {
        token: admin.token,
        body: { name: 'Portal' },
      })
      expect(created.status).toBe(201)
    })
    afterAll(async () => {
      await test.close()
    })

    const tokensPath = () => `/v1/workspaces/${admin.workspace.id}/tokens`

    async function createToken(token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
      return test.call('POST', tokensPath(), { token, body, headers })
    }

    it('creates a token shown once and stored as a hash', async () => {
      const response = await createToken(admin.token, { name: 'ci', permissions: ['api-keys-test:manage'] })

      expect(response.status).toBe(201)
      expect(response.body.token).toMatch(/^fxw_/)
      expect(response.body.id).toMatch(/^tok_/)
      expect(response.body.permissions).toEqual(['api-keys-test:manage'])
      expect(response.body.status).toBe('active')
      const lifetime = Date.parse(response.body.expires_at) - Date.parse(response.body.created_at)
      expect(lifetime).toBe(90 * 86_400_000)
      const row = await test.services.database.db
        .selectFrom('workspace_tokens')
        .selectAll()
        .where('id', '=', response.body.id)
        .executeTakeFirstOrThrow()
      expect(row.token_hash).not.toContain(response.body.token)
      expect(JSON.stringify(row)).not.toContain(response.body.token)
      const listed = await test.call('GET', tokensPath(), { token: admin.token })
      expect(JSON.stringify(listed.body)).not.toContain(response.body.token)
    })

    it('rejects an unknown permission and lists the valid codes', async () => {
      const response = await createToken(admin.token, { name: 'ci', permissions: ['keys:rotate'] })

      expect(response.status).toBe(422)
      expect(response.body.error.field).toBe('permissions.0')
      expect(response.body.error.message).toContain('"keys:rotate" is not a permission')
      expect(response.body.error.message).toContain('api-keys-test:manage')
    })

    it('rejects a lifetime over 365 days', async () => {
      const response = await createToken(admin.token, {
        name: 'ci',
        permissions: ['settings:read'],
        expires_in_seconds: 366 * 86_400,
      })

      expect(response.status).toBe(422)
      expect(response.body.error.field).toBe('expires_in_seconds')
    })

    it('rejects a permission its creator does not hold', async () => {
      const response = await createToken(member.token, { name: 'ci', permissions: ['api-keys-live:manage'] })

      expect(response.status).toBe(403)
      expect(response.body.error.permission).toBe('api-keys-live:manage')
    })

    it('rejects a token creating a token', async () => {
      const created = await createToken(admin.token, { name: 'minter', permissions: ['team:manage'] })

      const response = await createToken(created.body.token, { name: 'child', permissions: ['team:manage'] })

      expect(response.status).toBe(403)
    })

    it('replays the same token for the same idempotency key', async () => {
      const headers = { 'idempotency-key': 'pipeline-42-token' }
      const body = { name: 'replayed', permissions: ['settings:read'] }

      const first = await createToken(admin.token, body, headers)
      const second = await createToken(admin.token, body, headers)
      const other = await createToken(admin.token, { ...body, name: 'other' }, headers)

      expect(first.status).toBe(201)
      expect(second.status).toBe(201)
      expect(second.headers.get('idempotent-replayed')).toBe('true')
      expect(second.body.token).toBe(first.body.token)
      expect(second.body.id).toBe(first.body.id)
      expect(other.status).toBe(409)
      expect(other.body.error.code).toBe('idempotency_key_reused')
      const rows = await test.services.database.db
        .selectFrom('workspace_tokens')
        .select('id')
        .where('name', '=', 'replayed')
        .execute()
      expect(rows).toHaveLength(1)
    })

    it('allows a token exactly what it holds', async () => {
      const created = await createToken(admin.token, { name: 'narrow', permissions: ['api-keys-test:manage'] })
      const token = created.body.token
      const base = `/v1/workspaces/${admin.workspace.id}`

      const rotated = await test.call('POST', `${base}/apps/portal/keys/test/rotate`, { token, body: {} })
      const live = await test.call('POST', `${base}/apps/portal/keys/live/rotate`, { token, body: {} })
      const listApps = await test.call('GET', `${base}/apps`, { token })
      const createApp = await test.call('POST', `${base}/apps`, { token, body: { name: 'Other' } })
      const audit = await test.call('GET', `${base}/audit`, { token })

      expect(rotated.status).toBe(200)
      expect(rotated.body.secret_key).toMatch(/^sk_test_/)
      expect(live.status).toBe(403)
      expect(listApps.status).toBe(403)
      expect(createApp.status).toBe(403)
      expect(audit.status).toBe(403)
    })

    it('limits a token to what its creator holds now', async () => {
      const demoted = await signUp(test)
      await addMember(test, admin.workspace.id, demoted.user.id, 'admin')
      const created = await createToken(demoted.token, { name: 'admin-ci', permissions: ['team:manage', 'settings:read'] })
      await test.services.database.db
        .updateTable('memberships')
        .set({ role: 'member' })
        .where('user_id', '=', demoted.user.id)
        .execute()

      const audit = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/audit`, { token: created.body.token })
      const apps = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/apps`, { token: created.body.token })

      expect(audit.status).toBe(403)
      expect(apps.status).toBe(200)
    })

    it('disables a token at once when revoked', async () => {
      const created = await createToken(member.token, { name: 'short', permissions: ['settings:read'] })
      const apps = `/v1/workspaces/${admin.workspace.id}/apps`
      expect((await test.call('GET', apps, { token: created.body.token })).status).toBe(200)

      const revoked = await test.call('DELETE', `${tokensPath()}/${created.body.id}`, { token: member.token })
      const after = await test.call('GET', apps, { token: created.body.token })

      expect(revoked.status).toBe(200)
      expect(revoked.body.status).toBe('revoked')
      expect(after.status).toBe(401)
      expect(after.body.error.code).toBe('session_expired')
    })

    it('disables a token whose creator left the workspace', async () => {
      const leaver = await signUp(test)
      await addMember(test, admin.workspace.id, leaver.user.id)
      const created = await createToken(leaver.token, { name: 'orphan', permissions: ['settings:read'] })
      await test.services.database.db
        .deleteFrom('memberships')
        .where('workspace_id', '=', admin.workspace.id)
        .where('user_id', '=', leaver.user.id)
        .execute()

      const after = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/apps`, { token: created.body.token })

      expect(after.status).toBe(401)
      expect(after.body.error.code).toBe('session_expired')
    })

    it('rejects an expired token', async () => {
      const created = await createToken(admin.token, { name: 'old', permissions: ['settings:read'] })
      await test.services.database.db
        .updateTable('workspace_tokens')
        .set({ expires_at: '2020-01-01T00:00:00.000Z' })
        .where('id', '=', created.body.id)
        .execute()

      const after = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/apps`, { token: created.body.token })

      expect(after.status).toBe(401)
    })

    it("lists one's own tokens, or all with team:manage", async () => {
      await createToken(member.token, { name: 'member-own', permissions: ['settings:read'] })

      const byMember = await test.call('GET', tokensPath(), { token: member.token })
      const byAdmin = await test.call('GET', tokensPath(), { token: admin.token })

      const memberNames = byMember.body.data.map((row: { name: string }) => row.name)
      const adminNames = byAdmin.body.data.map((row: { name: string }) => row.name)
      expect(memberNames).toContain('member-own')
      expect(memberNames).not.toContain('ci')
      expect(adminNames).toContain('member-own')
      expect(adminNames).toContain('ci')
      expect(byMember.body.data.every((row: { created_by: string }) => row.created_by === member.user.id)).toBe(true)
    })

    it('pages the token list with a cursor', async () => {
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2'
        const page = await test.call('GET', `${tokensPath()}${query}`, { token: admin.token })
        expect(page.status).toBe(200)
        expect(page.body.data.length).toBeLessThanOrEqual(2)
        seen.push(...page.body.data.map((row: { id: string }) => row.id))
        cursor = page.body.next_cursor
      } while (cursor)

      const all = await test.call('GET', `${tokensPath()}?limit=200`, { token: admin.token })
      expect(new Set(seen).size).toBe(seen.length)
      expect(seen).toEqual(all.body.data.map((row: { id: string }) => row.id))
    })

    it("rejects a member revoking someone else's token", async () => {
      const created = await createToken(admin.token, { name: 'admins', permissions: ['settings:read'] })

      const byMember = await test.call('DELETE', `${tokensPath()}/${created.body.id}`, { token: member.token })
      const byOutsider = await test.call('DELETE', `${tokensPath()}/${created.body.id}`, { token: outsider.token })

      expect(byMember.status).toBe(403)
      expect(byMember.body.error.permission).toBe('team:manage')
      expect(byOutsider.status).toBe(404)
    })

    it("lets team:manage revoke a member's token", async () => {
      const created = await createToken(member.token, { name: 'members', permissions: ['settings:read'] })

      const response = await test.call('DELETE', `${tokensPath()}/${created.body.id}`, { token: admin.token })

      expect(response.status).toBe(200)
      expect(response.body.revoked_at).not.toBeNull()
    })

    it('hides tokens from another workspace', async () => {
      const created = await createToken(admin.token, { name: 'hidden', permissions: ['settings:read'] })

      const list = await test.call('GET', tokensPath(), { token: outsider.token })
      const usedElsewhere = await test.call('GET', `/v1/workspaces/${outsider.workspace.id}/apps`, {
        token: created.body.token,
      })

      expect(list.status).toBe(404)
      expect(usedElsewhere.status).toBe(404)
    })

    it('records token changes in the audit log without the secret', async () => {
      const created = await createToken(admin.token, { name: 'audited', permissions: ['settings:read'] })
      await test.call('DELETE', `${tokensPath()}/${created.body.id}`, { token: admin.token })

      const events = await test.services.database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('target_id', '=', created.body.id)
        .orderBy('created_at')
        .execute()

      expect(events.map((event) => event.action)).toEqual(['token.create', 'token.revoke'])
      expect(events[0].actor_id).toBe(admin.user.id)
      expect(JSON.stringify(events)).not.toContain(created.body.token)
    })
  })
}
