import { Hono } from 'hono'

import { PasswordResetRequestBody } from '../../shared/team.js'
import { sendAccountLink } from '../account-mail.js'
import { access, currentUser } from '../auth.js'
import { clientAddress } from '../audit.js'
import type { AppEnv } from '../context.js'
import { ApiError } from '../errors.js'
import { hit } from '../throttle.js'
import { jsonBody } from '../validate.js'

const HOUR_MS = 3_600_000
/** Reset mails per address and hour, requests per client address and hour, verification mails per user and hour. */
export const ACCOUNT_MAIL_LIMITS = { resetPerEmail: 5, resetPerClient: 50, verificationPerUser: 5 }

function throttled(retryAfter: number): ApiError {
  return new ApiError('rate_limited', `too many requests; try again in ${retryAfter} seconds`, { retry_after: retryAfter })
}

export function accountMailRoutes() {
  const app = new Hono<AppEnv>()

  // The response is the same whether or not an account uses the address, so that the route
  // reveals no account. The throttle keys do not depend on it either.
  app.post('/auth/password-reset', access('public'), jsonBody(PasswordResetRequestBody), async (c) => {
    const { email } = c.req.valid('json')
    const { database, config } = c.get('services')
    const byClient = await hit(database.db, `reset:client:${clientAddress(c) ?? 'unknown'}`, ACCOUNT_MAIL_LIMITS.resetPerClient, HOUR_MS)
    if (!byClient.allowed) throw throttled(byClient.retryAfter)
    const byEmail = await hit(database.db, `reset:email:${email}`, ACCOUNT_MAIL_LIMITS.resetPerEmail, HOUR_MS)
    if (!byEmail.allowed) throw throttled(byEmail.retryAfter)

    const user = await database.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()
    if (user) {
      await sendAccountLink(database.db, config.publicUrl, user, 'password_reset')
      c.get('services').notifyMail()
    }
    return c.json(
      { email, message: `if an account uses ${email}, a link to set a new password was sent there; it works once within one hour` },
      202,
    )
  })

  app.post('/profile/verify-email', access('session'), async (c) => {
    const { user } = currentUser(c)
    if (user.email_verified_at !== null) {
      return c.json({ email: user.email, email_verified: true, sent: false })
    }
    const { database, config } = c.get('services')
    const limit = await hit(database.db, `verify:user:${user.id}`, ACCOUNT_MAIL_LIMITS.verificationPerUser, HOUR_MS)
    if (!limit.allowed) throw throttled(limit.retryAfter)
    await sendAccountLink(database.db, config.publicUrl, user, 'email_verification')
    c.get('services').notifyMail()
    return c.json({ email: user.email, email_verified: false, sent: true }, 202)
  })

  return app
}
