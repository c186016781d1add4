import { stat } from 'node:fs/promises'
import { join } from 'node:path'

import createDebug from 'debug'

import { EXIT } from '../shared/errors.js'
import { CliError } from './errors.js'
import { warn } from './output.js'
import { configDir, corruptFile, readConfigFile, updateSettings, writePrivateFile, type Settings } from './settings.js'

const debug = createDebug('flexpa:credentials')

const SERVICE = 'flexpa'
const FILE_NAME = 'credentials.json'
/** A locked keyring can wait for a dialog nobody sees; after this long it counts as missing. */
const KEYCHAIN_TIMEOUT_MS = Number(process.env.FLEXPA_KEYCHAIN_TIMEOUT_MS) || 3000

export type CredentialSource = 'keychain' | 'file' | 'env'

export interface StoredCredential {
  token: string
  source: CredentialSource
}

/** Set when a keychain call timed out; its thread may keep the process alive, so the CLI exits explicitly. */
export let keychainTimedOut = false

class KeychainUnavailable extends Error {}

async function withKeychain<T>(use: (entry: import('@napi-rs/keyring').AsyncEntry, signal: AbortSignal) => Promise<T>, account: string): Promise<T> {
  if (process.env.FLEXPA_NO_KEYCHAIN === '1') throw new KeychainUnavailable('disabled by FLEXPA_NO_KEYCHAIN=1')
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      keychainTimedOut = true
      controller.abort()
      reject(new KeychainUnavailable(`no answer within ${KEYCHAIN_TIMEOUT_MS} ms`))
    }, KEYCHAIN_TIMEOUT_MS)
  })
  try {
    const { AsyncEntry } = await import('@napi-rs/keyring')
    const entry = new AsyncEntry(SERVICE, account)
    return await Promise.race([use(entry, controller.signal), timeout])
  } catch (error) {
    if (error instanceof KeychainUnavailable) throw error
    throw new KeychainUnavailable((error as Error).message)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Reads credentials.json, a map from API URL to token. Fails with exit 2 when it is not that, and
 * warns when group or others may read it (the next write tightens it to 0600).
 */
async function readTokenFile(): Promise<{ path: string; tokens: Record<string, string> }> {
  const { path, value } = await readConfigFile(FILE_NAME)
  if (value === null) return { path, tokens: {} }
  for (const [url, token] of Object.entries(value)) {
    if (typeof token !== 'string') throw corruptFile(path, `the token for ${url} is not a string`)
  }
  await warnIfReadableByOthers(path)
  return { path, tokens: value as Record<string, string> }
}

let permissionsWarned = false

async function warnIfReadableByOthers(path: string): Promise<void> {
  if (permissionsWarned || process.platform === 'win32') return
  const mode = (await stat(path)).mode & 0o777
  if ((mode & 0o077) === 0) return
  permissionsWarned = true
  warn(`${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path} (flexpa sets 0600 the next time it writes the file)`)
}

async function writeFileToken(apiUrl: string, token: string | null): Promise<string> {
  const { tokens } = await readTokenFile()
  if (token === null) delete tokens[apiUrl]
  else tokens[apiUrl] = token
  return writePrivateFile(FILE_NAME, `${JSON.stringify(tokens, null, 2)}\n`)
}

/** Finds the token to send: FLEXPA_TOKEN, else the one stored for `apiUrl`. */
export async function loadCredential(settings: Settings, apiUrl: string): Promise<StoredCredential | null> {
  if (process.env.FLEXPA_TOKEN) return { token: process.env.FLEXPA_TOKEN.trim(), source: 'env' }
  return loadStoredCredential(settings, apiUrl)
}

/** Finds the token stored for `apiUrl` by the last login, ignoring FLEXPA_TOKEN: the keychain, else the file. */
export async function loadStoredCredential(settings: Settings, apiUrl: string): Promise<StoredCredential | null> {
  if (settings.credential_store === 'keychain') {
    try {
      const token = await withKeychain((entry, signal) => entry.getPassword(signal), apiUrl)
      if (token) return { token, source: 'keychain' }
    } catch (error) {
      debug('keychain read failed: %s', (error as Error).message)
    }
  }
  const token = (await readTokenFile()).tokens[apiUrl]
  return token ? { token, source: 'file' } : null
}

/**
 * Builds the exit-3 error for a command run without a credential for `apiUrl`. When the credentials
 * file contains tokens for other API URLs, it names them, since a different FLEXPA_API_URL is the
 * likely cause. NOTE: tokens in the OS keychain are not listed, because it is read by API URL only.
 */
export async function notLoggedIn(apiUrl: string): Promise<CliError> {
  const others = Object.keys((await readTokenFile().catch(() => ({ tokens: {} }))).tokens).filter((url) => url !== apiUrl)
  const message = others.length > 0
    ? `you are not logged in to ${apiUrl}; stored credentials are for ${others.join(', ')}`
    : `you are not logged in to ${apiUrl}`
  return new CliError(message, EXIT.auth, {
    code: 'unauthenticated',
    hint: `run flexpa login --api-url ${apiUrl} (or flexpa signup to create an account), or set FLEXPA_TOKEN`,
  })
}

/**
 * Rewords the server's 401 to a token the CLI sent. The message states whether the token is
 * malformed or was rejected, where it came from, and how to replace it.
 */
export async function describeRejectedToken(credential: StoredCredential, apiUrl: string, error: CliError): Promise<CliError> {
  const { checkSecret } = await import('../shared/tokens.js')
  const kind = checkSecret(credential.token)
  const store = credential.source === 'keychain' ? 'the OS keychain' : join(configDir(), FILE_NAME)
  const source = credential.source === 'env' ? 'FLEXPA_TOKEN' : `the token stored in ${store}`
  const problem =
    kind === 'session' || kind === 'workspace_token'
      ? `was rejected by ${apiUrl}: ${error.message}`
      : 'is invalid: it is not a Flexpa session token (fxs_…) or workspace token (fxw_…)'
  const hint =
    credential.source === 'env'
      ? 'unset FLEXPA_TOKEN to use the login stored by flexpa login, or set it to a valid token'
      : `run flexpa login --api-url ${apiUrl}`
  return new CliError(`${source} ${problem}`, EXIT.auth, { ...error.details, code: error.details.code, hint })
}

export interface SaveResult {
  source: 'keychain' | 'file'
  /** Reason the keychain was not used, when the file was. */
  warning?: string
}

/** Stores a session token in the OS keychain, or in a 0600 file where no keychain responds. */
export async function saveCredential(apiUrl: string, token: string): Promise<SaveResult> {
  try {
    await withKeychain((entry, signal) => entry.setPassword(token, signal), apiUrl)
    await writeFileToken(apiUrl, null).catch(() => undefined)
    await updateSettings({ credential_store: 'keychain' })
    return { source: 'keychain' }
  } catch (error) {
    const path = await writeFileToken(apiUrl, token)
    await updateSettings({ credential_store: 'file' })
    return {
      source: 'file',
      warning: `no OS keychain is available (${(error as Error).message}); the token is stored in ${path} with mode 0600`,
    }
  }
}

/** Removes the token from both stores. */
export async function deleteCredential(settings: Settings, apiUrl: string): Promise<void> {
  if (settings.credential_store === 'keychain') {
    await withKeychain((entry, signal) => entry.deletePassword(signal), apiUrl).catch((error) =>
      debug('keychain delete failed: %s', (error as Error).message),
    )
  }
  await writeFileToken(apiUrl, null)
}
