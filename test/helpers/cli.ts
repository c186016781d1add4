import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { ROOT } from './server.js'

export interface CliResult {
  stdout: string
  stderr: string
  exitCode: number | null
  /** stdout parsed as JSON; throws with both streams when it is not JSON. */
  json(): any
}

export interface CliUser {
  /** Runs the real `flexpa` binary with this user's config directory. */
  run(args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<CliResult>
  configDir: string
}

/** A CLI user with its own config directory, pointed at `apiUrl`, using the file credential store. */
export function cliUser(apiUrl: string, env: Record<string, string> = {}): CliUser {
  const configDir = mkdtempSync(join(tmpdir(), 'flexpa-cli-'))
  return {
    configDir,
    run: (args, options = {}) =>
      runCli(args, {
        input: options.input,
        env: { FLEXPA_CONFIG_DIR: configDir, FLEXPA_API_URL: apiUrl, FLEXPA_NO_KEYCHAIN: '1', ...env, ...options.env },
      }),
  }
}

export function runCli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env }
    delete env.FLEXPA_TOKEN
    delete env.FLEXPA_WORKSPACE
    if (options.env?.FLEXPA_TOKEN) env.FLEXPA_TOKEN = options.env.FLEXPA_TOKEN
    if (options.env?.FLEXPA_WORKSPACE) env.FLEXPA_WORKSPACE = options.env.FLEXPA_WORKSPACE
    const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (exitCode) =>
      resolve({
        stdout,
        stderr,
        exitCode,
        json() {
          try {
            return JSON.parse(stdout)
          } catch {
            throw new Error(`stdout is not JSON (exit ${exitCode}):\n${stdout}\nstderr:\n${stderr}`)
          }
        },
      }),
    )
    child.stdin.end(options.input ?? '')
  })
}

export const PASSWORD = 'correct battery horse staple'

/** Signs up through the CLI and returns the user's CLI handle and the sign-up JSON. */
export async function signUpWithCli(apiUrl: string, email: string, options: { workspaceName?: string; name?: string } = {}) {
  const user = cliUser(apiUrl)
  const args = ['signup', '--email', email, '--name', options.name ?? email.split('@')[0], '--password-stdin', '--json']
  if (options.workspaceName) args.push('--workspace-name', options.workspaceName)
  const result = await user.run(args, { input: PASSWORD })
  if (result.exitCode !== 0) throw new Error(`signup failed: ${result.stderr}`)
  return { user, signup: result.json() }
}
