import { BaseCommand, workspaceFlag } from '../../base.js'

export default class SettingsShow extends BaseCommand<typeof SettingsShow> {
  static override summary = "Show the workspace's settings"
  static override description = 'Shows the settings of the selected workspace. Needs settings:read.'
  static override examples = ['<%= config.bin %> settings show', '<%= config.bin %> settings show --workspace Acme --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath())
    await this.output(body, () => {
      const rows = Object.entries(body).map(([key, value]) => `${key.padEnd(20)} ${value ?? ''}`)
      this.log(rows.join('\n'))
    })
  }
}
