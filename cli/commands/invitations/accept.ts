import { Args } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { note } from '../../output.js'

export default class InvitationsAccept extends BaseCommand<typeof InvitationsAccept> {
  static override summary = 'Join a workspace with the invitation sent to your address'
  static override description =
    'Accepts an invitation as the logged-in user, whose email address must be the invited one. Takes the link from the email or the token at its end. Each link works once.'
  static override examples = [
    '<%= config.bin %> invitations accept https://flexpa.example.com/invitations/fxi_…',
    '<%= config.bin %> invitations accept fxi_… --json',
  ]
  static override args = { invitation: Args.string({ description: 'The invitation link, or the token at its end', required: true }) }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('POST', '/v1/invitations/accept', { body: { token: this.args.invitation } })
    await this.output(body, () => {
      const joined = body.already_member ? 'You were already a member of' : 'You joined'
      note(`${joined} ${body.workspace.name} (${body.workspace.id}) as ${body.role}.`)
      note(`Select it with: flexpa workspaces use ${body.workspace.id}`)
    })
  }
}
