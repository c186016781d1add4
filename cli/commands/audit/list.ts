import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import type { ApiClient } from '../../client.js'
import { note, printCsv, printTable, type Column } from '../../output.js'

interface AuditEvent {
  id: string
  created_at: string
  actor_type: string
  actor_id: string | null
  actor_label: string | null
  action: string
  target_type: string | null
  target_id: string | null
  address: string | null
  request_id: string | null
  data: Record<string, unknown> | null
}

interface Page {
  data: AuditEvent[]
  next_cursor: string | null
}

const PAGE_SIZE = 50
/** Page size under --all: the server's maximum, so an export takes few requests. */
const EXPORT_PAGE_SIZE = 500

const CSV_COLUMNS: Column<AuditEvent>[] = [
  { header: 'id', get: (row) => row.id },
  { header: 'created_at', get: (row) => row.created_at },
  { header: 'actor_type', get: (row) => row.actor_type },
  { header: 'actor_id', get: (row) => row.actor_id },
  { header: 'actor_label', get: (row) => row.actor_label },
  { header: 'action', get: (row) => row.action },
  { header: 'target_type', get: (row) => row.target_type },
  { header: 'target_id', get: (row) => row.target_id },
  { header: 'address', get: (row) => row.address },
  { header: 'request_id', get: (row) => row.request_id },
  { header: 'data', get: (row) => (row.data === null ? null : JSON.stringify(row.data)) },
]

function actorText(row: AuditEvent): string {
  if (row.actor_type === 'system') return 'system'
  const label = row.actor_label ?? row.actor_id ?? ''
  return row.actor_type === 'token' ? `token ${label} (${row.actor_id})` : label
}

export default class AuditList extends BaseCommand<typeof AuditList> {
  static override summary = "List the workspace's audit log"
  static override description =
    'Lists who changed what in the workspace, newest first: members, invitations, roles, tokens, keys, applications and settings. Records are append-only and kept at least six years. Needs team:manage. --since and --until take an ISO 8601 date or a duration back from now (2h, 7d); --since is inclusive and --until exclusive.'
  static override examples = [
    '<%= config.bin %> audit list',
    '<%= config.bin %> audit list --action keys. --since 7d',
    '<%= config.bin %> audit list --actor ada@example.com --since 2026-11-01 --until 2026-12-01 --csv',
    '<%= config.bin %> audit list --all --json > audit.json',
  ]
  static override flags = {
    ...workspaceFlag,
    actor: Flags.string({ description: 'Only events by this user id (usr_…), email address or token id (tok_…)', helpValue: '<id-or-email>' }),
    action: Flags.string({
      description: 'Only this action (keys.rotate), or every action with a prefix ending in a dot (keys.)',
      helpValue: '<action>',
    }),
    since: Flags.string({ description: 'Only events at or after this ISO 8601 date or this long ago (2h, 7d)', helpValue: '<date-or-duration>' }),
    until: Flags.string({ description: 'Only events before this ISO 8601 date or this long ago (2h, 7d)', helpValue: '<date-or-duration>' }),
    limit: Flags.integer({ description: 'Events per page, 1 to 500 (default 50, or 500 with --all)', min: 1, max: 500 }),
    cursor: Flags.string({ description: 'Continue after the page that returned this next_cursor', helpValue: '<cursor>' }),
    all: Flags.boolean({ description: 'Fetch every page, for an export', default: false, exclusive: ['cursor'] }),
    csv: Flags.boolean({ description: 'Print CSV (RFC 4180) instead of a table', default: false, exclusive: ['json'] }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const page = this.flags.all
      ? await this.fetchAll(client, this.flags.limit ?? EXPORT_PAGE_SIZE)
      : await this.fetchPage(client, this.flags.cursor ?? null, this.flags.limit ?? PAGE_SIZE)

    if (this.json) return this.output(page, () => undefined)
    if (this.flags.csv) printCsv(page.data, CSV_COLUMNS)
    else await this.printForPeople(page.data)
    if (page.next_cursor) note(`More events: run again with --cursor ${page.next_cursor}, or with --all.`)
  }

  private async printForPeople(rows: AuditEvent[]): Promise<void> {
    if (rows.length === 0) {
      note('No audit events match.')
      return
    }
    await printTable(rows, [
      { header: 'Time', get: (row) => row.created_at },
      { header: 'Actor', get: actorText },
      { header: 'Action', get: (row) => row.action },
      { header: 'Target', get: (row) => row.target_id },
      { header: 'Address', get: (row) => row.address },
    ])
  }

  private async fetchPage(client: ApiClient, cursor: string | null, limit: number): Promise<Page> {
    const { body } = await client.request<Page>('GET', this.workspacePath('/audit'), {
      query: { actor: this.flags.actor, action: this.flags.action, since: this.flags.since, until: this.flags.until, limit, cursor },
    })
    return body
  }

  private async fetchAll(client: ApiClient, pageSize: number): Promise<Page> {
    const data: AuditEvent[] = []
    let cursor: string | null = null
    do {
      const page = await this.fetchPage(client, cursor, pageSize)
      data.push(...page.data)
      cursor = page.next_cursor
    } while (cursor)
    return { data, next_cursor: null }
  }
}
