import { Args, Flags } from '@oclif/core'

import { BaseCommand } from '../../../base.js'
import { operatorRequest } from '../../../operator.js'
import { note } from '../../../output.js'

export default class AdminBillingWaive extends BaseCommand<typeof AdminBillingWaive> {
  static override summary = "Mark a workspace's billing as handled by invoice (operators)"
  static override description =
    'Completes the payment step of the go-live checklist without a card on file, for customers billed by invoice. Works without Stripe configured. Recorded in the workspace\'s audit log with you as the operator. Only operators can run it.'
  static override examples = ['<%= config.bin %> admin billing waive ws_8ZpQ2mXc4RtV7bNk1LsY --reason "Invoiced yearly"']
  static override args = { workspace: Args.string({ description: 'Workspace id (ws_…)', required: true }) }
  static override flags = {
    reason: Flags.string({ description: 'Why billing is waived, kept in the audit log', helpValue: '<text>' }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const path = `/v1/operator/workspaces/${encodeURIComponent(this.args.workspace)}/billing/waive`
    const { body } = await operatorRequest(client, 'POST', path, { body: this.flags.reason ? { reason: this.flags.reason } : {} })
    await this.output(body, () => note(`Billing of ${body.workspace_name} (${body.workspace_id}) is handled by invoice.`))
  }
}
