import type { Context, MiddlewareHandler } from 'hono'

import {
  effectivePermissions,
  isPermission,
  type Access,
  type Permission,
  type Role,
} from '../shared/permissions.js'
import { nameKey } from '../shared/schemas.js'
import { hashSecret } from '../shared/tokens.js'
import type { AppEnv, AppKeyAccess, Principal, User, WorkspaceAccess } from './context.js'
import { batchedWrite } from './db/batch.js'
import { precompile } from './db/precompiled.js'
import { ApiError } from './errors.js'
import { sessionScope } from './sso/service.js'
import { sharedThrottle } from './throttle.js'
import { now } from './time.js'

const ACCESS = Symbol.for('flexpa.access')

/** Last-used times are written at most this often, so reads stay reads. */
const TOUCH_INTERVAL_MS = 60_000

export type AccessMiddleware = MiddlewareHandler<AppEnv> & { [ACCESS]: Access }

/** Returns the access a middleware declares, or undefined for any other handler. */
export function declaredAccess(handler: unknown): Access | undefined {
  return (handler as Partial<AccessMiddleware> | null)?.[ACCESS]
}

/**
 * Declares and enforces who may call a route. Every route lists one of these first; a test walks
 * the app's routes and fails on any route without it.
 */
export function access(required: Access): AccessMiddleware {
  const middleware = async function checkAccess(c: Context<AppEnv>, next: () => Promise<void>) {
    if (required === 'public' || required === 'signed') return next()
    if (required === 'app-key') {
      c.set('appKey', await authenticateAppKey(c))
      return next()
    }

    const principal = await authenticate(c)
    if (required === 'operator') {
      if (!isOperator(c, principal)) throw new ApiError('not_found', `no route for ${c.req.method} ${c.req.path}`)
      return next()
    }
    if (required === 'session') return next()

    const workspaceAccess = await resolveWorkspace(c, principal, c.req.param('workspace') ?? '')
    c.set('access', workspaceAccess)
    if (required !== 'member') requirePermission(c, required)
    return next()
  } as AccessMiddleware
  middleware[ACCESS] = required
  return middleware
}

/** Finds a secret key by its hash and, beside it, the publishable key of the same application and mode. */
const findAppKey = precompile<
  { secretHash: string; publishable: string },
  {
    id: string
    application_id: string
    workspace_id: string
    mode: 'test' | 'live'
    expires_at: string | null
    last_used_at: string | null
    prefix: string
    last_four: string
    publishable_id: string | null
  }
>((db, param) =>
  db
    .selectFrom('api_keys as secret')
    .leftJoin('api_keys as publishable', (join) =>
      join
        .onRef('publishable.application_id', '=', 'secret.application_id')
        .onRef('publishable.mode', '=', 'secret.mode')
        .on('publishable.kind', '=', 'publishable')
        .on('publishable.value', '=', param('publishable')),
    )
    .select([
      'secret.id',
      'secret.application_id',
      'secret.workspace_id',
      'secret.mode',
      'secret.expires_at',
      'secret.last_used_at',
      'secret.prefix',
      'secret.last_four',
      'publishable.id as publishable_id',
    ])
    .where('secret.secret_hash', '=', param('secretHash'))
    .where('secret.kind', '=', 'secret'),
)

const touchAppKey = precompile<{ id: string; time: string }, never>((db, param) =>
  db.updateTable('api_keys').set({ last_used_at: param('time') }).where('id', '=', param('id')),
)

const BASIC_HINT = 'send Authorization: Basic base64(publishable_key:secret_key) with the keys from flexpa apps create or flexpa keys rotate'

/**
 * Authenticates an application's backend by its publishable and secret keys. The secret must be
 * current (an expired or rotated-out secret fails with api_key_expired), and the publishable key
 * must belong to the same application and mode. Requests are throttled per secret key.
 */
async function authenticateAppKey(c: Context<AppEnv>): Promise<AppKeyAccess> {
  const header = c.req.header('authorization') ?? ''
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (!match) throw new ApiError('unauthenticated', `missing application keys: ${BASIC_HINT}`)
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  const publishable = colon < 0 ? '' : decoded.slice(0, colon)
  const secret = colon < 0 ? '' : decoded.slice(colon + 1)
  if (!publishable.startsWith('pk_') || !secret.startsWith('sk_')) {
    throw new ApiError('invalid_api_key', `the Authorization header does not contain a pk_… and an sk_… key: ${BASIC_HINT}`)
  }

  const { database, config } = c.get('services')
  const { rows } = await findAppKey.execute(database.db, { secretHash: hashSecret(secret), publishable })
  const key = rows[0]
  if (!key) throw new ApiError('invalid_api_key', 'the secret key is not valid; check that it was copied whole')
  const time = now()
  if (key.expires_at !== null && key.expires_at <= time) {
    throw new ApiError(
      'api_key_expired',
      `the secret key ${key.prefix}…${key.last_four} expired at ${key.expires_at}; use the current secret (flexpa keys rotate issues one)`,
    )
  }
  if (key.publishable_id === null) {
    throw new ApiError('invalid_api_key', "the publishable key does not belong to the secret key's application and mode")
  }

  if (key.last_used_at === null || Date.parse(time) - Date.parse(key.last_used_at) > TOUCH_INTERVAL_MS) {
    // The last-used time is informative, so the request does not wait for it; it joins the next batched commit.
    batchedWrite(database, (trx) => touchAppKey.execute(trx, { id: key.id, time })).catch((error: unknown) => {
      c.get('logger').warn({ err: error }, 'could not record when an application key was last used')
    })
  }
  const throttle = await sharedThrottle(database).hit(`app-key:${key.id}`, config.ingestRateLimit, 60_000)
  if (!throttle.allowed) {
    throw new ApiError('rate_limited', `this key sent more than ${config.ingestRateLimit} requests in a minute; retry after ${throttle.retryAfter} s`, {
      retry_after: throttle.retryAfter,
    })
  }
  return { workspace_id: key.workspace_id, application_id: key.application_id, mode: key.mode, key_id: key.id }
}

