import { Args } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'

export default class AppsShow extends BaseCommand<typeof AppsShow> {
  static override summary = 'Show an application'
  static override description = 'Shows an application by id or name. Needs settings:read.'
  static override examples = ['<%= config.bin %> apps show "Patient Portal"', '<%= config.bin %> apps show app_3kTq9d2LmPz8wXcV1bNr --json']
  static override args = { app: Args.string({ description: 'Application id or name', required: true }) }
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath(`/apps/${encodeURIComponent(this.args.app)}`))
    await this.output(body, () =>
      this.log(
        [
          `ID:             ${body.id}`,
          `Name:           ${body.name}`,
          `Redirect URIs:  ${body.redirect_uris.length > 0 ? body.redirect_uris.join('\n                ') : '(none)'}`,
          `Created:        ${body.created_at}`,
          `Updated:        ${body.updated_at}`,
        ].join('\n'),
      ),
    )
  }
}
