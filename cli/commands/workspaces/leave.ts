import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { confirmByTyping } from '../../input.js'
import { note } from '../../output.js'
import { updateSettings } from '../../settings.js'

export default class WorkspacesLeave extends BaseCommand<typeof WorkspacesLeave> {
  static override summary = 'Leave a workspace'
  static override description =
    'Removes your membership and revokes the workspace tokens you created there. Any member may leave except the last admin, who must first make another member admin or delete the workspace. Asks for the workspace name to be typed back; --confirm does the same in scripts.'
  static override examples = ['<%= config.bin %> workspaces leave --workspace Acme', '<%= config.bin %> workspaces leave --workspace Acme --confirm Acme --json']
  static override flags = {
    ...workspaceFlag,
    confirm: Flags.string({ description: "The workspace's name, typed back to confirm", helpValue: '<name>' }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const { body: current } = await client.request('GET', this.workspacePath('/me'))
    const { workspace } = current
    await confirmByTyping(workspace.name, this.flags.confirm, `leave ${workspace.name}`)

    const { body } = await client.request('POST', `/v1/workspaces/${workspace.id}/leave`)
    if (this.settings.workspace === workspace.id) await updateSettings({ workspace: undefined })
    await this.output(body, () => {
      note(`You left ${workspace.name} (${workspace.id}).`)
      if (body.revoked_token_ids.length > 0) note(`Revoked your tokens there: ${body.revoked_token_ids.join(', ')}.`)
    })
  }
}
