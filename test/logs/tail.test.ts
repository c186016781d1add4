import { afterAll, describe, expect, it } from 'vitest'

import { cliUser, PASSWORD, signUpWithCli } from '../helpers/cli.js'
import { dialects, postgresUrl } from '../helpers/database.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { SANDBOX_HUMANA } from './helpers.js'
import { backend, startCli } from './processes.js'

interface TailEvent {
  id: string
  state: string
  change_id: number
}

function parse(lines: string[]): TailEvent[] {
  return lines.map((line) => JSON.parse(line) as TailEvent)
}

/** Writes one row through its whole success path; returns the (id, state) pairs written, in order. */
async function successPath(api: ReturnType<typeof backend>): Promise<string[]> {
  const created = await api.create({ endpoint_id: SANDBOX_HUMANA, external_user_id: `user-${Math.random()}` })
  const written = [`${created.id} CREATED`]
  for (const state of ['AUTHORIZING', 'AUTHORIZED', 'EXCHANGED']) {
    await api.advance(created.id, { state })
    written.push(`${created.id} ${state}`)
  }
  return written
}

function expectExactly(events: TailEvent[], written: string[]): void {
  expect(events.map((event) => `${event.id} ${event.state}`)).toEqual(written)
  const changeIds = events.map((event) => event.change_id)
  expect(changeIds).toEqual([...changeIds].sort((a, b) => a - b))
  expect(new Set(changeIds).size).toBe(changeIds.length)
}

describe('logs tail on SQLite', () => {
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL')
  })

  it('prints every change once across a server restart', async () => {
    let server = await startServer({ dialect: 'sqlite' })
    servers.push(server)
    const port = Number(new URL(server.url).port)
    const { user } = await signUpWithCli(server.url, 'tail@example.com', { workspaceName: 'Tail' })
    const keys = (await user.run(['apps', 'create', 'Portal', '--json'])).json().keys
    const api = backend(() => server.url, keys)
    const tail = startCli(user, server.url, ['logs', 'tail', '--test', '--json'])
    await tail.waitForStderr('Tailing')

    const written = await successPath(api)
    await tail.waitFor((lines) => lines.length === written.length, 'the first row')
    await server.stop('SIGKILL')
    server = await startServer({ databaseUrl: server.databaseUrl, port })
    servers.push(server)
    // Written before the tail reconnects: it must find them by resuming after its last event.
    written.push(...(await successPath(api)))
    written.push(...(await successPath(api)))
    await tail.waitFor((lines) => lines.length >= written.length, 'the rows written after the restart')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const exitCode = await tail.stop('SIGINT')

    expectExactly(parse(tail.stdoutLines()), written)
    expect(tail.stderr()).toContain('reconnecting')
    expect(exitCode).toBe(0)
  })

  it('lets the server stop with a tail open', async () => {
    const server = await startServer({ dialect: 'sqlite' })
    servers.push(server)
    const { user } = await signUpWithCli(server.url, 'shutdown@example.com', { workspaceName: 'Shutdown' })
    const tail = startCli(user, server.url, ['logs', 'tail', '--json'])
    await tail.waitForStderr('Tailing')

    await server.stop('SIGTERM')
    await tail.waitForStderr('reconnecting')
    const exitCode = await tail.stop('SIGINT')

    expect(server.process.exitCode).toBe(0)
    expect(server.output()).toContain('server stopped')
    expect(exitCode).toBe(0)
  })

  it('stops cleanly on Ctrl-C with nothing on stdout', async () => {
    const server = await startServer({ dialect: 'sqlite' })
    servers.push(server)
    const { user } = await signUpWithCli(server.url, 'quiet@example.com', { workspaceName: 'Quiet' })
    const tail = startCli(user, server.url, ['logs', 'tail', '--json'])
    await tail.waitForStderr('Tailing')

    const exitCode = await tail.stop('SIGINT')

    expect(exitCode).toBe(0)
    expect(tail.stdoutLines()).toEqual([])
  })

  it('fails with exit 3 when not logged in', async () => {
    const server = await startServer({ dialect: 'sqlite' })
    servers.push(server)
    const stranger = cliUser(server.url)

    const result = await stranger.run(['logs', 'tail', '--workspace', 'Nowhere'])

    expect(result.exitCode).toBe(3)
    expect(result.stderr).toContain('not logged in')
  })
})

describe.skipIf(!(await dialects()).includes('postgres'))('logs tail on PostgreSQL with two servers', () => {
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const server of servers) await server.stop()
  })

  it('delivers rows posted to either server once, in order', async () => {
    const databaseUrl = postgresUrl()
    const first = await startServer({ databaseUrl })
    servers.push(first)
    const second = await startServer({ databaseUrl })
    servers.push(second)
    expect(first.url).not.toBe(second.url)
    const { user } = await signUpWithCli(first.url, 'scale@example.com', { workspaceName: 'Scale' })
    const secondUser = cliUser(second.url)
    const login = await secondUser.run(['login', '--email', 'scale@example.com', '--password-stdin'], { input: PASSWORD })
    expect(login.exitCode, login.stderr).toBe(0)
    await secondUser.run(['workspaces', 'use', 'Scale'])
    const keys = (await user.run(['apps', 'create', 'Portal', '--json'])).json().keys
    const viaFirst = backend(() => first.url, keys)
    const viaSecond = backend(() => second.url, keys)
    const tail = startCli(secondUser, second.url, ['logs', 'tail', '--test', '--json'])
    await tail.waitForStderr('Tailing')

    const written = [...(await successPath(viaFirst)), ...(await successPath(viaFirst))]
    await tail.waitFor((lines) => lines.length >= written.length, 'rows posted to the other server')
    const concurrent = await Promise.all([successPath(viaFirst), successPath(viaSecond), successPath(viaFirst)])
    const total = written.length + concurrent.flat().length
    await tail.waitFor((lines) => lines.length >= total, 'rows posted to both servers at once')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const exitCode = await tail.stop('SIGINT')

    const events = parse(tail.stdoutLines())
    expectExactly(events.slice(0, written.length), written)
    expect(events).toHaveLength(total)
    const changeIds = events.map((event) => event.change_id)
    expect(changeIds).toEqual([...changeIds].sort((a, b) => a - b))
    expect(new Set(changeIds).size).toBe(total)
    for (const path of concurrent) {
      // Each row's own changes arrive in the order they were written.
      const id = path[0].split(' ')[0]
      expect(events.filter((event) => event.id === id).map((event) => `${event.id} ${event.state}`)).toEqual(path)
    }
    expect(exitCode).toBe(0)
  })
})
