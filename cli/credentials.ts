import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'

import createDebug from 'debug'

import { configDir, updateSettings, writePrivateFile, type Settings } from './settings.js'

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

async function readFileToken(apiUrl: string): Promise<string | null> {
  try {
    const stored = JSON.parse(await readFile(join(configDir(), FILE_NAME), 'utf8')) as Record<string, string>
    return stored[apiUrl] ?? null
  } catch {
    return null
  }
}

async function writeFileToken(apiUrl: string, token: string | null): Promise<string> {
  let stored: Record<string, string> = {}
  try {
    stored = JSON.parse(await readFile(join(configDir(), FILE_NAME), 'utf8')) as Record<string, string>
  } catch {
    stored = {}
  }
  if (token === null) delete stored[apiUrl]
  else stored[apiUrl] = token
  return writePrivateFile(FILE_NAME, `${JSON.stringify(stored, null, 2)}\n`)
}

/** Finds the token to send: FLEXPA_TOKEN, else the store the last login used. */
export async function loadCredential(settings: Settings, apiUrl: string): Promise<StoredCredential | null> {
  if (process.env.FLEXPA_TOKEN) return { token: process.env.FLEXPA_TOKEN.trim(), source: 'env' }
  if (settings.credential_store === 'keychain') {
    try {
      const token = await withKeychain((entry, signal) => entry.getPassword(signal), apiUrl)
      if (token) return { token, source: 'keychain' }
    } catch (error) {
      debug('keychain read failed: %s', (error as Error).message)
    }
  }
  const token = await readFileToken(apiUrl)
  return token ? { token, source: 'file' } : null
}

export interface SaveResult {
  source: 'keychain' | 'file'
  /** Why the keychain was not used, when the file was. */
  warning?: string
}

/** Stores a session token in the OS keychain, or in a 0600 file where no keychain answers. */
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
