import type { Kysely } from 'kysely'

import type { Database } from './db/schema.js'

export interface GoLiveStep {
  step: 'live_access_approved' | 'payment_method'
  done: boolean
  /** What is missing, in words, when not done. */
  detail: string
}

/**
 * Returns the steps a workspace must complete before live keys may be issued: an approved Live
 * Mode Access form and a payment method on file (or billing waived by an operator).
 */
export async function goLiveSteps(_db: Kysely<Database>, _workspaceId: string): Promise<GoLiveStep[]> {
  return [
    {
      step: 'live_access_approved',
      done: false,
      detail: 'the Live Mode Access form has not been approved (flexpa live apply)',
    },
    {
      step: 'payment_method',
      done: false,
      detail: 'no payment method is on file (flexpa billing setup)',
    },
  ]
}
