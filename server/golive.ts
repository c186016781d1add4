import type { Kysely } from 'kysely'

import { findBillingAccount } from './billing.js'
import type { Database } from './db/schema.js'
import { latestLiveAccessRequest } from './live-access.js'

export type ChecklistStepName =
  | 'application_created'
  | 'test_keys_issued'
  | 'first_test_access_token'
  | 'live_access_submitted'
  | 'live_access_approved'
  | 'payment_method'
  | 'live_keys_issued'

export interface ChecklistStep {
  step: ChecklistStepName
  title: string
  done: boolean
  /** The missing part in words when not done, or else the part that was done. */
  detail: string
  /** The command that does this step. */
  command: string
}

export interface GoLiveStep {
  step: 'live_access_approved' | 'payment_method'
  done: boolean
  /** The missing part in words, when not done. */
  detail: string
}

/**
 * Returns the steps a workspace must complete before live keys may be issued: an approved Live
 * Mode Access form and a payment method on file (or billing waived by an operator).
 */
export async function goLiveSteps(db: Kysely<Database>, workspaceId: string): Promise<GoLiveStep[]> {
  const request = await latestLiveAccessRequest(db, workspaceId)
  const billing = await findBillingAccount(db, workspaceId)
  const approved = request?.status === 'approved'
  let accessDetail = 'the Live Mode Access form was approved'
  if (!request) accessDetail = 'the Live Mode Access form has not been submitted (flexpa live apply)'
  else if (request.status === 'pending') accessDetail = 'the Live Mode Access form is waiting for review (flexpa live status)'
  else if (request.status === 'rejected') {
    accessDetail = `the Live Mode Access form was rejected: ${request.rejection_reason}; correct it and send it again (flexpa live apply)`
  }
  let paymentDetail = 'no payment method is on file (flexpa billing setup)'
  if (billing?.payment_method_id) {
    paymentDetail = `payment method on file: ${billing.payment_method_brand ?? 'card'} ending ${billing.payment_method_last4 ?? '????'}`
  } else if (billing?.waived_at) paymentDetail = 'billing is handled by invoice'
  return [
    { step: 'live_access_approved', done: approved, detail: accessDetail },
    { step: 'payment_method', done: Boolean(billing?.payment_method_id || billing?.waived_at), detail: paymentDetail },
  ]
}

/** PostgreSQL's undefined_table, or SQLite's message for a missing table. */
function isMissingTable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string }
  return code === '42P01' || /no such table/i.test(message ?? '')
}

/**
 * Reports whether the workspace recorded a test-mode access token. The `access_tokens` table
 * belongs to the access-token logs; until that table exists the step reads as not done.
 */
async function hasTestAccessToken(db: Kysely<Database>, workspaceId: string): Promise<boolean> {
  const untyped = db as unknown as Kysely<Record<string, { workspace_id: string; mode: string }>>
  try {
    const row = await untyped
      .selectFrom('access_tokens')
      .select('workspace_id')
      .where('workspace_id', '=', workspaceId)
      .where('mode', '=', 'test')
      .limit(1)
      .executeTakeFirst()
    return row !== undefined
  } catch (error) {
    if (isMissingTable(error)) return false
    throw error
  }
}

async function hasKey(db: Kysely<Database>, workspaceId: string, mode: 'test' | 'live'): Promise<boolean> {
  const row = await db
    .selectFrom('api_keys')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('mode', '=', mode)
    .where('kind', '=', 'secret')
    .limit(1)
    .executeTakeFirst()
  return row !== undefined
}

/** Builds the whole go-live checklist that `flexpa home` shows, from test mode to live keys. */
export async function goLiveChecklist(db: Kysely<Database>, workspaceId: string): Promise<ChecklistStep[]> {
  const application = await db
    .selectFrom('applications')
    .select('name')
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at')
    .limit(1)
    .executeTakeFirst()
  const appFlag = application ? `--app "${application.name}"` : '--app <app>'
  const testKeys = await hasKey(db, workspaceId, 'test')
  const testToken = await hasTestAccessToken(db, workspaceId)
  const request = await latestLiveAccessRequest(db, workspaceId)
  const [approval, payment] = await goLiveSteps(db, workspaceId)
  const liveKeys = await hasKey(db, workspaceId, 'live')
  const submitted = request !== undefined && request.status !== 'rejected'
  let submittedDetail = 'the form has not been submitted'
  if (submitted) submittedDetail = `submitted on ${request.submitted_at}`
  else if (request) submittedDetail = approval.detail

  return [
    {
      step: 'application_created',
      title: 'Create an application',
      done: application !== undefined,
      detail: application ? `application ${application.name} exists` : 'the workspace has no application yet',
      command: 'flexpa apps create <name>',
    },
    {
      step: 'test_keys_issued',
      title: 'Get test keys',
      done: testKeys,
      detail: testKeys ? 'test keys were issued' : 'no test keys were issued yet',
      command: `flexpa keys rotate ${appFlag}`,
    },
    {
      step: 'first_test_access_token',
      title: 'See a first test access token',
      done: testToken,
      detail: testToken ? 'a test access token was recorded' : 'no test access token was recorded yet',
      command: `flexpa logs trigger ${appFlag}`,
    },
    {
      step: 'live_access_submitted',
      title: 'Submit the Live Mode Access form',
      done: submitted,
      detail: submittedDetail,
      command: 'flexpa live apply',
    },
    {
      step: 'live_access_approved',
      title: 'Approval by Flexpa',
      done: approval.done,
      detail: approval.detail,
      command: 'flexpa live status',
    },
    {
      step: 'payment_method',
      title: 'Add payment details',
      done: payment.done,
      detail: payment.detail,
      command: 'flexpa billing setup',
    },
    {
      step: 'live_keys_issued',
      title: 'Issue live keys',
      done: liveKeys,
      detail: liveKeys ? 'live keys were issued' : 'no live keys were issued yet',
      command: `flexpa keys rotate ${appFlag} --live`,
    },
  ]
}
