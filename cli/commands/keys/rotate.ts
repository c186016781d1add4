import { Flags } from '@oclif/core'

import { formatDuration, parseDuration } from '../../../shared/duration.js'
import { EXIT } from '../../../shared/errors.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import type { ApiClient } from '../../client.js'
import { CliError, permissionDenied, usageError } from '../../errors.js'
import { confirmByTyping } from '../../input.js'
import { note } from '../../output.js'

const MAX_GRACE_MS = 7 * 86_400_000

export default class KeysRotate extends BaseCommand<typeof KeysRotate> {
  static override summary = "Issue a new secret key for an application"
  static override description =
    'Issues a new secret. The old one stops working at once, or at the end of --expire-old-in (at most 7d). A rotation during a grace period ends the older secret at once. --live issues the live key pair the first time and needs api-keys-live:manage and a completed go-live checklist; test keys need api-keys-test:manage.'
  static override examples = [
    '<%= config.bin %> keys rotate --app "Patient Portal"',
    '<%= config.bin %> keys rotate --app "Patient Portal" --expire-old-in 24h',
    '<%= config.bin %> keys rotate --app "Patient Portal" --live --confirm "Patient Portal"',
    '<%= config.bin %> keys rotate --app ci-app --idempotency-key "$CI_PIPELINE_ID-rotate" --json',
  ]
  static override flags = {
    ...workspaceFlag,
    app: Flags.string({ description: 'Application id or name', required: true, helpValue: '<id-or-name>' }),
    live: Flags.boolean({ description: 'Rotate the live mode secret instead of the test one', default: false }),
    'expire-old-in': Flags.string({ description: 'Keep the old secret valid this long: a number and s, m, h or d (at most 7d)', helpValue: '<duration>' }),
    confirm: Flags.string({ description: "The application's name, typed back to confirm a live rotation", helpValue: '<name>' }),
    'idempotency-key': Flags.string({ description: 'Key that makes retries of this command safe (default: a new one per run)', helpValue: '<key>' }),
  }

  async run(): Promise<void> {
    const graceMs = this.gracePeriod()
    const client = await this.client()
    const mode = this.flags.live ? 'live' : 'test'
    let app = this.flags.app
    if (this.flags.live) {
      await this.checkLiveAllowed(client)
      const { body: application } = await client.request('GET', this.workspacePath(`/apps/${encodeURIComponent(app)}`))
      await confirmByTyping(application.name, this.flags.confirm, `issue or rotate the live keys of ${application.name}`)
      app = application.id
    }
    const { body } = await client.request('POST', this.workspacePath(`/apps/${encodeURIComponent(app)}/keys/${mode}/rotate`), {
      body: { expire_old_in_seconds: graceMs / 1000 },
      idempotencyKey: this.flags['idempotency-key'] ?? true,
    })
    await this.output(body, () => {
      this.log(`Publishable key (${mode}): ${body.publishable_key}`)
      this.log(`Secret key (${mode}):      ${body.secret_key}`)
      if (body.previous_secret) {
        const ends = graceMs === 0 ? 'stopped working now' : `stays valid until ${body.previous_secret.expires_at}`
        note(`The previous secret ${body.previous_secret.hint} (${body.previous_secret.id}) ${ends}.`)
      }
      for (const ended of body.ended_secrets) {
        note(`The older secret ${ended.hint} (${ended.id}), which was in its grace period, stopped working now.`)
      }
      note('The new secret key is shown only once. Store it now.')
    })
  }

  /**
   * Fails before asking for the name to be typed back: exit 4 without api-keys-live:manage, exit 6
   * while the go-live checklist is incomplete. The server checks both again on the rotation itself.
   */
  private async checkLiveAllowed(client: ApiClient): Promise<void> {
    const { body: me } = await client.request('GET', this.workspacePath('/me'))
    if (!me.permissions.includes('api-keys-live:manage')) {
      throw permissionDenied(
        'api-keys-live:manage',
        `live keys need the api-keys-live:manage permission, which your role (${me.role}) in ${me.workspace.name} does not have`,
        'ask an admin of the workspace to issue or rotate live keys',
      )
    }
    // A token without settings:read cannot read the checklist; the server's own check still applies.
    const home = await client.request('GET', this.workspacePath('/home'), { accept: [403] })
    if (home.status === 200 && !home.body.live_keys_allowed) {
      const missing = (home.body.missing_for_live_keys as { detail: string }[]).map((step) => `  - ${step.detail}`)
      throw new CliError(`live keys need the go-live checklist completed; missing:\n${missing.join('\n')}`, EXIT.conflict, {
        code: 'live_mode_not_ready',
        hint: 'run flexpa home to see the checklist',
      })
    }
  }

  private gracePeriod(): number {
    const value = this.flags['expire-old-in']
    if (value === undefined) return 0
    const ms = parseDuration(value)
    if (ms === null) throw usageError(`--expire-old-in "${value}" is not a duration; use a number and s, m, h or d, such as 24h`)
    if (ms > MAX_GRACE_MS) throw usageError(`--expire-old-in ${value} is longer than the maximum of ${formatDuration(MAX_GRACE_MS)}`)
    return ms
  }
}
