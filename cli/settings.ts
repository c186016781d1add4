import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

export const DEFAULT_API_URL = 'http://127.0.0.1:8787'

/** What the CLI remembers between runs, in `<config dir>/config.json`. */
export interface Settings {
  api_url?: string
  workspace?: string
  /** Where the session token was stored: the OS keychain or the 0600 file beside this one. */
  credential_store?: 'keychain' | 'file'
}

/** Returns the config directory: FLEXPA_CONFIG_DIR, else `$XDG_CONFIG_HOME/flexpa`, else `~/.config/flexpa`. */
export function configDir(): string {
  if (process.env.FLEXPA_CONFIG_DIR) return process.env.FLEXPA_CONFIG_DIR
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return join(base, 'flexpa')
}

export async function readSettings(): Promise<Settings> {
  try {
    return JSON.parse(await readFile(join(configDir(), 'config.json'), 'utf8')) as Settings
  } catch {
    return {}
  }
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

export function apiUrl(settings: Settings): string {
  return (process.env.FLEXPA_API_URL || settings.api_url || DEFAULT_API_URL).replace(/\/+$/, '')
}
