import { Hono } from 'hono'

import { WorkspaceCreateBody, WorkspaceUpdateBody } from '../../shared/schemas.js'
import { newId } from '../../shared/tokens.js'
import { access, currentPrincipal, currentUser, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { changeRetention, readRetention } from '../logs/retention.js'
import { serializeWorkspace } from '../serialize.js'
import { now } from '../time.js'
import { jsonBody } from '../validate.js'

export function workspaceRoutes() {
  const app = new Hono<AppEnv>()

  app.get('/workspaces', access('session'), async (c) => {
    const principal = currentPrincipal(c)
    const { db } = c.get('services').database
    let query = db
      .selectFrom('memberships')
      .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
      .select(['workspaces.id', 'workspaces.name', 'workspaces.created_at', 'memberships.role'])
      .where('memberships.user_id', '=', principal.user.id)
    if (principal.type === 'token') query = query.where('workspaces.id', '=', principal.token.workspace_id)
    const rows = await query.orderBy('workspaces.created_at').orderBy('workspaces.id').execute()
    return c.json({ data: rows })
  })

  app.post('/workspaces', access('session'), jsonBody(WorkspaceCreateBody), async (c) => {
    const { user } = currentUser(c)
    const input = c.req.valid('json')
    const { db } = c.get('services').database
    const time = now()
    const workspace = { id: newId('ws'), name: input.name, created_at: time, updated_at: time }
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('workspaces').values(workspace).execute()
      await trx
        .insertInto('memberships')
        .values({ workspace_id: workspace.id, user_id: user.id, role: 'admin', created_at: time })
        .execute()
    })
    await recordAudit(c, { workspaceId: workspace.id, action: 'workspace.create', targetType: 'workspace', targetId: workspace.id })
    return c.json({ ...serializeWorkspace(workspace), role: 'admin' }, 201)
  })

  app.get('/workspaces/:workspace', access('settings:read'), async (c) => {
    return c.json(await workspaceSettings(c))
  })

  app.patch('/workspaces/:workspace', access('settings:manage'), jsonBody(WorkspaceUpdateBody), async (c) => {
    const { workspace } = workspaceAccess(c)
    const input = c.req.valid('json')
    const { db } = c.get('services').database
    const changes: Record<string, { from: unknown; to: unknown; [detail: string]: unknown }> = {}
    if (input.name !== undefined && input.name !== workspace.name) {
      changes.name = { from: workspace.name, to: input.name }
      await db
        .updateTable('workspaces')
        .set({ name: input.name, updated_at: now() })
        .where('id', '=', workspace.id)
        .execute()
    }
    if (input.log_retention_days !== undefined) {
      const { before, after } = await changeRetention(db, workspace.id, input.log_retention_days)
      if (before.days !== after.days) {
        changes.log_retention_days = {
          from: before.days,
          to: after.days,
          effective_days: after.effective_days,
          shortening_takes_effect_at: after.shortening_takes_effect_at,
        }
      }
    }
    if (Object.keys(changes).length > 0) {
      await recordAudit(c, {
        workspaceId: workspace.id,
        action: 'settings.update',
        targetType: 'workspace',
        targetId: workspace.id,
        data: changes,
      })
    }
    return c.json(await workspaceSettings(c))
  })

  app.get('/workspaces/:workspace/me', access('member'), (c) => {
    const { workspace, role, permissions } = workspaceAccess(c)
    return c.json({ workspace: serializeWorkspace(workspace), role, permissions })
  })

  return app
}

async function workspaceSettings(c: Parameters<typeof workspaceAccess>[0]) {
  const { workspace } = workspaceAccess(c)
  const { db } = c.get('services').database
  const current = await db.selectFrom('workspaces').selectAll().where('id', '=', workspace.id).executeTakeFirstOrThrow()
  const retention = await readRetention(db, workspace.id)
  return {
    ...serializeWorkspace(current),
    updated_at: current.updated_at,
    log_retention_days: retention.days,
    log_retention_effective_days: retention.effective_days,
    log_retention_shortening_takes_effect_at: retention.shortening_takes_effect_at,
  }
}
