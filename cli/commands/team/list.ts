import { BaseCommand, workspaceFlag } from '../../base.js'
import { printTable } from '../../output.js'
import { fetchAll, type InvitationView, type MemberView } from '../../team.js'

export default class TeamList extends BaseCommand<typeof TeamList> {
  static override summary = 'List the members of the workspace and its pending invitations'
  static override description =
    'Lists each member with name, email, role, whether they hold phi:read, and when they joined; then the invitations not yet accepted or revoked. Needs team:read.'
  static override examples = ['<%= config.bin %> team list', '<%= config.bin %> team list --workspace Acme --json']
  static override flags = { ...workspaceFlag }

  async run(): Promise<void> {
    const client = await this.client()
    const members = await fetchAll<MemberView>(client, this.workspacePath('/members'))
    const invitations = await fetchAll<InvitationView>(client, this.workspacePath('/invitations'))
    await this.output({ members, invitations }, async () => {
      await printTable(members, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Name', get: (row) => row.name },
        { header: 'Email', get: (row) => row.email },
        { header: 'Role', get: (row) => row.role },
        { header: 'PHI', get: (row) => (row.phi_read ? 'yes' : 'withheld') },
        { header: 'Joined', get: (row) => row.joined_at.slice(0, 10) },
      ])
      if (invitations.length === 0) return
      this.log('\nPending invitations')
      await printTable(invitations, [
        { header: 'ID', get: (row) => row.id },
        { header: 'Email', get: (row) => row.email },
        { header: 'Role', get: (row) => row.role },
        { header: 'Status', get: (row) => row.status },
        { header: 'Expires', get: (row) => row.expires_at.slice(0, 16).replace('T', ' ') },
      ])
    })
  }
}
