import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { cliUser, PASSWORD, signUpWithCli, type CliUser } from '../helpers/cli.js'
import { startServer, type ServerProcess } from '../helpers/server.js'
import { expectFailure, expectJson, storedToken } from './support.js'

const run = promisify(execFile)
const EMAIL = 'keys@example.com'

/** Returns why the Secret Service cannot be tested here, or null when its programs are installed. */
async function keyringUnavailable(): Promise<string | null> {
  const missing: string[] = []
  for (const program of ['dbus-run-session', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool']) {
    try {
      await run('sh', ['-c', `command -v ${program}`])
    } catch {
      missing.push(program)
    }
  }
  return missing.length === 0 ? null : `not installed: ${missing.join(', ')} (Debian: dbus, gnome-keyring, libsecret-tools)`
}

const keyringReason = await keyringUnavailable()
if (keyringReason !== null && process.env.CI === 'true') throw new Error(keyringReason)
if (keyringReason !== null) console.warn(`skipping the Secret Service tests: ${keyringReason}`)

interface KeyringSession {
  /** Environment for processes that use this session's bus, home and runtime directories. */
  env: Record<string, string>
  daemonPid: number
  /** Pauses the keyring daemon, so that it owns the Secret Service name and never replies. */
  freeze(): void
  stop(): Promise<void>
}

/** Lists every file under `dir` whose contents include `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile() && readFileSync(path, 'utf8').includes(needle))
}

async function busCall(env: Record<string, string>, method: string, name: string): Promise<string> {
  const { stdout } = await run(
    'dbus-send',
    ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/', `org.freedesktop.DBus.${method}`, `string:${name}`],
    { env: { ...process.env, ...env } },
  )
  return stdout
}

/**
 * Starts a D-Bus session under dbus-run-session with gnome-keyring's Secret Service, unlocked with
 * an empty password, in a temporary home. The session lasts until `stop()` closes the shell's stdin.
 */
async function startKeyringSession(): Promise<KeyringSession> {
  const home = mkdtempSync(join(tmpdir(), 'flexpa-keyring-'))
  const runtime = join(home, 'run')
  mkdirSync(runtime, { mode: 0o700 })
  const base = {
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    DISPLAY: '',
  }
  const script = [
    'echo | gnome-keyring-daemon --unlock --components=secrets >/dev/null',
    'printf "%s\\n" "$DBUS_SESSION_BUS_ADDRESS"',
    'exec cat >/dev/null',
  ].join('\n')
  const child: ChildProcess = spawn('dbus-run-session', ['--', 'bash', '-c', script], {
    env: { ...process.env, ...base },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let errors = ''
  child.stderr!.on('data', (chunk) => (errors += chunk))
  const address = await new Promise<string>((resolve, reject) => {
    let output = ''
    child.stdout!.on('data', (chunk) => {
      output += chunk
      if (output.includes('\n')) resolve(output.trim())
    })
    child.once('exit', (code) => reject(new Error(`dbus-run-session exited with ${code}:\n${errors}`)))
  })
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: address }

  for (let attempt = 0; !(await busCall(env, 'NameHasOwner', 'org.freedesktop.secrets')).includes('true'); attempt++) {
    if (attempt === 50) throw new Error(`gnome-keyring-daemon did not take org.freedesktop.secrets:\n${errors}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const reply = await busCall(env, 'GetConnectionUnixProcessID', 'org.freedesktop.secrets')
  const daemonPid = Number(/uint32 (\d+)/.exec(reply)?.[1])
  // Signalling pid 0 or NaN would reach this test's own process group, so a bad reply stops here.
  if (!Number.isInteger(daemonPid) || daemonPid <= 1) throw new Error(`no process id for org.freedesktop.secrets in:\n${reply}`)

  return {
    env,
    daemonPid,
    freeze: () => process.kill(daemonPid, 'SIGSTOP'),
    async stop() {
      for (const signal of ['SIGCONT', 'SIGTERM'] as const) {
        try {
          process.kill(daemonPid, signal)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
        }
      }
      const closed = new Promise((resolve) => child.once('close', resolve))
      child.stdin!.end()
      await closed
    },
  }
}

async function secretToolLookup(session: KeyringSession, apiUrl: string): Promise<{ exitCode: number; secret: string }> {
  try {
    const { stdout } = await run('secret-tool', ['lookup', 'service', 'flexpa', 'username', apiUrl], {
      env: { ...process.env, ...session.env },
    })
    return { exitCode: 0, secret: stdout }
  } catch (error) {
    return { exitCode: (error as { code: number }).code, secret: '' }
  }
}

describe('credential store', () => {
  let server: ServerProcess

  beforeAll(async () => {
    server = await startServer({ dialect: 'sqlite' })
    await signUpWithCli(server.url, EMAIL, { workspaceName: 'Keys' })
  })
  afterAll(async () => {
    await server?.stop()
  })

  describe.skipIf(keyringReason !== null)('with the Secret Service', () => {
    let session: KeyringSession
    let user: CliUser

    beforeAll(async () => {
      session = await startKeyringSession()
      user = cliUser(server.url, { ...session.env, FLEXPA_NO_KEYCHAIN: '' })
    })
    afterAll(async () => {
      await session?.stop()
    })

    it('stores the token in the keychain only', async () => {
      const result = await user.run(['login', '--email', EMAIL, '--password-stdin', '--json'], { input: PASSWORD })

      const body = expectJson(result)
      expect(body.credential_source).toBe('keychain')
      const lookup = await secretToolLookup(session, server.url)
      expect(lookup.exitCode).toBe(0)
      expect(lookup.secret).toMatch(/^fxs_\w+$/)
      expect(filesContaining(user.configDir, lookup.secret)).toEqual([])
    })

    it('reads the token back from the keychain', async () => {
      const result = await user.run(['whoami', '--json'])

      const body = expectJson(result)
      expect(body.credential_source).toBe('keychain')
      expect(body.user.email).toBe(EMAIL)
      const text = await user.run(['whoami'])
      expect(text.stdout).toMatch(/^Credential: +keychain$/m)
    })

    it('prefers FLEXPA_TOKEN to the keychain', async () => {
      const { secret } = await secretToolLookup(session, server.url)

      const result = await user.run(['whoami', '--json'], { env: { FLEXPA_TOKEN: secret } })

      expect(expectJson(result).credential_source).toBe('env')
      expectFailure(await user.run(['whoami'], { env: { FLEXPA_TOKEN: 'fxs_not_a_real_token' } }), 3, /^Error: /)
    })

    it('removes the token from the keychain on logout', async () => {
      const result = await user.run(['logout', '--json'])

      expect(expectJson(result)).toEqual({ logged_out: true, session_revoked: true })
      expect((await secretToolLookup(session, server.url)).exitCode).not.toBe(0)
      expectFailure(await user.run(['whoami']), 3, /you are not logged in/)
    })
  })

  describe('file fallback', () => {
    const withoutBus = (home: string) => {
      const runtime = join(home, 'run')
      mkdirSync(runtime, { recursive: true, mode: 0o700 })
      return { FLEXPA_NO_KEYCHAIN: '', DBUS_SESSION_BUS_ADDRESS: '', DISPLAY: '', HOME: home, XDG_RUNTIME_DIR: runtime }
    }

    for (const [title, env] of [
      ['with FLEXPA_NO_KEYCHAIN=1', () => ({})],
      ['without a D-Bus session', () => withoutBus(mkdtempSync(join(tmpdir(), 'flexpa-nobus-')))],
    ] as const) {
      it(`stores the token in a 0600 file ${title}`, async () => {
        const user = cliUser(server.url, env())

        const result = await user.run(['login', '--email', EMAIL, '--password-stdin'], { input: PASSWORD })

        expect(result.exitCode).toBe(0)
        expect(result.stdout).toBe('')
        const lines = result.stderr.trim().split('\n')
        expect(lines).toHaveLength(2)
        expect(lines[0]).toMatch(/^Warning: no OS keychain is available \(.+\); the token is stored in .+ with mode 0600$/)
        expect(lines[1]).toBe(`Logged in to ${server.url} as ${EMAIL}.`)
        expect(statSync(join(user.configDir, 'credentials.json')).mode & 0o777).toBe(0o600)
        expect(statSync(join(user.configDir, 'config.json')).mode & 0o777).toBe(0o600)
        const whoami = expectJson(await user.run(['whoami', '--json']))
        expect(whoami.credential_source).toBe('file')
        expect(whoami.user.email).toBe(EMAIL)
      })
    }

    it('prefers FLEXPA_TOKEN to the file', async () => {
      const user = cliUser(server.url)
      expect((await user.run(['login', '--email', EMAIL, '--password-stdin'], { input: PASSWORD })).exitCode).toBe(0)
      const other = cliUser(server.url)
      expect((await other.run(['login', '--email', EMAIL, '--password-stdin'], { input: PASSWORD })).exitCode).toBe(0)
      const otherToken = storedToken(other, server.url)

      const result = await user.run(['whoami', '--json'], { env: { FLEXPA_TOKEN: otherToken } })

      const body = expectJson(result)
      expect(body.credential_source).toBe('env')
      expect(body.principal.id).not.toBe(expectJson(await user.run(['whoami', '--json'])).principal.id)
      expectFailure(await user.run(['whoami'], { env: { FLEXPA_TOKEN: 'fxs_not_a_real_token' } }), 3, /^Error: /)
    })

    it('keeps an env token at logout', async () => {
      const user = cliUser(server.url)
      expect((await user.run(['login', '--email', EMAIL, '--password-stdin'], { input: PASSWORD })).exitCode).toBe(0)
      const token = storedToken(user, server.url)

      const result = await user.run(['logout'], { env: { FLEXPA_TOKEN: token } })

      expectFailure(result, 2, /^Error: the token comes from FLEXPA_TOKEN; unset it to log out\n/)
      expect(storedToken(user, server.url)).toBe(token)
      expect(expectJson(await user.run(['whoami', '--json'])).credential_source).toBe('file')
    })

    it('rejects an empty token on stdin', async () => {
      const user = cliUser(server.url)

      const result = await user.run(['login', '--with-token'], { input: '\n' })

      expectFailure(result, 2, /^Error: no token on stdin\n/)
    })
  })

  describe.skipIf(keyringReason !== null)('with a keychain that does not answer', () => {
    let session: KeyringSession
    let before: CliUser

    beforeAll(async () => {
      session = await startKeyringSession()
      before = cliUser(server.url, { ...session.env, FLEXPA_NO_KEYCHAIN: '' })
      const login = await before.run(['login', '--email', EMAIL, '--password-stdin', '--json'], { input: PASSWORD })
      expect(expectJson(login).credential_source).toBe('keychain')
      session.freeze()
    })
    afterAll(async () => {
      await session?.stop()
    })

    it('falls back to the file at login', async () => {
      const user = cliUser(server.url, { ...session.env, FLEXPA_NO_KEYCHAIN: '' })

      const result = await user.run(['login', '--email', EMAIL, '--password-stdin', '--json'], { input: PASSWORD })

      const body = expectJson(result, /^Warning: no OS keychain is available \(.+\); the token is stored in .+ with mode 0600\n$/)
      expect(body.credential_source).toBe('file')
      expect(expectJson(await user.run(['whoami', '--json'])).credential_source).toBe('file')
    })

    it('gives up after the keychain timeout', async () => {
      const user = cliUser(server.url, { ...session.env, FLEXPA_NO_KEYCHAIN: '', FLEXPA_KEYCHAIN_TIMEOUT_MS: '300' })

      const result = await user.run(['login', '--email', EMAIL, '--password-stdin'], { input: PASSWORD })

      expect(result.exitCode).toBe(0)
      expect(result.stderr).toMatch(/^Warning: no OS keychain is available \(no answer within 300 ms\)/)
    })

    it('treats a stored token it cannot read as missing', async () => {
      const result = await before.run(['whoami'])

      expectFailure(result, 3, /you are not logged in/)
    })
  })
})
