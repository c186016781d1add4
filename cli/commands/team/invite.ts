import { Args, Flags } from '@oclif/core'

import { EXIT } from '../../../shared/errors.js'
import { ROLES } from '../../../shared/permissions.js'
import { INVITE_SUCCESS, type InviteOutcome } from '../../../shared/team.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { note, printTable } from '../../output.js'
import { parseProvisioningFile, readProvisioningFile, type ProvisioningRow } from '../../team.js'

interface InviteResult {
  email: string
  role: string
  outcome: InviteOutcome
  invitation_id?: string
  user_id?: string
  reason?: string
}

const DESCRIBED: Record<InviteOutcome, string> = {
  invited: 'invited',
  role_updated: 'invitation changed to the requested role',
  already_member: 'already a member',
  already_invited: 'already invited',
  invalid: 'invalid address',
  rate_limited: 'not sent: rate limited',
}

export default class TeamInvite extends BaseCommand<typeof TeamInvite> {
  static override summary = 'Invite people to the workspace by email'
  static override description = `Sends each address an email with a link to join, valid for 7 days and usable once. With --from-file, reads one "email,role" per line (the role may be left out; blank lines, # comments and an "email,role" header are skipped). Running the same file again is safe: addresses that are already members or already invited are reported as such.

Exit codes: 0 when every row ended invited or already there; 6 when any row was rejected (each row's reason is shown); 2 when the file itself is malformed. Needs team:manage.`
  static override examples = [
    '<%= config.bin %> team invite ada@example.com grace@example.com',
    '<%= config.bin %> team invite lead@example.com --role admin',
    '<%= config.bin %> team invite --from-file team.csv --json',
  ]
  static override strict = false
  static override args = {
    // ignoreStdin keeps oclif from reading a piped provisioning file in as an address.
    email: Args.string({ description: 'Email addresses to invite (several may follow)', ignoreStdin: true }),
  }
  static override flags = {
    ...workspaceFlag,
    role: Flags.string({ description: 'Role of the addresses given as arguments, and default role of file lines without one', options: [...ROLES], default: 'member' }),
    'from-file': Flags.string({ description: 'File with one "email,role" per line, or - for stdin', helpValue: '<path>' }),
  }

  async run(): Promise<void> {
    const rows = await this.rows()
    const { body } = await (await this.client()).request<{ data: InviteResult[] }>('POST', this.workspacePath('/invitations'), {
      body: { invitations: rows },
    })
    const rejected = body.data.filter((row) => !INVITE_SUCCESS.includes(row.outcome))

    await this.output(body, () =>
      printTable(body.data, [
        { header: 'Email', get: (row) => row.email },
        { header: 'Role', get: (row) => row.role },
        { header: 'Result', get: (row) => DESCRIBED[row.outcome] ?? row.outcome },
        { header: 'Detail', get: (row) => row.reason ?? row.invitation_id ?? row.user_id },
      ]),
    )
    for (const row of rejected) note(`${row.email}: ${DESCRIBED[row.outcome] ?? row.outcome}${row.reason ? ` (${row.reason})` : ''}`)
    if (rejected.length > 0) {
      note(`${rejected.length} of ${body.data.length} rows were rejected; fix them and run the same command again.`)
      process.exitCode = EXIT.conflict
    }
  }

  private async rows(): Promise<ProvisioningRow[]> {
    const role = this.flags.role as ProvisioningRow['role']
    const { argv } = await this.parse(TeamInvite)
    const addresses = argv.map(String)
    const file = this.flags['from-file']
    if (file !== undefined && addresses.length > 0) {
      throw usageError('give addresses as arguments or with --from-file, not both')
    }
    if (file !== undefined) return parseProvisioningFile(await readProvisioningFile(file), file === '-' ? 'stdin' : file, role)
    if (addresses.length === 0) {
      throw usageError('missing addresses to invite', 'pass one or more email addresses, or --from-file <path>')
    }
    return addresses.map((email) => ({ email, role }))
  }
}
