import type { Kysely, Selectable } from 'kysely'

import { hashSecret, newId, newSecret } from '../shared/tokens.js'
import type { Database, UsersTable } from './db/schema.js'
import { queueMail } from './mail.js'
import type { AccountTokensTable } from './team.js'
import { addMs, now } from './time.js'

export type AccountTokenPurpose = AccountTokensTable['purpose']

const LIFETIME_MS: Record<AccountTokenPurpose, number> = {
  password_reset: 3_600_000,
  email_verification: 3 * 86_400_000,
}

const PATHS: Record<AccountTokenPurpose, string> = {
  password_reset: '/password-reset/',
  email_verification: '/verify-email/',
}

/**
 * Issues a single-use link for the user's own address and queues the mail carrying it. Older
 * unused links of the same purpose stop working, so only the newest mail counts.
 */
export async function sendAccountLink(
  db: Kysely<Database>,
  publicUrl: string,
  user: Selectable<UsersTable>,
  purpose: AccountTokenPurpose,
): Promise<void> {
  const token = newSecret(purpose === 'password_reset' ? 'reset' : 'verification')
  const time = now()
  const expiresAt = addMs(time, LIFETIME_MS[purpose])
  const link = `${publicUrl}${PATHS[purpose]}${token}`
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('account_tokens')
      .set({ used_at: time })
      .where('user_id', '=', user.id)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .execute()
    await trx
      .insertInto('account_tokens')
      .values({
        id: newId('link'),
        user_id: user.id,
        purpose,
        email: user.email,
        token_hash: hashSecret(token),
        created_at: time,
        expires_at: expiresAt,
        used_at: null,
      })
      .execute()
    await queueMail(trx, purpose === 'password_reset' ? resetMail(user, link) : verificationMail(user, link))
  })
}

function resetMail(user: Selectable<UsersTable>, link: string) {
  return {
    kind: 'password_reset',
    to: user.email,
    subject: 'Reset your Flexpa Portal password',
    text: [
      `Someone asked to reset the password of the Flexpa Portal account ${user.email}.`,
      '',
      `Set a new password: ${link}`,
      '',
      'The link works once and expires in one hour. Setting a new password ends every session of the account.',
      'If you did not ask for this, ignore this email; your password stays as it is.',
      '',
    ].join('\n'),
  }
}

function verificationMail(user: Selectable<UsersTable>, link: string) {
  return {
    kind: 'email_verification',
    to: user.email,
    subject: 'Verify your email address for Flexpa Portal',
    text: [
      `Confirm that ${user.email} is your address by opening this link:`,
      '',
      link,
      '',
      'The link works once and expires in 3 days. Until then the address works in your own workspaces only;',
      'operator rights and joining a workspace by SSO domain need a verified address.',
      '',
    ].join('\n'),
  }
}

export interface AccountTokenMatch {
  token: Selectable<AccountTokensTable>
  user: Selectable<UsersTable>
}

/** Finds a link that is unused, unexpired, of this purpose and for the user's current address. */
export async function findAccountToken(
  db: Kysely<Database>,
  token: string,
  purpose: AccountTokenPurpose,
): Promise<AccountTokenMatch | undefined> {
  const row = await db
    .selectFrom('account_tokens')
    .selectAll()
    .where('token_hash', '=', hashSecret(token))
    .where('purpose', '=', purpose)
    .executeTakeFirst()
  if (!row || row.used_at !== null || row.expires_at <= now()) return undefined
  const user = await db.selectFrom('users').selectAll().where('id', '=', row.user_id).executeTakeFirst()
  if (!user || user.email !== row.email) return undefined
  return { token: row, user }
}

/** Marks the link used; returns false when another request used it first. */
export async function useAccountToken(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db
    .updateTable('account_tokens')
    .set({ used_at: now() })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
