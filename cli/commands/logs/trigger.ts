import { Flags } from '@oclif/core'

import { TRIGGER_OUTCOMES } from '../../../shared/schemas.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { note } from '../../output.js'

export default class LogsTrigger extends BaseCommand<typeof LogsTrigger> {
  static override summary = 'Write a realistic test-mode access token'
  static override description =
    'Writes a test-mode access token for the application against a sandbox endpoint and moves it through the states a real Consent flow records, ending in the outcome asked for. The rows go through the same code as the ingestion API, so logs list, logs tail and analytics show them. Needs api-keys-test:manage.'
  static override examples = [
    '<%= config.bin %> logs trigger --app "Patient Portal"',
    '<%= config.bin %> logs trigger --app "Patient Portal" --outcome payer-error --endpoint "Cigna Sandbox" --json',
  ]
  static override flags = {
    ...workspaceFlag,
    app: Flags.string({ description: 'Application id or name', required: true, helpValue: '<id-or-name>' }),
    outcome: Flags.string({
      description: 'How the flow ends: success (EXCHANGED), denied (the patient declined), payer-error, or revoked',
      options: [...TRIGGER_OUTCOMES],
      default: 'success',
    }),
    endpoint: Flags.string({ description: 'Sandbox endpoint (UUID or label; default: the first sandbox endpoint)', helpValue: '<uuid-or-label>' }),
  }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('POST', this.workspacePath('/logs/trigger'), {
      body: { app: this.flags.app, outcome: this.flags.outcome, endpoint: this.flags.endpoint },
    })
    await this.output(body, () => {
      const row = body.access_token
      this.log(`${row.id}  ${body.states.join(' → ')}  (${row.endpoint.label})`)
      note(`See it with: flexpa logs show ${row.id}`)
    })
  }
}
