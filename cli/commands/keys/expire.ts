import { Args } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { note } from '../../output.js'

export default class KeysExpire extends BaseCommand<typeof KeysExpire> {
  static override summary = 'End a grace period early: the old secret stops working now'
  static override description =
    'Makes a secret that is still valid after a rotation stop working at once, for example after a leak. The active secret cannot be expired; rotate it instead. Needs api-keys-test:manage, and also api-keys-live:manage for a live secret.'
  static override examples = ['<%= config.bin %> keys expire key_3kTq9d2LmPz8wXcV1bNr']
  static override args = { key: Args.string({ description: 'Id of the secret key (see flexpa keys list)', required: true }) }
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('POST', this.workspacePath(`/keys/${encodeURIComponent(this.args.key)}/expire`))
    await this.output(body, () => note(`Secret ${body.secret_key_hint} (${body.id}) stopped working at ${body.expires_at}.`))
  }
}
