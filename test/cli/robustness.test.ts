import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cliUser, PASSWORD, signUpWithCli, type CliUser } from '../helpers/cli.js'
import { ROOT, startServer, type ServerProcess } from '../helpers/server.js'
import { expectFailure, expectJson, expectJsonFailure, storedToken } from './support.js'

const MANY_APPS = 400
const execFileAsync = promisify(execFile)
const hasScript = await execFileAsync('sh', ['-c', 'command -v script']).then(
  () => true,
  () => false,
)
if (!hasScript && process.env.CI === 'true') throw new Error('script(1) from util-linux is not installed')
if (!hasScript) console.warn('skipping the terminal tests: script(1) from util-linux is not installed')

/** Runs `flexpa <args> | head -1` in bash and returns the CLI's exit code and stderr, and head's output. */
function pipeIntoHead(user: CliUser, apiUrl: string, args: string[]): Promise<{ exitCode: number; stderr: string; firstLine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'node "$0" "$@" | head -1; exit "${PIPESTATUS[0]}"', join(ROOT, 'bin/run.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1', FLEXPA_CONFIG_DIR: user.configDir, FLEXPA_API_URL: apiUrl, FLEXPA_NO_KEYCHAIN: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (exitCode) => resolve({ exitCode: exitCode ?? -1, stderr, firstLine: stdout }))
  })
}

async function createApps(apiUrl: string, token: string, workspaceId: string, count: number): Promise<void> {
  const create = async (index: number) => {
    const response = await fetch(`${apiUrl}/v1/workspaces/${workspaceId}/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `Application ${index} with a name long enough to widen the table`,
        redirect_uris: [`https://app-${index}.example.com/oauth/callback/with/a/long/path`],
      }),
    })
    if (response.status !== 201) throw new Error(`creating application ${index} failed: ${await response.text()}`)
  }
  for (let start = 0; start < count; start += 20) {
    await Promise.all(Array.from({ length: Math.min(20, count - start) }, (_, offset) => create(start + offset)))
  }
}

