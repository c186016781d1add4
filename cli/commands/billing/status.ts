import { BaseCommand, workspaceFlag } from '../../base.js'
import { describePaymentMethod, type BillingStatus as Status } from '../../billing.js'
import { note } from '../../output.js'

export default class BillingStatus extends BaseCommand<typeof BillingStatus> {
  static override summary = 'Show whether a payment method is on file'
  static override description =
    "Shows the workspace's Stripe customer id and the payment method on file (brand and last four digits), or that an operator waived billing. Needs billing:manage."
  static override examples = ['<%= config.bin %> billing status', '<%= config.bin %> billing status --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request<Status>('GET', this.workspacePath('/billing'))
    await this.output(body, () => {
      this.log(`Payment method: ${describePaymentMethod(body)}`)
      this.log(`Customer:       ${body.customer_id ?? 'none yet'}`)
      if (body.waived?.reason) this.log(`Waiver reason:  ${body.waived.reason}`)
      if (!body.ready) note('Add one with flexpa billing setup.')
    })
  }
}
