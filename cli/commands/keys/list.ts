import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { printTable } from '../../output.js'

interface KeyRow {
  id: string
  mode: string
  type: string
  publishable_key: string | null
  secret_key_hint: string | null
  status: string
  created_at: string
  expires_at: string | null
  last_used_at: string | null
}

export default class KeysList extends BaseCommand<typeof KeysList> {
  static override summary = "List an application's keys"
  static override description =
    'Lists publishable keys in full and secret keys as their prefix and last four characters, with created, expires and last-used times. Needs api-keys:read.'
  static override examples = ['<%= config.bin %> keys list --app "Patient Portal"', '<%= config.bin %> keys list --app app_3kTq9d2LmPz8wXcV1bNr --json']
  static override flags = {
    ...workspaceFlag,
    app: Flags.string({ description: 'Application id or name', required: true, helpValue: '<id-or-name>' }),
  }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath(`/apps/${encodeURIComponent(this.flags.app)}/keys`))
    await this.output(body, () =>
      printTable<KeyRow>(body.data, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Mode', get: (row) => row.mode },
        { header: 'Type', get: (row) => row.type },
        { header: 'Key', get: (row) => row.publishable_key ?? row.secret_key_hint },
        { header: 'Status', get: (row) => row.status },
        { header: 'Created', get: (row) => row.created_at },
        { header: 'Expires', get: (row) => row.expires_at },
        { header: 'Last used', get: (row) => row.last_used_at },
      ]),
    )
  }
}
