import { Args, Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { confirmByTyping } from '../../input.js'
import { note } from '../../output.js'

export default class AppsDelete extends BaseCommand<typeof AppsDelete> {
  static override summary = 'Delete an application and all its keys'
  static override description =
    'Deletes an application; its keys stop working at once. Asks for the name to be typed back; --confirm <name> does that in scripts. Needs settings:manage, and api-keys-live:manage when it has live keys.'
  static override examples = ['<%= config.bin %> apps delete "Patient Portal"', '<%= config.bin %> apps delete "Patient Portal" --confirm "Patient Portal"']
  static override args = { app: Args.string({ description: 'Application id or name', required: true }) }
  static override flags = {
    ...workspaceFlag,
    confirm: Flags.string({ description: "The application's name, typed back to confirm", helpValue: '<name>' }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const path = this.workspacePath(`/apps/${encodeURIComponent(this.args.app)}`)
    const { body: application } = await client.request('GET', path)
    await confirmByTyping(application.name, this.flags.confirm, `delete ${application.name} and all its keys`)
    const { body } = await client.request('DELETE', this.workspacePath(`/apps/${application.id}`))
    await this.output(body, () => note(`Deleted application ${body.name} (${body.id}).`))
  }
}
