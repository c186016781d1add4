import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

import type { CliUser } from '../helpers/cli.js'
import { ROOT } from '../helpers/server.js'
import { basicAuth } from './helpers.js'

export interface RunningCli {
  child: ChildProcess
  stdoutLines(): string[]
  stderr(): string
  /** Waits until `predicate` holds for stdout's complete lines, or fails with both streams. */
  waitFor(predicate: (lines: string[]) => boolean, what: string, timeoutMs?: number): Promise<void>
  /** Waits until stderr contains `text`, or fails with both streams. */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Starts the real CLI for a long-running command such as `logs tail`, as `user`. */
export function startCli(user: CliUser, apiUrl: string, args: string[], extraEnv: Record<string, string> = {}): RunningCli {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    FLEXPA_CONFIG_DIR: user.configDir,
    FLEXPA_API_URL: apiUrl,
    FLEXPA_NO_KEYCHAIN: '1',
  }
  delete env.FLEXPA_TOKEN
  delete env.FLEXPA_WORKSPACE
  Object.assign(env, extraEnv)
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stdoutLines = () => stdout.split('\n').slice(0, -1)
  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    async waitFor(predicate, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(stdoutLines())) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`timed out waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async waitForStderr(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (!stderr.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`timed out waiting for "${text}" on stderr\nstdout:\n${stdout}\nstderr:\n${stderr}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Calls the ingestion API with the application's keys, as its backend would. */
export function backend(apiUrl: () => string, keys: { publishable_key: string; secret_key: string }) {
  const authorization = basicAuth(keys.publishable_key, keys.secret_key)
  const send = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${apiUrl()}${path}`, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const json = (await response.json()) as any
    if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`)
    return json
  }
  return {
    create: (body: Record<string, unknown>) => send('POST', '/v1/access-tokens', body),
    advance: (id: string, body: Record<string, unknown>) => send('PATCH', `/v1/access-tokens/${id}`, body),
  }
}
