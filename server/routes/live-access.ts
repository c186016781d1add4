import { Hono, type Context } from 'hono'

import { LiveAccessForm, LiveAccessListQuery, LiveAccessRejectBody } from '../../shared/schemas.js'
import { newId } from '../../shared/tokens.js'
import { access, currentPrincipal, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { ApiError } from '../errors.js'
import { goLiveChecklist, goLiveSteps } from '../golive.js'
import {
  latestLiveAccessRequest,
  mailDecisionToAdmins,
  serializeLiveAccessRequest,
  type LiveAccessRequest,
} from '../live-access.js'
import { queueMail } from '../mail.js'
import { serializeWorkspace } from '../serialize.js'
import { now } from '../time.js'
import { jsonBody, queryParams } from '../validate.js'

const BASE = '/workspaces/:workspace'

function encodeCursor(row: { submitted_at: string; id: string }): string {
  return Buffer.from(`${row.submitted_at}|${row.id}`).toString('base64url')
}

function decodeCursor(cursor: string): { submittedAt: string; id: string } {
  const [submittedAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  if (!submittedAt || !id) throw new ApiError('validation_failed', 'cursor: is not a cursor returned by this list', { field: 'cursor' })
  return { submittedAt, id }
}

/** Records an operator's decision on a pending form, audits it and mails the workspace's admins. */
async function decide(c: Context<AppEnv>, id: string, status: 'approved' | 'rejected', reason: string | null) {
  const principal = currentPrincipal(c)
  const { db } = c.get('services').database
  const { publicUrl } = c.get('services').config
  const decided = await db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('live_access_requests')
      .set({ status, decided_by: principal.user.id, decided_at: now(), rejection_reason: reason })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst()
    if (!updated) {
      const existing = await trx.selectFrom('live_access_requests').select('status').where('id', '=', id).executeTakeFirst()
      if (!existing) throw new ApiError('not_found', `Live Mode Access request "${id}" was not found`)
      throw new ApiError('conflict', `Live Mode Access request ${id} is already ${existing.status}; only a pending request can be decided`)
    }
    const workspace = await trx.selectFrom('workspaces').select('name').where('id', '=', updated.workspace_id).executeTakeFirstOrThrow()
    const recipients = await mailDecisionToAdmins(trx, updated, workspace.name, publicUrl)
    await recordAudit(
      c,
      {
        workspaceId: updated.workspace_id,
        action: status === 'approved' ? 'live_access.approve' : 'live_access.reject',
        targetType: 'live_access_request',
        targetId: updated.id,
        data: { reason, notified: recipients.length },
      },
      trx,
      'operator',
    )
    return { request: updated, workspaceName: workspace.name, recipients }
  })
  c.get('services').notifyMail()
  return c.json({
    ...serializeLiveAccessRequest(decided.request, { workspace_name: decided.workspaceName }),
    notified: decided.recipients,
  })
}

async function notifyOperators(c: Context<AppEnv>, request: LiveAccessRequest, workspaceName: string): Promise<void> {
  const { operatorEmails, publicUrl } = c.get('services').config
  const { db } = c.get('services').database
  for (const operator of operatorEmails) {
    await queueMail(db, {
      kind: 'live_access_submitted',
      to: operator,
      subject: `Live Mode Access form from ${workspaceName}`,
      text: [
        `The workspace ${workspaceName} (${request.workspace_id}) sent its Live Mode Access form.`,
        '',
        'Review it with: flexpa admin live-access list --status pending',
        `Then: flexpa admin live-access approve ${request.id}, or reject ${request.id} --reason "…"`,
        '',
        `Server: ${publicUrl}`,
      ].join('\n'),
    })
  }
  if (operatorEmails.length > 0) c.get('services').notifyMail()
}

