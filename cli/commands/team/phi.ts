import { Args, Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { note } from '../../output.js'

export default class TeamPhi extends BaseCommand<typeof TeamPhi> {
  static override summary = "Withhold or restore a member's access to PHI"
  static override description =
    "Every member holds phi:read by default. --withhold takes it away from one member, so access-token logs show them patient fields as null; --restore gives it back. Applies from the member's next request. Needs team:manage."
  static override examples = [
    '<%= config.bin %> team phi grace@example.com --withhold',
    '<%= config.bin %> team phi grace@example.com --restore --json',
  ]
  static override args = { member: Args.string({ description: 'User id or email address of the member', required: true }) }
  static override flags = {
    ...workspaceFlag,
    withhold: Flags.boolean({ description: 'Withhold phi:read from the member', exclusive: ['restore'], default: false }),
    restore: Flags.boolean({ description: 'Restore phi:read to the member', exclusive: ['withhold'], default: false }),
  }

  async run(): Promise<void> {
    if (!this.flags.withhold && !this.flags.restore) throw usageError('pass --withhold or --restore')
    const path = this.workspacePath(`/members/${encodeURIComponent(this.args.member)}/phi`)
    const { body } = await (await this.client()).request('PUT', path, { body: { withheld: this.flags.withhold } })
    await this.output(body, () => {
      const state = body.phi_read ? 'holds phi:read' : 'has phi:read withheld'
      note(body.changed ? `${body.email} now ${state}.` : `${body.email} already ${state}; nothing changed.`)
    })
  }
}
