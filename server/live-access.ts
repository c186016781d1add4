import type { Kysely, Selectable } from 'kysely'

import type { Database } from './db/schema.js'
import { queueMail } from './mail.js'

export type LiveAccessStatus = 'pending' | 'approved' | 'rejected'

/** One submission of the Live Mode Access form. A rejected form is corrected by a new submission. */
export interface LiveAccessRequestsTable {
  id: string
  workspace_id: string
  status: LiveAccessStatus
  /** The form's fields as JSON, in the shape of `LiveAccessForm`. */
  form: string
  submitted_by: string | null
  submitted_at: string
  /** The operator's user id. */
  decided_by: string | null
  decided_at: string | null
  rejection_reason: string | null
}

declare module './db/schema.js' {
  interface Database {
    live_access_requests: LiveAccessRequestsTable
  }
}

export type LiveAccessRequest = Selectable<LiveAccessRequestsTable>

export function serializeLiveAccessRequest(row: LiveAccessRequest, extra: { workspace_name?: string; decided_by_email?: string | null } = {}) {
  return {
    id: row.id,
    workspace_id: row.workspace_id,
    ...(extra.workspace_name !== undefined ? { workspace_name: extra.workspace_name } : {}),
    status: row.status,
    form: JSON.parse(row.form) as Record<string, unknown>,
    submitted_by: row.submitted_by,
    submitted_at: row.submitted_at,
    decided_at: row.decided_at,
    rejection_reason: row.rejection_reason,
  }
}

/** Returns the workspace's most recent submission, or undefined when it never applied. */
export async function latestLiveAccessRequest(db: Kysely<Database>, workspaceId: string) {
  return db
    .selectFrom('live_access_requests')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('submitted_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst()
}

/** Queues the operator's decision for every admin of the workspace and returns the recipients. */
export async function mailDecisionToAdmins(
  db: Kysely<Database>,
  request: LiveAccessRequest,
  workspaceName: string,
  publicUrl: string,
): Promise<string[]> {
  const admins = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select('users.email')
    .where('memberships.workspace_id', '=', request.workspace_id)
    .where('memberships.role', '=', 'admin')
    .orderBy('users.email')
    .execute()
  const approved = request.status === 'approved'
  const subject = approved
    ? `Live Mode Access approved for ${workspaceName}`
    : `Live Mode Access form for ${workspaceName} needs changes`
  const lines = approved
    ? [
        `The Live Mode Access form of the workspace ${workspaceName} was approved.`,
        '',
        'Next: add a payment method with `flexpa billing setup`, then issue live keys with',
        '`flexpa keys rotate --app <app> --live`. `flexpa home` shows what is left.',
      ]
    : [
        `The Live Mode Access form of the workspace ${workspaceName} was not approved.`,
        '',
        `Reason: ${request.rejection_reason ?? ''}`,
        '',
        'Correct the form and send it again with `flexpa live apply`; `flexpa live status` shows its history.',
      ]
  lines.push('', `Server: ${publicUrl}`)
  for (const admin of admins) {
    await queueMail(db, { kind: 'live_access_decision', to: admin.email, subject, text: lines.join('\n') })
  }
  return admins.map((admin) => admin.email)
}
