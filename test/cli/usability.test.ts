import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { openDatabase } from '../../server/db/index.js'
import { newSecret } from '../../shared/tokens.js'
import { cliUser, PASSWORD, runCli, signUpWithCli, type CliUser } from '../helpers/cli.js'
import { ROOT, startServer, type ServerProcess } from '../helpers/server.js'
import { expectFailure, expectJson, expectJsonFailure, storedToken } from './support.js'

/** Starts a TCP server that accepts connections and never responds. It counts the connections. */
async function startSilentServer(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = []
  const server: TcpServer = createTcpServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => sockets.length,
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Starts an HTTP server that responds to every request with 503 and Retry-After: 0. It counts the requests. */
async function startUnavailableServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0
  const server: HttpServer = createHttpServer((request, response) => {
    requests++
    request.resume()
    response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' })
    response.end(JSON.stringify({ error: { code: 'service_unavailable', message: 'the server is down for maintenance' } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** A well-formed session token that no server issued. */
const UNKNOWN_SESSION = newSecret('session')

/** What every file-store login writes on stderr. */
const NO_KEYCHAIN = /^Warning: no OS keychain is available/

describe('CLI usability', () => {
  let server: ServerProcess
  let user: CliUser
  let workspaceId: string

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    const signedUp = await signUpWithCli(server.url, 'usable@example.com', { workspaceName: 'Usable', name: 'Ada' })
    user = signedUp.user
    workspaceId = signedUp.signup.workspace.id
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
  })

  describe('usage errors', () => {
    /** Each case gives the start of the one-line message, as a regular expression. */
    const cases: { title: string; args: string[]; message: string }[] = [
      { title: 'a missing required flag', args: ['keys', 'rotate'], message: 'missing required flag --app$' },
      {
        title: 'flags that exclude each other',
        args: ['apps', 'update', 'X', '--clear-redirect-uris', '--redirect-uri', 'https://a.example/cb'],
        message: '--redirect-uri cannot be used with --clear-redirect-uris$',
      },
      { title: 'an integer out of range', args: ['audit', 'list', '--limit', '0'], message: '--limit: expected an integer greater than or equal to 1' },
      { title: 'a value that is not an integer', args: ['audit', 'list', '--limit', 'many'], message: '--limit: expected an integer' },
      { title: 'a missing argument', args: ['apps', 'show'], message: 'missing required argument: app$' },
      { title: 'an extra argument', args: ['apps', 'list', 'extra'], message: 'unexpected argument extra$' },
    ]

    for (const entry of cases) {
      it(`names ${entry.title}`, async () => {
        const result = await user.run(entry.args)
        expectFailure(result, 2, new RegExp(`^Error: ${entry.message}`, 'm'))
        expect(result.stderr.split('\n')[0]).toMatch(new RegExp(`^Error: ${entry.message}`))

        const json = await user.run([...entry.args, '--json'])
        const error = expectJsonFailure(json, 2, new RegExp(entry.message.replace(/\$$/, '')))
        expect(error.message).toMatch(new RegExp(`^${entry.message}`))
        expect(error.code).toBe('invalid_usage')
      })
    }

    it('rejects an unknown command in one line', async () => {
      const result = await user.run(['nonexistent'])

      expectFailure(result, 2, /^Error: unknown command "nonexistent"; see flexpa --help\n$/)
    })

    it('rejects an unknown command with a JSON error', async () => {
      const result = await user.run(['nonexistent', '--json'])

      const error = expectJsonFailure(result, 2, 'unknown command "nonexistent"')
      expect(error.code).toBe('invalid_usage')
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
    })

    it('names the topic of an unknown subcommand', async () => {
      const result = await user.run(['apps', 'frobnicate'])

      expectFailure(result, 2, /^Error: flexpa apps has no command "frobnicate"; see flexpa apps --help\n$/)
    })
  })

  describe('logging in again', () => {
    it('ends the previous session at a password login', async () => {
      const first = storedToken(user, server.url)

      const again = await user.run(['login', '--email', 'usable@example.com', '--password-stdin', '--json'], { input: PASSWORD })

      expectJson(again, NO_KEYCHAIN)
      const second = storedToken(user, server.url)
      expect(second).not.toBe(first)
      expectFailure(await user.run(['whoami'], { env: { FLEXPA_TOKEN: first } }), 3, /session has ended/)
      const sessions = expectJson(await user.run(['profile', 'sessions', '--json']))
      expect(sessions.data).toHaveLength(1)
      expect(sessions.data[0].current).toBe(true)
    })

    it('ends the previous session at a token login', async () => {
      const laptop = cliUser(server.url)
      expectJson(await laptop.run(['login', '--email', 'usable@example.com', '--password-stdin', '--json'], { input: PASSWORD }), NO_KEYCHAIN)
      const replacement = storedToken(laptop, server.url)
      const previous = storedToken(user, server.url)

      const result = await user.run(['login', '--with-token', '--json'], { input: replacement })

      expectJson(result, NO_KEYCHAIN)
      expect(storedToken(user, server.url)).toBe(replacement)
      expectFailure(await user.run(['whoami'], { env: { FLEXPA_TOKEN: previous } }), 3, /session has ended/)
      expectJson(await laptop.run(['whoami', '--json']))
    })

    it('logs in when the stored session already ended', async () => {
      const stale = cliUser(server.url)
      expectJson(await stale.run(['login', '--email', 'usable@example.com', '--password-stdin', '--json'], { input: PASSWORD }), NO_KEYCHAIN)
      const sessions = expectJson(await stale.run(['profile', 'sessions', '--json']))
      const own = sessions.data.find((row: { current: boolean }) => row.current)
      expectJson(await user.run(['profile', 'sessions', '--revoke', own.id, '--json']))

      const result = await stale.run(['login', '--email', 'usable@example.com', '--password-stdin'], { input: PASSWORD })

      expect(result.exitCode).toBe(0)
      expect(result.stderr).toMatch(new RegExp(`\nLogged in to ${server.url.replace(/\./g, '\\.')} as usable@example\\.com\\.\n$`))
      expect(result.stderr).not.toMatch(/Error/)
    })

    it('logs out when the current session is revoked', async () => {
      const phone = cliUser(server.url)
      expectJson(await phone.run(['login', '--email', 'usable@example.com', '--password-stdin', '--json'], { input: PASSWORD }), NO_KEYCHAIN)
      const sessions = expectJson(await phone.run(['profile', 'sessions', '--json']))
      const current = sessions.data.find((row: { current: boolean }) => row.current)

      const result = await phone.run(['profile', 'sessions', '--revoke', current.id])

      expect(result.exitCode).toBe(0)
      expect(result.stdout).toBe('')
      expect(result.stderr).toBe(
        `Session ${current.id} ended. It was this session, so you are logged out; run flexpa login to start a new one.\n`,
      )
      const stored = JSON.parse(readFileSync(join(phone.configDir, 'credentials.json'), 'utf8'))
      expect(stored[server.url]).toBeUndefined()
      expectFailure(await phone.run(['whoami']), 3, /you are not logged in/)
    })
  })

  describe('API URL', () => {
    it('rejects a FLEXPA_API_URL that is not a URL', async () => {
      const result = await user.run(['apps', 'list'], { env: { FLEXPA_API_URL: 'localhost-8787' } })

      expectFailure(result, 2, /^Error: FLEXPA_API_URL "localhost-8787" is not a URL\n/)
      const json = await user.run(['apps', 'list', '--json'], { env: { FLEXPA_API_URL: 'localhost-8787' } })
      expectJsonFailure(json, 2, 'FLEXPA_API_URL')
    })

    it('rejects a FLEXPA_API_URL ending in /v1', async () => {
      const result = await user.run(['apps', 'list'], { env: { FLEXPA_API_URL: `${server.url}/v1` } })

      expectFailure(result, 2, /^Error: FLEXPA_API_URL ".+\/v1" ends in \/v1, which the CLI adds to each request\n/)
      expect(result.stderr).toContain(`such as ${server.url}\n`)
    })

    it('rejects a FLEXPA_API_URL with a path', async () => {
      const result = await user.run(['apps', 'list'], { env: { FLEXPA_API_URL: `${server.url}/api/` } })

      expectFailure(result, 2, /^Error: FLEXPA_API_URL ".+\/api\/" has a path \(\/api\)\n/)
    })

    it('rejects a stored api_url that is not a URL', async () => {
      const other = cliUser(server.url)
      writeFileSync(join(other.configDir, 'config.json'), JSON.stringify({ api_url: 'not a url' }))

      const result = await runCli(['apps', 'list'], { env: { FLEXPA_CONFIG_DIR: other.configDir, FLEXPA_NO_KEYCHAIN: '1' } })

      expectFailure(result, 2, /^Error: api_url in .+config\.json "not a url" is not a URL\n/)
    })

    it('names the URL it looked for when logged in elsewhere', async () => {
      const result = await user.run(['apps', 'list'], { env: { FLEXPA_API_URL: 'http://127.0.0.1:9' } })

      expectFailure(result, 3, `you are not logged in to http://127.0.0.1:9; stored credentials are for ${server.url}`)
      expect(result.stderr).toContain('run flexpa login --api-url http://127.0.0.1:9 (or flexpa signup to create an account)')
    })
  })

  describe('retries', () => {
    const env = { FLEXPA_TOKEN: UNKNOWN_SESSION, FLEXPA_WORKSPACE: 'ws_AAAAAAAAAAAAAAAAAAAA', FLEXPA_TIMEOUT_MS: '500' }

    it('retries a GET to a silent server once', async () => {
      const silent = await startSilentServer()
      try {
        const result = await user.run(['apps', 'list', '--json'], { env: { ...env, FLEXPA_API_URL: silent.url } })

        expect(result.exitCode).toBe(7)
        expect(silent.connections()).toBe(2)
        const lines = result.stderr.trim().split('\n')
        expect(lines[0]).toMatch(/^GET \/v1\/workspaces\/ws_A+\/apps failed \(no answer within 0\.5 s\); retrying in [\d.]+ s \(attempt 2 of 2\)$/)
        expect(lines[1]).toMatch(/^Error: could not reach the Flexpa API at .+ \(no answer within 0\.5 s; gave up after 2 attempts in [\d.]+ s\)$/)
        expect(result.json().error.code).toBe('unreachable')
      } finally {
        await silent.close()
      }
    })

    it('sends a write to a silent server once', async () => {
      const silent = await startSilentServer()
      try {
        const result = await user.run(['apps', 'create', 'Never'], { env: { ...env, FLEXPA_API_URL: silent.url } })

        expectFailure(result, 7, /^Error: could not reach the Flexpa API at .+ \(no answer within 0\.5 s\)\n/)
        expect(silent.connections()).toBe(1)
        expect(result.stderr).not.toMatch(/retrying/)
      } finally {
        await silent.close()
      }
    })

    it('reports each retry of a 503 on stderr', async () => {
      const unavailable = await startUnavailableServer()
      try {
        const result = await user.run(['apps', 'list', '--json'], { env: { ...env, FLEXPA_API_URL: unavailable.url } })

        const error = expectJsonFailure(result, 7, /the server is down for maintenance \(request id unknown\) \(gave up after 4 attempts in [\d.]+ s\)/)
        expect(error.code).toBe('service_unavailable')
        expect(unavailable.requests()).toBe(4)
        const retries = result.stderr.split('\n').filter((line) => / failed \(status 503\); retrying in [\d.]+ s \(attempt \d of 4\)$/.test(line))
        expect(retries).toHaveLength(3)
      } finally {
        await unavailable.close()
      }
    })
  })

  describe('rejected tokens', () => {
    it('calls a malformed FLEXPA_TOKEN invalid', async () => {
      const result = await user.run(['whoami'], { env: { FLEXPA_TOKEN: 'garbage' } })

      expectFailure(result, 3, /^Error: FLEXPA_TOKEN is invalid: it is not a Flexpa session token \(fxs_…\) or workspace token \(fxw_…\)\n/)
      expect(result.stderr).toContain('unset FLEXPA_TOKEN')
      const json = expectJsonFailure(await user.run(['whoami', '--json'], { env: { FLEXPA_TOKEN: 'garbage' } }), 3, 'FLEXPA_TOKEN is invalid')
      expect(json.code).toMatch(/^(unauthenticated|session_expired)$/)
    })

    it('names FLEXPA_TOKEN when the server does not know it', async () => {
      const result = await user.run(['apps', 'list'], { env: { FLEXPA_TOKEN: UNKNOWN_SESSION } })

      expectFailure(result, 3, new RegExp(`^Error: FLEXPA_TOKEN was rejected by ${server.url.replace(/\./g, '\\.')}: `))
      expect(result.stderr).toContain('unset FLEXPA_TOKEN')
    })

    it('names the credentials file of a stored token that ended', async () => {
      const ended = cliUser(server.url)
      expectJson(await ended.run(['login', '--email', 'usable@example.com', '--password-stdin', '--json'], { input: PASSWORD }), NO_KEYCHAIN)
      const sessions = expectJson(await ended.run(['profile', 'sessions', '--json']))
      const own = sessions.data.find((row: { current: boolean }) => row.current)
      expectJson(await user.run(['profile', 'sessions', '--revoke', own.id, '--json']))

      const result = await ended.run(['apps', 'list'])

      const file = join(ended.configDir, 'credentials.json')
      expectFailure(result, 3, `the token stored in ${file} was rejected by ${server.url}`)
      expect(result.stderr).toContain(`run flexpa login --api-url ${server.url}`)
    })
  })

  describe('help', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    const topics = Object.entries(pkg.oclif.topics as Record<string, { description: string }>).filter(([name]) => !name.includes(':'))

    it('describes each topic in its own words', async () => {
      const result = await runCli(['--help'])

      expect(result.exitCode).toBe(0)
      expect(topics.length).toBeGreaterThanOrEqual(16)
      const section = result.stdout.slice(result.stdout.indexOf('TOPICS'), result.stdout.indexOf('COMMANDS'))
      for (const [name, topic] of topics) {
        expect(topic.description.length, name).toBeLessThanOrEqual(62)
        expect(section, name).toMatch(new RegExp(`^  ${name} +${topic.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
      }
    })

    it('shows a topic with flexpa help', async () => {
      const result = await runCli(['help', 'keys'])

      expect(result.exitCode).toBe(0)
      expect(result.stderr).toBe('')
      expect(result.stdout).toContain(pkg.oclif.topics.keys.description)
      expect(result.stdout).toMatch(/^ {2}keys rotate +Issue a new secret key/m)
    })

    it('rejects flexpa help of an unknown command', async () => {
      expectFailure(await runCli(['help', 'frobnicate']), 2, /^Error: unknown command or topic "frobnicate"; see flexpa --help\n$/)
    })

    it('shows the top-level help with -h', async () => {
      const result = await runCli(['-h'])

      expect(result.exitCode).toBe(0)
      expect(result.stdout).toMatch(/^TOPICS$/m)
    })

    it('prints the version', async () => {
      const text = await runCli(['version'])
      const json = await runCli(['version', '--json'])

      expect(text.exitCode).toBe(0)
      expect(text.stdout).toMatch(new RegExp(`^flexpa/${pkg.version.replace(/\./g, '\\.')} `))
      expect(json.json().version).toBe(pkg.version)
    })

    it('names the permission of keys expire', async () => {
      const result = await runCli(['keys', 'expire', '--help'])

      expect(result.stdout).toContain('api-keys-test:manage')
      expect(result.stdout).toContain('api-keys-live:manage')
    })

    it('suggests signup when not logged in', async () => {
      const result = await cliUser(server.url).run(['apps', 'list'])

      expectFailure(result, 3, `you are not logged in to ${server.url}`)
      expect(result.stderr).toContain('flexpa signup')
      expect(result.stderr).toContain(`flexpa login --api-url ${server.url}`)
    })
  })

  describe('output streams', () => {
    it('confirms apps create on stderr and prints the keys on stdout', async () => {
      const result = await user.run(['apps', 'create', 'Streams'])

      expect(result.exitCode).toBe(0)
      expect(result.stdout).toMatch(/^Publishable key \(test\): pk_test_\w+\nSecret key \(test\): +sk_test_\w+\n$/)
      expect(result.stderr).toMatch(/^Created application Streams \(app_\w+\)\.\n/)
    })

    it('labels the settings', async () => {
      const result = await user.run(['settings', 'show'])

      expect(result.exitCode).toBe(0)
      expect(result.stdout).toMatch(/^Name: +Usable$/m)
      expect(result.stdout).toMatch(new RegExp(`^Workspace id: +${workspaceId}$`, 'm'))
      expect(result.stdout).toMatch(/^Log retention: +\d+ days$/m)
      expect(result.stdout).not.toMatch(/^[a-z_]+ /m)
    })
  })

  describe('config files', () => {
    const fresh = () => {
      const other = cliUser(server.url)
      return { other, config: join(other.configDir, 'config.json'), credentials: join(other.configDir, 'credentials.json') }
    }

    it('rejects a config.json that is not JSON', async () => {
      const { other, config } = fresh()
      writeFileSync(config, '{"api_url": ')

      const result = await other.run(['apps', 'list'])

      expectFailure(result, 2, `${config} is corrupt (not JSON`)
      expect(result.stderr).toContain(`delete or fix ${config}`)
      expectJsonFailure(await other.run(['apps', 'list', '--json']), 2, 'is corrupt')
    })

    it('rejects a credentials.json that is not an object', async () => {
      const { other, credentials } = fresh()
      writeFileSync(credentials, '[1, 2]', { mode: 0o600 })

      expectFailure(await other.run(['apps', 'list']), 2, `${credentials} is corrupt (not a JSON object); delete or fix ${credentials}`)
    })

    it('rejects a token that is not a string', async () => {
      const { other, credentials } = fresh()
      writeFileSync(credentials, JSON.stringify({ [server.url]: 42 }), { mode: 0o600 })

      expectFailure(await other.run(['whoami']), 2, `${credentials} is corrupt (the token for ${server.url} is not a string)`)
    })

    it('warns about a credentials file others can read and tightens it', async () => {
      const { other, credentials } = fresh()
      expectJson(await other.run(['login', '--email', 'usable@example.com', '--password-stdin', '--json'], { input: PASSWORD }), NO_KEYCHAIN)
      chmodSync(credentials, 0o644)

      const shown = await other.run(['whoami', '--json'])

      expectJson(shown, `Warning: ${credentials} is readable by other users (mode 0644); run chmod 600 ${credentials} (flexpa sets 0600 the next time it writes the file)\n`)
      expectJson(await other.run(['logout', '--json']), /readable by other users/)
      expect(statSync(credentials).mode & 0o777).toBe(0o600)
    })
  })

  describe('terminal safety', () => {
    const hostile = 'Mallory\u001b[2J\u0007\u009b\u202eevil\u007f'

    beforeAll(async () => {
      const database = await openDatabase(server.databaseUrl)
      try {
        await database.db.updateTable('users').set({ display_name: hostile }).where('email', '=', 'usable@example.com').execute()
      } finally {
        await database.close()
      }
    })

    it('escapes control characters in a table', async () => {
      const result = await user.run(['team', 'list'])

      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain('Mallory\\x1b[2J\\x07\\x9b\\u202eevil\\x7f')
      expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/)
    })

    it('escapes control characters in labelled output', async () => {
      const result = await user.run(['profile', 'show'])

      expect(result.stdout).toMatch(/^Name: +Mallory\\x1b\[2J\\x07\\x9b\\u202eevil\\x7f$/m)
    })

    it('keeps the exact value under --json', async () => {
      const body = expectJson(await user.run(['profile', 'show', '--json']))

      expect(body.name).toBe(hostile)
    })

    it('escapes control characters in a server error', async () => {
      const result = await user.run(['apps', 'show', 'Gone\u001b[2J'])

      expectFailure(result, 5, /Gone\\x1b\[2J/)
      expect(result.stderr).not.toContain('\u001b')
      const json = expectJsonFailure(await user.run(['apps', 'show', 'Gone\u001b[2J', '--json']), 5, /not found/)
      expect(json.message).toContain('Gone\u001b[2J')
    })
  })
})
