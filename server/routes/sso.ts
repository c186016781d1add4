import { Hono, type Context } from 'hono'
import type { Kysely } from 'kysely'

import { SsoConfigureBody, SsoDiscoverQuery, SsoStartQuery, SsoTokenBody } from '../../shared/schemas.js'
import { hashSecret } from '../../shared/tokens.js'
import { access, workspaceAccess } from '../auth.js'
import { clientAddress, recordAudit } from '../audit.js'
import type { AppEnv } from '../context.js'
import type { Database } from '../db/schema.js'
import { ApiError, invalid, notFound } from '../errors.js'
import { serializeUser } from '../serialize.js'
import { startSession } from '../sessions.js'
import { hit } from '../throttle.js'
import { now } from '../time.js'
import { jsonBody, queryParams } from '../validate.js'
import {
  MetadataProblems,
  parseIdpMetadata,
  serviceProviderMetadata,
  summarizeCertificate,
  type IdpMetadata,
} from '../sso/metadata.js'
import { readResponse, SamlRejected, validateResponse } from '../sso/response.js'
import {
  admitUser,
  codeChallengeOf,
  consumeRequest,
  findConfig,
  findSsoWorkspace,
  issueCode,
  JoinRefused,
  listDomains,
  rememberAssertion,
  saveConfiguration,
  serviceProvider,
  startLogin,
  type SsoConfig,
} from '../sso/service.js'

const THROTTLE_WINDOW_MS = 15 * 60_000
/** Logins started and responses posted per client address in the window. */
const THROTTLE_LIMIT = 60

async function throttle(c: Context<AppEnv>, what: string): Promise<void> {
  const { db } = c.get('services').database
  const result = await hit(db, `sso:${what}:${clientAddress(c) ?? 'unknown'}`, THROTTLE_LIMIT, THROTTLE_WINDOW_MS)
  if (!result.allowed) {
    throw new ApiError('rate_limited', `too many single sign-on attempts; try again in ${result.retryAfter} seconds`, {
      retry_after: result.retryAfter,
    })
  }
}

