import { BaseCommand, workspaceFlag } from '../../base.js'
import { printSsoSettings } from '../../sso.js'

export default class SsoShow extends BaseCommand<typeof SsoShow> {
  static override summary = 'Show the values for the identity provider and the current SSO configuration'
  static override description =
    "Prints what to enter at your identity provider (entity id, assertion consumer service URL, metadata URL), then the identity provider, domains and enforcement this workspace has. Needs sso:manage."
  static override examples = ['<%= config.bin %> sso show', '<%= config.bin %> sso show --workspace Acme --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath('/sso'))
    await this.output(body, () => printSsoSettings((line) => this.log(line), body))
  }
}
