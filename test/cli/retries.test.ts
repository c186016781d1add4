import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { expectFailure, expectJson, storedToken } from './support.js'

interface DroppingProxy {
  url: string
  /** Requests that reached the server, as "METHOD path idempotency-key". */
  forwarded: string[]
  /** Makes the next request whose path matches be processed by the server, then cut before the response. */
  dropNextResponse(path: RegExp): void
  close(): Promise<void>
}

/**
 * Starts an HTTP proxy in front of `target` that can lose a response: the server handles the
 * request, but the client sees its connection reset, as after a network failure.
 */
async function startDroppingProxy(target: string): Promise<DroppingProxy> {
  const upstream = new URL(target)
  const forwarded: string[] = []
  let dropping: RegExp | null = null

  const server: Server = createServer((incoming, outgoing) => {
    const drop = dropping !== null && dropping.test(incoming.url ?? '')
    if (drop) dropping = null
    forwarded.push(`${incoming.method} ${incoming.url} ${incoming.headers['idempotency-key'] ?? '-'}`)
    const proxied = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        if (drop) {
          response.resume()
          response.on('end', () => incoming.socket.destroy())
          return
        }
        outgoing.writeHead(response.statusCode ?? 502, response.headers)
        response.pipe(outgoing)
      },
    )
    proxied.on('error', () => incoming.socket.destroy())
    incoming.pipe(proxied)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    dropNextResponse: (path) => (dropping = path),
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

describe('retries and idempotency through the CLI', () => {
  let server: ServerProcess
  let proxy: DroppingProxy
  let user: CliUser

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    proxy = await startDroppingProxy(server.url)
    user = (await signUpWithCli(server.url, 'retry@example.com', { workspaceName: 'Retry' })).user
    expectJson(await user.run(['apps', 'create', 'Pipeline', '--json']))
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.stop()
  })

  /** Runs a command through the proxy. Tokens are stored per API URL, so the stored one is passed in FLEXPA_TOKEN. */
  const throughProxy = (args: string[]) =>
    user.run(args, { env: { FLEXPA_API_URL: proxy.url, FLEXPA_TOKEN: storedToken(user, server.url) } })

  it('retries a lost rotation without rotating twice', async () => {
    const before = proxy.forwarded.length
    proxy.dropNextResponse(/\/keys\/test\/rotate$/)

    const result = await throughProxy(['keys', 'rotate', '--app', 'Pipeline', '--json'])

    const body = expectJson(result, /^POST \/v1\/workspaces\/\S+\/keys\/test\/rotate failed \(connection reset\); retrying in [\d.]+ s \(attempt 2 of 4\)\n$/)
    const attempts = proxy.forwarded.slice(before).filter((line) => line.includes('/keys/test/rotate'))
    expect(attempts).toHaveLength(2)
    const keys = attempts.map((line) => line.split(' ')[2])
    expect(keys[0]).not.toBe('-')
    expect(keys[1]).toBe(keys[0])
    const listed = expectJson(await user.run(['keys', 'list', '--app', 'Pipeline', '--json']))
    const secrets = listed.data.filter((key: { type: string }) => key.type === 'secret')
    expect(secrets).toHaveLength(2)
    const active = secrets.filter((key: { status: string }) => key.status === 'active')
    expect(active.map((key: { id: string }) => key.id)).toEqual([body.secret_key_id])
    expect(active[0].secret_key_hint.endsWith(body.secret_key.slice(-4))).toBe(true)
  })

  it('retries a lost creation without creating twice', async () => {
    proxy.dropNextResponse(/\/apps$/)

    const result = await throughProxy(['apps', 'create', 'Mobile', '--json'])

    const body = expectJson(result, /^POST \/v1\/workspaces\/\S+\/apps failed \(connection reset\); retrying in [\d.]+ s \(attempt 2 of 4\)\n$/)
    const listed = expectJson(await user.run(['apps', 'list', '--json']))
    expect(listed.data.filter((app: { name: string }) => app.name === 'Mobile').map((app: { id: string }) => app.id)).toEqual([body.id])
  })

  it('replays a rotation sent with the same idempotency key', async () => {
    const args = ['keys', 'rotate', '--app', 'Pipeline', '--idempotency-key', 'pipeline-42-rotate', '--json']

    const first = expectJson(await user.run(args))
    const second = expectJson(await user.run(args))

    expect(second.secret_key).toBe(first.secret_key)
    expect(second.secret_key_id).toBe(first.secret_key_id)
    const listed = expectJson(await user.run(['keys', 'list', '--app', 'Pipeline', '--json']))
    expect(listed.data.filter((key: { type: string }) => key.type === 'secret')).toHaveLength(3)
  })

  it('keeps two valid secrets after concurrent rotations', async () => {
    const args = ['keys', 'rotate', '--app', 'Pipeline', '--expire-old-in', '1h', '--json']

    const results = await Promise.all([user.run(args), user.run(args)])

    const [first, second] = results.map((result) => expectJson(result))
    expect(first.secret_key_id).not.toBe(second.secret_key_id)
    const [earlier, later] = second.previous_secret?.id === first.secret_key_id ? [first, second] : [second, first]
    expect(later.previous_secret.id).toBe(earlier.secret_key_id)
    expect(later.ended_secrets.map((ended: { id: string }) => ended.id)).toContain(earlier.previous_secret.id)
    const listed = expectJson(await user.run(['keys', 'list', '--app', 'Pipeline', '--json']))
    const valid = listed.data.filter((key: { type: string; status: string }) => key.type === 'secret' && key.status !== 'expired')
    expect(valid.map((key: { id: string; status: string }) => [key.id, key.status]).sort()).toEqual(
      [[earlier.secret_key_id, 'expiring'], [later.secret_key_id, 'active']].sort(),
    )
  })

  it('rejects an idempotency key reused with other parameters', async () => {
    const result = await user.run(['keys', 'rotate', '--app', 'Pipeline', '--idempotency-key', 'pipeline-42-rotate', '--expire-old-in', '1h'])

    expectFailure(result, 6, /^Error: this Idempotency-Key was already used with other parameters; use a new key\n/)
  })
})
