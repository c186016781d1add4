import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { cliUser, signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'

describe('workspace tokens through the CLI', () => {
  let server: ServerProcess
  let database: DatabaseHandle
  let admin: CliUser
  let adminSignup: any

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    database = await openDatabase(server.databaseUrl)
    ;({ user: admin, signup: adminSignup } = await signUpWithCli(server.url, 'ada@example.com', { workspaceName: 'Acme' }))
    const created = await admin.run(['apps', 'create', 'Portal', '--json'])
    expect(created.exitCode).toBe(0)
  })
  afterAll(async () => {
    await database?.close()
    await server?.stop()
  })

  async function createToken(user: CliUser, args: string[]) {
    const result = await user.run(['tokens', 'create', ...args, '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    return result.json()
  }

  /** Returns a CLI user with no config and no login, only the token in its environment, as in a pipeline. */
  function pipeline(token: string, env: Record<string, string> = {}) {
    return cliUser(server.url, { FLEXPA_TOKEN: token, ...env })
  }

  it('prints the token once with a hint on stderr', async () => {
    const result = await admin.run(['tokens', 'create', '--name', 'shown', '--permission', 'settings:read'])

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/^Token: fxw_\w+\n$/)
    expect(result.stderr).toContain('settings:read')
    expect(result.stderr).toContain('shown only once')
    expect(result.stderr).toContain('FLEXPA_TOKEN')
  })

  it('rejects an unknown permission with the valid codes', async () => {
    const result = await admin.run(['tokens', 'create', '--name', 'bad', '--permission', 'keys:rotate', '--json'])

    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('"keys:rotate" is not a permission')
    expect(result.stderr).toContain('api-keys-test:manage, api-keys:read')
    expect(result.json().error.exit_code).toBe(2)
  })

  it('rejects an expiry over 365 days', async () => {
    const result = await admin.run(['tokens', 'create', '--name', 'long', '--permission', 'settings:read', '--expires-in', '400d'])

    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('longer than the maximum of 365d')
    expect(result.stdout).toBe('')
  })

  it('allows a CI token exactly what it holds', async () => {
    const token = await createToken(admin, ['--name', 'ci', '--permission', 'api-keys-test:manage', '--expires-in', '30d'])
    const ci = pipeline(token.token)

    const rotated = await ci.run(['keys', 'rotate', '--app', 'Portal', '--json'])
    const byEnv = await pipeline(token.token, { FLEXPA_WORKSPACE: 'Acme' }).run(['keys', 'rotate', '--app', 'portal', '--json'])
    const byFlag = await ci.run(['keys', 'rotate', '--app', 'Portal', '--workspace', adminSignup.workspace.id, '--json'])
    const createApp = await ci.run(['apps', 'create', 'Rogue', '--json'])
    const live = await ci.run(['keys', 'rotate', '--app', 'Portal', '--live', '--confirm', 'Portal'])
    const audit = await ci.run(['audit', 'list'])
    const mint = await ci.run(['tokens', 'create', '--name', 'child', '--permission', 'api-keys-test:manage'])
    const remove = await ci.run(['workspaces', 'delete', '--confirm', 'Acme'])

    expect(Date.parse(token.expires_at) - Date.parse(token.created_at)).toBe(30 * 86_400_000)
    expect(rotated.exitCode, rotated.stderr).toBe(0)
    expect(rotated.json().secret_key).toMatch(/^sk_test_/)
    expect(rotated.stderr).toBe('')
    expect(byEnv.exitCode, byEnv.stderr).toBe(0)
    expect(byFlag.exitCode, byFlag.stderr).toBe(0)
    expect(createApp.exitCode).toBe(4)
    expect(createApp.json().error.permission).toBe('settings:manage')
    expect(createApp.stderr).toContain('requires the settings:manage permission')
    expect(live.exitCode).toBe(4)
    expect(audit.exitCode).toBe(4)
    expect(audit.stderr).toContain('team:manage')
    expect(mint.exitCode).toBe(4)
    expect(remove.exitCode).toBe(4)
    expect(live.stdout).toBe('')
  })

  it('replays token creation for the same idempotency key', async () => {
    const args = ['--name', 'replay', '--permission', 'settings:read', '--idempotency-key', 'pipeline-7-token']

    const first = await createToken(admin, args)
    const second = await createToken(admin, args)
    const other = await admin.run(['tokens', 'create', '--name', 'replay-2', '--permission', 'settings:read', '--idempotency-key', 'pipeline-7-token', '--json'])

    expect(second.token).toBe(first.token)
    expect(second.id).toBe(first.id)
    expect(other.exitCode).toBe(6)
    expect(other.stderr).toContain('Idempotency-Key was already used')
  })

  it('disables a revoked token at once', async () => {
    const token = await createToken(admin, ['--name', 'revoked', '--permission', 'api-keys-test:manage'])
    const ci = pipeline(token.token)
    expect((await ci.run(['keys', 'rotate', '--app', 'Portal', '--json'])).exitCode).toBe(0)

    const revoked = await admin.run(['tokens', 'revoke', token.id])
    const after = await ci.run(['keys', 'rotate', '--app', 'Portal', '--json'])

    expect(revoked.exitCode).toBe(0)
    expect(revoked.stderr).toContain(`Revoked token revoked (${token.id})`)
    expect(after.exitCode).toBe(3)
    expect(after.stderr).toContain('revoked, expired or unknown')
    expect(after.json().error.code).toBe('session_expired')
  })

  it("disables a token after its creator's removal", async () => {
    const { user: member, signup } = await signUpWithCli(server.url, 'grace@example.com')
    await database.db
      .insertInto('memberships')
      .values({ workspace_id: adminSignup.workspace.id, user_id: signup.user.id, role: 'member', created_at: new Date().toISOString() })
      .execute()
    const token = await createToken(member, ['--workspace', 'Acme', '--name', 'grace-ci', '--permission', 'api-keys-test:manage'])
    const ci = pipeline(token.token)
    expect((await ci.run(['keys', 'rotate', '--app', 'Portal', '--json'])).exitCode).toBe(0)

    await database.db
      .deleteFrom('memberships')
      .where('workspace_id', '=', adminSignup.workspace.id)
      .where('user_id', '=', signup.user.id)
      .execute()
    const after = await ci.run(['keys', 'rotate', '--app', 'Portal', '--workspace', 'Acme'])

    expect(after.exitCode).toBe(3)
    expect(after.stderr).toContain('its creator is no longer a member')
    expect(after.stdout).toBe('')
  })

  it("lists one's own tokens, or all for admins", async () => {
    const { user: member, signup } = await signUpWithCli(server.url, 'linus@example.com')
    await database.db
      .insertInto('memberships')
      .values({ workspace_id: adminSignup.workspace.id, user_id: signup.user.id, role: 'member', created_at: new Date().toISOString() })
      .execute()
    await createToken(member, ['--workspace', 'Acme', '--name', 'linus-ci', '--permission', 'settings:read'])

    const mine = await member.run(['tokens', 'list', '--workspace', 'Acme', '--json'])
    const all = await admin.run(['tokens', 'list', '--json'])
    const table = await admin.run(['tokens', 'list'])
    const othersToken = all.json().data.find((row: { name: string }) => row.name === 'ci')
    const denied = await member.run(['tokens', 'revoke', othersToken.id, '--workspace', 'Acme'])

    expect(mine.exitCode).toBe(0)
    expect(mine.json().data.map((row: { name: string }) => row.name)).toEqual(['linus-ci'])
    expect(all.json().data.map((row: { name: string }) => row.name)).toEqual(expect.arrayContaining(['linus-ci', 'ci', 'revoked']))
    expect(JSON.stringify(all.json())).not.toContain('fxw_')
    expect(table.stdout).toContain('linus@example.com')
    expect(table.stdout).toContain('revoked')
    expect(denied.exitCode).toBe(4)
  })
})
