import { Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { note, printCsv, printTable, type Column } from '../../output.js'

interface Invoice {
  id: string
  number: string | null
  created_at: string
  amount_due: number
  currency: string
  status: string | null
  hosted_invoice_url: string | null
}

/** Currencies whose Stripe amounts are whole units, per Stripe's list of zero-decimal currencies. */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'])

/**
 * Formats an amount given in the currency's smallest unit, as Stripe sends it.
 * NOTE: Stripe's three-decimal currencies (such as KWD) are shown with two decimals.
 */
function formatAmount(amount: number, currency: string): string {
  const digits = ZERO_DECIMAL.has(currency.toLowerCase()) ? 0 : 2
  return `${(amount / 10 ** digits).toFixed(digits)} ${currency.toUpperCase()}`
}

const COLUMNS: Column<Invoice>[] = [
  { header: 'Date', get: (row) => row.created_at.slice(0, 10) },
  { header: 'Number', get: (row) => row.number },
  { header: 'Amount', get: (row) => formatAmount(row.amount_due, row.currency) },
  { header: 'Status', get: (row) => row.status },
  { header: 'Link', get: (row) => row.hosted_invoice_url },
]

export default class BillingInvoices extends BaseCommand<typeof BillingInvoices> {
  static override summary = "List the workspace's invoices"
  static override description = "Lists the invoices of the workspace's Stripe customer, newest first: date, number, amount, status and a link. Needs billing:manage."
  static override examples = ['<%= config.bin %> billing invoices', '<%= config.bin %> billing invoices --csv > invoices.csv']
  static override flags = {
    ...workspaceFlag,
    csv: Flags.boolean({ description: 'Print CSV with a header line instead of a table', default: false, exclusive: ['json'] }),
  }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath('/billing/invoices'))
    await this.output(body, async () => {
      if (this.flags.csv) return printCsv<Invoice>(body.data, COLUMNS)
      if (body.data.length === 0) {
        note('No invoices yet.')
        return
      }
      await printTable<Invoice>(body.data, COLUMNS)
    })
  }
}
