import { createHash, randomBytes } from 'node:crypto'

import { SAML, ValidateInResponseTo } from '@node-saml/node-saml'
import type { Kysely, Selectable } from 'kysely'

import { hashSecret, newId, newSecret } from '../../shared/tokens.js'
import type { Config } from '../config.js'
import type { Database } from '../db/schema.js'
import { addMs, now } from '../time.js'
import type { IdpMetadata, ServiceProvider } from './metadata.js'
import type { VerifiedAssertion } from './response.js'
import type { SsoConfigsTable } from './tables.js'
import { escapeXml } from './xml.js'

export type SsoConfig = Selectable<SsoConfigsTable>

/** How long the identity provider has to respond to an AuthnRequest. */
export const REQUEST_LIFETIME_MS = 10 * 60_000
/** How long the CLI has to exchange its one-time code. */
export const CODE_LIFETIME_MS = 2 * 60_000

/** Returns our service-provider values for one workspace. Each workspace has its own entity id, so assertions cannot cross workspaces. */
export function serviceProvider(config: Config, workspaceId: string): ServiceProvider {
  const base = `${config.publicUrl}/v1/sso/${workspaceId}`
  return { entityId: `${base}/metadata`, acsUrl: `${base}/acs`, metadataUrl: `${base}/metadata` }
}

export async function findConfig(db: Kysely<Database>, workspaceId: string): Promise<SsoConfig | undefined> {
  return db.selectFrom('sso_configs').selectAll().where('workspace_id', '=', workspaceId).executeTakeFirst()
}

export async function listDomains(db: Kysely<Database>, workspaceId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sso_domains')
    .select('domain')
    .where('workspace_id', '=', workspaceId)
    .orderBy('domain')
    .execute()
  return rows.map((row) => row.domain)
}

/**
 * Writes a workspace's configuration in one transaction. Without new metadata only the
 * enforcement changes, and `domains`, when given, replaces the whole list.
 */
export async function saveConfiguration(
  db: Kysely<Database>,
  workspaceId: string,
  change: { metadata?: IdpMetadata; domains?: string[]; enforced: number },
): Promise<void> {
  const time = now()
  await db.transaction().execute(async (trx) => {
    if (change.metadata) {
      const values = {
        idp_entity_id: change.metadata.entityId,
        idp_sso_url: change.metadata.ssoUrl,
        idp_sso_binding: change.metadata.binding,
        idp_certificates: JSON.stringify(change.metadata.certificates),
        enforced: change.enforced,
        updated_at: time,
      }
      await trx
        .insertInto('sso_configs')
        .values({ workspace_id: workspaceId, ...values, created_at: time })
        .onConflict((oc) => oc.column('workspace_id').doUpdateSet(values))
        .execute()
    } else {
      await trx
        .updateTable('sso_configs')
        .set({ enforced: change.enforced, updated_at: time })
        .where('workspace_id', '=', workspaceId)
        .execute()
    }

    if (!change.domains) return
    await trx.deleteFrom('sso_domains').where('workspace_id', '=', workspaceId).execute()
    if (change.domains.length === 0) return
    await trx
      .insertInto('sso_domains')
      .values(change.domains.map((domain) => ({ domain, workspace_id: workspaceId, created_at: time })))
      .execute()
  })
}

/** Finds the workspace that `reference` names: a workspace id, an email domain, or an email address. */
export async function findSsoWorkspace(db: Kysely<Database>, reference: string): Promise<string | undefined> {
  const value = reference.trim().toLowerCase()
  if (value.startsWith('ws_')) {
    const row = await db.selectFrom('sso_configs').select('workspace_id').where('workspace_id', '=', reference.trim()).executeTakeFirst()
    return row?.workspace_id
  }
  const domain = value.includes('@') ? value.slice(value.lastIndexOf('@') + 1) : value
  const row = await db
    .selectFrom('sso_domains')
    .innerJoin('sso_configs', 'sso_configs.workspace_id', 'sso_domains.workspace_id')
    .select('sso_domains.workspace_id')
    .where('sso_domains.domain', '=', domain)
    .executeTakeFirst()
  return row?.workspace_id
}

