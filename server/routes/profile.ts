import { Hono } from 'hono'

import { PasswordChangeBody, ProfileUpdateBody } from '../../shared/schemas.js'
import { access, currentUser } from '../auth.js'
import type { AppEnv } from '../context.js'
import { ApiError, invalid } from '../errors.js'
import { hashPassword, passwordProblem, verifyPassword } from '../passwords.js'
import { serializeUser } from '../serialize.js'
import { now } from '../time.js'
import { jsonBody } from '../validate.js'
import { clearLoginThrottle, throttleLogin } from './accounts.js'

export function profileRoutes() {
  const app = new Hono<AppEnv>()

  app.get('/profile', access('session'), (c) => c.json(serializeUser(currentUser(c).user)))

  app.patch('/profile', access('session'), jsonBody(ProfileUpdateBody), async (c) => {
    const { user } = currentUser(c)
    const input = c.req.valid('json')
    const { db } = c.get('services').database
    const updated = await db
      .updateTable('users')
      .set({ display_name: input.name, updated_at: now() })
      .where('id', '=', user.id)
      .returningAll()
      .executeTakeFirstOrThrow()
    return c.json(serializeUser(updated))
  })

  app.post('/profile/password', access('session'), jsonBody(PasswordChangeBody), async (c) => {
    const { user, session } = currentUser(c)
    const input = c.req.valid('json')
    if (user.password_hash === null) {
      throw new ApiError('precondition_failed', 'this account signs in through SSO and has no password')
    }
    await throttleLogin(c, user.email, user.id)
    if (!(await verifyPassword(input.current_password, user.password_hash))) {
      throw invalid('current_password', 'is incorrect')
    }
    await clearLoginThrottle(c, user.email)
    if (input.new_password === input.current_password) throw invalid('new_password', 'must differ from the current password')
    const problem = passwordProblem(input.new_password, user.email)
    if (problem) throw invalid('new_password', problem)
    const { db } = c.get('services').database
    const time = now()
    const passwordHash = await hashPassword(input.new_password)
    const ended = await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: time })
        .where('id', '=', user.id)
        .execute()
      const result = await trx
        .updateTable('sessions')
        .set({ revoked_at: time })
        .where('user_id', '=', user.id)
        .where('id', '!=', session.id)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', time)
        .executeTakeFirst()
      return Number(result.numUpdatedRows)
    })
    return c.json({ password_changed: true, sessions_ended: ended })
  })

  app.get('/profile/sessions', access('session'), async (c) => {
    const { user, session } = currentUser(c)
    const { db } = c.get('services').database
    const rows = await db
      .selectFrom('sessions')
      .select(['id', 'client', 'address', 'auth_method', 'created_at', 'last_used_at', 'expires_at'])
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now())
      .orderBy('created_at', 'desc')
      .execute()
    return c.json({ data: rows.map((row) => ({ ...row, current: row.id === session.id })) })
  })

  app.delete('/profile/sessions/:session', access('session'), async (c) => {
    const { user } = currentUser(c)
    const id = c.req.param('session')
    const { db } = c.get('services').database
    const result = await db
      .updateTable('sessions')
      .set({ revoked_at: now() })
      .where('id', '=', id)
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) throw new ApiError('not_found', `session "${id}" was not found`)
    return c.json({ id, revoked: true })
  })

  return app
}
