import { Hono, type Context } from 'hono'

import type { Role } from '../../shared/permissions.js'
import { email as emailSchema, ListQuery } from '../../shared/schemas.js'
import {
  InvitationAcceptBody,
  InviteBody,
  MemberPhiBody,
  MemberRoleBody,
  ROLE_UPDATED,
  type InviteRowOutcome,
} from '../../shared/team.js'
import { access, currentUser, workspaceAccess } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { ApiError } from '../errors.js'
import { queueMail } from '../mail.js'
import { serializeWorkspace } from '../serialize.js'
import {
  acceptInvitation,
  countAdmins,
  createInvitation,
  decodeCursor,
  encodeCursor,
  findInvitationByToken,
  findMember,
  invitationLink,
  invitationMail,
  invitationState,
  invitationTokenFrom,
  listMembers,
  lockWorkspace,
  openInvitationFor,
  renewInvitation,
  serializeInvitation,
  serializeMember,
  unusableInvitation,
  type Invitation,
  type IssuedInvitation,
} from '../team.js'
import { hit } from '../throttle.js'
import { now } from '../time.js'
import { jsonBody, queryParams } from '../validate.js'

const BASE = '/workspaces/:workspace'
const HOUR_MS = 3_600_000

/**
 * Invitation mails allowed per workspace per hour, and per recipient address per day across all
 * workspaces. The second limit is what stops a flood of one inbox from many new workspaces.
 */
export const INVITE_LIMITS = { workspacePerHour: 100, recipientPerDay: 10 }

/** Counts one invitation mail against both limits; returns seconds to wait, or null when allowed. */
async function throttleInvitation(c: Context<AppEnv>, workspaceId: string, address: string): Promise<number | null> {
  const { db } = c.get('services').database
  const byWorkspace = await hit(db, `invite:workspace:${workspaceId}`, INVITE_LIMITS.workspacePerHour, HOUR_MS)
  if (!byWorkspace.allowed) return byWorkspace.retryAfter
  const byRecipient = await hit(db, `invite:recipient:${address}`, INVITE_LIMITS.recipientPerDay, 24 * HOUR_MS)
  if (!byRecipient.allowed) return byRecipient.retryAfter
  return null
}

/** Queues the mail of a new or renewed invitation and wakes the sender. */
async function mailInvitation(c: Context<AppEnv>, issued: IssuedInvitation, workspaceName: string): Promise<void> {
  const { database, config } = c.get('services')
  const inviter = issued.invitation.invited_by
    ? await database.db
        .selectFrom('users')
        .select(['display_name as name', 'email'])
        .where('id', '=', issued.invitation.invited_by)
        .executeTakeFirst()
    : undefined
  await queueMail(
    database.db,
    invitationMail({
      to: issued.invitation.email,
      link: invitationLink(config.publicUrl, issued.token),
      workspaceName,
      role: issued.invitation.role,
      inviter: inviter ?? null,
      expiresAt: issued.invitation.expires_at,
    }),
  )
  c.get('services').notifyMail()
}

interface InviteRowResult {
  email: string
  role: Role
  outcome: InviteRowOutcome
  invitation_id?: string
  user_id?: string
  reason?: string
  retry_after?: number
  /** The role a pending invitation had before this request changed it. */
  previous_role?: Role
}