export function ssoRoutes() {
  const app = new Hono<AppEnv>()

  app.get('/workspaces/:workspace/sso', access('sso:manage'), async (c) => {
    return c.json(await ssoSettings(c))
  })

  app.put('/workspaces/:workspace/sso', access('sso:manage'), jsonBody(SsoConfigureBody), async (c) => {
    const { workspace } = workspaceAccess(c)
    const input = c.req.valid('json')
    const { db } = c.get('services').database
    const existing = await findConfig(db, workspace.id)
    const metadata = input.metadata_xml === undefined ? undefined : parseMetadataOrFail(input.metadata_xml)
    if (!existing && !metadata) {
      throw invalid('metadata_xml', 'single sign-on is not configured yet, so the identity provider metadata is required')
    }
    const currentDomains = await listDomains(db, workspace.id)
    const domains = input.domains === undefined ? undefined : [...new Set(input.domains)].sort()
    if (domains) await checkDomains(db, workspace.id, domains)

    let enforced = existing?.enforced ?? 0
    if (input.enforce !== undefined) enforced = input.enforce ? 1 : 0
    await saveConfiguration(db, workspace.id, { metadata, domains, enforced }).catch(async (error) => {
      // Another workspace claimed one of the domains since the check: report it as the check would.
      if (domains) await checkDomains(db, workspace.id, domains)
      throw error
    })

    const changes = configurationChanges(existing, metadata, currentDomains, domains, enforced)
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: existing ? 'sso.update' : 'sso.configure',
      targetType: 'workspace',
      targetId: workspace.id,
      data: changes,
    })
    return c.json(await ssoSettings(c), existing ? 200 : 201)
  })

  app.delete('/workspaces/:workspace/sso', access('sso:manage'), async (c) => {
    const { workspace } = workspaceAccess(c)
    const { db } = c.get('services').database
    const existing = await findConfig(db, workspace.id)
    if (!existing) throw new ApiError('not_configured', `single sign-on is not configured for workspace ${workspace.id}`)
    const domains = await listDomains(db, workspace.id)
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('sso_domains').where('workspace_id', '=', workspace.id).execute()
      await trx.deleteFrom('sso_configs').where('workspace_id', '=', workspace.id).execute()
    })
    await recordAudit(c, {
      workspaceId: workspace.id,
      action: 'sso.disable',
      targetType: 'workspace',
      targetId: workspace.id,
      data: { idp_entity_id: existing.idp_entity_id, domains, enforced: existing.enforced === 1 },
    })
    return c.body(null, 204)
  })

  app.get('/sso/:workspace/metadata', access('public'), async (c) => {
    const workspaceId = c.req.param('workspace')
    const { db } = c.get('services').database
    const workspace = await db.selectFrom('workspaces').select('id').where('id', '=', workspaceId).executeTakeFirst()
    if (!workspace) throw notFound('workspace', workspaceId)
    const xml = serviceProviderMetadata(serviceProvider(c.get('services').config, workspace.id))
    return c.body(xml, 200, { 'content-type': 'application/samlmetadata+xml; charset=utf-8' })
  })

  app.get('/sso/discover', access('public'), queryParams(SsoDiscoverQuery), async (c) => {
    const { workspace } = c.req.valid('query')
    const workspaceId = await findSsoWorkspace(c.get('services').database.db, workspace)
    if (!workspaceId) throw noSsoWorkspace(workspace)
    return c.json({ workspace_id: workspaceId })
  })

  app.get('/sso/start', access('public'), queryParams(SsoStartQuery), async (c) => {
    await throttle(c, 'start')
    const input = c.req.valid('query')
    const { db } = c.get('services').database
    const workspaceId = await findSsoWorkspace(db, input.workspace)
    const sso = workspaceId ? await findConfig(db, workspaceId) : undefined
    if (!sso) throw noSsoWorkspace(input.workspace)
    const started = await startLogin(db, c.get('services').config, sso, {
      redirectUri: input.redirect_uri,
      codeChallenge: input.code_challenge,
      state: input.state,
    })
    c.header('cache-control', 'no-store')
    if (started.redirect) return c.redirect(started.redirect, 302)
    return c.html(started.form!)
  })

  app.post('/sso/:workspace/acs', access('public'), async (c) => {
    await throttle(c, 'acs')
    const workspaceId = c.req.param('workspace')
    const { db } = c.get('services').database
    const sso = await findConfig(db, workspaceId)
    if (!sso) throw noSsoWorkspace(workspaceId)
    c.header('cache-control', 'no-store')
    const form = await c.req.parseBody()
    const encoded = typeof form.SAMLResponse === 'string' ? form.SAMLResponse : ''

    // Found before validation only to send a failure back to the waiting CLI, and used for nothing else.
    const pending = await pendingRequest(db, workspaceId, encoded)
    try {
      return c.redirect(await acceptResponse(c, sso, encoded), 303)
    } catch (error) {
      if (!(error instanceof SamlRejected)) throw error
      c.get('logger').warn({ workspace_id: workspaceId, reason: error.message }, 'SAML response rejected')
      await recordAudit(c, { workspaceId, action: 'sso.login_failed', data: { reason: error.message } })
      if (!pending) throw new ApiError('sso_failed', `single sign-on failed: ${error.message}`)
      const target = new URL(pending.redirect_uri)
      target.searchParams.set('error', 'access_denied')
      target.searchParams.set('error_description', error.message)
      target.searchParams.set('state', pending.state)
      return c.redirect(target.toString(), 303)
    }
  })

  app.post('/sso/token', access('public'), jsonBody(SsoTokenBody), async (c) => {
    const input = c.req.valid('json')
    const { db } = c.get('services').database
    const rejected = new ApiError('invalid_grant', 'the single sign-on code is invalid, expired or already used; run flexpa login --sso again')
    const code = await db.selectFrom('sso_codes').selectAll().where('code_hash', '=', hashSecret(input.code)).executeTakeFirst()
    if (!code || code.used_at !== null || code.expires_at <= now()) throw rejected
    if (code.redirect_uri !== input.redirect_uri || codeChallengeOf(input.code_verifier) !== code.code_challenge) throw rejected
    const used = await db
      .updateTable('sso_codes')
      .set({ used_at: now() })
      .where('code_hash', '=', code.code_hash)
      .where('used_at', 'is', null)
      .executeTakeFirst()
    if (Number(used.numUpdatedRows) !== 1) throw rejected

    const issued = await startSession(c, code.user_id, { authMethod: 'sso', ssoWorkspaceId: code.workspace_id })
    const user = await db.selectFrom('users').selectAll().where('id', '=', code.user_id).executeTakeFirstOrThrow()
    const session = await db.selectFrom('sessions').selectAll().where('id', '=', issued.id).executeTakeFirstOrThrow()
    c.set('principal', { type: 'user', user, session })
    c.get('logger').info({ workspace_id: code.workspace_id, user_id: user.id, session_id: issued.id }, 'SSO login')
    await recordAudit(c, {
      workspaceId: code.workspace_id,
      action: 'sso.login',
      targetType: 'session',
      targetId: issued.id,
      data: { email: user.email, joined: code.joined === 1 },
    })
    const workspace = await db.selectFrom('workspaces').select(['id', 'name']).where('id', '=', code.workspace_id).executeTakeFirstOrThrow()
    return c.json({ user: serializeUser(user), session: issued, workspace })
  })

  return app
}

