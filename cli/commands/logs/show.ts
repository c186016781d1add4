import { Args } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import type { AccessToken } from '../../logs.js'

export default class LogsShow extends BaseCommand<typeof LogsShow> {
  static override summary = 'Show one access token'
  static override description =
    'Shows an access token with the time it first reached each state. PHI fields are shown only to members holding phi:read. Needs analytics:read.'
  static override examples = ['<%= config.bin %> logs show atk_3kTq9d2LmPz8wXcV1bNr', '<%= config.bin %> logs show atk_3kTq9d2LmPz8wXcV1bNr --json']
  static override args = { id: Args.string({ description: 'Access token id (atk_…)', required: true }) }
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath(`/logs/${encodeURIComponent(this.args.id)}`))
    await this.output(body, () => this.log(describe(body)))
  }
}

function describe(row: AccessToken & Record<string, unknown>): string {
  const phi = (value: unknown) => (row.phi_redacted ? '[redacted: needs phi:read]' : (value ?? '(none)'))
  const lines: [string, unknown][] = [
    ['ID', row.id],
    ['State', row.state],
    ['Mode', row.mode],
    ['Application', row.application_id],
    ['Endpoint', `${row.endpoint.label ?? '(unknown)'} (${row.endpoint.id})`],
    ['Usage', row.usage],
    ['Request id', row.request_id],
    ['External user', phi(row.external_user_id)],
    ['Patient id', phi(row.patient_id)],
    ['Patient name', phi(row.patient_name)],
    ['Birth date', phi(row.patient_birth_date)],
    ['Error', row.error ? `${row.error.code}: ${row.error.message}` : '(none)'],
    ['Expires', row.expires_at ?? '(never)'],
    ['Created', row.created_at],
  ]
  for (const [label, field] of [
    ['Authorizing', 'authorizing_at'],
    ['Authorized', 'authorized_at'],
    ['Exchanged', 'exchanged_at'],
    ['Refreshed', 'refreshed_at'],
    ['Revoked', 'revoked_at'],
    ['Failed', 'errored_at'],
  ] as const) {
    if (row[field]) lines.push([label, row[field]])
  }
  return lines.map(([label, value]) => `${`${label}:`.padEnd(15)} ${String(value)}`).join('\n')
}
