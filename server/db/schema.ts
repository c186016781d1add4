import type { Generated } from 'kysely'

/**
 * Table types of the base schema. Features add their tables by augmenting `Database` from their own
 * modules (`declare module '../db/schema.js'`), next to their migrations.
 *
 * Timestamps are ISO 8601 strings in UTC with milliseconds, so they sort as text on both SQLite
 * and PostgreSQL. Booleans are integers (0 or 1) for the same reason.
 */
export interface Database {
  users: UsersTable
  workspaces: WorkspacesTable
  memberships: MembershipsTable
  sessions: SessionsTable
  applications: ApplicationsTable
  api_keys: ApiKeysTable
  workspace_tokens: WorkspaceTokensTable
  idempotency_keys: IdempotencyKeysTable
  audit_events: AuditEventsTable
  mail_outbox: MailOutboxTable
  rate_limits: RateLimitsTable
}

export interface UsersTable {
  id: string
  email: string
  display_name: string
  password_hash: string | null
  email_verified_at: string | null
  created_at: string
  updated_at: string
}

export interface WorkspacesTable {
  id: string
  name: string
  created_at: string
  updated_at: string
}

export interface MembershipsTable {
  workspace_id: string
  user_id: string
  role: 'admin' | 'member'
  phi_withheld: Generated<number>
  created_at: string
}

export interface SessionsTable {
  id: string
  user_id: string
  token_hash: string
  client: string | null
  address: string | null
  auth_method: Generated<string>
  sso_workspace_id: string | null
  created_at: string
  last_used_at: string
  expires_at: string
  revoked_at: string | null
}

export interface ApplicationsTable {
  id: string
  workspace_id: string
  name: string
  name_key: string
  redirect_uris: string
  key_version: Generated<number>
  created_at: string
  updated_at: string
}

export interface ApiKeysTable {
  id: string
  application_id: string
  workspace_id: string
  mode: 'test' | 'live'
  kind: 'publishable' | 'secret'
  /** The whole key, for publishable keys only. */
  value: string | null
  secret_hash: string | null
  prefix: string
  last_four: string
  created_at: string
  expires_at: string | null
  last_used_at: string | null
}

export interface WorkspaceTokensTable {
  id: string
  workspace_id: string
  name: string
  token_hash: string
  /** JSON array of permission codes. */
  permissions: string
  created_by: string
  created_at: string
  expires_at: string
  revoked_at: string | null
  last_used_at: string | null
}

export interface IdempotencyKeysTable {
  key_hash: string
  request_hash: string
  status: 'pending' | 'done'
  response_status: number | null
  /** The first response, encrypted with a key derived from the idempotency key. */
  response_body: string | null
  created_at: string
  expires_at: string
}

export interface AuditEventsTable {
  id: string
  workspace_id: string
  actor_type: 'user' | 'token' | 'operator' | 'system'
  actor_id: string | null
  actor_label: string | null
  action: string
  target_type: string | null
  target_id: string | null
  address: string | null
  request_id: string | null
  data: string | null
  created_at: string
}

export interface MailOutboxTable {
  id: string
  kind: string
  recipient: string
  subject: string
  text_body: string
  html_body: string | null
  status: 'pending' | 'sent' | 'failed'
  attempts: Generated<number>
  next_attempt_at: string
  last_error: string | null
  created_at: string
  sent_at: string | null
}

export interface RateLimitsTable {
  key: string
  window_start: string
  count: number
}
