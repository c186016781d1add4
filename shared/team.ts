import { z } from 'zod'

import { ROLES } from './permissions.js'
import { email } from './schemas.js'

/** Request schemas of the team, invitation and account-mail routes. */

export const role = z.enum(ROLES, { message: 'must be admin or member' })

/**
 * Addresses are checked one by one on the server, so one bad row does not reject the batch. A row
 * without a role invites a member and leaves the role of an address already invited unchanged.
 */
export const InviteBody = z.strictObject({
  invitations: z
    .array(z.strictObject({ email: z.string().max(320, 'must be at most 320 characters'), role: role.optional() }))
    .min(1, 'must list at least one address')
    .max(500, 'at most 500 invitations per request'),
})

export const MemberRoleBody = z.strictObject({ role })

export const MemberPhiBody = z.strictObject({ withheld: z.boolean() })

export const InvitationAcceptBody = z.strictObject({ token: z.string().min(1).max(200) })

export const PasswordResetRequestBody = z.strictObject({ email })

/**
 * Outcomes of one row of an invitation batch; all but `invalid` and `rate_limited` count as
 * success. `role_updated` means the address already had a pending invitation with another role,
 * and the invitation now carries the requested one.
 */
export const INVITE_OUTCOMES = ['invited', 'role_updated', 'already_member', 'already_invited', 'invalid', 'rate_limited'] as const
export type InviteOutcome = (typeof INVITE_OUTCOMES)[number]
export const ROLE_UPDATED = 'role_updated'
export type InviteRowOutcome = InviteOutcome
export const INVITE_SUCCESS: readonly InviteRowOutcome[] = ['invited', ROLE_UPDATED, 'already_member', 'already_invited']

/** Days an invitation link stays valid. */
export const INVITATION_DAYS = 7
