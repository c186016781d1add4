import { Args } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { note } from '../../output.js'
import { updateSettings } from '../../settings.js'

export default class WorkspacesUse extends BaseCommand<typeof WorkspacesUse> {
  static override summary = 'Select the workspace that later commands act in'
  static override description = 'Checks that you belong to the workspace and remembers its id. FLEXPA_WORKSPACE and --workspace still take precedence.'
  static override examples = ['<%= config.bin %> workspaces use Acme', '<%= config.bin %> workspaces use ws_3kTq9d2LmPz8wXcV1bNr']
  static override args = { workspace: Args.string({ description: 'Workspace id or name', required: true }) }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', `/v1/workspaces/${encodeURIComponent(this.args.workspace)}/me`)
    await updateSettings({ workspace: body.workspace.id })
    await this.output({ workspace: body.workspace, role: body.role }, () =>
      note(`Now using workspace ${body.workspace.name} (${body.workspace.id}) as ${body.role}.`),
    )
  }
}
