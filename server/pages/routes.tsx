import { Hono, type Context } from 'hono'

import { displayName } from '../../shared/schemas.js'
import { newId } from '../../shared/tokens.js'
import { findAccountToken, useAccountToken } from '../account-mail.js'
import { access } from '../auth.js'
import { recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { ApiError } from '../errors.js'
import { hashPassword, passwordProblem } from '../passwords.js'
import { redactPath } from '../redact.js'
import {
  acceptInvitation,
  findInvitationByToken,
  invitationLink,
  invitationState,
  type Invitation,
} from '../team.js'
import { now } from '../time.js'
import { ErrorLine, formFields, PasswordFields, renderPage, sameOriginForm } from './layout.js'

type PageContext = Context<AppEnv>
type FoundInvitation = Invitation & { workspace_name: string }

function invalidInvitationPage(c: PageContext, reason: string) {
  return renderPage(
    c,
    'Invitation not valid',
    <>
      <p>{reason}</p>
      <p>Ask an admin of the workspace to send a new invitation.</p>
    </>,
    410,
  )
}

/** Renders why an invitation link cannot be used: unknown, used, revoked or expired. */
function unusableInvitationPage(c: PageContext, invitation: FoundInvitation | undefined) {
  const state = invitation ? invitationState(invitation) : 'unknown'
  c.get('logger').info({ invitation_id: invitation?.id ?? null, state }, 'invitation link rejected')
  if (!invitation) {
    return invalidInvitationPage(c, 'This invitation link is not valid. Check that the whole link was opened.')
  }
  if (state === 'accepted') return invalidInvitationPage(c, 'This invitation was already used; each link works once.')
  if (state === 'revoked') return invalidInvitationPage(c, 'This invitation was revoked.')
  return invalidInvitationPage(c, 'This invitation expired.')
}

function existingAccountPage(c: PageContext, invitation: FoundInvitation, token: string) {
  const link = invitationLink(c.get('services').config.publicUrl, token)
  return renderPage(
    c,
    `Join ${invitation.workspace_name}`,
    <>
      <p>
        An account for <strong>{invitation.email}</strong> already exists. Log in and accept the invitation from
        your terminal:
      </p>
      <pre>{`flexpa login --email ${invitation.email}\nflexpa invitations accept ${link}`}</pre>
    </>,
    409,
  )
}

function invitationForm(
  c: PageContext,
  invitation: FoundInvitation,
  values: { name: string; error: string | null },
) {
  return renderPage(
    c,
    `Join ${invitation.workspace_name}`,
    <>
      <p>
        You were invited to the workspace <strong>{invitation.workspace_name}</strong> on Flexpa Portal as{' '}
        {invitation.role}. Create your account for <strong>{invitation.email}</strong> to join.
      </p>
      <ErrorLine message={values.error} />
      <form method="post">
        <label for="name">Display name</label>
        <input id="name" name="name" type="text" autocomplete="name" maxlength={100} required value={values.name} />
        <PasswordFields autocompleteEmail={invitation.email} />
        <button type="submit">Create account and join</button>
      </form>
    </>,
    values.error ? 422 : 200,
  )
}

/** Returns why the chosen password cannot be used, or null. */
function newPasswordProblem(password: string, confirmation: string, email: string): string | null {
  const problem = passwordProblem(password, email)
  if (problem) return `The password ${problem}.`
  if (password !== confirmation) return 'The two passwords differ.'
  return null
}

function isUniqueViolation(error: unknown): boolean {
  const text = String((error as { code?: string })?.code ?? '') + String((error as Error)?.message ?? '')
  return /23505|SQLITE_CONSTRAINT_UNIQUE|UNIQUE constraint/i.test(text)
}

async function joinWithNewAccount(c: PageContext, token: string) {
  const { db } = c.get('services').database
  const invitation = await findInvitationByToken(db, token)
  if (!invitation || invitationState(invitation) !== 'pending') return unusableInvitationPage(c, invitation)
  if (await db.selectFrom('users').select('id').where('email', '=', invitation.email).executeTakeFirst()) {
    return existingAccountPage(c, invitation, token)
  }

  const fields = await formFields(c, ['name', 'password', 'password_confirmation'] as const)
  const name = displayName.safeParse(fields.name)
  if (!name.success) return invitationForm(c, invitation, { name: fields.name, error: `The display name ${name.error.issues[0].message}.` })
  const problem = newPasswordProblem(fields.password, fields.password_confirmation, invitation.email)
  if (problem) return invitationForm(c, invitation, { name: name.data, error: problem })

  const passwordHash = await hashPassword(fields.password)
  const time = now()
  // The link reached the invited address, so that address counts as verified.
  const user = {
    id: newId('usr'),
    email: invitation.email,
    display_name: name.data,
    password_hash: passwordHash,
    email_verified_at: time,
    created_at: time,
    updated_at: time,
  }
  try {
    await acceptInvitation(db, invitation, user.id, async (trx) => {
      await trx.insertInto('users').values(user).execute()
    })
  } catch (error) {
    // Another request used the link, or created an account for the address, in the meantime.
    const raced = error instanceof ApiError || isUniqueViolation(error)
    if (!raced) throw error
    c.get('logger').info({ invitation_id: invitation.id, err: (error as Error).message }, 'invitation page lost a race')
    if (error instanceof ApiError) return invalidInvitationPage(c, 'This invitation was already used; each link works once.')
    return existingAccountPage(c, invitation, token)
  }
  await recordAudit(c, {
    workspaceId: invitation.workspace_id,
    action: 'invitation.accept',
    targetType: 'invitation',
    targetId: invitation.id,
    data: { user_id: user.id, email: user.email, role: invitation.role, account_created: true },
    // The page has no signed-in principal: the account it just created is the one acting.
    actor: { userId: user.id, email: user.email },
  })
  c.get('logger').info({ invitation_id: invitation.id, user_id: user.id }, 'invitation accepted with a new account')
  return renderPage(
    c,
    `Welcome to ${invitation.workspace_name}`,
    <>
      <p>
        Your account for <strong>{user.email}</strong> is ready and you joined <strong>{invitation.workspace_name}</strong>{' '}
        as {invitation.role}. Log in from your terminal:
      </p>
      <pre>{`flexpa login --email ${user.email}\nflexpa team list --workspace ${invitation.workspace_id}`}</pre>
    </>,
  )
}

function invalidLinkPage(c: PageContext, title: string, next: string) {
  c.get('logger').info({ path: redactPath(c.req.path) }, 'account link rejected: unknown, used, expired or replaced')
  return renderPage(
    c,
    title,
    <>
      <p>This link is not valid: it was already used, it expired, or a newer link replaced it.</p>
      <pre>{next}</pre>
    </>,
    410,
  )
}

function resetForm(c: PageContext, email: string, error: string | null) {
  return renderPage(
    c,
    'Set a new password',
    <>
      <p>
        Choose a new password for <strong>{email}</strong>. Every session of the account ends, on every device.
      </p>
      <ErrorLine message={error} />
      <form method="post">
        <PasswordFields autocompleteEmail={email} />
        <button type="submit">Set password</button>
      </form>
    </>,
    error ? 422 : 200,
  )
}

async function resetPassword(c: PageContext, token: string) {
  const { db } = c.get('services').database
  const match = await findAccountToken(db, token, 'password_reset')
  if (!match) return invalidLinkPage(c, 'Reset link not valid', 'flexpa password reset --email <your address>')
  const fields = await formFields(c, ['password', 'password_confirmation'] as const)
  const problem = newPasswordProblem(fields.password, fields.password_confirmation, match.user.email)
  if (problem) return resetForm(c, match.user.email, problem)

  const passwordHash = await hashPassword(fields.password)
  const time = now()
  const ended = await db.transaction().execute(async (trx) => {
    if (!(await useAccountToken(trx, match.token.id))) return null
    await trx
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: time })
      .where('id', '=', match.user.id)
      .execute()
    // The link reached the address, which verifies it.
    await trx
      .updateTable('users')
      .set({ email_verified_at: time })
      .where('id', '=', match.user.id)
      .where('email_verified_at', 'is', null)
      .execute()
    const sessions = await trx
      .updateTable('sessions')
      .set({ revoked_at: time })
      .where('user_id', '=', match.user.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return Number(sessions.numUpdatedRows)
  })
  if (ended === null) return invalidLinkPage(c, 'Reset link not valid', 'flexpa password reset --email <your address>')
  c.get('logger').info({ user_id: match.user.id, sessions_ended: ended }, 'password reset by mail link')
  return renderPage(
    c,
    'Password changed',
    <>
      <p>
        The password of <strong>{match.user.email}</strong> is changed and every session ended ({ended}). Log in again:
      </p>
      <pre>{`flexpa login --email ${match.user.email}`}</pre>
    </>,
  )
}

