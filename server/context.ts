import type { Logger } from 'pino'

import type { Permission, Role } from '../shared/permissions.js'
import type { Config } from './config.js'
import type { DatabaseHandle } from './db/index.js'
import type { Selectable } from 'kysely'
import type { SessionsTable, UsersTable, WorkspacesTable } from './db/schema.js'

export type User = Selectable<UsersTable>
export type Workspace = Selectable<WorkspacesTable>
export type Session = Selectable<SessionsTable>

/** Services shared by every request. */
export interface Services {
  config: Config
  database: DatabaseHandle
  logger: Logger
  /** Wakes the mail sender after a message was queued; a no-op where no sender runs. */
  notifyMail: () => void
}

export interface WorkspaceToken {
  id: string
  name: string
  workspace_id: string
  created_by: string
  permissions: Permission[]
}

export type Principal =
  | { type: 'user'; user: User; session: Session }
  | { type: 'token'; token: WorkspaceToken; user: User }

export interface WorkspaceAccess {
  workspace: Workspace
  role: Role
  permissions: Permission[]
}

/** The application whose keys authenticated an ingestion request, and the keys' mode. */
export interface AppKeyAccess {
  workspace_id: string
  application_id: string
  mode: 'test' | 'live'
  /** The secret key's id. */
  key_id: string
}

export interface AppEnv {
  Variables: {
    services: Services
    requestId: string
    logger: Logger
    principal?: Principal
    access?: WorkspaceAccess
    appKey?: AppKeyAccess
  }
}
