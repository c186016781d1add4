import { Flags } from '@oclif/core'

import { BaseCommand } from '../../../base.js'
import { operatorRequest } from '../../../operator.js'
import { printTable } from '../../../output.js'

interface Submission {
  id: string
  workspace_id: string
  workspace_name: string
  status: string
  submitted_at: string
  form: { organization_name: string; expected_monthly_connections: number; hipaa_role: string; contact_email: string }
}

export default class AdminLiveAccessList extends BaseCommand<typeof AdminLiveAccessList> {
  static override summary = 'List Live Mode Access forms for review (operators)'
  static override description =
    'Lists the Live Mode Access forms of every workspace, oldest first. Only operators named by the server (FLEXPA_OPERATOR_EMAILS) with a verified email address can run it; to anyone else the route does not exist. --json prints each form in full.'
  static override examples = [
    '<%= config.bin %> admin live-access list --status pending',
    '<%= config.bin %> admin live-access list --json',
  ]
  static override flags = {
    status: Flags.string({ description: 'Only forms in this state', options: ['pending', 'approved', 'rejected'] }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const rows: Submission[] = []
    let cursor: string | null = null
    do {
      const { body }: { body: { data: Submission[]; next_cursor: string | null } } = await operatorRequest(client, 'GET', '/v1/operator/live-access', {
        query: { status: this.flags.status, limit: 200, cursor },
      })
      rows.push(...body.data)
      cursor = body.next_cursor
    } while (cursor)
    await this.output({ data: rows }, () =>
      printTable(rows, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Workspace', get: (row) => `${row.workspace_name} (${row.workspace_id})` },
        { header: 'Organization', get: (row) => row.form.organization_name },
        { header: 'Connections/month', get: (row) => row.form.expected_monthly_connections },
        { header: 'HIPAA role', get: (row) => row.form.hipaa_role },
        { header: 'Contact', get: (row) => row.form.contact_email },
        { header: 'Status', get: (row) => row.status },
        { header: 'Submitted', get: (row) => row.submitted_at },
      ]),
    )
  }
}