function verifyForm(c: PageContext, email: string) {
  return renderPage(
    c,
    'Verify your email address',
    <>
      <p>
        Confirm that <strong>{email}</strong> is your address.
      </p>
      <form method="post">
        <button type="submit">Confirm address</button>
      </form>
    </>,
  )
}

async function verifyEmail(c: PageContext, token: string) {
  const { db } = c.get('services').database
  const match = await findAccountToken(db, token, 'email_verification')
  if (!match) return invalidLinkPage(c, 'Verification link not valid', 'flexpa profile verify-email')
  const verified = await db.transaction().execute(async (trx) => {
    if (!(await useAccountToken(trx, match.token.id))) return false
    await trx
      .updateTable('users')
      .set({ email_verified_at: now() })
      .where('id', '=', match.user.id)
      .where('email_verified_at', 'is', null)
      .execute()
    return true
  })
  if (!verified) return invalidLinkPage(c, 'Verification link not valid', 'flexpa profile verify-email')
  c.get('logger').info({ user_id: match.user.id }, 'email address verified')
  return renderPage(c, 'Email address verified', <p>{match.user.email} is verified. You can close this page.</p>)
}

/**
 * Serves the pages that links in emails open: joining a workspace by invitation, setting a new password
 * and verifying an address. Forms post back to the same address, from the same origin only.
 */
