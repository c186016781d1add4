import type { Kysely, Selectable } from 'kysely'

import type { Role } from '../shared/permissions.js'
import { INVITATION_DAYS } from '../shared/team.js'
import { hashSecret, newId, newSecret } from '../shared/tokens.js'
import type { Dialect } from './db/index.js'
import type { Database } from './db/schema.js'
import { ApiError } from './errors.js'
import { addMs, now } from './time.js'

/** Tables of the team feature; the migration `2026-12-04T10-team` creates them. */
export interface InvitationsTable {
  id: string
  workspace_id: string
  /** The invited address, trimmed and lower-cased. */
  email: string
  role: Role
  token_hash: string
  invited_by: string | null
  created_at: string
  /** When the current link was sent; a resend replaces the link and moves this. */
  sent_at: string
  expires_at: string
  accepted_at: string | null
  accepted_by: string | null
  revoked_at: string | null
}

/** Single-use links sent to a user's own address: password resets and email verification. */
export interface AccountTokensTable {
  id: string
  user_id: string
  purpose: 'password_reset' | 'email_verification'
  /** The address the link was sent to; a link for an address the user no longer has is void. */
  email: string
  token_hash: string
  created_at: string
  expires_at: string
  used_at: string | null
}

declare module './db/schema.js' {
  interface Database {
    invitations: InvitationsTable
    account_tokens: AccountTokensTable
  }
}

export type Invitation = Selectable<InvitationsTable>
export type InvitationState = 'pending' | 'expired' | 'accepted' | 'revoked'

export const INVITATION_LIFETIME_MS = INVITATION_DAYS * 86_400_000

export function invitationState(invitation: Invitation, time = now()): InvitationState {
  if (invitation.accepted_at !== null) return 'accepted'
  if (invitation.revoked_at !== null) return 'revoked'
  return invitation.expires_at <= time ? 'expired' : 'pending'
}

export function serializeInvitation(invitation: Invitation & { invited_by_email?: string | null }) {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    status: invitationState(invitation),
    invited_by: invitation.invited_by_email ?? null,
    created_at: invitation.created_at,
    sent_at: invitation.sent_at,
    expires_at: invitation.expires_at,
  }
}

export interface MemberRow {
  user_id: string
  email: string
  display_name: string
  role: Role
  phi_withheld: number
  created_at: string
}

export function serializeMember(member: MemberRow) {
  return {
    id: member.user_id,
    email: member.email,
    name: member.display_name,
    role: member.role,
    phi_read: !member.phi_withheld,
    joined_at: member.created_at,
  }
}

function membersQuery(db: Kysely<Database>, workspaceId: string) {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select([
      'memberships.user_id',
      'users.email',
      'users.display_name',
      'memberships.role',
      'memberships.phi_withheld',
      'memberships.created_at',
    ])
    .where('memberships.workspace_id', '=', workspaceId)
}

/** Returns a page of members in the order they joined. */
export async function listMembers(
  db: Kysely<Database>,
  workspaceId: string,
  page: { limit: number; after?: [string, string] },
): Promise<MemberRow[]> {
  let query = membersQuery(db, workspaceId)
  if (page.after) {
    const [createdAt, userId] = page.after
    query = query.where((eb) =>
      eb.or([
        eb('memberships.created_at', '>', createdAt),
        eb.and([eb('memberships.created_at', '=', createdAt), eb('memberships.user_id', '>', userId)]),
      ]),
    )
  }
  const rows = await query
    .orderBy('memberships.created_at')
    .orderBy('memberships.user_id')
    .limit(page.limit)
    .execute()
  return rows as MemberRow[]
}

/** Finds a member of the workspace by user id or by email address (case and padding ignored). */
export async function findMember(db: Kysely<Database>, workspaceId: string, reference: string): Promise<MemberRow> {
  const trimmed = reference.trim()
  const query = membersQuery(db, workspaceId)
  const row = trimmed.startsWith('usr_')
    ? await query.where('memberships.user_id', '=', trimmed).executeTakeFirst()
    : await query.where('users.email', '=', trimmed.toLowerCase()).executeTakeFirst()
  if (!row) throw new ApiError('not_found', `member "${trimmed}" was not found in this workspace`)
  return row as MemberRow
}

/**
 * Locks the workspace row until the transaction ends, so that two concurrent changes cannot both
 * count the same admins. SQLite needs no lock because it runs one write transaction at a time.
 */
export async function lockWorkspace(trx: Kysely<Database>, dialect: Dialect, workspaceId: string): Promise<void> {
  if (dialect !== 'postgres') return
  await trx.selectFrom('workspaces').select('id').where('id', '=', workspaceId).forUpdate().execute()
}

export async function countAdmins(db: Kysely<Database>, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'admin')
    .executeTakeFirstOrThrow()
  return Number(row.count)
}

export interface IssuedInvitation {
  invitation: Invitation
  /** The secret of the link; only its hash is stored. */
  token: string
}

export async function createInvitation(
  db: Kysely<Database>,
  values: { workspaceId: string; email: string; role: Role; invitedBy: string | null },
): Promise<IssuedInvitation> {
  const token = newSecret('invitation')
  const time = now()
  const invitation: Invitation = {
    id: newId('inv'),
    workspace_id: values.workspaceId,
    email: values.email,
    role: values.role,
    token_hash: hashSecret(token),
    invited_by: values.invitedBy,
    created_at: time,
    sent_at: time,
    expires_at: addMs(time, INVITATION_LIFETIME_MS),
    accepted_at: null,
    accepted_by: null,
    revoked_at: null,
  }
  await db.insertInto('invitations').values(invitation).execute()
  return { invitation, token }
}

