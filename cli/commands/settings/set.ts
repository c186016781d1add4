import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { note } from '../../output.js'

export default class SettingsSet extends BaseCommand<typeof SettingsSet> {
  static override summary = "Change the workspace's settings"
  static override description = 'Changes settings of the selected workspace. Needs settings:manage.'
  static override examples = ["<%= config.bin %> settings set --name 'Acme Health'"]
  static override flags = {
    ...workspaceFlag,
    name: Flags.string({ description: 'New name of the workspace' }),
  }

  async run(): Promise<void> {
    const changes: Record<string, unknown> = {}
    if (this.flags.name !== undefined) changes.name = this.flags.name
    if (Object.keys(changes).length === 0) throw usageError('nothing to change: pass --name <name>')
    const { body } = await (await this.client()).request('PATCH', this.workspacePath(), { body: changes })
    await this.output(body, () => note(`Settings of ${body.name} (${body.id}) saved.`))
  }
}
