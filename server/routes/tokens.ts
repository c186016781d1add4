import { Hono, type Context } from 'hono'
import type { Selectable } from 'kysely'

import { ListQuery, TokenCreateBody } from '../../shared/schemas.js'
import { hashSecret, newId, newSecret } from '../../shared/tokens.js'
import { access, currentPrincipal, currentUser, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { decodeCursor, encodeCursor } from '../cursor.js'
import type { WorkspaceTokensTable } from '../db/schema.js'
import { ApiError } from '../errors.js'
import { idempotent } from '../idempotency.js'
import { addMs, now } from '../time.js'
import { jsonBody, queryParams } from '../validate.js'

const BASE = '/workspaces/:workspace/tokens'

type TokenRow = Selectable<WorkspaceTokensTable>

function tokenStatus(row: TokenRow, time = now()): 'active' | 'expired' | 'revoked' {
  if (row.revoked_at !== null) return 'revoked'
  return row.expires_at > time ? 'active' : 'expired'
}

/** Serializes a workspace token for lists. The secret itself is only in the creation response. */
function serializeToken(row: TokenRow & { creator_email?: string | null }) {
  return {
    id: row.id,
    name: row.name,
    permissions: JSON.parse(row.permissions) as string[],
    status: tokenStatus(row),
    created_by: row.created_by,
    created_by_email: row.creator_email ?? null,
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  }
}

/** True when the caller may see and revoke every token of the workspace, not only its creator's own. */
function managesTeam(c: Context<AppEnv>): boolean {
  return workspaceAccess(c).permissions.includes('team:manage')
}

export function tokenRoutes() {
  const app = new Hono<AppEnv>()

  app.post(BASE, access('member'), jsonBody(TokenCreateBody), async (c) => {
    const { user } = currentUser(c)
    const { workspace, permissions: held } = workspaceAccess(c)
    const input = c.req.valid('json')
    const missing = input.permissions.find((code) => !held.includes(code))
    if (missing) {
      throw new ApiError('permission_denied', `you do not hold ${missing}, so a token you create cannot hold it`, {
        permission: missing,
        field: 'permissions',
      })
    }

    return idempotent(c, `tokens.create:${workspace.id}`, input, async () => {
      const { db } = c.get('services').database
      const secret = newSecret('workspace_token')
      const time = now()
      const row: TokenRow = {
        id: newId('tok'),
        workspace_id: workspace.id,
        name: input.name,
        token_hash: hashSecret(secret),
        permissions: JSON.stringify(input.permissions),
        created_by: user.id,
        created_at: time,
        expires_at: addMs(time, input.expires_in_seconds * 1000),
        revoked_at: null,
        last_used_at: null,
      }
      await db.insertInto('workspace_tokens').values(row).execute()
      await recordAudit(c, {
        workspaceId: workspace.id,
        action: 'token.create',
        targetType: 'workspace_token',
        targetId: row.id,
        data: { name: row.name, permissions: input.permissions, expires_at: row.expires_at },
      })
      return { status: 201, body: { ...serializeToken({ ...row, creator_email: user.email }), token: secret } }
    })
  })

  app.get(BASE, access('member'), queryParams(ListQuery), async (c) => {
    const principal = currentPrincipal(c)
    const { workspace } = workspaceAccess(c)
    const { limit, cursor } = c.req.valid('query')
    const { db } = c.get('services').database
    let query = db
      .selectFrom('workspace_tokens')
      .leftJoin('users', 'users.id', 'workspace_tokens.created_by')
      .selectAll('workspace_tokens')
      .select('users.email as creator_email')
      .where('workspace_tokens.workspace_id', '=', workspace.id)
    if (!managesTeam(c)) query = query.where('workspace_tokens.created_by', '=', principal.user.id)
    if (cursor !== undefined) {
      const { createdAt, id } = decodeCursor(cursor)
      query = query.where((eb) =>
        eb.or([
          eb('workspace_tokens.created_at', '<', createdAt),
          eb.and([eb('workspace_tokens.created_at', '=', createdAt), eb('workspace_tokens.id', '<', id)]),
        ]),
      )
    }
    const rows = await query
      .orderBy('workspace_tokens.created_at', 'desc')
      .orderBy('workspace_tokens.id', 'desc')
      .limit(limit + 1)
      .execute()
    const page = rows.slice(0, limit)
    return c.json({
      data: page.map(serializeToken),
      next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null,
    })
  })

  app.delete(`${BASE}/:token`, access('member'), async (c) => {
    const principal = currentPrincipal(c)
    const { workspace } = workspaceAccess(c)
    const id = c.req.param('token')
    const { db } = c.get('services').database
    const row = await db
      .selectFrom('workspace_tokens')
      .selectAll()
      .where('id', '=', id)
      .where('workspace_id', '=', workspace.id)
      .executeTakeFirst()
    if (!row) throw new ApiError('not_found', `token "${id}" was not found in this workspace`)
    if (row.created_by !== principal.user.id && !managesTeam(c)) {
      throw new ApiError('permission_denied', 'revoking a token created by someone else requires the team:manage permission', {
        permission: 'team:manage',
      })
    }
    if (row.revoked_at !== null) return c.json(serializeToken(row))

    const time = now()
    await db
      .updateTable('workspace_tokens')
      .set({ revoked_at: time })
      .where('id', '=', row.id)
      .where('revoked_at', 'is', null)
      .execute()
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'token.revoke',
      targetType: 'workspace_token',
      targetId: row.id,
      data: { name: row.name, created_by: row.created_by },
    })
    return c.json(serializeToken({ ...row, revoked_at: time }))
  })

  return app
}
