import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { declaredAccess } from '../../server/auth.js'
import { isPermission, PERMISSIONS, roleGrants } from '../../shared/permissions.js'
import { signUpWithCli, type CliUser } from '../helpers/cli.js'
import { createTestApp } from '../helpers/app.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { addMembership, expectFailure, expectJson, expectJsonFailure, issueLiveKeys } from './support.js'

interface Fixture {
  workspaceId: string
  appId: string
  liveAppId: string
  liveSecretId: string
  testSecretId: string
}

/**
 * Each command a member runs that reaches a permission the member lacks. `route` is the route the
 * command calls when that route itself requires the permission; entries without one are checks
 * that a route makes inside its handler (an application with live keys, a live key).
 */
const MEMBER_DENIED: { title: string; route?: string; permission: string; args: (fixture: Fixture) => string[] }[] = [
  {
    title: 'rotating live keys',
    route: 'POST /v1/workspaces/:workspace/apps/:app/keys/live/rotate',
    permission: 'api-keys-live:manage',
    args: () => ['keys', 'rotate', '--app', 'Portal', '--live', '--confirm', 'Portal'],
  },
  {
    title: 'deleting an application with live keys',
    permission: 'api-keys-live:manage',
    args: () => ['apps', 'delete', 'Live Portal', '--confirm', 'Live Portal'],
  },
  {
    title: 'expiring a live secret',
    permission: 'api-keys-live:manage',
    args: (fixture) => ['keys', 'expire', fixture.liveSecretId],
  },
  {
    title: 'deleting the workspace',
    route: 'DELETE /v1/workspaces/:workspace',
    permission: 'team:manage',
    args: () => ['workspaces', 'delete', '--confirm', 'Acme'],
  },
  {
    title: 'reading the audit log',
    route: 'GET /v1/workspaces/:workspace/audit',
    permission: 'team:manage',
    args: () => ['audit', 'list'],
  },
  {
    title: "changing a member's role",
    route: 'PATCH /v1/workspaces/:workspace/members/:member',
    permission: 'team:manage',
    args: () => ['team', 'role', 'owner@example.com', 'member'],
  },
  {
    title: 'removing a member',
    route: 'DELETE /v1/workspaces/:workspace/members/:member',
    permission: 'team:manage',
    args: () => ['team', 'remove', 'owner@example.com', '--confirm', 'owner@example.com'],
  },
  {
    title: 'withholding phi:read',
    route: 'PUT /v1/workspaces/:workspace/members/:member/phi',
    permission: 'team:manage',
    args: () => ['team', 'phi', 'owner@example.com', '--withhold'],
  },
  {
    title: 'inviting people',
    route: 'POST /v1/workspaces/:workspace/invitations',
    permission: 'team:manage',
    args: () => ['team', 'invite', 'friend@example.com'],
  },
  {
    title: 'revoking an invitation',
    route: 'DELETE /v1/workspaces/:workspace/invitations/:invitation',
    permission: 'team:manage',
    args: () => ['invitations', 'revoke', 'invitee@example.com'],
  },
  {
    title: 'resending an invitation',
    route: 'POST /v1/workspaces/:workspace/invitations/:invitation/resend',
    permission: 'team:manage',
    args: () => ['invitations', 'resend', 'invitee@example.com'],
  },
  {
    title: 'showing single sign-on',
    route: 'GET /v1/workspaces/:workspace/sso',
    permission: 'sso:manage',
    args: () => ['sso', 'show'],
  },
  {
    title: 'configuring single sign-on',
    route: 'PUT /v1/workspaces/:workspace/sso',
    permission: 'sso:manage',
    args: () => ['sso', 'configure', '--no-enforce'],
  },
  {
    title: 'disabling single sign-on',
    route: 'DELETE /v1/workspaces/:workspace/sso',
    permission: 'sso:manage',
    args: () => ['sso', 'disable', '--confirm', 'Acme'],
  },
  {
    title: 'reading the billing status',
    route: 'GET /v1/workspaces/:workspace/billing',
    permission: 'billing:manage',
    args: () => ['billing', 'status'],
  },
  {
    title: 'starting the billing setup',
    route: 'POST /v1/workspaces/:workspace/billing/setup',
    permission: 'billing:manage',
    args: () => ['billing', 'setup', '--no-browser'],
  },
  {
    title: 'opening the billing portal',
    route: 'POST /v1/workspaces/:workspace/billing/portal',
    permission: 'billing:manage',
    args: () => ['billing', 'portal', '--no-browser'],
  },
  {
    title: 'listing invoices',
    route: 'GET /v1/workspaces/:workspace/billing/invoices',
    permission: 'billing:manage',
    args: () => ['billing', 'invoices'],
  },
]

