import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cliUser, PASSWORD } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'

describe('first journey on SQLite', () => {
  let server: ServerProcess

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
  })
  afterAll(async () => {
    await server.stop()
  })

  it('signs up, creates an application and rotates its test key', async () => {
    const user = cliUser(server.url)

    const signup = await user.run(
      ['signup', '--email', ' Grace@Example.com ', '--name', 'Grace', '--workspace-name', 'Acme', '--password-stdin', '--json'],
      { input: PASSWORD },
    )
    expect(signup.exitCode).toBe(0)
    expect(signup.json().user.email).toBe('grace@example.com')
    expect(signup.stderr).toContain('0600')

    const created = await user.run(['apps', 'create', 'Portal', '--json'])
    expect(created.exitCode).toBe(0)
    const keys = created.json().keys
    expect(keys.publishable_key).toMatch(/^pk_test_/)
    expect(keys.secret_key).toMatch(/^sk_test_/)

    const rotated = await user.run(['keys', 'rotate', '--app', 'portal', '--expire-old-in', '1h', '--json'])
    expect(rotated.exitCode).toBe(0)
    expect(rotated.json().secret_key).not.toBe(keys.secret_key)
    expect(rotated.json().previous_secret.hint).toBe(`sk_test_…${keys.secret_key.slice(-4)}`)
  })
})