export function codeChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

export interface LoginStart {
  /** URL at the identity provider that the browser is redirected to (HTTP-Redirect binding). */
  redirect?: string
  /** Page that posts the request to the identity provider (HTTP-POST binding). */
  form?: string
}

/** Stores an AuthnRequest for `InResponseTo` and builds the message that carries it to the identity provider. */
export async function startLogin(
  db: Kysely<Database>,
  config: Config,
  sso: SsoConfig,
  client: { redirectUri: string; codeChallenge: string; state: string },
): Promise<LoginStart> {
  const time = now()
  await db.deleteFrom('sso_requests').where('expires_at', '<', time).execute()
  await db.deleteFrom('sso_codes').where('expires_at', '<', time).execute()
  await db.deleteFrom('sso_assertions').where('expires_at', '<', time).execute()

  // A SAML ID must not start with a digit (it is an xs:ID), so it gets a letter prefix.
  const requestId = `_${randomBytes(20).toString('hex')}`
  await db
    .insertInto('sso_requests')
    .values({
      id: requestId,
      workspace_id: sso.workspace_id,
      redirect_uri: client.redirectUri,
      code_challenge: client.codeChallenge,
      state: client.state,
      created_at: time,
      expires_at: addMs(time, REQUEST_LIFETIME_MS),
      consumed_at: null,
    })
    .execute()

  const sp = serviceProvider(config, sso.workspace_id)
  const saml = new SAML({
    entryPoint: sso.idp_sso_url,
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    idpCert: JSON.parse(sso.idp_certificates) as string[],
    generateUniqueId: () => requestId,
    // The request row above is the record of the request, so node-saml keeps none of its own.
    validateInResponseTo: ValidateInResponseTo.never,
    identifierFormat: null,
    // Entra ID fails with AADSTS75011 when the requested context (password) differs from the method used.
    disableRequestedAuthnContext: true,
    skipRequestCompression: sso.idp_sso_binding === 'post',
  })
  if (sso.idp_sso_binding === 'redirect') {
    return { redirect: await saml.getAuthorizeUrlAsync('', undefined, {}) }
  }
  const message = await saml.getAuthorizeMessageAsync('')
  return { form: autoPostForm(sso.idp_sso_url, message as Record<string, string>) }
}

/** Builds a page that posts a SAML message onward, as the HTTP-POST binding requires. */
export function autoPostForm(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeXml(name)}" value="${escapeXml(String(value))}">`)
    .join('')
  return `<!doctype html><html><head><meta charset="utf-8"><title>Signing in</title></head><body onload="document.forms[0].submit()"><form method="post" action="${escapeXml(action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form></body></html>`
}

/** Records an accepted assertion. Returns false when it was seen before. */
export async function rememberAssertion(db: Kysely<Database>, workspaceId: string, assertion: VerifiedAssertion): Promise<boolean> {
  const idHash = hashSecret(`${assertion.issuer}\n${assertion.assertionId}`)
  const inserted = await db
    .insertInto('sso_assertions')
    .values({ id_hash: idHash, workspace_id: workspaceId, created_at: now(), expires_at: assertion.expiresAt })
    .onConflict((oc) => oc.column('id_hash').doNothing())
    .executeTakeFirst()
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1
}

