import { Hono } from 'hono'
import type { Transaction } from 'kysely'

import { WorkspaceCreateBody, WorkspaceDeleteQuery, WorkspaceUpdateBody } from '../../shared/schemas.js'
import { newId } from '../../shared/tokens.js'
import { access, currentPrincipal, currentUser, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import type { Dialect } from '../db/index.js'
import type { Database } from '../db/schema.js'
import { ApiError, invalid } from '../errors.js'
import { changeRetention, readRetention } from '../logs/retention.js'
import { serializeWorkspace } from '../serialize.js'
import { sessionScope } from '../sso/service.js'
import { now } from '../time.js'
import { jsonBody, queryParams } from '../validate.js'

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
    const scope =
      principal.type === 'token' ? principal.token.workspace_id : await sessionScope(db, principal.session)
    if (scope !== null) query = query.where('workspaces.id', '=', scope)
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

  app.post('/workspaces/:workspace/leave', access('member'), async (c) => {
    const { user } = currentUser(c)
    const { workspace } = workspaceAccess(c)
    const { db, dialect } = c.get('services').database
    const time = now()
    const revoked = await db.transaction().execute(async (trx) => {
      await lockWorkspace(trx, dialect, workspace.id)
      const membership = await trx
        .selectFrom('memberships')
        .select('role')
        .where('workspace_id', '=', workspace.id)
        .where('user_id', '=', user.id)
        .executeTakeFirst()
      if (!membership) throw new ApiError('not_found', `workspace "${c.req.param('workspace')}" was not found`)
      if (membership.role === 'admin' && (await countAdmins(trx, workspace.id)) <= 1) {
        throw new ApiError(
          'precondition_failed',
          `you are the last admin of ${workspace.name}; make another member admin first (flexpa team role), or delete the workspace (flexpa workspaces delete)`,
        )
      }
      await trx.deleteFrom('memberships').where('workspace_id', '=', workspace.id).where('user_id', '=', user.id).execute()
      // The auth check already rejects tokens whose creator is no member. Revoking them too shows it in lists.
      const tokens = await trx
        .updateTable('workspace_tokens')
        .set({ revoked_at: time })
        .where('workspace_id', '=', workspace.id)
        .where('created_by', '=', user.id)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute()
      const tokenIds = tokens.map((token) => token.id)
      await recordAudit(
        c,
        {
          workspaceId: workspace.id,
          action: 'member.leave',
          targetType: 'user',
          targetId: user.id,
          data: { role: membership.role, revoked_token_ids: tokenIds },
        },
        trx,
      )
      return tokenIds
    })
    return c.json({ workspace: serializeWorkspace(workspace), left: true, revoked_token_ids: revoked })
  })

  app.delete('/workspaces/:workspace', access('team:manage'), queryParams(WorkspaceDeleteQuery), async (c) => {
    currentUser(c)
    const { workspace } = workspaceAccess(c)
    const { confirm } = c.req.valid('query')
    if (confirm !== workspace.name) {
      throw invalid('confirm', `"${confirm}" does not match the workspace name "${workspace.name}"; nothing was deleted`)
    }
    const { db } = c.get('services').database
    await db.transaction().execute(async (trx) => {
      // Audit records have no foreign key to the workspace, so they outlive it for their six-year retention.
      await recordAudit(
        c,
        { workspaceId: workspace.id, action: 'workspace.delete', targetType: 'workspace', targetId: workspace.id, data: { name: workspace.name } },
        trx,
      )
      await trx.deleteFrom('workspaces').where('id', '=', workspace.id).execute()
    })
    return c.json({ id: workspace.id, name: workspace.name, deleted: true })
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

/** Serializes membership changes of one workspace on PostgreSQL; SQLite runs one transaction at a time. */
async function lockWorkspace(trx: Transaction<Database>, dialect: Dialect, workspaceId: string): Promise<void> {
  if (dialect !== 'postgres') return
  await trx.selectFrom('workspaces').select('id').where('id', '=', workspaceId).forUpdate().execute()
}

async function countAdmins(trx: Transaction<Database>, workspaceId: string): Promise<number> {
  const row = await trx
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<string | number>().as('admins'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'admin')
    .executeTakeFirstOrThrow()
  return Number(row.admins)
}
