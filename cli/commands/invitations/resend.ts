import { Args } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { note } from '../../output.js'

export default class InvitationsResend extends BaseCommand<typeof InvitationsResend> {
  static override summary = 'Send an invitation again with a new link'
  static override description =
    'Sends a new link to the invited address; the previous link stops working and the 7 days start again. Works on pending and expired invitations. Sending is rate limited per workspace and per address. Needs team:manage.'
  static override examples = ['<%= config.bin %> invitations resend grace@example.com', '<%= config.bin %> invitations resend inv_3kTq9d2LmPz8wXcV1bNr --json']
  static override args = { invitation: Args.string({ description: 'Invitation id or invited email address', required: true }) }
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const path = this.workspacePath(`/invitations/${encodeURIComponent(this.args.invitation)}/resend`)
    const { body } = await (await this.client()).request('POST', path)
    await this.output(body, () => note(`Sent a new invitation link to ${body.email}; it expires at ${body.expires_at}.`))
  }
}
