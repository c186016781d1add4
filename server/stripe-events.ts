import type { Context } from 'hono'
import type { Kysely, Transaction } from 'kysely'
import type Stripe from 'stripe'

import { recordAudit } from './audit.js'
import type { AppEnv } from './context.js'
import type { Database } from './db/schema.js'
import { now } from './time.js'

export interface EventResult {
  duplicate: boolean
  outcome: string
}

/** The change an event makes, read from Stripe before the database transaction starts. */
type Change =
  | { kind: 'attach'; customerId: string; paymentMethod: Stripe.PaymentMethod }
  | {
      kind: 'detach'
      customerId: string | null
      paymentMethodId: string
      /** Another payment method the customer still has, to keep on file when the detached one was. */
      replacement: Stripe.PaymentMethod | null
    }
  | { kind: 'ignore'; reason: string }

/**
 * Options of the Stripe calls made while a webhook waits: one short attempt, because a failed
 * delivery answers 503 and Stripe delivers the event again later.
 */
const WEBHOOK_CALL = { timeout: 5_000, maxNetworkRetries: 0 }

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null
  return typeof value === 'string' ? value : value.id
}

/**
 * Reads what a completed setup-mode Checkout Session attached. The payment method is read from
 * Stripe now, so a method detached since the event was sent is seen as detached.
 */
async function changeFromCheckout(stripe: Stripe, session: Stripe.Checkout.Session): Promise<Change> {
  if (session.mode !== 'setup') return { kind: 'ignore', reason: `checkout session in ${session.mode} mode` }
  const customerId = idOf(session.customer)
  const setupIntentId = idOf(session.setup_intent)
  if (!customerId || !setupIntentId) return { kind: 'ignore', reason: 'checkout session without customer or setup intent' }
  const setupIntent = await stripe.setupIntents.retrieve(setupIntentId, { expand: ['payment_method'] }, WEBHOOK_CALL)
  const paymentMethod = setupIntent.payment_method
  if (!paymentMethod || typeof paymentMethod === 'string') return { kind: 'ignore', reason: 'setup intent without payment method' }
  if (idOf(paymentMethod.customer) !== customerId) {
    return { kind: 'ignore', reason: 'payment method no longer attached to the customer' }
  }
  return { kind: 'attach', customerId, paymentMethod }
}

/**
 * Reads what a detachment changes. When the detached method is the one on file, the customer's
 * remaining payment methods are listed from Stripe, so another card added in the portal takes its place.
 */
async function changeFromDetach(db: Kysely<Database>, stripe: Stripe, event: Stripe.PaymentMethodDetachedEvent): Promise<Change> {
  const paymentMethodId = event.data.object.id
  const previous = event.data.previous_attributes as { customer?: string | null } | undefined
  const customerId = previous?.customer ?? null
  const onFile = await db
    .selectFrom('billing_accounts')
    .select('workspace_id')
    .where('payment_method_id', '=', paymentMethodId)
    .executeTakeFirst()
  let replacement: Stripe.PaymentMethod | null = null
  if (onFile && customerId) {
    const remaining = await stripe.customers.listPaymentMethods(customerId, { limit: 10 }, WEBHOOK_CALL)
    replacement = remaining.data.find((candidate) => candidate.id !== paymentMethodId) ?? null
  }
  return { kind: 'detach', customerId, paymentMethodId, replacement }
}

async function changeFor(db: Kysely<Database>, stripe: Stripe, event: Stripe.Event): Promise<Change> {
  if (event.type === 'checkout.session.completed') return changeFromCheckout(stripe, event.data.object)
  if (event.type === 'payment_method.attached') {
    const customerId = idOf(event.data.object.customer)
    if (!customerId) return { kind: 'ignore', reason: 'payment method without customer' }
    return { kind: 'attach', customerId, paymentMethod: event.data.object }
  }
  if (event.type === 'payment_method.detached') return changeFromDetach(db, stripe, event)
  return { kind: 'ignore', reason: `event type ${event.type} is not used` }
}

/**
 * Applies one verified Stripe event to the workspace's payment state. Each event id is recorded in
 * the same transaction as its change, so a redelivery, even a concurrent one, changes nothing.
 * Events may arrive in any order: an attachment older than the current method, or of a method
 * already seen detached, is ignored.
 */