export function pageRoutes() {
  const app = new Hono<AppEnv>()

  app.get('/invitations/:token', access('public'), async (c) => {
    const token = c.req.param('token')
    const invitation = await findInvitationByToken(c.get('services').database.db, token)
    if (!invitation || invitationState(invitation) !== 'pending') return unusableInvitationPage(c, invitation)
    const { db } = c.get('services').database
    if (await db.selectFrom('users').select('id').where('email', '=', invitation.email).executeTakeFirst()) {
      return existingAccountPage(c, invitation, token)
    }
    return invitationForm(c, invitation, { name: '', error: null })
  })

  app.post('/invitations/:token', access('public'), sameOriginForm(), (c) => joinWithNewAccount(c, c.req.param('token')))

  app.get('/password-reset/:token', access('public'), async (c) => {
    const match = await findAccountToken(c.get('services').database.db, c.req.param('token'), 'password_reset')
    if (!match) return invalidLinkPage(c, 'Reset link not valid', 'flexpa password reset --email <your address>')
    return resetForm(c, match.user.email, null)
  })

  app.post('/password-reset/:token', access('public'), sameOriginForm(), (c) => resetPassword(c, c.req.param('token')))

  app.get('/verify-email/:token', access('public'), async (c) => {
    const match = await findAccountToken(c.get('services').database.db, c.req.param('token'), 'email_verification')
    if (!match) return invalidLinkPage(c, 'Verification link not valid', 'flexpa profile verify-email')
    return verifyForm(c, match.user.email)
  })

  app.post('/verify-email/:token', access('public'), sameOriginForm(), (c) => verifyEmail(c, c.req.param('token')))

  return app
}
