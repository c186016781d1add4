import { Hono, type Context } from 'hono'
import Stripe from 'stripe'

import { BillingWaiveBody } from '../../shared/schemas.js'
import { access, currentPrincipal, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import {
  ensureBillingAccount,
  ensureStripeCustomer,
  findBillingAccount,
  serializeBilling,
  stripeClient,
  stripeFailure,
  stripeNotConfigured,
} from '../billing.js'
import type { AppEnv } from '../context.js'
import { ApiError } from '../errors.js'
import { handleStripeEvent } from '../stripe-events.js'
import { now } from '../time.js'
import { jsonBody, rejectDeepJson } from '../validate.js'

const BASE = '/workspaces/:workspace/billing'

/** Runs a call to Stripe, turning its failures into a 503 with Stripe's reason. */
async function withStripe<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw stripeFailure(error)
  }
}

async function workspaceCustomer(c: Context<AppEnv>, stripe: Stripe): Promise<string> {
  const { workspace } = workspaceAccess(c)
  const { db } = c.get('services').database
  return withStripe(() => ensureStripeCustomer(db, stripe, workspace, currentPrincipal(c).user.email))
}

function resultPage(title: string, text: string): string {
  const escape = (value: string) => value.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; line-height: 1.5">
<h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>`
}

export function billingRoutes() {
  const app = new Hono<AppEnv>()

  app.get(BASE, access('billing:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { config, database } = c.get('services')
    const account = await findBillingAccount(database.db, workspace.id)
    // A waived workspace has a status to show even where Stripe is not configured.
    if (!config.stripeSecretKey && !account?.waived_at) throw stripeNotConfigured()
    return c.json(serializeBilling(account, config.stripeSecretKey !== null))
  })

  app.post(`${BASE}/setup`, access('billing:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { config } = c.get('services')
    const stripe = stripeClient(config)
    const customerId = await workspaceCustomer(c, stripe)
    const session = await withStripe(() =>
      stripe.checkout.sessions.create({
        mode: 'setup',
        customer: customerId,
        currency: 'usd',
        client_reference_id: workspace.id,
        metadata: { workspace_id: workspace.id },
        success_url: `${config.publicUrl}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${config.publicUrl}/billing/cancel`,
      }),
    )
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'billing.checkout_start',
      targetType: 'checkout_session',
      targetId: session.id,
      data: { customer_id: customerId },
    })
    return c.json(
      {
        checkout_url: session.url,
        session_id: session.id,
        customer_id: customerId,
        expires_at: session.expires_at ? new Date(session.expires_at * 1000).toISOString() : null,
      },
      201,
    )
  })

  app.post(`${BASE}/portal`, access('billing:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { config } = c.get('services')
    const stripe = stripeClient(config)
    const customerId = await workspaceCustomer(c, stripe)
    const session = await withStripe(() =>
      stripe.billingPortal.sessions.create({ customer: customerId, return_url: `${config.publicUrl}/billing/return` }),
    )
    await recordAudit(c, { workspaceId: workspace.id, action: 'billing.portal_open', targetType: 'customer', targetId: customerId })
    return c.json({ portal_url: session.url, customer_id: customerId }, 201)
  })

  app.get(`${BASE}/invoices`, access('billing:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { config, database } = c.get('services')
    const stripe = stripeClient(config)
    const account = await findBillingAccount(database.db, workspace.id)
    if (!account?.stripe_customer_id) return c.json({ data: [], customer_id: null })
    const invoices = await withStripe(() => stripe.invoices.list({ customer: account.stripe_customer_id!, limit: 100 }))
    return c.json({
      customer_id: account.stripe_customer_id,
      data: invoices.data.map((invoice) => ({
        id: invoice.id,
        number: invoice.number,
        created_at: new Date(invoice.created * 1000).toISOString(),
        amount_due: invoice.amount_due,
        amount_paid: invoice.amount_paid,
        currency: invoice.currency,
        status: invoice.status,
        hosted_invoice_url: invoice.hosted_invoice_url ?? null,
      })),
    })
  })

  app.post('/operator/workspaces/:id/billing/waive', access('operator'), jsonBody(BillingWaiveBody), async (c) => {
    const id = c.req.param('id')
    const reason = c.req.valid('json').reason || null
    const principal = currentPrincipal(c)
    const { db } = c.get('services').database
    const workspace = await db.selectFrom('workspaces').select(['id', 'name']).where('id', '=', id).executeTakeFirst()
    if (!workspace) throw new ApiError('not_found', `workspace "${id}" was not found; operators name workspaces by id (ws_…)`)
    await ensureBillingAccount(db, workspace.id)
    const account = await db
      .updateTable('billing_accounts')
      .set({ waived_at: now(), waived_by: principal.user.id, waived_reason: reason, updated_at: now() })
      .where('workspace_id', '=', workspace.id)
      .returningAll()
      .executeTakeFirstOrThrow()
    await recordAudit(
      c,
      { workspaceId: workspace.id, action: 'billing.waive', targetType: 'workspace', targetId: workspace.id, data: { reason } },
      db,
      'operator',
    )
    return c.json({ workspace_id: workspace.id, workspace_name: workspace.name, ...serializeBilling(account, c.get('services').config.stripeSecretKey !== null) })
  })

  return app
}

/** Stripe's webhook endpoint and the pages Checkout and the Billing Portal send people back to. */
export function stripeWebhookRoutes() {
  const app = new Hono<AppEnv>()

  app.post('/webhooks/stripe', access('signed'), async (c) => {
    const { config, logger } = c.get('services')
    if (!config.stripeWebhookSecret) {
      throw new ApiError('not_configured', 'this server has no Stripe webhook secret configured (STRIPE_WEBHOOK_SECRET)')
    }
    const stripe = stripeClient(config)
    const payload = await c.req.text()
    // Only scans the text: the signature covers the exact bytes, so the payload is never altered.
    rejectDeepJson(payload)
    const signature = c.req.header('stripe-signature')
    if (!signature) throw new ApiError('invalid_signature', 'the Stripe-Signature header is missing')
    let event: Stripe.Event
    try {
      // Without a tolerance argument the library rejects timestamps older than its default (300 s).
      event = await stripe.webhooks.constructEventAsync(payload, signature, config.stripeWebhookSecret)
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        c.get('logger').warn({ reason: error.message }, 'stripe webhook rejected')
        throw new ApiError('invalid_signature', `the Stripe-Signature header does not verify: ${error.message}`)
      }
      throw error
    }
    const result = await withStripe(() => handleStripeEvent(c, stripe, event))
    logger.info({ event_id: event.id, type: event.type, ...result }, 'stripe event handled')
    return c.json({ received: true, ...result })
  })

  app.get('/billing/success', access('public'), (c) =>
    c.html(resultPage('Payment details saved', 'Stripe saved your payment method. You can close this tab and return to the terminal, where flexpa billing status shows it.')),
  )
  app.get('/billing/cancel', access('public'), (c) =>
    c.html(resultPage('Payment details not saved', 'Checkout was cancelled and nothing changed. Run flexpa billing setup again when you are ready.')),
  )
  app.get('/billing/return', access('public'), (c) =>
    c.html(resultPage('Back from the billing portal', 'You can close this tab; flexpa billing status shows the payment method on file.')),
  )

  return app
}
