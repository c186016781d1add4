import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { issueKeyPair } from '../../server/keys.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { createPrincipals, type PrincipalFixture } from '../helpers/principals.js'

interface ListedKey {
  id: string
  type: 'publishable' | 'secret'
  mode: string
  publishable_key: string | null
  secret_key_hint: string | null
  status: 'active' | 'expiring' | 'expired'
  created_at: string
  expires_at: string | null
  last_used_at: string | null
}

describe('keys', () => {
  let test: TestApp
  let fixture: PrincipalFixture
  let admin: string
  let base: string
  let appCount = 0

  async function newApp() {
    appCount += 1
    const created = await test.call('POST', `${base}/apps`, { token: admin, body: { name: `Keys ${appCount}` } })
    return created.body as { id: string; keys: { publishable_key: string; secret_key: string; secret_key_id: string } }
  }

  async function listKeys(appId: string): Promise<ListedKey[]> {
    const answer = await test.call('GET', `${base}/apps/${appId}/keys`, { token: admin })
    expect(answer.status).toBe(200)
    return answer.body.data
  }

  const rotate = (appId: string, body: unknown = {}, token = admin) =>
    test.call('POST', `${base}/apps/${appId}/keys/test/rotate`, { token, body })

  const validSecrets = (keys: ListedKey[]) => keys.filter((key) => key.type === 'secret' && key.status !== 'expired')

  beforeAll(async () => {
    test = await createTestApp('sqlite')
    fixture = await createPrincipals(test)
    admin = await fixture.session(fixture.admin)
    base = `/v1/workspaces/${fixture.workspaceId}`
  })
  afterAll(async () => {
    await test.close()
  })

  it('lists publishable keys in full and secrets as a hint', async () => {
    const app = await newApp()

    const keys = await listKeys(app.id)

    const publishable = keys.find((key) => key.type === 'publishable')!
    const secret = keys.find((key) => key.type === 'secret')!
    expect(keys).toHaveLength(2)
    expect(publishable.publishable_key).toBe(app.keys.publishable_key)
    expect(secret.id).toBe(app.keys.secret_key_id)
    expect(secret.secret_key_hint).toBe(`sk_test_…${app.keys.secret_key.slice(-4)}`)
    expect(secret.status).toBe('active')
    expect(Date.parse(secret.created_at)).not.toBeNaN()
    expect(secret).toHaveProperty('expires_at', null)
    expect(secret).toHaveProperty('last_used_at', null)
    expect(JSON.stringify(keys)).not.toContain(app.keys.secret_key)
  })

  it('stores secrets only as hashes', async () => {
    const app = await newApp()

    const rows = await test.services.database.db.selectFrom('api_keys').selectAll().where('application_id', '=', app.id).execute()

    expect(JSON.stringify(rows)).not.toContain(app.keys.secret_key)
    expect(JSON.stringify(rows)).toContain(app.keys.publishable_key)
  })

  it('ends the old secret at once without a grace period', async () => {
    const app = await newApp()

    const rotated = await rotate(app.id)
    const keys = await listKeys(app.id)

    expect(rotated.status).toBe(200)
    expect(rotated.body.secret_key).toMatch(/^sk_test_/)
    expect(rotated.body.secret_key).not.toBe(app.keys.secret_key)
    expect(rotated.body.publishable_key).toBe(app.keys.publishable_key)
    expect(rotated.body.previous_secret.id).toBe(app.keys.secret_key_id)
    expect(validSecrets(keys).map((key) => key.id)).toEqual([rotated.body.secret_key_id])
    expect(keys.find((key) => key.id === app.keys.secret_key_id)!.status).toBe('expired')
  })

  it('keeps the old secret through a grace period', async () => {
    const app = await newApp()
    const before = Date.now()

    const rotated = await rotate(app.id, { expire_old_in_seconds: 3600 })
    const keys = await listKeys(app.id)

    const old = keys.find((key) => key.id === app.keys.secret_key_id)!
    expect(old.status).toBe('expiring')
    expect(Date.parse(old.expires_at!) - before).toBeGreaterThanOrEqual(3600_000)
    expect(Date.parse(old.expires_at!) - before).toBeLessThan(3600_000 + 60_000)
    expect(rotated.body.previous_secret.expires_at).toBe(old.expires_at)
    expect(validSecrets(keys)).toHaveLength(2)
  })

  it('ends the older secret when rotating during a grace period', async () => {
    const app = await newApp()
    const first = await rotate(app.id, { expire_old_in_seconds: 3600 })

    const second = await rotate(app.id, { expire_old_in_seconds: 3600 })
    const keys = await listKeys(app.id)

    expect(second.status).toBe(200)
    expect(second.body.ended_secrets).toEqual([{ id: app.keys.secret_key_id, hint: `sk_test_…${app.keys.secret_key.slice(-4)}` }])
    expect(second.body.previous_secret.id).toBe(first.body.secret_key_id)
    expect(validSecrets(keys).map((key) => key.id).sort()).toEqual([first.body.secret_key_id, second.body.secret_key_id].sort())
    expect(keys.find((key) => key.id === app.keys.secret_key_id)!.status).toBe('expired')
  })

  it('rejects a grace period over seven days', async () => {
    const app = await newApp()

    const answer = await rotate(app.id, { expire_old_in_seconds: 7 * 86_400 + 1 })

    expect(answer.status).toBe(422)
    expect(answer.body.error.field).toBe('expire_old_in_seconds')
  })

  it('ends a grace period early', async () => {
    const app = await newApp()
    await rotate(app.id, { expire_old_in_seconds: 3600 })

    const expired = await test.call('POST', `${base}/keys/${app.keys.secret_key_id}/expire`, { token: admin })
    const keys = await listKeys(app.id)

    expect(expired.status).toBe(200)
    expect(expired.body.status).toBe('expired')
    expect(validSecrets(keys)).toHaveLength(1)
  })

  it('refuses to expire the active secret', async () => {
    const app = await newApp()

    const answer = await test.call('POST', `${base}/keys/${app.keys.secret_key_id}/expire`, { token: admin })

    expect(answer.status).toBe(409)
    expect(answer.body.error.message).toContain('rotate')
  })

  it('refuses to expire a publishable key', async () => {
    const app = await newApp()
    const publishable = (await listKeys(app.id)).find((key) => key.type === 'publishable')!

    const answer = await test.call('POST', `${base}/keys/${publishable.id}/expire`, { token: admin })

    expect(answer.status).toBe(409)
  })

  it('refuses to expire an expired secret', async () => {
    const app = await newApp()
    await rotate(app.id)

    const answer = await test.call('POST', `${base}/keys/${app.keys.secret_key_id}/expire`, { token: admin })

    expect(answer.status).toBe(409)
    expect(answer.body.error.message).toContain('already expired')
  })

  it('hides keys of another workspace', async () => {
    const app = await newApp()
    await rotate(app.id, { expire_old_in_seconds: 3600 })
    const outsider = await fixture.session(fixture.outsider)

    const answer = await test.call('POST', `/v1/workspaces/${fixture.otherWorkspaceId}/keys/${app.keys.secret_key_id}/expire`, {
      token: outsider,
    })

    expect(answer.status).toBe(404)
  })

  it('names the missing go-live steps to an admin rotating live keys', async () => {
    const app = await newApp()

    const answer = await test.call('POST', `${base}/apps/${app.id}/keys/live/rotate`, { token: admin, body: {} })

    expect(answer.status).toBe(412)
    expect(answer.body.error.code).toBe('live_mode_not_ready')
    expect(answer.body.error.missing_steps.length).toBeGreaterThan(0)
  })

  it('rejects a member rotating live keys', async () => {
    const app = await newApp()
    const member = await fixture.session(fixture.member)

    const answer = await test.call('POST', `${base}/apps/${app.id}/keys/live/rotate`, { token: member, body: {} })

    expect(answer.status).toBe(403)
    expect(answer.body.error.permission).toBe('api-keys-live:manage')
  })

  it('lets a member rotate test keys', async () => {
    const app = await newApp()
    const member = await fixture.session(fixture.member)

    const answer = await rotate(app.id, {}, member)

    expect(answer.status).toBe(200)
  })

  describe('with live keys', () => {
    async function appWithLiveKeys() {
      const app = await newApp()
      const live = await issueKeyPair(test.services.database.db, app.id, fixture.workspaceId, 'live')
      return { app, live }
    }

    it('needs api-keys-live:manage to delete the application', async () => {
      const { app } = await appWithLiveKeys()
      const member = await fixture.session(fixture.member)

      const byMember = await test.call('DELETE', `${base}/apps/${app.id}`, { token: member })
      const byAdmin = await test.call('DELETE', `${base}/apps/${app.id}`, { token: admin })

      expect(byMember.status).toBe(403)
      expect(byMember.body.error.permission).toBe('api-keys-live:manage')
      expect(byAdmin.status).toBe(200)
    })

    it('needs api-keys-live:manage to expire a live secret', async () => {
      const { live } = await appWithLiveKeys()
      await test.services.database.db
        .updateTable('api_keys')
        .set({ expires_at: new Date(Date.now() + 3600_000).toISOString() })
        .where('id', '=', live.secret_key_id)
        .execute()
      const member = await fixture.session(fixture.member)

      const byMember = await test.call('POST', `${base}/keys/${live.secret_key_id}/expire`, { token: member })
      const byAdmin = await test.call('POST', `${base}/keys/${live.secret_key_id}/expire`, { token: admin })

      expect(byMember.status).toBe(403)
      expect(byMember.body.error.permission).toBe('api-keys-live:manage')
      expect(byAdmin.status).toBe(200)
    })

    it('lists live keys beside test keys', async () => {
      const { app, live } = await appWithLiveKeys()

      const keys = await listKeys(app.id)

      expect(keys.filter((key) => key.mode === 'live').map((key) => key.id).sort()).toEqual(
        [live.publishable_key_id, live.secret_key_id].sort(),
      )
      expect(keys.find((key) => key.id === live.secret_key_id)!.secret_key_hint).toBe(`sk_live_…${live.secret_key.slice(-4)}`)
    })
  })
})
