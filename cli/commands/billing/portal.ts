import { BaseCommand, workspaceFlag } from '../../base.js'
import { browserFlag, offerToOpen } from '../../browser.js'
import { note } from '../../output.js'

export default class BillingPortal extends BaseCommand<typeof BillingPortal> {
  static override summary = 'Open the Stripe Billing Portal'
  static override description =
    'Creates a Stripe Billing Portal session, where payment methods are changed and invoices downloaded, prints its URL and, at a terminal, opens it in a browser. Needs billing:manage; fails with exit 6 when the server has no Stripe account configured.'
  static override examples = ['<%= config.bin %> billing portal', '<%= config.bin %> billing portal --no-browser']
  static override flags = { ...workspaceFlag, ...browserFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('POST', this.workspacePath('/billing/portal'))
    await this.output(body, () => {
      this.log(body.portal_url)
      note('The link works once and expires after a short time.')
    })
    await offerToOpen(body.portal_url, this.flags.browser)
  }
}
