import pino from 'pino'

import { createApp } from '../../server/app.js'
import { loadConfig, type Config } from '../../server/config.js'
import type { Services } from '../../server/context.js'
import { migrate, openDatabase } from '../../server/db/index.js'
import { databaseUrl, type DialectName } from './database.js'

export interface TestApp {
  app: ReturnType<typeof createApp>
  services: Services
  /** Sends a JSON request in-process and returns the status, parsed body and headers. */
  call(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{
    status: number
    body: any
    headers: Headers
  }>
  close(): Promise<void>
}

/** Creates the app in-process on a fresh database of the given dialect. */
export async function createTestApp(dialect: DialectName, env: Record<string, string> = {}): Promise<TestApp> {
  const database = await openDatabase(databaseUrl(dialect))
  await migrate(database.db)
  const config: Config = { ...loadConfig({ ...env, PORT: '0' }), databaseUrl: database.file ?? database.postgresUrl! }
  const services: Services = { config, database, logger: pino({ level: 'silent' }), notifyMail: () => {} }
  const app = createApp(services)
  return {
    app,
    services,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers }
      if (options.token) headers.authorization = `Bearer ${options.token}`
      let body: string | undefined
      if (options.body !== undefined) {
        body = JSON.stringify(options.body)
        headers['content-type'] ??= 'application/json'
      }
      const response = await app.request(path, { method, headers, body })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers }
    },
    close: () => database.close(),
  }
}

let counter = 0

/** Signs up a new user through the API; returns the session token, user and first workspace. */
export async function signUp(test: TestApp, overrides: { email?: string; name?: string; workspace_name?: string } = {}) {
  counter += 1
  const email = overrides.email ?? `user${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`
  const response = await test.call('POST', '/v1/auth/signup', {
    body: { email, name: overrides.name ?? `User ${counter}`, password: 'correct battery horse staple', ...overrides },
  })
  if (response.status !== 201) throw new Error(`sign-up failed: ${JSON.stringify(response.body)}`)
  return {
    token: response.body.session.token as string,
    user: response.body.user as { id: string; email: string },
    workspace: response.body.workspace as { id: string; name: string },
  }
}

/** Adds an existing user to a workspace through the data layer (for tests that predate invitations). */
export async function addMember(test: TestApp, workspaceId: string, userId: string, role: 'admin' | 'member' = 'member') {
  await test.services.database.db
    .insertInto('memberships')
    .values({ workspace_id: workspaceId, user_id: userId, role, created_at: new Date().toISOString() })
    .execute()
}
