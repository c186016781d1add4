import { sql, type Transaction } from 'kysely'

import { canTransition, visibleState, type StoredState, type Usage } from '../../shared/access-tokens.js'
import { newId } from '../../shared/tokens.js'
import { batchedWrite } from '../db/batch.js'
import type { DatabaseHandle } from '../db/index.js'
import { precompile } from '../db/precompiled.js'
import type { Database } from '../db/schema.js'
import { ApiError } from '../errors.js'
import { now } from '../time.js'
import { CHANGE_CHANNEL, changeFeed } from './feed.js'
import type { AccessTokenRow } from './tables.js'

/** Advisory lock that orders change ids by commit on PostgreSQL (an arbitrary constant). */
const CHANGE_LOCK_KEY = 4_711_042_917

const STATE_TIME_COLUMN = {
  AUTHORIZING: 'authorizing_at',
  AUTHORIZED: 'authorized_at',
  EXCHANGED: 'exchanged_at',
  REFRESHED: 'refreshed_at',
  REVOKED: 'revoked_at',
  ERROR: 'errored_at',
} as const

export interface NewAccessToken {
  workspaceId: string
  applicationId: string
  mode: 'test' | 'live'
  endpointId: string
  usage: Usage
  requestId: string
  externalUserId: string | null
  expiresAt: string | null
}

export interface AccessTokenChange {
  state?: StoredState
  error?: { code: string; message: string }
  patient?: { id: string; name?: string; birth_date?: string }
}

/**
 * Appends the row's change to the change table in the writing transaction. On PostgreSQL the
 * transaction first takes an advisory lock held until commit, so change ids become visible in
 * increasing order and a tail that read id N never later finds a smaller id committed.
 */
