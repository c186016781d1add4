import { Args, Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { note } from '../../output.js'

export default class AppsCreate extends BaseCommand<typeof AppsCreate> {
  static override summary = 'Create an application and its test keys'
  static override description =
    'Creates an application and issues its test mode key pair. The secret key is shown only here, once: store it now. Needs settings:manage. Retrying with the same --idempotency-key returns the first result instead of creating a second application.'
  static override examples = [
    '<%= config.bin %> apps create "Patient Portal"',
    '<%= config.bin %> apps create "Patient Portal" --redirect-uri https://portal.example.com/callback --redirect-uri http://localhost:3000/callback',
    '<%= config.bin %> apps create ci-app --idempotency-key "$CI_PIPELINE_ID-create" --json',
  ]
  static override args = { name: Args.string({ description: 'Name of the application, unique in the workspace', required: true }) }
  static override flags = {
    ...workspaceFlag,
    'redirect-uri': Flags.string({
      description: 'Registered redirect URI (repeatable): https, or http on localhost; no fragment',
      multiple: true,
      helpValue: '<url>',
    }),
    'idempotency-key': Flags.string({ description: 'Key that makes retries of this command safe (default: a new one per run)', helpValue: '<key>' }),
  }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('POST', this.workspacePath('/apps'), {
      body: { name: this.args.name, redirect_uris: this.flags['redirect-uri'] ?? [] },
      idempotencyKey: this.flags['idempotency-key'] ?? true,
    })
    await this.output(body, () => {
      note(`Created application ${body.name} (${body.id}).`)
      this.log(`Publishable key (test): ${body.keys.publishable_key}`)
      this.log(`Secret key (test):      ${body.keys.secret_key}`)
      note('The secret key is shown only once. Store it now; flexpa keys rotate issues a new one.')
    })
  }
}
