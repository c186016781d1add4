import { Flags } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { note, printTable } from '../../output.js'

interface SessionRow {
  id: string
  client: string | null
  address: string | null
  created_at: string
  last_used_at: string
  expires_at: string
  current: boolean
}

export default class ProfileSessions extends BaseCommand<typeof ProfileSessions> {
  static override summary = 'List your sessions, or end one'
  static override description = 'Lists your active sessions with their client, address and times. --revoke <id> ends one of them.'
  static override examples = ['<%= config.bin %> profile sessions', '<%= config.bin %> profile sessions --revoke ses_3kTq9d2LmPz8wXcV1bNr']
  static override flags = { revoke: Flags.string({ description: 'Id of a session to end', helpValue: '<session-id>' }) }

  async run(): Promise<void> {
    const client = await this.client()
    if (this.flags.revoke) {
      const { body } = await client.request('DELETE', `/v1/profile/sessions/${encodeURIComponent(this.flags.revoke)}`)
      await this.output(body, () => note(`Session ${body.id} ended.`))
      return
    }
    const { body } = await client.request('GET', '/v1/profile/sessions')
    await this.output(body, () =>
      printTable<SessionRow>(body.data, [
        { header: 'ID', get: (row) => `${row.id}${row.current ? ' (this one)' : ''}` },
        { header: 'Client', get: (row) => row.client },
        { header: 'Address', get: (row) => row.address },
        { header: 'Created', get: (row) => row.created_at },
        { header: 'Last used', get: (row) => row.last_used_at },
        { header: 'Expires', get: (row) => row.expires_at },
      ]),
    )
  }
}
