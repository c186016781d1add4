import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { addMember, createTestApp, signUp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { signedHeaders, startStripeStandIn, type StripeStandIn } from '../helpers/stripe.js'

describe.each(await dialects())('Stripe billing on %s', (dialect) => {
  let test: TestApp
  let stripe: StripeStandIn

  beforeAll(async () => {
    stripe = await startStripeStandIn()
    test = await createTestApp(dialect, {
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
      STRIPE_API_BASE: stripe.url,
      PUBLIC_URL: 'http://127.0.0.1:8787',
    })
  })
  afterAll(async () => {
    await test.close()
    await stripe.close()
  })

  async function deliver(event: unknown, options: { secret?: string; timestamp?: number } = {}) {
    const payload = JSON.stringify(event)
    const response = await test.app.request('/webhooks/stripe', {
      method: 'POST',
      headers: signedHeaders(payload, options.secret ?? stripe.webhookSecret, options.timestamp),
      body: payload,
    })
    return { status: response.status, body: (await response.json()) as any }
  }

  async function billing(admin: { token: string; workspace: { id: string } }) {
    return (await test.call('GET', `/v1/workspaces/${admin.workspace.id}/billing`, { token: admin.token })).body
  }

  async function startCheckout(admin: { token: string; workspace: { id: string } }) {
    const response = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/billing/setup`, { token: admin.token })
    expect(response.status).toBe(201)
    return response.body as { checkout_url: string; session_id: string; customer_id: string }
  }

  it('creates the customer once and a setup-mode session', async () => {
    const admin = await signUp(test)

    const first = await startCheckout(admin)
    const second = await startCheckout(admin)

    expect(first.customer_id).toMatch(/^cus_/)
    expect(second.customer_id).toBe(first.customer_id)
    expect(first.checkout_url).toBe(`${stripe.url}/checkout/${first.session_id}`)
    const creates = stripe.requests.filter((request) => request.path === '/v1/customers' && request.params.metadata && (request.params.metadata as Record<string, string>).workspace_id === admin.workspace.id)
    expect(creates).toHaveLength(1)
    const session = stripe.checkoutSessions.get(first.session_id)!
    expect(session.mode).toBe('setup')
    expect(session.success_url).toBe('http://127.0.0.1:8787/billing/success?session_id={CHECKOUT_SESSION_ID}')
    expect(session.cancel_url).toBe('http://127.0.0.1:8787/billing/cancel')
    expect(session.client_reference_id).toBe(admin.workspace.id)
  })

  it('rejects billing for a member', async () => {
    const admin = await signUp(test)
    const member = await signUp(test)
    await addMember(test, admin.workspace.id, member.user.id)

    const response = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/billing/setup`, { token: member.token })

    expect(response.status).toBe(403)
    expect(response.body.error.permission).toBe('billing:manage')
  })

  it('records the card from a completed checkout', async () => {
    const admin = await signUp(test)
    const { session_id } = await startCheckout(admin)
    const event = stripe.completeCheckout(session_id, { brand: 'mastercard', last4: '4444' })

    const delivered = await deliver(event)
    const status = await billing(admin)

    expect(delivered.status).toBe(200)
    expect(delivered.body).toEqual({ received: true, duplicate: false, outcome: 'applied' })
    expect(status.payment_method).toMatchObject({ brand: 'mastercard', last4: '4444' })
    expect(status.ready).toBe(true)
  })

  it('rejects a bad signature and changes nothing', async () => {
    const admin = await signUp(test)
    const { session_id } = await startCheckout(admin)
    const event = stripe.completeCheckout(session_id)

    const wrongSecret = await deliver(event, { secret: 'whsec_not_the_right_one' })
    const payload = JSON.stringify(event)
    const tampered = await test.app.request('/webhooks/stripe', {
      method: 'POST',
      headers: signedHeaders(payload, stripe.webhookSecret),
      body: payload.replace('"livemode":false', '"livemode":true'),
    })
    const unsigned = await test.app.request('/webhooks/stripe', { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } })

    expect(wrongSecret.status).toBe(400)
    expect(wrongSecret.body.error.code).toBe('invalid_signature')
    expect(tampered.status).toBe(400)
    expect(unsigned.status).toBe(400)
    expect((await billing(admin)).payment_method).toBeNull()
    const recorded = await test.services.database.db.selectFrom('stripe_events').select('id').where('id', '=', event.id).execute()
    expect(recorded).toHaveLength(0)
  })

  it('rejects a timestamp older than the tolerance', async () => {
    const admin = await signUp(test)
    const { session_id } = await startCheckout(admin)
    const event = stripe.completeCheckout(session_id)

    const old = await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 600 })

    expect(old.status).toBe(400)
    expect(old.body.error.message).toContain('tolerance')
    expect((await billing(admin)).payment_method).toBeNull()
  })

  it('applies one of five concurrent deliveries', async () => {
    const admin = await signUp(test)
    const { session_id } = await startCheckout(admin)
    const event = stripe.completeCheckout(session_id)

    const results = await Promise.all(Array.from({ length: 5 }, () => deliver(event)))
    const replay = await deliver(event)

    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200, 200])
    expect(results.filter((result) => !result.body.duplicate)).toHaveLength(1)
    expect(replay.body.duplicate).toBe(true)
    const { db } = test.services.database
    const audit = await db.selectFrom('audit_events').select('id').where('workspace_id', '=', admin.workspace.id).where('action', '=', 'billing.payment_method_added').execute()
    expect(audit).toHaveLength(1)
    const events = await db.selectFrom('stripe_events').selectAll().where('id', '=', event.id).execute()
    expect(events).toHaveLength(1)
    expect(events[0].workspace_id).toBe(admin.workspace.id)
  })

  it('ignores a late completion of a detached card', async () => {
    const admin = await signUp(test)
    const { session_id } = await startCheckout(admin)
    const completed = stripe.completeCheckout(session_id)
    const method = [...stripe.paymentMethods.values()].at(-1)!
    const detached = stripe.detachPaymentMethod(method.id)
    const { db } = test.services.database

    const first = await deliver(detached)
    const second = await deliver(completed)

    expect(first.body.outcome).toBe('ignored: not the payment method on file')
    expect(second.body.outcome).toMatch(/^ignored: payment method (no longer attached|already detached)/)
    expect((await billing(admin)).payment_method).toBeNull()
    const seen = await db.selectFrom('stripe_detached_payment_methods').selectAll().where('payment_method_id', '=', method.id).execute()
    expect(seen).toHaveLength(1)
  })

  it('ignores an older completion after a newer one', async () => {
    const admin = await signUp(test)
    const older = stripe.completeCheckout((await startCheckout(admin)).session_id, { brand: 'visa', last4: '1111' })
    const newer = stripe.completeCheckout((await startCheckout(admin)).session_id, { brand: 'amex', last4: '0005' })
    ;(older as { created: number }).created -= 60

    await deliver(newer)
    const late = await deliver(older)

    expect(late.body.outcome).toBe('ignored: older than the payment method on file')
    expect((await billing(admin)).payment_method).toMatchObject({ brand: 'amex', last4: '0005' })
  })

  it('removes a card detached in the portal', async () => {
    const admin = await signUp(test)
    const { session_id } = await startCheckout(admin)
    await deliver(stripe.completeCheckout(session_id))
    const method = [...stripe.paymentMethods.values()].at(-1)!

    const removed = await deliver(stripe.detachPaymentMethod(method.id))
    const home = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/home`, { token: admin.token })

    expect(removed.body.outcome).toBe('applied')
    expect((await billing(admin)).payment_method).toBeNull()
    expect(home.body.steps.find((step: { step: string }) => step.step === 'payment_method').done).toBe(false)
  })

  it('takes a card added in the portal', async () => {
    const admin = await signUp(test)
    const { session_id, customer_id } = await startCheckout(admin)
    await deliver(stripe.completeCheckout(session_id, { brand: 'visa', last4: '1111' }))
    const oldCard = [...stripe.paymentMethods.values()].at(-1)!
    const attached = stripe.attachPaymentMethod(customer_id, { brand: 'discover', last4: '1117' })
    const detached = stripe.detachPaymentMethod(oldCard.id)

    const first = await deliver(attached)
    const second = await deliver(detached)

    expect(first.body.outcome).toBe('applied')
    expect(second.body.outcome).toBe('ignored: not the payment method on file')
    expect((await billing(admin)).payment_method).toMatchObject({ brand: 'discover', last4: '1117' })
  })

  it('keeps another card when the one on file is detached', async () => {
    const admin = await signUp(test)
    const { session_id, customer_id } = await startCheckout(admin)
    await deliver(stripe.completeCheckout(session_id, { brand: 'visa', last4: '1111' }))
    const oldCard = [...stripe.paymentMethods.values()].at(-1)!
    const lateAttach = stripe.attachPaymentMethod(customer_id, { brand: 'jcb', last4: '0505' })
    ;(lateAttach as { created: number }).created -= 1

    const removed = await deliver(stripe.detachPaymentMethod(oldCard.id))
    const late = await deliver(lateAttach)

    expect(removed.body.outcome).toBe('applied')
    expect(late.body.outcome).toMatch(/^ignored: /)
    expect((await billing(admin)).payment_method).toMatchObject({ brand: 'jcb', last4: '0505' })
  })

  it('ignores events it does not use', async () => {
    const response = await deliver({ id: 'evt_unused_1', object: 'event', type: 'invoice.paid', created: Math.floor(Date.now() / 1000), data: { object: { id: 'in_1', object: 'invoice' } } })

    expect(response.status).toBe(200)
    expect(response.body.outcome).toBe('ignored: event type invoice.paid is not used')
  })

  it('opens the portal and lists invoices', async () => {
    const admin = await signUp(test)
    const before = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/billing/invoices`, { token: admin.token })
    const portal = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/billing/portal`, { token: admin.token })
    stripe.addInvoice(portal.body.customer_id, { number: 'ACME-0001', amount_due: 49900, status: 'paid' })

    const after = await test.call('GET', `/v1/workspaces/${admin.workspace.id}/billing/invoices`, { token: admin.token })

    expect(before.body.data).toEqual([])
    expect(portal.status).toBe(201)
    expect(portal.body.portal_url).toMatch(new RegExp(`^${stripe.url}/portal/bps_`))
    expect(after.body.data).toHaveLength(1)
    expect(after.body.data[0]).toMatchObject({ number: 'ACME-0001', amount_due: 49900, currency: 'usd', status: 'paid' })
  })

  it('serves the checkout result pages', async () => {
    const success = await test.app.request('/billing/success?session_id=cs_test_1')
    const cancel = await test.app.request('/billing/cancel')

    expect(success.status).toBe(200)
    expect(success.headers.get('content-type')).toContain('text/html')
    expect(await success.text()).toContain('Payment details saved')
    expect(await cancel.text()).toContain('Checkout was cancelled')
  })
})

describe.each(await dialects())('billing without Stripe on %s', (dialect) => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp(dialect)
  })
  afterAll(async () => {
    await test.close()
  })

  it('reports billing as not configured', async () => {
    const admin = await signUp(test)
    const base = `/v1/workspaces/${admin.workspace.id}/billing`

    const status = await test.call('GET', base, { token: admin.token })
    const setup = await test.call('POST', `${base}/setup`, { token: admin.token })
    const webhook = await test.app.request('/webhooks/stripe', { method: 'POST', body: '{}', headers: { 'stripe-signature': 't=1,v1=00' } })

    expect(status.status).toBe(412)
    expect(status.body.error.code).toBe('not_configured')
    expect(setup.status).toBe(412)
    expect(setup.body.error.message).toContain('STRIPE_SECRET_KEY')
    expect(webhook.status).toBe(412)
  })
})

describe('webhook while Stripe is unreachable', () => {
  let test: TestApp
  let stripe: StripeStandIn

  beforeAll(async () => {
    stripe = await startStripeStandIn()
    test = await createTestApp('sqlite', {
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
      STRIPE_API_BASE: stripe.url,
    })
  })
  afterAll(async () => {
    await test.close()
  })

  it('returns 503 and records nothing', async () => {
    const admin = await signUp(test)
    const setup = await test.call('POST', `/v1/workspaces/${admin.workspace.id}/billing/setup`, { token: admin.token })
    const event = stripe.completeCheckout(setup.body.session_id)
    await stripe.close()
    const payload = JSON.stringify(event)

    const response = await test.app.request('/webhooks/stripe', {
      method: 'POST',
      headers: signedHeaders(payload, stripe.webhookSecret),
      body: payload,
    })
    const body = (await response.json()) as { error: { code: string } }

    expect(response.status).toBe(503)
    expect(body.error.code).toBe('service_unavailable')
    const recorded = await test.services.database.db.selectFrom('stripe_events').select('id').where('id', '=', event.id).execute()
    expect(recorded).toHaveLength(0)
  })
})
