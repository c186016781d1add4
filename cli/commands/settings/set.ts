import { Flags } from '@oclif/core'

import { LOG_RETENTION_DAYS } from '../../../shared/schemas.js'
import { BaseCommand, workspaceFlag } from '../../base.js'
import { usageError } from '../../errors.js'
import { confirmByTyping } from '../../input.js'
import { note } from '../../output.js'

export default class SettingsSet extends BaseCommand<typeof SettingsSet> {
  static override summary = "Change the workspace's settings"
  static override description = `Changes settings of the selected workspace. Shortening the log retention asks for the workspace's name to be typed back (or --confirm), and deletes nothing for 7 days, so lengthening it again within that time undoes the change. Needs settings:manage.`
  static override examples = [
    "<%= config.bin %> settings set --name 'Acme Health'",
    "<%= config.bin %> settings set --log-retention-days 90 --confirm 'Acme Health'",
  ]
  static override flags = {
    ...workspaceFlag,
    name: Flags.string({ description: 'New name of the workspace' }),
    'log-retention-days': Flags.integer({
      description: `Days to keep access-token logs, ${LOG_RETENTION_DAYS.min} to ${LOG_RETENTION_DAYS.max} (default ${LOG_RETENTION_DAYS.default})`,
    }),
    confirm: Flags.string({ description: "The workspace's name, to confirm shortening the log retention without a prompt" }),
  }

  async run(): Promise<void> {
    const changes: Record<string, unknown> = {}
    if (this.flags.name !== undefined) changes.name = this.flags.name
    const retention = this.flags['log-retention-days']
    if (retention !== undefined) {
      if (retention < LOG_RETENTION_DAYS.min || retention > LOG_RETENTION_DAYS.max) {
        throw usageError(`--log-retention-days must be from ${LOG_RETENTION_DAYS.min} to ${LOG_RETENTION_DAYS.max}, got ${retention}`)
      }
      changes.log_retention_days = retention
    }
    if (Object.keys(changes).length === 0) throw usageError('nothing to change: pass --name <name> or --log-retention-days <days>')
    const client = await this.client()
    if (retention !== undefined) {
      const { body: current } = await client.request('GET', this.workspacePath())
      if (retention < current.log_retention_effective_days) {
        await confirmByTyping(
          current.name,
          this.flags.confirm,
          `shorten log retention from ${current.log_retention_effective_days} to ${retention} days`,
        )
      }
    }
    const { body } = await client.request('PATCH', this.workspacePath(), { body: changes })
    await this.output(body, () => {
      note(`Settings of ${body.name} (${body.id}) saved.`)
      if (body.log_retention_shortening_takes_effect_at) {
        note(
          `Logs are kept ${body.log_retention_effective_days} days until ${body.log_retention_shortening_takes_effect_at}, then ${body.log_retention_days} days. To undo, set --log-retention-days ${body.log_retention_effective_days} before then.`,
        )
      } else if (retention !== undefined) {
        note(`Logs are kept ${body.log_retention_days} days.`)
      }
    })
  }
}
