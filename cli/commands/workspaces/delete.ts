import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { permissionDenied } from '../../errors.js'
import { confirmByTyping } from '../../input.js'
import { note } from '../../output.js'
import { updateSettings } from '../../settings.js'

export default class WorkspacesDelete extends BaseCommand<typeof WorkspacesDelete> {
  static override summary = 'Delete a workspace and everything in it'
  static override description =
    'Deletes the workspace with its members, applications, API keys and tokens; the keys stop working at once. The audit log is kept: its records are retained at least six years after the workspace is gone. Needs team:manage and a personal session, not a workspace token. Asks for the workspace name to be typed back; --confirm does the same in scripts.'
  static override examples = ['<%= config.bin %> workspaces delete --workspace Acme', '<%= config.bin %> workspaces delete --workspace Acme --confirm Acme --json']
  static override flags = {
    ...workspaceFlag,
    confirm: Flags.string({ description: "The workspace's name, typed back to confirm", helpValue: '<name>' }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const { body: current } = await client.request('GET', this.workspacePath('/me'))
    const { workspace } = current
    if (!current.permissions.includes('team:manage')) {
      throw permissionDenied('team:manage', `deleting a workspace requires the team:manage permission, which your role (${current.role}) does not have`)
    }
    await confirmByTyping(workspace.name, this.flags.confirm, `delete ${workspace.name} and everything in it`)

    const { body } = await client.request('DELETE', `/v1/workspaces/${workspace.id}`, { query: { confirm: workspace.name } })
    if (this.settings.workspace === workspace.id) await updateSettings({ workspace: undefined })
    await this.output(body, () => note(`Deleted workspace ${body.name} (${body.id}).`))
  }
}
