import { Flags } from '@oclif/core'

import { BaseCommand } from '../../base.js'
import { isInteractive, missingFlag, promptText } from '../../input.js'
import { note } from '../../output.js'

export default class PasswordReset extends BaseCommand<typeof PasswordReset> {
  static override summary = 'Email yourself a link to set a new password'
  static override description =
    'Asks the server to email a password-reset link to the address. The link works once within one hour; setting the new password on its page ends every session of the account. The answer is the same whether or not an account uses the address.'
  static override examples = ['<%= config.bin %> password reset --email ada@example.com']
  static override flags = {
    email: Flags.string({ description: 'Email address of the account' }),
  }

  async run(): Promise<void> {
    const email = this.flags.email ?? (await this.askEmail())
    const { body } = await (await this.client({ anonymous: true })).request('POST', '/v1/auth/password-reset', { body: { email } })
    await this.output(body, () => note(`If an account uses ${body.email}, a link to set a new password is on its way there.`))
  }

  private async askEmail(): Promise<string> {
    if (!isInteractive()) throw missingFlag('--email', 'the email address of your account')
    return promptText('Email:')
  }
}