async function appendChange(trx: Transaction<Database>, dialect: DatabaseHandle['dialect'], row: AccessTokenRow) {
  if (dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(${CHANGE_LOCK_KEY}::bigint), pg_notify(${CHANGE_CHANNEL}, '')`.execute(trx)
  }
  await insertChange.execute(trx, {
    workspace_id: row.workspace_id,
    mode: row.mode,
    access_token_id: row.id,
    application_id: row.application_id,
    endpoint_id: row.endpoint_id,
    state: row.state,
    snapshot: JSON.stringify(row),
    created_at: row.updated_at,
  })
}

const CHANGE_COLUMNS = [
  'workspace_id',
  'mode',
  'access_token_id',
  'application_id',
  'endpoint_id',
  'state',
  'snapshot',
  'created_at',
] as const

type ChangeValues = Record<(typeof CHANGE_COLUMNS)[number], unknown>

const insertChange = precompile<ChangeValues, never>((db, param) =>
  db.insertInto('access_token_changes').values(Object.fromEntries(CHANGE_COLUMNS.map((column) => [column, param(column)])) as any),
)

const ROW_COLUMNS = [
  'id',
  'workspace_id',
  'application_id',
  'mode',
  'state',
  'endpoint_id',
  'usage',
  'request_id',
  'external_user_id',
  'patient_id',
  'patient_name',
  'patient_birth_date',
  'error_code',
  'error_message',
  'expires_at',
  'version',
  'created_at',
  'created_day',
  'updated_at',
  'authorizing_at',
  'authorized_at',
  'exchanged_at',
  'refreshed_at',
  'revoked_at',
  'errored_at',
] as const satisfies readonly (keyof AccessTokenRow)[]

// A column added to the row type but missing above fails to compile here.
type MissingColumn = Exclude<keyof AccessTokenRow, (typeof ROW_COLUMNS)[number]>
const everyColumn: [MissingColumn] extends [never] ? true : MissingColumn = true

/** Writes every column of a row but its id and workspace, if the stored row still has `previous_version`. */
const updateRow = precompile<AccessTokenRow & { previous_version: number } & Record<string, unknown>, never>((db, param) =>
  db
    .updateTable('access_tokens')
    .set(
      Object.fromEntries(
        ROW_COLUMNS.filter((column) => column !== 'id' && column !== 'workspace_id').map((column) => [column, param(column)]),
      ) as any,
    )
    .where('id', '=', param('id'))
    .where('version', '=', param('previous_version')),
)

const insertRow = precompile<AccessTokenRow & Record<string, unknown>, never>((db, param) =>
  db.insertInto('access_tokens').values(Object.fromEntries(ROW_COLUMNS.map((column) => [column, param(column)])) as any),
)

/** Writes a new access token in state CREATED, with its first change. */
export async function createAccessToken(database: DatabaseHandle, input: NewAccessToken): Promise<AccessTokenRow> {
  const time = now()
  const row: AccessTokenRow = {
    id: newId('atk'),
    workspace_id: input.workspaceId,
    application_id: input.applicationId,
    mode: input.mode,
    state: 'CREATED',
    endpoint_id: input.endpointId,
    usage: input.usage,
    request_id: input.requestId,
    external_user_id: input.externalUserId,
    patient_id: null,
    patient_name: null,
    patient_birth_date: null,
    error_code: null,
    error_message: null,
    expires_at: input.expiresAt,
    version: 1,
    created_at: time,
    created_day: time.slice(0, 10),
    updated_at: time,
    authorizing_at: null,
    authorized_at: null,
    exchanged_at: null,
    refreshed_at: null,
    revoked_at: null,
    errored_at: null,
  }
  await batchedWrite(database, async (trx) => {
    await insertRow.execute(trx, row)
    await appendChange(trx, database.dialect, row)
  })
  changeFeed(database).notify()
  return row
}

/** Computes the row after a change, or fails with 409 when the lifecycle forbids it. */
function applyChange(row: AccessTokenRow, change: AccessTokenChange, time: string): AccessTokenRow {
  const current = visibleState(row.state, row.expires_at, time)
  if (current === 'EXPIRED') {
    throw new ApiError('invalid_transition', `access token ${row.id} expired at ${row.expires_at} and takes no change`, {
      from: 'EXPIRED',
      to: change.state ?? null,
    })
  }
  const next: AccessTokenRow = { ...row, updated_at: time, version: row.version + 1 }
  if (change.state !== undefined) {
    if (!canTransition(row.state, change.state, row.usage)) {
      const reason = change.state === 'REFRESHED' && row.usage !== 'MULTIPLE' ? ' (refreshes need MULTIPLE usage)' : ''
      throw new ApiError('invalid_transition', `access token ${row.id} cannot move from ${row.state} to ${change.state}${reason}`, {
        from: row.state,
        to: change.state,
      })
    }
    next.state = change.state
    const column = STATE_TIME_COLUMN[change.state as keyof typeof STATE_TIME_COLUMN]
    // A row keeps the first time it reached each state, except the latest refresh.
    if (column && (next[column] === null || change.state === 'REFRESHED')) next[column] = time
  } else if (row.state === 'REVOKED' || row.state === 'ERROR') {
    throw new ApiError('invalid_transition', `access token ${row.id} is ${row.state}, a final state, and takes no change`, {
      from: row.state,
      to: null,
    })
  }
  if (change.error) {
    next.error_code = change.error.code
    next.error_message = change.error.message
  }
  if (change.patient) {
    next.patient_id = change.patient.id
    next.patient_name = change.patient.name ?? next.patient_name
    next.patient_birth_date = change.patient.birth_date ?? next.patient_birth_date
  }
  return next
}

/**
 * Moves an access token along its lifecycle. Writers compare the row's version, so of two
 * concurrent changes one wins and the other is re-checked against the new state.
 */
export async function changeAccessToken(
  database: DatabaseHandle,
  row: AccessTokenRow,
  change: AccessTokenChange,
): Promise<AccessTokenRow> {
  let current = row
  for (let attempt = 0; attempt < 5; attempt++) {
    const next = applyChange(current, change, now())
    const written = await batchedWrite(database, async (trx) => {
      const result = await updateRow.execute(trx, { ...next, previous_version: current.version })
      if (Number(result.numAffectedRows ?? 0) === 0) return false
      await appendChange(trx, database.dialect, next)
      return true
    })
    if (written) {
      changeFeed(database).notify()
      return next
    }
    const reloaded = await database.db.selectFrom('access_tokens').selectAll().where('id', '=', row.id).executeTakeFirst()
    if (!reloaded) throw new ApiError('not_found', `access token "${row.id}" was not found`)
    current = reloaded
  }
  throw new ApiError('conflict', `access token ${row.id} is changing too often to apply this change; retry it`)
}