/** Returns the application and mode whose keys authenticated an ingestion request. */
export function currentAppKey(c: Context<AppEnv>): AppKeyAccess {
  const found = c.get('appKey')
  if (!found) throw new Error('currentAppKey() called on a route without app-key access')
  return found
}

/** Returns whether the caller has `permission` in the route's workspace. */
export function holdsPermission(c: Context<AppEnv>, permission: Permission): boolean {
  return (c.get('access')?.permissions ?? []).includes(permission)
}

/** Fails with 403 unless the caller has `permission` in the route's workspace. */
export function requirePermission(c: Context<AppEnv>, permission: Permission): void {
  const granted = c.get('access')?.permissions ?? []
  if (!granted.includes(permission)) {
    throw new ApiError('permission_denied', `this action requires the ${permission} permission`, {
      permission,
    })
  }
}

export function currentPrincipal(c: Context<AppEnv>): Principal {
  const principal = c.get('principal')
  if (!principal) throw new ApiError('unauthenticated', 'log in first: run flexpa login')
  return principal
}

/** Returns the signed-in person; workspace tokens are rejected. */
export function currentUser(c: Context<AppEnv>): Principal & { type: 'user' } {
  const principal = currentPrincipal(c)
  if (principal.type !== 'user') {
    throw new ApiError('permission_denied', 'a workspace token cannot do this; use a personal session')
  }
  return principal
}

export function workspaceAccess(c: Context<AppEnv>): WorkspaceAccess {
  const found = c.get('access')
  if (!found) throw new Error('workspaceAccess() called on a route without a workspace')
  return found
}

export function isOperator(c: Context<AppEnv>, principal: Principal | undefined): boolean {
  if (!principal || principal.type !== 'user') return false
  const { operatorEmails } = c.get('services').config
  return principal.user.email_verified_at !== null && operatorEmails.includes(principal.user.email)
}

function bearerToken(c: Context<AppEnv>): string | null {
  const header = c.req.header('authorization')
  if (!header) return null
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (!match) {
    throw new ApiError('unauthenticated', 'the Authorization header must be "Bearer <token>"')
  }
  return match[1]
}

/** Resolves the session or workspace token of the request, or fails with 401. */
export async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const existing = c.get('principal')
  if (existing) return existing
  const token = bearerToken(c)
  if (!token) throw new ApiError('unauthenticated', 'log in first: run flexpa login')
  const principal = token.startsWith('fxw_')
    ? await authenticateWorkspaceToken(c, token)
    : await authenticateSession(c, token)
  c.set('principal', principal)
  return principal
}

async function authenticateSession(c: Context<AppEnv>, token: string): Promise<Principal> {
  const { db } = c.get('services').database
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select([
      'users.email',
      'users.display_name',
      'users.password_hash',
      'users.email_verified_at',
      'users.created_at as user_created_at',
      'users.updated_at as user_updated_at',
    ])
    .where('sessions.token_hash', '=', hashSecret(token))
    .executeTakeFirst()
  const time = now()
  if (!row || row.revoked_at !== null || row.expires_at <= time) {
    throw new ApiError('session_expired', 'your session has ended; run flexpa login')
  }
  if (Date.parse(time) - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS) {
    await db.updateTable('sessions').set({ last_used_at: time }).where('id', '=', row.id).execute()
  }
  const user: User = {
    id: row.user_id,
    email: row.email,
    display_name: row.display_name,
    password_hash: row.password_hash,
    email_verified_at: row.email_verified_at,
    created_at: row.user_created_at,
    updated_at: row.user_updated_at,
  }
  const session = {
    id: row.id,
    user_id: row.user_id,
    token_hash: row.token_hash,
    client: row.client,
    address: row.address,
    auth_method: row.auth_method,
    sso_workspace_id: row.sso_workspace_id,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
  }
  return { type: 'user', user, session }
}

