import { EXIT } from '../shared/errors.js'
import type { ApiClient } from './client.js'
import { CliError } from './errors.js'

export interface BillingStatus {
  stripe_configured: boolean
  customer_id: string | null
  payment_method: { id: string; brand: string | null; last4: string | null } | null
  waived: { at: string; reason: string | null } | null
  ready: boolean
}

export function describePaymentMethod(status: BillingStatus): string {
  if (status.payment_method) return `${status.payment_method.brand ?? 'card'} ending ${status.payment_method.last4 ?? '????'}`
  if (status.waived) return 'none needed: billing is handled by invoice'
  return 'none'
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Polls the workspace's billing status until a payment method is on file, or fails with exit 7
 * after `timeoutMs`.
 */
export async function waitForPaymentMethod(
  client: ApiClient,
  path: string,
  timeoutMs: number,
  intervalMs = Number(process.env.FLEXPA_POLL_MS) || 2000,
): Promise<BillingStatus> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const { body } = await client.request<BillingStatus>('GET', path)
    if (body.payment_method) return body
    if (Date.now() + intervalMs > deadline) {
      throw new CliError(`no payment method arrived within ${Math.round(timeoutMs / 1000)} seconds`, EXIT.unavailable, {
        code: 'timeout',
        hint: 'finish Checkout in the browser, then check with flexpa billing status',
      })
    }
    await sleep(intervalMs)
  }
}
