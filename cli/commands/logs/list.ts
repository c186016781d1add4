import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { CSV_COLUMNS, filterQuery, logFilterFlags, TABLE_COLUMNS, type AccessToken } from '../../logs.js'
import { note, printCsv, printJson, printTable } from '../../output.js'

const MAX_PAGE = 200

export default class LogsList extends BaseCommand<typeof LogsList> {
  static override summary = 'List access-token logs'
  static override description =
    'Lists the access tokens of the workspace, newest first: every opening of Flexpa Consent with its state, endpoint and error. Live mode unless --test. PHI fields are shown only to members holding phi:read. Needs analytics:read.'
  static override examples = [
    '<%= config.bin %> logs list --app "Patient Portal" --state ERROR --since 2h',
    '<%= config.bin %> logs list --test --endpoint "Humana Sandbox" --limit 20 --json',
    '<%= config.bin %> logs list --since 2026-11-01 --until 2026-12-01 --all --csv > november.csv',
  ]
  static override flags = {
    ...workspaceFlag,
    ...logFilterFlags,
    limit: Flags.integer({ description: `Rows per page, 1 to ${MAX_PAGE}`, default: 50, min: 1, max: MAX_PAGE }),
    cursor: Flags.string({ description: 'Continue from this next_cursor of a previous page', helpValue: '<cursor>' }),
    all: Flags.boolean({ description: 'Walk every page and print all matching rows', default: false }),
    csv: Flags.boolean({ description: 'Print CSV (RFC 4180) with a header line instead of a table', exclusive: ['json'] }),
  }

  async run(): Promise<void> {
    if (this.flags.all && this.flags.cursor) throw usageError('--all starts from the first page; drop --cursor')
    const client = await this.client()
    const query = filterQuery(this.flags)
    const rows: AccessToken[] = []
    let cursor = this.flags.cursor
    let nextCursor: string | null = null
    let first = true
    do {
      const { body } = await client.request('GET', this.workspacePath('/logs'), {
        query: { ...query, limit: this.flags.all ? MAX_PAGE : this.flags.limit, cursor },
      })
      nextCursor = body.next_cursor
      cursor = nextCursor ?? undefined
      if (this.flags.csv) {
        // CSV streams page by page, so --all on a long period does not hold every row in memory.
        printCsv<AccessToken>(body.data, CSV_COLUMNS, first)
      } else {
        rows.push(...body.data)
      }
      first = false
    } while (this.flags.all && nextCursor)

    if (this.flags.csv) return this.hintNextPage(nextCursor)
    if (this.json) return printJson({ data: rows, next_cursor: nextCursor })
    if (rows.length === 0) note('No access tokens match these filters.')
    else await printTable(rows, TABLE_COLUMNS)
    this.hintNextPage(nextCursor)
  }

  private hintNextPage(nextCursor: string | null): void {
    if (nextCursor && !this.flags.all) note(`More rows: run again with --cursor ${nextCursor}, or pass --all.`)
  }
}
