import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import Stripe from 'stripe'

/**
 * A loopback stand-in for the few Stripe endpoints the server uses: customers, Checkout Sessions
 * in setup mode, Billing Portal sessions, setup intents, payment methods and invoices. Requests
 * arrive form-encoded from the real `stripe` library, and responses are Stripe-shaped JSON objects.
 */
export interface StripeStandIn {
  /** The value for STRIPE_API_BASE. */
  url: string
  secretKey: string
  webhookSecret: string
  /** Every request received, in order, with its form-decoded parameters. */
  requests: { method: string; path: string; params: Record<string, unknown> }[]
  customers: Map<string, Record<string, any>>
  checkoutSessions: Map<string, Record<string, any>>
  paymentMethods: Map<string, Record<string, any>>
  /** Completes a Checkout Session as a person would, attaching a card; returns the event Stripe would send. */
  completeCheckout(sessionId: string, card?: { brand: string; last4: string }): Stripe.Event
  /** Attaches a new card to a customer, as the Billing Portal does, and returns the event Stripe would send. */
  attachPaymentMethod(customerId: string, card: { brand: string; last4: string }): Stripe.Event
  /** Detaches a payment method from its customer; returns the event Stripe would send. */
  detachPaymentMethod(paymentMethodId: string): Stripe.Event
  addInvoice(customerId: string, invoice: { number: string; amount_due: number; status: string }): void
  close(): Promise<void>
}

