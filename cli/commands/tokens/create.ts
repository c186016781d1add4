import { Flags } from '@oclif/core'

import { formatDuration, parseDuration } from '../../../shared/duration.js'
import { isPermission, PERMISSION_CODES } from '../../../shared/permissions.js'
import { TOKEN_DEFAULT_LIFETIME_SECONDS, TOKEN_MAX_LIFETIME_SECONDS } from '../../../shared/schemas.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { note } from '../../output.js'

const MIN_LIFETIME_MS = 60_000

export default class TokensCreate extends BaseCommand<typeof TokensCreate> {
  static override summary = 'Create a workspace token for a CI pipeline or script'
  static override description =
    `Creates a named token that acts in this workspace with the permissions you choose, each of which you must hold yourself; it never holds more than you hold at the moment it is used, and it stops working when you leave the workspace or it is revoked. The token is shown only here, once: store it as a secret and pass it in FLEXPA_TOKEN. Valid permissions: ${PERMISSION_CODES.join(', ')}. Retrying with the same --idempotency-key returns the first token instead of creating a second one.`
  static override examples = [
    '<%= config.bin %> tokens create --name ci-rotate-test-keys --permission api-keys-test:manage',
    '<%= config.bin %> tokens create --name deploy --permission api-keys-test:manage --permission settings:read --expires-in 30d',
    '<%= config.bin %> tokens create --name ci --permission api-keys-test:manage --idempotency-key "$CI_PIPELINE_ID-token" --json',
  ]
  static override flags = {
    ...workspaceFlag,
    name: Flags.string({ description: 'Name of the token, shown in lists and in the audit log', required: true, helpValue: '<name>' }),
    permission: Flags.string({
      description: 'Permission the token holds (repeatable); you must hold it yourself',
      required: true,
      multiple: true,
      helpValue: '<code>',
    }),
    'expires-in': Flags.string({
      description: 'Lifetime of the token: a number and s, m, h or d (default 90d, at most 365d)',
      helpValue: '<duration>',
    }),
    'idempotency-key': Flags.string({ description: 'Key that makes retries of this command safe (default: a new one per run)', helpValue: '<key>' }),
  }

  async run(): Promise<void> {
    const permissions = this.permissions()
    const lifetimeMs = this.lifetime()
    const { body } = await (await this.client()).request('POST', this.workspacePath('/tokens'), {
      body: { name: this.flags.name, permissions, expires_in_seconds: lifetimeMs / 1000 },
      idempotencyKey: this.flags['idempotency-key'] ?? true,
    })
    await this.output(body, () => {
      note(`Created token ${body.name} (${body.id}) with ${body.permissions.join(', ')}; it expires at ${body.expires_at}.`)
      this.log(`Token: ${body.token}`)
      note('The token is shown only once. Store it as a secret and pass it to the CLI in FLEXPA_TOKEN.')
      note(`Run flexpa tokens revoke ${body.id} to disable it.`)
    })
  }

  private permissions(): string[] {
    const given = this.flags.permission
    const unknown = given.filter((code) => !isPermission(code))
    if (unknown.length > 0) {
      throw usageError(
        `--permission ${unknown.map((code) => `"${code}"`).join(', ')} is not a permission`,
        `valid codes: ${PERMISSION_CODES.join(', ')}`,
      )
    }
    return [...new Set(given)]
  }

  private lifetime(): number {
    const value = this.flags['expires-in']
    if (value === undefined) return TOKEN_DEFAULT_LIFETIME_SECONDS * 1000
    const ms = parseDuration(value)
    if (ms === null) throw usageError(`--expires-in "${value}" is not a duration; use a number and s, m, h or d, such as 90d`)
    const maxMs = TOKEN_MAX_LIFETIME_SECONDS * 1000
    if (ms > maxMs) throw usageError(`--expires-in ${value} is longer than the maximum of ${formatDuration(maxMs)}`)
    if (ms < MIN_LIFETIME_MS) throw usageError(`--expires-in ${value} is shorter than the minimum of ${formatDuration(MIN_LIFETIME_MS)}`)
    return ms
  }
}
