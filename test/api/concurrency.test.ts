import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { createTestApp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { createPrincipals, type PrincipalFixture } from '../helpers/principals.js'

const ROTATIONS = 12
const DIALECTS = await dialects()

describe.each(DIALECTS)('simultaneous rotations on %s', (dialect) => {
  let test: TestApp
  let fixture: PrincipalFixture
  let base: string

  beforeAll(async () => {
    test = await createTestApp(dialect)
    fixture = await createPrincipals(test)
    base = `/v1/workspaces/${fixture.workspaceId}`
  })
  afterAll(async () => {
    await test?.close()
  })

  it.each([0, 3600])('keeps at most two valid secrets with a grace of %i s', async (grace) => {
    const admin = await fixture.session(fixture.admin)
    const app = await test.call('POST', `${base}/apps`, { token: admin, body: { name: `Race ${grace}` } })
    const tokens = await Promise.all(Array.from({ length: ROTATIONS }, () => fixture.session(fixture.admin)))

    const responses = await Promise.all(
      tokens.map((token) =>
        test.call('POST', `${base}/apps/${app.body.id}/keys/test/rotate`, { token, body: { expire_old_in_seconds: grace } }),
      ),
    )
    const rows = await test.services.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('application_id', '=', app.body.id)
      .where('kind', '=', 'secret')
      .execute()

    const now = new Date().toISOString()
    const valid = rows.filter((row) => row.expires_at === null || row.expires_at > now)
    const active = rows.filter((row) => row.expires_at === null)
    const issued = responses.map((response) => response.body.secret_key_id as string)
    const replaced = responses.map((response) => response.body.previous_secret?.id as string)
    expect(responses.map((response) => response.status)).toEqual(Array(ROTATIONS).fill(200))
    expect(new Set(responses.map((response) => response.body.secret_key)).size).toBe(ROTATIONS)
    expect(rows).toHaveLength(ROTATIONS + 1)
    expect(valid.length).toBeLessThanOrEqual(2)
    expect(active).toHaveLength(1)
    // The rotations form one chain: each replaced a different secret, and only the last was not replaced.
    expect(new Set(replaced).size).toBe(ROTATIONS)
    const heads = [app.body.keys.secret_key_id, ...issued].filter((id) => !replaced.includes(id))
    expect(heads).toEqual([active[0].id])
    if (grace > 0) {
      expect(valid).toHaveLength(2)
      const ended = responses.flatMap((response) => response.body.ended_secrets.map((key: { id: string }) => key.id))
      expect(new Set(ended).size).toBe(ROTATIONS - 1)
    } else {
      expect(valid).toHaveLength(1)
    }
  })

  it('lets only one of many simultaneous replays run', async () => {
    const admin = await fixture.session(fixture.admin)
    const app = await test.call('POST', `${base}/apps`, { token: admin, body: { name: 'Replay Race' } })
    const key = `race-${Date.now()}`

    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        test.call('POST', `${base}/apps/${app.body.id}/keys/test/rotate`, {
          token: admin,
          body: {},
          headers: { 'idempotency-key': key },
        }),
      ),
    )
    const secrets = await test.services.database.db
      .selectFrom('api_keys')
      .select('id')
      .where('application_id', '=', app.body.id)
      .where('kind', '=', 'secret')
      .execute()

    const succeeded = responses.filter((response) => response.status === 200)
    const waiting = responses.filter((response) => response.status !== 200)
    expect(secrets).toHaveLength(2)
    expect(new Set(succeeded.map((response) => response.body.secret_key)).size).toBe(1)
    for (const response of waiting) {
      expect(response.status).toBe(409)
      expect(response.body.error.code).toBe('idempotency_in_progress')
    }
  })

  it('creates one of many simultaneous applications with one name', async () => {
    const tokens = await Promise.all(Array.from({ length: 6 }, () => fixture.session(fixture.admin)))

    const responses = await Promise.all(
      tokens.map((token, index) => test.call('POST', `${base}/apps`, { token, body: { name: index % 2 ? 'Twin App' : 'twin app' } })),
    )

    const statuses = responses.map((response) => response.status).sort()
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409])
    for (const response of responses.filter((one) => one.status === 409)) expect(response.body.error.code).toBe('already_exists')
  })

  it('signs up one of two simultaneous accounts with one email', async () => {
    const email = `race-${Date.now()}@example.com`
    const body = (name: string) => ({ email, name, password: 'quiet meadow under snow' })

    const responses = await Promise.all([
      test.call('POST', '/v1/auth/signup', { body: body('First') }),
      test.call('POST', '/v1/auth/signup', { body: body('Second') }),
    ])

    expect(responses.map((response) => response.status).sort()).toEqual([201, 409])
  })
})