async function authenticateWorkspaceToken(c: Context<AppEnv>, token: string): Promise<Principal> {
  const { db } = c.get('services').database
  const row = await db
    .selectFrom('workspace_tokens')
    .selectAll()
    .where('token_hash', '=', hashSecret(token))
    .executeTakeFirst()
  const time = now()
  if (!row || row.revoked_at !== null || row.expires_at <= time) {
    throw new ApiError('session_expired', 'this workspace token is revoked, expired or unknown')
  }

  const user = await db.selectFrom('users').selectAll().where('id', '=', row.created_by).executeTakeFirst()
  if (!user) throw new ApiError('session_expired', 'this workspace token is revoked, expired or unknown')

  // A token lives only as long as its creator's membership. After they leave or are removed, it is
  // rejected as ended (401), not answered with 404 for a workspace it cannot see.
  const membership = await db
    .selectFrom('memberships')
    .select('role')
    .where('workspace_id', '=', row.workspace_id)
    .where('user_id', '=', row.created_by)
    .executeTakeFirst()
  if (!membership) {
    throw new ApiError('session_expired', 'this workspace token was disabled because its creator is no longer a member of the workspace')
  }

  if (row.last_used_at === null || Date.parse(time) - Date.parse(row.last_used_at) > TOUCH_INTERVAL_MS) {
    await db.updateTable('workspace_tokens').set({ last_used_at: time }).where('id', '=', row.id).execute()
  }
  const permissions = (JSON.parse(row.permissions) as string[]).filter(isPermission)
  return {
    type: 'token',
    token: { id: row.id, name: row.name, workspace_id: row.workspace_id, created_by: row.created_by, permissions },
    user,
  }
}

/**
 * Finds the workspace named by id or by name among the caller's workspaces, with the caller's role
 * and effective permissions there. A workspace the caller is not in is reported as not found.
 */
export async function resolveWorkspace(
  c: Context<AppEnv>,
  principal: Principal,
  reference: string,
): Promise<WorkspaceAccess> {
  const { db } = c.get('services').database
  const missing = new ApiError('not_found', `workspace "${reference}" was not found`)
  let query = db
    .selectFrom('memberships')
    .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
    .selectAll('workspaces')
    .leftJoin('sso_configs', 'sso_configs.workspace_id', 'workspaces.id')
    .select(['memberships.role', 'memberships.phi_withheld', 'sso_configs.enforced as sso_enforced'])
    .where('memberships.user_id', '=', principal.user.id)
  // A token sees its own workspace only, so its creator's other workspaces make no name ambiguous.
  if (principal.type === 'token') query = query.where('workspaces.id', '=', principal.token.workspace_id)
  // Names are compared in JavaScript: SQLite's lower() folds ASCII letters only, so "Ärzte" would
  // match neither "ärzte" nor itself there. A user belongs to few workspaces.
  const key = nameKey(reference)
  const rows = reference.startsWith('ws_')
    ? await query.where('workspaces.id', '=', reference).execute()
    : (await query.execute()).filter((row) => nameKey(row.name) === key)
  if (rows.length === 0) throw missing
  if (rows.length > 1) {
    throw new ApiError(
      'conflict',
      `you belong to ${rows.length} workspaces named "${reference}"; use the workspace id instead`,
      { field: 'workspace' },
    )
  }
  const row = rows[0]
  const memberPermissions = effectivePermissions(row.role as Role, row.phi_withheld ? ['phi:read'] : [])
  let permissions = memberPermissions
  if (principal.type === 'token') {
    // A token never has a permission its creator lacks now.
    permissions = principal.token.permissions.filter((code) => memberPermissions.includes(code))
  }
  if (principal.type === 'user') await checkSsoAccess(c, principal, row.id, row.role as Role, row.sso_enforced === 1, missing)
  const { role, phi_withheld: _withheld, sso_enforced: _enforced, ...workspace } = row
  return { workspace, role: role as Role, permissions }
}

/**
 * Applies single sign-on to a person's session in a workspace. A session that came through
 * another workspace's identity provider may be limited to that workspace (see `sessionScope`).
 * Where the workspace enforces SSO, only sessions from its own identity provider get in, except
 * its admins', so that a broken identity provider cannot lock everyone out. Workspace tokens are
 * not checked, because CI has no browser.
 */
async function checkSsoAccess(
  c: Context<AppEnv>,
  principal: Principal & { type: 'user' },
  workspaceId: string,
  role: Role,
  enforced: boolean,
  missing: ApiError,
): Promise<void> {
  const { session } = principal
  const throughThisWorkspace = session.auth_method === 'sso' && session.sso_workspace_id === workspaceId
  if (session.auth_method === 'sso' && !throughThisWorkspace) {
    const scope = await sessionScope(c.get('services').database.db, session)
    if (scope !== null) throw missing
  }
  if (enforced && role !== 'admin' && !throughThisWorkspace) {
    throw new ApiError(
      'sso_required',
      `this workspace requires single sign-on; log in with flexpa login --sso ${workspaceId}`,
      { workspace_id: workspaceId },
    )
  }
}
