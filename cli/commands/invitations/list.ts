import { BaseCommand, workspaceFlag } from '../../base.js'
import { note, printTable } from '../../output.js'
import { fetchAll, type InvitationView } from '../../team.js'

export default class InvitationsList extends BaseCommand<typeof InvitationsList> {
  static override summary = 'List the invitations not yet accepted or revoked'
  static override description =
    'Lists pending and expired invitations of the workspace with the address, role, who sent it and when the link expires. Expired ones can be sent again with flexpa invitations resend. Needs team:read.'
  static override examples = ['<%= config.bin %> invitations list', '<%= config.bin %> invitations list --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const invitations = await fetchAll<InvitationView>(await this.client(), this.workspacePath('/invitations'))
    await this.output({ data: invitations }, async () => {
      if (invitations.length === 0) return note('No pending invitations.')
      await printTable(invitations, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Email', get: (row) => row.email },
        { header: 'Role', get: (row) => row.role },
        { header: 'Status', get: (row) => row.status },
        { header: 'Invited by', get: (row) => row.invited_by },
        { header: 'Sent', get: (row) => row.sent_at.slice(0, 16).replace('T', ' ') },
        { header: 'Expires', get: (row) => row.expires_at.slice(0, 16).replace('T', ' ') },
      ])
    })
  }
}