/** Invites one address; `requested` is the row's role, absent when the row names none. */
async function inviteOne(c: Context<AppEnv>, raw: string, requested: Role | undefined): Promise<InviteRowResult> {
  const role = requested ?? 'member'
  const { workspace } = workspaceAccess(c)
  const { db } = c.get('services').database
  const parsed = emailSchema.safeParse(raw)
  if (!parsed.success) {
    return { email: raw.trim(), role, outcome: 'invalid', reason: parsed.error.issues[0].message }
  }
  const address = parsed.data

  const member = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'memberships.role'])
    .where('memberships.workspace_id', '=', workspace.id)
    .where('users.email', '=', address)
    .executeTakeFirst()
  if (member) {
    return { email: address, role: member.role, outcome: 'already_member', user_id: member.id }
  }
  const open = await openInvitationFor(db, workspace.id, address)
  if (open && invitationState(open) === 'pending') {
    if (requested === undefined || open.role === requested) {
      return { email: address, role: open.role, outcome: 'already_invited', invitation_id: open.id }
    }
    await db.updateTable('invitations').set({ role }).where('id', '=', open.id).execute()
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'invitation.role_update',
      targetType: 'invitation',
      targetId: open.id,
      data: { email: address, role, previous_role: open.role },
    })
    return { email: address, role, outcome: ROLE_UPDATED, invitation_id: open.id, previous_role: open.role }
  }

  const retryAfter = await throttleInvitation(c, workspace.id, address)
  if (retryAfter !== null) {
    c.get('logger').warn({ workspace_id: workspace.id, retry_after: retryAfter }, 'invitation mail rate limited')
    return { email: address, role, outcome: 'rate_limited', reason: `too many invitations; try again in ${retryAfter} seconds`, retry_after: retryAfter }
  }
  // An expired invitation of the address is replaced by the new one.
  if (open) await db.updateTable('invitations').set({ revoked_at: now() }).where('id', '=', open.id).execute()
  const issued = await createInvitation(db, {
    workspaceId: workspace.id,
    email: address,
    role,
    invitedBy: currentUserId(c),
  })
  await mailInvitation(c, issued, workspace.name)
  await recordAudit(c, {
    workspaceId: workspace.id,
    action: 'invitation.create',
    targetType: 'invitation',
    targetId: issued.invitation.id,
    data: { email: address, role },
  })
  return { email: address, role, outcome: 'invited', invitation_id: issued.invitation.id }
}

/** Returns the user behind the request: the signed-in person, or the creator of a workspace token. */
function currentUserId(c: Context<AppEnv>): string | null {
  return c.get('principal')?.user.id ?? null
}

/** Finds an invitation of the route's workspace by id, or the open one of an email address. */
async function findInvitation(c: Context<AppEnv>, reference: string): Promise<Invitation> {
  const { workspace } = workspaceAccess(c)
  const { db } = c.get('services').database
  const trimmed = reference.trim()
  const found = trimmed.startsWith('inv_')
    ? await db
        .selectFrom('invitations')
        .selectAll()
        .where('workspace_id', '=', workspace.id)
        .where('id', '=', trimmed)
        .executeTakeFirst()
    : await openInvitationFor(db, workspace.id, trimmed.toLowerCase())
  if (!found) throw new ApiError('not_found', `invitation "${trimmed}" was not found in this workspace`)
  return found
}

