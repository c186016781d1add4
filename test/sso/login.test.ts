import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openDatabase, type DatabaseHandle } from '../../server/db/index.js'
import { cliUser, PASSWORD, signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startIdpServer, TestIdp, type IdpServer } from '../helpers/saml-idp.js'
import { ROOT, startServer, type ServerProcess } from '../helpers/server.js'

const BROWSER = join(ROOT, 'test/fixtures/sso-browser.mjs')
const CHROMIUM_BROWSER = join(ROOT, 'test/fixtures/sso-chromium.mjs')
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const chromiumMissing = !existsSync(CHROMIUM)
if (chromiumMissing && process.env.CI === 'true') throw new Error(`Chromium is missing at ${CHROMIUM}`)
if (chromiumMissing) console.warn(`skipping the Chromium login test: no browser at ${CHROMIUM}`)

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('flexpa login --sso', () => {
  let server: ServerProcess
  let database: DatabaseHandle
  let idpServer: IdpServer
  let admin: CliUser
  let workspaceId: string
  const idp = new TestIdp()
  const scratch = mkdtempSync(join(tmpdir(), 'flexpa-sso-'))
  const metadataFile = join(scratch, 'idp-metadata.xml')

  /** Creates a CLI user whose browser is the test stand-in, which logs each step to its own file. */
  function ssoUser(env: Record<string, string> = {}) {
    const browserLog = join(mkdtempSync(join(tmpdir(), 'flexpa-browser-')), 'steps.log')
    writeFileSync(browserLog, '')
    const user = cliUser(server.url, { FLEXPA_BROWSER: BROWSER, FLEXPA_TEST_BROWSER_LOG: browserLog, ...env })
    return { user, steps: () => readFileSync(browserLog, 'utf8') }
  }

  beforeAll(async () => {
    const port = await freePort()
    server = await startServer({ port, env: { PUBLIC_URL: `http://127.0.0.1:${port}` } })
    database = await openDatabase(server.databaseUrl)
    idpServer = await startIdpServer(idp, { email: 'grace@acme.test', name: 'Grace Hopper' })
    writeFileSync(metadataFile, idp.metadata())

    const signup = await signUpWithCli(server.url, 'admin@acme.test', { workspaceName: 'Acme' })
    admin = signup.user
    workspaceId = signup.signup.workspace.id
    await database.db
      .updateTable('users')
      .set({ email_verified_at: new Date().toISOString() })
      .where('email', '=', 'admin@acme.test')
      .execute()
  })
  afterAll(async () => {
    await idpServer?.close()
    await database?.close()
    await server?.stop()
  })

  it('shows the values for the identity provider', async () => {
    const result = await admin.run(['sso', 'show', '--json'])

    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.json().configured).toBe(false)
    expect(result.json().service_provider.acs_url).toBe(`${server.url}/v1/sso/${workspaceId}/acs`)
    expect(result.json().service_provider.entity_id).toBe(`${server.url}/v1/sso/${workspaceId}/metadata`)
  })

  it('lists each problem of a broken metadata file', async () => {
    const broken = join(scratch, 'broken.xml')
    writeFileSync(broken, idp.metadata({ ssoUrl: 'http://idp.example.test/sso', certificates: [] }))

    const result = await admin.run(['sso', 'configure', '--metadata', broken])

    expect(result.exitCode).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('Error: the identity provider metadata is not usable:\n')
    expect(result.stderr).toContain('  - the single sign-on URL http://idp.example.test/sso does not use HTTPS\n')
    expect(result.stderr).toContain('  - the IDPSSODescriptor has no signing certificate')
  })

  it('rejects a missing metadata file', async () => {
    const result = await admin.run(['sso', 'configure', '--metadata', join(scratch, 'nope.xml')])

    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('cannot read --metadata')
    expect(result.stderr).toContain('ENOENT')
  })

  it('configures SSO from the metadata file', async () => {
    const result = await admin.run(['sso', 'configure', '--metadata', metadataFile, '--domain', 'acme.test', '--json'])

    expect(result.exitCode).toBe(0)
    expect(result.stderr).toBe('')
    expect(result.json().identity_provider.sso_url).toBe(idpServer.url)
    expect(result.json().domains).toEqual(['acme.test'])
  })

  it('prints the configuration for people', async () => {
    const result = await admin.run(['sso', 'show'])

    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`ACS URL (single sign-on URL)        ${server.url}/v1/sso/${workspaceId}/acs`)
    expect(result.stdout).toContain(`Log in with                           flexpa login --sso ${workspaceId}`)
    expect(result.stdout).toContain('RSA 2048')
  })

  it('logs in through the identity provider', async () => {
    const { user, steps } = ssoUser()

    const login = await user.run(['login', '--sso', 'acme.test', '--json'])
    const whoami = await user.run(['whoami', '--json'])

    expect(login.exitCode).toBe(0)
    expect(login.json().user.email).toBe('grace@acme.test')
    expect(login.json().workspace.id).toBe(workspaceId)
    expect(login.json().auth_method).toBe('sso')
    expect(login.stderr).toContain(`${server.url}/v1/sso/start?workspace=${workspaceId}&redirect_uri=http%3A%2F%2F127.0.0.1%3A`)
    expect(steps()).toContain(`GET ${idpServer.url} 200`)
    expect(steps()).toContain(`POST ${server.url}/v1/sso/${workspaceId}/acs 303`)
    expect(steps()).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/callback 200/)
    expect(whoami.exitCode).toBe(0)
    expect(whoami.json().principal.auth_method).toBe('sso')
    expect(whoami.json().workspace.id).toBe(workspaceId)
    expect(whoami.json().role).toBe('member')
  })

  it('records the login in the audit log', async () => {
    const rows = await database.db
      .selectFrom('audit_events')
      .select(['action', 'actor_label'])
      .where('workspace_id', '=', workspaceId)
      .where('action', 'in', ['sso.configure', 'sso.member_join', 'sso.login'])
      .orderBy('created_at')
      .execute()

    expect(rows.map((row) => row.action)).toEqual(['sso.configure', 'sso.member_join', 'sso.login'])
    expect(rows[2].actor_label).toBe('grace@acme.test')
  })

  it.skipIf(chromiumMissing)('logs in through headless Chromium', async () => {
    const { user, steps } = ssoUser({ FLEXPA_BROWSER: CHROMIUM_BROWSER })

    const login = await user.run(['login', '--sso', 'acme.test', '--json'])

    expect(login.exitCode).toBe(0)
    expect(login.json().user.email).toBe('grace@acme.test')
    expect(steps()).toContain(`GET ${idpServer.url}`)
    expect(steps()).toContain(`POST ${server.url}/v1/sso/${workspaceId}/acs`)
    expect(steps()).toContain('landed on /callback: Logged in')
  })

  it('logs in when the browser command fails', async () => {
    const { user } = ssoUser({ FLEXPA_TEST_BROWSER_EXIT: '1' })

    const login = await user.run(['login', '--sso', workspaceId])

    expect(login.exitCode).toBe(0)
    expect(login.stdout).toBe('')
    expect(login.stderr).toContain('If it does not open, visit:')
    expect(login.stderr).toContain('Logged in to')
  })

  it('reports a login the server rejected', async () => {
    idpServer.user = { email: 'mallory@elsewhere.test' }
    const { user } = ssoUser()

    const login = await user.run(['login', '--sso', 'acme.test'])
    idpServer.user = { email: 'grace@acme.test', name: 'Grace Hopper' }

    expect(login.exitCode).toBe(3)
    expect(login.stdout).toBe('')
    expect(login.stderr).toContain('single sign-on failed: mallory@elsewhere.test is not a member of this workspace')
  })

  it('rejects an unknown domain', async () => {
    const { user } = ssoUser()

    const login = await user.run(['login', '--sso', 'nowhere.test'])

    expect(login.exitCode).toBe(5)
    expect(login.stderr).toContain('no workspace with single sign-on was found for "nowhere.test"')
  })

  it('rejects --sso with --email', async () => {
    const login = await admin.run(['login', '--sso', 'acme.test', '--email', 'admin@acme.test'])

    expect(login.exitCode).toBe(2)
    expect(login.stderr).toContain('--email')
  })

  it('rejects a member configuring SSO', async () => {
    const member = cliUser(server.url)
    await member.run(['signup', '--email', 'lin@acme.test', '--name', 'Lin', '--password-stdin'], { input: PASSWORD })
    const user = await database.db.selectFrom('users').select('id').where('email', '=', 'lin@acme.test').executeTakeFirstOrThrow()
    await database.db
      .insertInto('memberships')
      .values({ workspace_id: workspaceId, user_id: user.id, role: 'member', created_at: new Date().toISOString() })
      .execute()

    const result = await member.run(['sso', 'show', '--workspace', workspaceId])

    expect(result.exitCode).toBe(4)
    expect(result.stderr).toContain('sso:manage')
  })

  describe('with SSO enforced', () => {
    let member: CliUser

    beforeAll(async () => {
      const enforced = await admin.run(['sso', 'configure', '--enforce'])
      expect(enforced.exitCode).toBe(0)
      member = cliUser(server.url)
      await member.run(['login', '--email', 'lin@acme.test', '--password-stdin'], { input: PASSWORD })
    })

    it('sends a password member to SSO', async () => {
      const result = await member.run(['apps', 'list', '--workspace', workspaceId])

      expect(result.exitCode).toBe(3)
      expect(result.stdout).toBe('')
      expect(result.stderr).toContain(`this workspace requires single sign-on; log in with flexpa login --sso ${workspaceId}`)
    })

    it('keeps password access for the admin', async () => {
      const result = await admin.run(['apps', 'list', '--json'])

      expect(result.exitCode).toBe(0)
      expect(result.json()).toBeTruthy()
    })

    it('admits the member after an SSO login', async () => {
      idpServer.user = { email: 'lin@acme.test' }
      const { user } = ssoUser()

      const login = await user.run(['login', '--sso', 'acme.test'])
      const list = await user.run(['apps', 'list', '--json'])
      idpServer.user = { email: 'grace@acme.test', name: 'Grace Hopper' }

      expect(login.exitCode).toBe(0)
      expect(list.exitCode).toBe(0)
    })

    it('asks for confirmation before disabling', async () => {
      const result = await admin.run(['sso', 'disable'])

      expect(result.exitCode).toBe(2)
      expect(result.stderr).toContain('missing --confirm')
    })

    it('disables SSO and lets the member back in', async () => {
      const disabled = await admin.run(['sso', 'disable', '--confirm', 'Acme', '--json'])
      const list = await member.run(['apps', 'list', '--workspace', workspaceId, '--json'])

      expect(disabled.exitCode).toBe(0)
      expect(disabled.json().configured).toBe(false)
      expect(list.exitCode).toBe(0)
    })
  })
})
