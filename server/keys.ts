import type { Kysely, Selectable, Transaction } from 'kysely'

import { hashSecret, newId, newSecret } from '../shared/tokens.js'
import type { ApiKeysTable, Database } from './db/schema.js'
import { addMs, now } from './time.js'

export type Mode = 'test' | 'live'

function keyRow(applicationId: string, workspaceId: string, mode: Mode, kind: 'publishable' | 'secret', value: string, time: string) {
  return {
    id: newId('key'),
    application_id: applicationId,
    workspace_id: workspaceId,
    mode,
    kind,
    value: kind === 'publishable' ? value : null,
    secret_hash: kind === 'secret' ? hashSecret(value) : null,
    prefix: value.slice(0, 8),
    last_four: value.slice(-4),
    created_at: time,
    expires_at: null,
    last_used_at: null,
  } satisfies Selectable<ApiKeysTable>
}

export interface IssuedKeys {
  publishable_key: string
  publishable_key_id: string
  secret_key: string
  secret_key_id: string
}

/** Issues a publishable key and a first secret for one application and mode. */
export async function issueKeyPair(
  trx: Kysely<Database>,
  applicationId: string,
  workspaceId: string,
  mode: Mode,
): Promise<IssuedKeys> {
  const time = now()
  const publishable = newSecret(mode === 'test' ? 'publishable_test' : 'publishable_live')
  const secret = newSecret(mode === 'test' ? 'secret_test' : 'secret_live')
  const publishableRow = keyRow(applicationId, workspaceId, mode, 'publishable', publishable, time)
  const secretRow = keyRow(applicationId, workspaceId, mode, 'secret', secret, time)
  await trx.insertInto('api_keys').values([publishableRow, secretRow]).execute()
  return {
    publishable_key: publishable,
    publishable_key_id: publishableRow.id,
    secret_key: secret,
    secret_key_id: secretRow.id,
  }
}

export interface Rotation {
  publishable_key: string
  secret_key: string
  secret_key_id: string
  /** The secret that was active, and when it stops working. */
  previous: { id: string; hint: string; expires_at: string } | null
  /** Secrets that were in a grace period and stopped working at once. */
  ended: { id: string; hint: string }[]
  created_publishable: boolean
}

/**
 * Rotates the secret of one application and mode. The application row is updated first, which
 * locks it, so concurrent rotations run one after the other and at most two secrets stay valid:
 * the new one and, during its grace period, the one it replaced.
 */
export async function rotateSecret(
  db: Kysely<Database>,
  applicationId: string,
  workspaceId: string,
  mode: Mode,
  graceMs: number,
): Promise<Rotation> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('applications')
      .set((eb) => ({ key_version: eb('key_version', '+', 1) }))
      .where('id', '=', applicationId)
      .execute()
    const time = now()
    let publishable = await findPublishable(trx, applicationId, mode)
    let createdPublishable = false
    if (!publishable) {
      const value = newSecret(mode === 'test' ? 'publishable_test' : 'publishable_live')
      await trx.insertInto('api_keys').values(keyRow(applicationId, workspaceId, mode, 'publishable', value, time)).execute()
      publishable = value
      createdPublishable = true
    }
    const valid = await trx
      .selectFrom('api_keys')
      .selectAll()
      .where('application_id', '=', applicationId)
      .where('mode', '=', mode)
      .where('kind', '=', 'secret')
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', time)]))
      .execute()

    const ended = valid.filter((key) => key.expires_at !== null)
    if (ended.length > 0) {
      await trx.updateTable('api_keys').set({ expires_at: time }).where('id', 'in', ended.map((key) => key.id)).execute()
    }
    const active = valid.find((key) => key.expires_at === null)
    let previous: Rotation['previous'] = null
    if (active) {
      const expiresAt = addMs(time, graceMs)
      await trx.updateTable('api_keys').set({ expires_at: expiresAt }).where('id', '=', active.id).execute()
      previous = { id: active.id, hint: `${active.prefix}…${active.last_four}`, expires_at: expiresAt }
    }
    const secret = newSecret(mode === 'test' ? 'secret_test' : 'secret_live')
    const row = keyRow(applicationId, workspaceId, mode, 'secret', secret, time)
    await trx.insertInto('api_keys').values(row).execute()
    return {
      publishable_key: publishable,
      secret_key: secret,
      secret_key_id: row.id,
      previous,
      ended: ended.map((key) => ({ id: key.id, hint: `${key.prefix}…${key.last_four}` })),
      created_publishable: createdPublishable,
    }
  })
}

async function findPublishable(trx: Transaction<Database>, applicationId: string, mode: Mode): Promise<string | null> {
  const row = await trx
    .selectFrom('api_keys')
    .select('value')
    .where('application_id', '=', applicationId)
    .where('mode', '=', mode)
    .where('kind', '=', 'publishable')
    .executeTakeFirst()
  return row?.value ?? null
}

export async function hasLiveKeys(db: Kysely<Database>, applicationId: string): Promise<boolean> {
  const row = await db
    .selectFrom('api_keys')
    .select('id')
    .where('application_id', '=', applicationId)
    .where('mode', '=', 'live')
    .limit(1)
    .executeTakeFirst()
  return row !== undefined
}
