import { PERMISSION_CODES, type Permission } from '../../shared/permissions.js'
import { hashSecret, newId, newSecret } from '../../shared/tokens.js'
import type { TestApp } from './app.js'
import { addMember } from './app.js'

/**
 * A workspace with one principal of every kind, made through the data layer so that building it
 * is cheap and needs no password hashing. Sessions are minted per request, so a route that ends
 * a session (logout, a password change) cannot spoil the next request.
 */
export interface PrincipalFixture {
  workspaceId: string
  otherWorkspaceId: string
  admin: string
  member: string
  withheldMember: string
  outsider: string
  /** A workspace token per permission, each holding only that permission, created by the admin. */
  tokens: Record<Permission, string>
  /** Returns a fresh session token for one of the users above. */
  session(userId: string): Promise<string>
}

async function insertUser(test: TestApp, label: string): Promise<string> {
  const time = new Date().toISOString()
  const id = newId('usr')
  await test.services.database.db
    .insertInto('users')
    .values({
      id,
      email: `${label}-${id.slice(-8).toLowerCase()}@example.com`,
      display_name: label,
      password_hash: null,
      email_verified_at: time,
      created_at: time,
      updated_at: time,
    })
    .execute()
  return id
}

async function insertWorkspace(test: TestApp, name: string, adminId: string): Promise<string> {
  const time = new Date().toISOString()
  const id = newId('ws')
  await test.services.database.db.insertInto('workspaces').values({ id, name, created_at: time, updated_at: time }).execute()
  await addMember(test, id, adminId, 'admin')
  return id
}

/** Inserts a workspace token holding `permissions`; returns the token. */
export async function insertWorkspaceToken(
  test: TestApp,
  workspaceId: string,
  createdBy: string,
  permissions: Permission[],
): Promise<string> {
  const token = newSecret('workspace_token')
  const time = new Date()
  await test.services.database.db
    .insertInto('workspace_tokens')
    .values({
      id: newId('tok'),
      workspace_id: workspaceId,
      name: `token ${permissions.join(' ')}`,
      token_hash: hashSecret(token),
      permissions: JSON.stringify(permissions),
      created_by: createdBy,
      created_at: time.toISOString(),
      expires_at: new Date(time.getTime() + 86_400_000).toISOString(),
      revoked_at: null,
      last_used_at: null,
    })
    .execute()
  return token
}

/** Inserts a session for a user; returns its token. */
export async function insertSession(test: TestApp, userId: string): Promise<string> {
  const token = newSecret('session')
  const time = new Date()
  await test.services.database.db
    .insertInto('sessions')
    .values({
      id: newId('ses'),
      user_id: userId,
      token_hash: hashSecret(token),
      client: 'matrix test',
      address: null,
      sso_workspace_id: null,
      created_at: time.toISOString(),
      last_used_at: time.toISOString(),
      expires_at: new Date(time.getTime() + 86_400_000).toISOString(),
      revoked_at: null,
    })
    .execute()
  return token
}

export async function createPrincipals(test: TestApp): Promise<PrincipalFixture> {
  const admin = await insertUser(test, 'admin')
  const member = await insertUser(test, 'member')
  const withheldMember = await insertUser(test, 'withheld')
  const outsider = await insertUser(test, 'outsider')
  const workspaceId = await insertWorkspace(test, `Matrix ${admin.slice(-6)}`, admin)
  const otherWorkspaceId = await insertWorkspace(test, `Other ${outsider.slice(-6)}`, outsider)
  await addMember(test, workspaceId, member)
  await addMember(test, workspaceId, withheldMember)
  await test.services.database.db
    .updateTable('memberships')
    .set({ phi_withheld: 1 })
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', withheldMember)
    .execute()
  const tokens = {} as Record<Permission, string>
  for (const code of PERMISSION_CODES) tokens[code] = await insertWorkspaceToken(test, workspaceId, admin, [code])
  return {
    workspaceId,
    otherWorkspaceId,
    admin,
    member,
    withheldMember,
    outsider,
    tokens,
    session: (userId) => insertSession(test, userId),
  }
}
