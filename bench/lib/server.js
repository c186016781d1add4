// A local server with one account and a few applications, and a CLI config directory logged in
// to it with the file credential store.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ROOT = join(import.meta.dirname, '../..')
const PASSWORD = 'bench correct horse battery'

/** Starts bin/server.js on a free port with a temporary SQLite data directory. */
export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'flexpa-bench-data-'))
  const child = spawn(process.execPath, [join(ROOT, 'bin/server.js')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FLEXPA_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stderr.on('data', (chunk) => (output += chunk))
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 20 s:\n${output}`)), 20_000)
    child.stdout.on('data', (chunk) => {
      output += chunk
      const match = /Flexpa API listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited with ${code} before listening:\n${output}`))
    })
  })
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

async function call(url, method, path, body, token) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(url + path, { method, headers, body: JSON.stringify(body) })
  const json = await response.json()
  if (!response.ok) throw new Error(`${method} ${path} failed with ${response.status}: ${JSON.stringify(json)}`)
  return json
}

function runCli(args, env, input) {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/run.js'), ...args], { env, input, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`flexpa ${args.join(' ')} failed with ${result.status}:\n${result.stderr}`)
  return result.stdout
}

/**
 * Signs up through the API, creates `appCount` applications, and logs a fresh CLI config
 * directory in with the session token. Returns the environment to run `flexpa` with.
 */
export async function seedAccount(url, { appCount = 5 } = {}) {
  const signup = await call(url, 'POST', '/v1/auth/signup', {
    email: 'bench@example.com',
    name: 'Bench',
    password: PASSWORD,
    workspace_name: 'Bench',
  })
  const token = signup.session.token
  for (let i = 1; i <= appCount; i++) {
    await call(url, 'POST', `/v1/workspaces/${signup.workspace.id}/apps`, { name: `Bench app ${i}` }, token)
  }

  const configDir = mkdtempSync(join(tmpdir(), 'flexpa-bench-config-'))
  const env = { ...process.env, FLEXPA_CONFIG_DIR: configDir, FLEXPA_NO_KEYCHAIN: '1', NO_COLOR: '1' }
  delete env.FLEXPA_TOKEN
  delete env.FLEXPA_WORKSPACE
  delete env.FLEXPA_API_URL
  runCli(['login', '--with-token', '--api-url', url, '--json'], env, token)
  runCli(['workspaces', 'use', signup.workspace.id, '--json'], env)
  return { env, configDir, workspaceId: signup.workspace.id }
}