function noSsoWorkspace(reference: string): ApiError {
  return new ApiError(
    'not_found',
    `no workspace with single sign-on was found for "${reference}"; use the workspace id or an email domain its admins listed`,
  )
}

/**
 * Validates a posted SAML response, admits the person it names and returns the CLI's loopback URL
 * with a one-time code. Throws SamlRejected with the reason when the response must not log anyone in.
 */
async function acceptResponse(c: Context<AppEnv>, sso: SsoConfig, encoded: string): Promise<string> {
  const { db } = c.get('services').database
  const workspaceId = sso.workspace_id
  const assertion = await validateResponse(encoded, {
    sp: serviceProvider(c.get('services').config, workspaceId),
    idp: { entityId: sso.idp_entity_id, certificates: JSON.parse(sso.idp_certificates) as string[] },
    findRequest: (id) =>
      db
        .selectFrom('sso_requests')
        .select(['id', 'created_at', 'expires_at', 'consumed_at'])
        .where('id', '=', id)
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirst(),
  })
  if (!(await rememberAssertion(db, workspaceId, assertion))) {
    throw new SamlRejected(`assertion ${assertion.assertionId} was already used; an assertion is accepted only once`)
  }
  if (!(await consumeRequest(db, assertion.requestId))) {
    throw new SamlRejected(`request ${assertion.requestId} was already answered; a response is accepted only once`)
  }
  const request = await db.selectFrom('sso_requests').selectAll().where('id', '=', assertion.requestId).executeTakeFirstOrThrow()

  const admitted = await admitUser(db, workspaceId, assertion).catch((error) => {
    throw error instanceof JoinRefused ? new SamlRejected(error.message) : error
  })
  if (admitted.joined) {
    await recordAudit(c, {
      workspaceId,
      action: 'sso.member_join',
      targetType: 'user',
      targetId: admitted.userId,
      data: { email: assertion.email, role: 'member' },
    })
  }

  const code = await issueCode(db, request, admitted)
  const target = new URL(request.redirect_uri)
  target.searchParams.set('code', code)
  target.searchParams.set('state', request.state)
  return target.toString()
}

/** Returns the open request a response names, without trusting anything else in it. */
async function pendingRequest(db: Kysely<Database>, workspaceId: string, encoded: string) {
  let inResponseTo: string | null
  try {
    inResponseTo = readResponse(encoded).inResponseTo
  } catch (error) {
    if (error instanceof SamlRejected) return undefined
    throw error
  }
  return inResponseTo ? openRequest(db, workspaceId, inResponseTo) : undefined
}

async function openRequest(db: Kysely<Database>, workspaceId: string, id: string) {
  return db
    .selectFrom('sso_requests')
    .select(['redirect_uri', 'state'])
    .where('id', '=', id)
    .where('workspace_id', '=', workspaceId)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now())
    .executeTakeFirst()
}

