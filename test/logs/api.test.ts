import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { changeRetention, sweepExpiredLogs } from '../../server/logs/retention.js'
import { addMember, createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import {
  advance,
  basicAuth,
  createApplication,
  ingest,
  issueLiveKeys,
  LIVE_AETNA,
  SANDBOX_HUMANA,
  SANDBOX_KAISER,
  withholdPhi,
} from './helpers.js'

const DAY_MS = 86_400_000

describe.each(await dialects())('access-token logs API on %s', (dialect) => {
  let test: TestApp
  let admin: Awaited<ReturnType<typeof signUp>>
  let app: Awaited<ReturnType<typeof createApplication>>
  let logs: string

  beforeAll(async () => {
    test = await createTestApp(dialect)
    admin = await signUp(test, { workspace_name: 'Acme' })
    app = await createApplication(test, admin.token, admin.workspace.id, 'Portal')
    logs = `/v1/workspaces/${admin.workspace.id}/logs`
  })
  afterAll(async () => {
    await test.close()
  })

  it('creates a test row in state CREATED', async () => {
    const created = await ingest(test, app.auth, { endpoint_id: SANDBOX_HUMANA, external_user_id: 'user-1' })

    expect(created.status).toBe(201)
    expect(created.body.state).toBe('CREATED')
    expect(created.body.mode).toBe('test')
    expect(created.body.id).toMatch(/^atk_/)
    expect(created.body.endpoint).toEqual({ id: SANDBOX_HUMANA, label: 'Humana Sandbox', payer: 'Humana' })
    expect(created.body.request_id).toBe(created.headers.get('x-request-id'))
    const key = await test.services.database.db
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('secret_hash', 'is not', null)
      .where('application_id', '=', app.id)
      .executeTakeFirstOrThrow()
    expect(key.last_used_at).not.toBeNull()
  })

  it('walks the lifecycle and keeps first-reached times', async () => {
    const { body } = await ingest(test, app.auth, { endpoint_id: SANDBOX_HUMANA, usage: 'MULTIPLE' })

    for (const state of ['AUTHORIZING', 'AUTHORIZED', 'EXCHANGED', 'REFRESHED', 'REFRESHED']) {
      const moved = await advance(test, app.auth, body.id, { state })
      expect(moved.status, JSON.stringify(moved.body)).toBe(200)
      expect(moved.body.state).toBe(state)
    }
    const revoked = await advance(test, app.auth, body.id, { state: 'REVOKED' })

    expect(revoked.body.state).toBe('REVOKED')
    expect(revoked.body.exchanged_at).not.toBeNull()
    expect(revoked.body.authorizing_at <= revoked.body.authorized_at).toBe(true)
  })

  it('rejects an impossible transition naming both states', async () => {
    const { body } = await ingest(test, app.auth, { endpoint_id: SANDBOX_HUMANA })

    const skipped = await advance(test, app.auth, body.id, { state: 'EXCHANGED' })

    expect(skipped.status).toBe(409)
    expect(skipped.body.error.code).toBe('invalid_transition')
    expect(skipped.body.error.message).toContain('CREATED')
    expect(skipped.body.error.message).toContain('EXCHANGED')
    expect(skipped.body.error.from).toBe('CREATED')
    expect(skipped.body.error.to).toBe('EXCHANGED')
  })

  it('rejects refreshing a ONE_TIME row', async () => {
    const { body } = await ingest(test, app.auth, { endpoint_id: SANDBOX_HUMANA })
    for (const state of ['AUTHORIZING', 'AUTHORIZED', 'EXCHANGED']) await advance(test, app.auth, body.id, { state })

    const refreshed = await advance(test, app.auth, body.id, { state: 'REFRESHED' })

    expect(refreshed.status).toBe(409)
    expect(refreshed.body.error.message).toContain('MULTIPLE')
  })

  it('moves any open row to ERROR with its code, then nothing', async () => {
    const { body } = await ingest(test, app.auth, { endpoint_id: SANDBOX_HUMANA })
    const withoutError = await advance(test, app.auth, body.id, { state: 'ERROR' })

    const errored = await advance(test, app.auth, body.id, {
      state: 'ERROR',
      error: { code: 'payer_unavailable', message: 'The payer answered 503' },
    })
    const after = await advance(test, app.auth, body.id, { state: 'REVOKED' })

    expect(withoutError.status).toBe(422)
    expect(errored.status).toBe(200)
    expect(errored.body.error).toEqual({ code: 'payer_unavailable', message: 'The payer answered 503' })
    expect(after.status).toBe(409)
    expect(after.body.error.message).toContain('ERROR')
    expect(after.body.error.message).toContain('REVOKED')
  })

  it('rejects changes to an expired row', async () => {
    const { body } = await ingest(test, app.auth, {
      endpoint_id: SANDBOX_HUMANA,
      expires_at: new Date(Date.now() + 150).toISOString(),
    })
    await new Promise((resolve) => setTimeout(resolve, 300))

    const moved = await advance(test, app.auth, body.id, { state: 'AUTHORIZING' })
    const shown = await test.call('GET', `${logs}/${body.id}`, { token: admin.token })
    const expired = await test.call('GET', `${logs}?mode=test&state=EXPIRED`, { token: admin.token })
    const analytics = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/analytics?mode=test`, { token: admin.token })

    expect(moved.status).toBe(409)
    expect(moved.body.error.from).toBe('EXPIRED')
    expect(shown.body.state).toBe('EXPIRED')
    expect(expired.body.data.map((row: { id: string }) => row.id)).toEqual([body.id])
    expect(analytics.body.by_state.EXPIRED).toBe(1)
  })

  it('rejects a request without keys', async () => {
    const response = await test.call('POST', '/v1/access-tokens', { body: { endpoint_id: SANDBOX_HUMANA } })

    expect(response.status).toBe(401)
    expect(response.body.error.code).toBe('unauthenticated')
  })

  it("rejects a publishable key of another application", async () => {
    const other = await createApplication(test, admin.token, admin.workspace.id, 'Other')

    const response = await ingest(test, basicAuth(other.publishable, app.secret), { endpoint_id: SANDBOX_HUMANA })

    expect(response.status).toBe(401)
    expect(response.body.error.code).toBe('invalid_api_key')
  })

  it('rejects an expired secret with api_key_expired', async () => {
    const rotating = await createApplication(test, admin.token, admin.workspace.id, 'Rotating')
    await test.call('POST', `/v1/workspaces/${admin.workspace.id}/apps/${rotating.id}/keys/test/rotate`, {
      token: admin.token,
      body: {},
    })

    const response = await ingest(test, rotating.auth, { endpoint_id: SANDBOX_HUMANA })

    expect(response.status).toBe(401)
    expect(response.body.error.code).toBe('api_key_expired')
  })

  it('keeps test keys away from live rows', async () => {
    const live = await issueLiveKeys(test, app.id, admin.workspace.id)
    const liveRow = await ingest(test, live.auth, { endpoint_id: LIVE_AETNA })

    const patched = await advance(test, app.auth, liveRow.body.id, { state: 'AUTHORIZING' })
    const liveEndpoint = await ingest(test, app.auth, { endpoint_id: LIVE_AETNA })
    const sandboxWithLive = await ingest(test, live.auth, { endpoint_id: SANDBOX_HUMANA })
    const testList = await test.call('GET', `${logs}?mode=test&limit=200`, { token: admin.token })

    expect(liveRow.status).toBe(201)
    expect(liveRow.body.mode).toBe('live')
    expect(patched.status).toBe(404)
    expect(liveEndpoint.status).toBe(422)
    expect(sandboxWithLive.status).toBe(422)
    expect(testList.body.data.map((row: { id: string }) => row.id)).not.toContain(liveRow.body.id)
  })

  it('rejects MULTIPLE usage on an endpoint without refresh', async () => {
    const response = await ingest(test, app.auth, { endpoint_id: SANDBOX_KAISER, usage: 'MULTIPLE' })

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('usage')
  })

  it('walks every page once with a cursor', async () => {
    const paging = await createApplication(test, admin.token, admin.workspace.id, 'Paging')
    const ids = new Set<string>()
    for (let i = 0; i < 7; i++) ids.add((await ingest(test, paging.auth, { endpoint_id: SANDBOX_HUMANA })).body.id)

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = `?mode=test&app=Paging&limit=3${cursor ? `&cursor=${cursor}` : ''}`
      const page = await test.call('GET', `${logs}${query}`, { token: admin.token })
      expect(page.status).toBe(200)
      seen.push(...page.body.data.map((row: { id: string }) => row.id))
      cursor = page.body.next_cursor
    } while (cursor)

    expect(seen).toHaveLength(7)
    expect(new Set(seen)).toEqual(ids)
  })

  it('filters by state, endpoint and request id', async () => {
    const filtering = await createApplication(test, admin.token, admin.workspace.id, 'Filtering')
    const first = await ingest(test, filtering.auth, { endpoint_id: SANDBOX_HUMANA })
    await ingest(test, filtering.auth, { endpoint_id: SANDBOX_KAISER })
    await advance(test, filtering.auth, first.body.id, { state: 'AUTHORIZING' })

    const byState = await test.call('GET', `${logs}?mode=test&app=Filtering&state=AUTHORIZING`, { token: admin.token })
    const byEndpoint = await test.call('GET', `${logs}?mode=test&app=Filtering&endpoint=Kaiser%20Permanente%20Sandbox`, {
      token: admin.token,
    })
    const byRequest = await test.call('GET', `${logs}?mode=test&request_id=${first.body.request_id}`, { token: admin.token })
    const live = await test.call('GET', `${logs}?app=Filtering`, { token: admin.token })

    expect(byState.body.data.map((row: { id: string }) => row.id)).toEqual([first.body.id])
    expect(byEndpoint.body.data).toHaveLength(1)
    expect(byEndpoint.body.data[0].endpoint.id).toBe(SANDBOX_KAISER)
    expect(byRequest.body.data.map((row: { id: string }) => row.id)).toEqual([first.body.id])
    expect(live.body.data).toHaveLength(0)
  })

  it('rejects a cursor it did not issue', async () => {
    const response = await test.call('GET', `${logs}?cursor=nonsense`, { token: admin.token })

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('cursor')
  })

  describe('PHI', () => {
    let member: Awaited<ReturnType<typeof signUp>>
    let rowId: string

    beforeAll(async () => {
      member = await signUp(test)
      await addMember(test, admin.workspace.id, member.user.id)
      await withholdPhi(test, admin.workspace.id, member.user.id)
      const phiApp = await createApplication(test, admin.token, admin.workspace.id, 'Phi')
      const { body } = await ingest(test, phiApp.auth, { endpoint_id: SANDBOX_HUMANA, external_user_id: 'patient-77' })
      rowId = body.id
      await advance(test, phiApp.auth, rowId, { state: 'AUTHORIZING' })
      await advance(test, phiApp.auth, rowId, {
        state: 'AUTHORIZED',
        patient: { id: 'pat-991', name: 'Ada Patient', birth_date: '1980-04-12' },
      })
    })

    it('redacts list and show for a member without phi:read', async () => {
      const list = await test.call('GET', `${logs}?mode=test&app=Phi`, { token: member.token })
      const show = await test.call('GET', `${logs}/${rowId}`, { token: member.token })

      for (const row of [list.body.data[0], show.body]) {
        expect(row.id).toBe(rowId)
        expect(row.phi_redacted).toBe(true)
        expect(row.external_user_id).toBeNull()
        expect(row.patient_id).toBeNull()
        expect(row.patient_name).toBeNull()
        expect(row.patient_birth_date).toBeNull()
      }
      expect(JSON.stringify(list.body)).not.toContain('Ada Patient')
    })

    it('rejects an external user id filter without phi:read', async () => {
      const response = await test.call('GET', `${logs}?mode=test&external_user_id=patient-77`, { token: member.token })

      expect(response.status).toBe(403)
      expect(response.body.error.permission).toBe('phi:read')
    })

    it('shows PHI to an admin and audits it without values', async () => {
      const list = await test.call('GET', `${logs}?mode=test&external_user_id=patient-77`, { token: admin.token })
      const show = await test.call('GET', `${logs}/${rowId}`, { token: admin.token })

      expect(list.body.data[0].patient_name).toBe('Ada Patient')
      expect(list.body.data[0].phi_redacted).toBe(false)
      expect(show.body.patient_birth_date).toBe('1980-04-12')
      const audits = await test.services.database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('workspace_id', '=', admin.workspace.id)
        .where('action', '=', 'phi.read')
        .orderBy('created_at')
        .execute()
      const requestIds = [list.headers.get('x-request-id'), show.headers.get('x-request-id')]
      for (const requestId of requestIds) {
        const audit = audits.find((event) => event.request_id === requestId)
        expect(audit?.actor_id).toBe(admin.user.id)
        expect(JSON.parse(audit!.data!).access_token_ids).toEqual([rowId])
        expect(audit!.data).not.toContain('Ada')
        expect(audit!.data).not.toContain('patient-77')
      }
    })

    it('leaves no PHI audit for a redacted response', async () => {
      const list = await test.call('GET', `${logs}?mode=test&app=Phi`, { token: member.token })

      const audit = await test.services.database.db
        .selectFrom('audit_events')
        .select('id')
        .where('request_id', '=', list.headers.get('x-request-id'))
        .execute()
      expect(audit).toHaveLength(0)
    })

    it('keeps analytics free of PHI', async () => {
      const analytics = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/analytics?mode=test&app=Phi`, {
        token: member.token,
      })

      expect(analytics.status).toBe(200)
      expect(JSON.stringify(analytics.body)).not.toMatch(/patient-77|Ada Patient|pat-991|1980-04-12/)
    })
  })

  it("never shows another workspace's rows", async () => {
    const outsider = await signUp(test, { workspace_name: 'Elsewhere' })
    const { body } = await ingest(test, app.auth, { endpoint_id: SANDBOX_HUMANA })

    const own = await test.call('GET', `/v1/workspaces/${outsider.workspace.id}/logs?mode=test`, { token: outsider.token })
    const viaOwn = await test.call('GET', `/v1/workspaces/${outsider.workspace.id}/logs/${body.id}`, { token: outsider.token })
    const foreign = await test.call('GET', `${logs}?mode=test`, { token: outsider.token })
    const analytics = await test.call('GET', `/v1/workspaces/${outsider.workspace.id}/analytics?mode=test`, {
      token: outsider.token,
    })

    expect(own.body.data).toEqual([])
    expect(viaOwn.status).toBe(404)
    expect(foreign.status).toBe(404)
    expect(analytics.body.total).toBe(0)
  })

  it('counts by state, endpoint and day with success rates', async () => {
    const counted = await signUp(test, { workspace_name: 'Counted' })
    const countedApp = await createApplication(test, counted.token, counted.workspace.id, 'Counted')
    for (const outcome of ['success', 'success', 'denied', 'revoked']) {
      const triggered = await test.call('POST', `/v1/workspaces/${counted.workspace.id}/logs/trigger`, {
        token: counted.token,
        body: { app: 'Counted', outcome },
      })
      expect(triggered.status).toBe(201)
    }
    await ingest(test, countedApp.auth, { endpoint_id: SANDBOX_KAISER })

    const analytics = await test.call('GET', `/v1/workspaces/${counted.workspace.id}/analytics?mode=test`, {
      token: counted.token,
    })

    expect(analytics.status).toBe(200)
    expect(analytics.body.total).toBe(5)
    expect(analytics.body.by_state.EXCHANGED).toBe(2)
    expect(analytics.body.by_state.REVOKED).toBe(1)
    expect(analytics.body.by_state.ERROR).toBe(1)
    expect(analytics.body.by_state.CREATED).toBe(1)
    const humana = analytics.body.by_endpoint.find((row: { endpoint_id: string }) => row.endpoint_id === SANDBOX_HUMANA)
    expect(humana).toMatchObject({ created: 4, exchanged: 3, success_rate: 0.75 })
    expect(analytics.body.by_day).toEqual([{ date: new Date().toISOString().slice(0, 10), count: 5 }])
  })

  it('writes realistic sequences with trigger', async () => {
    const path = `/v1/workspaces/${admin.workspace.id}/logs/trigger`

    const denied = await test.call('POST', path, { token: admin.token, body: { app: 'Portal', outcome: 'denied' } })
    const payerError = await test.call('POST', path, {
      token: admin.token,
      body: { app: 'Portal', outcome: 'payer-error', endpoint: 'Cigna Sandbox' },
    })
    const liveEndpoint = await test.call('POST', path, { token: admin.token, body: { app: 'Portal', endpoint: 'Aetna' } })

    expect(denied.body.states).toEqual(['CREATED', 'AUTHORIZING', 'ERROR'])
    expect(denied.body.access_token.error.code).toBe('access_denied')
    expect(payerError.body.states).toEqual(['CREATED', 'AUTHORIZING', 'AUTHORIZED', 'ERROR'])
    expect(payerError.body.access_token.endpoint.label).toBe('Cigna Sandbox')
    expect(payerError.body.access_token.mode).toBe('test')
    expect(liveEndpoint.status).toBe(422)
  })

  it('documents the routes in OpenAPI', async () => {
    const response = await test.call('GET', '/openapi.json')

    expect(response.status).toBe(200)
    expect(response.body.paths['/v1/access-tokens'].post['x-access']).toBe('app-key')
    expect(response.body.paths['/v1/access-tokens/{id}'].patch['x-access']).toBe('app-key')
    expect(response.body.paths['/v1/workspaces/{workspace}/logs'].get['x-access']).toBe('analytics:read')
    expect(response.body.paths['/v1/workspaces/{workspace}/endpoints'].get['x-access']).toBe('member')
  })

  it('lists the endpoint directory for any member', async () => {
    const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/endpoints?mode=test`, { token: admin.token })

    expect(response.status).toBe(200)
    expect(response.body.data.length).toBeGreaterThan(0)
    expect(response.body.data.every((endpoint: { mode: string }) => endpoint.mode === 'test')).toBe(true)
  })

  describe('retention', () => {
    it('defaults to 365 days and rejects values out of range', async () => {
      const path = `/v1/workspaces/${admin.workspace.id}`
      const shown = await test.call('GET', path, { token: admin.token })
      const tooShort = await test.call('PATCH', path, { token: admin.token, body: { log_retention_days: 6 } })
      const tooLong = await test.call('PATCH', path, { token: admin.token, body: { log_retention_days: 2191 } })

      expect(shown.body.log_retention_days).toBe(365)
      expect(tooShort.status).toBe(422)
      expect(tooLong.status).toBe(422)
    })

    it('delays a shortening by 7 days and audits it', async () => {
      const kept = await signUp(test, { workspace_name: 'Kept' })
      const keptApp = await createApplication(test, kept.token, kept.workspace.id, 'Kept')
      const { body } = await ingest(test, keptApp.auth, { endpoint_id: SANDBOX_HUMANA })
      const db = test.services.database.db
      await db
        .updateTable('access_tokens')
        .set({ created_at: new Date(Date.now() - 40 * DAY_MS).toISOString() })
        .where('id', '=', body.id)
        .execute()

      const patched = await test.call('PATCH', `/v1/workspaces/${kept.workspace.id}`, {
        token: kept.token,
        body: { log_retention_days: 30 },
      })
      await sweepExpiredLogs(db)
      const duringGrace = await db.selectFrom('access_tokens').select('id').where('id', '=', body.id).execute()
      await sweepExpiredLogs(db, new Date(Date.now() + 7 * DAY_MS + 60_000).toISOString())
      const afterGrace = await db.selectFrom('access_tokens').select('id').where('id', '=', body.id).execute()

      expect(patched.status).toBe(200)
      expect(patched.body.log_retention_days).toBe(30)
      expect(patched.body.log_retention_effective_days).toBe(365)
      expect(patched.body.log_retention_shortening_takes_effect_at).not.toBeNull()
      expect(duringGrace).toHaveLength(1)
      expect(afterGrace).toHaveLength(0)
      const audit = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('workspace_id', '=', kept.workspace.id)
        .where('action', '=', 'settings.update')
        .executeTakeFirstOrThrow()
      expect(JSON.parse(audit.data!).log_retention_days).toMatchObject({ from: 365, to: 30 })
    })

    it('undoes a shortening by lengthening again', async () => {
      const undo = await signUp(test, { workspace_name: 'Undo' })
      const db = test.services.database.db

      await changeRetention(db, undo.workspace.id, 7)
      const { after } = await changeRetention(db, undo.workspace.id, 365)

      expect(after).toEqual({ days: 365, effective_days: 365, shortening_takes_effect_at: null })
    })

    it('lets a member with settings:manage change it', async () => {
      const other = await signUp(test)
      await addMember(test, admin.workspace.id, other.user.id)
      await test.services.database.db
        .updateTable('memberships')
        .set({ role: 'member' })
        .where('user_id', '=', other.user.id)
        .execute()

      const patched = await test.call('PATCH', `/v1/workspaces/${admin.workspace.id}`, {
        token: other.token,
        body: { log_retention_days: 30 },
      })

      expect(patched.status).toBe(200)
    })
  })
})

describe('ingestion throttle', () => {
  it('rejects a key past its limit with Retry-After', async () => {
    const test = await createTestApp('sqlite', { INGEST_RATE_LIMIT: '3' })
    const admin = await signUp(test)
    const app = await createApplication(test, admin.token, admin.workspace.id, 'Busy')

    const statuses: number[] = []
    let last
    for (let i = 0; i < 4; i++) {
      last = await ingest(test, app.auth, { endpoint_id: SANDBOX_HUMANA })
      statuses.push(last.status)
    }
    await test.close()

    expect(statuses).toEqual([201, 201, 201, 429])
    expect(last!.body.error.code).toBe('rate_limited')
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
