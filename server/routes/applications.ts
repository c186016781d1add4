import { Hono, type Context } from 'hono'
import type { z } from 'zod'

import { ApplicationCreateBody, ApplicationUpdateBody, KeyRotateBody, nameKey } from '../../shared/schemas.js'
import { newId } from '../../shared/tokens.js'
import { access, requirePermission, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { ApiError } from '../errors.js'
import { goLiveSteps } from '../golive.js'
import { idempotent } from '../idempotency.js'
import { hasLiveKeys, issueKeyPair, rotateSecret, type Mode } from '../keys.js'
import { serializeApplication, serializeKey } from '../serialize.js'
import { now } from '../time.js'
import { jsonBody } from '../validate.js'

const BASE = '/workspaces/:workspace'

/** Finds an application of the route's workspace by id or by name, case-insensitively. */
export async function findApplication(c: Context<AppEnv>, reference: string) {
  const { workspace } = workspaceAccess(c)
  const { db } = c.get('services').database
  const query = db.selectFrom('applications').selectAll().where('workspace_id', '=', workspace.id)
  const row = reference.startsWith('app_')
    ? await query.where('id', '=', reference).executeTakeFirst()
    : await query.where('name_key', '=', nameKey(reference)).executeTakeFirst()
  if (!row) throw new ApiError('not_found', `application "${reference}" was not found in this workspace`)
  return row
}

async function ensureNameFree(c: Context<AppEnv>, name: string, exceptId?: string): Promise<void> {
  const { workspace } = workspaceAccess(c)
  const { db } = c.get('services').database
  let query = db
    .selectFrom('applications')
    .select('id')
    .where('workspace_id', '=', workspace.id)
    .where('name_key', '=', nameKey(name))
  if (exceptId) query = query.where('id', '!=', exceptId)
  if (await query.executeTakeFirst()) {
    throw new ApiError('already_exists', `an application named "${name}" already exists in this workspace`, {
      field: 'name',
    })
  }
}

function isUniqueViolation(error: unknown): boolean {
  const text = String((error as { code?: string; message?: string })?.code ?? '') + String((error as Error)?.message ?? '')
  return /23505|SQLITE_CONSTRAINT_UNIQUE|UNIQUE constraint/i.test(text)
}

export function applicationRoutes() {
  const app = new Hono<AppEnv>()

  app.get(`${BASE}/apps`, access('settings:read'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { db } = c.get('services').database
    const rows = await db
      .selectFrom('applications')
      .selectAll()
      .where('workspace_id', '=', workspace.id)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return c.json({ data: rows.map(serializeApplication), next_cursor: null })
  })

  app.post(`${BASE}/apps`, access('settings:manage'), jsonBody(ApplicationCreateBody), async (c) => {
    const input = c.req.valid('json')
    const { workspace } = workspaceAccess(c)
    return idempotent(c, `apps.create:${workspace.id}`, input, async () => {
      await ensureNameFree(c, input.name)
      const { db } = c.get('services').database
      const time = now()
      const application = {
        id: newId('app'),
        workspace_id: workspace.id,
        name: input.name,
        name_key: nameKey(input.name),
        redirect_uris: JSON.stringify(input.redirect_uris),
        created_at: time,
        updated_at: time,
      }
      let keys
      try {
        keys = await db.transaction().execute(async (trx) => {
          await trx.insertInto('applications').values(application).execute()
          return issueKeyPair(trx, application.id, workspace.id, 'test')
        })
      } catch (error) {
        if (isUniqueViolation(error)) await ensureNameFree(c, input.name)
        throw error
      }
      await recordAudit(c, {
        workspaceId: workspace.id,
        action: 'application.create',
        targetType: 'application',
        targetId: application.id,
        data: { name: application.name, key_ids: [keys.publishable_key_id, keys.secret_key_id] },
      })
      return {
        status: 201,
        body: {
          ...serializeApplication({ ...application, key_version: 0 }),
          keys: { mode: 'test', publishable_key: keys.publishable_key, secret_key: keys.secret_key, secret_key_id: keys.secret_key_id },
        },
      }
    })
  })

  app.get(`${BASE}/apps/:app`, access('settings:read'), async (c) => {
    return c.json(serializeApplication(await findApplication(c, c.req.param('app'))))
  })

  app.patch(`${BASE}/apps/:app`, access('settings:manage'), jsonBody(ApplicationUpdateBody), async (c) => {
    const input = c.req.valid('json')
    const application = await findApplication(c, c.req.param('app'))
    const changes: Record<string, unknown> = {}
    if (input.name !== undefined && input.name !== application.name) {
      await ensureNameFree(c, input.name, application.id)
      changes.name = input.name
      changes.name_key = nameKey(input.name)
    }
    if (input.redirect_uris !== undefined) changes.redirect_uris = JSON.stringify(input.redirect_uris)
    const { db } = c.get('services').database
    let updated = application
    if (Object.keys(changes).length > 0) {
      try {
        updated = await db
          .updateTable('applications')
          .set({ ...changes, updated_at: now() })
          .where('id', '=', application.id)
          .returningAll()
          .executeTakeFirstOrThrow()
      } catch (error) {
        if (isUniqueViolation(error)) await ensureNameFree(c, String(changes.name), application.id)
        throw error
      }
      await recordAudit(c, {
        workspaceId: application.workspace_id,
        action: 'application.update',
        targetType: 'application',
        targetId: application.id,
        data: { fields: Object.keys(changes).filter((field) => field !== 'name_key') },
      })
    }
    return c.json(serializeApplication(updated))
  })

  app.delete(`${BASE}/apps/:app`, access('settings:manage'), async (c) => {
    const application = await findApplication(c, c.req.param('app'))
    const { db } = c.get('services').database
    if (await hasLiveKeys(db, application.id)) requirePermission(c, 'api-keys-live:manage')
    await db.deleteFrom('applications').where('id', '=', application.id).execute()
    await recordAudit(c, {
      workspaceId: application.workspace_id,
      action: 'application.delete',
      targetType: 'application',
      targetId: application.id,
      data: { name: application.name },
    })
    return c.json({ id: application.id, name: application.name, deleted: true })
  })

  app.get(`${BASE}/apps/:app/keys`, access('api-keys:read'), async (c) => {
    const application = await findApplication(c, c.req.param('app'))
    const { db } = c.get('services').database
    const rows = await db
      .selectFrom('api_keys')
      .selectAll()
      .where('application_id', '=', application.id)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(200)
      .execute()
    return c.json({ data: rows.map(serializeKey) })
  })

  const rotate = async (c: Context<AppEnv>, mode: Mode, input: z.output<typeof KeyRotateBody>) => {
      const application = await findApplication(c, c.req.param('app') ?? '')
      if (mode === 'live') {
        const missing = (await goLiveSteps(c.get('services').database.db, application.workspace_id)).filter((step) => !step.done)
        if (missing.length > 0) {
          throw new ApiError(
            'live_mode_not_ready',
            `live keys need the go-live checklist completed; missing: ${missing.map((step) => step.detail).join('; ')}`,
            { missing_steps: missing.map((step) => step.step) },
          )
        }
      }
      return idempotent(c, `keys.rotate:${application.id}:${mode}`, input, async () => {
        const { db } = c.get('services').database
        const rotation = await rotateSecret(db, application.id, application.workspace_id, mode, input.expire_old_in_seconds * 1000)
        await recordAudit(c, {
          workspaceId: application.workspace_id,
          action: 'keys.rotate',
          targetType: 'application',
          targetId: application.id,
          data: {
            mode,
            new_key_id: rotation.secret_key_id,
            previous_key_id: rotation.previous?.id ?? null,
            previous_expires_at: rotation.previous?.expires_at ?? null,
            ended_key_ids: rotation.ended.map((key) => key.id),
          },
        })
        return {
          status: 200,
          body: {
            application_id: application.id,
            mode,
            publishable_key: rotation.publishable_key,
            secret_key: rotation.secret_key,
            secret_key_id: rotation.secret_key_id,
            previous_secret: rotation.previous,
            ended_secrets: rotation.ended,
          },
        }
      })
    }

  app.post(`${BASE}/apps/:app/keys/test/rotate`, access('api-keys-test:manage'), jsonBody(KeyRotateBody), (c) =>
    rotate(c, 'test', c.req.valid('json')),
  )
  app.post(`${BASE}/apps/:app/keys/live/rotate`, access('api-keys-live:manage'), jsonBody(KeyRotateBody), (c) =>
    rotate(c, 'live', c.req.valid('json')),
  )

  app.post(`${BASE}/keys/:key/expire`, access('api-keys-test:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const id = c.req.param('key')
    const { db } = c.get('services').database
    const key = await db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', id)
      .where('workspace_id', '=', workspace.id)
      .executeTakeFirst()
    if (!key) throw new ApiError('not_found', `key "${id}" was not found in this workspace`)
    if (key.mode === 'live') requirePermission(c, 'api-keys-live:manage')
    if (key.kind !== 'secret') {
      throw new ApiError('conflict', `${id} is a publishable key; only secret keys expire`)
    }
    const time = now()
    if (key.expires_at === null) {
      throw new ApiError('conflict', `${id} is the active secret; rotate it with flexpa keys rotate instead`)
    }
    if (key.expires_at <= time) throw new ApiError('conflict', `${id} already expired at ${key.expires_at}`)
    await db.updateTable('api_keys').set({ expires_at: time }).where('id', '=', key.id).execute()
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'keys.expire',
      targetType: 'api_key',
      targetId: key.id,
      data: { mode: key.mode, application_id: key.application_id },
    })
    return c.json(serializeKey({ ...key, expires_at: time }))
  })

  return app
}
