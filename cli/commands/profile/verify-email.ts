import { BaseCommand } from '../../base.js'
import { note } from '../../output.js'

export default class ProfileVerifyEmail extends BaseCommand<typeof ProfileVerifyEmail> {
  static override summary = 'Send a new link to verify your email address'
  static override description =
    'Emails a new verification link to your address; earlier links stop working. An unverified address works in your own workspaces, but operator rights and joining a workspace by SSO domain need a verified one.'
  static override examples = ['<%= config.bin %> profile verify-email']

  async run(): Promise<void> {
    const { body } = await (await this.client()).request('POST', '/v1/profile/verify-email')
    await this.output(body, () =>
      note(body.sent ? `A verification link is on its way to ${body.email}.` : `${body.email} is already verified.`),
    )
  }
}
