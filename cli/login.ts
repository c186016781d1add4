import createDebug from 'debug'

import { ApiClient } from './client.js'
import { loadStoredCredential, saveCredential } from './credentials.js'
import { note, warn } from './output.js'
import { readSettings, updateSettings } from './settings.js'

const debug = createDebug('flexpa:login')

interface LoginResult {
  user: { email: string; name: string }
  session: { token: string }
  workspaces?: { id: string; name: string }[]
  workspace?: { id: string; name: string }
}

/**
 * Ends the session stored for `apiUrl` on the server before a new token replaces it, so that a
 * second login leaves no forgotten session behind. Best effort: a session that already ended, an
 * unreachable server or a workspace token (revoked only with flexpa tokens revoke) is left alone.
 */
async function revokeStoredSession(apiUrl: string, newToken: string, userAgent: string): Promise<void> {
  const previous = await loadStoredCredential(await readSettings(), apiUrl)
  if (!previous || previous.token === newToken || !previous.token.startsWith('fxs_')) return
  try {
    await new ApiClient(apiUrl, previous.token, userAgent, { attempts: 1 }).request('POST', '/v1/auth/logout', { accept: [401] })
  } catch (error) {
    debug('revoking the previous session failed: %s', (error as Error).message)
  }
}

/**
 * Stores a new session token in place of the previous one (whose session it ends), remembers the
 * API URL, and selects a workspace when none is selected yet or the selected one is not the
 * user's. Returns where the token went.
 */
export async function rememberLogin(apiUrl: string, result: LoginResult, quiet: boolean, userAgent: string): Promise<'keychain' | 'file'> {
  await revokeStoredSession(apiUrl, result.session.token, userAgent)
  await updateSettings({ api_url: apiUrl })
  const saved = await saveCredential(apiUrl, result.session.token)
  if (saved.warning) warn(saved.warning)
  const settings = await readSettings()
  const workspaces = result.workspaces ?? (result.workspace ? [result.workspace] : [])
  const selected = workspaces.find((ws) => ws.id === settings.workspace)
  if (!selected && workspaces.length > 0) {
    await updateSettings({ workspace: workspaces[0].id })
    if (!quiet && workspaces.length > 1) {
      note(`Selected workspace ${workspaces[0].name} (${workspaces[0].id}); change it with flexpa workspaces use`)
    }
  }
  return saved.source
}
