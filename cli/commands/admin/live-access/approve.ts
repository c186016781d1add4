import { Args } from '@oclif/core'

import { BaseCommand } from '../../../base.js'
import { operatorRequest } from '../../../operator.js'
import { note } from '../../../output.js'

export default class AdminLiveAccessApprove extends BaseCommand<typeof AdminLiveAccessApprove> {
  static override summary = 'Approve a Live Mode Access form (operators)'
  static override description =
    "Approves a pending form. The workspace's admins get an email, and the decision is recorded in the workspace's audit log with you as the operator. Only operators can run it."
  static override examples = ['<%= config.bin %> admin live-access approve live_3kTq9XfP2mWn8RbLc4Yz']
  static override args = { id: Args.string({ description: 'Id of the form (live_…)', required: true }) }

  async run(): Promise<void> {
    const client = await this.client()
    const { body } = await operatorRequest(client, 'POST', `/v1/operator/live-access/${encodeURIComponent(this.args.id)}/approve`)
    await this.output(body, () => {
      note(`Approved ${body.id} for workspace ${body.workspace_name} (${body.workspace_id}).`)
      note(body.notified.length > 0 ? `Emailed ${body.notified.join(', ')}.` : 'The workspace has no admin to email.')
    })
  }
}
