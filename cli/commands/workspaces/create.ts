import { Args, Flags } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { note } from '../../output.js'
import { updateSettings } from '../../settings.js'

export default class WorkspacesCreate extends BaseCommand<typeof WorkspacesCreate> {
  static override summary = 'Create a workspace where you are admin'
  static override description = 'Creates a new workspace with you as its admin. Add --use to select it for later commands.'
  static override examples = ['<%= config.bin %> workspaces create Acme', '<%= config.bin %> workspaces create "Acme Staging" --use']
  static override args = { name: Args.string({ description: 'Name of the workspace', required: true }) }
  static override flags = { use: Flags.boolean({ description: 'Select the new workspace for later commands', default: false }) }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('POST', '/v1/workspaces', { body: { name: this.args.name } })
    if (this.flags.use) await updateSettings({ workspace: body.id })
    await this.output(body, () => {
      note(`Created workspace ${body.name} (${body.id}).`)
      if (!this.flags.use) note(`Select it with: flexpa workspaces use ${body.id}`)
    })
  }
}
