import { Args, Flags } from '@oclif/core'

import { BaseCommand } from '../../../base.js'
import { operatorRequest } from '../../../operator.js'
import { isInteractive, missingFlag, promptText } from '../../../input.js'
import { note } from '../../../output.js'

export default class AdminLiveAccessReject extends BaseCommand<typeof AdminLiveAccessReject> {
  static override summary = 'Reject a Live Mode Access form with a reason (operators)'
  static override description =
    "Rejects a pending form. The reason is emailed to the workspace's admins, who can correct the form and send it again; the decision is recorded in the workspace's audit log with you as the operator. Only operators can run it."
  static override examples = [
    '<%= config.bin %> admin live-access reject live_3kTq9XfP2mWn8RbLc4Yz --reason "The privacy policy URL does not load."',
  ]
  static override args = { id: Args.string({ description: 'Id of the form (live_…)', required: true }) }
  static override flags = {
    reason: Flags.string({ description: 'Why the form is rejected and what to correct; sent to the admins', helpValue: '<text>' }),
  }

  async run(): Promise<void> {
    const reason = await this.reason()
    const client = await this.client()
    const { body } = await operatorRequest(client, 'POST', `/v1/operator/live-access/${encodeURIComponent(this.args.id)}/reject`, { body: { reason } })
    await this.output(body, () => {
      note(`Rejected ${body.id} for workspace ${body.workspace_name} (${body.workspace_id}).`)
      note(body.notified.length > 0 ? `Emailed ${body.notified.join(', ')}.` : 'The workspace has no admin to email.')
    })
  }

  private async reason(): Promise<string> {
    if (this.flags.reason !== undefined) return this.flags.reason
    if (!isInteractive()) throw missingFlag('--reason', 'why the form is rejected')
    return promptText('Reason, sent to the workspace admins:', {
      validate: (value) => (value.trim() === '' ? 'the reason must not be empty' : true),
    })
  }
}
