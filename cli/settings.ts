import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

import { EXIT } from '../shared/errors.js'
import { CliError, usageError } from './errors.js'

export const DEFAULT_API_URL = 'http://127.0.0.1:8787'

/** Settings the CLI keeps between runs, in `<config dir>/config.json`. */
export interface Settings {
  api_url?: string
  workspace?: string
  /** Location of the session token: the OS keychain or the 0600 file beside this one. */
  credential_store?: 'keychain' | 'file'
}

/** Returns the config directory: FLEXPA_CONFIG_DIR, else `$XDG_CONFIG_HOME/flexpa`, else `~/.config/flexpa`. */
export function configDir(): string {
  if (process.env.FLEXPA_CONFIG_DIR) return process.env.FLEXPA_CONFIG_DIR
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return join(base, 'flexpa')
}

/** Fails with exit 2 naming a config file that is not the JSON object the CLI wrote. */
export function corruptFile(path: string, reason: string): CliError {
  return new CliError(`${path} is corrupt (${reason}); delete or fix ${path}`, EXIT.usage, { code: 'invalid_config' })
}

/**
 * Reads a JSON object from the config directory: null when the file does not exist, exit 2 when it
 * is not a JSON object.
 */
export async function readConfigFile(name: string): Promise<{ path: string; value: Record<string, unknown> | null }> {
  const path = join(configDir(), name)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, value: null }
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.usage, { code: 'invalid_config' })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw corruptFile(path, `not JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw corruptFile(path, 'not a JSON object')
  return { path, value: value as Record<string, unknown> }
}

export async function readSettings(): Promise<Settings> {
  const { path, value } = await readConfigFile('config.json')
  if (value === null) return {}
  for (const key of ['api_url', 'workspace', 'credential_store'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') throw corruptFile(path, `${key} is not a string`)
  }
  return value as Settings
}

/** Writes a file atomically with mode 0600, creating the config directory with mode 0700. */
export async function writePrivateFile(name: string, contents: string): Promise<string> {
  const dir = configDir()
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, name)
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, contents, { mode: 0o600 })
  await chmod(temporary, 0o600)
  await rename(temporary, path)
  return path
}

export async function updateSettings(changes: Partial<Settings>): Promise<Settings> {
  const next = { ...(await readSettings()), ...changes }
  for (const key of Object.keys(next) as (keyof Settings)[]) {
    if (next[key] === undefined) delete next[key]
  }
  await writePrivateFile('config.json', `${JSON.stringify(next, null, 2)}\n`)
  return next
}

/**
 * Checks an API URL: an http or https origin, optionally with a path prefix where a proxy serves
 * the API, never the `/v1` of the routes themselves. Returns it without trailing slashes; fails
 * with exit 2 naming `source` (a flag, a variable or a file).
 */
export function checkApiUrl(value: string, source: string): string {
  const trimmed = value.trim().replace(/\/+$/, '')
  const example = 'such as http://127.0.0.1:8787 or https://flexpa.example.com'
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    throw usageError(`${source} "${value}" is not a URL`, `set it to the server's base URL, ${example}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`${source} "${value}" is not an http or https URL`, `set it to the server's base URL, ${example}`)
  }
  if (url.search || url.hash || url.username || url.password) {
    throw usageError(`${source} "${value}" must not contain a query, a fragment or credentials`, `set it to the server's base URL, ${example}`)
  }
  if (url.pathname !== '/') {
    const reason = /\/v1$/.test(url.pathname) ? 'ends in /v1, which the CLI adds to each request' : `has a path (${url.pathname})`
    throw usageError(`${source} "${value}" ${reason}`, `set it to the server's base URL without a path, such as ${url.origin}`)
  }
  return trimmed
}

/** Returns the API URL in use: FLEXPA_API_URL, else the one stored at login, else the default. */
export function apiUrl(settings: Settings): string {
  if (process.env.FLEXPA_API_URL) return checkApiUrl(process.env.FLEXPA_API_URL, 'FLEXPA_API_URL')
  if (settings.api_url) return checkApiUrl(settings.api_url, `api_url in ${join(configDir(), 'config.json')}`)
  return DEFAULT_API_URL
}