function parseMetadataOrFail(xml: string): IdpMetadata {
  try {
    return parseIdpMetadata(xml)
  } catch (error) {
    if (!(error instanceof MetadataProblems)) throw error
    throw new ApiError('validation_failed', `the identity provider metadata is not usable: ${error.problems.join('; ')}`, {
      field: 'metadata_xml',
      problems: error.problems,
    })
  }
}

/**
 * Accepts each domain only when an admin of the workspace has a verified address there, and when
 * no other workspace lists it, so `flexpa login --sso <domain>` names one workspace.
 */
async function checkDomains(db: Kysely<Database>, workspaceId: string, domains: string[]): Promise<void> {
  const admins = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select('users.email')
    .where('memberships.workspace_id', '=', workspaceId)
    .where('memberships.role', '=', 'admin')
    .where('users.email_verified_at', 'is not', null)
    .execute()
  const verified = new Set(admins.map((admin) => admin.email.slice(admin.email.lastIndexOf('@') + 1)))
  for (const domain of domains) {
    if (!verified.has(domain)) {
      throw invalid(
        'domains',
        `${domain} is not the domain of a verified email address of an admin of this workspace; an admin with an address at ${domain} must verify it first`,
      )
    }
  }
  if (domains.length === 0) return
  const taken = await db
    .selectFrom('sso_domains')
    .select(['domain', 'workspace_id'])
    .where('domain', 'in', domains)
    .where('workspace_id', '!=', workspaceId)
    .executeTakeFirst()
  if (taken) {
    throw new ApiError('conflict', `${taken.domain} is already listed for single sign-on by another workspace`, { field: 'domains' })
  }
}

function configurationChanges(
  existing: Awaited<ReturnType<typeof findConfig>>,
  metadata: IdpMetadata | undefined,
  currentDomains: string[],
  domains: string[] | undefined,
  enforced: number,
): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {}
  if (metadata) {
    const before = existing ? (JSON.parse(existing.idp_certificates) as string[]).map(fingerprint) : []
    const after = metadata.certificates.map(fingerprint)
    if (existing?.idp_entity_id !== metadata.entityId) changes.idp_entity_id = { from: existing?.idp_entity_id ?? null, to: metadata.entityId }
    if (existing?.idp_sso_url !== metadata.ssoUrl) changes.idp_sso_url = { from: existing?.idp_sso_url ?? null, to: metadata.ssoUrl }
    if (before.join() !== after.join()) changes.certificates = { from: before, to: after }
  }
  if (domains && domains.join() !== currentDomains.join()) changes.domains = { from: currentDomains, to: domains }
  if ((existing?.enforced ?? 0) !== enforced || !existing) changes.enforced = { from: existing ? existing.enforced === 1 : null, to: enforced === 1 }
  return changes
}

function fingerprint(pem: string): string {
  return summarizeCertificate(pem).fingerprint_sha256
}

async function ssoSettings(c: Context<AppEnv>) {
  const { workspace } = workspaceAccess(c)
  const { db } = c.get('services').database
  const sp = serviceProvider(c.get('services').config, workspace.id)
  const config = await findConfig(db, workspace.id)
  return {
    workspace: { id: workspace.id, name: workspace.name },
    service_provider: {
      entity_id: sp.entityId,
      acs_url: sp.acsUrl,
      metadata_url: sp.metadataUrl,
      name_id_format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      login_command: `flexpa login --sso ${workspace.id}`,
    },
    configured: config !== undefined,
    identity_provider: config
      ? {
          entity_id: config.idp_entity_id,
          sso_url: config.idp_sso_url,
          binding: config.idp_sso_binding === 'redirect' ? 'HTTP-Redirect' : 'HTTP-POST',
          certificates: (JSON.parse(config.idp_certificates) as string[]).map(summarizeCertificate),
        }
      : null,
    domains: await listDomains(db, workspace.id),
    enforced: config?.enforced === 1,
    updated_at: config?.updated_at ?? null,
  }
}
