import { BaseCommand } from '../../base.js'
import { printTable } from '../../output.js'

interface WorkspaceRow {
  id: string
  name: string
  role: string
  created_at: string
  selected: boolean
}

export default class WorkspacesList extends BaseCommand<typeof WorkspacesList> {
  static override summary = 'List the workspaces you belong to'
  static override description = 'Lists every workspace you are a member of, with your role; the selected one is marked.'
  static override examples = ['<%= config.bin %> workspaces list', '<%= config.bin %> workspaces list --json']

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', '/v1/workspaces')
    const selected = process.env.FLEXPA_WORKSPACE || this.settings.workspace
    const rows: WorkspaceRow[] = body.data.map((ws: Omit<WorkspaceRow, 'selected'>) => ({
      ...ws,
      selected: ws.id === selected || ws.name === selected,
    }))
    await this.output({ data: rows }, () =>
      printTable(rows, [
        { header: '', get: (row) => (row.selected ? '*' : '') },
        { header: 'ID', get: (row) => row.id },
        { header: 'Name', get: (row) => row.name },
        { header: 'Role', get: (row) => row.role },
        { header: 'Created', get: (row) => row.created_at },
      ]),
    )
  }
}