/** Replaces the link of an invitation: the old link stops working and the expiry restarts. */
export async function renewInvitation(db: Kysely<Database>, invitation: Invitation): Promise<IssuedInvitation> {
  const token = newSecret('invitation')
  const time = now()
  const renewed = await db
    .updateTable('invitations')
    .set({ token_hash: hashSecret(token), sent_at: time, expires_at: addMs(time, INVITATION_LIFETIME_MS) })
    .where('id', '=', invitation.id)
    .returningAll()
    .executeTakeFirstOrThrow()
  return { invitation: renewed, token }
}

/** Returns the newest invitation of the address that is neither accepted nor revoked. */
export async function openInvitationFor(
  db: Kysely<Database>,
  workspaceId: string,
  address: string,
): Promise<Invitation | undefined> {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('email', '=', address)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .executeTakeFirst()
}

export async function findInvitationByToken(
  db: Kysely<Database>,
  token: string,
): Promise<(Invitation & { workspace_name: string }) | undefined> {
  return db
    .selectFrom('invitations')
    .innerJoin('workspaces', 'workspaces.id', 'invitations.workspace_id')
    .selectAll('invitations')
    .select('workspaces.name as workspace_name')
    .where('invitations.token_hash', '=', hashSecret(token))
    .executeTakeFirst()
}

/** Explains why an invitation link cannot be used any more. */
export function unusableInvitation(state: Exclude<InvitationState, 'pending'>): ApiError {
  switch (state) {
    case 'accepted':
      return new ApiError('conflict', 'this invitation was already used; each link works once')
    case 'revoked':
      return new ApiError('precondition_failed', 'this invitation was revoked; ask an admin of the workspace for a new one')
    case 'expired':
      return new ApiError('precondition_failed', 'this invitation expired; ask an admin of the workspace to resend it')
  }
}

/**
 * Marks the invitation used by `userId` and adds the membership, in one transaction. Fails with
 * 409 when another request used the link first. Returns whether the user was already a member.
 */
export async function acceptInvitation(
  db: Kysely<Database>,
  invitation: Invitation,
  userId: string,
  beforeJoin?: (trx: Kysely<Database>) => Promise<void>,
): Promise<{ alreadyMember: boolean }> {
  return db.transaction().execute(async (trx) => {
    await beforeJoin?.(trx)
    const time = now()
    const claimed = await trx
      .updateTable('invitations')
      .set({ accepted_at: time, accepted_by: userId })
      .where('id', '=', invitation.id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', time)
      .executeTakeFirst()
    if (Number(claimed.numUpdatedRows) === 0) {
      throw new ApiError('conflict', 'this invitation was already used; each link works once')
    }
    const existing = await trx
      .selectFrom('memberships')
      .select('role')
      .where('workspace_id', '=', invitation.workspace_id)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    if (existing) return { alreadyMember: true }
    await trx
      .insertInto('memberships')
      .values({ workspace_id: invitation.workspace_id, user_id: userId, role: invitation.role, created_at: time })
      .execute()
    return { alreadyMember: false }
  })
}

export function invitationLink(publicUrl: string, token: string): string {
  return `${publicUrl}/invitations/${token}`
}

/** Extracts the token from a bare token or from an invitation link. */
export function invitationTokenFrom(value: string): string {
  // A link may carry a query string or fragment that mail trackers add (?utm_source=…).
  const match = /(fxi_[0-9A-Za-z]+)\/?\s*(?:[?#]\S*)?$/.exec(value.trim())
  return match ? match[1] : value.trim()
}

export function invitationMail(options: {
  to: string
  link: string
  workspaceName: string
  role: Role
  inviter: { name: string; email: string } | null
  expiresAt: string
}) {
  const who = options.inviter ? `${options.inviter.name} (${options.inviter.email})` : 'An admin'
  const expires = `${options.expiresAt.slice(0, 16).replace('T', ' ')} UTC`
  const text = [
    `${who} invited you to join the workspace "${options.workspaceName}" on Flexpa Portal as ${options.role}.`,
    '',
    `Accept the invitation: ${options.link}`,
    '',
    `The link works once and expires on ${expires}.`,
    'If you already have an account, log in and run:',
    '',
    `  flexpa invitations accept ${options.link}`,
    '',
    'If you did not expect this invitation, you can ignore this email.',
    '',
  ].join('\n')
  return {
    kind: 'invitation',
    to: options.to,
    subject: `You are invited to ${options.workspaceName} on Flexpa Portal`,
    text,
  }
}

/** Encodes a keyset position as an opaque cursor. */
export function encodeCursor(position: [string, string]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url')
}

export function decodeCursor(cursor: string | undefined): [string, string] | undefined {
  if (cursor === undefined || cursor === '') return undefined
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return value as [string, string]
    }
  } catch {
    // Reported below as an invalid cursor.
  }
  throw new ApiError('validation_failed', 'cursor: is not a cursor returned by this list', { field: 'cursor' })
}
