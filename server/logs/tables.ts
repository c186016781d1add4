import type { Generated, Selectable } from 'kysely'

import type { StoredState, Usage } from '../../shared/access-tokens.js'

/** One opening of Flexpa Consent. PHI columns: external_user_id and the patient_* columns. */
export interface AccessTokensTable {
  id: string
  workspace_id: string
  application_id: string
  mode: 'test' | 'live'
  state: StoredState
  endpoint_id: string
  usage: Usage
  request_id: string
  external_user_id: string | null
  patient_id: string | null
  patient_name: string | null
  patient_birth_date: string | null
  error_code: string | null
  error_message: string | null
  expires_at: string | null
  /** Number of changes written, for optimistic concurrency between writers. */
  version: Generated<number>
  created_at: string
  /** The UTC date of created_at (YYYY-MM-DD), which analytics group by. */
  created_day: string
  updated_at: string
  authorizing_at: string | null
  authorized_at: string | null
  exchanged_at: string | null
  refreshed_at: string | null
  revoked_at: string | null
  errored_at: string | null
}

/** One change of an access token, numbered in commit order, with the row as it was after it. */
export interface AccessTokenChangesTable {
  id: Generated<number>
  workspace_id: string
  mode: 'test' | 'live'
  access_token_id: string
  application_id: string
  endpoint_id: string
  state: StoredState
  /** JSON of the access token row after the change, PHI included; redacted when sent. */
  snapshot: string
  created_at: string
}

/** A workspace's log retention; a workspace without a row keeps rows for the default period. */
export interface LogRetentionTable {
  workspace_id: string
  days: number
  /** The longer retention in force before a shortening, kept for the 7-day grace period. */
  previous_days: number | null
  changed_at: string
}

export type AccessTokenRow = Selectable<AccessTokensTable>

declare module '../db/schema.js' {
  interface Database {
    access_tokens: AccessTokensTable
    access_token_changes: AccessTokenChangesTable
    log_retention: LogRetentionTable
  }
}
