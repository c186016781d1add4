import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { roleGrants } from '../../shared/permissions.js'
import { cliUser, PASSWORD, type CliUser } from '../helpers/cli.js'
import { postgresUnavailable, type DialectName } from '../helpers/database.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { expectFailure, expectJson, storedToken } from './support.js'

const NEW_PASSWORD = 'a quieter evening by the lake'
const FILE_WARNING = /^Warning: no OS keychain is available \(disabled by FLEXPA_NO_KEYCHAIN=1\); the token is stored in .+credentials\.json with mode 0600\n$/

const postgresReason = await postgresUnavailable()
if (postgresReason !== null && process.env.CI === 'true') throw new Error(postgresReason)
if (postgresReason !== null) console.warn(`skipping the PostgreSQL journey: ${postgresReason}`)

/**
 * Defines the first journey of a new user at the terminal, step by step against one server. Every
 * secret the CLI prints or stores is collected in `secrets` for the check of the database file.
 */
function defineJourney(dialect: DialectName) {
  let server: ServerProcess
  let grace: CliUser
  let laptop: CliUser
  const secrets: string[] = [PASSWORD, NEW_PASSWORD]
  const state: { workspaceId?: string; secondWorkspaceId?: string; appId?: string; firstSecretId?: string } = {}

  beforeAll(async () => {
    server = await startServer({ dialect })
    grace = cliUser(server.url)
    laptop = cliUser(server.url)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('signs up with the password on stdin', async () => {
    const result = await grace.run(
      ['signup', '--email', ' Grace@Example.com ', '--name', 'Grace', '--workspace-name', 'Acme', '--password-stdin', '--json'],
      { input: `${PASSWORD}\n` },
    )

    const body = expectJson(result, FILE_WARNING)
    expect(body.user.email).toBe('grace@example.com')
    expect(body.user.name).toBe('Grace')
    expect(body.workspace.name).toBe('Acme')
    expect(body.workspace.id).toMatch(/^ws_/)
    expect(body.credential_source).toBe('file')
    expect(JSON.stringify(body)).not.toContain(PASSWORD)
    const mode = statSync(join(grace.configDir, 'credentials.json')).mode & 0o777
    expect(mode).toBe(0o600)
    secrets.push(storedToken(grace, server.url))
    state.workspaceId = body.workspace.id
  })

  it('shows the user, workspace, role and permissions', async () => {
    const result = await grace.run(['whoami', '--json'])

    const body = expectJson(result)
    expect(body.user.email).toBe('grace@example.com')
    expect(body.workspace.id).toBe(state.workspaceId)
    expect(body.role).toBe('admin')
    expect(body.permissions).toEqual(roleGrants('admin'))
    expect(body.credential_source).toBe('file')
    expect(body.api_url).toBe(server.url)

    const text = await grace.run(['whoami'])
    expect(text.exitCode).toBe(0)
    expect(text.stderr).toBe('')
    expect(text.stdout).toContain('Grace <grace@example.com>')
    expect(text.stdout).toMatch(/^Workspace: +Acme \(ws_\w+\)$/m)
    expect(text.stdout).toMatch(/^Role: +admin$/m)
    expect(text.stdout).toMatch(/^Credential: +file$/m)
  })

  it('creates, lists and selects workspaces', async () => {
    const created = expectJson(await grace.run(['workspaces', 'create', 'Acme Staging', '--json']))
    expect(created.name).toBe('Acme Staging')
    state.secondWorkspaceId = created.id

    const listed = expectJson(await grace.run(['workspaces', 'list', '--json']))
    expect(listed.data.map((ws: { name: string }) => ws.name)).toEqual(['Acme', 'Acme Staging'])
    expect(listed.data.map((ws: { selected: boolean }) => ws.selected)).toEqual([true, false])
    expect(listed.data.map((ws: { role: string }) => ws.role)).toEqual(['admin', 'admin'])

    const used = await grace.run(['workspaces', 'use', 'acme staging'])
    expect(used.exitCode).toBe(0)
    expect(used.stdout).toBe('')
    expect(used.stderr).toBe(`Now using workspace Acme Staging (${created.id}) as admin.\n`)
    expect(expectJson(await grace.run(['whoami', '--json'])).workspace.id).toBe(created.id)

    const back = expectJson(await grace.run(['workspaces', 'use', state.workspaceId!, '--json']))
    expect(back.workspace.id).toBe(state.workspaceId)
    expect(back.role).toBe('admin')
  })

  it('shows and updates the profile', async () => {
    const shown = expectJson(await grace.run(['profile', 'show', '--json']))
    expect(shown.email).toBe('grace@example.com')
    expect(shown.email_verified).toBe(false)

    const updated = await grace.run(['profile', 'update', '--name', 'Grace Hopper'])
    expect(updated.exitCode).toBe(0)
    expect(updated.stdout).toBe('')
    expect(updated.stderr).toBe('Display name is now Grace Hopper.\n')

    const text = await grace.run(['profile', 'show'])
    expect(text.stdout).toMatch(/^Name: +Grace Hopper$/m)
    expect(text.stderr).toBe('')
  })

  it('shows and renames the workspace settings', async () => {
    const shown = expectJson(await grace.run(['settings', 'show', '--json']))
    expect(shown.id).toBe(state.workspaceId)
    expect(shown.name).toBe('Acme')

    const set = expectJson(await grace.run(['settings', 'set', '--name', 'Acme Health', '--json']))
    expect(set.name).toBe('Acme Health')

    const text = await grace.run(['settings', 'show'])
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toMatch(/^Name: +Acme Health$/m)
  })

  it('creates an application with its test keys', async () => {
    const result = await grace.run(['apps', 'create', 'Portal', '--redirect-uri', 'https://portal.example.com/callback', '--json'])

    const body = expectJson(result)
    expect(body.id).toMatch(/^app_/)
    expect(body.name).toBe('Portal')
    expect(body.redirect_uris).toEqual(['https://portal.example.com/callback'])
    expect(body.keys.mode).toBe('test')
    expect(body.keys.publishable_key).toMatch(/^pk_test_/)
    expect(body.keys.secret_key).toMatch(/^sk_test_/)
    secrets.push(body.keys.secret_key)
    state.appId = body.id
    state.firstSecretId = body.keys.secret_key_id

    const text = await grace.run(['apps', 'create', 'Scratch'])
    expect(text.exitCode).toBe(0)
    expect(text.stdout).not.toMatch(/Created application/)
    const secret = /^Secret key \(test\): +(sk_test_\w+)$/m.exec(text.stdout)
    expect(secret).not.toBeNull()
    secrets.push(secret![1])
    expect(text.stderr).toMatch(/^Created application Scratch \(app_\w+\)\.\nThe secret key is shown only once\. Store it now; flexpa keys rotate issues a new one\.\n$/)
  })

  it('lists, shows and updates applications', async () => {
    const listed = expectJson(await grace.run(['apps', 'list', '--json']))
    expect(listed.data.map((app: { name: string }) => app.name)).toEqual(['Portal', 'Scratch'])

    const shown = expectJson(await grace.run(['apps', 'show', 'portal', '--json']))
    expect(shown.id).toBe(state.appId)

    const updated = expectJson(
      await grace.run([
        'apps', 'update', 'Portal', '--name', 'Member Portal',
        '--redirect-uri', 'https://members.example.com/callback', '--redirect-uri', 'http://localhost:3000/callback', '--json',
      ]),
    )
    expect(updated.name).toBe('Member Portal')
    expect(updated.redirect_uris).toEqual(['https://members.example.com/callback', 'http://localhost:3000/callback'])

    const replaced = expectJson(
      await grace.run(['apps', 'update', state.appId!, '--redirect-uri', 'https://members.example.com/v2/callback', '--json']),
    )
    expect(replaced.redirect_uris).toEqual(['https://members.example.com/v2/callback'])
    expect(replaced.name).toBe('Member Portal')

    const text = await grace.run(['apps', 'show', 'Member Portal'])
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toMatch(/^Redirect URIs: +https:\/\/members\.example\.com\/v2\/callback$/m)
  })

  it('lists keys with secrets masked', async () => {
    const result = await grace.run(['keys', 'list', '--app', 'Member Portal', '--json'])

    const body = expectJson(result)
    const types = body.data.map((key: { type: string }) => key.type).sort()
    expect(types).toEqual(['publishable', 'secret'])
    const secret = body.data.find((key: { type: string }) => key.type === 'secret')
    expect(secret.id).toBe(state.firstSecretId)
    expect(secret.secret_key_hint).toMatch(/^sk_test_…\w{4}$/)
    expect(secret.publishable_key).toBeNull()
    expect(secret.status).toBe('active')
    for (const value of secrets) expect(result.stdout).not.toContain(value)
  })

  it('rotates and expires a test secret', async () => {
    const rotated = expectJson(await grace.run(['keys', 'rotate', '--app', 'member portal', '--expire-old-in', '1h', '--json']))
    expect(rotated.secret_key).toMatch(/^sk_test_/)
    expect(secrets).not.toContain(rotated.secret_key)
    expect(rotated.previous_secret.id).toBe(state.firstSecretId)
    const graceMs = Date.parse(rotated.previous_secret.expires_at) - Date.now()
    expect(graceMs).toBeGreaterThan(59 * 60_000)
    expect(graceMs).toBeLessThanOrEqual(60 * 60_000)
    expect(rotated.ended_secrets).toEqual([])
    secrets.push(rotated.secret_key)

    const during = expectJson(await grace.run(['keys', 'list', '--app', state.appId!, '--json']))
    const old = during.data.find((key: { id: string }) => key.id === state.firstSecretId)
    expect(old.status).toBe('expiring')

    const expired = await grace.run(['keys', 'expire', state.firstSecretId!])
    expect(expired.exitCode).toBe(0)
    expect(expired.stdout).toBe('')
    expect(expired.stderr).toMatch(new RegExp(`^Secret sk_test_…\\w{4} \\(${state.firstSecretId}\\) stopped working at `))

    const after = expectJson(await grace.run(['keys', 'list', '--app', state.appId!, '--json']))
    const statuses = after.data.filter((key: { type: string }) => key.type === 'secret').map((key: { status: string }) => key.status)
    expect(statuses.sort()).toEqual(['active', 'expired'])
  })

  it('deletes an application only with its name typed back', async () => {
    const wrong = await grace.run(['apps', 'delete', 'Scratch', '--confirm', 'scratch'])
    expectFailure(wrong, 2, '--confirm "scratch" does not match "Scratch"; nothing was changed')
    const still = expectJson(await grace.run(['apps', 'list', '--json']))
    expect(still.data.map((app: { name: string }) => app.name)).toEqual(['Member Portal', 'Scratch'])

    const deleted = expectJson(await grace.run(['apps', 'delete', 'Scratch', '--confirm', 'Scratch', '--json']))
    expect(deleted.name).toBe('Scratch')
    expect(deleted.deleted).toBe(true)

    const listed = expectJson(await grace.run(['apps', 'list', '--json']))
    expect(listed.data.map((app: { name: string }) => app.name)).toEqual(['Member Portal'])
  })

  it('changes the password and ends the other sessions', async () => {
    const other = await laptop.run(['login', '--email', 'grace@example.com', '--password-stdin'], { input: PASSWORD })
    expect(other.exitCode).toBe(0)
    secrets.push(storedToken(laptop, server.url))

    const changed = await grace.run(['profile', 'password', '--password-stdin', '--json'], {
      input: `${PASSWORD}\n${NEW_PASSWORD}\n`,
    })

    const body = expectJson(changed)
    expect(body).toEqual({ password_changed: true, sessions_ended: 1 })
    expectFailure(await laptop.run(['whoami']), 3, /session has ended/)
    expect(expectJson(await grace.run(['whoami', '--json'])).user.email).toBe('grace@example.com')
  })

  it('lists sessions and revokes one', async () => {
    const other = await laptop.run(['login', '--email', 'grace@example.com', '--password-stdin'], { input: NEW_PASSWORD })
    expect(other.exitCode).toBe(0)
    secrets.push(storedToken(laptop, server.url))

    const listed = expectJson(await grace.run(['profile', 'sessions', '--json']))
    expect(listed.data).toHaveLength(2)
    const current = listed.data.find((session: { current: boolean }) => session.current)
    const laptopSession = listed.data.find((session: { current: boolean }) => !session.current)
    expect(current.client).toMatch(/^flexpa-cli\/[\d.]+ node\/[\d.]+$/)
    expect(laptopSession.address).toBe('127.0.0.1')

    const revoked = expectJson(await grace.run(['profile', 'sessions', '--revoke', laptopSession.id, '--json']))
    expect(revoked).toEqual({ id: laptopSession.id, revoked: true, current: false })
    expectFailure(await laptop.run(['apps', 'list']), 3, /session has ended/)
    const remaining = expectJson(await grace.run(['profile', 'sessions', '--json']))
    expect(remaining.data.map((session: { id: string }) => session.id)).toEqual([current.id])
  })

  it('logs out, then refuses commands with exit 3', async () => {
    const token = storedToken(grace, server.url)

    const result = await grace.run(['logout'])

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('Logged out.\n')
    expectFailure(await grace.run(['apps', 'list']), 3, /^Error: you are not logged in to http:\/\/127\.0\.0\.1:\d+\nrun flexpa login --api-url http:\/\/127\.0\.0\.1:\d+ \(or flexpa signup to create an account\), or set FLEXPA_TOKEN\n$/)
    expectFailure(await grace.run(['whoami'], { env: { FLEXPA_TOKEN: token } }), 3, /session has ended/)
  })

  it('logs in with the password on stdin', async () => {
    const wrong = await grace.run(['login', '--email', 'grace@example.com', '--password-stdin'], { input: PASSWORD })
    expectFailure(wrong, 3, /^Error: the email or password is incorrect\n/)

    const result = await grace.run(['login', '--email', 'GRACE@example.com', '--password-stdin'], { input: `${NEW_PASSWORD}\n` })

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^Warning: no OS keychain/)
    expect(result.stderr).toMatch(new RegExp(`Logged in to ${server.url.replace(/\./g, '\\.')} as grace@example\\.com\\.\\n$`))
    secrets.push(storedToken(grace, server.url))
    expect(expectJson(await grace.run(['apps', 'list', '--json'])).data).toHaveLength(1)
  })

  it('logs in with a token on stdin', async () => {
    const token = storedToken(grace, server.url)
    const ci = cliUser(server.url)

    const result = await ci.run(['login', '--with-token', '--json'], { input: `${token}\n` })

    const body = expectJson(result, FILE_WARNING)
    expect(body.user.email).toBe('grace@example.com')
    expect(body.credential_source).toBe('file')
    expect(storedToken(ci, server.url)).toBe(token)
    const whoami = expectJson(await ci.run(['whoami', '--json']))
    expect(whoami.workspace.id).toBe(state.workspaceId)
    expect(whoami.credential_source).toBe('file')
  })

  if (dialect === 'sqlite') {
    it('stores no printed secret in the database file', async () => {
      const file = server.databaseUrl.slice('sqlite:'.length)
      const contents = [readFileSync(file)]
      try {
        contents.push(readFileSync(`${file}-wal`))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
      expect(secrets.length).toBeGreaterThanOrEqual(8)

      for (const secret of secrets) {
        for (const bytes of contents) expect(bytes.includes(secret), `a secret ending in ${secret.slice(-4)} is stored`).toBe(false)
      }
    })
  }
}

describe('first journey on SQLite', () => defineJourney('sqlite'))

describe.skipIf(postgresReason !== null)('first journey on PostgreSQL', () => defineJourney('postgres'))
