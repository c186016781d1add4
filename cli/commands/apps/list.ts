import { BaseCommand, workspaceFlag } from '../../base.js'
import { printTable } from '../../output.js'

export interface Application {
  id: string
  name: string
  redirect_uris: string[]
  created_at: string
  updated_at: string
}

export default class AppsList extends BaseCommand<typeof AppsList> {
  static override summary = "List the workspace's applications"
  static override description = 'Lists the applications of the selected workspace. Needs settings:read.'
  static override examples = ['<%= config.bin %> apps list', '<%= config.bin %> apps list --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath('/apps'))
    await this.output(body, () =>
      printTable<Application>(body.data, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Name', get: (row) => row.name },
        { header: 'Redirect URIs', get: (row) => row.redirect_uris },
        { header: 'Created', get: (row) => row.created_at },
      ]),
    )
  }
}