export function liveAccessRoutes() {
  const app = new Hono<AppEnv>()

  app.get(`${BASE}/home`, access('settings:read'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { db } = c.get('services').database
    const steps = await goLiveChecklist(db, workspace.id)
    const missing = (await goLiveSteps(db, workspace.id)).filter((step) => !step.done)
    const next = steps.find((step) => !step.done) ?? null
    return c.json({
      workspace: serializeWorkspace(workspace),
      steps,
      next_step: next ? { step: next.step, command: next.command } : null,
      live_keys_allowed: missing.length === 0,
      missing_for_live_keys: missing,
    })
  })

  app.post(`${BASE}/live-access`, access('settings:manage'), jsonBody(LiveAccessForm), async (c) => {
    const form = c.req.valid('json')
    const { workspace } = workspaceAccess(c)
    const principal = currentPrincipal(c)
    const { db } = c.get('services').database
    const request = await db.transaction().execute(async (trx) => {
      // Updating the workspace row first makes concurrent submissions run one after the other.
      await trx.updateTable('workspaces').set({ updated_at: now() }).where('id', '=', workspace.id).execute()
      const latest = await latestLiveAccessRequest(trx, workspace.id)
      if (latest?.status === 'pending') {
        throw new ApiError('conflict', `the Live Mode Access form ${latest.id} is already waiting for review; see flexpa live status`)
      }
      if (latest?.status === 'approved') {
        throw new ApiError('conflict', `the Live Mode Access form of this workspace was already approved (${latest.id})`)
      }
      const row = {
        id: newId('live'),
        workspace_id: workspace.id,
        status: 'pending' as const,
        form: JSON.stringify(form),
        submitted_by: principal.user.id,
        submitted_at: now(),
        decided_by: null,
        decided_at: null,
        rejection_reason: null,
      }
      await trx.insertInto('live_access_requests').values(row).execute()
      await recordAudit(
        c,
        {
          workspaceId: workspace.id,
          action: 'live_access.submit',
          targetType: 'live_access_request',
          targetId: row.id,
          data: { resubmission: latest?.status === 'rejected', organization_name: form.organization_name },
        },
        trx,
      )
      return row
    })
    await notifyOperators(c, request, workspace.name)
    return c.json(serializeLiveAccessRequest(request), 201)
  })

  app.get(`${BASE}/live-access`, access('settings:read'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { db } = c.get('services').database
    const rows = await db
      .selectFrom('live_access_requests')
      .selectAll()
      .where('workspace_id', '=', workspace.id)
      .orderBy('submitted_at', 'desc')
      .orderBy('id', 'desc')
      .limit(100)
      .execute()
    return c.json({
      status: rows[0]?.status ?? 'not_submitted',
      current: rows[0] ? serializeLiveAccessRequest(rows[0]) : null,
      history: rows.map((row) => serializeLiveAccessRequest(row)),
    })
  })

  app.get('/operator/live-access', access('operator'), queryParams(LiveAccessListQuery), async (c) => {
    const query = c.req.valid('query')
    const { db } = c.get('services').database
    let select = db
      .selectFrom('live_access_requests')
      .innerJoin('workspaces', 'workspaces.id', 'live_access_requests.workspace_id')
      .selectAll('live_access_requests')
      .select('workspaces.name as workspace_name')
    if (query.status) select = select.where('live_access_requests.status', '=', query.status)
    if (query.cursor) {
      const { submittedAt, id } = decodeCursor(query.cursor)
      select = select.where((eb) =>
        eb.or([
          eb('live_access_requests.submitted_at', '>', submittedAt),
          eb.and([eb('live_access_requests.submitted_at', '=', submittedAt), eb('live_access_requests.id', '>', id)]),
        ]),
      )
    }
    const rows = await select
      .orderBy('live_access_requests.submitted_at')
      .orderBy('live_access_requests.id')
      .limit(query.limit + 1)
      .execute()
    const page = rows.slice(0, query.limit)
    return c.json({
      data: page.map(({ workspace_name, ...row }) => serializeLiveAccessRequest(row, { workspace_name })),
      next_cursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]) : null,
    })
  })

  app.post('/operator/live-access/:id/approve', access('operator'), (c) => decide(c, c.req.param('id'), 'approved', null))

  app.post('/operator/live-access/:id/reject', access('operator'), jsonBody(LiveAccessRejectBody), (c) =>
    decide(c, c.req.param('id'), 'rejected', c.req.valid('json').reason),
  )

  return app
}
