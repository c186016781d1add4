import { Args } from '@oclif/core'

import { ROLES } from '../../../shared/permissions.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { note } from '../../output.js'

export default class TeamRole extends BaseCommand<typeof TeamRole> {
  static override summary = "Change a member's role"
  static override description =
    "Promotes a member to admin or demotes an admin to member. The last admin cannot be demoted. The change applies from the member's next request, to their sessions and their workspace tokens. Needs team:manage."
  static override examples = [
    '<%= config.bin %> team role grace@example.com admin',
    '<%= config.bin %> team role usr_3kTq9d2LmPz8wXcV1bNr member --json',
  ]
  static override args = {
    member: Args.string({ description: 'User id or email address of the member', required: true }),
    role: Args.string({ description: `The new role: ${ROLES.join(' or ')}`, required: true }),
  }
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    if (!(ROLES as readonly string[]).includes(this.args.role)) {
      throw usageError(`role "${this.args.role}" is not one of ${ROLES.join(', ')}`)
    }
    const { body } = await (await this.client()).request('PATCH', this.workspacePath(`/members/${encodeURIComponent(this.args.member)}`), {
      body: { role: this.args.role },
    })
    await this.output(body, () =>
      note(body.changed ? `${body.email} is now ${body.role}.` : `${body.email} is already ${body.role}; nothing changed.`),
    )
  }
}