async function routesDeniedToMembers(): Promise<string[]> {
  const test = await createTestApp('sqlite')
  try {
    return test.app.routes
      .map((route) => ({ route: `${route.method} ${route.path}`, access: declaredAccess(route.handler) }))
      .filter(({ access }) => access !== undefined && isPermission(access) && !PERMISSIONS[access].roles.member)
      .map(({ route }) => route)
  } finally {
    await test.close()
  }
}

describe('permissions through the CLI', () => {
  let server: ServerProcess
  let admin: CliUser
  let member: CliUser
  let outsider: CliUser
  const fixture = {} as Fixture

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    const owner = await signUpWithCli(server.url, 'owner@example.com', { workspaceName: 'Acme' })
    admin = owner.user
    fixture.workspaceId = owner.signup.workspace.id
    const portal = expectJson(await admin.run(['apps', 'create', 'Portal', '--json']))
    fixture.appId = portal.id
    fixture.testSecretId = portal.keys.secret_key_id
    const rotated = expectJson(await admin.run(['keys', 'rotate', '--app', 'Portal', '--expire-old-in', '1d', '--json']))
    expect(rotated.previous_secret.id).toBe(fixture.testSecretId)
    const livePortal = expectJson(await admin.run(['apps', 'create', 'Live Portal', '--json']))
    fixture.liveAppId = livePortal.id
    fixture.liveSecretId = await issueLiveKeys(server.databaseUrl, fixture.workspaceId, livePortal.id)
    const invited = expectJson(await admin.run(['team', 'invite', 'invitee@example.com', '--json']))
    expect(invited.data[0].outcome).toBe('invited')

    const joined = await signUpWithCli(server.url, 'member@example.com', { workspaceName: 'Member Home' })
    member = joined.user
    await addMembership(server.databaseUrl, fixture.workspaceId, joined.signup.user.id, 'member')
    expectJson(await member.run(['workspaces', 'use', fixture.workspaceId, '--json']))

    outsider = (await signUpWithCli(server.url, 'outsider@example.com', { workspaceName: 'Elsewhere' })).user
  }, 240_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('covers every route the matrix denies a member', async () => {
    const covered = MEMBER_DENIED.flatMap((entry) => (entry.route ? [entry.route] : []))

    const denied = await routesDeniedToMembers()

    expect(denied.length).toBeGreaterThan(0)
    expect(denied.filter((route) => !covered.includes(route)), 'add these routes to MEMBER_DENIED').toEqual([])
  })

  it("shows a member's role and permissions", async () => {
    const body = expectJson(await member.run(['whoami', '--json']))

    expect(body.workspace.id).toBe(fixture.workspaceId)
    expect(body.role).toBe('member')
    expect(body.permissions).toEqual(roleGrants('member'))
  })

  for (const entry of MEMBER_DENIED) {
    it(`denies a member ${entry.title}`, async () => {
      const result = await member.run(entry.args(fixture))

      expectFailure(result, 4, new RegExp(`^Error: .*${entry.permission}`))
      const json = await member.run([...entry.args(fixture), '--json'])
      const error = expectJsonFailure(json, 4, entry.permission)
      expect(error.code).toBe('permission_denied')
      expect(error.permission).toBe(entry.permission)
    })
  }

  it('leaves what a member was denied unchanged', async () => {
    const apps = expectJson(await admin.run(['apps', 'list', '--json']))
    expect(apps.data.map((app: { name: string }) => app.name)).toEqual(['Portal', 'Live Portal'])

    const keys = expectJson(await admin.run(['keys', 'list', '--app', 'Live Portal', '--json']))
    const live = keys.data.find((key: { id: string }) => key.id === fixture.liveSecretId)
    expect(live.status).toBe('active')

    const team = expectJson(await admin.run(['team', 'list', '--json']))
    const owner = team.members.find((row: { email: string }) => row.email === 'owner@example.com')
    expect(owner.role).toBe('admin')
    expect(owner.phi_read).toBe(true)
    expect(team.invitations.map((row: { email: string; status: string }) => [row.email, row.status])).toEqual([['invitee@example.com', 'pending']])
    expect(expectJson(await admin.run(['settings', 'show', '--json'])).name).toBe('Acme')
  })

  it('lets a member do what the matrix grants', async () => {
    expect(expectJson(await member.run(['apps', 'list', '--json'])).data).toHaveLength(2)
    expect(expectJson(await member.run(['settings', 'show', '--json'])).name).toBe('Acme')

    const created = expectJson(await member.run(['apps', 'create', 'Member App', '--json']))
    const rotated = expectJson(await member.run(['keys', 'rotate', '--app', 'Member App', '--json']))

    expect(rotated.secret_key).toMatch(/^sk_test_/)
    expect(expectJson(await member.run(['apps', 'delete', created.id, '--confirm', 'Member App', '--json'])).deleted).toBe(true)
  })

  describe('a user of another workspace', () => {
    const byReference = (reference: 'id' | 'name') => (reference === 'id' ? fixture.workspaceId : 'Acme')
    const commands: { title: string; args: () => string[] }[] = [
      { title: 'apps show', args: () => ['apps', 'show', fixture.appId] },
      { title: 'apps update', args: () => ['apps', 'update', fixture.appId, '--name', 'Taken Over'] },
      { title: 'apps delete', args: () => ['apps', 'delete', fixture.appId, '--confirm', 'Portal'] },
      { title: 'keys list', args: () => ['keys', 'list', '--app', fixture.appId] },
      { title: 'keys rotate', args: () => ['keys', 'rotate', '--app', fixture.appId] },
      { title: 'keys expire', args: () => ['keys', 'expire', fixture.testSecretId] },
    ]

    for (const command of commands) {
      it(`gets exit 5 from ${command.title} with this workspace's ids`, async () => {
        const own = await outsider.run(command.args())
        expectFailure(own, 5, /not found/)
        expect(own.stderr).not.toMatch(/permission/)

        for (const reference of ['id', 'name'] as const) {
          const result = await outsider.run([...command.args(), '--workspace', byReference(reference)])
          expectFailure(result, 5, /not found/)
          expect(result.stderr).not.toMatch(/permission/)
        }
      })
    }

    it('gets exit 5 from apps and keys by name', async () => {
      for (const args of [['apps', 'show', 'Portal'], ['keys', 'list', '--app', 'Portal'], ['keys', 'rotate', '--app', 'Portal']]) {
        expectFailure(await outsider.run(args), 5, /application "Portal" was not found/)
        expectFailure(await outsider.run([...args, '--workspace', 'Acme']), 5, /not found/)
      }
    })

    it('gets exit 5 from settings show', async () => {
      for (const reference of ['id', 'name'] as const) {
        const result = await outsider.run(['settings', 'show', '--workspace', byReference(reference)])
        expectFailure(result, 5, /not found/)
        const json = expectJsonFailure(await outsider.run(['settings', 'show', '--workspace', byReference(reference), '--json']), 5, /not found/)
        expect(json.code).toBe('not_found')
      }
    })

    it('changes nothing in this workspace', async () => {
      const shown = expectJson(await admin.run(['apps', 'show', fixture.appId, '--json']))
      expect(shown.name).toBe('Portal')

      const keys = expectJson(await admin.run(['keys', 'list', '--app', fixture.appId, '--json']))
      const first = keys.data.find((key: { id: string }) => key.id === fixture.testSecretId)
      expect(first.status).toBe('expiring')
    })
  })
})
