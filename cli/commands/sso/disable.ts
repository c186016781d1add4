import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { confirmByTyping } from '../../input.js'
import { note } from '../../output.js'

export default class SsoDisable extends BaseCommand<typeof SsoDisable> {
  static override summary = 'Disconnect the workspace from its identity provider'
  static override description =
    "Removes the SSO configuration and its domains, which also ends enforcement: members log in with a password again, while people who joined through SSO have no password. Sessions already started stay valid. Asks for the workspace's name to be typed back; --confirm <name> does that in scripts. Needs sso:manage."
  static override examples = ['<%= config.bin %> sso disable', '<%= config.bin %> sso disable --workspace Acme --confirm Acme']
  static override flags = {
    ...workspaceFlag,
    confirm: Flags.string({ description: "The workspace's name, typed back to confirm", helpValue: '<name>' }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const { body: settings } = await client.request('GET', this.workspacePath('/sso'))
    const { workspace } = settings
    await confirmByTyping(workspace.name, this.flags.confirm, `disable single sign-on for ${workspace.name}`)
    await client.request('DELETE', `/v1/workspaces/${workspace.id}/sso`)
    await this.output({ workspace, configured: false }, () =>
      note(`Single sign-on is disabled for ${workspace.name} (${workspace.id}).`),
    )
  }
}
