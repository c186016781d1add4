import { Flags } from '@oclif/core'

import { parseDuration } from '../../../shared/duration.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { describePaymentMethod, waitForPaymentMethod } from '../../billing.js'
import { browserFlag, offerToOpen } from '../../browser.js'
import { usageError } from '../../errors.js'
import { note } from '../../output.js'

export default class BillingSetup extends BaseCommand<typeof BillingSetup> {
  static override summary = 'Add payment details through Stripe Checkout'
  static override description =
    "Creates the workspace's Stripe customer the first time and a Checkout Session in setup mode, prints its URL and, at a terminal, opens it in a browser. With --wait it returns once Stripe reports the payment method. Needs billing:manage; fails with exit 6 when the server has no Stripe account configured."
  static override examples = [
    '<%= config.bin %> billing setup',
    '<%= config.bin %> billing setup --no-browser --wait --timeout 30m',
    '<%= config.bin %> billing setup --json',
  ]
  static override flags = {
    ...workspaceFlag,
    ...browserFlag,
    wait: Flags.boolean({ description: 'Wait until the payment method is on file', default: false }),
    timeout: Flags.string({ description: 'How long --wait waits: a number and s, m, h or d', default: '15m', helpValue: '<duration>' }),
  }

  async run(): Promise<void> {
    const timeoutMs = parseDuration(this.flags.timeout)
    if (timeoutMs === null || timeoutMs === 0) throw usageError(`--timeout "${this.flags.timeout}" is not a duration; use a number and s, m, h or d, such as 15m`)
    const client = await this.client()

    const { body } = await client.request('POST', this.workspacePath('/billing/setup'))
    if (!this.json) this.log(body.checkout_url)
    note('Open the link above to add a payment method in Stripe Checkout.')
    await offerToOpen(body.checkout_url, this.flags.browser)
    if (!this.flags.wait) {
      if (this.json) await this.output(body, () => {})
      else note('Run flexpa billing status once Checkout is complete, or use --wait next time.')
      return
    }

    note('Waiting for Stripe to confirm the payment method (Ctrl-C stops waiting, not the setup)…')
    const status = await waitForPaymentMethod(client, this.workspacePath('/billing'), timeoutMs)
    await this.output({ ...body, billing: status }, () => this.log(`Payment method on file: ${describePaymentMethod(status)}`))
  }
}
