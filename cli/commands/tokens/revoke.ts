import { Args } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { note } from '../../output.js'

export default class TokensRevoke extends BaseCommand<typeof TokensRevoke> {
  static override summary = 'Revoke a workspace token'
  static override description =
    'Disables a token at once: its next request is rejected. You can revoke the tokens you created; revoking anyone else\'s needs team:manage. Revoking a token that is already revoked changes nothing.'
  static override examples = ['<%= config.bin %> tokens revoke tok_3kTq9d2LmPz8wXcV1bNr', '<%= config.bin %> tokens revoke tok_3kTq9d2LmPz8wXcV1bNr --json']
  static override args = { id: Args.string({ description: 'Token id (tok_…), as shown by flexpa tokens list', required: true }) }
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('DELETE', this.workspacePath(`/tokens/${encodeURIComponent(this.args.id)}`))
    await this.output(body, () => note(`Revoked token ${body.name} (${body.id}) at ${body.revoked_at}.`))
  }
}