export async function handleStripeEvent(c: Context<AppEnv>, stripe: Stripe, event: Stripe.Event): Promise<EventResult> {
  const { db } = c.get('services').database
  const seen = await db.selectFrom('stripe_events').select('outcome').where('id', '=', event.id).executeTakeFirst()
  if (seen) return { duplicate: true, outcome: seen.outcome }

  const change = await changeFor(db, stripe, event)
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('stripe_events')
      .values({ id: event.id, type: event.type, created: event.created, workspace_id: null, outcome: 'received', received_at: now() })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .executeTakeFirst()
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return { duplicate: true, outcome: 'duplicate' }

    const { outcome, workspaceId } = await applyChange(c, trx, change, event.created)
    await trx.updateTable('stripe_events').set({ outcome, workspace_id: workspaceId }).where('id', '=', event.id).execute()
    return { duplicate: false, outcome }
  })
}

/** Locks the workspace's billing row (an update takes the row lock on PostgreSQL) and returns it. */
async function lockAccount(trx: Transaction<Database>, column: 'stripe_customer_id' | 'payment_method_id', value: string) {
  const touched = await trx
    .updateTable('billing_accounts')
    .set({ updated_at: now() })
    .where(column, '=', value)
    .returningAll()
    .execute()
  return touched[0]
}

async function isDetached(trx: Transaction<Database>, paymentMethodId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('stripe_detached_payment_methods')
    .select('payment_method_id')
    .where('payment_method_id', '=', paymentMethodId)
    .executeTakeFirst()
  return row !== undefined
}

async function applyChange(
  c: Context<AppEnv>,
  trx: Transaction<Database>,
  change: Change,
  eventCreated: number,
): Promise<{ outcome: string; workspaceId: string | null }> {
  if (change.kind === 'ignore') return { outcome: `ignored: ${change.reason}`, workspaceId: null }

  if (change.kind === 'detach') {
    await trx
      .insertInto('stripe_detached_payment_methods')
      .values({ payment_method_id: change.paymentMethodId, stripe_customer_id: change.customerId, detached_at: eventCreated })
      .onConflict((conflict) => conflict.column('payment_method_id').doNothing())
      .execute()
    const account = await lockAccount(trx, 'payment_method_id', change.paymentMethodId)
    if (!account) return { outcome: 'ignored: not the payment method on file', workspaceId: null }
    let replacement = change.replacement
    if (replacement && (await isDetached(trx, replacement.id))) replacement = null
    await trx
      .updateTable('billing_accounts')
      .set({
        payment_method_id: replacement?.id ?? null,
        payment_method_brand: replacement ? (replacement.card?.brand ?? replacement.type) : null,
        payment_method_last4: replacement?.card?.last4 ?? null,
        payment_method_event_created: eventCreated,
      })
      .where('workspace_id', '=', account.workspace_id)
      .execute()
    await recordAudit(
      c,
      {
        workspaceId: account.workspace_id,
        action: 'billing.payment_method_removed',
        targetType: 'payment_method',
        targetId: change.paymentMethodId,
        data: { replaced_by: replacement?.id ?? null },
      },
      trx,
    )
    return { outcome: 'applied', workspaceId: account.workspace_id }
  }

  const account = await lockAccount(trx, 'stripe_customer_id', change.customerId)
  if (!account) return { outcome: 'ignored: unknown customer', workspaceId: null }
  if (await isDetached(trx, change.paymentMethod.id)) return { outcome: 'ignored: payment method already detached', workspaceId: account.workspace_id }
  if (account.payment_method_event_created !== null && account.payment_method_event_created > eventCreated) {
    return { outcome: 'ignored: older than the payment method on file', workspaceId: account.workspace_id }
  }
  if (account.payment_method_id === change.paymentMethod.id) {
    return { outcome: 'ignored: payment method already on file', workspaceId: account.workspace_id }
  }
  const card = change.paymentMethod.card
  await trx
    .updateTable('billing_accounts')
    .set({
      payment_method_id: change.paymentMethod.id,
      payment_method_brand: card?.brand ?? change.paymentMethod.type,
      payment_method_last4: card?.last4 ?? null,
      payment_method_event_created: eventCreated,
    })
    .where('workspace_id', '=', account.workspace_id)
    .execute()
  await recordAudit(
    c,
    {
      workspaceId: account.workspace_id,
      action: 'billing.payment_method_added',
      targetType: 'payment_method',
      targetId: change.paymentMethod.id,
      data: { brand: card?.brand ?? change.paymentMethod.type, last4: card?.last4 ?? null },
    },
    trx,
  )
  return { outcome: 'applied', workspaceId: account.workspace_id }
}