/** Marks a request consumed. Returns false when another response consumed it first. */
export async function consumeRequest(db: Kysely<Database>, requestId: string): Promise<boolean> {
  const result = await db
    .updateTable('sso_requests')
    .set({ consumed_at: now() })
    .where('id', '=', requestId)
    .where('consumed_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export interface SsoUser {
  userId: string
  joined: boolean
}

export class JoinRefused extends Error {}

/**
 * Finds or creates the person the identity provider asserted, and makes them a member. An
 * existing member may log in with any address, but someone who is not yet a member joins only from a
 * listed domain. The asserted address is not marked verified on the account: it counts for this
 * workspace's domains only.
 */
export async function admitUser(db: Kysely<Database>, workspaceId: string, assertion: VerifiedAssertion): Promise<SsoUser> {
  const time = now()
  const existing = await db.selectFrom('users').select('id').where('email', '=', assertion.email).executeTakeFirst()
  const membership = existing
    ? await db
        .selectFrom('memberships')
        .select('role')
        .where('workspace_id', '=', workspaceId)
        .where('user_id', '=', existing.id)
        .executeTakeFirst()
    : undefined
  let user = { id: existing?.id ?? '', created: false }
  let joined = false

  if (!membership) {
    await requireListedDomain(db, workspaceId, assertion.email)
    if (!existing) user = await createPasswordlessUser(db, assertion, time)
    const inserted = await db
      .insertInto('memberships')
      .values({ workspace_id: workspaceId, user_id: user.id, role: 'member', created_at: time })
      .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doNothing())
      .executeTakeFirst()
    joined = Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1
  }

  await db
    .insertInto('sso_identities')
    .values({
      workspace_id: workspaceId,
      user_id: user.id,
      email: assertion.email,
      created_account: user.created ? 1 : 0,
      created_at: time,
      last_login_at: time,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doUpdateSet({ last_login_at: time, email: assertion.email }))
    .execute()
  return { userId: user.id, joined }
}

async function requireListedDomain(db: Kysely<Database>, workspaceId: string, email: string): Promise<void> {
  const domain = email.slice(email.lastIndexOf('@') + 1)
  const listed = await db
    .selectFrom('sso_domains')
    .select('domain')
    .where('workspace_id', '=', workspaceId)
    .where('domain', '=', domain)
    .executeTakeFirst()
  if (!listed) {
    throw new JoinRefused(`${email} is not a member of this workspace and ${domain} is not one of its SSO domains`)
  }
}

/** Creates an account without a password; when a concurrent login created it first, returns that one. */
async function createPasswordlessUser(
  db: Kysely<Database>,
  assertion: VerifiedAssertion,
  time: string,
): Promise<{ id: string; created: boolean }> {
  const created = {
    id: newId('usr'),
    email: assertion.email,
    display_name: assertion.name ?? assertion.email.slice(0, assertion.email.indexOf('@')),
    password_hash: null,
    email_verified_at: null,
    created_at: time,
    updated_at: time,
  }
  await db.insertInto('users').values(created).onConflict((oc) => oc.column('email').doNothing()).execute()
  const user = await db.selectFrom('users').select('id').where('email', '=', assertion.email).executeTakeFirstOrThrow()
  return { id: user.id, created: user.id === created.id }
}

/** Issues the one-time code that the CLI exchanges, with its PKCE verifier, for a session. */
export async function issueCode(
  db: Kysely<Database>,
  request: { workspace_id: string; redirect_uri: string; code_challenge: string },
  admitted: SsoUser,
): Promise<string> {
  const code = newSecret('sso_code')
  const time = now()
  await db
    .insertInto('sso_codes')
    .values({
      code_hash: hashSecret(code),
      workspace_id: request.workspace_id,
      user_id: admitted.userId,
      redirect_uri: request.redirect_uri,
      code_challenge: request.code_challenge,
      joined: admitted.joined ? 1 : 0,
      created_at: time,
      expires_at: addMs(time, CODE_LIFETIME_MS),
      used_at: null,
    })
    .execute()
  return code
}

/** Returns the workspace that an SSO session is limited to, or null when it may reach all the user's workspaces. */
export async function sessionScope(
  db: Kysely<Database>,
  session: { auth_method: string; sso_workspace_id: string | null; user_id: string },
): Promise<string | null> {
  if (session.auth_method !== 'sso' || !session.sso_workspace_id) return null
  // An account created by this identity provider has no other way in, so the provider speaks for
  // all of it. Any other account reached through SSO is limited to that workspace, because an
  // identity provider only vouches for people inside its own workspace.
  const identity = await db
    .selectFrom('sso_identities')
    .select('created_account')
    .where('workspace_id', '=', session.sso_workspace_id)
    .where('user_id', '=', session.user_id)
    .executeTakeFirst()
  return identity?.created_account === 1 ? null : session.sso_workspace_id
}
