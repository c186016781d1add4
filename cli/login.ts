import { saveCredential } from './credentials.js'
import { note, warn } from './output.js'
import { readSettings, updateSettings } from './settings.js'

interface LoginResult {
  user: { email: string; name: string }
  session: { token: string }
  workspaces?: { id: string; name: string }[]
  workspace?: { id: string; name: string }
}

/**
 * Stores a new session token, remembers the API URL, and selects a workspace when none is
 * selected yet or the selected one is not the user's. Returns where the token went.
 */
export async function rememberLogin(apiUrl: string, result: LoginResult, quiet: boolean): Promise<'keychain' | 'file'> {
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
