import { BaseCommand, workspaceFlag } from '../base.js'
import { CliError } from '../errors.js'

export default class Whoami extends BaseCommand<typeof Whoami> {
  static override summary = 'Show who you are logged in as, in which workspace, with which permissions'
  static override description =
    'Shows the user, the selected workspace, your role and effective permissions there, and where the credential came from: keychain, file or env (FLEXPA_TOKEN).'
  static override examples = ['<%= config.bin %> whoami', '<%= config.bin %> whoami --workspace Acme --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const client = await this.client()
    const credential = (await this.credential())!
    const { body: me } = await client.request('GET', '/v1/me')
    let workspace = null
    try {
      const chosen = this.workspace()
      const { body } = await client.request('GET', `/v1/workspaces/${encodeURIComponent(chosen)}/me`)
      workspace = body
    } catch (error) {
      // A stale selection from `workspaces use` shows as none. A workspace named by --workspace
      // or FLEXPA_WORKSPACE that cannot be found is an error.
      const explicit = this.flags.workspace !== undefined || Boolean(process.env.FLEXPA_WORKSPACE)
      if (!(error instanceof CliError) || (error.exitCode !== 2 && error.exitCode !== 5) || (explicit && error.exitCode === 5)) {
        throw error
      }
    }
    const result = {
      user: me.user,
      principal: me.principal,
      workspace: workspace?.workspace ?? null,
      role: workspace?.role ?? null,
      permissions: workspace?.permissions ?? [],
      credential_source: credential.source,
      api_url: this.apiUrl,
    }
    await this.output(result, () => {
      const lines = [
        `User:        ${me.user.name} <${me.user.email}>${me.user.email_verified ? '' : ' (email not verified)'}`,
        me.principal.type === 'token' ? `Token:       ${me.principal.name} (${me.principal.id})` : null,
        `Workspace:   ${workspace ? `${workspace.workspace.name} (${workspace.workspace.id})` : 'none selected'}`,
        `Role:        ${workspace?.role ?? '-'}`,
        `Permissions: ${workspace ? workspace.permissions.join(', ') || 'none' : '-'}`,
        `Credential:  ${credential.source}`,
        `API:         ${this.apiUrl}`,
      ]
      this.log(lines.filter((line) => line !== null).join('\n'))
    })
  }
}
