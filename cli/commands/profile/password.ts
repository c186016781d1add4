import { Flags } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { usageError } from '../../errors.js'
import { isInteractive, missingFlag, promptPassword, readStdin } from '../../input.js'
import { note } from '../../output.js'

export default class ProfilePassword extends BaseCommand<typeof ProfilePassword> {
  static override summary = 'Change your password and end your other sessions'
  static override description =
    'Changes your password. Every other session of yours ends; this one stays. With --password-stdin, stdin holds two lines: the current password, then the new one.'
  static override examples = [
    '<%= config.bin %> profile password',
    "printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | <%= config.bin %> profile password --password-stdin",
  ]
  static override flags = {
    'password-stdin': Flags.boolean({ description: 'Read the current and the new password as two lines of stdin', default: false }),
  }

  async run(): Promise<void> {
    const [current, next] = await this.passwords()
    const { body } = await (await this.client()).request('POST', '/v1/profile/password', {
      body: { current_password: current, new_password: next },
    })
    await this.output(body, () => note(`Password changed; ${body.sessions_ended} other session(s) ended.`))
  }

  private async passwords(): Promise<[string, string]> {
    if (this.flags['password-stdin']) {
      const lines = (await readStdin()).split(/\r?\n/)
      if (lines.length < 2 || lines[0] === '' || lines[1] === '') {
        throw usageError('--password-stdin expects two lines on stdin: the current password, then the new one')
      }
      return [lines[0], lines[1]]
    }
    if (!isInteractive()) throw missingFlag('--password-stdin', 'pipe the current and the new password in as two lines')
    const current = await promptPassword('Current password:')
    const next = await promptPassword('New password (12 or more characters):')
    const again = await promptPassword('New password again:')
    if (next !== again) throw usageError('the two new passwords differ; nothing was changed')
    return [current, next]
  }
}
