import { Args } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { note } from '../../output.js'

export default class InvitationsRevoke extends BaseCommand<typeof InvitationsRevoke> {
  static override summary = 'Revoke an invitation so that its link stops working'
  static override description = 'Revokes a pending or expired invitation, named by its id or by the invited address. Needs team:manage.'
  static override examples = ['<%= config.bin %> invitations revoke grace@example.com', '<%= config.bin %> invitations revoke inv_3kTq9d2LmPz8wXcV1bNr --json']
  static override args = { invitation: Args.string({ description: 'Invitation id or invited email address', required: true }) }
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const path = this.workspacePath(`/invitations/${encodeURIComponent(this.args.invitation)}`)
    const { body } = await (await this.client()).request('DELETE', path)
    await this.output(body, () => note(`Revoked the invitation of ${body.email} (${body.id}).`))
  }
}
