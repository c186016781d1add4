import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { VALID_FORM } from '../fixtures/live-access-form.js'
import { addMember, createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'

const OPERATOR = 'reviewer@flexpa.test'

/** One invalid value per field, and the start of the message that names it. */
const INVALID_FIELDS: [keyof typeof VALID_FORM, unknown, string][] = [
  ['organization_name', '   ', 'organization_name: must not be empty'],
  ['website', 'acme.example', 'website: "acme.example" is not an absolute URL'],
  ['website', 'http://acme.example', 'website: "http://acme.example" must use https'],
  ['use_case', 'Claims.', 'use_case: must be at least 20 characters'],
  ['expected_monthly_connections', 0, 'expected_monthly_connections: must be at least 1'],
  ['expected_monthly_connections', 2.5, 'expected_monthly_connections: must be a whole number'],
  ['expected_monthly_connections', '100', 'expected_monthly_connections: must be a number'],
  ['usage', 'SOMETIMES', 'usage: must be ONE_TIME or MULTIPLE'],
  ['privacy_policy_url', 'not a url', 'privacy_policy_url: "not a url" is not an absolute URL'],
  ['terms_of_service_url', 'ftp://acme.example/terms', 'terms_of_service_url: "ftp://acme.example/terms" must use https'],
  ['contact_name', '', 'contact_name: must not be empty'],
  ['contact_email', 'ada-at-acme', 'contact_email: must be an email address'],
  ['hipaa_role', 'vendor', 'hipaa_role: must be covered_entity, business_associate or neither'],
]

async function verify(test: TestApp, userId: string) {
  await test.services.database.db.updateTable('users').set({ email_verified_at: new Date().toISOString() }).where('id', '=', userId).execute()
}

describe.each(await dialects())('going live on %s', (dialect) => {
  let test: TestApp
  let operator: Awaited<ReturnType<typeof signUp>>

  beforeAll(async () => {
    test = await createTestApp(dialect, { FLEXPA_OPERATOR_EMAILS: `${OPERATOR}, other@flexpa.test` })
    operator = await signUp(test, { email: OPERATOR })
    await verify(test, operator.user.id)
  })
  afterAll(async () => {
    await test.close()
  })

  it.each(INVALID_FIELDS)('rejects an invalid %s (%j)', async (field, value, message) => {
    const admin = await signUp(test)

    const response = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/live-access`, {
      token: admin.token,
      body: { ...VALID_FORM, [field]: value },
    })

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe(field)
    expect(response.body.error.message).toContain(message)
  })

  it('rejects a form missing a field', async () => {
    const admin = await signUp(test)
    const { hipaa_role: _, ...form } = VALID_FORM

    const response = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/live-access`, { token: admin.token, body: form })

    expect(response.status).toBe(422)
    expect(response.body.error.field).toBe('hipaa_role')
  })

  it('accepts a form and shows it pending', async () => {
    const admin = await signUp(test)
    const path = `/v1/workspaces/${admin.workspace.id}/live-access`

    const submitted = await test.call('POST', path, { token: admin.token, body: VALID_FORM })
    const again = await test.call('POST', path, { token: admin.token, body: VALID_FORM })
    const status = await test.call('GET', path, { token: admin.token })

    expect(submitted.status).toBe(201)
    expect(submitted.body.id).toMatch(/^live_/)
    expect(submitted.body.form).toEqual(VALID_FORM)
    expect(again.status).toBe(409)
    expect(status.body.status).toBe('pending')
    expect(status.body.history).toHaveLength(1)
  })

  it('hides operator routes from non-operators', async () => {
    const admin = await signUp(test)
    const unverified = await signUp(test, { email: 'other@flexpa.test' })
    const submitted = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/live-access`, { token: admin.token, body: VALID_FORM })

    const list = await test.call('GET', '/v1/operator/live-access', { token: admin.token })
    const approve = await test.call('POST', `/v1/operator/live-access/${submitted.body.id}/approve`, { token: admin.token })
    const byUnverified = await test.call('POST', `/v1/operator/live-access/${submitted.body.id}/approve`, { token: unverified.token })
    const waive = await test.call('POST', `/v1/operator/workspaces/${admin.workspace.id}/billing/waive`, { token: admin.token, body: {} })

    expect(list.status).toBe(404)
    expect(approve.status).toBe(404)
    expect(byUnverified.status).toBe(404)
    expect(waive.status).toBe(404)
    expect(list.body.error.message).toBe('no route for GET /v1/operator/live-access')
  })

  it('approves, mails admins, audits operator', async () => {
    const admin = await signUp(test)
    const coAdmin = await signUp(test)
    const member = await signUp(test)
    await addMember(test, admin.workspace.id, coAdmin.user.id, 'admin')
    await addMember(test, admin.workspace.id, member.user.id, 'member')
    const submitted = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/live-access`, { token: member.token, body: VALID_FORM })

    const pending = await test.call('GET', '/v1/operator/live-access?status=pending&limit=200', { token: operator.token })
    const approved = await test.call('POST', `/v1/operator/live-access/${submitted.body.id}/approve`, { token: operator.token })
    const twice = await test.call('POST', `/v1/operator/live-access/${submitted.body.id}/approve`, { token: operator.token })

    expect(pending.status).toBe(200)
    expect(pending.body.data.map((row: { id: string }) => row.id)).toContain(submitted.body.id)
    expect(approved.status).toBe(200)
    expect(approved.body.status).toBe('approved')
    expect(approved.body.notified.sort()).toEqual([admin.user.email, coAdmin.user.email].sort())
    expect(twice.status).toBe(409)
    const { db } = test.services.database
    const mail = await db.selectFrom('mail_outbox').selectAll().where('kind', '=', 'live_access_decision').where('recipient', 'in', [admin.user.email, coAdmin.user.email, member.user.email]).execute()
    expect(mail.map((row) => row.recipient).sort()).toEqual([admin.user.email, coAdmin.user.email].sort())
    expect(mail[0].subject).toContain('approved')
    const audit = await db.selectFrom('audit_events').selectAll().where('workspace_id', '=', admin.workspace.id).where('action', '=', 'live_access.approve').execute()
    expect(audit).toHaveLength(1)
    expect(audit[0].actor_type).toBe('operator')
    expect(audit[0].actor_id).toBe(operator.user.id)
    expect(audit[0].actor_label).toBe(OPERATOR)
  })

  it('resubmits a rejected form', async () => {
    const admin = await signUp(test)
    const path = `/v1/workspaces/${admin.workspace.id}/live-access`
    const first = await test.call('POST', path, { token: admin.token, body: { ...VALID_FORM, website: 'https://wrong.example' } })

    const missingReason = await test.call('POST', `/v1/operator/live-access/${first.body.id}/reject`, { token: operator.token, body: {} })
    const rejected = await test.call('POST', `/v1/operator/live-access/${first.body.id}/reject`, {
      token: operator.token,
      body: { reason: 'The website does not match the organization.' },
    })
    const afterReject = await test.call('GET', path, { token: admin.token })
    const second = await test.call('POST', path, { token: admin.token, body: VALID_FORM })
    const approved = await test.call('POST', `/v1/operator/live-access/${second.body.id}/approve`, { token: operator.token })
    const history = await test.call('GET', path, { token: admin.token })

    expect(missingReason.status).toBe(422)
    expect(missingReason.body.error.field).toBe('reason')
    expect(rejected.body.status).toBe('rejected')
    expect(afterReject.body.status).toBe('rejected')
    expect(afterReject.body.current.rejection_reason).toBe('The website does not match the organization.')
    expect(second.status).toBe(201)
    expect(approved.body.status).toBe('approved')
    expect(history.body.status).toBe('approved')
    expect(history.body.history.map((row: { status: string }) => row.status)).toEqual(['approved', 'rejected'])
    const mail = await test.services.database.db.selectFrom('mail_outbox').selectAll().where('recipient', '=', admin.user.email).where('subject', 'like', 'Live Mode Access%').orderBy('created_at').execute()
    expect(mail.map((row) => row.subject)).toEqual([
      `Live Mode Access form for ${admin.workspace.name} needs changes`,
      `Live Mode Access approved for ${admin.workspace.name}`,
    ])
    expect(mail[0].text_body).toContain('Reason: The website does not match the organization.')
  })

  it('pages through the operator list', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const admin = await signUp(test)
      const submitted = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/live-access`, { token: admin.token, body: VALID_FORM })
      ids.push(submitted.body.id)
    }

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const page = await test.call('GET', `/v1/operator/live-access?status=pending&limit=2${query}`, { token: operator.token })
      expect(page.status).toBe(200)
      seen.push(...page.body.data.map((row: { id: string }) => row.id))
      cursor = page.body.next_cursor
    } while (cursor)

    expect(seen).toEqual(expect.arrayContaining(ids))
    expect(new Set(seen).size).toBe(seen.length)
  })

  it('lists the checklist steps on home', async () => {
    const admin = await signUp(test)
    const member = await signUp(test)
    await addMember(test, admin.workspace.id, member.user.id, 'member')

    const empty = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/home`, { token: member.token })
    await test.call('POST', `/v1/workspaces/${admin.workspace.id}/apps`, { token: admin.token, body: { name: 'Portal' } })
    const withApp = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/home`, { token: admin.token })

    expect(empty.status).toBe(200)
    expect(empty.body.steps.map((step: { step: string }) => step.step)).toEqual([
      'application_created',
      'test_keys_issued',
      'first_test_access_token',
      'live_access_submitted',
      'live_access_approved',
      'payment_method',
      'live_keys_issued',
    ])
    expect(empty.body.steps.every((step: { done: boolean }) => !step.done)).toBe(true)
    expect(empty.body.next_step).toEqual({ step: 'application_created', command: 'flexpa apps create <name>' })
    expect(withApp.body.steps[0].done).toBe(true)
    expect(withApp.body.steps[1].done).toBe(true)
    expect(withApp.body.next_step.step).toBe('first_test_access_token')
    expect(withApp.body.live_keys_allowed).toBe(false)
  })

  it('issues live keys once approved and waived', async () => {
    const admin = await signUp(test)
    const member = await signUp(test)
    await addMember(test, admin.workspace.id, member.user.id, 'member')
    const base = `/v1/workspaces/${admin.workspace.id}`
    await test.call('POST', `${base}/apps`, { token: admin.token, body: { name: 'Portal' } })

    const early = await test.call('POST', `${base}/apps/Portal/keys/live/rotate`, { token: admin.token, body: {} })
    const submitted = await test.call('POST', `${base}/live-access`, { token: admin.token, body: VALID_FORM })
    await test.call('POST', `/v1/operator/live-access/${submitted.body.id}/approve`, { token: operator.token })
    const unpaid = await test.call('POST', `${base}/apps/Portal/keys/live/rotate`, { token: admin.token, body: {} })
    const unknown = await test.call('POST', '/v1/operator/workspaces/ws_missing/billing/waive', { token: operator.token, body: {} })
    const waived = await test.call('POST', `/v1/operator/workspaces/${admin.workspace.id}/billing/waive`, {
      token: operator.token,
      body: { reason: 'Invoiced yearly' },
    })
    const byMember = await test.call('POST', `${base}/apps/Portal/keys/live/rotate`, { token: member.token, body: {} })
    const issued = await test.call('POST', `${base}/apps/Portal/keys/live/rotate`, { token: admin.token, body: {} })
    const rotated = await test.call('POST', `${base}/apps/Portal/keys/live/rotate`, { token: admin.token, body: { expire_old_in_seconds: 3600 } })
    const home = await test.call('GET', `${base}/home`, { token: admin.token })
    const deleteByMember = await test.call('DELETE', `${base}/apps/Portal`, { token: member.token })

    expect(early.status).toBe(412)
    expect(early.body.error.missing_steps).toEqual(['live_access_approved', 'payment_method'])
    expect(unpaid.status).toBe(412)
    expect(unpaid.body.error.missing_steps).toEqual(['payment_method'])
    expect(unknown.status).toBe(404)
    expect(waived.status).toBe(200)
    expect(waived.body.waived.reason).toBe('Invoiced yearly')
    expect(byMember.status).toBe(403)
    expect(issued.status).toBe(200)
    expect(issued.body.publishable_key).toMatch(/^pk_live_/)
    expect(issued.body.secret_key).toMatch(/^sk_live_/)
    expect(rotated.status).toBe(200)
    expect(rotated.body.publishable_key).toBe(issued.body.publishable_key)
    expect(rotated.body.previous_secret.hint).toBe(`sk_live_…${issued.body.secret_key.slice(-4)}`)
    expect(home.body.steps.find((step: { step: string }) => step.step === 'live_keys_issued').done).toBe(true)
    expect(home.body.live_keys_allowed).toBe(true)
    expect(deleteByMember.status).toBe(403)
    expect(deleteByMember.body.error.permission).toBe('api-keys-live:manage')
    const audit = await test.services.database.db.selectFrom('audit_events').selectAll().where('workspace_id', '=', admin.workspace.id).where('action', '=', 'billing.waive').execute()
    expect(audit[0].actor_type).toBe('operator')
  })

  it('hides a workspace form from outsiders', async () => {
    const admin = await signUp(test)
    const outsider = await signUp(test)

    const response = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/live-access`, { token: outsider.token })

    expect(response.status).toBe(404)
  })
})
