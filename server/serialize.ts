import type { Selectable } from 'kysely'

import type { ApiKeysTable, ApplicationsTable, UsersTable, WorkspacesTable } from './db/schema.js'
import { now } from './time.js'

export function serializeUser(user: Selectable<UsersTable>) {
  return {
    id: user.id,
    email: user.email,
    name: user.display_name,
    email_verified: user.email_verified_at !== null,
    created_at: user.created_at,
  }
}

export function serializeWorkspace(workspace: Selectable<WorkspacesTable>) {
  return { id: workspace.id, name: workspace.name, created_at: workspace.created_at }
}

export function serializeApplication(application: Selectable<ApplicationsTable>) {
  return {
    id: application.id,
    name: application.name,
    redirect_uris: JSON.parse(application.redirect_uris) as string[],
    created_at: application.created_at,
    updated_at: application.updated_at,
  }
}

export function keyStatus(key: Selectable<ApiKeysTable>, time = now()): 'active' | 'expiring' | 'expired' {
  if (key.expires_at === null) return 'active'
  return key.expires_at > time ? 'expiring' : 'expired'
}

/** A key as listed: publishable keys in full, secrets as their prefix and last four characters. */
export function serializeKey(key: Selectable<ApiKeysTable>) {
  return {
    id: key.id,
    application_id: key.application_id,
    mode: key.mode,
    type: key.kind,
    publishable_key: key.kind === 'publishable' ? key.value : null,
    secret_key_hint: key.kind === 'secret' ? `${key.prefix}…${key.last_four}` : null,
    status: keyStatus(key),
    created_at: key.created_at,
    expires_at: key.expires_at,
    last_used_at: key.last_used_at,
  }
}