export function teamRoutes() {
  const app = new Hono<AppEnv>()

  app.get(`${BASE}/members`, access('team:read'), queryParams(ListQuery), async (c) => {
    const { workspace } = workspaceAccess(c)
    const query = c.req.valid('query')
    const rows = await listMembers(c.get('services').database.db, workspace.id, {
      limit: query.limit + 1,
      after: decodeCursor(query.cursor),
    })
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    const nextCursor = rows.length > query.limit && last ? encodeCursor([last.created_at, last.user_id]) : null
    return c.json({ data: page.map(serializeMember), next_cursor: nextCursor })
  })

  app.get(`${BASE}/members/:member`, access('team:read'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const member = await findMember(c.get('services').database.db, workspace.id, c.req.param('member'))
    return c.json(serializeMember(member))
  })

  app.patch(`${BASE}/members/:member`, access('team:manage'), jsonBody(MemberRoleBody), async (c) => {
    const { workspace } = workspaceAccess(c)
    const input = c.req.valid('json')
    const { db, dialect } = c.get('services').database
    const reference = c.req.param('member')

    const result = await db.transaction().execute(async (trx) => {
      await lockWorkspace(trx, dialect, workspace.id)
      const member = await findMember(trx, workspace.id, reference)
      if (member.role === input.role) return { member, changed: false }
      if (member.role === 'admin' && (await countAdmins(trx, workspace.id)) <= 1) {
        throw new ApiError('precondition_failed', `${member.email} is the last admin; promote another member first`)
      }
      await trx
        .updateTable('memberships')
        .set({ role: input.role })
        .where('workspace_id', '=', workspace.id)
        .where('user_id', '=', member.user_id)
        .execute()
      return { member: { ...member, role: input.role }, changed: true, from: member.role }
    })
    if (result.changed) {
      await recordAudit(c, {
        workspaceId: workspace.id,
        action: 'member.role_change',
        targetType: 'user',
        targetId: result.member.user_id,
        data: { email: result.member.email, from: result.from, to: input.role },
      })
    }
    return c.json({ ...serializeMember(result.member), changed: result.changed })
  })

  app.delete(`${BASE}/members/:member`, access('team:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { db, dialect } = c.get('services').database
    const reference = c.req.param('member')
    const actorId = currentUserId(c)

    const removed = await db.transaction().execute(async (trx) => {
      await lockWorkspace(trx, dialect, workspace.id)
      const member = await findMember(trx, workspace.id, reference)
      if (member.user_id === actorId) {
        throw new ApiError('precondition_failed', 'you cannot remove yourself; to leave the workspace, run flexpa workspaces leave')
      }
      if (member.role === 'admin' && (await countAdmins(trx, workspace.id)) <= 1) {
        throw new ApiError('precondition_failed', `${member.email} is the last admin and cannot be removed`)
      }
      await trx
        .deleteFrom('memberships')
        .where('workspace_id', '=', workspace.id)
        .where('user_id', '=', member.user_id)
        .execute()
      // Tokens act as their creator, so a removed creator's tokens would fail anyway; revoking
      // them keeps them dead if the person is invited back.
      const revoked = await trx
        .updateTable('workspace_tokens')
        .set({ revoked_at: now() })
        .where('workspace_id', '=', workspace.id)
        .where('created_by', '=', member.user_id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return { member, tokensRevoked: Number(revoked.numUpdatedRows) }
    })
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'member.remove',
      targetType: 'user',
      targetId: removed.member.user_id,
      data: { email: removed.member.email, role: removed.member.role, tokens_revoked: removed.tokensRevoked },
    })
    return c.json({ ...serializeMember(removed.member), removed: true, tokens_revoked: removed.tokensRevoked })
  })

  app.put(`${BASE}/members/:member/phi`, access('team:manage'), jsonBody(MemberPhiBody), async (c) => {
    const { workspace } = workspaceAccess(c)
    const input = c.req.valid('json')
    const { db } = c.get('services').database
    const member = await findMember(db, workspace.id, c.req.param('member'))
    const withheld = input.withheld ? 1 : 0
    const changed = Number(member.phi_withheld) !== withheld
    if (changed) {
      await db
        .updateTable('memberships')
        .set({ phi_withheld: withheld })
        .where('workspace_id', '=', workspace.id)
        .where('user_id', '=', member.user_id)
        .execute()
      await recordAudit(c, {
        workspaceId: workspace.id,
        action: input.withheld ? 'member.phi_withhold' : 'member.phi_restore',
        targetType: 'user',
        targetId: member.user_id,
        data: { email: member.email, permission: 'phi:read' },
      })
    }
    return c.json({ ...serializeMember({ ...member, phi_withheld: withheld }), changed })
  })

  app.post(`${BASE}/invitations`, access('team:manage'), jsonBody(InviteBody), async (c) => {
    const input = c.req.valid('json')
    const results: InviteRowResult[] = []
    for (const row of input.invitations) results.push(await inviteOne(c, row.email, row.role))
    return c.json({ data: results })
  })

  app.get(`${BASE}/invitations`, access('team:read'), queryParams(ListQuery), async (c) => {
    const { workspace } = workspaceAccess(c)
    const query = c.req.valid('query')
    const after = decodeCursor(query.cursor)
    const { db } = c.get('services').database
    let select = db
      .selectFrom('invitations')
      .leftJoin('users', 'users.id', 'invitations.invited_by')
      .selectAll('invitations')
      .select('users.email as invited_by_email')
      .where('invitations.workspace_id', '=', workspace.id)
      .where('invitations.accepted_at', 'is', null)
      .where('invitations.revoked_at', 'is', null)
    if (after) {
      const [createdAt, id] = after
      select = select.where((eb) =>
        eb.or([
          eb('invitations.created_at', '>', createdAt),
          eb.and([eb('invitations.created_at', '=', createdAt), eb('invitations.id', '>', id)]),
        ]),
      )
    }
    const rows = await select
      .orderBy('invitations.created_at')
      .orderBy('invitations.id')
      .limit(query.limit + 1)
      .execute()
    const page = rows.slice(0, query.limit)
    const last = page.at(-1)
    const nextCursor = rows.length > query.limit && last ? encodeCursor([last.created_at, last.id]) : null
    return c.json({ data: page.map(serializeInvitation), next_cursor: nextCursor })
  })

  app.delete(`${BASE}/invitations/:invitation`, access('team:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const invitation = await findInvitation(c, c.req.param('invitation'))
    const state = invitationState(invitation)
    if (state === 'accepted' || state === 'revoked') {
      throw new ApiError('precondition_failed', `invitation ${invitation.id} is already ${state}`)
    }
    const { db } = c.get('services').database
    const revoked = await db
      .updateTable('invitations')
      .set({ revoked_at: now() })
      .where('id', '=', invitation.id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst()
    if (!revoked) throw new ApiError('precondition_failed', `invitation ${invitation.id} was used or revoked meanwhile`)
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: invitation.id,
      data: { email: invitation.email },
    })
    return c.json(serializeInvitation(revoked))
  })

  app.post(`${BASE}/invitations/:invitation/resend`, access('team:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const invitation = await findInvitation(c, c.req.param('invitation'))
    const state = invitationState(invitation)
    if (state === 'accepted' || state === 'revoked') {
      throw new ApiError('precondition_failed', `invitation ${invitation.id} is ${state}; send a new one with flexpa team invite`)
    }
    const retryAfter = await throttleInvitation(c, workspace.id, invitation.email)
    if (retryAfter !== null) {
      throw new ApiError('rate_limited', `too many invitations; try again in ${retryAfter} seconds`, { retry_after: retryAfter })
    }
    const { db } = c.get('services').database
    const issued = await renewInvitation(db, invitation)
    await mailInvitation(c, issued, workspace.name)
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'invitation.resend',
      targetType: 'invitation',
      targetId: invitation.id,
      data: { email: invitation.email },
    })
    return c.json(serializeInvitation(issued.invitation))
  })

  app.post('/invitations/accept', access('session'), jsonBody(InvitationAcceptBody), async (c) => {
    const { user } = currentUser(c)
    const token = invitationTokenFrom(c.req.valid('json').token)
    const { db } = c.get('services').database
    const invitation = await findInvitationByToken(db, token)
    if (!invitation) throw new ApiError('not_found', 'this invitation link is not valid; check that it was copied whole')
    const state = invitationState(invitation)
    if (state !== 'pending') throw unusableInvitation(state)
    if (invitation.email !== user.email) {
      throw new ApiError(
        'permission_denied',
        `this invitation was sent to another address than ${user.email}; log in as the invited address`,
      )
    }
    const { alreadyMember } = await acceptInvitation(db, invitation, user.id, async (trx) => {
      // The link reached this address, which proves the user reads its mail.
      if (user.email_verified_at === null) {
        await trx.updateTable('users').set({ email_verified_at: now() }).where('id', '=', user.id).execute()
      }
    })
    await recordAudit(c, {
      workspaceId: invitation.workspace_id,
      action: 'invitation.accept',
      targetType: 'invitation',
      targetId: invitation.id,
      data: { user_id: user.id, email: user.email, role: invitation.role, already_member: alreadyMember },
    })
    const workspace = await db.selectFrom('workspaces').selectAll().where('id', '=', invitation.workspace_id).executeTakeFirstOrThrow()
    const membership = await findMember(db, workspace.id, user.id)
    return c.json({ workspace: serializeWorkspace(workspace), role: membership.role, already_member: alreadyMember })
  })

  return app
}
