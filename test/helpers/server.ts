import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { databaseUrl, type DialectName } from './database.js'

export const ROOT = resolve(import.meta.dirname, '../..')

export interface ServerProcess {
  url: string
  databaseUrl: string
  process: ChildProcess
  /** Everything the server wrote on stdout and stderr (its JSON log lines). */
  output(): string
  stop(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Starts `bin/server.js` on a free port and waits until it listens. Pass `databaseUrl` to reuse a
 * database (a restart), or a dialect for a fresh one.
 */
export async function startServer(
  options: { dialect?: DialectName; databaseUrl?: string; env?: Record<string, string>; port?: number } = {},
): Promise<ServerProcess> {
  const url = options.databaseUrl ?? databaseUrl(options.dialect ?? 'sqlite')
  const child = spawn(process.execPath, [join(ROOT, 'bin/server.js')], {
    env: {
      ...process.env,
      PORT: String(options.port ?? 0),
      HOST: '127.0.0.1',
      DATABASE_URL: url,
      FLEXPA_DATA_DIR: mkdtempSync(join(tmpdir(), 'flexpa-data-')),
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const listening = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${output}`)), 20_000)
    const check = () => {
      const match = /Flexpa API listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolvePromise(match[1])
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${output}`))
    })
  })
  return {
    url: listening,
    databaseUrl: url,
    process: child,
    output: () => output,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolvePromise) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolvePromise()
        child.once('exit', () => resolvePromise())
        child.kill(signal)
      }),
  }
}
