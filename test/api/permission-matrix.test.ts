import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { access } from '../../server/auth.js'

import { ERROR_CODES } from '../../shared/errors.js'
import { effectivePermissions, isPermission, PERMISSION_CODES, type Access, type Permission } from '../../shared/permissions.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { dialects } from '../helpers/database.js'
import { createPrincipals, insertWorkspaceToken, type PrincipalFixture } from '../helpers/principals.js'
import { bodyAllowed, declaredRoutes, fillPath, type DeclaredRoute, responseText } from '../helpers/routes.js'

const UNAUTHENTICATED_ACCESS: Access[] = ['public', 'signed', 'app-key']

interface Caller {
  label: string
  /** The permissions the caller holds in the fixture's workspace, or null outside it. */
  permissions: Permission[] | null
  kind: 'anonymous' | 'user' | 'token' | 'outsider'
  credential(fixture: PrincipalFixture): Promise<string | null>
}

/** Least destructive first: a route that deletes the workspace must not spoil the later callers. */
const CALLERS: Caller[] = [
  { label: 'no credential', permissions: null, kind: 'anonymous', credential: async () => null },
  { label: 'user of another workspace', permissions: null, kind: 'outsider', credential: (f) => f.session(f.outsider) },
  ...PERMISSION_CODES.map(
    (code): Caller => ({
      label: `token holding ${code}`,
      permissions: [code],
      kind: 'token',
      credential: async (f) => f.tokens[code],
    }),
  ),
  {
    label: 'member without phi:read',
    permissions: effectivePermissions('member', ['phi:read']),
    kind: 'user',
    credential: (f) => f.session(f.withheldMember),
  },
  { label: 'member', permissions: effectivePermissions('member'), kind: 'user', credential: (f) => f.session(f.member) },
  { label: 'admin', permissions: effectivePermissions('admin'), kind: 'user', credential: (f) => f.session(f.admin) },
]

interface Outcome {
  status: number
  body: any
  requestId: string | null
  /** An HTML page for browsers, whose errors are pages rather than the JSON envelope. */
  isPage: boolean
}

async function send(test: TestApp, route: DeclaredRoute, fixture: PrincipalFixture, token: string | null): Promise<Outcome> {
  const path = fillPath(route.path, { workspace: fixture.workspaceId }, (name) => `${name}_doesnotexist0000`)
  const headers: Record<string, string> = {}
  if (token) headers.authorization = `Bearer ${token}`
  let body: string | undefined
  if (bodyAllowed(route.method)) {
    body = '{}'
    headers['content-type'] = 'application/json'
  }
  const response = await test.app.request(path, { method: route.method, headers, body })
  const text = await responseText(response)
  let parsed: unknown = null
  if (text !== '') {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = text
    }
  }
  return {
    status: response.status,
    body: parsed,
    requestId: response.headers.get('x-request-id'),
    isPage: (response.headers.get('content-type') ?? '').startsWith('text/html'),
  }
}

/** Lists every way one response breaks the matrix for `caller` on `route`; empty when it is right. */
function violations(route: DeclaredRoute, caller: Caller, outcome: Outcome): string[] {
  const found: string[] = []
  const { status, body } = outcome
  const access = route.access!
  const inWorkspace = route.path.includes(':workspace')
  if (status >= 500) found.push(`returned ${status}`)
  if (!outcome.requestId) found.push('has no X-Request-Id')
  // Pages for browsers (invitation, password reset) answer errors in HTML; the JSON API never does.
  if (status >= 400 && !outcome.isPage) {
    const error = body?.error
    if (typeof error?.code !== 'string' || typeof error?.message !== 'string') {
      found.push(`returned ${status} outside the error envelope: ${JSON.stringify(body)}`)
      return found
    }
    const known = ERROR_CODES[error.code as keyof typeof ERROR_CODES]
    if (!known) found.push(`used the unknown error code ${error.code}`)
    else if (known.status !== status) found.push(`returned ${status} with ${error.code}, whose status is ${known.status}`)
  }
  const denied = status === 403 && body?.error?.permission !== undefined
  const deniedFor = body?.error?.permission

  if (caller.kind === 'anonymous') {
    if (!UNAUTHENTICATED_ACCESS.includes(access) && status !== 401) found.push(`returned ${status}, expected 401`)
    return found
  }
  if (access === 'operator') {
    if (status !== 404) found.push(`returned ${status} to a non-operator, expected 404`)
    return found
  }
  if (caller.kind === 'outsider') {
    if (inWorkspace && (isPermission(access) || access === 'member') && status !== 404) {
      found.push(`returned ${status} for another workspace, expected 404`)
    }
    return found
  }
  if (status === 401 && !UNAUTHENTICATED_ACCESS.includes(access)) found.push('rejected a valid credential with 401')
  if (isPermission(access)) {
    const lacks = !caller.permissions!.includes(access)
    if (lacks && !(status === 403 && deniedFor === access)) {
      found.push(`returned ${status} ${JSON.stringify(body)}, expected 403 naming ${access}`)
    }
    if (!lacks && denied && deniedFor === access) found.push(`denied ${access}, which the caller holds`)
  } else if (access === 'member' && denied) {
    found.push(`denied a member with ${JSON.stringify(body)}`)
  }
  return found
}

