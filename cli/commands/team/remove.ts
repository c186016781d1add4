import { Args, Flags } from '@oclif/core'

import { BaseCommand, workspaceFlag } from '../../base.js'
import { confirmByTyping } from '../../input.js'
import { note } from '../../output.js'
import type { MemberView } from '../../team.js'

export default class TeamRemove extends BaseCommand<typeof TeamRemove> {
  static override summary = 'Remove a member from the workspace'
  static override description =
    "Removes a member; their next request to this workspace is refused, and the workspace tokens they created are revoked. You cannot remove yourself (run flexpa workspaces leave instead), and the last admin cannot be removed. Asks for the member's email to be typed back; --confirm <email> does that in scripts. Needs team:manage."
  static override examples = [
    '<%= config.bin %> team remove grace@example.com',
    '<%= config.bin %> team remove grace@example.com --confirm grace@example.com --json',
  ]
  static override args = { member: Args.string({ description: 'User id or email address of the member', required: true }) }
  static override flags = {
    ...workspaceFlag,
    confirm: Flags.string({ description: "The member's email address, typed back to confirm", helpValue: '<email>' }),
  }

  async run(): Promise<void> {
    const client = await this.client()
    const { body: member } = await client.request<MemberView>(
      'GET',
      this.workspacePath(`/members/${encodeURIComponent(this.args.member.trim())}`),
    )
    await confirmByTyping(member.email, this.flags.confirm?.trim().toLowerCase(), `remove ${member.email} from the workspace`)
    const { body } = await client.request('DELETE', this.workspacePath(`/members/${member.id}`))
    await this.output(body, () => {
      const tokens = body.tokens_revoked > 0 ? `; ${body.tokens_revoked} workspace token(s) revoked` : ''
      note(`Removed ${body.email} from the workspace${tokens}.`)
    })
  }
}
