import { Args, Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { note } from '../../output.js'

export default class AppsUpdate extends BaseCommand<typeof AppsUpdate> {
  static override summary = 'Rename an application or replace its redirect URIs'
  static override description =
    'Changes an application. The --redirect-uri values given replace the whole list; --clear-redirect-uris empties it. Needs settings:manage.'
  static override examples = [
    '<%= config.bin %> apps update "Patient Portal" --name "Member Portal"',
    '<%= config.bin %> apps update "Patient Portal" --redirect-uri https://portal.example.com/callback',
  ]
  static override args = { app: Args.string({ description: 'Application id or name', required: true }) }
  static override flags = {
    ...workspaceFlag,
    name: Flags.string({ description: 'New name, unique in the workspace' }),
    'redirect-uri': Flags.string({ description: 'Redirect URI (repeatable); the list given replaces the old one', multiple: true, helpValue: '<url>' }),
    'clear-redirect-uris': Flags.boolean({ description: 'Remove every redirect URI', default: false, exclusive: ['redirect-uri'] }),
  }

  async run(): Promise<void> {
    const changes: Record<string, unknown> = {}
    if (this.flags.name !== undefined) changes.name = this.flags.name
    if (this.flags['redirect-uri']) changes.redirect_uris = this.flags['redirect-uri']
    if (this.flags['clear-redirect-uris']) changes.redirect_uris = []
    if (Object.keys(changes).length === 0) {
      throw usageError('nothing to change: pass --name, --redirect-uri or --clear-redirect-uris')
    }
    const { body } = await (await this.client()).request('PATCH', this.workspacePath(`/apps/${encodeURIComponent(this.args.app)}`), {
      body: changes,
    })
    await this.output(body, () => note(`Updated application ${body.name} (${body.id}).`))
  }
}