const DIALECTS = await dialects()
/** Every route times every caller: the run grows with the routes, so it gets more than the default. */
const MATRIX_TIMEOUT_MS = 300_000

describe.each(DIALECTS)('permission matrix on %s', (dialect) => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp(dialect)
  })
  afterAll(async () => {
    await test?.close()
  })

  it('enforces the declared access of every route', async () => {
    const problems: string[] = []
    const routes = declaredRoutes(test.app)

    for (const route of routes) {
      expect(route.access, `${route.method} ${route.path} declares no access`).toBeDefined()
      const fixture = await createPrincipals(test)
      for (const caller of CALLERS) {
        const outcome = await send(test, route, fixture, await caller.credential(fixture))
        for (const problem of violations(route, caller, outcome)) {
          problems.push(`${route.method} ${route.path} (${route.access}) as ${caller.label}: ${problem}`)
        }
      }
    }

    expect(routes.length).toBeGreaterThan(10)
    expect(problems).toEqual([])
  }, MATRIX_TIMEOUT_MS)

  it('denies a member every permission its role lacks', async () => {
    const fixture = await createPrincipals(test)
    const missing = PERMISSION_CODES.filter((code) => !effectivePermissions('member').includes(code))
    const guarded = declaredRoutes(test.app).filter((route) => missing.includes(route.access as Permission))

    expect(guarded.length).toBeGreaterThan(0)
    for (const route of guarded) {
      const outcome = await send(test, route, fixture, await fixture.session(fixture.member))

      expect(outcome.status, `${route.method} ${route.path}`).toBe(403)
      expect(outcome.body.error.permission).toBe(route.access)
    }
  })

  it('caps a token at its creator\'s permissions', async () => {
    const fixture = await createPrincipals(test)
    const token = await insertWorkspaceToken(test, fixture.workspaceId, fixture.member, ['api-keys-live:manage', 'settings:read'])
    const base = `/v1/workspaces/${fixture.workspaceId}`

    const live = await test.call('POST', `${base}/apps/any/keys/live/rotate`, { token, body: {} })
    const read = await test.call('GET', `${base}/apps`, { token })

    expect(live.status).toBe(403)
    expect(live.body.error.permission).toBe('api-keys-live:manage')
    expect(read.status).toBe(200)
  })

  it('hides other workspaces from a token', async () => {
    const fixture = await createPrincipals(test)
    const { addMember } = await import('../helpers/app.js')
    await addMember(test, fixture.otherWorkspaceId, fixture.admin, 'admin')

    const answer = await test.call('GET', `/v1/workspaces/${fixture.otherWorkspaceId}/apps`, { token: fixture.tokens['settings:read'] })

    expect(answer.status).toBe(404)
  })

  it('resolves a token\'s workspace by a name its creator shares', async () => {
    const fixture = await createPrincipals(test)
    const admin = await fixture.session(fixture.admin)
    const own = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}`, { token: admin })
    await test.call('POST', '/v1/workspaces', { token: admin, body: { name: own.body.name } })
    const token = fixture.tokens['settings:read']

    const bySession = await test.call('GET', `/v1/workspaces/${encodeURIComponent(own.body.name)}`, { token: admin })
    const byToken = await test.call('GET', `/v1/workspaces/${encodeURIComponent(own.body.name)}`, { token })

    expect(bySession.status).toBe(409)
    expect(byToken.status).toBe(200)
    expect(byToken.body.id).toBe(fixture.workspaceId)
  })

  it('rejects a revoked or expired token', async () => {
    const fixture = await createPrincipals(test)
    const { hashSecret } = await import('../../shared/tokens.js')
    const revoked = fixture.tokens['settings:read']
    const expired = fixture.tokens['team:read']
    const db = test.services.database.db
    await db.updateTable('workspace_tokens').set({ revoked_at: new Date().toISOString() }).where('token_hash', '=', hashSecret(revoked)).execute()
    await db.updateTable('workspace_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('token_hash', '=', hashSecret(expired)).execute()

    const first = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}/apps`, { token: revoked })
    const second = await test.call('GET', `/v1/workspaces/${fixture.workspaceId}`, { token: expired })

    expect(first.status).toBe(401)
    expect(second.status).toBe(401)
  })
})

describe('operator routes', () => {
  let test: TestApp

  beforeAll(async () => {
    test = await createTestApp('sqlite')
    test.app.get('/v1/operator-probe', access('operator'), (c) => c.json({ ok: true }))
  })
  afterAll(async () => {
    await test?.close()
  })

  it('hides them from everyone but operators', async () => {
    const fixture = await createPrincipals(test)
    const operator = await test.services.database.db.selectFrom('users').select('email').where('id', '=', fixture.member).executeTakeFirstOrThrow()
    test.services.config.operatorEmails.push(operator.email)
    const route = declaredRoutes(test.app).find((one) => one.path === '/v1/operator-probe')!
    const problems: string[] = []

    for (const caller of CALLERS.filter((one) => one.label !== 'member')) {
      for (const problem of violations(route, caller, await send(test, route, fixture, await caller.credential(fixture)))) {
        problems.push(`${caller.label}: ${problem}`)
      }
    }
    const asOperator = await send(test, route, fixture, await fixture.session(fixture.member))

    expect(problems).toEqual([])
    expect(asOperator.status).toBe(200)
  })
})
