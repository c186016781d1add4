import { BaseCommand, workspaceFlag } from '../../base.js'
import { note, printTable } from '../../output.js'

interface Submission {
  id: string
  status: string
  submitted_at: string
  decided_at: string | null
  rejection_reason: string | null
  form: { organization_name?: string }
}

export default class LiveStatus extends BaseCommand<typeof LiveStatus> {
  static override summary = 'Show the Live Mode Access form and its review'
  static override description =
    'Shows whether the Live Mode Access form was submitted, is waiting for review, was approved or was rejected (with the reason), and every earlier submission. Needs settings:read.'
  static override examples = ['<%= config.bin %> live status', '<%= config.bin %> live status --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('GET', this.workspacePath('/live-access'))
    await this.output(body, async () => {
      this.log(`Status: ${body.status.replace('_', ' ')}`)
      if (body.current?.rejection_reason) this.log(`Reason: ${body.current.rejection_reason}`)
      if (body.history.length > 0) {
        await printTable<Submission>(body.history, [
          { header: 'ID', get: (row) => row.id },
          { header: 'Organization', get: (row) => row.form.organization_name },
          { header: 'Status', get: (row) => row.status },
          { header: 'Submitted', get: (row) => row.submitted_at },
          { header: 'Decided', get: (row) => row.decided_at },
          { header: 'Reason', get: (row) => row.rejection_reason },
        ])
      }
      if (body.status === 'not_submitted') note('Submit the form with flexpa live apply.')
      if (body.status === 'rejected') note('Correct the form and send it again with flexpa live apply.')
    })
  }
}