function id(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`
}

function seconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** Decodes Stripe's form encoding: `a[b]=1&list[0]=x` becomes `{a: {b: '1'}, list: ['x']}`. */
export function decodeForm(body: string): Record<string, unknown> {
  const out: Record<string, any> = {}
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split(/[[\]]+/).filter(Boolean)
    let target = out
    parts.forEach((part, index) => {
      if (index === parts.length - 1) {
        target[part] = value
        return
      }
      target[part] ??= /^\d+$/.test(parts[index + 1]) ? [] : {}
      target = target[part]
    })
  }
  return out
}

function event(type: string, object: Record<string, unknown>, previous?: Record<string, unknown>): Stripe.Event {
  return {
    id: id('evt'),
    object: 'event',
    api_version: '2026-11-18.endive',
    created: seconds(),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: previous ? { object, previous_attributes: previous } : { object },
  } as unknown as Stripe.Event
}

export async function startStripeStandIn(): Promise<StripeStandIn> {
  const customers = new Map<string, Record<string, any>>()
  const checkoutSessions = new Map<string, Record<string, any>>()
  const setupIntents = new Map<string, Record<string, any>>()
  const paymentMethods = new Map<string, Record<string, any>>()
  const invoices: Record<string, any>[] = []
  const idempotent = new Map<string, { status: number; body: unknown }>()
  const requests: StripeStandIn['requests'] = []
  let baseUrl = ''

  function createCard(customerId: string, card: { brand: string; last4: string }) {
    const paymentMethod = {
      id: id('pm'),
      object: 'payment_method',
      type: 'card',
      customer: customerId,
      card: { brand: card.brand, last4: card.last4, exp_month: 12, exp_year: 2030 },
      created: seconds(),
      livemode: false,
    }
    paymentMethods.set(paymentMethod.id, paymentMethod)
    return paymentMethod
  }

  function notFound(kind: string, value: string) {
    return {
      status: 404,
      body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${value}'`, param: 'id' } },
    }
  }

  function route(method: string, path: string, params: Record<string, any>): { status: number; body: unknown } {
    let match: RegExpExecArray | null
    if (method === 'POST' && path === '/v1/customers') {
      const customer = { id: id('cus'), object: 'customer', created: seconds(), email: params.email ?? null, name: params.name ?? null, metadata: params.metadata ?? {}, livemode: false }
      customers.set(customer.id, customer)
      return { status: 200, body: customer }
    }
    if (method === 'GET' && (match = /^\/v1\/customers\/([^/]+)\/payment_methods$/.exec(path))) {
      if (!customers.has(match[1])) return notFound('customer', match[1])
      const customerId = match[1]
      const data = [...paymentMethods.values()].filter((paymentMethod) => paymentMethod.customer === customerId).reverse()
      return { status: 200, body: { object: 'list', url: `/v1/customers/${customerId}/payment_methods`, has_more: false, data } }
    }
    if (method === 'GET' && (match = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      const customer = customers.get(match[1])
      return customer ? { status: 200, body: customer } : notFound('customer', match[1])
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      if (params.mode !== 'setup') return { status: 400, body: { error: { type: 'invalid_request_error', message: 'the stand-in supports setup mode only', param: 'mode' } } }
      if (!customers.has(params.customer)) return notFound('customer', params.customer)
      const sessionId = `cs_test_${randomBytes(16).toString('hex')}`
      const setupIntent = { id: id('seti'), object: 'setup_intent', customer: params.customer, payment_method: null, status: 'requires_payment_method', usage: 'off_session' }
      setupIntents.set(setupIntent.id, setupIntent)
      const session = {
        id: sessionId,
        object: 'checkout.session',
        mode: 'setup',
        status: 'open',
        customer: params.customer,
        client_reference_id: params.client_reference_id ?? null,
        metadata: params.metadata ?? {},
        currency: params.currency ?? null,
        setup_intent: setupIntent.id,
        success_url: params.success_url,
        cancel_url: params.cancel_url,
        url: `${baseUrl}/checkout/${sessionId}`,
        expires_at: seconds() + 86_400,
        created: seconds(),
        livemode: false,
      }
      checkoutSessions.set(sessionId, session)
      return { status: 200, body: session }
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      if (!customers.has(params.customer)) return notFound('customer', params.customer)
      const sessionId = id('bps')
      return {
        status: 200,
        body: { id: sessionId, object: 'billing_portal.session', customer: params.customer, return_url: params.return_url, url: `${baseUrl}/portal/${sessionId}`, created: seconds(), livemode: false },
      }
    }
    if (method === 'GET' && (match = /^\/v1\/setup_intents\/([^/]+)$/.exec(path))) {
      const setupIntent = setupIntents.get(match[1])
      if (!setupIntent) return notFound('setup_intent', match[1])
      const expand = (params.expand ?? []) as string[]
      const paymentMethod = setupIntent.payment_method && expand.includes('payment_method') ? paymentMethods.get(setupIntent.payment_method) : setupIntent.payment_method
      return { status: 200, body: { ...setupIntent, payment_method: paymentMethod ?? null } }
    }
    if (method === 'GET' && (match = /^\/v1\/payment_methods\/([^/]+)$/.exec(path))) {
      const paymentMethod = paymentMethods.get(match[1])
      return paymentMethod ? { status: 200, body: paymentMethod } : notFound('payment_method', match[1])
    }
    if (method === 'GET' && path === '/v1/invoices') {
      const data = invoices.filter((invoice) => !params.customer || invoice.customer === params.customer)
      return { status: 200, body: { object: 'list', url: '/v1/invoices', has_more: false, data } }
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } } }
  }

  function handle(request: IncomingMessage, response: ServerResponse, body: string) {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    const params = request.method === 'GET' ? decodeForm(url.search.slice(1)) : decodeForm(body)
    requests.push({ method: request.method ?? '', path: url.pathname, params })
    let result: { status: number; body: unknown }
    if (!/^Bearer sk_test_/.test(request.headers.authorization ?? '')) {
      result = { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } }
    } else {
      const key = request.method === 'POST' ? request.headers['idempotency-key'] : undefined
      const cached = typeof key === 'string' ? idempotent.get(key) : undefined
      result = cached ?? route(request.method ?? '', url.pathname, params)
      if (typeof key === 'string' && !cached) idempotent.set(key, result)
    }
    response.writeHead(result.status, { 'content-type': 'application/json', 'request-id': id('req') })
    response.end(JSON.stringify(result.body))
  }

  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (body += chunk))
    request.on('end', () => handle(request, response, body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: baseUrl,
    secretKey: 'sk_test_standin',
    webhookSecret: `whsec_${randomBytes(16).toString('hex')}`,
    requests,
    customers,
    checkoutSessions,
    paymentMethods,
    completeCheckout(sessionId, card = { brand: 'visa', last4: '4242' }) {
      const session = checkoutSessions.get(sessionId)
      if (!session) throw new Error(`no checkout session ${sessionId}`)
      const paymentMethod = createCard(session.customer, card)
      const setupIntent = setupIntents.get(session.setup_intent)!
      Object.assign(setupIntent, { payment_method: paymentMethod.id, status: 'succeeded' })
      Object.assign(session, { status: 'complete' })
      return event('checkout.session.completed', { ...session })
    },
    attachPaymentMethod(customerId, card) {
      return event('payment_method.attached', { ...createCard(customerId, card) })
    },
    detachPaymentMethod(paymentMethodId) {
      const paymentMethod = paymentMethods.get(paymentMethodId)
      if (!paymentMethod) throw new Error(`no payment method ${paymentMethodId}`)
      const previous = paymentMethod.customer
      paymentMethod.customer = null
      return event('payment_method.detached', { ...paymentMethod }, { customer: previous })
    },
    addInvoice(customerId, invoice) {
      invoices.push({
        id: id('in'),
        object: 'invoice',
        customer: customerId,
        number: invoice.number,
        amount_due: invoice.amount_due,
        amount_paid: invoice.status === 'paid' ? invoice.amount_due : 0,
        currency: 'usd',
        status: invoice.status,
        created: seconds(),
        hosted_invoice_url: `${baseUrl}/invoices/${invoice.number}`,
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const signer = new Stripe('sk_test_signer')

/** Signs a payload with the library's own test-header helper, as Stripe signs its deliveries. */
export function signedHeaders(payload: string, secret: string, timestamp?: number): Record<string, string> {
  const signature = signer.webhooks.generateTestHeaderString({ payload, secret, timestamp })
  return { 'content-type': 'application/json', 'stripe-signature': signature }
}
