import { BaseCommand, workspaceFlag } from '../../base.js'

export default class SettingsShow extends BaseCommand<typeof SettingsShow> {
  static override summary = "Show the workspace's settings"
  static override description = 'Shows the settings of the selected workspace. Needs settings:read.'
  static override examples = ['<%= config.bin %> settings show', '<%= config.bin %> settings show --workspace Acme --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath())
    await this.output(body, () => {
      const retention =
        body.log_retention_shortening_takes_effect_at
          ? `${body.log_retention_effective_days} days until ${body.log_retention_shortening_takes_effect_at}, then ${body.log_retention_days} days`
          : `${body.log_retention_days} days`
      this.log(
        [
          `Name:           ${body.name}`,
          `Workspace id:   ${body.id}`,
          `Log retention:  ${retention}`,
          `Created:        ${body.created_at}`,
          `Updated:        ${body.updated_at}`,
        ].join('\n'),
      )
    })
  }
}
