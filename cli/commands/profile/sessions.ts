import { Flags } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { deleteCredential } from '../../credentials.js'
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
  static override description = 'Lists your active sessions with their client, address and times. --revoke <id> ends one of them; ending the current session also removes its stored token, as flexpa logout does.'
  static override examples = ['<%= config.bin %> profile sessions', '<%= config.bin %> profile sessions --revoke ses_3kTq9d2LmPz8wXcV1bNr']
  static override flags = { revoke: Flags.string({ description: 'Id of a session to end', helpValue: '<session-id>' }) }

  async run(): Promise<void> {
    const client = await this.client()
    const { body } = await client.request('GET', '/v1/profile/sessions')
    if (this.flags.revoke) {
      const current = (body.data as SessionRow[]).some((row) => row.current && row.id === this.flags.revoke)
      const { body: ended } = await client.request('DELETE', `/v1/profile/sessions/${encodeURIComponent(this.flags.revoke)}`)
      if (!current) {
        await this.output({ ...ended, current: false }, () => note(`Session ${ended.id} ended.`))
        return
      }
      // The token of this session no longer works, so it is forgotten as flexpa logout does.
      const credential = await this.credential()
      if (credential?.source !== 'env') await deleteCredential(this.settings, this.apiUrl)
      await this.output({ ...ended, current: true, logged_out: true }, () => {
        note(`Session ${ended.id} ended. It was this session, so you are logged out; run flexpa login to start a new one.`)
        if (credential?.source === 'env') note('Unset FLEXPA_TOKEN: its token no longer works.')
      })
      return
    }
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
