import { existsSync, openSync, readSync, closeSync } from 'node:fs'

import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'

import { openDatabase } from '../../server/db/index.js'
import { startServer, type ServerProcess } from '../helpers/server.js'

const PASSWORD = 'granite harbor evening tide'

async function call(server: ServerProcess, method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null }
}

/** Kills the server with SIGKILL, so nothing is flushed or closed on the way out. */
async function crash(server: ServerProcess): Promise<void> {
  await server.stop('SIGKILL')
  expect(server.process.signalCode).toBe('SIGKILL')
}

/** Bytes 18 and 19 of a SQLite file are 2 when the database is in WAL mode. */
function fileUsesWal(file: string): boolean {
  const header = Buffer.alloc(20)
  const fd = openSync(file, 'r')
  try {
    readSync(fd, header, 0, 20, 0)
  } finally {
    closeSync(fd)
  }
  return header[18] === 2 && header[19] === 2
}

describe('durability on SQLite', () => {
  const running: ServerProcess[] = []

  afterEach(async () => {
    for (const server of running.splice(0)) await server.stop('SIGKILL')
  })

  it('keeps acknowledged writes across kill -9', async () => {
    const first = await startServer({ dialect: 'sqlite' })
    running.push(first)
    const file = first.databaseUrl.slice('sqlite:'.length)
    const signup = await call(first, 'POST', '/v1/auth/signup', {
      email: 'durable@example.com',
      name: 'Durable',
      password: PASSWORD,
      workspace_name: 'Durable Lab',
    })
    const token = signup.body.session.token
    const workspace = signup.body.workspace.id
    const created = await call(first, 'POST', `/v1/workspaces/${workspace}/apps`, { name: 'Survivor' }, token)
    const rotated = await call(first, 'POST', `/v1/workspaces/${workspace}/apps/${created.body.id}/keys/test/rotate`, {}, token)
    const log = first.output()
    await crash(first)

    const second = await startServer({ databaseUrl: first.databaseUrl })
    running.push(second)
    const apps = await call(second, 'GET', `/v1/workspaces/${workspace}/apps`, undefined, token)
    const keys = await call(second, 'GET', `/v1/workspaces/${workspace}/apps/${created.body.id}/keys`, undefined, token)

    expect(signup.status).toBe(201)
    expect(created.status).toBe(201)
    expect(rotated.status).toBe(200)
    expect(existsSync(file)).toBe(true)
    expect(apps.status).toBe(200)
    expect(apps.body.data.map((app: { name: string }) => app.name)).toEqual(['Survivor'])
    const active = keys.body.data.filter((key: { type: string; status: string }) => key.type === 'secret' && key.status === 'active')
    expect(active.map((key: { id: string }) => key.id)).toEqual([rotated.body.secret_key_id])
    expect(log).toContain('"request_id"')
    for (const secret of [PASSWORD, token, created.body.keys.secret_key, rotated.body.secret_key]) expect(log).not.toContain(secret)
  })

  it('keeps a write acknowledged just before the crash', async () => {
    const first = await startServer({ dialect: 'sqlite' })
    running.push(first)
    const signup = await call(first, 'POST', '/v1/auth/signup', { email: 'last@example.com', name: 'Last', password: PASSWORD })
    const token = signup.body.session.token
    const workspace = signup.body.workspace.id

    const renamed = await call(first, 'PATCH', `/v1/workspaces/${workspace}`, { name: 'Renamed Before Crash' }, token)
    first.process.kill('SIGKILL')
    await crash(first)
    const second = await startServer({ databaseUrl: first.databaseUrl })
    running.push(second)
    const shown = await call(second, 'GET', `/v1/workspaces/${workspace}`, undefined, token)

    expect(renamed.status).toBe(200)
    expect(shown.body.name).toBe('Renamed Before Crash')
  })

  it('runs the server database in WAL mode with full sync', async () => {
    const server = await startServer({ dialect: 'sqlite' })
    running.push(server)
    const file = server.databaseUrl.slice('sqlite:'.length)
    await call(server, 'GET', '/health')

    expect(fileUsesWal(file)).toBe(true)
    expect(existsSync(`${file}-wal`)).toBe(true)
    const database = await openDatabase(server.databaseUrl)
    try {
      const pragma = async (name: string) => Object.values((await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(database.db)).rows[0])[0]

      expect(await pragma('journal_mode')).toBe('wal')
      expect(await pragma('synchronous')).toBe(2)
      expect(await pragma('foreign_keys')).toBe(1)
      expect(await pragma('busy_timeout')).toBe(5000)
    } finally {
      await database.close()
    }
  })
})
