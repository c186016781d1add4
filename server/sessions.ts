import type { Context } from 'hono'

import { hashSecret, newId, newSecret } from '../shared/tokens.js'
import { clientAddress } from './audit.js'
import type { AppEnv } from './context.js'
import { addMs, now } from './time.js'

export const SESSION_LIFETIME_MS = 30 * 86_400_000

export interface IssuedSession {
  id: string
  token: string
  expires_at: string
}

/** Starts a 30-day session for a user; only the token's hash is stored. */
export async function startSession(
  c: Context<AppEnv>,
  userId: string,
  options: { authMethod?: string; ssoWorkspaceId?: string | null } = {},
): Promise<IssuedSession> {
  const { db } = c.get('services').database
  const token = newSecret('session')
  const time = now()
  const session = {
    id: newId('ses'),
    user_id: userId,
    token_hash: hashSecret(token),
    client: (c.req.header('user-agent') ?? '').slice(0, 200) || null,
    address: clientAddress(c),
    auth_method: options.authMethod ?? 'password',
    sso_workspace_id: options.ssoWorkspaceId ?? null,
    created_at: time,
    last_used_at: time,
    expires_at: addMs(time, SESSION_LIFETIME_MS),
    revoked_at: null,
  }
  await db.insertInto('sessions').values(session).execute()
  return { id: session.id, token, expires_at: session.expires_at }
}
