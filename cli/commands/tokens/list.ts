import { BaseCommand, workspaceFlag } from '../../base.js'
import type { ApiClient } from '../../client.js'
import { printTable } from '../../output.js'

interface TokenRow {
  id: string
  name: string
  permissions: string[]
  status: string
  created_by_email: string | null
  created_at: string
  expires_at: string
  last_used_at: string | null
}

export default class TokensList extends BaseCommand<typeof TokensList> {
  static override summary = 'List workspace tokens'
  static override description =
    'Lists the tokens you created in this workspace, or every token of the workspace when you hold team:manage, with their permissions and status (active, expired or revoked). Secrets are never shown again.'
  static override examples = ['<%= config.bin %> tokens list', '<%= config.bin %> tokens list --workspace Acme --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const rows = await this.fetchAll(await this.client())
    await this.output({ data: rows }, () =>
      printTable(rows, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Name', get: (row) => row.name },
        { header: 'Permissions', get: (row) => row.permissions },
        { header: 'Status', get: (row) => row.status },
        { header: 'Created by', get: (row) => row.created_by_email },
        { header: 'Expires', get: (row) => row.expires_at },
        { header: 'Last used', get: (row) => row.last_used_at ?? 'never' },
      ]),
    )
  }

  private async fetchAll(client: ApiClient): Promise<TokenRow[]> {
    const rows: TokenRow[] = []
    let cursor: string | null = null
    do {
      const { body }: { body: { data: TokenRow[]; next_cursor: string | null } } = await client.request('GET', this.workspacePath('/tokens'), {
        query: { limit: 200, cursor },
      })
      rows.push(...body.data)
      cursor = body.next_cursor
    } while (cursor)
    return rows
  }
}
