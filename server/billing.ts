import type { Kysely, Selectable } from 'kysely'
import Stripe from 'stripe'

import type { Config } from './config.js'
import type { Database } from './db/schema.js'
import { ApiError } from './errors.js'
import { now } from './time.js'

/** The workspace's payment state: its Stripe customer, the card on file, or an operator's waiver. */
export interface BillingAccountsTable {
  workspace_id: string
  stripe_customer_id: string | null
  payment_method_id: string | null
  payment_method_brand: string | null
  payment_method_last4: string | null
  /** `created` (Unix seconds) of the Stripe event that set the payment method, to ignore older events. */
  payment_method_event_created: number | null
  waived_at: string | null
  /** The operator's user id. */
  waived_by: string | null
  waived_reason: string | null
  created_at: string
  updated_at: string
}

/** Each Stripe event id handled, so that a redelivered event changes nothing. */
export interface StripeEventsTable {
  id: string
  type: string
  created: number
  workspace_id: string | null
  /** The event's effect: `applied`, or `ignored: ` followed by the reason. */
  outcome: string
  received_at: string
}

/** Payment methods seen detached, so that an older completion event arriving late cannot bring one back. */
export interface StripeDetachedPaymentMethodsTable {
  payment_method_id: string
  stripe_customer_id: string | null
  detached_at: number
}

declare module './db/schema.js' {
  interface Database {
    billing_accounts: BillingAccountsTable
    stripe_events: StripeEventsTable
    stripe_detached_payment_methods: StripeDetachedPaymentMethodsTable
  }
}

export type BillingAccount = Selectable<BillingAccountsTable>

export function stripeNotConfigured(): ApiError {
  return new ApiError(
    'not_configured',
    'billing is not available: this server has no Stripe account configured (STRIPE_SECRET_KEY); an operator can waive billing for invoiced customers',
  )
}

/** Stripe clients by configuration, so one process keeps one HTTP agent per secret key. */
const clients = new Map<string, Stripe>()

/**
 * Returns a Stripe client, or fails with `not_configured` (exit 6) when STRIPE_SECRET_KEY is unset.
 * STRIPE_API_BASE sends the requests to another host, such as a local stand-in in tests.
 */
export function stripeClient(config: Config): Stripe {
  if (!config.stripeSecretKey) throw stripeNotConfigured()
  const cacheKey = `${config.stripeSecretKey}\n${config.stripeApiBase ?? ''}`
  let client = clients.get(cacheKey)
  if (!client) {
    const options: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 20_000, appInfo: { name: 'flexpa' } }
    if (config.stripeApiBase) {
      const base = new URL(config.stripeApiBase)
      options.host = base.hostname
      options.protocol = base.protocol === 'http:' ? 'http' : 'https'
      options.port = base.port || (base.protocol === 'http:' ? 80 : 443)
    }
    client = new Stripe(config.stripeSecretKey, options)
    clients.set(cacheKey, client)
  }
  return client
}

export async function findBillingAccount(db: Kysely<Database>, workspaceId: string) {
  return db.selectFrom('billing_accounts').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst()
}

/** Inserts the workspace's billing row unless it exists, then returns it. */
export async function ensureBillingAccount(db: Kysely<Database>, workspaceId: string): Promise<BillingAccount> {
  const time = now()
  await db
    .insertInto('billing_accounts')
    .values({
      workspace_id: workspaceId,
      stripe_customer_id: null,
      payment_method_id: null,
      payment_method_brand: null,
      payment_method_last4: null,
      payment_method_event_created: null,
      waived_at: null,
      waived_by: null,
      waived_reason: null,
      created_at: time,
      updated_at: time,
    })
    .onConflict((conflict) => conflict.column('workspace_id').doNothing())
    .execute()
  return db.selectFrom('billing_accounts').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirstOrThrow()
}

/**
 * Returns the workspace's Stripe customer id, creating the customer the first time. The Stripe
 * idempotency key is derived from the workspace id, so two concurrent first calls get one customer.
 */
export async function ensureStripeCustomer(
  db: Kysely<Database>,
  stripe: Stripe,
  workspace: { id: string; name: string },
  email: string,
): Promise<string> {
  const account = await ensureBillingAccount(db, workspace.id)
  if (account.stripe_customer_id) return account.stripe_customer_id
  const customer = await stripe.customers.create(
    { name: workspace.name, email, metadata: { workspace_id: workspace.id } },
    { idempotencyKey: `flexpa-customer-${workspace.id}` },
  )
  await db
    .updateTable('billing_accounts')
    .set({ stripe_customer_id: customer.id, updated_at: now() })
    .where('workspace_id', '=', workspace.id)
    .where('stripe_customer_id', 'is', null)
    .execute()
  const stored = await ensureBillingAccount(db, workspace.id)
  return stored.stripe_customer_id ?? customer.id
}

export function serializeBilling(account: BillingAccount | undefined, stripeConfigured: boolean) {
  return {
    stripe_configured: stripeConfigured,
    customer_id: account?.stripe_customer_id ?? null,
    payment_method: account?.payment_method_id
      ? { id: account.payment_method_id, brand: account.payment_method_brand, last4: account.payment_method_last4 }
      : null,
    waived: account?.waived_at ? { at: account.waived_at, reason: account.waived_reason } : null,
    ready: Boolean(account?.payment_method_id || account?.waived_at),
  }
}

export function isStripeError(error: unknown): error is Stripe.errors.StripeError {
  return error instanceof Stripe.errors.StripeError
}

/** Turns a failure to reach Stripe or a refusal by Stripe into a 503 with its reason, never a 500. */
export function stripeFailure(error: unknown): ApiError {
  const message = isStripeError(error) ? error.message : String((error as Error)?.message ?? error)
  return new ApiError('service_unavailable', `Stripe did not complete the request: ${message}`)
}
