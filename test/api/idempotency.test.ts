import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { createPrincipals, type PrincipalFixture } from '../helpers/principals.js'

const DAY_MS = 86_400_000

describe('idempotency keys', () => {
  let test: TestApp
  let fixture: PrincipalFixture
  let admin: string
  let base: string

  const withKey = (key: string) => ({ 'idempotency-key': key })
  const uniqueKey = (label: string) => `${label}-${Math.random().toString(36).slice(2)}-${Date.now()}`

  beforeAll(async () => {
    test = await createTestApp('sqlite')
    fixture = await createPrincipals(test)
    admin = await fixture.session(fixture.admin)
    base = `/v1/workspaces/${fixture.workspaceId}`
  })
  afterAll(async () => {
    await test.close()
  })

  it('replays apps create with the same secret', async () => {
    const key = uniqueKey('create')
    const body = { name: 'Replayed', redirect_uris: ['https://example.com/cb'] }

    const first = await test.call('POST', `${base}/apps`, { token: admin, body, headers: withKey(key) })
    const second = await test.call('POST', `${base}/apps`, { token: admin, body, headers: withKey(key) })
    const apps = await test.call('GET', `${base}/apps`, { token: admin })

    expect(first.status).toBe(201)
    expect(second.status).toBe(201)
    expect(second.body).toEqual(first.body)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(apps.body.data.filter((app: { name: string }) => app.name === 'Replayed')).toHaveLength(1)
  })

  it('replays keys rotate with the same secret', async () => {
    const app = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Rotated Once' } })
    const key = uniqueKey('rotate')
    const path = `${base}/apps/${app.body.id}/keys/test/rotate`

    const first = await test.call('POST', path, { token: admin, body: { expire_old_in_seconds: 60 }, headers: withKey(key) })
    const second = await test.call('POST', path, { token: admin, body: { expire_old_in_seconds: 60 }, headers: withKey(key) })
    const keys = await test.call('GET', `${base}/apps/${app.body.id}/keys`, { token: admin })

    expect(first.status).toBe(200)
    expect(second.body.secret_key).toBe(first.body.secret_key)
    expect(keys.body.data.filter((row: { type: string }) => row.type === 'secret')).toHaveLength(2)
  })

  it('rejects the same key with other parameters', async () => {
    const key = uniqueKey('reused')
    await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Reuse One' }, headers: withKey(key) })

    const other = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Reuse Two' }, headers: withKey(key) })

    expect(other.status).toBe(409)
    expect(other.body.error.code).toBe('idempotency_key_reused')
  })

  it('rejects the same rotate key with another grace period', async () => {
    const app = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Rotate Reuse' } })
    const key = uniqueKey('rotate-reused')
    const path = `${base}/apps/${app.body.id}/keys/test/rotate`
    await test.call('POST', path, { token: admin, body: { expire_old_in_seconds: 60 }, headers: withKey(key) })

    const other = await test.call('POST', path, { token: admin, body: { expire_old_in_seconds: 120 }, headers: withKey(key) })

    expect(other.status).toBe(409)
    expect(other.body.error.code).toBe('idempotency_key_reused')
  })

  it('rejects one key sent to another operation', async () => {
    const key = uniqueKey('cross')
    const created = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Cross Use' }, headers: withKey(key) })

    const rotated = await test.call('POST', `${base}/apps/${created.body.id}/keys/test/rotate`, {
      token: admin,
      body: {},
      headers: withKey(key),
    })
    const keys = await test.call('GET', `${base}/apps/${created.body.id}/keys`, { token: admin })

    expect(rotated.status).toBe(409)
    expect(rotated.body.error.code).toBe('idempotency_key_reused')
    expect(keys.body.data.filter((row: { type: string }) => row.type === 'secret')).toHaveLength(1)
  })

  it('rejects one key sent to another application', async () => {
    const first = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Target One' } })
    const second = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Target Two' } })
    const key = uniqueKey('target')
    await test.call('POST', `${base}/apps/${first.body.id}/keys/test/rotate`, { token: admin, body: {}, headers: withKey(key) })

    const other = await test.call('POST', `${base}/apps/${second.body.id}/keys/test/rotate`, { token: admin, body: {}, headers: withKey(key) })

    expect(other.status).toBe(409)
    expect(other.body.error.code).toBe('idempotency_key_reused')
  })

  it('keeps responses for 24 hours', async () => {
    const key = uniqueKey('lifetime')
    await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Lifetime' }, headers: withKey(key) })

    const rows = await test.services.database.db.selectFrom('idempotency_keys').selectAll().execute()

    for (const row of rows) expect(Date.parse(row.expires_at) - Date.parse(row.created_at)).toBe(DAY_MS)
  })

  it('runs again once the stored response expired', async () => {
    const app = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Expiring Replay' } })
    const key = uniqueKey('expired')
    const path = `${base}/apps/${app.body.id}/keys/test/rotate`
    const first = await test.call('POST', path, { token: admin, body: {}, headers: withKey(key) })
    await test.services.database.db
      .updateTable('idempotency_keys')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute()

    const second = await test.call('POST', path, { token: admin, body: {}, headers: withKey(key) })

    expect(second.status).toBe(200)
    expect(second.body.secret_key).not.toBe(first.body.secret_key)
  })

  it('keeps replays of different callers apart', async () => {
    const key = uniqueKey('shared')
    const member = await fixture.session(fixture.member)

    const mine = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Caller A' }, headers: withKey(key) })
    const theirs = await test.call('POST', `${base}/apps`, { token: member, body: { name: 'Caller B' }, headers: withKey(key) })

    expect(mine.status).toBe(201)
    expect(theirs.status).toBe(201)
    expect(theirs.body.id).not.toBe(mine.body.id)
  })

  it('rejects a malformed key', async () => {
    const answer = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Bad Key' }, headers: withKey('short') })

    expect(answer.status).toBe(400)
    expect(answer.body.error.field).toBe('Idempotency-Key')
  })

  it('stores no readable secret and no key', async () => {
    const key = uniqueKey('scan')
    const created = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Scanned' }, headers: withKey(key) })
    const rotateKey = uniqueKey('scan-rotate')
    const rotated = await test.call('POST', `${base}/apps/${created.body.id}/keys/test/rotate`, {
      token: admin,
      body: {},
      headers: withKey(rotateKey),
    })

    const rows = await test.services.database.db.selectFrom('idempotency_keys').selectAll().execute()
    const dump = JSON.stringify(rows)

    expect(rows.length).toBeGreaterThanOrEqual(2)
    expect(dump).not.toContain(created.body.keys.secret_key)
    expect(dump).not.toContain(rotated.body.secret_key)
    expect(dump).not.toContain(created.body.keys.secret_key.slice(8, 30))
    expect(dump).not.toContain(key)
    expect(dump).not.toContain(rotateKey)
    expect(dump).not.toContain('sk_test_')
    for (const row of rows) expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/)
  })
})
