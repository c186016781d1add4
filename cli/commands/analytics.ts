import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../base.js'
import { modeFlags, parseTimeFlag } from '../logs.js'
import { printTable } from '../output.js'

interface AnalyticsBody {
  mode: string
  since: string
  until: string
  total: number
  by_state: Record<string, number>
  by_endpoint: { endpoint_id: string; label: string | null; created: number; exchanged: number; success_rate: number | null }[]
  by_day: { date: string; count: number }[]
}

function percent(rate: number | null): string {
  return rate === null ? '' : `${(rate * 100).toFixed(1)}%`
}

export default class Analytics extends BaseCommand<typeof Analytics> {
  static override summary = 'Count access tokens by state, endpoint and day'
  static override description =
    'Counts the access tokens created in a period (default: the last 30 days) by state, by endpoint and by day, with the success rate per endpoint: rows that reached EXCHANGED over rows created. Contains no PHI. Needs analytics:read.'
  static override examples = [
    '<%= config.bin %> analytics',
    '<%= config.bin %> analytics --app "Patient Portal" --since 7d',
    '<%= config.bin %> analytics --test --since 2026-11-01 --until 2026-12-01 --json',
  ]
  static override flags = {
    ...workspaceFlag,
    ...modeFlags,
    app: Flags.string({ description: 'Only rows of this application (id or name)', helpValue: '<id-or-name>' }),
    since: Flags.string({ description: 'Start of the period: an ISO 8601 date or time, or this long ago (7d); default 30 days before --until' }),
    until: Flags.string({ description: 'End of the period (exclusive): an ISO 8601 date or time, or this long ago; default now' }),
  }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request<AnalyticsBody>('GET', this.workspacePath('/analytics'), {
      query: {
        mode: this.flags.test ? 'test' : 'live',
        app: this.flags.app,
        since: parseTimeFlag('since', this.flags.since),
        until: parseTimeFlag('until', this.flags.until),
      },
    })
    await this.output(body, () => this.printForPeople(body))
  }

  private async printForPeople(body: AnalyticsBody): Promise<void> {
    this.log(`${body.total} ${body.mode} access tokens created from ${body.since} to ${body.until}`)
    const states = Object.entries(body.by_state).filter(([, count]) => count > 0)
    if (states.length > 0) {
      await printTable(states, [
        { header: 'State', get: ([state]) => state },
        { header: 'Count', get: ([, count]) => count },
      ])
    }
    if (body.by_endpoint.length > 0) {
      await printTable(body.by_endpoint, [
        { header: 'Endpoint', get: (row) => row.label ?? row.endpoint_id },
        { header: 'Created', get: (row) => row.created },
        { header: 'Exchanged', get: (row) => row.exchanged },
        { header: 'Success rate', get: (row) => percent(row.success_rate) },
      ])
    }
    if (body.by_day.length > 0) {
      await printTable(body.by_day, [
        { header: 'Day', get: (row) => row.date },
        { header: 'Created', get: (row) => row.count },
      ])
    }
  }
}
