import { Hono, type Context } from 'hono'

import { LoginBody, SignupBody } from '../../shared/schemas.js'
import { newId } from '../../shared/tokens.js'
import { sendAccountLink } from '../account-mail.js'
import { access, currentPrincipal } from '../auth.js'
import { clientAddress, recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import { ApiError, invalid } from '../errors.js'
import { hashPassword, passwordProblem, verifyPassword } from '../passwords.js'
import { serializeUser, serializeWorkspace } from '../serialize.js'
import { startSession } from '../sessions.js'
import { sessionScope } from '../sso/service.js'
import { hit, reset } from '../throttle.js'
import { now } from '../time.js'
import { jsonBody } from '../validate.js'

const LOGIN_WINDOW_MS = 15 * 60_000
/** Failed logins allowed per account and address pair, per address, and per account from new addresses. */
const LOGIN_LIMITS = { pair: 10, address: 100, account: 30 }

function throttled(retryAfter: number): ApiError {
  return new ApiError('rate_limited', `too many login attempts; try again in ${retryAfter} seconds`, {
    retry_after: retryAfter,
  })
}

/**
 * Throttles logins per account and address pair and per address. The per-account limit only
 * applies to addresses the user never signed in from, so an attacker elsewhere cannot lock the
 * owner out.
 */
export async function throttleLogin(c: Context<AppEnv>, email: string, userId: string | null): Promise<void> {
  const { db } = c.get('services').database
  const address = clientAddress(c) ?? 'unknown'
  const pair = await hit(db, `login:pair:${email}:${address}`, LOGIN_LIMITS.pair, LOGIN_WINDOW_MS)
  if (!pair.allowed) throw throttled(pair.retryAfter)
  const byAddress = await hit(db, `login:address:${address}`, LOGIN_LIMITS.address, LOGIN_WINDOW_MS)
  if (!byAddress.allowed) throw throttled(byAddress.retryAfter)
  if (userId !== null) {
    const known = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('address', '=', address)
      .limit(1)
      .executeTakeFirst()
    if (known) return
  }
  // Unknown emails count too, so that hitting this limit does not reveal which accounts exist.
  const byAccount = await hit(db, `login:account:${email}`, LOGIN_LIMITS.account, LOGIN_WINDOW_MS)
  if (!byAccount.allowed) throw throttled(byAccount.retryAfter)
}

export async function clearLoginThrottle(c: Context<AppEnv>, email: string): Promise<void> {
  const address = clientAddress(c) ?? 'unknown'
  await reset(c.get('services').database.db, `login:pair:${email}:${address}`)
}

const SIGNUP_WINDOW_MS = 60 * 60_000
/** Sign-up attempts allowed per email address and per client IP address in one window. */
const SIGNUP_LIMITS = { email: 5, address: 50 }

/**
 * Throttles sign-ups per email address and per client IP address, counted in the database like
 * logins. Sign-up returns 409 for an address that has an account, which tells a caller the account
 * exists. That answer stays, because it tells a person who already signed up to log in instead,
 * and the throttle bounds how fast anyone can probe addresses with it. It also bounds the scrypt
 * hashes an attacker can make the server compute.
 */
async function throttleSignup(c: Context<AppEnv>, email: string): Promise<void> {
  const { db } = c.get('services').database
  const byEmail = await hit(db, `signup:email:${email}`, SIGNUP_LIMITS.email, SIGNUP_WINDOW_MS)
  if (!byEmail.allowed) throw signupThrottled(byEmail.retryAfter)
  const address = clientAddress(c)
  // NOTE: a request with no socket address (an in-process call) is throttled per email only.
  if (address === null) return
  const byAddress = await hit(db, `signup:address:${address}`, SIGNUP_LIMITS.address, SIGNUP_WINDOW_MS)
  if (!byAddress.allowed) throw signupThrottled(byAddress.retryAfter)
}

function signupThrottled(retryAfter: number): ApiError {
  return new ApiError('rate_limited', `too many sign-up attempts; try again in ${retryAfter} seconds`, {
    retry_after: retryAfter,
  })
}

/** Names the first workspace after its owner, never with the ws_ prefix that marks ids. */
function defaultWorkspaceName(displayName: string): string {
  const name = `${displayName}'s workspace`
  return name.startsWith('ws_') ? `Workspace of ${displayName}` : name
}

export function accountRoutes() {
  const app = new Hono<AppEnv>()

  app.post('/auth/signup', access('public'), jsonBody(SignupBody), async (c) => {
    const input = c.req.valid('json')
    await throttleSignup(c, input.email)
    const problem = passwordProblem(input.password, input.email)
    if (problem) throw invalid('password', problem)
    const { db } = c.get('services').database

    const taken = await db.selectFrom('users').select('id').where('email', '=', input.email).executeTakeFirst()
    if (taken) {
      throw new ApiError('already_exists', `an account for ${input.email} already exists; run flexpa login`, {
        field: 'email',
      })
    }
    const passwordHash = await hashPassword(input.password)
    const time = now()
    const user = {
      id: newId('usr'),
      email: input.email,
      display_name: input.name,
      password_hash: passwordHash,
      email_verified_at: null,
      created_at: time,
      updated_at: time,
    }
    const workspace = {
      id: newId('ws'),
      name: input.workspace_name ?? defaultWorkspaceName(input.name),
      created_at: time,
      updated_at: time,
    }
    try {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(user).execute()
        await trx.insertInto('workspaces').values(workspace).execute()
        await trx
          .insertInto('memberships')
          .values({ workspace_id: workspace.id, user_id: user.id, role: 'admin', created_at: time })
          .execute()
      })
    } catch (error) {
      // Two sign-ups for one address at the same moment: the unique index decides.
      const again = await db.selectFrom('users').select('id').where('email', '=', input.email).executeTakeFirst()
      if (again) throw new ApiError('already_exists', `an account for ${input.email} already exists`, { field: 'email' })
      throw error
    }
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'workspace.create',
      targetType: 'workspace',
      targetId: workspace.id,
      actor: { userId: user.id, email: user.email },
    })
    const session = await startSession(c, user.id)
    const { config } = c.get('services')
    await sendAccountLink(db, config.publicUrl, user, 'email_verification')
    c.get('services').notifyMail()
    return c.json({ user: serializeUser(user), workspace: serializeWorkspace(workspace), session }, 201)
  })

  app.post('/auth/login', access('public'), jsonBody(LoginBody), async (c) => {
    const input = c.req.valid('json')
    const { db } = c.get('services').database
    const user = await db.selectFrom('users').selectAll().where('email', '=', input.email).executeTakeFirst()
    await throttleLogin(c, input.email, user?.id ?? null)
    const valid = await verifyPassword(input.password, user?.password_hash ?? null)
    if (!user || !valid) throw new ApiError('invalid_credentials', 'the email or password is incorrect')
    await clearLoginThrottle(c, input.email)
    const session = await startSession(c, user.id)
    return c.json({ user: serializeUser(user), session })
  })

  app.post('/auth/logout', access('session'), async (c) => {
    const principal = currentPrincipal(c)
    if (principal.type === 'user') {
      const { db } = c.get('services').database
      await db.updateTable('sessions').set({ revoked_at: now() }).where('id', '=', principal.session.id).execute()
    }
    return c.body(null, 204)
  })

  app.get('/me', access('session'), async (c) => {
    const principal = currentPrincipal(c)
    const { db } = c.get('services').database
    const workspaces = await db
      .selectFrom('memberships')
      .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
      .select(['workspaces.id', 'workspaces.name', 'memberships.role'])
      .where('memberships.user_id', '=', principal.user.id)
      .orderBy('workspaces.created_at')
      .execute()
    const scope =
      principal.type === 'token' ? principal.token.workspace_id : await sessionScope(db, principal.session)
    const visible = scope === null ? workspaces : workspaces.filter((ws) => ws.id === scope)
    return c.json({
      user: serializeUser(principal.user),
      principal:
        principal.type === 'token'
          ? { type: 'token', id: principal.token.id, name: principal.token.name }
          : { type: 'session', id: principal.session.id, auth_method: principal.session.auth_method },
      workspaces: visible,
    })
  })

  return app
}