describe('CLI robustness', () => {
  let server: ServerProcess
  let user: CliUser
  let workspaceId: string

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    const signed = await signUpWithCli(server.url, 'robust@example.com', { workspaceName: 'Robust' })
    user = signed.user
    workspaceId = signed.signup.workspace.id
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('ends quietly when piped into head', async () => {
    await createApps(server.url, storedToken(user, server.url), workspaceId, MANY_APPS)

    for (const args of [['apps', 'list'], ['apps', 'list', '--json']]) {
      const result = await pipeIntoHead(user, server.url, args)

      expect(result.exitCode).toBe(0)
      expect(result.stderr).toBe('')
      expect(result.firstLine.split('\n').filter(Boolean)).toHaveLength(1)
    }
  }, 240_000)

  describe('without a terminal', () => {
    const prompts: { title: string; args: string[]; input?: string; flag: string }[] = [
      { title: 'signup without an email', args: ['signup'], flag: '--email' },
      { title: 'signup without a name', args: ['signup', '--email', 'new@example.com'], flag: '--name' },
      { title: 'signup without a password', args: ['signup', '--email', 'new@example.com', '--name', 'New'], flag: '--password-stdin' },
      { title: 'login without an email', args: ['login'], flag: '--email' },
      { title: 'login without a password', args: ['login', '--email', 'robust@example.com'], flag: '--password-stdin' },
      { title: 'profile password without stdin', args: ['profile', 'password'], flag: '--password-stdin' },
      { title: 'apps delete without confirmation', args: ['apps', 'delete', 'Doomed'], flag: '--confirm' },
      { title: 'workspaces delete without confirmation', args: ['workspaces', 'delete'], flag: '--confirm' },
    ]

    beforeAll(async () => {
      expectJson(await user.run(['apps', 'create', 'Doomed', '--json']))
    })

    for (const prompt of prompts) {
      it(`rejects ${prompt.title}`, async () => {
        const result = await user.run(prompt.args, { input: prompt.input })

        expectFailure(result, 2, new RegExp(`^Error: missing ${prompt.flag}: .*stdin is not a terminal`))
        expect(result.stderr.trim().split('\n')).toHaveLength(1)
      })
    }

    it('keeps the application that was not confirmed', async () => {
      const shown = expectJson(await user.run(['apps', 'show', 'Doomed', '--json']))

      expect(shown.name).toBe('Doomed')
    })
  })

  describe('usage errors', () => {
    it('rejects an unknown flag', async () => {
      const result = await user.run(['apps', 'list', '--colour'])

      expectFailure(result, 2, /^Error: unknown flag --colour\nsee flexpa apps list --help\n$/)
    })

    it('rejects an unknown flag with a JSON error', async () => {
      const result = await user.run(['apps', 'list', '--colour', '--json'])

      const error = expectJsonFailure(result, 2, 'unknown flag --colour')
      expect(error.code).toBe('invalid_usage')
    })

    it('names a missing argument', async () => {
      expectFailure(await user.run(['apps', 'show']), 2, /^Error: missing required argument: app\n/)
    })

    it('names a missing required flag', async () => {
      expectFailure(await user.run(['keys', 'list']), 2, /^Error: missing required flag --app\n/)
    })

    it('rejects a flag without its value', async () => {
      expectFailure(await user.run(['keys', 'list', '--app']), 2, /^Error: Flag --app expects a value\n/)
    })

    it('rejects an empty argument', async () => {
      expectFailure(await user.run(['keys', 'expire', '']), 2, /^Error: argument key must not be empty\n/)
      expectFailure(await user.run(['keys', 'list', '--app', ' ']), 2, /^Error: --app must not be empty\n/)
    })

    it('rejects flags that exclude each other', async () => {
      const result = await user.run(['login', '--with-token', '--email', 'robust@example.com'])

      expectFailure(result, 2, /^Error: --email cannot be used with --with-token\n/)
    })
  })

  describe('workspace selection', () => {
    it('rejects an unknown --workspace in whoami', async () => {
      const result = await user.run(['whoami', '--workspace', 'Nowhere'])

      expectFailure(result, 5, /^Error: workspace "Nowhere" was not found\n/)
    })

    it('shows a stale selection as none', async () => {
      const configFile = join(user.configDir, 'config.json')
      const settings = JSON.parse(readFileSync(configFile, 'utf8'))
      writeFileSync(configFile, JSON.stringify({ ...settings, workspace: 'ws_AAAAAAAAAAAAAAAAAAAA' }))

      const result = await user.run(['whoami'])

      writeFileSync(configFile, JSON.stringify(settings))
      expect(result.exitCode).toBe(0)
      expect(result.stderr).toBe('')
      expect(result.stdout).toMatch(/^Workspace: +none selected$/m)
    })
  })

  describe('bad input', () => {
    const cases: { title: string; args: string[]; input?: string; message: RegExp }[] = [
      {
        title: 'an http redirect URI off localhost',
        args: ['apps', 'create', 'Plain', '--redirect-uri', 'http://portal.example.com/callback'],
        message: /"http:\/\/portal\.example\.com\/callback" must use https/,
      },
      {
        title: 'a redirect URI with a fragment',
        args: ['apps', 'update', 'Doomed', '--redirect-uri', 'https://portal.example.com/callback#top'],
        message: /"https:\/\/portal\.example\.com\/callback#top" must not contain a fragment/,
      },
      {
        title: 'a redirect URI that is not a URL',
        args: ['apps', 'create', 'Relative', '--redirect-uri', 'callback'],
        message: /"callback" is not an absolute URL/,
      },
      {
        title: 'a short password',
        args: ['signup', '--email', 'short@example.com', '--name', 'Short', '--password-stdin'],
        input: 'tiny pass',
        message: /password: must be at least 12 characters/,
      },
      {
        title: 'a common password',
        args: ['signup', '--email', 'common@example.com', '--name', 'Common', '--password-stdin'],
        input: 'password1234',
        message: /password: is too common/,
      },
      {
        title: 'a password change with one line',
        args: ['profile', 'password', '--password-stdin'],
        input: PASSWORD,
        message: /--password-stdin expects two lines on stdin/,
      },
      {
        title: 'a wrong current password',
        args: ['profile', 'password', '--password-stdin'],
        input: 'not the current password\nan entirely new passphrase\n',
        message: /current_password: is incorrect/,
      },
      {
        title: 'a duration without a unit',
        args: ['keys', 'rotate', '--app', 'Doomed', '--expire-old-in', '90'],
        message: /--expire-old-in "90" is not a duration/,
      },
      {
        title: 'a grace period over seven days',
        args: ['keys', 'rotate', '--app', 'Doomed', '--expire-old-in', '8d'],
        message: /--expire-old-in 8d is longer than the maximum of 7d/,
      },
    ]

    for (const entry of cases) {
      it(`rejects ${entry.title}`, async () => {
        const result = await user.run(entry.args, { input: entry.input })

        expectFailure(result, 2, entry.message)
        const json = await user.run([...entry.args, '--json'], { input: entry.input })
        expectJsonFailure(json, 2, entry.message)
      })
    }

    it('changes nothing after bad input', async () => {
      const apps = expectJson(await user.run(['apps', 'list', '--json']))

      const names = apps.data.map((app: { name: string }) => app.name)
      expect(names).toContain('Doomed')
      expect(names).not.toContain('Plain')
      expect(names).not.toContain('Relative')
      const doomed = apps.data.find((app: { name: string }) => app.name === 'Doomed')
      expect(doomed.redirect_uris).toEqual([])
    })
  })

  describe.skipIf(!hasScript)('at a terminal', () => {
    /**
     * Runs a shell command under script(1), so that the CLI's stdin, stdout and stderr start as a
     * terminal, and types `input` into it. CI is unset because the CLI never prompts under CI=true.
     */
    const underTerminal = (command: string, options: { input?: string; env?: Record<string, string> } = {}) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        FLEXPA_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'flexpa-tty-')),
        FLEXPA_NO_KEYCHAIN: '1',
        ...options.env,
      }
      delete env.NO_COLOR
      delete env.CI
      return new Promise<{ exitCode: number | null; output: string }>((resolve, reject) => {
        const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'] })
        let output = ''
        child.stdout.on('data', (chunk) => (output += chunk))
        child.on('error', reject)
        child.on('close', (exitCode) => resolve({ exitCode, output }))
        child.stdin.end(options.input ?? '')
      })
    }
    const flexpa = `node ${join(ROOT, 'bin/run.js')}`

    it('colours errors on a terminal', async () => {
      const { output } = await underTerminal(`${flexpa} apps list >/dev/null`)

      expect(output).toContain('\u001b[31mError:\u001b[0m you are not logged in')
    })

    it('keeps colour out of a redirected stderr', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'flexpa-stderr-')), 'stderr.txt')

      await underTerminal(`${flexpa} apps list 2>${file}`)

      expect(readFileSync(file, 'utf8')).toBe(
        'Error: you are not logged in to http://127.0.0.1:8787\n' +
          'run flexpa login --api-url http://127.0.0.1:8787 (or flexpa signup to create an account), or set FLEXPA_TOKEN\n',
      )
    })

    it('deletes once the name is typed back', async () => {
      expectJson(await user.run(['apps', 'create', 'Typed', '--json']))
      const env = { FLEXPA_CONFIG_DIR: user.configDir, FLEXPA_API_URL: server.url }

      const wrong = await underTerminal(`${flexpa} apps delete Typed`, { input: 'typo\r', env })

      expect(wrong.exitCode).toBe(2)
      expect(wrong.output).toContain('Type Typed to delete Typed and all its keys:')
      expect(wrong.output).toContain('"typo" does not match "Typed"; nothing was changed')
      expect(expectJson(await user.run(['apps', 'show', 'Typed', '--json'])).name).toBe('Typed')

      const typed = await underTerminal(`${flexpa} apps delete Typed`, { input: 'Typed\r', env })

      expect(typed.exitCode).toBe(0)
      expect(typed.output).toMatch(/Deleted application Typed \(app_\w+\)\./)
      expectFailure(await user.run(['apps', 'show', 'Typed']), 5, /not found/)
    })
  })

  it('reports an unreachable server in one line', async () => {
    const traveller = cliUser(server.url)
    const login = await traveller.run(['login', '--email', 'robust@example.com', '--password-stdin'], { input: PASSWORD })
    expect(login.exitCode).toBe(0)
    await server.stop()

    const result = await traveller.run(['apps', 'list'])

    const url = server.url.replace(/\./g, '\\.')
    expectFailure(result, 7, new RegExp(`^Error: could not reach the Flexpa API at ${url} \\(connection refused; gave up after 4 attempts in [\\d.]+ s\\)$`, 'm'))
    const retries = result.stderr.split('\n').filter((line) => line.includes('failed (connection refused); retrying in'))
    expect(retries).toHaveLength(3)
    expect(result.stderr.split('\n').filter((line) => line.includes(server.url))).toHaveLength(1)
    const json = await traveller.run(['apps', 'list', '--json'])
    expect(expectJsonFailure(json, 7, 'could not reach the Flexpa API').code).toBe('unreachable')
  })
})
